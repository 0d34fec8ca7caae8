/*
 * endpoint.c - where each member of an alliance is reached: the endpoint
 * index (endpoint_int.h) and store_endpoint_get.
 *
 * agorad asks for a member's endpoint on its loop thread each time it picks
 * a peer to dial, so the answer must not cost a walk of the member's feed
 * (a municipality publishes thousands of records, an alliance may have
 * 12,000 members): one key names the newest Endpoint of (alliance, author),
 * and the answer is two lookups and one small decode.  A feed is stored in
 * seq order, so the last Endpoint stored is the newest; only a withdrawal of
 * the own feed's end (own.c) moves it back.
 */
#include <string.h>

#include "storage/endpoint_int.h"
#include "storage/members_int.h"

static void endp_key(uint8_t k[64], const uint8_t *alliance, const uint8_t *author)
{
	memcpy(k, alliance, 32);
	memcpy(k + 32, author, 32);
}

/* Is rec an Endpoint this build reads (its own body, keeping the rules)? */
static bool readable_endpoint(const Agora__Record *rec)
{
	return proto_record_kind(rec) == PROTO_KIND_ENDPOINT && rec->endpoint &&
	       !(proto_record_newer(rec) & PROTO_NEWER_UNREADABLE);
}

static int endp_put(MDB_txn *txn, struct store *s, const uint8_t *alliance,
                    const uint8_t *author, uint64_t seq, uint64_t rk)
{
	uint8_t kb[64], vb[ENDP_VAL];
	endp_key(kb, alliance, author);
	store_be64(vb, seq);
	store_be64(vb + 8, rk);
	MDB_val k = { 64, kb }, v = { ENDP_VAL, vb };
	return store_lmdb_rc(mdb_put(txn, s->endp, &k, &v, 0));
}

int store_endpoint_note(MDB_txn *txn, struct store *s, const Agora__Record *rec,
                        const uint8_t alliance[PROTO_ID_BYTES], uint64_t rk)
{
	if (!s->has_endp || !readable_endpoint(rec) || rec->author.len != PROTO_KEY_BYTES)
		return 0;
	return endp_put(txn, s, alliance, rec->author.data, rec->seq, rk);
}

/* Decode the record stored under rk: 0 and *out, or an error. */
static int decode_rk(MDB_txn *txn, struct store *s, uint64_t rk, uint8_t *flags,
                     Agora__Record **out)
{
	MDB_val v;
	int rc = store_rec_read(txn, s, rk, &v);
	if (rc)
		return rc;
	*flags = ((const uint8_t *)v.mv_data)[0];
	if (proto_envelope_decode(out, (const uint8_t *)v.mv_data + REC_HDR, v.mv_size - REC_HDR,
	                          NULL))
		return STORE_E_CORRUPT;
	return 0;
}

int store_endpoint_reset(MDB_txn *txn, struct store *s, const uint8_t alliance[PROTO_ID_BYTES],
                         const uint8_t author[PROTO_KEY_BYTES])
{
	uint8_t kb[64], head[HEAD_VAL] = { 0 };
	if (!s->has_endp)
		return 0;
	endp_key(kb, alliance, author);
	MDB_val k = { 64, kb }, v;
	int rc = store_lmdb_rc(mdb_get(txn, s->heads, &k, &v));
	uint64_t hseq = 0;
	if (rc == 0) {
		if (v.mv_size != HEAD_VAL)
			return STORE_E_CORRUPT;
		memcpy(head, v.mv_data, HEAD_VAL);
		hseq = store_get64(head + 4);
	} else if (rc != MDB_NOTFOUND) {
		return rc;
	}
	for (uint64_t seq = hseq; seq > 0; seq--) {
		uint8_t fk[12];
		memcpy(fk, head, 4);
		store_be64(fk + 4, seq);
		MDB_val fkey = { 12, fk }, fval, rv;
		rc = store_lmdb_rc(mdb_get(txn, s->feeds, &fkey, &fval));
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc)
			return rc;
		if (fval.mv_size != 8)
			return STORE_E_CORRUPT;
		uint64_t rk = store_get64(fval.mv_data);
		if ((rc = store_rec_read(txn, s, rk, &rv)))
			return rc;
		if (((const uint8_t *)rv.mv_data)[1] != PROTO_KIND_ENDPOINT)
			continue;   /* the content kind byte: not an Endpoint, nor an edit of one */
		Agora__Record *r = NULL;
		uint8_t flags;
		if ((rc = decode_rk(txn, s, rk, &flags, &r)))
			return rc;
		bool found = readable_endpoint(r);
		agora__record__free_unpacked(r, NULL);
		if (found)
			return endp_put(txn, s, alliance, author, seq, rk);
	}
	rc = store_lmdb_rc(mdb_del(txn, s->endp, &k, NULL));
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_endpoint_rebuild(MDB_txn *txn, struct store *s)
{
	uint8_t kb[2] = { IX_KIND, PROTO_KIND_ENDPOINT };
	MDB_cursor *c;
	int rc;
	if (!s->has_endp)
		return 0;
	if ((rc = store_lmdb_rc(mdb_cursor_open(txn, s->ix, &c))))
		return rc;
	MDB_val k = { 2, kb }, v;
	for (rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_KEY)); rc == 0;
	     rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP))) {
		if (v.mv_size != 8) {
			rc = STORE_E_CORRUPT;
			break;
		}
		uint64_t rk = store_get64(v.mv_data);
		Agora__Record *r = NULL;
		uint8_t flags;
		if ((rc = decode_rk(txn, s, rk, &flags, &r)))
			break;
		/* Kind 29 was a kind queries showed: it is hidden now, as new ones are. */
		rc = store_hide_update(txn, s, rk, flags, PROTO_KIND_ENDPOINT);
		if (!rc && readable_endpoint(r) && r->has_alliance &&
		    r->alliance.len == PROTO_ID_BYTES && r->author.len == PROTO_KEY_BYTES) {
			uint8_t ek[64];
			endp_key(ek, r->alliance.data, r->author.data);
			MDB_val ekey = { 64, ek }, ev;
			/* rowkeys follow creation times, not seqs: keep the highest seq */
			rc = store_lmdb_rc(mdb_get(txn, s->endp, &ekey, &ev));
			if (rc == MDB_NOTFOUND || (rc == 0 && ev.mv_size == ENDP_VAL &&
			                           store_get64(ev.mv_data) < r->seq))
				rc = endp_put(txn, s, r->alliance.data, r->author.data, r->seq, rk);
			else if (rc == 0 && ev.mv_size != ENDP_VAL)
				rc = STORE_E_CORRUPT;
		}
		agora__record__free_unpacked(r, NULL);
		if (rc)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_endpoint_offer(MDB_txn *txn, struct store *s, const Agora__Record *rec,
                         const uint8_t alliance[PROTO_ID_BYTES], uint64_t rk)
{
	uint8_t kb[64];
	MDB_val v;
	if (!s->has_endp || !readable_endpoint(rec) || rec->author.len != PROTO_KEY_BYTES)
		return 0;
	endp_key(kb, alliance, rec->author.data);
	MDB_val k = { 64, kb };
	int rc = store_lmdb_rc(mdb_get(txn, s->endp, &k, &v));
	if (rc == 0 && v.mv_size != ENDP_VAL)
		return STORE_E_CORRUPT;
	if (rc == 0 && store_get64(v.mv_data) >= rec->seq)
		return 0;
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	return endp_put(txn, s, alliance, rec->author.data, rec->seq, rk);
}

int store_endpoint_each(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                        int (*fn)(void *ctx, const uint8_t author[PROTO_KEY_BYTES]), void *ctx)
{
	MDB_cursor *c;
	uint8_t kb[64];
	int rc;
	if (!t || !alliance || !fn)
		return PROTO_E_ARG;
	if (!t->s->has_endp)
		return 0;   /* a layout-5 store opened read-only: none */
	if ((rc = store_lmdb_rc(mdb_cursor_open(t->txn, t->s->endp, &c))))
		return store_map_err(rc);
	memset(kb, 0, sizeof kb);
	memcpy(kb, alliance, 32);
	MDB_val k = { 64, kb }, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 64 || memcmp(k.mv_data, alliance, 32))
			break;
		int r = fn(ctx, (const uint8_t *)k.mv_data + 32);
		if (r) {
			mdb_cursor_close(c);
			return r;
		}
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : store_map_err(store_lmdb_rc(rc));
}

int store_endpoint_get(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                       const uint8_t author[PROTO_KEY_BYTES], struct store_endpoint *out)
{
	struct store *s;
	uint8_t kb[64];
	MDB_val v;
	int rc;
	if (!t || !alliance || !author || !out)
		return PROTO_E_ARG;
	s = t->s;
	if (!s->has_endp)
		return STORE_E_NOTFOUND;   /* a layout-5 store opened read-only */
	endp_key(kb, alliance, author);
	MDB_val k = { 64, kb };
	rc = store_lmdb_rc(mdb_get(t->txn, s->endp, &k, &v));
	if (rc)
		return store_map_err(rc);
	if (v.mv_size != ENDP_VAL)
		return STORE_E_CORRUPT;
	uint64_t seq = store_get64(v.mv_data), rk = store_get64((const uint8_t *)v.mv_data + 8);
	MDB_val rv;
	if ((rc = store_rec_read(t->txn, s, rk, &rv)))
		return store_map_err(rc);
	const uint8_t *h = rv.mv_data;
	/* Retracted by its author, past a revocation, or out of the own feed:
	 * the author is not dialable (an older Endpoint does not come back). */
	if (h[0] & (REC_F_RETRACTED | REC_F_REVOKED | REC_F_WITHDRAWN | REC_F_FORK))
		return STORE_E_NOTFOUND;
	Agora__Record *r = NULL;
	if (proto_envelope_decode(&r, h + REC_HDR, rv.mv_size - REC_HDR, NULL))
		return STORE_E_CORRUPT;
	rc = 0;
	const Agora__Endpoint *e = r->endpoint;
	if (!readable_endpoint(r) || r->seq != seq || e->n_addresses > PROTO_ENDPOINT_MAX) {
		rc = STORE_E_CORRUPT;
		goto out;
	}
	struct store_endpoint ep;
	memset(&ep, 0, sizeof ep);
	for (size_t i = 0; i < e->n_addresses; i++) {
		size_t n = strlen(e->addresses[i]);
		if (n >= sizeof ep.addr[i]) {
			rc = STORE_E_CORRUPT;
			goto out;
		}
		memcpy(ep.addr[i], e->addresses[i], n + 1);
	}
	ep.n = e->n_addresses;
	ep.dial_out_only = e->has_dial_out_only && e->dial_out_only;
	ep.seq = seq;
	proto_record_id(ep.id, h + REC_HDR, rv.mv_size - REC_HDR);
	*out = ep;
out:
	agora__record__free_unpacked(r, NULL);
	return rc;
}
