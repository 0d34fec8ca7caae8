/*
 * cli_int.h - the core of the agora command-line tool (cli.c), cli/ only:
 * the context every command gets, exit statuses and errors, clock and
 * progress.
 *
 * One subcommand is one cli/cmd_<name>.c exporting
 *     int cli_cmd_<name>(struct cli_ctx *ctx, int argc, char **argv);
 * (cmds_int.h) plus one line in the table in cli/main.c.  argv[0] is the
 * subcommand name; global options (--home) are already removed.  A command
 * reads its options through opt_int.h and returns one of the CLI_EXIT_*
 * codes below, having printed its one-line error with cli_error().
 *
 * Header names in cli/: every header here is private to the agora program
 * and ends in _int.h, named after the .c file that implements it (cmds_int.h
 * and members_int.h: after the cmd_*.c files they declare); the one
 * exception is a sub-folder's contract with the rest of cli/, named after
 * the folder (cli/report/report.h, with report/report_int.h private to it).
 */
#ifndef AGORA_CLI_INT_H
#define AGORA_CLI_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "proto/proto.h"
#include "storage/storage.h"

/* Exit statuses (documented in README.md and agora(1)). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_ERROR = 1,       /* operation failed (I/O, store, node) */
	CLI_EXIT_USAGE = 2,       /* bad command line */
	CLI_EXIT_INPUT = 3,       /* bad input data: invalid record, JSON, file */
	CLI_EXIT_NOTFOUND = 4,    /* no such record / alliance / identity */
	CLI_EXIT_IDENTITY = 5,    /* key missing, unreadable, too open, wrong passphrase */
	CLI_EXIT_NODE = 6,        /* control socket: node not running / refused */
};

/* Everything a command needs; built by main(), no globals. */
struct cli_ctx {
	char home[4096];          /* data directory (resolved, no trailing /) */
	const char *prog;         /* "agora" */
	bool tty_out;             /* stdout is a terminal (tables, colours) */
	bool tty_err;             /* stderr is a terminal (progress) */
	struct store *store;      /* opened lazily by cli_store(); closed by main */
	struct proto_key *key;    /* loaded lazily by cli_key(); freed by main */
};

/* "agora: <message>\n" on stderr, printf-style, one line. */
void cli_error(struct cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * An empty answer of a listing command (query, export, peer list): still an
 * answer, exit 0, but a person sees why nothing came.  Prints `what` ("no
 * records match" when NULL) as one line on stderr, so stdout stays what
 * scripts expect of its format: "", "[]", a CSV header.
 */
void cli_say_empty(struct cli_ctx *ctx, const char *what);

/*
 * Report a failed store_publish / store_publish_batch / proto call as one
 * line and return its exit code: field errors as "--start-year: ..." (flag
 * names) and CLI_EXIT_INPUT, a foreign or unknown target as
 * CLI_EXIT_INPUT, anything else CLI_EXIT_ERROR.  err may be NULL.
 */
int cli_publish_error(struct cli_ctx *ctx, int rc, const struct proto_error *err);
/* The same message into buf (cap bytes, one line, not printed), and the
 * same exit code: for callers that show it elsewhere (agora web). */
int cli_publish_message(char *buf, size_t cap, struct cli_ctx *ctx, int rc,
                        const struct proto_error *err);

/* Milliseconds since the epoch (wall clock). */
uint64_t cli_now_ms(void);

/* Progress on stderr when it is a terminal: "label  done/total". */
struct cli_progress {
	struct cli_ctx *ctx;
	const char *label;
	uint64_t total, done, last_ms;
};
void cli_progress_start(struct cli_progress *p, struct cli_ctx *ctx, const char *label,
                        uint64_t total);
void cli_progress_step(struct cli_progress *p, uint64_t n);
void cli_progress_end(struct cli_progress *p);

#endif
