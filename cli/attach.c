/*
 * attach.c - attachments in the CLI: `agora publish --attach FILE` puts
 * the file into the blob store and lists it in the record (`agora amend
 * --attach` adds to a new version's list, `--detach N` takes one off it);
 * `agora show` lists a record's attachments and says which are not fetched
 * yet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cli/attach_int.h"
#include "cli/home_int.h"

int cli_attach_opt(struct cli_ctx *ctx, const char *opt, const char *val, void *field)
{
	struct cli_attach_files *f = field;

	if (f->n >= PROTO_ATTACH_MAX) {
		cli_error(ctx, "%s: at most %d files can be attached to one record", opt,
		          PROTO_ATTACH_MAX);
		return CLI_EXIT_USAGE;
	}
	f->files[f->n++] = val;
	return CLI_EXIT_OK;
}

void cli_attach_size(char *out, size_t cap, uint64_t b)
{
	if (b < 1000)
		snprintf(out, cap, "%llu bytes", (unsigned long long)b);
	else if (b < 1000000)
		snprintf(out, cap, "%.0f kB", (double)b / 1e3);
	else if (b < 1000000000)
		snprintf(out, cap, "%.1f MB", (double)b / 1e6);
	else
		snprintf(out, cap, "%.2f GB", (double)b / 1e9);
}

/* The media type of a file, from its extension: what municipalities attach. */
static const char *media_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ "pdf", "application/pdf" },   { "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" },       { "png", "image/png" },
		{ "gif", "image/gif" },         { "webp", "image/webp" },
		{ "svg", "image/svg+xml" },     { "tif", "image/tiff" },
		{ "tiff", "image/tiff" },       { "csv", "text/csv" },
		{ "txt", "text/plain" },        { "json", "application/json" },
		{ "xml", "application/xml" },   { "zip", "application/zip" },
		{ "geojson", "application/geo+json" },
		{ "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
		{ "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
		{ "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation" },
		{ "ods", "application/vnd.oasis.opendocument.spreadsheet" },
		{ "odt", "application/vnd.oasis.opendocument.text" },
		{ "mp4", "video/mp4" },
	};
	const char *dot = strrchr(name, '.');

	if (dot)
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcasecmp(dot + 1, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

/* The attachment list of a Measure, Result or Lesson message. */
static int list_of(ProtobufCMessage *body, enum proto_kind kind, size_t **n,
                   Agora__Attachment ****list)
{
	switch (kind) {
	case PROTO_KIND_MEASURE:
		*n = &((Agora__Measure *)body)->n_attachments;
		*list = &((Agora__Measure *)body)->attachments;
		return 0;
	case PROTO_KIND_RESULT:
		*n = &((Agora__Result *)body)->n_attachments;
		*list = &((Agora__Result *)body)->attachments;
		return 0;
	case PROTO_KIND_LESSON:
		*n = &((Agora__Lesson *)body)->n_attachments;
		*list = &((Agora__Lesson *)body)->attachments;
		return 0;
	default:
		return -EINVAL;
	}
}

static Agora__Attachment *attachment_new(const uint8_t hash[PROTO_HASH_BYTES], uint64_t size,
                                         const char *type, const char *name)
{
	Agora__Attachment *a = malloc(sizeof(*a));

	if (!a)
		return NULL;
	agora__attachment__init(a);
	a->hash.data = malloc(PROTO_HASH_BYTES);
	a->media_type = strdup(type);
	a->name = strdup(name);
	if (!a->hash.data || !a->media_type || !a->name) {
		agora__attachment__free_unpacked(a, NULL);
		return NULL;
	}
	memcpy(a->hash.data, hash, PROTO_HASH_BYTES);
	a->hash.len = PROTO_HASH_BYTES;
	a->has_hash = 1;
	a->size = size;
	a->has_size = 1;
	return a;
}

int cli_attach_push(ProtobufCMessage *body, enum proto_kind kind,
                    const uint8_t hash[PROTO_HASH_BYTES], uint64_t size, const char *name)
{
	Agora__Attachment ***list, **grown, *a;
	size_t *n;

	if (list_of(body, kind, &n, &list) < 0)
		return -EINVAL;
	if (!(a = attachment_new(hash, size, media_type(name), name)))
		return -ENOMEM;
	if (!(grown = realloc(*list, (*n + 1) * sizeof(**list)))) {
		agora__attachment__free_unpacked(a, NULL);
		return -ENOMEM;
	}
	grown[(*n)++] = a;
	*list = grown;
	return 0;
}

int cli_attach_drop_opt(struct cli_ctx *ctx, const char *opt, const char *val, void *field)
{
	struct cli_attach_drop *d = field;
	char *end;
	unsigned long k;

	errno = 0;
	k = strtoul(val, &end, 10);
	if (errno || end == val || *end || val[0] == '-' || k >= PROTO_ATTACH_MAX) {
		cli_error(ctx, "%s: '%s' is not an attachment number (0 to %d, as `agora show` "
		          "lists them)", opt, val, PROTO_ATTACH_MAX - 1);
		return CLI_EXIT_USAGE;
	}
	d->mask |= 1u << k;
	return CLI_EXIT_OK;
}

int cli_attach_drop(struct cli_ctx *ctx, ProtobufCMessage *body, enum proto_kind kind,
                    const struct cli_attach_drop *drop)
{
	Agora__Attachment ***list;
	size_t *n, k = 0;

	if (!drop->mask)
		return CLI_EXIT_OK;
	if (list_of(body, kind, &n, &list) < 0) {
		cli_error(ctx, "--detach: only a measure, a result or a lesson carries files");
		return CLI_EXIT_INPUT;
	}
	for (unsigned i = 0; i < PROTO_ATTACH_MAX; i++)
		if ((drop->mask >> i & 1) && i >= *n) {
			cli_error(ctx, "--detach %u: the record has no attachment %u (it has %zu; "
			          "`agora show ID` numbers them)", i, i, *n);
			return CLI_EXIT_INPUT;
		}
	for (size_t i = 0; i < *n; i++) {
		if (drop->mask >> i & 1)
			agora__attachment__free_unpacked((*list)[i], NULL);
		else
			(*list)[k++] = (*list)[i];
	}
	*n = k;
	return CLI_EXIT_OK;
}

int cli_attach_add(struct cli_ctx *ctx, ProtobufCMessage *body, enum proto_kind kind,
                   const struct cli_attach_files *files)
{
	struct store_conf conf;
	Agora__Attachment ***list;
	uint64_t max;
	size_t *n;
	int ret;

	if (!files->n)
		return CLI_EXIT_OK;
	if (list_of(body, kind, &n, &list) < 0) {
		cli_error(ctx, "--attach: only a measure, a result or a lesson carries files");
		return CLI_EXIT_INPUT;
	}
	if (*n + files->n > PROTO_ATTACH_MAX) {
		cli_error(ctx, "--attach: at most %d files can be attached to one record",
		          PROTO_ATTACH_MAX);
		return CLI_EXIT_INPUT;
	}
	if ((ret = cli_conf_load(ctx, &conf)) != CLI_EXIT_OK)
		return ret;
	max = conf.attach_max_file ? conf.attach_max_file : STORE_ATTACH_MAX_FILE_DEFAULT;
	store_conf_dispose(&conf);
	for (size_t i = 0; i < files->n; i++) {
		const char *path = files->files[i], *base = strrchr(path, '/');
		uint8_t hash[PROTO_HASH_BYTES];
		char lim[32], has[32];
		uint64_t size = 0;
		int rc;

		base = base ? base + 1 : path;
		rc = store_blob_add(hash, &size, ctx->home, path, max);
		if (rc == STORE_E_TOO_LARGE) {
			FILE *fp = fopen(path, "rb");
			long long len = -1;
			if (fp && fseeko(fp, 0, SEEK_END) == 0)
				len = (long long)ftello(fp);
			if (fp)
				fclose(fp);
			cli_attach_size(lim, sizeof(lim), max);
			cli_attach_size(has, sizeof(has), len > 0 ? (uint64_t)len : 0);
			cli_error(ctx, "--attach %s: the file is %s, larger than the limit of %s for "
			          "an attachment ([attachments] max-file in agora.conf)", path, has, lim);
			return CLI_EXIT_INPUT;
		}
		if (rc == -EINVAL) {
			cli_error(ctx, "--attach %s: not a file with something in it", path);
			return CLI_EXIT_INPUT;
		}
		if (rc < 0) {
			cli_error(ctx, "--attach %s: %s", path, store_strerror(rc));
			return rc == -ENOENT || rc == -EACCES || rc == -EISDIR ? CLI_EXIT_INPUT
			                                                        : CLI_EXIT_ERROR;
		}
		if (cli_attach_push(body, kind, hash, size, base) < 0) {
			cli_error(ctx, "out of memory");
			return CLI_EXIT_ERROR;
		}
	}
	return CLI_EXIT_OK;
}

void cli_attach_print(struct cli_ctx *ctx, FILE *out, const Agora__Record *rec)
{
	Agora__Attachment *const *list = NULL;
	int n = proto_record_attachments(&list, rec);

	if (n == PROTO_E_FIELD) {
		fprintf(out, "\nattachments:  (listed in a form this version cannot read)\n");
		return;
	}
	if (n <= 0)
		return;
	fprintf(out, "\nattachments:  (agora attachment get ID[:N] writes one out)\n");
	for (int i = 0; i < n; i++) {
		const Agora__Attachment *a = list[i];
		char size[32], hex[PROTO_HASH_BYTES * 2 + 1];
		bool have = store_blob_stat(NULL, ctx->home, a->hash.data) == 0;

		cli_attach_size(size, sizeof(size), a->size);
		proto_hex(hex, a->hash.data, PROTO_HASH_BYTES);
		fprintf(out, "  [%d] %s  %s  %s%s\n      %s\n", i, a->name, size, a->media_type,
		        have ? "" : "  (not fetched yet)", hex);
	}
}

json_t *cli_attach_json(struct cli_ctx *ctx, const Agora__Record *rec)
{
	Agora__Attachment *const *list = NULL;
	int n = proto_record_attachments(&list, rec);
	json_t *arr;

	if (n <= 0 || !(arr = json_array()))
		return NULL;
	for (int i = 0; i < n; i++) {
		const Agora__Attachment *a = list[i];
		char hex[PROTO_HASH_BYTES * 2 + 1];
		proto_hex(hex, a->hash.data, PROTO_HASH_BYTES);
		json_array_append_new(arr, json_pack("{s:i, s:s, s:I, s:s, s:s, s:b}",
		                                     "index", i, "name", a->name,
		                                     "size", (json_int_t)a->size,
		                                     "media_type", a->media_type, "hash", hex,
		                                     "fetched", store_blob_stat(NULL, ctx->home,
		                                                                a->hash.data) == 0));
	}
	return arr;
}
