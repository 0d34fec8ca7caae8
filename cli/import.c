/*
 * import.c - `agora publish --file`: the records of a file (read by
 * import_read.c: JSON, JSON Lines, CSV, xlsx, a directory of CSV tables),
 * checked, compared with what this author already published, and stored in
 * one transaction (see import_int.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/alliance_int.h"
#include "cli/control_int.h"
#include "cli/home_int.h"
#include "cli/import_int.h"
#include "cli/json_int.h"
#include "cli/lang_int.h"
#include "cli/names_int.h"
#include "cli/sheet_int.h"

#define SKIPS_SHOWN 5           /* "already published" lines printed before a count */


/* "F:3", "F: row 5", "F: sheet measures, row 5", "F: record 4". */
static void where(char *buf, size_t cap, const struct import_item *it)
{
	if (it->sheet && it->in_book && it->sheet->name)
		snprintf(buf, cap, "%s: sheet %s, row %zu", it->file, it->sheet->name, it->row);
	else if (it->sheet)
		snprintf(buf, cap, "%s: row %zu", it->file, it->row);
	else if (it->line)
		snprintf(buf, cap, "%s:%zu", it->file, it->line);
	else
		snprintf(buf, cap, "%s: record %zu", it->file, it->index);
}

/* "F: row 5, column N (start_year): msg" for a field error of record it. */
static void field_error(struct cli_ctx *ctx, const struct import_item *it, const char *field,
                        const char *msg, const char *tail)
{
	char at[4200], letter[8];
	size_t fl = strlen(field), sector = 0;
	long col;

	/* Validation messages repeat the path: "measure.title: is required". */
	if (fl && !strncmp(msg, field, fl) && msg[fl] == ':')
		msg += fl + 1 + (msg[fl + 1] == ' ');
	if (it->sheet && (col = sheet_column_of(it->sheet, field, &sector)) >= 0) {
		struct import_item at_row = *it;
		if (sector < it->nrows)
			at_row.row = it->row + sector;
		where(at, sizeof(at), &at_row);
		sheet_col_letter(letter, (size_t)col);
		cli_error(ctx, "%s, column %s (%s): %s%s", at, letter, it->sheet->rows[0].cells[col],
		          msg, tail);
		return;
	}
	where(at, sizeof(at), it);
	cli_error(ctx, "%s: %s%s%s%s", at, field, field[0] ? ": " : "", msg, tail);
}


/* ---------------------------------------------- what we published already */

/* A record's content: its kind and body bytes, without time or signature. */
struct content {
	uint8_t hash[32];
	uint8_t id[PROTO_ID_BYTES];  /* the stored record that has it */
};

static int content_hash(uint8_t out[32], const Agora__Record *rec)
{
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind = proto_record_content(rec, &msg);
	crypto_generichash_state h;
	uint8_t k[4] = { (uint8_t)kind, (uint8_t)(kind >> 8), 0, 0 }, *buf;
	size_t len;

	if (!msg)
		return -EINVAL;
	len = protobuf_c_message_get_packed_size(msg);
	if (!(buf = malloc(len ? len : 1)))
		return -ENOMEM;
	protobuf_c_message_pack(msg, buf);
	crypto_generichash_init(&h, NULL, 0, 32);
	crypto_generichash_update(&h, k, sizeof(k));
	crypto_generichash_update(&h, buf, len);
	crypto_generichash_final(&h, out, 32);
	free(buf);
	return 0;
}

static int content_cmp(const void *a, const void *b)
{
	return memcmp(((const struct content *)a)->hash, ((const struct content *)b)->hash, 32);
}

/*
 * The content of every record in this author's feed of the alliance that is
 * not retracted, sorted by hash.  One pass over the feed: a municipality
 * publishes thousands of records, not millions, so this costs milliseconds
 * and needs no index kept beside the feed.
 */
static int own_contents(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                        const uint8_t pk[PROTO_KEY_BYTES], struct content **out, size_t *n_out)
{
	struct content *v = NULL;
	uint8_t head_id[PROTO_ID_BYTES];
	uint64_t head = 0;
	size_t n = 0;
	int rc;

	if ((rc = store_feed_head(t, alliance, pk, &head, head_id)) < 0)
		return rc;
	if (head && !(v = calloc((size_t)head, sizeof(*v))))
		return -ENOMEM;
	for (uint64_t seq = 1; seq <= head; seq++) {
		struct store_record sr;
		Agora__Record *rec = NULL;
		if (store_feed_get(t, alliance, pk, seq, &sr) < 0 || sr.retracted || sr.withdrawn)
			continue;
		if (proto_envelope_decode(&rec, sr.env, sr.env_len, NULL) < 0)
			continue;
		if (content_hash(v[n].hash, rec) == 0) {
			memcpy(v[n].id, sr.id, PROTO_ID_BYTES);
			n++;
		}
		agora__record__free_unpacked(rec, NULL);
	}
	if (n)
		qsort(v, n, sizeof(*v), content_cmp);
	*out = v;
	*n_out = n;
	return 0;
}

/* The content a new record's supersede target has now (its newest version). */
static bool same_as_target(struct store_txn *t, const Agora__Record *rec, const uint8_t hash[32],
                           uint8_t id_out[PROTO_ID_BYTES])
{
	struct store_record sr, newest;
	Agora__Record *old = NULL;
	uint8_t h[32];
	bool same = false;

	if (rec->body_case != AGORA__RECORD__BODY_SUPERSEDE || !rec->supersede ||
	    rec->supersede->target.len != PROTO_ID_BYTES ||
	    store_get(t, rec->supersede->target.data, &sr) < 0 ||
	    store_get(t, sr.newest, &newest) < 0 ||
	    proto_envelope_decode(&old, newest.env, newest.env_len, NULL) < 0)
		return false;
	if (content_hash(h, old) == 0 && !memcmp(h, hash, 32)) {
		memcpy(id_out, newest.id, PROTO_ID_BYTES);
		same = true;
	}
	agora__record__free_unpacked(old, NULL);
	return same;
}

/* -------------------------------------------------- whose records these are */

static bool hex_id(uint8_t id[PROTO_ID_BYTES], const char *s)
{
	if (!s || strlen(s) != PROTO_ID_HEX)
		return false;
	for (size_t i = 0; i < PROTO_ID_BYTES; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1 || !isxdigit((unsigned char)s[2 * i]) ||
		    !isxdigit((unsigned char)s[2 * i + 1]))
			return false;
		id[i] = (uint8_t)v;
	}
	return true;
}

static bool is_profile(json_t *obj)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	return kind && proto_kind_parse(kind) == PROTO_KIND_PROFILE;
}

/* Whose is an item?  0 ours or new, 1 another author's (why in `why`). */

static int foreign(struct store_txn *t, json_t *obj, const uint8_t pk[PROTO_KEY_BYTES],
                   const char *my_name, struct cli_names *names, char *why, size_t cap,
                   bool *own_id, uint8_t own[PROTO_ID_BYTES])
{
	const char *id = json_string_value(json_object_get(obj, "id"));
	const char *muni = json_string_value(json_object_get(obj, "municipality"));
	const char *author = json_string_value(json_object_get(obj, "author"));
	char pkhex[PROTO_KEY_BYTES * 2 + 1];
	uint8_t rid[PROTO_ID_BYTES];

	*own_id = false;
	proto_hex(pkhex, pk, PROTO_KEY_BYTES);
	if (author && strcasecmp(author, pkhex)) {
		snprintf(why, cap, "it is signed by another author (%.16s...)", author);
		return 1;
	}
	if (id && hex_id(rid, id)) {
		struct store_record sr;
		Agora__Record *rec = NULL;
		bool mine = false;
		if (store_get(t, rid, &sr) == 0 &&
		    proto_envelope_decode(&rec, sr.env, sr.env_len, NULL) == 0) {
			mine = rec->author.len == PROTO_KEY_BYTES &&
			       !memcmp(rec->author.data, pk, PROTO_KEY_BYTES);
			if (!mine) {
				const char *who = rec->author.len == PROTO_KEY_BYTES ?
					cli_names_name(names, rec->author.data) : NULL;
				snprintf(why, cap, "its id %.12s... is a record of %s", id,
				         who ? who : "another author");
			}
			agora__record__free_unpacked(rec, NULL);
			if (!mine)
				return 1;
			*own_id = !sr.retracted;
			memcpy(own, rid, PROTO_ID_BYTES);
		} else {
			snprintf(why, cap, "its id %.12s... is not a record of this node", id);
			return 1;
		}
	}
	if (muni && my_name && strcmp(muni, my_name)) {
		snprintf(why, cap, "its municipality is %s, not %s", muni, my_name);
		return 1;
	}
	/* A new profile row names the municipality it describes: publishing
	 * one with another name would rename this node. */
	if (!*own_id && is_profile(obj) && (muni = json_string_value(json_object_get(obj, "name"))) &&
	    my_name && strcmp(muni, my_name)) {
		snprintf(why, cap, "it is the profile of %s, not of %s", muni, my_name);
		return 1;
	}
	return 0;
}

/*
 * A row of one of our own records: its newest version with the row's
 * values over it, as an edit of it (so columns a table does not show, a
 * description or translations, are kept).  Replaces *objp.
 */
static int merge_own(struct store_txn *t, json_t **objp, const uint8_t id[PROTO_ID_BYTES])
{
	struct store_record sr, newest;
	Agora__Record *rec = NULL;
	json_t *base, *v, *obj = *objp;
	const char *key;
	char hex[PROTO_ID_HEX + 1];

	if (store_get(t, id, &sr) < 0 || store_get(t, sr.newest, &newest) < 0 ||
	    proto_envelope_decode(&rec, newest.env, newest.env_len, NULL) < 0)
		return -EIO;
	base = json_from_record(rec, newest.id, NULL);
	agora__record__free_unpacked(rec, NULL);
	if (!base)
		return -ENOMEM;
	/* Output-only keys of the stored version go; json_to_record reads the rest. */
	json_object_del(base, "supersedes");
	json_object_del(base, "alliance");
	json_object_foreach(obj, key, v) {
		if (!strcmp(key, "id") || !strcmp(key, "supersedes"))
			continue;
		if (json_is_null(v))
			json_object_del(base, key);
		else if (json_object_set(base, key, v) < 0)
			goto oom;
	}
	proto_hex(hex, newest.id, PROTO_ID_BYTES);
	if (json_object_set_new(base, "supersedes", json_string(hex)) < 0)
		goto oom;
	json_decref(obj);
	*objp = base;
	return 0;
oom:
	json_decref(base);
	return -ENOMEM;
}

/* Ids a row cites ("measure", "measures", "target") that name a record of
 * the same file become "@id", so they follow it to its new id. */
static int cite_file_ids(json_t *obj, json_t *ids)
{
	static const char *const keys[] = { "measure", "measures", "target" };

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		json_t *v = json_object_get(obj, keys[k]);
		json_t *one[1] = { v };
		json_t **vals = json_is_array(v) ? NULL : one;
		size_t n = json_is_array(v) ? json_array_size(v) : 1;
		for (size_t i = 0; v && i < n; i++) {
			json_t *e = vals ? vals[i] : json_array_get(v, i);
			char at[PROTO_ID_HEX + 2];
			const char *s = json_string_value(e);
			if (!s || strlen(s) != PROTO_ID_HEX || !json_object_get(ids, s))
				continue;
			snprintf(at, sizeof(at), "@%s", s);
			if (json_string_set(e, at) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/*
 * An export lists records newest first, so a lesson may come before the
 * measure it cites.  Records that carry ids (an export) are published in
 * the order of the tables, every kind after the kinds it can cite, keeping
 * the file's order within a kind; a file written by hand keeps its order.
 */
static int kind_rank(const struct import_item *it)
{
	enum proto_kind k = proto_kind_parse(json_string_value(json_object_get(it->obj, "kind")) ?
	                                     json_string_value(json_object_get(it->obj, "kind")) : "");
	for (size_t i = 0; i < sheet_n_kinds; i++)
		if (sheet_kinds[i].kind == k)
			return (int)i;
	return (int)sheet_n_kinds;
}

static int table_order(const void *a, const void *b)
{
	const struct import_item *x = a, *y = b;
	int rx = kind_rank(x), ry = kind_rank(y);

	if (rx != ry)
		return rx < ry ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void order_export(struct import_set *im)
{
	for (size_t k = 0; k < im->n; k++)
		if (json_is_object(im->items[k].obj) && json_object_get(im->items[k].obj, "id")) {
			qsort(im->items, im->n, sizeof(*im->items), table_order);
			return;
		}
}

/* ------------------------------------------------------------ publishing */

struct batch {
	struct json_refs *refs;
	struct cli_progress progress;
	const size_t *built;        /* batch index -> index json_to_record gave it */
	uint8_t (*full)[PROTO_ID_BYTES];  /* ids by built index (skipped: the stored one) */
	size_t filled;              /* batch ids copied into full so far */
};

static int prepare_cb(Agora__Record *rec, size_t i, const uint8_t (*ids_so_far)[PROTO_ID_BYTES],
                      void *user)
{
	struct batch *b = user;
	int rc;

	for (; b->filled < i; b->filled++)
		memcpy(b->full[b->built[b->filled]], ids_so_far[b->filled], PROTO_ID_BYTES);
	rc = json_refs_patch(b->refs, rec, b->built[i], (const uint8_t (*)[PROTO_ID_BYTES])b->full);
	cli_progress_step(&b->progress, 1);
	return rc;
}

/* The alliance the file's records name (all the same), else --alliance or the default. */
static int file_alliance(struct import_set *im, const char *opt_alliance, struct store_txn *t,
                         uint8_t alliance[PROTO_ID_BYTES])
{
	char at[4200];
	bool have = false;
	uint8_t aid[PROTO_ID_BYTES];
	int ret;

	for (size_t k = 0; k < im->n && !opt_alliance; k++) {
		json_t *v = json_object_get(im->items[k].obj, "alliance");
		if (!v || json_is_null(v))
			continue;
		where(at, sizeof(at), &im->items[k]);
		if (!json_is_string(v)) {
			cli_error(im->ctx, "%s: alliance: must be an alliance name or id in quotes", at);
			return CLI_EXIT_INPUT;
		}
		if (cli_alliance(im->ctx, t, json_string_value(v), aid) != CLI_EXIT_OK) {
			cli_error(im->ctx, "%s: alliance: '%s' is not an alliance of this node", at,
			          json_string_value(v));
			return CLI_EXIT_INPUT;
		}
		if (have && memcmp(aid, alliance, PROTO_ID_BYTES)) {
			cli_error(im->ctx, "%s: alliance: all records of one file must belong to one "
			          "alliance (split the file)", at);
			return CLI_EXIT_INPUT;
		}
		memcpy(alliance, aid, PROTO_ID_BYTES);
		have = true;
	}
	if (have)
		return CLI_EXIT_OK;
	ret = cli_alliance(im->ctx, t, opt_alliance, aid);
	if (ret == CLI_EXIT_OK)
		memcpy(alliance, aid, PROTO_ID_BYTES);
	return ret;
}

static void say_skipped(struct cli_ctx *ctx, char lines[][320], size_t skipped)
{
	for (size_t k = 0; k < skipped && k < SKIPS_SHOWN; k++)
		fputs(lines[k], stderr);
	if (skipped > SKIPS_SHOWN)
		fprintf(stderr, "%s: ... and %zu more already published\n", ctx->prog,
		        skipped - SKIPS_SHOWN);
}


int cli_import_file(struct cli_ctx *ctx, const struct cli_import_opts *o)
{
	struct import_set im = { .ctx = ctx };
	struct batch b = { 0 };
	struct store_txn *t = NULL;
	struct store *s;
	struct proto_key *key;
	struct proto_error err = { 0 };
	struct cli_names *names = NULL;
	struct content *mine = NULL;
	struct import_item **of = NULL;
	Agora__Record **all = NULL, **list = NULL;
	uint8_t (*ids)[PROTO_ID_BYTES] = NULL, alliance[PROTO_ID_BYTES];
	uint8_t pk[PROTO_KEY_BYTES];
	size_t *built = NULL, n_mine = 0, n = 0, n_built = 0, failed = 0, skipped = 0, edits = 0;
	json_t *file_ids = NULL;
	bool *own_id = NULL, *not_ours = NULL;
	size_t n_profiles = 0;      /* another municipality's profile rows, left out */
	char profile_at[520];
	const char *my_name;
	char at[4200], why[300], skip_lines[SKIPS_SHOWN][320];
	int ret = CLI_EXIT_ERROR, rc;

	if ((ret = import_read(&im, o->file)) != CLI_EXIT_OK)
		goto out;
	order_export(&im);
	ret = CLI_EXIT_ERROR;
	if (!im.n) {
		cli_error(ctx, "%s holds no records", o->file);
		ret = CLI_EXIT_INPUT;
		goto out;
	}
	if ((ret = cli_public_key(ctx, o->passphrase_file, pk)) != CLI_EXIT_OK ||
	    (ret = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK)
		goto out;
	ret = CLI_EXIT_ERROR;
	if (!(names = cli_names_new(t)) || cli_names_load(names) < 0 ||
	    !(b.refs = json_refs_new(t)) || !(file_ids = json_object()) ||
	    !(all = calloc(im.n, sizeof(*all))) || !(list = calloc(im.n, sizeof(*list))) ||
	    !(of = calloc(im.n, sizeof(*of))) || !(built = calloc(im.n, sizeof(*built))) ||
	    !(ids = calloc(im.n, sizeof(*ids))) || !(b.full = calloc(im.n, sizeof(*b.full))) ||
	    !(own_id = calloc(im.n, sizeof(*own_id))) ||
	    !(not_ours = calloc(im.n, sizeof(*not_ours)))) {
		cli_error(ctx, "out of memory");
		goto out;
	}
	my_name = cli_names_name(names, pk);

	/* Whose records these are, before anything is built. */
	size_t n_foreign = 0;
	for (size_t k = 0; k < im.n; k++) {
		struct import_item *it = &im.items[k];
		uint8_t rid[PROTO_ID_BYTES];
		const char *id;
		if (!json_is_object(it->obj))
			continue;   /* json_to_record says so below */
		if (foreign(t, it->obj, pk, my_name, names, why, sizeof(why), &own_id[k], rid)) {
			if (!o->as_mine && n_foreign++ == 0) {
				where(at, sizeof(at), it);
				cli_error(ctx, "%s: this record is another municipality's: %s.  Publishing "
				          "it signs it as yours: give --as-mine if that is what you mean "
				          "(nothing was stored)", at, why);
			}
			/* Another node's alliance id means nothing here: --as-mine
			 * records go to this node's (--alliance or the default). */
			json_object_del(it->obj, "alliance");
			/* An edit of another author's record is a new record of ours. */
			json_object_del(it->obj, "supersedes");
			/* --as-mine makes another municipality's measures ours, never
			 * its profile: that would rename this node after it. */
			if (o->as_mine && is_profile(it->obj)) {
				const char *nm = json_string_value(json_object_get(it->obj, "name"));
				if (!n_profiles++) {
					where(at, sizeof(at), it);
					snprintf(profile_at, sizeof(profile_at), "%.300s (%.200s)", at,
					         nm ? nm : "another municipality");
				}
				not_ours[k] = true;
				continue;
			}
			own_id[k] = false;
		}
		/* Ids of records new here are followed to their new ids; an id of
		 * one of our records stays, whether or not its row changes it. */
		if (!own_id[k] && (id = json_string_value(json_object_get(it->obj, "id"))) &&
		    strlen(id) == PROTO_ID_HEX && json_object_set_new(file_ids, id, json_true()) < 0) {
			cli_error(ctx, "out of memory");
			goto out;
		}
	}
	if (n_foreign) {
		if (n_foreign > 1)
			cli_error(ctx, "%zu records of %s are another author's", n_foreign, o->file);
		ret = CLI_EXIT_INPUT;
		goto out;
	}
	if (n_profiles) {
		char more[64] = "";
		if (n_profiles > 1)
			snprintf(more, sizeof(more), " and %zu more profile row%s", n_profiles - 1,
			         n_profiles > 2 ? "s" : "");
		fprintf(stderr, "%s: %s%s: left out: --as-mine publishes another municipality's "
		        "records as yours, never its profile (this node keeps its own)\n", ctx->prog,
		        profile_at, more);
	}
	if ((ret = file_alliance(&im, o->alliance, t, alliance)) != CLI_EXIT_OK)
		goto out;
	if (!o->again && (rc = own_contents(t, alliance, pk, &mine, &n_mine)) < 0) {
		cli_error(ctx, "cannot read this node's records: %s", store_strerror(rc));
		ret = CLI_EXIT_ERROR;
		goto out;
	}

	cli_progress_start(&b.progress, ctx, "reading", im.n);
	for (size_t k = 0; k < im.n; k++) {
		struct import_item *it = &im.items[k];
		const char *ref = NULL, *id;
		uint8_t hash[32], existing[PROTO_ID_BYTES], rid[PROTO_ID_BYTES];
		bool skip = false;

		if (not_ours[k]) {
			json_refs_skip(b.refs);   /* later rows' "@ref"s count rows */
			continue;
		}
		id = json_is_object(it->obj) ? json_string_value(json_object_get(it->obj, "id")) : NULL;
		if (own_id[k] && hex_id(rid, id) && (rc = merge_own(t, &it->obj, rid)) < 0) {
			cli_progress_end(&b.progress);
			cli_error(ctx, "cannot read record %s: %s", id, rc == -ENOMEM ? "out of memory" :
			          "damaged in the store");
			goto out;
		}
		/* The row's own id is its label: later rows citing it follow it. */
		id = json_is_object(it->obj) ? json_string_value(json_object_get(it->obj, "id")) : NULL;
		if (id && !own_id[k] && !json_object_get(it->obj, "ref") && strlen(id) == PROTO_ID_HEX &&
		    json_object_set_new(it->obj, "ref", json_string(id)) < 0)
			goto oom;
		if (json_is_object(it->obj) && cite_file_ids(it->obj, file_ids) < 0)
			goto oom;
		rc = json_to_record(&all[k], &ref, NULL, it->obj, b.refs, &err);
		if (rc == 0) {
			const ProtobufCMessage *body = NULL;
			n_built = k + 1;    /* all[k] is ours to free from here */
			proto_record_content(all[k], &body);
			rc = cli_lang_check(body, &err);
		}
		if (rc < 0) {
			cli_progress_end(&b.progress);
			field_error(ctx, it, err.field, err.msg, " (nothing of the file was stored)");
			ret = rc == PROTO_E_NOMEM ? CLI_EXIT_ERROR : CLI_EXIT_INPUT;
			goto out;
		}
		cli_progress_step(&b.progress, 1);
		if (!o->again && content_hash(hash, all[k]) == 0) {
			struct content probe, *hit;
			memcpy(probe.hash, hash, 32);
			if (all[k]->body_case == AGORA__RECORD__BODY_SUPERSEDE) {
				skip = same_as_target(t, all[k], hash, existing);
			} else if (n_mine && (hit = bsearch(&probe, mine, n_mine, sizeof(*mine), content_cmp))) {
				memcpy(existing, hit->id, PROTO_ID_BYTES);
				skip = true;
			}
		}
		if (skip) {
			char hex[PROTO_ID_HEX + 1];
			if (ref && json_refs_add(b.refs, ref, existing) < 0)
				goto oom;
			memcpy(b.full[k], existing, PROTO_ID_BYTES);
			if (skipped < SKIPS_SHOWN) {
				/* Said once the file is through: an error below is the one line. */
				where(at, sizeof(at), it);
				proto_hex(hex, existing, PROTO_ID_BYTES);
				snprintf(skip_lines[skipped], sizeof(skip_lines[0]), "%s: %.200s: already "
				         "published as %.12s (unchanged; --again publishes it again)\n",
				         ctx->prog, at, hex);
			}
			skipped++;
			continue;
		}
		edits += all[k]->body_case == AGORA__RECORD__BODY_SUPERSEDE;
		list[n] = all[k];
		of[n] = it;
		built[n++] = k;
	}
	cli_progress_end(&b.progress);
	store_txn_end(t);
	t = NULL;
	if (!n && !skipped) {
		fprintf(ctx->tty_out ? stdout : stderr, "nothing published: %s holds no records "
		        "to publish as yours\n", o->file);
		ret = CLI_EXIT_OK;
		goto out;
	}
	if (!n) {
		say_skipped(ctx, skip_lines, skipped);
		fprintf(ctx->tty_out ? stdout : stderr, "nothing new: the %zu record%s of %s %s "
		        "already published\n", skipped, skipped == 1 ? "" : "s", o->file,
		        skipped == 1 ? "is" : "are");
		ret = CLI_EXIT_OK;
		goto out;
	}
	if ((ret = cli_key(ctx, o->passphrase_file, &key)) != CLI_EXIT_OK)
		goto out;
	b.built = built;
	cli_progress_start(&b.progress, ctx, "signing", n);
	rc = store_publish_batch(s, key, alliance, list, n, cli_now_ms(), prepare_cb, &b, ids,
	                         &failed, &err);
	cli_progress_end(&b.progress);
	if (rc < 0) {
		if (failed < n && (rc == PROTO_E_FIELD || rc == PROTO_E_KIND)) {
			field_error(ctx, of[failed], err.field, err.msg, " (nothing of the file was stored)");
			ret = CLI_EXIT_INPUT;
		} else if (failed < n) {
			where(at, sizeof(at), of[failed]);
			fprintf(stderr, "%s: %s: nothing of the file was stored:\n", ctx->prog, at);
			ret = cli_publish_error(ctx, rc, &err);
		} else {
			ret = cli_publish_error(ctx, rc, &err);
		}
		goto out;
	}
	cli_control_poke(ctx);
	say_skipped(ctx, skip_lines, skipped);
	/* Scripts get the new ids, one per line; people get one summary line. */
	for (size_t k = 0; !ctx->tty_out && k < n; k++) {
		char hex[PROTO_ID_HEX + 1];
		proto_hex(hex, ids[k], PROTO_ID_BYTES);
		printf("%s\n", hex);
	}
	fprintf(ctx->tty_out ? stdout : stderr, "published %zu record%s from %s", n,
	        n == 1 ? "" : "s", o->file);
	if (edits)
		fprintf(ctx->tty_out ? stdout : stderr, " (%zu as new version%s of earlier records)",
		        edits, edits == 1 ? "" : "s");
	if (skipped)
		fprintf(ctx->tty_out ? stdout : stderr, "; %zu already published", skipped);
	fputc('\n', ctx->tty_out ? stdout : stderr);
	ret = CLI_EXIT_OK;
	goto out;
oom:
	cli_progress_end(&b.progress);
	cli_error(ctx, "out of memory");
	ret = CLI_EXIT_ERROR;
out:
	store_txn_end(t);
	for (size_t k = 0; all && k < n_built; k++)
		json_record_free(all[k]);
	free(all);
	free(list);
	free(of);
	free(built);
	free(ids);
	free(b.full);
	free(own_id);
	free(not_ours);
	free(mine);
	json_decref(file_ids);
	json_refs_free(b.refs);
	cli_names_free(names);
	import_set_dispose(&im);
	return ret;
}
