/*
 * home_test.c - the data directory (storage/home.c): file names, the
 * safety check agorad runs before it starts, and the one writer, which
 * never writes through a planted link.
 */
#define _GNU_SOURCE
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

#include "helper.h"

static char *path_in(const char *dir, const char *name)
{
	char *p = NULL;
	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static void put(const char *path, const char *text, mode_t mode)
{
	th_put_file(path, text, strlen(text), mode);
}


static void test_store_home_path__names_every_file(void **state)
{
	char out[64];
	(void)state;
	assert_int_equal(store_home_path(out, sizeof(out), "/h", STORE_HOME_CONF, NULL), 0);
	assert_string_equal(out, "/h/agora.conf");
	assert_int_equal(store_home_path(out, sizeof(out), "/h", STORE_HOME_KEY, ".new"), 0);
	assert_string_equal(out, "/h/identity.key.new");
	assert_int_equal(store_home_path(out, sizeof(out), "/h", STORE_HOME_SOCK, NULL), 0);
	assert_string_equal(out, "/h/" PROTO_CONTROL_SOCKET);
	assert_int_equal(store_home_path(out, sizeof(out), "/h", STORE_HOME_PORT, NULL), 0);
	assert_string_equal(out, "/h/agorad.port");
	assert_int_equal(store_home_path(out, sizeof(out), "/h", STORE_HOME_DB, NULL), 0);
	assert_string_equal(out, "/h/db");
	assert_int_equal(store_home_path(out, 8, "/h", STORE_HOME_CONF, NULL), -ENAMETOOLONG);
	assert_null(store_home_name((enum store_home_file)99));
}

static void test_store_file_write__replaces_a_planted_link_never_its_target(void **state)
{
	char *dir = th_tmpdir(), *victim = path_in(dir, "victim"), *port = path_in(dir, "agorad.port");
	char *tmp = path_in(dir, "agorad.port.tmp");
	struct stat st;
	(void)state;
	put(victim, "root's file\n", 0644);
	/* Links under the name and under the name an old writer used. */
	assert_int_equal(symlink(victim, port), 0);
	assert_int_equal(symlink(victim, tmp), 0);
	assert_int_equal(store_file_write(port, "7420\n", 5, 0644, 0), 0);
	char *v = th_read_file(victim), *p = th_read_file(port);
	assert_string_equal(v, "root's file\n");
	assert_string_equal(p, "7420\n");
	assert_int_equal(lstat(port, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0644);
	free(v);
	free(p);
	free(victim);
	free(port);
	free(tmp);
	th_rmdir(dir);
}

static void test_store_file_write__new_never_replaces_a_file_or_link(void **state)
{
	char *dir = th_tmpdir(), *victim = path_in(dir, "victim"), *key = path_in(dir, "identity.key");
	struct stat st;
	(void)state;
	put(victim, "x", 0600);
	assert_int_equal(symlink(victim, key), 0);
	assert_int_equal(store_file_write(key, "secret", 6, 0600, STORE_WRITE_NEW), -EEXIST);
	char *v = th_read_file(victim);
	assert_string_equal(v, "x");
	free(v);
	assert_int_equal(unlink(key), 0);
	umask(0);   /* the mode asked for is the mode written, whatever the umask */
	assert_int_equal(store_file_write(key, "secret", 6, 0600, STORE_WRITE_NEW), 0);
	umask(022);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(store_file_write(key, "other", 5, 0600, STORE_WRITE_NEW), -EEXIST);
	/* No temporary file is left behind, on success or refusal. */
	char *ls = NULL;
	assert_true(asprintf(&ls, "test $(ls -A '%s' | wc -l) = 2", dir) > 0);
	assert_int_equal(system(ls), 0);
	free(ls);
	free(victim);
	free(key);
	th_rmdir(dir);
}

static void test_store_home_check__refuses_what_others_could_plant_in(void **state)
{
	char *dir = th_tmpdir(), *conf = path_in(dir, "agora.conf"), *port = path_in(dir, "agorad.port");
	char msg[512];
	(void)state;
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(store_home_check(dir, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "");

	assert_int_equal(chmod(dir, 0770), 0);
	assert_int_equal(store_home_check(dir, msg, sizeof(msg)), STORE_E_UNSAFE);
	assert_non_null(strstr(msg, "writable by other users (mode 0770): run chmod go-w"));
	assert_int_equal(chmod(dir, 0755), 0);   /* readable by others is fine */
	assert_int_equal(store_home_check(dir, msg, sizeof(msg)), 0);

	put(conf, "[node]\n", 0666);
	assert_int_equal(store_home_check(dir, msg, sizeof(msg)), STORE_E_UNSAFE);
	assert_non_null(strstr(msg, conf));
	assert_int_equal(chmod(conf, 0600), 0);

	assert_int_equal(symlink("/etc/passwd", port), 0);
	assert_int_equal(store_home_check(dir, msg, sizeof(msg)), STORE_E_UNSAFE);
	assert_non_null(strstr(msg, "symbolic link"));
	assert_non_null(strstr(msg, "rm "));
	assert_int_equal(unlink(port), 0);
	assert_int_equal(store_home_check(dir, msg, sizeof(msg)), 0);

	if (geteuid() == 0) {
		/* As root on another user's directory: the case of D15. */
		assert_int_equal(chown(dir, 65534, 65534), 0);
		assert_int_equal(store_home_check(dir, msg, sizeof(msg)), STORE_E_UNSAFE);
		assert_non_null(strstr(msg, "belongs to uid 65534"));
		assert_non_null(strstr(msg, "chown"));
		assert_int_equal(chown(dir, 0, 0), 0);
		assert_int_equal(chown(conf, 65534, 65534), 0);
		assert_int_equal(store_home_check(dir, msg, sizeof(msg)), STORE_E_UNSAFE);
		assert_int_equal(chown(conf, 0, 0), 0);
	}
	char *gone = path_in(dir, "nothing");
	assert_int_equal(store_home_check(gone, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "agora init"));
	free(gone);
	free(conf);
	free(port);
	th_rmdir(dir);
}

static void test_store_file_read__bounds_and_kinds(void **state)
{
	char *dir = th_tmpdir(), *f = path_in(dir, "f");
	char *text = NULL;
	size_t len = 0;
	(void)state;
	put(f, "0123456789", 0600);
	assert_int_equal(store_file_read(f, 10, &text, &len), 0);
	assert_int_equal(len, 10);
	assert_string_equal(text, "0123456789");
	free(text);
	text = NULL;
	assert_int_equal(store_file_read(f, 9, &text, &len), -EFBIG);
	assert_null(text);
	assert_int_equal(store_file_read(dir, 10, &text, &len), -EINVAL);
	free(f);
	th_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_home_path__names_every_file),
		cmocka_unit_test(test_store_file_write__replaces_a_planted_link_never_its_target),
		cmocka_unit_test(test_store_file_write__new_never_replaces_a_file_or_link),
		cmocka_unit_test(test_store_home_check__refuses_what_others_could_plant_in),
		cmocka_unit_test(test_store_file_read__bounds_and_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
