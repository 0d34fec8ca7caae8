/*
 * unread_int.h - private to storage/: the records a build carries without
 * reading them whole (PROTOCOL.md 7.2), and how a later build indexes them
 * on open (unread.c).
 *
 *   unread   stamp(8) | rowkey(8) -> why(1): every stored record (not fork
 *            evidence) that the build named by the stamp indexed without
 *            reading it whole: a content kind it does not know, or fields
 *            or codes of a newer version (why: those PROTO_NEWER_* flags).
 *            Written in the transaction that stores the record.
 *
 * A stamp names what a build reads (store_unread_stamp): a hash of the
 * record schema it was compiled with (every message, field and enum value
 * reachable from Record) and of STORE_READ_VERSION.  The stamp is in each
 * note's key, not once in meta, because agora and agorad of two versions
 * may share a store for a while (an upgraded CLI beside an agorad not yet
 * restarted): each open finds the notes any other build wrote, and skips
 * its own with one seek.
 *
 * A read-write open re-reads the notes of every other stamp (and only
 * those), indexes what it now reads, and notes again under its own stamp
 * what it still does not read whole; in transactions of UNREAD_BATCH
 * records, each of which moves its notes and their index entries together,
 * so an open that stops half way leaves a consistent store and the next
 * open goes on where it stopped.  A store with no note of another stamp
 * opens without reading any record.
 */
#ifndef AGORA_UNREAD_INT_H
#define AGORA_UNREAD_INT_H

#include "storage/store_int.h"

/* Raise when index.c starts reading a part of a record that the schema
 * already defined (so a build of the same schema reads more): the stamp
 * changes, and the notes are re-read. */
#define STORE_READ_VERSION 1
#define UNREAD_KEY 16           /* stamp(8) | rowkey(8) */
#define UNREAD_BATCH 1000       /* records re-read per write transaction */

/*
 * What of rec this build (with s's test hooks) does not read whole: 0, or
 * PROTO_NEWER_KIND / _FIELDS / _CODES.  Records it can never read (a body
 * that breaks its kind's rules, PROTO_NEWER_UNREADABLE) give 0: no later
 * build reads them either.  *reads_content (may be NULL) says whether the
 * indexes may read rec's body at all: false for a kind this build does not
 * know, a body it must not read, or a kind the test hooks forget.
 */
unsigned store_unread_why(const struct store *s, const Agora__Record *rec, bool *reads_content);

/* Compute s->read_stamp (with s->hooks): once, at open. */
void store_unread_stamp(struct store *s);

/* Note record rk (just stored, not fork evidence) under this build's
 * stamp when why != 0.  0 or a fatal code. */
int store_unread_note(MDB_txn *txn, struct store *s, uint64_t rk, unsigned why);

/* The unread DBI was just created (a store made before it existed): note
 * every stored record this build does not read whole.  Reads every
 * record once.  0 or a fatal code. */
int store_unread_scan(MDB_txn *txn, struct store *s);

/* Re-read the notes of other stamps, in write transactions (see above),
 * counting into s->reread.  Called by store_open after its first write.
 * 0 or an error (the store stays consistent; the next open goes on; the
 * open does not fail). */
int store_unread_settle(struct store *s);

#endif
