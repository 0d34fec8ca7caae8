/*
 * sync_v1.c - the sync engine as it landed (commit 84cc0ed, protocol
 * version 1), kept unchanged but for this header and its include, so tests
 * can check that the current engine still syncs with a version-1 node.
 * Built only into tests (tests/node/CMakeLists.txt), its symbols renamed
 * by rename.h.
 *
 * Original header:
 * sync.c - the sync engine (see sync.h and proto/PROTOCOL.md section 4).
 *
 * The version-vector exchange is a ping-pong per alliance: the dialer sends
 * a Digest of its whole vector; each Ranges that holds a request (a range
 * to compare, or a vector with reply set) is answered by exactly one
 * Ranges, so both sides know the exchange is over when a message without
 * requests is sent or received.  Ranges shrink by one nibble of the author
 * key per turn, so the exchange ends after at most 65 turns.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sync_v1.h"
#include "wire.pb-c.h"

const char *sync_strerror(int code)
{
	switch (code) {
	case SYNC_E_PROTOCOL: return "protocol violation (malformed or unexpected message)";
	case SYNC_E_VERSION: return "peer speaks another protocol version";
	case SYNC_E_IDENTITY: return "Hello names another key than the handshake proved";
	case SYNC_E_LIMIT: return "peer exceeded a protocol limit";
	case SYNC_E_BYE: return "peer said goodbye";
	case -ENOMEM: return "out of memory";
	default: return code < 0 ? "sync error" : "success";
	}
}

bool sync_is_fatal(int code)
{
	return code < 0;
}

/* ------------------------------------------------------------ key ranges */

static int nibble(const uint8_t *key, unsigned i)
{
	return i % 2 ? key[i / 2] & 0x0f : key[i / 2] >> 4;
}

/* Range bounds: lo = prefix then 0s, hi = prefix then Fs. */
static void range_bounds(uint8_t lo[32], uint8_t hi[32], const uint8_t *prefix, unsigned depth)
{
	memset(lo, 0, 32);
	memset(hi, 0xff, 32);
	for (unsigned i = 0; i < depth; i++) {
		int v = nibble(prefix, i);
		if (i % 2) {
			lo[i / 2] = (uint8_t)((lo[i / 2] & 0xf0) | v);
			hi[i / 2] = (uint8_t)((hi[i / 2] & 0xf0) | v);
		} else {
			lo[i / 2] = (uint8_t)(v << 4);
			hi[i / 2] = (uint8_t)(v << 4 | 0x0f);
		}
	}
}

/* [*lo, *hi) of a sorted array of structs that start with a 32-byte key. */
static void slice(const void *base, size_t n, size_t stride, const uint8_t *prefix,
                  unsigned depth, size_t *lo_out, size_t *hi_out)
{
	uint8_t lo[32], hi[32];
	size_t a = 0, b = n;
	const uint8_t *p = base;

	range_bounds(lo, hi, prefix, depth);
	while (a < b) {   /* first key >= lo */
		size_t m = a + (b - a) / 2;
		if (memcmp(p + m * stride, lo, 32) < 0)
			a = m + 1;
		else
			b = m;
	}
	*lo_out = a;
	b = n;
	while (a < b) {   /* first key > hi */
		size_t m = a + (b - a) / 2;
		if (memcmp(p + m * stride, hi, 32) <= 0)
			a = m + 1;
		else
			b = m;
	}
	*hi_out = a;
}

static size_t find(const void *base, size_t n, size_t stride, const uint8_t *key, bool *found)
{
	size_t a = 0, b = n;
	const uint8_t *p = base;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		int c = memcmp(p + m * stride, key, 32);
		if (c == 0) {
			*found = true;
			return m;
		}
		if (c < 0)
			a = m + 1;
		else
			b = m;
	}
	*found = false;
	return a;
}

void sync_digest(uint8_t out[32], const struct sync_head *h, size_t n)
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	for (size_t i = 0; i < n; i++) {
		uint8_t be[8];
		for (int k = 0; k < 8; k++)
			be[k] = (uint8_t)(h[i].seq >> (56 - 8 * k));
		crypto_generichash_update(&st, h[i].author, 32);
		crypto_generichash_update(&st, be, 8);
		crypto_generichash_update(&st, h[i].id, 32);
	}
	crypto_generichash_final(&st, out, 32);
}

static bool range_valid(const ProtobufCBinaryData *prefix, bool has_depth, uint32_t depth)
{
	if (!has_depth || depth > SYNC_DEPTH_MAX || prefix->len != (depth + 1) / 2)
		return false;
	if (depth % 2 && (prefix->data[depth / 2] & 0x0f))
		return false;
	return true;
}

/* ------------------------------------------------------------- helpers */

static const struct sync_lvec *lvec(const struct sync *s, const uint8_t *id)
{
	for (size_t i = 0; i < s->local->n; i++)
		if (!memcmp(s->local->v[i].alliance, id, 32))
			return &s->local->v[i];
	return NULL;
}

static int alliance_add(struct sync *s, const uint8_t *id, struct sync_alliance **out)
{
	for (size_t i = 0; i < s->n_al; i++)
		if (!memcmp(s->al[i].id, id, 32)) {
			*out = &s->al[i];
			return 0;
		}
	if (s->n_al >= SYNC_ALLIANCES_MAX)
		return SYNC_E_LIMIT;
	struct sync_alliance *al = realloc(s->al, (s->n_al + 1) * sizeof(*al));
	if (!al)
		return -ENOMEM;
	s->al = al;
	memset(&al[s->n_al], 0, sizeof(*al));
	memcpy(al[s->n_al].id, id, 32);
	*out = &al[s->n_al++];
	return 0;
}

static bool allowed(const struct sync *s, const uint8_t *id)
{
	return !s->io.allowed || s->io.allowed(s->io.ctx, id);
}

static struct sync_alliance *alliance_find(const struct sync *s, const uint8_t *id)
{
	for (size_t i = 0; i < s->n_al; i++)
		if (!memcmp(s->al[i].id, id, 32))
			return &s->al[i];
	return NULL;
}

/* Replace the peer's feeds in range (prefix, depth) by list[0..n). */
static int peer_splice(struct sync_alliance *a, const uint8_t *prefix, unsigned depth,
                       const struct sync_pfeed *list, size_t n)
{
	size_t lo, hi;
	slice(a->peer, a->n, sizeof(*a->peer), prefix, depth, &lo, &hi);
	size_t need = a->n - (hi - lo) + n;
	if (need > a->cap) {
		size_t cap = a->cap ? a->cap : 16;
		while (cap < need)
			cap *= 2;
		struct sync_pfeed *p = realloc(a->peer, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		a->peer = p;
		a->cap = cap;
	}
	if (a->n > hi && lo + n != hi)
		memmove(&a->peer[lo + n], &a->peer[hi], (a->n - hi) * sizeof(*a->peer));
	if (n)
		memcpy(&a->peer[lo], list, n * sizeof(*list));
	a->n = need;
	return 0;
}

static int peer_set(struct sync_alliance *a, const uint8_t *author, uint64_t seq, bool lower)
{
	bool found;
	size_t i = find(a->peer, a->n, sizeof(*a->peer), author, &found);
	if (found) {
		if (seq > a->peer[i].seq || lower)
			a->peer[i].seq = seq;
		return 0;
	}
	struct sync_pfeed f = { .seq = seq };
	memcpy(f.author, author, 32);
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		struct sync_pfeed *p = realloc(a->peer, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		a->peer = p;
		a->cap = cap;
	}
	if (a->n > i)
		memmove(&a->peer[i + 1], &a->peer[i], (a->n - i) * sizeof(*a->peer));
	a->peer[i] = f;
	a->n++;
	return 0;
}

static uint64_t peer_get(const struct sync_alliance *a, const uint8_t *author)
{
	bool found;
	size_t i = find(a->peer, a->n, sizeof(*a->peer), author, &found);
	return found ? a->peer[i].seq : 0;
}

static uint64_t local_get(const struct sync_lvec *v, const uint8_t *author)
{
	bool found;
	if (!v)
		return 0;
	size_t i = find(v->heads, v->n, sizeof(*v->heads), author, &found);
	return found ? v->heads[i].seq : 0;
}

static int send_msg(struct sync *s, Agora__Wire__Message *m)
{
	size_t len = agora__wire__message__get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	int rc;
	if (!buf)
		return -ENOMEM;
	agora__wire__message__pack(m, buf);
	rc = s->io.send(s->io.ctx, buf, len);
	free(buf);
	if (rc == 0)
		s->msgs_out++;
	return rc;
}

/* ------------------------------------------------------------ lifecycle */

int sync_init(struct sync *s, bool initiator, const uint8_t self[SYNC_KEY_BYTES],
              const char *name, const uint8_t peer_key[SYNC_KEY_BYTES],
              const struct sync_local *local, const struct sync_io *io)
{
	if (!s || !self || !peer_key || !local || !io || !io->send || !io->read || !io->records)
		return SYNC_E_PROTOCOL;
	memset(s, 0, sizeof(*s));
	s->initiator = initiator;
	memcpy(s->self, self, 32);
	memcpy(s->peer_key, peer_key, 32);
	snprintf(s->name, sizeof(s->name), "%s", name ? name : "");
	s->local = local;
	s->io = *io;
	s->state = SYNC_STATE_HELLO;
	return 0;
}

void sync_dispose(struct sync *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_al; i++) {
		free(s->al[i].peer);
		free(s->al[i].pend);
		free(s->al[i].snap);
	}
	free(s->al);
	free(s->out);
	memset(s, 0, sizeof(*s));
}

int sync_start(struct sync *s)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Hello h = AGORA__WIRE__HELLO__INIT;
	ProtobufCBinaryData *ids = calloc(s->local->n ? s->local->n : 1, sizeof(*ids));
	int rc;

	if (!ids)
		return -ENOMEM;
	h.has_version = true;
	h.version = SYNC_VERSION;
	h.has_node_key = true;
	h.node_key.data = s->self;
	h.node_key.len = 32;
	h.name = s->name;
	size_t k = 0;
	for (size_t i = 0; i < s->local->n; i++) {
		if (!allowed(s, s->local->v[i].alliance))
			continue;   /* never name an alliance the peer is not in */
		ids[k].data = s->local->v[i].alliance;
		ids[k++].len = 32;
	}
	h.n_alliances = k;
	h.alliances = ids;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_HELLO;
	m.hello = &h;
	rc = send_msg(s, &m);
	free(ids);
	return rc;
}

/* ------------------------------------------------------ vector exchange */

static void range_of(Agora__Wire__Range *r, uint8_t *prefix_buf, const uint8_t *prefix,
                     unsigned depth, const struct sync_lvec *v)
{
	size_t lo = 0, hi = 0;
	if (depth)
		memcpy(prefix_buf, prefix, (depth + 1) / 2);
	if (v)
		slice(v->heads, v->n, sizeof(*v->heads), prefix, depth, &lo, &hi);
	r->has_prefix = true;
	r->prefix.data = prefix_buf;
	r->prefix.len = (depth + 1) / 2;
	r->has_depth = true;
	r->depth = depth;
	r->has_digest = true;
	r->digest.len = 32;
	sync_digest(r->digest.data, v ? v->heads + lo : NULL, hi - lo);
	r->has_count = true;
	r->count = (uint32_t)(hi - lo);
}

/*
 * The ranges of our last turn.  The peer answers a range it finds equal
 * with nothing at all, so when its answer arrives, every range of ours
 * that no range or vector of the answer falls in was equal (or empty on
 * our side): the peer holds there exactly what we held when we sent it.
 * A vector we sent with reply set is answered by the peer's heads where
 * it is behind what we listed.  Both need our entries as they were when
 * the turn went out, not as they are now: records published or received
 * meanwhile are not the peer's.  So each pending item keeps a copy of
 * them.
 */
struct pend_item {
	const uint8_t *prefix;
	uint32_t depth;
	bool vector;
};

static int pend_item_cmp(const void *x, const void *y)
{
	const struct sync_range *a = x, *b = y;
	return memcmp(a->lo, b->lo, 32);
}

static void pend_clear(struct sync_alliance *a)
{
	free(a->pend);
	free(a->snap);
	a->pend = NULL;
	a->snap = NULL;
	a->n_pend = 0;
}

/* Replace the pending items by items[0..n), snapshotting our entries in
 * each from v.  The items of one turn are disjoint. */
static int pend_set(struct sync_alliance *a, const struct sync_lvec *v,
                    const struct pend_item *items, size_t n)
{
	struct sync_range *p = NULL;
	struct sync_pfeed *snap = NULL;
	size_t total = 0;

	pend_clear(a);
	if (!n)
		return 0;
	if (!(p = calloc(n, sizeof(*p))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint8_t hi[32];
		size_t lo = 0, end = 0;
		range_bounds(p[i].lo, hi, items[i].prefix, items[i].depth);
		p[i].depth = items[i].depth;
		p[i].vector = items[i].vector;
		if (v)
			slice(v->heads, v->n, sizeof(*v->heads), items[i].prefix, items[i].depth,
			      &lo, &end);
		p[i].first = lo;   /* an index into v for now */
		p[i].n = end - lo;
		total += end - lo;
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
		qsort(p, n, sizeof(*p), pend_item_cmp);
	a->pend = p;
	a->snap = snap;
	a->n_pend = n;
	return 0;
}

/* The pending item holding (prefix, depth), or NULL. */
static const struct sync_range *pend_holding(const struct sync_alliance *a,
                                             const uint8_t *prefix, uint32_t depth,
                                             size_t *index)
{
	uint8_t lo[32], hi[32];
	size_t x = 0, y = a->n_pend;
	range_bounds(lo, hi, prefix, depth);
	while (x < y) {   /* last pending with lo <= item lo */
		size_t m = x + (y - x) / 2;
		if (memcmp(a->pend[m].lo, lo, 32) <= 0)
			x = m + 1;
		else
			y = m;
	}
	if (x == 0)
		return NULL;
	const struct sync_range *p = &a->pend[x - 1];
	if (depth < p->depth)
		return NULL;
	for (uint32_t i = 0; i < p->depth; i++)
		if (nibble(p->lo, i) != nibble(lo, i))
			return NULL;
	*index = x - 1;
	return p;
}

/* The peer answered our last turn: every range of ours that nothing in the
 * answer falls in was equal.  The pending items stay until our next turn
 * (vectors with reply = false in the answer read them). */
static int pend_resolve(struct sync_alliance *a, const Agora__Wire__Ranges *r)
{
	bool *covered;
	size_t k;
	int rc = 0;
	if (!a->n_pend)
		return 0;
	if (!(covered = calloc(a->n_pend, sizeof(*covered))))
		return -ENOMEM;
	for (size_t i = 0; i < r->n_ranges; i++)
		if (range_valid(&r->ranges[i]->prefix, r->ranges[i]->has_depth, r->ranges[i]->depth) &&
		    pend_holding(a, r->ranges[i]->prefix.data, r->ranges[i]->depth, &k))
			covered[k] = true;
	for (size_t i = 0; i < r->n_vectors; i++)
		if (range_valid(&r->vectors[i]->prefix, r->vectors[i]->has_depth,
		                r->vectors[i]->depth) &&
		    pend_holding(a, r->vectors[i]->prefix.data, r->vectors[i]->depth, &k))
			covered[k] = true;
	for (size_t i = 0; !rc && i < a->n_pend; i++) {
		const struct sync_range *p = &a->pend[i];
		if (!covered[i] && !p->vector)
			rc = peer_splice(a, p->lo, p->depth, a->snap + p->first, p->n);
	}
	free(covered);
	return rc;
}

static int send_digest(struct sync *s, struct sync_alliance *a)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Digest d = AGORA__WIRE__DIGEST__INIT;
	Agora__Wire__Range r = AGORA__WIRE__RANGE__INIT;
	uint8_t dig[32], pfx[1] = { 0 };

	r.digest.data = dig;
	range_of(&r, pfx, pfx, 0, lvec(s, a->id));
	d.has_alliance = true;
	d.alliance.data = a->id;
	d.alliance.len = 32;
	d.root = &r;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_DIGEST;
	m.digest = &d;
	a->exchanging = true;
	struct pend_item root = { .prefix = pfx, .depth = 0 };
	int rc = pend_set(a, lvec(s, a->id), &root, 1);
	return rc ? rc : send_msg(s, &m);
}

/* The Ranges we are building as our answer. */
struct answer {
	Agora__Wire__Ranges rs;
	Agora__Wire__Range **ranges;
	Agora__Wire__Vector **vectors;
	size_t cap_r, cap_v;
	bool requests;
};

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

static int answer_range(struct answer *ans, const uint8_t *prefix, unsigned depth,
                        const struct sync_lvec *v)
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
	uint8_t *pfx = malloc(33), *dig = malloc(32);
	if (!r || !pfx || !dig) {
		free(r);
		free(pfx);
		free(dig);
		return -ENOMEM;
	}
	agora__wire__range__init(r);
	r->digest.data = dig;
	range_of(r, pfx, prefix, depth, v);
	ans->ranges[ans->rs.n_ranges++] = r;
	ans->requests = true;
	return 0;
}

/* A vector of entries; list entries are (author, seq) pairs. */
static int answer_vector(struct answer *ans, const uint8_t *prefix, unsigned depth, bool reply,
                         const struct sync_head *h, size_t n, const uint64_t *seqs)
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
	v->prefix.data = malloc(33);
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

/* Compare one of the peer's ranges with ours and answer it. */
static int on_range(struct sync *s, struct sync_alliance *a, const Agora__Wire__Range *r,
                    struct answer *ans)
{
	const struct sync_lvec *v = lvec(s, a->id);
	uint8_t dig[32];
	size_t lo = 0, hi = 0;
	unsigned depth = r->depth;

	if (!range_valid(&r->prefix, r->has_depth, r->depth) || !r->has_digest ||
	    r->digest.len != 32 || !r->has_count)
		return SYNC_E_PROTOCOL;
	if (v)
		slice(v->heads, v->n, sizeof(*v->heads), r->prefix.data, depth, &lo, &hi);
	sync_digest(dig, v ? v->heads + lo : NULL, hi - lo);
	if (r->count == hi - lo && sodium_memcmp(dig, r->digest.data, 32) == 0) {
		/* Same heads: the peer holds exactly what we hold here. */
		struct sync_pfeed *list = calloc(hi - lo ? hi - lo : 1, sizeof(*list));
		int rc;
		if (!list)
			return -ENOMEM;
		for (size_t i = lo; i < hi; i++) {
			memcpy(list[i - lo].author, v->heads[i].author, 32);
			list[i - lo].seq = v->heads[i].seq;
		}
		rc = peer_splice(a, r->prefix.data, depth, list, hi - lo);
		free(list);
		return rc;
	}
	if (r->count == 0)   /* the peer holds nothing here: we will push */
		return peer_splice(a, r->prefix.data, depth, NULL, 0);
	if (hi - lo <= SYNC_LEAF_FEEDS || depth == SYNC_DEPTH_MAX)
		return answer_vector(ans, r->prefix.data, depth, true, v ? v->heads + lo : NULL,
		                     hi - lo, NULL);
	for (int nib = 0; nib < 16; nib++) {
		uint8_t sub[33] = { 0 };
		int rc;
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

static int entries_valid(const Agora__Wire__Vector *vec)
{
	uint8_t lo[32], hi[32];
	if (!range_valid(&vec->prefix, vec->has_depth, vec->depth))
		return SYNC_E_PROTOCOL;
	range_bounds(lo, hi, vec->prefix.data, vec->depth);
	for (size_t i = 0; i < vec->n_entries; i++) {
		const Agora__Wire__Entry *e = vec->entries[i];
		if (!e->has_author || e->author.len != 32 || !e->has_seq)
			return SYNC_E_PROTOCOL;
		if (memcmp(e->author.data, lo, 32) < 0 || memcmp(e->author.data, hi, 32) > 0)
			return SYNC_E_PROTOCOL;
		if (i && memcmp(vec->entries[i - 1]->author.data, e->author.data, 32) >= 0)
			return SYNC_E_PROTOCOL;
	}
	return 0;
}

/*
 * The peer's answer to a vector we sent with reply set: it lists its heads
 * where we were ahead; elsewhere in the range it holds at least the head we
 * listed then.  An answer to no vector of our last turn (the turns of two
 * exchanges crossed) tells only the heads it lists.
 */
static int on_vector_answer(struct sync_alliance *a, const Agora__Wire__Vector *vec)
{
	size_t k, j = 0;
	const struct sync_range *p = pend_holding(a, vec->prefix.data, vec->depth, &k);
	struct sync_pfeed *list;
	int rc;

	if (!p || !p->vector || p->depth != vec->depth) {
		for (size_t i = 0; i < vec->n_entries; i++)
			if ((rc = peer_set(a, vec->entries[i]->author.data, vec->entries[i]->seq, true)))
				return rc;
		return 0;
	}
	if (!(list = calloc(p->n + 1, sizeof(*list))))
		return -ENOMEM;
	for (size_t i = 0; i < p->n; i++) {
		const struct sync_pfeed *ours = &a->snap[p->first + i];
		while (j < vec->n_entries && memcmp(vec->entries[j]->author.data, ours->author, 32) < 0)
			j++;
		memcpy(list[i].author, ours->author, 32);
		if (j < vec->n_entries && !memcmp(vec->entries[j]->author.data, ours->author, 32))
			list[i].seq = vec->entries[j]->seq;
		else
			list[i].seq = ours->seq;
	}
	rc = peer_splice(a, vec->prefix.data, vec->depth, list, p->n);
	free(list);
	return rc;
}

static int on_vector(struct sync *s, struct sync_alliance *a, const Agora__Wire__Vector *vec,
                     struct answer *ans)
{
	const struct sync_lvec *v = lvec(s, a->id);
	size_t lo = 0, hi = 0, n = 0;
	struct sync_pfeed *list;
	int rc;

	if ((rc = entries_valid(vec)))
		return rc;
	if (v)
		slice(v->heads, v->n, sizeof(*v->heads), vec->prefix.data, vec->depth, &lo, &hi);
	list = calloc(vec->n_entries + (hi - lo) + 1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	if (vec->reply) {
		/* The peer's whole range: adopt it, answer where it is ahead. */
		struct sync_head *mine = calloc(vec->n_entries + 1, sizeof(*mine));
		uint64_t *seqs = calloc(vec->n_entries + 1, sizeof(*seqs));
		size_t m = 0;
		if (!mine || !seqs) {
			free(mine);
			free(seqs);
			free(list);
			return -ENOMEM;
		}
		for (size_t i = 0; i < vec->n_entries; i++) {
			const Agora__Wire__Entry *e = vec->entries[i];
			uint64_t ours = local_get(v, e->author.data);
			memcpy(list[n].author, e->author.data, 32);
			list[n++].seq = e->seq;
			if (e->seq > ours) {
				memcpy(mine[m].author, e->author.data, 32);
				seqs[m++] = ours;
			}
		}
		rc = peer_splice(a, vec->prefix.data, vec->depth, list, n);
		if (!rc)
			rc = answer_vector(ans, vec->prefix.data, vec->depth, false, mine, m, seqs);
		free(mine);
		free(seqs);
	} else {
		rc = on_vector_answer(a, vec);
	}
	free(list);
	return rc;
}

static int outfeeds_rebuild(struct sync *s);

/* Our answer is about to go out: its ranges and reply vectors are pending. */
static int pend_answer(struct sync *s, struct sync_alliance *a, const struct answer *ans)
{
	size_t n = 0;
	struct pend_item *items = calloc(ans->rs.n_ranges + ans->rs.n_vectors + 1, sizeof(*items));
	int rc;
	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < ans->rs.n_ranges; i++)
		items[n++] = (struct pend_item){ ans->ranges[i]->prefix.data, ans->ranges[i]->depth,
		                                 false };
	for (size_t i = 0; i < ans->rs.n_vectors; i++)
		if (ans->vectors[i]->reply)
			items[n++] = (struct pend_item){ ans->vectors[i]->prefix.data,
			                                 ans->vectors[i]->depth, true };
	rc = pend_set(a, lvec(s, a->id), items, n);
	free(items);
	return rc;
}

static int finish_turn(struct sync *s, struct sync_alliance *a, struct answer *ans,
                       bool incoming_requests)
{
	int rc = 0;
	if (incoming_requests) {
		Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
		ans->rs.has_alliance = true;
		ans->rs.alliance.data = a->id;
		ans->rs.alliance.len = 32;
		ans->rs.ranges = ans->ranges;
		ans->rs.vectors = ans->vectors;
		m.msg_case = AGORA__WIRE__MESSAGE__MSG_RANGES;
		m.ranges = &ans->rs;
		rc = pend_answer(s, a, ans);
		if (!rc)
			rc = send_msg(s, &m);
	} else {
		pend_clear(a);
	}
	if (!rc && (!incoming_requests || !ans->requests)) {
		a->exchanging = false;
		a->synced = true;
		rc = outfeeds_rebuild(s);
	} else if (!rc) {
		a->exchanging = true;
	}
	return rc;
}

static int on_digest(struct sync *s, const Agora__Wire__Digest *d)
{
	struct sync_alliance *a;
	struct answer ans;
	int rc;

	if (!d->has_alliance || d->alliance.len != 32 || !d->root || d->root->depth != 0)
		return SYNC_E_PROTOCOL;
	if (!allowed(s, d->alliance.data))
		return 0;
	if ((rc = alliance_add(s, d->alliance.data, &a)))
		return rc;
	memset(&ans, 0, sizeof(ans));
	agora__wire__ranges__init(&ans.rs);
	rc = on_range(s, a, d->root, &ans);
	if (!rc)
		rc = finish_turn(s, a, &ans, true);
	answer_free(&ans);
	return rc;
}

static int on_ranges(struct sync *s, const Agora__Wire__Ranges *r)
{
	struct sync_alliance *a;
	struct answer ans;
	bool requests = r->n_ranges > 0;
	int rc = 0;

	if (!r->has_alliance || r->alliance.len != 32)
		return SYNC_E_PROTOCOL;
	if (r->n_ranges > 16 * 65536 || r->n_vectors > 65536)
		return SYNC_E_LIMIT;
	if (!allowed(s, r->alliance.data))
		return 0;
	if ((rc = alliance_add(s, r->alliance.data, &a)))
		return rc;
	if ((rc = pend_resolve(a, r)))
		return rc;
	memset(&ans, 0, sizeof(ans));
	agora__wire__ranges__init(&ans.rs);
	for (size_t i = 0; !rc && i < r->n_ranges; i++)
		rc = on_range(s, a, r->ranges[i], &ans);
	for (size_t i = 0; !rc && i < r->n_vectors; i++) {
		if (r->vectors[i]->reply)
			requests = true;
		rc = on_vector(s, a, r->vectors[i], &ans);
	}
	if (!rc)
		rc = finish_turn(s, a, &ans, requests);
	answer_free(&ans);
	return rc;
}

/* ------------------------------------------------------------- records */

static int outfeed_cmp(const void *x, const void *y)
{
	const struct sync_outfeed *a = x, *b = y;
	if (a->prio != b->prio)
		return a->prio - b->prio;
	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	return memcmp(a->author, b->author, 32);
}

/* Every feed of a synced alliance where we are ahead of the peer. */
/* Recompute which feeds the peer lacks.  0 or -ENOMEM (the list is then
 * empty, so nothing is sent from a half-built one). */
static int outfeeds_rebuild(struct sync *s)
{
	s->n_out = 0;
	for (size_t ai = 0; ai < s->n_al; ai++) {
		struct sync_alliance *a = &s->al[ai];
		const struct sync_lvec *v = lvec(s, a->id);
		if (!a->synced || !v)
			continue;
		for (size_t i = 0; i < v->n; i++) {
			if (v->heads[i].seq <= peer_get(a, v->heads[i].author))
				continue;
			if (s->n_out == s->cap_out) {
				size_t cap = s->cap_out ? s->cap_out * 2 : 64;
				struct sync_outfeed *t = realloc(s->out, cap * sizeof(*t));
				if (!t) {
					s->n_out = 0;
					return -ENOMEM;
				}
				s->out = t;
				s->cap_out = cap;
			}
			struct sync_outfeed *t = &s->out[s->n_out++];
			t->a = (uint32_t)ai;
			memcpy(t->author, v->heads[i].author, 32);
			/* The peer's own feed first (a restored node learns its feed
			 * back before it publishes), then each alliance's charter. */
			if (!memcmp(t->author, s->peer_key, 32))
				t->prio = 0;
			else if (v->has_founder && !memcmp(t->author, v->founder, 32))
				t->prio = 1;
			else
				t->prio = 2;
		}
	}
	if (s->n_out > 1)
		qsort(s->out, s->n_out, sizeof(*s->out), outfeed_cmp);
	return 0;
}

bool sync_pending(const struct sync *s)
{
	return s->state == SYNC_STATE_OPEN && s->n_out > 0;
}

int sync_produce(struct sync *s, size_t budget, bool *more)
{
	size_t spent = 0, pos = 0;
	ProtobufCBinaryData *bins = NULL;
	int rc = 0;

	if (s->state != SYNC_STATE_OPEN)
		goto out;
	while (pos < s->n_out && spent < budget) {
		struct sync_outfeed *t = &s->out[pos];
		struct sync_alliance *a = &s->al[t->a];
		const struct sync_lvec *v = lvec(s, a->id);
		uint64_t have = peer_get(a, t->author), head = local_get(v, t->author);
		size_t n = 0, bytes = 0;

		if (head <= have) {
			pos++;
			continue;
		}
		if (!bins) {
			bins = calloc(SYNC_RECORDS_MAX_N, sizeof(*bins));
			if (!bins) {
				rc = -ENOMEM;
				goto out;
			}
		}
		for (uint64_t seq = have + 1; seq <= head && n < SYNC_RECORDS_MAX_N &&
		     bytes < SYNC_RECORDS_BYTES; seq++) {
			const uint8_t *env;
			size_t len;
			if (s->io.read(s->io.ctx, a->id, t->author, seq, &env, &len))
				break;
			bins[n].data = (uint8_t *)env;
			bins[n++].len = len;
			bytes += len;
		}
		if (n == 0) {   /* unreadable now: skip the feed until the next change */
			pos++;
			continue;
		}
		Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
		Agora__Wire__Records r = AGORA__WIRE__RECORDS__INIT;
		r.has_alliance = r.has_author = r.has_first_seq = true;
		r.alliance.data = a->id;
		r.alliance.len = 32;
		r.author.data = t->author;
		r.author.len = 32;
		r.first_seq = have + 1;
		r.n_envelopes = n;
		r.envelopes = bins;
		m.msg_case = AGORA__WIRE__MESSAGE__MSG_RECORDS;
		m.records = &r;
		if ((rc = send_msg(s, &m)))
			goto out;
		s->records_out += n;
		spent += bytes;
		if ((rc = peer_set(a, t->author, have + n, false)))
			goto out;
	}
out:
	if (pos) {
		if (s->n_out > pos)
			memmove(s->out, s->out + pos, (s->n_out - pos) * sizeof(*s->out));
		s->n_out -= pos;
	}
	free(bins);
	if (more)
		*more = s->n_out > 0;
	return rc;
}

static int on_records(struct sync *s, const Agora__Wire__Records *r)
{
	struct sync_alliance *a;
	const uint8_t **envs;
	size_t *lens;
	int rc;

	if (!r->has_alliance || r->alliance.len != 32 || !r->has_author || r->author.len != 32 ||
	    !r->has_first_seq || r->first_seq == 0 || r->n_envelopes == 0)
		return SYNC_E_PROTOCOL;
	if (r->n_envelopes > SYNC_RECORDS_MAX_N || r->first_seq > UINT64_MAX - r->n_envelopes)
		return SYNC_E_LIMIT;
	if (!allowed(s, r->alliance.data))
		return 0;   /* not carried on this session: dropped unseen */
	bool fresh = !alliance_find(s, r->alliance.data);
	if ((rc = alliance_add(s, r->alliance.data, &a)))
		return rc;
	/* An alliance the peer founded or learnt after Hello: it holds it, so
	 * push it our records there too (what it already has comes back as
	 * known, and is never sent twice on this session). */
	if (fresh)
		a->synced = true;
	envs = calloc(r->n_envelopes, sizeof(*envs));
	lens = calloc(r->n_envelopes, sizeof(*lens));
	if (!envs || !lens) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < r->n_envelopes; i++) {
		envs[i] = r->envelopes[i].data;
		lens[i] = r->envelopes[i].len;
	}
	s->records_in += r->n_envelopes;
	/* The peer holds them: never send them back. */
	if ((rc = peer_set(a, r->author.data, r->first_seq + r->n_envelopes - 1, false)))
		goto out;
	rc = s->io.records(s->io.ctx, r->alliance.data, r->author.data, r->first_seq, envs, lens,
	                   r->n_envelopes);
out:
	free(envs);
	free(lens);
	return rc;
}

/* --------------------------------------------------------------- receive */

static int on_hello(struct sync *s, const Agora__Wire__Hello *h)
{
	int rc;
	if (s->state != SYNC_STATE_HELLO)
		return SYNC_E_PROTOCOL;
	if (!h->has_version || h->version != SYNC_VERSION)
		return SYNC_E_VERSION;
	if (!h->has_node_key || h->node_key.len != 32)
		return SYNC_E_PROTOCOL;
	if (sodium_memcmp(h->node_key.data, s->peer_key, 32) != 0)
		return SYNC_E_IDENTITY;
	if (h->n_alliances > SYNC_ALLIANCES_MAX)
		return SYNC_E_LIMIT;
	snprintf(s->peer_name, sizeof(s->peer_name), "%s", h->name ? h->name : "");
	for (size_t i = 0; s->peer_name[i]; i++)
		if ((unsigned char)s->peer_name[i] < 0x20)
			s->peer_name[i] = '?';
	/* The session covers every alliance either side holds. */
	struct sync_alliance *a;
	for (size_t i = 0; i < s->local->n; i++)
		if (allowed(s, s->local->v[i].alliance) &&
		    (rc = alliance_add(s, s->local->v[i].alliance, &a)))
			return rc;
	for (size_t i = 0; i < h->n_alliances; i++) {
		if (h->alliances[i].len != 32)
			return SYNC_E_PROTOCOL;
		if (allowed(s, h->alliances[i].data) &&
		    (rc = alliance_add(s, h->alliances[i].data, &a)))
			return rc;
	}
	s->state = SYNC_STATE_OPEN;
	if (s->initiator)
		for (size_t i = 0; i < s->n_al; i++)
			if ((rc = send_digest(s, &s->al[i])))
				return rc;
	return 0;
}

static int send_simple(struct sync *s, int which, uint64_t nonce)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Ping p = AGORA__WIRE__PING__INIT;
	Agora__Wire__Pong q = AGORA__WIRE__PONG__INIT;
	if (which == AGORA__WIRE__MESSAGE__MSG_PING) {
		p.has_nonce = true;
		p.nonce = nonce;
		m.ping = &p;
	} else {
		q.has_nonce = true;
		q.nonce = nonce;
		m.pong = &q;
	}
	m.msg_case = which;
	return send_msg(s, &m);
}

static int on_ack(struct sync *s, const Agora__Wire__Ack *k)
{
	struct sync_alliance *a;
	int rc;
	if (!k->has_alliance || k->alliance.len != 32 || !k->has_author || k->author.len != 32 ||
	    !k->has_seq)
		return SYNC_E_PROTOCOL;
	if (!(a = alliance_find(s, k->alliance.data)))
		return 0;
	if ((rc = peer_set(a, k->author.data, k->seq, true)))
		return rc;
	return outfeeds_rebuild(s);
}

static int on_fork(struct sync *s, const Agora__Wire__ForkProof *f);

int sync_receive(struct sync *s, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	Agora__Wire__Message *m;
	int rc = 0;

	if (s->state == SYNC_STATE_FAILED)
		return SYNC_E_PROTOCOL;
	m = agora__wire__message__unpack(NULL, len, msg);
	if (!m) {
		s->state = SYNC_STATE_FAILED;
		return SYNC_E_PROTOCOL;
	}
	s->msgs_in++;
	if (s->state == SYNC_STATE_HELLO && m->msg_case != AGORA__WIRE__MESSAGE__MSG_HELLO &&
	    m->msg_case != AGORA__WIRE__MESSAGE__MSG_BYE &&
	    m->msg_case != AGORA__WIRE__MESSAGE__MSG_REDEEM) {
		rc = SYNC_E_PROTOCOL;
		goto out;
	}
	switch (m->msg_case) {
	case AGORA__WIRE__MESSAGE__MSG_HELLO: rc = on_hello(s, m->hello); break;
	case AGORA__WIRE__MESSAGE__MSG_DIGEST: rc = on_digest(s, m->digest); break;
	case AGORA__WIRE__MESSAGE__MSG_RANGES: rc = on_ranges(s, m->ranges); break;
	case AGORA__WIRE__MESSAGE__MSG_RECORDS: rc = on_records(s, m->records); break;
	case AGORA__WIRE__MESSAGE__MSG_ACK: rc = on_ack(s, m->ack); break;
	case AGORA__WIRE__MESSAGE__MSG_PING:
		rc = send_simple(s, AGORA__WIRE__MESSAGE__MSG_PONG,
		                 m->ping->has_nonce ? m->ping->nonce : 0);
		break;
	case AGORA__WIRE__MESSAGE__MSG_PONG: break;
	case AGORA__WIRE__MESSAGE__MSG_FORK: rc = on_fork(s, m->fork); break;
	/* A Redeem reaches the engine only when the node already accepted the
	 * key (it redeemed before and reconnects before holding its
	 * admission): nothing to do. */
	case AGORA__WIRE__MESSAGE__MSG_REDEEM: break;
	case AGORA__WIRE__MESSAGE__MSG_BYE: rc = SYNC_E_BYE; break;
	default: rc = SYNC_E_PROTOCOL; break;
	}
	(void)now_ms;
out:
	agora__wire__message__free_unpacked(m, NULL);
	if (rc < 0 && rc != SYNC_E_BYE && sync_is_fatal(rc))
		s->state = SYNC_STATE_FAILED;
	return rc;
}

/* ------------------------------------------------------------ the rest */

int sync_local_changed(struct sync *s, uint64_t now_ms)
{
	struct sync_alliance *a;
	int rc;
	if (s->state != SYNC_STATE_OPEN)
		return 0;
	/* An alliance that appeared after Hello: the peer may not hold it; push
	 * it from the start (records it has come back as known). */
	for (size_t i = 0; i < s->local->n; i++) {
		if (alliance_find(s, s->local->v[i].alliance) || !allowed(s, s->local->v[i].alliance))
			continue;
		if ((rc = alliance_add(s, s->local->v[i].alliance, &a)))
			return rc;
		a->synced = true;
	}
	/* Stuck-feed clocks: restart whenever our head of the feed moves. */
	for (size_t ai = 0; ai < s->n_al; ai++) {
		a = &s->al[ai];
		const struct sync_lvec *v = lvec(s, a->id);
		for (size_t i = 0; i < a->n; i++) {
			struct sync_pfeed *f = &a->peer[i];
			uint64_t ours = local_get(v, f->author);
			if (f->seq <= ours) {
				f->since_ms = 0;
			} else if (!f->since_ms || f->seen_local != ours) {
				f->since_ms = now_ms ? now_ms : 1;
				f->seen_local = ours;
			}
		}
	}
	return outfeeds_rebuild(s);
}

int sync_resync(struct sync *s)
{
	int rc;
	if (s->state != SYNC_STATE_OPEN)
		return 0;
	for (size_t i = 0; i < s->n_al; i++)
		if (!s->al[i].exchanging && (rc = send_digest(s, &s->al[i])))
			return rc;
	return 0;
}

int sync_send_ack(struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                  const uint8_t author[SYNC_KEY_BYTES], uint64_t seq)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Ack k = AGORA__WIRE__ACK__INIT;
	k.has_alliance = k.has_author = k.has_seq = true;
	k.alliance.data = (uint8_t *)alliance;
	k.alliance.len = 32;
	k.author.data = (uint8_t *)author;
	k.author.len = 32;
	k.seq = seq;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_ACK;
	m.ack = &k;
	return send_msg(s, &m);
}

int sync_send_ping(struct sync *s, uint64_t nonce)
{
	s->last_ping = nonce;
	return send_simple(s, AGORA__WIRE__MESSAGE__MSG_PING, nonce);
}

int sync_send_fork(struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                   const uint8_t author[SYNC_KEY_BYTES], uint64_t seq, const uint8_t *env_a,
                   size_t len_a, const uint8_t *env_b, size_t len_b)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__ForkProof f = AGORA__WIRE__FORK_PROOF__INIT;
	if (s->state != SYNC_STATE_OPEN || !alliance_find(s, alliance) || !allowed(s, alliance))
		return 0;
	f.has_alliance = f.has_author = f.has_seq = f.has_env_a = f.has_env_b = true;
	f.alliance.data = (uint8_t *)alliance;
	f.alliance.len = 32;
	f.author.data = (uint8_t *)author;
	f.author.len = 32;
	f.seq = seq;
	f.env_a.data = (uint8_t *)env_a;
	f.env_a.len = len_a;
	f.env_b.data = (uint8_t *)env_b;
	f.env_b.len = len_b;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_FORK;
	m.fork = &f;
	return send_msg(s, &m);
}

static int on_fork(struct sync *s, const Agora__Wire__ForkProof *f)
{
	if (!f->has_alliance || f->alliance.len != 32 || !f->has_author || f->author.len != 32 ||
	    !f->has_seq || f->seq == 0 || !f->has_env_a || !f->has_env_b || !f->env_a.len ||
	    !f->env_b.len)
		return SYNC_E_PROTOCOL;
	if (!s->io.fork || !alliance_find(s, f->alliance.data) || !allowed(s, f->alliance.data))
		return 0;
	return s->io.fork(s->io.ctx, f->alliance.data, f->author.data, f->seq, f->env_a.data,
	                  f->env_a.len, f->env_b.data, f->env_b.len);
}

int sync_send_bye(struct sync *s, const char *reason)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Bye b = AGORA__WIRE__BYE__INIT;
	b.reason = (char *)(reason ? reason : "");
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_BYE;
	m.bye = &b;
	return send_msg(s, &m);
}

uint64_t sync_peer_seq(const struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                       const uint8_t author[SYNC_KEY_BYTES])
{
	const struct sync_alliance *a = alliance_find(s, alliance);
	return a ? peer_get(a, author) : 0;
}

bool sync_live(const struct sync *s)
{
	if (s->state != SYNC_STATE_OPEN || s->n_out)
		return false;
	for (size_t i = 0; i < s->n_al; i++)
		if (!s->al[i].synced)
			return false;
	return true;
}

void sync_lag(const struct sync *s, uint64_t now_ms, uint64_t *behind, uint64_t *ahead,
              struct sync_stuck *stuck, size_t max_stuck, size_t *n_stuck)
{
	uint64_t b = 0, f = 0;
	size_t ns = 0;
	for (size_t ai = 0; ai < s->n_al; ai++) {
		const struct sync_alliance *a = &s->al[ai];
		const struct sync_lvec *v = lvec(s, a->id);
		for (size_t i = 0; i < a->n; i++) {
			uint64_t ours = local_get(v, a->peer[i].author);
			if (a->peer[i].seq <= ours)
				continue;
			b += a->peer[i].seq - ours;
			if (a->peer[i].since_ms && now_ms > a->peer[i].since_ms &&
			    now_ms - a->peer[i].since_ms > SYNC_STUCK_MS && ns < max_stuck) {
				struct sync_stuck *st = &stuck[ns++];
				memcpy(st->alliance, a->id, 32);
				memcpy(st->author, a->peer[i].author, 32);
				st->our_seq = ours;
				st->peer_seq = a->peer[i].seq;
				st->stalled_ms = now_ms - a->peer[i].since_ms;
			}
		}
		if (!a->synced || !v)
			continue;
		for (size_t i = 0; i < v->n; i++) {
			uint64_t theirs = peer_get(a, v->heads[i].author);
			if (v->heads[i].seq > theirs)
				f += v->heads[i].seq - theirs;
		}
	}
	*behind = b;
	*ahead = f;
	if (n_stuck)
		*n_stuck = ns;
}
