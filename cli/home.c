/*
 * home.c - the data directory: store, identity key, agora.conf and the
 * alliance a command works in.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>

#include "cli/cli_int.h"
#include "cli/fields_int.h"
#include "cli/home_int.h"

int cli_store(struct cli_ctx *ctx, bool create, struct store **out)
{
	char path[4200];
	struct stat st;
	int rc;

	if (ctx->store) {
		*out = ctx->store;
		return CLI_EXIT_OK;
	}
	store_home_path(path, sizeof(path), ctx->home, STORE_HOME_DB, NULL);
	if (stat(path, &st) < 0) {
		if (!create) {
			cli_error(ctx, "no agora data in %s: run `agora init --name NAME --country CC` first",
			          ctx->home);
			return CLI_EXIT_NOTFOUND;
		}
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			cli_error(ctx, "cannot create %s: %s", path, strerror(errno));
			return CLI_EXIT_ERROR;
		}
	}
	rc = store_open(&ctx->store, path, 0);
	if (rc < 0) {
		if (rc == STORE_E_VERSION)
			cli_error(ctx, "the store in %s was written by a newer agora: upgrade agora", path);
		else
			cli_error(ctx, "cannot open the store in %s: %s", path, store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	struct store_reread rr;
	store_open_reread(ctx->store, &rr);
	if (rr.indexed)   /* once, the first time an upgraded agora opens the store */
		fprintf(stderr, "%s: read %llu records of a newer version that this node kept unread; "
		        "they now appear in queries and reports\n", ctx->prog,
		        (unsigned long long)rr.indexed);
	if (rr.error)
		fprintf(stderr, "%s: could not yet index all records of a newer version that this node "
		        "kept unread (%s); the next command tries again\n", ctx->prog,
		        store_strerror(rr.error));
	*out = ctx->store;
	return CLI_EXIT_OK;
}

int cli_snapshot(struct cli_ctx *ctx, struct store **s, struct store_txn **t)
{
	int ret, rc;

	if ((ret = cli_store(ctx, false, s)) != CLI_EXIT_OK)
		return ret;
	if ((rc = store_txn_begin(*s, t)) < 0) {
		cli_error(ctx, "cannot read the store: %s", store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}

/* Ask on the terminal with echo off (the CLI's store_prompt_cb). */
static int prompt_tty(char *buf, size_t cap, const char *question, void *pctx)
{
	struct cli_ctx *ctx = pctx;
	struct termios old, quiet;
	size_t n = 0;
	int rc = 0;

	if (tcgetattr(STDIN_FILENO, &old) < 0)
		return -errno;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	/* Echo goes off (and typeahead is dropped) before the question shows,
	 * so nothing typed in answer to it is ever echoed or thrown away. */
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0)
		return -errno;
	fprintf(stderr, "%s: %s: ", ctx->prog, question);
	fflush(stderr);
	for (;;) {
		char ch;
		ssize_t r = read(STDIN_FILENO, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (r == 0 || ch == '\n')
			break;
		if (n + 1 < cap)
			buf[n++] = ch;
	}
	buf[n] = '\0';
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	return rc;
}

/* The exit status for a failed store_key_* / store_passphrase_get. */
static int key_exit(int rc)
{
	switch (rc) {
	case -ENOENT:
	case -EACCES:
	case PROTO_E_KEY:
	case PROTO_E_KEY_PERM:
	case PROTO_E_PASSPHRASE:
		return CLI_EXIT_IDENTITY;
	default:
		return CLI_EXIT_ERROR;
	}
}

/*
 * A new key's passphrase typed on the terminal, twice, with echo off.  Enter
 * alone keeps the key unencrypted, as before there was a prompt.
 */
static int ask_new_passphrase(struct cli_ctx *ctx, char **out)
{
	char *a = sodium_malloc(STORE_PASSPHRASE_MAX + 1);
	char *b = sodium_malloc(STORE_PASSPHRASE_MAX + 1);
	int rc, ret = CLI_EXIT_ERROR;

	if (!a || !b) {
		cli_error(ctx, "out of memory");
		goto out;
	}
	if ((rc = prompt_tty(a, STORE_PASSPHRASE_MAX + 1, "passphrase for the new key "
	                     "(Enter alone: keep the key unencrypted)", ctx)) < 0) {
		cli_error(ctx, "cannot read the passphrase from the terminal: %s", strerror(-rc));
		goto out;
	}
	if (!a[0]) {
		fprintf(stderr, "%s: the key is kept unencrypted (mode 0600)\n", ctx->prog);
		*out = NULL;
		ret = CLI_EXIT_OK;
		goto out;
	}
	if ((rc = prompt_tty(b, STORE_PASSPHRASE_MAX + 1, "the same passphrase again", ctx)) < 0) {
		cli_error(ctx, "cannot read the passphrase from the terminal: %s", strerror(-rc));
		goto out;
	}
	if (strlen(a) != strlen(b) || sodium_memcmp(a, b, strlen(a)) != 0) {
		cli_error(ctx, "the two passphrases differ: nothing was changed, try again");
		ret = CLI_EXIT_IDENTITY;
		goto out;
	}
	*out = a;
	a = NULL;
	ret = CLI_EXIT_OK;
out:
	sodium_free(a);
	sodium_free(b);
	return ret;
}

int cli_passphrase(struct cli_ctx *ctx, const char *passphrase_file, char **out)
{
	struct store_passphrase_src src = { .file = passphrase_file };
	const char *env = getenv("AGORA_PASSPHRASE");
	char msg[512];
	int rc;

	/* A person at a terminal is asked; scripts give a file or the variable. */
	if (!passphrase_file && !(env && *env) && isatty(STDIN_FILENO))
		return ask_new_passphrase(ctx, out);
	rc = store_passphrase_get(out, &src, "passphrase", msg, sizeof(msg));

	if (rc) {
		cli_error(ctx, "%s", msg);
		return key_exit(rc);
	}
	return CLI_EXIT_OK;
}

int cli_key(struct cli_ctx *ctx, const char *passphrase_file, struct proto_key **out)
{
	struct store_passphrase_src src = { .file = passphrase_file };
	char msg[512];
	int rc;

	if (ctx->key) {
		*out = ctx->key;
		return CLI_EXIT_OK;
	}
	/* Ask only a person: on a terminal, when no file or variable gave it. */
	if (isatty(STDIN_FILENO)) {
		src.prompt = prompt_tty;
		src.prompt_ctx = ctx;
	}
	if ((rc = store_key_load(&ctx->key, ctx->home, &src, msg, sizeof(msg)))) {
		cli_error(ctx, "%s", msg);
		return key_exit(rc);
	}
	*out = ctx->key;
	return CLI_EXIT_OK;
}

/* ----------------------------------------------------------- agora.conf */

/* <home>/agora.conf into path; CLI_EXIT_* with the error printed. */
static int conf_path(struct cli_ctx *ctx, char path[4200])
{
	if (store_home_path(path, 4200, ctx->home, STORE_HOME_CONF, NULL) == 0)
		return CLI_EXIT_OK;
	cli_error(ctx, "the data directory's path is too long: %s", ctx->home);
	return CLI_EXIT_ERROR;
}

/* A failed store_conf_load / store_conf_edit_open: err says what. */
static int conf_failed(struct cli_ctx *ctx, int rc, const char *err)
{
	cli_error(ctx, "%s", err);
	return rc == STORE_E_CONF ? CLI_EXIT_INPUT : CLI_EXIT_ERROR;
}

int cli_conf_load(struct cli_ctx *ctx, struct store_conf *out)
{
	char path[4200], err[512];
	int rc;

	if ((rc = conf_path(ctx, path)) != CLI_EXIT_OK)
		return rc;
	if ((rc = store_conf_load(out, path, err, sizeof(err))))
		return conf_failed(ctx, rc, err);
	return CLI_EXIT_OK;
}

int cli_conf_edit(struct cli_ctx *ctx, struct store_conf_edit **out)
{
	char path[4200], err[512];
	int rc;

	if ((rc = conf_path(ctx, path)) != CLI_EXIT_OK)
		return rc;
	if ((rc = store_conf_edit_open(out, path, err, sizeof(err))))
		return conf_failed(ctx, rc, err);
	return CLI_EXIT_OK;
}

int cli_conf_save(struct cli_ctx *ctx, struct store_conf_edit *e, unsigned flags)
{
	char err[512];
	int rc = store_conf_edit_save(e, flags, err, sizeof(err));

	if (rc == -EEXIST && (flags & STORE_WRITE_NEW))
		return rc;
	if (rc) {
		cli_error(ctx, "%s", err);
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}

int cli_conf_profile(struct cli_ctx *ctx, Agora__Profile **out)
{
	Agora__Profile *p = (Agora__Profile *)fields_new_message(&agora__profile__descriptor);
	struct store_conf c;
	struct fields f;
	int ret;

	if (!p) {
		cli_error(ctx, "out of memory");
		return CLI_EXIT_ERROR;
	}
	if ((ret = cli_conf_load(ctx, &c)) != CLI_EXIT_OK)
		goto out;
	ret = c.n_profile ? CLI_EXIT_OK : CLI_EXIT_NOTFOUND;
	fields_init(&f, &p->base, NULL, false);
	for (size_t i = 0; i < c.n_profile && ret == CLI_EXIT_OK; i++) {
		if (fields_set(&f, c.profile[i].name, c.profile[i].value) < 0) {
			cli_error(ctx, "%s/%s:%d: [profile] %s", ctx->home,
			          store_home_name(STORE_HOME_CONF), c.profile[i].line,
			          f.err + (f.err[0] == '-' ? 2 : 0));
			ret = CLI_EXIT_INPUT;
		}
	}
	store_conf_dispose(&c);
out:
	if (ret != CLI_EXIT_OK) {
		agora__profile__free_unpacked(p, NULL);
		return ret;
	}
	*out = p;
	return CLI_EXIT_OK;
}

int cli_conf_write(struct cli_ctx *ctx, const uint8_t pk[PROTO_KEY_BYTES],
                   const Agora__Profile *profile, bool *kept)
{
	char path[4200], hex[PROTO_KEY_BYTES * 2 + 1];
	struct store_conf_edit *e = NULL;
	struct store_conf_value *v = NULL;
	struct stat st;
	size_t n = 0;
	int ret, rc;

	if (conf_path(ctx, path) != CLI_EXIT_OK)
		return CLI_EXIT_ERROR;
	if (lstat(path, &st) == 0) {
		*kept = true;
		return CLI_EXIT_OK;
	}
	if ((rc = fields_ini_values(&v, &n, &profile->base)) < 0) {
		cli_error(ctx, rc == -ENOMEM ? "out of memory"
		          : "profile values must not hold line breaks (or commas in lists)");
		return rc == -ENOMEM ? CLI_EXIT_ERROR : CLI_EXIT_INPUT;
	}
	if ((ret = cli_conf_edit(ctx, &e)) != CLI_EXIT_OK)
		goto out;
	proto_hex(hex, pk, PROTO_KEY_BYTES);
	if ((rc = store_conf_edit_node_set(e, "name", profile->name ? profile->name : "")) ||
	    (rc = store_conf_edit_node_set(e, "country", profile->country ? profile->country : "")) ||
	    (rc = store_conf_edit_node_set(e, "key", hex)) ||
	    (rc = store_conf_edit_profile_set(e, v, n))) {
		if (rc == -ENOMEM)
			cli_error(ctx, "out of memory");
		else
			cli_error(ctx, "profile values must fit on one line of agora.conf (at most "
			          "%d bytes, no line breaks, no ' ;', no spaces at either end)",
			          STORE_CONF_LINE_MAX);
		ret = rc == -ENOMEM ? CLI_EXIT_ERROR : CLI_EXIT_INPUT;
		goto out;
	}
	/* Created, never replaced: a file that appeared meanwhile is kept. */
	if ((rc = cli_conf_save(ctx, e, STORE_WRITE_NEW)) == -EEXIST) {
		*kept = true;
		ret = CLI_EXIT_OK;
		goto out;
	}
	if ((ret = rc) == CLI_EXIT_OK)
		*kept = false;
out:
	store_conf_edit_free(e);
	fields_ini_values_free(v, n);
	return ret;
}

int cli_public_key(struct cli_ctx *ctx, const char *passphrase_file,
                   uint8_t pk_out[PROTO_KEY_BYTES])
{
	struct proto_key *key;
	char *text = NULL, msg[512];
	size_t len = 0;
	bool encrypted;
	int ret, rc;

	if ((rc = store_key_read(&text, &len, ctx->home, msg, sizeof(msg)))) {
		cli_error(ctx, "%s", msg);
		return key_exit(rc);
	}
	encrypted = proto_key_is_encrypted(text, len);
	sodium_free(text);
	if (encrypted && !passphrase_file && !getenv("AGORA_PASSPHRASE")) {
		struct store_conf c;
		char path[4200];
		bool have = false;
		if (store_home_path(path, sizeof(path), ctx->home, STORE_HOME_CONF, NULL) == 0 &&
		    store_conf_load(&c, path, msg, sizeof(msg)) == 0) {
			if ((have = c.has_key))
				memcpy(pk_out, c.key, PROTO_KEY_BYTES);
			store_conf_dispose(&c);
		}
		if (have)
			return CLI_EXIT_OK;
	}
	if ((ret = cli_key(ctx, passphrase_file, &key)) != CLI_EXIT_OK)
		return ret;
	memcpy(pk_out, key->pk, PROTO_KEY_BYTES);
	return CLI_EXIT_OK;
}
