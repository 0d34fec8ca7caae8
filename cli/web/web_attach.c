/*
 * web_attach.c - attachments in `agora web`: a record's files on its page
 * (GET /file/ID/N downloads one, checked against its hash first), and for
 * this node's own measures, results and lessons a form that uploads a file
 * (POST /attach/ID, multipart/form-data) and publishes a new version that
 * lists it, as `agora amend ID --attach FILE` does.
 *
 * An upload is streamed by libmicrohttpd's post processor into a temporary
 * file in the data directory (web.c calls web_upload_*), never held in
 * memory, and refused past [attachments] max-file.  Only a request that
 * carries the token cookie gets a post processor at all, and the file is
 * kept only when the form's CSRF field came before it and matches.
 * Downloads are always sent as "attachment" with the type
 * application/octet-stream: a file from another municipality is never
 * shown inside our pages (an HTML or SVG file could carry script).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/amend_int.h"
#include "cli/attach_int.h"
#include "cli/home_int.h"
#include "cli/json_int.h"
#include "cli/web/web_int.h"

/* ----------------------------------------------------------- uploads */

struct web_upload {
	char path[4096];            /* the temporary file ("" until the file part) */
	int fd;                     /* open on path, or -1 */
	uint64_t size, max;
	char csrf[WEB_TOKEN_HEX + 1];
	size_t csrf_len;
	char name[PROTO_ATTACH_NAME_MAX + 1];   /* the file's base name, as sent */
	bool bad;                   /* a part we do not take, or a write failed */
	bool too_big;
	bool no_csrf;               /* the file came before a matching CSRF field */
	bool files;                 /* more than one file part */
};

int web_upload_new(struct web_upload **out, const struct web *w)
{
	struct web_upload *u = calloc(1, sizeof(*u));
	struct store_conf conf;

	if (!u)
		return -ENOMEM;
	u->fd = -1;
	u->max = STORE_ATTACH_MAX_FILE_DEFAULT;
	/* an agora.conf that does not read is said on agora web's terminal */
	if (cli_conf_load(w->ctx, &conf) == CLI_EXIT_OK) {
		if (conf.attach_max_file)
			u->max = conf.attach_max_file;
		store_conf_dispose(&conf);
	}
	*out = u;
	return 0;
}

void web_upload_free(struct web_upload *u)
{
	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	if (u->path[0])
		unlink(u->path);
	free(u);
}

uint64_t web_upload_limit(const struct web_upload *u)
{
	return u->max;
}

/* The base name of what a browser sends as the file name (some send a path). */
static void base_name(char *out, size_t cap, const char *sent)
{
	const char *b = sent, *s;

	for (s = sent; *s; s++)
		if (*s == '/' || *s == '\\')
			b = s + 1;
	snprintf(out, cap, "%s", b);
}

int web_upload_part(struct web_upload *u, const struct web *w, const char *key,
                    const char *filename, const char *data, uint64_t off, size_t size)
{
	if (!key)
		return 0;
	if (!strcmp(key, "csrf") && !filename) {
		if (u->csrf_len + size > WEB_TOKEN_HEX) {
			u->bad = true;
			return 0;
		}
		memcpy(u->csrf + u->csrf_len, data, size);
		u->csrf_len += size;
		u->csrf[u->csrf_len] = '\0';
		return 0;
	}
	if (strcmp(key, "file") || !filename) {
		u->bad = true;          /* our form has no other field */
		return 0;
	}
	if (off == 0) {
		if (u->path[0]) {
			u->files = true;
			return 0;
		}
		if (u->csrf_len != WEB_TOKEN_HEX || sodium_memcmp(u->csrf, w->csrf, WEB_TOKEN_HEX)) {
			u->no_csrf = true;
			return 0;
		}
		base_name(u->name, sizeof(u->name), filename);
		if ((size_t)snprintf(u->path, sizeof(u->path), "%s/.web-upload-XXXXXX",
		                     w->ctx->home) >= sizeof(u->path) ||
		    (u->fd = mkstemp(u->path)) < 0) {
			u->path[0] = '\0';
			u->bad = true;
			return 0;
		}
	}
	if (u->fd < 0 || u->too_big || u->files)
		return 0;
	if (u->size + size > u->max) {
		u->too_big = true;      /* the rest is read and dropped */
		return 0;
	}
	for (size_t done = 0; done < size;) {
		ssize_t k = write(u->fd, data + done, size - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			u->bad = true;
			return 0;
		}
		done += (size_t)k;
	}
	u->size += size;
	return 0;
}

/* ------------------------------------------------------------- pages */

/* Is this node's copy of a file whole?  0 with *fd (at offset 0, the
 * caller closes it); STORE_E_NOTFOUND, STORE_E_BLOB (damaged), -errno. */
static int blob_checked(int *fd, const char *home, const uint8_t hash[PROTO_HASH_BYTES],
                        uint64_t size)
{
	crypto_generichash_state st;
	uint8_t buf[1 << 16], got[PROTO_HASH_BYTES];
	uint64_t have;
	ssize_t k;
	int f, rc;

	if ((rc = store_blob_open(&f, &have, home, hash)) < 0)
		return rc;
	crypto_generichash_init(&st, NULL, 0, PROTO_HASH_BYTES);
	while ((k = read(f, buf, sizeof(buf))) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc = -errno;
			close(f);
			return rc;
		}
		crypto_generichash_update(&st, buf, (size_t)k);
	}
	crypto_generichash_final(&st, got, sizeof(got));
	if (have != size || sodium_memcmp(got, hash, sizeof(got)) ||
	    lseek(f, 0, SEEK_SET) != 0) {
		close(f);
		return STORE_E_BLOB;
	}
	*fd = f;
	return 0;
}

void web_attach_list(struct web_req *r, FILE *f, const Agora__Record *rec, const char *hex)
{
	const struct web_text *tx = r->tx;
	Agora__Attachment *const *list = NULL;
	int n = proto_record_attachments(&list, rec);

	if (n <= 0)
		return;
	fputs("<h2>", f);
	web_esc(f, tx->h_files);
	fputs("</h2>\n<table class=\"files\" id=\"files\">\n", f);
	for (int i = 0; i < n; i++) {
		const Agora__Attachment *a = list[i];
		char size[32], h[PROTO_HASH_BYTES * 2 + 1];
		bool have = store_blob_stat(NULL, r->w->ctx->home, a->hash.data) == 0;

		cli_attach_size(size, sizeof(size), a->size);
		proto_hex(h, a->hash.data, PROTO_HASH_BYTES);
		fputs("<tr><td>", f);
		if (have) {
			fprintf(f, "<a href=\"/file/%s/%d\" download>", hex, i);
			web_esc(f, a->name);
			fputs("</a>", f);
		} else {
			web_esc(f, a->name);
		}
		fputs("</td><td>", f);
		web_esc(f, size);
		fputs("</td><td>", f);
		web_esc(f, a->media_type);
		fputs("</td><td>", f);
		if (!have)
			web_esc(f, tx->file_not_fetched);
		fprintf(f, "</td><td><code title=\"BLAKE2b-256\">%.12s</code></td></tr>\n", h);
	}
	fputs("</table>\n", f);
}

void web_attach_form(struct web_req *r, FILE *f, const char *hex)
{
	const struct web_text *tx = r->tx;

	fprintf(f, "<form class=\"pub\" method=\"post\" action=\"/attach/%s\" "
	        "enctype=\"multipart/form-data\">", hex);
	web_csrf_input(r, f);
	fputs("<label>", f);
	web_esc(f, tx->attach_label);
	fputs("<input type=\"file\" name=\"file\" id=\"f_file\" required></label><p><button "
	      "type=\"submit\" id=\"attach\">", f);
	web_esc(f, tx->attach_button);
	fputs("</button></p></form>\n", f);
}

/* "ID/N" into the record it names and the attachment number. */
static const char *file_arg(struct web_req *r, const char *arg, struct store_txn *t,
                            Agora__Record **rec, int *index, int *status)
{
	const char *slash = strchr(arg, '/');
	struct store_record sr;
	uint8_t id[PROTO_ID_BYTES];
	char idarg[PROTO_ID_HEX + 1], *end;
	size_t len = slash ? (size_t)(slash - arg) : 0;
	long k;

	*status = 404;
	if (!slash || len < 4 || len > PROTO_ID_HEX)
		return r->tx->err_no_record;
	memcpy(idarg, arg, len);
	idarg[len] = '\0';
	errno = 0;
	k = strtol(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || k < 0 || k >= PROTO_ATTACH_MAX ||
	    strspn(idarg, "0123456789abcdefABCDEF") != len)
		return r->tx->err_no_record;
	if (store_resolve(t, idarg, id) < 0 || store_get(t, id, &sr) < 0 ||
	    proto_envelope_decode(rec, sr.env, sr.env_len, NULL) < 0)
		return r->tx->err_no_record;
	*index = (int)k;
	return NULL;
}

void web_page_file(struct web_req *r, struct web_resp *p, const char *arg)
{
	const struct web_text *tx = r->tx;
	Agora__Attachment *const *list = NULL;
	struct store_txn *t = NULL;
	Agora__Record *rec = NULL;
	const char *why;
	int status, index = 0, n, rc, fd;

	if (store_txn_begin(r->w->ctx->store, &t) < 0) {
		web_page_error(r, p, 500, tx->err_store);
		return;
	}
	if ((why = file_arg(r, arg, t, &rec, &index, &status))) {
		web_page_error(r, p, status, why);
		goto out;
	}
	n = proto_record_attachments(&list, rec);
	if (index >= n) {
		web_page_error(r, p, 404, tx->err_no_file);
		goto out;
	}
	rc = blob_checked(&fd, r->w->ctx->home, list[index]->hash.data, list[index]->size);
	if (rc == STORE_E_NOTFOUND) {
		web_page_error(r, p, 404, tx->file_not_fetched);
		goto out;
	}
	if (rc < 0) {
		web_page_error(r, p, 500, tx->err_file_damaged);
		goto out;
	}
	p->fd = fd;
	p->fd_size = list[index]->size;
	p->type = "application/octet-stream";
	/* RFC 6266: an ASCII fallback name and the UTF-8 one, percent-encoded. */
	{
		FILE *m;
		char *cd = NULL;
		size_t cdl = 0;
		const unsigned char *s = (const unsigned char *)list[index]->name;
		if ((m = open_memstream(&cd, &cdl))) {
			fputs("attachment; filename=\"", m);
			for (const unsigned char *c = s; *c; c++)   /* plain characters only */
				fputc((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
				      (*c >= '0' && *c <= '9') || (*c && strchr(" ._-+()", *c)) ? *c : '_', m);
			fputs("\"; filename*=UTF-8''", m);
			for (const unsigned char *c = s; *c; c++)
				if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
				    (*c >= '0' && *c <= '9') || strchr("-._~", *c))
					fputc(*c, m);
				else
					fprintf(m, "%%%02X", *c);
			if (fclose(m) == 0 && cdl < sizeof(p->disposition))
				memcpy(p->disposition, cd, cdl + 1);
			free(cd);
		}
		if (!p->disposition[0])
			snprintf(p->disposition, sizeof(p->disposition), "attachment");
	}
out:
	store_txn_end(t);
	if (rec)
		agora__record__free_unpacked(rec, NULL);
}

void web_page_attach(struct web_req *r, struct web_resp *p, const char *arg,
                     struct web_upload *u)
{
	const struct web_text *tx = r->tx;
	struct store_txn *t = NULL;
	struct cli_amend a = { 0 };
	Agora__Record *rec = NULL;
	uint8_t hash[PROTO_HASH_BYTES];
	uint64_t size = 0;
	char err[512];
	int rc;

	if (!u || u->bad || u->files || !u->path[0]) {
		if (u && u->no_csrf)
			web_page_error(r, p, 403, tx->err_csrf);
		else
			web_page_error(r, p, 400, tx->err_upload);
		return;
	}
	if (u->too_big) {
		char lim[32];
		cli_attach_size(lim, sizeof(lim), u->max);
		snprintf(err, sizeof(err), "%s (%s)", tx->err_file_too_big, lim);
		web_page_error(r, p, 413, err);
		return;
	}
	if (!u->size) {
		web_page_error(r, p, 400, tx->err_upload);
		return;
	}
	if (!web_own_begin(r, p, arg, true, &t, &a))
		goto out;
	if (a.kind != PROTO_KIND_MEASURE && a.kind != PROTO_KIND_RESULT &&
	    a.kind != PROTO_KIND_LESSON) {
		web_page_error(r, p, 400, tx->err_no_files_here);
		goto out;
	}
	rc = store_blob_add(hash, &size, r->w->ctx->home, u->path, u->max);
	if (rc < 0) {
		web_page_error(r, p, 500, tx->err_store);
		goto out;
	}
	if (cli_attach_push(a.content, a.kind, hash, size, u->name) < 0 ||
	    cli_amend_wrap(&rec, &a) < 0) {
		web_page_error(r, p, 500, tx->err_memory);
		goto out;
	}
	store_txn_end(t);
	t = NULL;
	/* the record's rules (at most 16 files, a valid name) are checked here */
	if (web_sign(r, p, a.alliance, rec, false, err, sizeof(err)) < 0)
		web_page_error(r, p, 400, err);
out:
	store_txn_end(t);
	cli_amend_dispose(&a);
	json_record_free(rec);
}
