/*
 * names_int.h - municipality names (names.c), cli/ only: author key ->
 * newest Profile name and country, looked up once per key and cached for
 * the life of the object.  Keys without a Profile fall back to the name an
 * Admission gave them, else NULL.  Strings returned are owned by the cache
 * and live until cli_names_free().  The cache borrows t.  One thread.
 */
#ifndef AGORA_CLI_NAMES_INT_H
#define AGORA_CLI_NAMES_INT_H

#include <stddef.h>
#include <stdint.h>

#include "storage/storage.h"

struct cli_names;

struct cli_names *cli_names_new(struct store_txn *t);   /* NULL: out of memory */
/*
 * Read every name now (otherwise the first lookup does).  Call it before
 * store_query() so that lookups from inside a query callback never start a
 * nested query.  Returns 0 or a store error.
 */
int cli_names_load(struct cli_names *n);
void cli_names_free(struct cli_names *n);        /* accepts NULL */
const char *cli_names_name(struct cli_names *n, const uint8_t author[PROTO_KEY_BYTES]);
const char *cli_names_country(struct cli_names *n, const uint8_t author[PROTO_KEY_BYTES]);
/* Every name loaded (after cli_names_load): how many, and the i-th with
 * its key (*key borrowed from the cache). */
size_t cli_names_count(const struct cli_names *n);
const char *cli_names_at(const struct cli_names *n, size_t i, const uint8_t **key);

#endif
