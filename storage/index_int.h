/* index_int.h - private to storage/: index keys of one record. */
#ifndef AGORA_INDEX_INT_H
#define AGORA_INDEX_INT_H

#include "storage/store_int.h"

#define STORE_YEARS_MAX 60  /* a measure's start..end is indexed up to this span */

/* Reusable buffers; zero-initialise, index_keys_dispose() when done. */
struct index_keys {
	uint8_t *keys;      /* len(2) | ix key, repeated */
	size_t keys_len, keys_cap;
	uint8_t *words;     /* NUL-terminated folded words, repeated */
	size_t words_len, words_cap;
	size_t nwords;      /* = document length for BM25 */
};

/* Collect the ix keys and words of rec (content of a Supersede). */
int index_collect(struct index_keys *ik, const Agora__Record *rec,
                  const uint8_t alliance[PROTO_ID_BYTES]);
/* Write the collected postings for rowkey. */
int index_put(MDB_txn *txn, struct store *s, struct index_keys *ik, uint64_t rowkey);
void index_keys_dispose(struct index_keys *ik);

#endif
