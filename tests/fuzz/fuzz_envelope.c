/*
 * fuzz_envelope.c - untrusted bytes into the envelope and key decoders.
 *
 * Any input must come back as 0 or a PROTO_E_* code without crashing,
 * leaking or reading out of bounds.  An accepted envelope must also split,
 * and re-validate, consistently.  The input is tried as an envelope, as bare
 * record bytes (decode, canonical check, validation) and as key-file text.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "proto/proto_int.h"

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
		assert(rec != NULL);
		assert(proto_envelope_split(&v, data, size) == 0);
		assert(proto_record_validate(rec, now_ms, NULL) == 0);
		assert(proto_kind_name(proto_record_kind(rec)) != NULL);
		proto_record_id(id, data, size);
		agora__record__free_unpacked(rec, NULL);
	} else {
		assert(rec == NULL);
		assert(rc <= PROTO_E_TOO_BIG && rc >= PROTO_E_PASSPHRASE);
		assert(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
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
				abort(); /* a valid record always has content */
		agora__record__free_unpacked(rec, NULL);
	}

	/* The same bytes as identity.key text.  No passphrase: encrypted files
	 * are parsed in full, but no Argon2 run (64 MiB each) slows the fuzzer. */
	if (size <= 1024) {
		(void)proto_key_is_encrypted((const char *)data, size);
		if (proto_key_decode(&key, (const char *)data, size, NULL) == 0)
			proto_key_free(key);
	}
	return 0;
}
