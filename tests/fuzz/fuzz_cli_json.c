/*
 * fuzz_cli_json.c - publish-file records: JSON text -> json_to_record
 * (generic descriptor walk, "@ref" labels, enum and number parsing), then
 * the record back to JSON, and the same text as "--field value" flags.
 * Properties: a record read from JSON, written as JSON (what `agora query
 * --json` and `export` print) and read again is the same record, byte for
 * byte; a refused object yields no record and says why; a flag value
 * fields_set() accepts for a field, written back as text and set again,
 * gives the same field.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/fields_int.h"
#include "cli/json_int.h"

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "fuzz_cli_json: %s\n", #x); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *b;
	*len = protobuf_c_message_get_packed_size(m);
	b = malloc(*len ? *len : 1);
	CHECK(b);
	protobuf_c_message_pack(m, b);
	return b;
}

/* JSON -> record -> JSON -> record gives the same bytes. */
static void json_round_trip(const Agora__Record *rec)
{
	struct json_refs *refs = json_refs_new(NULL);
	uint8_t id[PROTO_ID_BYTES] = { 0 };
	json_t *out = json_from_record(rec, id, NULL);
	Agora__Record *back = NULL;
	struct proto_error err;
	size_t la, lb;

	CHECK(refs && out);
	CHECK(json_to_record(&back, NULL, NULL, out, refs, &err) == 0);
	uint8_t *a = pack(&rec->base, &la), *b = pack(&back->base, &lb);
	CHECK(la == lb && !memcmp(a, b, la));
	free(a);
	free(b);
	json_record_free(back);
	json_decref(out);
	json_refs_free(refs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_refs *refs = json_refs_new(NULL);
	uint8_t known[PROTO_ID_BYTES] = { 1 };
	json_error_t e;
	json_t *v = json_loadb((const char *)data, size, 0, &e);

	if (refs)
		json_refs_add(refs, "known", known);
	if (v && refs) {
		/* Each element of an array is one record, as in a publish file. */
		size_t n = json_is_array(v) ? json_array_size(v) : 1;
		for (size_t k = 0; k < n; k++) {
			json_t *obj = json_is_array(v) ? json_array_get(v, k) : v;
			Agora__Record *rec = NULL;
			struct proto_error err;
			memset(&err, 0, sizeof(err));
			if (json_to_record(&rec, NULL, NULL, obj, refs, &err) == 0) {
				json_round_trip(rec);
				json_record_free(rec);
			} else {
				CHECK(rec == NULL && err.msg[0] && memchr(err.msg, 0, sizeof(err.msg)));
			}
		}
	}
	json_decref(v);
	json_refs_free(refs);

	/* The bytes as one flag value for every field of a measure. */
	if (size < 4096) {
		char *text = malloc(size + 1);
		ProtobufCMessage *m = fields_new_message(&agora__measure__descriptor);
		if (text && m) {
			struct fields f;
			memcpy(text, data, size);
			text[size] = '\0';
			fields_init(&f, m, NULL, true);
			for (unsigned k = 0; k < agora__measure__descriptor.n_fields; k++) {
				const ProtobufCFieldDescriptor *fd = &agora__measure__descriptor.fields[k];
				char val[4096];
				if (fields_set(&f, fd->name, text) < 0 || fd->label == PROTOBUF_C_LABEL_REPEATED ||
				    fd->type == PROTOBUF_C_TYPE_MESSAGE ||
				    fields_value_text(val, sizeof(val), fd, (const char *)m + fd->offset) < 0)
					continue;
				/* The value written back as text sets the same value. */
				ProtobufCMessage *m2 = fields_new_message(&agora__measure__descriptor);
				struct fields f2;
				CHECK(m2);
				fields_init(&f2, m2, NULL, true);
				CHECK(fields_set(&f2, fd->name, val) == 0);
				char val2[4096];
				CHECK(fields_value_text(val2, sizeof(val2), fd, (const char *)m2 + fd->offset) == 0);
				CHECK(!strcmp(val, val2));
				protobuf_c_message_free_unpacked(m2, NULL);
			}
		}
		if (m)
			protobuf_c_message_free_unpacked(m, NULL);
		free(text);
	}
	return 0;
}
