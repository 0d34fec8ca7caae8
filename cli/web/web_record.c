/*
 * web_record.c - one record in full (GET /record/ID), as `agora show`
 * prints it: every field, who signed it and whether the signature still
 * verifies from the stored bytes, its alliance, its versions, and the
 * results, lessons and endorsements that refer to it, its files
 * (web_attach.c); for this node's own records, the way to amend or retract
 * it, or to attach a file.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/alliance_int.h"
#include "cli/fields_int.h"
#include "cli/format_int.h"
#include "cli/names_int.h"
#include "cli/web/web_int.h"

struct rec_page {
	struct web_req *r;
	FILE *f;
	struct cli_names *names;
	const uint8_t *self;
	size_t n;
};

/* The codes of enum field fd of msg by their names in words, "; " between. */
static void enum_labels(FILE *f, const struct lang *words, const ProtobufCMessage *msg,
                        const ProtobufCFieldDescriptor *fd)
{
	const int *v = (const int *)((const char *)msg + fd->offset);
	size_t n = 1;

	if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
		n = *(const size_t *)((const char *)msg + fd->quantifier_offset);
		v = *(int *const *)((const char *)msg + fd->offset);
	}
	for (size_t k = 0; k < n; k++) {
		const char *code = proto_enum_name(fd->descriptor, v[k]);
		char num[16];
		if (!code) {            /* a newer schema's value: its number */
			snprintf(num, sizeof(num), "%d", v[k]);
			code = num;
		}
		if (k)
			fputs("; ", f);
		web_esc(f, web_code_label(words, fd->descriptor, code));
	}
}

void web_fields_table(FILE *f, const struct lang *words, const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;

	fputs("<table class=\"fields\">\n", f);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		char *v = NULL;
		/* the files have a table of their own (web_attach_list) */
		if (!fields_has(msg, fd) || (fd->type == PROTOBUF_C_TYPE_MESSAGE &&
		                             fd->descriptor == &agora__attachment__descriptor))
			continue;
		fputs("<tr><th>", f);
		web_esc(f, web_field_label(words, d, fd->name));
		fputs("</th><td class=\"v\">", f);
		size_t nl = strlen(fd->name);
		if (fd->type == PROTOBUF_C_TYPE_ENUM) {
			enum_labels(f, words, msg, fd);
		} else if (fd->type == PROTOBUF_C_TYPE_BOOL && fd->label != PROTOBUF_C_LABEL_REPEATED) {
			/* yes / no in the page's words, not "true" */
			web_esc(f, lang_text(words, *(const protobuf_c_boolean *)((const char *)msg +
			                                                          fd->offset) ?
			                     "report.yes" : "report.no"));
		} else if (fd->type == PROTOBUF_C_TYPE_UINT64 && fd->label != PROTOBUF_C_LABEL_REPEATED &&
		           nl > 3 && !strcmp(fd->name + nl - 3, "_ms")) {
			/* a time (expires_ms): a date, not milliseconds */
			char when[40];
			cli_format_time(when, sizeof(when),
			                *(const uint64_t *)((const char *)msg + fd->offset), true);
			web_esc(f, when);
		} else if (fd->type == PROTOBUF_C_TYPE_BYTES) {
			const ProtobufCBinaryData *b;
			size_t n = 1;
			if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
				n = *(const size_t *)((const char *)msg + fd->quantifier_offset);
				b = *(ProtobufCBinaryData *const *)((const char *)msg + fd->offset);
			} else {
				b = (const ProtobufCBinaryData *)((const char *)msg + fd->offset);
			}
			for (size_t k = 0; k < n; k++) {
				if (k)
					fputs(", ", f);
				/* a key names a municipality, 32 other bytes a record */
				bool key = !strcmp(fd->name, "member") || !strcmp(fd->name, "new_key") ||
				           !strcmp(fd->name, "coordinators");
				if (b[k].len == PROTO_KEY_BYTES && key) {
					web_link_town(f, b[k].data, NULL);
				} else if (b[k].len == PROTO_ID_BYTES) {
					web_link_record(f, b[k].data, NULL);
				} else {
					for (size_t j = 0; j < b[k].len; j++)
						fprintf(f, "%02x", b[k].data[j]);
				}
			}
		} else if (cli_format_field(&v, msg, fd->name) == 0) {
			web_esc(f, v);
		}
		free(v);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static int history_cb(const struct store_record *sr, void *arg)
{
	struct rec_page *c = arg;
	const struct web_text *tx = c->r->tx;
	Agora__Record *rec = NULL;
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind, own;
	char when[40];
	const char *state;
	char *title;

	if (proto_envelope_decode(&rec, sr->env, sr->env_len, NULL) < 0)
		return 0;
	own = proto_record_kind(rec);
	kind = proto_record_content(rec, &msg);
	cli_format_time(when, sizeof(when), rec->created_ms, false);
	state = own == PROTO_KIND_RETRACT ? tx->st_retraction : sr->retracted ? tx->st_retracted :
		sr->superseded ? tx->st_superseded : tx->st_current;
	title = own == PROTO_KIND_RETRACT ? cli_format_text(&rec->retract->base, "reason") :
		cli_format_title(kind, msg);
	fprintf(c->f, "<tr%s><td>", memcmp(sr->id, c->self, PROTO_ID_BYTES) ? "" :
	        " class=\"this\"");
	web_esc(c->f, when);
	fputs("</td><td>", c->f);
	web_link_record(c->f, sr->id, NULL);
	fprintf(c->f, "</td><td>%llu</td><td>", (unsigned long long)rec->seq);
	web_esc(c->f, state);
	fputs("</td><td>", c->f);
	web_esc(c->f, title);
	fputs("</td></tr>\n", c->f);
	free(title);
	c->n++;
	agora__record__free_unpacked(rec, NULL);
	return 0;
}

static int related_cb(const struct store_record *sr, void *arg)
{
	struct rec_page *c = arg;
	Agora__Record *rec = NULL;
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind;
	char kbuf[CLI_KIND_BUF];
	char *title;

	if (proto_envelope_decode(&rec, sr->env, sr->env_len, NULL) < 0)
		return 0;
	kind = proto_record_content(rec, &msg);
	title = cli_format_title(kind, msg);
	fputs("<tr><td>", c->f);
	web_esc(c->f, lang_code_name(c->r->words, "kind", cli_format_kind(kbuf, kind)));
	fputs("</td><td>", c->f);
	if (rec->author.len == PROTO_KEY_BYTES)
		web_link_town(c->f, rec->author.data, cli_names_name(c->names, rec->author.data));
	fputs("</td><td>", c->f);
	web_link_record(c->f, sr->id, title && *title ? title : c->r->tx->untitled);
	fputs("</td></tr>\n", c->f);
	free(title);
	c->n++;
	agora__record__free_unpacked(rec, NULL);
	return 0;
}

/* Amend and retract, for a current record of this node's own. */
static void own_actions(struct web_req *r, FILE *f, const char *hex, enum proto_kind kind)
{
	const struct web_text *tx = r->tx;

	fputs("<h2>", f);
	web_esc(f, tx->h_change);
	fprintf(f, "</h2>\n<p><a id=\"amend\" href=\"/amend/%s\">", hex);
	web_esc(f, tx->amend_link);
	fputs("</a></p>\n<form class=\"pub\" method=\"post\" action=\"/retract\">", f);
	web_csrf_input(r, f);
	fprintf(f, "<input type=\"hidden\" name=\"id\" value=\"%s\"><label>", hex);
	web_esc(f, tx->retract_reason);
	fputs("<input type=\"text\" name=\"reason\"></label><p><button type=\"submit\" "
	      "id=\"retract\">", f);
	web_esc(f, tx->retract_button);
	fputs("</button></p></form>\n", f);
	if (kind == PROTO_KIND_MEASURE || kind == PROTO_KIND_RESULT || kind == PROTO_KIND_LESSON)
		web_attach_form(r, f, hex);
}

void web_page_record(struct web_req *r, struct web_resp *p, const char *arg)
{
	const struct web_text *tx = r->tx;
	struct store_txn *t = NULL;
	struct store_record sr;
	struct rec_page c;
	Agora__Record *rec = NULL;
	struct proto_error perr;
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind, own;
	uint8_t id[PROTO_ID_BYTES];
	char hex[PROTO_ID_HEX + 1], when[40], kbuf[CLI_KIND_BUF];
	char *title = NULL, *aname = NULL;
	size_t len = strlen(arg);
	int sigrc, n;
	FILE *f = p->f;

	memset(&c, 0, sizeof(c));
	if (len < 4 || len > PROTO_ID_HEX || strspn(arg, "0123456789abcdefABCDEF") != len) {
		web_page_error(r, p, 404, tx->err_no_record);
		return;
	}
	if (store_txn_begin(r->w->ctx->store, &t) < 0) {
		web_page_error(r, p, 500, tx->err_store);
		return;
	}
	n = store_resolve(t, arg, id);
	if (n == 0)
		n = store_get(t, id, &sr);
	if (n < 0) {
		web_page_error(r, p, n == STORE_E_AMBIGUOUS ? 400 : 404,
		               n == STORE_E_AMBIGUOUS ? tx->err_ambiguous : tx->err_no_record);
		goto out;
	}
	if (!(c.names = cli_names_new(t)) || cli_names_load(c.names) < 0) {
		web_page_error(r, p, 500, tx->err_store);
		goto out;
	}
	/* Verify again from the stored bytes, as `agora show` does. */
	memset(&perr, 0, sizeof(perr));
	sigrc = proto_envelope_open(&rec, sr.env, sr.env_len, cli_now_ms(), &perr);
	if (sigrc < 0 && proto_envelope_decode(&rec, sr.env, sr.env_len, NULL) < 0) {
		web_page_error(r, p, 500, tx->err_damaged);
		goto out;
	}
	own = proto_record_kind(rec);
	kind = proto_record_content(rec, &msg);
	title = cli_format_title(kind, msg);
	proto_hex(hex, id, PROTO_ID_BYTES);

	web_page_begin(r, p, title && *title ? title : tx->untitled);
	if (web_form_get(&r->args, "published")) {
		fputs("<p class=\"note\" id=\"published\">", f);
		web_esc(f, tx->published_note);
		fputs("</p>\n", f);
	}
	fputs("<h1 id=\"title\">", f);
	web_esc(f, title && *title ? title : tx->untitled);
	fputs("</h1>\n<table class=\"head\">\n<tr><th>", f);
	web_esc(f, tx->r_kind);
	fputs("</th><td>", f);
	web_esc(f, lang_code_name(r->words, "kind", cli_format_kind(kbuf, kind)));
	if (own == PROTO_KIND_SUPERSEDE) {
		fputs(" ", f);
		web_esc(f, tx->new_version);
	}
	fputs("</td></tr>\n<tr><th>", f);
	web_esc(f, tx->r_signed_by);
	fputs("</th><td>", f);
	if (rec->author.len == PROTO_KEY_BYTES) {
		char key[PROTO_KEY_BYTES * 2 + 1];
		web_link_town(f, rec->author.data, cli_names_name(c.names, rec->author.data));
		proto_hex(key, rec->author.data, PROTO_KEY_BYTES);
		fprintf(f, " <code>%s</code>", key);
	}
	fputs("</td></tr>\n<tr><th>", f);
	web_esc(f, tx->r_signature);
	if (sigrc == 0) {
		fputs("</th><td><span class=\"ok\" id=\"sig\">✓ ", f);
		web_esc(f, tx->sig_ok);
	} else {
		fputs("</th><td><span class=\"bad\" id=\"sig\">✗ ", f);
		web_esc(f, tx->sig_bad);
		fputs(": ", f);
		web_esc(f, proto_strerror(sigrc));
		if (perr.field[0]) {
			fputs(" (", f);
			web_esc(f, perr.field);
			fputs(": ", f);
			web_esc(f, perr.msg);
			fputs(")", f);
		}
	}
	fputs("</span></td></tr>\n", f);
	if (rec->alliance.len == PROTO_ID_BYTES) {
		aname = cli_alliance_name(t, rec->alliance.data);
		fputs("<tr><th>", f);
		web_esc(f, tx->r_alliance);
		fputs("</th><td>", f);
		web_esc(f, aname ? aname : tx->unknown);
		fputs("</td></tr>\n", f);
	}
	cli_format_time(when, sizeof(when), rec->created_ms, true);
	fprintf(f, "<tr><th>%s</th><td>%llu</td></tr>\n<tr><th>", tx->r_seq,
	        (unsigned long long)rec->seq);
	web_esc(f, tx->r_created);
	fputs("</th><td>", f);
	web_esc(f, when);
	fputs("</td></tr>\n<tr><th>", f);
	web_esc(f, tx->r_state);
	fputs("</th><td id=\"state\">", f);
	if (sr.retracted) {
		web_esc(f, tx->st_retracted);
	} else if (sr.superseded) {
		web_esc(f, tx->st_superseded_by);
		fputs(" ", f);
		web_link_record(f, sr.newest, NULL);
	} else {
		web_esc(f, tx->st_current);
	}
	fprintf(f, "</td></tr>\n<tr><th>id</th><td><code>%s</code></td></tr>\n</table>\n", hex);

	fputs("<h2>", f);
	web_esc(f, tx->h_fields);
	fputs("</h2>\n", f);
	if (own == PROTO_KIND_RETRACT && rec->retract)
		web_fields_table(f, r->words, &rec->retract->base);
	else if (msg)
		web_fields_table(f, r->words, msg);
	web_attach_list(r, f, rec, hex);

	c.r = r;
	c.f = f;
	c.self = id;
	fputs("<h2>", f);
	web_esc(f, tx->h_versions);
	fputs("</h2>\n<table class=\"versions\">\n", f);
	store_history(t, id, history_cb, &c);
	fputs("</table>\n", f);
	if (kind == PROTO_KIND_MEASURE || kind == PROTO_KIND_LESSON) {
		c.n = 0;
		fputs("<h2>", f);
		web_esc(f, tx->h_related);
		fputs("</h2>\n<table class=\"related\" id=\"related\">\n", f);
		store_related(t, id, related_cb, &c);
		fputs("</table>\n", f);
		if (!c.n) {
			fputs("<p class=\"meta\">", f);
			web_esc(f, tx->none);
			fputs("</p>\n", f);
		}
		if (kind == PROTO_KIND_MEASURE && r->w->can_sign) {
			fprintf(f, "<p><a href=\"/publish?kind=result&amp;measure=%s\">", hex);
			web_esc(f, tx->add_result);
			fprintf(f, "</a> · <a href=\"/publish?kind=lesson&amp;measures=%s\">", hex);
			web_esc(f, tx->add_lesson);
			fputs("</a></p>\n", f);
		}
		if (r->w->can_sign && !sr.retracted) {
			fprintf(f, "<p><a id=\"endorse\" href=\"/publish?kind=endorsement&amp;target=%s\">",
			        hex);
			web_esc(f, tx->endorse);
			fputs("</a></p>\n", f);
		}
	}
	if (r->w->can_sign && !sr.retracted && own != PROTO_KIND_RETRACT &&
	    rec->author.len == PROTO_KEY_BYTES && !memcmp(rec->author.data, r->w->pk, PROTO_KEY_BYTES) &&
	    rec->alliance.len == PROTO_ID_BYTES && kind >= PROTO_KIND_PROFILE &&
	    kind <= PROTO_KIND_ENDORSEMENT)
		own_actions(r, f, hex, kind);
	web_page_end(r, p);
out:
	free(title);
	free(aname);
	if (rec)
		agora__record__free_unpacked(rec, NULL);
	cli_names_free(c.names);
	store_txn_end(t);
}
