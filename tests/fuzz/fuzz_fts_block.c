/*
 * fuzz_fts_block.c - the full-text posting block decoder on arbitrary
 * bytes.  Blocks come from the store, which a damaged disk can corrupt, so
 * the decoder must never read or write out of bounds, and whatever it
 * accepts must be a well-formed posting list: at least one posting, at
 * most cap, the first at the key's rowkey, rowkeys strictly increasing.
 *
 * Input: byte 0 picks the cap (small caps exercise the overflow check)
 * and, in its top bit, the layout (5 or older: postings without next),
 * bytes 1..8 the key's first rowkey (big-endian), the rest is the block.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/fts_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 9)
		return 0;
	size_t cap = (data[0] & 0x7f) < 16 ? (size_t)(data[0] & 0x7f) + 1 : FTS_BLOCK_POSTS;
	uint64_t first = store_get64(data + 1);
	/* an exact-size copy, so that a read past the end is caught */
	size_t len = size - 9;
	uint8_t *block = malloc(len ? len : 1);
	struct fts_post *posts = malloc(cap * sizeof *posts);
	if (!block || !posts)
		abort();
	memcpy(block, data + 9, len);
	uint64_t df = UINT64_MAX;
	size_t n = SIZE_MAX;
	int rc = fts_block_decode(block, len, first, data[0] & 0x80, &df, posts, cap, &n);
	if (rc == 0) {
		if (n == 0 || n > cap || posts[0].rk != first)
			abort();
		for (size_t i = 1; i < n; i++)
			if (posts[i].rk <= posts[i - 1].rk)
				abort();
	} else if (rc != STORE_E_CORRUPT || n != SIZE_MAX || df != UINT64_MAX) {
		abort();    /* the only error, and out-params untouched */
	}
	free(block);
	free(posts);
	return 0;
}
