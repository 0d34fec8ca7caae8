/*
 * qtext.c - full-text query text: the parser (words, trailing '*', quoted
 * phrases; qtext_int.h) and the phrase test on a candidate record.
 *
 * The query text comes from whoever types it (the command line, a web
 * form), so the parser takes any bytes: it refuses what is not UTF-8 and
 * otherwise always yields at most QTEXT_WORDS words of at most
 * FTS_WORD_MAX bytes each.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "storage/qtext_int.h"
#include "storage/text_int.h"

static bool is_quote(int32_t cp)
{
	switch (cp) {
	case 0x22: case 0xAB: case 0xBB: case 0x201C: case 0x201D: case 0x201E: case 0xFF02:
		return true;
	default:
		return false;
	}
}

static bool is_star(int32_t cp)
{
	return cp == '*' || cp == 0xFF0A;
}

struct parse {
	struct qtext *q;
	int phrase;         /* the open phrase's index, -1 none */
	size_t phrase_first;
	size_t span_words;  /* words the current span gave */
};

static int word_cb(const char *w, size_t len, void *ctx)
{
	struct parse *p = ctx;
	struct qtext *q = p->q;
	if (q->n == QTEXT_WORDS)
		return 0;
	struct qword *qw = &q->w[q->n++];
	memcpy(qw->w, w, len + 1);
	qw->len = (uint8_t)len;
	qw->prefix = false;
	qw->phrase = p->phrase;
	p->span_words++;
	return 0;
}

/* Does the case-folded span hold a word longer than FTS_WORD_MAX bytes
 * (which text_words skips)? */
static int span_too_long(const char *s, size_t len, bool *yes)
{
	char *f;
	size_t fl;
	*yes = false;
	int rc = text_casefold(&f, &fl, s, len);
	if (rc)
		return rc;
	size_t run = 0;
	for (size_t i = 0; i < fl;) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)f + i,
		                                      (utf8proc_ssize_t)(fl - i), &cp);
		if (n <= 0)
			break;
		run = text_word_char(cp) ? run + (size_t)n : 0;
		if (run > FTS_WORD_MAX)
			*yes = true;
		i += (size_t)n;
	}
	free(f);
	return 0;
}

static int span_end(struct parse *p, const char *text, size_t start, size_t end)
{
	if (end <= start)
		return 0;
	p->span_words = 0;
	int rc = text_words(text + start, end - start, word_cb, p);
	if (rc)
		return rc;
	if (end - start > FTS_WORD_MAX / 2) {   /* folding at most doubles a word */
		bool yes;
		if ((rc = span_too_long(text + start, end - start, &yes)))
			return rc;
		p->q->unmatchable |= yes;
	}
	return 0;
}

static void phrase_close(struct parse *p)
{
	struct qtext *q = p->q;
	if (p->phrase < 0)
		return;
	size_t n = q->n - p->phrase_first;
	if (n >= 2 && q->nph < sizeof q->ph / sizeof q->ph[0]) {
		q->ph[q->nph].first = (uint8_t)p->phrase_first;
		q->ph[q->nph].n = (uint8_t)n;
		for (size_t i = p->phrase_first; i < q->n; i++)
			q->w[i].phrase = (int)q->nph;
		q->nph++;
	} else {
		for (size_t i = p->phrase_first; i < q->n; i++)
			q->w[i].phrase = -1;   /* one word in quotes is that word */
	}
	p->phrase = -1;
}

int qtext_parse(struct qtext *q, const char *text, size_t len)
{
	struct parse p = { q, -1, 0, 0 };
	q->n = q->nph = 0;
	q->unmatchable = false;
	if (!text)
		return 0;
	size_t i = 0, start = 0;
	bool in_span = false;
	int rc;
	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)text + i,
		                                      (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0)
			return PROTO_E_ARG;
		bool wc = text_word_char(cp);
		if (in_span && !wc) {
			if ((rc = span_end(&p, text, start, i)))
				return rc;
			in_span = false;
			/* a star right after a word makes its last word a prefix */
			if (is_star(cp) && p.span_words && q->n)
				q->w[q->n - 1].prefix = true;
		} else if (!in_span && wc) {
			start = i;
			in_span = true;
		}
		if (is_quote(cp)) {
			if (p.phrase >= 0) {
				phrase_close(&p);
			} else {
				p.phrase = (int)q->nph;   /* provisional; fixed when closed */
				p.phrase_first = q->n;
			}
		}
		i += (size_t)n;
	}
	if (in_span && (rc = span_end(&p, text, start, len)))
		return rc;
	phrase_close(&p);
	return 0;
}

/* ---------------------------------------------------------- phrase test */

void qtext_seen_dispose(struct qtext_seen *seen)
{
	free(seen->slot);
	free(seen->arena);
	memset(seen, 0, sizeof *seen);
}

static int seen_rehash(struct qtext_seen *seen)
{
	size_t ns = seen->nslots ? seen->nslots * 2 : 512;
	struct qtext_seen_slot *sl = calloc(ns, sizeof *sl);
	if (!sl)
		return -ENOMEM;
	for (size_t i = 0; i < seen->nslots; i++) {
		if (!seen->slot[i].used)
			continue;
		size_t j = seen->slot[i].hash & (ns - 1);
		while (sl[j].used)
			j = (j + 1) & (ns - 1);
		sl[j] = seen->slot[i];
	}
	free(seen->slot);
	seen->slot = sl;
	seen->nslots = ns;
	return 0;
}

struct find {
	const struct qtext *q;
	struct text_stemmers *st;
	struct qtext_seen *seen;
	qtext_match_cb match;
	void *ctx;
	enum text_lang lang;
	uint32_t phrase_words;      /* bit i: query word i is in a phrase */
	/* per phrase: run[p] bit k set if the field's words ending here match
	 * the phrase's words 0..k */
	uint32_t run[QTEXT_WORDS / 2];
	uint32_t found;             /* bit p: phrase p found */
};

/* Which query words the field's word w matches (remembered in seen). */
static int word_mask(struct find *f, const char *w, size_t len, uint32_t *mask)
{
	struct qtext_seen *seen = f->seen;
	uint8_t key[FTS_WORD_MAX + 1];
	int rc;
	key[0] = (uint8_t)f->lang;
	memcpy(key + 1, w, len);
	size_t kl = len + 1;
	if ((seen->n + 1) * 2 > seen->nslots && (rc = seen_rehash(seen)))
		return rc;
	uint32_t h = store_hash32(key, kl);
	size_t j = h & (seen->nslots - 1);
	for (;; j = (j + 1) & (seen->nslots - 1)) {
		const struct qtext_seen_slot *sl = &seen->slot[j];
		if (!sl->used)
			break;
		if (sl->hash == h && sl->len == kl && memcmp(seen->arena + sl->off, key, kl) == 0) {
			*mask = sl->mask;
			return 0;
		}
	}
	struct text_terms tt;
	uint32_t m = 0;
	rc = text_terms(f->st, f->lang, w, len, &tt);
	if (rc && rc != PROTO_E_ARG)
		return rc;
	for (size_t i = 0; rc == 0 && tt.n && i < f->q->n; i++)
		if ((f->phrase_words >> i & 1) && f->match(i, &tt, f->ctx))
			m |= 1u << i;
	if ((rc = store_grow((void **)&seen->arena, &seen->acap, seen->alen + kl, 1)))
		return rc;
	struct qtext_seen_slot *sl = &seen->slot[j];
	sl->hash = h;
	sl->off = (uint32_t)seen->alen;
	sl->len = (uint8_t)kl;
	sl->mask = m;
	sl->used = true;
	memcpy(seen->arena + seen->alen, key, kl);
	seen->alen += kl;
	seen->n++;
	*mask = m;
	return 0;
}

static int find_word_cb(const char *w, size_t len, void *ctx)
{
	struct find *f = ctx;
	uint32_t mask;
	int rc = word_mask(f, w, len, &mask);
	if (rc)
		return rc;
	for (size_t p = 0; p < f->q->nph; p++) {
		const struct qphrase *ph = &f->q->ph[p];
		uint32_t all = ph->n >= 32 ? UINT32_MAX : (1u << ph->n) - 1;
		uint32_t here = mask >> ph->first & all;   /* phrase word k at bit k */
		/* word k matches here if words 0..k-1 matched up to the previous word */
		f->run[p] = (f->run[p] << 1 | 1u) & here;
		if (f->run[p] >> (ph->n - 1) & 1)
			f->found |= 1u << p;
	}
	return f->found == (1u << f->q->nph) - 1 ? 1 : 0;   /* all found: stop */
}

static int find_field_cb(const char *text, enum text_lang lang, void *ctx)
{
	struct find *f = ctx;
	f->lang = lang;
	memset(f->run, 0, sizeof f->run);
	int rc = text_words(text, strlen(text), find_word_cb, f);
	return rc == PROTO_E_ARG ? 0 : rc;
}

int qtext_phrases_find(const Agora__Record *rec, const struct qtext *q,
                       struct text_stemmers *st, struct qtext_seen *seen, qtext_match_cb match,
                       void *ctx, bool *all)
{
	struct find f;
	memset(&f, 0, sizeof f);
	f.q = q;
	f.st = st;
	f.seen = seen;
	f.match = match;
	f.ctx = ctx;
	for (size_t i = 0; i < q->n; i++)
		if (q->w[i].phrase >= 0)
			f.phrase_words |= 1u << i;
	int rc = q->nph ? index_text_fields(rec, find_field_cb, &f) : 0;
	if (rc != 0 && rc != 1)
		return rc;
	*all = f.found == (1u << q->nph) - 1;
	return 0;
}

int qtext_phrases_at(MDB_txn *txn, struct store *s, uint64_t rk, const struct qtext *q,
                     struct qtext_seen *seen, qtext_match_cb match, void *ctx, bool *all)
{
	MDB_val v;
	Agora__Record *rec;
	int rc = store_rec_read(txn, s, rk, &v);
	if (rc)
		return rc;
	if (v.mv_size < REC_HDR || proto_envelope_decode(&rec, (const uint8_t *)v.mv_data + REC_HDR,
	                                                 v.mv_size - REC_HDR, NULL))
		return STORE_E_CORRUPT;
	rc = qtext_phrases_find(rec, q, s->stem, seen, match, ctx, all);
	agora__record__free_unpacked(rec, NULL);
	return rc;
}
