/*
 * pending.c - the records a node signed before it held their alliance
 * (`agora join`: its Profile and Endpoint), stored once it can
 * (store_pending_ingest).  Their encoding is meta.c's ("pending/").
 *
 * They are this node's own records, so the own-feed rules of
 * store_set_own_key would apply to them: one at a seq the feed already
 * holds would be an own-feed conflict, one past the head would raise the
 * floor.  Neither is true of a record that was never sent anywhere, so the
 * feed is looked at first and only records that extend it are ingested.
 */
#include <stdlib.h>
#include <string.h>

#include "storage/meta_int.h"

struct pending {
	uint64_t seq;
	uint8_t *env;
	size_t len;
	uint8_t id[PROTO_ID_BYTES];
	uint8_t author[PROTO_KEY_BYTES];
	uint8_t prev[PROTO_ID_BYTES];
	bool has_prev;
};

struct plist {
	struct pending *v;
	size_t n, cap;
};

static int collect_cb(const uint8_t alliance[PROTO_ID_BYTES], uint64_t seq, const uint8_t *env,
                      size_t len, void *ctx)
{
	struct plist *l = ctx;
	Agora__Record *r = NULL;
	int rc;
	(void)alliance;
	if ((rc = store_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v)))
		return rc;
	struct pending *p = &l->v[l->n];
	memset(p, 0, sizeof *p);
	if (proto_envelope_decode(&r, env, len, NULL))
		return STORE_E_CORRUPT;
	if (r->seq != seq || r->author.len != PROTO_KEY_BYTES ||
	    (r->has_prev && r->prev.len != PROTO_ID_BYTES)) {
		agora__record__free_unpacked(r, NULL);
		return STORE_E_CORRUPT;
	}
	memcpy(p->author, r->author.data, PROTO_KEY_BYTES);
	if ((p->has_prev = r->has_prev))
		memcpy(p->prev, r->prev.data, PROTO_ID_BYTES);
	agora__record__free_unpacked(r, NULL);
	if (!(p->env = malloc(len ? len : 1)))
		return -ENOMEM;
	memcpy(p->env, env, len);
	p->len = len;
	p->seq = seq;
	proto_record_id(p->id, env, len);
	l->n++;
	return 0;
}

struct forget {
	struct store *s;
	const uint8_t *alliance;
	const struct pending *v;
	const bool *drop;
	size_t n;
};

static int forget_cb(MDB_txn *txn, void *arg)
{
	struct forget *f = arg;
	int rc = 0;
	for (size_t i = 0; i < f->n && !rc; i++)
		if (f->drop[i])
			rc = store_meta_pending_del(txn, f->s, f->alliance, f->v[i].seq);
	return rc;
}

/* Refusals that a later call may not meet: the charter or the admission
 * is still on its way. */
static bool wait_for_it(int status)
{
	return status == STORE_E_ALLIANCE || status == STORE_E_NOT_MEMBER;
}

int store_pending_ingest(struct store *s, const uint8_t alliance[PROTO_ID_BYTES],
                         uint64_t now_ms, size_t *stored)
{
	struct plist l = { 0 };
	struct store_txn *t = NULL;
	struct store_item *items = NULL;
	int *status = NULL;
	bool *drop = NULL;
	size_t first = 0, n_new = 0;
	int rc;
	if (!s || !alliance)
		return PROTO_E_ARG;

	/* What waits, and where the own feed stands. */
	if ((rc = store_txn_begin(s, &t)))
		return rc;
	rc = store_pending_list(t, alliance, collect_cb, &l);
	uint64_t head = 0;
	uint8_t head_id[PROTO_ID_BYTES] = { 0 };
	if (!rc && l.n)
		rc = store_feed_head(t, alliance, l.v[0].author, &head, head_id);
	/* Records at seqs the feed holds are stored already, or lost to a
	 * history that went on without them: forgotten, never ingested. */
	if (!rc && l.n && !(drop = calloc(l.n, sizeof *drop)))
		rc = -ENOMEM;
	while (!rc && first < l.n && l.v[first].seq <= head)
		drop[first++] = true;
	store_txn_end(t);
	t = NULL;
	if (rc || !l.n)
		goto out;
	/* The rest must extend the feed as it is, or never can. */
	if (first < l.n && (l.v[first].seq != head + 1 ||
	                    (head == 0) != !l.v[first].has_prev ||
	                    (head && memcmp(l.v[first].prev, head_id, PROTO_ID_BYTES)))) {
		for (size_t i = first; i < l.n; i++)
			drop[i] = true;
		first = l.n;
	}
	size_t m = l.n - first;
	if (m) {
		if (!(items = calloc(m, sizeof *items)) || !(status = calloc(m, sizeof *status))) {
			rc = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < m; i++) {
			items[i].env = l.v[first + i].env;
			items[i].len = l.v[first + i].len;
		}
		if ((rc = store_ingest(s, items, m, 0, now_ms, status, NULL, NULL)))
			goto out;
		/* Stored or known: forgotten.  Waiting for the charter or the
		 * admission: kept, with all after it.  Refused for good: it and
		 * all after it, which chain on it, are dropped. */
		bool keep_rest = false, drop_rest = false;
		for (size_t i = 0; i < m; i++) {
			bool *d = &drop[first + i];
			if (keep_rest)
				continue;
			if (drop_rest) {
				*d = true;
				continue;
			}
			if (status[i] == STORE_NEW || status[i] == STORE_KNOWN) {
				n_new += status[i] == STORE_NEW;
				*d = true;
			} else if (wait_for_it(status[i])) {
				keep_rest = true;
			} else {
				*d = true;
				drop_rest = true;
			}
		}
	}
	struct forget f = { s, alliance, l.v, drop, l.n };
	for (size_t i = 0; i < l.n; i++)
		if (drop[i]) {
			rc = store_write(s, forget_cb, &f);
			break;
		}
out:
	if (!rc && stored)
		*stored = n_new;
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i].env);
	free(l.v);
	free(items);
	free(status);
	free(drop);
	return rc;
}
