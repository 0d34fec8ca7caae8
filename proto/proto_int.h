/*
 * proto_int.h - helpers shared inside agora_proto only.  Not a contract.
 */
#ifndef AGORA_PROTO_INT_H
#define AGORA_PROTO_INT_H

#include "proto/proto.h"

/*
 * Fill err (if non-NULL) with code, field path and a printf-formatted
 * message, and return code, so callers can write `return proto_fail(...)`.
 */
int proto_fail(struct proto_error *err, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Walk record bytes and check the canonical rule of PROTOCOL.md 1.2 on every
 * field, known or not (canonical.c).  0, or PROTO_E_DECODE (err says why).
 * On 0, *unknown (if not NULL) tells whether any field this build does not
 * define was seen.  Needs no decoding; reads only bytes[0..len).
 */
int proto_record_walk(const uint8_t *bytes, size_t len, bool *unknown, struct proto_error *err);

/*
 * The second opinion on a record that passed the walk: rec is bytes[0..len)
 * decoded, and `unknown` what the walk said.  A record without unknown
 * fields must pack back to exactly its bytes (protobuf-c packs unknown fields
 * last, so a record with them cannot be judged this way).  0 or
 * PROTO_E_DECODE (err says why); PROTO_E_NOMEM if a buffer cannot be
 * allocated.  Built with AGORA_NO_FORWARD_COMPAT, a record with any unknown
 * field is PROTO_E_DECODE (what agora did before records could grow).
 */
int proto_record_reencodes(const Agora__Record *rec, const uint8_t *bytes, size_t len,
                           bool unknown, struct proto_error *err);

/* Is this decoded record the one and only encoding of itself?  The walk,
 * then proto_record_reencodes(). */
int proto_record_canonical(const Agora__Record *rec, const uint8_t *bytes, size_t len,
                           struct proto_error *err);

/* Does the message tree carry a field this build does not define, at any depth? */
bool proto_message_has_unknown(const ProtobufCMessage *m);

/*
 * The rules of an Endpoint body (endpoint.c): 0, or PROTO_E_FIELD with the
 * field path from "endpoint" ("endpoint.addresses[2]") in err.
 */
int proto_endpoint_check(const Agora__Endpoint *e, struct proto_error *err);

/*
 * The body rules of a kind this build knows (PROTOCOL.md 1.5, by kind) on
 * its message m, with paths from the kind name; rec is the record holding
 * it (a Charter's rules read its author).  0, PROTO_E_FIELD or PROTO_E_KIND
 * (err says why).
 */
int proto_body_check(enum proto_kind kind, const ProtobufCMessage *m, const Agora__Record *rec,
                     struct proto_error *err);

/*
 * Validation as proto_envelope_open applies it (validate.c): what
 * proto_record_validate checks, except that the body of a content kind
 * added after version 1 (29..63) that breaks its rules, or that a Supersede
 * may not carry, does not refuse the record (PROTOCOL.md 7.4 item 8):
 * proto_record_newer() then says PROTO_NEWER_UNREADABLE.
 */
int proto_record_validate_carry(const Agora__Record *rec, uint64_t now_ms,
                                struct proto_error *err);

/* The Record.body field of a kind this build defines, or NULL (kind.c). */
const ProtobufCFieldDescriptor *proto_kind_field(enum proto_kind kind);

#endif
