/*
 * control_test.c - the control socket's framing (proto/control.c), shared
 * by agorad and the CLI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"

static void test_control_frame__wants_the_whole_message_then_delivers_it(void **state)
{
	uint8_t buf[4 + 3] = { 0, 0, 0, 3, 0x22, 0x00, 0x00 };
	size_t len = 99;
	(void)state;
	for (size_t have = 0; have < sizeof(buf); have++) {
		assert_int_equal(proto_control_frame(buf, have, 16, &len), 0);
		assert_int_equal(len, 99);   /* untouched until whole */
	}
	assert_int_equal(proto_control_frame(buf, sizeof(buf), 16, &len), 1);
	assert_int_equal(len, 3);
	assert_int_equal(proto_control_get_len(buf), 3);
}

static void test_control_frame__length_over_the_limit_is_refused_from_the_prefix(void **state)
{
	uint8_t hdr[4];
	size_t len = 99;
	(void)state;
	proto_control_put_len(hdr, PROTO_CONTROL_REQUEST_MAX + 1);
	assert_int_equal(proto_control_get_len(hdr), PROTO_CONTROL_REQUEST_MAX + 1);
	assert_int_equal(proto_control_frame(hdr, 4, PROTO_CONTROL_REQUEST_MAX, &len), PROTO_E_TOO_BIG);
	proto_control_put_len(hdr, 0xffffffffu);
	assert_int_equal(proto_control_frame(hdr, 4, PROTO_CONTROL_RESPONSE_MAX, &len), PROTO_E_TOO_BIG);
	proto_control_put_len(hdr, PROTO_CONTROL_REQUEST_MAX);
	assert_int_equal(proto_control_frame(hdr, 4, PROTO_CONTROL_REQUEST_MAX, &len), 0);
	assert_int_equal(len, 99);
}

static void test_control_request__pack_then_decode_gives_it_back(void **state)
{
	Agora__Control__Request req = AGORA__CONTROL__REQUEST__INIT;
	Agora__Control__SyncReq sync = AGORA__CONTROL__SYNC_REQ__INIT;
	Agora__Control__Request *back = NULL;
	uint8_t key[32], *buf = NULL;
	size_t blen = 0, mlen = 0;
	const char *why = NULL;
	(void)state;
	memset(key, 0xab, sizeof(key));
	sync.has_peer = 1;
	sync.peer.data = key;
	sync.peer.len = sizeof(key);
	req.req_case = AGORA__CONTROL__REQUEST__REQ_SYNC;
	req.sync = &sync;
	assert_int_equal(proto_control_request_pack(&buf, &blen, &req), 0);
	assert_int_equal(proto_control_frame(buf, blen, PROTO_CONTROL_REQUEST_MAX, &mlen), 1);
	assert_int_equal(mlen + 4, blen);
	assert_int_equal(proto_control_request_decode(&back, buf + 4, mlen, &why), 0);
	assert_int_equal(back->req_case, AGORA__CONTROL__REQUEST__REQ_SYNC);
	assert_memory_equal(back->sync->peer.data, key, 32);
	agora__control__request__free_unpacked(back, NULL);
	free(buf);
	/* A peer key agorad would look up must be whole. */
	sync.peer.len = 31;
	assert_int_equal(proto_control_request_pack(&buf, &blen, &req), 0);
	back = NULL;
	assert_int_equal(proto_control_request_decode(&back, buf + 4, blen - 4, &why), PROTO_E_DECODE);
	assert_null(back);
	assert_string_equal(why, "peer key must be 32 bytes");
	free(buf);
}

static void test_control_request__unknown_or_malformed_requests_say_why(void **state)
{
	static const uint8_t empty[] = { 0 };
	static const uint8_t future[] = { 0x32, 0x00 };      /* field 6: a newer request */
	static const uint8_t garbage[] = { 0x0a, 0x05, 0x01 };
	static const uint8_t field0[] = { 0x80, 0x00, 0x10 }; /* an over-long tag for field 0 */
	Agora__Control__Request *req = NULL;
	const char *why = NULL;
	(void)state;
	assert_int_equal(proto_control_request_decode(&req, empty, 0, &why), PROTO_E_DECODE);
	assert_string_equal(why, "unknown request");
	assert_int_equal(proto_control_request_decode(&req, future, sizeof(future), &why), PROTO_E_DECODE);
	assert_string_equal(why, "unknown request");
	assert_int_equal(proto_control_request_decode(&req, garbage, sizeof(garbage), &why), PROTO_E_DECODE);
	assert_string_equal(why, "malformed request");
	assert_int_equal(proto_control_request_decode(&req, field0, sizeof(field0), &why), PROTO_E_DECODE);
	assert_null(req);
}

static void test_control_response__over_the_limit_is_refused(void **state)
{
	Agora__Control__Response r = AGORA__CONTROL__RESPONSE__INIT, *back = NULL;
	static const uint8_t field0[] = { 0x80, 0x00, 0x10 };
	uint8_t *buf = NULL;
	size_t blen = 0;
	(void)state;
	r.has_code = 1;
	r.code = -2;
	r.error = "no such peer";
	assert_int_equal(proto_control_response_pack(&buf, &blen, &r), 0);
	assert_int_equal(proto_control_response_decode(&back, buf + 4, blen - 4), 0);
	assert_int_equal(back->code, -2);
	assert_string_equal(back->error, "no such peer");
	agora__control__response__free_unpacked(back, NULL);
	back = NULL;
	assert_int_equal(proto_control_response_decode(&back, buf + 4, PROTO_CONTROL_RESPONSE_MAX + 1),
	                 PROTO_E_TOO_BIG);
	assert_int_equal(proto_control_response_decode(&back, field0, sizeof(field0)), PROTO_E_DECODE);
	assert_null(back);
	free(buf);
}

int control_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_frame__wants_the_whole_message_then_delivers_it),
		cmocka_unit_test(test_control_frame__length_over_the_limit_is_refused_from_the_prefix),
		cmocka_unit_test(test_control_request__pack_then_decode_gives_it_back),
		cmocka_unit_test(test_control_request__unknown_or_malformed_requests_say_why),
		cmocka_unit_test(test_control_response__over_the_limit_is_refused),
	};
	return cmocka_run_group_tests_name("control", tests, NULL, NULL);
}
