/*
 * cmd_show.c - `agora show ID`: one record with every field, who signed it
 * and whether the signature holds, its versions and the records that refer
 * to it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/alliance_int.h"
#include "cli/attach_int.h"
#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/format_int.h"
#include "cli/home_int.h"
#include "cli/json_int.h"
#include "cli/names_int.h"
#include "cli/opt_int.h"

struct show_opts {
	bool json;
};

static const struct cli_opt show_opts[] = {
	CLI_FLAG("--json", "the record as JSON (the shape of `agora query\n"
	         "--json`) with extra keys: signature, superseded,\n"
	         "retracted, newest, alliance_name, history, related",
	         struct show_opts, json),
	CLI_OPT_END,
};

static const struct cli_command show_cmd = {
	.name = "show",
	.usage = "show ID [--json]",
	.about = "Print one record: every field, who signed it, whether the signature is\n"
	         "valid, its alliance, sequence number and creation time, all its versions\n"
	         "(superseded and retracted ones marked) and the records that refer to it\n"
	         "(results, lessons and endorsements of a measure).\n"
	         "\n"
	         "ID is a full record id or a unique prefix of at least 4 hex digits, as\n"
	         "shown by `agora query`.\n",
	.groups = { { "options", show_opts, 0 } },
	.min_args = 1,
	.max_args = 1,
};

struct show_ctx {
	struct cli_names *names;
	const uint8_t *self;        /* id of the shown record */
	json_t *arr;                /* --json: history or related array; else NULL */
	size_t n;
	int err;
};

struct prefix_count {
	const char *hex;
	size_t len, n;
};

static int count_prefix(const struct store_hit *hit, void *arg)
{
	struct prefix_count *c = arg;
	char hex[PROTO_ID_HEX + 1];

	proto_hex(hex, hit->rec.id, PROTO_ID_BYTES);
	if (!strncasecmp(hex, c->hex, c->len))
		c->n++;
	return 0;
}

/* How many held records an ambiguous prefix matches (for the error). */
static size_t ambiguous_count(struct store_txn *t, const char *hex)
{
	struct prefix_count c = { hex, strlen(hex), 0 };
	struct store_query q;

	memset(&q, 0, sizeof(q));
	q.history = true;
	q.governance = true;
	store_query(t, &q, count_prefix, &c, NULL);
	return c.n;
}

static void short_id(char out[13], const uint8_t *id)
{
	char hex[PROTO_ID_HEX + 1];

	proto_hex(hex, id, PROTO_ID_BYTES);
	memcpy(out, hex, 12);
	out[12] = '\0';
}

static int history_cb(const struct store_record *sr, void *arg)
{
	struct show_ctx *c = arg;
	Agora__Record *rec = NULL;
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind, own;
	char when[40], sid[13], hex[PROTO_ID_HEX + 1];
	const char *state;
	char kbuf[CLI_KIND_BUF];

	if (proto_envelope_decode(&rec, sr->env, sr->env_len, NULL) < 0)
		return 0;
	own = proto_record_kind(rec);
	kind = proto_record_content(rec, &msg);
	cli_format_time(when, sizeof(when), rec->created_ms, false);
	short_id(sid, sr->id);
	if (own == PROTO_KIND_RETRACT)
		state = "retraction";
	else if (sr->retracted)
		state = "retracted";
	else if (sr->superseded)
		state = "superseded";
	else
		state = "current";
	if (c->arr) {
		json_t *o = json_object();
		proto_hex(hex, sr->id, PROTO_ID_BYTES);
		json_object_set_new(o, "id", json_string(hex));
		json_object_set_new(o, "seq", json_integer((json_int_t)rec->seq));
		json_object_set_new(o, "created_ms", json_integer((json_int_t)rec->created_ms));
		json_object_set_new(o, "kind", json_string(cli_format_kind(kbuf, own)));
		json_object_set_new(o, "state", json_string(state));
		json_array_append_new(c->arr, o);
	} else {
		char *title = own == PROTO_KIND_RETRACT ?
			cli_format_text(&rec->retract->base, "reason") : cli_format_title(kind, msg);
		printf("  %s %s  %s  seq %-4llu %-11s %s\n",
		       memcmp(sr->id, c->self, PROTO_ID_BYTES) ? " " : "*", when, sid,
		       (unsigned long long)rec->seq, state, title ? title : "");
		free(title);
	}
	c->n++;
	agora__record__free_unpacked(rec, NULL);
	return 0;
}

static int related_cb(const struct store_record *sr, void *arg)
{
	struct show_ctx *c = arg;
	Agora__Record *rec = NULL;
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind;
	const char *muni = NULL, *kname;
	char sid[13], hex[PROTO_ID_HEX + 1], kbuf[CLI_KIND_BUF];
	char *title;

	if (proto_envelope_decode(&rec, sr->env, sr->env_len, NULL) < 0)
		return 0;
	kind = proto_record_content(rec, &msg);
	kname = cli_format_kind(kbuf, kind);
	if (rec->author.len == PROTO_KEY_BYTES)
		muni = cli_names_name(c->names, rec->author.data);
	title = cli_format_title(kind, msg);
	if (c->arr) {
		json_t *o = json_object();
		proto_hex(hex, sr->id, PROTO_ID_BYTES);
		json_object_set_new(o, "id", json_string(hex));
		json_object_set_new(o, "kind", json_string(kname));
		if (muni)
			json_object_set_new(o, "municipality", json_string(muni));
		json_object_set_new(o, "title", json_string(title ? title : ""));
		json_array_append_new(c->arr, o);
	} else {
		short_id(sid, sr->id);
		printf("  %-12s %s  %s%s%s\n", kname, sid, muni ? muni : "", muni ? ": " : "",
		       title ? title : "");
	}
	free(title);
	c->n++;
	agora__record__free_unpacked(rec, NULL);
	return 0;
}

static int resolve_id(struct cli_ctx *ctx, struct store_txn *t, const char *arg,
                      uint8_t id[PROTO_ID_BYTES])
{
	size_t len = strlen(arg);
	int rc;

	if (len < 4 || strspn(arg, "0123456789abcdefABCDEF") != len || len > PROTO_ID_HEX) {
		cli_error(ctx, "show: '%s' is not a record id (give at least 4 hex digits)", arg);
		return CLI_EXIT_USAGE;
	}
	rc = store_resolve(t, arg, id);
	if (rc == STORE_E_AMBIGUOUS) {
		size_t n = ambiguous_count(t, arg);
		if (n > 1)
			cli_error(ctx, "show: '%s' matches %zu records; give more digits", arg, n);
		else
			cli_error(ctx, "show: '%s' matches several records; give more digits", arg);
		return CLI_EXIT_USAGE;
	}
	if (rc == STORE_E_NOTFOUND) {
		cli_error(ctx, "show: no record '%s' in this store", arg);
		return CLI_EXIT_NOTFOUND;
	}
	if (rc < 0) {
		cli_error(ctx, "show: cannot look up '%s': %s", arg, store_strerror(rc));
		return rc == PROTO_E_ARG ? CLI_EXIT_USAGE : CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}

int cli_cmd_show(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *arg = NULL;
	bool as_json = false;
	struct store *s = NULL;
	struct store_txn *t = NULL;
	struct cli_names *names = NULL;
	struct store_record sr;
	Agora__Record *rec = NULL;
	struct proto_error perr;
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind, own;
	uint8_t id[PROTO_ID_BYTES];
	char hex[PROTO_ID_HEX + 1], when[40], sig[512];
	char *aname = NULL;
	const char *muni = NULL;
	json_t *obj = NULL;
	struct show_ctx sc;
	int rc = CLI_EXIT_ERROR, n, sigrc;

	struct show_opts o = { 0 };
	size_t n_args;

	if ((rc = cli_opt_parse(ctx, &show_cmd, argc, argv, 1, &o, &arg, &n_args)) != CLI_EXIT_OK)
		return cli_opt_status(rc);
	as_json = o.json;

	if ((rc = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK)
		goto out;
	rc = resolve_id(ctx, t, arg, id);
	if (rc != CLI_EXIT_OK)
		goto out;
	n = store_get(t, id, &sr);
	if (n < 0) {
		cli_error(ctx, "show: cannot read record %s: %s", arg, store_strerror(n));
		rc = n == STORE_E_NOTFOUND ? CLI_EXIT_NOTFOUND : CLI_EXIT_ERROR;
		goto out;
	}
	names = cli_names_new(t);
	if (!names || cli_names_load(names) < 0) {
		cli_error(ctx, "cannot read municipality names");
		rc = CLI_EXIT_ERROR;
		goto out;
	}

	/* Verify again from the stored bytes: the store could have been altered on disk. */
	memset(&perr, 0, sizeof(perr));
	sigrc = proto_envelope_open(&rec, sr.env, sr.env_len, cli_now_ms(), &perr);
	if (sigrc < 0) {
		n = proto_envelope_decode(&rec, sr.env, sr.env_len, NULL);
		if (n < 0) {
			cli_error(ctx, "show: record %s cannot be decoded: %s", arg, proto_strerror(n));
			rc = CLI_EXIT_INPUT;
			goto out;
		}
	}
	own = proto_record_kind(rec);
	kind = proto_record_content(rec, &msg);
	if (rec->author.len == PROTO_KEY_BYTES)
		muni = cli_names_name(names, rec->author.data);
	if (rec->alliance.len == PROTO_ID_BYTES)
		aname = cli_alliance_name(t, rec->alliance.data);
	else if (own == PROTO_KIND_CHARTER && rec->charter && rec->charter->name)
		aname = strdup(rec->charter->name);
	{
		char key[PROTO_KEY_BYTES * 2 + 1] = "";
		if (rec->author.len == PROTO_KEY_BYTES)
			proto_hex(key, rec->author.data, PROTO_KEY_BYTES);
		if (sigrc == 0)
			snprintf(sig, sizeof(sig), "valid (Ed25519, key %s)", key);
		else if (perr.field[0])
			snprintf(sig, sizeof(sig), "INVALID: %s (%s: %s)", proto_strerror(sigrc),
			         perr.field, perr.msg);
		else
			snprintf(sig, sizeof(sig), "INVALID: %s", proto_strerror(sigrc));
	}

	memset(&sc, 0, sizeof(sc));
	sc.names = names;
	sc.self = id;
	proto_hex(hex, id, PROTO_ID_BYTES);
	if (as_json) {
		obj = json_from_record(rec, id, muni);
		if (!obj) {
			cli_error(ctx, "show: cannot convert the record to JSON");
			rc = CLI_EXIT_ERROR;
			goto out;
		}
		json_object_set_new(obj, "signature", json_string(sig));
		json_object_set_new(obj, "superseded", json_boolean(sr.superseded));
		json_object_set_new(obj, "retracted", json_boolean(sr.retracted));
		proto_hex(hex, sr.newest, PROTO_ID_BYTES);
		json_object_set_new(obj, "newest", json_string(hex));
		if (aname)
			json_object_set_new(obj, "alliance_name", json_string(aname));
		json_t *att = cli_attach_json(ctx, rec);
		if (att)
			json_object_set_new(obj, "attachment_files", att);
		sc.arr = json_array();
		store_history(t, id, history_cb, &sc);
		json_object_set_new(obj, "history", sc.arr);
		sc.arr = json_array();
		store_related(t, id, related_cb, &sc);
		json_object_set_new(obj, "related", sc.arr);
		sc.arr = NULL;
		if (json_dumpf(obj, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
			cli_error(ctx, "cannot write the output");
			rc = CLI_EXIT_ERROR;
			goto out;
		}
		fputc('\n', stdout);
	} else {
		printf("id:           %s\n", hex);
		char kbuf[CLI_KIND_BUF], why[160];
		printf("kind:         %s%s\n", cli_format_kind(kbuf, kind),
		       own == PROTO_KIND_SUPERSEDE ? " (new version)" : "");
		if (proto_record_newer_text(why, sizeof(why), rec))
			printf("note:         %s\n", why);
		if (rec->author.len == PROTO_KEY_BYTES) {
			char key[PROTO_KEY_BYTES * 2 + 1];
			proto_hex(key, rec->author.data, PROTO_KEY_BYTES);
			printf("signed by:    %s (key %s)\n", muni ? muni : "unknown municipality",
			       key);
		}
		printf("signature:    %s\n", sig);
		if (own == PROTO_KIND_CHARTER) {
			printf("alliance:     %s (founded by this charter)\n", aname ? aname : "");
		} else if (rec->alliance.len == PROTO_ID_BYTES) {
			char ah[PROTO_ID_HEX + 1];
			proto_hex(ah, rec->alliance.data, PROTO_ID_BYTES);
			printf("alliance:     %s (%s)\n", aname ? aname : "unknown", ah);
		}
		printf("seq:          %llu\n", (unsigned long long)rec->seq);
		cli_format_time(when, sizeof(when), rec->created_ms, true);
		printf("created:      %s\n", when);
		if (sr.retracted) {
			printf("state:        retracted by its author\n");
		} else if (sr.superseded) {
			char nh[PROTO_ID_HEX + 1];
			proto_hex(nh, sr.newest, PROTO_ID_BYTES);
			printf("state:        superseded by %s\n", nh);
		} else {
			printf("state:        current\n");
		}
		if (own == PROTO_KIND_SUPERSEDE && rec->supersede &&
		    rec->supersede->target.len == PROTO_ID_BYTES) {
			char th[PROTO_ID_HEX + 1];
			proto_hex(th, rec->supersede->target.data, PROTO_ID_BYTES);
			printf("supersedes:   %s\n", th);
		}
		fputc('\n', stdout);
		if (own == PROTO_KIND_RETRACT && rec->retract)
			cli_format_fields(stdout, &rec->retract->base, "");
		else if (msg)
			cli_format_fields(stdout, msg, "");
		cli_attach_print(ctx, stdout, rec);

		printf("\nhistory:\n");
		n = store_history(t, id, history_cb, &sc);
		if (n < 0 && n != STORE_E_NOTFOUND)
			printf("  (cannot read: %s)\n", store_strerror(n));
		else if (sc.n == 0)
			printf("  (single version)\n");
		sc.n = 0;
		if (kind == PROTO_KIND_MEASURE || kind == PROTO_KIND_LESSON) {
			printf("\nrelated:\n");
			n = store_related(t, id, related_cb, &sc);
			if (n < 0 && n != STORE_E_NOTFOUND)
				printf("  (cannot read: %s)\n", store_strerror(n));
			else if (sc.n == 0)
				printf("  (none)\n");
		}
	}
	if (fflush(stdout) != 0) {
		cli_error(ctx, "cannot write the output");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	/* A record that no longer verifies is shown, but the exit status says so. */
	rc = sigrc == 0 ? CLI_EXIT_OK : CLI_EXIT_INPUT;
out:
	json_decref(obj);
	free(aname);
	if (rec)
		agora__record__free_unpacked(rec, NULL);
	cli_names_free(names);
	store_txn_end(t);
	return rc;
}
