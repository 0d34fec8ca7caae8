/*
 * web_html.c - the frame of every page of `agora web` (head, navigation,
 * footer, error pages, the style sheet) and the writers pages share:
 * search words marked in stored text, links to records and towns.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "cli/web/web_int.h"

const char web_css[] =
	"body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafaf7}\n"
	"header{background:#1f4d3a;color:#fff;padding:.6em 1.2em;display:flex;gap:1.2em;"
	"align-items:center;flex-wrap:wrap}\n"
	"header a{color:#fff;text-decoration:none;font-weight:600}\n"
	"header .who{margin-left:auto;opacity:.85}\n"
	"main{max-width:70em;margin:0 auto;padding:1em 1.2em}\n"
	"footer{color:#666;font-size:.85em;text-align:center;padding:2em}\n"
	"h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}\n"
	"table{border-collapse:collapse;width:100%}\n"
	"th,td{text-align:left;vertical-align:top;padding:.3em .5em;border-bottom:1px solid #ddd}\n"
	"th{font-weight:600;color:#333}\n"
	"td.v{white-space:pre-wrap;overflow-wrap:anywhere}\n"
	"form.search{display:grid;grid-template-columns:repeat(auto-fill,minmax(13em,1fr));"
	"gap:.5em;background:#eef3ee;padding:.8em;border-radius:6px}\n"
	"form.search .q{grid-column:1/-1;display:flex;gap:.5em}\n"
	"form.search .q input{flex:1;font-size:1.1em;padding:.3em}\n"
	"form.search label select,form.search label input{display:block;width:100%}\n"
	"label{display:block;font-size:.85em;color:#333}\n"
	"input,select,textarea{font:inherit;max-width:100%;box-sizing:border-box}\n"
	"form.pub label{margin-top:.7em;font-weight:600}\n"
	"form.pub input[type=text],form.pub textarea,form.pub select{width:100%}\n"
	"form.pub .hint{font-size:.8em;color:#555}\n"
	"form.pub .boxes{display:flex;flex-wrap:wrap;gap:.2em 1.2em}\n"
	"form.pub .boxes label{font-weight:400;margin-top:0}\n"
	"ol.hits{padding-left:1.5em}ol.hits li{margin:.8em 0}\n"
	".meta{color:#555;font-size:.9em}\n"
	".snip{font-size:.95em;margin-top:.2em}\n"
	"mark{background:#ffe066;padding:0 .1em}\n"
	".ok{color:#176b2c;font-weight:600}.bad{color:#a31515;font-weight:600}\n"
	".err{background:#fde8e8;border:1px solid #e0a0a0;padding:.6em;border-radius:4px}\n"
	".note{background:#e8f4fd;border:1px solid #a0c4e0;padding:.6em;border-radius:4px}\n"
	"iframe.report{width:100%;height:80vh;border:1px solid #ccc}\n"
	"code{font-size:.9em}\n";

void web_page_begin(struct web_req *r, struct web_resp *p, const char *title)
{
	const struct web_text *tx = r->tx;
	FILE *f = p->f;

	fputs("<!DOCTYPE html>\n<html lang=\"", f);
	web_esc(f, tx->lang);
	fputs("\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>", f);
	web_esc(f, title);
	fputs(" – agora</title>\n<link rel=\"stylesheet\" href=\"/style.css\">\n", f);
	if (p->feed) {
		fputs("<link rel=\"alternate\" type=\"application/atom+xml\" title=\"", f);
		web_esc(f, tx->feed_link);
		fputs("\" href=\"", f);
		web_feed_href(r, f);
		fputs("\">\n", f);
	}
	fputs("</head>\n<body>\n<header><a href=\"/\">", f);
	web_esc(f, tx->nav_search);
	fputs("</a><a href=\"/members\">", f);
	web_esc(f, tx->nav_members);
	fputs("</a><a href=\"/report\">", f);
	web_esc(f, tx->nav_report);
	fputs("</a>", f);
	if (r->w->can_sign) {
		fputs("<a href=\"/publish\">", f);
		web_esc(f, tx->nav_publish);
		fputs("</a>", f);
	}
	fputs("<span class=\"who\">", f);
	web_esc(f, r->w->name);
	fputs("</span></header>\n<main>\n", f);
}

void web_page_end(struct web_req *r, struct web_resp *p)
{
	fputs("</main>\n<footer>", p->f);
	web_esc(p->f, r->tx->footer);
	fputs("</footer>\n</body>\n</html>\n", p->f);
}

void web_page_error(struct web_req *r, struct web_resp *p, int status, const char *msg)
{
	/* Whatever a page had written so far is dropped: a fresh stream. */
	if (p->f)
		fclose(p->f);
	free(p->body);
	p->body = NULL;
	p->len = 0;
	if (!(p->f = open_memstream(&p->body, &p->len))) {
		p->status = 500;
		return;
	}
	p->status = status;
	p->report = false;
	p->feed = false;
	p->type = NULL;
	web_page_begin(r, p, r->tx->title_error);
	fputs("<h1>", p->f);
	web_esc(p->f, r->tx->title_error);
	fputs("</h1>\n<p class=\"err\">", p->f);
	web_esc(p->f, msg);
	fputs("</p>\n", p->f);
	web_page_end(r, p);
}

void web_link_record(FILE *f, const uint8_t id[PROTO_ID_BYTES], const char *text)
{
	char hex[PROTO_ID_HEX + 1];

	proto_hex(hex, id, PROTO_ID_BYTES);
	fprintf(f, "<a href=\"/record/%s\">", hex);
	if (text && *text)
		web_esc(f, text);
	else
		fprintf(f, "%.12s", hex);
	fputs("</a>", f);
}

/* A schema name in snake case, as the language files name sections:
 * "TargetKind" -> "target_kind". */
static void snake(char *out, size_t cap, const char *camel)
{
	size_t n = 0;

	for (const char *c = camel; *c && n + 2 < cap; c++) {
		if (*c >= 'A' && *c <= 'Z' && c != camel)
			out[n++] = '_';
		out[n++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
	}
	out[n] = '\0';
}

const char *web_code_label(const struct lang *words, const ProtobufCEnumDescriptor *ed,
                           const char *code)
{
	char list[64];

	snake(list, sizeof(list), ed->short_name);
	return lang_code_name(words, list, code);
}

const char *web_field_label(const struct lang *words, const ProtobufCMessageDescriptor *d,
                            const char *field)
{
	char list[80], kind[64];
	const char *t;

	snake(kind, sizeof(kind), d->short_name);
	snprintf(list, sizeof(list), "field.%s", kind);
	if ((t = lang_code_name(words, list, field)) != field)
		return t;
	return lang_code_name(words, "field", field);
}

void web_link_town(FILE *f, const uint8_t key[PROTO_KEY_BYTES], const char *name)
{
	char hex[PROTO_KEY_BYTES * 2 + 1];

	proto_hex(hex, key, PROTO_KEY_BYTES);
	fprintf(f, "<a href=\"/town/%s\">", hex);
	if (name && *name)
		web_esc(f, name);
	else
		fprintf(f, "%.12s…", hex);
	fputs("</a>", f);
}

/* ------------------------------------------------------------ marks */

struct words {
	char **v;
	size_t n, cap;
};

static int word_cb(const char *word, size_t len, void *arg)
{
	struct words *w = arg;
	char *c;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 8;
		char **nv = realloc(w->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		w->v = nv;
		w->cap = cap;
	}
	if (!(c = malloc(len + 1)))
		return -ENOMEM;
	memcpy(c, word, len);
	c[len] = '\0';
	w->v[w->n++] = c;
	return 0;
}

void web_words_free(char **w, size_t n)
{
	for (size_t i = 0; w && i < n; i++)
		free(w[i]);
	free(w);
}

int web_query_words(char ***out, size_t *n, const char *text)
{
	struct words w = { 0 };
	int rc = store_text_words(text, strlen(text), word_cb, &w);

	if (rc < 0) {
		web_words_free(w.v, w.n);
		return rc;
	}
	*out = w.v;
	*n = w.n;
	return 0;
}

static bool word_char(utf8proc_int32_t c)
{
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
		return true;
	default:
		return false;
	}
}

/* Does the text's word s[0..len) match one of the query's folded words? */
static bool matches(const char *s, size_t len, char *const *words, size_t n)
{
	char *fw = NULL;
	size_t fl = 0;
	bool hit = false;

	if (!n || store_text_fold(&fw, &fl, s, len) < 0)
		return false;
	for (size_t i = 0; i < n && !hit; i++) {
		size_t ql = strlen(words[i]);
		if (ql == 0)
			continue;
		if (fl >= ql && !memcmp(fw, words[i], ql))
			hit = ql > 1 || fl == ql;        /* "a" marks only "a" */
		else if (ql > fl && fl >= 3 && ql - fl <= 3 && !memcmp(fw, words[i], fl))
			hit = true;                      /* "vandparker" marks "vandpark" */
	}
	free(fw);
	return hit;
}

/*
 * Walk text's words: with f, write text escaped and marked; without, stop
 * at the first marked word.  Returns that word's byte offset, or -1.
 */
static long scan(FILE *f, const char *text, char *const *words, size_t n)
{
	const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)text;
	size_t len = text ? strlen(text) : 0, i = 0;

	while (i < len) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &c);
		if (k <= 0) {                /* not UTF-8: the rest as plain text */
			if (f)
				web_esc_n(f, text + i, len - i);
			return -1;
		}
		if (!word_char(c)) {
			if (f)
				web_esc_n(f, text + i, (size_t)k);
			i += (size_t)k;
			continue;
		}
		size_t start = i;
		while (i < len) {
			k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &c);
			if (k <= 0 || !word_char(c))
				break;
			i += (size_t)k;
		}
		bool hit = matches(text + start, i - start, words, n);
		if (!f && hit)
			return (long)start;
		if (!f)
			continue;
		if (hit)
			fputs("<mark>", f);
		web_esc_n(f, text + start, i - start);
		if (hit)
			fputs("</mark>", f);
	}
	return -1;
}

void web_esc_marked(FILE *f, const char *text, char *const *words, size_t n)
{
	scan(f, text, words, n);
}

long web_first_mark(const char *text, char *const *words, size_t n)
{
	return n ? scan(NULL, text, words, n) : -1;
}
