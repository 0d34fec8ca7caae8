/*
 * own_test.c - this node's own feed: only a signed record raises its
 * floor, a record of it that differs from ours is a conflict (never fork
 * evidence), and the two restore stories of issue 10 end with the
 * conflict withdrawn, the alliance's records learned back and publishing
 * working again.
 *
 * "Elsewhere" is the alliance's copy of the own feed: records this node
 * published and synced before its store was restored from a backup.  The
 * tests make them on the store itself before restoring the backup over
 * it, so they are the very records the partners hold.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "helper.h"

static int setup(void **state)
{
	int rc = th_fx_setup(state);
	struct th_fx *x = *state;
	store_set_own_key(x->s, x->k1->pk);
	return rc;
}

/* k1 publishes a measure; *out (may be NULL) gets its envelope. */
static int publish(struct th_fx *x, const char *title, uint64_t now, struct th_env *out,
                   struct proto_error *err)
{
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Measure m = AGORA__MEASURE__INIT;
	struct th_env e = { 0 };
	m.title = (char *)title;
	m.language = "da";
	m.has_mitigation = m.mitigation = 1;
	r.body_case = AGORA__RECORD__BODY_MEASURE;
	r.measure = &m;
	struct proto_error e2;
	int rc = store_publish(x->s, x->k1, x->f1.alliance, &r, now, e.id, &e.env, &e.len,
	                       err ? err : &e2);
	if (out)
		*out = e;
	else
		free(e.env);
	return rc;
}

static uint64_t head_of(struct store *s, const uint8_t *alliance, const uint8_t *author,
                        uint8_t id[PROTO_ID_BYTES])
{
	struct store_txn *t;
	uint64_t seq;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_feed_head(t, alliance, author, &seq, id), 0);
	store_txn_end(t);
	return seq;
}

static uint64_t floor_of(struct th_fx *x)
{
	struct store_txn *t;
	uint64_t seq;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_floor_get(t, x->f1.alliance, x->k1->pk, &seq), 0);
	store_txn_end(t);
	return seq;
}

static uint64_t conflict_of(struct th_fx *x)
{
	struct store_txn *t;
	uint64_t seq;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_own_conflict(t, x->f1.alliance, x->k1->pk, &seq), 0);
	store_txn_end(t);
	return seq;
}

static size_t forks_of(struct store *s)
{
	struct store_txn *t;
	struct store_stats st;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_stats(t, &st), 0);
	store_txn_end(t);
	return st.forks;
}

static int count_cb(const struct store_hit *h, void *ctx)
{
	(void)h;
	++*(int *)ctx;
	return 0;
}

/* Query hits for a title word. */
static int found(struct store *s, const char *text)
{
	struct store_txn *t;
	struct store_query q = { 0 };
	int n = 0;
	q.text = text;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_true(store_query(t, &q, count_cb, &n, NULL) >= 0);
	store_txn_end(t);
	return n;
}

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;
	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof buf)) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	close(out);
}

/* Save (backup) or put back (restore) the store's data file, closed. */
static void backup(struct th_fx *x, const char *copy, bool restore)
{
	char data[4096];
	store_close(x->s);
	snprintf(data, sizeof data, "%s/data.mdb", x->dir);
	if (restore)
		copy_file(copy, data);
	else
		copy_file(data, copy);
	assert_int_equal(store_open(&x->s, x->dir, 0), 0);
	store_set_own_key(x->s, x->k1->pk);
}

struct taken {
	uint8_t id[8][PROTO_ID_BYTES];
	bool withdrawn[8];
	size_t n;
};

static int take_cb(const struct store_record *r, void *ctx)
{
	struct taken *t = ctx;
	if (t->n < 8) {
		memcpy(t->id[t->n], r->id, PROTO_ID_BYTES);
		t->withdrawn[t->n] = r->withdrawn;
	}
	t->n++;
	return 0;
}

struct change1 {
	struct store_change c;
	size_t n;
};

static int change_cb(const struct store_change *c, void *ctx)
{
	struct change1 *o = ctx;
	o->c = *c;
	o->n++;
	return 0;
}

static int ingest(struct store *s, const struct th_env *e)
{
	return th_ingest1(s, e);
}

/*
 * Issue 10, first story: backup at N; N+1 and N+2 published and synced;
 * the backup restored; an offline publish (N+1').  The partners then send
 * N+1 (a conflict) and N+2 (raises the floor).  Publishing is refused
 * with the fix named; withdrawing hands back N+1'; the alliance's records
 * are learned; publishing goes on at N+3.
 */
static void test_own__restored_behind_two_records_withdraws_and_publishes_at_n_plus_3(void **state)
{
	struct th_fx *x = *state;
	char copy[4096];
	snprintf(copy, sizeof copy, "%s.backup", x->dir);
	assert_int_equal(publish(x, "before the backup", TH_NOW - 900, NULL, NULL), 0);
	const uint64_t N = head_of(x->s, x->f1.alliance, x->k1->pk, NULL);   /* charter + 1 */
	backup(x, copy, false);
	struct th_env n1, n2, offline;
	assert_int_equal(publish(x, "synced one", TH_NOW - 800, &n1, NULL), 0);
	assert_int_equal(publish(x, "synced two", TH_NOW - 700, &n2, NULL), 0);
	backup(x, copy, true);
	assert_int_equal(head_of(x->s, x->f1.alliance, x->k1->pk, NULL), N);

	/* offline: nothing tells this store it is behind */
	assert_int_equal(publish(x, "offline", TH_NOW - 600, &offline, NULL), 0);
	uint64_t before_sync;
	struct store_txn *t;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_write_number(t, &before_sync), 0);
	store_txn_end(t);

	/* the partners send N+1 and N+2 */
	assert_int_equal(ingest(x->s, &n1), STORE_E_CONFLICT);
	assert_int_equal(ingest(x->s, &n2), PROTO_E_PREV);
	assert_int_equal(conflict_of(x), N + 1);
	assert_int_equal(floor_of(x), N + 2);
	assert_int_equal(forks_of(x->s), 0);   /* no proof against ourselves */

	struct proto_error err = { 0 };
	assert_int_equal(publish(x, "refused", TH_NOW - 500, NULL, &err), STORE_E_CONFLICT);
	assert_non_null(strstr(err.msg, "agora recover"));
	assert_non_null(strstr(store_strerror(STORE_E_CONFLICT), "agora recover"));

	struct taken tk = { .n = 0 };
	size_t n = 0;
	assert_int_equal(store_own_withdraw(x->s, x->f1.alliance, take_cb, &tk, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(tk.n, 1);
	assert_memory_equal(tk.id[0], offline.id, PROTO_ID_BYTES);
	assert_false(tk.withdrawn[0]);   /* as it was before */
	assert_int_equal(head_of(x->s, x->f1.alliance, x->k1->pk, NULL), N);
	assert_int_equal(conflict_of(x), 0);
	assert_int_equal(floor_of(x), N + 2);   /* the floor stays */
	assert_int_equal(found(x->s, "offline"), 0);
	/* still readable by id, flagged; and the withdrawal is a change like
	 * any other (the failed ingests moved nothing) */
	struct change1 ch = { 0 };
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	struct store_record rec;
	assert_int_equal(store_get(t, offline.id, &rec), 0);
	assert_true(rec.withdrawn);
	assert_true(rec.retracted);
	assert_int_equal(store_changes(t, before_sync, change_cb, &ch, NULL), 0);
	store_txn_end(t);
	assert_int_equal(ch.n, 1);
	assert_memory_equal(ch.c.author, x->k1->pk, 32);
	assert_int_equal(ch.c.from_seq, N + 1);
	assert_int_equal(ch.c.seq, N);
	/* still behind the floor: publishing waits for the alliance's records */
	assert_int_equal(publish(x, "too early", TH_NOW - 450, NULL, NULL), STORE_E_FORK);
	/* the withdrawn record coming back (a partner got it) stays out */
	assert_int_equal(ingest(x->s, &offline), STORE_KNOWN);
	assert_int_equal(conflict_of(x), 0);

	assert_int_equal(ingest(x->s, &n1), STORE_NEW);
	assert_int_equal(ingest(x->s, &n2), STORE_NEW);
	struct th_env again;
	assert_int_equal(publish(x, "offline, published again", TH_NOW - 400, &again, NULL), 0);
	assert_int_equal(head_of(x->s, x->f1.alliance, x->k1->pk, NULL), N + 3);
	assert_int_equal(found(x->s, "synced"), 2);
	assert_int_equal(found(x->s, "again"), 1);
	/* what is offered to peers at N+1 is the alliance's record */
	const uint8_t *env;
	size_t len;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_feed_env(t, x->f1.alliance, x->k1->pk, N + 1, &env, &len), 0);
	assert_int_equal(len, n1.len);
	assert_memory_equal(env, n1.env, len);
	store_txn_end(t);
	th_env_free(&n1);
	th_env_free(&n2);
	th_env_free(&offline);
	th_env_free(&again);
	unlink(copy);
}

/*
 * Issue 10, shorter story: one record published and synced after the
 * backup; the offline publish takes the same seq.  Today nothing is
 * flagged and the feed silently diverges; here N+1 arriving is the
 * conflict, and after the withdrawal the feed is the alliance's again.
 */
static void test_own__restored_behind_one_record_withdraws_and_publishes_at_n_plus_2(void **state)
{
	struct th_fx *x = *state;
	char copy[4096];
	snprintf(copy, sizeof copy, "%s.backup", x->dir);
	const uint64_t N = head_of(x->s, x->f1.alliance, x->k1->pk, NULL);
	backup(x, copy, false);
	struct th_env n1, offline;
	assert_int_equal(publish(x, "synced", TH_NOW - 800, &n1, NULL), 0);
	backup(x, copy, true);
	assert_int_equal(publish(x, "offline", TH_NOW - 600, &offline, NULL), 0);
	assert_int_equal(publish(x, "offline two", TH_NOW - 590, NULL, NULL), 0);

	assert_int_equal(ingest(x->s, &n1), STORE_E_CONFLICT);
	assert_int_equal(conflict_of(x), N + 1);
	assert_int_equal(floor_of(x), 0);
	assert_int_equal(publish(x, "refused", TH_NOW - 500, NULL, NULL), STORE_E_CONFLICT);

	struct taken tk = { .n = 0 };
	size_t n = 0;
	assert_int_equal(store_own_withdraw(x->s, x->f1.alliance, take_cb, &tk, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(tk.n, 2);
	assert_memory_equal(tk.id[0], offline.id, PROTO_ID_BYTES);   /* seq order */
	assert_int_equal(head_of(x->s, x->f1.alliance, x->k1->pk, NULL), N);
	assert_int_equal(found(x->s, "offline"), 0);

	assert_int_equal(ingest(x->s, &n1), STORE_NEW);
	assert_int_equal(publish(x, "after", TH_NOW - 400, NULL, NULL), 0);
	assert_int_equal(head_of(x->s, x->f1.alliance, x->k1->pk, NULL), N + 2);
	/* nothing left to withdraw */
	n = 9;
	assert_int_equal(store_own_withdraw(x->s, x->f1.alliance, NULL, NULL, &n), 0);
	assert_int_equal(n, 0);
	th_env_free(&n1);
	th_env_free(&offline);
	unlink(copy);
}

static void test_own__floor_rises_only_from_a_signed_record_past_the_head(void **state)
{
	struct th_fx *x = *state;
	struct th_feed f = x->f1;   /* the own feed, signed by the test as another copy would */
	struct th_env e2 = th_measure(&f, "two", "x", TH_NOW - 50);
	struct th_env e3 = th_measure(&f, "three", "x", TH_NOW - 40);
	struct th_env e4 = th_measure(&f, "four", "x", TH_NOW - 30);

	/* a claim whose signature fails raises nothing */
	struct th_env bad = { malloc(e4.len), e4.len, { 0 } };
	memcpy(bad.env, e4.env, e4.len);
	bad.env[bad.len - 1] ^= 1;
	assert_int_equal(ingest(x->s, &bad), PROTO_E_SIGNATURE);
	assert_int_equal(floor_of(x), 0);
	/* nor does a signed one while the store does not know it is ours */
	store_set_own_key(x->s, NULL);
	assert_int_equal(ingest(x->s, &e3), PROTO_E_SEQ);
	assert_int_equal(floor_of(x), 0);
	store_set_own_key(x->s, x->k1->pk);
	/* a signed record past the head does */
	assert_int_equal(ingest(x->s, &e3), PROTO_E_SEQ);
	assert_int_equal(floor_of(x), 3);
	assert_int_equal(ingest(x->s, &e4), PROTO_E_SEQ);
	assert_int_equal(floor_of(x), 4);
	assert_int_equal(ingest(x->s, &e3), PROTO_E_SEQ);
	assert_int_equal(floor_of(x), 4);   /* never lowered */
	assert_int_equal(publish(x, "refused", TH_NOW - 20, NULL, NULL), STORE_E_FORK);
	/* another author's record past its head raises no floor of ours */
	struct th_env other = th_measure(&x->f2, "x", "y", TH_NOW - 20);
	struct th_env other2 = th_measure(&x->f2, "x", "y", TH_NOW - 10);
	assert_int_equal(ingest(x->s, &other2), PROTO_E_SEQ);
	struct store_txn *t;
	uint64_t seq;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_floor_get(t, x->f1.alliance, x->k2->pk, &seq), 0);
	store_txn_end(t);
	assert_int_equal(seq, 0);
	/* the operator clears it */
	assert_int_equal(store_floor_clear(x->s, x->f1.alliance, x->k1->pk), 0);
	assert_int_equal(floor_of(x), 0);
	assert_int_equal(ingest(x->s, &e2), STORE_NEW);   /* and the feed is learned back */
	th_env_free(&e2);
	th_env_free(&e3);
	th_env_free(&e4);
	th_env_free(&bad);
	th_env_free(&other);
	th_env_free(&other2);
}

static void test_own__own_record_at_a_held_seq_is_a_conflict_not_fork_evidence(void **state)
{
	struct th_fx *x = *state;
	struct th_feed copy_feed = x->f1;   /* another copy of the own key */
	assert_int_equal(publish(x, "two", TH_NOW - 90, NULL, NULL), 0);
	assert_int_equal(publish(x, "three", TH_NOW - 80, NULL, NULL), 0);
	struct th_env c2 = th_measure(&copy_feed, "other two", "x", TH_NOW - 70);
	struct th_env c3 = th_measure(&copy_feed, "other three", "x", TH_NOW - 60);
	assert_int_equal(ingest(x->s, &c3), STORE_E_CONFLICT);
	assert_int_equal(conflict_of(x), 3);
	assert_int_equal(ingest(x->s, &c2), STORE_E_CONFLICT);
	assert_int_equal(conflict_of(x), 2);   /* the lowest */
	assert_int_equal(ingest(x->s, &c3), STORE_E_CONFLICT);
	assert_int_equal(conflict_of(x), 2);
	assert_int_equal(forks_of(x->s), 0);
	assert_int_equal(found(x->s, "other"), 0);
	/* another author's fork is evidence as before */
	struct th_feed f2b = x->f2;
	struct th_env a = th_measure(&x->f2, "a", "x", TH_NOW - 50);
	struct th_env b = th_measure(&f2b, "b", "x", TH_NOW - 50);
	assert_int_equal(ingest(x->s, &a), STORE_NEW);
	assert_int_equal(ingest(x->s, &b), STORE_FORKED);
	assert_int_equal(forks_of(x->s), 1);
	/* publish_batch is refused too */
	Agora__Record r = AGORA__RECORD__INIT, *rp = &r;
	Agora__Measure m = AGORA__MEASURE__INIT;
	m.title = "batch";
	m.language = "da";
	m.has_mitigation = m.mitigation = 1;
	r.body_case = AGORA__RECORD__BODY_MEASURE;
	r.measure = &m;
	struct proto_error err;
	assert_int_equal(store_publish_batch(x->s, x->k1, x->f1.alliance, &rp, 1, TH_NOW, NULL,
	                                     NULL, NULL, NULL, &err), STORE_E_CONFLICT);
	/* without an own key the store cannot withdraw */
	store_set_own_key(x->s, NULL);
	assert_int_equal(store_own_withdraw(x->s, x->f1.alliance, NULL, NULL, NULL), PROTO_E_ARG);
	th_env_free(&c2);
	th_env_free(&c3);
	th_env_free(&a);
	th_env_free(&b);
}

/* k1 publishes rec (a supersede or retract) and returns its id. */
static void publish_rec(struct th_fx *x, Agora__Record *r, uint64_t now, uint8_t id[32])
{
	struct proto_error err;
	assert_int_equal(store_publish(x->s, x->k1, x->f1.alliance, r, now, id, NULL, NULL, &err),
	                 0);
}

static void test_own__withdrawing_an_edit_and_a_withdrawal_restores_their_chains(void **state)
{
	struct th_fx *x = *state;
	char copy[4096];
	snprintf(copy, sizeof copy, "%s.backup", x->dir);
	struct th_env m1, m2, synced;
	assert_int_equal(publish(x, "wetlands", TH_NOW - 900, &m1, NULL), 0);
	assert_int_equal(publish(x, "heatpumps", TH_NOW - 890, &m2, NULL), 0);
	backup(x, copy, false);
	assert_int_equal(publish(x, "synced", TH_NOW - 800, &synced, NULL), 0);
	backup(x, copy, true);

	/* offline: edit m1 twice, withdraw m2 */
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Supersede sup = AGORA__SUPERSEDE__INIT;
	Agora__Measure m = AGORA__MEASURE__INIT;
	uint8_t s1[32], s2[32], rt[32];
	m.title = "marshes";
	m.language = "da";
	m.has_mitigation = m.mitigation = 1;
	sup.has_target = 1;
	sup.target.len = 32;
	sup.target.data = m1.id;
	sup.body_case = AGORA__SUPERSEDE__BODY_MEASURE;
	sup.measure = &m;
	r.body_case = AGORA__RECORD__BODY_SUPERSEDE;
	r.supersede = &sup;
	publish_rec(x, &r, TH_NOW - 700, s1);
	sup.target.data = s1;
	m.title = "bogs";
	publish_rec(x, &r, TH_NOW - 690, s2);
	Agora__Record rr = AGORA__RECORD__INIT;
	Agora__Retract ret = AGORA__RETRACT__INIT;
	ret.has_target = 1;
	ret.target.len = 32;
	ret.target.data = m2.id;
	rr.body_case = AGORA__RECORD__BODY_RETRACT;
	rr.retract = &ret;
	publish_rec(x, &rr, TH_NOW - 680, rt);
	assert_int_equal(found(x->s, "wetlands"), 0);
	assert_int_equal(found(x->s, "bogs"), 1);
	assert_int_equal(found(x->s, "heatpumps"), 0);

	assert_int_equal(ingest(x->s, &synced), STORE_E_CONFLICT);
	struct taken tk = { .n = 0 };
	assert_int_equal(store_own_withdraw(x->s, x->f1.alliance, take_cb, &tk, NULL), 0);
	assert_int_equal(tk.n, 3);
	assert_memory_equal(tk.id[0], s1, 32);
	assert_memory_equal(tk.id[1], s2, 32);
	assert_memory_equal(tk.id[2], rt, 32);

	/* m1 is current again, m2 is back, the edits and the withdrawal are gone */
	assert_int_equal(found(x->s, "wetlands"), 1);
	assert_int_equal(found(x->s, "heatpumps"), 1);
	assert_int_equal(found(x->s, "bogs"), 0);
	assert_int_equal(found(x->s, "marshes"), 0);
	struct store_txn *t;
	struct store_record rec;
	struct taken hist = { .n = 0 };
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_get(t, m1.id, &rec), 0);
	assert_false(rec.superseded);
	assert_memory_equal(rec.newest, m1.id, 32);
	assert_int_equal(store_get(t, m2.id, &rec), 0);
	assert_false(rec.retracted);
	assert_int_equal(store_history(t, m1.id, take_cb, &hist), 0);
	assert_int_equal(hist.n, 1);
	hist.n = 0;
	assert_int_equal(store_history(t, m2.id, take_cb, &hist), 0);
	assert_int_equal(hist.n, 1);   /* no retraction listed */
	store_txn_end(t);

	/* learned back, the edit published again applies as before */
	assert_int_equal(ingest(x->s, &synced), STORE_NEW);
	sup.target.data = m1.id;
	m.title = "marshes";
	publish_rec(x, &r, TH_NOW - 600, s1);
	assert_int_equal(found(x->s, "wetlands"), 0);
	assert_int_equal(found(x->s, "marshes"), 1);
	th_env_free(&m1);
	th_env_free(&m2);
	th_env_free(&synced);
	unlink(copy);
}

int main(void)
{
	if (proto_init() != 0)
		return 1;
#define T(f) cmocka_unit_test_setup_teardown(f, setup, th_fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_own__restored_behind_two_records_withdraws_and_publishes_at_n_plus_3),
		T(test_own__restored_behind_one_record_withdraws_and_publishes_at_n_plus_2),
		T(test_own__floor_rises_only_from_a_signed_record_past_the_head),
		T(test_own__own_record_at_a_held_seq_is_a_conflict_not_fork_evidence),
		T(test_own__withdrawing_an_edit_and_a_withdrawal_restores_their_chains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
