/*
 * log_test.c - what changed: write numbers, the feeds each write moved
 * (store_changes), the window the log keeps, and fork proofs numbered for
 * relaying (store_forks_since).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "helper.h"
#include "storage/store_int.h"   /* log_keep, the test hook; raw LMDB for an old store */

static uint64_t write_number(struct store *s)
{
	struct store_txn *t;
	uint64_t n = 99;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_write_number(t, &n), 0);
	store_txn_end(t);
	return n;
}

struct seen {
	struct store_change c[16];
	size_t n;
};

static int collect(const struct store_change *c, void *ctx)
{
	struct seen *s = ctx;
	if (s->n < 16)
		s->c[s->n] = *c;
	s->n++;
	return 0;
}

/* store_changes(since) in a fresh snapshot: its rc; *out, *upto. */
static int changes(struct store *s, uint64_t since, struct seen *out, uint64_t *upto)
{
	struct store_txn *t;
	memset(out, 0, sizeof *out);
	assert_int_equal(store_txn_begin(s, &t), 0);
	int rc = store_changes(t, since, collect, out, upto);
	store_txn_end(t);
	return rc;
}

static int put(struct store *s, struct th_env e)
{
	int st = th_ingest1(s, &e);
	th_env_free(&e);
	return st;
}

static void test_changes__store_never_written_is_number_zero_with_no_changes(void **state)
{
	(void)state;
	char *dir = th_tmpdir();
	struct store *s;
	struct seen c;
	uint64_t upto = 77;
	assert_int_equal(store_open(&s, dir, 0), 0);
	assert_int_equal(write_number(s), 0);
	assert_int_equal(changes(s, 0, &c, &upto), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(upto, 0);
	store_close(s);
	th_rmdir(dir);
}

static void test_changes__each_write_moving_feeds_is_numbered_and_lists_them(void **state)
{
	struct th_fx *x = *state;   /* write 1: the charter */
	struct seen c;
	uint64_t upto;
	assert_int_equal(write_number(x->s), 1);

	/* write 2: two records of k2 and one of k1, in one batch */
	struct th_env e[3] = { th_measure(&x->f2, "a", "one", TH_NOW - 30),
	                       th_measure(&x->f1, "b", "two", TH_NOW - 20),
	                       th_measure(&x->f2, "c", "three", TH_NOW - 10) };
	struct store_item it[3] = { { e[0].env, e[0].len }, { e[1].env, e[1].len },
	                            { e[2].env, e[2].len } };
	assert_int_equal(store_ingest(x->s, it, 3, 0, TH_NOW, NULL, NULL, NULL), 0);
	assert_int_equal(write_number(x->s), 2);

	assert_int_equal(changes(x->s, 1, &c, &upto), 0);
	assert_int_equal(upto, 2);
	assert_int_equal(c.n, 2);   /* one callback per feed */
	/* (alliance, author) order */
	assert_true(memcmp(c.c[0].author, c.c[1].author, 32) < 0);
	for (size_t i = 0; i < 2; i++) {
		bool k1 = memcmp(c.c[i].author, x->k1->pk, 32) == 0;
		assert_memory_equal(c.c[i].alliance, x->f1.alliance, 32);
		assert_int_equal(c.c[i].from_seq, k1 ? 1 : 0);
		assert_int_equal(c.c[i].seq, 2);
		assert_memory_equal(c.c[i].id, k1 ? e[1].id : e[2].id, 32);
		assert_false(c.c[i].governance);
	}

	/* write 3 (publish): only k2 moved since 2; since 1 merges both
	 * writes: k2's from_seq stays the head before write 2 */
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Measure m = AGORA__MEASURE__INIT;
	m.title = "published";
	m.language = "da";
	m.has_mitigation = m.mitigation = 1;
	r.body_case = AGORA__RECORD__BODY_MEASURE;
	r.measure = &m;
	uint8_t id[PROTO_ID_BYTES];
	assert_int_equal(store_publish(x->s, x->k2, x->f1.alliance, &r, TH_NOW, id, NULL, NULL,
	                               NULL), 0);
	assert_int_equal(changes(x->s, 2, &c, &upto), 0);
	assert_int_equal(upto, 3);
	assert_int_equal(c.n, 1);
	assert_memory_equal(c.c[0].author, x->k2->pk, 32);
	assert_int_equal(c.c[0].from_seq, 2);
	assert_int_equal(c.c[0].seq, 3);
	assert_memory_equal(c.c[0].id, id, 32);
	assert_int_equal(changes(x->s, 1, &c, &upto), 0);
	assert_int_equal(c.n, 2);
	for (size_t i = 0; i < 2; i++)
		if (!memcmp(c.c[i].author, x->k2->pk, 32))
			assert_int_equal(c.c[i].from_seq, 0);

	/* nothing since the newest */
	assert_int_equal(changes(x->s, 3, &c, &upto), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(upto, 3);
	for (size_t i = 0; i < 3; i++)
		th_env_free(&e[i]);
}

static void test_changes__writes_that_move_no_feed_take_no_number(void **state)
{
	struct th_fx *x = *state;
	struct th_env e = th_measure(&x->f2, "a", "one", TH_NOW - 30);
	assert_int_equal(th_ingest1(x->s, &e), STORE_NEW);
	uint64_t n = write_number(x->s);
	assert_int_equal(th_ingest1(x->s, &e), STORE_KNOWN);   /* known: nothing moved */
	struct th_env gap = th_measure(&x->f2, "b", "two", TH_NOW - 20);
	th_env_free(&gap);
	struct th_env late = th_measure(&x->f2, "c", "three", TH_NOW - 10);
	assert_int_equal(th_ingest1(x->s, &late), PROTO_E_SEQ);   /* rejected */
	assert_int_equal(write_number(x->s), n);
	th_env_free(&e);
	th_env_free(&late);
}

static void test_changes__governance_record_flags_its_feed(void **state)
{
	struct th_fx *x = *state;
	struct proto_key *newcomer = th_key(60);
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Admission a = AGORA__ADMISSION__INIT;
	a.has_member = 1;
	a.member.len = 32;
	a.member.data = newcomer->pk;
	a.name = "Vejle Kommune";
	a.country = "DK";
	a.has_role = 1;
	a.role = AGORA__ROLE__ROLE_MEMBER;
	r.body_case = AGORA__RECORD__BODY_ADMISSION;
	r.admission = &a;
	uint64_t before = write_number(x->s);
	assert_int_equal(put(x->s, th_sign(&x->f1, &r, TH_NOW - 50)), STORE_NEW);
	assert_int_equal(put(x->s, th_measure(&x->f2, "a", "b", TH_NOW - 40)), STORE_NEW);
	struct seen c;
	uint64_t upto;
	assert_int_equal(changes(x->s, before, &c, &upto), 0);
	assert_int_equal(c.n, 2);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(c.c[i].governance, !memcmp(c.c[i].author, x->k1->pk, 32));
	/* the charter's write flagged the founder's feed too */
	assert_int_equal(changes(x->s, 0, &c, &upto), 0);
	for (size_t i = 0; i < c.n; i++)
		if (!memcmp(c.c[i].author, x->k1->pk, 32))
			assert_true(c.c[i].governance);
	proto_key_free(newcomer);
}

static void test_changes__log_keeps_a_window_then_says_gone(void **state)
{
	struct th_fx *x = *state;
	x->s->log_keep = 4;   /* STORE_LOG_KEEP, made small */
	for (int i = 0; i < 6; i++)
		assert_int_equal(put(x->s, th_measure(&x->f2, "m", "x", TH_NOW - 100 + i)), STORE_NEW);
	/* writes 1..7; the log holds 4..7 */
	struct seen c;
	uint64_t upto = 0;
	assert_int_equal(write_number(x->s), 7);
	assert_int_equal(changes(x->s, 3, &c, &upto), 0);
	assert_int_equal(upto, 7);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.c[0].from_seq, 2);
	assert_int_equal(c.c[0].seq, 6);
	upto = 0;
	assert_int_equal(changes(x->s, 2, &c, &upto), STORE_E_GONE);
	assert_int_equal(upto, 0);   /* written only on success */
	assert_int_equal(changes(x->s, 0, &c, &upto), STORE_E_GONE);
	/* a caller ahead of the store (it was restored from an older copy) */
	assert_int_equal(changes(x->s, 8, &c, &upto), STORE_E_GONE);
}

/* Two different signed records at one (alliance, author, seq). */
static void make_fork(struct th_feed *f, const char *what, struct th_env *a, struct th_env *b)
{
	struct th_feed other = *f;
	*a = th_measure(f, what, "the one", TH_NOW - 5);
	*b = th_measure(&other, what, "the other", TH_NOW - 5);
}

struct proofs {
	uint64_t seq[8];
	size_t n;
};

static int proof_cb(const uint8_t alliance[PROTO_ID_BYTES], const uint8_t author[PROTO_KEY_BYTES],
                    uint64_t seq, const uint8_t *env_a, size_t len_a, const uint8_t *env_b,
                    size_t len_b, void *ctx)
{
	(void)alliance; (void)author; (void)env_a; (void)len_a; (void)env_b; (void)len_b;
	struct proofs *p = ctx;
	if (p->n < 8)
		p->seq[p->n] = seq;
	p->n++;
	return 0;
}

static int proofs_since(struct store *s, uint64_t after, struct proofs *p, uint64_t *upto)
{
	struct store_txn *t;
	memset(p, 0, sizeof *p);
	assert_int_equal(store_txn_begin(s, &t), 0);
	int rc = store_forks_since(t, after, proof_cb, p, upto);
	store_txn_end(t);
	return rc;
}

static void test_forks_since__each_new_proof_gets_the_next_number(void **state)
{
	struct th_fx *x = *state;
	struct proofs p;
	uint64_t upto = 9;
	assert_int_equal(proofs_since(x->s, 0, &p, &upto), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(upto, 0);

	struct th_env a, b, c, d;
	make_fork(&x->f2, "first", &a, &b);
	assert_int_equal(th_ingest1(x->s, &a), STORE_NEW);
	assert_int_equal(th_ingest1(x->s, &b), STORE_FORKED);
	assert_int_equal(proofs_since(x->s, 0, &p, &upto), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.seq[0], 1);
	assert_int_equal(upto, 1);

	make_fork(&x->f2, "second", &c, &d);
	assert_int_equal(th_ingest1(x->s, &c), STORE_NEW);
	assert_int_equal(th_ingest1(x->s, &d), STORE_FORKED);
	assert_int_equal(th_ingest1(x->s, &d), STORE_KNOWN);   /* not a new proof */
	assert_int_equal(proofs_since(x->s, 1, &p, &upto), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.seq[0], 2);
	assert_int_equal(upto, 2);
	assert_int_equal(proofs_since(x->s, 2, &p, &upto), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(upto, 2);
	th_env_free(&a);
	th_env_free(&b);
	th_env_free(&c);
	th_env_free(&d);
}

/* Drop the "log" and "forkno" DBIs with LMDB itself: a store as an older
 * agora left it. */
static void drop_new_dbis(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "log", 0, &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(mdb_dbi_open(txn, "forkno", 0, &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void test_changes__older_store_reads_as_empty_log_and_numbers_its_forks(void **state)
{
	struct th_fx *x = *state;
	struct th_env a, b;
	make_fork(&x->f2, "old", &a, &b);
	assert_int_equal(th_ingest1(x->s, &a), STORE_NEW);
	assert_int_equal(th_ingest1(x->s, &b), STORE_FORKED);
	store_close(x->s);
	x->s = NULL;
	drop_new_dbis(x->dir);

	struct store *ro;
	struct seen c;
	struct proofs p;
	uint64_t upto = 5;
	assert_int_equal(store_open(&ro, x->dir, STORE_OPEN_READONLY), 0);
	assert_int_equal(write_number(ro), 0);
	assert_int_equal(changes(ro, 0, &c, &upto), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(upto, 0);
	assert_int_equal(proofs_since(ro, 0, &p, &upto), 0);
	assert_int_equal(p.n, 0);
	store_close(ro);

	/* the first read-write open creates both and numbers the old proof */
	assert_int_equal(store_open(&x->s, x->dir, 0), 0);
	assert_int_equal(write_number(x->s), 0);
	assert_int_equal(proofs_since(x->s, 0, &p, &upto), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(upto, 1);
	assert_int_equal(put(x->s, th_measure(&x->f2, "new", "x", TH_NOW - 1)), STORE_NEW);
	assert_int_equal(write_number(x->s), 1);
	assert_int_equal(changes(x->s, 0, &c, &upto), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.c[0].from_seq, 1);
	assert_int_equal(c.c[0].seq, 2);
	th_env_free(&a);
	th_env_free(&b);
}

int main(void)
{
	if (proto_init() != 0)
		return 1;
#define T(f) cmocka_unit_test_setup_teardown(f, th_fx_setup, th_fx_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_changes__store_never_written_is_number_zero_with_no_changes),
		T(test_changes__each_write_moving_feeds_is_numbered_and_lists_them),
		T(test_changes__writes_that_move_no_feed_take_no_number),
		T(test_changes__governance_record_flags_its_feed),
		T(test_changes__log_keeps_a_window_then_says_gone),
		T(test_forks_since__each_new_proof_gets_the_next_number),
		T(test_changes__older_store_reads_as_empty_log_and_numbers_its_forks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
