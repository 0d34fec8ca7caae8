/*
 * sync_walk.c - the walk over a message's bytes before protobuf-c unpacks
 * it (PROTOCOL.md 4.5, "parse cost").
 *
 * protobuf-c allocates for every sub-message, every repeated element and
 * every unknown field it meets: 8 MiB of empty sub-messages cost about
 * 570 MB to unpack.  This walk reads the same bytes without allocating,
 * guided by the generated descriptors (so it follows wire.proto by
 * itself), and refuses a message whose structure is over the limits of
 * sync.h before a byte of it is allocated.  It also refuses what
 * protobuf-c would refuse (bad varints, lengths past the end, a known
 * field with the wrong wire type, groups) and what protobuf would merge
 * silently: a singular field given twice, or two messages in one.
 */
#include <string.h>

#include "node/engine/sync_int.h"

#define WALK_LEVELS 8   /* Message > Ranges > Vector > Entry is 4; > Have > Entry 3 */

static int varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 70 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		if (shift == 63 && (b & 0x7e))
			return SYNC_E_PROTOCOL;   /* more than 64 bits */
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return SYNC_E_PROTOCOL;
}

static int wire_type_of(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 1;
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return 5;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return 2;
	default:
		return 0;
	}
}

struct walk {
	struct sync_shape *sh;
	const char *why;
};

static int bad(struct walk *w, int code, const char *why)
{
	w->why = why;
	return code;
}

/* Walk one message of type desc in [p, end).  *reply: a Vector with
 * reply = true. */
static int walk_msg(struct walk *w, const ProtobufCMessageDescriptor *desc, const uint8_t *p,
                    const uint8_t *end, unsigned level, bool *reply)
{
	struct sync_shape *sh = w->sh;
	uint64_t seen = 0;
	size_t entries = 0, known_top = 0;
	int rc;

	if (level > WALK_LEVELS)
		return bad(w, SYNC_E_PROTOCOL, "message nested too deep");
	while (p < end) {
		uint64_t tag, v = 0, len;
		const uint8_t *ps, *pe;
		if ((rc = varint(&p, end, &tag)))
			return bad(w, rc, "malformed field tag");
		uint64_t num = tag >> 3;
		int wt = (int)(tag & 7);
		if (num == 0 || num > 0x1fffffff)
			return bad(w, SYNC_E_PROTOCOL, "field number 0 or over 2^29 - 1");
		ps = p;
		switch (wt) {
		case 0:
			if ((rc = varint(&p, end, &v)))
				return bad(w, rc, "malformed varint");
			break;
		case 1:
			if ((size_t)(end - p) < 8)
				return bad(w, SYNC_E_PROTOCOL, "field runs past the message");
			p += 8;
			break;
		case 5:
			if ((size_t)(end - p) < 4)
				return bad(w, SYNC_E_PROTOCOL, "field runs past the message");
			p += 4;
			break;
		case 2:
			if ((rc = varint(&p, end, &len)))
				return bad(w, rc, "malformed length");
			if (len > (uint64_t)(end - p))
				return bad(w, SYNC_E_PROTOCOL, "field runs past the message");
			ps = p;
			p += len;
			break;
		default:   /* groups: protobuf-c refuses them too */
			return bad(w, SYNC_E_PROTOCOL, "field of wire type 3, 4, 6 or 7");
		}
		pe = p;
		const ProtobufCFieldDescriptor *f =
			protobuf_c_message_descriptor_get_field(desc, (unsigned)num);
		if (!f) {
			if (++sh->unknown > SYNC_UNKNOWN_FIELDS_MAX)
				return bad(w, SYNC_E_LIMIT, "more than 64 unknown fields");
			continue;
		}
		bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
		if (wt != wire_type_of(f) && !(repeated && wt == 2 && f->type != PROTOBUF_C_TYPE_MESSAGE &&
		                                f->type != PROTOBUF_C_TYPE_BYTES &&
		                                f->type != PROTOBUF_C_TYPE_STRING))
			return bad(w, SYNC_E_PROTOCOL, "known field of the wrong wire type");
		if (!repeated) {
			unsigned idx = (unsigned)(f - desc->fields);
			if (idx < 64) {
				if (seen & (UINT64_C(1) << idx))
					return bad(w, SYNC_E_PROTOCOL, "a singular field given twice");
				seen |= UINT64_C(1) << idx;
			}
		}
		if (desc == &agora__wire__message__descriptor) {
			if (++known_top > 1)
				return bad(w, SYNC_E_PROTOCOL, "two messages in one");
			sh->type = (uint32_t)num;
		} else if (desc == &agora__wire__hello__descriptor && num == 4) {
			if (++sh->alliances > SYNC_HELLO_ALLIANCES_MAX)
				return bad(w, SYNC_E_LIMIT, "Hello names more than 256 alliances");
		} else if (desc == &agora__wire__records__descriptor && num == 4) {
			if (++sh->envelopes > SYNC_RECORDS_MAX_N)
				return bad(w, SYNC_E_LIMIT, "Records holds more than 4096 envelopes");
		} else if (desc == &agora__wire__ranges__descriptor && num == 2) {
			if (++sh->ranges > SYNC_RANGES_MAX)
				return bad(w, SYNC_E_LIMIT, "Ranges holds more than 65536 ranges");
		} else if (desc == &agora__wire__ranges__descriptor && num == 3) {
			if (++sh->vectors > SYNC_VECTORS_MAX)
				return bad(w, SYNC_E_LIMIT, "Ranges holds more than 65536 vectors");
		} else if (desc == &agora__wire__vector__descriptor && num == 3) {
			if (++entries > SYNC_VECTOR_ENTRIES_MAX)
				return bad(w, SYNC_E_LIMIT, "Vector holds more than 16 entries");
			if (++sh->entries > SYNC_ENTRIES_MAX)
				return bad(w, SYNC_E_LIMIT, "Ranges holds more than 131072 entries");
		} else if ((desc == &agora__wire__have__descriptor ||
		            desc == &agora__wire__graft__descriptor) && num == 2) {
			if (++sh->gossip_entries > SYNC_GOSSIP_ENTRIES_MAX)
				return bad(w, SYNC_E_LIMIT, "Have or Graft holds more than 1024 entries");
		} else if (desc == &agora__wire__vector__descriptor && num == 4) {
			*reply = v != 0;
		} else if (desc == &agora__wire__blob_chunk__descriptor && num == 4 &&
		           pe - ps > SYNC_BLOB_CHUNK_MAX) {
			return bad(w, SYNC_E_LIMIT, "BlobChunk carries more than 65536 bytes");
		}
		if ((desc == &agora__wire__digest__descriptor ||
		     desc == &agora__wire__ranges__descriptor ||
		     desc == &agora__wire__records__descriptor) && num == 1) {
			sh->alliance = ps;
			sh->alliance_len = (size_t)(pe - ps);
		}
		if ((desc == &agora__wire__digest__descriptor && num == 3) ||
		    (desc == &agora__wire__ranges__descriptor && num == 4)) {
			sh->has_exchange = true;
			sh->exchange = (uint32_t)v;
		}
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			bool sub_reply = false;
			if ((rc = walk_msg(w, f->descriptor, ps, pe, level + 1, &sub_reply)))
				return rc;
			if (sub_reply && desc == &agora__wire__ranges__descriptor)
				sh->reply_vectors++;
		}
	}
	return 0;
}

int sync_walk(const uint8_t *msg, size_t len, struct sync_shape *out, const char **why)
{
	struct sync_shape sh;
	struct walk w = { &sh, NULL };
	bool reply = false;
	int rc;

	memset(&sh, 0, sizeof(sh));
	if (len && (rc = walk_msg(&w, &agora__wire__message__descriptor, msg, msg + len, 0,
	                          &reply))) {
		*why = w.why;
		return rc;
	}
	*out = sh;
	return 0;
}
