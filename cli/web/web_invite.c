/*
 * web_invite.c - the coordinators' invite form of `agora web` (GET|POST
 * /invite): what `agora alliance invite --name [--country] [--role]
 * [--expires] [--address] [--alliance]` does, through the same
 * cli_invite_new, so a bad role, duration or address gets the command's
 * own message, and a node that is no coordinator its "only a coordinator
 * of this alliance can invite".  On success the page shows the code and
 * the one line the new member runs.  The server has checked the token,
 * the CSRF token and the origin before any of this runs.
 */
#include <string.h>

#include <sodium.h>

#include "cli/alliance_int.h"
#include "cli/members_int.h"
#include "cli/web/web_int.h"

static void page_form(struct web_req *r, struct web_resp *p, const struct web_form *v,
                      const char *error)
{
	const struct web_text *tx = r->tx;
	FILE *f = p->f;

	web_gov_form_begin(r, p, tx->title_invite, tx->invite_about, NULL, error, "/invite", v);
	web_input(f, "name", tx->a_name, web_form_get(v, "name"), NULL);
	web_input(f, "country", tx->m_country, web_form_get(v, "country"), "DK, PL, NL, ...");
	web_role_select(r, f, web_form_get(v, "role"));
	web_input(f, "expires", tx->a_expires, web_form_get(v, "expires"), tx->i_expires_hint);
	web_input(f, "address", tx->i_address, web_form_get(v, "address"), tx->i_address_hint);
	web_gov_form_end(r, p, tx->invite_button);
}

static void page_code(struct web_req *r, struct web_resp *p, const char *name, const char *code)
{
	const struct web_text *tx = r->tx;
	FILE *f = p->f;

	web_page_begin(r, p, tx->title_invite);
	fputs("<h1>", f);
	web_esc(f, tx->title_invite);
	fputs(": ", f);
	web_esc(f, name);
	fputs("</h1>\n<p>", f);
	web_esc(f, tx->invite_code);
	fputs("</p>\n<pre id=\"code\">", f);
	web_esc(f, code);
	fputs("</pre>\n<p>", f);
	web_esc(f, tx->invite_join);
	fputs("</p>\n<pre id=\"join\">agora join ", f);
	web_esc(f, code);
	fputs("</pre>\n", f);
	web_page_end(r, p);
}

void web_page_invite(struct web_req *r, struct web_resp *p)
{
	const struct web_text *tx = r->tx;
	const struct web_form *v = &r->form;
	uint8_t alliance[PROTO_ID_BYTES];
	char err[1024], code[1024];
	int ret;

	if (!r->w->can_sign) {
		web_page_error(r, p, 403, tx->err_read_only);
		return;
	}
	if (!r->post) {
		if (!web_gov_refuse(r, p, tx->title_invite))
			page_form(r, p, &r->args, NULL);
		return;
	}
	struct cli_invite_req q = {
		.name = web_form_nonempty(v, "name"), .country = web_form_nonempty(v, "country"),
		.role = web_form_nonempty(v, "role"), .expires = web_form_nonempty(v, "expires"),
		.address = web_form_nonempty(v, "address"),
	};
	if (cli_invite_check(err, sizeof(err), &q) != CLI_EXIT_OK)
		goto refused;
	if ((ret = web_gov_alliance(r, alliance)) < 0) {
		web_page_error(r, p, 500, tx->err_store);
		return;
	}
	if (ret > 0) {
		snprintf(err, sizeof(err), "%s", tx->err_alliance);
		goto refused;
	}
	if (cli_invite_new(code, sizeof(code), err, sizeof(err), r->w->ctx, r->w->ctx->store,
	                   r->w->ctx->key, alliance, &q, false) != CLI_EXIT_OK)
		goto refused;
	page_code(r, p, q.name, code);
	sodium_memzero(code, sizeof(code));
	return;
refused:
	p->status = 400;
	page_form(r, p, v, err);
}
