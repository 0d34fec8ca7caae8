/*
 * frame_test.c - 2-byte frames and app messages: reassembly across any
 * split, bounded memory, limits enforced before allocation.
 *
 * The runner is linked with -Wl,--wrap=malloc,--wrap=realloc so the tests
 * can count the allocations frame.c makes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "node/engine/frame.h"
#include "node/engine/noise.h"

/* ------------------------------------------------ allocation counting */

void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_realloc(void *p, size_t n);

static size_t alloc_calls;   /* allocations since the last reset */
static size_t alloc_bytes;   /* bytes requested since the last reset */

void *__wrap_malloc(size_t n)
{
	alloc_calls++;
	alloc_bytes += n;
	return __real_malloc(n);
}

void *__wrap_realloc(void *p, size_t n)
{
	alloc_calls++;
	alloc_bytes += n;
	return __real_realloc(p, n);
}

static void alloc_reset(void)
{
	alloc_calls = 0;
	alloc_bytes = 0;
}

/* ---------------------------------------------------------- helpers */

static void key_pair(struct noise_cipher *send, struct noise_cipher *recv)
{
	uint8_t k[32];

	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)(0xa0 + i);
	noise_cipher_init(send, k);
	noise_cipher_init(recv, k);
}

struct stream {
	uint8_t *bytes;
	size_t len;
};

/* Encode messages of the given sizes (contents derived from index). */
static void build_stream(struct stream *s, struct noise_cipher *send,
                         const size_t *sizes, size_t count)
{
	size_t total = 0;

	for (size_t i = 0; i < count; i++)
		total += frame_encoded_size(sizes[i]);
	s->bytes = malloc(total);
	s->len = 0;
	for (size_t i = 0; i < count; i++) {
		uint8_t *msg = malloc(sizes[i] + 1);
		size_t n;

		for (size_t j = 0; j < sizes[i]; j++)
			msg[j] = (uint8_t)(i * 31 + j);
		assert_int_equal(frame_encode(s->bytes + s->len, &n, total - s->len, send,
		                              msg, sizes[i]), 0);
		s->len += n;
		free(msg);
	}
	assert_int_equal(s->len, total);
}

static void check_msg(const uint8_t *msg, size_t len, size_t index, size_t want_len)
{
	assert_int_equal(len, want_len);
	for (size_t j = 0; j < len; j++)
		if (msg[j] != (uint8_t)(index * 31 + j))
			fail_msg("message %zu byte %zu differs", index, j);
}

/*
 * Feed the stream in pieces whose cut points are given, draining every
 * message; check they come out in order and unchanged.
 */
static void decode_with_cuts(const struct stream *s, const struct noise_cipher *recv0,
                             const size_t *sizes, size_t count,
                             const size_t *cuts, size_t ncuts)
{
	struct noise_cipher recv = *recv0;
	struct frame_decoder d;
	size_t got = 0, start = 0;

	assert_int_equal(frame_decoder_init(&d, &recv, 0), 0);
	for (size_t c = 0; c <= ncuts; c++) {
		size_t end = c < ncuts ? cuts[c] : s->len;
		size_t off = start;

		for (;;) {
			uint8_t *msg;
			size_t len, used;
			int rc = frame_decoder_next(&msg, &len, &used, &d, s->bytes + off, end - off);

			off += used;
			if (rc == FRAME_E_AGAIN) {
				assert_int_equal(off, end);
				break;
			}
			assert_int_equal(rc, 0);
			assert_true(got < count);
			check_msg(msg, len, got, sizes[got]);
			free(msg);
			got++;
		}
		start = end;
	}
	assert_int_equal(got, count);
	assert_int_equal(frame_decoder_buffered(&d), 0);
	frame_decoder_dispose(&d);
}

/* ----------------------------------------------------------- tests */

static void test_frame__wrap_and_parse_round_trip(void **state)
{
	uint8_t out[FRAME_BUF_BYTES + 1], payload[300];
	static uint8_t big[FRAME_PAYLOAD_MAX + 1];
	const uint8_t *p;
	size_t n, len, used;

	memset(payload, 0x5a, sizeof payload);
	assert_int_equal(frame_wrap(out, &n, sizeof out, payload, sizeof payload), 0);
	assert_int_equal(n, 302);
	assert_int_equal(out[0], 0x01);
	assert_int_equal(out[1], 0x2c);
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(frame_parse(&p, &len, &used, out, cut), FRAME_E_AGAIN);
	assert_int_equal(frame_parse(&p, &len, &used, out, n + 1), 0);
	assert_int_equal(len, sizeof payload);
	assert_int_equal(used, n);
	assert_ptr_equal(p, out + 2);
	assert_int_equal(frame_wrap(out, &n, sizeof out, big, FRAME_PAYLOAD_MAX), 0);
	assert_int_equal(out[0], 0xff);
	assert_int_equal(out[1], 0xff);
	assert_int_equal(frame_wrap(out, &n, sizeof out, big, FRAME_PAYLOAD_MAX + 1),
	                 FRAME_E_TOO_BIG);
	assert_int_equal(frame_wrap(out, &n, 301, payload, sizeof payload), FRAME_E_BUFFER);
}

static void test_frame_reader__returns_frames_across_any_split(void **state)
{
	uint8_t stream[3 * 40];
	size_t total = 0;
	struct frame_reader r;

	/* Three frames of 0, 5 and 30 bytes. */
	for (size_t f = 0, len = 0; f < 3; f++, len = f == 1 ? 5 : 30) {
		uint8_t pl[30];
		size_t n;
		memset(pl, (int)f + 1, sizeof pl);
		assert_int_equal(frame_wrap(stream + total, &n, sizeof stream - total, pl, len), 0);
		total += n;
	}
	assert_int_equal(frame_reader_init(&r), 0);
	for (size_t cut = 0; cut <= total; cut++) {
		size_t frames = 0, pos = 0;
		size_t ends[2] = { cut, total };

		for (int piece = 0; piece < 2; piece++) {
			for (;;) {
				uint8_t *pl;
				size_t len, used;
				int rc = frame_reader_next(&pl, &len, &used, &r, stream + pos,
				                           ends[piece] - pos);
				pos += used;
				if (rc == FRAME_E_AGAIN)
					break;
				assert_int_equal(rc, 0);
				assert_int_equal(len, frames == 0 ? 0 : frames == 1 ? 5 : 30);
				if (len)
					assert_int_equal(pl[0], frames + 1);
				frames++;
			}
			assert_int_equal(pos, ends[piece]);
		}
		assert_int_equal(frames, 3);
	}
	frame_reader_dispose(&r);
}

/* Small messages, several frames: cut the stream at every byte boundary. */
static void test_frame_decoder__split_at_every_byte_boundary_gives_same_messages(void **state)
{
	static const size_t sizes[] = { 0, 1, 3, 4, 5, 100, 257, 0, 1000 };
	const size_t count = sizeof sizes / sizeof sizes[0];
	struct noise_cipher send, recv;
	struct stream s;

	key_pair(&send, &recv);
	build_stream(&s, &send, sizes, count);
	decode_with_cuts(&s, &recv, sizes, count, NULL, 0);
	for (size_t cut = 0; cut <= s.len; cut++)
		decode_with_cuts(&s, &recv, sizes, count, &cut, 1);
	free(s.bytes);
}

/* Messages spanning frames, fed one byte at a time and at odd cuts. */
static void test_frame_decoder__multi_frame_messages_survive_any_feeding(void **state)
{
	static const size_t sizes[] = {
		FRAME_CHUNK_MAX - 4, FRAME_CHUNK_MAX - 3, 2 * FRAME_CHUNK_MAX, 150001, 2,
	};
	const size_t count = sizeof sizes / sizeof sizes[0];
	struct noise_cipher send, recv;
	struct stream s;
	size_t *cuts;

	key_pair(&send, &recv);
	build_stream(&s, &send, sizes, count);
	/* One byte per call. */
	cuts = malloc(s.len * sizeof *cuts);
	for (size_t i = 0; i < s.len; i++)
		cuts[i] = i + 1;
	decode_with_cuts(&s, &recv, sizes, count, cuts, s.len - 1);
	/* Cuts around every frame boundary. */
	for (size_t step = 65536; step <= 65538; step++) {
		size_t n = 0;
		for (size_t at = step; at < s.len; at += step)
			cuts[n++] = at;
		decode_with_cuts(&s, &recv, sizes, count, cuts, n);
	}
	free(cuts);
	free(s.bytes);
}

/* Another implementation may pack app messages differently: two in one
 * transport message, and a length header cut across transport messages. */
static void test_frame_decoder__accepts_any_cut_of_the_plaintext_stream(void **state)
{
	/* plaintext stream: [len 2]"ab" [len 3]"cde" [len 1]"f" [len 0] */
	static const uint8_t plain[] = {
		0, 0, 0, 2, 'a', 'b', 0, 0, 0, 3, 'c', 'd', 'e', 0, 0, 0, 1, 'f', 0, 0, 0, 0,
	};
	static const size_t chunks[] = { 12, 0, 2, 7, 1 }; /* sums to 22 */
	static const char *want[] = { "ab", "cde", "f", "" };
	struct noise_cipher send, recv;
	struct frame_decoder d;
	uint8_t wire[256];
	size_t off = 0, pos = 0, got = 0, used;

	key_pair(&send, &recv);
	for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		size_t n;
		assert_int_equal(noise_cipher_encrypt(wire + off + 2, &n, sizeof wire - off - 2,
		                                      &send, NULL, 0, plain + pos, chunks[i]), 0);
		wire[off] = (uint8_t)(n >> 8);
		wire[off + 1] = (uint8_t)n;
		off += 2 + n;
		pos += chunks[i];
	}
	assert_int_equal(pos, sizeof plain);
	assert_int_equal(frame_decoder_init(&d, &recv, 0), 0);
	pos = 0;
	for (;;) {
		uint8_t *msg;
		size_t len;
		int rc = frame_decoder_next(&msg, &len, &used, &d, wire + pos, off - pos);
		pos += used;
		if (rc == FRAME_E_AGAIN)
			break;
		assert_int_equal(rc, 0);
		assert_int_equal(len, strlen(want[got]));
		assert_memory_equal(msg, want[got], len);
		free(msg);
		got++;
	}
	assert_int_equal(got, 4);
	assert_int_equal(pos, off);
	frame_decoder_dispose(&d);
}

static void test_frame_decoder__announced_full_frame_then_nothing_stays_bounded(void **state)
{
	struct noise_cipher send, recv;
	struct frame_decoder d;
	static uint8_t junk[FRAME_BUF_BYTES];
	uint8_t *msg;
	size_t len, used, fed = 0;

	key_pair(&send, &recv);
	assert_int_equal(frame_decoder_init(&d, &recv, 0), 0);
	junk[0] = 0xff;
	junk[1] = 0xff;
	alloc_reset();
	/* The header and then the body trickles in: AGAIN each time, no memory. */
	while (fed < FRAME_BUF_BYTES - 1) {
		size_t piece = fed == 0 ? 2 : 997;
		if (piece > FRAME_BUF_BYTES - 1 - fed)
			piece = FRAME_BUF_BYTES - 1 - fed;
		assert_int_equal(frame_decoder_next(&msg, &len, &used, &d, junk + fed, piece),
		                 FRAME_E_AGAIN);
		assert_int_equal(used, piece);
		fed += piece;
		assert_int_equal(frame_decoder_buffered(&d), fed);
	}
	assert_int_equal(alloc_calls, 0);
	assert_true(frame_decoder_buffered(&d) <= FRAME_BUF_BYTES);
	/* The last byte completes the frame; it is garbage, so it fails. */
	assert_int_equal(frame_decoder_next(&msg, &len, &used, &d, junk + fed, 1),
	                 NOISE_E_DECRYPT);
	/* And the decoder stays failed. */
	assert_int_equal(frame_decoder_next(&msg, &len, &used, &d, junk, 2), NOISE_E_DECRYPT);
	assert_true(frame_is_fatal(NOISE_E_DECRYPT));
	assert_false(frame_is_fatal(FRAME_E_AGAIN));
	frame_decoder_dispose(&d);
}

/* A transport message whose plaintext is just an app length header. */
static size_t header_frame(uint8_t *wire, struct noise_cipher *send, uint32_t announced)
{
	uint8_t hdr[4] = {
		(uint8_t)(announced >> 24), (uint8_t)(announced >> 16),
		(uint8_t)(announced >> 8), (uint8_t)announced,
	};
	size_t n;

	assert_int_equal(noise_cipher_encrypt(wire + 2, &n, 64, send, NULL, 0, hdr, 4), 0);
	wire[0] = 0;
	wire[1] = (uint8_t)n;
	return n + 2;
}

static void test_frame_decoder__oversized_app_length_is_refused_before_allocation(void **state)
{
	struct noise_cipher send, recv;
	struct frame_decoder d;
	uint8_t wire[64], *msg;
	size_t n, len, used;

	key_pair(&send, &recv);
	assert_int_equal(frame_decoder_init(&d, &recv, 1000), 0);
	n = header_frame(wire, &send, 1001);
	alloc_reset();
	assert_int_equal(frame_decoder_next(&msg, &len, &used, &d, wire, n), FRAME_E_TOO_BIG);
	assert_int_equal(alloc_calls, 0);
	assert_int_equal(frame_decoder_next(&msg, &len, &used, &d, wire, n), FRAME_E_TOO_BIG);
	frame_decoder_dispose(&d);

	/* The wire maximum, against the default 16 MiB limit. */
	key_pair(&send, &recv);
	assert_int_equal(frame_decoder_init(&d, &recv, 0), 0);
	n = header_frame(wire, &send, UINT32_MAX);
	alloc_reset();
	assert_int_equal(frame_decoder_next(&msg, &len, &used, &d, wire, n), FRAME_E_TOO_BIG);
	assert_int_equal(alloc_calls, 0);
	frame_decoder_dispose(&d);

	/* Exactly the limit is accepted (and waits for its bytes). */
	key_pair(&send, &recv);
	assert_int_equal(frame_decoder_init(&d, &recv, 1000), 0);
	n = header_frame(wire, &send, 1000);
	assert_int_equal(frame_decoder_next(&msg, &len, &used, &d, wire, n), FRAME_E_AGAIN);
	assert_int_equal(used, n);
	frame_decoder_dispose(&d);
}

/*
 * Before a peer is admitted a node takes only a small first message (its
 * invite redemption); once admitted it raises the maximum, and the
 * messages that follow in the same stream are taken whole.
 */
static void test_frame_decoder__raised_maximum_applies_to_the_next_message(void **state)
{
	static const size_t sizes[] = { 70, 5000 };
	struct noise_cipher send, recv, recv2;
	struct frame_decoder d;
	struct stream s;
	uint8_t *msg;
	size_t len, used, off = 0;

	key_pair(&send, &recv);
	recv2 = recv;
	build_stream(&s, &send, sizes, 2);

	/* The small maximum refuses the second message... */
	assert_int_equal(frame_decoder_init(&d, &recv, 256), 0);
	assert_int_equal(frame_decoder_next(&msg, &len, &used, &d, s.bytes, s.len), 0);
	check_msg(msg, len, 0, 70);
	free(msg);
	off = used;
	assert_int_equal(frame_decoder_next(&msg, &len, &used, &d, s.bytes + off, s.len - off),
	                 FRAME_E_TOO_BIG);
	frame_decoder_dispose(&d);

	/* ...which is taken once the maximum is raised after the first. */
	assert_int_equal(frame_decoder_init(&d, &recv2, 256), 0);
	assert_int_equal(frame_decoder_next(&msg, &len, &used, &d, s.bytes, s.len), 0);
	free(msg);
	off = used;
	assert_int_equal(frame_decoder_set_max(&d, 8u << 20), 0);
	assert_int_equal(frame_decoder_next(&msg, &len, &used, &d, s.bytes + off, s.len - off), 0);
	check_msg(msg, len, 1, 5000);
	free(msg);
	assert_int_equal(frame_decoder_set_max(&d, (size_t)FRAME_APP_MAX_LIMIT + 1), FRAME_E_ARG);
	assert_int_equal(d.max_app, 8u << 20);
	frame_decoder_dispose(&d);
	free(s.bytes);
	(void)state;
}

static void test_frame_decoder__announced_huge_message_costs_only_what_arrives(void **state)
{
	struct noise_cipher send, recv;
	struct frame_decoder d;
	uint8_t wire[128], *msg, body[40] = { 0 };
	size_t n, len, used;

	key_pair(&send, &recv);
	assert_int_equal(frame_decoder_init(&d, &recv, 0), 0);
	n = header_frame(wire, &send, FRAME_APP_MAX_DEFAULT);
	assert_int_equal(frame_decoder_next(&msg, &len, &used, &d, wire, n), FRAME_E_AGAIN);
	assert_int_equal(noise_cipher_encrypt(wire + 2, &n, sizeof wire - 2, &send, NULL, 0,
	                                      body, sizeof body), 0);
	wire[0] = 0;
	wire[1] = (uint8_t)n;
	alloc_reset();
	assert_int_equal(frame_decoder_next(&msg, &len, &used, &d, wire, n + 2), FRAME_E_AGAIN);
	assert_true(alloc_bytes <= 65536);
	assert_true(frame_decoder_buffered(&d) <= 65536 + 4);
	frame_decoder_dispose(&d);
}

static void test_frame_decoder__tampered_frame_is_rejected(void **state)
{
	static const size_t sizes[] = { 10, 20 };
	struct noise_cipher send, recv;
	struct stream s;

	key_pair(&send, &recv);
	build_stream(&s, &send, sizes, 2);
	for (size_t i = 0; i < s.len; i++) {
		struct noise_cipher r = recv;
		struct frame_decoder d;
		uint8_t *msg;
		size_t len, used, pos = 0, good = 0;
		int rc;

		s.bytes[i] ^= 0x10;
		assert_int_equal(frame_decoder_init(&d, &r, 0), 0);
		while ((rc = frame_decoder_next(&msg, &len, &used, &d, s.bytes + pos,
		                                s.len - pos)) == 0) {
			pos += used;
			free(msg);
			good++;
		}
		/* A changed length byte may leave the decoder waiting for a frame
		 * that never completes; anything else must fail authentication.
		 * Either way, the message in the damaged frame never comes out. */
		if (rc == FRAME_E_AGAIN)
			assert_true(i == 0 || i == 1 || i == 32 || i == 33);
		else
			assert_int_equal(rc, NOISE_E_DECRYPT);
		assert_true(good == (i < 32 ? 0 : 1));
		frame_decoder_dispose(&d);
		s.bytes[i] ^= 0x10;
	}
	free(s.bytes);
}

static void test_frame_encode__small_buffer_leaves_cipher_untouched(void **state)
{
	struct noise_cipher send, recv;
	uint8_t out[64];
	size_t n;

	key_pair(&send, &recv);
	assert_int_equal(frame_encode(out, &n, frame_encoded_size(40) - 1, &send, out, 40),
	                 FRAME_E_BUFFER);
	assert_int_equal(noise_cipher_nonce(&send), 0);
	assert_int_equal(frame_encoded_size(0), 2 + 4 + 16);
	assert_int_equal(frame_encoded_size(FRAME_CHUNK_MAX - 4), 65537);
	assert_int_equal(frame_encoded_size(FRAME_CHUNK_MAX - 3), 65537 + 2 + 1 + 16);
	noise_cipher_set_nonce_for_test(&send, UINT64_MAX);
	assert_int_equal(frame_encode(out, &n, sizeof out, &send, out, 4), NOISE_E_NONCE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame__wrap_and_parse_round_trip),
		cmocka_unit_test(test_frame_reader__returns_frames_across_any_split),
		cmocka_unit_test(test_frame_decoder__split_at_every_byte_boundary_gives_same_messages),
		cmocka_unit_test(test_frame_decoder__multi_frame_messages_survive_any_feeding),
		cmocka_unit_test(test_frame_decoder__accepts_any_cut_of_the_plaintext_stream),
		cmocka_unit_test(test_frame_decoder__announced_full_frame_then_nothing_stays_bounded),
		cmocka_unit_test(test_frame_decoder__oversized_app_length_is_refused_before_allocation),
		cmocka_unit_test(test_frame_decoder__raised_maximum_applies_to_the_next_message),
		cmocka_unit_test(test_frame_decoder__announced_huge_message_costs_only_what_arrives),
		cmocka_unit_test(test_frame_decoder__tampered_frame_is_rejected),
		cmocka_unit_test(test_frame_encode__small_buffer_leaves_cipher_untouched),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
