/* index_int.h - private to storage/: index keys of one record, and the
 * text fields a record is searched by. */
#ifndef AGORA_INDEX_INT_H
#define AGORA_INDEX_INT_H

#include "storage/fts_int.h"
#include "storage/stem_int.h"

#define STORE_YEARS_MAX 60  /* a measure's start..end is indexed up to this span */

/* Reusable buffers; zero-initialise, index_keys_dispose() when done. */
struct index_keys {
	uint8_t *keys;      /* len(2) | ix key, repeated */
	size_t keys_len, keys_cap;
	struct index_post {
		uint32_t wid;   /* a term, as its number interned in fb */
		bool marked;    /* its word carried marks */
		uint8_t next;  /* signature of the next word's terms (fts_int.h) */
	} *posts;           /* the record's terms, one per term of each word */
	size_t nposts, posts_cap;
	size_t prev_from, prev_to;  /* posts of the field's previous word */
	size_t nwords;      /* words (not terms) = document length for BM25 */
	bool polish;        /* some field is in Polish (TEXT_TERM_POLISH) */
	unsigned why;       /* what of the record was not read (store_unread_why) */
	struct fts_batch *fb;   /* where terms are interned (index_collect) */
	struct text_stemmers *stem;
	/* The terms of each (language, word) met since fb's last reset, so a
	 * word is stemmed once per transaction: open addressing over forms,
	 * whose keys (language byte | word) live in farena. */
	struct index_form {
		uint32_t hash;
		uint32_t off;       /* key in farena */
		uint32_t wids;      /* its terms: fwids[wids .. wids + nterms) */
		uint8_t len;        /* key length */
		uint8_t nterms;
		bool marked;
		bool used;
		uint8_t sig;       /* fts_next_bit of each of its terms */
	} *forms;
	size_t nforms, forms_slots;
	char *farena;
	size_t farena_len, farena_cap;
	uint32_t *fwids;
	size_t nfwids, fwids_cap;
	uint32_t forms_gen;     /* fb->gen the forms were made in */
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

/* Collect the ix keys and terms of rec (content of a Supersede) with the
 * stemmers of s; the terms are interned in fb.  Of a record whose body
 * this build does not read (store_unread_why), only what lies outside the
 * body: kind, author, alliance.  ik->why gets what was not read. */
int index_collect(struct index_keys *ik, struct store *s, const Agora__Record *rec,
                  const uint8_t alliance[PROTO_ID_BYTES], struct fts_batch *fb);
/* Queue the collected ix postings of rowkey in xb and its full-text
 * postings in fb (both written at the end of the txn).  fb must be the
 * batch index_collect interned the words in, not reset since. */
int index_put(struct index_keys *ik, uint64_t rowkey, struct fts_batch *fb,
              struct ix_batch *xb);
void index_keys_dispose(struct index_keys *ik);
/* Keep only the tag keys of what index_collect() collected. */
void index_keys_only_tags(struct index_keys *ik);
/* Delete every tag key of the ix DBI (before store_reindex puts them
 * again, folded the current way). */
int index_tags_drop(MDB_txn *txn, struct store *s);

/*
 * The searchable text of rec (content of a Supersede), field by field:
 * cb gets each non-empty text field (titles, summaries, descriptions,
 * notes, lesson fields, each tag, each translation's fields) with the
 * language it is written in (the record's; a translation's own).  cb
 * returns 0 to go on, non-zero to stop (returned).  The index and phrase
 * queries read exactly these.
 */
typedef int (*index_field_cb)(const char *text, enum text_lang lang, void *ctx);
int index_text_fields(const Agora__Record *rec, index_field_cb cb, void *ctx);

#endif
