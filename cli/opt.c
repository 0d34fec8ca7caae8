/*
 * opt.c - the one option parser: every command's options are a table
 * (opt_int.h), read here, and its --help is printed from the same table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_int.h"
#include "cli/fields_int.h"
#include "cli/opt_int.h"

#define HELP_COL 24             /* help text starts in this column */

/* The option whose name or alias is a ("--x" or "--x=v"); the first group
 * that has one wins, so a command's own table may override a shared one
 * (bundle create's repeatable --alliance over the filters' single one). */
static const struct cli_opt *find(const struct cli_command *cmd, const char *a, size_t *base,
                                  const char **value)
{
	size_t alen = strcspn(a, "=");

	for (size_t g = 0; g < 3 && cmd->groups[g].opts; g++) {
		for (const struct cli_opt *o = cmd->groups[g].opts; o->name; o++) {
			const char *names[2] = { o->name, o->alias };
			for (int k = 0; k < 2; k++) {
				if (!names[k] || strlen(names[k]) != alen || strncmp(names[k], a, alen))
					continue;
				*base = cmd->groups[g].base;
				*value = a[alen] == '=' ? a + alen + 1 : NULL;
				return o;
			}
		}
	}
	return NULL;
}

static int set(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_opt *o,
               void *field, const char *val)
{
	switch (o->kind) {
	case CLI_OPT_FLAG:
	case CLI_OPT_SET:
		if (val) {
			cli_error(ctx, "%s: %s takes no value (see 'agora %s --help')", cmd->name,
			          o->name, cmd->name);
			return CLI_EXIT_USAGE;
		}
		if (o->kind == CLI_OPT_SET)
			*(int *)field = o->value;
		else
			*(bool *)field = true;
		return CLI_EXIT_OK;
	case CLI_OPT_STR:
		*(const char **)field = val;
		return CLI_EXIT_OK;
	case CLI_OPT_FN:
		return o->fn(ctx, o->name, val, field);
	}
	return CLI_EXIT_USAGE;
}

bool cli_opt_help_asked(int argc, char **argv, int first)
{
	for (int i = first; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

int cli_opt_parse(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv,
                  int first, void *opts, const char **args, size_t *n_args)
{
	bool ended = false;
	size_t n = 0;
	int rc;

	/* Help wins over every other word on the line, as it always has. */
	if (cli_opt_help_asked(argc, argv, first)) {
		cli_opt_help(stdout, cmd, opts);
		return CLI_OPT_HELP;
	}
	for (int i = first; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		const struct cli_opt *o;
		size_t base = 0;

		if (!ended && !strcmp(a, "--")) {
			ended = true;
			continue;
		}
		if (ended || a[0] != '-' || !a[1]) {
			if (n == cmd->max_args) {
				cli_error(ctx, "%s: unexpected argument '%s' (see 'agora %s --help')",
				          cmd->name, a, cmd->name);
				return CLI_EXIT_USAGE;
			}
			args[n++] = a;
			continue;
		}
		if ((o = find(cmd, a, &base, &val))) {
			if (o->kind != CLI_OPT_FLAG && o->kind != CLI_OPT_SET && !val) {
				if (i + 1 >= argc) {
					cli_error(ctx, "%s: %s needs a value", cmd->name, o->name);
					return CLI_EXIT_USAGE;
				}
				val = argv[++i];
			}
			if ((rc = set(ctx, cmd, o, (char *)opts + base + o->offset, val)) != CLI_EXIT_OK)
				return rc;
			continue;
		}
		if (cmd->extra && (rc = cmd->extra(ctx, opts, argc, argv, &i)) != CLI_OPT_UNKNOWN) {
			if (rc != CLI_EXIT_OK)
				return rc;
			continue;
		}
		cli_error(ctx, "%s: unknown option '%s' (see 'agora %s --help')", cmd->name, a,
		          cmd->name);
		return CLI_EXIT_USAGE;
	}
	if (n < cmd->min_args)
		return cli_opt_usage(ctx, cmd);
	for (size_t g = 0; g < 3 && cmd->groups[g].opts; g++)
		for (const struct cli_opt *o = cmd->groups[g].opts; o->name; o++)
			if (o->required &&
			    !*(const char **)((char *)opts + cmd->groups[g].base + o->offset))
				return cli_opt_usage(ctx, cmd);
	*n_args = n;
	return CLI_EXIT_OK;
}

/* --------------------------------------------------------------- help */

void cli_opt_usage_lines(FILE *f, const struct cli_command *cmd, bool first)
{
	const char *s = cmd->usage;

	for (bool head = first; *s; head = false) {
		size_t n = strcspn(s, "\n");
		fprintf(f, "%s%.*s\n", head ? "usage: agora " : "       agora ", (int)n, s);
		s += n + (s[n] == '\n');
	}
}

int cli_opt_usage(struct cli_ctx *ctx, const struct cli_command *cmd)
{
	cli_error(ctx, "usage: agora %.*s", (int)strcspn(cmd->usage, "\n"), cmd->usage);
	return CLI_EXIT_USAGE;
}

/* Text indented by `indent` after each newline it holds. */
static void put_indented(FILE *f, const char *s, int indent)
{
	for (; *s; s++) {
		fputc(*s, f);
		if (*s == '\n' && s[1])
			fprintf(f, "%*s", indent, "");
	}
}

static void put_opt(FILE *f, const char *left, const char *help)
{
	int n = fprintf(f, "  %s", left);
	if (n > HELP_COL - 1) {
		fputc('\n', f);
		n = 0;
	}
	fprintf(f, "%*s", HELP_COL - n, "");
	put_indented(f, help, HELP_COL);
	fputc('\n', f);
}

void cli_opt_help(FILE *f, const struct cli_command *cmd, const void *opts)
{
	cli_opt_usage_lines(f, cmd, true);
	if (cmd->about)
		fprintf(f, "\n%s", cmd->about);
	for (size_t g = 0; g < 3 && cmd->groups[g].opts; g++) {
		fprintf(f, "\n%s:\n", cmd->groups[g].title);
		for (const struct cli_opt *o = cmd->groups[g].opts; o->name; o++) {
			char left[96];
			size_t base;
			const char *v;
			if (find(cmd, o->name, &base, &v) != o)
				continue;   /* an earlier group's option of that name takes it */
			snprintf(left, sizeof(left), "%s%s%s%s%s", o->name, o->alias ? ", " : "",
			         o->alias ? o->alias : "", o->arg ? " " : "", o->arg ? o->arg : "");
			put_opt(f, left, o->help);
		}
		if (g == 0)
			put_opt(f, "-h, --help", "print this help");
	}
	if (!cmd->groups[0].opts) {
		fprintf(f, "\noptions:\n");
		put_opt(f, "-h, --help", "print this help");
	}
	if (cmd->extra_help) {
		fputc('\n', f);
		cmd->extra_help(f, opts);
	}
	if (cmd->more)
		fprintf(f, "\n%s", cmd->more);
}

/* --------------------------------------------------------- value types */

int cli_opt_year(struct cli_ctx *ctx, const char *opt, const char *val, void *field)
{
	char *end;
	unsigned long y;

	errno = 0;
	y = strtoul(val, &end, 10);
	if (errno || end == val || *end || y < PROTO_YEAR_MIN || y > PROTO_YEAR_MAX ||
	    val[0] == '-' || val[0] == '+' || val[0] == ' ') {
		cli_error(ctx, "%s: '%s' is not a year between %d and %d", opt, val,
		          PROTO_YEAR_MIN, PROTO_YEAR_MAX);
		return CLI_EXIT_USAGE;
	}
	*(unsigned *)field = (unsigned)y;
	return CLI_EXIT_OK;
}

/* -------------------------------------------------------- record fields */

int cli_opt_fields(struct cli_ctx *ctx, struct fields *f, int argc, char **argv, int *i)
{
	int rc = fields_arg(f, argc, argv, i);

	if (rc == FIELDS_E_UNKNOWN)
		return CLI_OPT_UNKNOWN;
	if (rc < 0) {
		cli_error(ctx, "%s", f->err);
		return rc == FIELDS_E_VALUE ? CLI_EXIT_INPUT : rc == -ENOMEM ? CLI_EXIT_ERROR
		                                                               : CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------- groups */

void cli_group_help(FILE *f, const struct cli_group *g)
{
	for (const struct cli_sub *s = g->subs; s->name; s++)
		cli_opt_usage_lines(f, s->cmd, s == g->subs);
	if (g->about)
		fprintf(f, "\n%s", g->about);
	fprintf(f, "\n'agora %s SUBCOMMAND --help' describes one.\n", g->name);
}

int cli_group_run(struct cli_ctx *ctx, const struct cli_group *g, int argc, char **argv)
{
	char names[256];
	size_t used = 0;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		cli_group_help(stdout, g);
		return CLI_EXIT_OK;
	}
	for (const struct cli_sub *s = g->subs; argc >= 2 && s->name; s++)
		if (!strcmp(argv[1], s->name))
			return s->run(ctx, argc, argv);
	names[0] = '\0';
	for (const struct cli_sub *s = g->subs; s->name; s++) {
		int k = snprintf(names + used, sizeof(names) - used, "%s%s",
		                 s == g->subs ? "" : (s[1].name ? ", " : " or "), s->name);
		if (k < 0 || (size_t)k >= sizeof(names) - used)
			break;
		used += (size_t)k;
	}
	if (argc < 2)
		cli_error(ctx, "%s: say %s (see 'agora %s --help')", g->name, names, g->name);
	else
		cli_error(ctx, "%s: '%s' is not %s (see 'agora %s --help')", g->name, argv[1], names,
		          g->name);
	return CLI_EXIT_USAGE;
}
