/*
 * kind.c - record kinds, known or not, and the parts of a record this build
 * does not define (PROTOCOL.md 1.1 and "Extending agora").
 *
 * Everything here reads the decoded tree.  protobuf-c keeps every field it
 * does not know in its message's unknown_fields, with the field number, so
 * a kind of a newer version shows up as an unknown field of Record (or of
 * Supersede) numbered 29..127, and a newer field as an unknown field of the
 * message that carries it.  The canonical byte rule for those fields is
 * checked on the bytes, in canonical.c.
 */
#include <stdio.h>
#include <string.h>

#include "proto/proto.h"
#include "proto/proto_int.h"

#define HEADER_LAST 15          /* Record fields 1..15 are the header */

static bool body_number(uint32_t n)
{
	return n >= PROTO_KIND_FIRST && n <= PROTO_KIND_LAST;
}

/* The body oneof member set in m (a Record or a Supersede), or NULL. */
static const ProtobufCFieldDescriptor *body_field(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || !body_number(f->id))
			continue;
		if (*(const uint32_t *)((const char *)m + f->quantifier_offset) == f->id)
			return f;
	}
	return NULL;
}

static const ProtobufCMessage *field_message(const ProtobufCMessage *m,
                                             const ProtobufCFieldDescriptor *f)
{
	return *(const ProtobufCMessage *const *)((const char *)m + f->offset);
}

/* Number of the first unknown field of m in the body range, or 0. */
static uint32_t unknown_body(const ProtobufCMessage *m)
{
	for (size_t i = 0; i < m->n_unknown_fields; i++)
		if (body_number(m->unknown_fields[i].tag))
			return m->unknown_fields[i].tag;
	return 0;
}

bool proto_message_has_unknown(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;

	if (m->n_unknown_fields)
		return true;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)(base + f->offset);
			for (size_t j = 0; j < n; j++)
				if (arr[j] && proto_message_has_unknown(arr[j]))
					return true;
			continue;
		}
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
			continue;
		const ProtobufCMessage *sub = field_message(m, f);
		if (sub && proto_message_has_unknown(sub))
			return true;
	}
	return false;
}

/* Does the message tree hold an enum value this build does not define? */
static bool has_newer_codes(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
		size_t n;

		if (f->type != PROTOBUF_C_TYPE_ENUM && f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
			continue;
		if (repeated)
			n = *(const size_t *)(base + f->quantifier_offset);
		else if (f->type == PROTOBUF_C_TYPE_ENUM)
			n = f->quantifier_offset && *(const protobuf_c_boolean *)(base + f->quantifier_offset);
		else
			n = 1;
		for (size_t j = 0; j < n; j++) {
			if (f->type == PROTOBUF_C_TYPE_ENUM) {
				const int *v = repeated ? *(const int *const *)(base + f->offset) + j
				                        : (const int *)(base + f->offset);
				/* negative values are invalid, not newer: validation says so */
				if (*v > 0 && !protobuf_c_enum_descriptor_get_value(f->descriptor, *v))
					return true;
			} else {
				const ProtobufCMessage *sub = repeated ?
					(*(ProtobufCMessage *const *const *)(base + f->offset))[j] :
					field_message(m, f);
				if (sub && has_newer_codes(sub))
					return true;
			}
		}
	}
	return false;
}

bool proto_kind_governance(enum proto_kind kind)
{
	return (kind >= PROTO_KIND_CHARTER && kind <= PROTO_KIND_KEY_ROTATION) ||
	       (kind >= PROTO_KIND_GOVERNANCE_NEXT && kind <= PROTO_KIND_LAST);
}

const ProtobufCFieldDescriptor *proto_kind_field(enum proto_kind kind)
{
	const ProtobufCFieldDescriptor *f;

	if (!body_number((uint32_t)kind))
		return NULL;
	f = protobuf_c_message_descriptor_get_field(&agora__record__descriptor, (unsigned)kind);
	if (!f || !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || f->type != PROTOBUF_C_TYPE_MESSAGE)
		return NULL;
	return f;
}

bool proto_kind_known(enum proto_kind kind)
{
	return proto_kind_field(kind) != NULL;
}

enum proto_kind proto_record_kind(const Agora__Record *rec)
{
	const ProtobufCFieldDescriptor *f;

	if (!rec)
		return PROTO_KIND_NONE;
	/* The oneof field numbers are the kind numbers by design. */
	if ((f = body_field(&rec->base)))
		return (enum proto_kind)f->id;
	return (enum proto_kind)unknown_body(&rec->base);
}

enum proto_kind proto_record_content(const Agora__Record *rec, const ProtobufCMessage **msg)
{
	const ProtobufCMessage *holder, *m;
	const ProtobufCFieldDescriptor *f;
	enum proto_kind kind = proto_record_kind(rec);
	uint32_t unknown;

	if (kind == PROTO_KIND_NONE)
		return PROTO_KIND_NONE;
	holder = &rec->base;
	if (kind == PROTO_KIND_SUPERSEDE) {
		if (!rec->supersede)
			return PROTO_KIND_NONE;
		holder = &rec->supersede->base;
	}
	/* Supersede.body's field numbers are the kind numbers of what it carries. */
	if ((f = body_field(holder))) {
		/* A body pointer can only be NULL in a hand-built, invalid record. */
		if (!(m = field_message(holder, f)))
			return PROTO_KIND_NONE;
		if (msg)
			*msg = m;
		return (enum proto_kind)f->id;
	}
	if (!(unknown = unknown_body(holder)))
		return PROTO_KIND_NONE;
	if (msg)
		*msg = NULL;
	return (enum proto_kind)unknown;
}

/* ------------------------------------------------------- newer parts */

struct newer {
	unsigned flags;
	uint32_t kind;              /* the newer kind, content or governance */
	uint32_t header;            /* a newer Record header field */
	const char *gov;            /* a governance body with newer fields: its name */
	uint32_t unreadable;        /* a later kind this build knows and does not read */
	bool edit;                  /* ... because a Supersede may not carry it */
	const ProtobufCMessage *body;   /* ... else its body, which breaks its rules */
};

/* A content kind added after version 1 (29..63). */
static bool later_content(uint32_t n)
{
	return n >= PROTO_KIND_CONTENT_NEXT && n <= PROTO_KIND_CONTENT_LAST;
}

/*
 * A body of a later content kind this build knows is read only if it keeps
 * the kind's rules: version-1 nodes carry it unread whatever it holds, and
 * so does this one when it breaks them (PROTOCOL.md 7.4 item 8).
 */
static void check_later(struct newer *n, uint32_t kind, const ProtobufCMessage *body,
                        const Agora__Record *rec)
{
	if (!later_content(kind) || proto_body_check((enum proto_kind)kind, body, rec, NULL) == 0)
		return;
	n->flags |= PROTO_NEWER_UNREADABLE;
	n->unreadable = kind;
	n->body = body;
}

/* The unknown fields of a Record or a Supersede; `supersede` tells which. */
static void scan_holder_unknown(struct newer *n, const ProtobufCMessage *m, bool supersede)
{
	for (size_t i = 0; i < m->n_unknown_fields; i++) {
		uint32_t num = m->unknown_fields[i].tag;
		if (body_number(num)) {
			/*
			 * In a Supersede, a number this build knows names a kind
			 * no Supersede may carry.  One of version 1 (a Supersede,
			 * a Retract) is flagged as a kind too, and validation
			 * refuses it; a later one (an Endpoint) is carried unread,
			 * as version 1 carries it.
			 */
			if (supersede && later_content(num) && proto_kind_known((enum proto_kind)num)) {
				n->flags |= PROTO_NEWER_UNREADABLE;
				n->unreadable = num;
				n->edit = true;
				continue;
			}
			if (!n->kind)
				n->kind = num;
			n->flags |= proto_kind_governance((enum proto_kind)num) ? PROTO_NEWER_MUST
			                                                       : PROTO_NEWER_KIND;
		} else if (!supersede) {
			if (!n->header)
				n->header = num;
			n->flags |= PROTO_NEWER_MUST;
		} else {
			n->flags |= PROTO_NEWER_FIELDS;
		}
	}
}

static void scan(struct newer *n, const Agora__Record *rec)
{
	const ProtobufCFieldDescriptor *f;
	const ProtobufCMessage *body;

	memset(n, 0, sizeof(*n));
	scan_holder_unknown(n, &rec->base, false);
	if (!(f = body_field(&rec->base)) || !(body = field_message(&rec->base, f)))
		return;
	if (proto_kind_governance((enum proto_kind)f->id)) {
		if (proto_message_has_unknown(body) || has_newer_codes(body)) {
			n->flags |= PROTO_NEWER_MUST;
			n->gov = f->name;
		}
		return;
	}
	uint32_t kind = f->id;
	if (f->id == PROTO_KIND_SUPERSEDE) {
		const ProtobufCFieldDescriptor *sf;
		scan_holder_unknown(n, body, true);
		if (!(sf = body_field(body)) || !(body = field_message(body, sf)))
			return;
		kind = sf->id;
	}
	check_later(n, kind, body, rec);
	if (proto_message_has_unknown(body))
		n->flags |= PROTO_NEWER_FIELDS;
	if (has_newer_codes(body))
		n->flags |= PROTO_NEWER_CODES;
}

unsigned proto_record_newer(const Agora__Record *rec)
{
	struct newer n;

	if (!rec)
		return 0;
	scan(&n, rec);
	return n.flags;
}

bool proto_record_newer_text(char *out, size_t cap, const Agora__Record *rec)
{
	struct newer n;

	if (!rec || !out || !cap)
		return false;
	scan(&n, rec);
	if (n.flags & PROTO_NEWER_MUST) {
		if (n.header)
			snprintf(out, cap, "a record with a header field of a newer version (%u): "
			         "upgrade agora to accept it and the author's records after it",
			         n.header);
		else if (n.gov)
			snprintf(out, cap, "a governance record (%s) with fields or codes of a newer "
			         "version: upgrade agora to accept it and the author's records after it",
			         n.gov);
		else
			snprintf(out, cap, "a record of a newer kind (%u) that can change who may "
			         "publish: upgrade agora to accept it and the author's records after it",
			         n.kind);
	} else if ((n.flags & PROTO_NEWER_UNREADABLE) && n.edit) {
		snprintf(out, cap, "an edit of a record of kind %s, which is not edited: kept and "
		         "relayed as it is, not read", proto_kind_name((enum proto_kind)n.unreadable));
	} else if (n.flags & PROTO_NEWER_UNREADABLE) {
		struct proto_error err = { 0 };
		proto_body_check((enum proto_kind)n.unreadable, n.body, rec, &err);
		snprintf(out, cap, "a record of kind %s that this version cannot read (%s): kept and "
		         "relayed as it is", proto_kind_name((enum proto_kind)n.unreadable), err.msg);
	} else if (n.flags & PROTO_NEWER_KIND) {
		snprintf(out, cap, "a record of a newer kind (%u): upgrade agora to read it", n.kind);
	} else if (n.flags & (PROTO_NEWER_FIELDS | PROTO_NEWER_CODES)) {
		snprintf(out, cap, "a record with %s of a newer version: upgrade agora to read all of it",
		         !(n.flags & PROTO_NEWER_CODES) ? "fields" :
		         !(n.flags & PROTO_NEWER_FIELDS) ? "codes" : "fields and codes");
	} else {
		return false;
	}
	return true;
}
