/*
 * daemon_session_test.c - agorad's OPEN and CLOSING sessions
 * (node/session.c, peers.c): a silent or trickling peer closed after 45 s,
 * a peer that never reads paused then closed, a final Bye that stops the
 * redialling, CLOSING giving up on a Bye nobody reads (and a node stop
 * that does not wait for it), and the read and produce budgets of one
 * loop iteration.
 *
 * Each test starts a real node on its own loop thread with a fake clock
 * and fake store jobs; the test thread is the peer (daemon_util.h says
 * how, and what the data directory holds).
 *
 * DAEMON_TEST_LOG=1 prints each node's log; a failed test prints it anyway.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "daemon_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define DT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DT_ASAN 1
#endif
#endif

/* --------------------------------------------------- OPEN -> silence */

/* No whole message for 45 s of the node's clock: closed after, not at. */
static void test_session__silent_peer_is_closed_after_45_s(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { 0 };
	struct dfx_sess s;
	dfx_start(fx, &o);
	struct hw_conn *c = open_session(fx, DFX_MEMBER, 1);
	dfx_session(fx, DFX_MEMBER, &s);
	assert_int_equal(s.last_msg_ms, DFX_MONO0);

	dfx_tick(fx, DFX_MONO0 + NODE_SILENCE_MS);
	dfx_session(fx, DFX_MEMBER, &s);
	assert_true(s.found);   /* (it got a Ping meanwhile) */
	dfx_tick(fx, DFX_MONO0 + NODE_SILENCE_MS + 1);
	dfx_expect_eof(c);
	dfx_stop(fx);
}

struct bytes_in {
	int who;
	uint64_t n;
};

static bool bytes_in_is(struct dfx *fx, void *arg)
{
	struct bytes_in *b = arg;
	struct session *s = dfx_find(fx, b->who);
	return s && s->bytes_in == b->n;
}

/* Bytes of one frame, a few at a time, are not a message: the session is
 * closed 45 s after the last whole one, though bytes kept coming. */
static void test_session__peer_trickling_one_frame_is_closed_after_45_s(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { 0 };
	struct dfx_sess s;
	uint8_t msg[16], fr[64];
	size_t flen;
	dfx_start(fx, &o);
	struct hw_conn *c = open_session(fx, DFX_MEMBER, 1);

	/* a Ping, framed and encrypted, sent one byte per step */
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Ping p = AGORA__WIRE__PING__INIT;
	p.has_nonce = true;
	p.nonce = 5;
	m.msg_case = MSG(PING);
	m.ping = &p;
	size_t mlen = agora__wire__message__pack(&m, msg);
	assert_int_equal(frame_encode(fr, &flen, sizeof(fr), &c->send, msg, mlen), 0);
	dfx_session(fx, DFX_MEMBER, &s);
	struct bytes_in bi = { DFX_MEMBER, s.bytes_in };
	const uint64_t steps[] = { 15000, 30000, NODE_SILENCE_MS };
	for (size_t i = 0; i < 3; i++) {
		hw_send_raw(c, fr + i, 1);
		bi.n++;
		assert_true(dfx_await(fx, bytes_in_is, &bi));   /* the node read it */
		dfx_tick(fx, DFX_MONO0 + steps[i]);
	}
	dfx_session(fx, DFX_MEMBER, &s);
	assert_true(s.found);
	dfx_tick(fx, DFX_MONO0 + NODE_SILENCE_MS + 1);
	dfx_expect_eof(c);
	dfx_stop(fx);
}

/* ------------------------------------------- OPEN -> unread replies */

static size_t rss_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Pings packed into one transport message: 8 bytes each, answered by a
 * Pong of 26 bytes on the wire (a frame each). */
static size_t ping_chunk(uint8_t *out, size_t cap)
{
	static const uint8_t one[8] = { 0, 0, 0, 4, 0x3a, 2, 0x08, 0x01 };
	size_t n = 0;
	while (n + sizeof(one) <= cap) {
		memcpy(out + n, one, sizeof(one));
		n += sizeof(one);
	}
	return n;
}

struct sendq_q {
	unsigned pause;
	size_t sendq;
	uint64_t since, bytes_in;
	int unread;
};

static void sendq_fn(struct dfx *fx, void *arg)
{
	struct sendq_q *q = arg;
	struct session *s = dfx_find(fx, DFX_MEMBER);
	memset(q, 0, sizeof(*q));
	if (s && s->state == SESSION_OPEN) {
		q->pause = s->pause;
		q->sendq = session_sendq(s);
		q->since = s->sendq_since_ms;
		q->bytes_in = s->bytes_in;
		q->unread = dfx_unread(s);
	}
}

static bool paused_with_unread(struct dfx *fx, void *arg)
{
	struct sendq_q *q = arg;
	sendq_fn(fx, q);
	return (q->pause & PAUSE_SENDQ) && q->unread > 0;
}

static void shrink_sndbuf(struct dfx *fx, void *arg)
{
	struct session *s = dfx_find(fx, DFX_MEMBER);
	int v = 16384;
	(void)arg;
	if (s)
		uv_send_buffer_size((uv_handle_t *)&s->tcp, &v);
}

/*
 * A member sends Pings and never reads the Pongs.  Once more than
 * NODE_SENDQ_MAX waits to be written to it, the node stops reading from
 * it (Pings stay unread in the kernel; the process does not grow), and
 * when the queue has not drained for NODE_SENDQ_STALL_MS on the node's
 * clock (not at that moment, after it) the session is closed.
 */
static void test_session__peer_that_never_reads_is_paused_then_closed(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { 0 };
	struct sendq_q q;
	static uint8_t plain[FRAME_CHUNK_MAX], ct[FRAME_CHUNK_MAX + 32];
	dfx_start(fx, &o);
	struct hw_conn *c = open_session(fx, DFX_MEMBER, 1);
	/* The kernel's own buffers, on both sides, would take megabytes
	 * first: what is sent then is about what the node read. */
	int small = 4096, out = 65536;
	assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &out, sizeof(out)), 0);
	dfx_call(fx, shrink_sndbuf, NULL);
	size_t rss0 = rss_bytes();

	/* Whole transport messages of Pings, until the node is seen to have
	 * stopped reading (checked whenever our socket is full). */
	size_t plen = ping_chunk(plain, sizeof(plain)), sent = 0;
	bool paused = false;
	uint64_t end = 0;
	while (!paused) {
		size_t clen, off = 0;
		assert_int_equal(noise_cipher_encrypt(ct + 2, &clen, sizeof(ct) - 2, &c->send, NULL, 0,
		                                      plain, plen), 0);
		ct[0] = (uint8_t)(clen >> 8);
		ct[1] = (uint8_t)clen;
		while (off < clen + 2) {
			ssize_t n = send(c->fd, ct + off, clen + 2 - off, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0) {
				off += (size_t)n;
				continue;
			}
			assert_true(n < 0 && (errno == EAGAIN || errno == EINTR));
			if (!paused) {
				dfx_call(fx, sendq_fn, &q);
				paused = q.pause & PAUSE_SENDQ;
				end = hw_now_ms() + DFX_WAIT_MS;
			}
			/* once paused, the rest of this message still fits in the
			 * kernel's buffers (ours, and the node's receive buffer) */
			assert_true(!paused || hw_now_ms() < end);
			struct pollfd pf = { .fd = c->fd, .events = POLLOUT };
			(void)poll(&pf, 1, 20);
		}
		sent += off;
		/* about 1.4 MB of Pings fill the 4 MiB queue with Pongs */
		if (sent > (16u << 20))
			fail_msg("the node read %zu bytes of Pings and never stopped", sent);
	}
	/* One more, after it stopped: it stays unread in the kernel. */
	dfx_send_ping(c, 1);
	if (!dfx_await(fx, paused_with_unread, &q))
		fail_msg("pause %#x, unread %d", q.pause, q.unread);
	assert_true(q.sendq > NODE_SENDQ_HIGH);   /* (it paused above NODE_SENDQ_MAX) */
	assert_int_equal(q.since, DFX_MONO0);
#ifndef DT_ASAN
	/* the queue (4 MiB) and its buffers, not what was sent */
	size_t rss1 = rss_bytes();
	assert_true(rss1 < rss0 + (24u << 20));
#else
	(void)rss0;
#endif

	dfx_tick(fx, DFX_MONO0 + NODE_SENDQ_STALL_MS);
	struct sendq_q q2;
	dfx_call(fx, sendq_fn, &q2);
	assert_true(q2.pause & PAUSE_SENDQ);   /* still there, still not reading */
	assert_int_equal(q2.bytes_in, q.bytes_in);
	dfx_tick(fx, DFX_MONO0 + NODE_SENDQ_STALL_MS + 1);
	assert_true(dfx_await(fx, no_sessions, NULL));
	assert_true(dfx_logged(fx, "does not read what it asked for (30 s)"));
	dfx_expect_eof(c);
	dfx_stop(fx);
}

/* ------------------------------------------- OPEN -> CLOSING (Bye) */

struct peer_q {
	enum peer_state state;
	bool timer_active, refused, has_session;
	size_t n;
};

static bool peer_refused(struct dfx *fx, void *arg)
{
	struct peer_q *q = arg;
	struct node *n = fx->node;
	q->n = n->n_peers;
	if (n->n_peers != 1)
		return false;
	struct peer *p = n->peers[0];
	q->state = p->state;
	q->timer_active = uv_is_active((uv_handle_t *)&p->timer);
	q->refused = p->refused;
	q->has_session = p->session != NULL;
	return q->state == PEER_REFUSED && !q->has_session;
}

/*
 * The node dials its configured peer; the peer opens the session and then
 * says Bye{NOT_ADMITTED} (a final code: it will not take this key).  The
 * node closes the session and does not dial it again: the peer is
 * "refused", with no redial timer armed.
 */
static void test_session__final_bye_from_a_configured_peer_stops_redialling(void **state)
{
	struct dfx *fx = *state;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	struct dfx_opts o = { .dial_port = ntohs(sa.sin_port) };
	dfx_start(fx, &o);

	struct pollfd pf = { .fd = lfd, .events = POLLIN };
	assert_int_equal(poll(&pf, 1, DFX_WAIT_MS), 1);
	int fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	struct hw_conn *c = dfx_accept(fx, fd, DFX_MEMBER);
	dfx_send_hello(c, fx->keys[DFX_MEMBER], 2);
	expect_node_hello(fx, c);
	expect_digest(fx, c);   /* the dialer opens the exchange */
	struct dfx_sess s;
	dfx_session(fx, DFX_MEMBER, &s);
	assert_true(s.found && s.has_peer && !s.transient);
	assert_int_equal(s.state, SESSION_OPEN);
	assert_int_equal(s.peer_state, PEER_CONNECTED);

	dfx_send_bye(c, SYNC_BYE_NOT_ADMITTED, "your key is not admitted here");
	dfx_expect_eof(c);
	struct peer_q q;
	if (!dfx_await(fx, peer_refused, &q))
		fail_msg("peer: %zu, state %d, session %d", q.n, q.state, q.has_session);
	assert_true(q.refused);
	assert_false(q.timer_active);   /* nothing will dial it */
	pf.revents = 0;
	assert_int_equal(poll(&pf, 1, 0), 0);
	close(lfd);
	dfx_stop(fx);
}

/* ------------------------------------------------------ CLOSING -> stop */

static bool closing_with_queue(struct dfx *fx, void *arg)
{
	(void)arg;
	for (struct session *s = fx->node->sessions; s; s = s->next)
		if (s->state == SESSION_CLOSING && !uv_is_closing((uv_handle_t *)&s->tcp) &&
		    uv_stream_get_write_queue_size((uv_stream_t *)&s->tcp) > 0)
			return true;
	return false;
}

/* A member's session that the node closes (a second Hello: a protocol
 * violation) while 520 KB of Pongs to it wait unread (more than the
 * kernel takes, less than NODE_SENDQ_HIGH): its Bye waits behind them. */
static struct hw_conn *closing_behind_unread(struct dfx *fx)
{
	static uint8_t plain[8 * 20000];
	struct hw_conn *c = open_session(fx, DFX_MEMBER, 1);
	int small = 4096;
	assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	dfx_call(fx, shrink_sndbuf, NULL);
	hw_send_packed(c, plain, ping_chunk(plain, sizeof(plain)));
	dfx_send_hello(c, fx->keys[DFX_MEMBER], 1);
	assert_true(dfx_await(fx, closing_with_queue, NULL));
	return c;
}

/* CLOSING waits for its Bye to be written, but not for ever: 10 s on the
 * node's clock after the close (not at 10 s) the session is gone. */
static void test_session__closing_gives_up_on_an_unread_bye_after_10_s(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { 0 };
	dfx_start(fx, &o);
	closing_behind_unread(fx);
	dfx_tick(fx, DFX_MONO0 + NODE_HANDSHAKE_MS);
	assert_true(dfx_await(fx, closing_with_queue, NULL));
	dfx_tick(fx, DFX_MONO0 + NODE_HANDSHAKE_MS + 1);
	assert_true(dfx_await(fx, no_sessions, NULL));
	dfx_stop(fx);
}

/* The node stops while such a session waits: its loop ends at once all
 * the same (node_stop never waits on a peer); dfx_stop checks that
 * nothing but the test's own handle is left. */
static void test_node__stop_does_not_wait_for_a_bye_a_peer_does_not_read(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { 0 };
	dfx_start(fx, &o);
	closing_behind_unread(fx);
	dfx_stop(fx);
}

/* ----------------------------------------- OPEN -> read budget pause */

struct budget_q {
	size_t a, b;        /* bytes counted, one call each */
	unsigned pause_a, pause_b;
	uint64_t iter;      /* the loop iteration of budget_one */
};

/* Both counts in one loop iteration (one callback). */
static void budget_same_iteration(struct dfx *fx, void *arg)
{
	struct budget_q *q = arg;
	struct session *s = dfx_find(fx, DFX_MEMBER);
	node_read_budget(s, q->a);
	q->pause_a = s->pause;
	node_read_budget(s, q->b);
	q->pause_b = s->pause;
}

static void budget_one(struct dfx *fx, void *arg)
{
	struct budget_q *q = arg;
	struct session *s = dfx_find(fx, DFX_MEMBER);
	node_read_budget(s, q->a);
	q->pause_a = s->pause;
	q->iter = fx->node->iter;
}

static bool iter_moved(struct dfx *fx, void *arg)
{
	return fx->node->iter != ((struct budget_q *)arg)->iter;
}

static bool budget_resumed(struct dfx *fx, void *arg)
{
	struct session *s = dfx_find(fx, DFX_MEMBER);
	(void)arg;
	return s && !(s->pause & PAUSE_BUDGET);
}

/*
 * A session that read NODE_READ_BUDGET bytes in one loop iteration stops
 * reading for the rest of it, and reads again in the next: it then still
 * answers.  Bytes read in earlier iterations do not count.
 */
static void test_session__read_budget_pauses_for_one_loop_iteration(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { 0 };
	struct budget_q q = { .a = NODE_READ_BUDGET / 2, .b = NODE_READ_BUDGET / 2 };
	dfx_start(fx, &o);
	struct hw_conn *c = open_session(fx, DFX_MEMBER, 2);

	dfx_call(fx, budget_same_iteration, &q);
	assert_false(q.pause_a & PAUSE_BUDGET);
	assert_true(q.pause_b & PAUSE_BUDGET);
	assert_true(dfx_await(fx, budget_resumed, NULL));
	dfx_send_ping(c, 77);
	expect_pong(c, 77);

	/* half the budget in each of two iterations: no pause */
	q.a = NODE_READ_BUDGET / 2 + 1;
	dfx_call(fx, budget_one, &q);
	assert_false(q.pause_a & PAUSE_BUDGET);
	assert_true(dfx_await(fx, iter_moved, &q));
	dfx_call(fx, budget_one, &q);
	assert_false(q.pause_a & PAUSE_BUDGET);

	hw_close(c);
	assert_true(dfx_await(fx, no_sessions, NULL));
	dfx_stop(fx);
}

struct produce_q {
	size_t room0, room1;
	bool wait, wakes;
};

static void produce_spend(struct dfx *fx, void *arg)
{
	struct produce_q *q = arg;
	struct session *s = dfx_find(fx, DFX_MEMBER);
	q->room0 = node_produce_room(s);
	node_produce_spent(s, q->room0);
	q->room1 = node_produce_room(s);
	q->wait = s->produce_wait;
	/* an active idle handle: the next poll does not block */
	q->wakes = uv_is_active((uv_handle_t *)&fx->node->produce_idle);
}

static bool produce_resumed(struct dfx *fx, void *arg)
{
	struct session *s = dfx_find(fx, DFX_MEMBER);
	(void)arg;
	return s && !s->produce_wait && node_produce_room(s) == NODE_PRODUCE_BUDGET;
}

/*
 * A session that produced NODE_PRODUCE_BUDGET bytes of records in one loop
 * iteration may produce nothing more in it (it waits), and the next
 * iteration gives it a fresh budget, without any other event to wake the
 * loop; it still answers.
 */
static void test_session__produce_budget_waits_for_the_next_iteration(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { 0 };
	struct produce_q q;
	dfx_start(fx, &o);
	struct hw_conn *c = open_session(fx, DFX_MEMBER, 2);

	dfx_call(fx, produce_spend, &q);
	assert_true(q.room0 > 0 && q.room0 <= NODE_PRODUCE_BUDGET);
	assert_int_equal(q.room1, 0);
	assert_true(q.wait);
	assert_true(q.wakes);
	assert_true(dfx_await(fx, produce_resumed, NULL));
	dfx_send_ping(c, 78);
	expect_pong(c, 78);

	hw_close(c);
	assert_true(dfx_await(fx, no_sessions, NULL));
	dfx_stop(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_session__silent_peer_is_closed_after_45_s),
		T(test_session__peer_trickling_one_frame_is_closed_after_45_s),
		T(test_session__peer_that_never_reads_is_paused_then_closed),
		T(test_session__final_bye_from_a_configured_peer_stops_redialling),
		T(test_session__closing_gives_up_on_an_unread_bye_after_10_s),
		T(test_node__stop_does_not_wait_for_a_bye_a_peer_does_not_read),
		T(test_session__read_budget_pauses_for_one_loop_iteration),
		T(test_session__produce_budget_waits_for_the_next_iteration),
#undef T
	};
	signal(SIGPIPE, SIG_IGN);
	if (proto_init())
		return 2;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
