/*
 * output.h - what the read-side commands (query, show, export, bundle)
 * share: option parsing for query filters, municipality names, record
 * decoding and field formatting, and the writers for aligned tables and
 * RFC 4180 CSV.  cli/ only.
 *
 * Every function here is used from one thread; nothing keeps global state.
 * Functions returning int return 0 on success and a negative code
 * (PROTO_E_*, STORE_E_*, -errno) on failure unless they say they return a
 * CLI_EXIT_* code; those print their own one-line error with cli_error().
 */
#ifndef AGORA_CLI_OUTPUT_H
#define AGORA_CLI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"

/* ------------------------------------------------------------ options */

/*
 * Match argv[*i] against option `name` ("--kind") given as "--kind VALUE"
 * or "--kind=VALUE".  Returns 1 and sets *val (borrowed from argv) and
 * advances *i past a separate value; 0 if argv[*i] is not this option;
 * -1 if it is but the value is missing (the caller reports usage).
 */
int cli_output_opt(const char *name, int argc, char **argv, int *i, const char **val);
/* The same as a value: the option's value, or NULL (and *missing = true
 * when the option is there without its value). */
const char *cli_opt_value(const char *name, int argc, char **argv, int *i, bool *missing);

/* ------------------------------------------------------- query filters */

/*
 * The filter options shared by query, export and bundle create:
 *   --kind K --municipality NAME --sector S --area A --hazard H --status S
 *   --tag T --since YEAR --until YEAR --text "words" --limit N
 *   --sort newest|oldest|relevance --history --alliance NAME|ID --measure ID
 * Zero-initialise (or cli_filter_init), feed each argument to
 * cli_filter_arg, then cli_filter_resolve inside a read transaction, then
 * use f->q with store_query.  cli_filter_dispose frees what it holds.
 */
struct cli_filter {
	struct store_query q;       /* the query to run (pointers into this struct) */
	const char *alliance;       /* --alliance, borrowed from argv */
	const char *municipality;   /* --municipality, borrowed from argv */
	const char *measure;        /* --measure, borrowed from argv */
	bool limit_set;             /* --limit was given */
	bool sort_set;              /* --sort was given */
	bool any;                   /* some filter other than --alliance/--limit/--sort given */
	uint8_t alliance_id[PROTO_ID_BYTES];
	uint8_t measure_id[PROTO_ID_BYTES];
	uint8_t (*authors)[PROTO_KEY_BYTES]; /* malloc()ed; --municipality matches */
};

void cli_filter_init(struct cli_filter *f);
void cli_filter_dispose(struct cli_filter *f);   /* accepts NULL */

/*
 * If argv[*i] is a filter option, consume it (and its value), set *used and
 * return CLI_EXIT_OK; if not, leave *i, clear *used and return CLI_EXIT_OK.
 * A bad value (unknown enum name, year out of range, ...) prints one line
 * listing what is valid and returns CLI_EXIT_USAGE.
 */
int cli_filter_arg(struct cli_filter *f, struct cli_ctx *ctx, int argc, char **argv, int *i,
                   bool *used);

struct cli_names;

/*
 * Resolve names to ids in snapshot t: --alliance (cli_alliance),
 * --municipality (Profile and Admission names, case-folded substring; every
 * match is OR-ed), --measure (full id or unique prefix).  Returns CLI_EXIT_*
 * (CLI_EXIT_NOTFOUND listing the known municipalities when none matches).
 */
int cli_filter_resolve(struct cli_filter *f, struct cli_ctx *ctx, struct store_txn *t,
                       struct cli_names *names);

/* Help text for the filter options (for each command's --help). */
extern const char cli_filter_help[];

/* ------------------------------------------------- municipality names */

/*
 * Author key -> newest Profile name and country, looked up once per key and
 * cached for the life of the object.  Keys without a Profile fall back to
 * the name an Admission gave them, else NULL.  Strings returned are owned by
 * the cache and live until cli_names_free().  The cache borrows t.
 */
struct cli_names *cli_names_new(struct store_txn *t);
/*
 * Read every name now (otherwise the first lookup does).  Call it before
 * store_query() so that lookups from inside a query callback never start a
 * nested query.  Returns 0 or a store error.
 */
int cli_names_load(struct cli_names *n);
void cli_names_free(struct cli_names *n);        /* accepts NULL */
const char *cli_names_name(struct cli_names *n, const uint8_t author[PROTO_KEY_BYTES]);
const char *cli_names_country(struct cli_names *n, const uint8_t author[PROTO_KEY_BYTES]);

/* --------------------------------------------------- records and fields */

/* Name of the alliance `id` from its stored charter, or NULL; caller frees. */
char *cli_alliance_name(struct store_txn *t, const uint8_t id[PROTO_ID_BYTES]);

/*
 * Text of field `name` of msg: enums by their stable name, bytes as hex,
 * bools "true"/"false", numbers in shortest round-trip form, repeated values
 * joined with "; ", nested messages as "k=v, k=v".  Unset fields give "".
 * *out is malloc()ed; the caller frees it.  PROTO_E_ARG if msg has no such
 * field, -ENOMEM.
 */
int cli_output_field(char **out, const ProtobufCMessage *msg, const char *name);

/*
 * Print every set field of msg as "<prefix><name>: <value>" lines, one per
 * field (repeated scalars joined with "; ", nested messages on their own
 * lines with "<name>[i]." prefixes).  Multi-line strings are indented.
 */
void cli_output_fields(FILE *f, const ProtobufCMessage *msg, const char *prefix);

/* Like cli_output_field, but "" for a NULL msg or a field it lacks; NULL
 * only when out of memory.  Caller frees. */
char *cli_output_text(const ProtobufCMessage *msg, const char *name);
/* The year(s) a record is about ("2020–2030", "2019"); caller frees. */
char *cli_output_years(enum proto_kind kind, const ProtobufCMessage *msg);
/* A one-line title for a record of any kind (title, indicator: value unit,
 * "BEI 2019 inventory", name, note, reason); caller frees. */
char *cli_output_title(enum proto_kind kind, const ProtobufCMessage *msg);

/* "2024-05-01 10:00 UTC" (minutes) or "...:SS" with seconds; buf >= 32. */
void cli_output_time(char *buf, size_t cap, uint64_t ms, bool seconds);

/* -------------------------------------------------------------- bundles */

/*
 * Bundle file framing (see the comment at the top of cmd_bundle.c):
 *   "AGORAB1\n", then per record a 4-byte big-endian length (1..65536) and
 *   the envelope, then the trailer: 4 zero bytes, an 8-byte big-endian
 *   record count and the BLAKE2b-256 of every byte before the trailer.
 */
#define CLI_BUNDLE_MAGIC "AGORAB1\n"
#define CLI_BUNDLE_MAGIC_LEN 8
#define CLI_BUNDLE_TRAILER_LEN (4 + 8 + 32)

struct cli_bundle_rec {
	const uint8_t *env;         /* borrowed from the parsed buffer */
	size_t len;
	size_t offset;              /* byte offset of its length prefix */
};

/*
 * Check a whole bundle held in memory: magic, framing, trailer, record count
 * and checksum, nothing after the trailer.  Signatures are not checked
 * here.  On success *recs (malloc()ed, borrowing buf; the caller frees the
 * array) and *n are set.  On failure returns -EBADMSG and writes one line
 * describing the problem, with its byte offset, into msg (cap bytes).
 * Never reads outside buf[0..len).
 */
int cli_bundle_parse(struct cli_bundle_rec **recs, size_t *n, const uint8_t *buf, size_t len,
                     char *msg, size_t cap);

/* ----------------------------------------------------- text and tables */

/* Terminal width of fd (TIOCGWINSZ), else $COLUMNS, else 0 (= unlimited). */
int cli_output_term_width(int fd);

/* Display columns of a UTF-8 string (utf8proc_charwidth; invalid bytes = 1). */
size_t cli_output_width(const char *s);

/*
 * A table for people: columns sized to their content, shrunk to fit width
 * (0: no limit), long cells cut with "…".  Cells are copied; control
 * characters (newlines, tabs) are shown as spaces.
 */
struct cli_table;
/* ncols headers (borrowed, must outlive the table); shrink[i] is the
 * minimum width of a column that may be shrunk, 0 for fixed columns. */
struct cli_table *cli_table_new(size_t ncols, const char *const *headers,
                                const unsigned *shrink);
int cli_table_add(struct cli_table *t, const char *const *cells);  /* 0 / -ENOMEM */
size_t cli_table_rows(const struct cli_table *t);
void cli_table_print(struct cli_table *t, FILE *f, int width);
void cli_table_free(struct cli_table *t);        /* accepts NULL */

/* One RFC 4180 field: quoted when it holds , " CR or LF (quotes doubled). */
void cli_csv_field(FILE *f, const char *s);
/* A whole row of n fields, ending in CRLF as RFC 4180 says. */
void cli_csv_row(FILE *f, const char *const *cells, size_t n);

#endif
