/*
 * report_tables.c - the report laid out as a list of plain tables (members,
 * targets, sectors, costs, lessons, data quality), which every format
 * prints its own way.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report/report_int.h"

static char *num(const struct report_labels *L, double v, int decimals)
{
	char buf[64];
	report_num(L, buf, sizeof(buf), v, decimals);
	return strdup(buf);
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;
	int n;
	va_start(ap, f);
	n = vsnprintf(NULL, 0, f, ap);
	va_end(ap);
	if (n < 0 || !(s = malloc((size_t)n + 1)))
		return NULL;
	va_start(ap, f);
	vsnprintf(s, (size_t)n + 1, f, ap);
	va_end(ap);
	return s;
}


static struct report_table *table_new(const struct report_labels *L, struct report_table **ts,
                                      size_t *n, const char *key,
                                      const char *title, size_t ncols, const char **headers,
                                      const char *numeric)
{
	void *q = realloc(*ts, (*n + 1) * sizeof(**ts));
	if (!q)
		return NULL;
	*ts = q;
	struct report_table *t = &(*ts)[*n];
	memset(t, 0, sizeof(*t));
	t->key = key;
	t->title = title;
	t->ncols = ncols;
	t->headers = malloc(ncols * sizeof(*t->headers));
	t->numeric = calloc(ncols, sizeof(*t->numeric));
	t->colkeys = malloc(ncols * sizeof(*t->colkeys));
	(*n)++;
	if (!t->headers || !t->numeric || !t->colkeys)
		return NULL;
	memcpy(t->headers, headers, ncols * sizeof(*headers));
	for (size_t c = 0; c < ncols; c++)
		t->colkeys[c] = report_label_name(L, headers[c]);
	for (size_t c = 0; c < ncols && numeric[c]; c++)
		t->numeric[c] = numeric[c] == 'n';
	return t;
}

/*
 * Append a row: cells are malloc()ed strings the table takes (NULL means out
 * of memory); langs[c] the language of a record text or NULL; srcs the id
 * lists the row's figures came from.
 */
static int table_row(struct report_table *t, char **cells, const char **langs,
                     const struct report_ids *const *srcs, size_t nsrc)
{
	int rc = 0;
	if (t->rows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		void *a = realloc(t->cells, cap * t->ncols * sizeof(*t->cells));
		if (a)
			t->cells = a;
		void *b = realloc(t->langs, cap * t->ncols * sizeof(*t->langs));
		if (b)
			t->langs = b;
		void *c = realloc(t->src, cap * sizeof(*t->src));
		if (c)
			t->src = c;
		if (!a || !b || !c) {
			for (size_t i = 0; i < t->ncols; i++)
				free(cells[i]);
			return -ENOMEM;
		}
		t->cap = cap;
	}
	struct report_ids *src = &t->src[t->rows];
	memset(src, 0, sizeof(*src));
	for (size_t c = 0; c < t->ncols; c++) {
		t->cells[t->rows * t->ncols + c] = cells[c];
		t->langs[t->rows * t->ncols + c] = langs && langs[c] && *langs[c] ?
			strdup(langs[c]) : NULL;
		if (!cells[c])
			rc = -ENOMEM;
	}
	t->rows++;
	for (size_t i = 0; i < nsrc && rc == 0; i++)
		for (size_t k = 0; k < srcs[i]->n && rc == 0; k++) {
			if (src->n == src->cap) {
				size_t cap = src->cap ? src->cap * 2 : 4;
				void *v = realloc(src->v, cap * sizeof(*src->v));
				if (!v) {
					rc = -ENOMEM;
					break;
				}
				src->v = v;
				src->cap = cap;
			}
			memcpy(src->v[src->n++], srcs[i]->v[k], PROTO_ID_BYTES);
		}
	return rc;
}

void report_tables_free(struct report_table *ts, size_t n)
{
	for (size_t i = 0; ts && i < n; i++) {
		struct report_table *t = &ts[i];
		for (size_t k = 0; k < t->rows * t->ncols; k++) {
			free(t->cells[k]);
			free(t->langs[k]);
		}
		for (size_t k = 0; k < t->rows; k++)
			free(t->src[k].v);
		free(t->cells);
		free(t->langs);
		free(t->src);
		free((void *)t->headers);
		free((void *)t->colkeys);
		free(t->numeric);
	}
	free(ts);
}

static char *key_sectors_text(const struct report_labels *L, unsigned bits)
{
	const char *names[4] = { L->key_municipal, L->key_tertiary, L->key_residential,
	                         L->key_transport };
	char buf[256] = "";
	for (int i = 0; i < 4; i++)
		if (bits & (1u << i)) {
			if (*buf)
				strncat(buf, ", ", sizeof(buf) - strlen(buf) - 1);
			strncat(buf, names[i], sizeof(buf) - strlen(buf) - 1);
		}
	return strdup(*buf ? buf : "-");
}

static int tables_members(struct report_table **ts, size_t *n, const struct report *r,
                          const struct report_labels *L)
{
	const char *h1[] = { L->municipality, L->country, L->baseline_year, L->baseline,
	                     L->latest_year, L->latest, L->achieved, L->measures, L->com_min };
	struct report_table *t = table_new(L, ts, n, "progress", L->sec_progress, 9, h1, "ttnnnnnnt");
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_members; i++) {
		const struct report_member *m = &r->members[i];
		if (m->hidden)
			continue;
		char *c[9] = {
			strdup(m->name), strdup(m->country),
			m->has_baseline ? fmt("%u", m->baseline_year) : strdup("-"),
			m->has_baseline ? num(L, m->baseline, 0) : strdup("-"),
			m->latest ? fmt("%u", m->latest->year) : strdup("-"),
			m->latest ? num(L, m->latest->total, 0) : strdup("-"),
			m->has_achieved ? num(L, m->achieved_pct, 1) : strdup("-"),
			num(L, (double)(m->n_measures), 0),
			strdup(m->com_ok ? L->yes : L->no),
		};
		const struct report_ids *s[] = { &m->baseline_src, &m->achieved_src };
		if (table_row(t, c, NULL, s, 2) < 0)
			return -ENOMEM;
	}

	const char *h2[] = { L->municipality, L->target, L->type, L->baseline_year, L->baseline,
	                     L->target_year, L->target_value, L->year, L->path, L->latest,
	                     L->on_track, L->gap, L->gap_pp };
	t = table_new(L, ts, n, "targets", L->sec_targets, 13, h2, "tttnnnnnnnttn");
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_members; i++) {
		const struct report_member *m = &r->members[i];
		if (m->hidden)
			continue;
		for (size_t k = 0; k < m->n_targets; k++) {
			const struct report_target *x = &m->targets[k];
			char *c[13] = {
				strdup(m->name), strdup(x->title), strdup(report_target_label(L, x->type)),
				x->has_baseline ? fmt("%u", x->baseline_year) : strdup("-"),
				x->has_baseline ? num(L, x->baseline, 0) : strdup("-"),
				x->target_year ? fmt("%u", x->target_year) : strdup("-"),
				x->has_baseline ? num(L, x->target_value, 0) : strdup("-"),
				x->evaluated ? fmt("%u", x->eval_year) : strdup("-"),
				x->evaluated ? num(L, x->path_value, 0) : strdup("-"),
				x->evaluated && m->latest ? num(L, m->latest->total, 0) : strdup("-"),
				strdup(!x->evaluated ? L->not_evaluated : x->on_track ? L->on : L->off),
				x->evaluated ? num(L, x->gap, 0) : strdup("-"),
				x->evaluated ? num(L, x->gap_pp, 1) : strdup("-"),
			};
			const char *langs[13] = { NULL, x->lang };
			const struct report_ids *s[] = { &x->src };
			if (table_row(t, c, langs, s, 1) < 0)
				return -ENOMEM;
		}
	}

	const char *h3[] = { L->municipality, L->status[1], L->status[2], L->status[3],
	                     L->status[4], L->status[5], L->status[0], L->total };
	t = table_new(L, ts, n, "measures_by_status", L->sec_status, 8, h3, "tnnnnnnn");
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_members; i++) {
		const struct report_member *m = &r->members[i];
		if (m->hidden)
			continue;
		char *c[8] = { strdup(m->name) };
		for (int s = 1; s < REPORT_STATUSES; s++)
			c[s] = num(L, (double)(m->by_status[s]), 0);
		c[6] = num(L, (double)(m->by_status[0]), 0);
		c[7] = num(L, (double)(m->n_measures), 0);
		const struct report_ids *s[REPORT_STATUSES];
		for (int k = 0; k < REPORT_STATUSES; k++)
			s[k] = &m->status_src[k];
		if (table_row(t, c, NULL, s, REPORT_STATUSES) < 0)
			return -ENOMEM;
	}

	const char *h4[] = { L->municipality, L->indicator, L->unit, L->sum, L->count };
	t = table_new(L, ts, n, "results", L->sec_results, 5, h4, "tttnn");
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_members; i++) {
		const struct report_member *m = &r->members[i];
		if (m->hidden)
			continue;
		for (size_t k = 0; k < m->n_sums; k++) {
			const struct report_sum *x = &m->sums[k];
			char *c[5] = { strdup(m->name), strdup(x->indicator), strdup(x->unit),
			               num(L, x->sum, fabs(x->sum - round(x->sum)) < 1e-9 ? 0 : 2),
			               num(L, (double)(x->count), 0) };
			const struct report_ids *s[] = { &x->src };
			if (table_row(t, c, NULL, s, 1) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int tables_sectors(struct report_table **ts, size_t *n, const struct report *r,
                          const struct report_labels *L)
{
	const char *h[] = { L->sector, L->status[1], L->status[2], L->status[3], L->status[4],
	                    L->status[5], L->status[0], L->total, L->planned, L->estimated,
	                    L->measured };
	struct report_table *t = table_new(L, ts, n, "sectors", L->sec_sectors, 11, h, "tnnnnnnnnnn");
	if (!t)
		return -ENOMEM;
	for (int s = 0; s <= REPORT_SECTORS; s++) {
		const struct report_sector *x = s < REPORT_SECTORS ? &r->sectors[s] : NULL;
		if (x && !x->n_measures)
			continue;
		char *c[11];
		const size_t *bs = x ? x->by_status : r->by_status;
		size_t tot = 0;
		c[0] = strdup(x ? report_sector_label(L, s) : L->total);
		for (int k = 1; k < REPORT_STATUSES; k++)
			c[k] = num(L, (double)(bs[k]), 0);
		c[6] = num(L, (double)(bs[0]), 0);
		for (int k = 0; k < REPORT_STATUSES; k++)
			tot += bs[k];
		c[7] = num(L, (double)(tot), 0);
		c[8] = num(L, x ? x->planned : r->planned, 0);
		c[9] = num(L, x ? x->estimated : r->estimated, 0);
		c[10] = num(L, x ? x->measured : r->measured, 0);
		const struct report_ids *src[3];
		size_t ns = 0;
		if (x) {
			src[ns++] = &x->planned_src;
			src[ns++] = &x->estimated_src;
			src[ns++] = &x->measured_src;
		}
		if (table_row(t, c, NULL, src, ns) < 0)
			return -ENOMEM;
	}

	const char *h2[] = { L->sector, L->currency, L->investment, L->reduction, L->per_tonne };
	t = table_new(L, ts, n, "cost_per_tonne", L->sec_costs, 5, h2, "ttnnn");
	if (!t)
		return -ENOMEM;
	for (int s = 0; s < REPORT_SECTORS; s++)
		for (size_t k = 0; k < r->sectors[s].n_costs; k++) {
			const struct report_cost *x = &r->sectors[s].costs[k];
			char *c[5] = { strdup(report_sector_label(L, s)), strdup(x->currency),
			               num(L, x->investment, 0), num(L, x->reduction, 1),
			               num(L, x->per_tonne, 0) };
			const struct report_ids *src[] = { &x->src };
			if (table_row(t, c, NULL, src, 1) < 0)
				return -ENOMEM;
		}
	return 0;
}

static int lesson_table(struct report_table **ts, size_t *n, const struct report *r,
                        const struct report_labels *L, const char *key, const char *title,
                        const size_t *idx, size_t cnt)
{
	const char *h[] = { L->title_col, L->municipality, L->sector, L->year, L->endorsements };
	struct report_table *t = table_new(L, ts, n, key, title, 5, h, "tttnn");
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		const struct report_lesson *l = &r->lessons[idx[i]];
		char *c[5] = { strdup(l->title), strdup(r->members[l->member].name),
		               strdup(report_sector_label(L, l->sector)),
		               l->year ? fmt("%u", l->year) : strdup("-"),
		               num(L, (double)(l->endorsements), 0) };
		const char *langs[5] = { l->lang };
		struct report_ids self = { (uint8_t (*)[PROTO_ID_BYTES])l->id, 1, 1 };
		const struct report_ids *src[] = { &self, &l->endorse_src };
		if (table_row(t, c, langs, src, r->opt.explain ? 2 : 0) < 0)
			return -ENOMEM;
	}
	return 0;
}

static char *group_titles(const struct report *r, const struct report_group *g)
{
	size_t len = 1;
	for (size_t i = 0; i < g->n; i++)
		len += strlen(r->lessons[g->lessons[i]].title) + 2;
	char *s = malloc(len);
	if (!s)
		return NULL;
	*s = '\0';
	for (size_t i = 0; i < g->n; i++) {
		if (i)
			strcat(s, "; ");
		strcat(s, r->lessons[g->lessons[i]].title);
	}
	return s;
}

static int tables_lessons(struct report_table **ts, size_t *n, const struct report *r,
                          const struct report_labels *L)
{
	int rc;
	if ((rc = lesson_table(ts, n, r, L, "lessons_recent", L->sec_recent, r->recent,
	                       r->n_recent)) < 0 ||
	    (rc = lesson_table(ts, n, r, L, "lessons_endorsed", L->sec_endorsed, r->endorsed,
	                       r->n_endorsed)) < 0)
		return rc;
	for (int pass = 0; pass < 2; pass++) {
		const char *h[] = { pass ? L->tag : L->sector, L->count, L->lessons };
		struct report_table *t = table_new(L, ts, n, pass ? "lessons_by_tag" : "lessons_by_sector",
		                                   pass ? L->sec_ltag : L->sec_lsector, 3, h, "tnt");
		const struct report_group *gs = pass ? r->by_tag : r->by_sector;
		size_t ng = pass ? r->n_by_tag : r->n_by_sector;
		if (!t)
			return -ENOMEM;
		for (size_t i = 0; i < ng; i++) {
			const struct report_group *g = &gs[i];
			char *c[3] = { strdup(pass ? g->tag : report_sector_label(L, g->sector)),
			               num(L, (double)(g->n), 0), group_titles(r, g) };
			/* Lesson ids of the group, for --explain. */
			struct report_ids ids = { 0 };
			int e = 0;
			for (size_t k = 0; k < g->n && r->opt.explain && !e; k++) {
				void *v = realloc(ids.v, (ids.n + 1) * sizeof(*ids.v));
				if (!v) {
					e = -ENOMEM;
					break;
				}
				ids.v = v;
				memcpy(ids.v[ids.n++], r->lessons[g->lessons[k]].id, PROTO_ID_BYTES);
			}
			const struct report_ids *src[] = { &ids };
			if (!e)
				e = table_row(t, c, NULL, src, 1);
			else
				for (int k = 0; k < 3; k++)
					free(c[k]);
			free(ids.v);
			if (e < 0)
				return e;
		}
	}
	return 0;
}

static int quality_row(struct report_table *t, const char *issue, char *who, char *detail,
                       const uint8_t *id)
{
	char *c[3] = { strdup(issue), who, detail };
	struct report_ids self = { (uint8_t (*)[PROTO_ID_BYTES])id, id ? 1 : 0, 1 };
	const struct report_ids *src[] = { &self };
	return table_row(t, c, NULL, src, id ? 1 : 0);
}

static const struct report_member *target_owner(const struct report *r, const uint8_t *id,
                                                const struct report_target **tout)
{
	for (size_t i = 0; i < r->n_members; i++)
		for (size_t k = 0; k < r->members[i].n_targets; k++)
			if (!memcmp(r->members[i].targets[k].id, id, PROTO_ID_BYTES)) {
				*tout = &r->members[i].targets[k];
				return &r->members[i];
			}
	return NULL;
}

static int tables_quality(struct report_table **ts, size_t *n, const struct report *r,
                          const struct report_labels *L)
{
	const char *h[] = { L->issue, L->municipality, L->detail };
	struct report_table *t = table_new(L, ts, n, "data_quality", L->sec_quality, 3, h, "ttt");
	char hex[PROTO_ID_HEX + 1];
	int rc = 0;

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_members && rc == 0; i++) {
		const struct report_member *m = &r->members[i];
		if (!m->n_inv && !m->hidden)
			rc = quality_row(t, L->q_no_inventory, strdup(m->name), strdup(""), NULL);
	}
	for (size_t i = 0; i < r->no_baseline.n && rc == 0; i++) {
		const struct report_target *x = NULL;
		const struct report_member *m = target_owner(r, r->no_baseline.v[i], &x);
		rc = quality_row(t, L->q_no_baseline, strdup(m ? m->name : ""),
		                 strdup(x ? x->title : ""), r->no_baseline.v[i]);
	}
	if (r->orphan_results.v) {
		for (size_t i = 0; i < r->orphan_results.n && rc == 0; i++) {
			proto_hex(hex, r->orphan_results.v[i], PROTO_ID_BYTES);
			hex[12] = '\0';
			rc = quality_row(t, L->q_orphan, strdup(""), strdup(hex), r->orphan_results.v[i]);
		}
	} else if (r->orphan_results.n) {
		rc = quality_row(t, L->q_orphan, strdup(""), num(L, (double)(r->orphan_results.n), 0), NULL);
	}
	for (size_t i = 0; i < r->n_members && rc == 0; i++) {
		const struct report_member *m = &r->members[i];
		if (m->com_ok || m->hidden)
			continue;
		char *a = key_sectors_text(L, m->inv_key_sectors),
		     *b = key_sectors_text(L, m->action_key_sectors);
		rc = quality_row(t, L->q_com, strdup(m->name),
		                 a && b ? fmt("%s: %s; %s: %s", L->inventories, a, L->measures, b) : NULL,
		                 NULL);
		free(a);
		free(b);
	}
	for (size_t i = 0; i < r->n_members && rc == 0; i++) {
		const struct report_member *m = &r->members[i];
		if (!m->forked)
			continue;
		proto_hex(hex, m->key, PROTO_KEY_BYTES);
		rc = quality_row(t, L->q_fork, strdup(m->name), strdup(hex), NULL);
	}
	return rc;
}

int report_tables(struct report_table **out, size_t *n_out, const struct report *r,
                  const struct report_labels *L)
{
	struct report_table *ts = NULL;
	size_t n = 0;
	int rc;

	if ((rc = tables_members(&ts, &n, r, L)) < 0 || (rc = tables_sectors(&ts, &n, r, L)) < 0 ||
	    (rc = tables_lessons(&ts, &n, r, L)) < 0 || (rc = tables_quality(&ts, &n, r, L)) < 0) {
		report_tables_free(ts, n);
		return rc;
	}
	*out = ts;
	*n_out = n;
	return 0;
}

