/* log_test.c - agorad's log lines (node/log.c): journald's form and the
 * timestamped one everywhere else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/node.h"

/* 2026-12-06T21:16:24.123Z */
static uint64_t pinned_ms(void)
{
	return 1796591784123ull;
}

/* The one line node_log writes into a memory stream. */
static char *line_of(bool journal, enum node_level level, const char *msg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct node_log log = { .level = NODE_LOG_DEBUG, .journal = journal, .out = f,
	                        .now_ms = pinned_ms };

	assert_non_null(f);
	node_log(&log, level, "session", "%s", msg);
	fclose(f);
	return buf;
}

static void test_log__outside_journald_lines_start_with_iso8601_utc(void **state)
{
	char *l = line_of(false, NODE_LOG_INFO, "closing Vejle: bye");
	(void)state;
	assert_string_equal(l, "2026-12-06T21:16:24.123Z info session: closing Vejle: bye\n");
	free(l);
}

static void test_log__under_journald_lines_keep_priority_and_no_time(void **state)
{
	char *l = line_of(true, NODE_LOG_WARN, "closing Vejle: bye");
	(void)state;
	assert_string_equal(l, "<4>warn session: closing Vejle: bye\n");
	free(l);
}

static void test_log__a_newline_in_a_message_cannot_forge_a_line(void **state)
{
	char *l = line_of(false, NODE_LOG_ERROR, "x\n2026-01-01T00:00:00.000Z info y: z");
	(void)state;
	assert_string_equal(l, "2026-12-06T21:16:24.123Z error session: "
	                       "x 2026-01-01T00:00:00.000Z info y: z\n");
	free(l);
}

static void test_log__stamp_pads_milliseconds(void **state)
{
	char s[32];
	(void)state;
	node_log_stamp(s, sizeof(s), 5);
	assert_string_equal(s, "1970-01-01T00:00:00.005Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log__outside_journald_lines_start_with_iso8601_utc),
		cmocka_unit_test(test_log__under_journald_lines_keep_priority_and_no_time),
		cmocka_unit_test(test_log__a_newline_in_a_message_cannot_forge_a_line),
		cmocka_unit_test(test_log__stamp_pads_milliseconds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
