/*
 * text_int.h - private to storage/: the steps of the folding rule
 * (storage.h, store_text_fold) that the index and queries use one by one,
 * and the reference (utf8proc-only) forms the fast paths in text.c must
 * match byte for byte (exposed for the equivalence tests).
 */
#ifndef AGORA_TEXT_INT_H
#define AGORA_TEXT_INT_H

#include "storage/store_int.h"

typedef int (*text_word_cb)(const char *word, size_t len, void *ctx);

/*
 * Split text into words: NFKC and case folding, marks kept, then runs of
 * letters, marks and digits (Unicode categories L*, M*, N*).  cb gets each
 * word, NUL-terminated and valid for the call; words longer than
 * FTS_WORD_MAX bytes are skipped.  This is what layouts up to 5 indexed,
 * and it is the first step of every word the index or a query sees now.
 * 0, cb's non-zero return, PROTO_E_ARG (not UTF-8) or PROTO_E_NOMEM.
 */
int text_words(const char *text, size_t len, text_word_cb cb, void *ctx);
/* text_words() through utf8proc only. */
int text_words_utf8proc(const char *text, size_t len, text_word_cb cb, void *ctx);

/*
 * Fold a word text_words() gave the rest of the way: marks dropped and the
 * letter table applied (the rule in storage.h).  out has cap bytes and
 * gets the result NUL-terminated; never longer than w.  0, -ENOSPC (did
 * not fit), PROTO_E_ARG or PROTO_E_NOMEM.
 */
int text_strip(const char *w, size_t len, char *out, size_t cap, size_t *out_len);

/* NFKC and case folding of a whole string, marks kept (what layouts up to
 * 5 folded tags with); malloc()ed result. */
int text_casefold(char **out, size_t *out_len, const char *s, size_t len);
/* store_text_fold() through utf8proc only (malloc()ed result). */
int text_fold_utf8proc(char **out, size_t *out_len, const char *s, size_t len);

/* Is cp a letter, mark or digit (a character words are made of)? */
bool text_word_char(int32_t cp);

/*
 * The fast path's case folding of one code point: the code point NFKC +
 * case folding maps it to, alone or next to any other code point of the
 * fast set, or -1 if cp is outside the fast set (ASCII and U+00C0..U+017F
 * except the few with compatibility or multi-character foldings).
 */
int32_t text_fast_fold(int32_t cp);

#endif
