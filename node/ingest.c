/*
 * ingest.c - records from peers: a FIFO of batches, verified and stored on
 * libuv's threadpool (one job at a time, so feeds stay in order), results
 * handed back to the sessions on the loop thread.
 *
 * Signatures are checked off the loop thread, and ahead of storing: each
 * batch goes to the node's verifier threads, one per core
 * (store_verifier_add), as it arrives, so later batches are verified while
 * the job storing batch k waits for its commit.  The job runs
 * store_ingest_batches(), which verifies whatever the verifier has not
 * reached yet itself, and writes the whole job in one LMDB transaction.
 * The store lock keeps the loop thread's reads out meanwhile (a store is
 * used by one thread at a time).
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

static void batch_free(struct ingest_batch *b)
{
	if (!b)
		return;
	store_batch_free(b->sb);   /* first: nobody reads buf after this */
	free(b->buf);
	free(b->items);
	free(b->status);
	free(b);
}

int ingest_enqueue(struct node *n, struct session *s, const uint8_t *alliance,
                   const uint8_t *author, uint64_t first_seq, const uint8_t *const *envs,
                   const size_t *lens, size_t count)
{
	struct ingest_batch *b = calloc(1, sizeof(*b));
	size_t total = 0, off = 0;

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++)
		total += lens[i];
	b->buf = malloc(total ? total : 1);
	b->items = calloc(count, sizeof(*b->items));
	b->status = calloc(count, sizeof(*b->status));
	if (!b->buf || !b->items || !b->status) {
		batch_free(b);
		return -ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		memcpy(b->buf + off, envs[i], lens[i]);
		b->items[i].env = b->buf + off;
		b->items[i].len = lens[i];
		off += lens[i];
	}
	b->session_id = s->id;
	memcpy(b->alliance, alliance, 32);
	memcpy(b->author, author, 32);
	b->first_seq = first_seq;
	b->n = count;
	b->bytes = total;
	/* Verification starts now, on the verifier thread, while earlier
	 * batches are stored; it also holds each record to what the Records
	 * header said (feed, seq), so nothing else is stored from it. */
	if (store_batch_new(&b->sb, b->items, b->n, wall_ms(), NULL)) {
		batch_free(b);
		return -ENOMEM;
	}
	store_batch_run(b->sb, alliance, author, first_seq);
	if (n->verifier)
		(void)store_verifier_add(n->verifier, b->sb);   /* else: verified when stored */
	if (n->iq_tail)
		n->iq_tail->next = b;
	else
		n->iq_head = b;
	n->iq_tail = b;
	s->recv_pending += total;
	n->recv_pending += total;
	if ((s->recv_pending > NODE_RECVQ_HIGH || n->recv_pending > NODE_RECVQ_ALL_HIGH) &&
	    !s->read_stopped) {   /* bounded receive buffering */
		NLOG(n, NODE_LOG_DEBUG, "sync",
		     "not reading from %s until records are stored: %zu KiB of its own (limit %u), "
		     "%zu KiB in all (limit %u)", s->addr, s->recv_pending >> 10,
		     NODE_RECVQ_HIGH >> 10, n->recv_pending >> 10, NODE_RECVQ_ALL_HIGH >> 10);
		session_read_pause(s);
	}
	ingest_kick(n);
	return 0;
}

static void work_cb(uv_work_t *req)
{
	struct ingest_job *job = req->data;
	struct node *n = job->node;
	size_t total = 0, nb = 0, k = 0;
	struct store_batch **bs;
	int *status;

	for (struct ingest_batch *b = job->batches; b; b = b->next) {
		total += b->n;
		nb++;
	}
	bs = calloc(nb ? nb : 1, sizeof(*bs));
	status = calloc(total ? total : 1, sizeof(*status));
	if (!bs || !status) {
		job->rc = -ENOMEM;
		goto out;
	}
	for (struct ingest_batch *b = job->batches; b; b = b->next)
		bs[k++] = b->sb;
	uv_mutex_lock(&n->store_lock);
	job->rc = store_ingest_batches(n->store, bs, nb, 0, status, NULL);
	k = 0;
	for (struct ingest_batch *b = job->batches; b && !job->rc; b = b->next) {
		for (size_t i = 0; i < b->n; i++, k++) {
			int st = status[k];
			if (st == STORE_NEW)
				b->added++;
			else if (st == PROTO_E_SEQ || st == PROTO_E_PREV)
				b->gap = true;
			else if (st < 0 && !b->first_error)
				b->first_error = st;
		}
		if (b->gap && !b->first_error) {
			struct store_txn *t;
			uint8_t id[PROTO_ID_BYTES];
			if (store_txn_begin(n->store, &t) == 0) {
				if (store_feed_head(t, b->alliance, b->author, &b->head, id))
					b->head = 0;
				store_txn_end(t);
			}
		}
	}
	uv_mutex_unlock(&n->store_lock);
	bool added = false;
	for (struct ingest_batch *b = job->batches; b && !job->rc; b = b->next)
		added |= b->added > 0;
	if (added) {   /* the new vectors, read here rather than on the loop thread */
		job->has_local = node_local_load(n, &job->local, &job->local_records) == 0;
	}
out:
	free(bs);
	free(status);
}

static bool membership_error(int code)
{
	return code == STORE_E_NOT_MEMBER || code == STORE_E_ROLE || code == STORE_E_REVOKED ||
	       code == STORE_E_EXPIRED;
}

static const char *reject_name(int code)
{
	if (code == STORE_E_RUN)
		return "record does not match its Records header";
	return store_strerror(code);
}

/* A job's bytes are stored (or dropped): they leave both windows. */
static void recv_release(struct node *n, struct session *s, size_t bytes)
{
	n->recv_pending -= bytes < n->recv_pending ? bytes : n->recv_pending;
	if (s)
		s->recv_pending -= bytes < s->recv_pending ? bytes : s->recv_pending;
}

/* Start reading again from every session whose window has room, if the
 * node's has. */
static void recv_resume(struct node *n)
{
	if (n->recv_pending >= NODE_RECVQ_ALL_RESUME)
		return;
	for (struct session *s = n->sessions; s; s = s->next)
		if (s->read_stopped && s->recv_pending < NODE_RECVQ_RESUME &&
		    s->state == SESSION_OPEN)
			session_read_resume(s);
}

static void after_cb(uv_work_t *req, int status)
{
	struct ingest_job *job = req->data;
	struct node *n = job->node;
	size_t added = 0;

	n->job = NULL;
	if (job->rc && status == 0)
		NLOG(n, NODE_LOG_ERROR, "store", "cannot store received records: %s",
		     store_strerror(job->rc));
	for (struct ingest_batch *b = job->batches, *next; b; b = next) {
		struct session *s = session_find(n, b->session_id);
		next = b->next;
		added += b->added;
		recv_release(n, s, b->bytes);
		if (s && !job->rc && status == 0) {
			if (membership_error(b->first_error)) {
				/* Not a broken peer: we do not (yet) hold the admission
				 * that makes the author a member, or the author was revoked
				 * or expired here.  Keep the session; once our governance
				 * records change, node_local_changed re-runs the exchange so
				 * the peer sends them again. */
				char hex[17];
				proto_hex(hex, b->author, 8);
				NLOG(n, NODE_LOG_INFO, "sync",
				     "not accepting records of %s… from %s (seq from %llu): %s", hex,
				     s->addr, (unsigned long long)b->first_seq,
				     store_strerror(b->first_error));
				s->member_retry = true;
			} else if (b->first_error) {
				char hex[17];
				proto_hex(hex, b->author, 8);
				NLOG(n, NODE_LOG_WARN, "sync",
				     "peer %s sent a bad record of feed %s… (seq from %llu): %s", s->addr,
				     hex, (unsigned long long)b->first_seq, reject_name(b->first_error));
				session_close(s, "sent a bad record", true);
			} else if (b->gap && s->state == SESSION_OPEN) {
				if (sync_send_ack(&s->sync, b->alliance, b->author, b->head))
					session_close(s, "cannot send ack", true);
			}
		}
		batch_free(b);
	}
	recv_resume(n);
	if (added && !n->stopping) {
		if (job->has_local) {
			/* Unless the loop read newer ones meanwhile (a poke): the
			 * store only grows, so more records is a later snapshot. */
			if (job->local_records >= n->local_records)
				node_local_set(n, &job->local, job->local_records);
			node_local_changed(n);
		} else if (node_local_reload(n) == 0) {   /* the job could not: logs why */
			node_local_changed(n);
		}
	}
	node_local_free(&job->local);
	free(job);
	ingest_kick(n);
}

void ingest_kick(struct node *n)
{
	struct ingest_job *job;
	struct ingest_batch *last = NULL;
	size_t bytes = 0;

	if (n->job || n->stopping || !n->iq_head)
		return;
	if (!(job = calloc(1, sizeof(*job))))
		return;
	job->node = n;
	job->req.data = job;
	job->batches = n->iq_head;
	for (struct ingest_batch *b = n->iq_head; b; b = b->next) {
		if (last && bytes + b->bytes > NODE_INGEST_BATCH_BYTES)
			break;
		bytes += b->bytes;
		last = b;
	}
	n->iq_head = last->next;
	if (!n->iq_head)
		n->iq_tail = NULL;
	last->next = NULL;
	n->job = job;
	if (uv_queue_work(n->loop, &job->req, work_cb, after_cb)) {
		n->job = NULL;
		for (struct ingest_batch *b = job->batches, *next; b; b = next) {
			next = b->next;
			recv_release(n, session_find(n, b->session_id), b->bytes);
			batch_free(b);
		}
		free(job);
		recv_resume(n);
	}
}

void ingest_drop_all(struct node *n)
{
	for (struct ingest_batch *b = n->iq_head, *next; b; b = next) {
		next = b->next;
		batch_free(b);
	}
	n->iq_head = n->iq_tail = NULL;
}
