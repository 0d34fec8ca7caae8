/*
 * fuzz_envelope.c - untrusted bytes into the envelope and key decoders.
 *
 * Any input must come back as 0 or a PROTO_E_* code without crashing,
 * leaking or reading out of bounds.  An accepted envelope must also split,
 * and re-validate, consistently, and its record must encode back to the
 * exact bytes that were signed (decode -> encode is the identity on what
 * peers accept).  A refused input yields no record.  The input is tried as
 * an envelope, as bare record bytes (decode, canonical check, validation)
 * and as key-file text, where a key that decodes encodes back to a file
 * that decodes to the same key.  CHECK, not assert: the corpus replay runs
 * in release builds, where assert() is compiled out.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "proto/proto_int.h"

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "fuzz_envelope: %s\n", #x); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t now_ms = 1700000000000ULL;
	struct proto_error err;
	struct proto_envelope_view v;
	Agora__Record *rec = NULL;
	struct proto_key *key = NULL;
	uint8_t id[PROTO_ID_BYTES];

	if (proto_init() != 0)
		abort();

	int rc = proto_envelope_open(&rec, data, size, now_ms, &err);
	if (rc == 0) {
		CHECK(rec != NULL);
		CHECK(proto_envelope_split(&v, data, size) == 0);
		CHECK(proto_record_validate(rec, now_ms, NULL) == 0);
		CHECK(proto_kind_name(proto_record_kind(rec)) != NULL);
		size_t n = agora__record__get_packed_size(rec);
		uint8_t *again = malloc(n ? n : 1);
		CHECK(again);
		agora__record__pack(rec, again);
		CHECK(n == v.record_len && !memcmp(again, v.record, n));
		free(again);
		proto_record_id(id, data, size);
		agora__record__free_unpacked(rec, NULL);
	} else {
		CHECK(rec == NULL);
		CHECK(rc <= PROTO_E_TOO_BIG && rc >= PROTO_E_PASSPHRASE);
		CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
	}
	(void)proto_envelope_split(&v, data, size);

	/*
	 * Random mutations almost never survive the signature check, so also
	 * feed the bytes straight to the record decoder, the canonical-form
	 * check and validation: the code an attacker reaches with a record
	 * they signed themselves.
	 */
	rec = agora__record__unpack(NULL, size, data);
	if (rec) {
		const ProtobufCMessage *content = NULL;
		if (proto_record_canonical(rec, data, size, &err) == 0 &&
		    proto_record_validate(rec, now_ms, &err) == 0)
			if (proto_record_content(rec, &content) == PROTO_KIND_NONE || !content)
				CHECK(!"a valid record always has content");
		agora__record__free_unpacked(rec, NULL);
	}

	/* The same bytes as identity.key text.  No passphrase: encrypted files
	 * are parsed in full, but no Argon2 run (64 MiB each) slows the fuzzer. */
	if (size <= 1024) {
		(void)proto_key_is_encrypted((const char *)data, size);
		if (proto_key_decode(&key, (const char *)data, size, NULL) == 0) {
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
