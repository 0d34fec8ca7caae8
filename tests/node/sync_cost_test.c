/*
 * sync_cost_test.c - what a message costs the sync engine, counted.
 *
 * This executable defines malloc & co. (forwarding to glibc's) and
 * crypto_generichash_update (forwarding to libsodium's), so every
 * allocation - protobuf-c's included - and every byte hashed is counted.
 * Under AddressSanitizer, whose runtime owns malloc, the counting tests
 * are skipped (the others still run there).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "node/engine/sync.h"
#include "wire.pb-c.h"

#if defined(__SANITIZE_ADDRESS__)
#define COUNTING 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNTING 0
#endif
#endif
#ifndef COUNTING
#define COUNTING 1
#endif

/* ----------------------------------------------------------- counting */

static long long live, peak;     /* bytes held since counting began */
static unsigned long long hashed;
static int counting;

#if COUNTING
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

static void took(void *p)
{
	if (p && counting) {
		live += (long long)malloc_usable_size(p);
		if (live > peak)
			peak = live;
	}
}

static void gave(void *p)
{
	if (p && counting)
		live -= (long long)malloc_usable_size(p);
}

void *malloc(size_t n)
{
	void *p = __libc_malloc(n);
	took(p);
	return p;
}

void *calloc(size_t n, size_t size)
{
	void *p = __libc_calloc(n, size);
	took(p);
	return p;
}

void *realloc(void *old, size_t n)
{
	long long was = old ? (long long)malloc_usable_size(old) : 0;
	void *p = __libc_realloc(old, n);
	if (p && counting)
		live -= was;
	took(p);
	return p;
}

void free(void *p)
{
	gave(p);
	__libc_free(p);
}
#endif

int crypto_generichash_update(crypto_generichash_state *st, const unsigned char *in,
                              unsigned long long inlen)
{
	static int (*real)(crypto_generichash_state *, const unsigned char *, unsigned long long);
	if (!real)
		real = (int (*)(crypto_generichash_state *, const unsigned char *,
		                unsigned long long))dlsym(RTLD_NEXT, "crypto_generichash_update");
	hashed += inlen;
	return real(st, in, inlen);
}

static void count_start(void)
{
	live = peak = 0;
	counting = 1;
}

static long long count_stop(void)
{
	counting = 0;
	return peak;
}

/* ------------------------------------------------------------- engine */

static const uint8_t ALLIANCE[32] = { 0xa1 }, SELF[32] = { 0xaa }, PEER[32] = { 0xbb };

struct box {
	struct sync s;
	struct sync_local local;
	struct sync_lvec lv;
	size_t sent, sent_bytes;
};

static int io_send(void *ctx, const uint8_t *msg, size_t len)
{
	struct box *b = ctx;
	(void)msg;
	b->sent++;
	b->sent_bytes += len;
	return 0;
}

static int io_read(void *ctx, const uint8_t alliance[32], const uint8_t author[32],
                   uint64_t seq, const uint8_t **env, size_t *len)
{
	(void)ctx; (void)alliance; (void)author; (void)seq; (void)env; (void)len;
	return -1;
}

static int io_records(void *ctx, const uint8_t alliance[32], const uint8_t author[32],
                      uint64_t first_seq, const uint8_t *const *envs, const size_t *lens,
                      size_t n)
{
	(void)ctx; (void)alliance; (void)author; (void)first_seq; (void)envs; (void)lens; (void)n;
	return 0;
}

static int head_cmp(const void *x, const void *y)
{
	return memcmp(x, y, 32);
}

/* `feeds` heads with keys BLAKE2b(i), seq 1. */
static void lvec_fill(struct sync_lvec *v, size_t feeds)
{
	memset(v, 0, sizeof(*v));
	memcpy(v->alliance, ALLIANCE, 32);
	v->heads = calloc(feeds + 1, sizeof(*v->heads));
	assert_non_null(v->heads);
	for (size_t i = 0; i < feeds; i++) {
		uint32_t k = (uint32_t)i;
		crypto_generichash(v->heads[i].author, 32, (const uint8_t *)&k, 4, NULL, 0);
		v->heads[i].seq = 1;
	}
	qsort(v->heads, feeds, sizeof(*v->heads), head_cmp);
	v->n = v->cap = feeds;
}

/* An engine (acceptor) over `local`, after a version-2 Hello. */
static void box_open(struct box *b, struct sync_local *local)
{
	struct sync_io io = { .ctx = b, .send = io_send, .read = io_read, .records = io_records };
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Hello h = AGORA__WIRE__HELLO__INIT;
	ProtobufCBinaryData id = { 32, (uint8_t *)ALLIANCE };
	uint8_t buf[128];
	assert_int_equal(sync_init(&b->s, 0, SELF, "cost", PEER, local, &io), 0);
	assert_int_equal(sync_start(&b->s), 0);
	h.has_version = h.has_max_version = h.has_node_key = true;
	h.version = 1;
	h.max_version = 2;
	h.node_key.data = (uint8_t *)PEER;
	h.node_key.len = 32;
	h.n_alliances = 1;
	h.alliances = &id;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_HELLO;
	m.hello = &h;
	size_t n = agora__wire__message__pack(&m, buf);
	assert_int_equal(sync_receive(&b->s, buf, n, 1000), 0);
}

/* Message field `outer` holding `n` fields of number `field`, each of
 * `each` zero bytes (wire type 2): 8 MiB of empty sub-messages and such. */
static uint8_t *flood(uint8_t outer, uint8_t field, size_t n, size_t *len)
{
	size_t body = n * 2, k = 0;
	uint8_t *b = malloc(body + 16);
	assert_non_null(b);
	b[k++] = (uint8_t)(outer << 3 | 2);
	for (size_t v = body;; v >>= 7) {
		b[k++] = (uint8_t)((v & 0x7f) | (v >> 7 ? 0x80 : 0));
		if (!(v >> 7))
			break;
	}
	for (size_t i = 0; i < n; i++) {
		b[k++] = (uint8_t)(field << 3 | 2);
		b[k++] = 0;
	}
	*len = k;
	return b;
}

/* ------------------------------------------------------------- tests */

#define FLOOD_N (4u << 20)   /* 4 Mi fields of 2 bytes: an 8 MiB message */

/* 8 MiB of empty sub-messages or unknown fields is refused by the walk
 * for the cost of the walk; protobuf-c alone would spend hundreds of MB. */
static void test_sync_cost__eight_mib_of_empty_fields_costs_a_few_kb(void **state)
{
	static const struct { uint8_t outer, field; int rc; } cases[] = {
		{ 5, 4, SYNC_E_LIMIT },    /* Records: 4 Mi empty envelopes */
		{ 3, 3, SYNC_E_LIMIT },    /* Ranges: 4 Mi empty Vectors */
		{ 3, 2, SYNC_E_LIMIT },    /* Ranges: 4 Mi empty Ranges */
		{ 7, 15, SYNC_E_LIMIT },   /* Ping: 4 Mi unknown fields */
	};
	(void)state;
	if (!COUNTING)
		skip();
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct box *b = calloc(1, sizeof(*b));
		struct sync_lvec lv;
		struct sync_local local = { &lv, 1 };
		size_t len;
		lvec_fill(&lv, 40);
		box_open(b, &local);
		uint8_t *msg = flood(cases[c].outer, cases[c].field, FLOOD_N, &len);
		assert_true(len > 8000000);
		count_start();
		int rc = sync_receive(&b->s, msg, len, 1000);
		long long cost = count_stop();
		print_message("8 MiB flood %zu: refused (%d) for %lld bytes\n", c, rc, cost);
		assert_int_equal(rc, cases[c].rc);
		assert_true(cost < 16 * 1024);
		free(msg);
		sync_dispose(&b->s);
		free(lv.heads);
		free(b);
	}
	/* What the walk saves: protobuf-c on a 1/16 of the same (Ranges of
	 * 256 Ki empty Vectors), with no walk in front. */
	size_t len;
	uint8_t *msg = flood(3, 3, FLOOD_N / 16, &len);
	count_start();
	Agora__Wire__Message *m = agora__wire__message__unpack(NULL, len, msg);
	long long cost = count_stop();
	assert_non_null(m);
	agora__wire__message__free_unpacked(m, NULL);
	print_message("protobuf-c alone on 512 KiB of empty Vectors: %lld bytes\n", cost);
	assert_true(cost > 20 * (long long)len);
	free(msg);
}

/* A Digest costs one BLAKE2b pass over the vector per change of the
 * vector, shared by the sessions reading it: the second session's Digest
 * hashes (almost) nothing, a changed head makes the next one hash again. */
static void test_sync_cost__digest_is_hashed_once_per_change(void **state)
{
	enum { FEEDS = 12000 };
	struct sync_lvec lv;
	struct sync_local local = { &lv, 1 };
	struct box *b1 = calloc(1, sizeof(*b1)), *b2 = calloc(1, sizeof(*b2));
	uint8_t id[32] = { 1 }, pkt[256];
	(void)state;
	lvec_fill(&lv, FEEDS);
	box_open(b1, &local);
	box_open(b2, &local);

	/* The peer's Digest of an equal vector. */
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Digest d = AGORA__WIRE__DIGEST__INIT;
	Agora__Wire__Range r = AGORA__WIRE__RANGE__INIT;
	uint8_t dig[32], pfx[1] = { 0 };
	sync_digest(dig, lv.heads, lv.n);
	r.has_prefix = r.has_depth = r.has_digest = r.has_count = true;
	r.prefix.data = pfx;
	r.digest.data = dig;
	r.digest.len = 32;
	r.count = FEEDS;
	d.has_alliance = d.has_exchange = true;
	d.alliance.data = (uint8_t *)ALLIANCE;
	d.alliance.len = 32;
	d.exchange = 1;
	d.root = &r;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_DIGEST;
	m.digest = &d;
	size_t n = agora__wire__message__pack(&m, pkt);

	unsigned long long h0 = hashed;
	assert_int_equal(sync_receive(&b1->s, pkt, n, 1000), 0);
	unsigned long long first = hashed - h0;
	h0 = hashed;
	d.exchange = 3;
	n = agora__wire__message__pack(&m, pkt);
	assert_int_equal(sync_receive(&b2->s, pkt, n, 1000), 0);
	unsigned long long second = hashed - h0;
	print_message("Digest of 12,000 feeds: %llu bytes hashed, then %llu\n", first, second);
	assert_true(first >= FEEDS * 72ull);
	assert_true(second < 1024);

	/* A head moves: the next Digest hashes the vector again. */
	assert_int_equal(sync_lvec_set(&lv, lv.heads[77].author, 2, id), 0);
	sync_digest(dig, lv.heads, lv.n);
	h0 = hashed;
	d.exchange = 5;
	n = agora__wire__message__pack(&m, pkt);
	assert_int_equal(sync_receive(&b1->s, pkt, n, 1000), 0);
	assert_true(hashed - h0 >= FEEDS * 72ull);
	/* Both answered "equal": an empty Ranges. */
	assert_int_equal(b1->sent, 3);
	sync_dispose(&b1->s);
	sync_dispose(&b2->s);
	free(lv.heads);
	free(b1);
	free(b2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_cost__eight_mib_of_empty_fields_costs_a_few_kb),
		cmocka_unit_test(test_sync_cost__digest_is_hashed_once_per_change),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
