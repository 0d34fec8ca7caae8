/*
 * nomem_sync_test.c - the sync engine when memory runs out.  malloc, calloc
 * and realloc are wrapped at link time; the fake store and transport
 * (sync_fake.c, built to allocate past the wrapper) never fail, the
 * engine's k-th allocation does.  For k = 1, 2, ... two engines sync until
 * one call fails (agorad then closes the session) or they are done; then
 * both are disposed, and a new session without failures must bring the two
 * stores level.  No round may crash or, under AddressSanitizer, leak.
 * Messages are decoded by protobuf-c, a shared library the wrapper does not
 * reach: a decode that runs out of memory is not among the failures tried.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "failalloc.h"
#include "node/engine/sync.h"
#include "sync_fake.h"

static const uint8_t ALLIANCE[32] = { 0xa1, 0x1a };

/* One session between a (dialer) and b until quiet or until an engine call
 * fails: 0, or that call's code.  When it went quiet, each side gets a
 * record the other lacks and both open an exchange at once (crossed
 * exchanges, then streaming).  The engines are disposed either way. */
static int session(struct fake *a, struct fake *b)
{
	struct pair p;
	memset(&a->sync, 0, sizeof(a->sync));
	memset(&b->sync, 0, sizeof(b->sync));
	int rc = fake_connect(&p, a, b, 0);
	if (!rc)
		rc = fake_pump(&p);
	if (!rc) {
		uint8_t au[32];
		author_of(au, 300);
		give(a, 300, feed_get(a, au, true)->n + 1);
		author_of(au, 301);
		give(b, 301, feed_get(b, au, true)->n + 1);
		rebuild(a);
		rebuild(b);
		if (!(rc = sync_resync(&a->sync)) && !(rc = sync_resync(&b->sync)))
			rc = fake_pump(&p);
	}
	fake_disconnect(&p);
	sync_dispose(&a->sync);
	sync_dispose(&b->sync);
	memset(&a->sync, 0, sizeof(a->sync));
	memset(&b->sync, 0, sizeof(b->sync));
	return rc;
}

static void test_sync__every_failed_allocation_ends_the_session_cleanly(void **state)
{
	(void)state;
	size_t rounds = 0, failed_sessions = 0;
	for (long k = 1;; k++) {
		struct fake *a = __real_calloc(1, sizeof(*a)), *b = __real_calloc(1, sizeof(*b));
		assert_non_null(a);
		assert_non_null(b);
		fake_init(a, 1, ALLIANCE);
		fake_init(b, 2, ALLIANCE);
		a->hello_v1 = b->hello_v1 = k % 2;   /* both protocol versions */
		/* shared feeds at different heads, and feeds only one side has */
		for (unsigned i = 0; i < 40; i++) {
			give(a, i, 3 + i % 5);
			give(b, i, 1 + i % 7);
		}
		give(a, 100, 25);
		give(b, 200, 12);

		failalloc_arm(k);
		int rc = session(a, b);
		bool met = failalloc_disarm();
		if (met) {
			assert_true(rc != 0);   /* a failed allocation is reported */
			failed_sessions++;
		} else {
			assert_int_equal(rc, 0);
		}
		/* a new session, nothing failing, brings the stores level */
		assert_int_equal(session(a, b), 0);
		assert_same(a, b);
		fake_free(a);
		fake_free(b);
		free(a);
		free(b);
		rounds++;
		if (!met)
			break;
		assert_true(k < 100000);
	}
	assert_true(failed_sessions > 20);
	printf("  %zu rounds, %zu ended by a failed allocation\n", rounds, failed_sessions);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync__every_failed_allocation_ends_the_session_cleanly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
