/*
 * endpoint_int.h - private to storage/: the endpoint index (endpoint.c),
 * kept by the writes in ingest.c and own.c inside their own transaction.
 *
 *   endp   alliance(32) | author(32) -> seq(8) | rowkey(8) of the author's
 *          newest readable Endpoint record in that alliance (the one with
 *          the highest seq: a feed is stored in seq order, so the last one
 *          stored).
 */
#ifndef AGORA_ENDPOINT_INT_H
#define AGORA_ENDPOINT_INT_H

#include "storage/store_int.h"

#define ENDP_VAL 16     /* seq(8) | rowkey(8) */

/*
 * rec was just stored in its feed under rowkey rk: if it is a readable
 * Endpoint (its own body, not PROTO_NEWER_UNREADABLE), it becomes the
 * author's endpoint in alliance.  Any other record: nothing.  0 or a
 * fatal code.
 */
int store_endpoint_note(MDB_txn *txn, struct store *s, const Agora__Record *rec,
                        const uint8_t alliance[PROTO_ID_BYTES], uint64_t rk);

/*
 * The feed (alliance, author) lost records from its end (store_own_withdraw):
 * point the index at the newest readable Endpoint still in the feed, or
 * drop the entry.  Walks the feed from its head down: for the own feed
 * only, at recovery.  0 or a fatal code.
 */
int store_endpoint_reset(MDB_txn *txn, struct store *s, const uint8_t alliance[PROTO_ID_BYTES],
                         const uint8_t author[PROTO_KEY_BYTES]);

/*
 * Build the index, and the hide entries of kind 29, from the records of
 * kind 29 already stored (layout 5 -> 6: a store that carried them unread
 * before it knew the kind).  Reads the kind index only.  0 or a fatal code.
 */
int store_endpoint_rebuild(MDB_txn *txn, struct store *s);

/*
 * rec, stored under rk, was indexed again (unread.c: a build that now
 * reads it): if it is a readable Endpoint newer (by seq) than the one the
 * index names for its author, it becomes that one.  Any other record:
 * nothing.  0 or a fatal code.
 */
int store_endpoint_offer(MDB_txn *txn, struct store *s, const Agora__Record *rec,
                         const uint8_t alliance[PROTO_ID_BYTES], uint64_t rk);

#endif
