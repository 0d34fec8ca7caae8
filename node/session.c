/*
 * session.c - one TCP connection: Noise XX handshake, then framed app
 * messages into the sync engine.  libuv callbacks only move bytes and step
 * the state machines; a session is freed only in its close callback.
 *
 * States (node_int.h): CONNECTING -> HANDSHAKE -> [REDEEM] -> OPEN ->
 * CLOSING.  A key the node accepts (a configured peer that is active in an
 * alliance it holds, or the coordinator of an invite this node is joining
 * with) goes from HANDSHAKE to OPEN.  An unknown key goes to REDEEM only
 * while this node has invites open, and may then send one small Redeem;
 * everything else is refused with a Bye that says why.
 *
 * One unit, over 800 lines: every part (close, read, write, handshake,
 * admission, accept/dial, tick) steps the same state machine and keeps
 * the same invariants (one owner for the handle, output gathered then
 * flushed once, pause reasons), through a dozen static helpers; split, they
 * would all become an internal API with nothing gained.  The parts that
 * stand alone live beside it: ingest.c, invite.c, members.c, peering.c.
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

bool session_peer_known(const struct session *s)
{
	return !s->inbound || s->state >= SESSION_REDEEM;
}

static const char *who(struct session *s, char *buf, size_t cap)
{
	char k[17];
	if (session_peer_known(s)) {
		proto_hex(k, s->peer_key, 8);
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
	case SESSION_REDEEM: return "redeeming";
	case SESSION_OPEN: return sync_live(&s->sync) ? "live" : "syncing";
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

static bool preauth(const struct session *s)
{
	return s->state == SESSION_CONNECTING || s->state == SESSION_HANDSHAKE ||
	       s->state == SESSION_REDEEM;
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
	noise_agora_dispose(&s->hs);
	frame_reader_dispose(&s->hreader);
	frame_decoder_dispose(&s->dec);
	noise_cipher_dispose(&s->send);
	noise_cipher_dispose(&s->recv);
	sync_dispose(&s->sync);
	node_blobs_session_closed(s);
	node_readahead_free(s);
	free(s->stash);
	if (s->obuf)
		sodium_memzero(s->obuf->data, s->olen);
	free(s->obuf);
	free(s);
}

static void set_state(struct session *s, enum session_state st)
{
	bool was = preauth(s);
	s->state = st;
	if (was && !preauth(s))
		s->node->n_preauth--;
}

static void session_flush_now(struct session *s);

static void on_shutdown(uv_shutdown_t *req, int status)
{
	struct session *s = req->data;
	(void)status;
	free(req);
	if (!uv_is_closing((uv_handle_t *)&s->tcp))
		uv_close((uv_handle_t *)&s->tcp, on_close);
}

/* Close now, or (flush) once what is queued (a Bye) has gone out; the
 * tick closes a flush that takes longer than a handshake would. */
static void close_session(struct session *s, const char *why, bool error, bool flush)
{
	char w[512];
	struct node *n = s->node;
	if (s->state == SESSION_CLOSING)
		return;
	NLOG(n, error ? NODE_LOG_WARN : NODE_LOG_INFO, "session", "closing %s: %s",
	     who(s, w, sizeof(w)), why);
	snprintf(s->last_error, sizeof(s->last_error), "%s", why);
	if (s->state == SESSION_OPEN) {
		/* What the session did, once, at its end: an operator reading the
		 * log sees how many records came in and went out per partner. */
		struct sync_counters c;
		sync_counters(&s->sync, &c);
		NLOG(n, NODE_LOG_INFO, "session", "ended %s after %llu s: %llu records in, %llu out, "
		     "%llu bytes in, %llu out", w, (unsigned long long)((node_mono_ms(n) -
		     s->opened_ms) / 1000u), (unsigned long long)c.records_in,
		     (unsigned long long)c.records_out, (unsigned long long)c.bytes_in,
		     (unsigned long long)c.bytes_out);
		node_member_seen(n, s->peer_key);
	}
	set_state(s, SESSION_CLOSING);
	s->opened_ms = node_mono_ms(n);   /* the flush deadline counts from here */
	if (s->peer && s->peer->session == s)
		node_peer_session_closed(s->peer, error ? why : NULL,
		                         error ? MESH_CLOSE_FAILED : MESH_CLOSE_CLEAN, 0);
	uv_read_stop((uv_stream_t *)&s->tcp);
	if (flush)
		session_flush_now(s);
	if (flush && uv_stream_get_write_queue_size((uv_stream_t *)&s->tcp) > 0) {
		uv_shutdown_t *req = malloc(sizeof(*req));
		if (req) {
			req->data = s;
			if (uv_shutdown(req, (uv_stream_t *)&s->tcp, on_shutdown) == 0)
				return;
			free(req);
		}
	}
	uv_close((uv_handle_t *)&s->tcp, on_close);
}

void session_close(struct session *s, const char *why, bool error)
{
	close_session(s, why, error, false);
}

void session_refuse(struct session *s, enum sync_bye_code code, const char *why, uint64_t seq)
{
	/* A peer that does not read what is queued would not read the Bye
	 * either: close it at once. */
	bool reads = uv_stream_get_write_queue_size((uv_stream_t *)&s->tcp) < NODE_SENDQ_HIGH;
	if (reads && (s->state == SESSION_OPEN || s->state == SESSION_REDEEM))
		(void)sync_send_bye(&s->sync, code, why, seq);
	close_session(s, why, true, reads);
}

void session_refuse_busy(struct session *s, uint64_t retry_after_ms, const char *why)
{
	struct sync_bye b;
	memset(&b, 0, sizeof(b));
	b.code = SYNC_BYE_TOO_MANY_CONNECTIONS;
	b.retry_after_ms = retry_after_ms;
	snprintf(b.reason, sizeof(b.reason), "%s", why);
	bool reads = uv_stream_get_write_queue_size((uv_stream_t *)&s->tcp) < NODE_SENDQ_HIGH;
	if (reads && (s->state == SESSION_OPEN || s->state == SESSION_REDEEM))
		(void)sync_send_bye_full(&s->sync, &b);
	close_session(s, why, false, reads);
}

void session_goodbye(struct session *s, enum sync_bye_code code, const char *why)
{
	if (s->state == SESSION_CLOSING) {
		/* Closing already, maybe waiting for a Bye to be written to a
		 * peer that does not read (the tick would give up on it, but
		 * the tick stops with the node): shutting down does not wait. */
		if (!uv_is_closing((uv_handle_t *)&s->tcp))
			uv_close((uv_handle_t *)&s->tcp, on_close);
		return;
	}
	if (s->state == SESSION_OPEN) {
		(void)sync_send_bye(&s->sync, code, why, 0);
		/* written at once when nothing else is queued; not waited for */
		session_flush_now(s);
	}
	close_session(s, why, false, false);
}

static struct session *session_new(struct node *n)
{
	struct session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->node = n;
	s->id = ++n->next_session_id;
	s->opened_ms = s->last_msg_ms = s->last_ping_ms = node_mono_ms(n);
	uv_tcp_init(n->loop, &s->tcp);
	s->tcp.data = s;
	s->next = n->sessions;
	n->sessions = s;
	n->n_sessions++;
	n->n_preauth++;   /* CONNECTING */
	snprintf(s->addr, sizeof(s->addr), "?");
	return s;
}

static void set_addr(struct session *s)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	if (uv_tcp_getpeername(&s->tcp, (struct sockaddr *)&ss, &len))
		return;
	if (ss.ss_family == AF_INET) {
		uv_ip4_name((struct sockaddr_in *)&ss, s->ip, sizeof(s->ip));
		snprintf(s->addr, sizeof(s->addr), "%s:%u", s->ip,
		         ntohs(((struct sockaddr_in *)&ss)->sin_port));
	} else {
		uv_ip6_name((struct sockaddr_in6 *)&ss, s->ip, sizeof(s->ip));
		snprintf(s->addr, sizeof(s->addr), "[%s]:%u", s->ip,
		         ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	}
}

/* -------------------------------------------------------------- reading */

const char *session_pause_text(const struct session *s)
{
	if (s->pause & PAUSE_DISK)
		return "the disk is full: not receiving records until there is room";
	if (s->pause & PAUSE_SENDQ)
		return "it does not read what it asked for: its replies wait to be sent";
	if (s->pause & PAUSE_JOB)
		return "its invite is being redeemed";
	if (s->pause & PAUSE_RECVQ)
		return "records received wait to be stored";
	return "";
}

static void read_start(struct session *s)
{
	if (uv_read_start((uv_stream_t *)&s->tcp, alloc_cb, on_read) == 0)
		s->last_msg_ms = node_mono_ms(s->node);   /* silence counts from here */
}

void session_pause(struct session *s, unsigned why)
{
	if (s->state == SESSION_CLOSING || s->state == SESSION_CONNECTING)
		return;
	if (!s->pause)
		uv_read_stop((uv_stream_t *)&s->tcp);
	s->pause |= why;
}

static void after_bytes(struct session *s, int rc);
static int on_transport_bytes(struct session *s, const uint8_t *in, size_t len);

void session_resume(struct session *s, unsigned why)
{
	if (!(s->pause & why))
		return;
	s->pause &= ~why;
	if (s->pause || s->state == SESSION_CLOSING || s->state == SESSION_CONNECTING)
		return;
	if (s->stash_len && !(s->pause & PAUSE_JOB)) {
		uint8_t *b = s->stash;
		size_t len = s->stash_len;
		s->stash = NULL;
		s->stash_len = 0;
		int rc = on_transport_bytes(s, b, len);
		free(b);
		after_bytes(s, rc);
		if (s->state == SESSION_CLOSING || s->pause)
			return;
	}
	read_start(s);
}

/* --------------------------------------------------------------- write */

/*
 * Output is gathered in the session's buffer (s->obuf) and written with
 * one uv_write per flush: at the end of each read, kick and tick, or once
 * it holds OUT_CHUNK bytes.  A peer that sends many small requests (Pings)
 * then costs its bytes, not a write request (~200 bytes of libuv state)
 * per answer.  What is queued (written but not yet taken by the kernel,
 * plus the buffer) is the session's send queue.
 */
#define OUT_CHUNK (64u << 10)

size_t session_sendq(const struct session *s)
{
	return uv_stream_get_write_queue_size((const uv_stream_t *)&s->tcp) + s->olen;
}

/* Replies pile up when the peer does not read: stop reading from it (and,
 * over the node's limit, from every session with a queue). */
static void sendq_check(struct session *s)
{
	struct node *n = s->node;
	if (session_sendq(s) > NODE_SENDQ_MAX && !(s->pause & PAUSE_SENDQ)) {
		session_pause(s, PAUSE_SENDQ);
		s->sendq_since_ms = node_mono_ms(n);
	}
	if (n->sendq_total > NODE_SENDQ_ALL_MAX)
		for (struct session *o = n->sessions; o; o = o->next)
			if (!(o->pause & PAUSE_SENDQ) && o->state != SESSION_CLOSING &&
			    session_sendq(o) > 0) {
				session_pause(o, PAUSE_SENDQ);
				o->sendq_since_ms = node_mono_ms(n);
			}
}

static void on_write(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct session *s = w->s;
	struct node *n = s->node;
	n->sendq_total -= w->len < n->sendq_total ? w->len : n->sendq_total;
	sodium_memzero(w->data, w->len);
	free(w);
	if (status < 0) {
		if (status != UV_ECANCELED)
			session_close(s, uv_strerror(status), true);
		return;
	}
	if ((s->pause & PAUSE_SENDQ) && n->sendq_total <= NODE_SENDQ_ALL_MAX &&
	    session_sendq(s) < NODE_SENDQ_HIGH) {
		s->sendq_since_ms = 0;
		session_resume(s, PAUSE_SENDQ);
	}
	session_kick(s);
}

/* Write what the buffer holds (also while closing: a last Bye). */
static int flush_out(struct session *s)
{
	struct wreq *w = s->obuf;
	int rc;
	if (!s->olen || uv_is_closing((uv_handle_t *)&s->tcp))
		return 0;
	s->obuf = NULL;
	w->s = s;
	w->len = s->olen;
	s->olen = s->ocap = 0;
	uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)w->len);
	if ((rc = uv_write(&w->req, (uv_stream_t *)&s->tcp, &b, 1, on_write))) {
		sodium_memzero(w->data, w->len);
		free(w);
		return rc;
	}
	s->bytes_out += w->len;
	s->node->sendq_total += w->len;
	return 0;
}

static void session_flush_now(struct session *s)
{
	(void)flush_out(s);
}

int session_flush(struct session *s)
{
	if (s->state == SESSION_CLOSING)
		return 0;
	int rc = flush_out(s);
	if (rc)
		session_close(s, uv_strerror(rc), true);
	return rc;
}

/* Room for len more bytes in the buffer: its start, or NULL. */
static uint8_t *out_room(struct session *s, size_t len)
{
	if (s->olen + len > s->ocap) {
		size_t cap = s->ocap ? s->ocap : 4096;
		while (cap < s->olen + len)
			cap *= 2;
		struct wreq *w = realloc(s->obuf, sizeof(*w) + cap);
		if (!w)
			return NULL;
		s->obuf = w;
		s->ocap = cap;
	}
	return s->obuf->data + s->olen;
}

static int out_done(struct session *s, size_t len)
{
	s->olen += len;
	return s->olen >= OUT_CHUNK ? session_flush(s) : 0;
}

/* A handshake message, in a plain frame. */
static int write_frame(struct session *s, const uint8_t *payload, size_t len)
{
	uint8_t *out = out_room(s, FRAME_HEADER_BYTES + len);
	size_t out_len;
	int rc;
	if (!out)
		return -ENOMEM;
	if ((rc = frame_wrap(out, &out_len, FRAME_HEADER_BYTES + len, payload, len)))
		return rc;
	return out_done(s, out_len);
}

/* sync_io.send: encrypt and frame one app message. */
static int io_send(void *ctx, const uint8_t *msg, size_t len)
{
	struct session *s = ctx;
	size_t cap = frame_encoded_size(len), out_len;
	uint8_t *out;
	int rc;

	if (s->state != SESSION_OPEN && s->state != SESSION_REDEEM)
		return UV_ECANCELED;
	if (!(out = out_room(s, cap)))
		return -ENOMEM;
	if ((rc = frame_encode(out, &out_len, cap, &s->send, msg, len)))
		return rc;
	return out_done(s, out_len);
}

/* ---------------------------------------------------------- sync glue */

static int io_read(void *ctx, const uint8_t alliance[32], const uint8_t author[32],
                   uint64_t seq, const uint8_t **env, size_t *len)
{
	struct session *s = ctx;

	/* Streaming (sync_produce): from what a job read ahead, off the loop.
	 * Otherwise s->txn is opened around the engine calls that read one
	 * record (session_diverged); while a received message is handled (a
	 * HeadCheck) one is opened here and ended when sync_receive returns. */
	if (s->producing)
		return node_readahead_read(s, alliance, author, seq, env, len);
	if (!s->txn) {
		if (store_txn_begin(s->node->store, &s->txn))
			return STORE_E_NOTFOUND;
		s->txn_in_receive = true;
	}
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

static int io_redeem(void *ctx, const uint8_t alliance[32], const uint8_t token[32])
{
	struct session *s = ctx;
	return node_invite_redeem(s->node, s, alliance, token);
}

static int io_blob_want(void *ctx, const uint8_t hash[32], uint64_t offset, uint32_t length)
{
	return node_blob_want(ctx, hash, offset, length);
}

static int io_blob_chunk(void *ctx, const uint8_t hash[32], uint64_t offset,
                         const uint8_t *data, size_t len)
{
	return node_blob_chunk(ctx, hash, offset, data, len);
}

static int engine_init(struct session *s, unsigned flags)
{
	struct node *n = s->node;
	struct sync_io io = { .ctx = s, .send = io_send, .read = io_read, .records = io_records,
	                      .allowed = io_allowed, .fork = io_fork, .redeem = io_redeem,
	                      .blob_want = io_blob_want, .blob_chunk = io_blob_chunk };
	if (!s->inbound)
		flags |= SYNC_INITIATOR;
	return sync_init(&s->sync, flags, n->key->pk, n->cfg.name, s->peer_key, &n->local, &io);
}

/* Produce records while the send queue has room (back-pressure: resumed
 * from the write callback), the loop iteration's budget lasts (resumed
 * from the next iteration's idle phase, node_produce_room) and the records
 * are at hand (resumed when their read job ends, readahead.c). */
void session_kick(struct session *s)
{
	bool more = true;
	int rc = 0;

	if (s->kicking)
		return;
	if (s->state != SESSION_OPEN || !sync_pending(&s->sync)) {
		node_readahead_drop(s);   /* a job that read past the end */
		node_blobs_serve(s);   /* attachments: only when no records wait */
		session_flush(s);
		return;
	}
	s->kicking = true;
	while (more && s->state == SESSION_OPEN) {
		size_t q = uv_stream_get_write_queue_size((uv_stream_t *)&s->tcp);
		size_t room, out0 = s->bytes_out + s->olen;
		if (q >= NODE_SENDQ_HIGH || !(room = node_produce_room(s)))
			break;   /* a write callback, or the idle phase, kicks again */
		if (room > NODE_SENDQ_HIGH - q)
			room = NODE_SENDQ_HIGH - q;
		s->producing = true;
		rc = sync_produce(&s->sync, room, &more);
		s->producing = false;
		node_produce_spent(s, (size_t)(s->bytes_out + s->olen - out0));
		if (rc || s->ra_job)
			break;   /* a read job's end kicks again */
	}
	s->kicking = false;
	if (rc && s->state == SESSION_OPEN)
		session_close(s, rc <= -3000 ? sync_strerror(rc) : store_strerror(rc), true);
	if (!more) {
		node_readahead_drop(s);   /* streamed: no buffer kept while idle */
		node_blobs_serve(s);
	}
	session_flush(s);
}

void session_diverged(struct session *s, const uint8_t alliance[32], const uint8_t author[32],
                      uint64_t head)
{
	int rc = store_txn_begin(s->node->store, &s->txn);
	if (rc == 0) {
		rc = sync_push_record(&s->sync, alliance, author, head);
		store_txn_end(s->txn);
		s->txn = NULL;
	}
	if (rc == 0)
		rc = sync_feed_diverged(&s->sync, alliance, author, head);
	if (rc)
		session_close(s, rc <= -3000 ? sync_strerror(rc) : store_strerror(rc), true);
	else
		session_kick(s);
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

/* The Bye code for a key this node will not talk to. */
static enum sync_bye_code refusal_code(int member_rc)
{
	switch (member_rc) {
	case STORE_E_REVOKED: return SYNC_BYE_REVOKED;
	case STORE_E_EXPIRED: return SYNC_BYE_ADMISSION_EXPIRED;
	default: return SYNC_BYE_NOT_ADMITTED;
	}
}

/* Refuse right after the handshake: an engine only to say Bye. */
static int refuse_key(struct session *s, enum sync_bye_code code, const char *why)
{
	int rc;
	set_state(s, SESSION_REDEEM);   /* io_send writes in this state */
	if ((rc = engine_init(s, SYNC_AWAIT_REDEEM)))
		return rc;
	session_refuse(s, code, why, 0);
	return 1;
}

static int handshake_done(struct session *s)
{
	struct node *n = s->node;
	struct peer *p;
	char hex[65];
	int rc;

	if ((rc = noise_agora_split(&s->send, &s->recv, s->peer_key, NULL, &s->hs)))
		return rc;
	noise_agora_dispose(&s->hs);
	proto_hex(hex, s->peer_key, 32);
	if ((rc = frame_decoder_init(&s->dec, &s->recv, SYNC_REDEEM_MAX)))
		return rc;
	p = node_peer_find(n, s->peer_key);
	int active = view_member_active_any(n, s->peer_key, node_wall_ms(n));
	bool joining = !s->inbound && node_join_pending(n, s->peer_key);
	if (p && (active == 0 || joining))
		return session_admitted(s, p);
	if (!p && active == 0 && s->inbound) {
		/* an active member of an alliance we hold: no agora.conf entry
		 * needed (DESIGN 10), if the mesh has room (peering.c) */
		if (!(p = node_peer_accepted(n, s->peer_key, NULL)))
			return -ENOMEM;
		return session_admitted(s, p);
	}
	if (s->inbound && node_mono_ms(n) - n->invites_checked_ms > 200)
		node_invites_check(n);   /* made or used since the tick (at most 5 reads a second) */
	if (s->inbound && (n->invites_open || n->invites_made)) {
		/* Maybe a new member with an invite code: it may send one Redeem
		 * (node/invite.c), and nothing else, within the handshake timeout
		 * (or, with no invite open, just long enough to be told why its
		 * code no longer works). */
		s->redeem_until_ms = s->opened_ms +
		                     (n->invites_open ? NODE_HANDSHAKE_MS : NODE_REDEEM_LATE_MS);
		set_state(s, SESSION_REDEEM);
		if ((rc = engine_init(s, SYNC_AWAIT_REDEEM)))
			return rc;
		NLOG(n, NODE_LOG_INFO, "session", "%s (key %.16s…) is not a peer: waiting for an "
		     "invite redemption", s->addr, hex);
		return 0;
	}
	NLOG(n, NODE_LOG_WARN, "session", "rejected %s: key %s is not active in any alliance this "
	     "node is in (%s)%s", s->addr, hex, store_strerror(active),
	     p ? "" : "; it is not in the peer list either");
	return refuse_key(s, refusal_code(active), active == STORE_E_REVOKED ?
	                  "your key was revoked in every alliance this node holds" :
	                  active == STORE_E_EXPIRED ? "your admission has expired" :
	                  "your key is not admitted to any alliance this node holds");
}

/* One of two sessions with the same peer goes: say so if it can. */
static void duplicate(struct session *s, const char *why)
{
	if (s->state == SESSION_OPEN && sync_state(&s->sync) != SYNC_STATE_FAILED) {
		(void)sync_send_bye(&s->sync, SYNC_BYE_DUPLICATE_SESSION, why, 0);
		close_session(s, why, false, true);
	} else {
		session_close(s, why, false);
	}
}

/* The peer is accepted: take it over from an older session, start sync.
 * 0, 1 when s was closed (not an error), or an error. */
int session_admitted(struct session *s, struct peer *p)
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
			duplicate(s, "duplicate session (keeping the other one)");
			return 1;
		}
		o->peer = NULL;
		duplicate(o, "replaced by a newer session");
	}
	s->peer = p;
	p->session = s;
	p->state = PEER_CONNECTED;
	p->open_since_ms = node_mono_ms(n);
	p->last_error[0] = '\0';
	uv_timer_stop(&p->timer);
	frame_decoder_set_max(&s->dec, NODE_APP_MAX);
	if (s->state == SESSION_REDEEM) {
		/* the redemption admitted it: the engine goes on to Hello */
		set_state(s, SESSION_OPEN);
		peering_hello_says(n, s);
		rc = sync_admit(&s->sync);
	} else {
		set_state(s, SESSION_OPEN);
		if ((rc = engine_init(s, 0)))
			return rc;
		uint8_t alliance[32], token[32];
		peering_hello_says(n, s);
		if (!s->inbound && node_join_message(n, s->peer_key, alliance, token) == 0 &&
		    view_member_active_any(n, n->key->pk, node_wall_ms(n)) != 0) {
			/* we joined with an invite of this coordinator: redeem it before
			 * our Hello (the token travels only inside the session) */
			rc = sync_start_redeem(&s->sync, alliance, token);
			sodium_memzero(token, sizeof(token));
			NLOG(n, NODE_LOG_INFO, "session", "sent our invite to %s", who(s, w, sizeof(w)));
		} else {
			rc = sync_start(&s->sync);
		}
	}
	NLOG(n, NODE_LOG_INFO, "session", "open with %s (%s)", who(s, w, sizeof(w)),
	     s->inbound ? "inbound" : "outbound");
	if (n->disk_until_ms)
		session_pause(s, PAUSE_DISK);   /* reads again with the others */
	node_member_seen(n, s->peer_key);
	return rc;
}

/* Feed handshake bytes; *used gets the bytes taken.  0 or an error. */
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
		s->last_msg_ms = node_mono_ms(s->node);
		if ((rc = noise_agora_read(&s->hs, payload, plen)))
			return rc;
		if (noise_agora_action(&s->hs) == NOISE_ACTION_WRITE && (rc = hs_write_next(s)))
			return rc;
		if (noise_agora_action(&s->hs) == NOISE_ACTION_SPLIT) {
			rc = handshake_done(s);
			if (rc)
				return rc < 0 ? rc : 0;
		}
	}
	return 0;
}

/* Keep bytes read while a job about the session runs (session_resume
 * feeds them to the engine first). */
static int stash(struct session *s, const uint8_t *in, size_t len)
{
	if (!len)
		return 0;
	uint8_t *p = realloc(s->stash, s->stash_len + len);
	if (!p)
		return -ENOMEM;
	memcpy(p + s->stash_len, in, len);
	s->stash = p;
	s->stash_len += len;
	return 0;
}

static int on_transport_bytes(struct session *s, const uint8_t *in, size_t len)
{
	uint8_t *msg;
	size_t mlen, consumed, off = 0;
	int rc;

	for (;;) {
		if (s->state != SESSION_OPEN && s->state != SESSION_REDEEM)
			return 0;
		if (s->pause & PAUSE_JOB) {
			/* A Redeem is being redeemed: what came after it (the
			 * joiner's Hello) waits here until the job is done.  At most
			 * one read buffer, since reading stopped. */
			return stash(s, in + off, len - off);
		}
		rc = frame_decoder_next(&msg, &mlen, &consumed, &s->dec, in + off, len - off);
		off += consumed;
		if (rc == FRAME_E_AGAIN)
			return 0;
		if (rc)
			return rc;
		s->last_msg_ms = node_mono_ms(s->node);
		rc = sync_receive(&s->sync, msg, mlen, node_mono_ms(s->node));
		if (s->txn_in_receive) {
			store_txn_end(s->txn);
			s->txn = NULL;
			s->txn_in_receive = false;
		}
		free(msg);
		if (rc)
			return rc;
		if (!s->meshed && sync_version(&s->sync) != 0) {
			/* the peer's Hello came: the mesh decides (peering.c) */
			s->meshed = true;
			if (peering_opened(s->node, s))
				return 0;   /* refused: closing */
		}
	}
}

/* ---------------------------------------------------------------- read */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct session *s = h->data;
	(void)suggested;
	*buf = uv_buf_init((char *)s->node->rbuf, sizeof(s->node->rbuf));
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

/* The peer said Bye: keep its reason for `agora status`, and stop
 * redialling a peer that refused us for good (node.c). */
/* Codes after which redialling the same key changes nothing until our
 * side or theirs changes (an admission, agora.conf, an invite). */
static bool bye_is_final(uint32_t code)
{
	switch (code) {
	case SYNC_BYE_NOT_ADMITTED:
	case SYNC_BYE_REVOKED:
	case SYNC_BYE_ADMISSION_EXPIRED:
	case SYNC_BYE_INVITE_USED:
	case SYNC_BYE_INVITE_UNKNOWN:
	case SYNC_BYE_INVITE_EXPIRED:
	case SYNC_BYE_WRONG_ALLIANCE:
	case SYNC_BYE_NO_COMMON_VERSION:
	case SYNC_BYE_IDENTITY:
	case SYNC_BYE_NOT_A_PEER:
		return true;
	default:
		return false;
	}
}

/* The peer said Bye: keep its reason for `agora status` and the log, and
 * stop redialling a peer that refused us for good (peers.c). */
static void peer_said_bye(struct session *s)
{
	const struct sync_bye *b = sync_bye_received(&s->sync);
	char why[320];
	snprintf(why, sizeof(why), "peer said goodbye (%s): %s",
	         sync_bye_code_name(b ? b->code : 0), b && b->reason[0] ? b->reason : "no reason");
	if (s->peer && s->peer->session == s) {
		struct peer *p = s->peer;
		s->peer = NULL;
		p->session = NULL;
		enum mesh_close how = !b ? MESH_CLOSE_FAILED :
		                      bye_is_final(b->code) ? MESH_CLOSE_REFUSED :
		                      b->code == SYNC_BYE_TOO_MANY_CONNECTIONS ||
		                      b->code == SYNC_BYE_SHUTTING_DOWN ? MESH_CLOSE_BUSY :
		                      MESH_CLOSE_CLEAN;
		node_peer_session_closed(p, why, how, b ? b->retry_after_ms : 0);
	}
	close_session(s, why, !b || b->code != SYNC_BYE_SHUTTING_DOWN, false);
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
	if (s->state == SESSION_HANDSHAKE)
		rc = on_handshake_bytes(s, (uint8_t *)buf->base, (size_t)nread, &used);
	if (rc == 0 && (s->state == SESSION_OPEN || s->state == SESSION_REDEEM) &&
	    used < (size_t)nread)
		rc = on_transport_bytes(s, (uint8_t *)buf->base + used, (size_t)nread - used);
	after_bytes(s, rc);
	if (s->state == SESSION_OPEN)
		node_read_budget(s, (size_t)nread);
}

/* Our own head seq in v (0 if we hold nothing of our feed there). */
static uint64_t own_head(const struct sync_lvec *v, const uint8_t self[32])
{
	for (size_t a = 0, b = v->n; a < b;) {
		size_t m = a + (b - a) / 2;
		int c = memcmp(v->heads[m].author, self, 32);
		if (c == 0)
			return v->heads[m].seq;
		if (c < 0)
			a = m + 1;
		else
			b = m;
	}
	return 0;
}

/*
 * Once the first exchanges are over, check our own feed against the
 * peer's copy, at the last seq both hold (PROTOCOL.md 6.8): if our store
 * was restored from a backup and then published on, the peer holds
 * another record there, sends it, and storage records the conflict and
 * refuses to publish until `agora recover` (store_set_own_key).  Version 2
 * asks with a HeadCheck (our record's id: the peer answers only if it
 * differs); version 1 with an Ack one below (the peer re-sends from there:
 * one record per alliance and session).
 */
static void check_own_heads(struct session *s)
{
	struct node *n = s->node;
	struct store_txn *t = NULL;
	s->head_checked = true;
	for (size_t i = 0; i < n->local.n; i++) {
		const struct sync_lvec *v = &n->local.v[i];
		uint64_t ours, theirs, seq;
		struct store_record rec;
		int rc = 0;
		if (!sync_carries(&s->sync, v->alliance) || !(ours = own_head(v, n->key->pk)) ||
		    !(theirs = sync_peer_seq(&s->sync, v->alliance, n->key->pk)))
			continue;
		seq = ours < theirs ? ours : theirs;
		if (sync_version(&s->sync) < 2) {
			rc = sync_send_ack(&s->sync, v->alliance, n->key->pk, seq - 1);
		} else if (t || store_txn_begin(n->store, &t) == 0) {
			if (store_feed_get(t, v->alliance, n->key->pk, seq, &rec) == 0)
				rc = sync_send_head_check(&s->sync, v->alliance, n->key->pk, seq, rec.id);
		}
		if (rc) {
			session_close(s, "cannot check our own feed", true);
			break;
		}
	}
	store_txn_end(t);
}

/* What reading ended with: a Bye, a limit, an error, or more to do. */
static void after_bytes(struct session *s, int rc)
{
	if (s->state == SESSION_CLOSING)
		return;
	if (rc == SYNC_E_BYE) {
		peer_said_bye(s);
	} else if (rc <= -3200 && rc > -3300) {
		/* the engine said Bye (why) itself: let it go out, then close */
		close_session(s, err_name(rc), true, true);
	} else if (rc == FRAME_E_TOO_BIG) {
		session_refuse(s, SYNC_BYE_LIMIT_EXCEEDED, "message larger than allowed", 0);
	} else if (rc < 0) {
		session_close(s, err_name(rc), true);   /* logs who and why */
	} else {
		/* after the exchanges (which set what the peer thinks we hold) */
		if (!s->head_checked && s->state == SESSION_OPEN && sync_live(&s->sync))
			check_own_heads(s);
		session_kick(s);   /* flushes what the messages read asked for */
		if (s->state != SESSION_CLOSING)
			sendq_check(s);
		/* a Have read may have set a graft earlier than the timer's */
		if (s->state == SESSION_OPEN)
			node_graft_arm(s->node, sync_next_deadline(&s->sync));
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
	set_state(s, SESSION_HANDSHAKE);
	read_start(s);
	if (role == NOISE_INITIATOR && (rc = hs_write_next(s)) == 0)
		rc = session_flush(s);
	return rc;
}

/* Which of two unaccepted sessions to drop first: one that has sent
 * nothing before one that is handshaking, then the older. */
static bool drop_before(const struct session *a, const struct session *b)
{
	if ((a->bytes_in == 0) != (b->bytes_in == 0))
		return a->bytes_in == 0;
	return a->opened_ms <= b->opened_ms;
}

/* Make room for a connection from ip: an unaccepted session (of that
 * address when it has too many, else of all) is closed, the idlest first.
 * false when there is no room to make (that address's open sessions). */
static bool preauth_room(struct node *n, const struct session *self)
{
	size_t from_ip = 0, open_ip = 0;
	struct session *worst_ip = NULL, *worst = NULL;
	for (struct session *o = n->sessions; o; o = o->next) {
		if (o == self || o->state == SESSION_CLOSING || !o->inbound)
			continue;
		bool same = strcmp(o->ip, self->ip) == 0;
		if (!preauth(o)) {
			open_ip += same;
			continue;
		}
		from_ip += same;
		if (same && (!worst_ip || drop_before(o, worst_ip)))
			worst_ip = o;
		if (!worst || drop_before(o, worst))
			worst = o;
	}
	if (open_ip >= NODE_PER_ADDR_MAX)
		return false;
	if (from_ip >= NODE_PREAUTH_PER_ADDR && worst_ip)
		session_close(worst_ip, "too many connections from one address", true);
	else if (n->n_preauth > NODE_PREAUTH_MAX && worst)
		session_close(worst, "too many connections not yet accepted", true);
	return true;
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
	if ((rc = uv_accept((uv_stream_t *)&n->listener, (uv_stream_t *)&s->tcp))) {
		session_close(s, uv_strerror(rc), true);
		return rc;
	}
	set_addr(s);
	if (n->n_sessions > NODE_MAX_SESSIONS || !preauth_room(n, s)) {
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

int session_dial(struct node *n, struct peer *p, const struct sockaddr *addr)
{
	struct session *s;
	int rc;

	if (!(s = session_new(n)))
		return -ENOMEM;
	s->peer = p;
	p->session = s;
	p->state = PEER_CONNECTING;
	memcpy(s->peer_key, p->conf.key, 32);
	snprintf(s->addr, sizeof(s->addr), strchr(p->conf.host, ':') ? "[%s]:%u" : "%s:%u",
	         p->conf.host, p->conf.port);
	s->connect.data = s;
	if ((rc = uv_tcp_connect(&s->connect, &s->tcp, addr, on_connect)))
		session_close(s, uv_strerror(rc), true);
	return 0;
}

/* --------------------------------------------------------------- tick */

/* The reasons below name these times (the stall's said 45 s for a while). */
_Static_assert(NODE_HANDSHAKE_MS == 10000, "handshake timeout (10 s)");
_Static_assert(NODE_SENDQ_STALL_MS == 30000, "does not read what it asked for (30 s)");
_Static_assert(NODE_SILENCE_MS == 45000, "silent for 45 s");

void session_tick(struct session *s, uint64_t now)
{
	switch (s->state) {
	case SESSION_CONNECTING:
	case SESSION_HANDSHAKE:
		if (now - s->opened_ms > NODE_HANDSHAKE_MS)
			session_close(s, "handshake timeout (10 s)", true);
		return;
	case SESSION_REDEEM:
		/* counted from the TCP accept; a redemption job in progress
		 * (PAUSE_JOB) finishes first */
		if (!(s->pause & PAUSE_JOB) && now > s->redeem_until_ms)
			session_refuse(s, SYNC_BYE_NOT_ADMITTED, "no invite redeemed in time", 0);
		return;
	case SESSION_CLOSING:
		/* a Bye that the peer does not read: give up on it */
		if (!uv_is_closing((uv_handle_t *)&s->tcp) && now - s->opened_ms > NODE_HANDSHAKE_MS)
			uv_close((uv_handle_t *)&s->tcp, on_close);
		return;
	case SESSION_OPEN:
		break;
	}
	if (s->sendq_since_ms && now - s->sendq_since_ms > NODE_SENDQ_STALL_MS) {
		session_refuse(s, SYNC_BYE_LIMIT_EXCEEDED, "does not read what it asked for (30 s)", 0);
		return;
	}
	/* While we do not read (back-pressure) the peer cannot be heard. */
	if (!s->pause && now - s->last_msg_ms > NODE_SILENCE_MS) {
		session_close(s, "silent for 45 s", true);
		return;
	}
	if (now - s->last_ping_ms >= NODE_PING_MS) {
		s->last_ping_ms = now;
		if (sync_send_ping(&s->sync, now) != 0)
			session_close(s, "cannot send ping", true);
		else
			session_flush(s);
	}
}
