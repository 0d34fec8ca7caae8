/*
 * fuzz_csv.c - a CSV file as `agora publish --file F.csv` reads it:
 * sheet_csv_read (libcsv, BOM, separator, UTF-8 check) and then
 * sheet_records (kind from the header, cells typed by field, inventory rows
 * grouped), then json_to_record on each record built.  Properties: no
 * crash or leak; a refused file says why; every cell of a sheet read is
 * valid UTF-8 no longer than SHEET_MAX_CELL, in at most SHEET_MAX_COLS
 * columns.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/json_int.h"
#include "cli/sheet_int.h"

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "fuzz_csv: %s\n", #x); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sheet *s = NULL;
	struct sheet_record *recs = NULL;
	char msg[600];
	size_t n = 0, line;
	unsigned char bad;
	int rc;

	msg[0] = '\0';
	rc = sheet_csv_read(&s, (const char *)data, size, msg, sizeof(msg));
	if (rc < 0) {
		CHECK(msg[0] != '\0' && !s);
		return 0;
	}
	for (size_t r = 0; r < s->nrows; r++) {
		CHECK(s->rows[r].ncells <= SHEET_MAX_COLS);
		for (size_t c = 0; c < s->rows[r].ncells; c++) {
			size_t l = strlen(s->rows[r].cells[c]);
			CHECK(l <= SHEET_MAX_CELL);
			CHECK(sheet_utf8_check(s->rows[r].cells[c], l, &bad, &line) == 0);
		}
	}
	msg[0] = '\0';
	if (sheet_records(&recs, &n, s, msg, sizeof(msg)) < 0) {
		CHECK(msg[0] != '\0');
	} else {
		struct json_refs *refs = json_refs_new(NULL);
		for (size_t k = 0; k < n; k++) {
			struct proto_error err = { 0 };
			Agora__Record *rec = NULL;
			size_t col_sector;
			if (json_to_record(&rec, NULL, NULL, recs[k].obj, refs, &err) == 0)
				json_record_free(rec);
			else
				(void)sheet_column_of(s, err.field, &col_sector);
		}
		json_refs_free(refs);
		sheet_records_free(recs, n);
	}
	sheet_free(s);
	return 0;
}
