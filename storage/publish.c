/*
 * publish.c - store_publish and store_publish_batch: fill in and sign the
 * next records of the publisher's feed, and store them through
 * store_ingest_one (ingest.c) in the same write, so two processes never
 * take the same seq.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/ingest_int.h"
#include "storage/meta_int.h"


struct publish_ctx {
	struct store_wctx w;
	const struct proto_key *key;
	const uint8_t *alliance;
	Agora__Record **recs;
	size_t n;
	uint64_t now_ms;
	store_prepare_cb prepare;
	void *pctx;
	uint8_t (*ids)[PROTO_ID_BYTES];
	uint8_t *env;       /* the last signed envelope */
	size_t env_len;
	size_t failed;
	struct proto_error err;
};

static void set_err(struct proto_error *e, int code, const char *field, const char *msg)
{
	e->code = code;
	snprintf(e->field, sizeof e->field, "%s", field);
	snprintf(e->msg, sizeof e->msg, "%s", msg);
}

static int publish_cb(MDB_txn *txn, void *arg)
{
	struct publish_ctx *c = arg;
	struct store *s = c->w.s;
	store_wctx_begin(&c->w, txn);
	c->w.now_ms = c->now_ms;
	free(c->env);
	c->env = NULL;
	memset(&c->err, 0, sizeof c->err);
	for (size_t i = 0; i < c->n; i++) {
		int rc;
		store_trim_step(c->w.s, 4);
		c->failed = i;
		if (c->prepare && (rc = c->prepare(c->recs[i], i,
		                                   (const uint8_t (*)[PROTO_ID_BYTES])c->ids,
		                                   c->pctx))) {
			set_err(&c->err, rc, "", "the record could not be prepared");
			return rc;
		}
		Agora__Record copy = *c->recs[i];
		bool charter = proto_record_kind(&copy) == PROTO_KIND_CHARTER;
		if (charter != (c->alliance == NULL)) {
			set_err(&c->err, PROTO_E_ARG, "alliance",
			        charter ? "a charter founds an alliance and names none"
			                : "this record needs an alliance");
			return PROTO_E_ARG;
		}
		uint8_t prev[PROTO_ID_BYTES];
		uint64_t seq = 1;
		if (!charter) {
			uint64_t conflict;
			if ((rc = store_meta_conflict(txn, s, c->alliance, c->key->pk, &conflict)))
				return rc;
			if (conflict) {
				set_err(&c->err, STORE_E_CONFLICT, "seq", store_strerror(STORE_E_CONFLICT));
				return STORE_E_CONFLICT;
			}
			uint8_t hk[64];
			memcpy(hk, c->alliance, 32);
			memcpy(hk + 32, c->key->pk, 32);
			MDB_val k = { 64, hk }, v;
			rc = store_lmdb_rc(mdb_get(txn, s->heads, &k, &v));
			if (rc == 0) {
				if (v.mv_size != HEAD_VAL)
					return STORE_E_CORRUPT;
				seq = store_get64((const uint8_t *)v.mv_data + 4) + 1;
				memcpy(prev, (const uint8_t *)v.mv_data + 12, PROTO_ID_BYTES);
			} else if (rc != MDB_NOTFOUND) {
				return rc;
			}
			uint64_t floor;
			if ((rc = store_meta_floor(txn, s, c->alliance, c->key->pk, &floor)))
				return rc;
			if (seq <= floor) {
				set_err(&c->err, STORE_E_FORK, "seq",
				        "a peer holds a newer record of this feed; sync before publishing");
				return STORE_E_FORK;
			}
		}
		copy.has_alliance = !charter;
		copy.alliance.len = charter ? 0 : PROTO_ID_BYTES;
		copy.alliance.data = charter ? NULL : (uint8_t *)c->alliance;
		copy.has_author = 1;
		copy.author.len = PROTO_KEY_BYTES;
		copy.author.data = (uint8_t *)c->key->pk;
		copy.has_seq = 1;
		copy.seq = seq;
		copy.has_prev = seq > 1;
		copy.prev.len = seq > 1 ? PROTO_ID_BYTES : 0;
		copy.prev.data = seq > 1 ? prev : NULL;
		copy.has_created_ms = 1;
		copy.created_ms = c->now_ms;

		uint8_t *env = NULL;
		size_t len = 0;
		uint8_t id[PROTO_ID_BYTES];
		rc = proto_record_sign(&env, &len, id, &copy, c->key, c->now_ms, &c->err);
		if (rc)
			return rc;
		rc = store_ingest_one(&c->w, &copy, env, len, id);
		if (rc == STORE_NEW || rc == STORE_KNOWN) {
			rc = 0;
		} else {
			if (rc == STORE_FORKED)
				rc = STORE_E_FORK;
			if (!store_ingest_fatal(rc))
				set_err(&c->err, rc, "", store_strerror(rc));
		}
		if (rc) {
			free(env);
			return rc;
		}
		memcpy(c->ids[i], id, PROTO_ID_BYTES);
		free(c->env);
		c->env = env;
		c->env_len = len;
	}
	return store_wctx_finish(&c->w);
}

static int publish(struct store *s, const struct proto_key *key, const uint8_t *alliance,
                   Agora__Record **recs, size_t n, uint64_t now_ms, store_prepare_cb prepare,
                   void *pctx, uint8_t (*ids)[PROTO_ID_BYTES], uint8_t **env_out,
                   size_t *env_len, size_t *failed, struct proto_error *err)
{
	if (!s || !key || (!recs && n))
		return PROTO_E_ARG;
	for (size_t i = 0; i < n; i++)
		if (!recs[i])
			return PROTO_E_ARG;
	if (s->flags & STORE_OPEN_READONLY)
		return STORE_E_READONLY;
	struct publish_ctx c = { .w = { .s = s }, .key = key, .alliance = alliance, .recs = recs,
	                         .n = n, .now_ms = now_ms, .prepare = prepare, .pctx = pctx };
	c.ids = calloc(n ? n : 1, PROTO_ID_BYTES);
	if (!c.ids)
		return -ENOMEM;
	int rc = store_write(s, publish_cb, &c);
	if (rc) {
		if (failed)
			*failed = c.failed;
		if (err) {
			*err = c.err;
			if (!err->code) {
				err->code = rc;
				snprintf(err->msg, sizeof err->msg, "%s", store_strerror(rc));
			}
		}
		goto out;
	}
	if (ids)
		memcpy(ids, c.ids, n * PROTO_ID_BYTES);
	if (env_out && env_len) {
		*env_out = c.env;
		*env_len = c.env_len;
		c.env = NULL;
	}
out:
	free(c.env);
	free(c.ids);
	store_wctx_dispose(&c.w);
	return rc;
}

int store_publish(struct store *s, const struct proto_key *key, const uint8_t *alliance,
                  Agora__Record *rec, uint64_t now_ms, uint8_t id_out[PROTO_ID_BYTES],
                  uint8_t **env_out, size_t *env_len, struct proto_error *err)
{
	uint8_t id[1][PROTO_ID_BYTES];
	if (!rec)
		return PROTO_E_ARG;
	int rc = publish(s, key, alliance, &rec, 1, now_ms, NULL, NULL, id, env_out, env_len,
	                 NULL, err);
	if (rc == 0 && id_out)
		memcpy(id_out, id[0], PROTO_ID_BYTES);
	return rc;
}

int store_publish_batch(struct store *s, const struct proto_key *key, const uint8_t *alliance,
                        Agora__Record **recs, size_t n, uint64_t now_ms,
                        store_prepare_cb prepare, void *ctx,
                        uint8_t (*ids)[PROTO_ID_BYTES], size_t *failed, struct proto_error *err)
{
	return publish(s, key, alliance, recs, n, now_ms, prepare, ctx, ids, NULL, NULL, failed,
	               err);
}

