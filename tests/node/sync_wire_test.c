/*
 * sync_wire_test.c - the sync engine's message rules (PROTOCOL.md 4.1,
 * 4.5): required fields, unknown fields and types, parse limits,
 * protocol versions, Bye codes and the Redeem states.  One engine is
 * driven by hand, or two back to back (sync_fake.c).
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

static int raw(struct solo *o, const uint8_t *b, size_t n)
{
	return sync_receive(&o->f.sync, b, n, 1000);
}

/* The last message o sent must be a Bye with this code; returns it. */
static Agora__Wire__Message *last_bye(struct solo *o, uint32_t code)
{
	size_t n = o->q.tail - o->q.head;
	assert_true(n > 0);
	Agora__Wire__Message *m = q_msg(&o->q, n - 1);
	assert_non_null(m);
	assert_int_equal(m->msg_case, AGORA__WIRE__MESSAGE__MSG_BYE);
	assert_int_equal(m->bye->code, code);
	assert_int_equal(sync_bye_sent(&o->f.sync), (int)code);
	return m;
}

/* A Ping of nonce 1 with `unknown` unknown fields (number 15, value 0). */
static size_t ping_with_unknown(uint8_t *b, size_t unknown)
{
	size_t body = 2 + 2 * unknown, n = 0;
	b[n++] = 0x3a;   /* Message.ping */
	b[n++] = (uint8_t)(0x80 | (body & 0x7f));
	b[n++] = (uint8_t)(body >> 7);
	b[n++] = 0x08;   /* nonce 1 */
	b[n++] = 0x01;
	for (size_t i = 0; i < unknown; i++) {
		b[n++] = 0x78;
		b[n++] = 0x00;
	}
	return n;
}

/* ---------------------------------------------------- unknown fields */

static void test_sync_wire__unknown_fields_are_ignored_up_to_64(void **state)
{
	struct solo *o = solo_new(ALLIANCE, 0, 1, 2, 1, 3);
	uint8_t b[256];
	(void)state;
	assert_int_equal(raw(o, b, ping_with_unknown(b, 64)), 0);
	Agora__Wire__Message *m = q_msg(&o->q, 0);
	assert_int_equal(m->msg_case, AGORA__WIRE__MESSAGE__MSG_PONG);
	assert_int_equal(m->pong->nonce, 1);
	agora__wire__message__free_unpacked(m, NULL);
	q_clear(&o->q);
	assert_int_equal(raw(o, b, ping_with_unknown(b, 65)), SYNC_E_LIMIT);
	agora__wire__message__free_unpacked(last_bye(o, SYNC_BYE_LIMIT_EXCEEDED), NULL);
	solo_free(o);
}

static void test_sync_wire__a_singular_field_twice_is_refused(void **state)
{
	struct solo *o = solo_new(ALLIANCE, 0, 1, 2, 1, 3);
	static const uint8_t twice[] = { 0x3a, 0x04, 0x08, 0x01, 0x08, 0x02 };
	(void)state;
	assert_int_equal(raw(o, twice, sizeof(twice)), SYNC_E_PROTOCOL);
	agora__wire__message__free_unpacked(last_bye(o, SYNC_BYE_PROTOCOL_ERROR), NULL);
	solo_free(o);
}

static void test_sync_wire__two_messages_in_one_are_refused(void **state)
{
	struct solo *o = solo_new(ALLIANCE, 0, 1, 2, 1, 3);
	static const uint8_t two[] = { 0x3a, 0x02, 0x08, 0x01, 0x42, 0x02, 0x08, 0x01 };
	(void)state;
	assert_int_equal(raw(o, two, sizeof(two)), SYNC_E_PROTOCOL);
	assert_string_equal(sync_why(&o->f.sync), "two messages in one");
	solo_free(o);
}

/* -------------------------------------------------------- parse limits */

/* n empty fields of number `field` inside Message field `outer`. */
static uint8_t *many_empty(uint8_t outer, uint8_t field, size_t n, size_t *len)
{
	size_t body = 2 * n, hdr = 0;
	uint8_t *b = malloc(body + 16);
	assert_non_null(b);
	b[hdr++] = (uint8_t)(outer << 3 | 2);
	for (size_t v = body; ; v >>= 7) {
		b[hdr++] = (uint8_t)((v & 0x7f) | (v >> 7 ? 0x80 : 0));
		if (!(v >> 7))
			break;
	}
	for (size_t i = 0; i < n; i++) {
		b[hdr + 2 * i] = (uint8_t)(field << 3 | 2);
		b[hdr + 2 * i + 1] = 0;
	}
	*len = hdr + body;
	return b;
}

/* A Records of 4097 envelopes, or a Hello naming 257 alliances, is refused
 * by the walk, before it is unpacked (sync_cost_test.c counts the bytes
 * that costs). */
static void test_sync_wire__structure_over_the_limits_is_refused(void **state)
{
	struct solo *o = solo_new(ALLIANCE, 0, 1, 2, 1, 3);
	size_t len;
	uint8_t *b;
	(void)state;
	b = many_empty(5, 4, SYNC_RECORDS_MAX_N + 1, &len);
	assert_int_equal(raw(o, b, len), SYNC_E_LIMIT);
	assert_string_equal(sync_why(&o->f.sync), "Records holds more than 4096 envelopes");
	free(b);
	solo_free(o);

	o = solo_new(ALLIANCE, 0, 0, 0, 1, 3);
	b = many_empty(1, 4, SYNC_HELLO_ALLIANCES_MAX + 1, &len);
	assert_int_equal(raw(o, b, len), SYNC_E_LIMIT);
	free(b);
	solo_free(o);

	/* 4096 envelopes pass the walk (and fail later: empty Records fields). */
	o = solo_new(ALLIANCE, 0, 1, 2, 1, 3);
	b = many_empty(5, 4, SYNC_RECORDS_MAX_N, &len);
	assert_int_equal(raw(o, b, len), SYNC_E_PROTOCOL);
	assert_string_equal(sync_why(&o->f.sync), "Records without alliance, author, first_seq >= 1 "
	                    "or envelopes");
	free(b);
	solo_free(o);
}

/* ----------------------------------------------------- required fields */

static void test_sync_wire__ping_without_nonce_is_a_protocol_error(void **state)
{
	struct solo *o = solo_new(ALLIANCE, 0, 1, 2, 1, 3);
	static const uint8_t ping[] = { 0x3a, 0x00 }, pong[] = { 0x42, 0x00 };
	(void)state;
	assert_int_equal(raw(o, ping, sizeof(ping)), SYNC_E_PROTOCOL);
	assert_string_equal(sync_why(&o->f.sync), "Ping without nonce");
	solo_free(o);
	o = solo_new(ALLIANCE, 0, 1, 2, 1, 3);
	assert_int_equal(raw(o, pong, sizeof(pong)), SYNC_E_PROTOCOL);
	solo_free(o);
}

/* The dialer's Digest is answered with a Vector that lacks its depth. */
static void test_sync_wire__vector_without_depth_is_a_protocol_error(void **state)
{
	struct solo *o = solo_new(ALLIANCE, SYNC_INITIATOR, 1, 2, 1, 3);
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Ranges r = AGORA__WIRE__RANGES__INIT;
	Agora__Wire__Vector v = AGORA__WIRE__VECTOR__INIT, *vs[1] = { &v };
	(void)state;
	r.has_alliance = true;
	r.alliance.data = (uint8_t *)ALLIANCE;
	r.alliance.len = 32;
	r.has_exchange = true;
	r.exchange = 1;
	v.has_prefix = true;
	v.has_reply = v.reply = true;
	r.n_vectors = 1;
	r.vectors = vs;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_RANGES;
	m.ranges = &r;
	assert_int_equal(deliver(&o->f.sync, &m), SYNC_E_PROTOCOL);
	assert_string_equal(sync_why(&o->f.sync), "Vector with a malformed range");
	/* ...and with it, the same answer is fine. */
	solo_free(o);
	o = solo_new(ALLIANCE, SYNC_INITIATOR, 1, 2, 1, 3);
	v.has_depth = true;
	assert_int_equal(deliver(&o->f.sync, &m), 0);
	solo_free(o);
}

/* ----------------------------------------------------- unknown types */

static void test_sync_wire__unknown_message_type_is_ignored_in_version_2_only(void **state)
{
	static const uint8_t t15[] = { 0x7a, 0x02, 0x08, 0x01 };   /* Message field 15 */
	(void)state;
	struct solo *o = solo_new(ALLIANCE, 0, 1, 2, 1, 3);
	assert_int_equal(raw(o, t15, sizeof(t15)), 0);
	assert_int_equal(o->q.tail - o->q.head, 0);
	solo_free(o);
	o = solo_new(ALLIANCE, 0, 1, 0, 1, 3);   /* a version-1 peer */
	assert_int_equal(raw(o, t15, sizeof(t15)), SYNC_E_PROTOCOL);
	solo_free(o);
	o = solo_new(ALLIANCE, 0, 0, 0, 1, 3);   /* before Hello */
	assert_int_equal(raw(o, t15, sizeof(t15)), SYNC_E_PROTOCOL);
	solo_free(o);
	o = solo_new(ALLIANCE, 0, 1, 2, 1, 3);   /* an empty Message is no type at all */
	assert_int_equal(raw(o, t15, 0), SYNC_E_PROTOCOL);
	solo_free(o);
}

/* ------------------------------------------------------------ versions */

static void test_sync_wire__hello_offers_versions_1_to_4(void **state)
{
	struct solo *o = calloc(1, sizeof(*o));
	(void)state;
	fake_init(&o->f, 0xaa, ALLIANCE);
	assert_int_equal(fake_solo(&o->f, 0, SOLO_PEER, &o->q), 0);
	assert_int_equal(sync_start(&o->f.sync), 0);
	Agora__Wire__Message *m = q_msg(&o->q, 0);
	assert_int_equal(m->hello->version, 1);
	assert_true(m->hello->has_max_version);
	assert_int_equal(m->hello->max_version, 4);
	agora__wire__message__free_unpacked(m, NULL);
	assert_int_equal(sync_start(&o->f.sync), SYNC_E_STATE);   /* once */
	solo_free(o);
}

/* The dialer opens its exchange in the version both speak: a version-1
 * peer gets a Digest without exchange id, a version-2 peer one with. */
static void test_sync_wire__both_sides_speak_the_highest_common_version(void **state)
{
	(void)state;
	struct solo *o = solo_new(ALLIANCE, SYNC_INITIATOR, 0, 0, 1, 3);
	assert_int_equal(sync_version(&o->f.sync), 0);
	assert_int_equal(deliver_hello(&o->f.sync, SOLO_PEER, 1, 0, &ALLIANCE, 1), 0);
	assert_int_equal(sync_version(&o->f.sync), 1);
	Agora__Wire__Message *m = q_msg(&o->q, 0);
	assert_int_equal(m->msg_case, AGORA__WIRE__MESSAGE__MSG_DIGEST);
	assert_false(m->digest->has_exchange);
	agora__wire__message__free_unpacked(m, NULL);
	solo_free(o);

	o = solo_new(ALLIANCE, SYNC_INITIATOR, 0, 0, 1, 3);
	assert_int_equal(deliver_hello(&o->f.sync, SOLO_PEER, 1, 2, &ALLIANCE, 1), 0);
	assert_int_equal(sync_version(&o->f.sync), 2);
	m = q_msg(&o->q, 0);
	assert_true(m->digest->has_exchange);
	agora__wire__message__free_unpacked(m, NULL);
	solo_free(o);

	o = solo_new(ALLIANCE, SYNC_INITIATOR, 0, 0, 1, 3);
	assert_int_equal(deliver_hello(&o->f.sync, SOLO_PEER, 1, 7, &ALLIANCE, 1), 0);
	assert_int_equal(sync_version(&o->f.sync), SYNC_VERSION_MAX);
	m = q_msg(&o->q, 0);
	assert_true(m->digest->has_exchange);
	assert_int_equal(m->digest->exchange, 1);   /* the dialer's ids are odd */
	agora__wire__message__free_unpacked(m, NULL);
	solo_free(o);
}

static void test_sync_wire__no_common_version_closes_with_what_to_upgrade(void **state)
{
	struct solo *o = solo_new(ALLIANCE, 0, 0, 0, 1, 3);
	(void)state;
	assert_int_equal(deliver_hello(&o->f.sync, SOLO_PEER, 5, 6, &ALLIANCE, 1), SYNC_E_VERSION);
	Agora__Wire__Message *m = last_bye(o, SYNC_BYE_NO_COMMON_VERSION);
	assert_string_equal(m->bye->reason, "no common protocol version: this node speaks 1–4 and "
	                    "yours 5–6; upgrade agora on the older one");
	agora__wire__message__free_unpacked(m, NULL);
	assert_string_equal(sync_why(&o->f.sync), "no common protocol version: this node speaks "
	                    "1–4, the peer 5–6; upgrade agora on the older one");
	assert_int_equal(sync_state(&o->f.sync), SYNC_STATE_FAILED);
	solo_free(o);
}

static void test_sync_wire__empty_version_range_is_a_protocol_error(void **state)
{
	(void)state;
	struct solo *o = solo_new(ALLIANCE, 0, 0, 0, 1, 3);
	assert_int_equal(deliver_hello(&o->f.sync, SOLO_PEER, 2, 1, &ALLIANCE, 1), SYNC_E_PROTOCOL);
	solo_free(o);
	o = solo_new(ALLIANCE, 0, 0, 0, 1, 3);
	assert_int_equal(deliver_hello(&o->f.sync, SOLO_PEER, 0, 0, &ALLIANCE, 1), SYNC_E_PROTOCOL);
	solo_free(o);
}

/* ------------------------------------------------------------------ Bye */

static void test_sync_wire__bye_code_reason_and_seq_reach_the_peer(void **state)
{
	struct solo *o = solo_new(ALLIANCE, 0, 1, 2, 1, 3), *p = solo_new(ALLIANCE, 0, 1, 2, 1, 3);
	struct sync_bye full;
	(void)state;
	assert_int_equal(sync_send_bye(&o->f.sync, SYNC_BYE_REVOKED, "revoked\nat 42", 42), 0);
	assert_int_equal(sync_state(&o->f.sync), SYNC_STATE_CLOSED);
	assert_int_equal(sync_send_ping(&o->f.sync, 5), SYNC_E_CLOSED);   /* nothing after it */
	assert_int_equal(sync_receive(&p->f.sync, o->q.m[o->q.head], o->q.len[o->q.head], 1),
	                 SYNC_E_BYE);
	const struct sync_bye *b = sync_bye_received(&p->f.sync);
	assert_non_null(b);
	assert_int_equal(b->code, SYNC_BYE_REVOKED);
	assert_string_equal(b->reason, "revoked?at 42");
	assert_int_equal(b->seq, 42);
	assert_false(b->has_alliance);
	assert_string_equal(sync_bye_code_name(b->code), "revoked");
	assert_int_equal(sync_receive(&p->f.sync, o->q.m[o->q.head], o->q.len[o->q.head], 1),
	                 SYNC_E_CLOSED);
	solo_free(o);
	solo_free(p);

	/* Every field, and a code of a later version. */
	o = solo_new(ALLIANCE, 0, 1, 2, 1, 3);
	p = solo_new(ALLIANCE, 0, 1, 2, 1, 3);
	memset(&full, 0, sizeof(full));
	full.code = 99;
	full.retry_after_ms = 60000;
	full.has_alliance = true;
	memcpy(full.alliance, ALLIANCE, 32);
	assert_int_equal(sync_send_bye_full(&o->f.sync, &full), 0);
	assert_int_equal(sync_receive(&p->f.sync, o->q.m[o->q.head], o->q.len[o->q.head], 1),
	                 SYNC_E_BYE);
	b = sync_bye_received(&p->f.sync);
	assert_int_equal(b->code, 99);
	assert_string_equal(sync_bye_code_name(b->code), "unknown");
	assert_int_equal(b->retry_after_ms, 60000);
	assert_true(b->has_alliance);
	assert_memory_equal(b->alliance, ALLIANCE, 32);
	solo_free(o);
	solo_free(p);
}

/* A node that refuses a key right after the handshake: sync_init, then
 * sync_send_bye; no Hello goes out, nothing can follow. */
static void test_sync_wire__refusal_after_handshake_sends_only_a_bye(void **state)
{
	struct solo *o = calloc(1, sizeof(*o));
	(void)state;
	fake_init(&o->f, 0xaa, ALLIANCE);
	assert_int_equal(fake_solo(&o->f, 0, SOLO_PEER, &o->q), 0);
	assert_int_equal(sync_send_bye(&o->f.sync, SYNC_BYE_NOT_ADMITTED, "not admitted here", 0), 0);
	assert_int_equal(sync_start(&o->f.sync), SYNC_E_STATE);
	assert_int_equal(o->q.tail - o->q.head, 1);
	agora__wire__message__free_unpacked(last_bye(o, SYNC_BYE_NOT_ADMITTED), NULL);
	solo_free(o);
}

static void test_sync_wire__engine_errors_send_a_bye_saying_why(void **state)
{
	struct solo *o = solo_new(ALLIANCE, 0, 1, 2, 1, 3);
	static const uint8_t junk[] = { 0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01 };
	(void)state;
	assert_int_equal(raw(o, junk, sizeof(junk)), SYNC_E_PROTOCOL);
	Agora__Wire__Message *m = last_bye(o, SYNC_BYE_PROTOCOL_ERROR);
	assert_string_equal(m->bye->reason, "field runs past the message");
	assert_string_equal(m->bye->reason, sync_why(&o->f.sync));
	agora__wire__message__free_unpacked(m, NULL);
	solo_free(o);
}

/* -------------------------------------------------------------- Redeem */

static struct fake *joiner_and_coordinator(struct fake **coord)
{
	struct fake *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	assert_non_null(a);
	assert_non_null(b);
	fake_init(a, 1, ALLIANCE);
	fake_init(b, 2, ALLIANCE);
	for (unsigned i = 0; i < 30; i++)
		give(b, i, 2);
	a->hold_nothing = true;   /* the joiner holds no alliance yet */
	a->redeem_first = true;
	memcpy(a->invite, ALLIANCE, 32);
	memset(a->invite + 32, 0x70, 32);
	*coord = b;
	return a;
}

static void pair_free(struct fake *a, struct fake *b)
{
	fake_free(a);
	fake_free(b);
	free(a);
	free(b);
}

/* The joiner sends Redeem then Hello at once; the coordinator reads the
 * Redeem, decides (its node reads nothing meanwhile), admits, and the two
 * sync as any peers do. */
static void test_sync_redeem__redeem_then_admit_opens_the_session(void **state)
{
	struct fake *b, *a = joiner_and_coordinator(&b);
	struct pair p;
	(void)state;
	assert_int_equal(fake_connect(&p, a, b, SYNC_AWAIT_REDEEM), 0);
	assert_int_equal(sync_state(&b->sync), SYNC_STATE_AWAIT_REDEEM);
	assert_int_equal(b->msgs, 0);   /* no Hello before the redemption */
	assert_int_equal(fake_step(&p, b), 0);   /* the Redeem */
	assert_int_equal(b->redeems, 1);
	assert_memory_equal(b->redeemed, a->invite, 64);
	assert_int_equal(sync_state(&b->sync), SYNC_STATE_REDEEM_PENDING);
	assert_int_equal(sync_admit(&b->sync), 0);   /* the node admitted the key */
	assert_int_equal(sync_state(&b->sync), SYNC_STATE_HELLO);
	a->hold_nothing = false;   /* it may now take the alliance */
	assert_int_equal(fake_pump(&p), 0);
	fake_disconnect(&p);
	assert_same(a, b);
	assert_int_equal(a->records_got, 60);
	assert_true(sync_live(&a->sync) && sync_live(&b->sync));
	pair_free(a, b);
}

static void test_sync_redeem__message_before_the_decision_is_a_protocol_error(void **state)
{
	struct fake *b, *a = joiner_and_coordinator(&b);
	struct pair p;
	(void)state;
	assert_int_equal(fake_connect(&p, a, b, SYNC_AWAIT_REDEEM), 0);
	assert_int_equal(fake_step(&p, b), 0);   /* the Redeem */
	assert_int_equal(fake_step(&p, b), SYNC_E_PROTOCOL);   /* the Hello, read too early */
	assert_string_equal(sync_why(&b->sync), "message read before the invite redemption was "
	                    "decided");
	fake_disconnect(&p);
	pair_free(a, b);
}

static void test_sync_redeem__refused_redemption_tells_the_joiner_why(void **state)
{
	struct fake *b, *a = joiner_and_coordinator(&b);
	struct pair p;
	(void)state;
	assert_int_equal(fake_connect(&p, a, b, SYNC_AWAIT_REDEEM), 0);
	assert_int_equal(fake_step(&p, b), 0);
	assert_int_equal(sync_send_bye(&b->sync, SYNC_BYE_INVITE_USED, "invite already used", 0), 0);
	assert_int_equal(fake_step(&p, a), SYNC_E_BYE);
	const struct sync_bye *bye = sync_bye_received(&a->sync);
	assert_non_null(bye);
	assert_int_equal(bye->code, SYNC_BYE_INVITE_USED);
	assert_string_equal(bye->reason, "invite already used");
	fake_disconnect(&p);
	pair_free(a, b);
}

static void test_sync_redeem__unknown_key_must_redeem_first(void **state)
{
	struct solo *o = solo_new(ALLIANCE, SYNC_AWAIT_REDEEM, 0, 0, 1, 3);
	(void)state;
	assert_int_equal(sync_start(&o->f.sync), SYNC_E_STATE);
	assert_int_equal(sync_admit(&o->f.sync), SYNC_E_STATE);
	assert_int_equal(deliver_hello(&o->f.sync, SOLO_PEER, 1, 2, &ALLIANCE, 1), SYNC_E_NOT_ADMITTED);
	agora__wire__message__free_unpacked(last_bye(o, SYNC_BYE_NOT_ADMITTED), NULL);
	assert_int_equal(o->f.redeems, 0);
	solo_free(o);
}

static void test_sync_redeem__first_message_over_256_bytes_is_refused(void **state)
{
	struct solo *o = solo_new(ALLIANCE, SYNC_AWAIT_REDEEM, 0, 0, 1, 3);
	uint8_t b[SYNC_REDEEM_MAX + 1] = { 0x5a };   /* Message.redeem ... */
	(void)state;
	b[1] = 0xfe;   /* a length the walk never reaches */
	b[2] = 0x01;
	assert_int_equal(raw(o, b, sizeof(b)), SYNC_E_LIMIT);
	assert_int_equal(o->f.redeems, 0);
	solo_free(o);
}

/* A joiner that redeemed before and reconnects sends its Redeem again: a
 * node that already accepts its key ignores it, before or after Hello. */
static void test_sync_redeem__redeem_of_an_accepted_key_is_ignored(void **state)
{
	struct solo *o = solo_new(ALLIANCE, 0, 0, 0, 1, 3);
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Redeem r = AGORA__WIRE__REDEEM__INIT;
	uint8_t token[32] = { 7 };
	(void)state;
	r.has_alliance = r.has_token = true;
	r.alliance.data = (uint8_t *)ALLIANCE;
	r.alliance.len = 32;
	r.token.data = token;
	r.token.len = 32;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_REDEEM;
	m.redeem = &r;
	assert_int_equal(deliver(&o->f.sync, &m), 0);
	assert_int_equal(deliver_hello(&o->f.sync, SOLO_PEER, 1, 2, &ALLIANCE, 1), 0);
	assert_int_equal(deliver(&o->f.sync, &m), 0);
	assert_int_equal(o->f.redeems, 0);
	solo_free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_wire__unknown_fields_are_ignored_up_to_64),
		cmocka_unit_test(test_sync_wire__a_singular_field_twice_is_refused),
		cmocka_unit_test(test_sync_wire__two_messages_in_one_are_refused),
		cmocka_unit_test(test_sync_wire__structure_over_the_limits_is_refused),
		cmocka_unit_test(test_sync_wire__ping_without_nonce_is_a_protocol_error),
		cmocka_unit_test(test_sync_wire__vector_without_depth_is_a_protocol_error),
		cmocka_unit_test(test_sync_wire__unknown_message_type_is_ignored_in_version_2_only),
		cmocka_unit_test(test_sync_wire__hello_offers_versions_1_to_4),
		cmocka_unit_test(test_sync_wire__both_sides_speak_the_highest_common_version),
		cmocka_unit_test(test_sync_wire__no_common_version_closes_with_what_to_upgrade),
		cmocka_unit_test(test_sync_wire__empty_version_range_is_a_protocol_error),
		cmocka_unit_test(test_sync_wire__bye_code_reason_and_seq_reach_the_peer),
		cmocka_unit_test(test_sync_wire__refusal_after_handshake_sends_only_a_bye),
		cmocka_unit_test(test_sync_wire__engine_errors_send_a_bye_saying_why),
		cmocka_unit_test(test_sync_redeem__redeem_then_admit_opens_the_session),
		cmocka_unit_test(test_sync_redeem__message_before_the_decision_is_a_protocol_error),
		cmocka_unit_test(test_sync_redeem__refused_redemption_tells_the_joiner_why),
		cmocka_unit_test(test_sync_redeem__unknown_key_must_redeem_first),
		cmocka_unit_test(test_sync_redeem__first_message_over_256_bytes_is_refused),
		cmocka_unit_test(test_sync_redeem__redeem_of_an_accepted_key_is_ignored),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
