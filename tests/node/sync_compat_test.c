/*
 * sync_compat_test.c - the current engine (protocol 1-2) against the
 * engine that landed (protocol 1, tests/node/landed_v1/), both ways: they
 * settle on version 1 and converge, also when both open an exchange at
 * once, and the landed node's exchange of an alliance this node does not
 * carry ends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "node/engine/sync.h"
#include "landed_v1/v1_adapter.h"
#include "sync_fake.h"

static const uint8_t ALLIANCE[32] = { 0xa1, 0x1a };

/* A session between n (current engine, n->sync) and o (landed engine). */
struct mixed {
	struct fake *n, *o;
	struct v1 *old;
	struct msgq *to_n, *to_o;
};

static void old_local(struct mixed *x)
{
	struct v1_head *h = calloc(x->o->n_feeds + 1, sizeof(*h));
	size_t k = 0;
	assert_non_null(h);
	rebuild(x->o);
	for (size_t i = 0; i < x->o->lv.n; i++, k++) {
		memcpy(h[k].author, x->o->lv.heads[i].author, 32);
		h[k].seq = x->o->lv.heads[i].seq;
		memcpy(h[k].id, x->o->lv.heads[i].id, 32);
	}
	assert_int_equal(v1_set_local(x->old, ALLIANCE, h, k), 0);
	free(h);
}

static void mixed_open(struct mixed *x, struct fake *n, struct fake *o, bool n_dials)
{
	struct sync_io io;
	struct v1_io oio = { o, io_send, io_read, io_records, io_allowed };
	x->n = n;
	x->o = o;
	x->to_n = calloc(1, sizeof(*x->to_n));
	x->to_o = calloc(1, sizeof(*x->to_o));
	n->out = x->to_o;
	o->out = x->to_n;
	rebuild(n);
	fake_io(n, &io);
	assert_int_equal(sync_init(&n->sync, n_dials ? SYNC_INITIATOR : 0, n->key, "new", o->key,
	                           &n->local, &io), 0);
	x->old = v1_new(!n_dials, o->key, n->key, &oio);
	assert_non_null(x->old);
	old_local(x);
	assert_int_equal(sync_start(&n->sync), 0);
	assert_int_equal(v1_start(x->old), 0);
}

static void mixed_pump(struct mixed *x)
{
	for (int rounds = 0; rounds < 100000; rounds++) {
		bool moved = false;
		if (x->to_o->head < x->to_o->tail) {
			struct msgq *q = x->to_o;
			assert_int_equal(v1_receive(x->old, q->m[q->head], q->len[q->head]), 0);
			free(q->m[q->head++]);
			if (x->o->n_moved) {
				x->o->n_moved = 0;
				old_local(x);
				assert_int_equal(v1_local_changed(x->old), 0);
			}
			moved = true;
		}
		if (x->to_n->head < x->to_n->tail) {
			struct msgq *q = x->to_n;
			assert_int_equal(sync_receive(&x->n->sync, q->m[q->head], q->len[q->head], 1000), 0);
			free(q->m[q->head++]);
			if (x->n->n_moved) {
				struct sync_feed_ref refs[MAXF];
				for (size_t i = 0; i < x->n->n_moved; i++)
					fake_ref(x->n, &refs[i], x->n->moved[i]);
				rebuild(x->n);
				assert_int_equal(sync_feeds_changed(&x->n->sync, refs, x->n->n_moved, 1000), 0);
				x->n->n_moved = 0;
			}
			moved = true;
		}
		if (v1_pending(x->old)) {
			assert_int_equal(v1_produce(x->old), 0);
			moved = true;
		}
		if (sync_pending(&x->n->sync)) {
			assert_int_equal(sync_produce(&x->n->sync, 1 << 20, NULL), 0);
			moved = true;
		}
		if (!moved)
			return;
	}
	fail_msg("the mixed session never went quiet");
}

static void mixed_close(struct mixed *x)
{
	for (struct msgq *q = x->to_n; q; q = q == x->to_n ? x->to_o : NULL) {
		while (q->head < q->tail)
			free(q->m[q->head++]);
		free(q);
	}
	v1_free(x->old);
}

static void fill(struct fake *n, struct fake *o)
{
	for (unsigned i = 0; i < 400; i++) {
		if (i % 3 != 1)
			give(n, i, 1 + i % 7);
		if (i % 3 != 0)
			give(o, i, 1 + (i * 5) % 9);
	}
}

static void test_sync_compat__landed_and_current_engines_converge_both_ways(void **state)
{
	struct fake *n = malloc(sizeof(*n)), *o = malloc(sizeof(*o));
	struct mixed x;
	(void)state;
	for (int n_dials = 0; n_dials < 2; n_dials++) {
		fake_init(n, 1, ALLIANCE);
		fake_init(o, 2, ALLIANCE);
		fill(n, o);
		mixed_open(&x, n, o, n_dials);
		mixed_pump(&x);
		assert_int_equal(sync_version(&n->sync), 1);
		assert_same(n, o);
		assert_true(sync_live(&n->sync));
		assert_true(v1_live(x.old));
		/* Nothing went twice. */
		assert_int_equal(n->records_sent, o->records_got);
		assert_int_equal(o->records_sent, n->records_got);
		mixed_close(&x);
		fake_free(n);
		fake_free(o);
	}
	free(n);
	free(o);
}

/* Both open an exchange at once on records neither was told of: the
 * current engine tells the landed node's answers apart by their order. */
static void test_sync_compat__crossed_exchanges_with_a_landed_node_converge(void **state)
{
	struct fake *n = malloc(sizeof(*n)), *o = malloc(sizeof(*o));
	struct mixed x;
	(void)state;
	for (int n_dials = 0; n_dials < 2; n_dials++) {
		fake_init(n, 1, ALLIANCE);
		fake_init(o, 2, ALLIANCE);
		for (unsigned i = 0; i < 300; i++) {
			give(n, i, 2);
			give(o, i, 2);
		}
		mixed_open(&x, n, o, n_dials);
		mixed_pump(&x);
		give(n, 40, 6);
		give(o, 41, 3);
		give(o, 500, 1);
		rebuild(n);
		old_local(&x);
		assert_int_equal(sync_resync(&n->sync), 0);
		assert_int_equal(v1_resync(x.old), 0);
		mixed_pump(&x);
		assert_same(n, o);
		assert_true(sync_live(&n->sync));
		mixed_close(&x);
		fake_free(n);
		fake_free(o);
	}
	free(n);
	free(o);
}

/* The landed node names an alliance this node holds but does not carry
 * with it: it used to wait for an answer for ever; now its exchange ends. */
static void test_sync_compat__landed_nodes_exchange_of_an_unshared_alliance_ends(void **state)
{
	struct fake *n = malloc(sizeof(*n)), *o = malloc(sizeof(*o));
	struct mixed x;
	(void)state;
	fake_init(n, 1, ALLIANCE);
	fake_init(o, 2, ALLIANCE);
	fill(n, o);
	n->deny = true;
	mixed_open(&x, n, o, false);   /* the landed node dials */
	mixed_pump(&x);
	assert_true(v1_live(x.old));
	assert_int_equal(n->records_got + o->records_got, 0);
	mixed_close(&x);
	fake_free(n);
	fake_free(o);
	free(n);
	free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_compat__landed_and_current_engines_converge_both_ways),
		cmocka_unit_test(test_sync_compat__crossed_exchanges_with_a_landed_node_converge),
		cmocka_unit_test(test_sync_compat__landed_nodes_exchange_of_an_unshared_alliance_ends),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
