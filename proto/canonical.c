/*
 * canonical.c - the one byte form of a record (PROTOCOL.md 1.2).
 *
 * A record's bytes are signed and hashed, so exactly one encoding of each
 * record may exist.  While records could hold only the fields of this
 * schema, "decode, re-encode, compare" was the whole check.  Records may now
 * carry fields and kinds of newer versions, and protobuf-c keeps those but
 * packs them after the known fields of their message, so a record whose
 * newer field sits in its ascending place would re-encode differently.  The
 * walker below checks the rules on the bytes themselves, for every field,
 * known or not: known fields by their descriptors, unknown ones by their wire
 * type alone.  For a record without unknown fields the re-encoding is still
 * compared, as a second opinion; tests/fuzz/fuzz_envelope.c holds both to
 * the same verdict.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "proto/proto_int.h"

#define FIELD_MAX ((1u << 29) - 1)  /* protobuf's largest field number */
#define ONEOFS_MAX 8                /* distinct oneofs one message may have */

enum wire { WT_VARINT = 0, WT_64BIT = 1, WT_LEN = 2, WT_32BIT = 5 };

struct walk {
	struct proto_error *err;
	bool unknown;               /* a field this build does not define was seen */
};

static int bad(struct walk *w, const ProtobufCMessageDescriptor *d, uint32_t num, const char *why)
{
	return proto_fail(w->err, PROTO_E_DECODE, "",
	                  "the record is not in canonical encoding: %s field %u %s",
	                  d ? d->short_name : "in the body of a newer kind,", num, why);
}

/*
 * Read a minimal varint of at most 64 bits from p[0..n).  Returns the bytes
 * used, or 0 when it is cut short, longer than 10 bytes, wider than 64 bits,
 * or not minimal (a last byte 0x00 after a continuation byte spells a
 * shorter number a second way).
 */
static size_t varint_get(uint64_t *v, const uint8_t *p, size_t n)
{
	uint64_t x = 0;

	for (size_t i = 0; i < n && i < 10; i++) {
		uint8_t b = p[i];
		if (i == 9 && b > 1)
			return 0;
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			if (b == 0 && i > 0)
				return 0;
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

/* The wire type a known field of this type is written with. */
static unsigned wire_of(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return WT_64BIT;
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return WT_32BIT;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return WT_LEN;
	default:
		return WT_VARINT;
	}
}

/*
 * Is v the one encoding of a value of type t?  Minimality is checked
 * already; what is left is range: an encoder writes a uint32 in at most 32
 * bits, a bool as 0 or 1, and an int32 or enum as itself when it is not
 * negative and as the 64-bit two's complement (10 bytes) when it is.
 */
static bool varint_fits(ProtobufCType t, uint64_t v)
{
	switch (t) {
	case PROTOBUF_C_TYPE_BOOL:
		return v <= 1;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_SINT32:
		return v <= UINT32_MAX;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_ENUM:
		return v <= INT32_MAX || v >= (uint64_t)INT32_MIN;  /* sign-extended */
	default:
		return true;
	}
}

static bool is_body_holder(const ProtobufCMessageDescriptor *d)
{
	return d == &agora__record__descriptor || d == &agora__supersede__descriptor;
}

static int walk_message(struct walk *w, const ProtobufCMessageDescriptor *d,
                        const uint8_t *p, size_t n, unsigned depth);

/* One known field's value, at p[0..vlen) (for WT_LEN: the payload). */
static int known_value(struct walk *w, const ProtobufCMessageDescriptor *d,
                       const ProtobufCFieldDescriptor *f, unsigned wt, uint64_t v,
                       const uint8_t *p, size_t vlen, unsigned depth)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED && wt == WT_LEN && wire_of(f->type) != WT_LEN)
		return bad(w, d, f->id, "is packed (repeated fields are written one element per tag)");
	if (wt != wire_of(f->type))
		return bad(w, d, f->id, "has the wrong wire type");
	if (wt == WT_VARINT && !varint_fits(f->type, v))
		return bad(w, d, f->id, "holds a value out of its type's range");
	if (f->type == PROTOBUF_C_TYPE_STRING && memchr(p, 0, vlen))
		return bad(w, d, f->id, "is a string with a NUL byte");
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		return walk_message(w, f->descriptor, p, vlen, depth + 1);
	return 0;
}

/*
 * Check one message at p[0..n), d its descriptor, or NULL for a message of
 * a kind this build does not define (all its fields are then unknown, and
 * its length-delimited fields are opaque: a newer node checks inside them).
 */
static int walk_message(struct walk *w, const ProtobufCMessageDescriptor *d,
                        const uint8_t *p, size_t n, unsigned depth)
{
	unsigned oneofs[ONEOFS_MAX], noneofs = 0, bodies = 0;
	uint32_t last = 0;
	unsigned last_wt = 0;
	size_t i = 0;

	/* The schema is not recursive: Record > Supersede > Measure > Translation. */
	if (depth > 8)
		return bad(w, d, 0, "is nested too deeply");
	while (i < n) {
		uint64_t tag, v = 0;
		size_t k = varint_get(&tag, p + i, n - i), vlen;
		const ProtobufCFieldDescriptor *f;
		uint32_t num;
		unsigned wt;
		int rc;

		if (!k || tag > UINT32_MAX)
			return bad(w, d, last, "is followed by a malformed or non-minimal tag");
		i += k;
		num = (uint32_t)(tag >> 3);
		wt = (unsigned)(tag & 7);
		if (num == 0 || num > FIELD_MAX)
			return bad(w, d, num, "is not a valid field number");
		if (wt == 3 || wt == 4)
			return bad(w, d, num, "is a group (wire types 3 and 4 are not allowed)");
		if (wt != WT_VARINT && wt != WT_64BIT && wt != WT_LEN && wt != WT_32BIT)
			return bad(w, d, num, "has an undefined wire type");
		f = d ? protobuf_c_message_descriptor_get_field(d, num) : NULL;
		if (num < last)
			return bad(w, d, num, "is out of ascending order");
		/*
		 * A number may follow itself only as the next element of a
		 * repeated field.  Whether an unknown field is repeated cannot be
		 * known, so consecutive unknown fields of one number and one wire
		 * type are allowed: the newer schema says whether that is valid.
		 */
		if (num == last && (f ? f->label != PROTOBUF_C_LABEL_REPEATED : wt != last_wt))
			return bad(w, d, num, "is given twice");

		switch (wt) {
		case WT_VARINT:
			if (!(vlen = varint_get(&v, p + i, n - i)))
				return bad(w, d, num, "has a malformed or non-minimal varint");
			break;
		case WT_64BIT:
			vlen = 8;
			break;
		case WT_32BIT:
			vlen = 4;
			break;
		default:
			if (!(k = varint_get(&v, p + i, n - i)))
				return bad(w, d, num, "has a malformed or non-minimal length");
			i += k;
			vlen = (size_t)v;
			if (v > n - i)
				return bad(w, d, num, "has a length past the end of its message");
			break;
		}
		if (vlen > n - i)
			return bad(w, d, num, "is cut short");

		/* Record.body and Supersede.body: one kind, known or not. */
		if (is_body_holder(d) && num >= PROTO_KIND_FIRST && num <= PROTO_KIND_LAST) {
			if (num == last || ++bodies > 1)
				return bad(w, d, num, "is a second body (a record holds one kind)");
			if (wt != WT_LEN)
				return bad(w, d, num, "is a kind that is not a message");
		}
		if (f) {
			if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
				for (unsigned j = 0; j < noneofs; j++)
					if (oneofs[j] == f->quantifier_offset)
						return bad(w, d, num, "is a second member of a oneof");
				if (noneofs == ONEOFS_MAX)
					return bad(w, d, num, "is in too many oneofs");
				oneofs[noneofs++] = f->quantifier_offset;
			}
			if ((rc = known_value(w, d, f, wt, v, p + i, vlen, depth)) < 0)
				return rc;
		} else {
			w->unknown = true;
			if (is_body_holder(d) && num >= PROTO_KIND_FIRST && num <= PROTO_KIND_LAST &&
			    (rc = walk_message(w, NULL, p + i, vlen, depth + 1)) < 0)
				return rc;
		}
		i += vlen;
		last = num;
		last_wt = wt;
	}
	return 0;
}

int proto_record_walk(const uint8_t *bytes, size_t len, bool *unknown, struct proto_error *err)
{
	struct walk w = { .err = err };
	int rc;

	if (!bytes && len)
		return proto_fail(err, PROTO_E_ARG, "", "missing argument");
	if ((rc = walk_message(&w, &agora__record__descriptor, bytes, len, 0)) < 0)
		return rc;
	if (unknown)
		*unknown = w.unknown;
	return 0;
}

int proto_record_reencodes(const Agora__Record *rec, const uint8_t *bytes, size_t len,
                           bool unknown, struct proto_error *err)
{
	uint8_t *again = NULL;
	size_t n;
	int rc;

	unknown = unknown || proto_message_has_unknown(&rec->base);
#ifdef AGORA_NO_FORWARD_COMPAT
	if (unknown)
		return proto_fail(err, PROTO_E_DECODE, "",
		                  "the record contains fields this version of agora does not know");
#endif
	/* protobuf-c packs unknown fields last: only a plain record re-encodes to itself. */
	if (unknown)
		return 0;
	n = agora__record__get_packed_size(rec);
	if (n != len) {
		rc = proto_fail(err, PROTO_E_DECODE, "",
		                "the record is not in canonical encoding (re-encoded length differs)");
		goto out;
	}
	again = malloc(n ? n : 1);
	if (!again) {
		rc = proto_fail(err, PROTO_E_NOMEM, "", "out of memory");
		goto out;
	}
	if (agora__record__pack(rec, again) != n || memcmp(again, bytes, n) != 0) {
		rc = proto_fail(err, PROTO_E_DECODE, "",
		                "the record is not in canonical encoding (re-encoded bytes differ)");
		goto out;
	}
	rc = 0;
out:
	free(again);
	return rc;
}

int proto_record_canonical(const Agora__Record *rec, const uint8_t *bytes, size_t len,
                           struct proto_error *err)
{
	bool unknown = false;
	int rc = proto_record_walk(bytes, len, &unknown, err);

	return rc < 0 ? rc : proto_record_reencodes(rec, bytes, len, unknown, err);
}
