/*
 * fuzz_accept_language.c - lang_from_accept() and lang_choose() on
 * arbitrary bytes: an Accept-Language header comes from any browser (and
 * `agora web` hands it over as is), a --lang value from any command line.
 *
 * Input: the header; the bytes after a NUL, if any, are the --lang value.
 * Checked: the answer is always one of the built-in codes, and a --lang
 * naming a built-in language wins.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/lang/lang.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int built_in(const char *code)
{
	for (size_t i = 0; lang_code_at(i); i++)
		if (code == lang_code_at(i))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	const char *header, *option = NULL;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	header = s;
	if (strlen(s) < size)
		option = s + strlen(s) + 1;
	if (!built_in(lang_from_accept(header)))
		abort();
	const char *c = lang_choose(option, header);
	if (!built_in(c) || (lang_known(option) && c != lang_known(option)))
		abort();
	free(s);
	return 0;
}
