/*
 * ingest.c - the one path every stored record takes, store_ingest_one():
 * check it against the stored feeds, membership and its targets, then
 * write it, its feed entry and its indexes.  store_ingest (verify.c),
 * store_publish (publish.c) and store_ingest_fork (forks.c) run it inside
 * their writes.  Also the record primitives they share, and the rebuild of
 * the full-text index (layout 1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/endpoint_int.h"
#include "storage/ingest_int.h"
#include "storage/members_int.h"
#include "storage/meta_int.h"
#include "storage/unread_int.h"

bool store_ingest_fatal(int rc)
{
	if (rc >= 0)
		return false;
	if (rc >= MDB_KEYEXIST && rc <= MDB_LAST_ERRCODE)
		return true;
	if (rc == STORE_E_CORRUPT || rc == STORE_E_LMDB || rc == PROTO_E_NOMEM)
		return true;
	return rc > -1000;  /* -errno */
}

static bool governance_kind(int k)
{
	return k == PROTO_KIND_CHARTER || k == PROTO_KIND_ADMISSION ||
	       k == PROTO_KIND_REVOCATION || k == PROTO_KIND_KEY_ROTATION;
}

int store_rec_read(MDB_txn *txn, struct store *s, uint64_t rowkey, MDB_val *v)
{
	uint8_t kb[8];
	store_be64(kb, rowkey);
	MDB_val k = { 8, kb };
	int rc = store_lmdb_rc(mdb_get(txn, s->recs, &k, v));
	if (rc)
		return rc == MDB_NOTFOUND ? STORE_E_CORRUPT : rc;
	if (v->mv_size < REC_HDR)
		return STORE_E_CORRUPT;
	return 0;
}

int store_rowkey_id(MDB_txn *txn, struct store *s, uint64_t rowkey,
                    uint8_t id[PROTO_ID_BYTES])
{
	MDB_val v;
	int rc = store_rec_read(txn, s, rowkey, &v);
	if (rc)
		return rc;
	proto_record_id(id, (const uint8_t *)v.mv_data + REC_HDR, v.mv_size - REC_HDR);
	return 0;
}

/* Next free rowkey for created_ms: after the last one used in that ms. */
static int rowkey_alloc(MDB_txn *txn, struct store *s, uint64_t ms, uint64_t *out)
{
	MDB_cursor *c;
	int rc = store_lmdb_rc(mdb_cursor_open(txn, s->recs, &c));
	if (rc)
		return rc;
	ms &= 0xffffffffffffULL;
	for (;; ms++) {
		uint8_t kb[8];
		store_be64(kb, (ms + 1) << 16);
		MDB_val k = { 8, kb }, v;
		rc = store_cursor_below(c, &k, &v);
		if (rc == MDB_NOTFOUND) {
			*out = ms << 16;
			rc = 0;
			break;
		}
		if (rc)
			break;
		uint64_t last = store_get64(k.mv_data);
		if (last >> 16 != ms) {
			*out = ms << 16;
			break;
		}
		if ((last & 0xffff) != 0xffff) {
			*out = last + 1;
			break;
		}
		/* a full millisecond: use the next one */
	}
	mdb_cursor_close(c);
	return rc;
}

static int rec_set_flags(MDB_txn *txn, struct store *s, uint64_t rowkey, uint8_t set)
{
	MDB_val v;
	int rc = store_rec_read(txn, s, rowkey, &v);
	if (rc)
		return rc;
	const uint8_t *p = v.mv_data;
	if ((p[0] & set) == set)
		return 0;
	uint8_t kb[8];
	store_be64(kb, rowkey);
	MDB_val k = { 8, kb }, nv = { v.mv_size, NULL };
	uint8_t *copy = malloc(v.mv_size);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, v.mv_data, v.mv_size);
	copy[0] |= set;
	nv.mv_data = copy;
	rc = store_lmdb_rc(mdb_put(txn, s->recs, &k, &nv, 0));
	if (rc == 0 && !(copy[0] & REC_F_FORK))
		rc = store_hide_update(txn, s, rowkey, copy[0], copy[1]);
	free(copy);
	return rc;
}

/* Decode the stored record of rowkey (for target checks). */
static int rec_decode(MDB_txn *txn, struct store *s, uint64_t rowkey, uint8_t *hdr,
                      Agora__Record **out)
{
	MDB_val v;
	int rc = store_rec_read(txn, s, rowkey, &v);
	if (rc)
		return rc;
	memcpy(hdr, v.mv_data, REC_HDR);
	if (proto_envelope_decode(out, (const uint8_t *)v.mv_data + REC_HDR, v.mv_size - REC_HDR,
	                          NULL))
		return STORE_E_CORRUPT;
	return 0;
}


int store_hide_update(MDB_txn *txn, struct store *s, uint64_t rowkey, uint8_t flags,
                      uint8_t kind)
{
	flags &= REC_F_SUPERSEDED | REC_F_RETRACTED;
	if (!flags && !store_kind_hidden(kind))
		return 0;
	uint8_t kb[8], vb[HIDE_VAL] = { flags, kind };
	store_be64(kb, rowkey);
	MDB_val k = { 8, kb }, v = { HIDE_VAL, vb };
	return store_lmdb_rc(mdb_put(txn, s->hide, &k, &v, 0));
}

/*
 * Check the target of a Supersede or Retract: stored, not fork evidence,
 * same author and alliance, content (not governance, not a retraction),
 * and for a supersede the same content kind.  *root_out gets the target's
 * chain root.
 */
static int check_target(struct store_wctx *w, const Agora__Record *rec, const uint8_t *alliance,
                        const ProtobufCBinaryData *target, int want_kind, uint64_t *root_out)
{
	if (target->len != PROTO_ID_BYTES)
		return STORE_E_TARGET;
	uint64_t trk;
	int rc = store_id_rowkey(w->txn, w->s, target->data, &trk);
	if (rc)
		return rc == STORE_E_NOTFOUND ? STORE_E_TARGET : rc;
	uint8_t hdr[REC_HDR];
	Agora__Record *t = NULL;
	rc = rec_decode(w->txn, w->s, trk, hdr, &t);
	if (rc)
		return rc;
	const uint8_t *talliance = proto_record_kind(t) == PROTO_KIND_CHARTER ? NULL
	                                                                      : t->alliance.data;
	if ((hdr[0] & REC_F_FORK) || t->author.len != rec->author.len ||
	    memcmp(t->author.data, rec->author.data, rec->author.len) != 0 || !talliance ||
	    t->alliance.len != PROTO_ID_BYTES || memcmp(talliance, alliance, PROTO_ID_BYTES) != 0 ||
	    governance_kind(hdr[1]) || hdr[1] == PROTO_KIND_RETRACT ||
	    (want_kind && hdr[1] != want_kind))
		rc = STORE_E_TARGET;
	else
		*root_out = store_get64(hdr + 6);
	agora__record__free_unpacked(t, NULL);
	return rc;
}

static int chain_get(MDB_txn *txn, struct store *s, uint64_t root, uint8_t val[CHAIN_VAL],
                     bool *found)
{
	uint8_t kb[8];
	store_be64(kb, root);
	MDB_val k = { 8, kb }, v;
	int rc = store_lmdb_rc(mdb_get(txn, s->chain, &k, &v));
	if (rc == MDB_NOTFOUND) {
		*found = false;
		return 0;
	}
	if (rc)
		return rc;
	if (v.mv_size != CHAIN_VAL)
		return STORE_E_CORRUPT;
	memcpy(val, v.mv_data, CHAIN_VAL);
	*found = true;
	return 0;
}

static int chain_put(MDB_txn *txn, struct store *s, uint64_t root, const uint8_t val[CHAIN_VAL])
{
	uint8_t kb[8];
	store_be64(kb, root);
	MDB_val k = { 8, kb }, v = { CHAIN_VAL, (void *)val };
	return store_lmdb_rc(mdb_put(txn, s->chain, &k, &v, 0));
}

static int version_add(MDB_txn *txn, struct store *s, uint64_t root, uint64_t rk)
{
	uint8_t kb[9], vb[8];
	kb[0] = IX_VERSION;
	store_be64(kb + 1, root);
	store_be64(vb, rk);
	MDB_val k = { 9, kb }, v = { 8, vb };
	int rc = store_lmdb_rc(mdb_put(txn, s->ix, &k, &v, MDB_NODUPDATA));
	return rc == MDB_KEYEXIST ? 0 : rc;
}

/* Mark every version of a chain retracted. */
static int chain_retract_all(MDB_txn *txn, struct store *s, uint64_t root)
{
	uint8_t kb[9];
	kb[0] = IX_VERSION;
	store_be64(kb + 1, root);
	MDB_cursor *c;
	int rc = store_lmdb_rc(mdb_cursor_open(txn, s->ix, &c));
	if (rc)
		return rc;
	/* Collect first: rewriting recs does not disturb an ix cursor, but keep
	 * the loop obviously correct. */
	uint64_t *rks = NULL;
	size_t n = 0, cap = 0;
	MDB_val k = { 9, kb }, v;
	rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_KEY));
	while (rc == 0) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			uint64_t *nr = realloc(rks, cap * sizeof *rks);
			if (!nr) {
				rc = -ENOMEM;
				break;
			}
			rks = nr;
		}
		rks[n++] = store_get64(v.mv_data);
		rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP));
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (!rc && n == 0)
		rc = rec_set_flags(txn, s, root, REC_F_RETRACTED);
	for (size_t i = 0; i < n && !rc; i++)
		rc = rec_set_flags(txn, s, rks[i], REC_F_RETRACTED);
	free(rks);
	return rc;
}

static int put_rec(struct store_wctx *w, uint64_t rk, uint8_t flags, uint8_t kind, uint32_t doclen,
                   uint64_t root, const uint8_t *env, size_t len, const uint8_t *id)
{
	uint8_t kb[8];
	store_be64(kb, rk);
	MDB_val k = { 8, kb }, v = { REC_HDR + len, NULL };
	/* append when this is the newest rowkey: full pages instead of halves */
	int rc = store_lmdb_rc(mdb_put(w->txn, w->s->recs, &k, &v, MDB_RESERVE | MDB_APPEND));
	if (rc == MDB_KEYEXIST) {
		v.mv_size = REC_HDR + len;
		rc = store_lmdb_rc(mdb_put(w->txn, w->s->recs, &k, &v, MDB_RESERVE));
	}
	if (rc)
		return rc;
	uint8_t *p = v.mv_data;
	p[0] = flags;
	p[1] = kind;
	store_be32(p + 2, doclen);
	store_be64(p + 6, root);
	memcpy(p + REC_HDR, env, len);
	if (!(flags & REC_F_FORK) && (rc = store_hide_update(w->txn, w->s, rk, flags, kind)))
		return rc;
	return store_id_put(w->txn, w->s, id, rk);
}

/* Is env the record the feed (head) holds at seq?  1, 0, or an error. */
static int feed_holds(MDB_txn *txn, struct store *s, const uint8_t head[HEAD_VAL], uint64_t seq,
                      const uint8_t *env, size_t len, const uint8_t id[PROTO_ID_BYTES])
{
	if (seq == store_get64(head + 4))
		return memcmp(id, head + 12, PROTO_ID_BYTES) == 0;
	uint8_t fk[12];
	memcpy(fk, head, 4);
	store_be64(fk + 4, seq);
	MDB_val k = { 12, fk }, v, r;
	int rc = store_lmdb_rc(mdb_get(txn, s->feeds, &k, &v));
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (v.mv_size != 8)
		return STORE_E_CORRUPT;
	if ((rc = store_rec_read(txn, s, store_get64(v.mv_data), &r)))
		return rc;
	return r.mv_size - REC_HDR == len &&
	       memcmp((const uint8_t *)r.mv_data + REC_HDR, env, len) == 0;
}

/* ingest_int.h.  Every check comes before the first write, so a rejected
 * item leaves the transaction as it was, but for what the rules write on
 * purpose (floor, conflict, expiry seq). */
int store_ingest_one(struct store_wctx *w, const Agora__Record *rec, const uint8_t *env,
                     size_t len, const uint8_t id[PROTO_ID_BYTES])
{
	struct store *s = w->s;
	MDB_txn *txn = w->txn;
	uint64_t rk;
	int rc;
	enum proto_kind kind = proto_record_kind(rec);
	const ProtobufCMessage *msg = NULL;
	enum proto_kind ckind = proto_record_content(rec, &msg);
	const uint8_t *alliance;
	if (kind == PROTO_KIND_CHARTER)
		alliance = id;
	else if (!rec->has_alliance || rec->alliance.len != PROTO_ID_BYTES)
		return STORE_E_ALLIANCE;   /* so never stored either */
	else
		alliance = rec->alliance.data;
	if (rec->author.len != PROTO_KEY_BYTES)
		return PROTO_E_FIELD;

	/* the feed head */
	uint8_t hk[64];
	memcpy(hk, alliance, 32);
	memcpy(hk + 32, rec->author.data, 32);
	MDB_val hkey = { 64, hk }, hval;
	uint8_t head[HEAD_VAL];
	bool have_head = false;
	rc = store_lmdb_rc(mdb_get(txn, s->heads, &hkey, &hval));
	if (rc == 0) {
		if (hval.mv_size != HEAD_VAL)
			return STORE_E_CORRUPT;
		memcpy(head, hval.mv_data, HEAD_VAL);
		have_head = true;
	} else if (rc != MDB_NOTFOUND) {
		return rc;
	}
	uint64_t hseq = have_head ? store_get64(head + 4) : 0;

	/* Known?  The id names the feed and seq, and a feed holds a prefix
	 * (forks only at held seqs), so a record past the head is new.  At or
	 * below the head it is most often the feed's own record there, which
	 * is checked first; the id index (which also finds a fork's other
	 * record) is asked only when that is not it. */
	if (rec->seq <= hseq) {
		if ((rc = feed_holds(txn, s, head, rec->seq, env, len, id)))
			return rc < 0 ? rc : STORE_KNOWN;
		rc = store_id_rowkey(txn, s, id, &rk);
		if (rc == 0)
			return STORE_KNOWN;
		if (rc != STORE_E_NOTFOUND)
			return rc;
	}

	if (kind != PROTO_KIND_CHARTER) {
		uint64_t crk;
		if (w->ch_valid && memcmp(w->ch_id, alliance, PROTO_ID_BYTES) == 0) {
			crk = w->ch_rk;
		} else {
			rc = store_id_rowkey(txn, s, alliance, &crk);
			if (rc)
				return rc == STORE_E_NOTFOUND ? STORE_E_ALLIANCE : rc;
			memcpy(w->ch_id, alliance, PROTO_ID_BYTES);
			w->ch_rk = crk;
			w->ch_valid = true;
		}
		MDB_val cv;
		if ((rc = store_rec_read(txn, s, crk, &cv)))
			return rc;
		const uint8_t *ch = cv.mv_data;
		if (ch[1] != PROTO_KIND_CHARTER || (ch[0] & REC_F_FORK))
			return STORE_E_ALLIANCE;
	}
	/* membership: admitted, role may publish this kind, not revoked/expired */
	if ((rc = store_member_check(txn, s, rec, alliance, (int)kind, w->now_ms, hseq)))
		return rc;

	bool own = store_is_own(s, rec->author.data);
	if (rec->seq <= hseq && own) {
		/* A signed record of our own feed that is not ours there: this
		 * store was restored from an older copy and published again.  No
		 * node keeps fork evidence against itself; the conflict stops
		 * publishing until store_own_withdraw. */
		if ((rc = store_meta_conflict_note(txn, s, alliance, rec->author.data, rec->seq)))
			return rc;
		return STORE_E_CONFLICT;
	}
	if (rec->seq <= hseq) {
		/* A different record at a held position: fork evidence, unless
		 * the seq is proven already or the caps are reached (forks.c). */
		uint8_t fk[72], fv[8];
		bool room;
		memcpy(fk, hk, 64);
		store_be64(fk + 64, rec->seq);
		if ((rc = store_fork_room(txn, s, fk, &room)))
			return rc;
		if (!room)
			return STORE_KNOWN;
		if ((rc = rowkey_alloc(txn, s, rec->created_ms, &rk)))
			return rc;
		if ((rc = put_rec(w, rk, REC_F_FORK, (uint8_t)ckind, 0, rk, env, len, id)))
			return rc;
		store_be64(fv, rk);
		MDB_val k = { 72, fk }, v = { 8, fv };
		rc = store_lmdb_rc(mdb_put(txn, s->forks, &k, &v, MDB_NODUPDATA));
		if (rc == 0)
			rc = store_fork_number(txn, s, fk, rk);
		if (rc && rc != MDB_KEYEXIST)
			return rc;
		return STORE_FORKED;
	}
	rc = 0;
	if (rec->seq != hseq + 1)
		rc = PROTO_E_SEQ;
	else if (hseq > 0 && (!rec->has_prev || rec->prev.len != PROTO_ID_BYTES ||
	                      memcmp(rec->prev.data, head + 12, PROTO_ID_BYTES) != 0))
		rc = PROTO_E_PREV;
	if (rc) {
		/* Our own feed goes on past what we hold: its signature proves
		 * that seq exists, so never publish at or below it.  This is the
		 * only way a floor rises. */
		int frc = own ? store_meta_floor_raise(txn, s, alliance, rec->author.data, rec->seq) : 0;
		return frc ? frc : rc;
	}
	if (own) {
		/* a record of ours that store_own_withdraw took out stays out */
		rc = store_id_rowkey(txn, s, id, &rk);
		if (rc == 0)
			return STORE_KNOWN;
		if (rc != STORE_E_NOTFOUND)
			return rc;
	}

	/* edit and withdrawal targets */
	uint64_t root = 0;
	bool has_root = false;
	if (kind == PROTO_KIND_SUPERSEDE) {
		if ((rc = check_target(w, rec, alliance, &rec->supersede->target, (int)ckind, &root)))
			return rc;
		has_root = true;
	} else if (kind == PROTO_KIND_RETRACT) {
		if ((rc = check_target(w, rec, alliance, &rec->retract->target, 0, &root)))
			return rc;
		has_root = true;
	}

	/* --- writes from here on --- */
	if ((rc = rowkey_alloc(txn, s, rec->created_ms, &rk)))
		return rc;
	if ((rc = index_collect(&w->ik, s, rec, alliance, &w->fb)))
		return rc;
	uint8_t chain[CHAIN_VAL];
	bool have_chain = false;
	uint8_t flags = 0;
	if (has_root && (rc = chain_get(txn, s, root, chain, &have_chain)))
		return rc;
	if (kind == PROTO_KIND_SUPERSEDE && have_chain && store_get64(chain + 40) != 0)
		flags |= REC_F_RETRACTED;   /* an edit of a withdrawn record stays withdrawn */
	uint32_t doclen = w->ik.nwords > UINT32_MAX ? UINT32_MAX : (uint32_t)w->ik.nwords;
	if ((rc = put_rec(w, rk, flags, (uint8_t)ckind, doclen,
	                  kind == PROTO_KIND_SUPERSEDE ? root : rk, env, len, id)) ||
	    (rc = store_unread_note(txn, s, rk, w->ik.why)))
		return rc;

	/* feed */
	uint32_t feedno;
	if (have_head) {
		feedno = store_get32(head);
	} else {
		uint64_t nf;
		if ((rc = store_counter_add(txn, s, META_NFEEDS, 1)) ||
		    (rc = store_counter_get(txn, s, META_NFEEDS, &nf)))
			return rc;
		feedno = (uint32_t)nf;
		store_be32(head, feedno);
	}
	store_be64(head + 4, rec->seq);
	memcpy(head + 12, id, PROTO_ID_BYTES);
	store_be64(head + 44, rk);
	hval.mv_size = HEAD_VAL;
	hval.mv_data = head;
	if ((rc = store_lmdb_rc(mdb_put(txn, s->heads, &hkey, &hval, 0))) ||
	    (rc = store_moves_note(&w->moves, alliance, rec->author.data, hseq,
	                           governance_kind(kind))))
		return rc;
	uint8_t fk[12], fv[8];
	store_be32(fk, feedno);
	store_be64(fk + 4, rec->seq);
	store_be64(fv, rk);
	MDB_val fkey = { 12, fk }, fval = { 8, fv };
	if ((rc = store_lmdb_rc(mdb_put(txn, s->feeds, &fkey, &fval, 0))) ||
	    (rc = store_endpoint_note(txn, s, rec, alliance, rk)))
		return rc;

	if ((rc = index_put(&w->ik, rk, &w->fb, &w->xb)))
		return rc;
	if ((rc = store_counter_add(txn, s, META_NDOCS, 1)) ||
	    (rc = store_counter_add(txn, s, META_DOCLEN, doclen)))
		return rc;

	if (kind == PROTO_KIND_SUPERSEDE) {
		uint64_t newest = have_chain ? store_get64(chain) : root;
		if ((rc = rec_set_flags(txn, s, newest, REC_F_SUPERSEDED)))
			return rc;
		if (!have_chain) {
			memset(chain, 0, sizeof chain);
			if ((rc = version_add(txn, s, root, root)))
				return rc;
		}
		if ((rc = version_add(txn, s, root, rk)))
			return rc;
		store_be64(chain, rk);
		memcpy(chain + 8, id, PROTO_ID_BYTES);
		if ((rc = chain_put(txn, s, root, chain)))
			return rc;
	} else if (kind == PROTO_KIND_RETRACT) {
		if (!have_chain) {
			MDB_val rv;
			if ((rc = store_rec_read(txn, s, root, &rv)))
				return rc;
			store_be64(chain, root);
			proto_record_id(chain + 8, (const uint8_t *)rv.mv_data + REC_HDR,
			                rv.mv_size - REC_HDR);
			store_be64(chain + 40, 0);
		}
		if (store_get64(chain + 40) == 0) {
			store_be64(chain + 40, rk);
			if ((rc = chain_put(txn, s, root, chain)))
				return rc;
		}
		if ((rc = chain_retract_all(txn, s, root)))
			return rc;
	}
	if (governance_kind(kind) && (rc = store_member_apply(txn, s, rec, alliance, (int)kind)))
		return rc;
	return STORE_NEW;
}

/* ------------------------------------------------------------ the write */

void store_wctx_begin(struct store_wctx *w, MDB_txn *txn)
{
	w->txn = txn;
	w->ch_valid = false;   /* a rerun txn may lack what the last one wrote */
	fts_batch_reset(&w->fb);
	ix_batch_reset(&w->xb);
	store_moves_reset(&w->moves);
}

int store_wctx_finish(struct store_wctx *w)
{
	int rc = ix_batch_apply(w->txn, w->s, &w->xb);
	if (!rc)
		rc = fts_batch_apply(w->txn, w->s, &w->fb);
	return rc ? rc : store_log_append(w->txn, w->s, &w->moves);
}

void store_wctx_dispose(struct store_wctx *w)
{
	index_keys_dispose(&w->ik);
	fts_batch_dispose(&w->fb);
	ix_batch_dispose(&w->xb);
	store_moves_dispose(&w->moves);
}

/* ------------------------------------------------------------- reindex */

/*
 * Rebuild the full-text blocks, the hide entries and the tag keys from
 * recs (opening a store of layout 1 to 5).  The other ix postings are
 * unchanged between layouts.
 */
int store_reindex(MDB_txn *txn, struct store *s)
{
	struct index_keys ik = { 0 };
	struct fts_batch fb = { 0 };
	struct ix_batch xb = { 0 };    /* the tag keys only */
	MDB_cursor *c = NULL;
	size_t queued = 0;
	int rc;
	if ((rc = store_lmdb_rc(mdb_drop(txn, s->fts, 0))) ||
	    (rc = store_lmdb_rc(mdb_drop(txn, s->ftst, 0))) ||
	    (rc = store_lmdb_rc(mdb_drop(txn, s->hide, 0))) || (rc = index_tags_drop(txn, s)) ||
	    (rc = store_lmdb_rc(mdb_cursor_open(txn, s->recs, &c))))
		goto out;
	MDB_val k, v;
	rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_FIRST));
	while (rc == 0) {
		if (k.mv_size != 8 || v.mv_size < REC_HDR) {
			rc = STORE_E_CORRUPT;
			goto out;
		}
		const uint8_t *h = v.mv_data;
		uint64_t rk = store_get64(k.mv_data);
		if (!(h[0] & REC_F_FORK)) {
			if ((rc = store_hide_update(txn, s, rk, h[0], h[1])))
				goto out;
			const uint8_t *env = h + REC_HDR;
			size_t len = v.mv_size - REC_HDR;
			Agora__Record *r;
			if (proto_envelope_decode(&r, env, len, NULL)) {
				rc = STORE_E_CORRUPT;
				goto out;
			}
			uint8_t id[PROTO_ID_BYTES];
			const uint8_t *alliance = id;
			if (proto_record_kind(r) == PROTO_KIND_CHARTER)
				proto_record_id(id, env, len);
			else if (r->alliance.len == PROTO_ID_BYTES)
				alliance = r->alliance.data;
			else
				memset(id, 0, sizeof id);
			rc = index_collect(&ik, s, r, alliance, &fb);
			/* queue the words and tags only: drop the other ix keys */
			index_keys_only_tags(&ik);
			if (!rc)
				rc = index_put(&ik, rk, &fb, &xb);
			queued += ik.nwords;
			agora__record__free_unpacked(r, NULL);
			if (rc)
				goto out;
			if (queued > 4000000) {
				if ((rc = fts_batch_apply(txn, s, &fb)))
					goto out;
				queued = 0;
				/* the cursor is on recs; LMDB keeps it valid across puts elsewhere */
			}
		}
		rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT));
	}
	if (rc == MDB_NOTFOUND && !(rc = fts_batch_apply(txn, s, &fb)))
		rc = ix_batch_apply(txn, s, &xb);
out:
	if (c)
		mdb_cursor_close(c);
	index_keys_dispose(&ik);
	fts_batch_dispose(&fb);
	ix_batch_dispose(&xb);
	return rc;
}
