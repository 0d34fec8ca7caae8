/*
 * log_int.h - private to storage/: the change log and fork numbers
 * (log.c), used by the writes in ingest.c.
 *
 *   log      write number(8) -> one entry per feed the write moved:
 *            alliance(32) | author(32) | head seq before the write(8) |
 *            flags(1) (1: a governance record was stored in that feed).
 *            The last STORE_LOG_KEEP writes that moved a feed.
 *   forkno   fork number(8) -> alliance(32) | author(32) | seq(8) |
 *            rowkey of the fork record(8): every fork proof, numbered in
 *            the order it was stored.
 */
#ifndef AGORA_LOG_INT_H
#define AGORA_LOG_INT_H

#include "storage/store_int.h"

#define FORKNO_VAL 80

/* One feed moved by the current write. */
struct store_move {
	uint8_t key[64];            /* alliance | author */
	uint64_t from_seq;          /* its head before the first move */
	bool governance;
};

/* The feeds a write moved, each once (a hash table over v). */
struct store_moves {
	struct store_move *v;
	size_t n, cap;
	uint32_t *slots;            /* index + 1 into v; 0: empty */
	size_t nslots;              /* a power of two, at least 2 n */
};

/* Note that feed (alliance, author) moved from from_seq (kept only the
 * first time) and whether a governance record went into it.  0 or
 * -ENOMEM. */
int store_moves_note(struct store_moves *m, const uint8_t alliance[32], const uint8_t author[32],
                     uint64_t from_seq, bool governance);
void store_moves_reset(struct store_moves *m);     /* for a write run again */
void store_moves_dispose(struct store_moves *m);

/* At the end of a write: log the feeds it moved under the next write
 * number (nothing if none moved) and drop the entry that leaves the
 * window. */
int store_log_append(MDB_txn *txn, struct store *s, const struct store_moves *m);

/* Give a newly stored fork record the next fork number.  key is its forks
 * key: alliance | author | seq(8). */
int store_fork_number(MDB_txn *txn, struct store *s, const uint8_t key[72], uint64_t rowkey);
/* A store whose forks were stored before forkno existed: number them all,
 * in forks key order (store_open, read-write). */
int store_fork_number_all(MDB_txn *txn, struct store *s);

#endif
