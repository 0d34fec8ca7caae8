/*
 * cmd_query.c - `agora query`: find records and print them as a table for
 * people, or as JSON, JSON Lines or CSV for programs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/csv_int.h"
#include "cli/filter_int.h"
#include "cli/format_int.h"
#include "cli/home_int.h"
#include "cli/json_int.h"
#include "cli/names_int.h"
#include "cli/opt_int.h"
#include "cli/table_int.h"

#define QUERY_TTY_LIMIT 50

enum query_format { FMT_TABLE, FMT_JSON, FMT_JSONL, FMT_CSV };

struct query_run {
	struct cli_ctx *ctx;
	enum query_format fmt;
	struct cli_names *names;
	struct cli_table *table;
	size_t n;                   /* hits written */
	size_t cap;                 /* stop after this many (0: no cap) */
	bool more;                  /* a hit beyond cap exists */
	int err;                    /* first error inside the callback */
};

struct query_opts {
	struct cli_filter filter;
	int fmt;                    /* enum query_format */
};

static const struct cli_opt query_opts[] = {
	CLI_SET("--json", "one JSON array of records", struct query_opts, fmt, FMT_JSON),
	CLI_SET("--jsonl", "one JSON record per line (JSON Lines)", struct query_opts, fmt,
	        FMT_JSONL),
	CLI_SET("--csv", "CSV with a header row: id, kind, municipality,\n"
	        "years, sector, status, title, created (`agora\n"
	        "export` writes every field)",
	        struct query_opts, fmt, FMT_CSV),
	CLI_OPT_END,
};

static const struct cli_command query_cmd = {
	.name = "query",
	.usage = "query [filters] [--json | --jsonl | --csv]",
	.about = "Find records in every alliance this node holds (or one, with --alliance).\n"
	         "Newest versions only; retracted records never appear.  Without --json,\n"
	         "--jsonl or --csv: a table (id, kind, municipality, years, sector, status,\n"
	         "title) cut to the terminal's width.\n",
	.groups = { { "output", query_opts, 0 },
	            { "filters (all given filters must match)", cli_filter_opts,
	              offsetof(struct query_opts, filter) } },
	.more = "On a terminal at most 50 records are shown unless --limit is given;\n"
	        "otherwise (pipes, files) every match is written.  --limit 0 means all.\n",
};

/*
 * The summary columns of one record: id, kind, municipality, years, sector,
 * status, title.  cells[] are malloc()ed except municipality (borrowed from
 * names); free with free_cells().
 */
#define QUERY_COLS 7
struct query_row {
	char id[PROTO_ID_HEX + 1];
	const char *kind;           /* a name, or kind_buf ("newer:63") */
	char kind_buf[CLI_KIND_BUF];
	const char *municipality;
	char *years, *sector, *status, *title;
	char created[40];
};

static int row_build(struct query_row *row, const struct store_record *sr,
                     const Agora__Record *rec, struct cli_names *names)
{
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind = proto_record_content(rec, &msg);
	static const char *const superseded = "[superseded] ";
	char *t;

	memset(row, 0, sizeof(*row));
	proto_hex(row->id, sr->id, PROTO_ID_BYTES);
	row->kind = cli_format_kind(row->kind_buf, kind);
	row->municipality = rec->author.len == PROTO_KEY_BYTES ?
		cli_names_name(names, rec->author.data) : NULL;
	if (!row->municipality)
		row->municipality = "";
	row->years = cli_format_years(kind, msg);
	row->sector = cli_format_text(msg, "sector");
	row->status = cli_format_text(msg, "status");
	row->title = cli_format_title(kind, msg);
	if (row->title && (proto_record_newer(rec) & PROTO_NEWER_KIND)) {
		/* nothing of it can be read: the title says why, and what to do */
		char why[160];
		proto_record_newer_text(why, sizeof(why), rec);
		free(row->title);
		row->title = strdup(why);
	}
	cli_format_time(row->created, sizeof(row->created), rec->created_ms, true);
	if (row->title && sr->superseded) {
		t = malloc(strlen(superseded) + strlen(row->title) + 1);
		if (t) {
			strcpy(t, superseded);
			strcat(t, row->title);
		}
		free(row->title);
		row->title = t;
	}
	if (!row->years || !row->sector || !row->status || !row->title)
		return -1;
	return 0;
}

static void row_free(struct query_row *row)
{
	free(row->years);
	free(row->sector);
	free(row->status);
	free(row->title);
}

static int print_json(struct query_run *r, const struct store_record *sr,
                      const Agora__Record *rec)
{
	const char *muni = rec->author.len == PROTO_KEY_BYTES ?
		cli_names_name(r->names, rec->author.data) : NULL;
	json_t *obj = json_from_record(rec, sr->id, muni);
	char *s;

	if (!obj)
		return -1;
	s = json_dumps(obj, r->fmt == FMT_JSON ? JSON_INDENT(2) | JSON_PRESERVE_ORDER :
	               JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (!s)
		return -1;
	if (r->fmt == FMT_JSON)
		fputs(r->n ? ",\n" : "[\n", stdout);
	fputs(s, stdout);
	if (r->fmt == FMT_JSONL)
		fputc('\n', stdout);
	free(s);
	return 0;
}

static int query_hit(const struct store_hit *hit, void *arg)
{
	struct query_run *r = arg;
	Agora__Record *rec = NULL;
	struct query_row row;
	int rc;

	if (r->cap && r->n == r->cap) {
		r->more = true;         /* the one extra hit asked for: there is more */
		return 1;
	}
	rc = proto_envelope_decode(&rec, hit->rec.env, hit->rec.env_len, NULL);
	if (rc < 0) {
		r->err = rc;
		return 1;
	}
	if (r->fmt == FMT_JSON || r->fmt == FMT_JSONL) {
		rc = print_json(r, &hit->rec, rec);
	} else {
		rc = row_build(&row, &hit->rec, rec, r->names);
		if (rc == 0 && r->fmt == FMT_CSV) {
			const char *cells[] = { row.id, row.kind, row.municipality, row.years,
			                        row.sector, row.status, row.title, row.created };
			cli_csv_row(stdout, cells, 8);
		} else if (rc == 0) {
			char shortid[13];
			memcpy(shortid, row.id, 12);
			shortid[12] = '\0';
			const char *cells[QUERY_COLS] = { shortid, row.kind, row.municipality,
			                                  row.years, row.sector, row.status,
			                                  row.title };
			rc = cli_table_add(r->table, cells);
		}
		row_free(&row);
	}
	agora__record__free_unpacked(rec, NULL);
	if (rc < 0) {
		r->err = -ENOMEM;   /* the only way the writers above fail */
		return 1;
	}
	r->n++;
	return 0;
}

int cli_cmd_query(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const headers[QUERY_COLS] = {
		"ID", "KIND", "MUNICIPALITY", "YEARS", "SECTOR", "STATUS", "TITLE",
	};
	static const unsigned shrink[QUERY_COLS] = { 0, 9, 10, 9, 8, 11, 12 };
	struct query_opts o;
	struct cli_filter *f = &o.filter;
	struct query_run r;
	struct store *s = NULL;
	struct store_txn *t = NULL;
	size_t total = SIZE_MAX, n_args;
	int rc = CLI_EXIT_ERROR, n;

	memset(&r, 0, sizeof(r));
	memset(&o, 0, sizeof(o));
	r.ctx = ctx;
	cli_filter_init(f);
	if ((rc = cli_opt_parse(ctx, &query_cmd, argc, argv, 1, &o, NULL, &n_args)) != CLI_EXIT_OK) {
		rc = cli_opt_status(rc);
		goto out;
	}
	r.fmt = (enum query_format)o.fmt;

	if ((rc = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK)
		goto out;
	r.names = cli_names_new(t);
	if (!r.names) {
		cli_error(ctx, "out of memory");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	n = cli_names_load(r.names);
	if (n < 0) {
		cli_error(ctx, "cannot read municipality names: %s", store_strerror(n));
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	rc = cli_filter_resolve(f, ctx, t, r.names);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (!f->limit.set && ctx->tty_out)
		f->q.limit = QUERY_TTY_LIMIT;
	/* On a terminal ask for one more than shown, to say whether there is more. */
	if (ctx->tty_out && f->q.limit && f->q.limit < SIZE_MAX) {
		r.cap = f->q.limit;
		f->q.limit++;
	}
	if (r.fmt == FMT_TABLE) {
		r.table = cli_table_new(QUERY_COLS, headers, shrink);
		if (!r.table) {
			cli_error(ctx, "out of memory");
			rc = CLI_EXIT_ERROR;
			goto out;
		}
	} else if (r.fmt == FMT_CSV) {
		static const char *const csvh[] = { "id", "kind", "municipality", "years",
		                                    "sector", "status", "title", "created" };
		cli_csv_row(stdout, csvh, 8);
	}

	n = store_query(t, &f->q, query_hit, &r, &total);
	if (r.err) {
		cli_error(ctx, "query failed: %s", store_strerror(r.err));
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	if (n < 0) {
		cli_error(ctx, "query failed: %s", store_strerror(n));
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	if (r.fmt == FMT_JSON)
		fputs(r.n ? "\n]\n" : "[]\n", stdout);
	if (r.fmt == FMT_TABLE && r.n)
		cli_table_print(r.table, stdout, cli_table_term_width(STDOUT_FILENO));
	if (!r.n)
		cli_say_empty(ctx, NULL);
	if (r.more && total != SIZE_MAX && total > r.n)
		fprintf(stderr, "(%zu of %zu shown; --limit 0 shows all)\n", r.n, total);
	else if (r.more)
		fprintf(stderr, "(first %zu shown; --limit 0 shows all)\n", r.n);
	if (fflush(stdout) != 0) {
		cli_error(ctx, "cannot write the output");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	rc = CLI_EXIT_OK;
out:
	cli_table_free(r.table);
	cli_names_free(r.names);
	store_txn_end(t);
	cli_filter_dispose(f);
	return rc;
}
