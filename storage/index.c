/*
 * index.c - what the indexes hold for a record: the ix keys of its content
 * (kind, author, alliance, code lists, years, tags, references) and the
 * full-text terms of its words (stem_int.h) with their counts.  Shared by
 * ingest and publish.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/index_int.h"
#include "storage/text_int.h"
#include "storage/unread_int.h"

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

/* ------------------------------------------------------------ terms */

/* Forget the forms of an older generation of fb. */
static void forms_check(struct index_keys *ik)
{
	if (ik->forms_gen == ik->fb->gen)
		return;
	if (ik->forms)
		memset(ik->forms, 0, ik->forms_slots * sizeof *ik->forms);
	ik->nforms = ik->farena_len = ik->nfwids = 0;
	ik->forms_gen = ik->fb->gen;
}

static int forms_rehash(struct index_keys *ik)
{
	size_t ns = ik->forms_slots ? ik->forms_slots * 2 : 1024;
	struct index_form *nf = calloc(ns, sizeof *nf);
	if (!nf)
		return -ENOMEM;
	for (size_t i = 0; i < ik->forms_slots; i++) {
		if (!ik->forms[i].used)
			continue;
		size_t j = ik->forms[i].hash & (ns - 1);
		while (nf[j].used)
			j = (j + 1) & (ns - 1);
		nf[j] = ik->forms[i];
	}
	free(ik->forms);
	ik->forms = nf;
	ik->forms_slots = ns;
	return 0;
}

/* The form of word w in lang: found, or made (stemmed, its terms
 * interned in fb) and remembered. */
static int form_get(struct index_keys *ik, enum text_lang lang, const char *w, size_t wl,
                    const struct index_form **out)
{
	int rc;
	uint8_t key[FTS_WORD_MAX + 1];
	key[0] = (uint8_t)lang;
	memcpy(key + 1, w, wl);
	size_t kl = wl + 1;
	forms_check(ik);
	if ((ik->nforms + 1) * 2 > ik->forms_slots && (rc = forms_rehash(ik)))
		return rc;
	uint32_t h = store_hash32(key, kl);
	size_t j = h & (ik->forms_slots - 1);
	for (;; j = (j + 1) & (ik->forms_slots - 1)) {
		const struct index_form *f = &ik->forms[j];
		if (!f->used)
			break;
		if (f->hash == h && f->len == kl && memcmp(ik->farena + f->off, key, kl) == 0) {
			*out = f;
			return 0;
		}
	}
	struct text_terms tt;
	if ((rc = text_terms(ik->stem, lang, w, wl, &tt)))
		return rc;
	if ((rc = store_grow((void **)&ik->farena, &ik->farena_cap, ik->farena_len + kl, 1)) ||
	    (rc = store_grow((void **)&ik->fwids, &ik->fwids_cap, ik->nfwids + tt.n,
	                     sizeof *ik->fwids)))
		return rc;
	for (size_t i = 0; i < tt.n; i++)
		if ((rc = fts_batch_intern(ik->fb, tt.t[i], tt.len[i], &ik->fwids[ik->nfwids + i])))
			return rc;
	struct index_form *f = &ik->forms[j];
	f->hash = h;
	f->off = (uint32_t)ik->farena_len;
	f->len = (uint8_t)kl;
	f->wids = (uint32_t)ik->nfwids;
	f->nterms = (uint8_t)tt.n;
	f->marked = tt.marked;
	f->used = true;
	f->sig = 0;
	for (size_t i = 0; i < tt.n; i++)
		f->sig |= fts_next_bit(tt.t[i], tt.len[i]);
	memcpy(ik->farena + ik->farena_len, key, kl);
	ik->farena_len += kl;
	ik->nfwids += tt.n;
	ik->nforms++;
	*out = f;
	return 0;
}

struct text_ctx {
	struct index_keys *ik;
	enum text_lang lang;
};

static int word_cb(const char *w, size_t len, void *ctx)
{
	struct text_ctx *tc = ctx;
	struct index_keys *ik = tc->ik;
	const struct index_form *f;
	int rc = form_get(ik, tc->lang, w, len, &f);
	if (rc)
		return rc == PROTO_E_ARG ? 0 : rc;
	if ((rc = store_grow((void **)&ik->posts, &ik->posts_cap, ik->nposts + f->nterms,
	                     sizeof *ik->posts)))
		return rc;
	/* the previous word of the field is followed by this one */
	for (size_t i = ik->prev_from; i < ik->prev_to; i++)
		ik->posts[i].next |= f->sig;
	ik->prev_from = ik->nposts;
	for (size_t i = 0; i < f->nterms; i++) {
		ik->posts[ik->nposts].wid = ik->fwids[f->wids + i];
		ik->posts[ik->nposts].marked = f->marked;
		ik->posts[ik->nposts].next = 0;
		ik->nposts++;
	}
	ik->prev_to = ik->nposts;
	ik->nwords++;
	return 0;
}

static int field_cb(const char *t, enum text_lang lang, void *ctx)
{
	struct text_ctx tc = { ctx, lang };
	tc.ik->polish |= lang == TEXT_LANG_PL;
	tc.ik->prev_from = tc.ik->prev_to = 0;   /* no word before a field's first */
	int rc = text_words(t, strlen(t), word_cb, &tc);
	return rc == PROTO_E_ARG ? 0 : rc;
}

/* ------------------------------------------------------- text fields */

#define FIELD(t, l) do { if ((t) && *(t) && (rc = cb((t), (l), ctx))) return rc; } while (0)

static int translations(size_t n, Agora__Translation **tr, index_field_cb cb, void *ctx)
{
	int rc;
	for (size_t i = 0; i < n; i++) {
		if (!tr[i])
			continue;
		enum text_lang l = text_lang_of(tr[i]->language);
		FIELD(tr[i]->title, l);
		FIELD(tr[i]->summary, l);
		FIELD(tr[i]->description, l);
	}
	return 0;
}

int index_text_fields(const Agora__Record *rec, index_field_cb cb, void *ctx)
{
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind = proto_record_content(rec, &msg);
	int rc;
	if (!msg)
		return 0;
	switch (kind) {
	case PROTO_KIND_CHARTER: {
		const Agora__Charter *c = (const void *)msg;
		enum text_lang l = text_lang_of(c->language);
		FIELD(c->name, l);
		FIELD(c->description, l);
		break;
	}
	case PROTO_KIND_ADMISSION:
		FIELD(((const Agora__Admission *)(const void *)msg)->name, TEXT_LANG_OTHER);
		break;
	case PROTO_KIND_PROFILE: {
		const Agora__Profile *p = (const void *)msg;
		enum text_lang l = text_lang_of(p->language);
		FIELD(p->name, l);
		FIELD(p->description, l);
		break;
	}
	case PROTO_KIND_TARGET: {
		const Agora__Target *t = (const void *)msg;
		enum text_lang l = text_lang_of(t->language);
		FIELD(t->title, l);
		FIELD(t->description, l);
		break;
	}
	case PROTO_KIND_INVENTORY: {
		const Agora__Inventory *v = (const void *)msg;
		FIELD(v->note, text_lang_of(v->language));
		break;
	}
	case PROTO_KIND_MEASURE: {
		const Agora__Measure *m = (const void *)msg;
		enum text_lang l = text_lang_of(m->language);
		FIELD(m->title, l);
		FIELD(m->summary, l);
		FIELD(m->description, l);
		if ((rc = translations(m->n_translations, m->translations, cb, ctx)))
			return rc;
		for (size_t i = 0; i < m->n_tags; i++)
			FIELD(m->tags[i], l);
		break;
	}
	case PROTO_KIND_RESULT: {
		const Agora__Result *r = (const void *)msg;
		enum text_lang l = text_lang_of(r->language);
		FIELD(r->indicator, l);
		FIELD(r->note, l);
		break;
	}
	case PROTO_KIND_LESSON: {
		const Agora__Lesson *s = (const void *)msg;
		enum text_lang l = text_lang_of(s->language);
		FIELD(s->title, l);
		FIELD(s->context, l);
		FIELD(s->action, l);
		FIELD(s->outcome, l);
		FIELD(s->worked, l);
		FIELD(s->enablers, l);
		FIELD(s->cost, l);
		if ((rc = translations(s->n_translations, s->translations, cb, ctx)))
			return rc;
		for (size_t i = 0; i < s->n_tags; i++)
			FIELD(s->tags[i], l);
		break;
	}
	case PROTO_KIND_ENDORSEMENT: {
		const Agora__Endorsement *e = (const void *)msg;
		FIELD(e->note, text_lang_of(e->language));
		break;
	}
#ifdef AGORA_SCHEMA_NEXT
	case PROTO_KIND_TEST_NOTE: {   /* the test build's newer kind (PROTOCOL.md 7.6) */
		const Agora__TestNote *n = (const void *)msg;
		FIELD(n->text, text_lang_of(n->language));
		break;
	}
#endif
	default:
		break;
	}
#ifdef AGORA_SCHEMA_NEXT
	/* the test build's newer Measure field, in the measure's language */
	if (kind == PROTO_KIND_MEASURE)
		FIELD(((const Agora__Measure *)(const void *)msg)->test_extra,
		      text_lang_of(((const Agora__Measure *)(const void *)msg)->language));
#endif
	return 0;
}

/* ---------------------------------------------------------- ix keys */

#define TRY(x) do { if ((rc = (x))) return rc; } while (0)

static int tags(struct index_keys *ik, size_t n, char **t)
{
	int rc;
	for (size_t i = 0; i < n; i++)
		TRY(key_tag(ik, t[i]));
	return 0;
}

static int measure(struct index_keys *ik, const Agora__Measure *m)
{
	int rc;
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
	case PROTO_KIND_TARGET: {
		const Agora__Target *t = (const void *)msg;
		if (t->has_baseline_year)
			TRY(key_year(ik, t->baseline_year));
		if (t->has_target_year && (!t->has_baseline_year ||
		                           t->target_year != t->baseline_year))
			TRY(key_year(ik, t->target_year));
		break;
	}
	case PROTO_KIND_INVENTORY: {
		const Agora__Inventory *v = (const void *)msg;
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
		if (r->has_year)
			TRY(key_year(ik, r->year));
		if (r->has_measure)
			TRY(key_id(ik, IX_REFERS, &r->measure));
		break;
	}
	case PROTO_KIND_LESSON: {
		const Agora__Lesson *l = (const void *)msg;
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
		if (e->has_target)
			TRY(key_id(ik, IX_REFERS, &e->target));
		break;
	}
	default:
		break;
	}
	return 0;
}

int index_collect(struct index_keys *ik, struct store *s, const Agora__Record *rec,
                  const uint8_t alliance[PROTO_ID_BYTES], struct fts_batch *fb)
{
	int rc;
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind = proto_record_content(rec, &msg);
	bool reads;
	ik->keys_len = 0;
	ik->nwords = 0;
	ik->nposts = 0;
	ik->polish = false;
	ik->fb = fb;
	ik->stem = s->stem;
	ik->why = store_unread_why(s, rec, &reads);
	TRY(key_u8(ik, IX_KIND, (int)kind));
	if (rec->has_author && rec->author.len == PROTO_KEY_BYTES)
		TRY(key_add(ik, IX_AUTHOR, rec->author.data, PROTO_KEY_BYTES));
	TRY(key_add(ik, IX_ALLIANCE, alliance, PROTO_ID_BYTES));
	if (!reads)
		return 0;   /* what lies outside the body only (PROTOCOL.md 7.2) */
	TRY(content(ik, kind, msg));
	TRY(index_text_fields(rec, field_cb, ik));
	if (ik->polish) {   /* a term, not a word: dl stays */
		uint32_t wid;
		TRY(fts_batch_intern(fb, TEXT_TERM_POLISH, TEXT_TERM_POLISH_LEN, &wid));
		TRY(store_grow((void **)&ik->posts, &ik->posts_cap, ik->nposts + 1, sizeof *ik->posts));
		ik->posts[ik->nposts].wid = wid;
		ik->posts[ik->nposts].marked = false;
		ik->posts[ik->nposts].next = 0;
		ik->nposts++;
	}
	return 0;
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
	/* Each occurrence of a term raises its tf in this record's posting;
	 * the blocks are written once per transaction by fts_batch_apply(). */
	uint32_t dl = ik->nwords > UINT32_MAX ? UINT32_MAX : (uint32_t)ik->nwords;
	for (size_t i = 0; i < ik->nposts; i++) {
		/* rare words' entries are cold: ask for them a few words ahead */
		if (i + 8 < ik->nposts)
			__builtin_prefetch(&fb->words[ik->posts[i + 8].wid], 1);
		if ((rc = fts_batch_post(fb, ik->posts[i].wid, rowkey, dl, ik->posts[i].marked,
		                         ik->posts[i].next)))
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
	free(ik->posts);
	free(ik->forms);
	free(ik->farena);
	free(ik->fwids);
	memset(ik, 0, sizeof *ik);
}

void index_keys_only_tags(struct index_keys *ik)
{
	size_t o = 0;
	for (size_t off = 0; off < ik->keys_len;) {
		size_t kl = (size_t)ik->keys[off] << 8 | ik->keys[off + 1];
		if (ik->keys[off + 2] == IX_TAG) {
			memmove(ik->keys + o, ik->keys + off, 2 + kl);
			o += 2 + kl;
		}
		off += 2 + kl;
	}
	ik->keys_len = o;
}

int index_tags_drop(MDB_txn *txn, struct store *s)
{
	MDB_cursor *c;
	uint8_t tag = IX_TAG;
	int rc = store_lmdb_rc(mdb_cursor_open(txn, s->ix, &c));
	if (rc)
		return rc;
	for (;;) {
		MDB_val k = { 1, &tag }, v;
		rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_RANGE));
		if (rc || k.mv_size < 1 || ((const uint8_t *)k.mv_data)[0] != IX_TAG)
			break;
		/* the key with all its rowkeys */
		if ((rc = store_lmdb_rc(mdb_cursor_del(c, MDB_NODUPDATA))))
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}
