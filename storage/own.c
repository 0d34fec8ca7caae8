/*
 * own.c - this node's own feeds: which key is ours (store_set_own_key),
 * and moving records published on a restored store out of the feed again
 * (store_own_withdraw).  How ingest treats our own signed records is in
 * ingest_one (ingest.c); the floor and conflict records are in meta.c.
 *
 * Why withdraw: a store restored from a backup and published on offline
 * holds records at seqs the alliance already has other records of.  Those
 * records never reach anyone (every later record fails its chain at the
 * partners), so the node takes them back out of its feed, learns the
 * alliance's records instead, and can publish their content again on top.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/endpoint_int.h"
#include "storage/log_int.h"
#include "storage/members_int.h"
#include "storage/meta_int.h"

void store_set_own_key(struct store *s, const uint8_t pk[PROTO_KEY_BYTES])
{
	pthread_mutex_lock(&s->write_mu);
	s->has_own_key = pk != NULL;
	if (pk)
		memcpy(s->own_key, pk, PROTO_KEY_BYTES);
	pthread_mutex_unlock(&s->write_mu);
}

/* Set and clear recs header flags of rowkey, keeping its hide entry in
 * step (an entry with no flags left and a kind shown by default goes). */
static int rec_flags(MDB_txn *txn, struct store *s, uint64_t rk, uint8_t set, uint8_t clear)
{
	MDB_val v;
	int rc = store_rec_read(txn, s, rk, &v);
	if (rc)
		return rc;
	const uint8_t *p = v.mv_data;
	uint8_t flags = (uint8_t)((p[0] | set) & ~clear), kind = p[1];
	if (flags == p[0])
		return 0;
	uint8_t kb[8];
	store_be64(kb, rk);
	MDB_val k = { 8, kb }, nv = { v.mv_size, NULL };
	/* a copy: v points into the map, where the put may write */
	uint8_t *copy = malloc(v.mv_size);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, v.mv_data, v.mv_size);
	copy[0] = flags;
	nv.mv_data = copy;
	rc = store_lmdb_rc(mdb_put(txn, s->recs, &k, &nv, 0));
	free(copy);
	if (rc || (flags & REC_F_FORK))
		return rc;
	if ((flags & (REC_F_SUPERSEDED | REC_F_RETRACTED)) || store_kind_hidden(kind))
		return store_hide_update(txn, s, rk, flags, kind);
	rc = store_lmdb_rc(mdb_del(txn, s->hide, &k, NULL));
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int chain_read(MDB_txn *txn, struct store *s, uint64_t root, uint8_t val[CHAIN_VAL],
                      bool *found)
{
	uint8_t kb[8];
	store_be64(kb, root);
	MDB_val k = { 8, kb }, v;
	int rc = store_lmdb_rc(mdb_get(txn, s->chain, &k, &v));
	*found = rc == 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (v.mv_size != CHAIN_VAL)
		return STORE_E_CORRUPT;
	memcpy(val, v.mv_data, CHAIN_VAL);
	return 0;
}

static int chain_write(MDB_txn *txn, struct store *s, uint64_t root, const uint8_t val[CHAIN_VAL])
{
	uint8_t kb[8];
	store_be64(kb, root);
	MDB_val k = { 8, kb }, v = { CHAIN_VAL, (void *)val };
	return store_lmdb_rc(mdb_put(txn, s->chain, &k, &v, 0));
}

/* The rowkey and chain root of the record with this id. */
static int target_of(MDB_txn *txn, struct store *s, const ProtobufCBinaryData *id, uint64_t *rk,
                     uint64_t *root)
{
	MDB_val v;
	if (id->len != PROTO_ID_BYTES)
		return STORE_E_CORRUPT;   /* it was checked when stored */
	int rc = store_id_rowkey(txn, s, id->data, rk);
	if (rc || (rc = store_rec_read(txn, s, *rk, &v)))
		return rc == STORE_E_NOTFOUND ? STORE_E_CORRUPT : rc;
	*root = store_get64((const uint8_t *)v.mv_data + 6);
	return 0;
}

/*
 * Undo what withdrawn record w (rowkey wrk) did to its chain.  The feed is
 * withdrawn newest first, so a later edit of the same chain is undone
 * before w.
 */
static int chain_undo(MDB_txn *txn, struct store *s, const Agora__Record *w, uint64_t wrk)
{
	uint8_t chain[CHAIN_VAL];
	uint64_t trk, root;
	bool found;
	int rc;
	enum proto_kind kind = proto_record_kind(w);
	if (kind == PROTO_KIND_SUPERSEDE) {
		if ((rc = target_of(txn, s, &w->supersede->target, &trk, &root)) ||
		    (rc = chain_read(txn, s, root, chain, &found)))
			return rc;
		if (!found || store_get64(chain) != wrk)
			return 0;
		/* the version w replaced is the newest again */
		store_be64(chain, trk);
		memcpy(chain + 8, w->supersede->target.data, PROTO_ID_BYTES);
		if ((rc = chain_write(txn, s, root, chain)) ||
		    (rc = rec_flags(txn, s, trk, 0, REC_F_SUPERSEDED)))
			return rc;
		uint8_t kb[9], vb[8];
		kb[0] = IX_VERSION;
		store_be64(kb + 1, root);
		store_be64(vb, wrk);
		MDB_val k = { 9, kb }, v = { 8, vb };
		rc = store_lmdb_rc(mdb_del(txn, s->ix, &k, &v));
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	if (kind != PROTO_KIND_RETRACT)
		return 0;
	if ((rc = target_of(txn, s, &w->retract->target, &trk, &root)) ||
	    (rc = chain_read(txn, s, root, chain, &found)))
		return rc;
	if (!found || store_get64(chain + 40) != wrk)
		return 0;
	store_be64(chain + 40, 0);
	if ((rc = chain_write(txn, s, root, chain)))
		return rc;
	/* every version is shown again, except those hidden for their own
	 * reason (revoked, withdrawn) */
	uint8_t kb[9];
	kb[0] = IX_VERSION;
	store_be64(kb + 1, root);
	MDB_cursor *c;
	uint64_t *rks = NULL;
	size_t n = 0, cap = 0;
	if ((rc = store_lmdb_rc(mdb_cursor_open(txn, s->ix, &c))))
		return rc;
	MDB_val k = { 9, kb }, v;
	for (rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_KEY)); rc == 0;
	     rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP))) {
		if ((rc = store_grow((void **)&rks, &cap, n + 1, sizeof *rks)))
			break;
		rks[n++] = store_get64(v.mv_data);
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (!rc && !n) {
		rks = malloc(sizeof *rks);
		if (rks)
			rks[n++] = root;
		else
			rc = -ENOMEM;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		MDB_val rv;
		if (!(rc = store_rec_read(txn, s, rks[i], &rv)) &&
		    !(((const uint8_t *)rv.mv_data)[0] & (REC_F_REVOKED | REC_F_WITHDRAWN)))
			rc = rec_flags(txn, s, rks[i], 0, REC_F_RETRACTED);
	}
	free(rks);
	return rc;
}

/* A withdrawn record, copied out of the write transaction. */
struct taken {
	struct store_record rec;
	uint8_t *env;
};

struct withdraw_ctx {
	struct store *s;
	const uint8_t *alliance;
	uint8_t own[PROTO_KEY_BYTES];
	struct taken *v;        /* newest first */
	size_t n, cap;
	struct store_moves moves;
};

static void taken_reset(struct withdraw_ctx *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].env);
	c->n = 0;
}

/* Copy, then take one feed entry out: rk is the record at seq. */
static int withdraw_one(MDB_txn *txn, struct withdraw_ctx *c, uint64_t rk)
{
	struct store *s = c->s;
	MDB_val v;
	Agora__Record *r = NULL;
	int rc = store_rec_read(txn, s, rk, &v);
	if (rc || (rc = store_grow((void **)&c->v, &c->cap, c->n + 1, sizeof *c->v)))
		return rc;
	struct taken *t = &c->v[c->n];
	if ((rc = store_rec_fill(txn, s, rk, &v, &t->rec)))
		return rc;
	if (!(t->env = malloc(t->rec.env_len ? t->rec.env_len : 1)))
		return -ENOMEM;
	memcpy(t->env, t->rec.env, t->rec.env_len);
	t->rec.env = t->env;
	c->n++;
	if (proto_envelope_decode(&r, t->env, t->rec.env_len, NULL))
		return STORE_E_CORRUPT;
	rc = chain_undo(txn, s, r, rk);
	agora__record__free_unpacked(r, NULL);
	if (rc)
		return rc;
	return rec_flags(txn, s, rk, REC_F_WITHDRAWN | REC_F_RETRACTED, 0);
}

static int withdraw_cb(MDB_txn *txn, void *arg)
{
	struct withdraw_ctx *c = arg;
	struct store *s = c->s;
	uint64_t conflict;
	int rc;
	taken_reset(c);
	store_moves_reset(&c->moves);
	if ((rc = store_meta_conflict(txn, s, c->alliance, c->own, &conflict)) || !conflict)
		return rc;
	uint8_t hk[64], head[HEAD_VAL];
	memcpy(hk, c->alliance, 32);
	memcpy(hk + 32, c->own, 32);
	MDB_val k = { 64, hk }, v;
	rc = store_lmdb_rc(mdb_get(txn, s->heads, &k, &v));
	if (rc == MDB_NOTFOUND)
		return store_meta_conflict_clear(txn, s, c->alliance, c->own);
	if (rc)
		return rc;
	if (v.mv_size != HEAD_VAL)
		return STORE_E_CORRUPT;
	memcpy(head, v.mv_data, HEAD_VAL);
	uint64_t hseq = store_get64(head + 4);
	uint8_t fk[12];
	memcpy(fk, head, 4);
	for (uint64_t seq = hseq; seq >= conflict && seq > 0; seq--) {
		store_be64(fk + 4, seq);
		MDB_val fkey = { 12, fk }, fval;
		rc = store_lmdb_rc(mdb_get(txn, s->feeds, &fkey, &fval));
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc)
			return rc;
		if (fval.mv_size != 8)
			return STORE_E_CORRUPT;
		if ((rc = withdraw_one(txn, c, store_get64(fval.mv_data))) ||
		    (rc = store_lmdb_rc(mdb_del(txn, s->feeds, &fkey, NULL))))
			return rc;
	}
	/* the head goes back to the record before the conflict */
	if (conflict <= hseq) {
		uint64_t back = conflict - 1;
		if (back == 0) {
			rc = store_lmdb_rc(mdb_del(txn, s->heads, &k, NULL));
		} else {
			store_be64(fk + 4, back);
			MDB_val fkey = { 12, fk }, fval;
			if ((rc = store_lmdb_rc(mdb_get(txn, s->feeds, &fkey, &fval))))
				return rc == MDB_NOTFOUND ? STORE_E_CORRUPT : rc;
			if (fval.mv_size != 8)
				return STORE_E_CORRUPT;
			uint64_t rk = store_get64(fval.mv_data);
			store_be64(head + 4, back);
			if ((rc = store_rowkey_id(txn, s, rk, head + 12)))
				return rc;
			store_be64(head + 44, rk);
			MDB_val hv = { HEAD_VAL, head };
			rc = store_lmdb_rc(mdb_put(txn, s->heads, &k, &hv, 0));
		}
		if (rc || (rc = store_moves_note(&c->moves, c->alliance, c->own, hseq, false)) ||
		    (rc = store_log_append(txn, s, &c->moves)) ||
		    (rc = store_endpoint_reset(txn, s, c->alliance, c->own)))
			return rc;
	}
	return store_meta_conflict_clear(txn, s, c->alliance, c->own);
}

int store_own_withdraw(struct store *s, const uint8_t alliance[PROTO_ID_BYTES],
                       store_record_cb cb, void *ctx, size_t *n_out)
{
	struct withdraw_ctx c = { .s = s, .alliance = alliance };
	int rc;
	if (!s || !alliance)
		return PROTO_E_ARG;
	pthread_mutex_lock(&s->write_mu);
	bool have = s->has_own_key;
	memcpy(c.own, s->own_key, PROTO_KEY_BYTES);
	pthread_mutex_unlock(&s->write_mu);
	if (!have)
		return PROTO_E_ARG;
	if ((rc = store_write(s, withdraw_cb, &c)))
		goto out;
	if (n_out)
		*n_out = c.n;
	for (size_t i = c.n; i-- > 0 && cb && !rc;)
		rc = cb(&c.v[i].rec, ctx);
out:
	taken_reset(&c);
	free(c.v);
	store_moves_dispose(&c.moves);
	return rc;
}
