/*
 * blobs_serve.c - answering a peer's BlobWants (PROTOCOL.md 4.9; blobs.c
 * says how): at most 64 KiB read by a job per want, answers owed in the
 * order the wants came, sent after records.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/blobs_int.h"

/* One answer owed to the peer, in the order its wants came. */
struct blob_serve {
	struct blob_serve *next;
	uint8_t hash[32];
	uint64_t offset, size;
	uint32_t length;
	bool ready;                    /* data (or none) is known */
	uint8_t *data;                 /* NULL: BlobNone */
	size_t len;
	struct blob_read_job *job;     /* reading it (NULL when ready) */
};

struct blob_serveq {
	struct blob_serve *head, *tail;
};

struct blob_read_job {
	struct job base;               /* first */
	struct blob_serve *item;       /* NULL once its session is gone */
	uint8_t hash[32];
	uint64_t offset;
	uint32_t length;
	uint64_t size;
	uint8_t *data;
	size_t len;
	uint64_t session_id;
};

static void read_work(struct job *job)
{
	struct blob_read_job *rj = (struct blob_read_job *)job;
	uint64_t size;
	int fd, rc;

	if ((rc = store_blob_open(&fd, &size, job->node->home, rj->hash)))
		return;   /* not here after all: BlobNone */
	if (rj->offset < size) {
		uint64_t rest = size - rj->offset;
		size_t len = rest < rj->length ? (size_t)rest : rj->length;
		if ((rj->data = malloc(len ? len : 1))) {
			size_t got = 0;
			while (got < len) {
				ssize_t r = pread(fd, rj->data + got, len - got, (off_t)(rj->offset + got));
				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0)
					break;
				got += (size_t)r;
			}
			if (got == len) {
				rj->len = len;
				rj->size = size;
			} else {
				free(rj->data);
				rj->data = NULL;
			}
		}
	}
	close(fd);
}

static void read_done(struct job *job)
{
	struct blob_read_job *rj = (struct blob_read_job *)job;
	struct blob_serve *it = rj->item;
	struct session *s;

	if (!it)
		return;   /* the session went */
	it->job = NULL;
	it->ready = true;
	it->data = rj->data;   /* NULL: BlobNone */
	it->len = rj->len;
	it->size = rj->size;
	rj->data = NULL;
	if (!job->node->stopping && (s = session_find(job->node, rj->session_id)))
		session_kick(s);
}

static void read_free(struct job *job)
{
	struct blob_read_job *rj = (struct blob_read_job *)job;
	free(rj->data);
	free(rj);
}

static const struct job_ops read_ops = {
	.name = "blob-read", .lane = JOB_LANE_BLOB, .work = read_work, .done = read_done, .free = read_free,
};

/* May the peer of s have e: held here and listed in an alliance s carries. */
static bool servable(struct session *s, const struct blob_entry *e)
{
	if (!e || e->have != BLOB_HELD)
		return false;
	for (size_t k = 0; k < e->n_al; k++)
		if (sync_carries(&s->sync, e->al[k]))
			return true;
	return false;
}

int node_blob_want(struct session *s, const uint8_t hash[32], uint64_t offset, uint32_t length)
{
	struct blobs *bs = s->node->blobs;
	struct blob_serve *it = calloc(1, sizeof(*it));
	struct blob_serveq *q;

	if (!it)
		return -ENOMEM;
	if (!s->blobq && !(s->blobq = calloc(1, sizeof(*s->blobq)))) {
		free(it);
		return -ENOMEM;
	}
	q = s->blobq;
	memcpy(it->hash, hash, 32);
	it->offset = offset;
	it->length = length;
	if (bs && servable(s, blobs_entry_find(bs, hash))) {
		struct blob_read_job *rj = calloc(1, sizeof(*rj));
		if (!rj) {
			free(it);
			return -ENOMEM;
		}
		rj->base.ops = &read_ops;
		rj->item = it;
		memcpy(rj->hash, hash, 32);
		rj->offset = offset;
		rj->length = length;
		rj->session_id = s->id;
		it->job = rj;
		job_submit(s->node, &rj->base);
	} else {
		it->ready = true;   /* BlobNone */
	}
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	return 0;
}

void node_blobs_serve(struct session *s)
{
	struct blob_serveq *q = s->blobq;
	int rc;

	while (q && q->head && q->head->ready && s->state == SESSION_OPEN &&
	       !sync_pending(&s->sync) && session_sendq(s) < BLOBS_SENDQ_LOW) {
		struct blob_serve *it = q->head;
		rc = sync_blob_answer(&s->sync, it->hash, it->offset, it->size, it->data, it->len);
		if (rc && rc != SYNC_E_CLOSED) {
			session_close(s, sync_strerror(rc), true);
			return;
		}
		if (!(q->head = it->next))
			q->tail = NULL;
		free(it->data);
		free(it);
		if (rc)
			return;
	}
}

void node_blobs_session_closed(struct session *s)
{
	struct blob_serveq *q = s->blobq;
	if (!q)
		return;
	for (struct blob_serve *it = q->head, *next; it; it = next) {
		next = it->next;
		if (it->job)
			it->job->item = NULL;
		free(it->data);
		free(it);
	}
	free(q);
	s->blobq = NULL;
}
