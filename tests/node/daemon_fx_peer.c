/*
 * daemon_fx_peer.c - test fixture for the daemon tests (see daemon_fx.h),
 * the peer side: connections to and from the node through hostile_wire,
 * the messages a test sends and expects, and the node's sessions with
 * those peers as its loop sees them.  The node itself (loop thread, clock,
 * jobs, start and stop) is in daemon_fx.c.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "daemon_fx.h"

/* ------------------------------------------------------------ peers */

static struct hw_conn *slot(struct dfx *fx)
{
	for (int i = 0; i < DFX_CONNS; i++)
		if (!fx->conn_used[i]) {
			fx->conn_used[i] = true;
			memset(&fx->conns[i], 0, sizeof(fx->conns[i]));
			fx->conns[i].fd = -1;
			return &fx->conns[i];
		}
	fail_msg("too many connections in one test");
	return NULL;
}

struct hw_conn *dfx_connect(struct dfx *fx, int who)
{
	struct hw_conn *c = slot(fx);
	assert_int_equal(hw_connect(c, fx->port, fx->keys[who]), 0);
	return c;
}

int dfx_dial(struct dfx *fx)
{
	int fd = hw_dial(NULL, fx->port);
	assert_true(fd >= 0);
	return fd;
}

/* One plain handshake frame, waiting until the deadline. */
static void read_frame(int fd, uint8_t *buf, size_t *len)
{
	uint8_t h[2];
	size_t want = 2, got = 0;
	uint8_t *dst = h;
	uint64_t end = hw_now_ms() + DFX_WAIT_MS;
	for (int part = 0; part < 2; part++) {
		while (got < want) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			assert_true(hw_now_ms() < end);
			if (poll(&p, 1, 100) <= 0)
				continue;
			ssize_t n = recv(fd, dst + got, want - got, 0);
			assert_true(n > 0);
			got += (size_t)n;
		}
		if (part == 0) {
			want = (size_t)h[0] << 8 | h[1];
			got = 0;
			dst = buf;
		}
	}
	*len = want;
}

struct hw_conn *dfx_accept(struct dfx *fx, int fd, int who)
{
	struct hw_conn *c = slot(fx);
	struct noise_agora ag;
	uint8_t msg[NOISE_MSG_MAX], fr[NOISE_MSG_MAX + 2];
	size_t len, flen;

	c->fd = fd;
	assert_int_equal(noise_agora_init(&ag, NOISE_RESPONDER, fx->keys[who]->pk,
	                                  fx->keys[who]->sk, NULL), 0);
	read_frame(fd, msg, &len);
	assert_int_equal(noise_agora_read(&ag, msg, len), 0);
	assert_int_equal(noise_agora_write(msg, &len, sizeof(msg), &ag), 0);
	assert_int_equal(frame_wrap(fr, &flen, sizeof(fr), msg, len), 0);
	hw_send_raw(c, fr, flen);
	read_frame(fd, msg, &len);
	assert_int_equal(noise_agora_read(&ag, msg, len), 0);
	assert_int_equal(noise_agora_action(&ag), NOISE_ACTION_SPLIT);
	assert_int_equal(noise_agora_split(&c->send, &c->recv, c->remote, NULL, &ag), 0);
	noise_agora_dispose(&ag);
	assert_int_equal(frame_decoder_init(&c->dec, &c->recv, 64u << 20), 0);
	return c;
}

void dfx_send_hello(struct hw_conn *c, const struct proto_key *key, uint32_t max_version)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Hello h = AGORA__WIRE__HELLO__INIT;
	h.has_version = h.has_node_key = true;
	h.version = 1;
	h.node_key.data = (uint8_t *)key->pk;
	h.node_key.len = 32;
	h.name = "test peer";
	if (max_version > 1) {
		h.has_max_version = true;
		h.max_version = max_version;
	}
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_HELLO;
	m.hello = &h;
	hw_send_msg(c, &m);
}

void dfx_send_ping(struct hw_conn *c, uint64_t nonce)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Ping p = AGORA__WIRE__PING__INIT;
	p.has_nonce = true;
	p.nonce = nonce;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_PING;
	m.ping = &p;
	hw_send_msg(c, &m);
}

void dfx_send_redeem(struct hw_conn *c, const uint8_t alliance[32], const uint8_t token[32])
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Redeem r = AGORA__WIRE__REDEEM__INIT;
	r.has_alliance = r.has_token = true;
	r.alliance.data = (uint8_t *)alliance;
	r.alliance.len = 32;
	r.token.data = (uint8_t *)token;
	r.token.len = 32;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_REDEEM;
	m.redeem = &r;
	hw_send_msg(c, &m);
}

void dfx_send_bye(struct hw_conn *c, int code, const char *reason)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Bye b = AGORA__WIRE__BYE__INIT;
	b.has_code = true;
	b.code = (Agora__Wire__ByeCode)code;
	b.reason = (char *)reason;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_BYE;
	m.bye = &b;
	hw_send_msg(c, &m);
}

Agora__Wire__Message *dfx_expect(struct hw_conn *c, int msg_case)
{
	bool closed;
	Agora__Wire__Message *m = hw_recv(c, DFX_WAIT_MS, &closed);
	if (!m)
		fail_msg("expected message %d, got %s", msg_case,
		         closed ? "the end of the connection" : "nothing in time");
	if ((int)m->msg_case != msg_case) {
		int got = (int)m->msg_case;
		char why[300] = "";
		if (got == AGORA__WIRE__MESSAGE__MSG_BYE)
			snprintf(why, sizeof(why), " (Bye %d: %s)", (int)m->bye->code,
			         m->bye->reason ? m->bye->reason : "");
		agora__wire__message__free_unpacked(m, NULL);
		fail_msg("expected message %d, got %d%s", msg_case, got, why);
	}
	return m;
}

void dfx_expect_eof(struct hw_conn *c)
{
	assert_int_equal(hw_await_close(c, DFX_WAIT_MS), 0);
}

void dfx_expect_bye_eof(struct hw_conn *c, int code)
{
	Agora__Wire__Message *m = dfx_expect(c, AGORA__WIRE__MESSAGE__MSG_BYE);
	int got = m->bye->has_code ? (int)m->bye->code : 0;
	agora__wire__message__free_unpacked(m, NULL);
	assert_int_equal(got, code);
	dfx_expect_eof(c);
}

/* --------------------------------------------------- the node's side */

struct session *dfx_find(struct dfx *fx, int who)
{
	struct session *best = NULL;
	for (struct session *s = fx->node->sessions; s; s = s->next) {
		if (who < 0) {
			if (!best || s->id > best->id)
				best = s;
		} else if (s->state != SESSION_CLOSING && session_peer_known(s) &&
		           !memcmp(s->peer_key, fx->keys[who]->pk, 32)) {
			return s;
		}
	}
	return best;
}

int dfx_unread(struct session *s)
{
	uv_os_fd_t fd;
	int unread = 0;
	if (uv_is_closing((uv_handle_t *)&s->tcp) || uv_fileno((uv_handle_t *)&s->tcp, &fd) ||
	    ioctl(fd, FIONREAD, &unread))
		return -1;
	return unread;
}

struct sess_query {
	int who;
	struct dfx_sess *out;
};

static void session_fn(struct dfx *fx, void *arg)
{
	struct sess_query *q = arg;
	struct session *best = dfx_find(fx, q->who);
	struct dfx_sess *o = q->out;
	memset(o, 0, sizeof(*o));
	if (!best)
		return;
	o->found = true;
	o->id = best->id;
	o->state = best->state;
	o->pause = best->pause;
	o->sync = best->state == SESSION_OPEN || best->state == SESSION_REDEEM
	                  ? sync_state(&best->sync) : SYNC_STATE_HELLO;
	o->bytes_in = best->bytes_in;
	o->stash_len = best->stash_len;
	o->opened_ms = best->opened_ms;
	o->last_msg_ms = best->last_msg_ms;
	o->sendq_since_ms = best->sendq_since_ms;
	o->redeem_until_ms = best->redeem_until_ms;
	o->sendq = session_sendq(best);
	o->unread = dfx_unread(best);
	if (best->peer) {
		o->has_peer = true;
		o->transient = best->peer->transient;
		o->peer_state = best->peer->state;
	}
}

void dfx_session(struct dfx *fx, int who, struct dfx_sess *out)
{
	struct sess_query q = { who, out };
	dfx_call(fx, session_fn, &q);
}

static void count_fn(struct dfx *fx, void *arg)
{
	*(size_t *)arg = fx->node->n_sessions;
}

size_t dfx_session_count(struct dfx *fx)
{
	size_t n;
	dfx_call(fx, count_fn, &n);
	return n;
}

struct log_query {
	const char *text;
	bool found;
};

static void log_fn(struct dfx *fx, void *arg)
{
	struct log_query *q = arg;
	fflush(fx->logf);
	q->found = fx->logbuf && strstr(fx->logbuf, q->text);
}

bool dfx_logged(struct dfx *fx, const char *text)
{
	struct log_query q = { text, false };
	dfx_call(fx, log_fn, &q);
	return q.found;
}
