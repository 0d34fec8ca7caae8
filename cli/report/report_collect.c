/*
 * report_collect.c - feed a report from the store: one indexed query per
 * record kind, newest versions only (superseded and retracted records never
 * reach report_add), each envelope decoded once into a reusable arena.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report/report.h"

/*
 * protobuf-c allocates every string and sub-message separately; for a
 * million records that is most of the time.  A bump arena, reset after
 * each record, makes decoding allocation-free in the steady state.
 */
struct arena {
	uint8_t *buf;
	size_t cap, used;
	void **big;                     /* allocations that did not fit, freed at reset */
	size_t n_big, cap_big;
	bool oom;
};

static void *arena_alloc(void *ctx, size_t size)
{
	struct arena *a = ctx;
	size_t need = (size + 15) & ~(size_t)15;

	if (a->used + need <= a->cap) {
		void *p = a->buf + a->used;
		a->used += need;
		return p;
	}
	if (a->n_big == a->cap_big) {
		size_t cap = a->cap_big ? a->cap_big * 2 : 8;
		void **b = realloc(a->big, cap * sizeof(*b));
		if (!b) {
			a->oom = true;
			return NULL;
		}
		a->big = b;
		a->cap_big = cap;
	}
	void *p = malloc(size ? size : 1);
	if (!p) {
		a->oom = true;
		return NULL;
	}
	a->big[a->n_big++] = p;
	return p;
}

static void arena_free(void *ctx, void *p)
{
	(void)ctx;
	(void)p;        /* everything goes at arena_reset */
}

static void arena_reset(struct arena *a)
{
	for (size_t i = 0; i < a->n_big; i++)
		free(a->big[i]);
	a->n_big = 0;
	a->used = 0;
}

/* One record handed from the scanning thread to the worker. */
struct item {
	const uint8_t *env;             /* borrowed from the snapshot: valid until txn end */
	size_t len;
	uint8_t id[PROTO_ID_BYTES];
};

#define CHUNK 512                   /* items per hand-over */
#define RING 16                     /* chunks in flight */

struct chunk {
	struct item v[CHUNK];
	size_t n;
};

struct collect {
	struct report *r;
	struct store_txn *t;
	struct arena arena;             /* the worker's (or, serially, the caller's) */
	ProtobufCAllocator alloc;
	int err;                        /* first error of the worker / feeding */
	bool deferring;                 /* worker running: the resolver says "later" */
	/* hand-over ring, guarded by mu */
	pthread_mutex_t mu;
	pthread_cond_t nonempty, nonfull;
	struct chunk *ring;
	size_t head, count;             /* chunks queued */
	bool closed;                    /* no more chunks will come */
	struct chunk *cur;              /* the scanning thread's chunk being filled */
	bool threaded;
	struct store *trim;             /* opt->trim */
	uint64_t hits;
	/* records the worker could not add without the store */
	struct item *pending;
	size_t n_pending, cap_pending;
};

static int feed(struct collect *c, const uint8_t *id, const uint8_t *env, size_t len)
{
	Agora__Record *rec;
	int rc = proto_envelope_decode(&rec, env, len, &c->alloc);
	if (rc < 0) {
		if (rc == PROTO_E_DECODE && c->arena.oom)
			rc = -ENOMEM;
		arena_reset(&c->arena);
		return rc;
	}
	rc = report_add(c->r, id, rec);
	arena_reset(&c->arena);
	return rc;
}

static int feed_or_defer(struct collect *c, const struct item *it)
{
	int rc = feed(c, it->id, it->env, it->len);
	if (rc != -EAGAIN)
		return rc;
	if (c->n_pending == c->cap_pending) {
		size_t cap = c->cap_pending ? c->cap_pending * 2 : 64;
		void *p = realloc(c->pending, cap * sizeof(*c->pending));
		if (!p)
			return -ENOMEM;
		c->pending = p;
		c->cap_pending = cap;
	}
	c->pending[c->n_pending++] = *it;
	return 0;
}

static void *worker(void *arg)
{
	struct collect *c = arg;

	for (;;) {
		pthread_mutex_lock(&c->mu);
		while (!c->count && !c->closed)
			pthread_cond_wait(&c->nonempty, &c->mu);
		if (!c->count) {
			pthread_mutex_unlock(&c->mu);
			return NULL;
		}
		struct chunk *ch = &c->ring[c->head];
		int err = c->err;
		pthread_mutex_unlock(&c->mu);

		for (size_t i = 0; i < ch->n && err == 0; i++)
			err = feed_or_defer(c, &ch->v[i]);

		pthread_mutex_lock(&c->mu);
		if (err && !c->err)
			c->err = err;
		c->head = (c->head + 1) % RING;
		c->count--;
		pthread_cond_signal(&c->nonfull);
		pthread_mutex_unlock(&c->mu);
	}
}

/* Hand the filled chunk to the worker and take the next free one. */
static int push_chunk(struct collect *c)
{
	int err;
	pthread_mutex_lock(&c->mu);
	c->count++;
	pthread_cond_signal(&c->nonempty);
	while (c->count == RING && !c->err)
		pthread_cond_wait(&c->nonfull, &c->mu);
	err = c->err;
	/* The next free slot: the one after the last queued chunk.  After a
	 * failure the ring may be full: take no slot, stop scanning. */
	c->cur = err ? NULL : &c->ring[(c->head + c->count) % RING];
	pthread_mutex_unlock(&c->mu);
	if (c->cur)
		c->cur->n = 0;
	return err;
}

static int hit_cb(const struct store_hit *hit, void *ctx)
{
	struct collect *c = ctx;
	const struct store_record *sr = &hit->rec;
	int rc;

	if (sr->superseded || sr->retracted)
		return 0;       /* the store hides these already; belt and braces */
	/* A report reads the whole store through LMDB's map: let the pages go
	 * now and then, or they all stay in this process's resident set. */
	if (c->trim && ++c->hits % 16384 == 0)
		store_trim(c->trim);
	if (!c->threaded) {
		rc = feed(c, sr->id, sr->env, sr->env_len);
		if (rc < 0) {
			c->err = rc;
			c->cur = NULL;  /* stops the remaining queries */
			return 1;
		}
		return 0;
	}
	if (!c->cur)
		return 1;
	struct item *it = &c->cur->v[c->cur->n++];
	it->env = sr->env;
	it->len = sr->env_len;
	memcpy(it->id, sr->id, PROTO_ID_BYTES);
	if (c->cur->n == CHUNK && push_chunk(c) != 0)
		return 1;       /* the worker failed: stop scanning */
	return 0;
}

static int resolve_cb(const uint8_t id[PROTO_ID_BYTES], uint8_t newest[PROTO_ID_BYTES],
                      void *ctx)
{
	struct collect *c = ctx;
	struct store_record sr;
	int rc;

	if (c->deferring)
		return -EAGAIN;     /* the snapshot belongs to the scanning thread */
	rc = store_get(c->t, id, &sr);
	if (rc < 0)
		return rc;
	if (sr.retracted)
		return STORE_E_NOTFOUND;
	/* The newest version itself may have been withdrawn. */
	if (memcmp(sr.newest, id, PROTO_ID_BYTES)) {
		struct store_record nr;
		if (store_get(c->t, sr.newest, &nr) < 0 || nr.retracted)
			return STORE_E_NOTFOUND;
	}
	memcpy(newest, sr.newest, PROTO_ID_BYTES);
	return 0;
}

static int fork_cb(const uint8_t alliance[PROTO_ID_BYTES], const uint8_t author[PROTO_KEY_BYTES],
                   uint64_t seq, const uint8_t *env_a, size_t len_a, const uint8_t *env_b,
                   size_t len_b, void *ctx)
{
	struct collect *c = ctx;
	(void)seq;
	(void)env_a;
	(void)len_a;
	(void)env_b;
	(void)len_b;
	if (memcmp(alliance, c->r->alliance, PROTO_ID_BYTES))
		return 0;
	c->err = report_add_fork(c->r, author);
	return c->err < 0 ? 1 : 0;
}

static int charter_name(struct collect *c)
{
	struct store_record sr;
	Agora__Record *rec;
	int rc = store_get(c->t, c->r->alliance, &sr);

	if (rc == STORE_E_NOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	if ((rc = proto_envelope_decode(&rec, sr.env, sr.env_len, NULL)) < 0)
		return rc;
	if (rec->body_case == AGORA__RECORD__BODY_CHARTER && rec->charter->name)
		rc = report_set_alliance_name(c->r, rec->charter->name);
	if (rec->body_case == AGORA__RECORD__BODY_CHARTER)
		for (size_t i = 0; rc == 0 && i < rec->charter->n_coordinators; i++)
			if (rec->charter->coordinators[i].len == PROTO_KEY_BYTES)
				rc = report_add_coordinator(c->r, rec->charter->coordinators[i].data);
	agora__record__free_unpacked(rec, NULL);
	return rc;
}

int report_collect(struct report **out, struct store_txn *t, const struct report_options *opt)
{
	/* report_add's order: who the members are, then what results and
	 * endorsements refer to, then those. */
	static const enum proto_kind order[] = {
		PROTO_KIND_ADMISSION, PROTO_KIND_PROFILE, PROTO_KIND_TARGET,
		PROTO_KIND_INVENTORY, PROTO_KIND_MEASURE, PROTO_KIND_RESULT,
		PROTO_KIND_LESSON, PROTO_KIND_ENDORSEMENT,
	};
	struct collect c;
	pthread_t th;
	int rc;

	if (!opt || !opt->alliance)
		return PROTO_E_ARG;
	memset(&c, 0, sizeof(c));
	c.t = t;
	c.arena.cap = 64 * 1024;
	c.arena.buf = malloc(c.arena.cap);
	c.ring = calloc(RING, sizeof(*c.ring));
	if (!c.arena.buf || !c.ring) {
		rc = -ENOMEM;
		goto out;
	}
	c.alloc.alloc = arena_alloc;
	c.alloc.free = arena_free;
	c.alloc.allocator_data = &c.arena;
	c.trim = opt->trim;
	rc = report_new(&c.r, opt, resolve_cb, &c);
	if (rc < 0)
		goto out;
	if ((rc = charter_name(&c)) < 0)
		goto out;
	rc = store_forks(t, fork_cb, &c);
	if (c.err < 0 || rc < 0) {
		rc = c.err < 0 ? c.err : rc;
		goto out;
	}

	/* Decoding and adding run beside the index scan (two cores halve the
	 * time of a large report).  Without a thread it all runs here. */
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.nonempty, NULL);
	pthread_cond_init(&c.nonfull, NULL);
	c.cur = &c.ring[0];
	c.deferring = true;
	c.threaded = pthread_create(&th, NULL, worker, &c) == 0;
	if (!c.threaded)
		c.deferring = false;

	rc = 0;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && rc >= 0 && c.cur; i++) {
		struct store_query q;
		memset(&q, 0, sizeof(q));
		q.alliance = opt->alliance;
		q.kind = order[i];
		q.sort = STORE_SORT_OLDEST;
		q.governance = order[i] == PROTO_KIND_ADMISSION;
		/* Endorsements and admissions come from coordinators, so they
		 * are not limited to the chosen municipalities. */
		if (order[i] != PROTO_KIND_ENDORSEMENT && order[i] != PROTO_KIND_ADMISSION &&
		    opt->n_authors && opt->n_authors <= STORE_QUERY_MAX_AUTHORS) {
			q.authors = opt->authors;
			q.n_authors = opt->n_authors;
		}
		if (opt->sector && (order[i] == PROTO_KIND_MEASURE || order[i] == PROTO_KIND_LESSON))
			q.sector = opt->sector;
		rc = store_query(t, &q, hit_cb, &c, NULL);
	}
	if (c.threaded) {
		pthread_mutex_lock(&c.mu);
		if (c.cur && c.cur->n)
			c.count++;  /* the last, partly filled chunk */
		c.closed = true;
		pthread_cond_signal(&c.nonempty);
		pthread_mutex_unlock(&c.mu);
		pthread_join(th, NULL);
	}
	c.deferring = false;
	pthread_cond_destroy(&c.nonfull);
	pthread_cond_destroy(&c.nonempty);
	pthread_mutex_destroy(&c.mu);
	if (c.err < 0) {
		rc = c.err;
		goto out;
	}
	if (rc < 0)
		goto out;
	/* What needed a lookup in the snapshot, in the order it came. */
	for (size_t i = 0; i < c.n_pending; i++)
		if ((rc = feed(&c, c.pending[i].id, c.pending[i].env, c.pending[i].len)) < 0)
			goto out;
	rc = report_finish(c.r);
	if (rc < 0)
		goto out;
	*out = c.r;
	c.r = NULL;
	rc = 0;
out:
	report_free(c.r);
	arena_reset(&c.arena);
	free(c.arena.buf);
	free(c.arena.big);
	free(c.ring);
	free(c.pending);
	return rc;
}
