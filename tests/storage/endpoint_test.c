/*
 * endpoint_test.c - where a member is reached (store_endpoint_get: the
 * newest Endpoint, gone once withdrawn, retracted or revoked, never the one
 * before it) and the records `agora join` signs before its store holds the
 * alliance (store_pending_put/list/ingest: kept while the charter or the
 * admission is missing, stored in order once they are there, dropped when
 * refused for good or already in the feed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <lmdb.h>

#include "helper.h"

#define K_C 61      /* the coordinator */
#define K_M 62      /* a municipality */
#define K_O 63      /* an observer */

struct fx {
	char *dir;
	struct store *s;
	struct proto_key *c, *m, *o;
	struct th_feed fc, fm, fo;
	struct th_env charter;
	uint8_t alliance[PROTO_ID_BYTES];
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof *x);
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Charter c = AGORA__CHARTER__INIT;
	x->dir = th_tmpdir();
	assert_int_equal(store_open(&x->s, x->dir, 0), 0);
	x->c = th_key(K_C);
	x->m = th_key(K_M);
	x->o = th_key(K_O);
	ProtobufCBinaryData co = { 32, x->c->pk };
	c.name = "DK2020";
	c.n_coordinators = 1;
	c.coordinators = &co;
	c.has_policy = 1;
	c.policy = AGORA__ADMISSION_POLICY__ADMISSION_POLICY_ANY_COORDINATOR;
	r.body_case = AGORA__RECORD__BODY_CHARTER;
	r.charter = &c;
	x->fc.key = x->c;
	x->charter = th_sign(&x->fc, &r, TH_NOW - 100000);
	memcpy(x->alliance, x->fc.alliance, PROTO_ID_BYTES);
	th_feed_init(&x->fm, x->m, x->alliance);
	th_feed_init(&x->fo, x->o, x->alliance);
	*state = x;
	return 0;
}

/* setup, with the charter stored */
static int setup_held(void **state)
{
	setup(state);
	struct fx *x = *state;
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	store_close(x->s);
	th_rmdir(x->dir);
	th_env_free(&x->charter);
	proto_key_free(x->c);
	proto_key_free(x->m);
	proto_key_free(x->o);
	free(x);
	return 0;
}

static int ingest(struct fx *x, struct th_env *e)
{
	int st = th_ingest1(x->s, e);
	th_env_free(e);
	return st;
}

static struct th_env admission(struct fx *x, const uint8_t *key, int role, uint64_t ts)
{
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Admission a = AGORA__ADMISSION__INIT;
	a.has_member = 1;
	a.member.len = 32;
	a.member.data = (uint8_t *)key;
	a.name = "Vejle Kommune";
	a.country = "DK";
	a.has_role = 1;
	a.role = role;
	r.body_case = AGORA__RECORD__BODY_ADMISSION;
	r.admission = &a;
	return th_sign(&x->fc, &r, ts);
}

static int admit(struct fx *x, const uint8_t *key, int role)
{
	struct th_env e = admission(x, key, role, TH_NOW - 90000);
	return ingest(x, &e);
}

static int revoke(struct fx *x, const uint8_t *key, uint64_t last)
{
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Revocation v = AGORA__REVOCATION__INIT;
	v.has_member = 1;
	v.member.len = 32;
	v.member.data = (uint8_t *)key;
	v.has_last_seq = 1;
	v.last_seq = last;
	v.reason = "stolen laptop";
	r.body_case = AGORA__RECORD__BODY_REVOCATION;
	r.revocation = &v;
	struct th_env e = th_sign(&x->fc, &r, TH_NOW - 1000);
	return ingest(x, &e);
}

/* An Endpoint as the next record of f: n addresses, or dial-out only. */
static struct th_env endpoint(struct th_feed *f, const char *const *addr, size_t n,
                              uint64_t ts)
{
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Endpoint e = AGORA__ENDPOINT__INIT;
	e.n_addresses = n;
	e.addresses = (char **)addr;
	e.has_dial_out_only = n == 0;
	e.dial_out_only = n == 0;
	r.body_case = AGORA__RECORD__BODY_ENDPOINT;
	r.endpoint = &e;
	return th_sign(f, &r, ts);
}

static struct th_env profile(struct th_feed *f, uint64_t ts)
{
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Profile p = AGORA__PROFILE__INIT;
	p.name = "Vejle Kommune";
	p.country = "DK";
	r.body_case = AGORA__RECORD__BODY_PROFILE;
	r.profile = &p;
	return th_sign(f, &r, ts);
}

static int get(struct fx *x, const uint8_t *author, struct store_endpoint *out)
{
	struct store_txn *t;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	int rc = store_endpoint_get(t, x->alliance, author, out);
	store_txn_end(t);
	return rc;
}

static int count_cb(const struct store_hit *h, void *ctx)
{
	(void)h;
	++*(int *)ctx;
	return 0;
}

/* Records a default query of the alliance shows. */
static int shown(struct fx *x)
{
	struct store_txn *t;
	struct store_query q = { 0 };
	int n = 0;
	q.alliance = x->alliance;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_true(store_query(t, &q, count_cb, &n, NULL) >= 0);
	store_txn_end(t);
	return n;
}

static const char *const A1[] = { "vejle.example:7400", "[2001:db8::1]:7400" };
static const char *const A2[] = { "192.0.2.7:7401" };

/* ------------------------------------------------------------- endpoints */

static void test_endpoint__newest_one_of_the_author_is_answered(void **state)
{
	struct fx *x = *state;
	struct store_endpoint ep;
	assert_int_equal(admit(x, x->m->pk, AGORA__ROLE__ROLE_MEMBER), STORE_NEW);
	assert_int_equal(get(x, x->m->pk, &ep), STORE_E_NOTFOUND);

	struct th_env e1 = endpoint(&x->fm, A1, 2, TH_NOW - 5000);
	assert_int_equal(ingest(x, &e1), STORE_NEW);
	assert_int_equal(get(x, x->m->pk, &ep), 0);
	assert_int_equal(ep.n, 2);
	assert_string_equal(ep.addr[0], "vejle.example:7400");
	assert_string_equal(ep.addr[1], "[2001:db8::1]:7400");
	assert_false(ep.dial_out_only);
	assert_int_equal(ep.seq, 1);

	struct th_env p = profile(&x->fm, TH_NOW - 4000);
	assert_int_equal(ingest(x, &p), STORE_NEW);
	struct th_env e2 = endpoint(&x->fm, A2, 1, TH_NOW - 3000);
	uint8_t id2[PROTO_ID_BYTES];
	memcpy(id2, e2.id, sizeof id2);
	assert_int_equal(ingest(x, &e2), STORE_NEW);
	assert_int_equal(get(x, x->m->pk, &ep), 0);
	assert_int_equal(ep.n, 1);
	assert_string_equal(ep.addr[0], "192.0.2.7:7401");
	assert_int_equal(ep.seq, 3);
	assert_memory_equal(ep.id, id2, PROTO_ID_BYTES);

	/* the coordinator published none; nor did anyone in another alliance */
	assert_int_equal(get(x, x->c->pk, &ep), STORE_E_NOTFOUND);
	uint8_t other[PROTO_ID_BYTES] = { 1 };
	struct store_txn *t;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_endpoint_get(t, other, x->m->pk, &ep), STORE_E_NOTFOUND);
	assert_int_equal(store_endpoint_get(t, x->alliance, x->m->pk, NULL), PROTO_E_ARG);
	store_txn_end(t);
	/* Endpoints are not shown by a default query; the Profile is */
	assert_int_equal(shown(x), 1);
}

struct each_q {
	uint8_t seen[4][32];
	int n, stop_at;
};

static int each_cb(void *ctx, const uint8_t author[32])
{
	struct each_q *q = ctx;
	if (q->n < 4)
		memcpy(q->seen[q->n], author, 32);
	return ++q->n == q->stop_at ? 42 : 0;
}

/* store_endpoint_each walks the authors with an Endpoint in one alliance,
 * in key order: not the members without one, not other alliances. */
static void test_endpoint__each_lists_the_authors_with_an_endpoint_in_key_order(void **state)
{
	struct fx *x = *state;
	struct store_txn *t;
	struct each_q q = { .n = 0 };
	uint8_t other[PROTO_ID_BYTES] = { 1 };
	assert_int_equal(admit(x, x->m->pk, AGORA__ROLE__ROLE_MEMBER), STORE_NEW);
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_endpoint_each(t, x->alliance, each_cb, &q), 0);
	store_txn_end(t);
	assert_int_equal(q.n, 0);

	struct th_env e1 = endpoint(&x->fm, A1, 2, TH_NOW - 5000);
	assert_int_equal(ingest(x, &e1), STORE_NEW);
	struct th_env e2 = endpoint(&x->fc, A2, 1, TH_NOW - 4000);
	assert_int_equal(ingest(x, &e2), STORE_NEW);
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_endpoint_each(t, x->alliance, each_cb, &q), 0);
	assert_int_equal(q.n, 2);
	const uint8_t *lo = memcmp(x->m->pk, x->c->pk, 32) < 0 ? x->m->pk : x->c->pk;
	const uint8_t *hi = lo == x->m->pk ? x->c->pk : x->m->pk;
	assert_memory_equal(q.seen[0], lo, 32);
	assert_memory_equal(q.seen[1], hi, 32);
	q.n = 0;
	assert_int_equal(store_endpoint_each(t, other, each_cb, &q), 0);
	assert_int_equal(q.n, 0);
	q.stop_at = 1;
	assert_int_equal(store_endpoint_each(t, x->alliance, each_cb, &q), 42);
	assert_int_equal(q.n, 1);
	assert_int_equal(store_endpoint_each(t, x->alliance, NULL, &q), PROTO_E_ARG);
	store_txn_end(t);
}

static void test_endpoint__dial_out_only_has_no_address(void **state)
{
	struct fx *x = *state;
	struct store_endpoint ep;
	assert_int_equal(admit(x, x->m->pk, AGORA__ROLE__ROLE_MEMBER), STORE_NEW);
	struct th_env e1 = endpoint(&x->fm, A1, 2, TH_NOW - 5000);
	assert_int_equal(ingest(x, &e1), STORE_NEW);
	struct th_env e2 = endpoint(&x->fm, NULL, 0, TH_NOW - 4000);
	assert_int_equal(ingest(x, &e2), STORE_NEW);
	assert_int_equal(get(x, x->m->pk, &ep), 0);
	assert_true(ep.dial_out_only);
	assert_int_equal(ep.n, 0);
	assert_int_equal(ep.seq, 2);
}

static void test_endpoint__retracted_newest_is_gone_and_the_older_does_not_come_back(void **state)
{
	struct fx *x = *state;
	struct store_endpoint ep;
	assert_int_equal(admit(x, x->m->pk, AGORA__ROLE__ROLE_MEMBER), STORE_NEW);
	struct th_env e1 = endpoint(&x->fm, A1, 2, TH_NOW - 5000);
	assert_int_equal(ingest(x, &e1), STORE_NEW);
	struct th_env e2 = endpoint(&x->fm, A2, 1, TH_NOW - 4000);
	uint8_t id2[PROTO_ID_BYTES];
	memcpy(id2, e2.id, sizeof id2);
	assert_int_equal(ingest(x, &e2), STORE_NEW);

	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Retract rt = AGORA__RETRACT__INIT;
	rt.has_target = 1;
	rt.target.len = PROTO_ID_BYTES;
	rt.target.data = id2;
	r.body_case = AGORA__RECORD__BODY_RETRACT;
	r.retract = &rt;
	struct th_env re = th_sign(&x->fm, &r, TH_NOW - 3000);
	assert_int_equal(ingest(x, &re), STORE_NEW);
	assert_int_equal(get(x, x->m->pk, &ep), STORE_E_NOTFOUND);
}

static void test_endpoint__revoked_author_is_not_dialable(void **state)
{
	struct fx *x = *state;
	struct store_endpoint ep;
	assert_int_equal(admit(x, x->m->pk, AGORA__ROLE__ROLE_MEMBER), STORE_NEW);
	struct th_env p = profile(&x->fm, TH_NOW - 6000);
	assert_int_equal(ingest(x, &p), STORE_NEW);
	struct th_env e1 = endpoint(&x->fm, A1, 2, TH_NOW - 5000);
	assert_int_equal(ingest(x, &e1), STORE_NEW);
	assert_int_equal(get(x, x->m->pk, &ep), 0);
	/* revoked after its Profile: the Endpoint (seq 2) is past the revocation */
	assert_int_equal(revoke(x, x->m->pk, 1), STORE_NEW);
	assert_int_equal(get(x, x->m->pk, &ep), STORE_E_NOTFOUND);
	/* nor can it publish a new one */
	struct th_env e2 = endpoint(&x->fm, A2, 1, TH_NOW - 500);
	assert_int_not_equal(ingest(x, &e2), STORE_NEW);
	assert_int_equal(get(x, x->m->pk, &ep), STORE_E_NOTFOUND);
}

/* The rule version-1 nodes apply to a kind they do not know (PROTOCOL.md
 * 7.4): were it stored here and refused there, the observer's feed would
 * stop at older nodes. */
static void test_endpoint__observer_endpoint_is_refused_as_older_nodes_refuse_it(void **state)
{
	struct fx *x = *state;
	struct store_endpoint ep;
	assert_int_equal(admit(x, x->o->pk, AGORA__ROLE__ROLE_OBSERVER), STORE_NEW);
	struct th_env e1 = endpoint(&x->fo, A2, 1, TH_NOW - 5000);
	assert_int_equal(ingest(x, &e1), STORE_E_ROLE);
	assert_int_equal(get(x, x->o->pk, &ep), STORE_E_NOTFOUND);
}

static void test_endpoint__outsider_endpoint_is_refused(void **state)
{
	struct fx *x = *state;
	struct store_endpoint ep;
	struct th_env e1 = endpoint(&x->fm, A1, 2, TH_NOW - 5000);
	assert_int_equal(ingest(x, &e1), STORE_E_NOT_MEMBER);
	assert_int_equal(get(x, x->m->pk, &ep), STORE_E_NOTFOUND);
}

static void test_endpoint__index_is_built_on_open_when_missing(void **state)
{
	struct fx *x = *state;
	struct store_endpoint ep;
	assert_int_equal(admit(x, x->m->pk, AGORA__ROLE__ROLE_MEMBER), STORE_NEW);
	struct th_env e1 = endpoint(&x->fm, A1, 2, TH_NOW - 5000);
	assert_int_equal(ingest(x, &e1), STORE_NEW);
	struct th_env e2 = endpoint(&x->fm, A2, 1, TH_NOW - 4000);
	assert_int_equal(ingest(x, &e2), STORE_NEW);
	store_close(x->s);
	x->s = NULL;

	/* a store written before endp existed: drop the DBI */
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi d;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_set_mapsize(env, 1 << 26), 0);
	assert_int_equal(mdb_env_open(env, x->dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "endp", 0, &d), 0);
	assert_int_equal(mdb_drop(txn, d, 1), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	/* read-only first: no index yet, nothing found */
	assert_int_equal(store_open(&x->s, x->dir, STORE_OPEN_READONLY), 0);
	assert_int_equal(get(x, x->m->pk, &ep), STORE_E_NOTFOUND);
	store_close(x->s);
	assert_int_equal(store_open(&x->s, x->dir, 0), 0);
	assert_int_equal(get(x, x->m->pk, &ep), 0);
	assert_int_equal(ep.seq, 2);
	assert_string_equal(ep.addr[0], "192.0.2.7:7401");
}

/* --------------------------------------------------------------- pending */

struct seen {
	uint64_t seq[8];
	size_t n;
};

static int seen_cb(const uint8_t alliance[PROTO_ID_BYTES], uint64_t seq, const uint8_t *env,
                   size_t len, void *ctx)
{
	struct seen *s = ctx;
	(void)alliance, (void)env, (void)len;
	if (s->n < 8)
		s->seq[s->n] = seq;
	s->n++;
	return 0;
}

static size_t pending(struct fx *x, struct seen *out)
{
	struct store_txn *t;
	struct seen s = { { 0 }, 0 };
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_pending_list(t, x->alliance, seen_cb, &s), 0);
	store_txn_end(t);
	if (out)
		*out = s;
	return s.n;
}

/* The joiner's Profile (seq 1) and Endpoint (seq 2), kept as pending. */
static void join_records(struct fx *x)
{
	struct th_env p = profile(&x->fm, TH_NOW - 2000);
	struct th_env e = endpoint(&x->fm, A2, 1, TH_NOW - 2000);
	struct store_item it[2] = { { p.env, p.len }, { e.env, e.len } };
	assert_int_equal(store_pending_put(x->s, x->alliance, it, 2), 0);
	th_env_free(&p);
	th_env_free(&e);
}

static void test_pending__kept_until_charter_and_admission_then_stored(void **state)
{
	struct fx *x = *state;
	struct store_endpoint ep;
	struct seen sn;
	size_t stored = 99;
	store_set_own_key(x->s, x->m->pk);
	join_records(x);
	assert_int_equal(pending(x, &sn), 2);
	assert_int_equal(sn.seq[0], 1);
	assert_int_equal(sn.seq[1], 2);

	/* no charter yet */
	assert_int_equal(store_pending_ingest(x->s, x->alliance, TH_NOW, &stored), 0);
	assert_int_equal(stored, 0);
	assert_int_equal(pending(x, NULL), 2);
	/* charter, no admission */
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	assert_int_equal(store_pending_ingest(x->s, x->alliance, TH_NOW, &stored), 0);
	assert_int_equal(stored, 0);
	assert_int_equal(pending(x, NULL), 2);
	/* admitted: both stored, in order, and forgotten */
	assert_int_equal(admit(x, x->m->pk, AGORA__ROLE__ROLE_MEMBER), STORE_NEW);
	assert_int_equal(store_pending_ingest(x->s, x->alliance, TH_NOW, &stored), 0);
	assert_int_equal(stored, 2);
	assert_int_equal(pending(x, NULL), 0);
	assert_int_equal(get(x, x->m->pk, &ep), 0);
	assert_int_equal(ep.seq, 2);
	/* again: nothing left to do */
	assert_int_equal(store_pending_ingest(x->s, x->alliance, TH_NOW, &stored), 0);
	assert_int_equal(stored, 0);
}

static void test_pending__refused_for_good_is_dropped_with_the_rest(void **state)
{
	struct fx *x = *state;
	struct store_endpoint ep;
	size_t stored = 99;
	store_set_own_key(x->s, x->m->pk);
	join_records(x);
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	/* admitted and revoked before it published anything */
	assert_int_equal(admit(x, x->m->pk, AGORA__ROLE__ROLE_MEMBER), STORE_NEW);
	assert_int_equal(revoke(x, x->m->pk, 0), STORE_NEW);
	assert_int_equal(store_pending_ingest(x->s, x->alliance, TH_NOW, &stored), 0);
	assert_int_equal(stored, 0);
	assert_int_equal(pending(x, NULL), 0);
	assert_int_equal(get(x, x->m->pk, &ep), STORE_E_NOTFOUND);
}

static void test_pending__seqs_the_feed_holds_are_dropped_not_a_conflict(void **state)
{
	struct fx *x = *state;
	size_t stored = 99;
	store_set_own_key(x->s, x->m->pk);
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	assert_int_equal(admit(x, x->m->pk, AGORA__ROLE__ROLE_MEMBER), STORE_NEW);
	/* the feed went on elsewhere: seq 1 is some other record */
	struct th_feed other;
	th_feed_init(&other, x->m, x->alliance);
	struct th_env m1 = th_measure(&other, "Bike lanes", "summary", TH_NOW - 3000);
	assert_int_equal(ingest(x, &m1), STORE_NEW);
	join_records(x);
	assert_int_equal(store_pending_ingest(x->s, x->alliance, TH_NOW, &stored), 0);
	assert_int_equal(stored, 0);
	assert_int_equal(pending(x, NULL), 0);
	struct store_txn *t;
	uint64_t seq = 99;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_own_conflict(t, x->alliance, x->m->pk, &seq), 0);
	store_txn_end(t);
	assert_int_equal(seq, 0);
}

static void test_pending__put_refuses_other_alliance_and_gaps(void **state)
{
	struct fx *x = *state;
	struct th_env p = profile(&x->fm, TH_NOW - 2000);
	struct th_env skip = profile(&x->fm, TH_NOW - 2000);   /* seq 2, dropped */
	struct th_env e = endpoint(&x->fm, A2, 1, TH_NOW - 2000);   /* seq 3 */
	struct store_item gap[2] = { { p.env, p.len }, { e.env, e.len } };
	assert_int_equal(store_pending_put(x->s, x->alliance, gap, 2), PROTO_E_ARG);
	uint8_t other[PROTO_ID_BYTES] = { 7 };
	assert_int_equal(store_pending_put(x->s, other, gap, 1), PROTO_E_ARG);
	struct store_item junk = { (uint8_t *)"not an envelope", 15 };
	assert_int_equal(store_pending_put(x->s, x->alliance, &junk, 1), PROTO_E_ARG);
	assert_int_equal(pending(x, NULL), 0);
	/* one, then none: n == 0 drops them */
	assert_int_equal(store_pending_put(x->s, x->alliance, gap, 1), 0);
	assert_int_equal(pending(x, NULL), 1);
	assert_int_equal(store_pending_put(x->s, x->alliance, NULL, 0), 0);
	assert_int_equal(pending(x, NULL), 0);
	th_env_free(&p);
	th_env_free(&skip);
	th_env_free(&e);
}

int main(void)
{
	if (proto_init())
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_endpoint__newest_one_of_the_author_is_answered, setup_held, teardown),
		cmocka_unit_test_setup_teardown(test_endpoint__each_lists_the_authors_with_an_endpoint_in_key_order, setup_held, teardown),
		cmocka_unit_test_setup_teardown(test_endpoint__dial_out_only_has_no_address, setup_held, teardown),
		cmocka_unit_test_setup_teardown(test_endpoint__retracted_newest_is_gone_and_the_older_does_not_come_back, setup_held, teardown),
		cmocka_unit_test_setup_teardown(test_endpoint__revoked_author_is_not_dialable, setup_held, teardown),
		cmocka_unit_test_setup_teardown(test_endpoint__observer_endpoint_is_refused_as_older_nodes_refuse_it, setup_held, teardown),
		cmocka_unit_test_setup_teardown(test_endpoint__outsider_endpoint_is_refused, setup_held, teardown),
		cmocka_unit_test_setup_teardown(test_endpoint__index_is_built_on_open_when_missing, setup_held, teardown),
		cmocka_unit_test_setup_teardown(test_pending__kept_until_charter_and_admission_then_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending__refused_for_good_is_dropped_with_the_rest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending__seqs_the_feed_holds_are_dropped_not_a_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending__put_refuses_other_alliance_and_gaps, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
