/*
 * report.h - the summit report (`agora report`): where every member of an
 * alliance stands against its targets, alliance totals by sector, lessons
 * and data quality, computed from the records a node holds.  cli/ only.
 *
 * The computation is pure: report_add() takes decoded records one at a
 * time and report_finish() derives every figure; nothing here prints or
 * touches the store except report_collect(), which walks the store's
 * indexes (one store_query per kind, newest versions only, so superseded
 * and retracted records are never seen) and feeds report_add() in the
 * order it needs, and report_write(), which writes a finished report to a
 * FILE in one of its formats (report_out.c and the writers beside it).
 *
 * Definitions (also in `agora report --help` and agora(1)):
 *
 *   inventory total   sum of t CO2e over the inventory's sectors.
 *   member baseline   the member's BEI (earliest BEI by year); if it has
 *                     none, the earliest own baseline among its targets.
 *   target baseline   the target's own baseline_year + baseline_tco2e when
 *                     both are given, else the member's BEI.  A target with
 *                     neither has no baseline (data quality) and is not
 *                     evaluated.
 *   target value      baseline x (1 - reduction_pct / 100); a net-zero
 *                     target without reduction_pct means 100 %.
 *   path(y)           straight line from (baseline year, baseline) to
 *                     (target year, target value); after the target year it
 *                     stays at the target value.
 *   on track          latest inventory total <= path(latest inventory year).
 *                     gap = total - path (t CO2e, > 0 means off track by);
 *                     gap_pp = gap / baseline x 100 (percentage points of
 *                     the baseline).  Not evaluated without a latest
 *                     inventory, before the baseline year, with a target
 *                     year not after the baseline year, a baseline <= 0,
 *                     for per-capita targets, or for targets on municipal
 *                     operations (inventories are territorial).
 *   achieved          (baseline - latest total) / baseline x 100 %.
 *   results           summed per (indicator, unit) exactly as written
 *                     (unit compared after trimming spaces): values in
 *                     different units are never added.  A result counts
 *                     for the member who owns its measure.
 *   reductions        per sector: "planned" = sum of the measures'
 *                     reduction_tco2e (t CO2e/a); "estimated" / "measured"
 *                     = for each measure, its latest result whose unit is a
 *                     t CO2e unit (t CO2e, tCO2e/a, t CO2e/år, ...), by the
 *                     result's estimation flag.
 *   cost per tonne    per sector and currency (currencies are never
 *                     mixed): sum of investment / sum of annual reduction
 *                     over measures with both an investment > 0 and a
 *                     reduction > 0 (measured result if any, else the
 *                     estimated result, else the measure's own estimate).
 *   Covenant minimum  latest inventory with t CO2e or MWh > 0 in >= 3 of the
 *                     4 key sectors, and non-cancelled measures in >= 2:
 *                     municipal = municipal_buildings or public_lighting,
 *                     tertiary = tertiary_buildings, residential =
 *                     residential_buildings, transport = any of
 *                     transport_municipal_fleet, transport_public,
 *                     transport_private_commercial.
 *   filters           --year Y: only inventories, results and lessons of
 *                     year <= Y and measures started by Y (or undated).
 *                     --sector S: measures of S, their results and lessons
 *                     of S (targets and inventories stay whole-territory).
 *                     --municipality: only those members.
 *
 * Every figure carries the ids of the records it was computed from
 * (struct report_ids) when report_new() is asked to explain.
 */
#ifndef AGORA_CLI_REPORT_H
#define AGORA_CLI_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto/proto.h"
#include "storage/storage.h"

#define REPORT_SECTORS 15          /* Agora__Sector values 0..14 */
#define REPORT_STATUSES 6          /* Agora__Status values 0..5 */
#define REPORT_TOP 5               /* lessons listed as most recent / most endorsed */

/* Ids of the records a figure was computed from (empty unless explaining). */
struct report_ids {
	uint8_t (*v)[PROTO_ID_BYTES];   /* malloc()ed, owned by the report */
	size_t n, cap;
};

/* Which members and records the report covers.  Zero-initialise. */
struct report_options {
	const uint8_t *alliance;        /* PROTO_ID_BYTES; required by report_collect */
	unsigned year;                  /* 0: no year limit */
	int sector;                     /* Agora__Sector, 0: all */
	const uint8_t (*authors)[PROTO_KEY_BYTES]; /* --municipality; n_authors 0: all */
	size_t n_authors;
	bool explain;                   /* keep report_ids for every figure */
	int64_t generated_s;            /* when the report is made (unix s; 0: not shown) */
	const char *record_url;         /* HTML: a record's link is this + its 64-hex id
	                                 * (`agora web`'s record page); NULL: the list of
	                                 * records at the end of the file.  Borrowed. */
	struct store *trim;             /* store_trim()ed now and then during the
	                                 * scan so the resident set stays small;
	                                 * may be NULL */
};

struct report_inventory {
	uint8_t id[PROTO_ID_BYTES];
	int type;                       /* Agora__InventoryKind */
	unsigned year;
	uint64_t created_ms;
	double total;                   /* t CO2e, sum over sectors */
	double sector_t[REPORT_SECTORS];
	unsigned covered;               /* bit per sector with t CO2e or MWh > 0 */
};

struct report_target {
	uint8_t id[PROTO_ID_BYTES];
	int type;                       /* Agora__TargetKind */
	int scope;                      /* Agora__Scope */
	char *title, *lang;             /* owned; lang may be "" */
	unsigned target_year;
	double reduction_pct;
	bool has_baseline;
	bool own_baseline;              /* baseline from the target itself (else the BEI) */
	unsigned baseline_year;
	double baseline;                /* t CO2e */
	double target_value;            /* t CO2e */
	bool evaluated;                 /* on_track, path, gap are meaningful */
	unsigned eval_year;             /* latest inventory year */
	double path_value;              /* path(eval_year) */
	bool on_track;
	double gap;                     /* latest - path, t CO2e */
	double gap_pp;                  /* gap / baseline * 100 */
	bool has_achieved;
	double achieved_pct;            /* against this target's baseline */
	struct report_ids src;          /* target, baseline inventory, latest inventory */
};

/* Sum of one member's results with the same indicator and unit. */
struct report_sum {
	char *indicator, *unit;         /* owned */
	double sum;
	size_t count;
	struct report_ids src;
};

struct report_member {
	uint8_t key[PROTO_KEY_BYTES];
	char *name;                     /* owned: profile name, else admission name, else key prefix */
	char *country;                  /* owned, may be "" */
	bool admitted;                  /* an admission names it (not as observer) */
	bool coordinator;               /* the charter or an admission names it coordinator */
	bool hidden;                    /* a coordinator with no inventory, target, measure
	                                 * or result: listed apart, not as a lagging member */
	bool forked;                    /* equivocated: two records at one seq */
	struct report_inventory *inv;   /* owned, n_inv, sorted by year */
	size_t n_inv, cap_inv;
	struct report_target *targets;  /* owned */
	size_t n_targets, cap_targets;
	bool has_baseline;
	unsigned baseline_year;
	double baseline;
	struct report_ids baseline_src;
	const struct report_inventory *latest;  /* into inv, or NULL */
	bool has_achieved;
	double achieved_pct;
	struct report_ids achieved_src;
	size_t by_status[REPORT_STATUSES];
	struct report_ids status_src[REPORT_STATUSES];
	size_t n_measures;
	struct report_sum *sums;        /* owned, sorted by indicator, unit */
	size_t n_sums, cap_sums;
	unsigned inv_key_sectors;       /* bits 0..3: municipal, tertiary, residential, transport */
	unsigned action_key_sectors;
	bool com_ok;                    /* meets the Covenant of Mayors minimum */
};

/* Investment per tonne in one currency. */
struct report_cost {
	char currency[8];
	double investment, reduction;
	double per_tonne;               /* investment / reduction */
	struct report_ids src;
};

struct report_sector {
	size_t by_status[REPORT_STATUSES];
	struct report_ids status_src[REPORT_STATUSES];
	size_t n_measures;
	double planned;                 /* sum of measures' reduction_tco2e */
	struct report_ids planned_src;
	double estimated;               /* latest estimated t CO2e results */
	struct report_ids estimated_src;
	double measured;                /* latest measured t CO2e results */
	struct report_ids measured_src;
	struct report_cost *costs;      /* owned, one per currency */
	size_t n_costs;
};

struct report_lesson {
	uint8_t id[PROTO_ID_BYTES];
	size_t member;                  /* index into members */
	uint8_t author[PROTO_KEY_BYTES];
	char *title, *lang;             /* owned */
	int sector;
	unsigned year;
	uint64_t created_ms;
	char **tags;                    /* owned, case-folded (ASCII lower) */
	size_t n_tags;
	size_t endorsements;            /* distinct endorsing authors */
	uint8_t (*endorsers)[PROTO_KEY_BYTES];
	struct report_ids endorse_src;  /* the endorsement records */
};

/* A group of lessons (by sector or by tag). */
struct report_group {
	int sector;                     /* for sector groups */
	const char *tag;                /* for tag groups: borrowed from a lesson */
	size_t *lessons;                /* owned: indexes into lessons */
	size_t n;
};

struct report {
	struct report_options opt;      /* authors pointer borrowed */
	uint8_t alliance[PROTO_ID_BYTES];
	bool any_alliance;              /* opt.alliance was NULL: take every record */
	char *alliance_name;            /* owned, may be NULL */
	struct report_member *members;  /* owned, sorted by name after finish */
	size_t n_members, cap_members;
	struct report_sector sectors[REPORT_SECTORS];
	size_t by_status[REPORT_STATUSES];  /* alliance-wide */
	double planned, estimated, measured;  /* alliance-wide, t CO2e/a */
	struct report_lesson *lessons;  /* owned */
	size_t n_lessons, cap_lessons;
	size_t recent[REPORT_TOP], n_recent;     /* indexes into lessons */
	size_t endorsed[REPORT_TOP], n_endorsed;
	struct report_group *by_sector; /* owned, sectors with lessons */
	size_t n_by_sector;
	struct report_group *by_tag;    /* owned, sorted by count desc, tag */
	size_t n_by_tag;
	/* data quality */
	struct report_ids no_baseline;  /* targets without a baseline */
	struct report_ids orphan_results; /* results without a (live) measure */
	size_t n_forked;
	size_t n_hidden;                /* members with hidden set */
	uint64_t newest_ms;             /* creation time of the newest record counted: the
	                                 * data's "as of" (0: none) */
	uint8_t (*coords)[PROTO_KEY_BYTES]; /* owned: coordinator keys (report_add_coordinator) */
	size_t n_coords;
	/* private state */
	struct report_priv *priv;
};

/*
 * Look up a record id the report has not seen (an older version of a
 * measure or lesson): set newest to the id of its newest version and return
 * 0, or return STORE_E_NOTFOUND if it is unknown or retracted.  It may
 * return -EAGAIN ("not now"): report_add then changes nothing and returns
 * -EAGAIN, and the caller adds the same record again later.
 */
typedef int (*report_resolve_cb)(const uint8_t id[PROTO_ID_BYTES],
                                 uint8_t newest[PROTO_ID_BYTES], void *ctx);

/*
 * New empty report (free with report_free).  opt is copied; opt->authors is
 * borrowed and must outlive the report.  resolve may be NULL.
 * Returns 0 or -ENOMEM.
 */
int report_new(struct report **out, const struct report_options *opt,
               report_resolve_cb resolve, void *resolve_ctx);
void report_free(struct report *r);     /* accepts NULL */

/*
 * Add one decoded record (newest version, not retracted): its id, and
 * rec, which is borrowed for the call.  Kinds it does not use are ignored;
 * records outside the options (other authors, years, sectors) are skipped.
 * Order: profiles, admissions, targets, inventories and measures before
 * results; lessons before endorsements.  Returns 0, -ENOMEM, or -EAGAIN
 * when the resolver asked to be called later (nothing was changed).
 */
int report_add(struct report *r, const uint8_t id[PROTO_ID_BYTES], const Agora__Record *rec);

/* Flag an author as equivocating (a fork in this alliance). */
int report_add_fork(struct report *r, const uint8_t author[PROTO_KEY_BYTES]);

/* Name a coordinator of the alliance (from its charter; admissions with
 * the coordinator role count by themselves).  0 or -ENOMEM. */
int report_add_coordinator(struct report *r, const uint8_t key[PROTO_KEY_BYTES]);

/* Set the alliance's name (copied).  0 or -ENOMEM. */
int report_set_alliance_name(struct report *r, const char *name);

/* Derive every figure.  Call once, after the last report_add; it forgets
 * the resolver.  0 or -ENOMEM. */
int report_finish(struct report *r);

/*
 * Build a whole report from snapshot t: charter name, forks, then one
 * store_query per kind in the order report_add needs, decoding each record
 * once.  The queries run on the calling thread while a second thread
 * decodes and adds what they deliver (it never touches t; the few records
 * that need a lookup in t are added after it finishes).  Returns 0 or a
 * negative store/proto code, -ENOMEM.
 */
int report_collect(struct report **out, struct store_txn *t, const struct report_options *opt);

/* ------------------------------------------------------------- writing */

enum report_format { REPORT_TABLE, REPORT_MARKDOWN, REPORT_CSV, REPORT_JSON, REPORT_HTML };

/* Does the report have labels in this language ("en", "da", "pl", "nl")? */
bool report_lang_valid(const char *lang);

/*
 * Write the report to f in a format, with labels in lang ("en", "da", "pl", "nl";
 * PROTO_E_ARG otherwise).  width: terminal columns for tables (0: no
 * limit).  Returns 0 or -errno.
 */
int report_write(FILE *f, const struct report *r, enum report_format fmt, const char *lang,
                 int width);

/* Path value of a target in year y (no checks; see definitions above). */
double report_path_value(unsigned baseline_year, double baseline, unsigned target_year,
                         double target_value, unsigned y);

/* True if unit names t CO2e ("t CO2e", "tCO2e/a", "t co2e/år", ...). */
bool report_unit_is_tco2e(const char *unit);

/* Which of the four Covenant key sectors (bit 0..3) a sector counts as; 0 if none. */
unsigned report_key_sector(int sector);

#endif
