/*
 * unread_test.c - records a build carries without reading them whole are
 * noted, and indexed by the first read-write open of a build that reads
 * them (storage/unread_int.h, PROTOCOL.md 7.2).
 *
 * A build that does not know a kind is simulated with the store's test
 * hook (store_open_hooked: forget_kinds), which makes this build read a
 * kind it knows as one of a newer version; a kind no build of the test
 * suite knows (30) is signed with PROTO_SIGN_NEWER.  Linked with the
 * failing allocator (tests/failalloc.c) to stop an open half way.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "failalloc.h"
#include "helper.h"
#include "storage/fts_int.h"
#include "storage/store_int.h"

#define BIT(k) ((uint64_t)1 << (k))
#define NM 9    /* measures */
#define NL 3    /* lessons */

static const char *titles[NM] = {
	"Vådområde ved Haarby Å",
	"Vådområder og lavbundsjord i Assens",
	"Nyt vådområde ved Brende Å med sø",
	"Vådområde nummer fire",
	"Klimatilpasning med vådområde og skov",
	"Et lille vådområde",
	"Vådområde, regnvand og kystsikring ved Assens havn",
	"Vådområde i Vejle",
	"Vådområde",
};

/* Everything the tests store, signed once. */
struct data {
	struct proto_key *k1;
	struct th_feed f1;
	struct th_env charter, m[NM], l[NL], newer_kind, newer_field;
};

/* th_sign, but signing parts this build does not define (PROTO_SIGN_NEWER). */
static struct th_env sign_newer(struct th_feed *f, Agora__Record *rec, uint64_t created_ms)
{
	struct th_env e = { 0 };
	rec->has_alliance = 1;
	rec->alliance.len = PROTO_ID_BYTES;
	rec->alliance.data = f->alliance;
	rec->has_author = 1;
	rec->author.len = PROTO_KEY_BYTES;
	rec->author.data = f->key->pk;
	rec->has_seq = 1;
	rec->seq = f->seq + 1;
	rec->has_prev = 1;
	rec->prev.len = PROTO_ID_BYTES;
	rec->prev.data = f->prev;
	rec->has_created_ms = 1;
	rec->created_ms = created_ms;
	assert_int_equal(proto_record_sign_ext(&e.env, &e.len, e.id, rec, f->key, TH_NOW,
	                                       PROTO_SIGN_NEWER, NULL), 0);
	f->seq++;
	memcpy(f->prev, e.id, PROTO_ID_BYTES);
	return e;
}

static void data_make(struct data *d)
{
	memset(d, 0, sizeof *d);
	d->k1 = th_key(1);
	d->charter = th_charter(&d->f1, d->k1, "DK2020", TH_NOW - 10000000);
	for (int i = 0; i < NM; i++)
		d->m[i] = th_measure(&d->f1, titles[i], i % 2 ? "Lavbundsjord tages ud af drift." : NULL,
		                     TH_NOW - 9000000 + i * 1000);
	for (int i = 0; i < NL; i++) {
		Agora__Record r = AGORA__RECORD__INIT;
		Agora__Lesson l = AGORA__LESSON__INIT;
		char title[64];
		snprintf(title, sizeof title, "Spørg lodsejerne først, lektie %d", i);
		l.title = title;
		l.language = "da";
		r.body_case = AGORA__RECORD__BODY_LESSON;
		r.lesson = &l;
		d->l[i] = th_sign(&d->f1, &r, TH_NOW - 8000000 + i * 1000);
	}
	/* content kind 30, which no build of the suite knows */
	Agora__Record r = AGORA__RECORD__INIT;
	ProtobufCMessageUnknownField uf = { 30, PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED, 9,
	                                    (uint8_t *)"\x08" "\x0a\x06" "a note" };
	r.base.n_unknown_fields = 1;
	r.base.unknown_fields = &uf;
	d->newer_kind = sign_newer(&d->f1, &r, TH_NOW - 7000000);
	/* a measure with field 110, which no build of the suite knows */
	Agora__Record mr = AGORA__RECORD__INIT;
	Agora__Measure m = AGORA__MEASURE__INIT;
	uint8_t extra[] = { 0x05, 'n', 'e', 'w', 'e', 'r' };
	ProtobufCMessageUnknownField mf = { 110, PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
	                                    sizeof extra, extra };
	m.title = "Vådområde med et nyere felt";
	m.language = "da";
	m.has_mitigation = 1;
	m.mitigation = 1;
	m.base.n_unknown_fields = 1;
	m.base.unknown_fields = &mf;
	mr.body_case = AGORA__RECORD__BODY_MEASURE;
	mr.measure = &m;
	d->newer_field = sign_newer(&d->f1, &mr, TH_NOW - 6000000);
}

static void data_free(struct data *d)
{
	th_env_free(&d->charter);
	for (int i = 0; i < NM; i++)
		th_env_free(&d->m[i]);
	for (int i = 0; i < NL; i++)
		th_env_free(&d->l[i]);
	th_env_free(&d->newer_kind);
	th_env_free(&d->newer_field);
	proto_key_free(d->k1);
}

static void store_all(struct store *s, struct data *d, bool newer)
{
	assert_int_equal(th_ingest1(s, &d->charter), STORE_NEW);
	for (int i = 0; i < NM; i++)
		assert_int_equal(th_ingest1(s, &d->m[i]), STORE_NEW);
	for (int i = 0; i < NL; i++)
		assert_int_equal(th_ingest1(s, &d->l[i]), STORE_NEW);
	if (newer) {
		assert_int_equal(th_ingest1(s, &d->newer_kind), STORE_NEW);
		assert_int_equal(th_ingest1(s, &d->newer_field), STORE_NEW);
	}
}

static struct store *open_with(const char *dir, uint64_t forget, size_t batch)
{
	struct store_hooks h = { .forget_kinds = forget, .unread_batch = batch };
	struct store *s = NULL;
	assert_int_equal(store_open_hooked(&s, dir, 0, &h), 0);
	return s;
}

static uint64_t reread_count(struct store *s, uint64_t *indexed)
{
	struct store_reread r;
	store_open_reread(s, &r);
	if (indexed)
		*indexed = r.indexed;
	return r.reread;
}

/* Notes in the store (every stamp). */
static size_t notes(struct store *s)
{
	struct store_txn *t;
	MDB_stat st;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(mdb_stat(t->txn, s->unread, &st), 0);
	store_txn_end(t);
	return st.ms_entries;
}

/* Notes in the store in dir, opened read-only. */
static size_t notes_in(const char *dir)
{
	struct store *s;
	assert_int_equal(store_open(&s, dir, STORE_OPEN_READONLY), 0);
	size_t n = notes(s);
	store_close(s);
	return n;
}

/* Is the record with this id noted (under any stamp)? */
static bool noted(struct store *s, const uint8_t id[PROTO_ID_BYTES])
{
	struct store_txn *t;
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t rk;
	bool found = false;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_id_rowkey(t->txn, s, id, &rk), 0);
	assert_int_equal(mdb_cursor_open(t->txn, s->unread, &c), 0);
	for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && !found;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		found = store_get64((const uint8_t *)k.mv_data + 8) == rk;
	mdb_cursor_close(c);
	store_txn_end(t);
	return found;
}

struct hits {
	size_t n;
	uint8_t id[32][PROTO_ID_BYTES];
	double score[32];
};

static int hit_cb(const struct store_hit *h, void *ctx)
{
	struct hits *x = ctx;
	if (x->n < 32) {
		memcpy(x->id[x->n], h->rec.id, PROTO_ID_BYTES);
		x->score[x->n] = h->score;
	}
	x->n++;
	return 0;
}

static struct hits query(struct store *s, const char *text, enum proto_kind kind)
{
	struct store_query q = { 0 };
	struct store_txn *t;
	struct hits h = { 0 };
	q.text = text;
	q.kind = kind;
	q.sort = text ? STORE_SORT_RELEVANCE : STORE_SORT_NEWEST;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_true(store_query(t, &q, hit_cb, &h, NULL) >= 0);
	store_txn_end(t);
	return h;
}

static bool hits_have(const struct hits *h, const uint8_t id[PROTO_ID_BYTES])
{
	for (size_t i = 0; i < h->n && i < 32; i++)
		if (memcmp(h->id[i], id, PROTO_ID_BYTES) == 0)
			return true;
	return false;
}

static uint64_t counter(struct store *s, const char *key)
{
	struct store_txn *t;
	uint64_t v;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_counter_get(t->txn, s, key, &v), 0);
	store_txn_end(t);
	return v;
}

/* A store holding d, indexed by a build that reads every kind. */
static struct store *reference(char **dir, struct data *d, bool newer)
{
	struct store *s;
	*dir = th_tmpdir();
	s = open_with(*dir, 0, 0);
	store_all(s, d, newer);
	return s;
}

/* s answers the queries as the reference does, to the score. */
static void same_as_reference(struct store *s, struct store *ref)
{
	const char *texts[] = { "vådområde", "lavbundsjord", "assens", "lodsejerne" };
	assert_int_equal(counter(s, META_DOCLEN), counter(ref, META_DOCLEN));
	assert_int_equal(counter(s, META_NDOCS), counter(ref, META_NDOCS));
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		struct hits a = query(s, texts[i], PROTO_KIND_NONE);
		struct hits b = query(ref, texts[i], PROTO_KIND_NONE);
		assert_int_equal(a.n, b.n);
		for (size_t j = 0; j < a.n && j < 32; j++) {
			assert_memory_equal(a.id[j], b.id[j], PROTO_ID_BYTES);
			assert_true(a.score[j] == b.score[j]);
		}
	}
}

static void test_unread__kind_read_after_upgrade_is_found_by_text_and_equals_a_fresh_index(void **state)
{
	(void)state;
	struct data d;
	char *dir = th_tmpdir(), *rdir;
	data_make(&d);

	/* A build that does not read measures stores them. */
	struct store *s = open_with(dir, BIT(PROTO_KIND_MEASURE), 0);
	store_all(s, &d, false);
	assert_int_equal(query(s, "vådområde", PROTO_KIND_NONE).n, 0);
	assert_int_equal(query(s, NULL, PROTO_KIND_MEASURE).n, NM);   /* by kind, carried */
	assert_int_equal(query(s, "lodsejerne", PROTO_KIND_NONE).n, NL);
	assert_int_equal(notes(s), NM);
	store_close(s);

	/* The upgraded build opens it: the measures are read, nothing else. */
	uint64_t indexed;
	s = open_with(dir, 0, 0);
	assert_int_equal(reread_count(s, &indexed), NM);
	assert_int_equal(indexed, NM);
	assert_int_equal(notes(s), 0);
	struct hits h = query(s, "vådområde", PROTO_KIND_NONE);
	assert_int_equal(h.n, NM);
	for (int i = 0; i < NM; i++)
		assert_true(hits_have(&h, d.m[i].id));
	assert_int_equal(query(s, "lavbundsjord", PROTO_KIND_MEASURE).n, NM / 2);
	struct store *ref = reference(&rdir, &d, false);
	same_as_reference(s, ref);
	store_close(s);

	/* Nothing noted: the next open reads no record. */
	s = open_with(dir, 0, 0);
	assert_int_equal(reread_count(s, NULL), 0);
	store_close(s);
	store_close(ref);
	th_rmdir(rdir);
	th_rmdir(dir);
	data_free(&d);
}

static void test_unread__records_still_not_read_stay_noted_and_are_not_read_again(void **state)
{
	(void)state;
	struct data d;
	char *dir = th_tmpdir();
	uint64_t indexed;
	data_make(&d);

	/* A build that reads neither measures nor lessons (nor kind 30, nor
	 * Measure field 110). */
	struct store *s = open_with(dir, BIT(PROTO_KIND_MEASURE) | BIT(PROTO_KIND_LESSON), 0);
	store_all(s, &d, true);
	assert_int_equal(notes(s), NM + NL + 2);
	store_close(s);

	/* One that reads measures, not lessons. */
	s = open_with(dir, BIT(PROTO_KIND_LESSON), 0);
	assert_int_equal(reread_count(s, &indexed), NM + NL + 2);
	assert_int_equal(indexed, NM);
	assert_int_equal(notes(s), NL + 2);
	assert_int_equal(query(s, "vådområde", PROTO_KIND_NONE).n, NM + 1);   /* + the newer field's */
	assert_int_equal(query(s, "lodsejerne", PROTO_KIND_NONE).n, 0);
	for (int i = 0; i < NL; i++)
		assert_true(noted(s, d.l[i].id));
	assert_true(noted(s, d.newer_kind.id));
	assert_true(noted(s, d.newer_field.id));
	store_close(s);

	/* The same build again: its own notes are not read again. */
	s = open_with(dir, BIT(PROTO_KIND_LESSON), 0);
	assert_int_equal(reread_count(s, NULL), 0);
	assert_int_equal(notes(s), NL + 2);
	store_close(s);

	/* A build that reads lessons too: kind 30 and field 110 stay noted. */
	s = open_with(dir, 0, 0);
	assert_int_equal(reread_count(s, &indexed), NL + 2);
	assert_int_equal(indexed, NL);
	assert_int_equal(notes(s), 2);
	assert_true(noted(s, d.newer_kind.id));
	assert_true(noted(s, d.newer_field.id));
	assert_int_equal(query(s, "lodsejerne", PROTO_KIND_NONE).n, NL);
	assert_int_equal(query(s, NULL, (enum proto_kind)30).n, 1);   /* by kind, as before */
	store_close(s);
	th_rmdir(dir);
	data_free(&d);
}

/* The consistency an interrupted re-read must keep: every measure is
 * either still noted and not found by its words, or found and not noted;
 * found once; the BM25 totals are those of what is indexed. */
static void consistent(const char *dir, struct data *d, size_t *done)
{
	struct store *s;
	uint64_t doclen = 0;
	assert_int_equal(store_open(&s, dir, STORE_OPEN_READONLY), 0);
	struct hits h = query(s, "vådområde", PROTO_KIND_NONE);
	size_t found = 0;
	for (int i = 0; i < NM; i++) {
		bool f = hits_have(&h, d->m[i].id);
		assert_true(f != noted(s, d->m[i].id));
		found += f;
	}
	assert_int_equal(h.n, found);
	/* the total document length is the sum of the records' lengths */
	struct store_txn *t;
	MDB_cursor *c;
	MDB_val k, v;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(mdb_cursor_open(t->txn, s->recs, &c), 0);
	for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		doclen += store_get32((const uint8_t *)v.mv_data + 2);
	mdb_cursor_close(c);
	store_txn_end(t);
	assert_int_equal(counter(s, META_DOCLEN), doclen);
	store_close(s);
	*done = found;
}

static void test_unread__open_stopped_half_way_leaves_a_consistent_store_that_the_next_open_finishes(void **state)
{
	(void)state;
	struct data d;
	char *dir = th_tmpdir(), *rdir;
	size_t done = 0;
	bool partial = false;
	data_make(&d);
	struct store *s = open_with(dir, BIT(PROTO_KIND_MEASURE), 0);
	store_all(s, &d, false);
	store_close(s);

	/* Two records per transaction; every allocation of an open, in turn,
	 * fails: each open stops somewhere else, some half way through the
	 * re-read, which does not fail the open but says why it stopped. */
	struct store_hooks h = { .unread_batch = 2 };
	for (long k = 1;; k++) {
		struct store_reread rr = { 0 };
		s = NULL;
		failalloc_arm(k);
		int rc = store_open_hooked(&s, dir, 0, &h);
		bool failed = failalloc_disarm();
		if (rc == 0)
			store_open_reread(s, &rr);
		store_close(s);
		if (!failed) {
			assert_int_equal(rc, 0);
			assert_int_equal(rr.error, 0);
			break;
		}
		assert_true(rc != 0 || rr.error == -ENOMEM);
		consistent(dir, &d, &done);
		if (rc == 0)
			assert_int_equal(notes_in(dir), NM - done);
		partial |= done > 0 && done < NM;
	}
	assert_true(partial);   /* some open did stop half way */

	s = open_with(dir, 0, 0);
	assert_int_equal(notes(s), 0);
	struct store *ref = reference(&rdir, &d, false);
	same_as_reference(s, ref);
	store_close(ref);
	store_close(s);
	th_rmdir(rdir);
	th_rmdir(dir);
	data_free(&d);
}

static void test_unread__store_made_before_notes_existed_is_scanned_once(void **state)
{
	(void)state;
	struct data d;
	char *dir = th_tmpdir();
	data_make(&d);
	struct store *s = open_with(dir, 0, 0);
	store_all(s, &d, true);
	assert_int_equal(notes(s), 2);
	/* drop the notes, as a store of an older agora has none */
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_drop(txn, s->unread, 1), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	store_close(s);

	s = open_with(dir, 0, 0);
	assert_int_equal(notes(s), 2);
	assert_true(noted(s, d.newer_kind.id));
	assert_true(noted(s, d.newer_field.id));
	assert_int_equal(reread_count(s, NULL), 0);   /* noted under its own stamp */
	store_close(s);
	th_rmdir(dir);
	data_free(&d);
}

/* The full-text layer: a re-read record's posting replaces its old one
 * (its document length grew), in a block as in a tail. */
static void test_unread__reindexed_posting_replaces_the_old_one(void **state)
{
	(void)state;
	char *dir = th_tmpdir();
	struct store *s = open_with(dir, 0, 0);
	for (int replace = 0; replace < 2; replace++) {
		const char *w = replace ? "ordb" : "orda";
		struct fts_batch fb = { 0 };
		MDB_txn *txn;
		/* 400 postings: blocks, then a tail */
		assert_int_equal(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
		for (uint64_t rk = 1; rk <= 400; rk++)
			assert_int_equal(fts_batch_add(&fb, w, 4, rk << 16, 1, 3), 0);
		assert_int_equal(fts_batch_apply(txn, s, &fb), 0);
		fb.replace = replace;
		assert_int_equal(fts_batch_add(&fb, w, 4, 5 << 16, 2, 7), 0);     /* in a block */
		assert_int_equal(fts_batch_add(&fb, w, 4, 400 << 16, 2, 7), 0);   /* the last */
		assert_int_equal(fts_batch_apply(txn, s, &fb), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
		fts_batch_dispose(&fb);

		struct store_txn *t;
		struct fts_cur fc = { 0 };
		const struct fts_post *p;
		assert_int_equal(store_txn_begin(s, &t), 0);
		assert_int_equal(fts_cur_open(&fc, t->txn, s, w, 4, false), 0);
		assert_int_equal(fc.df, 400);
		for (uint64_t rk = 5; rk <= 400; rk += 395) {
			assert_int_equal(fts_cur_find(&fc, rk << 16, &p), 0);
			assert_non_null(p);
			assert_int_equal(p->dl, replace ? 7 : 3);
			assert_int_equal(p->tf, replace ? 2 : 1);
		}
		fts_cur_close(&fc);
		store_txn_end(t);
	}
	store_close(s);
	th_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unread__kind_read_after_upgrade_is_found_by_text_and_equals_a_fresh_index),
		cmocka_unit_test(test_unread__records_still_not_read_stay_noted_and_are_not_read_again),
		cmocka_unit_test(test_unread__open_stopped_half_way_leaves_a_consistent_store_that_the_next_open_finishes),
		cmocka_unit_test(test_unread__store_made_before_notes_existed_is_scanned_once),
		cmocka_unit_test(test_unread__reindexed_posting_replaces_the_old_one),
	};
	if (proto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
