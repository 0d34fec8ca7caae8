/* store_fx.c - the fixture and query helpers the store behaviour tests
 * share (see store_fx.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store_fx.h"

/* th_fx, but the charter is not ingested: the tests ingest it themselves
 * (th_fx_teardown frees it). */
int setup(void **state)
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

struct store_stats stats_of(struct store *s)
{
	struct store_txn *t;
	struct store_stats st;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_stats(t, &st), 0);
	store_txn_end(t);
	return st;
}

int collect_hit(const struct store_hit *h, void *ctx)
{
	struct ids *ids = ctx;
	if (ids->n < 64) {
		memcpy(ids->id[ids->n], h->rec.id, PROTO_ID_BYTES);
		ids->score[ids->n] = h->score;
	}
	ids->n++;
	return 0;
}

int collect_rec(const struct store_record *r, void *ctx)
{
	struct ids *ids = ctx;
	if (ids->n < 64)
		memcpy(ids->id[ids->n], r->id, PROTO_ID_BYTES);
	ids->n++;
	return 0;
}

struct ids run_query(struct store *s, const struct store_query *q)
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

struct ids text_query(struct store *s, const char *text)
{
	struct store_query q = { .text = text };
	return run_query(s, &q);
}
