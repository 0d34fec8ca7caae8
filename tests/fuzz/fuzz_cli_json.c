/*
 * fuzz_cli_json.c - publish-file records: JSON text -> json_to_record
 * (generic descriptor walk, "@ref" labels, enum and number parsing), then
 * the record back to JSON, and the same text as "--field value" flags.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/fields_int.h"
#include "cli/json_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
			if (json_to_record(&rec, NULL, NULL, obj, refs, &err) == 0) {
				uint8_t id[PROTO_ID_BYTES] = { 0 };
				json_t *out = json_from_record(rec, id, NULL);
				json_decref(out);
				json_record_free(rec);
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
			for (unsigned k = 0; k < agora__measure__descriptor.n_fields; k++)
				fields_set(&f, agora__measure__descriptor.fields[k].name, text);
		}
		if (m)
			protobuf_c_message_free_unpacked(m, NULL);
		free(text);
	}
	return 0;
}
