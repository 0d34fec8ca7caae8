/*
 * text.c - search normalisation: NFKC + case folding with utf8proc, and the
 * word splitter shared by the full-text index and full-text queries.
 *
 * Most text is ASCII or Latin (Danish, Polish, Dutch, German...), where
 * utf8proc's general machinery (decompose, reorder, recompose, re-encode)
 * costs far more than the answer: every character maps to one character.
 * So a string made only of "fast set" characters (text_fast_fold) is
 * folded by table-free arithmetic; anything else goes through utf8proc.
 * Why that is identical: every fast-set character is a starter (canonical
 * combining class 0) whose NFKC form is itself or its canonical
 * decomposition into a base letter and one combining mark, and no
 * fast-set character is the second element of a composition pair, so
 * NFKC never joins or reorders two of them; the result of a string is the
 * concatenation of its characters' results.  tests/storage/text_test.c
 * checks every fast-set character and every pair of them against
 * utf8proc, plus many random strings.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "storage/text_int.h"

/* Compose after folding so that precomposed and decomposed input meet, and
 * keep combining marks: "å" must stay distinct from "a". */
#define FOLD_OPTIONS (UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD)

int32_t text_fast_fold(int32_t cp)
{
	if (cp < 0)
		return -1;
	if (cp < 0x80)
		return cp >= 'A' && cp <= 'Z' ? cp + 0x20 : cp;
	if (cp < 0xC0)
		return -1;      /* Latin-1 symbols: several have compatibility forms */
	if (cp <= 0xDE)
		return cp == 0xD7 ? cp : cp + 0x20;     /* × stays */
	if (cp == 0xDF)
		return -1;      /* ß folds to "ss" */
	if (cp <= 0xFF)
		return cp;
	if (cp <= 0x12F || (cp >= 0x134 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177))
		return cp & 1 ? cp : cp + 1;
	if ((cp >= 0x139 && cp <= 0x13E) || (cp >= 0x141 && cp <= 0x148) ||
	    (cp >= 0x179 && cp <= 0x17E))
		return cp & 1 ? cp + 1 : cp;
	if (cp == 0x131 || cp == 0x138)
		return cp;      /* ı, ĸ: lower case without an upper-case pair */
	if (cp == 0x178)
		return 0xFF;    /* Ÿ */
	return -1;          /* İ, Ĳ ĳ, Ŀ ŀ, ŉ, ſ and everything beyond */
}

/* Is the folded fast-set code point a letter or digit? */
static bool fast_word_char(int32_t f)
{
	if (f < 0x80)
		return (f >= '0' && f <= '9') || (f >= 'a' && f <= 'z');
	return f != 0xD7 && f != 0xF7;
}

/* Decode one fast-set character at p (< end): its code point, and the
 * number of bytes, 0 if it is not in the fast set. */
static size_t fast_next(const uint8_t *p, const uint8_t *end, int32_t *cp)
{
	*cp = -1;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xC3 && p[0] <= 0xC5 && p + 1 < end && (p[1] & 0xC0) == 0x80) {
		*cp = (int32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
		return text_fast_fold(*cp) < 0 ? 0 : 2;
	}
	return 0;
}

/* Is all of s in the fast set? */
static bool fast_ok(const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + len;
	while (p < end) {
		/* most text is ASCII: skip it eight bytes at a time */
		while (end - p >= 8) {
			uint64_t w;
			memcpy(&w, p, 8);
			if (w & 0x8080808080808080ULL)
				break;
			p += 8;
		}
		if (p == end)
			break;
		int32_t cp;
		size_t n = fast_next(p, end, &cp);
		if (!n)
			return false;
		p += n;
	}
	return true;
}

/* UTF-8 of a fast-set code point (< 0x180): 1 or 2 bytes. */
static size_t fast_put(char *d, int32_t cp)
{
	if (cp < 0x80) {
		d[0] = (char)cp;
		return 1;
	}
	d[0] = (char)(0xC0 | cp >> 6);
	d[1] = (char)(0x80 | (cp & 0x3F));
	return 2;
}

int text_fold_utf8proc(char **out, size_t *out_len, const char *s, size_t len)
{
	utf8proc_uint8_t *dst = NULL;
	utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len,
	                                  &dst, FOLD_OPTIONS);
	if (n < 0)
		return n == UTF8PROC_ERROR_NOMEM ? PROTO_E_NOMEM : PROTO_E_ARG;
	*out = (char *)dst;
	*out_len = (size_t)n;
	return 0;
}

int store_text_fold(char **out, size_t *out_len, const char *s, size_t len)
{
	if (!fast_ok(s, len))
		return text_fold_utf8proc(out, out_len, s, len);
	/* folding keeps every fast-set character's length */
	char *d = malloc(len + 1);
	if (!d)
		return PROTO_E_NOMEM;
	const uint8_t *p = (const uint8_t *)s, *end = p + len;
	size_t o = 0;
	while (p < end) {
		int32_t cp;
		p += fast_next(p, end, &cp);
		o += fast_put(d + o, text_fast_fold(cp));
	}
	d[o] = 0;
	*out = d;
	*out_len = o;
	return 0;
}

static bool word_char(utf8proc_int32_t cp)
{
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		return true;
	default:
		return false;
	}
}

int text_words_utf8proc(const char *text, size_t len,
                        int (*cb)(const char *word, size_t len, void *ctx), void *ctx)
{
	if (!text || !cb)
		return PROTO_E_ARG;
	if (len == 0)
		return 0;
	char *f = NULL;
	size_t flen = 0;
	int rc = text_fold_utf8proc(&f, &flen, text, len);
	if (rc)
		return rc;
	char word[FTS_WORD_MAX + 1];
	size_t i = 0;
	while (i < flen && rc == 0) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)f + i,
		                                      (utf8proc_ssize_t)(flen - i), &cp);
		if (n <= 0) {   /* cannot happen after utf8proc_map; be safe */
			i++;
			continue;
		}
		if (!word_char(cp)) {
			i += (size_t)n;
			continue;
		}
		size_t start = i;
		while (i < flen) {
			n = utf8proc_iterate((const utf8proc_uint8_t *)f + i,
			                     (utf8proc_ssize_t)(flen - i), &cp);
			if (n <= 0 || !word_char(cp))
				break;
			i += (size_t)n;
		}
		size_t wl = i - start;
		if (wl <= FTS_WORD_MAX) {
			memcpy(word, f + start, wl);
			word[wl] = 0;
			rc = cb(word, wl, ctx);
		}
	}
	free(f);
	return rc;
}

int store_text_words(const char *text, size_t len,
                     int (*cb)(const char *word, size_t len, void *ctx), void *ctx)
{
	if (!text || !cb)
		return PROTO_E_ARG;
	if (!fast_ok(text, len))
		return text_words_utf8proc(text, len, cb, ctx);
	/* Fold and split in one pass over the input; a word longer than
	 * FTS_WORD_MAX bytes is skipped, as on the utf8proc path. */
	char word[FTS_WORD_MAX + 2];
	const uint8_t *p = (const uint8_t *)text, *end = p + len;
	size_t wl = 0;
	bool in_word = false;
	int rc = 0;
	while (rc == 0) {
		int32_t f = -1;
		size_t n = 0;
		if (p < end) {
			int32_t cp;
			n = fast_next(p, end, &cp);
			f = text_fast_fold(cp);
		}
		if (n && fast_word_char(f)) {
			if (wl <= FTS_WORD_MAX)
				wl += fast_put(word + wl, f);   /* may reach FTS_WORD_MAX + 1 */
			else
				wl = FTS_WORD_MAX + 1;
			in_word = true;
		} else {
			if (in_word && wl <= FTS_WORD_MAX) {
				word[wl] = 0;
				rc = cb(word, wl, ctx);
			}
			in_word = false;
			wl = 0;
			if (!n)
				break;
		}
		p += n;
	}
	return rc;
}
