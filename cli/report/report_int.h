/*
 * report_int.h - private to cli/report/: what the files of the report
 * share.  The model (report.c, report_add.c): id lists and maps and the
 * report's private state.  The writers (report_labels.c, report_tables.c,
 * report_out.c, report_json.c, report_html.c): the report's labels in
 * the chosen language, and the report laid out as a list of plain tables
 * that every format prints its own way.
 */
#ifndef AGORA_CLI_REPORT_INT_H
#define AGORA_CLI_REPORT_INT_H

#include <stdio.h>
#include <string.h>

#include "cli/report/report.h"

/* ------------------------------------------------------------- the model */

/* Append id to l / every id of src to dst.  0 or -ENOMEM. */
int report_ids_add(struct report_ids *l, const uint8_t id[PROTO_ID_BYTES]);
int report_ids_cat(struct report_ids *dst, const struct report_ids *src);
void report_ids_free(struct report_ids *l);     /* leaves *l empty */

/* Open addressing on the first 8 bytes of a (random) record id or key. */
struct idmap {
	uint8_t (*keys)[PROTO_ID_BYTES];
	size_t *vals;                   /* SIZE_MAX: empty slot */
	size_t cap, n;
};

static inline uint64_t report_id_hash(const uint8_t *id)
{
	uint64_t h;
	memcpy(&h, id, sizeof(h));
	return h * 0x9e3779b97f4a7c15ULL;
}


/* What a result needs to know about its measure. */
struct mrec {
	uint32_t member;
	uint8_t sector, status;
	char currency[8];
	double reduction;               /* measure's own estimate, t CO2e/a */
	double investment;
	/* latest t CO2e result of each estimation kind: [0] estimated, [1] measured */
	bool has[2];
	uint16_t year[2];
	double value[2];
};

/* (member, indicator, unit) -> index into member->sums, by string hash. */
struct sumkey {
	uint64_t h;
	uint32_t member;
	uint32_t sum;                   /* UINT32_MAX: empty */
};

struct report_priv {
	report_resolve_cb resolve;
	void *resolve_ctx;
	struct idmap members;           /* key -> members index */
	/* Measures: an open-addressing table of indexes into mrecs/mids, so a
	 * slot costs 4 bytes, not a copy of the 32-byte id. */
	uint32_t *mtab;                 /* UINT32_MAX: empty */
	size_t mtab_cap;
	struct mrec *mrecs;
	size_t n_mrecs, cap_mrecs;
	uint8_t (*mids)[PROTO_ID_BYTES];        /* measure id per mrec */
	uint8_t (*mres_ids)[2][PROTO_ID_BYTES]; /* explain only: result id per mrec kind */
	struct idmap lessons;           /* id -> lessons index */
	struct sumkey *sumtab;
	size_t sumcap, sumn;
};

/* The value stored for id, or NULL; valid until the next put. */
size_t *report_idmap_find(const struct idmap *m, const uint8_t *id);
/* Insert or overwrite.  0 or -ENOMEM. */
int report_idmap_put(struct idmap *m, const uint8_t *id, size_t val);
void report_idmap_free(struct idmap *m);

/* ----------------------------------------------------------- the writers */

/*
 * The report's own words in one language (record texts keep theirs): each
 * field is the language files' "report.<field>" (cli/lang/), borrowed from
 * words.  Made by report_labels_new, freed with report_labels_free.
 */
struct lang;
struct report_labels {
	const char *lang;               /* "en", "da", "pl", "nl" */
	const struct lang *words;       /* owned */
	bool plain_numbers;             /* CSV, JSON: "950000000", not "950.000.000" */
	const char *title, *alliance, *generated, *data_as_of, *filters, *none;
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
	const char *path_on, *path_off, *path_open, *target_point;  /* chart legends */
	const char *key_municipal, *key_tertiary, *key_residential, *key_transport;
	const char *coordinators;       /* heading of the coordinators left out of the members */
	const char *q_no_inventory, *q_no_baseline, *q_orphan, *q_com, *q_fork;
	const char *definitions;        /* one paragraph: on track, gap, sums */
	const char *status[REPORT_STATUSES];
};

/* Labels in lang (lang_known's rule).  0, -ENOENT (no such language),
 * -ENOMEM, -EINVAL. */
int report_labels_new(struct report_labels **out, const char *lang, bool plain_numbers);
void report_labels_free(struct report_labels *L);       /* accepts NULL */
/* The i-th language-file key the labels use ("report.title"); NULL past the
 * last (for the translations' test). */
const char *report_label_key(size_t i);
/* The stable name of one of L's labels, by pointer: "baseline_year" for
 * L->baseline_year, the status name for L->status[s]; "" for another
 * string.  Static. */
const char *report_label_name(const struct report_labels *L, const char *label);

/* Stable text names of code lists ("residential_buildings"), for CSV
 * columns and JSON. */
const char *report_sector_name(int sector);
const char *report_status_name(int status);
/* Their names for people, in L's language ("Boliger"). */
const char *report_sector_label(const struct report_labels *L, int sector);
const char *report_target_label(const struct report_labels *L, int type);

/* One table of the report.  Everything is owned by the table. */
struct report_table {
	const char *key;                /* stable section name for CSV ("targets") */
	const char *title;              /* in the report's language (borrowed label) */
	size_t ncols;
	const char **headers;           /* borrowed labels */
	const char **colkeys;           /* stable column names for CSV ("baseline_year"), static */
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

/* Text of an Agora__TargetKind ("absolute_reduction"). */
const char *report_target_type(int type);

/* The report as one JSON document (report_json.c); caller decrefs; NULL
 * when out of memory. */
struct json_t;
struct json_t *report_json(const struct report *r, const struct report_labels *L);

/* Numbers as a program reads them ("950000000.5"; "-" when not finite). */
void report_fmt_num(char *buf, size_t cap, double v, int decimals);
/* Numbers for the report's readers: plain when L->plain_numbers, else in
 * L's language ("950.000.000,5"). */
void report_num(const struct report_labels *L, char *buf, size_t cap, double v, int decimals);
/* A date (unix s, UTC): "2026-12-06" when L->plain_numbers, else in L's
 * language ("6. december 2026"). */
void report_date(const struct report_labels *L, char *buf, size_t cap, int64_t unix_s);

/* The HTML writer (report_html.c).  Returns 0 or -errno. */
int report_write_html(FILE *f, const struct report *r, const struct report_labels *L,
                      bool explain);

#endif
