/*
 * csv_read.c - a CSV file into a sheet (sheet_int.h), parsed by libcsv in
 * strict mode: what `agora export --format csv` writes, and what Excel
 * writes when it saves "CSV UTF-8" (a byte-order mark, and in Danish or
 * Polish settings ';' between cells and decimal commas).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <csv.h>

#include "cli/sheet_int.h"

struct reader {
	struct sheet *s;
	size_t row;                 /* spreadsheet row being read (1-based) */
	bool open;                  /* a row has been started */
	int last;                   /* the previous row's terminator */
	int err;
};

static void on_field(void *text, size_t len, void *arg)
{
	struct reader *r = arg;
	int rc;

	if (r->err)
		return;
	if (!r->open) {
		if ((rc = sheet_add_row(r->s, r->row)) < 0) {
			r->err = rc;
			return;
		}
		r->open = true;
	}
	if ((rc = sheet_add_cell(r->s, text ? text : "", text ? len : 0)) < 0)
		r->err = rc;
}

static void on_row(int c, void *arg)
{
	struct reader *r = arg;

	/* Every line ending is reported (CSV_REPALL_NL), so that a blank line
	 * counts as a row as a spreadsheet shows it; CR LF is one ending. */
	if (c == '\n' && r->last == '\r' && !r->open) {
		r->last = c;
		return;
	}
	r->last = c;
	if (!r->open && !r->err && sheet_add_row(r->s, r->row) < 0)
		r->err = -ENOMEM;
	r->open = false;
	r->row++;
}

/* ';' if the first line uses more ';' than ',' outside quotes. */
static unsigned char separator(const char *p, const char *end)
{
	size_t commas = 0, semis = 0;
	bool quoted = false;

	for (; p < end && (quoted || (*p != '\n' && *p != '\r')); p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted)
			commas += *p == ',', semis += *p == ';';
	}
	return semis > commas ? ';' : ',';
}

int sheet_csv_read(struct sheet **out, const char *buf, size_t len, char *msg, size_t cap)
{
	struct csv_parser p;
	struct reader r = { .row = 1 };
	unsigned char sep, badc;
	size_t line;
	int rc;

	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) {
		buf += 3;
		len -= 3;
	}
	if (sheet_utf8_check(buf, len, &badc, &line)) {
		snprintf(msg, cap, "the file is not UTF-8 (byte 0x%02x at line %zu): save it as UTF-8 "
		         "(in Excel: Save As, CSV UTF-8)", badc, line);
		return -EILSEQ;
	}
	if (memchr(buf, '\0', len)) {
		snprintf(msg, cap, "the file holds a NUL byte: it is not a CSV text file");
		return -EINVAL;
	}
	sep = separator(buf, buf + len);
	if (!(r.s = sheet_new(NULL)))
		return -ENOMEM;
	r.s->decimal_comma = sep == ';';
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_REPALL_NL) != 0) {
		sheet_free(r.s);
		return -ENOMEM;
	}
	csv_set_delim(&p, sep);
	if (csv_parse(&p, buf, len, on_field, on_row, &r) != len || r.err ||
	    csv_fini(&p, on_field, on_row, &r) != 0 || r.err) {
		if (r.err == -E2BIG)
			snprintf(msg, cap, "row %zu: more than %d columns or a cell over %u bytes", r.row,
			         SHEET_MAX_COLS, SHEET_MAX_CELL);
		else if (r.err)
			snprintf(msg, cap, "out of memory");
		else
			snprintf(msg, cap, "row %zu: not valid CSV (%s): a cell that starts with a "
			         "quote must end with one, and quotes inside it are doubled (\"\")",
			         r.row, csv_strerror(csv_error(&p)));
		rc = r.err ? r.err : -EINVAL;
		csv_free(&p);
		sheet_free(r.s);
		return rc;
	}
	csv_free(&p);
	*out = r.s;
	return 0;
}
