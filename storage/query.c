/*
 * query.c - store_query: every filter is a posting list (or a union of
 * posting lists: several authors, a range of years; a query word's terms,
 * qterm.c).  The smallest one (mdb_cursor_count, or the word's df) drives
 * the scan in rowkey order; every candidate is checked against the other
 * filters (MDB_GET_BOTH lookups, or a search in the terms' decoded
 * blocks) and against the hide DBI for superseded, retracted and
 * hidden-kind records, so no record is read before it is delivered --
 * except for phrases: a candidate that has every word of a phrase is read
 * and its text fields searched for the words in a row (qtext.c), only
 * when it would be delivered (or, ranked, enter the best offset + limit).
 * Relevance sorting scores every match with BM25 (k1 = 1.2, b = 0.75; tf
 * and the document length come from the postings; a word's idf from the
 * postings of all its terms) and keeps the best offset + limit in a heap;
 * a word typed with marks counts ACCENT_BONUS times in records whose word
 * carried marks too.
 *
 * A store of layout 5 or older (open read-only, so not migrated) is
 * queried the way it was indexed: words case-folded only, no stems, no
 * prefixes or phrases, tags folded with marks kept.
 *
 * One unit, a little over 800 lines: planning (which posting list drives),
 * checking candidates and ranking share the query's cursors and heap; the
 * parts that stand alone are qterm.c (a word's terms) and qtext.c
 * (phrases).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "storage/qtext_int.h"
#include "storage/text_int.h"

#define BM25_K1 1.2
#define BM25_B 0.75
#define ACCENT_BONUS 1.5
#define FIRST_FOLDED_LAYOUT 6   /* layouts before it are queried as they were indexed */

struct filter {
	MDB_dbi dbi;
	bool fts;           /* a query word: qt */
	size_t nkeys;
	MDB_val *keys;      /* point into buf */
	uint8_t *buf;
	size_t count;       /* postings over all keys */
	MDB_cursor *c;      /* for membership checks */
	double idf;         /* fts only */
	struct qterm qt;    /* fts only: the word's terms */
};

/* What the hide DBI says around the last looked-up rowkey: no key lies
 * strictly between lo and hi; lo/hi themselves are keys if *_key. */
struct hidecache {
	MDB_cursor *c;
	bool valid, lo_key, hi_key;
	uint64_t lo, hi;
	uint8_t lo_val[HIDE_VAL], hi_val[HIDE_VAL];
};

struct qstate {
	struct store_txn *t;
	const struct store_query *q;
	struct filter f[8 + QTEXT_WORDS];
	size_t nf;
	double avgdl;
	bool empty;         /* some filter has no postings: nothing matches */
	bool legacy;        /* the snapshot's layout is older than FIRST_FOLDED_LAYOUT */
	struct hidecache hc;
	struct qtext *qt;   /* the parsed text (NULL: none) */
	struct filter *of_word[QTEXT_WORDS];   /* each query word's filter */
	struct qtext_seen seen;     /* the words of candidates searched for phrases */
};

static int filter_add(struct qstate *qs, MDB_dbi dbi, bool fts, size_t nkeys, size_t keylen,
                      struct filter **out)
{
	if (qs->nf == sizeof qs->f / sizeof qs->f[0])
		return PROTO_E_ARG;
	struct filter *f = &qs->f[qs->nf];
	memset(f, 0, sizeof *f);
	f->dbi = dbi;
	f->fts = fts;
	f->keys = calloc(nkeys ? nkeys : 1, sizeof *f->keys);
	f->buf = malloc(nkeys * keylen + 1);
	if (!f->keys || !f->buf) {
		free(f->keys);
		free(f->buf);
		return -ENOMEM;
	}
	qs->nf++;
	*out = f;
	return 0;
}

/* A filter of one ix key: tag | val. */
static int filter_one(struct qstate *qs, uint8_t tag, const void *val, size_t len)
{
	struct filter *f;
	int rc = filter_add(qs, qs->t->s->ix, false, 1, len + 1, &f);
	if (rc)
		return rc;
	f->buf[0] = tag;
	memcpy(f->buf + 1, val, len);
	f->keys[0].mv_size = len + 1;
	f->keys[0].mv_data = f->buf;
	f->nkeys = 1;
	return 0;
}

static int filter_u8(struct qstate *qs, uint8_t tag, int v)
{
	if (v == 0)
		return 0;
	if (v < 0 || v > 255) {
		qs->empty = true;
		return 0;
	}
	uint8_t b = (uint8_t)v;
	return filter_one(qs, tag, &b, 1);
}

static int filter_years(struct qstate *qs)
{
	const struct store_query *q = qs->q;
	if (!q->year_from && !q->year_to)
		return 0;
	unsigned lo = q->year_from, hi = q->year_to ? q->year_to : 65535;
	if (lo > hi || lo > 65535) {
		qs->empty = true;
		return 0;
	}
	/* the year keys that exist in the range */
	MDB_cursor *c;
	int rc = store_lmdb_rc(mdb_cursor_open(qs->t->txn, qs->t->s->ix, &c));
	if (rc)
		return rc;
	uint16_t years[65536 / 64];
	size_t ny = 0;
	uint8_t kb[3] = { IX_YEAR, (uint8_t)(lo >> 8), (uint8_t)lo };
	MDB_val k = { 3, kb }, v;
	rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_RANGE));
	while (rc == 0) {
		const uint8_t *kp = k.mv_data;
		if (k.mv_size != 3 || kp[0] != IX_YEAR)
			break;
		unsigned y = (unsigned)kp[1] << 8 | kp[2];
		if (y > hi || ny == sizeof years / sizeof years[0])
			break;
		years[ny++] = (uint16_t)y;
		rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT_NODUP));
	}
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	if (ny == 0) {
		qs->empty = true;
		return 0;
	}
	struct filter *f;
	if ((rc = filter_add(qs, qs->t->s->ix, false, ny, 3, &f)))
		return rc;
	for (size_t i = 0; i < ny; i++) {
		uint8_t *p = f->buf + 3 * i;
		p[0] = IX_YEAR;
		p[1] = (uint8_t)(years[i] >> 8);
		p[2] = (uint8_t)years[i];
		f->keys[i].mv_size = 3;
		f->keys[i].mv_data = p;
	}
	f->nkeys = ny;
	return 0;
}

static int filter_authors(struct qstate *qs)
{
	const struct store_query *q = qs->q;
	if (!q->authors || q->n_authors == 0)
		return 0;
	size_t n = q->n_authors;
	if (n > STORE_QUERY_MAX_AUTHORS)
		return PROTO_E_ARG;
	struct filter *f;
	int rc = filter_add(qs, qs->t->s->ix, false, n, 33, &f);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = f->buf + 33 * i;
		p[0] = IX_AUTHOR;
		memcpy(p + 1, q->authors[i], 32);
		f->keys[i].mv_size = 33;
		f->keys[i].mv_data = p;
	}
	f->nkeys = n;
	return 0;
}

/* One filter per distinct query word (a word typed twice is one filter). */
static int filter_text(struct qstate *qs)
{
	const char *text = qs->q->text;
	if (!text)
		return 0;
	if (!(qs->qt = calloc(1, sizeof *qs->qt)))
		return -ENOMEM;
	int rc = qtext_parse(qs->qt, text, strlen(text));
	if (rc)
		return rc;
	struct qtext *q = qs->qt;
	if (q->unmatchable && !qs->legacy)
		qs->empty = true;
	if (qs->legacy) {
		/* as layouts up to 5 were queried: words, no stars, no phrases */
		for (size_t i = 0; i < q->n; i++)
			q->w[i].prefix = false, q->w[i].phrase = -1;
		q->nph = 0;
	}
	/* Polish lemmas can meet something only in a store with Polish text */
	bool polish = false;
	if (!qs->legacy && q->n) {
		struct fts_cur fc;
		rc = fts_cur_open(&fc, qs->t->txn, qs->t->s, TEXT_TERM_POLISH, TEXT_TERM_POLISH_LEN,
		                  false);
		polish = fc.df > 0;
		fts_cur_close(&fc);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < q->n; i++) {
		struct filter *same = NULL;
		for (size_t j = 0; j < i && !same; j++)
			if (q->w[j].len == q->w[i].len && q->w[j].prefix == q->w[i].prefix &&
			    memcmp(q->w[j].w, q->w[i].w, q->w[i].len) == 0)
				same = qs->of_word[j];
		if (same) {
			qs->of_word[i] = same;
			continue;
		}
		struct filter *f;
		if ((rc = filter_add(qs, qs->t->s->fts, true, 0, 0, &f)))
			return rc;
		qs->of_word[i] = f;
		if ((rc = qterm_open(&f->qt, qs->t->txn, qs->t->s, &q->w[i], qs->legacy, polish)))
			return rc;
	}
	return 0;
}

static void filters_free(struct qstate *qs)
{
	for (size_t i = 0; i < qs->nf; i++) {
		if (qs->f[i].c)
			mdb_cursor_close(qs->f[i].c);
		if (qs->f[i].fts)
			qterm_close(&qs->f[i].qt);
		free(qs->f[i].keys);
		free(qs->f[i].buf);
	}
	qs->nf = 0;
}

/* Count postings and open the check cursors. */
static int filters_prepare(struct qstate *qs)
{
	int rc;
	for (size_t i = 0; i < qs->nf; i++) {
		struct filter *f = &qs->f[i];
		if (f->fts) {
			f->count = f->qt.df;
			if (f->count == 0)
				qs->empty = true;
			continue;
		}
		if ((rc = store_lmdb_rc(mdb_cursor_open(qs->t->txn, f->dbi, &f->c))))
			return rc;
		f->count = 0;
		for (size_t j = 0; j < f->nkeys; j++) {
			MDB_val k = f->keys[j], v;
			rc = store_lmdb_rc(mdb_cursor_get(f->c, &k, &v, MDB_SET_KEY));
			if (rc == MDB_NOTFOUND)
				continue;
			size_t cnt = 0;
			if (rc || (rc = store_lmdb_rc(mdb_cursor_count(f->c, &cnt))))
				return rc;
			f->count += cnt;
		}
		if (f->count == 0)
			qs->empty = true;
	}
	return 0;
}

/* Does rowkey rk appear under any of f's keys?  Sets f->qt's tf, dl. */
static int filter_has(struct filter *f, const uint8_t rk[8], bool *yes)
{
	if (f->fts)
		return qterm_find(&f->qt, store_get64(rk), yes);
	for (size_t j = 0; j < f->nkeys; j++) {
		MDB_val k = f->keys[j], v = { 8, (void *)rk };
		int rc = store_lmdb_rc(mdb_cursor_get(f->c, &k, &v, MDB_GET_BOTH));
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc)
			return rc;
		*yes = true;
		return 0;
	}
	*yes = false;
	return 0;
}

/* Look rk up in the hide DBI; *found, and val when found. */
static int hide_get(struct qstate *qs, uint64_t rk, bool *found, uint8_t val[HIDE_VAL])
{
	struct hidecache *h = &qs->hc;
	*found = false;
	if (!h->c)
		return 0;   /* the DBI is empty */
	if (h->valid) {
		if (h->lo_key && rk == h->lo) {
			memcpy(val, h->lo_val, HIDE_VAL);
			*found = true;
			return 0;
		}
		if (h->hi_key && rk == h->hi) {
			memcpy(val, h->hi_val, HIDE_VAL);
			*found = true;
			return 0;
		}
		if ((!h->lo_key || h->lo < rk) && (!h->hi_key || rk < h->hi))
			return 0;
	}
	uint8_t kb[8];
	store_be64(kb, rk);
	MDB_val k = { 8, kb }, v;
	h->valid = false;
	int rc = store_lmdb_rc(mdb_cursor_get(h->c, &k, &v, MDB_SET_RANGE));
	if (rc == 0) {
		if (k.mv_size != 8 || v.mv_size != HIDE_VAL)
			return STORE_E_CORRUPT;
		h->hi = store_get64(k.mv_data);
		h->hi_key = true;
		memcpy(h->hi_val, v.mv_data, HIDE_VAL);
		rc = store_lmdb_rc(mdb_cursor_get(h->c, &k, &v, MDB_PREV));
	} else if (rc == MDB_NOTFOUND) {
		h->hi = UINT64_MAX;
		h->hi_key = false;
		rc = store_lmdb_rc(mdb_cursor_get(h->c, &k, &v, MDB_LAST));
	}
	if (rc == 0) {
		if (k.mv_size != 8 || v.mv_size != HIDE_VAL)
			return STORE_E_CORRUPT;
		h->lo = store_get64(k.mv_data);
		h->lo_key = true;
		memcpy(h->lo_val, v.mv_data, HIDE_VAL);
	} else if (rc == MDB_NOTFOUND) {
		h->lo = 0;
		h->lo_key = false;
	} else {
		return rc;
	}
	h->valid = true;
	if (h->hi_key && rk == h->hi) {
		memcpy(val, h->hi_val, HIDE_VAL);
		*found = true;
	}
	return 0;
}

/* ------------------------------------------------------ driver iteration */

struct driver {
	struct filter *f;   /* NULL: iterate recs */
	bool rev;
	size_t n;
	MDB_cursor **c;
	uint64_t *cur;
	uint8_t *tf;
	bool *live;
	MDB_cursor *recs;
	bool started;
};

static int drv_read(struct driver *d, size_t i, MDB_cursor_op op)
{
	MDB_val k, v;
	int rc = store_lmdb_rc(mdb_cursor_get(d->c[i], &k, &v, op));
	if (rc == MDB_NOTFOUND) {
		d->live[i] = false;
		return 0;
	}
	if (rc)
		return rc;
	if (v.mv_size < 8)
		return STORE_E_CORRUPT;
	d->cur[i] = store_get64(v.mv_data);
	d->tf[i] = v.mv_size > 8 ? ((const uint8_t *)v.mv_data)[8] : 0;
	d->live[i] = true;
	return 0;
}

static int drv_open(struct driver *d, MDB_txn *txn, struct store *s, struct filter *f, bool rev)
{
	memset(d, 0, sizeof *d);
	d->f = f;
	d->rev = rev;
	if (!f)
		return store_lmdb_rc(mdb_cursor_open(txn, s->recs, &d->recs));
	if (f->fts)
		return qterm_start(&f->qt, rev);
	d->n = f->nkeys;
	d->c = calloc(d->n, sizeof *d->c);
	d->cur = calloc(d->n, sizeof *d->cur);
	d->tf = calloc(d->n, 1);
	d->live = calloc(d->n, sizeof *d->live);
	if (!d->c || !d->cur || !d->tf || !d->live)
		return -ENOMEM;
	for (size_t i = 0; i < d->n; i++) {
		int rc = store_lmdb_rc(mdb_cursor_open(txn, f->dbi, &d->c[i]));
		if (rc)
			return rc;
		MDB_val k = f->keys[i], v;
		rc = store_lmdb_rc(mdb_cursor_get(d->c[i], &k, &v, MDB_SET_KEY));
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc)
			return rc;
		if ((rc = drv_read(d, i, rev ? MDB_LAST_DUP : MDB_FIRST_DUP)))
			return rc;
	}
	return 0;
}

static void drv_close(struct driver *d)
{
	if (d->recs)
		mdb_cursor_close(d->recs);
	for (size_t i = 0; d->c && i < d->n; i++)
		if (d->c[i])
			mdb_cursor_close(d->c[i]);
	free(d->c);
	free(d->cur);
	free(d->tf);
	free(d->live);
}

/* Next rowkey in order (deduplicated); MDB_NOTFOUND at the end.  For the
 * recs driver *recval gets the record; an fts driver sets its qt's tf, dl. */
static int drv_next(struct driver *d, uint64_t *rk, MDB_val *recval)
{
	if (d->f && d->f->fts)
		return qterm_step(&d->f->qt, rk);
	if (!d->f) {
		MDB_val k, v;
		MDB_cursor_op op = d->started ? (d->rev ? MDB_PREV : MDB_NEXT)
		                              : (d->rev ? MDB_LAST : MDB_FIRST);
		d->started = true;
		int rc = store_lmdb_rc(mdb_cursor_get(d->recs, &k, &v, op));
		if (rc)
			return rc;
		if (k.mv_size != 8 || v.mv_size < REC_HDR)
			return STORE_E_CORRUPT;
		*rk = store_get64(k.mv_data);
		*recval = v;
		return 0;
	}
	bool any = false;
	uint64_t best = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (!d->live[i])
			continue;
		if (!any || (d->rev ? d->cur[i] > best : d->cur[i] < best))
			best = d->cur[i];
		any = true;
	}
	if (!any)
		return MDB_NOTFOUND;
	for (size_t i = 0; i < d->n; i++) {
		if (d->live[i] && d->cur[i] == best) {
			int rc = drv_read(d, i, d->rev ? MDB_PREV_DUP : MDB_NEXT_DUP);
			if (rc)
				return rc;
		}
	}
	*rk = best;
	return 0;
}

/* ----------------------------------------------------------------- query */

static bool kind_visible(const struct store_query *q, int kind)
{
	if (q->kind != PROTO_KIND_NONE)
		return kind == (int)q->kind;
	return !store_kind_hidden(kind) || q->governance;
}

/*
 * Check a candidate against every filter but the driver, and against the
 * record flags and kind: from recval for the recs driver, else from the
 * hide DBI (a record not in it is neither superseded nor retracted, and of
 * a visible kind or of the kind the kind filter asked for).  *ok false if
 * it does not match; *score its BM25 score.
 */
static int candidate(struct qstate *qs, struct filter *drv, uint64_t rk, const MDB_val *recval,
                     bool *ok, double *score)
{
	uint8_t rkb[8];
	store_be64(rkb, rk);
	*ok = false;
	int rc;
	for (size_t i = 0; i < qs->nf; i++) {
		struct filter *f = &qs->f[i];
		if (f == drv)
			continue;
		bool yes;
		if ((rc = filter_has(f, rkb, &yes)))
			return rc;
		if (!yes)
			return 0;
	}
	uint8_t hv[HIDE_VAL];
	bool hidden = false;
	if (!drv) {
		const uint8_t *h = recval->mv_data;
		hv[0] = h[0];
		hv[1] = h[1];
		hidden = true;
	} else if ((rc = hide_get(qs, rk, &hidden, hv))) {
		return rc;
	}
	if (hidden && ((hv[0] & (REC_F_FORK | REC_F_RETRACTED)) ||
	               ((hv[0] & REC_F_SUPERSEDED) && !qs->q->history) ||
	               !kind_visible(qs->q, hv[1])))
		return 0;
	/* a phrase's words in a row: each word's posting must say that one
	 * of the next word's terms may follow it */
	for (size_t p = 0; qs->qt && p < qs->qt->nph; p++) {
		const struct qphrase *ph = &qs->qt->ph[p];
		for (size_t k = 0; k + 1 < ph->n; k++)
			if (!(qs->of_word[ph->first + k]->qt.next & qs->of_word[ph->first + k + 1]->qt.sig))
				return 0;
	}
	double sc = 0;
	for (size_t i = 0; i < qs->nf; i++) {
		struct filter *f = &qs->f[i];
		if (!f->fts)
			continue;
		double tf = f->qt.tf, dl = f->qt.dl;
		double w = f->idf * tf * (BM25_K1 + 1) /
		           (tf + BM25_K1 * (1 - BM25_B + BM25_B * dl / qs->avgdl));
		sc += f->qt.marked && f->qt.marked_hit ? w * ACCENT_BONUS : w;
	}
	*score = sc;
	*ok = true;
	return 0;
}

struct scored {
	uint64_t rk;
	double score;
};

static int cmp_scored(const void *a, const void *b)
{
	const struct scored *x = a, *y = b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->rk > y->rk ? -1 : x->rk < y->rk;
}

static bool word_match(size_t qword, const struct text_terms *terms, void *ctx)
{
	const struct qstate *qs = ctx;
	return qterm_match(&qs->of_word[qword]->qt, terms);
}

/* Does record rk hold every phrase of the query? */
static int phrases(struct qstate *qs, uint64_t rk, bool *yes)
{
	return qtext_phrases_at(qs->t->txn, qs->t->s, rk, qs->qt, &qs->seen, word_match, qs, yes);
}

static int deliver(struct qstate *qs, uint64_t rk, const MDB_val *v, double score,
                   store_hit_cb cb, void *ctx)
{
	struct store_hit hit;
	int rc = store_rec_fill(qs->t->txn, qs->t->s, rk, v, &hit.rec);
	if (rc)
		return rc;
	hit.score = score;
	return cb(&hit, ctx);
}

int store_query(struct store_txn *t, const struct store_query *q, store_hit_cb cb, void *ctx,
                size_t *total)
{
	if (!t || !q || !cb)
		return PROTO_E_ARG;
	struct qstate qs;
	memset(&qs, 0, sizeof qs);
	qs.t = t;
	qs.q = q;
	struct store *s = t->s;
	struct driver d;
	memset(&d, 0, sizeof d);
	struct scored *sc = NULL;
	size_t nsc = 0, capsc = 0;
	int rc = 0, delivered = 0;
	size_t matched = 0;
	bool stopped = false, lazy = false;
	uint64_t layout;

	if ((rc = store_counter_get(t->txn, s, META_VERSION, &layout)))
		goto out;
	qs.legacy = layout < FIRST_FOLDED_LAYOUT;
	if (q->alliance && (rc = filter_one(&qs, IX_ALLIANCE, q->alliance, PROTO_ID_BYTES)))
		goto out;
	if (q->kind != PROTO_KIND_NONE) {
		if ((int)q->kind < 0 || (int)q->kind > 255) {
			qs.empty = true;
		} else {
			uint8_t k = (uint8_t)q->kind;
			if ((rc = filter_one(&qs, IX_KIND, &k, 1)))
				goto out;
		}
	}
	if ((rc = filter_authors(&qs)) || (rc = filter_u8(&qs, IX_SECTOR, q->sector)) ||
	    (rc = filter_u8(&qs, IX_AREA, q->area)) || (rc = filter_u8(&qs, IX_HAZARD, q->hazard)) ||
	    (rc = filter_u8(&qs, IX_STATUS, q->status)))
		goto out;
	if (q->tag) {
		char *ft;
		size_t fl;
		rc = qs.legacy ? text_casefold(&ft, &fl, q->tag, strlen(q->tag))
		               : store_text_fold(&ft, &fl, q->tag, strlen(q->tag));
		if (rc)
			goto out;
		if (fl > IX_TAG_MAX)
			qs.empty = true;
		else
			rc = filter_one(&qs, IX_TAG, ft, fl);
		free(ft);
		if (rc)
			goto out;
	}
	if ((rc = filter_years(&qs)))
		goto out;
	if (q->measure && (rc = filter_one(&qs, IX_REFERS, q->measure, PROTO_ID_BYTES)))
		goto out;
	if ((rc = filter_text(&qs)))
		goto out;
	if (qs.empty)
		goto done;
	if ((rc = filters_prepare(&qs)))
		goto out;
	if (qs.empty)
		goto done;

	/* BM25 statistics */
	bool text = false;
	uint64_t ndocs = 0, doclen = 0;
	for (size_t i = 0; i < qs.nf; i++)
		text |= qs.f[i].fts;
	if (text) {
		if ((rc = store_counter_get(t->txn, s, META_NDOCS, &ndocs)) ||
		    (rc = store_counter_get(t->txn, s, META_DOCLEN, &doclen)))
			goto out;
		qs.avgdl = ndocs ? (double)doclen / (double)ndocs : 1;
		if (qs.avgdl <= 0)
			qs.avgdl = 1;
		for (size_t i = 0; i < qs.nf; i++) {
			struct filter *f = &qs.f[i];
			if (!f->fts)
				continue;
			double df = (double)f->count, n = (double)(ndocs > f->count ? ndocs : f->count);
			f->idf = log(1 + (n - df + 0.5) / (df + 0.5));
		}
	}
	bool relevance = text && q->sort == STORE_SORT_RELEVANCE;

	/* the most selective filter drives */
	struct filter *drv = NULL;
	for (size_t i = 0; i < qs.nf; i++)
		if (!drv || qs.f[i].count < drv->count)
			drv = &qs.f[i];
	for (size_t i = 0; i < qs.nf; i++)
		if (qs.f[i].fts && &qs.f[i] != drv && (rc = qterm_prepare_find(&qs.f[i].qt)))
			goto out;
	if ((rc = drv_open(&d, t->txn, s, drv, q->sort != STORE_SORT_OLDEST)))
		goto out;
	if (drv) {
		MDB_stat hst;
		if ((rc = store_lmdb_rc(mdb_stat(t->txn, s->hide, &hst))))
			goto out;
		if (hst.ms_entries &&
		    (rc = store_lmdb_rc(mdb_cursor_open(t->txn, s->hide, &qs.hc.c))))
			goto out;
	}

	size_t want = q->limit ? q->offset + q->limit : SIZE_MAX;
	if (q->limit && want < q->offset)
		want = SIZE_MAX;
	for (;;) {
		uint64_t rk;
		MDB_val v = { 0, NULL };
		rc = drv_next(&d, &rk, &v);
		if (rc == MDB_NOTFOUND) {
			rc = 0;
			break;
		}
		if (rc)
			goto out;
		bool ok;
		double score = 0;
		if ((rc = candidate(&qs, drv, rk, &v, &ok, &score)))
			goto out;
		if (!ok)
			continue;
		bool phrased = true;   /* phrases() writes it only on success */
		if (relevance && want != SIZE_MAX) {
			/* keep the best `want` in a heap whose root is the worst kept;
			 * a phrase is looked for only in what would enter it */
			matched++;
			struct scored e = { rk, score };
			bool enters = nsc < want || cmp_scored(&e, &sc[0]) < 0;
			if (enters && qs.qt && qs.qt->nph) {
				lazy = true;
				if ((rc = phrases(&qs, rk, &phrased)))
					goto out;
				if (!phrased)
					continue;
			}
			if (nsc < want) {
				if (nsc == capsc) {
					capsc = capsc ? capsc * 2 : 64;
					struct scored *ns = realloc(sc, capsc * sizeof *sc);
					if (!ns) {
						rc = -ENOMEM;
						goto out;
					}
					sc = ns;
				}
				size_t i = nsc++;
				while (i > 0 && cmp_scored(&sc[(i - 1) / 2], &e) < 0) {
					sc[i] = sc[(i - 1) / 2];
					i = (i - 1) / 2;
				}
				sc[i] = e;
			} else if (cmp_scored(&e, &sc[0]) < 0) {
				size_t i = 0;
				for (;;) {
					size_t l = 2 * i + 1, r = l + 1, m = i;
					const struct scored *worst = &e;
					if (l < nsc && cmp_scored(&sc[l], worst) > 0)
						worst = &sc[m = l];
					if (r < nsc && cmp_scored(&sc[r], worst) > 0)
						m = r;
					if (m == i)
						break;
					sc[i] = sc[m];
					i = m;
				}
				sc[i] = e;
			}
			continue;
		}
		if (qs.qt && qs.qt->nph && (rc = phrases(&qs, rk, &phrased)))
			goto out;
		if (!phrased)
			continue;
		matched++;
		if (relevance) {
			if (nsc == capsc) {
				capsc = capsc ? capsc * 2 : 64;
				struct scored *ns = realloc(sc, capsc * sizeof *sc);
				if (!ns) {
					rc = -ENOMEM;
					goto out;
				}
				sc = ns;
			}
			sc[nsc].rk = rk;
			sc[nsc].score = score;
			nsc++;
			continue;
		}
		if (matched <= q->offset)
			continue;
		if (drv && (rc = store_rec_read(t->txn, s, rk, &v)))
			goto out;
		rc = deliver(&qs, rk, &v, score, cb, ctx);
		if (rc) {
			stopped = true;
			goto out;
		}
		delivered++;
		if (matched >= want) {
			stopped = true;
			break;
		}
	}
	if (relevance && nsc) {
		qsort(sc, nsc, sizeof *sc, cmp_scored);
		for (size_t i = q->offset; i < nsc && i < want; i++) {
			MDB_val v;
			if ((rc = store_rec_read(t->txn, s, sc[i].rk, &v)))
				goto out;
			rc = deliver(&qs, sc[i].rk, &v, sc[i].score, cb, ctx);
			if (rc) {
				stopped = true;
				goto out;
			}
			delivered++;
		}
	}
done:
	if (total)
		*total = stopped || lazy ? SIZE_MAX : matched;
out:
	if (qs.hc.c)
		mdb_cursor_close(qs.hc.c);
	drv_close(&d);
	filters_free(&qs);
	qtext_seen_dispose(&qs.seen);
	free(qs.qt);
	free(sc);
	if (rc < 0)
		return store_map_err(rc);
	return delivered;
}
