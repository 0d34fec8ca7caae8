/*
 * fts.c - the full-text index in posting blocks (layout in fts_int.h):
 * the per-transaction batch and block writing.  The decoder and the
 * readers queries use are in fts_read.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/fts_int.h"

/* ------------------------------------------------------------ coding */

static size_t varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Postings are always written in the current layout (with next). */
static size_t post_len(const struct fts_post *p, const struct fts_post *prev)
{
	return (prev ? varint_len(p->rk - prev->rk) : 0) + 1 + varint_len(p->dl) + 1;
}

static size_t post_put(uint8_t *b, const struct fts_post *p, const struct fts_post *prev)
{
	size_t n = prev ? varint_put(b, p->rk - prev->rk) : 0;
	b[n++] = p->tf;
	n += varint_put(b + n, p->dl);
	b[n++] = p->next;
	return n;
}

/* Encode p[0..n) as one block carrying df; returns its length. */
static size_t block_encode(uint8_t *out, const struct fts_post *p, size_t n, uint64_t df)
{
	size_t o = varint_put(out, df);
	for (size_t x = 0; x < n; x++)
		o += post_put(out + o, &p[x], x ? &p[x - 1] : NULL);
	return o;
}

static size_t block_len(const struct fts_post *p, size_t n, uint64_t df)
{
	size_t len = varint_len(df);
	for (size_t x = 0; x < n; x++)
		len += post_len(&p[x], x ? &p[x - 1] : NULL);
	return len;
}

/* x[0..xn) and y[0..yn), each sorted and unique, merged into out; a
 * rowkey in both keeps x's posting (already indexed), or y's if replace
 * (the record indexed again).  Returns the count. */
static size_t merge_posts(struct fts_post *out, const struct fts_post *x, size_t xn,
                          const struct fts_post *y, size_t yn, bool replace)
{
	size_t i = 0, j = 0, o = 0;
	while (i < xn || j < yn) {
		if (j == yn || (i < xn && x[i].rk < y[j].rk))
			out[o++] = x[i++];
		else if (i < xn && x[i].rk == y[j].rk)
			out[o++] = replace ? y[j] : x[i], i++, j++;
		else
			out[o++] = y[j++];
	}
	return o;
}

/* ------------------------------------------------------------ batch */

_Static_assert(sizeof(struct fts_slot) == 32, "two hash slots per cache line");

static void slot_set(struct fts_slot *sl, uint32_t h, uint32_t wi, const char *word,
                     size_t len)
{
	sl->hash = h;
	sl->wi = wi + 1;
	sl->len = (uint8_t)len;
	memset(sl->head, 0, sizeof sl->head);
	memcpy(sl->head, word, len < FTS_SLOT_HEAD ? len : FTS_SLOT_HEAD);
}

static int rehash(struct fts_batch *b)
{
	size_t ns = b->nslots ? b->nslots * 2 : 4096;
	struct fts_slot *sl = calloc(ns, sizeof *sl);
	if (!sl)
		return -ENOMEM;
	for (size_t i = 0; i < b->nslots; i++) {
		const struct fts_slot *o = &b->slots[i];
		if (!o->wi)
			continue;
		size_t j = o->hash & (ns - 1);
		while (sl[j].wi)
			j = (j + 1) & (ns - 1);
		sl[j] = *o;
	}
	free(b->slots);
	b->slots = sl;
	b->nslots = ns;
	return 0;
}

int fts_batch_intern(struct fts_batch *b, const char *word, size_t len, uint32_t *wi)
{
	int rc;
	if (len == 0 || len > FTS_WORD_MAX)
		return PROTO_E_ARG;
	if ((b->nwords + 1) * 2 > b->nslots && (rc = rehash(b)))
		return rc;
	uint32_t h = store_hash32(word, len);
	size_t j = h & (b->nslots - 1);
	size_t inl = len < FTS_SLOT_HEAD ? len : FTS_SLOT_HEAD;
	for (;; j = (j + 1) & (b->nslots - 1)) {
		const struct fts_slot *sl = &b->slots[j];
		if (!sl->wi)
			break;
		if (sl->hash != h || sl->len != len || memcmp(sl->head, word, inl) != 0)
			continue;
		if (len > FTS_SLOT_HEAD &&
		    memcmp(b->arena + b->words[sl->wi - 1].off, word, len) != 0)
			continue;
		*wi = sl->wi - 1;
		return 0;
	}
	if ((rc = store_grow((void **)&b->words, &b->words_cap, b->nwords + 1, sizeof *b->words)) ||
	    (rc = store_grow((void **)&b->arena, &b->arena_cap, b->arena_len + len + 1, 1)))
		return rc;
	uint32_t w = (uint32_t)b->nwords++;
	b->words[w].off = (uint32_t)b->arena_len;
	b->words[w].len = (uint32_t)len;
	b->words[w].n = 0;
	b->words[w].last = 0;
	memcpy(b->arena + b->arena_len, word, len);
	b->arena[b->arena_len + len] = 0;
	b->arena_len += len + 1;
	slot_set(&b->slots[j], h, w, word, len);
	*wi = w;
	return 0;
}

static int post(struct fts_batch *b, uint32_t wi, uint64_t rk, unsigned tf, uint32_t dl,
                uint8_t next)
{
	int rc = store_grow((void **)&b->ents, &b->ents_cap, b->nents + 1, sizeof *b->ents);
	if (rc)
		return rc;
	struct fts_ent *e = &b->ents[b->nents++];
	e->word = wi;
	e->rk = rk;
	e->tf = (uint8_t)tf;
	e->dl = dl;
	e->next = next;
	b->words[wi].n++;
	b->words[wi].last = (uint32_t)b->nents;
	b->words[wi].last_rk = rk;
	return 0;
}

int fts_batch_post(struct fts_batch *b, uint32_t wi, uint64_t rk, uint32_t dl, bool marked,
                   uint8_t next)
{
	struct fts_word *fw = &b->words[wi];
	uint8_t mark = marked ? FTS_TF_MARKED : 0;
	if (fw->last && fw->last_rk == rk) {
		struct fts_ent *e = &b->ents[fw->last - 1];
		if ((e->tf & FTS_TF_COUNT) < FTS_TF_COUNT)
			e->tf++;
		e->tf |= mark;
		e->next |= next;
		return 0;
	}
	return post(b, wi, rk, 1u | mark, dl, next);
}

int fts_batch_add(struct fts_batch *b, const char *word, size_t len, uint64_t rk, unsigned tf,
                  uint32_t dl)
{
	uint32_t wi;
	if (len == 0 || len > FTS_WORD_MAX)
		return 0;
	int rc = fts_batch_intern(b, word, len, &wi);
	return rc ? rc : post(b, wi, rk, tf > 255 ? 255 : tf, dl, 0);
}

void fts_batch_reset(struct fts_batch *b)
{
	if (b->slots)
		memset(b->slots, 0, b->nslots * sizeof *b->slots);
	b->arena_len = b->nwords = b->nents = 0;
	b->gen++;
}

void fts_batch_dispose(struct fts_batch *b)
{
	free(b->arena);
	free(b->slots);
	free(b->words);
	free(b->ents);
	memset(b, 0, sizeof *b);
}

/* Working memory of one apply. */
struct apply {
	MDB_txn *txn;
	struct store *s;
	MDB_cursor *c;
	struct fts_post *old;       /* a decoded block */
	struct fts_post *merged;    /* block + new postings */
	size_t merged_cap;
	uint8_t *out;               /* encoded block */
	struct fts_post *tail;      /* a decoded tail, FTS_TAIL_POSTS entries */
	struct fts_post *tmerged;   /* tail + new postings */
	size_t tmerged_cap;
	uint8_t tval[8 + FTS_TAIL_MAX];   /* encoded tail value */
	bool replace;               /* the batch's replace */
};

/* Read the block at the cursor's key if it belongs to the word. */
static int block_at(struct apply *a, const MDB_val *k, const MDB_val *v, const char *w,
                    size_t wl, uint64_t *first, uint64_t *df, size_t *n, bool *ok)
{
	*ok = false;
	if (k->mv_size != wl + 9 || memcmp(k->mv_data, w, wl) != 0 ||
	    ((const uint8_t *)k->mv_data)[wl] != 0)
		return 0;
	*first = store_get64((const uint8_t *)k->mv_data + wl + 1);
	int rc = fts_block_decode(v->mv_data, v->mv_size, *first, false, df, a->old,
	                          FTS_BLOCK_POSTS, n);
	if (rc == 0)
		*ok = true;
	return rc;
}

/* Encode merged[0..n) as blocks and put them; the last one gets df. */
static int write_blocks(struct apply *a, const char *w, size_t wl, const struct fts_post *p,
                        size_t n, uint64_t last_df)
{
	uint8_t key[FTS_KEY_MAX];
	size_t i = 0;
	while (i < n) {
		/* how many postings fit; the header is sized for the largest df */
		size_t len = 10, j = i;
		while (j < n) {
			size_t pl = post_len(&p[j], j > i ? &p[j - 1] : NULL);
			if (j > i && len + pl > FTS_BLOCK_MAX)
				break;
			len += pl;
			j++;
		}
		size_t o = block_encode(a->out, p + i, j - i, j == n ? last_df : 0);
		fts_key_make(key, w, wl, p[i].rk);
		MDB_val k = { wl + 9, key }, v = { o, a->out };
		int rc = store_lmdb_rc(mdb_cursor_put(a->c, &k, &v, 0));
		if (rc)
			return rc;
		i = j;
	}
	return 0;
}

/*
 * Merge the postings np[0..m) (sorted, unique) of word w into its blocks.
 * Blocks are visited in rowkey order; each visited block is decoded,
 * merged with the new postings below the next block's first rowkey, and
 * rewritten (split when it outgrows FTS_BLOCK_MAX).
 */
static int apply_word(struct apply *a, const char *w, size_t wl, const struct fts_post *np,
                      size_t m)
{
	uint8_t key[FTS_KEY_MAX];
	MDB_val k, v;
	int rc;
	uint64_t last_first = 0, df = 0, added = 0;
	bool have_last = false, wrote_last = false;

	/* the last block: its df and where the common (append) case goes */
	fts_key_make(key, w, wl, UINT64_MAX);
	k.mv_size = wl + 9;
	k.mv_data = key;
	rc = store_cursor_below(a->c, &k, &v);
	if (rc == 0 && k.mv_size == wl + 9 && memcmp(k.mv_data, w, wl) == 0 &&
	    ((uint8_t *)k.mv_data)[wl] == 0) {
		const uint8_t *vp = v.mv_data;
		uint64_t d;
		if (!fts_varint_get(vp, vp + v.mv_size, &d))
			return STORE_E_CORRUPT;
		df = d;
		last_first = store_get64((const uint8_t *)k.mv_data + wl + 1);
		have_last = true;
	} else if (rc && rc != MDB_NOTFOUND) {
		return rc;
	}

	size_t i = 0;
	while (i < m) {
		uint64_t first = 0, bdf;
		size_t bn = 0;
		bool have = false, is_last = false;
		uint64_t next = UINT64_MAX;    /* first rowkey of the following block */
		if (!have_last) {
			is_last = true;
		} else if (np[i].rk >= last_first) {
			fts_key_make(key, w, wl, last_first);
			k.mv_size = wl + 9;
			k.mv_data = key;
			if ((rc = store_lmdb_rc(mdb_cursor_get(a->c, &k, &v, MDB_SET_KEY))))
				return rc;
			if ((rc = block_at(a, &k, &v, w, wl, &first, &bdf, &bn, &have)))
				return rc;
			if (!have)
				return STORE_E_CORRUPT;
			is_last = true;
		} else {
			/* the block with the largest first rowkey <= np[i].rk, else the
			 * word's first block (whose first rowkey will then move down) */
			fts_key_make(key, w, wl, np[i].rk);
			k.mv_size = wl + 9;
			k.mv_data = key;
			rc = store_lmdb_rc(mdb_cursor_get(a->c, &k, &v, MDB_SET_RANGE));
			if (rc)
				return rc == MDB_NOTFOUND ? STORE_E_CORRUPT : rc;
			uint64_t kfirst = 0;
			bool same = k.mv_size == wl + 9 && memcmp(k.mv_data, w, wl) == 0 &&
			            ((uint8_t *)k.mv_data)[wl] == 0;
			if (same)
				kfirst = store_get64((const uint8_t *)k.mv_data + wl + 1);
			if (!same || kfirst > np[i].rk) {
				MDB_val pk, pv;
				rc = store_lmdb_rc(mdb_cursor_get(a->c, &pk, &pv, MDB_PREV));
				if (rc && rc != MDB_NOTFOUND)
					return rc;
				if (rc == 0 && (rc = block_at(a, &pk, &pv, w, wl, &first, &bdf, &bn,
				                              &have)))
					return rc;
				if (have) {
					next = same ? kfirst : UINT64_MAX;
				} else {
					/* below the word's first block: that block is at k */
					if (!same)
						return STORE_E_CORRUPT;
					fts_key_make(key, w, wl, kfirst);
					k.mv_size = wl + 9;
					k.mv_data = key;
					rc = store_lmdb_rc(mdb_cursor_get(a->c, &k, &v, MDB_SET_KEY));
					if (rc)
						return rc;
					if ((rc = block_at(a, &k, &v, w, wl, &first, &bdf, &bn, &have)))
						return rc;
					if (!have)
						return STORE_E_CORRUPT;
				}
			} else {
				if ((rc = block_at(a, &k, &v, w, wl, &first, &bdf, &bn, &have)))
					return rc;
			}
			if (have && next == UINT64_MAX) {
				/* find the following block's first rowkey */
				fts_key_make(key, w, wl, first);
				k.mv_size = wl + 9;
				k.mv_data = key;
				if ((rc = store_lmdb_rc(mdb_cursor_get(a->c, &k, &v, MDB_SET_KEY))))
					return rc;
				rc = store_lmdb_rc(mdb_cursor_get(a->c, &k, &v, MDB_NEXT));
				if (rc == 0 && k.mv_size == wl + 9 && memcmp(k.mv_data, w, wl) == 0 &&
				    ((uint8_t *)k.mv_data)[wl] == 0)
					next = store_get64((const uint8_t *)k.mv_data + wl + 1);
				else if (rc && rc != MDB_NOTFOUND)
					return rc;
			}
			is_last = first == last_first;
		}
		if (is_last)
			next = UINT64_MAX;
		/* new postings that belong here */
		size_t j = i;
		while (j < m && np[j].rk < next)
			j++;
		size_t need = bn + (j - i);
		if (need > a->merged_cap) {
			struct fts_post *nm = realloc(a->merged, need * sizeof *nm);
			if (!nm)
				return -ENOMEM;
			a->merged = nm;
			a->merged_cap = need;
		}
		size_t o = merge_posts(a->merged, a->old, bn, np + i, j - i, a->replace);
		added += o - bn;
		if (have && a->merged[0].rk != first) {
			fts_key_make(key, w, wl, first);
			k.mv_size = wl + 9;
			k.mv_data = key;
			if ((rc = store_lmdb_rc(mdb_del(a->txn, a->s->fts, &k, NULL))))
				return rc;
		}
		if ((rc = write_blocks(a, w, wl, a->merged, o, is_last ? df + added : 0)))
			return rc;
		if (is_last)
			wrote_last = true;
		if (!have_last) {
			have_last = true;
			last_first = a->merged[0].rk;   /* only matters for the loop's end */
		}
		i = j;
	}
	if (!wrote_last && added) {
		/* only middle blocks changed: bump the df in the last block */
		fts_key_make(key, w, wl, last_first);
		k.mv_size = wl + 9;
		k.mv_data = key;
		if ((rc = store_lmdb_rc(mdb_cursor_get(a->c, &k, &v, MDB_SET_KEY))))
			return rc;
		uint64_t d;
		size_t hl = fts_varint_get(v.mv_data, (const uint8_t *)v.mv_data + v.mv_size, &d);
		if (!hl)
			return STORE_E_CORRUPT;
		size_t o = varint_put(a->out, df + added);
		memcpy(a->out + o, (const uint8_t *)v.mv_data + hl, v.mv_size - hl);
		MDB_val nv = { o + v.mv_size - hl, a->out };
		if ((rc = store_lmdb_rc(mdb_cursor_put(a->c, &k, &nv, 0))))
			return rc;
	}
	return 0;
}

/* The word's last block: its last rowkey and df (*have false: none). */
static int last_block(struct apply *a, const char *w, size_t wl, bool *have, uint64_t *last,
                      uint64_t *df)
{
	uint8_t key[FTS_KEY_MAX];
	uint64_t first;
	size_t n;
	fts_key_make(key, w, wl, UINT64_MAX);
	MDB_val k = { wl + 9, key }, v;
	int rc = store_cursor_below(a->c, &k, &v);
	*have = false;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc || (rc = block_at(a, &k, &v, w, wl, &first, df, &n, have)) || !*have)
		return rc;
	*last = a->old[n - 1].rk;
	return 0;
}

static int put_tail(struct apply *a, const char *w, size_t wl, const struct fts_post *p,
                    size_t n, uint64_t df)
{
	store_be64(a->tval, p[0].rk);
	MDB_val k = { wl, (void *)w }, v = { 8 + block_encode(a->tval + 8, p, n, df), a->tval };
	return store_lmdb_rc(mdb_put(a->txn, a->s->ftst, &k, &v, 0));
}

/*
 * Add the postings np[0..m) (sorted, unique) of word w: into its tail when
 * they all come after its last block and the tail stays within
 * FTS_TAIL_MAX; otherwise the tail (if any) and np go into the blocks.
 */
static int apply_word_tail(struct apply *a, const char *w, size_t wl, const struct fts_post *np,
                           size_t m)
{
	MDB_val k = { wl, (void *)w }, v;
	uint64_t df, last = 0;
	size_t tn;
	bool have;
	int rc = store_lmdb_rc(mdb_get(a->txn, a->s->ftst, &k, &v));
	if (rc == MDB_NOTFOUND) {
		if ((rc = last_block(a, w, wl, &have, &last, &df)))
			return rc;
		if (!have)
			df = 0;
		if ((!have || np[0].rk > last) && block_len(np, m, df + m) <= FTS_TAIL_MAX)
			return put_tail(a, w, wl, np, m, df + m);
		return apply_word(a, w, wl, np, m);
	}
	if (rc)
		return rc;
	if (v.mv_size < 9 ||
	    (rc = fts_block_decode((const uint8_t *)v.mv_data + 8, v.mv_size - 8,
	                           store_get64(v.mv_data), false, &df, a->tail, FTS_TAIL_POSTS,
	                           &tn)))
		return rc ? rc : STORE_E_CORRUPT;
	if (tn + m > a->tmerged_cap) {
		struct fts_post *t = realloc(a->tmerged, (tn + m) * sizeof *t);
		if (!t)
			return -ENOMEM;
		a->tmerged = t;
		a->tmerged_cap = tn + m;
	}
	size_t o = merge_posts(a->tmerged, a->tail, tn, np, m, a->replace);
	df += o - tn;
	/* the tail's first rowkey is after every block: so are np's */
	if (np[0].rk >= a->tail[0].rk && block_len(a->tmerged, o, df) <= FTS_TAIL_MAX)
		return put_tail(a, w, wl, a->tmerged, o, df);
	/* full, or older postings: all of it into the blocks, whose last df
	 * (stale while the tail existed) plus what they gain is the word's df */
	if ((rc = store_lmdb_rc(mdb_del(a->txn, a->s->ftst, &k, NULL))))
		return rc;
	return apply_word(a, w, wl, a->tmerged, o);
}

struct word_order {
	const char *arena;
	const struct fts_word *words;
};

static int cmp_post(const void *x, const void *y)
{
	const struct fts_post *a = x, *b = y;
	return a->rk < b->rk ? -1 : a->rk > b->rk;
}

/* qsort has no context argument in C11: sort indexes by a key copy */
struct word_key {
	const char *w;
	uint32_t len, idx;
};

static int cmp_word_key(const void *x, const void *y)
{
	const struct word_key *a = x, *b = y;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->w, b->w, n);
	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

int fts_batch_apply(MDB_txn *txn, struct store *s, struct fts_batch *b)
{
	int rc = 0;
	struct apply a = { .txn = txn, .s = s, .replace = b->replace };
	struct word_key *wk = NULL;
	struct fts_post *np = NULL;
	if (b->nents == 0)
		goto out;
	wk = malloc(b->nwords * sizeof *wk);
	np = malloc(b->nents * sizeof *np);
	a.old = malloc(FTS_BLOCK_POSTS * sizeof *a.old);
	a.out = malloc(FTS_BLOCK_MAX + 32);
	a.tail = malloc(FTS_TAIL_POSTS * sizeof *a.tail);
	if (!wk || !np || !a.old || !a.out || !a.tail) {
		rc = -ENOMEM;
		goto out;
	}
	/* group the postings by word (counting sort, stable: batch order) */
	uint32_t pos = 0;
	for (size_t i = 0; i < b->nwords; i++) {
		b->words[i].start = pos;
		pos += b->words[i].n;
		wk[i].w = b->arena + b->words[i].off;
		wk[i].len = b->words[i].len;
		wk[i].idx = (uint32_t)i;
	}
	for (size_t i = 0; i < b->nents; i++) {
		const struct fts_ent *e = &b->ents[i];
		struct fts_post *p = &np[b->words[e->word].start++];
		p->rk = e->rk;
		p->tf = e->tf;
		p->dl = e->dl;
		p->next = e->next;
	}
	/* word order = key order: neighbouring words share pages */
	if (b->nwords)
		qsort(wk, b->nwords, sizeof *wk, cmp_word_key);
	if ((rc = store_lmdb_rc(mdb_cursor_open(txn, s->fts, &a.c))))
		goto out;
	for (size_t i = 0; i < b->nwords; i++) {
		const struct fts_word *fw = &b->words[wk[i].idx];
		if (fw->n == 0)
			continue;   /* interned but never posted */
		struct fts_post *p = np + fw->start - fw->n;
		size_t m = fw->n, u = 0;
		bool sorted = true;
		for (size_t x = 1; x < m && sorted; x++)
			sorted = p[x - 1].rk < p[x].rk;
		if (!sorted) {
			qsort(p, m, sizeof *p, cmp_post);
			for (size_t x = 0; x < m; x++)      /* drop duplicates */
				if (u == 0 || p[u - 1].rk != p[x].rk)
					p[u++] = p[x];
			m = u;
		}
		if ((rc = apply_word_tail(&a, wk[i].w, wk[i].len, p, m)))
			goto out;
		store_trim_step(s, 1);
	}
out:
	if (a.c)
		mdb_cursor_close(a.c);
	free(a.old);
	free(a.merged);
	free(a.out);
	free(a.tail);
	free(a.tmerged);
	free(wk);
	free(np);
	fts_batch_reset(b);
	return rc;
}
