/*
 * cli.h - shared pieces of the agora command-line tool (cli/ only).
 *
 * One subcommand is one cli/cmd_<name>.c exporting
 *     int cli_cmd_<name>(struct cli_ctx *ctx, int argc, char **argv);
 * plus one line in the table in cli/main.c.  argv[0] is the subcommand name;
 * global options (--home) are already removed.  A command returns one of
 * the CLI_EXIT_* codes below; it prints its own one-line error with
 * cli_error() first.
 */
#ifndef AGORA_CLI_H
#define AGORA_CLI_H

#include <stdbool.h>
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
 * Open the store in <home>/db (creating the directory only when create is
 * true).  The store is owned by ctx.  Returns a CLI_EXIT_* code and prints
 * the error itself ("no agora data in DIR: run `agora init` first").
 */
int cli_store(struct cli_ctx *ctx, bool create, struct store **out);

/*
 * Load <home>/identity.key through storage's loader (store_key_load: a
 * regular file of the user's, mode 0600 or stricter, like ssh).  An
 * encrypted key's passphrase comes from --passphrase-file
 * (passphrase_file, may be NULL), else $AGORA_PASSPHRASE, else, when stdin
 * is a terminal, a prompt without echo.  The key is owned by ctx.  Returns
 * CLI_EXIT_*, printing errors.
 */
int cli_key(struct cli_ctx *ctx, const char *passphrase_file, struct proto_key **out);

/*
 * Resolve --alliance NAME|ID (NULL: the default alliance) to an alliance id.
 * Accepts an alliance name (exact, case-insensitive), a full id, or a unique
 * hex prefix.  Prints a clear error naming what to run when there is none.
 */
int cli_alliance(struct cli_ctx *ctx, struct store_txn *t, const char *name_or_id,
                 uint8_t id_out[PROTO_ID_BYTES]);

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
