/*
 * control.c - the control socket's framing (PROTOCOL.md 4.6): a 4-byte
 * big-endian length, then one serialized agora.control message.  Bytes in,
 * bytes out: the socket itself belongs to agorad (node/control.c) and to
 * the CLI's client (cli/control.c), which both frame through here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

void proto_control_put_len(uint8_t hdr[PROTO_CONTROL_HDR], uint32_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

uint32_t proto_control_get_len(const uint8_t hdr[PROTO_CONTROL_HDR])
{
	return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
}

int proto_control_frame(const uint8_t *buf, size_t len, size_t max, size_t *msg_len)
{
	uint32_t want;

	if (len < PROTO_CONTROL_HDR)
		return 0;
	want = proto_control_get_len(buf);
	if (want > max)
		return PROTO_E_TOO_BIG;
	if (len - PROTO_CONTROL_HDR < (size_t)want)
		return 0;
	*msg_len = want;
	return 1;
}

/* Length prefix and packed message in one malloc()ed buffer. */
static int pack(uint8_t **out, size_t *out_len, const ProtobufCMessage *m, size_t max)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf;

	if (n > max)
		return PROTO_E_TOO_BIG;
	if (!(buf = malloc(PROTO_CONTROL_HDR + n)))
		return PROTO_E_NOMEM;
	proto_control_put_len(buf, (uint32_t)n);
	protobuf_c_message_pack(m, buf + PROTO_CONTROL_HDR);
	*out = buf;
	*out_len = PROTO_CONTROL_HDR + n;
	return 0;
}

int proto_control_request_pack(uint8_t **out, size_t *out_len,
                               const Agora__Control__Request *req)
{
	return pack(out, out_len, &req->base, PROTO_CONTROL_REQUEST_MAX);
}

int proto_control_response_pack(uint8_t **out, size_t *out_len,
                                const Agora__Control__Response *resp)
{
	return pack(out, out_len, &resp->base, PROTO_CONTROL_RESPONSE_MAX);
}

/*
 * protobuf-c takes an over-long tag varint that encodes field number 0
 * ("80 00") as an unknown field, and then writes it back as "00", which it
 * refuses to read: a message holding one would not survive a round trip.
 * Field 0 is not valid protobuf, so such a message is refused here.
 */
static bool tags_valid(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < m->n_unknown_fields; i++)
		if (m->unknown_fields[i].tag == 0)
			return false;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		const char *base = (const char *)m + fd->offset;
		if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)((const char *)m + fd->quantifier_offset);
			ProtobufCMessage *const *v = *(ProtobufCMessage *const *const *)base;
			for (size_t k = 0; k < n; k++)
				if (v[k] && !tags_valid(v[k]))
					return false;
		} else {
			const ProtobufCMessage *sub = *(ProtobufCMessage *const *)base;
			if (sub && !tags_valid(sub))
				return false;
		}
	}
	return true;
}

int proto_control_request_decode(Agora__Control__Request **out, const uint8_t *msg, size_t len,
                                 const char **why)
{
	Agora__Control__Request *req;

	if (len > PROTO_CONTROL_REQUEST_MAX) {
		*why = "request too long";
		return PROTO_E_TOO_BIG;
	}
	if (!(req = agora__control__request__unpack(NULL, len, msg)) || !tags_valid(&req->base)) {
		if (req)
			agora__control__request__free_unpacked(req, NULL);
		*why = "malformed request";
		return PROTO_E_DECODE;
	}
	switch (req->req_case) {
	case AGORA__CONTROL__REQUEST__REQ_SYNC:
		if (req->sync->has_peer && req->sync->peer.len != PROTO_KEY_BYTES) {
			*why = "peer key must be 32 bytes";
			break;
		}
		*out = req;
		return 0;
	case AGORA__CONTROL__REQUEST__REQ_STATUS:
	case AGORA__CONTROL__REQUEST__REQ_PEERS:
	case AGORA__CONTROL__REQUEST__REQ_RELOAD:
	case AGORA__CONTROL__REQUEST__REQ_POKE:
		*out = req;
		return 0;
	default:
		*why = "unknown request";
		break;
	}
	agora__control__request__free_unpacked(req, NULL);
	return PROTO_E_DECODE;
}

int proto_control_response_decode(Agora__Control__Response **out, const uint8_t *msg,
                                  size_t len)
{
	Agora__Control__Response *resp;

	if (len > PROTO_CONTROL_RESPONSE_MAX)
		return PROTO_E_TOO_BIG;
	if (!(resp = agora__control__response__unpack(NULL, len, msg)))
		return PROTO_E_DECODE;
	if (!tags_valid(&resp->base)) {
		agora__control__response__free_unpacked(resp, NULL);
		return PROTO_E_DECODE;
	}
	*out = resp;
	return 0;
}
