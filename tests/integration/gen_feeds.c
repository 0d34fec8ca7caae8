/*
 * gen_feeds.c - test helper: add N feeds (N authors, one Profile record
 * each, keys from fixed seeds) to the first alliance of a store.  The
 * home's own key (a coordinator of that alliance) admits each author
 * first, as ingest requires.
 *
 *   gen_feeds HOME N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "proto/proto.h"
#include "storage/storage.h"

static int first_alliance(const struct store_record *rec, void *ctx)
{
	memcpy(ctx, rec->id, PROTO_ID_BYTES);
	return 1;
}

int main(int argc, char **argv)
{
	struct store *s;
	struct store_txn *t;
	uint8_t alliance[PROTO_ID_BYTES];
	char db[4200], name[64];
	struct timespec ts;
	int rc;

	if (argc != 3 || proto_init())
		return 2;
	snprintf(db, sizeof(db), "%s/db", argv[1]);
	if ((rc = store_open(&s, db, 0))) {
		fprintf(stderr, "gen_feeds: %s\n", store_strerror(rc));
		return 1;
	}
	if (store_txn_begin(s, &t) || store_alliances(t, first_alliance, alliance) != 1) {
		fprintf(stderr, "gen_feeds: no alliance in %s\n", db);
		return 1;
	}
	store_txn_end(t);
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	struct proto_key *coord = NULL;
	{
		char kp[4200], text[4096];
		snprintf(kp, sizeof(kp), "%s/identity.key", argv[1]);
		FILE *f = fopen(kp, "r");
		size_t kl = f ? fread(text, 1, sizeof(text), f) : 0;
		if (f)
			fclose(f);
		if (!kl || proto_key_decode(&coord, text, kl, NULL)) {
			fprintf(stderr, "gen_feeds: cannot read %s\n", kp);
			return 1;
		}
		sodium_memzero(text, sizeof(text));
	}
	long n = atol(argv[2]);
	for (long i = 0; i < n; i++) {
		uint8_t seed[PROTO_SEED_BYTES] = { 0x5e, 0xed };
		struct proto_key *key;
		struct proto_error err;
		Agora__Record rec = AGORA__RECORD__INIT;
		Agora__Profile p = AGORA__PROFILE__INIT;
		memcpy(seed + 2, &i, sizeof(i));
		proto_key_from_seed(&key, seed);
		snprintf(name, sizeof(name), "Kommune %ld", i);
		p.name = name;
		p.country = "DK";
		rec.body_case = AGORA__RECORD__BODY_PROFILE;
		rec.profile = &p;
		Agora__Record adm = AGORA__RECORD__INIT;
		Agora__Admission ad = AGORA__ADMISSION__INIT;
		ad.has_member = 1;
		ad.member.len = PROTO_KEY_BYTES;
		ad.member.data = key->pk;
		ad.name = name;
		ad.country = "DK";
		ad.has_role = 1;
		ad.role = AGORA__ROLE__ROLE_MEMBER;
		adm.body_case = AGORA__RECORD__BODY_ADMISSION;
		adm.admission = &ad;
		rc = store_publish(s, coord, alliance, &adm, now, NULL, NULL, NULL, &err);
		if (!rc)
			rc = store_publish(s, key, alliance, &rec, now, NULL, NULL, NULL, &err);
		proto_key_free(key);
		if (rc) {
			fprintf(stderr, "gen_feeds: %s %s %s\n", store_strerror(rc), err.field, err.msg);
			return 1;
		}
	}
	proto_key_free(coord);
	store_close(s);
	return 0;
}
