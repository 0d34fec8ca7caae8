/*
 * mesh_refusal_test.c - peer selection (node/engine/mesh.c) when dials
 * fail or are refused: the backoff, refusals and busy pauses, the
 * bootstrap, bad arguments, and allocation failures.  What it chooses
 * (limits, accept and evict, shuffle, random choice) is in
 * mesh_select_test.c; the helpers both use in mesh_fx.c.  Time is a number
 * the tests move by hand; every mesh gets a fixed seed.
 *
 * The runner is linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
 * (tests/failalloc.c) for the allocation-failure test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "failalloc.h"
#include "mesh_fx.h"

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
		cmocka_unit_test(test_mesh__backoff_grows_and_resets),
		cmocka_unit_test(test_mesh__refused_key_is_not_redialled_until_candidates_change),
		cmocka_unit_test(test_mesh__busy_refusal_pauses_random_dials),
		cmocka_unit_test(test_mesh__unreported_dial_fails_after_timeout),
		cmocka_unit_test(test_mesh__close_of_unknown_key_leaves_no_state),
		cmocka_unit_test(test_mesh__bootstrap_is_dropped_once_other_sessions_exist),
		cmocka_unit_test(test_mesh__restarted_node_dials_members_before_its_bootstrap),
		cmocka_unit_test(test_mesh__bad_arguments_are_refused),
		cmocka_unit_test(test_mesh__every_failed_allocation_is_reported_and_leaks_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
