/*
 * names.c - stable text names of record kinds and code-list values.
 */
#include <string.h>
#include <strings.h>

#include "proto/proto.h"

struct enum_name {
	int value;
	const char *name;           /* lower case, enum prefix removed */
};

struct enum_table {
	const char *enum_name;      /* full proto name, "agora.Sector" */
	const struct enum_name *names;
	size_t n;
};

/*
 * The tables are generated at build time from the .proto schemas (see
 * gen_enum_names.cmake), so they are const data that cannot drift from the
 * descriptors; a test checks both agree value by value.
 */
#include "proto_enum_names.h"

static const struct {
	enum proto_kind kind;
	const char *name;
	const ProtobufCMessageDescriptor *desc;
} kinds[] = {
	{ PROTO_KIND_CHARTER, "charter", &agora__charter__descriptor },
	{ PROTO_KIND_ADMISSION, "admission", &agora__admission__descriptor },
	{ PROTO_KIND_REVOCATION, "revocation", &agora__revocation__descriptor },
	{ PROTO_KIND_KEY_ROTATION, "key_rotation", &agora__key_rotation__descriptor },
	{ PROTO_KIND_PROFILE, "profile", &agora__profile__descriptor },
	{ PROTO_KIND_TARGET, "target", &agora__target__descriptor },
	{ PROTO_KIND_INVENTORY, "inventory", &agora__inventory__descriptor },
	{ PROTO_KIND_MEASURE, "measure", &agora__measure__descriptor },
	{ PROTO_KIND_RESULT, "result", &agora__result__descriptor },
	{ PROTO_KIND_LESSON, "lesson", &agora__lesson__descriptor },
	{ PROTO_KIND_ENDORSEMENT, "endorsement", &agora__endorsement__descriptor },
	{ PROTO_KIND_SUPERSEDE, "supersede", &agora__supersede__descriptor },
	{ PROTO_KIND_RETRACT, "retract", &agora__retract__descriptor },
};

const char *proto_kind_name(enum proto_kind kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == kind)
			return kinds[i].name;
	return NULL;
}

/* Compare a user-typed name with a table name: case-insensitive, '-' == '_'. */
static bool name_equal(const char *typed, const char *name)
{
	for (;; typed++, name++) {
		char a = *typed, b = *name;
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a == '-')
			a = '_';
		if (a != b)
			return false;
		if (a == '\0')
			return true;
	}
}

enum proto_kind proto_kind_parse(const char *name)
{
	if (!name)
		return PROTO_KIND_NONE;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (name_equal(name, kinds[i].name))
			return kinds[i].kind;
	return PROTO_KIND_NONE;
}

const ProtobufCMessageDescriptor *proto_kind_descriptor(enum proto_kind kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == kind)
			return kinds[i].desc;
	return NULL;
}

static const struct enum_table *enum_table_find(const ProtobufCEnumDescriptor *d)
{
	if (!d || !d->name)
		return NULL;
	for (size_t i = 0; i < sizeof(enum_tables) / sizeof(enum_tables[0]); i++)
		if (strcmp(enum_tables[i].enum_name, d->name) == 0)
			return &enum_tables[i];
	return NULL;
}

const char *proto_enum_name(const ProtobufCEnumDescriptor *d, int value)
{
	const struct enum_table *t = enum_table_find(d);

	if (!t)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (t->names[i].value == value)
			return t->names[i].name;
	return NULL;
}

int proto_enum_parse(int *out, const ProtobufCEnumDescriptor *d, const char *name)
{
	const struct enum_table *t = enum_table_find(d);

	if (!t || !name)
		return PROTO_E_FIELD;
	for (size_t i = 0; i < t->n; i++) {
		if (name_equal(name, t->names[i].name)) {
			*out = t->names[i].value;
			return 0;
		}
	}
	return PROTO_E_FIELD;
}
