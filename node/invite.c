/*
 * invite.c - invite redemption at the node (PROTOCOL.md 6.7).
 *
 * Coordinator side: a key that is neither in the peer list nor admitted
 * may open a session only while this node has invites outstanding, and
 * then only to send one Redeem message within the handshake timeout.  A
 * valid, unused, unexpired token makes this node publish the Admission of
 * the redeemer's key, mark the token used and add the key to agora.conf as
 * an accept-only peer; then the session syncs as any other.
 *
 * Joiner side (`agora join CODE`): meta "join/<coordinator hex>" holds the
 * alliance and token; the coordinator's key is accepted before this node
 * holds any alliance, and the Redeem goes out before our Hello.
 *
 * meta (written by cli/cmd_invite.c):
 *   "invites-open"                -> 1 byte: an invite was ever made here
 *   "invite/<BLAKE2b-256(token) hex>" -> alliance(32) | role(1) |
 *                                    expires_ms(8) | used(1) | name\0country\0
 *   "join/<coordinator key hex>"  -> alliance(32) | token(32)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "node/node_int.h"
#include "wire.pb-c.h"

#define INVITE_HDR 42

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int meta_get(struct node *n, const char *key, uint8_t *buf, size_t cap, size_t *len)
{
	struct store_txn *t;
	uv_mutex_lock(&n->store_lock);
	int rc = store_txn_begin(n->store, &t);
	if (rc == 0) {
		rc = store_meta_get(t, key, buf, cap, len);
		store_txn_end(t);
	}
	uv_mutex_unlock(&n->store_lock);
	return rc;
}

bool node_invites_open(struct node *n)
{
	uint8_t b[8];
	size_t len;
	return meta_get(n, "invites-open", b, sizeof b, &len) == 0;
}

static void join_key(char out[5 + 65], const uint8_t key[32])
{
	memcpy(out, "join/", 5);
	proto_hex(out + 5, key, 32);
}

bool node_join_pending(struct node *n, const uint8_t key[32])
{
	char k[5 + 65];
	uint8_t b[80];
	size_t len;
	join_key(k, key);
	return meta_get(n, k, b, sizeof b, &len) == 0 && len == 64;
}

int node_join_message(struct node *n, const uint8_t key[32], uint8_t **out, size_t *out_len)
{
	char k[5 + 65];
	uint8_t b[80];
	size_t len;
	join_key(k, key);
	int rc = meta_get(n, k, b, sizeof b, &len);
	if (rc)
		return rc;
	if (len != 64)
		return STORE_E_CORRUPT;
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Redeem r = AGORA__WIRE__REDEEM__INIT;
	r.has_alliance = r.has_token = true;
	r.alliance.data = b;
	r.alliance.len = 32;
	r.token.data = b + 32;
	r.token.len = 32;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_REDEEM;
	m.redeem = &r;
	size_t sz = agora__wire__message__get_packed_size(&m);
	uint8_t *buf = malloc(sz ? sz : 1);
	if (!buf) {
		sodium_memzero(b, sizeof b);
		return -ENOMEM;
	}
	agora__wire__message__pack(&m, buf);
	sodium_memzero(b, sizeof b);
	*out = buf;
	*out_len = sz;
	return 0;
}

/* Add an accept-only [peer] for the redeemer (storage's agora.conf editor)
 * and reload the config. */
static int add_peer(struct node *n, const uint8_t key[32], const char *name)
{
	char path[4200], clean[64], err[320];
	struct store_conf_edit *e = NULL;
	size_t k = 0;
	int rc;

	/* The name came from the coordinator's own invite; keep it to what a
	 * [peer] name line can hold. */
	while (*name == ' ')
		name++;
	for (const char *c = name; *c && k < sizeof clean - 1; c++)
		clean[k++] = (unsigned char)*c < 0x20 || *c == 0x7f || *c == ';' ? ' ' : *c;
	while (k && clean[k - 1] == ' ')
		k--;
	clean[k] = 0;
	if ((rc = store_home_path(path, sizeof path, n->home, STORE_HOME_CONF, NULL)))
		return rc;
	if ((rc = store_conf_edit_open(&e, path, err, sizeof err)) == 0 &&
	    (rc = store_conf_edit_peer_put(e, key, NULL, clean, NULL)) == 0)
		rc = store_conf_edit_save(e, 0, err, sizeof err);
	store_conf_edit_free(e);
	if (rc) {
		NLOG(n, NODE_LOG_ERROR, "config", "cannot add the new member to agora.conf: %s",
		     err[0] ? err : store_strerror(rc));
		return rc;
	}
	return node_reload(n);
}

int node_invite_redeem(struct node *n, struct session *s, const uint8_t *msg, size_t len,
                       const char **why)
{
	Agora__Wire__Message *m = agora__wire__message__unpack(NULL, len, msg);
	uint8_t hash[32], val[INVITE_HDR + 256];
	char key[7 + 65];
	size_t vlen = 0;
	int rc = -1;

	*why = "the first message was not an invite redemption";
	if (!m || m->msg_case != AGORA__WIRE__MESSAGE__MSG_REDEEM || !m->redeem->has_alliance ||
	    m->redeem->alliance.len != 32 || !m->redeem->has_token || m->redeem->token.len != 32)
		goto out;
	crypto_generichash(hash, sizeof hash, m->redeem->token.data, 32, NULL, 0);
	memcpy(key, "invite/", 7);
	proto_hex(key + 7, hash, 32);
	*why = "unknown invite";
	if (meta_get(n, key, val, sizeof val - 1, &vlen) != 0 || vlen < INVITE_HDR + 2 ||
	    sodium_memcmp(val, m->redeem->alliance.data, 32) != 0)
		goto out;
	val[vlen] = 0;
	uint64_t expires = 0;
	for (int i = 0; i < 8; i++)
		expires = expires << 8 | val[33 + i];
	*why = "invite already used";
	if (val[41])
		goto out;
	*why = "invite expired";
	if (expires && wall_ms() >= expires)
		goto out;
	const char *name = (const char *)val + INVITE_HDR;
	const char *country = name + strlen(name) + 1;
	if ((size_t)(country - (const char *)val) >= vlen)
		country = "";

	/* Mark it used first: a token never admits twice, even if what
	 * follows fails. */
	val[41] = 1;
	uv_mutex_lock(&n->store_lock);
	rc = store_meta_put(n->store, key, val, vlen);
	uv_mutex_unlock(&n->store_lock);
	*why = "cannot record the invite as used";
	if (rc)
		goto out;

	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Admission a = AGORA__ADMISSION__INIT;
	struct proto_error err = { 0 };
	a.has_member = 1;
	a.member.len = 32;
	a.member.data = s->peer_key;
	a.name = (char *)name;
	a.country = *country ? (char *)country : NULL;
	a.has_role = 1;
	a.role = val[32];
	rec.body_case = AGORA__RECORD__BODY_ADMISSION;
	rec.admission = &a;
	uv_mutex_lock(&n->store_lock);
	rc = store_publish(n->store, n->key, val, &rec, wall_ms(), NULL, NULL, NULL, &err);
	uv_mutex_unlock(&n->store_lock);
	*why = "cannot publish the admission (is this node still a coordinator?)";
	if (rc)
		goto out;
	*why = "cannot add the new member to agora.conf";
	if ((rc = add_peer(n, s->peer_key, name)))
		goto out;
	if ((rc = node_local_reload(n)) == 0)
		node_local_changed(n);
	NLOG(n, NODE_LOG_INFO, "session", "invite for %s redeemed by %s: admitted", name, s->addr);
	*why = NULL;
	rc = 0;
out:
	sodium_memzero(val, sizeof val);
	if (m)
		agora__wire__message__free_unpacked(m, NULL);
	return rc ? (rc < 0 ? rc : -1) : 0;
}
