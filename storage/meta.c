/*
 * meta.c - the small records kept in the meta DBI, each with one owner:
 * its key, its encoding and its typed functions live here, and no other
 * code (in storage/ or outside) spells its key.  (Membership keeps its own
 * rows in members.c.)  Keys and values:
 *
 *   "default-alliance"             -> alliance id(32)
 *   "seen/<key hex>"               -> wall-clock ms(8): agorad's last session
 *   "invite/<BLAKE2b-256(token) hex>" -> alliance(32) | role(1) |
 *                                     expires_ms(8, 0: never) | used(1) |
 *                                     name | 0 | country | 0
 *   "join/<coordinator key hex>"   -> alliance(32) | token(32)
 *   "floor/<alliance hex>/<author hex>" -> seq(8): store_publish refuses
 *                                     that seq and below
 *   "conflict/<alliance hex>/<author hex>" -> seq(8): the lowest seq at
 *                                     which a signed record of this node's
 *                                     own feed differs from the one held
 *   "expiry/<alliance hex>/<member hex>" -> seq(8): the member's head when
 *                                     this node saw its admission expired;
 *                                     records past it are refused
 *   "pending/<alliance hex>/<seq: 16 hex digits>" -> an envelope this
 *                                     node signed in advance for an alliance
 *                                     it does not hold yet (agora join);
 *                                     store_pending_ingest stores it
 *   "invites-open"                 -> (layout 5 before typed meta: "an
 *                                     invite was ever made"; no longer
 *                                     read or written)
 *
 * All integers big-endian.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "storage/meta_int.h"

#define INVITE_HDR 42
#define KEY_MAX 160

static size_t key_hex1(char *buf, const char *prefix, const uint8_t a[32])
{
	size_t n = strlen(prefix);
	memcpy(buf, prefix, n);
	proto_hex(buf + n, a, 32);
	return n + 64;
}

static size_t key_hex2(char *buf, const char *prefix, const uint8_t a[32], const uint8_t b[32])
{
	size_t n = key_hex1(buf, prefix, a);
	buf[n] = '/';
	proto_hex(buf + n + 1, b, 32);
	return n + 65;
}

/* Raw get of key into v (valid for the txn): 0, MDB_NOTFOUND or an error. */
static int raw_get(MDB_txn *txn, struct store *s, const char *key, size_t klen, MDB_val *v)
{
	MDB_val k = { klen, (void *)key };
	return store_lmdb_rc(mdb_get(txn, s->meta, &k, v));
}

static int raw_put(MDB_txn *txn, struct store *s, const char *key, size_t klen,
                   const void *val, size_t len)
{
	MDB_val k = { klen, (void *)key }, v = { len, (void *)val };
	return store_lmdb_rc(mdb_put(txn, s->meta, &k, &v, 0));
}

static int raw_del(MDB_txn *txn, struct store *s, const char *key, size_t klen)
{
	MDB_val k = { klen, (void *)key };
	int rc = store_lmdb_rc(mdb_del(txn, s->meta, &k, NULL));
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* A 64-bit value: 0 and *v, STORE_E_NOTFOUND, or an error. */
static int get_u64(MDB_txn *txn, struct store *s, const char *key, size_t klen, uint64_t *v)
{
	MDB_val d;
	int rc = raw_get(txn, s, key, klen, &d);
	if (rc == MDB_NOTFOUND)
		return STORE_E_NOTFOUND;
	if (rc)
		return rc;
	if (d.mv_size != 8)
		return STORE_E_CORRUPT;
	*v = store_get64(d.mv_data);
	return 0;
}

static int put_u64(MDB_txn *txn, struct store *s, const char *key, size_t klen, uint64_t v)
{
	uint8_t b[8];
	store_be64(b, v);
	return raw_put(txn, s, key, klen, b, 8);
}

/* A one-put or one-delete write of its own. */
struct put_ctx {
	struct store *s;
	const char *key;
	size_t klen;
	const void *val;    /* NULL: delete */
	size_t len;
};

static int put_cb(MDB_txn *txn, void *arg)
{
	struct put_ctx *c = arg;
	if (!c->val)
		return raw_del(txn, c->s, c->key, c->klen);
	return raw_put(txn, c->s, c->key, c->klen, c->val, c->len);
}

static int write_one(struct store *s, const char *key, size_t klen, const void *val, size_t len)
{
	struct put_ctx c = { s, key, klen, val, len };
	return store_write(s, put_cb, &c);
}

/* ------------------------------------------------------ default alliance */

#define KEY_DEFAULT "default-alliance"

int store_default_alliance_get(struct store_txn *t, uint8_t out[PROTO_ID_BYTES])
{
	MDB_val d;
	if (!t || !out)
		return PROTO_E_ARG;
	int rc = raw_get(t->txn, t->s, KEY_DEFAULT, strlen(KEY_DEFAULT), &d);
	if (rc)
		return store_map_err(rc);
	if (d.mv_size != PROTO_ID_BYTES)
		return STORE_E_CORRUPT;
	memcpy(out, d.mv_data, PROTO_ID_BYTES);
	return 0;
}

int store_default_alliance_set(struct store *s, const uint8_t alliance[PROTO_ID_BYTES])
{
	if (!s || !alliance)
		return PROTO_E_ARG;
	return write_one(s, KEY_DEFAULT, strlen(KEY_DEFAULT), alliance, PROTO_ID_BYTES);
}

/* ------------------------------------------------------------------ seen */

int store_seen_get(struct store_txn *t, const uint8_t key[PROTO_KEY_BYTES], uint64_t *ms_out)
{
	char k[KEY_MAX];
	uint64_t v;
	if (!t || !key || !ms_out)
		return PROTO_E_ARG;
	int rc = get_u64(t->txn, t->s, k, key_hex1(k, "seen/", key), &v);
	if (rc)
		return store_map_err(rc);
	*ms_out = v;
	return 0;
}

int store_seen_put(struct store *s, const uint8_t key[PROTO_KEY_BYTES], uint64_t ms)
{
	char k[KEY_MAX];
	uint8_t b[8];
	if (!s || !key)
		return PROTO_E_ARG;
	store_be64(b, ms);
	return write_one(s, k, key_hex1(k, "seen/", key), b, 8);
}

struct seen_ctx {
	struct store *s;
	const struct store_seen *v;
	size_t n;
};

static int seen_cb(MDB_txn *txn, void *arg)
{
	struct seen_ctx *c = arg;
	for (size_t i = 0; i < c->n; i++) {
		char k[KEY_MAX];
		uint8_t b[8];
		store_be64(b, c->v[i].ms);
		int rc = raw_put(txn, c->s, k, key_hex1(k, "seen/", c->v[i].key), b, 8);
		if (rc)
			return rc;
	}
	return 0;
}

int store_seen_put_many(struct store *s, const struct store_seen *v, size_t n)
{
	struct seen_ctx c = { s, v, n };
	if (!s || (!v && n))
		return PROTO_E_ARG;
	return n ? store_write(s, seen_cb, &c) : 0;
}

/* --------------------------------------------------------------- invites */

/* The key of token's invite: its hash, never the token. */
static size_t invite_key(char *buf, const uint8_t token[STORE_TOKEN_BYTES])
{
	uint8_t hash[32];
	crypto_generichash(hash, sizeof hash, token, STORE_TOKEN_BYTES, NULL, 0);
	return key_hex1(buf, "invite/", hash);
}

static int invite_decode(struct store_invite *out, const MDB_val *d)
{
	const uint8_t *p = d->mv_data;
	if (d->mv_size < INVITE_HDR + 2)
		return STORE_E_CORRUPT;
	memset(out, 0, sizeof *out);
	memcpy(out->alliance, p, 32);
	out->role = p[32];
	out->expires_ms = store_get64(p + 33);
	out->used = p[41] != 0;
	const char *name = (const char *)p + INVITE_HDR;
	size_t rest = d->mv_size - INVITE_HDR;
	size_t nl = strnlen(name, rest);
	if (nl >= rest)
		return STORE_E_CORRUPT;
	size_t cl = strnlen(name + nl + 1, rest - nl - 1);
	if (cl >= rest - nl - 1)
		return STORE_E_CORRUPT;
	snprintf(out->name, sizeof out->name, "%s", name);
	snprintf(out->country, sizeof out->country, "%s", name + nl + 1);
	return 0;
}

/* Encode into buf (INVITE_HDR + both strings); returns the length. */
static size_t invite_encode(uint8_t *buf, const struct store_invite *iv)
{
	size_t nl = strnlen(iv->name, sizeof iv->name - 1);
	size_t cl = strnlen(iv->country, sizeof iv->country - 1);
	memcpy(buf, iv->alliance, 32);
	buf[32] = (uint8_t)iv->role;
	store_be64(buf + 33, iv->expires_ms);
	buf[41] = iv->used;
	memcpy(buf + INVITE_HDR, iv->name, nl);
	buf[INVITE_HDR + nl] = 0;
	memcpy(buf + INVITE_HDR + nl + 1, iv->country, cl);
	buf[INVITE_HDR + nl + 1 + cl] = 0;
	return INVITE_HDR + nl + cl + 2;
}

#define INVITE_VAL_MAX (INVITE_HDR + sizeof((struct store_invite *)0)->name + \
                        sizeof((struct store_invite *)0)->country)

int store_invite_put(struct store *s, const uint8_t token[STORE_TOKEN_BYTES],
                     const struct store_invite *iv)
{
	char k[KEY_MAX];
	uint8_t buf[INVITE_VAL_MAX];
	if (!s || !token || !iv || iv->role < 0 || iv->role > 255)
		return PROTO_E_ARG;
	size_t klen = invite_key(k, token);
	return write_one(s, k, klen, buf, invite_encode(buf, iv));
}

int store_invite_get(struct store_txn *t, const uint8_t token[STORE_TOKEN_BYTES],
                     struct store_invite *out)
{
	char k[KEY_MAX];
	MDB_val d;
	struct store_invite iv;
	if (!t || !token || !out)
		return PROTO_E_ARG;
	int rc = raw_get(t->txn, t->s, k, invite_key(k, token), &d);
	if (!rc)
		rc = invite_decode(&iv, &d);
	if (rc)
		return store_map_err(rc);
	*out = iv;
	return 0;
}

int store_invite_del(struct store *s, const uint8_t token[STORE_TOKEN_BYTES])
{
	char k[KEY_MAX];
	if (!s || !token)
		return PROTO_E_ARG;
	size_t klen = invite_key(k, token);
	return write_one(s, k, klen, NULL, 0);
}

struct use_ctx {
	struct store *s;
	const char *key;
	size_t klen;
	const uint8_t *alliance;
	uint64_t now_ms;
	struct store_invite iv;
};

static int use_cb(MDB_txn *txn, void *arg)
{
	struct use_ctx *c = arg;
	MDB_val d;
	uint8_t buf[INVITE_VAL_MAX];
	int rc = raw_get(txn, c->s, c->key, c->klen, &d);
	if (rc == MDB_NOTFOUND)
		return STORE_E_NOTFOUND;
	if (rc || (rc = invite_decode(&c->iv, &d)))
		return rc;
	/* an invite for another alliance is no invite for this one */
	if (sodium_memcmp(c->iv.alliance, c->alliance, PROTO_ID_BYTES) != 0)
		return STORE_E_NOTFOUND;
	if (c->iv.used)
		return STORE_E_USED;
	if (c->iv.expires_ms && c->now_ms >= c->iv.expires_ms)
		return STORE_E_EXPIRED;
	c->iv.used = true;
	return raw_put(txn, c->s, c->key, c->klen, buf, invite_encode(buf, &c->iv));
}

int store_invite_use(struct store *s, const uint8_t token[STORE_TOKEN_BYTES],
                     const uint8_t alliance[PROTO_ID_BYTES], uint64_t now_ms,
                     struct store_invite *out)
{
	char k[KEY_MAX];
	if (!s || !token || !alliance)
		return PROTO_E_ARG;
	struct use_ctx c = { .s = s, .key = k, .alliance = alliance, .now_ms = now_ms };
	c.klen = invite_key(k, token);
	int rc = store_write(s, use_cb, &c);
	if (rc)
		return rc;
	if (out)
		*out = c.iv;
	return 0;
}

int store_invites_open(struct store_txn *t, uint64_t now_ms, bool *open)
{
	return store_invites_state(t, now_ms, open, NULL);
}

int store_invites_state(struct store_txn *t, uint64_t now_ms, bool *open, bool *made)
{
	static const char prefix[] = "invite/";
	MDB_cursor *c;
	bool any = false, some = false;
	if (!t || !open)
		return PROTO_E_ARG;
	int rc = store_lmdb_rc(mdb_cursor_open(t->txn, t->s->meta, &c));
	if (rc)
		return store_map_err(rc);
	MDB_val k = { sizeof prefix - 1, (void *)prefix }, d;
	for (rc = store_lmdb_rc(mdb_cursor_get(c, &k, &d, MDB_SET_RANGE)); rc == 0 && !any;
	     rc = store_lmdb_rc(mdb_cursor_get(c, &k, &d, MDB_NEXT))) {
		struct store_invite iv;
		if (k.mv_size < sizeof prefix - 1 || memcmp(k.mv_data, prefix, sizeof prefix - 1))
			break;
		some = true;
		if (invite_decode(&iv, &d) == 0)   /* a damaged one opens nothing */
			any = !iv.used && (!iv.expires_ms || now_ms < iv.expires_ms);
	}
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return store_map_err(rc);
	*open = any;
	if (made)
		*made = some;
	return 0;
}

/* ------------------------------------------------------------------ join */

int store_join_put(struct store *s, const uint8_t coordinator[PROTO_KEY_BYTES],
                   const uint8_t alliance[PROTO_ID_BYTES],
                   const uint8_t token[STORE_TOKEN_BYTES])
{
	char k[KEY_MAX];
	uint8_t v[PROTO_ID_BYTES + STORE_TOKEN_BYTES];
	if (!s || !coordinator || !alliance || !token)
		return PROTO_E_ARG;
	memcpy(v, alliance, PROTO_ID_BYTES);
	memcpy(v + PROTO_ID_BYTES, token, STORE_TOKEN_BYTES);
	int rc = write_one(s, k, key_hex1(k, "join/", coordinator), v, sizeof v);
	sodium_memzero(v, sizeof v);
	return rc;
}

int store_join_get(struct store_txn *t, const uint8_t coordinator[PROTO_KEY_BYTES],
                   uint8_t alliance_out[PROTO_ID_BYTES], uint8_t token_out[STORE_TOKEN_BYTES])
{
	char k[KEY_MAX];
	MDB_val d;
	if (!t || !coordinator)
		return PROTO_E_ARG;
	int rc = raw_get(t->txn, t->s, k, key_hex1(k, "join/", coordinator), &d);
	if (rc)
		return store_map_err(rc);
	if (d.mv_size != PROTO_ID_BYTES + STORE_TOKEN_BYTES)
		return STORE_E_CORRUPT;
	if (alliance_out)
		memcpy(alliance_out, d.mv_data, PROTO_ID_BYTES);
	if (token_out)
		memcpy(token_out, (const uint8_t *)d.mv_data + PROTO_ID_BYTES, STORE_TOKEN_BYTES);
	return 0;
}

int store_join_del(struct store *s, const uint8_t coordinator[PROTO_KEY_BYTES])
{
	char k[KEY_MAX];
	if (!s || !coordinator)
		return PROTO_E_ARG;
	return write_one(s, k, key_hex1(k, "join/", coordinator), NULL, 0);
}

/* --------------------------------------------------------------- pending */

#define PENDING "pending/"
#define PENDING_KEY (sizeof(PENDING) - 1 + 64 + 1 + 16)

static size_t pending_key(char *buf, const uint8_t alliance[32], uint64_t seq)
{
	size_t n = key_hex1(buf, PENDING, alliance);
	snprintf(buf + n, KEY_MAX - n, "/%016llx", (unsigned long long)seq);
	return n + 17;
}

/* Parse a pending key: true, with its alliance and seq. */
static bool pending_parse(const MDB_val *k, uint8_t alliance[32], uint64_t *seq)
{
	const char *p = k->mv_data;
	char hex[17];
	size_t pl = sizeof(PENDING) - 1;
	if (k->mv_size != PENDING_KEY || memcmp(p, PENDING, pl) || p[pl + 64] != '/')
		return false;
	char ahex[65];
	memcpy(ahex, p + pl, 64);
	ahex[64] = 0;
	if (proto_unhex(alliance, 32, ahex))
		return false;
	memcpy(hex, p + pl + 65, 16);
	hex[16] = 0;
	uint64_t v = 0;
	for (int i = 0; i < 16; i++) {
		char c = hex[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*seq = v;
	return true;
}

/* Every pending key of alliance (NULL: all) in txn, in order, to cb. */
typedef int (*pending_walk_cb)(MDB_cursor *c, const MDB_val *k, const MDB_val *v,
                               const uint8_t alliance[32], uint64_t seq, void *ctx);
static int pending_walk(MDB_txn *txn, struct store *s, const uint8_t *alliance,
                        pending_walk_cb cb, void *ctx)
{
	char start[KEY_MAX];
	size_t sl = alliance ? key_hex1(start, PENDING, alliance) : sizeof(PENDING) - 1;
	MDB_cursor *c;
	if (!alliance)
		memcpy(start, PENDING, sl);
	int rc = store_lmdb_rc(mdb_cursor_open(txn, s->meta, &c));
	if (rc)
		return rc;
	MDB_val k = { sl, start }, v;
	for (rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)); rc == 0;
	     rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT))) {
		uint8_t a[32];
		uint64_t seq;
		if (k.mv_size < sl || memcmp(k.mv_data, start, sl))
			break;
		if (!pending_parse(&k, a, &seq)) {
			rc = STORE_E_CORRUPT;
			break;
		}
		if ((rc = cb(c, &k, &v, a, seq, ctx)))
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int pending_del_cb(MDB_cursor *c, const MDB_val *k, const MDB_val *v,
                          const uint8_t alliance[32], uint64_t seq, void *ctx)
{
	(void)k, (void)v, (void)alliance, (void)seq, (void)ctx;
	return store_lmdb_rc(mdb_cursor_del(c, 0));
}

struct pending_put {
	struct store *s;
	const uint8_t *alliance;
	const struct store_item *items;
	const uint64_t *seqs;
	size_t n;
};

static int pending_put_cb(MDB_txn *txn, void *arg)
{
	struct pending_put *p = arg;
	int rc = pending_walk(txn, p->s, p->alliance, pending_del_cb, NULL);
	for (size_t i = 0; i < p->n && !rc; i++) {
		char k[KEY_MAX];
		rc = raw_put(txn, p->s, k, pending_key(k, p->alliance, p->seqs[i]), p->items[i].env,
		             p->items[i].len);
	}
	return rc;
}

int store_pending_put(struct store *s, const uint8_t alliance[PROTO_ID_BYTES],
                      const struct store_item *items, size_t n)
{
	uint64_t *seqs = NULL;
	int rc = 0;
	if (!s || !alliance || (n && !items))
		return PROTO_E_ARG;
	if (n && !(seqs = calloc(n, sizeof *seqs)))
		return -ENOMEM;
	for (size_t i = 0; i < n && !rc; i++) {
		Agora__Record *r = NULL;
		if (proto_envelope_decode(&r, items[i].env, items[i].len, NULL)) {
			rc = PROTO_E_ARG;
			break;
		}
		seqs[i] = r->seq;
		if (!r->has_alliance || r->alliance.len != PROTO_ID_BYTES ||
		    memcmp(r->alliance.data, alliance, PROTO_ID_BYTES) ||
		    (i && seqs[i] != seqs[i - 1] + 1))
			rc = PROTO_E_ARG;
		agora__record__free_unpacked(r, NULL);
	}
	if (!rc) {
		struct pending_put p = { s, alliance, items, seqs, n };
		rc = store_write(s, pending_put_cb, &p);
	}
	free(seqs);
	return rc;
}

struct pending_list {
	store_pending_cb cb;
	void *ctx;
};

static int pending_list_cb(MDB_cursor *c, const MDB_val *k, const MDB_val *v,
                           const uint8_t alliance[32], uint64_t seq, void *ctx)
{
	struct pending_list *l = ctx;
	(void)c, (void)k;
	return l->cb(alliance, seq, v->mv_data, v->mv_size, l->ctx);
}

int store_pending_list(struct store_txn *t, const uint8_t *alliance, store_pending_cb cb,
                       void *ctx)
{
	struct pending_list l = { cb, ctx };
	if (!t || !cb)
		return PROTO_E_ARG;
	return store_map_err(pending_walk(t->txn, t->s, alliance, pending_list_cb, &l));
}

int store_meta_pending_del(MDB_txn *txn, struct store *s, const uint8_t alliance[32],
                           uint64_t seq)
{
	char k[KEY_MAX];
	return raw_del(txn, s, k, pending_key(k, alliance, seq));
}

/* ----------------------------------------------------------------- floor */

int store_meta_floor(MDB_txn *txn, struct store *s, const uint8_t alliance[32],
                     const uint8_t author[32], uint64_t *seq)
{
	char k[KEY_MAX];
	int rc = get_u64(txn, s, k, key_hex2(k, "floor/", alliance, author), seq);
	if (rc == STORE_E_NOTFOUND) {
		*seq = 0;
		rc = 0;
	}
	return rc;
}

int store_meta_floor_raise(MDB_txn *txn, struct store *s, const uint8_t alliance[32],
                           const uint8_t author[32], uint64_t seq)
{
	char k[KEY_MAX];
	uint64_t old;
	int rc = store_meta_floor(txn, s, alliance, author, &old);
	if (rc || old >= seq)
		return rc;
	return put_u64(txn, s, k, key_hex2(k, "floor/", alliance, author), seq);
}

int store_floor_get(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                    const uint8_t author[PROTO_KEY_BYTES], uint64_t *seq_out)
{
	uint64_t v;
	if (!t || !alliance || !author || !seq_out)
		return PROTO_E_ARG;
	int rc = store_meta_floor(t->txn, t->s, alliance, author, &v);
	if (rc)
		return store_map_err(rc);
	*seq_out = v;
	return 0;
}

int store_floor_clear(struct store *s, const uint8_t alliance[PROTO_ID_BYTES],
                      const uint8_t author[PROTO_KEY_BYTES])
{
	char k[KEY_MAX];
	if (!s || !alliance || !author)
		return PROTO_E_ARG;
	return write_one(s, k, key_hex2(k, "floor/", alliance, author), NULL, 0);
}

/* -------------------------------------------------------------- conflict */

int store_meta_conflict(MDB_txn *txn, struct store *s, const uint8_t alliance[32],
                        const uint8_t author[32], uint64_t *seq)
{
	char k[KEY_MAX];
	int rc = get_u64(txn, s, k, key_hex2(k, "conflict/", alliance, author), seq);
	if (rc == STORE_E_NOTFOUND) {
		*seq = 0;
		rc = 0;
	}
	return rc;
}

int store_meta_conflict_note(MDB_txn *txn, struct store *s, const uint8_t alliance[32],
                             const uint8_t author[32], uint64_t seq)
{
	char k[KEY_MAX];
	uint64_t old;
	int rc = store_meta_conflict(txn, s, alliance, author, &old);
	if (rc || (old && old <= seq))
		return rc;
	return put_u64(txn, s, k, key_hex2(k, "conflict/", alliance, author), seq);
}

int store_meta_conflict_clear(MDB_txn *txn, struct store *s, const uint8_t alliance[32],
                              const uint8_t author[32])
{
	char k[KEY_MAX];
	return raw_del(txn, s, k, key_hex2(k, "conflict/", alliance, author));
}

int store_own_conflict(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                       const uint8_t author[PROTO_KEY_BYTES], uint64_t *seq_out)
{
	uint64_t v;
	if (!t || !alliance || !author || !seq_out)
		return PROTO_E_ARG;
	int rc = store_meta_conflict(t->txn, t->s, alliance, author, &v);
	if (rc)
		return store_map_err(rc);
	*seq_out = v;
	return 0;
}

/* ---------------------------------------------------------------- expiry */

int store_meta_expiry(MDB_txn *txn, struct store *s, const uint8_t alliance[32],
                      const uint8_t member[32], uint64_t *seq)
{
	char k[KEY_MAX];
	return get_u64(txn, s, k, key_hex2(k, "expiry/", alliance, member), seq);
}

int store_meta_expiry_note(MDB_txn *txn, struct store *s, const uint8_t alliance[32],
                           const uint8_t member[32], uint64_t seq)
{
	char k[KEY_MAX];
	return put_u64(txn, s, k, key_hex2(k, "expiry/", alliance, member), seq);
}

int store_meta_expiry_clear(MDB_txn *txn, struct store *s, const uint8_t alliance[32],
                            const uint8_t member[32])
{
	char k[KEY_MAX];
	return raw_del(txn, s, k, key_hex2(k, "expiry/", alliance, member));
}
