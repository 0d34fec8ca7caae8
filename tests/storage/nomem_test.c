/*
 * nomem_test.c - the store when memory runs out.  malloc, calloc and realloc
 * are wrapped at link time (-Wl,--wrap=...), so every allocation made by
 * agora's own code (the storage and proto libraries) can be made to fail.
 * For k = 1, 2, ... the k-th allocation of one round fails: open the store,
 * ingest a batch (verified on two threads; ids moving between the id
 * levels), publish, query by index and by text, resolve and read by id,
 * close.  (Allocations inside LMDB and protobuf-c, shared libraries, are
 * out of the wrapper's reach.)  Each round must end in an error or
 * success, never a crash; the store must then hold all of a batch or none
 * of it; and under AddressSanitizer no round may leak.  The rounds stop
 * when one runs through without meeting its failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "failalloc.h"
#include "helper.h"
#include "storage/store_int.h"

enum { NREC = 70 };   /* >= 64: store_ingest verifies on a second thread */

struct world {
	struct proto_key *key;
	struct th_feed feed;
	struct th_env charter;
	struct th_env recs[NREC];
};

static int count_hit(const struct store_hit *h, void *ctx)
{
	(void)h;
	(*(size_t *)ctx)++;
	return 0;
}

/* How many of the batch's records the store holds. */
static size_t batch_held(const struct world *w, const char *dir)
{
	struct store *s;
	struct store_txn *t;
	struct store_record rec;
	size_t n = 0;
	assert_int_equal(store_open(&s, dir, 0), 0);
	assert_int_equal(store_txn_begin(s, &t), 0);
	for (size_t i = 0; i < NREC; i++)
		n += store_get(t, w->recs[i].id, &rec) == 0;
	store_txn_end(t);
	store_close(s);
	return n;
}

/* One round under the fault plan: any step may fail, none may crash. */
static void round_run(struct world *w, const char *dir)
{
	struct store *s;
	int rc = store_open(&s, dir, 0);
	if (rc < 0)
		return;
	s->id_batch = 4;   /* small id levels: the ingest moves ids between them */
	struct store_item items[NREC];
	int status[NREC];
	for (size_t i = 0; i < NREC; i++)
		items[i] = (struct store_item){ w->recs[i].env, w->recs[i].len };
	(void)store_ingest(s, items, NREC, STORE_INGEST_ATOMIC, TH_NOW, status, NULL, NULL);

	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Measure m = AGORA__MEASURE__INIT;
	m.title = "Klimapulje for borgere";
	m.language = "da";
	m.has_adaptation = 1;
	m.adaptation = 1;
	r.body_case = AGORA__RECORD__BODY_MEASURE;
	r.measure = &m;
	(void)store_publish(s, w->key, w->feed.alliance, &r, TH_NOW, NULL, NULL, NULL, NULL);

	struct store_txn *t;
	if (store_txn_begin(s, &t) == 0) {
		struct store_query q = { .text = "vådområde", .limit = 10 };
		size_t hits = 0;
		(void)store_query(t, &q, count_hit, &hits, NULL);
		/* a phrase, a prefix and a word without its marks, ranked */
		q.text = "\"vådområde nr\" ådal* assens";
		q.sort = STORE_SORT_RELEVANCE;
		(void)store_query(t, &q, count_hit, &hits, NULL);
		memset(&q, 0, sizeof q);
		q.kind = PROTO_KIND_MEASURE;
		q.sort = STORE_SORT_NEWEST;
		(void)store_query(t, &q, count_hit, &hits, NULL);
		char hex[PROTO_ID_HEX + 1];
		uint8_t id[PROTO_ID_BYTES];
		struct store_record rec;
		proto_hex(hex, w->recs[3].id, PROTO_ID_BYTES);
		hex[10] = 0;
		if (store_resolve(t, hex, id) == 0)
			(void)store_get(t, id, &rec);
		store_txn_end(t);
	}
	store_close(s);
}

static void test_store__every_failed_allocation_is_an_error_not_a_crash_or_leak(void **state)
{
	(void)state;
	struct world w;
	w.key = th_key(1);
	w.charter = th_charter(&w.feed, w.key, "DK2020", TH_NOW - 10000000);
	for (size_t i = 0; i < NREC; i++) {
		char title[64];
		snprintf(title, sizeof title, "Vådområde nr. %zu ved Assens", i);
		w.recs[i] = th_measure(&w.feed, title, "Genopretning af ådal og eng",
		                       TH_NOW - 100000 + i);
	}
	size_t rounds = 0, all = 0, none = 0;
	for (long k = 1;; k++) {
		char *dir = th_tmpdir();
		struct store *s;
		assert_int_equal(store_open(&s, dir, 0), 0);
		assert_int_equal(th_ingest1(s, &w.charter), STORE_NEW);
		store_close(s);

		failalloc_arm(k);
		round_run(&w, dir);
		bool met = failalloc_disarm();

		/* all of the batch or none of it */
		size_t n = batch_held(&w, dir);
		if (n == NREC)
			all++;
		else if (n == 0)
			none++;
		else
			fail_msg("round %ld: %zu of the batch's %d records were stored", k, n, NREC);
		th_rmdir(dir);
		rounds++;
		if (!met)
			break;   /* this round had fewer allocations than k: done */
		assert_true(k < 200000);
	}
	/* the plan reached the end of the round, failing the ingest on the way */
	assert_true(rounds > 100);
	assert_true(all > 0 && none > 0);
	printf("  %zu rounds: %zu stored the batch, %zu stored none of it\n", rounds, all, none);
	th_env_free(&w.charter);
	for (size_t i = 0; i < NREC; i++)
		th_env_free(&w.recs[i]);
	proto_key_free(w.key);
}

int main(void)
{
	if (proto_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store__every_failed_allocation_is_an_error_not_a_crash_or_leak),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
