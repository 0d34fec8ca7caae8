/*
 * cmd_bundle_create.c - `agora bundle create FILE [filters]`: which records
 * go into a bundle, and in what order.  The file format is bundle.c's.
 *
 * Which alliances: the default one (DESIGN 7), or those named with
 * --alliance (repeatable), or every one held with --all-alliances; never
 * more than asked for, since a bundle handed to one partner must not carry
 * another alliance's records (decision 7).  The summary line names them.
 *
 * Order: the charter of every alliance in the bundle first, then every
 * other record, each feed (alliance, author) in seq order, the feeds
 * interleaved by creation time, so an importer can ingest the file front
 * to back in one pass.  A bundle made with filters holds each matching
 * record together with the earlier records of its feed and the governance
 * records (admissions, revocations, key rotations) of its alliance, so it
 * imports on its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/alliance_int.h"
#include "cli/attach_int.h"
#include "cli/bundle_int.h"
#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/filter_int.h"
#include "cli/home_int.h"
#include "cli/names_int.h"
#include "cli/opt_int.h"

struct feed_sel {
	uint8_t alliance[PROTO_ID_BYTES];
	uint8_t author[PROTO_KEY_BYTES];
	uint64_t upto;              /* write seqs 1..upto */
};

struct order_ent {
	uint64_t key;               /* creation time, made non-decreasing per feed */
	uint32_t feed;
	uint64_t seq;
};

/* A file a written record lists (--attachments). */
struct blob_sel {
	uint8_t hash[PROTO_HASH_BYTES];
	uint64_t size;
};

struct create_run {
	struct cli_ctx *ctx;
	bool want_blobs;            /* --attachments: collect what the records list */
	struct blob_sel *blobs;
	size_t n_blobs, cap_blobs;
	struct store_txn *t;
	uint8_t (*chosen)[PROTO_ID_BYTES];  /* the alliances asked for */
	size_t n_chosen, cap_chosen;
	uint8_t (*alliances)[PROTO_ID_BYTES];   /* those written (filters: with a hit) */
	size_t n_alliances, cap_alliances;
	struct feed_sel *feeds;
	size_t n_feeds, cap_feeds;
	const uint8_t *cur_alliance;    /* for the store_heads callback */
	int err;
};

/* Add id to the set v[0..*n) (capacity *cap) unless it is there. */
static int id_set_add(uint8_t (**v)[PROTO_ID_BYTES], size_t *n, size_t *cap, const uint8_t *id)
{
	for (size_t i = 0; i < *n; i++)
		if (!memcmp((*v)[i], id, PROTO_ID_BYTES))
			return 0;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		void *nv = realloc(*v, nc * sizeof(**v));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	memcpy((*v)[(*n)++], id, PROTO_ID_BYTES);
	return 0;
}

static int add_alliance(struct create_run *c, const uint8_t *id)
{
	return id_set_add(&c->alliances, &c->n_alliances, &c->cap_alliances, id);
}

/* Make sure feed (alliance, author) is written up to seq `upto`. */
static int add_feed(struct create_run *c, const uint8_t *alliance, const uint8_t *author,
                    uint64_t upto)
{
	for (size_t i = 0; i < c->n_feeds; i++) {
		struct feed_sel *f = &c->feeds[i];
		if (!memcmp(f->alliance, alliance, PROTO_ID_BYTES) &&
		    !memcmp(f->author, author, PROTO_KEY_BYTES)) {
			if (upto > f->upto)
				f->upto = upto;
			return 0;
		}
	}
	if (c->n_feeds == c->cap_feeds) {
		size_t nc = c->cap_feeds ? c->cap_feeds * 2 : 32;
		void *nv = realloc(c->feeds, nc * sizeof(*c->feeds));
		if (!nv)
			return -ENOMEM;
		c->feeds = nv;
		c->cap_feeds = nc;
	}
	memcpy(c->feeds[c->n_feeds].alliance, alliance, PROTO_ID_BYTES);
	memcpy(c->feeds[c->n_feeds].author, author, PROTO_KEY_BYTES);
	c->feeds[c->n_feeds].upto = upto;
	c->n_feeds++;
	return add_alliance(c, alliance);
}

static int alliance_cb(const struct store_record *rec, void *arg)
{
	struct create_run *c = arg;

	c->err = id_set_add(&c->chosen, &c->n_chosen, &c->cap_chosen, rec->id);
	return c->err ? 1 : 0;
}

static int head_cb(const uint8_t author[PROTO_KEY_BYTES], uint64_t seq,
                   const uint8_t id[PROTO_ID_BYTES], void *arg)
{
	struct create_run *c = arg;

	(void)id;
	if (seq == 0)
		return 0;
	c->err = add_feed(c, c->cur_alliance, author, seq);
	return c->err ? 1 : 0;
}

/* A query hit (filtered bundle): its feed is needed up to its seq. */
static int hit_cb(const struct store_hit *hit, void *arg)
{
	struct create_run *c = arg;
	Agora__Record *rec = NULL;
	int rc;

	rc = proto_envelope_decode(&rec, hit->rec.env, hit->rec.env_len, NULL);
	if (rc < 0) {
		c->err = rc;
		return 1;
	}
	if (rec->author.len == PROTO_KEY_BYTES) {
		if (rec->alliance.len == PROTO_ID_BYTES)
			rc = add_feed(c, rec->alliance.data, rec->author.data, rec->seq);
		else            /* a charter: its own id is the alliance */
			rc = add_feed(c, hit->rec.id, rec->author.data, rec->seq);
	}
	agora__record__free_unpacked(rec, NULL);
	c->err = rc;
	return rc ? 1 : 0;
}

/* Note the files rec lists (when --attachments was given). */
static int add_blobs(struct create_run *c, const Agora__Record *rec)
{
	Agora__Attachment *const *list;
	int k;

	if (!c->want_blobs || (k = proto_record_attachments(&list, rec)) <= 0)
		return 0;
	for (int j = 0; j < k; j++) {
		if (c->n_blobs == c->cap_blobs) {
			size_t nc = c->cap_blobs ? c->cap_blobs * 2 : 16;
			void *nv = realloc(c->blobs, nc * sizeof(*c->blobs));
			if (!nv)
				return -ENOMEM;
			c->blobs = nv;
			c->cap_blobs = nc;
		}
		memcpy(c->blobs[c->n_blobs].hash, list[j]->hash.data, PROTO_HASH_BYTES);
		c->blobs[c->n_blobs++].size = list[j]->size;
	}
	return 0;
}

static int blob_cmp(const void *a, const void *b)
{
	return memcmp(((const struct blob_sel *)a)->hash, ((const struct blob_sel *)b)->hash,
	              PROTO_HASH_BYTES);
}

/*
 * Keep, in ascending order of hash and each once, the listed files this
 * node holds with the listed size; *missing gets how many it does not hold.
 */
static void blobs_held(struct create_run *c, const char *home, size_t *missing, uint64_t *bytes)
{
	size_t k = 0;

	*missing = 0;
	*bytes = 0;
	if (c->n_blobs)
		qsort(c->blobs, c->n_blobs, sizeof(*c->blobs), blob_cmp);
	for (size_t i = 0; i < c->n_blobs; i++) {
		uint64_t size;
		if (k && !memcmp(c->blobs[k - 1].hash, c->blobs[i].hash, PROTO_HASH_BYTES))
			continue;
		if (store_blob_stat(&size, home, c->blobs[i].hash) != 0 ||
		    size != c->blobs[i].size) {
			(*missing)++;
			continue;
		}
		*bytes += size;
		c->blobs[k++] = c->blobs[i];
	}
	c->n_blobs = k;
}

/* Copy one stored blob into the bundle: 0, -EIO (writing the bundle), or
 * STORE_E_BLOB (the stored file is gone, changed size or cannot be read). */
static int write_blob(struct cli_bundle_writer *w, const char *home, const struct blob_sel *b)
{
	uint8_t buf[1 << 16];
	uint64_t size, left;
	int fd, e;

	if (store_blob_open(&fd, &size, home, b->hash) < 0)
		return STORE_E_BLOB;        /* removed since blobs_held looked */
	if (size != b->size) {
		close(fd);
		return STORE_E_BLOB;
	}
	e = cli_bundle_write_blob(w, b->hash, size);
	for (left = size; e == 0 && left;) {
		ssize_t k = read(fd, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			e = STORE_E_BLOB;   /* the file shrank or cannot be read */
			break;
		}
		e = cli_bundle_write_data(w, buf, (size_t)k);
		left -= (uint64_t)k;
	}
	close(fd);
	return e == -EINVAL ? STORE_E_BLOB : e;
}

static int order_cmp(const void *a, const void *b)
{
	const struct order_ent *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->feed != y->feed)
		return x->feed < y->feed ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Choose the feeds to write; CLI_EXIT_*. */
static int create_select(struct create_run *c, struct cli_filter *f)
{
	int n;

	if (!cli_filter_any(f)) {
		for (size_t i = 0; i < c->n_chosen; i++) {
			if ((n = add_alliance(c, c->chosen[i])) < 0) {
				cli_error(c->ctx, "out of memory");
				return CLI_EXIT_ERROR;
			}
			c->cur_alliance = c->chosen[i];
			n = store_heads(c->t, c->chosen[i], head_cb, c);
			if (n < 0 || c->err) {
				cli_error(c->ctx, "cannot list feeds: %s",
				          store_strerror(c->err ? c->err : n));
				return CLI_EXIT_ERROR;
			}
		}
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < c->n_chosen; i++) {
		f->q.alliance = c->chosen[i];
		n = store_query(c->t, &f->q, hit_cb, c, NULL);
		if (n < 0 || c->err) {
			cli_error(c->ctx, "query failed: %s", store_strerror(c->err ? c->err : n));
			return CLI_EXIT_ERROR;
		}
	}
	/* The governance records of every alliance involved, so members are admitted. */
	for (size_t i = 0, na = c->n_alliances; i < na; i++) {
		static const enum proto_kind gov[] = {
			PROTO_KIND_ADMISSION, PROTO_KIND_REVOCATION, PROTO_KIND_KEY_ROTATION,
		};
		for (size_t k = 0; k < sizeof(gov) / sizeof(gov[0]); k++) {
			struct store_query q;
			memset(&q, 0, sizeof(q));
			q.alliance = c->alliances[i];
			q.kind = gov[k];
			q.governance = true;
			q.history = true;
			n = store_query(c->t, &q, hit_cb, c, NULL);
			if (n < 0 || c->err) {
				cli_error(c->ctx, "query failed: %s",
				          store_strerror(c->err ? c->err : n));
				return CLI_EXIT_ERROR;
			}
		}
	}
	return CLI_EXIT_OK;
}

/* Order the selected feed entries by creation time, each feed in seq order. */
static int create_order(struct create_run *c, struct order_ent **out, size_t *n_out)
{
	struct order_ent *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	for (size_t i = 0; i < c->n_feeds; i++) {
		uint64_t last = 0;
		for (uint64_t seq = 1; seq <= c->feeds[i].upto; seq++) {
			struct store_record sr;
			Agora__Record *rec = NULL;
			rc = store_feed_get(c->t, c->feeds[i].alliance, c->feeds[i].author, seq, &sr);
			if (rc < 0)
				goto out;
			/* Charters are written first, on their own. */
			bool charter = false;
			for (size_t a = 0; a < c->n_alliances; a++)
				if (!memcmp(sr.id, c->alliances[a], PROTO_ID_BYTES))
					charter = true;
			rc = proto_envelope_decode(&rec, sr.env, sr.env_len, NULL);
			if (rc < 0)
				goto out;
			if (rec->created_ms > last)
				last = rec->created_ms;
			rc = add_blobs(c, rec);
			agora__record__free_unpacked(rec, NULL);
			if (rc < 0)
				goto out;
			if (charter)
				continue;
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 1024;
				struct order_ent *nv = realloc(v, nc * sizeof(*nv));
				if (!nv) {
					rc = -ENOMEM;
					goto out;
				}
				v = nv;
				cap = nc;
			}
			v[n].key = last;
			v[n].feed = (uint32_t)i;
			v[n].seq = seq;
			n++;
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), order_cmp);
	*out = v;
	*n_out = n;
	v = NULL;
out:
	free(v);
	return rc;
}

#define CREATE_MAX_ALLIANCES 64

struct create_alliances {
	const char *names[CREATE_MAX_ALLIANCES];   /* --alliance values, borrowed from argv */
	size_t n;
};

struct create_opts {
	struct create_alliances alliances;
	bool all;                   /* --all-alliances */
	bool attachments;           /* --attachments */
	struct cli_filter filter;
};

static int parse_alliance(struct cli_ctx *ctx, const char *opt, const char *val, void *field)
{
	struct create_alliances *a = field;

	if (a->n == CREATE_MAX_ALLIANCES) {
		cli_error(ctx, "%s: at most %d alliances; use --all-alliances", opt,
		          CREATE_MAX_ALLIANCES);
		return CLI_EXIT_USAGE;
	}
	a->names[a->n++] = val;
	return CLI_EXIT_OK;
}

static const struct cli_opt create_opts[] = {
	CLI_FN("--alliance", "NAME|ID", "write this alliance (repeat for several;\n"
	       "default: the default alliance only)", struct create_opts, alliances,
	       parse_alliance),
	CLI_FLAG("--all-alliances", "write every alliance this node holds", struct create_opts, all),
	CLI_FLAG("--attachments", "also write the files the records list, as far as\n"
	         "this node holds them (a larger file, format AGORAB2)", struct create_opts,
	         attachments),
	CLI_OPT_END,
};

const struct cli_command cli_bundle_create_cmd = {
	.name = "bundle create",
	.usage = "bundle create FILE [--alliance A ... | --all-alliances] [--attachments] [filters]",
	.about = "Write the records this node holds of the default alliance (or of the\n"
	         "alliances named with --alliance, or of all with --all-alliances) into\n"
	         "FILE, and say which alliances it wrote.  With filters the bundle holds\n"
	         "the matching records plus the earlier records of their feeds and their\n"
	         "alliance's charter and governance records, so it always imports on its\n"
	         "own.  With --attachments it also carries the files those records list.\n",
	.groups = { { "options", create_opts, 0 },
	            { "filters (all given filters must match)", cli_filter_opts,
	              offsetof(struct create_opts, filter) } },
	.min_args = 1,
	.max_args = 1,
};

/*
 * Fill c->chosen: --all-alliances, every --alliance, or the default alliance
 * (if none is set, the one alliance held, when there is exactly one).
 * CLI_EXIT_* with the error printed.
 */
static int create_choose(struct create_run *c, const struct create_opts *o)
{
	uint8_t id[PROTO_ID_BYTES];
	int rc, e;

	if (o->all && o->alliances.n) {
		cli_error(c->ctx, "bundle create: give --alliance or --all-alliances, not both");
		return CLI_EXIT_USAGE;
	}
	if (o->all || !o->alliances.n) {
		e = store_alliances(c->t, alliance_cb, c);
		if (e < 0 || c->err) {
			cli_error(c->ctx, "cannot list alliances: %s",
			          store_strerror(c->err ? c->err : e));
			return CLI_EXIT_ERROR;
		}
		if (o->all)
			return CLI_EXIT_OK;
		e = store_default_alliance_get(c->t, id);
		if (e == STORE_E_NOTFOUND && c->n_chosen > 1) {
			cli_error(c->ctx, "this node holds %zu alliances and none is the default: "
			          "give --alliance NAME (or --all-alliances), or run `agora alliance use NAME`",
			          c->n_chosen);
			return CLI_EXIT_USAGE;
		}
		if (e == STORE_E_NOTFOUND && c->n_chosen == 1)
			return CLI_EXIT_OK;
		c->n_chosen = 0;
	}
	for (size_t i = 0; i < (o->alliances.n ? o->alliances.n : 1); i++) {
		/* no --alliance: cli_alliance(NULL) is the default, or says what to run */
		rc = cli_alliance(c->ctx, c->t, o->alliances.n ? o->alliances.names[i] : NULL, id);
		if (rc != CLI_EXIT_OK)
			return rc;
		if (id_set_add(&c->chosen, &c->n_chosen, &c->cap_chosen, id) < 0) {
			cli_error(c->ctx, "out of memory");
			return CLI_EXIT_ERROR;
		}
	}
	return CLI_EXIT_OK;
}

/* "alliance DK2020" or "2 alliances: DK2020, Twin cities" (names from the
 * charters; an id prefix where a name is missing). */
static void print_alliances(struct create_run *c)
{
	if (c->n_alliances != 1)
		printf("%zu alliances%s", c->n_alliances, c->n_alliances ? ": " : "");
	else
		printf("alliance ");
	for (size_t i = 0; i < c->n_alliances; i++) {
		char *name = cli_alliance_name(c->t, c->alliances[i]);
		char hex[PROTO_ID_HEX + 1];
		proto_hex(hex, c->alliances[i], PROTO_ID_BYTES);
		hex[12] = '\0';
		printf("%s%s", i ? ", " : "", name ? name : hex);
		free(name);
	}
}

int cli_bundle_create(struct cli_ctx *ctx, int argc, char **argv)
{
	struct create_opts o;
	struct cli_filter *f = &o.filter;
	struct create_run c;
	struct cli_names *names = NULL;
	struct store *s = NULL;
	struct store_txn *t = NULL;
	struct order_ent *order = NULL;
	struct cli_progress prog;
	struct cli_bundle_writer w;
	const char *path = NULL;
	char *tmp = NULL;
	size_t n_order = 0, n_args, missing = 0;
	uint64_t blob_bytes = 0;
	FILE *bf = NULL;
	int rc = CLI_EXIT_ERROR, e;

	memset(&o, 0, sizeof(o));
	memset(&c, 0, sizeof(c));
	memset(&w, 0, sizeof(w));
	c.ctx = ctx;
	cli_filter_init(f);
	if ((rc = cli_opt_parse(ctx, &cli_bundle_create_cmd, argc, argv, 2, &o, &path, &n_args)) != CLI_EXIT_OK) {
		rc = cli_opt_status(rc);
		goto out;
	}

	if ((rc = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK)
		goto out;
	c.t = t;
	names = cli_names_new(t);
	if (!names) {
		cli_error(ctx, "out of memory");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	if (f->municipality && cli_names_load(names) < 0) {
		cli_error(ctx, "cannot read municipality names");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	rc = cli_filter_resolve(f, ctx, t, names);
	if (rc != CLI_EXIT_OK)
		goto out;
	if ((rc = create_choose(&c, &o)) != CLI_EXIT_OK)
		goto out;
	c.want_blobs = o.attachments;
	f->q.governance = f->q.governance || f->q.kind == PROTO_KIND_NONE;
	rc = create_select(&c, f);
	if (rc != CLI_EXIT_OK)
		goto out;
	e = create_order(&c, &order, &n_order);
	if (e < 0) {
		cli_error(ctx, "cannot read the feeds: %s", store_strerror(e));
		rc = CLI_EXIT_ERROR;
		goto out;
	}

	blobs_held(&c, ctx->home, &missing, &blob_bytes);

	/* Write next to FILE and rename at the end: a failed run leaves no half bundle. */
	tmp = malloc(strlen(path) + 16);
	if (!tmp) {
		cli_error(ctx, "out of memory");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	sprintf(tmp, "%s.tmp%ld", path, (long)getpid());
	if (!(bf = fopen(tmp, "wb"))) {
		cli_error(ctx, "cannot write %s: %s", tmp, strerror(errno));
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	/* w.f = bf: closed at out; version 2 only when it carries a file */
	e = cli_bundle_write_start(&w, bf, c.n_blobs ? 2 : 1);
	cli_progress_start(&prog, ctx, "writing bundle", c.n_alliances + n_order + c.n_blobs);
	for (size_t i = 0; i < c.n_alliances && e == 0; i++) {
		struct store_record sr;
		e = store_get(t, c.alliances[i], &sr);
		if (e == 0)
			e = cli_bundle_write_record(&w, sr.env, sr.env_len);
		cli_progress_step(&prog, 1);
	}
	for (size_t i = 0; i < n_order && e == 0; i++) {
		struct feed_sel *fs = &c.feeds[order[i].feed];
		struct store_record sr;
		e = store_feed_get(t, fs->alliance, fs->author, order[i].seq, &sr);
		if (e == 0)
			e = cli_bundle_write_record(&w, sr.env, sr.env_len);
		cli_progress_step(&prog, 1);
	}
	for (size_t i = 0; i < c.n_blobs && e == 0; i++) {
		e = write_blob(&w, ctx->home, &c.blobs[i]);
		cli_progress_step(&prog, 1);
	}
	cli_progress_end(&prog);
	if (e == 0)
		e = cli_bundle_write_end(&w);
	if (e == -EIO || fflush(w.f) != 0 || fsync(fileno(w.f)) != 0) {
		cli_error(ctx, "cannot write %s: %s", tmp, strerror(errno));
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	if (e == STORE_E_BLOB) {
		cli_error(ctx, "cannot read an attachment for the bundle: %s", store_strerror(e));
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	if (e < 0) {
		cli_error(ctx, "cannot read a record for the bundle: %s", store_strerror(e));
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	if (fclose(w.f) != 0) {
		w.f = NULL;
		cli_error(ctx, "cannot write %s: %s", tmp, strerror(errno));
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	w.f = NULL;
	if (rename(tmp, path) < 0) {
		cli_error(ctx, "cannot create %s: %s", path, strerror(errno));
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	free(tmp);
	tmp = NULL;
	printf("wrote %llu records (", (unsigned long long)w.count);
	print_alliances(&c);
	printf("; %zu feed%s)", c.n_feeds, c.n_feeds == 1 ? "" : "s");
	if (c.n_blobs) {
		char size[32];
		cli_attach_size(size, sizeof(size), blob_bytes);
		printf(" and %zu attachment%s (%s)", c.n_blobs, c.n_blobs == 1 ? "" : "s", size);
	}
	printf(" to %s\n", path);
	if (missing)
		printf("%zu file%s the records list %s not on this node (not fetched yet) and "
		       "%s left out\n", missing, missing == 1 ? "" : "s",
		       missing == 1 ? "is" : "are", missing == 1 ? "was" : "were");
	rc = CLI_EXIT_OK;
out:
	if (w.f)
		fclose(w.f);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(order);
	free(c.blobs);
	free(c.feeds);
	free(c.alliances);
	free(c.chosen);
	cli_names_free(names);
	store_txn_end(t);
	cli_filter_dispose(f);
	return rc;
}

