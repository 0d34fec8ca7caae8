/*
 * mesh_fx.c - the helpers the peer-selection tests share (see mesh_fx.h),
 * moved unchanged from the one runner they were split from, made extern.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mesh_fx.h"

const uint8_t SELF[MESH_KEY_BYTES] = { 0xff, 0xff, 0xff, 0xff };

/* Key i: i big-endian in the first 4 bytes, so keys sort as numbers. */
void key_of(uint8_t key[MESH_KEY_BYTES], uint32_t i)
{
	memset(key, 0, MESH_KEY_BYTES);
	key[0] = (uint8_t)(i >> 24);
	key[1] = (uint8_t)(i >> 16);
	key[2] = (uint8_t)(i >> 8);
	key[3] = (uint8_t)i;
	key[31] = 0x5a;
}

uint32_t index_of(const uint8_t key[MESH_KEY_BYTES])
{
	return (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
}

/* n dialable candidates 0 .. n-1 in c (sorted). */
void candidates(struct mesh_candidate *c, size_t n)
{
	memset(c, 0, n * sizeof(*c));
	for (size_t i = 0; i < n; i++) {
		key_of(c[i].key, (uint32_t)i);
		c[i].dialable = true;
	}
}

struct mesh *new_mesh(const struct mesh_conf *conf, uint64_t seed)
{
	struct mesh *m = NULL;
	assert_int_equal(mesh_new(&m, conf, SELF, seed), 0);
	return m;
}

struct mesh_conf conf_default(void)
{
	struct mesh_conf c;
	mesh_conf_default(&c);
	return c;
}

/* One tick; the actions in a[], their number returned. */
size_t tick(struct mesh *m, uint64_t now, struct mesh_action *a)
{
	size_t n = 99;
	assert_int_equal(mesh_tick(m, now, a, 16, &n), 0);
	assert_true(n <= 16);
	return n;
}

size_t count_kind(const struct mesh_action *a, size_t n, enum mesh_action_kind kind)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += a[i].kind == kind;
	return k;
}

/* Tick, and open every dial as an outbound session whose peer has others. */
size_t tick_and_open(struct mesh *m, uint64_t now)
{
	struct mesh_action a[16];
	size_t n = tick(m, now, a), dials = 0;
	for (size_t i = 0; i < n; i++)
		if (a[i].kind == MESH_DIAL) {
			assert_int_equal(mesh_opened_peer(m, a[i].key, false, false, 3, now), 0);
			dials++;
		}
	return dials;
}

struct mesh_stats stats(const struct mesh *m, uint64_t now)
{
	struct mesh_stats st;
	mesh_stats(m, now, &st);
	return st;
}

/* Open inbound sessions from keys first .. first+n-1 (peers with others). */
void open_inbound(struct mesh *m, uint32_t first, unsigned n, uint64_t now)
{
	uint8_t key[MESH_KEY_BYTES];
	for (unsigned i = 0; i < n; i++) {
		struct mesh_verdict v;
		key_of(key, first + i);
		mesh_accept(m, &v, key, false, 3, now);
		assert_true(v.accept);
		assert_false(v.evict);
		assert_int_equal(mesh_opened_peer(m, key, true, false, 3, now), 0);
	}
}
