/*
 * alliance.c - alliances as every command meets them: which one --alliance
 * NAME|ID (or the default) means, what it is called, and founding one.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/alliance_int.h"
#include "cli/cli_int.h"
#include "cli/control_int.h"
#include "cli/home_int.h"

struct alliance_match {
	const char *want;           /* what the user typed */
	bool hex;                   /* want could be an id prefix */
	size_t n_name, n_id;
	uint8_t by_name[PROTO_ID_BYTES], by_id[PROTO_ID_BYTES];
};

static int alliance_cb(const struct store_record *r, void *user)
{
	struct alliance_match *m = user;
	char hex[PROTO_ID_HEX + 1];
	Agora__Record *rec = NULL;

	if (proto_envelope_decode(&rec, r->env, r->env_len, NULL) == 0) {
		if (rec->body_case == AGORA__RECORD__BODY_CHARTER && rec->charter->name &&
		    !strcasecmp(rec->charter->name, m->want)) {
			memcpy(m->by_name, r->id, PROTO_ID_BYTES);
			m->n_name++;
		}
		agora__record__free_unpacked(rec, NULL);
	}
	if (m->hex) {
		proto_hex(hex, r->id, PROTO_ID_BYTES);
		if (!strncasecmp(hex, m->want, strlen(m->want))) {
			memcpy(m->by_id, r->id, PROTO_ID_BYTES);
			m->n_id++;
		}
	}
	return 0;
}

int cli_alliance(struct cli_ctx *ctx, struct store_txn *t, const char *name_or_id,
                 uint8_t id_out[PROTO_ID_BYTES])
{
	struct alliance_match m = { .want = name_or_id };
	int rc;

	if (!name_or_id) {
		if (store_default_alliance_get(t, id_out) < 0) {
			cli_error(ctx, "you are in no alliance yet: run `agora alliance create --name NAME` "
			          "(or join one)");
			return CLI_EXIT_NOTFOUND;
		}
		return CLI_EXIT_OK;
	}
	size_t len = strlen(name_or_id);
	m.hex = len >= 4 && len <= PROTO_ID_HEX;
	for (size_t k = 0; k < len && m.hex; k++)
		m.hex = isxdigit((unsigned char)name_or_id[k]) != 0;
	rc = store_alliances(t, alliance_cb, &m);
	if (rc < 0) {
		cli_error(ctx, "cannot list alliances: %s", store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	if (m.n_name == 1 || (m.n_name == 0 && m.n_id == 1)) {
		memcpy(id_out, m.n_name ? m.by_name : m.by_id, PROTO_ID_BYTES);
		return CLI_EXIT_OK;
	}
	if (m.n_name > 1 || m.n_id > 1) {
		cli_error(ctx, "several alliances match '%s': give (more of) the id from `agora alliance list`",
		          name_or_id);
		return CLI_EXIT_USAGE;
	}
	cli_error(ctx, "no alliance '%s' here: see `agora alliance list`", name_or_id);
	return CLI_EXIT_NOTFOUND;
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


int cli_profile_publish(struct cli_ctx *ctx, struct proto_key *key,
                        const uint8_t alliance[PROTO_ID_BYTES])
{
	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Profile *p = NULL;
	struct proto_error err = { 0 };
	struct store *s;
	int ret, rc;

	ret = cli_conf_profile(ctx, &p);
	if (ret == CLI_EXIT_NOTFOUND)
		return CLI_EXIT_OK;
	if (ret != CLI_EXIT_OK)
		return ret;
	if ((ret = cli_store(ctx, false, &s)) != CLI_EXIT_OK)
		goto out;
	rec.body_case = AGORA__RECORD__BODY_PROFILE;
	rec.profile = p;
	rc = store_publish(s, key, alliance, &rec, cli_now_ms(), NULL, NULL, NULL, &err);
	if (rc < 0) {
		ret = cli_publish_error(ctx, rc, &err);
		goto out;
	}
	ret = CLI_EXIT_OK;
out:
	agora__profile__free_unpacked(p, NULL);
	return ret;
}


int cli_alliance_found(struct cli_ctx *ctx, struct proto_key *key, const char *name,
                       const char *description, uint8_t id_out[PROTO_ID_BYTES])
{
	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Charter ch = AGORA__CHARTER__INIT;
	ProtobufCBinaryData coord = { PROTO_KEY_BYTES, key->pk };
	struct proto_error err = { 0 };
	struct store *s;
	uint8_t id[PROTO_ID_BYTES];
	int ret, rc;

	if ((ret = cli_store(ctx, false, &s)) != CLI_EXIT_OK)
		return ret;
	ch.name = (char *)name;
	ch.description = (char *)description;
	ch.n_coordinators = 1;
	ch.coordinators = &coord;
	ch.has_policy = 1;
	ch.policy = AGORA__ADMISSION_POLICY__ADMISSION_POLICY_ANY_COORDINATOR;
	rec.body_case = AGORA__RECORD__BODY_CHARTER;
	rec.charter = &ch;
	rc = store_publish(s, key, NULL, &rec, cli_now_ms(), id, NULL, NULL, &err);
	if (rc < 0)
		return cli_publish_error(ctx, rc, &err);
	if ((ret = cli_profile_publish(ctx, key, id)) != CLI_EXIT_OK)
		return ret;
	if ((rc = store_default_alliance_set(s, id)) < 0) {
		cli_error(ctx, "cannot set the default alliance: %s", store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	cli_control_poke(ctx);
	memcpy(id_out, id, PROTO_ID_BYTES);
	return CLI_EXIT_OK;
}

