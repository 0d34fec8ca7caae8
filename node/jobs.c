/*
 * jobs.c - the job queue: every write the node makes, off the loop
 * thread, one at a time per lane (enum job_lane), in the order queued.
 *
 * One at a time keeps feeds in order (a batch must be stored before the
 * next one of its feed is chained on it) and means the loop never waits
 * for a write: it queues the job and goes on; the job's `done` runs on the
 * loop when the write is committed.  Each job that may have changed the
 * store reads, still off the loop, what changed since the view it started
 * from (view_read.c), and the loop applies that before `done`.  Jobs on
 * attachment files run in a lane of their own beside the store's, so a
 * file's write or final hash never holds up the records queued after it.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "node/node_int.h"

#define NODE_JOB_NICE 10

static void job_free(struct job *job)
{
	view_delta_free(&job->delta);
	free(job->held);
	if (job->ops->free)
		job->ops->free(job);
	else
		free(job);
}

void job_run(struct job *job)
{
	job->ops->work(job);
	if (job->ops->refresh) {
		int rc = view_delta_read(job->node, job->since, (const uint8_t (*)[32])job->held,
		                         job->n_held, &job->delta);
		if (rc)
			job->delta.valid = false;
	}
}

/* A store job is bulk work, as verification is (storage/verify.c): when
 * the loop wakes it must get a core at once, not wait out the job's time
 * slice.  Linux keeps a nice value per thread, so each pool thread sets
 * its own, idempotently, at every job (and read, readahead.c).  libuv's
 * pool also resolves peer names (uv_getaddrinfo): that work, too, then
 * runs at this priority, which suits it, since nothing waits on it
 * but a dial. */
void job_thread_batch(void)
{
#ifdef __linux__
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), NODE_JOB_NICE);
#endif
}

static void work_cb(uv_work_t *req)
{
	job_thread_batch();
	job_run(req->data);
}

static void after_cb(uv_work_t *req, int status)
{
	struct job *job = req->data;
	if (status == UV_ECANCELED && !job->rc)
		job->rc = UV_ECANCELED;
	job_done(job);
}

int job_queue_uv(void *ctx, struct job *job)
{
	struct node *n = ctx;
	job->req.data = job;
	return uv_queue_work(n->loop, &job->req, work_cb, after_cb);
}

/* Start the lane's next job if none of its jobs runs. */
static void kick(struct node *n, enum job_lane lane)
{
	struct job_fifo *q = &n->jobs[lane];
	struct job *job = q->head;
	if (q->running || !job)
		return;
	q->head = job->next;
	if (!q->head)
		q->tail = NULL;
	job->next = NULL;
	if (job == n->ingest_open) {
		n->ingest_open = NULL;   /* no more batches join it */
		n->ingest_open_bytes = 0;
	}
	job->since = n->view_wseq;
	if (!job->ops->refresh) {
		/* reads nothing after its work: no copy of what we hold */
	} else if (n->local.n && (job->held = calloc(n->local.n, 32))) {
		for (size_t i = 0; i < n->local.n; i++)
			memcpy(job->held[i], n->local.v[i].alliance, 32);
		job->n_held = n->local.n;
	} else {
		job->since = 0;   /* no copy of what we hold: read everything */
	}
	q->running = job;
	job->req.data = job;
	if (n->env.queue(n->env.ctx, job)) {
		job->rc = -ENOMEM;
		job_done(job);
	}
}

void job_submit(struct node *n, struct job *job)
{
	struct job_fifo *q = &n->jobs[job->ops->lane];
	/* A job in another lane may run beside any store write: what it
	 * changed could not be read in order. */
	assert(job->ops->lane == JOB_LANE_STORE || !job->ops->refresh);
	job->node = n;
	job->next = NULL;
	if (q->tail)
		q->tail->next = job;
	else
		q->head = job;
	q->tail = job;
	kick(n, job->ops->lane);
}

/* A job that could not run (the node stops, or queueing failed) ran work
 * nothing: `done` sees job->rc != 0 and cleans up its own parts. */
void job_done(struct job *job)
{
	struct node *n = job->node;
	enum job_lane lane = job->ops->lane;
	if (n->jobs[lane].running == job)
		n->jobs[lane].running = NULL;
	if (job->delta.valid && !n->stopping)
		view_apply(n, &job->delta);
	job->ops->done(job);
	job_free(job);
	if (!n->stopping)
		kick(n, lane);
}

void jobs_drop_all(struct node *n)
{
	n->ingest_open = NULL;
	n->ingest_open_bytes = 0;
	for (int lane = 0; lane < JOB_LANES; lane++) {
		struct job *job = n->jobs[lane].head;
		n->jobs[lane].head = n->jobs[lane].tail = NULL;
		while (job) {
			struct job *next = job->next;
			job->rc = UV_ECANCELED;
			job->ops->done(job);
			job_free(job);
			job = next;
		}
	}
}
