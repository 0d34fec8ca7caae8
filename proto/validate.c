/*
 * validate.c - field-by-field validation of decoded records.
 *
 * Every rule here is listed in PROTOCOL.md, section 1.5; keep both in step.
 * Each failure names the field as a dotted path from the kind
 * ("measure.start_year", "inventory.sectors[2].tco2e") and says, in words a
 * climate officer can act on, what is wrong.  Validation stops at the first
 * failure.
 *
 * One unit, over 800 lines: one function per record kind, in the order of
 * PROTOCOL.md 1.5, so that the rules and the document can be read side by
 * side.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/proto.h"
#include "proto/proto_int.h"

/* Byte limits of text fields (UTF-8 bytes, not characters). */
#define TEXT_CODE 64            /* tags, units, codes */
#define TEXT_SHORT 300          /* names, titles, labels */
#define TEXT_URL 2048
#define TEXT_LONG 32000         /* descriptions, notes */
#define LANG_MAX 64
#define REPEATED_MAX 256        /* items in any repeated field */

enum text_flags {
	T_REQUIRED = 1 << 0,        /* absent or "" is an error */
	T_MULTILINE = 1 << 1,       /* \n and \t allowed */
};

/* ------------------------------------------------------------- text */

static uint64_t load64(const unsigned char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

/* Are all eight bytes of w printable ASCII (0x20..0x7e)? */
static bool printable8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t below = (w - 0x20 * ones) & ~w & high;   /* a byte < 0x20 */
	uint64_t x = w ^ (0x7f * ones);
	uint64_t del = (x - ones) & ~x & high;            /* a byte == 0x7f */
	return !((w & high) | below | del);
}

bool proto_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	if (!s)
		return len == 0;
	while (i < len) {
		/* ASCII runs: eight bytes at a time */
		while (len - i >= 8 && !(load64(p + i) & 0x8080808080808080ull))
			i += 8;
		if (i == len)
			break;
		unsigned char c = p[i];
		uint32_t cp;
		size_t n;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1; cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2; cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3; cp = c & 0x07;
		} else {
			return false;  /* continuation byte, 0xc0/0xc1 overlong lead, > 0xf4 */
		}
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		/* Overlong forms, UTF-16 surrogates, beyond Unicode. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += n + 1;
	}
	return true;
}

static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

static bool all_of(const char *s, size_t n, bool (*pred)(char))
{
	for (size_t i = 0; i < n; i++)
		if (!pred(s[i]))
			return false;
	return true;
}

static bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }

/*
 * RFC 5646 well-formedness (section 2.1), without the irregular
 * grandfathered tags:
 *   langtag    = language ["-" script] ["-" region] *("-" variant)
 *                *("-" extension) ["-" privateuse]
 *   language   = 2*3ALPHA ["-" extlang] / 4ALPHA / 5*8ALPHA
 *   extlang    = 3ALPHA *2("-" 3ALPHA)
 *   script     = 4ALPHA      region = 2ALPHA / 3DIGIT
 *   variant    = 5*8alphanum / (DIGIT 3alphanum)
 *   extension  = singleton 1*("-" (2*8alphanum))
 *   privateuse = "x" 1*("-" (1*8alphanum))
 */
bool proto_lang_valid(const char *tag)
{
	const char *sub[LANG_MAX / 2 + 1];
	size_t len[LANG_MAX / 2 + 1];
	size_t n = 0, i = 0, total;
	enum { LANG, EXTLANG, SCRIPT, REGION, VARIANT, EXTENSION } state;

	if (!tag)
		return false;
	total = strlen(tag);
	if (total == 0 || total > LANG_MAX)
		return false;
	/* Split into subtags of 1..8 alphanumerics. */
	for (const char *p = tag;;) {
		const char *dash = strchr(p, '-');
		size_t l = dash ? (size_t)(dash - p) : strlen(p);
		if (l < 1 || l > 8 || !all_of(p, l, is_alnum) || n == sizeof(sub) / sizeof(sub[0]))
			return false;
		sub[n] = p;
		len[n++] = l;
		if (!dash)
			break;
		p = dash + 1;
	}
	/* A tag may be private use only: "x-whatever". */
	if (len[0] == 1 && (sub[0][0] == 'x' || sub[0][0] == 'X'))
		goto privateuse;
	if (!all_of(sub[0], len[0], is_alpha) || len[0] < 2 || len[0] == 4)
		return false;
	state = len[0] <= 3 ? EXTLANG : SCRIPT;
	int extlangs = 0;
	for (i = 1; i < n; i++) {
		const char *s = sub[i];
		size_t l = len[i];
		if (l == 1)
			break;  /* singleton: extensions or private use follow */
		if (state == EXTENSION)
			return false;
		if (state == EXTLANG && l == 3 && all_of(s, l, is_alpha) && extlangs < 3) {
			extlangs++;
			continue;
		}
		if (state <= SCRIPT && l == 4 && all_of(s, l, is_alpha)) {
			state = REGION;
			continue;
		}
		if (state <= REGION && ((l == 2 && all_of(s, l, is_alpha)) ||
		                        (l == 3 && all_of(s, l, is_digit)))) {
			state = VARIANT;
			continue;
		}
		if ((l >= 5) || (l == 4 && is_digit(s[0]))) {
			state = VARIANT;
			continue;
		}
		return false;
	}
	/* Extensions: singleton (not x) followed by one or more 2..8 subtags. */
	while (i < n) {
		if (len[i] != 1)
			return false;
		if (sub[i][0] == 'x' || sub[i][0] == 'X')
			goto privateuse_at;
		i++;
		size_t start = i;
		while (i < n && len[i] >= 2)
			i++;
		if (i == start)
			return false;
	}
	return true;
privateuse:
	i = 0;
privateuse_at:
	/* "x" then at least one subtag of 1..8 (already checked). */
	return n - i >= 2;
}

/* --------------------------------------------------------- field checks */

struct vctx {
	struct proto_error *err;
	char where[48];             /* path prefix: "measure", "inventory.sectors[2]" */
};

static int fail(struct vctx *v, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct vctx *v, int code, const char *field, const char *fmt, ...)
{
	char path[64], msg[192];
	va_list ap;

	if (!v->err)
		return code;
	if (v->where[0] && field && field[0])
		snprintf(path, sizeof(path), "%s.%s", v->where, field);
	else
		snprintf(path, sizeof(path), "%s", field && field[0] ? field : v->where);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!path[0])
		return proto_fail(v->err, code, path, "%s", msg);
	return proto_fail(v->err, code, path, "%s: %s", path, msg);
}

/* Field name with an index: "languages[3]". */
static const char *indexed(char *buf, size_t cap, const char *name, size_t i)
{
	snprintf(buf, cap, "%s[%zu]", name, i);
	return buf;
}

static int check_text(struct vctx *v, const char *field, const char *s, size_t max, int flags)
{
	size_t len;

	if (!s || !*s) {
		if (flags & T_REQUIRED)
			return fail(v, PROTO_E_FIELD, field, "is required");
		return 0;
	}
	len = strlen(s);
	if (len > max)
		return fail(v, PROTO_E_FIELD, field, "is %zu bytes long; at most %zu are allowed",
		            len, max);
	if (!proto_utf8_valid(s, len))
		return fail(v, PROTO_E_FIELD, field, "is not valid UTF-8 text");
	for (size_t i = 0; i < len; i++) {
		while (len - i >= 8 && printable8(load64((const unsigned char *)s + i)))
			i += 8;   /* nothing to check in a printable ASCII run */
		if (i == len)
			break;
		unsigned char c = (unsigned char)s[i];
		bool ctl = c < 0x20 || c == 0x7f ||
		           /* C1 controls U+0080..U+009F are 0xc2 0x80..0x9f */
		           (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] <= 0x9f);
		if (ctl && (flags & T_MULTILINE) && (c == '\n' || c == '\t'))
			continue;
		if (ctl)
			return fail(v, PROTO_E_FIELD, field,
			            (flags & T_MULTILINE) ?
			            "contains a control character (only line breaks and tabs are allowed)" :
			            "contains a line break or control character; it must be one line");
	}
	return 0;
}

static int check_texts(struct vctx *v, const char *field, char **arr, size_t n, size_t max)
{
	char name[48];
	int rc;

	if (n > REPEATED_MAX)
		return fail(v, PROTO_E_FIELD, field, "has %zu entries; at most %d are allowed",
		            n, REPEATED_MAX);
	for (size_t i = 0; i < n; i++) {
		rc = check_text(v, indexed(name, sizeof(name), field, i), arr[i], max, T_REQUIRED);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int check_bytes(struct vctx *v, const char *field, bool has, const ProtobufCBinaryData *b,
                       size_t want, const char *what, bool required)
{
	if (!has) {
		if (required)
			return fail(v, PROTO_E_FIELD, field, "is required (%s)", what);
		return 0;
	}
	if (b->len != want)
		return fail(v, PROTO_E_FIELD, field, "must be %s of %zu bytes, not %zu bytes",
		            what, want, b->len);
	return 0;
}

static int check_ids(struct vctx *v, const char *field, const ProtobufCBinaryData *arr, size_t n,
                     const char *what)
{
	char name[48];
	int rc;

	if (n > REPEATED_MAX)
		return fail(v, PROTO_E_FIELD, field, "has %zu entries; at most %d are allowed",
		            n, REPEATED_MAX);
	for (size_t i = 0; i < n; i++) {
		rc = check_bytes(v, indexed(name, sizeof(name), field, i), true, &arr[i], 32, what, true);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int check_year(struct vctx *v, const char *field, bool has, uint32_t year, bool required)
{
	if (!has) {
		if (required)
			return fail(v, PROTO_E_FIELD, field, "is required (a year such as 2030)");
		return 0;
	}
	if (year < PROTO_YEAR_MIN || year > PROTO_YEAR_MAX)
		return fail(v, PROTO_E_FIELD, field, "%u is not a plausible year (%d to %d)",
		            year, PROTO_YEAR_MIN, PROTO_YEAR_MAX);
	return 0;
}

enum num_rule { NUM_ANY, NUM_NONNEG, NUM_PERCENT };

static int check_number(struct vctx *v, const char *field, bool has, double x, enum num_rule rule,
                        bool required)
{
	if (!has) {
		if (required)
			return fail(v, PROTO_E_FIELD, field, "is required");
		return 0;
	}
	if (!isfinite(x))
		return fail(v, PROTO_E_FIELD, field, "must be a finite number");
	if (rule != NUM_ANY && x < 0)
		return fail(v, PROTO_E_FIELD, field, "%g is negative; it must be zero or more", x);
	if (rule == NUM_PERCENT && x > 100)
		return fail(v, PROTO_E_FIELD, field, "%g is not a percentage between 0 and 100", x);
	return 0;
}

static int check_enum(struct vctx *v, const char *field, const ProtobufCEnumDescriptor *d,
                      bool has, int value, bool required)
{
	if (!has || value == 0) {
		if (required)
			return fail(v, PROTO_E_FIELD, field, "is required");
		if (!has)
			return 0;
	}
	/*
	 * A positive value this build does not define is a code of a newer
	 * version (PROTOCOL.md 7.1): carried here, and refused before this
	 * point (PROTO_E_UPGRADE) in a governance kind.
	 */
	if (value < 0)
		return fail(v, PROTO_E_FIELD, field, "%d is not a valid %s code", value, d->short_name);
	return 0;
}

/* Repeated enums: every entry a positive value, none twice (newer codes carried). */
static int check_enums(struct vctx *v, const char *field, const ProtobufCEnumDescriptor *d,
                       const int *arr, size_t n)
{
	char name[48];

	if (n > REPEATED_MAX)
		return fail(v, PROTO_E_FIELD, field, "has %zu entries; at most %d are allowed",
		            n, REPEATED_MAX);
	for (size_t i = 0; i < n; i++) {
		indexed(name, sizeof(name), field, i);
		if (arr[i] == 0)
			return fail(v, PROTO_E_FIELD, name, "must not be \"unspecified\"");
		if (arr[i] < 0)
			return fail(v, PROTO_E_FIELD, name, "%d is not a valid %s code",
			            arr[i], d->short_name);
		for (size_t j = 0; j < i; j++)
			if (arr[j] == arr[i])
				return fail(v, PROTO_E_FIELD, name, "\"%s\" is listed twice",
				            proto_enum_name(d, arr[i]) ? proto_enum_name(d, arr[i]) : "?");
	}
	return 0;
}

static int check_lang(struct vctx *v, const char *field, const char *s, bool required)
{
	if (!s || !*s) {
		if (required)
			return fail(v, PROTO_E_FIELD, field,
			            "is required (a language tag such as \"da\", \"pl\" or \"en-GB\")");
		return 0;
	}
	if (!proto_lang_valid(s))
		return fail(v, PROTO_E_FIELD, field,
		            "is not a language tag (use a BCP-47 tag such as \"da\", \"pl\" or \"en-GB\")");
	return 0;
}

static int check_country(struct vctx *v, const char *field, const char *s, bool required)
{
	if (!s || !*s) {
		if (required)
			return fail(v, PROTO_E_FIELD, field,
			            "is required (a two-letter country code such as \"DK\")");
		return 0;
	}
	if (strlen(s) != 2 || !all_of(s, 2, is_upper))
		return fail(v, PROTO_E_FIELD, field,
		            "must be a two-letter upper-case ISO 3166-1 country code such as \"DK\"");
	return 0;
}

static int check_url(struct vctx *v, const char *field, const char *s)
{
	int rc = check_text(v, field, s, TEXT_URL, 0);

	if (rc < 0 || !s || !*s)
		return rc;
	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		return fail(v, PROTO_E_FIELD, field, "must be a web address starting with https://");
	for (const char *p = s; *p; p++)
		if (*p == ' ')
			return fail(v, PROTO_E_FIELD, field, "must not contain spaces");
	return 0;
}

static int check_urls(struct vctx *v, const char *field, char **arr, size_t n)
{
	char name[48];
	int rc;

	if (n > REPEATED_MAX)
		return fail(v, PROTO_E_FIELD, field, "has %zu entries; at most %d are allowed",
		            n, REPEATED_MAX);
	for (size_t i = 0; i < n; i++) {
		indexed(name, sizeof(name), field, i);
		if (!arr[i] || !*arr[i])
			return fail(v, PROTO_E_FIELD, name, "is empty");
		rc = check_url(v, name, arr[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Run a check and return its failure: keeps the per-kind lists readable. */
#define CHECK(expr) do { int rc_ = (expr); if (rc_ < 0) return rc_; } while (0)

static int check_translations(struct vctx *v, const char *field, Agora__Translation **arr, size_t n)
{
	char saved[sizeof(v->where)];

	if (n > REPEATED_MAX)
		return fail(v, PROTO_E_FIELD, field, "has %zu entries; at most %d are allowed",
		            n, REPEATED_MAX);
	memcpy(saved, v->where, sizeof(saved));
	for (size_t i = 0; i < n; i++) {
		const Agora__Translation *t = arr[i];
		if (snprintf(v->where, sizeof(v->where), "%s.%s[%zu]", saved, field, i) < 0)
			return PROTO_E_ARG;
		CHECK(check_lang(v, "language", t->language, true));
		CHECK(check_text(v, "title", t->title, TEXT_SHORT, 0));
		CHECK(check_text(v, "summary", t->summary, TEXT_LONG, T_MULTILINE));
		CHECK(check_text(v, "description", t->description, TEXT_LONG, T_MULTILINE));
	}
	memcpy(v->where, saved, sizeof(saved));
	return 0;
}

/* ------------------------------------------------------------- kinds */

static int check_charter(struct vctx *v, const Agora__Charter *c, const ProtobufCBinaryData *author)
{
	bool has_author = false;
	char name[48];

	CHECK(check_text(v, "name", c->name, TEXT_SHORT, T_REQUIRED));
	CHECK(check_text(v, "description", c->description, TEXT_LONG, T_MULTILINE));
	if (c->n_coordinators == 0)
		return fail(v, PROTO_E_FIELD, "coordinators", "must name at least one coordinator");
	CHECK(check_ids(v, "coordinators", c->coordinators, c->n_coordinators, "a public key"));
	for (size_t i = 0; i < c->n_coordinators; i++) {
		if (memcmp(c->coordinators[i].data, author->data, PROTO_KEY_BYTES) == 0)
			has_author = true;
		for (size_t j = 0; j < i; j++)
			if (memcmp(c->coordinators[i].data, c->coordinators[j].data, PROTO_KEY_BYTES) == 0)
				return fail(v, PROTO_E_FIELD, indexed(name, sizeof(name), "coordinators", i),
				            "names the same coordinator twice");
	}
	if (!has_author)
		return fail(v, PROTO_E_FIELD, "coordinators",
		            "must include the charter's author as a coordinator");
	CHECK(check_enum(v, "policy", &agora__admission_policy__descriptor, c->has_policy,
	                 (int)c->policy, true));
	if (c->policy == AGORA__ADMISSION_POLICY__ADMISSION_POLICY_THRESHOLD) {
		if (!c->has_threshold || c->threshold < 1 || c->threshold > c->n_coordinators)
			return fail(v, PROTO_E_FIELD, "threshold",
			            "must be between 1 and the number of coordinators (%zu)",
			            c->n_coordinators);
	}
	CHECK(check_lang(v, "language", c->language, false));
	return 0;
}

static int check_admission(struct vctx *v, const Agora__Admission *a)
{
	CHECK(check_bytes(v, "member", a->has_member, &a->member, 32, "a public key", true));
	CHECK(check_text(v, "name", a->name, TEXT_SHORT, T_REQUIRED));
	CHECK(check_country(v, "country", a->country, false));
	CHECK(check_enum(v, "role", &agora__role__descriptor, a->has_role, (int)a->role, true));
	return 0;
}

static int check_revocation(struct vctx *v, const Agora__Revocation *r)
{
	CHECK(check_bytes(v, "member", r->has_member, &r->member, 32, "a public key", true));
	CHECK(check_text(v, "reason", r->reason, TEXT_LONG, T_MULTILINE));
	return 0;
}

static int check_key_rotation(struct vctx *v, const Agora__KeyRotation *k)
{
	CHECK(check_bytes(v, "new_key", k->has_new_key, &k->new_key, 32, "a public key", true));
	CHECK(check_bytes(v, "new_key_signature", k->has_new_key_signature, &k->new_key_signature,
	                  PROTO_SIG_BYTES, "a signature", true));
	return 0;
}

static int check_profile(struct vctx *v, const Agora__Profile *p)
{
	char name[48];

	CHECK(check_text(v, "name", p->name, TEXT_SHORT, T_REQUIRED));
	CHECK(check_country(v, "country", p->country, true));
	CHECK(check_number(v, "area_km2", p->has_area_km2, p->area_km2, NUM_NONNEG, false));
	if (p->n_languages > REPEATED_MAX)
		return fail(v, PROTO_E_FIELD, "languages", "has too many entries");
	for (size_t i = 0; i < p->n_languages; i++)
		CHECK(check_lang(v, indexed(name, sizeof(name), "languages", i), p->languages[i], true));
	CHECK(check_url(v, "website", p->website));
	CHECK(check_text(v, "description", p->description, TEXT_LONG, T_MULTILINE));
	CHECK(check_lang(v, "language", p->language, false));
	return 0;
}

static int check_target(struct vctx *v, const Agora__Target *t)
{
	bool absolute = t->type == AGORA__TARGET_KIND__TARGET_KIND_ABSOLUTE_REDUCTION;

	CHECK(check_enum(v, "type", &agora__target_kind__descriptor, t->has_type, (int)t->type, true));
	CHECK(check_text(v, "title", t->title, TEXT_SHORT, 0));
	CHECK(check_year(v, "baseline_year", t->has_baseline_year, t->baseline_year, absolute));
	CHECK(check_number(v, "baseline_tco2e", t->has_baseline_tco2e, t->baseline_tco2e,
	                   NUM_NONNEG, false));
	CHECK(check_year(v, "target_year", t->has_target_year, t->target_year, true));
	CHECK(check_number(v, "reduction_pct", t->has_reduction_pct, t->reduction_pct,
	                   NUM_PERCENT, absolute));
	if (t->has_baseline_year && t->baseline_year >= t->target_year)
		return fail(v, PROTO_E_FIELD, "baseline_year",
		            "%u must be before the target year %u", t->baseline_year, t->target_year);
	CHECK(check_enum(v, "scope", &agora__scope__descriptor, t->has_scope, (int)t->scope, false));
	CHECK(check_text(v, "description", t->description, TEXT_LONG, T_MULTILINE));
	CHECK(check_lang(v, "language", t->language, false));
	return 0;
}

static int check_inventory(struct vctx *v, const Agora__Inventory *inv)
{
	char saved[sizeof(v->where)];

	CHECK(check_enum(v, "type", &agora__inventory_kind__descriptor, inv->has_type,
	                 (int)inv->type, true));
	CHECK(check_year(v, "year", inv->has_year, inv->year, true));
	if (inv->n_sectors == 0)
		return fail(v, PROTO_E_FIELD, "sectors", "must list at least one sector");
	if (inv->n_sectors > REPEATED_MAX)
		return fail(v, PROTO_E_FIELD, "sectors", "has too many entries");
	memcpy(saved, v->where, sizeof(saved));
	for (size_t i = 0; i < inv->n_sectors; i++) {
		const Agora__SectorEmission *s = inv->sectors[i];
		if (snprintf(v->where, sizeof(v->where), "%s.sectors[%zu]", saved, i) < 0)
			return PROTO_E_ARG;
		CHECK(check_enum(v, "sector", &agora__sector__descriptor, s->has_sector,
		                 (int)s->sector, true));
		for (size_t j = 0; j < i; j++)
			if (inv->sectors[j]->sector == s->sector)
				return fail(v, PROTO_E_FIELD, "sector",
				            "\"%s\" is listed twice in this inventory",
				            proto_enum_name(&agora__sector__descriptor, (int)s->sector));
		/* Sinks (forestry, wetlands) make negative emissions legitimate. */
		CHECK(check_number(v, "tco2e", s->has_tco2e, s->tco2e, NUM_ANY, false));
		CHECK(check_number(v, "mwh", s->has_mwh, s->mwh, NUM_NONNEG, false));
	}
	memcpy(v->where, saved, sizeof(saved));
	CHECK(check_text(v, "factor_source", inv->factor_source, TEXT_SHORT, 0));
	CHECK(check_enum(v, "factor_method", &agora__factor_method__descriptor,
	                 inv->has_factor_method, (int)inv->factor_method, false));
	CHECK(check_text(v, "note", inv->note, TEXT_LONG, T_MULTILINE));
	CHECK(check_lang(v, "language", inv->language, false));
	return 0;
}

static int check_currency(struct vctx *v, const char *s, bool required)
{
	if (!s || !*s) {
		if (required)
			return fail(v, PROTO_E_FIELD, "currency",
			            "is required when a cost is given (an ISO 4217 code such as \"DKK\")");
		return 0;
	}
	if (strlen(s) != 3 || !all_of(s, 3, is_upper))
		return fail(v, PROTO_E_FIELD, "currency",
		            "must be a three-letter upper-case ISO 4217 code such as \"DKK\" or \"EUR\"");
	return 0;
}

static int check_measure(struct vctx *v, const Agora__Measure *m)
{
	CHECK(check_text(v, "title", m->title, TEXT_SHORT, T_REQUIRED));
	CHECK(check_text(v, "summary", m->summary, TEXT_LONG, T_MULTILINE));
	CHECK(check_text(v, "description", m->description, TEXT_LONG, T_MULTILINE));
	CHECK(check_lang(v, "language", m->language, true));
	CHECK(check_translations(v, "translations", m->translations, m->n_translations));
	if (!(m->has_mitigation && m->mitigation) && !(m->has_adaptation && m->adaptation))
		return fail(v, PROTO_E_FIELD, "mitigation",
		            "a measure must be mitigation, adaptation or both");
	CHECK(check_enum(v, "sector", &agora__sector__descriptor, m->has_sector, (int)m->sector, false));
	CHECK(check_enums(v, "areas", &agora__area__descriptor, (const int *)m->areas, m->n_areas));
	CHECK(check_enums(v, "instruments", &agora__instrument__descriptor,
	                  (const int *)m->instruments, m->n_instruments));
	CHECK(check_enums(v, "hazards", &agora__hazard__descriptor,
	                  (const int *)m->hazards, m->n_hazards));
	CHECK(check_enums(v, "vulnerable", &agora__vulnerable_sector__descriptor,
	                  (const int *)m->vulnerable, m->n_vulnerable));
	CHECK(check_enum(v, "status", &agora__status__descriptor, m->has_status, (int)m->status, false));
	CHECK(check_year(v, "start_year", m->has_start_year, m->start_year, false));
	CHECK(check_year(v, "end_year", m->has_end_year, m->end_year, false));
	if (m->has_start_year && m->has_end_year && m->start_year > m->end_year)
		return fail(v, PROTO_E_FIELD, "end_year", "%u is before the start year %u",
		            m->end_year, m->start_year);
	CHECK(check_number(v, "investment", m->has_investment, m->investment, NUM_NONNEG, false));
	CHECK(check_number(v, "running_cost", m->has_running_cost, m->running_cost, NUM_NONNEG, false));
	CHECK(check_currency(v, m->currency, m->has_investment || m->has_running_cost));
	CHECK(check_enums(v, "financing", &agora__financing__descriptor,
	                  (const int *)m->financing, m->n_financing));
	CHECK(check_number(v, "energy_saving_mwh", m->has_energy_saving_mwh, m->energy_saving_mwh,
	                   NUM_NONNEG, false));
	CHECK(check_number(v, "renewable_mwh", m->has_renewable_mwh, m->renewable_mwh,
	                   NUM_NONNEG, false));
	CHECK(check_number(v, "reduction_tco2e", m->has_reduction_tco2e, m->reduction_tco2e,
	                   NUM_ANY, false));
	CHECK(check_texts(v, "stakeholders", m->stakeholders, m->n_stakeholders, TEXT_SHORT));
	CHECK(check_texts(v, "tags", m->tags, m->n_tags, TEXT_CODE));
	CHECK(check_urls(v, "links", m->links, m->n_links));
	CHECK(check_text(v, "responsible", m->responsible, TEXT_SHORT, 0));
	return 0;
}

static int check_result(struct vctx *v, const Agora__Result *r)
{
	CHECK(check_bytes(v, "measure", r->has_measure, &r->measure, 32, "a measure id", true));
	CHECK(check_year(v, "year", r->has_year, r->year, true));
	CHECK(check_text(v, "period", r->period, TEXT_CODE, 0));
	CHECK(check_text(v, "indicator", r->indicator, TEXT_SHORT, T_REQUIRED));
	CHECK(check_number(v, "value", r->has_value, r->value, NUM_ANY, true));
	CHECK(check_text(v, "unit", r->unit, TEXT_CODE, T_REQUIRED));
	CHECK(check_number(v, "baseline_value", r->has_baseline_value, r->baseline_value,
	                   NUM_ANY, false));
	CHECK(check_year(v, "baseline_year", r->has_baseline_year, r->baseline_year, false));
	CHECK(check_enum(v, "estimation", &agora__estimation__descriptor, r->has_estimation,
	                 (int)r->estimation, false));
	CHECK(check_text(v, "method", r->method, TEXT_LONG, T_MULTILINE));
	CHECK(check_text(v, "factor_source", r->factor_source, TEXT_SHORT, 0));
	CHECK(check_text(v, "note", r->note, TEXT_LONG, T_MULTILINE));
	CHECK(check_lang(v, "language", r->language, false));
	return 0;
}

static int check_lesson(struct vctx *v, const Agora__Lesson *l)
{
	CHECK(check_text(v, "title", l->title, TEXT_SHORT, T_REQUIRED));
	CHECK(check_text(v, "context", l->context, TEXT_LONG, T_MULTILINE));
	CHECK(check_text(v, "action", l->action, TEXT_LONG, T_MULTILINE));
	CHECK(check_text(v, "outcome", l->outcome, TEXT_LONG, T_MULTILINE));
	CHECK(check_text(v, "worked", l->worked, TEXT_LONG, T_MULTILINE));
	CHECK(check_enums(v, "barriers", &agora__barrier__descriptor,
	                  (const int *)l->barriers, l->n_barriers));
	CHECK(check_text(v, "enablers", l->enablers, TEXT_LONG, T_MULTILINE));
	CHECK(check_text(v, "cost", l->cost, TEXT_LONG, T_MULTILINE));
	CHECK(check_text(v, "contact_role", l->contact_role, TEXT_SHORT, 0));
	CHECK(check_texts(v, "tags", l->tags, l->n_tags, TEXT_CODE));
	CHECK(check_lang(v, "language", l->language, true));
	CHECK(check_ids(v, "measures", l->measures, l->n_measures, "a measure id"));
	CHECK(check_enum(v, "sector", &agora__sector__descriptor, l->has_sector, (int)l->sector, false));
	CHECK(check_year(v, "year", l->has_year, l->year, false));
	CHECK(check_translations(v, "translations", l->translations, l->n_translations));
	return 0;
}

static int check_endorsement(struct vctx *v, const Agora__Endorsement *e)
{
	CHECK(check_bytes(v, "target", e->has_target, &e->target, 32, "a record id", true));
	CHECK(check_text(v, "note", e->note, TEXT_LONG, T_MULTILINE));
	CHECK(check_lang(v, "language", e->language, false));
	return 0;
}

static int check_retract(struct vctx *v, const Agora__Retract *r)
{
	CHECK(check_bytes(v, "target", r->has_target, &r->target, 32, "a record id", true));
	CHECK(check_text(v, "reason", r->reason, TEXT_LONG, T_MULTILINE));
	return 0;
}

/* Validate a content message of the given kind, with paths from its kind name. */
static int check_content(struct vctx *v, enum proto_kind kind, const ProtobufCMessage *m,
                         const Agora__Record *rec)
{
	snprintf(v->where, sizeof(v->where), "%s", proto_kind_name(kind));
	switch (kind) {
	case PROTO_KIND_CHARTER:
		return check_charter(v, (const Agora__Charter *)m, &rec->author);
	case PROTO_KIND_ADMISSION:
		return check_admission(v, (const Agora__Admission *)m);
	case PROTO_KIND_REVOCATION:
		return check_revocation(v, (const Agora__Revocation *)m);
	case PROTO_KIND_KEY_ROTATION:
		return check_key_rotation(v, (const Agora__KeyRotation *)m);
	case PROTO_KIND_PROFILE:
		return check_profile(v, (const Agora__Profile *)m);
	case PROTO_KIND_TARGET:
		return check_target(v, (const Agora__Target *)m);
	case PROTO_KIND_INVENTORY:
		return check_inventory(v, (const Agora__Inventory *)m);
	case PROTO_KIND_MEASURE:
		return check_measure(v, (const Agora__Measure *)m);
	case PROTO_KIND_RESULT:
		return check_result(v, (const Agora__Result *)m);
	case PROTO_KIND_LESSON:
		return check_lesson(v, (const Agora__Lesson *)m);
	case PROTO_KIND_ENDORSEMENT:
		return check_endorsement(v, (const Agora__Endorsement *)m);
	case PROTO_KIND_RETRACT:
		return check_retract(v, (const Agora__Retract *)m);
	case PROTO_KIND_ENDPOINT:
		return proto_endpoint_check((const Agora__Endpoint *)m, v->err);
#ifdef AGORA_SCHEMA_NEXT
	case PROTO_KIND_TEST_NOTE: {
		const Agora__TestNote *t = (const Agora__TestNote *)m;
		CHECK(check_text(v, "text", t->text, TEXT_LONG, T_REQUIRED | T_MULTILINE));
		return check_lang(v, "language", t->language, false);
	}
#endif
	default:
		return fail(v, PROTO_E_KIND, "", "this kind of record cannot be checked");
	}
}

int proto_body_check(enum proto_kind kind, const ProtobufCMessage *m, const Agora__Record *rec,
                     struct proto_error *err)
{
	struct vctx v = { .err = err, .where = "" };

	if (!m || !rec)
		return fail(&v, PROTO_E_ARG, "", "no body given");
	return check_content(&v, kind, m, rec);
}

/* A content kind a later version added (29..63), known to this build or not. */
static bool later_content(enum proto_kind kind)
{
	return kind >= PROTO_KIND_CONTENT_NEXT && kind <= PROTO_KIND_CONTENT_LAST;
}

/*
 * The attachments of a measure, result or lesson (field 30, record schema
 * version 3).  Nodes of earlier versions carry the field unread, so a list
 * that breaks its rules does not refuse a received record (PROTOCOL.md 7.4
 * item 8): it is carried and its attachments are not read
 * (proto_record_attachments).  A signer refuses it.
 */
static int check_attachments(enum proto_kind kind, const ProtobufCMessage *m,
                             struct proto_error *err, bool carry)
{
	Agora__Attachment *const *list;
	size_t n;
	int rc;

	switch (kind) {
	case PROTO_KIND_MEASURE:
		list = ((const Agora__Measure *)m)->attachments;
		n = ((const Agora__Measure *)m)->n_attachments;
		break;
	case PROTO_KIND_RESULT:
		list = ((const Agora__Result *)m)->attachments;
		n = ((const Agora__Result *)m)->n_attachments;
		break;
	case PROTO_KIND_LESSON:
		list = ((const Agora__Lesson *)m)->attachments;
		n = ((const Agora__Lesson *)m)->n_attachments;
		break;
	default:
		return 0;
	}
	rc = proto_attachments_check(proto_kind_name(kind), list, n, carry ? NULL : err);
	return carry ? 0 : rc;
}

/*
 * carry: opening a received record.  Whether a record is stored must not
 * depend on the version (PROTOCOL.md 7.4 item 8): a node of version 1
 * carries every record of a kind 29..63 on the header rules alone, so a
 * body of such a kind that breaks the rules this build knows for it, or a
 * Supersede that carries one it may not, is carried too, unread
 * (proto_record_newer says PROTO_NEWER_UNREADABLE).  A signer never carries:
 * it refuses to sign what it cannot vouch for.
 */
static int validate(const Agora__Record *rec, uint64_t now_ms, struct proto_error *err,
                    bool carry)
{
	struct vctx v = { .err = err, .where = "" };
	enum proto_kind kind, content;
	const ProtobufCMessage *m = NULL;

	if (!rec)
		return fail(&v, PROTO_E_ARG, "", "no record given");
	CHECK(check_bytes(&v, "author", rec->has_author, &rec->author, 32, "a public key", true));
	if (!rec->has_seq || rec->seq < 1)
		return fail(&v, PROTO_E_FIELD, "seq", "must be 1 or more");
	if (rec->seq == 1 && rec->has_prev)
		return fail(&v, PROTO_E_FIELD, "prev", "must be absent in an author's first record");
	CHECK(check_bytes(&v, "prev", rec->has_prev, &rec->prev, 32,
	                  "the id of the author's previous record", rec->seq > 1));
	if (!rec->has_created_ms)
		return fail(&v, PROTO_E_FIELD, "created_ms", "is required (creation time)");
	if (rec->created_ms > now_ms && rec->created_ms - now_ms > PROTO_FUTURE_MS)
		return fail(&v, PROTO_E_FUTURE, "created_ms",
		            "is %llu s ahead of this node's clock; at most %d s are allowed",
		            (unsigned long long)((rec->created_ms - now_ms) / 1000),
		            PROTO_FUTURE_MS / 1000);
	kind = proto_record_kind(rec);
	if (kind == PROTO_KIND_NONE)
		return fail(&v, PROTO_E_KIND, "", "the record has no body");
	/*
	 * A part this build must understand (a header field, a governance kind
	 * or a field of a governance body, of a newer version) may change what
	 * the rest means, so nothing below could be trusted: stop here.
	 */
	if (proto_record_newer(rec) & PROTO_NEWER_MUST) {
		char text[sizeof(v.err->msg)];
		proto_record_newer_text(text, sizeof(text), rec);
		return fail(&v, PROTO_E_UPGRADE, "", "%s", text);
	}
	if (kind == PROTO_KIND_CHARTER) {
		if (rec->has_alliance)
			return fail(&v, PROTO_E_FIELD, "alliance",
			            "must be absent in a charter (the charter founds the alliance)");
		if (rec->seq != 1)
			return fail(&v, PROTO_E_FIELD, "seq", "a charter must be its author's record 1");
	} else {
		CHECK(check_bytes(&v, "alliance", rec->has_alliance, &rec->alliance, 32,
		                  "an alliance id", true));
	}
	content = proto_record_content(rec, &m);
	if (kind == PROTO_KIND_SUPERSEDE) {
		const Agora__Supersede *s = rec->supersede;
		if (!s)
			return fail(&v, PROTO_E_KIND, "supersede", "has no body");
		snprintf(v.where, sizeof(v.where), "supersede");
		CHECK(check_bytes(&v, "target", s->has_target, &s->target, 32, "a record id", true));
		if (content == PROTO_KIND_NONE)
			return fail(&v, PROTO_E_FIELD, "body", "must carry the new version of the record");
		/* Supersede.body numbers this build knows but does not list there. */
		if (!m && proto_kind_known(content)) {
			if (carry && later_content(content))
				return 0;
			if (content == PROTO_KIND_ENDPOINT)
				return fail(&v, PROTO_E_FIELD, "body",
				            "an endpoint is not edited: publish a new one");
			return fail(&v, PROTO_E_FIELD, "body", "a %s cannot be edited",
			            proto_kind_name(content));
		}
	} else if (content == PROTO_KIND_NONE) {
		return fail(&v, PROTO_E_KIND, "", "the record has no body");
	}
	/* A content kind of a newer version: carried on the header rules alone. */
	if (!m)
		return 0;
	int rc = check_content(&v, content, m, rec);
	if (rc == PROTO_E_FIELD && carry && later_content(content))
		return 0;
	if (rc < 0)
		return rc;
	return check_attachments(content, m, err, carry);
}

int proto_record_validate(const Agora__Record *rec, uint64_t now_ms, struct proto_error *err)
{
	return validate(rec, now_ms, err, false);
}

int proto_record_validate_carry(const Agora__Record *rec, uint64_t now_ms,
                                struct proto_error *err)
{
	return validate(rec, now_ms, err, true);
}
