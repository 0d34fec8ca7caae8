/*
 * cmd_publish.c - `agora publish`, `agora amend`, `agora retract`: sign
 * and store records of this node, from generic field flags or from a file
 * (import.c: JSON, JSON Lines, CSV, xlsx; all of a file in one transaction).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/alliance_int.h"
#include "cli/amend_int.h"
#include "cli/attach_int.h"
#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/control_int.h"
#include "cli/fields_int.h"
#include "cli/home_int.h"
#include "cli/import_int.h"
#include "cli/json_int.h"
#include "cli/lang_int.h"
#include "cli/opt_int.h"

static const char *const publishable[] = {
	"measure", "result", "lesson", "target", "inventory", "endorsement", "profile",
};

/* Options of publish, amend and retract. */
struct pub_opts {
	const char *alliance;       /* --alliance NAME|ID */
	const char *passphrase_file;
	const char *file;           /* publish --file */
	const char *reason;         /* retract --reason */
	bool as_mine;               /* publish --file: sign another author's records as ours */
	bool again;                 /* publish --file: publish identical records again */
	bool json;                  /* print the stored record as JSON */
	enum proto_kind kind;       /* publish KIND / the amended record's kind */
	struct fields *fields;      /* the record's flags (cli_opt_parse's extra) */
	int changes;                /* field flags given */
	struct cli_attach_files attach;   /* publish/amend --attach FILE, repeated */
	struct cli_attach_drop detach;    /* amend --detach N, repeated */
};

#define OPT_ALLIANCE CLI_STR("--alliance", "NAME|ID", "the alliance (default: the default " \
	"alliance)", struct pub_opts, alliance)
#define OPT_PASSFILE CLI_STR("--passphrase-file", "FILE", "the passphrase of an encrypted " \
	"identity.key", struct pub_opts, passphrase_file)
#define OPT_JSON CLI_FLAG("--json", "print the stored record as JSON, not only its id", \
	struct pub_opts, json)

static const struct cli_opt publish_opts[] = {
	OPT_ALLIANCE,
	CLI_STR("--file", "FILE", "publish every record of a file in one transaction:\n"
	        "JSON or JSON Lines, a CSV table (FILE.csv), an xlsx\n"
	        "workbook (FILE.xlsx, one sheet per kind), or a\n"
	        "directory of the tables `agora export --format csv\n"
	        "--output-dir` writes (- for standard input: JSON)", struct pub_opts, file),
	CLI_FLAG("--as-mine", "with --file: publish another municipality's records\n"
	         "(their ids, name or key in the file) as new records\n"
	         "signed by this node (never its profile: left out)",
	         struct pub_opts, as_mine),
	CLI_FLAG("--again", "with --file: publish records identical to ones\n"
	         "this node already published, not skip them", struct pub_opts, again),
	CLI_FN("--attach", "FILE", "attach a file to a measure, result or lesson (a PDF\n"
	       "plan, a photo, a data sheet; repeatable, at most 16):\n"
	       "it is stored here and fetched by partners on demand", struct pub_opts,
	       attach, cli_attach_opt),
	OPT_JSON,
	OPT_PASSFILE,
	CLI_OPT_END,
};

/* A record field's flag ("--start-year 2021"): the record's own flags. */
static int field_flag(struct cli_ctx *ctx, void *opts, int argc, char **argv, int *i)
{
	struct pub_opts *o = opts;
	int rc = o->fields ? cli_opt_fields(ctx, o->fields, argc, argv, i) : CLI_OPT_UNKNOWN;

	o->changes += rc == CLI_EXIT_OK;
	return rc;
}

static void field_help(FILE *f, const void *opts)
{
	const struct pub_opts *o = opts;

	if (!o || o->kind == PROTO_KIND_NONE) {
		fprintf(f, "KIND is one of: measure, result, lesson, target, inventory, endorsement,\n"
		        "profile.  'agora publish KIND --help' lists its flags.\n");
		return;
	}
	fprintf(f, "flags of a %s (numbers plain, e.g. 1200.5; repeated flags also take\n"
	        "comma lists; IDs are record ids or unique prefixes):\n", proto_kind_name(o->kind));
	fields_help(f, proto_kind_descriptor(o->kind));
}

static const struct cli_command publish_cmd = {
	.name = "publish",
	.usage = "publish KIND [--alliance NAME|ID] [--json] [--attach FILE ...] [--FIELD VALUE ...]\n"
	         "publish --file FILE.json|.jsonl|.csv|.xlsx|DIR [--alliance NAME|ID]\n"
	         "        [--as-mine] [--again]",
	.about = "Sign and store a record, and print its id.\n"
	         "\n"
	         "A JSON file holds one object, an array of them, or one object per line\n"
	         "(JSON Lines).  A record may carry \"ref\": \"label\" and later records cite\n"
	         "it as \"@label\".\n"
	         "\n"
	         "A CSV file has the columns `agora export --format csv` writes (see\n"
	         "`agora export --help`), so an export edited in a spreadsheet imports\n"
	         "again; its kind comes from its name (measures.csv) or its header.  An\n"
	         "xlsx workbook has one such table per sheet, named after its kind\n"
	         "(measures, results, ...), as `agora export --format xlsx` writes.  UTF-8,\n"
	         "with or without a byte-order mark; cells separated by ',' or by ';' with\n"
	         "decimal commas (1200,5), as a Danish or Polish Excel saves \"CSV UTF-8\";\n"
	         "lists in a cell separated by ';'.  A row with an id of this node's\n"
	         "record publishes a new version of it (the columns over the newest\n"
	         "version); a row with no id is a new record.\n"
	         "\n"
	         "All of a file is stored or none; an error names the row and column.  A\n"
	         "record identical to one this node already published (times aside) is\n"
	         "reported as already published and skipped (--again publishes it).\n"
	         "Records of another municipality (its ids, name or key in the file) are\n"
	         "refused unless --as-mine; even then their profile rows are left out, so\n"
	         "an import never renames this node.  --passphrase-file FILE or\n"
	         "$AGORA_PASSPHRASE unlocks an encrypted key.\n",
	.groups = { { "options", publish_opts, 0 } },
	.extra = field_flag,
	.extra_help = field_help,
};

/* Print the stored record: its id, or with --json the whole record. */
static int print_result(struct cli_ctx *ctx, const struct pub_opts *o, const uint8_t id[PROTO_ID_BYTES],
                        const uint8_t *env, size_t env_len)
{
	char hex[PROTO_ID_HEX + 1];

	if (o->json && env) {
		Agora__Record *rec = NULL;
		json_t *obj;
		if (proto_envelope_decode(&rec, env, env_len, NULL) == 0 &&
		    (obj = json_from_record(rec, id, NULL))) {
			json_dumpf(obj, stdout, JSON_INDENT(2) | JSON_RECORD_DUMP);
			printf("\n");
			json_decref(obj);
			agora__record__free_unpacked(rec, NULL);
			return CLI_EXIT_OK;
		}
		agora__record__free_unpacked(rec, NULL);
		cli_error(ctx, "stored the record but cannot print it as JSON");
		return CLI_EXIT_ERROR;
	}
	proto_hex(hex, id, PROTO_ID_BYTES);
	printf("%s\n", hex);
	return CLI_EXIT_OK;
}

/* Publish one record and report it. */
static int publish_one(struct cli_ctx *ctx, const struct pub_opts *o, const uint8_t *alliance,
                       Agora__Record *rec)
{
	struct proto_error err = { 0 };
	struct proto_key *key;
	struct store *s;
	const ProtobufCMessage *body = NULL;
	uint8_t id[PROTO_ID_BYTES], *env = NULL;
	size_t env_len = 0;
	int ret, rc;

	if ((ret = cli_store(ctx, false, &s)) != CLI_EXIT_OK ||
	    (ret = cli_key(ctx, o->passphrase_file, &key)) != CLI_EXIT_OK)
		return ret;
	/* A language people type is one we know (proto/ checks only its form). */
	proto_record_content(rec, &body);
	if (cli_lang_check(body, &err) < 0)
		return cli_publish_error(ctx, PROTO_E_FIELD, &err);
	rc = store_publish(s, key, alliance, rec, cli_now_ms(), id, &env, &env_len, &err);
	if (rc < 0)
		return cli_publish_error(ctx, rc, &err);
	cli_control_poke(ctx);
	ret = print_result(ctx, o, id, env, env_len);
	free(env);
	return ret;
}

/* ------------------------------------------------------------ publish */

int cli_cmd_publish(struct cli_ctx *ctx, int argc, char **argv)
{
	struct pub_opts o = { 0 };
	struct store_txn *t = NULL;
	struct store *s;
	struct fields f;
	ProtobufCMessage *body = NULL;
	Agora__Record *rec = NULL;
	enum proto_kind kind = PROTO_KIND_NONE;
	uint8_t alliance[PROTO_ID_BYTES];
	size_t n_args;
	int ret = CLI_EXIT_ERROR, rc, first = 1;

	if (argc >= 2 && argv[1][0] != '-') {
		kind = proto_kind_parse(argv[1]);
		bool ok = false;
		for (size_t k = 0; k < sizeof(publishable) / sizeof(publishable[0]); k++)
			ok |= kind != PROTO_KIND_NONE && !strcmp(proto_kind_name(kind), publishable[k]);
		/* content kinds added after version 1 (the test build's test_note) */
		ok |= kind > PROTO_KIND_RETRACT && proto_kind_known(kind) && !proto_kind_governance(kind);
		if (!ok) {
			cli_error(ctx, "'%s' is not a kind you can publish: use measure, result, lesson, "
			          "target, inventory, endorsement or profile", argv[1]);
			return CLI_EXIT_USAGE;
		}
		first = 2;
	}
	o.kind = kind;
	/* Help needs no store: asked before it is opened for the flags. */
	if (cli_opt_help_asked(argc, argv, first)) {
		cli_opt_help(stdout, &publish_cmd, &o);
		return CLI_EXIT_OK;
	}
	if (kind == PROTO_KIND_NONE) {
		if ((ret = cli_opt_parse(ctx, &publish_cmd, argc, argv, 1, &o, NULL, &n_args)))
			return cli_opt_status(ret);
		if (!o.file)
			return cli_opt_usage(ctx, &publish_cmd);
		if (o.attach.n) {
			cli_error(ctx, "--attach goes with one record: agora publish KIND --attach FILE");
			return CLI_EXIT_USAGE;
		}
		return cli_import_file(ctx, &(struct cli_import_opts){
			.alliance = o.alliance, .passphrase_file = o.passphrase_file, .file = o.file,
			.as_mine = o.as_mine, .again = o.again });
	}

	if ((ret = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK)
		return ret;
	if (!(body = fields_new_message(proto_kind_descriptor(kind)))) {
		cli_error(ctx, "out of memory");
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	fields_init(&f, body, t, false);
	o.fields = &f;
	if ((ret = cli_opt_parse(ctx, &publish_cmd, argc, argv, first, &o, NULL, &n_args))) {
		ret = cli_opt_status(ret);
		goto out;
	}
	if (o.file) {
		cli_error(ctx, "--file takes no KIND: agora publish --file FILE");
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if ((ret = cli_alliance(ctx, t, o.alliance, alliance)) != CLI_EXIT_OK)
		goto out;
	store_txn_end(t);
	t = NULL;
	if ((ret = cli_attach_add(ctx, body, kind, &o.attach)) != CLI_EXIT_OK)
		goto out;
	if ((rc = json_record_wrap(&rec, kind, body, NULL)) < 0) {
		cli_error(ctx, "out of memory");
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	body = NULL;
	ret = publish_one(ctx, &o, alliance, rec);
out:
	store_txn_end(t);
	if (body)
		protobuf_c_message_free_unpacked(body, NULL);
	json_record_free(rec);
	return ret;
}

/* --------------------------------------------------- amend and retract */

/*
 * Find one of our own records by id or prefix: fills the resolved id, the
 * decoded record (caller frees) and the store's view of it.
 */
/* First argument that is not an option, skipping option values; NULL if none. */
static const char *positional(int argc, char **argv, int *pos)
{
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] != '-') {
			*pos = i;
			return argv[i];
		}
		/* Options with a separate value: skip it.  Bools never take one. */
		if (!strchr(argv[i], '=') && i + 1 < argc && argv[i + 1][0] != '-' &&
		    strcmp(argv[i], "--json") != 0)
			i++;
	}
	return NULL;
}

static const struct cli_opt amend_opts[] = {
	CLI_FN("--attach", "FILE", "add a file to the new version's attachments (a\n"
	       "measure, result or lesson; repeatable)", struct pub_opts, attach,
	       cli_attach_opt),
	CLI_FN("--detach", "N", "take attachment N (as `agora show` numbers them)\n"
	       "off the new version's list (repeatable)", struct pub_opts, detach,
	       cli_attach_drop_opt),
	OPT_JSON,
	OPT_PASSFILE,
	CLI_OPT_END,
};

static const struct cli_command amend_cmd = {
	.name = "amend",
	.usage = "amend ID [--FIELD VALUE ...] [--attach FILE] [--detach N] [options]",
	.about = "Publishes a new version of one of your records: the newest version's\n"
	         "content with the flags applied (a repeated field given here replaces the\n"
	         "old list).  The flags are those of 'agora publish KIND --help'.  ID is a\n"
	         "record id or a unique prefix.  The version keeps the files the record\n"
	         "lists, less those --detach names, plus those --attach adds.\n",
	.groups = { { "options", amend_opts, 0 } },
	.min_args = 1,
	.max_args = 1,
	.extra = field_flag,
};

int cli_cmd_amend(struct cli_ctx *ctx, int argc, char **argv)
{
	struct pub_opts o = { 0 };
	struct store_txn *t = NULL;
	struct cli_amend a = { 0 };
	struct proto_key *key;
	struct store *s;
	struct fields f;
	Agora__Record *rec = NULL;
	const char *arg, *idarg;
	char err[512];
	size_t n_args;
	int ret = CLI_EXIT_ERROR, rc, pos = 0;

	if (cli_opt_help_asked(argc, argv, 1)) {
		cli_opt_help(stdout, &amend_cmd, &o);
		return CLI_EXIT_OK;
	}
	/* The record's kind says which flags there are, so its id is found
	 * before the flags are read. */
	if (!(arg = positional(argc, argv, &pos)))
		return cli_opt_usage(ctx, &amend_cmd);
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--passphrase-file") && i + 1 < argc)
			o.passphrase_file = argv[i + 1];
		else if (!strncmp(argv[i], "--passphrase-file=", 18))
			o.passphrase_file = argv[i] + 18;
	if ((ret = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK ||
	    (ret = cli_key(ctx, o.passphrase_file, &key)) != CLI_EXIT_OK)
		goto out;
	if ((rc = cli_amend_open(&a, t, key->pk, arg, true, err, sizeof(err))) < 0) {
		cli_error(ctx, "%s", err);
		ret = cli_amend_exit(rc);
		goto out;
	}
	fields_init(&f, a.content, t, true);
	o.fields = &f;
	if ((ret = cli_opt_parse(ctx, &amend_cmd, argc, argv, 1, &o, &idarg, &n_args))) {
		ret = cli_opt_status(ret);
		goto out;
	}
	if (!o.changes && !o.attach.n && !o.detach.mask) {
		cli_error(ctx, "nothing to change: give the fields to change, e.g. --status completed");
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	/* Removed first, so --detach numbers are those `agora show` printed. */
	if ((ret = cli_attach_drop(ctx, a.content, a.kind, &o.detach)) != CLI_EXIT_OK ||
	    (ret = cli_attach_add(ctx, a.content, a.kind, &o.attach)) != CLI_EXIT_OK)
		goto out;
	if (cli_amend_wrap(&rec, &a) < 0) {
		cli_error(ctx, "out of memory");
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	store_txn_end(t);
	t = NULL;
	ret = publish_one(ctx, &o, a.alliance, rec);
out:
	store_txn_end(t);
	cli_amend_dispose(&a);
	json_record_free(rec);
	return ret;
}

static const struct cli_opt retract_opts[] = {
	CLI_STR("--reason", "TEXT", "why it is withdrawn (kept with the retraction)",
	        struct pub_opts, reason),
	OPT_PASSFILE,
	CLI_OPT_END,
};

static const struct cli_command retract_cmd = {
	.name = "retract",
	.usage = "retract ID [--reason TEXT] [--passphrase-file FILE]",
	.about = "Withdraws one of your records and all its versions.  The retraction is\n"
	         "kept and shared, so the record never comes back from a peer.\n",
	.groups = { { "options", retract_opts, 0 } },
	.min_args = 1,
	.max_args = 1,
};

int cli_cmd_retract(struct cli_ctx *ctx, int argc, char **argv)
{
	struct pub_opts o = { 0 };
	struct store_txn *t = NULL;
	struct cli_amend a = { 0 };
	struct proto_key *key;
	struct store *s;
	Agora__Record *rec = NULL;
	char err[512];
	const char *arg = NULL;
	size_t n_args;
	int ret = CLI_EXIT_ERROR, rc;

	if ((ret = cli_opt_parse(ctx, &retract_cmd, argc, argv, 1, &o, &arg, &n_args)))
		return cli_opt_status(ret);
	if ((ret = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK ||
	    (ret = cli_key(ctx, o.passphrase_file, &key)) != CLI_EXIT_OK)
		goto out;
	if ((rc = cli_amend_open(&a, t, key->pk, arg, false, err, sizeof(err))) < 0) {
		cli_error(ctx, "%s", err);
		ret = cli_amend_exit(rc);
		goto out;
	}
	store_txn_end(t);
	t = NULL;
	if (cli_retraction_new(&rec, a.id, o.reason) < 0) {
		cli_error(ctx, "out of memory");
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	ret = publish_one(ctx, &o, a.alliance, rec);
out:
	store_txn_end(t);
	cli_amend_dispose(&a);
	json_record_free(rec);
	return ret;
}
