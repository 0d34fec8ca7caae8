/*
 * compat_test.c - today's agora opens what a newer version signs, and a
 * newer version reads today's records whole (issue 12, point 5, at the
 * proto level).
 *
 * The newer version is the schema of proto/schema_next.cmake: agora.proto
 * plus content kind 63 (TestNote) and Measure field 100 (test_extra),
 * compiled under the package agora_next so that its C names live beside
 * today's.  Records are packed with the newer schema exactly as a newer
 * agora's proto_record_sign packs them, signed, and opened with today's
 * proto_envelope_open.
 */
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "agora_next.pb-c.h"

/* The header every record here carries: seq 2 of key in alliance a1..a1. */
struct next_record {
	AgoraNext__Record rec;
	uint8_t alliance[32], prev[32], author[32];
};

static void next_header(struct next_record *n, const struct proto_key *key)
{
	agora_next__record__init(&n->rec);
	memset(n->alliance, 0xa1, 32);
	memset(n->prev, 0xb2, 32);
	memcpy(n->author, key->pk, 32);
	n->rec.has_alliance = 1;
	n->rec.alliance.data = n->alliance;
	n->rec.alliance.len = 32;
	n->rec.has_author = 1;
	n->rec.author.data = n->author;
	n->rec.author.len = 32;
	n->rec.has_seq = 1;
	n->rec.seq = 2;
	n->rec.has_prev = 1;
	n->rec.prev.data = n->prev;
	n->rec.prev.len = 32;
	n->rec.has_created_ms = 1;
	n->rec.created_ms = NOW_MS - 1000;
}

/* Pack with the newer schema, sign as key, open with today's proto. */
static int open_next(Agora__Record **out, const AgoraNext__Record *rec, const struct proto_key *key,
                     struct wbuf *bytes)
{
	struct proto_error err = { 0 };
	int rc;

	memset(bytes, 0, sizeof(*bytes));
	assert_true(agora_next__record__get_packed_size(rec) <= sizeof(bytes->b));
	bytes->n = agora_next__record__pack(rec, bytes->b);
	rc = open_raw(out, bytes, key, &err);
	if (rc != 0)
		print_message("open: %s (%s: %s)\n", proto_strerror(rc), err.field, err.msg);
	return rc;
}

static void test_compat__todays_proto_opens_a_newer_kind(void **state)
{
	struct proto_key *key = fixture_key(70);
	struct next_record n;
	AgoraNext__TestNote note;
	Agora__Record *rec = NULL;
	const ProtobufCMessage *msg = NULL;
	struct wbuf bytes;
	char text[160];

	next_header(&n, key);
	agora_next__test_note__init(&note);
	note.text = "Noter fra topmødet i Vejle.";
	note.language = "da";
	n.rec.body_case = AGORA_NEXT__RECORD__BODY_TEST_NOTE;
	n.rec.test_note = &note;
	assert_int_equal(open_next(&rec, &n.rec, key, &bytes), 0);
	assert_int_equal(proto_record_kind(rec), 63);
	assert_int_equal(proto_record_content(rec, &msg), 63);
	assert_null(msg);
	assert_int_equal(proto_record_newer(rec), PROTO_NEWER_KIND);
	assert_true(proto_record_newer_text(text, sizeof(text), rec));
	assert_string_equal(text, "a record of a newer kind (63): upgrade agora to read it");
	assert_int_equal(rec->seq, 2);
	assert_memory_equal(rec->alliance.data, n.alliance, 32);
	agora__record__free_unpacked(rec, NULL);

	/* What today's node stores is read whole by the newer one. */
	AgoraNext__Record *back = agora_next__record__unpack(NULL, bytes.n, bytes.b);
	assert_non_null(back);
	assert_string_equal(back->test_note->text, "Noter fra topmødet i Vejle.");
	agora_next__record__free_unpacked(back, NULL);
	proto_key_free(key);
}

static void test_compat__todays_proto_reads_a_measure_with_a_newer_field(void **state)
{
	struct proto_key *key = fixture_key(71);
	struct next_record n;
	AgoraNext__Measure m;
	AgoraNext__Supersede sup;
	AgoraNext__TestNote note;
	Agora__Record *rec = NULL;
	const ProtobufCMessage *msg = NULL;
	struct wbuf bytes;
	uint8_t target[32];

	next_header(&n, key);
	agora_next__measure__init(&m);
	m.title = "Vådområde ved Haarby Å";
	m.language = "da";
	m.has_adaptation = 1;
	m.adaptation = 1;
	m.has_end_year = 1;
	m.end_year = 2027;
	m.test_extra = "only a newer agora reads this";
	n.rec.body_case = AGORA_NEXT__RECORD__BODY_MEASURE;
	n.rec.measure = &m;
	assert_int_equal(open_next(&rec, &n.rec, key, &bytes), 0);
	assert_int_equal(proto_record_content(rec, &msg), PROTO_KIND_MEASURE);
	assert_non_null(msg);
	assert_string_equal(rec->measure->title, "Vådområde ved Haarby Å");
	assert_int_equal(rec->measure->end_year, 2027);
	assert_int_equal(proto_record_newer(rec), PROTO_NEWER_FIELDS);
	agora__record__free_unpacked(rec, NULL);

	/* Edits: a Supersede of the newer kind, and one of the measure. */
	memset(target, 0xc3, sizeof(target));
	agora_next__supersede__init(&sup);
	sup.has_target = 1;
	sup.target.data = target;
	sup.target.len = 32;
	agora_next__test_note__init(&note);
	note.text = "Rettet.";
	sup.body_case = AGORA_NEXT__SUPERSEDE__BODY_TEST_NOTE;
	sup.test_note = &note;
	n.rec.body_case = AGORA_NEXT__RECORD__BODY_SUPERSEDE;
	n.rec.supersede = &sup;
	assert_int_equal(open_next(&rec, &n.rec, key, &bytes), 0);
	assert_int_equal(proto_record_kind(rec), PROTO_KIND_SUPERSEDE);
	assert_int_equal(proto_record_content(rec, NULL), 63);
	agora__record__free_unpacked(rec, NULL);

	sup.body_case = AGORA_NEXT__SUPERSEDE__BODY_MEASURE;
	sup.measure = &m;
	assert_int_equal(open_next(&rec, &n.rec, key, &bytes), 0);
	assert_int_equal(proto_record_content(rec, NULL), PROTO_KIND_MEASURE);
	assert_int_equal(proto_record_newer(rec), PROTO_NEWER_FIELDS);
	agora__record__free_unpacked(rec, NULL);
	proto_key_free(key);
}

/* Every record today's agora signs is read by the newer schema with nothing left over. */
static void test_compat__newer_schema_reads_todays_records_whole(void **state)
{
	static const enum proto_kind kinds[] = {
		PROTO_KIND_CHARTER, PROTO_KIND_ADMISSION, PROTO_KIND_REVOCATION,
		PROTO_KIND_KEY_ROTATION, PROTO_KIND_PROFILE, PROTO_KIND_TARGET,
		PROTO_KIND_INVENTORY, PROTO_KIND_MEASURE, PROTO_KIND_RESULT,
		PROTO_KIND_LESSON, PROTO_KIND_ENDORSEMENT, PROTO_KIND_SUPERSEDE,
		PROTO_KIND_RETRACT,
	};
	struct proto_key *key = fixture_key(72);

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct fixture f;
		struct proto_envelope_view v;
		uint8_t *env = NULL, *again;
		size_t len = 0;

		fixture_init(&f, kinds[i], key);
		fixture_sign(&env, &len, &f, key);
		assert_int_equal(proto_envelope_split(&v, env, len), 0);
		AgoraNext__Record *r = agora_next__record__unpack(NULL, v.record_len, v.record);
		assert_non_null(r);
		assert_int_equal(r->base.n_unknown_fields, 0);
		assert_int_equal((int)r->body_case, (int)kinds[i]);
		assert_int_equal(agora_next__record__get_packed_size(r), v.record_len);
		again = malloc(v.record_len);
		assert_non_null(again);
		agora_next__record__pack(r, again);
		assert_memory_equal(again, v.record, v.record_len);
		free(again);
		agora_next__record__free_unpacked(r, NULL);
		free(env);
	}
	proto_key_free(key);
}

int compat_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compat__todays_proto_opens_a_newer_kind),
		cmocka_unit_test(test_compat__todays_proto_reads_a_measure_with_a_newer_field),
		cmocka_unit_test(test_compat__newer_schema_reads_todays_records_whole),
	};
	return cmocka_run_group_tests_name("compat", tests, NULL, NULL);
}
