/* failalloc.c - see failalloc.h. */
#include <stdatomic.h>

#include "failalloc.h"

/* The fault plan: the only state, set by the test's main thread and read
 * by every thread that allocates. */
static atomic_long n_alloc, fail_at, n_failed;

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static bool should_fail(void)
{
	long at = atomic_load(&fail_at);
	if (at <= 0 || atomic_fetch_add(&n_alloc, 1) + 1 != at)
		return false;
	atomic_fetch_add(&n_failed, 1);
	return true;
}

void *__wrap_malloc(size_t n)
{
	return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return should_fail() ? NULL : __real_realloc(p, n);
}

void failalloc_arm(long k)
{
	atomic_store(&n_alloc, 0);
	atomic_store(&n_failed, 0);
	atomic_store(&fail_at, k);
}

bool failalloc_disarm(void)
{
	atomic_store(&fail_at, 0);
	return atomic_load(&n_failed) > 0;
}
