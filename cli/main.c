/*
 * main.c - the agora command-line tool: global options and the command table.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_int.h"
#include "cli/cmds_int.h"

static const struct cli_cmd_entry commands[] = {
	{ "init",     cli_cmd_init,     "create this node's identity, store and profile" },
	{ "whoami",   cli_cmd_whoami,   "print this node's public key and profile" },
	{ "alliance", cli_cmd_alliance, "create, list and choose alliances; admit, revoke, invite" },
	{ "join",     cli_cmd_join,     "join an alliance with an invite code" },
	{ "publish",  cli_cmd_publish,  "sign and store a record (or a JSON/JSONL file of them)" },
	{ "amend",    cli_cmd_amend,    "publish a new version of one of your records" },
	{ "retract",  cli_cmd_retract,  "withdraw one of your records" },
	{ "query",    cli_cmd_query,    "find records by kind, municipality, sector, text, ..." },
	{ "show",     cli_cmd_show,     "print one record, its signature status and history" },
	{ "export",   cli_cmd_export,   "write records as JSON Lines or CSV" },
	{ "status",   cli_cmd_status,   "what the running node holds and how each peer is doing" },
	{ "peers",    cli_cmd_peers,    "the running node's peers and their connections" },
	{ "sync",     cli_cmd_sync,     "ask the running node to sync with its peers now" },
	{ "endpoint", cli_cmd_endpoint, "show or publish where partners reach this node" },
	{ "peer",     cli_cmd_peer,     "add, list or remove partner nodes in agora.conf" },
	{ "recover",  cli_cmd_recover,  "after a restore from a backup: put this node's feed right" },
	{ "bundle",   cli_cmd_bundle,   "create, verify or import a file of signed records" },
	{ "attachment", cli_cmd_attachment, "write out a file attached to a record" },
	{ "report",   cli_cmd_report,   "summit report: progress against targets, totals, lessons" },
	{ "web",      cli_cmd_web,      "a web interface in your browser: search, records, publish" },
	{ "watch",    cli_cmd_watch,    "print new records as they arrive (same filters as query)" },
	{ "help",     NULL,             "this list, or 'agora help COMMAND' for one command" },
};

const struct cli_cmd_entry *const cli_commands = commands;
const size_t cli_n_commands = sizeof(commands) / sizeof(commands[0]);

static const struct cli_cmd_entry *command_find(const char *name)
{
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (!strcmp(name, commands[k].name))
			return &commands[k];
	return NULL;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: %s [--home DIR] <command> [options]\n\n"
	        "agora keeps your municipality's signed climate records and shares them\n"
	        "with your alliance partners.\n\ncommands:\n", prog);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'%s help <command>' (or '%s <command> --help') describes a command.\n"
	        "--home DIR (or $AGORA_HOME) selects the data directory; default\n"
	        "$XDG_DATA_HOME/agora, else ~/.local/share/agora.\n", prog, prog);
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx;
	const char *home_flag = NULL;
	int i = 1, rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.prog = "agora";
	ctx.tty_out = isatty(STDOUT_FILENO);
	ctx.tty_err = isatty(STDERR_FILENO);

	/* Global options come before the command; --home is also accepted after it. */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--home") && i + 1 < argc) {
			home_flag = argv[++i];
		} else if (!strncmp(argv[i], "--home=", 7)) {
			home_flag = argv[i] + 7;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout, ctx.prog);
			return CLI_EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("agora %s\n", AGORA_VERSION);
			return CLI_EXIT_OK;
		} else {
			cli_error(&ctx, "unknown option '%s' (see 'agora --help')", argv[i]);
			return CLI_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr, ctx.prog);
		return CLI_EXIT_USAGE;
	}

	/* Pull a --home given after the command out of argv. */
	int sub_argc = 0;
	char **sub_argv = calloc((size_t)(argc - i) + 1, sizeof(*sub_argv));
	if (!sub_argv) {
		cli_error(&ctx, "out of memory");
		return CLI_EXIT_ERROR;
	}
	for (int j = i; j < argc; j++) {
		if (!strcmp(argv[j], "--home") && j + 1 < argc) {
			home_flag = argv[++j];
			continue;
		}
		if (!strncmp(argv[j], "--home=", 7)) {
			home_flag = argv[j] + 7;
			continue;
		}
		sub_argv[sub_argc++] = argv[j];
	}

	if (store_home(ctx.home, sizeof(ctx.home), home_flag) < 0) {
		cli_error(&ctx, "cannot find a data directory: set --home DIR or $AGORA_HOME");
		free(sub_argv);
		return CLI_EXIT_USAGE;
	}
	if (proto_init() < 0) {
		cli_error(&ctx, "cannot initialise libsodium");
		free(sub_argv);
		return CLI_EXIT_ERROR;
	}

	const struct cli_cmd_entry *cmd = command_find(sub_argv[0]);
	if (!strcmp(sub_argv[0], "completion")) {
		/* Hidden: shells' setup scripts run it, people need not see it. */
		rc = cli_cmd_completion(&ctx, sub_argc, sub_argv);
	} else if (cmd && !cmd->fn) {
		/*
		 * `agora help [COMMAND [SUBCOMMAND]]`: the list, or exactly what
		 * `agora COMMAND [SUBCOMMAND] --help` prints, since each command
		 * prints its help from its own option table.
		 */
		const struct cli_cmd_entry *of = sub_argc > 1 ? command_find(sub_argv[1]) : NULL;
		if (sub_argc == 1 || !strcmp(sub_argv[1], "--help") || !strcmp(sub_argv[1], "-h")) {
			usage(stdout, ctx.prog);
			rc = CLI_EXIT_OK;
		} else if (!of || !of->fn) {
			cli_error(&ctx, "'%s' is not an agora command (see 'agora help')", sub_argv[1]);
			rc = CLI_EXIT_USAGE;
		} else {
			char *help_argv[4] = { sub_argv[1], NULL, NULL, NULL };
			int n = 1;
			if (sub_argc > 2 && sub_argv[2][0] != '-')
				help_argv[n++] = sub_argv[2];
			help_argv[n++] = "--help";
			rc = of->fn(&ctx, n, help_argv);
		}
	} else if (cmd) {
		rc = cmd->fn(&ctx, sub_argc, sub_argv);
	} else {
		cli_error(&ctx, "'%s' is not an agora command (see 'agora help')", sub_argv[0]);
		rc = CLI_EXIT_USAGE;
	}

	store_close(ctx.store);
	proto_key_free(ctx.key);
	free(sub_argv);
	return rc;
}
