/*
 * import_int.h - `agora publish --file` (import.c), cli/ only: every record
 * of a JSON / JSON Lines file, a CSV table, an xlsx workbook or a directory
 * of CSV tables, signed and stored in one transaction (all or nothing).
 *
 * What a file may hold:
 *   - records of this node (rows or objects whose "id" is one of its
 *     records): published as an edit of that record (its newest version,
 *     with the file's values over it), or skipped when nothing changed;
 *   - new records (no id), skipped when this author already published one
 *     identical in content (times and signature aside) unless `again`;
 *   - another author's records (an id that is not this node's, another
 *     municipality's name or author key, a profile under another name):
 *     refused unless `as_mine`, which publishes them as new records of this
 *     node, except their profile rows: those are left out (one line says
 *     so), since publishing one would rename this node after them.
 * Ids in the file that later rows cite (a result's measure) follow the
 * records they name, so a table exported at one node imports at another.
 */
#ifndef AGORA_CLI_IMPORT_INT_H
#define AGORA_CLI_IMPORT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/cli_int.h"

struct cli_import_opts {
	const char *alliance;        /* --alliance NAME|ID, may be NULL */
	const char *passphrase_file; /* may be NULL */
	const char *file;            /* path, "-" for standard input (JSON or CSV) */
	bool as_mine;                /* --as-mine: sign another author's records as ours */
	bool again;                  /* --again: publish identical records again */
};

/* Run the import; prints its errors and summary; returns CLI_EXIT_*. */
int cli_import_file(struct cli_ctx *ctx, const struct cli_import_opts *o);

/* ------------------------------------ reading a file (import_read.c) */

#include <jansson.h>
#include "cli/sheet_int.h"

/* One record of the file as JSON (json_to_record's input), with where it came from. */
struct import_item {
	json_t *obj;                /* owned */
	const char *file;           /* borrowed from its import_set */
	const struct sheet *sheet;  /* a table's record: its sheet (for column names) */
	bool in_book;               /* the sheet is one of a workbook's (named in messages) */
	size_t line;                /* JSON: 1-based line, or 0 */
	size_t row, nrows;          /* a table's record: first spreadsheet row, rows */
	size_t index;               /* 1-based position in the file */
};

struct import_set {
	struct cli_ctx *ctx;
	struct import_item *items;   /* in file order */
	size_t n, cap;
	char **files;               /* names items point at (a directory's tables) */
	size_t n_files;
	struct sheet **sheets;      /* tables items point at */
	size_t n_sheets;
};

/*
 * Read the file or directory at path (set im->ctx first; the rest of *im
 * zeroed) into im->items, printing the error ("F: row 3, column C (...)")
 * and returning CLI_EXIT_INPUT / CLI_EXIT_ERROR if it cannot be read.  What
 * was read stays in *im either way: free it with import_set_dispose()
 * (accepts NULL).
 */
int import_read(struct import_set *im, const char *path);
void import_set_dispose(struct import_set *im);

#endif
