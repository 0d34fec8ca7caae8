/* config_test.c - agora.conf as agorad reads it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/node.h"

#define KEY1 "193f40ca96cc68ce793c8fded14e27b7ee4d7c6bdfd1d8e4498c03a43589a5b2"
#define KEY2 "1f9b2a116d8c2cc2f67d3a819358e526170c8de20c5bccffe292a4819507310e"

static int parse(struct node_config *c, const char *text)
{
	return node_config_parse(c, text, strlen(text), "agora.conf");
}

static void test_config__peers_sections_repeat(void **state)
{
	struct node_config *c = calloc(1, sizeof(*c));
	(void)state;
	assert_int_equal(parse(c, "[node]\nname = Assens\nlisten = 127.0.0.1:7421\n"
	                          "[profile]\npopulation = 41000\n"
	                          "[peer]\naddress = 10.0.0.2:7420\nkey = " KEY1 "\nname = Vejle\n\n"
	                          "[peer]\nkey = " KEY2 "\n"), 0);
	assert_string_equal(c->name, "Assens");
	assert_true(c->has_listen);
	assert_int_equal(c->listen_port, 7421);
	assert_int_equal(c->n_peers, 2);
	assert_string_equal(c->peers[0].host, "10.0.0.2");
	assert_int_equal(c->peers[0].port, 7420);
	assert_string_equal(c->peers[0].name, "Vejle");
	assert_int_equal(c->peers[0].key[0], 0x19);
	assert_string_equal(c->peers[1].host, "");   /* accept only */
	assert_int_equal(c->peers[1].key[0], 0x1f);
	node_config_dispose(c);
	free(c);
}

static void test_config__unknown_key_names_the_line(void **state)
{
	struct node_config *c = calloc(1, sizeof(*c));
	(void)state;
	assert_int_equal(parse(c, "[node]\nname = x\n\nlisten_port = 3\n"), NODE_E_CONFIG);
	assert_non_null(strstr(c->error, "agora.conf:4:"));
	assert_non_null(strstr(c->error, "listen_port"));
	assert_int_equal(parse(c, "[nodes]\nname = x\n"), NODE_E_CONFIG);
	assert_non_null(strstr(c->error, "agora.conf:2:"));
	node_config_dispose(c);
	free(c);
}

static void test_config__bad_values_are_errors(void **state)
{
	struct node_config *c = calloc(1, sizeof(*c));
	(void)state;
	assert_int_equal(parse(c, "[peer]\naddress = nowhere\nkey = " KEY1 "\n"), NODE_E_CONFIG);
	assert_non_null(strstr(c->error, ":2:"));
	assert_int_equal(parse(c, "[peer]\naddress = h:70000\nkey = " KEY1 "\n"), NODE_E_CONFIG);
	assert_int_equal(parse(c, "[peer]\nkey = abc\n"), NODE_E_CONFIG);
	assert_int_equal(parse(c, "[peer]\naddress = h:1\n"), NODE_E_CONFIG);   /* no key */
	assert_non_null(strstr(c->error, ":1:"));
	assert_int_equal(parse(c, "[peer]\nkey = " KEY1 "\n[peer]\nkey = " KEY1 "\n"), NODE_E_CONFIG);
	assert_non_null(strstr(c->error, "twice"));
	assert_int_equal(parse(c, "[node]\nlog-level = loud\n"), NODE_E_CONFIG);
	assert_int_equal(parse(c, "[node]\nlisten = 0.0.0.0:0\nlog-level = debug\n"), 0);
	assert_int_equal(c->log_level, NODE_LOG_DEBUG);
	assert_int_equal(parse(c, "garbage line\n"), NODE_E_CONFIG);
	node_config_dispose(c);
	free(c);
}

static void test_config__connections_bound_is_2_to_64(void **state)
{
	struct node_config *c = calloc(1, sizeof(*c));
	(void)state;
	assert_int_equal(parse(c, "[node]\nname = x\n"), 0);
	assert_int_equal(c->connections, 0);   /* absent: agorad's default */
	assert_int_equal(parse(c, "[node]\nconnections = 5\n"), 0);
	assert_int_equal(c->connections, 5);
	assert_int_equal(parse(c, "[node]\nconnections = 64\n"), 0);
	assert_int_equal(c->connections, 64);
	const char *bad[] = { "1", "65", "0", "-3", "8x", "", "99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];
		snprintf(text, sizeof(text), "[node]\nconnections = %s\n", bad[i]);
		assert_int_equal(parse(c, text), NODE_E_CONFIG);
		assert_non_null(strstr(c->error, "connections"));
	}
	node_config_dispose(c);
	free(c);
}

static void test_config__hostport_forms(void **state)
{
	char host[NODE_HOST_MAX];
	uint16_t port;
	(void)state;
	assert_int_equal(node_parse_hostport(host, &port, "[::1]:7420", false), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 7420);
	assert_int_equal(node_parse_hostport(host, &port, "agora.assens.dk:1", false), 0);
	assert_string_equal(host, "agora.assens.dk");
	assert_int_equal(node_parse_hostport(host, &port, "::1:7420", false), NODE_E_ADDRESS);
	assert_int_equal(node_parse_hostport(host, &port, "h:0", false), NODE_E_ADDRESS);
	assert_int_equal(node_parse_hostport(host, &port, "h:0", true), 0);
	assert_int_equal(node_parse_hostport(host, &port, ":80", false), NODE_E_ADDRESS);
	assert_int_equal(node_parse_hostport(host, &port, "h:-1", true), NODE_E_ADDRESS);
}

static void test_config__example_file_parses(void **state)
{
	struct node_config *c = calloc(1, sizeof(*c));
	(void)state;
	int rc = node_config_load(c, AGORA_CONF_EXAMPLE);
	if (rc)
		print_message("%s\n", c->error);
	assert_int_equal(rc, 0);
	assert_true(c->n_peers >= 1);
	node_config_dispose(c);
	free(c);
}

static void test_config__missing_file_is_empty_config(void **state)
{
	struct node_config *c = calloc(1, sizeof(*c));
	(void)state;
	assert_int_equal(node_config_load(c, "/nonexistent/agora.conf"), 0);
	assert_int_equal(c->n_peers, 0);
	assert_false(c->has_listen);
	node_config_dispose(c);
	free(c);
}

static void test_config__hook_words_split_without_a_shell(void **state)
{
	char **w;
	size_t n;
	(void)state;
	assert_int_equal(node_hook_split(&w, &n, "  /bin/notify 'two words' \"a \\\"q\\\"\" x\\ y $HOME;rm"), 0);
	assert_int_equal(n, 5);
	assert_string_equal(w[0], "/bin/notify");
	assert_string_equal(w[1], "two words");
	assert_string_equal(w[2], "a \"q\"");
	assert_string_equal(w[3], "x y");
	assert_string_equal(w[4], "$HOME;rm");   /* no shell: nothing expands */
	assert_null(w[5]);
	free(w);
	assert_int_equal(node_hook_split(&w, &n, ""), 0);
	assert_int_equal(n, 0);
	free(w);
	assert_int_equal(node_hook_split(&w, &n, "a 'open"), NODE_E_CONFIG);
	assert_int_equal(node_hook_split(&w, &n, "a \"open"), NODE_E_CONFIG);
	assert_int_equal(node_hook_split(&w, &n, "a\\"), NODE_E_CONFIG);
}

static void test_config__hooks_need_a_command_and_a_sane_timeout(void **state)
{
	struct node_config *c = calloc(1, sizeof(*c));
	(void)state;
	assert_int_equal(parse(c, "[hook]\ncommand = /bin/cat\nfilter = --kind measure\n"
	                          "[hook]\ncommand = x\ntimeout = 5\n"), 0);
	assert_int_equal(c->n_hooks, 2);
	assert_string_equal(c->hooks[0].filter, "--kind measure");
	assert_int_equal(c->hooks[0].timeout_s, NODE_HOOK_TIMEOUT_S);
	assert_int_equal(c->hooks[1].timeout_s, 5);
	node_config_dispose(c);
	assert_int_equal(parse(c, "[hook]\nfilter = --kind measure\n"), NODE_E_CONFIG);
	assert_non_null(strstr(c->error, "needs command"));
	node_config_dispose(c);
	assert_int_equal(parse(c, "[hook]\ncommand = x\ntimeout = 0\n"), NODE_E_CONFIG);
	node_config_dispose(c);
	assert_int_equal(parse(c, "[hook]\ncommand = x 'unclosed\n"), NODE_E_CONFIG);
	assert_non_null(strstr(c->error, ":1: [hook] command"));
	node_config_dispose(c);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config__peers_sections_repeat),
		cmocka_unit_test(test_config__hook_words_split_without_a_shell),
		cmocka_unit_test(test_config__hooks_need_a_command_and_a_sane_timeout),
		cmocka_unit_test(test_config__unknown_key_names_the_line),
		cmocka_unit_test(test_config__bad_values_are_errors),
		cmocka_unit_test(test_config__connections_bound_is_2_to_64),
		cmocka_unit_test(test_config__hostport_forms),
		cmocka_unit_test(test_config__example_file_parses),
		cmocka_unit_test(test_config__missing_file_is_empty_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
