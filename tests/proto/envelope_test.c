#define _GNU_SOURCE  /* memmem */
/*
 * envelope_test.c - signing, opening and the canonical envelope.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <jansson.h>

#include "fixtures.h"

static const enum proto_kind all_kinds[] = {
	PROTO_KIND_CHARTER, PROTO_KIND_ADMISSION, PROTO_KIND_REVOCATION,
	PROTO_KIND_KEY_ROTATION, PROTO_KIND_PROFILE, PROTO_KIND_TARGET,
	PROTO_KIND_INVENTORY, PROTO_KIND_MEASURE, PROTO_KIND_RESULT,
	PROTO_KIND_LESSON, PROTO_KIND_ENDORSEMENT, PROTO_KIND_SUPERSEDE,
	PROTO_KIND_RETRACT,
};

static void test_envelope__sign_open_round_trip_every_kind(void **state)
{
	struct proto_key *key = fixture_key(1);

	for (size_t i = 0; i < sizeof(all_kinds) / sizeof(all_kinds[0]); i++) {
		struct fixture f;
		struct proto_envelope_view v;
		struct proto_error err = { 0 };
		Agora__Record *rec = NULL;
		uint8_t *env = NULL, id[32], id2[32];
		size_t len = 0;
		const ProtobufCMessage *content = NULL;

		fixture_init(&f, all_kinds[i], key);
		assert_int_equal(proto_record_sign(&env, &len, id, &f.rec, key, NOW_MS, &err), 0);
		assert_true(len <= PROTO_ENVELOPE_MAX);
		proto_record_id(id2, env, len);
		assert_memory_equal(id, id2, 32);

		/* The envelope carries exactly the packed record. */
		assert_int_equal(proto_envelope_split(&v, env, len), 0);
		assert_int_equal(v.record_len, agora__record__get_packed_size(&f.rec));
		uint8_t *packed = malloc(v.record_len + 1);
		agora__record__pack(&f.rec, packed);
		assert_memory_equal(packed, v.record, v.record_len);
		free(packed);
		assert_ptr_equal(v.sig, env + len - 64);

		int rc = proto_envelope_open(&rec, env, len, NOW_MS, &err);
		if (rc != 0)
			fail_msg("%s: %s %s", proto_kind_name(all_kinds[i]), err.field, err.msg);
		assert_int_equal(proto_record_kind(rec), all_kinds[i]);
		assert_int_equal(rec->seq, f.rec.seq);
		assert_memory_equal(rec->author.data, key->pk, 32);
		enum proto_kind ck = proto_record_content(rec, &content);
		assert_non_null(content);
		assert_int_equal(ck, all_kinds[i] == PROTO_KIND_SUPERSEDE ? PROTO_KIND_MEASURE
		                                                           : all_kinds[i]);
		assert_ptr_equal(content->descriptor, proto_kind_descriptor(ck));
		agora__record__free_unpacked(rec, NULL);
		free(env);
	}
	proto_key_free(key);
}

static void test_envelope__measure_text_survives_round_trip(void **state)
{
	struct proto_key *key = fixture_key(2);
	struct fixture f;
	Agora__Record *rec = NULL;
	uint8_t *env = NULL;
	size_t len = 0;

	fixture_init(&f, PROTO_KIND_MEASURE, key);
	fixture_sign(&env, &len, &f, key);
	assert_int_equal(proto_envelope_open(&rec, env, len, NOW_MS, NULL), 0);
	assert_string_equal(rec->measure->title, "Vådområde ved Gamborg Fjord");
	assert_int_equal(rec->measure->n_areas, 2);
	assert_int_equal(rec->measure->areas[0], AGORA__AREA__AREA_WETLANDS);
	assert_true(rec->measure->investment == 12500000);
	assert_string_equal(rec->measure->translations[0]->language, "en");
	agora__record__free_unpacked(rec, NULL);
	free(env);
	proto_key_free(key);
}

static json_t *load_vectors(void)
{
	json_error_t jerr;
	json_t *root = json_load_file(AGORA_VECTORS "/ed25519_rfc8032.json", 0, &jerr);

	if (!root)
		fail_msg("cannot load vectors: %s", jerr.text);
	return root;
}

static uint8_t *unhex_alloc(const char *hex, size_t *n)
{
	size_t len = strlen(hex) / 2;
	uint8_t *b = malloc(len + 1);

	assert_non_null(b);
	assert_int_equal(proto_unhex(b, len, hex), 0);
	*n = len;
	return b;
}

static void test_envelope__rfc8032_vectors_sign_and_verify(void **state)
{
	json_t *root = load_vectors();
	json_t *vectors = json_object_get(root, "vectors");
	size_t i;
	json_t *vec;

	assert_true(json_array_size(vectors) >= 4);
	json_array_foreach(vectors, i, vec) {
		uint8_t seed[32], pk[32], sig[64], mine[64];
		size_t mlen;
		struct proto_key *key = NULL;
		uint8_t *msg;

		assert_int_equal(proto_unhex(seed, 32, json_string_value(json_object_get(vec, "secret_key"))), 0);
		assert_int_equal(proto_unhex(pk, 32, json_string_value(json_object_get(vec, "public_key"))), 0);
		assert_int_equal(proto_unhex(sig, 64, json_string_value(json_object_get(vec, "signature"))), 0);
		msg = unhex_alloc(json_string_value(json_object_get(vec, "message")), &mlen);

		assert_int_equal(proto_key_from_seed(&key, seed), 0);
		assert_memory_equal(key->pk, pk, 32);
		crypto_sign_detached(mine, NULL, msg, mlen, key->sk);
		assert_memory_equal(mine, sig, 64);
		assert_int_equal(crypto_sign_verify_detached(sig, msg, mlen, pk), 0);
		sig[0] ^= 1;
		assert_int_not_equal(crypto_sign_verify_detached(sig, msg, mlen, pk), 0);
		proto_key_free(key);
		free(msg);
	}
	json_decref(root);
}

static void test_envelope__every_single_bit_flip_rejected(void **state)
{
	struct proto_key *key = fixture_key(3);
	struct fixture f;
	uint8_t *env = NULL;
	size_t len = 0;

	fixture_init(&f, PROTO_KIND_RESULT, key);
	fixture_sign(&env, &len, &f, key);
	for (size_t bit = 0; bit < len * 8; bit++) {
		Agora__Record *rec = NULL;
		env[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int rc = proto_envelope_open(&rec, env, len, NOW_MS, NULL);
		if (rc == 0)
			fail_msg("flip of bit %zu accepted", bit);
		assert_null(rec);
		env[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	Agora__Record *rec = NULL;
	assert_int_equal(proto_envelope_open(&rec, env, len, NOW_MS, NULL), 0);
	agora__record__free_unpacked(rec, NULL);
	free(env);
	proto_key_free(key);
}

static void test_envelope__wrong_author_rejected(void **state)
{
	struct proto_key *alice = fixture_key(4), *mallory = fixture_key(5);
	struct fixture f;
	struct proto_error err = { 0 };
	Agora__Record *rec = NULL;
	uint8_t *env = NULL, *packed;
	size_t len = 0, plen;

	/* Signing a record that names someone else as author is refused. */
	fixture_init(&f, PROTO_KIND_MEASURE, alice);
	assert_int_equal(proto_record_sign(&env, &len, NULL, &f.rec, mallory, NOW_MS, &err),
	                 PROTO_E_ARG);
	assert_null(env);

	/* A record naming alice but signed by mallory does not open. */
	plen = agora__record__get_packed_size(&f.rec);
	packed = malloc(plen);
	agora__record__pack(&f.rec, packed);
	fixture_envelope_raw(&env, &len, packed, plen, mallory);
	assert_int_equal(proto_envelope_open(&rec, env, len, NOW_MS, &err), PROTO_E_SIGNATURE);
	assert_null(rec);
	free(env);
	/* The same bytes signed by alice do. */
	fixture_envelope_raw(&env, &len, packed, plen, alice);
	assert_int_equal(proto_envelope_open(&rec, env, len, NOW_MS, &err), 0);
	agora__record__free_unpacked(rec, NULL);
	free(env);
	free(packed);
	proto_key_free(alice);
	proto_key_free(mallory);
}

static void sign_created(uint8_t **env, size_t *len, struct fixture *f,
                         const struct proto_key *key, uint64_t created)
{
	f->rec.created_ms = created;
	assert_int_equal(proto_record_sign(env, len, NULL, &f->rec, key, created, NULL), 0);
}

static void test_envelope__future_timestamp_rejected_but_14_minutes_ok(void **state)
{
	struct proto_key *key = fixture_key(6);
	struct fixture f;
	struct proto_error err = { 0 };
	Agora__Record *rec = NULL;
	uint8_t *env = NULL;
	size_t len = 0;

	fixture_init(&f, PROTO_KIND_LESSON, key);
	sign_created(&env, &len, &f, key, NOW_MS + 16 * 60 * 1000);
	assert_int_equal(proto_envelope_open(&rec, env, len, NOW_MS, &err), PROTO_E_FUTURE);
	assert_int_equal(err.code, PROTO_E_FUTURE);
	assert_string_equal(err.field, "created_ms");
	assert_null(rec);
	free(env);

	sign_created(&env, &len, &f, key, NOW_MS + PROTO_FUTURE_MS + 1);
	assert_int_equal(proto_envelope_open(&rec, env, len, NOW_MS, NULL), PROTO_E_FUTURE);
	free(env);

	sign_created(&env, &len, &f, key, NOW_MS + 14 * 60 * 1000);
	assert_int_equal(proto_envelope_open(&rec, env, len, NOW_MS, NULL), 0);
	agora__record__free_unpacked(rec, NULL);
	rec = NULL;
	free(env);

	/* Exactly 15 minutes ahead is still accepted; past dates always are. */
	sign_created(&env, &len, &f, key, NOW_MS + PROTO_FUTURE_MS);
	assert_int_equal(proto_envelope_open(&rec, env, len, NOW_MS, NULL), 0);
	agora__record__free_unpacked(rec, NULL);
	free(env);

	/* Signing validates too: a node never signs a record dated too far ahead. */
	f.rec.created_ms = NOW_MS + 20 * 60 * 1000;
	env = NULL;
	assert_int_equal(proto_record_sign(&env, &len, NULL, &f.rec, key, NOW_MS, NULL),
	                 PROTO_E_FUTURE);
	assert_null(env);
	proto_key_free(key);
}

static void test_envelope__oversized_rejected(void **state)
{
	struct proto_key *key = fixture_key(7);
	struct fixture f;
	struct proto_error err = { 0 };
	Agora__Record *rec = NULL;
	uint8_t *env = NULL;
	size_t len = 0;
	char *big1 = malloc(30001), *big2 = malloc(30001), *big3 = malloc(30001);

	memset(big1, 'a', 30000);
	big1[30000] = '\0';
	memcpy(big2, big1, 30001);
	memcpy(big3, big1, 30001);
	fixture_init(&f, PROTO_KIND_MEASURE, key);
	f.measure.summary = big1;
	f.measure.description = big2;
	f.translation.description = big3;
	assert_int_equal(proto_record_sign(&env, &len, NULL, &f.rec, key, NOW_MS, &err),
	                 PROTO_E_TOO_BIG);
	assert_null(env);

	/* Opening checks the size before anything else. */
	uint8_t *huge = calloc(1, PROTO_ENVELOPE_MAX + 1);
	assert_int_equal(proto_envelope_open(&rec, huge, PROTO_ENVELOPE_MAX + 1, NOW_MS, &err),
	                 PROTO_E_TOO_BIG);
	struct proto_envelope_view v;
	assert_int_equal(proto_envelope_split(&v, huge, PROTO_ENVELOPE_MAX + 1), PROTO_E_TOO_BIG);
	free(huge);
	free(big1);
	free(big2);
	free(big3);
	proto_key_free(key);
}

static void test_envelope__truncated_or_padded_envelope_rejected(void **state)
{
	struct proto_key *key = fixture_key(8);
	struct fixture f;
	Agora__Record *rec = NULL;
	struct proto_envelope_view v;
	uint8_t *env = NULL, *longer;
	size_t len = 0;

	fixture_init(&f, PROTO_KIND_TARGET, key);
	fixture_sign(&env, &len, &f, key);
	for (size_t n = 0; n < len; n++) {
		assert_int_equal(proto_envelope_split(&v, env, n), PROTO_E_ENVELOPE);
		assert_int_equal(proto_envelope_open(&rec, env, n, NOW_MS, NULL), PROTO_E_ENVELOPE);
	}
	longer = malloc(len + 1);
	memcpy(longer, env, len);
	longer[len] = 0;
	assert_int_equal(proto_envelope_open(&rec, longer, len + 1, NOW_MS, NULL), PROTO_E_ENVELOPE);
	free(longer);
	assert_null(rec);
	free(env);
	proto_key_free(key);
}

/* Write v as a varint, padded with `pad` redundant continuation bytes. */
static size_t put_varint(uint8_t *p, uint64_t v, int pad)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	if (pad == 0) {
		p[n++] = (uint8_t)v;
		return n;
	}
	p[n++] = (uint8_t)(v | 0x80);
	while (--pad > 0)
		p[n++] = 0x80;
	p[n++] = 0x00;
	return n;
}

static void test_envelope__noncanonical_envelope_forms_rejected(void **state)
{
	struct proto_key *key = fixture_key(9);
	struct fixture f;
	Agora__Record *rec = NULL;
	struct proto_envelope_view v;
	uint8_t *env = NULL, *alt;
	size_t len = 0, n;

	fixture_init(&f, PROTO_KIND_RETRACT, key);
	fixture_sign(&env, &len, &f, key);
	assert_int_equal(proto_envelope_split(&v, env, len), 0);
	size_t rlen = v.record_len;
	alt = malloc(len + 16);

	/* Same record length written as a non-minimal varint. */
	alt[0] = 0x0a;
	n = 1 + put_varint(alt + 1, rlen, 1);
	memcpy(alt + n, v.record, len - (size_t)(v.record - env));
	n += len - (size_t)(v.record - env);
	assert_int_equal(n, len + 1);
	assert_int_equal(proto_envelope_split(&v, alt, n), PROTO_E_ENVELOPE);
	assert_int_equal(proto_envelope_open(&rec, alt, n, NOW_MS, NULL), PROTO_E_ENVELOPE);

	/* Fields swapped: signature first. */
	assert_int_equal(proto_envelope_split(&v, env, len), 0);
	alt[0] = 0x12;
	alt[1] = 0x40;
	memcpy(alt + 2, v.sig, 64);
	alt[66] = 0x0a;
	n = 67 + put_varint(alt + 67, rlen, 0);
	memcpy(alt + n, v.record, rlen);
	assert_int_equal(n + rlen, len);
	assert_int_equal(proto_envelope_open(&rec, alt, len, NOW_MS, NULL), PROTO_E_ENVELOPE);

	/* A 63-byte signature field. */
	memcpy(alt, env, len);
	alt[(size_t)(v.sig - env) - 1] = 0x3f;
	assert_int_equal(proto_envelope_split(&v, alt, len - 1), PROTO_E_ENVELOPE);

	/* A record length pointing past the end. */
	memcpy(alt, env, len);
	put_varint(alt + 1, rlen + 1, 0);
	assert_int_equal(proto_envelope_split(&v, alt, len), PROTO_E_ENVELOPE);

	/* A wrong signature tag (field 3). */
	memcpy(alt, env, len);
	assert_int_equal(proto_envelope_split(&v, env, len), 0);
	alt[(size_t)(v.sig - env) - 2] = 0x1a;
	assert_int_equal(proto_envelope_split(&v, alt, len), PROTO_E_ENVELOPE);

	/* The canonical form splits into the documented parts. */
	assert_int_equal(proto_envelope_split(&v, env, len), 0);
	assert_int_equal(v.record_len, rlen);
	assert_ptr_equal(v.record, env + 1 + (rlen < 128 ? 1 : rlen < 16384 ? 2 : 3));
	assert_ptr_equal(v.sig, env + len - 64);
	free(alt);
	free(env);
	proto_key_free(key);
}

/* Open validly signed but non-canonical record bytes; expect PROTO_E_DECODE. */
static void expect_decode_error_msg(const uint8_t *rec_bytes, size_t n, const struct proto_key *key,
                                    const char *why)
{
	uint8_t *env = NULL;
	size_t len = 0;
	Agora__Record *rec = NULL;
	struct proto_error err = { 0 };

	fixture_envelope_raw(&env, &len, rec_bytes, n, key);
	assert_int_equal(proto_envelope_open(&rec, env, len, NOW_MS, &err), PROTO_E_DECODE);
	assert_int_equal(err.code, PROTO_E_DECODE);
	if (why && !strstr(err.msg, why))
		fail_msg("rejected for \"%s\", expected \"%s\"", err.msg, why);
	assert_null(rec);
	free(env);
}

static void expect_decode_error(const uint8_t *rec_bytes, size_t n, const struct proto_key *key)
{
	expect_decode_error_msg(rec_bytes, n, key, NULL);
}

static uint8_t *pack(const Agora__Record *r, size_t *n, size_t extra)
{
	uint8_t *b;

	*n = agora__record__get_packed_size(r);
	b = malloc(*n + extra);
	assert_non_null(b);
	agora__record__pack(r, b);
	return b;
}

static void test_envelope__noncanonical_record_rejected_even_when_signed(void **state)
{
	struct proto_key *key = fixture_key(10);
	struct fixture f;
	uint8_t *b, *m;
	size_t n, mn, k;

	fixture_init(&f, PROTO_KIND_MEASURE, key);

	/* Control: the same path accepts the canonical bytes. */
	{
		uint8_t *env = NULL;
		size_t len;
		Agora__Record *rec = NULL;
		b = pack(&f.rec, &n, 0);
		fixture_envelope_raw(&env, &len, b, n, key);
		assert_int_equal(proto_envelope_open(&rec, env, len, NOW_MS, NULL), 0);
		agora__record__free_unpacked(rec, NULL);
		free(env);
		free(b);
	}

	/* An embedded NUL in a string (protobuf-c would cut the title short). */
	f.measure.title = "Xetland";
	b = pack(&f.rec, &n, 0);
	uint8_t *x = memmem(b, n, "Xetland", 7);
	assert_non_null(x);
	*x = '\0';
	expect_decode_error(b, n, key);
	free(b);
	f.measure.title = "Wetland";

	/*
	 * A field 100 after the body: 100 is in the body range (a governance
	 * kind of a newer version), so this is a second body.  Fields of newer
	 * versions are accepted only in their place: canonical_test.c.
	 */
	b = pack(&f.rec, &n, 3);
	b[n] = 0xa0;  /* field 100, varint */
	b[n + 1] = 0x06;
	b[n + 2] = 0x01;
	expect_decode_error_msg(b, n + 3, key, "second body");
	free(b);

	/* An unknown field inside the measure, before its known field 6. */
	f.rec.body_case = AGORA__RECORD__BODY__NOT_SET;
	b = pack(&f.rec, &n, 0);
	mn = agora__measure__get_packed_size(&f.measure);
	m = malloc(mn + 3);
	agora__measure__pack(&f.measure, m);
	uint8_t *six = memmem(m, mn, "\x30\x01", 2);   /* field 6 = true */
	assert_non_null(six);
	memmove(six + 3, six, mn - (size_t)(six - m));
	six[0] = 0x98;  /* field 99 inside Measure */
	six[1] = 0x06;
	six[2] = 0x01;
	mn += 3;
	b = realloc(b, n + 8 + mn);
	b[n] = 0xba;   /* field 23, length-delimited */
	b[n + 1] = 0x01;
	k = n + 2 + put_varint(b + n + 2, mn, 0);
	memcpy(b + k, m, mn);
	expect_decode_error_msg(b, k + mn, key, "out of ascending order");
	free(m);
	free(b);
	f.rec.body_case = AGORA__RECORD__BODY_MEASURE;

	/* seq = 2 written as a non-minimal varint 0x82 0x00. */
	b = pack(&f.rec, &n, 1);
	assert_int_equal(b[68], 0x18);
	assert_int_equal(b[69], 0x02);
	memmove(b + 71, b + 70, n - 70);
	b[69] = 0x82;
	b[70] = 0x00;
	expect_decode_error(b, n + 1, key);
	free(b);

	/* seq given twice (the last one wins in protobuf: a second spelling). */
	b = pack(&f.rec, &n, 2);
	b[n] = 0x18;
	b[n + 1] = 0x02;
	expect_decode_error(b, n + 2, key);
	free(b);

	/* A boolean stored as 2. */
	f.rec.body_case = AGORA__RECORD__BODY__NOT_SET;
	b = pack(&f.rec, &n, 0);
	f.rec.body_case = AGORA__RECORD__BODY_MEASURE;
	f.measure.has_adaptation = 0;
	mn = agora__measure__get_packed_size(&f.measure);
	m = malloc(mn);
	agora__measure__pack(&f.measure, m);
	uint8_t *mit = memmem(m, mn, "\x30\x01", 2);   /* field 6 = true */
	assert_non_null(mit);
	mit[1] = 0x02;
	b = realloc(b, n + 8 + mn);
	b[n] = 0xba;
	b[n + 1] = 0x01;
	k = n + 2 + put_varint(b + n + 2, mn, 0);
	memcpy(b + k, m, mn);
	/* Control: with the true value restored the same bytes are accepted. */
	b[k + (size_t)(mit - m) + 1] = 0x01;
	{
		uint8_t *env = NULL;
		size_t len;
		Agora__Record *rec = NULL;
		fixture_envelope_raw(&env, &len, b, k + mn, key);
		assert_int_equal(proto_envelope_open(&rec, env, len, NOW_MS, NULL), 0);
		agora__record__free_unpacked(rec, NULL);
		free(env);
	}
	b[k + (size_t)(mit - m) + 1] = 0x02;
	expect_decode_error(b, k + mn, key);
	free(m);
	free(b);

	/* Bytes that are not a protobuf message at all. */
	static const uint8_t junk[] = { 0xff, 0xff, 0xff };
	expect_decode_error(junk, sizeof(junk), key);
	proto_key_free(key);
}

static void test_envelope__record_id_is_blake2b_of_whole_envelope(void **state)
{
	struct proto_key *key = fixture_key(11);
	struct fixture f;
	uint8_t *env = NULL, id[32], want[32];
	size_t len = 0;

	fixture_init(&f, PROTO_KIND_PROFILE, key);
	assert_int_equal(proto_record_sign(&env, &len, id, &f.rec, key, NOW_MS, NULL), 0);
	crypto_generichash(want, 32, env, len, NULL, 0);
	assert_memory_equal(id, want, 32);
	/* Ed25519 is deterministic: signing again gives the same id. */
	uint8_t *env2 = NULL, id2[32];
	size_t len2 = 0;
	assert_int_equal(proto_record_sign(&env2, &len2, id2, &f.rec, key, NOW_MS, NULL), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(id, id2, 32);
	free(env);
	free(env2);
	proto_key_free(key);
}

int envelope_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envelope__sign_open_round_trip_every_kind),
		cmocka_unit_test(test_envelope__measure_text_survives_round_trip),
		cmocka_unit_test(test_envelope__rfc8032_vectors_sign_and_verify),
		cmocka_unit_test(test_envelope__every_single_bit_flip_rejected),
		cmocka_unit_test(test_envelope__wrong_author_rejected),
		cmocka_unit_test(test_envelope__future_timestamp_rejected_but_14_minutes_ok),
		cmocka_unit_test(test_envelope__oversized_rejected),
		cmocka_unit_test(test_envelope__truncated_or_padded_envelope_rejected),
		cmocka_unit_test(test_envelope__noncanonical_envelope_forms_rejected),
		cmocka_unit_test(test_envelope__noncanonical_record_rejected_even_when_signed),
		cmocka_unit_test(test_envelope__record_id_is_blake2b_of_whole_envelope),
	};
	return cmocka_run_group_tests_name("envelope", tests, NULL, NULL);
}
