/*
 * unread.c - the records this build carries without reading them whole,
 * and their reindex after an upgrade (layout and rules in unread_int.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/endpoint_int.h"
#include "storage/index_int.h"
#include "storage/unread_int.h"

/* ------------------------------------------------------------ the stamp */

#define STAMP_SEEN_MAX 64   /* messages reachable from Record (about 20 today) */

struct stamp {
	uint64_t h;     /* FNV-1a, 64 bits */
	const ProtobufCMessageDescriptor *seen[STAMP_SEEN_MAX];
	size_t nseen;
};

static void mix(struct stamp *st, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		st->h = (st->h ^ b[i]) * 1099511628211ULL;
}

static void mix_u64(struct stamp *st, uint64_t v)
{
	uint8_t b[8];
	store_be64(b, v);
	mix(st, b, 8);
}

static void mix_str(struct stamp *st, const char *s)
{
	mix(st, s, strlen(s) + 1);
}

/* Every field number, label and type, every enum value: what the schema
 * lets this build read.  Names are left out: a rename changes no byte. */
static void walk(struct stamp *st, const ProtobufCMessageDescriptor *d)
{
	for (size_t i = 0; i < st->nseen; i++)
		if (st->seen[i] == d)
			return;
	mix_str(st, d->name);
	if (st->nseen == STAMP_SEEN_MAX)
		return;   /* the name still counts; never a loop */
	st->seen[st->nseen++] = d;
	mix_u64(st, d->n_fields);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		mix_u64(st, (uint64_t)f->id << 16 | (uint64_t)f->label << 8 | (uint64_t)f->type);
		if (f->type == PROTOBUF_C_TYPE_ENUM) {
			const ProtobufCEnumDescriptor *e = f->descriptor;
			mix_str(st, e->name);
			for (unsigned j = 0; j < e->n_values; j++)
				mix_u64(st, (uint64_t)(int64_t)e->values[j].value);
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			walk(st, f->descriptor);
		}
	}
}

void store_unread_stamp(struct store *s)
{
	struct stamp st = { .h = 14695981039346656037ULL };
	walk(&st, &agora__record__descriptor);
	mix_u64(&st, STORE_READ_VERSION);
	/* a build that forgets kinds (test hook) reads less: another stamp */
	mix_u64(&st, s->hooks.forget_kinds);
	store_be64(s->read_stamp, st.h);
}

/* ------------------------------------------------------- what is read */

static bool forgotten(const struct store *s, enum proto_kind kind)
{
	return kind > 0 && kind < 64 && (s->hooks.forget_kinds >> kind & 1);
}

unsigned store_unread_why(const struct store *s, const Agora__Record *rec, bool *reads_content)
{
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind = proto_record_content(rec, &msg);
	unsigned newer = proto_record_newer(rec);
	bool forget = forgotten(s, kind);
	if (reads_content)
		*reads_content = msg && !(newer & PROTO_NEWER_UNREADABLE) && !forget;
	if (newer & PROTO_NEWER_UNREADABLE)
		return 0;   /* breaks rules no version changes: never read */
	return (newer & (PROTO_NEWER_KIND | PROTO_NEWER_FIELDS | PROTO_NEWER_CODES)) |
	       (forget ? PROTO_NEWER_KIND : 0);
}

static void note_key(uint8_t k[UNREAD_KEY], const uint8_t stamp[8], uint64_t rk)
{
	memcpy(k, stamp, 8);
	store_be64(k + 8, rk);
}

int store_unread_note(MDB_txn *txn, struct store *s, uint64_t rk, unsigned why)
{
	if (!why || !s->has_unread)
		return 0;
	uint8_t kb[UNREAD_KEY], w = (uint8_t)why;
	note_key(kb, s->read_stamp, rk);
	MDB_val k = { UNREAD_KEY, kb }, v = { 1, &w };
	return store_lmdb_rc(mdb_put(txn, s->unread, &k, &v, 0));
}

/* The alliance a stored record belongs to: its own id for a Charter. */
static int alliance_of(const Agora__Record *r, const uint8_t *env, size_t len,
                       uint8_t id[PROTO_ID_BYTES], const uint8_t **out)
{
	if (proto_record_kind(r) == PROTO_KIND_CHARTER) {
		proto_record_id(id, env, len);
		*out = id;
		return 0;
	}
	if (!r->has_alliance || r->alliance.len != PROTO_ID_BYTES)
		return STORE_E_CORRUPT;   /* it was checked when stored */
	*out = r->alliance.data;
	return 0;
}

int store_unread_scan(MDB_txn *txn, struct store *s)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = store_lmdb_rc(mdb_cursor_open(txn, s->recs, &c));
	if (rc)
		return rc;
	for (rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_FIRST)); rc == 0;
	     rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT))) {
		const uint8_t *h = v.mv_data;
		Agora__Record *r;
		if (k.mv_size != 8 || v.mv_size < REC_HDR) {
			rc = STORE_E_CORRUPT;
			break;
		}
		if (h[0] & REC_F_FORK)
			continue;
		if (proto_envelope_decode(&r, h + REC_HDR, v.mv_size - REC_HDR, NULL)) {
			rc = STORE_E_CORRUPT;
			break;
		}
		unsigned why = store_unread_why(s, r, NULL);
		agora__record__free_unpacked(r, NULL);
		/* a put into another DBI leaves the recs cursor where it is */
		if ((rc = store_unread_note(txn, s, store_get64(k.mv_data), why)))
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ------------------------------------------------------------ re-read */

struct settle {
	struct store *s;
	size_t batch;
	uint8_t *keys;          /* the notes one transaction takes: batch * UNREAD_KEY */
	struct index_keys ik;
	struct fts_batch fb;    /* replace: true */
	struct ix_batch xb;
	/* what the last run of settle_cb did (it may be run again after a
	 * map growth, from scratch) */
	size_t n, indexed;
	bool more;
};

/* Set the document length in rk's recs header to dl (value v). */
static int doclen_set(MDB_txn *txn, struct store *s, uint64_t rk, const MDB_val *v, uint32_t dl)
{
	uint8_t kb[8];
	uint8_t *copy = malloc(v->mv_size);   /* v points into the map, where the put writes */
	if (!copy)
		return -ENOMEM;
	memcpy(copy, v->mv_data, v->mv_size);
	store_be32(copy + 2, dl);
	store_be64(kb, rk);
	MDB_val k = { 8, kb }, nv = { v->mv_size, copy };
	int rc = store_lmdb_rc(mdb_put(txn, s->recs, &k, &nv, 0));
	free(copy);
	return rc;
}

/*
 * Index record rk again with what this build reads.  What an older build
 * indexed of it is a part of what this one does (a kind, field or code
 * never changes meaning: PROTOCOL.md 7.4), so the ix keys are put again
 * (a key already there stays) and the full-text postings replace the old
 * ones (fb.replace); the document length and the BM25 total follow.
 * *why gets what it still does not read whole.
 */
static int reread(MDB_txn *txn, struct settle *st, uint64_t rk, unsigned *why)
{
	struct store *s = st->s;
	MDB_val v;
	Agora__Record *r = NULL;
	uint8_t id[PROTO_ID_BYTES];
	const uint8_t *alliance;
	int rc = store_rec_read(txn, s, rk, &v);
	if (rc)
		return rc;
	const uint8_t *h = v.mv_data;
	uint8_t flags = h[0], kind = h[1];
	uint32_t old_dl = store_get32(h + 2);
	*why = 0;
	if (flags & REC_F_FORK)
		return 0;   /* never noted, never indexed */
	if (proto_envelope_decode(&r, h + REC_HDR, v.mv_size - REC_HDR, NULL))
		return STORE_E_CORRUPT;
	if ((rc = alliance_of(r, h + REC_HDR, v.mv_size - REC_HDR, id, &alliance)) ||
	    (rc = index_collect(&st->ik, s, r, alliance, &st->fb)) ||
	    (rc = index_put(&st->ik, rk, &st->fb, &st->xb)))
		goto out;
	uint32_t dl = st->ik.nwords > UINT32_MAX ? UINT32_MAX : (uint32_t)st->ik.nwords;
	if (dl != old_dl &&
	    ((rc = doclen_set(txn, s, rk, &v, dl)) ||
	     (rc = store_counter_add(txn, s, META_DOCLEN, (int64_t)dl - (int64_t)old_dl))))
		goto out;
	if ((rc = store_hide_update(txn, s, rk, flags, kind)))
		goto out;
	if (!(flags & REC_F_WITHDRAWN) &&
	    (rc = store_endpoint_offer(txn, s, r, alliance, rk)))
		goto out;
	*why = st->ik.why;
out:
	agora__record__free_unpacked(r, NULL);
	return rc;
}

/* Take up to st->batch notes of other stamps into st->keys; st->more says
 * whether any is left after them. */
static int take_notes(MDB_txn *txn, struct settle *st)
{
	const uint8_t *mine = st->s->read_stamp;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = store_lmdb_rc(mdb_cursor_open(txn, st->s->unread, &c));
	if (rc)
		return rc;
	rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_FIRST));
	while (rc == 0) {
		if (k.mv_size != UNREAD_KEY) {
			rc = STORE_E_CORRUPT;
			break;
		}
		if (memcmp(k.mv_data, mine, 8) == 0) {
			/* this build's own notes: past them in one seek */
			uint64_t next = store_get64(mine) + 1;
			uint8_t kb[UNREAD_KEY] = { 0 };
			if (next == 0)
				break;   /* the highest stamp: nothing after it */
			store_be64(kb, next);
			k.mv_size = UNREAD_KEY;
			k.mv_data = kb;
			rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_RANGE));
			continue;
		}
		if (st->n == st->batch) {
			st->more = true;
			break;
		}
		memcpy(st->keys + st->n++ * UNREAD_KEY, k.mv_data, UNREAD_KEY);
		rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT));
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int settle_cb(MDB_txn *txn, void *ctx)
{
	struct settle *st = ctx;
	struct store *s = st->s;
	int rc;
	st->n = st->indexed = 0;
	st->more = false;
	fts_batch_reset(&st->fb);
	ix_batch_reset(&st->xb);
	if ((rc = take_notes(txn, st)))
		return rc;
	for (size_t i = 0; i < st->n; i++) {
		const uint8_t *key = st->keys + i * UNREAD_KEY;
		MDB_val k = { UNREAD_KEY, (void *)key };
		unsigned why;
		if ((rc = store_lmdb_rc(mdb_del(txn, s->unread, &k, NULL))) ||
		    (rc = reread(txn, st, store_get64(key + 8), &why)) ||
		    (rc = store_unread_note(txn, s, store_get64(key + 8), why)))
			return rc;
		st->indexed += !why;
	}
	if ((rc = ix_batch_apply(txn, s, &st->xb)))
		return rc;
	return fts_batch_apply(txn, s, &st->fb);
}

int store_unread_settle(struct store *s)
{
	struct settle st = { .s = s };
	int rc = 0;
	if (!s->has_unread || (s->flags & STORE_OPEN_READONLY))
		return 0;
	st.batch = s->hooks.unread_batch ? s->hooks.unread_batch : UNREAD_BATCH;
	if (!(st.keys = malloc(st.batch * UNREAD_KEY)))
		return -ENOMEM;
	st.fb.replace = true;
	do {
		if ((rc = store_write(s, settle_cb, &st)))
			break;
		s->reread.reread += st.n;
		s->reread.indexed += st.indexed;
	} while (st.more);
	free(st.keys);
	index_keys_dispose(&st.ik);
	fts_batch_dispose(&st.fb);
	ix_batch_dispose(&st.xb);
	return rc;
}
