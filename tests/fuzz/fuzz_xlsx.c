/*
 * fuzz_xlsx.c - an xlsx workbook as `agora publish --file F.xlsx` reads it:
 * sheet_xlsx_read (libzip from memory, expat over workbook, relationships,
 * shared strings and sheets) and then sheet_records on each sheet.
 * Properties: no crash or leak; a refused file says why and returns no
 * sheets; every cell read is valid UTF-8 (expat's output) within the
 * bounds of sheet_int.h.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sheet_int.h"

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "fuzz_xlsx: %s\n", #x); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sheet **sheets = NULL;
	char msg[600];
	size_t n = 0, line;
	unsigned char bad;

	msg[0] = '\0';
	if (sheet_xlsx_read(&sheets, &n, (const char *)data, size, msg, sizeof(msg)) < 0) {
		CHECK(msg[0] != '\0' && !sheets);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct sheet *s = sheets[i];
		struct sheet_record *recs = NULL;
		size_t nr = 0;
		for (size_t r = 0; r < s->nrows; r++) {
			CHECK(s->rows[r].ncells <= SHEET_MAX_COLS);
			for (size_t c = 0; c < s->rows[r].ncells; c++) {
				size_t l = strlen(s->rows[r].cells[c]);
				CHECK(l <= SHEET_MAX_CELL);
				CHECK(sheet_utf8_check(s->rows[r].cells[c], l, &bad, &line) == 0);
			}
		}
		if (sheet_records(&recs, &nr, s, msg, sizeof(msg)) == 0)
			sheet_records_free(recs, nr);
		sheet_free(s);
	}
	free(sheets);
	return 0;
}
