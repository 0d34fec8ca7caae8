/*
 * config.c - agora.conf for agorad, through libinih.
 *
 * inih does not tell a handler where a section starts, and [peer] repeats,
 * so the reader callback below watches the lines go by: it counts lines
 * (for error messages) and notices each "[peer]" header.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "node/node.h"
#include "proto/proto.h"

struct parse {
	struct node_config *cfg;
	const char *label;
	const char *text;
	size_t len, pos;
	int line;
	bool new_peer;            /* a [peer] header was just read */
	int header_line;          /* its line */
	struct node_peer_conf *peer;
	bool peer_has_key;
	bool failed;
};

static void fail(struct parse *p, const char *fmt, const char *a, const char *b)
{
	if (p->failed)
		return;
	p->failed = true;
	int n = snprintf(p->cfg->error, sizeof(p->cfg->error), "%s:%d: ", p->label, p->line);
	if (n > 0 && (size_t)n < sizeof(p->cfg->error))
		snprintf(p->cfg->error + n, sizeof(p->cfg->error) - (size_t)n, fmt, a, b);
}

static char *reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	size_t i = 0;

	if (p->pos >= p->len || num < 2)
		return NULL;
	while (p->pos < p->len && i + 1 < (size_t)num) {
		char c = p->text[p->pos++];
		str[i++] = c;
		if (c == '\n')
			break;
	}
	str[i] = '\0';
	p->line++;
	const char *s = str;
	while (isspace((unsigned char)*s))
		s++;
	if (!strncmp(s, "[peer]", 6)) {
		p->new_peer = true;
		p->header_line = p->line;
	}
	return str;
}

int node_parse_hostport(char host[NODE_HOST_MAX], uint16_t *port, const char *s,
                        bool allow_zero)
{
	const char *colon;
	size_t hl;
	char *end;
	long v;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return NODE_E_ADDRESS;
		hl = (size_t)(close - s - 1);
		s++;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return NODE_E_ADDRESS;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= NODE_HOST_MAX)
		return NODE_E_ADDRESS;
	for (size_t i = 0; i < hl; i++)
		if (isspace((unsigned char)s[i]) || (unsigned char)s[i] < 0x21)
			return NODE_E_ADDRESS;
	if (!isdigit((unsigned char)colon[1]))
		return NODE_E_ADDRESS;
	errno = 0;
	v = strtol(colon + 1, &end, 10);
	if (errno || *end || v < (allow_zero ? 0 : 1) || v > 65535)
		return NODE_E_ADDRESS;
	memcpy(host, s, hl);
	host[hl] = '\0';
	*port = (uint16_t)v;
	return 0;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	struct node_config *c = p->cfg;

	if (!strcmp(section, "node")) {
		if (!strcmp(name, "name")) {
			snprintf(c->name, sizeof(c->name), "%s", value);
		} else if (!strcmp(name, "country") || !strcmp(name, "key")) {
			/* written by `agora init`; the CLI reads them */
		} else if (!strcmp(name, "listen")) {
			if (node_parse_hostport(c->listen_host, &c->listen_port, value, true)) {
				fail(p, "[node] listen: '%s' is not ADDRESS:PORT%s", value, "");
				return 0;
			}
			c->has_listen = true;
		} else if (!strcmp(name, "log-level")) {
			if (node_log_level_parse(&c->log_level, value)) {
				fail(p, "[node] log-level: '%s' is not error, warn, info or debug%s",
				     value, "");
				return 0;
			}
			c->has_log_level = true;
		} else {
			fail(p, "[node] has no key '%s'%s", name, "");
			return 0;
		}
		return 1;
	}
	if (!strcmp(section, "profile"))
		return 1;   /* the municipality's profile: checked by the CLI */
	if (!strcmp(section, "peer")) {
		if (p->new_peer) {
			if (c->n_peers >= NODE_PEERS_MAX) {
				fail(p, "too many [peer] sections (at most 256)%s%s", "", "");
				return 0;
			}
			p->peer = &c->peers[c->n_peers++];
			memset(p->peer, 0, sizeof(*p->peer));
			p->peer->line = p->header_line;
			p->new_peer = false;
		}
		struct node_peer_conf *pc = p->peer;
		if (!strcmp(name, "address")) {
			if (node_parse_hostport(pc->host, &pc->port, value, false)) {
				fail(p, "[peer] address: '%s' is not HOST:PORT%s", value, "");
				return 0;
			}
		} else if (!strcmp(name, "key")) {
			if (strlen(value) != 64 || proto_unhex(pc->key, 32, value)) {
				fail(p, "[peer] key: '%s' is not a 64-digit hex public key%s", value, "");
				return 0;
			}
			for (size_t i = 0; i + 1 < c->n_peers; i++)
				if (!memcmp(c->peers[i].key, pc->key, 32)) {
					fail(p, "[peer] key: %s is listed twice%s", value, "");
					return 0;
				}
			pc->line = -pc->line;   /* negative: key seen (restored below) */
		} else if (!strcmp(name, "name")) {
			snprintf(pc->name, sizeof(pc->name), "%s", value);
		} else {
			fail(p, "[peer] has no key '%s'%s", name, "");
			return 0;
		}
		return 1;
	}
	fail(p, "unknown section [%s]%s", section, "");
	return 0;
}

int node_config_parse(struct node_config *cfg, const char *text, size_t len, const char *label)
{
	struct parse p = { .cfg = cfg, .label = label, .text = text, .len = len };
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = NODE_LOG_INFO;
	rc = ini_parse_stream(reader, &p, handler, &p);
	if (rc != 0 && !p.failed) {
		p.line = rc;
		fail(&p, "not a valid INI line%s%s", "", "");
	}
	if (!p.failed) {
		for (size_t i = 0; i < cfg->n_peers; i++) {
			if (cfg->peers[i].line > 0) {
				p.line = cfg->peers[i].line;
				fail(&p, "[peer] needs key = <64 hex digits>%s%s", "", "");
				break;
			}
			cfg->peers[i].line = -cfg->peers[i].line;
		}
	}
	return p.failed ? NODE_E_CONFIG : 0;
}

int node_config_load(struct node_config *cfg, const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t cap = 0, len = 0;
	int rc;

	if (!f) {
		if (errno == ENOENT) {
			memset(cfg, 0, sizeof(*cfg));
			cfg->log_level = NODE_LOG_INFO;
			return 0;
		}
		rc = -errno;
		memset(cfg, 0, sizeof(*cfg));
		snprintf(cfg->error, sizeof(cfg->error), "%s: %s", path, strerror(-rc));
		return rc;
	}
	for (;;) {
		if (len + 4096 > cap) {
			char *t = realloc(text, cap = cap ? cap * 2 : 8192);
			if (!t) {
				free(text);
				fclose(f);
				return -ENOMEM;
			}
			text = t;
		}
		size_t got = fread(text + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
		if (len > (1u << 20)) {
			free(text);
			fclose(f);
			snprintf(cfg->error, sizeof(cfg->error), "%s: larger than 1 MiB", path);
			return NODE_E_CONFIG;
		}
	}
	fclose(f);
	rc = node_config_parse(cfg, text ? text : "", len, path);
	free(text);
	return rc;
}
