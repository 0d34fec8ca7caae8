/*
 * cmd_peer.c - `agora peer add|list|remove`: the [peer] sections of
 * agora.conf, through storage's parser and editor (store_conf_*).  A
 * running agorad is told to re-read the file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/control.h"
#include "cli/home.h"

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

int cli_peer_add(struct cli_ctx *ctx, const char *addr, const char *keyhex, const char *name)
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
	if ((ret = cli_conf_save(ctx, e, 0)) != CLI_EXIT_OK)
		goto out;
	printf("added peer %s at %s; ", lower, addr);
	tell_node(ctx);
out:
	store_conf_edit_free(e);
	return ret;
}

static int peer_add(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *addr = NULL, *keyhex = NULL, *name = NULL;

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
	return cli_peer_add(ctx, addr, keyhex, name);
}

static int peer_list(struct cli_ctx *ctx)
{
	struct store_conf c;
	int ret;

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
		printf("no peers: add one with `agora peer add HOST:PORT KEY`\n");
	store_conf_dispose(&c);
	return CLI_EXIT_OK;
}

static int peer_remove(struct cli_ctx *ctx, int argc, char **argv)
{
	struct store_conf_edit *e = NULL;
	uint8_t key[PROTO_KEY_BYTES];
	int ret, rc;

	if (argc != 3) {
		cli_error(ctx, "usage: agora peer remove KEY");
		return CLI_EXIT_USAGE;
	}
	if ((ret = cli_conf_edit(ctx, &e)) != CLI_EXIT_OK)
		return ret;
	if (strlen(argv[2]) != PROTO_KEY_BYTES * 2 || proto_unhex(key, sizeof(key), argv[2]) ||
	    (rc = store_conf_edit_peer_remove(e, key)) == STORE_E_NOTFOUND) {
		cli_error(ctx, "no peer with key %s in agora.conf (see `agora peer list`)", argv[2]);
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
	printf("removed peer %s; ", argv[2]);
	tell_node(ctx);
out:
	store_conf_edit_free(e);
	return ret;
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
