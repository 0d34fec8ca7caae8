/*
 * sheet.c - the spreadsheet tables of each kind, and their rows turned into
 * record JSON for `agora publish --file` (see sheet_int.h).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/sheet_int.h"

#define COLS(...) (const char *const[]){ __VA_ARGS__ }, \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)

const struct sheet_kind sheet_kinds[] = {
	{ PROTO_KIND_MEASURE, "measures", "measures.csv", COLS("id", "municipality", "country",
	  "title", "summary", "language", "sector", "areas", "instruments", "mitigation",
	  "adaptation", "hazards", "status", "start_year", "end_year", "investment",
	  "running_cost", "currency", "financing", "energy_saving_mwh", "renewable_mwh",
	  "reduction_tco2e", "stakeholders", "tags", "responsible", "illustrative", "created") },
	{ PROTO_KIND_INVENTORY, "inventories", "inventories.csv", COLS("id", "municipality",
	  "type", "year", "sector", "tco2e", "mwh", "factor_source", "factor_method",
	  "illustrative") },
	{ PROTO_KIND_RESULT, "results", "results.csv", COLS("id", "municipality", "measure",
	  "measure_title", "year", "period", "indicator", "value", "unit", "baseline_value",
	  "baseline_year", "estimation", "method", "factor_source", "note", "language",
	  "illustrative", "created") },
	{ PROTO_KIND_LESSON, "lessons", "lessons.csv", COLS("id", "municipality", "country",
	  "title", "context", "action", "outcome", "worked", "barriers", "enablers", "cost",
	  "contact_role", "sector", "year", "tags", "language", "measures", "created") },
	{ PROTO_KIND_TARGET, "targets", "targets.csv", COLS("id", "municipality", "country",
	  "type", "title", "baseline_year", "baseline_tco2e", "target_year", "reduction_pct",
	  "scope", "description", "language", "illustrative", "created") },
	{ PROTO_KIND_PROFILE, "profiles", "profiles.csv", COLS("id", "name", "country",
	  "population", "area_km2", "languages", "website", "description", "language",
	  "created") },
	{ PROTO_KIND_ENDORSEMENT, "endorsements", "endorsements.csv", COLS("id", "municipality",
	  "target", "note", "language", "created") },
};
const size_t sheet_n_kinds = sizeof(sheet_kinds) / sizeof(sheet_kinds[0]);

const struct sheet_kind *sheet_kind_find(enum proto_kind k)
{
	for (size_t i = 0; i < sheet_n_kinds; i++)
		if (sheet_kinds[i].kind == k)
			return &sheet_kinds[i];
	return NULL;
}

/* ------------------------------------------------------------- tables */

struct sheet *sheet_new(const char *name)
{
	struct sheet *s = calloc(1, sizeof(*s));

	if (s && name && !(s->name = strdup(name))) {
		free(s);
		return NULL;
	}
	return s;
}

void sheet_free(struct sheet *s)
{
	if (!s)
		return;
	for (size_t r = 0; r < s->nrows; r++) {
		for (size_t c = 0; c < s->rows[r].ncells; c++)
			free(s->rows[r].cells[c]);
		free(s->rows[r].cells);
	}
	free(s->rows);
	free(s->name);
	free(s);
}

int sheet_add_row(struct sheet *s, size_t row)
{
	if (s->nrows == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct sheet_row *grown = realloc(s->rows, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		s->rows = grown;
		s->cap = cap;
	}
	s->rows[s->nrows++] = (struct sheet_row){ .row = row };
	return 0;
}

int sheet_add_cell(struct sheet *s, const char *text, size_t len)
{
	struct sheet_row *r;
	char **grown, *copy;

	if (!s->nrows)
		return -EINVAL;
	r = &s->rows[s->nrows - 1];
	if (r->ncells >= SHEET_MAX_COLS || len > SHEET_MAX_CELL)
		return -E2BIG;
	if (!(copy = malloc(len + 1)))
		return -ENOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (!(grown = realloc(r->cells, (r->ncells + 1) * sizeof(*grown)))) {
		free(copy);
		return -ENOMEM;
	}
	r->cells = grown;
	r->cells[r->ncells++] = copy;
	return 0;
}

int sheet_set_cell(struct sheet *s, size_t col, const char *text, size_t len)
{
	struct sheet_row *r;
	char *copy;
	int rc;

	if (!s->nrows)
		return -EINVAL;
	if (col >= SHEET_MAX_COLS || len > SHEET_MAX_CELL)
		return -E2BIG;
	r = &s->rows[s->nrows - 1];
	while (r->ncells < col)
		if ((rc = sheet_add_cell(s, "", 0)) < 0)
			return rc;
	if (r->ncells == col)
		return sheet_add_cell(s, text, len);
	if (!(copy = malloc(len + 1)))
		return -ENOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	free(r->cells[col]);
	r->cells[col] = copy;
	return 0;
}

void sheet_col_letter(char buf[8], size_t c)
{
	char tmp[8];
	size_t n = 0, k = 0;

	c++;
	while (c && n < sizeof(tmp) - 1) {
		tmp[n++] = (char)('A' + (c - 1) % 26);
		c = (c - 1) / 26;
	}
	while (n)
		buf[k++] = tmp[--n];
	buf[k] = '\0';
}

int sheet_utf8_check(const char *buf, size_t len, unsigned char *bad, size_t *line)
{
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;
	size_t ln = 1;

	while (p < end) {
		unsigned char c = *p;
		size_t need;
		uint32_t cp;
		if (c < 0x80) {
			ln += c == '\n';
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			goto bad;
		}
		if ((size_t)(end - p) <= need)
			goto bad;
		for (size_t k = 1; k <= need; k++) {
			if ((p[k] & 0xc0) != 0x80)
				goto bad;
			cp = cp << 6 | (p[k] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			goto bad;
		p += need + 1;
	}
	return 0;
bad:
	*bad = *p;
	*line = ln;
	return 1;
}

/* ------------------------------------------------------ rows to JSON */

struct conv {
	const struct sheet *s;
	const struct sheet_kind *k;
	const ProtobufCMessageDescriptor *body;
	const ProtobufCMessageDescriptor *sector;   /* inventory: SectorEmission */
	long col_of[SHEET_MAX_COLS];               /* header index -> kind column, -1 none */
	char *msg;
	size_t cap;
};

static int bad(struct conv *cv, size_t row, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bad(struct conv *cv, size_t row, size_t col, const char *fmt, ...)
{
	char letter[8], text[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sheet_col_letter(letter, col);
	snprintf(cv->msg, cv->cap, "row %zu, column %s (%s): %s", row, letter,
	         col < cv->s->rows[0].ncells ? cv->s->rows[0].cells[col] : "?", text);
	return -EINVAL;
}

static char *trimmed(const char *s, char *buf, size_t cap)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

static const char *const truths[] = { "true", "1", "yes", "sand", "prawda", "waar", "ja" };
static const char *const falsehoods[] = { "false", "0", "no", "falsk", "fałsz", "FAŁSZ",
                                          "onwaar", "nej", "nie", "nee" };

/* A number as a spreadsheet writes it; with decimal commas "1,5" and "1.200,5". */
static int parse_number(double *out, const char *text, bool decimal_comma)
{
	char buf[64], *end;
	size_t n = 0;

	/* "1.200,5" with a decimal comma: the points group thousands.  Without a
	 * comma a point stays a decimal point ("1200.5" from a script). */
	decimal_comma = decimal_comma && strchr(text, ',');
	for (const char *p = text; *p; p++) {
		char c = *p;
		if (decimal_comma && c == '.')
			continue;
		if (decimal_comma && c == ',')
			c = '.';
		if (n + 1 >= sizeof(buf))
			return -EINVAL;
		buf[n++] = c;
	}
	buf[n] = '\0';
	if (!n || !strpbrk(buf, "0123456789"))
		return -EINVAL;
	errno = 0;
	*out = strtod(buf, &end);
	if (*end || errno || !isfinite(*out) || strpbrk(buf, "xXnNiI"))
		return -EINVAL;
	return 0;
}

/* One value of field fd from cell text (never empty); NULL + msg on error. */
static json_t *cell_value(struct conv *cv, const ProtobufCFieldDescriptor *fd, const char *text,
                          size_t row, size_t col, int *rc)
{
	char t[128];
	double d;

	*rc = 0;
	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_ENUM:
	case PROTOBUF_C_TYPE_BYTES:
		if (fd->type == PROTOBUF_C_TYPE_STRING)
			return json_string(text);
		return json_string(trimmed(text, t, sizeof(t)));
	case PROTOBUF_C_TYPE_BOOL:
		trimmed(text, t, sizeof(t));
		for (size_t k = 0; k < sizeof(truths) / sizeof(truths[0]); k++)
			if (!strcasecmp(t, truths[k]))
				return json_true();
		for (size_t k = 0; k < sizeof(falsehoods) / sizeof(falsehoods[0]); k++)
			if (!strcasecmp(t, falsehoods[k]))
				return json_false();
		*rc = bad(cv, row, col, "'%s' is not true or false", t);
		return NULL;
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_FLOAT:
		if (parse_number(&d, trimmed(text, t, sizeof(t)), cv->s->decimal_comma) < 0) {
			*rc = bad(cv, row, col, "'%s' is not a number (write it as %s)", t,
			          cv->s->decimal_comma ? "1200,5" : "1200.5");
			return NULL;
		}
		return json_real(d);
	default:
		/* Whole numbers: a spreadsheet may write 2021 as "2021" or "2021.0". */
		if (parse_number(&d, trimmed(text, t, sizeof(t)), cv->s->decimal_comma) < 0 ||
		    d != floor(d) || fabs(d) > 9007199254740992.0) {
			*rc = bad(cv, row, col, "'%s' is not a whole number", t);
			return NULL;
		}
		if (d < 0 && (fd->type == PROTOBUF_C_TYPE_UINT32 || fd->type == PROTOBUF_C_TYPE_UINT64 ||
		              fd->type == PROTOBUF_C_TYPE_FIXED32 || fd->type == PROTOBUF_C_TYPE_FIXED64)) {
			*rc = bad(cv, row, col, "'%s' must not be negative", t);
			return NULL;
		}
		return json_integer((json_int_t)d);
	}
}

/* The JSON value of cell text for field fd: a list split at ';' when repeated. */
static json_t *field_value(struct conv *cv, const ProtobufCFieldDescriptor *fd, const char *text,
                           size_t row, size_t col, int *rc)
{
	json_t *arr, *v;
	char *copy, *save = NULL;

	if (fd->label != PROTOBUF_C_LABEL_REPEATED)
		return cell_value(cv, fd, text, row, col, rc);
	if (!(arr = json_array()) || !(copy = strdup(text))) {
		json_decref(arr);
		*rc = -ENOMEM;
		return NULL;
	}
	for (char *part = strtok_r(copy, ";", &save); part; part = strtok_r(NULL, ";", &save)) {
		char t[8];
		if (!trimmed(part, t, sizeof(t))[0])
			continue;
		while (isspace((unsigned char)*part))
			part++;
		size_t n = strlen(part);
		while (n && isspace((unsigned char)part[n - 1]))
			part[--n] = '\0';
		if (!(v = cell_value(cv, fd, part, row, col, rc)) || json_array_append_new(arr, v) < 0) {
			if (!*rc)
				*rc = -ENOMEM;
			free(copy);
			json_decref(arr);
			return NULL;
		}
	}
	free(copy);
	return arr;
}

static bool ignored_column(const struct sheet_kind *k, const char *col)
{
	return !strcmp(col, "created") || !strcmp(col, "measure_title") ||
	       (!strcmp(col, "country") && k->kind != PROTO_KIND_PROFILE);
}

static bool is_sector_column(const struct sheet_kind *k, const char *col)
{
	return k->kind == PROTO_KIND_INVENTORY &&
	       (!strcmp(col, "sector") || !strcmp(col, "tco2e") || !strcmp(col, "mwh"));
}

/* The kind of a table: its name, else the one kind whose columns hold every header name. */
static const struct sheet_kind *table_kind(const struct sheet *s)
{
	const struct sheet_kind *found = NULL;
	const struct sheet_row *h = &s->rows[0];

	if (s->name) {
		for (size_t i = 0; i < sheet_n_kinds; i++) {
			size_t n = strlen(sheet_kinds[i].name);
			if (!strncasecmp(s->name, sheet_kinds[i].name, n) &&
			    (!s->name[n] || !isalpha((unsigned char)s->name[n])))
				return &sheet_kinds[i];
		}
	}
	for (size_t i = 0; i < sheet_n_kinds; i++) {
		bool all = true;
		for (size_t c = 0; c < h->ncells && all; c++) {
			bool in = !h->cells[c][0];
			for (size_t k = 0; k < sheet_kinds[i].ncols && !in; k++)
				in = !strcmp(h->cells[c], sheet_kinds[i].cols[k]);
			all = in;
		}
		if (all) {
			if (found)
				return NULL;   /* ambiguous */
			found = &sheet_kinds[i];
		}
	}
	return found;
}

static const char *cell(const struct sheet_row *r, size_t c)
{
	return c < r->ncells ? r->cells[c] : "";
}

static bool row_empty(const struct sheet_row *r)
{
	for (size_t c = 0; c < r->ncells; c++)
		for (const char *p = r->cells[c]; *p; p++)
			if (!isspace((unsigned char)*p))
				return false;
	return true;
}

/* Add one row's sector line to an inventory object. */
static int add_sector(struct conv *cv, json_t *obj, const struct sheet_row *r)
{
	const struct sheet_row *h = &cv->s->rows[0];
	json_t *line = json_object(), *arr = json_object_get(obj, "sectors");
	bool any = false;
	int rc = 0;

	if (!line)
		return -ENOMEM;
	for (size_t c = 0; c < h->ncells; c++) {
		const ProtobufCFieldDescriptor *fd;
		json_t *v;
		if (!is_sector_column(cv->k, h->cells[c]) || !cell(r, c)[0])
			continue;
		fd = protobuf_c_message_descriptor_get_field_by_name(cv->sector, h->cells[c]);
		if (!fd || !(v = cell_value(cv, fd, cell(r, c), r->row, c, &rc)) ||
		    json_object_set_new(line, h->cells[c], v) < 0) {
			json_decref(line);
			return rc ? rc : -ENOMEM;
		}
		any = true;
	}
	if (!any) {
		json_decref(line);
		return 0;
	}
	if (!arr) {
		if (!(arr = json_array()) || json_object_set_new(obj, "sectors", arr) < 0) {
			json_decref(line);
			return -ENOMEM;
		}
	}
	return json_array_append_new(arr, line) < 0 ? -ENOMEM : 0;
}

/* One row into a new record object. */
static int row_object(struct conv *cv, const struct sheet_row *r, json_t **out)
{
	const struct sheet_row *h = &cv->s->rows[0];
	json_t *obj = json_object(), *v;
	int rc = 0;

	if (!obj || json_object_set_new(obj, "kind", json_string(proto_kind_name(cv->k->kind))) < 0)
		goto oom;
	for (size_t c = 0; c < h->ncells; c++) {
		const char *col = h->cells[c], *text = cell(r, c);
		const ProtobufCFieldDescriptor *fd;
		char t[80];

		if (!col[0] || ignored_column(cv->k, col) || is_sector_column(cv->k, col))
			continue;
		if (!strcmp(col, "id") || !strcmp(col, "municipality")) {
			trimmed(text, t, sizeof(t));
			if (!t[0])
				continue;
			if (!strcmp(col, "id") && (strlen(t) != PROTO_ID_HEX ||
			                           strspn(t, "0123456789abcdefABCDEF") != PROTO_ID_HEX)) {
				json_decref(obj);
				return bad(cv, r->row, c, "'%s' is not a record id (64 hex digits); leave "
				           "it empty for a new record", t);
			}
			if (json_object_set_new(obj, col, json_string(!strcmp(col, "id") ? t : text)) < 0)
				goto oom;
			continue;
		}
		fd = protobuf_c_message_descriptor_get_field_by_name(cv->body, col);
		if (!fd)
			continue;  /* checked with the header */
		if (!text[0] || !trimmed(text, t, sizeof(t))[0])
			v = json_null();
		else if (!(v = field_value(cv, fd, text, r->row, c, &rc))) {
			json_decref(obj);
			return rc ? rc : -ENOMEM;
		}
		if (json_object_set_new(obj, col, v) < 0)
			goto oom;
	}
	if (cv->k->kind == PROTO_KIND_INVENTORY && (rc = add_sector(cv, obj, r)) < 0) {
		json_decref(obj);
		return rc;
	}
	*out = obj;
	return 0;
oom:
	json_decref(obj);
	return -ENOMEM;
}

/* Does inventory row r continue the inventory in prev (same id, or no id and same type/year)? */
static bool same_inventory(const json_t *prev, const json_t *cur)
{
	const json_t *a = json_object_get(prev, "id"), *b = json_object_get(cur, "id");

	if (a || b)
		return a && b && json_equal(a, b);
	return json_equal(json_object_get(prev, "type"), json_object_get(cur, "type")) &&
	       json_equal(json_object_get(prev, "year"), json_object_get(cur, "year"));
}

void sheet_records_free(struct sheet_record *r, size_t n)
{
	if (!r)
		return;
	for (size_t i = 0; i < n; i++)
		json_decref(r[i].obj);
	free(r);
}

int sheet_records(struct sheet_record **out, size_t *n_out, const struct sheet *s, char *msg,
                  size_t cap)
{
	struct conv cv = { .s = s, .msg = msg, .cap = cap };
	struct sheet_record *recs = NULL;
	const struct sheet_row *h;
	size_t n = 0;
	int rc;

	if (!s->nrows) {
		snprintf(msg, cap, "the table is empty: its first row must name the columns");
		return -EINVAL;
	}
	h = &s->rows[0];
	if (!(cv.k = table_kind(s))) {
		snprintf(msg, cap, "row 1: these columns are not those of one kind's table: use the "
		         "header row `agora export --format csv` writes, or name the file after "
		         "its kind (measures.csv, results.csv, ...)");
		return -EINVAL;
	}
	cv.body = proto_kind_descriptor(cv.k->kind);
	if (cv.k->kind == PROTO_KIND_INVENTORY)
		cv.sector = &agora__sector_emission__descriptor;
	for (size_t c = 0; c < h->ncells; c++) {
		bool in = !h->cells[c][0];
		for (size_t k = 0; k < cv.k->ncols && !in; k++)
			in = !strcmp(h->cells[c], cv.k->cols[k]);
		for (size_t d = 0; d < c && in; d++)
			if (h->cells[c][0] && !strcmp(h->cells[d], h->cells[c]))
				return bad(&cv, 1, c, "the column is there twice");
		if (!in)
			return bad(&cv, 1, c, "is not a column of the %s table (the columns are those "
			           "`agora export --help` lists)", cv.k->name);
	}
	if (!(recs = calloc(s->nrows, sizeof(*recs))))
		return -ENOMEM;
	for (size_t i = 1; i < s->nrows; i++) {
		const struct sheet_row *r = &s->rows[i];
		json_t *obj = NULL;
		if (row_empty(r))
			continue;
		for (size_t c = h->ncells; c < r->ncells; c++)
			if (r->cells[c][0]) {
				rc = bad(&cv, r->row, c, "this row has more cells than the header has columns");
				goto fail;
			}
		if ((rc = row_object(&cv, r, &obj)) < 0)
			goto fail;
		if (cv.k->kind == PROTO_KIND_INVENTORY && n &&
		    recs[n - 1].row + recs[n - 1].nrows == r->row && same_inventory(recs[n - 1].obj, obj)) {
			json_t *more = json_object_get(obj, "sectors"), *into;
			if (more) {
				if (!(into = json_object_get(recs[n - 1].obj, "sectors")))
					rc = json_object_set(recs[n - 1].obj, "sectors", more) < 0 ? -ENOMEM : 0;
				else
					rc = json_array_extend(into, more) < 0 ? -ENOMEM : 0;
			} else {
				rc = 0;
			}
			json_decref(obj);
			if (rc < 0)
				goto fail;
			recs[n - 1].nrows++;
			continue;
		}
		recs[n++] = (struct sheet_record){ .obj = obj, .row = r->row, .nrows = 1 };
	}
	*out = recs;
	*n_out = n;
	return 0;
fail:
	if (rc == -ENOMEM)
		snprintf(msg, cap, "out of memory");
	sheet_records_free(recs, n);
	return rc;
}

long sheet_column_of(const struct sheet *s, const char *path, size_t *sector)
{
	const char *dot = strchr(path, '.'), *name;
	char field[64];
	size_t n;

	*sector = 0;
	if (!s->nrows || !dot)
		return -1;
	name = dot + 1;
	/* "sectors[2].tco2e": the tco2e column of the inventory's third row. */
	if (!strncmp(name, "sectors[", 8)) {
		*sector = strtoul(name + 8, NULL, 10);
		if ((dot = strchr(name, '.')))
			name = dot + 1;
		else
			name = "sector";
	}
	n = strcspn(name, ".[");
	if (n >= sizeof(field))
		return -1;
	memcpy(field, name, n);
	field[n] = '\0';
	for (size_t c = 0; c < s->rows[0].ncells; c++)
		if (!strcmp(s->rows[0].cells[c], field))
			return (long)c;
	return -1;
}
