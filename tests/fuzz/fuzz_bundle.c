/*
 * fuzz_bundle.c - bundle file framing (cli_bundle_parse) on arbitrary bytes,
 * then every framed record through proto_envelope_open; and the same bytes
 * as text through the table width and CSV writers (invalid UTF-8, control
 * characters).  Must never crash, read out of bounds or leak.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"

/* output.c's only links to the rest of the CLI, not reached from here. */
void cli_error(struct cli_ctx *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

int cli_alliance(struct cli_ctx *ctx, struct store_txn *t, const char *name_or_id,
                 uint8_t id_out[PROTO_ID_BYTES])
{
	(void)ctx;
	(void)t;
	(void)name_or_id;
	(void)id_out;
	return CLI_EXIT_NOTFOUND;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cli_bundle_rec *recs = NULL;
	size_t n = 0;
	char msg[256];
	static int inited;

	if (!inited) {
		if (proto_init() < 0)
			abort();
		inited = 1;
	}
	if (cli_bundle_parse(&recs, &n, data, size, msg, sizeof(msg)) == 0) {
		for (size_t i = 0; i < n; i++) {
			Agora__Record *rec = NULL;
			if (recs[i].env < data || recs[i].env + recs[i].len > data + size)
				abort();
			if (proto_envelope_open(&rec, recs[i].env, recs[i].len, 0, NULL) == 0)
				agora__record__free_unpacked(rec, NULL);
		}
		free(recs);
	} else if (!memchr(msg, '\0', sizeof(msg))) {
		abort();            /* the message must be a terminated string */
	}

	/* The same bytes as a table cell and a CSV field. */
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)cli_output_width(text);
	{
		static const char *const hdr[2] = { "A", "B" };
		static const unsigned shrink[2] = { 4, 4 };
		const char *cells[2] = { text, "x" };
		struct cli_table *t = cli_table_new(2, hdr, shrink);
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (t && f) {
			cli_table_add(t, cells);
			cli_table_print(t, f, 20);
			cli_csv_row(f, cells, 2);
		}
		if (f)
			fclose(f);
		free(buf);
		cli_table_free(t);
	}
	free(text);
	return 0;
}
