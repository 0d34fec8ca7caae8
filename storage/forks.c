/*
 * forks.c - fork evidence a peer cannot inflate: how much of it is kept
 * (store_fork_room, used by store_ingest_one for every fork it meets) and
 * fork proofs received from peers (store_ingest_fork).
 *
 * One proof per (alliance, author, seq) is enough to show that author
 * equivocated, and a few per author are enough for everyone to see it: a
 * member that signs thousands of forks of its own feed (or a peer relaying
 * them) must not make every node store and relay them all (issue 10 D6).
 * So a fork beyond the caps is not stored; it reports STORE_KNOWN
 * ("already proven"), and since only new evidence is relayed, relaying
 * ends.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/ingest_int.h"

/* Distinct forks keys starting with prefix, counting up to max. */
static int count_keys(MDB_cursor *c, const uint8_t *prefix, size_t plen, size_t max, size_t *n)
{
	uint8_t kb[72] = { 0 };
	memcpy(kb, prefix, plen);
	MDB_val k = { 72, kb }, v;
	size_t cnt = 0;
	int rc;
	for (rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)); rc == 0 && cnt < max;
	     rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT_NODUP))) {
		if (k.mv_size != 72)
			return STORE_E_CORRUPT;
		if (memcmp(k.mv_data, prefix, plen) != 0)
			break;
		cnt++;
	}
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	*n = cnt;
	return 0;
}

int store_fork_room(MDB_txn *txn, struct store *s, const uint8_t key[72], bool *room)
{
	MDB_cursor *c;
	size_t n;
	int rc = store_lmdb_rc(mdb_cursor_open(txn, s->forks, &c));
	if (rc)
		return rc;
	*room = false;
	if ((rc = count_keys(c, key, 72, 1, &n)) || n)
		goto out;   /* this seq is proven already */
	if ((rc = count_keys(c, key, 64, STORE_FORKS_PER_AUTHOR, &n)) ||
	    n >= STORE_FORKS_PER_AUTHOR)
		goto out;
	if ((rc = count_keys(c, key, 32, STORE_FORKS_PER_ALLIANCE, &n)) ||
	    n >= STORE_FORKS_PER_ALLIANCE)
		goto out;
	*room = true;
out:
	mdb_cursor_close(c);
	return rc;
}

/* Open one envelope of a proof and hold it to the feed position the
 * proof names.  0, a proto code, or STORE_E_RUN. */
static int open_one(Agora__Record **out, uint8_t id[PROTO_ID_BYTES], const uint8_t *env,
                    size_t len, uint64_t now_ms, const uint8_t *alliance, const uint8_t *author,
                    uint64_t seq)
{
	struct proto_error err;
	int rc = proto_envelope_open(out, env, len, now_ms, &err);
	if (rc)
		return rc;
	proto_record_id(id, env, len);
	const Agora__Record *r = *out;
	const uint8_t *al = proto_record_kind(r) == PROTO_KIND_CHARTER ? id
	                  : r->has_alliance && r->alliance.len == PROTO_ID_BYTES ? r->alliance.data
	                  : NULL;
	if (!al || memcmp(al, alliance, PROTO_ID_BYTES) != 0 || r->author.len != PROTO_KEY_BYTES ||
	    memcmp(r->author.data, author, PROTO_KEY_BYTES) != 0 || r->seq != seq)
		return STORE_E_RUN;
	return 0;
}

struct fork_ctx {
	struct store_wctx w;
	const Agora__Record *rec[2];
	const uint8_t *env[2];
	size_t len[2];
	const uint8_t *id[2];
	int result;
};

static int fork_cb(MDB_txn *txn, void *arg)
{
	struct fork_ctx *c = arg;
	int st[2];
	store_wctx_begin(&c->w, txn);
	for (int i = 0; i < 2; i++) {
		st[i] = store_ingest_one(&c->w, c->rec[i], c->env[i], c->len[i], c->id[i]);
		if (store_ingest_fatal(st[i]))
			return st[i];
	}
	c->result = st[0] == STORE_FORKED || st[1] == STORE_FORKED ? STORE_FORKED
	          : st[0] < 0 ? st[0]
	          : st[1] < 0 ? st[1]
	                      : STORE_KNOWN;
	return store_wctx_finish(&c->w);
}

int store_ingest_fork(struct store *s, const uint8_t alliance[PROTO_ID_BYTES],
                      const uint8_t author[PROTO_KEY_BYTES], uint64_t seq, const uint8_t *env_a,
                      size_t len_a, const uint8_t *env_b, size_t len_b, uint64_t now_ms,
                      int *result)
{
	Agora__Record *ra = NULL, *rb = NULL;
	uint8_t ida[PROTO_ID_BYTES], idb[PROTO_ID_BYTES];
	int r, rc = 0;
	if (!s || !alliance || !author || !env_a || !env_b || !result)
		return PROTO_E_ARG;
	if (s->flags & STORE_OPEN_READONLY)
		return STORE_E_READONLY;
	r = open_one(&ra, ida, env_a, len_a, now_ms, alliance, author, seq);
	if (!r)
		r = open_one(&rb, idb, env_b, len_b, now_ms, alliance, author, seq);
	if (!r && memcmp(ida, idb, PROTO_ID_BYTES) == 0)
		r = STORE_E_RUN;   /* one record twice is no fork */
	if (r == PROTO_E_NOMEM) {
		rc = r;
	} else if (r) {
		*result = r;
	} else {
		struct fork_ctx c = { .w = { .s = s, .now_ms = now_ms }, .rec = { ra, rb },
		                      .env = { env_a, env_b }, .len = { len_a, len_b },
		                      .id = { ida, idb } };
		rc = store_write(s, fork_cb, &c);
		if (!rc)
			*result = c.result;
		store_wctx_dispose(&c.w);
	}
	if (ra)
		agora__record__free_unpacked(ra, NULL);
	if (rb)
		agora__record__free_unpacked(rb, NULL);
	return rc;
}
