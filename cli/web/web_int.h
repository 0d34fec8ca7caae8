/*
 * web_int.h - `agora web`, private to cli/web/: the server's state, one
 * request as a page sees it, the HTML writer, the form decoder and the
 * page families (one file each).
 *
 * Threads.  libmicrohttpd runs every request on its one internal polling
 * thread (no thread per connection), so struct web and everything it owns
 * (the cli_ctx with its store and key) is used by one thread at a time; the
 * main thread only starts and stops the daemon.
 *
 * Trust.  Every stored string came from another municipality and every
 * request byte from whoever can reach the port: pages write stored text
 * only through web_esc (never raw), and request input only through
 * web_form (decoded, length-capped, checked to be UTF-8).
 */
#ifndef AGORA_CLI_WEB_INT_H
#define AGORA_CLI_WEB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/cli_int.h"
#include "cli/web/web_text.h"

#define WEB_TOKEN_BYTES 32
#define WEB_TOKEN_HEX (2 * WEB_TOKEN_BYTES)
#define WEB_BODY_MAX (256u << 10)   /* a form body larger than this is refused (413) */
#define WEB_FORM_MAX 512            /* pairs per query string or form body */
#define WEB_VALUE_MAX (64u << 10)   /* bytes of one decoded value */
#define WEB_LANGS 8                 /* room for the built-in languages (lang_count) */

/* ------------------------------------------------------------ form */

/* Decoded name=value pairs of a query string or a form body, in order;
 * names may repeat.  Every string is NUL-terminated, valid UTF-8 without
 * NUL bytes, malloc()ed and owned by the form. */
struct web_form {
	char **name, **value;
	size_t n, cap;
};

enum web_form_error {
	WEB_FORM_E_SYNTAX = -4000,   /* a bad %-escape */
	WEB_FORM_E_UTF8 = -4001,     /* a name or value that is not UTF-8, or holds NUL */
	WEB_FORM_E_LIMIT = -4002,    /* more than WEB_FORM_MAX pairs or a value over WEB_VALUE_MAX */
};

void web_form_init(struct web_form *f);
void web_form_dispose(struct web_form *f);          /* accepts a zeroed form */
/*
 * Append the pairs of application/x-www-form-urlencoded text s[0..len)
 * ("a=1&b=x+y%21"; '+' is a space, a name without '=' has value "").
 * 0, WEB_FORM_E_*, or -ENOMEM; on error the pairs decoded so far stay.
 */
int web_form_parse(struct web_form *f, const char *s, size_t len);
/* Append one pair as given (already decoded); checks UTF-8 and limits as
 * web_form_parse does.  0, WEB_FORM_E_* or -ENOMEM. */
int web_form_add(struct web_form *f, const char *name, const char *value);
/* The last value of name, or NULL; borrowed from the form. */
const char *web_form_get(const struct web_form *f, const char *name);
/* The last value of name if it is not empty (after trimming nothing), else NULL. */
const char *web_form_nonempty(const struct web_form *f, const char *name);
/*
 * The value of cookie `name` in a Cookie header ("a=1; agora_token=ab"),
 * copied into out (cap bytes, NUL-terminated).  0, or -ENOENT when absent
 * or longer than cap - 1.
 */
int web_cookie_get(char *out, size_t cap, const char *header, const char *name);

/* ------------------------------------------------------------ server */

struct web {
	struct cli_ctx *ctx;          /* store and key; borrowed from cli_cmd_web */
	struct lang *langs[WEB_LANGS]; /* each built-in language (lang_code_at order) */
	struct web_text texts[WEB_LANGS]; /* their UI words, borrowed from langs */
	char token[WEB_TOKEN_HEX + 1]; /* the secret (hex) printed in the URL */
	char csrf[WEB_TOKEN_HEX + 1];  /* keyed hash of the token, in every form */
	char feed[WEB_TOKEN_HEX + 1];  /* another keyed hash: reads /atom only (?feed=),
	                                  for feed readers that hold no cookie */
	char hosts[4][80];            /* Host header values accepted; [0] is printed */
	size_t n_hosts;
	bool any_host;                /* listening on a wildcard address: any Host
	                                 (the token still guards every page) */
	uint16_t port;
	bool can_sign;                /* the key was loaded: publishing is possible */
	uint8_t pk[PROTO_KEY_BYTES];  /* this node's key, when can_sign */
	char name[128];               /* this node's municipality name, for the header */
};

/* One request as a page handler sees it. */
struct web_req {
	struct web *w;
	const char *path;             /* the URL path, without the query string */
	bool post;
	struct web_form args;         /* the query string */
	struct web_form form;         /* the POST body (empty for GET) */
	struct web_upload *upload;    /* POST /attach/ID's file, or NULL; borrowed */
	const char *host;             /* the Host header, checked */
	const char *lang;             /* ?lang=, else the agora_lang cookie, else
	                                 Accept-Language (lang_choose): static */
	const struct web_text *tx;    /* the words of lang: w->texts[...] */
	const struct lang *words;     /* lang's words, for code-list names */
};

/* What a page handler answers. */
struct web_resp {
	int status;                   /* 200, 303, 400, 403, 404, 500 */
	FILE *f;                      /* the body being written (open_memstream) */
	char *body;                   /* its buffer, after fclose */
	size_t len;
	const char *type;             /* Content-Type; "text/html; charset=utf-8" by default */
	char location[256];           /* for 303: where to (a path of ours) */
	bool report;                  /* the report's own document: inline styles allowed */
	int fd;                       /* a file to send instead of body (fd_size > 0): owned */
	uint64_t fd_size;
	char disposition[768];        /* Content-Disposition with the file, or "" */
	bool feed;                    /* a search: its head links to its Atom feed */
};

/* ------------------------------------------------------------ html */

/* s as HTML or XML text or attribute value, by the one rule of
 * cli/markup_int.h (cli_markup_esc: & < > " ' escaped, control characters
 * replaced); NULL writes nothing.  Pages and the Atom feed use these. */
void web_esc(FILE *f, const char *s);
/* The first n bytes of s, escaped the same way. */
void web_esc_n(FILE *f, const char *s, size_t n);
/* The page's head, header and navigation; title is escaped. */
void web_page_begin(struct web_req *r, struct web_resp *p, const char *title);
void web_page_end(struct web_req *r, struct web_resp *p);
/* A whole error page: status and one message (escaped). */
void web_page_error(struct web_req *r, struct web_resp *p, int status, const char *msg);
/* The hidden CSRF input every form of ours carries. */
void web_csrf_input(struct web_req *r, FILE *f);
/* text escaped, with every word that matches a word of the query (folded,
 * as search folds; a word that begins with a query word, or that a query
 * word begins with and is at most 3 bytes shorter) inside <mark>.  words:
 * the query's folded words (web_query_words), n of them. */
void web_esc_marked(FILE *f, const char *text, char *const *words, size_t n);
/* Byte offset in text of the first word web_esc_marked would mark, or -1. */
long web_first_mark(const char *text, char *const *words, size_t n);
/* The folded words of a query (store_text_words); *out malloc()ed array of
 * malloc()ed strings, free with web_words_free.  0 or a negative code. */
int web_query_words(char ***out, size_t *n, const char *text);
void web_words_free(char **w, size_t n);
/* The style sheet served at /style.css. */
extern const char web_css[];

/* ------------------------------------------------------------ pages */

/* Each writes a whole answer into p (web_page_begin..end, or an error). */
void web_page_search(struct web_req *r, struct web_resp *p);       /* GET / */
void web_page_record(struct web_req *r, struct web_resp *p, const char *id); /* /record/ID */
void web_page_town(struct web_req *r, struct web_resp *p, const char *key);  /* /town/KEY */
void web_page_members(struct web_req *r, struct web_resp *p);      /* /members */
void web_page_report(struct web_req *r, struct web_resp *p);       /* /report */
void web_page_report_doc(struct web_req *r, struct web_resp *p);   /* /report/doc */
void web_page_publish(struct web_req *r, struct web_resp *p);      /* GET|POST /publish */
void web_page_amend(struct web_req *r, struct web_resp *p, const char *id); /* /amend/ID */
void web_page_retract(struct web_req *r, struct web_resp *p);      /* POST /retract */
void web_page_admit(struct web_req *r, struct web_resp *p);        /* GET|POST /admit */
void web_page_invite(struct web_req *r, struct web_resp *p);       /* GET|POST /invite */
void web_page_revoke(struct web_req *r, struct web_resp *p);       /* GET|POST /revoke */
void web_page_atom(struct web_req *r, struct web_resp *p);         /* GET /atom */
void web_page_file(struct web_req *r, struct web_resp *p, const char *arg); /* GET /file/ID/N */

/* --------------------------------------------------------- attachments */

/*
 * An upload being received (web_attach.c): POST /attach/ID as
 * multipart/form-data, streamed by web.c's post processor through
 * web_upload_part into a temporary file in the data directory, which
 * web_upload_free removes.  Created only for a request with the token.
 */
struct web_upload;
/* 0 with *out (free with web_upload_free), or -ENOMEM. */
int web_upload_new(struct web_upload **out, const struct web *w);
void web_upload_free(struct web_upload *u);
/* The largest file taken ([attachments] max-file). */
uint64_t web_upload_limit(const struct web_upload *u);
/* One piece of a form part (the post processor's iterator): the "csrf"
 * field, which must come first and match, then one "file" part.  Anything
 * else marks the upload bad.  Always 0 (the body is read to its end). */
int web_upload_part(struct web_upload *u, const struct web *w, const char *key,
                    const char *filename, const char *data, uint64_t off, size_t size);
/* POST /attach/ID: store the uploaded file and publish a new version of
 * record ID (this node's own) that lists it; 303 to it, or an error. */
void web_page_attach(struct web_req *r, struct web_resp *p, const char *arg,
                     struct web_upload *u);
/* The record's files as a table (download links for those held), on its
 * page; nothing for a record without files. */
void web_attach_list(struct web_req *r, FILE *f, const Agora__Record *rec, const char *hex);
/* The upload form for one of this node's measures, results or lessons. */
void web_attach_form(struct web_req *r, FILE *f, const char *hex);

/* ------------------------------------------------------------ shared */

struct cli_names;

/*
 * Sign rec (owned by the caller) with this node's key and store it in
 * alliance, as `agora publish` does; on success 0 and a 303 in p to the
 * new record's page.  On failure the store's code, and the CLI's message
 * in err (cap bytes): cli_gov_message's for a governance record (gov),
 * else cli_publish_message's.  (web_publish.c)
 */
int web_sign(struct web_req *r, struct web_resp *p, const uint8_t alliance[PROTO_ID_BYTES],
             Agora__Record *rec, bool gov, char *err, size_t cap);
/* The start of changing one of this node's records (amend, retract,
 * attach): publishing allowed, a snapshot begun into *t, arg opened with
 * cli_amend_open (content or not) into *a.  true; or false with the error
 * page written into p, *t NULL and *a untouched.  (web_publish.c) */
struct cli_amend;
bool web_own_begin(struct web_req *r, struct web_resp *p, const char *arg, bool content,
                   struct store_txn **t, struct cli_amend *a);
/*
 * The coordinators' pages on GET (admit, invite, revoke, endorse;
 * web_admit.c): when this node's key is not an active coordinator of the
 * alliance the request names (?alliance=, else the default), write a whole
 * page in p titled title that says only a coordinator can do this and
 * names the alliance's coordinators (escaped, linked to their pages), and
 * return true; no form.  false, with nothing written, when the node is a
 * coordinator there, or when the alliance or the store cannot be read (the
 * form is shown and its POST answers as the CLI does).
 */
bool web_gov_refuse(struct web_req *r, struct web_resp *p, const char *title);
/* A labelled text input name (id f_NAME) holding cur, with a hint line
 * (NULL: none); label, cur and hint escaped.  (web_admit.c) */
void web_input(FILE *f, const char *name, const char *label, const char *cur, const char *hint);
/* A labelled <select name="role"> of member, coordinator, observer in the
 * page's words; cur selected.  (web_admit.c) */
void web_role_select(struct web_req *r, FILE *f, const char *cur);
/*
 * The coordinators' forms (admit, invite, revoke; web_admit.c): the page up
 * to the form's own fields (title, what it does, an optional warning, the
 * error of the last try, the CSRF token, the alliance select with v's
 * choice), and after them (the submit button, the page's end).
 */
void web_gov_form_begin(struct web_req *r, struct web_resp *p, const char *title,
                        const char *about, const char *warning, const char *error,
                        const char *action, const struct web_form *v);
void web_gov_form_end(struct web_req *r, struct web_resp *p, const char *button);
/* The alliance the form names (or the default) into alliance, through a
 * snapshot ended before returning: 0, 1 when it is no alliance of this
 * node, -1 when the store cannot be read. */
int web_gov_alliance(struct web_req *r, uint8_t alliance[PROTO_ID_BYTES]);
/* A labelled <select name="alliance"> of the store's alliances, the
 * default one first (empty value); cur selected.  (web_publish.c) */
void web_alliance_select(struct web_req *r, FILE *f, const char *cur);

/*
 * Fill q from a search's arguments (those of GET /: kind, municipality,
 * sector, area, hazard, status, since, until, tag, q, sort) as `agora
 * query` reads its flags; q's strings are borrowed from a.  authors: room
 * for STORE_QUERY_MAX_AUTHORS keys.  NULL, or the message for a bad
 * argument (in tx's words).  (web_search.c)
 */
const char *web_search_query(struct store_query *q, uint8_t (*authors)[PROTO_KEY_BYTES],
                             const struct web_form *a, struct cli_names *names,
                             const struct web_text *tx);
/* s percent-encoded for a query string (everything but unreserved bytes). */
void web_url_put(FILE *f, const char *s);
/* "/atom?ARGS&amp;feed=HEX": the Atom feed of this request's search (its
 * arguments but page, token and feed), as an HTML attribute value. */
void web_feed_href(struct web_req *r, FILE *f);

/*
 * Words for the schema, from cli/lang/<code>.ini through lang_code_name
 * (web_html.c).  web_code_label: a code-list value of ed ("sector",
 * "local_heat_cold_production" -> "Lokal varme- og køleproduktion"), its
 * section ed's name in snake case.  web_field_label: a field of message d
 * for a form or the record page: [field] "<message>.<field>" when the
 * field means something of its own there ("charter.name", "retract.target"),
 * else [field] "<field>", else field itself.  Borrowed from words.
 */
const char *web_code_label(const struct lang *words, const ProtobufCEnumDescriptor *ed,
                           const char *code);
const char *web_field_label(const struct lang *words, const ProtobufCMessageDescriptor *d,
                            const char *field);

/* "<a href=/record/HEX>short</a>" for a record id. */
void web_link_record(FILE *f, const uint8_t id[PROTO_ID_BYTES], const char *text);
/* Every set field of msg as a table (web_record.c): each field by its
 * label and each code by its name in words (web_field_label,
 * web_code_label), values escaped, record ids as links to their records. */
void web_fields_table(FILE *f, const struct lang *words, const ProtobufCMessage *msg);
/* A link to the town page of author key, showing name (or the short key). */
void web_link_town(FILE *f, const uint8_t key[PROTO_KEY_BYTES], const char *name);

#endif
