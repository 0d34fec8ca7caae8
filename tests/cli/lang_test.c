/*
 * lang_test.c - the words of every language (cli/lang/): every code of
 * every code list, every record kind, every report label and every word of
 * `agora web` (web_text.h) has a text in
 * every language's own file, different from the English unless the file
 * says so; Accept-Language and --lang; numbers and dates in each
 * language's form.
 */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/lang/lang.h"
#include "cli/report/report_int.h"
#include "cli/web/web_text.h"
#include "proto/proto.h"

/* "VulnerableSector" -> "vulnerable_sector": a code list's file section. */
static void snake(char *out, size_t cap, const char *camel)
{
	size_t n = 0;
	for (const char *p = camel; *p && n + 2 < cap; p++) {
		if (isupper((unsigned char)*p) && p != camel)
			out[n++] = '_';
		out[n++] = (char)tolower((unsigned char)*p);
	}
	out[n] = '\0';
}

/* Every key a language must have: each code of each code list, each record
 * kind, each report label, each word of agora web, and every key of en.ini. */
static size_t required_keys(char ***out)
{
	struct lang *en = NULL;
	char **v = NULL, key[160], sect[64];
	size_t n = 0, cap = 0, nv;
	const char *list, *code;

#define ADD(s) do { \
		if (n == cap) { cap = cap ? cap * 2 : 512; v = realloc(v, cap * sizeof(*v)); \
		                 assert_non_null(v); } \
		v[n] = strdup(s); assert_non_null(v[n]); n++; } while (0)
	for (size_t i = 0; (list = proto_code_list(i, &nv)); i++) {
		snake(sect, sizeof(sect), list);
		for (size_t k = 0; (code = proto_code_list_value(i, k)); k++) {
			snprintf(key, sizeof(key), "%s.%s", sect, code);
			ADD(key);
		}
		assert_true(nv > 0);
	}
	for (int kind = PROTO_KIND_FIRST; kind <= PROTO_KIND_LAST; kind++) {
		const char *name = proto_kind_name((enum proto_kind)kind);
#ifdef AGORA_SCHEMA_NEXT
		if (kind == PROTO_KIND_TEST_NOTE)
			continue;
#endif
		if (name) {
			snprintf(key, sizeof(key), "kind.%s", name);
			ADD(key);
		}
		/* Every field of every kind has a label for the forms and the
		 * record page (a Supersede's fields are its new version's). */
		const ProtobufCMessageDescriptor *d = proto_kind_descriptor((enum proto_kind)kind);
		for (unsigned f = 0; d && kind != PROTO_KIND_SUPERSEDE && f < d->n_fields; f++) {
			snprintf(key, sizeof(key), "field.%s", d->fields[f].name);
			ADD(key);
		}
	}
	for (size_t i = 0; report_label_key(i); i++)
		ADD(report_label_key(i));
	for (size_t i = 0; web_text_key(i); i++)
		ADD(web_text_key(i));
	assert_int_equal(lang_new(&en, "en"), 0);
	for (size_t i = 0; lang_key_at(en, i); i++)
		if (strncmp(lang_key_at(en, i), "same.", 5))
			ADD(lang_key_at(en, i));
	lang_free(en);
#undef ADD
	*out = v;
	return n;
}

static void test_lang__every_code_kind_and_label_has_a_text_in_every_language(void **state)
{
	char **keys;
	size_t n = required_keys(&keys);
	size_t missing = 0;

	(void)state;
	/* Some of each: the lists the report and the forms show. */
	assert_true(n > 250);
	for (size_t li = 0; lang_code_at(li); li++) {
		struct lang *l = NULL;
		assert_int_equal(lang_new(&l, lang_code_at(li)), 0);
		for (size_t i = 0; i < n; i++) {
			const char *t = lang_own(l, keys[i]);
			if (!t || !*t) {
				fprintf(stderr, "%s.ini: no text for %s\n", lang_code_at(li), keys[i]);
				missing++;
			}
		}
		lang_free(l);
	}
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	assert_int_equal(missing, 0);
}

static void test_lang__a_text_equal_to_the_english_must_be_listed_in_same(void **state)
{
	struct lang *en = NULL;
	size_t bad = 0;

	(void)state;
	assert_int_equal(lang_new(&en, "en"), 0);
	for (size_t li = 1; lang_code_at(li); li++) {
		struct lang *l = NULL;
		assert_int_equal(lang_new(&l, lang_code_at(li)), 0);
		for (size_t i = 0; lang_key_at(en, i); i++) {
			const char *key = lang_key_at(en, i), *t = lang_own(l, key);
			/* Formats and numbers may equal the English; words may not. */
			if (!strncmp(key, "format.", 7) || !strncmp(key, "same.", 5))
				continue;
			if (t && !strcmp(t, lang_own(en, key)) && !lang_same_as_english(l, key)) {
				fprintf(stderr, "%s.ini: %s is still the English '%s'\n",
				        lang_code_at(li), key, t);
				bad++;
			}
		}
		/* A key in [same] that differs from the English is a stale entry. */
		for (size_t i = 0; lang_key_at(l, i); i++) {
			const char *key = lang_key_at(l, i);
			if (strncmp(key, "same.", 5))
				continue;
			const char *t = lang_own(l, key + 5), *e = lang_own(en, key + 5);
			if (!t || !e || strcmp(t, e)) {
				fprintf(stderr, "%s.ini: [same] lists %s, whose text differs\n",
				        lang_code_at(li), key + 5);
				bad++;
			}
		}
		lang_free(l);
	}
	lang_free(en);
	assert_int_equal(bad, 0);
}

static void test_lang__missing_words_fall_back_to_english_then_to_the_key(void **state)
{
	struct lang *da = NULL;

	(void)state;
	assert_int_equal(lang_new(&da, "da-DK"), 0);
	assert_string_equal(lang_id(da), "da");
	assert_string_equal(lang_text(da, "report.title"), "Topmøderapport");
	assert_string_equal(lang_text(da, "lang.name"), "Dansk");
	assert_string_equal(lang_text(da, "no.such_key"), "no.such_key");
	assert_string_equal(lang_code_name(da, "sector", "local_heat_cold_production"),
	                    "Lokal varme- og køleproduktion");
	assert_string_equal(lang_code_name(da, "sector", "newer_sector_99"), "newer_sector_99");
	assert_null(lang_own(da, "no.such_key"));
	lang_free(da);
	assert_int_equal(lang_new(&da, "xx"), -ENOENT);
	assert_int_equal(lang_new(&da, NULL), -ENOENT);
}

static void test_lang__continuation_lines_join_into_one_text(void **state)
{
	struct lang *en = NULL;

	(void)state;
	assert_int_equal(lang_new(&en, "en"), 0);
	const char *d = lang_text(en, "report.definitions");
	assert_non_null(strstr(d, "from the baseline"));        /* joined across a line */
	assert_non_null(strstr(d, "never counted."));
	lang_free(en);
}

static void test_lang__accept_language_picks_the_best_built_in(void **state)
{
	(void)state;
	assert_string_equal(lang_from_accept("da-DK,da;q=0.9,en;q=0.5"), "da");
	assert_string_equal(lang_from_accept("fr-FR, pl;q=0.8, en;q=0.9"), "en");
	assert_string_equal(lang_from_accept("fr-FR, pl;q=0.8, en;q=0.7"), "pl");
	assert_string_equal(lang_from_accept("nl-BE"), "nl");
	assert_string_equal(lang_from_accept("de, fr"), "en");
	assert_string_equal(lang_from_accept("nl;q=0, pl"), "pl");
	assert_string_equal(lang_from_accept("nl;q=0"), "en");
	assert_string_equal(lang_from_accept("nl;q=abc, da"), "da");
	assert_string_equal(lang_from_accept("*"), "en");
	assert_string_equal(lang_from_accept(""), "en");
	assert_string_equal(lang_from_accept(NULL), "en");
	assert_string_equal(lang_from_accept(",,;;q=,"), "en");
	/* Ties keep the first listed. */
	assert_string_equal(lang_from_accept("pl, nl"), "pl");
	assert_string_equal(lang_choose("nl", "da"), "nl");
	assert_string_equal(lang_choose("xx", "da"), "da");
	assert_string_equal(lang_choose(NULL, NULL), "en");
}

static void test_lang__numbers_use_the_languages_separators(void **state)
{
	struct lang *l = NULL;
	char buf[64];

	(void)state;
	assert_int_equal(lang_new(&l, "en"), 0);
	lang_fmt_number(l, buf, sizeof(buf), 950000000, 0);
	assert_string_equal(buf, "950,000,000");
	lang_fmt_number(l, buf, sizeof(buf), -1234.56, 1);
	assert_string_equal(buf, "-1,234.6");
	lang_fmt_number(l, buf, sizeof(buf), -0.01, 1);
	assert_string_equal(buf, "0.0");
	lang_fmt_number(l, buf, sizeof(buf), 1.0 / 0.0, 0);
	assert_string_equal(buf, "-");
	lang_fmt_int(l, buf, sizeof(buf), INT64_MIN);
	assert_string_equal(buf, "-9,223,372,036,854,775,808");
	lang_fmt_number(l, buf, 6, 950000000, 0);      /* cut, never overrun */
	assert_string_equal(buf, "950,0");
	lang_free(l);

	assert_int_equal(lang_new(&l, "da"), 0);
	lang_fmt_number(l, buf, sizeof(buf), 950000000.25, 2);
	assert_string_equal(buf, "950.000.000,25");
	lang_free(l);

	assert_int_equal(lang_new(&l, "nl"), 0);
	lang_fmt_int(l, buf, sizeof(buf), 12500000);
	assert_string_equal(buf, "12.500.000");
	lang_free(l);

	/* Polish: no-break spaces, and 4-digit numbers ungrouped. */
	assert_int_equal(lang_new(&l, "pl"), 0);
	lang_fmt_number(l, buf, sizeof(buf), 12500000.5, 1);
	assert_string_equal(buf, "12\u00a0500\u00a0000,5");
	lang_fmt_int(l, buf, sizeof(buf), 1800);
	assert_string_equal(buf, "1800");
	lang_fmt_int(l, buf, sizeof(buf), 18000);
	assert_string_equal(buf, "18\u00a0000");
	lang_free(l);
}

static void test_lang__dates_follow_each_languages_pattern(void **state)
{
	static const struct { const char *lang, *full, *brief; } want[] = {
		{ "en", "6 December 2026", "2026-12-06" },
		{ "da", "6. december 2026", "06.12.2026" },
		{ "pl", "6 grudnia 2026", "06.12.2026" },
		{ "nl", "6 december 2026", "06-12-2026" },
	};
	const int64_t t = 1796562000;   /* 2026-12-06 13:00:00 UTC */
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct lang *l = NULL;
		assert_int_equal(lang_new(&l, want[i].lang), 0);
		lang_fmt_date(l, buf, sizeof(buf), t, false);
		assert_string_equal(buf, want[i].full);
		lang_fmt_date(l, buf, sizeof(buf), t, true);
		assert_string_equal(buf, want[i].brief);
		lang_free(l);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lang__every_code_kind_and_label_has_a_text_in_every_language),
		cmocka_unit_test(test_lang__a_text_equal_to_the_english_must_be_listed_in_same),
		cmocka_unit_test(test_lang__missing_words_fall_back_to_english_then_to_the_key),
		cmocka_unit_test(test_lang__continuation_lines_join_into_one_text),
		cmocka_unit_test(test_lang__accept_language_picks_the_best_built_in),
		cmocka_unit_test(test_lang__numbers_use_the_languages_separators),
		cmocka_unit_test(test_lang__dates_follow_each_languages_pattern),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
