/*
 * json.c - records to and from JSON, generically from the protobuf-c
 * descriptors (see json.h for the shape).  No per-kind code: a field is
 * found by its proto name and converted by its descriptor type.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/fields_int.h"
#include "cli/format_int.h"
#include "cli/json_int.h"

/* A "ref" label of a record in this file, or one added by json_refs_add. */
struct json_label {
	char *name;
	size_t rec;                 /* index of the record that carries it */
	bool known;                 /* id is set (json_refs_add) */
	uint8_t id[PROTO_ID_BYTES];
};

/* A bytes value that waits for the id of an earlier record of the file. */
struct json_fixup {
	size_t rec;                 /* record to patch */
	size_t label;               /* index into labels */
	const ProtobufCMessageDescriptor *body; /* descriptor fd belongs to */
	const ProtobufCFieldDescriptor *fd; /* body field; NULL: the Supersede target */
	size_t elem;                /* element of a repeated field */
};

struct json_refs {
	struct store_txn *t;
	struct json_label *labels;
	size_t n_labels;
	struct json_fixup *fix;
	size_t n_fix;
	size_t count;               /* records built so far */
};

/* Keys that are not body fields. */
static const char *const reserved[] = {
	"kind", "ref", "alliance", "supersedes", "id", "author", "seq", "prev",
	"created_ms", "created", "municipality",
};

static int fail(struct proto_error *err, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct proto_error *err, const char *path, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return PROTO_E_FIELD;
	err->code = PROTO_E_FIELD;
	snprintf(err->field, sizeof(err->field), "%s", path);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return PROTO_E_FIELD;
}

static int oom(struct proto_error *err, const char *path)
{
	fail(err, path, "out of memory");
	if (err)
		err->code = PROTO_E_NOMEM;
	return PROTO_E_NOMEM;
}

struct json_refs *json_refs_new(struct store_txn *t)
{
	struct json_refs *r = calloc(1, sizeof(*r));
	if (r)
		r->t = t;
	return r;
}

void json_refs_free(struct json_refs *r)
{
	if (!r)
		return;
	for (size_t k = 0; k < r->n_labels; k++)
		free(r->labels[k].name);
	free(r->labels);
	free(r->fix);
	free(r);
}

static struct json_label *label_find(struct json_refs *r, const char *name, size_t *idx)
{
	for (size_t k = 0; k < r->n_labels; k++)
		if (!strcmp(r->labels[k].name, name)) {
			if (idx)
				*idx = k;
			return &r->labels[k];
		}
	return NULL;
}

static struct json_label *label_add(struct json_refs *r, const char *name)
{
	struct json_label *grown = realloc(r->labels, (r->n_labels + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	r->labels = grown;
	memset(&grown[r->n_labels], 0, sizeof(*grown));
	if (!(grown[r->n_labels].name = strdup(name)))
		return NULL;
	return &grown[r->n_labels++];
}

int json_refs_add(struct json_refs *r, const char *ref, const uint8_t id[PROTO_ID_BYTES])
{
	struct json_label *l = label_find(r, ref, NULL);
	if (!l && !(l = label_add(r, ref)))
		return PROTO_E_NOMEM;
	l->known = true;
	memcpy(l->id, id, PROTO_ID_BYTES);
	return 0;
}

void json_refs_skip(struct json_refs *r)
{
	if (r)
		r->count++;
}

int json_refs_patch(struct json_refs *r, Agora__Record *rec, size_t i,
                    const uint8_t (*ids_so_far)[PROTO_ID_BYTES])
{
	const ProtobufCMessage *content = NULL;

	proto_record_content(rec, &content);
	for (size_t k = 0; k < r->n_fix; k++) {
		const struct json_fixup *fx = &r->fix[k];
		const struct json_label *l = &r->labels[fx->label];
		ProtobufCBinaryData *b;
		char *base;

		if (fx->rec != i)
			continue;
		if (l->rec >= i)
			return PROTO_E_ARG;
		if (!fx->fd) {
			if (rec->body_case != AGORA__RECORD__BODY_SUPERSEDE)
				return PROTO_E_ARG;
			b = &rec->supersede->target;
		} else {
			if (!content || content->descriptor != fx->body)
				return PROTO_E_ARG;
			base = (char *)content;
			if (fx->fd->label == PROTOBUF_C_LABEL_REPEATED) {
				size_t n = *(size_t *)(base + fx->fd->quantifier_offset);
				if (fx->elem >= n)
					return PROTO_E_ARG;
				b = &(*(ProtobufCBinaryData **)(base + fx->fd->offset))[fx->elem];
			} else {
				b = (ProtobufCBinaryData *)(base + fx->fd->offset);
			}
		}
		if (!b->data || b->len != PROTO_ID_BYTES)
			return PROTO_E_ARG;
		memcpy(b->data, ids_so_far[l->rec], PROTO_ID_BYTES);
	}
	return 0;
}

/* ------------------------------------------------------------ reading */

struct build {
	struct json_refs *refs;     /* may be NULL */
	struct proto_error *err;
	const ProtobufCMessageDescriptor *body; /* top-level body descriptor */
	size_t rec;                 /* index of the record being built */
};

static int fill_message(struct build *b, ProtobufCMessage *msg, json_t *obj, const char *path,
                        int depth);

static int add_fixup(struct build *b, size_t label, const ProtobufCFieldDescriptor *fd,
                     size_t elem)
{
	struct json_refs *r = b->refs;
	struct json_fixup *grown = realloc(r->fix, (r->n_fix + 1) * sizeof(*grown));
	if (!grown)
		return PROTO_E_NOMEM;
	r->fix = grown;
	grown[r->n_fix++] = (struct json_fixup){ .rec = b->rec, .label = label, .body = b->body,
	                                          .fd = fd, .elem = elem };
	return 0;
}

/* A record id from JSON text: full id, unique prefix, or "@ref". */
static int parse_id(struct build *b, uint8_t id[PROTO_ID_BYTES], const char *s, const char *path,
                    const ProtobufCFieldDescriptor *fd, size_t elem, bool top)
{
	char msg[192];

	if (s[0] == '@') {
		struct json_label *l;
		size_t idx;
		if (!b->refs || !(l = label_find(b->refs, s + 1, &idx)))
			return fail(b->err, path, "'%s' names no record: give an earlier record "
			            "\"ref\": \"%s\"", s, s + 1);
		if (l->known) {
			memcpy(id, l->id, PROTO_ID_BYTES);
			return 0;
		}
		if (l->rec >= b->rec)
			return fail(b->err, path, "'%s' must name a record earlier in the file", s);
		if (!top)
			return fail(b->err, path, "'%s': an @ref cannot be used here", s);
		memset(id, 0, PROTO_ID_BYTES);
		return add_fixup(b, idx, fd, elem) < 0 ? oom(b->err, path) : 0;
	}
	if (fields_parse_id(id, s, b->refs ? b->refs->t : NULL, msg, sizeof(msg)) < 0)
		return fail(b->err, path, "%s", msg);
	return 0;
}

/* One JSON value into the slot v of field fd. */
static int set_value(struct build *b, const ProtobufCFieldDescriptor *fd, void *v, json_t *val,
                     const char *path, size_t elem, int depth)
{
	double d;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
		if (!json_is_string(val))
			return fail(b->err, path, "must be a text string");
		if (strlen(json_string_value(val)) != json_string_length(val))
			return fail(b->err, path, "must not contain a NUL character");
		if (!(*(char **)v = strdup(json_string_value(val))))
			return oom(b->err, path);
		fields_country_case(fd, *(char **)v);
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(val))
			return fail(b->err, path, "must be true or false");
		*(protobuf_c_boolean *)v = json_is_true(val);
		return 0;
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_FLOAT:
		if (!json_is_number(val))
			return fail(b->err, path, "must be a number");
		d = json_number_value(val);
		if (!isfinite(d))
			return fail(b->err, path, "must be a finite number");
		if (fd->type == PROTOBUF_C_TYPE_FLOAT)
			*(float *)v = (float)d;
		else
			*(double *)v = d;
		return 0;
	case PROTOBUF_C_TYPE_ENUM: {
		int e;
		char msg[192];
		if (!json_is_string(val))
			return fail(b->err, path, "must be a name in quotes (see `agora publish KIND --help`)");
		if (proto_enum_parse(&e, fd->descriptor, json_string_value(val)) < 0 || e == 0) {
			fields_enum_error(msg, sizeof(msg), fd->descriptor, json_string_value(val));
			return fail(b->err, path, "%s", msg);
		}
		*(int *)v = e;
		return 0;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *bd = v;
		uint8_t id[PROTO_ID_BYTES];
		int rc;
		if (!json_is_string(val))
			return fail(b->err, path, "must be a record id in quotes (hex, or \"@ref\")");
		if ((rc = parse_id(b, id, json_string_value(val), path, fd, elem, depth == 0)) < 0)
			return rc;
		if (!(bd->data = malloc(PROTO_ID_BYTES)))
			return oom(b->err, path);
		memcpy(bd->data, id, PROTO_ID_BYTES);
		bd->len = PROTO_ID_BYTES;
		return 0;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		ProtobufCMessage *m;
		if (!json_is_object(val))
			return fail(b->err, path, "must be an object {...}");
		if (!(m = fields_new_message(fd->descriptor)))
			return oom(b->err, path);
		*(ProtobufCMessage **)v = m;
		return fill_message(b, m, val, path, depth + 1);
	}
	default:
		break;
	}

	/* Integer types. */
	{
		bool is_unsigned = fd->type == PROTOBUF_C_TYPE_UINT32 || fd->type == PROTOBUF_C_TYPE_UINT64 ||
		                   fd->type == PROTOBUF_C_TYPE_FIXED32 || fd->type == PROTOBUF_C_TYPE_FIXED64;
		bool is32 = fd->type == PROTOBUF_C_TYPE_UINT32 || fd->type == PROTOBUF_C_TYPE_FIXED32 ||
		            fd->type == PROTOBUF_C_TYPE_INT32 || fd->type == PROTOBUF_C_TYPE_SINT32 ||
		            fd->type == PROTOBUF_C_TYPE_SFIXED32;
		json_int_t n;

		d = json_is_real(val) ? json_real_value(val) : 0.5;
		if (json_is_integer(val)) {
			n = json_integer_value(val);
		} else if (json_is_real(val) && d == floor(d) && fabs(d) < 9007199254740992.0) {
			n = (json_int_t)d;
		} else {
			return fail(b->err, path, "must be a whole number");
		}
		if (is_unsigned && n < 0)
			return fail(b->err, path, "must be zero or more");
		if (is32 && (is_unsigned ? n > (json_int_t)UINT32_MAX : (n < INT32_MIN || n > INT32_MAX)))
			return fail(b->err, path, "%lld is too large", (long long)n);
		if (is32 && is_unsigned)
			*(uint32_t *)v = (uint32_t)n;
		else if (is32)
			*(int32_t *)v = (int32_t)n;
		else if (is_unsigned)
			*(uint64_t *)v = (uint64_t)n;
		else
			*(int64_t *)v = (int64_t)n;
		return 0;
	}
}

static int set_field(struct build *b, ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd,
                     json_t *val, const char *path, int depth)
{
	char sub[96];
	void *v;
	int rc;

	if (json_is_null(val))
		return 0;
	if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
		if (!(v = fields_slot(msg, fd)))
			return oom(b->err, path);
		if ((rc = set_value(b, fd, v, val, path, 0, depth)) < 0)
			fields_clear(msg, fd);
		return rc;
	}
	/* A repeated field takes an array; a single value is a list of one. */
	if (!json_is_array(val)) {
		if (!(v = fields_slot(msg, fd)))
			return oom(b->err, path);
		return set_value(b, fd, v, val, path, 0, depth);
	}
	for (size_t k = 0; k < json_array_size(val); k++) {
		if (snprintf(sub, sizeof(sub), "%s[%zu]", path, k) < 0)
			sub[0] = '\0';
		if (!(v = fields_slot(msg, fd)))
			return oom(b->err, sub);
		if ((rc = set_value(b, fd, v, json_array_get(val, k), sub, k, depth)) < 0)
			return rc;
	}
	return 0;
}

static bool is_reserved(const char *key)
{
	for (size_t k = 0; k < sizeof(reserved) / sizeof(reserved[0]); k++)
		if (!strcmp(key, reserved[k]))
			return true;
	return false;
}

static int fill_message(struct build *b, ProtobufCMessage *msg, json_t *obj, const char *path,
                        int depth)
{
	const char *key;
	json_t *val;
	char sub[96];
	int rc;

	json_object_foreach(obj, key, val) {
		const ProtobufCFieldDescriptor *fd;
		if (depth == 0 && is_reserved(key))
			continue;
		if (snprintf(sub, sizeof(sub), "%s.%s", path, key) < 0)
			sub[0] = '\0';
		fd = protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, key);
		if (!fd || (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			return fail(b->err, sub, "is not a field of %s (see `agora publish %s --help`)",
			            path, depth == 0 ? path : "KIND");
		if ((rc = set_field(b, msg, fd, val, sub, depth)) < 0)
			return rc;
	}
	return 0;
}

static const char *kinds_allowed = "measure, result, lesson, target, inventory, endorsement, "
                                   "profile or retract";

static bool kind_allowed(enum proto_kind k)
{
	return (k >= PROTO_KIND_PROFILE && k <= PROTO_KIND_ENDORSEMENT) || k == PROTO_KIND_RETRACT ||
	       /* content kinds added after version 1 (the test build's test_note) */
	       (k > PROTO_KIND_RETRACT && proto_kind_known(k) && !proto_kind_governance(k));
}

/* Set the oneof member of `holder` whose field number is `number` to body. */
static int set_oneof(ProtobufCMessage *holder, uint32_t number, ProtobufCMessage *body)
{
	const ProtobufCFieldDescriptor *fd =
		protobuf_c_message_descriptor_get_field(holder->descriptor, (unsigned)number);
	void *v;

	if (!fd || fd->type != PROTOBUF_C_TYPE_MESSAGE || !(v = fields_slot(holder, fd)))
		return PROTO_E_ARG;
	*(ProtobufCMessage **)v = body;
	return 0;
}

int json_record_wrap(Agora__Record **rec_out, enum proto_kind kind, ProtobufCMessage *body,
                     const uint8_t *supersedes)
{
	Agora__Record *rec = (Agora__Record *)fields_new_message(&agora__record__descriptor);
	Agora__Supersede *sup = NULL;
	int rc;

	if (!rec)
		return PROTO_E_NOMEM;
	if (supersedes) {
		if (!(sup = (Agora__Supersede *)fields_new_message(&agora__supersede__descriptor)) ||
		    !(sup->target.data = malloc(PROTO_ID_BYTES))) {
			free(sup);
			free(rec);
			return PROTO_E_NOMEM;
		}
		memcpy(sup->target.data, supersedes, PROTO_ID_BYTES);
		sup->target.len = PROTO_ID_BYTES;
		sup->has_target = 1;
		if ((rc = set_oneof(&sup->base, (uint32_t)kind, body)) < 0) {
			agora__supersede__free_unpacked(sup, NULL);
			free(rec);
			return rc;
		}
		if ((rc = set_oneof(&rec->base, PROTO_KIND_SUPERSEDE, &sup->base)) < 0) {
			sup->body_case = AGORA__SUPERSEDE__BODY__NOT_SET; /* body stays the caller's */
			agora__supersede__free_unpacked(sup, NULL);
			free(rec);
			return rc;
		}
	} else if ((rc = set_oneof(&rec->base, (uint32_t)kind, body)) < 0) {
		free(rec);
		return rc;
	}
	*rec_out = rec;
	return 0;
}

int json_to_record(Agora__Record **rec_out, const char **ref_out, const char **alliance_out,
                   json_t *obj, struct json_refs *refs, struct proto_error *err)
{
	struct build b = { .refs = refs, .err = err, .rec = refs ? refs->count : 0 };
	const ProtobufCMessageDescriptor *desc;
	ProtobufCMessage *body = NULL;
	Agora__Record *rec = NULL;
	const char *kname, *ref = NULL, *alliance = NULL;
	json_t *v;
	enum proto_kind kind;
	uint8_t target[PROTO_ID_BYTES];
	bool supersedes = false;
	size_t label_idx = 0;
	bool label_new = false;
	int rc;

	if (!json_is_object(obj))
		return fail(err, "", "each record must be a JSON object {...}");
	v = json_object_get(obj, "kind");
	if (!v)
		return fail(err, "kind", "is required (%s)", kinds_allowed);
	if (!json_is_string(v) || !kind_allowed(kind = proto_kind_parse(json_string_value(v))))
		return fail(err, "kind", "'%s' is not a kind that can be published here (%s)",
		            json_is_string(v) ? json_string_value(v) : "?", kinds_allowed);
	kname = proto_kind_name(kind);
	desc = proto_kind_descriptor(kind);
	b.body = desc;

	if ((v = json_object_get(obj, "ref")) && !json_is_null(v)) {
		if (!json_is_string(v) || !json_string_value(v)[0])
			return fail(err, "ref", "must be a non-empty text label");
		ref = json_string_value(v);
		if (refs) {
			if (label_find(refs, ref, NULL))
				return fail(err, "ref", "'%s' is used by an earlier record: labels must be unique",
				            ref);
			if (!label_add(refs, ref))
				return oom(err, "ref");
			label_idx = refs->n_labels - 1;
			label_new = true;
			refs->labels[label_idx].rec = b.rec;
		}
	}
	if ((v = json_object_get(obj, "alliance")) && !json_is_null(v)) {
		if (!json_is_string(v)) {
			rc = fail(err, "alliance", "must be an alliance name or id in quotes");
			goto fail;
		}
		alliance = json_string_value(v);
	}
	if (!(body = fields_new_message(desc))) {
		rc = oom(err, kname);
		goto fail;
	}
	if ((rc = fill_message(&b, body, obj, kname, 0)) < 0)
		goto fail;
	if ((v = json_object_get(obj, "supersedes")) && !json_is_null(v)) {
		if (kind == PROTO_KIND_RETRACT) {
			rc = fail(err, "supersedes", "a retraction cannot supersede a record");
			goto fail;
		}
		if (!json_is_string(v)) {
			rc = fail(err, "supersedes", "must be a record id in quotes (hex, or \"@ref\")");
			goto fail;
		}
		if ((rc = parse_id(&b, target, json_string_value(v), "supersedes", NULL, 0, true)) < 0)
			goto fail;
		supersedes = true;
	}
	if ((rc = json_record_wrap(&rec, kind, body, supersedes ? target : NULL)) < 0) {
		oom(err, kname);
		goto fail;
	}
	if (refs)
		refs->count++;
	if (ref_out)
		*ref_out = ref;
	if (alliance_out)
		*alliance_out = alliance;
	*rec_out = rec;
	return 0;
fail:
	if (body)
		protobuf_c_message_free_unpacked(body, NULL);
	if (refs) {
		/* Forget what this record registered: it was not built. */
		size_t keep = 0;
		for (size_t k = 0; k < refs->n_fix; k++)
			if (refs->fix[k].rec != b.rec)
				refs->fix[keep++] = refs->fix[k];
		refs->n_fix = keep;
		if (label_new) {
			free(refs->labels[label_idx].name);
			refs->n_labels--;
		}
	}
	return rc;
}

void json_record_free(Agora__Record *rec)
{
	if (rec)
		agora__record__free_unpacked(rec, NULL);
}

/* ------------------------------------------------------------ writing */

static json_t *hex_value(const uint8_t *data, size_t len)
{
	char *hex = malloc(len * 2 + 1);
	json_t *v;

	if (!hex)
		return NULL;
	proto_hex(hex, data, len);
	v = json_string(hex);
	free(hex);
	return v;
}

static json_t *value_json(const ProtobufCFieldDescriptor *fd, const void *v)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
		return json_string(*(char *const *)v ? *(char *const *)v : "");
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)v);
	case PROTOBUF_C_TYPE_DOUBLE:
		return json_real(*(const double *)v);
	case PROTOBUF_C_TYPE_FLOAT:
		return json_real(*(const float *)v);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_integer((json_int_t)*(const uint32_t *)v);
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return json_integer((json_int_t)*(const int32_t *)v);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return json_integer((json_int_t)*(const uint64_t *)v);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return json_integer((json_int_t)*(const int64_t *)v);
	case PROTOBUF_C_TYPE_ENUM: {
		const char *n = proto_enum_name(fd->descriptor, *(const int *)v);
		return n ? json_string(n) : json_integer(*(const int *)v);
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = v;
		return hex_value(b->data, b->len);
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(ProtobufCMessage *const *)v ? json_from_message(*(ProtobufCMessage *const *)v)
		                                     : json_null();
	}
	return json_null();
}

json_t *json_from_message(const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	json_t *obj = json_object();

	if (!obj)
		return NULL;
	for (unsigned k = 0; k < d->n_fields; k++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[k];
		const char *base = (const char *)msg;
		json_t *v;

		if (!fields_has(msg, fd))
			continue;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + fd->quantifier_offset);
			const char *arr = *(char *const *)(base + fd->offset);
			if (!(v = json_array()))
				goto fail;
			for (size_t j = 0; j < n; j++)
				if (json_array_append_new(v, value_json(fd, arr + j * fields_elem_size(fd))) < 0) {
					json_decref(v);
					goto fail;
				}
		} else {
			v = value_json(fd, base + fd->offset);
		}
		if (!v || json_object_set_new(obj, fd->name, v) < 0)
			goto fail;
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}

/* "2026-11-23T10:15:00.123Z" */
static json_t *iso_time(uint64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	char buf[48];
	size_t n;

	if (!gmtime_r(&secs, &tm))
		return json_null();
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%03uZ", (unsigned)(ms % 1000));
	return json_string(buf);
}

json_t *json_from_record(const Agora__Record *rec, const uint8_t id[PROTO_ID_BYTES],
                         const char *municipality)
{
	const ProtobufCMessage *content = NULL;
	enum proto_kind kind = proto_record_content(rec, &content);
	char kbuf[CLI_KIND_BUF], why[160];
	const char *kname = cli_format_kind(kbuf, kind);
	json_t *obj = json_object(), *body;
	int bad = 0;

	if (!obj)
		return NULL;
	bad |= json_object_set_new(obj, "kind", kind ? json_string(kname) : json_null());
	if (proto_record_newer_text(why, sizeof(why), rec))
		bad |= json_object_set_new(obj, "newer", json_string(why));
	if (id)
		bad |= json_object_set_new(obj, "id", hex_value(id, PROTO_ID_BYTES));
	if (rec->has_alliance)
		bad |= json_object_set_new(obj, "alliance", hex_value(rec->alliance.data, rec->alliance.len));
	if (rec->has_author)
		bad |= json_object_set_new(obj, "author", hex_value(rec->author.data, rec->author.len));
	if (municipality)
		bad |= json_object_set_new(obj, "municipality", json_string(municipality));
	if (rec->has_seq)
		bad |= json_object_set_new(obj, "seq", json_integer((json_int_t)rec->seq));
	if (rec->has_prev)
		bad |= json_object_set_new(obj, "prev", hex_value(rec->prev.data, rec->prev.len));
	if (rec->has_created_ms) {
		bad |= json_object_set_new(obj, "created_ms", json_integer((json_int_t)rec->created_ms));
		bad |= json_object_set_new(obj, "created", iso_time(rec->created_ms));
	}
	if (rec->body_case == AGORA__RECORD__BODY_SUPERSEDE && rec->supersede->has_target)
		bad |= json_object_set_new(obj, "supersedes",
		                           hex_value(rec->supersede->target.data, rec->supersede->target.len));
	if (content) {
		if (!(body = json_from_message(content)) || json_object_update(obj, body) < 0)
			bad = 1;
		json_decref(body);
	}
	if (bad) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}
