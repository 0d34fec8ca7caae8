/*
 * session.c - one TCP connection: Noise XX handshake, then framed app
 * messages into the sync engine.  libuv callbacks only move bytes and step
 * the state machines; a session is freed only in its close callback.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/node_int.h"

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

struct wreq {
	uv_write_t req;
	struct session *s;
	size_t len;
	uint8_t data[];
};

static void key_short(char out[17], const uint8_t key[32])
{
	proto_hex(out, key, 8);
}

static const char *who(struct session *s, char *buf, size_t cap)
{
	char k[17];
	if (s->have_peer_key) {
		key_short(k, s->peer_key);
		if (s->peer && s->peer->conf.name[0])
			snprintf(buf, cap, "%s (%s… %s)", s->peer->conf.name, k, s->addr);
		else
			snprintf(buf, cap, "%s… (%s)", k, s->addr);
	} else {
		snprintf(buf, cap, "%s", s->addr);
	}
	return buf;
}

const char *session_state_name(const struct session *s)
{
	switch (s->state) {
	case SESSION_CONNECTING: return "connecting";
	case SESSION_HANDSHAKE: return "handshake";
	case SESSION_OPEN:
		return s->sync_init && sync_live(&s->sync) ? "live" : "syncing";
	default: return "closing";
	}
}

struct session *session_find(struct node *n, uint64_t id)
{
	for (struct session *s = n->sessions; s; s = s->next)
		if (s->id == id)
			return s->state == SESSION_CLOSING ? NULL : s;
	return NULL;
}

/* ----------------------------------------------------------- lifecycle */

static void on_close(uv_handle_t *h)
{
	struct session *s = h->data;
	struct node *n = s->node;
	for (struct session **pp = &n->sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	n->n_sessions--;
	if (s->hs_init)
		noise_agora_dispose(&s->hs);
	frame_reader_dispose(&s->hreader);
	if (s->dec_init)
		frame_decoder_dispose(&s->dec);
	noise_cipher_dispose(&s->send);
	noise_cipher_dispose(&s->recv);
	if (s->sync_init)
		sync_dispose(&s->sync);
	sodium_memzero(s->rbuf, sizeof(s->rbuf));
	free(s);
}

void session_close(struct session *s, const char *why, bool error)
{
	char w[512];
	if (s->state == SESSION_CLOSING)
		return;
	NLOG(s->node, error ? NODE_LOG_WARN : NODE_LOG_INFO, "session", "closing %s: %s",
	     who(s, w, sizeof(w)), why);
	snprintf(s->last_error, sizeof(s->last_error), "%s", why);
	if (s->sync_init)
		node_member_seen(s->node, s->peer_key);
	s->state = SESSION_CLOSING;
	if (s->peer && s->peer->session == s)
		node_peer_session_closed(s->peer, error ? why : NULL);
	uv_close((uv_handle_t *)&s->tcp, on_close);
}

static struct session *session_new(struct node *n)
{
	struct session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->node = n;
	s->id = ++n->next_session_id;
	s->opened_ms = s->last_rx_ms = s->last_ping_ms = node_now_ms();
	uv_tcp_init(n->loop, &s->tcp);
	s->tcp.data = s;
	s->next = n->sessions;
	n->sessions = s;
	n->n_sessions++;
	snprintf(s->addr, sizeof(s->addr), "?");
	return s;
}

static void set_addr(struct session *s)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	char ip[64];
	if (uv_tcp_getpeername(&s->tcp, (struct sockaddr *)&ss, &len))
		return;
	if (ss.ss_family == AF_INET) {
		uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof(ip));
		snprintf(s->addr, sizeof(s->addr), "%s:%u", ip,
		         ntohs(((struct sockaddr_in *)&ss)->sin_port));
	} else {
		uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof(ip));
		snprintf(s->addr, sizeof(s->addr), "[%s]:%u", ip,
		         ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	}
}

/* --------------------------------------------------------------- write */

static void on_write(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct session *s = w->s;
	sodium_memzero(w->data, w->len);
	free(w);
	if (status < 0) {
		if (status != UV_ECANCELED)
			session_close(s, uv_strerror(status), true);
		return;
	}
	session_kick(s);
}

static int write_raw(struct session *s, struct wreq *w)
{
	uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)w->len);
	int rc;
	w->s = s;
	rc = uv_write(&w->req, (uv_stream_t *)&s->tcp, &b, 1, on_write);
	if (rc) {
		free(w);
		return rc;
	}
	s->bytes_out += w->len;
	return 0;
}

static int write_frame(struct session *s, const uint8_t *payload, size_t len)
{
	struct wreq *w = malloc(sizeof(*w) + FRAME_HEADER_BYTES + len);
	size_t out_len;
	int rc;
	if (!w)
		return -ENOMEM;
	if ((rc = frame_wrap(w->data, &out_len, FRAME_HEADER_BYTES + len, payload, len))) {
		free(w);
		return rc;
	}
	w->len = out_len;
	return write_raw(s, w);
}

/* sync_io.send: encrypt and frame one app message. */
static int io_send(void *ctx, const uint8_t *msg, size_t len)
{
	struct session *s = ctx;
	size_t cap = frame_encoded_size(len), out_len;
	struct wreq *w;
	int rc;

	if (s->state != SESSION_OPEN)
		return UV_ECANCELED;
	if (!(w = malloc(sizeof(*w) + cap)))
		return -ENOMEM;
	if ((rc = frame_encode(w->data, &out_len, cap, &s->send, msg, len))) {
		free(w);
		return rc;
	}
	w->len = out_len;
	return write_raw(s, w);
}

/* ---------------------------------------------------------- sync glue */

static int io_read(void *ctx, const uint8_t alliance[32], const uint8_t author[32],
                   uint64_t seq, const uint8_t **env, size_t *len)
{
	struct session *s = ctx;

	/* s->txn is opened by session_kick() around sync_produce(). */
	if (!s->txn)
		return STORE_E_NOTFOUND;
	return store_feed_env(s->txn, alliance, author, seq, env, len);
}

static int io_records(void *ctx, const uint8_t alliance[32], const uint8_t author[32],
                      uint64_t first_seq, const uint8_t *const *envs, const size_t *lens,
                      size_t count)
{
	struct session *s = ctx;
	return ingest_enqueue(s->node, s, alliance, author, first_seq, envs, lens, count);
}

static int io_fork(void *ctx, const uint8_t alliance[32], const uint8_t author[32],
                   uint64_t seq, const uint8_t *env_a, size_t len_a, const uint8_t *env_b,
                   size_t len_b)
{
	struct session *s = ctx;
	return node_fork_received(s->node, s, alliance, author, seq, env_a, len_a, env_b, len_b);
}

static bool io_allowed(void *ctx, const uint8_t alliance[32])
{
	struct session *s = ctx;
	return node_alliance_allowed(s->node, s->peer_key, alliance);
}

/* Produce records while the send queue has room (back-pressure: resumed
 * from the write callback). */
void session_kick(struct session *s)
{
	struct node *n = s->node;
	bool more = true;
	int rc = 0;

	if (s->kicking || s->state != SESSION_OPEN || !s->sync_init || !sync_pending(&s->sync))
		return;
	s->kicking = true;
	while (more && s->state == SESSION_OPEN) {
		size_t q = uv_stream_get_write_queue_size((uv_stream_t *)&s->tcp);
		if (q >= NODE_SENDQ_HIGH)
			break;
		uv_mutex_lock(&n->store_lock);
		if ((rc = store_txn_begin(n->store, &s->txn)) == 0) {
			rc = sync_produce(&s->sync, NODE_SENDQ_HIGH - q, &more);
			store_txn_end(s->txn);
			s->txn = NULL;
			/* Up to 1 MiB of records read: let go of their pages. */
			store_trim(n->store);
		}
		uv_mutex_unlock(&n->store_lock);
		if (rc)
			break;
	}
	s->kicking = false;
	if (rc && s->state == SESSION_OPEN)
		session_close(s, rc <= -3000 ? sync_strerror(rc) : store_strerror(rc), true);
}

/* ---------------------------------------------------------- handshake */

static int hs_write_next(struct session *s)
{
	uint8_t msg[NOISE_AGORA_MSG2_BYTES];
	size_t len;
	int rc = noise_agora_write(msg, &len, sizeof(msg), &s->hs);
	if (rc)
		return rc;
	return write_frame(s, msg, len);
}

/* Is another session with the same peer the one to keep?  Both ends pick
 * the session dialed by the smaller key, so they agree. */
static bool loses_to_existing(struct session *s, struct session *o)
{
	const uint8_t *self = s->node->key->pk;
	const uint8_t *dialer_s = s->inbound ? s->peer_key : self;
	const uint8_t *dialer_o = o->inbound ? o->peer_key : self;
	if (s->inbound == o->inbound)
		return false;             /* same direction: the newer one replaces */
	return memcmp(dialer_o, dialer_s, 32) < 0;
}

static int session_open(struct session *s, struct peer *p);

static int handshake_done(struct session *s)
{
	struct node *n = s->node;
	struct peer *p;
	char hex[65];
	int rc;

	if ((rc = noise_agora_split(&s->send, &s->recv, s->peer_key, NULL, &s->hs)))
		return rc;
	s->have_peer_key = true;
	proto_hex(hex, s->peer_key, 32);
	p = node_peer_find(n, s->peer_key);
	if (!p && s->inbound && node_invites_open(n)) {
		/* Maybe a new member with an invite code: it may send one Redeem
		 * (node/invite.c) within the handshake timeout, and nothing else. */
		if ((rc = frame_decoder_init(&s->dec, &s->recv, NODE_APP_MAX)))
			return rc;
		s->dec_init = true;
		s->redeem_wait = true;
		s->state = SESSION_OPEN;
		NLOG(n, NODE_LOG_INFO, "session", "%s (key %.16s…) is not a peer: waiting for an "
		     "invite redemption", s->addr, hex);
		return 0;
	}
	if (!p) {
		NLOG(n, NODE_LOG_WARN, "session", "rejected %s: key %s is not in the peer list",
		     s->addr, hex);
		session_close(s, "key not in the peer list", true);
		return 1;
	}
	if ((rc = node_member_active_any(n, s->peer_key)) != 0 &&
	    !(!s->inbound && node_join_pending(n, s->peer_key))) {
		NLOG(n, NODE_LOG_WARN, "session",
		     "rejected %s: key %s is not active in any alliance this node is in (%s)",
		     s->addr, hex, store_strerror(rc));
		session_close(s, "key not admitted to any alliance of this node", true);
		return 1;
	}
	return session_open(s, p);
}

/* The peer is accepted: take it over from an older session, start sync. */
static int session_open(struct session *s, struct peer *p)
{
	struct node *n = s->node;
	char w[512];
	int rc;

	if (!s->inbound && s->peer != p) {
		session_close(s, "peer answered with another key than configured", true);
		return 1;
	}
	if (p->session && p->session != s && p->session->state != SESSION_CLOSING) {
		struct session *o = p->session;
		if (loses_to_existing(s, o)) {
			s->peer = NULL;
			session_close(s, "duplicate session (keeping the other one)", false);
			return 1;
		}
		o->peer = NULL;
		session_close(o, "replaced by a newer session", false);
	}
	s->peer = p;
	p->session = s;
	p->state = PEER_CONNECTED;
	p->backoff_ms = 0;
	p->last_error[0] = '\0';
	uv_timer_stop(&p->timer);
	if (!s->dec_init) {
		if ((rc = frame_decoder_init(&s->dec, &s->recv, NODE_APP_MAX)))
			return rc;
		s->dec_init = true;
	}
	s->redeem_wait = false;
	struct sync_io io = { .ctx = s, .send = io_send, .read = io_read, .records = io_records,
	                      .allowed = io_allowed, .fork = io_fork };
	if ((rc = sync_init(&s->sync, !s->inbound, n->key->pk, n->cfg.name, s->peer_key,
	                    &n->local, &io)))
		return rc;
	s->sync_init = true;
	s->state = SESSION_OPEN;
	NLOG(n, NODE_LOG_INFO, "session", "open with %s (%s)", who(s, w, sizeof(w)),
	     s->inbound ? "inbound" : "outbound");
	node_member_seen(n, s->peer_key);
	if (!s->inbound && node_join_pending(n, s->peer_key) &&
	    node_member_active_any(n, n->key->pk) != 0) {
		/* we joined with an invite of this coordinator: redeem it before
		 * our Hello (the token travels only inside the session) */
		uint8_t *msg;
		size_t len;
		if ((rc = node_join_message(n, s->peer_key, &msg, &len)))
			return rc;
		rc = io_send(s, msg, len);
		sodium_memzero(msg, len);
		free(msg);
		if (rc)
			return rc;
		NLOG(n, NODE_LOG_INFO, "session", "sent our invite to %s", who(s, w, sizeof(w)));
	}
	return sync_start(&s->sync);
}

/* Feed handshake bytes; returns bytes used (>= 0), 0 more wanted, or < 0. */
static int on_handshake_bytes(struct session *s, const uint8_t *in, size_t len, size_t *used)
{
	uint8_t *payload;
	size_t plen, consumed;
	int rc;

	*used = 0;
	while (*used < len && s->state == SESSION_HANDSHAKE) {
		rc = frame_reader_next(&payload, &plen, &consumed, &s->hreader, in + *used,
		                       len - *used);
		*used += consumed;
		if (rc == FRAME_E_AGAIN)
			return 0;
		if (rc)
			return rc;
		if ((rc = noise_agora_read(&s->hs, payload, plen)))
			return rc;
		if (noise_agora_action(&s->hs) == NOISE_ACTION_WRITE && (rc = hs_write_next(s)))
			return rc;
		if (noise_agora_action(&s->hs) == NOISE_ACTION_SPLIT) {
			rc = handshake_done(s);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int on_transport_bytes(struct session *s, const uint8_t *in, size_t len)
{
	uint8_t *msg;
	size_t mlen, consumed, off = 0;
	int rc;

	for (;;) {
		if (s->state != SESSION_OPEN)
			return 0;
		rc = frame_decoder_next(&msg, &mlen, &consumed, &s->dec, in + off, len - off);
		off += consumed;
		if (rc == FRAME_E_AGAIN)
			return 0;
		if (rc)
			return rc;
		if (s->redeem_wait) {
			const char *why = NULL;
			rc = node_invite_redeem(s->node, s, msg, mlen, &why);
			free(msg);
			struct peer *p = rc ? NULL : node_peer_find(s->node, s->peer_key);
			if (!p) {
				NLOG(s->node, NODE_LOG_WARN, "session", "refused %s: %s", s->addr,
				     why ? why : "no peer after redemption");
				session_close(s, why ? why : "invite not redeemed", true);
				return 0;
			}
			if ((rc = session_open(s, p)))
				return rc < 0 ? rc : 0;
			continue;
		}
		rc = sync_receive(&s->sync, msg, mlen, node_now_ms());
		free(msg);
		if (rc)
			return rc;
		node_floor_check(s->node, &s->sync);
	}
}

/* ---------------------------------------------------------------- read */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct session *s = h->data;
	(void)suggested;
	*buf = uv_buf_init((char *)s->rbuf, sizeof(s->rbuf));
}

static const char *err_name(int rc)
{
	if (rc <= -3200 && rc > -3300)
		return sync_strerror(rc);
	if (rc <= -3100 && rc > -3200)
		return frame_strerror(rc);
	if (rc <= -3000 && rc > -3100)
		return noise_strerror(rc);
	if (rc <= -1000 && rc > -2100)
		return store_strerror(rc);
	return uv_strerror(rc);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct session *s = st->data;
	size_t used = 0;
	int rc = 0;

	if (nread == 0)
		return;
	if (nread < 0) {
		session_close(s, nread == UV_EOF ? "peer closed the connection"
		                                  : uv_strerror((int)nread), nread != UV_EOF);
		return;
	}
	s->bytes_in += (uint64_t)nread;
	s->last_rx_ms = node_now_ms();
	if (s->state == SESSION_HANDSHAKE)
		rc = on_handshake_bytes(s, (uint8_t *)buf->base, (size_t)nread, &used);
	if (rc == 0 && s->state == SESSION_OPEN && used < (size_t)nread)
		rc = on_transport_bytes(s, (uint8_t *)buf->base + used, (size_t)nread - used);
	if (rc == SYNC_E_BYE) {
		session_close(s, "peer said goodbye", false);
	} else if (rc < 0 && s->state != SESSION_CLOSING) {
		session_close(s, err_name(rc), true);   /* logs who and why */
	} else if (rc == 0) {
		session_kick(s);
	}
}

void session_read_resume(struct session *s)
{
	if (uv_read_start((uv_stream_t *)&s->tcp, alloc_cb, on_read) == 0) {
		s->read_stopped = false;
		s->last_rx_ms = node_now_ms();   /* silence counts from here */
	}
}

/* Called by ingest when a session's (or all sessions') unstored bytes pile up. */
void session_read_pause(struct session *s)
{
	if (!s->read_stopped && s->state == SESSION_OPEN) {
		uv_read_stop((uv_stream_t *)&s->tcp);
		s->read_stopped = true;
	}
}

/* ------------------------------------------------------ accept / dial */

static int start_handshake(struct session *s, enum noise_role role)
{
	struct node *n = s->node;
	int rc;
	if ((rc = frame_reader_init(&s->hreader)))
		return rc;
	if ((rc = noise_agora_init(&s->hs, role, n->key->pk, n->key->sk, NULL)))
		return rc;
	s->hs_init = true;
	s->state = SESSION_HANDSHAKE;
	if ((rc = uv_read_start((uv_stream_t *)&s->tcp, alloc_cb, on_read)))
		return rc;
	if (role == NOISE_INITIATOR)
		return hs_write_next(s);
	return 0;
}

int session_accept(struct node *n)
{
	struct session *s = session_new(n);
	int rc;
	if (!s) {
		NLOG(n, NODE_LOG_ERROR, "listen", "out of memory accepting a connection");
		return -ENOMEM;
	}
	s->inbound = true;
	s->state = SESSION_HANDSHAKE;
	if ((rc = uv_accept((uv_stream_t *)&n->listener, (uv_stream_t *)&s->tcp))) {
		session_close(s, uv_strerror(rc), true);
		return rc;
	}
	set_addr(s);
	if (n->n_sessions > NODE_MAX_SESSIONS) {
		session_close(s, "too many connections", true);
		return 0;
	}
	NLOG(n, NODE_LOG_DEBUG, "listen", "connection from %s", s->addr);
	if ((rc = start_handshake(s, NOISE_RESPONDER)))
		session_close(s, err_name(rc), true);
	return 0;
}

static void on_connect(uv_connect_t *req, int status)
{
	struct session *s = req->data;
	int rc;
	if (s->state == SESSION_CLOSING)
		return;
	if (status < 0) {
		session_close(s, uv_strerror(status), true);
		return;
	}
	set_addr(s);
	if ((rc = start_handshake(s, NOISE_INITIATOR)))
		session_close(s, err_name(rc), true);
}

int session_dial(struct node *n, struct peer *p)
{
	struct sockaddr_storage ss;
	struct session *s;
	int rc;

	if (uv_ip4_addr(p->conf.host, p->conf.port, (struct sockaddr_in *)&ss) &&
	    uv_ip6_addr(p->conf.host, p->conf.port, (struct sockaddr_in6 *)&ss)) {
		/* A host name: resolve it (synchronously; names are rare here). */
		uv_getaddrinfo_t gai;
		char port[8];
		struct addrinfo hints;
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		snprintf(port, sizeof(port), "%u", p->conf.port);
		if ((rc = uv_getaddrinfo(n->loop, &gai, NULL, p->conf.host, port, &hints))) {
			snprintf(p->last_error, sizeof(p->last_error), "cannot resolve %s: %s",
			         p->conf.host, uv_strerror(rc));
			return rc;
		}
		memcpy(&ss, gai.addrinfo->ai_addr, gai.addrinfo->ai_addrlen);
		uv_freeaddrinfo(gai.addrinfo);
	}
	if (!(s = session_new(n)))
		return -ENOMEM;
	s->peer = p;
	p->session = s;
	p->state = PEER_CONNECTING;
	s->state = SESSION_CONNECTING;
	memcpy(s->peer_key, p->conf.key, 32);
	snprintf(s->addr, sizeof(s->addr), strchr(p->conf.host, ':') ? "[%s]:%u" : "%s:%u",
	         p->conf.host, p->conf.port);
	s->connect.data = s;
	if ((rc = uv_tcp_connect(&s->connect, &s->tcp, (struct sockaddr *)&ss, on_connect))) {
		session_close(s, uv_strerror(rc), true);
		return 0;
	}
	return 0;
}

/* --------------------------------------------------------------- tick */

void session_tick(struct session *s, uint64_t now)
{
	if (s->state == SESSION_CONNECTING || s->state == SESSION_HANDSHAKE) {
		if (now - s->opened_ms > NODE_HANDSHAKE_MS)
			session_close(s, "handshake timeout (10 s)", true);
		return;
	}
	if (s->state != SESSION_OPEN)
		return;
	if (s->redeem_wait) {
		if (now - s->opened_ms > NODE_HANDSHAKE_MS)
			session_close(s, "no invite redeemed in time", true);
		return;
	}
	/* While we do not read (back-pressure) the peer cannot be heard. */
	if (!s->read_stopped && now - s->last_rx_ms > NODE_SILENCE_MS) {
		session_close(s, "silent for 45 s", true);
		return;
	}
	if (now - s->last_ping_ms >= NODE_PING_MS) {
		s->last_ping_ms = now;
		if (sync_send_ping(&s->sync, now) != 0)
			session_close(s, "cannot send ping", true);
	}
	(void)sync_local_changed(&s->sync, now);   /* advances stuck-feed clocks */
	session_kick(s);
}
