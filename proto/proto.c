/*
 * proto.c - library start-up, error names, hex, record kinds.
 */
#include <string.h>
#include <sodium.h>

#include "proto/proto.h"

int proto_init(void)
{
	/* sodium_init() returns 1 when already initialised, which is fine. */
	if (sodium_init() < 0)
		return PROTO_E_NOMEM;
	return 0;
}

const char *proto_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
	case PROTO_E_TOO_BIG:
		return "record envelope is larger than the 64 KiB limit";
	case PROTO_E_ENVELOPE:
		return "record envelope is malformed";
	case PROTO_E_DECODE:
		return "record bytes are not a valid, canonically encoded record";
	case PROTO_E_SIGNATURE:
		return "record signature does not verify against its author";
	case PROTO_E_FIELD:
		return "a record field is missing or invalid";
	case PROTO_E_FUTURE:
		return "record is dated more than 15 minutes in the future";
	case PROTO_E_KIND:
		return "record has no body or a kind this node does not know";
	case PROTO_E_SEQ:
		return "record sequence number does not follow the author's last record";
	case PROTO_E_PREV:
		return "record does not link to the author's previous record";
	case PROTO_E_KEY:
		return "identity key is malformed or the passphrase is wrong";
	case PROTO_E_KEY_PERM:
		return "identity key file is readable by other users (chmod 600 it)";
	case PROTO_E_NOMEM:
		return "out of memory";
	case PROTO_E_ARG:
		return "invalid argument";
	case PROTO_E_PASSPHRASE:
		return "identity key is encrypted and needs a passphrase";
	default:
		break;
	}
	if (code < 0 && code > -1000)
		return strerror(-code);
	return "unknown error";
}

void proto_hex(char *out, const uint8_t *bytes, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int proto_unhex(uint8_t *out, size_t n, const char *hex)
{
	if (!hex || !out)
		return PROTO_E_ARG;
	/* Check everything first so out is written only on success. */
	for (size_t i = 0; i < 2 * n; i++)
		if (hex_digit(hex[i]) < 0)
			return PROTO_E_ARG;
	if (hex[2 * n] != '\0')
		return PROTO_E_ARG;
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
	return 0;
}

enum proto_kind proto_record_kind(const Agora__Record *rec)
{
	if (!rec)
		return PROTO_KIND_NONE;
	switch (rec->body_case) {
	case AGORA__RECORD__BODY_CHARTER:
	case AGORA__RECORD__BODY_ADMISSION:
	case AGORA__RECORD__BODY_REVOCATION:
	case AGORA__RECORD__BODY_KEY_ROTATION:
	case AGORA__RECORD__BODY_PROFILE:
	case AGORA__RECORD__BODY_TARGET:
	case AGORA__RECORD__BODY_INVENTORY:
	case AGORA__RECORD__BODY_MEASURE:
	case AGORA__RECORD__BODY_RESULT:
	case AGORA__RECORD__BODY_LESSON:
	case AGORA__RECORD__BODY_ENDORSEMENT:
	case AGORA__RECORD__BODY_SUPERSEDE:
	case AGORA__RECORD__BODY_RETRACT:
		/* The oneof field numbers are the kind numbers by design. */
		return (enum proto_kind)rec->body_case;
	default:
		return PROTO_KIND_NONE;
	}
}

enum proto_kind proto_record_content(const Agora__Record *rec, const ProtobufCMessage **msg)
{
	const ProtobufCMessage *m = NULL;
	enum proto_kind kind = proto_record_kind(rec);

	switch (kind) {
	case PROTO_KIND_CHARTER: m = &rec->charter->base; break;
	case PROTO_KIND_ADMISSION: m = &rec->admission->base; break;
	case PROTO_KIND_REVOCATION: m = &rec->revocation->base; break;
	case PROTO_KIND_KEY_ROTATION: m = &rec->key_rotation->base; break;
	case PROTO_KIND_PROFILE: m = &rec->profile->base; break;
	case PROTO_KIND_TARGET: m = &rec->target->base; break;
	case PROTO_KIND_INVENTORY: m = &rec->inventory->base; break;
	case PROTO_KIND_MEASURE: m = &rec->measure->base; break;
	case PROTO_KIND_RESULT: m = &rec->result->base; break;
	case PROTO_KIND_LESSON: m = &rec->lesson->base; break;
	case PROTO_KIND_ENDORSEMENT: m = &rec->endorsement->base; break;
	case PROTO_KIND_RETRACT: m = &rec->retract->base; break;
	case PROTO_KIND_SUPERSEDE: {
		const Agora__Supersede *s = rec->supersede;
		if (!s)
			return PROTO_KIND_NONE;
		switch (s->body_case) {
		case AGORA__SUPERSEDE__BODY_PROFILE:
			kind = PROTO_KIND_PROFILE; m = s->profile ? &s->profile->base : NULL; break;
		case AGORA__SUPERSEDE__BODY_TARGET_BODY:
			kind = PROTO_KIND_TARGET; m = s->target_body ? &s->target_body->base : NULL; break;
		case AGORA__SUPERSEDE__BODY_INVENTORY:
			kind = PROTO_KIND_INVENTORY; m = s->inventory ? &s->inventory->base : NULL; break;
		case AGORA__SUPERSEDE__BODY_MEASURE:
			kind = PROTO_KIND_MEASURE; m = s->measure ? &s->measure->base : NULL; break;
		case AGORA__SUPERSEDE__BODY_RESULT:
			kind = PROTO_KIND_RESULT; m = s->result ? &s->result->base : NULL; break;
		case AGORA__SUPERSEDE__BODY_LESSON:
			kind = PROTO_KIND_LESSON; m = s->lesson ? &s->lesson->base : NULL; break;
		case AGORA__SUPERSEDE__BODY_ENDORSEMENT:
			kind = PROTO_KIND_ENDORSEMENT; m = s->endorsement ? &s->endorsement->base : NULL; break;
		default:
			return PROTO_KIND_NONE;
		}
		break;
	}
	default:
		return PROTO_KIND_NONE;
	}
	/* A body pointer can only be NULL in a hand-built, invalid record. */
	if (!m)
		return PROTO_KIND_NONE;
	if (msg)
		*msg = m;
	return kind;
}
