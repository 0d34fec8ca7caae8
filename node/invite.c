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
 * Joiner side (`agora join CODE`): the store holds the alliance and token
 * for the coordinator (store_join_get); the coordinator's key is accepted before this node
 * holds any alliance, and the Redeem goes out before our Hello.
 *
 * The invites (made by cli/cmd_invite.c) and the joiner's token are kept
 * in the store (storage.h: store_invite_*, store_join_*).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "node/node_int.h"
#include "wire.pb-c.h"

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool node_invites_open(struct node *n)
{
	struct store_txn *t;
	bool open = false;
	uv_mutex_lock(&n->store_lock);
	if (store_txn_begin(n->store, &t) == 0) {
		if (store_invites_open(t, wall_ms(), &open) != 0)
			open = false;
		store_txn_end(t);
	}
	uv_mutex_unlock(&n->store_lock);
	return open;
}

/* The alliance and token to redeem with coordinator key: 0 or an error. */
static int join_get(struct node *n, const uint8_t key[32], uint8_t alliance[32],
                    uint8_t token[32])
{
	struct store_txn *t;
	uv_mutex_lock(&n->store_lock);
	int rc = store_txn_begin(n->store, &t);
	if (rc == 0) {
		rc = store_join_get(t, key, alliance, token);
		store_txn_end(t);
	}
	uv_mutex_unlock(&n->store_lock);
	return rc;
}

bool node_join_pending(struct node *n, const uint8_t key[32])
{
	return join_get(n, key, NULL, NULL) == 0;
}

int node_join_message(struct node *n, const uint8_t key[32], uint8_t **out, size_t *out_len)
{
	uint8_t b[64];
	int rc = join_get(n, key, b, b + 32);
	if (rc)
		return rc;
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

/* Append an accept-only [peer] for the redeemer and reload the config. */
static int add_peer(struct node *n, const uint8_t key[32], const char *name)
{
	char path[4200], hex[65], clean[64];
	size_t k = 0;
	for (const char *c = name; *c && k < sizeof clean - 1; c++)
		clean[k++] = (*c == '\n' || *c == '\r' || *c == '[' || *c == ']') ? ' ' : *c;
	clean[k] = 0;
	proto_hex(hex, key, 32);
	snprintf(path, sizeof path, "%s/%s", n->home, NODE_CONF_NAME);
	FILE *f = fopen(path, "a");
	if (!f)
		return -errno;
	fprintf(f, "\n[peer]\nkey = %s\nname = %s\n", hex, clean);
	if (fclose(f) != 0)
		return -EIO;
	return node_reload(n);
}

int node_invite_redeem(struct node *n, struct session *s, const uint8_t *msg, size_t len,
                       const char **why)
{
	Agora__Wire__Message *m = agora__wire__message__unpack(NULL, len, msg);
	struct store_invite iv;
	int rc = -1;

	*why = "the first message was not an invite redemption";
	if (!m || m->msg_case != AGORA__WIRE__MESSAGE__MSG_REDEEM || !m->redeem->has_alliance ||
	    m->redeem->alliance.len != 32 || !m->redeem->has_token || m->redeem->token.len != 32)
		goto out;
	/* Checked and marked used in one write: a token never admits twice,
	 * even if what follows fails. */
	uv_mutex_lock(&n->store_lock);
	rc = store_invite_use(n->store, m->redeem->token.data, m->redeem->alliance.data, wall_ms(),
	                      &iv);
	uv_mutex_unlock(&n->store_lock);
	*why = rc == STORE_E_NOTFOUND ? "unknown invite"
	     : rc == STORE_E_USED     ? "invite already used"
	     : rc == STORE_E_EXPIRED  ? "invite expired"
	                              : "cannot record the invite as used";
	if (rc)
		goto out;
	const char *name = iv.name;
	const char *country = iv.country;

	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Admission a = AGORA__ADMISSION__INIT;
	struct proto_error err = { 0 };
	a.has_member = 1;
	a.member.len = 32;
	a.member.data = s->peer_key;
	a.name = (char *)name;
	a.country = *country ? (char *)country : NULL;
	a.has_role = 1;
	a.role = iv.role;
	rec.body_case = AGORA__RECORD__BODY_ADMISSION;
	rec.admission = &a;
	uv_mutex_lock(&n->store_lock);
	rc = store_publish(n->store, n->key, iv.alliance, &rec, wall_ms(), NULL, NULL, NULL, &err);
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
	if (m)
		agora__wire__message__free_unpacked(m, NULL);
	return rc ? (rc < 0 ? rc : -1) : 0;
}
