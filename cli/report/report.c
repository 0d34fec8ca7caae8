/*
 * report.c - the summit report's figures: the report object, the id lists
 * and maps its figures are built from, and report_finish(), which derives
 * every figure once the records are in (report_add.c adds them).
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

#include "cli/report/report.h"
#include "cli/report/report_int.h"


/* ------------------------------------------------------------ id lists */

int report_ids_add(struct report_ids *l, const uint8_t id[PROTO_ID_BYTES])
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

int report_ids_cat(struct report_ids *dst, const struct report_ids *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (report_ids_add(dst, src->v[i]) < 0)
			return -ENOMEM;
	return 0;
}

void report_ids_free(struct report_ids *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ------------------------------------------------------ id -> index map */

size_t *report_idmap_find(const struct idmap *m, const uint8_t *id)
{
	if (!m->cap)
		return NULL;
	for (size_t i = report_id_hash(id) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (m->vals[i] == SIZE_MAX)
			return NULL;
		if (!memcmp(m->keys[i], id, PROTO_ID_BYTES))
			return &m->vals[i];
	}
}

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
			report_idmap_put(&g, m->keys[i], m->vals[i]);
	free(m->keys);
	free(m->vals);
	*m = g;
	return 0;
}

/* Insert or overwrite. */
int report_idmap_put(struct idmap *m, const uint8_t *id, size_t val)
{
	size_t *v = report_idmap_find(m, id);
	if (v) {
		*v = val;
		return 0;
	}
	if ((m->n + 1) * 2 > m->cap && idmap_grow(m) < 0)
		return -ENOMEM;
	size_t i = report_id_hash(id) & (m->cap - 1);
	while (m->vals[i] != SIZE_MAX)
		i = (i + 1) & (m->cap - 1);
	memcpy(m->keys[i], id, PROTO_ID_BYTES);
	m->vals[i] = val;
	m->n++;
	return 0;
}

void report_idmap_free(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

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
	free(r->coords);
	for (size_t i = 0; i < r->n_members; i++) {
		struct report_member *m = &r->members[i];
		free(m->name);
		free(m->country);
		free(m->inv);
		for (size_t j = 0; j < m->n_targets; j++) {
			free(m->targets[j].title);
			free(m->targets[j].lang);
			report_ids_free(&m->targets[j].src);
		}
		free(m->targets);
		report_ids_free(&m->baseline_src);
		report_ids_free(&m->achieved_src);
		for (int s = 0; s < REPORT_STATUSES; s++)
			report_ids_free(&m->status_src[s]);
		for (size_t j = 0; j < m->n_sums; j++) {
			free(m->sums[j].indicator);
			free(m->sums[j].unit);
			report_ids_free(&m->sums[j].src);
		}
		free(m->sums);
	}
	free(r->members);
	for (int s = 0; s < REPORT_SECTORS; s++) {
		struct report_sector *sec = &r->sectors[s];
		for (int k = 0; k < REPORT_STATUSES; k++)
			report_ids_free(&sec->status_src[k]);
		report_ids_free(&sec->planned_src);
		report_ids_free(&sec->estimated_src);
		report_ids_free(&sec->measured_src);
		for (size_t c = 0; c < sec->n_costs; c++)
			report_ids_free(&sec->costs[c].src);
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
		report_ids_free(&l->endorse_src);
	}
	free(r->lessons);
	group_free(r->by_sector, r->n_by_sector);
	group_free(r->by_tag, r->n_by_tag);
	report_ids_free(&r->no_baseline);
	report_ids_free(&r->orphan_results);
	free(r->alliance_name);
	if (r->priv) {
		report_idmap_free(&r->priv->members);
		free(r->priv->mtab);
		report_idmap_free(&r->priv->lessons);
		free(r->priv->mrecs);
		free(r->priv->mres_ids);
		free(r->priv->mids);
		free(r->priv->sumtab);
		free(r->priv);
	}
	free(r);
}

int report_add_coordinator(struct report *r, const uint8_t key[PROTO_KEY_BYTES])
{
	void *v = realloc(r->coords, (r->n_coords + 1) * sizeof(*r->coords));

	if (!v)
		return -ENOMEM;
	r->coords = v;
	memcpy(r->coords[r->n_coords++], key, PROTO_KEY_BYTES);
	return 0;
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
		if (ex && report_ids_add(&m->baseline_src, bei->id) < 0)
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
			if (ex && report_ids_add(&m->baseline_src, best->id) < 0)
				return -ENOMEM;
		}
	}
	if (m->has_baseline && m->latest && m->baseline > 0) {
		m->has_achieved = true;
		m->achieved_pct = (m->baseline - m->latest->total) / m->baseline * 100.0;
		if (ex && (report_ids_cat(&m->achieved_src, &m->baseline_src) < 0 ||
		           report_ids_add(&m->achieved_src, m->latest->id) < 0))
			return -ENOMEM;
	}

	for (size_t i = 0; i < m->n_targets; i++) {
		struct report_target *t = &m->targets[i];
		if (ex && report_ids_add(&t->src, t->id) < 0)
			return -ENOMEM;
		if (!t->own_baseline && bei) {
			t->has_baseline = true;
			t->baseline_year = bei->year;
			t->baseline = bei->total;
			if (ex && report_ids_add(&t->src, bei->id) < 0)
				return -ENOMEM;
		}
		if (!t->has_baseline) {
			if (report_ids_add(&r->no_baseline, t->id) < 0)
				return -ENOMEM;
			continue;
		}
		t->target_value = t->baseline * (1.0 - t->reduction_pct / 100.0);
		if (!m->latest || t->baseline <= 0 || t->scope == AGORA__SCOPE__SCOPE_MUNICIPAL_OPERATIONS)
			continue;
		if (ex && report_ids_add(&t->src, m->latest->id) < 0)
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
			if (ex && report_ids_add(&sec->estimated_src, p->mres_ids[i][0]) < 0)
				return -ENOMEM;
			red = x->value[0];
		}
		if (x->has[1]) {
			sec->measured += x->value[1];
			r->measured += x->value[1];
			if (ex && report_ids_add(&sec->measured_src, p->mres_ids[i][1]) < 0)
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
			if (report_ids_add(&cost->src, p->mids[i]) < 0)
				return -ENOMEM;
			for (int k = 0; k < 2; k++)
				if (x->has[k] && (k == 1 || !x->has[1]) &&
				    report_ids_add(&cost->src, p->mres_ids[i][k]) < 0)
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
	/* A coordinator (a secretariat) that publishes no climate data of its
	 * own is not a member lagging behind: the writers list it apart. */
	for (size_t i = 0; i < r->n_members; i++) {
		struct report_member *m = &r->members[i];
		for (size_t k = 0; k < r->n_coords && !m->coordinator; k++)
			m->coordinator = !memcmp(r->coords[k], m->key, PROTO_KEY_BYTES);
		m->hidden = m->coordinator && !m->n_inv && !m->n_targets && !m->n_measures &&
		            !m->n_sums;
		if (m->hidden)
			r->n_hidden++;
	}
	report_idmap_free(&r->priv->members);
	for (size_t i = 0; i < r->n_members; i++)
		if (report_idmap_put(&r->priv->members, r->members[i].key, i) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < r->n_lessons; i++)
		r->lessons[i].member = *report_idmap_find(&r->priv->members, r->lessons[i].author);
	return finish_lessons(r);
}

