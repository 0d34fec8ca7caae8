#define _GNU_SOURCE  /* memmem */
/*
 * attach_test.c - the attachments of a record (field 30 of Measure, Result
 * and Lesson; PROTOCOL.md 1.5 "Attachments"): the field's round trip through
 * sign, open and decode, its bytes in canonical form, every rule refused at
 * the signer with the path it names, and what a receiver does with a list
 * that breaks them (carries the record, reads no attachment).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

/* Two attachments in caller-owned memory. */
struct two {
	Agora__Attachment a[PROTO_ATTACH_MAX + 1];
	Agora__Attachment *list[PROTO_ATTACH_MAX + 1];
	uint8_t hash[PROTO_ATTACH_MAX + 1][32];
};

static void two_init(struct two *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		agora__attachment__init(&t->a[i]);
		memset(t->hash[i], 0x40 + (int)i, 32);
		t->a[i].has_hash = 1;
		t->a[i].hash.data = t->hash[i];
		t->a[i].hash.len = 32;
		t->a[i].has_size = 1;
		t->a[i].size = 20u << 20;
		t->a[i].media_type = i ? "image/jpeg" : "application/pdf";
		t->a[i].name = i ? "våd eng.jpg" : "klimaplan 2030.pdf";
		t->list[i] = &t->a[i];
	}
}

static void test_attach__round_trips_through_sign_open_and_decode(void **state)
{
	static const enum proto_kind kinds[] = { PROTO_KIND_MEASURE, PROTO_KIND_RESULT,
	                                         PROTO_KIND_LESSON };
	struct proto_key *key = fixture_key(81);

	for (size_t k = 0; k < 3; k++) {
		struct fixture f;
		struct two t;
		Agora__Record *rec = NULL;
		Agora__Attachment *const *got = NULL;
		struct proto_error err = { 0 };
		uint8_t *env = NULL;
		size_t len = 0;

		fixture_init(&f, kinds[k], key);
		two_init(&t, 2);
		if (kinds[k] == PROTO_KIND_MEASURE) {
			f.measure.n_attachments = 2;
			f.measure.attachments = t.list;
		} else if (kinds[k] == PROTO_KIND_RESULT) {
			f.result.n_attachments = 2;
			f.result.attachments = t.list;
		} else {
			f.lesson.n_attachments = 2;
			f.lesson.attachments = t.list;
		}
		fixture_sign(&env, &len, &f, key);
		assert_int_equal(proto_envelope_open(&rec, env, len, NOW_MS, &err), 0);
		/* This build defines the field: nothing newer, nothing unread. */
		assert_int_equal(proto_record_newer(rec), 0);
		assert_int_equal(proto_record_attachments(&got, rec), 2);
		for (size_t i = 0; i < 2; i++) {
			assert_memory_equal(got[i]->hash.data, t.hash[i], 32);
			assert_int_equal(got[i]->size, 20u << 20);
			assert_string_equal(got[i]->media_type, t.a[i].media_type);
			assert_string_equal(got[i]->name, t.a[i].name);
		}
		/* Field 30, length-delimited: tag f2 01, after the kind's other fields. */
		uint8_t tag[2] = { 0xf2, 0x01 };
		assert_non_null(memmem(env, len, tag, 2));
		agora__record__free_unpacked(rec, NULL);
		free(env);
	}
	proto_key_free(key);
}

static void test_attach__a_record_without_attachments_has_none(void **state)
{
	struct proto_key *key = fixture_key(82);
	struct fixture f;
	Agora__Record *rec = NULL;
	Agora__Attachment *const *got = NULL;
	uint8_t *env = NULL;
	size_t len = 0;

	fixture_init(&f, PROTO_KIND_ENDORSEMENT, key);
	fixture_sign(&env, &len, &f, key);
	assert_int_equal(proto_envelope_open(&rec, env, len, NOW_MS, NULL), 0);
	assert_int_equal(proto_record_attachments(&got, rec), 0);
	assert_null(got);
	agora__record__free_unpacked(rec, NULL);
	free(env);
	proto_key_free(key);
}

/* Each rule, broken once, refused by the signer with its field path. */
static void test_attach__the_signer_refuses_each_broken_rule_naming_the_field(void **state)
{
	struct proto_key *key = fixture_key(83);
	uint8_t *env = NULL;
	size_t len = 0;
	static const char *bad_names[] = { "", "plans/klimaplan.pdf", "a\\b.pdf", "..",
	                                   "line\nbreak.pdf", "\xc3(.pdf", "c1\xc2\x85.pdf" };
	static const char *bad_types[] = { "pdf", "/pdf", "application/", "application/p df",
	                                   "application/pdf\n" };
	char longname[PROTO_ATTACH_NAME_MAX + 2];

	for (int c = 0; c < 7 + 5 + 6; c++) {
		struct fixture f;
		struct two t;
		struct proto_error err = { 0 };
		const char *field = "measure.attachments[1].name";

		fixture_init(&f, PROTO_KIND_MEASURE, key);
		two_init(&t, PROTO_ATTACH_MAX + 1);
		f.measure.n_attachments = 2;
		f.measure.attachments = t.list;
		if (c < 7) {
			t.a[1].name = (char *)bad_names[c];
		} else if (c < 12) {
			t.a[1].media_type = (char *)bad_types[c - 7];
			field = "measure.attachments[1].media_type";
		} else if (c == 12) {
			t.a[1].hash.len = 31;
			field = "measure.attachments[1].hash";
		} else if (c == 13) {
			t.a[1].size = 0;
			field = "measure.attachments[1].size";
		} else if (c == 14) {
			t.a[1].size = PROTO_ATTACH_SIZE_MAX + 1;
			field = "measure.attachments[1].size";
		} else if (c == 15) {
			memcpy(t.hash[1], t.hash[0], 32);
			field = "measure.attachments[1].hash";
		} else if (c == 16) {
			f.measure.n_attachments = PROTO_ATTACH_MAX + 1;
			field = "measure.attachments";
		} else {
			memset(longname, 'a', sizeof(longname) - 1);
			longname[sizeof(longname) - 1] = '\0';
			t.a[1].name = longname;
		}
		int rc = proto_record_sign(&env, &len, NULL, &f.rec, key, NOW_MS, &err);
		if (rc != PROTO_E_FIELD)
			fail_msg("case %d: signed (%d), expected a refusal", c, rc);
		assert_string_equal(err.field, field);
	}
	/* At the limits: PROTO_ATTACH_MAX files, the largest size, the longest name. */
	struct fixture f;
	struct two t;
	fixture_init(&f, PROTO_KIND_MEASURE, key);
	two_init(&t, PROTO_ATTACH_MAX);
	t.a[3].size = PROTO_ATTACH_SIZE_MAX;
	memset(longname, 'a', PROTO_ATTACH_NAME_MAX);
	longname[PROTO_ATTACH_NAME_MAX] = '\0';
	t.a[4].name = longname;
	f.measure.n_attachments = PROTO_ATTACH_MAX;
	f.measure.attachments = t.list;
	fixture_sign(&env, &len, &f, key);
	free(env);
	proto_key_free(key);
}

/*
 * PROTOCOL.md 7.4 item 8: nodes of record schema 1 and 2 carry field 30
 * unread whatever it holds, so this one carries a record whose list breaks
 * the rules too, and reads none of its attachments.
 */
static void test_attach__a_broken_list_is_carried_and_not_read(void **state)
{
	struct proto_key *key = fixture_key(84);
	struct fixture f;
	struct two t;
	struct wbuf body, r;
	Agora__Record *rec = NULL;
	Agora__Attachment *const *got = NULL;
	struct proto_error err = { 0 };

	fixture_init(&f, PROTO_KIND_MEASURE, key);
	two_init(&t, 1);
	t.a[0].size = 0;                             /* breaks "size 1 .. 1 GiB" */
	memset(&body, 0, sizeof(body));
	body.n = agora__measure__pack(&f.measure, body.b);
	w_msg(&body, 30, &t.a[0].base);
	memset(&r, 0, sizeof(r));
	w_header(&r, &f);
	w_len(&r, PROTO_KIND_MEASURE, body.b, body.n);
	assert_int_equal(open_raw(&rec, &r, key, &err), 0);
	assert_int_equal(proto_record_attachments(&got, rec), PROTO_E_FIELD);
	assert_null(got);
	/* As a signer sees it: refused. */
	assert_int_equal(proto_record_validate(rec, NOW_MS, &err), PROTO_E_FIELD);
	assert_string_equal(err.field, "measure.attachments[0].size");
	agora__record__free_unpacked(rec, NULL);
	proto_key_free(key);
}

int attach_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach__round_trips_through_sign_open_and_decode),
		cmocka_unit_test(test_attach__a_record_without_attachments_has_none),
		cmocka_unit_test(test_attach__the_signer_refuses_each_broken_rule_naming_the_field),
		cmocka_unit_test(test_attach__a_broken_list_is_carried_and_not_read),
	};
	return cmocka_run_group_tests_name("attach", tests, NULL, NULL);
}
