/* failalloc.h - make the k-th allocation fail, for tests linked with
 * -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc: every call to
 * those from the executable's own objects and static libraries (not from
 * shared libraries) goes through the wrappers in failalloc.c. */
#ifndef AGORA_FAILALLOC_H
#define AGORA_FAILALLOC_H

#include <stdbool.h>
#include <stddef.h>

/* Count allocations from now on; the k-th (k >= 1) returns NULL. */
void failalloc_arm(long k);
/* Stop counting; nothing fails.  Returns whether the k-th was reached. */
bool failalloc_disarm(void);

/* The allocator under the wrappers, for a test's own never-failing use. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);

#endif
