/*
 * meta_int.h - private to storage/: the typed meta records (meta.c) that
 * the writes in ingest.c read and change inside their own transaction.
 * The keys and encodings are listed at the top of meta.c.
 */
#ifndef AGORA_META_INT_H
#define AGORA_META_INT_H

#include "storage/store_int.h"

/* The own-feed floor of (alliance, author): 0 and *seq (0 if none), or an
 * error. */
int store_meta_floor(MDB_txn *txn, struct store *s, const uint8_t alliance[32],
                     const uint8_t author[32], uint64_t *seq);
/* Raise it to seq (never lowers it). */
int store_meta_floor_raise(MDB_txn *txn, struct store *s, const uint8_t alliance[32],
                           const uint8_t author[32], uint64_t seq);

/* The lowest conflicting seq of the own feed (alliance, author): 0 and
 * *seq (0 if none), or an error.  note keeps the lowest; clear drops it. */
int store_meta_conflict(MDB_txn *txn, struct store *s, const uint8_t alliance[32],
                        const uint8_t author[32], uint64_t *seq);
int store_meta_conflict_note(MDB_txn *txn, struct store *s, const uint8_t alliance[32],
                             const uint8_t author[32], uint64_t seq);
int store_meta_conflict_clear(MDB_txn *txn, struct store *s, const uint8_t alliance[32],
                              const uint8_t author[32]);

/* The expiry seq of (alliance, member): 0 and *seq, STORE_E_NOTFOUND if
 * none was noted, or an error.  note sets it; clear drops it (a renewal). */
int store_meta_expiry(MDB_txn *txn, struct store *s, const uint8_t alliance[32],
                      const uint8_t member[32], uint64_t *seq);
int store_meta_expiry_note(MDB_txn *txn, struct store *s, const uint8_t alliance[32],
                           const uint8_t member[32], uint64_t seq);
int store_meta_expiry_clear(MDB_txn *txn, struct store *s, const uint8_t alliance[32],
                            const uint8_t member[32]);

/* Forget the pending record (alliance, seq); 0 if there was none. */
int store_meta_pending_del(MDB_txn *txn, struct store *s, const uint8_t alliance[32],
                           uint64_t seq);

#endif
