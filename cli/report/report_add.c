/*
 * report_add.c - the records a report is computed from, one at a time:
 * profiles and admissions name the members, targets and inventories give
 * their baselines, measures and results their progress, lessons and
 * endorsements what they learned.  Memory is bounded by what the report
 * shows, not by the number of records: a measure costs one small entry
 * (needed to attribute its results), a result only adds to a running sum.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <utf8proc.h>

#include "cli/report/report.h"
#include "cli/report/report_int.h"

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
	size_t *v = report_idmap_find(&r->priv->members, key);
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
	if (report_idmap_put(&r->priv->members, key, r->n_members) < 0)
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
	if (a->role == AGORA__ROLE__ROLE_OBSERVER && !report_idmap_find(&r->priv->members, a->member.data))
		return 0;
	struct report_member *m = member_get(r, a->member.data, NULL);
	if (!m)
		return -ENOMEM;
	if (a->role != AGORA__ROLE__ROLE_OBSERVER)
		m->admitted = true;
	if (a->role == AGORA__ROLE__ROLE_COORDINATOR && report_add_coordinator(r, a->member.data) < 0)
		return -ENOMEM;
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
	for (size_t i = report_id_hash(id) & (p->mtab_cap - 1);; i = (i + 1) & (p->mtab_cap - 1)) {
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
	size_t i = report_id_hash(id) & (cap - 1);
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
		if (report_ids_add(&m->status_src[st], id) < 0 || report_ids_add(&sec->status_src[st], id) < 0)
			return -ENOMEM;
		if (x->reduction != 0 && report_ids_add(&sec->planned_src, id) < 0)
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
		return report_ids_add(&r->orphan_results, id);
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
	if (r->opt.explain && report_ids_add(&s->src, id) < 0)
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
	return report_idmap_put(&r->priv->lessons, id, r->n_lessons - 1);
}

static int add_endorsement(struct report *r, const uint8_t *id, const uint8_t *author,
                           const Agora__Endorsement *e)
{
	struct report_priv *p = r->priv;
	uint8_t newest[PROTO_ID_BYTES];
	size_t *li;

	if (e->target.len != PROTO_ID_BYTES)
		return 0;
	li = report_idmap_find(&p->lessons, e->target.data);
	if (!li && p->resolve) {
		int rc = p->resolve(e->target.data, newest, p->resolve_ctx);
		if (rc == -EAGAIN)
			return rc;  /* nothing changed yet: may be added again later */
		if (rc == 0)
			li = report_idmap_find(&p->lessons, newest);
	}
	if (!li)
		return 0;   /* a measure, or a lesson outside the report */
	struct report_lesson *l = &r->lessons[*li];
	for (size_t i = 0; i < l->endorsements; i++)
		if (!memcmp(l->endorsers[i], author, PROTO_KEY_BYTES))
			return r->opt.explain ? report_ids_add(&l->endorse_src, id) : 0;
	void *q = realloc(l->endorsers, (l->endorsements + 1) * sizeof(*l->endorsers));
	if (!q)
		return -ENOMEM;
	l->endorsers = q;
	memcpy(l->endorsers[l->endorsements++], author, PROTO_KEY_BYTES);
	return r->opt.explain ? report_ids_add(&l->endorse_src, id) : 0;
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
	if (rec->created_ms > r->newest_ms)
		r->newest_ms = rec->created_ms;
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

