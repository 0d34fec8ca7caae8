/*
 * members_int.h - cli/ internal: alliance membership.  The subcommands of
 * `agora alliance` that list and change it (cmd_members.c, cmd_invite.c):
 * each takes the alliance command's argc/argv (argv[1] is the subcommand)
 * and returns a CLI_EXIT_* code, printing its own errors.  Then what they
 * share with `agora status` and agora web's coordinator forms (members.c,
 * unless marked): a member's terms, the admission and revocation records,
 * the message of a refused governance record, invites, forks.
 */
#ifndef AGORA_CLI_MEMBERS_INT_H
#define AGORA_CLI_MEMBERS_INT_H

#include <stdbool.h>
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

/* Is key an active (admitted, not revoked, not expired at now_ms)
 * coordinator of alliance in snapshot t?  For invite and agora web's
 * coordinator pages; the store decides for what is signed. */
bool cli_member_coordinator(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                            const uint8_t key[PROTO_KEY_BYTES], uint64_t now_ms);

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
 * (cmd_members.c, beside the listing whose name check it shares)
 */
void cli_member_warn_name(struct cli_ctx *ctx, struct store_txn *t,
                          const uint8_t alliance[PROTO_ID_BYTES], const char *name,
                          const uint8_t key[PROTO_KEY_BYTES]);

/* What `agora alliance invite` is asked for (its options; NULL: the
 * default: country none, role member, expires 7d, address found). */
struct cli_invite_req {
	const char *name, *country, *role, *expires, *address;
};
/*
 * The checks invite makes of q before it reads the store: a name (at most
 * 127 bytes), a country of at most 7, a role and duration cli_member_terms
 * takes, an address HOST:PORT.  CLI_EXIT_OK, or CLI_EXIT_USAGE with the
 * command's message in err (cap bytes, one line).  (cmd_invite.c)
 */
int cli_invite_check(char *err, size_t cap, const struct cli_invite_req *q);
/*
 * Make a one-time invite code to alliance for q, as `agora alliance
 * invite` does: cli_invite_check, then key must be an active coordinator
 * there; the address is q's, else this node's endpoint in the alliance,
 * else the running agorad's.  Stores the invite (store_invite_put) and
 * writes the code ("agora1-...", NUL-terminated) into code (code_cap
 * bytes; 1024 is enough) only on success; warn: print
 * cli_member_warn_name's warning.  CLI_EXIT_OK, or CLI_EXIT_USAGE /
 * CLI_EXIT_ERROR with the command's message in err (cap bytes): "only a
 * coordinator of this alliance can invite" for anyone else.  For the
 * command and agora web's invite form.  (cmd_invite.c)
 */
int cli_invite_new(char *code, size_t code_cap, char *err, size_t cap, struct cli_ctx *ctx,
                   struct store *s, const struct proto_key *key,
                   const uint8_t alliance[PROTO_ID_BYTES], const struct cli_invite_req *q,
                   bool warn);

/*
 * The revocation `agora alliance revoke` signs, checked as the command
 * checks it: keyhex a public key (64 hex digits), reason non-empty, after
 * a seq number ("12"; NULL: 0 here, and cli_revocation_last fills in the
 * last record this node holds).  *out is written only on success: a
 * record for store_publish, freed with json_record_free.  CLI_EXIT_OK, or
 * CLI_EXIT_USAGE (CLI_EXIT_ERROR when out of memory) with the command's
 * message in err (cap bytes).  For the command and agora web's revoke form.
 */
int cli_revocation_new(Agora__Record **out, char *err, size_t cap, const char *keyhex,
                       const char *reason, const char *after);
/* Set rec's (a cli_revocation_new's) last_seq to the seq of the revoked
 * key's last record that s holds in alliance (0: none, or unreadable). */
void cli_revocation_last(Agora__Record *rec, struct store *s,
                         const uint8_t alliance[PROTO_ID_BYTES]);

/* Every fork the store holds as evidence: a JSON array of {author,
 * alliance, seq} (empty if the store cannot be read).  Caller decrefs. */
json_t *cli_equivocators(struct cli_ctx *ctx);

#endif
