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

/* 127.0.0.1 and the port a running agorad wrote to <home>/agorad.port. */
static int default_addr(struct cli_ctx *ctx, char *out, size_t cap)
{
	char path[4200], *text = NULL;
	size_t len = 0;

	if (store_home_path(path, sizeof path, ctx->home, STORE_HOME_PORT, NULL) ||
	    store_file_read(path, 16, &text, &len))
		return -1;
	text[strcspn(text, "\r\n")] = 0;
	if (!text[0]) {
		free(text);
		return -1;
	}
	snprintf(out, cap, "127.0.0.1:%s", text);
	free(text);
	return 0;
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
	        "this agorad on 127.0.0.1)", struct invite_opts, address),
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

int cli_alliance_invite(struct cli_ctx *ctx, int argc, char **argv)
{
	struct invite_opts o = { .country = "", .role = "member", .expires = "7d" };
	const char *name, *country, *expires, *addr;
	struct invite iv;
	struct store *s;
	struct store_txn *t;
	struct proto_key *key;
	struct store_member me;
	uint64_t dur;
	size_t n_args;
	int r, ret, rc;
	char code[CODE_MAX * 2];

	if ((ret = cli_opt_parse(ctx, &cli_invite_cmd, argc, argv, 2, &o, NULL, &n_args)) !=
	    CLI_EXIT_OK)
		return cli_opt_status(ret);
	name = o.name;
	country = o.country;
	expires = o.expires;
	addr = o.address;
	memset(&iv, 0, sizeof iv);
	if (!*name || strlen(name) >= sizeof iv.name || strlen(country) >= sizeof iv.country)
		return cli_opt_usage(ctx, &cli_invite_cmd);
	if ((ret = cli_member_terms(ctx, o.role, expires, &r, &dur)) != CLI_EXIT_OK)
		return ret;
	if (!addr && default_addr(ctx, iv.addr, sizeof iv.addr) < 0) {
		cli_error(ctx, "give --address HOST:PORT where the new member reaches this node "
		          "(agorad is not running here to ask)");
		return CLI_EXIT_USAGE;
	}
	if (addr) {
		char host[STORE_CONF_HOST_MAX];
		uint16_t port;
		if (strlen(addr) >= sizeof iv.addr || store_conf_hostport(host, &port, addr, false)) {
			cli_error(ctx, "'%s' is not HOST:PORT", addr);
			return CLI_EXIT_USAGE;
		}
		snprintf(iv.addr, sizeof iv.addr, "%s", addr);
	}
	if ((ret = cli_key(ctx, o.passphrase_file, &key)) != CLI_EXIT_OK ||
	    (ret = cli_snapshot(ctx, &s, &t)) != CLI_EXIT_OK)
		return ret;
	ret = cli_alliance(ctx, t, o.alliance, iv.alliance);
	bool coord = ret == CLI_EXIT_OK &&
	             store_member_active(t, iv.alliance, key->pk, cli_now_ms()) == 0 &&
	             store_member_get(t, iv.alliance, key->pk, &me) == 0 &&
	             me.role == AGORA__ROLE__ROLE_COORDINATOR;
	store_txn_end(t);
	if (ret != CLI_EXIT_OK)
		return ret;
	if (!coord) {
		cli_error(ctx, "only a coordinator of this alliance can invite");
		return CLI_EXIT_ERROR;
	}
	randombytes_buf(iv.token, sizeof iv.token);
	memcpy(iv.coordinator, key->pk, 32);
	iv.role = (uint8_t)r;
	snprintf(iv.name, sizeof iv.name, "%s", name);
	snprintf(iv.country, sizeof iv.country, "%s", country);

	/* kept for node/invite.c to redeem (the store keeps the token's hash) */
	struct store_invite si = { .role = iv.role, .expires_ms = cli_now_ms() + dur };
	memcpy(si.alliance, iv.alliance, 32);
	snprintf(si.name, sizeof si.name, "%s", iv.name);
	snprintf(si.country, sizeof si.country, "%s", iv.country);
	if ((rc = store_invite_put(s, iv.token, &si)) < 0) {
		cli_error(ctx, "cannot store the invite: %s", store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	if (code_encode(code, sizeof code, &iv) < 0) {
		cli_error(ctx, "invite too long");
		return CLI_EXIT_ERROR;
	}
	sodium_memzero(&iv.token, sizeof iv.token);
	printf("%s\n", code);
	if (ctx->tty_out)
		fprintf(stderr, "%s: give this code to %s; on its node: agora init ..., then "
		        "agora join CODE and start agorad.  It works once, until %s from now.\n",
		        ctx->prog, name, expires);
	return CLI_EXIT_OK;
}

static const struct cli_command join_cmd = {
	.name = "join",
	.usage = "join CODE",
	.about = "Join an alliance with an invite code from one of its coordinators\n"
	         "(`agora alliance invite`).  Run `agora init` first.  The coordinator\n"
	         "becomes a peer; when agorad runs, it connects, redeems the code inside\n"
	         "the encrypted session, is admitted, and syncs the alliance.  A code\n"
	         "works once.\n",
	.min_args = 1,
	.max_args = 1,
};

int cli_cmd_join(struct cli_ctx *ctx, int argc, char **argv)
{
	struct invite iv;
	struct store *s;
	char khex[65];
	const char *code;
	size_t n_args;
	int ret, rc;

	if ((ret = cli_opt_parse(ctx, &join_cmd, argc, argv, 1, NULL, &code, &n_args)) != CLI_EXIT_OK)
		return cli_opt_status(ret);
	if (invite_decode(&iv, code) < 0) {
		cli_error(ctx, "this is not a valid invite code (it starts with %s; copy all of it)",
		          CODE_PREFIX);
		return CLI_EXIT_INPUT;
	}
	if ((ret = cli_store(ctx, false, &s)) != CLI_EXIT_OK)
		return ret;
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
	proto_hex(khex, iv.coordinator, 32);
	if ((ret = cli_peer_add(ctx, iv.addr, khex, "coordinator")) != CLI_EXIT_OK)
		return ret;
	printf("joining as %s; start agorad (or keep it running): it connects to the "
	       "coordinator, redeems the code and syncs the alliance\n", iv.name);
	return CLI_EXIT_OK;
}
