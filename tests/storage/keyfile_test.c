/*
 * keyfile_test.c - the one identity.key loader (storage/keyfile.c): every
 * refusal, and each source of the passphrase.
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
#include <sodium.h>

#include "helper.h"

struct fx {
	char *home, *key, *pass;
	struct proto_key *id;
	char msg[512];
};

static void put(const char *path, const void *buf, size_t len, mode_t mode)
{
	th_put_file(path, buf, len, mode);
}

/* identity.key for fx->id, sealed under pass (NULL: plain). */
static void write_key(struct fx *f, const char *pass)
{
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(proto_key_encode(&text, &len, f->id, pass), 0);
	unlink(f->key);
	put(f->key, text, len, 0600);
	free(text);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->home = th_tmpdir();
	assert_true(asprintf(&f->key, "%s/identity.key", f->home) > 0);
	assert_true(asprintf(&f->pass, "%s/pass", f->home) > 0);
	f->id = th_key(7);
	unsetenv("AGORA_PASSPHRASE");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	proto_key_free(f->id);
	free(f->key);
	free(f->pass);
	th_rmdir(f->home);
	free(f);
	unsetenv("AGORA_PASSPHRASE");
	return 0;
}

/* Load with src; on success the key must be fx->id. */
static int load(struct fx *f, const struct store_passphrase_src *src)
{
	struct proto_key *k = (struct proto_key *)0x1;
	int rc = store_key_load(&k, f->home, src, f->msg, sizeof(f->msg));
	if (rc == 0) {
		assert_memory_equal(k->pk, f->id->pk, PROTO_KEY_BYTES);
		proto_key_free(k);
	} else {
		assert_ptr_equal(k, (struct proto_key *)0x1);   /* untouched */
		assert_true(f->msg[0] && !strchr(f->msg, '\n'));
	}
	return rc;
}

static void test_store_key_load__refuses_a_key_group_or_others_can_read(void **state)
{
	struct fx *f = *state;
	write_key(f, NULL);
	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(chmod(f->key, 0640), 0);
	assert_int_equal(load(f, NULL), PROTO_E_KEY_PERM);
	assert_non_null(strstr(f->msg, "identity.key is readable by others (mode 0640): run chmod 600"));
	assert_non_null(strstr(f->msg, f->key));
	assert_int_equal(chmod(f->key, 0604), 0);
	assert_int_equal(load(f, NULL), PROTO_E_KEY_PERM);
	assert_int_equal(chmod(f->key, 0400), 0);   /* stricter is fine */
	assert_int_equal(load(f, NULL), 0);
}

static void test_store_key_load__refuses_what_is_not_a_regular_file(void **state)
{
	struct fx *f = *state;
	assert_int_equal(mkdir(f->key, 0700), 0);
	assert_int_equal(load(f, NULL), PROTO_E_KEY);
	assert_non_null(strstr(f->msg, "not a regular file"));
	assert_int_equal(rmdir(f->key), 0);
	assert_int_equal(mkfifo(f->key, 0600), 0);
	/* A FIFO without a writer would block an open() for reading for
	 * ever: it is refused without waiting. */
	assert_int_equal(load(f, NULL), PROTO_E_KEY);
	unlink(f->key);
	put(f->key, "", 0, 0600);
	assert_int_equal(load(f, NULL), PROTO_E_KEY);
	assert_non_null(strstr(f->msg, "empty"));
	char big[STORE_KEY_FILE_MAX + 1];
	memset(big, 'a', sizeof(big));
	put(f->key, big, sizeof(big), 0600);
	assert_int_equal(load(f, NULL), PROTO_E_KEY);
	assert_non_null(strstr(f->msg, "too large"));
	put(f->key, "agora-identity-v1 plain zz\n", 27, 0600);
	assert_int_equal(load(f, NULL), PROTO_E_KEY);
	assert_non_null(strstr(f->msg, "not a valid agora key file"));
}

static void test_store_key_load__missing_key_says_run_init(void **state)
{
	struct fx *f = *state;
	assert_int_equal(load(f, NULL), -ENOENT);
	assert_non_null(strstr(f->msg, "agora init"));
}

static void test_store_key_load__refuses_another_users_key(void **state)
{
	struct fx *f = *state;
	if (geteuid() != 0)
		skip();
	write_key(f, NULL);
	assert_int_equal(chown(f->key, 65534, 65534), 0);
	assert_int_equal(load(f, NULL), PROTO_E_KEY_PERM);
	assert_non_null(strstr(f->msg, "belongs to uid 65534"));
	assert_non_null(strstr(f->msg, "chown 0"));
}

static void test_store_key_load__passphrase_file_checked_like_the_key(void **state)
{
	struct fx *f = *state;
	struct store_passphrase_src src = { .file = f->pass };
	write_key(f, "correct horse");
	put(f->pass, "correct horse\r\n", 15, 0600);
	assert_int_equal(load(f, &src), 0);
	assert_int_equal(chmod(f->pass, 0644), 0);
	assert_int_equal(load(f, &src), PROTO_E_KEY_PERM);
	assert_non_null(strstr(f->msg, "passphrase file is readable by others (mode 0644): run chmod 600"));
	assert_int_equal(chmod(f->pass, 0660), 0);
	assert_int_equal(load(f, &src), PROTO_E_KEY_PERM);
	if (geteuid() == 0) {
		assert_int_equal(chmod(f->pass, 0600), 0);
		assert_int_equal(chown(f->pass, 65534, 65534), 0);
		assert_int_equal(load(f, &src), PROTO_E_KEY_PERM);
		assert_non_null(strstr(f->msg, "belongs to uid 65534"));
	}
	unlink(f->pass);
	assert_int_equal(load(f, &src), -ENOENT);
	assert_non_null(strstr(f->msg, "cannot read passphrase file"));
}

static void test_store_key_load__nul_in_passphrase_is_refused(void **state)
{
	struct fx *f = *state;
	struct store_passphrase_src src = { .file = f->pass };
	/* The key is sealed under "correct": a NUL after it would have
	 * unlocked the key with a passphrase the user did not mean. */
	write_key(f, "correct");
	put(f->pass, "correct\0horse\n", 14, 0600);
	assert_int_equal(load(f, &src), PROTO_E_PASSPHRASE);
	assert_non_null(strstr(f->msg, "NUL byte"));
	put(f->pass, "correct\nhorse\0\n", 15, 0600);   /* anywhere in the file */
	assert_int_equal(load(f, &src), PROTO_E_PASSPHRASE);
}

static int answer(char *buf, size_t cap, const char *question, void *ctx)
{
	int *calls = ctx;
	(*calls)++;
	assert_non_null(strstr(question, "passphrase"));
	snprintf(buf, cap, "%s", *calls > 1 ? "" : "correct horse");
	return 0;
}

static void test_store_key_load__empty_passphrase_is_refused_from_every_source(void **state)
{
	struct fx *f = *state;
	int calls = 1;   /* answer() gives "" from the second call on */
	struct store_passphrase_src src = { .file = f->pass };
	write_key(f, "correct horse");
	put(f->pass, "\n", 1, 0600);
	assert_int_equal(load(f, &src), PROTO_E_PASSPHRASE);
	assert_non_null(strstr(f->msg, "empty"));
	put(f->pass, "\r\nsecond line\n", 14, 0600);
	assert_int_equal(load(f, &src), PROTO_E_PASSPHRASE);
	struct store_passphrase_src ask = { .prompt = answer, .prompt_ctx = &calls };
	assert_int_equal(load(f, &ask), PROTO_E_PASSPHRASE);
	assert_non_null(strstr(f->msg, "empty"));
	/* An empty $AGORA_PASSPHRASE is no passphrase: the next source asks. */
	setenv("AGORA_PASSPHRASE", "", 1);
	assert_int_equal(load(f, NULL), PROTO_E_PASSPHRASE);
	assert_non_null(strstr(f->msg, "encrypted"));
}

static void test_store_key_load__passphrase_sources_in_order(void **state)
{
	struct fx *f = *state;
	int calls = 0;
	struct store_passphrase_src ask = { .prompt = answer, .prompt_ctx = &calls };
	write_key(f, "correct horse");
	/* agorad: no file, no variable, no prompt. */
	assert_int_equal(load(f, NULL), PROTO_E_PASSPHRASE);
	/* The CLI on a terminal. */
	assert_int_equal(load(f, &ask), 0);
	assert_int_equal(calls, 1);
	/* The variable comes before the prompt... */
	setenv("AGORA_PASSPHRASE", "correct horse", 1);
	assert_int_equal(load(f, &ask), 0);
	assert_int_equal(calls, 1);
	/* ...and the file before the variable. */
	setenv("AGORA_PASSPHRASE", "wrong", 1);
	put(f->pass, "correct horse\n", 14, 0600);
	ask.file = f->pass;
	assert_int_equal(load(f, &ask), 0);
	ask.file = NULL;
	assert_int_equal(load(f, &ask), PROTO_E_KEY);
	assert_non_null(strstr(f->msg, "wrong passphrase"));
	assert_int_equal(calls, 1);
}

static void test_store_passphrase_get__none_is_not_an_error(void **state)
{
	struct fx *f = *state;
	char *p = (char *)0x1;
	assert_int_equal(store_passphrase_get(&p, NULL, "x", f->msg, sizeof(f->msg)), 0);
	assert_null(p);
	setenv("AGORA_PASSPHRASE", "pw", 1);
	assert_int_equal(store_passphrase_get(&p, NULL, "x", f->msg, sizeof(f->msg)), 0);
	assert_string_equal(p, "pw");
	sodium_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_key_load__refuses_a_key_group_or_others_can_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_key_load__refuses_what_is_not_a_regular_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_key_load__missing_key_says_run_init, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_key_load__refuses_another_users_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_key_load__passphrase_file_checked_like_the_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_key_load__nul_in_passphrase_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_key_load__empty_passphrase_is_refused_from_every_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_key_load__passphrase_sources_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_passphrase_get__none_is_not_an_error, setup, teardown),
	};
	if (proto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
