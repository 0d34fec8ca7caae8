/*
 * lang.c - the embedded language files (cli/lang/<code>.ini, through
 * libinih), Accept-Language, and numbers and dates in each language's own
 * form.  No system locale is consulted: what a language writes is in its
 * file, so a report looks the same on every machine.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ini.h>

#include "cli/lang/lang.h"

struct lang_file {
	const char *code;
	const char *text;           /* the whole .ini, NUL terminated */
};

#include "lang_data.h"

#define LANG_N (sizeof(lang_files) / sizeof(lang_files[0]))

struct lang_entry {
	char *key;                  /* "section.name", owned */
	char *value;                /* owned */
};

struct lang_table {
	struct lang_entry *v;       /* sorted by key after parsing */
	size_t n, cap;
	char *last_key;             /* parsing only: the key a continuation line extends */
	int error;                  /* parsing only: first error */
};

struct lang {
	const char *code;           /* static, from lang_files */
	struct lang_table own;
	struct lang_table en;       /* empty when the language is English */
};

size_t lang_count(void)
{
	return LANG_N;
}

const char *lang_code_at(size_t i)
{
	return i < LANG_N ? lang_files[i].code : NULL;
}

const char *lang_known(const char *code)
{
	size_t len;

	if (!code)
		return NULL;
	/* "da", "DA", "da-DK", "da_DK": the primary subtag decides. */
	len = strcspn(code, "-_");
	for (size_t i = 0; i < LANG_N; i++)
		if (strlen(lang_files[i].code) == len && !strncasecmp(code, lang_files[i].code, len))
			return lang_files[i].code;
	return NULL;
}

/* q of one Accept-Language item's parameters (";q=0.8"), 1 when absent,
 * -1 when malformed. */
static double accept_q(const char *p, const char *end)
{
	while (p < end) {
		while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
			p++;
		if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
			char buf[16];
			size_t n = 0;
			char *e;
			double q;
			for (p += 2; p < end && *p != ';' && n + 1 < sizeof(buf); p++)
				if (*p != ' ' && *p != '\t')
					buf[n++] = *p;
			buf[n] = '\0';
			q = strtod(buf, &e);
			if (e == buf || *e || !(q >= 0 && q <= 1))
				return -1;
			return q;
		}
		while (p < end && *p != ';')
			p++;
	}
	return 1;
}

const char *lang_from_accept(const char *header)
{
	const char *best = NULL;
	double best_q = 0;

	for (const char *p = header; p && *p;) {
		const char *item = p, *end = strchr(p, ',');
		char tag[36];
		size_t tlen = 0;
		const char *code;
		double q;

		if (!end)
			end = p + strlen(p);
		p = *end ? end + 1 : end;
		while (item < end && (*item == ' ' || *item == '\t'))
			item++;
		while (item + tlen < end && item[tlen] != ';' && item[tlen] != ' ' && tlen + 1 < sizeof(tag))
			tlen++;
		memcpy(tag, item, tlen);
		tag[tlen] = '\0';
		q = accept_q(item + tlen, end);
		if (q <= 0)
			continue;       /* q=0 ("not this one") or malformed */
		code = !strcmp(tag, "*") ? LANG_DEFAULT : lang_known(tag);
		if (code && q > best_q) {
			best = code;
			best_q = q;
		}
	}
	return best ? best : LANG_DEFAULT;
}

const char *lang_choose(const char *option, const char *header)
{
	const char *code = lang_known(option);

	return code ? code : lang_from_accept(header);
}

/* ------------------------------------------------------------- parsing */

static void table_dispose(struct lang_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].key);
		free(t->v[i].value);
	}
	free(t->v);
	free(t->last_key);
	memset(t, 0, sizeof(*t));
}

static struct lang_entry *table_find(const struct lang_table *t, const char *key)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(key, t->v[mid].key);
		if (!c)
			return &t->v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* A value in double quotes keeps its quotes' content exactly (leading or
 * trailing spaces, a no-break space); otherwise it is as libinih trimmed it. */
static char *unquote(const char *v)
{
	size_t len = strlen(v);

	if (len >= 2 && v[0] == '"' && v[len - 1] == '"')
		return strndup(v + 1, len - 2);
	return strdup(v);
}

static int on_item(void *user, const char *section, const char *name, const char *value)
{
	struct lang_table *t = user;
	size_t klen = strlen(section) + 1 + strlen(name) + 1;
	char *key = malloc(klen), *val;

	if (!key) {
		t->error = -ENOMEM;
		return 0;
	}
	snprintf(key, klen, "%s.%s", section, name);
	if (!*section || !*name) {
		free(key);
		t->error = -EINVAL;
		return 0;
	}
	/* libinih hands an indented continuation line to the handler under the
	 * key before it: a long text may span lines, joined with a space. */
	if (t->last_key && !strcmp(t->last_key, key)) {
		struct lang_entry *e = &t->v[t->n - 1];
		size_t a = strlen(e->value), b = strlen(value);
		char *joined = realloc(e->value, a + 1 + b + 1);
		free(key);
		if (!joined) {
			t->error = -ENOMEM;
			return 0;
		}
		joined[a] = ' ';
		memcpy(joined + a + 1, value, b + 1);
		e->value = joined;
		return 1;
	}
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].key, key)) {   /* a key given twice is a mistake */
			free(key);
			t->error = -EINVAL;
			return 0;
		}
	if (!(val = unquote(value))) {
		free(key);
		t->error = -ENOMEM;
		return 0;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		void *v = realloc(t->v, cap * sizeof(*t->v));
		if (!v) {
			free(key);
			free(val);
			t->error = -ENOMEM;
			return 0;
		}
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n].key = key;
	t->v[t->n].value = val;
	t->n++;
	free(t->last_key);
	t->last_key = strdup(key);
	if (!t->last_key) {
		t->error = -ENOMEM;
		return 0;
	}
	return 1;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lang_entry *)a)->key, ((const struct lang_entry *)b)->key);
}

static int table_parse(struct lang_table *t, const char *text)
{
	int rc = ini_parse_string(text, on_item, t);

	free(t->last_key);
	t->last_key = NULL;
	if (t->error < 0 || rc != 0) {
		int e = t->error < 0 ? t->error : -EINVAL;
		table_dispose(t);
		return e;
	}
	qsort(t->v, t->n, sizeof(*t->v), entry_cmp);
	return 0;
}

int lang_new(struct lang **out, const char *code)
{
	const char *known = lang_known(code);
	struct lang *l;
	int rc;

	if (!known)
		return -ENOENT;
	if (!(l = calloc(1, sizeof(*l))))
		return -ENOMEM;
	l->code = known;
	for (size_t i = 0; i < LANG_N; i++) {
		if (lang_files[i].code == known && (rc = table_parse(&l->own, lang_files[i].text)) < 0)
			goto fail;
		if (i == 0 && known != lang_files[0].code &&
		    (rc = table_parse(&l->en, lang_files[0].text)) < 0)
			goto fail;
	}
	*out = l;
	return 0;
fail:
	lang_free(l);
	return rc;
}

void lang_free(struct lang *l)
{
	if (!l)
		return;
	table_dispose(&l->own);
	table_dispose(&l->en);
	free(l);
}

const char *lang_id(const struct lang *l)
{
	return l->code;
}

const char *lang_own(const struct lang *l, const char *key)
{
	const struct lang_entry *e = table_find(&l->own, key);

	return e ? e->value : NULL;
}

const char *lang_text(const struct lang *l, const char *key)
{
	const struct lang_entry *e = table_find(&l->own, key);

	if (!e)
		e = table_find(&l->en, key);
	return e ? e->value : key;
}

bool lang_same_as_english(const struct lang *l, const char *key)
{
	size_t len = strlen(key) + sizeof("same.");
	char buf[256];

	if (len > sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "same.%s", key);
	return table_find(&l->own, buf) != NULL;
}

size_t lang_key_count(const struct lang *l)
{
	return l->own.n;
}

const char *lang_key_at(const struct lang *l, size_t i)
{
	return i < l->own.n ? l->own.v[i].key : NULL;
}

const char *lang_code_name(const struct lang *l, const char *list, const char *code)
{
	char key[128];
	const char *t;

	if (!code)
		code = "unspecified";
	if ((size_t)snprintf(key, sizeof(key), "%s.%s", list, code) >= sizeof(key))
		return code;
	t = lang_text(l, key);
	return t == key ? code : t;
}

/* ------------------------------------------------------------ numbers */

/* Append s to buf at *at, never past cap - 1. */
static void put(char *buf, size_t cap, size_t *at, const char *s)
{
	for (; *s && *at + 1 < cap; s++)
		buf[(*at)++] = *s;
	buf[*at < cap ? *at : cap - 1] = '\0';
}

/*
 * Group the integer digits of `digits` with sep every three from the right,
 * when there are at least min_group of them (Polish writes 4-digit numbers
 * ungrouped).
 */
static void put_grouped(char *buf, size_t cap, size_t *at, const char *digits, const char *sep,
                        unsigned min_group)
{
	size_t n = strlen(digits);
	char one[2] = { 0, 0 };

	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0 && n >= min_group)
			put(buf, cap, at, sep);
		one[0] = digits[i];
		put(buf, cap, at, one);
	}
}

static unsigned min_group(const struct lang *l)
{
	long v = strtol(lang_text(l, "format.min_group"), NULL, 10);

	return v >= 1 && v <= 9 ? (unsigned)v : 4;
}

void lang_fmt_number(const struct lang *l, char *buf, size_t cap, double v, int decimals)
{
	char raw[400], *dot;
	size_t at = 0;

	if (!cap)
		return;
	buf[0] = '\0';
	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	if (!isfinite(v) || fabs(v) >= 1e300) {
		put(buf, cap, &at, "-");
		return;
	}
	if (fabs(v) < 0.5 * pow(10, -decimals))
		v = 0;          /* no "-0" */
	snprintf(raw, sizeof(raw), "%.*f", decimals, fabs(v));
	if (v < 0)
		put(buf, cap, &at, "-");
	dot = strchr(raw, '.');
	if (dot)
		*dot = '\0';
	put_grouped(buf, cap, &at, raw, lang_text(l, "format.thousands"), min_group(l));
	if (dot) {
		put(buf, cap, &at, lang_text(l, "format.decimal"));
		put(buf, cap, &at, dot + 1);
	}
}

void lang_fmt_int(const struct lang *l, char *buf, size_t cap, int64_t v)
{
	char raw[32];
	size_t at = 0;

	if (!cap)
		return;
	buf[0] = '\0';
	/* Print the magnitude unsigned so INT64_MIN has one too. */
	snprintf(raw, sizeof(raw), "%llu",
	         v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v);
	if (v < 0)
		put(buf, cap, &at, "-");
	put_grouped(buf, cap, &at, raw, lang_text(l, "format.thousands"), min_group(l));
}

/* -------------------------------------------------------------- dates */

void lang_fmt_date(const struct lang *l, char *buf, size_t cap, int64_t unix_s, bool short_form)
{
	const char *p = lang_text(l, short_form ? "format.date_short" : "format.date");
	time_t tt = (time_t)unix_s;
	struct tm tm;
	size_t at = 0;
	char num[16], key[24];

	if (!cap)
		return;
	buf[0] = '\0';
	if (!gmtime_r(&tt, &tm)) {
		put(buf, cap, &at, "-");
		return;
	}
	/* Fields are {d} {dd} {m} {mm} {month} {yyyy}; anything else is copied. */
	while (*p) {
		const char *end = *p == '{' ? strchr(p, '}') : NULL;
		size_t n = end ? (size_t)(end - p - 1) : 0;
		if (end && n == 1 && p[1] == 'd')
			snprintf(num, sizeof(num), "%d", tm.tm_mday);
		else if (end && n == 2 && !strncmp(p + 1, "dd", 2))
			snprintf(num, sizeof(num), "%02d", tm.tm_mday);
		else if (end && n == 1 && p[1] == 'm')
			snprintf(num, sizeof(num), "%d", tm.tm_mon + 1);
		else if (end && n == 2 && !strncmp(p + 1, "mm", 2))
			snprintf(num, sizeof(num), "%02d", tm.tm_mon + 1);
		else if (end && n == 4 && !strncmp(p + 1, "yyyy", 4))
			snprintf(num, sizeof(num), "%04d", tm.tm_year + 1900);
		else if (end && n == 5 && !strncmp(p + 1, "month", 5))
			num[0] = '\0';
		else
			end = NULL;
		if (!end) {
			char one[2] = { *p, 0 };
			put(buf, cap, &at, one);
			p++;
			continue;
		}
		if (n == 5) {
			snprintf(key, sizeof(key), "month.%d", tm.tm_mon + 1);
			put(buf, cap, &at, lang_text(l, key));
		} else {
			put(buf, cap, &at, num);
		}
		p = end + 1;
	}
}
