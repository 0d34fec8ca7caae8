/*
 * alliance_int.h - alliances as commands meet them (alliance.c), cli/ only.
 * Functions returning int return a CLI_EXIT_* code and print their own
 * one-line error.
 */
#ifndef AGORA_CLI_ALLIANCE_INT_H
#define AGORA_CLI_ALLIANCE_INT_H

#include <stdint.h>

#include "cli/cli_int.h"

/*
 * Resolve --alliance NAME|ID (NULL: the default alliance) to an alliance id.
 * Accepts an alliance name (exact, case-insensitive), a full id, or a unique
 * hex prefix.  Prints a clear error naming what to run when there is none.
 */
int cli_alliance(struct cli_ctx *ctx, struct store_txn *t, const char *name_or_id,
                 uint8_t id_out[PROTO_ID_BYTES]);

/* Name of the alliance `id` from its stored charter, or NULL; caller frees. */
char *cli_alliance_name(struct store_txn *t, const uint8_t id[PROTO_ID_BYTES]);

/*
 * Publish this node's profile (agora.conf [profile]) into alliance.
 * Does nothing and returns CLI_EXIT_OK when agora.conf has no profile.
 */
int cli_profile_publish(struct cli_ctx *ctx, struct proto_key *key,
                        const uint8_t alliance[PROTO_ID_BYTES]);

/*
 * Found an alliance: Charter with this node as the only coordinator
 * (policy any_coordinator), then this node's Profile into it, then make it
 * the default.  id_out gets the alliance id.
 */
int cli_alliance_found(struct cli_ctx *ctx, struct proto_key *key, const char *name,
                       const char *description, uint8_t id_out[PROTO_ID_BYTES]);

#endif
