/*
 * amend.c - opening one of this node's records for a new version or a
 * retraction (see amend_int.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/amend_int.h"
#include "cli/cli_int.h"
#include "cli/fields_int.h"
#include "cli/json_int.h"

/* A deep copy through the wire format, so that every part is malloc()ed
 * and the copy outlives the snapshot the original was read from. */
static ProtobufCMessage *deep_copy(const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	ProtobufCMessage *copy;

	if (!buf)
		return NULL;
	protobuf_c_message_pack(m, buf);
	copy = protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
	free(buf);
	return copy;
}

int cli_amend_open(struct cli_amend *a, struct store_txn *t, const uint8_t author[PROTO_KEY_BYTES],
                   const char *arg, bool content, char *err, size_t cap)
{
	struct cli_amend n = { .kind = PROTO_KIND_NONE };
	struct store_record sr, newest;
	Agora__Record *rec = NULL, *cur = NULL;
	const ProtobufCMessage *body = NULL;
	int rc;

	if (!arg)
		arg = "";
	if (fields_parse_id(n.id, arg, t, err, cap) < 0)
		return CLI_AMEND_E_ID;
	if ((rc = store_get(t, n.id, &sr)) < 0) {
		snprintf(err, cap, rc == STORE_E_NOTFOUND ? "no record %s here" : "cannot read record %s",
		         arg);
		return rc == STORE_E_NOTFOUND ? CLI_AMEND_E_NOTFOUND : rc;
	}
	if (proto_envelope_decode(&rec, sr.env, sr.env_len, NULL) < 0) {
		snprintf(err, cap, "record %s is damaged in the store", arg);
		return CLI_AMEND_E_DAMAGED;
	}
	if (!rec->has_author || rec->author.len != PROTO_KEY_BYTES ||
	    memcmp(rec->author.data, author, PROTO_KEY_BYTES)) {
		snprintf(err, cap, "record %s is not yours: you can only change your own records", arg);
		rc = CLI_AMEND_E_NOT_YOURS;
		goto out;
	}
	if (!rec->has_alliance || rec->alliance.len != PROTO_ID_BYTES) {
		snprintf(err, cap, "record %s founds an alliance: a charter cannot be changed this way",
		         arg);
		rc = CLI_AMEND_E_CHARTER;
		goto out;
	}
	if (sr.retracted) {
		snprintf(err, cap, "record %s was retracted: publish a new record instead", arg);
		rc = CLI_AMEND_E_RETRACTED;
		goto out;
	}
	memcpy(n.alliance, rec->alliance.data, PROTO_ID_BYTES);
	memcpy(n.newest, sr.newest, PROTO_ID_BYTES);
	rc = 0;
	if (!content)
		goto done;
	/* Edit the newest version: an amend of an old id must not drop later edits. */
	if (store_get(t, sr.newest, &newest) < 0 ||
	    proto_envelope_decode(&cur, newest.env, newest.env_len, NULL) < 0) {
		snprintf(err, cap, "cannot read the newest version of %s", arg);
		rc = CLI_AMEND_E_DAMAGED;
		goto out;
	}
	n.kind = proto_record_content(cur, &body);
	if (!body || n.kind < PROTO_KIND_PROFILE || n.kind > PROTO_KIND_ENDORSEMENT) {
		snprintf(err, cap, "a %s cannot be amended",
		         proto_kind_name(n.kind) ? proto_kind_name(n.kind) : "record");
		rc = CLI_AMEND_E_KIND;
		goto out;
	}
	if (!(n.content = deep_copy(body))) {
		snprintf(err, cap, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
done:
	*a = n;
out:
	agora__record__free_unpacked(rec, NULL);
	if (cur)
		agora__record__free_unpacked(cur, NULL);
	return rc;
}

int cli_amend_wrap(Agora__Record **out, struct cli_amend *a)
{
	int rc = json_record_wrap(out, a->kind, a->content, a->newest);

	if (rc == 0)
		a->content = NULL;
	return rc;
}

int cli_retraction_new(Agora__Record **out, const uint8_t id[PROTO_ID_BYTES], const char *reason)
{
	Agora__Retract *r = (Agora__Retract *)fields_new_message(&agora__retract__descriptor);

	if (!r || !(r->target.data = malloc(PROTO_ID_BYTES)) ||
	    (reason && !(r->reason = strdup(reason))))
		goto nomem;
	memcpy(r->target.data, id, PROTO_ID_BYTES);
	r->target.len = PROTO_ID_BYTES;
	r->has_target = 1;
	if (json_record_wrap(out, PROTO_KIND_RETRACT, &r->base, NULL) < 0)
		goto nomem;
	return 0;
nomem:
	if (r)
		agora__retract__free_unpacked(r, NULL);
	return -ENOMEM;
}

void cli_amend_dispose(struct cli_amend *a)
{
	if (a->content)
		protobuf_c_message_free_unpacked(a->content, NULL);
	a->content = NULL;
}

int cli_amend_exit(int code)
{
	switch (code) {
	case CLI_AMEND_E_ID:
	case CLI_AMEND_E_NOTFOUND:
		return CLI_EXIT_NOTFOUND;
	case CLI_AMEND_E_NOT_YOURS:
	case CLI_AMEND_E_CHARTER:
	case CLI_AMEND_E_RETRACTED:
	case CLI_AMEND_E_KIND:
		return CLI_EXIT_INPUT;
	default:
		return CLI_EXIT_ERROR;
	}
}
