/*
 * cmd_peer.c - `agora peer add|list|remove`: the [peer] sections of
 * agora.conf, through storage's parser and editor (store_conf_*).  A
 * running agorad is told to re-read the file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/control_int.h"
#include "cli/home_int.h"
#include "cli/opt_int.h"

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

int cli_peer_add(struct cli_ctx *ctx, const char *addr, const char *keyhex, const char *name,
                 bool bootstrap)
{
	char host[STORE_CONF_HOST_MAX], lower[PROTO_KEY_BYTES * 2 + 1];
	uint8_t key[PROTO_KEY_BYTES];
	struct store_conf_edit *e = NULL;
	uint16_t port;
	bool replaced = false;
	int ret, rc;

	if (store_conf_hostport(host, &port, addr, false) ||
	    store_conf_check_value("address", addr)) {
		cli_error(ctx, "'%s' is not HOST:PORT (e.g. agora.assens.dk:7420)", addr);
		return CLI_EXIT_USAGE;
	}
	if (strlen(keyhex) != 64 || proto_unhex(key, 32, keyhex)) {
		cli_error(ctx, "'%s' is not a public key (64 hex digits, see `agora whoami`)", keyhex);
		return CLI_EXIT_USAGE;
	}
	if (name && (strpbrk(name, "#;") || strlen(name) > 63 ||
	             store_conf_check_value("name", name))) {
		cli_error(ctx, "--name must be one line of at most 63 characters without # or ;");
		return CLI_EXIT_USAGE;
	}
	proto_hex(lower, key, 32);
	if ((ret = cli_conf_edit(ctx, &e)) != CLI_EXIT_OK)
		return ret;
	if ((rc = store_conf_edit_peer_put(e, key, addr, name, &replaced))) {
		cli_error(ctx, "cannot add the peer: %s", strerror(-rc));
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	/* `add` never rewrites a peer: the edit is dropped unsaved. */
	if (replaced) {
		cli_error(ctx, "peer %s is already in agora.conf (remove it first)", lower);
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if (bootstrap && (rc = store_conf_edit_peer_set(e, key, "bootstrap", "yes"))) {
		cli_error(ctx, "cannot add the peer: %s", store_strerror(rc));
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	if ((ret = cli_conf_save(ctx, e, 0)) != CLI_EXIT_OK)
		goto out;
	printf("added peer %s at %s; ", lower, addr);
	tell_node(ctx);
out:
	store_conf_edit_free(e);
	return ret;
}

struct add_opts {
	const char *name;
};

static const struct cli_opt add_opts[] = {
	CLI_STR("--name", "NAME", "shown by `agora status` and in agorad's log",
	        struct add_opts, name),
	CLI_OPT_END,
};

static const struct cli_command add_cmd = {
	.name = "peer add",
	.usage = "peer add HOST:PORT KEY [--name NAME]",
	.about = "Add a partner node to agora.conf: agorad dials HOST:PORT and accepts\n"
	         "only KEY there.  KEY is the partner's public key (`agora whoami` on\n"
	         "their node).\n",
	.groups = { { "options", add_opts, 0 } },
	.min_args = 2,
	.max_args = 2,
};

static int peer_add(struct cli_ctx *ctx, int argc, char **argv)
{
	struct add_opts o = { 0 };
	const char *args[2];
	size_t n_args;
	int rc = cli_opt_parse(ctx, &add_cmd, argc, argv, 2, &o, args, &n_args);

	return rc == CLI_EXIT_OK ? cli_peer_add(ctx, args[0], args[1], o.name, false) : cli_opt_status(rc);
}

static const struct cli_command list_cmd = {
	.name = "peer list",
	.usage = "peer list",
	.about = "The partner nodes in agora.conf: key, address (or \"accept only\"), name.\n",
};

static int peer_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct store_conf c;
	size_t n_args;
	int ret;

	if ((ret = cli_opt_parse(ctx, &list_cmd, argc, argv, 2, NULL, NULL, &n_args)) != CLI_EXIT_OK)
		return cli_opt_status(ret);
	if ((ret = cli_conf_load(ctx, &c)) != CLI_EXIT_OK)
		return ret;
	for (size_t i = 0; i < c.n_peers; i++) {
		char hex[PROTO_KEY_BYTES * 2 + 1];
		proto_hex(hex, c.peers[i].key, PROTO_KEY_BYTES);
		printf("%-64s  %-24s %s\n", hex, c.peers[i].address ? c.peers[i].address
		                                                     : "(accept only)",
		       c.peers[i].name ? c.peers[i].name : "");
	}
	if (!c.n_peers)
		cli_say_empty(ctx, "no peers: add one with `agora peer add HOST:PORT KEY`");
	store_conf_dispose(&c);
	return CLI_EXIT_OK;
}

static const struct cli_command remove_cmd = {
	.name = "peer remove",
	.usage = "peer remove KEY",
	.about = "Remove the partner node with this key from agora.conf.\n",
	.min_args = 1,
	.max_args = 1,
};

static int peer_remove(struct cli_ctx *ctx, int argc, char **argv)
{
	struct store_conf_edit *e = NULL;
	uint8_t key[PROTO_KEY_BYTES];
	const char *keyhex;
	size_t n_args;
	int ret, rc = 0;

	if ((ret = cli_opt_parse(ctx, &remove_cmd, argc, argv, 2, NULL, &keyhex, &n_args)) !=
	    CLI_EXIT_OK)
		return cli_opt_status(ret);
	if ((ret = cli_conf_edit(ctx, &e)) != CLI_EXIT_OK)
		return ret;
	if (strlen(keyhex) != PROTO_KEY_BYTES * 2 || proto_unhex(key, sizeof(key), keyhex) ||
	    (rc = store_conf_edit_peer_remove(e, key)) == STORE_E_NOTFOUND) {
		cli_error(ctx, "no peer with key %s in agora.conf (see `agora peer list`)", keyhex);
		ret = CLI_EXIT_NOTFOUND;
		goto out;
	}
	if (rc) {
		cli_error(ctx, "cannot remove the peer: %s", store_strerror(rc));
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	if ((ret = cli_conf_save(ctx, e, 0)) != CLI_EXIT_OK)
		goto out;
	printf("removed peer %s; ", keyhex);
	tell_node(ctx);
out:
	store_conf_edit_free(e);
	return ret;
}

static const struct cli_sub peer_subs[] = {
	{ "add", peer_add, &add_cmd },
	{ "list", peer_list, &list_cmd },
	{ "remove", peer_remove, &remove_cmd },
	{ NULL, NULL, NULL },
};

static const struct cli_group peer_group = {
	.name = "peer",
	.about = "Edit the [peer] sections of agora.conf: the partner nodes agorad\n"
	         "dials and accepts.  KEY is the partner's public key (`agora whoami`\n"
	         "on their node).  A running agorad picks up the change at once\n"
	         "(as it does on SIGHUP).\n",
	.subs = peer_subs,
};

int cli_cmd_peer(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_group_run(ctx, &peer_group, argc, argv);
}
