/*
 * conf_test.c - agora.conf's one parser and one editor (storage/conf.c).
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

#define KEY1 "193f40ca96cc68ce793c8fded14e27b7ee4d7c6bdfd1d8e4498c03a43589a5b2"
#define KEY2 "1f9b2a116d8c2cc2f67d3a819358e526170c8de20c5bccffe292a4819507310e"

static const char commented[] =
	"# agora.conf of Assens (hand-written)\n"
	"\n"
	"[node]\n"
	"name = Assens Kommune   ; the municipality\n"
	"# the public key, for whoami\n"
	"key = " KEY1 "\n"
	"listen = 0.0.0.0:7420\n"
	"\n"
	"# partners, one section each\n"
	"[peer]\n"
	"address = agora.vejle.dk:7420\n"
	"key = " KEY2 "\n"
	"name = Vejle Kommune\n"
	"\n"
	"# the profile goes last\n"
	"[profile]\n"
	"# figures from 2024\n"
	"population = 41000\n"
	"languages = da,en\n";

static int parse(struct store_conf *c, const char *text, char *err, size_t cap)
{
	return store_conf_parse(c, text, strlen(text), "agora.conf", err, cap);
}

static uint8_t *key_of(const char *hex)
{
	static uint8_t k[PROTO_KEY_BYTES];
	assert_int_equal(proto_unhex(k, sizeof(k), hex), 0);
	return k;
}

static void test_store_conf_parse__every_section_into_one_struct(void **state)
{
	struct store_conf c;
	char err[256];
	(void)state;
	assert_int_equal(parse(&c, commented, err, sizeof(err)), 0);
	assert_string_equal(c.name, "Assens Kommune");
	assert_true(c.has_key);
	assert_memory_equal(c.key, key_of(KEY1), PROTO_KEY_BYTES);
	assert_true(c.has_listen);
	assert_string_equal(c.listen_host, "0.0.0.0");
	assert_int_equal(c.listen_port, 7420);
	assert_int_equal(c.listen_line, 7);
	assert_null(c.log_level);
	assert_int_equal(c.n_peers, 1);
	assert_string_equal(c.peers[0].address, "agora.vejle.dk:7420");
	assert_string_equal(c.peers[0].host, "agora.vejle.dk");
	assert_string_equal(c.peers[0].name, "Vejle Kommune");
	assert_int_equal(c.peers[0].line, 10);
	assert_true(c.has_profile);
	assert_int_equal(c.n_profile, 2);
	assert_string_equal(c.profile[1].name, "languages");
	assert_string_equal(c.profile[1].value, "da,en");
	assert_int_equal(c.profile[1].line, 19);
	assert_ptr_equal(store_conf_peer_find(&c, key_of(KEY2)), &c.peers[0]);
	assert_null(store_conf_peer_find(&c, key_of(KEY1)));
	store_conf_dispose(&c);
}

static void test_store_conf_parse__peers_have_no_fixed_cap(void **state)
{
	char *text = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct store_conf c;
	(void)state;
	for (unsigned i = 0; i < 1000; i++)
		fprintf(f, "[peer]\nkey = %064x\nname = peer %u\n\n", i + 1, i);
	fclose(f);
	assert_int_equal(store_conf_parse(&c, text, len, "agora.conf", err, sizeof(err)), 0);
	assert_int_equal(c.n_peers, 1000);
	assert_string_equal(c.peers[999].name, "peer 999");
	assert_int_equal(c.peers[999].line, 999 * 4 + 1);
	store_conf_dispose(&c);
	free(text);
}

/* text (len bytes) must be refused with "agora.conf:<line>: ...<what>...". */
static void refused_n(const char *text, size_t len, int line, const char *what)
{
	struct store_conf c, before;
	char err[320], at[32];
	memset(&c, 0x5a, sizeof(c));
	before = c;
	if (store_conf_parse(&c, text, len, "agora.conf", err, sizeof(err)) != STORE_E_CONF)
		fail_msg("'%s' was accepted", text);
	assert_memory_equal(&c, &before, sizeof(c));   /* nothing written */
	snprintf(at, sizeof(at), "agora.conf:%d: ", line);
	if (strncmp(err, at, strlen(at)) || !strstr(err, what))
		fail_msg("'%s' gave '%s', want '%s...%s'", text, err, at, what);
}

static void refused(const char *text, int line, const char *what)
{
	refused_n(text, strlen(text), line, what);
}

static void test_store_conf_parse__bad_lines_are_named_with_file_and_line(void **state)
{
	(void)state;
	refused("[node]\nname = x\n\nlisten_port = 3\n", 4, "[node] has no key 'listen_port'");
	refused("[nodes]\nname = x\n", 2, "unknown section [nodes]");
	refused("name = x\n", 1, "outside any section");
	refused("[peer]\naddress = nowhere\nkey = " KEY1 "\n", 2, "is not HOST:PORT");
	refused("[peer]\naddress = h:70000\nkey = " KEY1 "\n", 2, "is not HOST:PORT");
	refused("[peer]\nkey = abc\n", 2, "64-digit hex");
	refused("\n[peer]\naddress = h:1\n", 2, "[peer] needs key");
	refused("[peer]\n[peer]\nkey = " KEY1 "\n", 1, "[peer] needs key");
	refused("[peer]\nkey = " KEY1 "\n[peer]\nkey = " KEY1 "\n", 4, "listed twice");
	refused("[peer]\nkey = " KEY1 "\nkey = " KEY2 "\n", 3, "set twice");
	refused("[node]\nname = a\n[profile]\n[node]\n", 4, "a second [node]");
	refused("[node]\nlisten = 1.2.3.4\n", 2, "[node] listen");
	refused("[node]\nkey = 12\n", 2, "[node] key");
	refused("[node]\npublic-address = a.example\n", 2, "has no port");
	refused("[node]\npublic-address = a:1,,b:2\n", 2, "[node] public-address");
	refused("[node]\npublic-address = 0.0.0.0:7420\n", 2, "[node] public-address");
	refused("[node]\npublic-address = a:1 b:2\n", 2, "separate addresses with commas");
	refused("[node]\npublic-address = a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9\n", 2,
	        "more than 8");
	refused("[node]\n  name = x\n", 2, "starts with a blank");
	refused("[node]\nname = x\n  more\n", 3, "starts with a blank");
	refused("garbage line\n", 1, "not a valid INI line");
	refused_n("[node]\nname = a\0b\n", 16, 2, "NUL byte");
	char long_line[300];
	snprintf(long_line, sizeof(long_line), "[node]\nname = %0250d\n", 0);
	refused(long_line, 2, "longer than");
}

static void test_store_conf_parse__public_address_is_a_list_of_endpoint_addresses(void **state)
{
	struct store_conf c;
	char err[256], a[PROTO_ENDPOINT_MAX][PROTO_ADDRESS_MAX + 1];
	size_t n = 99;
	bool none = true;
	(void)state;
	assert_int_equal(parse(&c, "[node]\npublic-address = a.example:7420 , [2001:db8::1]:1\n",
	                       err, sizeof(err)), 0);
	assert_string_equal(c.public_address, "a.example:7420 , [2001:db8::1]:1");
	assert_int_equal(c.public_address_line, 2);
	assert_int_equal(store_conf_addresses(a, &n, &none, c.public_address, NULL), 0);
	assert_int_equal(n, 2);
	assert_false(none);
	assert_string_equal(a[0], "a.example:7420");
	assert_string_equal(a[1], "[2001:db8::1]:1");
	store_conf_dispose(&c);
	assert_int_equal(store_conf_addresses(a, &n, &none, "none", NULL), 0);
	assert_true(none);
	assert_int_equal(n, 0);
	/* a refused value writes nothing */
	n = 77;
	const char *why = NULL;
	assert_int_equal(store_conf_addresses(a, &n, &none, "x:1,", &why), -EINVAL);
	assert_non_null(why);
	assert_int_equal(n, 77);
}

static void test_store_conf_parse__comments_and_indented_comments_are_fine(void **state)
{
	struct store_conf c;
	char err[256];
	(void)state;
	assert_int_equal(parse(&c, "\xEF\xBB\xBF# bom\n  # indented\n[node]\n; semi\nname = a\n", err,
	                       sizeof(err)), 0);
	assert_string_equal(c.name, "a");
	store_conf_dispose(&c);
	/* A byte-order mark before the first header. */
	assert_int_equal(parse(&c, "\xEF\xBB\xBF[peer]\nkey = " KEY1 "\n", err, sizeof(err)), 0);
	assert_int_equal(c.n_peers, 1);
	store_conf_dispose(&c);
	assert_int_equal(parse(&c, "", err, sizeof(err)), 0);
	assert_false(c.has_profile);
	assert_int_equal(c.n_peers, 0);
	store_conf_dispose(&c);
}

static void test_store_conf_parse__the_example_file_parses(void **state)
{
	struct store_conf c;
	char err[320];
	(void)state;
	int rc = store_conf_load(&c, AGORA_CONF_EXAMPLE, err, sizeof(err));
	if (rc)
		fail_msg("%s", err);
	assert_true(c.n_peers >= 2);
	assert_string_equal(c.log_level, "info");
	store_conf_dispose(&c);
}

/* ---------------------------------------------------------------- editor */

struct fx {
	char *dir, *path;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->dir = th_tmpdir();
	assert_true(asprintf(&f->path, "%s/agora.conf", f->dir) > 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	free(f->path);
	th_rmdir(f->dir);
	free(f);
	return 0;
}

static void put(const char *path, const char *text, mode_t mode)
{
	th_put_file(path, text, strlen(text), mode);
}


static struct store_conf_edit *edit(struct fx *f)
{
	struct store_conf_edit *e = NULL;
	char err[256];
	int rc = store_conf_edit_open(&e, f->path, err, sizeof(err));
	if (rc)
		fail_msg("open: %s", err);
	return e;
}

static void save(struct store_conf_edit *e)
{
	char err[256];
	int rc = store_conf_edit_save(e, 0, err, sizeof(err));
	if (rc)
		fail_msg("save: %s", err);
	store_conf_edit_free(e);
}

static void test_store_conf_edit__round_trip_keeps_comments_and_other_sections(void **state)
{
	struct fx *f = *state;
	struct store_conf c;
	struct store_conf_edit *e;
	char err[256];
	bool replaced = true;
	put(f->path, commented, 0600);

	e = edit(f);
	assert_int_equal(store_conf_edit_peer_put(e, key_of(KEY1), "[::1]:7421", "Middelfart",
	                                          &replaced), 0);
	assert_false(replaced);
	save(e);
	char *after = th_read_file(f->path);
	/* Everything that was there is still there, in order, as written. */
	assert_int_equal(strncmp(after, commented, strlen(commented)), 0);
	assert_string_equal(after + strlen(commented),
	                    "\n[peer]\naddress = [::1]:7421\nkey = " KEY1 "\nname = Middelfart\n");
	free(after);
	assert_int_equal(store_conf_load(&c, f->path, err, sizeof(err)), 0);
	assert_int_equal(c.n_peers, 2);
	assert_string_equal(c.peers[1].host, "::1");
	assert_int_equal(c.peers[1].port, 7421);
	store_conf_dispose(&c);

	/* Rewriting a peer rewrites its section's keys only. */
	e = edit(f);
	assert_int_equal(store_conf_edit_peer_put(e, key_of(KEY2), NULL, "Vejle", &replaced), 0);
	assert_true(replaced);
	save(e);
	after = th_read_file(f->path);
	assert_non_null(strstr(after, "# partners, one section each\n[peer]\nkey = " KEY2
	                              "\nname = Vejle\n\n# the profile goes last\n"));
	free(after);

	/* Removing both gives back the file as it was, but for that peer. */
	e = edit(f);
	assert_int_equal(store_conf_edit_peer_remove(e, key_of(KEY1)), 0);
	assert_int_equal(store_conf_edit_peer_remove(e, key_of(KEY1)), STORE_E_NOTFOUND);
	assert_int_equal(store_conf_edit_peer_remove(e, key_of(KEY2)), 0);
	save(e);
	after = th_read_file(f->path);
	assert_string_equal(after,
		"# agora.conf of Assens (hand-written)\n\n[node]\n"
		"name = Assens Kommune   ; the municipality\n# the public key, for whoami\n"
		"key = " KEY1 "\nlisten = 0.0.0.0:7420\n\n# partners, one section each\n"
		"\n# the profile goes last\n[profile]\n# figures from 2024\npopulation = 41000\n"
		"languages = da,en\n");
	free(after);
}

static void test_store_conf_edit__node_key_replaced_in_place_never_by_substitution(void **state)
{
	struct fx *f = *state;
	struct store_conf c;
	struct store_conf_edit *e;
	char err[256];
	/* The node's key also stands in a peer section and in a comment:
	 * only [node] key changes. */
	char text[1024];
	snprintf(text, sizeof(text), "[node]\nkey = %s\nname = A\n\n# old key %s\n[peer]\nkey = %s\n",
	         KEY1, KEY1, KEY1);
	put(f->path, text, 0600);
	e = edit(f);
	assert_int_equal(store_conf_edit_node_set(e, "key", KEY2), 0);
	save(e);
	char *after = th_read_file(f->path);
	snprintf(text, sizeof(text), "[node]\nkey = %s\nname = A\n\n# old key %s\n[peer]\nkey = %s\n",
	         KEY2, KEY1, KEY1);
	assert_string_equal(after, text);
	free(after);
	assert_int_equal(store_conf_load(&c, f->path, err, sizeof(err)), 0);
	assert_memory_equal(c.key, key_of(KEY2), PROTO_KEY_BYTES);
	assert_memory_equal(c.peers[0].key, key_of(KEY1), PROTO_KEY_BYTES);
	store_conf_dispose(&c);
}

static void test_store_conf_edit__new_file_has_node_then_profile(void **state)
{
	struct fx *f = *state;
	struct store_conf c;
	struct store_conf_edit *e = edit(f);   /* no file yet */
	struct store_conf_value v[2] = { { "name", "Assens", 0 }, { "population", "41000", 0 } };
	char err[256];
	assert_int_equal(store_conf_edit_node_set(e, "name", "Assens"), 0);
	assert_int_equal(store_conf_edit_node_set(e, "key", KEY1), 0);
	assert_int_equal(store_conf_edit_profile_set(e, v, 2), 0);
	assert_int_equal(store_conf_edit_save(e, STORE_WRITE_NEW, err, sizeof(err)), 0);
	/* A second creation never replaces it. */
	assert_int_equal(store_conf_edit_save(e, STORE_WRITE_NEW, err, sizeof(err)), -EEXIST);
	store_conf_edit_free(e);
	assert_int_equal(store_conf_load(&c, f->path, err, sizeof(err)), 0);
	assert_string_equal(c.name, "Assens");
	assert_int_equal(c.n_profile, 2);
	assert_string_equal(c.profile[1].value, "41000");
	store_conf_dispose(&c);
	char *text = th_read_file(f->path);
	assert_true(strstr(text, "[node]") < strstr(text, "[profile]"));
	assert_non_null(strstr(text, "# public key of identity.key"));
	free(text);
}

static void test_store_conf_edit__saves_mode_0600_and_never_through_a_link(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char *victim = NULL;
	assert_true(asprintf(&victim, "%s/victim", f->dir) > 0);
	put(victim, "[node]\nname = someone else's\n", 0644);
	assert_int_equal(symlink(victim, f->path), 0);
	struct store_conf_edit *e = edit(f);   /* reads through the link... */
	assert_int_equal(store_conf_edit_node_set(e, "name", "Assens"), 0);
	save(e);                               /* ...but never writes through it */
	char *v = th_read_file(victim);
	assert_string_equal(v, "[node]\nname = someone else's\n");
	free(v);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A looser file is written back 0600. */
	assert_int_equal(chmod(f->path, 0664), 0);
	e = edit(f);
	assert_int_equal(store_conf_edit_node_set(e, "country", "DK"), 0);
	save(e);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(victim);
}

static void test_store_conf_edit__refuses_values_that_would_read_back_otherwise(void **state)
{
	struct fx *f = *state;
	struct store_conf_edit *e = edit(f);
	struct store_conf_value bad = { "description", "line\nbreak", 0 };
	char *text = NULL;
	size_t len = 0;
	char longv[STORE_CONF_LINE_MAX];
	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	assert_int_equal(store_conf_edit_node_set(e, "name", "a ; b"), -EINVAL);
	assert_int_equal(store_conf_edit_node_set(e, "name", ";a"), -EINVAL);
	assert_int_equal(store_conf_edit_node_set(e, "name", " a"), -EINVAL);
	assert_int_equal(store_conf_edit_node_set(e, "name", "a\tb"), -EINVAL);
	assert_int_equal(store_conf_edit_node_set(e, "name", longv), -EINVAL);
	assert_int_equal(store_conf_edit_node_set(e, "name", "a;b # c"), 0);   /* reads back */
	assert_int_equal(store_conf_edit_profile_set(e, &bad, 1), -EINVAL);
	assert_int_equal(store_conf_edit_peer_put(e, key_of(KEY1), "no-port", NULL, NULL), -EINVAL);
	assert_int_equal(store_conf_edit_text(e, &text, &len), 0);
	struct store_conf c;
	char err[256];
	assert_int_equal(store_conf_parse(&c, text, len, "x", err, sizeof(err)), 0);
	assert_string_equal(c.name, "a;b # c");
	assert_int_equal(c.n_peers, 0);
	store_conf_dispose(&c);
	free(text);
	store_conf_edit_free(e);
}

static void test_store_conf_edit__an_invalid_file_is_not_edited(void **state)
{
	struct fx *f = *state;
	struct store_conf_edit *e = NULL;
	char err[256];
	put(f->path, "[node]\nname = a\n[bogus\n", 0600);
	assert_int_equal(store_conf_edit_open(&e, f->path, err, sizeof(err)), STORE_E_CONF);
	assert_null(e);
	assert_non_null(strstr(err, "agora.conf:3:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_conf_parse__every_section_into_one_struct),
		cmocka_unit_test(test_store_conf_parse__peers_have_no_fixed_cap),
		cmocka_unit_test(test_store_conf_parse__bad_lines_are_named_with_file_and_line),
		cmocka_unit_test(test_store_conf_parse__public_address_is_a_list_of_endpoint_addresses),
		cmocka_unit_test(test_store_conf_parse__comments_and_indented_comments_are_fine),
		cmocka_unit_test(test_store_conf_parse__the_example_file_parses),
		cmocka_unit_test_setup_teardown(test_store_conf_edit__round_trip_keeps_comments_and_other_sections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_conf_edit__node_key_replaced_in_place_never_by_substitution, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_conf_edit__new_file_has_node_then_profile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_conf_edit__saves_mode_0600_and_never_through_a_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_conf_edit__refuses_values_that_would_read_back_otherwise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_conf_edit__an_invalid_file_is_not_edited, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
