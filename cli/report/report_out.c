/*
 * report_out.c - report_write(): the summit report as tables for people,
 * Markdown or CSV (laid out by report_tables.c), JSON (report_json.c) or
 * HTML (report_html.c).  The figures come from report.c; this file only
 * prints them.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/csv_int.h"
#include "cli/report/report.h"
#include "cli/report/report_int.h"
#include "cli/table_int.h"

static char *ids_text(const struct report_ids *ids, size_t hexlen)
{
	char *s = malloc(ids->n * (hexlen + 1) + 1), hex[PROTO_ID_HEX + 1];
	if (!s)
		return NULL;
	*s = '\0';
	for (size_t i = 0; i < ids->n; i++) {
		proto_hex(hex, ids->v[i], PROTO_ID_BYTES);
		hex[hexlen] = '\0';
		if (i)
			strcat(s, " ");
		strcat(s, hex);
	}
	return s;
}

/* "Generated: ... · Data as of: ..." for people ("" when neither is known). */
static void when_line(char *out, size_t cap, const struct report *r,
                      const struct report_labels *L)
{
	char a[64] = "", b[64] = "";

	if (r->opt.generated_s)
		report_date(L, a, sizeof(a), r->opt.generated_s);
	if (r->newest_ms)
		report_date(L, b, sizeof(b), (int64_t)(r->newest_ms / 1000));
	snprintf(out, cap, "%s%s%s%s%s%s%s", *a ? L->generated : "", *a ? ": " : "", a,
	         *a && *b ? " \u00b7 " : "", *b ? L->data_as_of : "", *b ? ": " : "", b);
}

/* The coordinators left out of the member tables, comma-separated. */
static char *hidden_names(const struct report *r)
{
	size_t len = 1;
	for (size_t i = 0; i < r->n_members; i++)
		if (r->members[i].hidden)
			len += strlen(r->members[i].name) + 2;
	char *s = malloc(len);
	if (!s)
		return NULL;
	*s = '\0';
	for (size_t i = 0; i < r->n_members; i++)
		if (r->members[i].hidden) {
			if (*s)
				strcat(s, ", ");
			strcat(s, r->members[i].name);
		}
	return s;
}

static int write_terminal(FILE *f, const struct report *r, const struct report_labels *L,
                          struct report_table *ts, size_t n, bool explain, int width)
{
	char when[256];
	char hex[PROTO_ID_HEX + 1];

	proto_hex(hex, r->alliance, PROTO_ID_BYTES);
	when_line(when, sizeof(when), r, L);
	fprintf(f, "%s: %s\n", L->title, r->alliance_name ? r->alliance_name : hex);
	if (*when)
		fprintf(f, "%s\n", when);
	if (r->n_hidden) {
		char *h = hidden_names(r);
		if (!h)
			return -ENOMEM;
		fprintf(f, "%s: %s\n", L->coordinators, h);
		free(h);
	}
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		struct report_table *t = &ts[i];
		size_t nc = t->ncols + (explain ? 1 : 0);
		const char **h = malloc(nc * sizeof(*h));
		unsigned *shrink = calloc(nc, sizeof(*shrink));
		struct cli_table *ct = NULL;
		int rc = 0;
		if (!h || !shrink)
			rc = -ENOMEM;
		for (size_t c = 0; rc == 0 && c < nc; c++) {
			h[c] = c < t->ncols ? t->headers[c] : L->records;
			shrink[c] = c < t->ncols && t->numeric[c] ? 0 : 10;
		}
		if (rc == 0 && !(ct = cli_table_new(nc, h, shrink)))
			rc = -ENOMEM;
		for (size_t row = 0; rc == 0 && row < t->rows; row++) {
			const char *cells[32];
			char *ids = explain ? ids_text(&t->src[row], 12) : NULL;
			for (size_t c = 0; c < t->ncols; c++)
				cells[c] = t->cells[row * t->ncols + c];
			if (explain)
				cells[t->ncols] = ids ? ids : "";
			rc = cli_table_add(ct, cells);
			free(ids);
		}
		if (rc == 0) {
			fprintf(f, "%s%s\n", i ? "\n" : "", t->title);
			if (t->rows)
				cli_table_print(ct, f, explain ? 0 : width);
			else
				fputs("  -\n", f);
		}
		cli_table_free(ct);
		free(h);
		free(shrink);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* A Markdown table cell: pipes escaped, line breaks as spaces. */
static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n' || *s == '\r' || *s == '\t')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

static int write_markdown(FILE *f, const struct report *r, const struct report_labels *L,
                          struct report_table *ts, size_t n, bool explain)
{
	char hex[PROTO_ID_HEX + 1];
	proto_hex(hex, r->alliance, PROTO_ID_BYTES);
	fprintf(f, "# %s: ", L->title);
	md_cell(f, r->alliance_name ? r->alliance_name : hex);
	fprintf(f, "\n\n%s: `%s`\n\n", L->alliance, hex);
	char when[256];
	when_line(when, sizeof(when), r, L);
	if (*when) {
		md_cell(f, when);
		fputs("\n\n", f);
	}
	if (r->n_hidden) {
		char *h = hidden_names(r);
		if (!h)
			return -ENOMEM;
		md_cell(f, L->coordinators);
		fputs(": ", f);
		md_cell(f, h);
		fputs("\n\n", f);
		free(h);
	}
	fprintf(f, "%s\n", L->definitions);
	for (size_t i = 0; i < n; i++) {
		struct report_table *t = &ts[i];
		fprintf(f, "\n## %s\n\n", t->title);
		if (!t->rows) {
			fputs("-\n", f);
			continue;
		}
		fputc('|', f);
		for (size_t c = 0; c < t->ncols; c++) {
			fputc(' ', f);
			md_cell(f, t->headers[c]);
			fputs(" |", f);
		}
		if (explain) {
			fputc(' ', f);
			md_cell(f, L->records);
			fputs(" |", f);
		}
		fputs("\n|", f);
		for (size_t c = 0; c < t->ncols; c++)
			fputs(t->numeric[c] ? " ---: |" : " --- |", f);
		fputs(explain ? " --- |\n" : "\n", f);
		for (size_t row = 0; row < t->rows; row++) {
			fputc('|', f);
			for (size_t c = 0; c < t->ncols; c++) {
				fputc(' ', f);
				md_cell(f, t->cells[row * t->ncols + c]);
				fputs(" |", f);
			}
			if (explain) {
				char *ids = ids_text(&t->src[row], PROTO_ID_HEX);
				if (!ids)
					return -ENOMEM;
				fprintf(f, " %s |", ids);
				free(ids);
			}
			fputc('\n', f);
		}
	}
	return 0;
}

/*
 * CSV: one rectangular table in long form, one line per cell of every
 * table of the report, so that every line has the same columns and any CSV
 * reader (a spreadsheet, Python's csv, pandas) opens it:
 *
 *   section,row,column,header,value[,records]
 *
 * section is the table's stable key ("progress"), row counts the table's
 * rows from 1, column is the column's stable key ("baseline_year"), header
 * its label in --lang, value the cell as shown (numbers without thousands
 * separators), records the ids behind the row (--explain).  A table
 * without rows has no lines.  pandas gets a table back with
 * df[df.section == "progress"].pivot(index="row", columns="column", values="value").
 */
static int write_csv(FILE *f, struct report_table *ts, size_t n, bool explain)
{
	const char *cells[6] = { "section", "row", "column", "header", "value", "records" };
	size_t nc = explain ? 6 : 5;

	cli_csv_row(f, cells, nc);
	for (size_t i = 0; i < n; i++) {
		struct report_table *t = &ts[i];
		for (size_t row = 0; row < t->rows; row++) {
			char rowno[24];
			char *ids = explain ? ids_text(&t->src[row], PROTO_ID_HEX) : NULL;
			if (explain && !ids)
				return -ENOMEM;
			snprintf(rowno, sizeof(rowno), "%zu", row + 1);
			for (size_t c = 0; c < t->ncols; c++) {
				cells[0] = t->key;
				cells[1] = rowno;
				cells[2] = t->colkeys[c];
				cells[3] = t->headers[c];
				cells[4] = t->cells[row * t->ncols + c];
				cells[5] = ids;
				cli_csv_row(f, cells, nc);
			}
			free(ids);
		}
	}
	return ferror(f) ? -EIO : 0;
}

int report_write(FILE *f, const struct report *r, enum report_format fmt_, const char *lang,
                 int width)
{
	struct report_labels *L = NULL;
	struct report_table *ts = NULL;
	size_t n = 0;
	int rc = 0;

	rc = report_labels_new(&L, lang, fmt_ == REPORT_JSON || fmt_ == REPORT_CSV);
	if (rc == -ENOENT)
		return PROTO_E_ARG;
	if (rc < 0)
		return rc;
	if (fmt_ == REPORT_JSON) {
		json_t *o = report_json(r, L);
		if (!o) {
			rc = -ENOMEM;
			goto out;
		}
		rc = json_dumpf(o, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
		json_decref(o);
		fputc('\n', f);
		rc = rc < 0 ? -EIO : 0;
		goto out;
	}
	if (fmt_ == REPORT_HTML) {
		rc = report_write_html(f, r, L, r->opt.explain);
		goto out;
	}
	if ((rc = report_tables(&ts, &n, r, L)) < 0)
		goto out;
	if (fmt_ == REPORT_TABLE)
		rc = write_terminal(f, r, L, ts, n, r->opt.explain, width);
	else if (fmt_ == REPORT_MARKDOWN)
		rc = write_markdown(f, r, L, ts, n, r->opt.explain);
	else
		rc = write_csv(f, ts, n, r->opt.explain);
	report_tables_free(ts, n);
out:
	report_labels_free(L);
	return rc;
}
