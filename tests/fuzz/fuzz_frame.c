/*
 * fuzz_frame.c - random bytes into the frame and app-message decoders.
 *
 * Byte 0 picks the set-up: bit 0 = keyed cipher (realistic: almost every
 * input stops at authentication) or no key (frames pass through as
 * plaintext, so the fuzzer reaches the app-message layer); bits 1-2 pick
 * the maximum app message size; bits 3-7 (+1) the feeding chunk size.
 * The rest is the byte stream.  Properties (abort on violation): the
 * decoder never claims bytes it was not given, never yields a message over
 * its limit or more message bytes than it was fed, buffers a bounded
 * amount, keeps an error once it has one; and the plain frame reader and
 * the stateless parser agree on every stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/engine/frame.h"
#include "node/engine/noise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t max_apps[] = { 0, 1, 100, 70000 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct noise_cipher recv;
	struct frame_decoder d;
	struct frame_reader r;
	uint8_t k[32];
	size_t chunk, pos = 0, total = 0;

	if (size < 1)
		return 0;
	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)(0xa0 + i);
	noise_cipher_init(&recv, (data[0] & 1) ? k : NULL);
	chunk = (size_t)(data[0] >> 3) + 1;
	data++;
	size--;

	if (frame_decoder_init(&d, &recv, max_apps[(data[-1] >> 1) & 3]) != 0)
		abort();
	while (pos < size) {
		size_t n = size - pos < chunk ? size - pos : chunk;
		size_t off = 0;

		for (;;) {
			uint8_t *msg;
			size_t len, used;
			int rc = frame_decoder_next(&msg, &len, &used, &d, data + pos + off, n - off);

			if (rc == 0) {
				if (used > n - off || len > d.max_app)
					abort();
				off += used;
				total += len;
				free(msg);
				continue;
			}
			if (rc == FRAME_E_AGAIN) {
				if (used != n - off)
					abort();
				break;
			}
			if (frame_decoder_next(&msg, &len, &used, &d, data, 1) != rc)
				abort(); /* errors are sticky */
			goto done;
		}
		pos += n;
		if (frame_decoder_buffered(&d) > FRAME_BUF_BYTES + 4 + 2 * d.max_app + 65536)
			abort();
	}
done:
	frame_decoder_dispose(&d);
	/* Frames only ever take bytes away (lengths, tags). */
	if (total > size)
		abort();

	/* The plain frame reader and the stateless parser must agree. */
	if (frame_reader_init(&r) != 0)
		abort();
	pos = 0;
	while (pos < size) {
		const uint8_t *p1;
		uint8_t *p2;
		size_t l1, l2, u1, u2;
		int rc1 = frame_parse(&p1, &l1, &u1, data + pos, size - pos);
		int rc2 = frame_reader_next(&p2, &l2, &u2, &r, data + pos, size - pos);

		if (rc1 != rc2)
			abort();
		if (rc1 != 0)
			break;
		if (l1 != l2 || u1 != u2 || memcmp(p1, p2, l1) != 0)
			abort();
		pos += u1;
	}
	frame_reader_dispose(&r);
	noise_cipher_dispose(&recv);
	return 0;
}
