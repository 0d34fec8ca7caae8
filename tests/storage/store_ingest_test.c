/* store_ingest_test.c - agora_storage behaviour as records arrive: ingest
 * (gaps, wrong prev, forks, tampering, atomic and pre-verified batches),
 * the data directory's place, and a read-only open.  What later records
 * do to earlier ones, map growth, full text and publishing are in
 * store_edit_test.c; the fixture both use in store_fx.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store_fx.h"

/* ---------------------------------------------------------------- ingest */

static void test_store_ingest__round_trip_then_same_batch_is_known(void **state)
{
	struct th_fx *x = *state;
	struct th_env e[4];
	e[0] = x->charter;
	e[1] = th_measure(&x->f1, "Vådområde ved Assens", "Genopretning af eng", TH_NOW - 900);
	e[2] = th_measure(&x->f1, "Cykelsti", "Ny cykelsti til skolen", TH_NOW - 800);
	e[3] = th_measure(&x->f2, "Solceller", "Solceller på rådhuset", TH_NOW - 700);
	struct store_item items[4];
	for (int i = 0; i < 4; i++)
		items[i] = (struct store_item){ e[i].env, e[i].len };
	int status[4];
	struct store_ingest_stats st;
	assert_int_equal(store_ingest(x->s, items, 4, 0, TH_NOW, status, NULL, &st), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(status[i], STORE_NEW);
	assert_int_equal(st.added, 4);

	struct store_txn *t;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	for (int i = 0; i < 4; i++) {
		struct store_record r;
		assert_int_equal(store_get(t, e[i].id, &r), 0);
		assert_int_equal(r.env_len, e[i].len);
		assert_memory_equal(r.env, e[i].env, e[i].len);
		assert_memory_equal(r.id, e[i].id, PROTO_ID_BYTES);
		assert_false(r.superseded);
		assert_false(r.retracted);
	}
	uint64_t seq;
	uint8_t head[PROTO_ID_BYTES];
	assert_int_equal(store_feed_head(t, x->f1.alliance, x->k1->pk, &seq, head), 0);
	assert_int_equal(seq, 3);
	assert_memory_equal(head, e[2].id, PROTO_ID_BYTES);
	struct store_record r;
	assert_int_equal(store_feed_get(t, x->f1.alliance, x->k2->pk, 1, &r), 0);
	assert_memory_equal(r.id, e[3].id, PROTO_ID_BYTES);
	/* the envelope alone, as a session streams it: the same bytes */
	const uint8_t *env;
	size_t len;
	assert_int_equal(store_feed_env(t, x->f1.alliance, x->k2->pk, 1, &env, &len), 0);
	assert_int_equal(len, e[3].len);
	assert_memory_equal(env, e[3].env, len);
	assert_int_equal(store_feed_env(t, x->f1.alliance, x->k2->pk, 2, &env, &len),
	                 STORE_E_NOTFOUND);
	assert_int_equal(store_feed_env(t, x->f1.alliance, x->k1->pk, 4, &env, &len),
	                 STORE_E_NOTFOUND);
	struct ids al = { .n = 0 };
	assert_int_equal(store_alliances(t, collect_rec, &al), 0);
	assert_int_equal(al.n, 1);
	assert_memory_equal(al.id[0], x->charter.id, PROTO_ID_BYTES);
	store_txn_end(t);
	struct store_stats before = stats_of(x->s);
	assert_int_equal(before.records, 4);
	assert_int_equal(before.feeds, 2);
	assert_int_equal(before.alliances, 1);

	assert_int_equal(store_ingest(x->s, items, 4, 0, TH_NOW, status, NULL, &st), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(status[i], STORE_KNOWN);
	assert_int_equal(st.known, 4);
	assert_int_equal(st.added, 0);
	struct store_stats after = stats_of(x->s);
	assert_int_equal(after.records, before.records);
	assert_int_equal(after.feeds, before.feeds);
	for (int i = 1; i < 4; i++)
		th_env_free(&e[i]);
}

static void test_store_ingest__seq_gap_is_rejected(void **state)
{
	struct th_fx *x = *state;
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	struct th_env a = th_measure(&x->f1, "A", NULL, TH_NOW - 10);
	struct th_env b = th_measure(&x->f1, "B", NULL, TH_NOW - 9);
	assert_int_equal(th_ingest1(x->s, &b), PROTO_E_SEQ);
	assert_int_equal(th_ingest1(x->s, &a), STORE_NEW);
	assert_int_equal(th_ingest1(x->s, &b), STORE_NEW);
	th_env_free(&a);
	th_env_free(&b);
}

static void test_store_ingest__wrong_prev_is_rejected(void **state)
{
	struct th_fx *x = *state;
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	struct th_env a = th_measure(&x->f1, "A", NULL, TH_NOW - 10);
	assert_int_equal(th_ingest1(x->s, &a), STORE_NEW);
	x->f1.prev[5] ^= 1;   /* seq 3 pointing at a record we do not hold */
	struct th_env b = th_measure(&x->f1, "B", NULL, TH_NOW - 9);
	assert_int_equal(th_ingest1(x->s, &b), PROTO_E_PREV);
	assert_int_equal(stats_of(x->s).records, 2);
	th_env_free(&a);
	th_env_free(&b);
}

static void test_store_ingest__unknown_alliance_is_rejected(void **state)
{
	struct th_fx *x = *state;
	struct th_env a = th_measure(&x->f2, "A", NULL, TH_NOW - 10);
	assert_int_equal(th_ingest1(x->s, &a), STORE_E_ALLIANCE);
	assert_int_equal(stats_of(x->s).records, 0);
	th_env_free(&a);
}

struct fork_seen {
	int n;
	uint64_t seq;
	uint8_t a[PROTO_ID_BYTES], b[PROTO_ID_BYTES];
};

static int fork_cb(const uint8_t *alliance, const uint8_t *author, uint64_t seq,
                   const uint8_t *ea, size_t la, const uint8_t *eb, size_t lb, void *ctx)
{
	struct fork_seen *f = ctx;
	f->n++;
	f->seq = seq;
	proto_record_id(f->a, ea, la);
	proto_record_id(f->b, eb, lb);
	return 0;
}

static void test_store_ingest__fork_is_kept_listed_and_feed_unchanged(void **state)
{
	struct th_fx *x = *state;
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	struct th_feed copy = x->f1;
	struct th_env a = th_measure(&x->f1, "Original", NULL, TH_NOW - 10);
	struct th_env b = th_measure(&copy, "Restored from an old backup", NULL, TH_NOW - 5);
	assert_int_equal(th_ingest1(x->s, &a), STORE_NEW);
	struct store_item it = { b.env, b.len };
	int st;
	struct store_ingest_stats stats;
	assert_int_equal(store_ingest(x->s, &it, 1, 0, TH_NOW, &st, NULL, &stats), 0);
	assert_int_equal(st, STORE_FORKED);
	assert_int_equal(stats.forks, 1);
	assert_int_equal(th_ingest1(x->s, &b), STORE_KNOWN);

	struct store_txn *t;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	struct fork_seen fs = { 0 };
	assert_int_equal(store_forks(t, fork_cb, &fs), 0);
	assert_int_equal(fs.n, 1);
	assert_int_equal(fs.seq, 2);
	assert_memory_equal(fs.a, a.id, PROTO_ID_BYTES);
	assert_memory_equal(fs.b, b.id, PROTO_ID_BYTES);
	uint64_t seq;
	uint8_t head[PROTO_ID_BYTES];
	assert_int_equal(store_feed_head(t, x->f1.alliance, x->k1->pk, &seq, head), 0);
	assert_int_equal(seq, 2);
	assert_memory_equal(head, a.id, PROTO_ID_BYTES);
	struct store_record r;
	assert_int_equal(store_get(t, b.id, &r), 0);   /* evidence is kept */
	store_txn_end(t);
	/* the fork is not content: queries do not return it */
	struct ids hits = text_query(x->s, "backup");
	assert_int_equal(hits.n, 0);
	assert_int_equal(stats_of(x->s).forks, 1);
	th_env_free(&a);
	th_env_free(&b);
}

/* Below the head, a record is known when it is the feed's own record at
 * its seq, or a fork's record stored before; anything else there is a fork. */
static void test_store_ingest__below_the_head_known_or_fork(void **state)
{
	struct th_fx *x = *state;
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	struct th_feed copy = x->f1;
	struct th_env a = th_measure(&x->f1, "Second", NULL, TH_NOW - 10);
	struct th_env c = th_measure(&x->f1, "Third", NULL, TH_NOW - 9);
	struct th_env b = th_measure(&copy, "Another second", NULL, TH_NOW - 8);
	assert_int_equal(th_ingest1(x->s, &a), STORE_NEW);
	assert_int_equal(th_ingest1(x->s, &c), STORE_NEW);
	assert_int_equal(th_ingest1(x->s, &a), STORE_KNOWN);
	assert_int_equal(th_ingest1(x->s, &c), STORE_KNOWN);
	assert_int_equal(th_ingest1(x->s, &b), STORE_FORKED);   /* seq 2 < head 3 */
	assert_int_equal(th_ingest1(x->s, &b), STORE_KNOWN);
	assert_int_equal(stats_of(x->s).forks, 1);
	struct store_txn *t;
	uint64_t seq;
	uint8_t head[PROTO_ID_BYTES];
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_feed_head(t, x->f1.alliance, x->k1->pk, &seq, head), 0);
	store_txn_end(t);
	assert_int_equal(seq, 3);
	assert_memory_equal(head, c.id, PROTO_ID_BYTES);
	th_env_free(&a);
	th_env_free(&b);
	th_env_free(&c);
}

static void test_store_ingest__tampered_envelope_is_rejected_and_nothing_stored(void **state)
{
	struct th_fx *x = *state;
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	struct th_env a = th_measure(&x->f1, "Tamper me", "Some text", TH_NOW - 10);
	for (size_t pos = 0; pos < a.len; pos += 7) {
		a.env[pos] ^= 0x10;
		int rc = th_ingest1(x->s, &a);
		assert_true(rc < 0);
		a.env[pos] ^= 0x10;
	}
	assert_int_equal(stats_of(x->s).records, 1);
	assert_int_equal(th_ingest1(x->s, &a), STORE_NEW);
	th_env_free(&a);
}

static void test_store_ingest__atomic_batch_with_bad_item_stores_nothing(void **state)
{
	struct th_fx *x = *state;
	struct th_env a = th_measure(&x->f1, "A", NULL, TH_NOW - 10);
	struct th_env b = th_measure(&x->f1, "B", NULL, TH_NOW - 9);
	b.env[b.len - 1] ^= 1;   /* signature broken */
	struct store_item items[3] = { { x->charter.env, x->charter.len }, { a.env, a.len },
	                               { b.env, b.len } };
	int status[3];
	struct proto_error errs[3];
	int rc = store_ingest(x->s, items, 3, STORE_INGEST_ATOMIC, TH_NOW, status, errs, NULL);
	assert_int_equal(rc, PROTO_E_SIGNATURE);
	assert_int_equal(status[0], STORE_E_ROLLBACK);
	assert_int_equal(status[1], STORE_E_ROLLBACK);
	assert_int_equal(status[2], PROTO_E_SIGNATURE);
	assert_int_equal(stats_of(x->s).records, 0);
	/* the same batch without ATOMIC stores the good items */
	assert_int_equal(store_ingest(x->s, items, 3, 0, TH_NOW, status, errs, NULL), 0);
	assert_int_equal(status[0], STORE_NEW);
	assert_int_equal(status[1], STORE_NEW);
	assert_int_equal(status[2], PROTO_E_SIGNATURE);
	assert_int_equal(stats_of(x->s).records, 2);
	th_env_free(&a);
	th_env_free(&b);
}

/* Pipelined ingest: 300 records in 3 batches verified on the verifier
 * thread while stored in one transaction; batch 2 chains on batch 1; a
 * broken signature is reported at its place in the whole; ATOMIC rolls
 * back every batch; and a batch freed while queued is never read again. */
static void test_store_ingest__batches_verified_ahead_store_as_one(void **state)
{
	struct th_fx *x = *state;
	enum { N = 300, PER = 100 };
	struct th_env *e = calloc(N, sizeof(*e));
	struct store_item *items = calloc(N, sizeof(*items));
	int *status = calloc(N, sizeof(*status));
	struct store_verifier *v;
	struct store_batch *b[3];
	struct store_ingest_stats st;
	char title[32];

	e[0] = x->charter;
	for (int i = 1; i < N; i++) {
		snprintf(title, sizeof(title), "Tiltag %d", i);
		e[i] = th_measure(&x->f1, title, "Fjernvarme og cykelstier", TH_NOW - 1000 + i);
	}
	for (int i = 0; i < N; i++)
		items[i] = (struct store_item){ e[i].env, e[i].len };
	e[250].env[e[250].len - 1] ^= 1;   /* signature broken */
	assert_int_equal(store_verifier_start(&v, 2), 0);
	for (int j = 0; j < 3; j++) {
		assert_int_equal(store_batch_new(&b[j], items + j * PER, PER, TH_NOW, NULL), 0);
		assert_int_equal(store_verifier_add(v, b[j]), 0);
	}
	assert_int_equal(store_ingest_batches(x->s, b, 3, STORE_INGEST_ATOMIC, status, &st),
	                 PROTO_E_SIGNATURE);
	assert_int_equal(status[250], PROTO_E_SIGNATURE);
	assert_int_equal(status[249], STORE_E_ROLLBACK);
	assert_int_equal(stats_of(x->s).records, 0);
	/* the same (already verified) batches without ATOMIC: all but two */
	assert_int_equal(store_ingest_batches(x->s, b, 3, 0, status, &st), 0);
	assert_int_equal(status[0], STORE_NEW);
	assert_int_equal(status[150], STORE_NEW);   /* chained on batch 1 */
	assert_int_equal(status[250], PROTO_E_SIGNATURE);
	assert_int_equal(status[251], PROTO_E_SEQ); /* its successor cannot chain */
	assert_int_equal(st.added, 250);
	for (int j = 0; j < 3; j++)
		store_batch_free(b[j]);
	assert_int_equal(stats_of(x->s).records, 250);

	/* freed while queued: the items may go at once (ASan watches) */
	uint8_t *copy = malloc(e[1].len);
	memcpy(copy, e[1].env, e[1].len);
	struct store_item one = { copy, e[1].len };
	struct store_batch *q;
	assert_int_equal(store_batch_new(&q, &one, 1, TH_NOW, NULL), 0);
	assert_int_equal(store_verifier_add(v, q), 0);
	store_batch_free(q);
	free(copy);
	store_verifier_stop(v);

	for (int i = 1; i < N; i++)
		th_env_free(&e[i]);
	free(e);
	free(items);
	free(status);
}

/* A batch that promises a feed run (what a sync peer's Records header
 * says) stores the records up to the first one that breaks it, and none
 * after, even records that would chain. */
static void test_store_ingest__feed_run_stops_at_the_first_stranger(void **state)
{
	struct th_fx *x = *state;
	struct th_env e[5];
	struct store_item items[4];
	struct store_batch *b;
	int status[4];
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	for (int i = 0; i < 5; i++)
		e[i] = th_measure(i == 2 ? &x->f2 : &x->f1, "Tiltag", NULL, TH_NOW - 100 + i);
	/* f1 seqs 2, 3 (seq 1 is the charter), f2's seq 1 (a stranger), f1 seq 4 */
	for (int i = 0; i < 4; i++)
		items[i] = (struct store_item){ e[i].env, e[i].len };
	assert_int_equal(store_batch_new(&b, items, 4, TH_NOW, NULL), 0);
	store_batch_run(b, x->f1.alliance, x->k1->pk, 2);
	assert_int_equal(store_ingest_batches(x->s, &b, 1, 0, status, NULL), 0);
	assert_int_equal(status[0], STORE_NEW);
	assert_int_equal(status[1], STORE_NEW);
	assert_int_equal(status[2], STORE_E_RUN);
	assert_int_equal(status[3], STORE_E_RUN);   /* f1 seq 4 would chain: not stored */
	store_batch_free(b);
	assert_int_equal(stats_of(x->s).records, 3);
	/* a run that starts at the wrong seq stores nothing */
	items[0] = (struct store_item){ e[3].env, e[3].len };
	assert_int_equal(store_batch_new(&b, items, 1, TH_NOW, NULL), 0);
	store_batch_run(b, x->f1.alliance, x->k1->pk, 5);   /* e[3] is seq 4 */
	assert_int_equal(store_ingest_batches(x->s, &b, 1, 0, status, NULL), 0);
	assert_int_equal(status[0], STORE_E_RUN);
	store_batch_free(b);
	for (int i = 0; i < 5; i++)
		th_env_free(&e[i]);
}

/* DESIGN 9's order for the data directory, shared by agora and agorad. */
static void test_store_home__flag_then_agora_home_then_xdg_then_home(void **state)
{
	char out[64], big[80], *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	(void)state;
	setenv("HOME", "/home/assens", 1);
	setenv("XDG_DATA_HOME", "/xdg/", 1);
	setenv("AGORA_HOME", "/srv/agora//", 1);
	assert_int_equal(store_home(out, sizeof(out), "/data/vejle/"), 0);
	assert_string_equal(out, "/data/vejle");
	assert_int_equal(store_home(out, sizeof(out), ""), 0);
	assert_string_equal(out, "/srv/agora");
	unsetenv("AGORA_HOME");
	assert_int_equal(store_home(out, sizeof(out), NULL), 0);
	assert_string_equal(out, "/xdg//agora");
	unsetenv("XDG_DATA_HOME");
	assert_int_equal(store_home(out, sizeof(out), NULL), 0);
	assert_string_equal(out, "/home/assens/.local/share/agora");
	assert_int_equal(store_home(out, sizeof(out), "/"), 0);
	assert_string_equal(out, "/");   /* the root stays the root */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(store_home(out, sizeof(out), big), -ENAMETOOLONG);
	unsetenv("HOME");
	assert_int_equal(store_home(out, sizeof(out), NULL), -ENOENT);
	if (home)
		setenv("HOME", home, 1);
	free(home);
}

static void test_store_open__readonly_refuses_writes(void **state)
{
	struct th_fx *x = *state;
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	struct store *ro;
	assert_int_equal(store_open(&ro, x->dir, STORE_OPEN_READONLY), 0);
	assert_int_equal(store_default_alliance_set(ro, x->f1.alliance), STORE_E_READONLY);
	assert_int_equal(th_ingest1(ro, &x->charter), STORE_E_READONLY);
	assert_int_equal(stats_of(ro).records, 1);
	store_close(ro);
}

int main(void)
{
	if (proto_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, th_fx_teardown)
		T(test_store_ingest__round_trip_then_same_batch_is_known),
		T(test_store_ingest__seq_gap_is_rejected),
		T(test_store_ingest__wrong_prev_is_rejected),
		T(test_store_ingest__unknown_alliance_is_rejected),
		T(test_store_ingest__fork_is_kept_listed_and_feed_unchanged),
		T(test_store_ingest__below_the_head_known_or_fork),
		T(test_store_ingest__tampered_envelope_is_rejected_and_nothing_stored),
		T(test_store_ingest__atomic_batch_with_bad_item_stores_nothing),
		T(test_store_ingest__batches_verified_ahead_store_as_one),
		T(test_store_ingest__feed_run_stops_at_the_first_stranger),
		cmocka_unit_test(test_store_home__flag_then_agora_home_then_xdg_then_home),
		T(test_store_open__readonly_refuses_writes),
#undef T
	};
	return cmocka_run_group_tests_name("storage_ingest", tests, NULL, NULL);
}
