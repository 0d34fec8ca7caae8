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
	int rc = buf_reserve(&ik->words, &ik->words_cap, ik->words_len + len + 1);
	if (rc)
		return rc;
	memcpy(ik->words + ik->words_len, w, len + 1);
	ik->words_len += len + 1;
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
                  const uint8_t alliance[PROTO_ID_BYTES])
{
	int rc;
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind = proto_record_content(rec, &msg);
	ik->keys_len = ik->words_len = 0;
	ik->nwords = 0;
	TRY(key_u8(ik, IX_KIND, (int)kind));
	if (rec->has_author && rec->author.len == PROTO_KEY_BYTES)
		TRY(key_add(ik, IX_AUTHOR, rec->author.data, PROTO_KEY_BYTES));
	TRY(key_add(ik, IX_ALLIANCE, alliance, PROTO_ID_BYTES));
	return content(ik, kind, msg);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Add one posting.  New records usually have the largest rowkey, so try an
 * append first: LMDB then fills pages completely instead of splitting them
 * in half, which keeps the indexes about half the size.  A posting that
 * is not the largest (a record created earlier, received late) is put in
 * its place.  An existing posting is left alone.
 */
static int posting_put(MDB_cursor *c, MDB_val *k, MDB_val *d)
{
	int rc = store_lmdb_rc(mdb_cursor_put(c, k, d, MDB_APPENDDUP));
	if (rc == MDB_KEYEXIST)
		rc = store_lmdb_rc(mdb_cursor_put(c, k, d, MDB_NODUPDATA));
	return rc == MDB_KEYEXIST ? 0 : rc;
}

int index_put(MDB_txn *txn, struct store *s, struct index_keys *ik, uint64_t rowkey,
              struct fts_batch *fb)
{
	uint8_t rk[8];
	store_be64(rk, rowkey);
	int rc = 0;
	MDB_cursor *c = NULL;
	char **w = NULL;
	if ((rc = store_lmdb_rc(mdb_cursor_open(txn, s->ix, &c))))
		return rc;
	for (size_t off = 0; off < ik->keys_len;) {
		size_t kl = (size_t)ik->keys[off] << 8 | ik->keys[off + 1];
		MDB_val k = { kl, ik->keys + off + 2 }, d = { 8, rk };
		if ((rc = posting_put(c, &k, &d)))
			goto out;
		off += 2 + kl;
	}
	mdb_cursor_close(c);
	c = NULL;
	if (ik->nwords == 0)
		return 0;
	/* Count each word once per record (tf), then queue the posting: the
	 * blocks are written once per transaction by fts_batch_apply(). */
	w = malloc(ik->nwords * sizeof *w);
	if (!w) {
		rc = -ENOMEM;
		goto out;
	}
	size_t n = 0;
	for (size_t off = 0; off < ik->words_len; off += strlen((char *)ik->words + off) + 1)
		w[n++] = (char *)ik->words + off;
	qsort(w, n, sizeof *w, cmp_str);
	uint32_t dl = ik->nwords > UINT32_MAX ? UINT32_MAX : (uint32_t)ik->nwords;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && strcmp(w[i], w[j]) == 0)
			j++;
		if ((rc = fts_batch_add(fb, w[i], strlen(w[i]), rowkey, (unsigned)(j - i), dl)))
			goto out;
		i = j;
	}
out:
	if (c)
		mdb_cursor_close(c);
	free(w);
	return rc;
}

void index_keys_dispose(struct index_keys *ik)
{
	free(ik->keys);
	free(ik->words);
	memset(ik, 0, sizeof *ik);
}
