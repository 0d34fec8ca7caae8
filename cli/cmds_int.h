/* cmds_int.h - one entry point per subcommand (cli/cmd_<name>.c). */
#ifndef AGORA_CLI_CMDS_INT_H
#define AGORA_CLI_CMDS_INT_H

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
/* `agora bundle create` (cmd_bundle_create.c) and its usage, for the group. */
struct cli_command;
int cli_bundle_create(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_command cli_bundle_create_cmd;
int cli_cmd_report(struct cli_ctx *ctx, int argc, char **argv);

int cli_cmd_status(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_peers(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_sync(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_peer(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_recover(struct cli_ctx *ctx, int argc, char **argv);

/*
 * `agora peer add ADDR KEY [--name NAME]` as a function (join uses it too):
 * checks the address, key (64 hex digits) and name, adds the [peer] to
 * agora.conf, prints what it did and tells a running agorad.  Returns
 * CLI_EXIT_*, printing its own errors.
 */
int cli_peer_add(struct cli_ctx *ctx, const char *addr, const char *keyhex, const char *name);

#endif
