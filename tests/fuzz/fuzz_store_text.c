/*
 * fuzz_store_text.c - the search tokenizer on arbitrary bytes: every word
 * it yields is non-empty, at most 64 bytes, valid to tokenize again, and
 * NUL-terminated at its length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/storage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int again_cb(const char *w, size_t len, void *ctx)
{
	(void)ctx;
	if (len == 0 || strlen(w) != len)
		abort();
	return 0;
}

static int word_cb(const char *w, size_t len, void *ctx)
{
	(void)ctx;
	if (len == 0 || len > 64 || strlen(w) != len)
		abort();
	if (store_text_words(w, len, again_cb, NULL) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)store_text_words((const char *)data, size, word_cb, NULL);
	return 0;
}
