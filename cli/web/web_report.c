/*
 * web_report.c - the summit report, live (GET /report): the page frames
 * the report's own HTML document (GET /report/doc), which cli/report/
 * writes exactly as `agora report --format html` does, from a snapshot
 * taken at the request, so the figures are the CLI's; its labels are in
 * the browser's language (Accept-Language, or ?lang=en|da|pl|nl), and each
 * figure links to its record pages.  The document keeps
 * its inline style, so it is served on its own with a policy that allows
 * inline style and nothing else.
 */
#include <string.h>
#include <time.h>

#include "cli/alliance_int.h"
#include "cli/report/report.h"
#include "cli/web/web_int.h"

/* The alliance asked for (?alliance=ID|NAME), else the default one. */
static int which(struct web_req *r, struct store_txn *t, uint8_t id[PROTO_ID_BYTES])
{
	return cli_alliance(r->w->ctx, t, web_form_nonempty(&r->args, "alliance"), id) ==
		CLI_EXIT_OK ? 0 : -1;
}

void web_page_report(struct web_req *r, struct web_resp *p)
{
	const struct web_text *tx = r->tx;
	struct store_txn *t = NULL;
	uint8_t id[PROTO_ID_BYTES];
	char hex[PROTO_ID_HEX + 1];

	if (store_txn_begin(r->w->ctx->store, &t) < 0) {
		web_page_error(r, p, 500, tx->err_store);
		return;
	}
	if (which(r, t, id) < 0) {
		store_txn_end(t);
		web_page_error(r, p, 404, tx->err_alliance);
		return;
	}
	store_txn_end(t);
	proto_hex(hex, id, PROTO_ID_BYTES);
	web_page_begin(r, p, tx->nav_report);
	fprintf(p->f, "<p class=\"meta\"><a href=\"/report/doc?alliance=%s\">", hex);
	web_esc(p->f, tx->report_alone);
	fprintf(p->f, "</a></p>\n<iframe class=\"report\" id=\"report\" title=\"report\" "
	        "src=\"/report/doc?alliance=%s\"></iframe>\n", hex);
	web_page_end(r, p);
}

void web_page_report_doc(struct web_req *r, struct web_resp *p)
{
	const struct web_text *tx = r->tx;
	struct store_txn *t = NULL;
	struct report *rep = NULL;
	struct report_options opt;
	uint8_t id[PROTO_ID_BYTES];
	int rc;

	if (store_txn_begin(r->w->ctx->store, &t) < 0) {
		web_page_error(r, p, 500, tx->err_store);
		return;
	}
	if (which(r, t, id) < 0) {
		web_page_error(r, p, 404, tx->err_alliance);
		goto out;
	}
	memset(&opt, 0, sizeof(opt));
	opt.alliance = id;
	opt.generated_s = (int64_t)time(NULL);
	opt.explain = true;           /* keep each figure's records ... */
	opt.record_url = "/record/";   /* ... to link them to their pages */
	if ((rc = report_collect(&rep, t, &opt)) < 0) {
		web_page_error(r, p, 500, store_strerror(rc));
		goto out;
	}
	if (report_write(p->f, rep, REPORT_HTML, r->lang, 0) < 0) {
		web_page_error(r, p, 500, tx->err_store);
		goto out;
	}
	p->report = true;
out:
	report_free(rep);
	store_txn_end(t);
}
