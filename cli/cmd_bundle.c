/*
 * cmd_bundle.c - `agora bundle create|verify|import`: how a bundle is
 * checked without a store (verify) and how it is stored (import); create
 * is cmd_bundle_create.c, the file format bundle.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/attach_int.h"
#include "cli/bundle_int.h"
#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/home_int.h"
#include "cli/opt_int.h"
#include "cli/table_int.h"

/* ------------------------------------------------------------ reading */

/* A bundle file mapped into memory and parsed (bundles are checked whole
 * before anything is used; a mapping lets a bundle with large attachments
 * be read without holding it all in memory). */
struct loaded {
	uint8_t *map;               /* NULL for an empty file */
	size_t len;
	struct cli_bundle b;
};

static void unload(struct loaded *l)
{
	cli_bundle_dispose(&l->b);
	if (l->map)
		munmap(l->map, l->len);
	memset(l, 0, sizeof(*l));
}

/* Map FILE and check its framing; CLI_EXIT_* with the error printed. */
static int load_bundle(struct cli_ctx *ctx, const char *path, struct loaded *l)
{
	static const uint8_t empty[1];
	struct stat st;
	char msg[256];
	int fd, e;

	memset(l, 0, sizeof(*l));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cli_error(ctx, "cannot open %s: %s", path, strerror(errno));
		return errno == ENOENT ? CLI_EXIT_NOTFOUND : CLI_EXIT_ERROR;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		cli_error(ctx, "%s is not a regular file", path);
		close(fd);
		return CLI_EXIT_INPUT;
	}
	l->len = (size_t)st.st_size;
	if (l->len) {
		void *m = mmap(NULL, l->len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED) {
			cli_error(ctx, "cannot read %s: %s", path, strerror(errno));
			close(fd);
			return CLI_EXIT_ERROR;
		}
		l->map = m;
	}
	close(fd);
	e = cli_bundle_parse(&l->b, l->map ? l->map : empty, l->len, msg, sizeof(msg));
	if (e < 0) {
		cli_error(ctx, "bundle %s: %s; nothing was used", path, msg);
		unload(l);
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

/* ------------------------------------------------------- attachments */

struct listed {
	uint8_t hash[PROTO_HASH_BYTES];
	uint64_t size;
};

static int listed_cmp(const void *a, const void *b)
{
	const struct listed *x = a, *y = b;
	int c = memcmp(x->hash, y->hash, PROTO_HASH_BYTES);
	return c ? c : (x->size > y->size) - (x->size < y->size);
}

/*
 * Check that a record of the bundle lists each of its attachments, with
 * that size: a bundle may carry the files its records name, nothing else.
 * Prints a problem line per attachment that none lists; *missing gets the
 * number of files the records list that the bundle does not carry.
 * Returns the number of unlisted attachments, or -ENOMEM.
 */
static long blobs_unlisted(const struct cli_bundle *b, size_t *missing)
{
	struct listed *v = NULL;
	size_t n = 0, cap = 0;
	long bad = 0;

	for (size_t i = 0; i < b->n; i++) {
		Agora__Attachment *const *list;
		Agora__Record *rec = NULL;
		int k;
		if (proto_envelope_decode(&rec, b->recs[i].env, b->recs[i].len, NULL) < 0)
			continue;           /* its signature check says what is wrong */
		k = proto_record_attachments(&list, rec);
		for (int j = 0; j < k; j++) {
			void *nv = grow(v, &cap, n, sizeof(*v));
			if (!nv) {
				agora__record__free_unpacked(rec, NULL);
				free(v);
				return -ENOMEM;
			}
			v = nv;
			memcpy(v[n].hash, list[j]->hash.data, PROTO_HASH_BYTES);
			v[n++].size = list[j]->size;
		}
		agora__record__free_unpacked(rec, NULL);
	}
	if (n)
		qsort(v, n, sizeof(*v), listed_cmp);
	for (size_t i = 0; i < b->n_blobs; i++) {
		struct listed key;
		char hex[13];
		memcpy(key.hash, b->blobs[i].hash, PROTO_HASH_BYTES);
		key.size = b->blobs[i].size;
		if (n && bsearch(&key, v, n, sizeof(*v), listed_cmp))
			continue;
		short_hex(hex, b->blobs[i].hash);
		printf("problem: attachment %zu (hash %s, byte %zu) is not listed with its size "
		       "by any record of the bundle\n", i + 1, hex, b->blobs[i].offset);
		bad++;
	}
	/* distinct listed files the bundle does not carry */
	*missing = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && !memcmp(v[i].hash, v[i - 1].hash, PROTO_HASH_BYTES))
			continue;
		bool carried = false;
		for (size_t j = 0; j < b->n_blobs && !carried; j++)
			carried = !memcmp(b->blobs[j].hash, v[i].hash, PROTO_HASH_BYTES);
		*missing += !carried;
	}
	free(v);
	return bad;
}

/* Bytes of every attachment of the bundle. */
static uint64_t blobs_bytes(const struct cli_bundle *b)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < b->n_blobs; i++)
		sum += b->blobs[i].size;
	return sum;
}

/*
 * Put the bundle's attachments into the blob store (after its records were
 * stored): each is checked against its hash again on the way in.  Prints
 * one line; CLI_EXIT_*.
 */
static int blobs_store(struct cli_ctx *ctx, const struct cli_bundle *b)
{
	size_t added = 0, known = 0;

	for (size_t i = 0; i < b->n_blobs; i++) {
		const struct cli_bundle_blob *bl = &b->blobs[i];
		struct store_blob_in *in = NULL;
		int e;
		if (store_blob_stat(NULL, ctx->home, bl->hash) == 0) {
			known++;
			continue;
		}
		e = store_blob_in_new(&in, ctx->home, bl->hash, bl->size);
		for (uint64_t off = 0; e == 0 && off < bl->size; off += 1 << 20) {
			uint64_t k = bl->size - off < (1 << 20) ? bl->size - off : (1 << 20);
			e = store_blob_in_write(in, bl->data + off, (size_t)k);
		}
		if (e == 0) {
			e = store_blob_in_finish(NULL, in);
			in = NULL;
		}
		store_blob_in_free(in);
		if (e < 0) {
			printf("attachments: %zu stored, %zu already held\n", added, known);
			cli_error(ctx, "cannot store attachment %zu: %s; the records are stored, "
			          "and import the bundle again once this is fixed", i + 1,
			          store_strerror(e));
			return CLI_EXIT_ERROR;
		}
		added++;
	}
	printf("attachments: %zu stored, %zu already held\n", added, known);
	return CLI_EXIT_OK;
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
	struct cli_progress prog;
	struct loaded l;
	uint64_t now = cli_now_ms();
	size_t n, missing = 0;
	long unlisted;
	int rc;

	memset(&vs, 0, sizeof(vs));
	rc = load_bundle(ctx, path, &l);
	if (rc != CLI_EXIT_OK)
		return rc;
	n = l.b.n;
	if (l.b.n_blobs) {
		char size[32];
		cli_attach_size(size, sizeof(size), blobs_bytes(&l.b));
		printf("%s: %zu records and %zu attachments (%s), framing, checksum and the "
		       "attachments' hashes ok\n", path, n, l.b.n_blobs, size);
	} else {
		printf("%s: %zu records, framing and checksum ok\n", path, n);
	}
	cli_progress_start(&prog, ctx, "verifying", n);
	for (size_t i = 0; i < n; i++) {
		if (verify_one(&vs, &l.b.recs[i], i, now) < 0) {
			cli_progress_end(&prog);
			cli_error(ctx, "out of memory verifying %s", path);
			rc = CLI_EXIT_ERROR;
			goto out;
		}
		cli_progress_step(&prog, 1);
	}
	cli_progress_end(&prog);
	if ((unlisted = blobs_unlisted(&l.b, &missing)) < 0) {
		cli_error(ctx, "out of memory verifying %s", path);
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	vs.problems += (size_t)unlisted;
	if (missing)
		printf("note: the records list %zu file%s the bundle does not carry (import "
		       "shows %s as not fetched yet)\n", missing, missing == 1 ? "" : "s",
		       missing == 1 ? "it" : "them");

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
		char nb[512];
		printf("  %s  %s %zu\n", k12,
		       cli_table_padded(nb, sizeof(nb), vs.authors[i].name ? vs.authors[i].name : "?", 30),
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
	unload(&l);
	return rc;
}

/* ------------------------------------------------------------- import */

/* "rejected: record 7 (id 3f2a…): <why>", the why from proto when it has one. */
static void print_rejected(size_t i, const struct store_item *it, int code)
{
	struct proto_error err = { 0 };
	Agora__Record *rec = NULL;
	uint8_t id[PROTO_ID_BYTES];
	char sid[13];

	proto_record_id(id, it->env, it->len);
	short_hex(sid, id);
	/* The ingest kept no detail (a bundle may hold millions of records):
	 * open this one again to say which field.  proto codes are -1000..-1099. */
	if (code <= PROTO_E_TOO_BIG && code > -1100 &&
	    proto_envelope_open(&rec, it->env, it->len, cli_now_ms(), &err) == 0)
		agora__record__free_unpacked(rec, NULL);
	if (err.code == code && (err.field[0] || err.msg[0]))
		printf("rejected: record %zu (id %s): %s: %s%s%s\n", i + 1, sid,
		       store_strerror(code), err.field, err.field[0] ? ": " : "", err.msg);
	else
		printf("rejected: record %zu (id %s): %s\n", i + 1, sid, store_strerror(code));
}

/*
 * Store every record of the bundle in one write transaction, or none: a
 * bundle is one thing handed over, and exit status 3 promises that nothing
 * of bad input was stored (README, "Exit codes"), so one rejected record
 * (a forged signature, a revoked author) keeps all the others out too.
 */
static int bundle_import(struct cli_ctx *ctx, const char *path)
{
	struct store_item *items = NULL;
	struct store_ingest_stats st;
	struct store *s = NULL;
	struct loaded l;
	int *status = NULL;
	size_t n, rejected = 0, missing = 0;
	long unlisted;
	int rc, e;

	memset(&st, 0, sizeof(st));
	rc = load_bundle(ctx, path, &l);
	if (rc != CLI_EXIT_OK)
		return rc;
	n = l.b.n;
	if ((unlisted = blobs_unlisted(&l.b, &missing)) != 0) {
		if (unlisted < 0)
			cli_error(ctx, "out of memory");
		else
			cli_error(ctx, "%ld attachment%s of %s %s not listed by its records (see "
			          "above); nothing of it was stored", unlisted,
			          unlisted == 1 ? "" : "s", path, unlisted == 1 ? "is" : "are");
		rc = unlisted < 0 ? CLI_EXIT_ERROR : CLI_EXIT_INPUT;
		goto out;
	}
	rc = cli_store(ctx, false, &s);
	if (rc != CLI_EXIT_OK)
		goto out;
	items = calloc(n ? n : 1, sizeof(*items));
	status = calloc(n ? n : 1, sizeof(*status));
	if (!items || !status) {
		cli_error(ctx, "out of memory");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		items[i].env = l.b.recs[i].env;
		items[i].len = l.b.recs[i].len;
	}
	e = store_ingest(s, items, n, STORE_INGEST_ATOMIC, cli_now_ms(), status, NULL, &st);
	for (size_t i = 0; e < 0 && i < n; i++) {
		if (status[i] >= 0 || status[i] == STORE_E_ROLLBACK)
			continue;
		print_rejected(i, &items[i], status[i]);
		rejected++;
	}
	if (e < 0 && !rejected) {   /* the transaction itself failed */
		cli_error(ctx, "cannot import %s: %s; nothing was stored", path, store_strerror(e));
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	if (rejected) {
		printf("0 new, 0 already known, %zu rejected: nothing was stored\n", rejected);
		cli_error(ctx, "%zu record%s of %s rejected (see above); nothing of it was stored",
		          rejected, rejected == 1 ? " was" : "s were", path);
		rc = CLI_EXIT_INPUT;
		goto out;
	}
	printf("%zu new, %zu already known, 0 rejected", st.added, st.known);
	if (st.forks)
		printf(", %zu kept as fork evidence", st.forks);
	printf("\n");
	rc = l.b.n_blobs ? blobs_store(ctx, &l.b) : CLI_EXIT_OK;
out:
	free(items);
	free(status);
	unload(&l);
	return rc;
}

/* ------------------------------------------------------------- command */

static const struct cli_command verify_cmd = {
	.name = "bundle verify",
	.usage = "bundle verify FILE",
	.about = "Check FILE without touching the store: framing, trailer and checksum,\n"
	         "every signature, the hash chain of every feed, and that each attachment\n"
	         "matches its hash and is listed by a record; print counts per kind and\n"
	         "per author and every problem.  Exit status 3 when there is a problem.\n",
	.min_args = 1,
	.max_args = 1,
};

static const struct cli_command import_cmd = {
	.name = "bundle import",
	.usage = "bundle import FILE",
	.about = "Check FILE's framing and checksum, then verify and store its records\n"
	         "in one transaction: each is new or already known; if any is rejected\n"
	         "(each with the reason), or the file is damaged, nothing is stored and\n"
	         "the exit status is 3.  Then store the attachments it carries.\n",
	.min_args = 1,
	.max_args = 1,
};

static int cmd_verify(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *path;
	size_t n_args;
	int rc = cli_opt_parse(ctx, &verify_cmd, argc, argv, 2, NULL, &path, &n_args);

	return rc == CLI_EXIT_OK ? bundle_verify(ctx, path) : cli_opt_status(rc);
}

static int cmd_import(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *path;
	size_t n_args;
	int rc = cli_opt_parse(ctx, &import_cmd, argc, argv, 2, NULL, &path, &n_args);

	return rc == CLI_EXIT_OK ? bundle_import(ctx, path) : cli_opt_status(rc);
}

static const struct cli_sub bundle_subs[] = {
	{ "create", cli_bundle_create, &cli_bundle_create_cmd },
	{ "verify", cmd_verify, &verify_cmd },
	{ "import", cmd_import, &import_cmd },
	{ NULL, NULL, NULL },
};

static const struct cli_group bundle_group = {
	.name = "bundle",
	.about =
	"A bundle is one file of signed records, to carry an alliance's records\n"
	"without a network.  create writes one (with filters: the matching records\n"
	"and what they need to import on their own), verify checks one without\n"
	"storing anything, import stores one.\n"
	"\n"
	"File format (big-endian): \"AGORAB1\\n\"; per record a 4-byte length and\n"
	"the signed envelope; then 4 zero bytes, an 8-byte record count and the\n"
	"BLAKE2b-256 of everything before this trailer.  Charters come first, then\n"
	"each feed in seq order, feeds interleaved by creation time.  A bundle made\n"
	"with --attachments is \"AGORAB2\\n\": the files follow the records, and\n"
	"the trailer also counts them (PROTOCOL.md section 5).\n",
	.subs = bundle_subs,
};

int cli_cmd_bundle(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_group_run(ctx, &bundle_group, argc, argv);
}

