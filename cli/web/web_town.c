/*
 * web_town.c - a municipality's page (GET /town/KEY): its profile, its
 * targets, its emission inventories with a progress chart (SVG drawn
 * here: inventory totals against each target's straight path), and its
 * measures, lessons and results.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/format_int.h"
#include "cli/names_int.h"
#include "cli/web/web_int.h"

#define CHART_W 640
#define CHART_H 260
#define CHART_PAD 44
#define MAX_POINTS 64

struct point {
	unsigned year;
	double t;
};

struct town {
	struct web_req *r;
	FILE *f;
	struct point inv[MAX_POINTS];     /* inventory totals */
	size_t n_inv;
	struct point path[MAX_POINTS][2]; /* each target's baseline and goal */
	size_t n_path;
	size_t n;
	bool profile;                     /* the newest profile is shown, in full */
};

static int list_cb(const struct store_hit *hit, void *arg)
{
	struct town *c = arg;
	Agora__Record *rec = NULL;
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind;
	char *title, *years, *status;

	if (proto_envelope_decode(&rec, hit->rec.env, hit->rec.env_len, NULL) < 0)
		return 0;
	kind = proto_record_content(rec, &msg);
	if (c->profile && msg) {
		web_fields_table(c->f, c->r->words, msg);
		agora__record__free_unpacked(rec, NULL);
		c->n++;
		return 1;               /* the newest one only */
	}
	title = cli_format_title(kind, msg);
	years = cli_format_years(kind, msg);
	status = cli_format_text(msg, "status");
	fputs("<tr><td>", c->f);
	web_link_record(c->f, hit->rec.id, title && *title ? title : c->r->tx->untitled);
	fputs("</td><td>", c->f);
	web_esc(c->f, years);
	fputs("</td><td>", c->f);
	if (status && *status)
		web_esc(c->f, lang_code_name(c->r->words, "status", status));
	fputs("</td></tr>\n", c->f);
	if (kind == PROTO_KIND_INVENTORY && c->n_inv < MAX_POINTS) {
		const Agora__Inventory *inv = (const Agora__Inventory *)msg;
		double sum = 0;
		for (size_t i = 0; i < inv->n_sectors; i++)
			sum += inv->sectors[i]->tco2e;
		if (inv->year) {
			c->inv[c->n_inv].year = inv->year;
			c->inv[c->n_inv++].t = sum;
		}
	}
	if (kind == PROTO_KIND_TARGET && c->n_path < MAX_POINTS) {
		const Agora__Target *tg = (const Agora__Target *)msg;
		if (tg->baseline_year && tg->target_year > tg->baseline_year && tg->baseline_tco2e > 0) {
			c->path[c->n_path][0].year = tg->baseline_year;
			c->path[c->n_path][0].t = tg->baseline_tco2e;
			c->path[c->n_path][1].year = tg->target_year;
			c->path[c->n_path++][1].t = tg->baseline_tco2e * (1 - tg->reduction_pct / 100.0);
		}
	}
	free(title);
	free(years);
	free(status);
	agora__record__free_unpacked(rec, NULL);
	c->n++;
	return 0;
}

static void section(struct town *c, struct store_txn *t, const uint8_t key[PROTO_KEY_BYTES],
                    enum proto_kind kind, const char *heading)
{
	struct store_query q;
	const uint8_t (*authors)[PROTO_KEY_BYTES] = (const uint8_t (*)[PROTO_KEY_BYTES])key;

	memset(&q, 0, sizeof(q));
	q.kind = kind;
	q.authors = authors;
	q.n_authors = 1;
	q.sort = STORE_SORT_NEWEST;
	fputs("<h2>", c->f);
	web_esc(c->f, heading);
	c->n = 0;
	c->profile = kind == PROTO_KIND_PROFILE;
	if (!c->profile)
		fprintf(c->f, "</h2>\n<table class=\"%s\">\n", proto_kind_name(kind));
	else
		fputs("</h2>\n", c->f);
	store_query(t, &q, list_cb, c, NULL);
	if (!c->profile)
		fputs("</table>\n", c->f);
	if (!c->n) {
		fputs("<p class=\"meta\">", c->f);
		web_esc(c->f, c->r->tx->none);
		fputs("</p>\n", c->f);
	}
}

/* Inventory totals (dots joined by a line) and target paths (dashed). */
static void chart(struct town *c)
{
	const struct web_text *tx = c->r->tx;
	unsigned y0 = 9999, y1 = 0;
	double tmax = 0;
	FILE *f = c->f;

	for (size_t i = 0; i < c->n_inv; i++) {
		y0 = c->inv[i].year < y0 ? c->inv[i].year : y0;
		y1 = c->inv[i].year > y1 ? c->inv[i].year : y1;
		tmax = fmax(tmax, c->inv[i].t);
	}
	for (size_t i = 0; i < c->n_path; i++)
		for (int k = 0; k < 2; k++) {
			y0 = c->path[i][k].year < y0 ? c->path[i][k].year : y0;
			y1 = c->path[i][k].year > y1 ? c->path[i][k].year : y1;
			tmax = fmax(tmax, c->path[i][k].t);
		}
	if (!c->n_inv || y1 <= y0 || y1 - y0 > 200 || !(tmax > 0) || !isfinite(tmax))
		return;
	/* points sorted by year for the line */
	for (size_t i = 1; i < c->n_inv; i++)
		for (size_t j = i; j > 0 && c->inv[j - 1].year > c->inv[j].year; j--) {
			struct point tmp = c->inv[j];
			c->inv[j] = c->inv[j - 1];
			c->inv[j - 1] = tmp;
		}
#define X(y) (CHART_PAD + ((double)(y) - y0) * (CHART_W - 2 * CHART_PAD) / (double)(y1 - y0))
#define Y(v) (CHART_H - CHART_PAD - (v) * (CHART_H - 2 * CHART_PAD) / tmax)
	fputs("<h2>", f);
	web_esc(f, tx->h_progress);
	fprintf(f, "</h2>\n<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	        "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n", CHART_W, CHART_H, CHART_W,
	        CHART_H);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", CHART_PAD,
	        CHART_H - CHART_PAD, CHART_W - CHART_PAD, CHART_H - CHART_PAD);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", CHART_PAD,
	        CHART_PAD, CHART_PAD, CHART_H - CHART_PAD);
	for (unsigned y = y0; y <= y1; y += (y1 - y0) > 20 ? 5 : (y1 - y0) > 8 ? 2 : 1)
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%u</text>\n",
		        X(y), CHART_H - CHART_PAD + 16, y);
	fprintf(f, "<text x=\"4\" y=\"%d\" font-size=\"11\">%.0f t</text>\n", CHART_PAD - 6, tmax);
	for (size_t i = 0; i < c->n_path; i++)
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#2a7a3b\" "
		        "stroke-dasharray=\"6 4\" stroke-width=\"2\"/>\n", X(c->path[i][0].year),
		        Y(c->path[i][0].t), X(c->path[i][1].year), Y(c->path[i][1].t));
	fputs("<polyline fill=\"none\" stroke=\"#1f4d8a\" stroke-width=\"2\" points=\"", f);
	for (size_t i = 0; i < c->n_inv; i++)
		fprintf(f, "%.1f,%.1f ", X(c->inv[i].year), Y(c->inv[i].t));
	fputs("\"/>\n", f);
	for (size_t i = 0; i < c->n_inv; i++)
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#1f4d8a\"/>\n",
		        X(c->inv[i].year), Y(c->inv[i].t));
	fprintf(f, "<rect x=\"%d\" y=\"6\" width=\"14\" height=\"3\" fill=\"#1f4d8a\"/>"
	        "<text x=\"%d\" y=\"11\" font-size=\"11\">", CHART_W - 260, CHART_W - 242);
	web_esc(f, tx->legend_inventory);
	fprintf(f, "</text>\n<line x1=\"%d\" y1=\"22\" x2=\"%d\" y2=\"22\" stroke=\"#2a7a3b\" "
	        "stroke-dasharray=\"6 4\" stroke-width=\"2\"/><text x=\"%d\" y=\"26\" "
	        "font-size=\"11\">", CHART_W - 260, CHART_W - 246, CHART_W - 242);
	web_esc(f, tx->legend_path);
	fputs("</text>\n</svg>\n", f);
#undef X
#undef Y
}

void web_page_town(struct web_req *r, struct web_resp *p, const char *arg)
{
	const struct web_text *tx = r->tx;
	struct store_txn *t = NULL;
	struct cli_names *names = NULL;
	struct town *c = NULL;
	uint8_t key[PROTO_KEY_BYTES];
	const char *name, *country;
	FILE *f = p->f;

	if (strlen(arg) != PROTO_KEY_BYTES * 2 || proto_unhex(key, PROTO_KEY_BYTES, arg) != 0) {
		web_page_error(r, p, 404, tx->err_no_town);
		return;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		web_page_error(r, p, 500, tx->err_memory);
		return;
	}
	if (store_txn_begin(r->w->ctx->store, &t) < 0 || !(names = cli_names_new(t)) ||
	    cli_names_load(names) < 0) {
		web_page_error(r, p, 500, tx->err_store);
		goto out;
	}
	name = cli_names_name(names, key);
	country = cli_names_country(names, key);
	web_page_begin(r, p, name ? name : arg);
	fputs("<h1 id=\"title\">", f);
	web_esc(f, name ? name : tx->unknown);
	if (country && *country) {
		fputs(" (", f);
		web_esc(f, country);
		fputs(")", f);
	}
	fprintf(f, "</h1>\n<p class=\"meta\"><code>%s</code></p>\n", arg);
	c->r = r;
	c->f = f;
	section(c, t, key, PROTO_KIND_PROFILE, tx->h_profile);
	section(c, t, key, PROTO_KIND_TARGET, tx->h_targets);
	section(c, t, key, PROTO_KIND_INVENTORY, tx->h_inventories);
	chart(c);
	section(c, t, key, PROTO_KIND_MEASURE, tx->h_measures);
	section(c, t, key, PROTO_KIND_RESULT, tx->h_results);
	section(c, t, key, PROTO_KIND_LESSON, tx->h_lessons);
	web_page_end(r, p);
out:
	free(c);
	cli_names_free(names);
	store_txn_end(t);
}
