/*
 * members.c - alliance membership at the node: which alliances a session
 * carries, sessions whose peer lost its admission, "last seen" times, and
 * fork proofs.  Decisions come from the view (view.c), on the loop thread;
 * the rules themselves live in storage/ (store_member_*).  Every write
 * (seen times, expiry notes, fork evidence) is a job.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_int.h"

bool node_alliance_allowed(struct node *n, const uint8_t key[32], const uint8_t alliance[32])
{
	if (view_holds(n, alliance))
		return view_member_active(n, alliance, key, node_wall_ms(n)) == 0;
	/* An alliance we do not hold is one the peer admitted us to (it
	 * names only alliances we are active in): we learn it, so a member
	 * admitted directly needs no bundle.  What is then stored is checked
	 * record by record.  (The price, PROTOCOL.md 6.6: a member that names
	 * an alliance id in its Hello can tell whether this node holds it.) */
	return true;
}

/* --------------------------------------------------------- expiry notes */

/* Storage records, for each admission this node watched expire, the
 * member's head at that moment, so a back-dated record cannot cross it
 * (PROTOCOL.md 6.2). */
static void expiry_work(struct job *job)
{
	size_t noted = 0;
	job->rc = store_member_note_expiry(job->node->store, node_wall_ms(job->node),
	                                   job->node->start_wall_ms, &noted);
}

static void expiry_done(struct job *job)
{
	if (job->rc && job->rc != UV_ECANCELED)
		NLOG(job->node, NODE_LOG_ERROR, "store", "cannot note expired admissions: %s",
		     store_strerror(job->rc));
}

static const struct job_ops expiry_ops = {
	.name = "expiry", .work = expiry_work, .done = expiry_done, .refresh = true,
};

void node_members_check(struct node *n)
{
	uint64_t now = node_wall_ms(n), next = UINT64_MAX;
	bool expired = false, crossed = now >= n->next_expiry_ms;

	/* Membership changes only with the view or as the clock passes an
	 * expiry: between those, every answer below would be the same. */
	if (!n->members_changed && !crossed)
		return;
	n->members_changed = false;
	for (struct session *s = n->sessions, *next_s; s; s = next_s) {
		next_s = s->next;
		if (s->state != SESSION_OPEN)
			continue;
		for (size_t i = 0; i < sync_alliance_count(&s->sync); i++) {
			const uint8_t *id = sync_alliance_id(&s->sync, i);
			int rc;
			if (!view_holds(n, id) || (rc = view_member_active(n, id, s->peer_key, now)) == 0)
				continue;
			char hex[17];
			proto_hex(hex, id, 8);
			NLOG(n, NODE_LOG_WARN, "session",
			     "closing the session with %s: its key is no longer active in "
			     "alliance %s… (%s)", s->addr, hex, store_strerror(rc));
			expired |= rc == STORE_E_EXPIRED;
			session_refuse(s, rc == STORE_E_REVOKED ? SYNC_BYE_REVOKED
			                  : rc == STORE_E_EXPIRED ? SYNC_BYE_ADMISSION_EXPIRED
			                                          : SYNC_BYE_NOT_ADMITTED,
			               "your admission to an alliance of this session was revoked or "
			               "has expired", 0);
			break;
		}
	}
	/* An admission that expired since the last look: note it (a job);
	 * and the next one ahead, to wake for.  Only when the clock passed
	 * the next expiry or an alliance was read whole: a member changed by
	 * itself brought its own expiry to next_expiry_ms (view_apply), so
	 * an admission costs O(sessions), not O(members). */
	if (crossed || n->members_rescan) {
		n->members_rescan = false;
		for (size_t a = 0; a < n->local.n; a++) {
			const struct view_members *ms = n->members[a];
			for (size_t i = 0; ms && i < ms->n; i++) {
				const struct view_member *m = &ms->m[i];
				if (!m->expires_ms)
					continue;
				if (m->expires_ms > now)
					next = m->expires_ms < next ? m->expires_ms : next;
				else if (m->expires_ms > n->expiry_noted_ms)
					expired = true;
			}
		}
		n->next_expiry_ms = next;
	}
	if (crossed)
		peering_expired(n);   /* an expired member is no candidate */
	if (expired) {
		struct job *job = calloc(1, sizeof(*job));
		if (job) {
			n->expiry_noted_ms = now;
			job->ops = &expiry_ops;
			job_submit(n, job);
		}
	}
}

/* ------------------------------------------------------------ seen */

struct seen_job {
	struct job base;
	struct store_seen *v;
	size_t n;
};

static void seen_work(struct job *job)
{
	struct seen_job *sj = (struct seen_job *)job;
	job->rc = store_seen_put_many(job->node->store, sj->v, sj->n);
}

static void seen_flush(struct node *n);

static void seen_done(struct job *job)
{
	struct seen_job *sj = (struct seen_job *)job;
	struct node *n = job->node;
	n->seen_queued = false;
	if (job->rc && job->rc != UV_ECANCELED)
		NLOG(n, NODE_LOG_WARN, "store", "cannot record when peers were seen: %s",
		     store_strerror(job->rc));
	free(sj->v);
	if (n->n_seen && !n->stopping)
		seen_flush(n);   /* what came meanwhile */
}

static const struct job_ops seen_ops = { .name = "seen", .work = seen_work, .done = seen_done };

/* Written by one job for every key seen meanwhile: a peer that reconnects
 * in a loop costs one write per job, not one per connection. */
void node_member_seen(struct node *n, const uint8_t key[32])
{
	size_t i;
	for (i = 0; i < n->n_seen; i++)
		if (!memcmp(n->seen[i].key, key, 32))
			break;
	if (i == n->n_seen) {
		if (n->n_seen == n->cap_seen) {
			size_t cap = n->cap_seen ? n->cap_seen * 2 : 16;
			struct store_seen *v = realloc(n->seen, cap * sizeof(*v));
			if (!v)
				return;
			n->seen = v;
			n->cap_seen = cap;
		}
		memcpy(n->seen[n->n_seen++].key, key, 32);
	}
	n->seen[i].ms = node_wall_ms(n);
	if (!n->seen_queued && !n->stopping)
		seen_flush(n);
}

static void seen_flush(struct node *n)
{
	struct seen_job *sj = calloc(1, sizeof(*sj));
	if (!sj)
		return;
	/* the job takes what is pending now; later ones go with the next */
	sj->base.ops = &seen_ops;
	sj->v = n->seen;
	sj->n = n->n_seen;
	n->seen = NULL;
	n->n_seen = n->cap_seen = 0;
	n->seen_queued = true;
	job_submit(n, &sj->base);
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

static void proofs_free(struct proofs *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].a);
		free(p->v[i].b);
	}
	free(p->v);
}

/*
 * Each session gets every proof numbered after the ones it was sent
 * (storage numbers new evidence, and caps it per author and alliance), so
 * a proof goes out once per session, not again on every change.  The
 * proofs are read from a snapshot: a bounded set (the caps).
 */
void node_forks_relay(struct node *n)
{
	uint64_t from = UINT64_MAX, upto = 0;
	struct proofs p = { NULL, 0 };
	struct store_txn *t;

	for (struct session *s = n->sessions; s; s = s->next)
		if (s->state == SESSION_OPEN && sync_state(&s->sync) == SYNC_STATE_OPEN && s->forks_sent < n->view_forks &&
		    s->forks_sent < from)
			from = s->forks_sent;
	if (from == UINT64_MAX)
		return;
	if (store_txn_begin(n->store, &t) == 0) {
		if (store_forks_since(t, from, collect_cb, &p, &upto) != 0)
			upto = from;
		store_txn_end(t);
	}
	for (struct session *s = n->sessions, *next; s; s = next) {
		next = s->next;
		if (s->state != SESSION_OPEN || sync_state(&s->sync) != SYNC_STATE_OPEN || s->forks_sent >= upto)
			continue;
		/* proofs come oldest first; the session takes those past its mark */
		for (size_t i = 0; i < p.n; i++) {
			if (from + 1 + i <= s->forks_sent)
				continue;
			int rc = sync_send_fork(&s->sync, p.v[i].alliance, p.v[i].author, p.v[i].seq,
			                        p.v[i].a, p.v[i].la, p.v[i].b, p.v[i].lb);
			if (rc) {
				session_close(s, "cannot send a fork proof", true);
				break;
			}
		}
		s->forks_sent = upto;
		session_kick(s);
	}
	if (upto > n->forks_relayed)
		n->forks_relayed = upto;
	proofs_free(&p);
}

struct fork_job {
	struct job base;
	uint64_t session_id;
	uint8_t alliance[32], author[32];
	uint64_t seq;
	uint8_t *a, *b;
	size_t la, lb;
	int result;
};

static void fork_work(struct job *job)
{
	struct fork_job *fj = (struct fork_job *)job;
	job->rc = store_ingest_fork(job->node->store, fj->alliance, fj->author, fj->seq, fj->a,
	                            fj->la, fj->b, fj->lb, node_wall_ms(job->node), &fj->result);
}

static void fork_done(struct job *job)
{
	struct fork_job *fj = (struct fork_job *)job;
	struct node *n = job->node;
	struct session *s = session_find(n, fj->session_id);
	char hex[17];
	proto_hex(hex, fj->author, 8);
	node_recv_release(n, s, fj->la + fj->lb);
	if (job->rc == UV_ECANCELED)
		return;
	ingest_resume_reading(n);
	if (job->rc) {
		NLOG(n, NODE_LOG_ERROR, "store", "cannot store a fork proof: %s", store_strerror(job->rc));
	} else if (fj->result == STORE_FORKED) {
		NLOG(n, NODE_LOG_WARN, "sync",
		     "fork proof from %s: %s… signed two records at seq %llu (equivocating)",
		     s ? s->addr : "a peer", hex, (unsigned long long)fj->seq);
		/* relayed once the view sees the store's fork number grow */
	} else if (fj->result < 0 && fj->result != STORE_E_NOT_MEMBER) {
		NLOG(n, NODE_LOG_INFO, "sync", "ignoring a fork proof of %s… from %s: %s", hex,
		     s ? s->addr : "a peer", store_strerror(fj->result));
	}
}

static void fork_free(struct job *job)
{
	struct fork_job *fj = (struct fork_job *)job;
	free(fj->a);
	free(fj->b);
	free(fj);
}

static const struct job_ops fork_ops = {
	.name = "fork", .work = fork_work, .done = fork_done, .free = fork_free, .refresh = true,
};

int node_fork_received(struct node *n, struct session *s, const uint8_t alliance[32],
                       const uint8_t author[32], uint64_t seq, const uint8_t *env_a,
                       size_t len_a, const uint8_t *env_b, size_t len_b)
{
	struct fork_job *fj = calloc(1, sizeof(*fj));
	if (!fj)
		return -ENOMEM;
	fj->a = malloc(len_a ? len_a : 1);
	fj->b = malloc(len_b ? len_b : 1);
	if (!fj->a || !fj->b) {
		fork_free(&fj->base);
		return -ENOMEM;
	}
	memcpy(fj->a, env_a, len_a);
	memcpy(fj->b, env_b, len_b);
	fj->la = len_a;
	fj->lb = len_b;
	fj->session_id = s->id;
	memcpy(fj->alliance, alliance, 32);
	memcpy(fj->author, author, 32);
	fj->seq = seq;
	fj->base.ops = &fork_ops;
	/* Fork proofs count against the session's receive window like records
	 * do: a peer cannot queue unbounded verification work. */
	node_recv_hold(n, s, len_a + len_b);
	job_submit(n, &fj->base);
	return 0;
}
