/*
 * view_read.c - the reading half of the loop's view (view.c): what a job
 * reads off the loop, after its writes, for view_apply to take in on the
 * loop.  view_delta_read gives the heads that moved since the view's write
 * number (from the store's change log); for a governance record
 * (admission, revocation, key rotation) the members it names, each with
 * its feed's head; a whole alliance when it is new or a change cannot be
 * narrowed down; everything when the log does not reach back.  Nothing
 * here touches the loop's own data.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_int.h"

/* ------------------------------------------------------ reading (pool) */

void view_members_free(struct view_members *m)
{
	if (!m)
		return;
	free(m->m);
	free(m);
}

void view_lvec_dispose(struct sync_lvec *v)
{
	free(v->heads);
	memset(v, 0, sizeof(*v));
}

void view_delta_free(struct view_delta *d)
{
	free(d->heads);
	free(d->changes);
	for (size_t i = 0; i < d->n_alliances; i++) {
		view_lvec_dispose(&d->alliances[i]);
		view_members_free(d->members ? d->members[i] : NULL);
	}
	free(d->alliances);
	free(d->members);
	memset(d, 0, sizeof(*d));
}

static int head_cb(const uint8_t author[PROTO_KEY_BYTES], uint64_t seq,
                   const uint8_t id[PROTO_ID_BYTES], void *ctx)
{
	struct sync_lvec *v = ctx;
	if ((v->n & (v->n - 1)) == 0) {   /* grow at powers of two */
		struct sync_head *h = realloc(v->heads, (v->n ? v->n * 2 : 16) * sizeof(*h));
		if (!h)
			return -ENOMEM;
		v->heads = h;
	}
	memset(&v->heads[v->n], 0, sizeof(v->heads[v->n]));
	memcpy(v->heads[v->n].author, author, 32);
	v->heads[v->n].seq = seq;
	memcpy(v->heads[v->n].id, id, 32);
	v->n++;
	v->cap = 0;   /* head_cb's own doubling: sync_lvec_set regrows from n */
	return 0;
}

struct members_ctx {
	struct view_members *m;
	size_t cap;
};

static int member_cb(const struct store_member *sm, void *ctx)
{
	struct members_ctx *c = ctx;
	if (c->m->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct view_member *p = realloc(c->m->m, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		c->m->m = p;
		c->cap = cap;
	}
	c->m->cap = c->cap;
	struct view_member *m = &c->m->m[c->m->n++];
	memcpy(m->key, sm->key, 32);
	m->role = sm->role;
	m->expires_ms = sm->expires_ms;
	m->last_seq = sm->last_seq;
	m->revoked = sm->revoked;
	m->rotated = sm->rotated;
	return 0;
}

const struct view_member *view_member_find(const struct view_members *ms,
                                          const uint8_t key[32])
{
	size_t a = 0, b = ms ? ms->n : 0;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		int c = memcmp(ms->m[m].key, key, 32);
		if (c == 0)
			return &ms->m[m];
		if (c < 0)
			a = m + 1;
		else
			b = m;
	}
	return NULL;
}

/* A revoked author's feed is offered only up to its last valid seq
 * (PROTOCOL.md 6.1): cap h, reading that seq's id.  0, or 1 when nothing
 * of the feed is valid (leave it out), or an error. */
static int cap_one(struct store_txn *t, const uint8_t alliance[32], bool revoked,
                   uint64_t last_seq, struct sync_head *h)
{
	struct store_record rec;
	int rc;
	if (!revoked || h->seq <= last_seq)
		return 0;
	if (last_seq == 0)
		return 1;
	if ((rc = store_feed_get(t, alliance, h->author, last_seq, &rec)))
		return rc;
	h->seq = last_seq;
	memcpy(h->id, rec.id, 32);
	return 0;
}

static int cap_head(struct store_txn *t, const uint8_t alliance[32],
                    const struct view_members *ms, struct sync_head *h)
{
	const struct view_member *m = view_member_find(ms, h->author);
	return m ? cap_one(t, alliance, m->revoked, m->last_seq, h) : 0;
}

/* One whole alliance: heads (capped at revocations, coordinators'
 * marked), founder, members. */
static int alliance_read(struct store_txn *t, const struct store_record *charter,
                         struct sync_lvec *v, struct view_members **out)
{
	struct view_members *ms = calloc(1, sizeof(*ms));
	struct members_ctx mc = { .m = ms };
	Agora__Record *r;
	int rc;

	if (!ms)
		return -ENOMEM;
	memset(v, 0, sizeof(*v));
	memcpy(v->alliance, charter->id, 32);
	if (proto_envelope_decode(&r, charter->env, charter->env_len, NULL) == 0) {
		if (r->has_author && r->author.len == 32) {
			memcpy(v->founder, r->author.data, 32);
			v->has_founder = true;
		}
		agora__record__free_unpacked(r, NULL);
	}
	if ((rc = store_members(t, v->alliance, member_cb, &mc)))
		goto fail;
	if ((rc = store_heads(t, v->alliance, head_cb, v)))
		goto fail;
	size_t k = 0;
	for (size_t i = 0; i < v->n; i++) {
		struct sync_head h = v->heads[i];
		int c = cap_head(t, v->alliance, ms, &h);
		if (c < 0) {
			rc = c;
			goto fail;
		}
		if (c)
			continue;
		/* Coordinators' feeds go first on a session (governance first,
		 * PROTOCOL.md 4.4), so a joining node learns who is admitted
		 * before anything else. */
		const struct view_member *m = view_member_find(ms, h.author);
		h.coordinator = (m && m->role == AGORA__ROLE__ROLE_COORDINATOR && !m->revoked) ||
		                (v->has_founder && !memcmp(h.author, v->founder, 32));
		v->heads[k++] = h;
	}
	v->n = k;
	*out = ms;
	return 0;
fail:
	view_lvec_dispose(v);
	view_members_free(ms);
	return rc;
}

struct read_ctx {
	struct view_delta *d;
	struct store_txn *t;
	const uint8_t *only;          /* read only this alliance (NULL: every one) */
	int rc;
};

static int add_alliance(struct view_delta *d, struct store_txn *t,
                        const struct store_record *charter)
{
	struct sync_lvec *v = realloc(d->alliances, (d->n_alliances + 1) * sizeof(*v));
	struct view_members **m;
	int rc;
	if (!v)
		return -ENOMEM;
	d->alliances = v;
	if (!(m = realloc(d->members, (d->n_alliances + 1) * sizeof(*m))))
		return -ENOMEM;
	d->members = m;
	if ((rc = alliance_read(t, charter, &d->alliances[d->n_alliances],
	                        &d->members[d->n_alliances])))
		return rc;
	d->n_alliances++;
	return 0;
}

static int charter_cb(const struct store_record *rec, void *ctx)
{
	struct read_ctx *c = ctx;
	if (c->d->n_alliances >= SYNC_ALLIANCES_MAX)
		return 0;
	if (c->only && memcmp(c->only, rec->id, 32))
		return 0;
	return add_alliance(c->d, c->t, rec);
}

/* Alliances the delta already carries whole. */
static bool delta_has(const struct view_delta *d, const uint8_t alliance[32])
{
	for (size_t i = 0; i < d->n_alliances; i++)
		if (!memcmp(d->alliances[i].alliance, alliance, 32))
			return true;
	return false;
}

/* A feed that took governance records, (from, seq] (held alliances). */
struct gov_feed {
	uint8_t alliance[32], author[32];
	uint64_t from, seq;
};

/* A member some governance record names: (alliance, key). */
struct gov_key {
	uint8_t alliance[32], key[32];
};

struct change_ctx {
	struct view_delta *d;
	struct store_txn *t;
	const uint8_t (*held)[32];
	size_t n_held;
	size_t cap;
	uint8_t (*gov)[32];           /* alliances to read whole */
	size_t n_gov;
	struct gov_feed *gf;          /* feeds to read governance records from */
	size_t n_gf;
	struct gov_key *gk;           /* members they name */
	size_t n_gk;
};

static int whole_add(struct change_ctx *x, const uint8_t alliance[32])
{
	for (size_t i = 0; i < x->n_gov; i++)
		if (!memcmp(x->gov[i], alliance, 32))
			return 0;
	void *g = realloc(x->gov, (x->n_gov + 1) * 32);
	if (!g)
		return -ENOMEM;
	x->gov = g;
	memcpy(x->gov[x->n_gov++], alliance, 32);
	return 0;
}

static bool whole_has(const struct change_ctx *x, const uint8_t alliance[32])
{
	for (size_t i = 0; i < x->n_gov; i++)
		if (!memcmp(x->gov[i], alliance, 32))
			return true;
	return false;
}

static int change_cb(const struct store_change *c, void *ctx)
{
	struct change_ctx *x = ctx;
	struct view_delta *d = x->d;
	bool held = false;
	for (size_t i = 0; i < x->n_held && !held; i++)
		held = !memcmp(x->held[i], c->alliance, 32);
	if (!held)
		return whole_add(x, c->alliance);   /* a new alliance: read it whole */
	if (c->governance) {
		/* membership may differ: the members its records name are read
		 * after the walk (gov_read) */
		struct gov_feed *g = realloc(x->gf, (x->n_gf + 1) * sizeof(*g));
		if (!g)
			return -ENOMEM;
		x->gf = g;
		memcpy(g[x->n_gf].alliance, c->alliance, 32);
		memcpy(g[x->n_gf].author, c->author, 32);
		g[x->n_gf].from = c->from_seq;
		g[x->n_gf++].seq = c->seq;
	}
	if (d->n_heads == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		struct sync_head_ref *h = realloc(d->heads, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		d->heads = h;
		x->cap = cap;
	}
	struct sync_head_ref *r = &d->heads[d->n_heads++];
	memcpy(r->alliance, c->alliance, 32);
	memcpy(r->h.author, c->author, 32);
	r->h.seq = c->seq;
	memcpy(r->h.id, c->id, 32);
	/* a revoked author's records past its last seq are never offered
	 * (one lookup of its member row) */
	struct store_member m;
	if (store_member_brief(x->t, c->alliance, c->author, &m) == 0) {
		int rc = cap_one(x->t, c->alliance, m.revoked, m.last_seq, &r->h);
		if (rc < 0)
			return rc;
		if (rc == 1)
			d->n_heads--;   /* nothing of it to offer */
	}
	return 0;
}

/* Past these, a governance change is read as its whole alliance (a node
 * catching up on thousands of admissions): one walk beats many lookups. */
#define VIEW_GOV_RECORDS_MAX 512
#define VIEW_GOV_KEYS_MAX 256

static int key_add(struct change_ctx *x, const uint8_t alliance[32], const uint8_t *key,
                   size_t len)
{
	if (len != 32)
		return 1;   /* not a key: let the whole read sort it out */
	for (size_t i = 0; i < x->n_gk; i++)
		if (!memcmp(x->gk[i].alliance, alliance, 32) && !memcmp(x->gk[i].key, key, 32))
			return 0;
	if (x->n_gk >= VIEW_GOV_KEYS_MAX)
		return 1;
	struct gov_key *k = realloc(x->gk, (x->n_gk + 1) * sizeof(*k));
	if (!k)
		return -ENOMEM;
	x->gk = k;
	memcpy(k[x->n_gk].alliance, alliance, 32);
	memcpy(k[x->n_gk++].key, key, 32);
	return 0;
}

/* The members that g's new records (from, seq] name: an Admission's or a
 * Revocation's member, a KeyRotation's old and new key.  0, 1 to read the
 * alliance whole instead (too many, a Charter, a feed that went down or
 * cannot be read back), or an error. */
static int gov_keys(struct change_ctx *x, const struct gov_feed *g)
{
	if (g->seq <= g->from || g->seq - g->from > VIEW_GOV_RECORDS_MAX)
		return 1;
	for (uint64_t q = g->from + 1; q <= g->seq; q++) {
		const uint8_t *env;
		size_t len;
		Agora__Record *r;
		int rc = store_feed_env(x->t, g->alliance, g->author, q, &env, &len);
		if (rc == STORE_E_NOTFOUND)
			return 1;
		if (rc)
			return rc;
		if (proto_envelope_decode(&r, env, len, NULL))
			return 1;
		switch (r->body_case) {
		case AGORA__RECORD__BODY_ADMISSION:
			rc = key_add(x, g->alliance, r->admission->member.data, r->admission->member.len);
			break;
		case AGORA__RECORD__BODY_REVOCATION:
			rc = key_add(x, g->alliance, r->revocation->member.data,
			             r->revocation->member.len);
			break;
		case AGORA__RECORD__BODY_KEY_ROTATION:
			rc = key_add(x, g->alliance, r->author.data, r->author.len);
			if (rc == 0)
				rc = key_add(x, g->alliance, r->key_rotation->new_key.data,
				             r->key_rotation->new_key.len);
			break;
		case AGORA__RECORD__BODY_CHARTER:
			rc = 1;
			break;
		default:
			break;
		}
		agora__record__free_unpacked(r, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

/* One member named by a governance record, as the view must now hold it:
 * its row and its feed's head (capped at a revocation). */
static int change_read(struct store_txn *t, const struct gov_key *k,
                       struct view_member_change *ch)
{
	struct store_member sm;
	uint8_t id[32];
	uint64_t seq = 0;
	int rc = store_member_brief(t, k->alliance, k->key, &sm);
	memset(ch, 0, sizeof(*ch));
	memcpy(ch->alliance, k->alliance, 32);
	memcpy(ch->m.key, k->key, 32);
	if (rc == 0) {
		ch->listed = true;
		ch->m.role = sm.role;
		ch->m.expires_ms = sm.expires_ms;
		ch->m.last_seq = sm.last_seq;
		ch->m.revoked = sm.revoked;
		ch->m.rotated = sm.rotated;
	} else if (rc != STORE_E_NOTFOUND) {
		return rc;
	}
	rc = store_feed_head(t, k->alliance, k->key, &seq, id);
	if (rc && rc != STORE_E_NOTFOUND)
		return rc;
	if (rc || seq == 0)
		return 0;   /* no feed (yet) */
	memcpy(ch->h.author, k->key, 32);
	ch->h.seq = seq;
	memcpy(ch->h.id, id, 32);
	if ((rc = cap_one(t, k->alliance, ch->listed && ch->m.revoked, ch->m.last_seq, &ch->h)) < 0)
		return rc;
	ch->has_head = rc == 0;
	return 0;
}

/* After the walk: the members the governance records name (alliances
 * that cannot be narrowed down go to x->gov, read whole). */
static int gov_read(struct change_ctx *x)
{
	int rc;
	for (size_t i = 0; i < x->n_gf; i++) {
		if (whole_has(x, x->gf[i].alliance))
			continue;
		if ((rc = gov_keys(x, &x->gf[i])) < 0)
			return rc;
		if (rc == 1 && (rc = whole_add(x, x->gf[i].alliance)))
			return rc;
	}
	struct view_delta *d = x->d;
	size_t n = 0;
	for (size_t i = 0; i < x->n_gk; i++)
		n += !whole_has(x, x->gk[i].alliance);
	if (!n)
		return 0;
	if (!(d->changes = calloc(n, sizeof(*d->changes))))
		return -ENOMEM;
	for (size_t i = 0; i < x->n_gk; i++) {
		if (whole_has(x, x->gk[i].alliance))
			continue;
		if ((rc = change_read(x->t, &x->gk[i], &d->changes[d->n_changes])))
			return rc;
		d->n_changes++;
	}
	return 0;
}

int view_delta_read(struct node *n, uint64_t since, const uint8_t (*held)[32], size_t n_held,
                    struct view_delta *d)
{
	struct store_txn *t;
	struct store_stats st;
	struct change_ctx x = { .d = d, .held = held, .n_held = n_held };
	int rc;

	memset(d, 0, sizeof(*d));
	if ((rc = store_txn_begin(n->store, &t)))
		return rc;
	x.t = t;
	rc = since ? store_changes(t, since, change_cb, &x, &d->upto) : STORE_E_GONE;
	if (rc == 0)
		rc = gov_read(&x);
	if (rc == STORE_E_GONE) {
		/* the log does not reach back: everything, whole */
		view_delta_free(d);
		d->whole = true;
		struct read_ctx c = { .d = d, .t = t };
		if ((rc = store_write_number(t, &d->upto)) == 0)
			rc = store_alliances(t, charter_cb, &c);
	} else if (rc == 0) {
		/* heads of alliances read whole are in them already */
		for (size_t i = 0; rc == 0 && i < x.n_gov; i++) {
			struct read_ctx c = { .d = d, .t = t, .only = x.gov[i] };
			if (!delta_has(d, x.gov[i]))
				rc = store_alliances(t, charter_cb, &c);
		}
		size_t k = 0;
		for (size_t i = 0; i < d->n_heads; i++)
			if (!delta_has(d, d->heads[i].alliance))
				d->heads[k++] = d->heads[i];
		d->n_heads = k;
	}
	if (rc == 0 && (rc = store_stats(t, &st)) == 0) {
		d->records = st.records;
		d->forks = st.forks;
	}
	store_txn_end(t);
	free(x.gov);
	free(x.gf);
	free(x.gk);
	if (rc) {
		view_delta_free(d);
		return rc;
	}
	d->valid = true;
	return 0;
}

