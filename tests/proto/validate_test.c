/*
 * validate_test.c - every validation rule, each case asserting the code and
 * the exact field path a climate officer would be pointed at.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fixtures.h"

typedef void (*mutate_fn)(struct fixture *f);

struct vcase {
	const char *what;
	enum proto_kind kind;
	mutate_fn mutate;
	int code;
	const char *field;
};

static uint8_t short_bytes[31];

/* ---- record envelope fields */
static void author_short(struct fixture *f) { f->rec.author.len = 31; }
static void seq_zero(struct fixture *f) { f->rec.seq = 0; }
static void seq_missing(struct fixture *f) { f->rec.has_seq = 0; }
static void prev_missing(struct fixture *f) { f->rec.has_prev = 0; }
static void prev_short(struct fixture *f) { f->rec.prev.len = 16; }
static void prev_on_first(struct fixture *f) { f->rec.seq = 1; }
static void created_missing(struct fixture *f) { f->rec.has_created_ms = 0; }
static void created_future(struct fixture *f) { f->rec.created_ms = NOW_MS + 16 * 60 * 1000; }
static void no_body(struct fixture *f) { f->rec.body_case = AGORA__RECORD__BODY__NOT_SET; }
static void unknown_body(struct fixture *f) { f->rec.body_case = (Agora__Record__BodyCase)40; }
static void alliance_missing(struct fixture *f) { f->rec.has_alliance = 0; }
static void alliance_short(struct fixture *f) { f->rec.alliance.len = 8; }
static void charter_with_alliance(struct fixture *f)
{
	f->rec.has_alliance = 1;
	f->rec.alliance.len = 32;
	f->rec.alliance.data = f->alliance;
}
static void charter_seq2(struct fixture *f)
{
	f->rec.seq = 2;
	f->rec.has_prev = 1;
	f->rec.prev.len = 32;
	f->rec.prev.data = f->prev;
}

/* ---- charter */
static void charter_no_name(struct fixture *f) { f->charter.name = NULL; }
static void charter_empty_name(struct fixture *f) { f->charter.name = ""; }
static void charter_no_coords(struct fixture *f) { f->charter.n_coordinators = 0; }
static void charter_author_not_coord(struct fixture *f) { f->coordinators[0].data = f->prev; }
static void charter_coord_short(struct fixture *f) { f->coordinators[1].len = 31; }
static void charter_coord_twice(struct fixture *f) { f->coordinators[1].data = f->author; }
static void charter_no_policy(struct fixture *f) { f->charter.has_policy = 0; }
static void charter_newer_policy(struct fixture *f) { f->charter.policy = (Agora__AdmissionPolicy)9; }
static void charter_bad_policy(struct fixture *f) { f->charter.policy = (Agora__AdmissionPolicy)-9; }
static void charter_threshold_zero(struct fixture *f) { f->charter.threshold = 0; }
static void charter_threshold_big(struct fixture *f) { f->charter.threshold = 3; }
static void charter_bad_lang(struct fixture *f) { f->charter.language = "danish language"; }

/* ---- admission, revocation, key rotation */
static void adm_no_member(struct fixture *f) { f->admission.has_member = 0; }
static void adm_no_role(struct fixture *f) { f->admission.has_role = 0; }
static void adm_role_zero(struct fixture *f) { f->admission.role = AGORA__ROLE__ROLE_UNSPECIFIED; }
static void adm_no_name(struct fixture *f) { f->admission.name = NULL; }
static void adm_country_lower(struct fixture *f) { f->admission.country = "dk"; }
static void rev_member_short(struct fixture *f) { f->revocation.member.len = 20; }
static void rot_no_key(struct fixture *f) { f->key_rotation.has_new_key = 0; }
static void rot_sig_short(struct fixture *f) { f->key_rotation.new_key_signature.len = 32; }

/* ---- profile */
static void prof_no_country(struct fixture *f) { f->profile.country = NULL; }
static void prof_country_3(struct fixture *f) { f->profile.country = "DNK"; }
static void prof_area_neg(struct fixture *f) { f->profile.area_km2 = -1; }
static void prof_area_nan(struct fixture *f) { f->profile.area_km2 = NAN; }
static void prof_lang_bad(struct fixture *f) { f->languages[1] = "en_GB"; }
static void prof_website_ftp(struct fixture *f) { f->profile.website = "ftp://assens.dk"; }
static void prof_name_newline(struct fixture *f) { f->profile.name = "Assens\nKommune"; }
static void prof_name_bad_utf8(struct fixture *f) { f->profile.name = "Assens \xc3\x28"; }
static void prof_name_overlong(struct fixture *f) { f->profile.name = "Assens \xc0\xaf"; }
static void prof_name_surrogate(struct fixture *f) { f->profile.name = "Assens \xed\xa0\x80"; }

/* ---- target */
static void tgt_no_type(struct fixture *f) { f->target.has_type = 0; }
static void tgt_no_year(struct fixture *f) { f->target.has_target_year = 0; }
static void tgt_year_1850(struct fixture *f) { f->target.target_year = 1850; }
static void tgt_year_3000(struct fixture *f) { f->target.target_year = 3000; }
static void tgt_abs_no_baseline(struct fixture *f) { f->target.has_baseline_year = 0; }
static void tgt_abs_no_pct(struct fixture *f) { f->target.has_reduction_pct = 0; }
static void tgt_pct_101(struct fixture *f) { f->target.reduction_pct = 101; }
static void tgt_pct_neg(struct fixture *f) { f->target.reduction_pct = -5; }
static void tgt_baseline_after(struct fixture *f) { f->target.baseline_year = 2030; }
static void tgt_bad_scope(struct fixture *f) { f->target.scope = (Agora__Scope)-77; }
static void tgt_baseline_inf(struct fixture *f) { f->target.baseline_tco2e = INFINITY; }

/* ---- inventory */
static void inv_no_sectors(struct fixture *f) { f->inventory.n_sectors = 0; }
static void inv_sector_zero(struct fixture *f) { f->sector[1].sector = AGORA__SECTOR__SECTOR_UNSPECIFIED; }
static void inv_sector_twice(struct fixture *f) { f->sector[2].sector = f->sector[0].sector; }
static void inv_tco2e_nan(struct fixture *f) { f->sector[2].tco2e = NAN; }
static void inv_mwh_neg(struct fixture *f) { f->sector[0].mwh = -10; }
static void inv_no_year(struct fixture *f) { f->inventory.has_year = 0; }
static void inv_no_type(struct fixture *f) { f->inventory.has_type = 0; }

/* ---- measure */
static void m_no_title(struct fixture *f) { f->measure.title = NULL; }
static void m_no_lang(struct fixture *f) { f->measure.language = NULL; }
static void m_neither(struct fixture *f) { f->measure.mitigation = 0; f->measure.has_adaptation = 0; }
static void m_years_reversed(struct fixture *f) { f->measure.end_year = 2019; }
static void m_start_1800(struct fixture *f) { f->measure.start_year = 1800; }
static void m_no_currency(struct fixture *f) { f->measure.currency = NULL; }
static void m_currency_lower(struct fixture *f) { f->measure.currency = "dkk"; }
static void m_invest_neg(struct fixture *f) { f->measure.investment = -1; }
static void m_area_zero(struct fixture *f) { f->areas[1] = AGORA__AREA__AREA_UNSPECIFIED; }
static void m_area_unknown(struct fixture *f) { f->areas[0] = (Agora__Area)-999; }
static void m_area_twice(struct fixture *f) { f->areas[1] = f->areas[0]; }
static void m_hazard_unknown(struct fixture *f) { f->hazards[0] = (Agora__Hazard)-3; }
static void m_link_mailto(struct fixture *f) { f->links[0] = "mailto:klima@assens.dk"; }
static void m_tag_long(struct fixture *f)
{
	f->tags[1] = "a-tag-that-goes-on-and-on-and-on-for-far-longer-than-sixty-four-bytes";
}
static void m_title_301(struct fixture *f)
{
	static char t[302];
	memset(t, 'x', 301);
	t[301] = 0;
	f->measure.title = t;
}
static void m_title_300(struct fixture *f)
{
	static char t[301];
	memset(t, 'x', 300);
	t[300] = 0;
	f->measure.title = t;
}
static void m_summary_tab(struct fixture *f) { f->measure.summary = "a\tb\nc"; }
static void m_summary_bell(struct fixture *f) { f->measure.summary = "ding\a"; }
static void m_tr_no_lang(struct fixture *f) { f->translation.language = NULL; }
static void m_tr_title_nl(struct fixture *f) { f->translation.title = "two\nlines"; }
static void m_bad_sector(struct fixture *f) { f->measure.sector = (Agora__Sector)-15; }
static void m_adaptation_only(struct fixture *f) { f->measure.has_mitigation = 0; }
static void m_no_cost_no_currency(struct fixture *f)
{
	f->measure.has_investment = 0;
	f->measure.currency = NULL;
}
static void m_sinks_reduction_neg(struct fixture *f) { f->measure.reduction_tco2e = -2; }

/* ---- result, lesson, endorsement, supersede, retract */
static void r_measure_short(struct fixture *f) { f->result.measure.len = 31; f->result.measure.data = short_bytes; }
static void r_no_indicator(struct fixture *f) { f->result.indicator = NULL; }
static void r_no_value(struct fixture *f) { f->result.has_value = 0; }
static void r_value_nan(struct fixture *f) { f->result.value = NAN; }
static void r_no_unit(struct fixture *f) { f->result.unit = ""; }
static void r_no_year(struct fixture *f) { f->result.has_year = 0; }
static void r_bad_estimation(struct fixture *f) { f->result.estimation = (Agora__Estimation)-3; }
static void l_no_title(struct fixture *f) { f->lesson.title = NULL; }
static void l_no_lang(struct fixture *f) { f->lesson.language = NULL; }
static void l_measure_short(struct fixture *f) { f->lesson_measures[0].len = 12; }
static void l_barrier_zero(struct fixture *f) { f->barriers[1] = AGORA__BARRIER__BARRIER_UNSPECIFIED; }
static void e_no_target(struct fixture *f) { f->endorsement.has_target = 0; }
static void s_no_target(struct fixture *f) { f->supersede.has_target = 0; }
static void s_no_body(struct fixture *f) { f->supersede.body_case = AGORA__SUPERSEDE__BODY__NOT_SET; }
static void s_body_invalid(struct fixture *f) { f->measure.start_year = 1500; }
static void s_body_tr_lang(struct fixture *f) { f->translation.language = "12"; }
static void ret_no_target(struct fixture *f) { f->retract.has_target = 0; }
static void nothing(struct fixture *f) { (void)f; }

#define OK(what, kind, fn) { what, kind, fn, 0, "" }
#define BAD(what, kind, fn, field) { what, kind, fn, PROTO_E_FIELD, field }

static const struct vcase cases[] = {
	BAD("author 31 bytes", PROTO_KIND_MEASURE, author_short, "author"),
	BAD("seq 0", PROTO_KIND_MEASURE, seq_zero, "seq"),
	BAD("seq missing", PROTO_KIND_MEASURE, seq_missing, "seq"),
	BAD("prev missing at seq 2", PROTO_KIND_MEASURE, prev_missing, "prev"),
	BAD("prev 16 bytes", PROTO_KIND_MEASURE, prev_short, "prev"),
	BAD("prev at seq 1", PROTO_KIND_MEASURE, prev_on_first, "prev"),
	BAD("created_ms missing", PROTO_KIND_MEASURE, created_missing, "created_ms"),
	{ "created in the future", PROTO_KIND_MEASURE, created_future, PROTO_E_FUTURE, "created_ms" },
	{ "no body", PROTO_KIND_MEASURE, no_body, PROTO_E_KIND, "" },
	{ "unknown body", PROTO_KIND_MEASURE, unknown_body, PROTO_E_KIND, "" },
	BAD("alliance missing", PROTO_KIND_RESULT, alliance_missing, "alliance"),
	BAD("alliance 8 bytes", PROTO_KIND_ADMISSION, alliance_short, "alliance"),
	BAD("charter names an alliance", PROTO_KIND_CHARTER, charter_with_alliance, "alliance"),
	BAD("charter at seq 2", PROTO_KIND_CHARTER, charter_seq2, "seq"),

	BAD("charter without name", PROTO_KIND_CHARTER, charter_no_name, "charter.name"),
	BAD("charter with empty name", PROTO_KIND_CHARTER, charter_empty_name, "charter.name"),
	BAD("charter without coordinators", PROTO_KIND_CHARTER, charter_no_coords, "charter.coordinators"),
	BAD("charter author not a coordinator", PROTO_KIND_CHARTER, charter_author_not_coord, "charter.coordinators"),
	BAD("charter coordinator 31 bytes", PROTO_KIND_CHARTER, charter_coord_short, "charter.coordinators[1]"),
	BAD("charter coordinator twice", PROTO_KIND_CHARTER, charter_coord_twice, "charter.coordinators[1]"),
	BAD("charter without policy", PROTO_KIND_CHARTER, charter_no_policy, "charter.policy"),
	BAD("charter negative policy", PROTO_KIND_CHARTER, charter_bad_policy, "charter.policy"),
	{ "charter policy of a newer version", PROTO_KIND_CHARTER, charter_newer_policy, PROTO_E_UPGRADE, "" },
	BAD("charter threshold 0", PROTO_KIND_CHARTER, charter_threshold_zero, "charter.threshold"),
	BAD("charter threshold above n", PROTO_KIND_CHARTER, charter_threshold_big, "charter.threshold"),
	BAD("charter bad language", PROTO_KIND_CHARTER, charter_bad_lang, "charter.language"),

	BAD("admission without member", PROTO_KIND_ADMISSION, adm_no_member, "admission.member"),
	BAD("admission without role", PROTO_KIND_ADMISSION, adm_no_role, "admission.role"),
	BAD("admission role unspecified", PROTO_KIND_ADMISSION, adm_role_zero, "admission.role"),
	BAD("admission without name", PROTO_KIND_ADMISSION, adm_no_name, "admission.name"),
	BAD("admission lower-case country", PROTO_KIND_ADMISSION, adm_country_lower, "admission.country"),
	BAD("revocation member 20 bytes", PROTO_KIND_REVOCATION, rev_member_short, "revocation.member"),
	BAD("key rotation without key", PROTO_KIND_KEY_ROTATION, rot_no_key, "key_rotation.new_key"),
	BAD("key rotation short signature", PROTO_KIND_KEY_ROTATION, rot_sig_short, "key_rotation.new_key_signature"),

	BAD("profile without country", PROTO_KIND_PROFILE, prof_no_country, "profile.country"),
	BAD("profile alpha-3 country", PROTO_KIND_PROFILE, prof_country_3, "profile.country"),
	BAD("profile negative area", PROTO_KIND_PROFILE, prof_area_neg, "profile.area_km2"),
	BAD("profile NaN area", PROTO_KIND_PROFILE, prof_area_nan, "profile.area_km2"),
	BAD("profile en_GB", PROTO_KIND_PROFILE, prof_lang_bad, "profile.languages[1]"),
	BAD("profile ftp website", PROTO_KIND_PROFILE, prof_website_ftp, "profile.website"),
	BAD("profile name with newline", PROTO_KIND_PROFILE, prof_name_newline, "profile.name"),
	BAD("profile name bad UTF-8", PROTO_KIND_PROFILE, prof_name_bad_utf8, "profile.name"),
	BAD("profile name overlong UTF-8", PROTO_KIND_PROFILE, prof_name_overlong, "profile.name"),
	BAD("profile name surrogate", PROTO_KIND_PROFILE, prof_name_surrogate, "profile.name"),

	BAD("target without type", PROTO_KIND_TARGET, tgt_no_type, "target.type"),
	BAD("target without year", PROTO_KIND_TARGET, tgt_no_year, "target.target_year"),
	BAD("target year 1850", PROTO_KIND_TARGET, tgt_year_1850, "target.target_year"),
	BAD("target year 3000", PROTO_KIND_TARGET, tgt_year_3000, "target.target_year"),
	BAD("absolute target without baseline", PROTO_KIND_TARGET, tgt_abs_no_baseline, "target.baseline_year"),
	BAD("absolute target without percent", PROTO_KIND_TARGET, tgt_abs_no_pct, "target.reduction_pct"),
	BAD("target 101 %", PROTO_KIND_TARGET, tgt_pct_101, "target.reduction_pct"),
	BAD("target -5 %", PROTO_KIND_TARGET, tgt_pct_neg, "target.reduction_pct"),
	BAD("target baseline not before target", PROTO_KIND_TARGET, tgt_baseline_after, "target.baseline_year"),
	BAD("target negative scope", PROTO_KIND_TARGET, tgt_bad_scope, "target.scope"),
	BAD("target infinite baseline", PROTO_KIND_TARGET, tgt_baseline_inf, "target.baseline_tco2e"),

	BAD("inventory without sectors", PROTO_KIND_INVENTORY, inv_no_sectors, "inventory.sectors"),
	BAD("inventory sector unspecified", PROTO_KIND_INVENTORY, inv_sector_zero, "inventory.sectors[1].sector"),
	BAD("inventory sector twice", PROTO_KIND_INVENTORY, inv_sector_twice, "inventory.sectors[2].sector"),
	BAD("inventory NaN tco2e", PROTO_KIND_INVENTORY, inv_tco2e_nan, "inventory.sectors[2].tco2e"),
	BAD("inventory negative MWh", PROTO_KIND_INVENTORY, inv_mwh_neg, "inventory.sectors[0].mwh"),
	BAD("inventory without year", PROTO_KIND_INVENTORY, inv_no_year, "inventory.year"),
	BAD("inventory without type", PROTO_KIND_INVENTORY, inv_no_type, "inventory.type"),

	BAD("measure without title", PROTO_KIND_MEASURE, m_no_title, "measure.title"),
	BAD("measure without language", PROTO_KIND_MEASURE, m_no_lang, "measure.language"),
	BAD("measure neither mitigation nor adaptation", PROTO_KIND_MEASURE, m_neither, "measure.mitigation"),
	BAD("measure ends before it starts", PROTO_KIND_MEASURE, m_years_reversed, "measure.end_year"),
	BAD("measure starts 1800", PROTO_KIND_MEASURE, m_start_1800, "measure.start_year"),
	BAD("measure cost without currency", PROTO_KIND_MEASURE, m_no_currency, "measure.currency"),
	BAD("measure lower-case currency", PROTO_KIND_MEASURE, m_currency_lower, "measure.currency"),
	BAD("measure negative investment", PROTO_KIND_MEASURE, m_invest_neg, "measure.investment"),
	BAD("measure area unspecified", PROTO_KIND_MEASURE, m_area_zero, "measure.areas[1]"),
	BAD("measure negative area", PROTO_KIND_MEASURE, m_area_unknown, "measure.areas[0]"),
	BAD("measure area twice", PROTO_KIND_MEASURE, m_area_twice, "measure.areas[1]"),
	BAD("measure negative hazard", PROTO_KIND_MEASURE, m_hazard_unknown, "measure.hazards[0]"),
	BAD("measure mailto link", PROTO_KIND_MEASURE, m_link_mailto, "measure.links[0]"),
	BAD("measure 70-byte tag", PROTO_KIND_MEASURE, m_tag_long, "measure.tags[1]"),
	BAD("measure 301-byte title", PROTO_KIND_MEASURE, m_title_301, "measure.title"),
	BAD("measure summary with BEL", PROTO_KIND_MEASURE, m_summary_bell, "measure.summary"),
	BAD("translation without language", PROTO_KIND_MEASURE, m_tr_no_lang, "measure.translations[0].language"),
	BAD("translation title with newline", PROTO_KIND_MEASURE, m_tr_title_nl, "measure.translations[0].title"),
	BAD("measure negative sector", PROTO_KIND_MEASURE, m_bad_sector, "measure.sector"),

	BAD("result measure 31 bytes", PROTO_KIND_RESULT, r_measure_short, "result.measure"),
	BAD("result without indicator", PROTO_KIND_RESULT, r_no_indicator, "result.indicator"),
	BAD("result without value", PROTO_KIND_RESULT, r_no_value, "result.value"),
	BAD("result NaN value", PROTO_KIND_RESULT, r_value_nan, "result.value"),
	BAD("result empty unit", PROTO_KIND_RESULT, r_no_unit, "result.unit"),
	BAD("result without year", PROTO_KIND_RESULT, r_no_year, "result.year"),
	BAD("result negative estimation", PROTO_KIND_RESULT, r_bad_estimation, "result.estimation"),
	BAD("lesson without title", PROTO_KIND_LESSON, l_no_title, "lesson.title"),
	BAD("lesson without language", PROTO_KIND_LESSON, l_no_lang, "lesson.language"),
	BAD("lesson measure 12 bytes", PROTO_KIND_LESSON, l_measure_short, "lesson.measures[0]"),
	BAD("lesson barrier unspecified", PROTO_KIND_LESSON, l_barrier_zero, "lesson.barriers[1]"),
	BAD("endorsement without target", PROTO_KIND_ENDORSEMENT, e_no_target, "endorsement.target"),
	BAD("supersede without target", PROTO_KIND_SUPERSEDE, s_no_target, "supersede.target"),
	BAD("supersede without body", PROTO_KIND_SUPERSEDE, s_no_body, "supersede.body"),
	BAD("supersede body checked as measure", PROTO_KIND_SUPERSEDE, s_body_invalid, "measure.start_year"),
	BAD("supersede body translation", PROTO_KIND_SUPERSEDE, s_body_tr_lang, "measure.translations[0].language"),
	BAD("retract without target", PROTO_KIND_RETRACT, ret_no_target, "retract.target"),

	OK("valid measure", PROTO_KIND_MEASURE, nothing),
	OK("300-byte title", PROTO_KIND_MEASURE, m_title_300),
	OK("tabs and newlines in a summary", PROTO_KIND_MEASURE, m_summary_tab),
	OK("adaptation-only measure", PROTO_KIND_MEASURE, m_adaptation_only),
	OK("no cost, no currency", PROTO_KIND_MEASURE, m_no_cost_no_currency),
	OK("negative reduction (emissions rose)", PROTO_KIND_MEASURE, m_sinks_reduction_neg),
	OK("inventory with a net sink", PROTO_KIND_INVENTORY, nothing),
	OK("charter threshold 2 of 2", PROTO_KIND_CHARTER, nothing),
};

static void test_validate__table_of_field_rules(void **state)
{
	struct proto_key *key = fixture_key(20);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vcase *c = &cases[i];
		struct fixture f;
		struct proto_error err;
		int rc;

		memset(&err, 0x55, sizeof(err));
		fixture_init(&f, c->kind, key);
		c->mutate(&f);
		rc = proto_record_validate(&f.rec, NOW_MS, &err);
		if (rc != c->code)
			fail_msg("case \"%s\": got %d (%s: %s), want %d", c->what, rc,
			         rc ? err.field : "", rc ? err.msg : "", c->code);
		if (rc == 0)
			continue;
		assert_int_equal(err.code, rc);
		if (strcmp(err.field, c->field) != 0)
			fail_msg("case \"%s\": field \"%s\", want \"%s\" (%s)", c->what, err.field,
			         c->field, err.msg);
		/* The message names the field and says something about it. */
		assert_true(strlen(err.msg) > strlen(err.field) + 5);
		assert_non_null(memchr(err.msg, '\0', sizeof(err.msg)));
	}
	proto_key_free(key);
}

static void test_validate__null_err_is_allowed(void **state)
{
	struct proto_key *key = fixture_key(21);
	struct fixture f;

	fixture_init(&f, PROTO_KIND_TARGET, key);
	tgt_pct_101(&f);
	assert_int_equal(proto_record_validate(&f.rec, NOW_MS, NULL), PROTO_E_FIELD);
	proto_key_free(key);
}

static void test_validate__message_reads_well_for_officers(void **state)
{
	struct proto_key *key = fixture_key(22);
	struct fixture f;
	struct proto_error err = { 0 };

	fixture_init(&f, PROTO_KIND_MEASURE, key);
	f.measure.start_year = 1850;
	f.measure.has_end_year = 0;
	assert_int_equal(proto_record_validate(&f.rec, NOW_MS, &err), PROTO_E_FIELD);
	assert_string_equal(err.field, "measure.start_year");
	assert_string_equal(err.msg, "measure.start_year: 1850 is not a plausible year (1900 to 2200)");
	proto_key_free(key);
}

static void test_validate__utf8_validator_edges(void **state)
{
	assert_true(proto_utf8_valid("", 0));
	assert_true(proto_utf8_valid("vådområde łąka ŁĄKA", strlen("vådområde łąka ŁĄKA")));
	assert_true(proto_utf8_valid("\xf0\x9f\x8c\x8d", 4));             /* U+1F30D */
	assert_true(proto_utf8_valid("\xef\xbf\xbf", 3));                 /* U+FFFF */
	assert_true(proto_utf8_valid("\xf4\x8f\xbf\xbf", 4));             /* U+10FFFF */
	assert_false(proto_utf8_valid("\xf4\x90\x80\x80", 4));            /* > U+10FFFF */
	assert_false(proto_utf8_valid("\xc0\x80", 2));                    /* overlong NUL */
	assert_false(proto_utf8_valid("\xe0\x80\xaf", 3));                /* overlong '/' */
	assert_false(proto_utf8_valid("\xf0\x80\x80\xaf", 4));            /* overlong '/' */
	assert_false(proto_utf8_valid("\xed\xbf\xbf", 3));                /* surrogate */
	assert_false(proto_utf8_valid("\x80", 1));                        /* lone continuation */
	assert_false(proto_utf8_valid("\xc3", 1));                        /* truncated */
	assert_false(proto_utf8_valid("\xe2\x82", 2));                    /* truncated */
	assert_false(proto_utf8_valid("\xff", 1));
}

static void test_validate__language_tags(void **state)
{
	static const char *good[] = { "da", "pl", "nl", "en-GB", "EN-gb", "zh-Hant-TW", "sr-Latn",
	                              "es-419", "de-CH-1901", "sl-rozaj-biske", "en-a-bbb-x-ccc",
	                              "x-klingon", "zh-yue", "fil" };
	static const char *bad[] = { "", "d", "danish-x", "en_GB", "en-", "-en", "en--GB",
	                             "e1", "abcd", "en-GB-", "en-a", "x", "123", "en-abcdefghi",
	                             "da ", "a-DK" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!proto_lang_valid(good[i]))
			fail_msg("\"%s\" should be well-formed", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (proto_lang_valid(bad[i]))
			fail_msg("\"%s\" should be rejected", bad[i]);
	assert_false(proto_lang_valid(NULL));
}

int validate_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate__table_of_field_rules),
		cmocka_unit_test(test_validate__null_err_is_allowed),
		cmocka_unit_test(test_validate__message_reads_well_for_officers),
		cmocka_unit_test(test_validate__utf8_validator_edges),
		cmocka_unit_test(test_validate__language_tags),
	};
	return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
