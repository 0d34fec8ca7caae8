/*
 * text_test.c - the folding rule of storage.h (store_text_fold), and the
 * ASCII/Latin fast paths of store_text_fold(), text_words() and
 * store_text_words() give exactly what utf8proc gives: every code point
 * of the fast set alone, every pair of them, and many random strings that
 * mix fast-set letters (Danish, Polish, German...) with characters that
 * force the utf8proc path (combining marks, ß, ligatures, other scripts,
 * invalid bytes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "storage/text_int.h"

/* UTF-8 of any code point (no validity checks: tests only). */
static size_t put_utf8(char *d, uint32_t cp)
{
	if (cp < 0x80) {
		d[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (char)(0xC0 | cp >> 6);
		d[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (char)(0xE0 | cp >> 12);
		d[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		d[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	d[0] = (char)(0xF0 | cp >> 18);
	d[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	d[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	d[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Words joined with '|' (each followed by one). */
struct joined {
	char *s;
	size_t len, cap;
};

static int join_cb(const char *w, size_t len, void *ctx)
{
	struct joined *j = ctx;
	assert_int_equal(strlen(w), len);
	if (j->len + len + 2 > j->cap) {
		j->cap = (j->len + len + 2) * 2;
		j->s = realloc(j->s, j->cap);
		assert_non_null(j->s);
	}
	memcpy(j->s + j->len, w, len);
	j->len += len;
	j->s[j->len++] = '|';
	j->s[j->len] = 0;
	return 0;
}

/* Words of the utf8proc path, each folded by the utf8proc path: what
 * store_text_words must give. */
static int fold_join_cb(const char *w, size_t len, void *ctx)
{
	char *f = NULL;
	size_t fl = 0;
	assert_int_equal(text_fold_utf8proc(&f, &fl, w, len), 0);
	int rc = fl ? join_cb(f, fl, ctx) : 0;
	free(f);
	return rc;
}

/* Fold and split s both ways and require identical results: the whole
 * fold, the case-folded words, and the folded words. */
static void check_same(const char *s, size_t len)
{
	char *a = NULL, *b = NULL;
	size_t al = 0, bl = 0;
	int ra = store_text_fold(&a, &al, s, len);
	int rb = text_fold_utf8proc(&b, &bl, s, len);
	assert_int_equal(ra, rb);
	if (ra == 0) {
		if (al != bl || memcmp(a, b, al) != 0)
			fail_msg("fold differs for \"%.*s\": \"%.*s\" vs utf8proc \"%.*s\"", (int)len, s,
			         (int)al, a, (int)bl, b);
	}
	free(a);
	free(b);
	struct joined ja = { 0 }, jb = { 0 };
	ra = text_words(s, len, join_cb, &ja);
	rb = text_words_utf8proc(s, len, join_cb, &jb);
	assert_int_equal(ra, rb);
	if (ja.len != jb.len || (ja.len && memcmp(ja.s, jb.s, ja.len) != 0))
		fail_msg("words differ for \"%.*s\": \"%s\" vs utf8proc \"%s\"", (int)len, s,
		         ja.s ? ja.s : "", jb.s ? jb.s : "");
	free(ja.s);
	free(jb.s);
	struct joined fa = { 0 }, fb = { 0 };
	ra = store_text_words(s, len, join_cb, &fa);
	rb = text_words_utf8proc(s, len, fold_join_cb, &fb);
	assert_int_equal(ra, rb);
	if (fa.len != fb.len || (fa.len && memcmp(fa.s, fb.s, fa.len) != 0))
		fail_msg("folded words differ for \"%.*s\": \"%s\" vs utf8proc \"%s\"", (int)len,
		         s, fa.s ? fa.s : "", fb.s ? fb.s : "");
	free(fa.s);
	free(fb.s);
}

static void test_store_text__fast_set_code_points_fold_as_utf8proc(void **state)
{
	(void)state;
	size_t in_set = 0;
	for (uint32_t cp = 0; cp < 0x800; cp++) {
		char b[8];
		size_t n = put_utf8(b, cp);
		if (text_fast_fold((int32_t)cp) >= 0) {
			in_set++;
			/* alone, inside a word, and between separators */
			char w[16];
			size_t m = 0;
			w[m++] = 'x';
			memcpy(w + m, b, n);
			m += n;
			w[m++] = 'Y';
			check_same(w, m);
		}
		check_same(b, n);
	}
	/* ASCII (128) plus most of U+00C0..U+017F */
	assert_true(in_set > 128 + 170);
}

static void test_store_text__every_pair_of_fast_set_code_points_folds_as_utf8proc(void **state)
{
	(void)state;
	int32_t set[0x180];
	size_t n = 0;
	for (int32_t cp = 0; cp < 0x180; cp++)
		if (text_fast_fold(cp) >= 0)
			set[n++] = cp;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			char b[8];
			size_t m = put_utf8(b, (uint32_t)set[i]);
			m += put_utf8(b + m, (uint32_t)set[j]);
			check_same(b, m);
		}
}

struct rng {
	uint64_t s;
};

static uint32_t rnd(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return (uint32_t)(r->s >> 16);
}

/* Pieces random strings are made of: mostly fast-set text. */
static const char *const pieces[] = {
	"Vådområde", "VÅDOMRÅDE", "łąka", "ŁĄKA", "Æblegård", "Øresund", "Źdźbło", "ŻÓŁW",
	"Gęślą", "jaźń", "Straße", "Ÿ", "ĲSSEL", "ŉ", "ſ", "İstanbul", "ı", "ĸ", "Ŀl",
	"CO₂", "ﬁre", "½", "ª", "µ", "²", "¨", "\xc2\xa0", "é", "e\xcc\x81", "A\xcc\x8a",
	"Ω", "Σίσυφος", "Привет", "日本語", "한국어", "\xf0\x9f\x98\x80", "x\xcc\xa3\xcc\x87",
	" ", "  ", "-", ",", ".", "!", "\t", "\n", "2030", "0", "×", "÷", "'", "\"",
	"\xff", "\xc3", "\xe2\x82", "\xc0\x80", "\x00", "ordninger", "klima", "energi",
};

static void test_store_text__random_strings_fold_as_utf8proc(void **state)
{
	(void)state;
	struct rng r = { 0x2545F4914F6CDD1DULL };
	char buf[1024];
	size_t npieces = sizeof pieces / sizeof pieces[0];
	for (int iter = 0; iter < 200000; iter++) {
		size_t len = 0;
		int parts = 1 + (int)(rnd(&r) % 12);
		bool only_fast = rnd(&r) % 2 == 0;
		for (int p = 0; p < parts; p++) {
			if (rnd(&r) % 3 == 0) {
				/* a random code point from the Latin blocks and around */
				uint32_t cp = rnd(&r) % 0x250;
				if (only_fast && text_fast_fold((int32_t)cp) < 0)
					cp = 'a' + rnd(&r) % 26;
				len += put_utf8(buf + len, cp);
				continue;
			}
			const char *pc = pieces[rnd(&r) % npieces];
			size_t pl = pc[0] ? strlen(pc) : 1;     /* "\x00" is one NUL byte */
			if (only_fast && pc[0]) {
				bool fast = true;
				for (size_t i = 0; i < pl; i++)
					if ((uint8_t)pc[i] >= 0x80)
						fast = false;
				if (!fast && pc != pieces[0] && pc != pieces[1] && pc != pieces[2] &&
				    pc != pieces[3])
					continue;
			}
			memcpy(buf + len, pc, pl);
			len += pl;
		}
		check_same(buf, len);
	}
}

static void test_store_text__long_words_are_skipped_on_both_paths(void **state)
{
	(void)state;
	char buf[200];
	/* 63, 64, 65 bytes, with a 2-byte letter at the 64/65 boundary */
	for (size_t n = 60; n < 70; n++) {
		memset(buf, 'a', n);
		check_same(buf, n);
		memcpy(buf + n - 2, "å", 2);
		check_same(buf, n);
		buf[n] = ' ';
		memcpy(buf + n + 1, "ord", 3);
		check_same(buf, n + 4);
	}
}

/* The folding rule of storage.h, case by case. */
static void test_store_text_fold__drops_marks_and_folds_case(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{ "Vådområder", "vadomrader" }, { "VÅDOMRÅDE", "vadomrade" },
		{ "łąka", "laka" }, { "ŁĄKA", "laka" }, { "Poznań", "poznan" },
		{ "ubóstwo", "ubostwo" }, { "Źdźbło", "zdzblo" }, { "ŻÓŁW", "zolw" },
		{ "Sønderborg", "sonderborg" }, { "Æblegård", "aeblegard" }, { "Ærø", "aero" },
		{ "Straße", "strasse" }, { "ﬁre", "fire" }, { "CO₂", "co2" }, { "½", "1⁄2" },
		{ "e\xcc\x81t\xc3\xa9", "ete" }, { "A\xcc\x8a", "a" }, { "Đakovo", "dakovo" },
		{ "Þingvellir", "thingvellir" }, { "Œuvre", "oeuvre" }, { "İstanbul", "istanbul" },
		{ "ĲSSEL", "ijssel" }, { "Ελληνικά", "ελληνικα" }, { "Привет", "привет" },
		{ "日本語", "日本語" }, { "한국어", "한국어" }, { "Haarby Å, 2030!", "haarby a, 2030!" },
		{ "", "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *f = NULL;
		size_t fl = 0;
		assert_int_equal(store_text_fold(&f, &fl, cases[i][0], strlen(cases[i][0])), 0);
		if (fl != strlen(cases[i][1]) || memcmp(f, cases[i][1], fl) != 0)
			fail_msg("fold(\"%s\") = \"%.*s\", want \"%s\"", cases[i][0], (int)fl, f,
			         cases[i][1]);
		assert_int_equal(f[fl], 0);
		free(f);
	}
	/* not UTF-8: refused */
	char *f = NULL;
	size_t fl = 0;
	assert_int_equal(store_text_fold(&f, &fl, "a\xff", 2), PROTO_E_ARG);
	assert_null(f);
}

/* Folding twice is folding once. */
static void test_store_text_fold__is_idempotent(void **state)
{
	(void)state;
	struct rng r = { 0x1234567887654321ULL };
	size_t npieces = sizeof pieces / sizeof pieces[0];
	char buf[512];
	for (int iter = 0; iter < 50000; iter++) {
		size_t len = 0;
		int parts = 1 + (int)(rnd(&r) % 8);
		for (int p = 0; p < parts; p++) {
			const char *pc = pieces[rnd(&r) % npieces];
			size_t pl = pc[0] ? strlen(pc) : 1;
			memcpy(buf + len, pc, pl);
			len += pl;
		}
		char *a = NULL, *b = NULL;
		size_t al = 0, bl = 0;
		if (store_text_fold(&a, &al, buf, len) != 0)
			continue;   /* invalid UTF-8 in the mix */
		assert_int_equal(store_text_fold(&b, &bl, a, al), 0);
		if (al != bl || memcmp(a, b, al) != 0)
			fail_msg("fold is not idempotent on \"%.*s\": \"%.*s\" then \"%.*s\"", (int)len,
			         buf, (int)al, a, (int)bl, b);
		free(a);
		free(b);
	}
}

/* store_text_words yields the folded words. */
static void test_store_text_words__yields_folded_words(void **state)
{
	(void)state;
	struct joined j = { 0 };
	const char *s = "Vådområder ved Haarby Å – ŁĄKA/łąka, 2030!";
	assert_int_equal(store_text_words(s, strlen(s), join_cb, &j), 0);
	assert_string_equal(j.s, "vadomrader|ved|haarby|a|laka|laka|2030|");
	free(j.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_text__fast_set_code_points_fold_as_utf8proc),
		cmocka_unit_test(test_store_text__every_pair_of_fast_set_code_points_folds_as_utf8proc),
		cmocka_unit_test(test_store_text__random_strings_fold_as_utf8proc),
		cmocka_unit_test(test_store_text__long_words_are_skipped_on_both_paths),
		cmocka_unit_test(test_store_text_fold__drops_marks_and_folds_case),
		cmocka_unit_test(test_store_text_fold__is_idempotent),
		cmocka_unit_test(test_store_text_words__yields_folded_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
