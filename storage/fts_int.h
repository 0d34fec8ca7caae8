/*
 * fts_int.h - private to storage/: the full-text index in posting blocks.
 *
 * The fts DBI (plain, not DUPSORT) maps
 *     term | 0x00 | first rowkey of the block (8, BE)
 * to a block of that term's postings in rowkey order:
 *     varint df | posting...
 *     posting 0:  tf(1) | varint dl | next(1)
 *     posting k:  varint (rowkey - previous rowkey) | tf(1) | varint dl | next(1)
 * (layouts up to 5: no next).  tf holds the term's count in the record:
 * in layout 6 its low 7 bits
 * (capped at 127), and bit 7 (FTS_TF_MARKED) is set when some of those
 * occurrences carried marks that folding dropped ("vådområder" rather than
 * "vadomrader"), so that a query typed with the marks can rank them first;
 * layouts up to 5 held the count in all 8 bits (capped at 255).  dl is the
 * record's document length in words (BM25's |D|), so ranking never reads
 * records.  next is an 8-bit signature of the terms that follow the term
 * in the record (in the same field): bit fts_next_bit(t) is set for every
 * term t of every word right after an occurrence.  A phrase "a b" can only
 * be in records whose posting of a has a bit of b's terms, so most
 * records without the phrase are passed over before they are read.
 *
 * The words ("terms") are what stem_int.h makes of the record's words:
 * folded, and stemmed in the language of the text they stand in (layout
 * 6); layouts up to 5 held the words case-folded only, marks kept.
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

#include <string.h>

#include "storage/store_int.h"

#define FTS_BLOCK_MAX 1536  /* bytes of one block value, header included */
#define FTS_KEY_MAX (FTS_WORD_MAX + 9)
#define FTS_TAIL_MAX 512    /* bytes of a tail's block, header included */
#define FTS_TAIL_POSTS (FTS_TAIL_MAX / 2 + 1)
#define FTS_SLOT_HEAD 23    /* word bytes held in a hash slot (slot = 32 bytes) */
#define FTS_TF_MARKED 0x80  /* tf byte: an occurrence carried marks (layout 6) */
#define FTS_TF_COUNT 0x7f   /* tf byte: the count (layout 6) */

struct fts_post {
	uint64_t rk;
	uint32_t dl;
	uint8_t tf;
	uint8_t next;          /* signature of the following terms (layout 6) */
};

/* A block's key: term | 0x00 | first rowkey (8, BE); key has
 * FTS_KEY_MAX bytes. */
static inline void fts_key_make(uint8_t *key, const char *w, size_t wl, uint64_t rk)
{
	memcpy(key, w, wl);
	key[wl] = 0;
	store_be64(key + wl + 1, rk);
}

/* Read a varint at p (< end): its length, 0 if malformed or truncated. */
static inline size_t fts_varint_get(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;
	for (size_t i = 0; i < 10 && p + i < end; i++) {
		r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = r;
			return i + 1;
		}
	}
	return 0;
}

/* The bit term[0..len) sets in a `next` signature. */
static inline uint8_t fts_next_bit(const char *term, size_t len)
{
	return (uint8_t)(1u << (store_hash32(term, len) >> 29));
}

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
		uint8_t next;
	} *ents;
	size_t nents, ents_cap;
	uint32_t gen;               /* bumped by every reset: word numbers of an
	                               older generation are stale */
	bool replace;               /* a queued posting replaces the stored one of
	                               its (word, rowkey): the batch indexes records
	                               again (unread.c); kept across resets */
};

/* Queue posting (word, rk, tf, dl), tf the raw byte.  The word must be at
 * most FTS_WORD_MAX bytes and contain no NUL. */
int fts_batch_add(struct fts_batch *b, const char *word, size_t len, uint64_t rk, unsigned tf,
                  uint32_t dl);
/* The batch's number for word (same rules as fts_batch_add), valid until
 * the next reset or apply. */
int fts_batch_intern(struct fts_batch *b, const char *word, size_t len, uint32_t *wi);
/* One more occurrence of interned word wi in record rk: a new posting
 * (count 1, document length dl) unless wi's latest posting is rk's, whose
 * count then grows (capped at 127); `marked` sets FTS_TF_MARKED, `next`
 * is OR-ed into the posting's signature.  A record's words must be posted
 * together. */
int fts_batch_post(struct fts_batch *b, uint32_t wi, uint64_t rk, uint32_t dl, bool marked,
                   uint8_t next);
/* Forget everything queued (keeps the buffers) and bump gen. */
void fts_batch_reset(struct fts_batch *b);
/* Write every queued posting into the fts DBI of txn, then reset.  An
 * existing (word, rowkey) posting is left alone, or replaced if
 * b->replace. */
int fts_batch_apply(MDB_txn *txn, struct store *s, struct fts_batch *b);
void fts_batch_dispose(struct fts_batch *b);

/* Decode a block value: *df gets its df field, posts (cap entries) the
 * postings, with first = the rowkey in its key; `legacy`: written by
 * layout 5 or older (no next signatures, which then read 0xff: they
 * exclude nothing).  STORE_E_CORRUPT on bad bytes or more than cap
 * postings; out-parameters untouched then. */
int fts_block_decode(const uint8_t *p, size_t len, uint64_t first, bool legacy, uint64_t *df,
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
	struct fts_post *p;         /* decoded block, FTS_BLOCK_POSTS entries (on first load) */
	size_t n;                   /* postings in p */
	struct fts_post *t;         /* the word's tail, FTS_TAIL_POSTS entries (if any) */
	size_t tn;                  /* postings in t (0: no tail) */
	bool in_tail;               /* iterating the tail */
	uint64_t first;             /* key rowkey of the decoded block */
	bool loaded;
	size_t pos;                 /* iteration position in p */
	bool rev;
	bool legacy;                /* blocks of layout 5 or older */
};

int fts_cur_open(struct fts_cur *fc, MDB_txn *txn, struct store *s, const char *word,
                 size_t len, bool legacy);
void fts_cur_close(struct fts_cur *fc);
/* Position before the first (rev: after the last) posting. */
int fts_cur_start(struct fts_cur *fc, bool rev);
/* Next posting in the chosen direction; MDB_NOTFOUND at the end. */
int fts_cur_step(struct fts_cur *fc, const struct fts_post **out);
/* Is rk in the list?  *out (NULL if absent) points into the cursor. */
int fts_cur_find(struct fts_cur *fc, uint64_t rk, const struct fts_post **out);

/*
 * The distinct words of the index (blocks and tails) that begin with
 * prefix[0..len), in byte order: cb gets each (NUL-terminated, valid for
 * the call) and returns 0 to go on, non-zero to stop (returned).  0 or an
 * error.
 */
int fts_prefix_words(MDB_txn *txn, struct store *s, const char *prefix, size_t len,
                     int (*cb)(const char *word, size_t len, void *ctx), void *ctx);

#endif
