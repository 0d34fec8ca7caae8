/*
 * filter.c - the query filters that query, export, bundle create and
 * report share: their options, and their names resolved to ids.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/alliance_int.h"
#include "cli/cli_int.h"
#include "cli/filter_int.h"
#include "cli/names_int.h"
#include "cli/opt_int.h"

/* Folded as the store's search folds (store_text_fold: case and accents
 * do not count); malloc()ed, NULL on error. */
static char *fold(const char *s)
{
	char *f = NULL;
	size_t n;
	if (store_text_fold(&f, &n, s, strlen(s)) < 0)
		return strdup(s);       /* invalid UTF-8: compare bytes as given */
	return f;
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

int cli_filter_sector(struct cli_ctx *ctx, const char *opt, const char *val, void *field)
{
	return parse_enum(ctx, field, &agora__sector__descriptor, opt, val);
}

static int parse_area(struct cli_ctx *ctx, const char *opt, const char *val, void *field)
{
	return parse_enum(ctx, field, &agora__area__descriptor, opt, val);
}

static int parse_hazard(struct cli_ctx *ctx, const char *opt, const char *val, void *field)
{
	return parse_enum(ctx, field, &agora__hazard__descriptor, opt, val);
}

static int parse_status(struct cli_ctx *ctx, const char *opt, const char *val, void *field)
{
	return parse_enum(ctx, field, &agora__status__descriptor, opt, val);
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

/* field: the whole store_query (a governance kind is shown only when asked for). */
static int parse_kind(struct cli_ctx *ctx, const char *opt, const char *val, void *field)
{
	struct store_query *q = field;
	enum proto_kind k = proto_kind_parse(val);

	if (k == PROTO_KIND_NONE) {
		char list[512];
		kind_names(list, sizeof(list));
		cli_error(ctx, "%s: '%s' is not one of: %s", opt, val, list);
		return CLI_EXIT_USAGE;
	}
	q->kind = k;
	if (k < PROTO_KIND_PROFILE || k == PROTO_KIND_SUPERSEDE || k == PROTO_KIND_RETRACT)
		q->governance = true;
	return CLI_EXIT_OK;
}

static int parse_sort(struct cli_ctx *ctx, const char *opt, const char *val, void *field)
{
	struct cli_sort *sort = field;

	if (!strcmp(val, "newest"))
		sort->order = STORE_SORT_NEWEST;
	else if (!strcmp(val, "oldest"))
		sort->order = STORE_SORT_OLDEST;
	else if (!strcmp(val, "relevance"))
		sort->order = STORE_SORT_RELEVANCE;
	else {
		cli_error(ctx, "%s: '%s' is not one of: newest, oldest, relevance", opt, val);
		return CLI_EXIT_USAGE;
	}
	sort->set = true;
	return CLI_EXIT_OK;
}

static int parse_limit(struct cli_ctx *ctx, const char *opt, const char *val, void *field)
{
	struct cli_limit *l = field;
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(val, &end, 10);
	if (errno || end == val || *end || val[0] == '-') {
		cli_error(ctx, "%s: '%s' is not a number (0 means all)", opt, val);
		return CLI_EXIT_USAGE;
	}
	l->n = (size_t)n;
	l->set = true;
	return CLI_EXIT_OK;
}

const struct cli_opt cli_filter_opts[] = {
	CLI_FN("--kind", "KIND", "measure, result, lesson, target, inventory, profile,\n"
	       "endorsement (or admission, charter, ... for governance)",
	       struct cli_filter, q, parse_kind),
	CLI_STR("--municipality", "NAME", "author's municipality name, case-insensitive substring;\n"
	        "every matching municipality is included", struct cli_filter, municipality),
	CLI_FN("--sector", "S", "e.g. waste, residential_buildings, transport_public",
	       struct cli_filter, q.sector, cli_filter_sector),
	CLI_FN("--area", "A", "e.g. wetlands, district_heating, photovoltaics",
	       struct cli_filter, q.area, parse_area),
	CLI_FN("--hazard", "H", "e.g. extreme_heat, coastal_flood, drought",
	       struct cli_filter, q.hazard, parse_hazard),
	CLI_FN("--status", "S", "not_started, ongoing, completed, postponed, cancelled",
	       struct cli_filter, q.status, parse_status),
	CLI_STR("--tag", "TAG", "records with this tag (case and accents optional)",
	        struct cli_filter, q.tag),
	CLI_FN("--since", "YEAR", "records whose years reach YEAR or later",
	       struct cli_filter, q.year_from, cli_opt_year),
	CLI_FN("--until", "YEAR", "records whose years start in YEAR or earlier",
	       struct cli_filter, q.year_to, cli_opt_year),
	CLI_STR("--text", "\"WORDS\"", "full-text search: every word must occur, in any\n"
	        "inflection (da, nl, en, pl), case and accents optional;\n"
	        "word* for words it begins, \"a b\" in quotes for words in a row",
	        struct cli_filter, q.text),
	CLI_STR("--measure", "ID", "results, lessons and endorsements of this measure",
	        struct cli_filter, measure),
	CLI_STR("--alliance", "NAME|ID", "only this alliance (default: every alliance held)",
	        struct cli_filter, alliance),
	CLI_FLAG("--history", "include superseded versions", struct cli_filter, q.history),
	CLI_FN("--sort", "ORDER", "newest, oldest, relevance (the default with --text,\n"
	       "else newest)", struct cli_filter, sort, parse_sort),
	CLI_FN("--limit", "N", "at most N records; 0 = all", struct cli_filter, limit, parse_limit),
	CLI_OPT_END,
};

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

bool cli_filter_any(const struct cli_filter *f)
{
	const struct store_query *q = &f->q;

	return q->kind || f->municipality || q->sector || q->area || q->hazard || q->status ||
	       q->tag || q->year_from || q->year_to || q->text || f->measure || q->history;
}

static int resolve_municipality(struct cli_filter *f, struct cli_ctx *ctx,
                                struct cli_names *names)
{
	char *pat = NULL, *known = NULL;
	size_t known_len = 0, count;
	FILE *kf = NULL;
	int rc = CLI_EXIT_ERROR, err;

	err = cli_names_load(names);
	if (err < 0) {
		cli_error(ctx, "cannot read municipality names: %s", store_strerror(err));
		goto out;
	}
	count = cli_names_count(names);
	pat = fold(f->municipality);
	f->authors = calloc(STORE_QUERY_MAX_AUTHORS, sizeof(*f->authors));
	if (!pat || !f->authors) {
		cli_error(ctx, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		const uint8_t *key;
		char *nm = fold(cli_names_at(names, i, &key));
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
		memcpy(f->authors[f->q.n_authors++], key, PROTO_KEY_BYTES);
	}
	if (f->q.n_authors == 0) {
		kf = open_memstream(&known, &known_len);
		if (!kf) {
			cli_error(ctx, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < count; i++) {
			const uint8_t *key;
			fprintf(kf, "%s%s", i ? ", " : "", cli_names_at(names, i, &key));
		}
		fclose(kf);
		kf = NULL;
		if (count)
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

	if (f->limit.set)
		f->q.limit = f->limit.n;
	/* a text search: best matches first, unless --sort says otherwise */
	f->q.sort = f->sort.set ? f->sort.order : f->q.text ? STORE_SORT_RELEVANCE : STORE_SORT_NEWEST;
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

