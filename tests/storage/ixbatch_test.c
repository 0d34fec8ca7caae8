/*
 * ixbatch_test.c - index postings written per transaction (ix_batch and
 * fts_batch) land in the right place when records arrive out of creation
 * order: older than what a key already holds, mixed old and new in one
 * batch, and out of order inside one batch.  Queries must return every
 * record, newest first, whichever way its postings were put.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "helper.h"

#define NKEYS 5

struct fx {
	char *dir;
	struct store *s;
	struct proto_key *k[NKEYS];
	struct th_feed f[NKEYS];
	struct th_env charter;
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof *x);
	x->dir = th_tmpdir();
	assert_int_equal(store_open(&x->s, x->dir, 0), 0);
	for (unsigned i = 0; i < NKEYS; i++)
		x->k[i] = th_key(i + 1);
	x->charter = th_charter(&x->f[0], x->k[0], "DK2020", TH_NOW - 100000);
	for (unsigned i = 1; i < NKEYS; i++)
		th_feed_init(&x->f[i], x->k[i], x->f[0].alliance);
	assert_int_equal(th_ingest1(x->s, &x->charter), STORE_NEW);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	store_close(x->s);
	th_rmdir(x->dir);
	th_env_free(&x->charter);
	for (unsigned i = 0; i < NKEYS; i++)
		proto_key_free(x->k[i]);
	free(x);
	return 0;
}

struct hits {
	uint64_t rowkey[64];
	size_t n;
};

static int hit_cb(const struct store_hit *h, void *ctx)
{
	struct hits *hs = ctx;
	assert_true(hs->n < 64);
	hs->rowkey[hs->n++] = h->rec.rowkey;
	return 0;
}

static struct hits query(struct store *s, const struct store_query *q)
{
	struct hits hs = { .n = 0 };
	struct store_txn *t;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_true(store_query(t, q, hit_cb, &hs, NULL) >= 0);
	store_txn_end(t);
	return hs;
}

static void ingest_batch(struct store *s, struct th_env *e, size_t n)
{
	struct store_item items[16];
	int status[16];
	struct store_ingest_stats st;
	assert_true(n <= 16);
	for (size_t i = 0; i < n; i++)
		items[i] = (struct store_item){ e[i].env, e[i].len };
	assert_int_equal(store_ingest(s, items, n, 0, TH_NOW, status, NULL, &st), 0);
	assert_int_equal(st.added, n);
	for (size_t i = 0; i < n; i++)
		th_env_free(&e[i]);
}

static void test_store_ixbatch__late_and_unordered_records_are_all_found_newest_first(void **state)
{
	struct fx *x = *state;
	struct th_env e[4];
	/* batch 1: the newest so far */
	e[0] = th_measure(&x->f[1], "Wetland one", "eng wetland", TH_NOW - 50);
	e[1] = th_measure(&x->f[1], "Wetland two", "eng wetland", TH_NOW - 40);
	ingest_batch(x->s, e, 2);
	/* batch 2: both older than everything held (put one by one) */
	e[0] = th_measure(&x->f[2], "Wetland three", "eng wetland", TH_NOW - 90);
	e[1] = th_measure(&x->f[2], "Wetland four", "eng wetland", TH_NOW - 45);
	ingest_batch(x->s, e, 2);
	/* batch 3: one older, one newer (split between both ways) */
	e[0] = th_measure(&x->f[3], "Wetland five", "eng wetland", TH_NOW - 95);
	e[1] = th_measure(&x->f[3], "Wetland six", "eng wetland", TH_NOW - 10);
	ingest_batch(x->s, e, 2);
	/* batch 4: out of creation order inside the batch */
	e[0] = th_measure(&x->f[4], "Wetland seven", "eng wetland", TH_NOW - 5);
	e[1] = th_measure(&x->f[1], "Wetland eight", "eng wetland", TH_NOW - 7);
	e[2] = th_measure(&x->f[2], "Wetland nine", "eng wetland", TH_NOW - 6);
	e[3] = th_measure(&x->f[3], "Wetland ten", "eng wetland", TH_NOW - 8);
	ingest_batch(x->s, e, 4);

	struct store_query qs[3] = {
		{ .kind = PROTO_KIND_MEASURE },
		{ .alliance = x->f[0].alliance },
		{ .text = "wetland eng" },
	};
	for (int i = 0; i < 3; i++) {
		struct hits h = query(x->s, &qs[i]);
		assert_int_equal(h.n, 10);
		for (size_t j = 1; j < h.n; j++)
			assert_true(h.rowkey[j - 1] > h.rowkey[j]);
		/* newest: TH_NOW - 5, oldest: TH_NOW - 95 */
		assert_int_equal(h.rowkey[0] >> 16, TH_NOW - 5);
		assert_int_equal(h.rowkey[9] >> 16, TH_NOW - 95);
	}
	/* one author's postings, put in three different batches */
	const uint8_t (*a)[PROTO_KEY_BYTES] = (const uint8_t (*)[PROTO_KEY_BYTES])x->k[2]->pk;
	struct store_query qa = { .authors = a, .n_authors = 1 };
	struct hits h = query(x->s, &qa);
	assert_int_equal(h.n, 3);
	assert_int_equal(h.rowkey[0] >> 16, TH_NOW - 6);
	assert_int_equal(h.rowkey[2] >> 16, TH_NOW - 90);
}

static void test_store_ixbatch__word_repeated_in_record_counts_once_per_record(void **state)
{
	struct fx *x = *state;
	struct th_env e[2];
	e[0] = th_measure(&x->f[1], "Eng eng ENG", "eng", TH_NOW - 20);
	e[1] = th_measure(&x->f[1], "Eng", "skov", TH_NOW - 10);
	ingest_batch(x->s, e, 2);
	struct store_query q = { .text = "eng", .sort = STORE_SORT_RELEVANCE };
	struct hits h = query(x->s, &q);
	assert_int_equal(h.n, 2);
	/* the record with four occurrences ranks first */
	assert_int_equal(h.rowkey[0] >> 16, TH_NOW - 20);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	if (proto_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		T(test_store_ixbatch__late_and_unordered_records_are_all_found_newest_first),
		T(test_store_ixbatch__word_repeated_in_record_counts_once_per_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
