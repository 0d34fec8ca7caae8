/*
 * text.c - the folding rule (store_text_fold, stated in storage.h) and the
 * word splitter shared by the full-text index and full-text queries.
 *
 * Words are split on the NFKC + case-folded text (marks kept): that is
 * what layouts up to 5 indexed, what hunspell needs (Polish lemmas keep
 * their marks), and what tells an accented word from one typed without
 * (the index marks postings whose words carried marks).  Each word is then
 * folded the rest of the way (marks dropped, the letter table applied)
 * by text_strip().
 *
 * Most text is ASCII or Latin (Danish, Polish, Dutch, German...), where
 * utf8proc's general machinery (decompose, reorder, recompose, re-encode)
 * costs far more than the answer: every character maps to one character.
 * So a string made only of "fast set" characters (text_fast_fold) is
 * folded by table-free arithmetic and strip_tab; anything else goes
 * through utf8proc.  Why that is identical: every fast-set character is a
 * starter (canonical combining class 0) whose NFKC form is itself or its
 * canonical decomposition into a base letter and one combining mark, and
 * no fast-set character is the second element of a composition pair, so
 * NFKC never joins or reorders two of them; the result of a string is the
 * concatenation of its characters' results.  tests/storage/text_test.c
 * checks every fast-set character and every pair of them against
 * utf8proc, plus many random strings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "storage/text_int.h"

/* Compose after folding so that precomposed and decomposed input meet.
 * CASEFOLD_OPTIONS keep combining marks (the words the index splits);
 * FOLD_OPTIONS drop them (the rule of store_text_fold). */
#define CASEFOLD_OPTIONS (UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD)
#define FOLD_OPTIONS (CASEFOLD_OPTIONS | UTF8PROC_STRIPMARK)

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

/*
 * The fold of each case-folded fast-set character from U+00C0 on (what
 * text_fast_fold returns): its base letter with the marks dropped and the
 * letter table applied; "" where no fast-set character folds to it.
 * Generated from Unicode's decompositions (and checked against utf8proc
 * by text_test.c).
 */
static const char strip_tab[0x180 - 0xC0][3] = {
	/* 0C0 */ "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
	/* 0D0 */ "", "", "", "", "", "", "", "\xc3\x97", "", "", "", "", "", "", "", "",
	/* 0E0 */ "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	/* 0F0 */ "d", "n", "o", "o", "o", "o", "o", "\xc3\xb7", "o", "u", "u", "u", "u", "y", "th", "y",
	/* 100 */ "", "a", "", "a", "", "a", "", "c", "", "c", "", "c", "", "c", "", "d",
	/* 110 */ "", "d", "", "e", "", "e", "", "e", "", "e", "", "e", "", "g", "", "g",
	/* 120 */ "", "g", "", "g", "", "h", "", "h", "", "i", "", "i", "", "i", "", "i",
	/* 130 */ "", "i", "", "", "", "j", "", "k", "\xc4\xb8", "", "l", "", "l", "", "l", "",
	/* 140 */ "", "", "l", "", "n", "", "n", "", "n", "", "", "\xc5\x8b", "", "o", "", "o",
	/* 150 */ "", "o", "", "oe", "", "r", "", "r", "", "r", "", "s", "", "s", "", "s",
	/* 160 */ "", "s", "", "t", "", "t", "", "t", "", "u", "", "u", "", "u", "", "u",
	/* 170 */ "", "u", "", "u", "", "w", "", "y", "", "", "z", "", "z", "", "z", "",
};

/* Letters with a mark drawn into them, which Unicode does not decompose:
 * the second step of the rule in storage.h. */
static const struct {
	char from[3], to[3];
} letters[] = {
	{ "\xc3\xa6", "ae" }, { "\xc3\xb0", "d" }, { "\xc3\xb8", "o" }, { "\xc3\xbe", "th" },
	{ "\xc4\x91", "d" }, { "\xc4\xa7", "h" }, { "\xc4\xb1", "i" }, { "\xc5\x82", "l" },
	{ "\xc5\x93", "oe" }, { "\xc5\xa7", "t" },
};

/* Apply the letter table to s[0..*len) in place (every replacement is no
 * longer than what it replaces); keeps s NUL-terminated. */
static void apply_letters(char *s, size_t *len)
{
	size_t o = 0;
	for (size_t i = 0; i < *len;) {
		const uint8_t b = (uint8_t)s[i];
		size_t k = sizeof letters / sizeof letters[0];
		if (b >= 0xC3 && b <= 0xC5 && i + 1 < *len) {
			for (k = 0; k < sizeof letters / sizeof letters[0]; k++)
				if (letters[k].from[0] == s[i] && letters[k].from[1] == s[i + 1])
					break;
		}
		if (k < sizeof letters / sizeof letters[0]) {
			size_t tl = strlen(letters[k].to);
			memcpy(s + o, letters[k].to, tl);
			o += tl;
			i += 2;
		} else {
			s[o++] = s[i++];
		}
	}
	s[o] = 0;
	*len = o;
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

/* The fold of a case-folded fast-set code point f: 1 or 2 bytes. */
static size_t fast_strip_put(char *d, int32_t f)
{
	if (f < 0x80) {
		d[0] = (char)f;
		return 1;
	}
	const char *t = strip_tab[f - 0xC0];
	d[0] = t[0];
	if (!t[1])
		return 1;
	d[1] = t[1];
	return 2;
}

static int map(char **out, size_t *out_len, const char *s, size_t len, int options)
{
	utf8proc_uint8_t *dst = NULL;
	utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len,
	                                  &dst, (utf8proc_option_t)options);
	if (n < 0)
		return n == UTF8PROC_ERROR_NOMEM ? PROTO_E_NOMEM : PROTO_E_ARG;
	*out = (char *)dst;
	*out_len = (size_t)n;
	return 0;
}

int text_casefold(char **out, size_t *out_len, const char *s, size_t len)
{
	if (!fast_ok(s, len))
		return map(out, out_len, s, len, CASEFOLD_OPTIONS);
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

int text_fold_utf8proc(char **out, size_t *out_len, const char *s, size_t len)
{
	int rc = map(out, out_len, s, len, FOLD_OPTIONS);
	if (rc == 0)
		apply_letters(*out, out_len);
	return rc;
}

int store_text_fold(char **out, size_t *out_len, const char *s, size_t len)
{
	if (!out || !out_len || (!s && len))
		return PROTO_E_ARG;
	if (!fast_ok(s, len))
		return text_fold_utf8proc(out, out_len, s, len);
	/* a fast-set character folds to at most as many bytes as it has */
	char *d = malloc(len + 1);
	if (!d)
		return PROTO_E_NOMEM;
	const uint8_t *p = (const uint8_t *)s, *end = p + len;
	size_t o = 0;
	while (p < end) {
		int32_t cp;
		p += fast_next(p, end, &cp);
		o += fast_strip_put(d + o, text_fast_fold(cp));
	}
	d[o] = 0;
	*out = d;
	*out_len = o;
	return 0;
}

int text_strip(const char *w, size_t len, char *out, size_t cap, size_t *out_len)
{
	const uint8_t *p = (const uint8_t *)w, *end = p + len;
	size_t o = 0;
	bool fast = true;
	while (p < end) {
		int32_t cp;
		size_t n = fast_next(p, end, &cp);
		/* a case-folded word holds only folded fast-set characters */
		if (!n || text_fast_fold(cp) != cp || (cp >= 0x80 && !strip_tab[cp - 0xC0][0])) {
			fast = false;
			break;
		}
		char b[2];
		size_t k = fast_strip_put(b, cp);
		if (o + k + 1 > cap)
			return -ENOSPC;
		memcpy(out + o, b, k);
		o += k;
		p += n;
	}
	if (!fast) {
		char *f;
		size_t fl;
		int rc = text_fold_utf8proc(&f, &fl, w, len);
		if (rc)
			return rc;
		if (fl + 1 > cap) {
			free(f);
			return -ENOSPC;
		}
		memcpy(out, f, fl);
		o = fl;
		free(f);
	}
	out[o] = 0;
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

bool text_word_char(int32_t cp)
{
	return word_char(cp);
}

int text_words_utf8proc(const char *text, size_t len, text_word_cb cb, void *ctx)
{
	if (!text || !cb)
		return PROTO_E_ARG;
	if (len == 0)
		return 0;
	char *f = NULL;
	size_t flen = 0;
	int rc = map(&f, &flen, text, len, CASEFOLD_OPTIONS);
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

int text_words(const char *text, size_t len, text_word_cb cb, void *ctx)
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

struct folded_ctx {
	text_word_cb cb;
	void *ctx;
};

static int folded_cb(const char *w, size_t len, void *ctx)
{
	struct folded_ctx *fc = ctx;
	char f[FTS_WORD_MAX + 1];
	size_t fl;
	int rc = text_strip(w, len, f, sizeof f, &fl);
	if (rc == -ENOSPC)
		return 0;   /* cannot happen: folding never lengthens a word */
	if (rc)
		return rc;
	return fl ? fc->cb(f, fl, fc->ctx) : 0;
}

int store_text_words(const char *text, size_t len,
                     int (*cb)(const char *word, size_t len, void *ctx), void *ctx)
{
	if (!text || !cb)
		return PROTO_E_ARG;
	struct folded_ctx fc = { cb, ctx };
	return text_words(text, len, folded_cb, &fc);
}
