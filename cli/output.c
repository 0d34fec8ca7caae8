/*
 * output.c - shared pieces of the read-side commands: filter options,
 * municipality names, field formatting, tables and CSV.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <utf8proc.h>

#include "cli/output.h"

/* ------------------------------------------------------------ options */

int cli_output_opt(const char *name, int argc, char **argv, int *i, const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*val = argv[++*i];
	return 1;
}

const char *cli_opt_value(const char *name, int argc, char **argv, int *i, bool *missing)
{
	const char *v = NULL;
	int r = cli_output_opt(name, argc, argv, i, &v);

	if (r < 0)
		*missing = true;
	return r > 0 ? v : NULL;
}

/* ---------------------------------------------------------- case folding */

/* NFKC + case fold, as the store's search does; malloc()ed, NULL on error. */
static char *fold(const char *s)
{
	utf8proc_uint8_t *dst = NULL;
	utf8proc_ssize_t n;

	n = utf8proc_map((const utf8proc_uint8_t *)s, 0, &dst,
	                 UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
	                 UTF8PROC_COMPAT | UTF8PROC_CASEFOLD);
	if (n < 0)
		return strdup(s);       /* invalid UTF-8: compare bytes as given */
	return (char *)dst;
}

/* ------------------------------------------------- municipality names */

struct name_entry {
	uint8_t key[PROTO_KEY_BYTES];
	char *name;
	char *country;
	bool from_profile;          /* a Profile beats an Admission */
};

struct cli_names {
	struct store_txn *t;        /* borrowed */
	bool loaded;
	struct name_entry *v;
	size_t n, cap;
};

struct cli_names *cli_names_new(struct store_txn *t)
{
	struct cli_names *n = calloc(1, sizeof(*n));

	if (n)
		n->t = t;
	return n;
}

void cli_names_free(struct cli_names *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		free(n->v[i].name);
		free(n->v[i].country);
	}
	free(n->v);
	free(n);
}

static struct name_entry *names_find(struct cli_names *n, const uint8_t key[PROTO_KEY_BYTES])
{
	for (size_t i = 0; i < n->n; i++)
		if (!memcmp(n->v[i].key, key, PROTO_KEY_BYTES))
			return &n->v[i];
	return NULL;
}

static int names_set(struct cli_names *n, const uint8_t key[PROTO_KEY_BYTES], const char *name,
                     const char *country, bool from_profile)
{
	struct name_entry *e = names_find(n, key);
	char *nm, *co = NULL;

	if (!name || !*name)
		return 0;
	if (e && e->from_profile && !from_profile)
		return 0;
	nm = strdup(name);
	if (country && *country)
		co = strdup(country);
	if (!nm || (country && *country && !co)) {
		free(nm);
		free(co);
		return -ENOMEM;
	}
	if (!e) {
		if (n->n == n->cap) {
			size_t cap = n->cap ? n->cap * 2 : 16;
			struct name_entry *v = realloc(n->v, cap * sizeof(*v));
			if (!v) {
				free(nm);
				free(co);
				return -ENOMEM;
			}
			n->v = v;
			n->cap = cap;
		}
		e = &n->v[n->n++];
		memcpy(e->key, key, PROTO_KEY_BYTES);
	} else {
		free(e->name);
		free(e->country);
	}
	e->name = nm;
	e->country = co;
	e->from_profile = from_profile;
	return 0;
}

static int names_hit(const struct store_hit *hit, void *arg)
{
	struct cli_names *n = arg;
	Agora__Record *rec = NULL;
	const ProtobufCMessage *msg = NULL;
	enum proto_kind kind;
	int rc = 0;

	if (proto_envelope_decode(&rec, hit->rec.env, hit->rec.env_len, NULL) < 0)
		return 0;               /* the store verified it; skip rather than fail */
	kind = proto_record_content(rec, &msg);
	if (kind == PROTO_KIND_PROFILE && msg && rec->author.len == PROTO_KEY_BYTES) {
		const Agora__Profile *p = (const Agora__Profile *)msg;
		rc = names_set(n, rec->author.data, p->name, p->country, true);
	} else if (kind == PROTO_KIND_ADMISSION && msg) {
		const Agora__Admission *a = (const Agora__Admission *)msg;
		if (a->member.len == PROTO_KEY_BYTES)
			rc = names_set(n, a->member.data, a->name, a->country, false);
	}
	agora__record__free_unpacked(rec, NULL);
	return rc;
}

/*
 * Load every name once: admissions first, then profiles oldest first, so the
 * newest Profile of each author is what remains.
 */
int cli_names_load(struct cli_names *n)
{
	struct store_query q;
	int rc;

	if (n->loaded)
		return 0;
	n->loaded = true;
	memset(&q, 0, sizeof(q));
	q.kind = PROTO_KIND_ADMISSION;
	q.governance = true;
	q.sort = STORE_SORT_OLDEST;
	rc = store_query(n->t, &q, names_hit, n, NULL);
	if (rc < 0 && rc != STORE_E_NOTFOUND)
		return rc;
	memset(&q, 0, sizeof(q));
	q.kind = PROTO_KIND_PROFILE;
	q.sort = STORE_SORT_OLDEST;
	rc = store_query(n->t, &q, names_hit, n, NULL);
	if (rc < 0 && rc != STORE_E_NOTFOUND)
		return rc;
	return 0;
}

const char *cli_names_name(struct cli_names *n, const uint8_t author[PROTO_KEY_BYTES])
{
	struct name_entry *e;

	if (!n || cli_names_load(n) < 0)
		return NULL;
	e = names_find(n, author);
	return e ? e->name : NULL;
}

const char *cli_names_country(struct cli_names *n, const uint8_t author[PROTO_KEY_BYTES])
{
	struct name_entry *e;

	if (!n || cli_names_load(n) < 0)
		return NULL;
	e = names_find(n, author);
	return e ? e->country : NULL;
}

/* ------------------------------------------------------- query filters */

const char cli_filter_help[] =
	"filters (all given filters must match):\n"
	"  --kind KIND           measure, result, lesson, target, inventory, profile,\n"
	"                        endorsement (or admission, charter, ... for governance)\n"
	"  --municipality NAME   author's municipality name, case-insensitive substring;\n"
	"                        every matching municipality is included\n"
	"  --sector S            e.g. waste, residential_buildings, transport_public\n"
	"  --area A              e.g. wetlands, district_heating, photovoltaics\n"
	"  --hazard H            e.g. extreme_heat, coastal_flood, drought\n"
	"  --status S            not_started, ongoing, completed, postponed, cancelled\n"
	"  --tag TAG             records with this tag (case and accents optional)\n"
	"  --since YEAR          records whose years reach YEAR or later\n"
	"  --until YEAR          records whose years start in YEAR or earlier\n"
	"  --text \"WORDS\"        full-text search: every word must occur, in any\n"
	"                        inflection (da, nl, en, pl), case and accents\n"
	"                        optional; word* for words it begins, \"a b\" in\n"
	"                        quotes for words in a row\n"
	"  --measure ID          results, lessons and endorsements of this measure\n"
	"  --alliance NAME|ID    only this alliance (default: every alliance held)\n"
	"  --history             include superseded versions\n"
	"  --sort ORDER          newest, oldest, relevance (the default with --text,\n"
	"                        else newest)\n"
	"  --limit N             at most N records; 0 = all\n";

void cli_filter_init(struct cli_filter *f)
{
	memset(f, 0, sizeof(*f));
}

void cli_filter_dispose(struct cli_filter *f)
{
	if (!f)
		return;
	free(f->authors);
	f->authors = NULL;
}

static void enum_names(char *buf, size_t cap, const ProtobufCEnumDescriptor *d)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < d->n_values; i++) {
		const char *nm = proto_enum_name(d, d->values[i].value);
		int k;
		if (!nm || d->values[i].value == 0)
			continue;
		k = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", nm);
		if (k < 0 || (size_t)k >= cap - used)
			break;
		used += (size_t)k;
	}
}

static int parse_enum(struct cli_ctx *ctx, int *out, const ProtobufCEnumDescriptor *d,
                      const char *opt, const char *val)
{
	char list[1024];
	int v;

	if (proto_enum_parse(&v, d, val) == 0 && v != 0) {
		*out = v;
		return CLI_EXIT_OK;
	}
	enum_names(list, sizeof(list), d);
	cli_error(ctx, "%s: '%s' is not one of: %s", opt, val, list);
	return CLI_EXIT_USAGE;
}

static int parse_year(struct cli_ctx *ctx, unsigned *out, const char *opt, const char *val)
{
	char *end;
	unsigned long y;

	errno = 0;
	y = strtoul(val, &end, 10);
	if (errno || end == val || *end || y < PROTO_YEAR_MIN || y > PROTO_YEAR_MAX ||
	    val[0] == '-') {
		cli_error(ctx, "%s: '%s' is not a year between %d and %d", opt, val,
		          PROTO_YEAR_MIN, PROTO_YEAR_MAX);
		return CLI_EXIT_USAGE;
	}
	*out = (unsigned)y;
	return CLI_EXIT_OK;
}

static void kind_names(char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int k = PROTO_KIND_CHARTER; k <= PROTO_KIND_RETRACT; k++) {
		const char *nm = proto_kind_name((enum proto_kind)k);
		int w;
		if (!nm)
			continue;
		w = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", nm);
		if (w < 0 || (size_t)w >= cap - used)
			break;
		used += (size_t)w;
	}
}

int cli_filter_arg(struct cli_filter *f, struct cli_ctx *ctx, int argc, char **argv, int *i,
                   bool *used)
{
	static const char *const valued[] = {
		"--kind", "--municipality", "--sector", "--area", "--hazard", "--status",
		"--tag", "--since", "--until", "--text", "--limit", "--sort", "--alliance",
		"--measure",
	};
	const char *val = NULL;
	const char *opt = NULL;
	int m;

	*used = false;
	if (!strcmp(argv[*i], "--history")) {
		f->q.history = true;
		*used = true;
		return CLI_EXIT_OK;
	}
	for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++) {
		m = cli_output_opt(valued[k], argc, argv, i, &val);
		if (m < 0) {
			cli_error(ctx, "%s needs a value", valued[k]);
			return CLI_EXIT_USAGE;
		}
		if (m > 0) {
			opt = valued[k];
			break;
		}
	}
	if (!opt)
		return CLI_EXIT_OK;
	*used = true;

	if (strcmp(opt, "--limit") && strcmp(opt, "--sort") && strcmp(opt, "--alliance"))
		f->any = true;
	if (!strcmp(opt, "--kind")) {
		enum proto_kind k = proto_kind_parse(val);
		if (k == PROTO_KIND_NONE) {
			char list[512];
			kind_names(list, sizeof(list));
			cli_error(ctx, "--kind: '%s' is not one of: %s", val, list);
			return CLI_EXIT_USAGE;
		}
		f->q.kind = k;
		if (k < PROTO_KIND_PROFILE || k == PROTO_KIND_SUPERSEDE || k == PROTO_KIND_RETRACT)
			f->q.governance = true;
		return CLI_EXIT_OK;
	}
	if (!strcmp(opt, "--sector"))
		return parse_enum(ctx, &f->q.sector, &agora__sector__descriptor, opt, val);
	if (!strcmp(opt, "--area"))
		return parse_enum(ctx, &f->q.area, &agora__area__descriptor, opt, val);
	if (!strcmp(opt, "--hazard"))
		return parse_enum(ctx, &f->q.hazard, &agora__hazard__descriptor, opt, val);
	if (!strcmp(opt, "--status"))
		return parse_enum(ctx, &f->q.status, &agora__status__descriptor, opt, val);
	if (!strcmp(opt, "--since"))
		return parse_year(ctx, &f->q.year_from, opt, val);
	if (!strcmp(opt, "--until"))
		return parse_year(ctx, &f->q.year_to, opt, val);
	if (!strcmp(opt, "--tag")) {
		f->q.tag = val;
		return CLI_EXIT_OK;
	}
	if (!strcmp(opt, "--text")) {
		f->q.text = val;
		return CLI_EXIT_OK;
	}
	if (!strcmp(opt, "--municipality")) {
		f->municipality = val;
		return CLI_EXIT_OK;
	}
	if (!strcmp(opt, "--alliance")) {
		f->alliance = val;
		return CLI_EXIT_OK;
	}
	if (!strcmp(opt, "--measure")) {
		f->measure = val;
		return CLI_EXIT_OK;
	}
	if (!strcmp(opt, "--limit")) {
		char *end;
		unsigned long long n;
		errno = 0;
		n = strtoull(val, &end, 10);
		if (errno || end == val || *end || val[0] == '-') {
			cli_error(ctx, "--limit: '%s' is not a number (0 means all)", val);
			return CLI_EXIT_USAGE;
		}
		f->q.limit = (size_t)n;
		f->limit_set = true;
		return CLI_EXIT_OK;
	}
	/* --sort */
	f->sort_set = true;
	if (!strcmp(val, "newest"))
		f->q.sort = STORE_SORT_NEWEST;
	else if (!strcmp(val, "oldest"))
		f->q.sort = STORE_SORT_OLDEST;
	else if (!strcmp(val, "relevance"))
		f->q.sort = STORE_SORT_RELEVANCE;
	else {
		cli_error(ctx, "--sort: '%s' is not one of: newest, oldest, relevance", val);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

static int resolve_municipality(struct cli_filter *f, struct cli_ctx *ctx,
                                struct cli_names *names)
{
	char *pat = NULL, *known = NULL;
	size_t known_len = 0;
	FILE *kf = NULL;
	int rc = CLI_EXIT_ERROR, err;

	err = cli_names_load(names);
	if (err < 0) {
		cli_error(ctx, "cannot read municipality names: %s", store_strerror(err));
		goto out;
	}
	pat = fold(f->municipality);
	f->authors = calloc(STORE_QUERY_MAX_AUTHORS, sizeof(*f->authors));
	if (!pat || !f->authors) {
		cli_error(ctx, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < names->n; i++) {
		char *nm = fold(names->v[i].name);
		bool hit = nm && strstr(nm, pat);
		free(nm);
		if (!hit)
			continue;
		if (f->q.n_authors == STORE_QUERY_MAX_AUTHORS) {
			cli_error(ctx, "--municipality '%s' matches more than %d municipalities; "
			          "be more specific", f->municipality, STORE_QUERY_MAX_AUTHORS);
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		memcpy(f->authors[f->q.n_authors++], names->v[i].key, PROTO_KEY_BYTES);
	}
	if (f->q.n_authors == 0) {
		kf = open_memstream(&known, &known_len);
		if (!kf) {
			cli_error(ctx, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < names->n; i++)
			fprintf(kf, "%s%s", i ? ", " : "", names->v[i].name);
		fclose(kf);
		kf = NULL;
		if (names->n)
			cli_error(ctx, "no municipality matches '%s' (known: %s)", f->municipality,
			          known);
		else
			cli_error(ctx, "no municipality matches '%s': no profiles are stored yet",
			          f->municipality);
		rc = CLI_EXIT_NOTFOUND;
		goto out;
	}
	f->q.authors = (const uint8_t (*)[PROTO_KEY_BYTES])f->authors;
	rc = CLI_EXIT_OK;
out:
	if (kf)
		fclose(kf);
	free(known);
	free(pat);
	return rc;
}

int cli_filter_resolve(struct cli_filter *f, struct cli_ctx *ctx, struct store_txn *t,
                       struct cli_names *names)
{
	int rc;

	if (f->q.year_from && f->q.year_to && f->q.year_from > f->q.year_to) {
		cli_error(ctx, "--since %u is after --until %u", f->q.year_from, f->q.year_to);
		return CLI_EXIT_USAGE;
	}
	if (f->alliance) {
		rc = cli_alliance(ctx, t, f->alliance, f->alliance_id);
		if (rc != CLI_EXIT_OK)
			return rc;
		f->q.alliance = f->alliance_id;
	}
	if (f->measure) {
		rc = store_resolve(t, f->measure, f->measure_id);
		if (rc == STORE_E_AMBIGUOUS) {
			cli_error(ctx, "--measure: '%s' matches several records; give more digits",
			          f->measure);
			return CLI_EXIT_USAGE;
		}
		if (rc < 0) {
			cli_error(ctx, "--measure: no record '%s' (%s)", f->measure,
			          store_strerror(rc));
			return rc == PROTO_E_ARG ? CLI_EXIT_USAGE : CLI_EXIT_NOTFOUND;
		}
		f->q.measure = f->measure_id;
	}
	if (f->municipality)
		return resolve_municipality(f, ctx, names);
	return CLI_EXIT_OK;
}

/* --------------------------------------------------- records and fields */

static void put_double(FILE *f, double v)
{
	char b[40];

	/* Whole amounts as plain digits: spreadsheets read "1200000", not "1.2e+06". */
	if (v > -1e15 && v < 1e15 && v == (double)(long long)v) {
		fprintf(f, "%lld", (long long)v);
		return;
	}
	for (int p = 6; p <= 17; p++) {
		snprintf(b, sizeof(b), "%.*g", p, v);
		if (strtod(b, NULL) == v)
			break;
	}
	fputs(b, f);
}

static void put_hex(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static size_t elem_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

static void put_message_inline(FILE *f, const ProtobufCMessage *m);

/* One scalar value at p (a field member or an array element). */
static void put_value(FILE *f, const ProtobufCFieldDescriptor *fd, const void *p)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
		fprintf(f, "%" PRId32, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
		fprintf(f, "%" PRIu32, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
		fprintf(f, "%" PRId64, *(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
		fprintf(f, "%" PRIu64, *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		put_double(f, *(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		put_double(f, *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		fputs(*(const protobuf_c_boolean *)p ? "true" : "false", f);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)p;
		const char *nm = proto_enum_name(fd->descriptor, v);
		if (nm)
			fputs(nm, f);
		else
			fprintf(f, "%d", v);
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		if (s)
			fputs(s, f);
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		put_hex(f, b->data, b->len);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
		if (m)
			put_message_inline(f, m);
		break;
	}
	}
}

/* How many values the field holds: 0 when unset, n for a repeated field. */
static size_t field_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
	const char *base = (const char *)m;

	if (fd->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(base + fd->quantifier_offset);
	if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + fd->quantifier_offset) == fd->id;
	if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(void *const *)(base + fd->offset) != NULL;
	if (fd->label == PROTOBUF_C_LABEL_OPTIONAL)
		return *(const protobuf_c_boolean *)(base + fd->quantifier_offset) ? 1 : 0;
	return 1;
}

static const void *field_elem(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd,
                              size_t i)
{
	const char *base = (const char *)m + fd->offset;

	if (fd->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const char *const *)base + i * elem_size(fd->type);
	return base;
}

static void put_field(FILE *f, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
	size_t n = field_count(m, fd);

	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs("; ", f);
		put_value(f, fd, field_elem(m, fd, i));
	}
}

static void put_message_inline(FILE *f, const ProtobufCMessage *m)
{
	bool first = true;

	for (unsigned i = 0; i < m->descriptor->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &m->descriptor->fields[i];
		if (!field_count(m, fd))
			continue;
		fprintf(f, "%s%s=", first ? "" : ", ", fd->name);
		put_field(f, m, fd);
		first = false;
	}
}

int cli_output_field(char **out, const ProtobufCMessage *msg, const char *name)
{
	const ProtobufCFieldDescriptor *fd;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	fd = protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, name);
	if (!fd)
		return PROTO_E_ARG;
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	put_field(f, msg, fd);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	return 0;
}

/* A value that may span lines: continuation lines indented under the key. */
static void put_block(FILE *f, const char *s, size_t indent)
{
	for (; *s; s++) {
		fputc(*s, f);
		if (*s == '\n' && s[1])
			fprintf(f, "%*s", (int)indent, "");
	}
}

void cli_output_fields(FILE *f, const ProtobufCMessage *msg, const char *prefix)
{
	for (unsigned i = 0; i < msg->descriptor->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &msg->descriptor->fields[i];
		size_t n = field_count(msg, fd);
		char *text = NULL;
		size_t len = 0;
		FILE *mf;

		if (!n)
			continue;
		if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
			for (size_t k = 0; k < n; k++) {
				const ProtobufCMessage *sub =
					*(ProtobufCMessage *const *)field_elem(msg, fd, k);
				char sp[160];
				if (!sub)
					continue;
				if (fd->label == PROTOBUF_C_LABEL_REPEATED)
					snprintf(sp, sizeof(sp), "%s%s[%zu].", prefix, fd->name, k);
				else
					snprintf(sp, sizeof(sp), "%s%s.", prefix, fd->name);
				cli_output_fields(f, sub, sp);
			}
			continue;
		}
		mf = open_memstream(&text, &len);
		if (!mf)
			continue;
		put_field(mf, msg, fd);
		if (fclose(mf) != 0) {
			free(text);
			continue;
		}
		fprintf(f, "%s%s: ", prefix, fd->name);
		put_block(f, text, strlen(prefix) + strlen(fd->name) + 2);
		fputc('\n', f);
		free(text);
	}
}

/* malloc()ed text of a field, "" when the message has no such field. */
char *cli_output_text(const ProtobufCMessage *msg, const char *name)
{
	char *s = NULL;

	if (!msg || cli_output_field(&s, msg, name) < 0)
		return strdup("");
	return s;
}

/* The year or years a record is about, for the table and CSV. */
char *cli_output_years(enum proto_kind kind, const ProtobufCMessage *msg)
{
	const char *a = NULL, *b = NULL;
	char *x, *y, *out = NULL;

	switch (kind) {
	case PROTO_KIND_MEASURE: a = "start_year"; b = "end_year"; break;
	case PROTO_KIND_TARGET: a = "baseline_year"; b = "target_year"; break;
	case PROTO_KIND_RESULT: a = "year"; break;
	case PROTO_KIND_LESSON: a = "year"; break;
	case PROTO_KIND_INVENTORY: a = "year"; break;
	default: return strdup("");
	}
	x = cli_output_text(msg, a);
	y = b ? cli_output_text(msg, b) : strdup("");
	if (x && y) {
		size_t cap = strlen(x) + strlen(y) + 8;
		out = malloc(cap);
		if (out) {
			if (*x && *y && strcmp(x, y))
				snprintf(out, cap, "%s\xe2\x80\x93%s", x, y);   /* en dash */
			else if (*y && !*x)
				snprintf(out, cap, "\xe2\x80\x93%s", y);
			else if (*x && b && !*y)
				snprintf(out, cap, "%s\xe2\x80\x93", x);
			else
				snprintf(out, cap, "%s", x);
		}
	}
	if (kind == PROTO_KIND_RESULT && out && !*out) {
		free(out);
		out = cli_output_text(msg, "period");
	}
	free(x);
	free(y);
	return out;
}

/* A one-line title for any kind. */
char *cli_output_title(enum proto_kind kind, const ProtobufCMessage *msg)
{
	char *a, *b, *c, *out;
	size_t cap;

	switch (kind) {
	case PROTO_KIND_RESULT:
		a = cli_output_text(msg, "indicator");
		b = cli_output_text(msg, "value");
		c = cli_output_text(msg, "unit");
		out = NULL;
		if (a && b && c) {
			cap = strlen(a) + strlen(b) + strlen(c) + 8;
			out = malloc(cap);
			if (out)
				snprintf(out, cap, "%s%s%s%s%s", a, *b ? ": " : "", b, *c ? " " : "", c);
		}
		free(a);
		free(b);
		free(c);
		return out;
	case PROTO_KIND_INVENTORY:
		a = cli_output_text(msg, "type");
		b = cli_output_text(msg, "year");
		out = NULL;
		if (a && b) {
			cap = strlen(a) + strlen(b) + 32;
			out = malloc(cap);
			if (out)
				snprintf(out, cap, "%s%s%s inventory", *a ? a : "emission",
				         *b ? " " : "", b);
			for (char *p = out; p && *p && p < out + strlen(a); p++)
				if (*p >= 'a' && *p <= 'z')
					*p = (char)(*p - 'a' + 'A');       /* "BEI 2019 inventory" */
		}
		free(a);
		free(b);
		return out;
	case PROTO_KIND_PROFILE:
	case PROTO_KIND_CHARTER:
	case PROTO_KIND_ADMISSION:
		return cli_output_text(msg, "name");
	case PROTO_KIND_ENDORSEMENT:
		return cli_output_text(msg, "note");
	case PROTO_KIND_REVOCATION:
	case PROTO_KIND_RETRACT:
		return cli_output_text(msg, "reason");
	default:
		return cli_output_text(msg, "title");
	}
}

void cli_output_time(char *buf, size_t cap, uint64_t ms, bool seconds)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&s, &tm)) {
		snprintf(buf, cap, "?");
		return;
	}
	strftime(buf, cap, seconds ? "%Y-%m-%d %H:%M:%S UTC" : "%Y-%m-%d %H:%M UTC", &tm);
}

/* ----------------------------------------------------- text and tables */

int cli_output_term_width(int fd)
{
	struct winsize ws;
	const char *env;

	if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	env = getenv("COLUMNS");
	if (env && *env) {
		long c = strtol(env, NULL, 10);
		if (c > 0 && c < 100000)
			return (int)c;
	}
	return 0;
}

/* Next code point of s (at most len bytes); bytes used, or 1 for a bad byte. */
static size_t next_cp(const char *s, size_t len, int *width)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;

	k = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &cp);
	if (k <= 0) {
		*width = 1;
		return 1;
	}
	*width = utf8proc_charwidth(cp);
	if (*width < 0)
		*width = 0;
	return (size_t)k;
}

size_t cli_output_width(const char *s)
{
	size_t len = strlen(s), w = 0;

	while (len) {
		int cw;
		size_t k = next_cp(s, len, &cw);
		w += (size_t)cw;
		s += k;
		len -= k;
	}
	return w;
}

/* Write s cut to at most `width` columns ("…" marks a cut), padded to pad. */
static void put_cell(FILE *f, const char *s, size_t width, size_t pad)
{
	size_t len = strlen(s), used = 0;

	if (cli_output_width(s) <= width) {
		fputs(s, f);
		used = cli_output_width(s);
	} else if (width > 0) {
		while (len) {
			int cw;
			size_t k = next_cp(s, len, &cw);
			if (used + (size_t)cw > width - 1)
				break;
			fwrite(s, 1, k, f);
			used += (size_t)cw;
			s += k;
			len -= k;
		}
		fputs("\xe2\x80\xa6", f);   /* … */
		used++;
	}
	for (; used < pad; used++)
		fputc(' ', f);
}

#define TABLE_FLOOR 3

struct cli_table {
	size_t ncols;
	const char *const *headers;
	unsigned *shrink;
	char **cells;               /* rows * ncols, each malloc()ed */
	size_t rows, cap;
};

struct cli_table *cli_table_new(size_t ncols, const char *const *headers,
                                const unsigned *shrink)
{
	struct cli_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->shrink = calloc(ncols, sizeof(*t->shrink));
	if (!t->shrink) {
		free(t);
		return NULL;
	}
	if (shrink)
		memcpy(t->shrink, shrink, ncols * sizeof(*shrink));
	t->ncols = ncols;
	t->headers = headers;
	return t;
}

void cli_table_free(struct cli_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->shrink);
	free(t);
}

size_t cli_table_rows(const struct cli_table *t)
{
	return t->rows;
}

int cli_table_add(struct cli_table *t, const char *const *cells)
{
	if (t->rows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **v = realloc(t->cells, cap * t->ncols * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->cells = v;
		t->cap = cap;
	}
	for (size_t c = 0; c < t->ncols; c++) {
		char *s = strdup(cells[c] ? cells[c] : "");
		if (!s) {
			for (size_t k = 0; k < c; k++)
				free(t->cells[t->rows * t->ncols + k]);
			return -ENOMEM;
		}
		for (char *p = s; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
		t->cells[t->rows * t->ncols + c] = s;
	}
	t->rows++;
	return 0;
}

void cli_table_print(struct cli_table *t, FILE *f, int width)
{
	size_t *w = calloc(t->ncols, sizeof(*w));
	size_t total = 0;

	if (!w)
		return;
	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = cli_output_width(t->headers[c]);
		for (size_t r = 0; r < t->rows; r++) {
			size_t cw = cli_output_width(t->cells[r * t->ncols + c]);
			if (cw > w[c])
				w[c] = cw;
		}
		total += w[c] + (c ? 2 : 0);
	}
	/*
	 * Shrink the widest shrinkable column one step at a time until the table
	 * fits: first down to each column's preferred minimum, then, on a very
	 * narrow terminal, down to TABLE_FLOOR columns each.
	 */
	for (int phase = 0; phase < 2; phase++) {
		while (width > 0 && total > (size_t)width) {
			size_t best = t->ncols;
			for (size_t c = 0; c < t->ncols; c++) {
				size_t floor = phase ? TABLE_FLOOR : t->shrink[c];
				if (t->shrink[c] && w[c] > floor && (best == t->ncols || w[c] > w[best]))
					best = c;
			}
			if (best == t->ncols)
				break;
			w[best]--;
			total--;
		}
	}
	for (size_t r = 0; r <= t->rows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = r ? t->cells[(r - 1) * t->ncols + c] : t->headers[c];
			bool last = c + 1 == t->ncols;
			put_cell(f, s, w[c], last ? 0 : w[c]);
			if (!last)
				fputs("  ", f);
		}
		fputc('\n', f);
	}
	free(w);
}

/* ------------------------------------------------------------------ CSV */

void cli_csv_field(FILE *f, const char *s)
{
	if (!s)
		s = "";
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void cli_csv_row(FILE *f, const char *const *cells, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		cli_csv_field(f, cells[i]);
	}
	fputs("\r\n", f);
}

/* ------------------------------------------------------------- bundles */

static uint64_t get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int cli_bundle_parse(struct cli_bundle_rec **recs, size_t *n, const uint8_t *buf, size_t len,
                     char *msg, size_t cap)
{
	struct cli_bundle_rec *v = NULL;
	size_t count = 0, vcap = 0, off;
	uint8_t hash[32];
	uint64_t declared;
	int rc = -EBADMSG;

	if (len < CLI_BUNDLE_MAGIC_LEN ||
	    memcmp(buf, CLI_BUNDLE_MAGIC, CLI_BUNDLE_MAGIC_LEN) != 0) {
		snprintf(msg, cap, "not an agora bundle (it does not start with \"AGORAB1\")");
		goto out;
	}
	off = CLI_BUNDLE_MAGIC_LEN;
	for (;;) {
		uint32_t rl;
		if (len - off < 4) {
			snprintf(msg, cap, "truncated at byte %zu: the file ends inside a record "
			         "header (no trailer)", len);
			goto out;
		}
		rl = (uint32_t)get_be(buf + off, 4);
		if (rl == 0)
			break;
		if (rl > PROTO_ENVELOPE_MAX) {
			snprintf(msg, cap, "corrupt at byte %zu: record %zu claims %u bytes "
			         "(at most %d)", off, count + 1, (unsigned)rl, PROTO_ENVELOPE_MAX);
			goto out;
		}
		if (len - off - 4 < rl) {
			snprintf(msg, cap, "truncated at byte %zu: record %zu needs %u bytes, "
			         "%zu are left", len, count + 1, (unsigned)rl, len - off - 4);
			goto out;
		}
		if (count == vcap) {
			size_t nc = vcap ? vcap * 2 : 64;
			struct cli_bundle_rec *nv = realloc(v, nc * sizeof(*nv));
			if (!nv) {
				snprintf(msg, cap, "out of memory");
				rc = -ENOMEM;
				goto out;
			}
			v = nv;
			vcap = nc;
		}
		v[count].env = buf + off + 4;
		v[count].len = rl;
		v[count].offset = off;
		count++;
		off += 4 + (size_t)rl;
	}
	if (len - off < CLI_BUNDLE_TRAILER_LEN) {
		snprintf(msg, cap, "truncated at byte %zu: the trailer is incomplete", len);
		goto out;
	}
	if (len - off > CLI_BUNDLE_TRAILER_LEN) {
		snprintf(msg, cap, "corrupt: %zu unexpected bytes after the trailer at byte %zu",
		         len - off - CLI_BUNDLE_TRAILER_LEN, off + CLI_BUNDLE_TRAILER_LEN);
		goto out;
	}
	declared = get_be(buf + off + 4, 8);
	if (declared != count) {
		snprintf(msg, cap, "corrupt: the trailer says %llu records, the file holds %zu",
		         (unsigned long long)declared, count);
		goto out;
	}
	crypto_generichash(hash, sizeof(hash), buf, off, NULL, 0);
	if (sodium_memcmp(hash, buf + off + 12, sizeof(hash)) != 0) {
		snprintf(msg, cap, "corrupt: checksum mismatch (the file was altered or damaged)");
		goto out;
	}
	*recs = v;
	*n = count;
	v = NULL;
	rc = 0;
out:
	free(v);
	return rc;
}

char *cli_alliance_name(struct store_txn *t, const uint8_t id[PROTO_ID_BYTES])
{
	struct store_record sr;
	Agora__Record *rec = NULL;
	char *name = NULL;

	if (store_get(t, id, &sr) < 0 || proto_envelope_decode(&rec, sr.env, sr.env_len, NULL) < 0)
		return NULL;
	if (proto_record_kind(rec) == PROTO_KIND_CHARTER && rec->charter && rec->charter->name)
		name = strdup(rec->charter->name);
	agora__record__free_unpacked(rec, NULL);
	return name;
}
