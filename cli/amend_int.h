/*
 * amend_int.h - cli/ internal: the first half of changing one of this
 * node's records, shared by `agora amend` / `agora retract` (cmd_publish.c)
 * and agora web's amend and retract forms (cli/web/web_publish.c): resolve
 * the id, check that the record is this author's, not a charter and not
 * retracted, find its newest version and copy that version's content.
 * The caller then applies its changes to the copy (flags or a form) and
 * wraps it with cli_amend_wrap, or signs a Retract of a->id.
 */
#ifndef AGORA_CLI_AMEND_INT_H
#define AGORA_CLI_AMEND_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"
#include "storage/storage.h"

enum cli_amend_error {
	CLI_AMEND_E_ID = -5100,        /* not an id, or a prefix of none or several */
	CLI_AMEND_E_NOTFOUND = -5101,  /* no such record in the store */
	CLI_AMEND_E_DAMAGED = -5102,   /* the record or its newest version does not read */
	CLI_AMEND_E_NOT_YOURS = -5103, /* another author's record */
	CLI_AMEND_E_CHARTER = -5104,   /* a charter (it founds an alliance) */
	CLI_AMEND_E_RETRACTED = -5105, /* retracted by its author */
	CLI_AMEND_E_KIND = -5106,      /* a kind that has no versions (with content) */
};

/* One record being changed; cli_amend_open fills it. */
struct cli_amend {
	uint8_t id[PROTO_ID_BYTES];        /* the record the id names */
	uint8_t alliance[PROTO_ID_BYTES];  /* its alliance */
	uint8_t newest[PROTO_ID_BYTES];    /* its newest version, which a new one supersedes */
	enum proto_kind kind;              /* the newest version's kind (with content) */
	ProtobufCMessage *content;         /* a deep copy of the newest version's content
	                                      (with content; else NULL), owned: every part
	                                      malloc()ed, freed by cli_amend_dispose
	                                      unless cli_amend_wrap took it */
};

/*
 * Open the record arg (an id or a unique prefix, resolved in snapshot t) as
 * one that author may change.  content: also find the newest version, check
 * that its kind can be amended (profile .. endorsement) and copy its content
 * (an amend); without: a retraction, which needs only the id and alliance.
 * 0, or CLI_AMEND_E_* / -ENOMEM with the CLI's one-line message in err (cap
 * bytes).  *a is written only on success; dispose it with cli_amend_dispose.
 */
int cli_amend_open(struct cli_amend *a, struct store_txn *t, const uint8_t author[PROTO_KEY_BYTES],
                   const char *arg, bool content, char *err, size_t cap);

/*
 * a->content, changed by the caller, as a new version superseding
 * a->newest: *out (json_record_free) is written only on success, and then
 * owns the content (a->content becomes NULL).  0 or -ENOMEM.
 */
int cli_amend_wrap(Agora__Record **out, struct cli_amend *a);

/*
 * A retraction of record id, with reason (NULL: none), ready for
 * store_publish: *out (json_record_free) is written only on success.
 * 0 or -ENOMEM.
 */
int cli_retraction_new(Agora__Record **out, const uint8_t id[PROTO_ID_BYTES], const char *reason);

/* Free what a holds; accepts a zeroed or disposed struct. */
void cli_amend_dispose(struct cli_amend *a);

/* The exit status of a cli_amend_open code (CLI_EXIT_NOTFOUND, _INPUT or _ERROR). */
int cli_amend_exit(int code);

#endif
