/* store_edit_test.c - agora_storage behaviour once records are held: edits
 * (supersede) and retractions, map growth, full text and publishing.
 * Ingest, the data directory and a read-only open are in
 * store_ingest_test.c; the fixture both use in store_fx.c. */
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
#include "storage/meta_int.h"   /* a floor raised as ingest raises it */

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

int main(void)
{
	if (proto_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, th_fx_teardown)
		T(test_store_supersede__hides_old_version_history_shows_both),
		T(test_store_supersede__of_another_authors_record_is_rejected),
		T(test_store_supersede__of_other_kind_is_rejected),
		T(test_store_retract__hides_every_version_and_old_record_never_returns),
		T(test_store_map__grows_past_a_tiny_initial_map),
		T(test_store_text__danish_and_polish_fold_across_case_form_and_marks),
		T(test_store_text__words_are_folded_letters_and_digits),
		T(test_store_text__bm25_ranks_more_occurrences_higher),
		T(test_store_publish__chains_feed_and_batch_patches_references),
#undef T
	};
	return cmocka_run_group_tests_name("storage_edit", tests, NULL, NULL);
}
