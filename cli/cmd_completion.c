/*
 * cmd_completion.c - `agora completion bash|zsh` (hidden): print a shell
 * completion script for every command, subcommand and option.
 *
 * The script is not written by hand, so it cannot drift from the tool: each
 * command's --help, which opt.c prints from the command's own option tables
 * (and fields.c from the record schema, for publish KIND and init's profile
 * flags), is run in this process with standard output caught in a temporary
 * file, and its option lines are read back.  A group's help (alliance,
 * bundle, peer) and a command with a second form (endpoint set) name their
 * subcommands in their usage lines; publish names its kinds in "KIND is one
 * of: ...".  Each of those is asked for its own --help in turn.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_int.h"
#include "cli/cmds_int.h"

#define WORD_MAX 64
#define WORDS_MAX 160

/* One word list: option names, or subcommand names. */
struct words {
	char w[WORDS_MAX][WORD_MAX];
	size_t n;
};

/* What one command line's help said. */
struct topic {
	char key[2 * WORD_MAX];      /* "query", "alliance create", "publish measure" */
	struct words opts;           /* every option, "--json", "-o" */
	struct words file_opts;      /* those taking FILE or DIR (complete paths) */
	struct words subs;           /* its subcommands or kinds, if any */
};

struct completion {
	struct topic *t;
	size_t n, cap;
};

static void words_add(struct words *ws, const char *w, size_t len)
{
	if (!len || len >= WORD_MAX || ws->n == WORDS_MAX)
		return;
	for (size_t i = 0; i < ws->n; i++)
		if (strlen(ws->w[i]) == len && !strncmp(ws->w[i], w, len))
			return;
	memcpy(ws->w[ws->n], w, len);
	ws->w[ws->n++][len] = '\0';
}

/*
 * Run fn(argv) with standard output caught; *out (malloc()ed, NUL-ended,
 * the caller frees) gets what it printed.  0 or -errno.
 */
static int capture(struct cli_ctx *ctx, int (*fn)(struct cli_ctx *, int, char **), int argc,
                   char **argv, char **out)
{
	FILE *tmp = tmpfile();
	char *buf = NULL;
	long len;
	int saved = -1, rc = -EIO;

	if (!tmp)
		return -errno;
	fflush(stdout);
	if ((saved = dup(STDOUT_FILENO)) < 0 || dup2(fileno(tmp), STDOUT_FILENO) < 0)
		goto out;
	(void)fn(ctx, argc, argv);
	fflush(stdout);
	if (dup2(saved, STDOUT_FILENO) < 0)
		goto out;
	if (fseek(tmp, 0, SEEK_END) || (len = ftell(tmp)) < 0 || fseek(tmp, 0, SEEK_SET))
		goto out;
	if (!(buf = malloc((size_t)len + 1))) {
		rc = -ENOMEM;
		goto out;
	}
	if (fread(buf, 1, (size_t)len, tmp) != (size_t)len)
		goto out;
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
	rc = 0;
out:
	if (saved >= 0)
		close(saved);
	free(buf);
	fclose(tmp);
	return rc;
}

static bool is_name_char(char c)
{
	return islower((unsigned char)c) || isdigit((unsigned char)c) || c == '-';
}

/*
 * The options of one help text: every line that starts with spaces and a
 * '-' is an option line ("  --alliance NAME|ID   the alliance", "  -o,
 * --output FILE", "  --mitigation[=true|false], --no-mitigation"); its
 * left column (up to two spaces in a row) holds the names.
 */
static void read_options(struct topic *t, const char *help)
{
	for (const char *l = help; *l; l += strcspn(l, "\n"), l += *l == '\n') {
		const char *p = l, *end;
		bool file = false;

		while (*p == ' ')
			p++;
		if (p == l || *p != '-')
			continue;
		end = strstr(p, "  ");
		if (!end || end > p + strcspn(p, "\n"))
			end = p + strcspn(p, "\n");
		for (const char *q = p; q + 3 <= end; q++)
			if ((q + 4 <= end && !strncmp(q, "FILE", 4)) || !strncmp(q, "DIR", 3))
				file = true;
		while (p < end) {
			const char *s = p;
			if (*p == '-' && (p == l || p[-1] == ' ') && p + 1 < end) {
				s = p + 1 + (p[1] == '-');
				const char *e = s;
				while (e < end && is_name_char(*e))
					e++;
				if (e > s && isalpha((unsigned char)*s)) {
					words_add(&t->opts, p, (size_t)(e - p));
					if (file)
						words_add(&t->file_opts, p, (size_t)(e - p));
				}
				p = e;
				continue;
			}
			p++;
		}
	}
}

/*
 * Subcommands: in usage lines "agora CMD WORD ..." where WORD is a lower-case
 * name (not a placeholder, not "[...]" nor an option); and the kinds of
 * "KIND is one of: a, b, c." (publish).
 */
static void read_subs(struct topic *t, const char *cmd, const char *help)
{
	size_t cl = strlen(cmd);
	const char *k;

	for (const char *l = help; *l; l += strcspn(l, "\n"), l += *l == '\n') {
		const char *p = l;
		if (!strncmp(p, "usage: ", 7))
			p += 7;
		while (*p == ' ')
			p++;
		if (strncmp(p, "agora ", 6) || strncmp(p + 6, cmd, cl) || p[6 + cl] != ' ')
			continue;
		p += 6 + cl + 1;
		size_t n = 0;
		while (is_name_char(p[n]))
			n++;
		if (n && islower((unsigned char)p[0]) && (p[n] == ' ' || p[n] == '\n' || !p[n]))
			words_add(&t->subs, p, n);
	}
	if ((k = strstr(help, "KIND is one of:"))) {
		const char *p = k + 15, *end = strchr(p, '.');
		while (end && p < end) {
			while (p < end && !islower((unsigned char)*p))
				p++;
			size_t n = 0;
			while (p + n < end && (islower((unsigned char)p[n]) || p[n] == '_'))
				n++;
			words_add(&t->subs, p, n);
			p += n;
		}
	}
}

static struct topic *topic_new(struct completion *c, const char *key)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		struct topic *t = realloc(c->t, cap * sizeof(*t));
		if (!t)
			return NULL;
		c->t = t;
		c->cap = cap;
	}
	memset(&c->t[c->n], 0, sizeof(c->t[0]));
	snprintf(c->t[c->n].key, sizeof(c->t[0].key), "%s", key);
	return &c->t[c->n++];
}

/* Ask cmd (and sub, when not NULL) for its help and record what it says;
 * then each subcommand it names, one level down. */
static int learn(struct cli_ctx *ctx, struct completion *c, const struct cli_cmd_entry *e,
                 const char *sub)
{
	char key[2 * WORD_MAX], *help = NULL;
	char *argv[4] = { (char *)e->name, (char *)(sub ? sub : "--help"), "--help", NULL };
	struct topic *t;
	size_t idx;
	int rc;

	snprintf(key, sizeof(key), "%s%s%s", e->name, sub ? " " : "", sub ? sub : "");
	if ((rc = capture(ctx, e->fn, sub ? 3 : 2, argv, &help)) < 0)
		return rc;
	if (!(t = topic_new(c, key))) {
		free(help);
		return -ENOMEM;
	}
	idx = (size_t)(t - c->t);
	read_options(t, help);
	if (!sub)
		read_subs(t, e->name, help);
	free(help);
	for (size_t i = 0; !sub && i < c->t[idx].subs.n; i++) {
		char name[WORD_MAX];
		snprintf(name, sizeof(name), "%s", c->t[idx].subs.w[i]);
		if ((rc = learn(ctx, c, e, name)) < 0)
			return rc;
	}
	return 0;
}

static void put_words(FILE *f, const struct words *ws)
{
	for (size_t i = 0; i < ws->n; i++)
		fprintf(f, "%s%s", i ? " " : "", ws->w[i]);
}

/* The parts bash and zsh share (POSIX case syntax works in both). */
static void put_tables(FILE *f, const struct completion *c)
{
	fputs("_agora_commands='", f);
	for (size_t i = 0; i < cli_n_commands; i++)
		fprintf(f, "%s%s", i ? " " : "", cli_commands[i].name);
	fputs("'\n_agora_global_opts='--home --help --version'\n\n", f);
	fputs("# Options of a command line: \"cmd\" or \"cmd sub\".\n_agora_opts() {\n"
	      "  case \"$1\" in\n", f);
	for (size_t i = 0; i < c->n; i++) {
		fprintf(f, "    '%s') _agora_r='", c->t[i].key);
		put_words(f, &c->t[i].opts);
		fputs("' ;;\n", f);
	}
	fputs("    *) _agora_r='--help' ;;\n  esac\n}\n\n", f);
	fputs("# Options whose value is a file or a directory.\n_agora_file_opts() {\n"
	      "  case \"$1\" in\n", f);
	for (size_t i = 0; i < c->n; i++) {
		if (!c->t[i].file_opts.n)
			continue;
		fprintf(f, "    '%s') _agora_r='", c->t[i].key);
		put_words(f, &c->t[i].file_opts);
		fputs("' ;;\n", f);
	}
	fputs("    *) _agora_r='' ;;\n  esac\n}\n\n", f);
	fputs("# Subcommands (or publish's kinds) of a command.\n_agora_subs() {\n"
	      "  case \"$1\" in\n", f);
	for (size_t i = 0; i < c->n; i++) {
		if (!c->t[i].subs.n)
			continue;
		fprintf(f, "    '%s') _agora_r='", c->t[i].key);
		put_words(f, &c->t[i].subs);
		fputs("' ;;\n", f);
	}
	fputs("    *) _agora_r='' ;;\n  esac\n}\n\n", f);
	/* cmd and sub of the words typed so far, skipping --home DIR. */
	fputs("# _agora_parse WORD...: the command and subcommand among the words typed.\n"
	      "_agora_parse() {\n"
	      "  _agora_cmd='' _agora_sub='' _agora_skip=0\n"
	      "  for _agora_w in \"$@\"; do\n"
	      "    if [ \"$_agora_skip\" = 1 ]; then _agora_skip=0; continue; fi\n"
	      "    case \"$_agora_w\" in\n"
	      "      --home) _agora_skip=1 ;;\n"
	      "      -*) ;;\n"
	      "      *) if [ -z \"$_agora_cmd\" ]; then _agora_cmd=$_agora_w\n"
	      "         elif [ -z \"$_agora_sub\" ]; then\n"
	      "           _agora_subs \"$_agora_cmd\"\n"
	      "           case \" $_agora_r \" in *\" $_agora_w \"*) _agora_sub=$_agora_w ;; esac\n"
	      "           [ -n \"$_agora_sub\" ] || _agora_sub=-\n"
	      "         fi ;;\n"
	      "    esac\n"
	      "  done\n"
	      "  [ \"$_agora_sub\" = - ] && _agora_sub=''\n"
	      "  _agora_key=$_agora_cmd${_agora_sub:+ $_agora_sub}\n"
	      "}\n\n", f);
}

static void put_bash(FILE *f, const struct completion *c)
{
	fputs("# bash completion for agora and agorad (generated by `agora completion bash`)\n"
	      "# shellcheck shell=bash\n\n", f);
	put_tables(f, c);
	fputs("_agora() {\n"
	      "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	      "  _agora_parse \"${COMP_WORDS[@]:1:COMP_CWORD-1}\"\n"
	      "  if [ \"$prev\" = --home ]; then\n"
	      "    mapfile -t COMPREPLY < <(compgen -d -- \"$cur\"); return\n"
	      "  fi\n"
	      "  if [ -n \"$_agora_cmd\" ]; then\n"
	      "    _agora_file_opts \"$_agora_key\"\n"
	      "    case \" $_agora_r \" in *\" $prev \"*)\n"
	      "      mapfile -t COMPREPLY < <(compgen -f -- \"$cur\"); return ;;\n"
	      "    esac\n"
	      "  fi\n"
	      "  if [ -z \"$_agora_cmd\" ]; then\n"
	      "    if [[ $cur == -* ]]; then _agora_r=$_agora_global_opts; else\n"
	      "      _agora_r=$_agora_commands; fi\n"
	      "  elif [[ $cur == -* ]]; then\n"
	      "    _agora_opts \"$_agora_key\"\n"
	      "  else\n"
	      "    _agora_r=''\n"
	      "    [ -z \"$_agora_sub\" ] && _agora_subs \"$_agora_cmd\"\n"
	      "    if [ -z \"$_agora_r\" ]; then\n"
	      "      mapfile -t COMPREPLY < <(compgen -f -- \"$cur\"); return\n"
	      "    fi\n"
	      "  fi\n"
	      "  mapfile -t COMPREPLY < <(compgen -W \"$_agora_r\" -- \"$cur\")\n"
	      "}\n"
	      "complete -F _agora agora\n"
	      "# agorad's few options, read from its own --help when asked.\n"
	      "if declare -F _longopt >/dev/null; then complete -F _longopt agorad; fi\n", f);
}

static void put_zsh(FILE *f, const struct completion *c)
{
	fputs("#compdef agora agorad\n"
	      "# zsh completion for agora and agorad (generated by `agora completion zsh`)\n\n",
	      f);
	put_tables(f, c);
	fputs("_agora() {\n"
	      "  local cur=${words[CURRENT]} prev=${words[CURRENT-1]}\n"
	      "  if [[ $service == agorad ]]; then _gnu_generic; return; fi\n"
	      "  _agora_parse \"${(@)words[2,CURRENT-1]}\"\n"
	      "  if [[ $prev == --home ]]; then _directories; return; fi\n"
	      "  if [[ -n $_agora_cmd ]]; then\n"
	      "    _agora_file_opts \"$_agora_key\"\n"
	      "    if [[ \" $_agora_r \" == *\" $prev \"* ]]; then _files; return; fi\n"
	      "  fi\n"
	      "  if [[ -z $_agora_cmd ]]; then\n"
	      "    if [[ $cur == -* ]]; then _agora_r=$_agora_global_opts; else\n"
	      "      _agora_r=$_agora_commands; fi\n"
	      "  elif [[ $cur == -* ]]; then\n"
	      "    _agora_opts \"$_agora_key\"\n"
	      "  else\n"
	      "    _agora_r=''\n"
	      "    [[ -z $_agora_sub ]] && _agora_subs \"$_agora_cmd\"\n"
	      "    if [[ -z $_agora_r ]]; then _files; return; fi\n"
	      "  fi\n"
	      "  compadd -- ${=_agora_r}\n"
	      "}\n"
	      "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _agora \"$@\"; "
	      "else compdef _agora agora agorad; fi\n", f);
}

int cli_cmd_completion(struct cli_ctx *ctx, int argc, char **argv)
{
	struct completion c = { 0 };
	bool bash = argc == 2 && !strcmp(argv[1], "bash");
	bool zsh = argc == 2 && !strcmp(argv[1], "zsh");
	int rc = 0;

	if (!bash && !zsh) {
		cli_error(ctx, "usage: agora completion bash|zsh");
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; rc == 0 && i < cli_n_commands; i++)
		if (cli_commands[i].fn)   /* `help` has none: it takes a command name */
			rc = learn(ctx, &c, &cli_commands[i], NULL);
	if (rc == 0) {
		if (bash)
			put_bash(stdout, &c);
		else
			put_zsh(stdout, &c);
	}
	free(c.t);
	if (rc < 0) {
		cli_error(ctx, "cannot build the completion script: %s", strerror(-rc));
		return CLI_EXIT_ERROR;
	}
	if (fflush(stdout) != 0) {
		cli_error(ctx, "cannot write the output");
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}
