/* sync_fake.c - see sync_fake.h.  Built with SYNC_FAKE_REAL_ALLOC into a
 * test that wraps malloc (-Wl,--wrap): the fake then allocates past the
 * wrapper, so only the engine's allocations are made to fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "sync_fake.h"
#include "wire.pb-c.h"

#ifdef SYNC_FAKE_REAL_ALLOC
#include "failalloc.h"
#define FAKE_MALLOC __real_malloc
#define FAKE_CALLOC __real_calloc
#define FAKE_REALLOC __real_realloc
#else
#define FAKE_MALLOC malloc
#define FAKE_CALLOC calloc
#define FAKE_REALLOC realloc
#endif

struct feed *feed_get(struct fake *f, const uint8_t *author, bool create)
{
	for (size_t i = 0; i < f->n_feeds; i++)
		if (!memcmp(f->feeds[i].author, author, 32))
			return &f->feeds[i];
	if (!create)
		return NULL;
	struct feed *fd = &f->feeds[f->n_feeds++];
	memset(fd, 0, sizeof(*fd));
	memcpy(fd->author, author, 32);
	return fd;
}

void feed_append(struct feed *fd)
{
	fd->env = FAKE_REALLOC(fd->env, (fd->n + 1) * sizeof(*fd->env));
	memset(fd->env[fd->n], 0, 48);
	memcpy(fd->env[fd->n], fd->author, 32);
	uint64_t seq = fd->n + 1;
	memcpy(fd->env[fd->n] + 32, &seq, 8);
	fd->n++;
}

static int cmp_head(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

void rebuild(struct fake *f)
{
	free(f->lv.heads);
	f->lv.heads = FAKE_CALLOC(f->n_feeds + 1, sizeof(*f->lv.heads));
	f->lv.n = 0;
	for (size_t i = 0; i < f->n_feeds; i++) {
		if (!f->feeds[i].n)
			continue;   /* io_records met the author, but nothing chained */
		struct sync_head *h = &f->lv.heads[f->lv.n++];
		memcpy(h->author, f->feeds[i].author, 32);
		h->seq = f->feeds[i].n;
		crypto_generichash(h->id, 32, f->feeds[i].env[h->seq - 1], 48, NULL, 0);
	}
	qsort(f->lv.heads, f->lv.n, sizeof(*f->lv.heads), cmp_head);
	f->lv.cap = f->n_feeds + 1;
	for (size_t i = 0; i < f->lv.n; i++)
		for (size_t k = 0; k < f->n_coord; k++)
			if (!memcmp(f->lv.heads[i].author, f->coord[k], 32))
				f->lv.heads[i].coordinator = true;
	sync_lvec_touch(&f->lv);
	memcpy(f->lv.alliance, f->alliance, 32);
	f->local.v = &f->lv;
	f->local.n = f->hold_nothing ? 0 : 1;
}

void fake_ref(const struct fake *f, struct sync_feed_ref *r, const uint8_t au[32])
{
	memcpy(r->alliance, f->alliance, 32);
	memcpy(r->author, au, 32);
	r->was = 0;
	for (size_t i = 0; i < f->lv.n; i++)
		if (!memcmp(f->lv.heads[i].author, au, 32))
			r->was = f->lv.heads[i].seq;
}

int io_send(void *ctx, const uint8_t *msg, size_t len)
{
	struct fake *f = ctx;
	struct msgq *q = f->out;
	uint8_t *copy = NULL;
	Agora__Wire__Message *m = agora__wire__message__unpack(NULL, len, msg);
	assert_non_null(m);
	assert_true((size_t)m->msg_case < sizeof(f->type_count) / sizeof(f->type_count[0]));
	f->type_count[m->msg_case]++;
	if (m->msg_case == AGORA__WIRE__MESSAGE__MSG_HELLO && f->hello_v1) {
		/* A version-1 node's Hello: no max_version. */
		m->hello->has_max_version = false;
		len = agora__wire__message__get_packed_size(m);
		copy = FAKE_MALLOC(len);
		agora__wire__message__pack(m, copy);
	}
	if (m->msg_case == AGORA__WIRE__MESSAGE__MSG_RECORDS && f->n_order < MAXF)
		memcpy(f->order[f->n_order++], m->records->author.data, 32);
	agora__wire__message__free_unpacked(m, NULL);
	assert_true(q->tail < QMAX);
	if (!copy) {
		copy = FAKE_MALLOC(len ? len : 1);
		memcpy(copy, msg, len);
	}
	q->m[q->tail] = copy;
	q->len[q->tail++] = len;
	f->bytes_out += len + FRAME_OVERHEAD;
	f->msgs++;
	return 0;
}

int io_read(void *ctx, const uint8_t alliance[32], const uint8_t author[32],
                   uint64_t seq, const uint8_t **env, size_t *len)
{
	struct fake *f = ctx;
	struct feed *fd = feed_get(f, author, false);
	(void)alliance;
	if (!fd || seq == 0 || seq > fd->n)
		return -1;
	if (f->later_every && ++f->reads % f->later_every == 0) {
		f->laters++;
		return SYNC_READ_LATER;   /* as a node whose read job is still out */
	}
	*env = fd->env[seq - 1];
	*len = 48;
	f->records_sent++;
	return 0;
}

int io_records(void *ctx, const uint8_t alliance[32], const uint8_t author[32],
                      uint64_t first_seq, const uint8_t *const *envs, const size_t *lens,
                      size_t n)
{
	struct fake *f = ctx;
	struct feed *fd;
	(void)alliance;
	if (f->drop_records)
		return 0;
	fd = feed_get(f, author, true);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(lens[i], 48);
		assert_memory_equal(envs[i], author, 32);
		if (first_seq + i == fd->n + 1) {   /* chains: store it */
			feed_append(fd);
			f->records_got++;
			if (f->n_moved < MAXF)
				memcpy(f->moved[f->n_moved++], author, 32);
		}
	}
	return 0;
}

bool io_allowed(void *ctx, const uint8_t alliance[32])
{
	struct fake *f = ctx;
	(void)alliance;
	return !f->deny;
}

int io_redeem(void *ctx, const uint8_t alliance[32], const uint8_t token[32])
{
	struct fake *f = ctx;
	memcpy(f->redeemed, alliance, 32);
	memcpy(f->redeemed + 32, token, 32);
	f->redeems++;
	return 0;
}

void fake_io(struct fake *f, struct sync_io *io)
{
	memset(io, 0, sizeof(*io));
	io->ctx = f;
	io->send = io_send;
	io->read = io_read;
	io->records = io_records;
	io->allowed = io_allowed;
	io->redeem = io_redeem;
}

void fake_init(struct fake *f, uint8_t who, const uint8_t alliance[32])
{
	memset(f, 0, sizeof(*f));
	memset(f->key, who, 32);
	memcpy(f->alliance, alliance, 32);
}

void fake_free(struct fake *f)
{
	sync_dispose(&f->sync);
	for (size_t i = 0; i < f->n_feeds; i++)
		free(f->feeds[i].env);
	free(f->lv.heads);
}

void author_of(uint8_t out[32], unsigned i)
{
	uint8_t seed[4] = { (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
	crypto_generichash(out, 32, seed, 4, NULL, 0);
}

void give(struct fake *f, unsigned author, uint64_t n)
{
	uint8_t a[32];
	author_of(a, author);
	struct feed *fd = feed_get(f, a, true);
	while (fd->n < n)
		feed_append(fd);
}

void assert_same(struct fake *a, struct fake *b)
{
	rebuild(a);
	rebuild(b);
	assert_int_equal(a->lv.n, b->lv.n);
	for (size_t i = 0; i < a->lv.n; i++) {
		assert_memory_equal(a->lv.heads[i].author, b->lv.heads[i].author, 32);
		assert_int_equal(a->lv.heads[i].seq, b->lv.heads[i].seq);
	}
}

int fake_connect(struct pair *p, struct fake *a, struct fake *b, unsigned flags_b)
{
	struct sync_io ia, ib;
	int rc;
	fake_io(a, &ia);
	fake_io(b, &ib);
	p->a = a;
	p->b = b;
	p->ab = FAKE_CALLOC(1, sizeof(*p->ab));
	p->ba = FAKE_CALLOC(1, sizeof(*p->ba));
	assert_non_null(p->ab);
	assert_non_null(p->ba);
	a->out = p->ab;
	b->out = p->ba;
	rebuild(a);
	rebuild(b);
	if ((rc = sync_init(&a->sync, SYNC_INITIATOR, a->key, "A", b->key, &a->local, &ia)) ||
	    (rc = sync_init(&b->sync, flags_b, b->key, "B", a->key, &b->local, &ib)))
		return rc;
	rc = a->redeem_first ? sync_start_redeem(&a->sync, a->invite, a->invite + 32) :
	     sync_start(&a->sync);
	if (rc)
		return rc;
	if (!(flags_b & SYNC_AWAIT_REDEEM))
		rc = sync_start(&b->sync);
	return rc;
}

/* Our store took records (or we published): tell the engine. */
static int tell(struct fake *to)
{
	struct sync_feed_ref *refs = FAKE_CALLOC(to->n_moved + 1, sizeof(*refs));
	int rc = 0;
	if (to->full_rebuild) {
		to->n_moved = 0;
		free(refs);
		if ((rc = sync_local_replacing(&to->sync)))
			return rc;
		rebuild(to);
		return sync_local_changed(&to->sync, 1000);
	}
	for (size_t i = 0; i < to->n_moved; i++)
		fake_ref(to, &refs[i], to->moved[i]);
	rebuild(to);
	for (size_t i = 0; !rc && i < to->n_moved; i += 64) {
		size_t n = to->n_moved - i < 64 ? to->n_moved - i : 64;
		rc = sync_feeds_changed(&to->sync, refs + i, n, 1000);
	}
	free(refs);
	to->n_moved = 0;
	return rc;
}

int fake_step(struct pair *p, struct fake *to)
{
	struct msgq *q = to == p->b ? p->ab : p->ba;
	int rc;
	if (q->head == q->tail)
		return 1;
	if (to->publish_at && to->publish_at - 1 == to->received) {
		/* Our store changes while a turn of ours is on the wire. */
		uint8_t au[32];
		author_of(au, to->publish_feed);
		give(to, to->publish_feed, feed_get(to, au, true)->n + 1);
		if (to->n_moved < MAXF)
			memcpy(to->moved[to->n_moved++], au, 32);
		if ((rc = tell(to)))
			return rc;
	}
	to->received++;
	rc = sync_receive(&to->sync, q->m[q->head], q->len[q->head], 1000);
	free(q->m[q->head]);
	q->head++;
	if (rc)
		return rc;
	return to->n_moved ? tell(to) : 0;
}

int fake_pump(struct pair *p)
{
	int rc;
	for (int rounds = 0; rounds < 100000; rounds++) {
		bool moved = false;
		for (int d = 0; d < 2; d++) {
			rc = fake_step(p, d ? p->a : p->b);
			if (rc < 0)
				return rc;
			if (rc == 0)
				moved = true;
		}
		for (int d = 0; d < 2; d++) {
			struct fake *f = d ? p->b : p->a;
			if (sync_pending(&f->sync)) {
				if ((rc = sync_produce(&f->sync, 1 << 20, NULL)))
					return rc;
				moved = true;
			}
		}
		if (!moved)
			return 0;
	}
	return -1;
}

void fake_disconnect(struct pair *p)
{
	for (struct msgq *q = p->ab; q; q = q == p->ab ? p->ba : NULL)
		while (q->head < q->tail)
			free(q->m[q->head++]);
	p->a->out = p->b->out = NULL;
	free(p->ab);
	free(p->ba);
	p->ab = p->ba = NULL;
}

int fake_session(struct fake *a, struct fake *b)
{
	struct pair p;
	int rc = fake_connect(&p, a, b, 0);
	if (!rc)
		rc = fake_pump(&p);
	fake_disconnect(&p);
	return rc;
}

int fake_solo(struct fake *f, unsigned flags, const uint8_t peer[32], struct msgq *q)
{
	struct sync_io io;
	fake_io(f, &io);
	f->out = q;
	rebuild(f);
	return sync_init(&f->sync, flags, f->key, "solo", peer, &f->local, &io);
}

struct Agora__Wire__Message *q_msg(const struct msgq *q, size_t i)
{
	if (q->head + i >= q->tail)
		return NULL;
	return agora__wire__message__unpack(NULL, q->len[q->head + i], q->m[q->head + i]);
}

void q_clear(struct msgq *q)
{
	while (q->head < q->tail)
		free(q->m[q->head++]);
	q->head = q->tail = 0;
}

uint8_t *pack_msg(const struct Agora__Wire__Message *m, size_t *len)
{
	*len = agora__wire__message__get_packed_size(m);
	uint8_t *buf = FAKE_MALLOC(*len ? *len : 1);
	assert_non_null(buf);
	agora__wire__message__pack(m, buf);
	return buf;
}

int deliver(struct sync *e, const struct Agora__Wire__Message *m)
{
	size_t len;
	uint8_t *buf = pack_msg(m, &len);
	int rc = sync_receive(e, buf, len, 1000);
	free(buf);
	return rc;
}

int deliver_hello(struct sync *e, const uint8_t key[32], uint32_t lo, uint32_t hi,
                  const uint8_t (*alliances)[32], size_t n)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Hello h = AGORA__WIRE__HELLO__INIT;
	ProtobufCBinaryData ids[8];
	assert_true(n <= 8);
	h.has_version = true;
	h.version = lo;
	h.has_max_version = hi != 0;
	h.max_version = hi;
	h.has_node_key = true;
	h.node_key.data = (uint8_t *)key;
	h.node_key.len = 32;
	for (size_t i = 0; i < n; i++) {
		ids[i].data = (uint8_t *)alliances[i];
		ids[i].len = 32;
	}
	h.n_alliances = n;
	h.alliances = ids;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_HELLO;
	m.hello = &h;
	return deliver(e, &m);
}

const uint8_t SOLO_PEER[32] = { 0xbb, 0xbb };

struct solo *solo_new(const uint8_t alliance[32], unsigned flags, uint32_t lo, uint32_t hi,
                      unsigned feeds, uint64_t seqs)
{
	struct solo *o = FAKE_CALLOC(1, sizeof(*o));
	assert_non_null(o);
	fake_init(&o->f, 0xaa, alliance);
	for (unsigned i = 0; i < feeds; i++)
		give(&o->f, i, seqs);
	assert_int_equal(fake_solo(&o->f, flags, SOLO_PEER, &o->q), 0);
	if (!(flags & SYNC_AWAIT_REDEEM))
		assert_int_equal(sync_start(&o->f.sync), 0);
	if (lo)
		assert_int_equal(deliver_hello(&o->f.sync, SOLO_PEER, lo, hi,
		                               (const uint8_t (*)[32])alliance, 1), 0);
	q_clear(&o->q);
	return o;
}

void solo_free(struct solo *o)
{
	q_clear(&o->q);
	fake_free(&o->f);
	free(o);
}

size_t queued(const struct solo *o)
{
	return o->q.tail - o->q.head;
}

size_t queued_bytes(const struct solo *o)
{
	size_t n = 0;
	for (size_t i = o->q.head; i < o->q.tail; i++)
		n += o->q.len[i];
	return n;
}
