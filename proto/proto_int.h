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
 * Is this decoded record the one and only encoding of itself?  0 when the
 * message tree holds no unknown field and packing it reproduces bytes[0..len)
 * exactly; PROTO_E_DECODE otherwise (err says why), -ENOMEM/PROTO_E_NOMEM
 * if a buffer cannot be allocated.
 */
int proto_record_canonical(const Agora__Record *rec, const uint8_t *bytes, size_t len,
                           struct proto_error *err);

#endif
