/*
 * web.c - `agora web`: the local web interface's server.  libmicrohttpd
 * speaks HTTP; this file checks who is asking (Host, the secret token as
 * a cookie, the CSRF token and Origin of every POST), routes the path to a
 * page (web_search.c, web_record.c, ...) and sends the page with headers
 * that keep a hostile record from running anything (a strict
 * Content-Security-Policy, no sniffing, no framing, no referrer to another site).
 *
 * The token works as Jupyter's does: `agora web` prints
 * http://127.0.0.1:PORT/?token=SECRET; opening it sets the cookie
 * agora_token (HttpOnly, SameSite=Strict) and redirects to the same page
 * without the token.  Every page needs the cookie, so another user of the
 * machine can neither read through this process nor sign with its key.
 * The one exception is /atom with ?feed=, a second keyed hash of the secret
 * that opens the Atom feeds only (they read; a feed reader keeps no cookie).
 *
 * Each request speaks one language (?lang=, kept as the agora_lang cookie,
 * else Accept-Language); every language's words are loaded at start.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/home_int.h"
#include "cli/opt_int.h"
#include "cli/lang/lang.h"
#include "cli/markup_int.h"
#include "cli/web/web_int.h"

#define WEB_DEFAULT_PORT 8420

struct web_opts {
	const char *listen;
	const char *port;
	const char *passphrase_file;
	bool read_only;
};

static const struct cli_opt web_opts[] = {
	CLI_STR("--port", "N", "TCP port (default 8420; 0: any free port)", struct web_opts, port),
	CLI_STR("--listen", "ADDR", "address to listen on (default 127.0.0.1; another\n"
	        "address exposes the interface beyond this machine)",
	        struct web_opts, listen),
	CLI_STR("--passphrase-file", "FILE", "the passphrase of an encrypted identity.key",
	        struct web_opts, passphrase_file),
	CLI_FLAG("--read-only", "never sign: no publish, amend or retract forms",
	         struct web_opts, read_only),
	CLI_OPT_END,
};

static const struct cli_command web_cmd = {
	.name = "web",
	.usage = "web [--port N] [--listen ADDR] [--passphrase-file FILE] [--read-only]",
	.about = "Serve a web interface to this node's store until interrupted: search,\n"
	         "records in full, municipalities, the alliance's members and the node's\n"
	         "peers, the summit report, and forms to publish, amend and retract.\n"
	         "It reads the same store as the other commands, whether or not agorad\n"
	         "runs.  It prints its address with a secret token\n"
	         "(http://127.0.0.1:8420/?token=...): open that in a browser.  Every page\n"
	         "needs the token, so other users of this machine cannot use it.\n",
	.groups = { { "options", web_opts, 0 } },
};

/* ------------------------------------------------------------ HTML out */

void web_esc_n(FILE *f, const char *s, size_t n)
{
	cli_markup_esc_n(f, s, n);
}

void web_esc(FILE *f, const char *s)
{
	cli_markup_esc(f, s);
}

void web_csrf_input(struct web_req *r, FILE *f)
{
	fprintf(f, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", r->w->csrf);
}

/* ------------------------------------------------------------ checks */

/* Constant-time comparison of two hex tokens. */
static bool token_eq(const char *a, const char *b)
{
	return a && strlen(a) == WEB_TOKEN_HEX && sodium_memcmp(a, b, WEB_TOKEN_HEX) == 0;
}

static bool host_ok(const struct web *w, const char *host)
{
	if (host && w->any_host)
		return strlen(host) < 80 && !strpbrk(host, "\"<>'\\ ");
	for (size_t i = 0; host && i < w->n_hosts; i++)
		if (!strcasecmp(host, w->hosts[i]))
			return true;
	return false;
}

/*
 * A POST must come from a page of ours: the CSRF token of our forms, and,
 * when the browser says where the request comes from, our own origin.
 */
static const char *post_refusal(struct web_req *r, struct MHD_Connection *c)
{
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
	const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	char want[128];

	/* An upload's CSRF field is checked as it streams in (web_upload_part). */
	if (!r->upload && (!type || strncasecmp(type, "application/x-www-form-urlencoded", 33)))
		return r->tx->err_form_type;
	if (!r->upload && !token_eq(web_form_get(&r->form, "csrf"), r->w->csrf))
		return r->tx->err_csrf;
	snprintf(want, sizeof(want), "http://%s", r->host);
	if (origin && strcasecmp(origin, want))
		return r->tx->err_origin;
	if (site && strcmp(site, "same-origin") && strcmp(site, "none"))
		return r->tx->err_origin;
	return NULL;
}

/* ------------------------------------------------------------ routing */

static void route(struct web_req *r, struct web_resp *p)
{
	const char *path = r->path;

	if (!strcmp(path, "/") && !r->post)
		web_page_search(r, p);
	else if (!strncmp(path, "/record/", 8) && !r->post)
		web_page_record(r, p, path + 8);
	else if (!strncmp(path, "/town/", 6) && !r->post)
		web_page_town(r, p, path + 6);
	else if (!strcmp(path, "/members") && !r->post)
		web_page_members(r, p);
	else if (!strcmp(path, "/report") && !r->post)
		web_page_report(r, p);
	else if (!strcmp(path, "/report/doc") && !r->post)
		web_page_report_doc(r, p);
	else if (!strcmp(path, "/publish"))
		web_page_publish(r, p);
	else if (!strncmp(path, "/amend/", 7))
		web_page_amend(r, p, path + 7);
	else if (!strcmp(path, "/retract") && r->post)
		web_page_retract(r, p);
	else if (!strcmp(path, "/admit"))
		web_page_admit(r, p);
	else if (!strcmp(path, "/invite"))
		web_page_invite(r, p);
	else if (!strcmp(path, "/revoke"))
		web_page_revoke(r, p);
	else if (!strcmp(path, "/atom") && !r->post)
		web_page_atom(r, p);
	else if (!strncmp(path, "/file/", 6) && !r->post)
		web_page_file(r, p, path + 6);
	else if (!strncmp(path, "/attach/", 8) && r->post)
		web_page_attach(r, p, path + 8, r->upload);
	else
		web_page_error(r, p, 404, r->tx->err_not_found);
}

/* ------------------------------------------------------------ MHD glue */

struct conn {
	char *body;
	size_t len;
	bool too_big;
	struct web *w;
	struct web_upload *up;          /* POST /attach/ID with the token: the file */
	struct MHD_PostProcessor *pp;   /* streams the multipart body into up */
};

static enum MHD_Result arg_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value)
{
	(void)kind;
	/* A bad pair is dropped: it can only come from a hand-made URL. */
	web_form_add(cls, key, value ? value : "");
	return MHD_YES;
}

static void add_headers(struct MHD_Response *resp, const struct web_resp *p)
{
	/* The report is one document of its own with its style inline; every
	 * other page takes its style from /style.css.  Neither runs scripts. */
	MHD_add_response_header(resp, "Content-Security-Policy", p->report ?
		"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
		"frame-ancestors 'self'; form-action 'none'; base-uri 'none'" :
		"default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", p->report ? "SAMEORIGIN" : "DENY");
	/* same-origin, not no-referrer: with no-referrer a browser sends "Origin:
	 * null" on our own form posts, and the Origin check would refuse them. */
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Content-Type",
	                        p->type ? p->type : "text/html; charset=utf-8");
}

static enum MHD_Result send_resp(struct MHD_Connection *c, struct web_resp *p,
                                 const char *cookie, const char *cookie2)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (p->f) {
		if (fclose(p->f) != 0) {
			free(p->body);
			p->body = NULL;
			p->len = 0;
		}
		p->f = NULL;
	}
	if (p->fd_size) {           /* a file: libmicrohttpd closes the fd */
		free(p->body);
		p->body = NULL;
		resp = MHD_create_response_from_fd64(p->fd_size, p->fd);
		if (!resp) {
			close(p->fd);
			return MHD_NO;
		}
	} else {
		resp = MHD_create_response_from_buffer(p->len, p->body ? p->body : (void *)"",
		                                       p->body ? MHD_RESPMEM_MUST_FREE :
		                                       MHD_RESPMEM_PERSISTENT);
		if (!resp) {
			free(p->body);
			return MHD_NO;
		}
	}
	p->body = NULL;
	add_headers(resp, p);
	if (p->disposition[0])
		MHD_add_response_header(resp, "Content-Disposition", p->disposition);
	if (p->status == 303 && p->location[0])
		MHD_add_response_header(resp, "Location", p->location);
	if (cookie)
		MHD_add_response_header(resp, "Set-Cookie", cookie);
	if (cookie2)
		MHD_add_response_header(resp, "Set-Cookie", cookie2);
	ret = MHD_queue_response(c, (unsigned)p->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int resp_open(struct web_resp *p)
{
	memset(p, 0, sizeof(*p));
	p->status = 200;
	p->f = open_memstream(&p->body, &p->len);
	return p->f ? 0 : -ENOMEM;
}

/* Speak code (a static code of lang_choose) in this request's pages. */
static void choose_lang(struct web_req *r, const char *code)
{
	size_t i = 0;

	while (r->w->langs[i + 1] && strcmp(lang_id(r->w->langs[i]), code))
		i++;
	if (strcmp(lang_id(r->w->langs[i]), code))
		i = 0;   /* not built in: cannot happen, lang_choose names one */
	r->lang = lang_id(r->w->langs[i]);
	r->tx = &r->w->texts[i];
	r->words = r->w->langs[i];
}

static enum MHD_Result handle(struct web *w, struct MHD_Connection *c, const char *url,
                              const char *method, struct conn *cn)
{
	struct web_req r;
	struct web_resp p;
	char cookie[WEB_TOKEN_HEX + 2], setc[160], setl[64];
	const char *cookies, *tok, *accept, *known;
	bool authed;
	enum MHD_Result ret;

	memset(&r, 0, sizeof(r));
	r.w = w;
	r.path = url;
	r.upload = cn->up;
	r.post = !strcmp(method, "POST");
	r.host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Language");
	choose_lang(&r, lang_choose(NULL, accept));
	web_form_init(&r.args);
	web_form_init(&r.form);
	if (resp_open(&p) < 0)
		return MHD_NO;
	setc[0] = setl[0] = '\0';

	if (strcmp(method, "GET") && strcmp(method, "HEAD") && !r.post) {
		web_page_error(&r, &p, 405, r.tx->err_method);
		goto send;
	}
	/* A name that resolves to 127.0.0.1 must not make this a page of
	 * another site (DNS rebinding): only our own Host is served. */
	if (!host_ok(w, r.host)) {
		r.host = w->hosts[0];
		web_page_error(&r, &p, 403, r.tx->err_host);
		goto send;
	}
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, arg_cb, &r.args);
	/* ?lang= is kept as a cookie, so that the pages it links to speak it too. */
	cookies = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie");
	if ((known = lang_known(web_form_get(&r.args, "lang"))))
		snprintf(setl, sizeof(setl), "agora_lang=%s; Path=/; SameSite=Strict", known);
	else if (web_cookie_get(cookie, sizeof(cookie), cookies, "agora_lang") == 0)
		known = lang_known(cookie);
	choose_lang(&r, lang_choose(known, accept));
	if (cn->too_big) {
		web_page_error(&r, &p, 413, r.tx->err_too_big);
		goto send;
	}
	if (r.post && cn->len && web_form_parse(&r.form, cn->body, cn->len) < 0) {
		web_page_error(&r, &p, 400, r.tx->err_form);
		goto send;
	}
	if (!strcmp(url, "/style.css") && !r.post) {
		fputs(web_css, p.f);
		p.type = "text/css; charset=utf-8";
		goto send;
	}
	authed = web_cookie_get(cookie, sizeof(cookie), cookies, "agora_token") == 0 &&
		token_eq(cookie, w->token);
	if ((tok = web_form_get(&r.args, "token")) && !r.post) {
		if (!token_eq(tok, w->token)) {
			web_page_error(&r, &p, 403, r.tx->err_token);
			goto send;
		}
		/* Keep it as a cookie and take it out of the address bar. */
		snprintf(setc, sizeof(setc), "agora_token=%s; Path=/; HttpOnly; SameSite=Strict",
		         w->token);
		p.status = 303;
		/* Back to the same path, if it is plainly one of ours. */
		snprintf(p.location, sizeof(p.location), "%s",
		         url[0] == '/' && strlen(url) < sizeof(p.location) &&
		         strspn(url, "/abcdefghijklmnopqrstuvwxyz0123456789") == strlen(url) ? url : "/");
		goto send;
	}
	/* A feed reader holds no cookie: the feed token opens the feed alone. */
	if (!authed && !r.post && !strcmp(url, "/atom"))
		authed = token_eq(web_form_get(&r.args, "feed"), w->feed);
	if (!authed) {
		web_page_error(&r, &p, 403, r.tx->err_token);
		goto send;
	}
	if (r.post) {
		const char *why = post_refusal(&r, c);
		if (why) {
			web_page_error(&r, &p, 403, why);
			goto send;
		}
	}
	route(&r, &p);
send:
	ret = send_resp(c, &p, setc[0] ? setc : NULL, setl[0] ? setl : NULL);
	web_form_dispose(&r.args);
	web_form_dispose(&r.form);
	return ret;
}

static enum MHD_Result upload_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *filename, const char *content_type,
                                 const char *transfer_encoding, const char *data, uint64_t off,
                                 size_t size)
{
	struct conn *cn = cls;

	(void)kind;
	(void)content_type;
	(void)transfer_encoding;
	web_upload_part(cn->up, cn->w, key, filename, data, off, size);
	return MHD_YES;
}

/*
 * A POST /attach/ID as multipart/form-data from a browser that holds the
 * token (its cookie) and names our Host: the only request whose body is
 * streamed to disk rather than held (up to WEB_BODY_MAX) in memory.
 */
static bool wants_upload(struct web *w, struct MHD_Connection *c, const char *url,
                         const char *method)
{
	const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	const char *cookies = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie");
	char cookie[WEB_TOKEN_HEX + 2];

	return !strcmp(method, "POST") && !strncmp(url, "/attach/", 8) && type &&
	       !strncasecmp(type, "multipart/form-data", 19) &&
	       host_ok(w, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host")) &&
	       web_cookie_get(cookie, sizeof(cookie), cookies, "agora_token") == 0 &&
	       token_eq(cookie, w->token);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version,
                                 const char *upload, size_t *upload_size, void **con_cls)
{
	struct conn *cn = *con_cls;

	(void)version;
	if (!cn) {
		if (!(cn = calloc(1, sizeof(*cn))))
			return MHD_NO;
		*con_cls = cn;
		cn->w = cls;
		if (wants_upload(cls, c, url, method)) {
			if (web_upload_new(&cn->up, cls) < 0 ||
			    !(cn->pp = MHD_create_post_processor(c, 64 * 1024, upload_cb, cn)))
				return MHD_NO;  /* completed_cb frees what was made */
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (cn->pp) {
			if (MHD_post_process(cn->pp, upload, *upload_size) != MHD_YES)
				return MHD_NO;
		} else if (!cn->too_big && cn->len + *upload_size <= WEB_BODY_MAX) {
			char *nb = realloc(cn->body, cn->len + *upload_size + 1);
			if (!nb)
				return MHD_NO;
			memcpy(nb + cn->len, upload, *upload_size);
			cn->body = nb;
			cn->len += *upload_size;
		} else {
			cn->too_big = true;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return handle(cls, c, url, method, cn);
}

static void completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct conn *cn = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (cn) {
		if (cn->pp)
			MHD_destroy_post_processor(cn->pp);
		web_upload_free(cn->up);
		free(cn->body);
		free(cn);
		*con_cls = NULL;
	}
}

/* ------------------------------------------------------------ start */

static int make_tokens(struct web *w)
{
	uint8_t tok[WEB_TOKEN_BYTES], mac[WEB_TOKEN_BYTES];
	static const char ctx[] = "agora web csrf v1", fctx[] = "agora web feed v1";
	uint8_t fmac[WEB_TOKEN_BYTES];

	randombytes_buf(tok, sizeof(tok));
	/* The CSRF token is derived from the secret, so only a page served to
	 * someone who holds the secret can carry it. */
	if (crypto_generichash(mac, sizeof(mac), (const uint8_t *)ctx, sizeof(ctx) - 1, tok,
	                       sizeof(tok)) != 0)
		return -1;
	/* The feed token likewise: it opens /atom, which only reads. */
	if (crypto_generichash(fmac, sizeof(fmac), (const uint8_t *)fctx, sizeof(fctx) - 1, tok,
	                       sizeof(tok)) != 0)
		return -1;
	proto_hex(w->token, tok, sizeof(tok));
	proto_hex(w->csrf, mac, sizeof(mac));
	proto_hex(w->feed, fmac, sizeof(fmac));
	sodium_memzero(tok, sizeof(tok));
	return 0;
}

static void node_name(struct web *w)
{
	Agora__Profile *prof = NULL;

	if (cli_conf_profile(w->ctx, &prof) == CLI_EXIT_OK) {
		if (prof->name)
			snprintf(w->name, sizeof(w->name), "%s", prof->name);
		agora__profile__free_unpacked(prof, NULL);
	}
}

/* Every built-in language's words, into w->langs and w->texts. */
static int load_langs(struct web *w, struct cli_ctx *ctx)
{
	for (size_t i = 0; lang_code_at(i); i++) {
		int err;
		if (i + 1 >= WEB_LANGS || (err = lang_new(&w->langs[i], lang_code_at(i))) < 0) {
			cli_error(ctx, "web: cannot load the words of language '%s'", lang_code_at(i));
			return CLI_EXIT_ERROR;
		}
		web_text_load(&w->texts[i], w->langs[i]);
	}
	return CLI_EXIT_OK;
}

int cli_cmd_web(struct cli_ctx *ctx, int argc, char **argv)
{
	struct web_opts o = { 0 };
	struct web w;
	struct MHD_Daemon *d = NULL;
	struct sockaddr_storage ss;
	struct store *s;
	struct proto_key *key;
	const union MHD_DaemonInfo *info;
	size_t n_args;
	unsigned long port = WEB_DEFAULT_PORT;
	const char *listen;
	char shown[64];
	sigset_t sigs;
	int rc, sig;

	if ((rc = cli_opt_parse(ctx, &web_cmd, argc, argv, 1, &o, NULL, &n_args)) != CLI_EXIT_OK)
		return cli_opt_status(rc);
	if (o.port) {
		char *end;
		errno = 0;
		port = strtoul(o.port, &end, 10);
		if (errno || *end || end == o.port || port > 65535 || o.port[0] == '-') {
			cli_error(ctx, "web: --port: '%s' is not a port (0 to 65535)", o.port);
			return CLI_EXIT_USAGE;
		}
	}
	listen = o.listen ? o.listen : "127.0.0.1";
	memset(&ss, 0, sizeof(ss));
	{
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
		if (inet_pton(AF_INET, listen, &a4->sin_addr) == 1) {
			a4->sin_family = AF_INET;
			a4->sin_port = htons((uint16_t)port);
		} else if (inet_pton(AF_INET6, listen, &a6->sin6_addr) == 1) {
			a6->sin6_family = AF_INET6;
			a6->sin6_port = htons((uint16_t)port);
		} else {
			cli_error(ctx, "web: --listen: '%s' is not an IP address (e.g. 127.0.0.1 or ::1)",
			          listen);
			return CLI_EXIT_USAGE;
		}
	}

	/* SIGINT and SIGTERM are awaited below (sigwait).  Block them before
	 * any thread starts -- the store's own and the daemon's -- so that every
	 * thread inherits the mask and none is killed by them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	if ((rc = load_langs(&w, ctx)) != CLI_EXIT_OK)
		goto out;
	if ((rc = cli_store(ctx, false, &s)) != CLI_EXIT_OK)
		goto out;
	if (!o.read_only) {
		if ((rc = cli_key(ctx, o.passphrase_file, &key)) != CLI_EXIT_OK)
			goto out;
		store_set_own_key(s, key->pk);
		memcpy(w.pk, key->pk, PROTO_KEY_BYTES);
		w.can_sign = true;
	}
	node_name(&w);
	if (make_tokens(&w) < 0) {
		cli_error(ctx, "web: cannot make a token");
		rc = CLI_EXIT_ERROR;
		goto out;
	}

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	                     (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	                     (uint16_t)port, NULL, NULL, access_cb, &w,
	                     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	                     MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
	                     MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
	                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	                     MHD_OPTION_END);
	if (!d) {
		cli_error(ctx, "web: cannot listen on %s port %lu (in use? try --port)", listen, port);
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	w.port = info ? info->port : (uint16_t)port;
	/* A wildcard address is reached under names we cannot know: any Host
	 * is served (the token guards every page); the URL printed is
	 * loopback's. */
	w.any_host = !strcmp(listen, "0.0.0.0") || !strcmp(listen, "::");
	if (w.any_host)
		snprintf(shown, sizeof(shown), "%s", ss.ss_family == AF_INET6 ? "[::1]" : "127.0.0.1");
	else if (ss.ss_family == AF_INET6)
		snprintf(shown, sizeof(shown), "[%s]", listen);
	else
		snprintf(shown, sizeof(shown), "%s", listen);
	snprintf(w.hosts[w.n_hosts++], sizeof(w.hosts[0]), "%s:%u", shown, w.port);
	snprintf(w.hosts[w.n_hosts++], sizeof(w.hosts[0]), "localhost:%u", w.port);
	if (strcmp(listen, "127.0.0.1"))
		snprintf(w.hosts[w.n_hosts++], sizeof(w.hosts[0]), "127.0.0.1:%u", w.port);
	if (strcmp(listen, "::1"))
		snprintf(w.hosts[w.n_hosts++], sizeof(w.hosts[0]), "[::1]:%u", w.port);

	printf("agora web: open http://%s/?token=%s\n", w.hosts[0], w.token);
	if (!w.can_sign)
		printf("(read-only: nothing can be published from it)\n");
	printf("Stop it with Ctrl-C.\n");
	fflush(stdout);

	while (sigwait(&sigs, &sig) == 0 && sig != SIGINT && sig != SIGTERM)
		;
	MHD_stop_daemon(d);
	rc = CLI_EXIT_OK;
out:
	sodium_memzero(w.token, sizeof(w.token));
	for (size_t i = 0; i < WEB_LANGS; i++)
		lang_free(w.langs[i]);
	return rc;
}
