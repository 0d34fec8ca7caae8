/*
 * threads_test.c - one struct store used by many threads at once: read
 * snapshots beside writes that grow the map several times, two writers,
 * store_trim from any thread, a second snapshot of a thread while a growth
 * waits, and a write begun inside a snapshot of the same thread.
 *
 * Why this is free of data races (the reasoning a TSan run would check;
 * the ASan build runs the test):
 *   - Each thread uses its own store_txn; the struct store is shared.
 *   - The fields of struct store that change after store_open are written
 *     with write_mu held (id_pos, trim_work) or trim_mu held (the
 *     trim map cache); every write runs with write_mu held, and store_trim
 *     takes trim_mu with trylock.
 *   - LMDB allows read transactions beside the one write transaction of a
 *     process when the environment is MDB_NOTLS; its reader table and
 *     writer mutex are its own.  The one thing it forbids, changing the map
 *     while any transaction of the process is open, happens only with the
 *     map lock (lock.c) held exclusive, which waits until no snapshot or
 *     write holds it shared.  store_trim holds it shared (tried), so its
 *     madvise never runs on a map being moved.
 *   - The lock's own state (holders, counts, flags) is read and written
 *     only under its mutex.
 *   - The test's own shared counters are C11 atomics.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "helper.h"
#include "storage/store_int.h"   /* the map lock's counts, to await a waiting growth */

#define INITIAL_MAP 262144       /* $AGORA_STORE_MAPSIZE: growths come early */
#define BATCHES 24
#define PER_BATCH 60

struct fx {
	struct th_fx *b;             /* charter of k1's alliance, stored */
	atomic_bool writers_done;
	atomic_uint snapshots;       /* taken by the reader */
	atomic_uint started;         /* the reader's first snapshot is done */
	atomic_uint trims;
	const char *fail;            /* the reader's first wrong observation */
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof *x);
	void *inner;
	setenv("AGORA_STORE_MAPSIZE", "262144", 1);
	int rc = th_fx_setup(&inner);
	unsetenv("AGORA_STORE_MAPSIZE");
	x->b = inner;
	*state = x;
	return rc;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	void *inner = x->b;
	free(x);
	return th_fx_teardown(&inner);
}

static uint64_t map_size(struct store *s)
{
	struct store_txn *t;
	struct store_stats st;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_stats(t, &st), 0);
	store_txn_end(t);
	return st.map_size;
}

/* A record about 1.5 KB long, so the batches fill the map quickly. */
static struct th_env big_measure(struct th_feed *f, unsigned i)
{
	char title[64], summary[1600];
	snprintf(title, sizeof title, "measure %u", i);
	for (size_t k = 0; k + 1 < sizeof summary; k++)
		summary[k] = (char)('a' + (i * 7 + k * 13) % 26);
	summary[sizeof summary - 1] = 0;
	for (size_t k = 9; k < sizeof summary - 1; k += 10)
		summary[k] = ' ';
	return th_measure(f, title, summary, TH_NOW - 1000 + i);
}

/* Reader: snapshot after snapshot; each must show a consistent store:
 * records never fewer than before (LMDB alone does not promise it: see
 * snapshot_raced in store.c), and the head record of each feed readable
 * and of the head's seq. */
static void *reader_main(void *arg)
{
	struct fx *x = arg;
	struct th_fx *b = x->b;
	uint64_t last_records = 0;
	do {
		struct store_txn *t;
		struct store_stats st;
		if (store_txn_begin(b->s, &t) != 0) {
			x->fail = "snapshot";
			break;
		}
		int src = store_stats(t, &st);
		if (src != 0) {
			fprintf(stderr, "store_stats: %s\n", store_strerror(src));
			x->fail = "stats";
		} else if (st.records < last_records) {
			fprintf(stderr, "records %llu after %llu\n", (unsigned long long)st.records,
			        (unsigned long long)last_records);
			x->fail = "records went back";
		}
		last_records = st.records;
		const struct th_feed *feeds[2] = { &b->f1, &b->f2 };
		for (int k = 0; k < 2 && !x->fail; k++) {
			uint64_t seq;
			uint8_t id[PROTO_ID_BYTES];
			const uint8_t *env;
			size_t len;
			Agora__Record *r;
			if (store_feed_head(t, b->f1.alliance, feeds[k]->key->pk, &seq, id) != 0) {
				x->fail = "head";
			} else if (seq && store_feed_env(t, b->f1.alliance, feeds[k]->key->pk, seq, &env,
			                                 &len) != 0) {
				x->fail = "head record";
			} else if (seq) {
				uint8_t got[PROTO_ID_BYTES];
				proto_record_id(got, env, len);
				if (memcmp(got, id, PROTO_ID_BYTES) != 0 ||
				    proto_envelope_decode(&r, env, len, NULL) != 0) {
					x->fail = "head record bytes";
				} else {
					if (r->seq != seq)
						x->fail = "head record seq";
					agora__record__free_unpacked(r, NULL);
				}
			}
		}
		store_txn_end(t);
		atomic_fetch_add(&x->snapshots, 1);
		atomic_store(&x->started, 1);
	} while (!x->fail && !atomic_load(&x->writers_done));
	return NULL;
}

static void *trimmer_main(void *arg)
{
	struct fx *x = arg;
	while (!atomic_load(&x->writers_done)) {
		if (store_trim(x->b->s) == 0)
			atomic_fetch_add(&x->trims, 1);
		sched_yield();
	}
	return NULL;
}

/* Writer 2: k1 publishes (store_publish signs and stores). */
static void *publisher_main(void *arg)
{
	struct fx *x = arg;
	for (unsigned i = 0; i < BATCHES * 4; i++) {
		Agora__Record r = AGORA__RECORD__INIT;
		Agora__Lesson l = AGORA__LESSON__INIT;
		char text[1200];
		memset(text, 'l', sizeof text - 1);
		text[sizeof text - 1] = 0;
		l.title = "lesson";
		l.language = "da";
		l.outcome = text;
		r.body_case = AGORA__RECORD__BODY_LESSON;
		r.lesson = &l;
		struct proto_error err;
		if (store_publish(x->b->s, x->b->k1, x->b->f1.alliance, &r, TH_NOW - 500 + i,
		                  NULL, NULL, NULL, &err) != 0) {
			fprintf(stderr, "publish: %s %s\n", err.field, err.msg);
			x->fail = "publish";
			break;
		}
	}
	return NULL;
}

static void test_threads__snapshots_read_beside_writes_that_grow_the_map(void **state)
{
	struct fx *x = *state;
	struct th_fx *b = x->b;
	uint64_t first_map = map_size(b->s);
	assert_int_equal(first_map, INITIAL_MAP);

	pthread_t rd, tr, pub;
	assert_int_equal(pthread_create(&rd, NULL, reader_main, x), 0);
	while (!atomic_load(&x->started))
		sched_yield();   /* the writes start beside a running reader */
	assert_int_equal(pthread_create(&tr, NULL, trimmer_main, x), 0);
	assert_int_equal(pthread_create(&pub, NULL, publisher_main, x), 0);

	/* Writer 1 (this thread): k2's feed, batch by batch. */
	for (unsigned bt = 0; bt < BATCHES && !x->fail; bt++) {
		struct th_env e[PER_BATCH];
		struct store_item it[PER_BATCH];
		struct store_ingest_stats st;
		for (unsigned i = 0; i < PER_BATCH; i++) {
			e[i] = big_measure(&b->f2, bt * PER_BATCH + i);
			it[i] = (struct store_item){ e[i].env, e[i].len };
		}
		assert_int_equal(store_ingest(b->s, it, PER_BATCH, STORE_INGEST_ATOMIC, TH_NOW, NULL,
		                              NULL, &st), 0);
		assert_int_equal(st.added, PER_BATCH);
		for (unsigned i = 0; i < PER_BATCH; i++)
			th_env_free(&e[i]);
	}
	pthread_join(pub, NULL);
	atomic_store(&x->writers_done, true);
	pthread_join(rd, NULL);
	pthread_join(tr, NULL);
	if (x->fail)
		fail_msg("%s", x->fail);

	/* every write is there, and the map doubled several times */
	uint64_t h1, h2;
	struct store_txn *t;
	assert_int_equal(store_txn_begin(b->s, &t), 0);
	assert_int_equal(store_feed_head(t, b->f1.alliance, b->k2->pk, &h2, NULL), 0);
	assert_int_equal(store_feed_head(t, b->f1.alliance, b->k1->pk, &h1, NULL), 0);
	store_txn_end(t);
	assert_int_equal(h2, BATCHES * PER_BATCH);
	assert_int_equal(h1, 1 + BATCHES * 4);
	assert_true(map_size(b->s) >= first_map * 8);
	assert_true(atomic_load(&x->snapshots) > 0);
}

/* Thread A holds a snapshot; B's write needs a growth, which waits for A.
 * A may still begin (and end) a second snapshot: a waiting growth holds
 * back only threads that hold no snapshot yet. */
struct grow_arg {
	struct th_fx *b;
	int rc;
};

static void *grower_main(void *arg)
{
	struct grow_arg *g = arg;
	/* one batch far larger than the map: needs growths */
	enum { N = 300 };
	struct th_env *e = calloc(N, sizeof *e);
	struct store_item *it = calloc(N, sizeof *it);
	for (unsigned i = 0; i < N; i++) {
		e[i] = big_measure(&g->b->f2, i);
		it[i] = (struct store_item){ e[i].env, e[i].len };
	}
	g->rc = store_ingest(g->b->s, it, N, STORE_INGEST_ATOMIC, TH_NOW, NULL, NULL, NULL);
	for (unsigned i = 0; i < N; i++)
		th_env_free(&e[i]);
	free(e);
	free(it);
	return NULL;
}

static unsigned grow_waiting(struct store *s)
{
	pthread_mutex_lock(&s->lock.mu);
	unsigned n = s->lock.grow_wait;
	pthread_mutex_unlock(&s->lock.mu);
	return n;
}

static void test_threads__second_snapshot_of_a_thread_passes_a_waiting_growth(void **state)
{
	struct fx *x = *state;
	struct th_fx *b = x->b;
	struct store_txn *t1, *t2;
	uint64_t first_map = map_size(b->s);
	assert_int_equal(store_txn_begin(b->s, &t1), 0);
	struct grow_arg g = { b, 1 };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, grower_main, &g), 0);
	while (grow_waiting(b->s) == 0)
		sched_yield();   /* the growth now waits for t1 */
	assert_int_equal(store_txn_begin(b->s, &t2), 0);
	uint64_t seq = 99;
	assert_int_equal(store_feed_head(t2, b->f1.alliance, b->k2->pk, &seq, NULL), 0);
	assert_int_equal(seq, 0);   /* the write is not committed: it waits */
	store_txn_end(t2);
	store_txn_end(t1);
	pthread_join(th, NULL);
	assert_int_equal(g.rc, 0);
	assert_true(map_size(b->s) > first_map);
}

/* A write on a thread that holds a snapshot of the same store would wait
 * for itself at the next growth: it fails at once, loudly.  Run in a child
 * process, since builds with assertions abort there. */
static void test_threads__write_inside_own_snapshot_is_refused(void **state)
{
	struct fx *x = *state;
	struct th_fx *b = x->b;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store_txn *t;
		if (store_txn_begin(b->s, &t) != 0)
			_exit(3);
		struct th_env e = th_measure(&b->f2, "inside", "a snapshot", TH_NOW - 5);
		int rc = th_ingest1(b->s, &e);
		_exit(rc == -EDEADLK ? 0 : 4);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
#ifdef NDEBUG
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
#else
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
#endif
	/* in this process, with the snapshot ended first, the same write works */
	struct th_env e = th_measure(&b->f2, "after", "the snapshot", TH_NOW - 5);
	assert_int_equal(th_ingest1(b->s, &e), STORE_NEW);
	th_env_free(&e);
}

int main(void)
{
	if (proto_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_threads__snapshots_read_beside_writes_that_grow_the_map, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_threads__second_snapshot_of_a_thread_passes_a_waiting_growth, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_threads__write_inside_own_snapshot_is_refused,
		                                setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
