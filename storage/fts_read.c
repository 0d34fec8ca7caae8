/*
 * fts_read.c - reading the full-text index (layout in fts_int.h): the block
 * decoder, the cursor over one term's postings, and the enumeration of the
 * terms a prefix begins.  Blocks come from the store, which a damaged disk
 * can corrupt: the decoder checks every byte it reads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/fts_int.h"

/* ------------------------------------------------------------ decoding */

int fts_block_decode(const uint8_t *p, size_t len, uint64_t first, bool legacy, uint64_t *df,
                     struct fts_post *posts, size_t cap, size_t *n)
{
	const uint8_t *end = p + len;
	uint64_t v, rk = first, d;
	size_t k = fts_varint_get(p, end, &d), cnt = 0;
	if (!k)
		return STORE_E_CORRUPT;
	p += k;
	while (p < end) {
		if (cnt) {
			if (!(k = fts_varint_get(p, end, &v)) || v == 0 || rk + v < rk)
				return STORE_E_CORRUPT;
			rk += v;
			p += k;
		}
		if (p >= end || cnt == cap)
			return STORE_E_CORRUPT;
		uint8_t tf = *p++;
		if (!(k = fts_varint_get(p, end, &v)) || v > UINT32_MAX)
			return STORE_E_CORRUPT;
		p += k;
		uint8_t next = 0xff;
		if (!legacy) {
			if (p >= end)
				return STORE_E_CORRUPT;
			next = *p++;
		}
		posts[cnt].rk = rk;
		posts[cnt].tf = tf;
		posts[cnt].dl = (uint32_t)v;
		posts[cnt].next = next;
		cnt++;
	}
	if (cnt == 0)
		return STORE_E_CORRUPT;
	*df = d;
	*n = cnt;
	return 0;
}

/* ------------------------------------------------------------ reader */

static bool key_is_word(const struct fts_cur *fc, const MDB_val *k)
{
	return k->mv_size == fc->wl + 9 && memcmp(k->mv_data, fc->key, fc->wl + 1) == 0;
}

static int load(struct fts_cur *fc, const MDB_val *k, const MDB_val *v)
{
	uint64_t df;
	fc->loaded = false;
	if (!fc->p && !(fc->p = malloc(FTS_BLOCK_POSTS * sizeof *fc->p)))
		return -ENOMEM;
	fc->first = store_get64((const uint8_t *)k->mv_data + fc->wl + 1);
	int rc = fts_block_decode(v->mv_data, v->mv_size, fc->first, fc->legacy, &df, fc->p,
	                          FTS_BLOCK_POSTS, &fc->n);
	fc->loaded = rc == 0;
	return rc;
}

/* Position on the word's last block and load it (not loaded: none). */
static int load_last(struct fts_cur *fc)
{
	store_be64(fc->key + fc->wl + 1, UINT64_MAX);
	MDB_val k = { fc->wl + 9, fc->key }, v;
	int rc = store_cursor_below(fc->c, &k, &v);
	fc->loaded = false;
	if (rc == MDB_NOTFOUND || (rc == 0 && !key_is_word(fc, &k)))
		return 0;
	return rc ? rc : load(fc, &k, &v);
}

int fts_cur_open(struct fts_cur *fc, MDB_txn *txn, struct store *s, const char *word,
                 size_t len, bool legacy)
{
	memset(fc, 0, sizeof *fc);
	fc->legacy = legacy;
	if (len == 0 || len > FTS_WORD_MAX)
		return PROTO_E_ARG;
	int rc = store_lmdb_rc(mdb_cursor_open(txn, s->fts, &fc->c));
	if (rc)
		return rc;
	fc->wl = len;
	fts_key_make(fc->key, word, len, UINT64_MAX);
	MDB_val k = { len, (void *)word }, v;
	if (s->has_ftst) {   /* the tail, if any, holds the df */
		rc = store_lmdb_rc(mdb_get(txn, s->ftst, &k, &v));
		if (rc == 0) {
			if (v.mv_size < 9)
				return STORE_E_CORRUPT;
			if (!(fc->t = malloc(FTS_TAIL_POSTS * sizeof *fc->t)))
				return -ENOMEM;
			return fts_block_decode((const uint8_t *)v.mv_data + 8, v.mv_size - 8,
			                        store_get64(v.mv_data), legacy, &fc->df, fc->t,
			                        FTS_TAIL_POSTS, &fc->tn);
		}
		if (rc != MDB_NOTFOUND)
			return rc;
	}
	k.mv_size = len + 9;
	k.mv_data = fc->key;
	rc = store_cursor_below(fc->c, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (!key_is_word(fc, &k))
		return 0;
	uint64_t df;
	size_t hl = fts_varint_get(v.mv_data, (const uint8_t *)v.mv_data + v.mv_size, &df);
	if (!hl)
		return STORE_E_CORRUPT;
	fc->df = df;
	return 0;
}

void fts_cur_close(struct fts_cur *fc)
{
	if (fc->c)
		mdb_cursor_close(fc->c);
	free(fc->p);
	free(fc->t);
	memset(fc, 0, sizeof *fc);
}

/* Postings run: the blocks in rowkey order, then the tail. */
int fts_cur_start(struct fts_cur *fc, bool rev)
{
	fc->rev = rev;
	fc->loaded = false;
	fc->n = 0;
	fc->in_tail = rev && fc->tn;
	fc->pos = fc->in_tail ? fc->tn : 0;
	if (fc->in_tail)
		return 0;
	if (rev) {
		int rc = load_last(fc);
		fc->pos = fc->n;
		return rc;
	}
	store_be64(fc->key + fc->wl + 1, 0);
	MDB_val k = { fc->wl + 9, fc->key }, v;
	int rc = store_lmdb_rc(mdb_cursor_get(fc->c, &k, &v, MDB_SET_RANGE));
	if (rc == MDB_NOTFOUND || (rc == 0 && !key_is_word(fc, &k))) {
		fc->in_tail = fc->tn > 0;   /* no blocks: the tail is all */
		return 0;
	}
	return rc ? rc : load(fc, &k, &v);
}

int fts_cur_step(struct fts_cur *fc, const struct fts_post **out)
{
	for (;;) {
		if (fc->in_tail) {
			if (fc->rev ? fc->pos > 0 : fc->pos < fc->tn) {
				*out = fc->rev ? &fc->t[--fc->pos] : &fc->t[fc->pos++];
				return 0;
			}
			if (!fc->rev)
				return MDB_NOTFOUND;
			fc->in_tail = false;   /* backwards: on to the blocks */
			int rc = load_last(fc);
			if (rc)
				return rc;
			fc->pos = fc->n;
		}
		if (!fc->loaded)
			return MDB_NOTFOUND;
		if (fc->rev ? fc->pos > 0 : fc->pos < fc->n) {
			*out = fc->rev ? &fc->p[--fc->pos] : &fc->p[fc->pos++];
			return 0;
		}
		MDB_val k, v;
		int rc = store_lmdb_rc(mdb_cursor_get(fc->c, &k, &v, fc->rev ? MDB_PREV : MDB_NEXT));
		if (rc == 0 && !key_is_word(fc, &k))
			rc = MDB_NOTFOUND;
		if (rc == MDB_NOTFOUND && !fc->rev && fc->tn) {
			fc->in_tail = true;   /* forwards: the tail comes last */
			fc->pos = 0;
			continue;
		}
		if (rc == 0)
			rc = load(fc, &k, &v);
		if (rc) {
			fc->loaded = false;
			return rc;
		}
		fc->pos = fc->rev ? fc->n : 0;
	}
}

static const struct fts_post *posts_find(const struct fts_post *p, size_t n, uint64_t rk)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p[mid].rk < rk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && p[lo].rk == rk ? &p[lo] : NULL;
}

int fts_cur_find(struct fts_cur *fc, uint64_t rk, const struct fts_post **out)
{
	*out = NULL;
	if (fc->df == 0)
		return 0;
	if (fc->tn && rk >= fc->t[0].rk) {   /* the tail follows every block */
		*out = posts_find(fc->t, fc->tn, rk);
		return 0;
	}
	if (fc->loaded && rk >= fc->p[0].rk && rk <= fc->p[fc->n - 1].rk) {
		*out = posts_find(fc->p, fc->n, rk);
		return 0;
	}
	/* the block with the largest first rowkey <= rk */
	store_be64(fc->key + fc->wl + 1, rk);
	MDB_val k = { fc->wl + 9, fc->key }, v;
	int rc = store_lmdb_rc(mdb_cursor_get(fc->c, &k, &v, MDB_SET_RANGE));
	if (rc == 0 && key_is_word(fc, &k) &&
	    store_get64((const uint8_t *)k.mv_data + fc->wl + 1) == rk) {
		if (!fc->loaded || fc->first != rk)
			if ((rc = load(fc, &k, &v)))
				return rc;
		*out = &fc->p[0];
		return 0;
	}
	if (rc == 0)
		rc = store_lmdb_rc(mdb_cursor_get(fc->c, &k, &v, MDB_PREV));
	else if (rc == MDB_NOTFOUND)
		rc = store_lmdb_rc(mdb_cursor_get(fc->c, &k, &v, MDB_LAST));
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (!key_is_word(fc, &k))
		return 0;
	uint64_t first = store_get64((const uint8_t *)k.mv_data + fc->wl + 1);
	if (!fc->loaded || fc->first != first)
		if ((rc = load(fc, &k, &v)))
			return rc;
	*out = posts_find(fc->p, fc->n, rk);
	return 0;
}

/* ------------------------------------------------------------ prefixes */

/* The next word at or after key[0..kl) in a DBI of `word | 0 | rk` keys
 * (blocks) or of bare words (tails), given the cursor; *wl 0 at the end. */
static int next_word(MDB_cursor *c, bool blocks, const uint8_t *key, size_t kl,
                     const uint8_t **w, size_t *wl)
{
	MDB_val k = { kl, (void *)key }, v;
	int rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_RANGE));
	*wl = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (blocks) {
		if (k.mv_size < 10 || k.mv_size > FTS_KEY_MAX || ((const uint8_t *)k.mv_data)[k.mv_size - 9])
			return STORE_E_CORRUPT;
		*wl = k.mv_size - 9;
	} else {
		if (k.mv_size == 0 || k.mv_size > FTS_WORD_MAX)
			return STORE_E_CORRUPT;
		*wl = k.mv_size;
	}
	*w = k.mv_data;
	return 0;
}

static bool has_prefix(const uint8_t *w, size_t wl, const char *p, size_t pl)
{
	return wl >= pl && memcmp(w, p, pl) == 0;
}

int fts_prefix_words(MDB_txn *txn, struct store *s, const char *prefix, size_t len,
                     int (*cb)(const char *word, size_t len, void *ctx), void *ctx)
{
	MDB_cursor *c[2] = { NULL, NULL };
	int rc;
	if (len == 0 || len > FTS_WORD_MAX)
		return PROTO_E_ARG;
	if ((rc = store_lmdb_rc(mdb_cursor_open(txn, s->fts, &c[0]))))
		return rc;
	if (s->has_ftst && (rc = store_lmdb_rc(mdb_cursor_open(txn, s->ftst, &c[1]))))
		goto out;
	/* two sorted streams of words, merged: seek each past the word it
	 * last gave (a block key's word is followed by 0x00: seek to word 0x01) */
	uint8_t key[2][FTS_KEY_MAX + 1];
	size_t kl[2];
	const uint8_t *w[2];
	size_t wl[2] = { 0, 0 };
	for (int i = 0; i < 2; i++) {
		memcpy(key[i], prefix, len);
		kl[i] = len;
		if (c[i] && (rc = next_word(c[i], i == 0, key[i], kl[i], &w[i], &wl[i])))
			goto out;
		if (wl[i] && !has_prefix(w[i], wl[i], prefix, len))
			wl[i] = 0;
	}
	while (wl[0] || wl[1]) {
		int pick;
		if (!wl[1]) {
			pick = 0;
		} else if (!wl[0]) {
			pick = 1;
		} else {
			int cmp = memcmp(w[0], w[1], wl[0] < wl[1] ? wl[0] : wl[1]);
			pick = cmp < 0 || (cmp == 0 && wl[0] <= wl[1]) ? 0 : 1;
		}
		char word[FTS_WORD_MAX + 1];
		size_t n = wl[pick];
		memcpy(word, w[pick], n);
		word[n] = 0;
		if ((rc = cb(word, n, ctx)))
			goto out;
		/* step every stream that stands on this word */
		for (int i = 0; i < 2; i++) {
			if (!wl[i] || wl[i] != n || memcmp(w[i], word, n) != 0)
				continue;
			memcpy(key[i], word, n);
			key[i][n] = i == 0 ? 1 : 0;    /* tails: the word itself, then one more byte */
			kl[i] = n + 1;
			if ((rc = next_word(c[i], i == 0, key[i], kl[i], &w[i], &wl[i])))
				goto out;
			if (wl[i] && !has_prefix(w[i], wl[i], prefix, len))
				wl[i] = 0;
		}
	}
out:
	for (int i = 0; i < 2; i++)
		if (c[i])
			mdb_cursor_close(c[i]);
	return rc;
}
