/*
 * fuzz_store_text.c - the search text path on arbitrary bytes: the folding
 * rule, the tokenizer, the query parser (a query string is typed by
 * anyone: the command line, a web form) and the stemmers, and the phrase
 * test on a record holding the text.
 *
 * Input: byte 0 picks the language of the record's text (da, nl, en, pl,
 * other); the rest is a query, a NUL byte, and the record's text (no NUL:
 * the whole rest is both).
 *
 * Checked: folding twice is folding once; every word store_text_words
 * gives is non-empty, at most 64 bytes, NUL-terminated at its length and
 * folds to itself; the parser gives at most QTEXT_WORDS words of 1..64
 * bytes and phrases of 2 or more words inside them; every term of every
 * word, in every language, is 1..64 bytes with no NUL; and the phrase test
 * on a measure holding the text returns without error or finds a phrase
 * whose words the text does hold.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/qtext_int.h"
#include "storage/text_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Created on first use and kept: loading the Polish dictionary once per
 * process, as a store does. */
static struct text_stemmers *stemmers;

static void check_terms(const struct text_terms *tt)
{
	if (tt->n > TEXT_TERMS_MAX)
		abort();
	for (size_t i = 0; i < tt->n; i++)
		if (tt->len[i] == 0 || tt->len[i] > FTS_WORD_MAX || strlen(tt->t[i]) != tt->len[i])
			abort();
}

static int word_cb(const char *w, size_t len, void *ctx)
{
	(void)ctx;
	if (len == 0 || len > FTS_WORD_MAX || strlen(w) != len)
		abort();
	char *f = NULL;
	size_t fl = 0;
	if (store_text_fold(&f, &fl, w, len) != 0 || fl != len || memcmp(f, w, len) != 0)
		abort();    /* a folded word is its own fold */
	free(f);
	return 0;
}

static void check_fold(const char *s, size_t len)
{
	char *a = NULL, *b = NULL;
	size_t al = 0, bl = 0;
	if (store_text_fold(&a, &al, s, len) != 0)
		return;
	if (store_text_fold(&b, &bl, a, al) != 0 || al != bl || memcmp(a, b, al) != 0)
		abort();
	free(a);
	free(b);
}

struct match_ctx {
	struct qtext *q;
	struct text_terms terms[QTEXT_WORDS];
};

static bool match_cb(size_t qword, const struct text_terms *terms, void *ctx)
{
	const struct match_ctx *m = ctx;
	check_terms(terms);
	const struct text_terms *qt = &m->terms[qword];
	for (size_t i = 0; i < terms->n; i++)
		for (size_t j = 0; j < qt->n; j++) {
			size_t l = qt->len[j];
			if (m->q->w[qword].prefix ? terms->len[i] >= l && !memcmp(terms->t[i], qt->t[j], l)
			                          : terms->len[i] == l && !memcmp(terms->t[i], qt->t[j], l))
				return true;
		}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (!stemmers && text_stemmers_new(&stemmers) != 0)
		abort();
	enum text_lang lang = (enum text_lang)(data[0] % TEXT_LANGS);
	const char *rest = (const char *)data + 1;
	size_t n = size - 1;
	const char *nul = memchr(rest, 0, n);
	size_t ql = nul ? (size_t)(nul - rest) : n;
	const char *text = nul ? nul + 1 : rest;
	size_t tl = nul ? n - ql - 1 : n;

	check_fold(rest, n);
	(void)store_text_words(rest, n, word_cb, NULL);

	struct match_ctx m;
	struct qtext q;
	m.q = &q;
	if (qtext_parse(&q, rest, ql) != 0)
		return 0;
	if (q.n > QTEXT_WORDS || q.nph > QTEXT_WORDS / 2)
		abort();
	for (size_t i = 0; i < q.n; i++) {
		if (q.w[i].len == 0 || q.w[i].len > FTS_WORD_MAX || strlen(q.w[i].w) != q.w[i].len)
			abort();
		if (q.w[i].phrase >= (int)q.nph)
			abort();
		if (text_query_terms(stemmers, q.w[i].w, q.w[i].len, true, &m.terms[i]) != 0)
			m.terms[i].n = 0;
		check_terms(&m.terms[i]);
		for (int l = 0; l < TEXT_LANGS; l++) {
			struct text_terms tt;
			if (text_terms(stemmers, (enum text_lang)l, q.w[i].w, q.w[i].len, &tt) == 0)
				check_terms(&tt);
		}
	}
	for (size_t p = 0; p < q.nph; p++)
		if (q.ph[p].n < 2 || (size_t)q.ph[p].first + q.ph[p].n > q.n)
			abort();

	/* the phrase test on a measure whose title is the text */
	char *title = malloc(tl + 1);
	if (!title)
		abort();
	memcpy(title, text, tl);
	title[tl] = 0;
	static const char *const tags[TEXT_LANGS] = { "de", "da", "nl", "en", "pl" };
	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Measure me = AGORA__MEASURE__INIT;
	me.title = title;
	me.language = (char *)tags[lang];
	rec.body_case = AGORA__RECORD__BODY_MEASURE;
	rec.measure = &me;
	struct qtext_seen seen = { 0 };
	bool all = false;
	int rc = qtext_phrases_find(&rec, &q, stemmers, &seen, match_cb, &m, &all);
	if (rc != 0 && rc != PROTO_E_NOMEM)
		abort();
	if (rc == 0 && q.nph == 0 && !all)
		abort();    /* no phrase: nothing to miss */
	qtext_seen_dispose(&seen);
	free(title);
	return 0;
}
