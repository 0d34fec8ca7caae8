/*
 * cmd_recover.c - `agora recover`: this node's own feed after a restore.
 *
 * A store restored from a backup is behind what the alliance holds of this
 * node's own feed.  A record published on it (agorad stopped) takes a seq
 * the partners already hold with another record: storage finds the
 * conflict when agorad next hears the alliance's copy (store_set_own_key)
 * and refuses to publish there.  This command takes the conflicting
 * records back out of the feed (store_own_withdraw), keeps them in a JSON
 * Lines file, waits for agorad to learn the alliance's copy back (the
 * floor), and publishes their content again after it.  The records are
 * never sent to anyone: nobody sees this node sign two histories.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/alliance_int.h"
#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/control_int.h"
#include "cli/home_int.h"
#include "cli/json_int.h"
#include "cli/opt_int.h"

struct recover_opts {
	const char *alliance;
	const char *wait;
	bool no_reissue;
	bool forget_floor;
	const char *passphrase_file;
};

static const struct cli_opt recover_opts[] = {
	CLI_STR("--alliance", "NAME|ID", "only this alliance (default: every one with a conflict)",
	        struct recover_opts, alliance),
	CLI_STR("--wait", "SECONDS", "how long to wait for agorad to learn the feed back\n"
	        "before publishing again (default 60)", struct recover_opts, wait),
	CLI_FLAG("--no-reissue", "only take the records out; publish them yourself later\n"
	         "with `agora publish --file` (the file is named)", struct recover_opts,
	         no_reissue),
	CLI_FLAG("--forget-floor", "publish again although a partner once showed a newer\n"
	         "record of this key that no partner holds any more (a lost\n"
	         "record: use only when `agora status` has waited for days)",
	         struct recover_opts, forget_floor),
	CLI_STR("--passphrase-file", "FILE", "the passphrase of an encrypted identity.key",
	        struct recover_opts, passphrase_file),
	CLI_OPT_END,
};

static const struct cli_command recover_cmd = {
	.name = "recover",
	.usage = "recover [--alliance NAME|ID] [--wait SECONDS] [--no-reissue] [--forget-floor]",
	.about = "After a restore from a backup: takes the records this node published on the\n"
	         "restored store, which conflict with what the alliance holds of its own\n"
	         "feed, back out of the feed (they were never sent), keeps them in a file,\n"
	         "waits for agorad to learn the alliance's copy back and publishes them\n"
	         "again after it.  `agora status` says when this is needed.\n",
	.groups = { { "options", recover_opts, 0 } },
};

/* ------------------------------------------------------------ the work */

struct withdrawn {
	Agora__Record **recs;         /* their content, to publish again */
	uint8_t (*ids)[PROTO_ID_BYTES];
	size_t n, cap;
	FILE *file;                   /* JSON Lines, as `agora export` writes */
	int err;
};

static int withdrawn_cb(const struct store_record *r, void *ctx)
{
	struct withdrawn *w = ctx;
	Agora__Record *rec = NULL;
	if (proto_envelope_decode(&rec, r->env, r->env_len, NULL))
		return w->err = STORE_E_CORRUPT;
	json_t *j = json_from_record(rec, r->id, NULL);
	if (j) {
		json_dumpf(j, w->file, JSON_COMPACT);
		fputc('\n', w->file);
		json_decref(j);
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 8;
		void *a = realloc(w->recs, cap * sizeof(*w->recs));
		if (a)
			w->recs = a;
		void *b = realloc(w->ids, cap * sizeof(*w->ids));
		if (b)
			w->ids = b;
		if (!a || !b) {
			agora__record__free_unpacked(rec, NULL);
			return w->err = -ENOMEM;
		}
		w->cap = cap;
	}
	memcpy(w->ids[w->n], r->id, PROTO_ID_BYTES);
	w->recs[w->n++] = rec;
	return 0;
}

static void withdrawn_free(struct withdrawn *w)
{
	for (size_t i = 0; i < w->n; i++)
		agora__record__free_unpacked(w->recs[i], NULL);
	free(w->recs);
	free(w->ids);
}

/* Publishing again: a reference to a withdrawn record (an amendment of
 * one, a result of a withdrawn measure) points at its new version. */
struct reissue {
	struct withdrawn *w;
};

static void repoint(ProtobufCBinaryData *ref, const struct withdrawn *w,
                    const uint8_t (*ids_so_far)[PROTO_ID_BYTES], size_t i)
{
	if (ref->len != PROTO_ID_BYTES)
		return;
	for (size_t k = 0; k < i; k++)
		if (!memcmp(ref->data, w->ids[k], PROTO_ID_BYTES))
			memcpy(ref->data, ids_so_far[k], PROTO_ID_BYTES);
}

static int prepare_cb(Agora__Record *rec, size_t i, const uint8_t (*ids_so_far)[PROTO_ID_BYTES],
                      void *ctx)
{
	struct reissue *r = ctx;
	switch (rec->body_case) {
	case AGORA__RECORD__BODY_SUPERSEDE:
		repoint(&rec->supersede->target, r->w, ids_so_far, i);
		break;
	case AGORA__RECORD__BODY_RETRACT:
		repoint(&rec->retract->target, r->w, ids_so_far, i);
		break;
	case AGORA__RECORD__BODY_RESULT:
		repoint(&rec->result->measure, r->w, ids_so_far, i);
		break;
	case AGORA__RECORD__BODY_ENDORSEMENT:
		repoint(&rec->endorsement->target, r->w, ids_so_far, i);
		break;
	case AGORA__RECORD__BODY_LESSON:
		for (size_t k = 0; k < rec->lesson->n_measures; k++)
			repoint(&rec->lesson->measures[k], r->w, ids_so_far, i);
		break;
	default:
		break;
	}
	return 0;
}

/* The header a store_publish fills in again. */
static void clear_header(Agora__Record *rec)
{
	rec->has_alliance = rec->has_author = rec->has_seq = rec->has_prev = false;
	rec->has_created_ms = false;
}

/* Own head and floor of alliance, from a fresh snapshot. */
static int own_state(struct store *s, const uint8_t alliance[PROTO_ID_BYTES],
                     const uint8_t pk[PROTO_KEY_BYTES], uint64_t *head, uint64_t *floor)
{
	struct store_txn *t;
	uint8_t id[PROTO_ID_BYTES];
	int rc = store_txn_begin(s, &t);
	if (rc)
		return rc;
	if ((rc = store_feed_head(t, alliance, pk, head, id)) == STORE_E_NOTFOUND) {
		*head = 0;
		rc = 0;
	}
	if (!rc)
		rc = store_floor_get(t, alliance, pk, floor);
	store_txn_end(t);
	return rc;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Wait until agorad has learnt the feed back up to its floor, and at
 * least to `known` (the conflict seq: the alliance holds a record there).
 * true if so. */
static bool wait_learnt(struct cli_ctx *ctx, struct store *s, const uint8_t alliance[32],
                        const uint8_t pk[32], uint64_t known, unsigned seconds,
                        uint64_t *head_out)
{
	uint64_t head = 0, floor = 0;
	struct cli_progress p;
	bool ok = false;
	cli_progress_start(&p, ctx, "waiting for agorad to learn this node's feed back", seconds);
	for (unsigned waited = 0; waited <= seconds * 5; waited++) {
		if (own_state(s, alliance, pk, &head, &floor) == 0 && head >= floor && head >= known) {
			ok = true;
			break;
		}
		if (waited % 5 == 0)
			cli_progress_step(&p, 1);
		sleep_ms(200);
	}
	cli_progress_end(&p);
	*head_out = head;
	return ok;
}

static int recover_one(struct cli_ctx *ctx, const struct recover_opts *o, struct store *s,
                       struct proto_key *key, const uint8_t alliance[32], const char *label,
                       uint64_t conflict_seq, unsigned wait_s)
{
	struct withdrawn w = { 0 };
	char path[4300], stamp[32];
	time_t now = time(NULL);
	size_t n = 0;
	int rc, ret = CLI_EXIT_ERROR;

	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
	snprintf(path, sizeof(path), "%s/recovered-%s-%.8s.jsonl", ctx->home, stamp, label);
	if (!(w.file = fopen(path, "wx"))) {
		cli_error(ctx, "cannot write %s: %s", path, strerror(errno));
		return CLI_EXIT_ERROR;
	}
	rc = store_own_withdraw(s, alliance, withdrawn_cb, &w, &n);
	if (fclose(w.file) != 0 && !rc)
		rc = -EIO;
	w.file = NULL;
	if (rc || w.err) {
		cli_error(ctx, "cannot take the records out of the feed: %s",
		          store_strerror(rc ? rc : w.err));
		goto out;
	}
	printf("took %zu record(s) published on the restored store out of this node's feed "
	       "(never sent to anyone); kept in %s\n", n, path);
	cli_control_poke(ctx);   /* agorad starts over with its partners */
	if (o->no_reissue) {
		printf("publish them again once `agora status` shows no problem: "
		       "agora publish --file %s\n", path);
		ret = CLI_EXIT_OK;
		goto out;
	}
	uint64_t head = 0;
	if (!wait_learnt(ctx, s, alliance, key->pk, conflict_seq, wait_s, &head)) {
		printf("agorad has not learnt the alliance's copy of this node's feed back yet (is it "
		       "running? see `agora status`); then publish them again: "
		       "agora publish --file %s\n", path);
		ret = CLI_EXIT_OK;
		goto out;
	}
	printf("learnt the alliance's copy of this node's feed back (up to seq %llu)\n",
	       (unsigned long long)head);
	if (n) {
		struct reissue r = { &w };
		struct proto_error err = { 0 };
		size_t failed = 0;
		uint8_t (*ids)[PROTO_ID_BYTES] = calloc(n, PROTO_ID_BYTES);
		if (!ids) {
			cli_error(ctx, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			clear_header(w.recs[i]);
		rc = store_publish_batch(s, key, alliance, w.recs, n, cli_now_ms(), prepare_cb, &r, ids,
		                         &failed, &err);
		free(ids);
		if (rc < 0) {
			ret = cli_publish_error(ctx, rc, &err);
			fprintf(stderr, "%s: the records are kept in %s\n", ctx->prog, path);
			goto out;
		}
		printf("published them again as seq %llu to %llu\n", (unsigned long long)head + 1,
		       (unsigned long long)(head + n));
		cli_control_poke(ctx);
	}
	ret = CLI_EXIT_OK;
out:
	withdrawn_free(&w);
	return ret;
}

/* ------------------------------------------------------------ command */

struct conflicts {
	struct store_txn *t;
	const uint8_t *pk;
	uint8_t (*ids)[PROTO_ID_BYTES];
	char (*names)[64];
	size_t n;
	uint64_t *floors;             /* floor above head, no conflict */
	uint64_t *seqs;               /* conflict seq (0: none) */
};

static int alliance_cb(const struct store_record *r, void *ctx)
{
	struct conflicts *c = ctx;
	uint64_t seq = 0, floor = 0, head = 0;
	uint8_t id[PROTO_ID_BYTES];
	if (store_own_conflict(c->t, r->id, c->pk, &seq))
		return 0;
	if (store_floor_get(c->t, r->id, c->pk, &floor) || store_feed_head(c->t, r->id, c->pk, &head, id))
		floor = 0;
	if (!seq && floor <= head)
		return 0;
	void *a = realloc(c->ids, (c->n + 1) * PROTO_ID_BYTES);
	if (!a)
		return -ENOMEM;
	c->ids = a;
	void *b = realloc(c->names, (c->n + 1) * 64);
	if (!b)
		return -ENOMEM;
	c->names = b;
	void *f = realloc(c->floors, (c->n + 1) * sizeof(*c->floors));
	if (!f)
		return -ENOMEM;
	c->floors = f;
	void *q = realloc(c->seqs, (c->n + 1) * sizeof(*c->seqs));
	if (!q)
		return -ENOMEM;
	c->seqs = q;
	c->seqs[c->n] = seq;
	memcpy(c->ids[c->n], r->id, PROTO_ID_BYTES);
	proto_hex(c->names[c->n], r->id, 8);
	c->floors[c->n] = seq ? 0 : floor;
	c->n++;
	return 0;
}

int cli_cmd_recover(struct cli_ctx *ctx, int argc, char **argv)
{
	struct recover_opts o = { 0 };
	struct conflicts c = { 0 };
	struct proto_key *key;
	struct store *s;
	size_t n_args;
	unsigned wait_s = 60;
	int ret, rc;

	if ((ret = cli_opt_parse(ctx, &recover_cmd, argc, argv, 1, &o, NULL, &n_args)) != CLI_EXIT_OK)
		return cli_opt_status(ret);
	if (o.wait) {
		char *end;
		unsigned long v = strtoul(o.wait, &end, 10);
		if (*end || v > 3600) {
			cli_error(ctx, "--wait takes a number of seconds up to 3600");
			return CLI_EXIT_USAGE;
		}
		wait_s = (unsigned)v;
	}
	if ((ret = cli_key(ctx, o.passphrase_file, &key)) != CLI_EXIT_OK ||
	    (ret = cli_store(ctx, false, &s)) != CLI_EXIT_OK)
		return ret;
	store_set_own_key(s, key->pk);
	if ((rc = store_txn_begin(s, &c.t))) {
		cli_error(ctx, "cannot read the store: %s", store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	c.pk = key->pk;
	if (o.alliance) {
		uint8_t id[PROTO_ID_BYTES];
		struct store_record r = { 0 };
		if ((ret = cli_alliance(ctx, c.t, o.alliance, id)) != CLI_EXIT_OK) {
			store_txn_end(c.t);
			return ret;
		}
		memcpy(r.id, id, PROTO_ID_BYTES);
		rc = alliance_cb(&r, &c);
	} else {
		rc = store_alliances(c.t, alliance_cb, &c);
	}
	store_txn_end(c.t);
	if (rc < 0) {
		cli_error(ctx, "cannot read the alliances: %s", store_strerror(rc));
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	if (!c.n) {
		printf("nothing to recover: this node's own feed agrees with its partners' copy\n");
		ret = CLI_EXIT_OK;
		goto out;
	}
	ret = CLI_EXIT_OK;
	for (size_t i = 0; i < c.n && ret == CLI_EXIT_OK; i++) {
		if (c.floors[i]) {
			/* no conflict: a partner showed a newer record of ours that has
			 * not come back (yet) */
			if (!o.forget_floor) {
				printf("alliance %s…: a partner holds this node's records up to seq %llu, "
				       "which this store lacks; agorad learns them back by itself (see "
				       "`agora status`).  If no partner holds them any more, "
				       "`agora recover --forget-floor` lets this node publish again\n",
				       c.names[i], (unsigned long long)c.floors[i]);
				continue;
			}
			if ((rc = store_floor_clear(s, c.ids[i], key->pk))) {
				cli_error(ctx, "cannot clear the floor: %s", store_strerror(rc));
				ret = CLI_EXIT_ERROR;
				break;
			}
			printf("alliance %s…: this node publishes again after its own head; the records "
			       "up to seq %llu that a partner once showed are taken as lost\n",
			       c.names[i], (unsigned long long)c.floors[i]);
			continue;
		}
		ret = recover_one(ctx, &o, s, key, c.ids[i], c.names[i], c.seqs[i], wait_s);
	}
out:
	free(c.ids);
	free(c.names);
	free(c.floors);
	free(c.seqs);
	return ret;
}
