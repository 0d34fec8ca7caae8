/*
 * fields_int.h - generic "--field value" flags for record bodies, driven by the
 * protobuf-c descriptors, so every field of every kind is a command-line
 * flag with no per-kind code (cli/ only).
 *
 * Flag names are the proto field names with '-' for '_' ("--start-year").
 * Strings take any UTF-8 text; numbers are parsed strictly (no trailing
 * junk, no nan/inf, no sign on unsigned fields); bools are "--mitigation"
 * (true), "--mitigation=false" or "--no-mitigation"; enums take their
 * stable text name (proto_enum_name); repeated fields take the flag again
 * or a comma list ("--areas wetlands,tree_planting"); bytes fields take a
 * record id (64 hex digits, or a unique prefix of at least 4 resolved in
 * the store).  Two nested message types have their own compact flags:
 *   --sector-line SECTOR:TCO2E[:MWH]       (Inventory.sectors)
 *   --translation LANG:TITLE[:SUMMARY]     (Measure/Lesson.translations)
 *
 * The same low-level setters (fields_slot, fields_clear) are used by
 * json.c to fill messages from JSON.  All memory hung on a message is
 * malloc()ed, so protobuf_c_message_free_unpacked(msg, NULL) frees it.
 *
 * Functions return 0 or a negative FIELDS_E_* / -errno code.  Error text
 * goes to the caller's buffer (one line, no trailing newline).
 */
#ifndef AGORA_CLI_FIELDS_INT_H
#define AGORA_CLI_FIELDS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <protobuf-c/protobuf-c.h>

#include "proto/proto.h"
#include "storage/storage.h"

enum fields_error_code {
	FIELDS_E_UNKNOWN = -3000,   /* not a flag of this message */
	FIELDS_E_VALUE = -3001,     /* the value is invalid (see error text) */
	FIELDS_E_MISSING = -3002,   /* the flag needs a value and has none */
};

#define FIELDS_MAX 64              /* fields per message we track */

/* State of one command line being applied to one message. */
struct fields {
	const ProtobufCMessageDescriptor *desc;
	ProtobufCMessage *msg;      /* borrowed; the caller owns it */
	struct store_txn *txn;      /* borrowed, for id prefixes; may be NULL */
	bool replace;               /* amend: a repeated flag's first use replaces the old list */
	bool touched[FIELDS_MAX];   /* fields given on this command line */
	char err[256];              /* text of the last error */
};

/* Start applying flags to msg (of descriptor msg->descriptor). */
void fields_init(struct fields *f, ProtobufCMessage *msg, struct store_txn *txn, bool replace);

/*
 * Apply argv[*i] if it is a flag of the message: consumes argv[*i + 1] as
 * its value when needed and advances *i past what it used (to the last
 * argument consumed).  FIELDS_E_UNKNOWN if argv[*i] is not one of ours
 * (nothing changed, f->err names the flag), FIELDS_E_VALUE /
 * FIELDS_E_MISSING with f->err = "--start-year: 'x' is not a number".
 */
int fields_arg(struct fields *f, int argc, char **argv, int *i);

/*
 * Set one field from text: name is the proto name or the flag name without
 * "--" (used for agora.conf [profile] entries).  Repeated fields append
 * the comma-separated values.
 */
int fields_set(struct fields *f, const char *name, const char *value);

/* Print the flags of a message type, their types and enum names. */
void fields_help(FILE *out, const ProtobufCMessageDescriptor *desc);

/*
 * msg's set fields as agora.conf values (name = the proto field name,
 * repeated values joined with ","), in the form fields_set() reads back.
 * -EINVAL if a value holds a line break, or a comma inside a repeated
 * string (the list could not be split again); -ENOMEM.  Free *out with
 * fields_ini_values_free(*out, *n).
 */
int fields_ini_values(struct store_conf_value **out, size_t *n, const ProtobufCMessage *msg);
void fields_ini_values_free(struct store_conf_value *v, size_t n);

/* Flag name of a proto field path: "measure.start_year" -> "--start-year",
 * "inventory.sectors[1].tco2e" -> "--sector-line", "" -> "". */
void fields_flag_name(char *buf, size_t cap, const char *path);

/* ------------------------------------------------ shared low-level pieces */

/*
 * Storage for one new value of field fd in msg: for a singular field, marks
 * it present and returns its member; for a repeated one, grows the array by
 * one zeroed element and returns it.  A singular string/bytes is freed
 * first.  NULL on out of memory.  The caller stores a malloc()ed string,
 * bytes, or message pointer there.
 */
/* Bytes one element of a (repeated) field takes in its C array. */
size_t fields_elem_size(const ProtobufCFieldDescriptor *fd);
void *fields_slot(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd);
/* Free what one value of fd at v holds (a string, bytes, a message). */
void fields_free_value(void *v, const ProtobufCFieldDescriptor *fd);
/* The text of one scalar value of fd at v, as fields_set() reads it back
 * (enums by name, bytes as hex).  0, or -EINVAL for a line break, a comma
 * in an element of a repeated string, or a value that does not fit. */
int fields_value_text(char *buf, size_t cap, const ProtobufCFieldDescriptor *fd, const void *v);
/* A "country" field's text in place: "dk" becomes "DK" (ISO 3166-1 codes are
 * upper case; people type them in lower case).  Other fields are left alone. */
void fields_country_case(const ProtobufCFieldDescriptor *fd, char *s);
/* Remove every value of fd (frees what it held). */
void fields_clear(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd);
/* Is fd set in msg (non-empty for repeated)? */
bool fields_has(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd);
/* A new, initialised, malloc()ed message of desc; NULL on out of memory. */
ProtobufCMessage *fields_new_message(const ProtobufCMessageDescriptor *desc);

/* Strict number parsers: 0 or FIELDS_E_VALUE. */
int fields_parse_double(double *out, const char *s);
int fields_parse_uint(uint64_t *out, const char *s, uint64_t max);
int fields_parse_int(int64_t *out, const char *s, int64_t min, int64_t max);

/*
 * "'wetland' is not a area (did you mean wetlands?)" or, with no close
 * name, "... (one of: a, b, c, ...)", cut to fit cap.
 */
void fields_enum_error(char *buf, size_t cap, const ProtobufCEnumDescriptor *d, const char *bad);

/* "sector", "vulnerable sector": the enum's short name in words. */
void fields_enum_words(char *buf, size_t cap, const ProtobufCEnumDescriptor *d);

/*
 * Record id from text: 64 hex digits, or a unique prefix (>= 4) looked up
 * in txn (NULL: full ids only).  0, or FIELDS_E_VALUE with msg filled.
 */
int fields_parse_id(uint8_t id[PROTO_ID_BYTES], const char *s, struct store_txn *txn,
                    char *msg, size_t cap);

#endif
