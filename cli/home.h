/*
 * home.h - pieces of the data directory and of publishing that several
 * commands share beyond cli.h (cli/ only).  Functions returning int return
 * a CLI_EXIT_* code and print their own one-line error, unless they say
 * otherwise.
 */
#ifndef AGORA_CLI_HOME_H
#define AGORA_CLI_HOME_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/cli.h"

/*
 * Tell a running node that a record was written locally.  Silent: does
 * nothing when <home>/agorad.sock is absent or refuses.
 */
void cli_poke_node(struct cli_ctx *ctx);

/*
 * Report a failed store_publish / store_publish_batch / proto call as one
 * line and return its exit code: field errors as "--start-year: ..." (flag
 * names) and CLI_EXIT_INPUT, a foreign or unknown target as
 * CLI_EXIT_INPUT, anything else CLI_EXIT_ERROR.  err may be NULL.
 */
int cli_publish_error(struct cli_ctx *ctx, int rc, const struct proto_error *err);

/*
 * agora.conf through storage's parser and editor (store_conf_*), with the
 * error printed: cli_conf_load parses the file (a missing file is empty;
 * free with store_conf_dispose); cli_conf_edit opens it for editing (free
 * with store_conf_edit_free); cli_conf_save writes it back (mode 0600; with
 * STORE_WRITE_NEW, -EEXIST silently when the file exists).  Invalid files
 * are CLI_EXIT_INPUT, naming file:line.
 */
int cli_conf_load(struct cli_ctx *ctx, struct store_conf *out);
int cli_conf_edit(struct cli_ctx *ctx, struct store_conf_edit **out);
int cli_conf_save(struct cli_ctx *ctx, struct store_conf_edit *e, unsigned flags);

/*
 * This node's profile as kept in agora.conf [profile] (written by init).
 * *out is freed with agora__profile__free_unpacked(*out, NULL).
 * CLI_EXIT_NOTFOUND (silently) when [profile] holds nothing; a bad value
 * is CLI_EXIT_INPUT naming file:line and the flag.
 */
int cli_conf_profile(struct cli_ctx *ctx, Agora__Profile **out);

/*
 * Create <home>/agora.conf ([node] name, country, key = public key hex;
 * [profile] every set field of profile) unless it exists already (then
 * *kept = true and nothing is written).
 */
int cli_conf_write(struct cli_ctx *ctx, const uint8_t pk[PROTO_KEY_BYTES],
                   const Agora__Profile *profile, bool *kept);

/*
 * Publish this node's profile (agora.conf [profile]) into alliance.
 * Does nothing and returns CLI_EXIT_OK when agora.conf has no profile.
 */
int cli_profile_publish(struct cli_ctx *ctx, struct proto_key *key,
                        const uint8_t alliance[PROTO_ID_BYTES]);

/*
 * Found an alliance (cmd_alliance.c): Charter with this node as the only
 * coordinator (policy any_coordinator), then this node's Profile into it,
 * then make it the default.  id_out gets the alliance id.
 */
int cli_alliance_found(struct cli_ctx *ctx, struct proto_key *key, const char *name,
                       const char *description, uint8_t id_out[PROTO_ID_BYTES]);

/*
 * This node's public key without needing the passphrase: from the key when
 * it is plain (or a passphrase is at hand), else from agora.conf [node] key.
 */
int cli_public_key(struct cli_ctx *ctx, const char *passphrase_file,
                   uint8_t pk_out[PROTO_KEY_BYTES]);

/*
 * A passphrase for a new key (init, rotate-key): from --passphrase-file
 * (passphrase_file, may be NULL) or $AGORA_PASSPHRASE, checked by
 * store_passphrase_get (file mode 0600, no NUL, not empty).  *out is
 * sodium_malloc()ed (sodium_free), or NULL when none was given.
 */
int cli_passphrase(struct cli_ctx *ctx, const char *passphrase_file, char **out);

#endif
