/*
 * endpoint_test.c - the Endpoint record (kind 29, PROTOCOL.md 1.5 and
 * 6.10): every address rule accepted and refused, the record rules with the
 * field paths they name, and what a receiver does with an Endpoint that
 * breaks them (carries it unread, as a version-1 node does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

static void test_endpoint__addresses_of_every_form_are_accepted(void **state)
{
	static const struct {
		const char *addr, *host;
		uint16_t port;
	} good[] = {
		{ "agora.assens.dk:7420", "agora.assens.dk", 7420 },
		{ "localhost:1", "localhost", 1 },
		{ "127.0.0.1:65535", "127.0.0.1", 65535 },
		{ "192.0.2.10:7420", "192.0.2.10", 7420 },
		{ "[2001:db8::7]:7420", "2001:db8::7", 7420 },
		{ "[::1]:7420", "::1", 7420 },
		{ "[::ffff:192.0.2.1]:80", "::ffff:192.0.2.1", 80 },
		{ "xn--vdomrde-hxa.dk:7420", "xn--vdomrde-hxa.dk", 7420 },
		{ "a-b.c-d.example:7420", "a-b.c-d.example", 7420 },
		{ "node7.example:7420", "node7.example", 7420 },
		{ "1.example:7420", "1.example", 7420 },       /* a numeric label, not the last */
	};
	char host[PROTO_ADDRESS_MAX + 1];
	uint16_t port;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *why = "untouched";
		if (proto_address_parse(host, sizeof(host), &port, good[i].addr, &why) != 0)
			fail_msg("\"%s\" should be accepted; refused: %s", good[i].addr, why);
		assert_string_equal(host, good[i].host);
		assert_int_equal(port, good[i].port);
		assert_string_equal(why, "untouched");
	}
	/* Host and port are optional outputs. */
	assert_int_equal(proto_address_parse(NULL, 0, NULL, "a.example:1", NULL), 0);
	/* The longest name: four labels of 63 and one dot short of 253 bytes. */
	char longest[PROTO_ADDRESS_MAX + 2];
	memset(longest, 'a', sizeof(longest));
	for (int d = 63; d < 253; d += 64)
		longest[d] = '.';
	longest[252] = 'z';
	memcpy(longest + 253, ":65535", 7);
	assert_int_equal(strlen(longest), PROTO_ADDRESS_MAX);
	assert_int_equal(proto_address_parse(host, sizeof(host), &port, longest, NULL), 0);
	/* A buffer too small for the host is the caller's mistake, not the address's. */
	assert_int_equal(proto_address_parse(host, 4, &port, "a.example:1", NULL), PROTO_E_ARG);
}

static void test_endpoint__bad_addresses_are_refused_saying_why(void **state)
{
	static const struct {
		const char *addr, *says;
	} bad[] = {
		{ "", "is empty" },
		{ "agora.assens.dk", "has no port" },
		{ "agora.assens.dk:", "not a number from 1 to 65535" },
		{ "agora.assens.dk:0", "not a number from 1 to 65535" },
		{ "agora.assens.dk:65536", "not a number from 1 to 65535" },
		{ "agora.assens.dk:07420", "no leading zeros" },
		{ "agora.assens.dk:+7420", "not a number" },
		{ "agora.assens.dk:74x", "not a number" },
		{ ":7420", "no host" },
		{ "agora assens.dk:7420", "a blank" },
		{ "agora.assens.dk:7420 ", "a blank" },
		{ "agora\t.dk:7420", "control character" },
		{ "vådområde.dk:7420", "non-ASCII" },
		{ "2001:db8::7:7420", "without brackets" },
		{ "[2001:db8::7:7420", "does not close" },
		{ "[2001:db8::7]7420", "has no port" },
		{ "[2001:db8::7]:", "not a number" },
		{ "[fe80::1%eth0]:7420", "zone index" },
		{ "[agora.dk]:7420", "not an IPv6 address" },
		{ "[]:7420", "not an IPv6 address" },
		{ "agora.dk]:7420", "']' without a '['" },
		{ "agora..dk:7420", "empty part" },
		{ ".agora.dk:7420", "empty part" },
		{ "agora.dk.:7420", "empty part" },
		{ "-agora.dk:7420", "starts or ends with '-'" },
		{ "agora-.dk:7420", "starts or ends with '-'" },
		{ "agora_node.dk:7420", "neither a name" },
		{ "agora.dk/x:7420", "neither a name" },
		{ "10.0.0.300:7420", "not an IPv4 address" },
		{ "10.0.0:7420", "not an IPv4 address" },
		{ "010.0.0.1:7420", "not an IPv4 address" },
		{ "1234:7420", "not an IPv4 address" },
		{ "0.0.0.0:7420", "unspecified address" },
		{ "[::]:7420", "unspecified address" },
		{ "[::ffff:0.0.0.0]:7420", "unspecified address" },
	};
	char host[PROTO_ADDRESS_MAX + 1] = "untouched";
	uint16_t port = 4242;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;
		if (proto_address_parse(host, sizeof(host), &port, bad[i].addr, &why) != PROTO_E_FIELD)
			fail_msg("\"%s\" should be refused", bad[i].addr);
		assert_non_null(why);
		if (!strstr(why, bad[i].says))
			fail_msg("\"%s\": \"%s\" does not say \"%s\"", bad[i].addr, why, bad[i].says);
	}
	/* Out-params are written only on success. */
	assert_string_equal(host, "untouched");
	assert_int_equal(port, 4242);
	assert_int_equal(proto_address_parse(host, sizeof(host), &port, NULL, NULL), PROTO_E_FIELD);

	/* Length limits: a name of 254 bytes, a label of 64, an address of 260. */
	char s[PROTO_ADDRESS_MAX + 8];
	const char *why = NULL;
	memset(s, 'a', sizeof(s));
	for (int d = 63; d < 254; d += 64)
		s[d] = '.';
	memcpy(s + 254, ":7420", 6);
	assert_int_equal(proto_address_parse(NULL, 0, NULL, s, &why), PROTO_E_FIELD);
	assert_non_null(strstr(why, "longer than 253 bytes"));
	memset(s, 'a', 64);
	memcpy(s + 64, ".dk:7420", 9);
	assert_int_equal(proto_address_parse(NULL, 0, NULL, s, &why), PROTO_E_FIELD);
	assert_non_null(strstr(why, "longer than 63 bytes"));
	memset(s, 'a', sizeof(s));
	memcpy(s + PROTO_ADDRESS_MAX - 4, ":7420", 6);
	assert_int_equal(strlen(s), PROTO_ADDRESS_MAX + 1);
	assert_int_equal(proto_address_parse(NULL, 0, NULL, s, &why), PROTO_E_FIELD);
	assert_non_null(strstr(why, "longer than 259 bytes"));
}

typedef void (*mutate_fn)(struct fixture *f);

static void none(struct fixture *f) { (void)f; }
static void dial_out_only(struct fixture *f)
{
	f->endpoint.n_addresses = 0;
	f->endpoint.has_dial_out_only = 1;
	f->endpoint.dial_out_only = 1;
}
static void dial_out_false(struct fixture *f)
{
	f->endpoint.has_dial_out_only = 1;
	f->endpoint.dial_out_only = 0;
}
static void eight(struct fixture *f)
{
	static char buf[PROTO_ENDPOINT_MAX][32];
	for (int i = 0; i < PROTO_ENDPOINT_MAX; i++) {
		snprintf(buf[i], sizeof(buf[i]), "node%d.example:7420", i);
		f->addresses[i] = buf[i];
	}
	f->endpoint.n_addresses = PROTO_ENDPOINT_MAX;
}
static void nine(struct fixture *f)
{
	eight(f);
	f->addresses[PROTO_ENDPOINT_MAX] = "node9.example:7420";
	f->endpoint.n_addresses = PROTO_ENDPOINT_MAX + 1;
}
static void no_address(struct fixture *f) { f->endpoint.n_addresses = 0; }
static void no_address_false(struct fixture *f)
{
	no_address(f);
	dial_out_false(f);
}
static void dial_out_with_address(struct fixture *f)
{
	f->endpoint.has_dial_out_only = 1;
	f->endpoint.dial_out_only = 1;
}
static void second_bad(struct fixture *f) { f->addresses[1] = "0.0.0.0:7420"; }
static void second_empty(struct fixture *f) { f->addresses[1] = ""; }
static void twice(struct fixture *f) { f->addresses[1] = "AGORA.Assens.dk:7420"; }

static void test_endpoint__record_rules_name_the_field(void **state)
{
	static const struct {
		const char *what;
		mutate_fn mutate;
		int code;
		const char *field, *says;
	} cases[] = {
		{ "two addresses", none, 0, NULL, NULL },
		{ "dial-out only", dial_out_only, 0, NULL, NULL },
		{ "dial_out_only false, addresses", dial_out_false, 0, NULL, NULL },
		{ "eight addresses", eight, 0, NULL, NULL },
		{ "nine addresses", nine, PROTO_E_FIELD, "endpoint.addresses", "at most 8" },
		{ "no address", no_address, PROTO_E_FIELD, "endpoint.addresses", "or set dial_out_only" },
		{ "no address, dial_out_only false", no_address_false, PROTO_E_FIELD,
		  "endpoint.addresses", "1 to 8" },
		{ "dial-out only with an address", dial_out_with_address, PROTO_E_FIELD,
		  "endpoint.addresses", "must be empty when dial_out_only" },
		{ "a bad second address", second_bad, PROTO_E_FIELD, "endpoint.addresses[1]",
		  "unspecified address" },
		{ "an empty second address", second_empty, PROTO_E_FIELD, "endpoint.addresses[1]",
		  "is empty" },
		{ "the same address twice", twice, PROTO_E_FIELD, "endpoint.addresses[1]",
		  "listed twice (as addresses[0])" },
	};
	struct proto_key *key = fixture_key(70);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f;
		struct proto_error err = { 0 };
		uint8_t *env = NULL;
		size_t len = 0;

		fixture_init(&f, PROTO_KIND_ENDPOINT, key);
		cases[i].mutate(&f);
		int rc = proto_record_validate(&f.rec, NOW_MS, &err);
		if (rc != cases[i].code)
			fail_msg("%s: validate gave %d, want %d (%s)", cases[i].what, rc, cases[i].code,
			         err.msg);
		/* The signer applies the same rules. */
		assert_int_equal(proto_record_sign(&env, &len, NULL, &f.rec, key, NOW_MS, NULL), rc);
		free(env);
		if (!rc)
			continue;
		assert_string_equal(err.field, cases[i].field);
		if (strncmp(err.msg, cases[i].field, strlen(cases[i].field)) || !strstr(err.msg, cases[i].says))
			fail_msg("%s: \"%s\" should name %s and say \"%s\"", cases[i].what, err.msg,
			         cases[i].field, cases[i].says);
	}
	proto_key_free(key);
}

static void test_endpoint__a_valid_endpoint_opens_readable(void **state)
{
	struct proto_key *key = fixture_key(71);
	struct fixture f;
	Agora__Record *rec = NULL;
	const ProtobufCMessage *msg = NULL;
	uint8_t *env = NULL;
	size_t len = 0;

	fixture_init(&f, PROTO_KIND_ENDPOINT, key);
	fixture_sign(&env, &len, &f, key);
	assert_int_equal(proto_envelope_open(&rec, env, len, NOW_MS, NULL), 0);
	assert_int_equal(proto_record_kind(rec), PROTO_KIND_ENDPOINT);
	assert_int_equal(proto_record_content(rec, &msg), PROTO_KIND_ENDPOINT);
	assert_ptr_equal(msg, &rec->endpoint->base);
	assert_int_equal(proto_record_newer(rec), 0);
	assert_int_equal(rec->endpoint->n_addresses, 2);
	assert_string_equal(rec->endpoint->addresses[1], "[2001:db8::7]:7420");
	agora__record__free_unpacked(rec, NULL);
	free(env);
	proto_key_free(key);
}

/*
 * PROTOCOL.md 7.4 item 8: a node of version 1 carries any kind-29 record
 * on its header rules, so this one does not refuse an Endpoint that breaks
 * the rules it knows (a later version may allow more): it carries it unread.
 */
static void test_endpoint__a_broken_endpoint_is_carried_unread_and_never_signed(void **state)
{
	struct proto_key *key = fixture_key(72);
	struct fixture f;
	struct wbuf body, r;
	Agora__Record *rec = NULL;
	struct proto_error err = { 0 };
	char text[256];

	fixture_init(&f, PROTO_KIND_ENDPOINT, key);
	memset(&body, 0, sizeof(body));
	w_len(&body, 1, "tor:abcdefgh.onion", 18);     /* a form this version does not know */
	memset(&r, 0, sizeof(r));
	w_header(&r, &f);
	w_len(&r, PROTO_KIND_ENDPOINT, body.b, body.n);
	assert_int_equal(open_raw(&rec, &r, key, &err), 0);
	assert_int_equal(proto_record_kind(rec), PROTO_KIND_ENDPOINT);
	assert_int_equal(proto_record_newer(rec), PROTO_NEWER_UNREADABLE);
	assert_true(proto_record_newer_text(text, sizeof(text), rec));
	if (!strstr(text, "a record of kind endpoint that this version cannot read") ||
	    !strstr(text, "endpoint.addresses[0]"))
		fail_msg("unexpected text: %s", text);
	/* As a signer would see it: refused. */
	assert_int_equal(proto_record_validate(rec, NOW_MS, &err), PROTO_E_FIELD);
	assert_string_equal(err.field, "endpoint.addresses[0]");
	agora__record__free_unpacked(rec, NULL);

	/* No address and no dial_out_only: carried unread too. */
	memset(&r, 0, sizeof(r));
	w_header(&r, &f);
	w_len(&r, PROTO_KIND_ENDPOINT, "", 0);
	assert_int_equal(open_raw(&rec, &r, key, NULL), 0);
	assert_int_equal(proto_record_newer(rec), PROTO_NEWER_UNREADABLE);
	agora__record__free_unpacked(rec, NULL);

	/* The byte rules and header rules still refuse, as for every kind. */
	memset(&r, 0, sizeof(r));
	w_header(&r, &f);
	w_len(&r, PROTO_KIND_ENDPOINT, "\x10\x02", 2);  /* dial_out_only = 2: not a bool */
	assert_int_equal(open_raw(&rec, &r, key, NULL), PROTO_E_DECODE);
	fixture_init(&f, PROTO_KIND_ENDPOINT, key);
	f.rec.has_alliance = 0;
	memset(&r, 0, sizeof(r));
	w_header(&r, &f);
	w_len(&r, PROTO_KIND_ENDPOINT, body.b, body.n);
	assert_int_equal(open_raw(&rec, &r, key, &err), PROTO_E_FIELD);
	assert_string_equal(err.field, "alliance");
	proto_key_free(key);
}

static void test_endpoint__a_supersede_of_an_endpoint_is_carried_unread(void **state)
{
	struct proto_key *key = fixture_key(73);
	struct fixture f;
	struct wbuf ep, s, r;
	Agora__Record *rec = NULL;
	const ProtobufCMessage *msg = &f.rec.base;
	struct proto_error err = { 0 };
	char text[256];

	fixture_init(&f, PROTO_KIND_ENDPOINT, key);
	memset(&ep, 0, sizeof(ep));
	w_len(&ep, 1, "agora.assens.dk:7420", 20);
	memset(&s, 0, sizeof(s));
	w_len(&s, 1, f.other, 32);
	w_len(&s, PROTO_KIND_ENDPOINT, ep.b, ep.n);
	fixture_init(&f, PROTO_KIND_SUPERSEDE, key);
	memset(&r, 0, sizeof(r));
	w_header(&r, &f);
	w_len(&r, PROTO_KIND_SUPERSEDE, s.b, s.n);
	assert_int_equal(open_raw(&rec, &r, key, NULL), 0);
	assert_int_equal(proto_record_kind(rec), PROTO_KIND_SUPERSEDE);
	/* Storage checks the target by this number, as a version-1 node does. */
	assert_int_equal(proto_record_content(rec, &msg), PROTO_KIND_ENDPOINT);
	assert_null(msg);
	assert_int_equal(proto_record_newer(rec), PROTO_NEWER_UNREADABLE);
	assert_true(proto_record_newer_text(text, sizeof(text), rec));
	assert_non_null(strstr(text, "an edit of a record of kind endpoint, which is not edited"));
	/* A signer refuses it. */
	assert_int_equal(proto_record_validate(rec, NOW_MS, &err), PROTO_E_FIELD);
	assert_string_equal(err.field, "supersede.body");
	assert_non_null(strstr(err.msg, "an endpoint is not edited: publish a new one"));
	agora__record__free_unpacked(rec, NULL);
	proto_key_free(key);
}

static void test_endpoint__is_a_known_content_kind(void **state)
{
	assert_true(proto_kind_known(PROTO_KIND_ENDPOINT));
	assert_false(proto_kind_governance(PROTO_KIND_ENDPOINT));
	assert_string_equal(proto_kind_name(PROTO_KIND_ENDPOINT), "endpoint");
	assert_int_equal(proto_kind_parse("Endpoint"), PROTO_KIND_ENDPOINT);
	assert_ptr_equal(proto_kind_descriptor(PROTO_KIND_ENDPOINT), &agora__endpoint__descriptor);
	/* In the range older nodes carry: 29..63. */
	assert_true(PROTO_KIND_ENDPOINT >= PROTO_KIND_CONTENT_NEXT &&
	            PROTO_KIND_ENDPOINT <= PROTO_KIND_CONTENT_LAST);
}

int endpoint_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint__addresses_of_every_form_are_accepted),
		cmocka_unit_test(test_endpoint__bad_addresses_are_refused_saying_why),
		cmocka_unit_test(test_endpoint__record_rules_name_the_field),
		cmocka_unit_test(test_endpoint__a_valid_endpoint_opens_readable),
		cmocka_unit_test(test_endpoint__a_broken_endpoint_is_carried_unread_and_never_signed),
		cmocka_unit_test(test_endpoint__a_supersede_of_an_endpoint_is_carried_unread),
		cmocka_unit_test(test_endpoint__is_a_known_content_kind),
	};
	return cmocka_run_group_tests_name("endpoint", tests, NULL, NULL);
}
