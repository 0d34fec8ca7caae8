/*
 * frame.h - agora transport framing and application messages, I/O-free.
 *
 * Two layers (byte-exact spec: proto/PROTOCOL.md section 3):
 *
 *   frame        every Noise message (handshake or transport) on the TCP
 *                stream is preceded by its length as 2 bytes big-endian;
 *                a frame is therefore at most 2 + 65535 bytes.
 *   app message  an application message is a 4-byte big-endian length and
 *                that many bytes.  These records are concatenated into one
 *                plaintext stream that is cut into transport messages of at
 *                most 65535 - 16 plaintext bytes, each encrypted with the
 *                session's send cipher and framed.  A message may span many
 *                frames.  (The encoder here starts every message in a fresh
 *                frame; the decoder accepts any cut, including several
 *                messages in one frame and empty transport messages.)
 *
 * Memory is bounded by construction: a reader holds at most one frame
 * (FRAME_BUF_BYTES, allocated once at init, whatever the peer announces),
 * and an app message buffer grows only as its bytes actually arrive, up to
 * the configured maximum; a larger announced length is refused before any
 * allocation.
 *
 * Errors: 0 is success, FRAME_E_AGAIN means "give me more bytes" (not an
 * error), other negatives are FRAME_E_* (range -3100..-3199), NOISE_E_*
 * from the cipher (node/engine/noise.h) or -ENOMEM.  After any error other than
 * AGAIN a reader or decoder is failed and returns that error for ever:
 * close the connection.  Out-parameters are written only on success.
 * Threads: one struct, one thread at a time; no global state.
 */
#ifndef AGORA_NODE_FRAME_H
#define AGORA_NODE_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/engine/noise.h"

#define FRAME_HEADER_BYTES 2
#define FRAME_PAYLOAD_MAX NOISE_MSG_MAX                  /* 65535 */
#define FRAME_BUF_BYTES (FRAME_HEADER_BYTES + FRAME_PAYLOAD_MAX)
#define FRAME_CHUNK_MAX NOISE_PLAINTEXT_MAX              /* 65519 */
#define FRAME_APP_HEADER_BYTES 4
#define FRAME_APP_MAX_DEFAULT (16u * 1024 * 1024)        /* 16 MiB */
#define FRAME_APP_MAX_LIMIT UINT32_MAX                   /* wire limit */

enum frame_error_code {
	FRAME_E_AGAIN = -3100,   /* need more input bytes (not fatal) */
	FRAME_E_TOO_BIG = -3101, /* app message longer than the maximum */
	FRAME_E_BUFFER = -3102,  /* caller's output buffer too small */
	FRAME_E_ARG = -3103,     /* invalid argument (programmer error) */
};

/* Describe a FRAME_E_*, NOISE_E_* or -errno code.  Static string. */
const char *frame_strerror(int code);
/* True for every negative code except FRAME_E_AGAIN and FRAME_E_BUFFER. */
bool frame_is_fatal(int code);

/* ------------------------------------------------------- plain frames */

/*
 * Write the 2-byte header and payload (len <= 65535) to out, which needs
 * FRAME_HEADER_BYTES + len bytes; out and payload may not overlap.
 * Errors: FRAME_E_TOO_BIG (len > 65535), FRAME_E_BUFFER.
 */
int frame_wrap(uint8_t *out, size_t *out_len, size_t out_cap,
               const uint8_t *payload, size_t len);

/*
 * Stateless parse of the frame at the start of buf.  On 0, *payload
 * points into buf (borrowed, valid as long as buf), *len is its length
 * and *consumed = 2 + *len.  FRAME_E_AGAIN if buf holds less than a whole
 * frame.
 */
int frame_parse(const uint8_t **payload, size_t *len, size_t *consumed,
                const uint8_t *buf, size_t buf_len);

/*
 * Incremental frame reassembly for a byte stream (used for handshake
 * messages, and inside frame_decoder).  Holds one FRAME_BUF_BYTES buffer.
 */
struct frame_reader {
	uint8_t *buf;    /* FRAME_BUF_BYTES, owned, malloc()ed at init */
	size_t len;      /* bytes of the current frame held (header included) */
	bool ready;      /* a whole frame was returned; reset on next call */
};

/* Errors: -ENOMEM. */
int frame_reader_init(struct frame_reader *r);
/* Free the buffer (wiped: it may hold plaintext).  Accepts NULL. */
void frame_reader_dispose(struct frame_reader *r);

/*
 * Take bytes from in until one whole frame is held.  On 0, *payload
 * points at the frame's payload inside the reader (writable, so it can be
 * decrypted in place; valid until the next call), *len is its length, and
 * *consumed says how many bytes of in were used (the rest belongs to the
 * next frame: call again with them).  FRAME_E_AGAIN: every byte of in was
 * taken (*consumed = in_len) and the frame is still incomplete.
 */
int frame_reader_next(uint8_t **payload, size_t *len, size_t *consumed,
                      struct frame_reader *r, const uint8_t *in, size_t in_len);

/* Bytes currently held (for tests and flow control): <= FRAME_BUF_BYTES. */
size_t frame_reader_buffered(const struct frame_reader *r);

/* ---------------------------------------------------- app messages */

/* Bytes frame_encode() writes for an app message of len bytes. */
size_t frame_encoded_size(size_t len);

/*
 * Encode one app message: 4-byte length + msg, cut into chunks of at most
 * FRAME_CHUNK_MAX bytes, each encrypted with send and framed, into out
 * (frame_encoded_size(len) bytes).  msg may be NULL if len is 0.
 * Errors: FRAME_E_TOO_BIG (len > UINT32_MAX), FRAME_E_BUFFER (checked
 * before any encryption: the cipher is untouched), NOISE_E_NONCE (fatal:
 * out is partly written and the cipher has moved on).
 */
int frame_encode(uint8_t *out, size_t *out_len, size_t out_cap,
                 struct noise_cipher *send, const uint8_t *msg, size_t len);

/*
 * Incremental decoder: ciphertext stream in, whole app messages out.
 */
struct frame_decoder {
	struct frame_reader reader;
	struct noise_cipher *cipher; /* borrowed: the session's recv cipher */
	size_t max_app;              /* largest app message accepted */
	uint8_t *pt;                 /* plaintext not yet used, inside reader */
	size_t pt_len;
	uint8_t hdr[FRAME_APP_HEADER_BYTES]; /* app length being read */
	size_t hdr_len;
	bool in_msg;                 /* hdr complete, reading the body */
	uint8_t *msg;                /* body, malloc()ed, grows as bytes come */
	size_t msg_len, msg_cap, msg_fill;
	int error;                   /* sticky fatal error, or 0 */
};

/*
 * cipher is borrowed and must outlive the decoder (it is the recv cipher
 * from noise_*_split()).  max_app: 0 means FRAME_APP_MAX_DEFAULT.
 * Errors: -ENOMEM, FRAME_E_ARG.
 */
int frame_decoder_init(struct frame_decoder *d, struct noise_cipher *cipher,
                       size_t max_app);
/* Free and wipe the buffers (not the borrowed cipher).  Accepts NULL. */
void frame_decoder_dispose(struct frame_decoder *d);

/*
 * Change the largest app message accepted (0 means FRAME_APP_MAX_DEFAULT),
 * e.g. SYNC_REDEEM_MAX before a peer is admitted and 8 MiB after.  It
 * applies to every message whose 4 length bytes are not complete yet; a
 * message whose length was already accepted is finished under the old
 * maximum.  Errors: FRAME_E_ARG (max_app over FRAME_APP_MAX_LIMIT, or a
 * NULL decoder); the decoder is then unchanged.
 */
int frame_decoder_set_max(struct frame_decoder *d, size_t max_app);

/*
 * Feed stream bytes; take out at most one app message.  On 0, *msg is a
 * malloc()ed buffer the caller now owns and frees (non-NULL even for an
 * empty message), *len its length, and *consumed the bytes of in used:
 * call again with the rest (and, once in is used up, with in_len 0)
 * until FRAME_E_AGAIN, because one transport message may hold several app
 * messages.  FRAME_E_AGAIN: all of in was consumed, no whole message is
 * available.  Errors (fatal): FRAME_E_TOO_BIG (announced length over
 * max_app, refused before allocating), NOISE_E_DECRYPT (tampered, or
 * shorter than a tag), NOISE_E_NONCE, -ENOMEM.
 */
int frame_decoder_next(uint8_t **msg, size_t *len, size_t *consumed,
                       struct frame_decoder *d, const uint8_t *in, size_t in_len);

/* Bytes held by the decoder (frame + partial message), for tests. */
size_t frame_decoder_buffered(const struct frame_decoder *d);

#endif
