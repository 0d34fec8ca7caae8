/*
 * cmd_init.c - `agora init`: identity, data directory, store, agora.conf
 * and (with --alliance) a first alliance with this node's profile in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "cli/alliance_int.h"
#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/fields_int.h"
#include "cli/home_int.h"
#include "cli/opt_int.h"

struct init_opts {
	const char *alliance;       /* --alliance NAME: found it too */
	const char *passphrase_file;
	const char *public_address; /* --public-address */
	struct fields *profile;     /* the profile's flags (cli_opt_parse's extra) */
};

static const struct cli_opt init_opts[] = {
	CLI_STR("--alliance", "NAME", "also found this alliance and publish the profile\n"
	        "into it", struct init_opts, alliance),
	CLI_STR("--passphrase-file", "FILE", "keep the key encrypted (Argon2id) under the\n"
	        "passphrase on FILE's first line (mode 0600; or set\n"
	        "$AGORA_PASSPHRASE)", struct init_opts, passphrase_file),
	CLI_STR("--public-address", "HOST:PORT", "where partners reach this node (several\n"
	        "separated by commas; none: it only dials out); kept\n"
	        "in agora.conf, published into the alliance founded\n"
	        "here and by `agora join`", struct init_opts, public_address),
	CLI_OPT_END,
};

/* A profile field's flag ("--population 41000"). */
static int profile_flag(struct cli_ctx *ctx, void *opts, int argc, char **argv, int *i)
{
	return cli_opt_fields(ctx, ((struct init_opts *)opts)->profile, argc, argv, i);
}

static void profile_help(FILE *f, const void *opts)
{
	(void)opts;
	fprintf(f, "profile flags:\n");
	fields_help(f, &agora__profile__descriptor);
}

static const struct cli_command init_cmd = {
	.name = "init",
	.usage = "init --name \"Assens Kommune\" --country DK [--alliance NAME]\n"
	         "init ... [--public-address HOST:PORT] [--passphrase-file FILE]\n"
	         "init ... [profile flags]",
	.about = "Creates this node's identity (identity.key, mode 0600), its store and\n"
	         "agora.conf in the data directory.  init never replaces an existing key.\n"
	         "With --alliance NAME it also founds that alliance and publishes the\n"
	         "profile into it, and the endpoint (where partners reach this node)\n"
	         "when there is a public address.\n",
	.groups = { { "options", init_opts, 0 } },
	.extra = profile_flag,
	.extra_help = profile_help,
};

/* mkdir -p with mode 0700 for every directory it creates. */
static int make_dirs(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Write identity.key with O_EXCL: init never overwrites a key. */
static int write_key(struct cli_ctx *ctx, const struct proto_key *key, const char *pass)
{
	char path[4200], *text = NULL;
	size_t len = 0;
	int rc, ret = CLI_EXIT_ERROR;

	store_home_path(path, sizeof(path), ctx->home, STORE_HOME_KEY, NULL);
	if ((rc = proto_key_encode(&text, &len, key, pass)) < 0) {
		cli_error(ctx, "cannot encode the key: %s", proto_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	if ((rc = store_file_write(path, text, len, 0600, STORE_WRITE_NEW)) == -EEXIST) {
		cli_error(ctx, "%s already exists: init never replaces a key (use another --home)", path);
		ret = CLI_EXIT_IDENTITY;
		goto out;
	}
	if (rc < 0) {
		cli_error(ctx, "cannot write %s: %s", path, strerror(-rc));
		goto out;
	}
	ret = CLI_EXIT_OK;
out:
	sodium_memzero(text, len);
	free(text);
	return ret;
}

/* Check the profile the way peers will, before anything is created. */
static int check_profile(struct cli_ctx *ctx, Agora__Profile *p, const struct proto_key *key)
{
	Agora__Record rec = AGORA__RECORD__INIT;
	struct proto_error err = { 0 };
	uint8_t zero[PROTO_ID_BYTES] = { 0 };
	int rc;

	rec.has_alliance = 1;
	rec.alliance.data = zero;
	rec.alliance.len = sizeof(zero);
	rec.has_author = 1;
	rec.author.data = (uint8_t *)key->pk;
	rec.author.len = PROTO_KEY_BYTES;
	rec.has_seq = 1;
	rec.seq = 1;
	rec.has_created_ms = 1;
	rec.created_ms = cli_now_ms();
	rec.body_case = AGORA__RECORD__BODY_PROFILE;
	rec.profile = p;
	rc = proto_record_validate(&rec, rec.created_ms, &err);
	return rc < 0 ? cli_publish_error(ctx, rc, &err) : CLI_EXIT_OK;
}

int cli_cmd_init(struct cli_ctx *ctx, int argc, char **argv)
{
	struct init_opts o = { 0 };
	Agora__Profile *p = (Agora__Profile *)fields_new_message(&agora__profile__descriptor);
	struct proto_key *key = NULL;
	struct store *s;
	struct fields f;
	struct cli_endpoint ep;
	char path[4200], hex[PROTO_KEY_BYTES * 2 + 1], *pass = NULL;
	uint8_t alliance[PROTO_ID_BYTES];
	bool kept = false;
	size_t n_args;
	int ret = CLI_EXIT_ERROR, rc;

	if (!p) {
		cli_error(ctx, "out of memory");
		return CLI_EXIT_ERROR;
	}
	fields_init(&f, &p->base, NULL, false);
	o.profile = &f;
	if ((ret = cli_opt_parse(ctx, &init_cmd, argc, argv, 1, &o, NULL, &n_args)) != CLI_EXIT_OK) {
		ret = cli_opt_status(ret);
		goto out;
	}
	ret = CLI_EXIT_ERROR;
	if (!p->name || !p->country) {
		cli_error(ctx, "init needs --name \"Municipality name\" and --country CC (see agora init --help)");
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if (o.alliance && !*o.alliance) {
		cli_error(ctx, "--alliance needs a name");
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	/* "--language da" alone: the languages spoken are that one. */
	if (p->language && !p->n_languages && fields_set(&f, "languages", p->language) < 0) {
		cli_error(ctx, "%s", f.err);
		ret = CLI_EXIT_INPUT;
		goto out;
	}
	if (store_home_path(path, sizeof(path), ctx->home, STORE_HOME_KEY, NULL)) {
		cli_error(ctx, "the data directory's path is too long: %s", ctx->home);
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if (access(path, F_OK) == 0) {
		cli_error(ctx, "%s already exists: init never replaces a key (use another --home)", path);
		ret = CLI_EXIT_IDENTITY;
		goto out;
	}
	if (o.public_address && (ret = cli_endpoint_choose(ctx, o.public_address, &ep)) !=
	                                CLI_EXIT_OK)
		goto out;
	if ((ret = cli_passphrase(ctx, o.passphrase_file, &pass)) != CLI_EXIT_OK)
		goto out;
	ret = CLI_EXIT_ERROR;
	if ((rc = proto_key_generate(&key)) < 0) {
		cli_error(ctx, "cannot generate a key: %s", proto_strerror(rc));
		goto out;
	}
	if ((ret = check_profile(ctx, p, key)) != CLI_EXIT_OK)
		goto out;
	if ((rc = make_dirs(ctx->home)) < 0) {
		cli_error(ctx, "cannot create %s: %s", ctx->home, strerror(-rc));
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	if ((ret = write_key(ctx, key, pass)) != CLI_EXIT_OK)
		goto out;
	/* From here on the key belongs to ctx, as if cli_key() had loaded it. */
	ctx->key = key;
	key = NULL;
	if ((ret = cli_store(ctx, true, &s)) != CLI_EXIT_OK)
		goto out;
	if ((ret = cli_conf_write(ctx, ctx->key->pk, p, &kept)) != CLI_EXIT_OK)
		goto out;
	proto_hex(hex, ctx->key->pk, PROTO_KEY_BYTES);
	printf("created the identity of %s in %s%s\npublic key: %s\n", p->name, ctx->home,
	       pass ? " (key encrypted)" : "", hex);
	if (kept)
		fprintf(stderr, "%s: kept the existing %s/agora.conf\n", ctx->prog, ctx->home);
	if (o.public_address && (ret = cli_endpoint_remember(ctx, &ep)) != CLI_EXIT_OK)
		goto out;
	if (o.alliance) {
		if ((ret = cli_alliance_found(ctx, ctx->key, o.alliance, NULL, alliance)) != CLI_EXIT_OK)
			goto out;
		proto_hex(hex, alliance, PROTO_ID_BYTES);
		printf("founded alliance %s: %s\n", o.alliance, hex);
		/* an existing agora.conf may say where this node is reached */
		if (!o.public_address && (ret = cli_endpoint_choose(ctx, NULL, &ep)) != CLI_EXIT_OK)
			goto out;
		if (ep.source &&
		    (ret = cli_endpoint_publish(ctx, ctx->key, alliance, &ep, NULL)) != CLI_EXIT_OK)
			goto out;
		if (ep.source)
			cli_endpoint_say(ctx, &ep, "endpoint");
		else
			printf("endpoint: none published: partners reach this node only where they "
			       "are told (`agora endpoint set HOST:PORT` publishes it)\n");
	} else {
		printf("next: agora alliance create --name \"ALLIANCE NAME\" (or join one)\n");
	}
	ret = CLI_EXIT_OK;
out:
	if (pass)
		sodium_free(pass);
	proto_key_free(key);
	agora__profile__free_unpacked(p, NULL);
	return ret;
}
