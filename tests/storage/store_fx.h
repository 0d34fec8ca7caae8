/* store_fx.h - what the store behaviour tests (store_ingest_test.c,
 * store_edit_test.c) share beyond helper.h: their fixture, which ingests
 * no charter, the store's counts, and queries collected as ids. */
#ifndef AGORA_TEST_STORE_FX_H
#define AGORA_TEST_STORE_FX_H

#include <stddef.h>
#include <stdint.h>

#include "helper.h"

/* th_fx, but the charter is not ingested: the tests ingest it themselves
 * (th_fx_teardown frees it). */
int setup(void **state);

struct store_stats stats_of(struct store *s);

/* Collect query hits as ids. */
struct ids {
	uint8_t id[64][PROTO_ID_BYTES];
	double score[64];
	size_t n;
};

int collect_hit(const struct store_hit *h, void *ctx);
int collect_rec(const struct store_record *r, void *ctx);
struct ids run_query(struct store *s, const struct store_query *q);
struct ids text_query(struct store *s, const char *text);

#endif
