/*
 * bundle_int.h - the bundle file format (bundle.c, where the format is
 * written out), cli/ only:
 *   "AGORAB1\n", then per record a 4-byte big-endian length (1..65536) and
 *   the envelope, then the trailer: 4 zero bytes, an 8-byte big-endian
 *   record count and the BLAKE2b-256 of every byte before the trailer.
 *   Version 2 ("AGORAB2\n") adds attachments after the records and their
 *   count to the trailer (bundle.c has the whole layout).
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

#define CLI_BUNDLE_MAGIC "AGORAB1\n"          /* version 1: records only */
#define CLI_BUNDLE_MAGIC_V2 "AGORAB2\n"       /* version 2: records and attachments */
#define CLI_BUNDLE_MAGIC_LEN 8
#define CLI_BUNDLE_BLOB_MARK 0xffffffffu       /* in place of a record length */
#define CLI_BUNDLE_BLOB_HEAD (4 + 32 + 8)      /* mark, BLAKE2b-256, size */
#define CLI_BUNDLE_TRAILER_LEN (4 + 8 + 32)
#define CLI_BUNDLE_TRAILER_V2_LEN (4 + 8 + 8 + 32)

/*
 * Writing: start, one call per record, then (version 2 only) per
 * attachment one head and its bytes in any number of data calls, then end.
 * The FILE is borrowed.  Attachments follow every record, in ascending
 * order of hash, each once (the writer checks order and byte counts).
 */
struct cli_bundle_writer {
	FILE *f;
	crypto_generichash_state h;     /* of every byte before the trailer */
	int version;                    /* 1 or 2 */
	uint64_t count;                 /* records written */
	uint64_t blobs;                 /* attachments begun */
	uint64_t left;                  /* bytes the current attachment still needs */
	uint8_t last[32];               /* hash of the last attachment */
};

/* Write the magic of `version` (1 or 2).  0, -EINVAL or -EIO. */
int cli_bundle_write_start(struct cli_bundle_writer *w, FILE *f, int version);
/* One record: STORE_E_CORRUPT for a length outside 1..65536, -EINVAL after
 * an attachment, -EIO. */
int cli_bundle_write_record(struct cli_bundle_writer *w, const uint8_t *env, size_t len);
/* An attachment's head: -EINVAL in version 1, for a size outside
 * 1..PROTO_ATTACH_SIZE_MAX, a hash not above the previous one, or while the
 * previous attachment lacks bytes; -EIO. */
int cli_bundle_write_blob(struct cli_bundle_writer *w, const uint8_t hash[32], uint64_t size);
/* Bytes of the current attachment: -EINVAL for more than its size, -EIO. */
int cli_bundle_write_data(struct cli_bundle_writer *w, const void *p, size_t n);
/* The trailer (counts and checksum).  0, -EINVAL while an attachment lacks
 * bytes, or -EIO. */
int cli_bundle_write_end(struct cli_bundle_writer *w);

struct cli_bundle_rec {
	const uint8_t *env;         /* borrowed from the parsed buffer */
	size_t len;
	size_t offset;              /* byte offset of its length prefix */
};

struct cli_bundle_blob {
	const uint8_t *hash;        /* 32 bytes, borrowed from the parsed buffer */
	const uint8_t *data;        /* `size` bytes, borrowed */
	uint64_t size;
	size_t offset;              /* byte offset of its mark */
};

/* A parsed bundle: arrays malloc()ed, borrowing the buffer; see
 * cli_bundle_dispose. */
struct cli_bundle {
	int version;                /* 1 or 2 */
	struct cli_bundle_rec *recs;
	size_t n;
	struct cli_bundle_blob *blobs;
	size_t n_blobs;
};

/*
 * Check a whole bundle held in memory: magic, framing, trailer, counts and
 * checksum, nothing after the trailer; in version 2 also that attachments
 * follow the records in ascending order of hash and that each one's bytes
 * hash to its hash.  Signatures, and whether a record lists each
 * attachment, are not checked here.  On success *b is filled.  On failure
 * returns -EBADMSG (or -ENOMEM), leaves *b empty and writes one line
 * describing the problem, with its byte offset, into msg (cap bytes).
 * Never reads outside buf[0..len).
 */
int cli_bundle_parse(struct cli_bundle *b, const uint8_t *buf, size_t len, char *msg, size_t cap);

/* Free what cli_bundle_parse allocated (not the buffer); *b is left empty. */
void cli_bundle_dispose(struct cli_bundle *b);

#endif
