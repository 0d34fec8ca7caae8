/*
 * text.c - search normalisation: NFKC + case folding with utf8proc, and the
 * word splitter shared by the full-text index and full-text queries.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "storage/store_int.h"

/* Compose after folding so that precomposed and decomposed input meet, and
 * keep combining marks: "å" must stay distinct from "a". */
#define FOLD_OPTIONS (UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD)

int store_text_fold(char **out, size_t *out_len, const char *s, size_t len)
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

int store_text_words(const char *text, size_t len,
                     int (*cb)(const char *word, size_t len, void *ctx), void *ctx)
{
	if (!text || !cb)
		return PROTO_E_ARG;
	if (len == 0)
		return 0;
	char *f = NULL;
	size_t flen = 0;
	int rc = store_text_fold(&f, &flen, text, len);
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
