/*
 * mesh_probe.c - what bench_mesh.sh measures inside the stores of many
 * running agorad (read snapshots: LMDB never makes a writer wait for them).
 *
 *   mesh_probe count HOME...            min and max records held
 *   mesh_probe reach ID T0_NS SECS HOME...
 *                       poll every store until each holds record ID (hex);
 *                       print when each got it, in ms after T0_NS
 *                       (CLOCK_REALTIME ns), as p50/p99/max and how many
 *   mesh_probe verify                   µs per Ed25519 verify on this machine
 *   mesh_probe fill F HOME
 *                       HOME (a coordinator of its default alliance, node
 *                       stopped) admits F generated members there and
 *                       stores one Profile record of each: an alliance of
 *                       F feeds, for `agora bundle create` to hand to every
 *                       node (bench_mesh.sh FEEDS=F)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "proto/proto.h"
#include "storage/storage.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static struct store **open_all(int n, char **homes)
{
	struct store **s = calloc((size_t)n, sizeof(*s));
	char db[4200];
	for (int i = 0; s && i < n; i++) {
		snprintf(db, sizeof(db), "%s/db", homes[i]);
		int rc = store_open(&s[i], db, STORE_OPEN_READONLY);
		if (rc) {
			fprintf(stderr, "mesh_probe: %s: %s\n", db, store_strerror(rc));
			exit(2);
		}
	}
	return s;
}

static void close_all(struct store **s, int n)
{
	for (int i = 0; i < n; i++)
		store_close(s[i]);
	free(s);
}

static int count(int n, char **homes)
{
	struct store **s = open_all(n, homes);
	uint64_t lo = UINT64_MAX, hi = 0;
	for (int i = 0; i < n; i++) {
		struct store_txn *t;
		struct store_stats st;
		if (store_txn_begin(s[i], &t) || store_stats(t, &st))
			return 2;
		store_txn_end(t);
		lo = st.records < lo ? st.records : lo;
		hi = st.records > hi ? st.records : hi;
	}
	printf("%llu %llu\n", (unsigned long long)lo, (unsigned long long)hi);
	close_all(s, n);
	return 0;
}

static int reach(const char *idhex, uint64_t t0, unsigned secs, int n, char **homes)
{
	uint8_t id[PROTO_ID_BYTES];
	if (strlen(idhex) != 64 || proto_unhex(id, sizeof(id), idhex)) {
		fprintf(stderr, "mesh_probe: not a record id: %s\n", idhex);
		return 2;
	}
	struct store **s = open_all(n, homes);
	uint64_t *at = calloc((size_t)n, sizeof(*at));
	int left = n;
	uint64_t deadline = now_ns() + (uint64_t)secs * 1000000000u;
	while (left > 0 && now_ns() < deadline) {
		for (int i = 0; i < n; i++) {
			struct store_txn *t;
			struct store_record r;
			if (at[i] || store_txn_begin(s[i], &t))
				continue;
			if (store_get(t, id, &r) == 0) {
				uint64_t x = now_ns();
				at[i] = x > t0 ? x - t0 : 1;
				left--;
			}
			store_txn_end(t);
		}
		struct timespec ts = { 0, 2000000 };   /* 2 ms between sweeps */
		nanosleep(&ts, NULL);
	}
	qsort(at, (size_t)n, sizeof(*at), cmp_u64);
	int got = n - left;
	/* the unreached sort first (0): percentiles over those reached */
	uint64_t *r = at + left;
	if (got == 0) {
		printf("reached 0/%d\n", n);
	} else {
		printf("reached %d/%d p50 %.0f ms p99 %.0f ms max %.0f ms\n", got, n,
		       r[(got - 1) / 2] / 1e6, r[(size_t)((got - 1) * 0.99)] / 1e6, r[got - 1] / 1e6);
	}
	free(at);
	close_all(s, n);
	return left ? 1 : 0;
}

#define FILL_BATCH 1000

/* Admissions signed by HOME's key (its feed, in batches of one commit
 * each), then one Profile of each generated member, signed here and
 * stored with store_ingest (verified there, as from any peer). */
static int fill(size_t f, const char *home)
{
	struct proto_key *coord = NULL;
	struct store *s = NULL;
	struct store_txn *t;
	uint8_t alliance[PROTO_ID_BYTES];
	char msg[256], db[4200];
	int rc;

	snprintf(db, sizeof(db), "%s/db", home);
	if (store_key_load(&coord, home, NULL, msg, sizeof(msg))) {
		fprintf(stderr, "mesh_probe: %s: %s\n", home, msg);
		return 2;
	}
	if ((rc = store_open(&s, db, 0))) {
		fprintf(stderr, "mesh_probe: %s: %s\n", db, store_strerror(rc));
		return 2;
	}
	if ((rc = store_txn_begin(s, &t)) == 0) {
		rc = store_default_alliance_get(t, alliance);
		store_txn_end(t);
	}
	if (rc) {
		fprintf(stderr, "mesh_probe: %s has no default alliance: %s\n", home, store_strerror(rc));
		return 2;
	}
	Agora__Record *rb = calloc(FILL_BATCH, sizeof(*rb)), **recs = calloc(FILL_BATCH, sizeof(*recs));
	Agora__Admission *ad = calloc(FILL_BATCH, sizeof(*ad));
	struct store_item *items = calloc(FILL_BATCH, sizeof(*items));
	struct proto_key **keys = calloc(FILL_BATCH, sizeof(*keys));
	char (*names)[32] = calloc(FILL_BATCH, sizeof(*names));
	uint64_t now = now_ns() / 1000000u;
	if (!rb || !recs || !ad || !items || !keys || !names)
		return 2;
	for (size_t done = 0; done < f;) {
		size_t m = f - done < FILL_BATCH ? f - done : FILL_BATCH;
		struct proto_error err;
		for (size_t i = 0; i < m; i++) {
			uint8_t seed[PROTO_SEED_BYTES] = { 0xfe, 0xed };
			size_t k = done + i;
			memcpy(seed + 2, &k, sizeof(k));
			if (proto_key_from_seed(&keys[i], seed))
				return 2;
			snprintf(names[i], sizeof(names[i]), "Feed %zu", k + 1);
			agora__record__init(&rb[i]);
			agora__admission__init(&ad[i]);
			ad[i].has_member = true;
			ad[i].member.len = 32;
			ad[i].member.data = keys[i]->pk;
			ad[i].name = names[i];
			ad[i].country = "DK";
			ad[i].has_role = true;
			ad[i].role = AGORA__ROLE__ROLE_MEMBER;
			rb[i].body_case = AGORA__RECORD__BODY_ADMISSION;
			rb[i].admission = &ad[i];
			recs[i] = &rb[i];
		}
		if ((rc = store_publish_batch(s, coord, alliance, recs, m, now, NULL, NULL, NULL, NULL,
		                              &err))) {
			fprintf(stderr, "mesh_probe: admissions: %s: %s %s\n", store_strerror(rc),
			        err.field, err.msg);
			return 2;
		}
		/* each member's Profile, seq 1 of its feed */
		for (size_t i = 0; i < m; i++) {
			Agora__Record r = AGORA__RECORD__INIT;
			Agora__Profile p = AGORA__PROFILE__INIT;
			uint8_t *env;
			size_t len;
			p.name = names[i];
			p.country = "DK";
			r.body_case = AGORA__RECORD__BODY_PROFILE;
			r.profile = &p;
			r.has_alliance = true;
			r.alliance.len = PROTO_ID_BYTES;
			r.alliance.data = alliance;
			r.has_author = true;
			r.author.len = PROTO_KEY_BYTES;
			r.author.data = keys[i]->pk;
			r.has_seq = true;
			r.seq = 1;
			r.has_created_ms = true;
			/* after every admission: a bundle orders by creation time */
			r.created_ms = now + 1;
			if ((rc = proto_record_sign(&env, &len, NULL, &r, keys[i], now + 1, &err))) {
				fprintf(stderr, "mesh_probe: profile: %s %s\n", err.field, err.msg);
				return 2;
			}
			items[i].env = env;
			items[i].len = len;
		}
		struct store_ingest_stats st;
		rc = store_ingest(s, items, m, STORE_INGEST_ATOMIC, now + 1, NULL, NULL, &st);
		for (size_t i = 0; i < m; i++) {
			free((void *)items[i].env);
			proto_key_free(keys[i]);
		}
		if (rc) {
			fprintf(stderr, "mesh_probe: profiles: %s\n", store_strerror(rc));
			return 2;
		}
		done += m;
	}
	free(rb);
	free(recs);
	free(ad);
	free(items);
	free(keys);
	free(names);
	store_close(s);
	proto_key_free(coord);
	printf("%zu feeds\n", f);
	return 0;
}

static int verify_rate(void)
{
	uint8_t pk[32], sk[64], sig[64], msg[400];
	randombytes_buf(msg, sizeof(msg));
	crypto_sign_keypair(pk, sk);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
	int k = 0;
	uint64_t t = now_ns();
	for (; k < 4000; k++)
		if (crypto_sign_verify_detached(sig, msg, sizeof(msg), pk))
			return 2;
	printf("%.1f\n", (now_ns() - t) / 1e3 / k);
	return 0;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 2;
	if (argc >= 3 && !strcmp(argv[1], "count"))
		return count(argc - 2, argv + 2);
	if (argc >= 6 && !strcmp(argv[1], "reach"))
		return reach(argv[2], strtoull(argv[3], NULL, 10), (unsigned)atoi(argv[4]), argc - 5,
		             argv + 5);
	if (argc == 2 && !strcmp(argv[1], "verify"))
		return verify_rate();
	if (argc == 4 && !strcmp(argv[1], "fill"))
		return fill(strtoull(argv[2], NULL, 10), argv[3]);
	fprintf(stderr, "usage: mesh_probe count HOME... | reach ID T0_NS SECS HOME... | verify | "
	        "fill F HOME\n");
	return 2;
}
