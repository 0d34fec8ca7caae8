/*
 * sync_lvec.c - key ranges, the local version vectors and the cache of
 * their range digests (see sync.h, proto/PROTOCOL.md 4.2).
 *
 * A range's digest is BLAKE2b over its entries in key order: it cannot be
 * composed from the digests of its parts, so a change anywhere in a range
 * means hashing the whole range again.  The cache keeps the digests of the
 * ranges of depth 0, 1 and 2 (the ones every Digest and the first turns of
 * every descent ask for), each computed once per change of its range and
 * shared by every session that reads the vector; deeper ranges hold about
 * F/256 feeds and are hashed when asked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/engine/sync_int.h"

int sync_nibble(const uint8_t *key, unsigned i)
{
	return i % 2 ? key[i / 2] & 0x0f : key[i / 2] >> 4;
}

void sync_range_bounds(uint8_t lo[32], uint8_t hi[32], const uint8_t *prefix, unsigned depth)
{
	memset(lo, 0, 32);
	memset(hi, 0xff, 32);
	for (unsigned i = 0; i < depth; i++) {
		int v = sync_nibble(prefix, i);
		if (i % 2) {
			lo[i / 2] = (uint8_t)((lo[i / 2] & 0xf0) | v);
			hi[i / 2] = (uint8_t)((hi[i / 2] & 0xf0) | v);
		} else {
			lo[i / 2] = (uint8_t)(v << 4);
			hi[i / 2] = (uint8_t)(v << 4 | 0x0f);
		}
	}
}

void sync_slice(const void *base, size_t n, size_t stride, const uint8_t *prefix,
                unsigned depth, size_t *lo_out, size_t *hi_out)
{
	uint8_t lo[32], hi[32];
	size_t a = 0, b = n;
	const uint8_t *p = base;

	sync_range_bounds(lo, hi, prefix, depth);
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

size_t sync_find(const void *base, size_t n, size_t stride, const uint8_t *key, bool *found)
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

bool sync_range_valid(const ProtobufCBinaryData *prefix, bool has_depth, uint32_t depth)
{
	if (!has_depth || depth > SYNC_DEPTH_MAX || prefix->len != (depth + 1) / 2)
		return false;
	if (depth % 2 && (prefix->data[depth / 2] & 0x0f))
		return false;
	return true;
}

uint64_t sync_lvec_seq(const struct sync_lvec *v, const uint8_t *author)
{
	bool found;
	if (!v)
		return 0;
	size_t i = sync_find(v->heads, v->n, sizeof(*v->heads), author, &found);
	return found ? v->heads[i].seq : 0;
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

/* ------------------------------------------------------ digest cache */

/* Cache slot of a range of depth <= 2: 0 the root, 1 + nibble, 17 + byte. */
static int dslot(const uint8_t *prefix, unsigned depth)
{
	if (depth == 0)
		return 0;
	if (depth == 1)
		return 1 + (prefix[0] >> 4);
	if (depth == 2)
		return 17 + prefix[0];
	return -1;
}

static void dforget(struct sync_dcache *c, int slot)
{
	c->valid[slot / 8] &= (uint8_t)~(1u << (slot % 8));
}

void sync_lvec_touch(struct sync_lvec *v)
{
	memset(v->dcache.valid, 0, sizeof(v->dcache.valid));
}

void sync_lvec_range(struct sync_lvec *v, const uint8_t *prefix, unsigned depth,
                     uint8_t digest[32], size_t *count)
{
	size_t lo = 0, hi = 0;
	int slot = dslot(prefix, depth);

	if (v)
		sync_slice(v->heads, v->n, sizeof(*v->heads), prefix, depth, &lo, &hi);
	*count = hi - lo;
	if (!v || slot < 0) {
		sync_digest(digest, v ? v->heads + lo : NULL, hi - lo);
		return;
	}
	struct sync_dcache *c = &v->dcache;
	if (!(c->valid[slot / 8] & (1u << (slot % 8)))) {
		sync_digest(c->dig[slot], v->heads + lo, hi - lo);
		c->valid[slot / 8] |= (uint8_t)(1u << (slot % 8));
	}
	memcpy(digest, c->dig[slot], 32);
}

int sync_lvec_set(struct sync_lvec *v, const uint8_t author[SYNC_KEY_BYTES], uint64_t seq,
                  const uint8_t id[SYNC_KEY_BYTES])
{
	bool found;
	size_t i = sync_find(v->heads, v->n, sizeof(*v->heads), author, &found);

	if (!found) {
		if (v->n >= v->cap) {
			size_t cap = v->n < 8 ? 16 : v->n * 2;
			struct sync_head *h = realloc(v->heads, cap * sizeof(*h));
			if (!h)
				return -ENOMEM;
			v->heads = h;
			v->cap = cap;
		}
		if (v->n > i)
			memmove(&v->heads[i + 1], &v->heads[i], (v->n - i) * sizeof(*v->heads));
		memset(&v->heads[i], 0, sizeof(v->heads[i]));
		memcpy(v->heads[i].author, author, 32);
		v->n++;
	}
	v->heads[i].seq = seq;
	memcpy(v->heads[i].id, id, 32);
	dforget(&v->dcache, 0);
	dforget(&v->dcache, 1 + (author[0] >> 4));
	dforget(&v->dcache, 17 + author[0]);
	return 0;
}
