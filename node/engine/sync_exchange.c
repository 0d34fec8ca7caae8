/*
 * sync_exchange.c - the version-vector exchange (PROTOCOL.md 4.3).
 *
 * The exchange is a ping-pong per alliance: the opener sends a Digest of
 * its whole vector; each Ranges that holds a request (a range to compare,
 * or a vector with reply set) is answered by exactly one Ranges, so both
 * sides know the exchange is over when a message without requests is sent
 * or received.  Ranges shrink by one nibble of the author key per turn, so
 * an exchange ends after at most 65 turns.
 *
 * Each alliance has two exchange slots, the one we opened and the one the
 * peer opened, so crossed exchanges (both sides open one at once) never
 * mix.  A peer answers our requests in the order it reads them, so a
 * Ranges answers the oldest turn of ours still awaiting an answer (version
 * 1); in version 2 the Ranges also names its exchange, and the two must
 * agree.  Every element of an answer must lie in the turn it answers: a
 * sub-range exactly one nibble below one of our ranges (each nibble once),
 * a vector with reply set on one of our ranges, a vector without on one of
 * our reply vectors; so an answer is never larger than the turn allows,
 * and our next turn is never larger than our own vector.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/engine/sync_int.h"

/* ------------------------------------------------------ exchange slots */

void sync_exchange_clear(struct sync_exchange *x)
{
	free(x->pend);
	free(x->snap);
	x->pend = NULL;
	x->snap = NULL;
	x->n_pend = x->n_pend_ranges = 0;
	x->awaiting = false;
}

static void fifo_remove(struct sync_alliance *a, uint8_t slot)
{
	for (uint8_t i = 0; i < a->n_fifo; i++)
		if (a->fifo[i] == slot) {
			if (i + 1 < a->n_fifo)
				a->fifo[i] = a->fifo[i + 1];
			a->n_fifo--;
			i--;
		}
}

static void fifo_push(struct sync_alliance *a, uint8_t slot)
{
	fifo_remove(a, slot);
	a->fifo[a->n_fifo++] = slot;
}

/* Close an exchange slot (its answer, if one is awaited, is no longer). */
static void slot_reset(struct sync_alliance *a, uint8_t slot)
{
	sync_exchange_clear(&a->ex[slot]);
	a->ex[slot].active = false;
	fifo_remove(a, slot);
}

/* ------------------------------------------------------------ pending */

struct pend_item {
	const uint8_t *prefix;
	uint32_t depth;
	bool vector;
};

static int pend_cmp(const void *x, const void *y)
{
	const struct sync_range *a = x, *b = y;
	return memcmp(a->lo, b->lo, 32);
}

/*
 * The turn going out in slot x holds items[0..n), disjoint: keep them
 * sorted with a copy of our entries in each (PROTOCOL.md 4.3 step 7), so
 * the answer is resolved against what the peer was told.  The copies
 * never exceed our vector: the items are disjoint.
 */
static int pend_set(struct sync_exchange *x, const struct sync_lvec *v,
                    const struct pend_item *items, size_t n)
{
	struct sync_range *p = NULL;
	struct sync_entry *snap = NULL;
	size_t total = 0, ranges = 0;

	sync_exchange_clear(x);
	if (!n)
		return 0;
	if (!(p = calloc(n, sizeof(*p))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint8_t hi[32];
		size_t lo = 0, end = 0;
		sync_range_bounds(p[i].lo, hi, items[i].prefix, items[i].depth);
		p[i].depth = items[i].depth;
		p[i].vector = items[i].vector;
		ranges += !items[i].vector;
		if (v)
			sync_slice(v->heads, v->n, sizeof(*v->heads), items[i].prefix, items[i].depth,
			           &lo, &end);
		p[i].first = lo;   /* an index into v for now */
		p[i].n = end - lo;
		total += end - lo;
	}
	if (v && total > v->n) {   /* items overlap: a bug of ours, not the peer's */
		free(p);
		return SYNC_E_PROTOCOL;
	}
	if (!(snap = calloc(total ? total : 1, sizeof(*snap)))) {
		free(p);
		return -ENOMEM;
	}
	total = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < p[i].n; k++) {
			memcpy(snap[total + k].author, v->heads[p[i].first + k].author, 32);
			snap[total + k].seq = v->heads[p[i].first + k].seq;
		}
		p[i].first = total;
		total += p[i].n;
	}
	if (n > 1)
		qsort(p, n, sizeof(*p), pend_cmp);
	x->pend = p;
	x->snap = snap;
	x->n_pend = n;
	x->n_pend_ranges = ranges;
	return 0;
}

/* The pending item whose range is exactly (lo, depth), or -1. */
static long pend_exact(const struct sync_exchange *x, const uint8_t lo[32], uint32_t depth)
{
	size_t a = 0, b = x->n_pend;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		int c = memcmp(x->pend[m].lo, lo, 32);
		if (c == 0)
			return x->pend[m].depth == depth ? (long)m : -1;
		if (c < 0)
			a = m + 1;
		else
			b = m;
	}
	return -1;
}

/* ------------------------------------------------------------ answers */

/* The Ranges we are building as our answer. */
struct answer {
	Agora__Wire__Ranges rs;
	Agora__Wire__Range **ranges;
	Agora__Wire__Vector **vectors;
	size_t cap_r, cap_v;
	bool requests;
};

static void answer_init(struct answer *ans)
{
	memset(ans, 0, sizeof(*ans));
	agora__wire__ranges__init(&ans->rs);
}

static void answer_free(struct answer *ans)
{
	for (size_t i = 0; i < ans->rs.n_ranges; i++) {
		free(ans->ranges[i]->prefix.data);
		free(ans->ranges[i]->digest.data);
		free(ans->ranges[i]);
	}
	for (size_t i = 0; i < ans->rs.n_vectors; i++) {
		Agora__Wire__Vector *v = ans->vectors[i];
		for (size_t k = 0; k < v->n_entries; k++)
			free(v->entries[k]);
		free(v->entries);
		free(v->prefix.data);
		free(v);
	}
	free(ans->ranges);
	free(ans->vectors);
}

/* Fill r with our digest and count of (prefix, depth); prefix_buf (33
 * bytes, zeroed) receives the prefix, digest_buf (32) the digest. */
static void range_of(Agora__Wire__Range *r, uint8_t *prefix_buf, uint8_t *digest_buf,
                     const uint8_t *prefix, unsigned depth, struct sync_lvec *v)
{
	size_t count;
	if (depth)
		memcpy(prefix_buf, prefix, (depth + 1) / 2);
	sync_lvec_range(v, prefix_buf, depth, digest_buf, &count);
	r->has_prefix = true;
	r->prefix.data = prefix_buf;
	r->prefix.len = (depth + 1) / 2;
	r->has_depth = true;
	r->depth = depth;
	r->has_digest = true;
	r->digest.data = digest_buf;
	r->digest.len = 32;
	r->has_count = true;
	r->count = (uint32_t)count;
}

static int answer_range(struct answer *ans, const uint8_t *prefix, unsigned depth,
                        struct sync_lvec *v)
{
	if (ans->rs.n_ranges == ans->cap_r) {
		size_t cap = ans->cap_r ? ans->cap_r * 2 : 16;
		void *p = realloc(ans->ranges, cap * sizeof(*ans->ranges));
		if (!p)
			return -ENOMEM;
		ans->ranges = p;
		ans->cap_r = cap;
	}
	Agora__Wire__Range *r = malloc(sizeof(*r));
	uint8_t *pfx = calloc(1, 33), *dig = malloc(32);
	if (!r || !pfx || !dig) {
		free(r);
		free(pfx);
		free(dig);
		return -ENOMEM;
	}
	agora__wire__range__init(r);
	range_of(r, pfx, dig, prefix, depth, v);
	ans->ranges[ans->rs.n_ranges++] = r;
	ans->requests = true;
	return 0;
}

/* A vector of entries h[0..n) (seqs from seqs[] if given). */
static int answer_vector(struct answer *ans, const uint8_t *prefix, unsigned depth, bool reply,
                         const struct sync_entry *h, size_t n, const uint64_t *seqs)
{
	if (ans->rs.n_vectors == ans->cap_v) {
		size_t cap = ans->cap_v ? ans->cap_v * 2 : 16;
		void *p = realloc(ans->vectors, cap * sizeof(*ans->vectors));
		if (!p)
			return -ENOMEM;
		ans->vectors = p;
		ans->cap_v = cap;
	}
	Agora__Wire__Vector *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	agora__wire__vector__init(v);
	v->prefix.data = calloc(1, 33);
	v->entries = calloc(n ? n : 1, sizeof(*v->entries));
	if (!v->prefix.data || !v->entries) {
		free(v->prefix.data);
		free(v->entries);
		free(v);
		return -ENOMEM;
	}
	ans->vectors[ans->rs.n_vectors++] = v;
	if (depth)
		memcpy(v->prefix.data, prefix, (depth + 1) / 2);
	v->has_prefix = true;
	v->prefix.len = (depth + 1) / 2;
	v->has_depth = true;
	v->depth = depth;
	v->has_reply = reply;
	v->reply = reply;
	for (size_t i = 0; i < n; i++) {
		/* The entry owns a copy of its author: freed with the entry. */
		struct entry_box { Agora__Wire__Entry e; uint8_t key[32]; } *box = malloc(sizeof(*box));
		if (!box)
			return -ENOMEM;
		Agora__Wire__Entry *e = &box->e;
		agora__wire__entry__init(e);
		memcpy(box->key, h[i].author, 32);
		e->has_author = true;
		e->author.data = box->key;
		e->author.len = 32;
		e->has_seq = true;
		e->seq = seqs ? seqs[i] : h[i].seq;
		v->entries[v->n_entries++] = e;
	}
	if (reply)
		ans->requests = true;
	return 0;
}

/* Our entries in (prefix, depth) as a malloc()ed list (*n of them). */
static int our_entries(struct sync_lvec *v, const uint8_t *prefix, unsigned depth,
                       struct sync_entry **out, size_t *n)
{
	size_t lo = 0, hi = 0;
	if (v)
		sync_slice(v->heads, v->n, sizeof(*v->heads), prefix, depth, &lo, &hi);
	struct sync_entry *list = calloc(hi - lo ? hi - lo : 1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (size_t i = lo; i < hi; i++) {
		memcpy(list[i - lo].author, v->heads[i].author, 32);
		list[i - lo].seq = v->heads[i].seq;
	}
	*out = list;
	*n = hi - lo;
	return 0;
}

static int prefix_cmp(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 32);   /* answer prefixes are 33 zero-padded bytes */
}

static int range_ptr_cmp(const void *x, const void *y)
{
	const Agora__Wire__Range *const *a = x, *const *b = y;
	return prefix_cmp((*a)->prefix.data, (*b)->prefix.data);
}

static int vector_ptr_cmp(const void *x, const void *y)
{
	const Agora__Wire__Vector *const *a = x, *const *b = y;
	return prefix_cmp((*a)->prefix.data, (*b)->prefix.data);
}

/* -------------------------------------------------------------- turns */

/*
 * Our answer (when the message we answer held a request) goes out in slot
 * `slot`: its ranges and reply vectors become that slot's pending turn.
 * The exchange is over when the message held no request, or our answer
 * holds none; then the alliance is synced and its feeds are streamed.
 */
static int finish_turn(struct sync *s, struct sync_alliance *a, uint8_t slot,
                       struct answer *ans, bool incoming_requests)
{
	struct sync_exchange *x = &a->ex[slot];
	int rc = 0;

	if (incoming_requests) {
		Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
		size_t n = 0;
		struct pend_item *items = NULL;

		if (ans->rs.n_ranges > 1)
			qsort(ans->ranges, ans->rs.n_ranges, sizeof(*ans->ranges), range_ptr_cmp);
		if (ans->rs.n_vectors > 1)
			qsort(ans->vectors, ans->rs.n_vectors, sizeof(*ans->vectors), vector_ptr_cmp);
		if (ans->requests) {
			items = calloc(ans->rs.n_ranges + ans->rs.n_vectors + 1, sizeof(*items));
			if (!items)
				return -ENOMEM;
			for (size_t i = 0; i < ans->rs.n_ranges; i++)
				items[n++] = (struct pend_item){ ans->ranges[i]->prefix.data,
				                                 ans->ranges[i]->depth, false };
			for (size_t i = 0; i < ans->rs.n_vectors; i++)
				if (ans->vectors[i]->reply)
					items[n++] = (struct pend_item){ ans->vectors[i]->prefix.data,
					                                 ans->vectors[i]->depth, true };
		}
		rc = pend_set(x, sync_lvec_of(s, a->id), items, n);
		free(items);
		if (rc)
			return rc;
		ans->rs.has_alliance = true;
		ans->rs.alliance.data = a->id;
		ans->rs.alliance.len = 32;
		ans->rs.ranges = ans->ranges;
		ans->rs.vectors = ans->vectors;
		if (s->version >= 2) {
			ans->rs.has_exchange = true;
			ans->rs.exchange = x->id;
		}
		m.msg_case = AGORA__WIRE__MESSAGE__MSG_RANGES;
		m.ranges = &ans->rs;
		if ((rc = sync_send_msg(s, &m)))
			return rc;
	}
	if (incoming_requests && ans->requests) {
		x->active = true;
		x->awaiting = true;
		x->turn_tick = s->c.msgs_out;
		fifo_push(a, slot);
		return 0;
	}
	slot_reset(a, slot);
	a->synced = true;
	if ((rc = sync_peer_rebase(s, a)))
		return rc;
	return sync_out_alliance(s, a);
}

/* Answer a request about an alliance outside the session: the same bytes
 * whether the node holds it or not, and no request, so the peer's exchange
 * ends (a version-1 peer reads an empty answer). */
static int send_unshared(struct sync *s, const uint8_t *alliance, bool has_id, uint32_t id)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Ranges r = AGORA__WIRE__RANGES__INIT;
	r.has_alliance = true;
	r.alliance.data = (uint8_t *)alliance;
	r.alliance.len = 32;
	if (s->version >= 2) {
		r.has_unshared = r.unshared = true;
		r.has_exchange = has_id;
		r.exchange = id;
	}
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_RANGES;
	m.ranges = &r;
	return sync_send_msg(s, &m);
}

int sync_send_digest(struct sync *s, struct sync_alliance *a)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Digest d = AGORA__WIRE__DIGEST__INIT;
	Agora__Wire__Range r = AGORA__WIRE__RANGE__INIT;
	struct sync_exchange *x = &a->ex[0];
	uint8_t dig[32], pfx[33] = { 0 };
	struct sync_lvec *v = sync_lvec_of(s, a->id);
	int rc;

	slot_reset(a, 0);
	range_of(&r, pfx, dig, pfx, 0, v);
	d.has_alliance = true;
	d.alliance.data = a->id;
	d.alliance.len = 32;
	d.root = &r;
	x->id = s->next_exchange;
	s->next_exchange += 2;
	if (s->version >= 2) {
		d.has_exchange = true;
		d.exchange = x->id;
	}
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_DIGEST;
	m.digest = &d;
	struct pend_item root = { .prefix = pfx, .depth = 0 };
	if ((rc = pend_set(x, v, &root, 1)) || (rc = sync_send_msg(s, &m)))
		return rc;
	x->active = true;
	x->awaiting = true;
	x->turn_tick = s->c.msgs_out;
	fifo_push(a, 0);
	return 0;
}

/* --------------------------------------------------------------- receive */

static int perr(struct sync *s, int code, const char *why)
{
	snprintf(s->why, sizeof(s->why), "%s", why);
	return code;
}

static bool range_shape_ok(const Agora__Wire__Range *r)
{
	return sync_range_valid(&r->prefix, r->has_depth, r->depth) && r->has_digest &&
	       r->digest.len == 32 && r->has_count;
}

static int entries_valid(struct sync *s, const Agora__Wire__Vector *vec)
{
	uint8_t lo[32], hi[32];
	if (!sync_range_valid(&vec->prefix, vec->has_depth, vec->depth))
		return perr(s, SYNC_E_PROTOCOL, "Vector with a malformed range");
	sync_range_bounds(lo, hi, vec->prefix.data, vec->depth);
	for (size_t i = 0; i < vec->n_entries; i++) {
		const Agora__Wire__Entry *e = vec->entries[i];
		if (!e->has_author || e->author.len != 32 || !e->has_seq)
			return perr(s, SYNC_E_PROTOCOL, "Entry without author or seq");
		if (memcmp(e->author.data, lo, 32) < 0 || memcmp(e->author.data, hi, 32) > 0)
			return perr(s, SYNC_E_PROTOCOL, "Entry outside its Vector's range");
		if (i && memcmp(vec->entries[i - 1]->author.data, e->author.data, 32) >= 0)
			return perr(s, SYNC_E_PROTOCOL, "Vector entries not strictly increasing");
	}
	return 0;
}

/* Compare one of the peer's ranges with ours and answer it. */
static int on_range(struct sync *s, struct sync_alliance *a, const Agora__Wire__Range *r,
                    struct answer *ans, uint64_t seen_tick)
{
	struct sync_lvec *v = sync_lvec_of(s, a->id);
	uint8_t dig[32];
	size_t n;
	unsigned depth = r->depth;
	int rc;

	sync_lvec_range(v, r->prefix.data, depth, dig, &n);
	if (r->count == 0 || (r->count == n && sodium_memcmp(dig, r->digest.data, 32) == 0)) {
		/* Equal: the peer holds exactly our entries here; or it holds
		 * nothing here (we will stream it). */
		struct sync_entry *list = NULL;
		size_t k = 0;
		if (r->count && (rc = our_entries(v, r->prefix.data, depth, &list, &k)))
			return rc;
		rc = sync_peer_range(s, a, r->prefix.data, depth, list, k, seen_tick);
		free(list);
		return rc;
	}
	if (n <= SYNC_LEAF_FEEDS || depth == SYNC_DEPTH_MAX) {
		struct sync_entry *list;
		size_t k;
		if ((rc = our_entries(v, r->prefix.data, depth, &list, &k)))
			return rc;
		rc = answer_vector(ans, r->prefix.data, depth, true, list, k, NULL);
		free(list);
		return rc;
	}
	for (int nib = 0; nib < 16; nib++) {
		uint8_t sub[33] = { 0 };
		if (depth)
			memcpy(sub, r->prefix.data, (depth + 1) / 2);
		if (depth % 2)
			sub[depth / 2] = (uint8_t)((sub[depth / 2] & 0xf0) | nib);
		else
			sub[depth / 2] = (uint8_t)(nib << 4);
		if ((rc = answer_range(ans, sub, depth + 1, v)))
			return rc;
	}
	return 0;
}

/* The peer's whole holdings in a range (reply set): adopt them, and answer
 * with our seqs where it is ahead of us. */
static int on_reply_vector(struct sync *s, struct sync_alliance *a,
                           const Agora__Wire__Vector *vec, struct answer *ans,
                           uint64_t seen_tick)
{
	const struct sync_lvec *v = sync_lvec_of(s, a->id);
	struct sync_entry list[SYNC_VECTOR_ENTRIES_MAX], mine[SYNC_VECTOR_ENTRIES_MAX];
	uint64_t seqs[SYNC_VECTOR_ENTRIES_MAX];
	size_t m = 0;
	int rc;

	for (size_t i = 0; i < vec->n_entries; i++) {
		const Agora__Wire__Entry *e = vec->entries[i];
		uint64_t ours = sync_lvec_seq(v, e->author.data);
		memcpy(list[i].author, e->author.data, 32);
		list[i].seq = e->seq;
		if (e->seq > ours) {
			memcpy(mine[m].author, e->author.data, 32);
			seqs[m++] = ours;
		}
	}
	if ((rc = sync_peer_range(s, a, vec->prefix.data, vec->depth, list, vec->n_entries,
	                          seen_tick)))
		return rc;
	return answer_vector(ans, vec->prefix.data, vec->depth, false, mine, m, seqs);
}

/*
 * The peer's answer to a vector of ours (reply set): it lists its heads
 * where we were ahead; elsewhere in the range it holds at least the head
 * we listed then.
 */
static int on_vector_answer(struct sync *s, struct sync_alliance *a,
                            const struct sync_exchange *x, const struct sync_range *p,
                            const Agora__Wire__Vector *vec, uint64_t seen_tick)
{
	size_t j = 0;
	int rc;

	for (size_t i = 0; i < vec->n_entries; i++) {
		bool found;
		sync_find(x->snap + p->first, p->n, sizeof(*x->snap), vec->entries[i]->author.data,
		          &found);
		if (!found)
			return perr(s, SYNC_E_PROTOCOL, "answer lists a feed our vector did not");
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct sync_entry *ours = &x->snap[p->first + i];
		while (j < vec->n_entries && memcmp(vec->entries[j]->author.data, ours->author, 32) < 0)
			j++;
		if (j < vec->n_entries && !memcmp(vec->entries[j]->author.data, ours->author, 32))
			rc = sync_peer_learn(s, a, ours->author, vec->entries[j]->seq, SYNC_LEARN_EXACT,
			                     seen_tick);
		else
			rc = sync_peer_learn(s, a, ours->author, ours->seq, SYNC_LEARN_RAISE, seen_tick);
		if (rc)
			return rc;
	}
	return 0;
}

static bool exchange_id_ok(const struct sync *s, bool has, uint32_t id)
{
	/* The dialer's exchanges are odd, the acceptor's even. */
	return has && id != 0 && (id % 2 == 1) == !s->initiator;
}

int sync_on_digest(struct sync *s, const Agora__Wire__Digest *d)
{
	struct sync_alliance *a;
	struct answer ans;
	int rc;

	if (!d->has_alliance || d->alliance.len != 32 || !d->root || !range_shape_ok(d->root) ||
	    d->root->depth != 0)
		return perr(s, SYNC_E_PROTOCOL, "Digest without alliance or a root range of depth 0");
	if (s->version >= 2 && !exchange_id_ok(s, d->has_exchange, d->exchange))
		return perr(s, SYNC_E_PROTOCOL, "Digest without a valid exchange id (version 2)");
	a = sync_alliance_find(s, d->alliance.data);
	if (!a || a->unshared)
		return send_unshared(s, d->alliance.data, d->has_exchange, d->exchange);
	/* A new exchange of the peer's replaces its previous one. */
	slot_reset(a, 1);
	a->ex[1].id = d->exchange;
	answer_init(&ans);
	rc = on_range(s, a, d->root, &ans, s->acked_tick);
	if (!rc)
		rc = finish_turn(s, a, 1, &ans, true);
	answer_free(&ans);
	return rc;
}

int sync_ranges_precheck(struct sync *s, const struct sync_shape *sh)
{
	struct sync_alliance *a;
	if (!sh->alliance || sh->alliance_len != 32)
		return perr(s, SYNC_E_PROTOCOL, "Ranges without alliance");
	a = sync_alliance_find(s, sh->alliance);
	if (!a || a->unshared) {
		if (sh->ranges || sh->reply_vectors) {
			int rc = send_unshared(s, sh->alliance, sh->has_exchange, sh->exchange);
			return rc ? rc : 1;
		}
		return 1;   /* no request: nothing to answer */
	}
	if (!a->n_fifo)
		return perr(s, SYNC_E_PROTOCOL, "Ranges answers no turn of ours");
	const struct sync_exchange *x = &a->ex[a->fifo[0]];
	if (s->version >= 2 && (!sh->has_exchange || sh->exchange != x->id))
		return perr(s, SYNC_E_PROTOCOL, "Ranges names another exchange than the one awaited");
	if (sh->ranges > 16 * x->n_pend_ranges)
		return perr(s, SYNC_E_LIMIT, "Ranges holds more than 16 ranges per range of our turn");
	if (sh->vectors > x->n_pend)
		return perr(s, SYNC_E_LIMIT, "Ranges holds more vectors than our turn had items");
	return 0;
}

/* Claims of an answer on the items of our turn. */
struct claim {
	uint16_t children;   /* sub-ranges given, by nibble */
	bool vector;         /* answered by a vector */
};

/* Check that every element of r lies in the turn x it answers (see the top
 * of this file), and mark which items it answered. */
static int validate_answer(struct sync *s, const struct sync_exchange *x,
                           const Agora__Wire__Ranges *r, struct claim *cl)
{
	uint8_t lo[32], hi[32], prev[32];
	int rc;

	for (size_t i = 0; i < r->n_ranges; i++) {
		const Agora__Wire__Range *g = r->ranges[i];
		if (!range_shape_ok(g) || g->depth == 0)
			return perr(s, SYNC_E_PROTOCOL, "Range malformed, or of depth 0 in a Ranges");
		sync_range_bounds(lo, hi, g->prefix.data, g->depth - 1);
		long k = pend_exact(x, lo, g->depth - 1);
		if (k < 0 || x->pend[k].vector)
			return perr(s, SYNC_E_PROTOCOL, "Range is not a sub-range of a range of our turn");
		unsigned nib = (unsigned)sync_nibble(g->prefix.data, g->depth - 1);
		if ((cl[k].children & (1u << nib)) || cl[k].vector)
			return perr(s, SYNC_E_PROTOCOL, "Range given twice, or beside a vector");
		cl[k].children |= (uint16_t)(1u << nib);
		sync_range_bounds(lo, hi, g->prefix.data, g->depth);
		if (s->version >= 2 && i && memcmp(prev, lo, 32) >= 0)
			return perr(s, SYNC_E_PROTOCOL, "ranges not strictly increasing");
		memcpy(prev, lo, 32);
	}
	for (size_t i = 0; i < r->n_vectors; i++) {
		const Agora__Wire__Vector *vec = r->vectors[i];
		if ((rc = entries_valid(s, vec)))
			return rc;
		sync_range_bounds(lo, hi, vec->prefix.data, vec->depth);
		long k = pend_exact(x, lo, vec->depth);
		if (k < 0 || x->pend[k].vector != !vec->reply)
			return perr(s, SYNC_E_PROTOCOL, "Vector answers no range or vector of our turn");
		if (cl[k].children || cl[k].vector)
			return perr(s, SYNC_E_PROTOCOL, "Vector given twice, or beside sub-ranges");
		cl[k].vector = true;
		if (s->version >= 2 && i && memcmp(prev, lo, 32) >= 0)
			return perr(s, SYNC_E_PROTOCOL, "vectors not strictly increasing");
		memcpy(prev, lo, 32);
	}
	if (s->version >= 2)
		for (size_t k = 0; k < x->n_pend; k++)
			if (x->pend[k].vector && !cl[k].vector)
				return perr(s, SYNC_E_PROTOCOL, "a vector of our turn was left unanswered");
	return 0;
}

int sync_on_ranges(struct sync *s, const Agora__Wire__Ranges *r)
{
	struct sync_alliance *a = sync_alliance_find(s, r->alliance.data);
	struct claim *cl = NULL;
	struct answer ans;
	bool requests = r->n_ranges > 0;
	int rc;

	/* sync_ranges_precheck: a is in the session and awaits this answer. */
	uint8_t slot = a->fifo[0];
	struct sync_exchange *x = &a->ex[slot];
	uint64_t seen = x->turn_tick;

	if (seen > s->acked_tick)
		s->acked_tick = seen;
	if (r->has_unshared && r->unshared) {
		if (r->n_ranges || r->n_vectors)
			return perr(s, SYNC_E_PROTOCOL, "unshared Ranges with ranges or vectors");
		/* The peer does not carry this alliance with us: it leaves the
		 * session; nothing more of it is sent. */
		slot_reset(a, 0);
		slot_reset(a, 1);
		a->unshared = true;
		a->synced = true;
		sync_out_drop_alliance(s, a);
		sync_gossip_drop(s, a);
		return 0;
	}
	if (!(cl = calloc(x->n_pend ? x->n_pend : 1, sizeof(*cl))))
		return -ENOMEM;
	if ((rc = validate_answer(s, x, r, cl)))
		goto out;
	x->awaiting = false;
	fifo_remove(a, slot);
	/* Silent answers (step 6): a range of our turn that nothing of the
	 * answer falls in was equal: the peer holds what we held there.  A
	 * range where we held nothing tells nothing: the peer answers it
	 * silently whatever it holds there (it streams it to us). */
	for (size_t k = 0; !rc && k < x->n_pend; k++) {
		const struct sync_range *p = &x->pend[k];
		if (!p->vector && !cl[k].children && !cl[k].vector && p->n)
			rc = sync_peer_range(s, a, p->lo, p->depth, x->snap + p->first, p->n, seen);
	}
	for (size_t i = 0; !rc && i < r->n_vectors; i++) {
		const Agora__Wire__Vector *vec = r->vectors[i];
		uint8_t lo[32], hi[32];
		if (vec->reply)
			continue;
		sync_range_bounds(lo, hi, vec->prefix.data, vec->depth);
		long k = pend_exact(x, lo, vec->depth);
		rc = on_vector_answer(s, a, x, &x->pend[k], vec, seen);
	}
	answer_init(&ans);
	for (size_t i = 0; !rc && i < r->n_ranges; i++)
		rc = on_range(s, a, r->ranges[i], &ans, seen);
	for (size_t i = 0; !rc && i < r->n_vectors; i++)
		if (r->vectors[i]->reply) {
			requests = true;
			rc = on_reply_vector(s, a, r->vectors[i], &ans, seen);
		}
	if (!rc)
		rc = finish_turn(s, a, slot, &ans, requests);
	answer_free(&ans);
out:
	free(cl);
	return rc;
}
