/* members_test.c - alliance membership derived from governance records:
 * who may publish what, revocation, expiry, k-of-n admission, key
 * rotation, and the member list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "helper.h"

#define K_C1 51     /* founding coordinators */
#define K_C2 52
#define K_C3 53
#define K_M 54      /* a municipality */
#define K_O 55      /* an observer (summit organiser) */
#define K_X 56      /* an outsider */

struct fx {
	char *dir;
	struct store *s;
	struct proto_key *c1, *c2, *c3, *m, *o, *x;
	struct th_feed fc1, fc2, fc3, fm, fo, fx;
	uint8_t alliance[PROTO_ID_BYTES];
};

/* Sign rec (made at ts) as the next record of f and ingest it when the
 * node's clock says now; a rejected record does not advance f, so the
 * author can try again. */
static int put_at(struct fx *x, struct th_feed *f, Agora__Record *rec, uint64_t ts,
                  uint64_t now)
{
	struct th_feed saved = *f;
	struct th_env e = th_sign(f, rec, ts);
	struct store_item it = { e.env, e.len };
	int st = 0;
	int rc = store_ingest(x->s, &it, 1, 0, now, &st, NULL, NULL);
	th_env_free(&e);
	if (rc)
		st = rc;
	if (st < 0)
		*f = saved;
	return st;
}

static int put(struct fx *x, struct th_feed *f, Agora__Record *rec, uint64_t ts)
{
	return put_at(x, f, rec, ts, TH_NOW);
}

static int charter(struct fx *x, int policy, uint32_t k)
{
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Charter c = AGORA__CHARTER__INIT;
	ProtobufCBinaryData co[3] = { { 32, x->c1->pk }, { 32, x->c2->pk }, { 32, x->c3->pk } };
	c.name = "DK2020";
	c.n_coordinators = 3;
	c.coordinators = co;
	c.has_policy = 1;
	c.policy = policy;
	c.has_threshold = policy == AGORA__ADMISSION_POLICY__ADMISSION_POLICY_THRESHOLD;
	c.threshold = k;
	r.body_case = AGORA__RECORD__BODY_CHARTER;
	r.charter = &c;
	memset(&x->fc1, 0, sizeof x->fc1);
	x->fc1.key = x->c1;
	int st = put(x, &x->fc1, &r, TH_NOW - 100000);
	memcpy(x->alliance, x->fc1.alliance, PROTO_ID_BYTES);
	th_feed_init(&x->fc2, x->c2, x->alliance);
	th_feed_init(&x->fc3, x->c3, x->alliance);
	th_feed_init(&x->fm, x->m, x->alliance);
	th_feed_init(&x->fo, x->o, x->alliance);
	th_feed_init(&x->fx, x->x, x->alliance);
	return st;
}

static int setup_with(void **state, int policy, uint32_t k)
{
	struct fx *x = calloc(1, sizeof *x);
	x->dir = th_tmpdir();
	assert_int_equal(store_open(&x->s, x->dir, 0), 0);
	x->c1 = th_key(K_C1);
	x->c2 = th_key(K_C2);
	x->c3 = th_key(K_C3);
	x->m = th_key(K_M);
	x->o = th_key(K_O);
	x->x = th_key(K_X);
	assert_int_equal(charter(x, policy, k), STORE_NEW);
	*state = x;
	return 0;
}

static int setup_any(void **state)
{
	return setup_with(state, AGORA__ADMISSION_POLICY__ADMISSION_POLICY_ANY_COORDINATOR, 0);
}

static int setup_2of3(void **state)
{
	return setup_with(state, AGORA__ADMISSION_POLICY__ADMISSION_POLICY_THRESHOLD, 2);
}

static int teardown(void **state)
{
	struct fx *x = *state;
	store_close(x->s);
	th_rmdir(x->dir);
	proto_key_free(x->c1);
	proto_key_free(x->c2);
	proto_key_free(x->c3);
	proto_key_free(x->m);
	proto_key_free(x->o);
	proto_key_free(x->x);
	free(x);
	return 0;
}

static int admit(struct fx *x, struct th_feed *by, const uint8_t *key, int role,
                 uint64_t expires, uint64_t ts)
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
	a.has_expires_ms = expires != 0;
	a.expires_ms = expires;
	r.body_case = AGORA__RECORD__BODY_ADMISSION;
	r.admission = &a;
	return put(x, by, &r, ts);
}

static int revoke(struct fx *x, struct th_feed *by, const uint8_t *key, uint64_t last,
                  uint64_t ts)
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
	return put(x, by, &r, ts);
}

static int measure_at(struct fx *x, struct th_feed *f, const char *title, uint64_t ts,
                      uint64_t now)
{
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Measure m = AGORA__MEASURE__INIT;
	m.title = (char *)title;
	m.summary = "summary";
	m.language = "da";
	m.has_mitigation = 1;
	m.mitigation = 1;
	r.body_case = AGORA__RECORD__BODY_MEASURE;
	r.measure = &m;
	return put_at(x, f, &r, ts, now);
}

static int measure(struct fx *x, struct th_feed *f, const char *title, uint64_t ts)
{
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Measure m = AGORA__MEASURE__INIT;
	m.title = (char *)title;
	m.summary = "summary";
	m.language = "da";
	m.has_mitigation = 1;
	m.mitigation = 1;
	r.body_case = AGORA__RECORD__BODY_MEASURE;
	r.measure = &m;
	return put(x, f, &r, ts);
}

static int profile(struct fx *x, struct th_feed *f, uint64_t ts)
{
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Profile p = AGORA__PROFILE__INIT;
	p.name = "Topmødet";
	p.country = "DK";
	r.body_case = AGORA__RECORD__BODY_PROFILE;
	r.profile = &p;
	return put(x, f, &r, ts);
}

static int active(struct fx *x, const uint8_t *key, uint64_t now)
{
	struct store_txn *t;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	int rc = store_member_active(t, x->alliance, key, now);
	store_txn_end(t);
	return rc;
}

static int count_cb(const struct store_hit *h, void *ctx)
{
	(void)h;
	++*(int *)ctx;
	return 0;
}

static int measures_held(struct fx *x)
{
	struct store_txn *t;
	struct store_query q = { 0 };
	int n = 0;
	q.alliance = x->alliance;
	q.kind = PROTO_KIND_MEASURE;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_true(store_query(t, &q, count_cb, &n, NULL) >= 0);
	store_txn_end(t);
	return n;
}

/* ------------------------------------------------------------- tests */

static void test_members__founders_are_coordinators_and_outsiders_are_refused(void **state)
{
	struct fx *x = *state;
	assert_int_equal(active(x, x->c2->pk, TH_NOW), 0);
	assert_int_equal(active(x, x->x->pk, TH_NOW), STORE_E_NOT_MEMBER);
	assert_int_equal(measure(x, &x->fx, "Outsider", TH_NOW - 5000), STORE_E_NOT_MEMBER);
	assert_int_equal(measure(x, &x->fc2, "Guidance", TH_NOW - 5000), STORE_NEW);
	assert_int_equal(measures_held(x), 1);
}

static void test_members__record_refused_before_admission_is_taken_after_it(void **state)
{
	struct fx *x = *state;
	assert_int_equal(measure(x, &x->fm, "Vådområde", TH_NOW - 5000), STORE_E_NOT_MEMBER);
	assert_int_equal(admit(x, &x->fc1, x->m->pk, AGORA__ROLE__ROLE_MEMBER, 0, TH_NOW - 6000),
	                 STORE_NEW);
	/* the very same record, sent again, is now taken */
	assert_int_equal(measure(x, &x->fm, "Vådområde", TH_NOW - 5000), STORE_NEW);
}

static void test_members__admission_and_records_in_one_batch_are_taken(void **state)
{
	struct fx *x = *state;
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Admission a = AGORA__ADMISSION__INIT;
	Agora__Record mr = AGORA__RECORD__INIT;
	Agora__Measure m = AGORA__MEASURE__INIT;
	a.has_member = 1;
	a.member.len = 32;
	a.member.data = x->m->pk;
	a.name = "Vejle";
	a.has_role = 1;
	a.role = AGORA__ROLE__ROLE_MEMBER;
	r.body_case = AGORA__RECORD__BODY_ADMISSION;
	r.admission = &a;
	m.title = "Cykelsti";
	m.language = "da";
	m.has_mitigation = 1;
	m.mitigation = 1;
	mr.body_case = AGORA__RECORD__BODY_MEASURE;
	mr.measure = &m;
	struct th_env e[2] = { th_sign(&x->fc1, &r, TH_NOW - 9000), th_sign(&x->fm, &mr, TH_NOW - 8000) };
	struct store_item it[2] = { { e[0].env, e[0].len }, { e[1].env, e[1].len } };
	int st[2];
	assert_int_equal(store_ingest(x->s, it, 2, STORE_INGEST_ATOMIC, TH_NOW, st, NULL, NULL), 0);
	assert_int_equal(st[0], STORE_NEW);
	assert_int_equal(st[1], STORE_NEW);
	th_env_free(&e[0]);
	th_env_free(&e[1]);
}

static void test_members__member_cannot_publish_governance_or_endorse(void **state)
{
	struct fx *x = *state;
	assert_int_equal(admit(x, &x->fc1, x->m->pk, AGORA__ROLE__ROLE_MEMBER, 0, TH_NOW - 9000),
	                 STORE_NEW);
	assert_int_equal(admit(x, &x->fm, x->x->pk, AGORA__ROLE__ROLE_MEMBER, 0, TH_NOW - 8000),
	                 STORE_E_ROLE);
	assert_int_equal(revoke(x, &x->fm, x->c1->pk, 0, TH_NOW - 8000), STORE_E_ROLE);
	assert_int_equal(active(x, x->x->pk, TH_NOW), STORE_E_NOT_MEMBER);
	assert_int_equal(active(x, x->c1->pk, TH_NOW), 0);
	assert_int_equal(measure(x, &x->fm, "Fjernvarme", TH_NOW - 7000), STORE_NEW);
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Endorsement en = AGORA__ENDORSEMENT__INIT;
	en.has_target = 1;
	en.target.len = 32;
	en.target.data = x->fm.prev;
	r.body_case = AGORA__RECORD__BODY_ENDORSEMENT;
	r.endorsement = &en;
	assert_int_equal(put(x, &x->fm, &r, TH_NOW - 6000), STORE_E_ROLE);
	assert_int_equal(put(x, &x->fc1, &r, TH_NOW - 6000), STORE_NEW);
}

static void test_members__observer_publishes_only_its_profile(void **state)
{
	struct fx *x = *state;
	assert_int_equal(admit(x, &x->fc1, x->o->pk, AGORA__ROLE__ROLE_OBSERVER, 0, TH_NOW - 9000),
	                 STORE_NEW);
	assert_int_equal(measure(x, &x->fo, "Nope", TH_NOW - 8000), STORE_E_ROLE);
	assert_int_equal(profile(x, &x->fo, TH_NOW - 8000), STORE_NEW);
	assert_int_equal(active(x, x->o->pk, TH_NOW), 0);
}

static void test_members__revocation_refuses_later_seqs_and_hides_stored_ones(void **state)
{
	struct fx *x = *state;
	assert_int_equal(admit(x, &x->fc1, x->m->pk, AGORA__ROLE__ROLE_MEMBER, 0, TH_NOW - 9000),
	                 STORE_NEW);
	assert_int_equal(measure(x, &x->fm, "one", TH_NOW - 8000), STORE_NEW);    /* seq 1 */
	assert_int_equal(measure(x, &x->fm, "two", TH_NOW - 7900), STORE_NEW);    /* seq 2 */
	assert_int_equal(measure(x, &x->fm, "three", TH_NOW - 7800), STORE_NEW);  /* seq 3 */
	assert_int_equal(measures_held(x), 3);
	/* the key was stolen after seq 1 */
	assert_int_equal(revoke(x, &x->fc2, x->m->pk, 1, TH_NOW - 7000), STORE_NEW);
	assert_int_equal(measures_held(x), 1);
	assert_int_equal(measure(x, &x->fm, "four", TH_NOW - 6000), STORE_E_REVOKED);
	assert_int_equal(active(x, x->m->pk, TH_NOW), STORE_E_REVOKED);
	/* the stored records stay as history, flagged */
	struct store_txn *t;
	struct store_record rec;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_feed_get(t, x->alliance, x->m->pk, 3, &rec), 0);
	assert_true(rec.retracted);
	assert_int_equal(store_feed_get(t, x->alliance, x->m->pk, 1, &rec), 0);
	assert_false(rec.retracted);
	struct store_member mm;
	assert_int_equal(store_member_get(t, x->alliance, x->m->pk, &mm), 0);
	assert_true(mm.revoked);
	assert_int_equal(mm.last_seq, 1);
	assert_int_equal(mm.records, 3);
	store_txn_end(t);
	/* admitting it again does not undo the revocation */
	assert_int_equal(admit(x, &x->fc1, x->m->pk, AGORA__ROLE__ROLE_MEMBER, 0, TH_NOW - 5000),
	                 STORE_NEW);
	assert_int_equal(active(x, x->m->pk, TH_NOW), STORE_E_REVOKED);
}

static void test_members__expired_admission_refuses_records_made_after_it(void **state)
{
	struct fx *x = *state;
	uint64_t exp = TH_NOW - 5000;
	assert_int_equal(admit(x, &x->fc1, x->m->pk, AGORA__ROLE__ROLE_MEMBER, exp, TH_NOW - 9000),
	                 STORE_NEW);
	assert_int_equal(measure_at(x, &x->fm, "in time", exp - 2, exp - 1), STORE_NEW);
	assert_int_equal(measure_at(x, &x->fm, "too late", exp, exp - 1), STORE_E_EXPIRED);
	assert_int_equal(active(x, x->m->pk, exp - 1), 0);
	assert_int_equal(active(x, x->m->pk, exp), STORE_E_EXPIRED);
}

static uint64_t expiry_seq(struct fx *x, const uint8_t *key)
{
	struct store_txn *t;
	struct store_member mm;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_member_get(t, x->alliance, key, &mm), 0);
	store_txn_end(t);
	return mm.expiry_seq;
}

/* Issue 10 D8: an expired member dates a new record before its expiry. */
static void test_members__expired_member_cannot_backdate_once_the_node_noticed(void **state)
{
	struct fx *x = *state;
	uint64_t exp = TH_NOW - 5000;
	size_t noted = 9;
	assert_int_equal(admit(x, &x->fc1, x->m->pk, AGORA__ROLE__ROLE_MEMBER, exp, TH_NOW - 9000),
	                 STORE_NEW);
	assert_int_equal(admit(x, &x->fc1, x->o->pk, AGORA__ROLE__ROLE_OBSERVER, 0, TH_NOW - 9000),
	                 STORE_NEW);
	/* before its expiry, by the node's clock: taken */
	assert_int_equal(measure_at(x, &x->fm, "one", exp - 100, exp - 50), STORE_NEW);
	assert_int_equal(expiry_seq(x, x->m->pk), UINT64_MAX);
	assert_int_equal(store_member_note_expiry(x->s, exp - 1, 0, &noted), 0);
	assert_int_equal(noted, 0);   /* nothing expired yet */
	/* the daemon notices the expiry: the head, seq 1, is the last */
	assert_int_equal(store_member_note_expiry(x->s, exp, 0, &noted), 0);
	assert_int_equal(noted, 1);   /* m only: o has no expiry */
	assert_int_equal(expiry_seq(x, x->m->pk), 1);
	assert_int_equal(store_member_note_expiry(x->s, exp + 1, 0, &noted), 0);
	assert_int_equal(noted, 0);   /* noted once */
	/* back-dated: refused whatever its date */
	assert_int_equal(measure_at(x, &x->fm, "back-dated", exp - 40, TH_NOW), STORE_E_EXPIRED);
	/* what it held before stays held */
	struct th_feed again = x->fm;
	again.seq = 0;
	assert_int_equal(measure_at(x, &again, "one", exp - 100, TH_NOW), STORE_KNOWN);
}

static void test_members__a_node_that_did_not_watch_the_expiry_judges_by_date(void **state)
{
	struct fx *x = *state;
	uint64_t exp = TH_NOW - 5000;
	size_t noted = 9;
	assert_int_equal(admit(x, &x->fc1, x->m->pk, AGORA__ROLE__ROLE_MEMBER, exp, TH_NOW - 9000),
	                 STORE_NEW);
	assert_int_equal(measure_at(x, &x->fm, "one", exp - 100, exp - 50), STORE_NEW);
	/* ingest after the expiry notes nothing: a node that starts late must
	 * take the member's history, dated before its expiry */
	assert_int_equal(measure_at(x, &x->fm, "two", exp - 90, TH_NOW), STORE_NEW);
	assert_int_equal(expiry_seq(x, x->m->pk), UINT64_MAX);
	/* a record dated at the expiry is refused by its date alone */
	assert_int_equal(measure_at(x, &x->fm, "late", exp, TH_NOW), STORE_E_EXPIRED);
	/* a node that began watching after the expiry notes nothing either */
	assert_int_equal(store_member_note_expiry(x->s, TH_NOW, exp + 1, &noted), 0);
	assert_int_equal(noted, 0);
	assert_int_equal(expiry_seq(x, x->m->pk), UINT64_MAX);
	/* one that watched it pass notes the head (2) */
	assert_int_equal(store_member_note_expiry(x->s, TH_NOW, exp, &noted), 0);
	assert_int_equal(noted, 1);
	assert_int_equal(expiry_seq(x, x->m->pk), 2);
	assert_int_equal(measure_at(x, &x->fm, "back-dated", exp - 30, TH_NOW), STORE_E_EXPIRED);
	/* a renewal lifts it: records made before the new expiry are taken */
	assert_int_equal(admit(x, &x->fc1, x->m->pk, AGORA__ROLE__ROLE_MEMBER, TH_NOW + 5000,
	                       TH_NOW - 10), STORE_NEW);
	assert_int_equal(expiry_seq(x, x->m->pk), UINT64_MAX);
	assert_int_equal(measure_at(x, &x->fm, "renewed", TH_NOW - 5, TH_NOW), STORE_NEW);
	/* an admission with an earlier expiry is no renewal */
	assert_int_equal(store_member_note_expiry(x->s, TH_NOW + 5000, 0, NULL), 0);
	assert_int_equal(expiry_seq(x, x->m->pk), 3);
	assert_int_equal(admit(x, &x->fc1, x->m->pk, AGORA__ROLE__ROLE_MEMBER, TH_NOW + 4000,
	                       TH_NOW - 5), STORE_NEW);
	assert_int_equal(expiry_seq(x, x->m->pk), 3);
}

static void test_members__threshold_needs_k_distinct_coordinators(void **state)
{
	struct fx *x = *state;
	assert_int_equal(admit(x, &x->fc1, x->m->pk, AGORA__ROLE__ROLE_MEMBER, 0, TH_NOW - 9000),
	                 STORE_NEW);
	assert_int_equal(active(x, x->m->pk, TH_NOW), STORE_E_NOT_MEMBER);
	/* the same coordinator again does not count twice */
	assert_int_equal(admit(x, &x->fc1, x->m->pk, AGORA__ROLE__ROLE_MEMBER, 0, TH_NOW - 8900),
	                 STORE_NEW);
	assert_int_equal(active(x, x->m->pk, TH_NOW), STORE_E_NOT_MEMBER);
	/* another coordinator for another role does not count either */
	assert_int_equal(admit(x, &x->fc2, x->m->pk, AGORA__ROLE__ROLE_COORDINATOR, 0, TH_NOW - 8800),
	                 STORE_NEW);
	assert_int_equal(active(x, x->m->pk, TH_NOW), STORE_E_NOT_MEMBER);
	assert_int_equal(measure(x, &x->fm, "early", TH_NOW - 8000), STORE_E_NOT_MEMBER);
	assert_int_equal(admit(x, &x->fc3, x->m->pk, AGORA__ROLE__ROLE_MEMBER, 0, TH_NOW - 8700),
	                 STORE_NEW);
	assert_int_equal(active(x, x->m->pk, TH_NOW), 0);
	assert_int_equal(measure(x, &x->fm, "now", TH_NOW - 8000), STORE_NEW);
}

static int rotate(struct fx *x, struct th_feed *f, const struct proto_key *new_key,
                  bool corrupt, uint64_t ts)
{
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__KeyRotation k = AGORA__KEY_ROTATION__INIT;
	uint8_t sig[64];
	assert_int_equal(store_rotation_sign(sig, new_key, x->alliance, f->key->pk), 0);
	if (corrupt)
		sig[0] ^= 1;
	k.has_new_key = 1;
	k.new_key.len = 32;
	k.new_key.data = (uint8_t *)new_key->pk;
	k.has_new_key_signature = 1;
	k.new_key_signature.len = 64;
	k.new_key_signature.data = sig;
	r.body_case = AGORA__RECORD__BODY_KEY_ROTATION;
	r.key_rotation = &k;
	return put(x, f, &r, ts);
}

static void test_members__coordinator_rotation_hands_over_its_admission(void **state)
{
	struct fx *x = *state;
	struct proto_key *nk = th_key(60);
	struct th_feed fn;
	th_feed_init(&fn, nk, x->alliance);
	assert_int_equal(rotate(x, &x->fc2, nk, true, TH_NOW - 9000), PROTO_E_SIGNATURE);
	assert_int_equal(rotate(x, &x->fc2, nk, false, TH_NOW - 9000), STORE_NEW);
	assert_int_equal(active(x, nk->pk, TH_NOW), 0);
	assert_int_equal(active(x, x->c2->pk, TH_NOW), STORE_E_REVOKED);
	assert_int_equal(measure(x, &x->fc2, "old key", TH_NOW - 8000), STORE_E_REVOKED);
	assert_int_equal(admit(x, &fn, x->m->pk, AGORA__ROLE__ROLE_MEMBER, 0, TH_NOW - 8000),
	                 STORE_NEW);
	struct store_txn *t;
	struct store_member mm;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_member_get(t, x->alliance, x->c2->pk, &mm), 0);
	assert_true(mm.rotated);
	assert_int_equal(store_member_get(t, x->alliance, nk->pk, &mm), 0);
	assert_int_equal(mm.role, AGORA__ROLE__ROLE_COORDINATOR);
	store_txn_end(t);
	proto_key_free(nk);
}

static void test_members__member_rotation_needs_an_admission_of_the_new_key(void **state)
{
	struct fx *x = *state;
	struct proto_key *nk = th_key(61);
	assert_int_equal(admit(x, &x->fc1, x->m->pk, AGORA__ROLE__ROLE_MEMBER, 0, TH_NOW - 9500),
	                 STORE_NEW);
	assert_int_equal(rotate(x, &x->fm, nk, false, TH_NOW - 9000), STORE_NEW);
	assert_int_equal(active(x, nk->pk, TH_NOW), STORE_E_NOT_MEMBER);
	assert_int_equal(active(x, x->m->pk, TH_NOW), STORE_E_REVOKED);
	assert_int_equal(admit(x, &x->fc1, nk->pk, AGORA__ROLE__ROLE_MEMBER, 0, TH_NOW - 8000),
	                 STORE_NEW);
	assert_int_equal(active(x, nk->pk, TH_NOW), 0);
	proto_key_free(nk);
}

struct mlist {
	int n, coordinators, forked;
};

static int list_cb(const struct store_member *m, void *ctx)
{
	struct mlist *l = ctx;
	l->n++;
	l->coordinators += m->role == AGORA__ROLE__ROLE_COORDINATOR;
	l->forked += m->equivocating;
	return 0;
}

static void test_members__list_shows_every_member_and_flags_equivocation(void **state)
{
	struct fx *x = *state;
	assert_int_equal(admit(x, &x->fc1, x->m->pk, AGORA__ROLE__ROLE_MEMBER, 0, TH_NOW - 9000),
	                 STORE_NEW);
	struct th_feed fork = x->fm;
	assert_int_equal(measure(x, &x->fm, "A", TH_NOW - 8000), STORE_NEW);
	assert_int_equal(measure(x, &fork, "B", TH_NOW - 7999), STORE_FORKED);
	struct store_txn *t;
	struct mlist l = { 0 };
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_members(t, x->alliance, list_cb, &l), 0);
	store_txn_end(t);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.coordinators, 3);
	assert_int_equal(l.forked, 1);
}

struct copies {
	struct store_member m[8];
	size_t n;
};

static int copy_cb(const struct store_member *m, void *ctx)
{
	struct copies *c = ctx;
	if (c->n < 8)
		c->m[c->n++] = *m;
	return 0;
}

static void test_members__copy_answers_active_as_the_store_does(void **state)
{
	struct fx *x = *state;
	uint64_t exp = TH_NOW - 5000;
	assert_int_equal(admit(x, &x->fc1, x->m->pk, AGORA__ROLE__ROLE_MEMBER, 0, TH_NOW - 9000),
	                 STORE_NEW);
	assert_int_equal(admit(x, &x->fc1, x->o->pk, AGORA__ROLE__ROLE_OBSERVER, exp,
	                       TH_NOW - 9000), STORE_NEW);
	assert_int_equal(admit(x, &x->fc1, x->x->pk, AGORA__ROLE__ROLE_MEMBER, 0, TH_NOW - 9000),
	                 STORE_NEW);
	assert_int_equal(revoke(x, &x->fc2, x->x->pk, 0, TH_NOW - 8000), STORE_NEW);
	struct proto_key *never = th_key(57);   /* revoked without an admission: role 0 */
	assert_int_equal(revoke(x, &x->fc2, never->pk, 0, TH_NOW - 7000), STORE_NEW);

	struct store_txn *t;
	struct copies c = { .n = 0 };
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_members(t, x->alliance, copy_cb, &c), 0);
	store_txn_end(t);
	assert_int_equal(c.n, 7);   /* 3 coordinators, m, o, x, never */
	size_t active_before = 0, active_at = 0;
	for (size_t i = 0; i < c.n; i++) {
		/* the copy answers with no transaction, as the store does */
		bool before = store_member_is_active(&c.m[i], exp - 1);
		bool at = store_member_is_active(&c.m[i], exp);
		assert_int_equal(before, active(x, c.m[i].key, exp - 1) == 0);
		assert_int_equal(at, active(x, c.m[i].key, exp) == 0);
		active_before += before;
		active_at += at;
		if (!memcmp(c.m[i].key, x->o->pk, 32))
			assert_true(before && !at);
		if (!memcmp(c.m[i].key, x->x->pk, 32) || !memcmp(c.m[i].key, never->pk, 32))
			assert_false(before);
	}
	assert_int_equal(active_before, 5);   /* coordinators, m, o */
	assert_int_equal(active_at, 4);
	assert_false(store_member_is_active(NULL, exp));
	proto_key_free(never);
}

int main(void)
{
	if (proto_init())
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_members__founders_are_coordinators_and_outsiders_are_refused, setup_any, teardown),
		cmocka_unit_test_setup_teardown(test_members__record_refused_before_admission_is_taken_after_it, setup_any, teardown),
		cmocka_unit_test_setup_teardown(test_members__admission_and_records_in_one_batch_are_taken, setup_any, teardown),
		cmocka_unit_test_setup_teardown(test_members__member_cannot_publish_governance_or_endorse, setup_any, teardown),
		cmocka_unit_test_setup_teardown(test_members__observer_publishes_only_its_profile, setup_any, teardown),
		cmocka_unit_test_setup_teardown(test_members__revocation_refuses_later_seqs_and_hides_stored_ones, setup_any, teardown),
		cmocka_unit_test_setup_teardown(test_members__expired_admission_refuses_records_made_after_it, setup_any, teardown),
		cmocka_unit_test_setup_teardown(test_members__threshold_needs_k_distinct_coordinators, setup_2of3, teardown),
		cmocka_unit_test_setup_teardown(test_members__coordinator_rotation_hands_over_its_admission, setup_any, teardown),
		cmocka_unit_test_setup_teardown(test_members__member_rotation_needs_an_admission_of_the_new_key, setup_any, teardown),
		cmocka_unit_test_setup_teardown(test_members__list_shows_every_member_and_flags_equivocation, setup_any, teardown),
		cmocka_unit_test_setup_teardown(test_members__copy_answers_active_as_the_store_does, setup_any, teardown),
		cmocka_unit_test_setup_teardown(test_members__expired_member_cannot_backdate_once_the_node_noticed, setup_any, teardown),
		cmocka_unit_test_setup_teardown(test_members__a_node_that_did_not_watch_the_expiry_judges_by_date, setup_any, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
