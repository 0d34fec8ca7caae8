/*
 * opt_int.h - the one table-driven option parser every command uses
 * (opt.c), cli/ only.
 *
 * A command declares its options in tables: each line gives the option's
 * name, its value placeholder, its help text and the field of the
 * command's local options struct that receives it (STYLE habit 11: options
 * live in a local struct).  cli_opt_parse() reads argv against them, and
 * the command's --help is generated from them.  Errors are the same for
 * every command, one line on stderr and exit status 2 (CLI_EXIT_USAGE):
 *   unknown option     "<cmd>: unknown option '--x' (see 'agora <cmd> --help')"
 *   missing value      "<cmd>: --x needs a value"
 *   bad value          the option's own parse function's line
 *   missing argument or required option   "usage: agora <usage line>"
 *   extra argument     "<cmd>: unexpected argument 'x' (see 'agora <cmd> --help')"
 * Values are given as "--opt VALUE" or "--opt=VALUE"; "--" ends the
 * options; "-h" and "--help" anywhere print the help.
 */
#ifndef AGORA_CLI_OPT_INT_H
#define AGORA_CLI_OPT_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli/cli_int.h"

enum cli_opt_kind {
	CLI_OPT_FLAG = 1,            /* bool field, set true; takes no value */
	CLI_OPT_STR,                 /* const char * field, borrowed from argv */
	CLI_OPT_FN,                  /* the value goes through fn into the field */
	CLI_OPT_SET,                 /* int field set to `value`; takes no value (the
	                                last of several such options wins) */
};

/*
 * Parse val (the value of option opt) into field.  Returns CLI_EXIT_OK, or
 * prints one line ("--year: 'x' is not a year between 1900 and 2200") and
 * returns CLI_EXIT_USAGE.
 */
typedef int (*cli_opt_fn)(struct cli_ctx *ctx, const char *opt, const char *val, void *field);

struct cli_opt {
	const char *name;            /* "--alliance", or "-o"; NULL ends a table */
	const char *alias;           /* another spelling ("--output"), or NULL */
	const char *arg;             /* value placeholder ("NAME|ID"); NULL for a flag */
	const char *help;            /* help text; "\n" continues on an indented line */
	enum cli_opt_kind kind;
	size_t offset;               /* the field, inside the group's struct */
	cli_opt_fn fn;               /* CLI_OPT_FN only */
	bool required;               /* missing: a usage error */
	int value;                   /* CLI_OPT_SET only */
};

/* Table lines.  T is the struct the offsets are in. */
#define CLI_FLAG(n, h, T, f) \
	{ .name = (n), .help = (h), .kind = CLI_OPT_FLAG, .offset = offsetof(T, f) }
#define CLI_STR(n, a, h, T, f) \
	{ .name = (n), .arg = (a), .help = (h), .kind = CLI_OPT_STR, .offset = offsetof(T, f) }
#define CLI_NEED(n, a, h, T, f) \
	{ .name = (n), .arg = (a), .help = (h), .kind = CLI_OPT_STR, .offset = offsetof(T, f), \
	  .required = true }
#define CLI_FN(n, a, h, T, f, fun) \
	{ .name = (n), .arg = (a), .help = (h), .kind = CLI_OPT_FN, .offset = offsetof(T, f), \
	  .fn = (fun) }
#define CLI_SET(n, h, T, f, v) \
	{ .name = (n), .help = (h), .kind = CLI_OPT_SET, .offset = offsetof(T, f), .value = (v) }
#define CLI_OPT_END { .name = NULL }

/* A table whose offsets are in a struct that sits at `base` inside the
 * command's options struct (the shared filters, for example).  When two
 * groups list the same option, the earlier group's takes it and only that
 * one is in --help. */
struct cli_optgroup {
	const char *title;           /* heading in --help: "options", "filters" */
	const struct cli_opt *opts;  /* ended by CLI_OPT_END */
	size_t base;
};

#define CLI_ARGS_ANY UINT_MAX
#define CLI_OPT_HELP 100             /* cli_opt_parse printed the help */
#define CLI_OPT_UNKNOWN 101          /* cli_command.extra: not one of mine */

struct cli_command {
	const char *name;            /* "alliance admit": messages say it */
	const char *usage;           /* after "usage: agora "; "\n" starts another form */
	const char *about;           /* what it does (help, after the usage) */
	struct cli_optgroup groups[3];  /* up to three tables; { NULL } ends */
	unsigned min_args, max_args; /* positional arguments */
	const char *more;            /* help text after the options, or NULL */
	/*
	 * Options no table can list (publish: one flag per record field),
	 * asked about an option no table has, before it is an error.  Returns
	 * CLI_OPT_UNKNOWN when it is not one of its own; otherwise an exit
	 * status, having advanced *i past any value it took (CLI_EXIT_OK: taken;
	 * anything else: it printed the error).  NULL: none.
	 */
	int (*extra)(struct cli_ctx *ctx, void *opts, int argc, char **argv, int *i);
	/* Help for them, printed after the tables.  NULL: none. */
	void (*extra_help)(FILE *f, const void *opts);
};

/*
 * Parse argv[first..argc) into opts (the command's options struct, fields
 * already holding their defaults) and args (room for max_args, or argc,
 * borrowed from argv; *n_args of them).  Returns CLI_EXIT_OK; CLI_OPT_HELP
 * when it printed the help to stdout (the command then returns
 * cli_opt_status()); or CLI_EXIT_USAGE (or a parse function's status)
 * with the error printed.
 */
int cli_opt_parse(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv,
                  int first, void *opts, const char **args, size_t *n_args);

/* Does argv[first..) ask for --help (-h) before any "--"? */
bool cli_opt_help_asked(int argc, char **argv, int first);

/* The status a command returns for a cli_opt_parse() result other than OK. */
static inline int cli_opt_status(int rc)
{
	return rc == CLI_OPT_HELP ? CLI_EXIT_OK : rc;
}

/* The command's help: usage, about, every table, extra_help, more. */
void cli_opt_help(FILE *f, const struct cli_command *cmd, const void *opts);
/* "usage: agora <first usage line>" on stderr; returns CLI_EXIT_USAGE. */
int cli_opt_usage(struct cli_ctx *ctx, const struct cli_command *cmd);
/* "agora <usage>" lines only, "usage: " before the first when first. */
void cli_opt_usage_lines(FILE *f, const struct cli_command *cmd, bool first);

/* A parse function for a year (unsigned field) in
 * PROTO_YEAR_MIN..PROTO_YEAR_MAX: "--since: 'x' is not a year between 1900
 * and 2200". */
int cli_opt_year(struct cli_ctx *ctx, const char *opt, const char *val, void *field);

/*
 * A cli_command.extra for the flags of a record message (fields.c): take
 * argv[*i] if it is a flag of f's message.  CLI_OPT_UNKNOWN if not; the
 * error printed and CLI_EXIT_INPUT (a bad value), CLI_EXIT_USAGE or
 * CLI_EXIT_ERROR (out of memory) if it is but fails.
 */
struct fields;
int cli_opt_fields(struct cli_ctx *ctx, struct fields *f, int argc, char **argv, int *i);

/*
 * A command with subcommands (`agora alliance create|list|...`): argv[1]
 * names one.  Without one, or with --help first, the group's help lists
 * every subcommand's usage and what it does.
 */
struct cli_sub {
	const char *name;            /* "admit" */
	int (*run)(struct cli_ctx *ctx, int argc, char **argv);   /* argv[1] is name */
	const struct cli_command *cmd;  /* its usage and about, for the group's help */
};

struct cli_group {
	const char *name;            /* "alliance" */
	const char *about;           /* after the list of usages */
	const struct cli_sub *subs;  /* ended by { NULL } */
};

int cli_group_run(struct cli_ctx *ctx, const struct cli_group *g, int argc, char **argv);
void cli_group_help(FILE *f, const struct cli_group *g);

#endif
