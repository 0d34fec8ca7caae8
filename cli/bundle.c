/*
 * bundle.c - the bundle file format, in one place for `agora bundle create`
 * (the writer), `verify` and `import` (the parser).  A bundle carries signed
 * records without a network: a USB stick to the summit, an e-mail
 * attachment, a backup.
 *
 * Bundle format, version 1 (all integers big-endian):
 *
 *   magic    8 bytes   "AGORAB1\n"  (41 47 4f 52 41 42 31 0a)
 *   records  repeated: length  4 bytes, 1..65536 (PROTO_ENVELOPE_MAX)
 *                      envelope `length` bytes, the canonical signed
 *                               envelope exactly as stored and sent
 *   trailer  end mark  4 bytes 00 00 00 00
 *            count     8 bytes, the number of records above
 *            checksum  32 bytes, BLAKE2b-256 (unkeyed) of every byte
 *                      before the trailer (magic and records)
 *   nothing may follow the trailer.
 *
 * Order: the charter of every alliance in the bundle first, then every
 * other record, each feed (alliance, author) in seq order.  The feeds are
 * interleaved by creation time (a record never comes before an earlier seq
 * of its own feed), so an admission normally precedes the first record of
 * the member it admits, and an importer can ingest the file front to back
 * in one pass.  The checksum guards against damage, not forgery: every
 * record carries its author's signature, which import and verify check.
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

int cli_bundle_write_start(struct cli_bundle_writer *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	crypto_generichash_init(&w->h, NULL, 0, 32);
	return write_bytes(w, (const uint8_t *)CLI_BUNDLE_MAGIC, CLI_BUNDLE_MAGIC_LEN);
}

int cli_bundle_write_record(struct cli_bundle_writer *w, const uint8_t *env, size_t len)
{
	uint8_t lb[4];

	if (len == 0 || len > PROTO_ENVELOPE_MAX)
		return STORE_E_CORRUPT;
	put_be(lb, len, 4);
	if (write_bytes(w, lb, 4) < 0 || write_bytes(w, env, len) < 0)
		return -EIO;
	w->count++;
	return 0;
}

int cli_bundle_write_end(struct cli_bundle_writer *w)
{
	uint8_t trailer[CLI_BUNDLE_TRAILER_LEN];

	memset(trailer, 0, 4);
	put_be(trailer + 4, w->count, 8);
	crypto_generichash_final(&w->h, trailer + 12, 32);
	return fwrite(trailer, 1, sizeof(trailer), w->f) == sizeof(trailer) ? 0 : -EIO;
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int cli_bundle_parse(struct cli_bundle_rec **recs, size_t *n, const uint8_t *buf, size_t len,
                     char *msg, size_t cap)
{
	struct cli_bundle_rec *v = NULL;
	size_t count = 0, vcap = 0, off;
	uint8_t hash[32];
	uint64_t declared;
	int rc = -EBADMSG;

	if (len < CLI_BUNDLE_MAGIC_LEN ||
	    memcmp(buf, CLI_BUNDLE_MAGIC, CLI_BUNDLE_MAGIC_LEN) != 0) {
		snprintf(msg, cap, "not an agora bundle (it does not start with \"AGORAB1\")");
		goto out;
	}
	off = CLI_BUNDLE_MAGIC_LEN;
	for (;;) {
		uint32_t rl;
		if (len - off < 4) {
			snprintf(msg, cap, "truncated at byte %zu: the file ends inside a record "
			         "header (no trailer)", len);
			goto out;
		}
		rl = (uint32_t)get_be(buf + off, 4);
		if (rl == 0)
			break;
		if (rl > PROTO_ENVELOPE_MAX) {
			snprintf(msg, cap, "corrupt at byte %zu: record %zu claims %u bytes "
			         "(at most %d)", off, count + 1, (unsigned)rl, PROTO_ENVELOPE_MAX);
			goto out;
		}
		if (len - off - 4 < rl) {
			snprintf(msg, cap, "truncated at byte %zu: record %zu needs %u bytes, "
			         "%zu are left", len, count + 1, (unsigned)rl, len - off - 4);
			goto out;
		}
		if (count == vcap) {
			size_t nc = vcap ? vcap * 2 : 64;
			struct cli_bundle_rec *nv = realloc(v, nc * sizeof(*nv));
			if (!nv) {
				snprintf(msg, cap, "out of memory");
				rc = -ENOMEM;
				goto out;
			}
			v = nv;
			vcap = nc;
		}
		v[count].env = buf + off + 4;
		v[count].len = rl;
		v[count].offset = off;
		count++;
		off += 4 + (size_t)rl;
	}
	if (len - off < CLI_BUNDLE_TRAILER_LEN) {
		snprintf(msg, cap, "truncated at byte %zu: the trailer is incomplete", len);
		goto out;
	}
	if (len - off > CLI_BUNDLE_TRAILER_LEN) {
		snprintf(msg, cap, "corrupt: %zu unexpected bytes after the trailer at byte %zu",
		         len - off - CLI_BUNDLE_TRAILER_LEN, off + CLI_BUNDLE_TRAILER_LEN);
		goto out;
	}
	declared = get_be(buf + off + 4, 8);
	if (declared != count) {
		snprintf(msg, cap, "corrupt: the trailer says %llu records, the file holds %zu",
		         (unsigned long long)declared, count);
		goto out;
	}
	crypto_generichash(hash, sizeof(hash), buf, off, NULL, 0);
	if (sodium_memcmp(hash, buf + off + 12, sizeof(hash)) != 0) {
		snprintf(msg, cap, "corrupt: checksum mismatch (the file was altered or damaged)");
		goto out;
	}
	*recs = v;
	*n = count;
	v = NULL;
	rc = 0;
out:
	free(v);
	return rc;
}

