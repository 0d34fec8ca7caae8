/*
 * cmd_attachment.c - `agora attachment get ID[:N] [--out FILE]`: write an
 * attached file out of this node's blob store, checked against its hash on
 * the way out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/attach_int.h"
#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/fields_int.h"
#include "cli/home_int.h"
#include "cli/opt_int.h"

struct get_opts {
	const char *out;            /* --out FILE; "-": standard output */
};

static const struct cli_opt get_opts[] = {
	CLI_STR("--out", "FILE", "where to write it (- for standard output; default:\n"
	        "the attachment's own name, in the current directory,\n"
	        "never over an existing file)", struct get_opts, out),
	CLI_OPT_END,
};

static const struct cli_command get_cmd = {
	.name = "attachment get",
	.usage = "attachment get ID[:N] [--out FILE]",
	.about = "Write an attached file out.  ID is the record's id (or a unique prefix)\n"
	         "and N the attachment's number as `agora show` lists it (default 0); or ID\n"
	         "is the file's BLAKE2b-256 in 64 hex digits (then --out, or standard\n"
	         "output).  The bytes are checked against the hash the record gives.  A\n"
	         "file agorad has not fetched yet is \"not fetched yet\" (exit status 4),\n"
	         "with why when it is over [attachments] max-file or quota.\n",
	.groups = { { "options", get_opts, 0 } },
	.min_args = 1,
	.max_args = 1,
};

/* Write all of buf to fd. */
static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* What a record says of the file: its size and the alliance of the record
 * (NULL when only a hash was given). */
struct listed {
	uint64_t size;
	const uint8_t *alliance;
};

/* Hashes seen while adding up an alliance's blobs (a blob listed twice
 * counts once), and the bytes of those held. */
struct usage {
	struct cli_ctx *ctx;
	struct store_txn *t;
	const uint8_t *alliance;
	uint8_t (*seen)[PROTO_HASH_BYTES];
	size_t n, cap;
	uint64_t bytes;
};

static int usage_feed(const uint8_t author[PROTO_KEY_BYTES], uint64_t head,
                      const uint8_t id[PROTO_ID_BYTES], void *arg)
{
	struct usage *u = arg;
	(void)id;
	for (uint64_t seq = 1; seq <= head; seq++) {
		Agora__Record *rec = NULL;
		Agora__Attachment *const *list = NULL;
		const uint8_t *env;
		size_t len;
		int n;
		if (store_feed_env(u->t, u->alliance, author, seq, &env, &len) ||
		    proto_envelope_decode(&rec, env, len, NULL) < 0)
			continue;
		n = proto_record_attachments(&list, rec);
		for (int i = 0; i < n; i++) {
			bool dup = false;
			for (size_t k = 0; k < u->n && !dup; k++)
				dup = !memcmp(u->seen[k], list[i]->hash.data, PROTO_HASH_BYTES);
			if (dup)
				continue;
			if (u->n == u->cap) {
				size_t cap = u->cap ? 2 * u->cap : 16;
				uint8_t (*ns)[PROTO_HASH_BYTES] = realloc(u->seen, cap * sizeof(*ns));
				if (!ns) {
					agora__record__free_unpacked(rec, NULL);
					return -ENOMEM;
				}
				u->seen = ns;
				u->cap = cap;
			}
			memcpy(u->seen[u->n++], list[i]->hash.data, PROTO_HASH_BYTES);
			if (store_blob_stat(NULL, u->ctx->home, list[i]->hash.data) == 0)
				u->bytes += list[i]->size;
		}
		agora__record__free_unpacked(rec, NULL);
	}
	return 0;
}

/* Bytes of the blobs held here that the alliance's records list, as
 * agorad counts them against [attachments] quota.  0 or a negative code. */
static int alliance_usage(struct cli_ctx *ctx, const uint8_t alliance[PROTO_ID_BYTES],
                          uint64_t *bytes)
{
	struct usage u = { .ctx = ctx, .alliance = alliance };
	struct store *s;
	int rc;
	if ((rc = cli_snapshot(ctx, &s, &u.t)) != CLI_EXIT_OK)
		return -EIO;
	rc = store_heads(u.t, alliance, usage_feed, &u);
	store_txn_end(u.t);
	free(u.seen);
	if (rc == 0)
		*bytes = u.bytes;
	return rc;
}

/* The file is not here: say why, and what to do. */
static int not_fetched(struct cli_ctx *ctx, const char *name, const struct listed *l)
{
	struct store_conf conf;
	uint64_t max, quota, used;
	char size[32], lim[32], has[32];

	if (!l || cli_conf_load(ctx, &conf) != CLI_EXIT_OK) {
		cli_error(ctx, "%s is not fetched yet: agorad fetches it from a partner that has it "
		          "(see `agora peers`)", name);
		return CLI_EXIT_NOTFOUND;
	}
	max = conf.attach_max_file ? conf.attach_max_file : STORE_ATTACH_MAX_FILE_DEFAULT;
	quota = conf.attach_quota ? conf.attach_quota : STORE_ATTACH_QUOTA_DEFAULT;
	store_conf_dispose(&conf);
	cli_attach_size(size, sizeof(size), l->size);
	if (l->size > max) {
		cli_attach_size(lim, sizeof(lim), max);
		cli_error(ctx, "%s (%s) is not fetched: it is larger than this node takes, "
		          "[attachments] max-file = %s in agora.conf; raise that and reload agorad "
		          "(SIGHUP, or restart it) to fetch it", name, size, lim);
		return CLI_EXIT_NOTFOUND;
	}
	if (alliance_usage(ctx, l->alliance, &used) == 0 && used + l->size > quota) {
		cli_attach_size(lim, sizeof(lim), quota);
		cli_attach_size(has, sizeof(has), used);
		cli_error(ctx, "%s (%s) is not fetched: this alliance's files here take %s, and with "
		          "it would pass [attachments] quota = %s in agora.conf; raise the quota and "
		          "reload agorad (SIGHUP, or restart it) to fetch it", name, size, has, lim);
		return CLI_EXIT_NOTFOUND;
	}
	cli_error(ctx, "%s (%s) is not fetched yet: agorad fetches it from a partner that has it "
	          "while it runs and is connected (see `agora peers`); try again later", name, size);
	return CLI_EXIT_NOTFOUND;
}

/*
 * Copy the blob to `out` (NULL: stdout), hashing it: a stored copy that no
 * longer hashes to its name (a damaged disk) is reported, and a file written
 * from it removed.  l: what the record says of it (NULL: only the hash is
 * known), for saying why a file is not here.
 */
static int copy_out(struct cli_ctx *ctx, const uint8_t hash[PROTO_HASH_BYTES], const char *name,
                    const char *out, const struct listed *l)
{
	crypto_generichash_state st;
	uint8_t buf[65536], got[PROTO_HASH_BYTES];
	uint64_t size, off = 0;
	int in = -1, fd = 1, rc, ret = CLI_EXIT_ERROR;

	rc = store_blob_open(&in, &size, ctx->home, hash);
	if (rc == STORE_E_NOTFOUND)
		return not_fetched(ctx, name, l);
	if (rc < 0) {
		cli_error(ctx, "cannot read %s: %s", name, store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	if (out && (fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		cli_error(ctx, "cannot write %s: %s%s", out, strerror(errno),
		          errno == EEXIST ? " (give another name with --out)" : "");
		close(in);
		return CLI_EXIT_ERROR;
	}
	crypto_generichash_init(&st, NULL, 0, PROTO_HASH_BYTES);
	while (off < size) {
		ssize_t r = pread(in, buf, sizeof(buf), (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			cli_error(ctx, "cannot read %s: %s", name, r < 0 ? strerror(errno) : "cut short");
			goto out;
		}
		crypto_generichash_update(&st, buf, (size_t)r);
		if ((rc = write_all(fd, buf, (size_t)r)) < 0) {
			cli_error(ctx, "cannot write %s: %s", out ? out : "the output", strerror(-rc));
			goto out;
		}
		off += (uint64_t)r;
	}
	crypto_generichash_final(&st, got, PROTO_HASH_BYTES);
	if (sodium_memcmp(got, hash, PROTO_HASH_BYTES) != 0) {
		cli_error(ctx, "the stored copy of %s is damaged (its bytes no longer match its hash): "
		          "delete it from blobs/ and agorad fetches it again", name);
		goto out;
	}
	if (out && fsync(fd) < 0) {
		cli_error(ctx, "cannot write %s: %s", out, strerror(errno));
		goto out;
	}
	ret = CLI_EXIT_OK;
out:
	close(in);
	if (out) {
		close(fd);
		if (ret != CLI_EXIT_OK)
			unlink(out);
	}
	return ret;
}

static int cmd_get(struct cli_ctx *ctx, int argc, char **argv)
{
	struct get_opts o = { 0 };
	struct store_txn *t = NULL;
	struct store_record sr;
	struct store *s;
	Agora__Record *rec = NULL;
	Agora__Attachment *const *list = NULL;
	uint8_t id[PROTO_ID_BYTES], hash[PROTO_HASH_BYTES];
	char arg[200], msg[200], *colon, *end;
	const char *idarg = NULL, *out;
	unsigned long index = 0;
	size_t n_args;
	int ret, n;

	if ((ret = cli_opt_parse(ctx, &get_cmd, argc, argv, 2, &o, &idarg, &n_args)))
		return cli_opt_status(ret);
	snprintf(arg, sizeof(arg), "%s", idarg);
	if ((colon = strchr(arg, ':'))) {
		*colon = '\0';
		errno = 0;
		index = strtoul(colon + 1, &end, 10);
		if (errno || end == colon + 1 || *end || index >= PROTO_ATTACH_MAX) {
			cli_error(ctx, "attachment get: '%s' is not an attachment number (0, 1, ...)",
			          colon + 1);
			return CLI_EXIT_USAGE;
		}
	}
	out = o.out && strcmp(o.out, "-") ? o.out : NULL;
	if ((ret = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK)
		return ret;
	if (fields_parse_id(id, arg, t, msg, sizeof(msg)) < 0 || store_get(t, id, &sr) < 0) {
		store_txn_end(t);
		/* Not a record: a blob's own hash. */
		if (!colon && strlen(arg) == PROTO_HASH_BYTES * 2 &&
		    proto_unhex(hash, PROTO_HASH_BYTES, arg) == 0)
			return copy_out(ctx, hash, arg, out, NULL);
		cli_error(ctx, "attachment get: no record or file %s here", arg);
		return CLI_EXIT_NOTFOUND;
	}
	ret = CLI_EXIT_ERROR;
	if (proto_envelope_decode(&rec, sr.env, sr.env_len, NULL) < 0) {
		cli_error(ctx, "record %s is damaged in the store", arg);
		goto out;
	}
	n = proto_record_attachments(&list, rec);
	if (n == PROTO_E_FIELD) {
		cli_error(ctx, "record %s lists its attachments in a form this version cannot read", arg);
		ret = CLI_EXIT_INPUT;
		goto out;
	}
	if (n <= 0 || index >= (unsigned long)n) {
		cli_error(ctx, n <= 0 ? "record %s has no attachment" :
		          "record %s has no attachment %lu (see `agora show`)", arg, index);
		ret = CLI_EXIT_NOTFOUND;
		goto out;
	}
	memcpy(hash, list[index]->hash.data, PROTO_HASH_BYTES);
	struct listed listed = { .size = list[index]->size };
	uint8_t alliance[PROTO_ID_BYTES];
	if (rec->has_alliance && rec->alliance.len == PROTO_ID_BYTES) {
		memcpy(alliance, rec->alliance.data, PROTO_ID_BYTES);
		listed.alliance = alliance;
	}
	if (!o.out)
		out = list[index]->name;
	{
		char name[PROTO_ATTACH_NAME_MAX + 1];
		snprintf(name, sizeof(name), "%s", list[index]->name);
		char path[PROTO_ATTACH_NAME_MAX + 1];
		if (out)
			snprintf(path, sizeof(path), "%s", out);
		store_txn_end(t);
		t = NULL;
		ret = copy_out(ctx, hash, name, out ? path : NULL, listed.alliance ? &listed : NULL);
		if (ret == CLI_EXIT_OK && out && !o.out)
			fprintf(stderr, "wrote %s\n", path);
	}
out:
	if (rec)
		agora__record__free_unpacked(rec, NULL);
	store_txn_end(t);
	return ret;
}

static const struct cli_sub attachment_subs[] = {
	{ "get", cmd_get, &get_cmd },
	{ NULL, NULL, NULL },
};

static const struct cli_group attachment_group = {
	.name = "attachment",
	.about =
	"Files attached to measures, results and lessons (`agora publish KIND\n"
	"--attach FILE`).  Each record lists its files by hash, size, type and\n"
	"name; the files travel between nodes apart from the records, fetched by\n"
	"agorad on demand, so a record may be here before its file: `agora show`\n"
	"says \"not fetched yet\".\n",
	.subs = attachment_subs,
};

int cli_cmd_attachment(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_group_run(ctx, &attachment_group, argc, argv);
}
