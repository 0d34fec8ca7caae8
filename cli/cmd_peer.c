/*
 * cmd_peer.c - `agora peer add|list|remove`: the [peer] sections of
 * agora.conf.  agorad reads them when it starts.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/control.h"

/* Ask a running agorad to re-read agora.conf; say what happened. */
static void tell_node(struct cli_ctx *ctx)
{
	Agora__Control__Request req = AGORA__CONTROL__REQUEST__INIT;
	Agora__Control__ReloadReq rr = AGORA__CONTROL__RELOAD_REQ__INIT;
	Agora__Control__Response *resp = NULL;

	req.req_case = AGORA__CONTROL__REQUEST__REQ_RELOAD;
	req.reload = &rr;
	if (cli_control_call(ctx, &req, &resp) != 0) {
		printf("agorad reads it when it starts\n");
		return;
	}
	if (resp->code)
		cli_error(ctx, "the running agorad kept its old peers: %s",
		          resp->error ? resp->error : "reload failed");
	else
		printf("the running agorad has the new peer list\n");
	agora__control__response__free_unpacked(resp, NULL);
}

struct peer_entry {
	char key[65], address[300], name[128];
};

struct conf_text {
	char *text;
	size_t len;
};

static int conf_path(struct cli_ctx *ctx, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/agora.conf", ctx->home);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int conf_read(const char *path, struct conf_text *c)
{
	FILE *f = fopen(path, "re");
	size_t cap = 0;
	memset(c, 0, sizeof(*c));
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	for (;;) {
		if (c->len + 4096 + 1 > cap) {
			char *t = realloc(c->text, cap = cap ? cap * 2 : 8192);
			if (!t) {
				fclose(f);
				return -ENOMEM;
			}
			c->text = t;
		}
		size_t got = fread(c->text + c->len, 1, cap - c->len - 1, f);
		c->len += got;
		if (!got)
			break;
	}
	fclose(f);
	c->text[c->len] = '\0';
	return 0;
}

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	while (isspace((unsigned char)s[i]))
		i++;
	memmove(s, s + i, n - i + 1);
}

/*
 * Walk the lines: cb gets every [peer] section as (start, end) offsets of
 * its text and its parsed entry.
 */
typedef void (*section_cb)(size_t start, size_t end, const struct peer_entry *e, void *ctx);

static void walk(const struct conf_text *c, section_cb cb, void *ctx)
{
	size_t pos = 0, start = 0;
	bool in_peer = false;
	struct peer_entry e;
	char line[1024];

	while (pos <= c->len) {
		size_t eol = pos;
		while (eol < c->len && c->text[eol] != '\n')
			eol++;
		size_t l = eol - pos < sizeof(line) - 1 ? eol - pos : sizeof(line) - 1;
		memcpy(line, c->text ? c->text + pos : "", l);
		line[l] = '\0';
		trim(line);
		if (line[0] == '[' || pos >= c->len) {
			if (in_peer)
				cb(start, pos, &e, ctx);
			in_peer = !strncmp(line, "[peer]", 6);
			if (in_peer) {
				memset(&e, 0, sizeof(e));
				start = pos;
			}
		} else if (in_peer && line[0] != '#' && line[0] != ';') {
			char *eq = strchr(line, '=');
			if (eq) {
				*eq = '\0';
				char *k = line, *v = eq + 1;
				trim(k);
				trim(v);
				if (!strcmp(k, "key"))
					snprintf(e.key, sizeof(e.key), "%s", v);
				else if (!strcmp(k, "address"))
					snprintf(e.address, sizeof(e.address), "%s", v);
				else if (!strcmp(k, "name"))
					snprintf(e.name, sizeof(e.name), "%s", v);
			}
		}
		if (pos >= c->len)
			break;
		pos = eol + 1;
	}
}

static int conf_write(struct cli_ctx *ctx, const char *path, const char *a, size_t alen,
                      const char *b, size_t blen)
{
	char tmp[4300];
	int fd;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		cli_error(ctx, "cannot write %s: %s", tmp, strerror(errno));
		return CLI_EXIT_ERROR;
	}
	if ((alen && write(fd, a, alen) != (ssize_t)alen) ||
	    (blen && write(fd, b, blen) != (ssize_t)blen) || fsync(fd) < 0) {
		cli_error(ctx, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return CLI_EXIT_ERROR;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		cli_error(ctx, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}

static bool valid_hostport(const char *s)
{
	const char *colon = s[0] == '[' ? strstr(s, "]:") : strrchr(s, ':');
	char *end;
	long port;
	if (!colon || colon == s)
		return false;
	if (s[0] == '[')
		colon++;
	else if (memchr(s, ':', (size_t)(colon - s)))
		return false;
	for (const char *p = s; p < colon; p++)
		if ((unsigned char)*p <= ' ' || *p == '#' || *p == ';')
			return false;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	return !errno && !*end && colon[1] && port >= 1 && port <= 65535;
}

struct find { const char *key; bool found; size_t start, end; };

static void find_cb(size_t start, size_t end, const struct peer_entry *e, void *ctx)
{
	struct find *f = ctx;
	if (!f->found && !strcasecmp(e->key, f->key)) {
		f->found = true;
		f->start = start;
		f->end = end;
	}
}

static int peer_add(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *addr = NULL, *keyhex = NULL, *name = NULL;
	char path[4200], section[1024], lower[65];
	uint8_t key[32];
	struct conf_text c;
	int rc;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1]) {
			cli_error(ctx, "peer add: unknown option '%s'", argv[i]);
			return CLI_EXIT_USAGE;
		} else if (!addr)
			addr = argv[i];
		else if (!keyhex)
			keyhex = argv[i];
		else {
			cli_error(ctx, "peer add: unexpected argument '%s'", argv[i]);
			return CLI_EXIT_USAGE;
		}
	}
	if (!addr || !keyhex) {
		cli_error(ctx, "usage: agora peer add HOST:PORT KEY [--name NAME]");
		return CLI_EXIT_USAGE;
	}
	if (!valid_hostport(addr)) {
		cli_error(ctx, "'%s' is not HOST:PORT (e.g. agora.assens.dk:7420)", addr);
		return CLI_EXIT_USAGE;
	}
	if (strlen(keyhex) != 64 || proto_unhex(key, 32, keyhex)) {
		cli_error(ctx, "'%s' is not a public key (64 hex digits, see `agora whoami`)", keyhex);
		return CLI_EXIT_USAGE;
	}
	if (name && (strpbrk(name, "\n\r#;") || strlen(name) > 63)) {
		cli_error(ctx, "--name must be one line of at most 63 characters without # or ;");
		return CLI_EXIT_USAGE;
	}
	proto_hex(lower, key, 32);
	if ((rc = conf_path(ctx, path, sizeof(path))) || (rc = conf_read(path, &c))) {
		cli_error(ctx, "cannot read %s/agora.conf: %s", ctx->home, strerror(-rc));
		return CLI_EXIT_ERROR;
	}
	struct find f = { .key = lower };
	walk(&c, find_cb, &f);
	if (f.found) {
		cli_error(ctx, "peer %s is already in agora.conf (remove it first)", lower);
		free(c.text);
		return CLI_EXIT_USAGE;
	}
	int n = snprintf(section, sizeof(section), "%s[peer]\naddress = %s\nkey = %s\n%s%s%s",
	                 c.len && c.text[c.len - 1] != '\n' ? "\n\n" : (c.len ? "\n" : ""), addr,
	                 lower, name ? "name = " : "", name ? name : "", name ? "\n" : "");
	rc = conf_write(ctx, path, c.text, c.len, section, (size_t)n);
	free(c.text);
	if (rc == CLI_EXIT_OK)
	{
		printf("added peer %s at %s; ", lower, addr);
		tell_node(ctx);
	}
	return rc;
}

static void list_cb(size_t start, size_t end, const struct peer_entry *e, void *ctx)
{
	int *count = ctx;
	(void)start;
	(void)end;
	printf("%-64s  %-24s %s\n", e->key, e->address[0] ? e->address : "(accept only)", e->name);
	(*count)++;
}

static int peer_list(struct cli_ctx *ctx)
{
	char path[4200];
	struct conf_text c;
	int rc, count = 0;
	if ((rc = conf_path(ctx, path, sizeof(path))) || (rc = conf_read(path, &c))) {
		cli_error(ctx, "cannot read %s/agora.conf: %s", ctx->home, strerror(-rc));
		return CLI_EXIT_ERROR;
	}
	walk(&c, list_cb, &count);
	if (!count)
		printf("no peers: add one with `agora peer add HOST:PORT KEY`\n");
	free(c.text);
	return CLI_EXIT_OK;
}

static int peer_remove(struct cli_ctx *ctx, int argc, char **argv)
{
	char path[4200];
	struct conf_text c;
	int rc;
	if (argc != 3) {
		cli_error(ctx, "usage: agora peer remove KEY");
		return CLI_EXIT_USAGE;
	}
	if ((rc = conf_path(ctx, path, sizeof(path))) || (rc = conf_read(path, &c))) {
		cli_error(ctx, "cannot read %s/agora.conf: %s", ctx->home, strerror(-rc));
		return CLI_EXIT_ERROR;
	}
	struct find f = { .key = argv[2] };
	walk(&c, find_cb, &f);
	if (!f.found) {
		cli_error(ctx, "no peer with key %s in agora.conf (see `agora peer list`)", argv[2]);
		free(c.text);
		return CLI_EXIT_NOTFOUND;
	}
	rc = conf_write(ctx, path, c.text, f.start, c.text + f.end, c.len - f.end);
	free(c.text);
	if (rc == CLI_EXIT_OK)
	{
		printf("removed peer %s; ", argv[2]);
		tell_node(ctx);
	}
	return rc;
}

int cli_cmd_peer(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		FILE *f = argc < 2 ? stderr : stdout;
		fprintf(f, "usage: agora peer add HOST:PORT KEY [--name NAME]\n"
		           "       agora peer list\n"
		           "       agora peer remove KEY\n\n"
		           "Edit the [peer] sections of agora.conf: the partner nodes agorad\n"
		           "dials and accepts.  KEY is the partner's public key (`agora whoami`\n"
		           "on their node).  A running agorad picks up the change at once\n"
		           "(as it does on SIGHUP).\n");
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "add"))
		return peer_add(ctx, argc, argv);
	if (!strcmp(argv[1], "list"))
		return peer_list(ctx);
	if (!strcmp(argv[1], "remove"))
		return peer_remove(ctx, argc, argv);
	cli_error(ctx, "peer: unknown subcommand '%s' (add, list, remove)", argv[1]);
	return CLI_EXIT_USAGE;
}
