/* sync_net.c - see sync_net.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sync_net.h"
#include "wire.pb-c.h"

#define FRAMING 22   /* frame header, tag and app length per message */

struct link;

struct sess {
	struct sync e;
	struct net *net;
	struct link *link;
	unsigned self, peer;
};

struct link {
	unsigned a, b;            /* a dialed b */
	struct sess s[2];         /* a's engine, b's engine */
	uint64_t last_at[2];      /* latest delivery scheduled: a to b, b to a */
	bool dead;
};

struct node {
	uint8_t key[32];
	struct sync_lvec lv;
	struct sync_local local;
	struct sess **sess;       /* its live sessions */
	size_t n_sess, cap_sess;
	uint32_t max_version;     /* what its Hellos offer (0: the engine's) */
	uint64_t timer_at;        /* the armed timer (UINT64_MAX: none) */
	uint64_t graft_hold;      /* no timer before (another session just grafted) */
	/* what the Records just delivered did (io_records) */
	bool got, gap;
	uint64_t added, head, was;   /* records added by the last io_records, and the head before */
	uint8_t author[32];
};

struct ev {
	uint64_t at, order;
	struct link *link;        /* NULL: node's timer */
	unsigned node;
	unsigned dir;             /* 0: a to b */
	uint8_t *buf;
	size_t len;
};

struct pub {
	unsigned author;
	uint64_t seq, at;
};

struct author {
	uint8_t key[32];
	unsigned idx;
};

struct net {
	struct net_opts o;
	uint8_t alliance[32];
	struct node *nodes;
	struct author *authors;   /* sorted by key */
	uint8_t *env;
	struct link **links;
	size_t n_links, cap_links;
	struct ev *heap;
	size_t n_heap, cap_heap;
	uint64_t now, order, rng;
	struct net_stats st;
	uint64_t v_msgs[8][32];   /* by the session's version, wire type */
	struct pub *pubs;
	size_t n_pubs, cap_pubs;
	uint32_t *arrive;         /* [pub * nodes + node]: ms after publishing + 1 (0: not yet) */
	size_t **pub_of;          /* [node author][seq - seqs - 1]: its pub index */
	size_t *n_pub_of;
};

/* ------------------------------------------------------------- helpers */

static uint64_t rnd(struct net *n)
{
	n->rng ^= n->rng >> 12;
	n->rng ^= n->rng << 25;
	n->rng ^= n->rng >> 27;
	return n->rng * UINT64_C(2685821657736338717);
}

static int head_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static struct sync_head *head_of(struct node *x, const uint8_t *author)
{
	return bsearch(author, x->lv.heads, x->lv.n, sizeof(*x->lv.heads), head_cmp);
}

static int author_idx(const struct net *n, const uint8_t *key)
{
	const struct author *a = bsearch(key, n->authors, n->o.feeds, sizeof(*n->authors), head_cmp);
	return a ? (int)a->idx : -1;
}

static void fake_id(uint8_t id[32], const uint8_t *author, uint64_t seq)
{
	memcpy(id, author, 32);
	for (int i = 0; i < 8; i++)
		id[i] ^= (uint8_t)(seq >> (8 * i));
}

static int heap_push(struct net *n, const struct ev *e)
{
	if (n->n_heap == n->cap_heap) {
		size_t cap = n->cap_heap ? 2 * n->cap_heap : 1024;
		struct ev *h = realloc(n->heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		n->heap = h;
		n->cap_heap = cap;
	}
	size_t i = n->n_heap++;
	while (i) {
		size_t p = (i - 1) / 2;
		const struct ev *q = &n->heap[p];
		if (q->at < e->at || (q->at == e->at && q->order < e->order))
			break;
		n->heap[i] = *q;
		i = p;
	}
	n->heap[i] = *e;
	return 0;
}

static struct ev heap_pop(struct net *n)
{
	struct ev top = n->heap[0], last = n->heap[--n->n_heap];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n->n_heap)
			break;
		if (c + 1 < n->n_heap && (n->heap[c + 1].at < n->heap[c].at ||
		    (n->heap[c + 1].at == n->heap[c].at && n->heap[c + 1].order < n->heap[c].order)))
			c++;
		if (last.at < n->heap[c].at || (last.at == n->heap[c].at && last.order < n->heap[c].order))
			break;
		n->heap[i] = n->heap[c];
		i = c;
	}
	if (n->n_heap)
		n->heap[i] = last;
	return top;
}

/* ------------------------------------------------------------------- io */

static int io_send(void *ctx, const uint8_t *msg, size_t len)
{
	struct sess *s = ctx;
	struct net *n = s->net;
	struct link *l = s->link;
	unsigned dir = s == &l->s[0] ? 0 : 1, type = len ? msg[0] >> 3 : 0;
	uint8_t *copy = NULL;

	uint32_t mine = n->nodes[s->self].max_version, theirs = n->nodes[s->peer].max_version;
	if (type == AGORA__WIRE__MESSAGE__MSG_HELLO && (mine || theirs)) {
		/* An older node's Hello (version 1 sends no max_version).  The
		 * engine of an "older" node is the current one: a Hello to it
		 * offers no more than it speaks, so that both ends agree. */
		uint32_t v = !mine ? theirs : !theirs ? mine : mine < theirs ? mine : theirs;
		Agora__Wire__Message *m = agora__wire__message__unpack(NULL, len, msg);
		if (!m)
			return -EINVAL;
		m->hello->max_version = v;
		m->hello->has_max_version = m->hello->max_version > 1;
		len = agora__wire__message__get_packed_size(m);
		if ((copy = malloc(len)))
			agora__wire__message__pack(m, copy);
		agora__wire__message__free_unpacked(m, NULL);
	} else if ((copy = malloc(len ? len : 1))) {
		memcpy(copy, msg, len);
	}
	if (!copy)
		return -ENOMEM;
	n->st.msgs[type & 31]++;
	n->st.bytes += len + FRAMING;
	n->v_msgs[sync_version(&s->e) & 7][type & 31]++;
	uint64_t at = n->now + n->o.latency_ms +
	              (n->o.jitter_ms ? rnd(n) % (n->o.jitter_ms + 1) : 0);
	if (at < l->last_at[dir])
		at = l->last_at[dir];   /* a TCP stream: in order */
	l->last_at[dir] = at;
	struct ev e = { at, n->order++, l, 0, dir, copy, len };
	int rc = heap_push(n, &e);
	if (rc)
		free(copy);
	return rc;
}

static int io_read(void *ctx, const uint8_t alliance[32], const uint8_t author[32],
                   uint64_t seq, const uint8_t **env, size_t *len)
{
	struct sess *s = ctx;
	struct sync_head *h = head_of(&s->net->nodes[s->self], author);
	(void)alliance;
	if (!h || seq == 0 || seq > h->seq)
		return -1;
	*env = s->net->env;
	*len = s->net->o.env_bytes;
	return 0;
}

/* A record reached node x now. */
static void arrived(struct net *n, unsigned x, unsigned author, uint64_t seq)
{
	if (author >= n->o.nodes || seq <= n->o.seqs || seq - n->o.seqs > n->n_pub_of[author])
		return;
	size_t p = n->pub_of[author][seq - n->o.seqs - 1];
	n->arrive[p * n->o.nodes + x] = (uint32_t)(n->now - n->pubs[p].at + 1);
}

/* Store what chains at once (a node verifies and stores; here nothing
 * fails), and remember what happened for deliver(). */
static int io_records(void *ctx, const uint8_t alliance[32], const uint8_t author[32],
                      uint64_t first_seq, const uint8_t *const *envs, const size_t *lens,
                      size_t count)
{
	struct sess *s = ctx;
	struct net *n = s->net;
	struct node *x = &n->nodes[s->self];
	struct sync_head *h = head_of(x, author);
	int idx = author_idx(n, author);
	(void)alliance;
	(void)envs;
	(void)lens;
	if (!h || idx < 0)
		return -EINVAL;   /* every feed exists from the start */
	n->st.received += count;
	x->got = true;
	x->gap = first_seq > h->seq + 1;
	x->added = 0;
	memcpy(x->author, author, 32);
	uint64_t last = first_seq + count - 1;
	if (!x->gap && last > h->seq) {
		uint8_t id[32];
		uint64_t was = h->seq;
		x->was = was;
		x->added = last - was;
		fake_id(id, author, last);
		if (sync_lvec_set(&x->lv, author, last, id))
			return -ENOMEM;
		for (uint64_t q = was + 1; q <= last; q++)
			arrived(n, s->self, (unsigned)idx, q);
		n->st.stored += x->added;
	}
	x->head = head_of(x, author)->seq;
	return 0;
}

/* ------------------------------------------------------------ the node */

/* Produce on every session of x, then arm its timer at the earliest
 * deadline of its sessions (agorad's one timer per node). */
static int settle_node(struct net *n, unsigned xi)
{
	struct node *x = &n->nodes[xi];
	uint64_t due = UINT64_MAX;
	int rc;
	for (size_t i = 0; i < x->n_sess; i++) {
		struct sync *e = &x->sess[i]->e;
		bool more = sync_pending(e);
		while (more)
			if ((rc = sync_produce(e, 1 << 20, &more)))
				return rc;
		uint64_t d = sync_next_deadline(e);
		if (d < due)
			due = d;
	}
	if (due != UINT64_MAX && due < x->graft_hold)
		due = x->graft_hold;
	if (due < x->timer_at) {
		x->timer_at = due;
		struct ev t = { due > n->now ? due : n->now, n->order++, NULL, xi, 0, NULL, 0 };
		return heap_push(n, &t);
	}
	return 0;
}

/* Tell every session of x that this feed moved. */
static int changed(struct net *n, struct node *x, const uint8_t *author, uint64_t was)
{
	struct sync_feed_ref ref;
	int rc;
	memcpy(ref.alliance, n->alliance, 32);
	memcpy(ref.author, author, 32);
	ref.was = was;
	for (size_t i = 0; i < x->n_sess; i++)
		if ((rc = sync_feeds_changed(&x->sess[i]->e, &ref, 1, n->now)))
			return rc;
	return 0;
}

static int deliver(struct net *n, struct ev *e)
{
	struct link *l = e->link;
	int rc;
	if (l->dead) {
		n->st.cut_in_flight++;
		free(e->buf);
		return 0;
	}
	struct sess *s = &l->s[e->dir ? 0 : 1];
	struct node *x = &n->nodes[s->self];
	x->got = false;
	rc = sync_receive(&s->e, e->buf, e->len, n->now);
	free(e->buf);
	if (rc)
		return rc;
	if (x->got && x->gap)
		rc = sync_send_ack(&s->e, n->alliance, x->author, x->head);
	else if (x->got && x->added)
		rc = changed(n, x, x->author, x->was);
	else if (x->got) {
		/* what agorad's ingest says of a batch it held whole */
		n->st.dup_batches++;
		rc = sync_duplicate(&s->e, n->alliance, n->now);
	}
	return rc ? rc : settle_node(n, s->self);
}

static int fire(struct net *n, const struct ev *e)
{
	struct node *x = &n->nodes[e->node];
	int rc;
	if (e->at != x->timer_at)
		return 0;   /* replaced by an earlier one */
	x->timer_at = UINT64_MAX;
	/* One session grafts at a time, as agorad does (node/session.c): what
	 * it asks for may also be what the others were announced, and comes
	 * within a round trip; the rest wait SYNC_GRAFT_NEXT_MS. */
	bool grafted = false, more = false;
	for (size_t i = 0; i < x->n_sess; i++) {
		struct sync *se = &x->sess[i]->e;
		if (sync_next_deadline(se) > n->now)
			continue;
		if (grafted) {
			more = true;
			continue;
		}
		if ((rc = sync_timeout(se, n->now)) < 0)
			return rc;
		grafted = rc == 1;
	}
	x->graft_hold = more ? n->now + SYNC_GRAFT_NEXT_MS : 0;
	return settle_node(n, e->node);
}

static int step(struct net *n)
{
	struct ev e = heap_pop(n);
	if (e.at > n->now)
		n->now = e.at;
	return e.link ? deliver(n, &e) : fire(n, &e);
}

/* ------------------------------------------------------------ lifecycle */

int net_new(struct net **out, const struct net_opts *o)
{
	struct net *n;
	struct sync_head *base = NULL;
	if (o->nodes < 2 || o->feeds < o->nodes)
		return -EINVAL;
	if (!(n = calloc(1, sizeof(*n))))
		return -ENOMEM;
	n->o = *o;
	n->rng = o->seed ? o->seed : 1;
	memset(n->alliance, 0xa1, 32);
	n->nodes = calloc(o->nodes, sizeof(*n->nodes));
	n->authors = calloc(o->feeds, sizeof(*n->authors));
	n->env = calloc(1, o->env_bytes ? o->env_bytes : 1);
	n->pub_of = calloc(o->nodes, sizeof(*n->pub_of));
	n->n_pub_of = calloc(o->nodes, sizeof(*n->n_pub_of));
	base = calloc(o->feeds, sizeof(*base));
	if (!n->nodes || !n->authors || !n->env || !n->pub_of || !n->n_pub_of || !base)
		goto nomem;
	for (unsigned i = 0; i < o->feeds; i++) {
		uint8_t seed[4] = { (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
		                    (uint8_t)i };
		crypto_generichash(n->authors[i].key, 32, seed, 4, NULL, 0);
		n->authors[i].idx = i;
		memcpy(base[i].author, n->authors[i].key, 32);
		base[i].seq = o->seqs;
		fake_id(base[i].id, base[i].author, o->seqs);
	}
	for (unsigned i = 0; i < o->nodes; i++)
		memcpy(n->nodes[i].key, n->authors[i].key, 32);
	qsort(n->authors, o->feeds, sizeof(*n->authors), head_cmp);
	qsort(base, o->feeds, sizeof(*base), head_cmp);
	for (unsigned i = 0; i < o->nodes; i++) {
		struct node *x = &n->nodes[i];
		if (!(x->lv.heads = malloc(o->feeds * sizeof(*base))))
			goto nomem;
		memcpy(x->lv.heads, base, o->feeds * sizeof(*base));
		x->lv.n = x->lv.cap = o->feeds;
		memcpy(x->lv.alliance, n->alliance, 32);
		sync_lvec_touch(&x->lv);
		x->local.v = &x->lv;
		x->local.n = 1;
		x->timer_at = UINT64_MAX;
	}
	free(base);
	*out = n;
	return 0;
nomem:
	free(base);
	net_free(n);
	return -ENOMEM;
}

void net_free(struct net *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n_links; i++) {
		if (!n->links[i]->dead) {
			sync_dispose(&n->links[i]->s[0].e);
			sync_dispose(&n->links[i]->s[1].e);
		}
		free(n->links[i]);
	}
	while (n->n_heap)
		free(heap_pop(n).buf);
	for (unsigned i = 0; n->nodes && i < n->o.nodes; i++) {
		free(n->nodes[i].lv.heads);
		free(n->nodes[i].sess);
	}
	for (unsigned i = 0; n->pub_of && i < n->o.nodes; i++)
		free(n->pub_of[i]);
	free(n->pub_of);
	free(n->n_pub_of);
	free(n->links);
	free(n->heap);
	free(n->nodes);
	free(n->authors);
	free(n->env);
	free(n->pubs);
	free(n->arrive);
	free(n);
}

void net_set_max_version(struct net *n, unsigned node, uint32_t version)
{
	n->nodes[node].max_version = version;
}

static struct link *find_link(const struct net *n, unsigned a, unsigned b)
{
	const struct node *x = &n->nodes[a];
	for (size_t i = 0; i < x->n_sess; i++)
		if (x->sess[i]->peer == b)
			return x->sess[i]->link;
	return NULL;
}

static int sess_add(struct node *x, struct sess *s)
{
	if (x->n_sess == x->cap_sess) {
		size_t cap = x->cap_sess ? 2 * x->cap_sess : 8;
		struct sess **p = realloc(x->sess, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		x->sess = p;
		x->cap_sess = cap;
	}
	x->sess[x->n_sess++] = s;
	return 0;
}

static void sess_remove(struct node *x, const struct sess *s)
{
	for (size_t i = 0; i < x->n_sess; i++)
		if (x->sess[i] == s) {
			x->sess[i] = x->sess[--x->n_sess];
			return;
		}
}

int net_link(struct net *n, unsigned a, unsigned b)
{
	struct link *l;
	int rc;
	if (a == b || a >= n->o.nodes || b >= n->o.nodes)
		return -EINVAL;
	if (find_link(n, a, b))
		return -EEXIST;
	if (n->n_links == n->cap_links) {
		size_t cap = n->cap_links ? 2 * n->cap_links : 64;
		struct link **p = realloc(n->links, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		n->links = p;
		n->cap_links = cap;
	}
	if (!(l = calloc(1, sizeof(*l))))
		return -ENOMEM;
	n->links[n->n_links++] = l;
	l->a = a;
	l->b = b;
	for (int k = 0; k < 2; k++) {
		struct sess *s = &l->s[k];
		struct sync_io io = { .ctx = s, .send = io_send, .read = io_read,
		                      .records = io_records };
		unsigned self = k ? b : a, peer = k ? a : b;
		unsigned flags = (k ? 0 : SYNC_INITIATOR) | (n->o.eager_only ? SYNC_EAGER_ONLY : 0);
		s->net = n;
		s->link = l;
		s->self = self;
		s->peer = peer;
		if ((rc = sync_init(&s->e, flags, n->nodes[self].key, "node", n->nodes[peer].key,
		                    &n->nodes[self].local, &io)))
			return rc;
		if (n->o.graft_ms)
			sync_set_graft_ms(&s->e, n->o.graft_ms);
		if ((rc = sess_add(&n->nodes[self], s)))
			return rc;
	}
	if ((rc = sync_start(&l->s[0].e)) || (rc = sync_start(&l->s[1].e)))
		return rc;
	return 0;
}

int net_random_graph(struct net *n, unsigned degree)
{
	unsigned nodes = n->o.nodes;
	size_t want = (size_t)nodes * degree / 2, have = 0;
	int rc;
	for (unsigned i = 0; i < nodes; i++) {
		if ((rc = net_link(n, i, (i + 1) % nodes)) && rc != -EEXIST)
			return rc;
		have += rc == 0;
	}
	for (unsigned tries = 0; have < want && tries < 100 * nodes; tries++) {
		unsigned a = (unsigned)(rnd(n) % nodes), b = (unsigned)(rnd(n) % nodes);
		if (a == b || n->nodes[a].n_sess >= degree || n->nodes[b].n_sess >= degree)
			continue;
		if ((rc = net_link(n, a, b)) == -EEXIST)
			continue;
		if (rc)
			return rc;
		have++;
	}
	return 0;
}

void net_cut(struct net *n, unsigned a, unsigned b)
{
	struct link *l = find_link(n, a, b);
	if (!l)
		return;
	l->dead = true;
	sess_remove(&n->nodes[l->a], &l->s[0]);
	sess_remove(&n->nodes[l->b], &l->s[1]);
	sync_dispose(&l->s[0].e);
	sync_dispose(&l->s[1].e);
}

bool net_connected(const struct net *n)
{
	unsigned *stack = calloc(n->o.nodes, sizeof(*stack));
	bool *seen = calloc(n->o.nodes, sizeof(*seen));
	size_t top = 0, count = 1;
	if (!stack || !seen) {
		free(stack);
		free(seen);
		return false;
	}
	seen[0] = true;
	stack[top++] = 0;
	while (top) {
		const struct node *x = &n->nodes[stack[--top]];
		for (size_t i = 0; i < x->n_sess; i++) {
			unsigned p = x->sess[i]->peer;
			if (!seen[p]) {
				seen[p] = true;
				count++;
				stack[top++] = p;
			}
		}
	}
	free(stack);
	free(seen);
	return count == n->o.nodes;
}

/* ---------------------------------------------------------------- running */

int net_publish(struct net *n, unsigned node)
{
	struct node *x = &n->nodes[node];
	struct sync_head *h = head_of(x, x->key);
	uint8_t id[32];
	int rc;

	if (n->n_pubs == n->cap_pubs) {
		size_t cap = n->cap_pubs ? 2 * n->cap_pubs : 256;
		struct pub *p = realloc(n->pubs, cap * sizeof(*p));
		uint32_t *ar = realloc(n->arrive, cap * n->o.nodes * sizeof(*ar));
		if (p)
			n->pubs = p;
		if (ar)
			n->arrive = ar;
		if (!p || !ar)
			return -ENOMEM;
		memset(n->arrive + n->cap_pubs * n->o.nodes, 0,
		       (cap - n->cap_pubs) * n->o.nodes * sizeof(*ar));
		n->cap_pubs = cap;
	}
	size_t *po = realloc(n->pub_of[node], (n->n_pub_of[node] + 1) * sizeof(*po));
	if (!po)
		return -ENOMEM;
	n->pub_of[node] = po;
	po[n->n_pub_of[node]++] = n->n_pubs;
	uint64_t seq = h->seq + 1;
	n->pubs[n->n_pubs++] = (struct pub){ node, seq, n->now };
	fake_id(id, x->key, seq);
	if ((rc = sync_lvec_set(&x->lv, x->key, seq, id)))
		return rc;
	arrived(n, node, node, seq);
	n->st.published++;
	if ((rc = changed(n, x, x->key, seq - 1)))
		return rc;
	return settle_node(n, node);
}

int net_run(struct net *n, uint64_t t)
{
	int rc;
	while (n->n_heap && n->heap[0].at <= t)
		if ((rc = step(n)))
			return rc;
	if (t > n->now)
		n->now = t;
	return 0;
}

int net_settle(struct net *n, uint64_t limit)
{
	int rc;
	while (n->n_heap) {
		if (n->heap[0].at > limit)
			return -ETIMEDOUT;
		if ((rc = step(n)))
			return rc;
	}
	return 0;
}

uint64_t net_now(const struct net *n)
{
	return n->now;
}

/* ---------------------------------------------------------------- reading */

const struct net_stats *net_stats(const struct net *n)
{
	return &n->st;
}

void net_stats_reset(struct net *n)
{
	memset(&n->st, 0, sizeof(n->st));
}

bool net_converged(const struct net *n)
{
	for (unsigned a = 0; a < n->o.nodes; a++) {
		uint64_t want = n->o.seqs + n->n_pub_of[a];
		for (unsigned i = 0; i < n->o.nodes; i++) {
			const struct sync_head *h = head_of((struct node *)&n->nodes[i], n->nodes[a].key);
			if (!h || h->seq != want)
				return false;
		}
	}
	return true;
}

void net_reach(const struct net *n, size_t index, uint64_t *all, uint64_t *sum)
{
	uint64_t worst = 0, total = 0;
	for (unsigned i = 0; i < n->o.nodes; i++) {
		uint32_t t = n->arrive[index * n->o.nodes + i];
		if (!t) {
			worst = UINT64_MAX;
			continue;
		}
		if (worst != UINT64_MAX && t - 1 > worst)
			worst = t - 1;
		total += t - 1;
	}
	*all = worst;
	if (sum)
		*sum = total;
}

struct sync *net_engine(struct net *n, unsigned a, unsigned b)
{
	struct link *l = find_link(n, a, b);
	return l ? &l->s[l->a == a ? 0 : 1].e : NULL;
}

size_t net_links(const struct net *n)
{
	size_t k = 0;
	for (size_t i = 0; i < n->n_links; i++)
		k += !n->links[i]->dead;
	return k;
}

void net_link_ends(const struct net *n, size_t i, unsigned *a, unsigned *b)
{
	for (size_t k = 0; k < n->n_links; k++) {
		if (n->links[k]->dead)
			continue;
		if (i-- == 0) {
			*a = n->links[k]->a < n->links[k]->b ? n->links[k]->a : n->links[k]->b;
			*b = n->links[k]->a < n->links[k]->b ? n->links[k]->b : n->links[k]->a;
			return;
		}
	}
}

uint64_t net_msgs_version(const struct net *n, uint32_t version, unsigned type)
{
	return n->v_msgs[version & 7][type & 31];
}

const uint8_t *net_alliance(const struct net *n)
{
	return n->alliance;
}
