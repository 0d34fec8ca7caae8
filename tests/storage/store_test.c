/* store_test.c - agora_storage behaviour: ingest, feeds, forks, edits,
 * retractions, map growth, full text, lookups and publishing. */
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
#include "storage/meta_int.h"   /* a floor raised as ingest raises it */

/* th_fx, but the charter is not ingested: the tests ingest it themselves
 * (th_fx_teardown frees it). */
static int setup(void **state)
{
	struct th_fx *x = calloc(1, sizeof *x);
	x->dir = th_tmpdir();
	assert_int_equal(store_open(&x->s, x->dir, 0), 0);
	x->k1 = th_key(1);
	x->k2 = th_key(2);
	x->charter = th_charter(&x->f1, x->k1, "DK2020", TH_NOW - 100000);
	th_feed_init(&x->f2, x->k2, x->f1.alliance);
	*state = x;
	return 0;
}

static struct store_stats stats_of(struct store *s)
{
	struct store_txn *t;
	struct store_stats st;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_stats(t, &st), 0);
	store_txn_end(t);
	return st;
}

/* Collect query hits as ids. */
struct ids {
	uint8_t id[64][PROTO_ID_BYTES];
	double score[64];
	size_t n;
};

static int collect_hit(const struct store_hit *h, void *ctx)
{
	struct ids *ids = ctx;
	if (ids->n < 64) {
		memcpy(ids->id[ids->n], h->rec.id, PROTO_ID_BYTES);
		ids->score[ids->n] = h->score;
	}
	ids->n++;
	return 0;
}

static int collect_rec(const struct store_record *r, void *ctx)
{
	struct ids *ids = ctx;
	if (ids->n < 64)
		memcpy(ids->id[ids->n], r->id, PROTO_ID_BYTES);
	ids->n++;
	return 0;
}

static struct ids run_query(struct store *s, const struct store_query *q)
{
	struct ids ids = { .n = 0 };
	struct store_txn *t;
	assert_int_equal(store_txn_begin(s, &t), 0);
	int rc = store_query(t, q, collect_hit, &ids, NULL);
	assert_true(rc >= 0);
	assert_int_equal((size_t)rc, ids.n);
	store_txn_end(t);
	return ids;
}

static struct ids text_query(struct store *s, const char *text)
{
	struct store_query q = { .text = text };
	return run_query(s, &q);
}

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

/* ------------------------------------------------------ edits, retraction */

static struct th_env supersede_measure(struct th_feed *f, const uint8_t *target, const char *title,
                                       uint64_t ms)
{
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Supersede sup = AGORA__SUPERSEDE__INIT;
	Agora__Measure m = AGORA__MEASURE__INIT;
	m.title = (char *)title;
	m.language = "da";
	m.has_mitigation = 1;
	m.mitigation = 1;
	sup.has_target = 1;
	sup.target.len = PROTO_ID_BYTES;
	sup.target.data = (uint8_t *)target;
	sup.body_case = AGORA__SUPERSEDE__BODY_MEASURE;
	sup.measure = &m;
	r.body_case = AGORA__RECORD__BODY_SUPERSEDE;
	r.supersede = &sup;
	return th_sign(f, &r, ms);
}

static struct th_env retract(struct th_feed *f, const uint8_t *target, uint64_t ms)
{
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Retract re = AGORA__RETRACT__INIT;
	re.has_target = 1;
	re.target.len = PROTO_ID_BYTES;
	re.target.data = (uint8_t *)target;
	re.reason = "published by mistake";
	r.body_case = AGORA__RECORD__BODY_RETRACT;
	r.retract = &re;
	return th_sign(f, &r, ms);
}

static void test_store_supersede__hides_old_version_history_shows_both(void **state)
{
	struct th_fx *x = *state;
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	struct th_env m = th_measure(&x->f1, "Heat pumps draft", NULL, TH_NOW - 10);
	struct th_env s = supersede_measure(&x->f1, m.id, "Heat pumps final", TH_NOW - 5);
	assert_int_equal(th_ingest1(x->s, &m), STORE_NEW);
	assert_int_equal(th_ingest1(x->s, &s), STORE_NEW);

	struct store_query q = { .kind = PROTO_KIND_MEASURE };
	struct ids hits = run_query(x->s, &q);
	assert_int_equal(hits.n, 1);
	assert_memory_equal(hits.id[0], s.id, PROTO_ID_BYTES);
	q.history = true;
	assert_int_equal(run_query(x->s, &q).n, 2);
	assert_int_equal(text_query(x->s, "draft").n, 0);
	assert_int_equal(text_query(x->s, "final").n, 1);

	struct store_txn *t;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	struct store_record r;
	assert_int_equal(store_get(t, m.id, &r), 0);
	assert_true(r.superseded);
	assert_memory_equal(r.newest, s.id, PROTO_ID_BYTES);
	struct ids h = { .n = 0 };
	assert_int_equal(store_history(t, s.id, collect_rec, &h), 0);
	assert_int_equal(h.n, 2);
	assert_memory_equal(h.id[0], m.id, PROTO_ID_BYTES);
	assert_memory_equal(h.id[1], s.id, PROTO_ID_BYTES);
	store_txn_end(t);
	th_env_free(&m);
	th_env_free(&s);
}

static void test_store_supersede__of_another_authors_record_is_rejected(void **state)
{
	struct th_fx *x = *state;
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	struct th_env m = th_measure(&x->f1, "Mine", NULL, TH_NOW - 10);
	assert_int_equal(th_ingest1(x->s, &m), STORE_NEW);
	struct th_env s = supersede_measure(&x->f2, m.id, "Not yours", TH_NOW - 5);
	assert_int_equal(th_ingest1(x->s, &s), STORE_E_TARGET);
	/* unknown target */
	uint8_t nothing[PROTO_ID_BYTES] = { 1, 2, 3 };
	struct th_feed f2b;
	th_feed_init(&f2b, x->k2, x->f1.alliance);
	struct th_env u = supersede_measure(&f2b, nothing, "Ghost", TH_NOW - 4);
	assert_int_equal(th_ingest1(x->s, &u), STORE_E_TARGET);
	th_env_free(&m);
	th_env_free(&s);
	th_env_free(&u);
}

static void test_store_supersede__of_other_kind_is_rejected(void **state)
{
	struct th_fx *x = *state;
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	struct th_env m = th_measure(&x->f1, "Measure", NULL, TH_NOW - 10);
	assert_int_equal(th_ingest1(x->s, &m), STORE_NEW);
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Supersede sup = AGORA__SUPERSEDE__INIT;
	Agora__Lesson l = AGORA__LESSON__INIT;
	l.title = "A lesson";
	l.language = "da";
	sup.has_target = 1;
	sup.target.len = PROTO_ID_BYTES;
	sup.target.data = m.id;
	sup.body_case = AGORA__SUPERSEDE__BODY_LESSON;
	sup.lesson = &l;
	r.body_case = AGORA__RECORD__BODY_SUPERSEDE;
	r.supersede = &sup;
	struct th_env s = th_sign(&x->f1, &r, TH_NOW - 5);
	assert_int_equal(th_ingest1(x->s, &s), STORE_E_TARGET);
	th_env_free(&m);
	th_env_free(&s);
}

static void test_store_retract__hides_every_version_and_old_record_never_returns(void **state)
{
	struct th_fx *x = *state;
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	struct th_env m = th_measure(&x->f1, "Wetland plan", NULL, TH_NOW - 10);
	struct th_env s = supersede_measure(&x->f1, m.id, "Wetland plan v2", TH_NOW - 8);
	struct th_env r = retract(&x->f1, m.id, TH_NOW - 6);
	struct store_item items[3] = { { m.env, m.len }, { s.env, s.len }, { r.env, r.len } };
	int status[3];
	assert_int_equal(store_ingest(x->s, items, 3, STORE_INGEST_ATOMIC, TH_NOW, status, NULL,
	                              NULL), 0);
	struct store_query q = { .text = "wetland", .history = true };
	assert_int_equal(run_query(x->s, &q).n, 0);
	struct store_query all = { .kind = PROTO_KIND_MEASURE, .history = true };
	assert_int_equal(run_query(x->s, &all).n, 0);
	struct store_query rq = { .kind = PROTO_KIND_RETRACT };
	assert_int_equal(run_query(x->s, &rq).n, 1);

	struct store_txn *t;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	struct ids h = { .n = 0 };
	assert_int_equal(store_history(t, m.id, collect_rec, &h), 0);
	assert_int_equal(h.n, 3);
	assert_memory_equal(h.id[2], r.id, PROTO_ID_BYTES);
	struct store_record rec;
	assert_int_equal(store_get(t, m.id, &rec), 0);
	assert_true(rec.retracted);
	assert_int_equal(store_get(t, s.id, &rec), 0);
	assert_true(rec.retracted);
	store_txn_end(t);

	/* a peer that was offline sends the original again */
	assert_int_equal(th_ingest1(x->s, &m), STORE_KNOWN);
	assert_int_equal(run_query(x->s, &all).n, 0);
	store_close(x->s);
	assert_int_equal(store_open(&x->s, x->dir, 0), 0);
	assert_int_equal(th_ingest1(x->s, &m), STORE_KNOWN);
	assert_int_equal(run_query(x->s, &all).n, 0);
	th_env_free(&m);
	th_env_free(&s);
	th_env_free(&r);
}

/* ------------------------------------------------------------ map growth */

static void test_store_map__grows_past_a_tiny_initial_map(void **state)
{
	struct th_fx *x = *state;
	store_close(x->s);
	th_rmdir(x->dir);
	x->dir = th_tmpdir();
	setenv("AGORA_STORE_MAPSIZE", "262144", 1);
	int rc = store_open(&x->s, x->dir, 0);
	unsetenv("AGORA_STORE_MAPSIZE");
	assert_int_equal(rc, 0);
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	uint64_t first_map = stats_of(x->s).map_size;

	enum { N = 1500, B = 100 };
	static char text[1200];
	for (size_t i = 0; i < sizeof text - 1; i++)
		text[i] = "abcdefghij klmnopqrstuvwxyz "[(i * 7 + i / 13) % 28];
	uint8_t (*ids)[PROTO_ID_BYTES] = malloc(N * PROTO_ID_BYTES);
	for (int b = 0; b < N / B; b++) {
		struct th_env e[B];
		struct store_item items[B];
		int status[B];
		for (int i = 0; i < B; i++) {
			char title[32];
			snprintf(title, sizeof title, "Measure %d", b * B + i);
			e[i] = th_measure(&x->f1, title, text, TH_NOW - 100000 + b * B + i);
			items[i] = (struct store_item){ e[i].env, e[i].len };
			memcpy(ids[b * B + i], e[i].id, PROTO_ID_BYTES);
		}
		assert_int_equal(store_ingest(x->s, items, B, 0, TH_NOW, status, NULL, NULL), 0);
		for (int i = 0; i < B; i++) {
			assert_int_equal(status[i], STORE_NEW);
			th_env_free(&e[i]);
		}
	}
	struct store_stats st = stats_of(x->s);
	assert_int_equal(st.records, N + 1);
	assert_true(st.map_size > first_map);
	assert_true(st.map_used <= st.map_size);

	/* id prefixes: unique, ambiguous and malformed */
	struct store_txn *t;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	char hex[PROTO_ID_HEX + 1];
	uint8_t got[PROTO_ID_BYTES];
	proto_hex(hex, ids[7], PROTO_ID_BYTES);
	assert_int_equal(store_resolve(t, hex, got), 0);
	assert_memory_equal(got, ids[7], PROTO_ID_BYTES);
	hex[12] = 0;
	assert_int_equal(store_resolve(t, hex, got), 0);
	assert_memory_equal(got, ids[7], PROTO_ID_BYTES);
	assert_int_equal(store_resolve(t, "abc", got), PROTO_E_ARG);
	assert_int_equal(store_resolve(t, "zzzz", got), PROTO_E_ARG);
	/* with 1500 ids some 2-hex-digit... find two sharing 4 hex digits */
	bool found = false;
	for (int i = 0; i < N && !found; i++)
		for (int j = i + 1; j < N && !found; j++)
			if (ids[i][0] == ids[j][0] && ids[i][1] == ids[j][1]) {
				proto_hex(hex, ids[i], 2);
				assert_int_equal(store_resolve(t, hex, got), STORE_E_AMBIGUOUS);
				found = true;
			}
	uint8_t none[PROTO_ID_BYTES];
	memset(none, 0, sizeof none);
	none[0] = ids[0][0] ^ 0x80;
	proto_hex(hex, none, PROTO_ID_BYTES);
	assert_int_equal(store_resolve(t, hex, got), STORE_E_NOTFOUND);
	store_txn_end(t);
	free(ids);
}

/* ------------------------------------------------------------ full text */

static void test_store_text__danish_and_polish_fold_across_case_form_and_marks(void **state)
{
	struct th_fx *x = *state;
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	struct th_env a = th_measure(&x->f1, "Vådområde ved Assens Å", NULL, TH_NOW - 10);
	struct th_env b = th_measure(&x->f1, "NY ŁĄKA KWIETNA", NULL, TH_NOW - 9);
	/* decomposed: a + COMBINING RING ABOVE */
	struct th_env c = th_measure(&x->f1, "Va\xcc\x8a" "domra\xcc\x8a" "de i byen", NULL, TH_NOW - 8);
	struct th_env d = th_measure(&x->f1, "Vadomrade without marks", NULL, TH_NOW - 7);
	assert_int_equal(th_ingest1(x->s, &a), STORE_NEW);
	assert_int_equal(th_ingest1(x->s, &b), STORE_NEW);
	assert_int_equal(th_ingest1(x->s, &c), STORE_NEW);
	assert_int_equal(th_ingest1(x->s, &d), STORE_NEW);

	/* case, composition and marks do not count (store_text_fold) */
	const char *forms[] = { "vådområde", "VÅDOMRÅDE", "Vådområde", "va\xcc\x8a" "domra\xcc\x8a" "de",
	                        "vadomrade", "VADOMRADE" };
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		struct ids h = text_query(x->s, forms[i]);
		assert_int_equal(h.n, 3);
		/* newest first: d, c, a */
		assert_memory_equal(h.id[0], d.id, PROTO_ID_BYTES);
		assert_memory_equal(h.id[1], c.id, PROTO_ID_BYTES);
		assert_memory_equal(h.id[2], a.id, PROTO_ID_BYTES);
	}
	assert_int_equal(text_query(x->s, "łąka").n, 1);
	assert_int_equal(text_query(x->s, "laka").n, 1);
	assert_int_equal(text_query(x->s, "Łąka kwietna").n, 1);
	assert_int_equal(text_query(x->s, "łąka assens").n, 0);   /* words AND */
	assert_int_equal(text_query(x->s, "å").n, 1);
	th_env_free(&a);
	th_env_free(&b);
	th_env_free(&c);
	th_env_free(&d);
}

static int word_cb(const char *w, size_t len, void *ctx)
{
	char *out = ctx;
	strcat(out, w);
	strcat(out, "|");
	assert_int_equal(strlen(w), len);
	return 0;
}

static void test_store_text__words_are_folded_letters_and_digits(void **state)
{
	(void)state;
	char out[256] = "";
	const char *t = "Straße 2030: CO₂-reduktion, ŁĄKA & ﬁre!";
	assert_int_equal(store_text_words(t, strlen(t), word_cb, out), 0);
	assert_string_equal(out, "strasse|2030|co2|reduktion|laka|fire|");
}

static void test_store_text__bm25_ranks_more_occurrences_higher(void **state)
{
	struct th_fx *x = *state;
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	struct th_env many = th_measure(&x->f1, "Wetland", "wetland wetland restoration park",
	                                TH_NOW - 20);
	struct th_env one = th_measure(&x->f1, "Park", "wetland next to a river and a park",
	                               TH_NOW - 10);
	struct th_env none = th_measure(&x->f1, "Cycling", "bike lanes", TH_NOW - 5);
	assert_int_equal(th_ingest1(x->s, &many), STORE_NEW);
	assert_int_equal(th_ingest1(x->s, &one), STORE_NEW);
	assert_int_equal(th_ingest1(x->s, &none), STORE_NEW);
	struct store_query q = { .text = "wetland", .sort = STORE_SORT_RELEVANCE };
	struct ids h = run_query(x->s, &q);
	assert_int_equal(h.n, 2);
	assert_memory_equal(h.id[0], many.id, PROTO_ID_BYTES);
	assert_memory_equal(h.id[1], one.id, PROTO_ID_BYTES);
	assert_true(h.score[0] > h.score[1]);
	assert_true(h.score[1] > 0);
	q.sort = STORE_SORT_NEWEST;
	h = run_query(x->s, &q);
	assert_memory_equal(h.id[0], one.id, PROTO_ID_BYTES);
	th_env_free(&many);
	th_env_free(&one);
	th_env_free(&none);
}

/* --------------------------------------------------------------- publish */

static int patch_ref(Agora__Record *rec, size_t i, const uint8_t (*ids)[PROTO_ID_BYTES], void *ctx)
{
	(void)ctx;
	if (i == 1) {
		rec->result->measure.data = (uint8_t *)ids[0];
		rec->result->measure.len = PROTO_ID_BYTES;
		rec->result->has_measure = 1;
	}
	return 0;
}

/* Raise a floor the way ingest does, inside a write (no public setter). */
struct floor_ctx {
	struct store *s;
	const uint8_t *alliance, *author;
	uint64_t seq;
};

static int floor_raise_cb(MDB_txn *txn, void *arg)
{
	struct floor_ctx *c = arg;
	return store_meta_floor_raise(txn, c->s, c->alliance, c->author, c->seq);
}

static void test_store_publish__chains_feed_and_batch_patches_references(void **state)
{
	struct th_fx *x = *state;
	Agora__Record cr = AGORA__RECORD__INIT;
	Agora__Charter ch = AGORA__CHARTER__INIT;
	ProtobufCBinaryData coord = { PROTO_KEY_BYTES, x->k1->pk };
	ch.name = "Twin cities";
	ch.n_coordinators = 1;
	ch.coordinators = &coord;
	ch.has_policy = 1;
	ch.policy = AGORA__ADMISSION_POLICY__ADMISSION_POLICY_ANY_COORDINATOR;
	cr.body_case = AGORA__RECORD__BODY_CHARTER;
	cr.charter = &ch;
	uint8_t alliance[PROTO_ID_BYTES];
	uint8_t *env = NULL;
	size_t len = 0;
	struct proto_error err;
	assert_int_equal(store_publish(x->s, x->k1, NULL, &cr, TH_NOW, alliance, &env, &len, &err), 0);
	uint8_t id[PROTO_ID_BYTES];
	proto_record_id(id, env, len);
	assert_memory_equal(id, alliance, PROTO_ID_BYTES);
	assert_false(cr.has_seq);   /* the caller's record is left as it was */
	free(env);

	Agora__Record mr = AGORA__RECORD__INIT;
	Agora__Measure m = AGORA__MEASURE__INIT;
	m.title = "Fjernvarme";
	m.language = "da";
	m.has_mitigation = m.mitigation = 1;
	mr.body_case = AGORA__RECORD__BODY_MEASURE;
	mr.measure = &m;
	Agora__Record rr = AGORA__RECORD__INIT;
	Agora__Result res = AGORA__RESULT__INIT;
	res.has_year = 1;
	res.year = 2024;
	res.indicator = "heat delivered";
	res.has_value = 1;
	res.value = 12.5;
	res.unit = "GWh";
	rr.body_case = AGORA__RECORD__BODY_RESULT;
	rr.result = &res;
	Agora__Record *batch[2] = { &mr, &rr };
	uint8_t ids[2][PROTO_ID_BYTES];
	size_t failed = 99;
	assert_int_equal(store_publish_batch(x->s, x->k1, alliance, batch, 2, TH_NOW + 1, patch_ref,
	                                     NULL, ids, &failed, &err), 0);
	struct store_txn *t;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	uint64_t seq;
	uint8_t head[PROTO_ID_BYTES];
	assert_int_equal(store_feed_head(t, alliance, x->k1->pk, &seq, head), 0);
	assert_int_equal(seq, 3);
	assert_memory_equal(head, ids[1], PROTO_ID_BYTES);
	struct ids rel = { .n = 0 };
	assert_int_equal(store_related(t, ids[0], collect_rec, &rel), 0);
	assert_int_equal(rel.n, 1);
	assert_memory_equal(rel.id[0], ids[1], PROTO_ID_BYTES);
	store_txn_end(t);
	struct store_query q = { .measure = ids[0] };
	assert_int_equal(run_query(x->s, &q).n, 1);

	/* a failing record rolls back the whole batch */
	res.indicator = NULL;   /* required */
	res.measure.data = ids[0];
	assert_int_equal(store_publish_batch(x->s, x->k1, alliance, batch, 2, TH_NOW + 2, NULL,
	                                     NULL, NULL, &failed, &err),
	                 PROTO_E_FIELD);
	assert_int_equal(failed, 1);
	assert_true(strstr(err.field, "indicator") != NULL);
	assert_int_equal(stats_of(x->s).records, 3);

	/* a floor refuses to publish under a seq known to exist elsewhere */
	struct floor_ctx fc = { x->s, alliance, x->k1->pk, 5 };
	assert_int_equal(store_write(x->s, floor_raise_cb, &fc), 0);
	assert_int_equal(store_publish(x->s, x->k1, alliance, &mr, TH_NOW + 3, NULL, NULL, NULL,
	                               &err), STORE_E_FORK);
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
		T(test_store_supersede__hides_old_version_history_shows_both),
		T(test_store_supersede__of_another_authors_record_is_rejected),
		T(test_store_supersede__of_other_kind_is_rejected),
		T(test_store_retract__hides_every_version_and_old_record_never_returns),
		T(test_store_map__grows_past_a_tiny_initial_map),
		T(test_store_text__danish_and_polish_fold_across_case_form_and_marks),
		T(test_store_text__words_are_folded_letters_and_digits),
		T(test_store_text__bm25_ranks_more_occurrences_higher),
		T(test_store_publish__chains_feed_and_batch_patches_references),
		T(test_store_open__readonly_refuses_writes),
#undef T
	};
	return cmocka_run_group_tests_name("storage", tests, NULL, NULL);
}
