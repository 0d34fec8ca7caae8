/*
 * stem_int.h - private to storage/: the terms the full-text index holds
 * for a word, by the language of the text it stands in.
 *
 * A word (as text_words() splits it) is folded (text_strip) and then
 *   da, nl, en  stemmed with that language's Snowball stemmer (Debian's
 *               libstemmer), on the folded word, so that a word typed
 *               without its marks stems the same way;
 *   pl          looked up in hunspell's Polish dictionary (hunspell-pl),
 *               with its marks: the folded lemmas it gives, and the folded
 *               word itself (names and words the dictionary does not know
 *               are found as written);
 *   any other   left as folded.
 * A query word does not come with a language, so it stands for the union
 * of its terms in every language (text_query_terms).  Both sides run the
 * same code on the same folded word, so what a text indexes and what a
 * query asks for meet whenever the stemmer maps both to one stem.
 *
 * The Polish dictionary is read on first use (about 0.3 s, 35 MB) from
 * /usr/share/hunspell (or /usr/share/myspell); without it Polish words are
 * only folded.  The index of a Polish text therefore depends on whether
 * the dictionary was installed when it was written; queries still find
 * every word as written.
 */
#ifndef AGORA_STEM_INT_H
#define AGORA_STEM_INT_H

#include "storage/store_int.h"

enum text_lang {
	TEXT_LANG_OTHER = 0,    /* no stemmer: words as folded */
	TEXT_LANG_DA,
	TEXT_LANG_NL,
	TEXT_LANG_EN,
	TEXT_LANG_PL,
	TEXT_LANGS
};

/* The language of a BCP-47 tag by its primary subtag, in any case:
 * "da", "DA", "da-DK", "en_GB" ...; NULL or unknown: TEXT_LANG_OTHER. */
enum text_lang text_lang_of(const char *tag);

/*
 * The stemmers of one store (store->stem): created with the store, freed
 * with it.  Their use is serialised by a mutex, so the threads that share
 * a struct store (agorad's loop and its store jobs) may call these at the
 * same time.
 */
struct text_stemmers;
int text_stemmers_new(struct text_stemmers **out);   /* 0 or -ENOMEM */
void text_stemmers_free(struct text_stemmers *st);   /* accepts NULL */
/* Has the Polish dictionary been loaded (for tests)? */
bool text_stemmers_polish_loaded(struct text_stemmers *st);

/*
 * Every record with Polish text is also indexed under this term (no word
 * folds to a string that starts with 0x01), so that a query knows whether
 * Polish lemmas can meet anything: in a store without Polish text the
 * dictionary is never loaded.
 */
#define TEXT_TERM_POLISH "\x01pl"
#define TEXT_TERM_POLISH_LEN 3

/* Up to this many terms come from one word. */
#define TEXT_TERMS_MAX 8

/* The terms of one word, each NUL-terminated, distinct. */
struct text_terms {
	char t[TEXT_TERMS_MAX][FTS_WORD_MAX + 1];
	uint8_t len[TEXT_TERMS_MAX];
	size_t n;
	bool marked;        /* folding changed the word: it had marks */
};

/*
 * The index terms of word w (w: as text_words() gave it, wl bytes) in a
 * text of language lang, as described at the top.  out->n may be 0 (a
 * word of marks alone).  0, PROTO_E_ARG or PROTO_E_NOMEM.
 */
int text_terms(struct text_stemmers *st, enum text_lang lang, const char *w, size_t wl,
               struct text_terms *out);

/* The terms a query word stands for: the union of its terms in every
 * language (the folded word first); in Polish only if `polish` (the store
 * holds Polish text). */
int text_query_terms(struct text_stemmers *st, const char *w, size_t wl, bool polish,
                     struct text_terms *out);

#endif
