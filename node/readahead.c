/*
 * readahead.c - the records a session streams are read off the loop.
 *
 * sync_produce asks io_read for a feed's envelopes one seq at a time.
 * Read on the loop (store_feed_env), each first touch of a store page is a
 * page fault: on a warm map the sender's loop ran up to 10 ms per
 * iteration in bench_sync, and on a cold one it would wait for the disk.
 * So, while producing, io_read answers from envelopes that a read job
 * copied ahead on libuv's threadpool (beside the store job queue, not in
 * it: a read waits for no write), and on a miss starts that job and
 * answers SYNC_READ_LATER: the engine stops, and the job's end kicks the
 * session again.  A job reads one feed from the seq asked for, up to
 * NODE_READAHEAD_BYTES; when production takes the last envelope of a full
 * buffer, the job for the next one starts at once, so it is usually there
 * before it is asked for.  A session holds at most two buffers and one job.
 *
 * Records never change once stored, so a buffer stays true.  "Not there"
 * does not: a job that found nothing is believed only while the node's
 * view has not moved since the job started (the engine asks only for
 * records its view says we hold, and a view is applied after its commit).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_int.h"

struct ra_buf {
	uint8_t alliance[32], author[32];
	uint64_t first;          /* seq of envelope 0 */
	uint64_t wseq;           /* the view's write number when it was read */
	size_t n;                /* envelopes held */
	bool full;               /* stopped at a limit, not at the feed's end */
	size_t *off;             /* n + 1: envelope k is data[off[k] .. off[k + 1]) */
	uint8_t *data;
};

struct ra_job {
	uv_work_t req;
	struct node *node;
	uint64_t session_id;     /* the session may be gone when it ends */
	struct ra_buf *buf;
	int rc;
};

static void buf_free(struct ra_buf *b)
{
	if (b) {
		free(b->off);
		free(b->data);
		free(b);
	}
}

static void ra_work(uv_work_t *req)
{
	struct ra_job *j = req->data;
	struct ra_buf *b = j->buf;
	struct store_txn *t;
	size_t used = 0, cap = 0, cap_off = 16;

	job_thread_batch();
	if (!(b->off = malloc(cap_off * sizeof(*b->off)))) {
		j->rc = -ENOMEM;
		return;
	}
	b->off[0] = 0;
	if ((j->rc = store_txn_begin(j->node->store, &t)))
		return;
	/* Sized as it goes: a live push reads one record, a stream 512 KiB. */
	while (b->n < NODE_READAHEAD_MAX_N && used < NODE_READAHEAD_BYTES) {
		const uint8_t *env;
		size_t len;
		int rc = store_feed_env(t, b->alliance, b->author, b->first + b->n, &env, &len);
		if (rc == STORE_E_NOTFOUND)
			break;
		if (rc) {
			j->rc = rc;
			break;
		}
		if (b->n + 2 > cap_off) {
			size_t *o = realloc(b->off, 2 * cap_off * sizeof(*o));
			if (!o) {
				j->rc = -ENOMEM;
				break;
			}
			b->off = o;
			cap_off *= 2;
		}
		if (used + len > cap) {
			size_t want = cap ? cap * 2 : 4096;
			while (want < used + len)
				want *= 2;
			uint8_t *p = realloc(b->data, want);
			if (!p) {
				j->rc = -ENOMEM;
				break;
			}
			b->data = p;
			cap = want;
		}
		memcpy(b->data + used, env, len);
		used += len;
		b->off[++b->n] = used;
	}
	b->full = b->n == NODE_READAHEAD_MAX_N || used >= NODE_READAHEAD_BYTES;
	store_txn_end(t);
}

static void ra_done(uv_work_t *req, int status)
{
	struct ra_job *j = req->data;
	struct node *n = j->node;
	struct session *s = n->stopping ? NULL : session_find(n, j->session_id);

	n->ra_records += j->buf->n;
	if (s && s->ra_job == j) {
		s->ra_job = NULL;
		/* A failed read keeps what it got; its first missing envelope
		 * then reads as "not there", so the feed waits for its next
		 * change instead of a job per loop iteration. */
		if (status == 0 || j->buf->n) {
			buf_free(s->ra[0]);
			s->ra[0] = s->ra[1];
			s->ra[1] = j->buf;
			j->buf = NULL;
		}
		if (j->rc)
			NLOG(n, NODE_LOG_WARN, "sync", "%s: cannot read records to send: %s", s->addr,
			     store_strerror(j->rc));
		session_kick(s);
		node_trim(n);   /* the pages read: let go of them */
	}
	buf_free(j->buf);
	free(j);
}

/* Start reading feed (alliance, author) from seq. */
static int ra_start(struct session *s, const uint8_t alliance[32], const uint8_t author[32],
                    uint64_t seq)
{
	struct node *n = s->node;
	struct ra_job *j = calloc(1, sizeof(*j));
	struct ra_buf *b = calloc(1, sizeof(*b));
	int rc;

	if (!j || !b) {
		free(j);
		free(b);
		return -ENOMEM;
	}
	memcpy(b->alliance, alliance, 32);
	memcpy(b->author, author, 32);
	b->first = seq;
	b->wseq = n->view_wseq;
	j->node = n;
	j->session_id = s->id;
	j->buf = b;
	j->req.data = j;
	if ((rc = uv_queue_work(n->loop, &j->req, ra_work, ra_done))) {
		buf_free(b);
		free(j);
		return rc;
	}
	s->ra_job = j;
	return 0;
}

/* Does buffer b hold seq of (alliance, author), or end just before it? */
static bool covers(const struct ra_buf *b, const uint8_t alliance[32],
                   const uint8_t author[32], uint64_t seq)
{
	return b && seq >= b->first && seq <= b->first + b->n &&
	       !memcmp(b->author, author, 32) && !memcmp(b->alliance, alliance, 32);
}

int node_readahead_read(struct session *s, const uint8_t alliance[32],
                        const uint8_t author[32], uint64_t seq, const uint8_t **env,
                        size_t *len)
{
	int rc;

	for (size_t i = 0; i < 2; i++) {
		struct ra_buf *b = s->ra[i];
		if (!covers(b, alliance, author, seq))
			continue;
		if (seq == b->first + b->n) {
			/* Past its end: believed missing only if nothing was read
			 * there and nothing was stored since (then once: the next
			 * change of the feed reads again). */
			if (b->n || b->wseq != s->node->view_wseq)
				continue;
			buf_free(b);
			s->ra[i] = NULL;
			return STORE_E_NOTFOUND;
		}
		size_t k = (size_t)(seq - b->first);
		*env = b->data + b->off[k];
		*len = b->off[k + 1] - b->off[k];
		if (k + 1 == b->n && b->full && !s->ra_job)
			(void)ra_start(s, alliance, author, seq + 1);   /* the next one meanwhile */
		return 0;
	}
	if (!s->ra_job && (rc = ra_start(s, alliance, author, seq)))
		return rc;
	return SYNC_READ_LATER;
}

void node_readahead_drop(struct session *s)
{
	buf_free(s->ra[0]);
	buf_free(s->ra[1]);
	s->ra[0] = s->ra[1] = NULL;
}

void node_readahead_free(struct session *s)
{
	node_readahead_drop(s);
	s->ra_job = NULL;   /* it ends by itself and finds no session */
}
