/*
 * jobs.c - the store job queue: every write the node makes, one job at a
 * time, in the order queued, off the loop thread.
 *
 * One at a time keeps feeds in order (a batch must be stored before the
 * next one of its feed is chained on it) and means the loop never waits
 * for a write: it queues the job and goes on; the job's `done` runs on the
 * loop when the write is committed.  Each job that may have changed the
 * store reads, still off the loop, what changed since the view it started
 * from (view_read.c), and the loop applies that before `done`.
 */
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
 * slice.  Linux keeps a nice value per thread; libuv's pool threads run
 * nothing but these jobs, the record reads (readahead.c) and the trim,
 * so each sets its own, idempotently, at every job. */
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

/* Start the next job if none runs. */
static void kick(struct node *n)
{
	struct job *job = n->jq_head;
	if (n->job_running || !job)
		return;
	n->jq_head = job->next;
	if (!n->jq_head)
		n->jq_tail = NULL;
	job->next = NULL;
	if (job == n->ingest_open) {
		n->ingest_open = NULL;   /* no more batches join it */
		n->ingest_open_bytes = 0;
	}
	job->since = n->view_wseq;
	if (n->local.n && (job->held = calloc(n->local.n, 32))) {
		for (size_t i = 0; i < n->local.n; i++)
			memcpy(job->held[i], n->local.v[i].alliance, 32);
		job->n_held = n->local.n;
	} else {
		job->since = 0;   /* no copy of what we hold: read everything */
	}
	n->job_running = job;
	job->req.data = job;
	if (n->env.queue(n->env.ctx, job)) {
		job->rc = -ENOMEM;
		job_done(job);
	}
}

void job_submit(struct node *n, struct job *job)
{
	job->node = n;
	job->next = NULL;
	if (n->jq_tail)
		n->jq_tail->next = job;
	else
		n->jq_head = job;
	n->jq_tail = job;
	kick(n);
}

/* A job that could not run (the node stops, or queueing failed) ran work
 * nothing: `done` sees job->rc != 0 and cleans up its own parts. */
void job_done(struct job *job)
{
	struct node *n = job->node;
	if (n->job_running == job)
		n->job_running = NULL;
	if (job->delta.valid && !n->stopping)
		view_apply(n, &job->delta);
	job->ops->done(job);
	job_free(job);
	if (!n->stopping)
		kick(n);
}

void jobs_drop_all(struct node *n)
{
	struct job *job = n->jq_head;
	n->jq_head = n->jq_tail = NULL;
	n->ingest_open = NULL;
	n->ingest_open_bytes = 0;
	while (job) {
		struct job *next = job->next;
		job->rc = UV_ECANCELED;
		job->ops->done(job);
		job_free(job);
		job = next;
	}
}
