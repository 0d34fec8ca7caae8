/*
 * cmd_watch.c - `agora watch [filters] [--jsonl]`: follow the records this
 * node stores from now on (published here, or arriving from peers through
 * agorad, or imported) and print each one that matches the filters.
 *
 * How it learns of them without a node to ask: every write that moves a
 * feed head gets the next write number (store_write_number), and the store
 * logs which feeds it moved (store_changes).  A read snapshot never waits
 * for a writer, so checking the number costs one LMDB read transaction.
 * It is checked when inotify says the store file was written (LMDB writes
 * its pages with pwrite), and at least every second in case a write went
 * by unseen.  The new records are then the seqs between each moved feed's
 * old and new head; the filters are applied by store_query itself,
 * restricted to the authors of those feeds, so a record matches here
 * exactly when `agora query` with the same filters would list it.
 *
 * SIGINT, SIGTERM and SIGPIPE are taken through a signalfd, so Ctrl-C or a
 * reader that goes away (`agora watch | head -1`) ends the loop cleanly
 * with status 0.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/filter_int.h"
#include "cli/format_int.h"
#include "cli/home_int.h"
#include "cli/json_int.h"
#include "cli/names_int.h"
#include "cli/opt_int.h"

#define WATCH_POLL_MS 1000          /* recheck this often even without inotify */

struct watch_opts {
	struct cli_filter filter;
	bool jsonl;
};

static const struct cli_opt watch_opts[] = {
	CLI_FLAG("--jsonl", "one JSON record per line (as `agora query --jsonl`)",
	         struct watch_opts, jsonl),
	CLI_OPT_END,
};

static const struct cli_command watch_cmd = {
	.name = "watch",
	.usage = "watch [filters] [--jsonl]",
	.about = "Wait for new records and print each one that matches the filters as it\n"
	         "is stored: published on this node, or received from a partner by agorad.\n"
	         "One line each: id, kind, municipality, title (or JSON with --jsonl).\n"
	         "Runs until Ctrl-C, or until --limit N records were printed.\n",
	.groups = { { "output", watch_opts, 0 },
	            { "filters (all given filters must match; as for `agora query`)",
	              cli_filter_opts, offsetof(struct watch_opts, filter) } },
	.more = "agorad can run a command for each new matching record: see [hook] in\n"
	        "agora.conf (contrib/agora.conf.example).\n",
};

/* One new record: its feed position. */
struct fresh {
	uint8_t alliance[PROTO_ID_BYTES];
	uint8_t author[PROTO_KEY_BYTES];
	uint64_t seq;
	uint8_t id[PROTO_ID_BYTES];
};

struct round {
	struct cli_ctx *ctx;
	struct store_txn *t;
	struct fresh *v;            /* the records new in this round */
	size_t n, cap;
	struct cli_names *names;
	bool jsonl;
	size_t printed, limit;      /* limit 0: none */
	int err;
};

static int change_cb(const struct store_change *c, void *arg)
{
	struct round *r = arg;

	for (uint64_t seq = c->from_seq + 1; seq <= c->seq; seq++) {
		struct store_record sr;
		int rc = store_feed_get(r->t, c->alliance, c->author, seq, &sr);
		if (rc == STORE_E_NOTFOUND)
			continue;
		if (rc < 0)
			return rc;
		if (r->n == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 64;
			struct fresh *v = realloc(r->v, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			r->v = v;
			r->cap = cap;
		}
		struct fresh *f = &r->v[r->n++];
		memcpy(f->alliance, c->alliance, PROTO_ID_BYTES);
		memcpy(f->author, c->author, PROTO_KEY_BYTES);
		f->seq = seq;
		memcpy(f->id, sr.id, PROTO_ID_BYTES);
	}
	return 0;
}

static bool is_fresh(const struct round *r, const uint8_t id[PROTO_ID_BYTES])
{
	for (size_t i = 0; i < r->n; i++)
		if (!memcmp(r->v[i].id, id, PROTO_ID_BYTES))
			return true;
	return false;
}

static int print_record(struct round *r, const struct store_record *sr, const Agora__Record *rec)
{
	const char *muni = rec->author.len == PROTO_KEY_BYTES ?
		cli_names_name(r->names, rec->author.data) : NULL;

	if (r->jsonl) {
		json_t *obj = json_from_record(rec, sr->id, muni);
		char *s = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER |
		                           JSON_RECORD_DUMP) : NULL;
		json_decref(obj);
		if (!s)
			return -ENOMEM;
		puts(s);
		free(s);
	} else {
		const ProtobufCMessage *msg = NULL;
		enum proto_kind kind = proto_record_content(rec, &msg);
		char hex[PROTO_ID_HEX + 1], kbuf[CLI_KIND_BUF];
		char *title = cli_format_title(kind, msg);
		if (!title)
			return -ENOMEM;
		proto_hex(hex, sr->id, PROTO_ID_BYTES);
		printf("%.12s  %-11s  %-24s  %s\n", hex, cli_format_kind(kbuf, kind),
		       muni ? muni : "", title);
		free(title);
	}
	return 0;
}

static int hit_cb(const struct store_hit *hit, void *arg)
{
	struct round *r = arg;
	Agora__Record *rec = NULL;
	int rc;

	if (!is_fresh(r, hit->rec.id))
		return 0;
	if ((rc = proto_envelope_decode(&rec, hit->rec.env, hit->rec.env_len, NULL)) < 0) {
		r->err = rc;
		return 1;
	}
	rc = print_record(r, &hit->rec, rec);
	agora__record__free_unpacked(rec, NULL);
	if (rc < 0) {
		r->err = rc;
		return 1;
	}
	r->printed++;
	return r->limit && r->printed == r->limit;
}

/*
 * The authors both of the moved feeds and of --municipality (when given),
 * up to STORE_QUERY_MAX_AUTHORS from index *next on; *n of them.
 */
static size_t authors_of(const struct round *r, const struct cli_filter *f, size_t *next,
                         uint8_t (*out)[PROTO_KEY_BYTES])
{
	size_t n = 0;

	for (; *next < r->n && n < STORE_QUERY_MAX_AUTHORS; (*next)++) {
		const uint8_t *a = r->v[*next].author;
		bool want = f->q.n_authors == 0, dup = false;
		for (size_t k = 0; k < f->q.n_authors; k++)
			want |= !memcmp(f->q.authors[k], a, PROTO_KEY_BYTES);
		for (size_t k = 0; k < n; k++)
			dup |= !memcmp(out[k], a, PROTO_KEY_BYTES);
		if (want && !dup)
			memcpy(out[n++], a, PROTO_KEY_BYTES);
	}
	return n;
}

/* Print what is new between write numbers *since and the snapshot's. */
static int round_run(struct round *r, struct cli_filter *f, uint64_t *since)
{
	uint8_t authors[STORE_QUERY_MAX_AUTHORS][PROTO_KEY_BYTES];
	uint64_t upto = 0;
	size_t next = 0, na;
	int rc;

	r->n = 0;
	rc = store_changes(r->t, *since, change_cb, r, &upto);
	if (rc == STORE_E_GONE) {
		/* restored from an older copy, or more than the log keeps went by */
		if ((rc = store_write_number(r->t, &upto)) < 0)
			return rc;
		fprintf(stderr, "agora: watch: the store changed more than its log keeps; "
		        "records stored meanwhile are not shown\n");
		*since = upto;
		return 0;
	}
	if (rc < 0)
		return rc;
	if (r->n && !(r->names = cli_names_new(r->t)))
		return -ENOMEM;
	if (r->n && (rc = cli_names_load(r->names)) < 0)
		return rc;
	while (r->n && next < r->n && !(r->limit && r->printed == r->limit)) {
		struct store_query q = f->q;
		if (!(na = authors_of(r, f, &next, authors)))
			continue;
		q.authors = (const uint8_t (*)[PROTO_KEY_BYTES])authors;
		q.n_authors = na;
		q.limit = 0;
		q.offset = 0;
		q.sort = STORE_SORT_OLDEST;
		rc = store_query(r->t, &q, hit_cb, r, NULL);
		if (r->err)
			return r->err;
		if (rc < 0)
			return rc;
	}
	*since = upto;
	return 0;
}

/* Block the signals that end a watch and return a signalfd for them. */
static int signals_fd(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, old) < 0)
		return -errno;
	int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		sigprocmask(SIG_SETMASK, old, NULL);
		return -e;
	}
	return fd;
}

int cli_cmd_watch(struct cli_ctx *ctx, int argc, char **argv)
{
	struct watch_opts o;
	struct cli_filter *f = &o.filter;
	struct round r;
	struct store *s = NULL;
	struct store_txn *t = NULL;
	struct cli_names *names = NULL;
	char db[4200];
	sigset_t old;
	uint64_t since = 0;
	size_t n_args;
	int rc, sfd = -1, ifd = -1;

	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	cli_filter_init(f);
	if ((rc = cli_opt_parse(ctx, &watch_cmd, argc, argv, 1, &o, NULL, &n_args)) != CLI_EXIT_OK) {
		rc = cli_opt_status(rc);
		goto out;
	}
	/* names and ids resolve once, against the store as it is now */
	if ((rc = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK)
		goto out;
	rc = CLI_EXIT_ERROR;
	if (!(names = cli_names_new(t)) || cli_names_load(names) < 0) {
		cli_error(ctx, "cannot read municipality names");
		goto out;
	}
	if ((rc = cli_filter_resolve(f, ctx, t, names)) != CLI_EXIT_OK)
		goto out;
	rc = CLI_EXIT_ERROR;
	if (store_write_number(t, &since) < 0) {
		cli_error(ctx, "cannot read the store");
		goto out;
	}
	store_txn_end(t);
	t = NULL;

	if ((sfd = signals_fd(&old)) < 0) {
		cli_error(ctx, "cannot watch for signals: %s", strerror(-sfd));
		goto out;
	}
	/* Without inotify (a full instance table) the one-second recheck is all. */
	if (store_home_path(db, sizeof(db), ctx->home, STORE_HOME_DB, "/data.mdb") == 0 &&
	    (ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) >= 0 &&
	    inotify_add_watch(ifd, db, IN_MODIFY) < 0) {
		close(ifd);
		ifd = -1;
	}
	r.ctx = ctx;
	r.jsonl = o.jsonl;
	r.limit = f->limit.set ? f->limit.n : 0;
	setvbuf(stdout, NULL, _IOLBF, 0);   /* a line as soon as it is known */
	for (;;) {
		/* stdout too: a pipe whose reader is gone reports POLLERR at once,
		 * so `agora watch | head -1`, or agorad's hook watcher after agorad
		 * was killed, ends without waiting for a record to write */
		struct pollfd p[3] = { { .fd = sfd, .events = POLLIN }, { .fd = STDOUT_FILENO },
		                       { .fd = ifd, .events = POLLIN } };
		if (poll(p, ifd >= 0 ? 3 : 2, WATCH_POLL_MS) < 0 && errno != EINTR) {
			cli_error(ctx, "watch: %s", strerror(errno));
			break;
		}
		if (p[0].revents || (p[1].revents & (POLLERR | POLLHUP))) {
			rc = CLI_EXIT_OK;       /* Ctrl-C, kill, or the reader went away */
			break;
		}
		if (ifd >= 0 && p[2].revents) {
			char buf[4096];
			while (read(ifd, buf, sizeof(buf)) > 0)
				;
		}
		if (store_txn_begin(s, &t) < 0) {
			cli_error(ctx, "cannot read the store");
			break;
		}
		uint64_t now = 0;
		int e = store_write_number(t, &now);
		r.t = t;
		if (e == 0 && now != since)
			e = round_run(&r, f, &since);
		cli_names_free(r.names);
		r.names = NULL;
		store_txn_end(t);
		t = r.t = NULL;
		if (e < 0) {
			cli_error(ctx, "watch: %s", store_strerror(e));
			break;
		}
		if (fflush(stdout) != 0 || ferror(stdout)) {
			rc = CLI_EXIT_OK;       /* the reader went away: done, not an error */
			break;
		}
		if (r.limit && r.printed >= r.limit) {
			rc = CLI_EXIT_OK;
			break;
		}
	}
	if (sfd >= 0) {
		/* take what is pending, or unblocking would deliver it now */
		struct signalfd_siginfo si;
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			;
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
out:
	if (sfd >= 0)
		close(sfd);
	if (ifd >= 0)
		close(ifd);
	free(r.v);
	cli_names_free(names);
	store_txn_end(t);
	cli_filter_dispose(f);
	return rc;
}
