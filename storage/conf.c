/*
 * conf.c - agora.conf: the one parser (through libinih) and the one editor,
 * for both agora and agorad.
 *
 * The file (contrib/agora.conf.example shows every setting):
 *   [node]     name, country, key (this node's public key, written by
 *              `agora init` so that `agora whoami` needs no passphrase),
 *              listen (ADDRESS:PORT), log-level (agorad checks the name)
 *   [profile]  the municipality's profile: any keys, in the order written
 *              (the CLI checks them against the Profile record's fields)
 *   [peer]     repeated, one per partner: key (64 hex digits, required and
 *              unique), address (HOST:PORT, absent for a partner that only
 *              dials in), name
 * A section name not listed is an error (at its first key), as is a second
 * [node] or [profile], a key a section does not have, a key set twice in
 * one section, a bad value, an indented key (libinih would read it as more
 * of the key before), or a line longer than libinih reads whole; every
 * error names file:line.
 * New sections are one line in `sections` below and a handler.
 *
 * libinih does not tell its handler where a section starts, and [peer]
 * repeats, so the line reader below watches the lines go by: it counts them
 * (for the messages) and opens a new section at each header.
 *
 * The editor never substitutes text: it splits the file into lines, finds
 * a section by its header (and a [peer] by the key it holds), and rewrites
 * only that section's key lines, so comments and every other section stay
 * as written.  It refuses a value the parser would read back differently
 * (a line break, an inline ";" comment, spaces at either end, an over-long
 * line), parses what it is about to write, and writes it through
 * store_file_write() with mode 0600.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "storage/storage.h"

#define CONF_FILE_MAX (1u << 20)

enum section { SEC_NONE, SEC_NODE, SEC_PROFILE, SEC_PEER, SEC_UNKNOWN };

static const struct {
	const char *name;
	enum section sec;
	bool repeats;
} sections[] = {
	{ "node", SEC_NODE, false },
	{ "profile", SEC_PROFILE, false },
	{ "peer", SEC_PEER, true },
};

static enum section section_of(const char *name, size_t len, bool *repeats)
{
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strlen(sections[i].name) == len && !memcmp(sections[i].name, name, len)) {
			*repeats = sections[i].repeats;
			return sections[i].sec;
		}
	*repeats = true;
	return SEC_UNKNOWN;
}

/* ---------------------------------------------------------------- values */

int store_conf_hostport(char host[STORE_CONF_HOST_MAX], uint16_t *port, const char *s,
                        bool allow_zero)
{
	const char *colon;
	size_t hl;
	char *end;
	long v;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		hl = (size_t)(close - s - 1);
		s++;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= STORE_CONF_HOST_MAX)
		return -EINVAL;
	/* No blanks, controls or INI comment characters: the host goes into
	 * agora.conf and must read back as written. */
	for (size_t i = 0; i < hl; i++)
		if ((unsigned char)s[i] < 0x21 || s[i] == 0x7f || s[i] == '#' || s[i] == ';' ||
		    s[i] == '[' || s[i] == ']')
			return -EINVAL;
	if (!isdigit((unsigned char)colon[1]))
		return -EINVAL;
	errno = 0;
	v = strtol(colon + 1, &end, 10);
	if (errno || *end || v < (allow_zero ? 0 : 1) || v > 65535)
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	*port = (uint16_t)v;
	return 0;
}

/* --------------------------------------------------------------- parsing */

struct parse {
	struct store_conf *c;
	const char *label;
	const char *text;
	size_t len, pos;
	int line;
	enum section sec;           /* section of the lines being read */
	unsigned seen;              /* keys set in this section (bit per key) */
	unsigned opened;            /* sections seen (bit per enum section) */
	char *err;
	size_t cap;
	bool failed;
};

static void fail(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return;
	p->failed = true;
	if (!p->cap)
		return;
	n = snprintf(p->err, p->cap, "%s:%d: ", p->label, p->line);
	if (n < 0 || (size_t)n >= p->cap)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->cap - (size_t)n, fmt, ap);
	va_end(ap);
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 4;
	void *nv = realloc(*v, nc * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = nc;
	return 0;
}

/* A section header, as libinih reads one: the line starts with '[' (a BOM
 * aside) and the name runs to the first ']'.  NULL if not a header. */
static const char *header_name(const char *line, size_t len, size_t *name_len)
{
	const char *close;

	if (len < 2 || line[0] != '[' || !(close = memchr(line, ']', len)))
		return NULL;
	*name_len = (size_t)(close - line - 1);
	return line + 1;
}

static int open_section(struct parse *p, const char *name, size_t nlen)
{
	struct store_conf *c = p->c;

	bool repeats;

	p->sec = section_of(name, nlen, &repeats);
	p->seen = 0;
	if (!repeats && (p->opened & (1u << p->sec))) {
		fail(p, "a second [%.*s] section: merge it into the first", (int)nlen, name);
		return -EINVAL;
	}
	p->opened |= 1u << p->sec;
	if (p->sec == SEC_PROFILE)
		c->has_profile = true;
	if (p->sec != SEC_PEER)
		return 0;
	if (grow((void **)&c->peers, &c->cap_peers, c->n_peers, sizeof(*c->peers))) {
		fail(p, "out of memory");
		return -ENOMEM;
	}
	memset(&c->peers[c->n_peers], 0, sizeof(*c->peers));
	c->peers[c->n_peers].line = p->line;
	c->n_peers++;
	return 0;
}

static char *reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	size_t i = 0, start = p->pos;

	if (p->failed || p->pos >= p->len || num < 3)
		return NULL;
	p->line++;
	while (p->pos < p->len && i + 1 < (size_t)num) {
		char ch = p->text[p->pos++];
		if (ch == '\0') {
			fail(p, "the line holds a NUL byte");
			return NULL;
		}
		str[i++] = ch;
		if (ch == '\n')
			break;
	}
	str[i] = '\0';
	/* The same limit with or without a newline, so that a last line
	 * without one still reads back once the editor ends it. */
	if (str[i - 1] != '\n' && i + 1 == (size_t)num) {
		fail(p, "the line is longer than %d bytes", num - 2);
		return NULL;
	}
	const char *s = p->text + start;
	size_t n = i - (str[i - 1] == '\n');
	if (p->line == 1 && n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
		s += 3, n -= 3;
	size_t nlen;
	const char *name = header_name(s, n, &nlen);
	if (name) {
		if (open_section(p, name, nlen))
			return NULL;
	} else {
		size_t k = 0;
		while (k < n && isspace((unsigned char)s[k]))
			k++;
		/* libinih reads an indented line after a key as more of that key's
		 * value (even past blank lines), and the editor would not see it
		 * as a key of its own: only comments may be indented. */
		if (k > 0 && k < n && s[k] != '#' && s[k] != ';') {
			fail(p, "the line starts with a blank: write keys and section headers at "
			     "the start of their line");
			return NULL;
		}
	}
	return str;
}

/*
 * The index of key `name` in keys[0..n) of section sec, marked as set; -1
 * (and the error) for a key the section does not have or one set before.
 */
static int key_once(struct parse *p, const char *const *keys, unsigned n, const char *sec,
                    const char *name)
{
	unsigned k;

	for (k = 0; k < n && strcmp(keys[k], name); k++)
		;
	if (k == n) {
		fail(p, "[%s] has no key '%s'", sec, name);
		return -1;
	}
	if (p->seen & (1u << k)) {
		fail(p, "[%s] %s is set twice in one section", sec, name);
		return -1;
	}
	p->seen |= 1u << k;
	return (int)k;
}

/* A 64-digit hex public key into key; an error naming section and key if not. */
static bool hex_key(struct parse *p, uint8_t key[PROTO_KEY_BYTES], const char *sec,
                    const char *value)
{
	if (strlen(value) == PROTO_KEY_BYTES * 2 && !proto_unhex(key, PROTO_KEY_BYTES, value))
		return true;
	fail(p, "[%s] key: '%s' is not a 64-digit hex public key", sec, value);
	return false;
}

static int set_str(struct parse *p, char **dst, const char *value)
{
	char *s = strdup(value);

	if (!s) {
		fail(p, "out of memory");
		return 0;
	}
	free(*dst);
	*dst = s;
	return 1;
}

static int node_entry(struct parse *p, const char *name, const char *value)
{
	static const char *const keys[] = { "name", "country", "key", "listen", "log-level" };
	struct store_conf *c = p->c;

	switch (key_once(p, keys, sizeof(keys) / sizeof(keys[0]), "node", name)) {
	case 0:
		return set_str(p, &c->name, value);
	case 1:
		return set_str(p, &c->country, value);
	case 2:
		if (!hex_key(p, c->key, "node", value))
			return 0;
		c->has_key = true;
		return 1;
	case 3:
		if (store_conf_hostport(c->listen_host, &c->listen_port, value, true)) {
			fail(p, "[node] listen: '%s' is not ADDRESS:PORT", value);
			return 0;
		}
		c->has_listen = true;
		c->listen_line = p->line;
		return 1;
	case 4:
		c->log_level_line = p->line;
		return set_str(p, &c->log_level, value);
	default:
		return 0;   /* key_once said why */
	}
}

static int profile_entry(struct parse *p, const char *name, const char *value)
{
	struct store_conf *c = p->c;
	struct store_conf_value *v;

	if (grow((void **)&c->profile, &c->cap_profile, c->n_profile, sizeof(*c->profile))) {
		fail(p, "out of memory");
		return 0;
	}
	v = &c->profile[c->n_profile];
	v->name = strdup(name);
	v->value = strdup(value);
	v->line = p->line;
	if (!v->name || !v->value) {
		free(v->name);
		free(v->value);
		fail(p, "out of memory");
		return 0;
	}
	c->n_profile++;
	return 1;
}

static int peer_entry(struct parse *p, const char *name, const char *value)
{
	static const char *const keys[] = { "address", "key", "name" };
	struct store_conf *c = p->c;
	struct store_conf_peer *pc = &c->peers[c->n_peers - 1];

	switch (key_once(p, keys, sizeof(keys) / sizeof(keys[0]), "peer", name)) {
	case 0:
		if (store_conf_hostport(pc->host, &pc->port, value, false)) {
			fail(p, "[peer] address: '%s' is not HOST:PORT", value);
			return 0;
		}
		return set_str(p, &pc->address, value);
	case 1:
		if (!hex_key(p, pc->key, "peer", value))
			return 0;
		for (size_t i = 0; i + 1 < c->n_peers; i++)
			if (!memcmp(c->peers[i].key, pc->key, PROTO_KEY_BYTES)) {
				fail(p, "[peer] key: %s is listed twice", value);
				return 0;
			}
		pc->has_key = true;
		return 1;
	case 2:
		/* An empty name is none, as the editor writes it. */
		return *value ? set_str(p, &pc->name, value) : 1;
	default:
		return 0;   /* key_once said why */
	}
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;

	if (p->failed)
		return 0;
	switch (p->sec) {
	case SEC_NODE:
		return node_entry(p, name, value);
	case SEC_PROFILE:
		return profile_entry(p, name, value);
	case SEC_PEER:
		return peer_entry(p, name, value);
	case SEC_NONE:
		fail(p, "'%s' is outside any section: put it under [node]", name);
		return 0;
	default:
		fail(p, "unknown section [%s]", section);
		return 0;
	}
}

void store_conf_dispose(struct store_conf *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->country);
	free(c->log_level);
	for (size_t i = 0; i < c->n_profile; i++) {
		free(c->profile[i].name);
		free(c->profile[i].value);
	}
	free(c->profile);
	for (size_t i = 0; i < c->n_peers; i++) {
		free(c->peers[i].name);
		free(c->peers[i].address);
	}
	free(c->peers);
	memset(c, 0, sizeof(*c));
}

int store_conf_parse(struct store_conf *out, const char *text, size_t len, const char *label,
                     char *err, size_t cap)
{
	struct store_conf c;
	struct parse p = { .c = &c, .label = label, .text = text, .len = len, .err = err,
	                   .cap = cap };
	int rc;

	memset(&c, 0, sizeof(c));
	if (cap)
		err[0] = '\0';
	rc = ini_parse_stream(reader, &p, handler, &p);
	if (rc != 0 && !p.failed) {
		p.line = rc;
		fail(&p, "not a valid INI line");
	}
	for (size_t i = 0; i < c.n_peers && !p.failed; i++) {
		if (!c.peers[i].has_key) {
			p.line = c.peers[i].line;
			fail(&p, "[peer] needs key = <64 hex digits>");
		}
	}
	if (p.failed) {
		store_conf_dispose(&c);
		return STORE_E_CONF;
	}
	*out = c;
	return 0;
}

int store_conf_load(struct store_conf *out, const char *path, char *err, size_t cap)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (cap)
		err[0] = '\0';
	rc = store_file_read(path, CONF_FILE_MAX, &text, &len);
	if (rc == -ENOENT) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	if (rc) {
		if (cap)
			snprintf(err, cap, rc == -EFBIG ? "%s: larger than 1 MiB" : "%s: %s", path,
			         strerror(-rc));
		return rc == -EFBIG ? STORE_E_CONF : rc;
	}
	rc = store_conf_parse(out, text, len, path, err, cap);
	free(text);
	return rc;
}

const struct store_conf_peer *store_conf_peer_find(const struct store_conf *c,
                                                   const uint8_t key[PROTO_KEY_BYTES])
{
	for (size_t i = 0; i < c->n_peers; i++)
		if (!memcmp(c->peers[i].key, key, PROTO_KEY_BYTES))
			return &c->peers[i];
	return NULL;
}

/* ---------------------------------------------------------------- editing */

struct store_conf_edit {
	char *path;
	char **lines;               /* each malloc()ed, without its newline */
	size_t n, cap;
};

/* Comments the editor writes above what it creates. */
static const char file_comment[] =
	"# agora.conf - settings of this agora node (INI; see agora(1) and\n"
	"# agora.conf.example).  `agora init`, `agora peer` and agorad edit it;\n"
	"# comments and the order of sections are kept.";
static const char profile_comment[] =
	"# This municipality's profile, published into every alliance this\n"
	"# node creates or joins.  Keys are the flags of `agora publish profile`.";
static const char node_key_comment[] =
	"# public key of identity.key (for display without the passphrase)";

void store_conf_edit_free(struct store_conf_edit *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		free(e->lines[i]);
	free(e->lines);
	free(e->path);
	free(e);
}

static int insert_line(struct store_conf_edit *e, size_t at, const char *text, size_t len)
{
	char *s;

	if (grow((void **)&e->lines, &e->cap, e->n, sizeof(*e->lines)))
		return -ENOMEM;
	if (!(s = malloc(len + 1)))
		return -ENOMEM;
	memcpy(s, text, len);
	s[len] = '\0';
	memmove(&e->lines[at + 1], &e->lines[at], (e->n - at) * sizeof(*e->lines));
	e->lines[at] = s;
	e->n++;
	return 0;
}

/* Insert every line of a multi-line text at `at`; the lines inserted. */
static int insert_text(struct store_conf_edit *e, size_t at, const char *text, size_t *count)
{
	size_t k = 0;

	for (const char *s = text;; k++) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		int rc = insert_line(e, at + k, s, len);
		if (rc)
			return rc;
		if (!nl)
			break;
		s = nl + 1;
	}
	if (count)
		*count = k + 1;
	return 0;
}

static void remove_lines(struct store_conf_edit *e, size_t at, size_t count)
{
	for (size_t i = at; i < at + count; i++)
		free(e->lines[i]);
	memmove(&e->lines[at], &e->lines[at + count], (e->n - at - count) * sizeof(*e->lines));
	e->n -= count;
}

static bool is_blank_or_comment(const char *l)
{
	while (isspace((unsigned char)*l))
		l++;
	return !*l || *l == '#' || *l == ';';
}

/* Section name of line i if it is a header. */
static const char *line_header(const struct store_conf_edit *e, size_t i, size_t *nlen)
{
	return header_name(e->lines[i], strlen(e->lines[i]), nlen);
}

static bool header_is(const struct store_conf_edit *e, size_t i, const char *name)
{
	size_t nlen;
	const char *h = line_header(e, i, &nlen);

	return h && nlen == strlen(name) && !memcmp(h, name, nlen);
}

/* Where section at header h ends: the next header, or the end. */
static size_t section_end(const struct store_conf_edit *e, size_t h)
{
	size_t nlen, i;

	for (i = h + 1; i < e->n && !line_header(e, i, &nlen); i++)
		;
	return i;
}

/* Just after the section's last key line (or its header): where a new key
 * goes, before the blank lines and comments that lead to the next one. */
static size_t section_body_end(const struct store_conf_edit *e, size_t h)
{
	size_t end = section_end(e, h), last = h;

	for (size_t i = h + 1; i < end; i++)
		if (!is_blank_or_comment(e->lines[i]))
			last = i;
	return last + 1;
}

/* Is line l the key line of `key` ("key = v" or "key: v", as libinih reads)? */
static bool line_is_key(const char *l, const char *key)
{
	size_t n;

	if (is_blank_or_comment(l) || isspace((unsigned char)*l))
		return false;
	n = strcspn(l, "=:");
	if (!l[n])
		return false;
	while (n && isspace((unsigned char)l[n - 1]))
		n--;
	return n == strlen(key) && !memcmp(l, key, n);
}

/* The value on key line l, trimmed, into buf. */
static void line_value(const char *l, char *buf, size_t cap)
{
	const char *v = l + strcspn(l, "=:");
	size_t n;

	if (*v)
		v++;
	while (isspace((unsigned char)*v))
		v++;
	n = strlen(v);
	while (n && isspace((unsigned char)v[n - 1]))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, v, n);
	buf[n] = '\0';
}

static bool section_has(const struct store_conf_edit *e, size_t h, const char *key)
{
	size_t end = section_end(e, h);

	for (size_t i = h + 1; i < end; i++)
		if (line_is_key(e->lines[i], key))
			return true;
	return false;
}

static size_t find_section(const struct store_conf_edit *e, const char *name)
{
	for (size_t i = 0; i < e->n; i++)
		if (header_is(e, i, name))
			return i;
	return SIZE_MAX;
}

int store_conf_check_value(const char *key, const char *value)
{
	size_t n = strlen(value);

	if (!*key || strlen(key) + 3 + n > STORE_CONF_LINE_MAX)
		return -EINVAL;
	for (const char *s = key; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return -EINVAL;
	/* "key = ;x" reads back as "": the blank the editor writes after '='
	 * makes the ';' start a comment. */
	if (n && (isspace((unsigned char)value[0]) || isspace((unsigned char)value[n - 1]) ||
	          value[0] == ';'))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)value[i];
		if (ch < 0x20 || ch == 0x7f)
			return -EINVAL;
		/* libinih ends a value at " ;" (an inline comment). */
		if (ch == ';' && i && isspace((unsigned char)value[i - 1]))
			return -EINVAL;
	}
	return 0;
}

/* "key = value" as one line. */
static int key_line(char **out, const char *key, const char *value)
{
	size_t n = strlen(key) + strlen(value) + 4;
	char *s;

	if (store_conf_check_value(key, value))
		return -EINVAL;
	if (!(s = malloc(n)))
		return -ENOMEM;
	snprintf(s, n, "%s = %s", key, value);
	*out = s;
	return 0;
}

/*
 * In the section at header h: set key to value (replacing its line where
 * it is, else adding a line after the section's last key), or remove the
 * key's lines when value is NULL.
 */
static int section_set(struct store_conf_edit *e, size_t h, const char *key, const char *value)
{
	size_t first = SIZE_MAX;
	char *line = NULL;
	int rc;

	if (value && (rc = key_line(&line, key, value)))
		return rc;
	for (size_t i = h + 1; i < section_end(e, h);) {
		if (!line_is_key(e->lines[i], key)) {
			i++;
		} else if (first == SIZE_MAX && value) {
			first = i++;
		} else {
			remove_lines(e, i, 1);     /* a second one, or an unset */
		}
	}
	if (!value)
		return 0;
	if (first != SIZE_MAX) {
		free(e->lines[first]);
		e->lines[first] = line;
		return 0;
	}
	rc = insert_line(e, section_body_end(e, h), line, strlen(line));
	free(line);
	return rc;
}

/* Add "[name]" (after a blank line and comment) at `at`; its header line. */
static int section_add(struct store_conf_edit *e, size_t at, const char *name,
                       const char *comment, size_t *header)
{
	char hdr[64];
	size_t k = 0, c = 0;
	int rc;

	snprintf(hdr, sizeof(hdr), "[%s]", name);
	if (at > 0 && e->lines[at - 1][0] && (rc = insert_line(e, at + k++, "", 0)))
		return rc;
	if (comment && (rc = insert_text(e, at + k, comment, &c)))
		return rc;
	k += c;
	if ((rc = insert_line(e, at + k, hdr, strlen(hdr))))
		return rc;
	*header = at + k;
	/* Keep a blank line between it and a section that follows. */
	if (at + k + 1 < e->n && e->lines[at + k + 1][0])
		return insert_line(e, at + k + 1, "", 0);
	return 0;
}

int store_conf_edit_new(struct store_conf_edit **out, const char *path, const char *text,
                        size_t len, char *err, size_t cap)
{
	struct store_conf_edit *e = calloc(1, sizeof(*e));
	struct store_conf parsed;
	int rc;

	if (cap)
		err[0] = '\0';
	if (!e || !(e->path = strdup(path))) {
		rc = -ENOMEM;
		goto fail;
	}
	if (!text) {
		if ((rc = insert_text(e, 0, file_comment, NULL)))
			goto fail;
		*out = e;
		return 0;
	}
	/* Only a file that parses is edited: a change never hides an error. */
	if ((rc = store_conf_parse(&parsed, text, len, path, err, cap)))
		goto fail;
	store_conf_dispose(&parsed);
	/* A byte-order mark is dropped: a section put first would otherwise
	 * push it off the start of the file, where it means nothing. */
	size_t pos = len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) ? 3 : 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;
		if ((rc = insert_line(e, e->n, text + pos, l)))
			goto fail;
		pos += l + 1;
	}
	*out = e;
	return 0;
fail:
	if (rc == -ENOMEM && cap)
		snprintf(err, cap, "out of memory");
	store_conf_edit_free(e);
	return rc;
}

int store_conf_edit_open(struct store_conf_edit **out, const char *path, char *err, size_t cap)
{
	char *text = NULL;
	size_t len = 0;
	int rc = store_file_read(path, CONF_FILE_MAX, &text, &len);

	if (rc == -ENOENT)
		return store_conf_edit_new(out, path, NULL, 0, err, cap);
	if (rc) {
		if (cap)
			snprintf(err, cap, "%s: %s", path, rc == -EFBIG ? "larger than 1 MiB"
			                                                : strerror(-rc));
		return rc;
	}
	rc = store_conf_edit_new(out, path, text, len, err, cap);
	free(text);
	return rc;
}

int store_conf_edit_node_set(struct store_conf_edit *e, const char *key, const char *value)
{
	size_t h = find_section(e, "node");
	int rc;

	if (value && store_conf_check_value(key, value))
		return -EINVAL;
	if (h == SIZE_MAX) {
		if (!value)
			return 0;
		/* [node] first: before the first section, after the file's
		 * opening comment. */
		size_t at = 0, nlen;
		while (at < e->n && !line_header(e, at, &nlen))
			at++;
		while (at > 0 && !e->lines[at - 1][0])
			at--;
		if ((rc = section_add(e, at, "node", NULL, &h)))
			return rc;
	}
	if (value && !strcmp(key, "key") && !section_has(e, h, key)) {
		/* A new key line comes with the comment that says what it is. */
		size_t c, at = section_body_end(e, h);
		char *line;
		if ((rc = key_line(&line, key, value)))
			return rc;
		if ((rc = insert_text(e, at, node_key_comment, &c)) == 0)
			rc = insert_line(e, at + c, line, strlen(line));
		free(line);
		return rc;
	}
	return section_set(e, h, key, value);
}

int store_conf_edit_profile_set(struct store_conf_edit *e, const struct store_conf_value *v,
                                size_t n)
{
	size_t h = find_section(e, "profile"), at;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (store_conf_check_value(v[i].name, v[i].value))
			return -EINVAL;
	if (h == SIZE_MAX && (rc = section_add(e, e->n, "profile", profile_comment, &h)))
		return rc;
	/* The whole section's keys are rewritten; its comments stay. */
	for (size_t i = section_end(e, h); i-- > h + 1;)
		if (!is_blank_or_comment(e->lines[i]))
			remove_lines(e, i, 1);
	at = section_body_end(e, h);
	for (size_t i = 0; i < n; i++) {
		char *line;
		if ((rc = key_line(&line, v[i].name, v[i].value)))
			return rc;
		rc = insert_line(e, at + i, line, strlen(line));
		free(line);
		if (rc)
			return rc;
	}
	return 0;
}

/* Header of the [peer] section holding key, or SIZE_MAX. */
static size_t find_peer(const struct store_conf_edit *e, const uint8_t key[PROTO_KEY_BYTES])
{
	for (size_t h = 0; h < e->n; h++) {
		if (!header_is(e, h, "peer"))
			continue;
		size_t end = section_end(e, h);
		for (size_t i = h + 1; i < end; i++) {
			char val[PROTO_KEY_BYTES * 2 + 2];
			uint8_t k[PROTO_KEY_BYTES];
			if (!line_is_key(e->lines[i], "key"))
				continue;
			line_value(e->lines[i], val, sizeof(val));
			if (strlen(val) == PROTO_KEY_BYTES * 2 && !proto_unhex(k, sizeof(k), val) &&
			    !memcmp(k, key, PROTO_KEY_BYTES))
				return h;
		}
	}
	return SIZE_MAX;
}

int store_conf_edit_peer_put(struct store_conf_edit *e, const uint8_t key[PROTO_KEY_BYTES],
                             const char *address, const char *name, bool *replaced)
{
	char hex[PROTO_KEY_BYTES * 2 + 1], host[STORE_CONF_HOST_MAX];
	uint16_t port;
	size_t h = find_peer(e, key);
	bool found = h != SIZE_MAX;
	int rc;

	if (address && *address && (store_conf_hostport(host, &port, address, false) ||
	                            store_conf_check_value("address", address)))
		return -EINVAL;
	if (name && *name && store_conf_check_value("name", name))
		return -EINVAL;
	proto_hex(hex, key, PROTO_KEY_BYTES);
	if (!found && (rc = section_add(e, e->n, "peer", NULL, &h)))
		return rc;
	if ((rc = section_set(e, h, "address", address && *address ? address : NULL)) ||
	    (rc = section_set(e, h, "key", hex)) ||
	    (rc = section_set(e, h, "name", name && *name ? name : NULL)))
		return rc;
	if (replaced)
		*replaced = found;
	return 0;
}

int store_conf_edit_peer_remove(struct store_conf_edit *e, const uint8_t key[PROTO_KEY_BYTES])
{
	size_t h = find_peer(e, key), end;

	if (h == SIZE_MAX)
		return STORE_E_NOTFOUND;
	/* The header through its last key line; what follows (blank lines,
	 * the next section's comment) stays. */
	end = section_body_end(e, h);
	remove_lines(e, h, end - h);
	if (h > 0 && !e->lines[h - 1][0] && (h == e->n || !e->lines[h][0]))
		remove_lines(e, h - 1, 1);
	return 0;
}

int store_conf_edit_text(const struct store_conf_edit *e, char **out, size_t *out_len)
{
	size_t len = 0, pos = 0;
	char *s;

	for (size_t i = 0; i < e->n; i++)
		len += strlen(e->lines[i]) + 1;
	if (!(s = malloc(len + 1)))
		return -ENOMEM;
	for (size_t i = 0; i < e->n; i++) {
		size_t l = strlen(e->lines[i]);
		memcpy(s + pos, e->lines[i], l);
		pos += l;
		s[pos++] = '\n';
	}
	s[pos] = '\0';
	*out = s;
	*out_len = pos;
	return 0;
}

int store_conf_edit_save(struct store_conf_edit *e, unsigned flags, char *err, size_t cap)
{
	struct store_conf parsed;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (cap)
		err[0] = '\0';
	if ((rc = store_conf_edit_text(e, &text, &len))) {
		if (cap)
			snprintf(err, cap, "out of memory");
		return rc;
	}
	/* What the editor wrote must read back: never leave a file agorad
	 * would refuse. */
	if ((rc = store_conf_parse(&parsed, text, len, e->path, err, cap)) == 0) {
		store_conf_dispose(&parsed);
		rc = store_file_write(e->path, text, len, 0600, flags);
		if (rc && cap)
			snprintf(err, cap, "cannot write %s: %s", e->path, strerror(-rc));
	}
	free(text);
	return rc;
}
