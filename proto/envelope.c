/*
 * envelope.c - canonical envelopes: build, split, sign, open, record id.
 *
 * The envelope is written and parsed by hand rather than through
 * agora__envelope__pack/unpack: protobuf accepts many byte forms of one
 * message, but a record id is a hash of bytes, so exactly one form may
 * exist (see PROTOCOL.md, "Envelope").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "proto/proto.h"
#include "proto/proto_int.h"

#define ENV_TAG_RECORD 0x0a     /* field 1, wire type 2 */
#define ENV_TAG_SIG 0x12        /* field 2, wire type 2 */

int proto_fail(struct proto_error *err, int code, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

/* Bytes of the minimal varint for v. */
static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static size_t varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

int proto_envelope_split(struct proto_envelope_view *out, const uint8_t *env, size_t len)
{
	uint64_t rlen = 0;
	size_t pos = 1, shift = 0;

	if (!out || (!env && len))
		return PROTO_E_ARG;
	if (len > PROTO_ENVELOPE_MAX)
		return PROTO_E_TOO_BIG;
	if (len < 1 || env[0] != ENV_TAG_RECORD)
		return PROTO_E_ENVELOPE;
	/*
	 * Read the varint and insist it is minimal: a last byte of 0 after at
	 * least one continuation byte would be a second spelling of a shorter
	 * number.  Lengths fit in 3 bytes under the 64 KiB limit, so cap at 4
	 * to keep the shift small.
	 */
	for (;;) {
		if (pos >= len || shift > 21)
			return PROTO_E_ENVELOPE;
		uint8_t b = env[pos++];
		rlen |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			if (b == 0 && shift > 0)
				return PROTO_E_ENVELOPE;
			break;
		}
		shift += 7;
	}
	if (rlen > len - pos || len - pos - rlen != 2 + PROTO_SIG_BYTES)
		return PROTO_E_ENVELOPE;
	if (env[pos + rlen] != ENV_TAG_SIG || env[pos + rlen + 1] != PROTO_SIG_BYTES)
		return PROTO_E_ENVELOPE;
	out->record = env + pos;
	out->record_len = (size_t)rlen;
	out->sig = env + pos + rlen + 2;
	return 0;
}

int proto_envelope_decode(Agora__Record **out, const uint8_t *env, size_t len,
                          ProtobufCAllocator *alloc)
{
	struct proto_envelope_view v;
	int rc = proto_envelope_split(&v, env, len);
	if (rc < 0)
		return rc;
	if (!(*out = agora__record__unpack(alloc, v.record_len, v.record)))
		return PROTO_E_DECODE;
	return 0;
}

void proto_record_id(uint8_t id[PROTO_ID_BYTES], const uint8_t *env, size_t len)
{
	crypto_generichash(id, PROTO_ID_BYTES, env, len, NULL, 0);
}

int proto_record_sign(uint8_t **env_out, size_t *env_len, uint8_t id_out[PROTO_ID_BYTES],
                      const Agora__Record *rec, const struct proto_key *key,
                      uint64_t now_ms, struct proto_error *err)
{
	return proto_record_sign_ext(env_out, env_len, id_out, rec, key, now_ms, 0, err);
}

int proto_record_sign_ext(uint8_t **env_out, size_t *env_len, uint8_t id_out[PROTO_ID_BYTES],
                          const Agora__Record *rec, const struct proto_key *key,
                          uint64_t now_ms, unsigned flags, struct proto_error *err)
{
	uint8_t *env = NULL;
	Agora__Record *check = NULL;
	size_t rlen, total, pos;
	int rc;

	if (!env_out || !env_len || !rec || !key || !key->sk || (flags & ~PROTO_SIGN_NEWER)) {
		rc = proto_fail(err, PROTO_E_ARG, "", "missing argument");
		goto out;
	}
	if (!rec->has_author || rec->author.len != PROTO_KEY_BYTES ||
	    memcmp(rec->author.data, key->pk, PROTO_KEY_BYTES) != 0) {
		rc = proto_fail(err, PROTO_E_ARG, "author",
		                "the record's author is not the key signing it");
		goto out;
	}
	rc = proto_record_validate(rec, now_ms, err);
	if (rc < 0)
		goto out;
	/*
	 * Parts of a newer version passed validation unchecked.  Signing them
	 * would vouch for what this build cannot read (say, a newer field kept
	 * from a decoded record while its neighbours were edited), so only a
	 * caller that says so signs them.
	 */
	if (!(flags & PROTO_SIGN_NEWER) && proto_record_newer(rec)) {
		rc = proto_fail(err, PROTO_E_ARG, "",
		                "the record has parts of a newer version of agora, which this "
		                "version cannot check; it is not signed");
		goto out;
	}

	rlen = agora__record__get_packed_size(rec);
	total = 1 + varint_len(rlen) + rlen + 2 + PROTO_SIG_BYTES;
	if (total > PROTO_ENVELOPE_MAX) {
		rc = proto_fail(err, PROTO_E_TOO_BIG, "",
		                "the record is %zu bytes; a signed record may be at most %d bytes",
		                total, PROTO_ENVELOPE_MAX);
		goto out;
	}
	env = malloc(total);
	if (!env) {
		rc = proto_fail(err, PROTO_E_NOMEM, "", "out of memory");
		goto out;
	}
	pos = 0;
	env[pos++] = ENV_TAG_RECORD;
	pos += varint_put(env + pos, rlen);
	if (agora__record__pack(rec, env + pos) != rlen) {
		rc = proto_fail(err, PROTO_E_ARG, "", "the record could not be encoded");
		goto out;
	}
	/*
	 * Decode what we are about to sign and hold it to the same canonical
	 * rule peers apply, so a hand-built message that packs oddly (e.g. a
	 * bool holding 2, or a newer field that protobuf-c packs after a known
	 * field with a higher number) is refused here rather than by every peer.
	 */
	check = agora__record__unpack(NULL, rlen, env + pos);
	if (!check) {
		rc = proto_fail(err, PROTO_E_ARG, "", "the record does not decode after encoding");
		goto out;
	}
	rc = proto_record_canonical(check, env + pos, rlen, err);
	if (rc < 0) {
		if (rc == PROTO_E_DECODE)
			rc = proto_fail(err, PROTO_E_ARG, "", "the record has no canonical encoding");
		goto out;
	}
	crypto_sign_detached(env + pos + rlen + 2, NULL, env + pos, rlen, key->sk);
	env[pos + rlen] = ENV_TAG_SIG;
	env[pos + rlen + 1] = PROTO_SIG_BYTES;

	if (id_out)
		proto_record_id(id_out, env, total);
	*env_out = env;
	*env_len = total;
	env = NULL;
	rc = 0;
out:
	if (check)
		agora__record__free_unpacked(check, NULL);
	free(env);
	return rc;
}

int proto_envelope_open(Agora__Record **rec_out, const uint8_t *env, size_t len,
                        uint64_t now_ms, struct proto_error *err)
{
	struct proto_envelope_view v;
	Agora__Record *rec = NULL;
	bool unknown = false;
	int rc;

	if (!rec_out || (!env && len)) {
		rc = proto_fail(err, PROTO_E_ARG, "", "missing argument");
		goto out;
	}
	if (len > PROTO_ENVELOPE_MAX) {
		rc = proto_fail(err, PROTO_E_TOO_BIG, "",
		                "the envelope is %zu bytes; the limit is %d", len, PROTO_ENVELOPE_MAX);
		goto out;
	}
	rc = proto_envelope_split(&v, env, len);
	if (rc < 0) {
		proto_fail(err, rc, "", "the envelope is not in canonical form");
		goto out;
	}
	/* The byte rules first: hostile bytes are refused before anything is allocated. */
	rc = proto_record_walk(v.record, v.record_len, &unknown, err);
	if (rc < 0)
		goto out;
	rec = agora__record__unpack(NULL, v.record_len, v.record);
	if (!rec) {
		rc = proto_fail(err, PROTO_E_DECODE, "", "the record bytes do not decode");
		goto out;
	}
	rc = proto_record_reencodes(rec, v.record, v.record_len, unknown, err);
	if (rc < 0)
		goto out;
	if (!rec->has_author || rec->author.len != PROTO_KEY_BYTES) {
		rc = proto_fail(err, PROTO_E_FIELD, "author",
		                "the author must be a 32-byte public key");
		goto out;
	}
	if (crypto_sign_verify_detached(v.sig, v.record, v.record_len, rec->author.data) != 0) {
		rc = proto_fail(err, PROTO_E_SIGNATURE, "",
		                "the signature does not match the record and its author");
		goto out;
	}
	rc = proto_record_validate_carry(rec, now_ms, err);
	if (rc < 0)
		goto out;
	*rec_out = rec;
	rec = NULL;
out:
	if (rec)
		agora__record__free_unpacked(rec, NULL);
	return rc;
}
