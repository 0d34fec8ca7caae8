/*
 * index.c - what the indexes hold for a record: the ix keys of its content
 * (kind, author, alliance, code lists, years, tags, references) and its
 * full-text words with their counts.  Shared by ingest and publish.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/index_int.h"

static int buf_reserve(uint8_t **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 1024;
	while (nc < need)
		nc *= 2;
	uint8_t *nb = realloc(*buf, nc);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	*cap = nc;
	return 0;
}

/* keys are stored as len(2) | bytes */
static int key_add(struct index_keys *ik, uint8_t tag, const void *val, size_t len)
{
	if (len > IX_TAG_MAX)
		return 0;
	int rc = buf_reserve(&ik->keys, &ik->keys_cap, ik->keys_len + 3 + len);
	if (rc)
		return rc;
	uint8_t *p = ik->keys + ik->keys_len;
	size_t kl = len + 1;
	p[0] = (uint8_t)(kl >> 8);
	p[1] = (uint8_t)kl;
	p[2] = tag;
	memcpy(p + 3, val, len);
	ik->keys_len += 3 + len;
	return 0;
}

static int key_u8(struct index_keys *ik, uint8_t tag, int v)
{
	if (v <= 0 || v > 255)
		return 0;
	uint8_t b = (uint8_t)v;
	return key_add(ik, tag, &b, 1);
}

static int key_year(struct index_keys *ik, unsigned y)
{
	if (y == 0 || y > 65535)
		return 0;
	uint8_t b[2] = { (uint8_t)(y >> 8), (uint8_t)y };
	return key_add(ik, IX_YEAR, b, 2);
}

static int key_id(struct index_keys *ik, uint8_t tag, const ProtobufCBinaryData *d)
{
	if (d->len != PROTO_ID_BYTES || !d->data)
		return 0;
	return key_add(ik, tag, d->data, d->len);
}

static int key_tag(struct index_keys *ik, const char *t)
{
	if (!t)
		return 0;
	char *f;
	size_t fl;
	int rc = store_text_fold(&f, &fl, t, strlen(t));
	if (rc)
		return rc == PROTO_E_ARG ? 0 : rc;
	rc = key_add(ik, IX_TAG, f, fl);
	free(f);
	return rc;
}

static int word_cb(const char *w, size_t len, void *ctx)
{
	struct index_keys *ik = ctx;
	if (ik->nwords == ik->wids_cap) {
		size_t nc = ik->wids_cap ? ik->wids_cap * 2 : 256;
		uint32_t *nw = realloc(ik->wids, nc * sizeof *nw);
		if (!nw)
			return -ENOMEM;
		ik->wids = nw;
		ik->wids_cap = nc;
	}
	int rc = fts_batch_intern(ik->fb, w, len, &ik->wids[ik->nwords]);
	if (rc)
		return rc;
	ik->nwords++;
	return 0;
}

static int text(struct index_keys *ik, const char *t)
{
	if (!t || !*t)
		return 0;
	int rc = store_text_words(t, strlen(t), word_cb, ik);
	return rc == PROTO_E_ARG ? 0 : rc;
}

static int translations(struct index_keys *ik, size_t n, Agora__Translation **tr)
{
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (!tr[i])
			continue;
		if (!(rc = text(ik, tr[i]->title)) && !(rc = text(ik, tr[i]->summary)))
			rc = text(ik, tr[i]->description);
	}
	return rc;
}

static int tags(struct index_keys *ik, size_t n, char **t)
{
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		if (!(rc = key_tag(ik, t[i])))
			rc = text(ik, t[i]);
	return rc;
}

#define TRY(x) do { if ((rc = (x))) return rc; } while (0)

static int measure(struct index_keys *ik, const Agora__Measure *m)
{
	int rc;
	TRY(text(ik, m->title));
	TRY(text(ik, m->summary));
	TRY(text(ik, m->description));
	TRY(translations(ik, m->n_translations, m->translations));
	TRY(tags(ik, m->n_tags, m->tags));
	if (m->has_sector)
		TRY(key_u8(ik, IX_SECTOR, (int)m->sector));
	for (size_t i = 0; i < m->n_areas; i++)
		TRY(key_u8(ik, IX_AREA, (int)m->areas[i]));
	for (size_t i = 0; i < m->n_hazards; i++)
		TRY(key_u8(ik, IX_HAZARD, (int)m->hazards[i]));
	if (m->has_status)
		TRY(key_u8(ik, IX_STATUS, (int)m->status));
	unsigned from = m->has_start_year ? m->start_year : 0;
	unsigned to = m->has_end_year ? m->end_year : 0;
	if (from && to && to >= from) {
		if (to - from > STORE_YEARS_MAX)
			to = from + STORE_YEARS_MAX;
		for (unsigned y = from; y <= to; y++)
			TRY(key_year(ik, y));
	} else {
		TRY(key_year(ik, from));
		if (to != from)
			TRY(key_year(ik, to));
	}
	return 0;
}

static int content(struct index_keys *ik, enum proto_kind kind, const ProtobufCMessage *msg)
{
	int rc;
	if (!msg)
		return 0;
	switch (kind) {
	case PROTO_KIND_CHARTER: {
		const Agora__Charter *c = (const void *)msg;
		TRY(text(ik, c->name));
		TRY(text(ik, c->description));
		break;
	}
	case PROTO_KIND_ADMISSION: {
		const Agora__Admission *a = (const void *)msg;
		TRY(text(ik, a->name));
		break;
	}
	case PROTO_KIND_PROFILE: {
		const Agora__Profile *p = (const void *)msg;
		TRY(text(ik, p->name));
		TRY(text(ik, p->description));
		break;
	}
	case PROTO_KIND_TARGET: {
		const Agora__Target *t = (const void *)msg;
		TRY(text(ik, t->title));
		TRY(text(ik, t->description));
		if (t->has_baseline_year)
			TRY(key_year(ik, t->baseline_year));
		if (t->has_target_year && (!t->has_baseline_year ||
		                           t->target_year != t->baseline_year))
			TRY(key_year(ik, t->target_year));
		break;
	}
	case PROTO_KIND_INVENTORY: {
		const Agora__Inventory *v = (const void *)msg;
		TRY(text(ik, v->note));
		if (v->has_year)
			TRY(key_year(ik, v->year));
		for (size_t i = 0; i < v->n_sectors; i++)
			if (v->sectors[i] && v->sectors[i]->has_sector)
				TRY(key_u8(ik, IX_SECTOR, (int)v->sectors[i]->sector));
		break;
	}
	case PROTO_KIND_MEASURE:
		return measure(ik, (const void *)msg);
	case PROTO_KIND_RESULT: {
		const Agora__Result *r = (const void *)msg;
		TRY(text(ik, r->indicator));
		TRY(text(ik, r->note));
		if (r->has_year)
			TRY(key_year(ik, r->year));
		if (r->has_measure)
			TRY(key_id(ik, IX_REFERS, &r->measure));
		break;
	}
	case PROTO_KIND_LESSON: {
		const Agora__Lesson *l = (const void *)msg;
		TRY(text(ik, l->title));
		TRY(text(ik, l->context));
		TRY(text(ik, l->action));
		TRY(text(ik, l->outcome));
		TRY(text(ik, l->worked));
		TRY(text(ik, l->enablers));
		TRY(text(ik, l->cost));
		TRY(translations(ik, l->n_translations, l->translations));
		TRY(tags(ik, l->n_tags, l->tags));
		if (l->has_sector)
			TRY(key_u8(ik, IX_SECTOR, (int)l->sector));
		if (l->has_year)
			TRY(key_year(ik, l->year));
		for (size_t i = 0; i < l->n_measures; i++)
			TRY(key_id(ik, IX_REFERS, &l->measures[i]));
		break;
	}
	case PROTO_KIND_ENDORSEMENT: {
		const Agora__Endorsement *e = (const void *)msg;
		TRY(text(ik, e->note));
		if (e->has_target)
			TRY(key_id(ik, IX_REFERS, &e->target));
		break;
	}
	default:
		break;
	}
	return 0;
}

int index_collect(struct index_keys *ik, const Agora__Record *rec,
                  const uint8_t alliance[PROTO_ID_BYTES], struct fts_batch *fb)
{
	int rc;
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind = proto_record_content(rec, &msg);
	ik->keys_len = 0;
	ik->nwords = 0;
	ik->fb = fb;
	TRY(key_u8(ik, IX_KIND, (int)kind));
	if (rec->has_author && rec->author.len == PROTO_KEY_BYTES)
		TRY(key_add(ik, IX_AUTHOR, rec->author.data, PROTO_KEY_BYTES));
	TRY(key_add(ik, IX_ALLIANCE, alliance, PROTO_ID_BYTES));
	return content(ik, kind, msg);
}

int index_put(struct index_keys *ik, uint64_t rowkey, struct fts_batch *fb,
              struct ix_batch *xb)
{
	int rc;
	for (size_t off = 0; off < ik->keys_len;) {
		size_t kl = (size_t)ik->keys[off] << 8 | ik->keys[off + 1];
		if ((rc = ix_batch_add(xb, ik->keys + off + 2, kl, rowkey)))
			return rc;
		off += 2 + kl;
	}
	/* Each occurrence of a word raises its tf in this record's posting;
	 * the blocks are written once per transaction by fts_batch_apply(). */
	uint32_t dl = ik->nwords > UINT32_MAX ? UINT32_MAX : (uint32_t)ik->nwords;
	for (size_t i = 0; i < ik->nwords; i++) {
		/* rare words' entries are cold: ask for them a few words ahead */
		if (i + 8 < ik->nwords)
			__builtin_prefetch(&fb->words[ik->wids[i + 8]], 1);
		if ((rc = fts_batch_post(fb, ik->wids[i], rowkey, dl)))
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------ ix batch */

static int ix_rehash(struct ix_batch *b)
{
	size_t ns = b->nslots ? b->nslots * 2 : 256;
	uint32_t *sl = calloc(ns, sizeof *sl);
	if (!sl)
		return -ENOMEM;
	for (size_t i = 0; i < b->nkeys; i++) {
		size_t j = store_hash32(b->arena + b->keys[i].off, b->keys[i].len) & (ns - 1);
		while (sl[j])
			j = (j + 1) & (ns - 1);
		sl[j] = (uint32_t)i + 1;
	}
	free(b->slots);
	b->slots = sl;
	b->nslots = ns;
	return 0;
}

int ix_batch_add(struct ix_batch *b, const uint8_t *key, size_t len, uint64_t rk)
{
	int rc;
	if (len == 0 || len > 511)
		return PROTO_E_ARG;
	if ((b->nkeys + 1) * 2 > b->nslots && (rc = ix_rehash(b)))
		return rc;
	size_t j = store_hash32(key, len) & (b->nslots - 1);
	uint32_t ki;
	for (;;) {
		uint32_t sl = b->slots[j];
		if (!sl) {
			if ((rc = store_grow((void **)&b->keys, &b->keys_cap, b->nkeys + 1,
			                   sizeof *b->keys)) ||
			    (rc = store_grow((void **)&b->arena, &b->arena_cap, b->arena_len + len, 1)))
				return rc;
			ki = (uint32_t)b->nkeys++;
			b->keys[ki].off = (uint32_t)b->arena_len;
			b->keys[ki].len = (uint32_t)len;
			b->keys[ki].n = 0;
			memcpy(b->arena + b->arena_len, key, len);
			b->arena_len += len;
			b->slots[j] = ki + 1;
			break;
		}
		const struct ix_bkey *k = &b->keys[sl - 1];
		if (k->len == len && memcmp(b->arena + k->off, key, len) == 0) {
			ki = sl - 1;
			break;
		}
		j = (j + 1) & (b->nslots - 1);
	}
	if ((rc = store_grow((void **)&b->ents, &b->ents_cap, b->nents + 1, sizeof *b->ents)))
		return rc;
	b->ents[b->nents].key = ki;
	b->ents[b->nents].rk = rk;
	b->nents++;
	b->keys[ki].n++;
	return 0;
}

void ix_batch_reset(struct ix_batch *b)
{
	if (b->slots)
		memset(b->slots, 0, b->nslots * sizeof *b->slots);
	b->arena_len = b->nkeys = b->nents = 0;
}

void ix_batch_dispose(struct ix_batch *b)
{
	free(b->arena);
	free(b->slots);
	free(b->keys);
	free(b->ents);
	memset(b, 0, sizeof *b);
}

/* qsort has no context argument in C11: sort copies of (key, index) */
struct ix_order {
	const uint8_t *k;
	uint32_t len, idx;
};

static int cmp_ix_order(const void *x, const void *y)
{
	const struct ix_order *a = x, *b = y;
	int c = memcmp(a->k, b->k, a->len < b->len ? a->len : b->len);
	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/*
 * Put the sorted, unique rowkeys rk[0..m) under key k.  Rowkeys above the
 * key's current last one (the common case: new records are the newest)
 * go in with one MDB_MULTIPLE | MDB_APPENDDUP put, which descends the tree
 * once for all of them; the others are put one by one in their place.
 */
static int ix_put_key(MDB_cursor *c, MDB_val *k, const uint64_t *rk, size_t m, uint8_t *buf)
{
	MDB_val d;
	uint64_t last = 0;
	bool have_last = false;
	MDB_val kk = *k;
	int rc = store_lmdb_rc(mdb_cursor_get(c, &kk, &d, MDB_SET_KEY));
	if (rc == 0) {
		rc = store_lmdb_rc(mdb_cursor_get(c, &kk, &d, MDB_LAST_DUP));
		if (rc)
			return rc;
		if (d.mv_size != 8)
			return STORE_E_CORRUPT;
		last = store_get64(d.mv_data);
		have_last = true;
	} else if (rc != MDB_NOTFOUND) {
		return rc;
	}
	size_t p = 0;
	while (p < m && have_last && rk[p] <= last) {
		uint8_t b[8];
		store_be64(b, rk[p]);
		MDB_val one = { 8, b };
		rc = store_lmdb_rc(mdb_cursor_put(c, k, &one, MDB_NODUPDATA));
		if (rc && rc != MDB_KEYEXIST)
			return rc;
		p++;
	}
	if (p == m)
		return 0;
	for (size_t i = p; i < m; i++)
		store_be64(buf + 8 * (i - p), rk[i]);
	MDB_val multi[2] = { { 8, buf }, { m - p, NULL } };
	return store_lmdb_rc(mdb_cursor_put(c, k, multi, MDB_MULTIPLE | MDB_APPENDDUP));
}

int ix_batch_apply(MDB_txn *txn, struct store *s, struct ix_batch *b)
{
	int rc = 0;
	MDB_cursor *c = NULL;
	struct ix_order *ord = NULL;
	uint64_t *rks = NULL;
	uint8_t *buf = NULL;
	if (b->nents == 0)
		goto out;
	ord = malloc(b->nkeys * sizeof *ord);
	rks = malloc(b->nents * sizeof *rks);
	buf = malloc(b->nents * 8);
	if (!ord || !rks || !buf) {
		rc = -ENOMEM;
		goto out;
	}
	/* group the rowkeys by key (counting sort, stable) */
	uint32_t pos = 0;
	for (size_t i = 0; i < b->nkeys; i++) {
		b->keys[i].start = pos;
		pos += b->keys[i].n;
		ord[i].k = b->arena + b->keys[i].off;
		ord[i].len = b->keys[i].len;
		ord[i].idx = (uint32_t)i;
	}
	for (size_t i = 0; i < b->nents; i++)
		rks[b->keys[b->ents[i].key].start++] = b->ents[i].rk;
	if (b->nkeys)
		qsort(ord, b->nkeys, sizeof *ord, cmp_ix_order);
	if ((rc = store_lmdb_rc(mdb_cursor_open(txn, s->ix, &c))))
		goto out;
	for (size_t i = 0; i < b->nkeys; i++) {
		const struct ix_bkey *bk = &b->keys[ord[i].idx];
		uint64_t *p = rks + bk->start - bk->n;
		size_t m = bk->n;
		bool sorted = true;
		for (size_t x = 1; x < m && sorted; x++)
			sorted = p[x - 1] < p[x];
		if (!sorted) {
			size_t u = 0;
			if (m)
				qsort(p, m, sizeof *p, cmp_u64);
			for (size_t x = 0; x < m; x++)      /* drop duplicates */
				if (u == 0 || p[u - 1] != p[x])
					p[u++] = p[x];
			m = u;
		}
		MDB_val k = { bk->len, (void *)ord[i].k };
		if ((rc = ix_put_key(c, &k, p, m, buf)))
			goto out;
		store_trim_step(s, 1);
	}
out:
	if (c)
		mdb_cursor_close(c);
	free(ord);
	free(rks);
	free(buf);
	ix_batch_reset(b);
	return rc;
}

void index_keys_dispose(struct index_keys *ik)
{
	free(ik->keys);
	free(ik->wids);
	memset(ik, 0, sizeof *ik);
}
