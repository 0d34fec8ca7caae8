/*
 * cmd_bundle.c - `agora bundle create|verify|import`: signed records in one
 * file, for moving an alliance's knowledge without a network (a USB stick
 * to the summit, an e-mail attachment, a backup).
 *
 * Bundle format, version 1 (all integers big-endian):
 *
 *   magic    8 bytes   "AGORAB1\n"  (41 47 4f 52 41 42 31 0a)
 *   records  repeated: length  4 bytes, 1..65536 (PROTO_ENVELOPE_MAX)
 *                      envelope `length` bytes, the canonical signed
 *                               envelope exactly as stored and sent
 *   trailer  end mark  4 bytes 00 00 00 00
 *            count     8 bytes, the number of records above
 *            checksum  32 bytes, BLAKE2b-256 (unkeyed) of every byte
 *                      before the trailer (magic and records)
 *   nothing may follow the trailer.
 *
 * Order: the charter of every alliance in the bundle first, then every
 * other record, each feed (alliance, author) in seq order.  The feeds are
 * interleaved by creation time (a record never comes before an earlier seq
 * of its own feed), so an admission normally precedes the first record of
 * the member it admits, and an importer can ingest the file front to back
 * in one pass.  The checksum guards against damage, not forgery: every
 * record carries its author's signature, which import and verify check.
 *
 * A bundle made with filters holds each matching record together with the
 * earlier records of its feed and the governance records (admissions,
 * revocations, key rotations) of its alliance, so it imports on its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/output.h"

#define BUNDLE_BATCH 1000

static const char bundle_help[] =
	"usage: agora bundle create FILE [filters]\n"
	"       agora bundle verify FILE\n"
	"       agora bundle import FILE\n"
	"\n"
	"A bundle is one file of signed records, to carry an alliance's records\n"
	"without a network.\n"
	"\n"
	"  create   write every record this node holds (all alliances, or one with\n"
	"           --alliance) into FILE.  With filters (see below) the bundle holds\n"
	"           the matching records plus the earlier records of their feeds and\n"
	"           their alliance's charter and governance records, so it always\n"
	"           imports on its own.\n"
	"  verify   check FILE without touching the store: framing, trailer and\n"
	"           checksum, every signature, the hash chain of every feed; print\n"
	"           counts per kind and per author and every problem.  Exit status 3\n"
	"           when there is a problem.\n"
	"  import   check FILE's framing and checksum, then store its records (in\n"
	"           batches of 1000; each record is verified and either new, already\n"
	"           known or rejected, with the reason).  A damaged file imports\n"
	"           nothing.  Exit status 3 when any record was rejected.\n"
	"\n"
	"File format (big-endian): \"AGORAB1\\n\"; per record a 4-byte length and\n"
	"the signed envelope; then 4 zero bytes, an 8-byte record count and the\n"
	"BLAKE2b-256 of everything before this trailer.  Charters come first, then\n"
	"each feed in seq order, feeds interleaved by creation time.\n"
	"\n";

/* ------------------------------------------------------------ reading */

/* Read FILE whole (bundles are verified before anything is used). */
static int read_file(struct cli_ctx *ctx, const char *path, uint8_t **out, size_t *len_out)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0, cap;
	int fd, rc = CLI_EXIT_ERROR;
	ssize_t k;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cli_error(ctx, "cannot open %s: %s", path, strerror(errno));
		return errno == ENOENT ? CLI_EXIT_NOTFOUND : CLI_EXIT_ERROR;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		cli_error(ctx, "%s is not a regular file", path);
		rc = CLI_EXIT_INPUT;
		goto out;
	}
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf) {
		cli_error(ctx, "%s is too large to read into memory", path);
		goto out;
	}
	while ((k = read(fd, buf + len, cap - len)) != 0) {
		if (k < 0) {
			if (errno == EINTR)
				continue;
			cli_error(ctx, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		len += (size_t)k;
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (!nb) {
				cli_error(ctx, "out of memory reading %s", path);
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
	}
	*out = buf;
	*len_out = len;
	buf = NULL;
	rc = CLI_EXIT_OK;
out:
	free(buf);
	close(fd);
	return rc;
}

/* Read and check the framing of FILE; CLI_EXIT_* with the error printed. */
static int load_bundle(struct cli_ctx *ctx, const char *path, uint8_t **buf, size_t *len,
                       struct cli_bundle_rec **recs, size_t *n)
{
	char msg[256];
	int rc, e;

	rc = read_file(ctx, path, buf, len);
	if (rc != CLI_EXIT_OK)
		return rc;
	e = cli_bundle_parse(recs, n, *buf, *len, msg, sizeof(msg));
	if (e < 0) {
		cli_error(ctx, "bundle %s: %s; nothing was used", path, msg);
		free(*buf);
		*buf = NULL;
		return e == -ENOMEM ? CLI_EXIT_ERROR : CLI_EXIT_INPUT;
	}
	return CLI_EXIT_OK;
}

static void short_hex(char out[13], const uint8_t *p)
{
	char hex[PROTO_ID_HEX + 1];

	proto_hex(hex, p, PROTO_ID_BYTES);
	memcpy(out, hex, 12);
	out[12] = '\0';
}

/* ------------------------------------------------------------- create */

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

struct create_run {
	struct cli_ctx *ctx;
	struct store_txn *t;
	const uint8_t *only_alliance;   /* --alliance, or NULL */
	uint8_t (*alliances)[PROTO_ID_BYTES];
	size_t n_alliances, cap_alliances;
	struct feed_sel *feeds;
	size_t n_feeds, cap_feeds;
	const uint8_t *cur_alliance;    /* for the store_heads callback */
	int err;
};

static int add_alliance(struct create_run *c, const uint8_t *id)
{
	for (size_t i = 0; i < c->n_alliances; i++)
		if (!memcmp(c->alliances[i], id, PROTO_ID_BYTES))
			return 0;
	if (c->n_alliances == c->cap_alliances) {
		size_t nc = c->cap_alliances ? c->cap_alliances * 2 : 8;
		void *nv = realloc(c->alliances, nc * sizeof(*c->alliances));
		if (!nv)
			return -ENOMEM;
		c->alliances = nv;
		c->cap_alliances = nc;
	}
	memcpy(c->alliances[c->n_alliances++], id, PROTO_ID_BYTES);
	return 0;
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

	if (c->only_alliance && memcmp(c->only_alliance, rec->id, PROTO_ID_BYTES))
		return 0;
	c->err = add_alliance(c, rec->id);
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

static int order_cmp(const void *a, const void *b)
{
	const struct order_ent *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->feed != y->feed)
		return x->feed < y->feed ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = n; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
}

struct writer {
	FILE *f;
	crypto_generichash_state h;
	uint64_t count;
};

static int write_bytes(struct writer *w, const uint8_t *p, size_t n)
{
	crypto_generichash_update(&w->h, p, n);
	return fwrite(p, 1, n, w->f) == n ? 0 : -EIO;
}

static int write_record(struct writer *w, const uint8_t *env, size_t len)
{
	uint8_t lb[4];

	if (len == 0 || len > PROTO_ENVELOPE_MAX)
		return STORE_E_CORRUPT;
	put_be(lb, len, 4);
	if (write_bytes(w, lb, 4) < 0 || write_bytes(w, env, len) < 0)
		return -EIO;
	w->count++;
	return 0;
}

/* Choose the feeds to write; CLI_EXIT_*. */
static int create_select(struct create_run *c, struct cli_filter *f)
{
	int n;

	if (!f->any) {
		n = store_alliances(c->t, alliance_cb, c);
		if (n < 0 || c->err) {
			cli_error(c->ctx, "cannot list alliances: %s", store_strerror(c->err ? c->err : n));
			return CLI_EXIT_ERROR;
		}
		for (size_t i = 0; i < c->n_alliances; i++) {
			c->cur_alliance = c->alliances[i];
			n = store_heads(c->t, c->alliances[i], head_cb, c);
			if (n < 0 || c->err) {
				cli_error(c->ctx, "cannot list feeds: %s",
				          store_strerror(c->err ? c->err : n));
				return CLI_EXIT_ERROR;
			}
		}
		return CLI_EXIT_OK;
	}
	n = store_query(c->t, &f->q, hit_cb, c, NULL);
	if (n < 0 || c->err) {
		cli_error(c->ctx, "query failed: %s", store_strerror(c->err ? c->err : n));
		return CLI_EXIT_ERROR;
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
			agora__record__free_unpacked(rec, NULL);
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

static int bundle_create(struct cli_ctx *ctx, int argc, char **argv)
{
	struct create_run c;
	struct cli_filter f;
	struct cli_names *names = NULL;
	struct store *s = NULL;
	struct store_txn *t = NULL;
	struct order_ent *order = NULL;
	struct cli_progress prog;
	struct writer w;
	const char *path = NULL;
	char *tmp = NULL;
	size_t n_order = 0;
	uint8_t trailer[CLI_BUNDLE_TRAILER_LEN];
	int rc = CLI_EXIT_ERROR, e;

	memset(&c, 0, sizeof(c));
	memset(&w, 0, sizeof(w));
	c.ctx = ctx;
	cli_filter_init(&f);
	for (int i = 2; i < argc; i++) {
		bool used;
		rc = cli_filter_arg(&f, ctx, argc, argv, &i, &used);
		if (rc != CLI_EXIT_OK)
			goto out;
		if (used)
			continue;
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			cli_error(ctx, "bundle create: unknown option '%s' (see 'agora bundle --help')",
			          argv[i]);
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		if (path) {
			cli_error(ctx, "bundle create: one FILE only ('%s' and '%s')", path, argv[i]);
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		path = argv[i];
	}
	if (!path) {
		cli_error(ctx, "bundle create: give the FILE to write (see 'agora bundle --help')");
		rc = CLI_EXIT_USAGE;
		goto out;
	}

	rc = cli_store(ctx, false, &s);
	if (rc != CLI_EXIT_OK)
		goto out;
	e = store_txn_begin(s, &t);
	if (e < 0) {
		cli_error(ctx, "cannot read the store: %s", store_strerror(e));
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	c.t = t;
	names = cli_names_new(t);
	if (!names) {
		cli_error(ctx, "out of memory");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	if (f.municipality && cli_names_load(names) < 0) {
		cli_error(ctx, "cannot read municipality names");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	rc = cli_filter_resolve(&f, ctx, t, names);
	if (rc != CLI_EXIT_OK)
		goto out;
	c.only_alliance = f.q.alliance;
	f.q.governance = f.q.governance || f.q.kind == PROTO_KIND_NONE;
	rc = create_select(&c, &f);
	if (rc != CLI_EXIT_OK)
		goto out;
	e = create_order(&c, &order, &n_order);
	if (e < 0) {
		cli_error(ctx, "cannot read the feeds: %s", store_strerror(e));
		rc = CLI_EXIT_ERROR;
		goto out;
	}

	/* Write next to FILE and rename at the end: a failed run leaves no half bundle. */
	tmp = malloc(strlen(path) + 16);
	if (!tmp) {
		cli_error(ctx, "out of memory");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	sprintf(tmp, "%s.tmp%ld", path, (long)getpid());
	w.f = fopen(tmp, "wb");
	if (!w.f) {
		cli_error(ctx, "cannot write %s: %s", tmp, strerror(errno));
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	crypto_generichash_init(&w.h, NULL, 0, 32);
	e = write_bytes(&w, (const uint8_t *)CLI_BUNDLE_MAGIC, CLI_BUNDLE_MAGIC_LEN);
	cli_progress_start(&prog, ctx, "writing bundle", c.n_alliances + n_order);
	for (size_t i = 0; i < c.n_alliances && e == 0; i++) {
		struct store_record sr;
		e = store_get(t, c.alliances[i], &sr);
		if (e == 0)
			e = write_record(&w, sr.env, sr.env_len);
		cli_progress_step(&prog, 1);
	}
	for (size_t i = 0; i < n_order && e == 0; i++) {
		struct feed_sel *fs = &c.feeds[order[i].feed];
		struct store_record sr;
		e = store_feed_get(t, fs->alliance, fs->author, order[i].seq, &sr);
		if (e == 0)
			e = write_record(&w, sr.env, sr.env_len);
		cli_progress_step(&prog, 1);
	}
	cli_progress_end(&prog);
	if (e == 0) {
		memset(trailer, 0, 4);
		put_be(trailer + 4, w.count, 8);
		crypto_generichash_final(&w.h, trailer + 12, 32);
		if (fwrite(trailer, 1, sizeof(trailer), w.f) != sizeof(trailer))
			e = -EIO;
	}
	if (e == -EIO || fflush(w.f) != 0 || fsync(fileno(w.f)) != 0) {
		cli_error(ctx, "cannot write %s: %s", tmp, strerror(errno));
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
	printf("wrote %llu records (%zu alliance%s, %zu feed%s) to %s\n",
	       (unsigned long long)w.count, c.n_alliances, c.n_alliances == 1 ? "" : "s",
	       c.n_feeds, c.n_feeds == 1 ? "" : "s", path);
	rc = CLI_EXIT_OK;
out:
	if (w.f)
		fclose(w.f);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(order);
	free(c.feeds);
	free(c.alliances);
	cli_names_free(names);
	store_txn_end(t);
	cli_filter_dispose(&f);
	return rc;
}

/* ------------------------------------------------------------- verify */

struct vfeed {
	uint8_t alliance[PROTO_ID_BYTES];
	uint8_t author[PROTO_KEY_BYTES];
	uint64_t seq;               /* last seq seen */
	uint8_t last[PROTO_ID_BYTES];
};

struct vauthor {
	uint8_t key[PROTO_KEY_BYTES];
	size_t n;
	char *name;                 /* from a Profile (or Admission) in the bundle */
	bool from_profile;
};

struct verify_state {
	struct vfeed *feeds;
	size_t n_feeds, cap_feeds;
	struct vauthor *authors;
	size_t n_authors, cap_authors;
	uint8_t (*charters)[PROTO_ID_BYTES];
	size_t n_charters, cap_charters;
	size_t kinds[PROTO_KIND_RETRACT + 1];
	size_t problems, notes, valid;
};

static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	void *nv;
	size_t nc;

	if (n < *cap)
		return v;
	nc = *cap ? *cap * 2 : 16;
	nv = realloc(v, nc * size);
	if (nv)
		*cap = nc;
	return nv;
}

static struct vauthor *vauthor_get(struct verify_state *vs, const uint8_t *key)
{
	void *nv;

	for (size_t i = 0; i < vs->n_authors; i++)
		if (!memcmp(vs->authors[i].key, key, PROTO_KEY_BYTES))
			return &vs->authors[i];
	nv = grow(vs->authors, &vs->cap_authors, vs->n_authors, sizeof(*vs->authors));
	if (!nv)
		return NULL;
	vs->authors = nv;
	memset(&vs->authors[vs->n_authors], 0, sizeof(*vs->authors));
	memcpy(vs->authors[vs->n_authors].key, key, PROTO_KEY_BYTES);
	return &vs->authors[vs->n_authors++];
}

static void vauthor_name(struct verify_state *vs, const uint8_t *key, const char *name,
                         bool profile)
{
	struct vauthor *a;
	char *copy;

	if (!name || !*name || !(a = vauthor_get(vs, key)))
		return;
	if (a->name && a->from_profile && !profile)
		return;
	copy = strdup(name);
	if (!copy)
		return;
	free(a->name);
	a->name = copy;
	a->from_profile = profile;
}

static struct vfeed *vfeed_get(struct verify_state *vs, const uint8_t *alliance,
                               const uint8_t *author, bool *fresh)
{
	void *nv;

	/* Newest feeds are the likeliest; search backwards. */
	for (size_t i = vs->n_feeds; i-- > 0;)
		if (!memcmp(vs->feeds[i].author, author, PROTO_KEY_BYTES) &&
		    !memcmp(vs->feeds[i].alliance, alliance, PROTO_ID_BYTES)) {
			*fresh = false;
			return &vs->feeds[i];
		}
	nv = grow(vs->feeds, &vs->cap_feeds, vs->n_feeds, sizeof(*vs->feeds));
	if (!nv)
		return NULL;
	vs->feeds = nv;
	memset(&vs->feeds[vs->n_feeds], 0, sizeof(*vs->feeds));
	memcpy(vs->feeds[vs->n_feeds].alliance, alliance, PROTO_ID_BYTES);
	memcpy(vs->feeds[vs->n_feeds].author, author, PROTO_KEY_BYTES);
	*fresh = true;
	return &vs->feeds[vs->n_feeds++];
}

static bool has_charter(const struct verify_state *vs, const uint8_t *id)
{
	for (size_t i = 0; i < vs->n_charters; i++)
		if (!memcmp(vs->charters[i], id, PROTO_ID_BYTES))
			return true;
	return false;
}

/* Check one record; problems are printed as they are found. */
static int verify_one(struct verify_state *vs, const struct cli_bundle_rec *br, size_t idx,
                      uint64_t now_ms)
{
	Agora__Record *rec = NULL;
	struct proto_error perr;
	uint8_t id[PROTO_ID_BYTES];
	const uint8_t *alliance;
	enum proto_kind own, kind;
	const ProtobufCMessage *msg = NULL;
	struct vfeed *fd;
	struct vauthor *au;
	char sid[13], feedname[40];
	bool fresh;
	int rc;

	proto_record_id(id, br->env, br->len);
	short_hex(sid, id);
	memset(&perr, 0, sizeof(perr));
	rc = proto_envelope_open(&rec, br->env, br->len, now_ms, &perr);
	if (rc < 0) {
		if (perr.field[0] || perr.msg[0])
			printf("problem: record %zu (id %s, byte %zu): %s (%s%s%s)\n", idx + 1, sid,
			       br->offset, proto_strerror(rc), perr.field,
			       perr.field[0] && perr.msg[0] ? ": " : "", perr.msg);
		else
			printf("problem: record %zu (id %s, byte %zu): %s\n", idx + 1, sid,
			       br->offset, proto_strerror(rc));
		vs->problems++;
		return 0;
	}
	vs->valid++;
	own = proto_record_kind(rec);
	kind = proto_record_content(rec, &msg);
	if (own <= PROTO_KIND_RETRACT)
		vs->kinds[own]++;
	au = vauthor_get(vs, rec->author.data);
	if (!au) {
		rc = -ENOMEM;
		goto out;
	}
	au->n++;
	if (kind == PROTO_KIND_PROFILE && msg)
		vauthor_name(vs, rec->author.data, ((const Agora__Profile *)msg)->name, true);
	if (kind == PROTO_KIND_ADMISSION && msg &&
	    ((const Agora__Admission *)msg)->member.len == PROTO_KEY_BYTES)
		vauthor_name(vs, ((const Agora__Admission *)msg)->member.data,
		             ((const Agora__Admission *)msg)->name, false);

	if (own == PROTO_KIND_CHARTER) {
		void *nv = grow(vs->charters, &vs->cap_charters, vs->n_charters,
		                sizeof(*vs->charters));
		if (!nv) {
			rc = -ENOMEM;
			goto out;
		}
		vs->charters = nv;
		memcpy(vs->charters[vs->n_charters++], id, PROTO_ID_BYTES);
		alliance = id;
	} else {
		alliance = rec->alliance.data;
		if (!has_charter(vs, alliance)) {
			char ah[13];
			short_hex(ah, alliance);
			printf("note: record %zu (id %s) belongs to alliance %s whose charter is "
			       "not in the bundle (or comes later); import needs it in the store\n",
			       idx + 1, sid, ah);
			vs->notes++;
		}
	}

	/* Chain continuity within the bundle. */
	fd = vfeed_get(vs, alliance, rec->author.data, &fresh);
	if (!fd) {
		rc = -ENOMEM;
		goto out;
	}
	{
		char a12[13], k12[13];
		short_hex(a12, alliance);
		short_hex(k12, rec->author.data);
		snprintf(feedname, sizeof(feedname), "%s/%s", a12, k12);
	}
	if (fresh) {
		if (rec->seq != 1) {
			printf("note: feed %s starts at seq %llu in the bundle; import needs the "
			       "earlier records in the store\n", feedname,
			       (unsigned long long)rec->seq);
			vs->notes++;
		}
	} else if (rec->seq == fd->seq && !memcmp(fd->last, id, PROTO_ID_BYTES)) {
		printf("problem: record %zu (id %s) appears twice\n", idx + 1, sid);
		vs->problems++;
		goto out;
	} else if (rec->seq <= fd->seq) {
		printf("problem: record %zu (id %s): feed %s has seq %llu again or out of order "
		       "(after seq %llu) - a fork or a bad order\n", idx + 1, sid, feedname,
		       (unsigned long long)rec->seq, (unsigned long long)fd->seq);
		vs->problems++;
		goto out;
	} else if (rec->seq != fd->seq + 1) {
		printf("problem: record %zu (id %s): feed %s jumps from seq %llu to %llu\n",
		       idx + 1, sid, feedname, (unsigned long long)fd->seq,
		       (unsigned long long)rec->seq);
		vs->problems++;
	} else if (rec->prev.len != PROTO_ID_BYTES ||
	           memcmp(rec->prev.data, fd->last, PROTO_ID_BYTES)) {
		printf("problem: record %zu (id %s): feed %s seq %llu does not chain on the "
		       "record before it (prev hash differs)\n", idx + 1, sid, feedname,
		       (unsigned long long)rec->seq);
		vs->problems++;
	}
	fd->seq = rec->seq;
	memcpy(fd->last, id, PROTO_ID_BYTES);
	rc = 0;
out:
	agora__record__free_unpacked(rec, NULL);
	return rc;
}

static int bundle_verify(struct cli_ctx *ctx, const char *path)
{
	struct verify_state vs;
	struct cli_bundle_rec *recs = NULL;
	struct cli_progress prog;
	uint8_t *buf = NULL;
	size_t len = 0, n = 0;
	uint64_t now = cli_now_ms();
	int rc;

	memset(&vs, 0, sizeof(vs));
	rc = load_bundle(ctx, path, &buf, &len, &recs, &n);
	if (rc != CLI_EXIT_OK)
		return rc;
	printf("%s: %zu records, framing and checksum ok\n", path, n);
	cli_progress_start(&prog, ctx, "verifying", n);
	for (size_t i = 0; i < n; i++) {
		if (verify_one(&vs, &recs[i], i, now) < 0) {
			cli_progress_end(&prog);
			cli_error(ctx, "out of memory verifying %s", path);
			rc = CLI_EXIT_ERROR;
			goto out;
		}
		cli_progress_step(&prog, 1);
	}
	cli_progress_end(&prog);

	printf("signatures: %zu valid, %zu invalid\n", vs.valid, n - vs.valid);
	printf("alliances: %zu charter%s, feeds: %zu\n", vs.n_charters,
	       vs.n_charters == 1 ? "" : "s", vs.n_feeds);
	printf("by kind:\n");
	for (int k = 0; k <= PROTO_KIND_RETRACT; k++)
		if (vs.kinds[k])
			printf("  %-12s %zu\n", proto_kind_name((enum proto_kind)k) ?
			       proto_kind_name((enum proto_kind)k) : "?", vs.kinds[k]);
	printf("by author:\n");
	for (size_t i = 0; i < vs.n_authors; i++) {
		char k12[13];
		if (!vs.authors[i].n)
			continue;
		short_hex(k12, vs.authors[i].key);
		printf("  %s  %-30s %zu\n", k12, vs.authors[i].name ? vs.authors[i].name : "?",
		       vs.authors[i].n);
	}
	if (vs.problems) {
		printf("problems: %zu\n", vs.problems);
		cli_error(ctx, "bundle %s has %zu problem%s (see above)", path, vs.problems,
		          vs.problems == 1 ? "" : "s");
		rc = CLI_EXIT_INPUT;
	} else {
		printf("problems: none\n");
		rc = CLI_EXIT_OK;
	}
out:
	for (size_t i = 0; i < vs.n_authors; i++)
		free(vs.authors[i].name);
	free(vs.authors);
	free(vs.feeds);
	free(vs.charters);
	free(recs);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------- import */

static int bundle_import(struct cli_ctx *ctx, const char *path)
{
	struct cli_bundle_rec *recs = NULL;
	struct store_item *items = NULL;
	struct proto_error *errs = NULL;
	struct store_ingest_stats total;
	struct cli_progress prog;
	struct store *s = NULL;
	int *status = NULL;
	uint8_t *buf = NULL;
	size_t len = 0, n = 0;
	int rc, e;

	memset(&total, 0, sizeof(total));
	rc = load_bundle(ctx, path, &buf, &len, &recs, &n);
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = cli_store(ctx, false, &s);
	if (rc != CLI_EXIT_OK)
		goto out;
	items = calloc(BUNDLE_BATCH, sizeof(*items));
	status = calloc(BUNDLE_BATCH, sizeof(*status));
	errs = calloc(BUNDLE_BATCH, sizeof(*errs));
	if (!items || !status || !errs) {
		cli_error(ctx, "out of memory");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	cli_progress_start(&prog, ctx, "importing", n);
	for (size_t base = 0; base < n; base += BUNDLE_BATCH) {
		size_t m = n - base < BUNDLE_BATCH ? n - base : BUNDLE_BATCH;
		struct store_ingest_stats st;
		memset(&st, 0, sizeof(st));
		memset(errs, 0, m * sizeof(*errs));
		for (size_t i = 0; i < m; i++) {
			items[i].env = recs[base + i].env;
			items[i].len = recs[base + i].len;
		}
		e = store_ingest(s, items, m, 0, cli_now_ms(), status, errs, &st);
		if (e < 0) {
			cli_progress_end(&prog);
			cli_error(ctx, "import stopped after %zu of %zu records: %s", base, n,
			          store_strerror(e));
			rc = CLI_EXIT_ERROR;
			goto summary;
		}
		total.added += st.added;
		total.known += st.known;
		total.forks += st.forks;
		total.rejected += st.rejected;
		for (size_t i = 0; i < m; i++) {
			uint8_t id[PROTO_ID_BYTES];
			char sid[13];
			if (status[i] >= 0)
				continue;
			proto_record_id(id, items[i].env, items[i].len);
			short_hex(sid, id);
			if (errs[i].field[0] || errs[i].msg[0])
				printf("rejected: record %zu (id %s): %s: %s%s%s\n", base + i + 1, sid,
				       store_strerror(status[i]), errs[i].field,
				       errs[i].field[0] ? ": " : "", errs[i].msg);
			else
				printf("rejected: record %zu (id %s): %s\n", base + i + 1, sid,
				       store_strerror(status[i]));
		}
		cli_progress_step(&prog, m);
	}
	cli_progress_end(&prog);
	rc = CLI_EXIT_OK;
summary:
	printf("%zu new, %zu already known, %zu rejected", total.added, total.known,
	       total.rejected);
	if (total.forks)
		printf(", %zu kept as fork evidence", total.forks);
	printf("\n");
	if (rc == CLI_EXIT_OK && total.rejected) {
		cli_error(ctx, "%zu record%s of %s rejected (see above)", total.rejected,
		          total.rejected == 1 ? " was" : "s were", path);
		rc = CLI_EXIT_INPUT;
	}
out:
	free(items);
	free(status);
	free(errs);
	free(recs);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------- command */

int cli_cmd_bundle(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	const char *path = NULL;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(bundle_help, stdout);
			fputs(cli_filter_help, stdout);
			return CLI_EXIT_OK;
		}
	if (!sub) {
		cli_error(ctx, "bundle: say create, verify or import (see 'agora bundle --help')");
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(sub, "create"))
		return bundle_create(ctx, argc, argv);
	if (strcmp(sub, "verify") && strcmp(sub, "import")) {
		cli_error(ctx, "bundle: '%s' is not create, verify or import", sub);
		return CLI_EXIT_USAGE;
	}
	if (argc != 3 || argv[2][0] == '-') {
		cli_error(ctx, "bundle %s: give exactly one FILE (see 'agora bundle --help')", sub);
		return CLI_EXIT_USAGE;
	}
	path = argv[2];
	if (!strcmp(sub, "verify"))
		return bundle_verify(ctx, path);
	return bundle_import(ctx, path);
}
