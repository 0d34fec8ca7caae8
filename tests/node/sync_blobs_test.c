/*
 * sync_blobs_test.c - attachments on the wire (PROTOCOL.md 4.9, version
 * 4): BlobWant, BlobChunk, BlobNone between one engine driven by hand and
 * a peer played by the test.  Every answer must match our oldest want.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/engine/sync.h"
#include "sync_fake.h"
#include "wire.pb-c.h"

static const uint8_t ALLIANCE[32] = { 0xa1, 0x1a };
static const uint8_t HASH[32] = { 0xb1, 0x0b };
static const uint8_t OTHER[32] = { 0xb2, 0x0b };

/* What the engine handed the node. */
struct got {
	int wants, chunks, nones;
	uint64_t offset;
	size_t len;
};
static struct got got;

static int on_want(void *ctx, const uint8_t hash[32], uint64_t offset, uint32_t length)
{
	(void)ctx; (void)hash; (void)length;
	got.wants++;
	got.offset = offset;
	return 0;
}

static int on_chunk(void *ctx, const uint8_t hash[32], uint64_t offset, const uint8_t *data,
                    size_t len)
{
	(void)ctx; (void)hash;
	if (data)
		got.chunks++;
	else
		got.nones++;
	got.offset = offset;
	got.len = len;
	return 0;
}

/* An engine in a session of version hi (1..4) with the peer. */
static struct solo *session(uint32_t hi)
{
	struct solo *o = solo_new(ALLIANCE, 0, 1, hi, 1, 1);
	memset(&got, 0, sizeof(got));
	o->f.sync.io.blob_want = on_want;
	o->f.sync.io.blob_chunk = on_chunk;
	return o;
}

static int chunk(struct solo *o, const uint8_t hash[32], uint64_t offset, uint64_t size,
                 size_t len)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__BlobChunk c = AGORA__WIRE__BLOB_CHUNK__INIT;
	uint8_t *data = calloc(1, len ? len : 1);
	int rc;
	c.has_hash = c.has_offset = c.has_size = c.has_data = true;
	c.hash.data = (uint8_t *)hash;
	c.hash.len = 32;
	c.offset = offset;
	c.size = size;
	c.data.data = data;
	c.data.len = len;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_BLOB_CHUNK;
	m.blob_chunk = &c;
	rc = deliver(&o->f.sync, &m);
	free(data);
	return rc;
}

static int want(struct solo *o, const uint8_t hash[32], uint64_t offset, uint32_t length)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__BlobWant w = AGORA__WIRE__BLOB_WANT__INIT;
	w.has_hash = w.has_offset = w.has_length = true;
	w.hash.data = (uint8_t *)hash;
	w.hash.len = 32;
	w.offset = offset;
	w.length = length;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_BLOB_WANT;
	m.blob_want = &w;
	return deliver(&o->f.sync, &m);
}

static int none(struct solo *o, const uint8_t hash[32], uint64_t offset)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__BlobNone b = AGORA__WIRE__BLOB_NONE__INIT;
	b.has_hash = b.has_offset = true;
	b.hash.data = (uint8_t *)hash;
	b.hash.len = 32;
	b.offset = offset;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_BLOB_NONE;
	m.blob_none = &b;
	return deliver(&o->f.sync, &m);
}

/* ------------------------------------------------------------ fetching */

static void test_sync_blobs__chunks_answering_our_wants_in_order_are_taken(void **state)
{
	struct solo *o = session(4);
	(void)state;
	assert_int_equal(sync_version(&o->f.sync), 4);
	assert_int_equal(sync_blob_want(&o->f.sync, HASH, 0, 65536, 100000), 0);
	assert_int_equal(sync_blob_want(&o->f.sync, HASH, 65536, 65536, 100000), 0);
	Agora__Wire__Message *m = q_msg(&o->q, 1);
	assert_int_equal(m->msg_case, AGORA__WIRE__MESSAGE__MSG_BLOB_WANT);
	assert_int_equal(m->blob_want->offset, 65536);
	assert_int_equal(m->blob_want->length, 65536);
	agora__wire__message__free_unpacked(m, NULL);
	assert_int_equal(sync_blob_wants_out(&o->f.sync), 2);
	assert_int_equal(chunk(o, HASH, 0, 100000, 65536), 0);
	/* the last chunk holds only what is left of the blob */
	assert_int_equal(chunk(o, HASH, 65536, 100000, 100000 - 65536), 0);
	assert_int_equal(got.chunks, 2);
	assert_int_equal(got.offset, 65536);
	assert_int_equal(got.len, 100000 - 65536);
	assert_int_equal(sync_blob_wants_out(&o->f.sync), 0);
	solo_free(o);
}

static void test_sync_blobs__blob_none_answers_the_oldest_want(void **state)
{
	struct solo *o = session(4);
	(void)state;
	assert_int_equal(sync_blob_want(&o->f.sync, HASH, 0, 1000, 1000), 0);
	assert_int_equal(none(o, HASH, 0), 0);
	assert_int_equal(got.nones, 1);
	assert_int_equal(none(o, HASH, 0), SYNC_E_PROTOCOL);   /* nothing left to answer */
	solo_free(o);
}

static void test_sync_blobs__unsolicited_chunk_is_a_protocol_error(void **state)
{
	struct solo *o = session(4);
	(void)state;
	assert_int_equal(chunk(o, HASH, 0, 1000, 1000), SYNC_E_PROTOCOL);
	assert_int_equal(got.chunks, 0);
	assert_int_equal(sync_bye_sent(&o->f.sync), SYNC_BYE_PROTOCOL_ERROR);
	solo_free(o);
}

static void test_sync_blobs__chunk_of_another_blob_or_offset_is_a_protocol_error(void **state)
{
	struct solo *o = session(4);
	(void)state;
	assert_int_equal(sync_blob_want(&o->f.sync, HASH, 0, 1000, 5000), 0);
	assert_int_equal(chunk(o, OTHER, 0, 5000, 1000), SYNC_E_PROTOCOL);
	solo_free(o);
	o = session(4);
	assert_int_equal(sync_blob_want(&o->f.sync, HASH, 0, 1000, 5000), 0);
	assert_int_equal(chunk(o, HASH, 1000, 5000, 1000), SYNC_E_PROTOCOL);
	assert_string_equal(sync_why(&o->f.sync), "BlobChunk that does not answer our oldest "
	                    "BlobWant (hash and offset)");
	assert_int_equal(got.chunks, 0);
	solo_free(o);
}

static void test_sync_blobs__chunk_longer_than_asked_or_past_the_size_is_refused(void **state)
{
	struct solo *o = session(4);
	(void)state;
	assert_int_equal(sync_blob_want(&o->f.sync, HASH, 0, 1000, 5000), 0);
	assert_int_equal(chunk(o, HASH, 0, 5000, 1001), SYNC_E_PROTOCOL);
	solo_free(o);
	/* a blob larger than the record declares */
	o = session(4);
	assert_int_equal(sync_blob_want(&o->f.sync, HASH, 0, 1000, 5000), 0);
	assert_int_equal(chunk(o, HASH, 0, 6000, 1000), SYNC_E_PROTOCOL);
	assert_string_equal(sync_why(&o->f.sync), "BlobChunk declares another size than the record");
	solo_free(o);
	/* the last want: more bytes than the blob has left */
	o = session(4);
	assert_int_equal(sync_blob_want(&o->f.sync, HASH, 4500, 1000, 5000), 0);
	assert_int_equal(chunk(o, HASH, 4500, 5000, 1000), SYNC_E_PROTOCOL);
	assert_int_equal(got.chunks, 0);
	solo_free(o);
}

static void test_sync_blobs__chunk_over_64_kib_is_refused_before_unpacking(void **state)
{
	struct solo *o = session(4);
	(void)state;
	assert_int_equal(sync_blob_want(&o->f.sync, HASH, 0, 65536, 200000), 0);
	assert_int_equal(chunk(o, HASH, 0, 200000, 65537), SYNC_E_LIMIT);
	assert_int_equal(sync_bye_sent(&o->f.sync), SYNC_BYE_LIMIT_EXCEEDED);
	solo_free(o);
}

static void test_sync_blobs__wants_are_bounded_and_only_in_version_4(void **state)
{
	struct solo *o = session(4);
	(void)state;
	for (int i = 0; i < SYNC_BLOB_WANTS_MAX; i++)
		assert_int_equal(sync_blob_want(&o->f.sync, HASH, (uint64_t)i, 1, 100), 0);
	assert_int_equal(sync_blob_want(&o->f.sync, HASH, 16, 1, 100), SYNC_E_STATE);
	assert_int_equal(sync_blob_want(&o->f.sync, HASH, 0, 0, 100), SYNC_E_STATE);
	solo_free(o);
	o = session(4);
	assert_int_equal(sync_blob_want(&o->f.sync, HASH, 0, 65537, 100000), SYNC_E_STATE);
	assert_int_equal(sync_blob_want(&o->f.sync, HASH, 100, 1, 100), SYNC_E_STATE);
	solo_free(o);
	o = session(3);
	assert_int_equal(sync_blob_want(&o->f.sync, HASH, 0, 1, 100), SYNC_E_STATE);
	assert_int_equal(queued(o), 0);
	solo_free(o);
}

/* ------------------------------------------------------------- serving */

static void test_sync_blobs__peer_wants_are_answered_in_order_and_bounded(void **state)
{
	struct solo *o = session(4);
	uint8_t data[10] = { 0 };
	(void)state;
	assert_int_equal(want(o, HASH, 0, 10), 0);
	assert_int_equal(want(o, OTHER, 0, 10), 0);
	assert_int_equal(got.wants, 2);
	assert_int_equal(sync_blob_wants_in(&o->f.sync), 2);
	/* the node answers the oldest first; anything else is its bug */
	assert_int_equal(sync_blob_answer(&o->f.sync, OTHER, 0, 0, NULL, 0), SYNC_E_STATE);
	assert_int_equal(sync_blob_answer(&o->f.sync, HASH, 0, 10, data, 9), SYNC_E_STATE);
	assert_int_equal(sync_blob_answer(&o->f.sync, HASH, 0, 10, data, 10), 0);
	assert_int_equal(sync_blob_answer(&o->f.sync, OTHER, 0, 0, NULL, 0), 0);
	Agora__Wire__Message *m = q_msg(&o->q, 0);
	assert_int_equal(m->msg_case, AGORA__WIRE__MESSAGE__MSG_BLOB_CHUNK);
	assert_int_equal(m->blob_chunk->size, 10);
	assert_int_equal(m->blob_chunk->data.len, 10);
	agora__wire__message__free_unpacked(m, NULL);
	m = q_msg(&o->q, 1);
	assert_int_equal(m->msg_case, AGORA__WIRE__MESSAGE__MSG_BLOB_NONE);
	agora__wire__message__free_unpacked(m, NULL);
	for (int i = 0; i < SYNC_BLOB_WANTS_MAX; i++)
		assert_int_equal(want(o, HASH, 0, 10), 0);
	assert_int_equal(want(o, HASH, 0, 10), SYNC_E_LIMIT);
	assert_string_equal(sync_why(&o->f.sync), "more than 16 BlobWants unanswered");
	solo_free(o);
}

static void test_sync_blobs__want_without_server_is_answered_none(void **state)
{
	struct solo *o = session(4);
	(void)state;
	o->f.sync.io.blob_want = NULL;
	assert_int_equal(want(o, HASH, 7, 10), 0);
	Agora__Wire__Message *m = q_msg(&o->q, 0);
	assert_int_equal(m->msg_case, AGORA__WIRE__MESSAGE__MSG_BLOB_NONE);
	assert_int_equal(m->blob_none->offset, 7);
	agora__wire__message__free_unpacked(m, NULL);
	solo_free(o);
}

static void test_sync_blobs__bad_wants_are_protocol_errors(void **state)
{
	struct solo *o = session(4);
	(void)state;
	assert_int_equal(want(o, HASH, 0, 0), SYNC_E_PROTOCOL);
	solo_free(o);
	o = session(4);
	assert_int_equal(want(o, HASH, 0, 65537), SYNC_E_PROTOCOL);
	solo_free(o);
}

/* Versions 2 and 3 skip version 4's messages as unknown types; version 1
 * closes on them, as its nodes do on any unknown type. */
static void test_sync_blobs__older_sessions_ignore_or_refuse_blob_messages(void **state)
{
	struct solo *o = session(3);
	(void)state;
	assert_int_equal(want(o, HASH, 0, 10), 0);
	assert_int_equal(chunk(o, HASH, 0, 10, 10), 0);
	assert_int_equal(queued(o), 0);
	assert_int_equal(got.wants + got.chunks, 0);
	solo_free(o);
	o = session(1);
	assert_int_equal(sync_version(&o->f.sync), 1);
	assert_int_equal(want(o, HASH, 0, 10), SYNC_E_PROTOCOL);
	solo_free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_blobs__chunks_answering_our_wants_in_order_are_taken),
		cmocka_unit_test(test_sync_blobs__blob_none_answers_the_oldest_want),
		cmocka_unit_test(test_sync_blobs__unsolicited_chunk_is_a_protocol_error),
		cmocka_unit_test(test_sync_blobs__chunk_of_another_blob_or_offset_is_a_protocol_error),
		cmocka_unit_test(test_sync_blobs__chunk_longer_than_asked_or_past_the_size_is_refused),
		cmocka_unit_test(test_sync_blobs__chunk_over_64_kib_is_refused_before_unpacking),
		cmocka_unit_test(test_sync_blobs__wants_are_bounded_and_only_in_version_4),
		cmocka_unit_test(test_sync_blobs__peer_wants_are_answered_in_order_and_bounded),
		cmocka_unit_test(test_sync_blobs__want_without_server_is_answered_none),
		cmocka_unit_test(test_sync_blobs__bad_wants_are_protocol_errors),
		cmocka_unit_test(test_sync_blobs__older_sessions_ignore_or_refuse_blob_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
