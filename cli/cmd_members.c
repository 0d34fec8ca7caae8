/*
 * cmd_members.c - `agora alliance members|admit|revoke|rotate-key`: who is
 * in an alliance, and the commands that sign the records that change it.
 * The records themselves, their checks and messages are members.c's,
 * shared with agora web.  Dispatched from cmd_alliance.c.
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

#include "cli/table_int.h"
#include "cli/alliance_int.h"
#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/control_int.h"
#include "cli/fields_int.h"
#include "cli/home_int.h"
#include "cli/json_int.h"
#include "cli/members_int.h"
#include "cli/opt_int.h"

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
	else if (m->expires_ms && now >= m->expires_ms && m->expiry_seq != UINT64_MAX)
		snprintf(buf, cap, "expired after seq %llu", (unsigned long long)m->expiry_seq);
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

/* name folded for comparison (malloc()ed), or NULL for "" or bad UTF-8. */
static char *fold_name(const char *name)
{
	char *f = NULL;
	size_t n;
	if (!name[0] || store_text_fold(&f, &n, name, strlen(name)) < 0)
		return NULL;
	return f;
}

/*
 * same[i] = member i is active and another active member has its name.
 * Returns 0 or -ENOMEM.
 */
static int same_names(const struct mlist *l, uint64_t now, bool *same)
{
	char **f = calloc(l->n ? l->n : 1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		if (store_member_is_active(&l->v[i], now))
			f[i] = fold_name(l->v[i].name);
	for (size_t i = 0; i < l->n; i++) {
		same[i] = false;
		for (size_t j = 0; f[i] && j < l->n && !same[i]; j++)
			same[i] = j != i && f[j] && !strcmp(f[i], f[j]);
	}
	for (size_t i = 0; i < l->n; i++)
		free(f[i]);
	free(f);
	return 0;
}

void cli_member_warn_name(struct cli_ctx *ctx, struct store_txn *t,
                          const uint8_t alliance[PROTO_ID_BYTES], const char *name,
                          const uint8_t key[PROTO_KEY_BYTES])
{
	struct mlist l = { 0 };
	char *want = fold_name(name), hex[PROTO_KEY_BYTES * 2 + 1];
	uint64_t now = cli_now_ms();
	size_t n = 0, first = 0;

	if (!want || store_members(t, alliance, collect_cb, &l) < 0 || l.oom)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		char *f;
		if (!memcmp(l.v[i].key, key, PROTO_KEY_BYTES) ||
		    !store_member_is_active(&l.v[i], now) || !(f = fold_name(l.v[i].name)))
			continue;
		if (!strcmp(f, want) && n++ == 0)
			first = i;
		free(f);
	}
	if (n) {
		proto_hex(hex, l.v[first].key, PROTO_KEY_BYTES);
		hex[16] = '\0';
		cli_error(ctx, "warning: %zu other active key%s of this alliance %s named '%s' "
		          "(%s%s); if it is the same municipality, revoke the key it no longer uses",
		          n, n == 1 ? "" : "s", n == 1 ? "is" : "are", l.v[first].name, hex,
		          n == 1 ? "" : ", ...");
	}
out:
	free(want);
	free(l.v);
}

static int open_alliance(struct cli_ctx *ctx, const char *alliance, struct store **s,
                         uint8_t id[PROTO_ID_BYTES])
{
	struct store_txn *t;
	int ret;
	if ((ret = cli_snapshot(ctx, s, &t)) != CLI_EXIT_OK)
		return ret;
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

struct members_opts {
	const char *alliance;
	bool json;
};

static const struct cli_opt members_opts[] = {
	CLI_STR("--alliance", "NAME|ID", "the alliance (default: the default alliance)",
	        struct members_opts, alliance),
	CLI_FLAG("--json", "a JSON array, one object per key", struct members_opts, json),
	CLI_OPT_END,
};

const struct cli_command cli_members_cmd = {
	.name = "alliance members",
	.usage = "alliance members [--alliance NAME|ID] [--json]",
	.about = "Every key admitted to the alliance: name, country, role, status (active,\n"
	         "expired, expired after seq N once this node saw the expiry pass and took\n"
	         "nothing later, revoked after seq N), records held, when this node last had a\n"
	         "session with it, and 'fork' if it equivocated; 'same-name' marks active\n"
	         "keys that share a name (case and accents aside) with another active key\n"
	         "(JSON: \"same_name\").\n",
	.groups = { { "options", members_opts, 0 } },
};

int cli_alliance_members(struct cli_ctx *ctx, int argc, char **argv)
{
	struct members_opts o = { 0 };
	struct mlist l = { 0 };
	struct store_txn *t = NULL;
	struct store *s;
	uint8_t id[PROTO_ID_BYTES];
	bool *same = NULL;
	size_t n_args;
	int ret, rc;

	if ((ret = cli_opt_parse(ctx, &cli_members_cmd, argc, argv, 2, &o, NULL, &n_args)) !=
	    CLI_EXIT_OK)
		return cli_opt_status(ret);
	if ((ret = open_alliance(ctx, o.alliance, &s, id)) != CLI_EXIT_OK)
		return ret;
	if ((rc = store_txn_begin(s, &t)) < 0 || (rc = store_members(t, id, collect_cb, &l)) < 0 ||
	    l.oom) {
		cli_error(ctx, "cannot list members: %s", l.oom ? "out of memory" : store_strerror(rc));
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	uint64_t now = cli_now_ms();
	same = calloc(l.n ? l.n : 1, sizeof(*same));
	if (!same || same_names(&l, now, same) < 0) {
		cli_error(ctx, "out of memory");
		ret = CLI_EXIT_ERROR;
		goto out;
	}
	if (o.json) {
		json_t *arr = json_array();
		for (size_t i = 0; arr && i < l.n; i++) {
			char hex[PROTO_KEY_BYTES * 2 + 1], st[64];
			proto_hex(hex, l.v[i].key, PROTO_KEY_BYTES);
			status_text(st, sizeof st, &l.v[i], now);
			json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:b}", "key", hex,
			                      "name", l.v[i].name, "country", l.v[i].country,
			                      "role", role_name(l.v[i].role), "status", st,
			                      "records", (json_int_t)l.v[i].records,
			                      "equivocating", l.v[i].equivocating,
			                      "same_name", same[i]);
			if (m && l.v[i].expires_ms)
				json_object_set_new(m, "expires_ms", json_integer((json_int_t)l.v[i].expires_ms));
			if (m && l.v[i].revoked)
				json_object_set_new(m, "last_seq", json_integer((json_int_t)l.v[i].last_seq));
			uint64_t seen = last_seen(t, l.v[i].key);
			if (m && seen)
				json_object_set_new(m, "last_seen_ms", json_integer((json_int_t)seen));
			json_array_append_new(arr, m);
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
			char nmbuf[256];
			char seen[32] = "-";
			uint64_t ms = last_seen(t, l.v[i].key);
			time_t secs = (time_t)(ms / 1000);
			struct tm tmv;
			if (ms && gmtime_r(&secs, &tmv))
				strftime(seen, sizeof seen, "%Y-%m-%d %H:%M", &tmv);
			printf("%-16s %s %-2s %-11s %-24s %8llu %-16s %s%s%s\n", hex,
			       cli_table_padded(nmbuf, sizeof(nmbuf), nm, 24),
			       l.v[i].country[0] ? l.v[i].country : "-",
			       role_name(l.v[i].role), st, (unsigned long long)l.v[i].records, seen,
			       l.v[i].equivocating ? "fork" : "",
			       l.v[i].equivocating && same[i] ? " " : "", same[i] ? "same-name" : "");
		}
	}
	ret = CLI_EXIT_OK;
out:
	store_txn_end(t);
	free(same);
	free(l.v);
	return ret;
}

static int publish_gov(struct cli_ctx *ctx, struct store *s, const uint8_t *alliance,
                       const char *passfile, Agora__Record *rec)
{
	struct proto_key *key;
	struct proto_error err = { 0 };
	uint8_t rid[PROTO_ID_BYTES];
	char hex[PROTO_ID_HEX + 1], msg[1024];
	int ret, rc;
	if ((ret = cli_key(ctx, passfile, &key)) != CLI_EXIT_OK)
		return ret;
	rc = store_publish(s, key, alliance, rec, cli_now_ms(), rid, NULL, NULL, &err);
	if (rc < 0) {
		ret = cli_gov_message(msg, sizeof(msg), ctx, rc, &err);
		cli_error(ctx, "%s", msg);
		return ret;
	}
	cli_control_poke(ctx);
	proto_hex(hex, rid, PROTO_ID_BYTES);
	printf("%s\n", hex);
	return CLI_EXIT_OK;
}

struct admit_opts {
	const char *alliance, *name, *country, *role, *expires, *passphrase_file;
};

static const struct cli_opt admit_opts[] = {
	CLI_NEED("--name", "NAME", "the municipality's name", struct admit_opts, name),
	CLI_NEED("--country", "CC", "its country (ISO 3166-1 alpha-2)", struct admit_opts, country),
	CLI_STR("--role", "ROLE", "member (default), coordinator or observer (an\n"
	        "observer reads, and publishes only its profile)", struct admit_opts, role),
	CLI_STR("--expires", "DURATION", "N followed by s, m, h or d (30d): the admission\n"
	        "expires that long from now", struct admit_opts, expires),
	CLI_STR("--alliance", "NAME|ID", "the alliance (default: the default alliance)",
	        struct admit_opts, alliance),
	CLI_STR("--passphrase-file", "FILE", "the passphrase of an encrypted identity.key",
	        struct admit_opts, passphrase_file),
	CLI_OPT_END,
};

const struct cli_command cli_admit_cmd = {
	.name = "alliance admit",
	.usage = "alliance admit KEY --name NAME --country CC [--role ROLE]\n"
	         "alliance admit KEY ... [--expires 30d] [--alliance NAME|ID]",
	.about = "(Coordinators) admit KEY, a municipality's public key (64 hex digits, as\n"
	         "`agora whoami` prints it), to the alliance.\n",
	.groups = { { "options", admit_opts, 0 } },
	.min_args = 1,
	.max_args = 1,
};

int cli_alliance_admit(struct cli_ctx *ctx, int argc, char **argv)
{
	struct admit_opts o = { .role = "member" };
	uint8_t id[PROTO_ID_BYTES];
	Agora__Record *rec = NULL;
	const char *keyhex;
	struct store *s;
	size_t n_args;
	char err[512];
	int ret;

	if ((ret = cli_opt_parse(ctx, &cli_admit_cmd, argc, argv, 2, &o, &keyhex, &n_args)) !=
	    CLI_EXIT_OK)
		return cli_opt_status(ret);
	if (!*o.name)
		return cli_opt_usage(ctx, &cli_admit_cmd);
	if ((ret = cli_admission_new(&rec, err, sizeof(err), keyhex, o.name, o.country, o.role,
	                             o.expires)) != CLI_EXIT_OK) {
		cli_error(ctx, "%s", err);
		return ret;
	}
	if ((ret = open_alliance(ctx, o.alliance, &s, id)) != CLI_EXIT_OK)
		goto out;
	ret = publish_gov(ctx, s, id, o.passphrase_file, rec);
	if (ret == CLI_EXIT_OK) {
		struct store_txn *t = NULL;
		if (store_txn_begin(s, &t) == 0)
			cli_member_warn_name(ctx, t, id, o.name, rec->admission->member.data);
		store_txn_end(t);
	}
out:
	json_record_free(rec);
	return ret;
}

struct revoke_opts {
	const char *alliance, *reason, *after, *passphrase_file;
};

static const struct cli_opt revoke_opts[] = {
	CLI_NEED("--reason", "TEXT", "why (shown to every member)", struct revoke_opts, reason),
	CLI_STR("--after-seq", "N", "no record of KEY after seq N counts any more (default:\n"
	        "the last one this node holds)", struct revoke_opts, after),
	CLI_STR("--alliance", "NAME|ID", "the alliance (default: the default alliance)",
	        struct revoke_opts, alliance),
	CLI_STR("--passphrase-file", "FILE", "the passphrase of an encrypted identity.key",
	        struct revoke_opts, passphrase_file),
	CLI_OPT_END,
};

const struct cli_command cli_revoke_cmd = {
	.name = "alliance revoke",
	.usage = "alliance revoke KEY --reason TEXT [--after-seq N]\n"
	         "alliance revoke KEY ... [--alliance NAME|ID]",
	.about = "(Coordinators) invalidate KEY's records after seq N and cut its sessions\n"
	         "everywhere.  Permanent.\n",
	.groups = { { "options", revoke_opts, 0 } },
	.min_args = 1,
	.max_args = 1,
};

int cli_alliance_revoke(struct cli_ctx *ctx, int argc, char **argv)
{
	struct revoke_opts o = { 0 };
	uint8_t id[PROTO_ID_BYTES];
	Agora__Record *rec = NULL;
	const char *keyhex;
	struct store *s;
	size_t n_args;
	char err[512];
	int ret;

	if ((ret = cli_opt_parse(ctx, &cli_revoke_cmd, argc, argv, 2, &o, &keyhex, &n_args)) !=
	    CLI_EXIT_OK)
		return cli_opt_status(ret);
	if (!*o.reason)
		return cli_opt_usage(ctx, &cli_revoke_cmd);
	if ((ret = cli_revocation_new(&rec, err, sizeof(err), keyhex, o.reason, o.after)) !=
	    CLI_EXIT_OK) {
		cli_error(ctx, "%s", err);
		return ret;
	}
	if ((ret = open_alliance(ctx, o.alliance, &s, id)) != CLI_EXIT_OK)
		goto out;
	if (!o.after)
		cli_revocation_last(rec, s, id);
	ret = publish_gov(ctx, s, id, o.passphrase_file, rec);
out:
	json_record_free(rec);
	return ret;
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

/* agora.conf's [node] key (shown without the passphrase) follows the key,
 * where init wrote one.  The rotation is done whatever happens here. */
static void conf_set_key(struct cli_ctx *ctx, const char *new_hex)
{
	struct store_conf c;
	struct store_conf_edit *e = NULL;
	bool had;

	if (cli_conf_load(ctx, &c) != CLI_EXIT_OK)
		return;
	had = c.has_key;
	store_conf_dispose(&c);
	if (had && cli_conf_edit(ctx, &e) == CLI_EXIT_OK &&
	    store_conf_edit_node_set(e, "key", new_hex) == 0)
		cli_conf_save(ctx, e, 0);
	store_conf_edit_free(e);
}

struct rotate_opts {
	const char *passphrase_file;
};

static const struct cli_opt rotate_opts[] = {
	CLI_STR("--passphrase-file", "FILE", "the passphrase of the old key, and of the new\n"
	        "one (else $AGORA_PASSPHRASE; with neither, the\n"
	        "new key is kept plain)",
	        struct rotate_opts, passphrase_file),
	CLI_OPT_END,
};

const struct cli_command cli_rotate_cmd = {
	.name = "alliance rotate-key",
	.usage = "alliance rotate-key [--passphrase-file FILE]",
	.about = "Replace this node's key: in every alliance where it is active, the old\n"
	         "key signs a KeyRotation naming the new key (which countersigns it) and\n"
	         "publishes nothing more.  A coordinator's new key takes over its role at\n"
	         "once; a member's new key needs a coordinator's `agora alliance admit`.\n"
	         "The old key file is kept.  Restart agorad afterwards.\n",
	.groups = { { "options", rotate_opts, 0 } },
};

int cli_alliance_rotate(struct cli_ctx *ctx, int argc, char **argv)
{
	struct rotate_opts o = { 0 };
	const char *passfile;
	struct proto_key *old, *nk = NULL;
	struct store *s;
	struct store_txn *t = NULL;
	struct held h = { NULL, 0 };
	char *text = NULL, *pass = NULL, keypath[4200], newpath[4300], oldpath[4300];
	char old_hex[65], new_hex[65], retired[32];
	size_t len = 0, rotated = 0, n_args;
	int ret = CLI_EXIT_ERROR, rc;

	if ((ret = cli_opt_parse(ctx, &cli_rotate_cmd, argc, argv, 2, &o, NULL, &n_args)) !=
	    CLI_EXIT_OK)
		return cli_opt_status(ret);
	passfile = o.passphrase_file;
	if ((ret = cli_store(ctx, false, &s)) != CLI_EXIT_OK ||
	    (ret = cli_key(ctx, passfile, &old)) != CLI_EXIT_OK)
		return ret;
	ret = CLI_EXIT_ERROR;
	/* the new key file is written first: a rotation is never published
	 * for a key this node does not hold safely */
	if ((ret = cli_passphrase(ctx, passfile, &pass)) != CLI_EXIT_OK)
		return ret;
	ret = CLI_EXIT_ERROR;
	if ((rc = proto_key_generate(&nk)) < 0 || (rc = proto_key_encode(&text, &len, nk, pass)) < 0) {
		cli_error(ctx, "cannot make a new key: %s", proto_strerror(rc));
		goto out;
	}
	proto_hex(old_hex, old->pk, PROTO_KEY_BYTES);
	proto_hex(new_hex, nk->pk, PROTO_KEY_BYTES);
	snprintf(retired, sizeof retired, ".retired-%.16s", old_hex);
	store_home_path(keypath, sizeof keypath, ctx->home, STORE_HOME_KEY, NULL);
	store_home_path(newpath, sizeof newpath, ctx->home, STORE_HOME_KEY, ".new");
	store_home_path(oldpath, sizeof oldpath, ctx->home, STORE_HOME_KEY, retired);
	if ((rc = store_file_write(newpath, text, len, 0600, STORE_WRITE_NEW)) < 0) {
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
	conf_set_key(ctx, new_hex);
	printf("%s\n", new_hex);
	/* The new key's profile and endpoint wait as pending records: agorad
	 * stores them once the new key is active (at once for a coordinator's,
	 * after the admission for a member's), and the partners then find it
	 * by its endpoint as any member (PROTOCOL.md 6.11). */
	for (size_t i = 0; i < h.n; i++) {
		struct store_member m;
		struct store_endpoint ep;
		struct cli_endpoint ce = { .n = 0 };
		bool have = false, observer = false;
		if (store_txn_begin(s, &t) == 0) {
			have = store_member_get(t, h.ids[i], old->pk, &m) == 0 && m.rotated;
			observer = have && m.role == AGORA__ROLE__ROLE_OBSERVER;
			if (have && !observer && store_endpoint_get(t, h.ids[i], old->pk, &ep) == 0)
				for (size_t k = 0; k < ep.n && k < PROTO_ENDPOINT_MAX; k++) {
					size_t l = strnlen(ep.addr[k], sizeof(ep.addr[k]));
					if (l >= sizeof(ce.addr[0]))
						continue;   /* longer than an address may be */
					memcpy(ce.addr[ce.n], ep.addr[k], l);
					ce.addr[ce.n++][l] = '\0';
				}
			store_txn_end(t);
			t = NULL;
		}
		if (have)
			(void)cli_join_records(ctx, s, nk, h.ids[i], observer ? NULL : &ce);
	}
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
	fprintf(stderr, "%s: the old key is kept in %s; restart agorad.  Partners find the new "
	        "key by its endpoint; only those that pinned %.16s… with `agora peer add` "
	        "replace it in their agora.conf\n", ctx->prog, oldpath, old_hex);
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
