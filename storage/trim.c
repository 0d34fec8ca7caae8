/* trim.c - store_trim: drop this process's mapping of store pages. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "storage/store_int.h"

/*
 * LMDB does not tell where it mapped the file (mdb_env_info's me_mapaddr is
 * only set with MDB_FIXEDMAP), so find the mapping of data.mdb in
 * /proc/self/maps.  The answer holds until the map is resized.
 */
static int find_map(struct store *s, size_t mapsize)
{
	const char *dir = NULL;
	char want[PATH_MAX], real[PATH_MAX], line[PATH_MAX + 128];
	FILE *f;

	s->map_lo = s->map_hi = 0;
	if (mdb_env_get_path(s->env, &dir) != 0 || !dir)
		return -EINVAL;
	if (snprintf(want, sizeof(want), "%s/data.mdb", dir) >= (int)sizeof(want))
		return -ENAMETOOLONG;
	if (!realpath(want, real))
		return -errno;
	if (!(f = fopen("/proc/self/maps", "re")))
		return -errno;  /* not Linux: nothing to trim */
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		int off = 0;
		size_t n;

		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &off) < 2 || !off)
			continue;
		n = strlen(line + off);
		if (n && line[off + n - 1] == '\n')
			line[off + n - 1] = '\0';
		if (strcmp(line + off, real) == 0 && hi > lo) {
			s->map_lo = lo;
			s->map_hi = hi;
			break;
		}
	}
	fclose(f);
	s->map_size = mapsize;
	return s->map_lo ? 0 : -ENOENT;
}

/* With trim_mu held and the map held shared (so it stays where it is). */
static int trim_locked(struct store *s)
{
	MDB_envinfo info;
	MDB_stat st;
	size_t used;
	int rc;

	if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0)
		return -EIO;
	if (!s->map_lo || s->map_size != info.me_mapsize) {
		if ((rc = find_map(s, info.me_mapsize)) < 0)
			return rc;
	}
	/* Only the pages in use can be resident. */
	used = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
	if (used > s->map_hi - s->map_lo)
		used = s->map_hi - s->map_lo;
	/* A shared, read-only file mapping: the pages stay in the page cache
	 * and are mapped again on the next access. */
	if (madvise((void *)s->map_lo, used, MADV_DONTNEED) != 0)
		return -errno;
	return 0;
}

/*
 * The map must not move while madvise runs: after a growth, the old
 * address range may hold another mapping (a malloc arena), whose pages
 * MADV_DONTNEED would zero.  So trim holds the map shared, but never
 * waits for it: a trim skipped is harmless, and one called from inside a
 * write must not wait for a growth that waits for that write.
 */
int store_trim(struct store *s)
{
	struct store_hold h;
	int rc;

	if (pthread_mutex_trylock(&s->trim_mu) != 0)
		return 0;   /* another thread is trimming: that will do */
	if (!store_lock_shared_try(&s->lock, &h)) {
		pthread_mutex_unlock(&s->trim_mu);
		return 0;
	}
	rc = trim_locked(s);
	store_lock_shared_end(&s->lock, &h);
	pthread_mutex_unlock(&s->trim_mu);
	return rc;
}
