/*
 * fuzz_control.c - the bytes of agorad's control socket through proto's
 * framing (proto/control.c), which agorad and the CLI share.  Properties:
 *   - a whole frame lies within what was read, and never exceeds the
 *     request limit;
 *   - a request agorad accepts has a whole 32-byte SyncReq peer, and
 *     decode -> encode -> decode is stable (the second encoding equals the
 *     first, byte for byte); a refused one says why and yields nothing;
 *   - the same for the Response decoder the CLI uses on agorad's answer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "fuzz_control: %s\n", #x); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void request_round_trip(const Agora__Control__Request *req)
{
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0, mlen = 0;
	Agora__Control__Request *again = NULL;
	const char *why = NULL;

	/* What was read within the limit packs within it (unknown fields
	 * are dropped, so the encoding can only shrink). */
	CHECK(proto_control_request_pack(&a, &alen, req) == 0);
	CHECK(proto_control_frame(a, alen, PROTO_CONTROL_REQUEST_MAX, &mlen) == 1);
	CHECK(mlen + PROTO_CONTROL_HDR == alen);
	CHECK(proto_control_request_decode(&again, a + PROTO_CONTROL_HDR, mlen, &why) == 0);
	CHECK(again->req_case == req->req_case);
	CHECK(proto_control_request_pack(&b, &blen, again) == 0);
	CHECK(alen == blen && !memcmp(a, b, alen));
	agora__control__request__free_unpacked(again, NULL);
	free(a);
	free(b);
}

static void response_round_trip(const Agora__Control__Response *r)
{
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	Agora__Control__Response *again = NULL;

	CHECK(proto_control_response_pack(&a, &alen, r) == 0);
	CHECK(proto_control_get_len(a) + PROTO_CONTROL_HDR == alen);
	CHECK(proto_control_response_decode(&again, a + PROTO_CONTROL_HDR,
	                                    alen - PROTO_CONTROL_HDR) == 0);
	CHECK(proto_control_response_pack(&b, &blen, again) == 0);
	CHECK(alen == blen && !memcmp(a, b, alen));
	agora__control__response__free_unpacked(again, NULL);
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = 0;
	const char *why = NULL;
	int fr = proto_control_frame(data, size, PROTO_CONTROL_REQUEST_MAX, &len);

	CHECK(fr == 0 || fr == 1 || fr == PROTO_E_TOO_BIG);
	if (fr == PROTO_E_TOO_BIG)
		CHECK(size >= PROTO_CONTROL_HDR && proto_control_get_len(data) > PROTO_CONTROL_REQUEST_MAX);
	if (fr == 1) {
		Agora__Control__Request *req = NULL;
		CHECK(len <= size - PROTO_CONTROL_HDR && len <= PROTO_CONTROL_REQUEST_MAX);
		CHECK(len == proto_control_get_len(data));
		if (proto_control_request_decode(&req, data + PROTO_CONTROL_HDR, len, &why) == 0) {
			CHECK(req != NULL);
			if (req->req_case == AGORA__CONTROL__REQUEST__REQ_SYNC && req->sync->has_peer)
				CHECK(req->sync->peer.len == PROTO_KEY_BYTES);
			request_round_trip(req);
			agora__control__request__free_unpacked(req, NULL);
		} else {
			CHECK(req == NULL && why && *why);   /* every refusal says why */
		}
	}
	Agora__Control__Response *r = NULL;
	if (proto_control_response_decode(&r, data, size) == 0) {
		response_round_trip(r);
		agora__control__response__free_unpacked(r, NULL);
	} else {
		CHECK(r == NULL);
	}
	return 0;
}
