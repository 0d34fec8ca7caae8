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

#include "cli/cli.h"
#include "cli/output.h"
#include "cli/cmds.h"
#include "cli/home.h"
#include "cli/members.h"

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

static int default_addr(struct cli_ctx *ctx, char *out, size_t cap)
{
	char path[4200], port[16] = "";
	snprintf(path, sizeof path, "%s/agorad.port", ctx->home);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(port, sizeof port, f))
		port[0] = 0;
	fclose(f);
	port[strcspn(port, "\r\n")] = 0;
	if (!port[0])
		return -1;
	snprintf(out, cap, "127.0.0.1:%s", port);
	return 0;
}

int cli_alliance_invite(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *alliance = NULL, *name = NULL, *country = "", *role = "member",
	           *expires = "7d", *addr = NULL, *passfile = NULL, *v;
	bool missing = false;
	struct invite iv;
	struct store *s;
	struct store_txn *t;
	struct proto_key *key;
	struct store_member me;
	uint64_t dur;
	int r, ret, rc;
	char code[CODE_MAX * 2];

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
		else if ((v = cli_opt_value("--address", argc, argv, &i, &missing)))
			addr = v;
		else if ((v = cli_opt_value("--passphrase-file", argc, argv, &i, &missing)))
			passfile = v;
		else {
			cli_error(ctx, missing ? "%s needs a value" : "unknown option '%s' for alliance "
			          "invite (see agora alliance --help)", argv[i]);
			return CLI_EXIT_USAGE;
		}
	}
	memset(&iv, 0, sizeof iv);
	if (!name || !*name || strlen(name) >= sizeof iv.name || strlen(country) >= sizeof iv.country) {
		cli_error(ctx, "usage: agora alliance invite --name NAME [--country CC] [--role ROLE] "
		          "[--expires 7d] [--address HOST:PORT]");
		return CLI_EXIT_USAGE;
	}
	if ((ret = cli_member_terms(ctx, role, expires, &r, &dur)) != CLI_EXIT_OK)
		return ret;
	if (!addr && default_addr(ctx, iv.addr, sizeof iv.addr) < 0) {
		cli_error(ctx, "give --address HOST:PORT where the new member reaches this node "
		          "(agorad is not running here to ask)");
		return CLI_EXIT_USAGE;
	}
	if (addr) {
		if (strlen(addr) >= sizeof iv.addr || !strchr(addr, ':')) {
			cli_error(ctx, "'%s' is not HOST:PORT", addr);
			return CLI_EXIT_USAGE;
		}
		snprintf(iv.addr, sizeof iv.addr, "%s", addr);
	}
	if ((ret = cli_store(ctx, false, &s)) != CLI_EXIT_OK ||
	    (ret = cli_key(ctx, passfile, &key)) != CLI_EXIT_OK)
		return ret;
	if ((rc = store_txn_begin(s, &t)) < 0) {
		cli_error(ctx, "cannot read the store: %s", store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
	ret = cli_alliance(ctx, t, alliance, iv.alliance);
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

int cli_cmd_join(struct cli_ctx *ctx, int argc, char **argv)
{
	struct invite iv;
	struct store *s;
	char khex[65];
	int ret, rc;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: agora join CODE\n\n"
		       "Join an alliance with an invite code from one of its coordinators\n"
		       "(`agora alliance invite`).  Run `agora init` first.  The coordinator\n"
		       "becomes a peer; when agorad runs, it connects, redeems the code inside\n"
		       "the encrypted session, is admitted, and syncs the alliance.  A code\n"
		       "works once.\n");
		return CLI_EXIT_OK;
	}
	if (argc != 2) {
		cli_error(ctx, "usage: agora join CODE");
		return CLI_EXIT_USAGE;
	}
	if (invite_decode(&iv, argv[1]) < 0) {
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
	char *pargv[] = { "peer", "add", iv.addr, khex, "--name", "coordinator", NULL };
	if ((ret = cli_cmd_peer(ctx, 6, pargv)) != CLI_EXIT_OK)
		return ret;
	printf("joining as %s; start agorad (or keep it running): it connects to the "
	       "coordinator, redeems the code and syncs the alliance\n", iv.name);
	return CLI_EXIT_OK;
}
