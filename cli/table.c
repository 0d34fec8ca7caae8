/*
 * table.c - aligned tables for people: columns sized to their content and
 * the terminal, cells measured in display columns (utf8proc).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <utf8proc.h>

#include "cli/table_int.h"

int cli_table_term_width(int fd)
{
	struct winsize ws;
	const char *env;

	if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	env = getenv("COLUMNS");
	if (env && *env) {
		long c = strtol(env, NULL, 10);
		if (c > 0 && c < 100000)
			return (int)c;
	}
	return 0;
}

/* Next code point of s (at most len bytes); bytes used, or 1 for a bad byte. */
static size_t next_cp(const char *s, size_t len, int *width)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;

	k = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &cp);
	if (k <= 0) {
		*width = 1;
		return 1;
	}
	*width = utf8proc_charwidth(cp);
	if (*width < 0)
		*width = 0;
	return (size_t)k;
}

size_t cli_table_width(const char *s)
{
	size_t len = strlen(s), w = 0;

	while (len) {
		int cw;
		size_t k = next_cp(s, len, &cw);
		w += (size_t)cw;
		s += k;
		len -= k;
	}
	return w;
}

/* Write s cut to at most `width` columns ("…" marks a cut), padded to pad. */
static void put_cell(FILE *f, const char *s, size_t width, size_t pad)
{
	size_t len = strlen(s), used = 0;

	if (cli_table_width(s) <= width) {
		fputs(s, f);
		used = cli_table_width(s);
	} else if (width > 0) {
		while (len) {
			int cw;
			size_t k = next_cp(s, len, &cw);
			if (used + (size_t)cw > width - 1)
				break;
			fwrite(s, 1, k, f);
			used += (size_t)cw;
			s += k;
			len -= k;
		}
		fputs("\xe2\x80\xa6", f);   /* … */
		used++;
	}
	for (; used < pad; used++)
		fputc(' ', f);
}

#define TABLE_FLOOR 3

struct cli_table {
	size_t ncols;
	const char *const *headers;
	unsigned *shrink;
	char **cells;               /* rows * ncols, each malloc()ed */
	size_t rows, cap;
};

struct cli_table *cli_table_new(size_t ncols, const char *const *headers,
                                const unsigned *shrink)
{
	struct cli_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->shrink = calloc(ncols, sizeof(*t->shrink));
	if (!t->shrink) {
		free(t);
		return NULL;
	}
	if (shrink)
		memcpy(t->shrink, shrink, ncols * sizeof(*shrink));
	t->ncols = ncols;
	t->headers = headers;
	return t;
}

void cli_table_free(struct cli_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->shrink);
	free(t);
}

size_t cli_table_rows(const struct cli_table *t)
{
	return t->rows;
}

int cli_table_add(struct cli_table *t, const char *const *cells)
{
	if (t->rows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **v = realloc(t->cells, cap * t->ncols * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->cells = v;
		t->cap = cap;
	}
	for (size_t c = 0; c < t->ncols; c++) {
		char *s = strdup(cells[c] ? cells[c] : "");
		if (!s) {
			for (size_t k = 0; k < c; k++)
				free(t->cells[t->rows * t->ncols + k]);
			return -ENOMEM;
		}
		for (char *p = s; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
		t->cells[t->rows * t->ncols + c] = s;
	}
	t->rows++;
	return 0;
}

void cli_table_print(struct cli_table *t, FILE *f, int width)
{
	size_t *w = calloc(t->ncols, sizeof(*w));
	size_t total = 0;

	if (!w)
		return;
	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = cli_table_width(t->headers[c]);
		for (size_t r = 0; r < t->rows; r++) {
			size_t cw = cli_table_width(t->cells[r * t->ncols + c]);
			if (cw > w[c])
				w[c] = cw;
		}
		total += w[c] + (c ? 2 : 0);
	}
	/*
	 * Shrink the widest shrinkable column one step at a time until the table
	 * fits: first down to each column's preferred minimum, then, on a very
	 * narrow terminal, down to TABLE_FLOOR columns each.
	 */
	for (int phase = 0; phase < 2; phase++) {
		while (width > 0 && total > (size_t)width) {
			size_t best = t->ncols;
			for (size_t c = 0; c < t->ncols; c++) {
				size_t floor = phase ? TABLE_FLOOR : t->shrink[c];
				if (t->shrink[c] && w[c] > floor && (best == t->ncols || w[c] > w[best]))
					best = c;
			}
			if (best == t->ncols)
				break;
			w[best]--;
			total--;
		}
	}
	for (size_t r = 0; r <= t->rows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = r ? t->cells[(r - 1) * t->ncols + c] : t->headers[c];
			bool last = c + 1 == t->ncols;
			put_cell(f, s, w[c], last ? 0 : w[c]);
			if (!last)
				fputs("  ", f);
		}
		fputc('\n', f);
	}
	free(w);
}


const char *cli_table_padded(char *buf, size_t cap, const char *s, size_t width)
{
	size_t len = strlen(s), w = cli_table_width(s);
	size_t pad = w < width ? width - w : 0;

	if (len + pad + 1 > cap)
		return s;
	memcpy(buf, s, len);
	memset(buf + len, ' ', pad);
	buf[len + pad] = '\0';
	return buf;
}
