/*
 * xlsx_read.c - the sheets of an xlsx workbook (sheet_int.h): the zip
 * archive opened from memory with libzip, its XML parts read with expat.
 *
 * An xlsx is a zip of XML parts: xl/workbook.xml names the sheets and
 * points at each through xl/_rels/workbook.xml.rels; a sheet's cells are
 * <c r="B2" t="..."><v>...</v></c> in xl/worksheets/sheetN.xml, where t
 * says the value is a shared string (an index into xl/sharedStrings.xml),
 * an inline string (<is><t>...</t></is>), a boolean (0/1), a formula's
 * string result (str), an error, or, without t, a number.
 *
 * The file comes from anywhere (a partner's export, a download): the
 * archive's entry count and every part's uncompressed size are bounded
 * before inflating, inflating stops at the bound whatever the directory
 * claims, and a document type declaration (entity expansion) is refused.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>
#include <zip.h>

#include "cli/sheet_int.h"

#define XLSX_MAX_ENTRIES 4096          /* parts in the archive */
#define XLSX_MAX_PART (64u << 20)      /* uncompressed bytes of one part */
#define XLSX_MAX_TOTAL (256u << 20)    /* uncompressed bytes of all parts read */
#define XLSX_MAX_SHEETS 64
#define XLSX_MAX_STRINGS (4u << 20)    /* shared strings */

struct strs {                   /* the shared strings */
	char **v;
	size_t n, cap;
};

/* Text gathered between tags, bounded. */
struct text {
	char *p;
	size_t n, cap;
	bool over;
};

static int text_add(struct text *t, const char *s, int len)
{
	if (t->n + (size_t)len > SHEET_MAX_CELL) {
		t->over = true;
		return 0;
	}
	if (t->n + (size_t)len + 1 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		char *grown;
		while (cap < t->n + (size_t)len + 1)
			cap *= 2;
		if (!(grown = realloc(t->p, cap)))
			return -ENOMEM;
		t->p = grown;
		t->cap = cap;
	}
	memcpy(t->p + t->n, s, (size_t)len);
	t->n += (size_t)len;
	t->p[t->n] = '\0';
	return 0;
}

/* Element name without a namespace prefix ("x:c" -> "c"). */
static const char *local(const char *name)
{
	const char *colon = strrchr(name, ':');
	return colon ? colon + 1 : name;
}

static const char *attr(const char **atts, const char *name)
{
	for (size_t i = 0; atts[i]; i += 2)
		if (!strcmp(local(atts[i]), name))
			return atts[i + 1];
	return NULL;
}

/* ------------------------------------------------------------- parsing */

enum part { P_WORKBOOK, P_RELS, P_STRINGS, P_SHEET };

struct xml {
	XML_Parser p;
	enum part part;
	int err;                    /* first error: -ENOMEM, -E2BIG, -EINVAL */
	struct text text;
	bool in_t, in_v, in_is, in_si, in_rph;
	/* workbook / rels */
	char *names[XLSX_MAX_SHEETS], *rids[XLSX_MAX_SHEETS];
	size_t n_sheets;
	char **rel_id, **rel_target;
	size_t n_rels;
	/* shared strings */
	struct strs *strs;
	/* sheet */
	struct sheet *sheet;
	const struct strs *shared;
	size_t row, col;            /* current row (1-based) and cell column (0-based) */
	char type[12];              /* the cell's t attribute */
	bool in_cell;
};

static void fail(struct xml *x, int err)
{
	if (!x->err)
		x->err = err;
	XML_StopParser(x->p, XML_FALSE);
}

/* "BC12" -> column 54 (0-based); false if not a cell reference. */
static bool cell_ref(const char *r, size_t *col, size_t *row)
{
	size_t c = 0, n = 0;

	while (isupper((unsigned char)*r) && n < 4)
		c = c * 26 + (size_t)(*r++ - 'A' + 1), n++;
	if (!n || !isdigit((unsigned char)*r))
		return false;
	*col = c - 1;
	*row = strtoul(r, NULL, 10);
	return true;
}

static void on_start(void *arg, const char *name, const char **atts)
{
	struct xml *x = arg;
	const char *el = local(name), *v, *w;

	if (x->err)
		return;
	switch (x->part) {
	case P_WORKBOOK:
		if (!strcmp(el, "sheet") && (v = attr(atts, "name")) && (w = attr(atts, "id"))) {
			if (x->n_sheets == XLSX_MAX_SHEETS)
				return fail(x, -E2BIG);
			x->names[x->n_sheets] = strdup(v);
			x->rids[x->n_sheets] = strdup(w);
			if (!x->names[x->n_sheets] || !x->rids[x->n_sheets]) {
				x->n_sheets++;
				return fail(x, -ENOMEM);
			}
			x->n_sheets++;
		}
		return;
	case P_RELS:
		if (!strcmp(el, "Relationship") && (v = attr(atts, "Id")) && (w = attr(atts, "Target"))) {
			char **a = realloc(x->rel_id, (x->n_rels + 1) * sizeof(*a)), **b;
			if (!a)
				return fail(x, -ENOMEM);
			x->rel_id = a;
			if (!(b = realloc(x->rel_target, (x->n_rels + 1) * sizeof(*b))))
				return fail(x, -ENOMEM);
			x->rel_target = b;
			a[x->n_rels] = strdup(v);
			b[x->n_rels] = strdup(w);
			x->n_rels++;
			if (!a[x->n_rels - 1] || !b[x->n_rels - 1])
				return fail(x, -ENOMEM);
		}
		return;
	case P_STRINGS:
		if (!strcmp(el, "si")) {
			x->in_si = true;
			x->text.n = 0;
			x->text.over = false;
		} else if (!strcmp(el, "rPh")) {
			x->in_rph = true;   /* phonetic reading: not part of the text */
		} else if (!strcmp(el, "t")) {
			x->in_t = x->in_si && !x->in_rph;
		}
		return;
	case P_SHEET:
		if (!strcmp(el, "row")) {
			size_t r = (v = attr(atts, "r")) ? strtoul(v, NULL, 10) : x->row + 1;
			if (r <= x->row || r > 1048576)
				return fail(x, -EINVAL);
			x->row = r;
			x->col = 0;
			if (sheet_add_row(x->sheet, r) < 0)
				return fail(x, -ENOMEM);
		} else if (!strcmp(el, "c")) {
			size_t c = x->col, r = x->row;
			if (!x->row)
				return fail(x, -EINVAL);
			if ((v = attr(atts, "r")) && (!cell_ref(v, &c, &r) || r != x->row))
				return fail(x, -EINVAL);
			if (c >= SHEET_MAX_COLS)
				return fail(x, -E2BIG);
			x->col = c;
			snprintf(x->type, sizeof(x->type), "%s", (v = attr(atts, "t")) ? v : "n");
			x->in_cell = true;
			x->text.n = 0;
			x->text.over = false;
			if (x->text.p)
				x->text.p[0] = '\0';
		} else if (x->in_cell && !strcmp(el, "v")) {
			x->in_v = true;
		} else if (x->in_cell && !strcmp(el, "is")) {
			x->in_is = true;
		} else if (x->in_is && !strcmp(el, "rPh")) {
			x->in_rph = true;
		} else if (x->in_is && !strcmp(el, "t")) {
			x->in_t = !x->in_rph;
		}
		return;
	}
}

/* The value of the cell just closed. */
static void cell_end(struct xml *x)
{
	const char *s = x->text.p ? x->text.p : "";
	size_t len = x->text.n;
	int rc;

	x->in_cell = false;
	x->col++;              /* the next cell without r= is the one to the right */
	if (x->text.over)
		return fail(x, -E2BIG);
	if (!strcmp(x->type, "s")) {
		char *end;
		unsigned long i = strtoul(s, &end, 10);
		if (!len || *end || !x->shared || i >= x->shared->n)
			return fail(x, -EINVAL);
		s = x->shared->v[i];
		len = strlen(s);
	} else if (!strcmp(x->type, "b")) {
		s = !strcmp(s, "1") ? "true" : "false";
		len = strlen(s);
	}
	if (!len)
		return;
	if ((rc = sheet_set_cell(x->sheet, x->col - 1, s, len)) < 0)
		return fail(x, rc);
}

static void on_end(void *arg, const char *name)
{
	struct xml *x = arg;
	const char *el = local(name);

	if (x->err)
		return;
	if (!strcmp(el, "t"))
		x->in_t = false;
	else if (!strcmp(el, "rPh"))
		x->in_rph = false;
	if (x->part == P_STRINGS && !strcmp(el, "si")) {
		struct strs *st = x->strs;
		x->in_si = false;
		if (x->text.over || st->n == XLSX_MAX_STRINGS)
			return fail(x, -E2BIG);
		if (st->n == st->cap) {
			size_t cap = st->cap ? st->cap * 2 : 256;
			char **grown = realloc(st->v, cap * sizeof(*grown));
			if (!grown)
				return fail(x, -ENOMEM);
			st->v = grown;
			st->cap = cap;
		}
		if (!(st->v[st->n] = strdup(x->text.p ? x->text.p : "")))
			return fail(x, -ENOMEM);
		st->n++;
		x->text.n = 0;
		if (x->text.p)
			x->text.p[0] = '\0';
	} else if (x->part == P_SHEET) {
		if (!strcmp(el, "v"))
			x->in_v = false;
		else if (!strcmp(el, "is"))
			x->in_is = false;
		else if (!strcmp(el, "c") && x->in_cell)
			cell_end(x);
	}
}

static void on_text(void *arg, const char *s, int len)
{
	struct xml *x = arg;

	if (x->err)
		return;
	if ((x->part == P_STRINGS && x->in_t) ||
	    (x->part == P_SHEET && x->in_cell && (x->in_v || (x->in_is && x->in_t))))
		if (text_add(&x->text, s, len) < 0)
			fail(x, -ENOMEM);
}

static void on_doctype(void *arg, const char *name, const char *sysid, const char *pubid,
                       int internal)
{
	(void)name, (void)sysid, (void)pubid, (void)internal;
	fail(arg, -EINVAL);   /* no entities: an xlsx part never declares a DTD */
}

static int parse(struct xml *x, enum part part, const char *buf, size_t len)
{
	int rc = 0;

	x->part = part;
	x->err = 0;
	if (!(x->p = XML_ParserCreate("UTF-8")))
		return -ENOMEM;
	XML_SetUserData(x->p, x);
	XML_SetElementHandler(x->p, on_start, on_end);
	XML_SetCharacterDataHandler(x->p, on_text);
	XML_SetStartDoctypeDeclHandler(x->p, on_doctype);
	if (XML_Parse(x->p, buf, (int)len, XML_TRUE) == XML_STATUS_ERROR && !x->err)
		rc = -EINVAL;
	if (x->err)
		rc = x->err;
	XML_ParserFree(x->p);
	x->p = NULL;
	return rc;
}

/* --------------------------------------------------------------- archive */

/* One part, inflated up to the bounds; *out malloc()ed (NUL-ended).  -ENOENT if absent. */
static int part_read(zip_t *z, const char *name, size_t *total, char **out, size_t *len)
{
	zip_stat_t st;
	zip_file_t *f;
	char *buf;
	size_t n = 0;
	zip_int64_t r;

	zip_stat_init(&st);
	if (zip_stat(z, name, 0, &st) < 0)
		return -ENOENT;
	if (!(st.valid & ZIP_STAT_SIZE) || st.size > XLSX_MAX_PART ||
	    *total + st.size > XLSX_MAX_TOTAL)
		return -E2BIG;
	if (st.size > INT32_MAX || !(buf = malloc((size_t)st.size + 1)))
		return -ENOMEM;
	if (!(f = zip_fopen(z, name, 0))) {
		free(buf);
		return -EINVAL;
	}
	/* Read one byte past the size the directory claims: more is a lie. */
	while ((r = zip_fread(f, buf + n, (zip_uint64_t)(st.size + 1 - n))) > 0) {
		n += (size_t)r;
		if (n > st.size)
			break;
	}
	zip_fclose(f);
	if (r < 0 || n != st.size) {
		free(buf);
		return r < 0 ? -EINVAL : -E2BIG;
	}
	buf[n] = '\0';
	*total += n;
	*out = buf;
	*len = n;
	return 0;
}

static int part_parse(zip_t *z, struct xml *x, enum part part, const char *name, size_t *total)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = part_read(z, name, total, &buf, &len)) < 0)
		return rc;
	rc = parse(x, part, buf, len);
	free(buf);
	return rc;
}

static void xml_dispose(struct xml *x)
{
	for (size_t i = 0; i < x->n_sheets; i++) {
		free(x->names[i]);
		free(x->rids[i]);
	}
	for (size_t i = 0; i < x->n_rels; i++) {
		free(x->rel_id[i]);
		free(x->rel_target[i]);
	}
	free(x->rel_id);
	free(x->rel_target);
	free(x->text.p);
}

static void strs_free(struct strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

int sheet_xlsx_read(struct sheet ***out, size_t *n_out, const char *buf, size_t len, char *msg,
                    size_t cap)
{
	struct xml x = { 0 };
	struct strs strs = { 0 };
	struct sheet **sheets = NULL;
	zip_source_t *src;
	zip_error_t ze;
	zip_t *z = NULL;
	size_t total = 0, n = 0;
	const char *what = "the workbook";
	int rc = -EINVAL;

	zip_error_init(&ze);
	if (!(src = zip_source_buffer_create(buf, len, 0, &ze)) ||
	    !(z = zip_open_from_source(src, ZIP_RDONLY, &ze))) {
		if (src)
			zip_source_free(src);
		zip_error_fini(&ze);
		snprintf(msg, cap, "not an xlsx workbook (not a zip archive): save it from Excel as "
		         "\"Excel Workbook (.xlsx)\", or as CSV UTF-8");
		return -EINVAL;
	}
	zip_error_fini(&ze);
	if (zip_get_num_entries(z, 0) > XLSX_MAX_ENTRIES) {
		rc = -E2BIG;
		goto out;
	}
	if ((rc = part_parse(z, &x, P_WORKBOOK, "xl/workbook.xml", &total)) < 0 ||
	    (rc = part_parse(z, &x, P_RELS, "xl/_rels/workbook.xml.rels", &total)) < 0)
		goto out;
	x.strs = &strs;
	what = "the shared strings";
	if ((rc = part_parse(z, &x, P_STRINGS, "xl/sharedStrings.xml", &total)) < 0 && rc != -ENOENT)
		goto out;
	x.shared = &strs;
	if (!(sheets = calloc(x.n_sheets ? x.n_sheets : 1, sizeof(*sheets)))) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < x.n_sheets; i++) {
		char path[600];
		const char *target = NULL;
		for (size_t k = 0; k < x.n_rels && !target; k++)
			if (!strcmp(x.rel_id[k], x.rids[i]))
				target = x.rel_target[k];
		what = x.names[i];
		if (!target) {
			rc = -EINVAL;
			goto out;
		}
		if (target[0] == '/')
			snprintf(path, sizeof(path), "%s", target + 1);
		else
			snprintf(path, sizeof(path), "xl/%s", target);
		if (!(sheets[n] = sheet_new(x.names[i]))) {
			rc = -ENOMEM;
			goto out;
		}
		x.sheet = sheets[n++];
		x.row = 0;
		if ((rc = part_parse(z, &x, P_SHEET, path, &total)) < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0) {
		if (rc == -E2BIG)
			snprintf(msg, cap, "the workbook is too large to import at once (over %u parts, "
			         "%u MB in one part or %u MB in all, or a cell over %u bytes): split it",
			         XLSX_MAX_ENTRIES, XLSX_MAX_PART >> 20, XLSX_MAX_TOTAL >> 20, SHEET_MAX_CELL);
		else if (rc == -ENOMEM)
			snprintf(msg, cap, "out of memory");
		else
			snprintf(msg, cap, "%s of the workbook cannot be read: is it an xlsx file saved "
			         "by a spreadsheet?", what);
		for (size_t i = 0; i < n; i++)
			sheet_free(sheets[i]);
		free(sheets);
	} else {
		*out = sheets;
		*n_out = n;
	}
	zip_discard(z);
	xml_dispose(&x);
	strs_free(&strs);
	return rc;
}
