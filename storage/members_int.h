/*
 * members_int.h - private to storage/: alliance membership derived from the
 * governance records (members.c), hooked into ingest_one() in ingest.c.
 *
 * Membership lives in the meta DBI, written in the same transaction as the
 * governance record that changes it, so a batch may carry an Admission and
 * then the admitted key's records:
 *   "policy/<alliance hex>"               -> policy(1) | threshold(4)
 *   "member/<alliance hex>/<key hex>"     -> MEMBER_HDR | name | 0 | country | 0
 *   "vote/<alliance hex>/<key hex>/<coordinator hex>" -> the same value: one
 *                                           coordinator's Admission under a
 *                                           k-of-n policy, until k agree
 */
#ifndef AGORA_MEMBERS_INT_H
#define AGORA_MEMBERS_INT_H

#include "storage/store_int.h"

/* recs header flag: hidden because its author was revoked before its seq.
 * Set together with REC_F_RETRACTED so that every query skips it. */
#define REC_F_REVOKED 0x08

/*
 * May rec (of content kind `kind`, in `alliance`) be stored, at the node's
 * wall-clock now_ms, with its author's feed at `head`?  0, or
 * STORE_E_NOT_MEMBER, STORE_E_ROLE, STORE_E_REVOKED, STORE_E_EXPIRED,
 * PROTO_E_SIGNATURE (a KeyRotation whose new-key signature is wrong), or a
 * fatal LMDB code.  The charter itself always passes.  Writes one thing:
 * when now_ms is at or past the author's admission expiry and no expiry
 * seq is noted yet, it notes `head` (meta.c "expiry/"), even if the record
 * is then refused.
 */
int store_member_check(MDB_txn *txn, struct store *s, const Agora__Record *rec,
                       const uint8_t *alliance, int kind, uint64_t now_ms, uint64_t head);

/*
 * Apply a stored governance record (Charter, Admission, Revocation,
 * KeyRotation) to the membership tables, and hide the stored records a
 * Revocation invalidates.  Any other kind is a no-op.  0 or a fatal code.
 */
int store_member_apply(MDB_txn *txn, struct store *s, const Agora__Record *rec,
                       const uint8_t *alliance, int kind);

#endif
