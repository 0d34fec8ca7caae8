/*
 * qterm.c - what one query word matches in the full-text index
 * (qtext_int.h): its terms' posting lists, merged or looked up.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/qtext_int.h"

/* A term's postings joined to t (cursors with no postings are dropped). */
static int add_term(struct qterm *t, MDB_txn *txn, struct store *s, const char *w, size_t wl,
                    size_t *cap)
{
	int rc;
	if (t->nfc == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		struct fts_cur *n = realloc(t->fc, nc * sizeof *n);
		if (!n)
			return -ENOMEM;
		t->fc = n;
		*cap = nc;
	}
	struct fts_cur *fc = &t->fc[t->nfc];
	rc = fts_cur_open(fc, txn, s, w, wl, t->legacy);
	if (rc || fc->df == 0) {
		fts_cur_close(fc);
		return rc;
	}
	t->df += fc->df;
	t->nfc++;
	return 0;
}

struct expand {
	struct qterm *t;
	MDB_txn *txn;
	struct store *s;
	size_t *cap;
	size_t n;           /* words found so far */
};

static int expand_cb(const char *w, size_t len, void *ctx)
{
	struct expand *e = ctx;
	if (++e->n > STORE_PREFIX_MAX)
		return STORE_E_PREFIX;
	return add_term(e->t, e->txn, e->s, w, len, e->cap);
}

/* Keep only the prefixes no other one begins (their words are among the
 * shorter one's), so that no word is reached twice. */
static void prefixes_reduce(struct text_terms *p)
{
	size_t o = 0;
	for (size_t i = 0; i < p->n; i++) {
		bool covered = false;
		for (size_t j = 0; j < p->n && !covered; j++)
			covered = j != i && p->len[j] <= p->len[i] &&
			          memcmp(p->t[j], p->t[i], p->len[j]) == 0 &&
			          (p->len[j] < p->len[i] || j < i);
		if (covered)
			continue;
		if (o != i) {
			memcpy(p->t[o], p->t[i], sizeof p->t[o]);
			p->len[o] = p->len[i];
		}
		o++;
	}
	p->n = o;
}

int qterm_open(struct qterm *t, MDB_txn *txn, struct store *s, const struct qword *w,
               bool legacy, bool polish)
{
	size_t cap = 0;
	int rc;
	memset(t, 0, sizeof *t);
	t->legacy = legacy;
	t->prefix = w->prefix && !legacy;
	if (legacy) {
		t->sig = 0xff;
		return add_term(t, txn, s, w->w, w->len, &cap);
	}
	if ((rc = text_query_terms(s->stem, w->w, w->len, polish, &t->terms)))
		return rc;
	t->marked = t->terms.marked;
	if (!t->prefix) {
		for (size_t i = 0; i < t->terms.n; i++)
			t->sig |= fts_next_bit(t->terms.t[i], t->terms.len[i]);
		for (size_t i = 0; i < t->terms.n; i++)
			if ((rc = add_term(t, txn, s, t->terms.t[i], t->terms.len[i], &cap)))
				return rc;
		return 0;
	}
	t->sig = 0xff;    /* which words begin so is known only per record */
	prefixes_reduce(&t->terms);
	struct expand e = { t, txn, s, &cap, 0 };
	for (size_t i = 0; i < t->terms.n; i++)
		if ((rc = fts_prefix_words(txn, s, t->terms.t[i], t->terms.len[i], expand_cb, &e)))
			return rc;
	return 0;
}

void qterm_close(struct qterm *t)
{
	for (size_t i = 0; i < t->nfc; i++)
		fts_cur_close(&t->fc[i]);
	free(t->fc);
	free(t->heap);
	free(t->mat);
	memset(t, 0, sizeof *t);
}

static void take(struct qterm *t, uint8_t tf, uint32_t dl, uint8_t next)
{
	t->tf = t->legacy ? tf : tf & FTS_TF_COUNT;
	t->marked_hit = !t->legacy && (tf & FTS_TF_MARKED);
	t->dl = dl;
	t->next = next;
}

/* Another posting of the same record from another term. */
static void also(struct qterm *t, uint8_t tf, uint8_t next)
{
	unsigned n = t->legacy ? tf : tf & FTS_TF_COUNT;
	if (n > t->tf)
		t->tf = n;
	t->marked_hit |= !t->legacy && (tf & FTS_TF_MARKED);
	t->next |= next;
}

/* ------------------------------------------------------------ lookups */

static int cmp_post(const void *x, const void *y)
{
	const struct fts_post *a = x, *b = y;
	return a->rk < b->rk ? -1 : a->rk > b->rk;
}

int qterm_prepare_find(struct qterm *t)
{
	if (t->nfc <= 8)
		return 0;   /* a few lookups per candidate cost less than a merge */
	size_t cap = 0, n = 0;
	int rc = 0;
	for (size_t i = 0; i < t->nfc && rc == 0; i++) {
		const struct fts_post *p;
		if ((rc = fts_cur_start(&t->fc[i], false)))
			break;
		while ((rc = fts_cur_step(&t->fc[i], &p)) == 0) {
			if ((rc = store_grow((void **)&t->mat, &cap, n + 1, sizeof *t->mat)))
				return rc;
			t->mat[n++] = *p;
		}
		if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	if (rc)
		return rc;
	if (n)
		qsort(t->mat, n, sizeof *t->mat, cmp_post);
	/* one entry per record: the largest count, marks if any term had them */
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (o && t->mat[o - 1].rk == t->mat[i].rk) {
			struct fts_post *d = &t->mat[o - 1];
			uint8_t a = d->tf, b = t->mat[i].tf;
			if (t->legacy) {
				d->tf = a > b ? a : b;
			} else {
				uint8_t c = (a & FTS_TF_COUNT) > (b & FTS_TF_COUNT) ? a : b;
				d->tf = (uint8_t)((c & FTS_TF_COUNT) | ((a | b) & FTS_TF_MARKED));
			}
			d->next |= t->mat[i].next;
			continue;
		}
		t->mat[o++] = t->mat[i];
	}
	t->nmat = o;
	t->use_mat = true;
	return 0;
}

int qterm_find(struct qterm *t, uint64_t rk, bool *yes)
{
	*yes = false;
	if (t->use_mat) {
		size_t lo = 0, hi = t->nmat;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (t->mat[mid].rk < rk)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < t->nmat && t->mat[lo].rk == rk) {
			take(t, t->mat[lo].tf, t->mat[lo].dl, t->mat[lo].next);
			*yes = true;
		}
		return 0;
	}
	for (size_t i = 0; i < t->nfc; i++) {
		const struct fts_post *p;
		int rc = fts_cur_find(&t->fc[i], rk, &p);
		if (rc)
			return rc;
		if (!p)
			continue;
		if (*yes) {
			also(t, p->tf, p->next);
		} else {
			take(t, p->tf, p->dl, p->next);
			*yes = true;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ merging */

static bool before(const struct qterm *t, const struct qterm_head *a, const struct qterm_head *b)
{
	return t->rev ? a->rk > b->rk : a->rk < b->rk;
}

static void sift_down(struct qterm *t, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < t->nheap && before(t, &t->heap[l], &t->heap[m]))
			m = l;
		if (r < t->nheap && before(t, &t->heap[r], &t->heap[m]))
			m = r;
		if (m == i)
			return;
		struct qterm_head x = t->heap[i];
		t->heap[i] = t->heap[m];
		t->heap[m] = x;
		i = m;
	}
}

/* Advance cursor i: its next posting into heap slot `slot`, or the slot
 * removed (the heap is re-ordered by the caller). */
static int advance(struct qterm *t, size_t slot)
{
	const struct fts_post *p;
	uint32_t i = t->heap[slot].i;
	int rc = fts_cur_step(&t->fc[i], &p);
	if (rc == MDB_NOTFOUND) {
		t->heap[slot] = t->heap[--t->nheap];
		return 0;
	}
	if (rc)
		return rc;
	t->heap[slot].rk = p->rk;
	t->heap[slot].dl = p->dl;
	t->heap[slot].tf = p->tf;
	t->heap[slot].next = p->next;
	return 0;
}

int qterm_start(struct qterm *t, bool rev)
{
	int rc;
	t->rev = rev;
	t->nheap = 0;
	if (t->nfc == 1)
		return fts_cur_start(&t->fc[0], rev);   /* one term: no merge */
	free(t->heap);
	if (!(t->heap = malloc((t->nfc ? t->nfc : 1) * sizeof *t->heap)))
		return -ENOMEM;
	for (size_t i = 0; i < t->nfc; i++) {
		if ((rc = fts_cur_start(&t->fc[i], rev)))
			return rc;
		t->heap[t->nheap].i = (uint32_t)i;
		size_t slot = t->nheap++;
		if ((rc = advance(t, slot)))
			return rc;
	}
	for (size_t i = t->nheap / 2 + 1; i-- > 0;)
		sift_down(t, i);
	return 0;
}

int qterm_step(struct qterm *t, uint64_t *rk)
{
	if (t->nfc == 1) {
		const struct fts_post *p;
		int rc = fts_cur_step(&t->fc[0], &p);
		if (rc)
			return rc;
		take(t, p->tf, p->dl, p->next);
		*rk = p->rk;
		return 0;
	}
	if (t->nheap == 0)
		return MDB_NOTFOUND;
	uint64_t r = t->heap[0].rk;
	take(t, t->heap[0].tf, t->heap[0].dl, t->heap[0].next);
	int rc = advance(t, 0);
	if (rc)
		return rc;
	sift_down(t, 0);
	/* the same record from other terms */
	while (t->nheap && t->heap[0].rk == r) {
		also(t, t->heap[0].tf, t->heap[0].next);
		if ((rc = advance(t, 0)))
			return rc;
		sift_down(t, 0);
	}
	*rk = r;
	return 0;
}

/* ------------------------------------------------------------ phrases */

bool qterm_match(const struct qterm *t, const struct text_terms *terms)
{
	for (size_t i = 0; i < terms->n; i++)
		for (size_t j = 0; j < t->terms.n; j++) {
			size_t ql = t->terms.len[j];
			if (t->prefix ? terms->len[i] >= ql && memcmp(terms->t[i], t->terms.t[j], ql) == 0
			              : terms->len[i] == ql && memcmp(terms->t[i], t->terms.t[j], ql) == 0)
				return true;
		}
	return false;
}
