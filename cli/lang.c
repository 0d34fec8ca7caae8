/*
 * lang.c - the primary languages a tag may name (see lang_int.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/lang_int.h"

/* ISO 639-1, every code. */
static const char two[] =
	"aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs "
	"cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha "
	"he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn "
	"ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb "
	"nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd "
	"se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw "
	"ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu";

/*
 * Three-letter codes: ISO 639-2 (both B and T forms) of the languages above
 * that municipalities in Europe write in, the regional and minority
 * languages of the alliances' countries (ISO 639-3: Sami, Frisian, Low
 * German, Sorbian, Kashubian, Silesian, Romani, ...), and the special codes
 * mul (several), und (undetermined), zxx (no linguistic content), mis.
 */
static const char three[] =
	"afr alb amh ara arg ast bak bar baq bel ben bos bre bul cat ces chi cos csb cym cze "
	"dan deu dsb dut ell eng epo est eus fao fas fil fin fra fre frr frs fry fur ger gla "
	"gle glg gre gsw hau heb hin hrv hsb hun hye ibo ice isl ita jpn kal kat kor lat lav "
	"lij lit lld lmo ltz mac mkd mlt msa may nap nds nld nno nob nor oci pan per pms pol "
	"por rmy roh rom ron rum rus scn sco slk slo slv sma sme smj smn sms som spa sqi srd "
	"srp stq swa swe szl tgl tha tir tur ukr urd vec vie wel xho yid yor zho zul "
	"mis mul und zxx";

bool cli_lang_known(const char *tag)
{
	char primary[4];
	size_t n;
	const char *list;

	if (!tag)
		return false;
	n = strcspn(tag, "-");
	if (n < 2 || n > 3)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isalpha((unsigned char)tag[i]))
			return false;
		primary[i] = (char)tolower((unsigned char)tag[i]);
	}
	primary[n] = '\0';
	list = n == 2 ? two : three;
	for (const char *p = list; (p = strstr(p, primary)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

static int walk(const ProtobufCMessage *m, char *path, size_t len, size_t cap,
                struct proto_error *err, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		const char *base = (const char *)m + fd->offset;
		size_t count = 1;
		bool repeated = fd->label == PROTOBUF_C_LABEL_REPEATED;

		if (fd->type != PROTOBUF_C_TYPE_STRING && fd->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (fd->type == PROTOBUF_C_TYPE_STRING && strcmp(fd->name, "language") &&
		    strcmp(fd->name, "languages"))
			continue;
		if (fd->type == PROTOBUF_C_TYPE_MESSAGE && depth > 2)
			continue;
		if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF &&
		    *(const uint32_t *)((const char *)m + fd->quantifier_offset) != fd->id)
			continue;
		if (repeated)
			count = *(const size_t *)((const char *)m + fd->quantifier_offset);
		for (size_t k = 0; k < count; k++) {
			const void *v = repeated ? *(void *const *)base : (const void *)base;
			size_t at;
			if (!v)
				break;
			if (repeated)
				v = (const char *)v + k * sizeof(void *);
			at = len + (size_t)snprintf(path + len, cap - len, repeated ? ".%s[%zu]" : ".%s",
			                            fd->name, k);
			if (at >= cap)
				at = cap - 1;
			if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
				const ProtobufCMessage *sub = *(ProtobufCMessage *const *)v;
				int rc;
				if (sub && (rc = walk(sub, path, at, cap, err, depth + 1)) < 0)
					return rc;
			} else {
				const char *s = *(char *const *)v;
				if (s && *s && !cli_lang_known(s)) {
					const char *field = path[0] == '.' ? path + 1 : path;
					if (err) {
						err->code = PROTO_E_FIELD;
						snprintf(err->field, sizeof(err->field), "%s", field);
						snprintf(err->msg, sizeof(err->msg), "'%.20s' is not a known language: "
						         "expected an ISO 639 code such as \"da\", \"pl\", \"nl\" "
						         "or \"en\", optionally with a region: \"en-GB\"", s);
					}
					return PROTO_E_FIELD;
				}
			}
			path[len] = '\0';
		}
	}
	return 0;
}

int cli_lang_check(const ProtobufCMessage *body, struct proto_error *err)
{
	char path[128];
	int n;

	if (!body)
		return 0;
	/* Paths as json_to_record names them: "measure.language". */
	n = snprintf(path, sizeof(path), "%s", body->descriptor->short_name);
	for (int i = 0; i < n; i++)
		path[i] = (char)tolower((unsigned char)path[i]);
	if (n < 0 || (size_t)n >= sizeof(path))
		n = 0;
	return walk(body, path, (size_t)n, sizeof(path), err, 0);
}
