/* fts_test.c - the full-text posting blocks: out-of-order insertion, block
 * splits, and BM25 scores equal to a brute-force computation. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "helper.h"
#include "storage/fts_int.h"
#include "storage/stem_int.h"


/* Ingest envs[0..n) in one store_ingest call; all must be new. */
static void ingest_all(struct store *s, struct th_env *envs, size_t n)
{
	struct store_item *items = calloc(n, sizeof *items);
	int *status = calloc(n, sizeof *status);
	struct store_ingest_stats st;
	for (size_t i = 0; i < n; i++) {
		items[i].env = envs[i].env;
		items[i].len = envs[i].len;
	}
	assert_int_equal(store_ingest(s, items, n, 0, TH_NOW, status, NULL, &st), 0);
	assert_int_equal(st.added, n);
	free(items);
	free(status);
}

struct seen {
	uint64_t *rk;
	double *score;
	uint8_t (*id)[PROTO_ID_BYTES];
	size_t n, cap;
};

static int seen_hit(const struct store_hit *h, void *ctx)
{
	struct seen *sn = ctx;
	if (sn->n == sn->cap) {
		sn->cap = sn->cap ? sn->cap * 2 : 256;
		sn->rk = realloc(sn->rk, sn->cap * sizeof *sn->rk);
		sn->score = realloc(sn->score, sn->cap * sizeof *sn->score);
		sn->id = realloc(sn->id, sn->cap * sizeof *sn->id);
	}
	sn->rk[sn->n] = h->rec.rowkey;
	sn->score[sn->n] = h->score;
	memcpy(sn->id[sn->n], h->rec.id, PROTO_ID_BYTES);
	sn->n++;
	return 0;
}

static void seen_free(struct seen *sn)
{
	free(sn->rk);
	free(sn->score);
	free(sn->id);
	memset(sn, 0, sizeof *sn);
}

static size_t run(struct store *s, const char *text, enum store_sort sort, size_t limit,
                  struct seen *sn, size_t *total)
{
	struct store_txn *t;
	struct store_query q;
	memset(&q, 0, sizeof q);
	q.text = text;
	q.sort = sort;
	q.limit = limit;
	seen_free(sn);
	assert_int_equal(store_txn_begin(s, &t), 0);
	int n = store_query(t, &q, seen_hit, sn, total);
	store_txn_end(t);
	assert_true(n >= 0);
	return (size_t)n;
}

/* Walk the blocks and the tail of a Danish word's term (th_measure
 * writes Danish): count the blocks, check sizes and order (the tail after
 * every block), return the postings, the tail's posting count and the df
 * (the tail's if there is one). */
static void walk_word(struct store *s, const char *da_word, size_t *nblocks, size_t *nposts,
                      size_t *ntail, uint64_t *df)
{
	struct text_terms tt;
	assert_int_equal(text_terms(s->stem, TEXT_LANG_DA, da_word, strlen(da_word), &tt), 0);
	assert_int_equal(tt.n, 1);
	const char *word = tt.t[0];
	struct store_txn *t;
	assert_int_equal(store_txn_begin(s, &t), 0);
	MDB_txn *txn = t->txn;
	MDB_cursor *c;
	assert_int_equal(mdb_cursor_open(txn, s->fts, &c), 0);
	size_t wl = strlen(word);
	uint8_t key[FTS_KEY_MAX];
	memcpy(key, word, wl);
	key[wl] = 0;
	memset(key + wl + 1, 0, 8);
	MDB_val k = { wl + 9, key }, v;
	struct fts_post *p = malloc(FTS_BLOCK_POSTS * sizeof *p);
	uint64_t last_rk = 0, bdf = 0;
	*nblocks = *nposts = 0;
	int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size == wl + 9 && memcmp(k.mv_data, key, wl + 1) == 0) {
		size_t n;
		uint64_t first = store_get64((uint8_t *)k.mv_data + wl + 1);
		assert_true(v.mv_size <= FTS_BLOCK_MAX);
		assert_int_equal(fts_block_decode(v.mv_data, v.mv_size, first, false, &bdf, p,
		                                  FTS_BLOCK_POSTS, &n), 0);
		for (size_t i = 0; i < n; i++) {
			assert_true(*nposts == 0 || p[i].rk > last_rk);
			last_rk = p[i].rk;
		}
		(*nblocks)++;
		*nposts += n;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	*df = bdf;
	*ntail = 0;
	MDB_val tk = { wl, (void *)word }, tv;
	if (mdb_get(txn, s->ftst, &tk, &tv) == 0) {
		size_t n;
		assert_true(tv.mv_size >= 9 && tv.mv_size <= 8 + FTS_TAIL_MAX);
		assert_int_equal(fts_block_decode((uint8_t *)tv.mv_data + 8, tv.mv_size - 8,
		                                  store_get64(tv.mv_data), false, df, p, FTS_BLOCK_POSTS,
		                                  &n), 0);
		assert_true(*nposts == 0 || p[0].rk > last_rk);
		for (size_t i = 1; i < n; i++)
			assert_true(p[i].rk > p[i - 1].rk);
		*ntail = n;
		*nposts += n;
	}
	free(p);
	mdb_cursor_close(c);
	store_txn_end(t);
}

static void assert_rowkey_order(const struct seen *sn, bool desc)
{
	for (size_t i = 1; i < sn->n; i++)
		assert_true(desc ? sn->rk[i] < sn->rk[i - 1] : sn->rk[i] > sn->rk[i - 1]);
}

static void test_store_fts__older_records_ingested_later_are_merged_in_order(void **state)
{
	struct th_fx *x = *state;
	enum { N = 3000 };
	struct th_env *a = calloc(N, sizeof *a), *b = calloc(N, sizeof *b);
	/* feed 1: newer records; feed 2 (ingested later): older ones,
	 * interleaved in time with one another but all below feed 1 */
	for (size_t i = 0; i < N; i++) {
		char title[64];
		snprintf(title, sizeof title, "wetland %s", i % 3 ? "dike" : "forest");
		a[i] = th_measure(&x->f1, title, "restoration", TH_NOW - 1000000 + i * 10);
		b[i] = th_measure(&x->f2, title, i % 2 ? "wetland again" : "pump",
		                  TH_NOW - 5000000 + i * 7 + (i % 5) * 3);
	}
	ingest_all(x->s, a, N);
	/* the second batch: half in one call, then the rest, older first */
	ingest_all(x->s, b, N / 2);
	ingest_all(x->s, b + N / 2, N - N / 2);

	struct seen sn = { 0 };
	size_t total;
	assert_int_equal(run(x->s, "wetland", STORE_SORT_NEWEST, 0, &sn, &total), 2 * N);
	assert_int_equal(total, 2 * N);
	assert_rowkey_order(&sn, true);
	assert_int_equal(run(x->s, "Wetland", STORE_SORT_OLDEST, 0, &sn, &total), 2 * N);
	assert_rowkey_order(&sn, false);
	/* the oldest is feed 2's first record, the newest feed 1's last */
	assert_memory_equal(sn.id[0], b[0].id, PROTO_ID_BYTES);
	assert_memory_equal(sn.id[2 * N - 1], a[N - 1].id, PROTO_ID_BYTES);
	/* AND over two lists that each span both feeds */
	size_t want = 0;
	for (size_t i = 0; i < N; i++)
		want += (i % 3 ? 1 : 0) * 2;
	assert_int_equal(run(x->s, "wetland dike", STORE_SORT_NEWEST, 0, &sn, NULL), want);
	assert_rowkey_order(&sn, true);
	/* limit: the newest 20 are feed 1's last 20 */
	assert_int_equal(run(x->s, "restoration wetland", STORE_SORT_NEWEST, 20, &sn, NULL), 20);
	for (size_t i = 0; i < 20; i++)
		assert_memory_equal(sn.id[i], a[N - 1 - i].id, PROTO_ID_BYTES);

	size_t nb, np, nt;
	uint64_t df;
	walk_word(x->s, "wetland", &nb, &np, &nt, &df);
	assert_int_equal(np, 2 * N);
	assert_int_equal(df, 2 * N);
	assert_true(nb > 2);
	seen_free(&sn);
	for (size_t i = 0; i < N; i++) {
		th_env_free(&a[i]);
		th_env_free(&b[i]);
	}
	free(a);
	free(b);
}

static void test_store_fts__one_word_in_ten_thousand_records_splits_blocks(void **state)
{
	struct th_fx *x = *state;
	enum { N = 10000 };
	struct th_env *e = calloc(N, sizeof *e);
	for (size_t i = 0; i < N; i++) {
		char sum[64];
		snprintf(sum, sizeof sum, "n%zu", i);
		e[i] = th_measure(&x->f1, "klimatilpasning", sum, TH_NOW - 2000000 + i * 100);
	}
	/* several transactions, so the last block is appended to and split */
	for (size_t i = 0; i < N; i += 2500)
		ingest_all(x->s, e + i, 2500);
	size_t nb, np, nt;
	uint64_t df;
	walk_word(x->s, "klimatilpasning", &nb, &np, &nt, &df);
	assert_int_equal(np, N);
	assert_int_equal(df, N);
	assert_true(nb >= N * 3 / FTS_BLOCK_MAX);  /* >= 3 bytes per posting */

	struct seen sn = { 0 };
	size_t total;
	assert_int_equal(run(x->s, "KLIMATILPASNING", STORE_SORT_NEWEST, 0, &sn, &total), N);
	assert_int_equal(total, N);
	assert_rowkey_order(&sn, true);
	assert_int_equal(run(x->s, "klimatilpasning", STORE_SORT_OLDEST, 7, &sn, NULL), 7);
	for (size_t i = 0; i < 7; i++)
		assert_memory_equal(sn.id[i], e[i].id, PROTO_ID_BYTES);
	/* membership across block boundaries: every record's own word */
	for (size_t i = 0; i < N; i += 997) {
		char q[64];
		snprintf(q, sizeof q, "klimatilpasning n%zu", i);
		assert_int_equal(run(x->s, q, STORE_SORT_RELEVANCE, 5, &sn, NULL), 1);
		assert_memory_equal(sn.id[0], e[i].id, PROTO_ID_BYTES);
	}
	seen_free(&sn);
	for (size_t i = 0; i < N; i++)
		th_env_free(&e[i]);
	free(e);
}

/* A small corpus: each document is a title and a summary of words. */
static const char *const corpus[][2] = {
	{ "heat pump", "district heat for the town" },
	{ "heat heat heat", "pump" },
	{ "wetland", "wetland restoration with heat from the sun and a pump near the coast" },
	{ "cycling", "bike lanes" },
	{ "heat", "a long text about many other things that are not the query words at all" },
	{ "pump pump", "heat" },
	{ "solar", "heat" },
	{ "district heat pump", "pump heat district" },
};
#define NDOC (sizeof corpus / sizeof corpus[0])

static size_t count_words(const char *s, const char *w, size_t *len)
{
	size_t n = 0, c = 0;
	char buf[256];
	snprintf(buf, sizeof buf, "%s", s);
	for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
		n++;
		if (strcmp(tok, w) == 0)
			c++;
	}
	*len += n;
	return c;
}

static void test_store_fts__bm25_scores_equal_brute_force(void **state)
{
	struct th_fx *x = *state;
	struct th_env e[NDOC];
	for (size_t i = 0; i < NDOC; i++)
		e[i] = th_measure(&x->f1, corpus[i][0], corpus[i][1], TH_NOW - 100000 + i);
	ingest_all(x->s, e, NDOC);

	/* brute force: the charter "DK2020" is one more document of 1 word */
	const char *qw[2] = { "heat", "pump" };
	double ndocs = NDOC + 1, total_len = 1;
	size_t dl[NDOC], tf[NDOC][2], df[2] = { 0, 0 };
	for (size_t i = 0; i < NDOC; i++) {
		dl[i] = 0;
		for (int w = 0; w < 2; w++) {
			size_t l = 0;
			tf[i][w] = count_words(corpus[i][0], qw[w], &l) +
			           count_words(corpus[i][1], qw[w], &l);
			if (w == 0)
				dl[i] = l;
			if (tf[i][w])
				df[w]++;
		}
		total_len += (double)dl[i];
	}
	double avgdl = total_len / ndocs, want[NDOC];
	size_t nmatch = 0;
	for (size_t i = 0; i < NDOC; i++) {
		want[i] = -1;
		if (!tf[i][0] || !tf[i][1])
			continue;
		double sc = 0;
		for (int w = 0; w < 2; w++) {
			double idf = log(1 + (ndocs - (double)df[w] + 0.5) / ((double)df[w] + 0.5));
			double f = (double)tf[i][w];
			sc += idf * f * 2.2 / (f + 1.2 * (0.25 + 0.75 * (double)dl[i] / avgdl));
		}
		want[i] = sc;
		nmatch++;
	}

	struct seen sn = { 0 };
	size_t total;
	assert_int_equal(run(x->s, "heat pump", STORE_SORT_RELEVANCE, 0, &sn, &total), nmatch);
	assert_int_equal(total, nmatch);
	for (size_t h = 0; h < sn.n; h++) {
		size_t i = NDOC;
		for (size_t d = 0; d < NDOC; d++)
			if (memcmp(sn.id[h], e[d].id, PROTO_ID_BYTES) == 0)
				i = d;
		assert_true(i < NDOC);
		assert_true(want[i] >= 0);
		assert_true(fabs(sn.score[h] - want[i]) < 1e-9);
		if (h)
			assert_true(sn.score[h] <= sn.score[h - 1]);
	}
	/* the same scores come with newest-first order and with a limit */
	double best = sn.score[0];
	assert_int_equal(run(x->s, "pump heat", STORE_SORT_RELEVANCE, 1, &sn, NULL), 1);
	assert_true(fabs(sn.score[0] - best) < 1e-9);
	assert_int_equal(run(x->s, "heat pump", STORE_SORT_NEWEST, 0, &sn, NULL), nmatch);
	for (size_t h = 0; h < sn.n; h++)
		for (size_t d = 0; d < NDOC; d++)
			if (memcmp(sn.id[h], e[d].id, PROTO_ID_BYTES) == 0)
				assert_true(fabs(sn.score[h] - want[d]) < 1e-9);
	seen_free(&sn);
	for (size_t i = 0; i < NDOC; i++)
		th_env_free(&e[i]);
}

/* Turn the store into a layout-1 one: version 1, an old "fts" DBI, and
 * no blocks or hide entries. */
static int downgrade_cb(MDB_txn *txn, void *ctx)
{
	struct store *s = ctx;
	MDB_dbi old;
	int rc;
	uint8_t one[8] = { 0, 0, 0, 0, 0, 0, 0, 1 }, rk[9] = { 0 };
	MDB_val k = { 8, (void *)"~version" }, v = { 8, one };
	if ((rc = mdb_put(txn, s->meta, &k, &v, 0)) || (rc = mdb_drop(txn, s->fts, 0)) ||
	    (rc = mdb_drop(txn, s->ftst, 0)) ||
	    (rc = mdb_drop(txn, s->hide, 0)) ||
	    (rc = mdb_dbi_open(txn, "fts", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED, &old)))
		return rc;
	MDB_val ok = { 4, (void *)"heat" }, ov = { 9, rk };
	return mdb_put(txn, old, &ok, &ov, 0);
}

static void test_store_open__layout_1_store_is_reindexed(void **state)
{
	struct th_fx *x = *state;
	struct th_env e[NDOC];
	for (size_t i = 0; i < NDOC; i++)
		e[i] = th_measure(&x->f1, corpus[i][0], corpus[i][1], TH_NOW - 100000 + i);
	ingest_all(x->s, e, NDOC);
	struct seen before = { 0 }, after = { 0 };
	size_t n = run(x->s, "heat pump", STORE_SORT_RELEVANCE, 0, &before, NULL);
	assert_true(n > 0);
	assert_int_equal(store_write(x->s, downgrade_cb, x->s), 0);
	assert_int_equal(run(x->s, "heat pump", STORE_SORT_RELEVANCE, 0, &after, NULL), 0);
	store_close(x->s);
	assert_int_equal(store_open(&x->s, x->dir, 0), 0);
	assert_int_equal(run(x->s, "heat pump", STORE_SORT_RELEVANCE, 0, &after, NULL), n);
	for (size_t i = 0; i < n; i++) {
		assert_memory_equal(after.id[i], before.id[i], PROTO_ID_BYTES);
		assert_true(fabs(after.score[i] - before.score[i]) < 1e-12);
	}
	/* the charter is hidden again: found only with governance */
	struct store_txn *t;
	struct store_query q;
	memset(&q, 0, sizeof q);
	q.text = "dk2020";
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	assert_int_equal(store_query(t, &q, seen_hit, &after, NULL), 0);
	q.governance = true;
	assert_int_equal(store_query(t, &q, seen_hit, &after, NULL), 1);
	store_txn_end(t);
	seen_free(&before);
	seen_free(&after);
	for (size_t i = 0; i < NDOC; i++)
		th_env_free(&e[i]);
}

/*
 * A rare word arriving one record per transaction lives in the word's
 * small tail until the tail is full, then moves into the blocks: through
 * all of it every posting is found exactly once, in order, from either
 * end, by membership, and the df is right.
 */
static void test_store_fts__tail_fills_and_moves_into_blocks(void **state)
{
	struct th_fx *x = *state;
	enum { N = 400 };
	struct th_env *e = calloc(N, sizeof *e);
	size_t nb, np, nt, tail_max = 0, moves = 0, prev_nt = 0;
	uint64_t df;
	for (size_t i = 0; i < N; i++) {
		char sum[32];
		snprintf(sum, sizeof sum, "r%zu", i);
		e[i] = th_measure(&x->f1, "vandhaner", sum, TH_NOW - 2000000 + i * 1000);
		ingest_all(x->s, e + i, 1);
		walk_word(x->s, "vandhaner", &nb, &np, &nt, &df);
		assert_int_equal(np, i + 1);
		assert_int_equal(df, i + 1);
		if (nt < prev_nt)
			moves++;
		prev_nt = nt;
		tail_max = nt > tail_max ? nt : tail_max;
	}
	assert_true(moves >= 2);              /* the tail filled and moved more than once */
	assert_true(nb >= 1 && tail_max > 10);
	struct seen sn = { 0 };
	size_t total;
	assert_int_equal(run(x->s, "vandhaner", STORE_SORT_NEWEST, 0, &sn, &total), N);
	assert_int_equal(total, N);
	assert_rowkey_order(&sn, true);
	assert_memory_equal(sn.id[0], e[N - 1].id, PROTO_ID_BYTES);
	assert_int_equal(run(x->s, "vandhaner", STORE_SORT_OLDEST, 0, &sn, NULL), N);
	assert_rowkey_order(&sn, false);
	assert_memory_equal(sn.id[0], e[0].id, PROTO_ID_BYTES);
	for (size_t i = 0; i < N; i += 37) {   /* membership: in blocks and in the tail */
		char q[48];
		snprintf(q, sizeof q, "r%zu vandhaner", i);
		assert_int_equal(run(x->s, q, STORE_SORT_RELEVANCE, 5, &sn, NULL), 1);
		assert_memory_equal(sn.id[0], e[i].id, PROTO_ID_BYTES);
	}
	assert_int_equal(run(x->s, "r399 vandhaner", STORE_SORT_RELEVANCE, 5, &sn, NULL), 1);
	seen_free(&sn);
	for (size_t i = 0; i < N; i++)
		th_env_free(&e[i]);
	free(e);
}

/* Older records after a tail exists (a feed caught up late): the tail and
 * the old postings go into the blocks, still in order and counted once. */
static void test_store_fts__older_postings_after_a_tail_move_it_into_blocks(void **state)
{
	struct th_fx *x = *state;
	enum { N = 30 };
	struct th_env a[N], b[N];
	size_t nb, np, nt;
	uint64_t df;
	for (size_t i = 0; i < N; i++) {
		a[i] = th_measure(&x->f1, "sluse", NULL, TH_NOW - 100000 + i);
		b[i] = th_measure(&x->f2, "sluse", NULL, TH_NOW - 900000 + i);   /* older */
	}
	ingest_all(x->s, a, N);
	walk_word(x->s, "sluse", &nb, &np, &nt, &df);
	assert_int_equal(nt, N);                /* all new: in the tail */
	assert_int_equal(nb, 0);
	for (size_t i = 0; i < N; i += 10)      /* older ones, a few at a time */
		ingest_all(x->s, b + i, 10);
	walk_word(x->s, "sluse", &nb, &np, &nt, &df);
	assert_int_equal(np, 2 * N);
	assert_int_equal(df, 2 * N);
	struct seen sn = { 0 };
	assert_int_equal(run(x->s, "sluse", STORE_SORT_OLDEST, 0, &sn, NULL), 2 * N);
	assert_rowkey_order(&sn, false);
	assert_memory_equal(sn.id[0], b[0].id, PROTO_ID_BYTES);
	assert_memory_equal(sn.id[2 * N - 1], a[N - 1].id, PROTO_ID_BYTES);
	seen_free(&sn);
	for (size_t i = 0; i < N; i++) {
		th_env_free(&a[i]);
		th_env_free(&b[i]);
	}
}

/* Layout 2 had no tails: such a store opens read-only (queries read the
 * blocks alone) and becomes the current layout on its first read-write open.
 * to_layout2_cb rewrites the blocks of one term as layout 2 wrote them:
 * postings without next signatures (the word is its own Danish stem, so
 * the term is what layout 2 held), in one block. */
static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static const char *layout2_word = "klimatilpasning";

static int to_layout2_cb(MDB_txn *txn, void *ctx)
{
	struct store *s = ctx;
	uint8_t two[8] = { 0, 0, 0, 0, 0, 0, 0, 2 };
	MDB_val k = { 8, (void *)"~version" }, v = { 8, two };
	int rc = mdb_put(txn, s->meta, &k, &v, 0);
	if (rc || (rc = mdb_drop(txn, s->ftst, 1)))
		return rc;
	size_t wl = strlen(layout2_word), n = 0, nb;
	struct fts_post *all = malloc(4096 * sizeof *all), *p = malloc(FTS_BLOCK_POSTS * sizeof *p);
	uint8_t key[FTS_KEY_MAX], block[FTS_BLOCK_MAX * 2];
	memcpy(key, layout2_word, wl);
	key[wl] = 0;
	memset(key + wl + 1, 0, 8);
	MDB_cursor *c;
	uint64_t df;
	assert_int_equal(mdb_cursor_open(txn, s->fts, &c), 0);
	MDB_val bk = { wl + 9, key }, bv;
	while (mdb_cursor_get(c, &bk, &bv, MDB_SET_RANGE) == 0 && bk.mv_size == wl + 9 &&
	       memcmp(bk.mv_data, key, wl + 1) == 0) {
		assert_int_equal(fts_block_decode(bv.mv_data, bv.mv_size,
		                                  store_get64((uint8_t *)bk.mv_data + wl + 1), false,
		                                  &df, p, FTS_BLOCK_POSTS, &nb), 0);
		memcpy(all + n, p, nb * sizeof *p);
		n += nb;
		assert_int_equal(mdb_cursor_del(c, 0), 0);
		bk.mv_size = wl + 9;
		bk.mv_data = key;
	}
	mdb_cursor_close(c);
	size_t o = put_varint(block, n);
	for (size_t i = 0; i < n; i++) {
		if (i)
			o += put_varint(block + o, all[i].rk - all[i - 1].rk);
		block[o++] = all[i].tf;
		o += put_varint(block + o, all[i].dl);
	}
	assert_true(o <= FTS_BLOCK_MAX);
	store_be64(key + wl + 1, all[0].rk);
	MDB_val nk = { wl + 9, key }, nv = { o, block };
	rc = mdb_put(txn, s->fts, &nk, &nv, 0);
	free(all);
	free(p);
	return rc;
}

static void test_store_open__layout_2_store_without_tails_opens(void **state)
{
	struct th_fx *x = *state;
	enum { N = 300 };   /* one word in every record: its postings fill blocks */
	struct th_env *e = calloc(N, sizeof *e);
	for (size_t i = 0; i < N; i++)
		e[i] = th_measure(&x->f1, "klimatilpasning", NULL, TH_NOW - 500000 + i);
	ingest_all(x->s, e, N);
	size_t nb, np, nt;
	uint64_t df;
	walk_word(x->s, "klimatilpasning", &nb, &np, &nt, &df);
	assert_int_equal(nt, 0);   /* too many for a tail */
	assert_int_equal(store_write(x->s, to_layout2_cb, x->s), 0);
	store_close(x->s);
	assert_int_equal(store_open(&x->s, x->dir, STORE_OPEN_READONLY), 0);
	struct seen sn = { 0 };
	assert_int_equal(run(x->s, "klimatilpasning", STORE_SORT_NEWEST, 0, &sn, NULL), N);
	store_close(x->s);
	assert_int_equal(store_open(&x->s, x->dir, 0), 0);
	struct th_env more = th_measure(&x->f1, "klimatilpasning", NULL, TH_NOW - 1000);
	ingest_all(x->s, &more, 1);
	walk_word(x->s, "klimatilpasning", &nb, &np, &nt, &df);
	assert_int_equal(nt, 1);   /* the new one starts a tail */
	assert_int_equal(df, N + 1);
	assert_int_equal(run(x->s, "klimatilpasning", STORE_SORT_NEWEST, 0, &sn, NULL), N + 1);
	assert_memory_equal(sn.id[0], more.id, PROTO_ID_BYTES);
	seen_free(&sn);
	th_env_free(&more);
	for (size_t i = 0; i < N; i++)
		th_env_free(&e[i]);
	free(e);
}

#define T(f) cmocka_unit_test_setup_teardown(f, th_fx_setup, th_fx_teardown)

int main(void)
{
	if (proto_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		T(test_store_fts__older_records_ingested_later_are_merged_in_order),
		T(test_store_fts__one_word_in_ten_thousand_records_splits_blocks),
		T(test_store_fts__bm25_scores_equal_brute_force),
		T(test_store_open__layout_1_store_is_reindexed),
		T(test_store_fts__tail_fills_and_moves_into_blocks),
		T(test_store_fts__older_postings_after_a_tail_move_it_into_blocks),
		T(test_store_open__layout_2_store_without_tails_opens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
