/*
 * members.c - who may publish in an alliance, derived from its governance
 * records (see members_int.h for the meta layout and PROTOCOL.md section 6
 * for the rules).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "storage/members_int.h"
#include "storage/meta_int.h"

#define MEMBER_HDR 27   /* role(1) | flags(1) | expires(8) | last_seq(8) | admitted(8) | votes(1) */
#define MF_REVOKED 0x01
#define MF_ROTATED 0x02 /* revoked by its own KeyRotation */

#define ROLE_COORD AGORA__ROLE__ROLE_COORDINATOR
#define ROLE_MEMBER AGORA__ROLE__ROLE_MEMBER
#define ROLE_OBSERVER AGORA__ROLE__ROLE_OBSERVER

struct mrow {
	uint8_t role, flags, votes;
	uint64_t expires, last_seq, admitted;
	char name[128];
	char country[8];
};

static size_t key_member(char *buf, const uint8_t *alliance, const uint8_t *key)
{
	memcpy(buf, "member/", 7);
	proto_hex(buf + 7, alliance, 32);
	buf[71] = '/';
	proto_hex(buf + 72, key, 32);
	return 136;
}

static size_t key_policy(char *buf, const uint8_t *alliance)
{
	memcpy(buf, "policy/", 7);
	proto_hex(buf + 7, alliance, 32);
	return 71;
}

static size_t key_vote(char *buf, const uint8_t *alliance, const uint8_t *key,
                       const uint8_t *coord)
{
	memcpy(buf, "vote/", 5);
	proto_hex(buf + 5, alliance, 32);
	buf[69] = '/';
	proto_hex(buf + 70, key, 32);
	buf[134] = '/';
	proto_hex(buf + 135, coord, 32);
	return 199;
}

static int row_decode(struct mrow *m, const MDB_val *v)
{
	const uint8_t *p = v->mv_data;
	if (v->mv_size < MEMBER_HDR + 2)
		return STORE_E_CORRUPT;
	memset(m, 0, sizeof *m);
	m->role = p[0];
	m->flags = p[1];
	m->expires = store_get64(p + 2);
	m->last_seq = store_get64(p + 10);
	m->admitted = store_get64(p + 18);
	m->votes = p[26];
	const char *name = (const char *)p + MEMBER_HDR;
	size_t rest = v->mv_size - MEMBER_HDR;
	size_t nl = strnlen(name, rest);
	if (nl >= rest)
		return STORE_E_CORRUPT;
	const char *country = name + nl + 1;
	size_t cl = strnlen(country, rest - nl - 1);
	if (cl >= rest - nl - 1)
		return STORE_E_CORRUPT;
	snprintf(m->name, sizeof m->name, "%s", name);
	snprintf(m->country, sizeof m->country, "%s", country);
	return 0;
}

static int row_put(MDB_txn *txn, struct store *s, const char *key, size_t klen,
                   const struct mrow *m)
{
	size_t nl = strlen(m->name), cl = strlen(m->country);
	uint8_t buf[MEMBER_HDR + sizeof m->name + sizeof m->country];
	buf[0] = m->role;
	buf[1] = m->flags;
	store_be64(buf + 2, m->expires);
	store_be64(buf + 10, m->last_seq);
	store_be64(buf + 18, m->admitted);
	buf[26] = m->votes;
	memcpy(buf + MEMBER_HDR, m->name, nl + 1);
	memcpy(buf + MEMBER_HDR + nl + 1, m->country, cl + 1);
	MDB_val k = { klen, (void *)key }, v = { MEMBER_HDR + nl + cl + 2, buf };
	return store_lmdb_rc(mdb_put(txn, s->meta, &k, &v, 0));
}

/* 0 and *found; or a fatal code. */
static int row_get(MDB_txn *txn, struct store *s, const uint8_t *alliance, const uint8_t *key,
                   struct mrow *m, bool *found)
{
	char kb[137];
	MDB_val k = { key_member(kb, alliance, key), kb }, v;
	int rc = store_lmdb_rc(mdb_get(txn, s->meta, &k, &v));
	*found = false;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	if ((rc = row_decode(m, &v)))
		return rc;
	*found = true;
	return 0;
}

static int policy_get(MDB_txn *txn, struct store *s, const uint8_t *alliance, int *policy,
                      uint32_t *threshold)
{
	char kb[72];
	MDB_val k = { key_policy(kb, alliance), kb }, v;
	int rc = store_lmdb_rc(mdb_get(txn, s->meta, &k, &v));
	if (rc == MDB_NOTFOUND)
		return STORE_E_ALLIANCE;
	if (rc)
		return rc;
	if (v.mv_size != 5)
		return STORE_E_CORRUPT;
	*policy = ((const uint8_t *)v.mv_data)[0];
	*threshold = store_get32((const uint8_t *)v.mv_data + 1);
	return 0;
}

/* What a role may publish.  Governance is the coordinators'; observers
 * read, and may only say who they are (Profile, and edit or withdraw it).
 * An Endpoint (a content kind of version 2) has the rule version-1 nodes
 * apply to kinds they do not know, coordinators and members (PROTOCOL.md
 * 7.4): were an observer's stored here and refused there, its feed would
 * stop at the older nodes. */
static bool role_may(int role, int kind)
{
	if (role == ROLE_COORD)
		return true;
	if (kind == PROTO_KIND_KEY_ROTATION)
		return true;
	if (kind == PROTO_KIND_ADMISSION || kind == PROTO_KIND_REVOCATION ||
	    kind == PROTO_KIND_CHARTER || kind == PROTO_KIND_ENDORSEMENT)
		return false;
	if (role == ROLE_MEMBER)
		return true;
	if (role == ROLE_OBSERVER)
		return kind == PROTO_KIND_PROFILE || kind == PROTO_KIND_SUPERSEDE ||
		       kind == PROTO_KIND_RETRACT;
	return false;
}

/* The bytes the new key signs in a KeyRotation. */
static void rotate_msg(uint8_t msg[12 + 64], const uint8_t *alliance, const uint8_t *old_key)
{
	memcpy(msg, "agora/rotate", 12);
	memcpy(msg + 12, alliance, 32);
	memcpy(msg + 44, old_key, 32);
}

/*
 * Expiry that a back-dated record cannot cross: created_ms is the
 * author's to choose, so an expired member could date new records before
 * its expiry.  A node that watched the expiry pass (store_member_note_expiry,
 * run by agorad while it runs) noted the member's head then as its expiry
 * seq, and refuses every later seq whatever its date.  A node that did not
 * watch it (it started later, or was down) judges by created_ms alone: it
 * must take the member's history, which it cannot tell from a back-dated
 * record (PROTOCOL.md 6.2 says what this does not promise).  0,
 * STORE_E_EXPIRED, or a fatal code.
 */
static int expiry_check(MDB_txn *txn, struct store *s, const Agora__Record *rec,
                        const uint8_t *alliance, const struct mrow *m)
{
	uint64_t es;
	if (!m->expires)
		return 0;
	if (rec->created_ms >= m->expires)
		return STORE_E_EXPIRED;
	int rc = store_meta_expiry(txn, s, alliance, rec->author.data, &es);
	if (rc == STORE_E_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	return rec->seq > es ? STORE_E_EXPIRED : 0;
}

int store_member_check(MDB_txn *txn, struct store *s, const Agora__Record *rec,
                       const uint8_t *alliance, int kind, uint64_t now_ms, uint64_t head)
{
	if (kind == PROTO_KIND_CHARTER)
		return 0;
	struct mrow m;
	bool found;
	int rc = row_get(txn, s, alliance, rec->author.data, &m, &found);
	if (rc)
		return rc;
	if (!found || m.role == 0)
		return STORE_E_NOT_MEMBER;
	if ((m.flags & MF_REVOKED) && rec->seq > m.last_seq)
		return STORE_E_REVOKED;
	if ((rc = expiry_check(txn, s, rec, alliance, &m)))
		return rc;
	/* a supersede or retract is judged by its own kind: observers may edit
	 * their profile; the target check keeps it to the author's records */
	if (!role_may(m.role, kind))
		return STORE_E_ROLE;
	if (kind == PROTO_KIND_KEY_ROTATION) {
		const Agora__KeyRotation *kr = rec->key_rotation;
		uint8_t msg[76];
		rotate_msg(msg, alliance, rec->author.data);
		if (!kr->has_new_key || kr->new_key.len != 32 || kr->new_key_signature.len != 64 ||
		    crypto_sign_verify_detached(kr->new_key_signature.data, msg, sizeof msg,
		                                kr->new_key.data) != 0)
			return PROTO_E_SIGNATURE;
	}
	return 0;
}

/* Hide the stored records of (alliance, key) after seq last. */
static int hide_after(MDB_txn *txn, struct store *s, const uint8_t *alliance, const uint8_t *key,
                      uint64_t last)
{
	uint8_t hk[64];
	memcpy(hk, alliance, 32);
	memcpy(hk + 32, key, 32);
	MDB_val k = { 64, hk }, v;
	int rc = store_lmdb_rc(mdb_get(txn, s->heads, &k, &v));
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (v.mv_size != HEAD_VAL)
		return STORE_E_CORRUPT;
	uint32_t feedno = store_get32(v.mv_data);
	uint64_t head = store_get64((const uint8_t *)v.mv_data + 4);
	for (uint64_t seq = last + 1; seq <= head; seq++) {
		uint8_t fk[12];
		store_be32(fk, feedno);
		store_be64(fk + 4, seq);
		MDB_val fkey = { 12, fk }, fval;
		rc = store_lmdb_rc(mdb_get(txn, s->feeds, &fkey, &fval));
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc)
			return rc;
		if (fval.mv_size != 8)
			return STORE_E_CORRUPT;
		uint64_t rk = store_get64(fval.mv_data);
		MDB_val rv;
		if ((rc = store_rec_read(txn, s, rk, &rv)))
			return rc;
		uint8_t *copy = malloc(rv.mv_size);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, rv.mv_data, rv.mv_size);
		copy[0] |= REC_F_REVOKED | REC_F_RETRACTED;
		uint8_t kb[8];
		store_be64(kb, rk);
		MDB_val rkey = { 8, kb }, nv = { rv.mv_size, copy };
		rc = store_lmdb_rc(mdb_put(txn, s->recs, &rkey, &nv, 0));
		if (!rc)
			rc = store_hide_update(txn, s, rk, copy[0], copy[1]);
		free(copy);
		if (rc)
			return rc;
	}
	return 0;
}

static void row_from_admission(struct mrow *m, const Agora__Admission *a, uint64_t created)
{
	memset(m, 0, sizeof *m);
	m->role = (uint8_t)a->role;
	m->expires = a->has_expires_ms ? a->expires_ms : 0;
	m->admitted = created;
	snprintf(m->name, sizeof m->name, "%s", a->name ? a->name : "");
	snprintf(m->country, sizeof m->country, "%s", a->country ? a->country : "");
}

/* Admit (or re-admit with new details) a key.  A revocation is permanent:
 * a stolen key stays cut off at its last valid seq even if admitted again. */
static int admit(MDB_txn *txn, struct store *s, const uint8_t *alliance, const uint8_t *key,
                 const struct mrow *nm)
{
	struct mrow old, m = *nm;
	bool found;
	int rc = row_get(txn, s, alliance, key, &old, &found);
	if (rc)
		return rc;
	if (found && (old.flags & MF_REVOKED)) {
		m.flags = old.flags;
		m.last_seq = old.last_seq;
	}
	char kb[137];
	if ((rc = row_put(txn, s, kb, key_member(kb, alliance, key), &m)))
		return rc;
	/* a renewal (a later expiry, or none) lifts the noted expiry seq */
	if (found && old.expires && (!m.expires || m.expires > old.expires))
		rc = store_meta_expiry_clear(txn, s, alliance, key);
	return rc;
}

/* Count the stored votes for key with this role. */
static int count_votes(MDB_txn *txn, struct store *s, const uint8_t *alliance,
                       const uint8_t *key, uint8_t role, unsigned *n)
{
	char prefix[200];
	size_t plen = key_vote(prefix, alliance, key, key) - 64;
	MDB_cursor *c;
	int rc = store_lmdb_rc(mdb_cursor_open(txn, s->meta, &c));
	if (rc)
		return rc;
	MDB_val k = { plen, prefix }, v;
	unsigned cnt = 0;
	rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_RANGE));
	while (rc == 0 && k.mv_size >= plen && memcmp(k.mv_data, prefix, plen) == 0) {
		struct mrow m;
		if (row_decode(&m, &v) == 0 && m.role == role)
			cnt++;
		rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT));
	}
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	*n = cnt;
	return 0;
}

static int apply_charter(MDB_txn *txn, struct store *s, const Agora__Record *rec,
                         const uint8_t *alliance)
{
	const Agora__Charter *c = rec->charter;
	uint8_t pv[5];
	pv[0] = (uint8_t)c->policy;
	store_be32(pv + 1, c->has_threshold ? c->threshold : 1);
	char kb[137];
	MDB_val k = { key_policy(kb, alliance), kb }, v = { 5, pv };
	int rc = store_lmdb_rc(mdb_put(txn, s->meta, &k, &v, 0));
	for (size_t i = 0; i < c->n_coordinators && !rc; i++) {
		struct mrow m = { .role = ROLE_COORD, .admitted = rec->created_ms };
		rc = admit(txn, s, alliance, c->coordinators[i].data, &m);
	}
	return rc;
}

static int apply_admission(MDB_txn *txn, struct store *s, const Agora__Record *rec,
                           const uint8_t *alliance)
{
	const Agora__Admission *a = rec->admission;
	int policy;
	uint32_t threshold;
	int rc = policy_get(txn, s, alliance, &policy, &threshold);
	if (rc)
		return rc;
	struct mrow m;
	row_from_admission(&m, a, rec->created_ms);
	if (policy != AGORA__ADMISSION_POLICY__ADMISSION_POLICY_THRESHOLD || threshold <= 1)
		return admit(txn, s, alliance, a->member.data, &m);
	char kb[200];
	size_t klen = key_vote(kb, alliance, a->member.data, rec->author.data);
	if ((rc = row_put(txn, s, kb, klen, &m)))
		return rc;
	unsigned n;
	if ((rc = count_votes(txn, s, alliance, a->member.data, m.role, &n)))
		return rc;
	if (n < threshold)
		return 0;
	m.votes = n > 255 ? 255 : (uint8_t)n;
	return admit(txn, s, alliance, a->member.data, &m);
}

static int revoke(MDB_txn *txn, struct store *s, const uint8_t *alliance, const uint8_t *key,
                  uint64_t last, uint8_t flag)
{
	struct mrow m;
	bool found;
	int rc = row_get(txn, s, alliance, key, &m, &found);
	if (rc)
		return rc;
	if (!found)
		memset(&m, 0, sizeof m);  /* revoked before (or without) admission */
	if (!(m.flags & MF_REVOKED) || last < m.last_seq)
		m.last_seq = last;
	m.flags |= MF_REVOKED | flag;
	char kb[137];
	if ((rc = row_put(txn, s, kb, key_member(kb, alliance, key), &m)))
		return rc;
	return hide_after(txn, s, alliance, key, m.last_seq);
}

static int apply_rotation(MDB_txn *txn, struct store *s, const Agora__Record *rec,
                          const uint8_t *alliance)
{
	struct mrow m;
	bool found;
	int policy;
	uint32_t threshold;
	int rc = row_get(txn, s, alliance, rec->author.data, &m, &found);
	if (rc || !found)
		return rc;
	if ((rc = policy_get(txn, s, alliance, &policy, &threshold)))
		return rc;
	/* The old key is retired at the rotation.  Under "any coordinator" a
	 * coordinator could admit the new key itself, so a coordinator's
	 * rotation countersigns itself and the new key inherits at once;
	 * everyone else's new key needs an Admission as the policy requires. */
	if (m.role == ROLE_COORD && policy == AGORA__ADMISSION_POLICY__ADMISSION_POLICY_ANY_COORDINATOR &&
	    !(m.flags & MF_REVOKED)) {
		struct mrow nm = m;
		nm.flags = 0;
		nm.last_seq = 0;
		nm.admitted = rec->created_ms;
		if ((rc = admit(txn, s, alliance, rec->key_rotation->new_key.data, &nm)))
			return rc;
	}
	return revoke(txn, s, alliance, rec->author.data, rec->seq, MF_ROTATED);
}

int store_member_apply(MDB_txn *txn, struct store *s, const Agora__Record *rec,
                       const uint8_t *alliance, int kind)
{
	switch (kind) {
	case PROTO_KIND_CHARTER:
		return apply_charter(txn, s, rec, alliance);
	case PROTO_KIND_ADMISSION:
		return apply_admission(txn, s, rec, alliance);
	case PROTO_KIND_REVOCATION:
		return revoke(txn, s, alliance, rec->revocation->member.data,
		              rec->revocation->has_last_seq ? rec->revocation->last_seq : 0, 0);
	case PROTO_KIND_KEY_ROTATION:
		return apply_rotation(txn, s, rec, alliance);
	default:
		return 0;
	}
}

/* ------------------------------------------------------------ public */

static void member_out(struct store_member *out, const uint8_t *key, const struct mrow *m)
{
	memset(out, 0, sizeof *out);
	memcpy(out->key, key, 32);
	out->role = m->role;
	snprintf(out->name, sizeof out->name, "%s", m->name);
	snprintf(out->country, sizeof out->country, "%s", m->country);
	out->admitted_ms = m->admitted;
	out->expires_ms = m->expires;
	out->revoked = m->flags & MF_REVOKED;
	out->rotated = m->flags & MF_ROTATED;
	out->last_seq = out->revoked ? m->last_seq : UINT64_MAX;
}

/* Is a fork of (alliance, key) stored?  One lookup in forks, whose keys
 * start with alliance | author: a member list costs one per member, not
 * one scan of every fork (and both its envelopes) per member. */
static int has_fork(struct store_txn *t, const uint8_t *alliance, const uint8_t *key,
                    bool *found)
{
	uint8_t kb[72] = { 0 };
	MDB_cursor *c;
	memcpy(kb, alliance, 32);
	memcpy(kb + 32, key, 32);
	int rc = store_lmdb_rc(mdb_cursor_open(t->txn, t->s->forks, &c));
	if (rc)
		return rc;
	MDB_val k = { 72, kb }, v;
	rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_RANGE));
	mdb_cursor_close(c);
	*found = rc == 0 && k.mv_size == 72 && memcmp(k.mv_data, kb, 64) == 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int member_extras(struct store_txn *t, const uint8_t *alliance, struct store_member *out)
{
	uint64_t seq = 0, es;
	int erc = store_meta_expiry(t->txn, t->s, alliance, out->key, &es);
	if (erc && erc != STORE_E_NOTFOUND)
		return store_map_err(erc);
	out->expiry_seq = erc ? UINT64_MAX : es;
	uint8_t id[PROTO_ID_BYTES];
	int rc = store_feed_head(t, alliance, out->key, &seq, id);
	if (rc && rc != STORE_E_NOTFOUND)
		return rc;
	out->records = rc ? 0 : seq;
	if ((rc = has_fork(t, alliance, out->key, &out->equivocating)))
		return store_map_err(rc);
	return 0;
}

int store_member_brief(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                       const uint8_t key[PROTO_KEY_BYTES], struct store_member *out)
{
	if (!t || !alliance || !key || !out)
		return PROTO_E_ARG;
	struct mrow m;
	bool found;
	int rc = row_get(t->txn, t->s, alliance, key, &m, &found);
	if (rc)
		return store_map_err(rc);
	if (!found)
		return STORE_E_NOTFOUND;
	member_out(out, key, &m);
	out->expiry_seq = UINT64_MAX;
	return 0;
}

int store_member_get(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                     const uint8_t key[PROTO_KEY_BYTES], struct store_member *out)
{
	struct store_member tmp;
	int rc = store_member_brief(t, alliance, key, &tmp);

	if (rc)
		return rc;
	if ((rc = member_extras(t, alliance, &tmp)))
		return rc;
	*out = tmp;
	return 0;
}

int store_members(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                  store_member_cb cb, void *ctx)
{
	if (!t || !alliance || !cb)
		return PROTO_E_ARG;
	char prefix[137];
	size_t plen = key_member(prefix, alliance, alliance) - 64;
	MDB_cursor *c;
	int rc = store_lmdb_rc(mdb_cursor_open(t->txn, t->s->meta, &c));
	if (rc)
		return store_map_err(rc);
	MDB_val k = { plen, prefix }, v;
	rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_RANGE));
	while (rc == 0 && k.mv_size == plen + 64 && memcmp(k.mv_data, prefix, plen) == 0) {
		struct mrow m;
		uint8_t key[32];
		if ((rc = row_decode(&m, &v)))
			break;
		char khex[65];
		memcpy(khex, (const char *)k.mv_data + plen, 64);
		khex[64] = 0;
		if (proto_unhex(key, 32, khex) != 0) {
			rc = STORE_E_CORRUPT;
			break;
		}
		struct store_member out;
		member_out(&out, key, &m);
		if ((rc = member_extras(t, alliance, &out)))
			break;
		if ((rc = cb(&out, ctx)))
			break;
		rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT));
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	return store_map_err(rc);
}

/* The one rule for "may this key take part at now_ms". */
int store_member_status(const struct store_member *m, uint64_t now_ms)
{
	if (!m || m->role == 0)
		return STORE_E_NOT_MEMBER;
	if (m->revoked)
		return STORE_E_REVOKED;
	if (m->expires_ms && now_ms >= m->expires_ms)
		return STORE_E_EXPIRED;
	return 0;
}

bool store_member_is_active(const struct store_member *m, uint64_t now_ms)
{
	return store_member_status(m, now_ms) == 0;
}

int store_member_active(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                        const uint8_t key[PROTO_KEY_BYTES], uint64_t now_ms)
{
	if (!t || !alliance || !key)
		return PROTO_E_ARG;
	struct mrow m;
	bool found;
	int rc = row_get(t->txn, t->s, alliance, key, &m, &found);
	if (rc)
		return store_map_err(rc);
	if (!found)
		return STORE_E_NOT_MEMBER;
	struct store_member sm;
	member_out(&sm, key, &m);
	return store_member_status(&sm, now_ms);
}

struct note_ctx {
	struct store *s;
	uint64_t now_ms;
	uint64_t watched_from;  /* expiries before this passed unwatched */
	size_t noted;
};

static int note_cb(MDB_txn *txn, void *arg)
{
	static const char prefix[] = "member/";
	struct note_ctx *c = arg;
	MDB_cursor *cur;
	c->noted = 0;
	int rc = store_lmdb_rc(mdb_cursor_open(txn, c->s->meta, &cur));
	if (rc)
		return rc;
	MDB_val k = { sizeof prefix - 1, (void *)prefix }, v;
	for (rc = store_lmdb_rc(mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)); rc == 0;
	     rc = store_lmdb_rc(mdb_cursor_get(cur, &k, &v, MDB_NEXT))) {
		if (k.mv_size < sizeof prefix - 1 || memcmp(k.mv_data, prefix, sizeof prefix - 1))
			break;
		struct mrow m;
		uint8_t ak[64], hv[HEAD_VAL];
		char hex[65];
		uint64_t es;
		if (k.mv_size != 136 || row_decode(&m, &v) != 0)
			continue;   /* not a member row; stored damaged: skip */
		if (!m.role || (m.flags & MF_REVOKED) || !m.expires || c->now_ms < m.expires ||
		    m.expires < c->watched_from)
			continue;   /* not expired, or expired before this node watched */
		memcpy(hex, (const char *)k.mv_data + 7, 64);
		hex[64] = 0;
		if (proto_unhex(ak, 32, hex) != 0)
			continue;
		memcpy(hex, (const char *)k.mv_data + 72, 64);
		if (proto_unhex(ak + 32, 32, hex) != 0)
			continue;
		if ((rc = store_meta_expiry(txn, c->s, ak, ak + 32, &es)) != STORE_E_NOTFOUND) {
			if (rc)
				break;
			continue;   /* noted already */
		}
		MDB_val hk = { 64, ak }, h;
		uint64_t head = 0;
		rc = store_lmdb_rc(mdb_get(txn, c->s->heads, &hk, &h));
		if (rc == 0 && h.mv_size == HEAD_VAL) {
			memcpy(hv, h.mv_data, HEAD_VAL);
			head = store_get64(hv + 4);
		} else if (rc && rc != MDB_NOTFOUND) {
			break;
		}
		/* the put may move the cursor's page: it is repositioned below */
		if ((rc = store_meta_expiry_note(txn, c->s, ak, ak + 32, head)))
			break;
		c->noted++;
		char kb[137];
		MDB_val again = { key_member(kb, ak, ak + 32), kb };
		if ((rc = store_lmdb_rc(mdb_cursor_get(cur, &again, &v, MDB_SET_KEY))))
			break;
		k = again;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_member_note_expiry(struct store *s, uint64_t now_ms, uint64_t watched_from_ms,
                             size_t *noted)
{
	struct note_ctx c = { s, now_ms, watched_from_ms, 0 };
	if (!s)
		return PROTO_E_ARG;
	int rc = store_write(s, note_cb, &c);
	if (rc == 0 && noted)
		*noted = c.noted;
	return rc;
}

int store_rotation_sign(uint8_t sig[64], const struct proto_key *new_key,
                        const uint8_t alliance[PROTO_ID_BYTES], const uint8_t old_key[PROTO_KEY_BYTES])
{
	if (!sig || !new_key || !alliance || !old_key)
		return PROTO_E_ARG;
	uint8_t msg[76];
	rotate_msg(msg, alliance, old_key);
	crypto_sign_detached(sig, NULL, msg, sizeof msg, new_key->sk);
	return 0;
}
