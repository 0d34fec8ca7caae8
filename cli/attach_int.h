/*
 * attach_int.h - attachments in the CLI (attach.c): files put into the
 * blob store and listed in a record (`agora publish --attach`), and a
 * record's attachments shown with whether this node has fetched them.
 */
#ifndef AGORA_CLI_ATTACH_INT_H
#define AGORA_CLI_ATTACH_INT_H

#include <stdio.h>

#include "cli/cli_int.h"

/* The --attach FILE options of one command, in the order given. */
struct cli_attach_files {
	const char *files[PROTO_ATTACH_MAX + 1];   /* borrowed from argv */
	size_t n;
};

/* CLI_FN parser of a repeatable --attach FILE: appends to a struct
 * cli_attach_files; more than PROTO_ATTACH_MAX is a usage error. */
int cli_attach_opt(struct cli_ctx *ctx, const char *opt, const char *val, void *field);

/*
 * Append one stored file to body's list (a Measure, Result or Lesson of
 * kind): hash, size, name (a base name; the record's rules are checked when
 * it is signed) and the media type its extension names.  0, -EINVAL (a kind
 * without attachments) or -ENOMEM.  The caller checks PROTO_ATTACH_MAX.
 */
int cli_attach_push(ProtobufCMessage *body, enum proto_kind kind,
                    const uint8_t hash[PROTO_HASH_BYTES], uint64_t size, const char *name);

/* The --detach N options of `agora amend`: a bit per attachment number. */
struct cli_attach_drop {
	uint32_t mask;              /* bit N: remove attachment N */
};

/* CLI_FN parser of a repeatable --detach N (0 .. PROTO_ATTACH_MAX - 1), into
 * a struct cli_attach_drop. */
int cli_attach_drop_opt(struct cli_ctx *ctx, const char *opt, const char *val, void *field);

/*
 * Remove the attachments drop names from body (a Measure, Result or Lesson
 * of kind, as cli_attach_add takes), keeping the others in order.  A number
 * the record does not have, or a kind without attachments, prints one line
 * and returns CLI_EXIT_INPUT; else CLI_EXIT_OK (nothing to do for mask 0).
 */
int cli_attach_drop(struct cli_ctx *ctx, ProtobufCMessage *body, enum proto_kind kind,
                    const struct cli_attach_drop *drop);

/*
 * Put each file into this node's blob store and list it in body (a Measure,
 * Result or Lesson message, allocated with malloc like every decoded
 * message): hash, size, media type (from the file name's extension; else
 * application/octet-stream) and name (the file's base name).  Files over
 * agora.conf [attachments] max-file are refused, saying so.  Returns
 * CLI_EXIT_OK or prints one line and returns CLI_EXIT_INPUT (a file too
 * large, empty, unreadable, or a kind without attachments) or
 * CLI_EXIT_ERROR.  A blob stored for a record that is then not published
 * stays in the store (it is content-addressed: harmless, and reused).
 */
int cli_attach_add(struct cli_ctx *ctx, ProtobufCMessage *body, enum proto_kind kind,
                   const struct cli_attach_files *files);

/*
 * Print the record's attachments for `agora show`: one line each with its
 * index, name, size, media type and hash, and "not fetched yet" when this
 * node does not hold the blob.  Prints nothing for a record without them.
 */
void cli_attach_print(struct cli_ctx *ctx, FILE *out, const Agora__Record *rec);

/*
 * The record's attachments as a JSON array (index, name, size, media_type,
 * hash, fetched), or NULL when it has none.  The caller owns the array.
 */
struct json_t;
struct json_t *cli_attach_json(struct cli_ctx *ctx, const Agora__Record *rec);

/* "20.0 MB", "812 kB", "17 bytes" into out. */
void cli_attach_size(char *out, size_t cap, uint64_t bytes);

#endif
