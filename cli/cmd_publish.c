/*
 * cmd_publish.c - `agora publish`, `agora amend`, `agora retract`: sign
 * and store records of this node, from generic field flags or from a
 * JSON / JSON Lines file (all of a file in one transaction).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/alliance_int.h"
#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/control_int.h"
#include "cli/fields_int.h"
#include "cli/home_int.h"
#include "cli/json_int.h"
#include "cli/opt_int.h"

#define FILE_MAX (512u << 20)   /* a publish file larger than this is surely a mistake */

static const char *const publishable[] = {
	"measure", "result", "lesson", "target", "inventory", "endorsement", "profile",
};

/* Options of publish, amend and retract. */
struct pub_opts {
	const char *alliance;       /* --alliance NAME|ID */
	const char *passphrase_file;
	const char *file;           /* publish --file */
	const char *reason;         /* retract --reason */
	bool json;                  /* print the stored record as JSON */
	enum proto_kind kind;       /* publish KIND / the amended record's kind */
	struct fields *fields;      /* the record's flags (cli_opt_parse's extra) */
	int changes;                /* field flags given */
};

#define OPT_ALLIANCE CLI_STR("--alliance", "NAME|ID", "the alliance (default: the default " \
	"alliance)", struct pub_opts, alliance)
#define OPT_PASSFILE CLI_STR("--passphrase-file", "FILE", "the passphrase of an encrypted " \
	"identity.key", struct pub_opts, passphrase_file)
#define OPT_JSON CLI_FLAG("--json", "print the stored record as JSON, not only its id", \
	struct pub_opts, json)

static const struct cli_opt publish_opts[] = {
	OPT_ALLIANCE,
	CLI_STR("--file", "FILE", "publish every record of a JSON or JSON Lines file (- for\n"
	        "standard input) in one transaction", struct pub_opts, file),
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
	.usage = "publish KIND [--alliance NAME|ID] [--json] [--FIELD VALUE ...]\n"
	         "publish --file FILE.json|FILE.jsonl [--alliance NAME|ID]",
	.about = "Sign and store a record, and print its id.  A file holds one JSON object,\n"
	         "an array of them, or one object per line (JSON Lines); all of it is\n"
	         "stored or none.  A record may carry \"ref\": \"label\" and later records\n"
	         "cite it as \"@label\".  --passphrase-file FILE or $AGORA_PASSPHRASE\n"
	         "unlocks an encrypted key.\n",
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
	uint8_t id[PROTO_ID_BYTES], *env = NULL;
	size_t env_len = 0;
	int ret, rc;

	if ((ret = cli_store(ctx, false, &s)) != CLI_EXIT_OK ||
	    (ret = cli_key(ctx, o->passphrase_file, &key)) != CLI_EXIT_OK)
		return ret;
	rc = store_publish(s, key, alliance, rec, cli_now_ms(), id, &env, &env_len, &err);
	if (rc < 0)
		return cli_publish_error(ctx, rc, &err);
	cli_control_poke(ctx);
	ret = print_result(ctx, o, id, env, env_len);
	free(env);
	return ret;
}

/* ------------------------------------------------------------ files */

struct file_rec {
	Agora__Record *rec;
	size_t line;                /* 1-based line (JSON Lines / single object) or 0 */
	size_t index;               /* 1-based position in the file */
};

struct batch {
	struct cli_ctx *ctx;
	struct json_refs *refs;
	struct cli_progress progress;
};

static int prepare_cb(Agora__Record *rec, size_t i, const uint8_t (*ids_so_far)[PROTO_ID_BYTES],
                      void *user)
{
	struct batch *b = user;
	int rc = json_refs_patch(b->refs, rec, i, ids_so_far);
	cli_progress_step(&b->progress, 1);
	return rc;
}

static void where(char *buf, size_t cap, const char *file, const struct file_rec *r)
{
	if (r->line)
		snprintf(buf, cap, "%s:%zu", file, r->line);
	else
		snprintf(buf, cap, "%s: record %zu", file, r->index);
}

static char *read_file(struct cli_ctx *ctx, const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		cli_error(ctx, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n + 65536 + 1 > cap) {
			char *grown;
			cap = cap ? cap * 2 : 1 << 17;
			if (cap > FILE_MAX + 65536 + 1 || !(grown = realloc(buf, cap))) {
				cli_error(ctx, "%s is too large to publish at once: split it", path);
				goto fail;
			}
			buf = grown;
		}
		size_t r = fread(buf + n, 1, 65536, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		cli_error(ctx, "cannot read %s: %s", path, strerror(errno));
		goto fail;
	}
	if (f != stdin)
		fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	if (f != stdin)
		fclose(f);
	free(buf);
	return NULL;
}

/*
 * Split a file into JSON values with their line numbers: an array, one
 * object spanning the file, or one object per line (JSON Lines).
 */
struct jvals {
	json_t **v;
	size_t *line;
	size_t n, cap;
};

static int jvals_add(struct jvals *j, json_t *v, size_t line)
{
	if (j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 64;
		json_t **nv = realloc(j->v, cap * sizeof(*nv));
		size_t *nl;
		if (!nv)
			return -ENOMEM;
		j->v = nv;
		if (!(nl = realloc(j->line, cap * sizeof(*nl))))
			return -ENOMEM;
		j->line = nl;
		j->cap = cap;
	}
	j->v[j->n] = v;
	j->line[j->n++] = line;
	return 0;
}

static int split_values(struct cli_ctx *ctx, const char *file, const char *buf, size_t len,
                        struct jvals *out)
{
	const char *p = buf;
	json_error_t e;
	json_t *v;

	while (p < buf + len && isspace((unsigned char)*p))
		p++;
	if (p == buf + len) {
		cli_error(ctx, "%s holds no records", file);
		return CLI_EXIT_INPUT;
	}
	if (*p == '[') {
		if (!(v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e))) {
			cli_error(ctx, "%s:%d: not valid JSON: %s", file, e.line, e.text);
			return CLI_EXIT_INPUT;
		}
		for (size_t k = 0; k < json_array_size(v); k++)
			if (jvals_add(out, json_incref(json_array_get(v, k)), 0) < 0) {
				json_decref(v);
				cli_error(ctx, "out of memory");
				return CLI_EXIT_ERROR;
			}
		json_decref(v);
		return CLI_EXIT_OK;
	}
	/* One object for the whole file? */
	if ((v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e))) {
		if (jvals_add(out, v, 1) < 0) {
			json_decref(v);
			return CLI_EXIT_ERROR;
		}
		return CLI_EXIT_OK;
	}
	/* JSON Lines: one value per non-blank line. */
	size_t line = 1;
	for (const char *s = buf; s < buf + len; line++) {
		const char *nl = memchr(s, '\n', (size_t)(buf + len - s));
		const char *end = nl ? nl : buf + len;
		const char *q = s;
		while (q < end && isspace((unsigned char)*q))
			q++;
		if (q < end) {
			if (!(v = json_loadb(s, (size_t)(end - s), JSON_REJECT_DUPLICATES, &e))) {
				cli_error(ctx, "%s:%zu: not valid JSON (%s); give one object per line, "
				          "or one JSON array", file, line, e.text);
				return CLI_EXIT_INPUT;
			}
			if (jvals_add(out, v, line) < 0) {
				json_decref(v);
				cli_error(ctx, "out of memory");
				return CLI_EXIT_ERROR;
			}
		}
		s = end + 1;
	}
	return CLI_EXIT_OK;
}

static int publish_file(struct cli_ctx *ctx, const struct pub_opts *o)
{
	struct jvals vals = { 0 };
	struct file_rec *recs = NULL;
	Agora__Record **list = NULL;
	uint8_t (*ids)[PROTO_ID_BYTES] = NULL;
	struct batch b = { .ctx = ctx };
	struct store_txn *t = NULL;
	struct proto_key *key;
	struct store *s;
	struct proto_error err = { 0 };
	uint8_t alliance[PROTO_ID_BYTES];
	bool have_alliance = false;
	char *buf = NULL, at[4200];
	const char *alliance_name = o->alliance;
	size_t len = 0, n = 0, failed = 0;
	int ret = CLI_EXIT_ERROR, rc;

	if (!(buf = read_file(ctx, o->file, &len)))
		return CLI_EXIT_INPUT;
	if ((ret = split_values(ctx, o->file, buf, len, &vals)) != CLI_EXIT_OK)
		goto out;
	if ((ret = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK)
		goto out;
	if (!(b.refs = json_refs_new(t)) || !(recs = calloc(vals.n, sizeof(*recs))) ||
	    !(list = calloc(vals.n, sizeof(*list))) || !(ids = calloc(vals.n, sizeof(*ids)))) {
		cli_error(ctx, "out of memory");
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	cli_progress_start(&b.progress, ctx, "reading", vals.n);
	for (n = 0; n < vals.n; n++) {
		const char *ref = NULL, *rec_alliance = NULL;
		uint8_t aid[PROTO_ID_BYTES];

		recs[n].line = vals.line[n];
		recs[n].index = n + 1;
		where(at, sizeof(at), o->file, &recs[n]);
		rc = json_to_record(&recs[n].rec, &ref, &rec_alliance, vals.v[n], b.refs, &err);
		if (rc < 0) {
			cli_progress_end(&b.progress);
			if (err.field[0])
				cli_error(ctx, "%s: %s: %s", at, err.field, err.msg);
			else
				cli_error(ctx, "%s: %s", at, err.msg);
			ret = rc == PROTO_E_NOMEM ? CLI_EXIT_ERROR : CLI_EXIT_INPUT;
			goto out;
		}
		list[n] = recs[n].rec;
		cli_progress_step(&b.progress, 1);
		/* Every record of a file goes to one alliance (one transaction, one feed). */
		if (rec_alliance && !o->alliance) {
			if ((ret = cli_alliance(ctx, t, rec_alliance, aid)) != CLI_EXIT_OK) {
				cli_progress_end(&b.progress);
				cli_error(ctx, "%s: alliance: '%s' is not an alliance of this node", at,
				          rec_alliance);
				ret = CLI_EXIT_INPUT;
				goto out;
			}
			if (have_alliance && memcmp(aid, alliance, PROTO_ID_BYTES)) {
				cli_progress_end(&b.progress);
				cli_error(ctx, "%s: alliance: all records of one file must belong to one "
				          "alliance (split the file)", at);
				ret = CLI_EXIT_INPUT;
				goto out;
			}
			memcpy(alliance, aid, PROTO_ID_BYTES);
			have_alliance = true;
			alliance_name = rec_alliance;
		}
	}
	cli_progress_end(&b.progress);
	if (!have_alliance) {
		if ((ret = cli_alliance(ctx, t, alliance_name, alliance)) != CLI_EXIT_OK)
			goto out;
	}
	store_txn_end(t);
	t = NULL;
	if ((ret = cli_key(ctx, o->passphrase_file, &key)) != CLI_EXIT_OK)
		goto out;
	cli_progress_start(&b.progress, ctx, "signing", n);
	rc = store_publish_batch(s, key, alliance, list, n, cli_now_ms(), prepare_cb, &b, ids,
	                         &failed, &err);
	cli_progress_end(&b.progress);
	if (rc < 0) {
		if (failed < n && (rc == PROTO_E_FIELD || rc == PROTO_E_KIND)) {
			const char *msg = err.msg;
			size_t fl = strlen(err.field);
			if (fl && !strncmp(msg, err.field, fl) && msg[fl] == ':')
				msg += fl + 1 + (msg[fl + 1] == ' ');
			where(at, sizeof(at), o->file, &recs[failed]);
			cli_error(ctx, "%s: %s%s%s (nothing of the file was stored)", at, err.field,
			          err.field[0] ? ": " : "", msg);
			ret = CLI_EXIT_INPUT;
		} else if (failed < n) {
			where(at, sizeof(at), o->file, &recs[failed]);
			fprintf(stderr, "%s: %s: nothing of the file was stored:\n", ctx->prog, at);
			ret = cli_publish_error(ctx, rc, &err);
		} else {
			ret = cli_publish_error(ctx, rc, &err);
		}
		goto out;
	}
	cli_control_poke(ctx);
	/* Scripts get the new ids, one per line; people get one summary line. */
	for (size_t k = 0; !ctx->tty_out && k < n; k++) {
		char hex[PROTO_ID_HEX + 1];
		proto_hex(hex, ids[k], PROTO_ID_BYTES);
		printf("%s\n", hex);
	}
	fprintf(ctx->tty_out ? stdout : stderr, "published %zu record%s from %s\n", n,
	        n == 1 ? "" : "s", o->file);
	ret = CLI_EXIT_OK;
out:
	store_txn_end(t);
	for (size_t k = 0; k < vals.n; k++) {
		json_decref(vals.v[k]);
		if (recs)
			json_record_free(recs[k].rec);
	}
	free(vals.v);
	free(vals.line);
	free(recs);
	free(list);
	free(ids);
	json_refs_free(b.refs);
	free(buf);
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
		return publish_file(ctx, &o);
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
static int own_record(struct cli_ctx *ctx, struct store_txn *t, const struct proto_key *key,
                      const char *arg, uint8_t id[PROTO_ID_BYTES], Agora__Record **rec_out,
                      struct store_record *sr)
{
	char msg[200];
	Agora__Record *rec = NULL;
	int rc;

	if (fields_parse_id(id, arg, t, msg, sizeof(msg)) < 0) {
		cli_error(ctx, "%s", msg);
		return CLI_EXIT_NOTFOUND;
	}
	if ((rc = store_get(t, id, sr)) < 0) {
		cli_error(ctx, rc == STORE_E_NOTFOUND ? "no record %s here" : "cannot read record %s",
		          arg);
		return rc == STORE_E_NOTFOUND ? CLI_EXIT_NOTFOUND : CLI_EXIT_ERROR;
	}
	if (proto_envelope_decode(&rec, sr->env, sr->env_len, NULL) < 0) {
		cli_error(ctx, "record %s is damaged in the store", arg);
		return CLI_EXIT_ERROR;
	}
	if (!rec->has_author || rec->author.len != PROTO_KEY_BYTES ||
	    memcmp(rec->author.data, key->pk, PROTO_KEY_BYTES)) {
		agora__record__free_unpacked(rec, NULL);
		cli_error(ctx, "record %s is not yours: you can only change your own records", arg);
		return CLI_EXIT_INPUT;
	}
	if (!rec->has_alliance || rec->alliance.len != PROTO_ID_BYTES) {
		agora__record__free_unpacked(rec, NULL);
		cli_error(ctx, "record %s founds an alliance: a charter cannot be changed this way", arg);
		return CLI_EXIT_INPUT;
	}
	if (sr->retracted) {
		agora__record__free_unpacked(rec, NULL);
		cli_error(ctx, "record %s was retracted: publish a new record instead", arg);
		return CLI_EXIT_INPUT;
	}
	*rec_out = rec;
	return CLI_EXIT_OK;
}

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
	OPT_JSON,
	OPT_PASSFILE,
	CLI_OPT_END,
};

static const struct cli_command amend_cmd = {
	.name = "amend",
	.usage = "amend ID [--FIELD VALUE ...] [--json] [--passphrase-file FILE]",
	.about = "Publishes a new version of one of your records: the newest version's\n"
	         "content with the flags applied (a repeated field given here replaces the\n"
	         "old list).  The flags are those of 'agora publish KIND --help'.  ID is a\n"
	         "record id or a unique prefix.\n",
	.groups = { { "options", amend_opts, 0 } },
	.min_args = 1,
	.max_args = 1,
	.extra = field_flag,
};

int cli_cmd_amend(struct cli_ctx *ctx, int argc, char **argv)
{
	struct pub_opts o = { 0 };
	struct store_txn *t = NULL;
	struct store_record sr, newest;
	struct proto_key *key;
	struct store *s;
	struct fields f;
	Agora__Record *orig = NULL, *cur = NULL, *rec = NULL;
	const ProtobufCMessage *content;
	ProtobufCMessage *copy = NULL;
	enum proto_kind kind;
	uint8_t id[PROTO_ID_BYTES], alliance[PROTO_ID_BYTES], *packed = NULL;
	const char *arg, *idarg;
	size_t n_args;
	int ret = CLI_EXIT_ERROR, rc, pos = 0, changes = 0;

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
	    (ret = cli_key(ctx, o.passphrase_file, &key)) != CLI_EXIT_OK ||
	    (ret = own_record(ctx, t, key, arg, id, &orig, &sr)) != CLI_EXIT_OK)
		goto out;
	/* Edit the newest version: an amend of an old id must not drop later edits. */
	if ((rc = store_get(t, sr.newest, &newest)) < 0 ||
	    proto_envelope_decode(&cur, newest.env, newest.env_len, NULL) < 0) {
		cli_error(ctx, "cannot read the newest version of %s", arg);
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	kind = proto_record_content(cur, &content);
	if (!content || kind < PROTO_KIND_PROFILE || kind > PROTO_KIND_ENDORSEMENT) {
		cli_error(ctx, "a %s cannot be amended", proto_kind_name(kind) ? proto_kind_name(kind) : "record");
		ret = CLI_EXIT_INPUT;
		goto out;
	}
	/* A deep copy through the wire format, so every part is malloc()ed. */
	size_t plen = protobuf_c_message_get_packed_size(content);
	if (!(packed = malloc(plen ? plen : 1))) {
		cli_error(ctx, "out of memory");
		goto out;
	}
	protobuf_c_message_pack(content, packed);
	if (!(copy = protobuf_c_message_unpack(content->descriptor, NULL, plen, packed))) {
		cli_error(ctx, "cannot copy record %s", arg);
		goto out;
	}
	fields_init(&f, copy, t, true);
	o.fields = &f;
	if ((ret = cli_opt_parse(ctx, &amend_cmd, argc, argv, 1, &o, &idarg, &n_args))) {
		ret = cli_opt_status(ret);
		goto out;
	}
	ret = CLI_EXIT_ERROR;
	changes = o.changes;
	if (!changes) {
		cli_error(ctx, "nothing to change: give the fields to change, e.g. --status completed");
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	memcpy(alliance, orig->alliance.data, PROTO_ID_BYTES);
	if ((rc = json_record_wrap(&rec, kind, copy, sr.newest)) < 0) {
		cli_error(ctx, "out of memory");
		goto out;
	}
	copy = NULL;
	store_txn_end(t);
	t = NULL;
	ret = publish_one(ctx, &o, alliance, rec);
out:
	store_txn_end(t);
	free(packed);
	if (copy)
		protobuf_c_message_free_unpacked(copy, NULL);
	json_record_free(rec);
	if (orig)
		agora__record__free_unpacked(orig, NULL);
	if (cur)
		agora__record__free_unpacked(cur, NULL);
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
	struct store_record sr;
	struct proto_key *key;
	struct store *s;
	Agora__Record *orig = NULL, *rec = NULL;
	Agora__Retract *r = NULL;
	uint8_t id[PROTO_ID_BYTES], alliance[PROTO_ID_BYTES];
	const char *arg = NULL, *reason;
	size_t n_args;
	int ret = CLI_EXIT_ERROR, rc;

	if ((ret = cli_opt_parse(ctx, &retract_cmd, argc, argv, 1, &o, &arg, &n_args)))
		return cli_opt_status(ret);
	reason = o.reason;
	if ((ret = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK ||
	    (ret = cli_key(ctx, o.passphrase_file, &key)) != CLI_EXIT_OK ||
	    (ret = own_record(ctx, t, key, arg, id, &orig, &sr)) != CLI_EXIT_OK)
		goto out;
	store_txn_end(t);
	t = NULL;
	if (!(r = (Agora__Retract *)fields_new_message(&agora__retract__descriptor)) ||
	    !(r->target.data = malloc(PROTO_ID_BYTES)) ||
	    (reason && !(r->reason = strdup(reason)))) {
		cli_error(ctx, "out of memory");
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	memcpy(r->target.data, id, PROTO_ID_BYTES);
	r->target.len = PROTO_ID_BYTES;
	r->has_target = 1;
	memcpy(alliance, orig->alliance.data, PROTO_ID_BYTES);
	if ((rc = json_record_wrap(&rec, PROTO_KIND_RETRACT, &r->base, NULL)) < 0) {
		cli_error(ctx, "out of memory");
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	r = NULL;
	ret = publish_one(ctx, &o, alliance, rec);
out:
	store_txn_end(t);
	if (r)
		agora__retract__free_unpacked(r, NULL);
	json_record_free(rec);
	if (orig)
		agora__record__free_unpacked(orig, NULL);
	return ret;
}
