/*
 * web_form.c - request input for `agora web`: query strings and form
 * bodies (application/x-www-form-urlencoded) decoded into name/value
 * pairs, and one cookie out of a Cookie header.  libmicrohttpd parses the
 * HTTP; this is only what it hands over, so it is fuzzed
 * (tests/fuzz/fuzz_web_form.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/web/web_int.h"

void web_form_init(struct web_form *f)
{
	memset(f, 0, sizeof(*f));
}

void web_form_dispose(struct web_form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->name[i]);
		free(f->value[i]);
	}
	free(f->name);
	free(f->value);
	memset(f, 0, sizeof(*f));
}

/* Is s[0..len) UTF-8 without NUL, overlong forms or surrogates? */
static bool utf8_ok(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i], need, min, cp;
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			need = 1;
			min = 0x80;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2;
			min = 0x800;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3;
			min = 0x10000;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= need)
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

static int push(struct web_form *f, char *name, char *value)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		char **nn = realloc(f->name, cap * sizeof(*nn)), **nv;
		if (!nn)
			return -ENOMEM;
		f->name = nn;
		if (!(nv = realloc(f->value, cap * sizeof(*nv))))
			return -ENOMEM;
		f->value = nv;
		f->cap = cap;
	}
	f->name[f->n] = name;
	f->value[f->n++] = value;
	return 0;
}

int web_form_add(struct web_form *f, const char *name, const char *value)
{
	size_t ln = strlen(name), lv = strlen(value);
	char *n, *v;
	int rc;

	if (f->n >= WEB_FORM_MAX || ln > WEB_VALUE_MAX || lv > WEB_VALUE_MAX)
		return WEB_FORM_E_LIMIT;
	if (!utf8_ok((const unsigned char *)name, ln) || !utf8_ok((const unsigned char *)value, lv))
		return WEB_FORM_E_UTF8;
	n = strdup(name);
	v = strdup(value);
	if (!n || !v || (rc = push(f, n, v)) < 0) {
		free(n);
		free(v);
		return -ENOMEM;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode s[0..len) ('+' -> ' ', %XX) into a new malloc()ed string. */
static int decode(char **out, const char *s, size_t len)
{
	char *d;
	size_t j = 0;

	if (len > 3 * WEB_VALUE_MAX)
		return WEB_FORM_E_LIMIT;
	if (!(d = malloc(len + 1)))
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+') {
			d[j++] = ' ';
		} else if (s[i] == '%') {
			int hi, lo;
			if (len - i < 3 || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0) {
				free(d);
				return WEB_FORM_E_SYNTAX;
			}
			d[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			d[j++] = s[i];
		}
	}
	d[j] = '\0';
	if (j > WEB_VALUE_MAX) {
		free(d);
		return WEB_FORM_E_LIMIT;
	}
	if (!utf8_ok((const unsigned char *)d, j)) {
		free(d);
		return WEB_FORM_E_UTF8;
	}
	*out = d;
	return 0;
}

int web_form_parse(struct web_form *f, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *amp = memchr(s + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - s) : len;
		const char *eq = memchr(s + i, '=', end - i);
		size_t nend = eq ? (size_t)(eq - s) : end;
		char *name = NULL, *value = NULL;
		int rc;

		if (end > i) {          /* "a=1&&b=2": empty pieces are skipped */
			if (f->n >= WEB_FORM_MAX)
				return WEB_FORM_E_LIMIT;
			if ((rc = decode(&name, s + i, nend - i)) < 0)
				return rc;
			rc = eq ? decode(&value, eq + 1, end - nend - 1) : ((value = strdup("")) ? 0 : -ENOMEM);
			if (rc < 0 || (rc = push(f, name, value)) < 0) {
				free(name);
				free(value);
				return rc;
			}
		}
		i = end + 1;
	}
	return 0;
}

const char *web_form_get(const struct web_form *f, const char *name)
{
	for (size_t i = f->n; i-- > 0;)
		if (!strcmp(f->name[i], name))
			return f->value[i];
	return NULL;
}

const char *web_form_nonempty(const struct web_form *f, const char *name)
{
	const char *v = web_form_get(f, name);
	return v && *v ? v : NULL;
}

int web_cookie_get(char *out, size_t cap, const char *header, const char *name)
{
	size_t nl = strlen(name);
	const char *p = header;

	if (!header || cap == 0)
		return -ENOENT;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > nl && !strncmp(p, name, nl) && p[nl] == '=') {
			size_t vl = len - nl - 1;
			if (vl >= cap)
				return -ENOENT;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			return 0;
		}
		p += len;
	}
	return -ENOENT;
}
