/*
 * ingest.c - store_ingest, store_publish and store_publish_batch: verify
 * (ingest) or sign (publish), then one shared path, ingest_one(), that
 * checks a record against the stored feeds and writes it and its indexes.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "storage/index_int.h"
#include "storage/members_int.h"

/* Codes that abort the whole transaction rather than reject one item. */
static bool is_fatal(int rc)
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

struct wctx {
	struct store *s;
	MDB_txn *txn;
	struct index_keys ik;
	struct fts_batch fb;    /* full-text postings of this txn, applied at its end */
	struct ix_batch xb;     /* ix postings of this txn, applied at its end */
	/* the alliance whose charter was looked up last in this txn: nearly
	 * every record of a batch names the same one */
	bool ch_valid;
	uint8_t ch_id[PROTO_ID_BYTES];
	uint64_t ch_rk;
};

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
static int check_target(struct wctx *w, const Agora__Record *rec, const uint8_t *alliance,
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

static int put_rec(struct wctx *w, uint64_t rk, uint8_t flags, uint8_t kind, uint32_t doclen,
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

/*
 * Store one opened record.  Returns STORE_NEW, STORE_KNOWN, STORE_FORKED,
 * a rejection code (PROTO_E_SEQ, PROTO_E_PREV, STORE_E_*), or a fatal
 * code (see is_fatal).  Every check comes before the first write, so a
 * rejected item leaves the transaction untouched.
 */
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

static int ingest_one(struct wctx *w, const Agora__Record *rec, const uint8_t *env, size_t len,
                      const uint8_t id[PROTO_ID_BYTES])
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
	if ((rc = store_member_check(txn, s, rec, alliance, (int)kind)))
		return rc;

	if (rec->seq <= hseq) {
		/* A different record at a held position: fork evidence. */
		if ((rc = rowkey_alloc(txn, s, rec->created_ms, &rk)))
			return rc;
		if ((rc = put_rec(w, rk, REC_F_FORK, (uint8_t)ckind, 0, rk, env, len, id)))
			return rc;
		uint8_t fk[72], fv[8];
		memcpy(fk, hk, 64);
		store_be64(fk + 64, rec->seq);
		store_be64(fv, rk);
		MDB_val k = { 72, fk }, v = { 8, fv };
		rc = store_lmdb_rc(mdb_put(txn, s->forks, &k, &v, MDB_NODUPDATA));
		if (rc && rc != MDB_KEYEXIST)
			return rc;
		return STORE_FORKED;
	}
	if (rec->seq != hseq + 1)
		return PROTO_E_SEQ;
	if (hseq > 0 && (!rec->has_prev || rec->prev.len != PROTO_ID_BYTES ||
	                 memcmp(rec->prev.data, head + 12, PROTO_ID_BYTES) != 0))
		return PROTO_E_PREV;

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
	                  kind == PROTO_KIND_SUPERSEDE ? root : rk, env, len, id)))
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
	if ((rc = store_lmdb_rc(mdb_put(txn, s->heads, &hkey, &hval, 0))))
		return rc;
	uint8_t fk[12], fv[8];
	store_be32(fk, feedno);
	store_be64(fk + 4, rec->seq);
	store_be64(fv, rk);
	MDB_val fkey = { 12, fk }, fval = { 8, fv };
	if ((rc = store_lmdb_rc(mdb_put(txn, s->feeds, &fkey, &fval, 0))))
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

/* ---------------------------------------------------------------- ingest */

struct opened {
	Agora__Record *rec;
	int rc;
	uint8_t id[PROTO_ID_BYTES];
};

/*
 * Verification runs in parallel with the write transaction: the batch is
 * cut into chunks; a second thread verifies chunks in order from the
 * front, and the main thread, before storing item i, makes sure i's chunk
 * is verified, verifying the next unclaimed chunk itself while it waits.
 * So both cores verify while there is verifying to do, and the main core
 * stores as soon as records are ready.
 */
#define VERIFY_CHUNK 32

struct verify_pool {
	const struct store_item *items;
	struct opened *op;
	struct proto_error *errs;
	size_t n, nchunks;
	uint64_t now_ms;
	atomic_size_t next;         /* next unclaimed chunk */
	atomic_uint active;         /* threads inside verify_one */
	atomic_uchar *done;         /* per chunk: verified */
	bool run;                   /* items are one feed run (store_batch_run) */
	uint8_t run_alliance[PROTO_ID_BYTES], run_author[PROTO_KEY_BYTES];
	uint64_t run_first;
};

/* Is opened item i the record the batch's feed run names? */
static bool run_match(const struct verify_pool *p, size_t i)
{
	const Agora__Record *r = p->op[i].rec;
	if (r->seq != p->run_first + i || memcmp(r->author.data, p->run_author, PROTO_KEY_BYTES))
		return false;
	if (r->has_alliance)
		return r->alliance.len == PROTO_ID_BYTES &&
		       !memcmp(r->alliance.data, p->run_alliance, PROTO_ID_BYTES);
	return !memcmp(p->op[i].id, p->run_alliance, PROTO_ID_BYTES);   /* a charter */
}

static void verify_chunk(struct verify_pool *p, size_t ch)
{
	size_t to = (ch + 1) * VERIFY_CHUNK < p->n ? (ch + 1) * VERIFY_CHUNK : p->n;
	for (size_t i = ch * VERIFY_CHUNK; i < to; i++) {
		struct proto_error e;
		p->op[i].rc = proto_envelope_open(&p->op[i].rec, p->items[i].env, p->items[i].len,
		                                  p->now_ms, &e);
		if (p->op[i].rc == 0) {
			proto_record_id(p->op[i].id, p->items[i].env, p->items[i].len);
			if (p->run && !run_match(p, i))
				p->op[i].rc = STORE_E_RUN;
		} else if (p->errs) {
			p->errs[i] = e;
		}
	}
	atomic_store_explicit(&p->done[ch], 1, memory_order_release);
}

/* Claim and verify one chunk; false when none is left. */
static bool verify_one(struct verify_pool *p)
{
	atomic_fetch_add(&p->active, 1);
	size_t ch = atomic_fetch_add(&p->next, 1);
	if (ch < p->nchunks)
		verify_chunk(p, ch);
	atomic_fetch_sub(&p->active, 1);
	return ch < p->nchunks;
}

/* Nobody may claim another chunk; wait for the chunks being verified. */
static void verify_cancel(struct verify_pool *p)
{
	atomic_store(&p->next, p->nchunks);
	while (atomic_load(&p->active))
		sched_yield();
}

/* Wait until item i is verified, helping meanwhile. */
static void verify_wait(struct verify_pool *p, size_t i)
{
	size_t ch = i / VERIFY_CHUNK;
	while (!atomic_load_explicit(&p->done[ch], memory_order_acquire))
		if (!verify_one(p))
			sched_yield();  /* the other thread is on it */
}

struct store_batch {
	struct verify_pool vp;
	atomic_uint refs;
};

int store_batch_new(struct store_batch **out, const struct store_item *items, size_t n,
                    uint64_t now_ms, struct proto_error *errs)
{
	struct store_batch *b;
	*out = NULL;
	if (!items && n)
		return PROTO_E_ARG;
	if (!(b = calloc(1, sizeof *b)))
		return -ENOMEM;
	b->vp.items = items;
	b->vp.errs = errs;
	b->vp.n = n;
	b->vp.now_ms = now_ms;
	b->vp.nchunks = (n + VERIFY_CHUNK - 1) / VERIFY_CHUNK;
	b->vp.op = calloc(n ? n : 1, sizeof *b->vp.op);
	b->vp.done = calloc(b->vp.nchunks ? b->vp.nchunks : 1, sizeof *b->vp.done);
	if (!b->vp.op || !b->vp.done) {
		free(b->vp.op);
		free((void *)b->vp.done);
		free(b);
		return -ENOMEM;
	}
	atomic_init(&b->vp.next, 0);
	atomic_init(&b->vp.active, 0);
	for (size_t i = 0; i < b->vp.nchunks; i++)
		atomic_init(&b->vp.done[i], 0);
	atomic_init(&b->refs, 1);
	*out = b;
	return 0;
}

void store_batch_run(struct store_batch *b, const uint8_t alliance[32],
                     const uint8_t author[32], uint64_t first_seq)
{
	b->vp.run = true;
	memcpy(b->vp.run_alliance, alliance, PROTO_ID_BYTES);
	memcpy(b->vp.run_author, author, PROTO_KEY_BYTES);
	b->vp.run_first = first_seq;
}

void store_batch_verify(struct store_batch *b)
{
	while (verify_one(&b->vp))
		;
}

void store_batch_free(struct store_batch *b)
{
	if (!b)
		return;
	/* The caller may free the items once we return: no thread may still
	 * be reading them.  What is left unverified stays so. */
	verify_cancel(&b->vp);
	if (atomic_fetch_sub(&b->refs, 1) != 1)
		return;
	for (size_t i = 0; i < b->vp.n; i++)
		if (b->vp.op[i].rec)
			agora__record__free_unpacked(b->vp.op[i].rec, NULL);
	free(b->vp.op);
	free((void *)b->vp.done);
	free(b);
}

struct ingest_ctx {
	struct wctx w;
	struct store_batch *const *bs;
	size_t nb, total;
	unsigned flags;
	int *status;
	struct store_ingest_stats st;
	int first_err;
};

static int ingest_cb(MDB_txn *txn, void *arg)
{
	struct ingest_ctx *c = arg;
	size_t g = 0;
	c->w.txn = txn;
	c->w.ch_valid = false;   /* a rerun txn may lack what the last one wrote */
	fts_batch_reset(&c->w.fb);
	ix_batch_reset(&c->w.xb);
	memset(&c->st, 0, sizeof c->st);
	c->first_err = 0;
	for (size_t j = 0; j < c->nb; j++) {
		struct verify_pool *vp = &c->bs[j]->vp;
		bool run_broken = false;
		for (size_t i = 0; i < vp->n; i++, g++) {
			store_trim_step(c->w.s, 4);   /* id, head, feed, record pages */
			verify_wait(vp, i);
			int rc = vp->op[i].rc;
			if (rc == STORE_E_RUN || run_broken) {   /* this item and every later one */
				rc = STORE_E_RUN;
				run_broken = true;
			} else if (rc == 0) {
				rc = ingest_one(&c->w, vp->op[i].rec, vp->items[i].env, vp->items[i].len,
				                vp->op[i].id);
				if (is_fatal(rc))
					return rc;
			}
			c->status[g] = rc;
			switch (rc) {
			case STORE_NEW: c->st.added++; break;
			case STORE_KNOWN: c->st.known++; break;
			case STORE_FORKED: c->st.forks++; break;
			default:
				c->st.rejected++;
				if (!c->first_err)
					c->first_err = rc;
				break;
			}
		}
	}
	if ((c->flags & STORE_INGEST_ATOMIC) && c->first_err)
		return c->first_err;
	int rc = ix_batch_apply(txn, c->w.s, &c->w.xb);
	return rc ? rc : fts_batch_apply(txn, c->w.s, &c->w.fb);
}

int store_ingest_batches(struct store *s, struct store_batch *const *bs, size_t nb,
                         unsigned flags, int *status, struct store_ingest_stats *stats)
{
	if (!s || (!bs && nb))
		return PROTO_E_ARG;
	if (s->flags & STORE_OPEN_READONLY)
		return STORE_E_READONLY;
	struct ingest_ctx c = { .w = { .s = s }, .bs = bs, .nb = nb, .flags = flags };
	int rc;
	for (size_t j = 0; j < nb; j++)
		c.total += bs[j]->vp.n;
	if (!(c.status = calloc(c.total ? c.total : 1, sizeof *c.status))) {
		rc = -ENOMEM;
		goto out;
	}
	rc = store_write(s, ingest_cb, &c);
	if (rc && (flags & STORE_INGEST_ATOMIC) && rc == c.first_err) {
		/* rolled back: report the failing items and roll back the rest */
		for (size_t i = 0; i < c.total; i++)
			if (c.status[i] >= 0)
				c.status[i] = STORE_E_ROLLBACK;
		c.st.added = c.st.known = c.st.forks = 0;
	} else if (rc) {
		goto out;
	}
	if (status)
		memcpy(status, c.status, c.total * sizeof *status);
	if (stats)
		*stats = c.st;
out:
	free(c.status);
	index_keys_dispose(&c.w.ik);
	fts_batch_dispose(&c.w.fb);
	ix_batch_dispose(&c.w.xb);
	return rc;
}

static void *verify_thread(void *arg)
{
	store_batch_verify(arg);
	return NULL;
}

int store_ingest(struct store *s, const struct store_item *items, size_t n, unsigned flags,
                 uint64_t now_ms, int *status, struct proto_error *errs,
                 struct store_ingest_stats *stats)
{
	struct store_batch *b;
	pthread_t th;
	bool threaded = false;
	int rc;
	if (!s || (!items && n))
		return PROTO_E_ARG;
	if (s->flags & STORE_OPEN_READONLY)
		return STORE_E_READONLY;
	if ((rc = store_batch_new(&b, items, n, now_ms, errs)))
		return rc;
	/* Signature checks dominate: a second thread for large batches. */
	if (n >= 2 * VERIFY_CHUNK)
		threaded = pthread_create(&th, NULL, verify_thread, b) == 0;
	rc = store_ingest_batches(s, &b, 1, flags, status, stats);
	if (threaded) {
		verify_cancel(&b->vp);    /* after an early failure: stop verifying */
		pthread_join(th, NULL);
	}
	store_batch_free(b);
	return rc;
}

/* ------------------------------------------------------------- verifier */

#define VERIFIER_MAX 16

struct store_verifier {
	pthread_t th[VERIFIER_MAX];
	size_t nth;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct vq {
		struct store_batch *b;
		struct vq *next;
	} *head, *tail;
	bool stop;
};

/* Each thread takes the oldest batch nobody has taken: with two threads,
 * batches k and k + 1 are verified at once. */
static void *verifier_main(void *arg)
{
	struct store_verifier *v = arg;
#ifdef __linux__
	prctl(PR_SET_NAME, "agora-verify");   /* so top -H and perf tell it apart */
#endif
	pthread_mutex_lock(&v->mu);
	for (;;) {
		while (!v->head && !v->stop)
			pthread_cond_wait(&v->cv, &v->mu);
		struct vq *q = v->head;
		if (!q)
			break;   /* stopping, queue empty */
		v->head = q->next;
		if (!v->head)
			v->tail = NULL;
		bool stopping = v->stop;   /* read under the lock */
		pthread_mutex_unlock(&v->mu);
		if (!stopping)
			store_batch_verify(q->b);
		store_batch_free(q->b);
		free(q);
		pthread_mutex_lock(&v->mu);
	}
	pthread_mutex_unlock(&v->mu);
	return NULL;
}

static void verifier_join(struct store_verifier *v)
{
	pthread_mutex_lock(&v->mu);
	v->stop = true;
	pthread_cond_broadcast(&v->cv);
	pthread_mutex_unlock(&v->mu);
	for (size_t i = 0; i < v->nth; i++)
		pthread_join(v->th[i], NULL);
	pthread_cond_destroy(&v->cv);
	pthread_mutex_destroy(&v->mu);
	free(v);
}

int store_verifier_start(struct store_verifier **out, unsigned threads)
{
	struct store_verifier *v = calloc(1, sizeof *v);
	*out = NULL;
	if (!v)
		return -ENOMEM;
	if (threads < 1)
		threads = 1;
	if (threads > VERIFIER_MAX)
		threads = VERIFIER_MAX;
	if (pthread_mutex_init(&v->mu, NULL)) {
		free(v);
		return -EAGAIN;
	}
	if (pthread_cond_init(&v->cv, NULL)) {
		pthread_mutex_destroy(&v->mu);
		free(v);
		return -EAGAIN;
	}
	for (; v->nth < threads; v->nth++)
		if (pthread_create(&v->th[v->nth], NULL, verifier_main, v))
			break;
	if (!v->nth) {
		verifier_join(v);
		return -EAGAIN;
	}
	*out = v;
	return 0;
}

int store_verifier_add(struct store_verifier *v, struct store_batch *b)
{
	struct vq *q = malloc(sizeof *q);
	if (!q)
		return -ENOMEM;
	atomic_fetch_add(&b->refs, 1);
	q->b = b;
	q->next = NULL;
	pthread_mutex_lock(&v->mu);
	if (v->tail)
		v->tail->next = q;
	else
		v->head = q;
	v->tail = q;
	pthread_cond_signal(&v->cv);
	pthread_mutex_unlock(&v->mu);
	return 0;
}

void store_verifier_stop(struct store_verifier *v)
{
	if (v)
		verifier_join(v);
}

/* --------------------------------------------------------------- publish */

struct publish_ctx {
	struct wctx w;
	const struct proto_key *key;
	const uint8_t *alliance;
	Agora__Record **recs;
	size_t n;
	uint64_t now_ms;
	store_prepare_cb prepare;
	void *pctx;
	uint8_t (*ids)[PROTO_ID_BYTES];
	uint8_t *env;       /* the last signed envelope */
	size_t env_len;
	size_t failed;
	struct proto_error err;
};

static int floor_get(MDB_txn *txn, struct store *s, const uint8_t *alliance,
                     const uint8_t *author, uint64_t *floor)
{
	char key[6 + 64 + 1 + 64 + 1];
	memcpy(key, "floor/", 6);
	proto_hex(key + 6, alliance, 32);
	key[70] = '/';
	proto_hex(key + 71, author, 32);
	MDB_val k = { strlen(key), key }, v;
	int rc = store_lmdb_rc(mdb_get(txn, s->meta, &k, &v));
	*floor = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (v.mv_size == 8)
		*floor = store_get64(v.mv_data);
	return 0;
}

static void set_err(struct proto_error *e, int code, const char *field, const char *msg)
{
	e->code = code;
	snprintf(e->field, sizeof e->field, "%s", field);
	snprintf(e->msg, sizeof e->msg, "%s", msg);
}

static int publish_cb(MDB_txn *txn, void *arg)
{
	struct publish_ctx *c = arg;
	struct store *s = c->w.s;
	c->w.txn = txn;
	c->w.ch_valid = false;   /* a rerun txn may lack what the last one wrote */
	fts_batch_reset(&c->w.fb);
	ix_batch_reset(&c->w.xb);
	free(c->env);
	c->env = NULL;
	memset(&c->err, 0, sizeof c->err);
	for (size_t i = 0; i < c->n; i++) {
		int rc;
		store_trim_step(c->w.s, 4);
		c->failed = i;
		if (c->prepare && (rc = c->prepare(c->recs[i], i,
		                                   (const uint8_t (*)[PROTO_ID_BYTES])c->ids,
		                                   c->pctx))) {
			set_err(&c->err, rc, "", "the record could not be prepared");
			return rc;
		}
		Agora__Record copy = *c->recs[i];
		bool charter = proto_record_kind(&copy) == PROTO_KIND_CHARTER;
		if (charter != (c->alliance == NULL)) {
			set_err(&c->err, PROTO_E_ARG, "alliance",
			        charter ? "a charter founds an alliance and names none"
			                : "this record needs an alliance");
			return PROTO_E_ARG;
		}
		uint8_t prev[PROTO_ID_BYTES];
		uint64_t seq = 1;
		if (!charter) {
			uint8_t hk[64];
			memcpy(hk, c->alliance, 32);
			memcpy(hk + 32, c->key->pk, 32);
			MDB_val k = { 64, hk }, v;
			rc = store_lmdb_rc(mdb_get(txn, s->heads, &k, &v));
			if (rc == 0) {
				if (v.mv_size != HEAD_VAL)
					return STORE_E_CORRUPT;
				seq = store_get64((const uint8_t *)v.mv_data + 4) + 1;
				memcpy(prev, (const uint8_t *)v.mv_data + 12, PROTO_ID_BYTES);
			} else if (rc != MDB_NOTFOUND) {
				return rc;
			}
			uint64_t floor;
			if ((rc = floor_get(txn, s, c->alliance, c->key->pk, &floor)))
				return rc;
			if (seq <= floor) {
				set_err(&c->err, STORE_E_FORK, "seq",
				        "a peer holds a newer record of this feed; sync before publishing");
				return STORE_E_FORK;
			}
		}
		copy.has_alliance = !charter;
		copy.alliance.len = charter ? 0 : PROTO_ID_BYTES;
		copy.alliance.data = charter ? NULL : (uint8_t *)c->alliance;
		copy.has_author = 1;
		copy.author.len = PROTO_KEY_BYTES;
		copy.author.data = (uint8_t *)c->key->pk;
		copy.has_seq = 1;
		copy.seq = seq;
		copy.has_prev = seq > 1;
		copy.prev.len = seq > 1 ? PROTO_ID_BYTES : 0;
		copy.prev.data = seq > 1 ? prev : NULL;
		copy.has_created_ms = 1;
		copy.created_ms = c->now_ms;

		uint8_t *env = NULL;
		size_t len = 0;
		uint8_t id[PROTO_ID_BYTES];
		rc = proto_record_sign(&env, &len, id, &copy, c->key, c->now_ms, &c->err);
		if (rc)
			return rc;
		rc = ingest_one(&c->w, &copy, env, len, id);
		if (rc == STORE_NEW || rc == STORE_KNOWN) {
			rc = 0;
		} else {
			if (rc == STORE_FORKED)
				rc = STORE_E_FORK;
			if (!is_fatal(rc))
				set_err(&c->err, rc, "", store_strerror(rc));
		}
		if (rc) {
			free(env);
			return rc;
		}
		memcpy(c->ids[i], id, PROTO_ID_BYTES);
		free(c->env);
		c->env = env;
		c->env_len = len;
	}
	int rc = ix_batch_apply(txn, s, &c->w.xb);
	return rc ? rc : fts_batch_apply(txn, s, &c->w.fb);
}

static int publish(struct store *s, const struct proto_key *key, const uint8_t *alliance,
                   Agora__Record **recs, size_t n, uint64_t now_ms, store_prepare_cb prepare,
                   void *pctx, uint8_t (*ids)[PROTO_ID_BYTES], uint8_t **env_out,
                   size_t *env_len, size_t *failed, struct proto_error *err)
{
	if (!s || !key || (!recs && n))
		return PROTO_E_ARG;
	for (size_t i = 0; i < n; i++)
		if (!recs[i])
			return PROTO_E_ARG;
	if (s->flags & STORE_OPEN_READONLY)
		return STORE_E_READONLY;
	struct publish_ctx c = { .w = { .s = s }, .key = key, .alliance = alliance, .recs = recs,
	                         .n = n, .now_ms = now_ms, .prepare = prepare, .pctx = pctx };
	c.ids = calloc(n ? n : 1, PROTO_ID_BYTES);
	if (!c.ids)
		return -ENOMEM;
	int rc = store_write(s, publish_cb, &c);
	if (rc) {
		if (failed)
			*failed = c.failed;
		if (err) {
			*err = c.err;
			if (!err->code) {
				err->code = rc;
				snprintf(err->msg, sizeof err->msg, "%s", store_strerror(rc));
			}
		}
		goto out;
	}
	if (ids)
		memcpy(ids, c.ids, n * PROTO_ID_BYTES);
	if (env_out && env_len) {
		*env_out = c.env;
		*env_len = c.env_len;
		c.env = NULL;
	}
out:
	free(c.env);
	free(c.ids);
	index_keys_dispose(&c.w.ik);
	fts_batch_dispose(&c.w.fb);
	ix_batch_dispose(&c.w.xb);
	return rc;
}

int store_publish(struct store *s, const struct proto_key *key, const uint8_t *alliance,
                  Agora__Record *rec, uint64_t now_ms, uint8_t id_out[PROTO_ID_BYTES],
                  uint8_t **env_out, size_t *env_len, struct proto_error *err)
{
	uint8_t id[1][PROTO_ID_BYTES];
	if (!rec)
		return PROTO_E_ARG;
	int rc = publish(s, key, alliance, &rec, 1, now_ms, NULL, NULL, id, env_out, env_len,
	                 NULL, err);
	if (rc == 0 && id_out)
		memcpy(id_out, id[0], PROTO_ID_BYTES);
	return rc;
}

int store_publish_batch(struct store *s, const struct proto_key *key, const uint8_t *alliance,
                        Agora__Record **recs, size_t n, uint64_t now_ms,
                        store_prepare_cb prepare, void *ctx,
                        uint8_t (*ids)[PROTO_ID_BYTES], size_t *failed, struct proto_error *err)
{
	return publish(s, key, alliance, recs, n, now_ms, prepare, ctx, ids, NULL, NULL, failed,
	               err);
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
