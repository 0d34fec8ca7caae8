/*
 * report_html.c - the summit report as one self-contained HTML file: inline
 * CSS (screen and print), inline SVG charts, no scripts, no fonts, no
 * external reference of any kind.  A Content-Security-Policy meta tag makes
 * any load the page might still attempt impossible.  Record texts carry
 * their own lang attribute; the report's labels are in --lang.
 *
 * The SVG is written as well-formed XML (quoted attributes, escaped text,
 * explicit namespace), so each chart also parses on its own.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/markup_int.h"
#include "cli/report/report.h"
#include "cli/report/report_int.h"

static const char *const status_colour[REPORT_STATUSES] = {
	"#b8b8b8", "#8c8c8c", "#2b6cb0", "#2f855a", "#dd6b20", "#c53030",
};

/* Open a chart: <figure> with its caption, an SVG of W x H on white whose
 * accessible label is label_a, then label_b after ": " when given. */
static void svg_open(FILE *f, const char *caption, const char *label_a, const char *label_b,
                     double W, double H)
{
	fputs("<figure><figcaption>", f);
	cli_markup_esc(f, caption);
	fprintf(f, "</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
	        "width=\"%.0f\" height=\"%.0f\" role=\"img\" aria-label=\"", W, H, W, H);
	cli_markup_esc(f, label_a);
	if (label_b) {
		fputs(": ", f);
		cli_markup_esc(f, label_b);
	}
	fputs("\">\n", f);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", W, H);
}

/* A BCP-47 tag is letters, digits and '-' only; anything else is dropped. */
static bool lang_ok(const char *l)
{
	if (!l || !*l || strlen(l) > 35)
		return false;
	for (; *l; l++)
		if (!((*l >= 'a' && *l <= 'z') || (*l >= 'A' && *l <= 'Z') ||
		      (*l >= '0' && *l <= '9') || *l == '-'))
			return false;
	return true;
}

static const char css[] =
	"body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;"
	"margin:0 auto;max-width:1100px;padding:1.5rem;color:#1a202c;background:#fff;"
	"line-height:1.4}\n"
	"h1{font-size:1.7rem;margin:.2rem 0 .6rem;color:#234e52}"
	"h2{font-size:1.25rem;margin:2rem 0 .6rem;border-bottom:2px solid #81e6d9;"
	"padding-bottom:.2rem;color:#234e52}\n"
	"h3{font-size:1.05rem;margin:1.2rem 0 .4rem}\n"
	"p.meta{color:#4a5568;font-size:.9rem;margin:.2rem 0}\n"
	"p.def{font-size:.85rem;color:#2d3748;background:#f0fff4;border-left:4px solid #68d391;"
	"padding:.5rem .8rem}\n"
	"nav ul{columns:2;font-size:.9rem;padding-left:1.2rem}\n"
	"table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.4rem 0 1rem}\n"
	"th,td{border:1px solid #cbd5e0;padding:.25rem .45rem;text-align:left;vertical-align:top}\n"
	"th{background:#e6fffa}td.n{text-align:right;font-variant-numeric:tabular-nums;"
	"white-space:nowrap}\n"
	"tr:nth-child(even) td{background:#f7fafc}\n"
	"section{overflow-x:auto}\n"
	"td.ids{font-size:.72rem;white-space:nowrap}td.ids a{color:#2c5282}\n"
	"ol.records{font-size:.72rem;columns:2}\n"
	".off{color:#c53030;font-weight:600}.on{color:#2f855a;font-weight:600}\n"
	".charts{display:flex;flex-wrap:wrap;gap:1rem}\n"
	"figure{margin:0;border:1px solid #e2e8f0;border-radius:6px;padding:.5rem;"
	"break-inside:avoid;page-break-inside:avoid}\n"
	"figcaption{font-size:.85rem;font-weight:600;margin-bottom:.3rem}\n"
	"svg{display:block;max-width:100%;height:auto}\n"
	"svg text{font-family:system-ui,Arial,sans-serif}\n"
	"@media print{body{max-width:none;padding:0;font-size:10pt}nav{display:none}"
	"h2{break-after:avoid;page-break-after:avoid}"
	"table{break-inside:auto}tr{break-inside:avoid;page-break-inside:avoid}"
	"tr:nth-child(even) td{background:none}th{background:#eee}"
	"a{color:inherit;text-decoration:none}"
	"figure{border:none}@page{margin:15mm}}\n";

/* ---------------------------------------------------------------- charts */

static double nice_max(double v)
{
	double p, m;
	if (!(v > 0) || !isfinite(v))
		return 1;
	p = pow(10, floor(log10(v)));
	m = v / p;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void fmt_short(char *buf, size_t cap, double v)
{
	if (fabs(v) >= 1e9)
		snprintf(buf, cap, "%.3gG", v / 1e9);
	else if (fabs(v) >= 1e6)
		snprintf(buf, cap, "%.3gM", v / 1e6);
	else if (fabs(v) >= 1e3)
		snprintf(buf, cap, "%.3gk", v / 1e3);
	else
		snprintf(buf, cap, "%.3g", v);
}

/* Target paths: on track, off track, not evaluated. */
static const char *const path_colours[3] = { "#2f855a", "#c53030", "#a0aec0" };

static const char *path_colour(const struct report_target *t)
{
	return path_colours[!t->evaluated ? 2 : t->on_track ? 0 : 1];
}

enum mark { MARK_LINE, MARK_DASHED, MARK_CIRCLE };

/* One legend entry at (*x, *y): a line, a dashed line or a circle, and its
 * label; wraps to a line above when the chart's width is used up. */
static void legend_item(FILE *f, double *x, double *y, double W, const char *colour,
                        enum mark mark, const char *label)
{
	double w = 22 + 5.5 * (double)strlen(label);
	if (*x + w > W && *x > 6) {
		*x = 6;
		*y -= 14;
	}
	if (mark == MARK_CIRCLE)
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"none\" stroke=\"%s\"/>",
		        *x + 8, *y, colour);
	else
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
		        "stroke-width=\"2\"%s/>", *x, *y, *x + 16, *y, colour,
		        mark == MARK_DASHED ? " stroke-dasharray=\"5 3\"" : "");
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" fill=\"#1a202c\">",
	        *x + 19, *y + 3);
	cli_markup_esc(f, label);
	fputs("</text>\n", f);
	*x += w;
}

static bool target_drawn(const struct report_target *t)
{
	return t->has_baseline && t->target_year > t->baseline_year && t->baseline > 0 &&
	       t->scope != AGORA__SCOPE__SCOPE_MUNICIPAL_OPERATIONS &&
	       t->type != AGORA__TARGET_KIND__TARGET_KIND_PER_CAPITA_REDUCTION;
}

/* One member's inventories against its target paths. */
static void chart_trajectory(FILE *f, const struct report_member *m,
                             const struct report_labels *L)
{
	const double W = 340, H = 226, ml = 46, mr = 16, mt = 10, mb = 50;
	unsigned y0 = 0, y1 = 0;
	double vmax = 0;
	char a[32];

	for (size_t i = 0; i < m->n_inv; i++) {
		if (!y0 || m->inv[i].year < y0)
			y0 = m->inv[i].year;
		if (m->inv[i].year > y1)
			y1 = m->inv[i].year;
		if (m->inv[i].total > vmax)
			vmax = m->inv[i].total;
	}
	for (size_t i = 0; i < m->n_targets; i++) {
		const struct report_target *t = &m->targets[i];
		if (!target_drawn(t))
			continue;
		if (!y0 || t->baseline_year < y0)
			y0 = t->baseline_year;
		if (t->target_year > y1)
			y1 = t->target_year;
		if (t->baseline > vmax)
			vmax = t->baseline;
	}
	svg_open(f, m->name, L->chart_traj, m->name, W, H);
	if (!y0 || y1 <= y0 || !(vmax > 0)) {
		fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"12\" "
		        "fill=\"#718096\">%s</text>\n</svg></figure>\n", W / 2, H / 2, L->none);
		return;
	}
	vmax = nice_max(vmax * 1.05);
	double pw = W - ml - mr, ph = H - mt - mb;
#define X(y) (ml + pw * ((double)(y) - y0) / (double)(y1 - y0))
#define Y(v) (mt + ph * (1.0 - (v) / vmax))
	/* grid and axes */
	for (int k = 0; k <= 4; k++) {
		double v = vmax * k / 4;
		fmt_short(a, sizeof(a), v);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e2e8f0\"/>"
		        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10\" "
		        "fill=\"#4a5568\">%s</text>\n", ml, Y(v), W - mr, Y(v), ml - 4, Y(v) + 3, a);
	}
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#4a5568\"/>\n",
	        ml, Y(0), W - mr, Y(0));
	/* A tick and label every year, or every 2, 5 or 10 years: at most 8
	 * labels, on years divisible by the step, plus the first year. */
	unsigned step = 1;
	while ((y1 - y0) / step > 7 && step < 10)
		step = step == 1 ? 2 : step == 2 ? 5 : 10;
	while ((y1 - y0) / step > 7)
		step *= 2;
	for (unsigned y = y0; y <= y1; y++) {
		if (y != y0 && y % step)
			continue;
		if (y != y0 && y - y0 < step / 2 + 1 && step > 1)
			continue;       /* too close to the first label */
		snprintf(a, sizeof(a), "%u", y);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#4a5568\"/>"
		        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"9\" "
		        "fill=\"#4a5568\">%s</text>\n", X(y), Y(0), X(y), Y(0) + 3, X(y), H - mb + 12, a);
	}
	/* target paths, dashed */
	for (size_t i = 0; i < m->n_targets; i++) {
		const struct report_target *t = &m->targets[i];
		if (!target_drawn(t))
			continue;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
		        "stroke-width=\"1.5\" stroke-dasharray=\"5 3\"><title>",
		        X(t->baseline_year), Y(t->baseline), X(t->target_year), Y(t->target_value),
		        path_colour(t));
		cli_markup_esc(f, t->title);
		fputs("</title></line>\n", f);
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"none\" stroke=\"#4a5568\"/>\n",
		        X(t->target_year), Y(t->target_value));
	}
	/* inventories, solid */
	if (m->n_inv > 1) {
		fputs("<polyline fill=\"none\" stroke=\"#2b6cb0\" stroke-width=\"2\" points=\"", f);
		for (size_t i = 0; i < m->n_inv; i++)
			fprintf(f, "%s%.1f,%.1f", i ? " " : "", X(m->inv[i].year), Y(m->inv[i].total));
		fputs("\"/>\n", f);
	}
	for (size_t i = 0; i < m->n_inv; i++) {
		report_num(L, a, sizeof(a), m->inv[i].total, 0);
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#2b6cb0\"><title>%u: %s t CO2e"
		        "</title></circle>\n", X(m->inv[i].year), Y(m->inv[i].total), m->inv[i].year, a);
	}
	/* legend: one entry for each colour this chart used */
	bool used[3] = { false, false, false };
	double lx = 6, ly = H - 8;
	for (size_t i = 0; i < m->n_targets; i++)
		if (target_drawn(&m->targets[i]))
			used[!m->targets[i].evaluated ? 2 : m->targets[i].on_track ? 0 : 1] = true;
	if (m->n_inv)
		legend_item(f, &lx, &ly, W, "#2b6cb0", MARK_LINE, L->inventories);
	const char *path_label[3] = { L->path_on, L->path_off, L->path_open };
	for (int k = 0; k < 3; k++)
		if (used[k])
			legend_item(f, &lx, &ly, W, path_colours[k], MARK_DASHED, path_label[k]);
	if (used[0] || used[1] || used[2])
		legend_item(f, &lx, &ly, W, "#4a5568", MARK_CIRCLE, L->target_point);
	fputs("</svg></figure>\n", f);
#undef X
#undef Y
}

/* Planned, estimated and measured reductions per sector: grouped bars. */
static void chart_sectors(FILE *f, const struct report *r, const struct report_labels *L)
{
	static const char *const colour[3] = { "#90cdf4", "#f6ad55", "#2f855a" };
	const double W = 760, ml = 250, mr = 70, row = 34, mt = 24;
	int rows = 0;
	double vmax = 0;
	char a[32];

	for (int s = 0; s < REPORT_SECTORS; s++) {
		const struct report_sector *x = &r->sectors[s];
		if (!x->n_measures)
			continue;
		rows++;
		vmax = fmax(vmax, fmax(x->planned, fmax(x->estimated, x->measured)));
	}
	double H = mt + (rows ? rows : 1) * row + 10;
	vmax = nice_max(vmax);
	svg_open(f, L->chart_sectors, L->chart_sectors, NULL, W, H);
	const char *names[3] = { L->planned, L->estimated, L->measured };
	for (int k = 0; k < 3; k++) {
		fprintf(f, "<rect x=\"%.0f\" y=\"6\" width=\"10\" height=\"10\" fill=\"%s\"/>"
		        "<text x=\"%.0f\" y=\"15\" font-size=\"11\" fill=\"#1a202c\">", ml + k * 170.0,
		        colour[k], ml + k * 170.0 + 14);
		cli_markup_esc(f, names[k]);
		fputs("</text>\n", f);
	}
	if (!rows)
		fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"12\" fill=\"#718096\">%s</text>\n",
		        ml, mt + 20, L->none);
	int i = 0;
	for (int s = 0; s < REPORT_SECTORS; s++) {
		const struct report_sector *x = &r->sectors[s];
		if (!x->n_measures)
			continue;
		double y = mt + i * row;
		double v[3] = { x->planned, x->estimated, x->measured };
		fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" "
		        "fill=\"#1a202c\">", ml - 6, y + 18);
		cli_markup_esc(f, report_sector_label(L, s));
		fputs("</text>\n", f);
		for (int k = 0; k < 3; k++) {
			double w = (W - ml - mr) * (v[k] > 0 ? v[k] : 0) / vmax;
			report_num(L, a, sizeof(a), v[k], 0);
			if (!(v[k] > 0))
				continue;   /* no bar, no label: zeros only clutter */
			fprintf(f, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"9\" fill=\"%s\">"
			        "<title>", ml, y + 3 + k * 10, w, colour[k]);
			cli_markup_esc(f, report_sector_label(L, s));
			fputs(": ", f);
			cli_markup_esc(f, a);
			fprintf(f, "</title></rect><text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" "
			        "fill=\"#4a5568\">", ml + w + 3, y + 11 + k * 10);
			cli_markup_esc(f, a);
			fputs("</text>\n", f);
		}
		i++;
	}
	fputs("</svg></figure>\n", f);
}

/* Measures by status: one stacked bar for the alliance and one per member. */
static void chart_status(FILE *f, const struct report *r, const struct report_labels *L)
{
	const double W = 760, ml = 250, mr = 40, row = 22, mt = 30;
	size_t rows = r->n_members - r->n_hidden + 1, maxn = 0;
	double H = mt + rows * row + 8;

	for (size_t i = 0; i < r->n_members; i++)
		if (r->members[i].n_measures > maxn)
			maxn = r->members[i].n_measures;
	size_t tot = 0;
	for (int s = 0; s < REPORT_STATUSES; s++)
		tot += r->by_status[s];
	svg_open(f, L->chart_status, L->chart_status, NULL, W, H);
	for (int s = 1; s <= REPORT_STATUSES; s++) {
		int k = s % REPORT_STATUSES;    /* unspecified last */
		double x = 10 + (s - 1) * 118.0;
		fprintf(f, "<rect x=\"%.0f\" y=\"8\" width=\"10\" height=\"10\" fill=\"%s\"/>"
		        "<text x=\"%.0f\" y=\"17\" font-size=\"11\" fill=\"#1a202c\">", x,
		        status_colour[k], x + 14);
		cli_markup_esc(f, L->status[k]);
		fputs("</text>\n", f);
	}
	for (size_t i = 0, mi = 0; i < rows; i++, mi++) {
		while (i && mi <= r->n_members && r->members[mi - 1].hidden)
			mi++;           /* coordinators without data of their own */
		const struct report_member *m = i ? &r->members[mi - 1] : NULL;
		const size_t *by = m ? m->by_status : r->by_status;
		size_t n = m ? m->n_measures : tot;
		/* The alliance bar spans the full width; members share one scale. */
		double scale = (W - ml - mr) / (double)(m ? (maxn ? maxn : 1) : (tot ? tot : 1));
		double y = mt + i * row, x = ml;
		fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" "
		        "fill=\"#1a202c\"%s>", ml - 6, y + 13, m ? "" : " font-weight=\"bold\"");
		cli_markup_esc(f, m ? m->name : L->total);
		fputs("</text>\n", f);
		for (int s = 1; s <= REPORT_STATUSES; s++) {
			int k = s % REPORT_STATUSES;
			if (!by[k])
				continue;
			double w = by[k] * scale;
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" fill=\"%s\" "
			        "stroke=\"#ffffff\"><title>", x, y + 1, w, status_colour[k]);
			cli_markup_esc(f, L->status[k]);
			fprintf(f, ": %zu</title></rect>\n", by[k]);
			x += w;
		}
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#4a5568\">%zu</text>\n",
		        x + 4, y + 13, n);
	}
	fputs("</svg></figure>\n", f);
}

/* ---------------------------------------------------------------- tables */

/* A figure links to at most this many of its records (a member's measures
 * may be hundreds); the count of the rest follows. */
#define LINKS_PER_ROW 6
#define SHORT_ID 8

/* A link to one record, its text a short id: to record_url + id when
 * given (agora web), else to the record's line at the end of the file. */
static void record_link(FILE *f, const struct report *r, const char *hex)
{
	fputs("<a href=\"", f);
	if (r->opt.record_url) {
		cli_markup_esc(f, r->opt.record_url);
		fputs(hex, f);
	} else {
		fprintf(f, "#r-%s", hex);
	}
	fprintf(f, "\" title=\"%s\"><code>%.*s</code></a>", hex, SHORT_ID, hex);
}

/* Is the k-th id of l also an earlier one?  (Only the first few of a row
 * are compared.) */
static bool seen_before(const struct report_ids *l, size_t k)
{
	for (size_t j = 0; j < k; j++)
		if (!memcmp(l->v[j], l->v[k], PROTO_ID_BYTES))
			return true;
	return false;
}

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, PROTO_ID_BYTES);
}

/* The records the tables link to, once each, with their full ids: what
 * `agora show ID` takes. */
static int write_record_list(FILE *f, const struct report_table *ts, size_t n,
                             const struct report_labels *L)
{
	uint8_t (*v)[PROTO_ID_BYTES] = NULL;
	size_t nv = 0, cap = 0;
	char hex[PROTO_ID_HEX + 1];

	for (size_t i = 0; i < n; i++)
		for (size_t row = 0; row < ts[i].rows; row++)
			for (size_t k = 0, shown = 0; k < ts[i].src[row].n && shown < LINKS_PER_ROW; k++) {
				if (seen_before(&ts[i].src[row], k))
					continue;
				shown++;
				if (nv == cap) {
					size_t c = cap ? cap * 2 : 256;
					void *q = realloc(v, c * sizeof(*v));
					if (!q) {
						free(v);
						return -ENOMEM;
					}
					v = q;
					cap = c;
				}
				memcpy(v[nv++], ts[i].src[row].v[k], PROTO_ID_BYTES);
			}
	if (nv)
		qsort(v, nv, sizeof(*v), id_cmp);
	fputs("<section id=\"records\"><h2>", f);
	cli_markup_esc(f, L->records);
	fputs("</h2>\n<ol class=\"records\">\n", f);
	for (size_t i = 0; i < nv; i++) {
		if (i && !memcmp(v[i], v[i - 1], PROTO_ID_BYTES))
			continue;
		proto_hex(hex, v[i], PROTO_ID_BYTES);
		fprintf(f, "<li id=\"r-%s\"><code>%s</code></li>\n", hex, hex);
	}
	fputs("</ol></section>\n", f);
	free(v);
	return 0;
}

static void html_table(FILE *f, const struct report *r, const struct report_table *t,
                       const struct report_labels *L, bool explain, size_t idx)
{
	char hex[PROTO_ID_HEX + 1];

	fprintf(f, "<section id=\"t%zu\"><h2>", idx);
	cli_markup_esc(f, t->title);
	fputs("</h2>\n", f);
	if (!t->rows) {
		fprintf(f, "<p class=\"meta\">%s</p></section>\n", L->none);
		return;
	}
	fputs("<table><thead><tr>", f);
	for (size_t c = 0; c < t->ncols; c++) {
		fputs("<th>", f);
		cli_markup_esc(f, t->headers[c]);
		fputs("</th>", f);
	}
	if (explain) {
		fputs("<th>", f);
		cli_markup_esc(f, L->records);
		fputs("</th>", f);
	}
	fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t row = 0; row < t->rows; row++) {
		fputs("<tr>", f);
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[row * t->ncols + c];
			const char *lang = t->langs[row * t->ncols + c];
			const char *cls = t->numeric[c] ? "n" : NULL;
			if (!strcmp(cell, L->on))
				cls = "on";
			else if (!strcmp(cell, L->off))
				cls = "off";
			fputs("<td", f);
			if (cls)
				fprintf(f, " class=\"%s\"", cls);
			if (lang_ok(lang))
				fprintf(f, " lang=\"%s\"", lang);
			fputc('>', f);
			cli_markup_esc(f, cell);
			fputs("</td>", f);
		}
		if (explain) {
			const struct report_ids *src = &t->src[row];
			fputs("<td class=\"ids\">", f);
			size_t shown = 0, k;
			for (k = 0; k < src->n && shown < LINKS_PER_ROW; k++) {
				if (seen_before(src, k))
					continue;       /* one figure's ids may repeat */
				proto_hex(hex, src->v[k], PROTO_ID_BYTES);
				fputs(shown++ ? " " : "", f);
				record_link(f, r, hex);
			}
			/* The rest are counted, not compared: a member's measures may be
			 * thousands, and the first few repeat when they repeat at all. */
			if (k < src->n)
				fprintf(f, " +%zu", src->n - k);
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table></section>\n", f);
}

/* "Generated: 6 December 2026 · Data as of: 5 December 2026". */
static void write_when(FILE *f, const struct report *r, const struct report_labels *L)
{
	char buf[64];

	if (!r->opt.generated_s && !r->newest_ms)
		return;
	fputs("<p class=\"meta\">", f);
	if (r->opt.generated_s) {
		report_date(L, buf, sizeof(buf), r->opt.generated_s);
		cli_markup_esc(f, L->generated);
		fputs(": ", f);
		cli_markup_esc(f, buf);
	}
	if (r->newest_ms) {
		report_date(L, buf, sizeof(buf), (int64_t)(r->newest_ms / 1000));
		fputs(r->opt.generated_s ? " &#183; " : "", f);
		cli_markup_esc(f, L->data_as_of);
		fputs(": ", f);
		cli_markup_esc(f, buf);
	}
	fputs("</p>\n", f);
}

int report_write_html(FILE *f, const struct report *r, const struct report_labels *L,
                      bool explain)
{
	struct report_table *ts = NULL;
	size_t n = 0;
	char hex[PROTO_ID_HEX + 1];
	int rc = report_tables(&ts, &n, r, L);

	if (rc < 0)
		return rc;
	proto_hex(hex, r->alliance, PROTO_ID_BYTES);
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
	        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	        "style-src 'unsafe-inline'; img-src data:\">\n"
	        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	        "<meta name=\"generator\" content=\"agora report\">\n", L->lang);
	if (r->opt.record_url)   /* framed by agora web: a record opens as the page */
		fputs("<base target=\"_top\">\n", f);
	fputs("<title>", f);
	cli_markup_esc(f, L->title);
	fputs(": ", f);
	cli_markup_esc(f, r->alliance_name ? r->alliance_name : hex);
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header><h1>", css);
	cli_markup_esc(f, L->title);
	fputs(": ", f);
	cli_markup_esc(f, r->alliance_name ? r->alliance_name : hex);
	fprintf(f, "</h1>\n<p class=\"meta\">%s: <code>%s</code></p>\n", L->alliance, hex);
	write_when(f, r, L);
	if (r->n_hidden) {
		fputs("<p class=\"meta\">", f);
		cli_markup_esc(f, L->coordinators);
		fputs(": ", f);
		for (size_t i = 0, k = 0; i < r->n_members; i++)
			if (r->members[i].hidden) {
				fputs(k++ ? ", " : "", f);
				cli_markup_esc(f, r->members[i].name);
			}
		fputs("</p>\n", f);
	}
	fprintf(f, "<p class=\"meta\">%s: ", L->filters);
	if (!r->opt.year && !r->opt.sector && !r->opt.n_authors)
		cli_markup_esc(f, L->none);
	if (r->opt.year)
		fprintf(f, "%s &#8804; %u ", L->year, r->opt.year);
	if (r->opt.sector)
	{
		cli_markup_esc(f, L->sector);
		fputs(" = ", f);
		cli_markup_esc(f, report_sector_label(L, r->opt.sector));
		fputc(' ', f);
	}
	if (r->opt.n_authors)
		fprintf(f, "%s: %zu", L->municipality, r->opt.n_authors);
	fputs("</p>\n<p class=\"def\">", f);
	cli_markup_esc(f, L->definitions);
	fputs("</p>\n</header>\n<nav><ul>\n", f);
	fprintf(f, "<li><a href=\"#charts\">%s</a></li>\n", L->sec_charts);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "<li><a href=\"#t%zu\">", i);
		cli_markup_esc(f, ts[i].title);
		fputs("</a></li>\n", f);
	}
	fputs("</ul></nav>\n", f);

	fputs("<section id=\"charts\"><h2>", f);
	cli_markup_esc(f, L->sec_charts);
	fputs("</h2>\n", f);
	chart_status(f, r, L);
	chart_sectors(f, r, L);
	fputs("<h3>", f);
	cli_markup_esc(f, L->chart_traj);
	fputs("</h3>\n<div class=\"charts\">\n", f);
	for (size_t i = 0; i < r->n_members; i++)
		if (!r->members[i].hidden)
			chart_trajectory(f, &r->members[i], L);
	fputs("</div>\n</section>\n", f);

	for (size_t i = 0; i < n; i++)
		html_table(f, r, &ts[i], L, explain, i);
	if (explain && !r->opt.record_url && (rc = write_record_list(f, ts, n, L)) < 0) {
		report_tables_free(ts, n);
		return rc;
	}
	fputs("</body>\n</html>\n", f);
	report_tables_free(ts, n);
	return ferror(f) ? -EIO : 0;
}
