/*
 * fuzz_web_form.c - what `agora web` decodes from a request (cli/web/
 * web_form.c): a query string or form body, and a Cookie header; then the
 * decoded text through the search page's marking of query words
 * (web_query_words, web_esc_marked), which reads the query and a stored
 * text, both hostile.
 *
 * Input: the bytes up to the first NUL are a form body (decoded whole);
 * the same bytes are a Cookie header; the rest is a text to mark with the
 * words of the form's last "q" value.
 *
 * Checked: every decoded name and value is valid UTF-8 without NUL (the
 * parser's promise) and at most WEB_VALUE_MAX bytes; at most WEB_FORM_MAX
 * pairs; a cookie found is shorter than its buffer; and the marked HTML
 * holds no raw '<' other than the <mark> tags and no raw '"'.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/web/web_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void utf8_check(const char *s)
{
	size_t len = strlen(s);
	char *fold = NULL;
	size_t fl;

	if (len > WEB_VALUE_MAX)
		abort();
	/* store_text_fold refuses what is not UTF-8: the form must never hold it */
	if (store_text_fold(&fold, &fl, s, len) == PROTO_E_ARG)
		abort();
	free(fold);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const uint8_t *nul = memchr(data, 0, size);
	size_t blen = nul ? (size_t)(nul - data) : size;
	struct web_form f;
	char cookie[80], *hdr, *text, *html = NULL;
	char **words = NULL;
	size_t n_words = 0, hlen = 0;
	const char *q;
	FILE *out;

	web_form_init(&f);
	web_form_parse(&f, s, blen);
	if (f.n > WEB_FORM_MAX)
		abort();
	for (size_t i = 0; i < f.n; i++) {
		utf8_check(f.name[i]);
		utf8_check(f.value[i]);
	}
	if ((hdr = strndup(s, blen))) {
		if (web_cookie_get(cookie, sizeof(cookie), hdr, "agora_token") == 0 &&
		    strlen(cookie) >= sizeof(cookie))
			abort();
		free(hdr);
	}
	q = web_form_get(&f, "q");
	text = nul ? strndup((const char *)nul + 1, size - blen - 1) : NULL;
	if (q && text && web_query_words(&words, &n_words, q) == 0 &&
	    (out = open_memstream(&html, &hlen))) {
		web_esc_marked(out, text, words, n_words);
		fclose(out);
		for (const char *p = html; p && (p = strchr(p, '<')); p++)
			if (strncmp(p, "<mark>", 6) && strncmp(p, "</mark>", 7))
				abort();
		if (html && strchr(html, '"'))
			abort();
		free(html);
	}
	web_words_free(words, n_words);
	free(text);
	web_form_dispose(&f);
	return 0;
}
