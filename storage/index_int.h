/* index_int.h - private to storage/: index keys of one record. */
#ifndef AGORA_INDEX_INT_H
#define AGORA_INDEX_INT_H

#include "storage/fts_int.h"

#define STORE_YEARS_MAX 60  /* a measure's start..end is indexed up to this span */

/* Reusable buffers; zero-initialise, index_keys_dispose() when done. */
struct index_keys {
	uint8_t *keys;      /* len(2) | ix key, repeated */
	size_t keys_len, keys_cap;
	uint32_t *wids;     /* the words, as numbers interned in fb */
	size_t wids_cap;
	size_t nwords;      /* = document length for BM25 */
	struct fts_batch *fb;   /* where words are interned (index_collect) */
};

/*
 * ix postings collected during one write transaction, written by
 * ix_batch_apply() at its end: keys sorted, each key's new rowkeys
 * appended in one MDB_MULTIPLE put.  Zero-initialise; ix_batch_dispose().
 */
struct ix_batch {
	uint8_t *arena;             /* interned keys */
	size_t arena_len, arena_cap;
	uint32_t *slots;            /* hash table: key index + 1, 0 = empty */
	size_t nslots;
	struct ix_bkey {
		uint32_t off, len;  /* into arena */
		uint32_t n;         /* postings of this key */
		uint32_t start;     /* scratch for apply */
	} *keys;
	size_t nkeys, keys_cap;
	struct ix_ent {
		uint32_t key;
		uint64_t rk;
	} *ents;
	size_t nents, ents_cap;
};

/* Queue ix posting (key, rk); len 1..511. */
int ix_batch_add(struct ix_batch *b, const uint8_t *key, size_t len, uint64_t rk);
/* Write every queued posting into the ix DBI of txn, then reset.  Existing
 * postings are left alone. */
int ix_batch_apply(MDB_txn *txn, struct store *s, struct ix_batch *b);
void ix_batch_reset(struct ix_batch *b);
void ix_batch_dispose(struct ix_batch *b);

/* Collect the ix keys and words of rec (content of a Supersede); the
 * words are interned in fb. */
int index_collect(struct index_keys *ik, const Agora__Record *rec,
                  const uint8_t alliance[PROTO_ID_BYTES], struct fts_batch *fb);
/* Queue the collected ix postings of rowkey in xb and its full-text
 * postings in fb (both written at the end of the txn).  fb must be the
 * batch index_collect interned the words in, not reset since. */
int index_put(struct index_keys *ik, uint64_t rowkey, struct fts_batch *fb,
              struct ix_batch *xb);
void index_keys_dispose(struct index_keys *ik);

#endif
