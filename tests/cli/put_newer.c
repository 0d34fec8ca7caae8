/*
 * put_newer.c - test helper: the home's own key signs, as a newer agora
 * would, a record of content kind KIND (29..63; a kind this build does not
 * define) whose body holds field 1 = TEXT, in the home's default alliance,
 * and stores it (store_ingest, the path a peer's record takes).  Prints the
 * new record's id.  The key must not be encrypted.
 *
 *   put_newer HOME KIND TEXT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "proto/proto.h"
#include "storage/storage.h"

int main(int argc, char **argv)
{
	struct store *s = NULL;
	struct store_txn *t = NULL;
	struct proto_key *key = NULL;
	struct proto_error err = { 0 };
	uint8_t alliance[PROTO_ID_BYTES], prev[PROTO_ID_BYTES], id[PROTO_ID_BYTES];
	uint8_t body[256], *env = NULL;
	char db[4200], kp[4200], text[4096], hex[PROTO_ID_HEX + 1];
	size_t len = 0, kl, tl;
	uint64_t seq = 0;
	struct timespec ts;
	int rc, status = 0;

	if (argc != 4 || proto_init())
		return 2;
	long kind = atol(argv[2]);
	tl = strlen(argv[3]);
	if (kind < PROTO_KIND_CONTENT_NEXT || kind > PROTO_KIND_CONTENT_LAST || tl > 120)
		return 2;
	snprintf(kp, sizeof(kp), "%s/identity.key", argv[1]);
	FILE *f = fopen(kp, "r");
	kl = f ? fread(text, 1, sizeof(text), f) : 0;
	if (f)
		fclose(f);
	if (!kl || proto_key_decode(&key, text, kl, NULL)) {
		fprintf(stderr, "put_newer: cannot read %s\n", kp);
		return 1;
	}
	sodium_memzero(text, sizeof(text));
	snprintf(db, sizeof(db), "%s/db", argv[1]);
	if ((rc = store_open(&s, db, 0)) || (rc = store_txn_begin(s, &t)) ||
	    (rc = store_default_alliance_get(t, alliance)) ||
	    (rc = store_feed_head(t, alliance, key->pk, &seq, prev))) {
		fprintf(stderr, "put_newer: %s\n", store_strerror(rc));
		return 1;
	}
	store_txn_end(t);

	/* The body as a newer build packs it: field 1 (a string), length-prefixed. */
	ProtobufCMessageUnknownField uf;
	body[0] = (uint8_t)(tl + 2);
	body[1] = 0x0a;
	body[2] = (uint8_t)tl;
	memcpy(body + 3, argv[3], tl);
	uf.tag = (uint32_t)kind;
	uf.wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
	uf.len = tl + 3;
	uf.data = body;

	Agora__Record rec = AGORA__RECORD__INIT;
	clock_gettime(CLOCK_REALTIME, &ts);
	rec.has_alliance = 1;
	rec.alliance.len = PROTO_ID_BYTES;
	rec.alliance.data = alliance;
	rec.has_author = 1;
	rec.author.len = PROTO_KEY_BYTES;
	rec.author.data = key->pk;
	rec.has_seq = 1;
	rec.seq = seq + 1;
	if (seq) {
		rec.has_prev = 1;
		rec.prev.len = PROTO_ID_BYTES;
		rec.prev.data = prev;
	}
	rec.has_created_ms = 1;
	rec.created_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	rec.base.n_unknown_fields = 1;
	rec.base.unknown_fields = &uf;
	rc = proto_record_sign_ext(&env, &len, id, &rec, key, rec.created_ms, PROTO_SIGN_NEWER,
	                           &err);
	if (rc) {
		fprintf(stderr, "put_newer: sign: %d %s %s\n", rc, err.field, err.msg);
		return 1;
	}
	struct store_item it = { env, len };
	rc = store_ingest(s, &it, 1, 0, rec.created_ms, &status, &err, NULL);
	if (rc || status != STORE_NEW) {
		fprintf(stderr, "put_newer: store: %s\n", store_strerror(rc ? rc : status));
		return 1;
	}
	proto_hex(hex, id, PROTO_ID_BYTES);
	printf("%s\n", hex);
	free(env);
	proto_key_free(key);
	store_close(s);
	return 0;
}
