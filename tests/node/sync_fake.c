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
		struct sync_head *h = &f->lv.heads[f->lv.n++];
		memcpy(h->author, f->feeds[i].author, 32);
		h->seq = f->feeds[i].n;
		crypto_generichash(h->id, 32, f->feeds[i].env[h->seq - 1], 48, NULL, 0);
	}
	qsort(f->lv.heads, f->lv.n, sizeof(*f->lv.heads), cmp_head);
	memcpy(f->lv.alliance, f->alliance, 32);
	f->local.v = &f->lv;
	f->local.n = 1;
}

int io_send(void *ctx, const uint8_t *msg, size_t len)
{
	struct fake *f = ctx;
	struct msgq *q = f->out;
	Agora__Wire__Message *m = agora__wire__message__unpack(NULL, len, msg);
	assert_non_null(m);
	f->type_count[m->msg_case]++;
	agora__wire__message__free_unpacked(m, NULL);
	assert_true(q->tail < 4096);
	q->m[q->tail] = FAKE_MALLOC(len ? len : 1);
	memcpy(q->m[q->tail], msg, len);
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
	struct feed *fd = feed_get(f, author, true);
	(void)alliance;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(lens[i], 48);
		assert_memory_equal(envs[i], author, 32);
		if (first_seq + i == fd->n + 1) {   /* chains: store it */
			feed_append(fd);
			f->records_got++;
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
