/*
 * web_search.c - the search page of `agora web` (GET /): a form with the
 * filters of `agora query` (kind, municipality, sector, area, hazard,
 * status, years, tag, words) and the ranked hits, the query's words marked
 * in each title and snippet, and a link to the same search as an Atom feed
 * (web_atom.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/format_int.h"
#include "cli/names_int.h"
#include "cli/web/web_int.h"

#define SEARCH_PAGE 20              /* hits per page */
#define SNIPPET_BYTES 280

static const char *const kinds[] = {
	"measure", "result", "lesson", "target", "inventory", "endorsement", "profile",
};

/* Fields a snippet is taken from, first that matches (else first set). */
static const char *const snippet_fields[] = {
	"summary", "description", "context", "action", "outcome", "worked", "enablers", "note",
	"method",
};

struct search {
	struct web_req *r;
	FILE *f;
	struct cli_names *names;
	char **words;
	size_t n_words, n;
	bool more;
	int err;
};

/* A <select> of code list d (its file section is name), each code shown by
 * its name in the page's language. */
static void select_enum(FILE *f, const struct lang *words, const char *name, const char *label,
                        const char *any, const ProtobufCEnumDescriptor *d, const char *cur)
{
	fprintf(f, "<label>");
	web_esc(f, label);
	fprintf(f, "<select name=\"%s\"><option value=\"\">", name);
	web_esc(f, any);
	fputs("</option>", f);
	for (unsigned i = 0; i < d->n_values; i++) {
		const char *nm = proto_enum_name(d, d->values[i].value);
		if (!nm || d->values[i].value == 0)
			continue;
		fputs("<option value=\"", f);
		web_esc(f, nm);
		fprintf(f, "\"%s>", cur && !strcmp(cur, nm) ? " selected" : "");
		web_esc(f, lang_code_name(words, name, nm));
		fputs("</option>", f);
	}
	fputs("</select></label>\n", f);
}

static void input_text(FILE *f, const char *name, const char *label, const char *cur,
                       const char *type)
{
	fprintf(f, "<label>");
	web_esc(f, label);
	fprintf(f, "<input type=\"%s\" name=\"%s\" value=\"", type, name);
	web_esc(f, cur);
	fputs("\"></label>\n", f);
}

static void search_form(struct search *s, const struct web_form *a)
{
	const struct web_text *tx = s->r->tx;
	const char *cur;
	FILE *f = s->f;

	fputs("<form class=\"search\" method=\"get\" action=\"/\" role=\"search\">\n"
	      "<div class=\"q\"><input type=\"search\" name=\"q\" id=\"q\" value=\"", f);
	web_esc(f, web_form_get(a, "q"));
	fputs("\" placeholder=\"", f);
	web_esc(f, tx->search_placeholder);
	fputs("\" autofocus><button type=\"submit\" id=\"go\">", f);
	web_esc(f, tx->search_button);
	fputs("</button></div>\n", f);

	cur = web_form_get(a, "kind");
	fputs("<label>", f);
	web_esc(f, tx->f_kind);
	fputs("<select name=\"kind\"><option value=\"\">", f);
	web_esc(f, tx->any);
	fputs("</option>", f);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		fprintf(f, "<option value=\"%s\"%s>", kinds[i],
		        cur && !strcmp(cur, kinds[i]) ? " selected" : "");
		web_esc(f, lang_code_name(s->r->words, "kind", kinds[i]));
		fputs("</option>", f);
	}
	fputs("</select></label>\n", f);

	cur = web_form_get(a, "municipality");
	fputs("<label>", f);
	web_esc(f, tx->f_municipality);
	fputs("<select name=\"municipality\"><option value=\"\">", f);
	web_esc(f, tx->any);
	fputs("</option>", f);
	for (size_t i = 0; i < cli_names_count(s->names); i++) {
		const uint8_t *key;
		const char *nm = cli_names_at(s->names, i, &key);
		bool dup = false;
		for (size_t j = 0; j < i && !dup; j++) {
			const uint8_t *k2;
			const char *n2 = cli_names_at(s->names, j, &k2);
			dup = n2 && nm && !strcmp(n2, nm);
		}
		if (!nm || !*nm || dup)
			continue;
		fputs("<option value=\"", f);
		web_esc(f, nm);
		fprintf(f, "\"%s>", cur && !strcmp(cur, nm) ? " selected" : "");
		web_esc(f, nm);
		fputs("</option>", f);
	}
	fputs("</select></label>\n", f);
	select_enum(f, s->r->words, "sector", tx->f_sector, tx->any, &agora__sector__descriptor,
	            web_form_get(a, "sector"));
	select_enum(f, s->r->words, "area", tx->f_area, tx->any, &agora__area__descriptor,
	            web_form_get(a, "area"));
	select_enum(f, s->r->words, "hazard", tx->f_hazard, tx->any, &agora__hazard__descriptor,
	            web_form_get(a, "hazard"));
	select_enum(f, s->r->words, "status", tx->f_status, tx->any, &agora__status__descriptor,
	            web_form_get(a, "status"));
	input_text(f, "since", tx->f_since, web_form_get(a, "since"), "number");
	input_text(f, "until", tx->f_until, web_form_get(a, "until"), "number");
	input_text(f, "tag", tx->f_tag, web_form_get(a, "tag"), "text");
	cur = web_form_get(a, "sort");
	fputs("<label>", f);
	web_esc(f, tx->f_sort);
	fprintf(f, "<select name=\"sort\"><option value=\"\">%s</option>"
	        "<option value=\"newest\"%s>%s</option><option value=\"oldest\"%s>%s</option>"
	        "</select></label>\n", tx->sort_default,
	        cur && !strcmp(cur, "newest") ? " selected" : "", tx->sort_newest,
	        cur && !strcmp(cur, "oldest") ? " selected" : "", tx->sort_oldest);
	fputs("</form>\n", f);
}

/* A window of text, escaped and marked: at most SNIPPET_BYTES on character
 * boundaries, from a word boundary shortly before byte `at` (the first
 * match; -1: from the start). */
static void snippet(FILE *f, const char *text, long at, char *const *words, size_t n)
{
	size_t len = strlen(text), from = 0, to;
	char *part;

	if (at > 80) {
		from = (size_t)at - 80;
		while (from < len && ((unsigned char)text[from] & 0xc0) == 0x80)
			from++;
		while (from < (size_t)at && text[from] != ' ')   /* begin at a word */
			from++;
	}
	to = from + SNIPPET_BYTES < len ? from + SNIPPET_BYTES : len;
	while (to < len && to > from && ((unsigned char)text[to] & 0xc0) == 0x80)
		to--;
	if (!(part = strndup(text + from, to - from)))
		return;
	if (from)
		fputs("… ", f);
	web_esc_marked(f, part, words, n);
	if (to < len)
		fputs(" …", f);
	free(part);
}

static int hit_cb(const struct store_hit *hit, void *arg)
{
	struct search *s = arg;
	const struct web_text *tx = s->r->tx;
	Agora__Record *rec = NULL;
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind;
	char kbuf[CLI_KIND_BUF], when[40];
	char *title, *years, *sector, *status;
	const char *muni = NULL;
	FILE *f = s->f;

	if (s->n == SEARCH_PAGE) {
		s->more = true;
		return 1;
	}
	if (proto_envelope_decode(&rec, hit->rec.env, hit->rec.env_len, NULL) < 0)
		return 0;
	kind = proto_record_content(rec, &msg);
	title = cli_format_title(kind, msg);
	years = cli_format_years(kind, msg);
	sector = cli_format_text(msg, "sector");
	status = cli_format_text(msg, "status");
	if (rec->author.len == PROTO_KEY_BYTES)
		muni = cli_names_name(s->names, rec->author.data);
	cli_format_time(when, sizeof(when), rec->created_ms, false);

	fputs("<li class=\"hit\"><div class=\"title\">", f);
	{
		char hex[PROTO_ID_HEX + 1];
		proto_hex(hex, hit->rec.id, PROTO_ID_BYTES);
		fprintf(f, "<a href=\"/record/%s\">", hex);
		web_esc_marked(f, title && *title ? title : tx->untitled, s->words, s->n_words);
		fputs("</a></div>\n<div class=\"meta\">", f);
	}
	/* Codes in the page's language, as the record page and the report name
	 * them (lang_code_name); a code no file names shows as itself. */
	fputs("<span class=\"kind\" data-kind=\"", f);
	web_esc(f, cli_format_kind(kbuf, kind));
	fputs("\">", f);
	web_esc(f, lang_code_name(s->r->words, "kind", cli_format_kind(kbuf, kind)));
	fputs("</span>", f);
	if (rec->author.len == PROTO_KEY_BYTES) {
		fputs(" · ", f);
		web_link_town(f, rec->author.data, muni);
	}
	if (years && *years) {
		fputs(" · ", f);
		web_esc(f, years);
	}
	if (sector && *sector) {
		fputs(" · ", f);
		web_esc(f, lang_code_name(s->r->words, "sector", sector));
	}
	if (status && *status) {
		fputs(" · ", f);
		web_esc(f, lang_code_name(s->r->words, "status", status));
	}
	fputs(" · ", f);
	web_esc(f, when);
	fputs("</div>\n", f);
	/* A snippet: the first field where a word matches, else the first set. */
	char *best = NULL;
	long at = -1;
	for (size_t i = 0; msg && i < sizeof(snippet_fields) / sizeof(snippet_fields[0]); i++) {
		char *v = cli_format_text(msg, snippet_fields[i]);
		long m;
		if (!v || !*v) {
			free(v);
			continue;
		}
		m = web_first_mark(v, s->words, s->n_words);
		if (m >= 0) {
			free(best);
			best = v;
			at = m;
			break;
		}
		if (!best)
			best = v;
		else
			free(v);
	}
	if (best) {
		fputs("<div class=\"snip\">", f);
		snippet(f, best, at, s->words, s->n_words);
		fputs("</div>", f);
	}
	fputs("</li>\n", f);
	free(best);
	free(title);
	free(years);
	free(sector);
	free(status);
	agora__record__free_unpacked(rec, NULL);
	s->n++;
	return 0;
}

static int parse_enum_arg(int *out, const ProtobufCEnumDescriptor *d, const char *v)
{
	int x;

	if (!v || !*v)
		return 0;
	if (proto_enum_parse(&x, d, v) < 0 || x == 0)
		return -1;
	*out = x;
	return 0;
}

static int parse_year(unsigned *out, const char *v)
{
	char *end;
	unsigned long y;

	if (!v || !*v)
		return 0;
	errno = 0;
	y = strtoul(v, &end, 10);
	if (errno || *end || y < 1 || y > 9999 || v[0] == '-' || v[0] == '+')
		return -1;
	*out = (unsigned)y;
	return 0;
}

const char *web_search_query(struct store_query *q, uint8_t (*authors)[PROTO_KEY_BYTES],
                               const struct web_form *a, struct cli_names *names,
                               const struct web_text *tx)
{
	const char *v;

	memset(q, 0, sizeof(*q));
	if ((v = web_form_nonempty(a, "kind"))) {
		q->kind = proto_kind_parse(v);
		if (q->kind == PROTO_KIND_NONE)
			return tx->err_kind;
		if (q->kind < PROTO_KIND_PROFILE || q->kind == PROTO_KIND_SUPERSEDE ||
		    q->kind == PROTO_KIND_RETRACT)
			q->governance = true;
	}
	if (parse_enum_arg(&q->sector, &agora__sector__descriptor, web_form_get(a, "sector")) ||
	    parse_enum_arg(&q->area, &agora__area__descriptor, web_form_get(a, "area")) ||
	    parse_enum_arg(&q->hazard, &agora__hazard__descriptor, web_form_get(a, "hazard")) ||
	    parse_enum_arg(&q->status, &agora__status__descriptor, web_form_get(a, "status")))
		return tx->err_code;
	if (parse_year(&q->year_from, web_form_get(a, "since")) ||
	    parse_year(&q->year_to, web_form_get(a, "until")))
		return tx->err_year;
	q->tag = web_form_nonempty(a, "tag");
	q->text = web_form_nonempty(a, "q");
	q->sort = q->text ? STORE_SORT_RELEVANCE : STORE_SORT_NEWEST;
	if ((v = web_form_nonempty(a, "sort")))
		q->sort = !strcmp(v, "oldest") ? STORE_SORT_OLDEST : STORE_SORT_NEWEST;
	if ((v = web_form_nonempty(a, "municipality"))) {
		/* As `agora query --municipality`: every name that holds it, folded. */
		char *want = NULL, *have = NULL;
		size_t wl, hl, n = 0;
		if (store_text_fold(&want, &wl, v, strlen(v)) < 0)
			return tx->err_municipality;
		for (size_t i = 0; i < cli_names_count(names) && n < STORE_QUERY_MAX_AUTHORS; i++) {
			const uint8_t *key;
			const char *nm = cli_names_at(names, i, &key);
			if (nm && store_text_fold(&have, &hl, nm, strlen(nm)) == 0 && strstr(have, want))
				memcpy(authors[n++], key, PROTO_KEY_BYTES);
			free(have);
			have = NULL;
		}
		free(want);
		if (!n)
			return tx->err_municipality;
		q->authors = (const uint8_t (*)[PROTO_KEY_BYTES])authors;
		q->n_authors = n;
	}
	return NULL;
}

void web_url_put(FILE *f, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if ((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    *c == '-' || *c == '_' || *c == '.' || *c == '~')
			fputc(*c, f);
		else
			fprintf(f, "%%%02X", *c);
	}
}

void web_page_search(struct web_req *r, struct web_resp *p)
{
	const struct web_text *tx = r->tx;
	struct store_txn *t = NULL;
	struct store_query q;
	uint8_t authors[STORE_QUERY_MAX_AUTHORS][PROTO_KEY_BYTES];
	struct search s;
	const char *bad;
	unsigned long page = 0;
	size_t total = SIZE_MAX;
	int n;

	memset(&s, 0, sizeof(s));
	s.r = r;
	s.f = p->f;
	if (store_txn_begin(r->w->ctx->store, &t) < 0) {
		web_page_error(r, p, 500, tx->err_store);
		return;
	}
	if (!(s.names = cli_names_new(t)) || cli_names_load(s.names) < 0) {
		web_page_error(r, p, 500, tx->err_store);
		goto out;
	}
	if (web_form_nonempty(&r->args, "page"))
		page = strtoul(web_form_get(&r->args, "page"), NULL, 10);
	if (page > 10000)
		page = 10000;
	bad = web_search_query(&q, authors, &r->args, s.names, tx);
	p->feed = true;
	web_page_begin(r, p, tx->title_search);
	search_form(&s, &r->args);
	if (bad) {
		fputs("<p class=\"err\">", p->f);
		web_esc(p->f, bad);
		fputs("</p>\n", p->f);
		web_page_end(r, p);
		p->status = 400;
		goto out;
	}
	if (q.text && web_query_words(&s.words, &s.n_words, q.text) < 0) {
		s.words = NULL;
		s.n_words = 0;
	}
	q.offset = page * SEARCH_PAGE;
	q.limit = SEARCH_PAGE + 1;      /* one more: is there a next page? */
	fputs("<ol class=\"hits\" id=\"hits\">\n", p->f);
	n = store_query(t, &q, hit_cb, &s, &total);
	fputs("</ol>\n", p->f);
	if (n < 0) {
		fputs("<p class=\"err\">", p->f);
		web_esc(p->f, n == STORE_E_PREFIX ? tx->err_prefix : store_strerror(n));
		fputs("</p>\n", p->f);
	} else if (s.n == 0) {
		fputs("<p id=\"none\">", p->f);
		web_esc(p->f, tx->no_match);
		fputs("</p>\n", p->f);
	} else {
		fprintf(p->f, "<p class=\"meta\">%s %zu–%zu", tx->shown,
		        (size_t)page * SEARCH_PAGE + 1, (size_t)page * SEARCH_PAGE + s.n);
		if (total != SIZE_MAX)
			fprintf(p->f, " %s %zu", tx->of, total);
		fputs("</p>\n", p->f);
	}
	fputs("<p class=\"meta\"><a id=\"feed\" type=\"application/atom+xml\" href=\"", p->f);
	web_feed_href(r, p->f);
	fputs("\">", p->f);
	web_esc(p->f, tx->feed_link);
	fputs("</a></p>\n", p->f);
	if (s.more) {
		/* The same arguments with the next page number. */
		fputs("<p><a id=\"next\" href=\"/?", p->f);
		for (size_t i = 0; i < r->args.n; i++) {
			if (!strcmp(r->args.name[i], "page"))
				continue;
			web_url_put(p->f, r->args.name[i]);
			fputc('=', p->f);
			web_url_put(p->f, r->args.value[i]);
			fputs("&amp;", p->f);
		}
		fprintf(p->f, "page=%lu\">", page + 1);
		web_esc(p->f, tx->next_page);
		fputs("</a></p>\n", p->f);
	}
	web_page_end(r, p);
out:
	web_words_free(s.words, s.n_words);
	cli_names_free(s.names);
	store_txn_end(t);
}
