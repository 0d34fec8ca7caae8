/*
 * cmd_report.c - `agora report`: the summit report for one alliance.  The
 * figures are computed by report.c over the store's indexes; this file reads
 * the command line and picks the writer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/output.h"
#include "cli/report.h"
#include "cli/report_int.h"

static const char report_help[] =
	"usage: agora report [--alliance NAME|ID] [--year Y] [--municipality NAME]\n"
	"                    [--sector S] [--format table|markdown|csv|json|html]\n"
	"                    [-o FILE] [--lang en|da] [--explain]\n"
	"\n"
	"The summit report of one alliance (default: this node's default alliance):\n"
	"each member's baseline, latest inventory, reduction achieved, its targets\n"
	"with their straight paths and whether it is on track, measures by status\n"
	"and results summed by indicator and unit; alliance totals by sector (planned,\n"
	"estimated and measured reductions, investment per tonne); the most recent\n"
	"and most endorsed lessons, by sector and tag; and data quality.  Only the\n"
	"newest version of each record counts; retracted records never do.\n"
	"\n"
	"options:\n"
	"  --alliance NAME|ID    the alliance to report on\n"
	"  --year Y              as of year Y: inventories, results and lessons of\n"
	"                        year Y or earlier, measures started by Y (or undated)\n"
	"  --municipality NAME   only members whose name contains NAME (repeatable\n"
	"                        matches are OR-ed)\n"
	"  --sector S            only measures, results and lessons of sector S\n"
	"                        (targets and inventories stay whole-territory)\n"
	"  --format F            table (default), markdown, csv (one block per table,\n"
	"                        first column \"section\"), json, html (one\n"
	"                        self-contained file with SVG charts; use -o)\n"
	"  -o FILE               write to FILE instead of standard output\n"
	"  --lang en|da          language of the report's own labels (record texts\n"
	"                        keep their own language)\n"
	"  --explain             list the ids of the records behind every figure\n"
	"\n"
	"definitions:\n"
	"  baseline    the member's BEI (earliest baseline inventory); a target's own\n"
	"              baseline year and t CO2e when it gives both, else the BEI\n"
	"  target      baseline x (1 - reduction_pct/100); net zero = 100 %\n"
	"  path(y)     straight line from (baseline year, baseline) to (target year,\n"
	"              target value): baseline + (target - baseline) x (y - base year)\n"
	"              / (target year - base year); the target value after the target year\n"
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
	"              non-cancelled measures in >= 2 of them\n";

struct report_args {
	enum report_format fmt;
	const char *out;
	const char *lang;
	unsigned year;
	bool explain;
};

static int parse_format(enum report_format *f, const char *s)
{
	static const struct { const char *name; enum report_format f; } fmts[] = {
		{ "table", REPORT_TABLE }, { "markdown", REPORT_MARKDOWN }, { "md", REPORT_MARKDOWN },
		{ "csv", REPORT_CSV }, { "json", REPORT_JSON }, { "html", REPORT_HTML },
	};
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		if (!strcmp(s, fmts[i].name)) {
			*f = fmts[i].f;
			return 0;
		}
	return -1;
}

static int parse_args(struct report_args *a, struct cli_filter *f, struct cli_ctx *ctx,
                      int argc, char **argv, bool *help)
{
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		int m;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			*help = true;
			return CLI_EXIT_OK;
		}
		if (!strcmp(argv[i], "--explain")) {
			a->explain = true;
			continue;
		}
		if ((m = cli_output_opt("--format", argc, argv, &i, &v)) != 0 ||
		    (m = cli_output_opt("-o", argc, argv, &i, &v)) != 0 ||
		    (m = cli_output_opt("--output", argc, argv, &i, &v)) != 0 ||
		    (m = cli_output_opt("--lang", argc, argv, &i, &v)) != 0 ||
		    (m = cli_output_opt("--year", argc, argv, &i, &v)) != 0) {
			const char *opt = argv[i - (v && argv[i] == v ? 1 : 0)];
			if (m < 0) {
				cli_error(ctx, "report: %s needs a value (see 'agora report --help')", argv[i]);
				return CLI_EXIT_USAGE;
			}
			if (!strncmp(opt, "--format", 8)) {
				if (parse_format(&a->fmt, v) < 0) {
					cli_error(ctx, "report: unknown format '%s': use table, markdown, csv, "
					          "json or html", v);
					return CLI_EXIT_USAGE;
				}
			} else if (!strncmp(opt, "--lang", 6)) {
				if (!report_labels(v)) {
					cli_error(ctx, "report: unknown language '%s': use en or da", v);
					return CLI_EXIT_USAGE;
				}
				a->lang = v;
			} else if (!strncmp(opt, "--year", 6)) {
				char *end;
				unsigned long y = strtoul(v, &end, 10);
				if (*v < '0' || *v > '9' || *end || y < PROTO_YEAR_MIN || y > PROTO_YEAR_MAX) {
					cli_error(ctx, "report: --year '%s' is not a year between %d and %d", v,
					          PROTO_YEAR_MIN, PROTO_YEAR_MAX);
					return CLI_EXIT_USAGE;
				}
				a->year = (unsigned)y;
			} else {
				a->out = v;
			}
			continue;
		}
		/* Only these filters of the shared set make sense for a report. */
		if (!strncmp(argv[i], "--alliance", 10) || !strncmp(argv[i], "--municipality", 14) ||
		    !strncmp(argv[i], "--sector", 8)) {
			bool used = false;
			int rc = cli_filter_arg(f, ctx, argc, argv, &i, &used);
			if (rc != CLI_EXIT_OK)
				return rc;
			if (used)
				continue;
		}
		cli_error(ctx, "report: unknown argument '%s' (see 'agora report --help')", argv[i]);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

int cli_cmd_report(struct cli_ctx *ctx, int argc, char **argv)
{
	struct report_args a = { .fmt = REPORT_TABLE, .lang = "en" };
	struct report_options opt;
	struct cli_filter f;
	struct cli_names *names = NULL;
	struct report *r = NULL;
	struct store *s = NULL;
	struct store_txn *t = NULL;
	FILE *out = stdout;
	char *tmp = NULL;
	bool help = false;
	int rc, n;

	cli_filter_init(&f);
	rc = parse_args(&a, &f, ctx, argc, argv, &help);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (help) {
		fputs(report_help, stdout);
		goto out;
	}
	if ((rc = cli_store(ctx, false, &s)) != CLI_EXIT_OK)
		goto out;
	if ((n = store_txn_begin(s, &t)) < 0) {
		cli_error(ctx, "cannot read the store: %s", store_strerror(n));
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	names = cli_names_new(t);
	if (!names || (n = cli_names_load(names)) < 0) {
		cli_error(ctx, "cannot read municipality names");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	/* A report is always about one alliance: the default one if none given. */
	if ((rc = cli_alliance(ctx, t, f.alliance, f.alliance_id)) != CLI_EXIT_OK)
		goto out;
	f.alliance = NULL;          /* resolved above; resolve the rest below */
	if ((rc = cli_filter_resolve(&f, ctx, t, names)) != CLI_EXIT_OK)
		goto out;
	if (f.municipality && f.q.n_authors > STORE_QUERY_MAX_AUTHORS) {
		cli_error(ctx, "report: --municipality '%s' matches more than %d municipalities",
		          f.municipality, STORE_QUERY_MAX_AUTHORS);
		rc = CLI_EXIT_USAGE;
		goto out;
	}

	memset(&opt, 0, sizeof(opt));
	opt.alliance = f.alliance_id;
	opt.trim = s;
	opt.year = a.year;
	opt.sector = f.q.sector;
	opt.authors = f.municipality ? f.q.authors : NULL;
	opt.n_authors = f.municipality ? f.q.n_authors : 0;
	opt.explain = a.explain;
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
	                 out == stdout && ctx->tty_out ? cli_output_term_width(STDOUT_FILENO) : 0);
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
	cli_filter_dispose(&f);
	return rc;
}
