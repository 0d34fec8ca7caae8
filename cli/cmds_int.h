/* cmds_int.h - one entry point per subcommand (cli/cmd_<name>.c). */
#ifndef AGORA_CLI_CMDS_INT_H
#define AGORA_CLI_CMDS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"
#include "storage/storage.h"

struct cli_ctx;

int cli_cmd_init(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_whoami(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_alliance(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_join(struct cli_ctx *ctx, int argc, char **argv);      /* cmd_invite.c */
int cli_cmd_publish(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_amend(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_retract(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_query(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_show(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_export(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_bundle(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_attachment(struct cli_ctx *ctx, int argc, char **argv);
/* `agora bundle create` (cmd_bundle_create.c) and its usage, for the group. */
struct cli_command;
int cli_bundle_create(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_command cli_bundle_create_cmd;
int cli_cmd_report(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_web(struct cli_ctx *ctx, int argc, char **argv);       /* web/web.c */

int cli_cmd_status(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_peers(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_sync(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_peer(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_recover(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_endpoint(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_watch(struct cli_ctx *ctx, int argc, char **argv);
/* `agora completion bash|zsh` (cmd_completion.c): a completion script read
 * from every command's own --help (cli_commands). */
int cli_cmd_completion(struct cli_ctx *ctx, int argc, char **argv);

/* The command table (main.c): name, entry point, one-line summary, as
 * `agora --help` lists them (`completion` is not in it). */
struct cli_cmd_entry {
	const char *name;
	int (*fn)(struct cli_ctx *ctx, int argc, char **argv);
	const char *summary;
};
extern const struct cli_cmd_entry *const cli_commands;
extern const size_t cli_n_commands;

/*
 * `agora peer add ADDR KEY [--name NAME]` as a function (join uses it too):
 * checks the address, key (64 hex digits) and name, adds the [peer] to
 * agora.conf, prints what it did and tells a running agorad.  Returns
 * CLI_EXIT_*, printing its own errors.
 */
/* Add a [peer] to agora.conf; bootstrap: the coordinator an invite named
 * (`bootstrap = yes`: agorad dials it only while it reaches no other member). */
int cli_peer_add(struct cli_ctx *ctx, const char *addr, const char *keyhex, const char *name,
                 bool bootstrap);

/*
 * This node's public address (cmd_endpoint.c), as init, join, invite and
 * `agora endpoint set` choose it: where partners reach it, or dial-out
 * only (n == 0).
 */
struct cli_endpoint {
	char addr[PROTO_ENDPOINT_MAX][PROTO_ADDRESS_MAX + 1];
	size_t n;                   /* 0: dial-out only */
	const char *source;         /* "--public-address", "agora.conf public-address",
	                               "agora.conf listen"; NULL: nothing usable was given */
};

/*
 * Choose it: flag (--public-address's value, NULL if not given: HOST:PORT,
 * several separated by commas, or "none"), else agora.conf [node]
 * public-address, else [node] listen when it is neither loopback nor a
 * wildcard address nor port 0, else dial-out only (source NULL).  A bad
 * flag is CLI_EXIT_USAGE, printed.
 */
int cli_endpoint_choose(struct cli_ctx *ctx, const char *flag, struct cli_endpoint *out);
/* Sign key's first records in alliance as pending ones (store_pending_put:
 * agorad stores them once key is active there): its Profile (agora.conf
 * [profile]) at seq 1 and, unless ep is NULL (an observer), its Endpoint
 * at seq 2.  `agora join` and `agora alliance rotate-key` use it. */
int cli_join_records(struct cli_ctx *ctx, struct store *s, struct proto_key *key,
                     const uint8_t *alliance, const struct cli_endpoint *ep);
/* Print what was chosen, and how to change it ("what: ..."), on stdout. */
void cli_endpoint_say(struct cli_ctx *ctx, const struct cli_endpoint *ep, const char *what);
/* Keep it as agora.conf [node] public-address (for the next join). */
int cli_endpoint_remember(struct cli_ctx *ctx, const struct cli_endpoint *ep);
/* Fill an Endpoint body from ep; ptrs has room for PROTO_ENDPOINT_MAX;
 * body borrows ptrs and ep. */
void cli_endpoint_body(Agora__Endpoint *body, char **ptrs, const struct cli_endpoint *ep);
/* Publish ep as this node's Endpoint in alliance (store_publish), and poke
 * a running agorad; id_out (may be NULL) gets the record id. */
int cli_endpoint_publish(struct cli_ctx *ctx, struct proto_key *key,
                         const uint8_t alliance[PROTO_ID_BYTES], const struct cli_endpoint *ep,
                         uint8_t id_out[PROTO_ID_BYTES]);
/*
 * The address an invite code names (agora alliance invite without
 * --address): the first address of this node's (pk) newest Endpoint in
 * alliance, else (none published) of cli_endpoint_choose's choice.  -1,
 * printing nothing, when this node is dial-out only there or nothing is
 * known; never a made-up loopback address.
 */
int cli_endpoint_invite_addr(struct cli_ctx *ctx, struct store_txn *t,
                             const uint8_t alliance[PROTO_ID_BYTES],
                             const uint8_t pk[PROTO_KEY_BYTES], char *out, size_t cap);

#endif
