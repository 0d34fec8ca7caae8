/*
 * fuzz_bundle.c - the bundle file format (cli/bundle.c) on arbitrary bytes,
 * and the same bytes as text through the table and CSV writers (cli/table.c,
 * cli/csv.c).  Properties, checked on every input:
 *   - a bundle the parser accepts (version 1 or 2) is written back byte for
 *     byte by the writer from the records and attachments it found (parse ->
 *     write is the identity), every part lies inside the input, and every
 *     attachment's bytes hash to its hash;
 *   - a refused bundle yields no records and a terminated one-line message;
 *   - a CSV field reads back (RFC 4180) as the text written;
 *   - every line of a table printed 20 columns wide is at most 20 columns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/bundle_int.h"
#include "cli/csv_int.h"
#include "cli/table_int.h"

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "fuzz_bundle: %s\n", #x); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void bundle_round_trip(const struct cli_bundle *b, const uint8_t *data, size_t size)
{
	struct cli_bundle_writer w;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(f);
	CHECK(cli_bundle_write_start(&w, f, b->version) == 0);
	for (size_t i = 0; i < b->n; i++) {
		CHECK(b->recs[i].env > data && b->recs[i].env + b->recs[i].len <= data + size);
		CHECK(cli_bundle_write_record(&w, b->recs[i].env, b->recs[i].len) == 0);
	}
	for (size_t i = 0; i < b->n_blobs; i++) {
		const struct cli_bundle_blob *bl = &b->blobs[i];
		uint8_t h[32];
		CHECK(bl->data > data && bl->data + bl->size <= data + size);
		crypto_generichash(h, sizeof(h), bl->data, (size_t)bl->size, NULL, 0);
		CHECK(!memcmp(h, bl->hash, 32));
		CHECK(cli_bundle_write_blob(&w, bl->hash, bl->size) == 0);
		CHECK(cli_bundle_write_data(&w, bl->data, (size_t)bl->size) == 0);
	}
	CHECK(b->version == 2 || b->n_blobs == 0);
	CHECK(cli_bundle_write_end(&w) == 0);
	CHECK(fclose(f) == 0);
	CHECK(len == size && !memcmp(buf, data, size));
	free(buf);
}

/* The field written by cli_csv_field, read back by RFC 4180's rules. */
static void csv_round_trip(const char *text)
{
	char *buf = NULL, *back;
	size_t len = 0, k = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(f);
	cli_csv_field(f, text);
	CHECK(fclose(f) == 0);
	CHECK(len <= 2 * strlen(text) + 2);
	back = malloc(len + 1);
	CHECK(back);
	if (len && buf[0] == '"') {
		CHECK(len >= 2 && buf[len - 1] == '"');
		for (size_t i = 1; i + 1 < len; i++) {
			if (buf[i] == '"') {
				CHECK(buf[i + 1] == '"');   /* quotes inside are doubled */
				i++;
			}
			back[k++] = buf[i];
		}
	} else {
		CHECK(!strpbrk(buf, ",\"\r\n"));
		memcpy(back, buf, len);
		k = len;
	}
	back[k] = '\0';
	CHECK(!strcmp(back, text));
	free(back);
	free(buf);
}

static void table_fits(const char *text)
{
	static const char *const hdr[2] = { "A", "B" };
	static const unsigned shrink[2] = { 4, 4 };
	const char *cells[2] = { text, "x" };
	struct cli_table *t = cli_table_new(2, hdr, shrink);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(t && f);
	CHECK(cli_table_add(t, cells) == 0);
	cli_table_print(t, f, 20);
	CHECK(fclose(f) == 0);
	for (char *line = buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		CHECK(cli_table_width(line) <= 20);
	}
	free(buf);
	cli_table_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cli_bundle b;
	char msg[256];

	memset(&b, 0x5a, sizeof(b));
	memset(msg, 'x', sizeof(msg));
	if (cli_bundle_parse(&b, data, size, msg, sizeof(msg)) == 0) {
		bundle_round_trip(&b, data, size);
		cli_bundle_dispose(&b);
	} else {
		CHECK(b.recs == NULL && b.n == 0 && b.blobs == NULL && b.n_blobs == 0);
		CHECK(memchr(msg, '\0', sizeof(msg)) && !strchr(msg, '\n'));
	}

	/* The same bytes as a CSV field and a table cell (up to a NUL). */
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	csv_round_trip(text);
	table_fits(text);
	free(text);
	return 0;
}
