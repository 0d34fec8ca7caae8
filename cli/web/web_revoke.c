/*
 * web_revoke.c - the coordinators' revocation form of `agora web` (GET|POST
 * /revoke): what `agora alliance revoke KEY --reason [--after-seq]
 * [--alliance]` does, through the same cli_revocation_new and
 * cli_revocation_last, so a bad key or seq gets the command's own message,
 * and a node that is no coordinator cli_gov_message's.  A revocation is
 * permanent: the form says so, and a POST without its confirmation box
 * ticked is refused with the values kept.  The server has checked the
 * token, the CSRF token and the origin before any of this runs.
 */
#include <string.h>

#include "cli/alliance_int.h"
#include "cli/json_int.h"
#include "cli/members_int.h"
#include "cli/web/web_int.h"

static void page_form(struct web_req *r, struct web_resp *p, const struct web_form *v,
                      const char *error)
{
	const struct web_text *tx = r->tx;
	FILE *f = p->f;

	web_gov_form_begin(r, p, tx->title_revoke, tx->revoke_about, tx->revoke_warning, error,
	                   "/revoke", v);
	web_input(f, "key", tx->a_key, web_form_get(v, "key"), tx->a_key_hint);
	web_input(f, "reason", tx->r_reason, web_form_get(v, "reason"), NULL);
	web_input(f, "after_seq", tx->r_after, web_form_get(v, "after_seq"), tx->r_after_hint);
	fputs("<p><label><input type=\"checkbox\" id=\"f_confirm\" name=\"confirm\" value=\"yes\"> ",
	      f);
	web_esc(f, tx->r_confirm);
	fputs("</label></p>\n", f);
	web_gov_form_end(r, p, tx->revoke_button);
}

void web_page_revoke(struct web_req *r, struct web_resp *p)
{
	const struct web_text *tx = r->tx;
	const struct web_form *v = &r->form;
	Agora__Record *rec = NULL;
	uint8_t alliance[PROTO_ID_BYTES];
	char err[512];
	int ret;

	if (!r->w->can_sign) {
		web_page_error(r, p, 403, tx->err_read_only);
		return;
	}
	if (!r->post) {
		if (!web_gov_refuse(r, p, tx->title_revoke))
			page_form(r, p, &r->args, NULL);
		return;
	}
	const char *after = web_form_nonempty(v, "after_seq");
	if (cli_revocation_new(&rec, err, sizeof(err), web_form_get(v, "key"),
	                       web_form_nonempty(v, "reason"), after) != CLI_EXIT_OK)
		goto refused;
	if (!web_form_get(v, "confirm") || strcmp(web_form_get(v, "confirm"), "yes")) {
		snprintf(err, sizeof(err), "%s", tx->err_confirm);
		goto refused;
	}
	if ((ret = web_gov_alliance(r, alliance)) < 0) {
		web_page_error(r, p, 500, tx->err_store);
		goto out;
	}
	if (ret > 0) {
		snprintf(err, sizeof(err), "%s", tx->err_alliance);
		goto refused;
	}
	if (!after)
		cli_revocation_last(rec, r->w->ctx->store, alliance);
	if (web_sign(r, p, alliance, rec, true, err, sizeof(err)) == 0)
		goto out;
refused:
	p->status = 400;
	page_form(r, p, v, err);
out:
	json_record_free(rec);
}
