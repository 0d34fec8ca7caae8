/*
 * view.c - what the loop knows of the store: the version vector of every
 * alliance (borrowed by each session's sync engine) and each alliance's
 * members (who may take part, and up to which seq).
 *
 * The loop never reads these from the store.  A job reads them off the
 * loop after its writes (view_delta_read, view_read.c: the heads that moved since the
 * view's write number, from the store's change log; for a governance
 * record (admission, revocation, key rotation) the members it names, each
 * with its feed's head; a whole alliance when it is new or a change cannot
 * be narrowed down; everything when the log does not reach back), and the
 * loop applies the delta (view_apply): heads and members are updated in
 * place, a whole alliance replaced by pointer.  So a stored batch costs
 * the loop the feeds it moved and an admission the member it admitted,
 * not the alliance.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_int.h"

/* ------------------------------------------------------ applying (loop) */

static struct sync_lvec *lvec_find(struct node *n, const uint8_t alliance[32], size_t *index)
{
	for (size_t i = 0; i < n->local.n; i++)
		if (!memcmp(n->local.v[i].alliance, alliance, 32)) {
			if (index)
				*index = i;
			return &n->local.v[i];
		}
	return NULL;
}

bool view_holds(const struct node *n, const uint8_t alliance[32])
{
	return lvec_find((struct node *)n, alliance, NULL) != NULL;
}

/* Set one head in a sorted lvec.  1 when it was inserted or raised, 2
 * when it went down (a revocation cap, this node's own records taken out
 * by `agora recover`); *was: the head before (0: none). */
static int head_set(struct sync_lvec *v, const struct sync_head *h, uint64_t *was)
{
	size_t a = 0, b = v->n;
	bool lower = false;
	*was = 0;
	while (a < b) {   /* unchanged heads cost a lookup, nothing more */
		size_t m = a + (b - a) / 2;
		int c = memcmp(v->heads[m].author, h->author, 32);
		if (c == 0) {
			if (v->heads[m].seq == h->seq && !memcmp(v->heads[m].id, h->id, 32))
				return 0;
			lower = h->seq < v->heads[m].seq;
			*was = v->heads[m].seq;
			break;
		}
		if (c < 0)
			a = m + 1;
		else
			b = m;
	}
	int rc = sync_lvec_set(v, h->author, h->seq, h->id);
	return rc ? rc : lower ? 2 : 1;
}

/*
 * This node's own head of an alliance went down: `agora recover` took
 * records out of the feed.  Peers believe we hold them, and a session
 * rewinds a feed at most once: start every session of that alliance over
 * (they are redialled), so each exchange starts from what we hold now.
 */
static void own_rewound(struct node *n, const uint8_t alliance[32])
{
	for (struct session *s = n->sessions, *next; s; s = next) {
		next = s->next;
		if (s->state == SESSION_OPEN && sync_carries(&s->sync, alliance))
			session_goodbye(s, SYNC_BYE_SHUTTING_DOWN,
			                "this node's own feed was put right: starting over");
	}
}

struct refs {
	struct sync_feed_ref *v;
	size_t n, cap;
};

static int ref_add(struct refs *r, const uint8_t alliance[32], const uint8_t author[32],
                   uint64_t was)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct sync_feed_ref *v = realloc(r->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	memcpy(r->v[r->n].alliance, alliance, 32);
	memcpy(r->v[r->n].author, author, 32);
	r->v[r->n].was = was;
	r->n++;
	return 0;
}

/* The feeds whose heads differ between two sorted vectors of one
 * alliance (a merge walk: O(feeds), once per governance change). */
static int diff_heads(struct refs *r, const struct sync_lvec *old, const struct sync_lvec *nv)
{
	size_t i = 0, j = 0;
	int rc = 0;
	while (rc == 0 && (i < old->n || j < nv->n)) {
		int c = i == old->n ? 1 : j == nv->n ? -1
		        : memcmp(old->heads[i].author, nv->heads[j].author, 32);
		if (c < 0) {
			rc = ref_add(r, nv->alliance, old->heads[i].author, old->heads[i].seq);
			i++;
		} else if (c > 0) {
			rc = ref_add(r, nv->alliance, nv->heads[j++].author, 0);
		} else {
			if (old->heads[i].seq != nv->heads[j].seq ||
			    memcmp(old->heads[i].id, nv->heads[j].id, 32))
				rc = ref_add(r, nv->alliance, nv->heads[j].author, old->heads[i].seq);
			i++;
			j++;
		}
	}
	return rc;
}

/* Replace (or add) a whole alliance, taking it from the delta; the feeds
 * that moved go to r. */
static int alliance_take(struct node *n, struct sync_lvec *v, struct view_members **m,
                         struct refs *r)
{
	size_t i;
	struct sync_lvec *old = lvec_find(n, v->alliance, &i);
	int rc;
	if (old) {
		if ((rc = diff_heads(r, old, v)))
			return rc;
		view_lvec_dispose(old);
		view_members_free(n->members[i]);
	} else {
		struct sync_lvec *nv = realloc(n->local.v, (n->local.n + 1) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		n->local.v = nv;
		struct view_members **nm = realloc(n->members, (n->local.n + 1) * sizeof(*nm));
		if (!nm)
			return -ENOMEM;
		n->members = nm;
		i = n->local.n++;
	}
	n->local.v[i] = *v;
	n->members[i] = *m;
	n->members_changed = true;
	n->members_rescan = true;
	memset(v, 0, sizeof(*v));
	*m = NULL;
	return 0;
}

/* Index of author's head in v, or v->n. */
static size_t head_index(const struct sync_lvec *v, const uint8_t author[32])
{
	size_t a = 0, b = v->n;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		int c = memcmp(v->heads[m].author, author, 32);
		if (c == 0)
			return m;
		if (c < 0)
			a = m + 1;
		else
			b = m;
	}
	return v->n;
}

/* Mark author's head in alliance i as a coordinator's or not (streamed
 * first, PROTOCOL.md 4.4) from the members.  true if the mark changed. */
static bool head_mark(struct node *n, size_t i, const uint8_t author[32])
{
	struct sync_lvec *v = &n->local.v[i];
	size_t k = head_index(v, author);
	if (k == v->n)
		return false;
	const struct view_member *m = view_member_find(n->members[i], author);
	bool coord = (m && m->role == AGORA__ROLE__ROLE_COORDINATOR && !m->revoked) ||
	             (v->has_founder && !memcmp(author, v->founder, 32));
	if (v->heads[k].coordinator == coord)
		return false;
	v->heads[k].coordinator = coord;
	return true;
}

/* Put (or, not listed, take out) one member of alliance i, in key order. */
static int member_put(struct node *n, size_t i, const struct view_member_change *c)
{
	struct view_members *ms = n->members[i];
	if (!ms && !(ms = n->members[i] = calloc(1, sizeof(*ms))))
		return -ENOMEM;
	size_t a = 0, b = ms->n;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		int r = memcmp(ms->m[m].key, c->m.key, 32);
		if (r == 0) {
			if (c->listed)
				ms->m[m] = c->m;
			else
				memmove(&ms->m[m], &ms->m[m + 1], (--ms->n - m) * sizeof(*ms->m));
			return 0;
		}
		if (r < 0)
			a = m + 1;
		else
			b = m;
	}
	if (!c->listed)
		return 0;
	if (ms->n == ms->cap) {
		size_t cap = ms->cap ? ms->cap * 2 : 16;
		struct view_member *p = realloc(ms->m, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		ms->m = p;
		ms->cap = cap;
	}
	memmove(&ms->m[a + 1], &ms->m[a], (ms->n - a) * sizeof(*ms->m));
	ms->m[a] = c->m;
	ms->n++;
	return 0;
}

/*
 * One member changed by governance: its entry, then its feed's head (a
 * revocation may lower it, or take the feed out), then the head's
 * coordinator mark.  The feed goes to r if any of that moved.  Its expiry
 * comes to next_expiry_ms (one already passed and not noted: now), so
 * node_members_check need not look at every member.
 */
static int change_apply(struct node *n, const struct view_member_change *c, struct refs *r)
{
	size_t i;
	struct sync_lvec *v = lvec_find(n, c->alliance, &i);
	bool moved = false;
	uint64_t was = 0;
	int rc;
	if (!v)
		return 0;   /* not held: it comes whole */
	if ((rc = member_put(n, i, c)))
		return rc;
	n->members_changed = true;
	if (c->listed && c->m.expires_ms) {
		if (c->m.expires_ms > node_wall_ms(n)) {
			if (c->m.expires_ms < n->next_expiry_ms)
				n->next_expiry_ms = c->m.expires_ms;
		} else if (c->m.expires_ms > n->expiry_noted_ms) {
			n->next_expiry_ms = 0;
		}
	}
	if (c->has_head) {
		int h = head_set(v, &c->h, &was);
		if (h < 0)
			return h;
		moved = h > 0;
		if (!moved)
			was = c->h.seq;
	} else {
		size_t k = head_index(v, c->m.key);
		if (k < v->n) {   /* nothing of it is valid now */
			was = v->heads[k].seq;
			memmove(&v->heads[k], &v->heads[k + 1], (v->n - k - 1) * sizeof(*v->heads));
			v->n--;
			sync_lvec_touch(v);
			moved = true;
		}
	}
	if (!c->has_head && !moved)
		was = 0;   /* held no head, holds none */
	moved |= head_mark(n, i, c->m.key);
	return moved ? ref_add(r, c->alliance, c->m.key, was) : 0;
}

void view_free(struct node *n)
{
	for (size_t i = 0; i < n->local.n; i++) {
		view_lvec_dispose(&n->local.v[i]);
		view_members_free(n->members[i]);
	}
	free(n->local.v);
	free(n->members);
	n->local.v = NULL;
	n->members = NULL;
	n->local.n = 0;
}

/* Tell every open session what moved: feeds, and whether governance
 * changed (alliances, or members: who may take part) or everything did. */
static void sessions_tell(struct node *n, const struct sync_feed_ref *refs, size_t n_refs,
                          bool alliances, bool whole)
{
	uint64_t now = node_mono_ms(n);
	for (struct session *s = n->sessions, *next; s; s = next) {
		next = s->next;
		if (s->state != SESSION_OPEN)
			continue;
		int rc = 0;
		if (whole)
			rc = sync_local_changed(&s->sync, now);
		else if (alliances)
			rc = sync_alliances_changed(&s->sync, now);
		if (!rc && !whole && n_refs)
			rc = sync_feeds_changed(&s->sync, refs, n_refs, now);
		if (!rc && alliances && s->member_retry) {
			/* records this peer sent were refused for membership: maybe
			 * what just arrived admits their author; ask again */
			s->member_retry = false;
			rc = sync_resync(&s->sync);
		}
		if (rc) {
			session_close(s, sync_strerror(rc), true);
			continue;
		}
		session_kick(s);
	}
}

/* Heads may have moved that no session was told of (out of memory half
 * way through a delta): a session stands a feed it keeps no entry for at
 * our head, so every open session compares vectors with its peer again. */
static void sessions_resync(struct node *n)
{
	for (struct session *s = n->sessions, *next; s; s = next) {
		next = s->next;
		int rc = s->state == SESSION_OPEN ? sync_resync(&s->sync) : 0;
		if (rc)
			session_close(s, sync_strerror(rc), true);
		else if (s->state == SESSION_OPEN)
			session_kick(s);
	}
}

/* Before n->local is replaced whole: every open session writes down what
 * its feeds without an entry stand for (sync_local_replacing). */
static void sessions_replacing(struct node *n)
{
	for (struct session *s = n->sessions, *next; s; s = next) {
		next = s->next;
		int rc = s->state == SESSION_OPEN ? sync_local_replacing(&s->sync) : 0;
		if (rc)
			session_close(s, sync_strerror(rc), true);
	}
}

void view_apply(struct node *n, struct view_delta *d)
{
	struct refs r = { NULL, 0, 0 };
	bool alliances = d->whole || d->n_alliances > 0, whole = d->whole;
	bool governance = alliances || d->n_changes > 0;
	int rc = 0;

	if (!d->valid)
		return;
	if (d->whole) {
		/* every session borrows n->local: it is rebuilt in place, and
		 * tells no session the head it had of each feed */
		sessions_replacing(n);
		view_free(n);
	}
	node_pending_note(n, d);   /* records signed at join wait for these */
	for (size_t i = 0; rc == 0 && i < d->n_alliances; i++)
		rc = alliance_take(n, &d->alliances[i], &d->members[i], &r);
	for (size_t i = 0; rc == 0 && i < d->n_changes; i++)
		rc = change_apply(n, &d->changes[i], &r);
	for (size_t i = 0; rc == 0 && i < d->n_heads; i++) {
		size_t ai;
		struct sync_lvec *v = lvec_find(n, d->heads[i].alliance, &ai);
		if (!v)
			continue;   /* an alliance we do not hold (yet) */
		uint64_t was;
		int c = head_set(v, &d->heads[i].h, &was);
		if (c < 0)
			rc = c;
		else if (c > 0) {
			/* a feed new to the view may be a coordinator's */
			head_mark(n, ai, d->heads[i].h.author);
			rc = ref_add(&r, d->heads[i].alliance, d->heads[i].h.author, was);
		}
		if (c == 2 && !memcmp(d->heads[i].h.author, n->key->pk, 32))
			own_rewound(n, d->heads[i].alliance);
	}
	if (rc) {
		/* Out of memory half way: the view may miss heads.  Read it
		 * whole again next (a refresh from write number 0). */
		NLOG(n, NODE_LOG_ERROR, "store", "cannot update the version vectors: %s",
		     store_strerror(rc));
		n->view_wseq = 0;
		view_refresh(n);
	} else if (d->upto > n->view_wseq) {
		n->view_wseq = d->upto;
	}
	n->view_records = d->records;
	n->view_forks = d->forks;
	view_delta_free(d);
	if (r.n || governance)
		sessions_tell(n, r.v, r.n, governance, whole);
	if (rc)
		sessions_resync(n);
	peering_view_changed(n, governance, r.v, r.n);
	free(r.v);
	if (n->view_forks > n->forks_relayed)
		node_forks_relay(n);
	node_pending_run(n);
}

/* A job that only reads what changed (a poke, another process's write). */
static void refresh_work(struct job *job)
{
	(void)job;
}

static void refresh_done(struct job *job)
{
	(void)job;
}

static const struct job_ops refresh_ops = {
	.name = "refresh", .work = refresh_work, .done = refresh_done, .refresh = true,
};

void view_refresh(struct node *n)
{
	struct job *job;
	if (n->stopping)
		return;
	/* One queued (not started) refresh reads everything written before it
	 * starts: a second would find nothing new. */
	for (job = n->jobs[JOB_LANE_STORE].head; job; job = job->next)
		if (job->ops == &refresh_ops)
			return;
	if (!(job = calloc(1, sizeof(*job)))) {
		NLOG(n, NODE_LOG_ERROR, "store", "out of memory: the version vectors are not read");
		return;
	}
	job->ops = &refresh_ops;
	job_submit(n, job);
}

/* ------------------------------------------------------ membership */

int view_member_active(const struct node *n, const uint8_t alliance[32],
                       const uint8_t key[32], uint64_t now_ms)
{
	size_t i;
	if (!lvec_find((struct node *)n, alliance, &i))
		return STORE_E_NOT_MEMBER;
	const struct view_member *m = view_member_find(n->members[i], key);
	if (!m)
		return STORE_E_NOT_MEMBER;
	struct store_member sm = { .role = m->role, .expires_ms = m->expires_ms,
	                           .revoked = m->revoked, .rotated = m->rotated,
	                           .last_seq = m->last_seq };
	memcpy(sm.key, m->key, 32);
	return store_member_status(&sm, now_ms);
}

int view_member_active_any(const struct node *n, const uint8_t key[32], uint64_t now_ms)
{
	int best = STORE_E_NOT_MEMBER;
	for (size_t i = 0; i < n->local.n; i++) {
		int a = view_member_active(n, n->local.v[i].alliance, key, now_ms);
		if (a == 0)
			return 0;
		if (a != STORE_E_NOT_MEMBER && best == STORE_E_NOT_MEMBER)
			best = a;
	}
	return best;
}
