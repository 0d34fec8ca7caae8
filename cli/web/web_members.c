/*
 * web_members.c - the alliances this node holds with their members (GET
 * /members, from the store as `agora alliance members` reads it), and the
 * running node's peers and sync state, asked over the control socket as
 * `agora status` does ("agorad is not running" when it is not).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/alliance_int.h"
#include "cli/control_int.h"
#include "cli/names_int.h"
#include "cli/web/web_int.h"

struct members {
	struct web_req *r;
	FILE *f;
	struct store_txn *t;
	struct cli_names *names;
	uint64_t now;
};

static int member_cb(const struct store_member *m, void *arg)
{
	struct members *c = arg;
	const struct web_text *tx = c->r->tx;
	const char *role = proto_enum_name(&agora__role__descriptor, m->role);
	const char *name = cli_names_name(c->names, m->key);
	FILE *f = c->f;
	int st = store_member_status(m, c->now);

	fputs("<tr><td>", f);
	web_link_town(f, m->key, name && *name ? name : m->name);
	fputs("</td><td>", f);
	web_esc(f, m->country);
	fputs("</td><td>", f);
	web_esc(f, role ? role : "");
	fputs("</td><td>", f);
	web_esc(f, st == 0 ? tx->m_active : st == STORE_E_REVOKED ? tx->m_revoked :
	        st == STORE_E_EXPIRED ? tx->m_expired : tx->m_not_member);
	if (m->equivocating) {
		fputs(" <span class=\"bad\">", f);
		web_esc(f, tx->m_equivocating);
		fputs("</span>", f);
	}
	fprintf(f, "</td><td>%llu</td></tr>\n", (unsigned long long)m->records);
	return 0;
}

static int alliance_cb(const struct store_record *sr, void *arg)
{
	struct members *c = arg;
	const struct web_text *tx = c->r->tx;
	char *name = cli_alliance_name(c->t, sr->id);
	char hex[PROTO_ID_HEX + 1];
	FILE *f = c->f;

	proto_hex(hex, sr->id, PROTO_ID_BYTES);
	fputs("<h2>", f);
	web_esc(f, name ? name : tx->unknown);
	fprintf(f, "</h2>\n<p class=\"meta\"><a href=\"/report?alliance=%s\">", hex);
	web_esc(f, tx->nav_report);
	fprintf(f, "</a> · <code>%.16s…</code></p>\n<table class=\"members\">\n<tr><th>", hex);
	web_esc(f, tx->f_municipality);
	fputs("</th><th>", f);
	web_esc(f, tx->m_country);
	fputs("</th><th>", f);
	web_esc(f, tx->m_role);
	fputs("</th><th>", f);
	web_esc(f, tx->r_state);
	fputs("</th><th>", f);
	web_esc(f, tx->m_records);
	fputs("</th></tr>\n", f);
	store_members(c->t, sr->id, member_cb, c);
	fputs("</table>\n", f);
	free(name);
	return 0;
}

static void peers(struct web_req *r, FILE *f)
{
	const struct web_text *tx = r->tx;
	Agora__Control__Request req = AGORA__CONTROL__REQUEST__INIT;
	Agora__Control__StatusReq sreq = AGORA__CONTROL__STATUS_REQ__INIT;
	Agora__Control__Response *resp = NULL;
	int rc;

	fputs("<h2>", f);
	web_esc(f, tx->h_node);
	fputs("</h2>\n", f);
	req.req_case = AGORA__CONTROL__REQUEST__REQ_STATUS;
	req.status = &sreq;
	rc = cli_control_call(r->w->ctx, &req, &resp);
	if (rc == -ENOENT || rc == -ECONNREFUSED) {
		fputs("<p id=\"node\">", f);
		web_esc(f, tx->node_not_running);
		fputs("</p>\n", f);
		return;
	}
	if (rc < 0 || resp->code || !resp->status) {
		fputs("<p class=\"err\" id=\"node\">", f);
		web_esc(f, tx->node_error);
		if (rc == 0 && resp->error) {
			fputs(": ", f);
			web_esc(f, resp->error);
		}
		fputs("</p>\n", f);
		if (resp)
			agora__control__response__free_unpacked(resp, NULL);
		return;
	}
	const Agora__Control__Status *st = resp->status;
	for (size_t i = 0; i < st->n_problems; i++) {
		fputs("<p class=\"err\">", f);
		web_esc(f, st->problems[i]->text);
		fputs("</p>\n", f);
	}
	fprintf(f, "<p id=\"node\">%s: %llu · %s: %llu · %s: %llu s</p>\n", tx->node_records,
	        (unsigned long long)st->records, tx->node_feeds, (unsigned long long)st->feeds,
	        tx->node_uptime, (unsigned long long)(st->uptime_ms / 1000));
	fputs("<table class=\"peers\">\n<tr><th>", f);
	web_esc(f, tx->p_peer);
	fputs("</th><th>", f);
	web_esc(f, tx->p_address);
	fputs("</th><th>", f);
	web_esc(f, tx->r_state);
	fputs("</th><th>", f);
	web_esc(f, tx->p_lag);
	fputs("</th><th>", f);
	web_esc(f, tx->p_error);
	fputs("</th></tr>\n", f);
	for (size_t i = 0; i < st->n_peers; i++) {
		const Agora__Control__Peer *pe = st->peers[i];
		fputs("<tr><td>", f);
		if (pe->key.len == PROTO_KEY_BYTES)
			web_link_town(f, pe->key.data, pe->name);
		else
			web_esc(f, pe->name);
		fputs("</td><td>", f);
		web_esc(f, pe->address);
		fputs("</td><td>", f);
		web_esc(f, pe->state);
		fprintf(f, "</td><td>%llu / %llu%s</td><td>", (unsigned long long)pe->behind,
		        (unsigned long long)pe->ahead, pe->n_stuck ? " STUCK" : "");
		web_esc(f, pe->last_error);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	if (!st->n_peers) {
		fputs("<p class=\"meta\">", f);
		web_esc(f, tx->none);
		fputs("</p>\n", f);
	}
	agora__control__response__free_unpacked(resp, NULL);
}

void web_page_members(struct web_req *r, struct web_resp *p)
{
	const struct web_text *tx = r->tx;
	struct members c;

	memset(&c, 0, sizeof(c));
	c.r = r;
	c.f = p->f;
	c.now = cli_now_ms();
	if (store_txn_begin(r->w->ctx->store, &c.t) < 0 || !(c.names = cli_names_new(c.t)) ||
	    cli_names_load(c.names) < 0) {
		web_page_error(r, p, 500, tx->err_store);
		goto out;
	}
	web_page_begin(r, p, tx->nav_members);
	fputs("<h1>", p->f);
	web_esc(p->f, tx->nav_members);
	fputs("</h1>\n", p->f);
	if (r->w->can_sign) {
		fputs("<p><a id=\"admit\" href=\"/admit\">", p->f);
		web_esc(p->f, tx->admit_link);
		fputs("</a> &middot; <a id=\"invite\" href=\"/invite\">", p->f);
		web_esc(p->f, tx->invite_link);
		fputs("</a> &middot; <a id=\"revoke\" href=\"/revoke\">", p->f);
		web_esc(p->f, tx->revoke_link);
		fputs("</a></p>\n", p->f);
	}
	store_alliances(c.t, alliance_cb, &c);
	/* The control call may wait for agorad: not inside a snapshot. */
	cli_names_free(c.names);
	c.names = NULL;
	store_txn_end(c.t);
	c.t = NULL;
	peers(r, p->f);
	web_page_end(r, p);
out:
	cli_names_free(c.names);
	store_txn_end(c.t);
}
