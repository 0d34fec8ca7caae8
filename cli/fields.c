/*
 * fields.c - generic "--field value" flags from the protobuf-c descriptors:
 * one flag per field of a record kind, its help, and the profile's values
 * in agora.conf.  The values themselves are fields_value.c's.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/fields_int.h"

/* Nested messages that get a compact flag of their own. */
static int parse_sector_line(ProtobufCMessage *m, const char *text, char *err, size_t cap);
static int parse_translation(ProtobufCMessage *m, const char *text, char *err, size_t cap);

static const struct {
	const ProtobufCMessageDescriptor *desc;
	const char *flag;
	const char *syntax;
	int (*parse)(ProtobufCMessage *m, const char *text, char *err, size_t cap);
} nested[] = {
	{ &agora__sector_emission__descriptor, "sector-line", "SECTOR:TCO2E[:MWH]", parse_sector_line },
	{ &agora__translation__descriptor, "translation", "LANG:TITLE[:SUMMARY]", parse_translation },
};

static int set_one(struct fields *f, const ProtobufCFieldDescriptor *fd, void *v,
                   const char *text, char *err, size_t cap)
{
	uint64_t u;
	int64_t s;
	double d;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
		if (!(*(char **)v = strdup(text)))
			return -ENOMEM;
		fields_country_case(fd, *(char **)v);
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if (fields_parse_uint(&u, text, UINT32_MAX) < 0)
			goto not_whole;
		*(uint32_t *)v = (uint32_t)u;
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if (fields_parse_uint(&u, text, UINT64_MAX) < 0)
			goto not_whole;
		*(uint64_t *)v = u;
		return 0;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if (fields_parse_int(&s, text, INT32_MIN, INT32_MAX) < 0)
			goto not_whole;
		*(int32_t *)v = (int32_t)s;
		return 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if (fields_parse_int(&s, text, INT64_MIN, INT64_MAX) < 0)
			goto not_whole;
		*(int64_t *)v = s;
		return 0;
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_FLOAT:
		if (fields_parse_double(&d, text) < 0) {
			snprintf(err, cap, "'%s' is not a number", text);
			return FIELDS_E_VALUE;
		}
		if (fd->type == PROTOBUF_C_TYPE_FLOAT)
			*(float *)v = (float)d;
		else
			*(double *)v = d;
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		if (!strcmp(text, "true") || !strcmp(text, "yes") || !strcmp(text, "1"))
			*(protobuf_c_boolean *)v = 1;
		else if (!strcmp(text, "false") || !strcmp(text, "no") || !strcmp(text, "0"))
			*(protobuf_c_boolean *)v = 0;
		else {
			snprintf(err, cap, "'%s' is not true or false", text);
			return FIELDS_E_VALUE;
		}
		return 0;
	case PROTOBUF_C_TYPE_ENUM: {
		int e;
		if (proto_enum_parse(&e, fd->descriptor, text) < 0 || e == 0) {
			fields_enum_error(err, cap, fd->descriptor, text);
			return FIELDS_E_VALUE;
		}
		*(int *)v = e;
		return 0;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = v;
		uint8_t id[PROTO_ID_BYTES];
		int rc = fields_parse_id(id, text, f ? f->txn : NULL, err, cap);
		if (rc < 0)
			return rc;
		if (!(b->data = malloc(PROTO_ID_BYTES)))
			return -ENOMEM;
		memcpy(b->data, id, PROTO_ID_BYTES);
		b->len = PROTO_ID_BYTES;
		return 0;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		for (size_t k = 0; k < sizeof(nested) / sizeof(nested[0]); k++) {
			if (nested[k].desc != fd->descriptor)
				continue;
			ProtobufCMessage *m = fields_new_message(nested[k].desc);
			int rc;
			if (!m)
				return -ENOMEM;
			*(ProtobufCMessage **)v = m;
			rc = nested[k].parse(m, text, err, cap);
			return rc;
		}
		snprintf(err, cap, "cannot be given on the command line (use publish --file)");
		return FIELDS_E_VALUE;
	}
	snprintf(err, cap, "unsupported field type");
	return FIELDS_E_VALUE;
not_whole:
	snprintf(err, cap, "'%s' is not a whole number%s", text,
	         fd->type == PROTOBUF_C_TYPE_UINT32 || fd->type == PROTOBUF_C_TYPE_UINT64 ?
	         " (0 or more)" : "");
	return FIELDS_E_VALUE;
}

/* Nested field by name, setting it from text through set_one. */
static int nested_set(ProtobufCMessage *m, const char *name, const char *text, const char *what,
                      char *err, size_t cap)
{
	const ProtobufCFieldDescriptor *fd =
		protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
	char sub[200];
	void *v;
	int rc;

	if (!fd || !(v = fields_slot(m, fd)))
		return -ENOMEM;
	rc = set_one(NULL, fd, v, text, sub, sizeof(sub));
	if (rc == FIELDS_E_VALUE)
		snprintf(err, cap, "%s: %s", what, sub);
	return rc;
}

static int parse_sector_line(ProtobufCMessage *m, const char *text, char *err, size_t cap)
{
	char buf[256], *parts[4] = { 0 }, *save = NULL;
	int n = 0, rc;

	snprintf(buf, sizeof(buf), "%s", text);
	for (char *p = strtok_r(buf, ":", &save); p && n < 4; p = strtok_r(NULL, ":", &save))
		parts[n++] = p;
	if (n < 2 || n > 3) {
		snprintf(err, cap, "'%s' is not SECTOR:TCO2E[:MWH] (e.g. waste:1200.5)", text);
		return FIELDS_E_VALUE;
	}
	if ((rc = nested_set(m, "sector", parts[0], "sector", err, cap)) < 0 ||
	    (rc = nested_set(m, "tco2e", parts[1], "t CO2e", err, cap)) < 0)
		return rc;
	if (n == 3 && (rc = nested_set(m, "mwh", parts[2], "MWh", err, cap)) < 0)
		return rc;
	return 0;
}

static int parse_translation(ProtobufCMessage *m, const char *text, char *err, size_t cap)
{
	const char *c1 = strchr(text, ':'), *c2;
	char lang[36], title[1024];
	int rc;

	if (!c1 || c1 == text || (size_t)(c1 - text) >= sizeof(lang) || !c1[1]) {
		snprintf(err, cap, "'%s' is not LANG:TITLE[:SUMMARY] (e.g. en:Wetland restoration)", text);
		return FIELDS_E_VALUE;
	}
	memcpy(lang, text, (size_t)(c1 - text));
	lang[c1 - text] = '\0';
	c2 = strchr(c1 + 1, ':');
	if (c2 && (size_t)(c2 - c1 - 1) >= sizeof(title))
		c2 = NULL;
	snprintf(title, sizeof(title), "%.*s", c2 ? (int)(c2 - c1 - 1) : (int)strlen(c1 + 1), c1 + 1);
	if ((rc = nested_set(m, "language", lang, "language", err, cap)) < 0 ||
	    (rc = nested_set(m, "title", title, "title", err, cap)) < 0)
		return rc;
	if (c2 && c2[1] && (rc = nested_set(m, "summary", c2 + 1, "summary", err, cap)) < 0)
		return rc;
	return 0;
}

/* ------------------------------------------------------------- flags */

static const char *nested_flag(const ProtobufCFieldDescriptor *fd)
{
	if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
		return NULL;
	for (size_t k = 0; k < sizeof(nested) / sizeof(nested[0]); k++)
		if (nested[k].desc == fd->descriptor)
			return nested[k].flag;
	return NULL;
}

/* Does flag name (without --, '-' for '_') name proto field `name`? */
static bool flag_is(const char *flag, size_t len, const char *name)
{
	size_t k;
	for (k = 0; k < len && name[k]; k++) {
		char a = flag[k] == '-' ? '_' : flag[k];
		if (a != name[k])
			return false;
	}
	return k == len && !name[k];
}

static const ProtobufCFieldDescriptor *find_flag(const ProtobufCMessageDescriptor *d,
                                                 const char *flag, size_t len)
{
	for (unsigned k = 0; k < d->n_fields; k++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[k];
		const char *nf = nested_flag(fd);
		if (nf ? (strlen(nf) == len && !strncmp(nf, flag, len)) : flag_is(flag, len, fd->name))
			return fd;
	}
	return NULL;
}

void fields_init(struct fields *f, ProtobufCMessage *msg, struct store_txn *txn, bool replace)
{
	memset(f, 0, sizeof(*f));
	f->desc = msg->descriptor;
	f->msg = msg;
	f->txn = txn;
	f->replace = replace;
}

/* Apply text to fd: comma lists for repeated scalars. */
static int apply(struct fields *f, const ProtobufCFieldDescriptor *fd, const char *flag,
                 const char *text)
{
	size_t idx = (size_t)(fd - f->desc->fields);
	char sub[200];
	int rc = 0;

	if (fd->label == PROTOBUF_C_LABEL_REPEATED && f->replace && idx < FIELDS_MAX &&
	    !f->touched[idx])
		fields_clear(f->msg, fd);
	if (idx < FIELDS_MAX)
		f->touched[idx] = true;

	if (fd->label == PROTOBUF_C_LABEL_REPEATED && fd->type != PROTOBUF_C_TYPE_MESSAGE) {
		char *copy = strdup(text), *save = NULL;
		if (!copy)
			return -ENOMEM;
		for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
			void *v;
			while (isspace((unsigned char)*p))
				p++;
			for (char *e = p + strlen(p); e > p && isspace((unsigned char)e[-1]);)
				*--e = '\0';
			if (!*p)
				continue;
			if (!(v = fields_slot(f->msg, fd))) {
				rc = -ENOMEM;
				break;
			}
			if ((rc = set_one(f, fd, v, p, sub, sizeof(sub))) < 0) {
				/* Drop the half-set element so the message stays consistent. */
				size_t *n = (size_t *)((char *)f->msg + fd->quantifier_offset);
				fields_free_value(v, fd);
				(*n)--;
				break;
			}
		}
		free(copy);
	} else {
		void *v = fields_slot(f->msg, fd);
		if (!v)
			return -ENOMEM;
		if ((rc = set_one(f, fd, v, text, sub, sizeof(sub))) < 0) {
			if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
				size_t *n = (size_t *)((char *)f->msg + fd->quantifier_offset);
				fields_free_value(v, fd);
				(*n)--;
			} else {
				fields_clear(f->msg, fd);
			}
		}
	}
	if (rc == FIELDS_E_VALUE)
		snprintf(f->err, sizeof(f->err), "--%s: %s", flag, sub);
	else if (rc < 0)
		snprintf(f->err, sizeof(f->err), "--%s: %s", flag, strerror(-rc));
	return rc;
}

int fields_arg(struct fields *f, int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *eq, *name, *value = NULL;
	const ProtobufCFieldDescriptor *fd;
	char flag[80];
	size_t len;
	bool negated = false;

	if (strncmp(arg, "--", 2) != 0 || !arg[2]) {
		snprintf(f->err, sizeof(f->err), "unexpected argument '%s'", arg);
		return FIELDS_E_UNKNOWN;
	}
	name = arg + 2;
	eq = strchr(name, '=');
	len = eq ? (size_t)(eq - name) : strlen(name);
	if (eq)
		value = eq + 1;
	fd = find_flag(f->desc, name, len);
	if (!fd && len > 3 && !strncmp(name, "no-", 3) && !eq) {
		fd = find_flag(f->desc, name + 3, len - 3);
		if (fd && fd->type == PROTOBUF_C_TYPE_BOOL)
			negated = true;
		else
			fd = NULL;
	}
	if (!fd || (fd->type == PROTOBUF_C_TYPE_MESSAGE && !nested_flag(fd))) {
		char what[64];
		snprintf(what, sizeof(what), "%s", f->desc->short_name);
		for (char *p = what; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		snprintf(f->err, sizeof(f->err), "unknown flag '--%.*s' for a %s (see --help)",
		         (int)(len > 60 ? 60 : len), name, what);
		return FIELDS_E_UNKNOWN;
	}
	snprintf(flag, sizeof(flag), "%.*s", (int)(negated ? len - 3 : len), negated ? name + 3 : name);
	if (fd->type == PROTOBUF_C_TYPE_BOOL && !value)
		value = negated ? "false" : "true";
	if (!value) {
		if (*i + 1 >= argc) {
			snprintf(f->err, sizeof(f->err), "--%s needs a value", flag);
			return FIELDS_E_MISSING;
		}
		value = argv[++*i];
	}
	return apply(f, fd, flag, value);
}

int fields_set(struct fields *f, const char *name, const char *value)
{
	const ProtobufCFieldDescriptor *fd = find_flag(f->desc, name, strlen(name));
	if (!fd) {
		snprintf(f->err, sizeof(f->err), "unknown field '%s' for %s", name, f->desc->short_name);
		return FIELDS_E_UNKNOWN;
	}
	if (fd->type == PROTOBUF_C_TYPE_MESSAGE && fd->label == PROTOBUF_C_LABEL_REPEATED) {
		/* INI keeps several nested values as a ';' list. */
		char *copy = strdup(value), *save = NULL;
		int rc = 0;
		if (!copy)
			return -ENOMEM;
		for (char *p = strtok_r(copy, ";", &save); p && rc == 0; p = strtok_r(NULL, ";", &save))
			rc = apply(f, fd, name, p);
		free(copy);
		return rc;
	}
	return apply(f, fd, name, value);
}

static void type_text(char *buf, size_t cap, const ProtobufCFieldDescriptor *fd)
{
	const char *nf = nested_flag(fd);
	if (nf) {
		for (size_t k = 0; k < sizeof(nested) / sizeof(nested[0]); k++)
			if (nested[k].desc == fd->descriptor)
				snprintf(buf, cap, "%s", nested[k].syntax);
		return;
	}
	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
		snprintf(buf, cap, "TEXT");
		break;
	case PROTOBUF_C_TYPE_BOOL:
		snprintf(buf, cap, "[=true|false]");
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_FLOAT:
		snprintf(buf, cap, "NUMBER");
		break;
	case PROTOBUF_C_TYPE_ENUM:
		fields_enum_words(buf, cap, fd->descriptor);
		for (char *p = buf; *p; p++)
			*p = *p == ' ' ? '_' : (char)toupper((unsigned char)*p);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		snprintf(buf, cap, "ID");
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FIXED64:
		if (strstr(fd->name, "year"))
			snprintf(buf, cap, "YEAR");
		else
			snprintf(buf, cap, "N");
		break;
	default:
		snprintf(buf, cap, "N");
	}
}

void fields_help(FILE *out, const ProtobufCMessageDescriptor *desc)
{
	for (unsigned k = 0; k < desc->n_fields; k++) {
		const ProtobufCFieldDescriptor *fd = &desc->fields[k];
		const char *nf = nested_flag(fd);
		char flag[64], type[64], left[200];
		bool rep = fd->label == PROTOBUF_C_LABEL_REPEATED;

		if (fd->type == PROTOBUF_C_TYPE_MESSAGE && !nf)
			continue;
		snprintf(flag, sizeof(flag), "%s", nf ? nf : fd->name);
		for (char *p = flag; *p; p++)
			if (*p == '_')
				*p = '-';
		type_text(type, sizeof(type), fd);
		if (fd->type == PROTOBUF_C_TYPE_BOOL)
			snprintf(left, sizeof(left), "--%s%s, --no-%s", flag, type, flag);
		else
			snprintf(left, sizeof(left), "--%s %s%s", flag, type,
			         rep && !nf ? "[,...]" : "");
		if (rep)
			fprintf(out, "  %-34s repeatable\n", left);
		else
			fprintf(out, "  %s\n", left);
		if (fd->type == PROTOBUF_C_TYPE_ENUM) {
			const ProtobufCEnumDescriptor *ed = fd->descriptor;
			size_t col = 0;
			fprintf(out, "      ");
			for (unsigned v = 0; v < ed->n_values; v++) {
				const char *name = proto_enum_name(ed, ed->values[v].value);
				if (!name || ed->values[v].value == 0)
					continue;
				if (col && col + strlen(name) > 66) {
					fprintf(out, "\n      ");
					col = 0;
				}
				col += (size_t)fprintf(out, "%s%s", col ? " " : "", name) ;
			}
			fprintf(out, "\n");
		}
		if (nf && fd->descriptor == &agora__sector_emission__descriptor) {
			const ProtobufCFieldDescriptor *sd =
				protobuf_c_message_descriptor_get_field_by_name(fd->descriptor, "sector");
			const ProtobufCEnumDescriptor *ed = sd->descriptor;
			size_t col = 0;
			fprintf(out, "      SECTOR: ");
			for (unsigned v = 0; v < ed->n_values; v++) {
				const char *name = proto_enum_name(ed, ed->values[v].value);
				if (!name || ed->values[v].value == 0)
					continue;
				if (col && col + strlen(name) > 58) {
					fprintf(out, "\n              ");
					col = 0;
				}
				col += (size_t)fprintf(out, "%s%s", col ? " " : "", name) ;
			}
			fprintf(out, "\n");
		}
	}
}

/* Shortest "%.*g" that reads back as the same double. */
void fields_ini_values_free(struct store_conf_value *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

int fields_ini_values(struct store_conf_value **out, size_t *n_out, const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	struct store_conf_value *v = calloc(d->n_fields + 1, sizeof(*v));
	size_t n = 0;
	char val[2048];
	int rc = -ENOMEM;

	if (!v)
		return -ENOMEM;
	for (unsigned k = 0; k < d->n_fields; k++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[k];
		const char *base = (const char *)msg;
		char *text = NULL;
		size_t len = 0;
		FILE *f;

		if (!fields_has(msg, fd) || fd->type == PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (!(f = open_memstream(&text, &len)))
			goto fail;
		rc = 0;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t cnt = *(const size_t *)(base + fd->quantifier_offset);
			const char *arr = *(char *const *)(base + fd->offset);
			for (size_t j = 0; j < cnt && !rc; j++)
				if (!(rc = fields_value_text(val, sizeof(val), fd, arr + j * fields_elem_size(fd))))
					fprintf(f, "%s%s", j ? "," : "", val);
		} else if (!(rc = fields_value_text(val, sizeof(val), fd, base + fd->offset))) {
			fputs(val, f);
		}
		if (fclose(f) != 0 && !rc)
			rc = -ENOMEM;
		v[n].name = strdup(fd->name);
		v[n].value = text;
		if (!rc && !v[n].name)
			rc = -ENOMEM;
		n++;
		if (rc)
			goto fail;
	}
	*out = v;
	*n_out = n;
	return 0;
fail:
	fields_ini_values_free(v, n);
	return rc;
}

void fields_flag_name(char *buf, size_t cap, const char *path)
{
	char tmp[128], *p = tmp, *dot;

	snprintf(tmp, sizeof(tmp), "%s", path);
	while ((dot = strchr(p, '.'))) {
		char save = *dot;
		*dot = '\0';
		if (proto_kind_parse(p) == PROTO_KIND_NONE && strcmp(p, "target_body")) {
			*dot = save;
			break;
		}
		p = dot + 1;
	}
	/* First remaining component, without any [index] or .sub. */
	p[strcspn(p, ".[")] = '\0';
	if (!*p) {
		snprintf(buf, cap, "%s", path);
		return;
	}
	if (!strcmp(p, "sectors")) {
		snprintf(buf, cap, "--sector-line");
		return;
	}
	if (!strcmp(p, "translations")) {
		snprintf(buf, cap, "--translation");
		return;
	}
	snprintf(buf, cap, "--%s", p);
	for (char *q = buf; *q; q++)
		if (*q == '_')
			*q = '-';
}

