/*
 * frame.c - 2-byte frames and 4-byte-length app messages over Noise.
 */
#include "node/engine/frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* First allocation for an app message body; it doubles from there as
 * bytes arrive, so a peer that announces 16 MiB and sends 10 bytes costs
 * us one chunk, not 16 MiB. */
#define MSG_FIRST_CAP 65536

const char *frame_strerror(int code)
{
	switch (code) {
	case 0: return "success";
	case FRAME_E_AGAIN: return "frame: need more bytes";
	case FRAME_E_TOO_BIG: return "frame: application message exceeds the size limit";
	case FRAME_E_BUFFER: return "frame: output buffer too small";
	case FRAME_E_ARG: return "frame: invalid argument";
	}
	return noise_strerror(code);
}

bool frame_is_fatal(int code)
{
	return code < 0 && code != FRAME_E_AGAIN && code != FRAME_E_BUFFER &&
	       code != FRAME_E_ARG && code != NOISE_E_BUFFER && code != NOISE_E_ARG;
}

/* ------------------------------------------------------- plain frames */

int frame_wrap(uint8_t *out, size_t *out_len, size_t out_cap,
               const uint8_t *payload, size_t len)
{
	if (!out_len || (!out && out_cap) || (!payload && len))
		return FRAME_E_ARG;
	if (len > FRAME_PAYLOAD_MAX)
		return FRAME_E_TOO_BIG;
	if (out_cap < FRAME_HEADER_BYTES + len)
		return FRAME_E_BUFFER;
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	if (len)
		memcpy(out + FRAME_HEADER_BYTES, payload, len);
	*out_len = FRAME_HEADER_BYTES + len;
	return 0;
}

int frame_parse(const uint8_t **payload, size_t *len, size_t *consumed,
                const uint8_t *buf, size_t buf_len)
{
	size_t n;

	if (!payload || !len || !consumed || (!buf && buf_len))
		return FRAME_E_ARG;
	if (buf_len < FRAME_HEADER_BYTES)
		return FRAME_E_AGAIN;
	n = (size_t)buf[0] << 8 | buf[1];
	if (buf_len - FRAME_HEADER_BYTES < n)
		return FRAME_E_AGAIN;
	*payload = buf + FRAME_HEADER_BYTES;
	*len = n;
	*consumed = FRAME_HEADER_BYTES + n;
	return 0;
}

int frame_reader_init(struct frame_reader *r)
{
	if (!r)
		return FRAME_E_ARG;
	memset(r, 0, sizeof *r);
	r->buf = malloc(FRAME_BUF_BYTES);
	if (!r->buf)
		return -ENOMEM;
	return 0;
}

void frame_reader_dispose(struct frame_reader *r)
{
	if (!r)
		return;
	if (r->buf) {
		sodium_memzero(r->buf, FRAME_BUF_BYTES);
		free(r->buf);
	}
	memset(r, 0, sizeof *r);
}

int frame_reader_next(uint8_t **payload, size_t *len, size_t *consumed,
                      struct frame_reader *r, const uint8_t *in, size_t in_len)
{
	size_t used = 0, want, take;

	if (!payload || !len || !consumed || !r || !r->buf || (!in && in_len))
		return FRAME_E_ARG;
	if (r->ready) {
		r->ready = false;
		r->len = 0;
	}
	for (;;) {
		if (r->len < FRAME_HEADER_BYTES)
			want = FRAME_HEADER_BYTES - r->len;
		else
			want = FRAME_HEADER_BYTES + ((size_t)r->buf[0] << 8 | r->buf[1]) - r->len;
		if (want == 0)
			break;
		if (used == in_len) {
			*consumed = used;
			return FRAME_E_AGAIN;
		}
		take = in_len - used < want ? in_len - used : want;
		memcpy(r->buf + r->len, in + used, take);
		r->len += take;
		used += take;
	}
	r->ready = true;
	*payload = r->buf + FRAME_HEADER_BYTES;
	*len = r->len - FRAME_HEADER_BYTES;
	*consumed = used;
	return 0;
}

size_t frame_reader_buffered(const struct frame_reader *r)
{
	return r->ready ? 0 : r->len;
}

/* ---------------------------------------------------- app messages */

size_t frame_encoded_size(size_t len)
{
	size_t stream = FRAME_APP_HEADER_BYTES + len;
	size_t frames = (stream + FRAME_CHUNK_MAX - 1) / FRAME_CHUNK_MAX;

	return stream + frames * (FRAME_HEADER_BYTES + NOISE_TAG_BYTES);
}

int frame_encode(uint8_t *out, size_t *out_len, size_t out_cap,
                 struct noise_cipher *send, const uint8_t *msg, size_t len)
{
	uint8_t chunk[FRAME_CHUNK_MAX];
	size_t stream, pos = 0, off = 0, n, total;
	int rc = 0;

	if (!out_len || !send || (!out && out_cap) || (!msg && len))
		return FRAME_E_ARG;
	if ((uint64_t)len > FRAME_APP_MAX_LIMIT)
		return FRAME_E_TOO_BIG;
	total = frame_encoded_size(len);
	if (out_cap < total)
		return FRAME_E_BUFFER;
	stream = FRAME_APP_HEADER_BYTES + len;
	/*
	 * The plaintext stream is header || msg.  Each chunk is assembled in a
	 * bounded stack buffer so the header needs no special case; the copy
	 * costs far less than the encryption that follows.
	 */
	while (pos < stream) {
		size_t c = stream - pos < FRAME_CHUNK_MAX ? stream - pos : FRAME_CHUNK_MAX;
		size_t i = 0;

		while (pos + i < FRAME_APP_HEADER_BYTES && i < c) {
			chunk[i] = (uint8_t)((uint64_t)len >> (8 * (3 - (pos + i))));
			i++;
		}
		if (i < c)
			memcpy(chunk + i, msg + (pos + i - FRAME_APP_HEADER_BYTES), c - i);
		rc = noise_cipher_encrypt(out + off + FRAME_HEADER_BYTES, &n,
		                          out_cap - off - FRAME_HEADER_BYTES, send,
		                          NULL, 0, chunk, c);
		if (rc < 0)
			goto out;
		out[off] = (uint8_t)(n >> 8);
		out[off + 1] = (uint8_t)n;
		off += FRAME_HEADER_BYTES + n;
		pos += c;
	}
	*out_len = off;
out:
	sodium_memzero(chunk, sizeof chunk);
	return rc;
}

int frame_decoder_init(struct frame_decoder *d, struct noise_cipher *cipher,
                       size_t max_app)
{
	int rc;

	if (!d)
		return FRAME_E_ARG;
	memset(d, 0, sizeof *d);
	if (!cipher || (uint64_t)max_app > FRAME_APP_MAX_LIMIT)
		return FRAME_E_ARG;
	rc = frame_reader_init(&d->reader);
	if (rc < 0)
		return rc;
	d->cipher = cipher;
	d->max_app = max_app ? max_app : FRAME_APP_MAX_DEFAULT;
	return 0;
}

int frame_decoder_set_max(struct frame_decoder *d, size_t max_app)
{
	if (!d || (uint64_t)max_app > FRAME_APP_MAX_LIMIT)
		return FRAME_E_ARG;
	d->max_app = max_app ? max_app : FRAME_APP_MAX_DEFAULT;
	return 0;
}

static void drop_msg(struct frame_decoder *d)
{
	if (d->msg) {
		sodium_memzero(d->msg, d->msg_cap);
		free(d->msg);
	}
	d->msg = NULL;
	d->msg_len = d->msg_cap = d->msg_fill = 0;
	d->hdr_len = 0;
	d->in_msg = false;
}

void frame_decoder_dispose(struct frame_decoder *d)
{
	if (!d)
		return;
	drop_msg(d);
	frame_reader_dispose(&d->reader);
	memset(d, 0, sizeof *d);
}

size_t frame_decoder_buffered(const struct frame_decoder *d)
{
	return frame_reader_buffered(&d->reader) + d->pt_len + d->hdr_len + d->msg_cap;
}

/* Take app-layer bytes from the plaintext window.  Returns 0 when a whole
 * message is ready, FRAME_E_AGAIN when the window is used up. */
static int take_plaintext(struct frame_decoder *d)
{
	size_t take;

	for (;;) {
		if (!d->in_msg) {
			uint32_t n;

			if (d->pt_len == 0)
				return FRAME_E_AGAIN;
			take = FRAME_APP_HEADER_BYTES - d->hdr_len;
			if (take > d->pt_len)
				take = d->pt_len;
			memcpy(d->hdr + d->hdr_len, d->pt, take);
			d->hdr_len += take;
			d->pt += take;
			d->pt_len -= take;
			if (d->hdr_len < FRAME_APP_HEADER_BYTES)
				return FRAME_E_AGAIN;
			n = (uint32_t)d->hdr[0] << 24 | (uint32_t)d->hdr[1] << 16 |
			    (uint32_t)d->hdr[2] << 8 | d->hdr[3];
			/* Refused here, before a single byte is allocated for it. */
			if (n > d->max_app)
				return FRAME_E_TOO_BIG;
			d->msg_len = n;
			d->msg_fill = 0;
			d->in_msg = true;
		}
		if (d->msg_fill == d->msg_len)
			return 0;
		if (d->pt_len == 0)
			return FRAME_E_AGAIN;
		take = d->msg_len - d->msg_fill;
		if (take > d->pt_len)
			take = d->pt_len;
		if (d->msg_fill + take > d->msg_cap) {
			size_t cap = d->msg_cap ? d->msg_cap : MSG_FIRST_CAP;
			uint8_t *p;

			while (cap < d->msg_fill + take)
				cap *= 2;
			if (cap > d->msg_len)
				cap = d->msg_len;
			p = realloc(d->msg, cap);
			if (!p)
				return -ENOMEM;
			d->msg = p;
			d->msg_cap = cap;
		}
		memcpy(d->msg + d->msg_fill, d->pt, take);
		d->msg_fill += take;
		d->pt += take;
		d->pt_len -= take;
	}
}

int frame_decoder_next(uint8_t **msg, size_t *len, size_t *consumed,
                       struct frame_decoder *d, const uint8_t *in, size_t in_len)
{
	size_t used = 0, n, got;
	uint8_t *payload;
	int rc;

	if (!msg || !len || !consumed || !d || !d->cipher || (!in && in_len))
		return FRAME_E_ARG;
	if (d->error)
		return d->error;
	for (;;) {
		rc = take_plaintext(d);
		if (rc == 0)
			break;
		if (rc != FRAME_E_AGAIN)
			goto fail;
		/* in may be NULL (with in_len 0) when draining buffered messages. */
		rc = frame_reader_next(&payload, &n, &got, &d->reader, in ? in + used : NULL,
		                       in_len - used);
		used += got;
		if (rc == FRAME_E_AGAIN) {
			*consumed = used;
			return FRAME_E_AGAIN;
		}
		if (rc < 0)
			goto fail;
		/* Decrypt in place: the frame buffer becomes the plaintext window. */
		rc = noise_cipher_decrypt(payload, &d->pt_len, n, d->cipher, NULL, 0,
		                          payload, n);
		if (rc < 0)
			goto fail;
		d->pt = payload;
	}
	if (!d->msg) {
		/* An empty message still comes back as an owned buffer. */
		d->msg = malloc(1);
		if (!d->msg) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	*msg = d->msg;
	*len = d->msg_len;
	*consumed = used;
	d->msg = NULL;
	drop_msg(d);
	return 0;
fail:
	d->error = rc;
	drop_msg(d);
	d->pt_len = 0;
	return rc;
}
