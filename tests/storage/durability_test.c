/*
 * durability_test.c - which writes are flushed to disk before they return
 * (storage/store.c, "Durability"): every write but a received batch takes
 * two flushes (the commit's data pages, then its meta page); a batch
 * stored with STORE_INGEST_RECEIVED takes one, its meta page left to the
 * next write or store_close.  The flushes are counted by interposing
 * fdatasync and fsync, which LMDB (a shared library) calls through the
 * dynamic linker, and passing each call on to the C library.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "helper.h"

static atomic_int flushes;

int fdatasync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	atomic_fetch_add(&flushes, 1);
	return real ? real(fd) : 0;
}

int fsync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	atomic_fetch_add(&flushes, 1);
	return real ? real(fd) : 0;
}

static int ingest(struct store *s, const struct th_env *e, unsigned flags)
{
	struct store_item it = { e->env, e->len };
	int st = -1;
	int rc = store_ingest(s, &it, 1, flags, TH_NOW, &st, NULL, NULL);
	return rc ? rc : st;
}

static uint64_t records(struct store *s)
{
	struct store_txn *t;
	struct store_stats st;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_stats(t, &st), 0);
	store_txn_end(t);
	return st.records;
}

/*
 * A record ingested as any write is flushed twice before the call
 * returns (data, then meta page); one received from a peer once (data
 * only).  Closing the store flushes that meta page, and a reopened store
 * holds both records.
 */
static void test_durability__received_batch_saves_the_meta_flush_others_keep_it(void **state)
{
	struct th_fx *fx = *state;
	struct th_env a = th_measure(&fx->f1, "Heat pumps", "for the schools", TH_NOW - 5000);
	struct th_env b = th_measure(&fx->f1, "Cycle lanes", "along the harbour", TH_NOW - 4000);

	atomic_store(&flushes, 0);
	assert_int_equal(ingest(fx->s, &a, 0), STORE_NEW);
	assert_int_equal(atomic_load(&flushes), 2);

	atomic_store(&flushes, 0);
	assert_int_equal(ingest(fx->s, &b, STORE_INGEST_RECEIVED), STORE_NEW);
	assert_int_equal(atomic_load(&flushes), 1);

	atomic_store(&flushes, 0);
	store_close(fx->s);
	fx->s = NULL;
	assert_true(atomic_load(&flushes) >= 1);
	assert_int_equal(store_open(&fx->s, fx->dir, 0), 0);
	assert_int_equal(records(fx->s), 3);   /* the charter and both */
	th_env_free(&a);
	th_env_free(&b);
}

int main(void)
{
	if (proto_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_durability__received_batch_saves_the_meta_flush_others_keep_it,
			th_fx_setup, th_fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
