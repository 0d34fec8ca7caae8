/* csv_int.h - RFC 4180 CSV (csv.c), cli/ only. */
#ifndef AGORA_CLI_CSV_INT_H
#define AGORA_CLI_CSV_INT_H

#include <stddef.h>
#include <stdio.h>

/* One field: quoted when it holds , " CR or LF (quotes doubled); NULL is "". */
void cli_csv_field(FILE *f, const char *s);
/* A whole row of n fields, ending in CRLF as RFC 4180 says. */
void cli_csv_row(FILE *f, const char *const *cells, size_t n);

#endif
