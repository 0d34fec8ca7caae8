/*
 * ingest_int.h - private to storage/: the write that stores records.
 * store_ingest_one (ingest.c) checks and stores one record; store_ingest
 * (verify.c), store_publish (publish.c) and store_ingest_fork (forks.c)
 * run it inside their writes, with a store_wctx for the write's state.
 */
#ifndef AGORA_INGEST_INT_H
#define AGORA_INGEST_INT_H

#include "storage/index_int.h"
#include "storage/log_int.h"

/* The state of one write that stores records (zero-initialise, set s). */
struct store_wctx {
	struct store *s;
	MDB_txn *txn;
	struct index_keys ik;
	struct fts_batch fb;    /* full-text postings of this txn, applied at its end */
	struct ix_batch xb;     /* ix postings of this txn, applied at its end */
	struct store_moves moves;   /* feeds this txn moved, logged at its end */
	uint64_t now_ms;            /* the node's clock for the item being stored */
	/* the alliance whose charter was looked up last in this txn: nearly
	 * every record of a batch names the same one */
	bool ch_valid;
	uint8_t ch_id[PROTO_ID_BYTES];
	uint64_t ch_rk;
};

/* Start a write in txn, or start it again (store_write reruns a write
 * after a map growth: everything of the last run is dropped). */
void store_wctx_begin(struct store_wctx *w, MDB_txn *txn);
/* At the end of the write: apply the ix and full-text postings, log the
 * feeds it moved.  0 or a fatal code. */
int store_wctx_finish(struct store_wctx *w);
void store_wctx_dispose(struct store_wctx *w);

/*
 * Store one opened (verified or just signed) record whose id is id, as of
 * w->now_ms.  Returns STORE_NEW, STORE_KNOWN, STORE_FORKED, a rejection
 * code (PROTO_E_SEQ, PROTO_E_PREV, STORE_E_*), or a fatal code (see
 * store_ingest_fatal).  A rejected item leaves the transaction as it was,
 * except for what the rules write on purpose (an own feed's floor or
 * conflict, a member's expiry seq: storage.h).  A record this build does
 * not read whole (a kind or fields of a newer version) is noted in the
 * same transaction, for a later build to index (unread_int.h).
 */
int store_ingest_one(struct store_wctx *w, const Agora__Record *rec, const uint8_t *env,
                     size_t len, const uint8_t id[PROTO_ID_BYTES]);
/* Codes that abort the whole transaction rather than reject one item. */
bool store_ingest_fatal(int rc);

/* May a new fork record at forks key (alliance | author | seq(8)) be kept?
 * *room is false if that seq has a proof already or the author or the
 * alliance has its STORE_FORKS_PER_* proofs (forks.c).  0 or a fatal
 * code. */
int store_fork_room(MDB_txn *txn, struct store *s, const uint8_t key[72], bool *room);

#endif
