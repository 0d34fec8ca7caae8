/*
 * web_form_test.c - the request decoding and the escaping of `agora web`
 * (cli/web/web_form.c, web_html.c / web.c, cli/markup.c): what a form body
 * becomes, what is refused, and how stored text is written into a page and
 * into the summit report's HTML (one rule for both).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/report/report.h"
#include "cli/web/web_int.h"

static char *html_of(void (*fn)(FILE *, const char *, char *const *, size_t), const char *text,
                     const char *query)
{
	char *buf = NULL, **words = NULL;
	size_t len = 0, n = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	if (query)
		assert_int_equal(web_query_words(&words, &n, query), 0);
	fn(f, text, words, n);
	fclose(f);
	web_words_free(words, n);
	return buf;
}

static int parse(struct web_form *f, const char *s)
{
	return web_form_parse(f, s, strlen(s));
}

static void esc(FILE *f, const char *text, char *const *w, size_t n)
{
	(void)w;
	(void)n;
	web_esc(f, text);
}

static void test_web_form__decodes_plus_percent_and_repeats(void **state)
{
	struct web_form f;
	(void)state;
	web_form_init(&f);
	assert_int_equal(parse(&f, "q=heat+pump%21&b=1&&b=2&flag"), 0);
	assert_int_equal(f.n, 4);
	assert_string_equal(web_form_get(&f, "q"), "heat pump!");
	assert_string_equal(web_form_get(&f, "b"), "2");          /* the last one */
	assert_string_equal(web_form_get(&f, "flag"), "");
	assert_null(web_form_nonempty(&f, "flag"));
	assert_null(web_form_get(&f, "none"));
	web_form_dispose(&f);
}

static void test_web_form__bad_escape_nul_and_non_utf8_are_refused(void **state)
{
	struct web_form f;
	(void)state;
	web_form_init(&f);
	assert_int_equal(parse(&f, "a=%zz"), WEB_FORM_E_SYNTAX);
	assert_int_equal(parse(&f, "a=%4"), WEB_FORM_E_SYNTAX);
	assert_int_equal(parse(&f, "a=x%00y"), WEB_FORM_E_UTF8);
	assert_int_equal(parse(&f, "a=%C3"), WEB_FORM_E_UTF8);
	assert_int_equal(parse(&f, "a=%C0%AF"), WEB_FORM_E_UTF8);      /* overlong */
	assert_int_equal(parse(&f, "a=%ED%A0%80"), WEB_FORM_E_UTF8);  /* surrogate */
	assert_int_equal(f.n, 0);
	assert_int_equal(parse(&f, "a=v%C3%A5d"), 0);
	assert_string_equal(web_form_get(&f, "a"), "våd");
	web_form_dispose(&f);
}

static void test_web_form__more_pairs_than_the_limit_are_refused(void **state)
{
	struct web_form f;
	size_t len = (WEB_FORM_MAX + 1) * 4;
	char *body = malloc(len + 1);
	(void)state;
	assert_non_null(body);
	for (size_t i = 0; i <= WEB_FORM_MAX; i++)
		memcpy(body + 4 * i, "a=1&", 4);
	web_form_init(&f);
	assert_int_equal(web_form_parse(&f, body, len), WEB_FORM_E_LIMIT);
	assert_int_equal(f.n, WEB_FORM_MAX);
	web_form_dispose(&f);
	free(body);
}

static void test_web_cookie__finds_the_named_cookie_only(void **state)
{
	char v[16];
	(void)state;
	assert_int_equal(web_cookie_get(v, sizeof(v), "x=1; agora_token=abc; y=2", "agora_token"), 0);
	assert_string_equal(v, "abc");
	assert_int_equal(web_cookie_get(v, sizeof(v), "xagora_token=abc", "agora_token"), -ENOENT);
	assert_int_equal(web_cookie_get(v, sizeof(v), "agora_token=0123456789abcdefX", "agora_token"),
	                 -ENOENT);                       /* longer than the buffer */
	assert_int_equal(web_cookie_get(v, sizeof(v), NULL, "agora_token"), -ENOENT);
}

static void test_web_esc__every_markup_character_is_escaped(void **state)
{
	char *h = html_of(esc, "<script>alert('x')</script> & \"<img src=x onerror=y>\"", NULL);
	(void)state;
	assert_string_equal(h, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "
	                    "&quot;&lt;img src=x onerror=y&gt;&quot;");
	free(h);
}

static void test_web_esc__controls_xml_forbids_become_replacement_characters(void **state)
{
	/* \x01, ESC, \x1f, DEL, U+FFFE and U+FFFF would make a feed not XML 1.0
	 * (or a page hold terminal escapes), as would the C1 controls U+0085 and
	 * U+009F; tab, line ends, U+FFFD and U+00A0 (no-break space) stay. */
	char *h = html_of(esc, "<a href='x'>&\x01\tok\n\x1b[31m\r\x1f\x7f \xef\xbf\xbe\xef\xbf\xbf "
	                  "\xef\xbf\xbd å \xc2\x85\xc2\x9f\xc2\xa0", NULL);
	(void)state;
	assert_string_equal(h, "&lt;a href=&#39;x&#39;&gt;&amp;\xef\xbf\xbd\tok\n\xef\xbf\xbd[31m\r"
	                    "\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd å "
	                    "\xef\xbf\xbd\xef\xbf\xbd\xc2\xa0");
	free(h);
}

static void esc_cut(FILE *f, const char *text, char *const *w, size_t n)
{
	(void)w;
	(void)n;
	web_esc_n(f, text, 4);
}

static void test_web_esc_n__stops_at_n_bytes_even_inside_a_character(void **state)
{
	/* The first 4 bytes end inside U+FFFE: its first bytes are copied, no
	 * byte past n is read or written. */
	char *h = html_of(esc_cut, "a<\xef\xbf\xbe>", NULL);
	(void)state;
	assert_string_equal(h, "a&lt;\xef\xbf");
	free(h);
}

static void test_report_html__hostile_alliance_name_is_escaped_and_controls_replaced(void **state)
{
	/* The report writes stored text by the same rule as the pages
	 * (cli/markup.c): markup escaped, ESC, \x01 and DEL replaced by
	 * U+FFFD, never written raw.  (Stored records cannot hold controls,
	 * proto/validate.c refuses them; the report is given one here.) */
	struct report *r = NULL;
	struct report_options o;
	uint8_t alliance[PROTO_ID_BYTES];
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	memset(alliance, 0xaa, sizeof(alliance));
	memset(&o, 0, sizeof(o));
	o.alliance = alliance;
	assert_non_null(f);
	assert_int_equal(report_new(&r, &o, NULL, NULL), 0);
	assert_int_equal(report_set_alliance_name(r, "A\x1b[31m\x01\x7f<script>x</script>\"'&"), 0);
	assert_int_equal(report_finish(r), 0);
	assert_int_equal(report_write(f, r, REPORT_HTML, "en", 0), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(buf, "A\xef\xbf\xbd[31m\xef\xbf\xbd\xef\xbf\xbd"
	                            "&lt;script&gt;x&lt;/script&gt;&quot;&#39;&amp;"));
	assert_null(strchr(buf, '\x1b'));
	assert_null(strchr(buf, '\x01'));
	assert_null(strchr(buf, '\x7f'));
	assert_null(strstr(buf, "<script>"));
	free(buf);
	report_free(r);
}

static void test_web_esc_marked__marks_folded_and_inflected_words_only(void **state)
{
	char *h = html_of(web_esc_marked, "Vådområder ved <Haarby> Å", "vadomrade haarby");
	(void)state;
	assert_string_equal(h, "<mark>Vådområder</mark> ved &lt;<mark>Haarby</mark>&gt; Å");
	free(h);
	h = html_of(web_esc_marked, "vandpark og vandparker, a b", "vandparker a");
	assert_string_equal(h, "<mark>vandpark</mark> og <mark>vandparker</mark>, <mark>a</mark> b");
	free(h);
	h = html_of(web_esc_marked, "<img src=x onerror=alert(1)>", "alert");
	assert_string_equal(h, "&lt;img src=x onerror=<mark>alert</mark>(1)&gt;");
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_web_form__decodes_plus_percent_and_repeats),
		cmocka_unit_test(test_web_form__bad_escape_nul_and_non_utf8_are_refused),
		cmocka_unit_test(test_web_form__more_pairs_than_the_limit_are_refused),
		cmocka_unit_test(test_web_cookie__finds_the_named_cookie_only),
		cmocka_unit_test(test_web_esc__every_markup_character_is_escaped),
		cmocka_unit_test(test_web_esc_marked__marks_folded_and_inflected_words_only),
		cmocka_unit_test(test_web_esc__controls_xml_forbids_become_replacement_characters),
		cmocka_unit_test(test_web_esc_n__stops_at_n_bytes_even_inside_a_character),
		cmocka_unit_test(test_report_html__hostile_alliance_name_is_escaped_and_controls_replaced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
