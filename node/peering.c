/*
 * peering.c - the peer manager: the mesh policy (engine/mesh.h) applied to
 * agorad.  Its candidates are the active members of the alliances this
 * node holds, each dialable when it published an Endpoint there
 * (PROTOCOL.md 6.10); the keys in agora.conf are pinned (peers.c dials
 * them as before, the mesh never counts or drops them), but for a
 * `bootstrap = yes` one (the coordinator an invite named), which the mesh
 * dials only while the node reaches no other member.  A member the mesh
 * dials gets a transient struct peer with the address of its Endpoint,
 * gone with its session.  Loop thread only; the Endpoints are read through
 * a read snapshot, which never waits on a write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/node_int.h"

/* The candidates are read whole (O(F): every member, an Endpoint lookup
 * each) only when the set may differ: governance changed, agora.conf's
 * peers changed, an admission expired.  Records that came change at most
 * their authors' addresses: peering_view_changed looks up those alone. */

int peering_start(struct node *n)
{
	struct mesh_conf c;
	uint64_t seed;
	mesh_conf_default(&c);
	if (n->cfg.connections) {
		/* dial at most half the bound, so the members' dials fit in
		 * their bounds (each session is one node's dial) */
		c.max_sessions = n->cfg.connections;
		if (c.dial_target > c.max_sessions / 2)
			c.dial_target = c.max_sessions / 2;
	}
	randombytes_buf(&seed, sizeof(seed));
	n->cand_dirty = true;
	return mesh_new(&n->mesh, &c, n->key->pk, seed);
}

void peering_free(struct node *n)
{
	mesh_free(n->mesh);
	n->mesh = NULL;
	free(n->cand);
	n->cand = NULL;
	n->n_cand = 0;
}

void peering_expired(struct node *n)
{
	n->cand_dirty = true;
}

static bool member_active(const struct view_member *m, uint64_t now)
{
	struct store_member sm = { .role = m->role, .expires_ms = m->expires_ms,
	                           .revoked = m->revoked, .rotated = m->rotated,
	                           .last_seq = m->last_seq };
	return store_member_is_active(&sm, now);
}

/* The first address key published in an alliance this node holds with it,
 * into host/port.  true if there is one. */
static bool member_address(struct node *n, struct store_txn *t, const uint8_t key[32],
                           char host[NODE_HOST_MAX], uint16_t *port)
{
	uint64_t now = node_wall_ms(n);
	for (size_t i = 0; i < n->local.n; i++) {
		struct store_endpoint ep;
		if (view_member_active(n, n->local.v[i].alliance, key, now) != 0 ||
		    store_endpoint_get(t, n->local.v[i].alliance, key, &ep) != 0)
			continue;
		for (size_t k = 0; k < ep.n && !ep.dial_out_only; k++)
			if (node_parse_hostport(host, port, ep.addr[k], false) == 0)
				return true;
	}
	return false;
}

static bool is_pinned(const struct peer *p)
{
	return p && !p->transient && !p->conf.bootstrap;
}

/* Marks the candidates (sorted by key) that have an endpoint entry. */
struct has_ep {
	const struct mesh_candidate *c;
	size_t n;
	uint8_t *has;
};

static int has_ep_mark(void *ctx, const uint8_t author[32])
{
	struct has_ep *e = ctx;
	struct mesh_candidate want;
	memcpy(want.key, author, 32);
	const struct mesh_candidate *hit = e->n ?
		bsearch(&want, e->c, e->n, sizeof(*e->c), mesh_candidate_cmp) : NULL;
	if (hit)
		e->has[hit - e->c] = 1;
	return 0;
}

/* agora.conf's peers by key, then by place (node_peer_find's choice
 * first where a key is there twice). */
struct peer_at {
	struct peer *p;
	size_t i;
};

static int peer_at_cmp(const void *a, const void *b)
{
	const struct peer_at *x = a, *y = b;
	int c = memcmp(x->p->conf.key, y->p->conf.key, 32);
	return c ? c : x->i < y->i ? -1 : x->i > y->i;
}

/* Read the candidates again: every active member of every alliance held,
 * and every bootstrap peer, once, sorted by key.  O(members x alliances):
 * each alliance's members are already in key order, so the lists are
 * merged, not sorted; agora.conf's peers are sorted (a few) and walked
 * beside them. */
static int candidates_build(struct node *n)
{
	uint64_t now = node_wall_ms(n);
	size_t total = n->n_peers, k = 0, runs = 0;
	struct store_txn *t = NULL;
	for (size_t i = 0; i < n->local.n; i++)
		total += n->members[i] ? n->members[i]->n : 0;
	struct mesh_candidate *c = calloc(total ? total : 1, sizeof(*c));
	size_t *bound = calloc(n->local.n + 2, sizeof(*bound));
	struct peer_at *ps = calloc(n->n_peers ? n->n_peers : 1, sizeof(*ps));
	if (!c || !bound || !ps) {
		free(c);
		free(bound);
		free(ps);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n->local.n; i++) {
		bool sorted = true;
		bound[runs++] = k;
		for (size_t j = 0; n->members[i] && j < n->members[i]->n; j++) {
			const struct view_member *m = &n->members[i]->m[j];
			if (!member_active(m, now) || !memcmp(m->key, n->key->pk, 32))
				continue;
			memcpy(c[k].key, m->key, 32);
			sorted &= k == bound[runs - 1] || mesh_candidate_cmp(&c[k - 1], &c[k]) < 0;
			k++;
		}
		if (!sorted)   /* the view keeps members in key order: not expected */
			qsort(c + bound[runs - 1], k - bound[runs - 1], sizeof(*c), mesh_candidate_cmp);
	}
	bound[runs++] = k;
	for (size_t i = 0; i < n->n_peers; i++)
		if (n->peers[i]->conf.bootstrap && n->peers[i]->conf.host[0])
			memcpy(c[k++].key, n->peers[i]->conf.key, 32);
	qsort(c + bound[runs - 1], k - bound[runs - 1], sizeof(*c), mesh_candidate_cmp);
	bound[runs] = k;
	size_t u = mesh_candidates_merge(c, bound, runs);
	free(bound);
	/* Who published an Endpoint: one walk of each alliance's endpoint
	 * index (the few hundred members that run nodes), not a lookup for
	 * each of 12,000 members. */
	struct has_ep e = { c, u, calloc(u ? u : 1, 1) };
	if (!e.has) {
		free(c);
		free(ps);
		return -ENOMEM;
	}
	int rc = store_txn_begin(n->store, &t);
	for (size_t i = 0; rc == 0 && i < n->local.n; i++)
		rc = store_endpoint_each(t, n->local.v[i].alliance, has_ep_mark, &e);
	for (size_t i = 0; i < n->n_peers; i++)
		ps[i] = (struct peer_at){ n->peers[i], i };
	qsort(ps, n->n_peers, sizeof(*ps), peer_at_cmp);
	for (size_t i = 0, j = 0; i < u; i++) {
		while (j < n->n_peers && memcmp(ps[j].p->conf.key, c[i].key, 32) < 0)
			j++;
		struct peer *p = j < n->n_peers && !memcmp(ps[j].p->conf.key, c[i].key, 32) ?
		                 ps[j].p : NULL;
		char host[NODE_HOST_MAX];
		uint16_t port;
		c[i].pinned = is_pinned(p);
		c[i].bootstrap = p && !p->transient && p->conf.bootstrap && p->conf.host[0];
		c[i].dialable = rc == 0 && e.has[i] && !c[i].pinned &&
		                member_address(n, t, c[i].key, host, &port);
	}
	free(ps);
	free(e.has);
	if (t)
		store_txn_end(t);
	if ((rc = mesh_set_candidates(n->mesh, c, u))) {
		free(c);
		return rc;
	}
	free(n->cand);
	n->cand = c;
	n->n_cand = u;
	return 0;
}

void peering_view_changed(struct node *n, bool governance, const struct sync_feed_ref *moved,
                          size_t n_moved)
{
	struct mesh_candidate *c = NULL;
	struct store_txn *t = NULL;

	if (governance)
		n->cand_dirty = true;
	if (!n->mesh || n->cand_dirty)
		return;   /* read whole on the next tick anyway */
	for (size_t i = 0; i < n_moved; i++) {
		struct mesh_candidate want;
		memcpy(want.key, moved[i].author, 32);
		const struct mesh_candidate *hit = n->n_cand ?
			bsearch(&want, n->cand, n->n_cand, sizeof(*n->cand), mesh_candidate_cmp) : NULL;
		char host[NODE_HOST_MAX];
		uint16_t port;
		if (!hit || hit->pinned)
			continue;
		if (!t && store_txn_begin(n->store, &t)) {
			n->cand_dirty = true;
			break;
		}
		bool dialable = member_address(n, t, hit->key, host, &port);
		if (dialable == hit->dialable)
			continue;
		/* the mesh borrows n->cand unchanged: give it a changed copy */
		if (!c) {
			if (!(c = malloc(n->n_cand * sizeof(*c)))) {
				n->cand_dirty = true;
				break;
			}
			memcpy(c, n->cand, n->n_cand * sizeof(*c));
		}
		c[hit - n->cand].dialable = dialable;
	}
	if (t)
		store_txn_end(t);
	if (c && !n->cand_dirty) {
		if (mesh_set_candidates(n->mesh, c, n->n_cand) == 0) {
			free(n->cand);
			n->cand = c;
			return;
		}
		n->cand_dirty = true;
	}
	free(c);
}

/* Dial a member the mesh chose, at the address of its Endpoint. */
static void dial_member(struct node *n, const uint8_t key[32])
{
	struct node_peer_conf conf;
	struct store_txn *t;
	uint64_t now = node_mono_ms(n);

	struct peer *b = node_peer_find(n, key);
	if (b && !b->transient && b->conf.bootstrap) {
		if (!b->session && !b->gai_busy && b->state != PEER_CONNECTING)
			node_peer_dial_now(b);   /* its address is in agora.conf */
		return;
	}
	if (b)
		return;   /* a session or a dial under way: the mesh hears of it */
	memset(&conf, 0, sizeof(conf));
	memcpy(conf.key, key, 32);
	bool found = false;
	if (store_txn_begin(n->store, &t) == 0) {
		found = member_address(n, t, key, conf.host, &conf.port);
		store_txn_end(t);
	}
	struct peer *p = found ? node_peer_add(n, &conf) : NULL;
	if (!p) {
		mesh_closed(n->mesh, key, MESH_CLOSE_FAILED, 0, now);
		return;
	}
	p->transient = true;
	p->meshed = true;
	node_peer_dial_now(p);
}

/* Close the session with key: the mesh dropped it (already forgotten). */
static void drop_member(struct node *n, const struct mesh_action *a)
{
	struct peer *p = node_peer_find(n, a->key);
	if (!p || !p->session)
		return;
	if (a->why == MESH_DROP_BOOTSTRAP) {
		/* nothing to ask of the coordinator: it may dial us any time */
		session_goodbye(p->session, SYNC_BYE_UNSPECIFIED, "other members reached");
		return;
	}
	const char *why = a->why == MESH_DROP_SHUFFLE ? "reshuffling the mesh" :
	                  "too many connections";
	session_refuse_busy(p->session, a->retry_after_ms, why);
}

void peering_tick(struct node *n)
{
	uint64_t now = node_mono_ms(n);
	struct mesh_action act[8];
	size_t k = 0;

	if (!n->mesh || n->stopping)
		return;
	if (n->cand_dirty) {
		int rc = candidates_build(n);
		if (rc)
			NLOG(n, NODE_LOG_ERROR, "mesh", "cannot read the members to connect to: %s",
			     store_strerror(rc));
		n->cand_dirty = rc != 0;   /* tried again on the next tick */
	}
	if (mesh_tick(n->mesh, now, act, sizeof(act) / sizeof(act[0]), &k))
		return;
	for (size_t i = 0; i < k; i++) {
		if (act[i].kind == MESH_DROP)
			drop_member(n, &act[i]);
		else if (act[i].kind == MESH_DIAL)
			dial_member(n, act[i].key);
	}
}

void peering_hello_says(struct node *n, struct session *s)
{
	if (n->mesh)
		sync_set_sessions(&s->sync, mesh_sessions(n->mesh));
}

int peering_opened(struct node *n, struct session *s)
{
	bool pinned = is_pinned(s->peer);
	uint64_t now = node_mono_ms(n);
	uint32_t says = sync_peer_sessions(&s->sync);
	unsigned peer_sessions = says == UINT32_MAX ? MESH_PEER_SESSIONS_UNKNOWN : says;
	struct mesh_verdict v;

	if (!n->mesh)
		return 0;
	if (s->inbound && !pinned) {
		mesh_accept(n->mesh, &v, s->peer_key, false, peer_sessions, now);
		if (!v.accept) {
			session_refuse_busy(s, v.retry_after_ms, "too many connections: try again later");
			return 1;
		}
		if (v.evict) {
			struct peer *p = node_peer_find(n, v.evict_key);
			if (p && p->session)
				session_refuse_busy(p->session, v.retry_after_ms,
				                    "too many connections: making room for an isolated member");
		}
	}
	if (mesh_opened_peer(n->mesh, s->peer_key, s->inbound, pinned, peer_sessions, now)) {
		session_close(s, "out of memory", true);
		return 1;
	}
	return 0;
}

void peering_closed(struct node *n, const uint8_t key[32], enum mesh_close why,
                    uint64_t retry_after_ms)
{
	if (n->mesh)
		mesh_closed(n->mesh, key, why, retry_after_ms, node_mono_ms(n));
}

void peering_retry_now(struct node *n)
{
	if (n->mesh)
		mesh_retry_now(n->mesh);
}
