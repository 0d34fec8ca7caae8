/*
 * sync_stream_test.c - what the sync engine streams, and what a change
 * costs it: feeds named by the node (sync_feeds_changed), stuck feeds
 * dated without a periodic call, governance first, the digest cache, and
 * records that do not chain (a record pushed back, a diverged feed).
 * Engines back to back over sync_fake.c.
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

static const uint8_t ALLIANCE[32] = { 0xa1, 0x1a };

/* Wire a (dialer) and b back to back; pump until quiet. */
static void run(struct fake *a, struct fake *b)
{
	assert_int_equal(fake_session(a, b), 0);
}

/* ---------------------------------------- work proportional to change */

/* One change of a's feed au to seq n, named to its engine as the node
 * names it (the head before, then the vector rebuilt), `times` times in
 * one call. */
static void change(struct fake *a, unsigned au, uint64_t n, size_t times)
{
	struct sync_feed_ref refs[2];
	uint8_t key[32];
	author_of(key, au);
	for (size_t i = 0; i < times; i++)
		fake_ref(a, &refs[i], key);
	give(a, au, n);
	rebuild(a);
	assert_int_equal(sync_feeds_changed(&a->sync, refs, times, 2000), 0);
}

/* Once the exchange has ended, a session keeps an entry only for the
 * feeds where the peer differs from us (at 12,000 feeds: a few, not
 * 12,000 of 72 bytes); a feed without one stands for our head as it was
 * before each change, so every change still goes out, once. */
static void test_sync__feeds_in_step_keep_no_entry_and_changes_still_go_out(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct pair p;
	uint8_t au[32];
	(void)state;
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	for (unsigned i = 0; i < 2000; i++) {
		give(a, i, i == 5 ? 4 : 2);
		give(b, i, i == 9 ? 3 : 2);
	}
	assert_int_equal(fake_connect(&p, a, b, 0), 0);
	assert_int_equal(fake_pump(&p), 0);
	assert_int_equal(b->records_got, 2);
	assert_int_equal(a->records_got, 1);
	/* the one feed each streamed is kept (records may be on their way) */
	print_message("entries after the exchange: %zu at a, %zu at b, of 2000 feeds\n",
	              sync_peer_entries(&a->sync), sync_peer_entries(&b->sync));
	assert_true(sync_peer_entries(&a->sync) <= 2);
	assert_true(sync_peer_entries(&b->sync) <= 2);

	/* A feed in step moves: it goes out, once. */
	size_t sent = a->records_sent;
	change(a, 100, 3, 1);
	assert_int_equal(fake_pump(&p), 0);
	author_of(au, 100);
	assert_int_equal(feed_get(b, au, false)->n, 3);
	assert_int_equal(a->records_sent - sent, 1);
	/* Named twice in one call: still once. */
	change(a, 101, 4, 2);
	assert_int_equal(fake_pump(&p), 0);
	author_of(au, 101);
	assert_int_equal(feed_get(b, au, false)->n, 4);
	assert_int_equal(a->records_sent - sent, 3);
	/* b's head of it moves to ours: its entry goes. */
	assert_true(sync_peer_entries(&b->sync) <= 2);

	/* The vectors replaced whole (no head before is named): written
	 * down first, then every feed revisited; only the moved one goes. */
	assert_int_equal(sync_local_replacing(&a->sync), 0);
	give(a, 102, 5);
	rebuild(a);
	assert_int_equal(sync_local_changed(&a->sync, 3000), 0);
	assert_int_equal(fake_pump(&p), 0);
	author_of(au, 102);
	assert_int_equal(feed_get(b, au, false)->n, 5);
	assert_int_equal(a->records_sent - sent, 6);
	assert_same(a, b);
	fake_disconnect(&p);
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
}

/* After the exchange, a record published at a reaches b when the node
 * names its feed (sync_feeds_changed); a feed it does not name is not
 * revisited. */
static void test_sync__feeds_changed_pushes_the_feeds_named(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct pair p;
	(void)state;
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	for (unsigned i = 0; i < 500; i++) {
		give(a, i, 2);
		give(b, i, 2);
	}
	assert_int_equal(fake_connect(&p, a, b, 0), 0);
	assert_int_equal(fake_pump(&p), 0);
	give(a, 7, 3);
	give(a, 8, 3);   /* published, but the node does not say so */
	give(a, 600, 1); /* a new feed */
	struct sync_feed_ref refs[2];
	uint8_t k7[32], k600[32];
	author_of(k7, 7);
	author_of(k600, 600);
	fake_ref(a, &refs[0], k7);
	fake_ref(a, &refs[1], k600);
	rebuild(a);
	assert_int_equal(sync_feeds_changed(&a->sync, refs, 2, 2000), 0);
	assert_int_equal(fake_pump(&p), 0);
	assert_int_equal(b->records_got, 2);
	uint8_t au[32];
	author_of(au, 600);
	assert_non_null(feed_get(b, au, false));
	author_of(au, 7);
	assert_int_equal(feed_get(b, au, false)->n, 3);
	author_of(au, 8);
	assert_int_equal(feed_get(b, au, false)->n, 2);
	fake_disconnect(&p);
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
}

/* io.read answering SYNC_READ_LATER (a node whose read job is still out)
 * ends sync_produce with *more true and nothing skipped: the next call
 * goes on from that very record, so every record arrives, in order, once,
 * and the pending ones stay pending until read. */
static void test_sync__read_later_stops_producing_and_resumes_at_that_record(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct pair p;
	(void)state;
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	for (unsigned i = 0; i < 40; i++)
		give(a, i, 1 + i * 7);   /* 40 feeds, 1 to 274 records */
	assert_int_equal(fake_connect(&p, a, b, 0), 0);
	a->later_every = 5;
	for (int rounds = 0; rounds < 100000; rounds++) {
		bool moved = false;
		while (fake_step(&p, b) == 0 || fake_step(&p, a) == 0)
			moved = true;
		if (sync_pending(&a->sync)) {
			unsigned laters = a->laters;
			bool more = false;
			assert_int_equal(sync_produce(&a->sync, 1 << 20, &more), 0);
			if (a->laters != laters)
				assert_true(more);   /* stopped at an unread record */
			moved = true;
		}
		if (!moved)
			break;
	}
	assert_true(a->laters > 10);
	for (unsigned i = 0; i < 40; i++) {
		uint8_t au[32];
		author_of(au, i);
		struct feed *fb = feed_get(b, au, false);
		assert_non_null(fb);
		assert_int_equal(fb->n, 1 + i * 7);   /* io_records checks the order */
	}
	assert_int_equal(b->records_got, 40 + 7 * (39 * 40 / 2));
	assert_int_equal(a->records_sent, b->records_got);   /* none read twice */
	fake_disconnect(&p);
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
}

/* The peer owes us records (sync_owed: no attachment is asked for then)
 * while the exchange has not ended, and after it while the peer holds
 * records we lack, received or not, until we hold them or the feed has
 * been stuck for SYNC_STUCK_MS; the side that holds everything is owed
 * nothing. */
static void test_sync__peer_owes_records_until_we_hold_them_or_they_stick(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct pair p;
	(void)state;
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	give(a, 1, 2);
	give(b, 1, 5);
	a->drop_records = true;   /* what b sends is not stored yet */
	assert_int_equal(fake_connect(&p, a, b, 0), 0);
	assert_int_equal(fake_step(&p, a), 0);   /* b's Hello: open, nothing exchanged */
	assert_true(sync_owed(&a->sync, 1000));
	assert_int_equal(fake_pump(&p), 0);
	assert_true(sync_owed(&a->sync, 1000 + 5000));
	assert_false(sync_owed(&b->sync, 1000 + 5000));
	assert_false(sync_owed(&a->sync, 1000 + SYNC_STUCK_MS + 1));   /* stuck */
	/* Stored: owed nothing, stuck or not. */
	struct sync_feed_ref ref;
	uint8_t k1[32];
	author_of(k1, 1);
	fake_ref(a, &ref, k1);
	give(a, 1, 5);
	rebuild(a);
	assert_int_equal(sync_feeds_changed(&a->sync, &ref, 1, 7000), 0);
	assert_false(sync_owed(&a->sync, 7000));
	fake_disconnect(&p);
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
}

/* sync_owed walks the peer's feeds beside ours (both sorted by author):
 * with 300 feeds held alike nothing is owed, and one feed in the middle
 * on which the peer moved ahead is. */
static void test_sync__owed_compares_every_feed_with_ours(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct pair p;
	(void)state;
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	for (unsigned i = 0; i < 300; i++) {
		give(a, i, 2 + i % 3);
		give(b, i, 2 + i % 3);
	}
	assert_int_equal(fake_connect(&p, a, b, 0), 0);
	assert_int_equal(fake_pump(&p), 0);
	assert_false(sync_owed(&a->sync, 1000));
	assert_false(sync_owed(&b->sync, 1000));
	a->drop_records = true;   /* what b sends is not stored */
	give(b, 150, 9);
	struct sync_feed_ref ref;
	uint8_t k150[32];
	author_of(k150, 150);
	fake_ref(b, &ref, k150);
	rebuild(b);
	assert_int_equal(sync_feeds_changed(&b->sync, &ref, 1, 2000), 0);
	assert_int_equal(fake_pump(&p), 0);
	assert_true(sync_owed(&a->sync, 2000));
	assert_false(sync_owed(&b->sync, 2000));
	fake_disconnect(&p);
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
}

/* A feed the peer is ahead on and ours does not move is reported stuck
 * from the times the engine learnt them, with no periodic call. */
static void test_sync__stuck_feed_is_dated_without_periodic_calls(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct sync_stuck st[4];
	uint64_t behind, ahead;
	size_t n;
	(void)state;
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	give(a, 1, 2);
	give(b, 1, 5);
	a->drop_records = true;   /* a cannot store what b sends */
	run(a, b);
	sync_lag(&a->sync, 1000 + 5000, &behind, &ahead, st, 4, &n);
	assert_int_equal(behind, 3);
	assert_int_equal(n, 0);
	sync_lag(&a->sync, 1000 + SYNC_STUCK_MS + 1, &behind, &ahead, st, 4, &n);
	assert_int_equal(n, 1);
	assert_int_equal(st[0].our_seq, 2);
	assert_int_equal(st[0].peer_seq, 5);
	assert_int_equal(st[0].stalled_ms, SYNC_STUCK_MS + 1);
	/* Our head moves: the clock starts again from then. */
	struct sync_feed_ref ref;
	uint8_t k1[32];
	author_of(k1, 1);
	fake_ref(a, &ref, k1);
	give(a, 1, 3);
	rebuild(a);
	assert_int_equal(sync_feeds_changed(&a->sync, &ref, 1, 40000), 0);
	sync_lag(&a->sync, 40000 + 1000, &behind, &ahead, st, 4, &n);
	assert_int_equal(n, 0);
	sync_lag(&a->sync, 40000 + SYNC_STUCK_MS + 1, &behind, &ahead, st, 4, &n);
	assert_int_equal(n, 1);
	assert_int_equal(st[0].our_seq, 3);
	assert_int_equal(st[0].stalled_ms, SYNC_STUCK_MS + 1);
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
}

/* Governance first: the coordinators' feeds, then the peer's own, then
 * the rest, whatever their keys. */
static void test_sync__coordinators_feeds_stream_first_then_the_peers_own(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	uint8_t last[32] = { 0 }, au[32];
	unsigned coord = 0;
	(void)state;
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	for (unsigned i = 0; i < 30; i++) {
		give(a, i, 1);
		author_of(au, i);
		if (memcmp(au, last, 32) > 0) {   /* the coordinator: the highest key */
			memcpy(last, au, 32);
			coord = i;
		}
	}
	author_of(a->coord[0], coord);
	a->n_coord = 1;
	struct feed *own = feed_get(a, b->key, true);   /* b's own feed, restored from a */
	feed_append(own);
	run(a, b);
	assert_int_equal(a->n_order, 31);
	assert_memory_equal(a->order[0], a->coord[0], 32);
	assert_memory_equal(a->order[1], b->key, 32);
	for (size_t i = 3; i < a->n_order; i++)
		assert_true(memcmp(a->order[i - 1], a->order[i], 32) < 0);
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
}

/* The digest cache follows sync_lvec_set: a head changed through it is
 * in the next Digest, and the peer finds the difference. */
static void test_sync__digest_after_lvec_set_reflects_the_new_head(void **state)
{
	struct sync_lvec v;
	struct sync_head h[3];
	uint8_t d1[32], d2[32], id[32] = { 9 };
	(void)state;
	memset(&v, 0, sizeof(v));
	for (int i = 0; i < 3; i++) {
		uint8_t au[32];
		author_of(au, (unsigned)i);
		assert_int_equal(sync_lvec_set(&v, au, 1, id), 0);
	}
	struct solo *o = calloc(1, sizeof(*o));
	fake_init(&o->f, 0xaa, ALLIANCE);
	assert_int_equal(fake_solo(&o->f, SYNC_INITIATOR, SOLO_PEER, &o->q), 0);
	memcpy(v.alliance, ALLIANCE, 32);
	o->f.local.v = &v;   /* the engine reads v from now on */
	assert_int_equal(sync_start(&o->f.sync), 0);
	assert_int_equal(deliver_hello(&o->f.sync, SOLO_PEER, 1, 2, &ALLIANCE, 1), 0);
	Agora__Wire__Message *m = q_msg(&o->q, 1);
	memcpy(d1, m->digest->root->digest.data, 32);
	agora__wire__message__free_unpacked(m, NULL);
	memcpy(h, v.heads, sizeof(h));
	sync_digest(d2, h, 3);
	assert_memory_equal(d1, d2, 32);
	assert_int_equal(sync_lvec_set(&v, h[1].author, 2, id), 0);
	assert_int_equal(sync_resync(&o->f.sync), 0);   /* the first is still under way */
	assert_int_equal(queued(o), 2);
	sync_digest(d2, v.heads, 3);
	uint8_t dig[32];
	struct sync_lvec *keep = &v;
	(void)keep;
	/* A fresh engine's Digest over the same lvec carries the new digest. */
	struct msgq q2;
	memset(&q2, 0, sizeof(q2));
	struct sync e2;
	struct sync_io io;
	fake_io(&o->f, &io);
	o->f.out = &q2;
	assert_int_equal(sync_init(&e2, SYNC_INITIATOR, o->f.key, "x", SOLO_PEER, &o->f.local, &io), 0);
	assert_int_equal(sync_start(&e2), 0);
	assert_int_equal(deliver_hello(&e2, SOLO_PEER, 1, 2, &ALLIANCE, 1), 0);
	m = q_msg(&q2, 1);
	memcpy(dig, m->digest->root->digest.data, 32);
	agora__wire__message__free_unpacked(m, NULL);
	assert_memory_equal(dig, d2, 32);
	assert_memory_not_equal(dig, d1, 32);
	sync_dispose(&e2);
	q_clear(&q2);
	o->f.out = &o->q;
	o->f.local.v = &o->f.lv;
	free(v.heads);
	solo_free(o);
}

/* ------------------------------------------ records that do not chain */

static int deliver_records(struct sync *e, const uint8_t *author, uint64_t first)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Records r = AGORA__WIRE__RECORDS__INIT;
	uint8_t env[48] = { 0 };
	ProtobufCBinaryData bin = { sizeof(env), env };
	memcpy(env, author, 32);
	r.has_alliance = r.has_author = r.has_first_seq = true;
	r.alliance.data = (uint8_t *)ALLIANCE;
	r.alliance.len = 32;
	r.author.data = (uint8_t *)author;
	r.author.len = 32;
	r.first_seq = first;
	r.n_envelopes = 1;
	r.envelopes = &bin;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_RECORDS;
	m.records = &r;
	return deliver(e, &m);
}

/* (b) The node pushes one of its own records back to the peer: a Records
 * of that one envelope at its seq. */
static void test_sync__push_record_sends_our_record_at_that_seq(void **state)
{
	uint8_t au[32];
	(void)state;
	struct solo *o = solo_new(ALLIANCE, SYNC_INITIATOR, 1, 2, 3, 4);
	q_clear(&o->q);
	author_of(au, 1);
	assert_int_equal(sync_push_record(&o->f.sync, ALLIANCE, au, 2), 0);
	Agora__Wire__Message *m = q_msg(&o->q, 0);
	assert_int_equal(m->msg_case, AGORA__WIRE__MESSAGE__MSG_RECORDS);
	assert_int_equal(m->records->first_seq, 2);
	assert_int_equal(m->records->n_envelopes, 1);
	assert_memory_equal(m->records->envelopes[0].data, feed_get(&o->f, au, false)->env[1], 48);
	agora__wire__message__free_unpacked(m, NULL);
	assert_int_equal(sync_push_record(&o->f.sync, ALLIANCE, au, 9), -1);   /* io->read's */
	solo_free(o);
}


/* (d) A HeadCheck is answered only where the record differs: with ours,
 * as a Records of one envelope; never in a version-1 session. */
static int deliver_head_check(struct sync *e, const uint8_t *author, uint64_t seq,
                              const uint8_t id[32])
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__HeadCheck c = AGORA__WIRE__HEAD_CHECK__INIT;
	c.has_alliance = c.has_author = c.has_seq = c.has_id = true;
	c.alliance.data = (uint8_t *)ALLIANCE;
	c.alliance.len = 32;
	c.author.data = (uint8_t *)author;
	c.author.len = 32;
	c.seq = seq;
	c.id.data = (uint8_t *)id;
	c.id.len = 32;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_HEAD_CHECK;
	m.head_check = &c;
	return deliver(e, &m);
}

static void test_sync__head_check_is_answered_only_where_the_record_differs(void **state)
{
	uint8_t au[32], same[32], other[32] = { 1 };
	(void)state;
	struct solo *o = solo_new(ALLIANCE, SYNC_INITIATOR, 1, 2, 3, 4);
	author_of(au, 1);
	crypto_generichash(same, 32, feed_get(&o->f, au, false)->env[1], 48, NULL, 0);
	q_clear(&o->q);
	assert_int_equal(deliver_head_check(&o->f.sync, au, 2, same), 0);
	assert_int_equal(queued(o), 0);   /* the same record: no answer */
	assert_int_equal(deliver_head_check(&o->f.sync, au, 2, other), 0);
	Agora__Wire__Message *m = q_msg(&o->q, 0);
	assert_non_null(m);
	assert_int_equal(m->msg_case, AGORA__WIRE__MESSAGE__MSG_RECORDS);
	assert_int_equal(m->records->first_seq, 2);
	assert_memory_equal(m->records->envelopes[0].data, feed_get(&o->f, au, false)->env[1], 48);
	agora__wire__message__free_unpacked(m, NULL);
	q_clear(&o->q);
	assert_int_equal(deliver_head_check(&o->f.sync, au, 99, other), 0);   /* not held */
	assert_int_equal(queued(o), 0);
	solo_free(o);
	/* version 1: a HeadCheck is a violation, and none can be sent */
	o = solo_new(ALLIANCE, SYNC_INITIATOR, 1, 0, 3, 4);
	assert_int_equal(sync_send_head_check(&o->f.sync, ALLIANCE, au, 2, same), SYNC_E_STATE);
	assert_int_equal(deliver_head_check(&o->f.sync, au, 2, other), SYNC_E_PROTOCOL);
	solo_free(o);
}

/*
 * (c) A feed whose copies diverged: we stream none of it any more; its
 * records the peer sent before it could know (before the Pong of the
 * Ping sent then) are dropped unseen; one sent after ends the session
 * with Bye { FEED_DIVERGED, alliance, author, seq }.
 */
static void test_sync__diverged_feed_is_dropped_then_refused_once_the_peer_knows(void **state)
{
	struct fake *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct pair p;
	uint8_t au[32];
	(void)state;
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	for (unsigned i = 0; i < 5; i++) {
		give(a, i, 3);
		give(b, i, 3);
	}
	author_of(au, 2);
	assert_int_equal(fake_connect(&p, a, b, 0), 0);
	assert_int_equal(fake_pump(&p), 0);
	size_t msgs = a->msgs;
	assert_int_equal(sync_feed_diverged(&a->sync, ALLIANCE, au, 3), 0);
	assert_int_equal(sync_feed_diverged(&a->sync, ALLIANCE, au, 3), 0);   /* no-op */
	assert_int_equal(a->msgs, msgs + 1);   /* one barrier Ping */
	/* Our new records of it do not go out. */
	struct sync_feed_ref ref;
	fake_ref(a, &ref, au);
	give(a, 2, 5);
	rebuild(a);
	assert_int_equal(sync_feeds_changed(&a->sync, &ref, 1, 2000), 0);
	assert_false(sync_pending(&a->sync));
	/* In flight: dropped, not handed to the node. */
	size_t got = a->records_got;
	assert_int_equal(deliver_records(&a->sync, au, 4), 0);
	assert_int_equal(a->records_got, got);
	assert_int_equal(fake_step(&p, b), 0);   /* b reads the Ping... */
	assert_int_equal(fake_step(&p, a), 0);   /* ...and a its Pong */
	assert_int_equal(deliver_records(&a->sync, au, 4), SYNC_E_DIVERGED);
	assert_int_equal(sync_bye_sent(&a->sync), SYNC_BYE_FEED_DIVERGED);
	assert_int_equal(fake_step(&p, b), SYNC_E_BYE);
	const struct sync_bye *bye = sync_bye_received(&b->sync);
	assert_int_equal(bye->code, SYNC_BYE_FEED_DIVERGED);
	assert_int_equal(bye->seq, 3);
	assert_true(bye->has_alliance && bye->has_author);
	assert_memory_equal(bye->author, au, 32);
	fake_disconnect(&p);
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync__feeds_changed_pushes_the_feeds_named),
		cmocka_unit_test(test_sync__read_later_stops_producing_and_resumes_at_that_record),
		cmocka_unit_test(test_sync__stuck_feed_is_dated_without_periodic_calls),
		cmocka_unit_test(test_sync__peer_owes_records_until_we_hold_them_or_they_stick),
		cmocka_unit_test(test_sync__owed_compares_every_feed_with_ours),
		cmocka_unit_test(test_sync__coordinators_feeds_stream_first_then_the_peers_own),
		cmocka_unit_test(test_sync__digest_after_lvec_set_reflects_the_new_head),
		cmocka_unit_test(test_sync__feeds_in_step_keep_no_entry_and_changes_still_go_out),
		cmocka_unit_test(test_sync__push_record_sends_our_record_at_that_seq),
		cmocka_unit_test(test_sync__head_check_is_answered_only_where_the_record_differs),
		cmocka_unit_test(test_sync__diverged_feed_is_dropped_then_refused_once_the_peer_knows),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
