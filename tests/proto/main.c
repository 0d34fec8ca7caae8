/*
 * main.c - the agora_proto test runner: every group, one ctest entry.
 */
#include <stdio.h>

#include "fixtures.h"

int main(void)
{
	int failed = 0;

	if (proto_init() != 0) {
		fprintf(stderr, "proto_init failed\n");
		return 1;
	}
	failed += names_tests();
	failed += envelope_tests();
	failed += canonical_tests();
	failed += kind_tests();
#ifdef AGORA_TEST_COMPAT
	failed += compat_tests();
#endif
	failed += validate_tests();
	failed += endpoint_tests();
	failed += attach_tests();
	failed += key_tests();
	failed += control_tests();
	return failed ? 1 : 0;
}
