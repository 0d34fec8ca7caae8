/*
 * cmd_export.c - `agora export`: every record, or a query's result, as JSON
 * Lines (the shape `agora publish --file` reads) or as CSV tables or xlsx
 * sheets whose columns follow the Covenant of Mayors SECAP templates
 * (sheet.c; `agora publish --file` reads them back too).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <xlsxwriter.h>

#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/csv_int.h"
#include "cli/filter_int.h"
#include "cli/format_int.h"
#include "cli/home_int.h"
#include "cli/json_int.h"
#include "cli/names_int.h"
#include "cli/opt_int.h"
#include "cli/sheet_int.h"

struct export_opts {
	struct cli_filter filter;
	const char *format, *output, *output_dir;
};

static const struct cli_opt export_opts[] = {
	CLI_STR("--format", "jsonl|csv|xlsx", "jsonl (default): one JSON record per line, the\n"
	        "shape `agora publish --file` reads back.\n"
	        "csv: RFC 4180 CSV, UTF-8, with a header row;\n"
	        "lists in a cell are joined with \"; \".  One table\n"
	        "per kind, so give either --kind KIND (one table,\n"
	        "to stdout or -o) or --output-dir DIR (one file\n"
	        "per kind: measures.csv, inventories.csv,\n"
	        "results.csv, lessons.csv, targets.csv,\n"
	        "profiles.csv, endorsements.csv; kinds with no\n"
	        "records are skipped).\n"
	        "xlsx: one workbook (-o FILE.xlsx) with one sheet\n"
	        "per kind that has records, named measures,\n"
	        "inventories, ..., with the CSV columns; numbers\n"
	        "and booleans as such.  Both import again with\n"
	        "`agora publish --file`", struct export_opts, format),
	{ .name = "-o", .alias = "--output", .arg = "FILE", .help = "write to FILE instead of stdout",
	  .kind = CLI_OPT_STR, .offset = offsetof(struct export_opts, output) },
	CLI_STR("--output-dir", "DIR", "with --format csv: the directory for the tables",
	        struct export_opts, output_dir),
	CLI_OPT_END,
};

static const struct cli_command export_cmd = {
	.name = "export",
	.usage = "export [--format jsonl|csv|xlsx] [filters] [-o FILE | --output-dir DIR]",
	.about = "Write every record this node holds (newest versions, content kinds), or\n"
	         "those matching the filters below, for spreadsheets and scripts.\n",
	.groups = { { "options", export_opts, 0 },
	            { "filters (all given filters must match)", cli_filter_opts,
	              offsetof(struct export_opts, filter) } },
	.more =
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
	"\n"
	"Unlike `query`, export has no default limit.\n",
};

struct export_run {
	struct cli_ctx *ctx;
	struct store_txn *t;
	struct cli_names *names;
	bool csv;                   /* a table per kind: CSV, or xlsx when book is set */
	lxw_workbook *book;         /* --format xlsx: the workbook being written */
	lxw_worksheet *ws;          /* xlsx: the sheet of r->ck, NULL until its first row */
	lxw_row_t xrow;             /* xlsx: the next row of ws */
	const struct sheet_kind *ck;  /* csv: the table being written */
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
	s = cli_format_text(m, "title");
	agora__record__free_unpacked(rec, NULL);
	return s;
}

/*
 * One row of the table in r->ck: a CSV line, or a row of the kind's sheet
 * (added with its header before its first row, so kinds without records
 * have no sheet).  In a sheet, numbers and booleans of single-valued body
 * fields are cells of their type, so a spreadsheet sums them; everything
 * else is text, exactly as in the CSV.
 */
static void put_row(struct export_run *r, const char *const *cells)
{
	const struct sheet_kind *ck = r->ck;
	const ProtobufCMessageDescriptor *body = proto_kind_descriptor(ck->kind);

	if (!r->book) {
		cli_csv_row(r->out, cells, ck->ncols);
		return;
	}
	if (!r->ws) {
		if (!(r->ws = workbook_add_worksheet(r->book, ck->name))) {
			r->err = -ENOMEM;
			return;
		}
		for (size_t c = 0; c < ck->ncols; c++)
			worksheet_write_string(r->ws, 0, (lxw_col_t)c, ck->cols[c], NULL);
		r->xrow = 1;
	}
	for (size_t c = 0; c < ck->ncols; c++) {
		const ProtobufCFieldDescriptor *fd =
			protobuf_c_message_descriptor_get_field_by_name(body, ck->cols[c]);
		const char *v = cells[c];
		char *end;
		double d;
		if (!v || !*v)
			continue;
		if (!fd && ck->kind == PROTO_KIND_INVENTORY)
			fd = protobuf_c_message_descriptor_get_field_by_name(
				&agora__sector_emission__descriptor, ck->cols[c]);
		if (fd && fd->label != PROTOBUF_C_LABEL_REPEATED && fd->type == PROTOBUF_C_TYPE_BOOL) {
			worksheet_write_boolean(r->ws, r->xrow, (lxw_col_t)c, !strcmp(v, "true"), NULL);
			continue;
		}
		if (fd && fd->label != PROTOBUF_C_LABEL_REPEATED && fd->type != PROTOBUF_C_TYPE_STRING &&
		    fd->type != PROTOBUF_C_TYPE_ENUM && fd->type != PROTOBUF_C_TYPE_BYTES &&
		    fd->type != PROTOBUF_C_TYPE_MESSAGE && (d = strtod(v, &end), *end == '\0')) {
			worksheet_write_number(r->ws, r->xrow, (lxw_col_t)c, d, NULL);
			continue;
		}
		worksheet_write_string(r->ws, r->xrow, (lxw_col_t)c, v, NULL);
	}
	r->xrow++;
}

static int csv_record(struct export_run *r, const struct store_record *sr,
                      const Agora__Record *rec, const ProtobufCMessage *msg)
{
	const struct sheet_kind *ck = r->ck;
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
			cli_format_time(when, sizeof(when), rec->created_ms, true);
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
			cells[c] = cli_format_text(msg, col);
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
					cells[c] = cli_format_text(se, col);
					if (!cells[c])
						goto out;
				}
			}
			put_row(r, (const char *const *)cells);
		}
	} else {
		put_row(r, (const char *const *)cells);
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
	if (r->out && ferror(r->out)) {
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
	if (r->err == -EIO || (r->err == 0 && n >= 0 && r->out && fflush(r->out) != 0)) {
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
	for (size_t i = 0; i < sheet_n_kinds && rc == CLI_EXIT_OK; i++) {
		struct store_query q = f->q;
		size_t before = r->n;
		if (f->q.kind != PROTO_KIND_NONE && f->q.kind != sheet_kinds[i].kind)
			continue;
		q.kind = sheet_kinds[i].kind;
		snprintf(path, sizeof(path), "%s/%s", dir, sheet_kinds[i].file);
		rc = open_out(r->ctx, path, &r->out);
		if (rc != CLI_EXIT_OK)
			break;
		r->ck = &sheet_kinds[i];
		cli_csv_row(r->out, sheet_kinds[i].cols, sheet_kinds[i].ncols);
		rc = export_run_query(r, &q);
		rc = close_out(r->ctx, path, r->out, rc);
		r->out = NULL;
		if (rc == CLI_EXIT_OK && r->n == before)
			remove(path);      /* no records of this kind: no empty table */
	}
	return rc;
}

/* --format xlsx -o FILE: one sheet per kind that has records, in one workbook. */
static int export_xlsx(struct export_run *r, struct cli_filter *f, const char *path)
{
	/* Rows go to the file as they come (inline strings), not held in memory. */
	lxw_workbook_options opt = { .constant_memory = LXW_TRUE };
	lxw_error e;
	int rc = CLI_EXIT_OK;

	if (!(r->book = workbook_new_opt(path, &opt))) {
		cli_error(r->ctx, "cannot write %s", path);
		return CLI_EXIT_ERROR;
	}
	for (size_t i = 0; i < sheet_n_kinds && rc == CLI_EXIT_OK; i++) {
		struct store_query q = f->q;
		if (f->q.kind != PROTO_KIND_NONE && f->q.kind != sheet_kinds[i].kind)
			continue;
		q.kind = sheet_kinds[i].kind;
		r->ck = &sheet_kinds[i];
		r->ws = NULL;
		rc = export_run_query(r, &q);
	}
	e = workbook_close(r->book);
	r->book = NULL;
	if (e != LXW_NO_ERROR && rc == CLI_EXIT_OK) {
		cli_error(r->ctx, "cannot write %s: %s", path, lxw_strerror(e));
		rc = CLI_EXIT_ERROR;
	}
	return rc;
}

int cli_cmd_export(struct cli_ctx *ctx, int argc, char **argv)
{
	struct export_opts o;
	struct cli_filter *f = &o.filter;
	struct export_run r;
	struct store *s = NULL;
	struct store_txn *t = NULL;
	bool ran = false;
	const char *format, *path, *dir;
	size_t n_args;
	int rc = CLI_EXIT_ERROR;

	memset(&r, 0, sizeof(r));
	memset(&o, 0, sizeof(o));
	r.ctx = ctx;
	cli_filter_init(f);
	o.format = "jsonl";
	if ((rc = cli_opt_parse(ctx, &export_cmd, argc, argv, 1, &o, NULL, &n_args)) != CLI_EXIT_OK) {
		rc = cli_opt_status(rc);
		goto out;
	}
	format = o.format;
	path = o.output;
	dir = o.output_dir;
	if (strcmp(format, "jsonl") && strcmp(format, "csv") && strcmp(format, "xlsx")) {
		cli_error(ctx, "export: --format '%s' is not one of: jsonl, csv, xlsx", format);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (!strcmp(format, "xlsx") && (!path || !strcmp(path, "-") || dir)) {
		cli_error(ctx, "export: an xlsx workbook is a file: give -o FILE.xlsx");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	r.csv = !strcmp(format, "csv") || !strcmp(format, "xlsx");
	if (dir && (!r.csv || path)) {
		cli_error(ctx, "export: --output-dir goes with --format csv and without -o");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (r.csv && !dir && strcmp(format, "xlsx")) {
		if (f->q.kind == PROTO_KIND_NONE) {
			cli_error(ctx, "export: CSV is one table per kind: give --kind KIND, or "
			          "--output-dir DIR for one file per kind");
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		r.ck = sheet_kind_find(f->q.kind);
		if (!r.ck) {
			cli_error(ctx, "export: no CSV table for kind '%s' (use --format jsonl)",
			          proto_kind_name(f->q.kind));
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}

	if ((rc = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK)
		goto out;
	r.t = t;
	r.names = cli_names_new(t);
	if (!r.names || cli_names_load(r.names) < 0) {
		cli_error(ctx, "cannot read municipality names");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	rc = cli_filter_resolve(f, ctx, t, r.names);
	if (rc != CLI_EXIT_OK)
		goto out;

	ran = true;   /* not --help, not a usage error: an empty result is said */
	if (dir) {
		rc = export_csv_dir(&r, f, dir);
		goto out;
	}
	if (!strcmp(format, "xlsx")) {
		rc = export_xlsx(&r, f, path);
		goto out;
	}
	rc = open_out(ctx, path, &r.out);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (r.csv)
		cli_csv_row(r.out, r.ck->cols, r.ck->ncols);
	rc = export_run_query(&r, &f->q);
	rc = close_out(ctx, path, r.out, rc);
	r.out = NULL;
out:
	if (rc == CLI_EXIT_OK && ran && !r.n)
		cli_say_empty(ctx, NULL);
	cli_names_free(r.names);
	store_txn_end(t);
	cli_filter_dispose(f);
	return rc;
}
