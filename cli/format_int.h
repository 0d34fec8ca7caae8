/*
 * format_int.h - record fields as text (format.c), cli/ only: what `agora
 * show`, query tables, CSV and export print.  Functions returning int
 * return 0 or a negative code; strings returned are malloc()ed and the
 * caller frees them.
 */
#ifndef AGORA_CLI_FORMAT_INT_H
#define AGORA_CLI_FORMAT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto/proto.h"

/*
 * Text of field `name` of msg: enums by their stable name, bytes as hex,
 * bools "true"/"false", numbers in shortest round-trip form, repeated values
 * joined with "; ", nested messages as "k=v, k=v".  Unset fields give "".
 * *out is malloc()ed; the caller frees it.  PROTO_E_ARG if msg has no such
 * field, -ENOMEM.
 */
int cli_format_field(char **out, const ProtobufCMessage *msg, const char *name);

/*
 * Print every set field of msg as "<prefix><name>: <value>" lines, one per
 * field (repeated scalars joined with "; ", nested messages on their own
 * lines with "<name>[i]." prefixes).  Multi-line strings are indented.
 */
void cli_format_fields(FILE *f, const ProtobufCMessage *msg, const char *prefix);

/* Like cli_format_field, but "" for a NULL msg or a field it lacks; NULL
 * only when out of memory.  Caller frees. */
char *cli_format_text(const ProtobufCMessage *msg, const char *name);
/* The year(s) a record is about ("2020–2030", "2019"); caller frees. */
char *cli_format_years(enum proto_kind kind, const ProtobufCMessage *msg);
/* A one-line title for a record of any kind (title, indicator: value unit,
 * "BEI 2019 inventory", name, note, reason); caller frees. */
char *cli_format_title(enum proto_kind kind, const ProtobufCMessage *msg);

/*
 * The text name of a kind for tables, JSON and CSV: "measure", ...; for a
 * kind number this build does not define, "newer:N" (a record of a newer
 * version, PROTOCOL.md 7.2) written into buf; "?" for no kind.  Returns buf
 * or a static string.
 */
#define CLI_KIND_BUF 16
const char *cli_format_kind(char buf[CLI_KIND_BUF], enum proto_kind kind);

/* "2024-05-01 10:00 UTC" (minutes) or "...:SS" with seconds; buf >= 32. */
void cli_format_time(char *buf, size_t cap, uint64_t ms, bool seconds);

#endif
