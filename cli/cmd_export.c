/*
 * cmd_export.c - `agora export`: every record, or a query's result, as JSON
 * Lines (the shape `agora publish --file` reads) or as CSV tables whose
 * columns follow the Covenant of Mayors SECAP templates.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/json.h"
#include "cli/output.h"

static const char export_help[] =
	"usage: agora export [--format jsonl|csv] [filters] [-o FILE | --output-dir DIR]\n"
	"\n"
	"Write every record this node holds (newest versions, content kinds), or\n"
	"those matching the filters below, for spreadsheets and scripts.\n"
	"\n"
	"  --format jsonl        (default) one JSON record per line, the shape\n"
	"                        `agora publish --file` reads back\n"
	"  --format csv          RFC 4180 CSV, UTF-8, with a header row; lists in a\n"
	"                        cell are joined with \"; \".  One table per kind, so\n"
	"                        give either --kind KIND (one table, to stdout or -o)\n"
	"                        or --output-dir DIR (one file per kind:\n"
	"                        measures.csv, inventories.csv, results.csv,\n"
	"                        lessons.csv, targets.csv, profiles.csv,\n"
	"                        endorsements.csv; kinds with no records are skipped)\n"
	"  -o, --output FILE     write to FILE instead of stdout\n"
	"  --output-dir DIR      with --format csv: the directory for the tables\n"
	"\n"
	"CSV columns:\n"
	"  measure:     id, municipality, country, title, summary, language, sector,\n"
	"               areas, instruments, mitigation, adaptation, hazards, status,\n"
	"               start_year, end_year, investment, running_cost, currency,\n"
	"               financing, energy_saving_mwh, renewable_mwh, reduction_tco2e,\n"
	"               stakeholders, tags, responsible, illustrative, created\n"
	"               (the SECAP \"actions\" sheet)\n"
	"  inventory:   one row per (inventory, sector): id, municipality, type, year,\n"
	"               sector, tco2e, mwh, factor_source, factor_method, illustrative\n"
	"  result:      id, municipality, measure, measure_title, year, period,\n"
	"               indicator, value, unit, baseline_value, baseline_year,\n"
	"               estimation, method, factor_source, note, language,\n"
	"               illustrative, created\n"
	"  lesson:      id, municipality, country, title, context, action, outcome,\n"
	"               worked, barriers, enablers, cost, contact_role, sector, year,\n"
	"               tags, language, measures, created\n"
	"  target:      id, municipality, country, type, title, baseline_year,\n"
	"               baseline_tco2e, target_year, reduction_pct, scope,\n"
	"               description, language, illustrative, created\n"
	"  profile:     id, name, country, population, area_km2, languages, website,\n"
	"               description, language, created\n"
	"  endorsement: id, municipality, target, note, language, created\n"
	"\n"
	"Unlike `query`, export has no default limit.\n"
	"\n";

/* Columns of a CSV table; names that are not special are fields of the body. */
struct csv_kind {
	enum proto_kind kind;
	const char *file;
	const char *const *cols;
	size_t ncols;
};

#define COLS(...) (const char *const[]){ __VA_ARGS__ }, \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)

static const struct csv_kind csv_kinds[] = {
	{ PROTO_KIND_MEASURE, "measures.csv", COLS("id", "municipality", "country", "title",
	  "summary", "language", "sector", "areas", "instruments", "mitigation", "adaptation",
	  "hazards", "status", "start_year", "end_year", "investment", "running_cost",
	  "currency", "financing", "energy_saving_mwh", "renewable_mwh", "reduction_tco2e",
	  "stakeholders", "tags", "responsible", "illustrative", "created") },
	{ PROTO_KIND_INVENTORY, "inventories.csv", COLS("id", "municipality", "type", "year",
	  "sector", "tco2e", "mwh", "factor_source", "factor_method", "illustrative") },
	{ PROTO_KIND_RESULT, "results.csv", COLS("id", "municipality", "measure",
	  "measure_title", "year", "period", "indicator", "value", "unit", "baseline_value",
	  "baseline_year", "estimation", "method", "factor_source", "note", "language",
	  "illustrative", "created") },
	{ PROTO_KIND_LESSON, "lessons.csv", COLS("id", "municipality", "country", "title",
	  "context", "action", "outcome", "worked", "barriers", "enablers", "cost",
	  "contact_role", "sector", "year", "tags", "language", "measures", "created") },
	{ PROTO_KIND_TARGET, "targets.csv", COLS("id", "municipality", "country", "type",
	  "title", "baseline_year", "baseline_tco2e", "target_year", "reduction_pct", "scope",
	  "description", "language", "illustrative", "created") },
	{ PROTO_KIND_PROFILE, "profiles.csv", COLS("id", "name", "country", "population",
	  "area_km2", "languages", "website", "description", "language", "created") },
	{ PROTO_KIND_ENDORSEMENT, "endorsements.csv", COLS("id", "municipality", "target",
	  "note", "language", "created") },
};
#define N_CSV_KINDS (sizeof(csv_kinds) / sizeof(csv_kinds[0]))

static const struct csv_kind *csv_kind_find(enum proto_kind k)
{
	for (size_t i = 0; i < N_CSV_KINDS; i++)
		if (csv_kinds[i].kind == k)
			return &csv_kinds[i];
	return NULL;
}

struct export_run {
	struct cli_ctx *ctx;
	struct store_txn *t;
	struct cli_names *names;
	bool csv;
	const struct csv_kind *ck;  /* csv: the table being written */
	FILE *out;
	struct cli_progress prog;
	size_t n;                   /* records written */
	int err;
};

/* Title of the measure `id` (results.csv), or "" ; caller frees. */
static char *measure_title(struct store_txn *t, const ProtobufCMessage *msg)
{
	const ProtobufCFieldDescriptor *fd;
	const ProtobufCBinaryData *b;
	struct store_record sr;
	Agora__Record *rec = NULL;
	const ProtobufCMessage *m = NULL;
	char *s;

	fd = protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, "measure");
	if (!fd || fd->type != PROTOBUF_C_TYPE_BYTES)
		return strdup("");
	b = (const ProtobufCBinaryData *)((const char *)msg + fd->offset);
	if (b->len != PROTO_ID_BYTES || store_get(t, b->data, &sr) < 0 ||
	    proto_envelope_decode(&rec, sr.env, sr.env_len, NULL) < 0)
		return strdup("");
	proto_record_content(rec, &m);
	s = cli_output_text(m, "title");
	agora__record__free_unpacked(rec, NULL);
	return s;
}

static int csv_record(struct export_run *r, const struct store_record *sr,
                      const Agora__Record *rec, const ProtobufCMessage *msg)
{
	const struct csv_kind *ck = r->ck;
	char **cells = calloc(ck->ncols, sizeof(*cells));
	char hex[PROTO_ID_HEX + 1];
	const uint8_t *author = rec->author.len == PROTO_KEY_BYTES ? rec->author.data : NULL;
	size_t sector_col = SIZE_MAX, nrows = 1;
	int rc = -ENOMEM;

	if (!cells)
		return -ENOMEM;
	proto_hex(hex, sr->id, PROTO_ID_BYTES);
	for (size_t c = 0; c < ck->ncols; c++) {
		const char *col = ck->cols[c];
		const char *v = NULL;
		if (!strcmp(col, "id")) {
			v = hex;
		} else if (!strcmp(col, "municipality")) {
			v = author ? cli_names_name(r->names, author) : NULL;
		} else if (!strcmp(col, "country") && ck->kind != PROTO_KIND_PROFILE) {
			v = author ? cli_names_country(r->names, author) : NULL;
		} else if (!strcmp(col, "created")) {
			char when[40];
			cli_output_time(when, sizeof(when), rec->created_ms, true);
			cells[c] = strdup(when);
		} else if (!strcmp(col, "measure_title")) {
			cells[c] = measure_title(r->t, msg);
		} else if (ck->kind == PROTO_KIND_INVENTORY && !strcmp(col, "sector")) {
			sector_col = c;
			continue;
		} else if (ck->kind == PROTO_KIND_INVENTORY &&
		           (!strcmp(col, "tco2e") || !strcmp(col, "mwh"))) {
			continue;       /* filled per sector row below */
		} else {
			cells[c] = cli_output_text(msg, col);
		}
		if (!cells[c])
			cells[c] = strdup(v ? v : "");
		if (!cells[c])
			goto out;
	}

	if (sector_col != SIZE_MAX) {
		/* An inventory: one row per sector line (one empty row if none). */
		const Agora__Inventory *inv = (const Agora__Inventory *)msg;
		nrows = inv->n_sectors ? inv->n_sectors : 1;
		for (size_t k = 0; k < nrows; k++) {
			const ProtobufCMessage *se = inv->n_sectors ? &inv->sectors[k]->base : NULL;
			for (size_t c = 0; c < ck->ncols; c++) {
				const char *col = ck->cols[c];
				if (c == sector_col || !strcmp(col, "tco2e") || !strcmp(col, "mwh")) {
					free(cells[c]);
					cells[c] = cli_output_text(se, col);
					if (!cells[c])
						goto out;
				}
			}
			cli_csv_row(r->out, (const char *const *)cells, ck->ncols);
		}
	} else {
		cli_csv_row(r->out, (const char *const *)cells, ck->ncols);
	}
	rc = 0;
out:
	for (size_t c = 0; c < ck->ncols; c++)
		free(cells[c]);
	free(cells);
	return rc;
}

static int export_hit(const struct store_hit *hit, void *arg)
{
	struct export_run *r = arg;
	Agora__Record *rec = NULL;
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind;
	int rc = 0;

	rc = proto_envelope_decode(&rec, hit->rec.env, hit->rec.env_len, NULL);
	if (rc < 0) {
		r->err = rc;
		return 1;
	}
	kind = proto_record_content(rec, &msg);
	if (r->csv) {
		if (kind == r->ck->kind && msg)
			rc = csv_record(r, &hit->rec, rec, msg);
		else
			goto skip;
	} else {
		const char *muni = rec->author.len == PROTO_KEY_BYTES ?
			cli_names_name(r->names, rec->author.data) : NULL;
		json_t *obj = json_from_record(rec, hit->rec.id, muni);
		if (!obj || json_dumpf(obj, r->out, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0)
			rc = -ENOMEM;
		else
			fputc('\n', r->out);
		json_decref(obj);
	}
	if (rc < 0) {
		r->err = rc;
		agora__record__free_unpacked(rec, NULL);
		return 1;
	}
	r->n++;
skip:
	agora__record__free_unpacked(rec, NULL);
	cli_progress_step(&r->prog, 1);
	if (ferror(r->out)) {
		r->err = -EIO;
		return 1;
	}
	return 0;
}

static int export_count_cb(const struct store_hit *hit, void *arg)
{
	(void)hit;
	(void)arg;
	return 0;
}

/* Run the query into r->out; CLI_EXIT_* with the error printed. */
static int export_run_query(struct export_run *r, struct store_query *q)
{
	size_t total = SIZE_MAX;
	struct store_query cq = *q;
	int n;

	/* Count first (limit 1) when the store can, so progress shows a total. */
	if (r->ctx->tty_err) {
		cq.limit = 1;
		if (store_query(r->t, &cq, export_count_cb, NULL, &total) < 0)
			total = SIZE_MAX;
	}
	cli_progress_start(&r->prog, r->ctx, "exporting",
	                   total == SIZE_MAX ? 0 : (uint64_t)total);
	n = store_query(r->t, q, export_hit, r, NULL);
	cli_progress_end(&r->prog);
	if (r->err == -EIO || (r->err == 0 && n >= 0 && fflush(r->out) != 0)) {
		cli_error(r->ctx, "cannot write the export: %s", strerror(errno));
		return CLI_EXIT_ERROR;
	}
	if (r->err || n < 0) {
		cli_error(r->ctx, "export failed: %s", store_strerror(r->err ? r->err : n));
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}

/* Open -o FILE (or stdout); CLI_EXIT_*. */
static int open_out(struct cli_ctx *ctx, const char *path, FILE **out)
{
	FILE *f;

	if (!path || !strcmp(path, "-")) {
		*out = stdout;
		return CLI_EXIT_OK;
	}
	f = fopen(path, "w");
	if (!f) {
		cli_error(ctx, "cannot write %s: %s", path, strerror(errno));
		return CLI_EXIT_ERROR;
	}
	*out = f;
	return CLI_EXIT_OK;
}

static int close_out(struct cli_ctx *ctx, const char *path, FILE *f, int rc)
{
	if (!f || f == stdout)
		return rc;
	if (fclose(f) != 0 && rc == CLI_EXIT_OK) {
		cli_error(ctx, "cannot write %s: %s", path, strerror(errno));
		return CLI_EXIT_ERROR;
	}
	return rc;
}

/* --format csv --output-dir DIR: one file per kind that has records. */
static int export_csv_dir(struct export_run *r, struct cli_filter *f, const char *dir)
{
	char path[4096 + 32];
	int rc = CLI_EXIT_OK;

	if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
		cli_error(r->ctx, "cannot create %s: %s", dir, strerror(errno));
		return CLI_EXIT_ERROR;
	}
	for (size_t i = 0; i < N_CSV_KINDS && rc == CLI_EXIT_OK; i++) {
		struct store_query q = f->q;
		size_t before = r->n;
		if (f->q.kind != PROTO_KIND_NONE && f->q.kind != csv_kinds[i].kind)
			continue;
		q.kind = csv_kinds[i].kind;
		snprintf(path, sizeof(path), "%s/%s", dir, csv_kinds[i].file);
		rc = open_out(r->ctx, path, &r->out);
		if (rc != CLI_EXIT_OK)
			break;
		r->ck = &csv_kinds[i];
		cli_csv_row(r->out, csv_kinds[i].cols, csv_kinds[i].ncols);
		rc = export_run_query(r, &q);
		rc = close_out(r->ctx, path, r->out, rc);
		r->out = NULL;
		if (rc == CLI_EXIT_OK && r->n == before)
			remove(path);      /* no records of this kind: no empty table */
	}
	return rc;
}

int cli_cmd_export(struct cli_ctx *ctx, int argc, char **argv)
{
	struct export_run r;
	struct cli_filter f;
	struct store *s = NULL;
	struct store_txn *t = NULL;
	const char *format = "jsonl", *path = NULL, *dir = NULL, *val;
	int rc = CLI_EXIT_ERROR, n;

	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	cli_filter_init(&f);
	for (int i = 1; i < argc; i++) {
		bool used;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(export_help, stdout);
			fputs(cli_filter_help, stdout);
			rc = CLI_EXIT_OK;
			goto out;
		}
		static const char *const own[] = { "--format", "-o", "--output", "--output-dir" };
		const char **slot[] = { &format, &path, &path, &dir };
		bool mine = false;
		for (size_t k = 0; k < 4 && !mine; k++) {
			n = cli_output_opt(own[k], argc, argv, &i, &val);
			if (n < 0) {
				cli_error(ctx, "export: %s needs a value", own[k]);
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			if (n > 0) {
				*slot[k] = val;
				mine = true;
			}
		}
		if (mine)
			continue;
		rc = cli_filter_arg(&f, ctx, argc, argv, &i, &used);
		if (rc != CLI_EXIT_OK)
			goto out;
		if (!used) {
			cli_error(ctx, "export: unknown argument '%s' (see 'agora export --help')",
			          argv[i]);
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}
	if (strcmp(format, "jsonl") && strcmp(format, "csv")) {
		cli_error(ctx, "export: --format '%s' is not one of: jsonl, csv", format);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	r.csv = !strcmp(format, "csv");
	if (dir && (!r.csv || path)) {
		cli_error(ctx, "export: --output-dir goes with --format csv and without -o");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (r.csv && !dir) {
		if (f.q.kind == PROTO_KIND_NONE) {
			cli_error(ctx, "export: CSV is one table per kind: give --kind KIND, or "
			          "--output-dir DIR for one file per kind");
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		r.ck = csv_kind_find(f.q.kind);
		if (!r.ck) {
			cli_error(ctx, "export: no CSV table for kind '%s' (use --format jsonl)",
			          proto_kind_name(f.q.kind));
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}

	rc = cli_store(ctx, false, &s);
	if (rc != CLI_EXIT_OK)
		goto out;
	n = store_txn_begin(s, &t);
	if (n < 0) {
		cli_error(ctx, "cannot read the store: %s", store_strerror(n));
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	r.t = t;
	r.names = cli_names_new(t);
	if (!r.names || cli_names_load(r.names) < 0) {
		cli_error(ctx, "cannot read municipality names");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	rc = cli_filter_resolve(&f, ctx, t, r.names);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (f.q.text && !f.sort_set)
		f.q.sort = STORE_SORT_RELEVANCE;   /* a text search: best matches first */

	if (dir) {
		rc = export_csv_dir(&r, &f, dir);
		goto out;
	}
	rc = open_out(ctx, path, &r.out);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (r.csv)
		cli_csv_row(r.out, r.ck->cols, r.ck->ncols);
	rc = export_run_query(&r, &f.q);
	rc = close_out(ctx, path, r.out, rc);
	r.out = NULL;
out:
	cli_names_free(r.names);
	store_txn_end(t);
	cli_filter_dispose(&f);
	return rc;
}
