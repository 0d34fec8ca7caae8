/*
 * filter_int.h - the query filters query, export, bundle create and report
 * share (filter.c), cli/ only.
 *
 *   --kind K --municipality NAME --sector S --area A --hazard H --status S
 *   --tag T --since YEAR --until YEAR --text "words" --limit N
 *   --sort newest|oldest|relevance --history --alliance NAME|ID --measure ID
 *
 * A command embeds a struct cli_filter in its options struct and lists
 * cli_filter_opts as one of its option groups (base: the filter's offset),
 * so cli_opt_parse() fills it; then cli_filter_resolve() inside a read
 * transaction, then f->q goes to store_query.  cli_filter_dispose() frees
 * what it holds.
 */
#ifndef AGORA_CLI_FILTER_INT_H
#define AGORA_CLI_FILTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli_int.h"
#include "cli/names_int.h"
#include "cli/opt_int.h"

struct cli_limit {
	size_t n;
	bool set;                   /* --limit was given */
};

struct cli_filter {
	struct store_query q;       /* the query to run (pointers into this struct and argv) */
	const char *alliance;       /* --alliance, borrowed from argv */
	const char *municipality;   /* --municipality, borrowed from argv */
	const char *measure;        /* --measure, borrowed from argv */
	struct cli_limit limit;     /* --limit (into q.limit by cli_filter_resolve) */
	struct cli_sort {           /* --sort (into q.sort by cli_filter_resolve) */
		enum store_sort order;
		bool set;           /* given; else relevance with --text, newest without */
	} sort;
	uint8_t alliance_id[PROTO_ID_BYTES];
	uint8_t measure_id[PROTO_ID_BYTES];
	uint8_t (*authors)[PROTO_KEY_BYTES]; /* malloc()ed; --municipality matches */
};

/* Every filter option, for a command's option groups. */
extern const struct cli_opt cli_filter_opts[];

void cli_filter_init(struct cli_filter *f);      /* zeroes it */
void cli_filter_dispose(struct cli_filter *f);   /* accepts NULL */

/* Was any filter given other than --alliance, --limit and --sort? */
bool cli_filter_any(const struct cli_filter *f);

/* --sector's parse function (cli_opt_fn into an int), for tables of their own. */
int cli_filter_sector(struct cli_ctx *ctx, const char *opt, const char *val, void *field);

/*
 * Resolve names to ids in snapshot t: --alliance (cli_alliance),
 * --municipality (Profile and Admission names, case-folded substring; every
 * match is OR-ed), --measure (full id or unique prefix); --limit into
 * q.limit.  Returns CLI_EXIT_* (CLI_EXIT_NOTFOUND listing the known
 * municipalities when none matches).
 */
int cli_filter_resolve(struct cli_filter *f, struct cli_ctx *ctx, struct store_txn *t,
                       struct cli_names *names);

#endif
