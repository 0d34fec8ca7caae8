/*
 * members_int.h - cli/ internal: the membership subcommands of `agora alliance`
 * (cmd_members.c).  Each takes the alliance command's argc/argv (argv[1] is
 * the subcommand) and returns a CLI_EXIT_* code, printing its own errors.
 */
#ifndef AGORA_CLI_MEMBERS_INT_H
#define AGORA_CLI_MEMBERS_INT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cli/cli_int.h"

int cli_alliance_members(struct cli_ctx *ctx, int argc, char **argv);
int cli_alliance_admit(struct cli_ctx *ctx, int argc, char **argv);
int cli_alliance_revoke(struct cli_ctx *ctx, int argc, char **argv);
int cli_alliance_rotate(struct cli_ctx *ctx, int argc, char **argv);
int cli_alliance_invite(struct cli_ctx *ctx, int argc, char **argv);   /* cmd_invite.c */
/* Their usage, options and help (cmd_members.c, cmd_invite.c), for
 * `agora alliance --help`. */
struct cli_command;
extern const struct cli_command cli_members_cmd, cli_admit_cmd, cli_revoke_cmd,
	cli_rotate_cmd, cli_invite_cmd;
/* "30d", "12h", "10m", "5s" -> milliseconds.  0 or -1. */
int cli_duration_ms(const char *s, uint64_t *out);
/* A member's terms from --role (name of an Agora__Role) and --expires (a
 * duration; NULL: none, *dur_ms 0).  CLI_EXIT_OK, or CLI_EXIT_USAGE with
 * the error printed. */
int cli_member_terms(struct cli_ctx *ctx, const char *role, const char *expires, int *role_out,
                     uint64_t *dur_ms);
/* The same check with its message in err (cap bytes, one line) instead of
 * printed; the out-params are written only on success. */
int cli_member_terms_message(char *err, size_t cap, const char *role, const char *expires,
                             int *role_out, uint64_t *dur_ms);

/*
 * The admission `agora alliance admit` signs, checked as the command checks
 * it: keyhex a public key (64 hex digits), name and country non-empty
 * (country upper-cased), role "member", "coordinator" or "observer" (NULL:
 * member), expires a duration from now (cli_duration_ms; NULL: never).
 * *out is written only on success: a record for store_publish, freed with
 * json_record_free.  CLI_EXIT_OK, or CLI_EXIT_USAGE (CLI_EXIT_ERROR when
 * out of memory) with the command's message in err (cap bytes).  For the
 * command and agora web's admission form.
 */
int cli_admission_new(Agora__Record **out, char *err, size_t cap, const char *keyhex,
                      const char *name, const char *country, const char *role,
                      const char *expires);

/*
 * The message of a refused governance record (admission, revocation): a
 * signer who is not a coordinator gets "only a coordinator of this
 * alliance can do that: ...", anything else cli_publish_message's.  Into
 * buf (cap bytes, one line); returns the exit code.
 */
int cli_gov_message(char *buf, size_t cap, struct cli_ctx *ctx, int rc,
                    const struct proto_error *err);

/*
 * Warn, one line on stderr, when `name` is already the name of a key other
 * than `key` that is active in `alliance` (snapshot t): two keys of one
 * name are most often one municipality admitted twice (a new machine, a
 * mistyped key).  Names compare folded (store_text_fold), so case and
 * accents do not count.  The command goes on either way; nothing is
 * printed when the members cannot be read.  For admit and invite.
 */
void cli_member_warn_name(struct cli_ctx *ctx, struct store_txn *t,
                          const uint8_t alliance[PROTO_ID_BYTES], const char *name,
                          const uint8_t key[PROTO_KEY_BYTES]);

/* Every fork the store holds as evidence: a JSON array of {author,
 * alliance, seq} (empty if the store cannot be read).  Caller decrefs. */
json_t *cli_equivocators(struct cli_ctx *ctx);

#endif
