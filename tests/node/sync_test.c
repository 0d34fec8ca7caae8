/*
 * sync_test.c - the sync engine with no loop and no store: two engines
 * wired back to back in memory, each over a tiny fake store of feeds.
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
#include "sync_fake.h"
#include "wire.pb-c.h"

/* Wire a (dialer) and b back to back; pump until quiet. */
static void run(struct fake *a, struct fake *b)
{
	assert_int_equal(fake_session(a, b), 0);
}

static const uint8_t ALLIANCE[32] = { 0xa1, 0x1a };

/* An alliance the other side is not admitted to is never offered: the
 * side that denies sends nothing of it and takes nothing of it. */
static void test_sync__alliance_not_allowed_is_never_exchanged(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	(void)state;
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	for (unsigned i = 0; i < 20; i++)
		give(a, i, 3);
	give(b, 100, 2);
	b->deny = true;     /* b does not count a as a member */
	run(a, b);
	assert_int_equal(b->records_got, 0);
	assert_int_equal(a->records_got, 0);
	assert_int_equal(b->records_sent, 0);
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
}

static void test_sync__two_engines_converge(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	(void)state;
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	for (unsigned i = 0; i < 300; i++) {
		if (i % 3 != 1)
			give(a, i, 1 + i % 7);
		if (i % 3 != 0)
			give(b, i, 1 + (i * 5) % 9);
	}
	run(a, b);
	assert_same(a, b);
	assert_true(sync_live(&a->sync));
	assert_true(sync_live(&b->sync));
	uint64_t behind, ahead;
	sync_lag(&a->sync, 1000, &behind, &ahead, NULL, 0, NULL);
	assert_int_equal(ahead, 0);
	/* Only records one side lacked were sent: nothing twice. */
	assert_int_equal(a->records_sent, b->records_got);
	assert_int_equal(b->records_sent, a->records_got);
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
}

static void test_sync__in_sync_1000_feeds_cost_under_1kb(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	(void)state;
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	for (unsigned i = 0; i < 1000; i++) {
		give(a, i, 1 + i % 5);
		give(b, i, 1 + i % 5);
	}
	run(a, b);
	size_t total = a->bytes_out + b->bytes_out + HANDSHAKE_BYTES;
	print_message("in sync, 1000 feeds: %zu bytes in %zu messages\n", total, a->msgs + b->msgs);
	assert_true(total < 1024);
	assert_int_equal(a->records_sent + b->records_sent, 0);
	assert_true(sync_live(&a->sync) && sync_live(&b->sync));
	/* Both sides learnt the other's whole vector from the root digest. */
	uint8_t au[32];
	author_of(au, 999);
	assert_int_equal(sync_peer_seq(&a->sync, ALLIANCE, au), 1 + 999 % 5);
	assert_int_equal(sync_peer_seq(&b->sync, ALLIANCE, au), 1 + 999 % 5);
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
}

static void test_sync__ranges_descend_to_the_one_differing_feed(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	(void)state;
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	for (unsigned i = 0; i < 1000; i++) {
		give(a, i, 3);
		give(b, i, i == 617 ? 5 : 3);
	}
	run(a, b);
	assert_same(a, b);
	/* Exactly the two missing records travelled, in one Records message. */
	assert_int_equal(a->records_got, 2);
	assert_int_equal(b->records_sent, 2);
	assert_int_equal(a->records_sent, 0);
	assert_int_equal(b->type_count[AGORA__WIRE__MESSAGE__MSG_RECORDS], 1);
	/* Descent: a handful of 16-way steps, not a dump of 1000 heads. */
	size_t total = a->bytes_out + b->bytes_out;
	print_message("one differing feed of 1000: %zu bytes\n", total);
	assert_true(total < 8192);
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
}

static void test_sync__empty_peer_receives_every_feed_once(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	(void)state;
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	for (unsigned i = 0; i < 40; i++)
		give(b, i, 2);
	run(a, b);
	assert_same(a, b);
	assert_int_equal(a->records_got, 80);
	assert_int_equal(a->records_sent, 0);
	assert_int_equal(b->records_sent, 80);
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
}

/*
 * A record published while our Digest is on the wire is not the peer's:
 * the peer's "equal" (a silent answer) is about the vector we sent, so the
 * new record still goes out once the exchange ends.
 */
static void test_sync__record_published_during_digest_is_sent(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	(void)state;
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	for (unsigned i = 0; i < 300; i++) {
		give(a, i, 2);
		give(b, i, 2);
	}
	a->publish_at = 2;      /* after b's Hello, before b's answer to the Digest */
	a->publish_feed = 7;
	run(a, b);
	assert_same(a, b);
	assert_int_equal(b->records_got, 1);
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
}

/* The same for a vector we listed with reply set: the peer's answer says
 * where it is behind what we listed, not behind what we hold now. */
static void test_sync__record_published_during_vector_turn_is_sent(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	(void)state;
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	for (unsigned i = 0; i < 10; i++) {
		give(a, i, i == 5 ? 4 : 3);
		give(b, i, 3);
	}
	b->publish_at = 3;      /* after a's Hello and Digest: b listed its 10 heads */
	b->publish_feed = 3;
	run(a, b);
	assert_same(a, b);
	assert_int_equal(a->records_got, 1);
	assert_int_equal(b->records_got, 1);
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
}

static void test_sync__hello_with_another_key_is_refused(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct msgq *q = calloc(1, sizeof(*q));
	uint8_t other[32];
	(void)state;
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	rebuild(a);
	rebuild(b);
	a->out = b->out = q;
	memset(other, 9, 32);
	struct sync_io ia = { .ctx = a, .send = io_send, .read = io_read, .records = io_records };
	struct sync_io ib = { .ctx = b, .send = io_send, .read = io_read, .records = io_records };
	assert_int_equal(sync_init(&a->sync, SYNC_INITIATOR, a->key, "A", b->key, &a->local, &ia), 0);
	assert_int_equal(sync_init(&b->sync, 0, b->key, "B", other, &b->local, &ib), 0);
	assert_int_equal(sync_start(&a->sync), 0);
	assert_int_equal(sync_receive(&b->sync, q->m[0], q->len[0], 0), SYNC_E_IDENTITY);
	for (size_t i = 0; i < q->tail; i++)
		free(q->m[i]);
	free(q);
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
}

static void test_sync__malformed_message_is_fatal(void **state)
{
	struct fake *a = malloc(sizeof(*a));
	struct msgq *q = calloc(1, sizeof(*q));
	uint8_t peer[32] = { 7 };
	static const uint8_t junk[] = { 0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01 };
	(void)state;
	fake_init(a, 1, ALLIANCE);
	rebuild(a);
	a->out = q;
	struct sync_io ia = { .ctx = a, .send = io_send, .read = io_read, .records = io_records };
	assert_int_equal(sync_init(&a->sync, 0, a->key, "A", peer, &a->local, &ia), 0);
	assert_int_equal(sync_receive(&a->sync, junk, sizeof(junk), 0), SYNC_E_PROTOCOL);
	assert_int_equal(sync_receive(&a->sync, junk, 0, 0), SYNC_E_PROTOCOL);  /* failed stays failed */
	for (size_t i = 0; i < q->tail; i++)
		free(q->m[i]);
	free(q);
	fake_free(a);
	free(a);
}

static void test_sync__digest_of_empty_range_is_blake2b_of_nothing(void **state)
{
	uint8_t d[32], e[32];
	(void)state;
	sync_digest(d, NULL, 0);
	crypto_generichash(e, 32, NULL, 0, NULL, 0);
	assert_memory_equal(d, e, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync__two_engines_converge),
		cmocka_unit_test(test_sync__alliance_not_allowed_is_never_exchanged),
		cmocka_unit_test(test_sync__in_sync_1000_feeds_cost_under_1kb),
		cmocka_unit_test(test_sync__ranges_descend_to_the_one_differing_feed),
		cmocka_unit_test(test_sync__empty_peer_receives_every_feed_once),
		cmocka_unit_test(test_sync__record_published_during_digest_is_sent),
		cmocka_unit_test(test_sync__record_published_during_vector_turn_is_sent),
		cmocka_unit_test(test_sync__hello_with_another_key_is_refused),
		cmocka_unit_test(test_sync__malformed_message_is_fatal),
		cmocka_unit_test(test_sync__digest_of_empty_range_is_blake2b_of_nothing),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
