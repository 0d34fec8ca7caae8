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
#include <unistd.h>
#include <ini.h>
#include <sodium.h>

#include "cli/cli.h"
#include "cli/fields.h"
#include "cli/home.h"

#define KEY_FILE_MAX 4096       /* far above any valid identity.key */

int cli_store(struct cli_ctx *ctx, bool create, struct store **out)
{
	char path[4200];
	struct stat st;
	int rc;

	if (ctx->store) {
		*out = ctx->store;
		return CLI_EXIT_OK;
	}
	snprintf(path, sizeof(path), "%s/db", ctx->home);
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
	*out = ctx->store;
	return CLI_EXIT_OK;
}

int cli_read_passphrase(struct cli_ctx *ctx, const char *path, char **out)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;
	int c;

	if (!f) {
		cli_error(ctx, "cannot read passphrase file %s: %s", path, strerror(errno));
		return CLI_EXIT_IDENTITY;
	}
	buf = sodium_malloc(1024);
	if (!buf) {
		fclose(f);
		cli_error(ctx, "out of memory");
		return CLI_EXIT_ERROR;
	}
	for (n = 0; n < 1023 && (c = fgetc(f)) != EOF && c != '\n'; n++)
		buf[n] = (char)c;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\r')
		buf[--n] = '\0';
	fclose(f);
	if (!n) {
		sodium_free(buf);
		cli_error(ctx, "passphrase file %s is empty: write the passphrase on its first line", path);
		return CLI_EXIT_IDENTITY;
	}
	*out = buf;
	return CLI_EXIT_OK;
}

/* Read identity.key into a sodium_malloc()ed buffer; checks its mode. */
static int read_key_file(struct cli_ctx *ctx, char **text_out, size_t *len_out)
{
	char path[4200];
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd, ret = CLI_EXIT_ERROR;

	snprintf(path, sizeof(path), "%s/identity.key", ctx->home);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			cli_error(ctx, "no identity in %s: run `agora init --name NAME --country CC` first",
			          ctx->home);
		else
			cli_error(ctx, "cannot read %s: %s", path, strerror(errno));
		return errno == ENOENT || errno == EACCES ? CLI_EXIT_IDENTITY : CLI_EXIT_ERROR;
	}
	if (fstat(fd, &st) < 0) {
		cli_error(ctx, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	/* Like ssh: a secret key others may read or change is not a secret. */
	if (st.st_mode & 077) {
		cli_error(ctx, "identity.key is readable by others (mode %04o): run chmod 600 %s",
		          (unsigned)(st.st_mode & 07777), path);
		ret = CLI_EXIT_IDENTITY;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > KEY_FILE_MAX) {
		cli_error(ctx, "%s is not an agora key file", path);
		ret = CLI_EXIT_IDENTITY;
		goto out;
	}
	text = sodium_malloc(KEY_FILE_MAX + 1);
	if (!text) {
		cli_error(ctx, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, text + len, KEY_FILE_MAX - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			cli_error(ctx, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0 || (len += (size_t)r) == KEY_FILE_MAX)
			break;
	}
	text[len] = '\0';
	*text_out = text;
	*len_out = len;
	text = NULL;
	ret = CLI_EXIT_OK;
out:
	if (text)
		sodium_free(text);
	close(fd);
	return ret;
}

/* Passphrase from --passphrase-file, else $AGORA_PASSPHRASE; NULL if none. */
static int get_passphrase(struct cli_ctx *ctx, const char *file, char **out)
{
	const char *env;

	*out = NULL;
	if (file)
		return cli_read_passphrase(ctx, file, out);
	if ((env = getenv("AGORA_PASSPHRASE")) && *env) {
		size_t n = strlen(env);
		if (!(*out = sodium_malloc(n + 1))) {
			cli_error(ctx, "out of memory");
			return CLI_EXIT_ERROR;
		}
		memcpy(*out, env, n + 1);
	}
	return CLI_EXIT_OK;
}

int cli_key(struct cli_ctx *ctx, const char *passphrase_file, struct proto_key **out)
{
	char *text = NULL, *pass = NULL;
	size_t len = 0;
	int rc, ret;

	if (ctx->key) {
		*out = ctx->key;
		return CLI_EXIT_OK;
	}
	if ((ret = read_key_file(ctx, &text, &len)) != CLI_EXIT_OK)
		return ret;
	if (proto_key_is_encrypted(text, len)) {
		if ((ret = get_passphrase(ctx, passphrase_file, &pass)) != CLI_EXIT_OK)
			goto out;
		if (!pass) {
			cli_error(ctx, "identity.key is encrypted: set AGORA_PASSPHRASE or give --passphrase-file FILE");
			ret = CLI_EXIT_IDENTITY;
			goto out;
		}
	}
	rc = proto_key_decode(&ctx->key, text, len, pass);
	if (rc == PROTO_E_KEY && pass) {
		cli_error(ctx, "wrong passphrase for %s/identity.key", ctx->home);
		ret = CLI_EXIT_IDENTITY;
	} else if (rc < 0) {
		cli_error(ctx, "%s/identity.key is not a valid agora key file (%s)", ctx->home,
		          proto_strerror(rc));
		ret = CLI_EXIT_IDENTITY;
	} else {
		*out = ctx->key;
		ret = CLI_EXIT_OK;
	}
out:
	if (pass)
		sodium_free(pass);
	sodium_free(text);
	return ret;
}

/* ----------------------------------------------------------- agora.conf */

struct conf_read {
	struct fields f;
	bool any;                   /* saw a [profile] entry */
	bool have_key;
	uint8_t key[PROTO_KEY_BYTES];
	int error_line;
	char err[256];
};

static int conf_entry(void *user, const char *section, const char *name, const char *value)
{
	struct conf_read *c = user;

	if (!strcmp(section, "node") && !strcmp(name, "key") && c) {
		if (strlen(value) == PROTO_KEY_BYTES * 2 &&
		    proto_unhex(c->key, PROTO_KEY_BYTES, value) == 0)
			c->have_key = true;
		return 1;
	}
	if (strcmp(section, "profile") != 0 || !c->f.msg)
		return 1;
	c->any = true;
	if (fields_set(&c->f, name, value) < 0 && !c->err[0]) {
		snprintf(c->err, sizeof(c->err), "%s", c->f.err);
		return 0;
	}
	return 1;
}

static int conf_read(struct cli_ctx *ctx, struct conf_read *c, ProtobufCMessage *profile)
{
	char path[4200];
	int rc;

	memset(c, 0, sizeof(*c));
	if (profile)
		fields_init(&c->f, profile, NULL, false);
	snprintf(path, sizeof(path), "%s/agora.conf", ctx->home);
	rc = ini_parse(path, conf_entry, c);
	if (rc == -1)
		return CLI_EXIT_NOTFOUND;
	if (rc != 0) {
		if (c->err[0])
			cli_error(ctx, "%s:%d: [profile] %s", path, rc, c->err + (c->err[0] == '-' ? 2 : 0));
		else
			cli_error(ctx, "%s:%d: not a valid INI line", path, rc);
		return CLI_EXIT_INPUT;
	}
	return CLI_EXIT_OK;
}

int cli_conf_profile(struct cli_ctx *ctx, Agora__Profile **out)
{
	Agora__Profile *p = (Agora__Profile *)fields_new_message(&agora__profile__descriptor);
	struct conf_read c;
	int ret;

	if (!p) {
		cli_error(ctx, "out of memory");
		return CLI_EXIT_ERROR;
	}
	ret = conf_read(ctx, &c, &p->base);
	if (ret == CLI_EXIT_OK && !c.any)
		ret = CLI_EXIT_NOTFOUND;
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
	char path[4200], tmp[4220], hex[PROTO_KEY_BYTES * 2 + 1];
	FILE *f = NULL;
	int fd, ret = CLI_EXIT_ERROR;

	snprintf(path, sizeof(path), "%s/agora.conf", ctx->home);
	snprintf(tmp, sizeof(tmp), "%s/agora.conf.tmp", ctx->home);
	if (access(path, F_OK) == 0) {
		*kept = true;
		return CLI_EXIT_OK;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		cli_error(ctx, "cannot write %s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return CLI_EXIT_ERROR;
	}
	proto_hex(hex, pk, PROTO_KEY_BYTES);
	fprintf(f, "# agora.conf - settings of this agora node (INI; see agora(1)).\n"
	        "# Network settings (listen address, peers) come with agorad.\n\n"
	        "[node]\nname = %s\ncountry = %s\n"
	        "# public key of identity.key (for display without the passphrase)\n"
	        "key = %s\n\n"
	        "# This municipality's profile, published into every alliance this\n"
	        "# node creates or joins.  Keys are the flags of `agora publish profile`.\n"
	        "[profile]\n",
	        profile->name ? profile->name : "", profile->country ? profile->country : "", hex);
	if (fields_write_ini(f, &profile->base) < 0) {
		cli_error(ctx, "profile values must not hold line breaks (or commas in lists)");
		ret = CLI_EXIT_INPUT;
		goto out;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		cli_error(ctx, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		cli_error(ctx, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) < 0) {
		cli_error(ctx, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	*kept = false;
	ret = CLI_EXIT_OK;
out:
	if (f)
		fclose(f);
	if (ret != CLI_EXIT_OK)
		unlink(tmp);
	return ret;
}

int cli_public_key(struct cli_ctx *ctx, const char *passphrase_file,
                   uint8_t pk_out[PROTO_KEY_BYTES])
{
	struct proto_key *key;
	char *text = NULL;
	size_t len = 0;
	bool encrypted;
	int ret;

	if ((ret = read_key_file(ctx, &text, &len)) != CLI_EXIT_OK)
		return ret;
	encrypted = proto_key_is_encrypted(text, len);
	sodium_free(text);
	if (encrypted && !passphrase_file && !getenv("AGORA_PASSPHRASE")) {
		struct conf_read c;
		if (conf_read(ctx, &c, NULL) == CLI_EXIT_OK && c.have_key) {
			memcpy(pk_out, c.key, PROTO_KEY_BYTES);
			return CLI_EXIT_OK;
		}
	}
	if ((ret = cli_key(ctx, passphrase_file, &key)) != CLI_EXIT_OK)
		return ret;
	memcpy(pk_out, key->pk, PROTO_KEY_BYTES);
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------ records */

int cli_publish_error(struct cli_ctx *ctx, int rc, const struct proto_error *err)
{
	if ((rc == PROTO_E_FIELD || rc == PROTO_E_KIND) && err && err->field[0]) {
		char flag[80];
		const char *msg = err->msg;
		size_t fl = strlen(err->field);
		/* proto puts the path in front of the message; we name the flag instead. */
		if (!strncmp(msg, err->field, fl) && msg[fl] == ':')
			msg += fl + 1 + (msg[fl + 1] == ' ');
		fields_flag_name(flag, sizeof(flag), err->field);
		cli_error(ctx, "%s: %s", flag, msg);
		return CLI_EXIT_INPUT;
	}
	switch (rc) {
	case PROTO_E_FIELD:
	case PROTO_E_KIND:
		cli_error(ctx, "%s", err && err->msg[0] ? err->msg : proto_strerror(rc));
		return CLI_EXIT_INPUT;
	case PROTO_E_TOO_BIG:
		cli_error(ctx, "the record is too large (at most %d bytes signed): shorten its texts",
		          PROTO_ENVELOPE_MAX);
		return CLI_EXIT_INPUT;
	case PROTO_E_FUTURE:
		cli_error(ctx, "this computer's clock is ahead: fix the system time and publish again");
		return CLI_EXIT_ERROR;
	case STORE_E_TARGET:
		cli_error(ctx, "the record it refers to is unknown here or not one of yours: check the id");
		return CLI_EXIT_INPUT;
	case STORE_E_ALLIANCE:
		cli_error(ctx, "this node does not hold that alliance: see `agora alliance list`");
		return CLI_EXIT_NOTFOUND;
	case STORE_E_FORK:
		cli_error(ctx, "refusing to publish: peers hold newer records of this key than this store "
		          "(restored from a backup?); let agorad sync first");
		return CLI_EXIT_ERROR;
	case STORE_E_READONLY:
		cli_error(ctx, "the store is read-only: check the permissions of %s/db", ctx->home);
		return CLI_EXIT_ERROR;
	default:
		cli_error(ctx, "cannot store the record: %s", store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
}

int cli_profile_publish(struct cli_ctx *ctx, struct proto_key *key,
                        const uint8_t alliance[PROTO_ID_BYTES])
{
	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Profile *p = NULL;
	struct proto_error err = { 0 };
	struct store *s;
	int ret, rc;

	ret = cli_conf_profile(ctx, &p);
	if (ret == CLI_EXIT_NOTFOUND)
		return CLI_EXIT_OK;
	if (ret != CLI_EXIT_OK)
		return ret;
	if ((ret = cli_store(ctx, false, &s)) != CLI_EXIT_OK)
		goto out;
	rec.body_case = AGORA__RECORD__BODY_PROFILE;
	rec.profile = p;
	rc = store_publish(s, key, alliance, &rec, cli_now_ms(), NULL, NULL, NULL, &err);
	if (rc < 0) {
		ret = cli_publish_error(ctx, rc, &err);
		goto out;
	}
	ret = CLI_EXIT_OK;
out:
	agora__profile__free_unpacked(p, NULL);
	return ret;
}

/* ------------------------------------------------------------ alliances */

struct alliance_match {
	const char *want;           /* what the user typed */
	bool hex;                   /* want could be an id prefix */
	size_t n_name, n_id;
	uint8_t by_name[PROTO_ID_BYTES], by_id[PROTO_ID_BYTES];
};

static int alliance_cb(const struct store_record *r, void *user)
{
	struct alliance_match *m = user;
	char hex[PROTO_ID_HEX + 1];
	Agora__Record *rec = NULL;

	if (proto_envelope_decode(&rec, r->env, r->env_len, NULL) == 0) {
		if (rec->body_case == AGORA__RECORD__BODY_CHARTER && rec->charter->name &&
		    !strcasecmp(rec->charter->name, m->want)) {
			memcpy(m->by_name, r->id, PROTO_ID_BYTES);
			m->n_name++;
		}
		agora__record__free_unpacked(rec, NULL);
	}
	if (m->hex) {
		proto_hex(hex, r->id, PROTO_ID_BYTES);
		if (!strncasecmp(hex, m->want, strlen(m->want))) {
			memcpy(m->by_id, r->id, PROTO_ID_BYTES);
			m->n_id++;
		}
	}
	return 0;
}

int cli_alliance(struct cli_ctx *ctx, struct store_txn *t, const char *name_or_id,
                 uint8_t id_out[PROTO_ID_BYTES])
{
	struct alliance_match m = { .want = name_or_id };
	int rc;

	if (!name_or_id) {
		if (store_default_alliance_get(t, id_out) < 0) {
			cli_error(ctx, "you are in no alliance yet: run `agora alliance create --name NAME` "
			          "(or join one)");
			return CLI_EXIT_NOTFOUND;
		}
		return CLI_EXIT_OK;
	}
	size_t len = strlen(name_or_id);
	m.hex = len >= 4 && len <= PROTO_ID_HEX;
	for (size_t k = 0; k < len && m.hex; k++)
		m.hex = isxdigit((unsigned char)name_or_id[k]) != 0;
	rc = store_alliances(t, alliance_cb, &m);
	if (rc < 0) {
		cli_error(ctx, "cannot list alliances: %s", store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	if (m.n_name == 1 || (m.n_name == 0 && m.n_id == 1)) {
		memcpy(id_out, m.n_name ? m.by_name : m.by_id, PROTO_ID_BYTES);
		return CLI_EXIT_OK;
	}
	if (m.n_name > 1 || m.n_id > 1) {
		cli_error(ctx, "several alliances match '%s': give (more of) the id from `agora alliance list`",
		          name_or_id);
		return CLI_EXIT_USAGE;
	}
	cli_error(ctx, "no alliance '%s' here: see `agora alliance list`", name_or_id);
	return CLI_EXIT_NOTFOUND;
}
