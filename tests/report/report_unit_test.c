/*
 * report_unit_test.c - the report's computation (cli/report.c) on records
 * built in memory, and report_collect on a real store (forks, retractions).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/report/report.h"
#include "../storage/helper.h"

/* ------------------------------------------------------------ builders */

struct recbuf {
	Agora__Record rec;
	uint8_t author[PROTO_KEY_BYTES];
	uint8_t alliance[PROTO_ID_BYTES];
};

static void rec_init(struct recbuf *b, unsigned author, uint64_t created)
{
	agora__record__init(&b->rec);
	memset(b->author, (int)author, sizeof(b->author));
	memset(b->alliance, 0xaa, sizeof(b->alliance));
	b->rec.has_author = 1;
	b->rec.author.len = PROTO_KEY_BYTES;
	b->rec.author.data = b->author;
	b->rec.has_alliance = 1;
	b->rec.alliance.len = PROTO_ID_BYTES;
	b->rec.alliance.data = b->alliance;
	b->rec.has_created_ms = 1;
	b->rec.created_ms = created;
}

static void id_of(uint8_t id[PROTO_ID_BYTES], unsigned n)
{
	memset(id, 0, PROTO_ID_BYTES);
	id[0] = (uint8_t)n;
	id[1] = (uint8_t)(n >> 8);
	id[31] = 0x77;
}

static void add_inventory(struct report *r, unsigned author, unsigned idn, int type,
                          unsigned year, const int *sectors, const double *t, size_t n)
{
	struct recbuf b;
	Agora__Inventory inv;
	Agora__SectorEmission se[16], *sp[16];
	uint8_t id[PROTO_ID_BYTES];

	rec_init(&b, author, 1000 + idn);
	agora__inventory__init(&inv);
	inv.has_type = 1;
	inv.type = type;
	inv.has_year = 1;
	inv.year = year;
	for (size_t i = 0; i < n; i++) {
		agora__sector_emission__init(&se[i]);
		se[i].has_sector = 1;
		se[i].sector = sectors[i];
		se[i].has_tco2e = 1;
		se[i].tco2e = t[i];
		sp[i] = &se[i];
	}
	inv.n_sectors = n;
	inv.sectors = sp;
	b.rec.body_case = AGORA__RECORD__BODY_INVENTORY;
	b.rec.inventory = &inv;
	id_of(id, idn);
	assert_int_equal(report_add(r, id, &b.rec), 0);
}

static void add_target(struct report *r, unsigned author, unsigned idn, int type,
                       unsigned by, double base, unsigned ty, double pct, bool has_pct)
{
	struct recbuf b;
	Agora__Target t;
	uint8_t id[PROTO_ID_BYTES];

	rec_init(&b, author, 1000 + idn);
	agora__target__init(&t);
	t.has_type = 1;
	t.type = type;
	t.title = "target";
	if (by) {
		t.has_baseline_year = 1;
		t.baseline_year = by;
		t.has_baseline_tco2e = 1;
		t.baseline_tco2e = base;
	}
	t.has_target_year = 1;
	t.target_year = ty;
	t.has_reduction_pct = has_pct;
	t.reduction_pct = pct;
	b.rec.body_case = AGORA__RECORD__BODY_TARGET;
	b.rec.target = &t;
	id_of(id, idn);
	assert_int_equal(report_add(r, id, &b.rec), 0);
}

static void add_measure(struct report *r, unsigned author, unsigned idn, int sector, int status,
                        double reduction)
{
	struct recbuf b;
	Agora__Measure m;
	uint8_t id[PROTO_ID_BYTES];

	rec_init(&b, author, 1000 + idn);
	agora__measure__init(&m);
	m.title = "m";
	m.has_sector = 1;
	m.sector = sector;
	m.has_status = 1;
	m.status = status;
	m.has_reduction_tco2e = reduction > 0;
	m.reduction_tco2e = reduction;
	b.rec.body_case = AGORA__RECORD__BODY_MEASURE;
	b.rec.measure = &m;
	id_of(id, idn);
	assert_int_equal(report_add(r, id, &b.rec), 0);
}

static void add_result(struct report *r, unsigned author, unsigned idn, unsigned measure,
                       const char *ind, const char *unit, double value, int est, unsigned year)
{
	struct recbuf b;
	Agora__Result res;
	uint8_t id[PROTO_ID_BYTES], mid[PROTO_ID_BYTES];

	rec_init(&b, author, 1000 + idn);
	agora__result__init(&res);
	id_of(mid, measure);
	res.has_measure = 1;
	res.measure.len = PROTO_ID_BYTES;
	res.measure.data = mid;
	res.indicator = (char *)ind;
	res.unit = (char *)unit;
	res.has_value = 1;
	res.value = value;
	res.has_estimation = 1;
	res.estimation = est;
	res.has_year = 1;
	res.year = year;
	b.rec.body_case = AGORA__RECORD__BODY_RESULT;
	b.rec.result = &res;
	id_of(id, idn);
	assert_int_equal(report_add(r, id, &b.rec), 0);
}

static struct report *new_report(bool explain)
{
	struct report *r = NULL;
	struct report_options o;
	uint8_t alliance[PROTO_ID_BYTES];
	memset(alliance, 0xaa, sizeof(alliance));
	memset(&o, 0, sizeof(o));
	o.alliance = alliance;
	o.explain = explain;
	assert_int_equal(report_new(&r, &o, NULL, NULL), 0);
	return r;
}

/* --------------------------------------------------------------- tests */

static void test_report_path__straight_line_then_flat(void **state)
{
	(void)state;
	/* 1000 t in 2010 to 300 t in 2030: 35 t less per year. */
	assert_true(report_path_value(2010, 1000, 2030, 300, 2010) == 1000);
	assert_true(report_path_value(2010, 1000, 2030, 300, 2020) == 650);
	assert_true(report_path_value(2010, 1000, 2030, 300, 2030) == 300);
	assert_true(report_path_value(2010, 1000, 2030, 300, 2040) == 300);
	assert_true(report_path_value(2010, 1000, 2030, 300, 2000) == 1000);
}

static void test_report_unit__only_tonnes_of_co2e_count_as_reductions(void **state)
{
	(void)state;
	assert_true(report_unit_is_tco2e("t CO2e"));
	assert_true(report_unit_is_tco2e("tCO2e/a"));
	assert_true(report_unit_is_tco2e(" t co2e/år"));
	assert_false(report_unit_is_tco2e("MWh"));
	assert_false(report_unit_is_tco2e("kt CO2e"));
	assert_false(report_unit_is_tco2e("t"));
	assert_false(report_unit_is_tco2e(""));
	assert_false(report_unit_is_tco2e(NULL));
}

static void test_report_key_sector__transport_is_any_of_three(void **state)
{
	(void)state;
	assert_int_equal(report_key_sector(AGORA__SECTOR__SECTOR_TRANSPORT_PUBLIC), 8);
	assert_int_equal(report_key_sector(AGORA__SECTOR__SECTOR_TRANSPORT_MUNICIPAL_FLEET), 8);
	assert_int_equal(report_key_sector(AGORA__SECTOR__SECTOR_TRANSPORT_PRIVATE_COMMERCIAL), 8);
	assert_int_equal(report_key_sector(AGORA__SECTOR__SECTOR_PUBLIC_LIGHTING), 1);
	assert_int_equal(report_key_sector(AGORA__SECTOR__SECTOR_INDUSTRY), 0);
	assert_int_equal(report_key_sector(AGORA__SECTOR__SECTOR_WASTE), 0);
}

static void test_report__on_track_when_exactly_on_the_path(void **state)
{
	struct report *r = new_report(true);
	int s1[] = { AGORA__SECTOR__SECTOR_MUNICIPAL_BUILDINGS, AGORA__SECTOR__SECTOR_TRANSPORT_PUBLIC };
	double bei[] = { 600, 400 }, mei[] = { 400, 250 }, mei2[] = { 400, 251 };
	(void)state;

	add_inventory(r, 1, 1, AGORA__INVENTORY_KIND__INVENTORY_KIND_BEI, 2010, s1, bei, 2);
	add_inventory(r, 1, 2, AGORA__INVENTORY_KIND__INVENTORY_KIND_MEI, 2020, s1, mei, 2);
	/* Net zero by 2030 from the BEI: path(2020) = 500; latest 650: off by 150. */
	add_target(r, 1, 3, AGORA__TARGET_KIND__TARGET_KIND_NET_ZERO, 0, 0, 2030, 0, false);
	/* -35 % by 2030 from 1000 t in 2010: path(2020) = 825... own baseline. */
	add_target(r, 1, 4, AGORA__TARGET_KIND__TARGET_KIND_ABSOLUTE_REDUCTION, 2010, 1000, 2030,
	           70, true);
	/* A second member exactly on its path: 1000 -> 300 by 2030, 650 in 2020. */
	add_inventory(r, 2, 5, AGORA__INVENTORY_KIND__INVENTORY_KIND_BEI, 2010, s1, bei, 2);
	add_inventory(r, 2, 6, AGORA__INVENTORY_KIND__INVENTORY_KIND_MEI, 2020, s1, mei, 2);
	add_target(r, 2, 7, AGORA__TARGET_KIND__TARGET_KIND_ABSOLUTE_REDUCTION, 0, 0, 2030, 70, true);
	/* And a third one tonne above it. */
	add_inventory(r, 3, 8, AGORA__INVENTORY_KIND__INVENTORY_KIND_BEI, 2010, s1, bei, 2);
	add_inventory(r, 3, 9, AGORA__INVENTORY_KIND__INVENTORY_KIND_MEI, 2020, s1, mei2, 2);
	add_target(r, 3, 10, AGORA__TARGET_KIND__TARGET_KIND_ABSOLUTE_REDUCTION, 0, 0, 2030, 70, true);
	assert_int_equal(report_finish(r), 0);
	assert_int_equal(r->n_members, 3);

	struct report_member *m = NULL;
	for (size_t i = 0; i < r->n_members; i++)
		if (r->members[i].key[0] == 1)
			m = &r->members[i];
	assert_non_null(m);
	assert_true(m->has_baseline && m->baseline == 1000 && m->baseline_year == 2010);
	assert_true(m->latest && m->latest->total == 650 && m->latest->year == 2020);
	assert_true(m->has_achieved && m->achieved_pct == 35.0);
	struct report_target *nz = &m->targets[0], *abs = &m->targets[1];
	assert_true(nz->evaluated && !nz->own_baseline && nz->target_value == 0);
	assert_true(nz->path_value == 500 && !nz->on_track && nz->gap == 150 && nz->gap_pp == 15);
	assert_int_equal(nz->src.n, 3);   /* target, BEI, latest inventory */
	assert_true(abs->evaluated && abs->own_baseline && abs->path_value == 650);
	assert_true(abs->on_track && abs->gap == 0);

	for (size_t i = 0; i < r->n_members; i++) {
		struct report_member *x = &r->members[i];
		if (x->key[0] == 2)
			assert_true(x->targets[0].on_track && x->targets[0].gap == 0);
		if (x->key[0] == 3)
			assert_true(!x->targets[0].on_track && x->targets[0].gap == 1);
	}
	report_free(r);
}

static void test_report__zero_baseline_is_never_divided_by(void **state)
{
	struct report *r = new_report(false);
	int s1[] = { AGORA__SECTOR__SECTOR_WASTE };
	double zero[] = { 0 }, some[] = { 10 };
	(void)state;

	add_inventory(r, 1, 1, AGORA__INVENTORY_KIND__INVENTORY_KIND_BEI, 2010, s1, zero, 1);
	add_inventory(r, 1, 2, AGORA__INVENTORY_KIND__INVENTORY_KIND_MEI, 2020, s1, some, 1);
	add_target(r, 1, 3, AGORA__TARGET_KIND__TARGET_KIND_NET_ZERO, 0, 0, 2050, 0, false);
	/* A target year before its own baseline year: not evaluated either. */
	add_target(r, 1, 4, AGORA__TARGET_KIND__TARGET_KIND_ABSOLUTE_REDUCTION, 2040, 50, 2030, 50,
	           true);
	assert_int_equal(report_finish(r), 0);
	struct report_member *m = &r->members[0];
	assert_true(m->has_baseline && m->baseline == 0);
	assert_false(m->has_achieved);
	assert_false(m->targets[0].evaluated);
	assert_false(m->targets[0].has_achieved);
	assert_false(m->targets[1].evaluated);
	report_free(r);
}

static void test_report__member_with_only_measures_is_reported_as_partial(void **state)
{
	struct report *r = new_report(false);
	(void)state;

	add_measure(r, 1, 1, AGORA__SECTOR__SECTOR_TRANSPORT_PUBLIC, AGORA__STATUS__STATUS_ONGOING, 10);
	add_measure(r, 1, 2, AGORA__SECTOR__SECTOR_RESIDENTIAL_BUILDINGS,
	            AGORA__STATUS__STATUS_CANCELLED, 20);
	add_target(r, 1, 3, AGORA__TARGET_KIND__TARGET_KIND_NET_ZERO, 0, 0, 2050, 0, false);
	assert_int_equal(report_finish(r), 0);
	struct report_member *m = &r->members[0];
	assert_int_equal(m->n_inv, 0);
	assert_null(m->latest);
	assert_false(m->has_baseline);
	assert_false(m->targets[0].has_baseline);
	assert_int_equal(r->no_baseline.n, 1);
	/* Cancelled measures are not actions for the Covenant minimum. */
	assert_int_equal(m->action_key_sectors, 8);
	assert_false(m->com_ok);
	assert_int_equal(m->by_status[AGORA__STATUS__STATUS_ONGOING], 1);
	assert_int_equal(m->by_status[AGORA__STATUS__STATUS_CANCELLED], 1);
	assert_true(r->planned == 30);
	report_free(r);
}

static void test_report__results_in_different_units_are_never_added(void **state)
{
	struct report *r = new_report(true);
	(void)state;

	add_measure(r, 1, 1, AGORA__SECTOR__SECTOR_WASTE, AGORA__STATUS__STATUS_ONGOING, 100);
	add_result(r, 1, 2, 1, "Reduction", "t CO2e", 40, AGORA__ESTIMATION__ESTIMATION_MEASURED, 2020);
	add_result(r, 1, 3, 1, "Reduction", "t CO2e", 60, AGORA__ESTIMATION__ESTIMATION_MEASURED, 2021);
	add_result(r, 1, 4, 1, "Reduction", "MWh", 500, AGORA__ESTIMATION__ESTIMATION_MEASURED, 2021);
	add_result(r, 1, 5, 1, "Reduction", " t CO2e ", 1, AGORA__ESTIMATION__ESTIMATION_ESTIMATED,
	           2019);
	add_result(r, 1, 6, 99, "Reduction", "t CO2e", 7, AGORA__ESTIMATION__ESTIMATION_MEASURED, 2021);
	assert_int_equal(report_finish(r), 0);
	struct report_member *m = &r->members[0];
	assert_int_equal(m->n_sums, 2);
	/* sorted by indicator then unit: "MWh" < "t CO2e" */
	assert_string_equal(m->sums[0].unit, "MWh");
	assert_true(m->sums[0].sum == 500 && m->sums[0].count == 1);
	assert_string_equal(m->sums[1].unit, "t CO2e");
	assert_true(m->sums[1].sum == 101 && m->sums[1].count == 3);
	assert_int_equal(m->sums[1].src.n, 3);
	/* The latest measured result stands for the measure (not 40 + 60). */
	struct report_sector *s = &r->sectors[AGORA__SECTOR__SECTOR_WASTE];
	assert_true(s->measured == 60 && s->estimated == 1 && s->planned == 100);
	/* A result of an unknown measure is a data-quality finding. */
	assert_int_equal(r->orphan_results.n, 1);
	assert_int_equal(r->orphan_results.v[0][0], 6);
	report_free(r);
}

/* On a real store: a forked author is flagged; a retracted record is gone. */
static void test_report_collect__flags_fork_and_skips_retracted(void **state)
{
	char *dir = th_tmpdir();
	struct store *s = NULL;
	struct store_txn *t = NULL;
	struct proto_key *coord = th_key(1), *mem = th_key(2);
	struct th_feed fc, fm, fm2;
	struct report *r = NULL;
	struct report_options o;
	(void)state;

	assert_int_equal(store_open(&s, dir, 0), 0);
	struct th_env ch = th_charter(&fc, coord, "Forkland", TH_NOW - 100000);
	assert_int_equal(th_ingest1(s, &ch), STORE_NEW);
	th_feed_init(&fm, mem, fc.alliance);
	struct th_env m1 = th_measure(&fm, "Vådområde", "first", TH_NOW - 90000);
	assert_int_equal(th_ingest1(s, &m1), STORE_NEW);
	fm2 = fm;   /* the same feed, forked after seq 1 */
	struct th_env m2 = th_measure(&fm, "Skov", "second", TH_NOW - 80000);
	struct th_env m2b = th_measure(&fm2, "Sol", "other second", TH_NOW - 79000);
	assert_int_equal(th_ingest1(s, &m2), STORE_NEW);
	assert_int_equal(th_ingest1(s, &m2b), STORE_FORKED);
	/* Retract the first measure. */
	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Retract ret = AGORA__RETRACT__INIT;
	ret.has_target = 1;
	ret.target.len = PROTO_ID_BYTES;
	ret.target.data = m1.id;
	rec.body_case = AGORA__RECORD__BODY_RETRACT;
	rec.retract = &ret;
	struct th_env rx = th_sign(&fm, &rec, TH_NOW - 70000);
	assert_int_equal(th_ingest1(s, &rx), STORE_NEW);

	assert_int_equal(store_txn_begin(s, &t), 0);
	memset(&o, 0, sizeof(o));
	o.alliance = fc.alliance;
	o.explain = true;
	assert_int_equal(report_collect(&r, t, &o), 0);
	assert_string_equal(r->alliance_name, "Forkland");
	struct report_member *m = NULL;
	for (size_t i = 0; i < r->n_members; i++)
		if (!memcmp(r->members[i].key, mem->pk, PROTO_KEY_BYTES))
			m = &r->members[i];
	assert_non_null(m);
	assert_true(m->forked);
	assert_int_equal(r->n_forked, 1);
	assert_int_equal(m->n_measures, 1);   /* m1 retracted; m2 counted once */
	size_t total = 0;
	for (int k = 0; k < REPORT_STATUSES; k++)
		for (size_t j = 0; j < m->status_src[k].n; j++) {
			assert_memory_not_equal(m->status_src[k].v[j], m1.id, PROTO_ID_BYTES);
			total++;
		}
	assert_int_equal(total, 1);
	report_free(r);
	store_txn_end(t);
	store_close(s);
	th_env_free(&ch);
	th_env_free(&m1);
	th_env_free(&m2);
	th_env_free(&m2b);
	th_env_free(&rx);
	proto_key_free(coord);
	proto_key_free(mem);
	th_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_path__straight_line_then_flat),
		cmocka_unit_test(test_report_unit__only_tonnes_of_co2e_count_as_reductions),
		cmocka_unit_test(test_report_key_sector__transport_is_any_of_three),
		cmocka_unit_test(test_report__on_track_when_exactly_on_the_path),
		cmocka_unit_test(test_report__zero_baseline_is_never_divided_by),
		cmocka_unit_test(test_report__member_with_only_measures_is_reported_as_partial),
		cmocka_unit_test(test_report__results_in_different_units_are_never_added),
		cmocka_unit_test(test_report_collect__flags_fork_and_skips_retracted),
	};
	if (proto_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
