/*
 * verify.c - store_ingest and the pipelined ingest of agorad and bundle
 * import: envelopes are opened and verified on other threads (batches,
 * verifier threads) while the write stores what is verified, each record
 * through store_ingest_one (ingest.c).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "storage/ingest_int.h"


struct opened {
	Agora__Record *rec;
	int rc;
	uint8_t id[PROTO_ID_BYTES];
};

/*
 * Verification runs in parallel with the write transaction: the batch is
 * cut into chunks; a second thread verifies chunks in order from the
 * front, and the main thread, before storing item i, makes sure i's chunk
 * is verified, verifying the next unclaimed chunk itself while it waits.
 * So both cores verify while there is verifying to do, and the main core
 * stores as soon as records are ready.
 */
#define VERIFY_CHUNK 32

struct verify_pool {
	const struct store_item *items;
	struct opened *op;
	struct proto_error *errs;
	size_t n, nchunks;
	uint64_t now_ms;
	atomic_size_t next;         /* next unclaimed chunk */
	atomic_uint active;         /* threads inside verify_one */
	atomic_uchar *done;         /* per chunk: verified */
	bool run;                   /* items are one feed run (store_batch_run) */
	uint8_t run_alliance[PROTO_ID_BYTES], run_author[PROTO_KEY_BYTES];
	uint64_t run_first;
};

/* Is opened item i the record the batch's feed run names? */
static bool run_match(const struct verify_pool *p, size_t i)
{
	const Agora__Record *r = p->op[i].rec;
	if (r->seq != p->run_first + i || memcmp(r->author.data, p->run_author, PROTO_KEY_BYTES))
		return false;
	if (r->has_alliance)
		return r->alliance.len == PROTO_ID_BYTES &&
		       !memcmp(r->alliance.data, p->run_alliance, PROTO_ID_BYTES);
	return !memcmp(p->op[i].id, p->run_alliance, PROTO_ID_BYTES);   /* a charter */
}

static void verify_chunk(struct verify_pool *p, size_t ch)
{
	size_t to = (ch + 1) * VERIFY_CHUNK < p->n ? (ch + 1) * VERIFY_CHUNK : p->n;
	for (size_t i = ch * VERIFY_CHUNK; i < to; i++) {
		struct proto_error e;
		p->op[i].rc = proto_envelope_open(&p->op[i].rec, p->items[i].env, p->items[i].len,
		                                  p->now_ms, &e);
		if (p->op[i].rc == 0) {
			proto_record_id(p->op[i].id, p->items[i].env, p->items[i].len);
			if (p->run && !run_match(p, i))
				p->op[i].rc = STORE_E_RUN;
		} else if (p->errs) {
			p->errs[i] = e;
		}
	}
	atomic_store_explicit(&p->done[ch], 1, memory_order_release);
}

/* Claim and verify one chunk; false when none is left. */
static bool verify_one(struct verify_pool *p)
{
	atomic_fetch_add(&p->active, 1);
	size_t ch = atomic_fetch_add(&p->next, 1);
	if (ch < p->nchunks)
		verify_chunk(p, ch);
	atomic_fetch_sub(&p->active, 1);
	return ch < p->nchunks;
}

/* Nobody may claim another chunk; wait for the chunks being verified. */
static void verify_cancel(struct verify_pool *p)
{
	atomic_store(&p->next, p->nchunks);
	while (atomic_load(&p->active))
		sched_yield();
}

/* Wait until item i is verified, helping meanwhile. */
static void verify_wait(struct verify_pool *p, size_t i)
{
	size_t ch = i / VERIFY_CHUNK;
	while (!atomic_load_explicit(&p->done[ch], memory_order_acquire))
		if (!verify_one(p))
			sched_yield();  /* the other thread is on it */
}

struct store_batch {
	struct verify_pool vp;
	atomic_uint refs;
};

int store_batch_new(struct store_batch **out, const struct store_item *items, size_t n,
                    uint64_t now_ms, struct proto_error *errs)
{
	struct store_batch *b;
	*out = NULL;
	if (!items && n)
		return PROTO_E_ARG;
	if (!(b = calloc(1, sizeof *b)))
		return -ENOMEM;
	b->vp.items = items;
	b->vp.errs = errs;
	b->vp.n = n;
	b->vp.now_ms = now_ms;
	b->vp.nchunks = (n + VERIFY_CHUNK - 1) / VERIFY_CHUNK;
	b->vp.op = calloc(n ? n : 1, sizeof *b->vp.op);
	b->vp.done = calloc(b->vp.nchunks ? b->vp.nchunks : 1, sizeof *b->vp.done);
	if (!b->vp.op || !b->vp.done) {
		free(b->vp.op);
		free((void *)b->vp.done);
		free(b);
		return -ENOMEM;
	}
	atomic_init(&b->vp.next, 0);
	atomic_init(&b->vp.active, 0);
	for (size_t i = 0; i < b->vp.nchunks; i++)
		atomic_init(&b->vp.done[i], 0);
	atomic_init(&b->refs, 1);
	*out = b;
	return 0;
}

void store_batch_run(struct store_batch *b, const uint8_t alliance[32],
                     const uint8_t author[32], uint64_t first_seq)
{
	b->vp.run = true;
	memcpy(b->vp.run_alliance, alliance, PROTO_ID_BYTES);
	memcpy(b->vp.run_author, author, PROTO_KEY_BYTES);
	b->vp.run_first = first_seq;
}

void store_batch_verify(struct store_batch *b)
{
	while (verify_one(&b->vp))
		;
}

void store_batch_free(struct store_batch *b)
{
	if (!b)
		return;
	/* The caller may free the items once we return: no thread may still
	 * be reading them.  What is left unverified stays so. */
	verify_cancel(&b->vp);
	if (atomic_fetch_sub(&b->refs, 1) != 1)
		return;
	for (size_t i = 0; i < b->vp.n; i++)
		if (b->vp.op[i].rec)
			agora__record__free_unpacked(b->vp.op[i].rec, NULL);
	free(b->vp.op);
	free((void *)b->vp.done);
	free(b);
}

struct ingest_ctx {
	struct store_wctx w;
	struct store_batch *const *bs;
	size_t nb, total;
	unsigned flags;
	int *status;
	struct store_ingest_stats st;
	int first_err;
};

static int ingest_cb(MDB_txn *txn, void *arg)
{
	struct ingest_ctx *c = arg;
	size_t g = 0;
	store_wctx_begin(&c->w, txn);
	memset(&c->st, 0, sizeof c->st);
	c->first_err = 0;
	for (size_t j = 0; j < c->nb; j++) {
		struct verify_pool *vp = &c->bs[j]->vp;
		bool run_broken = false;
		c->w.now_ms = vp->now_ms;
		for (size_t i = 0; i < vp->n; i++, g++) {
			store_trim_step(c->w.s, 4);   /* id, head, feed, record pages */
			verify_wait(vp, i);
			int rc = vp->op[i].rc;
			if (rc == STORE_E_RUN || run_broken) {   /* this item and every later one */
				rc = STORE_E_RUN;
				run_broken = true;
			} else if (rc == 0) {
				rc = store_ingest_one(&c->w, vp->op[i].rec, vp->items[i].env,
				                      vp->items[i].len, vp->op[i].id);
				if (store_ingest_fatal(rc))
					return rc;
			}
			c->status[g] = rc;
			switch (rc) {
			case STORE_NEW: c->st.added++; break;
			case STORE_KNOWN: c->st.known++; break;
			case STORE_FORKED: c->st.forks++; break;
			default:
				c->st.rejected++;
				if (!c->first_err)
					c->first_err = rc;
				break;
			}
		}
	}
	if ((c->flags & STORE_INGEST_ATOMIC) && c->first_err)
		return c->first_err;
	return store_wctx_finish(&c->w);
}

int store_ingest_batches(struct store *s, struct store_batch *const *bs, size_t nb,
                         unsigned flags, int *status, struct store_ingest_stats *stats)
{
	if (!s || (!bs && nb))
		return PROTO_E_ARG;
	if (s->flags & STORE_OPEN_READONLY)
		return STORE_E_READONLY;
	struct ingest_ctx c = { .w = { .s = s }, .bs = bs, .nb = nb, .flags = flags };
	int rc;
	for (size_t j = 0; j < nb; j++)
		c.total += bs[j]->vp.n;
	if (!(c.status = calloc(c.total ? c.total : 1, sizeof *c.status))) {
		rc = -ENOMEM;
		goto out;
	}
	rc = (flags & STORE_INGEST_RECEIVED) ? store_write_received(s, ingest_cb, &c)
	                                     : store_write(s, ingest_cb, &c);
	if (rc && (flags & STORE_INGEST_ATOMIC) && rc == c.first_err) {
		/* rolled back: report the failing items and roll back the rest */
		for (size_t i = 0; i < c.total; i++)
			if (c.status[i] >= 0)
				c.status[i] = STORE_E_ROLLBACK;
		c.st.added = c.st.known = c.st.forks = 0;
	} else if (rc) {
		goto out;
	}
	if (status)
		memcpy(status, c.status, c.total * sizeof *status);
	if (stats)
		*stats = c.st;
out:
	free(c.status);
	store_wctx_dispose(&c.w);
	return rc;
}

static void *verify_thread(void *arg)
{
	store_batch_verify(arg);
	return NULL;
}

int store_ingest(struct store *s, const struct store_item *items, size_t n, unsigned flags,
                 uint64_t now_ms, int *status, struct proto_error *errs,
                 struct store_ingest_stats *stats)
{
	struct store_batch *b;
	pthread_t th;
	bool threaded = false;
	int rc;
	if (!s || (!items && n))
		return PROTO_E_ARG;
	if (s->flags & STORE_OPEN_READONLY)
		return STORE_E_READONLY;
	if ((rc = store_batch_new(&b, items, n, now_ms, errs)))
		return rc;
	/* Signature checks dominate: a second thread for large batches. */
	if (n >= 2 * VERIFY_CHUNK)
		threaded = pthread_create(&th, NULL, verify_thread, b) == 0;
	rc = store_ingest_batches(s, &b, 1, flags, status, stats);
	if (threaded) {
		verify_cancel(&b->vp);    /* after an early failure: stop verifying */
		pthread_join(th, NULL);
	}
	store_batch_free(b);
	return rc;
}

/* ------------------------------------------------------------- verifier */

#define VERIFIER_MAX 16

struct store_verifier {
	pthread_t th[VERIFIER_MAX];
	size_t nth;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct vq {
		struct store_batch *b;
		struct vq *next;
	} *head, *tail;
	bool stop;
};

/* Each thread takes the oldest batch nobody has taken: with two threads,
 * batches k and k + 1 are verified at once. */
static void *verifier_main(void *arg)
{
	struct store_verifier *v = arg;
#ifdef __linux__
	prctl(PR_SET_NAME, "agora-verify");   /* so top -H and perf tell it apart */
	/* Verification is bulk work: on a machine with as many verifiers as
	 * cores, a thread that answers (agorad's loop) must get a core when
	 * it wakes, not wait out a verifier's time slice.  Linux gives each
	 * thread its own nice value.  15 rather than 5: in bench_sync's
	 * 1,000,000-record sync the loop's p99 answer fell from 10.2 to 8.1 ms
	 * and its worst from 19.6 to 15.1 ms, and the rate did not drop (the
	 * verifiers still have every core nobody else wants). */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 15);
#endif
	pthread_mutex_lock(&v->mu);
	for (;;) {
		while (!v->head && !v->stop)
			pthread_cond_wait(&v->cv, &v->mu);
		struct vq *q = v->head;
		if (!q)
			break;   /* stopping, queue empty */
		v->head = q->next;
		if (!v->head)
			v->tail = NULL;
		bool stopping = v->stop;   /* read under the lock */
		pthread_mutex_unlock(&v->mu);
		if (!stopping)
			store_batch_verify(q->b);
		store_batch_free(q->b);
		free(q);
		pthread_mutex_lock(&v->mu);
	}
	pthread_mutex_unlock(&v->mu);
	return NULL;
}

static void verifier_join(struct store_verifier *v)
{
	pthread_mutex_lock(&v->mu);
	v->stop = true;
	pthread_cond_broadcast(&v->cv);
	pthread_mutex_unlock(&v->mu);
	for (size_t i = 0; i < v->nth; i++)
		pthread_join(v->th[i], NULL);
	pthread_cond_destroy(&v->cv);
	pthread_mutex_destroy(&v->mu);
	free(v);
}

int store_verifier_start(struct store_verifier **out, unsigned threads)
{
	struct store_verifier *v = calloc(1, sizeof *v);
	*out = NULL;
	if (!v)
		return -ENOMEM;
	if (threads < 1)
		threads = 1;
	if (threads > VERIFIER_MAX)
		threads = VERIFIER_MAX;
	if (pthread_mutex_init(&v->mu, NULL)) {
		free(v);
		return -EAGAIN;
	}
	if (pthread_cond_init(&v->cv, NULL)) {
		pthread_mutex_destroy(&v->mu);
		free(v);
		return -EAGAIN;
	}
	for (; v->nth < threads; v->nth++)
		if (pthread_create(&v->th[v->nth], NULL, verifier_main, v))
			break;
	if (!v->nth) {
		verifier_join(v);
		return -EAGAIN;
	}
	*out = v;
	return 0;
}

int store_verifier_add(struct store_verifier *v, struct store_batch *b)
{
	struct vq *q = malloc(sizeof *q);
	if (!q)
		return -ENOMEM;
	atomic_fetch_add(&b->refs, 1);
	q->b = b;
	q->next = NULL;
	pthread_mutex_lock(&v->mu);
	if (v->tail)
		v->tail->next = q;
	else
		v->head = q;
	v->tail = q;
	pthread_cond_signal(&v->cv);
	pthread_mutex_unlock(&v->mu);
	return 0;
}

void store_verifier_stop(struct store_verifier *v)
{
	if (v)
		verifier_join(v);
}

