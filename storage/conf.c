/*
 * conf.c - agora.conf: the one parser (through libinih), for both agora and
 * agorad; conf_edit.c is the one editor.
 *
 * The file (contrib/agora.conf.example shows every setting):
 *   [node]     name, country, key (this node's public key, written by
 *              `agora init` so that `agora whoami` needs no passphrase),
 *              listen (ADDRESS:PORT), log-level (agorad checks the name),
 *              public-address (where partners reach this node: HOST:PORT,
 *              comma-separated, or "none"; store_conf_addresses),
 *              connections (2..64: the members agorad keeps sessions with)
 *   [profile]  the municipality's profile: any keys, in the order written
 *              (the CLI checks them against the Profile record's fields)
 *   [peer]     repeated, one per partner: key (64 hex digits, required and
 *              unique), address (HOST:PORT, absent for a partner that only
 *              dials in), name, bootstrap (yes: the coordinator an invite
 *              named, dialled only while the node reaches no other member)
 *   [hook]     repeated: command (required; split into words by agorad,
 *              never given to a shell), filter (the options of `agora
 *              watch`, e.g. "--kind measure"), timeout (seconds, 1..3600)
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
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "storage/conf_int.h"
#include "storage/storage.h"

enum section { SEC_NONE, SEC_NODE, SEC_PROFILE, SEC_PEER, SEC_HOOK, SEC_ATTACH, SEC_UNKNOWN };

static const struct {
	const char *name;
	enum section sec;
	bool repeats;
} sections[] = {
	{ "node", SEC_NODE, false },
	{ "profile", SEC_PROFILE, false },
	{ "peer", SEC_PEER, true },
	{ "hook", SEC_HOOK, true },
	{ "attachments", SEC_ATTACH, false },
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
	if (p->sec == SEC_HOOK) {
		if (conf_grow((void **)&c->hooks, &c->cap_hooks, c->n_hooks, sizeof(*c->hooks))) {
			fail(p, "out of memory");
			return -ENOMEM;
		}
		memset(&c->hooks[c->n_hooks], 0, sizeof(*c->hooks));
		c->hooks[c->n_hooks].line = p->line;
		c->n_hooks++;
		return 0;
	}
	if (p->sec != SEC_PEER)
		return 0;
	if (conf_grow((void **)&c->peers, &c->cap_peers, c->n_peers, sizeof(*c->peers))) {
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
	const char *name = conf_header_name(s, n, &nlen);
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

int store_conf_addresses(char out[][PROTO_ADDRESS_MAX + 1], size_t *n, bool *none,
                         const char *value, const char **why)
{
	char a[PROTO_ENDPOINT_MAX][PROTO_ADDRESS_MAX + 1];
	size_t k = 0;
	const char *p = value, *w = NULL;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!strcmp(p, "none")) {
		*n = 0;
		*none = true;
		return 0;
	}
	for (;;) {
		size_t len = strcspn(p, ", \t");
		if (!len) {
			w = "is empty (write HOST:PORT, several separated by commas, or none)";
			break;
		}
		if (k == PROTO_ENDPOINT_MAX) {
			w = "holds more than 8 addresses";
			break;
		}
		if (len > PROTO_ADDRESS_MAX) {
			w = "holds an address that is too long";
			break;
		}
		memcpy(a[k], p, len);
		a[k][len] = '\0';
		if (proto_address_parse(NULL, 0, NULL, a[k], &w))
			break;
		k++;
		p += len;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (*p != ',') {
			w = "separate addresses with commas";
			break;
		}
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	if (w) {
		if (why)
			*why = w;
		return -EINVAL;
	}
	memcpy(out, a, sizeof a[0] * k);
	*n = k;
	*none = false;
	return 0;
}

static int node_entry(struct parse *p, const char *name, const char *value)
{
	static const char *const keys[] = { "name", "country", "key", "listen", "log-level",
	                                    "public-address", "connections" };
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
	case 5: {
		char a[PROTO_ENDPOINT_MAX][PROTO_ADDRESS_MAX + 1];
		size_t n;
		bool none;
		const char *why = "";
		if (store_conf_addresses(a, &n, &none, value, &why)) {
			fail(p, "[node] public-address: '%s' %s", value, why);
			return 0;
		}
		c->public_address_line = p->line;
		return set_str(p, &c->public_address, value);
	}
	case 6: {
		char *end;
		unsigned long v = strtoul(value, &end, 10);
		if (!isdigit((unsigned char)value[0]) || *end || v < 2 || v > 64) {
			fail(p, "[node] connections: '%s' is not a number from 2 to 64", value);
			return 0;
		}
		c->connections = (unsigned)v;
		return 1;
	}
	default:
		return 0;   /* key_once said why */
	}
}

static int profile_entry(struct parse *p, const char *name, const char *value)
{
	struct store_conf *c = p->c;
	struct store_conf_value *v;

	if (conf_grow((void **)&c->profile, &c->cap_profile, c->n_profile, sizeof(*c->profile))) {
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
	static const char *const keys[] = { "address", "key", "name", "bootstrap" };
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
	case 3:
		if (strcmp(value, "yes") && strcmp(value, "no")) {
			fail(p, "[peer] bootstrap: '%s' is not yes or no", value);
			return 0;
		}
		pc->bootstrap = !strcmp(value, "yes");
		return 1;
	default:
		return 0;   /* key_once said why */
	}
}

static int hook_entry(struct parse *p, const char *name, const char *value)
{
	static const char *const keys[] = { "command", "filter", "timeout" };
	struct store_conf *c = p->c;
	struct store_conf_hook *h = &c->hooks[c->n_hooks - 1];
	char *end;
	unsigned long v;

	switch (key_once(p, keys, sizeof(keys) / sizeof(keys[0]), "hook", name)) {
	case 0:
		return set_str(p, &h->command, value);
	case 1:
		return set_str(p, &h->filter, value);
	case 2:
		errno = 0;
		v = strtoul(value, &end, 10);
		if (errno || end == value || *end || !isdigit((unsigned char)value[0]) || v < 1 ||
		    v > 3600) {
			fail(p, "[hook] timeout: '%s' is not a number of seconds from 1 to 3600",
			     value);
			return 0;
		}
		h->timeout_s = (unsigned)v;
		return 1;
	default:
		return 0;
	}
}

/* A size: digits, optionally followed by K, M or G (powers of 1024). */
static bool parse_size(uint64_t *out, const char *value)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!isdigit((unsigned char)value[0]))
		return false;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno)
		return false;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end || v > (UINT64_MAX >> 34))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

static int attach_entry(struct parse *p, const char *name, const char *value)
{
	static const char *const keys[] = { "max-file", "quota" };
	struct store_conf *c = p->c;
	uint64_t v;

	switch (key_once(p, keys, sizeof(keys) / sizeof(keys[0]), "attachments", name)) {
	case 0:
		if (!parse_size(&v, value) || v < 1 || v > PROTO_ATTACH_SIZE_MAX) {
			fail(p, "[attachments] max-file: '%s' is not a size from 1 to 1G "
			     "(e.g. 256M)", value);
			return 0;
		}
		c->attach_max_file = v;
		return 1;
	case 1:
		if (!parse_size(&v, value) || v < 1) {
			fail(p, "[attachments] quota: '%s' is not a size (e.g. 10G)", value);
			return 0;
		}
		c->attach_quota = v;
		return 1;
	default:
		return 0;
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
	case SEC_HOOK:
		return hook_entry(p, name, value);
	case SEC_ATTACH:
		return attach_entry(p, name, value);
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
	free(c->public_address);
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
	for (size_t i = 0; i < c->n_hooks; i++) {
		free(c->hooks[i].command);
		free(c->hooks[i].filter);
	}
	free(c->hooks);
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
	for (size_t i = 0; i < c.n_hooks && !p.failed; i++) {
		if (!c.hooks[i].command || !c.hooks[i].command[0]) {
			p.line = c.hooks[i].line;
			fail(&p, "[hook] needs command = PROGRAM [ARGUMENTS]");
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


int conf_grow(void **v, size_t *cap, size_t n, size_t size)
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
const char *conf_header_name(const char *line, size_t len, size_t *name_len)
{
	const char *close;

	if (len < 2 || line[0] != '[' || !(close = memchr(line, ']', len)))
		return NULL;
	*name_len = (size_t)(close - line - 1);
	return line + 1;
}
