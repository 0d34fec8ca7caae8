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
 *     municipality's name or author key): refused unless `as_mine`, which
 *     publishes them as new records of this node.
 * Ids in the file that later rows cite (a result's measure) follow the
 * records they name, so a table exported at one node imports at another.
 */
#ifndef AGORA_CLI_IMPORT_INT_H
#define AGORA_CLI_IMPORT_INT_H

#include <stdbool.h>

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

#endif
