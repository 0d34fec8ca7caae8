/*
 * report_out.c - the summit report as tables for people, Markdown, CSV and
 * JSON.  The figures come from report.c; this file only lays them out.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/output.h"
#include "cli/report_int.h"

/* --------------------------------------------------------------- labels */

static const struct report_labels labels_en = {
	.lang = "en",
	.title = "Summit report", .alliance = "Alliance", .generated = "Generated",
	.filters = "Filters", .none = "none",
	.sec_progress = "Progress of each member", .sec_targets = "Targets and their paths",
	.sec_status = "Measures by status", .sec_results = "Results by indicator and unit",
	.sec_sectors = "Alliance totals by sector", .sec_costs = "Investment per tonne",
	.sec_recent = "Most recent lessons", .sec_endorsed = "Most endorsed lessons",
	.sec_lsector = "Lessons by sector", .sec_ltag = "Lessons by tag",
	.sec_quality = "Data quality", .sec_charts = "Charts",
	.chart_traj = "Emissions and target paths (t CO2e)",
	.chart_sectors = "Reductions by sector (t CO2e/a)",
	.chart_status = "Measures by status",
	.municipality = "Municipality", .country = "Country", .baseline_year = "Base year",
	.baseline = "Baseline t CO2e", .latest_year = "Latest year", .latest = "Latest t CO2e",
	.achieved = "Reduction %", .measures = "Measures", .com_min = "CoM minimum",
	.target = "Target", .type = "Type", .target_year = "Target year",
	.target_value = "Target t CO2e", .path = "Path t CO2e", .on_track = "On track",
	.gap = "Gap t CO2e", .gap_pp = "Gap pp", .sector = "Sector", .indicator = "Indicator",
	.unit = "Unit", .sum = "Sum", .count = "Count", .planned = "Planned t CO2e/a",
	.estimated = "Estimated t CO2e/a", .measured = "Measured t CO2e/a",
	.currency = "Currency", .investment = "Investment", .reduction = "Reduction t CO2e/a",
	.per_tonne = "Investment per t CO2e/a", .title_col = "Title", .year = "Year",
	.endorsements = "Endorsements", .lessons = "Lessons", .tag = "Tag", .issue = "Issue",
	.detail = "Detail", .records = "Records", .yes = "yes", .no = "no", .on = "on track",
	.off = "off track", .not_evaluated = "not evaluated", .total = "Total",
	.inventories = "inventories", .target_path = "target path",
	.q_no_inventory = "member without an inventory",
	.q_no_baseline = "target without a baseline",
	.q_orphan = "result without a measure",
	.q_com = "below the Covenant of Mayors minimum",
	.q_fork = "equivocating author (two records at one seq)",
	.definitions =
		"On track: the latest inventory total is at most the straight path from the "
		"baseline (the target's own, else the member's BEI) to the target value, taken "
		"in the latest inventory's year. Gap = latest total - path value, in t CO2e and "
		"in percentage points of the baseline (positive: off track by). Results are "
		"summed per indicator and unit; different units are never added. Superseded "
		"and retracted records are never counted.",
	.status = { "unspecified", "not started", "ongoing", "completed", "postponed",
	            "cancelled" },
};

static const struct report_labels labels_da = {
	.lang = "da",
	.title = "Topmødereport", .alliance = "Alliance", .generated = "Dannet",
	.filters = "Filtre", .none = "ingen",
	.sec_progress = "Medlemmernes fremdrift", .sec_targets = "Mål og reduktionsstier",
	.sec_status = "Tiltag efter status", .sec_results = "Resultater efter indikator og enhed",
	.sec_sectors = "Alliancens samlede tal efter sektor",
	.sec_costs = "Investering pr. ton", .sec_recent = "Nyeste erfaringer",
	.sec_endorsed = "Mest anbefalede erfaringer", .sec_lsector = "Erfaringer efter sektor",
	.sec_ltag = "Erfaringer efter emneord", .sec_quality = "Datakvalitet",
	.sec_charts = "Diagrammer",
	.chart_traj = "Udledning og reduktionssti (t CO2e)",
	.chart_sectors = "Reduktioner efter sektor (t CO2e/år)",
	.chart_status = "Tiltag efter status",
	.municipality = "Kommune", .country = "Land", .baseline_year = "Basisår",
	.baseline = "Basis t CO2e", .latest_year = "Seneste år", .latest = "Seneste t CO2e",
	.achieved = "Reduktion %", .measures = "Tiltag", .com_min = "CoM-minimum",
	.target = "Mål", .type = "Type", .target_year = "Målår", .target_value = "Mål t CO2e",
	.path = "Sti t CO2e", .on_track = "På sporet", .gap = "Afvigelse t CO2e",
	.gap_pp = "Afvigelse %-point", .sector = "Sektor", .indicator = "Indikator",
	.unit = "Enhed", .sum = "Sum", .count = "Antal", .planned = "Planlagt t CO2e/år",
	.estimated = "Estimeret t CO2e/år", .measured = "Målt t CO2e/år",
	.currency = "Valuta", .investment = "Investering", .reduction = "Reduktion t CO2e/år",
	.per_tonne = "Investering pr. t CO2e/år", .title_col = "Titel", .year = "År",
	.endorsements = "Anbefalinger", .lessons = "Erfaringer", .tag = "Emneord",
	.issue = "Problem", .detail = "Detalje", .records = "Poster", .yes = "ja", .no = "nej",
	.on = "på sporet", .off = "bagud", .not_evaluated = "ikke vurderet", .total = "I alt",
	.inventories = "opgørelser", .target_path = "reduktionssti",
	.q_no_inventory = "medlem uden CO2-opgørelse",
	.q_no_baseline = "mål uden basisår",
	.q_orphan = "resultat uden tiltag",
	.q_com = "under Borgmesteraftalens minimum",
	.q_fork = "forfatter med modstridende poster (to poster med samme nummer)",
	.definitions =
		"På sporet: seneste opgørelses samlede udledning er højst den rette linje fra "
		"basis (målets egen, ellers medlemmets basisopgørelse) til målværdien, taget i "
		"seneste opgørelses år. Afvigelse = seneste udledning - stiens værdi, i t CO2e "
		"og i procentpoint af basis (positiv: bagud). Resultater lægges kun sammen for "
		"samme indikator og enhed. Erstattede og tilbagetrukne poster tælles aldrig med.",
	.status = { "uoplyst", "ikke startet", "i gang", "gennemført", "udskudt", "aflyst" },
};

const struct report_labels *report_labels(const char *lang)
{
	if (!lang || !strcmp(lang, "en"))
		return &labels_en;
	if (!strcmp(lang, "da"))
		return &labels_da;
	return NULL;
}

const char *report_sector_name(int sector)
{
	const char *n = proto_enum_name(&agora__sector__descriptor, sector);
	return n ? n : "unspecified";
}

const char *report_status_name(int status)
{
	const char *n = proto_enum_name(&agora__status__descriptor, status);
	return n ? n : "unspecified";
}

void report_fmt_num(char *buf, size_t cap, double v, int decimals)
{
	if (!isfinite(v)) {
		snprintf(buf, cap, "-");
		return;
	}
	if (fabs(v) < 0.5 * pow(10, -decimals))
		v = 0;          /* no "-0" */
	snprintf(buf, cap, "%.*f", decimals, v);
}

static char *num(double v, int decimals)
{
	char buf[64];
	report_fmt_num(buf, sizeof(buf), v, decimals);
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

/* --------------------------------------------------------------- tables */

static struct report_table *table_new(struct report_table **ts, size_t *n, const char *key,
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
	(*n)++;
	if (!t->headers || !t->numeric)
		return NULL;
	memcpy(t->headers, headers, ncols * sizeof(*headers));
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
		free(t->numeric);
	}
	free(ts);
}

static char *key_sectors_text(unsigned bits)
{
	static const char *const names[4] = { "municipal", "tertiary", "residential", "transport" };
	char buf[64] = "";
	for (int i = 0; i < 4; i++)
		if (bits & (1u << i)) {
			if (*buf)
				strcat(buf, ", ");
			strcat(buf, names[i]);
		}
	return strdup(*buf ? buf : "-");
}

static const char *target_type(int type)
{
	const char *n = proto_enum_name(&agora__target_kind__descriptor, type);
	return n ? n : "unspecified";
}

static int tables_members(struct report_table **ts, size_t *n, const struct report *r,
                          const struct report_labels *L)
{
	const char *h1[] = { L->municipality, L->country, L->baseline_year, L->baseline,
	                     L->latest_year, L->latest, L->achieved, L->measures, L->com_min };
	struct report_table *t = table_new(ts, n, "progress", L->sec_progress, 9, h1, "ttnnnnnnt");
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_members; i++) {
		const struct report_member *m = &r->members[i];
		char *c[9] = {
			strdup(m->name), strdup(m->country),
			m->has_baseline ? fmt("%u", m->baseline_year) : strdup("-"),
			m->has_baseline ? num(m->baseline, 0) : strdup("-"),
			m->latest ? fmt("%u", m->latest->year) : strdup("-"),
			m->latest ? num(m->latest->total, 0) : strdup("-"),
			m->has_achieved ? num(m->achieved_pct, 1) : strdup("-"),
			fmt("%zu", m->n_measures),
			strdup(m->com_ok ? L->yes : L->no),
		};
		const struct report_ids *s[] = { &m->baseline_src, &m->achieved_src };
		if (table_row(t, c, NULL, s, 2) < 0)
			return -ENOMEM;
	}

	const char *h2[] = { L->municipality, L->target, L->type, L->baseline_year, L->baseline,
	                     L->target_year, L->target_value, L->year, L->path, L->latest,
	                     L->on_track, L->gap, L->gap_pp };
	t = table_new(ts, n, "targets", L->sec_targets, 13, h2, "tttnnnnnnnttn");
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_members; i++) {
		const struct report_member *m = &r->members[i];
		for (size_t k = 0; k < m->n_targets; k++) {
			const struct report_target *x = &m->targets[k];
			char *c[13] = {
				strdup(m->name), strdup(x->title), strdup(target_type(x->type)),
				x->has_baseline ? fmt("%u", x->baseline_year) : strdup("-"),
				x->has_baseline ? num(x->baseline, 0) : strdup("-"),
				x->target_year ? fmt("%u", x->target_year) : strdup("-"),
				x->has_baseline ? num(x->target_value, 0) : strdup("-"),
				x->evaluated ? fmt("%u", x->eval_year) : strdup("-"),
				x->evaluated ? num(x->path_value, 0) : strdup("-"),
				x->evaluated && m->latest ? num(m->latest->total, 0) : strdup("-"),
				strdup(!x->evaluated ? L->not_evaluated : x->on_track ? L->on : L->off),
				x->evaluated ? num(x->gap, 0) : strdup("-"),
				x->evaluated ? num(x->gap_pp, 1) : strdup("-"),
			};
			const char *langs[13] = { NULL, x->lang };
			const struct report_ids *s[] = { &x->src };
			if (table_row(t, c, langs, s, 1) < 0)
				return -ENOMEM;
		}
	}

	const char *h3[] = { L->municipality, L->status[1], L->status[2], L->status[3],
	                     L->status[4], L->status[5], L->status[0], L->total };
	t = table_new(ts, n, "measures_by_status", L->sec_status, 8, h3, "tnnnnnnn");
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_members; i++) {
		const struct report_member *m = &r->members[i];
		char *c[8] = { strdup(m->name) };
		for (int s = 1; s < REPORT_STATUSES; s++)
			c[s] = fmt("%zu", m->by_status[s]);
		c[6] = fmt("%zu", m->by_status[0]);
		c[7] = fmt("%zu", m->n_measures);
		const struct report_ids *s[REPORT_STATUSES];
		for (int k = 0; k < REPORT_STATUSES; k++)
			s[k] = &m->status_src[k];
		if (table_row(t, c, NULL, s, REPORT_STATUSES) < 0)
			return -ENOMEM;
	}

	const char *h4[] = { L->municipality, L->indicator, L->unit, L->sum, L->count };
	t = table_new(ts, n, "results", L->sec_results, 5, h4, "tttnn");
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_members; i++) {
		const struct report_member *m = &r->members[i];
		for (size_t k = 0; k < m->n_sums; k++) {
			const struct report_sum *x = &m->sums[k];
			char *c[5] = { strdup(m->name), strdup(x->indicator), strdup(x->unit),
			               num(x->sum, fabs(x->sum - round(x->sum)) < 1e-9 ? 0 : 2),
			               fmt("%zu", x->count) };
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
	struct report_table *t = table_new(ts, n, "sectors", L->sec_sectors, 11, h, "tnnnnnnnnnn");
	if (!t)
		return -ENOMEM;
	for (int s = 0; s <= REPORT_SECTORS; s++) {
		const struct report_sector *x = s < REPORT_SECTORS ? &r->sectors[s] : NULL;
		if (x && !x->n_measures)
			continue;
		char *c[11];
		const size_t *bs = x ? x->by_status : r->by_status;
		size_t tot = 0;
		c[0] = strdup(x ? report_sector_name(s) : L->total);
		for (int k = 1; k < REPORT_STATUSES; k++)
			c[k] = fmt("%zu", bs[k]);
		c[6] = fmt("%zu", bs[0]);
		for (int k = 0; k < REPORT_STATUSES; k++)
			tot += bs[k];
		c[7] = fmt("%zu", tot);
		c[8] = num(x ? x->planned : r->planned, 0);
		c[9] = num(x ? x->estimated : r->estimated, 0);
		c[10] = num(x ? x->measured : r->measured, 0);
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
	t = table_new(ts, n, "cost_per_tonne", L->sec_costs, 5, h2, "ttnnn");
	if (!t)
		return -ENOMEM;
	for (int s = 0; s < REPORT_SECTORS; s++)
		for (size_t k = 0; k < r->sectors[s].n_costs; k++) {
			const struct report_cost *x = &r->sectors[s].costs[k];
			char *c[5] = { strdup(report_sector_name(s)), strdup(x->currency),
			               num(x->investment, 0), num(x->reduction, 1),
			               num(x->per_tonne, 0) };
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
	struct report_table *t = table_new(ts, n, key, title, 5, h, "tttnn");
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		const struct report_lesson *l = &r->lessons[idx[i]];
		char *c[5] = { strdup(l->title), strdup(r->members[l->member].name),
		               strdup(report_sector_name(l->sector)),
		               l->year ? fmt("%u", l->year) : strdup("-"),
		               fmt("%zu", l->endorsements) };
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
		struct report_table *t = table_new(ts, n, pass ? "lessons_by_tag" : "lessons_by_sector",
		                                   pass ? L->sec_ltag : L->sec_lsector, 3, h, "tnt");
		const struct report_group *gs = pass ? r->by_tag : r->by_sector;
		size_t ng = pass ? r->n_by_tag : r->n_by_sector;
		if (!t)
			return -ENOMEM;
		for (size_t i = 0; i < ng; i++) {
			const struct report_group *g = &gs[i];
			char *c[3] = { strdup(pass ? g->tag : report_sector_name(g->sector)),
			               fmt("%zu", g->n), group_titles(r, g) };
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
	struct report_table *t = table_new(ts, n, "data_quality", L->sec_quality, 3, h, "ttt");
	char hex[PROTO_ID_HEX + 1];
	int rc = 0;

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_members && rc == 0; i++) {
		const struct report_member *m = &r->members[i];
		if (!m->n_inv)
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
		rc = quality_row(t, L->q_orphan, strdup(""), fmt("%zu", r->orphan_results.n), NULL);
	}
	for (size_t i = 0; i < r->n_members && rc == 0; i++) {
		const struct report_member *m = &r->members[i];
		if (m->com_ok)
			continue;
		char *a = key_sectors_text(m->inv_key_sectors), *b = key_sectors_text(m->action_key_sectors);
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

/* ------------------------------------------------------------ writers */

static char *ids_text(const struct report_ids *ids, size_t hexlen)
{
	char *s = malloc(ids->n * (hexlen + 1) + 1), hex[PROTO_ID_HEX + 1];
	if (!s)
		return NULL;
	*s = '\0';
	for (size_t i = 0; i < ids->n; i++) {
		proto_hex(hex, ids->v[i], PROTO_ID_BYTES);
		hex[hexlen] = '\0';
		if (i)
			strcat(s, " ");
		strcat(s, hex);
	}
	return s;
}

static int write_terminal(FILE *f, struct report_table *ts, size_t n, bool explain, int width)
{
	for (size_t i = 0; i < n; i++) {
		struct report_table *t = &ts[i];
		size_t nc = t->ncols + (explain ? 1 : 0);
		const char **h = malloc(nc * sizeof(*h));
		unsigned *shrink = calloc(nc, sizeof(*shrink));
		struct cli_table *ct = NULL;
		int rc = 0;
		if (!h || !shrink)
			rc = -ENOMEM;
		for (size_t c = 0; rc == 0 && c < nc; c++) {
			h[c] = c < t->ncols ? t->headers[c] : "Records";
			shrink[c] = c < t->ncols && t->numeric[c] ? 0 : 10;
		}
		if (rc == 0 && !(ct = cli_table_new(nc, h, shrink)))
			rc = -ENOMEM;
		for (size_t row = 0; rc == 0 && row < t->rows; row++) {
			const char *cells[32];
			char *ids = explain ? ids_text(&t->src[row], 12) : NULL;
			for (size_t c = 0; c < t->ncols; c++)
				cells[c] = t->cells[row * t->ncols + c];
			if (explain)
				cells[t->ncols] = ids ? ids : "";
			rc = cli_table_add(ct, cells);
			free(ids);
		}
		if (rc == 0) {
			fprintf(f, "%s%s\n", i ? "\n" : "", t->title);
			if (t->rows)
				cli_table_print(ct, f, explain ? 0 : width);
			else
				fputs("  -\n", f);
		}
		cli_table_free(ct);
		free(h);
		free(shrink);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* A Markdown table cell: pipes escaped, line breaks as spaces. */
static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n' || *s == '\r' || *s == '\t')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

static int write_markdown(FILE *f, const struct report *r, const struct report_labels *L,
                          struct report_table *ts, size_t n, bool explain)
{
	char hex[PROTO_ID_HEX + 1];
	proto_hex(hex, r->alliance, PROTO_ID_BYTES);
	fprintf(f, "# %s: ", L->title);
	md_cell(f, r->alliance_name ? r->alliance_name : hex);
	fprintf(f, "\n\n%s: `%s`\n\n%s\n", L->alliance, hex, L->definitions);
	for (size_t i = 0; i < n; i++) {
		struct report_table *t = &ts[i];
		fprintf(f, "\n## %s\n\n", t->title);
		if (!t->rows) {
			fputs("-\n", f);
			continue;
		}
		fputc('|', f);
		for (size_t c = 0; c < t->ncols; c++) {
			fputc(' ', f);
			md_cell(f, t->headers[c]);
			fputs(" |", f);
		}
		fputs(explain ? " Records |\n|" : "\n|", f);
		for (size_t c = 0; c < t->ncols; c++)
			fputs(t->numeric[c] ? " ---: |" : " --- |", f);
		fputs(explain ? " --- |\n" : "\n", f);
		for (size_t row = 0; row < t->rows; row++) {
			fputc('|', f);
			for (size_t c = 0; c < t->ncols; c++) {
				fputc(' ', f);
				md_cell(f, t->cells[row * t->ncols + c]);
				fputs(" |", f);
			}
			if (explain) {
				char *ids = ids_text(&t->src[row], PROTO_ID_HEX);
				if (!ids)
					return -ENOMEM;
				fprintf(f, " %s |", ids);
				free(ids);
			}
			fputc('\n', f);
		}
	}
	return 0;
}

/* CSV: every table as its own block: a header row whose first field is
 * "section", then rows whose first field is the section key. */
static int write_csv(FILE *f, struct report_table *ts, size_t n, bool explain)
{
	for (size_t i = 0; i < n; i++) {
		struct report_table *t = &ts[i];
		const char *cells[34];
		cells[0] = "section";
		for (size_t c = 0; c < t->ncols; c++)
			cells[c + 1] = t->headers[c];
		if (explain)
			cells[t->ncols + 1] = "records";
		cli_csv_row(f, cells, t->ncols + 1 + (explain ? 1 : 0));
		for (size_t row = 0; row < t->rows; row++) {
			char *ids = explain ? ids_text(&t->src[row], PROTO_ID_HEX) : NULL;
			if (explain && !ids)
				return -ENOMEM;
			cells[0] = t->key;
			for (size_t c = 0; c < t->ncols; c++)
				cells[c + 1] = t->cells[row * t->ncols + c];
			if (explain)
				cells[t->ncols + 1] = ids;
			cli_csv_row(f, cells, t->ncols + 1 + (explain ? 1 : 0));
			free(ids);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- JSON */

static json_t *jids(const struct report_ids *ids)
{
	json_t *a = json_array();
	char hex[PROTO_ID_HEX + 1];
	for (size_t i = 0; a && i < ids->n; i++) {
		proto_hex(hex, ids->v[i], PROTO_ID_BYTES);
		json_array_append_new(a, json_string(hex));
	}
	return a;
}

static json_t *jhex(const uint8_t *b, size_t n)
{
	char hex[PROTO_ID_HEX + 1];
	proto_hex(hex, b, n);
	return json_string(hex);
}

/* {"value": v, "records": [...]} ("records" only when explaining). */
static json_t *jfig(const struct report *r, json_t *value, const struct report_ids *src)
{
	json_t *o = json_object();
	json_object_set_new(o, "value", value);
	if (r->opt.explain)
		json_object_set_new(o, "records", jids(src));
	return o;
}

static json_t *jstatus(const struct report *r, const size_t *by, const struct report_ids *src)
{
	json_t *o = json_object();
	for (int s = 0; s < REPORT_STATUSES; s++)
		json_object_set_new(o, report_status_name(s), jfig(r, json_integer((json_int_t)by[s]),
		                                                   &src[s]));
	return o;
}

static json_t *jkeysectors(unsigned bits)
{
	static const char *const names[4] = { "municipal", "tertiary", "residential", "transport" };
	json_t *a = json_array();
	for (int i = 0; i < 4; i++)
		if (bits & (1u << i))
			json_array_append_new(a, json_string(names[i]));
	return a;
}

static json_t *jmember(const struct report *r, const struct report_member *m)
{
	json_t *o = json_object(), *a;
	json_object_set_new(o, "key", jhex(m->key, PROTO_KEY_BYTES));
	json_object_set_new(o, "name", json_string(m->name));
	json_object_set_new(o, "country", json_string(m->country));
	json_object_set_new(o, "forked", json_boolean(m->forked));
	if (m->has_baseline) {
		json_t *b = jfig(r, json_real(m->baseline), &m->baseline_src);
		json_object_set_new(b, "year", json_integer(m->baseline_year));
		json_object_set_new(o, "baseline", b);
	} else {
		json_object_set_new(o, "baseline", json_null());
	}
	if (m->latest) {
		struct report_ids one = { (uint8_t (*)[PROTO_ID_BYTES])m->latest->id, 1, 1 };
		json_t *l = jfig(r, json_real(m->latest->total), &one);
		json_object_set_new(l, "year", json_integer(m->latest->year));
		json_object_set_new(o, "latest", l);
	} else {
		json_object_set_new(o, "latest", json_null());
	}
	json_object_set_new(o, "achieved_pct", m->has_achieved ?
	                    jfig(r, json_real(m->achieved_pct), &m->achieved_src) : json_null());
	a = json_array();
	for (size_t k = 0; k < m->n_targets; k++) {
		const struct report_target *x = &m->targets[k];
		json_t *t = json_object();
		json_object_set_new(t, "id", jhex(x->id, PROTO_ID_BYTES));
		json_object_set_new(t, "title", json_string(x->title));
		json_object_set_new(t, "language", json_string(x->lang));
		json_object_set_new(t, "type", json_string(target_type(x->type)));
		json_object_set_new(t, "target_year", json_integer(x->target_year));
		json_object_set_new(t, "reduction_pct", json_real(x->reduction_pct));
		json_object_set_new(t, "has_baseline", json_boolean(x->has_baseline));
		if (x->has_baseline) {
			json_object_set_new(t, "baseline_year", json_integer(x->baseline_year));
			json_object_set_new(t, "baseline_tco2e", json_real(x->baseline));
			json_object_set_new(t, "baseline_source",
			                    json_string(x->own_baseline ? "target" : "bei"));
			json_object_set_new(t, "target_tco2e", json_real(x->target_value));
		}
		json_object_set_new(t, "achieved_pct", x->has_achieved ? json_real(x->achieved_pct) :
		                    json_null());
		json_object_set_new(t, "evaluated", json_boolean(x->evaluated));
		if (x->evaluated) {
			json_object_set_new(t, "year", json_integer(x->eval_year));
			json_object_set_new(t, "path_tco2e", json_real(x->path_value));
			json_object_set_new(t, "on_track", json_boolean(x->on_track));
			json_object_set_new(t, "gap_tco2e", json_real(x->gap));
			json_object_set_new(t, "gap_pp", json_real(x->gap_pp));
		}
		if (r->opt.explain)
			json_object_set_new(t, "records", jids(&x->src));
		json_array_append_new(a, t);
	}
	json_object_set_new(o, "targets", a);
	json_t *ms = json_object();
	json_object_set_new(ms, "total", json_integer((json_int_t)m->n_measures));
	json_object_set_new(ms, "by_status", jstatus(r, m->by_status, m->status_src));
	json_object_set_new(o, "measures", ms);
	a = json_array();
	for (size_t k = 0; k < m->n_sums; k++) {
		const struct report_sum *x = &m->sums[k];
		json_t *s = jfig(r, json_real(x->sum), &x->src);
		json_object_set_new(s, "indicator", json_string(x->indicator));
		json_object_set_new(s, "unit", json_string(x->unit));
		json_object_set_new(s, "count", json_integer((json_int_t)x->count));
		json_array_append_new(a, s);
	}
	json_object_set_new(o, "results", a);
	json_t *com = json_object();
	json_object_set_new(com, "inventory_key_sectors", jkeysectors(m->inv_key_sectors));
	json_object_set_new(com, "action_key_sectors", jkeysectors(m->action_key_sectors));
	json_object_set_new(com, "meets_minimum", json_boolean(m->com_ok));
	json_object_set_new(o, "covenant", com);
	return o;
}

static json_t *jlesson(const struct report *r, size_t idx)
{
	const struct report_lesson *l = &r->lessons[idx];
	json_t *o = json_object(), *tags = json_array();
	json_object_set_new(o, "id", jhex(l->id, PROTO_ID_BYTES));
	json_object_set_new(o, "title", json_string(l->title));
	json_object_set_new(o, "language", json_string(l->lang));
	json_object_set_new(o, "municipality", json_string(r->members[l->member].name));
	json_object_set_new(o, "sector", json_string(report_sector_name(l->sector)));
	json_object_set_new(o, "year", l->year ? json_integer(l->year) : json_null());
	json_object_set_new(o, "endorsements", json_integer((json_int_t)l->endorsements));
	for (size_t i = 0; i < l->n_tags; i++)
		json_array_append_new(tags, json_string(l->tags[i]));
	json_object_set_new(o, "tags", tags);
	if (r->opt.explain)
		json_object_set_new(o, "endorsement_records", jids(&l->endorse_src));
	return o;
}

static json_t *jgroups(const struct report *r, const struct report_group *g, size_t n, bool tag)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object(), *ls = json_array();
		json_object_set_new(o, tag ? "tag" : "sector",
		                    json_string(tag ? g[i].tag : report_sector_name(g[i].sector)));
		json_object_set_new(o, "count", json_integer((json_int_t)g[i].n));
		for (size_t k = 0; k < g[i].n; k++)
			json_array_append_new(ls, jhex(r->lessons[g[i].lessons[k]].id, PROTO_ID_BYTES));
		json_object_set_new(o, "lessons", ls);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *report_json(const struct report *r, const struct report_labels *L)
{
	json_t *o = json_object(), *a, *x;
	char hex[PROTO_ID_HEX + 1];

	proto_hex(hex, r->alliance, PROTO_ID_BYTES);
	x = json_object();
	json_object_set_new(x, "id", json_string(hex));
	json_object_set_new(x, "name", r->alliance_name ? json_string(r->alliance_name) : json_null());
	json_object_set_new(o, "alliance", x);
	x = json_object();
	json_object_set_new(x, "year", r->opt.year ? json_integer(r->opt.year) : json_null());
	json_object_set_new(x, "sector", r->opt.sector ? json_string(report_sector_name(r->opt.sector)) :
	                    json_null());
	a = json_array();
	for (size_t i = 0; i < r->opt.n_authors; i++)
		json_array_append_new(a, jhex(r->opt.authors[i], PROTO_KEY_BYTES));
	json_object_set_new(x, "authors", a);
	json_object_set_new(o, "filters", x);
	json_object_set_new(o, "definitions", json_string(L->definitions));

	a = json_array();
	for (size_t i = 0; i < r->n_members; i++)
		json_array_append_new(a, jmember(r, &r->members[i]));
	json_object_set_new(o, "members", a);

	a = json_array();
	for (int s = 0; s < REPORT_SECTORS; s++) {
		const struct report_sector *sec = &r->sectors[s];
		if (!sec->n_measures)
			continue;
		x = json_object();
		json_object_set_new(x, "sector", json_string(report_sector_name(s)));
		json_object_set_new(x, "measures", json_integer((json_int_t)sec->n_measures));
		json_object_set_new(x, "by_status", jstatus(r, sec->by_status, sec->status_src));
		json_object_set_new(x, "planned_tco2e", jfig(r, json_real(sec->planned), &sec->planned_src));
		json_object_set_new(x, "estimated_tco2e", jfig(r, json_real(sec->estimated),
		                                               &sec->estimated_src));
		json_object_set_new(x, "measured_tco2e", jfig(r, json_real(sec->measured),
		                                              &sec->measured_src));
		json_t *costs = json_array();
		for (size_t c = 0; c < sec->n_costs; c++) {
			const struct report_cost *k = &sec->costs[c];
			json_t *co = jfig(r, json_real(k->per_tonne), &k->src);
			json_object_set_new(co, "currency", json_string(k->currency));
			json_object_set_new(co, "investment", json_real(k->investment));
			json_object_set_new(co, "reduction_tco2e", json_real(k->reduction));
			json_array_append_new(costs, co);
		}
		json_object_set_new(x, "cost_per_tonne", costs);
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "sectors", a);

	x = json_object();
	size_t tot = 0;
	json_t *bs = json_object();
	for (int s = 0; s < REPORT_STATUSES; s++) {
		tot += r->by_status[s];
		json_object_set_new(bs, report_status_name(s), json_integer((json_int_t)r->by_status[s]));
	}
	json_object_set_new(x, "measures", json_integer((json_int_t)tot));
	json_object_set_new(x, "by_status", bs);
	json_object_set_new(x, "planned_tco2e", json_real(r->planned));
	json_object_set_new(x, "estimated_tco2e", json_real(r->estimated));
	json_object_set_new(x, "measured_tco2e", json_real(r->measured));
	json_object_set_new(o, "totals", x);

	x = json_object();
	a = json_array();
	for (size_t i = 0; i < r->n_recent; i++)
		json_array_append_new(a, jlesson(r, r->recent[i]));
	json_object_set_new(x, "most_recent", a);
	a = json_array();
	for (size_t i = 0; i < r->n_endorsed; i++)
		json_array_append_new(a, jlesson(r, r->endorsed[i]));
	json_object_set_new(x, "most_endorsed", a);
	json_object_set_new(x, "by_sector", jgroups(r, r->by_sector, r->n_by_sector, false));
	json_object_set_new(x, "by_tag", jgroups(r, r->by_tag, r->n_by_tag, true));
	json_object_set_new(o, "lessons", x);

	x = json_object();
	a = json_array();
	for (size_t i = 0; i < r->n_members; i++)
		if (!r->members[i].n_inv)
			json_array_append_new(a, json_string(r->members[i].name));
	json_object_set_new(x, "members_without_inventory", a);
	json_object_set_new(x, "targets_without_baseline", jids(&r->no_baseline));
	json_t *orph = json_object();
	json_object_set_new(orph, "count", json_integer((json_int_t)r->orphan_results.n));
	if (r->orphan_results.v || !r->orphan_results.n)
		json_object_set_new(orph, "records", jids(&r->orphan_results));
	json_object_set_new(x, "results_without_measure", orph);
	a = json_array();
	for (size_t i = 0; i < r->n_members; i++)
		if (!r->members[i].com_ok)
			json_array_append_new(a, json_string(r->members[i].name));
	json_object_set_new(x, "below_covenant_minimum", a);
	a = json_array();
	for (size_t i = 0; i < r->n_members; i++)
		if (r->members[i].forked) {
			json_t *e = json_object();
			json_object_set_new(e, "name", json_string(r->members[i].name));
			json_object_set_new(e, "key", jhex(r->members[i].key, PROTO_KEY_BYTES));
			json_array_append_new(a, e);
		}
	json_object_set_new(x, "equivocating_authors", a);
	json_object_set_new(o, "data_quality", x);
	return o;
}

int report_write(FILE *f, const struct report *r, enum report_format fmt_, const char *lang,
                 int width)
{
	const struct report_labels *L = report_labels(lang);
	struct report_table *ts = NULL;
	size_t n = 0;
	int rc = 0;

	if (!L)
		return PROTO_E_ARG;
	if (fmt_ == REPORT_JSON) {
		json_t *o = report_json(r, L);
		if (!o)
			return -ENOMEM;
		rc = json_dumpf(o, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
		json_decref(o);
		fputc('\n', f);
		return rc < 0 ? -EIO : 0;
	}
	if (fmt_ == REPORT_HTML)
		return report_write_html(f, r, L, r->opt.explain);
	if ((rc = report_tables(&ts, &n, r, L)) < 0)
		return rc;
	if (fmt_ == REPORT_TABLE)
		rc = write_terminal(f, ts, n, r->opt.explain, width);
	else if (fmt_ == REPORT_MARKDOWN)
		rc = write_markdown(f, r, L, ts, n, r->opt.explain);
	else
		rc = write_csv(f, ts, n, r->opt.explain);
	report_tables_free(ts, n);
	return rc;
}
