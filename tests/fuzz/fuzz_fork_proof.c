/*
 * fuzz_fork_proof.c - a peer's ForkProof into store_ingest_fork, on a
 * store holding one alliance (issue 10 D6, D10).
 *
 * Whatever the bytes, the store must stay usable and: STORE_FORKED only
 * when both envelopes are validly signed records of exactly the named
 * (alliance, author, seq) and differ, and then the fork count grew by one;
 * otherwise it did not grow; records are stored only from a proof whose
 * envelopes are of the named position (never another alliance's); and the
 * fork count never passes STORE_FORKS_PER_AUTHOR per author.
 *
 * Input: alliance(32) | author(32) | seq(8, big-endian) | len_a(2,
 * big-endian) | envelope a (len_a) | envelope b (the rest).  The corpus
 * has valid proofs against the harness's alliance: its charter is made the
 * same way on every run (fixed keys and time), so its id is fixed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/proto.h"
#include "storage/storage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_MS 1750000000000ULL

static struct store *fx_store;
static char fx_dir[] = "/tmp/agora-fuzz-fork-XXXXXX";

static void fx_cleanup(void)
{
	char path[sizeof fx_dir + 16];
	store_close(fx_store);
	snprintf(path, sizeof path, "%s/data.mdb", fx_dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/lock.mdb", fx_dir);
	unlink(path);
	rmdir(fx_dir);
}

/* The alliance: a charter by key 1 naming keys 1 and 2 coordinators. */
static void fx_open(void)
{
	uint8_t seed[PROTO_SEED_BYTES];
	struct proto_key *k1, *k2;
	struct proto_error err;
	uint8_t *env;
	size_t len;
	uint8_t id[PROTO_ID_BYTES];
	int st = 0;

	if (proto_init() != 0 || !mkdtemp(fx_dir) || store_open(&fx_store, fx_dir, 0) != 0)
		abort();
	atexit(fx_cleanup);
	memset(seed, 1, sizeof seed);
	if (proto_key_from_seed(&k1, seed) != 0)
		abort();
	memset(seed, 2, sizeof seed);
	if (proto_key_from_seed(&k2, seed) != 0)
		abort();
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Charter c = AGORA__CHARTER__INIT;
	ProtobufCBinaryData co[2] = { { 32, k1->pk }, { 32, k2->pk } };
	c.name = "fuzz";
	c.n_coordinators = 2;
	c.coordinators = co;
	c.has_policy = 1;
	c.policy = AGORA__ADMISSION_POLICY__ADMISSION_POLICY_ANY_COORDINATOR;
	r.body_case = AGORA__RECORD__BODY_CHARTER;
	r.charter = &c;
	r.has_author = 1;
	r.author.len = 32;
	r.author.data = k1->pk;
	r.has_seq = 1;
	r.seq = 1;
	r.has_created_ms = 1;
	r.created_ms = NOW_MS - 100000;
	if (proto_record_sign(&env, &len, id, &r, k1, NOW_MS, &err) != 0)
		abort();
	struct store_item it = { env, len };
	if (store_ingest(fx_store, &it, 1, 0, NOW_MS, &st, NULL, NULL) != 0 || st != STORE_NEW)
		abort();
	free(env);
	proto_key_free(k1);
	proto_key_free(k2);
}

static struct store_stats fx_stats(void)
{
	struct store_txn *t;
	struct store_stats st;
	if (store_txn_begin(fx_store, &t) != 0 || store_stats(t, &st) != 0)
		abort();
	store_txn_end(t);
	return st;
}

/* Is env a validly signed record of exactly (alliance, author, seq)? */
static bool of_position(const uint8_t *env, size_t len, const uint8_t *alliance,
                        const uint8_t *author, uint64_t seq, uint8_t id[PROTO_ID_BYTES])
{
	Agora__Record *r = NULL;
	struct proto_error err;
	bool ok = false;
	if (proto_envelope_open(&r, env, len, NOW_MS, &err) != 0)
		return false;
	proto_record_id(id, env, len);
	const uint8_t *al = proto_record_kind(r) == PROTO_KIND_CHARTER ? id
	                  : r->has_alliance && r->alliance.len == 32 ? r->alliance.data : NULL;
	ok = al && !memcmp(al, alliance, 32) && r->author.len == 32 &&
	     !memcmp(r->author.data, author, 32) && r->seq == seq;
	agora__record__free_unpacked(r, NULL);
	return ok;
}

struct per_author {
	uint8_t author[32];
	size_t n;
	bool bad;
};

static int count_cb(const uint8_t alliance[PROTO_ID_BYTES], const uint8_t author[PROTO_KEY_BYTES],
                    uint64_t seq, const uint8_t *env_a, size_t len_a, const uint8_t *env_b,
                    size_t len_b, void *ctx)
{
	(void)alliance; (void)seq; (void)env_a; (void)len_a; (void)env_b; (void)len_b;
	struct per_author *p = ctx;
	if (!memcmp(author, p->author, 32) && ++p->n > STORE_FORKS_PER_AUTHOR)
		p->bad = true;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fx_store)
		fx_open();
	if (size < 74)
		return 0;
	const uint8_t *alliance = data, *author = data + 32;
	uint64_t seq = 0;
	for (int i = 0; i < 8; i++)
		seq = seq << 8 | data[64 + i];
	size_t len_a = (size_t)data[72] << 8 | data[73];
	if (len_a > size - 74)
		return 0;
	/* exact-size copies, so that a read past either end is caught */
	size_t len_b = size - 74 - len_a;
	uint8_t *a = malloc(len_a ? len_a : 1), *b = malloc(len_b ? len_b : 1);
	if (!a || !b)
		abort();
	memcpy(a, data + 74, len_a);
	memcpy(b, data + 74 + len_a, len_b);

	struct store_stats before = fx_stats();
	int result = 12345;
	int rc = store_ingest_fork(fx_store, alliance, author, seq, a, len_a, b, len_b, NOW_MS,
	                           &result);
	if (rc != 0 || result == 12345)
		abort();   /* a working store: the write itself never fails */
	struct store_stats after = fx_stats();
	uint8_t ida[PROTO_ID_BYTES], idb[PROTO_ID_BYTES];
	bool valid = of_position(a, len_a, alliance, author, seq, ida) &&
	             of_position(b, len_b, alliance, author, seq, idb) &&
	             memcmp(ida, idb, PROTO_ID_BYTES) != 0;
	if (result == STORE_FORKED && (!valid || after.forks != before.forks + 1))
		abort();
	if (result != STORE_FORKED && after.forks != before.forks)
		abort();
	if (!valid && after.records != before.records)
		abort();   /* D10: nothing stored from a proof of another position */
	struct per_author p = { .n = 0 };
	memcpy(p.author, author, 32);
	struct store_txn *t;
	if (store_txn_begin(fx_store, &t) != 0 || store_forks(t, count_cb, &p) != 0 || p.bad)
		abort();
	store_txn_end(t);
	free(a);
	free(b);
	return 0;
}
