/*
 * conf_edit.c - agora.conf's one editor, for both agora and agorad (the
 * parser is conf.c).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/conf_int.h"
#include "storage/storage.h"

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

	if (conf_grow((void **)&e->lines, &e->cap, e->n, sizeof(*e->lines)))
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
	return conf_header_name(e->lines[i], strlen(e->lines[i]), nlen);
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

int store_conf_edit_peer_set(struct store_conf_edit *e, const uint8_t key[PROTO_KEY_BYTES],
                             const char *name, const char *value)
{
	size_t h = find_peer(e, key);
	if (h == SIZE_MAX)
		return STORE_E_NOTFOUND;
	if (value && store_conf_check_value(name, value))
		return -EINVAL;
	return section_set(e, h, name, value);
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

