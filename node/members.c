/*
 * members.c - alliance membership at the node: who may open a session,
 * which alliances a session carries, sessions whose peer lost its
 * admission, and version vectors capped at a revocation.  The rules
 * themselves live in storage/ (store_member_*); this file applies them on
 * the loop thread, under the store lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/node_int.h"

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool holds(const struct node *n, const uint8_t alliance[32])
{
	for (size_t i = 0; i < n->local.n; i++)
		if (!memcmp(n->local.v[i].alliance, alliance, 32))
			return true;
	return false;
}

int node_member_active_any(struct node *n, const uint8_t key[32])
{
	struct store_txn *t;
	uint64_t now = wall_ms();
	int rc, best = STORE_E_NOT_MEMBER;

	uv_mutex_lock(&n->store_lock);
	rc = store_txn_begin(n->store, &t);
	if (rc == 0) {
		for (size_t i = 0; i < n->local.n; i++) {
			int a = store_member_active(t, n->local.v[i].alliance, key, now);
			if (a == 0 || (a != STORE_E_NOT_MEMBER && best == STORE_E_NOT_MEMBER))
				best = a;
			if (a == 0)
				break;
		}
		store_txn_end(t);
		rc = best;
	}
	uv_mutex_unlock(&n->store_lock);
	return rc;
}

bool node_alliance_allowed(struct node *n, const uint8_t key[32], const uint8_t alliance[32])
{
	struct store_txn *t;
	bool ok = false;

	/* An alliance we do not hold is one the peer admitted us to (it only
	 * offers alliances we are active in): we learn it.  What we then
	 * store is still checked record by record. */
	if (!holds(n, alliance))
		return true;
	uv_mutex_lock(&n->store_lock);
	if (store_txn_begin(n->store, &t) == 0) {
		ok = store_member_active(t, alliance, key, wall_ms()) == 0;
		store_txn_end(t);
	}
	uv_mutex_unlock(&n->store_lock);
	return ok;
}

void node_members_check(struct node *n)
{
	for (struct session *s = n->sessions, *next; s; s = next) {
		next = s->next;
		if (s->state != SESSION_OPEN || !s->sync_init)
			continue;
		for (size_t i = 0; i < s->sync.n_al; i++) {
			const uint8_t *id = s->sync.al[i].id;
			if (holds(n, id) && !node_alliance_allowed(n, s->peer_key, id)) {
				char hex[17];
				proto_hex(hex, id, 8);
				NLOG(n, NODE_LOG_WARN, "session",
				     "closing the session with %s: its key is no longer active in "
				     "alliance %s… (revoked or expired)", s->addr, hex);
				session_close(s, "peer's admission was revoked or expired", true);
				break;
			}
		}
	}
}

int node_members_cap(struct store_txn *t, struct sync_lvec *v)
{
	size_t k = 0;
	for (size_t i = 0; i < v->n; i++) {
		struct sync_head h = v->heads[i];
		if (store_member_active(t, v->alliance, h.author, 0) == STORE_E_REVOKED) {
			struct store_member m;
			struct store_record rec;
			int rc = store_member_get(t, v->alliance, h.author, &m);
			if (rc)
				return rc;
			if (h.seq > m.last_seq) {
				if (m.last_seq == 0)
					continue;   /* nothing of it is valid */
				if ((rc = store_feed_get(t, v->alliance, h.author, m.last_seq, &rec)))
					return rc;
				h.seq = m.last_seq;
				memcpy(h.id, rec.id, 32);
			}
		}
		v->heads[k++] = h;
	}
	v->n = k;
	return 0;
}

/* ------------------------------------------------------------ forks */

struct proof {
	uint8_t alliance[32], author[32];
	uint64_t seq;
	uint8_t *a, *b;
	size_t la, lb;
};

struct proofs {
	struct proof *v;
	size_t n;
};

/* Copy each proof out of the snapshot: they are sent with the store lock
 * released (sending asks node_alliance_allowed, which takes it). */
static int collect_cb(const uint8_t alliance[PROTO_ID_BYTES],
                      const uint8_t author[PROTO_KEY_BYTES], uint64_t seq, const uint8_t *env_a,
                      size_t len_a, const uint8_t *env_b, size_t len_b, void *ctx)
{
	struct proofs *p = ctx;
	struct proof *g = realloc(p->v, (p->n + 1) * sizeof *g);
	if (!g)
		return -ENOMEM;
	p->v = g;
	struct proof *f = &g[p->n];
	memcpy(f->alliance, alliance, 32);
	memcpy(f->author, author, 32);
	f->seq = seq;
	f->a = malloc(len_a);
	f->b = malloc(len_b);
	if (!f->a || !f->b) {
		free(f->a);
		free(f->b);
		return -ENOMEM;
	}
	memcpy(f->a, env_a, len_a);
	memcpy(f->b, env_b, len_b);
	f->la = len_a;
	f->lb = len_b;
	p->n++;
	return 0;
}

void node_forks_relay(struct node *n)
{
	struct store_txn *t;
	struct store_stats st;
	struct proofs p = { NULL, 0 };
	bool due = false;

	uv_mutex_lock(&n->store_lock);
	if (store_txn_begin(n->store, &t) != 0) {
		uv_mutex_unlock(&n->store_lock);
		return;
	}
	if (store_stats(t, &st) == 0 && st.forks != n->forks_relayed) {
		n->forks_relayed = st.forks;
		for (struct session *s = n->sessions; s; s = s->next)
			s->forks_sent = false;
	}
	for (struct session *s = n->sessions; s; s = s->next)
		if (s->state == SESSION_OPEN && s->sync_init && s->sync.state == SYNC_STATE_OPEN &&
		    !s->forks_sent)
			due = true;
	if (due && n->forks_relayed)
		(void)store_forks(t, collect_cb, &p);
	store_txn_end(t);
	uv_mutex_unlock(&n->store_lock);

	for (struct session *s = n->sessions, *next; s; s = next) {
		next = s->next;
		if (s->state != SESSION_OPEN || !s->sync_init || s->sync.state != SYNC_STATE_OPEN ||
		    s->forks_sent)
			continue;
		s->forks_sent = true;
		for (size_t i = 0; i < p.n; i++) {
			int rc = sync_send_fork(&s->sync, p.v[i].alliance, p.v[i].author, p.v[i].seq,
			                        p.v[i].a, p.v[i].la, p.v[i].b, p.v[i].lb);
			if (rc) {
				session_close(s, "cannot send a fork proof", true);
				break;
			}
		}
	}
	for (size_t i = 0; i < p.n; i++) {
		free(p.v[i].a);
		free(p.v[i].b);
	}
	free(p.v);
}

int node_fork_received(struct node *n, struct session *s, const uint8_t alliance[32],
                       const uint8_t author[32], uint64_t seq, const uint8_t *env_a,
                       size_t len_a, const uint8_t *env_b, size_t len_b)
{
	int result = 0;
	char hex[17];

	/* only records of exactly the position the proof names; only new
	 * evidence is STORE_FORKED (storage.h) */
	uv_mutex_lock(&n->store_lock);
	int rc = store_ingest_fork(n->store, alliance, author, seq, env_a, len_a, env_b, len_b,
	                           wall_ms(), &result);
	uv_mutex_unlock(&n->store_lock);
	proto_hex(hex, author, 8);
	if (rc) {
		NLOG(n, NODE_LOG_ERROR, "store", "cannot store a fork proof: %s", store_strerror(rc));
		return 0;
	}
	if (result == STORE_FORKED) {
		NLOG(n, NODE_LOG_WARN, "sync",
		     "fork proof from %s: %s… signed two records at seq %llu (equivocating)", s->addr,
		     hex, (unsigned long long)seq);
		/* relayed to every session on the next tick (the fork count grew) */
	} else if (result < 0 && result != STORE_E_NOT_MEMBER) {
		NLOG(n, NODE_LOG_INFO, "sync", "ignoring a fork proof of %s… from %s: %s", hex,
		     s->addr, store_strerror(result));
	}
	/* a record that was new to us (not only the evidence) reaches the
	 * vectors on the next tick, which sees the store's count change */
	return 0;
}

void node_member_seen(struct node *n, const uint8_t key[32])
{
	uint64_t now = wall_ms();
	uv_mutex_lock(&n->store_lock);
	(void)store_seen_put(n->store, key, now);
	uv_mutex_unlock(&n->store_lock);
}
