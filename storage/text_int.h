/*
 * text_int.h - private to storage/: the reference (utf8proc-only) forms of
 * store_text_fold() and store_text_words(), which the fast paths in text.c
 * must match byte for byte.  Exposed for the equivalence tests.
 */
#ifndef AGORA_TEXT_INT_H
#define AGORA_TEXT_INT_H

#include "storage/store_int.h"

/* store_text_fold() through utf8proc only (malloc()ed result). */
int text_fold_utf8proc(char **out, size_t *out_len, const char *s, size_t len);
/* store_text_words() through utf8proc only. */
int text_words_utf8proc(const char *text, size_t len,
                        int (*cb)(const char *word, size_t len, void *ctx), void *ctx);
/*
 * The fast path's fold of one code point: the code point NFKC + case
 * folding maps it to, alone or next to any other code point of the fast
 * set, or -1 if cp is outside the fast set (ASCII and U+00C0..U+017F
 * except the few with compatibility or multi-character foldings).
 */
int32_t text_fast_fold(int32_t cp);

#endif
