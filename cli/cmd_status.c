/*
 * cmd_status.c - `agora status`, `agora peers`, `agora sync`: what the
 * running node says over its control socket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/table_int.h"
#include "cli/alliance_int.h"
#include "cli/attach_int.h"
#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/control_int.h"
#include "cli/home_int.h"
#include "cli/members_int.h"
#include "cli/opt_int.h"

static int node_error(struct cli_ctx *ctx, int rc)
{
	if (rc == -ENOENT || rc == -ECONNREFUSED)
		cli_error(ctx, "agorad is not running for %s (start it with `agorad --home %s`)",
		          ctx->home, ctx->home);
	else
		cli_error(ctx, "cannot talk to agorad: %s", strerror(-rc));
	return CLI_EXIT_NODE;
}

static void hex(char *out, const ProtobufCBinaryData *b)
{
	if (b->len == 32)
		proto_hex(out, b->data, 32);
	else
		strcpy(out, "?");
}

static json_t *peer_json(const Agora__Control__Peer *p)
{
	char k[65];
	json_t *o = json_object(), *stuck = json_array();
	hex(k, &p->key);
	json_object_set_new(o, "key", json_string(k));
	json_object_set_new(o, "name", json_string(p->name ? p->name : ""));
	json_object_set_new(o, "address", json_string(p->address ? p->address : ""));
	json_object_set_new(o, "state", json_string(p->state ? p->state : ""));
	json_object_set_new(o, "inbound", json_boolean(p->inbound));
	json_object_set_new(o, "bytes_in", json_integer((json_int_t)p->bytes_in));
	json_object_set_new(o, "bytes_out", json_integer((json_int_t)p->bytes_out));
	json_object_set_new(o, "records_in", json_integer((json_int_t)p->records_in));
	json_object_set_new(o, "records_out", json_integer((json_int_t)p->records_out));
	json_object_set_new(o, "behind", json_integer((json_int_t)p->behind));
	json_object_set_new(o, "ahead", json_integer((json_int_t)p->ahead));
	json_object_set_new(o, "connected_ms", json_integer((json_int_t)p->connected_ms));
	json_object_set_new(o, "unstored", json_integer((json_int_t)p->unstored));
	json_object_set_new(o, "paused", json_boolean(p->paused));
	json_object_set_new(o, "not_reading", json_string(p->not_reading ? p->not_reading : ""));
	json_object_set_new(o, "last_error", json_string(p->last_error ? p->last_error : ""));
	for (size_t i = 0; i < p->n_stuck; i++) {
		const Agora__Control__StuckFeed *f = p->stuck[i];
		char a[65], au[65];
		json_t *s = json_object();
		hex(a, &f->alliance);
		hex(au, &f->author);
		json_object_set_new(s, "alliance", json_string(a));
		json_object_set_new(s, "author", json_string(au));
		json_object_set_new(s, "our_seq", json_integer((json_int_t)f->our_seq));
		json_object_set_new(s, "peer_seq", json_integer((json_int_t)f->peer_seq));
		json_object_set_new(s, "stalled_ms", json_integer((json_int_t)f->stalled_ms));
		json_array_append_new(stuck, s);
	}
	json_object_set_new(o, "stuck", stuck);
	return o;
}

static void peer_print(const Agora__Control__Peer *p)
{
	char k[65];
	hex(k, &p->key);
	char nb[512];
	printf("  %s %.16s…  %-10s %s%s\n",
	       cli_table_padded(nb, sizeof(nb), p->name && *p->name ? p->name : "(unnamed)", 20), k,
	       p->state ? p->state : "?", p->address ? p->address : "",
	       p->has_inbound ? (p->inbound ? " (inbound)" : " (outbound)") : "");
	if (p->has_bytes_in)
		printf("      bytes in/out %llu/%llu  records in/out %llu/%llu  "
		       "lag: behind %llu, ahead %llu\n",
		       (unsigned long long)p->bytes_in, (unsigned long long)p->bytes_out,
		       (unsigned long long)p->records_in, (unsigned long long)p->records_out,
		       (unsigned long long)p->behind, (unsigned long long)p->ahead);
	if (p->paused)
		printf("      not reading until received records are stored (%llu KiB of them "
		       "from this peer)\n", (unsigned long long)(p->unstored >> 10));
	else if (p->not_reading && *p->not_reading)
		printf("      not reading: %s\n", p->not_reading);
	for (size_t i = 0; i < p->n_stuck; i++) {
		char au[65];
		hex(au, &p->stuck[i]->author);
		printf("      STUCK feed %.16s…: we hold %llu, peer holds %llu, no progress for %llu s\n",
		       au, (unsigned long long)p->stuck[i]->our_seq,
		       (unsigned long long)p->stuck[i]->peer_seq,
		       (unsigned long long)(p->stuck[i]->stalled_ms / 1000));
	}
	if (p->last_error && *p->last_error)
		printf("      last error: %s\n", p->last_error);
}

struct json_opts {
	bool json;
};

static const struct cli_opt json_opts[] = {
	CLI_FLAG("--json", "the node's answer as JSON", struct json_opts, json),
	CLI_OPT_END,
};

static const struct cli_command status_cmd = {
	.name = "status",
	.usage = "status [--json]",
	.about = "What the running node (agorad) holds and how each peer is doing:\n"
	         "identity, alliances, feeds, records; per peer its state (connecting,\n"
	         "handshake, syncing, live, backoff), bytes and records in/out, lag\n"
	         "(records it has that we lack = behind; we have that it lacks = ahead),\n"
	         "stuck feeds (a peer ahead of us with no progress for 30 s) and the\n"
	         "last error.  Exit status 6 when no node runs.\n",
	.groups = { { "options", json_opts, 0 } },
};

static const struct cli_command peers_cmd = {
	.name = "peers",
	.usage = "peers [--json]",
	.about = "The peers of the running node and the state of each connection.\n",
	.groups = { { "options", json_opts, 0 } },
};

struct sync_opts {
	const char *peer;
};

static const struct cli_opt sync_opts[] = {
	CLI_STR("--peer", "KEY", "only the peer with this public key (64 hex digits)",
	        struct sync_opts, peer),
	CLI_OPT_END,
};

static const struct cli_command sync_cmd = {
	.name = "sync",
	.usage = "sync [--peer KEY]",
	.about = "Ask the running node to compare version vectors with every\n"
	         "connected peer (or only KEY) now, and to dial disconnected peers\n"
	         "at once instead of waiting for the next retry.\n",
	.groups = { { "options", sync_opts, 0 } },
};

/* One line: the attachment files to fetch, over the limits, fetched. */
static void attachments_print(const Agora__Control__Status *st)
{
	char missing[32], fetched[32];
	cli_attach_size(missing, sizeof(missing), st->attachments_missing_bytes);
	cli_attach_size(fetched, sizeof(fetched), st->attachments_fetched_bytes);
	printf("files      ");
	if (st->attachments_missing)
		printf("%llu attached file%s to fetch (%s)", (unsigned long long)st->attachments_missing,
		       st->attachments_missing == 1 ? "" : "s", missing);
	else
		printf("no attached file to fetch");
	if (st->attachments_over_limit)
		printf(", %llu over the [attachments] limits (see `agora attachment get`)",
		       (unsigned long long)st->attachments_over_limit);
	printf("; %llu fetched since agorad started (%s)\n",
	       (unsigned long long)st->attachments_fetched, fetched);
}

/*
 * Names of the status's alliances, from the charters in this node's store
 * (the CLI reads the same LMDB environment).  names[i] is NULL where the
 * name is unknown; free with free_names().
 */
static char **alliance_names(struct cli_ctx *ctx, const Agora__Control__Status *st)
{
	struct store *s = NULL;
	struct store_txn *t = NULL;
	char **names = calloc(st->n_alliances ? st->n_alliances : 1, sizeof(*names));

	if (!names || cli_store(ctx, false, &s) != CLI_EXIT_OK || store_txn_begin(s, &t) < 0)
		return names;
	for (size_t i = 0; i < st->n_alliances; i++)
		if (st->alliances[i]->id.len == PROTO_ID_BYTES)
			names[i] = cli_alliance_name(t, st->alliances[i]->id.data);
	store_txn_end(t);
	return names;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

int cli_cmd_status(struct cli_ctx *ctx, int argc, char **argv)
{
	Agora__Control__Request req = AGORA__CONTROL__REQUEST__INIT;
	Agora__Control__StatusReq sr = AGORA__CONTROL__STATUS_REQ__INIT;
	Agora__Control__Response *resp = NULL;
	struct json_opts opts = { 0 };
	size_t n_args;
	bool json;
	int rc;

	if ((rc = cli_opt_parse(ctx, &status_cmd, argc, argv, 1, &opts, NULL, &n_args)) != CLI_EXIT_OK)
		return cli_opt_status(rc);
	json = opts.json;
	req.req_case = AGORA__CONTROL__REQUEST__REQ_STATUS;
	req.status = &sr;
	if ((rc = cli_control_call(ctx, &req, &resp)))
		return node_error(ctx, rc);
	if (resp->code || !resp->status) {
		cli_error(ctx, "agorad: %s", resp->error ? resp->error : "status failed");
		agora__control__response__free_unpacked(resp, NULL);
		return CLI_EXIT_NODE;
	}
	const Agora__Control__Status *st = resp->status;
	char **names = alliance_names(ctx, st);
	char id[65];
	hex(id, &st->identity);
	if (json) {
		json_t *o = json_object(), *al = json_array(), *peers = json_array();
		json_object_set_new(o, "identity", json_string(id));
		json_object_set_new(o, "name", json_string(st->name ? st->name : ""));
		json_object_set_new(o, "listen", json_string(st->listen ? st->listen : ""));
		json_object_set_new(o, "uptime_ms", json_integer((json_int_t)st->uptime_ms));
		json_object_set_new(o, "feeds", json_integer((json_int_t)st->feeds));
		json_object_set_new(o, "records", json_integer((json_int_t)st->records));
		json_object_set_new(o, "records_received",
		                    json_integer((json_int_t)st->records_received));
		json_object_set_new(o, "records_already_held",
		                    json_integer((json_int_t)st->records_already_held));
		json_t *at = json_object();
		json_object_set_new(at, "missing", json_integer((json_int_t)st->attachments_missing));
		json_object_set_new(at, "missing_bytes",
		                    json_integer((json_int_t)st->attachments_missing_bytes));
		json_object_set_new(at, "over_limit",
		                    json_integer((json_int_t)st->attachments_over_limit));
		json_object_set_new(at, "fetched", json_integer((json_int_t)st->attachments_fetched));
		json_object_set_new(at, "fetched_bytes",
		                    json_integer((json_int_t)st->attachments_fetched_bytes));
		json_object_set_new(o, "attachments", at);
		for (size_t i = 0; i < st->n_alliances; i++) {
			char a[65];
			json_t *x = json_object();
			hex(a, &st->alliances[i]->id);
			json_object_set_new(x, "id", json_string(a));
			if (names && names[i])
				json_object_set_new(x, "name", json_string(names[i]));
			json_object_set_new(x, "feeds", json_integer((json_int_t)st->alliances[i]->feeds));
			json_object_set_new(x, "records",
			                    json_integer((json_int_t)st->alliances[i]->records));
			json_array_append_new(al, x);
		}
		for (size_t i = 0; i < st->n_peers; i++)
			json_array_append_new(peers, peer_json(st->peers[i]));
		json_object_set_new(o, "alliances", al);
		json_object_set_new(o, "peers", peers);
		json_object_set_new(o, "equivocating", cli_equivocators(ctx));
		json_t *probs = json_array();
		for (size_t i = 0; i < st->n_problems; i++) {
			const Agora__Control__Problem *p = st->problems[i];
			json_t *x = json_object();
			json_object_set_new(x, "kind", json_string(p->kind ? p->kind : ""));
			json_object_set_new(x, "text", json_string(p->text ? p->text : ""));
			if (p->has_alliance) {
				char a[65];
				hex(a, &p->alliance);
				json_object_set_new(x, "alliance", json_string(a));
			}
			if (p->has_author) {
				char a[65];
				hex(a, &p->author);
				json_object_set_new(x, "author", json_string(a));
			}
			if (p->has_seq)
				json_object_set_new(x, "seq", json_integer((json_int_t)p->seq));
			json_array_append_new(probs, x);
		}
		json_object_set_new(o, "problems", probs);
		json_dumpf(o, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(o);
	} else {
		for (size_t i = 0; i < st->n_problems; i++)
			printf("PROBLEM: %s\n", st->problems[i]->text ? st->problems[i]->text : "");
		printf("identity   %s\n", id);
		printf("name       %s\n", st->name && *st->name ? st->name : "(unnamed)");
		printf("listening  %s\n", st->listen ? st->listen : "");
		printf("uptime     %llu s\n", (unsigned long long)(st->uptime_ms / 1000));
		printf("records    %llu in %llu feeds\n", (unsigned long long)st->records,
		       (unsigned long long)st->feeds);
		attachments_print(st);
		printf("alliances  %zu\n", st->n_alliances);
		for (size_t i = 0; i < st->n_alliances; i++) {
			char a[65];
			hex(a, &st->alliances[i]->id);
			char nb[512];
			printf("  %s %.16s…  %llu feeds, %llu records\n",
			       cli_table_padded(nb, sizeof(nb), names && names[i] ? names[i] : "(unknown)", 28),
			       a,
			       (unsigned long long)st->alliances[i]->feeds,
			       (unsigned long long)st->alliances[i]->records);
		}
		printf("peers      %zu\n", st->n_peers);
		for (size_t i = 0; i < st->n_peers; i++)
			peer_print(st->peers[i]);
		json_t *eq = cli_equivocators(ctx);
		for (size_t i = 0; i < json_array_size(eq); i++) {
			json_t *e = json_array_get(eq, i);
			printf("EQUIVOCATING author %.16s… signed two records at seq %lld of alliance "
			       "%.16s… (see `agora alliance members`)\n",
			       json_string_value(json_object_get(e, "author")),
			       (long long)json_integer_value(json_object_get(e, "seq")),
			       json_string_value(json_object_get(e, "alliance")));
		}
		json_decref(eq);
	}
	free_names(names, st->n_alliances);
	agora__control__response__free_unpacked(resp, NULL);
	return CLI_EXIT_OK;
}

int cli_cmd_peers(struct cli_ctx *ctx, int argc, char **argv)
{
	Agora__Control__Request req = AGORA__CONTROL__REQUEST__INIT;
	Agora__Control__PeersReq pr = AGORA__CONTROL__PEERS_REQ__INIT;
	Agora__Control__Response *resp = NULL;
	struct json_opts o = { 0 };
	size_t n_args;
	bool json;
	int rc;

	if ((rc = cli_opt_parse(ctx, &peers_cmd, argc, argv, 1, &o, NULL, &n_args)) != CLI_EXIT_OK)
		return cli_opt_status(rc);
	json = o.json;
	req.req_case = AGORA__CONTROL__REQUEST__REQ_PEERS;
	req.peers = &pr;
	if ((rc = cli_control_call(ctx, &req, &resp)))
		return node_error(ctx, rc);
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; i < resp->n_peers; i++)
			json_array_append_new(a, peer_json(resp->peers[i]));
		json_dumpf(a, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(a);
	} else {
		for (size_t i = 0; i < resp->n_peers; i++)
			peer_print(resp->peers[i]);
	}
	if (!resp->n_peers)
		cli_say_empty(ctx, "no peers: add one with `agora peer add HOST:PORT KEY`");
	agora__control__response__free_unpacked(resp, NULL);
	return CLI_EXIT_OK;
}

int cli_cmd_sync(struct cli_ctx *ctx, int argc, char **argv)
{
	Agora__Control__Request req = AGORA__CONTROL__REQUEST__INIT;
	Agora__Control__SyncReq sr = AGORA__CONTROL__SYNC_REQ__INIT;
	Agora__Control__Response *resp = NULL;
	struct sync_opts o = { 0 };
	uint8_t key[32];
	size_t n_args;
	int rc;

	if ((rc = cli_opt_parse(ctx, &sync_cmd, argc, argv, 1, &o, NULL, &n_args)) != CLI_EXIT_OK)
		return cli_opt_status(rc);
	if (o.peer) {
		if (strlen(o.peer) != 64 || proto_unhex(key, 32, o.peer)) {
			cli_error(ctx, "--peer: '%s' is not a 64-digit hex public key", o.peer);
			return CLI_EXIT_USAGE;
		}
		sr.has_peer = true;
		sr.peer.data = key;
		sr.peer.len = 32;
	}
	req.req_case = AGORA__CONTROL__REQUEST__REQ_SYNC;
	req.sync = &sr;
	if ((rc = cli_control_call(ctx, &req, &resp)))
		return node_error(ctx, rc);
	rc = CLI_EXIT_OK;
	if (resp->code) {
		cli_error(ctx, "agorad: %s", resp->error ? resp->error : "sync failed");
		rc = resp->code == -ENOENT ? CLI_EXIT_NOTFOUND : CLI_EXIT_NODE;
	} else {
		printf("sync started with %u connected peer(s)\n", resp->sessions);
	}
	agora__control__response__free_unpacked(resp, NULL);
	return rc;
}
