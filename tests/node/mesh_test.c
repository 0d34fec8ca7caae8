/*
 * mesh_test.c - peer selection (node/engine/mesh.c): the limits, accept
 * and evict, the shuffle, backoff and refusals, the bootstrap, the random
 * choice, and allocation failures.  Time is a number the tests move by
 * hand; every mesh gets a fixed seed, so every run makes the same choices.
 *
 * The runner is linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
 * (tests/failalloc.c) for the allocation-failure test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "failalloc.h"
#include "node/engine/mesh.h"

#define T0 1000000u   /* a start time that is not 0 */
#define NK 4096       /* keys the tests may use */

/* ---------------------------------------------------------- helpers */

static const uint8_t SELF[MESH_KEY_BYTES] = { 0xff, 0xff, 0xff, 0xff };

/* Key i: i big-endian in the first 4 bytes, so keys sort as numbers. */
static void key_of(uint8_t key[MESH_KEY_BYTES], uint32_t i)
{
	memset(key, 0, MESH_KEY_BYTES);
	key[0] = (uint8_t)(i >> 24);
	key[1] = (uint8_t)(i >> 16);
	key[2] = (uint8_t)(i >> 8);
	key[3] = (uint8_t)i;
	key[31] = 0x5a;
}

static uint32_t index_of(const uint8_t key[MESH_KEY_BYTES])
{
	return (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
}

/* n dialable candidates 0 .. n-1 in c (sorted). */
static void candidates(struct mesh_candidate *c, size_t n)
{
	memset(c, 0, n * sizeof(*c));
	for (size_t i = 0; i < n; i++) {
		key_of(c[i].key, (uint32_t)i);
		c[i].dialable = true;
	}
}

static struct mesh *new_mesh(const struct mesh_conf *conf, uint64_t seed)
{
	struct mesh *m = NULL;
	assert_int_equal(mesh_new(&m, conf, SELF, seed), 0);
	return m;
}

static struct mesh_conf conf_default(void)
{
	struct mesh_conf c;
	mesh_conf_default(&c);
	return c;
}

/* One tick; the actions in a[], their number returned. */
static size_t tick(struct mesh *m, uint64_t now, struct mesh_action *a)
{
	size_t n = 99;
	assert_int_equal(mesh_tick(m, now, a, 16, &n), 0);
	assert_true(n <= 16);
	return n;
}

static size_t count_kind(const struct mesh_action *a, size_t n, enum mesh_action_kind kind)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += a[i].kind == kind;
	return k;
}

/* Tick, and open every dial as an outbound session whose peer has others. */
static size_t tick_and_open(struct mesh *m, uint64_t now)
{
	struct mesh_action a[16];
	size_t n = tick(m, now, a), dials = 0;
	for (size_t i = 0; i < n; i++)
		if (a[i].kind == MESH_DIAL) {
			assert_int_equal(mesh_opened_peer(m, a[i].key, false, false, 3, now), 0);
			dials++;
		}
	return dials;
}

static struct mesh_stats stats(const struct mesh *m, uint64_t now)
{
	struct mesh_stats st;
	mesh_stats(m, now, &st);
	return st;
}

/* Open inbound sessions from keys first .. first+n-1 (peers with others). */
static void open_inbound(struct mesh *m, uint32_t first, unsigned n, uint64_t now)
{
	uint8_t key[MESH_KEY_BYTES];
	for (unsigned i = 0; i < n; i++) {
		struct mesh_verdict v;
		key_of(key, first + i);
		mesh_accept(m, &v, key, false, 3, now);
		assert_true(v.accept);
		assert_false(v.evict);
		assert_int_equal(mesh_opened_peer(m, key, true, false, 3, now), 0);
	}
}

/* ---------------------------------------------------------- limits */

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, MESH_KEY_BYTES);
}

/* The members of each alliance, each list in key order, overlapping (a
 * member of two alliances): merged into one list in key order, each key
 * once, as a sort would give; also when the merge cannot allocate (it
 * sorts), and for no runs, empty runs and one run. */
static void test_mesh__candidates_merge_is_the_sorted_union_of_the_runs(void **state)
{
	enum { RUNS = 5, PER = 300 };
	(void)state;
	for (unsigned trial = 0; trial < 40; trial++) {
		struct mesh_candidate c[RUNS * PER];
		uint8_t want[RUNS * PER][MESH_KEY_BYTES];
		size_t bound[RUNS + 1], n = 0, runs = 1 + trial % RUNS, w = 0;
		uint32_t x = 2463534242u + trial;
		memset(c, 0, sizeof(c));
		for (size_t r = 0; r < runs; r++) {
			bound[r] = n;
			size_t len = trial % 7 == r ? 0 : 1 + (x % PER);   /* some empty */
			uint32_t at = 0;
			for (size_t i = 0; i < len; i++) {
				x ^= x << 13;
				x ^= x >> 17;
				x ^= x << 5;
				at += 1 + x % 5;   /* strictly increasing within the run */
				key_of(c[n].key, at);
				memcpy(want[n], c[n].key, MESH_KEY_BYTES);
				n++;
			}
		}
		bound[runs] = n;
		qsort(want, n, MESH_KEY_BYTES, key_cmp);
		for (size_t i = 0; i < n; i++)
			if (w == 0 || memcmp(want[w - 1], want[i], MESH_KEY_BYTES))
				memmove(want[w++], want[i], MESH_KEY_BYTES);
		if (trial % 4 == 3)
			failalloc_arm(1 + trial % 2);   /* no room to merge */
		size_t u = mesh_candidates_merge(c, bound, runs);
		failalloc_disarm();
		assert_int_equal(u, w);
		for (size_t i = 0; i < u; i++)
			assert_memory_equal(c[i].key, want[i], MESH_KEY_BYTES);
	}
	size_t none = 0;
	assert_int_equal(mesh_candidates_merge(NULL, &none, 0), 0);
}

static void test_mesh__dials_up_to_the_target_and_no_more(void **state)
{
	struct mesh_candidate c[100];
	struct mesh_action a[16];
	struct mesh_conf conf = conf_default();
	struct mesh *m = new_mesh(&conf, 1);
	(void)state;

	candidates(c, 100);
	assert_int_equal(mesh_set_candidates(m, c, 100), 0);
	/* Dials under way count: a tick starts at most max_dials_per_tick,
	 * and none once D are under way. */
	unsigned dialling = 0;
	for (int t = 0; t < 5; t++) {
		size_t n = tick(m, T0 + (uint64_t)t * 1000, a);
		assert_int_equal(count_kind(a, n, MESH_DROP), 0);
		assert_true(n <= conf.max_dials_per_tick);
		dialling += (unsigned)n;
		assert_true(dialling <= conf.dial_target);
	}
	assert_int_equal(dialling, conf.dial_target);
	assert_int_equal(stats(m, T0).dialling, conf.dial_target);
	mesh_free(m);

	/* Opened at once: still D outbound, and no more dials after. */
	m = new_mesh(&conf, 2);
	assert_int_equal(mesh_set_candidates(m, c, 100), 0);
	for (int t = 0; t < 10; t++)
		tick_and_open(m, T0 + (uint64_t)t * 1000);
	assert_int_equal(stats(m, T0).outbound, conf.dial_target);
	assert_int_equal(stats(m, T0).dialling, 0);
	assert_int_equal(stats(m, T0).dials, conf.dial_target);
	mesh_free(m);
}

static void test_mesh__never_more_than_max_sessions(void **state)
{
	struct mesh_candidate c[100];
	struct mesh_action a[16];
	struct mesh_verdict v;
	struct mesh_conf conf = conf_default();
	struct mesh *m = new_mesh(&conf, 3);
	uint8_t key[MESH_KEY_BYTES];
	(void)state;

	candidates(c, 100);
	assert_int_equal(mesh_set_candidates(m, c, 100), 0);
	/* D dials under way, then inbound sessions: dials hold their slots. */
	while (stats(m, T0).dialling < conf.dial_target)
		tick(m, T0, a);
	unsigned room = conf.max_sessions - conf.dial_target;
	open_inbound(m, 200, room, T0);
	key_of(key, 300);
	mesh_accept(m, &v, key, false, 2, T0);
	assert_false(v.accept);
	assert_int_equal(stats(m, T0).inbound, room);
	assert_int_equal(stats(m, T0).refusals, 1);

	/* With every slot an open session, a tick dials nothing. */
	mesh_free(m);
	m = new_mesh(&conf, 4);
	assert_int_equal(mesh_set_candidates(m, c, 100), 0);
	open_inbound(m, 200, conf.max_sessions, T0);
	assert_int_equal(tick(m, T0 + 1000, a), 0);
	assert_int_equal(stats(m, T0).sessions, conf.max_sessions);
	mesh_free(m);
}

static void test_mesh__pinned_is_not_counted_and_never_dropped(void **state)
{
	struct mesh_candidate c[100];
	struct mesh_action a[16];
	struct mesh_verdict v;
	struct mesh_conf conf = conf_default();
	struct mesh *m = new_mesh(&conf, 5);
	uint8_t key[MESH_KEY_BYTES];
	(void)state;

	candidates(c, 100);
	c[7].pinned = true;   /* a candidate typed with `agora peer add` */
	assert_int_equal(mesh_set_candidates(m, c, 100), 0);
	/* Pinned sessions, ours and theirs, one known only by mesh_opened. */
	assert_int_equal(mesh_opened_peer(m, c[7].key, false, false, 3, T0), 0);
	key_of(key, 500);
	mesh_accept(m, &v, key, true, 3, T0);
	assert_true(v.accept);
	assert_int_equal(mesh_opened_peer(m, key, false, true, 3, T0), 0);
	assert_int_equal(stats(m, T0).pinned, 2);
	assert_int_equal(stats(m, T0).outbound, 0);
	/* They take no slot: D dials, then C - D inbound still fit. */
	for (int t = 0; t < 5; t++)
		tick_and_open(m, T0 + (uint64_t)t * 1000);
	assert_int_equal(stats(m, T0).outbound, conf.dial_target);
	open_inbound(m, 200, conf.max_sessions - conf.dial_target, T0);
	assert_int_equal(stats(m, T0).sessions, conf.max_sessions + 2);
	/* Hours of shuffles and isolated newcomers: never a pinned one, and
	 * the mesh never dials a pinned candidate itself (agorad does). */
	for (int t = 0; t < 2000; t++) {
		uint64_t now = T0 + 5000 + (uint64_t)t * 10000;
		size_t n = tick(m, now, a);
		for (size_t i = 0; i < n; i++) {
			if (a[i].kind == MESH_DROP) {
				assert_int_not_equal(index_of(a[i].key), 7);
				assert_int_not_equal(index_of(a[i].key), 500);
			} else {
				assert_int_not_equal(index_of(a[i].key), 7);
				assert_int_equal(mesh_opened_peer(m, a[i].key, false, false, 3, now), 0);
			}
		}
		/* now and then an isolated newcomer, which leaves a tick later */
		if (t > 0 && (t - 1) % 20 == 0)
			mesh_closed(m, key, MESH_CLOSE_CLEAN, 0, now);
		if (t % 20 == 0) {
			key_of(key, 1000 + (uint32_t)t);
			mesh_accept(m, &v, key, false, 0, now);
			if (v.evict) {
				assert_int_not_equal(index_of(v.evict_key), 7);
				assert_int_not_equal(index_of(v.evict_key), 500);
			}
			if (v.accept)
				assert_int_equal(mesh_opened_peer(m, key, true, false, 0, now), 0);
		}
		assert_int_equal(stats(m, now).pinned, 2);
	}
	assert_true(stats(m, T0).shuffles > 0);
	assert_true(stats(m, T0).evictions > 0);
	mesh_free(m);
}

/* --------------------------------------------------- accept, evict */

static void test_mesh__accepts_below_limit_and_refuses_at_limit_with_retry_time(void **state)
{
	struct mesh_verdict v;
	struct mesh_conf conf = conf_default();
	struct mesh *m = new_mesh(&conf, 6);
	uint8_t key[MESH_KEY_BYTES];
	(void)state;

	open_inbound(m, 100, conf.max_sessions, T0);
	for (uint32_t i = 0; i < 50; i++) {
		key_of(key, 300 + i);
		mesh_accept(m, &v, key, false, 1 + i % 5, T0);
		assert_false(v.accept);
		assert_false(v.evict);
		assert_true(v.retry_after_ms >= conf.retry_after_ms / 2);
		assert_true(v.retry_after_ms <= conf.retry_after_ms / 2 + conf.retry_after_ms);
	}
	/* A key we already have a session with takes no new slot. */
	key_of(key, 100);
	mesh_accept(m, &v, key, false, 2, T0);
	assert_true(v.accept);
	assert_false(v.evict);
	mesh_free(m);
}

static void test_mesh__isolated_peer_at_limit_evicts_one_of_ours(void **state)
{
	struct mesh_candidate c[16];
	struct mesh_action a[16];
	struct mesh_verdict v;
	struct mesh_conf conf = conf_default();
	struct mesh *m;
	uint8_t key[MESH_KEY_BYTES];
	(void)state;

	/* Every slot an outbound session to one of 16 candidates. */
	conf.dial_target = conf.max_sessions;
	m = new_mesh(&conf, 7);
	candidates(c, 16);
	assert_int_equal(mesh_set_candidates(m, c, 16), 0);
	for (int t = 0; t < 10; t++)
		tick_and_open(m, T0 + (uint64_t)t * 1000);
	assert_int_equal(stats(m, T0).outbound, conf.max_sessions);
	uint64_t now = T0 + 10000;
	key_of(key, 200);
	mesh_accept(m, &v, key, false, 0, now);
	assert_true(v.accept);
	assert_true(v.evict);
	assert_true(v.retry_after_ms >= conf.retry_after_ms / 2);
	assert_int_equal(mesh_opened_peer(m, key, true, false, 0, now), 0);
	/* Still C sessions: the evicted one is gone, the newcomer is in. */
	assert_int_equal(stats(m, now).sessions, conf.max_sessions);
	assert_int_equal(stats(m, now).outbound, conf.max_sessions - 1);
	assert_int_equal(stats(m, now).evictions, 1);
	/* The newcomer leaves: a slot is free.  The evicted key is not
	 * dialled again before the wait it was told, though the others fail. */
	mesh_closed(m, key, MESH_CLOSE_CLEAN, 0, now);
	uint32_t evicted = index_of(v.evict_key);
	uint64_t dials = 0;
	for (uint64_t t = now + 1000; t < now + v.retry_after_ms; t += 1000) {
		size_t n = tick(m, t, a);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(a[i].kind, MESH_DIAL);
			assert_int_not_equal(index_of(a[i].key), evicted);
			mesh_closed(m, a[i].key, MESH_CLOSE_FAILED, 0, t);
			dials++;
		}
	}
	assert_true(dials >= 8);
	mesh_free(m);
}

static void test_mesh__isolated_peer_never_evicts_another_isolated_one(void **state)
{
	struct mesh_verdict v;
	struct mesh_conf conf = conf_default();
	struct mesh *m = new_mesh(&conf, 8);
	uint8_t key[MESH_KEY_BYTES];
	(void)state;

	/* A coordinator full of joiners (each isolated when it came). */
	for (uint32_t i = 0; i < conf.max_sessions; i++) {
		key_of(key, 100 + i);
		mesh_accept(m, &v, key, false, 0, T0);
		assert_true(v.accept);
		assert_int_equal(mesh_opened_peer(m, key, true, false, 0, T0), 0);
	}
	key_of(key, 200);
	mesh_accept(m, &v, key, false, 0, T0 + 60000);
	assert_false(v.accept);
	/* Told to come back soon: a joiner leaves within seconds. */
	assert_true(v.retry_after_ms <= conf.join_retry_ms / 2 + conf.join_retry_ms);
	assert_true(v.retry_after_ms >= conf.join_retry_ms / 2);
	assert_int_equal(stats(m, T0).evictions, 0);
	mesh_free(m);
}

/* mesh_opened without a count takes the one mesh_accept saw for the key. */
static void test_mesh__opened_remembers_the_accepted_peers_sessions(void **state)
{
	struct mesh_verdict v;
	struct mesh_conf conf = conf_default();
	struct mesh *m = new_mesh(&conf, 8);
	uint8_t key[MESH_KEY_BYTES], other[MESH_KEY_BYTES];
	(void)state;

	/* Joiners fill the coordinator through mesh_accept + mesh_opened. */
	for (uint32_t i = 0; i < conf.max_sessions; i++) {
		key_of(key, 100 + i);
		mesh_accept(m, &v, key, false, 0, T0);
		assert_true(v.accept);
		assert_int_equal(mesh_opened(m, key, true, false, T0), 0);
	}
	key_of(key, 200);
	mesh_accept(m, &v, key, false, 0, T0 + 60000);
	assert_false(v.accept);   /* none of them may be evicted */
	mesh_free(m);

	/* A Hello for another key, or an outbound session, says nothing of
	 * the peer: such a session may be evicted. */
	conf.dial_target = conf.max_sessions = 1;
	m = new_mesh(&conf, 8);
	key_of(key, 100);
	key_of(other, 101);
	mesh_accept(m, &v, other, false, 0, T0);
	assert_true(v.accept);
	assert_int_equal(mesh_opened(m, key, true, false, T0), 0);
	key_of(key, 200);
	mesh_accept(m, &v, key, false, 0, T0 + 60000);
	assert_true(v.accept);
	assert_true(v.evict);
	assert_int_equal(index_of(v.evict_key), 100);
	mesh_free(m);
}

/* What the Hello says: sessions, pinned ones too, but the way in. */
static void test_mesh__sessions_counts_all_but_the_bootstrap_way_in(void **state)
{
	struct mesh_candidate c[4];
	struct mesh_action a[16];
	struct mesh *m = new_mesh(NULL, 9);
	uint8_t key[MESH_KEY_BYTES];
	(void)state;

	candidates(c, 4);
	for (size_t i = 0; i < 4; i++)
		c[i].dialable = false;
	c[0].bootstrap = true;
	assert_int_equal(mesh_set_candidates(m, c, 4), 0);
	assert_int_equal(mesh_sessions(m), 0);
	/* Alone, it dials its bootstrap; that session is not announced. */
	size_t n = tick(m, T0, a);
	assert_int_equal(n, 1);
	assert_true(a[0].bootstrap);
	assert_int_equal(mesh_sessions(m), 0);
	assert_int_equal(mesh_opened_peer(m, a[0].key, false, false, 5, T0), 0);
	assert_int_equal(stats(m, T0).sessions, 1);
	assert_int_equal(mesh_sessions(m), 0);
	/* A pinned session and an inbound one count; a dial does not. */
	key_of(key, 500);
	assert_int_equal(mesh_opened(m, key, false, true, T0), 0);
	assert_int_equal(mesh_sessions(m), 1);
	open_inbound(m, 600, 2, T0);
	assert_int_equal(mesh_sessions(m), 3);
	assert_int_equal(stats(m, T0).announced, 3);
	/* The bootstrap is dropped now that others are open. */
	n = tick(m, T0 + 1000, a);
	assert_int_equal(count_kind(a, n, MESH_DROP), 1);
	assert_int_equal(mesh_sessions(m), 3);
	assert_int_equal(stats(m, T0 + 1000).sessions, 3);
	mesh_closed(m, key, MESH_CLOSE_CLEAN, 0, T0 + 2000);
	assert_int_equal(mesh_sessions(m), 2);
	mesh_free(m);
}

static void test_mesh__evictions_are_rate_limited(void **state)
{
	struct mesh_verdict v;
	struct mesh_conf conf = conf_default();
	struct mesh *m = new_mesh(&conf, 9);
	uint8_t key[MESH_KEY_BYTES];
	(void)state;

	open_inbound(m, 100, conf.max_sessions, T0);
	key_of(key, 200);
	mesh_accept(m, &v, key, false, 0, T0);
	assert_true(v.evict);
	assert_int_equal(mesh_opened_peer(m, key, true, false, 0, T0), 0);
	/* A member that claims again and again to be alone: one eviction per
	 * evict_interval_ms at most. */
	key_of(key, 201);
	mesh_accept(m, &v, key, false, 0, T0 + conf.evict_interval_ms - 1);
	assert_false(v.accept);
	mesh_accept(m, &v, key, false, 0, T0 + conf.evict_interval_ms);
	assert_true(v.evict);
	assert_int_equal(stats(m, T0).evictions, 2);
	mesh_free(m);
}

/* --------------------------------------------------------- shuffle */

static void test_mesh__shuffle_drops_one_outbound_after_interval_and_redials(void **state)
{
	struct mesh_candidate c[100];
	struct mesh_action a[16];
	struct mesh_conf conf = conf_default();
	struct mesh *m = new_mesh(&conf, 10);
	(void)state;

	candidates(c, 100);
	assert_int_equal(mesh_set_candidates(m, c, 100), 0);
	for (int t = 0; t < 5; t++)
		tick_and_open(m, T0 + (uint64_t)t * 1000);
	open_inbound(m, 200, 2, T0);
	/* Nothing happens before S/2 (the shortest jittered interval). */
	for (uint64_t t = T0 + 5000; t < T0 + conf.shuffle_ms / 2; t += 1000)
		assert_int_equal(tick(m, t, a), 0);
	/* By 3S/2 one outbound session went, and a new dial replaced it. */
	uint64_t t, drops = 0, dials = 0;
	for (t = T0 + conf.shuffle_ms / 2; t <= T0 + conf.shuffle_ms * 3 / 2 + 5000 && !drops;
	     t += 1000) {
		size_t n = tick(m, t, a);
		for (size_t i = 0; i < n; i++) {
			if (a[i].kind == MESH_DROP) {
				assert_int_equal(a[i].why, MESH_DROP_SHUFFLE);
				assert_true(index_of(a[i].key) < 100);   /* an outbound one */
				drops++;
			} else {
				dials++;
			}
		}
	}
	assert_int_equal(drops, 1);
	assert_int_equal(dials, 1);
	assert_int_equal(stats(m, t).outbound, conf.dial_target - 1);
	assert_int_equal(stats(m, t).dialling, 1);
	assert_int_equal(stats(m, t).inbound, 2);
	assert_int_equal(stats(m, t).shuffles, 1);
	mesh_free(m);
}

/* --------------------------------------------- backoff and refusals */

/* The times at which a mesh with one candidate dials it, each dial
 * failing at once, over `span` ms from T0. */
static size_t dial_times(struct mesh *m, uint64_t *at, size_t cap, uint64_t span)
{
	struct mesh_action a[16];
	size_t k = 0;
	for (uint64_t t = T0; t < T0 + span; t += 100) {
		size_t n = tick(m, t, a);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(a[i].kind, MESH_DIAL);
			if (k < cap)
				at[k++] = t;
			mesh_closed(m, a[i].key, MESH_CLOSE_FAILED, 0, t);
		}
	}
	return k;
}

static void test_mesh__backoff_grows_and_resets(void **state)
{
	struct mesh_candidate c[1];
	struct mesh_action a[16];
	struct mesh_conf conf = conf_default();
	struct mesh *m = new_mesh(&conf, 11);
	uint64_t at[64];
	(void)state;

	candidates(c, 1);
	assert_int_equal(mesh_set_candidates(m, c, 1), 0);
	size_t k = dial_times(m, at, 64, 400000);
	assert_true(k >= 6);
	/* Each wait is half to all of a step that doubles from the minimum
	 * up to the maximum. */
	uint64_t step = conf.backoff_min_ms;
	for (size_t i = 1; i < k; i++) {
		uint64_t gap = at[i] - at[i - 1];
		assert_true(gap + 100 >= step / 2);
		assert_true(gap <= step + 100);
		step = step * 2 > conf.backoff_max_ms ? conf.backoff_max_ms : step * 2;
	}
	assert_true(at[k - 1] - at[k - 2] >= conf.backoff_max_ms / 2);
	/* A session that stayed up stable_ms starts the backoff over. */
	uint64_t t = at[k - 1] + conf.backoff_max_ms * 2;
	size_t n = 0;
	for (; !n; t += 100)
		n = tick(m, t, a);
	assert_int_equal(mesh_opened_peer(m, a[0].key, false, false, 3, t), 0);
	t += conf.stable_ms;
	mesh_closed(m, a[0].key, MESH_CLOSE_FAILED, 0, t);
	uint64_t failed = t;
	for (n = 0; !n; t += 100)
		n = tick(m, t, a);
	assert_true(t - failed <= conf.backoff_min_ms + 100);
	mesh_free(m);
}

static void test_mesh__refused_key_is_not_redialled_until_candidates_change(void **state)
{
	struct mesh_candidate c[2], same[2], changed[3];
	struct mesh_action a[16];
	struct mesh_conf conf = conf_default();
	struct mesh *m = new_mesh(&conf, 12);
	(void)state;

	candidates(c, 2);
	c[1].dialable = false;
	assert_int_equal(mesh_set_candidates(m, c, 2), 0);
	assert_int_equal(tick(m, T0, a), 1);
	assert_int_equal(index_of(a[0].key), 0);
	mesh_closed(m, a[0].key, MESH_CLOSE_REFUSED, 0, T0);
	assert_int_equal(stats(m, T0).refused, 1);
	for (uint64_t t = T0 + 1000; t < T0 + 3600000; t += 60000)
		assert_int_equal(tick(m, t, a), 0);
	/* The same set again, from another array: still refused. */
	memcpy(same, c, sizeof(c));
	assert_int_equal(mesh_set_candidates(m, same, 2), 0);
	assert_int_equal(tick(m, T0 + 3600000, a), 0);
	/* A changed set (a member was admitted): dialled again. */
	candidates(changed, 3);
	changed[1].dialable = false;
	changed[2].dialable = false;
	assert_int_equal(mesh_set_candidates(m, changed, 3), 0);
	assert_int_equal(stats(m, T0).refused, 0);
	assert_int_equal(tick(m, T0 + 3601000, a), 1);
	assert_int_equal(index_of(a[0].key), 0);
	mesh_free(m);
}

static void test_mesh__busy_refusal_pauses_random_dials(void **state)
{
	struct mesh_candidate c[100];
	struct mesh_action a[16];
	struct mesh_conf conf = conf_default();
	struct mesh *m = new_mesh(&conf, 13);
	(void)state;

	candidates(c, 100);
	assert_int_equal(mesh_set_candidates(m, c, 100), 0);
	/* One session open, then every dial refused as "too many". */
	assert_int_equal(tick(m, T0, a), conf.max_dials_per_tick);
	assert_int_equal(mesh_opened_peer(m, a[0].key, false, false, 3, T0), 0);
	uint64_t dials = 0, t;
	for (size_t i = 1; i < conf.max_dials_per_tick; i++)
		mesh_closed(m, a[i].key, MESH_CLOSE_BUSY, 60000, T0);
	for (t = T0 + 1000; t < T0 + 600000; t += 1000) {
		size_t n = tick(m, t, a);
		for (size_t i = 0; i < n; i++) {
			dials++;
			mesh_closed(m, a[i].key, MESH_CLOSE_BUSY, 60000, t);
		}
	}
	/* Waits of 1, 2, 4 .. 60 s: about 16 dials in ten minutes, not one
	 * or two a second. */
	assert_true(dials >= 8);
	assert_true(dials <= 40);
	/* A dial that gets in ends the pause. */
	size_t n = 0;
	for (; !n; t += 1000)
		n = tick(m, t, a);
	assert_int_equal(mesh_opened_peer(m, a[0].key, false, false, 3, t), 0);
	for (size_t i = 1; i < n; i++)
		mesh_closed(m, a[i].key, MESH_CLOSE_FAILED, 0, t);
	n = tick(m, t + 1000, a);
	assert_true(n >= 1);
	mesh_free(m);
}

static void test_mesh__unreported_dial_fails_after_timeout(void **state)
{
	struct mesh_candidate c[1];
	struct mesh_action a[16];
	struct mesh_conf conf = conf_default();
	struct mesh *m = new_mesh(&conf, 14);
	(void)state;

	candidates(c, 1);
	assert_int_equal(mesh_set_candidates(m, c, 1), 0);
	assert_int_equal(tick(m, T0, a), 1);
	assert_int_equal(tick(m, T0 + conf.dial_timeout_ms - 1, a), 0);
	assert_int_equal(stats(m, T0).dialling, 1);
	assert_int_equal(tick(m, T0 + conf.dial_timeout_ms, a), 0);
	assert_int_equal(stats(m, T0 + conf.dial_timeout_ms).dialling, 0);
	assert_int_equal(stats(m, T0 + conf.dial_timeout_ms).waiting, 1);
	mesh_free(m);
}

static void test_mesh__close_of_unknown_key_leaves_no_state(void **state)
{
	struct mesh_conf conf = conf_default();
	struct mesh *m = new_mesh(&conf, 15);
	uint8_t key[MESH_KEY_BYTES];
	(void)state;

	for (uint32_t i = 0; i < 1000; i++) {
		key_of(key, i);
		mesh_closed(m, key, i % 2 ? MESH_CLOSE_FAILED : MESH_CLOSE_REFUSED, 0, T0);
	}
	struct mesh_stats st = stats(m, T0);
	assert_int_equal(st.waiting, 0);
	assert_int_equal(st.refused, 0);
	assert_int_equal(st.sessions, 0);
	mesh_free(m);
}

/* -------------------------------------------------------- bootstrap */

static void test_mesh__bootstrap_is_dropped_once_other_sessions_exist(void **state)
{
	struct mesh_candidate boot[1], all[50];
	struct mesh_action a[16];
	struct mesh_conf conf = conf_default();
	struct mesh *m = new_mesh(&conf, 16);
	(void)state;

	/* A joiner knows only the coordinator of its invite (key 9). */
	candidates(all, 50);
	all[9].bootstrap = true;
	boot[0] = all[9];
	assert_int_equal(mesh_set_candidates(m, boot, 1), 0);
	assert_int_equal(tick(m, T0, a), 1);
	assert_int_equal(index_of(a[0].key), 9);
	assert_true(a[0].bootstrap);
	assert_int_equal(mesh_opened_peer(m, a[0].key, false, false, 5, T0), 0);
	/* While that is its only session, its Hello says it is alone. */
	assert_int_equal(stats(m, T0).announced, 0);
	assert_int_equal(tick(m, T0 + 1000, a), 0);
	/* After its first sync it knows every member and dials others. */
	assert_int_equal(mesh_set_candidates(m, all, 50), 0);
	size_t n = tick(m, T0 + 2000, a);
	assert_true(n >= 1);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(a[i].kind, MESH_DIAL);
		assert_false(a[i].bootstrap);
		assert_int_equal(mesh_opened_peer(m, a[i].key, false, false, 3, T0 + 2000), 0);
	}
	n = tick(m, T0 + 3000, a);
	size_t dropped = 0;
	for (size_t i = 0; i < n; i++)
		if (a[i].kind == MESH_DROP) {
			assert_int_equal(index_of(a[i].key), 9);
			assert_int_equal(a[i].why, MESH_DROP_BOOTSTRAP);
			dropped++;
		}
	assert_int_equal(dropped, 1);
	mesh_free(m);
}

static void test_mesh__restarted_node_dials_members_before_its_bootstrap(void **state)
{
	struct mesh_candidate all[50];
	struct mesh_action a[16];
	struct mesh_conf conf = conf_default();
	(void)state;

	candidates(all, 50);
	all[9].bootstrap = true;
	/* It knows the members from its store: random members first, over
	 * many seeds; the bootstrap only once it was alone for
	 * bootstrap_after_ms. */
	for (uint64_t seed = 0; seed < 50; seed++) {
		struct mesh *m = new_mesh(&conf, 100 + seed);
		assert_int_equal(mesh_set_candidates(m, all, 50), 0);
		uint64_t t;
		for (t = T0; t < T0 + conf.bootstrap_after_ms; t += 1000) {
			size_t n = tick(m, t, a);
			assert_true(n >= 1);
			for (size_t i = 0; i < n; i++) {
				assert_int_not_equal(index_of(a[i].key), 9);
				mesh_closed(m, a[i].key, MESH_CLOSE_FAILED, 0, t);
			}
		}
		/* Alone for bootstrap_after_ms: its bootstrap comes first. */
		size_t n = tick(m, t, a);
		assert_true(n >= 1);
		assert_int_equal(index_of(a[0].key), 9);
		assert_true(a[0].bootstrap);
		mesh_free(m);
	}
}

/* ------------------------------------------------- random, seeded */

/* The keys a fresh mesh of this seed dials in its first ticks, with every
 * dial failing: a fingerprint of its choices. */
static void choices(uint64_t seed, uint32_t *out, size_t n)
{
	struct mesh_candidate c[1000];
	struct mesh_action a[16];
	struct mesh_conf conf = conf_default();
	struct mesh *m = new_mesh(&conf, seed);
	size_t k = 0;

	candidates(c, 1000);
	assert_int_equal(mesh_set_candidates(m, c, 1000), 0);
	for (uint64_t t = T0; k < n; t += 1000) {
		size_t got = tick(m, t, a);
		for (size_t i = 0; i < got; i++) {
			if (k < n)
				out[k++] = index_of(a[i].key);
			mesh_closed(m, a[i].key, MESH_CLOSE_FAILED, 0, t);
		}
	}
	mesh_free(m);
}

static void test_mesh__same_seed_makes_same_choices(void **state)
{
	uint32_t x[40], y[40], z[40];
	(void)state;

	choices(42, x, 40);
	choices(42, y, 40);
	choices(43, z, 40);
	assert_memory_equal(x, y, sizeof(x));
	assert_memory_not_equal(x, z, sizeof(x));
}

static void test_mesh__dials_are_spread_uniformly(void **state)
{
	static unsigned hits[20];
	struct mesh_candidate c[NK];
	struct mesh_action a[16];
	struct mesh_conf conf = conf_default();
	(void)state;

	/* 4,000 candidates of which only 20 may be dialled (the rest have no
	 * address): the random probes miss and the scan chooses.  2,000
	 * meshes each dial once: every one of the 20 gets about 100. */
	candidates(c, 4000);
	for (size_t i = 0; i < 4000; i++)
		c[i].dialable = i % 200 == 0;
	conf.max_dials_per_tick = 1;
	memset(hits, 0, sizeof(hits));
	for (uint64_t seed = 0; seed < 2000; seed++) {
		struct mesh *m = new_mesh(&conf, seed * 7919);
		assert_int_equal(mesh_set_candidates(m, c, 4000), 0);
		assert_int_equal(tick(m, T0, a), 1);
		uint32_t i = index_of(a[0].key);
		assert_int_equal(i % 200, 0);
		hits[i / 200]++;
		mesh_free(m);
	}
	for (int i = 0; i < 20; i++) {
		assert_true(hits[i] >= 60);
		assert_true(hits[i] <= 140);
	}
	/* And with most candidates free, the probes alone: still spread. */
	candidates(c, 20);
	memset(hits, 0, sizeof(hits));
	for (uint64_t seed = 0; seed < 2000; seed++) {
		struct mesh *m = new_mesh(&conf, seed * 7919 + 1);
		assert_int_equal(mesh_set_candidates(m, c, 20), 0);
		assert_int_equal(tick(m, T0, a), 1);
		hits[index_of(a[0].key)]++;
		mesh_free(m);
	}
	for (int i = 0; i < 20; i++) {
		assert_true(hits[i] >= 60);
		assert_true(hits[i] <= 140);
	}
}

static void test_mesh__last_free_candidate_is_found_among_thousands(void **state)
{
	static struct mesh_candidate c[NK];
	struct mesh_action a[16];
	struct mesh_conf conf = conf_default();
	struct mesh *m = new_mesh(&conf, 17);
	(void)state;

	candidates(c, NK);
	for (size_t i = 0; i < NK; i++)
		c[i].dialable = i == 3001;
	assert_int_equal(mesh_set_candidates(m, c, NK), 0);
	assert_int_equal(tick(m, T0, a), 1);
	assert_int_equal(index_of(a[0].key), 3001);
	/* None left; a failure makes it free again after its backoff. */
	assert_int_equal(tick(m, T0 + 1000, a), 0);
	mesh_closed(m, a[0].key, MESH_CLOSE_FAILED, 0, T0 + 1000);
	uint64_t t = T0 + 2000;
	size_t n = 0;
	for (; !n && t < T0 + 10000; t += 100)
		n = tick(m, t, a);
	assert_int_equal(n, 1);
	assert_int_equal(index_of(a[0].key), 3001);
	mesh_free(m);
}

/* ---------------------------------------------------- arguments */

static void test_mesh__bad_arguments_are_refused(void **state)
{
	struct mesh_candidate c[3];
	struct mesh_conf conf = conf_default();
	struct mesh *m = NULL;
	(void)state;

	conf.dial_target = conf.max_sessions + 1;
	assert_int_equal(mesh_new(&m, &conf, SELF, 1), -EINVAL);
	assert_null(m);
	conf = conf_default();
	conf.max_dials_per_tick = 0;
	assert_int_equal(mesh_new(&m, &conf, SELF, 1), -EINVAL);
	conf = conf_default();
	conf.backoff_max_ms = conf.backoff_min_ms - 1;
	assert_int_equal(mesh_new(&m, &conf, SELF, 1), -EINVAL);
	assert_null(m);

	m = new_mesh(NULL, 1);
	candidates(c, 3);
	c[2] = c[1];   /* a key twice */
	assert_int_equal(mesh_set_candidates(m, c, 3), -EINVAL);
	candidates(c, 3);
	c[0] = c[2];   /* out of order */
	assert_int_equal(mesh_set_candidates(m, c, 3), -EINVAL);
	assert_int_equal(mesh_set_candidates(m, NULL, 1), -EINVAL);
	assert_int_equal(stats(m, T0).candidates, 0);
	mesh_free(m);
	mesh_free(NULL);
}

/* ------------------------------------------------ out of memory */

/* A node's life in a few calls; 0 or the first error. */
static int scenario(void)
{
	static struct mesh_candidate c[300];
	struct mesh_action a[16];
	struct mesh_verdict v;
	struct mesh *m = NULL;
	uint8_t key[MESH_KEY_BYTES];
	size_t n;
	int rc;

	candidates(c, 300);
	c[5].bootstrap = true;
	if ((rc = mesh_new(&m, NULL, SELF, 99)))
		return rc;
	if ((rc = mesh_set_candidates(m, c, 1 + 5)))
		goto out;
	for (uint64_t t = T0; t < T0 + 40000; t += 1000) {
		if (t == T0 + 5000 && (rc = mesh_set_candidates(m, c, 300)))
			goto out;
		if ((rc = mesh_tick(m, t, a, 16, &n)))
			goto out;
		for (size_t i = 0; i < n; i++) {
			if (a[i].kind != MESH_DIAL)
				continue;
			if (index_of(a[i].key) % 3 == 0)
				mesh_closed(m, a[i].key, MESH_CLOSE_FAILED, 0, t);
			else if ((rc = mesh_opened_peer(m, a[i].key, false, false, 2, t)))
				goto out;
		}
		key_of(key, 1000 + (uint32_t)t % 97);
		mesh_accept(m, &v, key, false, 0, t);
		if (v.accept && (rc = mesh_opened_peer(m, key, true, false, 0, t)))
			goto out;
	}
out:
	mesh_free(m);
	return rc;
}

static void test_mesh__every_failed_allocation_is_reported_and_leaks_nothing(void **state)
{
	(void)state;
	assert_int_equal(scenario(), 0);
	for (long k = 1;; k++) {
		failalloc_arm(k);
		int rc = scenario();
		bool reached = failalloc_disarm();
		if (!reached) {
			assert_int_equal(rc, 0);
			assert_true(k > 3);   /* mesh_new, candidates and the table allocate */
			break;
		}
		assert_int_equal(rc, -ENOMEM);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mesh__dials_up_to_the_target_and_no_more),
		cmocka_unit_test(test_mesh__never_more_than_max_sessions),
		cmocka_unit_test(test_mesh__pinned_is_not_counted_and_never_dropped),
		cmocka_unit_test(test_mesh__accepts_below_limit_and_refuses_at_limit_with_retry_time),
		cmocka_unit_test(test_mesh__isolated_peer_at_limit_evicts_one_of_ours),
		cmocka_unit_test(test_mesh__isolated_peer_never_evicts_another_isolated_one),
		cmocka_unit_test(test_mesh__opened_remembers_the_accepted_peers_sessions),
		cmocka_unit_test(test_mesh__sessions_counts_all_but_the_bootstrap_way_in),
		cmocka_unit_test(test_mesh__evictions_are_rate_limited),
		cmocka_unit_test(test_mesh__shuffle_drops_one_outbound_after_interval_and_redials),
		cmocka_unit_test(test_mesh__backoff_grows_and_resets),
		cmocka_unit_test(test_mesh__refused_key_is_not_redialled_until_candidates_change),
		cmocka_unit_test(test_mesh__busy_refusal_pauses_random_dials),
		cmocka_unit_test(test_mesh__unreported_dial_fails_after_timeout),
		cmocka_unit_test(test_mesh__close_of_unknown_key_leaves_no_state),
		cmocka_unit_test(test_mesh__bootstrap_is_dropped_once_other_sessions_exist),
		cmocka_unit_test(test_mesh__restarted_node_dials_members_before_its_bootstrap),
		cmocka_unit_test(test_mesh__same_seed_makes_same_choices),
		cmocka_unit_test(test_mesh__dials_are_spread_uniformly),
		cmocka_unit_test(test_mesh__last_free_candidate_is_found_among_thousands),
		cmocka_unit_test(test_mesh__candidates_merge_is_the_sorted_union_of_the_runs),
		cmocka_unit_test(test_mesh__bad_arguments_are_refused),
		cmocka_unit_test(test_mesh__every_failed_allocation_is_reported_and_leaks_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
