/*
 * fields_value.c - the values of protobuf-c message fields, generically:
 * where a field's value lives in a message (slots, presence, clearing),
 * text -> value (numbers, enum names with suggestions, record ids) and
 * value -> text.  fields.c builds the command-line flags on these, and
 * json.c the JSON reader.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/fields_int.h"

size_t fields_elem_size(const ProtobufCFieldDescriptor *fd)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default:
		return 4;
	}
}

void fields_free_value(void *v, const ProtobufCFieldDescriptor *fd)
{
	if (fd->type == PROTOBUF_C_TYPE_STRING) {
		char **s = v;
		if (*s && *s != (const char *)fd->default_value)
			free(*s);
		*s = NULL;
	} else if (fd->type == PROTOBUF_C_TYPE_BYTES) {
		ProtobufCBinaryData *b = v;
		const ProtobufCBinaryData *def = fd->default_value;
		if (b->data && (!def || b->data != def->data))
			free(b->data);
		b->data = NULL;
		b->len = 0;
	} else if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
		ProtobufCMessage **m = v;
		if (*m)
			protobuf_c_message_free_unpacked(*m, NULL);
		*m = NULL;
	}
}

ProtobufCMessage *fields_new_message(const ProtobufCMessageDescriptor *desc)
{
	ProtobufCMessage *m = malloc(desc->sizeof_message);
	if (m)
		protobuf_c_message_init(desc, m);
	return m;
}

bool fields_has(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd)
{
	const char *base = (const char *)msg;
	if (fd->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(base + fd->quantifier_offset) > 0;
	if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + fd->quantifier_offset) == fd->id;
	if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(void *const *)(base + fd->offset) != NULL;
	if (fd->quantifier_offset)
		return *(const protobuf_c_boolean *)(base + fd->quantifier_offset) != 0;
	return true;
}

void fields_clear(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd)
{
	char *base = (char *)msg;
	if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t *n = (size_t *)(base + fd->quantifier_offset);
		char **arr = (char **)(base + fd->offset);
		size_t sz = fields_elem_size(fd);
		for (size_t k = 0; *arr && k < *n; k++)
			fields_free_value(*arr + k * sz, fd);
		free(*arr);
		*arr = NULL;
		*n = 0;
		return;
	}
	if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *c = (uint32_t *)(base + fd->quantifier_offset);
		if (*c != fd->id)
			return;
		*c = 0;
	}
	fields_free_value(base + fd->offset, fd);
	if (!(fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && fd->quantifier_offset &&
	    fd->type != PROTOBUF_C_TYPE_STRING && fd->type != PROTOBUF_C_TYPE_MESSAGE)
		*(protobuf_c_boolean *)(base + fd->quantifier_offset) = 0;
}

void *fields_slot(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd)
{
	char *base = (char *)msg;
	size_t sz = fields_elem_size(fd);

	if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t *n = (size_t *)(base + fd->quantifier_offset);
		char **arr = (char **)(base + fd->offset);
		char *grown = realloc(*arr, (*n + 1) * sz);
		if (!grown)
			return NULL;
		*arr = grown;
		memset(grown + *n * sz, 0, sz);
		return grown + (*n)++ * sz;
	}
	fields_clear(msg, fd);
	if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		*(uint32_t *)(base + fd->quantifier_offset) = fd->id;
	else if (fd->quantifier_offset && fd->type != PROTOBUF_C_TYPE_STRING &&
	         fd->type != PROTOBUF_C_TYPE_MESSAGE)
		*(protobuf_c_boolean *)(base + fd->quantifier_offset) = 1;
	memset(base + fd->offset, 0, sz);
	return base + fd->offset;
}

/* ------------------------------------------------------------- parsing */

int fields_parse_double(double *out, const char *s)
{
	char *end;
	double d;

	if (!*s || isspace((unsigned char)*s) || strpbrk(s, "xXpP"))
		return FIELDS_E_VALUE;
	errno = 0;
	d = strtod(s, &end);
	if (*end || errno == ERANGE || !isfinite(d))
		return FIELDS_E_VALUE;
	*out = d;
	return 0;
}

int fields_parse_uint(uint64_t *out, const char *s, uint64_t max)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return FIELDS_E_VALUE;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end || errno == ERANGE || v > max)
		return FIELDS_E_VALUE;
	*out = v;
	return 0;
}

int fields_parse_int(int64_t *out, const char *s, int64_t min, int64_t max)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)(*s == '-' ? s[1] : *s)))
		return FIELDS_E_VALUE;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end || errno == ERANGE || v < min || v > max)
		return FIELDS_E_VALUE;
	*out = v;
	return 0;
}

void fields_enum_words(char *buf, size_t cap, const ProtobufCEnumDescriptor *d)
{
	size_t n = 0;
	for (const char *p = d->short_name; *p && n + 2 < cap; p++) {
		if (isupper((unsigned char)*p)) {
			if (p != d->short_name)
				buf[n++] = ' ';
			buf[n++] = (char)tolower((unsigned char)*p);
		} else {
			buf[n++] = *p;
		}
	}
	buf[n] = '\0';
}

/* Edit distance, for "did you mean"; names are short, so O(n*m) is fine. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64], k, j;
	if (la >= 63 || lb >= 63)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (k = 1; k <= la; k++) {
		size_t diag = row[0];
		row[0] = k;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[k - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

void fields_enum_error(char *buf, size_t cap, const ProtobufCEnumDescriptor *d, const char *bad)
{
	char words[64], typed[64], *p;
	const char *best = NULL;
	size_t best_d = 99, n;
	int w;

	fields_enum_words(words, sizeof(words), d);
	snprintf(typed, sizeof(typed), "%s", bad);
	for (p = typed; *p; p++)
		*p = *p == '-' ? '_' : (char)tolower((unsigned char)*p);
	for (unsigned k = 0; k < d->n_values; k++) {
		const char *name = proto_enum_name(d, d->values[k].value);
		size_t dist;
		if (!name || d->values[k].value == 0)
			continue;
		dist = distance(typed, name);
		if (strlen(typed) >= 3 && (strstr(name, typed) == name || strstr(typed, name) == typed))
			dist = dist < 2 ? dist : 2;
		if (dist < best_d) {
			best_d = dist;
			best = name;
		}
	}
	w = snprintf(buf, cap, "'%s' is not %s %s", bad, strchr("aeiou", words[0]) ? "an" : "a",
	             words);
	if (w < 0 || (size_t)w >= cap)
		return;
	n = (size_t)w;
	if (best && best_d <= (strlen(typed) > 6 ? 3u : 2u)) {
		snprintf(buf + n, cap - n, " (did you mean %s?)", best);
		return;
	}
	w = snprintf(buf + n, cap - n, " (one of: ");
	if (w < 0 || (size_t)w >= cap - n)
		return;
	n += (size_t)w;
	for (unsigned k = 0; k < d->n_values; k++) {
		const char *name = proto_enum_name(d, d->values[k].value);
		if (!name || d->values[k].value == 0)
			continue;
		if (n + strlen(name) + 8 >= cap) {
			snprintf(buf + n, cap - n, ", ...; see --help)");
			return;
		}
		n += (size_t)snprintf(buf + n, cap - n, "%s%s", buf[n - 1] == ' ' ? "" : ", ", name);
	}
	snprintf(buf + n, cap - n, ")");
}

static bool all_hex(const char *s)
{
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

int fields_parse_id(uint8_t id[PROTO_ID_BYTES], const char *s, struct store_txn *txn,
                    char *msg, size_t cap)
{
	size_t len = strlen(s);
	int rc;

	if (len == PROTO_ID_HEX && all_hex(s) && proto_unhex(id, PROTO_ID_BYTES, s) == 0)
		return 0;
	if (len < 4 || len > PROTO_ID_HEX || !all_hex(s)) {
		snprintf(msg, cap, "'%s' is not a record id (64 hex digits, or a unique prefix of 4 or more)", s);
		return FIELDS_E_VALUE;
	}
	if (!txn) {
		snprintf(msg, cap, "'%s' is not a full record id (64 hex digits)", s);
		return FIELDS_E_VALUE;
	}
	rc = store_resolve(txn, s, id);
	if (rc == STORE_E_AMBIGUOUS) {
		snprintf(msg, cap, "'%s' matches several records: give more digits", s);
		return FIELDS_E_VALUE;
	}
	if (rc < 0) {
		snprintf(msg, cap, "no record with an id starting '%s'", s);
		return FIELDS_E_VALUE;
	}
	return 0;
}

/* Parse one text value of fd into the slot v (already allocated). */

static void fmt_double(char *buf, size_t cap, double d)
{
	int p;

	for (p = 1; p <= 17; p++) {
		snprintf(buf, cap, "%.*g", p, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	/* The shortest %g of 3400 is "3.4e+03": people read and type it in a
	 * form or agora.conf, so a number of up to 15 integer digits gets all
	 * of them ("3400"), which reads back as the same value. */
	if (strchr(buf, 'e') && fabs(d) >= 1 && fabs(d) < 1e15) {
		int digits = (int)floor(log10(fabs(d))) + 1;
		if (digits > p)
			snprintf(buf, cap, "%.*g", digits, d);
	}
}

int fields_value_text(char *buf, size_t cap, const ProtobufCFieldDescriptor *fd, const void *v)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
		if (strpbrk(*(char *const *)v, "\r\n") ||
		    (fd->label == PROTOBUF_C_LABEL_REPEATED && strchr(*(char *const *)v, ',')))
			return -EINVAL;
		snprintf(buf, cap, "%s", *(char *const *)v);
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		snprintf(buf, cap, "%u", (unsigned)*(const uint32_t *)v);
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		snprintf(buf, cap, "%llu", (unsigned long long)*(const uint64_t *)v);
		return 0;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		snprintf(buf, cap, "%d", (int)*(const int32_t *)v);
		return 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		snprintf(buf, cap, "%lld", (long long)*(const int64_t *)v);
		return 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		fmt_double(buf, cap, *(const double *)v);
		return 0;
	case PROTOBUF_C_TYPE_FLOAT:
		fmt_double(buf, cap, *(const float *)v);
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		snprintf(buf, cap, "%s", *(const protobuf_c_boolean *)v ? "true" : "false");
		return 0;
	case PROTOBUF_C_TYPE_ENUM: {
		const char *n = proto_enum_name(fd->descriptor, *(const int *)v);
		snprintf(buf, cap, "%s", n ? n : "");
		return 0;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = v;
		if (b->len * 2 + 1 > cap)
			return -EINVAL;
		proto_hex(buf, b->data, b->len);
		return 0;
	}
	default:
		return -EINVAL;
	}
}

void fields_country_case(const ProtobufCFieldDescriptor *fd, char *s)
{
	if (strcmp(fd->name, "country") || !s)
		return;
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
}
