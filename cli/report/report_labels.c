/*
 * report_labels.c - the report's own words in the chosen language (record
 * texts keep their language), read from the language files (cli/lang/),
 * the names of its code lists, and its number format.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/lang/lang.h"
#include "cli/report/report_int.h"

/* Each label field is the language files' key "report.<field>". */
#define LABEL(field) { offsetof(struct report_labels, field), "report." #field }
static const struct { size_t off; const char *key; } label_keys[] = {
	LABEL(title), LABEL(alliance), LABEL(generated), LABEL(data_as_of), LABEL(filters),
	LABEL(none), LABEL(sec_progress), LABEL(sec_targets), LABEL(sec_status),
	LABEL(sec_results), LABEL(sec_sectors), LABEL(sec_costs), LABEL(sec_recent),
	LABEL(sec_endorsed), LABEL(sec_lsector), LABEL(sec_ltag), LABEL(sec_quality),
	LABEL(sec_charts), LABEL(chart_traj), LABEL(chart_sectors), LABEL(chart_status),
	LABEL(municipality), LABEL(country), LABEL(baseline_year), LABEL(baseline),
	LABEL(latest_year), LABEL(latest), LABEL(achieved), LABEL(measures), LABEL(com_min),
	LABEL(target), LABEL(type), LABEL(target_year), LABEL(target_value), LABEL(path),
	LABEL(on_track), LABEL(gap), LABEL(gap_pp), LABEL(sector), LABEL(indicator), LABEL(unit),
	LABEL(sum), LABEL(count), LABEL(planned), LABEL(estimated), LABEL(measured),
	LABEL(currency), LABEL(investment), LABEL(reduction), LABEL(per_tonne), LABEL(title_col),
	LABEL(year), LABEL(endorsements), LABEL(lessons), LABEL(tag), LABEL(issue), LABEL(detail),
	LABEL(records), LABEL(yes), LABEL(no), LABEL(on), LABEL(off), LABEL(not_evaluated),
	LABEL(total), LABEL(inventories), LABEL(target_path), LABEL(path_on), LABEL(path_off),
	LABEL(path_open), LABEL(target_point), LABEL(key_municipal), LABEL(key_tertiary),
	LABEL(key_residential), LABEL(key_transport), LABEL(coordinators),
	LABEL(q_no_inventory), LABEL(q_no_baseline), LABEL(q_orphan), LABEL(q_com), LABEL(q_fork),
	LABEL(definitions),
};
#undef LABEL

const char *report_label_key(size_t i)
{
	return i < sizeof(label_keys) / sizeof(label_keys[0]) ? label_keys[i].key : NULL;
}

const char *report_label_name(const struct report_labels *L, const char *label)
{
	for (size_t i = 0; i < sizeof(label_keys) / sizeof(label_keys[0]); i++)
		if (*(const char *const *)((const char *)L + label_keys[i].off) == label)
			return label_keys[i].key + strlen("report.");
	for (int s = 0; s < REPORT_STATUSES; s++)
		if (L->status[s] == label)
			return report_status_name(s);
	return "";
}

int report_labels_new(struct report_labels **out, const char *lang, bool plain_numbers)
{
	struct report_labels *L = calloc(1, sizeof(*L));
	struct lang *words = NULL;
	int rc;

	if (!L)
		return -ENOMEM;
	if ((rc = lang_new(&words, lang)) < 0) {
		free(L);
		return rc;
	}
	L->words = words;
	L->lang = lang_id(words);
	L->plain_numbers = plain_numbers;
	for (size_t i = 0; i < sizeof(label_keys) / sizeof(label_keys[0]); i++)
		*(const char **)((char *)L + label_keys[i].off) = lang_text(words, label_keys[i].key);
	for (int s = 0; s < REPORT_STATUSES; s++)
		L->status[s] = lang_code_name(words, "status", report_status_name(s));
	*out = L;
	return 0;
}

void report_labels_free(struct report_labels *L)
{
	if (!L)
		return;
	lang_free((struct lang *)L->words);
	free(L);
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

const char *report_target_type(int type)
{
	const char *n = proto_enum_name(&agora__target_kind__descriptor, type);
	return n ? n : "unspecified";
}

const char *report_sector_label(const struct report_labels *L, int sector)
{
	return lang_code_name(L->words, "sector", report_sector_name(sector));
}

const char *report_target_label(const struct report_labels *L, int type)
{
	return lang_code_name(L->words, "target_kind", report_target_type(type));
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

void report_num(const struct report_labels *L, char *buf, size_t cap, double v, int decimals)
{
	if (L->plain_numbers)
		report_fmt_num(buf, cap, v, decimals);
	else
		lang_fmt_number(L->words, buf, cap, v, decimals);
}

bool report_lang_valid(const char *lang)
{
	return lang_known(lang) != NULL;
}

void report_date(const struct report_labels *L, char *buf, size_t cap, int64_t unix_s)
{
	if (L->plain_numbers) {
		time_t t = (time_t)unix_s;
		struct tm tm;
		if (!gmtime_r(&t, &tm) || !strftime(buf, cap, "%Y-%m-%d", &tm))
			snprintf(buf, cap, "-");
		return;
	}
	lang_fmt_date(L->words, buf, cap, unix_s, false);
}
