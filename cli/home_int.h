/*
 * home_int.h - the data directory as the CLI uses it (home.c), cli/ only:
 * the store, the identity and its passphrase, agora.conf.  Every file is
 * named and checked by storage (store_home_path, store_key_load,
 * store_conf_*); this adds the CLI's messages and exit statuses.
 * Functions return a CLI_EXIT_* code and print their own one-line error,
 * unless they say otherwise.
 */
#ifndef AGORA_CLI_HOME_INT_H
#define AGORA_CLI_HOME_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/cli_int.h"

/*
 * Open the store in <home>/db (creating the directory only when create is
 * true).  The store is owned by ctx.  Prints the error itself ("no agora
 * data in DIR: run `agora init` first").
 */
int cli_store(struct cli_ctx *ctx, bool create, struct store **out);

/*
 * The store (cli_store, not created) and a read snapshot of it in *t
 * (store_txn_end it; *s is ctx's).
 */
int cli_snapshot(struct cli_ctx *ctx, struct store **s, struct store_txn **t);

/*
 * Load <home>/identity.key through storage's loader (store_key_load: a
 * regular file of the user's, mode 0600 or stricter, like ssh).  An
 * encrypted key's passphrase comes from --passphrase-file
 * (passphrase_file, may be NULL), else $AGORA_PASSPHRASE, else, when stdin
 * is a terminal, a prompt without echo.  The key is owned by ctx.
 */
int cli_key(struct cli_ctx *ctx, const char *passphrase_file, struct proto_key **out);

/*
 * This node's public key without needing the passphrase: from the key when
 * it is plain (or a passphrase is at hand), else from agora.conf [node] key.
 */
int cli_public_key(struct cli_ctx *ctx, const char *passphrase_file,
                   uint8_t pk_out[PROTO_KEY_BYTES]);

/*
 * A passphrase for a new key (init, rotate-key): from --passphrase-file
 * (passphrase_file, may be NULL) or $AGORA_PASSPHRASE, checked by
 * store_passphrase_get (file mode 0600, no NUL, not empty); else, when
 * stdin is a terminal, typed twice with echo off (Enter alone: none).
 * *out is sodium_malloc()ed (sodium_free), or NULL when none was given.
 * Two different answers: CLI_EXIT_IDENTITY, printed.
 */
int cli_passphrase(struct cli_ctx *ctx, const char *passphrase_file, char **out);

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

#endif
