/*
 * ingest.c - records from peers: batches, verified ahead on the verifier
 * threads and stored by ingest jobs (jobs.c), results handed back to the
 * sessions on the loop thread.
 *
 * Signatures are checked off the loop thread, and ahead of storing: each
 * batch goes to the node's verifier threads, one per core
 * (store_verifier_add), as it arrives, so later batches are verified while
 * the job storing batch k waits for its commit.  Batches join the ingest
 * job at the end of the queue until it holds NODE_INGEST_BATCH_BYTES; the
 * job runs store_ingest_batches(), which verifies whatever the verifier
 * has not reached yet itself, and writes the whole job in one LMDB
 * transaction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_int.h"

struct ingest_job {
	struct job base;              /* first */
	struct ingest_batch *batches, *last;
};

/* Its records, raw and decoded; what stays is the outcome (n, bytes,
 * added, gap, first_error, head). */
static void batch_drop_records(struct ingest_batch *b)
{
	store_batch_free(b->sb);   /* first: nobody reads buf after this */
	b->sb = NULL;
	free(b->buf);
	b->buf = NULL;
	free(b->items);
	b->items = NULL;
}

static void batch_free(struct ingest_batch *b)
{
	if (!b)
		return;
	batch_drop_records(b);
	free(b);
}

size_t ingest_job_records(const struct job *job)
{
	const struct ingest_job *ij = (const struct ingest_job *)job;
	size_t n = 0;
	for (const struct ingest_batch *b = ij->batches; b; b = b->next)
		n += b->buf ? b->n : 0;
	return n;
}

/* ------------------------------------------------------------ windows */

void node_recv_release(struct node *n, struct session *s, size_t bytes)
{
	bool was = n->recv_pending > 0;

	n->recv_pending -= bytes < n->recv_pending ? bytes : n->recv_pending;
	if (s)
		s->recv_pending -= bytes < s->recv_pending ? bytes : s->recv_pending;
	if (was && !n->recv_pending)
		node_blobs_resume(n);   /* records first: files wait for them */
}

void node_recv_hold(struct node *n, struct session *s, size_t bytes)
{
	s->recv_pending += bytes;
	n->recv_pending += bytes;
	if ((s->recv_pending > NODE_RECVQ_HIGH || n->recv_pending > NODE_RECVQ_ALL_HIGH) &&
	    !(s->pause & PAUSE_RECVQ)) {   /* bounded receive buffering */
		NLOG(n, NODE_LOG_DEBUG, "sync",
		     "not reading from %s until records are stored: %zu KiB of its own (limit %u), "
		     "%zu KiB in all (limit %u)", s->addr, s->recv_pending >> 10,
		     NODE_RECVQ_HIGH >> 10, n->recv_pending >> 10, NODE_RECVQ_ALL_HIGH >> 10);
		session_pause(s, PAUSE_RECVQ);
	}
}

/* Start reading again from every session whose window has room, if the
 * node's has. */
void ingest_resume_reading(struct node *n)
{
	if (n->recv_pending >= NODE_RECVQ_ALL_RESUME)
		return;
	for (struct session *s = n->sessions; s; s = s->next)
		if ((s->pause & PAUSE_RECVQ) && s->recv_pending < NODE_RECVQ_RESUME)
			session_resume(s, PAUSE_RECVQ);
}

/* ------------------------------------------------------------ the job */

static void ingest_work(struct job *job)
{
	struct ingest_job *ij = (struct ingest_job *)job;
	struct node *n = job->node;
	size_t total = 0, nb = 0, k = 0;
	struct store_batch **bs;
	int *status;

	for (struct ingest_batch *b = ij->batches; b; b = b->next) {
		total += b->n;
		nb++;
	}
	bs = calloc(nb ? nb : 1, sizeof(*bs));
	status = calloc(total ? total : 1, sizeof(*status));
	if (!bs || !status) {
		job->rc = -ENOMEM;
		goto out;
	}
	for (struct ingest_batch *b = ij->batches; b; b = b->next)
		bs[k++] = b->sb;
	/* Records from peers: the commit's meta page is not flushed (one disk
	 * flush less per job).  A system crash may undo the last such job
	 * whole (storage.h, STORE_INGEST_RECEIVED); the store stays
	 * consistent and the peers send the records again when the vectors
	 * are next compared.  This node's own records are published with
	 * store_publish, flushed before the user is told. */
	job->rc = store_ingest_batches(n->store, bs, nb, STORE_INGEST_RECEIVED, status, NULL);
	k = 0;
	for (struct ingest_batch *b = ij->batches; b && !job->rc; b = b->next) {
		for (size_t i = 0; i < b->n; i++, k++) {
			int st = status[k];
			if (st == STORE_NEW)
				b->added++;
			else if ((st == PROTO_E_SEQ || st == PROTO_E_PREV) && !b->gap)
				b->gap = st;
			else if (st < 0 && !b->first_error) {
				b->first_error = st;
				b->upgrade_seq = b->first_seq + i;
			}
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
out:
	free(bs);
	free(status);
	/* The loop needs only the outcomes: the records are freed here, off
	 * it.  (Freeing a job's ~2,000 decoded records in `done` took the
	 * loop 3 ms of CPU per job in a 200,000-record sync, a slow iteration
	 * every 2 MiB.) */
	for (struct ingest_batch *b = ij->batches; b; b = b->next)
		batch_drop_records(b);
}

/* Refusals that are not a broken peer: we do not (yet) hold the
 * admission that makes the author a member, or the author was revoked or
 * expired here.  (Records of an alliance whose charter we lack are: a
 * session streams the coordinators' feeds, the charter first, before any
 * other, PROTOCOL.md 4.4.) */
static bool membership_error(int code)
{
	return code == STORE_E_NOT_MEMBER || code == STORE_E_ROLE || code == STORE_E_REVOKED ||
	       code == STORE_E_EXPIRED;
}

/* A feed stopped at a record this version cannot take: keep it for
 * `agora status` (once per feed; the oldest goes when the list is full). */
static void upgrade_note(struct node *n, const struct ingest_batch *b)
{
	size_t i;
	for (i = 0; i < n->n_upgrades; i++)
		if (!memcmp(n->upgrades[i].alliance, b->alliance, 32) &&
		    !memcmp(n->upgrades[i].author, b->author, 32))
			break;
	if (i == n->n_upgrades) {
		if (!n->upgrades && !(n->upgrades = calloc(NODE_UPGRADES_MAX, sizeof(*n->upgrades))))
			return;
		if (n->n_upgrades == NODE_UPGRADES_MAX) {
			memmove(n->upgrades, n->upgrades + 1, (NODE_UPGRADES_MAX - 1) * sizeof(*n->upgrades));
			i = NODE_UPGRADES_MAX - 1;
		} else {
			n->n_upgrades++;
		}
		char hex[17];
		proto_hex(hex, b->author, 8);
		NLOG(n, NODE_LOG_ERROR, "sync",
		     "records of %s… need a newer agora (a governance record or field of a later "
		     "version): its feed stops here until agora is upgraded", hex);
	}
	memcpy(n->upgrades[i].alliance, b->alliance, 32);
	memcpy(n->upgrades[i].author, b->author, 32);
	n->upgrades[i].seq = b->upgrade_seq;
}

static const char *reject_name(int code)
{
	if (code == STORE_E_RUN)
		return "record does not match its Records header";
	return store_strerror(code);
}

/* The disk is full: stop reading records on every session for a while
 * (the tick reads again after disk_until_ms), then read again and compare
 * vectors, so the dropped records come again.  Nothing is acked meanwhile,
 * so no sender re-sends in a loop. */
void ingest_disk_retry(struct node *n)
{
	n->disk_until_ms = 0;
	for (struct session *s = n->sessions, *next; s; s = next) {
		next = s->next;
		if (s->state == SESSION_OPEN && sync_resync(&s->sync) != 0) {
			session_close(s, "cannot send a digest", true);
			continue;
		}
		session_kick(s);
		session_resume(s, PAUSE_DISK);
	}
}

static void disk_full(struct node *n)
{
	if (!n->disk_until_ms) {
		n->disk_backoff_ms = n->disk_backoff_ms ? n->disk_backoff_ms * 2 : NODE_DISKFULL_MS;
		if (n->disk_backoff_ms > NODE_DISKFULL_MAX_MS)
			n->disk_backoff_ms = NODE_DISKFULL_MAX_MS;
		NLOG(n, NODE_LOG_ERROR, "store",
		     "cannot store received records: No space left on device; not receiving "
		     "records for %u s (free space in %s/db; the records will come again)",
		     n->disk_backoff_ms / 1000, n->home);
		n->disk_until_ms = node_mono_ms(n) + n->disk_backoff_ms;
	}
	for (struct session *s = n->sessions; s; s = s->next)
		session_pause(s, PAUSE_DISK);
}

/* One batch's outcome, told to the session that sent it. */
static void batch_result(struct node *n, struct session *s, struct ingest_batch *b)
{
	char hex[17];
	proto_hex(hex, b->author, 8);
	n->records_received += b->n;
	if (!b->first_error && !b->gap)
		n->records_held += b->n - b->added;
	if (!b->first_error && !b->gap && !b->added && b->n) {
		/* Every record held already: another session brought them first.
		 * The engine prunes this one (PROTOCOL.md 4.8). */
		if (s->state == SESSION_OPEN)
			node_graft_duplicate(n, s, b->alliance);
		return;
	}
	if (b->first_error == STORE_E_CONFLICT) {
		/* Our own feed, signed by us, differs from ours: we published on
		 * a store restored from a backup.  Nothing is acked or echoed;
		 * storage refuses to publish until `agora recover`. */
		NLOG(n, NODE_LOG_ERROR, "sync",
		     "%s holds another record of this node's own feed at seq %llu: a record was "
		     "published here on a store older than the alliance's copy; run `agora "
		     "recover`", s->addr, (unsigned long long)b->first_seq);
	} else if (b->first_error == PROTO_E_UPGRADE) {
		/* Not the peer's fault: a record this version cannot take stops
		 * the feed here until agora is upgraded (PROTOCOL.md 7). */
		upgrade_note(n, b);
	} else if (membership_error(b->first_error)) {
		/* Keep the session; once our governance records change, the view
		 * re-runs the exchange so the peer sends them again. */
		NLOG(n, NODE_LOG_INFO, "sync", "not accepting records of %s… from %s (seq from %llu): %s",
		     hex, s->addr, (unsigned long long)b->first_seq, store_strerror(b->first_error));
		s->member_retry = true;
	} else if (b->first_error) {
		NLOG(n, NODE_LOG_WARN, "sync", "peer %s sent a bad record of feed %s… (seq from %llu): %s",
		     s->addr, hex, (unsigned long long)b->first_seq, reject_name(b->first_error));
		session_refuse(s, SYNC_BYE_PROTOCOL_ERROR, "sent a bad record", 0);
	} else if (b->gap == PROTO_E_SEQ && s->state == SESSION_OPEN) {
		/* a gap: records past our head; the sender rewinds (once per feed
		 * and session, sync.c) */
		if (sync_send_ack(&s->sync, b->alliance, b->author, b->head))
			session_close(s, "cannot send ack", true);
	} else if (b->gap == PROTO_E_PREV && !memcmp(b->author, n->key->pk, 32)) {
		/* Our own feed, signed by us, on another history than our store's
		 * (restored from a backup, then published on).  Never echo ours:
		 * the head check at the session's start finds the conflicting seq
		 * (storage then refuses to publish until `agora recover`). */
		NLOG(n, NODE_LOG_ERROR, "sync",
		     "%s holds this node's own feed on another history than this store (from seq "
		     "%llu): a record was published here on a store restored from a backup; run "
		     "`agora recover`", s->addr, (unsigned long long)b->first_seq);
	} else if (b->gap == PROTO_E_PREV && s->state == SESSION_OPEN) {
		/* The record at our head + 1 names another record before it:
		 * the author signed two histories.  Send ours back so the sender
		 * holds the fork evidence too; a second time is a Bye. */
		NLOG(n, NODE_LOG_WARN, "sync",
		     "records of %s… from %s do not chain on our seq %llu: its author signed "
		     "two histories", hex, s->addr, (unsigned long long)b->head);
		session_diverged(s, b->alliance, b->author, b->head);
	}
}

static void ingest_done(struct job *job)
{
	struct ingest_job *ij = (struct ingest_job *)job;
	struct node *n = job->node;
	bool stored = job->rc == 0;

	if (job->rc == -ENOSPC && !n->stopping)
		disk_full(n);
	else if (job->rc && job->rc != UV_ECANCELED)
		NLOG(n, NODE_LOG_ERROR, "store", "cannot store received records: %s",
		     store_strerror(job->rc));
	if (stored)
		n->disk_backoff_ms = 0;
	for (struct ingest_batch *b = ij->batches, *next; b; b = next) {
		struct session *s = session_find(n, b->session_id);
		next = b->next;
		node_recv_release(n, s, b->bytes);
		if (s && stored) {
			batch_result(n, s, b);
			session_kick(s);   /* an Ack, a pushed record */
		}
		batch_free(b);
	}
	ij->batches = NULL;
	if (!n->stopping)
		ingest_resume_reading(n);
}

static void ingest_free(struct job *job)
{
	struct ingest_job *ij = (struct ingest_job *)job;
	for (struct ingest_batch *b = ij->batches, *next; b; b = next) {
		next = b->next;
		batch_free(b);
	}
	free(ij);
}

static const struct job_ops ingest_ops = {
	.name = "ingest", .work = ingest_work, .done = ingest_done, .free = ingest_free,
	.refresh = true,
};

/* ------------------------------------------------------------ enqueue */

static uint64_t wall(struct node *n)
{
	return node_wall_ms(n);
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
	if (!b->buf || !b->items) {
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
	if (store_batch_new(&b->sb, b->items, b->n, wall(n), NULL)) {
		batch_free(b);
		return -ENOMEM;
	}
	store_batch_run(b->sb, alliance, author, first_seq);
	if (n->verifier)
		(void)store_verifier_add(n->verifier, b->sb);   /* else: verified when stored */

	struct ingest_job *ij = (struct ingest_job *)n->ingest_open;
	if (ij && n->ingest_open_bytes + total <= NODE_INGEST_BATCH_BYTES) {
		ij->last->next = b;   /* queued, not started: the batch joins it */
		ij->last = b;
		n->ingest_open_bytes += total;
	} else {
		if (!(ij = calloc(1, sizeof(*ij)))) {
			batch_free(b);
			return -ENOMEM;
		}
		ij->base.ops = &ingest_ops;
		ij->batches = ij->last = b;
		n->ingest_open = &ij->base;   /* until it starts (jobs.c) */
		n->ingest_open_bytes = total;
		job_submit(n, &ij->base);
	}
	node_recv_hold(n, s, total);
	return 0;
}
