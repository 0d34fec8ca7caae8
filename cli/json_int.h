/*
 * json_int.h - records to and from JSON (jansson), generically from the
 * protobuf-c descriptors, so every field of every kind maps with no
 * per-kind code.
 *
 * JSON of a record (one object; the same shape is read by
 * `agora publish --file` and written by `agora query --json`/`export`):
 *
 *   {"kind": "measure",                  required on input
 *    "ref": "wetlands-1",                input only: a label other lines of
 *                                        the same file may cite as "@wetlands-1"
 *    "alliance": "DK2020 klimaalliance", input: name or id; output: id hex
 *    "supersedes": "<id|prefix|@ref>",   input: makes the record an edit of
 *                                        an earlier one; output when an edit
 *    "title": "...", "sector": "waste",  the body's fields, by proto name
 *    "areas": ["wetlands"], ...}
 *
 *   Output adds: "id", "author", "seq", "prev", "created_ms", "created"
 *   (ISO 8601 UTC), and, where known, "municipality" (the author's profile
 *   name).  On input these are ignored if present, so an export can be fed
 *   back after editing.
 *
 *   Types: strings as UTF-8 strings; numbers as JSON numbers (integers for
 *   uint fields); bools as true/false; enums by stable text name
 *   (proto_enum_name: "extreme_heat", "net_zero"); repeated fields as
 *   arrays; nested messages as objects; bytes fields (record ids, keys) as
 *   64 lower-case hex digits on output and, on input, as a full id, a
 *   unique hex prefix, or "@ref".  Unknown keys are errors.
 *
 *   Retract: {"kind": "retract", "target": "<id>", "reason": "..."}
 */
#ifndef AGORA_CLI_JSON_INT_H
#define AGORA_CLI_JSON_INT_H

#include <jansson.h>
#include "proto/proto.h"
#include "storage/storage.h"

/* Resolves "@ref" and hex prefixes in bytes fields while reading. */
struct json_refs;
struct json_refs *json_refs_new(struct store_txn *t);   /* t may be NULL */
void json_refs_free(struct json_refs *r);                /* accepts NULL */
/* Remember that label `ref` names record id. */
int json_refs_add(struct json_refs *r, const char *ref, const uint8_t id[PROTO_ID_BYTES]);
/* A row of the file that is not built (left out): the next record built is
 * numbered after it, so records keep their rows' numbers. */
void json_refs_skip(struct json_refs *r);

/*
 * Patch the "@ref" uses of record i (the i-th record json_to_record built
 * with r) with the ids of earlier records of the same file: call it from
 * the store_publish_batch prepare callback, which passes ids_so_far.
 * PROTO_E_ARG if rec is not the record built as number i.
 */
int json_refs_patch(struct json_refs *r, Agora__Record *rec, size_t i,
                    const uint8_t (*ids_so_far)[PROTO_ID_BYTES]);

/*
 * Wrap a body message of `kind` into a new Record (malloc()ed, freed with
 * json_record_free()), as a Supersede of `supersedes` when that is not
 * NULL.  On success the record owns body; on failure the caller still does.
 */
int json_record_wrap(Agora__Record **rec_out, enum proto_kind kind, ProtobufCMessage *body,
                     const uint8_t *supersedes);

/*
 * Build a Record (body only: alliance/author/seq/prev/created are left for
 * store_publish) from one JSON object.  *rec_out is freed with
 * json_record_free().  *ref_out (may be NULL) borrows the "ref" label from
 * obj, *alliance_out (may be NULL) the "alliance" string.  On error returns
 * PROTO_E_FIELD with err->field naming the JSON key ("measure.areas[2]")
 * and err->msg saying what is wrong.
 */
int json_to_record(Agora__Record **rec_out, const char **ref_out, const char **alliance_out,
                   json_t *obj, struct json_refs *refs, struct proto_error *err);
void json_record_free(Agora__Record *rec);               /* accepts NULL */

/*
 * JSON object for a stored record (new reference; caller json_decref()s).
 * municipality may be NULL.  rec is the decoded record; id its id (may be
 * NULL).  "kind" is the kind's name, or "newer:N" for a kind this build
 * does not define (cli_format_kind); a record with parts of a newer version
 * gets "newer": the sentence that says so (proto_record_newer_text), and
 * only the fields this build can read.
 */
json_t *json_from_record(const Agora__Record *rec, const uint8_t id[PROTO_ID_BYTES],
                         const char *municipality);

/*
 * Flags for json_dumps()/json_dumpf() of record JSON: doubles with 15
 * significant digits, so 0.1 prints as 0.1 rather than 0.10000000000000001
 * and every value a person typed (at most 15 digits) reads back the same.
 */
#define JSON_RECORD_DUMP JSON_REAL_PRECISION(15)

/* JSON value of one protobuf message, generically (for nested output). */
json_t *json_from_message(const ProtobufCMessage *msg);

#endif
