/*
 * blobs.c - attachments between peers (PROTOCOL.md 4.9, "Blobs"): which
 * blobs the stored records list, fetching the ones this node lacks from
 * its sessions, and serving the ones it holds.
 *
 * The catalogue.  A scan job reads, off the loop, the records stored since
 * the last scan (store_changes; everything on the first scan or when the
 * change log no longer reaches back) and lists each attachment of a
 * measure, result or lesson: its hash, size, the alliance whose record
 * lists it, and whether blobs/ holds it.  The loop keeps that list, sorted
 * by hash, and never reads the disk for it.
 *
 * Fetching.  One blob at a time, from one session at a time that speaks
 * version 4 and carries an alliance whose records list the blob: up to
 * BLOBS_WINDOW chunk wants and chunk writes in flight (so a fetch holds at
 * most BLOBS_WINDOW x 64 KiB), each chunk written by a job in the blob
 * lane (beside the store's: the loop never waits on a disk write, and
 * records never wait behind a file) to a temporary file that is hashed
 * as it grows (store_blob_in_*), and stored under its hash only when the
 * whole of it hashes right.  A BlobNone, or a session that closes, moves
 * the fetch on to another session from the bytes already received; bytes
 * that do not hash right are discarded and every peer that sent some is
 * not asked for that blob again (until agorad restarts).  When no session
 * can give it, the blob waits BLOBS_RETRY_MS, doubling to BLOBS_RETRY_MAX_MS.
 * Blobs over [attachments] max-file, or that would take an alliance that
 * lists them over [attachments] quota, are not fetched.
 *
 * Serving (blobs_serve.c).  A peer's want is answered from blobs/ by a
 * read job (blob lane, at most 64 KiB), only for a blob the catalogue
 * says is held and listed by a record of an alliance the session
 * carries; anything else gets BlobNone, the same answer whether the blob
 * is here or not.  Answers wait in the session's queue, in the order the
 * wants came, and go out only while the session has no records to stream
 * and less than BLOBS_SENDQ_LOW queued: records first.  This node starts
 * a fetch only once no session owes it records (sync_owed) and none wait
 * for ingest; a fetch under way pauses its wants only while records wait
 * for ingest, and its chunks are written beside their ingest, not before.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/blobs_int.h"

/* ---------------------------------------------------------- catalogue */

static int cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

struct blob_entry *blobs_entry_find(struct blobs *bs, const uint8_t hash[32])
{
	return bs->n ? bsearch(hash, bs->e, bs->n, sizeof(*bs->e), cmp_hash) : NULL;
}

/* Insert or update; NULL on -ENOMEM. */
static struct blob_entry *entry_put(struct blobs *bs, const uint8_t hash[32], uint64_t size,
                                    const uint8_t alliance[32])
{
	size_t lo = 0, hi = bs->n;
	struct blob_entry *e;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(bs->e[mid].hash, hash, 32);
		if (c == 0) {
			lo = mid;
			hi = mid + 1;
			break;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < bs->n && !memcmp(bs->e[lo].hash, hash, 32)) {
		e = &bs->e[lo];
	} else {
		if (bs->n == bs->cap) {
			size_t cap = bs->cap ? bs->cap * 2 : 64;
			struct blob_entry *ne = realloc(bs->e, cap * sizeof(*ne));
			if (!ne)
				return NULL;
			bs->e = ne;
			bs->cap = cap;
		}
		memmove(&bs->e[lo + 1], &bs->e[lo], (bs->n - lo) * sizeof(*bs->e));
		e = &bs->e[lo];
		memset(e, 0, sizeof(*e));
		memcpy(e->hash, hash, 32);
		/* Records that disagree about the size cannot both be right: the
		 * first one's is asked for, and the hash decides. */
		e->size = size;
		bs->n++;
	}
	for (size_t i = 0; i < e->n_al; i++)
		if (!memcmp(e->al[i], alliance, 32))
			return e;
	uint8_t (*al)[32] = realloc(e->al, (e->n_al + 1) * 32);
	if (!al)
		return NULL;
	e->al = al;
	memcpy(e->al[e->n_al++], alliance, 32);
	return e;
}

/* Bytes of blobs held that records of each alliance the node holds list,
 * by the alliance's index in n->local: used[0..n->local.n).  O(blobs). */
static void usage(const struct blobs *bs, uint64_t *used)
{
	const struct sync_local *l = &bs->node->local;
	memset(used, 0, l->n * sizeof(*used));
	for (size_t i = 0; i < bs->n; i++) {
		if (bs->e[i].have != BLOB_HELD)
			continue;
		for (size_t k = 0; k < bs->e[i].n_al; k++)
			for (size_t a = 0; a < l->n; a++)
				if (!memcmp(bs->e[i].al[k], l->v[a].alliance, 32))
					used[a] += bs->e[i].size;
	}
}

enum blob_limit { LIMIT_NONE = 0, LIMIT_MAX_FILE, LIMIT_QUOTA };

/* May this node fetch e under its limits (used: from usage())?  Which
 * limit stops it, else LIMIT_NONE; *limit gets that limit's value. */
static enum blob_limit over_limit(const struct blobs *bs, const struct blob_entry *e,
                                  const uint64_t *used, uint64_t *limit)
{
	const struct node_config *c = &bs->node->cfg;
	const struct sync_local *l = &bs->node->local;
	uint64_t max = c->attach_max_file ? c->attach_max_file : STORE_ATTACH_MAX_FILE_DEFAULT;
	uint64_t quota = c->attach_quota ? c->attach_quota : STORE_ATTACH_QUOTA_DEFAULT;
	*limit = max;
	if (e->size > max)
		return LIMIT_MAX_FILE;
	*limit = quota;
	for (size_t k = 0; k < e->n_al; k++)
		for (size_t a = 0; a < l->n; a++)
			if (!memcmp(e->al[k], l->v[a].alliance, 32) && used[a] + e->size > quota)
				return LIMIT_QUOTA;
	return LIMIT_NONE;
}

void node_blobs_counts(struct node *n, struct node_blob_counts *out)
{
	struct blobs *bs = n->blobs;
	uint64_t *used;
	memset(out, 0, sizeof(*out));
	if (!bs)
		return;
	out->fetched = bs->fetched;
	out->fetched_bytes = bs->fetched_bytes;
	if (!(used = calloc(n->local.n ? n->local.n : 1, sizeof(*used))))
		return;
	usage(bs, used);
	for (size_t i = 0; i < bs->n; i++) {
		const struct blob_entry *e = &bs->e[i];
		uint64_t limit;
		if (e->have != BLOB_MISSING)
			continue;
		if (over_limit(bs, e, used, &limit) != LIMIT_NONE) {
			out->over_limit++;
		} else {
			out->missing++;
			out->missing_bytes += e->size;
		}
	}
	free(used);
}

/* Say once per blob (and limit) why it is not fetched. */
static void note_limit(struct blobs *bs, struct blob_entry *e, enum blob_limit why,
                       uint64_t limit)
{
	char hex[17];
	if (e->noted == (int)why)
		return;
	e->noted = (int)why;
	proto_hex(hex, e->hash, 8);
	NLOG(bs->node, NODE_LOG_INFO, "blob", "not fetching attachment %s… (%llu bytes): over "
	     "[attachments] %s (%llu bytes)", hex, (unsigned long long)e->size,
	     why == LIMIT_MAX_FILE ? "max-file" : "quota, for an alliance that lists it",
	     (unsigned long long)limit);
}

/* ------------------------------------------------------------ the scan */

struct scan_item {
	uint8_t hash[32], alliance[32];
	uint64_t size;
	bool held;
};

struct scan_job {
	struct job base;               /* first */
	uint64_t since;                /* 0: everything */
	uint64_t upto;
	struct scan_item *items;
	size_t n, cap;
	int rc;
};

static int scan_record(struct scan_job *sj, const uint8_t alliance[32], const uint8_t *env,
                       size_t len)
{
	Agora__Record *rec = NULL;
	Agora__Attachment *const *list = NULL;
	int n;

	if (proto_envelope_decode(&rec, env, len, NULL) < 0)
		return 0;   /* stored by a verifier: not ours to judge here */
	n = proto_record_attachments(&list, rec);
	for (int i = 0; i < n; i++) {
		if (sj->n == sj->cap) {
			size_t cap = sj->cap ? sj->cap * 2 : 16;
			struct scan_item *ni = realloc(sj->items, cap * sizeof(*ni));
			if (!ni) {
				agora__record__free_unpacked(rec, NULL);
				return -ENOMEM;
			}
			sj->items = ni;
			sj->cap = cap;
		}
		struct scan_item *it = &sj->items[sj->n++];
		memcpy(it->hash, list[i]->hash.data, 32);
		memcpy(it->alliance, alliance, 32);
		it->size = list[i]->size;
		it->held = false;
	}
	agora__record__free_unpacked(rec, NULL);
	return 0;
}

static int scan_feed(struct scan_job *sj, struct store_txn *t, const uint8_t alliance[32],
                     const uint8_t author[32], uint64_t from, uint64_t to)
{
	for (uint64_t seq = from; seq <= to; seq++) {
		const uint8_t *env;
		size_t len;
		int rc;
		if (store_feed_env(t, alliance, author, seq, &env, &len))
			continue;
		if ((rc = scan_record(sj, alliance, env, len)))
			return rc;
	}
	return 0;
}

struct scan_ctx {
	struct scan_job *sj;
	struct store_txn *t;
	const uint8_t *alliance;
};

static int scan_head_cb(const uint8_t author[32], uint64_t seq, const uint8_t id[32], void *ctx)
{
	struct scan_ctx *c = ctx;
	(void)id;
	return scan_feed(c->sj, c->t, c->alliance, author, 1, seq);
}

static int scan_alliance_cb(const struct store_record *rec, void *ctx)
{
	struct scan_ctx *c = ctx;
	c->alliance = rec->id;
	return store_heads(c->t, rec->id, scan_head_cb, c);
}

static int scan_change_cb(const struct store_change *ch, void *ctx)
{
	struct scan_ctx *c = ctx;
	return scan_feed(c->sj, c->t, ch->alliance, ch->author, ch->from_seq + 1, ch->seq);
}

static void scan_work(struct job *job)
{
	struct scan_job *sj = (struct scan_job *)job;
	struct scan_ctx c = { sj, NULL, NULL };
	int rc;

	if ((rc = store_txn_begin(job->node->store, &c.t))) {
		sj->rc = rc;
		return;
	}
	rc = sj->since ? store_changes(c.t, sj->since, scan_change_cb, &c, &sj->upto) :
	     STORE_E_GONE;
	if (rc == STORE_E_GONE) {
		sj->n = 0;
		sj->since = 0;
		if ((rc = store_write_number(c.t, &sj->upto)) == 0)
			rc = store_alliances(c.t, scan_alliance_cb, &c);
	}
	store_txn_end(c.t);
	for (size_t i = 0; i < sj->n && !rc; i++)
		sj->items[i].held = store_blob_stat(NULL, job->node->home, sj->items[i].hash) == 0;
	sj->rc = rc;
}

static void blobs_pump(struct blobs *bs);

static void scan_done(struct job *job)
{
	struct scan_job *sj = (struct scan_job *)job;
	struct blobs *bs = job->node->blobs;

	if (!bs)
		return;
	bs->scan_busy = false;
	if (job->rc || sj->rc) {
		if (sj->rc && sj->rc != -ENOMEM)
			NLOG(job->node, NODE_LOG_WARN, "blob", "cannot list the attachments of the "
			     "stored records: %s", store_strerror(sj->rc));
		return;
	}
	for (size_t i = 0; i < sj->n; i++) {
		struct scan_item *it = &sj->items[i];
		struct blob_entry *e = entry_put(bs, it->hash, it->size, it->alliance);
		if (!e)
			return;   /* -ENOMEM: the next scan starts from the same point */
		if (it->held)
			e->have = BLOB_HELD;
		else if (e->have != BLOB_HELD)
			e->have = BLOB_MISSING;
	}
	bs->scanned = sj->upto;
	bs->scanned_once = true;
	blobs_pump(bs);
}

static void scan_free(struct job *job)
{
	struct scan_job *sj = (struct scan_job *)job;
	free(sj->items);
	free(sj);
}

static const struct job_ops scan_ops = {
	.name = "blob-scan", .work = scan_work, .done = scan_done, .free = scan_free,
};

static void scan_start(struct blobs *bs)
{
	struct scan_job *sj;
	if (bs->scan_busy || (bs->scanned_once && bs->scanned == bs->node->view_wseq))
		return;
	if (!(sj = calloc(1, sizeof(*sj))))
		return;
	sj->base.ops = &scan_ops;
	sj->since = bs->scanned_once ? bs->scanned : 0;
	bs->scan_busy = true;
	job_submit(bs->node, &sj->base);
}

/* ------------------------------------------------------ fetch: the jobs */

enum fetch_op { FETCH_OPEN, FETCH_WRITE, FETCH_FINISH, FETCH_ABANDON };

struct fetch_job {
	struct job base;               /* first */
	struct blob_fetch *f;
	enum fetch_op op;
	uint8_t *data;
	size_t len;
	int rc;
};

static void fetch_work(struct job *job)
{
	struct fetch_job *fj = (struct fetch_job *)job;
	struct blob_fetch *f = fj->f;

	switch (fj->op) {
	case FETCH_OPEN:
		store_blob_in_free(f->in);
		f->in = NULL;
		fj->rc = store_blob_in_new(&f->in, job->node->home, f->hash, f->size);
		break;
	case FETCH_WRITE:
		fj->rc = f->in ? store_blob_in_write(f->in, fj->data, fj->len) : -EBADF;
		break;
	case FETCH_FINISH:
		fj->rc = f->in ? store_blob_in_finish(NULL, f->in) : -EBADF;
		f->in = NULL;   /* freed in every case */
		break;
	case FETCH_ABANDON:
		store_blob_in_free(f->in);
		f->in = NULL;
		break;
	}
}

static void fetch_free_now(struct blob_fetch *f)
{
	store_blob_in_free(f->in);   /* only when no job can run: at shutdown */
	free(f);
}

static void fetch_job_done(struct job *job);

static void fetch_job_free(struct job *job)
{
	struct fetch_job *fj = (struct fetch_job *)job;
	free(fj->data);
	free(fj);
}

static const struct job_ops fetch_ops = {
	.name = "blob", .lane = JOB_LANE_BLOB, .work = fetch_work, .done = fetch_job_done,
	.free = fetch_job_free,
};

static int fetch_submit(struct blob_fetch *f, enum fetch_op op, const uint8_t *data, size_t len)
{
	struct fetch_job *fj = calloc(1, sizeof(*fj));
	if (!fj || (len && !(fj->data = malloc(len)))) {
		free(fj);
		return -ENOMEM;
	}
	if (len)
		memcpy(fj->data, data, len);
	fj->len = len;
	fj->f = f;
	fj->op = op;
	fj->base.ops = &fetch_ops;
	f->jobs++;
	job_submit(f->bs->node, &fj->base);
	return 0;
}

/* The fetch is over (stored, or given up): no more wants; the file goes
 * with the last job. */
static void fetch_end(struct blobs *bs, struct blob_fetch *f)
{
	if (bs->cur == f)
		bs->cur = NULL;
	f->done = true;
	/* The temporary file, if any, is removed by a job after the others:
	 * f->in belongs to the jobs. */
	if (fetch_submit(f, FETCH_ABANDON, NULL, 0) && !f->jobs)
		fetch_free_now(f);
}

/* No session gave e this round: wait, longer each time. */
static void entry_later(struct blobs *bs, struct blob_entry *e)
{
	unsigned step = e->retry_step < 20 ? e->retry_step : 20;
	uint64_t wait = (uint64_t)BLOBS_RETRY_MS << step;
	if (wait > BLOBS_RETRY_MAX_MS)
		wait = BLOBS_RETRY_MAX_MS;
	e->retry_ms = node_mono_ms(bs->node) + wait;
	e->retry_step++;
}

static bool key_in(const uint8_t (*list)[32], size_t n, const uint8_t key[32])
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(list[i], key, 32))
			return true;
	return false;
}

static void key_add(uint8_t (*list)[32], size_t *n, size_t max, const uint8_t key[32])
{
	if (key_in((const uint8_t (*)[32])list, *n, key))
		return;
	if (*n == max) {
		memmove(list[0], list[1], (max - 1) * 32);
		(*n)--;
	}
	memcpy(list[(*n)++], key, 32);
}

static void fetch_job_done(struct job *job)
{
	struct fetch_job *fj = (struct fetch_job *)job;
	struct blob_fetch *f = fj->f;
	struct blobs *bs = f->bs;
	struct node *n = job->node;
	struct blob_entry *e;
	char hex[17];

	f->jobs--;
	if (n->stopping) {
		/* The node stops (the job may not have run): the current fetch
		 * is freed by node_blobs_free, an ended one with its last job. */
		if (!f->jobs && f != bs->cur)
			fetch_free_now(f);
		return;
	}
	if (job->rc && !fj->rc)
		fj->rc = job->rc;   /* could not be queued: it did not run */
	if (fj->op == FETCH_WRITE)
		f->writes--;
	proto_hex(hex, f->hash, 8);
	e = blobs_entry_find(bs, f->hash);
	if (f->done) {
		if (!f->jobs)
			fetch_free_now(f);
		return;
	}
	if (fj->op == FETCH_FINISH && fj->rc == 0) {
		if (e) {
			e->have = BLOB_HELD;
			e->retry_step = 0;
		}
		bs->fetched++;
		bs->fetched_bytes += f->size;
		NLOG(n, NODE_LOG_INFO, "blob", "fetched attachment %s… (%llu bytes)", hex,
		     (unsigned long long)f->size);
		fetch_end(bs, f);
	} else if (fj->op == FETCH_FINISH && fj->rc == STORE_E_BLOB) {
		/* Whoever sent these bytes sent the wrong ones: discard them and
		 * ask someone else, never them again for this blob. */
		bs->refused_bad++;
		NLOG(n, NODE_LOG_WARN, "blob", "attachment %s… from %zu peer(s) does not match its "
		     "hash: discarded; fetching it from another peer", hex, f->n_used);
		for (size_t i = 0; e && i < f->n_used; i++)
			key_add(e->bad, &e->n_bad, BLOBS_BAD_MAX, f->used[i]);
		f->n_used = 0;
		f->received = f->next_want = 0;
		f->wants = 0;
		f->session_id = 0;
		if (fetch_submit(f, FETCH_OPEN, NULL, 0))
			f->failed = true;
	} else if (fj->rc) {
		NLOG(n, NODE_LOG_WARN, "blob", "cannot store attachment %s…: %s", hex,
		     store_strerror(fj->rc));
		f->failed = true;
	}
	if (f->failed && !f->done) {
		if (e)
			entry_later(bs, e);
		fetch_end(bs, f);
	}
	blobs_pump(bs);
}

/* ------------------------------------------------------ fetch: the loop */

/* Can s give e (and was not asked this round, nor sent bad bytes)? */
static bool session_fits(const struct session *s, const struct blob_entry *e,
                         const struct blob_fetch *f)
{
	if (s->state != SESSION_OPEN || sync_version(&s->sync) < 4 ||
	    key_in((const uint8_t (*)[32])e->bad, e->n_bad, s->peer_key) ||
	    (f && key_in((const uint8_t (*)[32])f->tried, f->n_tried, s->peer_key)))
		return false;
	for (size_t k = 0; k < e->n_al; k++)
		if (sync_carries(&s->sync, e->al[k]))
			return true;
	return false;
}

static struct session *pick_session(struct blobs *bs, const struct blob_entry *e,
                                    const struct blob_fetch *f)
{
	for (struct session *s = bs->node->sessions; s; s = s->next)
		if (session_fits(s, e, f))
			return s;
	return NULL;
}

/* Send wants while the window has room. */
static void fetch_wants(struct blobs *bs, struct blob_fetch *f, struct session *s)
{
	bool sent = false;
	(void)bs;
	while (f->wants + f->writes < BLOBS_WINDOW && f->next_want < f->size &&
	       sync_blob_wants_out(&s->sync) < SYNC_BLOB_WANTS_MAX) {
		uint64_t rest = f->size - f->next_want;
		uint32_t len = rest < SYNC_BLOB_CHUNK_MAX ? (uint32_t)rest : SYNC_BLOB_CHUNK_MAX;
		int rc = sync_blob_want(&s->sync, f->hash, f->next_want, len, f->size);
		if (rc) {
			session_close(s, sync_strerror(rc), true);
			return;
		}
		f->next_want += len;
		f->wants++;
		sent = true;
	}
	if (sent)
		session_flush(s);
}

/* Does an open session still owe us records (sync_owed)?  Then no fetch
 * starts, nor goes on from another session: records first.  Each session
 * costs a walk of its feeds, so this is asked once per blob and session
 * picked, not once per chunk. */
static bool records_owed(struct node *n, uint64_t now)
{
	for (struct session *s = n->sessions; s; s = s->next)
		if (s->state == SESSION_OPEN && sync_owed(&s->sync, now))
			return true;
	return false;
}

/* Fetch on: start the next blob, or ask for the current one's next
 * chunks.  Nothing while records await ingest (n->recv_pending), and no
 * fetch starts or picks a session while a session owes us records: the
 * first records of a sync (those that list the files) are often stored
 * while the bulk of them is still on its way, and wants sent then made
 * the peer send chunks between its records.  Called again when the
 * ingest queue empties (node_blobs_resume, after the view took what was
 * stored), after each fetch job, and on the node's tick (a feed that
 * turned stuck, an exchange that ended). */
static void blobs_pump(struct blobs *bs)
{
	struct node *n = bs->node;
	struct blob_fetch *f = bs->cur;
	uint64_t now = node_mono_ms(n);

	if (n->stopping || n->recv_pending)
		return;             /* records first (node_blobs_resume) */
	if (!f) {
		struct blob_entry *pick = NULL;
		uint64_t *used = calloc(n->local.n ? n->local.n : 1, sizeof(*used));
		if (!used)
			return;
		usage(bs, used);
		for (size_t i = 0; i < bs->n && !pick; i++) {
			struct blob_entry *e = &bs->e[i];
			enum blob_limit why;
			uint64_t limit;
			if (e->have != BLOB_MISSING || e->retry_ms > now)
				continue;
			if ((why = over_limit(bs, e, used, &limit)) != LIMIT_NONE)
				note_limit(bs, e, why, limit);
			else if (pick_session(bs, e, NULL))
				pick = e;
		}
		free(used);
		/* records_owed walks every session's feeds: only when there is
		 * a file to fetch (this runs at every tick and stored batch) */
		if (!pick || records_owed(n, now))
			return;
		if (!(f = calloc(1, sizeof(*f))))
			return;
		f->bs = bs;
		memcpy(f->hash, pick->hash, 32);
		f->size = pick->size;
		if (fetch_submit(f, FETCH_OPEN, NULL, 0)) {
			free(f);
			return;
		}
		bs->cur = f;
	}
	if (f->received == f->size)
		return;   /* all here: the job that hashes and stores it runs */
	struct blob_entry *e = blobs_entry_find(bs, f->hash);
	if (!e) {
		fetch_end(bs, f);
		return;
	}
	struct session *s = f->session_id ? session_find(n, f->session_id) : NULL;
	if (s && s->state != SESSION_OPEN)
		s = NULL;
	if (!s) {
		if (f->wants) {
			/* Its session went: ask another from what arrived. */
			f->wants = 0;
			f->next_want = f->received;
		}
		if (records_owed(n, now))
			return;
		if (!(s = pick_session(bs, e, f))) {
			entry_later(bs, e);
			fetch_end(bs, f);
			return;
		}
		f->session_id = s->id;
	}
	if (f->received < f->size)
		fetch_wants(bs, f, s);
}

/* sync_io.blob_chunk: an answer to one of our wants (data NULL: none). */
int node_blob_chunk(struct session *s, const uint8_t hash[32], uint64_t offset,
                    const uint8_t *data, size_t len)
{
	struct blobs *bs = s->node->blobs;
	struct blob_fetch *f = bs ? bs->cur : NULL;

	/* Answers to wants of a round we left (another session took over,
	 * or the fetch restarted) are dropped: the engine checked them
	 * against the wants, the fetch wants only the next bytes in order. */
	if (!f || f->session_id != s->id || memcmp(f->hash, hash, 32) || offset != f->received)
		return 0;
	if (f->wants)
		f->wants--;
	if (!data) {
		key_add(f->tried, &f->n_tried, BLOBS_TRIED_MAX, s->peer_key);
		f->session_id = 0;
		f->wants = 0;
		f->next_want = f->received;
		blobs_pump(bs);
		return 0;
	}
	if (fetch_submit(f, FETCH_WRITE, data, len))
		return -ENOMEM;
	f->writes++;
	f->received += len;
	key_add(f->used, &f->n_used, BLOBS_BAD_MAX, s->peer_key);
	if (f->received == f->size && fetch_submit(f, FETCH_FINISH, NULL, 0))
		return -ENOMEM;
	blobs_pump(bs);
	return 0;
}

/* ------------------------------------------------------------ the node */

int node_blobs_start(struct node *n)
{
	if (!(n->blobs = calloc(1, sizeof(*n->blobs))))
		return -ENOMEM;
	n->blobs->node = n;
	scan_start(n->blobs);
	return 0;
}

void node_blobs_tick(struct node *n)
{
	if (!n->blobs)
		return;
	scan_start(n->blobs);
	blobs_pump(n->blobs);
}

void node_blobs_resume(struct node *n)
{
	if (n->blobs)
		blobs_pump(n->blobs);
}

void node_blobs_free(struct node *n)
{
	struct blobs *bs = n->blobs;
	if (!bs)
		return;
	if (bs->cur)
		fetch_free_now(bs->cur);
	for (size_t i = 0; i < bs->n; i++)
		free(bs->e[i].al);
	free(bs->e);
	free(bs);
	n->blobs = NULL;
}
