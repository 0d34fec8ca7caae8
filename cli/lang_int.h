/*
 * lang_int.h - language tags people type (lang.c), cli/ only.  proto/
 * checks a tag's BCP 47 form on every record, also on records from peers;
 * here, where a person publishes, the primary language must also be one we
 * know (ISO 639-1, or a three-letter ISO 639-2/-3 code of a language
 * municipalities write in), so "klingon" or "dansk" is caught at the
 * keyboard rather than shared.
 */
#ifndef AGORA_CLI_LANG_INT_H
#define AGORA_CLI_LANG_INT_H

#include <stdbool.h>
#include <protobuf-c/protobuf-c.h>

#include "proto/proto.h"

/* Is the primary subtag of tag ("da", "en-GB", "sma") a known language? */
bool cli_lang_known(const char *tag);

/*
 * Check every "language" and "languages" string of a record body, also in
 * nested messages (translations).  0, or PROTO_E_FIELD with err->field the
 * path ("measure.language", "measure.translations[1].language") and
 * err->msg saying what was expected.
 */
int cli_lang_check(const ProtobufCMessage *body, struct proto_error *err);

#endif
