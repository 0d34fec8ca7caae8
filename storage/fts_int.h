/*
 * fts_int.h - private to storage/: the full-text index in posting blocks.
 *
 * The fts DBI (plain, not DUPSORT) maps
 *     folded word | 0x00 | first rowkey of the block (8, BE)
 * to a block of that word's postings in rowkey order:
 *     varint df | posting...
 *     posting 0:  tf(1) | varint dl
 *     posting k:  varint (rowkey - previous rowkey) | tf(1) | varint dl
 * tf is the word's count in the record (capped at 255) and dl the record's
 * document length in words (BM25's |D|), so ranking never reads records.
 * Only the word's LAST block carries the true df (number of postings of
 * the word); other blocks hold 0 there.  Blocks stay under FTS_BLOCK_MAX
 * bytes so that LMDB never needs overflow pages for them.
 *
 * A word's newest postings may sit in its tail instead: the ftst DBI maps
 *     folded word -> first rowkey (8, BE) | block (same coding)
 * whose postings all come after the word's last fts block and whose df
 * field is then the word's true df (the last fts block's df is stale while
 * a tail exists).  Tails hold at most FTS_TAIL_MAX bytes.
 *
 * Writers collect a transaction's postings in a struct fts_batch and apply
 * them word by word at the end of the transaction.  New rowkeys after a
 * word's last block go into its tail; only when the tail is full (or
 * postings arrive out of order) are they merged into the blocks.  So a
 * transaction that touches 45,000 words rewrites their small tails, packed
 * a dozen to a page, instead of one 4 KiB block page per word.
 */
#ifndef AGORA_FTS_INT_H
#define AGORA_FTS_INT_H

#include "storage/store_int.h"

#define FTS_BLOCK_MAX 1536  /* bytes of one block value, header included */
#define FTS_KEY_MAX (FTS_WORD_MAX + 9)
#define FTS_TAIL_MAX 512    /* bytes of a tail's block, header included */
#define FTS_TAIL_POSTS (FTS_TAIL_MAX / 2 + 1)
#define FTS_SLOT_HEAD 23    /* word bytes held in a hash slot (slot = 32 bytes) */

struct fts_post {
	uint64_t rk;
	uint32_t dl;
	uint8_t tf;
};

/* Postings collected during one write transaction.  Zero-initialise;
 * fts_batch_dispose() when done. */
struct fts_batch {
	char *arena;                /* interned words, NUL-terminated */
	size_t arena_len, arena_cap;
	/* Hash table of the words, open addressing.  A slot holds the word
	 * itself when it is short, as most are: a lookup then reads one cache
	 * line, not the slot, the word's entry and the arena. */
	struct fts_slot {
		uint32_t hash;
		uint32_t wi;        /* word index + 1; 0: empty */
		uint8_t len;
		char head[FTS_SLOT_HEAD];   /* the word's first bytes, zero-padded */
	} *slots;
	size_t nslots;
	struct fts_word {
		uint32_t off;       /* into arena */
		uint32_t len;
		uint32_t n;         /* postings of this word in the batch */
		uint32_t start;     /* scratch for apply */
		uint32_t last;      /* its latest posting: ents index + 1, 0 none */
		uint64_t last_rk;   /* that posting's rowkey (ents is too big to look) */
	} *words;
	size_t nwords, words_cap;
	struct fts_ent {
		uint32_t word;
		uint32_t dl;
		uint64_t rk;
		uint8_t tf;
	} *ents;
	size_t nents, ents_cap;
};

/* Queue posting (word, rk, tf, dl).  The word must be at most
 * FTS_WORD_MAX bytes and contain no NUL. */
int fts_batch_add(struct fts_batch *b, const char *word, size_t len, uint64_t rk, unsigned tf,
                  uint32_t dl);
/* The batch's number for word (same rules as fts_batch_add), valid until
 * the next reset or apply. */
int fts_batch_intern(struct fts_batch *b, const char *word, size_t len, uint32_t *wi);
/* One more occurrence of interned word wi in record rk: a new posting
 * (tf 1, document length dl) unless wi's latest posting is rk's, whose tf
 * then grows (capped at 255).  A record's words must be posted together. */
int fts_batch_post(struct fts_batch *b, uint32_t wi, uint64_t rk, uint32_t dl);
/* Forget everything queued (keeps the buffers). */
void fts_batch_reset(struct fts_batch *b);
/* Write every queued posting into the fts DBI of txn, then reset.  An
 * existing (word, rowkey) posting is left alone. */
int fts_batch_apply(MDB_txn *txn, struct store *s, struct fts_batch *b);
void fts_batch_dispose(struct fts_batch *b);

/* Decode a block value: *df gets its df field, posts (cap entries) the
 * postings, with first = the rowkey in its key.  STORE_E_CORRUPT on bad
 * bytes or more than cap postings. */
int fts_block_decode(const uint8_t *p, size_t len, uint64_t first, uint64_t *df,
                     struct fts_post *posts, size_t cap, size_t *n);
/* Most postings one block can hold (every posting takes >= 2 bytes). */
#define FTS_BLOCK_POSTS (FTS_BLOCK_MAX / 2 + 1)

/*
 * Reader of one word's posting list in a snapshot.  fts_cur_open() finds
 * the word's last block and its df (0: no postings).  Then either iterate
 * (fts_cur_start, fts_cur_step) or test membership (fts_cur_find).
 */
struct fts_cur {
	MDB_cursor *c;
	uint8_t key[FTS_KEY_MAX];
	size_t wl;                  /* word length; key[wl] == 0 */
	uint64_t df;
	struct fts_post *p;         /* decoded block, FTS_BLOCK_POSTS entries */
	size_t n;                   /* postings in p */
	struct fts_post *t;         /* the word's tail, FTS_TAIL_POSTS entries */
	size_t tn;                  /* postings in t (0: no tail) */
	bool in_tail;               /* iterating the tail */
	uint64_t first;             /* key rowkey of the decoded block */
	bool loaded;
	size_t pos;                 /* iteration position in p */
	bool rev;
};

int fts_cur_open(struct fts_cur *fc, MDB_txn *txn, struct store *s, const char *word,
                 size_t len);
void fts_cur_close(struct fts_cur *fc);
/* Position before the first (rev: after the last) posting. */
int fts_cur_start(struct fts_cur *fc, bool rev);
/* Next posting in the chosen direction; MDB_NOTFOUND at the end. */
int fts_cur_step(struct fts_cur *fc, const struct fts_post **out);
/* Is rk in the list?  *out (NULL if absent) points into the cursor. */
int fts_cur_find(struct fts_cur *fc, uint64_t rk, const struct fts_post **out);

#endif
