/*
 * report_collect.c - feed a report from the store: one indexed query per
 * record kind, newest versions only (superseded and retracted records never
 * reach report_add), each envelope decoded once into a reusable arena.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report.h"

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

struct collect {
	struct report *r;
	struct store_txn *t;
	struct arena arena;
	ProtobufCAllocator alloc;
	int err;
};

static int feed(struct collect *c, const struct store_record *sr)
{
	struct proto_envelope_view v;
	Agora__Record *rec;
	int rc;

	if (sr->superseded || sr->retracted)
		return 0;       /* the store hides these already; belt and braces */
	rc = proto_envelope_split(&v, sr->env, sr->env_len);
	if (rc < 0)
		return rc;
	rec = agora__record__unpack(&c->alloc, v.record_len, v.record);
	if (!rec) {
		rc = c->arena.oom ? -ENOMEM : PROTO_E_DECODE;
		arena_reset(&c->arena);
		return rc;
	}
	rc = report_add(c->r, sr->id, rec);
	arena_reset(&c->arena);
	return rc;
}

static int hit_cb(const struct store_hit *hit, void *ctx)
{
	struct collect *c = ctx;
	int rc = feed(c, &hit->rec);
	if (rc < 0) {
		c->err = rc;
		return 1;
	}
	return 0;
}

static int resolve_cb(const uint8_t id[PROTO_ID_BYTES], uint8_t newest[PROTO_ID_BYTES],
                      void *ctx)
{
	struct collect *c = ctx;
	struct store_record sr;
	int rc = store_get(c->t, id, &sr);

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
	struct proto_envelope_view v;
	Agora__Record *rec;
	int rc = store_get(c->t, c->r->alliance, &sr);

	if (rc == STORE_E_NOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	if ((rc = proto_envelope_split(&v, sr.env, sr.env_len)) < 0)
		return rc;
	rec = agora__record__unpack(NULL, v.record_len, v.record);
	if (!rec)
		return PROTO_E_DECODE;
	if (rec->body_case == AGORA__RECORD__BODY_CHARTER && rec->charter->name)
		rc = report_set_alliance_name(c->r, rec->charter->name);
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
	int rc;

	if (!opt || !opt->alliance)
		return PROTO_E_ARG;
	memset(&c, 0, sizeof(c));
	c.t = t;
	c.arena.cap = 64 * 1024;
	c.arena.buf = malloc(c.arena.cap);
	if (!c.arena.buf)
		return -ENOMEM;
	c.alloc.alloc = arena_alloc;
	c.alloc.free = arena_free;
	c.alloc.allocator_data = &c.arena;
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
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
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
		if (c.err < 0) {
			rc = c.err;
			goto out;
		}
		if (rc < 0)
			goto out;
	}
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
	return rc;
}
