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

/* A range with a digest nobody holds and count 1. */
static Agora__Wire__Range *bogus_range(uint8_t *prefix, unsigned depth, uint8_t *dig)
{
	Agora__Wire__Range *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	agora__wire__range__init(r);
	r->has_prefix = r->has_depth = r->has_digest = r->has_count = true;
	r->prefix.data = prefix;
	r->prefix.len = (depth + 1) / 2;
	r->depth = depth;
	memset(dig, 0x5c, 32);
	r->digest.data = dig;
	r->digest.len = 32;
	r->count = 100;
	return r;
}

/* Deliver Ranges { ALLIANCE, exchange, ranges } to o. */
static int deliver_ranges(struct solo *o, uint32_t exchange, Agora__Wire__Range **rs, size_t n)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Ranges r = AGORA__WIRE__RANGES__INIT;
	r.has_alliance = true;
	r.alliance.data = (uint8_t *)ALLIANCE;
	r.alliance.len = 32;
	r.has_exchange = exchange != 0;
	r.exchange = exchange;
	r.n_ranges = n;
	r.ranges = rs;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_RANGES;
	m.ranges = &r;
	return deliver(&o->f.sync, &m);
}

/* ------------------------------------------------ D2: Ranges answers */

/* An answer may only descend into the ranges of the turn it answers: one
 * nibble deeper, each sub-range once.  A duplicate, a stray range or more
 * than 16 per range of ours is refused before anything is answered. */
static void test_sync__ranges_outside_the_turn_they_answer_are_refused(void **state)
{
	uint8_t pfx[20][33], dig[20][32];
	Agora__Wire__Range *rs[20];
	(void)state;
	for (int i = 0; i < 20; i++) {
		memset(pfx[i], 0, 33);
		pfx[i][0] = (uint8_t)((i % 16) << 4);
	}
	/* The dialer's Digest (one range: the root) awaits its answer. */
	struct solo *o = solo_new(ALLIANCE, SYNC_INITIATOR, 1, 2, 40, 1);
	q_clear(&o->q);
	rs[0] = bogus_range(pfx[0], 1, dig[0]);
	rs[1] = bogus_range(pfx[0], 1, dig[1]);
	assert_int_equal(deliver_ranges(o, 1, rs, 2), SYNC_E_PROTOCOL);
	assert_string_equal(sync_why(&o->f.sync), "Range given twice, or beside a vector");
	assert_int_equal(queued(o), 1);   /* only the Bye */
	free(rs[0]);
	free(rs[1]);
	solo_free(o);

	o = solo_new(ALLIANCE, SYNC_INITIATOR, 1, 2, 40, 1);
	rs[0] = bogus_range(pfx[1], 2, dig[0]);   /* two nibbles below the root */
	assert_int_equal(deliver_ranges(o, 1, rs, 1), SYNC_E_PROTOCOL);
	assert_string_equal(sync_why(&o->f.sync), "Range is not a sub-range of a range of our turn");
	free(rs[0]);
	solo_free(o);

	o = solo_new(ALLIANCE, SYNC_INITIATOR, 1, 2, 40, 1);
	for (int i = 0; i < 17; i++)
		rs[i] = bogus_range(pfx[i], 1, dig[i]);
	assert_int_equal(deliver_ranges(o, 1, rs, 17), SYNC_E_LIMIT);
	for (int i = 0; i < 17; i++)
		free(rs[i]);
	solo_free(o);

	/* An acceptor that opened nothing awaits no answer at all. */
	o = solo_new(ALLIANCE, 0, 1, 2, 40, 1);
	rs[0] = bogus_range(pfx[0], 1, dig[0]);
	assert_int_equal(deliver_ranges(o, 2, rs, 1), SYNC_E_PROTOCOL);
	assert_string_equal(sync_why(&o->f.sync), "Ranges answers no turn of ours");
	free(rs[0]);
	solo_free(o);

	/* Version 2: the answer names the exchange it belongs to. */
	o = solo_new(ALLIANCE, SYNC_INITIATOR, 1, 2, 40, 1);
	rs[0] = bogus_range(pfx[0], 1, dig[0]);
	assert_int_equal(deliver_ranges(o, 3, rs, 1), SYNC_E_PROTOCOL);
	free(rs[0]);
	solo_free(o);
}

/* The largest answer a peer can draw with one valid turn: all 16 sub-ranges
 * of our root, each claiming to differ.  Our answer stays within
 * SYNC_ANSWER_FACTOR bytes per byte of it, and the next turn can only
 * descend into what we sent. */
static void test_sync__answer_to_one_turn_is_bounded(void **state)
{
	uint8_t pfx[16][33], dig[16][32];
	Agora__Wire__Range *rs[16];
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Ranges r = AGORA__WIRE__RANGES__INIT;
	(void)state;
	struct solo *o = solo_new(ALLIANCE, SYNC_INITIATOR, 1, 2, 1000, 1);
	q_clear(&o->q);
	for (int i = 0; i < 16; i++) {
		memset(pfx[i], 0, 33);
		pfx[i][0] = (uint8_t)(i << 4);
		rs[i] = bogus_range(pfx[i], 1, dig[i]);
	}
	r.has_alliance = r.has_exchange = true;
	r.alliance.data = (uint8_t *)ALLIANCE;
	r.alliance.len = 32;
	r.exchange = 1;
	r.n_ranges = 16;
	r.ranges = rs;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_RANGES;
	m.ranges = &r;
	size_t in = agora__wire__message__get_packed_size(&m);
	assert_int_equal(deliver(&o->f.sync, &m), 0);
	assert_int_equal(queued(o), 1);
	size_t out = queued_bytes(o);
	print_message("a turn of %zu bytes drew an answer of %zu bytes\n", in, out);
	assert_true(out <= SYNC_ANSWER_FACTOR * in + SYNC_ANSWER_SLACK);
	Agora__Wire__Message *a = q_msg(&o->q, 0);
	assert_int_equal(a->ranges->n_ranges, 256);   /* 1000 feeds: ~62 per sub-range */
	agora__wire__message__free_unpacked(a, NULL);
	for (int i = 0; i < 16; i++)
		free(rs[i]);
	solo_free(o);
}

/* ---------------------------------------------------- D11: rewinds */

static int deliver_ack(struct solo *o, const uint8_t *author, uint64_t seq)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Ack k = AGORA__WIRE__ACK__INIT;
	k.has_alliance = k.has_author = k.has_seq = true;
	k.alliance.data = (uint8_t *)ALLIANCE;
	k.alliance.len = 32;
	k.author.data = (uint8_t *)author;
	k.author.len = 32;
	k.seq = seq;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_ACK;
	m.ack = &k;
	return deliver(&o->f.sync, &m);
}

static int deliver_digest(struct solo *o, uint32_t exchange, uint32_t count)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Digest d = AGORA__WIRE__DIGEST__INIT;
	Agora__Wire__Range r = AGORA__WIRE__RANGE__INIT;
	uint8_t dig[32];
	crypto_generichash(dig, 32, NULL, 0, NULL, 0);
	r.has_prefix = r.has_depth = r.has_digest = r.has_count = true;
	r.digest.data = dig;
	r.digest.len = 32;
	r.count = count;
	if (count)
		dig[0] ^= 1;
	d.has_alliance = true;
	d.alliance.data = (uint8_t *)ALLIANCE;
	d.alliance.len = 32;
	d.root = &r;
	d.has_exchange = exchange != 0;
	d.exchange = exchange;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_DIGEST;
	m.digest = &d;
	return deliver(&o->f.sync, &m);
}

static void drain(struct solo *o)
{
	while (sync_pending(&o->f.sync))
		assert_int_equal(sync_produce(&o->f.sync, 1 << 20, NULL), 0);
}

/* Ack{seq 0} rewinds a feed once per session; a second one, or a Digest
 * claiming the peer holds nothing, cannot stream it again. */
static void test_sync__ack_rewinds_a_feed_once_per_session(void **state)
{
	uint8_t au[32];
	(void)state;
	struct solo *o = solo_new(ALLIANCE, 0, 1, 2, 1, 10);   /* acceptor: the peer opens */
	author_of(au, 0);
	assert_int_equal(deliver_digest(o, 1, 0), 0);   /* "I hold nothing" */
	drain(o);
	assert_int_equal(o->f.records_sent, 10);
	assert_int_equal(deliver_ack(o, au, 0), 0);
	drain(o);
	assert_int_equal(o->f.records_sent, 20);   /* the one rewind */
	assert_int_equal(deliver_ack(o, au, 0), 0);
	assert_int_equal(deliver_digest(o, 3, 0), 0);
	drain(o);
	assert_int_equal(o->f.records_sent, 20);
	assert_int_equal(sync_peer_seq(&o->f.sync, ALLIANCE, au), 10);
	/* An Ack that raises is taken: the peer holds more than we sent. */
	assert_int_equal(deliver_ack(o, au, 12), 0);
	assert_int_equal(sync_peer_seq(&o->f.sync, ALLIANCE, au), 12);
	solo_free(o);
}

/* ------------------------------------------ D12: unshared alliances */

/* A Digest for an alliance outside the session: the node that holds it
 * (but does not carry it with this peer) and the node that does not hold
 * it send the same bytes, an answer without request that ends the
 * peer's exchange. */
static void test_sync__digest_of_an_unshared_alliance_gets_the_same_answer_held_or_not(void **state)
{
	static const uint8_t OTHER[32] = { 0x0e };
	(void)state;
	for (uint32_t hi = 1; hi <= 2; hi++) {
		struct solo *held = calloc(1, sizeof(*held)), *none = calloc(1, sizeof(*none));
		fake_init(&held->f, 0xaa, ALLIANCE);
		fake_init(&none->f, 0xaa, ALLIANCE);
		give(&held->f, 3, 2);
		held->f.deny = true;          /* holds it; the peer is not admitted there */
		none->f.hold_nothing = true;  /* does not hold it */
		assert_int_equal(fake_solo(&held->f, 0, SOLO_PEER, &held->q), 0);
		assert_int_equal(fake_solo(&none->f, 0, SOLO_PEER, &none->q), 0);
		assert_int_equal(sync_start(&held->f.sync), 0);
		assert_int_equal(sync_start(&none->f.sync), 0);
		/* The peer's Hello names another alliance. */
		assert_int_equal(deliver_hello(&held->f.sync, SOLO_PEER, 1, hi == 1 ? 0 : 2, &OTHER, 1), 0);
		assert_int_equal(deliver_hello(&none->f.sync, SOLO_PEER, 1, hi == 1 ? 0 : 2, &OTHER, 1), 0);
		q_clear(&held->q);
		q_clear(&none->q);
		assert_int_equal(deliver_digest(held, hi == 1 ? 0 : 1, 3), 0);
		assert_int_equal(deliver_digest(none, hi == 1 ? 0 : 1, 3), 0);
		assert_int_equal(queued(held), 1);
		assert_int_equal(queued(none), 1);
		assert_int_equal(held->q.len[0], none->q.len[0]);
		assert_memory_equal(held->q.m[0], none->q.m[0], held->q.len[0]);
		Agora__Wire__Message *m = q_msg(&held->q, 0);
		assert_int_equal(m->msg_case, AGORA__WIRE__MESSAGE__MSG_RANGES);
		assert_int_equal(m->ranges->n_ranges + m->ranges->n_vectors, 0);
		assert_int_equal(m->ranges->unshared, hi == 2);
		agora__wire__message__free_unpacked(m, NULL);
		solo_free(held);
		solo_free(none);
	}
}

/* The dialer names an alliance the acceptor holds but does not carry with
 * it: the acceptor's answer ends the dialer's exchange, so both go live. */
static void test_sync__exchange_of_an_alliance_the_peer_refuses_ends(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	(void)state;
	for (int v1 = 0; v1 < 2; v1++) {
		fake_init(a, 1, ALLIANCE);
		fake_init(b, 2, ALLIANCE);
		a->hello_v1 = b->hello_v1 = v1;
		give(a, 1, 3);
		give(b, 2, 3);
		b->deny = true;
		run(a, b);
		assert_int_equal(a->records_got + b->records_got, 0);
		assert_true(sync_live(&a->sync));
		assert_true(sync_live(&b->sync));
		assert_int_equal(sync_carries(&a->sync, ALLIANCE), v1);   /* v1: an "equal" answer */
		fake_free(a);
		fake_free(b);
	}
	free(a);
	free(b);
}

/* ------------------------------------------------ exchanges that cross */

/* Both sides open an exchange of the same alliance at once, each holding
 * records the other lacks (not yet pushed): the two exchanges are told
 * apart (version 2: by id; version 1: answers come in request order) and
 * both sides converge. */
static void test_sync__crossed_exchanges_both_converge(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct pair p;
	(void)state;
	for (int v1 = 0; v1 < 2; v1++) {
		fake_init(a, 1, ALLIANCE);
		fake_init(b, 2, ALLIANCE);
		a->hello_v1 = b->hello_v1 = v1;
		for (unsigned i = 0; i < 200; i++) {
			give(a, i, 3);
			give(b, i, 3);
		}
		assert_int_equal(fake_connect(&p, a, b, 0), 0);
		assert_int_equal(fake_pump(&p), 0);
		assert_int_equal(sync_version(&a->sync), v1 ? 1 : SYNC_VERSION_MAX);
		/* Records neither engine was told of: only an exchange finds them. */
		give(a, 17, 5);
		give(b, 150, 4);
		give(b, 201, 1);
		rebuild(a);
		rebuild(b);
		assert_int_equal(sync_resync(&a->sync), 0);
		assert_int_equal(sync_resync(&b->sync), 0);
		assert_int_equal(fake_pump(&p), 0);
		fake_disconnect(&p);
		assert_same(a, b);
		assert_true(sync_live(&a->sync) && sync_live(&b->sync));
		fake_free(a);
		fake_free(b);
	}
	free(a);
	free(b);
}

/* ----------------------------------------- §4.3 step 6, own count 0 */

/*
 * A node whose count in a range is 0 learns nothing from the peer's
 * silence about it (the peer streams what it holds there instead).  Here
 * a keeps nothing it receives, so it stays behind b; a second exchange
 * must not forget what a learnt of b's feeds.
 */
static void test_sync__silence_about_a_range_we_hold_nothing_of_keeps_what_we_know(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct pair p;
	uint64_t behind1, behind2, ahead;
	(void)state;
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	/* a holds ~19 feeds per first nibble, so it descends to depth 2,
	 * where it holds none in many sub-ranges b holds feeds in. */
	for (unsigned i = 0; i < 1000; i++)
		give(b, i, 2);
	for (unsigned i = 0; i < 300; i++)
		give(a, i, 2);
	a->drop_records = true;
	assert_int_equal(fake_connect(&p, a, b, 0), 0);
	assert_int_equal(fake_pump(&p), 0);
	sync_lag(&a->sync, 1000, &behind1, &ahead, NULL, 0, NULL);
	assert_int_equal(behind1, 1400);
	/* At no point of a second exchange does a forget (b streams again
	 * what a says it lacks, which would hide it at the end). */
	assert_int_equal(sync_resync(&a->sync), 0);
	for (int moved = 1; moved;) {
		int rb = fake_step(&p, b), ra = fake_step(&p, a);
		assert_true(rb >= 0 && ra >= 0);
		moved = !rb || !ra;
		sync_lag(&a->sync, 1000, &behind2, &ahead, NULL, 0, NULL);
		assert_int_equal(behind2, behind1);
		if (sync_pending(&b->sync)) {
			assert_int_equal(sync_produce(&b->sync, 1 << 20, NULL), 0);
			moved = 1;
		}
	}
	fake_disconnect(&p);
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
}

/*
 * sync_lag walks the peer's feeds and ours together: feeds only the peer
 * holds, only we hold, and both, interleaved by author.  a keeps nothing,
 * so after the exchange it is behind by exactly what b holds beyond it.
 */
static void test_sync__lag_counts_every_feed_the_peer_holds_beyond_ours(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct pair p;
	uint64_t behind, ahead, want = 0;
	(void)state;
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	for (unsigned i = 0; i < 600; i++) {
		uint64_t sa = i % 3 != 1 ? 1 + i % 7 : 0, sb = i % 3 != 0 ? 1 + (i * 5) % 9 : 0;
		if (sa)
			give(a, i, sa);
		if (sb)
			give(b, i, sb);
		want += sb > sa ? sb - sa : 0;
	}
	a->drop_records = true;
	assert_int_equal(fake_connect(&p, a, b, 0), 0);
	assert_int_equal(fake_pump(&p), 0);
	sync_lag(&a->sync, 1000, &behind, &ahead, NULL, 0, NULL);
	assert_int_equal(behind, want);
	fake_disconnect(&p);
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
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
		cmocka_unit_test(test_sync__lag_counts_every_feed_the_peer_holds_beyond_ours),
		cmocka_unit_test(test_sync__digest_of_empty_range_is_blake2b_of_nothing),
		cmocka_unit_test(test_sync__ranges_outside_the_turn_they_answer_are_refused),
		cmocka_unit_test(test_sync__answer_to_one_turn_is_bounded),
		cmocka_unit_test(test_sync__ack_rewinds_a_feed_once_per_session),
		cmocka_unit_test(test_sync__digest_of_an_unshared_alliance_gets_the_same_answer_held_or_not),
		cmocka_unit_test(test_sync__exchange_of_an_alliance_the_peer_refuses_ends),
		cmocka_unit_test(test_sync__crossed_exchanges_both_converge),
		cmocka_unit_test(test_sync__silence_about_a_range_we_hold_nothing_of_keeps_what_we_know),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
