/*
 * web_admit.c - the coordinators' admission form of `agora web` (GET|POST
 * /admit): what `agora alliance admit KEY --name --country [--role]
 * [--expires] [--alliance]` does, through the same cli_admission_new, so
 * a bad key, role or duration gets the command's own message, and a node
 * that is no coordinator gets cli_gov_message's.  Also what the
 * coordinators' forms share, and the page a node that is no coordinator
 * gets instead of them (web_gov_refuse).  The server has checked the
 * token, the CSRF token and the origin before any of this runs.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/alliance_int.h"
#include "cli/json_int.h"
#include "cli/members_int.h"
#include "cli/names_int.h"
#include "cli/web/web_int.h"

static const char *const roles[] = { "member", "coordinator", "observer" };

void web_gov_form_begin(struct web_req *r, struct web_resp *p, const char *title,
                        const char *about, const char *warning, const char *error,
                        const char *action, const struct web_form *v)
{
	FILE *f = p->f;

	web_page_begin(r, p, title);
	fputs("<h1>", f);
	web_esc(f, title);
	fputs("</h1>\n<p class=\"meta\">", f);
	web_esc(f, about);
	fputs("</p>\n", f);
	if (warning) {
		fputs("<p class=\"err\" id=\"warning\">", f);
		web_esc(f, warning);
		fputs("</p>\n", f);
	}
	if (error) {
		fputs("<p class=\"err\" id=\"error\">", f);
		web_esc(f, error);
		fputs("</p>\n", f);
	}
	fprintf(f, "<form class=\"pub\" method=\"post\" action=\"%s\">\n", action);
	web_csrf_input(r, f);
	web_alliance_select(r, f, web_form_get(v, "alliance"));
}

void web_gov_form_end(struct web_req *r, struct web_resp *p, const char *button)
{
	fputs("<p><button type=\"submit\" id=\"submit\">", p->f);
	web_esc(p->f, button);
	fputs("</button></p>\n</form>\n", p->f);
	web_page_end(r, p);
}

int web_gov_alliance(struct web_req *r, uint8_t alliance[PROTO_ID_BYTES])
{
	struct store_txn *t;
	if (store_txn_begin(r->w->ctx->store, &t) < 0)
		return -1;
	int ret = cli_alliance(r->w->ctx, t, web_form_nonempty(&r->form, "alliance"), alliance);
	store_txn_end(t);          /* never hold a snapshot across a write */
	return ret == CLI_EXIT_OK ? 0 : 1;
}

struct coords {
	FILE *f;
	struct cli_names *names;
	uint64_t now;
	size_t n;
};

static int coordinator_cb(const struct store_member *m, void *arg)
{
	struct coords *c = arg;
	const char *name;

	if (m->role != AGORA__ROLE__ROLE_COORDINATOR || !store_member_is_active(m, c->now))
		return 0;
	/* The newest profile's name, else the admission's; founders have none. */
	name = c->names ? cli_names_name(c->names, m->key) : NULL;
	fputs("<li>", c->f);
	web_link_town(c->f, m->key, name && *name ? name : m->name);
	fputs("</li>\n", c->f);
	c->n++;
	return 0;
}

bool web_gov_refuse(struct web_req *r, struct web_resp *p, const char *title)
{
	struct store_txn *t;
	uint8_t alliance[PROTO_ID_BYTES];
	char *aname;

	if (store_txn_begin(r->w->ctx->store, &t) < 0)
		return false;
	struct coords c = { p->f, NULL, cli_now_ms(), 0 };
	if (cli_alliance(r->w->ctx, t, web_form_nonempty(&r->args, "alliance"), alliance) !=
	        CLI_EXIT_OK ||
	    cli_member_coordinator(t, alliance, r->w->pk, c.now)) {
		store_txn_end(t);
		return false;
	}
	if ((c.names = cli_names_new(t)) && cli_names_load(c.names) < 0) {
		cli_names_free(c.names);
		c.names = NULL;
	}
	aname = cli_alliance_name(t, alliance);
	web_page_begin(r, p, title);
	fputs("<h1>", p->f);
	web_esc(p->f, title);
	fputs("</h1>\n<p class=\"err\" id=\"only_coordinator\">", p->f);
	web_esc(p->f, r->tx->only_coordinator);
	fputs("</p>\n<p>", p->f);
	web_esc(p->f, r->tx->coordinators_of);
	fputs(" ", p->f);
	web_esc(p->f, aname ? aname : "?");
	fputs(":</p>\n<ul id=\"coordinators\">\n", p->f);
	store_members(t, alliance, coordinator_cb, &c);
	fputs("</ul>\n", p->f);
	if (!c.n) {
		fputs("<p class=\"meta\">", p->f);
		web_esc(p->f, r->tx->none);
		fputs("</p>\n", p->f);
	}
	web_page_end(r, p);
	free(aname);
	cli_names_free(c.names);
	store_txn_end(t);
	return true;
}

void web_input(FILE *f, const char *name, const char *label, const char *cur, const char *hint)
{
	fprintf(f, "<label for=\"f_%s\">", name);
	web_esc(f, label);
	fprintf(f, "</label>\n<input type=\"text\" id=\"f_%s\" name=\"%s\" value=\"", name, name);
	web_esc(f, cur);
	fputs("\">\n", f);
	if (hint) {
		fputs("<div class=\"hint\">", f);
		web_esc(f, hint);
		fputs("</div>\n", f);
	}
}

void web_role_select(struct web_req *r, FILE *f, const char *cur)
{
	fputs("<label for=\"f_role\">", f);
	web_esc(f, r->tx->m_role);
	fputs("</label>\n<select id=\"f_role\" name=\"role\">", f);
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		fprintf(f, "<option value=\"%s\"%s>", roles[i],
		        cur && !strcmp(cur, roles[i]) ? " selected" : "");
		web_esc(f, lang_code_name(r->words, "role", roles[i]));
		fputs("</option>", f);
	}
	fputs("</select>\n", f);
}

static void page_form(struct web_req *r, struct web_resp *p, const struct web_form *v,
                      const char *error)
{
	const struct web_text *tx = r->tx;
	FILE *f = p->f;

	web_gov_form_begin(r, p, tx->title_admit, tx->admit_about, NULL, error, "/admit", v);
	web_input(f, "key", tx->a_key, web_form_get(v, "key"), tx->a_key_hint);
	web_input(f, "name", tx->a_name, web_form_get(v, "name"), NULL);
	web_input(f, "country", tx->m_country, web_form_get(v, "country"), "DK, PL, NL, ...");
	web_role_select(r, f, web_form_get(v, "role"));
	web_input(f, "expires", tx->a_expires, web_form_get(v, "expires"), tx->a_expires_hint);
	web_gov_form_end(r, p, tx->admit_button);
}

void web_page_admit(struct web_req *r, struct web_resp *p)
{
	const struct web_text *tx = r->tx;
	const struct web_form *v = &r->form;
	Agora__Record *rec = NULL;
	uint8_t alliance[PROTO_ID_BYTES];
	char err[512];
	int rc;

	if (!r->w->can_sign) {
		web_page_error(r, p, 403, tx->err_read_only);
		return;
	}
	if (!r->post) {
		if (!web_gov_refuse(r, p, tx->title_admit))
			page_form(r, p, &r->args, NULL);
		return;
	}
	if (cli_admission_new(&rec, err, sizeof(err), web_form_get(v, "key"),
	                      web_form_nonempty(v, "name"), web_form_nonempty(v, "country"),
	                      web_form_nonempty(v, "role"), web_form_nonempty(v, "expires")) !=
	    CLI_EXIT_OK)
		goto refused;
	if ((rc = web_gov_alliance(r, alliance)) < 0) {
		web_page_error(r, p, 500, tx->err_store);
		goto out;
	}
	if (rc > 0) {
		snprintf(err, sizeof(err), "%s", tx->err_alliance);
		goto refused;
	}
	if (web_sign(r, p, alliance, rec, true, err, sizeof(err)) == 0)
		goto out;
refused:
	p->status = 400;
	page_form(r, p, v, err);
out:
	json_record_free(rec);
}
