/*
 * cmd_alliance.c - `agora alliance create|list|use`; members, admit and
 * revoke live in cmd_members.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/table_int.h"
#include "cli/alliance_int.h"
#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/home_int.h"
#include "cli/json_int.h"
#include "cli/members_int.h"
#include "cli/opt_int.h"

struct create_opts {
	const char *name, *description, *passphrase_file;
};

static const struct cli_opt create_opts[] = {
	CLI_NEED("--name", "NAME", "the alliance's name", struct create_opts, name),
	CLI_STR("--description", "TEXT", "what it is for", struct create_opts, description),
	CLI_STR("--passphrase-file", "FILE", "the passphrase of an encrypted identity.key",
	        struct create_opts, passphrase_file),
	CLI_OPT_END,
};

static const struct cli_command create_cmd = {
	.name = "alliance create",
	.usage = "alliance create --name NAME [--description TEXT]\n"
	         "alliance create ... [--passphrase-file FILE]",
	.about = "Found an alliance: its charter names this node as the only coordinator;\n"
	         "this node's profile is published into it and it becomes the default\n"
	         "alliance.  Prints the new alliance's id.\n",
	.groups = { { "options", create_opts, 0 } },
};

static int cmd_create(struct cli_ctx *ctx, int argc, char **argv)
{
	struct create_opts o = { 0 };
	struct proto_key *key;
	uint8_t id[PROTO_ID_BYTES];
	char hex[PROTO_ID_HEX + 1];
	size_t n_args;
	int ret;

	if ((ret = cli_opt_parse(ctx, &create_cmd, argc, argv, 2, &o, NULL, &n_args)) != CLI_EXIT_OK)
		return cli_opt_status(ret);
	if (!*o.name)
		return cli_opt_usage(ctx, &create_cmd);
	if ((ret = cli_store(ctx, false, &(struct store *){ NULL })) != CLI_EXIT_OK ||
	    (ret = cli_key(ctx, o.passphrase_file, &key)) != CLI_EXIT_OK)
		return ret;
	if ((ret = cli_alliance_found(ctx, key, o.name, o.description, id)) != CLI_EXIT_OK)
		return ret;
	proto_hex(hex, id, PROTO_ID_BYTES);
	printf("%s\n", hex);
	if (ctx->tty_out)
		printf("founded alliance %s; it is now your default alliance\n", o.name);
	return CLI_EXIT_OK;
}

struct alliance_row {
	uint8_t id[PROTO_ID_BYTES];
	char *name;
	uint64_t records, members;
};

struct alliance_list {
	struct alliance_row *rows;
	size_t n;
	bool oom;
};

static int list_cb(const struct store_record *r, void *user)
{
	struct alliance_list *l = user;
	struct alliance_row *grown = realloc(l->rows, (l->n + 1) * sizeof(*grown));
	Agora__Record *rec = NULL;

	if (!grown) {
		l->oom = true;
		return 1;
	}
	l->rows = grown;
	memset(&grown[l->n], 0, sizeof(*grown));
	memcpy(grown[l->n].id, r->id, PROTO_ID_BYTES);
	if (proto_envelope_decode(&rec, r->env, r->env_len, NULL) == 0) {
		if (rec->body_case == AGORA__RECORD__BODY_CHARTER && rec->charter->name)
			grown[l->n].name = strdup(rec->charter->name);
		agora__record__free_unpacked(rec, NULL);
	}
	l->n++;
	return 0;
}

static int heads_cb(const uint8_t author[PROTO_KEY_BYTES], uint64_t seq,
                    const uint8_t id[PROTO_ID_BYTES], void *user)
{
	struct alliance_row *row = user;
	(void)author;
	(void)id;
	row->members++;
	row->records += seq;
	return 0;
}

struct list_opts {
	bool json;
};

static const struct cli_opt list_opts[] = {
	CLI_FLAG("--json", "a JSON array: name, id, records, members, default",
	         struct list_opts, json),
	CLI_OPT_END,
};

static const struct cli_command list_cmd = {
	.name = "alliance list",
	.usage = "alliance list [--json]",
	.about = "The alliances this node holds, with records, members (authors with\n"
	         "records) and the default marked '*'.\n",
	.groups = { { "options", list_opts, 0 } },
};

static int cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct list_opts o = { 0 };
	struct alliance_list l = { 0 };
	struct store_txn *t = NULL;
	struct store *s;
	uint8_t def[PROTO_ID_BYTES];
	size_t n_args;
	bool have_def;
	int ret = CLI_EXIT_ERROR, rc;

	if ((ret = cli_opt_parse(ctx, &list_cmd, argc, argv, 2, &o, NULL, &n_args)) != CLI_EXIT_OK)
		return cli_opt_status(ret);
	if ((ret = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK)
		return ret;
	have_def = store_default_alliance_get(t, def) == 0;
	/* Collect first: the heads are read with the alliance cursor closed. */
	if ((rc = store_alliances(t, list_cb, &l)) < 0 || l.oom) {
		cli_error(ctx, "cannot list alliances: %s", l.oom ? "out of memory" : store_strerror(rc));
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	for (size_t k = 0; k < l.n; k++)
		if ((rc = store_heads(t, l.rows[k].id, heads_cb, &l.rows[k])) < 0) {
			cli_error(ctx, "cannot read the feeds: %s", store_strerror(rc));
			ret = CLI_EXIT_ERROR;
			goto out;
		}
	if (o.json) {
		json_t *arr = json_array();
		for (size_t k = 0; arr && k < l.n; k++) {
			char hex[PROTO_ID_HEX + 1];
			proto_hex(hex, l.rows[k].id, PROTO_ID_BYTES);
			json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:I, s:b}",
			        "name", l.rows[k].name ? l.rows[k].name : "", "id", hex,
			        "records", (json_int_t)l.rows[k].records,
			        "members", (json_int_t)l.rows[k].members,
			        "default", have_def && !memcmp(def, l.rows[k].id, PROTO_ID_BYTES)));
		}
		if (!arr || json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_RECORD_DUMP) < 0) {
			json_decref(arr);
			cli_error(ctx, "cannot write JSON");
			goto out;
		}
		printf("\n");
		json_decref(arr);
	} else if (!l.n) {
		fprintf(stderr, "%s: you are in no alliance yet: run `agora alliance create --name NAME` "
		        "(or join one)\n", ctx->prog);
	} else {
		printf("  %-30s %-64s %8s %8s\n", "NAME", "ID", "RECORDS", "MEMBERS");
		for (size_t k = 0; k < l.n; k++) {
			char hex[PROTO_ID_HEX + 1];
			proto_hex(hex, l.rows[k].id, PROTO_ID_BYTES);
			char nb[512];
			printf("%c %s %-64s %8llu %8llu\n",
			       have_def && !memcmp(def, l.rows[k].id, PROTO_ID_BYTES) ? '*' : ' ',
			       cli_table_padded(nb, sizeof(nb), l.rows[k].name ? l.rows[k].name : "?", 30),
			       hex,
			       (unsigned long long)l.rows[k].records, (unsigned long long)l.rows[k].members);
		}
	}
	ret = CLI_EXIT_OK;
out:
	for (size_t k = 0; k < l.n; k++)
		free(l.rows[k].name);
	free(l.rows);
	store_txn_end(t);
	return ret;
}

static const struct cli_command use_cmd = {
	.name = "alliance use",
	.usage = "alliance use NAME|ID",
	.about = "Make NAME|ID (name, id or unique id prefix) the default alliance of\n"
	         "later commands.\n",
	.min_args = 1,
	.max_args = 1,
};

static int cmd_use(struct cli_ctx *ctx, int argc, char **argv)
{
	struct store_txn *t = NULL;
	struct store *s;
	uint8_t id[PROTO_ID_BYTES];
	char hex[PROTO_ID_HEX + 1];
	const char *arg[1];
	size_t n_args;
	int ret, rc;

	if ((ret = cli_opt_parse(ctx, &use_cmd, argc, argv, 2, NULL, arg, &n_args)) != CLI_EXIT_OK)
		return cli_opt_status(ret);
	if ((ret = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK)
		return ret;
	ret = cli_alliance(ctx, t, arg[0], id);
	store_txn_end(t);
	if (ret != CLI_EXIT_OK)
		return ret;
	if ((rc = store_default_alliance_set(s, id)) < 0) {
		cli_error(ctx, "cannot set the default alliance: %s", store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	proto_hex(hex, id, PROTO_ID_BYTES);
	printf("default alliance: %s\n", hex);
	return CLI_EXIT_OK;
}

static const struct cli_sub alliance_subs[] = {
	{ "create", cmd_create, &create_cmd },
	{ "list", cmd_list, &list_cmd },
	{ "use", cmd_use, &use_cmd },
	{ "members", cli_alliance_members, &cli_members_cmd },
	{ "admit", cli_alliance_admit, &cli_admit_cmd },
	{ "revoke", cli_alliance_revoke, &cli_revoke_cmd },
	{ "rotate-key", cli_alliance_rotate, &cli_rotate_cmd },
	{ "invite", cli_alliance_invite, &cli_invite_cmd },
	{ NULL, NULL, NULL },
};

static const struct cli_group alliance_group = {
	.name = "alliance",
	.about =
	"create      founds an alliance: its charter names this node as the only\n"
	"            coordinator; this node's profile is published into it and it\n"
	"            becomes the default alliance.\n"
	"list        the alliances this node holds, with records, members (authors\n"
	"            with records) and the default marked '*'.\n"
	"use         makes NAME|ID (name, id or unique id prefix) the default.\n"
	"members     every admitted key: role, status (active, expired, revoked\n"
	"            after seq N), records held, and 'fork' if it equivocated.\n"
	"admit       (coordinators) admits KEY (64 hex digits, see `agora whoami`) as\n"
	"            ROLE: member (default), coordinator or observer.\n"
	"revoke      (coordinators) invalidates KEY's records after seq N and cuts\n"
	"            its sessions.  Permanent.\n"
	"rotate-key  replaces this node's key in every alliance where it is active.\n"
	"invite      (coordinators) prints a one-time code for a new member\n"
	"            (`agora join CODE` on its node).\n",
	.subs = alliance_subs,
};

int cli_cmd_alliance(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_group_run(ctx, &alliance_group, argc, argv);
}
