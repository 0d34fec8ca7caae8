/*
 * fuzz_config.c - agora.conf through storage's one parser and editor
 * (storage/conf.c), which agora and agorad both use.  Properties, checked
 * on every input:
 *   - a rejected file leaves the output untouched and says where:
 *     "fuzz.conf:<line>: ...";
 *   - an accepted file's values, written into a new file by the editor,
 *     parse back to the same values (the editor refuses only what
 *     store_conf_check_value refuses);
 *   - editing an accepted file keeps everything else: adding a peer leaves
 *     the others and [node] as they were, and removing it again gives back
 *     every line as the editor read it (blank lines aside); setting [node]
 *     name changes nothing else.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/storage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "fuzz_config: %s\n", #x); abort(); } } while (0)

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void same_peers(const struct store_conf *a, const struct store_conf *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		CHECK(!memcmp(a->peers[i].key, b->peers[i].key, PROTO_KEY_BYTES));
		CHECK(same_str(a->peers[i].address, b->peers[i].address));
		CHECK(same_str(a->peers[i].name, b->peers[i].name));
		CHECK(!strcmp(a->peers[i].host, b->peers[i].host) && a->peers[i].port == b->peers[i].port);
	}
}

static void same_node(const struct store_conf *a, const struct store_conf *b)
{
	CHECK(same_str(a->country, b->country) && same_str(a->log_level, b->log_level));
	CHECK(same_str(a->public_address, b->public_address));
	CHECK(a->has_key == b->has_key && (!a->has_key || !memcmp(a->key, b->key, 32)));
	CHECK(a->has_listen == b->has_listen && a->listen_port == b->listen_port &&
	      !strcmp(a->listen_host, b->listen_host));
}

static void parse_text(struct store_conf *out, const struct store_conf_edit *e)
{
	char *text = NULL, err[256];
	size_t len = 0;
	CHECK(store_conf_edit_text(e, &text, &len) == 0);
	CHECK(store_conf_parse(out, text, len, "fuzz.conf", err, sizeof(err)) == 0);
	free(text);
}

/* Every value of c through the editor into a new file, and back. */
static void rewrite(const struct store_conf *c)
{
	struct store_conf_edit *e = NULL;
	struct store_conf back;
	size_t peers = 0;
	char err[256], port[8];
	bool ok = true;

	CHECK(store_conf_edit_new(&e, "fuzz.conf", NULL, 0, err, sizeof(err)) == 0);
	if (c->name) {
		int rc = store_conf_edit_node_set(e, "name", c->name);
		CHECK(rc == (store_conf_check_value("name", c->name) ? -EINVAL : 0));
		ok &= rc == 0;
	}
	if (ok && c->public_address) {
		int rc = store_conf_edit_node_set(e, "public-address", c->public_address);
		CHECK(rc == (store_conf_check_value("public-address", c->public_address) ? -EINVAL
		                                                                          : 0));
		ok &= rc == 0;
	}
	if (ok && c->has_listen) {
		char addr[STORE_CONF_HOST_MAX + 16];
		snprintf(port, sizeof(port), "%u", c->listen_port);
		snprintf(addr, sizeof(addr), strchr(c->listen_host, ':') ? "[%s]:%s" : "%s:%s",
		         c->listen_host, port);
		ok &= store_conf_edit_node_set(e, "listen", addr) == 0;
	}
	for (size_t i = 0; ok && i < c->n_peers; i++) {
		const struct store_conf_peer *p = &c->peers[i];
		int rc = store_conf_edit_peer_put(e, p->key, p->address, p->name, NULL);
		bool refusable = (p->name && store_conf_check_value("name", p->name)) ||
		                 (p->address && store_conf_check_value("address", p->address));
		CHECK(rc == 0 || (rc == -EINVAL && refusable));
		ok &= rc == 0;
		peers += rc == 0;
	}
	if (ok) {
		parse_text(&back, e);
		CHECK(same_str(back.name, c->name));
		CHECK(same_str(back.public_address, c->public_address));
		CHECK(back.has_listen == c->has_listen && back.listen_port == c->listen_port &&
		      !strcmp(back.listen_host, c->listen_host));
		CHECK(back.n_peers == c->n_peers);
		same_peers(&back, c, peers);
		store_conf_dispose(&back);
	}
	store_conf_edit_free(e);
}

/* The same lines but for blank ones (an added section brings one). */
static bool same_lines(const char *a, const char *b)
{
	for (;;) {
		while (*a == '\n')
			a++;
		while (*b == '\n')
			b++;
		size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
		if (la != lb || memcmp(a, b, la))
			return false;
		if (!la)
			return true;
		a += la;
		b += lb;
	}
}

/* Edits of the file itself keep what they do not touch. */
static void edit(const struct store_conf *c, const uint8_t *data, size_t size)
{
	static const uint8_t fresh[PROTO_KEY_BYTES] = { 0xf0, 0x0d };
	struct store_conf_edit *e = NULL;
	struct store_conf after;
	char *before = NULL, *again = NULL, err[256];
	size_t blen = 0, alen = 0;

	CHECK(store_conf_edit_new(&e, "fuzz.conf", (const char *)data, size, err, sizeof(err)) == 0);
	CHECK(store_conf_edit_text(e, &before, &blen) == 0);
	if (!store_conf_peer_find(c, fresh)) {
		CHECK(store_conf_edit_peer_put(e, fresh, "fuzz.example:7420", "Fuzz", NULL) == 0);
		parse_text(&after, e);
		CHECK(after.n_peers == c->n_peers + 1);
		same_peers(&after, c, c->n_peers);
		same_node(&after, c);
		CHECK(same_str(after.name, c->name) && after.n_profile == c->n_profile);
		CHECK(!memcmp(after.peers[c->n_peers].key, fresh, PROTO_KEY_BYTES));
		store_conf_dispose(&after);
		CHECK(store_conf_edit_peer_remove(e, fresh) == 0);
		CHECK(store_conf_edit_text(e, &again, &alen) == 0);
		CHECK(same_lines(again, before));
		free(again);
	}
	CHECK(store_conf_edit_node_set(e, "name", "Fuzz Kommune") == 0);
	parse_text(&after, e);
	CHECK(same_str(after.name, "Fuzz Kommune") && after.n_peers == c->n_peers);
	same_peers(&after, c, c->n_peers);
	same_node(&after, c);
	CHECK(after.n_profile == c->n_profile);
	store_conf_dispose(&after);
	free(before);
	store_conf_edit_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_conf c, untouched;
	char err[256];
	int rc;

	memset(&c, 0xa5, sizeof(c));
	untouched = c;
	rc = store_conf_parse(&c, (const char *)data, size, "fuzz.conf", err, sizeof(err));
	if (rc) {
		CHECK(rc == STORE_E_CONF && !memcmp(&c, &untouched, sizeof(c)));
		CHECK(!strncmp(err, "fuzz.conf:", 10) && err[10] >= '0' && err[10] <= '9');
		return 0;
	}
	for (size_t i = 0; i < c.n_peers; i++)
		CHECK(c.peers[i].has_key);
	rewrite(&c);
	edit(&c, data, size);
	store_conf_dispose(&c);
	return 0;
}
