/*
 * fuzz_envelope.c - untrusted bytes into the envelope and key decoders.
 *
 * Any input must come back as 0 or a PROTO_E_* code without crashing,
 * leaking or reading out of bounds.  An accepted envelope must also split,
 * and re-validate, consistently.  The input is tried as an envelope, as bare
 * record bytes (decode, canonical check, validation) and as key-file text.
 *
 * The bare record bytes also hold the two canonical checks to one verdict
 * (PROTOCOL.md 1.2): the byte walker, which judges fields known or not, and
 * "decode, re-encode, compare", which can judge only records without fields
 * of a newer version.  On those they must agree, both ways.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "proto/proto_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* assert() that stays in release builds, where ctest replays the corpus. */
#define CHECK(x) do { \
		if (!(x)) { \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #x); \
			abort(); \
		} \
	} while (0)

/* Does rec pack back to exactly data[0..size)? */
static bool reencodes(const Agora__Record *rec, const uint8_t *data, size_t size)
{
	size_t n = agora__record__get_packed_size(rec);
	uint8_t *again;
	bool same;

	if (n != size)
		return false;
	if (!(again = malloc(n ? n : 1)))
		abort();
	same = agora__record__pack(rec, again) == n && memcmp(again, data, n) == 0;
	free(again);
	return same;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t now_ms = 1700000000000ULL;
	struct proto_error err;
	struct proto_envelope_view v;
	Agora__Record *rec = NULL;
	struct proto_key *key = NULL;
	uint8_t id[PROTO_ID_BYTES];
	bool unknown = false;

	if (proto_init() != 0)
		abort();

	int rc = proto_envelope_open(&rec, data, size, now_ms, &err);
	if (rc == 0) {
		CHECK(rec != NULL);
		CHECK(proto_envelope_split(&v, data, size) == 0);
		/* What opens is valid, or carried unread (PROTOCOL.md 7.4 item 8):
		 * a later kind that breaks its rules, or attachments that do. */
		Agora__Attachment *const *att = NULL;
		int n_att = proto_record_attachments(&att, rec);
		CHECK(proto_record_validate(rec, now_ms, NULL) == 0 ||
		      (proto_record_newer(rec) & PROTO_NEWER_UNREADABLE) || n_att == PROTO_E_FIELD);
		CHECK(n_att >= 0 || n_att == PROTO_E_FIELD);
		/* Attachments that read keep the rules: 32-byte hashes, sizes in range. */
		for (int i = 0; i < n_att; i++)
			CHECK(att[i]->hash.len == PROTO_HASH_BYTES && att[i]->size >= 1 &&
			      att[i]->size <= PROTO_ATTACH_SIZE_MAX && att[i]->name && att[i]->media_type);
		CHECK(!(proto_record_newer(rec) & PROTO_NEWER_MUST));
		CHECK(proto_kind_name(proto_record_kind(rec)) != NULL ||
		       (proto_record_newer(rec) & PROTO_NEWER_KIND));
		proto_record_id(id, data, size);
		agora__record__free_unpacked(rec, NULL);
	} else {
		CHECK(rec == NULL);
		CHECK(rc <= PROTO_E_TOO_BIG && rc >= PROTO_E_UPGRADE);
		CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
	}
	(void)proto_envelope_split(&v, data, size);

	/*
	 * Random mutations almost never survive the signature check, so also
	 * feed the bytes straight to the record decoder, the canonical-form
	 * checks and validation: the code an attacker reaches with a record
	 * they signed themselves.
	 */
	int walked = proto_record_walk(data, size, &unknown, &err);
	CHECK(walked == 0 || walked == PROTO_E_DECODE);
	rec = agora__record__unpack(NULL, size, data);
	/* What the walker accepts, protobuf-c decodes. */
	CHECK(walked != 0 || rec != NULL);
	if (rec) {
		const ProtobufCMessage *content = NULL;
		bool tree_unknown = proto_message_has_unknown(&rec->base);

		if (walked == 0)
			CHECK(unknown == tree_unknown);
		/* The differential: one verdict where re-encoding can judge. */
		if (!tree_unknown)
			CHECK((walked == 0) == reencodes(rec, data, size));
		if (proto_record_canonical(rec, data, size, &err) == 0 &&
		    proto_record_validate(rec, now_ms, &err) == 0) {
			enum proto_kind k = proto_record_content(rec, &content);
			/* a valid record always has content, readable or newer */
			if (k == PROTO_KIND_NONE || (!content && !(proto_record_newer(rec) & PROTO_NEWER_KIND)))
				abort();
		}
		char text[192];
		(void)proto_record_newer_text(text, sizeof(text), rec);
		/* The attachments of a record someone signed themselves: read, or
		 * refused as a whole, and refused by a signer whenever not read. */
		Agora__Attachment *const *att = NULL;
		int n_att = proto_record_attachments(&att, rec);
		CHECK(n_att >= 0 || n_att == PROTO_E_FIELD);
		if (n_att == PROTO_E_FIELD)
			CHECK(proto_record_validate(rec, now_ms, NULL) != 0);
		agora__record__free_unpacked(rec, NULL);
	}

	/* The same bytes as identity.key text.  No passphrase: encrypted files
	 * are parsed in full, but no Argon2 run (64 MiB each) slows the fuzzer. */
	if (size <= 1024) {
		(void)proto_key_is_encrypted((const char *)data, size);
		if (proto_key_decode(&key, (const char *)data, size, NULL) == 0) {
			/* a key that decodes encodes back to a file that decodes to it */
			struct proto_key *back = NULL;
			char *text = NULL;
			size_t len = 0;
			CHECK(proto_key_encode(&text, &len, key, NULL) == 0);
			CHECK(proto_key_decode(&back, text, len, NULL) == 0);
			CHECK(!memcmp(back->pk, key->pk, PROTO_KEY_BYTES));
			proto_key_free(back);
			free(text);
			proto_key_free(key);
		}
	}
	return 0;
}
