/*
 * sheet_int.h - records as spreadsheet tables (cli/ only): the columns
 * `agora export --format csv|xlsx` writes per kind, tables read from a CSV
 * (csv_read.c) or an xlsx workbook (xlsx_read.c), and the rows of such a
 * table turned into the JSON objects `agora publish --file` reads
 * (json_int.h), so export -> edit in a spreadsheet -> import round-trips.
 *
 * Rows are numbered as a spreadsheet shows them: the header is row 1.
 * Columns are named by letter ("A", "AA") and header name in messages.
 */
#ifndef AGORA_CLI_SHEET_INT_H
#define AGORA_CLI_SHEET_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "proto/proto.h"

#define SHEET_MAX_COLS 256         /* columns of a table we accept */
#define SHEET_MAX_CELL (1u << 20)  /* bytes of one cell */

/* The columns of one kind's table; names that are not special are body fields. */
struct sheet_kind {
	enum proto_kind kind;
	const char *name;           /* table / sheet name: "measures" */
	const char *file;           /* "measures.csv" */
	const char *const *cols;
	size_t ncols;
};

/* The tables in export order (every kind a reference can point at comes first). */
extern const struct sheet_kind sheet_kinds[];
extern const size_t sheet_n_kinds;
const struct sheet_kind *sheet_kind_find(enum proto_kind k);   /* NULL if none */

/* One row: cells are malloc()ed UTF-8 strings, never NULL. */
struct sheet_row {
	size_t row;                 /* 1-based spreadsheet row */
	size_t ncells;
	char **cells;
};

/* A table: rows[0] is the header.  Owned by its creator, freed with sheet_free(). */
struct sheet {
	char *name;                 /* sheet or file base name ("measures"), may be NULL */
	bool decimal_comma;         /* numbers may be written "1,5" (a ';' CSV) */
	size_t nrows, cap;
	struct sheet_row *rows;
};

struct sheet *sheet_new(const char *name);               /* NULL on out of memory */
void sheet_free(struct sheet *s);                        /* accepts NULL */
/* Append an empty row numbered `row`; -ENOMEM. */
int sheet_add_row(struct sheet *s, size_t row);
/* Append a copy of text[0..len) to the last row; -ENOMEM, -E2BIG past the limits. */
int sheet_add_cell(struct sheet *s, const char *text, size_t len);
/* Set cell `col` (0-based) of the last row, padding with "" (xlsx skips empty cells). */
int sheet_set_cell(struct sheet *s, size_t col, const char *text, size_t len);

/* "A", "Z", "AA": the spreadsheet letter of 0-based column c. */
void sheet_col_letter(char buf[8], size_t c);

/*
 * The first bad UTF-8 byte of buf[0..len): 0 if it is all valid UTF-8,
 * else 1 with *bad the byte and *line its 1-based line.
 */
int sheet_utf8_check(const char *buf, size_t len, unsigned char *bad, size_t *line);

/*
 * Parse a CSV file (csv_read.c, with libcsv): a UTF-8 byte-order mark is
 * skipped, the separator is ',' or ';' (whichever the header row uses
 * outside quotes; ';' also means decimal commas).  *out (sheet_free) on
 * success; on failure a negative code and msg filled ("row 4: a quote is
 * not closed"): -EILSEQ (not UTF-8; msg names the byte and line), -EINVAL
 * (not CSV), -E2BIG (past the limits), -ENOMEM.
 */
int sheet_csv_read(struct sheet **out, const char *buf, size_t len, char *msg, size_t cap);

/*
 * Read every sheet of an xlsx workbook held in buf[0..len) (xlsx_read.c,
 * libzip + expat), each named after its sheet: *out gets an array of *n
 * sheets (free each with sheet_free, then the array with free()).  Cells
 * are shared or inline strings, numbers as written in the file ("1200.5"),
 * booleans as "true"/"false".  Refuses archives past the bounds (entry
 * count, uncompressed size of a part and of all parts read) without
 * inflating past them, and parts that declare a DTD.  Same codes and
 * messages as sheet_csv_read.
 */
int sheet_xlsx_read(struct sheet ***out, size_t *n, const char *buf, size_t len, char *msg,
                    size_t cap);

/* One record read from a table, for json_to_record(). */
struct sheet_record {
	json_t *obj;                /* owned: {"kind": ..., "id": ..., fields} */
	size_t row;                 /* its first row */
	size_t nrows;               /* rows it spans (an inventory: one per sector) */
};

/*
 * The records of one table: the kind from the sheet's name ("measures",
 * "measures.csv") or else from its header; every header name must be a
 * column of that kind.  Cells are typed by the body field's type: lists
 * split at ';', numbers with a decimal point (or a decimal comma when
 * s->decimal_comma), booleans true/false (also 1/0, yes/no, and Excel's
 * Danish, Polish and Dutch words), ids as 64 hex digits.  An empty cell
 * is JSON null (the field is unset).  "id" and "municipality" are kept in
 * the object (json_to_record ignores them); "created", "measure_title" and
 * a measure's "country" are dropped.  Inventory rows with the same id (or
 * consecutive rows with no id and the same type and year) form one
 * inventory with one sector line per row.  On failure: -EINVAL with msg
 * naming row and column, or -ENOMEM.  *out is an array of *n records;
 * free with sheet_records_free().
 */
int sheet_records(struct sheet_record **out, size_t *n, const struct sheet *s, char *msg,
                  size_t cap);
void sheet_records_free(struct sheet_record *r, size_t n);

/* The header column a JSON error path ("measure.start_year",
 * "inventory.sectors[1].mwh") points at: 0-based index or -1. */
long sheet_column_of(const struct sheet *s, const char *path, size_t *sector);

#endif
