/*
 * attach.c - the attachments of a record (PROTOCOL.md 1.5, "Attachments").
 *
 * A measure, result or lesson lists the files that travel with it: hash,
 * size, media type and name.  The rules are checked here, for the signer
 * (validate.c refuses to sign a list that breaks them) and for readers
 * (proto_record_attachments hides a list that breaks them: such a record is
 * carried, as a node of an earlier version carries the field, 7.4 item 8).
 */
#include <stdio.h>
#include <string.h>

#include "proto/proto.h"
#include "proto/proto_int.h"

/* RFC 6838 4.2 restricted-name characters, for each half of "type/subtype". */
static bool type_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("!#$&-^_.+", c) != NULL;
}

static bool media_type_valid(const char *s)
{
	const char *slash = strchr(s, '/');
	size_t len = strlen(s);

	if (!slash || slash == s || !slash[1] || len > PROTO_ATTACH_TYPE_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (p != slash && !type_char(*p))
			return false;
	return true;
}

/* Why a file name is not one, or NULL when it is fine. */
static const char *name_fault(const char *s)
{
	size_t len = strlen(s);

	if (!len)
		return "is required (the file's name)";
	if (len > PROTO_ATTACH_NAME_MAX)
		return "is too long (at most 255 bytes)";
	if (!proto_utf8_valid(s, len))
		return "is not valid UTF-8 text";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] <= 0x9f))
			return "contains a control character";
		if (c == '/' || c == '\\')
			return "contains a folder separator: give the file's name only";
	}
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return "is not a file name";
	return NULL;
}

int proto_attachments_check(const char *kind, Agora__Attachment *const *list, size_t n,
                            struct proto_error *err)
{
	char path[80];
	const char *why;

	if (n > PROTO_ATTACH_MAX) {
		snprintf(path, sizeof(path), "%s.attachments", kind);
		return proto_fail(err, PROTO_E_FIELD, path, "%s: has %zu files; at most %d are allowed",
		                  path, n, PROTO_ATTACH_MAX);
	}
	for (size_t i = 0; i < n; i++) {
		const Agora__Attachment *a = list[i];
		if (!a->has_hash || a->hash.len != PROTO_HASH_BYTES) {
			snprintf(path, sizeof(path), "%s.attachments[%zu].hash", kind, i);
			return proto_fail(err, PROTO_E_FIELD, path,
			                  "%s: is required (the file's BLAKE2b-256, 32 bytes)", path);
		}
		for (size_t j = 0; j < i; j++)
			if (!memcmp(list[j]->hash.data, a->hash.data, PROTO_HASH_BYTES)) {
				snprintf(path, sizeof(path), "%s.attachments[%zu].hash", kind, i);
				return proto_fail(err, PROTO_E_FIELD, path,
				                  "%s: the same file is attached twice", path);
			}
		if (!a->has_size || a->size == 0 || a->size > PROTO_ATTACH_SIZE_MAX) {
			snprintf(path, sizeof(path), "%s.attachments[%zu].size", kind, i);
			return proto_fail(err, PROTO_E_FIELD, path,
			                  "%s: must be 1 byte to 1 GiB (%llu bytes)", path,
			                  (unsigned long long)PROTO_ATTACH_SIZE_MAX);
		}
		if (!a->media_type || !media_type_valid(a->media_type)) {
			snprintf(path, sizeof(path), "%s.attachments[%zu].media_type", kind, i);
			return proto_fail(err, PROTO_E_FIELD, path,
			                  "%s: must be a media type such as \"application/pdf\"", path);
		}
		if ((why = name_fault(a->name ? a->name : ""))) {
			snprintf(path, sizeof(path), "%s.attachments[%zu].name", kind, i);
			return proto_fail(err, PROTO_E_FIELD, path, "%s: %s", path, why);
		}
	}
	return 0;
}

int proto_record_attachments(Agora__Attachment *const **list, const Agora__Record *rec)
{
	const ProtobufCMessage *m = NULL;
	Agora__Attachment *const *l;
	size_t n;

	switch (proto_record_content(rec, &m)) {
	case PROTO_KIND_MEASURE:
		l = ((const Agora__Measure *)m)->attachments;
		n = ((const Agora__Measure *)m)->n_attachments;
		break;
	case PROTO_KIND_RESULT:
		l = ((const Agora__Result *)m)->attachments;
		n = ((const Agora__Result *)m)->n_attachments;
		break;
	case PROTO_KIND_LESSON:
		l = ((const Agora__Lesson *)m)->attachments;
		n = ((const Agora__Lesson *)m)->n_attachments;
		break;
	default:
		return 0;
	}
	if (!m || !n)
		return 0;
	if (proto_attachments_check("", l, n, NULL) < 0)
		return PROTO_E_FIELD;
	*list = l;
	return (int)n;
}
