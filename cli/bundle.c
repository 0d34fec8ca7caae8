/*
 * bundle.c - the bundle file format, in one place for `agora bundle create`
 * (the writer), `verify` and `import` (the parser).  A bundle carries signed
 * records without a network: a USB stick to the summit, an e-mail
 * attachment, a backup.  PROTOCOL.md section 5 is the reference.
 *
 * Bundle format (all integers big-endian):
 *
 *   magic    8 bytes   "AGORAB1\n" (41 47 4f 52 41 42 31 0a), version 1,
 *                      or "AGORAB2\n" (... 32 0a), version 2
 *   records  repeated: length  4 bytes, 1..65536 (PROTO_ENVELOPE_MAX)
 *                      envelope `length` bytes, the canonical signed
 *                               envelope exactly as stored and sent
 *   attachments (version 2 only), after every record, repeated:
 *                      mark    4 bytes ff ff ff ff
 *                      hash    32 bytes, BLAKE2b-256 of the file
 *                      size    8 bytes, 1..2^30 (PROTO_ATTACH_SIZE_MAX)
 *                      the file's `size` bytes
 *            in strictly ascending order of hash (so each at most once)
 *   trailer  end mark  4 bytes 00 00 00 00
 *            count     8 bytes, the number of records above
 *            (version 2) 8 bytes, the number of attachments above
 *            checksum  32 bytes, BLAKE2b-256 (unkeyed) of every byte
 *                      before the trailer (magic, records, attachments)
 *   nothing may follow the trailer.
 *
 * Order: the charter of every alliance in the bundle first, then every
 * other record, each feed (alliance, author) in seq order.  The feeds are
 * interleaved by creation time (a record never comes before an earlier seq
 * of its own feed), so an admission normally precedes the first record of
 * the member it admits, and an importer can ingest the file front to back
 * in one pass.  The checksum guards against damage, not forgery: every
 * record carries its author's signature, which import and verify check, and
 * an attachment is only taken when its bytes hash to its hash and a record
 * of the bundle lists that hash with that size (cmd_bundle.c).
 *
 * A bundle made with filters holds each matching record together with the
 * earlier records of its feed and the governance records (admissions,
 * revocations, key rotations) of its alliance, so it imports on its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli/bundle_int.h"

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = n; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
}

static int write_bytes(struct cli_bundle_writer *w, const uint8_t *p, size_t n)
{
	crypto_generichash_update(&w->h, p, n);
	return fwrite(p, 1, n, w->f) == n ? 0 : -EIO;
}

int cli_bundle_write_start(struct cli_bundle_writer *w, FILE *f, int version)
{
	if (version != 1 && version != 2)
		return -EINVAL;
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->version = version;
	crypto_generichash_init(&w->h, NULL, 0, 32);
	return write_bytes(w, (const uint8_t *)(version == 1 ? CLI_BUNDLE_MAGIC
	                                                      : CLI_BUNDLE_MAGIC_V2),
	                   CLI_BUNDLE_MAGIC_LEN);
}

int cli_bundle_write_record(struct cli_bundle_writer *w, const uint8_t *env, size_t len)
{
	uint8_t lb[4];

	if (len == 0 || len > PROTO_ENVELOPE_MAX)
		return STORE_E_CORRUPT;
	if (w->blobs)
		return -EINVAL;
	put_be(lb, len, 4);
	if (write_bytes(w, lb, 4) < 0 || write_bytes(w, env, len) < 0)
		return -EIO;
	w->count++;
	return 0;
}

int cli_bundle_write_blob(struct cli_bundle_writer *w, const uint8_t hash[32], uint64_t size)
{
	uint8_t head[CLI_BUNDLE_BLOB_HEAD];

	if (w->version != 2 || size == 0 || size > PROTO_ATTACH_SIZE_MAX || w->left ||
	    (w->blobs && memcmp(hash, w->last, 32) <= 0))
		return -EINVAL;
	put_be(head, CLI_BUNDLE_BLOB_MARK, 4);
	memcpy(head + 4, hash, 32);
	put_be(head + 36, size, 8);
	if (write_bytes(w, head, sizeof(head)) < 0)
		return -EIO;
	memcpy(w->last, hash, 32);
	w->left = size;
	w->blobs++;
	return 0;
}

int cli_bundle_write_data(struct cli_bundle_writer *w, const void *p, size_t n)
{
	if (n > w->left)
		return -EINVAL;
	w->left -= n;
	return write_bytes(w, p, n);
}

int cli_bundle_write_end(struct cli_bundle_writer *w)
{
	uint8_t trailer[CLI_BUNDLE_TRAILER_V2_LEN];
	size_t tl = w->version == 2 ? CLI_BUNDLE_TRAILER_V2_LEN : CLI_BUNDLE_TRAILER_LEN;

	if (w->left)
		return -EINVAL;
	memset(trailer, 0, 4);
	put_be(trailer + 4, w->count, 8);
	if (w->version == 2)
		put_be(trailer + 12, w->blobs, 8);
	crypto_generichash_final(&w->h, trailer + tl - 32, 32);
	return fwrite(trailer, 1, tl, w->f) == tl ? 0 : -EIO;
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

void cli_bundle_dispose(struct cli_bundle *b)
{
	free(b->recs);
	free(b->blobs);
	memset(b, 0, sizeof(*b));
}

/* Append to a growing array of `size`-byte elements; NULL when out of memory. */
static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return v;
	size_t nc = *cap ? *cap * 2 : 64;
	void *nv = realloc(v, nc * size);
	if (nv)
		*cap = nc;
	return nv;
}

/* The attachment at buf[off..) (its mark read): framing, order and hash. */
static int parse_blob(struct cli_bundle *b, size_t *cap, const uint8_t *buf, size_t len,
                      size_t off, char *msg, size_t cap_msg)
{
	uint8_t hash[32];
	uint64_t size;
	void *nv;

	if (len - off < CLI_BUNDLE_BLOB_HEAD) {
		snprintf(msg, cap_msg, "truncated at byte %zu: the file ends inside the head of "
		         "attachment %zu", len, b->n_blobs + 1);
		return -EBADMSG;
	}
	size = get_be(buf + off + 36, 8);
	if (size == 0 || size > PROTO_ATTACH_SIZE_MAX) {
		snprintf(msg, cap_msg, "corrupt at byte %zu: attachment %zu claims %llu bytes "
		         "(1 to %llu)", off, b->n_blobs + 1, (unsigned long long)size,
		         (unsigned long long)PROTO_ATTACH_SIZE_MAX);
		return -EBADMSG;
	}
	if (len - off - CLI_BUNDLE_BLOB_HEAD < size) {
		snprintf(msg, cap_msg, "truncated at byte %zu: attachment %zu needs %llu bytes, "
		         "%zu are left", len, b->n_blobs + 1, (unsigned long long)size,
		         len - off - CLI_BUNDLE_BLOB_HEAD);
		return -EBADMSG;
	}
	if (b->n_blobs && memcmp(buf + off + 4, b->blobs[b->n_blobs - 1].hash, 32) <= 0) {
		snprintf(msg, cap_msg, "corrupt at byte %zu: attachment %zu is out of order "
		         "(attachments are in ascending order of hash, each once)", off,
		         b->n_blobs + 1);
		return -EBADMSG;
	}
	crypto_generichash(hash, sizeof(hash), buf + off + CLI_BUNDLE_BLOB_HEAD, (size_t)size,
	                   NULL, 0);
	if (sodium_memcmp(hash, buf + off + 4, sizeof(hash)) != 0) {
		snprintf(msg, cap_msg, "corrupt at byte %zu: the bytes of attachment %zu do not "
		         "match its hash", off, b->n_blobs + 1);
		return -EBADMSG;
	}
	if (!(nv = grow(b->blobs, cap, b->n_blobs, sizeof(*b->blobs)))) {
		snprintf(msg, cap_msg, "out of memory");
		return -ENOMEM;
	}
	b->blobs = nv;
	b->blobs[b->n_blobs++] = (struct cli_bundle_blob){
		.hash = buf + off + 4, .data = buf + off + CLI_BUNDLE_BLOB_HEAD, .size = size,
		.offset = off,
	};
	return 0;
}

int cli_bundle_parse(struct cli_bundle *out, const uint8_t *buf, size_t len, char *msg,
                     size_t cap)
{
	struct cli_bundle b = { 0 };
	size_t vcap = 0, bcap = 0, off, tl;
	uint8_t hash[32];
	uint64_t declared;
	int rc = -EBADMSG;

	memset(out, 0, sizeof(*out));
	if (len >= CLI_BUNDLE_MAGIC_LEN && !memcmp(buf, CLI_BUNDLE_MAGIC, CLI_BUNDLE_MAGIC_LEN))
		b.version = 1;
	else if (len >= CLI_BUNDLE_MAGIC_LEN &&
	         !memcmp(buf, CLI_BUNDLE_MAGIC_V2, CLI_BUNDLE_MAGIC_LEN))
		b.version = 2;
	else if (len >= CLI_BUNDLE_MAGIC_LEN && !memcmp(buf, "AGORAB", 6) &&
	         buf[6] >= '3' && buf[6] <= '9' && buf[7] == '\n') {
		snprintf(msg, cap, "a bundle of format %c, made by a newer agora: update agora "
		         "to read it", buf[6]);
		goto out;
	} else {
		snprintf(msg, cap, "not an agora bundle (it does not start with \"AGORAB1\" "
		         "or \"AGORAB2\")");
		goto out;
	}
	off = CLI_BUNDLE_MAGIC_LEN;
	for (;;) {
		uint32_t rl;
		void *nv;
		if (len - off < 4) {
			snprintf(msg, cap, "truncated at byte %zu: the file ends inside a record "
			         "header (no trailer)", len);
			goto out;
		}
		rl = (uint32_t)get_be(buf + off, 4);
		if (rl == 0)
			break;
		if (rl == CLI_BUNDLE_BLOB_MARK && b.version == 2) {
			if ((rc = parse_blob(&b, &bcap, buf, len, off, msg, cap)) < 0)
				goto out;
			rc = -EBADMSG;
			off += CLI_BUNDLE_BLOB_HEAD + (size_t)b.blobs[b.n_blobs - 1].size;
			continue;
		}
		if (rl > PROTO_ENVELOPE_MAX) {
			snprintf(msg, cap, "corrupt at byte %zu: record %zu claims %u bytes "
			         "(at most %d)", off, b.n + 1, (unsigned)rl, PROTO_ENVELOPE_MAX);
			goto out;
		}
		if (b.n_blobs) {
			snprintf(msg, cap, "corrupt at byte %zu: a record after an attachment "
			         "(attachments follow every record)", off);
			goto out;
		}
		if (len - off - 4 < rl) {
			snprintf(msg, cap, "truncated at byte %zu: record %zu needs %u bytes, "
			         "%zu are left", len, b.n + 1, (unsigned)rl, len - off - 4);
			goto out;
		}
		if (!(nv = grow(b.recs, &vcap, b.n, sizeof(*b.recs)))) {
			snprintf(msg, cap, "out of memory");
			rc = -ENOMEM;
			goto out;
		}
		b.recs = nv;
		b.recs[b.n++] = (struct cli_bundle_rec){ .env = buf + off + 4, .len = rl,
		                                         .offset = off };
		off += 4 + (size_t)rl;
	}
	tl = b.version == 2 ? CLI_BUNDLE_TRAILER_V2_LEN : CLI_BUNDLE_TRAILER_LEN;
	if (len - off < tl) {
		snprintf(msg, cap, "truncated at byte %zu: the trailer is incomplete", len);
		goto out;
	}
	if (len - off > tl) {
		snprintf(msg, cap, "corrupt: %zu unexpected bytes after the trailer at byte %zu",
		         len - off - tl, off + tl);
		goto out;
	}
	declared = get_be(buf + off + 4, 8);
	if (declared != b.n) {
		snprintf(msg, cap, "corrupt: the trailer says %llu records, the file holds %zu",
		         (unsigned long long)declared, b.n);
		goto out;
	}
	if (b.version == 2 && (declared = get_be(buf + off + 12, 8)) != b.n_blobs) {
		snprintf(msg, cap, "corrupt: the trailer says %llu attachments, the file holds %zu",
		         (unsigned long long)declared, b.n_blobs);
		goto out;
	}
	crypto_generichash(hash, sizeof(hash), buf, off, NULL, 0);
	if (sodium_memcmp(hash, buf + off + tl - 32, sizeof(hash)) != 0) {
		snprintf(msg, cap, "corrupt: checksum mismatch (the file was altered or damaged)");
		goto out;
	}
	*out = b;
	memset(&b, 0, sizeof(b));
	rc = 0;
out:
	cli_bundle_dispose(&b);
	return rc;
}
