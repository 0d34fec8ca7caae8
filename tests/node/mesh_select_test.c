/*
 * mesh_select_test.c - peer selection (node/engine/mesh.c), what it
 * chooses: the limits (and the merge of the candidate lists), accept and
 * evict, the shuffle, and the random choice.  Its refusals, backoff,
 * bootstrap, arguments and allocation failures are in mesh_refusal_test.c;
 * the helpers both use in mesh_fx.c.  Time is a number the tests move by
 * hand; every mesh gets a fixed seed, so every run makes the same choices.
 *
 * The runner is linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
 * (tests/failalloc.c): the merge is also run when it cannot allocate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "failalloc.h"
#include "mesh_fx.h"

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
		cmocka_unit_test(test_mesh__same_seed_makes_same_choices),
		cmocka_unit_test(test_mesh__dials_are_spread_uniformly),
		cmocka_unit_test(test_mesh__last_free_candidate_is_found_among_thousands),
		cmocka_unit_test(test_mesh__candidates_merge_is_the_sorted_union_of_the_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
