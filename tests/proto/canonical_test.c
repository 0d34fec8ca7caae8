/*
 * canonical_test.c - the one byte form of a record, for fields known or not
 * (PROTOCOL.md 1.2).  Records are written byte by byte, signed, and opened.
 * Newer fields of Measure are numbered 110 and 111 here, which no build
 * defines (the test build of a newer version takes 100).
 */
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

/* A measure of fields 1 (title), 4 (language) and 6 (mitigation). */
static void measure_start(struct wbuf *m)
{
	memset(m, 0, sizeof(*m));
	w_len(m, 1, "Wetland", 7);
	w_len(m, 4, "da", 2);
}

static void measure_mitigation(struct wbuf *m)
{
	w_uint(m, 6, 1);
}

/* A record of the fixture's header around body bytes as field `kind`. */
static void record_around(struct wbuf *r, const struct fixture *f, uint32_t kind,
                          const struct wbuf *body)
{
	memset(r, 0, sizeof(*r));
	w_header(r, f);
	w_len(r, kind, body->b, body->n);
}

/* Open body as a measure; expect code, and (if why) that err.msg says why. */
static void expect_measure(const struct fixture *f, const struct proto_key *key,
                           const struct wbuf *m, int code, const char *why)
{
	struct wbuf r;
	struct proto_error err = { 0 };
	Agora__Record *rec = NULL;
	int rc;

	record_around(&r, f, PROTO_KIND_MEASURE, m);
	rc = open_raw(&rec, &r, key, &err);
	if (rc != code)
		fail_msg("opened with %d (%s), expected %d", rc, err.msg, code);
	if (why && !strstr(err.msg, why))
		fail_msg("rejected for \"%s\", expected \"%s\"", err.msg, why);
	if (rec)
		agora__record__free_unpacked(rec, NULL);
}

static void test_canonical__unknown_field_in_its_ascending_place_is_accepted(void **state)
{
	struct proto_key *key = fixture_key(40);
	struct fixture f;
	struct wbuf m, s, r;
	Agora__Record *rec = NULL;
	uint8_t *again;
	size_t n;

	fixture_init(&f, PROTO_KIND_MEASURE, key);
	/* Measure knows 1..27: newer fields follow them. */
	measure_start(&m);
	measure_mitigation(&m);
	w_uint(&m, 27, 1);            /* illustrative */
	w_len(&m, 28, "newer", 5);
	w_uint(&m, 29, 7);
	record_around(&r, &f, PROTO_KIND_MEASURE, &m);
	assert_int_equal(open_raw(&rec, &r, key, NULL), 0);
	assert_string_equal(rec->measure->title, "Wetland");
	assert_int_equal(proto_record_newer(rec), PROTO_NEWER_FIELDS);
	agora__record__free_unpacked(rec, NULL);

	/*
	 * Supersede knows 1 and 20..26: a newer field 5 sits between its
	 * target and its body.  Valid, and exactly what re-encoding cannot
	 * judge: protobuf-c packs unknown fields after the known ones.
	 */
	memset(&s, 0, sizeof(s));
	w_len(&s, 1, f.other, 32);
	w_len(&s, 5, "newer", 5);
	w_len(&s, PROTO_KIND_MEASURE, m.b, m.n);
	record_around(&r, &f, PROTO_KIND_SUPERSEDE, &s);
	assert_int_equal(open_raw(&rec, &r, key, NULL), 0);
	assert_int_equal(proto_record_content(rec, NULL), PROTO_KIND_MEASURE);
	assert_int_equal(proto_record_newer(rec), PROTO_NEWER_FIELDS);
	n = agora__record__get_packed_size(rec);
	assert_int_equal(n, r.n);
	again = malloc(n);
	assert_non_null(again);
	agora__record__pack(rec, again);
	assert_memory_not_equal(again, r.b, n);
	free(again);
	agora__record__free_unpacked(rec, NULL);
	proto_key_free(key);
}

static void test_canonical__unknown_field_out_of_order_is_rejected(void **state)
{
	struct proto_key *key = fixture_key(41);
	struct fixture f;
	struct wbuf m;

	fixture_init(&f, PROTO_KIND_MEASURE, key);
	/* Control: 110 after the known fields. */
	measure_start(&m);
	measure_mitigation(&m);
	w_len(&m, 110, "x", 1);
	expect_measure(&f, key, &m, 0, NULL);

	/* Unknown 110 before known 6. */
	measure_start(&m);
	w_len(&m, 110, "x", 1);
	measure_mitigation(&m);
	expect_measure(&f, key, &m, PROTO_E_DECODE, "out of ascending order");

	/* Two unknown fields in descending order. */
	measure_start(&m);
	measure_mitigation(&m);
	w_len(&m, 111, "x", 1);
	w_len(&m, 110, "x", 1);
	expect_measure(&f, key, &m, PROTO_E_DECODE, "out of ascending order");
	proto_key_free(key);
}

static void test_canonical__nonminimal_tag_length_or_value_of_unknown_field_is_rejected(void **state)
{
	static const uint8_t tag_long[] = { 0xf0, 0x86, 0x00, 0x01 };      /* field 110, varint 1 */
	static const uint8_t len_long[] = { 0xf2, 0x06, 0x83, 0x00, 'a', 'b', 'c' };
	static const uint8_t val_long[] = { 0xf0, 0x06, 0x81, 0x00 };
	static const uint8_t val_wide[] = { 0xf0, 0x06, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                    0xff, 0xff, 0xff, 0xff, 0x02 };   /* 65 bits */
	static const uint8_t val_max[] = { 0xf0, 0x06, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                   0xff, 0xff, 0xff, 0xff, 0x01 };    /* 2^64 - 1 */
	static const uint8_t len_past[] = { 0xf2, 0x06, 0x04, 'a', 'b', 'c' };
	struct proto_key *key = fixture_key(42);
	struct fixture f;
	struct wbuf m;

	fixture_init(&f, PROTO_KIND_MEASURE, key);
	/* Control: the minimal spellings. */
	measure_start(&m);
	measure_mitigation(&m);
	w_uint(&m, 110, 1);
	expect_measure(&f, key, &m, 0, NULL);
	measure_start(&m);
	measure_mitigation(&m);
	w_raw(&m, val_max, sizeof(val_max));
	expect_measure(&f, key, &m, 0, NULL);

	measure_start(&m);
	measure_mitigation(&m);
	w_raw(&m, tag_long, sizeof(tag_long));
	expect_measure(&f, key, &m, PROTO_E_DECODE, "non-minimal tag");

	measure_start(&m);
	measure_mitigation(&m);
	w_raw(&m, len_long, sizeof(len_long));
	expect_measure(&f, key, &m, PROTO_E_DECODE, "non-minimal length");

	measure_start(&m);
	measure_mitigation(&m);
	w_raw(&m, val_long, sizeof(val_long));
	expect_measure(&f, key, &m, PROTO_E_DECODE, "non-minimal varint");

	measure_start(&m);
	measure_mitigation(&m);
	w_raw(&m, val_wide, sizeof(val_wide));
	expect_measure(&f, key, &m, PROTO_E_DECODE, "non-minimal varint");

	measure_start(&m);
	measure_mitigation(&m);
	w_raw(&m, len_past, sizeof(len_past));
	expect_measure(&f, key, &m, PROTO_E_DECODE, NULL);
	proto_key_free(key);
}

static void test_canonical__repeated_unknown_number_must_be_consecutive_with_one_wire_type(void **state)
{
	struct proto_key *key = fixture_key(43);
	struct fixture f;
	struct wbuf m;

	fixture_init(&f, PROTO_KIND_MEASURE, key);
	/* A repeated field of a newer version: consecutive, one wire type. */
	measure_start(&m);
	measure_mitigation(&m);
	w_len(&m, 110, "a", 1);
	w_len(&m, 110, "b", 1);
	w_len(&m, 110, "c", 1);
	expect_measure(&f, key, &m, 0, NULL);

	measure_start(&m);
	measure_mitigation(&m);
	w_len(&m, 110, "a", 1);
	w_uint(&m, 110, 2);
	expect_measure(&f, key, &m, PROTO_E_DECODE, "given twice");

	measure_start(&m);
	measure_mitigation(&m);
	w_len(&m, 110, "a", 1);
	w_len(&m, 111, "b", 1);
	w_len(&m, 110, "c", 1);
	expect_measure(&f, key, &m, PROTO_E_DECODE, "out of ascending order");

	/* A known non-repeated field twice, even consecutively. */
	measure_start(&m);
	w_len(&m, 4, "da", 2);
	measure_mitigation(&m);
	expect_measure(&f, key, &m, PROTO_E_DECODE, "given twice");
	proto_key_free(key);
}

static void test_canonical__groups_and_undefined_wire_types_are_rejected(void **state)
{
	static const uint8_t fixed[] = { 0xf1, 0x06, 1, 2, 3, 4, 5, 6, 7, 8,   /* 110, 64-bit */
	                                 0xfd, 0x06, 1, 2, 3, 4 };              /* 111, 32-bit */
	struct proto_key *key = fixture_key(44);
	struct fixture f;
	struct wbuf m;

	fixture_init(&f, PROTO_KIND_MEASURE, key);
	measure_start(&m);
	measure_mitigation(&m);
	w_raw(&m, fixed, sizeof(fixed));
	expect_measure(&f, key, &m, 0, NULL);

	measure_start(&m);
	measure_mitigation(&m);
	w_raw(&m, fixed, 9);          /* the 64-bit value cut short */
	expect_measure(&f, key, &m, PROTO_E_DECODE, NULL);

	for (unsigned wt = 3; wt <= 7; wt++) {
		if (wt == 5)
			continue;
		measure_start(&m);
		measure_mitigation(&m);
		w_tag(&m, 110, wt);
		w_raw(&m, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
		expect_measure(&f, key, &m, PROTO_E_DECODE, wt <= 4 ? "group" : NULL);
	}
	proto_key_free(key);
}

static void test_canonical__a_record_holds_one_body_known_or_not(void **state)
{
	struct proto_key *key = fixture_key(45);
	struct fixture f;
	struct wbuf m, note, r;
	Agora__Record *rec = NULL;
	struct proto_error err = { 0 };

	fixture_init(&f, PROTO_KIND_MEASURE, key);
	measure_start(&m);
	measure_mitigation(&m);
	memset(&note, 0, sizeof(note));
	w_len(&note, 1, "a note", 6);

	/* Control: each body alone. */
	record_around(&r, &f, 30, &note);
	assert_int_equal(open_raw(&rec, &r, key, NULL), 0);
	agora__record__free_unpacked(rec, NULL);

	/* A measure and a newer kind. */
	record_around(&r, &f, PROTO_KIND_MEASURE, &m);
	w_len(&r, 30, note.b, note.n);
	assert_int_equal(open_raw(&rec, &r, key, &err), PROTO_E_DECODE);
	assert_non_null(strstr(err.msg, "second body"));

	/* Two newer kinds, and one newer kind twice. */
	record_around(&r, &f, 30, &note);
	w_len(&r, 31, note.b, note.n);
	assert_int_equal(open_raw(&rec, &r, key, NULL), PROTO_E_DECODE);
	record_around(&r, &f, 30, &note);
	w_len(&r, 30, note.b, note.n);
	assert_int_equal(open_raw(&rec, &r, key, NULL), PROTO_E_DECODE);

	/* A kind is a message, never a number. */
	memset(&r, 0, sizeof(r));
	w_header(&r, &f);
	w_uint(&r, 30, 5);
	assert_int_equal(open_raw(&rec, &r, key, &err), PROTO_E_DECODE);
	assert_non_null(strstr(err.msg, "not a message"));
	proto_key_free(key);
}

static void test_canonical__newer_kind_body_is_held_to_the_rules_at_its_top_level(void **state)
{
	struct proto_key *key = fixture_key(46);
	struct fixture f;
	struct wbuf note, r;
	Agora__Record *rec = NULL;
	struct proto_error err = { 0 };

	fixture_init(&f, PROTO_KIND_MEASURE, key);

	/* Its own length-delimited fields are opaque: a newer node checks them. */
	memset(&note, 0, sizeof(note));
	w_len(&note, 1, "a note", 6);
	w_len(&note, 3, "\xff\xff\x00", 3);
	record_around(&r, &f, 40, &note);
	assert_int_equal(open_raw(&rec, &r, key, NULL), 0);
	agora__record__free_unpacked(rec, NULL);

	memset(&note, 0, sizeof(note));
	w_len(&note, 2, "b", 1);
	w_len(&note, 1, "a", 1);
	record_around(&r, &f, 40, &note);
	assert_int_equal(open_raw(&rec, &r, key, &err), PROTO_E_DECODE);
	assert_non_null(strstr(err.msg, "newer kind"));

	memset(&note, 0, sizeof(note));
	w_raw(&note, "\x08\x81\x00", 3);   /* field 1 = 1, non-minimal */
	record_around(&r, &f, 40, &note);
	assert_int_equal(open_raw(&rec, &r, key, NULL), PROTO_E_DECODE);
	proto_key_free(key);
}

static void test_canonical__known_field_rules_still_hold(void **state)
{
	static const uint8_t neg_enum[] = { 0x40, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                    0xff, 0xff, 0xff, 0xff, 0x01 };   /* sector = -1 */
	static const uint8_t neg_enum32[] = { 0x40, 0xff, 0xff, 0xff, 0xff, 0x0f };
	struct proto_key *key = fixture_key(47);
	struct fixture f;
	struct wbuf m;

	fixture_init(&f, PROTO_KIND_MEASURE, key);

	/* areas (9) packed. */
	measure_start(&m);
	measure_mitigation(&m);
	w_len(&m, 9, "\x1b\x1e", 2);
	expect_measure(&f, key, &m, PROTO_E_DECODE, "packed");
	/* the same areas unpacked */
	measure_start(&m);
	measure_mitigation(&m);
	w_uint(&m, 9, 27);
	w_uint(&m, 9, 30);
	expect_measure(&f, key, &m, 0, NULL);

	/* mitigation = 2 */
	measure_start(&m);
	w_uint(&m, 6, 2);
	expect_measure(&f, key, &m, PROTO_E_DECODE, "range");

	/* language as a number */
	memset(&m, 0, sizeof(m));
	w_len(&m, 1, "Wetland", 7);
	w_uint(&m, 4, 1);
	measure_mitigation(&m);
	expect_measure(&f, key, &m, PROTO_E_DECODE, "wrong wire type");

	/* a NUL in the title */
	memset(&m, 0, sizeof(m));
	w_len(&m, 1, "Wet\0and", 7);
	w_len(&m, 4, "da", 2);
	measure_mitigation(&m);
	expect_measure(&f, key, &m, PROTO_E_DECODE, "NUL");

	/* start_year (uint32) wider than 32 bits */
	measure_start(&m);
	measure_mitigation(&m);
	w_uint(&m, 14, (1ull << 32) + 2021);
	expect_measure(&f, key, &m, PROTO_E_DECODE, "range");

	/* sector = -1: canonical as 10 bytes (then invalid), not as 5 */
	measure_start(&m);
	measure_mitigation(&m);
	w_raw(&m, neg_enum, sizeof(neg_enum));
	expect_measure(&f, key, &m, PROTO_E_FIELD, "measure.sector");
	measure_start(&m);
	measure_mitigation(&m);
	w_raw(&m, neg_enum32, sizeof(neg_enum32));
	expect_measure(&f, key, &m, PROTO_E_DECODE, "range");
	proto_key_free(key);
}

/* The walker and re-encoding agree on every plain record the fixtures make. */
static void test_canonical__walk_accepts_every_signed_fixture(void **state)
{
	static const enum proto_kind kinds[] = {
		PROTO_KIND_CHARTER, PROTO_KIND_ADMISSION, PROTO_KIND_REVOCATION,
		PROTO_KIND_KEY_ROTATION, PROTO_KIND_PROFILE, PROTO_KIND_TARGET,
		PROTO_KIND_INVENTORY, PROTO_KIND_MEASURE, PROTO_KIND_RESULT,
		PROTO_KIND_LESSON, PROTO_KIND_ENDORSEMENT, PROTO_KIND_SUPERSEDE,
		PROTO_KIND_RETRACT,
	};
	struct proto_key *key = fixture_key(48);

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct fixture f;
		struct wbuf r = { .n = 0 };
		Agora__Record *rec = NULL;

		fixture_init(&f, kinds[i], key);
		r.n = agora__record__get_packed_size(&f.rec);
		assert_true(r.n <= sizeof(r.b));
		agora__record__pack(&f.rec, r.b);
		assert_int_equal(open_raw(&rec, &r, key, NULL), 0);
		assert_int_equal(proto_record_newer(rec), 0);
		agora__record__free_unpacked(rec, NULL);
	}
	proto_key_free(key);
}

int canonical_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical__unknown_field_in_its_ascending_place_is_accepted),
		cmocka_unit_test(test_canonical__unknown_field_out_of_order_is_rejected),
		cmocka_unit_test(test_canonical__nonminimal_tag_length_or_value_of_unknown_field_is_rejected),
		cmocka_unit_test(test_canonical__repeated_unknown_number_must_be_consecutive_with_one_wire_type),
		cmocka_unit_test(test_canonical__groups_and_undefined_wire_types_are_rejected),
		cmocka_unit_test(test_canonical__a_record_holds_one_body_known_or_not),
		cmocka_unit_test(test_canonical__newer_kind_body_is_held_to_the_rules_at_its_top_level),
		cmocka_unit_test(test_canonical__known_field_rules_still_hold),
		cmocka_unit_test(test_canonical__walk_accepts_every_signed_fixture),
	};
	return cmocka_run_group_tests_name("canonical", tests, NULL, NULL);
}
