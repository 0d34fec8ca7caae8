/*
 * cmd_alliance.c - `agora alliance create|list|use`; members, admit and
 * revoke live in cmd_members.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "cli/cmds.h"
#include "cli/home.h"
#include "cli/json.h"
#include "cli/members.h"

static void help(FILE *f)
{
	fprintf(f, "usage: agora alliance create --name NAME [--description TEXT]\n"
	        "                               [--passphrase-file FILE]\n"
	        "       agora alliance list [--json]\n"
	        "       agora alliance use NAME|ID\n");
	cli_members_help(f);
	fprintf(f, "\n"
	        "create  founds an alliance: its charter names this node as the only\n"
	        "        coordinator; this node's profile is published into it and it\n"
	        "        becomes the default alliance.\n"
	        "list    the alliances this node holds, with records, members (authors\n"
	        "        with records) and the default marked '*'.\n"
	        "use     makes NAME|ID (name, id or unique id prefix) the default.\n");
}

int cli_alliance_found(struct cli_ctx *ctx, struct proto_key *key, const char *name,
                       const char *description, uint8_t id_out[PROTO_ID_BYTES])
{
	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Charter ch = AGORA__CHARTER__INIT;
	ProtobufCBinaryData coord = { PROTO_KEY_BYTES, key->pk };
	struct proto_error err = { 0 };
	struct store *s;
	uint8_t id[PROTO_ID_BYTES];
	int ret, rc;

	if ((ret = cli_store(ctx, false, &s)) != CLI_EXIT_OK)
		return ret;
	ch.name = (char *)name;
	ch.description = (char *)description;
	ch.n_coordinators = 1;
	ch.coordinators = &coord;
	ch.has_policy = 1;
	ch.policy = AGORA__ADMISSION_POLICY__ADMISSION_POLICY_ANY_COORDINATOR;
	rec.body_case = AGORA__RECORD__BODY_CHARTER;
	rec.charter = &ch;
	rc = store_publish(s, key, NULL, &rec, cli_now_ms(), id, NULL, NULL, &err);
	if (rc < 0)
		return cli_publish_error(ctx, rc, &err);
	if ((ret = cli_profile_publish(ctx, key, id)) != CLI_EXIT_OK)
		return ret;
	if ((rc = store_default_alliance_set(s, id)) < 0) {
		cli_error(ctx, "cannot set the default alliance: %s", store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	cli_poke_node(ctx);
	memcpy(id_out, id, PROTO_ID_BYTES);
	return CLI_EXIT_OK;
}

static int cmd_create(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *name = NULL, *desc = NULL, *passfile = NULL, *v;
	struct proto_key *key;
	uint8_t id[PROTO_ID_BYTES];
	char hex[PROTO_ID_HEX + 1];
	bool missing = false;
	int ret;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			help(stdout);
			return CLI_EXIT_OK;
		}
		if ((v = cli_opt_value("--name", argc, argv, &i, &missing)))
			name = v;
		else if ((v = cli_opt_value("--description", argc, argv, &i, &missing)))
			desc = v;
		else if ((v = cli_opt_value("--passphrase-file", argc, argv, &i, &missing)))
			passfile = v;
		else {
			cli_error(ctx, missing ? "%s needs a value" : "unknown option '%s' for alliance create "
			          "(see agora alliance --help)", argv[i]);
			return CLI_EXIT_USAGE;
		}
	}
	if (!name || !*name) {
		cli_error(ctx, "alliance create needs --name NAME");
		return CLI_EXIT_USAGE;
	}
	if ((ret = cli_store(ctx, false, &(struct store *){ NULL })) != CLI_EXIT_OK ||
	    (ret = cli_key(ctx, passfile, &key)) != CLI_EXIT_OK)
		return ret;
	if ((ret = cli_alliance_found(ctx, key, name, desc, id)) != CLI_EXIT_OK)
		return ret;
	proto_hex(hex, id, PROTO_ID_BYTES);
	printf("%s\n", hex);
	if (ctx->tty_out)
		printf("founded alliance %s; it is now your default alliance\n", name);
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

static int cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct alliance_list l = { 0 };
	struct store_txn *t = NULL;
	struct store *s;
	uint8_t def[PROTO_ID_BYTES];
	bool json = false, have_def;
	int ret = CLI_EXIT_ERROR, rc;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			help(stdout);
			return CLI_EXIT_OK;
		} else {
			cli_error(ctx, "unknown option '%s' for alliance list (see agora alliance --help)",
			          argv[i]);
			return CLI_EXIT_USAGE;
		}
	}
	if ((ret = cli_store(ctx, false, &s)) != CLI_EXIT_OK)
		return ret;
	if ((rc = store_txn_begin(s, &t)) < 0) {
		cli_error(ctx, "cannot read the store: %s", store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
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
	if (json) {
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
			printf("%c %-30s %-64s %8llu %8llu\n",
			       have_def && !memcmp(def, l.rows[k].id, PROTO_ID_BYTES) ? '*' : ' ',
			       l.rows[k].name ? l.rows[k].name : "?", hex,
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

static int cmd_use(struct cli_ctx *ctx, int argc, char **argv)
{
	struct store_txn *t = NULL;
	struct store *s;
	uint8_t id[PROTO_ID_BYTES];
	char hex[PROTO_ID_HEX + 1];
	int ret, rc;

	if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
		help(stdout);
		return CLI_EXIT_OK;
	}
	if (argc != 3) {
		cli_error(ctx, "usage: agora alliance use NAME|ID");
		return CLI_EXIT_USAGE;
	}
	if ((ret = cli_store(ctx, false, &s)) != CLI_EXIT_OK)
		return ret;
	if ((rc = store_txn_begin(s, &t)) < 0) {
		cli_error(ctx, "cannot read the store: %s", store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	ret = cli_alliance(ctx, t, argv[2], id);
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

int cli_cmd_alliance(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		help(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "create"))
		return cmd_create(ctx, argc, argv);
	if (!strcmp(argv[1], "list"))
		return cmd_list(ctx, argc, argv);
	if (!strcmp(argv[1], "use"))
		return cmd_use(ctx, argc, argv);
	if (!strcmp(argv[1], "members"))
		return cli_alliance_members(ctx, argc, argv);
	if (!strcmp(argv[1], "admit"))
		return cli_alliance_admit(ctx, argc, argv);
	if (!strcmp(argv[1], "revoke"))
		return cli_alliance_revoke(ctx, argc, argv);
	if (!strcmp(argv[1], "rotate-key"))
		return cli_alliance_rotate(ctx, argc, argv);
	if (!strcmp(argv[1], "invite"))
		return cli_alliance_invite(ctx, argc, argv);
	cli_error(ctx, "'%s' is not an alliance command: use create, list, use, members, admit, "
	          "revoke, rotate-key or invite", argv[1]);
	return CLI_EXIT_USAGE;
}
