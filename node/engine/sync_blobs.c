/*
 * sync_blobs.c - attachments on the wire (version 4, PROTOCOL.md 4.9
 * "Blobs"): BlobWant, BlobChunk, BlobNone.
 *
 * Both sides keep their unanswered wants in a FIFO of SYNC_BLOB_WANTS_MAX:
 * a want is answered exactly once and in order, so an answer must match
 * the oldest want, and anything else (an answer to nothing, another
 * offset, a longer or shorter chunk, another size than the record
 * declared) is the peer's protocol violation.  What a peer can make us
 * hold is its 16 wants; what we hold for it is bounded the same way.
 */
#include <stdio.h>
#include <string.h>

#include "node/engine/sync_int.h"

static struct sync_blob_want *fifo_head(struct sync_blob_fifo *f)
{
	return f->n ? &f->w[f->head] : NULL;
}

static struct sync_blob_want *fifo_push(struct sync_blob_fifo *f)
{
	struct sync_blob_want *w = &f->w[(f->head + f->n) % SYNC_BLOB_WANTS_MAX];
	f->n++;
	return w;
}

static void fifo_pop(struct sync_blob_fifo *f)
{
	f->head = (f->head + 1) % SYNC_BLOB_WANTS_MAX;
	f->n--;
}

/* The bytes a want gets: all it asked for, or the rest of the blob. */
static uint64_t want_len(const struct sync_blob_want *w, uint64_t size)
{
	uint64_t rest = size - w->offset;
	return rest < w->length ? rest : w->length;
}

size_t sync_blob_wants_out(const struct sync *s)
{
	return s->blob_out.n;
}

size_t sync_blob_wants_in(const struct sync *s)
{
	return s->blob_in.n;
}

int sync_blob_want(struct sync *s, const uint8_t hash[SYNC_KEY_BYTES], uint64_t offset,
                   uint32_t length, uint64_t size)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__BlobWant b = AGORA__WIRE__BLOB_WANT__INIT;
	struct sync_blob_want *w;
	int rc;

	if (s->state != SYNC_STATE_OPEN || s->version < 4 || s->blob_out.n >= SYNC_BLOB_WANTS_MAX ||
	    length == 0 || length > SYNC_BLOB_CHUNK_MAX || offset >= size)
		return SYNC_E_STATE;
	b.has_hash = b.has_offset = b.has_length = true;
	b.hash.data = (uint8_t *)hash;
	b.hash.len = SYNC_KEY_BYTES;
	b.offset = offset;
	b.length = length;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_BLOB_WANT;
	m.blob_want = &b;
	if ((rc = sync_send_msg(s, &m)))
		return rc;
	w = fifo_push(&s->blob_out);
	memcpy(w->hash, hash, SYNC_KEY_BYTES);
	w->offset = offset;
	w->length = length;
	w->size = size;
	return 0;
}

int sync_blob_answer(struct sync *s, const uint8_t hash[SYNC_KEY_BYTES], uint64_t offset,
                     uint64_t size, const uint8_t *data, size_t len)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__BlobChunk c = AGORA__WIRE__BLOB_CHUNK__INIT;
	Agora__Wire__BlobNone none = AGORA__WIRE__BLOB_NONE__INIT;
	struct sync_blob_want *w = fifo_head(&s->blob_in);
	int rc;

	if (!w || memcmp(w->hash, hash, SYNC_KEY_BYTES) || w->offset != offset)
		return SYNC_E_STATE;
	if (data) {
		if (offset >= size || len != want_len(w, size))
			return SYNC_E_STATE;
		c.has_hash = c.has_offset = c.has_size = c.has_data = true;
		c.hash.data = (uint8_t *)hash;
		c.hash.len = SYNC_KEY_BYTES;
		c.offset = offset;
		c.size = size;
		c.data.data = (uint8_t *)data;
		c.data.len = len;
		m.msg_case = AGORA__WIRE__MESSAGE__MSG_BLOB_CHUNK;
		m.blob_chunk = &c;
	} else {
		none.has_hash = none.has_offset = true;
		none.hash.data = (uint8_t *)hash;
		none.hash.len = SYNC_KEY_BYTES;
		none.offset = offset;
		m.msg_case = AGORA__WIRE__MESSAGE__MSG_BLOB_NONE;
		m.blob_none = &none;
	}
	if ((rc = sync_send_msg(s, &m)))
		return rc;
	fifo_pop(&s->blob_in);
	if (data)
		s->c.blob_bytes_out += len;
	return 0;
}

static int perr(struct sync *s, int code, const char *why)
{
	snprintf(s->why, sizeof(s->why), "%s", why);
	return code;
}

int sync_on_blob_want(struct sync *s, const Agora__Wire__BlobWant *b)
{
	struct sync_blob_want *w;

	if (!b->has_hash || b->hash.len != SYNC_KEY_BYTES || !b->has_offset || !b->has_length ||
	    b->length == 0 || b->length > SYNC_BLOB_CHUNK_MAX)
		return perr(s, SYNC_E_PROTOCOL, "BlobWant without a 32-byte hash, an offset and a "
		            "length of 1 to 65536");
	if (s->blob_in.n >= SYNC_BLOB_WANTS_MAX)
		return perr(s, SYNC_E_LIMIT, "more than 16 BlobWants unanswered");
	w = fifo_push(&s->blob_in);
	memcpy(w->hash, b->hash.data, SYNC_KEY_BYTES);
	w->offset = b->offset;
	w->length = b->length;
	w->size = 0;
	if (!s->io.blob_want)
		return sync_blob_answer(s, w->hash, w->offset, 0, NULL, 0);
	return s->io.blob_want(s->io.ctx, b->hash.data, b->offset, b->length);
}

/* The oldest want of ours, if (hash, offset) answers it. */
static struct sync_blob_want *answered(struct sync *s, const ProtobufCBinaryData *hash,
                                       bool has_hash, bool has_offset, uint64_t offset)
{
	struct sync_blob_want *w = fifo_head(&s->blob_out);
	if (!w || !has_hash || hash->len != SYNC_KEY_BYTES || !has_offset ||
	    memcmp(w->hash, hash->data, SYNC_KEY_BYTES) || w->offset != offset)
		return NULL;
	return w;
}

int sync_on_blob_chunk(struct sync *s, const Agora__Wire__BlobChunk *c)
{
	struct sync_blob_want *w = answered(s, &c->hash, c->has_hash, c->has_offset, c->offset);
	struct sync_blob_want got;

	if (!w)
		return perr(s, SYNC_E_PROTOCOL, "BlobChunk that does not answer our oldest BlobWant "
		            "(hash and offset)");
	if (!c->has_size || c->size != w->size)
		return perr(s, SYNC_E_PROTOCOL, "BlobChunk declares another size than the record");
	if (!c->has_data || c->data.len != want_len(w, w->size))
		return perr(s, SYNC_E_PROTOCOL, "BlobChunk holds more or fewer bytes than asked for");
	got = *w;
	fifo_pop(&s->blob_out);
	s->c.blob_bytes_in += c->data.len;
	if (!s->io.blob_chunk)
		return 0;
	return s->io.blob_chunk(s->io.ctx, got.hash, got.offset, c->data.data, c->data.len);
}

int sync_on_blob_none(struct sync *s, const Agora__Wire__BlobNone *b)
{
	struct sync_blob_want *w = answered(s, &b->hash, b->has_hash, b->has_offset, b->offset);
	struct sync_blob_want got;

	if (!w)
		return perr(s, SYNC_E_PROTOCOL, "BlobNone that does not answer our oldest BlobWant "
		            "(hash and offset)");
	got = *w;
	fifo_pop(&s->blob_out);
	if (!s->io.blob_chunk)
		return 0;
	return s->io.blob_chunk(s->io.ctx, got.hash, got.offset, NULL, 0);
}
