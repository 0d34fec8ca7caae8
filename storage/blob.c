/*
 * blob.c - the attachments' files, stored by their BLAKE2b-256 under
 * <home>/blobs/ (storage.h "blobs" says why files and not LMDB).
 *
 * A blob enters only through a temporary file that is hashed as it is
 * written and linked under its hash once the whole of it hashes right, so
 * a name in blobs/ always holds exactly the bytes it names.  link() rather
 * than rename(): a blob already stored (fetched from two peers at once) is
 * kept, never replaced, and the second copy is simply dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "storage/storage.h"

struct store_blob_in {
	int fd;
	char tmp[4200];             /* the temporary file's path */
	char home[4096];
	uint64_t size, have;
	bool check;                 /* hash holds what the bytes must hash to */
	uint8_t hash[PROTO_HASH_BYTES];
	crypto_generichash_state st;
};

int store_blob_path(char *out, size_t cap, const char *home, const uint8_t hash[PROTO_HASH_BYTES])
{
	char hex[PROTO_HASH_BYTES * 2 + 1];
	int n;

	proto_hex(hex, hash, PROTO_HASH_BYTES);
	n = snprintf(out, cap, "%s/%s/%.2s/%s", home, store_home_name(STORE_HOME_BLOBS), hex, hex);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int store_blob_stat(uint64_t *size, const char *home, const uint8_t hash[PROTO_HASH_BYTES])
{
	char path[4200];
	struct stat st;
	int rc;

	if ((rc = store_blob_path(path, sizeof(path), home, hash)) < 0)
		return rc;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? STORE_E_NOTFOUND : -errno;
	if (!S_ISREG(st.st_mode))
		return STORE_E_NOTFOUND;
	if (size)
		*size = (uint64_t)st.st_size;
	return 0;
}

int store_blob_open(int *fd, uint64_t *size, const char *home, const uint8_t hash[PROTO_HASH_BYTES])
{
	char path[4200];
	struct stat st;
	int f, rc;

	if ((rc = store_blob_path(path, sizeof(path), home, hash)) < 0)
		return rc;
	if ((f = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT ? STORE_E_NOTFOUND : -errno;
	if (fstat(f, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = S_ISREG(st.st_mode) ? -errno : STORE_E_NOTFOUND;
		close(f);
		return rc;
	}
	*fd = f;
	*size = (uint64_t)st.st_size;
	return 0;
}

/* mkdir that is fine with a directory already there. */
static int mkdir_once(const char *path)
{
	return mkdir(path, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

int store_blob_in_new(struct store_blob_in **out, const char *home, const uint8_t *hash,
                      uint64_t size)
{
	struct store_blob_in *b;
	struct timespec ts;
	char dir[4200];
	int n, rc;

	if (size == 0 || size > PROTO_ATTACH_SIZE_MAX)
		return -EINVAL;
	n = snprintf(dir, sizeof(dir), "%s/%s", home, store_home_name(STORE_HOME_BLOBS));
	if (n < 0 || (size_t)n >= sizeof(dir) || strlen(home) >= sizeof(b->home))
		return -ENAMETOOLONG;
	if ((rc = mkdir_once(dir)) < 0)
		return rc;
	if (!(b = calloc(1, sizeof(*b))))
		return -ENOMEM;
	b->fd = -1;
	snprintf(b->home, sizeof(b->home), "%s", home);
	b->size = size;
	if (hash) {
		b->check = true;
		memcpy(b->hash, hash, PROTO_HASH_BYTES);
	}
	/* A fresh name each try, O_EXCL|O_NOFOLLOW: nothing planted is opened. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	for (unsigned i = 0; b->fd < 0 && i < 100; i++) {
		n = snprintf(b->tmp, sizeof(b->tmp), "%s/.in-%ld-%lx-%u", dir, (long)getpid(),
		             (unsigned long)ts.tv_nsec, i);
		if (n < 0 || (size_t)n >= sizeof(b->tmp)) {
			free(b);
			return -ENAMETOOLONG;
		}
		b->fd = open(b->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (b->fd < 0 && errno != EEXIST) {
			rc = -errno;
			free(b);
			return rc;
		}
	}
	if (b->fd < 0) {
		free(b);
		return -EEXIST;
	}
	crypto_generichash_init(&b->st, NULL, 0, PROTO_HASH_BYTES);
	*out = b;
	return 0;
}

int store_blob_in_write(struct store_blob_in *b, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (len > b->size - b->have)
		return STORE_E_TOO_LARGE;
	crypto_generichash_update(&b->st, p, len);
	while (len) {
		ssize_t w = write(b->fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
		b->have += (uint64_t)w;
	}
	return 0;
}

uint64_t store_blob_in_have(const struct store_blob_in *b)
{
	return b->have;
}

void store_blob_in_free(struct store_blob_in *b)
{
	if (!b)
		return;
	if (b->fd >= 0)
		close(b->fd);
	unlink(b->tmp);
	sodium_memzero(&b->st, sizeof(b->st));
	free(b);
}

int store_blob_in_finish(uint8_t hash_out[PROTO_HASH_BYTES], struct store_blob_in *b)
{
	uint8_t got[PROTO_HASH_BYTES];
	char path[4200], dir[4200];
	int rc;

	if (b->have != b->size) {
		rc = STORE_E_BLOB;
		goto out;
	}
	crypto_generichash_final(&b->st, got, PROTO_HASH_BYTES);
	if (b->check && sodium_memcmp(got, b->hash, PROTO_HASH_BYTES) != 0) {
		rc = STORE_E_BLOB;
		goto out;
	}
	if (fsync(b->fd) < 0 || close(b->fd) < 0) {
		rc = -errno;
		b->fd = -1;
		goto out;
	}
	b->fd = -1;
	if ((rc = store_blob_path(path, sizeof(path), b->home, got)) < 0)
		goto out;
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	if ((rc = mkdir_once(dir)) < 0)
		goto out;
	/* link(): a blob stored meanwhile (the same bytes) is kept as it is. */
	if (link(b->tmp, path) < 0 && errno != EEXIST) {
		rc = -errno;
		goto out;
	}
	{
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	if (hash_out)
		memcpy(hash_out, got, PROTO_HASH_BYTES);
	rc = 0;
out:
	store_blob_in_free(b);
	return rc;
}

int store_blob_add(uint8_t hash[PROTO_HASH_BYTES], uint64_t *size, const char *home,
                   const char *src, uint64_t max)
{
	struct store_blob_in *b = NULL;
	struct stat st;
	uint8_t buf[65536], got[PROTO_HASH_BYTES];
	int fd, rc;

	if ((fd = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		rc = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > max || (uint64_t)st.st_size > PROTO_ATTACH_SIZE_MAX) {
		rc = STORE_E_TOO_LARGE;
		goto out;
	}
	if ((rc = store_blob_in_new(&b, home, NULL, (uint64_t)st.st_size)) < 0)
		goto out;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		/* A file that grows while it is read is over what fstat said. */
		if ((rc = store_blob_in_write(b, buf, (size_t)r)) < 0)
			goto out;
	}
	rc = store_blob_in_finish(got, b);
	b = NULL;
	if (rc == 0) {
		memcpy(hash, got, PROTO_HASH_BYTES);
		*size = (uint64_t)st.st_size;
	}
out:
	store_blob_in_free(b);
	close(fd);
	return rc;
}
