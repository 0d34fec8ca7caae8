/* trim.c - store_trim: drop this process's mapping of store pages. */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "storage/store_int.h"

int store_trim(struct store *s)
{
	MDB_envinfo info;
	MDB_stat st;
	size_t len;

	if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0)
		return -EIO;
	if (!info.me_mapaddr)
		return 0;
	/* Only the part of the map that holds pages; the rest was never touched. */
	len = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
	if (len > info.me_mapsize)
		len = info.me_mapsize;
	if (madvise(info.me_mapaddr, len, MADV_DONTNEED) != 0)
		return -errno;
	return 0;
}
