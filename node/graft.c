/*
 * graft.c - the node's side of eager and lazy push (PROTOCOL.md 4.8,
 * node/engine/sync_gossip.c): one timer for the grafts of every session,
 * and the duplicates that prune a session.
 *
 * The engine has no clock.  Each session's engine says when it next has a
 * graft due (sync_next_deadline); the node keeps one uv timer armed at the
 * earliest of them, re-armed only when a message read makes one earlier,
 * so an idle node wakes for nothing.  When it fires, one session grafts
 * (the others were often announced the same records, which then arrive
 * within a round trip) and the rest are called SYNC_GRAFT_NEXT_MS later.
 */
#include "node/node_int.h"

static void graft_cb(uv_timer_t *t);

void node_graft_init(struct node *n)
{
	uv_timer_init(n->loop, &n->graft_timer);
	n->graft_timer.data = n;
	n->graft_at = UINT64_MAX;
}

void node_graft_arm(struct node *n, uint64_t due)
{
	if (n->stopping || due == UINT64_MAX)
		return;
	if (due < n->graft_hold)
		due = n->graft_hold;
	if (due >= n->graft_at)
		return;
	uint64_t now = node_mono_ms(n);
	n->graft_at = due;
	uv_timer_start(&n->graft_timer, graft_cb, due > now ? due - now : 0, 0);
}

static void graft_cb(uv_timer_t *t)
{
	struct node *n = t->data;
	uint64_t now = node_mono_ms(n), next = UINT64_MAX;
	bool grafted = false, more = false;

	n->graft_at = UINT64_MAX;
	n->graft_hold = 0;
	/* O(sessions), only when a graft was due: sessions are few (the mesh
	 * bounds them), and the engine's answer is O(1) each. */
	for (struct session *s = n->sessions, *nx; s; s = nx) {
		nx = s->next;
		if (s->state != SESSION_OPEN)
			continue;
		uint64_t d = sync_next_deadline(&s->sync);
		if (d <= now && grafted) {
			more = true;
			continue;
		}
		if (d <= now) {
			int rc = sync_timeout(&s->sync, now);
			if (rc < 0) {
				session_close(s, sync_strerror(rc), true);
				continue;
			}
			if (rc == 1) {
				grafted = true;
				session_kick(s);
			}
			d = sync_next_deadline(&s->sync);
		}
		if (d < next)
			next = d;
	}
	if (more)
		n->graft_hold = now + SYNC_GRAFT_NEXT_MS;
	node_graft_arm(n, next);
}

void node_graft_duplicate(struct node *n, struct session *s, const uint8_t alliance[32])
{
	int rc = sync_duplicate(&s->sync, alliance, node_mono_ms(n));
	if (rc)
		session_close(s, sync_strerror(rc), true);
}
