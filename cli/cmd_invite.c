/*
 * cmd_invite.c - `agora alliance invite` (a coordinator makes a one-time
 * invite code) and `agora join CODE` (a fresh node redeems it through
 * agorad).  Code and redemption: proto/PROTOCOL.md section 6.7; the node
 * side is node/invite.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli/alliance_int.h"
#include "cli/cli_int.h"
#include "cli/cmds_int.h"
#include "cli/control_int.h"
#include "cli/home_int.h"
#include "cli/members_int.h"
#include "cli/opt_int.h"

#define CODE_PREFIX "agora1-"
#define CODE_MAX 512

/* The decoded contents of an invite code. */
struct invite {
	uint8_t alliance[32], token[32], coordinator[32];
	uint8_t role;
	char addr[256], name[128], country[8];
};

static size_t put_str(uint8_t *p, const char *s)
{
	size_t n = strlen(s);
	p[0] = (uint8_t)n;
	memcpy(p + 1, s, n);
	return n + 1;
}

/* version(1)=1 | alliance(32) | token(32) | coordinator(32) | role(1) |
 * addr_len(1) addr | name_len(1) name | country_len(1) country,
 * base64url without padding, after "agora1-". */
static int code_encode(char *out, size_t cap, const struct invite *iv)
{
	uint8_t b[1 + 96 + 1 + 3 + 255 * 3];
	size_t n = 0;
	b[n++] = 1;
	memcpy(b + n, iv->alliance, 32), n += 32;
	memcpy(b + n, iv->token, 32), n += 32;
	memcpy(b + n, iv->coordinator, 32), n += 32;
	b[n++] = iv->role;
	n += put_str(b + n, iv->addr);
	n += put_str(b + n, iv->name);
	n += put_str(b + n, iv->country);
	size_t need = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (strlen(CODE_PREFIX) + need > cap)
		return -1;
	strcpy(out, CODE_PREFIX);
	sodium_bin2base64(out + strlen(CODE_PREFIX), need, b, n,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(b, sizeof b);
	return 0;
}

static int get_str(char *out, size_t cap, const uint8_t *b, size_t len, size_t *pos)
{
	if (*pos >= len)
		return -1;
	size_t n = b[(*pos)++];
	if (n >= cap || *pos + n > len || memchr(b + *pos, 0, n))
		return -1;
	memcpy(out, b + *pos, n);
	out[n] = 0;
	*pos += n;
	return 0;
}

static int invite_decode(struct invite *iv, const char *code)
{
	uint8_t b[CODE_MAX];
	size_t len = 0, pos = 0;
	size_t pl = strlen(CODE_PREFIX);
	if (strncmp(code, CODE_PREFIX, pl) != 0 ||
	    sodium_base642bin(b, sizeof b, code + pl, strlen(code + pl), NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    len < 1 + 96 + 1 || b[0] != 1)
		return -1;
	memset(iv, 0, sizeof *iv);
	memcpy(iv->alliance, b + 1, 32);
	memcpy(iv->token, b + 33, 32);
	memcpy(iv->coordinator, b + 65, 32);
	iv->role = b[97];
	pos = 98;
	int rc = get_str(iv->addr, sizeof iv->addr, b, len, &pos) ||
	         get_str(iv->name, sizeof iv->name, b, len, &pos) ||
	         get_str(iv->country, sizeof iv->country, b, len, &pos) || pos != len ||
	         iv->role < 1 || iv->role > 3 ? -1 : 0;
	sodium_memzero(b, sizeof b);
	return rc;
}

/*
 * The address a running agorad listens on (its status), when partners can
 * dial it as it is: a wildcard ("0.0.0.0:7420") says nothing of where this
 * node is reached, so it is refused; a loopback one is what the operator
 * told agorad to use (tests on one machine), so it is taken.
 */
static int running_addr(struct cli_ctx *ctx, char *out, size_t cap)
{
	Agora__Control__Request req = AGORA__CONTROL__REQUEST__INIT;
	Agora__Control__StatusReq sr = AGORA__CONTROL__STATUS_REQ__INIT;
	Agora__Control__Response *resp = NULL;
	char host[PROTO_ADDRESS_MAX + 1];
	int rc = -1;

	req.req_case = AGORA__CONTROL__REQUEST__REQ_STATUS;
	req.status = &sr;
	if (cli_control_call(ctx, &req, &resp))
		return -1;
	if (!resp->code && resp->status && resp->status->listen &&
	    strlen(resp->status->listen) < cap &&
	    !proto_address_parse(host, sizeof host, NULL, resp->status->listen, NULL) &&
	    strcmp(host, "0.0.0.0") && strcmp(host, "::")) {
		snprintf(out, cap, "%s", resp->status->listen);
		rc = 0;
	}
	agora__control__response__free_unpacked(resp, NULL);
	return rc;
}

struct invite_opts {
	const char *alliance, *name, *country, *role, *expires, *address, *passphrase_file;
};

static const struct cli_opt invite_opts[] = {
	CLI_NEED("--name", "NAME", "the new member's municipality name", struct invite_opts, name),
	CLI_STR("--country", "CC", "its country (ISO 3166-1 alpha-2)", struct invite_opts, country),
	CLI_STR("--role", "ROLE", "member (default), coordinator or observer",
	        struct invite_opts, role),
	CLI_STR("--expires", "DURATION", "how long the code works (default 7d; s, m, h, d)",
	        struct invite_opts, expires),
	CLI_STR("--address", "HOST:PORT", "where the new member reaches this node (default:\n"
	        "this node's endpoint in the alliance (`agora endpoint`),\n"
	        "else agora.conf public-address, else the address the\n"
	        "running agorad listens on unless it is 0.0.0.0)",
	        struct invite_opts, address),
	CLI_STR("--alliance", "NAME|ID", "the alliance (default: the default alliance)",
	        struct invite_opts, alliance),
	CLI_STR("--passphrase-file", "FILE", "the passphrase of an encrypted identity.key",
	        struct invite_opts, passphrase_file),
	CLI_OPT_END,
};

const struct cli_command cli_invite_cmd = {
	.name = "alliance invite",
	.usage = "alliance invite --name NAME [--country CC] [--role ROLE]\n"
	         "alliance invite ... [--expires 7d] [--address HOST:PORT]\n"
	         "alliance invite ... [--alliance NAME|ID]",
	.about = "(Coordinators) print a one-time invite code for a new member: on its\n"
	         "fresh node, `agora init`, then `agora join CODE` and agorad do the rest.\n",
	.groups = { { "options", invite_opts, 0 } },
};

int cli_invite_check(char *err, size_t cap, const struct cli_invite_req *q)
{
	struct invite iv;
	int r;
	uint64_t dur;
	int ret;

	if (!q->name || !*q->name || strlen(q->name) >= sizeof iv.name) {
		snprintf(err, cap, "an invite needs the new member's --name (at most %zu bytes)",
		         sizeof iv.name - 1);
		return CLI_EXIT_USAGE;
	}
	if (q->country && strlen(q->country) >= sizeof iv.country) {
		snprintf(err, cap, "--country '%s' is too long: give the two letters (DK)", q->country);
		return CLI_EXIT_USAGE;
	}
	if ((ret = cli_member_terms_message(err, cap, q->role ? q->role : "member",
	                                    q->expires ? q->expires : "7d", &r, &dur)) !=
	    CLI_EXIT_OK)
		return ret;
	if (q->address) {
		char host[STORE_CONF_HOST_MAX];
		uint16_t port;
		if (strlen(q->address) >= sizeof iv.addr ||
		    store_conf_hostport(host, &port, q->address, false)) {
			snprintf(err, cap, "'%s' is not HOST:PORT", q->address);
			return CLI_EXIT_USAGE;
		}
	}
	return CLI_EXIT_OK;
}

int cli_invite_new(char *code, size_t code_cap, char *err, size_t cap, struct cli_ctx *ctx,
                   struct store *s, const struct proto_key *key,
                   const uint8_t alliance[PROTO_ID_BYTES], const struct cli_invite_req *q,
                   bool warn)
{
	const char *country = q->country ? q->country : "";
	struct invite iv;
	struct store_txn *t;
	uint64_t dur;
	int r, ret, rc;
	char buf[CODE_MAX * 2];

	if ((ret = cli_invite_check(err, cap, q)) != CLI_EXIT_OK)
		return ret;
	cli_member_terms_message(err, cap, q->role ? q->role : "member",
	                         q->expires ? q->expires : "7d", &r, &dur);   /* checked above */
	memset(&iv, 0, sizeof iv);
	memcpy(iv.alliance, alliance, 32);
	if (q->address)
		snprintf(iv.addr, sizeof iv.addr, "%s", q->address);
	if ((rc = store_txn_begin(s, &t)) < 0) {
		snprintf(err, cap, "cannot read the store: %s", store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	bool coord = cli_member_coordinator(t, iv.alliance, key->pk, cli_now_ms());
	bool have_addr = q->address || cli_endpoint_invite_addr(ctx, t, iv.alliance, key->pk, iv.addr,
	                                                        sizeof iv.addr) == 0;
	if (coord && warn) {
		static const uint8_t nobody[PROTO_KEY_BYTES];   /* the new key is not known yet */
		cli_member_warn_name(ctx, t, iv.alliance, q->name, nobody);
	}
	store_txn_end(t);
	if (!have_addr && running_addr(ctx, iv.addr, sizeof iv.addr) < 0) {
		snprintf(err, cap, "give --address HOST:PORT where the new member reaches this node: "
		         "it has published no endpoint here (`agora endpoint set HOST:PORT`), "
		         "and agorad does not run on an address others can use");
		return CLI_EXIT_USAGE;
	}
	if (!coord) {
		snprintf(err, cap, "only a coordinator of this alliance can invite");
		return CLI_EXIT_ERROR;
	}
	randombytes_buf(iv.token, sizeof iv.token);
	memcpy(iv.coordinator, key->pk, 32);
	iv.role = (uint8_t)r;
	snprintf(iv.name, sizeof iv.name, "%s", q->name);
	snprintf(iv.country, sizeof iv.country, "%s", country);
	for (char *c = iv.country; *c; c++)   /* "dk" is typed for DK */
		*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);

	/* kept for node/invite.c to redeem (the store keeps the token's hash) */
	struct store_invite si = { .role = iv.role, .expires_ms = cli_now_ms() + dur };
	memcpy(si.alliance, iv.alliance, 32);
	snprintf(si.name, sizeof si.name, "%s", iv.name);
	snprintf(si.country, sizeof si.country, "%s", iv.country);
	if (code_encode(buf, sizeof buf, &iv) < 0 || strlen(buf) >= code_cap) {
		sodium_memzero(&iv.token, sizeof iv.token);
		snprintf(err, cap, "invite too long");
		return CLI_EXIT_ERROR;
	}
	rc = store_invite_put(s, iv.token, &si);
	sodium_memzero(&iv.token, sizeof iv.token);
	if (rc < 0) {
		sodium_memzero(buf, sizeof buf);
		snprintf(err, cap, "cannot store the invite: %s", store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	memcpy(code, buf, strlen(buf) + 1);
	sodium_memzero(buf, sizeof buf);
	return CLI_EXIT_OK;
}

int cli_alliance_invite(struct cli_ctx *ctx, int argc, char **argv)
{
	struct invite_opts o = { .country = "", .role = "member", .expires = "7d" };
	struct invite iv;
	uint8_t alliance[PROTO_ID_BYTES];
	struct store *s;
	struct store_txn *t;
	struct proto_key *key;
	size_t n_args;
	int ret;
	char code[CODE_MAX * 2], err[1024];

	if ((ret = cli_opt_parse(ctx, &cli_invite_cmd, argc, argv, 2, &o, NULL, &n_args)) !=
	    CLI_EXIT_OK)
		return cli_opt_status(ret);
	struct cli_invite_req q = { .name = o.name, .country = o.country, .role = o.role,
	                            .expires = o.expires, .address = o.address };
	if (!*o.name || strlen(o.name) >= sizeof iv.name || strlen(o.country) >= sizeof iv.country)
		return cli_opt_usage(ctx, &cli_invite_cmd);
	if ((ret = cli_invite_check(err, sizeof err, &q)) != CLI_EXIT_OK) {
		cli_error(ctx, "%s", err);
		return ret;
	}
	if ((ret = cli_key(ctx, o.passphrase_file, &key)) != CLI_EXIT_OK ||
	    (ret = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK)
		return ret;
	ret = cli_alliance(ctx, t, o.alliance, alliance);
	store_txn_end(t);
	if (ret != CLI_EXIT_OK)
		return ret;
	if ((ret = cli_invite_new(code, sizeof code, err, sizeof err, ctx, s, key, alliance, &q,
	                          true)) != CLI_EXIT_OK) {
		cli_error(ctx, "%s", err);
		return ret;
	}
	printf("%s\n", code);
	sodium_memzero(code, sizeof code);
	if (ctx->tty_out)
		fprintf(stderr, "%s: give this code to %s; on its node: agora init ..., then "
		        "agora join CODE and start agorad.  It works once, until %s from now.\n",
		        ctx->prog, o.name, o.expires);
	return CLI_EXIT_OK;
}

struct join_opts {
	const char *public_address, *passphrase_file;
};

static const struct cli_opt join_opts[] = {
	CLI_STR("--public-address", "HOST:PORT", "where partners reach this node (several\n"
	        "separated by commas; none: it only dials out).  Default:\n"
	        "agora.conf [node] public-address, else its listen address\n"
	        "when partners can reach it, else none", struct join_opts, public_address),
	CLI_STR("--passphrase-file", "FILE", "the passphrase of an encrypted identity.key",
	        struct join_opts, passphrase_file),
	CLI_OPT_END,
};

static const struct cli_command join_cmd = {
	.name = "join",
	.usage = "join CODE [--public-address HOST:PORT] [--passphrase-file FILE]",
	.about = "Join an alliance with an invite code from one of its coordinators\n"
	         "(`agora alliance invite`).  Run `agora init` first.  The coordinator\n"
	         "becomes a peer; when agorad runs, it connects, redeems the code inside\n"
	         "the encrypted session, is admitted, and syncs the alliance.  join signs\n"
	         "this node's profile and endpoint (where partners reach it) for the\n"
	         "alliance now; agorad publishes them once it holds the alliance, so\n"
	         "every member can find this node.  A code works once.\n",
	.groups = { { "options", join_opts, 0 } },
	.min_args = 1,
	.max_args = 1,
};

/* Sign rec as this node's record seq (prev: the one before, or NULL) in
 * alliance; *env gets the malloc()ed envelope (the caller frees it). */
static int join_sign(struct cli_ctx *ctx, struct proto_key *key, const uint8_t *alliance,
                     Agora__Record *rec, uint64_t seq, const uint8_t *prev, uint8_t **env,
                     size_t *len, uint8_t id[PROTO_ID_BYTES])
{
	struct proto_error err = { 0 };
	int rc;

	rec->has_alliance = 1;
	rec->alliance.data = (uint8_t *)alliance;
	rec->alliance.len = PROTO_ID_BYTES;
	rec->has_author = 1;
	rec->author.data = key->pk;
	rec->author.len = PROTO_KEY_BYTES;
	rec->has_seq = 1;
	rec->seq = seq;
	rec->has_prev = prev != NULL;
	rec->prev.data = (uint8_t *)prev;
	rec->prev.len = prev ? PROTO_ID_BYTES : 0;
	rec->has_created_ms = 1;
	rec->created_ms = cli_now_ms();
	if ((rc = proto_record_sign(env, len, id, rec, key, rec->created_ms, &err)) < 0)
		return cli_publish_error(ctx, rc, &err);
	return CLI_EXIT_OK;
}

/*
 * This node's first records in the alliance, signed now and kept pending
 * until agorad holds its charter (store_pending_put): the Profile of
 * agora.conf [profile] (when there is one) at seq 1, then the Endpoint
 * (ep; NULL: none).
 */
int cli_join_records(struct cli_ctx *ctx, struct store *s, struct proto_key *key,
                     const uint8_t *alliance, const struct cli_endpoint *ep)
{
	/* ep NULL: an observer, which publishes no Endpoint (PROTOCOL.md 6.2) */
	Agora__Record prec = AGORA__RECORD__INIT, erec = AGORA__RECORD__INIT;
	Agora__Profile *p = NULL;
	Agora__Endpoint body;
	char *ptrs[PROTO_ENDPOINT_MAX];
	struct store_item items[2] = { { NULL, 0 }, { NULL, 0 } };
	uint8_t *envs[2] = { NULL, NULL }, id[PROTO_ID_BYTES], id2[PROTO_ID_BYTES];
	size_t lens[2] = { 0, 0 };
	size_t n = 0;
	int ret, rc;

	ret = cli_conf_profile(ctx, &p);
	if (ret == CLI_EXIT_OK) {
		prec.body_case = AGORA__RECORD__BODY_PROFILE;
		prec.profile = p;
		if ((ret = join_sign(ctx, key, alliance, &prec, 1, NULL, &envs[0], &lens[0], id)) != CLI_EXIT_OK)
			goto out;
		n = 1;
	} else if (ret != CLI_EXIT_NOTFOUND) {
		goto out;
	}
	if (ep) {
		cli_endpoint_body(&body, ptrs, ep);
		erec.body_case = AGORA__RECORD__BODY_ENDPOINT;
		erec.endpoint = &body;
		if ((ret = join_sign(ctx, key, alliance, &erec, n + 1, n ? id : NULL, &envs[n],
		                     &lens[n], id2)) != CLI_EXIT_OK)
			goto out;
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		items[i].env = envs[i];
		items[i].len = lens[i];
	}
	if ((rc = store_pending_put(s, alliance, items, n)) < 0) {
		cli_error(ctx, "cannot keep this node's first records: %s", store_strerror(rc));
		ret = CLI_EXIT_ERROR;
	}
out:
	free(envs[0]);
	free(envs[1]);
	if (p)
		agora__profile__free_unpacked(p, NULL);
	return ret;
}

int cli_cmd_join(struct cli_ctx *ctx, int argc, char **argv)
{
	struct join_opts o = { 0 };
	struct invite iv;
	struct cli_endpoint ep;
	struct proto_key *key;
	struct store *s;
	char khex[65];
	const char *code;
	size_t n_args;
	int ret, rc;

	if ((ret = cli_opt_parse(ctx, &join_cmd, argc, argv, 1, &o, &code, &n_args)) != CLI_EXIT_OK)
		return cli_opt_status(ret);
	if (invite_decode(&iv, code) < 0) {
		cli_error(ctx, "this is not a valid invite code (it starts with %s; copy all of it)",
		          CODE_PREFIX);
		return CLI_EXIT_INPUT;
	}
	if ((ret = cli_endpoint_choose(ctx, o.public_address, &ep)) != CLI_EXIT_OK ||
	    (ret = cli_key(ctx, o.passphrase_file, &key)) != CLI_EXIT_OK ||
	    (ret = cli_store(ctx, false, &s)) != CLI_EXIT_OK) {
		sodium_memzero(iv.token, sizeof iv.token);
		return ret;
	}
	bool observer = iv.role == AGORA__ROLE__ROLE_OBSERVER;
	if ((ret = cli_join_records(ctx, s, key, iv.alliance, observer ? NULL : &ep)) != CLI_EXIT_OK) {
		sodium_memzero(iv.token, sizeof iv.token);
		return ret;
	}
	rc = store_join_put(s, iv.coordinator, iv.alliance, iv.token);
	sodium_memzero(iv.token, sizeof iv.token);
	if (rc < 0) {
		cli_error(ctx, "cannot store the invite: %s", store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	if ((rc = store_default_alliance_set(s, iv.alliance)) < 0) {
		cli_error(ctx, "cannot set the default alliance: %s", store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	if (o.public_address && (ret = cli_endpoint_remember(ctx, &ep)) != CLI_EXIT_OK)
		return ret;
	proto_hex(khex, iv.coordinator, 32);
	if ((ret = cli_peer_add(ctx, iv.addr, khex, "coordinator", true)) != CLI_EXIT_OK)
		return ret;
	if (observer)
		printf("endpoint: none: an observer publishes no endpoint, and dials out\n");
	else
		cli_endpoint_say(ctx, &ep, "endpoint");
	printf("joining as %s; start agorad (or keep it running): it connects to the "
	       "coordinator, redeems the code, syncs the alliance and publishes this node's "
	       "profile and endpoint there\n", iv.name);
	return CLI_EXIT_OK;
}
