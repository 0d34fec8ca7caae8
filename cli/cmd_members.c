/*
 * cmd_members.c - `agora alliance members|admit|revoke`: who is in an
 * alliance, and the coordinator's records that change it.  Dispatched from
 * cmd_alliance.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "cli/home.h"
#include "cli/json.h"
#include "cli/members.h"

void cli_members_help(FILE *f)
{
	fprintf(f,
	        "       agora alliance members [--alliance NAME|ID] [--json]\n"
	        "       agora alliance admit KEY --name NAME --country CC [--role ROLE]\n"
	        "                            [--expires DURATION] [--alliance NAME|ID]\n"
	        "       agora alliance revoke KEY --reason TEXT [--after-seq N]\n"
	        "                             [--alliance NAME|ID]\n"
	        "       agora alliance rotate-key [--passphrase-file FILE]\n"
	        "       agora alliance invite --name NAME [--country CC] [--role ROLE]\n"
	        "                             [--expires 7d] [--address HOST:PORT]\n\n"
	        "members lists every admitted key: role, status (active, expired, revoked\n"
	        "        after seq N), records held, and 'fork' if it equivocated.\n"
	        "admit   (coordinators) admits KEY (64 hex digits, see `agora whoami`) as\n"
	        "        ROLE: member (default), coordinator or observer (reads, publishes\n"
	        "        only its profile).  DURATION is N followed by s, m, h or d\n"
	        "        (30d): the admission expires that long from now.\n"
	        "revoke  (coordinators) invalidates KEY's records after seq N (default:\n"
	        "        the last one this node holds) and cuts its sessions.  Permanent.\n"
	        "rotate-key  replaces this node's key: in every alliance where it is\n"
	        "        active, the old key signs a KeyRotation naming the new key (which\n"
	        "        countersigns it) and publishes nothing more.  A coordinator's new\n"
	        "        key takes over its role at once; a member's new key needs a\n"
	        "        coordinator's `agora alliance admit`.  The old key file is kept.\n"
	        "invite  (coordinators) prints a one-time code for a new member: on its\n"
	        "        fresh node, `agora join CODE` and agorad do the rest.  HOST:PORT is\n"
	        "        where it reaches this node (default: this agorad on 127.0.0.1).\n");
}

int cli_duration_ms(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || v == 0 || end[0] == 0 || end[1] != 0)
		return -1;
	uint64_t unit;
	switch (end[0]) {
	case 's': unit = 1000; break;
	case 'm': unit = 60 * 1000; break;
	case 'h': unit = 3600 * 1000; break;
	case 'd': unit = 86400 * 1000; break;
	default: return -1;
	}
	if (v > UINT64_MAX / unit / 2)
		return -1;
	*out = v * unit;
	return 0;
}

int cli_member_terms(struct cli_ctx *ctx, const char *role, const char *expires, int *role_out,
                     uint64_t *dur_ms)
{
	*dur_ms = 0;
	if (proto_enum_parse(role_out, &agora__role__descriptor, role) < 0 || *role_out == 0) {
		cli_error(ctx, "unknown role '%s': use member, coordinator or observer", role);
		return CLI_EXIT_USAGE;
	}
	if (expires && cli_duration_ms(expires, dur_ms) < 0) {
		cli_error(ctx, "--expires '%s' is not a duration such as 30d, 12h, 10m or 5s", expires);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

static const char *role_name(int role)
{
	switch (role) {
	case AGORA__ROLE__ROLE_COORDINATOR: return "coordinator";
	case AGORA__ROLE__ROLE_MEMBER: return "member";
	case AGORA__ROLE__ROLE_OBSERVER: return "observer";
	default: return "none";
	}
}

static void status_text(char *buf, size_t cap, const struct store_member *m, uint64_t now)
{
	if (m->rotated)
		snprintf(buf, cap, "rotated after seq %llu", (unsigned long long)m->last_seq);
	else if (m->revoked)
		snprintf(buf, cap, "revoked after seq %llu", (unsigned long long)m->last_seq);
	else if (m->expires_ms && now >= m->expires_ms)
		snprintf(buf, cap, "expired");
	else
		snprintf(buf, cap, "active");
}

struct mlist {
	struct store_member *v;
	size_t n;
	bool oom;
};

static int collect_cb(const struct store_member *m, void *ctx)
{
	struct mlist *l = ctx;
	struct store_member *g = realloc(l->v, (l->n + 1) * sizeof *g);
	if (!g) {
		l->oom = true;
		return 1;
	}
	l->v = g;
	g[l->n++] = *m;
	return 0;
}

static int open_alliance(struct cli_ctx *ctx, const char *alliance, struct store **s,
                         uint8_t id[PROTO_ID_BYTES])
{
	struct store_txn *t;
	int ret, rc;
	if ((ret = cli_store(ctx, false, s)) != CLI_EXIT_OK)
		return ret;
	if ((rc = store_txn_begin(*s, &t)) < 0) {
		cli_error(ctx, "cannot read the store: %s", store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	ret = cli_alliance(ctx, t, alliance, id);
	store_txn_end(t);
	return ret;
}

/* When this node's agorad last had a session with key (0: never). */
static uint64_t last_seen(struct store_txn *t, const uint8_t key[PROTO_KEY_BYTES])
{
	uint64_t ms = 0;
	if (store_seen_get(t, key, &ms) != 0)
		return 0;
	return ms;
}

int cli_alliance_members(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *alliance = NULL, *v;
	bool json = false, missing = false;
	struct mlist l = { 0 };
	struct store_txn *t = NULL;
	struct store *s;
	uint8_t id[PROTO_ID_BYTES];
	int ret, rc;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cli_members_help(stdout);
			return CLI_EXIT_OK;
		}
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if ((v = cli_opt_value("--alliance", argc, argv, &i, &missing)))
			alliance = v;
		else {
			cli_error(ctx, missing ? "%s needs a value" : "unknown option '%s' for alliance "
			          "members (see agora alliance --help)", argv[i]);
			return CLI_EXIT_USAGE;
		}
	}
	if ((ret = open_alliance(ctx, alliance, &s, id)) != CLI_EXIT_OK)
		return ret;
	if ((rc = store_txn_begin(s, &t)) < 0 || (rc = store_members(t, id, collect_cb, &l)) < 0 ||
	    l.oom) {
		cli_error(ctx, "cannot list members: %s", l.oom ? "out of memory" : store_strerror(rc));
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	uint64_t now = cli_now_ms();
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; arr && i < l.n; i++) {
			char hex[PROTO_KEY_BYTES * 2 + 1], st[64];
			proto_hex(hex, l.v[i].key, PROTO_KEY_BYTES);
			status_text(st, sizeof st, &l.v[i], now);
			json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "key", hex,
			                      "name", l.v[i].name, "country", l.v[i].country,
			                      "role", role_name(l.v[i].role), "status", st,
			                      "records", (json_int_t)l.v[i].records,
			                      "equivocating", l.v[i].equivocating);
			if (o && l.v[i].expires_ms)
				json_object_set_new(o, "expires_ms", json_integer((json_int_t)l.v[i].expires_ms));
			if (o && l.v[i].revoked)
				json_object_set_new(o, "last_seq", json_integer((json_int_t)l.v[i].last_seq));
			uint64_t seen = last_seen(t, l.v[i].key);
			if (o && seen)
				json_object_set_new(o, "last_seen_ms", json_integer((json_int_t)seen));
			json_array_append_new(arr, o);
		}
		if (!arr || json_dumpf(arr, stdout, JSON_INDENT(2)) < 0) {
			json_decref(arr);
			cli_error(ctx, "cannot write JSON");
			ret = CLI_EXIT_ERROR;
			goto out;
		}
		printf("\n");
		json_decref(arr);
	} else {
		printf("%-16s %-24s %-2s %-11s %-24s %8s %-16s %s\n", "KEY", "NAME", "CC", "ROLE",
		       "STATUS", "RECORDS", "LAST SEEN (UTC)", "FLAGS");
		for (size_t i = 0; i < l.n; i++) {
			char hex[PROTO_KEY_BYTES * 2 + 1], st[64];
			proto_hex(hex, l.v[i].key, PROTO_KEY_BYTES);
			hex[16] = 0;
			status_text(st, sizeof st, &l.v[i], now);
			const char *nm = l.v[i].name[0] ? l.v[i].name : "-";
			int pad = 24;   /* pad by characters, not bytes (UTF-8 names) */
			for (const char *c = nm; *c; c++)
				if (((unsigned char)*c & 0xc0) == 0x80)
					pad++;
			char seen[32] = "-";
			uint64_t ms = last_seen(t, l.v[i].key);
			time_t secs = (time_t)(ms / 1000);
			struct tm tmv;
			if (ms && gmtime_r(&secs, &tmv))
				strftime(seen, sizeof seen, "%Y-%m-%d %H:%M", &tmv);
			printf("%-16s %-*s %-2s %-11s %-24s %8llu %-16s %s\n", hex, pad, nm,
			       l.v[i].country[0] ? l.v[i].country : "-",
			       role_name(l.v[i].role), st, (unsigned long long)l.v[i].records, seen,
			       l.v[i].equivocating ? "fork" : "");
		}
	}
	ret = CLI_EXIT_OK;
out:
	store_txn_end(t);
	free(l.v);
	return ret;
}

static int parse_key(struct cli_ctx *ctx, const char *hex, uint8_t key[PROTO_KEY_BYTES])
{
	if (!hex || strlen(hex) != PROTO_KEY_BYTES * 2 || proto_unhex(key, PROTO_KEY_BYTES, hex)) {
		cli_error(ctx, "'%s' is not a public key: give its 64 hex digits (see `agora whoami`)",
		          hex ? hex : "");
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

static int publish_gov(struct cli_ctx *ctx, struct store *s, const uint8_t *alliance,
                       const char *passfile, Agora__Record *rec)
{
	struct proto_key *key;
	struct proto_error err = { 0 };
	uint8_t rid[PROTO_ID_BYTES];
	char hex[PROTO_ID_HEX + 1];
	int ret, rc;
	if ((ret = cli_key(ctx, passfile, &key)) != CLI_EXIT_OK)
		return ret;
	rc = store_publish(s, key, alliance, rec, cli_now_ms(), rid, NULL, NULL, &err);
	if (rc == STORE_E_ROLE || rc == STORE_E_NOT_MEMBER) {
		cli_error(ctx, "only a coordinator of this alliance can do that: %s",
		          store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	if (rc < 0)
		return cli_publish_error(ctx, rc, &err);
	cli_poke_node(ctx);
	proto_hex(hex, rid, PROTO_ID_BYTES);
	printf("%s\n", hex);
	return CLI_EXIT_OK;
}

int cli_alliance_admit(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *alliance = NULL, *name = NULL, *country = NULL, *role = "member",
	           *expires = NULL, *passfile = NULL, *keyhex = NULL, *v;
	bool missing = false;
	uint8_t member[PROTO_KEY_BYTES], id[PROTO_ID_BYTES];
	struct store *s;
	int ret, r;
	uint64_t dur = 0;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cli_members_help(stdout);
			return CLI_EXIT_OK;
		}
		if ((v = cli_opt_value("--alliance", argc, argv, &i, &missing)))
			alliance = v;
		else if ((v = cli_opt_value("--name", argc, argv, &i, &missing)))
			name = v;
		else if ((v = cli_opt_value("--country", argc, argv, &i, &missing)))
			country = v;
		else if ((v = cli_opt_value("--role", argc, argv, &i, &missing)))
			role = v;
		else if ((v = cli_opt_value("--expires", argc, argv, &i, &missing)))
			expires = v;
		else if ((v = cli_opt_value("--passphrase-file", argc, argv, &i, &missing)))
			passfile = v;
		else if (!missing && argv[i][0] != '-' && !keyhex)
			keyhex = argv[i];
		else {
			cli_error(ctx, missing ? "%s needs a value" : "unknown option '%s' for alliance "
			          "admit (see agora alliance --help)", argv[i]);
			return CLI_EXIT_USAGE;
		}
	}
	if (!keyhex || !name || !*name || !country) {
		cli_error(ctx, "usage: agora alliance admit KEY --name NAME --country CC "
		          "[--role member|coordinator|observer] [--expires 30d]");
		return CLI_EXIT_USAGE;
	}
	if ((ret = parse_key(ctx, keyhex, member)) != CLI_EXIT_OK)
		return ret;
	if ((ret = cli_member_terms(ctx, role, expires, &r, &dur)) != CLI_EXIT_OK)
		return ret;
	if ((ret = open_alliance(ctx, alliance, &s, id)) != CLI_EXIT_OK)
		return ret;
	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Admission a = AGORA__ADMISSION__INIT;
	a.has_member = 1;
	a.member.len = PROTO_KEY_BYTES;
	a.member.data = member;
	a.name = (char *)name;
	a.country = (char *)country;
	a.has_role = 1;
	a.role = r;
	if (dur) {
		a.has_expires_ms = 1;
		a.expires_ms = cli_now_ms() + dur;
	}
	rec.body_case = AGORA__RECORD__BODY_ADMISSION;
	rec.admission = &a;
	return publish_gov(ctx, s, id, passfile, &rec);
}

int cli_alliance_revoke(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *alliance = NULL, *reason = NULL, *after = NULL, *passfile = NULL,
	           *keyhex = NULL, *v;
	bool missing = false;
	uint8_t member[PROTO_KEY_BYTES], id[PROTO_ID_BYTES];
	struct store *s;
	int ret;
	uint64_t last = 0;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cli_members_help(stdout);
			return CLI_EXIT_OK;
		}
		if ((v = cli_opt_value("--alliance", argc, argv, &i, &missing)))
			alliance = v;
		else if ((v = cli_opt_value("--reason", argc, argv, &i, &missing)))
			reason = v;
		else if ((v = cli_opt_value("--after-seq", argc, argv, &i, &missing)))
			after = v;
		else if ((v = cli_opt_value("--passphrase-file", argc, argv, &i, &missing)))
			passfile = v;
		else if (!missing && argv[i][0] != '-' && !keyhex)
			keyhex = argv[i];
		else {
			cli_error(ctx, missing ? "%s needs a value" : "unknown option '%s' for alliance "
			          "revoke (see agora alliance --help)", argv[i]);
			return CLI_EXIT_USAGE;
		}
	}
	if (!keyhex || !reason || !*reason) {
		cli_error(ctx, "usage: agora alliance revoke KEY --reason TEXT [--after-seq N]");
		return CLI_EXIT_USAGE;
	}
	if ((ret = parse_key(ctx, keyhex, member)) != CLI_EXIT_OK)
		return ret;
	if (after) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(after, &end, 10);
		if (errno || end == after || *end || after[0] == '-') {
			cli_error(ctx, "--after-seq '%s' is not a number", after);
			return CLI_EXIT_USAGE;
		}
		last = n;
	}
	if ((ret = open_alliance(ctx, alliance, &s, id)) != CLI_EXIT_OK)
		return ret;
	if (!after) {
		struct store_txn *t;
		uint8_t hid[PROTO_ID_BYTES];
		uint64_t seq = 0;
		if (store_txn_begin(s, &t) == 0) {
			if (store_feed_head(t, id, member, &seq, hid) < 0)
				seq = 0;
			store_txn_end(t);
		}
		last = seq;
	}
	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Revocation rv = AGORA__REVOCATION__INIT;
	rv.has_member = 1;
	rv.member.len = PROTO_KEY_BYTES;
	rv.member.data = member;
	rv.has_last_seq = 1;
	rv.last_seq = last;
	rv.reason = (char *)reason;
	rec.body_case = AGORA__RECORD__BODY_REVOCATION;
	rec.revocation = &rv;
	return publish_gov(ctx, s, id, passfile, &rec);
}

static int fork_cb(const uint8_t alliance[PROTO_ID_BYTES], const uint8_t author[PROTO_KEY_BYTES],
                   uint64_t seq, const uint8_t *env_a, size_t len_a, const uint8_t *env_b,
                   size_t len_b, void *ctx)
{
	json_t *arr = ctx;
	char a[PROTO_ID_HEX + 1], k[PROTO_KEY_BYTES * 2 + 1];
	(void)env_a; (void)len_a; (void)env_b; (void)len_b;
	proto_hex(a, alliance, PROTO_ID_BYTES);
	proto_hex(k, author, PROTO_KEY_BYTES);
	json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "author", k, "alliance", a,
	                                     "seq", (json_int_t)seq));
	return 0;
}

json_t *cli_equivocators(struct cli_ctx *ctx)
{
	struct store *s;
	struct store_txn *t;
	json_t *arr = json_array();
	if (!arr || cli_store(ctx, false, &s) != CLI_EXIT_OK || store_txn_begin(s, &t) < 0)
		return arr;
	(void)store_forks(t, fork_cb, arr);
	store_txn_end(t);
	return arr;
}

/* ------------------------------------------------------------ rotate-key */

struct held {
	uint8_t (*ids)[PROTO_ID_BYTES];
	size_t n;
};

static int held_cb(const struct store_record *r, void *ctx)
{
	struct held *h = ctx;
	uint8_t (*g)[PROTO_ID_BYTES] = realloc(h->ids, (h->n + 1) * sizeof *g);
	if (!g)
		return -ENOMEM;
	h->ids = g;
	memcpy(h->ids[h->n++], r->id, PROTO_ID_BYTES);
	return 0;
}

/* Replace the old key's hex by the new one in agora.conf ([node] key). */
static void conf_swap_key(struct cli_ctx *ctx, const char *old_hex, const char *new_hex)
{
	char path[4200], tmp[4300];
	snprintf(path, sizeof path, "%s/agora.conf", ctx->home);
	snprintf(tmp, sizeof tmp, "%s/agora.conf.rotate", ctx->home);
	FILE *in = fopen(path, "r");
	if (!in)
		return;
	FILE *out = fopen(tmp, "w");
	if (!out) {
		fclose(in);
		return;
	}
	char line[8192];
	while (fgets(line, sizeof line, in)) {
		char *p = strstr(line, old_hex);
		if (p)
			memcpy(p, new_hex, 64);
		fputs(line, out);
	}
	fclose(in);
	if (fclose(out) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
}

int cli_alliance_rotate(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *passfile = NULL, *v;
	bool missing = false;
	struct proto_key *old, *nk = NULL;
	struct store *s;
	struct store_txn *t = NULL;
	struct held h = { NULL, 0 };
	char *text = NULL, *pass = NULL, keypath[4200], newpath[4300], oldpath[4300];
	char old_hex[65], new_hex[65];
	size_t len = 0, rotated = 0;
	int ret = CLI_EXIT_ERROR, rc;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cli_members_help(stdout);
			return CLI_EXIT_OK;
		}
		if ((v = cli_opt_value("--passphrase-file", argc, argv, &i, &missing)))
			passfile = v;
		else {
			cli_error(ctx, missing ? "%s needs a value" : "unknown option '%s' for alliance "
			          "rotate-key (see agora alliance --help)", argv[i]);
			return CLI_EXIT_USAGE;
		}
	}
	if ((ret = cli_store(ctx, false, &s)) != CLI_EXIT_OK ||
	    (ret = cli_key(ctx, passfile, &old)) != CLI_EXIT_OK)
		return ret;
	ret = CLI_EXIT_ERROR;
	/* the new key file is written first: a rotation is never published
	 * for a key this node does not hold safely */
	if (passfile) {
		if ((ret = cli_read_passphrase(ctx, passfile, &pass)) != CLI_EXIT_OK)
			return ret;
		ret = CLI_EXIT_ERROR;
	} else if (getenv("AGORA_PASSPHRASE") && *getenv("AGORA_PASSPHRASE")) {
		const char *env = getenv("AGORA_PASSPHRASE");
		if (!(pass = sodium_malloc(strlen(env) + 1)))
			goto out;
		memcpy(pass, env, strlen(env) + 1);
	}
	if ((rc = proto_key_generate(&nk)) < 0 || (rc = proto_key_encode(&text, &len, nk, pass)) < 0) {
		cli_error(ctx, "cannot make a new key: %s", proto_strerror(rc));
		goto out;
	}
	snprintf(keypath, sizeof keypath, "%s/identity.key", ctx->home);
	snprintf(newpath, sizeof newpath, "%s/identity.key.new", ctx->home);
	proto_hex(old_hex, old->pk, PROTO_KEY_BYTES);
	proto_hex(new_hex, nk->pk, PROTO_KEY_BYTES);
	snprintf(oldpath, sizeof oldpath, "%s/identity.key.retired-%.16s", ctx->home, old_hex);
	if ((rc = cli_write_new(newpath, text, len)) < 0) {
		cli_error(ctx, "cannot write %s: %s (remove it if a rotation was interrupted)",
		          newpath, strerror(-rc));
		goto out;
	}
	if ((rc = store_txn_begin(s, &t)) < 0 || (rc = store_alliances(t, held_cb, &h)) < 0) {
		cli_error(ctx, "cannot read the store: %s", store_strerror(rc));
		unlink(newpath);
		goto out;
	}
	uint64_t now = cli_now_ms();
	bool *act = calloc(h.n ? h.n : 1, sizeof *act);
	for (size_t i = 0; act && i < h.n; i++)
		act[i] = store_member_active(t, h.ids[i], old->pk, now) == 0;
	store_txn_end(t);
	t = NULL;
	for (size_t i = 0; act && i < h.n; i++) {
		if (!act[i])
			continue;
		Agora__Record rec = AGORA__RECORD__INIT;
		Agora__KeyRotation kr = AGORA__KEY_ROTATION__INIT;
		struct proto_error err = { 0 };
		uint8_t sig[64];
		store_rotation_sign(sig, nk, h.ids[i], old->pk);
		kr.has_new_key = kr.has_new_key_signature = 1;
		kr.new_key.len = PROTO_KEY_BYTES;
		kr.new_key.data = nk->pk;
		kr.new_key_signature.len = 64;
		kr.new_key_signature.data = sig;
		rec.body_case = AGORA__RECORD__BODY_KEY_ROTATION;
		rec.key_rotation = &kr;
		if ((rc = store_publish(s, old, h.ids[i], &rec, now, NULL, NULL, NULL, &err)) < 0) {
			char a[PROTO_ID_HEX + 1];
			proto_hex(a, h.ids[i], PROTO_ID_BYTES);
			cli_error(ctx, "cannot publish the rotation in alliance %.16s…: %s", a,
			          store_strerror(rc));
			continue;
		}
		rotated++;
	}
	free(act);
	if (!rotated) {
		unlink(newpath);
		cli_error(ctx, "this key is active in no alliance: there is nothing to rotate");
		goto out;
	}
	if (rename(keypath, oldpath) < 0 || rename(newpath, keypath) < 0) {
		cli_error(ctx, "rotation published but the key files could not be swapped (%s): "
		          "the new key is %s", strerror(errno), newpath);
		goto out;
	}
	conf_swap_key(ctx, old_hex, new_hex);
	printf("%s\n", new_hex);
	if (store_txn_begin(s, &t) == 0) {
		for (size_t i = 0; i < h.n; i++) {
			char a[PROTO_ID_HEX + 1];
			struct store_member m;
			proto_hex(a, h.ids[i], PROTO_ID_BYTES);
			if (store_member_get(t, h.ids[i], nk->pk, &m) == 0 && !m.revoked)
				fprintf(stderr, "%s: alliance %.16s…: the new key is %s (handed over)\n",
				        ctx->prog, a, role_name(m.role));
			else if (store_member_get(t, h.ids[i], old->pk, &m) == 0 && m.rotated)
				fprintf(stderr, "%s: alliance %.16s…: ask a coordinator to run `agora "
				        "alliance admit %s --name \"%s\" --country %s --role %s`\n",
				        ctx->prog, a, new_hex, m.name, m.country[0] ? m.country : "CC",
				        role_name(m.role));
		}
		store_txn_end(t);
		t = NULL;
	}
	fprintf(stderr, "%s: the old key is kept in %s; restart agorad, and ask your partners "
	        "to replace %.16s… by the new key in their peer lists\n", ctx->prog, oldpath,
	        old_hex);
	ret = CLI_EXIT_OK;
out:
	store_txn_end(t);
	free(h.ids);
	if (text) {
		sodium_memzero(text, len);
		free(text);
	}
	if (pass)
		sodium_free(pass);
	proto_key_free(nk);
	return ret;
}
