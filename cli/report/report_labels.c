/*
 * report_labels.c - the report's own words in English and Danish (record
 * texts keep their language), the names of its code lists, and its number
 * format.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/report/report_int.h"

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


const char *report_target_type(int type)
{
	const char *n = proto_enum_name(&agora__target_kind__descriptor, type);
	return n ? n : "unspecified";
}

bool report_lang_valid(const char *lang)
{
	return report_labels(lang) != NULL;
}
