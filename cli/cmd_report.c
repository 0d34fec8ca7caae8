/*
 * cmd_report.c - `agora report`: the summit report for one alliance.  The
 * figures are computed by report.c over the store's indexes; this file reads
 * the command line and picks the writer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/alliance_int.h"
#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/filter_int.h"
#include "cli/home_int.h"
#include "cli/names_int.h"
#include "cli/opt_int.h"
#include "cli/report/report.h"
#include "cli/table_int.h"

static int parse_format(struct cli_ctx *ctx, const char *opt, const char *val, void *field)
{
	static const struct { const char *name; enum report_format f; } fmts[] = {
		{ "table", REPORT_TABLE }, { "markdown", REPORT_MARKDOWN }, { "md", REPORT_MARKDOWN },
		{ "csv", REPORT_CSV }, { "json", REPORT_JSON }, { "html", REPORT_HTML },
	};
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		if (!strcmp(val, fmts[i].name)) {
			*(enum report_format *)field = fmts[i].f;
			return CLI_EXIT_OK;
		}
	cli_error(ctx, "report: %s: '%s' is not one of: table, markdown, csv, json, html", opt, val);
	return CLI_EXIT_USAGE;
}

static int parse_lang(struct cli_ctx *ctx, const char *opt, const char *val, void *field)
{
	if (!report_lang_valid(val)) {
		cli_error(ctx, "report: %s: '%s' is not one of: en, da, pl, nl", opt, val);
		return CLI_EXIT_USAGE;
	}
	*(const char **)field = val;
	return CLI_EXIT_OK;
}

struct report_opts {
	struct cli_filter filter;   /* --alliance, --municipality, --sector only */
	enum report_format fmt;
	const char *out;
	const char *lang;
	unsigned year;
	bool explain;
};

static const struct cli_opt report_opts[] = {
	CLI_STR("--alliance", "NAME|ID", "the alliance to report on (default: the default one)",
	        struct report_opts, filter.alliance),
	CLI_FN("--year", "Y", "as of year Y: inventories, results and lessons of\n"
	       "year Y or earlier, measures started by Y (or undated)",
	       struct report_opts, year, cli_opt_year),
	CLI_STR("--municipality", "NAME", "only members whose name contains NAME",
	        struct report_opts, filter.municipality),
	CLI_FN("--sector", "S", "only measures, results and lessons of sector S\n"
	       "(targets and inventories stay whole-territory)",
	       struct report_opts, filter.q.sector, cli_filter_sector),
	CLI_FN("--format", "F", "table (default), markdown, csv (one table in long\n"
	       "form: section,row,column,header,value), json, html\n"
	       "(one self-contained file with SVG charts, each\n"
	       "figure linked to its records; use -o)",
	       struct report_opts, fmt, parse_format),
	{ .name = "-o", .alias = "--output", .arg = "FILE",
	  .help = "write to FILE instead of standard output", .kind = CLI_OPT_STR,
	  .offset = offsetof(struct report_opts, out) },
	CLI_FN("--lang", "en|da|pl|nl", "language of the report's labels, code names,\n"
	       "numbers and dates (record texts keep their own)", struct report_opts, lang, parse_lang),
	CLI_FLAG("--explain", "list the ids of the records behind every figure",
	         struct report_opts, explain),
	CLI_OPT_END,
};

static const struct cli_command report_cmd = {
	.name = "report",
	.usage = "report [--alliance NAME|ID] [--year Y] [--municipality NAME]\n"
	         "report ... [--sector S] [--format table|markdown|csv|json|html]\n"
	         "report ... [-o FILE] [--lang en|da|pl|nl] [--explain]",
	.about = "The summit report of one alliance (default: this node's default alliance):\n"
	         "each member's baseline, latest inventory, reduction achieved, its targets\n"
	         "with their straight paths and whether it is on track, measures by status\n"
	         "and results summed by indicator and unit; alliance totals by sector (planned,\n"
	         "estimated and measured reductions, investment per tonne); the most recent\n"
	         "and most endorsed lessons, by sector and tag; and data quality.  Only the\n"
	         "newest version of each record counts; retracted records never do.\n",
	.groups = { { "options", report_opts, 0 } },
	.more =
	"definitions:\n"
	"  baseline    the member's BEI (earliest baseline inventory); a target's own\n"
	"              baseline year and t CO2e when it gives both, else the BEI\n"
	"  target      baseline x (1 - reduction_pct/100); net zero = 100 %\n"
	"  path(y)     straight line from (baseline year, baseline) to (target year,\n"
	"              target value): baseline + (target - baseline) x (y - base year)\n"
	"              / (target year - base year); the target value after the\n"
	"              target year\n"
	"  on track    latest inventory total (t CO2e, sum over sectors) <= path(year\n"
	"              of the latest inventory).  gap = total - path in t CO2e, and\n"
	"              gap / baseline x 100 in percentage points; positive = off track\n"
	"              by that much.  Not evaluated without a baseline or inventory,\n"
	"              for per-capita targets, targets on municipal operations\n"
	"              (inventories are territorial) or a target year not after the\n"
	"              base year.\n"
	"  reduction   (baseline - latest total) / baseline x 100 %\n"
	"  results     summed per indicator and unit exactly as written; different\n"
	"              units are never added\n"
	"  planned / estimated / measured   per sector: the measures' own reduction\n"
	"              estimates; each measure's latest result in t CO2e flagged\n"
	"              estimated (or unflagged) / measured\n"
	"  investment per tonne   per sector and currency: sum of investments / sum of\n"
	"              annual reductions (measured result, else estimated result, else\n"
	"              the measure's estimate) over measures with both\n"
	"  Covenant of Mayors minimum   latest inventory with data in >= 3 of the key\n"
	"              sectors municipal (municipal_buildings, public_lighting),\n"
	"              tertiary (tertiary_buildings), residential\n"
	"              (residential_buildings), transport (transport_municipal_fleet,\n"
	"              transport_public, transport_private_commercial), and\n"
	"              non-cancelled measures in >= 2 of them\n",
};

/*
 * When the report is made: now, or $SOURCE_DATE_EPOCH when set (the
 * reproducible-builds convention), so two runs over the same data can give
 * the same bytes.
 */
static int64_t report_now(void)
{
	const char *e = getenv("SOURCE_DATE_EPOCH");
	char *end;

	if (e && *e) {
		long long v = strtoll(e, &end, 10);
		if (!*end && v > 0)
			return v;
	}
	return (int64_t)time(NULL);
}

int cli_cmd_report(struct cli_ctx *ctx, int argc, char **argv)
{
	struct report_opts a;
	struct cli_filter *f = &a.filter;
	struct report_options opt;
	struct cli_names *names = NULL;
	struct report *r = NULL;
	struct store *s = NULL;
	struct store_txn *t = NULL;
	FILE *out = stdout;
	char *tmp = NULL;
	size_t n_args;
	int rc, n;

	memset(&a, 0, sizeof(a));
	cli_filter_init(f);
	a.fmt = REPORT_TABLE;
	a.lang = "en";
	if ((rc = cli_opt_parse(ctx, &report_cmd, argc, argv, 1, &a, NULL, &n_args)) != CLI_EXIT_OK) {
		rc = cli_opt_status(rc);
		goto out;
	}
	if ((rc = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK)
		goto out;
	names = cli_names_new(t);
	if (!names || (n = cli_names_load(names)) < 0) {
		cli_error(ctx, "cannot read municipality names");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	/* A report is always about one alliance: the default one if none given. */
	if ((rc = cli_alliance(ctx, t, f->alliance, f->alliance_id)) != CLI_EXIT_OK)
		goto out;
	f->alliance = NULL;          /* resolved above; resolve the rest below */
	if ((rc = cli_filter_resolve(f, ctx, t, names)) != CLI_EXIT_OK)
		goto out;
	if (f->municipality && f->q.n_authors > STORE_QUERY_MAX_AUTHORS) {
		cli_error(ctx, "report: --municipality '%s' matches more than %d municipalities",
		          f->municipality, STORE_QUERY_MAX_AUTHORS);
		rc = CLI_EXIT_USAGE;
		goto out;
	}

	memset(&opt, 0, sizeof(opt));
	opt.alliance = f->alliance_id;
	opt.trim = s;
	opt.year = a.year;
	opt.sector = f->q.sector;
	opt.authors = f->municipality ? f->q.authors : NULL;
	opt.n_authors = f->municipality ? f->q.n_authors : 0;
	/* HTML always links each figure to its records. */
	opt.explain = a.explain || a.fmt == REPORT_HTML;
	opt.generated_s = report_now();
	if ((n = report_collect(&r, t, &opt)) < 0) {
		cli_error(ctx, "report failed: %s", store_strerror(n));
		rc = CLI_EXIT_ERROR;
		goto out;
	}

	if (a.out && strcmp(a.out, "-")) {
		size_t len = strlen(a.out) + 16;
		tmp = malloc(len);
		if (!tmp) {
			cli_error(ctx, "out of memory");
			rc = CLI_EXIT_ERROR;
			goto out;
		}
		snprintf(tmp, len, "%s.tmp%ld", a.out, (long)getpid());
		if (!(out = fopen(tmp, "w"))) {
			cli_error(ctx, "cannot write %s: %s", a.out, strerror(errno));
			out = stdout;
			free(tmp);
			tmp = NULL;
			rc = CLI_EXIT_ERROR;
			goto out;
		}
	}
	n = report_write(out, r, a.fmt, a.lang,
	                 out == stdout && ctx->tty_out ? cli_table_term_width(STDOUT_FILENO) : 0);
	if (out != stdout) {
		if (fclose(out) != 0 && n == 0)
			n = -EIO;
		out = stdout;
		if (n == 0 && rename(tmp, a.out) < 0)
			n = -errno;
		if (n < 0)
			unlink(tmp);
	} else if (fflush(stdout) != 0 && n == 0) {
		n = -EIO;
	}
	if (n < 0) {
		cli_error(ctx, "cannot write the report%s%s: %s", a.out ? " to " : "",
		          a.out ? a.out : "", strerror(-n));
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	if (a.out && strcmp(a.out, "-"))
		fprintf(stderr, "report written to %s\n", a.out);
	rc = CLI_EXIT_OK;
out:
	free(tmp);
	report_free(r);
	cli_names_free(names);
	store_txn_end(t);
	cli_filter_dispose(f);
	return rc;
}
