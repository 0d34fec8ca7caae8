/*
 * names.c - stable text names of record kinds and code-list values.
 */
#include <string.h>
#include <strings.h>

#include "proto/proto.h"
#include "proto/proto_int.h"

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

/*
 * Kinds are the members of Record's body oneof: the field number is the kind
 * number and the field name its text name ("key_rotation"), so a kind added
 * to the schema is named here without a table to keep in step.
 */
const char *proto_kind_name(enum proto_kind kind)
{
	const ProtobufCFieldDescriptor *f = proto_kind_field(kind);

	return f ? f->name : NULL;
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
	const ProtobufCMessageDescriptor *d = &agora__record__descriptor;

	if (!name)
		return PROTO_KIND_NONE;
	for (unsigned i = 0; i < d->n_fields; i++)
		if (proto_kind_field((enum proto_kind)d->fields[i].id) &&
		    name_equal(name, d->fields[i].name))
			return (enum proto_kind)d->fields[i].id;
	return PROTO_KIND_NONE;
}

const ProtobufCMessageDescriptor *proto_kind_descriptor(enum proto_kind kind)
{
	const ProtobufCFieldDescriptor *f = proto_kind_field(kind);

	return f ? f->descriptor : NULL;
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

/* Code lists are the enums of package "agora" itself, not of agora.wire or
 * agora.control (whose codes nobody types). */
static const struct enum_table *code_list(size_t i)
{
	for (size_t k = 0; k < sizeof(enum_tables) / sizeof(enum_tables[0]); k++) {
		const char *n = enum_tables[k].enum_name;
		if (strncmp(n, "agora.", 6) != 0 || strchr(n + 6, '.'))
			continue;
		if (i-- == 0)
			return &enum_tables[k];
	}
	return NULL;
}

const char *proto_code_list(size_t i, size_t *n_values)
{
	const struct enum_table *t = code_list(i);

	if (!t)
		return NULL;
	if (n_values)
		*n_values = t->n;
	return t->enum_name + 6;
}

const char *proto_code_list_value(size_t i, size_t k)
{
	const struct enum_table *t = code_list(i);

	return t && k < t->n ? t->names[k].name : NULL;
}
