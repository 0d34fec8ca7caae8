/*
 * cmd_endpoint.c - `agora endpoint` (where this node, or a member, is
 * reached in each alliance) and `agora endpoint set` (publish a new
 * Endpoint record), and the choice of this node's public address that
 * init, join and invite share (PROTOCOL.md 6.10).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/table_int.h"
#include "cli/alliance_int.h"
#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/control_int.h"
#include "cli/home_int.h"
#include "cli/opt_int.h"

/* ------------------------------------------------------ the public address */

/* A host partners cannot use from elsewhere: loopback, or "any". */
static bool host_local(const char *host)
{
	return !strncmp(host, "127.", 4) || !strcmp(host, "::1") || !strcmp(host, "localhost") ||
	       !strcmp(host, "0.0.0.0") || !strcmp(host, "::") || !host[0];
}

int cli_endpoint_choose(struct cli_ctx *ctx, const char *flag, struct cli_endpoint *out)
{
	struct store_conf c;
	struct cli_endpoint ep;
	const char *why = "";
	bool none = false;
	int ret;

	memset(&ep, 0, sizeof ep);
	if (flag) {
		if (store_conf_addresses(ep.addr, &ep.n, &none, flag, &why)) {
			cli_error(ctx, "--public-address: '%s' %s", flag, why);
			return CLI_EXIT_USAGE;
		}
		ep.source = "--public-address";
		*out = ep;
		return CLI_EXIT_OK;
	}
	if ((ret = cli_conf_load(ctx, &c)) != CLI_EXIT_OK)
		return ret;
	if (c.public_address &&
	    !store_conf_addresses(ep.addr, &ep.n, &none, c.public_address, NULL)) {
		ep.source = "agora.conf public-address";
	} else if (c.has_listen && c.listen_port && !host_local(c.listen_host)) {
		snprintf(ep.addr[0], sizeof ep.addr[0], strchr(c.listen_host, ':') ? "[%s]:%u" : "%s:%u",
		         c.listen_host, c.listen_port);
		if (!proto_address_parse(NULL, 0, NULL, ep.addr[0], NULL)) {
			ep.n = 1;
			ep.source = "agora.conf listen";
		}
	}
	store_conf_dispose(&c);
	*out = ep;
	return CLI_EXIT_OK;
}

/* "a, b" or "none", as [node] public-address holds it. */
static void addresses_text(char *buf, size_t cap, const struct cli_endpoint *ep)
{
	size_t k = 0;
	buf[0] = '\0';
	if (!ep->n)
		snprintf(buf, cap, "none");
	for (size_t i = 0; i < ep->n && k < cap; i++)
		k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? ", " : "", ep->addr[i]);
}

int cli_endpoint_remember(struct cli_ctx *ctx, const struct cli_endpoint *ep)
{
	struct store_conf_edit *e;
	char text[PROTO_ENDPOINT_MAX * (PROTO_ADDRESS_MAX + 2) + 8];
	int ret, rc;

	addresses_text(text, sizeof text, ep);
	if (store_conf_check_value("public-address", text)) {
		/* too long for one agora.conf line: published, not remembered */
		fprintf(stderr, "%s: the addresses do not fit on one agora.conf line: not kept there\n",
		        ctx->prog);
		return CLI_EXIT_OK;
	}
	if ((ret = cli_conf_edit(ctx, &e)) != CLI_EXIT_OK)
		return ret;
	if ((rc = store_conf_edit_node_set(e, "public-address", text)) < 0) {
		store_conf_edit_free(e);
		cli_error(ctx, "cannot edit agora.conf: out of memory");
		return CLI_EXIT_ERROR;
	}
	ret = cli_conf_save(ctx, e, 0);
	store_conf_edit_free(e);
	return ret;
}

void cli_endpoint_body(Agora__Endpoint *body, char **ptrs, const struct cli_endpoint *ep)
{
	agora__endpoint__init(body);
	for (size_t i = 0; i < ep->n; i++)
		ptrs[i] = (char *)ep->addr[i];
	body->n_addresses = ep->n;
	body->addresses = ep->n ? ptrs : NULL;
	body->has_dial_out_only = ep->n == 0;
	body->dial_out_only = ep->n == 0;
}

void cli_endpoint_say(struct cli_ctx *ctx, const struct cli_endpoint *ep, const char *what)
{
	char text[PROTO_ENDPOINT_MAX * (PROTO_ADDRESS_MAX + 2) + 8];
	if (ep->n) {
		addresses_text(text, sizeof text, ep);
		printf("%s: partners reach this node at %s (from %s)\n", what, text, ep->source);
	} else {
		printf("%s: dial-out only: partners will not dial this node (%s); when they can "
		       "reach it, run `agora endpoint set HOST:PORT`\n", what,
		       ep->source ? "as asked" : "no --public-address, and agora.conf has neither "
		       "public-address nor a listen address others can reach");
		(void)ctx;
	}
}

int cli_endpoint_publish(struct cli_ctx *ctx, struct proto_key *key,
                         const uint8_t alliance[PROTO_ID_BYTES], const struct cli_endpoint *ep,
                         uint8_t id_out[PROTO_ID_BYTES])
{
	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Endpoint body;
	char *ptrs[PROTO_ENDPOINT_MAX];
	struct proto_error err = { 0 };
	struct store *s;
	int ret, rc;

	if ((ret = cli_store(ctx, false, &s)) != CLI_EXIT_OK)
		return ret;
	cli_endpoint_body(&body, ptrs, ep);
	rec.body_case = AGORA__RECORD__BODY_ENDPOINT;
	rec.endpoint = &body;
	rc = store_publish(s, key, alliance, &rec, cli_now_ms(), id_out, NULL, NULL, &err);
	if (rc < 0)
		return cli_publish_error(ctx, rc, &err);
	cli_control_poke(ctx);
	return CLI_EXIT_OK;
}

int cli_endpoint_invite_addr(struct cli_ctx *ctx, struct store_txn *t,
                             const uint8_t alliance[PROTO_ID_BYTES],
                             const uint8_t pk[PROTO_KEY_BYTES], char *out, size_t cap)
{
	struct store_endpoint ep;
	struct cli_endpoint ce;
	int rc = store_endpoint_get(t, alliance, pk, &ep);

	if (rc == 0 && ep.n) {
		snprintf(out, cap, "%s", ep.addr[0]);
		return 0;
	}
	if (rc == 0 || cli_endpoint_choose(ctx, NULL, &ce) != CLI_EXIT_OK || !ce.n)
		return -1;   /* published dial-out only, or nothing known */
	snprintf(out, cap, "%s", ce.addr[0]);
	return 0;
}

/* ----------------------------------------------------------------- show */

struct show_opts {
	const char *alliance, *key, *passphrase_file;
	bool json;
};

static const struct cli_opt show_opts[] = {
	CLI_STR("--alliance", "NAME|ID", "only this alliance (default: every one held)",
	        struct show_opts, alliance),
	CLI_STR("--key", "KEY", "another member's endpoint (its public key, 64 hex\n"
	        "digits) instead of this node's", struct show_opts, key),
	CLI_FLAG("--json", "a JSON array, one object per alliance", struct show_opts, json),
	CLI_STR("--passphrase-file", "FILE", "the passphrase of an encrypted identity.key\n"
	        "(needed only when agora.conf lacks the public key)",
	        struct show_opts, passphrase_file),
	CLI_OPT_END,
};

static const struct cli_command show_cmd = {
	.name = "endpoint",
	.usage = "endpoint [--alliance NAME|ID] [--key KEY] [--json]\n"
	         "endpoint set HOST:PORT [HOST:PORT...] [--alliance NAME|ID]\n"
	         "endpoint set --dial-out-only [--alliance NAME|ID]",
	.about = "Shows where partners reach this node (or the member KEY) in each\n"
	         "alliance: the addresses of its newest Endpoint record there, or\n"
	         "'dial-out only', or 'none' when it has published none (or it was\n"
	         "withdrawn).  Records `agora join` signed before this node held the\n"
	         "alliance show as pending until agorad stores them.\n",
	.groups = { { "options", show_opts, 0 } },
	.more = "See `agora endpoint set --help` to change it.\n",
};

struct show {
	struct cli_ctx *ctx;
	struct store_txn *t;
	const uint8_t *only;        /* --alliance, or NULL */
	const uint8_t *who;
	json_t *arr;
	int rc;
};

struct pend {
	bool found;
	struct cli_endpoint ep;
};

/* The pending Endpoint of one alliance, if any (the last one). */
static int pend_cb(const uint8_t alliance[PROTO_ID_BYTES], uint64_t seq, const uint8_t *env,
                   size_t len, void *ctx)
{
	struct pend *p = ctx;
	Agora__Record *r = NULL;
	(void)alliance, (void)seq;
	if (proto_envelope_decode(&r, env, len, NULL))
		return 0;
	if (r->body_case == AGORA__RECORD__BODY_ENDPOINT && r->endpoint &&
	    r->endpoint->n_addresses <= PROTO_ENDPOINT_MAX) {
		memset(&p->ep, 0, sizeof p->ep);
		for (size_t i = 0; i < r->endpoint->n_addresses; i++)
			snprintf(p->ep.addr[i], sizeof p->ep.addr[i], "%s", r->endpoint->addresses[i]);
		p->ep.n = r->endpoint->n_addresses;
		p->found = true;
	}
	agora__record__free_unpacked(r, NULL);
	return 0;
}

static void show_one(struct show *w, const uint8_t alliance[PROTO_ID_BYTES], const char *name,
                     bool held)
{
	struct store_endpoint ep;
	struct pend p = { 0 };
	char ahex[PROTO_ID_HEX + 1], idhex[PROTO_ID_HEX + 1], text[PROTO_ENDPOINT_MAX * 300];
	int rc = held ? store_endpoint_get(w->t, alliance, w->who, &ep) : STORE_E_NOTFOUND;
	const char *state;
	json_t *addrs = json_array();

	proto_hex(ahex, alliance, PROTO_ID_BYTES);
	if (rc < 0 && rc != STORE_E_NOTFOUND) {
		cli_error(w->ctx, "cannot read the endpoint in %s: %s", name, store_strerror(rc));
		w->rc = CLI_EXIT_ERROR;
		json_decref(addrs);
		return;
	}
	if (rc == STORE_E_NOTFOUND)
		store_pending_list(w->t, alliance, pend_cb, &p);
	text[0] = '\0';
	if (rc == 0) {
		state = ep.dial_out_only ? "dial-out only" : "published";
		for (size_t i = 0; i < ep.n; i++)
			json_array_append_new(addrs, json_string(ep.addr[i]));
		proto_hex(idhex, ep.id, PROTO_ID_BYTES);
	} else if (p.found) {
		state = "pending";
		for (size_t i = 0; i < p.ep.n; i++)
			json_array_append_new(addrs, json_string(p.ep.addr[i]));
	} else {
		state = "none";
	}
	for (size_t i = 0, k = 0; i < json_array_size(addrs) && k < sizeof text; i++)
		k += (size_t)snprintf(text + k, sizeof text - k, "%s%s", i ? ", " : "",
		                      json_string_value(json_array_get(addrs, i)));
	if (w->arr) {
		json_array_append_new(w->arr, json_pack(
			"{s:s, s:s, s:s, s:o, s:b, s:o, s:o}", "alliance", name, "alliance_id", ahex,
			"state", state, "addresses", addrs,
			"dial_out_only", rc == 0 ? ep.dial_out_only : p.found && !p.ep.n,
			"seq", rc == 0 ? json_integer((json_int_t)ep.seq) : json_null(),
			"id", rc == 0 ? json_string(idhex) : json_null()));
		return;
	}
	char nb[512];
	const char *padded = cli_table_padded(nb, sizeof(nb), name, 20);
	if (rc == 0 && !ep.dial_out_only)
		printf("%s %s  (seq %llu)\n", padded, text, (unsigned long long)ep.seq);
	else if (rc == 0)
		printf("%s dial-out only  (seq %llu)\n", padded, (unsigned long long)ep.seq);
	else if (p.found)
		printf("%s %s  (pending: agorad publishes it once the alliance is held)\n", padded,
		       p.ep.n ? text : "dial-out only");
	else
		printf("%s none\n", padded);
	json_decref(addrs);
}

static int alliance_cb(const struct store_record *r, void *ctx)
{
	struct show *w = ctx;
	if (w->only && memcmp(w->only, r->id, PROTO_ID_BYTES))
		return 0;
	char *name = cli_alliance_name(w->t, r->id);
	show_one(w, r->id, name ? name : "?", true);
	free(name);
	return 0;
}

struct pend_alliances {
	uint8_t (*v)[PROTO_ID_BYTES];
	size_t n;
};

/* Alliances with pending records (not held yet), each once. */
static int pend_alliance_cb(const uint8_t alliance[PROTO_ID_BYTES], uint64_t seq,
                            const uint8_t *env, size_t len, void *ctx)
{
	struct pend_alliances *p = ctx;
	(void)seq, (void)env, (void)len;
	if (p->n && !memcmp(p->v[p->n - 1], alliance, PROTO_ID_BYTES))
		return 0;
	void *nv = realloc(p->v, (p->n + 1) * sizeof *p->v);
	if (!nv)
		return -1;
	p->v = nv;
	memcpy(p->v[p->n++], alliance, PROTO_ID_BYTES);
	return 0;
}

static int endpoint_show(struct cli_ctx *ctx, int argc, char **argv)
{
	struct show_opts o = { 0 };
	struct show w = { .ctx = ctx };
	struct store *s;
	uint8_t pk[PROTO_KEY_BYTES], only[PROTO_ID_BYTES];
	struct pend_alliances pa = { 0 };
	size_t n_args;
	int ret;

	if ((ret = cli_opt_parse(ctx, &show_cmd, argc, argv, 1, &o, NULL, &n_args)) != CLI_EXIT_OK)
		return cli_opt_status(ret);
	if (o.key) {
		if (strlen(o.key) != 64 || proto_unhex(pk, sizeof pk, o.key)) {
			cli_error(ctx, "--key: '%s' is not a public key (64 hex digits)", o.key);
			return CLI_EXIT_USAGE;
		}
	} else if ((ret = cli_public_key(ctx, o.passphrase_file, pk)) != CLI_EXIT_OK) {
		return ret;
	}
	if ((ret = cli_snapshot(ctx, &s, &w.t)) != CLI_EXIT_OK)
		return ret;
	if (o.alliance) {
		if ((ret = cli_alliance(ctx, w.t, o.alliance, only)) != CLI_EXIT_OK)
			goto out;
		w.only = only;
	}
	w.who = pk;
	if (o.json && !(w.arr = json_array())) {
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	if (store_alliances(w.t, alliance_cb, &w) < 0 && !w.rc)
		w.rc = CLI_EXIT_ERROR;
	/* this node's records for alliances it does not hold yet (agora join) */
	if (!o.key && !o.alliance && store_pending_list(w.t, NULL, pend_alliance_cb, &pa) == 0)
		for (size_t i = 0; i < pa.n; i++) {
			struct store_record r;
			if (store_get(w.t, pa.v[i], &r) == 0)
				continue;   /* held: shown above */
			char hex[PROTO_ID_HEX + 1];
			proto_hex(hex, pa.v[i], PROTO_ID_BYTES);
			hex[16] = '\0';
			show_one(&w, pa.v[i], hex, false);
		}
	if (w.arr) {
		if (json_dumpf(w.arr, stdout, JSON_INDENT(2)) < 0)
			w.rc = CLI_EXIT_ERROR;
		printf("\n");
	}
	ret = w.rc ? w.rc : CLI_EXIT_OK;
out:
	free(pa.v);
	json_decref(w.arr);
	store_txn_end(w.t);
	return ret;
}

/* ------------------------------------------------------------------ set */

struct set_opts {
	const char *alliance, *passphrase_file;
	bool dial_out_only;
};

static const struct cli_opt set_opts[] = {
	CLI_FLAG("--dial-out-only", "this node dials out and cannot be dialled (behind\n"
	         "NAT or a firewall): partners wait for it to call", struct set_opts,
	         dial_out_only),
	CLI_STR("--alliance", "NAME|ID", "the alliance (default: the default alliance);\n"
	        "an address is published only where you say", struct set_opts, alliance),
	CLI_STR("--passphrase-file", "FILE", "the passphrase of an encrypted identity.key",
	        struct set_opts, passphrase_file),
	CLI_OPT_END,
};

static const struct cli_command set_cmd = {
	.name = "endpoint set",
	.usage = "endpoint set HOST:PORT [HOST:PORT...] [--alliance NAME|ID]\n"
	         "endpoint set --dial-out-only [--alliance NAME|ID]",
	.about = "Publishes where partners reach this node in the alliance, as a new\n"
	         "Endpoint record that replaces the one before: up to 8 addresses,\n"
	         "HOST:PORT or [IPv6]:PORT, public names or addresses partners can\n"
	         "dial (not 127.0.0.1 unless every partner runs on this machine).\n"
	         "It also becomes [node] public-address in agora.conf, which the next\n"
	         "`agora join` publishes.  A running agorad sends it at once.\n",
	.groups = { { "options", set_opts, 0 } },
	.min_args = 0,
	.max_args = PROTO_ENDPOINT_MAX + 1,
};

static int endpoint_set(struct cli_ctx *ctx, int argc, char **argv)
{
	struct set_opts o = { 0 };
	const char *args[PROTO_ENDPOINT_MAX + 1];
	struct cli_endpoint ep;
	struct proto_key *key;
	struct store *s;
	struct store_txn *t;
	uint8_t alliance[PROTO_ID_BYTES], id[PROTO_ID_BYTES];
	char hex[PROTO_ID_HEX + 1];
	size_t n;
	int ret;

	if ((ret = cli_opt_parse(ctx, &set_cmd, argc, argv, 2, &o, args, &n)) != CLI_EXIT_OK)
		return cli_opt_status(ret);
	if (o.dial_out_only == (n > 0)) {
		cli_error(ctx, n ? "give addresses or --dial-out-only, not both"
		                 : "give HOST:PORT (one or more), or --dial-out-only (see "
		                   "'agora endpoint set --help')");
		return CLI_EXIT_USAGE;
	}
	if (n > PROTO_ENDPOINT_MAX) {
		cli_error(ctx, "at most %d addresses", PROTO_ENDPOINT_MAX);
		return CLI_EXIT_USAGE;
	}
	memset(&ep, 0, sizeof ep);
	for (size_t i = 0; i < n; i++) {
		const char *why = "";
		if (strlen(args[i]) > PROTO_ADDRESS_MAX ||
		    proto_address_parse(NULL, 0, NULL, args[i], &why)) {
			cli_error(ctx, "'%s' %s", args[i],
			          strlen(args[i]) > PROTO_ADDRESS_MAX ? "is too long" : why);
			return CLI_EXIT_USAGE;
		}
		snprintf(ep.addr[i], sizeof ep.addr[i], "%s", args[i]);
	}
	ep.n = n;
	ep.source = "the command line";
	if ((ret = cli_key(ctx, o.passphrase_file, &key)) != CLI_EXIT_OK ||
	    (ret = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK)
		return ret;
	ret = cli_alliance(ctx, t, o.alliance, alliance);
	char *name = ret == CLI_EXIT_OK ? cli_alliance_name(t, alliance) : NULL;
	store_txn_end(t);
	if (ret == CLI_EXIT_OK && (ret = cli_endpoint_publish(ctx, key, alliance, &ep, id)) ==
	                                  CLI_EXIT_OK) {
		proto_hex(hex, id, PROTO_ID_BYTES);
		printf("published the endpoint of this node in %s: %s\n", name ? name : "?", hex);
		ret = cli_endpoint_remember(ctx, &ep);
	}
	free(name);
	return ret;
}

int cli_cmd_endpoint(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "set"))
		return endpoint_set(ctx, argc, argv);
	return endpoint_show(ctx, argc, argv);
}
