/*
 * csv.c - RFC 4180 CSV for spreadsheets.
 */
#include <stdio.h>
#include <string.h>

#include "cli/csv_int.h"

void cli_csv_field(FILE *f, const char *s)
{
	if (!s)
		s = "";
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void cli_csv_row(FILE *f, const char *const *cells, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		cli_csv_field(f, cells[i]);
	}
	fputs("\r\n", f);
}

