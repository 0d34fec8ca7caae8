/*
 * report_int.h - what the report writers share (cli/report_*.c only): the
 * report's labels in English and Danish, and the report laid out as a list
 * of plain tables that every format prints its own way.
 */
#ifndef AGORA_CLI_REPORT_INT_H
#define AGORA_CLI_REPORT_INT_H

#include <stdio.h>

#include "cli/report.h"

/* The report's own words (record texts keep their language). */
struct report_labels {
	const char *lang;               /* "en", "da" */
	const char *title, *alliance, *generated, *filters, *none;
	const char *sec_progress, *sec_targets, *sec_status, *sec_results, *sec_sectors,
	           *sec_costs, *sec_recent, *sec_endorsed, *sec_lsector, *sec_ltag, *sec_quality;
	const char *sec_charts, *chart_traj, *chart_sectors, *chart_status;
	const char *municipality, *country, *baseline_year, *baseline, *latest_year, *latest,
	           *achieved, *measures, *com_min, *target, *type, *target_year, *target_value,
	           *path, *on_track, *gap, *gap_pp, *sector, *indicator, *unit, *sum, *count,
	           *planned, *estimated, *measured, *currency, *investment, *reduction,
	           *per_tonne, *title_col, *year, *endorsements, *lessons, *tag, *issue,
	           *detail, *records, *yes, *no, *on, *off, *not_evaluated, *total,
	           *inventories, *target_path;
	const char *q_no_inventory, *q_no_baseline, *q_orphan, *q_com, *q_fork;
	const char *definitions;        /* one paragraph: on track, gap, sums */
	const char *status[REPORT_STATUSES];
};

const struct report_labels *report_labels(const char *lang);   /* NULL: unknown */

/* Stable text names of code lists ("residential_buildings"). */
const char *report_sector_name(int sector);
const char *report_status_name(int status);

/* One table of the report.  Everything is owned by the table. */
struct report_table {
	const char *key;                /* stable section name for CSV ("targets") */
	const char *title;              /* in the report's language (borrowed label) */
	size_t ncols;
	const char **headers;           /* borrowed labels */
	bool *numeric;                  /* right-aligned columns (owned) */
	char **cells;                   /* rows * ncols, malloc()ed */
	char **langs;                   /* rows * ncols: BCP-47 of a record text, or NULL */
	struct report_ids *src;         /* rows: borrowed lists merged per row (owned copy) */
	size_t rows, cap;
};

/* Lay the report out as tables (n_out of them, freed with report_tables_free). */
int report_tables(struct report_table **out, size_t *n_out, const struct report *r,
                  const struct report_labels *L);
void report_tables_free(struct report_table *t, size_t n);

/* Number formatting shared by the writers. */
void report_fmt_num(char *buf, size_t cap, double v, int decimals);

enum report_format { REPORT_TABLE, REPORT_MARKDOWN, REPORT_CSV, REPORT_JSON, REPORT_HTML };

/*
 * Write the report to f in a format, with labels in lang ("en", "da";
 * PROTO_E_ARG otherwise).  width: terminal columns for tables (0: no
 * limit).  Returns 0 or -errno.
 */
int report_write(FILE *f, const struct report *r, enum report_format fmt, const char *lang,
                 int width);

/* The HTML writer (report_html.c).  Returns 0 or -errno. */
int report_write_html(FILE *f, const struct report *r, const struct report_labels *L,
                      bool explain);

#endif
