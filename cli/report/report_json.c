/*
 * report_json.c - the report as one JSON document: every figure with the
 * ids of the records behind it when explaining.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/report/report_int.h"

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
	json_object_set_new(o, "coordinator", json_boolean(m->coordinator));
	/* A coordinator without climate data of its own: not a lagging member. */
	json_object_set_new(o, "climate_data", json_boolean(!m->hidden));
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
		json_object_set_new(t, "type", json_string(report_target_type(x->type)));
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

json_t *report_json(const struct report *r, const struct report_labels *L)
{
	json_t *o = json_object(), *a, *x;
	char hex[PROTO_ID_HEX + 1];

	proto_hex(hex, r->alliance, PROTO_ID_BYTES);
	x = json_object();
	json_object_set_new(x, "id", json_string(hex));
	json_object_set_new(x, "name", r->alliance_name ? json_string(r->alliance_name) : json_null());
	json_object_set_new(o, "alliance", x);
	char date[32];
	if (r->opt.generated_s)
		report_date(L, date, sizeof(date), r->opt.generated_s);
	json_object_set_new(o, "generated", r->opt.generated_s ? json_string(date) : json_null());
	if (r->newest_ms)
		report_date(L, date, sizeof(date), (int64_t)(r->newest_ms / 1000));
	json_object_set_new(o, "data_as_of", r->newest_ms ? json_string(date) : json_null());
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

