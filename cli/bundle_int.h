/*
 * bundle_int.h - the bundle file format (bundle.c, where the format is
 * written out), cli/ only:
 *   "AGORAB1\n", then per record a 4-byte big-endian length (1..65536) and
 *   the envelope, then the trailer: 4 zero bytes, an 8-byte big-endian
 *   record count and the BLAKE2b-256 of every byte before the trailer.
 * No I/O beyond the FILE the writer is given; nothing is printed.
 */
#ifndef AGORA_CLI_BUNDLE_INT_H
#define AGORA_CLI_BUNDLE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sodium.h>

#include "proto/proto.h"
#include "storage/storage.h"

#define CLI_BUNDLE_MAGIC "AGORAB1\n"
#define CLI_BUNDLE_MAGIC_LEN 8
#define CLI_BUNDLE_TRAILER_LEN (4 + 8 + 32)

/* Writing: start, one call per record, end.  The FILE is borrowed. */
struct cli_bundle_writer {
	FILE *f;
	crypto_generichash_state h;     /* of every byte before the trailer */
	uint64_t count;                 /* records written */
};

/* Write the magic.  0 or -EIO. */
int cli_bundle_write_start(struct cli_bundle_writer *w, FILE *f);
/* One record: STORE_E_CORRUPT for a length outside 1..65536, -EIO. */
int cli_bundle_write_record(struct cli_bundle_writer *w, const uint8_t *env, size_t len);
/* The trailer (count and checksum).  0 or -EIO. */
int cli_bundle_write_end(struct cli_bundle_writer *w);

struct cli_bundle_rec {
	const uint8_t *env;         /* borrowed from the parsed buffer */
	size_t len;
	size_t offset;              /* byte offset of its length prefix */
};

/*
 * Check a whole bundle held in memory: magic, framing, trailer, record count
 * and checksum, nothing after the trailer.  Signatures are not checked
 * here.  On success *recs (malloc()ed, borrowing buf; the caller frees the
 * array) and *n are set.  On failure returns -EBADMSG (or -ENOMEM) and
 * writes one line describing the problem, with its byte offset, into msg
 * (cap bytes).  Never reads outside buf[0..len).
 */
int cli_bundle_parse(struct cli_bundle_rec **recs, size_t *n, const uint8_t *buf, size_t len,
                     char *msg, size_t cap);

#endif
