/*
 * blobs_int.h - what blobs.c (the catalogue, fetching) and blobs_serve.c
 * (serving) share; private to node/.  Loop thread only.
 */
#ifndef AGORA_NODE_BLOBS_INT_H
#define AGORA_NODE_BLOBS_INT_H

#include "node/node_int.h"

#define BLOBS_WINDOW 8                 /* wants + writes in flight per fetch */
#define BLOBS_RETRY_MS 2000            /* no session could give it: ask again then */
#define BLOBS_RETRY_MAX_MS 60000       /* at most: a peer may still be fetching it */
#define BLOBS_SENDQ_LOW (256u << 10)   /* answers go out below this much queued */
#define BLOBS_BAD_MAX 8                /* peers remembered per blob for bad bytes */
#define BLOBS_TRIED_MAX 64             /* sessions asked in one round */

enum blob_have {
	BLOB_UNKNOWN = 0,   /* not checked yet */
	BLOB_HELD,
	BLOB_MISSING,
};

struct blob_entry {
	uint8_t hash[32];
	uint64_t size;
	uint8_t (*al)[32];             /* alliances whose records list it */
	size_t n_al;
	enum blob_have have;
	uint64_t retry_ms;             /* not fetched before (mono) */
	unsigned retry_step;
	uint8_t bad[BLOBS_BAD_MAX][32];/* peers that sent bytes not hashing right */
	size_t n_bad;
	int noted;                     /* enum blob_limit last logged for it */
};

struct blob_fetch {
	struct blobs *bs;
	uint8_t hash[32];
	uint64_t size;
	struct store_blob_in *in;      /* touched by jobs only (blob lane: one at a time) */
	uint64_t session_id;           /* fetching from (0: none) */
	uint64_t next_want;            /* offset of the next want */
	uint64_t received;             /* bytes received, in order */
	unsigned wants, writes;        /* in flight */
	unsigned jobs;                 /* jobs queued that point at this fetch */
	bool failed;                   /* a job failed: abandon */
	bool done;                     /* finished (stored, abandoned): free once jobs == 0 */
	uint8_t tried[BLOBS_TRIED_MAX][32]; /* peers asked this round that said none */
	size_t n_tried;
	uint8_t used[BLOBS_BAD_MAX][32];    /* peers whose bytes are in the file */
	size_t n_used;
};

struct blobs {
	struct node *node;
	struct blob_entry *e;          /* sorted by hash */
	size_t n, cap;
	uint64_t scanned;              /* store write number the catalogue reflects */
	bool scan_busy, scanned_once;
	struct blob_fetch *cur;
	uint64_t fetched, fetched_bytes, refused_bad;
};

/* The catalogue's entry for hash, or NULL; valid until the catalogue
 * changes (a scan is merged). */
struct blob_entry *blobs_entry_find(struct blobs *bs, const uint8_t hash[32]);

#endif
