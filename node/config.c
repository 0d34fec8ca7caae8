/*
 * config.c - agora.conf as agorad needs it.  The file is parsed by
 * storage's one parser (store_conf_parse, storage/conf.c), which the CLI
 * uses too; what only agorad knows is checked here: the log level's name,
 * and how many peers the node takes.  The result is copied into struct
 * node_config, which the node keeps by value.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node.h"
#include "storage/storage.h"

_Static_assert(NODE_HOST_MAX == STORE_CONF_HOST_MAX, "host buffers are copied whole");

int node_parse_hostport(char host[NODE_HOST_MAX], uint16_t *port, const char *s,
                        bool allow_zero)
{
	return store_conf_hostport(host, port, s, allow_zero) ? NODE_E_ADDRESS : 0;
}

static int config_error(struct node_config *cfg, const char *label, int line, const char *fmt,
                        const char *a)
{
	int n = snprintf(cfg->error, sizeof(cfg->error), "%s:%d: ", label, line);
	if (n > 0 && (size_t)n < sizeof(cfg->error))
		snprintf(cfg->error + n, sizeof(cfg->error) - (size_t)n, fmt, a);
	return NODE_E_CONFIG;
}

/* cfg (zeroed, error empty) from a parsed file. */
static int from_conf(struct node_config *cfg, const struct store_conf *c, const char *label)
{
	if (c->log_level && node_log_level_parse(&cfg->log_level, c->log_level))
		return config_error(cfg, label, c->log_level_line,
		                    "[node] log-level: '%s' is not error, warn, info or debug",
		                    c->log_level);
	cfg->has_log_level = c->log_level != NULL;
	if (c->n_peers && !(cfg->peers = calloc(c->n_peers, sizeof(*cfg->peers))))
		return -ENOMEM;
	snprintf(cfg->name, sizeof(cfg->name), "%s", c->name ? c->name : "");
	cfg->has_listen = c->has_listen;
	cfg->connections = c->connections;
	memcpy(cfg->listen_host, c->listen_host, sizeof(cfg->listen_host));
	cfg->listen_port = c->listen_port;
	for (size_t i = 0; i < c->n_peers; i++) {
		struct node_peer_conf *pc = &cfg->peers[i];
		memcpy(pc->key, c->peers[i].key, sizeof(pc->key));
		snprintf(pc->name, sizeof(pc->name), "%s", c->peers[i].name ? c->peers[i].name : "");
		memcpy(pc->host, c->peers[i].host, sizeof(pc->host));
		pc->port = c->peers[i].port;
		pc->bootstrap = c->peers[i].bootstrap;
		pc->line = c->peers[i].line;
	}
	cfg->n_peers = c->n_peers;
	cfg->attach_max_file = c->attach_max_file;
	cfg->attach_quota = c->attach_quota;
	if (c->n_hooks && !(cfg->hooks = calloc(c->n_hooks, sizeof(*cfg->hooks))))
		return -ENOMEM;
	for (size_t i = 0; i < c->n_hooks; i++) {
		struct node_hook_conf *h = &cfg->hooks[i];
		const struct store_conf_hook *ch = &c->hooks[i];
		char **words;
		size_t nw;
		if (strlen(ch->command) >= sizeof(h->command) ||
		    (ch->filter && strlen(ch->filter) >= sizeof(h->filter)))
			return config_error(cfg, label, ch->line, "[hook]: %s", "a command or filter "
			                    "longer than 1023 bytes");
		snprintf(h->command, sizeof(h->command), "%s", ch->command);
		snprintf(h->filter, sizeof(h->filter), "%s", ch->filter ? ch->filter : "");
		h->timeout_s = ch->timeout_s ? ch->timeout_s : NODE_HOOK_TIMEOUT_S;
		h->line = ch->line;
		/* an unclosed quote is the file's error, found when it is read */
		for (int k = 0; k < 2; k++) {
			int rc = node_hook_split(&words, &nw, k ? h->filter : h->command);
			if (rc == -ENOMEM)
				return rc;
			if (rc)
				return config_error(cfg, label, ch->line, "[hook] %s: an unclosed quote or "
				                    "a trailing backslash", k ? "filter" : "command");
			free(words);
		}
	}
	cfg->n_hooks = c->n_hooks;
	return 0;
}

static int finish(struct node_config *cfg, int rc, struct store_conf *c, const char *label)
{
	if (rc == 0) {
		rc = from_conf(cfg, c, label);
		store_conf_dispose(c);
	} else if (rc == STORE_E_CONF) {
		rc = NODE_E_CONFIG;
	}
	return rc;
}

int node_config_parse(struct node_config *cfg, const char *text, size_t len, const char *label)
{
	struct store_conf c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = NODE_LOG_INFO;
	return finish(cfg, store_conf_parse(&c, text, len, label, cfg->error, sizeof(cfg->error)),
	              &c, label);
}

void node_config_dispose(struct node_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->peers);
	cfg->peers = NULL;
	cfg->n_peers = 0;
	free(cfg->hooks);
	cfg->hooks = NULL;
	cfg->n_hooks = 0;
}

int node_config_load(struct node_config *cfg, const char *path)
{
	struct store_conf c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = NODE_LOG_INFO;
	return finish(cfg, store_conf_load(&c, path, cfg->error, sizeof(cfg->error)), &c, path);
}
