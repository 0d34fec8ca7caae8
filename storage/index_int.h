/* index_int.h - private to storage/: index keys of one record. */
#ifndef AGORA_INDEX_INT_H
#define AGORA_INDEX_INT_H

#include "storage/fts_int.h"

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
/* Write the collected ix postings for rowkey and queue its full-text
 * postings in fb (written by fts_batch_apply at the end of the txn). */
int index_put(MDB_txn *txn, struct store *s, struct index_keys *ik, uint64_t rowkey,
              struct fts_batch *fb);
void index_keys_dispose(struct index_keys *ik);

#endif
