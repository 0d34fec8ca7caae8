/*
 * report.c - the summit report's figures, computed from decoded records.
 *
 * Memory is bounded by what the report shows, not by the number of records:
 * a measure costs one small entry (needed to attribute its results), a
 * result only adds to a running sum, and record bytes are decoded into a
 * reusable arena, one at a time, straight from the store's snapshot.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <utf8proc.h>

#include "cli/report.h"

/* ------------------------------------------------------------ id lists */

static int ids_add(struct report_ids *l, const uint8_t id[PROTO_ID_BYTES])
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		void *v = realloc(l->v, cap * sizeof(*l->v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	memcpy(l->v[l->n++], id, PROTO_ID_BYTES);
	return 0;
}

static int ids_cat(struct report_ids *dst, const struct report_ids *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (ids_add(dst, src->v[i]) < 0)
			return -ENOMEM;
	return 0;
}

static void ids_free(struct report_ids *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ------------------------------------------------------ id -> index map */

/* Open addressing on the first 8 bytes of a (random) record id or key. */
struct idmap {
	uint8_t (*keys)[PROTO_ID_BYTES];
	size_t *vals;                   /* SIZE_MAX: empty slot */
	size_t cap, n;
};

static uint64_t id_hash(const uint8_t *id)
{
	uint64_t h;
	memcpy(&h, id, sizeof(h));
	return h * 0x9e3779b97f4a7c15ULL;
}

static size_t *idmap_find(const struct idmap *m, const uint8_t *id)
{
	if (!m->cap)
		return NULL;
	for (size_t i = id_hash(id) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (m->vals[i] == SIZE_MAX)
			return NULL;
		if (!memcmp(m->keys[i], id, PROTO_ID_BYTES))
			return &m->vals[i];
	}
}

static int idmap_put(struct idmap *m, const uint8_t *id, size_t val);

static int idmap_grow(struct idmap *m)
{
	struct idmap g = { 0 };
	g.cap = m->cap ? m->cap * 2 : 64;
	g.keys = malloc(g.cap * sizeof(*g.keys));
	g.vals = malloc(g.cap * sizeof(*g.vals));
	if (!g.keys || !g.vals) {
		free(g.keys);
		free(g.vals);
		return -ENOMEM;
	}
	memset(g.vals, 0xff, g.cap * sizeof(*g.vals));
	for (size_t i = 0; i < m->cap; i++)
		if (m->vals[i] != SIZE_MAX)
			idmap_put(&g, m->keys[i], m->vals[i]);
	free(m->keys);
	free(m->vals);
	*m = g;
	return 0;
}

/* Insert or overwrite. */
static int idmap_put(struct idmap *m, const uint8_t *id, size_t val)
{
	size_t *v = idmap_find(m, id);
	if (v) {
		*v = val;
		return 0;
	}
	if ((m->n + 1) * 2 > m->cap && idmap_grow(m) < 0)
		return -ENOMEM;
	size_t i = id_hash(id) & (m->cap - 1);
	while (m->vals[i] != SIZE_MAX)
		i = (i + 1) & (m->cap - 1);
	memcpy(m->keys[i], id, PROTO_ID_BYTES);
	m->vals[i] = val;
	m->n++;
	return 0;
}

static void idmap_free(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* -------------------------------------------------------- private state */

/* What a result needs to know about its measure. */
struct mrec {
	uint32_t member;
	uint8_t sector, status;
	char currency[8];
	double reduction;               /* measure's own estimate, t CO2e/a */
	double investment;
	/* latest t CO2e result of each estimation kind: [0] estimated, [1] measured */
	bool has[2];
	uint16_t year[2];
	double value[2];
};

/* (member, indicator, unit) -> index into member->sums, by string hash. */
struct sumkey {
	uint64_t h;
	uint32_t member;
	uint32_t sum;                   /* UINT32_MAX: empty */
};

struct report_priv {
	report_resolve_cb resolve;
	void *resolve_ctx;
	struct idmap members;           /* key -> members index */
	/* Measures: an open-addressing table of indexes into mrecs/mids, so a
	 * slot costs 4 bytes, not a copy of the 32-byte id. */
	uint32_t *mtab;                 /* UINT32_MAX: empty */
	size_t mtab_cap;
	struct mrec *mrecs;
	size_t n_mrecs, cap_mrecs;
	uint8_t (*mids)[PROTO_ID_BYTES];        /* measure id per mrec */
	uint8_t (*mres_ids)[2][PROTO_ID_BYTES]; /* explain only: result id per mrec kind */
	struct idmap lessons;           /* id -> lessons index */
	struct sumkey *sumtab;
	size_t sumcap, sumn;
};

int report_new(struct report **out, const struct report_options *opt,
               report_resolve_cb resolve, void *resolve_ctx)
{
	struct report *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->priv = calloc(1, sizeof(*r->priv));
	if (!r->priv) {
		free(r);
		return -ENOMEM;
	}
	if (opt) {
		r->opt = *opt;
		if (opt->alliance)
			memcpy(r->alliance, opt->alliance, PROTO_ID_BYTES);
	}
	r->any_alliance = !opt || !opt->alliance;
	r->opt.alliance = r->alliance;
	r->priv->resolve = resolve;
	r->priv->resolve_ctx = resolve_ctx;
	*out = r;
	return 0;
}

static void group_free(struct report_group *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(g[i].lessons);
	free(g);
}

void report_free(struct report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_members; i++) {
		struct report_member *m = &r->members[i];
		free(m->name);
		free(m->country);
		free(m->inv);
		for (size_t j = 0; j < m->n_targets; j++) {
			free(m->targets[j].title);
			free(m->targets[j].lang);
			ids_free(&m->targets[j].src);
		}
		free(m->targets);
		ids_free(&m->baseline_src);
		ids_free(&m->achieved_src);
		for (int s = 0; s < REPORT_STATUSES; s++)
			ids_free(&m->status_src[s]);
		for (size_t j = 0; j < m->n_sums; j++) {
			free(m->sums[j].indicator);
			free(m->sums[j].unit);
			ids_free(&m->sums[j].src);
		}
		free(m->sums);
	}
	free(r->members);
	for (int s = 0; s < REPORT_SECTORS; s++) {
		struct report_sector *sec = &r->sectors[s];
		for (int k = 0; k < REPORT_STATUSES; k++)
			ids_free(&sec->status_src[k]);
		ids_free(&sec->planned_src);
		ids_free(&sec->estimated_src);
		ids_free(&sec->measured_src);
		for (size_t c = 0; c < sec->n_costs; c++)
			ids_free(&sec->costs[c].src);
		free(sec->costs);
	}
	for (size_t i = 0; i < r->n_lessons; i++) {
		struct report_lesson *l = &r->lessons[i];
		free(l->title);
		free(l->lang);
		for (size_t j = 0; j < l->n_tags; j++)
			free(l->tags[j]);
		free(l->tags);
		free(l->endorsers);
		ids_free(&l->endorse_src);
	}
	free(r->lessons);
	group_free(r->by_sector, r->n_by_sector);
	group_free(r->by_tag, r->n_by_tag);
	ids_free(&r->no_baseline);
	ids_free(&r->orphan_results);
	free(r->alliance_name);
	if (r->priv) {
		idmap_free(&r->priv->members);
		free(r->priv->mtab);
		idmap_free(&r->priv->lessons);
		free(r->priv->mrecs);
		free(r->priv->mres_ids);
		free(r->priv->mids);
		free(r->priv->sumtab);
		free(r->priv);
	}
	free(r);
}

int report_set_alliance_name(struct report *r, const char *name)
{
	char *s = strdup(name ? name : "");
	if (!s)
		return -ENOMEM;
	free(r->alliance_name);
	r->alliance_name = s;
	return 0;
}

/* ------------------------------------------------------------- helpers */

static char *dupstr(const char *s)
{
	return strdup(s ? s : "");
}

static bool author_included(const struct report *r, const uint8_t *key)
{
	if (!r->opt.n_authors)
		return true;
	for (size_t i = 0; i < r->opt.n_authors; i++)
		if (!memcmp(r->opt.authors[i], key, PROTO_KEY_BYTES))
			return true;
	return false;
}

/* The member for an author key, created on first sight; NULL if out of memory. */
static struct report_member *member_get(struct report *r, const uint8_t *key, size_t *idx)
{
	size_t *v = idmap_find(&r->priv->members, key);
	if (v) {
		if (idx)
			*idx = *v;
		return &r->members[*v];
	}
	if (r->n_members == r->cap_members) {
		size_t cap = r->cap_members ? r->cap_members * 2 : 16;
		void *p = realloc(r->members, cap * sizeof(*r->members));
		if (!p)
			return NULL;
		r->members = p;
		r->cap_members = cap;
	}
	struct report_member *m = &r->members[r->n_members];
	memset(m, 0, sizeof(*m));
	memcpy(m->key, key, PROTO_KEY_BYTES);
	if (idmap_put(&r->priv->members, key, r->n_members) < 0)
		return NULL;
	if (idx)
		*idx = r->n_members;
	r->n_members++;
	return m;
}

static int set_name(char **dst, const char *src)
{
	char *s;
	if (!src || !*src)
		return 0;
	s = strdup(src);
	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

bool report_unit_is_tco2e(const char *unit)
{
	char buf[16];
	size_t n = 0;

	if (!unit)
		return false;
	/* Compare "tco2e" / "tco2" ignoring spaces, dots and case, then allow
	 * only a per-period suffix ("/a", "/år", "/year"). */
	for (const char *p = unit; *p && n < sizeof(buf) - 1; p++) {
		if (*p == ' ' || *p == '.' || *p == '-' || *p == '_')
			continue;
		if (*p == '/')
			break;
		buf[n++] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
	}
	buf[n] = '\0';
	return !strcmp(buf, "tco2e") || !strcmp(buf, "tco2eq") || !strcmp(buf, "tco2");
}

unsigned report_key_sector(int sector)
{
	switch (sector) {
	case AGORA__SECTOR__SECTOR_MUNICIPAL_BUILDINGS:
	case AGORA__SECTOR__SECTOR_PUBLIC_LIGHTING:
		return 1u << 0;
	case AGORA__SECTOR__SECTOR_TERTIARY_BUILDINGS:
		return 1u << 1;
	case AGORA__SECTOR__SECTOR_RESIDENTIAL_BUILDINGS:
		return 1u << 2;
	case AGORA__SECTOR__SECTOR_TRANSPORT_MUNICIPAL_FLEET:
	case AGORA__SECTOR__SECTOR_TRANSPORT_PUBLIC:
	case AGORA__SECTOR__SECTOR_TRANSPORT_PRIVATE_COMMERCIAL:
		return 1u << 3;
	default:
		return 0;
	}
}

double report_path_value(unsigned baseline_year, double baseline, unsigned target_year,
                         double target_value, unsigned y)
{
	if (y >= target_year)
		return target_value;
	if (y <= baseline_year)
		return baseline;
	return baseline + (target_value - baseline) * (double)(y - baseline_year) /
	       (double)(target_year - baseline_year);
}

static bool year_ok(const struct report *r, unsigned y)
{
	return !r->opt.year || !y || y <= r->opt.year;
}

static int sector_ok(int s)
{
	return s >= 0 && s < REPORT_SECTORS ? s : 0;
}

/* --------------------------------------------------------- record kinds */

static int add_profile(struct report *r, const Agora__Record *rec, const Agora__Profile *p)
{
	struct report_member *m = member_get(r, rec->author.data, NULL);
	if (!m)
		return -ENOMEM;
	m->admitted = true;  /* it speaks for itself: a member, not an observer */
	if (set_name(&m->name, p->name) < 0 || set_name(&m->country, p->country) < 0)
		return -ENOMEM;
	return 0;
}

static int add_admission(struct report *r, const Agora__Admission *a)
{
	if (a->member.len != PROTO_KEY_BYTES || !author_included(r, a->member.data))
		return 0;
	if (a->role == AGORA__ROLE__ROLE_OBSERVER && !idmap_find(&r->priv->members, a->member.data))
		return 0;
	struct report_member *m = member_get(r, a->member.data, NULL);
	if (!m)
		return -ENOMEM;
	if (a->role != AGORA__ROLE__ROLE_OBSERVER)
		m->admitted = true;
	if (!m->name && set_name(&m->name, a->name) < 0)
		return -ENOMEM;
	if (!m->country && set_name(&m->country, a->country) < 0)
		return -ENOMEM;
	return 0;
}

static int add_target(struct report_member *m, const uint8_t *id,
                      const Agora__Target *t)
{
	if (m->n_targets == m->cap_targets) {
		size_t cap = m->cap_targets ? m->cap_targets * 2 : 4;
		void *p = realloc(m->targets, cap * sizeof(*m->targets));
		if (!p)
			return -ENOMEM;
		m->targets = p;
		m->cap_targets = cap;
	}
	struct report_target *x = &m->targets[m->n_targets];
	memset(x, 0, sizeof(*x));
	memcpy(x->id, id, PROTO_ID_BYTES);
	x->type = t->type;
	x->scope = t->scope;
	x->title = dupstr(t->title);
	x->lang = dupstr(t->language);
	if (!x->title || !x->lang) {
		free(x->title);
		free(x->lang);
		return -ENOMEM;
	}
	x->target_year = t->target_year;
	x->reduction_pct = t->has_reduction_pct ? t->reduction_pct : 0;
	if (t->type == AGORA__TARGET_KIND__TARGET_KIND_NET_ZERO && !t->has_reduction_pct)
		x->reduction_pct = 100;
	if (t->has_baseline_year && t->baseline_year && t->has_baseline_tco2e) {
		x->own_baseline = x->has_baseline = true;
		x->baseline_year = t->baseline_year;
		x->baseline = t->baseline_tco2e;
	}
	m->n_targets++;
	return 0;
}

static int add_inventory(struct report *r, struct report_member *m, const uint8_t *id,
                         uint64_t created, const Agora__Inventory *inv)
{
	if (!year_ok(r, inv->year) || !inv->year)
		return 0;
	if (m->n_inv == m->cap_inv) {
		size_t cap = m->cap_inv ? m->cap_inv * 2 : 4;
		void *p = realloc(m->inv, cap * sizeof(*m->inv));
		if (!p)
			return -ENOMEM;
		m->inv = p;
		m->cap_inv = cap;
	}
	struct report_inventory *x = &m->inv[m->n_inv++];
	memset(x, 0, sizeof(*x));
	memcpy(x->id, id, PROTO_ID_BYTES);
	x->type = inv->type;
	x->year = inv->year;
	x->created_ms = created;
	for (size_t i = 0; i < inv->n_sectors; i++) {
		const Agora__SectorEmission *se = inv->sectors[i];
		int s = sector_ok(se->sector);
		double t = se->has_tco2e && isfinite(se->tco2e) ? se->tco2e : 0;
		x->total += t;
		x->sector_t[s] += t;
		if (t > 0 || (se->has_mwh && se->mwh > 0))
			x->covered |= 1u << s;
	}
	return 0;
}

static const struct mrec *mfind_(const struct report_priv *p, const uint8_t *id, size_t *idx)
{
	if (!p->mtab_cap)
		return NULL;
	for (size_t i = id_hash(id) & (p->mtab_cap - 1);; i = (i + 1) & (p->mtab_cap - 1)) {
		uint32_t v = p->mtab[i];
		if (v == UINT32_MAX)
			return NULL;
		if (!memcmp(p->mids[v], id, PROTO_ID_BYTES)) {
			*idx = v;
			return &p->mrecs[v];
		}
	}
}

/* Index of measure id, or SIZE_MAX. */
static size_t mfind(const struct report_priv *p, const uint8_t *id)
{
	size_t idx;
	return mfind_(p, id, &idx) ? idx : SIZE_MAX;
}

static void mtab_insert(uint32_t *tab, size_t cap, const uint8_t *id, uint32_t v)
{
	size_t i = id_hash(id) & (cap - 1);
	while (tab[i] != UINT32_MAX)
		i = (i + 1) & (cap - 1);
	tab[i] = v;
}

/* Insert mrec v (its id already in mids[v]); ids are unique record ids. */
static int mtab_put(struct report_priv *p, uint32_t v)
{
	if ((p->n_mrecs + 1) * 2 > p->mtab_cap) {
		size_t cap = p->mtab_cap ? p->mtab_cap * 2 : 1024;
		uint32_t *t = malloc(cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		memset(t, 0xff, cap * sizeof(*t));
		for (size_t i = 0; i < p->mtab_cap; i++)
			if (p->mtab[i] != UINT32_MAX)
				mtab_insert(t, cap, p->mids[p->mtab[i]], p->mtab[i]);
		free(p->mtab);
		p->mtab = t;
		p->mtab_cap = cap;
	}
	mtab_insert(p->mtab, p->mtab_cap, p->mids[v], v);
	return 0;
}

static int add_measure(struct report *r, size_t midx, const uint8_t *id,
                       const Agora__Measure *ms)
{
	struct report_priv *p = r->priv;
	struct report_member *m = &r->members[midx];
	int s = sector_ok(ms->sector);
	int st = ms->status >= 0 && ms->status < REPORT_STATUSES ? ms->status : 0;

	if (r->opt.sector && s != r->opt.sector)
		return 0;
	if (r->opt.year && ms->start_year && ms->start_year > r->opt.year)
		return 0;
	if (p->n_mrecs == p->cap_mrecs) {
		size_t cap = p->cap_mrecs ? p->cap_mrecs * 2 : 256;
		void *q = realloc(p->mrecs, cap * sizeof(*p->mrecs));
		if (!q)
			return -ENOMEM;
		p->mrecs = q;
		q = realloc(p->mids, cap * sizeof(*p->mids));
		if (!q)
			return -ENOMEM;
		p->mids = q;
		if (r->opt.explain) {
			q = realloc(p->mres_ids, cap * sizeof(*p->mres_ids));
			if (!q)
				return -ENOMEM;
			p->mres_ids = q;
		}
		p->cap_mrecs = cap;
	}
	struct mrec *x = &p->mrecs[p->n_mrecs];
	memset(x, 0, sizeof(*x));
	x->member = (uint32_t)midx;
	x->sector = (uint8_t)s;
	x->status = (uint8_t)st;
	x->reduction = ms->has_reduction_tco2e && isfinite(ms->reduction_tco2e) ?
	               ms->reduction_tco2e : 0;
	x->investment = ms->has_investment && isfinite(ms->investment) ? ms->investment : 0;
	if (ms->currency)
		snprintf(x->currency, sizeof(x->currency), "%s", ms->currency);
	if (p->n_mrecs >= UINT32_MAX - 1)
		return -ENOMEM;
	memcpy(p->mids[p->n_mrecs], id, PROTO_ID_BYTES);
	if (mtab_put(p, (uint32_t)p->n_mrecs) < 0)
		return -ENOMEM;
	p->n_mrecs++;

	m->n_measures++;
	m->by_status[st]++;
	if (st != AGORA__STATUS__STATUS_CANCELLED)
		m->action_key_sectors |= report_key_sector(s);
	struct report_sector *sec = &r->sectors[s];
	sec->n_measures++;
	sec->by_status[st]++;
	sec->planned += x->reduction;
	r->by_status[st]++;
	r->planned += x->reduction;
	if (r->opt.explain) {
		if (ids_add(&m->status_src[st], id) < 0 || ids_add(&sec->status_src[st], id) < 0)
			return -ENOMEM;
		if (x->reduction != 0 && ids_add(&sec->planned_src, id) < 0)
			return -ENOMEM;
	}
	return 0;
}

static uint64_t str_hash(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL;   /* separator */
}

static bool str_eq(const char *a, const char *b, size_t n)
{
	return !strncmp(a, b, n) && a[n] == '\0';
}

/* The running sum of (member, indicator, unit), created on first use.
 * unit is not NUL-terminated (a trimmed view); ind is. */
static struct report_sum *sum_get(struct report *r, uint32_t midx, const char *ind,
                                  const char *unit, size_t unit_len)
{
	struct report_priv *p = r->priv;
	struct report_member *m = &r->members[midx];
	size_t ind_len = strlen(ind);
	uint64_t h = str_hash(str_hash(0xcbf29ce484222325ULL ^ midx, ind, ind_len), unit, unit_len);
	size_t i;

	if ((p->sumn + 1) * 2 > p->sumcap) {
		size_t cap = p->sumcap ? p->sumcap * 2 : 64;
		struct sumkey *t = malloc(cap * sizeof(*t));
		if (!t)
			return NULL;
		for (size_t k = 0; k < cap; k++)
			t[k].sum = UINT32_MAX;
		for (size_t k = 0; k < p->sumcap; k++) {
			if (p->sumtab[k].sum == UINT32_MAX)
				continue;
			for (i = p->sumtab[k].h & (cap - 1); t[i].sum != UINT32_MAX; i = (i + 1) & (cap - 1))
				;
			t[i] = p->sumtab[k];
		}
		free(p->sumtab);
		p->sumtab = t;
		p->sumcap = cap;
	}
	for (i = h & (p->sumcap - 1); p->sumtab[i].sum != UINT32_MAX; i = (i + 1) & (p->sumcap - 1)) {
		struct sumkey *k = &p->sumtab[i];
		if (k->h == h && k->member == midx && !strcmp(m->sums[k->sum].indicator, ind) &&
		    str_eq(m->sums[k->sum].unit, unit, unit_len))
			return &m->sums[k->sum];
	}
	if (m->n_sums == m->cap_sums) {
		size_t cap = m->cap_sums ? m->cap_sums * 2 : 8;
		void *q = realloc(m->sums, cap * sizeof(*m->sums));
		if (!q)
			return NULL;
		m->sums = q;
		m->cap_sums = cap;
	}
	struct report_sum *s = &m->sums[m->n_sums];
	memset(s, 0, sizeof(*s));
	s->indicator = strdup(ind);
	s->unit = malloc(unit_len + 1);
	if (!s->indicator || !s->unit) {
		free(s->indicator);
		free(s->unit);
		return NULL;
	}
	memcpy(s->unit, unit, unit_len);
	s->unit[unit_len] = '\0';
	p->sumtab[i].h = h;
	p->sumtab[i].member = midx;
	p->sumtab[i].sum = (uint32_t)m->n_sums;
	p->sumn++;
	m->n_sums++;
	return s;
}

static int orphan(struct report *r, const uint8_t *id)
{
	if (r->opt.explain)
		return ids_add(&r->orphan_results, id);
	r->orphan_results.n++;      /* counted only: no ids without --explain */
	return 0;
}

static int add_result(struct report *r, const uint8_t *id, const Agora__Result *res)
{
	struct report_priv *p = r->priv;
	size_t mi;
	uint8_t newest[PROTO_ID_BYTES];
	const char *unit = res->unit ? res->unit : "";
	size_t unit_len;
	int rc;

	if (!year_ok(r, res->year))
		return 0;
	if (res->measure.len != PROTO_ID_BYTES)
		return orphan(r, id);
	mi = mfind(p, res->measure.data);
	if (mi == SIZE_MAX) {
		/* Not a measure the report holds: an older version of one, one
		 * outside the filters, or none at all (the data-quality case).
		 * Nothing is changed before the resolver answers, so a resolver
		 * that says "later" (-EAGAIN) may have the record added again. */
		rc = p->resolve ? p->resolve(res->measure.data, newest, p->resolve_ctx) :
		     STORE_E_NOTFOUND;
		if (rc == -EAGAIN)
			return rc;
		if (rc < 0)
			return orphan(r, id);
		mi = mfind(p, newest);
		if (mi == SIZE_MAX)
			return 0;   /* filtered out (sector, year, municipality) */
	}
	struct mrec *x = &p->mrecs[mi];
	if (!isfinite(res->value))
		return 0;
	while (*unit == ' ' || *unit == '\t')
		unit++;
	unit_len = strlen(unit);
	while (unit_len && (unit[unit_len - 1] == ' ' || unit[unit_len - 1] == '\t'))
		unit_len--;
	struct report_sum *s = sum_get(r, x->member, res->indicator ? res->indicator : "", unit,
	                               unit_len);
	if (!s)
		return -ENOMEM;
	s->sum += res->value;
	s->count++;
	if (r->opt.explain && ids_add(&s->src, id) < 0)
		return -ENOMEM;
	if (report_unit_is_tco2e(s->unit)) {
		int k = res->estimation == AGORA__ESTIMATION__ESTIMATION_MEASURED ? 1 : 0;
		/* The latest result of each kind stands for the measure: results
		 * of several years are not added up (they are annual figures).
		 * Records arrive oldest first, so on the same year the later
		 * one wins. */
		if (!x->has[k] || res->year >= x->year[k]) {
			x->has[k] = true;
			x->year[k] = (uint16_t)res->year;
			x->value[k] = res->value;
			if (r->opt.explain)
				memcpy(p->mres_ids[mi][k], id, PROTO_ID_BYTES);
		}
	}
	return 0;
}

static int fold_tag(char **out, const char *tag)
{
	utf8proc_uint8_t *dst = NULL;
	utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)tag, 0, &dst,
	                                  UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
	                                  UTF8PROC_CASEFOLD);
	if (n < 0)
		return n == UTF8PROC_ERROR_NOMEM ? -ENOMEM : -EINVAL;
	*out = (char *)dst;
	return 0;
}

static int add_lesson(struct report *r, size_t midx, const uint8_t *id, uint64_t created,
                      const Agora__Lesson *ls)
{
	int s = sector_ok(ls->sector);

	if (r->opt.sector && s != r->opt.sector)
		return 0;
	if (!year_ok(r, ls->year))
		return 0;
	if (r->n_lessons == r->cap_lessons) {
		size_t cap = r->cap_lessons ? r->cap_lessons * 2 : 16;
		void *q = realloc(r->lessons, cap * sizeof(*r->lessons));
		if (!q)
			return -ENOMEM;
		r->lessons = q;
		r->cap_lessons = cap;
	}
	struct report_lesson *l = &r->lessons[r->n_lessons];
	memset(l, 0, sizeof(*l));
	memcpy(l->id, id, PROTO_ID_BYTES);
	l->member = midx;
	memcpy(l->author, r->members[midx].key, PROTO_KEY_BYTES);
	l->sector = s;
	l->year = ls->year;
	l->created_ms = created;
	l->title = dupstr(ls->title);
	l->lang = dupstr(ls->language);
	l->tags = calloc(ls->n_tags ? ls->n_tags : 1, sizeof(*l->tags));
	r->n_lessons++;  /* from here report_free owns what was allocated */
	if (!l->title || !l->lang || !l->tags)
		return -ENOMEM;
	for (size_t i = 0; i < ls->n_tags; i++) {
		char *t = NULL;
		int rc = fold_tag(&t, ls->tags[i] ? ls->tags[i] : "");
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0 || !*t) {
			free(t);
			continue;
		}
		bool dup = false;
		for (size_t j = 0; j < l->n_tags; j++)
			dup = dup || !strcmp(l->tags[j], t);
		if (dup)
			free(t);
		else
			l->tags[l->n_tags++] = t;
	}
	return idmap_put(&r->priv->lessons, id, r->n_lessons - 1);
}

static int add_endorsement(struct report *r, const uint8_t *id, const uint8_t *author,
                           const Agora__Endorsement *e)
{
	struct report_priv *p = r->priv;
	uint8_t newest[PROTO_ID_BYTES];
	size_t *li;

	if (e->target.len != PROTO_ID_BYTES)
		return 0;
	li = idmap_find(&p->lessons, e->target.data);
	if (!li && p->resolve) {
		int rc = p->resolve(e->target.data, newest, p->resolve_ctx);
		if (rc == -EAGAIN)
			return rc;  /* nothing changed yet: may be added again later */
		if (rc == 0)
			li = idmap_find(&p->lessons, newest);
	}
	if (!li)
		return 0;   /* a measure, or a lesson outside the report */
	struct report_lesson *l = &r->lessons[*li];
	for (size_t i = 0; i < l->endorsements; i++)
		if (!memcmp(l->endorsers[i], author, PROTO_KEY_BYTES))
			return r->opt.explain ? ids_add(&l->endorse_src, id) : 0;
	void *q = realloc(l->endorsers, (l->endorsements + 1) * sizeof(*l->endorsers));
	if (!q)
		return -ENOMEM;
	l->endorsers = q;
	memcpy(l->endorsers[l->endorsements++], author, PROTO_KEY_BYTES);
	return r->opt.explain ? ids_add(&l->endorse_src, id) : 0;
}

int report_add(struct report *r, const uint8_t id[PROTO_ID_BYTES], const Agora__Record *rec)
{
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind = proto_record_content(rec, &msg);
	const uint8_t *author = rec->author.data;
	struct report_member *m;
	size_t midx;

	if (!msg || rec->author.len != PROTO_KEY_BYTES)
		return 0;
	if (rec->alliance.len == PROTO_ID_BYTES && !r->any_alliance &&
	    memcmp(rec->alliance.data, r->alliance, PROTO_ID_BYTES))
		return 0;   /* another alliance's record is not this report's business */
	if (kind == PROTO_KIND_ADMISSION)
		return add_admission(r, (const Agora__Admission *)msg);
	if (kind == PROTO_KIND_ENDORSEMENT)
		return add_endorsement(r, id, author, (const Agora__Endorsement *)msg);
	if (!author_included(r, author))
		return 0;
	switch (kind) {
	case PROTO_KIND_PROFILE:
		return add_profile(r, rec, (const Agora__Profile *)msg);
	case PROTO_KIND_RESULT:
		return add_result(r, id, (const Agora__Result *)msg);
	case PROTO_KIND_TARGET:
	case PROTO_KIND_INVENTORY:
	case PROTO_KIND_MEASURE:
	case PROTO_KIND_LESSON:
		break;
	default:
		return 0;
	}
	m = member_get(r, author, &midx);
	if (!m)
		return -ENOMEM;
	m->admitted = true;
	switch (kind) {
	case PROTO_KIND_TARGET:
		return add_target(m, id, (const Agora__Target *)msg);
	case PROTO_KIND_INVENTORY:
		return add_inventory(r, m, id, rec->created_ms, (const Agora__Inventory *)msg);
	case PROTO_KIND_MEASURE:
		return add_measure(r, midx, id, (const Agora__Measure *)msg);
	default:
		return add_lesson(r, midx, id, rec->created_ms, (const Agora__Lesson *)msg);
	}
}

int report_add_fork(struct report *r, const uint8_t author[PROTO_KEY_BYTES])
{
	if (!author_included(r, author))
		return 0;
	struct report_member *m = member_get(r, author, NULL);
	if (!m)
		return -ENOMEM;
	m->forked = true;
	return 0;
}

/* -------------------------------------------------------------- finish */

static int inv_cmp(const void *a, const void *b)
{
	const struct report_inventory *x = a, *y = b;
	if (x->year != y->year)
		return x->year < y->year ? -1 : 1;
	if (x->created_ms != y->created_ms)
		return x->created_ms < y->created_ms ? -1 : 1;
	return memcmp(x->id, y->id, PROTO_ID_BYTES);
}

static int sum_cmp(const void *a, const void *b)
{
	const struct report_sum *x = a, *y = b;
	int c = strcmp(x->indicator, y->indicator);
	return c ? c : strcmp(x->unit, y->unit);
}

static unsigned popcount4(unsigned v)
{
	return (v & 1) + ((v >> 1) & 1) + ((v >> 2) & 1) + ((v >> 3) & 1);
}

static unsigned key_sectors_of(unsigned covered)
{
	unsigned k = 0;
	for (int s = 0; s < REPORT_SECTORS; s++)
		if (covered & (1u << s))
			k |= report_key_sector(s);
	return k;
}

static int finish_member(struct report *r, struct report_member *m)
{
	const struct report_inventory *bei = NULL;
	bool ex = r->opt.explain;

	if (!m->name) {
		char hex[PROTO_KEY_BYTES * 2 + 1];
		proto_hex(hex, m->key, PROTO_KEY_BYTES);
		hex[12] = '\0';
		m->name = strdup(hex);
		if (!m->name)
			return -ENOMEM;
	}
	if (!m->country && !(m->country = strdup("")))
		return -ENOMEM;
	if (m->n_inv)
		qsort(m->inv, m->n_inv, sizeof(*m->inv), inv_cmp);
	if (m->n_sums)
		qsort(m->sums, m->n_sums, sizeof(*m->sums), sum_cmp);
	m->latest = m->n_inv ? &m->inv[m->n_inv - 1] : NULL;
	for (size_t i = 0; i < m->n_inv && !bei; i++)
		if (m->inv[i].type == AGORA__INVENTORY_KIND__INVENTORY_KIND_BEI)
			bei = &m->inv[i];
	/* Later BEIs of the same (earliest) year replace earlier-made ones. */
	for (size_t i = 0; bei && i < m->n_inv; i++)
		if (m->inv[i].type == AGORA__INVENTORY_KIND__INVENTORY_KIND_BEI &&
		    m->inv[i].year == bei->year)
			bei = &m->inv[i];

	if (bei) {
		m->has_baseline = true;
		m->baseline_year = bei->year;
		m->baseline = bei->total;
		if (ex && ids_add(&m->baseline_src, bei->id) < 0)
			return -ENOMEM;
	} else {
		const struct report_target *best = NULL;
		for (size_t i = 0; i < m->n_targets; i++)
			if (m->targets[i].own_baseline &&
			    (!best || m->targets[i].baseline_year < best->baseline_year))
				best = &m->targets[i];
		if (best) {
			m->has_baseline = true;
			m->baseline_year = best->baseline_year;
			m->baseline = best->baseline;
			if (ex && ids_add(&m->baseline_src, best->id) < 0)
				return -ENOMEM;
		}
	}
	if (m->has_baseline && m->latest && m->baseline > 0) {
		m->has_achieved = true;
		m->achieved_pct = (m->baseline - m->latest->total) / m->baseline * 100.0;
		if (ex && (ids_cat(&m->achieved_src, &m->baseline_src) < 0 ||
		           ids_add(&m->achieved_src, m->latest->id) < 0))
			return -ENOMEM;
	}

	for (size_t i = 0; i < m->n_targets; i++) {
		struct report_target *t = &m->targets[i];
		if (ex && ids_add(&t->src, t->id) < 0)
			return -ENOMEM;
		if (!t->own_baseline && bei) {
			t->has_baseline = true;
			t->baseline_year = bei->year;
			t->baseline = bei->total;
			if (ex && ids_add(&t->src, bei->id) < 0)
				return -ENOMEM;
		}
		if (!t->has_baseline) {
			if (ids_add(&r->no_baseline, t->id) < 0)
				return -ENOMEM;
			continue;
		}
		t->target_value = t->baseline * (1.0 - t->reduction_pct / 100.0);
		if (!m->latest || t->baseline <= 0 || t->scope == AGORA__SCOPE__SCOPE_MUNICIPAL_OPERATIONS)
			continue;
		if (ex && ids_add(&t->src, m->latest->id) < 0)
			return -ENOMEM;
		t->has_achieved = true;
		t->achieved_pct = (t->baseline - m->latest->total) / t->baseline * 100.0;
		if (t->type == AGORA__TARGET_KIND__TARGET_KIND_PER_CAPITA_REDUCTION ||
		    t->scope == AGORA__SCOPE__SCOPE_MUNICIPAL_OPERATIONS ||
		    t->target_year <= t->baseline_year || m->latest->year < t->baseline_year)
			continue;
		t->evaluated = true;
		t->eval_year = m->latest->year;
		t->path_value = report_path_value(t->baseline_year, t->baseline, t->target_year,
		                                  t->target_value, t->eval_year);
		t->on_track = m->latest->total <= t->path_value;
		t->gap = m->latest->total - t->path_value;
		t->gap_pp = t->gap / t->baseline * 100.0;
	}
	m->inv_key_sectors = m->latest ? key_sectors_of(m->latest->covered) : 0;
	m->com_ok = popcount4(m->inv_key_sectors) >= 3 && popcount4(m->action_key_sectors) >= 2;
	return 0;
}

static int finish_sectors(struct report *r)
{
	struct report_priv *p = r->priv;
	bool ex = r->opt.explain;

	for (size_t i = 0; i < p->n_mrecs; i++) {
		struct mrec *x = &p->mrecs[i];
		struct report_sector *sec = &r->sectors[x->sector];
		double red = x->reduction;
		if (x->has[0]) {
			sec->estimated += x->value[0];
			r->estimated += x->value[0];
			if (ex && ids_add(&sec->estimated_src, p->mres_ids[i][0]) < 0)
				return -ENOMEM;
			red = x->value[0];
		}
		if (x->has[1]) {
			sec->measured += x->value[1];
			r->measured += x->value[1];
			if (ex && ids_add(&sec->measured_src, p->mres_ids[i][1]) < 0)
				return -ENOMEM;
			red = x->value[1];
		}
		if (!(x->investment > 0) || !(red > 0))
			continue;
		size_t c;
		for (c = 0; c < sec->n_costs; c++)
			if (!strcasecmp(sec->costs[c].currency, x->currency))
				break;
		if (c == sec->n_costs) {
			void *q = realloc(sec->costs, (c + 1) * sizeof(*sec->costs));
			if (!q)
				return -ENOMEM;
			sec->costs = q;
			memset(&sec->costs[c], 0, sizeof(sec->costs[c]));
			for (size_t k = 0; k < sizeof(sec->costs[c].currency) - 1 && x->currency[k]; k++)
				sec->costs[c].currency[k] = (char)((x->currency[k] >= 'a' &&
				                                    x->currency[k] <= 'z') ?
				                                   x->currency[k] - 32 : x->currency[k]);
			sec->n_costs++;
		}
		struct report_cost *cost = &sec->costs[c];
		cost->investment += x->investment;
		cost->reduction += red;
		if (ex) {
			if (ids_add(&cost->src, p->mids[i]) < 0)
				return -ENOMEM;
			for (int k = 0; k < 2; k++)
				if (x->has[k] && (k == 1 || !x->has[1]) &&
				    ids_add(&cost->src, p->mres_ids[i][k]) < 0)
					return -ENOMEM;
		}
	}
	for (int s = 0; s < REPORT_SECTORS; s++)
		for (size_t c = 0; c < r->sectors[s].n_costs; c++) {
			struct report_cost *cost = &r->sectors[s].costs[c];
			cost->per_tonne = cost->reduction > 0 ? cost->investment / cost->reduction : 0;
		}
	return 0;
}

/* qsort has no context argument in C11: sort an array of (key, index). */
struct lsort {
	unsigned year;
	uint64_t created;
	size_t endorsements;
	const uint8_t *id;
	size_t idx;
};

static int lsort_recent(const void *a, const void *b)
{
	const struct lsort *x = a, *y = b;
	if (x->year != y->year)
		return x->year > y->year ? -1 : 1;
	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return memcmp(x->id, y->id, PROTO_ID_BYTES);
}

static int lsort_endorsed(const void *a, const void *b)
{
	const struct lsort *x = a, *y = b;
	if (x->endorsements != y->endorsements)
		return x->endorsements > y->endorsements ? -1 : 1;
	return lsort_recent(a, b);
}

static int group_add(struct report_group **gs, size_t *n, int sector, const char *tag,
                     size_t lesson)
{
	size_t i;
	for (i = 0; i < *n; i++)
		if (tag ? !strcmp((*gs)[i].tag, tag) : (*gs)[i].sector == sector)
			break;
	if (i == *n) {
		void *q = realloc(*gs, (*n + 1) * sizeof(**gs));
		if (!q)
			return -ENOMEM;
		*gs = q;
		memset(&(*gs)[i], 0, sizeof((*gs)[i]));
		(*gs)[i].sector = sector;
		(*gs)[i].tag = tag;
		(*n)++;
	}
	struct report_group *g = &(*gs)[i];
	void *q = realloc(g->lessons, (g->n + 1) * sizeof(*g->lessons));
	if (!q)
		return -ENOMEM;
	g->lessons = q;
	g->lessons[g->n++] = lesson;
	return 0;
}

static int group_sector_cmp(const void *a, const void *b)
{
	const struct report_group *x = a, *y = b;
	return (x->sector > y->sector) - (x->sector < y->sector);
}

static int group_tag_cmp(const void *a, const void *b)
{
	const struct report_group *x = a, *y = b;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->tag, y->tag);
}

static int finish_lessons(struct report *r)
{
	struct lsort *v;
	int rc = 0;

	if (!r->n_lessons)
		return 0;
	v = calloc(r->n_lessons, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_lessons; i++) {
		v[i].year = r->lessons[i].year;
		v[i].created = r->lessons[i].created_ms;
		v[i].endorsements = r->lessons[i].endorsements;
		v[i].id = r->lessons[i].id;
		v[i].idx = i;
	}
	if (r->n_lessons)
		qsort(v, r->n_lessons, sizeof(*v), lsort_recent);
	for (size_t i = 0; i < r->n_lessons && r->n_recent < REPORT_TOP; i++)
		r->recent[r->n_recent++] = v[i].idx;
	if (r->n_lessons)
		qsort(v, r->n_lessons, sizeof(*v), lsort_endorsed);
	for (size_t i = 0; i < r->n_lessons && r->n_endorsed < REPORT_TOP; i++)
		if (v[i].endorsements)
			r->endorsed[r->n_endorsed++] = v[i].idx;
	/* Groups list lessons newest first. */
	if (r->n_lessons)
		qsort(v, r->n_lessons, sizeof(*v), lsort_recent);
	for (size_t i = 0; i < r->n_lessons && rc == 0; i++) {
		const struct report_lesson *l = &r->lessons[v[i].idx];
		rc = group_add(&r->by_sector, &r->n_by_sector, l->sector, NULL, v[i].idx);
		for (size_t t = 0; t < l->n_tags && rc == 0; t++)
			rc = group_add(&r->by_tag, &r->n_by_tag, 0, l->tags[t], v[i].idx);
	}
	free(v);
	if (rc < 0)
		return rc;
	if (r->n_by_sector)
		qsort(r->by_sector, r->n_by_sector, sizeof(*r->by_sector), group_sector_cmp);
	if (r->n_by_tag)
		qsort(r->by_tag, r->n_by_tag, sizeof(*r->by_tag), group_tag_cmp);
	return 0;
}

static int member_cmp(const void *a, const void *b)
{
	const struct report_member *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : memcmp(x->key, y->key, PROTO_KEY_BYTES);
}

int report_finish(struct report *r)
{
	int rc;

	r->priv->resolve = NULL;    /* it may borrow a transaction about to end */
	for (size_t i = 0; i < r->n_members; i++)
		if ((rc = finish_member(r, &r->members[i])) < 0)
			return rc;
	if ((rc = finish_sectors(r)) < 0)
		return rc;
	/* Sort members by name; lessons refer to members by index, so keep a
	 * key-to-index map current. */
	if (r->n_members)
		qsort(r->members, r->n_members, sizeof(*r->members), member_cmp);
	for (size_t i = 0; i < r->n_members; i++) {
		r->members[i].latest = r->members[i].n_inv ?
			&r->members[i].inv[r->members[i].n_inv - 1] : NULL;
		if (r->members[i].forked)
			r->n_forked++;
	}
	idmap_free(&r->priv->members);
	for (size_t i = 0; i < r->n_members; i++)
		if (idmap_put(&r->priv->members, r->members[i].key, i) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < r->n_lessons; i++)
		r->lessons[i].member = *idmap_find(&r->priv->members, r->lessons[i].author);
	return finish_lessons(r);
}
