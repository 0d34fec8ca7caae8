/*
 * cmd_whoami.c - `agora whoami`: this node's key, data directory, profile
 * and alliances.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/home_int.h"
#include "cli/json_int.h"
#include "cli/opt_int.h"

struct who_alliances {
	json_t *arr;                /* [{name, id, default}] */
	const uint8_t *def;         /* default alliance id or NULL */
};

static int alliance_cb(const struct store_record *r, void *user)
{
	struct who_alliances *w = user;
	Agora__Record *rec = NULL;
	char hex[PROTO_ID_HEX + 1];
	const char *name = "";

	if (proto_envelope_decode(&rec, r->env, r->env_len, NULL) == 0 &&
	    rec->body_case == AGORA__RECORD__BODY_CHARTER && rec->charter->name)
		name = rec->charter->name;
	proto_hex(hex, r->id, PROTO_ID_BYTES);
	json_array_append_new(w->arr, json_pack("{s:s, s:s, s:b}", "name", name, "id", hex, "default",
	                                        w->def && !memcmp(w->def, r->id, PROTO_ID_BYTES)));
	if (rec)
		agora__record__free_unpacked(rec, NULL);
	return 0;
}

/* The newest Profile this node published in the default alliance, if any. */
struct who_profile {
	json_t *obj;
};

static int profile_cb(const struct store_hit *hit, void *user)
{
	struct who_profile *w = user;
	Agora__Record *rec = NULL;

	if (proto_envelope_decode(&rec, hit->rec.env, hit->rec.env_len, NULL) == 0) {
		w->obj = json_from_record(rec, hit->rec.id, NULL);
		agora__record__free_unpacked(rec, NULL);
	}
	return 1;
}

struct whoami_opts {
	bool json;
	const char *passphrase_file;
};

static const struct cli_opt whoami_opts[] = {
	CLI_FLAG("--json", "one JSON object: key, home, profile, alliances",
	         struct whoami_opts, json),
	CLI_STR("--passphrase-file", "FILE", "the passphrase of an encrypted identity.key\n"
	        "(needed only when agora.conf lacks the public key)",
	        struct whoami_opts, passphrase_file),
	CLI_OPT_END,
};

static const struct cli_command whoami_cmd = {
	.name = "whoami",
	.usage = "whoami [--json] [--passphrase-file FILE]",
	.about = "Prints this node's public key, data directory, profile and alliances\n"
	         "(the default one marked '*').  Needs no passphrase: an encrypted key's\n"
	         "public half is read from agora.conf.\n",
	.groups = { { "options", whoami_opts, 0 } },
};

int cli_cmd_whoami(struct cli_ctx *ctx, int argc, char **argv)
{
	struct whoami_opts o = { 0 };
	struct who_alliances wa = { 0 };
	struct who_profile wp = { 0 };
	struct store_txn *t = NULL;
	struct store *s;
	Agora__Profile *conf = NULL;
	const char *passfile;
	uint8_t pk[PROTO_KEY_BYTES], def[PROTO_ID_BYTES];
	char hex[PROTO_ID_HEX + 1], defhex[PROTO_ID_HEX + 1] = "";
	size_t n_args;
	bool json;
	json_t *out = NULL, *profile = NULL;
	int ret = CLI_EXIT_ERROR, rc;

	if ((ret = cli_opt_parse(ctx, &whoami_cmd, argc, argv, 1, &o, NULL, &n_args)) != CLI_EXIT_OK)
		return cli_opt_status(ret);
	json = o.json;
	passfile = o.passphrase_file;
	if ((ret = cli_public_key(ctx, passfile, pk)) != CLI_EXIT_OK)
		return ret;
	if ((ret = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK)
		return ret;
	if (store_default_alliance_get(t, def) == 0)
		wa.def = def;
	if (!(wa.arr = json_array()) || (rc = store_alliances(t, alliance_cb, &wa)) < 0) {
		cli_error(ctx, "cannot list alliances");
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	if (wa.def) {
		struct store_query q = { 0 };
		const uint8_t (*authors)[PROTO_KEY_BYTES] = (const uint8_t (*)[PROTO_KEY_BYTES])pk;
		q.alliance = wa.def;
		q.kind = PROTO_KIND_PROFILE;
		q.authors = authors;
		q.n_authors = 1;
		q.limit = 1;
		store_query(t, &q, profile_cb, &wp, NULL);
	}
	if (cli_conf_profile(ctx, &conf) == CLI_EXIT_OK)
		profile = json_from_message(&conf->base);
	else if (wp.obj)
		profile = json_incref(wp.obj);

	proto_hex(hex, pk, PROTO_KEY_BYTES);
	if (wa.def)
		proto_hex(defhex, def, PROTO_ID_BYTES);
	if (json) {
		out = json_pack("{s:s, s:s, s:o, s:o, s:o, s:O}", "key", hex, "home", ctx->home,
		                "profile", profile ? profile : json_null(),
		                "profile_record", wp.obj && json_object_get(wp.obj, "id") ?
		                        json_incref(json_object_get(wp.obj, "id")) : json_null(),
		                "default_alliance", wa.def ? json_string(defhex) : json_null(),
		                "alliances", wa.arr);
		profile = NULL;
		if (!out || json_dumpf(out, stdout, JSON_INDENT(2) | JSON_RECORD_DUMP) < 0) {
			cli_error(ctx, "cannot write JSON");
			ret = CLI_EXIT_ERROR;
			goto out;
		}
		printf("\n");
	} else {
		const char *name = profile ? json_string_value(json_object_get(profile, "name")) : NULL;
		const char *country = profile ? json_string_value(json_object_get(profile, "country")) : NULL;
		size_t k;
		json_t *a;

		printf("public key:  %s\n", hex);
		printf("data:        %s\n", ctx->home);
		if (name)
			printf("profile:     %s%s%s%s\n", name, country ? " (" : "", country ? country : "",
			       country ? ")" : "");
		if (!json_array_size(wa.arr))
			printf("alliances:   none yet: run `agora alliance create --name NAME` (or join one)\n");
		json_array_foreach(wa.arr, k, a)
			printf("%s %c %s  %s\n", k ? "            " : "alliances:  ",
			       json_is_true(json_object_get(a, "default")) ? '*' : ' ',
			       json_string_value(json_object_get(a, "name")),
			       json_string_value(json_object_get(a, "id")));
	}
	ret = CLI_EXIT_OK;
out:
	store_txn_end(t);
	json_decref(out);
	json_decref(profile);
	json_decref(wa.arr);
	json_decref(wp.obj);
	if (conf)
		agora__profile__free_unpacked(conf, NULL);
	return ret;
}
