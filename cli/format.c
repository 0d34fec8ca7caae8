/*
 * format.c - record fields as text, for tables, CSV and `agora show`:
 * values by their stable names, one-line titles, years and times.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/fields_int.h"
#include "cli/format_int.h"

static void put_double(FILE *f, double v)
{
	char b[40];

	/* Whole amounts as plain digits: spreadsheets read "1200000", not "1.2e+06". */
	if (v > -1e15 && v < 1e15 && v == (double)(long long)v) {
		fprintf(f, "%lld", (long long)v);
		return;
	}
	for (int p = 6; p <= 17; p++) {
		snprintf(b, sizeof(b), "%.*g", p, v);
		if (strtod(b, NULL) == v)
			break;
	}
	fputs(b, f);
}

static void put_hex(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static void put_message_inline(FILE *f, const ProtobufCMessage *m);

/* One scalar value at p (a field member or an array element). */
static void put_value(FILE *f, const ProtobufCFieldDescriptor *fd, const void *p)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
		fprintf(f, "%" PRId32, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
		fprintf(f, "%" PRIu32, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
		fprintf(f, "%" PRId64, *(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
		fprintf(f, "%" PRIu64, *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		put_double(f, *(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		put_double(f, *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		fputs(*(const protobuf_c_boolean *)p ? "true" : "false", f);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)p;
		const char *nm = proto_enum_name(fd->descriptor, v);
		if (nm)
			fputs(nm, f);
		else
			fprintf(f, "%d", v);
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		if (s)
			fputs(s, f);
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		put_hex(f, b->data, b->len);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
		if (m)
			put_message_inline(f, m);
		break;
	}
	}
}

/* How many values the field holds: 0 when unset, n for a repeated field. */
static size_t field_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
	const char *base = (const char *)m;

	if (fd->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(base + fd->quantifier_offset);
	if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + fd->quantifier_offset) == fd->id;
	if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(void *const *)(base + fd->offset) != NULL;
	if (fd->label == PROTOBUF_C_LABEL_OPTIONAL)
		return *(const protobuf_c_boolean *)(base + fd->quantifier_offset) ? 1 : 0;
	return 1;
}

static const void *field_elem(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd,
                              size_t i)
{
	const char *base = (const char *)m + fd->offset;

	if (fd->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const char *const *)base + i * fields_elem_size(fd);
	return base;
}

static void put_field(FILE *f, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
	size_t n = field_count(m, fd);

	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs("; ", f);
		put_value(f, fd, field_elem(m, fd, i));
	}
}

static void put_message_inline(FILE *f, const ProtobufCMessage *m)
{
	bool first = true;

	for (unsigned i = 0; i < m->descriptor->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &m->descriptor->fields[i];
		if (!field_count(m, fd))
			continue;
		fprintf(f, "%s%s=", first ? "" : ", ", fd->name);
		put_field(f, m, fd);
		first = false;
	}
}

int cli_format_field(char **out, const ProtobufCMessage *msg, const char *name)
{
	const ProtobufCFieldDescriptor *fd;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	fd = protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, name);
	if (!fd)
		return PROTO_E_ARG;
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	put_field(f, msg, fd);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	return 0;
}

/* A value that may span lines: continuation lines indented under the key. */
static void put_block(FILE *f, const char *s, size_t indent)
{
	for (; *s; s++) {
		fputc(*s, f);
		if (*s == '\n' && s[1])
			fprintf(f, "%*s", (int)indent, "");
	}
}

void cli_format_fields(FILE *f, const ProtobufCMessage *msg, const char *prefix)
{
	for (unsigned i = 0; i < msg->descriptor->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &msg->descriptor->fields[i];
		size_t n = field_count(msg, fd);
		char *text = NULL;
		size_t len = 0;
		FILE *mf;

		if (!n)
			continue;
		/* Attachments are listed apart, with whether the file is here
		 * (attach.c, cli_attach_print). */
		if (fd->type == PROTOBUF_C_TYPE_MESSAGE && fd->descriptor == &agora__attachment__descriptor)
			continue;
		if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
			for (size_t k = 0; k < n; k++) {
				const ProtobufCMessage *sub =
					*(ProtobufCMessage *const *)field_elem(msg, fd, k);
				char sp[160];
				if (!sub)
					continue;
				if (fd->label == PROTOBUF_C_LABEL_REPEATED)
					snprintf(sp, sizeof(sp), "%s%s[%zu].", prefix, fd->name, k);
				else
					snprintf(sp, sizeof(sp), "%s%s.", prefix, fd->name);
				cli_format_fields(f, sub, sp);
			}
			continue;
		}
		mf = open_memstream(&text, &len);
		if (!mf)
			continue;
		put_field(mf, msg, fd);
		if (fclose(mf) != 0) {
			free(text);
			continue;
		}
		fprintf(f, "%s%s: ", prefix, fd->name);
		put_block(f, text, strlen(prefix) + strlen(fd->name) + 2);
		fputc('\n', f);
		free(text);
	}
}

/* malloc()ed text of a field, "" when the message has no such field. */
char *cli_format_text(const ProtobufCMessage *msg, const char *name)
{
	char *s = NULL;

	if (!msg || cli_format_field(&s, msg, name) < 0)
		return strdup("");
	return s;
}

/* The year or years a record is about, for the table and CSV. */
char *cli_format_years(enum proto_kind kind, const ProtobufCMessage *msg)
{
	const char *a = NULL, *b = NULL;
	char *x, *y, *out = NULL;

	switch (kind) {
	case PROTO_KIND_MEASURE: a = "start_year"; b = "end_year"; break;
	case PROTO_KIND_TARGET: a = "baseline_year"; b = "target_year"; break;
	case PROTO_KIND_RESULT: a = "year"; break;
	case PROTO_KIND_LESSON: a = "year"; break;
	case PROTO_KIND_INVENTORY: a = "year"; break;
	default: return strdup("");
	}
	x = cli_format_text(msg, a);
	y = b ? cli_format_text(msg, b) : strdup("");
	if (x && y) {
		size_t cap = strlen(x) + strlen(y) + 8;
		out = malloc(cap);
		if (out) {
			if (*x && *y && strcmp(x, y))
				snprintf(out, cap, "%s\xe2\x80\x93%s", x, y);   /* en dash */
			else if (*y && !*x)
				snprintf(out, cap, "\xe2\x80\x93%s", y);
			else if (*x && b && !*y)
				snprintf(out, cap, "%s\xe2\x80\x93", x);
			else
				snprintf(out, cap, "%s", x);
		}
	}
	if (kind == PROTO_KIND_RESULT && out && !*out) {
		free(out);
		out = cli_format_text(msg, "period");
	}
	free(x);
	free(y);
	return out;
}

/* A one-line title for any kind. */
const char *cli_format_kind(char buf[CLI_KIND_BUF], enum proto_kind kind)
{
	if (proto_kind_name(kind))
		return proto_kind_name(kind);
	if (kind < PROTO_KIND_FIRST || kind > PROTO_KIND_LAST)
		return "?";
	snprintf(buf, CLI_KIND_BUF, "newer:%d", (int)kind);
	return buf;
}

char *cli_format_title(enum proto_kind kind, const ProtobufCMessage *msg)
{
	char *a, *b, *c, *out;
	size_t cap;

	switch (kind) {
	case PROTO_KIND_RESULT:
		a = cli_format_text(msg, "indicator");
		b = cli_format_text(msg, "value");
		c = cli_format_text(msg, "unit");
		out = NULL;
		if (a && b && c) {
			cap = strlen(a) + strlen(b) + strlen(c) + 8;
			out = malloc(cap);
			if (out)
				snprintf(out, cap, "%s%s%s%s%s", a, *b ? ": " : "", b, *c ? " " : "", c);
		}
		free(a);
		free(b);
		free(c);
		return out;
	case PROTO_KIND_INVENTORY:
		a = cli_format_text(msg, "type");
		b = cli_format_text(msg, "year");
		out = NULL;
		if (a && b) {
			cap = strlen(a) + strlen(b) + 32;
			out = malloc(cap);
			if (out)
				snprintf(out, cap, "%s%s%s inventory", *a ? a : "emission",
				         *b ? " " : "", b);
			for (char *p = out; p && *p && p < out + strlen(a); p++)
				if (*p >= 'a' && *p <= 'z')
					*p = (char)(*p - 'a' + 'A');       /* "BEI 2019 inventory" */
		}
		free(a);
		free(b);
		return out;
	case PROTO_KIND_PROFILE:
	case PROTO_KIND_CHARTER:
	case PROTO_KIND_ADMISSION:
		return cli_format_text(msg, "name");
	case PROTO_KIND_ENDORSEMENT:
		return cli_format_text(msg, "note");
	case PROTO_KIND_REVOCATION:
	case PROTO_KIND_RETRACT:
		return cli_format_text(msg, "reason");
	default:
		return cli_format_text(msg, "title");
	}
}

void cli_format_time(char *buf, size_t cap, uint64_t ms, bool seconds)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&s, &tm)) {
		snprintf(buf, cap, "?");
		return;
	}
	strftime(buf, cap, seconds ? "%Y-%m-%d %H:%M:%S UTC" : "%Y-%m-%d %H:%M UTC", &tm);
}

