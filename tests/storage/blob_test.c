/*
 * blob_test.c - the attachments' files (storage/blob.c): a file copied in
 * comes back byte for byte under its BLAKE2b-256; a blob written in pieces
 * is stored only when all of it hashes to the hash its record gives; a file
 * over the limit is refused; nothing half-written is ever left under a
 * blob's name.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "helper.h"

static uint8_t *pattern(size_t n, unsigned seed)
{
	uint8_t *b = malloc(n);
	assert_non_null(b);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((i * 131u + seed) ^ (i >> 9));
	return b;
}

/* Entries of dir other than . and .. */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void test_store_blob__a_file_added_reads_back_under_its_hash(void **state)
{
	char *home = th_tmpdir(), src[4200], path[4200];
	size_t n = 3 * 65536 + 17;
	uint8_t *data = pattern(n, 1), hash[32], want[32];
	uint64_t size = 0, got = 0;
	int fd;
	(void)state;

	snprintf(src, sizeof(src), "%s/plan.pdf", home);
	th_put_file(src, data, n, 0600);
	assert_int_equal(store_blob_add(hash, &size, home, src, n), 0);
	crypto_generichash(want, 32, data, n, NULL, 0);
	assert_memory_equal(hash, want, 32);
	assert_int_equal(size, n);
	assert_int_equal(store_blob_stat(&got, home, hash), 0);
	assert_int_equal(got, n);
	assert_int_equal(store_blob_open(&fd, &got, home, hash), 0);
	uint8_t *back = malloc(n);
	assert_int_equal(pread(fd, back, n, 0), (ssize_t)n);
	close(fd);
	assert_memory_equal(back, data, n);
	/* Its name is its hash, under the first two hex digits. */
	char hex[65];
	proto_hex(hex, hash, 32);
	assert_int_equal(store_blob_path(path, sizeof(path), home, hash), 0);
	assert_non_null(strstr(path, "/blobs/"));
	assert_non_null(strstr(path, hex));
	/* Adding it again stores nothing new. */
	assert_int_equal(store_blob_add(hash, &size, home, src, n), 0);
	snprintf(path, sizeof(path), "%s/blobs", home);
	assert_int_equal(entries(path), 1);
	free(back);
	free(data);
	th_rmdir(home);
}

static void test_store_blob__a_file_over_the_limit_is_refused(void **state)
{
	char *home = th_tmpdir(), src[4200], dir[4200];
	uint8_t *data = pattern(1001, 2), hash[32];
	uint64_t size = 0;
	(void)state;

	snprintf(src, sizeof(src), "%s/big.bin", home);
	th_put_file(src, data, 1001, 0600);
	assert_int_equal(store_blob_add(hash, &size, home, src, 1000), STORE_E_TOO_LARGE);
	assert_int_equal(store_blob_add(hash, &size, home, src, 1001), 0);
	/* An empty file is no attachment. */
	th_put_file(src, "", 0, 0600);
	assert_int_equal(store_blob_add(hash, &size, home, src, 1000), -EINVAL);
	snprintf(dir, sizeof(dir), "%s/blobs", home);
	assert_int_equal(entries(dir), 1);
	free(data);
	th_rmdir(home);
}

static void test_store_blob__pieces_that_hash_wrong_are_not_stored(void **state)
{
	char *home = th_tmpdir(), dir[4200];
	size_t n = 200000;
	uint8_t *data = pattern(n, 3), hash[32], out[32];
	struct store_blob_in *b = NULL;
	(void)state;

	crypto_generichash(hash, 32, data, n, NULL, 0);
	snprintf(dir, sizeof(dir), "%s/blobs", home);
	/* One byte altered in transit: refused, and no file is left behind. */
	assert_int_equal(store_blob_in_new(&b, home, hash, n), 0);
	data[70000] ^= 1;
	for (size_t off = 0; off < n; off += 65536)
		assert_int_equal(store_blob_in_write(b, data + off, n - off < 65536 ? n - off : 65536), 0);
	assert_int_equal(store_blob_in_have(b), n);
	assert_int_equal(store_blob_in_finish(out, b), STORE_E_BLOB);
	assert_int_equal(store_blob_stat(NULL, home, hash), STORE_E_NOTFOUND);
	assert_int_equal(entries(dir), 0);
	/* Short of its size: refused too. */
	data[70000] ^= 1;
	assert_int_equal(store_blob_in_new(&b, home, hash, n), 0);
	assert_int_equal(store_blob_in_write(b, data, n - 1), 0);
	assert_int_equal(store_blob_in_finish(out, b), STORE_E_BLOB);
	assert_int_equal(entries(dir), 0);
	/* More than its size: refused before anything is written. */
	assert_int_equal(store_blob_in_new(&b, home, hash, n), 0);
	assert_int_equal(store_blob_in_write(b, data, n - 1), 0);
	assert_int_equal(store_blob_in_write(b, data, 2), STORE_E_TOO_LARGE);
	store_blob_in_free(b);
	assert_int_equal(entries(dir), 0);
	/* The right bytes: stored. */
	assert_int_equal(store_blob_in_new(&b, home, hash, n), 0);
	assert_int_equal(store_blob_in_write(b, data, n), 0);
	assert_int_equal(store_blob_in_finish(out, b), 0);
	assert_memory_equal(out, hash, 32);
	assert_int_equal(store_blob_stat(NULL, home, hash), 0);
	free(data);
	th_rmdir(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_blob__a_file_added_reads_back_under_its_hash),
		cmocka_unit_test(test_store_blob__a_file_over_the_limit_is_refused),
		cmocka_unit_test(test_store_blob__pieces_that_hash_wrong_are_not_stored),
	};
	if (proto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
