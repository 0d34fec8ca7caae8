/*
 * read.c - lookups in a read snapshot: records by id or prefix, chains,
 * references, feeds, forks and alliances.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store_int.h"

int store_rec_fill(MDB_txn *txn, struct store *s, uint64_t rowkey, const MDB_val *v,
                   struct store_record *out)
{
	if (v->mv_size < REC_HDR)
		return STORE_E_CORRUPT;
	const uint8_t *p = v->mv_data;
	struct store_record r;
	memset(&r, 0, sizeof r);
	r.env = p + REC_HDR;
	r.env_len = v->mv_size - REC_HDR;
	r.rowkey = rowkey;
	r.superseded = p[0] & REC_F_SUPERSEDED;
	r.retracted = p[0] & REC_F_RETRACTED;
	r.withdrawn = p[0] & REC_F_WITHDRAWN;
	proto_record_id(r.id, r.env, r.env_len);
	memcpy(r.newest, r.id, PROTO_ID_BYTES);
	if (r.superseded) {
		uint8_t kb[8];
		store_be64(kb, store_get64(p + 6));
		MDB_val k = { 8, kb }, cv;
		int rc = store_lmdb_rc(mdb_get(txn, s->chain, &k, &cv));
		if (rc == 0 && cv.mv_size == CHAIN_VAL)
			memcpy(r.newest, (const uint8_t *)cv.mv_data + 8, PROTO_ID_BYTES);
		else if (rc && rc != MDB_NOTFOUND)
			return rc;
	}
	*out = r;
	return 0;
}

static int get_rk(struct store_txn *t, uint64_t rk, struct store_record *out)
{
	MDB_val v;
	int rc = store_rec_read(t->txn, t->s, rk, &v);
	if (rc)
		return rc;
	return store_rec_fill(t->txn, t->s, rk, &v, out);
}

int store_get(struct store_txn *t, const uint8_t id[PROTO_ID_BYTES], struct store_record *out)
{
	if (!t || !id || !out)
		return PROTO_E_ARG;
	uint64_t rk;
	int rc = store_id_rowkey(t->txn, t->s, id, &rk);
	if (!rc)
		rc = get_rk(t, rk, out);
	return store_map_err(rc);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int store_resolve(struct store_txn *t, const char *hex, uint8_t id_out[PROTO_ID_BYTES])
{
	if (!t || !hex || !id_out)
		return PROTO_E_ARG;
	size_t n = strlen(hex);
	if (n < 4 || n > PROTO_ID_HEX)
		return PROTO_E_ARG;
	uint8_t pre[PROTO_ID_BYTES] = { 0 };
	for (size_t i = 0; i < n; i++) {
		int v = hexval(hex[i]);
		if (v < 0)
			return PROTO_E_ARG;
		pre[i / 2] |= (uint8_t)(i % 2 ? v : v << 4);
	}
	size_t full = n / 2;
	bool half = n % 2;
	/* Walk each level of the index from the prefix (as much of it as the
	 * keys hold) and take each entry whose whole id matches; stop at a
	 * second one.  An id is in one level only. */
	MDB_dbi lv[ID_LEVELS];
	size_t nlv = 1;
	size_t klen = ID_PREFIX;
	if (t->s->has_idp) {
		nlv = store_id_levels(t->s, lv);
	} else {
		lv[0] = t->s->ids;
		klen = PROTO_ID_BYTES;
	}
	size_t kfull = full < klen ? full : klen;
	bool khalf = half && full < klen;
	int found = 0, rc = 0;
	uint8_t id[PROTO_ID_BYTES], cand[PROTO_ID_BYTES];
	for (size_t l = 0; l < nlv && found < 2; l++) {
		MDB_cursor *c;
		if ((rc = store_lmdb_rc(mdb_cursor_open(t->txn, lv[l], &c))))
			return store_map_err(rc);
		MDB_val k = { kfull + khalf, pre }, v;
		rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_RANGE));
		while (rc == 0) {
			const uint8_t *kp = k.mv_data;
			if (k.mv_size != klen || v.mv_size != 8) {
				rc = STORE_E_CORRUPT;
				break;
			}
			if (memcmp(kp, pre, kfull) != 0 || (khalf && (kp[kfull] & 0xf0) != pre[kfull]))
				break;   /* past every key with this prefix */
			if (klen == PROTO_ID_BYTES)
				memcpy(cand, kp, PROTO_ID_BYTES);
			else if ((rc = store_rowkey_id(t->txn, t->s, store_get64(v.mv_data), cand)))
				break;
			if (memcmp(cand, pre, full) == 0 && (!half || (cand[full] & 0xf0) == pre[full])) {
				if (++found > 1)
					break;
				memcpy(id, cand, PROTO_ID_BYTES);
			}
			rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT));
		}
		mdb_cursor_close(c);
		if (rc && rc != MDB_NOTFOUND)
			return store_map_err(rc);
	}
	if (found == 0)
		return STORE_E_NOTFOUND;
	if (found > 1)
		return STORE_E_AMBIGUOUS;
	memcpy(id_out, id, PROTO_ID_BYTES);
	return 0;
}

/* Rowkeys of the ix postings of one key, in order.  *out malloc()ed. */
static int postings(MDB_txn *txn, struct store *s, const uint8_t *key, size_t klen,
                    uint64_t **out, size_t *n_out)
{
	MDB_cursor *c;
	int rc = store_lmdb_rc(mdb_cursor_open(txn, s->ix, &c));
	if (rc)
		return rc;
	uint64_t *a = NULL;
	size_t n = 0, cap = 0;
	MDB_val k = { klen, (void *)key }, v;
	rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_KEY));
	while (rc == 0) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			uint64_t *na = realloc(a, cap * sizeof *a);
			if (!na) {
				rc = -ENOMEM;
				break;
			}
			a = na;
		}
		a[n++] = store_get64(v.mv_data);
		rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP));
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc) {
		free(a);
		return rc;
	}
	*out = a;
	*n_out = n;
	return 0;
}

static int chain_of(struct store_txn *t, uint64_t rk, uint64_t *root, uint64_t **vers,
                    size_t *nv, uint64_t *retract)
{
	MDB_val v;
	int rc = store_rec_read(t->txn, t->s, rk, &v);
	if (rc)
		return rc;
	*root = store_get64((const uint8_t *)v.mv_data + 6);
	uint8_t kb[9];
	kb[0] = IX_VERSION;
	store_be64(kb + 1, *root);
	if ((rc = postings(t->txn, t->s, kb, 9, vers, nv)))
		return rc;
	if (*nv == 0) {
		free(*vers);
		*vers = malloc(sizeof **vers);
		if (!*vers)
			return -ENOMEM;
		(*vers)[0] = *root;
		*nv = 1;
	}
	*retract = 0;
	MDB_val k = { 8, kb + 1 }, cv;
	rc = store_lmdb_rc(mdb_get(t->txn, t->s->chain, &k, &cv));
	if (rc == 0 && cv.mv_size == CHAIN_VAL)
		*retract = store_get64((const uint8_t *)cv.mv_data + 40);
	else if (rc && rc != MDB_NOTFOUND) {
		free(*vers);
		*vers = NULL;
		return rc;
	}
	return 0;
}

int store_history(struct store_txn *t, const uint8_t id[PROTO_ID_BYTES], store_record_cb cb,
                  void *ctx)
{
	if (!t || !id || !cb)
		return PROTO_E_ARG;
	uint64_t rk, root, retract;
	uint64_t *vers = NULL;
	size_t nv = 0;
	int rc = store_id_rowkey(t->txn, t->s, id, &rk);
	if (rc)
		return store_map_err(rc);
	MDB_val v;
	if ((rc = store_rec_read(t->txn, t->s, rk, &v)))
		return store_map_err(rc);
	if (((const uint8_t *)v.mv_data)[0] & REC_F_FORK) {
		/* fork evidence stands alone */
		struct store_record r;
		if (!(rc = store_rec_fill(t->txn, t->s, rk, &v, &r)))
			rc = cb(&r, ctx);
		return store_map_err(rc);
	}
	if ((rc = chain_of(t, rk, &root, &vers, &nv, &retract)))
		return store_map_err(rc);
	for (size_t i = 0; i <= nv && rc == 0; i++) {
		uint64_t r = i < nv ? vers[i] : retract;
		if (i == nv && !retract)
			break;
		struct store_record rec;
		if (!(rc = get_rk(t, r, &rec)))
			rc = cb(&rec, ctx);
	}
	free(vers);
	return store_map_err(rc);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int store_related(struct store_txn *t, const uint8_t id[PROTO_ID_BYTES], store_record_cb cb,
                  void *ctx)
{
	if (!t || !id || !cb)
		return PROTO_E_ARG;
	uint64_t rk, root, retract;
	uint64_t *vers = NULL, *all = NULL;
	size_t nv = 0, nall = 0;
	int rc = store_id_rowkey(t->txn, t->s, id, &rk);
	if (rc)
		return store_map_err(rc);
	if ((rc = chain_of(t, rk, &root, &vers, &nv, &retract)))
		return store_map_err(rc);
	/* references to any version of the chain count */
	for (size_t i = 0; i < nv && rc == 0; i++) {
		MDB_val v;
		uint8_t kb[1 + PROTO_ID_BYTES];
		kb[0] = IX_REFERS;
		if ((rc = store_rec_read(t->txn, t->s, vers[i], &v)))
			break;
		proto_record_id(kb + 1, (const uint8_t *)v.mv_data + REC_HDR, v.mv_size - REC_HDR);
		uint64_t *p = NULL;
		size_t np = 0;
		if ((rc = postings(t->txn, t->s, kb, sizeof kb, &p, &np)))
			break;
		uint64_t *na = realloc(all, (nall + np + 1) * sizeof *all);
		if (!na) {
			free(p);
			rc = -ENOMEM;
			break;
		}
		all = na;
		if (np)
			memcpy(all + nall, p, np * sizeof *p);
		nall += np;
		free(p);
	}
	if (!rc && nall)
		qsort(all, nall, sizeof *all, cmp_u64);
	for (size_t i = 0; i < nall && rc == 0; i++) {
		if (i > 0 && all[i] == all[i - 1])
			continue;
		struct store_record r;
		if ((rc = get_rk(t, all[i], &r)))
			break;
		if (r.superseded || r.retracted)
			continue;
		rc = cb(&r, ctx);
	}
	free(vers);
	free(all);
	return store_map_err(rc);
}

/* ------------------------------------------------------------------ feeds */

static int head_get(struct store_txn *t, const uint8_t *alliance, const uint8_t *author,
                    uint8_t head[HEAD_VAL])
{
	uint8_t hk[64];
	memcpy(hk, alliance, 32);
	memcpy(hk + 32, author, 32);
	MDB_val k = { 64, hk }, v;
	int rc = store_lmdb_rc(mdb_get(t->txn, t->s->heads, &k, &v));
	if (rc)
		return rc;
	if (v.mv_size != HEAD_VAL)
		return STORE_E_CORRUPT;
	memcpy(head, v.mv_data, HEAD_VAL);
	return 0;
}

int store_feed_head(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                    const uint8_t author[PROTO_KEY_BYTES], uint64_t *seq_out,
                    uint8_t id_out[PROTO_ID_BYTES])
{
	if (!t || !alliance || !author)
		return PROTO_E_ARG;
	uint8_t head[HEAD_VAL];
	int rc = head_get(t, alliance, author, head);
	if (rc == MDB_NOTFOUND) {
		if (seq_out)
			*seq_out = 0;
		if (id_out)
			memset(id_out, 0, PROTO_ID_BYTES);
		return 0;
	}
	if (rc)
		return store_map_err(rc);
	if (seq_out)
		*seq_out = store_get64(head + 4);
	if (id_out)
		memcpy(id_out, head + 12, PROTO_ID_BYTES);
	return 0;
}

int store_heads(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES], store_head_cb cb,
                void *ctx)
{
	if (!t || !alliance || !cb)
		return PROTO_E_ARG;
	MDB_cursor *c;
	int rc = store_lmdb_rc(mdb_cursor_open(t->txn, t->s->heads, &c));
	if (rc)
		return store_map_err(rc);
	MDB_val k = { 32, (void *)alliance }, v;
	rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_RANGE));
	while (rc == 0) {
		if (k.mv_size != 64 || memcmp(k.mv_data, alliance, 32) != 0)
			break;
		if (v.mv_size != HEAD_VAL) {
			rc = STORE_E_CORRUPT;
			break;
		}
		const uint8_t *h = v.mv_data;
		rc = cb((const uint8_t *)k.mv_data + 32, store_get64(h + 4), h + 12, ctx);
		if (rc)
			break;
		rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT));
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	return store_map_err(rc);
}

/* Rowkey of feed entry (alliance, author, seq). */
static int feed_rowkey(struct store_txn *t, const uint8_t *alliance, const uint8_t *author,
                       uint64_t seq, uint64_t *rk)
{
	uint8_t head[HEAD_VAL];
	int rc = head_get(t, alliance, author, head);
	if (rc)
		return rc;
	uint8_t fk[12];
	memcpy(fk, head, 4);
	store_be64(fk + 4, seq);
	MDB_val k = { 12, fk }, v;
	if ((rc = store_lmdb_rc(mdb_get(t->txn, t->s->feeds, &k, &v))))
		return rc;
	if (v.mv_size != 8)
		return STORE_E_CORRUPT;
	*rk = store_get64(v.mv_data);
	return 0;
}

int store_feed_get(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                   const uint8_t author[PROTO_KEY_BYTES], uint64_t seq, struct store_record *out)
{
	if (!t || !alliance || !author || !out)
		return PROTO_E_ARG;
	uint64_t rk;
	int rc = feed_rowkey(t, alliance, author, seq, &rk);
	if (!rc)
		rc = get_rk(t, rk, out);
	return store_map_err(rc);
}

int store_feed_env(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                   const uint8_t author[PROTO_KEY_BYTES], uint64_t seq, const uint8_t **env,
                   size_t *len)
{
	if (!t || !alliance || !author || !env || !len)
		return PROTO_E_ARG;
	uint64_t rk;
	MDB_val v;
	int rc = feed_rowkey(t, alliance, author, seq, &rk);
	if (!rc && !(rc = store_rec_read(t->txn, t->s, rk, &v))) {
		*env = (const uint8_t *)v.mv_data + REC_HDR;
		*len = v.mv_size - REC_HDR;
	}
	return store_map_err(rc);
}

int store_forks(struct store_txn *t, store_fork_cb cb, void *ctx)
{
	if (!t || !cb)
		return PROTO_E_ARG;
	MDB_cursor *c;
	int rc = store_lmdb_rc(mdb_cursor_open(t->txn, t->s->forks, &c));
	if (rc)
		return store_map_err(rc);
	MDB_val k, v;
	rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_FIRST));
	while (rc == 0) {
		if (k.mv_size != 72 || v.mv_size != 8) {
			rc = STORE_E_CORRUPT;
			break;
		}
		const uint8_t *kp = k.mv_data;
		uint64_t seq = store_get64(kp + 64);
		struct store_record a, b;
		rc = store_feed_get(t, kp, kp + 32, seq, &a);
		if (rc == STORE_E_NOTFOUND) {   /* withdrawn from the feed (own.c) */
			rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT));
			continue;
		}
		if (rc || (rc = get_rk(t, store_get64(v.mv_data), &b)))
			break;
		if ((rc = cb(kp, kp + 32, seq, a.env, a.env_len, b.env, b.env_len, ctx)))
			break;
		rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT));
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	return store_map_err(rc);
}

int store_forks_since(struct store_txn *t, uint64_t after, store_fork_cb cb, void *ctx,
                      uint64_t *upto)
{
	if (!t || !cb)
		return PROTO_E_ARG;
	if (!t->s->has_forkno) {
		if (upto)
			*upto = 0;
		return 0;
	}
	MDB_cursor *c;
	uint64_t last = after;
	int rc = store_lmdb_rc(mdb_cursor_open(t->txn, t->s->forkno, &c));
	if (rc)
		return store_map_err(rc);
	uint8_t kb[8];
	store_be64(kb, after == UINT64_MAX ? after : after + 1);
	MDB_val k = { 8, kb }, v;
	rc = after == UINT64_MAX ? MDB_NOTFOUND
	                         : store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_RANGE));
	for (; rc == 0; rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT))) {
		if (k.mv_size != 8 || v.mv_size != 80) {
			rc = STORE_E_CORRUPT;
			break;
		}
		const uint8_t *p = v.mv_data;
		uint64_t seq = store_get64(p + 64);
		struct store_record a, b;
		last = store_get64(k.mv_data);
		rc = store_feed_get(t, p, p + 32, seq, &a);
		if (rc == STORE_E_NOTFOUND)
			continue;   /* the feed no longer holds that seq */
		if (rc || (rc = get_rk(t, store_get64(p + 72), &b)))
			break;
		if ((rc = cb(p, p + 32, seq, a.env, a.env_len, b.env, b.env_len, ctx)))
			break;
	}
	if (rc == MDB_NOTFOUND) {
		/* nothing after `after`: the last number is still needed */
		MDB_val lk, lv;
		int lrc = store_lmdb_rc(mdb_cursor_get(c, &lk, &lv, MDB_LAST));
		rc = 0;
		if (lrc == 0 && lk.mv_size == 8)
			last = store_get64(lk.mv_data);
		else if (lrc == MDB_NOTFOUND)
			last = 0;
		else
			rc = lrc ? lrc : STORE_E_CORRUPT;
	}
	mdb_cursor_close(c);
	if (!rc && upto)
		*upto = last;
	return store_map_err(rc);
}

int store_alliances(struct store_txn *t, store_record_cb cb, void *ctx)
{
	if (!t || !cb)
		return PROTO_E_ARG;
	uint8_t kb[2] = { IX_KIND, PROTO_KIND_CHARTER };
	uint64_t *rks = NULL;
	size_t n = 0;
	int rc = postings(t->txn, t->s, kb, 2, &rks, &n);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct store_record r;
		if (!(rc = get_rk(t, rks[i], &r)))
			rc = cb(&r, ctx);
	}
	free(rks);
	return store_map_err(rc);
}
