/*
 * members.c - what changes an alliance's membership, shared by the
 * subcommands of `agora alliance` (cmd_members.c, cmd_invite.c), `agora
 * status` and the coordinators' forms of `agora web`: a member's terms
 * (role, duration), the admission and revocation records as the commands
 * check and build them, the message of a refused governance record, and
 * the forks held as evidence.  Nothing here prints, but cli_member_terms.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli_int.h"
#include "cli/fields_int.h"
#include "cli/home_int.h"
#include "cli/json_int.h"
#include "cli/members_int.h"

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

int cli_member_terms_message(char *err, size_t cap, const char *role, const char *expires,
                             int *role_out, uint64_t *dur_ms)
{
	int r;
	uint64_t d = 0;

	if (!role || proto_enum_parse(&r, &agora__role__descriptor, role) < 0 || r == 0) {
		snprintf(err, cap, "unknown role '%s': use member, coordinator or observer",
		         role ? role : "");
		return CLI_EXIT_USAGE;
	}
	if (expires && cli_duration_ms(expires, &d) < 0) {
		snprintf(err, cap, "--expires '%s' is not a duration such as 30d, 12h, 10m or 5s",
		         expires);
		return CLI_EXIT_USAGE;
	}
	*role_out = r;
	*dur_ms = d;
	return CLI_EXIT_OK;
}

int cli_member_terms(struct cli_ctx *ctx, const char *role, const char *expires, int *role_out,
                     uint64_t *dur_ms)
{
	char err[512];
	int ret = cli_member_terms_message(err, sizeof(err), role, expires, role_out, dur_ms);

	if (ret != CLI_EXIT_OK)
		cli_error(ctx, "%s", err);
	return ret;
}

bool cli_member_coordinator(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                            const uint8_t key[PROTO_KEY_BYTES], uint64_t now_ms)
{
	struct store_member me;

	return store_member_active(t, alliance, key, now_ms) == 0 &&
	       store_member_get(t, alliance, key, &me) == 0 &&
	       me.role == AGORA__ROLE__ROLE_COORDINATOR;
}

static int parse_key_message(char *err, size_t cap, const char *hex,
                             uint8_t key[PROTO_KEY_BYTES])
{
	if (!hex || strlen(hex) != PROTO_KEY_BYTES * 2 || proto_unhex(key, PROTO_KEY_BYTES, hex)) {
		snprintf(err, cap, "'%s' is not a public key: give its 64 hex digits (see `agora whoami`)",
		         hex ? hex : "");
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

int cli_gov_message(char *buf, size_t cap, struct cli_ctx *ctx, int rc,
                    const struct proto_error *err)
{
	if (rc == STORE_E_ROLE || rc == STORE_E_NOT_MEMBER) {
		snprintf(buf, cap, "only a coordinator of this alliance can do that: %s",
		         store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	return cli_publish_message(buf, cap, ctx, rc, err);
}

int cli_admission_new(Agora__Record **out, char *err, size_t cap, const char *keyhex,
                      const char *name, const char *country, const char *role,
                      const char *expires)
{
	Agora__Admission *a = NULL;
	Agora__Record *rec = NULL;
	uint8_t member[PROTO_KEY_BYTES];
	uint64_t dur = 0;
	int ret, r;

	if ((ret = parse_key_message(err, cap, keyhex, member)) != CLI_EXIT_OK ||
	    (ret = cli_member_terms_message(err, cap, role ? role : "member", expires, &r, &dur)) !=
	    CLI_EXIT_OK)
		return ret;
	if (!name || !*name || !country || !*country) {
		snprintf(err, cap, "an admission needs the municipality's --name and --country");
		return CLI_EXIT_USAGE;
	}
	if (!(a = (Agora__Admission *)fields_new_message(&agora__admission__descriptor)) ||
	    !(a->member.data = malloc(PROTO_KEY_BYTES)) || !(a->name = strdup(name)) ||
	    !(a->country = strdup(country)))
		goto nomem;
	memcpy(a->member.data, member, PROTO_KEY_BYTES);
	a->member.len = PROTO_KEY_BYTES;
	a->has_member = 1;
	for (char *c = a->country; *c; c++)   /* "dk" is typed for DK */
		*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
	a->has_role = 1;
	a->role = r;
	if (dur) {
		a->has_expires_ms = 1;
		a->expires_ms = cli_now_ms() + dur;
	}
	if (json_record_wrap(&rec, PROTO_KIND_ADMISSION, &a->base, NULL) < 0)
		goto nomem;
	*out = rec;
	return CLI_EXIT_OK;
nomem:
	if (a)
		agora__admission__free_unpacked(a, NULL);
	snprintf(err, cap, "out of memory");
	return CLI_EXIT_ERROR;
}

int cli_revocation_new(Agora__Record **out, char *err, size_t cap, const char *keyhex,
                       const char *reason, const char *after)
{
	Agora__Revocation *rv = NULL;
	Agora__Record *rec = NULL;
	uint8_t member[PROTO_KEY_BYTES];
	uint64_t last = 0;
	int ret;

	if ((ret = parse_key_message(err, cap, keyhex, member)) != CLI_EXIT_OK)
		return ret;
	if (after) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(after, &end, 10);
		if (errno || end == after || *end || after[0] == '-') {
			snprintf(err, cap, "--after-seq '%s' is not a number", after);
			return CLI_EXIT_USAGE;
		}
		last = n;
	}
	if (!reason || !*reason) {
		snprintf(err, cap, "a revocation needs its --reason (shown to every member)");
		return CLI_EXIT_USAGE;
	}
	if (!(rv = (Agora__Revocation *)fields_new_message(&agora__revocation__descriptor)) ||
	    !(rv->member.data = malloc(PROTO_KEY_BYTES)) || !(rv->reason = strdup(reason)))
		goto nomem;
	memcpy(rv->member.data, member, PROTO_KEY_BYTES);
	rv->member.len = PROTO_KEY_BYTES;
	rv->has_member = 1;
	rv->has_last_seq = 1;
	rv->last_seq = last;
	if (json_record_wrap(&rec, PROTO_KIND_REVOCATION, &rv->base, NULL) < 0)
		goto nomem;
	*out = rec;
	return CLI_EXIT_OK;
nomem:
	if (rv)
		agora__revocation__free_unpacked(rv, NULL);
	snprintf(err, cap, "out of memory");
	return CLI_EXIT_ERROR;
}

void cli_revocation_last(Agora__Record *rec, struct store *s,
                         const uint8_t alliance[PROTO_ID_BYTES])
{
	struct store_txn *t;
	uint8_t hid[PROTO_ID_BYTES];
	uint64_t seq = 0;

	if (store_txn_begin(s, &t) == 0) {
		if (store_feed_head(t, alliance, rec->revocation->member.data, &seq, hid) < 0)
			seq = 0;
		store_txn_end(t);
	}
	rec->revocation->last_seq = seq;
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
