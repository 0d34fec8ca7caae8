/*
 * forks_test.c - fork evidence a peer cannot inflate (issue 10 D6, D10): a
 * fork proof carries only records of the position it names, in an
 * alliance this store holds; a seq is proven once; an author and an
 * alliance keep a bounded number of proofs; STORE_FORKED only for new
 * evidence; a "fork" of the own feed is a conflict.
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

static struct store_stats stats_of(struct store *s)
{
	struct store_txn *t;
	struct store_stats st;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_stats(t, &st), 0);
	store_txn_end(t);
	return st;
}

/* A proof as a peer sends it; result or the call's error. */
static int proof(struct store *s, const uint8_t *alliance, const uint8_t *author, uint64_t seq,
                 const struct th_env *a, const struct th_env *b)
{
	int result = 12345;
	int rc = store_ingest_fork(s, alliance, author, seq, a->env, a->len, b->env, b->len, TH_NOW,
	                           &result);
	if (rc)
		return rc;
	assert_int_not_equal(result, 12345);
	return result;
}

/* Two different records at the next seq of f; f goes on from a. */
static void two_at_next(struct th_feed *f, const char *what, struct th_env *a, struct th_env *b)
{
	struct th_feed other = *f;
	*a = th_measure(f, what, "this", TH_NOW - 100);
	*b = th_measure(&other, what, "that", TH_NOW - 100);
}

static void test_forks__proof_must_carry_records_of_the_position_it_names(void **state)
{
	struct th_fx *x = *state;
	struct th_env a, b, c;
	two_at_next(&x->f2, "m", &a, &b);
	assert_int_equal(th_ingest1(x->s, &a), STORE_NEW);
	uint64_t before = stats_of(x->s).records;

	/* D10: records of another alliance, under a proof naming this one */
	struct proto_key *k3 = th_key(3);
	struct th_feed fy, fy2;
	struct th_env charter_y = th_charter(&fy, k3, "Twin cities", TH_NOW - 5000);
	assert_int_equal(th_ingest1(x->s, &charter_y), STORE_NEW);
	th_feed_init(&fy2, x->k2, fy.alliance);
	struct th_env ya, yb;
	two_at_next(&fy2, "y", &ya, &yb);
	before = stats_of(x->s).records;
	assert_int_equal(proof(x->s, x->f1.alliance, x->k2->pk, 1, &ya, &yb), STORE_E_RUN);
	/* ... or of an alliance this store does not hold, under its own name */
	struct proto_key *k4 = th_key(4);
	struct th_feed fz, fz2;
	struct th_env charter_z = th_charter(&fz, k4, "Unknown", TH_NOW - 5000);
	th_feed_init(&fz2, x->k2, fz.alliance);
	struct th_env za, zb;
	two_at_next(&fz2, "z", &za, &zb);
	assert_int_equal(proof(x->s, fz.alliance, x->k2->pk, 1, &za, &zb), STORE_E_ALLIANCE);
	/* wrong author, wrong seq, one record twice, a bad signature */
	assert_int_equal(proof(x->s, x->f1.alliance, x->k1->pk, 1, &a, &b), STORE_E_RUN);
	assert_int_equal(proof(x->s, x->f1.alliance, x->k2->pk, 2, &a, &b), STORE_E_RUN);
	assert_int_equal(proof(x->s, x->f1.alliance, x->k2->pk, 1, &b, &b), STORE_E_RUN);
	c = (struct th_env){ malloc(b.len), b.len, { 0 } };
	memcpy(c.env, b.env, b.len);
	c.env[c.len - 1] ^= 1;
	assert_int_equal(proof(x->s, x->f1.alliance, x->k2->pk, 1, &a, &c), PROTO_E_SIGNATURE);
	assert_int_equal(stats_of(x->s).records, before);   /* nothing stored */
	assert_int_equal(stats_of(x->s).forks, 0);
	/* and the real proof */
	assert_int_equal(proof(x->s, x->f1.alliance, x->k2->pk, 1, &a, &b), STORE_FORKED);
	assert_int_equal(stats_of(x->s).forks, 1);
	th_env_free(&a);
	th_env_free(&b);
	th_env_free(&c);
	th_env_free(&ya);
	th_env_free(&yb);
	th_env_free(&za);
	th_env_free(&zb);
	th_env_free(&charter_y);
	th_env_free(&charter_z);
	proto_key_free(k3);
	proto_key_free(k4);
}

static void test_forks__only_new_evidence_is_forked(void **state)
{
	struct th_fx *x = *state;
	struct th_env a, b, c;
	struct th_feed third = x->f2;
	two_at_next(&x->f2, "m", &a, &b);
	c = th_measure(&third, "m", "a third", TH_NOW - 100);
	/* the feed is at 0: a is stored as the record, b as evidence */
	assert_int_equal(proof(x->s, x->f1.alliance, x->k2->pk, 1, &a, &b), STORE_FORKED);
	assert_int_equal(stats_of(x->s).forks, 1);
	/* the same proof again, from the next peer: nothing new, relaying ends */
	assert_int_equal(proof(x->s, x->f1.alliance, x->k2->pk, 1, &b, &a), STORE_KNOWN);
	/* another conflicting record at a proven seq adds nothing */
	assert_int_equal(proof(x->s, x->f1.alliance, x->k2->pk, 1, &a, &c), STORE_KNOWN);
	assert_int_equal(th_ingest1(x->s, &c), STORE_KNOWN);
	assert_int_equal(stats_of(x->s).forks, 1);
	/* a proof past the head cannot be checked against the feed: refused */
	struct th_env d, e, f, g;
	two_at_next(&x->f2, "n", &d, &e);
	two_at_next(&x->f2, "o", &f, &g);
	assert_int_equal(proof(x->s, x->f1.alliance, x->k2->pk, 3, &f, &g), PROTO_E_SEQ);
	th_env_free(&a);
	th_env_free(&b);
	th_env_free(&c);
	th_env_free(&d);
	th_env_free(&e);
	th_env_free(&f);
	th_env_free(&g);
}

/* Fork n seqs of f's feed by ingest: n records and n evidence. */
static void fork_feed(struct store *s, struct th_feed *f, unsigned n, size_t *forked)
{
	struct th_env *e = calloc(2 * n, sizeof *e);
	struct store_item *it = calloc(2 * n, sizeof *it);
	int *st = calloc(2 * n, sizeof *st);
	for (unsigned i = 0; i < n; i++) {
		two_at_next(f, "fork", &e[2 * i], &e[2 * i + 1]);
		it[2 * i] = (struct store_item){ e[2 * i].env, e[2 * i].len };
		it[2 * i + 1] = (struct store_item){ e[2 * i + 1].env, e[2 * i + 1].len };
	}
	assert_int_equal(store_ingest(s, it, 2 * n, 0, TH_NOW, st, NULL, NULL), 0);
	*forked = 0;
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(st[2 * i], STORE_NEW);
		assert_true(st[2 * i + 1] == STORE_FORKED || st[2 * i + 1] == STORE_KNOWN);
		*forked += st[2 * i + 1] == STORE_FORKED;
		th_env_free(&e[2 * i]);
		th_env_free(&e[2 * i + 1]);
	}
	free(e);
	free(it);
	free(st);
}

static void test_forks__an_author_keeps_at_most_four_proofs(void **state)
{
	struct th_fx *x = *state;
	size_t forked;
	fork_feed(x->s, &x->f2, STORE_FORKS_PER_AUTHOR + 2, &forked);
	assert_int_equal(forked, STORE_FORKS_PER_AUTHOR);
	assert_int_equal(stats_of(x->s).forks, STORE_FORKS_PER_AUTHOR);
	/* by proof too */
	struct th_env a, b;
	two_at_next(&x->f2, "more", &a, &b);
	assert_int_equal(proof(x->s, x->f1.alliance, x->k2->pk, x->f2.seq, &a, &b), STORE_KNOWN);
	assert_int_equal(stats_of(x->s).forks, STORE_FORKS_PER_AUTHOR);
	th_env_free(&a);
	th_env_free(&b);
}

/* An alliance of 257 members, each forking its feed four times: the
 * alliance keeps 1024 proofs. */
static void test_forks__an_alliance_keeps_at_most_1024_proofs(void **state)
{
	struct th_fx *x = *state;
	enum { AUTHORS = STORE_FORKS_PER_ALLIANCE / STORE_FORKS_PER_AUTHOR + 1 };
	struct th_env *adm = calloc(AUTHORS, sizeof *adm);
	struct store_item *it = calloc(AUTHORS, sizeof *it);
	struct proto_key **keys = calloc(AUTHORS, sizeof *keys);
	for (unsigned i = 0; i < AUTHORS; i++) {
		keys[i] = th_key(1000 + i);
		Agora__Record r = AGORA__RECORD__INIT;
		Agora__Admission a = AGORA__ADMISSION__INIT;
		a.has_member = 1;
		a.member.len = 32;
		a.member.data = keys[i]->pk;
		a.name = "Kommune";
		a.has_role = 1;
		a.role = AGORA__ROLE__ROLE_MEMBER;
		r.body_case = AGORA__RECORD__BODY_ADMISSION;
		r.admission = &a;
		adm[i] = th_sign(&x->f1, &r, TH_NOW - 1000);
		it[i] = (struct store_item){ adm[i].env, adm[i].len };
	}
	struct store_ingest_stats st;
	assert_int_equal(store_ingest(x->s, it, AUTHORS, STORE_INGEST_ATOMIC, TH_NOW, NULL, NULL,
	                              &st), 0);
	assert_int_equal(st.added, AUTHORS);
	size_t total = 0, forked;
	for (unsigned i = 0; i < AUTHORS; i++) {
		struct th_feed f;
		th_feed_init(&f, keys[i], x->f1.alliance);
		fork_feed(x->s, &f, STORE_FORKS_PER_AUTHOR, &forked);
		total += forked;
	}
	assert_int_equal(total, STORE_FORKS_PER_ALLIANCE);
	assert_int_equal(stats_of(x->s).forks, STORE_FORKS_PER_ALLIANCE);
	for (unsigned i = 0; i < AUTHORS; i++) {
		th_env_free(&adm[i]);
		proto_key_free(keys[i]);
	}
	free(adm);
	free(it);
	free(keys);
}

static void test_forks__proof_against_the_own_feed_is_a_conflict(void **state)
{
	struct th_fx *x = *state;
	struct th_env a, b;
	store_set_own_key(x->s, x->k2->pk);
	two_at_next(&x->f2, "mine", &a, &b);
	assert_int_equal(th_ingest1(x->s, &a), STORE_NEW);
	assert_int_equal(proof(x->s, x->f1.alliance, x->k2->pk, 1, &a, &b), STORE_E_CONFLICT);
	assert_int_equal(stats_of(x->s).forks, 0);
	struct store_txn *t;
	uint64_t seq;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_own_conflict(t, x->f1.alliance, x->k2->pk, &seq), 0);
	store_txn_end(t);
	assert_int_equal(seq, 1);
	th_env_free(&a);
	th_env_free(&b);
}

int main(void)
{
	if (proto_init() != 0)
		return 1;
#define T(f) cmocka_unit_test_setup_teardown(f, th_fx_setup, th_fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_forks__proof_must_carry_records_of_the_position_it_names),
		T(test_forks__only_new_evidence_is_forked),
		T(test_forks__an_author_keeps_at_most_four_proofs),
		T(test_forks__an_alliance_keeps_at_most_1024_proofs),
		T(test_forks__proof_against_the_own_feed_is_a_conflict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
