/*
 * web_publish.c - the forms of `agora web` that sign: publish a measure,
 * result, lesson, target, emission inventory or the profile (GET|POST
 * /publish), amend one of this node's records (GET|POST /amend/ID), retract
 * one (POST /retract, through cli/amend.c as agora amend/retract); a
 * coordinator also endorses a measure or lesson (publish, kind
 * endorsement).  Admissions are web_admit.c's.  A form's fields are
 * the record kind's fields, read by the same code as `agora publish`'s
 * flags (fields_set), so a bad value gets the CLI's message
 * ("--start-year: 'x' is not a number"); a refused record gets
 * cli_publish_message's.  The server has checked the token, the CSRF
 * token and the origin before any of this runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/alliance_int.h"
#include "cli/amend_int.h"
#include "cli/control_int.h"
#include "cli/fields_int.h"
#include "cli/format_int.h"
#include "cli/json_int.h"
#include "cli/members_int.h"
#include "cli/web/web_int.h"

/* endorsement: the store lets only coordinators publish one, and says so. */
static const char *const web_kinds[] = {
	"measure", "result", "lesson", "endorsement", "target", "inventory", "profile",
};

/* String fields that hold paragraphs: a text area each. */
static const char *const long_fields[] = {
	"summary", "description", "context", "action", "outcome", "worked", "enablers", "note",
	"method", "reason", "factor_source",
};

/* An inventory's sector lines are one text area, a line each, each line
 * what `agora publish inventory --sector-line` takes. */
#define SECTOR_LINES "sector_line"


static bool is_long(const char *name)
{
	for (size_t i = 0; i < sizeof(long_fields) / sizeof(long_fields[0]); i++)
		if (!strcmp(name, long_fields[i]))
			return true;
	return false;
}

static bool form_has(const struct web_form *v, const char *name, const char *value)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->name[i], name) && !strcmp(v->value[i], value))
			return true;
	return false;
}

/* The values of name in v joined with ", " (repeated fields), malloc()ed. */
static char *form_joined(const struct web_form *v, const char *name)
{
	size_t len = 1;
	char *out;

	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->name[i], name))
			len += strlen(v->value[i]) + 2;
	if (!(out = malloc(len)))
		return NULL;
	out[0] = '\0';
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->name[i], name) && v->value[i][0]) {
			if (out[0])
				strcat(out, ", ");
			strcat(out, v->value[i]);
		}
	return out;
}

/* One input per field of desc, filled from v (the values given, or the
 * record being amended), each labelled in words.  Nested messages are left
 * to the CLI (translations), but for an inventory's sector lines: one text
 * area, as published or as the amended record holds them. */
static void form_fields(FILE *f, const struct lang *words, const ProtobufCMessageDescriptor *desc,
                        const struct web_form *v)
{
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &desc->fields[i];
		bool rep = fd->label == PROTOBUF_C_LABEL_REPEATED;
		const char *label = web_field_label(words, desc, fd->name);

		if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
			if (fd->descriptor != &agora__sector_emission__descriptor)
				continue;
			fputs("<label for=\"f_" SECTOR_LINES "\">", f);
			web_esc(f, web_field_label(words, desc, fd->name));
			fputs("</label>\n<textarea id=\"f_" SECTOR_LINES "\" name=\"" SECTOR_LINES
			      "\" rows=\"4\">", f);
			web_esc(f, web_form_get(v, SECTOR_LINES));
			fputs("</textarea>\n<div class=\"hint\">SECTOR:TCO2E[:MWH]</div>\n", f);
			continue;
		}
		if (fd->type == PROTOBUF_C_TYPE_BOOL) {
			fprintf(f, "<label><input type=\"checkbox\" name=\"%s\" value=\"true\"%s> ",
			        fd->name, form_has(v, fd->name, "true") ? " checked" : "");
			web_esc(f, label);
			fputs("</label>\n", f);
			continue;
		}
		fprintf(f, "<label for=\"f_%s\">", fd->name);
		web_esc(f, label);
		fputs("</label>\n", f);
		if (fd->type == PROTOBUF_C_TYPE_ENUM) {
			const ProtobufCEnumDescriptor *ed = fd->descriptor;
			if (rep) {
				fprintf(f, "<div class=\"boxes\" id=\"f_%s\">", fd->name);
				for (unsigned k = 0; k < ed->n_values; k++) {
					const char *nm = proto_enum_name(ed, ed->values[k].value);
					if (!nm || ed->values[k].value == 0)
						continue;
					fprintf(f, "<label><input type=\"checkbox\" name=\"%s\" value=\"%s\"%s> ",
					        fd->name, nm, form_has(v, fd->name, nm) ? " checked" : "");
					web_esc(f, web_code_label(words, ed, nm));
					fputs("</label>", f);
				}
				fputs("</div>\n", f);
			} else {
				const char *cur = web_form_get(v, fd->name);
				fprintf(f, "<select id=\"f_%s\" name=\"%s\"><option value=\"\"></option>",
				        fd->name, fd->name);
				for (unsigned k = 0; k < ed->n_values; k++) {
					const char *nm = proto_enum_name(ed, ed->values[k].value);
					if (!nm || ed->values[k].value == 0)
						continue;
					fprintf(f, "<option value=\"%s\"%s>", nm,
					        cur && !strcmp(cur, nm) ? " selected" : "");
					web_esc(f, web_code_label(words, ed, nm));
					fputs("</option>", f);
				}
				fputs("</select>\n", f);
			}
			continue;
		}
		char *val = rep ? form_joined(v, fd->name) : NULL;
		const char *cur = rep ? val : web_form_get(v, fd->name);
		if (fd->type == PROTOBUF_C_TYPE_STRING && !rep && is_long(fd->name)) {
			fprintf(f, "<textarea id=\"f_%s\" name=\"%s\" rows=\"4\">", fd->name, fd->name);
			web_esc(f, cur);
			fputs("</textarea>\n", f);
		} else {
			fprintf(f, "<input type=\"text\" id=\"f_%s\" name=\"%s\" value=\"", fd->name,
			        fd->name);
			web_esc(f, cur);
			fputs("\">\n", f);
			if (rep)
				fputs("<div class=\"hint\">a, b, c</div>\n", f);
		}
		free(val);
	}
}

/* Field `name` of the nested message m as text fields_set reads back, after
 * sep, into the memstream f; nothing when it is not set. */
static void nested_text(FILE *f, const ProtobufCMessage *m, const char *name, const char *sep)
{
	const ProtobufCFieldDescriptor *fd =
		protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
	char buf[64];

	if (fd && fields_has(m, fd) &&
	    fields_value_text(buf, sizeof(buf), fd, (const char *)m + fd->offset) == 0)
		fprintf(f, "%s%s", sep, buf);
}

/* The sector lines of an inventory (field fd of msg) as the text area holds
 * them: "SECTOR:TCO2E[:MWH]", one a line.  0 or -ENOMEM. */
static int sector_lines_pair(struct web_form *v, const ProtobufCMessage *msg,
                             const ProtobufCFieldDescriptor *fd)
{
	size_t n = *(const size_t *)((const char *)msg + fd->quantifier_offset);
	ProtobufCMessage *const *el = *(ProtobufCMessage *const *const *)((const char *)msg +
	                                                                fd->offset);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (!f)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++) {
		nested_text(f, el[k], "sector", "");
		nested_text(f, el[k], "tco2e", ":");
		nested_text(f, el[k], "mwh", ":");
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	rc = web_form_add(v, SECTOR_LINES, text);
	free(text);
	return rc == -ENOMEM ? rc : 0;
}

/* The current values of msg as form pairs (for the amend form). */
static int form_from_message(struct web_form *v, const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	char buf[4096];

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		size_t n = 1, sz = fields_elem_size(fd);
		const char *base;
		if (!fields_has(msg, fd))
			continue;
		if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
			if (fd->descriptor == &agora__sector_emission__descriptor &&
			    sector_lines_pair(v, msg, fd) < 0)
				return -ENOMEM;
			continue;
		}
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)((const char *)msg + fd->quantifier_offset);
			base = *(const char *const *)((const char *)msg + fd->offset);
		} else {
			base = (const char *)msg + fd->offset;
		}
		for (size_t k = 0; k < n; k++) {
			const void *el = base + k * sz;
			int rc;
			if (fd->type == PROTOBUF_C_TYPE_STRING)
				rc = web_form_add(v, fd->name, *(char *const *)el);
			else if (fields_value_text(buf, sizeof(buf), fd, el) == 0)
				rc = web_form_add(v, fd->name, buf);
			else
				rc = 0;
			if (rc == -ENOMEM)
				return rc;
		}
	}
	return 0;
}

/* Each non-empty line of text as one --sector-line. */
static int apply_lines(struct fields *fs, const char *text, char *err, size_t cap)
{
	while (*text) {
		size_t len = strcspn(text, "\r\n");
		char *line = strndup(text, len);
		int rc;

		if (!line)
			return -ENOMEM;
		rc = *line ? fields_set(fs, "sector-line", line) : 0;
		free(line);
		if (rc < 0) {
			snprintf(err, cap, "%s", fs->err);
			return rc;
		}
		text += len;
		text += strspn(text, "\r\n");
	}
	return 0;
}

/*
 * Apply the form's field values to msg as `agora publish` applies its
 * flags.  0, or the first error with its message in err (the CLI's words).
 */
static int apply_form(struct fields *fs, const struct web_form *form, char *err, size_t cap,
                      const struct web_text *tx)
{
	const ProtobufCMessageDescriptor *d = fs->desc;

	for (size_t i = 0; i < form->n; i++) {
		const char *name = form->name[i], *value = form->value[i];
		const ProtobufCFieldDescriptor *fd;
		char flag[80];
		int rc;

		if (!strcmp(name, "csrf") || !strcmp(name, "kind") || !strcmp(name, "alliance") ||
		    !strcmp(name, "id"))
			continue;
		if (!strcmp(name, SECTOR_LINES) && fs->desc == &agora__inventory__descriptor) {
			if ((rc = apply_lines(fs, value, err, cap)) < 0)
				return rc;
			continue;
		}
		fd = protobuf_c_message_descriptor_get_field_by_name(d, name);
		if (!fd || fd->type == PROTOBUF_C_TYPE_MESSAGE) {
			snprintf(err, cap, "%s '%s'", tx->err_field, name);
			return FIELDS_E_UNKNOWN;
		}
		if (!*value)
			continue;
		/* By its flag name, so that a message names "--start-year" as the CLI does. */
		snprintf(flag, sizeof(flag), "%s", name);
		for (char *c = flag; *c; c++)
			if (*c == '_')
				*c = '-';
		if ((rc = fields_set(fs, flag, value)) < 0) {
			snprintf(err, cap, "%s", fs->err);
			return rc;
		}
	}
	return 0;
}

static void alliance_option(FILE *f, const uint8_t id[PROTO_ID_BYTES], const char *name,
                                   const char *cur)
{
	char hex[PROTO_ID_HEX + 1];

	proto_hex(hex, id, PROTO_ID_BYTES);
	fprintf(f, "<option value=\"%s\"%s>", hex, cur && !strcmp(cur, hex) ? " selected" : "");
	web_esc(f, name);
	fputs("</option>", f);
}

struct alliances {
	FILE *f;
	struct store_txn *t;
	const char *cur;
	size_t n;
};

static int alliance_cb(const struct store_record *sr, void *arg)
{
	struct alliances *a = arg;
	char *name = cli_alliance_name(a->t, sr->id);

	alliance_option(a->f, sr->id, name ? name : "?", a->cur);
	free(name);
	a->n++;
	return 0;
}

void web_alliance_select(struct web_req *r, FILE *f, const char *cur)
{
	struct store_txn *t = NULL;

	if (store_txn_begin(r->w->ctx->store, &t) < 0)
		return;
	struct alliances a = { f, t, cur, 0 };
	fputs("<label for=\"f_alliance\">", f);
	web_esc(f, r->tx->r_alliance);
	fputs("</label>\n<select id=\"f_alliance\" name=\"alliance\"><option value=\"\">", f);
	web_esc(f, r->tx->default_alliance);
	fputs("</option>", f);
	store_alliances(t, alliance_cb, &a);
	fputs("</select>\n", f);
	store_txn_end(t);
}

static void page_form(struct web_req *r, struct web_resp *p, enum proto_kind kind,
                      const struct web_form *values, const char *error, const char *amend_hex)
{
	const struct web_text *tx = r->tx;
	FILE *f = p->f;
	char title[160];

	snprintf(title, sizeof(title), "%s: %s", amend_hex ? tx->title_amend : tx->title_publish,
	         proto_kind_name(kind));
	web_page_begin(r, p, title);
	fputs("<h1>", f);
	web_esc(f, title);
	fputs("</h1>\n", f);
	if (error) {
		fputs("<p class=\"err\" id=\"error\">", f);
		web_esc(f, error);
		fputs("</p>\n", f);
	}
	if (amend_hex)
		fprintf(f, "<form class=\"pub\" method=\"post\" action=\"/amend/%s\">\n", amend_hex);
	else
		fputs("<form class=\"pub\" method=\"post\" action=\"/publish\">\n", f);
	web_csrf_input(r, f);
	fprintf(f, "<input type=\"hidden\" name=\"kind\" value=\"%s\">\n", proto_kind_name(kind));
	if (!amend_hex)
		web_alliance_select(r, f, web_form_get(values, "alliance"));
	form_fields(f, r->words, proto_kind_descriptor(kind), values);
	fputs("<p><button type=\"submit\" id=\"submit\">", f);
	web_esc(f, amend_hex ? tx->amend_button : tx->publish_button);
	fputs("</button></p>\n</form>\n", f);
	web_page_end(r, p);
}

int web_sign(struct web_req *r, struct web_resp *p, const uint8_t alliance[PROTO_ID_BYTES],
             Agora__Record *rec, bool gov, char *err, size_t cap)
{
	struct proto_error perr = { 0 };
	uint8_t id[PROTO_ID_BYTES];
	char hex[PROTO_ID_HEX + 1];
	int rc;

	rc = store_publish(r->w->ctx->store, r->w->ctx->key, alliance, rec, cli_now_ms(), id, NULL,
	                   NULL, &perr);
	if (rc < 0) {
		if (gov)
			cli_gov_message(err, cap, r->w->ctx, rc, &perr);
		else
			cli_publish_message(err, cap, r->w->ctx, rc, &perr);
		return rc;
	}
	cli_control_poke(r->w->ctx);
	proto_hex(hex, id, PROTO_ID_BYTES);
	p->status = 303;
	snprintf(p->location, sizeof(p->location), "/record/%s?published=1", hex);
	return 0;
}

static enum proto_kind web_kind(const char *v)
{
	for (size_t i = 0; v && i < sizeof(web_kinds) / sizeof(web_kinds[0]); i++)
		if (!strcmp(v, web_kinds[i]))
			return proto_kind_parse(v);
	return PROTO_KIND_NONE;
}

void web_page_publish(struct web_req *r, struct web_resp *p)
{
	const struct web_text *tx = r->tx;
	struct store_txn *t = NULL;
	ProtobufCMessage *body = NULL;
	Agora__Record *rec = NULL;
	struct fields fs;
	enum proto_kind kind;
	uint8_t alliance[PROTO_ID_BYTES];
	char err[512];

	if (!r->w->can_sign) {
		web_page_error(r, p, 403, tx->err_read_only);
		return;
	}
	kind = web_kind(web_form_get(r->post ? &r->form : &r->args, "kind"));
	if (kind == PROTO_KIND_NONE) {
		if (r->post) {
			web_page_error(r, p, 400, tx->err_kind);
			return;
		}
		web_page_begin(r, p, tx->title_publish);
		fputs("<h1>", p->f);
		web_esc(p->f, tx->title_publish);
		fputs("</h1>\n<ul>\n", p->f);
		for (size_t i = 0; i < sizeof(web_kinds) / sizeof(web_kinds[0]); i++)
		{
			fprintf(p->f, "<li><a id=\"new_%s\" href=\"/publish?kind=%s\">", web_kinds[i],
			        web_kinds[i]);
			web_esc(p->f, lang_code_name(r->words, "kind", web_kinds[i]));
			fputs("</a></li>\n", p->f);
		}
		fputs("</ul>\n", p->f);
		web_page_end(r, p);
		return;
	}
	if (!r->post) {
		/* Only coordinators endorse: anyone else is told so, not given a form. */
		if (kind != PROTO_KIND_ENDORSEMENT || !web_gov_refuse(r, p, tx->title_publish))
			page_form(r, p, kind, &r->args, NULL, NULL);
		return;
	}
	if (store_txn_begin(r->w->ctx->store, &t) < 0) {
		web_page_error(r, p, 500, tx->err_store);
		return;
	}
	if (!(body = fields_new_message(proto_kind_descriptor(kind)))) {
		store_txn_end(t);
		web_page_error(r, p, 500, tx->err_memory);
		return;
	}
	fields_init(&fs, body, t, false);
	if (apply_form(&fs, &r->form, err, sizeof(err), tx) < 0)
		goto refused;
	if (cli_alliance(r->w->ctx, t, web_form_nonempty(&r->form, "alliance"), alliance) !=
	    CLI_EXIT_OK) {
		snprintf(err, sizeof(err), "%s", tx->err_alliance);
		goto refused;
	}
	store_txn_end(t);          /* never hold a snapshot across a write */
	t = NULL;
	if (json_record_wrap(&rec, kind, body, NULL) < 0) {
		web_page_error(r, p, 500, tx->err_memory);
		goto out;
	}
	body = NULL;
	if (web_sign(r, p, alliance, rec, false, err, sizeof(err)) == 0)
		goto out;
refused:
	store_txn_end(t);
	t = NULL;
	p->status = 400;
	page_form(r, p, kind, &r->form, err, NULL);
out:
	store_txn_end(t);
	if (body)
		protobuf_c_message_free_unpacked(body, NULL);
	json_record_free(rec);
}

/* Open arg as one of this node's records (cli_amend_open); NULL, or what
 * is wrong in the page's words, with the HTTP status in *status. */
static const char *open_own(struct web_req *r, struct store_txn *t, const char *arg,
                            bool content, struct cli_amend *a, int *status)
{
	const struct web_text *tx = r->tx;
	char err[512];
	int rc = cli_amend_open(a, t, r->w->pk, arg, content, err, sizeof(err));

	*status = 400;
	switch (rc) {
	case 0: return NULL;
	case CLI_AMEND_E_ID: case CLI_AMEND_E_NOTFOUND: *status = 404; return tx->err_no_record;
	case CLI_AMEND_E_NOT_YOURS: case CLI_AMEND_E_CHARTER: return tx->err_not_yours;
	case CLI_AMEND_E_RETRACTED: return tx->err_retracted;
	case CLI_AMEND_E_KIND: return tx->err_cannot_amend;
	case -ENOMEM: *status = 500; return tx->err_memory;
	default: *status = 500; return tx->err_damaged;
	}
}

bool web_own_begin(struct web_req *r, struct web_resp *p, const char *arg, bool content,
                   struct store_txn **t, struct cli_amend *a)
{
	const struct web_text *tx = r->tx;
	const char *why;
	int status;

	*t = NULL;
	if (!r->w->can_sign) {
		web_page_error(r, p, 403, tx->err_read_only);
		return false;
	}
	if (store_txn_begin(r->w->ctx->store, t) < 0) {
		*t = NULL;
		web_page_error(r, p, 500, tx->err_store);
		return false;
	}
	if ((why = open_own(r, *t, arg, content, a, &status))) {
		store_txn_end(*t);
		*t = NULL;
		web_page_error(r, p, status, why);
		return false;
	}
	return true;
}

void web_page_amend(struct web_req *r, struct web_resp *p, const char *arg)
{
	const struct web_text *tx = r->tx;
	struct store_txn *t = NULL;
	struct cli_amend a = { 0 };
	Agora__Record *rec = NULL;
	struct web_form values;
	struct fields fs;
	char hex[PROTO_ID_HEX + 1], err[512];

	web_form_init(&values);
	if (!web_own_begin(r, p, arg, true, &t, &a))
		goto out;
	proto_hex(hex, a.id, PROTO_ID_BYTES);
	if (!r->post) {
		if (form_from_message(&values, a.content) < 0)
			web_page_error(r, p, 500, tx->err_memory);
		else
			page_form(r, p, a.kind, &values, NULL, hex);
		goto out;
	}
	/* The copy keeps what the form does not show (translations); every
	 * field the form shows, sector lines too, is taken from the form, so a
	 * line taken out of the text area is gone from the new version. */
	for (unsigned i = 0; i < a.content->descriptor->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &a.content->descriptor->fields[i];
		if (fd->type != PROTOBUF_C_TYPE_MESSAGE ||
		    fd->descriptor == &agora__sector_emission__descriptor)
			fields_clear(a.content, fd);
	}
	fields_init(&fs, a.content, t, false);
	if (apply_form(&fs, &r->form, err, sizeof(err), tx) < 0) {
		p->status = 400;
		page_form(r, p, a.kind, &r->form, err, hex);
		goto out;
	}
	if (cli_amend_wrap(&rec, &a) < 0) {
		web_page_error(r, p, 500, tx->err_memory);
		goto out;
	}
	store_txn_end(t);
	t = NULL;
	if (web_sign(r, p, a.alliance, rec, false, err, sizeof(err)) < 0) {
		p->status = 400;
		page_form(r, p, a.kind, &r->form, err, hex);
	}
out:
	store_txn_end(t);
	cli_amend_dispose(&a);
	json_record_free(rec);
	web_form_dispose(&values);
}

void web_page_retract(struct web_req *r, struct web_resp *p)
{
	const struct web_text *tx = r->tx;
	struct store_txn *t = NULL;
	struct cli_amend a = { 0 };
	Agora__Record *rec = NULL;
	char err[512];

	if (!web_own_begin(r, p, web_form_get(&r->form, "id"), false, &t, &a))
		goto out;
	store_txn_end(t);
	t = NULL;
	if (cli_retraction_new(&rec, a.id, web_form_nonempty(&r->form, "reason")) < 0) {
		web_page_error(r, p, 500, tx->err_memory);
		goto out;
	}
	if (web_sign(r, p, a.alliance, rec, false, err, sizeof(err)) < 0)
		web_page_error(r, p, 400, err);
	else {
		char hex[PROTO_ID_HEX + 1];
		proto_hex(hex, a.id, PROTO_ID_BYTES);
		snprintf(p->location, sizeof(p->location), "/record/%s", hex);
	}
out:
	store_txn_end(t);
	cli_amend_dispose(&a);
	json_record_free(rec);
}
