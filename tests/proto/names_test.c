/*
 * names_test.c - kind names, code-list names, hex, error strings.
 */
#include <stdio.h>
#include <string.h>

#include "fixtures.h"

/* Every enum of agora.proto.  A new enum must be added here. */
static const ProtobufCEnumDescriptor *const all_enums[] = {
	&agora__sector__descriptor, &agora__area__descriptor,
	&agora__instrument__descriptor, &agora__hazard__descriptor,
	&agora__vulnerable_sector__descriptor, &agora__status__descriptor,
	&agora__financing__descriptor, &agora__barrier__descriptor,
	&agora__target_kind__descriptor, &agora__scope__descriptor,
	&agora__inventory_kind__descriptor, &agora__factor_method__descriptor,
	&agora__estimation__descriptor, &agora__role__descriptor,
	&agora__admission_policy__descriptor,
};

static void test_names__every_enum_value_round_trips(void **state)
{
	for (size_t e = 0; e < sizeof(all_enums) / sizeof(all_enums[0]); e++) {
		const ProtobufCEnumDescriptor *d = all_enums[e];
		for (unsigned i = 0; i < d->n_values; i++) {
			int value = d->values[i].value, back = -1;
			const char *name = proto_enum_name(d, value);
			if (!name)
				fail_msg("%s value %d has no name", d->name, value);
			/* lower case, no prefix, a suffix of the proto name */
			for (const char *p = name; *p; p++)
				assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
			const char *full = d->values[i].name;
			size_t fl = strlen(full), nl = strlen(name);
			assert_true(nl < fl);
			assert_int_equal(full[fl - nl - 1], '_');
			for (size_t k = 0; k < nl; k++)
				assert_int_equal(full[fl - nl + k] | 0x20, name[k] | 0x20);
			assert_int_equal(proto_enum_parse(&back, d, name), 0);
			assert_int_equal(back, value);
			assert_string_equal(proto_enum_name(d, back), name);
		}
		/* Names are distinct within an enum. */
		for (unsigned i = 0; i < d->n_values; i++)
			for (unsigned j = 0; j < i; j++)
				assert_string_not_equal(proto_enum_name(d, d->values[i].value),
				                        proto_enum_name(d, d->values[j].value));
	}
}

static void test_names__enum_names_are_the_documented_ones(void **state)
{
	assert_string_equal(proto_enum_name(&agora__sector__descriptor, AGORA__SECTOR__SECTOR_WASTE), "waste");
	assert_string_equal(proto_enum_name(&agora__target_kind__descriptor,
	                                    AGORA__TARGET_KIND__TARGET_KIND_NET_ZERO), "net_zero");
	assert_string_equal(proto_enum_name(&agora__vulnerable_sector__descriptor,
	                                    AGORA__VULNERABLE_SECTOR__VULNERABLE_HEALTH), "health");
	assert_string_equal(proto_enum_name(&agora__area__descriptor, AGORA__AREA__AREA_WETLANDS), "wetlands");
	assert_string_equal(proto_enum_name(&agora__status__descriptor, 0), "unspecified");
	assert_null(proto_enum_name(&agora__sector__descriptor, 15));
	assert_null(proto_enum_name(&agora__sector__descriptor, -1));
	assert_null(proto_enum_name(NULL, 1));
	/* A descriptor the table does not know (a message's oneof case is not one). */
	ProtobufCEnumDescriptor fake = agora__sector__descriptor;
	fake.name = "other.Thing";
	assert_null(proto_enum_name(&fake, 1));
}

static void test_names__enum_parse_is_forgiving_about_case_and_dashes(void **state)
{
	int v = -1;

	assert_int_equal(proto_enum_parse(&v, &agora__area__descriptor, "Modal-Shift-Cycling"), 0);
	assert_int_equal(v, AGORA__AREA__AREA_MODAL_SHIFT_CYCLING);
	assert_int_equal(proto_enum_parse(&v, &agora__hazard__descriptor, "COASTAL_FLOOD"), 0);
	assert_int_equal(v, AGORA__HAZARD__HAZARD_COASTAL_FLOOD);
	v = 1234;
	assert_int_equal(proto_enum_parse(&v, &agora__hazard__descriptor, "tsunami"), PROTO_E_FIELD);
	assert_int_equal(proto_enum_parse(&v, &agora__hazard__descriptor, "hazard_storm"), PROTO_E_FIELD);
	assert_int_equal(proto_enum_parse(&v, &agora__hazard__descriptor, ""), PROTO_E_FIELD);
	assert_int_equal(proto_enum_parse(&v, &agora__hazard__descriptor, "storm "), PROTO_E_FIELD);
	assert_int_equal(v, 1234);  /* untouched on failure */
}

static void test_names__kind_names_round_trip(void **state)
{
	static const char *names[] = { "charter", "admission", "revocation", "key_rotation",
	                               "profile", "target", "inventory", "measure", "result",
	                               "lesson", "endorsement", "supersede", "retract",
	                               "endpoint" };
	for (int k = PROTO_KIND_CHARTER; k <= PROTO_KIND_ENDPOINT; k++) {
		const char *n = proto_kind_name((enum proto_kind)k);
		assert_non_null(n);
		assert_string_equal(n, names[k - PROTO_KIND_CHARTER]);
		assert_int_equal(proto_kind_parse(n), k);
		assert_non_null(proto_kind_descriptor((enum proto_kind)k));
		/* The kind number is the Record.body field number of the same name. */
		const ProtobufCFieldDescriptor *fd =
			protobuf_c_message_descriptor_get_field(&agora__record__descriptor, (unsigned)k);
		assert_non_null(fd);
		assert_string_equal(fd->name, n);
		assert_ptr_equal(fd->descriptor, proto_kind_descriptor((enum proto_kind)k));
	}
	assert_int_equal(proto_kind_parse("Key-Rotation"), PROTO_KIND_KEY_ROTATION);
	assert_int_equal(proto_kind_parse("measures"), PROTO_KIND_NONE);
	assert_int_equal(proto_kind_parse(NULL), PROTO_KIND_NONE);
	assert_null(proto_kind_name(PROTO_KIND_NONE));
	assert_null(proto_kind_name((enum proto_kind)30));
	assert_null(proto_kind_descriptor(PROTO_KIND_NONE));
}

static void test_names__hex_round_trip_and_strict_parse(void **state)
{
	uint8_t bytes[4] = { 0x00, 0x9f, 0xa0, 0xff }, back[4] = { 0 };
	char hex[9];

	proto_hex(hex, bytes, 4);
	assert_string_equal(hex, "009fa0ff");
	assert_int_equal(proto_unhex(back, 4, hex), 0);
	assert_memory_equal(back, bytes, 4);
	assert_int_equal(proto_unhex(back, 4, "009FA0FF"), 0);
	memset(back, 0x11, 4);
	assert_int_equal(proto_unhex(back, 4, "009fa0f"), PROTO_E_ARG);
	assert_int_equal(proto_unhex(back, 4, "009fa0fff"), PROTO_E_ARG);
	assert_int_equal(proto_unhex(back, 4, "009fa0fg"), PROTO_E_ARG);
	assert_int_equal(proto_unhex(back, 4, " 09fa0ff"), PROTO_E_ARG);
	assert_int_equal(back[0], 0x11);   /* untouched on failure */
	proto_hex(hex, bytes, 0);
	assert_string_equal(hex, "");
}

static void test_names__strerror_names_every_code(void **state)
{
	for (int c = PROTO_E_UPGRADE; c <= PROTO_E_TOO_BIG; c++) {
		const char *s = proto_strerror(c);
		assert_non_null(s);
		assert_string_not_equal(s, "unknown error");
	}
	assert_string_equal(proto_strerror(-2), "No such file or directory");
	assert_string_equal(proto_strerror(-1099), "unknown error");
	assert_string_equal(proto_strerror(0), "success");
}

int names_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names__every_enum_value_round_trips),
		cmocka_unit_test(test_names__enum_names_are_the_documented_ones),
		cmocka_unit_test(test_names__enum_parse_is_forgiving_about_case_and_dashes),
		cmocka_unit_test(test_names__kind_names_round_trip),
		cmocka_unit_test(test_names__hex_round_trip_and_strict_parse),
		cmocka_unit_test(test_names__strerror_names_every_code),
	};
	return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}
