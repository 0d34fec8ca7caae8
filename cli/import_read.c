/*
 * import_read.c - the records of a file for `agora publish --file`, as JSON
 * objects with where each came from (see import_int.h): JSON, JSON Lines,
 * CSV (csv_read.c), xlsx (xlsx_read.c), or a directory of exported CSV
 * tables, told apart by name ending and first bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli/import_int.h"
#include "cli/sheet_int.h"

#define FILE_MAX (512u << 20)   /* a publish file larger than this is surely a mistake */

static int add_item(struct import_set *im, const struct import_item *it)
{
	if (im->n == im->cap) {
		size_t cap = im->cap ? im->cap * 2 : 64;
		struct import_item *grown = realloc(im->items, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		im->items = grown;
		im->cap = cap;
	}
	im->items[im->n] = *it;
	im->items[im->n].index = im->n + 1;
	im->n++;
	return 0;
}
/* ------------------------------------------------------------ reading */

static char *read_all(struct cli_ctx *ctx, const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		cli_error(ctx, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n + 65536 + 1 > cap) {
			char *grown;
			cap = cap ? cap * 2 : 1 << 17;
			if (cap > FILE_MAX + 65536 + 1 || !(grown = realloc(buf, cap))) {
				cli_error(ctx, "%s is too large to publish at once: split it", path);
				goto fail;
			}
			buf = grown;
		}
		size_t r = fread(buf + n, 1, 65536, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		cli_error(ctx, "cannot read %s: %s", path, strerror(errno));
		goto fail;
	}
	if (f != stdin)
		fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	if (f != stdin)
		fclose(f);
	free(buf);
	return NULL;
}

/* JSON: an array, one object spanning the file, or one object per line. */
static int read_json(struct import_set *im, const char *file, const char *buf, size_t len)
{
	struct cli_ctx *ctx = im->ctx;
	const char *p = buf;
	json_error_t e;
	json_t *v;

	while (p < buf + len && isspace((unsigned char)*p))
		p++;
	if (p == buf + len) {
		cli_error(ctx, "%s holds no records", file);
		return CLI_EXIT_INPUT;
	}
	if (*p == '[') {
		if (!(v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e))) {
			cli_error(ctx, "%s:%d: not valid JSON: %s", file, e.line, e.text);
			return CLI_EXIT_INPUT;
		}
		for (size_t k = 0; k < json_array_size(v); k++)
			if (add_item(im, &(struct import_item){ .obj = json_incref(json_array_get(v, k)),
			                                 .file = file }) < 0) {
				json_decref(json_array_get(v, k));
				json_decref(v);
				cli_error(ctx, "out of memory");
				return CLI_EXIT_ERROR;
			}
		json_decref(v);
		return CLI_EXIT_OK;
	}
	if ((v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e))) {
		if (add_item(im, &(struct import_item){ .obj = v, .file = file, .line = 1 }) < 0) {
			json_decref(v);
			cli_error(ctx, "out of memory");
			return CLI_EXIT_ERROR;
		}
		return CLI_EXIT_OK;
	}
	size_t line = 1;
	for (const char *s = buf; s < buf + len; line++) {
		const char *nl = memchr(s, '\n', (size_t)(buf + len - s));
		const char *end = nl ? nl : buf + len;
		const char *q = s;
		while (q < end && isspace((unsigned char)*q))
			q++;
		if (q < end) {
			if (!(v = json_loadb(s, (size_t)(end - s), JSON_REJECT_DUPLICATES, &e))) {
				cli_error(ctx, "%s:%zu: not valid JSON (%s); give one object per line, "
				          "or one JSON array (a CSV or xlsx file needs the .csv or .xlsx "
				          "ending)", file, line, e.text);
				return CLI_EXIT_INPUT;
			}
			if (add_item(im, &(struct import_item){ .obj = v, .file = file, .line = line }) < 0) {
				json_decref(v);
				cli_error(ctx, "out of memory");
				return CLI_EXIT_ERROR;
			}
		}
		s = end + 1;
	}
	return CLI_EXIT_OK;
}

static int keep_sheet(struct import_set *im, struct sheet *s)
{
	struct sheet **grown = realloc(im->sheets, (im->n_sheets + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	im->sheets = grown;
	im->sheets[im->n_sheets++] = s;
	return 0;
}

/* A table's records into items; the sheet is kept (owned by im) on success. */
static int read_sheet(struct import_set *im, const char *file, struct sheet *s, bool in_book)
{
	struct sheet_record *recs = NULL;
	char msg[600];
	size_t n = 0;
	int rc;

	if (keep_sheet(im, s) < 0) {
		sheet_free(s);
		cli_error(im->ctx, "out of memory");
		return CLI_EXIT_ERROR;
	}
	if ((rc = sheet_records(&recs, &n, s, msg, sizeof(msg))) < 0) {
		if (in_book && s->name)
			cli_error(im->ctx, "%s: sheet %s, %s (nothing of the file was stored)", file,
			          s->name, msg);
		else
			cli_error(im->ctx, "%s: %s (nothing of the file was stored)", file, msg);
		return rc == -ENOMEM ? CLI_EXIT_ERROR : CLI_EXIT_INPUT;
	}
	for (size_t k = 0; k < n; k++) {
		if (add_item(im, &(struct import_item){ .obj = recs[k].obj, .file = file, .sheet = s,
		                                 
		                                 .in_book = in_book, .row = recs[k].row,
		                                 .nrows = recs[k].nrows }) < 0) {
			sheet_records_free(recs + k, n - k);
			free(recs);
			cli_error(im->ctx, "out of memory");
			return CLI_EXIT_ERROR;
		}
	}
	free(recs);   /* the objects now belong to the items */
	return CLI_EXIT_OK;
}

/* "measures" from ".../measures.csv". */
static char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/'), *b = slash ? slash + 1 : path;
	const char *dot = strrchr(b, '.');
	size_t n = dot && dot != b ? (size_t)(dot - b) : strlen(b);
	char *s = malloc(n + 1);

	if (s) {
		memcpy(s, b, n);
		s[n] = '\0';
	}
	return s;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);
	return a >= b && !strcasecmp(s + a - b, tail);
}

static int read_csv(struct import_set *im, const char *file, const char *buf, size_t len)
{
	struct sheet *s = NULL;
	char msg[400];
	int rc;

	if ((rc = sheet_csv_read(&s, buf, len, msg, sizeof(msg))) < 0) {
		cli_error(im->ctx, "%s: %s (nothing of the file was stored)", file, msg);
		return rc == -ENOMEM ? CLI_EXIT_ERROR : CLI_EXIT_INPUT;
	}
	if (strcmp(file, "-") && !(s->name = base_name(file))) {
		sheet_free(s);
		cli_error(im->ctx, "out of memory");
		return CLI_EXIT_ERROR;
	}
	return read_sheet(im, file, s, false);
}

static int read_xlsx(struct import_set *im, const char *file, const char *buf, size_t len)
{
	struct sheet **sheets = NULL;
	char msg[400];
	size_t n = 0;
	int rc, ret = CLI_EXIT_OK;

	if ((rc = sheet_xlsx_read(&sheets, &n, buf, len, msg, sizeof(msg))) < 0) {
		cli_error(im->ctx, "%s: %s (nothing of the file was stored)", file, msg);
		return rc == -ENOMEM ? CLI_EXIT_ERROR : CLI_EXIT_INPUT;
	}
	for (size_t k = 0; k < n; k++) {
		/* A sheet we did not write (notes, a chart's data) is left alone. */
		bool ours = false;
		for (size_t i = 0; i < sheet_n_kinds && sheets[k]->name; i++)
			ours |= !strcasecmp(sheets[k]->name, sheet_kinds[i].name);
		if (!ours || ret != CLI_EXIT_OK) {
			sheet_free(sheets[k]);
			continue;
		}
		ret = read_sheet(im, file, sheets[k], true);
	}
	free(sheets);
	return ret;
}

/* A file by its ending or its first bytes. */
static int read_path(struct import_set *im, const char *file)
{
	unsigned char badc;
	size_t len = 0, line;
	char *buf;
	int ret;

	if (!(buf = read_all(im->ctx, file, &len)))
		return CLI_EXIT_INPUT;
	if (ends_with(file, ".xlsx") || (len >= 4 && !memcmp(buf, "PK\x03\x04", 4))) {
		ret = read_xlsx(im, file, buf, len);
	} else if (ends_with(file, ".csv") || ends_with(file, ".txt")) {
		ret = read_csv(im, file, buf, len);
	} else {
		const char *p = buf;
		if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) {   /* Notepad's byte-order mark */
			p += 3;
			len -= 3;
		}
		if (sheet_utf8_check(p, len, &badc, &line)) {
			cli_error(im->ctx, "%s: the file is not UTF-8 (byte 0x%02x at line %zu): save it "
			          "as UTF-8", file, badc, line);
			ret = CLI_EXIT_INPUT;
		} else {
			ret = read_json(im, file, p, len);
		}
	}
	free(buf);
	return ret;
}

/* A directory: the tables `agora export --format csv --output-dir` wrote. */
static int read_dir(struct import_set *im, const char *dir)
{
	char path[4200];
	struct stat st;
	int ret = CLI_EXIT_OK;
	size_t found = 0;

	for (size_t i = 0; i < sheet_n_kinds && ret == CLI_EXIT_OK; i++) {
		char **grown;
		snprintf(path, sizeof(path), "%s/%s", dir, sheet_kinds[i].file);
		if (stat(path, &st) < 0)
			continue;
		if (!(grown = realloc(im->files, (im->n_files + 1) * sizeof(*grown))) ||
		    !(grown[im->n_files] = strdup(path))) {
			if (grown)
				im->files = grown;
			cli_error(im->ctx, "out of memory");
			return CLI_EXIT_ERROR;
		}
		im->files = grown;
		found++;
		ret = read_path(im, im->files[im->n_files++]);
	}
	if (ret == CLI_EXIT_OK && !found) {
		cli_error(im->ctx, "%s holds none of the tables `agora export --format csv "
		          "--output-dir` writes (measures.csv, results.csv, ...)", dir);
		return CLI_EXIT_INPUT;
	}
	return ret;
}
void import_set_dispose(struct import_set *im)
{
	if (!im)
		return;
	for (size_t k = 0; k < im->n; k++)
		json_decref(im->items[k].obj);
	free(im->items);
	for (size_t k = 0; k < im->n_sheets; k++)
		sheet_free(im->sheets[k]);
	free(im->sheets);
	for (size_t k = 0; k < im->n_files; k++)
		free(im->files[k]);
	free(im->files);
}

int import_read(struct import_set *im, const char *path)
{
	struct stat st;

	if (strcmp(path, "-") && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return read_dir(im, path);
	return read_path(im, path);
}
