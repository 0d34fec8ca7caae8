/*
 * web_atom.c - a search of `agora web` as an Atom feed (RFC 4287), GET
 * /atom with the search page's arguments (kind, q, municipality, sector,
 * ...): the newest matching records, each with its title, author
 * municipality, time, a link to its record page and a summary.  A feed
 * reader holds no cookie, so the page also opens with ?feed=, a token that
 * opens nothing else (web.c).  Every stored string is another
 * municipality's and goes through web_esc.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/format_int.h"
#include "cli/names_int.h"
#include "cli/web/web_int.h"

#define ATOM_ENTRIES 50             /* the newest this many records */

/* Fields a summary is taken from, the first one set. */
static const char *const summary_fields[] = {
	"summary", "description", "context", "outcome", "worked", "note", "method",
};

struct atom {
	struct web_req *r;
	FILE *f;                      /* the entries */
	struct cli_names *names;
	uint64_t newest_ms;           /* the feed's <updated> */
};

void web_feed_href(struct web_req *r, FILE *f)
{
	fputs("/atom?", f);
	for (size_t i = 0; i < r->args.n; i++) {
		const char *n = r->args.name[i];
		if (!strcmp(n, "page") || !strcmp(n, "token") || !strcmp(n, "feed") ||
		    !r->args.value[i][0])
			continue;
		web_url_put(f, n);
		fputc('=', f);
		web_url_put(f, r->args.value[i]);
		fputs("&amp;", f);
	}
	fprintf(f, "feed=%s", r->w->feed);
}

/* RFC 3339 in UTC: "2026-12-07T00:21:40Z". */
static void rfc3339(char *buf, size_t cap, uint64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&s, &tm) || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, cap, "1970-01-01T00:00:00Z");
}

/* "http://HOST" (the Host header, checked by the server) and path. */
static void url(FILE *f, struct web_req *r, const char *path)
{
	fputs("http://", f);
	web_esc(f, r->host);
	fputs(path, f);
}

static int entry_cb(const struct store_hit *hit, void *arg)
{
	struct atom *a = arg;
	Agora__Record *rec = NULL;
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind;
	char hex[PROTO_ID_HEX + 1], when[40], kbuf[CLI_KIND_BUF];
	char *title, *summary = NULL;
	const char *muni = NULL;
	FILE *f = a->f;

	if (proto_envelope_decode(&rec, hit->rec.env, hit->rec.env_len, NULL) < 0)
		return 0;
	kind = proto_record_content(rec, &msg);
	title = cli_format_title(kind, msg);
	for (size_t i = 0; msg && !summary && i < sizeof(summary_fields) / sizeof(summary_fields[0]);
	     i++) {
		summary = cli_format_text(msg, summary_fields[i]);
		if (summary && !*summary) {
			free(summary);
			summary = NULL;
		}
	}
	if (rec->author.len == PROTO_KEY_BYTES)
		muni = cli_names_name(a->names, rec->author.data);
	if (rec->created_ms > a->newest_ms)
		a->newest_ms = rec->created_ms;
	proto_hex(hex, hit->rec.id, PROTO_ID_BYTES);
	rfc3339(when, sizeof(when), rec->created_ms);

	fprintf(f, "<entry>\n<id>urn:agora:record:%s</id>\n<title>", hex);
	web_esc(f, title && *title ? title : a->r->tx->untitled);
	fputs("</title>\n<author><name>", f);
	web_esc(f, muni && *muni ? muni : a->r->tx->unknown);
	fprintf(f, "</name></author>\n<updated>%s</updated>\n<category term=\"", when);
	web_esc(f, cli_format_kind(kbuf, kind));
	fputs("\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"", f);
	url(f, a->r, "/record/");
	fprintf(f, "%s\"/>\n", hex);
	if (summary) {
		fputs("<summary>", f);
		web_esc(f, summary);
		fputs("</summary>\n", f);
	}
	fputs("</entry>\n", f);
	free(title);
	free(summary);
	agora__record__free_unpacked(rec, NULL);
	return 0;
}

void web_page_atom(struct web_req *r, struct web_resp *p)
{
	const struct web_text *tx = r->tx;
	struct store_txn *t = NULL;
	struct store_query q;
	uint8_t authors[STORE_QUERY_MAX_AUTHORS][PROTO_KEY_BYTES];
	struct atom a;
	char *entries = NULL, when[40];
	size_t elen = 0;
	const char *bad;
	int n;

	memset(&a, 0, sizeof(a));
	a.r = r;
	if (store_txn_begin(r->w->ctx->store, &t) < 0 || !(a.names = cli_names_new(t)) ||
	    cli_names_load(a.names) < 0) {
		web_page_error(r, p, 500, tx->err_store);
		goto out;
	}
	if ((bad = web_search_query(&q, authors, &r->args, a.names, tx))) {
		web_page_error(r, p, 400, bad);
		goto out;
	}
	/* A feed is read newest first, whatever the words. */
	q.sort = STORE_SORT_NEWEST;
	q.limit = ATOM_ENTRIES;
	if (!(a.f = open_memstream(&entries, &elen))) {
		web_page_error(r, p, 500, tx->err_memory);
		goto out;
	}
	n = store_query(t, &q, entry_cb, &a, NULL);
	fclose(a.f);
	a.f = NULL;
	if (n < 0) {
		web_page_error(r, p, 400, n == STORE_E_PREFIX ? tx->err_prefix : store_strerror(n));
		goto out;
	}
	rfc3339(when, sizeof(when), a.newest_ms);
	p->type = "application/atom+xml; charset=utf-8";
	fputs("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	      "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"", p->f);
	web_esc(p->f, r->lang);
	/* The feed's id and self link: this very address, so that each
	 * filter is a feed of its own. */
	fputs("\">\n<id>", p->f);
	url(p->f, r, "");
	web_feed_href(r, p->f);
	fputs("</id>\n<title>", p->f);
	web_esc(p->f, tx->feed_title);
	if (web_form_nonempty(&r->args, "q")) {
		fputs(": ", p->f);
		web_esc(p->f, web_form_get(&r->args, "q"));
	}
	fprintf(p->f, "</title>\n<updated>%s</updated>\n<author><name>", when);
	web_esc(p->f, r->w->name[0] ? r->w->name : "agora");
	fputs("</name></author>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"", p->f);
	url(p->f, r, "");
	web_feed_href(r, p->f);
	fputs("\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"", p->f);
	url(p->f, r, "/?");
	for (size_t i = 0; i < r->args.n; i++) {
		const char *nm = r->args.name[i];
		if (!strcmp(nm, "feed") || !strcmp(nm, "token") || !r->args.value[i][0])
			continue;
		web_url_put(p->f, nm);
		fputc('=', p->f);
		web_url_put(p->f, r->args.value[i]);
		fputs("&amp;", p->f);
	}
	fputs("\"/>\n", p->f);
	if (elen)
		fwrite(entries, 1, elen, p->f);
	fputs("</feed>\n", p->f);
out:
	if (a.f)
		fclose(a.f);
	free(entries);
	cli_names_free(a.names);
	store_txn_end(t);
}
