/*
 * crash_test.c - a writer killed with SIGKILL leaves a consistent store.
 *
 * A child process ingests batches of exactly K records (one transaction
 * each) in a loop; the parent waits until the store shows progress, kills
 * the child with SIGKILL mid-way, reopens the store and checks that it
 * opens, that the record count is a whole number of batches, that every
 * feed chain is intact and that the indexes agree with the feeds.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "helper.h"

#define K 40
#define MAX_BATCHES 5000

static void child_run(const char *dir, struct th_env *charter, struct proto_key *k1,
                      struct proto_key *k2)
{
	struct store *s;
	if (store_open(&s, dir, 0) != 0)
		_exit(2);
	struct th_feed f1, f2;
	th_feed_init(&f1, k1, charter->id);
	f1.seq = 1;
	memcpy(f1.prev, charter->id, PROTO_ID_BYTES);
	th_feed_init(&f2, k2, charter->id);
	char text[800];
	for (size_t i = 0; i < sizeof text - 1; i++)
		text[i] = "lorem ipsum dolor sit amet "[i % 27];
	text[sizeof text - 1] = 0;
	uint64_t ms = TH_NOW - 100000000;
	for (int b = 0; b < MAX_BATCHES; b++) {
		struct th_env e[K];
		struct store_item items[K];
		for (int i = 0; i < K; i++) {
			char title[40];
			snprintf(title, sizeof title, "Batch %d item %d", b, i);
			e[i] = th_measure(i % 2 ? &f2 : &f1, title, text, ms++);
			items[i] = (struct store_item){ e[i].env, e[i].len };
		}
		struct store_ingest_stats st;
		if (store_ingest(s, items, K, STORE_INGEST_ATOMIC, TH_NOW, NULL, NULL, &st) != 0 ||
		    st.added != K)
			_exit(3);
		for (int i = 0; i < K; i++)
			th_env_free(&e[i]);
	}
	store_close(s);
	_exit(0);
}

static uint64_t record_count(struct store *s)
{
	struct store_txn *t;
	struct store_stats st;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_stats(t, &st), 0);
	store_txn_end(t);
	return st.records;
}

struct chain_check {
	struct store_txn *t;
	const uint8_t *alliance;
	uint64_t total;
};

static int check_feed(const uint8_t *author, uint64_t seq, const uint8_t *id, void *ctx)
{
	struct chain_check *c = ctx;
	uint8_t prev[PROTO_ID_BYTES];
	for (uint64_t q = 1; q <= seq; q++) {
		struct store_record r;
		assert_int_equal(store_feed_get(c->t, c->alliance, author, q, &r), 0);
		Agora__Record *rec = NULL;
		assert_int_equal(proto_envelope_open(&rec, r.env, r.env_len, TH_NOW, NULL), 0);
		assert_int_equal(rec->seq, q);
		if (q > 1) {
			assert_true(rec->has_prev);
			assert_memory_equal(rec->prev.data, prev, PROTO_ID_BYTES);
		}
		memcpy(prev, r.id, PROTO_ID_BYTES);
		agora__record__free_unpacked(rec, NULL);
	}
	assert_memory_equal(prev, id, PROTO_ID_BYTES);
	c->total += seq;
	return 0;
}

static int count_hit(const struct store_hit *h, void *ctx)
{
	(void)h;
	++*(size_t *)ctx;
	return 0;
}

static void test_store_crash__sigkill_mid_write_leaves_whole_batches(void **state)
{
	(void)state;
	char *dir = th_tmpdir();
	struct proto_key *k1 = th_key(11), *k2 = th_key(12);
	struct th_feed cf;
	struct th_env charter = th_charter(&cf, k1, "Crash alliance", TH_NOW - 200000000);
	struct store *s;
	assert_int_equal(store_open(&s, dir, 0), 0);
	assert_int_equal(th_ingest1(s, &charter), STORE_NEW);
	store_close(s);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child_run(dir, &charter, k1, k2);

	assert_int_equal(store_open(&s, dir, 0), 0);
	/* wait for progress: several committed batches */
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	uint64_t n = 0;
	int status;
	for (;;) {
		n = record_count(s);
		if (n >= 1 + 6 * K)
			break;
		assert_int_equal(waitpid(pid, &status, WNOHANG), 0);   /* child still alive */
		clock_gettime(CLOCK_MONOTONIC, &now);
		assert_true(now.tv_sec - start.tv_sec < 90);
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	store_close(s);

	assert_int_equal(store_open(&s, dir, 0), 0);
	n = record_count(s);
	assert_true(n >= 1 + 6 * K);
	assert_int_equal((n - 1) % K, 0);
	struct store_txn *t;
	assert_int_equal(store_txn_begin(s, &t), 0);
	struct chain_check cc = { t, charter.id, 0 };
	assert_int_equal(store_heads(t, charter.id, check_feed, &cc), 0);
	assert_int_equal(cc.total, n);
	struct store_query q = { .kind = PROTO_KIND_MEASURE };
	size_t hits = 0;
	assert_int_equal(store_query(t, &q, count_hit, &hits, NULL), (int)(n - 1));
	assert_int_equal(hits, n - 1);
	store_txn_end(t);
	/* and it takes writes again */
	struct th_feed f3;
	struct proto_key *k3 = th_key(13);
	th_feed_init(&f3, k3, charter.id);
	struct th_env e = th_measure(&f3, "After the crash", NULL, TH_NOW - 5);
	assert_int_equal(th_ingest1(s, &e), STORE_NEW);
	th_env_free(&e);
	proto_key_free(k3);
	store_close(s);
	printf("sigkill: %llu records (%llu batches of %d) survived\n", (unsigned long long)n,
	       (unsigned long long)((n - 1) / K), K);
	th_env_free(&charter);
	proto_key_free(k1);
	proto_key_free(k2);
	th_rmdir(dir);
}

int main(void)
{
	if (proto_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_crash__sigkill_mid_write_leaves_whole_batches),
	};
	return cmocka_run_group_tests_name("storage crash", tests, NULL, NULL);
}
