/*
 * table_int.h - tables for people (table.c), cli/ only: columns sized to
 * their content, shrunk to fit the terminal, long cells cut with "…".
 */
#ifndef AGORA_CLI_TABLE_INT_H
#define AGORA_CLI_TABLE_INT_H

#include <stddef.h>
#include <stdio.h>

/* Terminal width of fd (TIOCGWINSZ), else $COLUMNS, else 0 (= unlimited). */
int cli_table_term_width(int fd);

/* Display columns of a UTF-8 string (utf8proc_charwidth; invalid bytes = 1). */
size_t cli_table_width(const char *s);

/*
 * s followed by spaces up to `width` display columns (never cut), for a
 * printf "%s" where "%-30s" would count bytes: "Sønderborg", "Poznań" and
 * CJK line up with ASCII.  Written into buf (cap bytes); returns buf, or s
 * itself when buf is too small.
 */
const char *cli_table_padded(char *buf, size_t cap, const char *s, size_t width);

/*
 * A table: cells are copied; control characters (newlines, tabs) are shown
 * as spaces.  ncols headers (borrowed, must outlive the table); shrink[i]
 * is the minimum width of a column that may be shrunk, 0 for fixed columns.
 */
struct cli_table;
struct cli_table *cli_table_new(size_t ncols, const char *const *headers,
                                const unsigned *shrink);
int cli_table_add(struct cli_table *t, const char *const *cells);  /* 0 / -ENOMEM */
size_t cli_table_rows(const struct cli_table *t);
/* Print to f within width columns (0: no limit). */
void cli_table_print(struct cli_table *t, FILE *f, int width);
void cli_table_free(struct cli_table *t);        /* accepts NULL */

#endif
