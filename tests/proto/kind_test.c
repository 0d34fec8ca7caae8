/*
 * kind_test.c - kinds known or not, and what a node does with the parts of
 * a record it does not define (PROTOCOL.md 1.1, 1.5, "Extending agora").
 */
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

/* A record of the fixture's header, with `extra` written right after it
 * (before the body), and body bytes as field `kind`. */
static void record_of(struct wbuf *r, const struct fixture *f, const struct wbuf *extra,
                      uint32_t kind, const void *body, size_t n)
{
	memset(r, 0, sizeof(*r));
	w_header(r, f);
	if (extra)
		w_raw(r, extra->b, extra->n);
	w_len(r, kind, body, n);
}

static const char note[] = "\x0a\x06" "a note";   /* field 1: "a note" */

static void test_kind__newer_content_kind_verifies_and_opens(void **state)
{
	struct proto_key *key = fixture_key(50);
	struct fixture f;
	struct wbuf r;
	Agora__Record *rec = NULL;
	const ProtobufCMessage *msg = &f.rec.base;
	char text[160];

	fixture_init(&f, PROTO_KIND_MEASURE, key);
	record_of(&r, &f, NULL, 30, note, sizeof(note) - 1);
	assert_int_equal(open_raw(&rec, &r, key, NULL), 0);
	assert_int_equal(proto_record_kind(rec), 30);
	assert_int_equal(proto_record_content(rec, &msg), 30);
	assert_null(msg);
	assert_int_equal(proto_record_newer(rec), PROTO_NEWER_KIND);
	assert_true(proto_record_newer_text(text, sizeof(text), rec));
	assert_string_equal(text, "a record of a newer kind (30): upgrade agora to read it");
	assert_int_equal(proto_record_validate(rec, NOW_MS, NULL), 0);
	assert_int_equal(rec->seq, 2);
	agora__record__free_unpacked(rec, NULL);

	/* 62: the last content number no build defines (the test build takes 63). */
	record_of(&r, &f, NULL, PROTO_KIND_CONTENT_LAST - 1, note, sizeof(note) - 1);
	assert_int_equal(open_raw(&rec, &r, key, NULL), 0);
	assert_int_equal(proto_record_newer(rec), PROTO_NEWER_KIND);
	agora__record__free_unpacked(rec, NULL);
	proto_key_free(key);
}

static void test_kind__newer_content_kind_keeps_the_header_rules(void **state)
{
	struct proto_key *key = fixture_key(51);
	struct fixture f;
	struct wbuf r;
	Agora__Record *rec = NULL;
	struct proto_error err = { 0 };

	fixture_init(&f, PROTO_KIND_MEASURE, key);
	f.rec.has_alliance = 0;
	record_of(&r, &f, NULL, 30, note, sizeof(note) - 1);
	assert_int_equal(open_raw(&rec, &r, key, &err), PROTO_E_FIELD);
	assert_string_equal(err.field, "alliance");

	fixture_init(&f, PROTO_KIND_MEASURE, key);
	f.rec.has_prev = 0;
	record_of(&r, &f, NULL, 30, note, sizeof(note) - 1);
	assert_int_equal(open_raw(&rec, &r, key, &err), PROTO_E_FIELD);
	assert_string_equal(err.field, "prev");

	fixture_init(&f, PROTO_KIND_MEASURE, key);
	f.rec.created_ms = NOW_MS + PROTO_FUTURE_MS + 1;
	record_of(&r, &f, NULL, 30, note, sizeof(note) - 1);
	assert_int_equal(open_raw(&rec, &r, key, &err), PROTO_E_FUTURE);
	proto_key_free(key);
}

static void expect_upgrade(const struct wbuf *r, const struct proto_key *key, const char *says)
{
	struct proto_error err = { 0 };
	Agora__Record *rec = NULL;
	uint8_t *env = NULL;
	size_t len = 0;

	assert_int_equal(open_raw(&rec, r, key, &err), PROTO_E_UPGRADE);
	assert_int_equal(err.code, PROTO_E_UPGRADE);
	if (!strstr(err.msg, says))
		fail_msg("\"%s\" does not say \"%s\"", err.msg, says);
	/* Storage still reads its header, to show which feed waits. */
	fixture_envelope_raw(&env, &len, r->b, r->n, key);
	assert_int_equal(proto_envelope_decode(&rec, env, len, NULL), 0);
	assert_true(proto_record_newer(rec) & PROTO_NEWER_MUST);
	assert_memory_equal(rec->author.data, key->pk, 32);
	assert_int_equal(proto_record_validate(rec, NOW_MS, NULL), PROTO_E_UPGRADE);
	agora__record__free_unpacked(rec, NULL);
	free(env);
}

static void test_kind__newer_header_field_needs_upgrade(void **state)
{
	struct proto_key *key = fixture_key(52);
	struct fixture f;
	struct wbuf extra = { .n = 0 }, r, m;
	const uint8_t *mb = m.b;
	size_t mlen;

	fixture_init(&f, PROTO_KIND_MEASURE, key);
	assert_true(agora__measure__get_packed_size(&f.measure) <= sizeof(m.b));
	mlen = agora__measure__pack(&f.measure, m.b);

	w_uint(&extra, 6, 1700000000000ULL);     /* e.g. a future "expires_ms" */
	record_of(&r, &f, &extra, PROTO_KIND_MEASURE, mb, mlen);
	expect_upgrade(&r, key, "header field of a newer version (6)");

	/* Header numbers above the body range too. */
	record_of(&r, &f, NULL, PROTO_KIND_MEASURE, mb, mlen);
	w_uint(&r, 200, 1);
	expect_upgrade(&r, key, "(200)");
	proto_key_free(key);
}

static void test_kind__newer_governance_kind_needs_upgrade(void **state)
{
	struct proto_key *key = fixture_key(53);
	struct fixture f;
	struct wbuf r;

	fixture_init(&f, PROTO_KIND_MEASURE, key);
	record_of(&r, &f, NULL, PROTO_KIND_GOVERNANCE_NEXT, note, sizeof(note) - 1);
	expect_upgrade(&r, key, "newer kind (64) that can change who may publish");
	record_of(&r, &f, NULL, PROTO_KIND_LAST, note, sizeof(note) - 1);
	expect_upgrade(&r, key, "(127)");
	proto_key_free(key);
}

static void test_kind__newer_field_in_governance_body_needs_upgrade(void **state)
{
	struct proto_key *key = fixture_key(54);
	struct fixture f;
	struct wbuf body = { .n = 0 }, r;
	size_t n;

	fixture_init(&f, PROTO_KIND_ADMISSION, key);
	n = agora__admission__get_packed_size(&f.admission);
	body.n = agora__admission__pack(&f.admission, body.b);
	assert_int_equal(body.n, n);
	/* Control: the admission as it is. */
	{
		Agora__Record *rec = NULL;
		record_of(&r, &f, NULL, PROTO_KIND_ADMISSION, body.b, body.n);
		assert_int_equal(open_raw(&rec, &r, key, NULL), 0);
		agora__record__free_unpacked(rec, NULL);
	}
	w_uint(&body, 9, 1);          /* e.g. a future "may_admit" */
	record_of(&r, &f, NULL, PROTO_KIND_ADMISSION, body.b, body.n);
	expect_upgrade(&r, key, "a governance record (admission) with fields or codes of a newer version");
	proto_key_free(key);
}

static void test_kind__upgrade_is_only_said_of_a_signed_record_with_a_valid_header(void **state)
{
	struct proto_key *key = fixture_key(55), *other = fixture_key(56);
	struct fixture f;
	struct wbuf r;
	Agora__Record *rec = NULL;
	uint8_t *env = NULL;
	size_t len = 0;

	fixture_init(&f, PROTO_KIND_MEASURE, key);
	record_of(&r, &f, NULL, PROTO_KIND_GOVERNANCE_NEXT, note, sizeof(note) - 1);
	fixture_envelope_raw(&env, &len, r.b, r.n, other);   /* signed by someone else */
	assert_int_equal(proto_envelope_open(&rec, env, len, NOW_MS, NULL), PROTO_E_SIGNATURE);
	assert_null(rec);
	free(env);

	f.rec.created_ms = NOW_MS + PROTO_FUTURE_MS + 1;
	record_of(&r, &f, NULL, PROTO_KIND_GOVERNANCE_NEXT, note, sizeof(note) - 1);
	assert_int_equal(open_raw(&rec, &r, key, NULL), PROTO_E_FUTURE);
	proto_key_free(key);
	proto_key_free(other);
}

static void test_kind__supersede_of_a_newer_kind_is_carried(void **state)
{
	struct proto_key *key = fixture_key(57);
	struct fixture f;
	struct wbuf s, r;
	Agora__Record *rec = NULL;
	const ProtobufCMessage *msg = &f.rec.base;
	struct proto_error err = { 0 };

	fixture_init(&f, PROTO_KIND_MEASURE, key);
	memset(&s, 0, sizeof(s));
	w_len(&s, 1, f.other, 32);
	w_len(&s, 30, note, sizeof(note) - 1);
	record_of(&r, &f, NULL, PROTO_KIND_SUPERSEDE, s.b, s.n);
	assert_int_equal(open_raw(&rec, &r, key, NULL), 0);
	assert_int_equal(proto_record_kind(rec), PROTO_KIND_SUPERSEDE);
	assert_int_equal(proto_record_content(rec, &msg), 30);
	assert_null(msg);
	assert_int_equal(proto_record_newer(rec), PROTO_NEWER_KIND);
	agora__record__free_unpacked(rec, NULL);

	/* Its target is still checked. */
	memset(&s, 0, sizeof(s));
	w_len(&s, 30, note, sizeof(note) - 1);
	record_of(&r, &f, NULL, PROTO_KIND_SUPERSEDE, s.b, s.n);
	assert_int_equal(open_raw(&rec, &r, key, &err), PROTO_E_FIELD);
	assert_string_equal(err.field, "supersede.target");

	/* A kind this build knows but no Supersede may carry. */
	memset(&s, 0, sizeof(s));
	w_len(&s, 1, f.other, 32);
	w_len(&s, PROTO_KIND_RETRACT, "\x0a\x20" "01234567890123456789012345678901", 34);
	record_of(&r, &f, NULL, PROTO_KIND_SUPERSEDE, s.b, s.n);
	assert_int_equal(open_raw(&rec, &r, key, &err), PROTO_E_FIELD);
	assert_string_equal(err.field, "supersede.body");

	/* A governance kind inside a Supersede. */
	memset(&s, 0, sizeof(s));
	w_len(&s, 1, f.other, 32);
	w_len(&s, PROTO_KIND_GOVERNANCE_NEXT, note, sizeof(note) - 1);
	record_of(&r, &f, NULL, PROTO_KIND_SUPERSEDE, s.b, s.n);
	assert_int_equal(open_raw(&rec, &r, key, NULL), PROTO_E_UPGRADE);
	proto_key_free(key);
}

static void test_kind__signing_refuses_newer_parts_unless_asked(void **state)
{
	struct proto_key *key = fixture_key(58);
	struct fixture f;
	struct proto_error err = { 0 };
	ProtobufCMessageUnknownField uf;
	uint8_t extra[] = { 0x05, 'n', 'e', 'w', 'e', 'r' };   /* length-prefixed, as protobuf-c keeps it */
	uint8_t *env = NULL;
	size_t len = 0;
	Agora__Record *rec = NULL;

	/* A measure that kept a newer field 110 (say, decoded and edited). */
	fixture_init(&f, PROTO_KIND_MEASURE, key);
	uf.tag = 110;
	uf.wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
	uf.len = sizeof(extra);
	uf.data = extra;
	f.measure.base.n_unknown_fields = 1;
	f.measure.base.unknown_fields = &uf;
	assert_int_equal(proto_record_sign(&env, &len, NULL, &f.rec, key, NOW_MS, &err), PROTO_E_ARG);
	assert_null(env);
	assert_non_null(strstr(err.msg, "newer version"));

	/* A newer build (or a test) asks. */
	assert_int_equal(proto_record_sign_ext(&env, &len, NULL, &f.rec, key, NOW_MS,
	                                       PROTO_SIGN_NEWER, &err), 0);
	assert_int_equal(proto_envelope_open(&rec, env, len, NOW_MS, NULL), 0);
	assert_int_equal(proto_record_newer(rec), PROTO_NEWER_FIELDS);
	agora__record__free_unpacked(rec, NULL);
	free(env);
	env = NULL;

	/* protobuf-c packs unknown fields last: field 5 would land after 27. */
	uf.tag = 5;
	f.measure.has_illustrative = 1;
	assert_int_equal(proto_record_sign_ext(&env, &len, NULL, &f.rec, key, NOW_MS,
	                                       PROTO_SIGN_NEWER, &err), PROTO_E_ARG);
	assert_null(env);

	/* A newer content kind as the body. */
	fixture_init(&f, PROTO_KIND_MEASURE, key);
	uf.tag = 30;
	uf.data = (uint8_t *)"\x08" "\x0a\x06" "a note";   /* length 8, then the note */
	uf.len = 9;
	f.rec.body_case = AGORA__RECORD__BODY__NOT_SET;
	f.rec.base.n_unknown_fields = 1;
	f.rec.base.unknown_fields = &uf;
	assert_int_equal(proto_record_sign(&env, &len, NULL, &f.rec, key, NOW_MS, NULL), PROTO_E_ARG);
	assert_int_equal(proto_record_sign_ext(&env, &len, NULL, &f.rec, key, NOW_MS,
	                                       PROTO_SIGN_NEWER, &err), 0);
	assert_int_equal(proto_envelope_open(&rec, env, len, NOW_MS, NULL), 0);
	assert_int_equal(proto_record_kind(rec), 30);
	agora__record__free_unpacked(rec, NULL);
	free(env);
	env = NULL;

	/* Never a part that must be understood. */
	uf.tag = PROTO_KIND_GOVERNANCE_NEXT;
	assert_int_equal(proto_record_sign_ext(&env, &len, NULL, &f.rec, key, NOW_MS,
	                                       PROTO_SIGN_NEWER, &err), PROTO_E_UPGRADE);
	assert_null(env);
	/* Nor with a flag this build does not define. */
	uf.tag = 30;
	assert_int_equal(proto_record_sign_ext(&env, &len, NULL, &f.rec, key, NOW_MS,
	                                       0x80, &err), PROTO_E_ARG);
	proto_key_free(key);
}

static void test_kind__newer_codes_are_carried_in_content_and_must_be_understood_in_governance(void **state)
{
	struct proto_key *key = fixture_key(60);
	struct fixture f;
	struct proto_error err = { 0 };
	Agora__Record *rec = NULL;
	uint8_t *env = NULL;
	size_t len = 0;
	char text[160];

	/* A sector and an area of a newer code list. */
	fixture_init(&f, PROTO_KIND_MEASURE, key);
	f.measure.sector = (Agora__Sector)15;
	f.areas[1] = (Agora__Area)99;
	assert_int_equal(proto_record_validate(&f.rec, NOW_MS, NULL), 0);
	assert_int_equal(proto_record_newer(&f.rec), PROTO_NEWER_CODES);
	assert_true(proto_record_newer_text(text, sizeof(text), &f.rec));
	assert_string_equal(text, "a record with codes of a newer version: upgrade agora to read all of it");
	assert_int_equal(proto_record_sign(&env, &len, NULL, &f.rec, key, NOW_MS, NULL), PROTO_E_ARG);
	assert_int_equal(proto_record_sign_ext(&env, &len, NULL, &f.rec, key, NOW_MS,
	                                       PROTO_SIGN_NEWER, &err), 0);
	assert_int_equal(proto_envelope_open(&rec, env, len, NOW_MS, NULL), 0);
	assert_int_equal(proto_record_newer(rec), PROTO_NEWER_CODES);
	assert_int_equal(rec->measure->sector, 15);
	agora__record__free_unpacked(rec, NULL);
	free(env);
	env = NULL;
	/* Still never "unspecified" in a list, never negative, never twice. */
	f.areas[1] = (Agora__Area)0;
	assert_int_equal(proto_record_validate(&f.rec, NOW_MS, &err), PROTO_E_FIELD);
	f.areas[0] = f.areas[1] = (Agora__Area)99;
	assert_int_equal(proto_record_validate(&f.rec, NOW_MS, &err), PROTO_E_FIELD);
	assert_string_equal(err.field, "measure.areas[1]");

	/* Inside a Supersede, and in a nested message. */
	fixture_init(&f, PROTO_KIND_SUPERSEDE, key);
	f.hazards[0] = (Agora__Hazard)40;
	assert_int_equal(proto_record_validate(&f.rec, NOW_MS, NULL), 0);
	assert_int_equal(proto_record_newer(&f.rec), PROTO_NEWER_CODES);
	fixture_init(&f, PROTO_KIND_INVENTORY, key);
	f.sector[1].sector = (Agora__Sector)20;
	assert_int_equal(proto_record_validate(&f.rec, NOW_MS, NULL), 0);
	assert_int_equal(proto_record_newer(&f.rec), PROTO_NEWER_CODES);

	/* A role of a newer version changes who may publish. */
	fixture_init(&f, PROTO_KIND_ADMISSION, key);
	f.admission.role = (Agora__Role)4;
	assert_int_equal(proto_record_validate(&f.rec, NOW_MS, &err), PROTO_E_UPGRADE);
	assert_non_null(strstr(err.msg, "a governance record (admission)"));
	assert_int_equal(proto_record_sign_ext(&env, &len, NULL, &f.rec, key, NOW_MS,
	                                       PROTO_SIGN_NEWER, NULL), PROTO_E_UPGRADE);
	assert_null(env);
	proto_key_free(key);
}

static void test_kind__numbers_names_and_classes(void **state)
{
	assert_true(proto_kind_known(PROTO_KIND_CHARTER));
	assert_true(proto_kind_known(PROTO_KIND_RETRACT));
	assert_false(proto_kind_known(PROTO_KIND_NONE));
	assert_false(proto_kind_known((enum proto_kind)30));
	assert_false(proto_kind_known((enum proto_kind)200));
	assert_null(proto_kind_name((enum proto_kind)30));
	assert_null(proto_kind_descriptor((enum proto_kind)30));
	assert_string_equal(proto_kind_name(PROTO_KIND_KEY_ROTATION), "key_rotation");
	assert_int_equal(proto_kind_parse("Key-Rotation"), PROTO_KIND_KEY_ROTATION);
#ifdef AGORA_SCHEMA_NEXT
	assert_int_equal(proto_kind_parse("test_note"), PROTO_KIND_TEST_NOTE);
	assert_true(proto_kind_known(PROTO_KIND_TEST_NOTE));
#else
	assert_int_equal(proto_kind_parse("test_note"), PROTO_KIND_NONE);
#endif

	for (int k = PROTO_KIND_CHARTER; k <= PROTO_KIND_KEY_ROTATION; k++)
		assert_true(proto_kind_governance((enum proto_kind)k));
	for (int k = PROTO_KIND_PROFILE; k <= PROTO_KIND_CONTENT_LAST; k++)
		assert_false(proto_kind_governance((enum proto_kind)k));
	for (int k = PROTO_KIND_GOVERNANCE_NEXT; k <= PROTO_KIND_LAST; k++)
		assert_true(proto_kind_governance((enum proto_kind)k));
	assert_false(proto_kind_governance(PROTO_KIND_NONE));

	/* A plain record has nothing newer, and no sentence. */
	struct proto_key *key = fixture_key(59);
	struct fixture f;
	char text[8] = "x";
	fixture_init(&f, PROTO_KIND_LESSON, key);
	assert_int_equal(proto_record_newer(&f.rec), 0);
	assert_false(proto_record_newer_text(text, sizeof(text), &f.rec));
	assert_string_equal(text, "x");
	assert_string_equal(proto_strerror(PROTO_E_UPGRADE),
	                    "record needs a newer version of agora (upgrade required)");
	proto_key_free(key);
}

int kind_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind__newer_content_kind_verifies_and_opens),
		cmocka_unit_test(test_kind__newer_content_kind_keeps_the_header_rules),
		cmocka_unit_test(test_kind__newer_header_field_needs_upgrade),
		cmocka_unit_test(test_kind__newer_governance_kind_needs_upgrade),
		cmocka_unit_test(test_kind__newer_field_in_governance_body_needs_upgrade),
		cmocka_unit_test(test_kind__upgrade_is_only_said_of_a_signed_record_with_a_valid_header),
		cmocka_unit_test(test_kind__supersede_of_a_newer_kind_is_carried),
		cmocka_unit_test(test_kind__signing_refuses_newer_parts_unless_asked),
		cmocka_unit_test(test_kind__newer_codes_are_carried_in_content_and_must_be_understood_in_governance),
		cmocka_unit_test(test_kind__numbers_names_and_classes),
	};
	return cmocka_run_group_tests_name("kind", tests, NULL, NULL);
}
