/*
 * conf_int.h - private to storage/: what agora.conf's parser (conf.c) and
 * editor (conf_edit.c) share.
 */
#ifndef AGORA_STORAGE_CONF_INT_H
#define AGORA_STORAGE_CONF_INT_H

#include <stddef.h>

#define CONF_FILE_MAX (1u << 20)    /* a larger agora.conf is refused */

/* Room for n + 1 elements of size bytes in *v (capacity *cap, doubled
 * as needed).  0 or -ENOMEM. */
int conf_grow(void **v, size_t *cap, size_t n, size_t size);

/* A section header, as libinih reads one: the line (len bytes, no newline)
 * starts with '[' and the name runs to the first ']'.  The name (not
 * NUL-terminated, *name_len bytes), or NULL if the line is no header. */
const char *conf_header_name(const char *line, size_t len, size_t *name_len);

#endif
