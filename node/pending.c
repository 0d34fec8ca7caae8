/*
 * pending.c - this node's records signed before it held their alliance
 * (`agora join`: its Profile and Endpoint, PROTOCOL.md 6.10), stored once
 * the alliance's charter is held and this node's key is active there, and
 * then sent to peers as any new record of the own feed.
 *
 * The view tells which alliances it read whole (new, or a governance
 * change it could not narrow down) and those where this node's own member
 * entry changed: node_pending_note() keeps their ids, node_pending_run() (after
 * the view took them) queues a job for each one where this node's key is
 * active.  The job stores what waits (store_pending_ingest) off the loop;
 * it is a refresh job, so the loop then applies the own feed's new head and
 * every session of that alliance offers the records, as after `agora
 * publish`.  An alliance with nothing pending costs one read of the meta
 * keys; it happens once per governance change.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_int.h"

struct pending_job {
	struct job job;               /* first: the queue frees the whole */
	uint8_t alliance[32];
	uint64_t now_ms;
	size_t stored;
};

static void pending_work(struct job *job)
{
	struct pending_job *p = (struct pending_job *)job;
	job->rc = store_pending_ingest(job->node->store, p->alliance, p->now_ms, &p->stored);
}

static void pending_done(struct job *job)
{
	struct pending_job *p = (struct pending_job *)job;
	char hex[17];
	proto_hex(hex, p->alliance, 8);
	if (job->rc && job->rc != UV_ECANCELED)
		NLOG(job->node, NODE_LOG_ERROR, "store",
		     "cannot store this node's records signed at join for alliance %s…: %s", hex,
		     store_strerror(job->rc));
	else if (!job->rc && p->stored)
		NLOG(job->node, NODE_LOG_INFO, "store",
		     "published this node's %zu record%s signed at join (profile, endpoint) in "
		     "alliance %s…", p->stored, p->stored == 1 ? "" : "s", hex);
}

static const struct job_ops pending_ops = {
	.name = "pending", .work = pending_work, .done = pending_done, .refresh = true,
};

static void pending_note_one(struct node *n, const uint8_t alliance[32])
{
	for (size_t k = 0; k < n->n_pending_check; k++)
		if (!memcmp(n->pending_check[k], alliance, 32))
			return;
	uint8_t (*v)[32] = realloc(n->pending_check, (n->n_pending_check + 1) * 32);
	if (!v) {
		NLOG(n, NODE_LOG_ERROR, "store", "out of memory: records signed at join wait "
		     "for the next change of governance");
		return;
	}
	n->pending_check = v;
	memcpy(v[n->n_pending_check++], alliance, 32);
}

void node_pending_note(struct node *n, const struct view_delta *d)
{
	for (size_t i = 0; i < d->n_alliances; i++)
		pending_note_one(n, d->alliances[i].alliance);
	/* a member changed by itself: only our own admission lets ours in */
	for (size_t i = 0; i < d->n_changes; i++)
		if (!memcmp(d->changes[i].m.key, n->key->pk, 32))
			pending_note_one(n, d->changes[i].alliance);
}

void node_pending_run(struct node *n)
{
	uint64_t now = node_wall_ms(n);
	for (size_t i = 0; i < n->n_pending_check && !n->stopping; i++) {
		const uint8_t *a = n->pending_check[i];
		if (!view_holds(n, a) || view_member_active(n, a, n->key->pk, now) != 0)
			continue;   /* a later change of governance notes it again */
		struct pending_job *p = calloc(1, sizeof(*p));
		if (!p) {
			NLOG(n, NODE_LOG_ERROR, "store", "out of memory: records signed at join wait "
			     "for the next change of governance");
			break;
		}
		p->job.ops = &pending_ops;
		memcpy(p->alliance, a, 32);
		p->now_ms = now;
		job_submit(n, &p->job);
	}
	free(n->pending_check);
	n->pending_check = NULL;
	n->n_pending_check = 0;
}
