/*
 * qtext_int.h - private to storage/: the text of a full-text query, parsed
 * (store_query's q->text), and the phrase test run on candidate records.
 *
 * Syntax (storage.h, struct store_query): words separated by anything
 * that is not a letter, mark or digit; every word must match.  A word
 * directly followed by `*` matches every indexed word it begins.  Words
 * between double quotes (", “ ”, „ ”, « ») must also stand next to each
 * other, in that order, in one text field; a quote left open runs to the
 * end.  One word in quotes is that word.  At most QTEXT_WORDS words count;
 * the rest are ignored.
 */
#ifndef AGORA_QTEXT_INT_H
#define AGORA_QTEXT_INT_H

#include "storage/index_int.h"

#define QTEXT_WORDS 32

struct qword {
	char w[FTS_WORD_MAX + 1];   /* as text_words() splits it: case-folded, marks kept */
	uint8_t len;
	bool prefix;                /* typed with a trailing '*' */
	int phrase;                 /* index into phrases, -1 if in none */
};

struct qphrase {
	uint8_t first, n;           /* words[first .. first + n), n >= 2 */
};

struct qtext {
	struct qword w[QTEXT_WORDS];
	size_t n;
	struct qphrase ph[QTEXT_WORDS / 2];
	size_t nph;
	bool unmatchable;           /* a word longer than FTS_WORD_MAX bytes: nothing
	                               in the index can match it */
};

/* Parse text[0..len).  0 or PROTO_E_ARG (not UTF-8), PROTO_E_NOMEM. */
int qtext_parse(struct qtext *q, const char *text, size_t len);

/*
 * The words met while looking for phrases in one query's candidates, each
 * with the query words it matches: a word (in a language) is stemmed once
 * per query, however many candidates hold it.  Zero-initialise;
 * qtext_seen_dispose() when done.
 */
struct qtext_seen {
	struct qtext_seen_slot {
		uint32_t hash;
		uint32_t off;       /* key (language byte | word) in arena */
		uint32_t mask;      /* bit i: matches query word i */
		uint8_t len;
		bool used;
	} *slot;
	size_t nslots, n;
	char *arena;
	size_t alen, acap;
};
void qtext_seen_dispose(struct qtext_seen *seen);

/*
 * Does rec hold every phrase of q?  Each text field of rec
 * (index_text_fields) is split into words, each word's terms taken in the
 * field's language (text_terms), and a phrase is found where its words
 * stand in a row in one field, each matching the query word in its place:
 * match(query word index, terms of the field's word, ctx) says whether it
 * does (asked once per word and language, remembered in seen).  *all;
 * 0 or an error.
 */
typedef bool (*qtext_match_cb)(size_t qword, const struct text_terms *terms, void *ctx);
int qtext_phrases_find(const Agora__Record *rec, const struct qtext *q,
                       struct text_stemmers *st, struct qtext_seen *seen, qtext_match_cb match,
                       void *ctx, bool *all);
/* The same for the record stored under rowkey rk (read and decoded in
 * txn); STORE_E_CORRUPT if its bytes do not decode. */
int qtext_phrases_at(MDB_txn *txn, struct store *s, uint64_t rk, const struct qtext *q,
                     struct qtext_seen *seen, qtext_match_cb match, void *ctx, bool *all);

/* ------------------------------------------------------------ qterm */

/*
 * What one query word matches in the full-text index: the postings of its
 * terms, any of which matches (qterm.c).  A word stands for its terms in
 * every language (text_query_terms); a prefix word for every indexed term
 * that begins with the folded word or one of its stems, at most
 * STORE_PREFIX_MAX of them.  In a store of layout 5 or older (legacy) a
 * word stands for itself as text_words() split it, as those stores were
 * indexed.
 *
 * Postings are met in rowkey order (qterm_start/qterm_step: a k-way merge
 * of the terms' lists) or looked up (qterm_find).  Either way the
 * posting's count (tf: the largest of the word's terms in that record),
 * its document length, whether its word carried marks and the signature
 * of the terms that follow it are left in tf, dl, marked_hit and next.
 */
struct qterm_head {
	uint64_t rk;
	uint32_t dl;
	uint8_t tf;                 /* raw tf byte */
	uint8_t next;
	uint32_t i;                 /* cursor */
};

struct qterm {
	struct fts_cur *fc;         /* the terms' cursors (each with postings) */
	size_t nfc;
	uint64_t df;                /* postings over all terms (an upper bound of
	                               the records that match) */
	bool legacy;                /* tf bytes are plain counts (layout <= 5) */
	bool marked;                /* the query word was typed with marks */
	bool prefix;
	struct text_terms terms;    /* what a word's terms must meet (phrases): the
	                               query terms, or the prefixes of a prefix word */
	struct qterm_head *heap;    /* merge of the cursors, nfc entries */
	size_t nheap;
	bool rev;
	struct fts_post *mat;       /* every posting, merged (qterm_prepare_find) */
	size_t nmat;
	bool use_mat;
	unsigned tf;                /* the current posting's count */
	uint32_t dl;
	bool marked_hit;            /* its word carried marks */
	uint8_t next;              /* what follows it (OR over the word's terms) */
	uint8_t sig;               /* fts_next_bit of each of the word's terms
	                               (every bit for a prefix word) */
};

/* Open w's postings in snapshot txn (qterm_close() even on failure);
 * `polish`: the store holds Polish text (text_query_terms).  0,
 * STORE_E_PREFIX, or an error.  t->nfc == 0 if nothing can match. */
int qterm_open(struct qterm *t, MDB_txn *txn, struct store *s, const struct qword *w,
               bool legacy, bool polish);
void qterm_close(struct qterm *t);
/* Before qterm_find() on a word of many terms: merge its postings into one
 * sorted list (its lookups then cost one binary search). */
int qterm_prepare_find(struct qterm *t);
int qterm_start(struct qterm *t, bool rev);
/* The next record (deduplicated) in the chosen direction; MDB_NOTFOUND at
 * the end. */
int qterm_step(struct qterm *t, uint64_t *rk);
int qterm_find(struct qterm *t, uint64_t rk, bool *yes);
/* Do the terms of a text's word (in its language) meet query word t? */
bool qterm_match(const struct qterm *t, const struct text_terms *terms);

#endif
