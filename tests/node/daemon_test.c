/*
 * daemon_test.c - agorad's session and ingest logic (node/session.c,
 * ingest.c, invite.c, jobs.c, view.c, peers.c, pending.c) under a fake clock and
 * fake store jobs: each session state transition, a Redeem on a session,
 * and a store job that fails.
 *
 * Each test starts a real node on its own loop thread (daemon_fx.h), on a
 * data directory made with the storage API: the node's key founded the
 * alliance, DFX_MEMBER and DFX_MEMBER2 are admitted, DFX_REVOKED was
 * admitted and revoked, DFX_STRANGER is admitted nowhere.  The test thread
 * is the peer, speaking the real protocol through hostile_wire (Noise XX,
 * framing, wire messages).  Timeouts are the node's own 1-second tick
 * reading the fake clock: the test moves the clock and makes the tick run
 * (dfx_tick); "not before" is a tick at the deadline itself.  Jobs run
 * only when the test runs them, or fail when it says so.
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

#include "daemon_fx.h"

#if defined(__SANITIZE_ADDRESS__)
#define DT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DT_ASAN 1
#endif
#endif

#define MSG(x) AGORA__WIRE__MESSAGE__MSG_##x

/* ------------------------------------------------------------ helpers */

static int setup(void **state)
{
	*state = calloc(1, sizeof(struct dfx));
	return *state ? 0 : -1;
}

static void dump_log(struct dfx *fx, void *arg)
{
	(void)arg;
	fflush(fx->logf);
	fprintf(stderr, "---- node log ----\n%s------------------\n", fx->logbuf ? fx->logbuf : "");
}

/* A test that reached its end stopped its node itself; one still running
 * here failed half way: show what the node said. */
static int teardown(void **state)
{
	struct dfx *fx = *state;
	if (fx->running && !getenv("DAEMON_TEST_LOG"))
		dfx_call(fx, dump_log, NULL);
	dfx_stop(fx);
	free(fx);
	return 0;
}

static const uint8_t *pk(struct dfx *fx, int who)
{
	return fx->keys[who]->pk;
}

/* The node's Hello: its key, and the alliance among those it names. */
static void expect_node_hello(struct dfx *fx, struct hw_conn *c)
{
	Agora__Wire__Message *m = dfx_expect(c, MSG(HELLO));
	assert_int_equal(m->hello->node_key.len, 32);
	assert_memory_equal(m->hello->node_key.data, pk(fx, DFX_NODE), 32);
	assert_int_equal(m->hello->n_alliances, 1);
	assert_memory_equal(m->hello->alliances[0].data, fx->alliance, 32);
	agora__wire__message__free_unpacked(m, NULL);
}

static void expect_digest(struct dfx *fx, struct hw_conn *c)
{
	Agora__Wire__Message *m = dfx_expect(c, MSG(DIGEST));
	assert_memory_equal(m->digest->alliance.data, fx->alliance, 32);
	agora__wire__message__free_unpacked(m, NULL);
}

static void expect_pong(struct hw_conn *c, uint64_t nonce)
{
	Agora__Wire__Message *m = dfx_expect(c, MSG(PONG));
	assert_int_equal(m->pong->nonce, nonce);
	agora__wire__message__free_unpacked(m, NULL);
}

/* A member's session up to both Hellos: version 1 (the node, accepting,
 * then opens no exchange of its own) or 2 (it opens one: a Digest). */
static struct hw_conn *open_session(struct dfx *fx, int who, uint32_t version)
{
	struct hw_conn *c = dfx_connect(fx, who);
	dfx_send_hello(c, fx->keys[who], version);
	expect_node_hello(fx, c);
	if (version >= 2)
		expect_digest(fx, c);
	return c;
}

/* Bytes the node has sent that this side has not read. */
static int pending_in(struct hw_conn *c)
{
	int n = -1;
	assert_int_equal(ioctl(c->fd, FIONREAD, &n), 0);
	return n + (int)(c->rlen - c->roff);
}

/* What a session must show (the fields not asked for are not checked). */
struct sess_is {
	int who;                   /* as dfx_find */
	enum session_state state;
	unsigned pause;            /* all of these set */
	bool check_sync;
	enum sync_state sync;
	bool check_unread;
	int unread;                /* bytes waiting unread in the node's kernel buffer */
	size_t parked;             /* > 0: stash + unread hold exactly this many bytes */
	bool read_some;            /* it has read bytes */
};

/* (loop thread, through dfx_await) */
static bool sess_is(struct dfx *fx, void *arg)
{
	const struct sess_is *w = arg;
	struct session *s = dfx_find(fx, w->who);
	if (!s || s->state != w->state || (s->pause & w->pause) != w->pause)
		return false;
	if (w->check_sync && sync_state(&s->sync) != w->sync)
		return false;
	if (w->read_some && !s->bytes_in)
		return false;
	int unread = dfx_unread(s);
	if (w->check_unread && unread != w->unread)
		return false;
	return !w->parked || (unread >= 0 && s->stash_len + (size_t)unread == w->parked);
}

/* The session reaches the state (the loop decides; no fixed wait). */
static void await_session(struct dfx *fx, const struct sess_is *want)
{
	if (!dfx_await(fx, sess_is, (void *)want)) {
		struct dfx_sess s;
		dfx_session(fx, want->who, &s);
		fail_msg("session of %d: found %d state %d pause %#x sync %d unread %d stash %zu",
		         want->who, s.found, s.state, s.pause, s.sync, s.unread, s.stash_len);
	}
}

static bool no_sessions(struct dfx *fx, void *arg)
{
	(void)arg;
	return fx->node->n_sessions == 0;
}

/* ------------------------------------------------- handshake -> OPEN */

/*
 * An active member's handshake ends in OPEN: the node sends its Hello
 * (naming the alliance) and, once it has read ours, opens the exchange.
 * Without an agora.conf entry the member gets a transient peer, gone
 * with its session (DESIGN 10).
 */
static void test_session__member_without_peer_entry_is_accepted_and_opens(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { 0 };
	struct dfx_sess s;
	dfx_start(fx, &o);

	struct hw_conn *c = open_session(fx, DFX_MEMBER, 2);
	dfx_session(fx, DFX_MEMBER, &s);
	assert_true(s.found);
	assert_int_equal(s.state, SESSION_OPEN);
	assert_int_equal(s.sync, SYNC_STATE_OPEN);
	assert_true(s.has_peer);
	assert_true(s.transient);
	assert_int_equal(s.peer_state, PEER_CONNECTED);

	hw_close(c);
	assert_true(dfx_await(fx, no_sessions, NULL));
	dfx_stop(fx);
}

static void test_session__member_with_peer_entry_opens_on_its_configured_peer(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { .peer_entry = true };
	struct dfx_sess s;
	dfx_start(fx, &o);

	open_session(fx, DFX_MEMBER, 2);
	dfx_session(fx, DFX_MEMBER, &s);
	assert_true(s.found);
	assert_int_equal(s.state, SESSION_OPEN);
	assert_true(s.has_peer);
	assert_false(s.transient);   /* the [peer] of agora.conf */
	assert_int_equal(s.peer_state, PEER_CONNECTED);
	dfx_stop(fx);
}

/* --------------------------------------------- handshake -> timeout */

/* A peer that sends the first handshake message and nothing more is
 * closed once more than 10 s passed on the node's clock, not at 10 s. */
static void test_session__stalled_handshake_closes_after_10_s_not_before(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { 0 };
	struct noise_agora ag;
	uint8_t msg[NOISE_MSG_MAX], fr[NOISE_MSG_MAX + 2];
	size_t len, flen;
	dfx_start(fx, &o);

	int fd = dfx_dial(fx);
	assert_int_equal(noise_agora_init(&ag, NOISE_INITIATOR, pk(fx, DFX_MEMBER),
	                                  fx->keys[DFX_MEMBER]->sk, NULL), 0);
	assert_int_equal(noise_agora_write(msg, &len, sizeof(msg), &ag), 0);
	assert_int_equal(frame_wrap(fr, &flen, sizeof(fr), msg, len), 0);
	assert_int_equal(send(fd, fr, flen, MSG_NOSIGNAL), (ssize_t)flen);
	noise_agora_dispose(&ag);
	/* the node read message 1 (and answered it): mid-handshake */
	struct sess_is hs = { .who = -1, .state = SESSION_HANDSHAKE, .read_some = true,
		              .check_unread = true, .unread = 0 };
	await_session(fx, &hs);

	dfx_tick(fx, DFX_MONO0 + NODE_HANDSHAKE_MS);
	struct dfx_sess s;
	dfx_session(fx, -1, &s);
	assert_true(s.found);
	assert_int_equal(s.state, SESSION_HANDSHAKE);

	dfx_tick(fx, DFX_MONO0 + NODE_HANDSHAKE_MS + 1);
	assert_int_equal(hw_await_close_fd(fd, DFX_WAIT_MS), 0);
	close(fd);
	assert_true(dfx_await(fx, no_sessions, NULL));
	dfx_stop(fx);
}

/* --------------------------------------------- handshake -> refused */

/* No invite was ever made: an unknown key gets Bye{NOT_ADMITTED} right
 * after the handshake (no Hello), then the end of the connection. */
static void test_session__unknown_key_without_invites_gets_bye_not_admitted(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { 0 };
	dfx_start(fx, &o);
	struct hw_conn *c = dfx_connect(fx, DFX_STRANGER);
	dfx_expect_bye_eof(c, SYNC_BYE_NOT_ADMITTED);
	assert_true(dfx_await(fx, no_sessions, NULL));
	dfx_stop(fx);
}

static void test_session__revoked_key_gets_bye_revoked(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { 0 };
	dfx_start(fx, &o);
	struct hw_conn *c = dfx_connect(fx, DFX_REVOKED);
	dfx_expect_bye_eof(c, SYNC_BYE_REVOKED);
	dfx_stop(fx);
}

/* ------------------------------------------- handshake -> REDEEM -> ... */

/* A stranger while an invite is open: REDEEM.  It sends its Redeem and at
 * once its Hello (and a Ping).  Returns the bytes sent after the Redeem. */
static size_t redeem_and_hello(struct dfx *fx, struct hw_conn *c, const uint8_t token[32])
{
	struct sess_is r = { .who = -1, .state = SESSION_REDEEM, .check_sync = true,
		             .sync = SYNC_STATE_AWAIT_REDEEM, .check_unread = true };
	await_session(fx, &r);
	dfx_send_redeem(c, fx->alliance, token);
	uint64_t before = c->bytes_out;
	dfx_send_hello(c, fx->keys[DFX_STRANGER], 2);
	dfx_send_ping(c, 7);
	return (size_t)(c->bytes_out - before);
}

/*
 * The redemption is a job; until it is done the session reads nothing
 * (the Hello and Ping the peer sent after its Redeem stay parked: in the
 * session's stash or unread in the kernel) and the node sends nothing.
 * When the job has run, the node sends its Hello naming the alliance, and
 * then reads the parked Hello (it opens its exchange: a Digest) and the
 * Ping (a Pong): nothing sent before the job finished was lost.
 */
static void test_session__redeem_job_admits_then_reads_the_hello_sent_meanwhile(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { .invite = true };
	dfx_start(fx, &o);
	struct hw_conn *c = dfx_connect(fx, DFX_STRANGER);
	size_t parked = redeem_and_hello(fx, c, fx->token);

	struct job *job = dfx_job_await(fx, "redeem");
	assert_non_null(job);
	struct sess_is pending = { .who = -1, .state = SESSION_REDEEM, .pause = PAUSE_JOB,
		                   .check_sync = true, .sync = SYNC_STATE_REDEEM_PENDING,
		                   .parked = parked };
	await_session(fx, &pending);
	assert_int_equal(pending_in(c), 0);   /* no Hello, no Pong yet */

	dfx_job_run(fx, job);
	expect_node_hello(fx, c);   /* names the alliance: the redeemer is a member now */
	expect_digest(fx, c);       /* our Hello, read after the job */
	expect_pong(c, 7);
	struct dfx_sess s;
	dfx_session(fx, DFX_STRANGER, &s);
	assert_true(s.found);
	assert_int_equal(s.state, SESSION_OPEN);
	assert_int_equal(s.pause, 0);
	dfx_stop(fx);
}

/* A code used already: the job says so, Bye{INVITE_USED}, no Hello. */
static void test_session__used_invite_gets_bye_invite_used(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { .invite_used = true };
	dfx_start(fx, &o);
	struct hw_conn *c = dfx_connect(fx, DFX_STRANGER);
	redeem_and_hello(fx, c, fx->token);
	struct dfx_sess s;
	dfx_session(fx, -1, &s);   /* no invite open: 3 s, to be told why */
	assert_int_equal(s.redeem_until_ms, s.opened_ms + NODE_REDEEM_LATE_MS);
	struct job *job = dfx_job_await(fx, "redeem");
	assert_non_null(job);
	dfx_job_run(fx, job);
	dfx_expect_bye_eof(c, SYNC_BYE_INVITE_USED);
	dfx_stop(fx);
}

/*
 * A joiner whose earlier redemption admitted it, but whose session ended
 * before it heard so, redeems its used code again while the view has not
 * taken its admission in yet (a busy coordinator: bench_mesh at 12,000
 * feeds lost joins this way, each for good, as INVITE_USED is final).  It
 * is let in as the member it is: our Hello, not a Bye.
 */
static void test_session__used_invite_of_an_admitted_redeemer_opens_the_session(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { .invite = true };
	dfx_start(fx, &o);
	struct hw_conn *c = dfx_connect(fx, DFX_STRANGER);
	redeem_and_hello(fx, c, fx->token);
	struct job *job = dfx_job_await(fx, "redeem");
	assert_non_null(job);
	/* what the earlier redemption did: the code used, the key admitted */
	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Admission a = AGORA__ADMISSION__INIT;
	struct proto_error err;
	a.has_member = a.has_role = 1;
	a.member.len = 32;
	a.member.data = fx->keys[DFX_STRANGER]->pk;
	a.name = "Newtown";
	a.country = "DK";
	a.role = AGORA__ROLE__ROLE_MEMBER;
	rec.body_case = AGORA__RECORD__BODY_ADMISSION;
	rec.admission = &a;
	assert_int_equal(store_invite_use(fx->node->store, fx->token, fx->alliance, fx->wall0, NULL), 0);
	assert_int_equal(store_publish(fx->node->store, fx->keys[DFX_NODE], fx->alliance, &rec,
	                               fx->wall0, NULL, NULL, NULL, &err), 0);
	dfx_job_run(fx, job);
	expect_node_hello(fx, c);
	struct dfx_sess s;
	dfx_session(fx, DFX_STRANGER, &s);
	assert_true(s.found);
	assert_int_equal(s.state, SESSION_OPEN);
	dfx_stop(fx);
}

/* The redemption job fails without running (as when it cannot be
 * queued): a Bye that says why, then the end, and no Hello.  The code was
 * not used, so the Bye is not a final one: the joiner backs off and tries
 * again (PROTOCOL.md 4.5).  (Before: code 0 and no reason at all, and
 * "(null)" in the log.) */
static void test_session__failed_redeem_job_gets_bye_and_no_hello(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { .invite = true };
	dfx_start(fx, &o);
	struct hw_conn *c = dfx_connect(fx, DFX_STRANGER);
	redeem_and_hello(fx, c, fx->token);
	struct job *job = dfx_job_await(fx, "redeem");
	assert_non_null(job);
	dfx_job_fail(fx, job, STORE_E_LMDB);

	Agora__Wire__Message *m = dfx_expect(c, MSG(BYE));
	assert_int_equal(m->bye->has_code ? m->bye->code : 0, SYNC_BYE_UNSPECIFIED);
	assert_non_null(m->bye->reason);
	assert_non_null(strstr(m->bye->reason, "try again"));
	agora__wire__message__free_unpacked(m, NULL);
	dfx_expect_eof(c);
	dfx_stop(fx);
}

/* No Redeem by the deadline (10 s from the TCP accept while an invite is
 * open): Bye{NOT_ADMITTED} after it, not at it. */
static void test_session__no_redeem_by_the_deadline_is_refused_after_it(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { .invite = true };
	struct dfx_sess s;
	dfx_start(fx, &o);
	struct hw_conn *c = dfx_connect(fx, DFX_STRANGER);
	struct sess_is r = { .who = -1, .state = SESSION_REDEEM, .check_unread = true };
	await_session(fx, &r);
	dfx_session(fx, -1, &s);
	assert_int_equal(s.redeem_until_ms, s.opened_ms + NODE_HANDSHAKE_MS);

	dfx_tick(fx, s.redeem_until_ms);
	await_session(fx, &r);
	assert_int_equal(pending_in(c), 0);
	dfx_tick(fx, s.redeem_until_ms + 1);
	dfx_expect_bye_eof(c, SYNC_BYE_NOT_ADMITTED);
	dfx_stop(fx);
}

/* ------------------------------------------- OPEN -> records -> jobs */

struct head_is {
	int who;
	uint64_t seq;
};

static bool view_head_is(struct dfx *fx, void *arg)
{
	struct head_is *h = arg;
	struct node *n = fx->node;
	for (size_t i = 0; i < n->local.n; i++) {
		if (memcmp(n->local.v[i].alliance, fx->alliance, 32))
			continue;
		for (size_t k = 0; k < n->local.v[i].n; k++)
			if (!memcmp(n->local.v[i].heads[k].author, fx->keys[h->who]->pk, 32))
				return n->local.v[i].heads[k].seq == h->seq;
	}
	return h->seq == 0;
}

static uint8_t *member_record(struct dfx *fx, int who, size_t *len)
{
	return hw_measure(fx->keys[who], fx->alliance, 1, NULL, hw_wall_ms() - 1000,
	                  "Wetlands at the fjord", len);
}

/*
 * A member sends Records; the ingest job fails with ENOSPC.  The node
 * logs "No space left on device" and stops reading from every session:
 * a Ping on either session stays unread in the kernel and nothing comes
 * back (no Pong, no Ack).  At the disk back-off (5 s on the node's clock,
 * not a millisecond before) it reads again and re-runs the exchange: each
 * session gets a Digest, then its Pong.  The records, sent again, are
 * stored, and no Ack is sent for them (no loop of Acks and resends).
 */
static void test_ingest__disk_full_stops_reading_everywhere_then_resyncs(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { 0 };
	size_t len;
	dfx_start(fx, &o);
	struct hw_conn *a = open_session(fx, DFX_MEMBER, 1);
	struct hw_conn *b = open_session(fx, DFX_MEMBER2, 1);
	struct sess_is open_b = { .who = DFX_MEMBER2, .state = SESSION_OPEN, .check_sync = true,
		                  .sync = SYNC_STATE_OPEN, .check_unread = true };
	await_session(fx, &open_b);

	uint8_t *env = member_record(fx, DFX_MEMBER, &len);
	hw_send_records(a, fx->alliance, pk(fx, DFX_MEMBER), 1, &env, &len, 1);
	struct job *job = dfx_job_await(fx, "ingest");
	assert_non_null(job);
	dfx_job_fail(fx, job, -ENOSPC);
	assert_true(dfx_logged(fx, "No space left on device"));

	uint64_t a0 = a->bytes_out, b0 = b->bytes_out;
	dfx_send_ping(a, 1);
	dfx_send_ping(b, 2);
	struct sess_is parked_a = { .who = DFX_MEMBER, .state = SESSION_OPEN, .pause = PAUSE_DISK,
		                    .check_unread = true, .unread = (int)(a->bytes_out - a0) };
	struct sess_is parked_b = { .who = DFX_MEMBER2, .state = SESSION_OPEN, .pause = PAUSE_DISK,
		                    .check_unread = true, .unread = (int)(b->bytes_out - b0) };
	await_session(fx, &parked_a);
	await_session(fx, &parked_b);
	assert_int_equal(pending_in(a), 0);
	assert_int_equal(pending_in(b), 0);

	dfx_tick(fx, DFX_MONO0 + NODE_DISKFULL_MS - 1);
	await_session(fx, &parked_a);
	await_session(fx, &parked_b);
	assert_int_equal(pending_in(a), 0);

	dfx_tick(fx, DFX_MONO0 + NODE_DISKFULL_MS);
	expect_digest(fx, a);
	expect_pong(a, 1);
	expect_digest(fx, b);
	expect_pong(b, 2);

	hw_send_records(a, fx->alliance, pk(fx, DFX_MEMBER), 1, &env, &len, 1);
	job = dfx_job_await(fx, "ingest");
	assert_non_null(job);
	dfx_job_run(fx, job);
	struct head_is h = { DFX_MEMBER, 1 };
	assert_true(dfx_await(fx, view_head_is, &h));
	dfx_send_ping(a, 3);
	expect_pong(a, 3);   /* the next message: no Ack came before it */
	free(env);
	dfx_stop(fx);
}

static void send_empty_digest(struct dfx *fx, struct hw_conn *c)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Digest d = AGORA__WIRE__DIGEST__INIT;
	Agora__Wire__Range r = AGORA__WIRE__RANGE__INIT;
	uint8_t dig[32];
	sync_digest(dig, NULL, 0);
	r.has_depth = r.has_digest = r.has_count = true;
	r.digest.data = dig;
	r.digest.len = 32;
	d.has_alliance = true;
	d.alliance.data = fx->alliance;
	d.alliance.len = 32;
	d.root = &r;
	m.msg_case = MSG(DIGEST);
	m.digest = &d;
	hw_send_msg(c, &m);
}

/*
 * A job that stores a member's record updates the view (the alliance's
 * vector holds the new head) and every session learns it: a peer that
 * told the node it holds nothing (an exchange with count 0) is offered
 * the record; the peer that sent it is not sent it back.
 */
static void ra_records_fn(struct dfx *fx, void *arg)
{
	*(uint64_t *)arg = fx->node->ra_records;
}

static void test_ingest__stored_records_update_the_view_and_are_offered(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { 0 };
	size_t len;
	dfx_start(fx, &o);

	struct hw_conn *b = open_session(fx, DFX_MEMBER2, 1);
	send_empty_digest(fx, b);
	Agora__Wire__Message *m = dfx_expect(b, MSG(RANGES));
	agora__wire__message__free_unpacked(m, NULL);
	m = dfx_expect(b, MSG(RECORDS));   /* the coordinator's feed, governance first */
	assert_memory_equal(m->records->author.data, pk(fx, DFX_NODE), 32);
	agora__wire__message__free_unpacked(m, NULL);

	struct hw_conn *a = open_session(fx, DFX_MEMBER, 1);
	uint8_t *env = member_record(fx, DFX_MEMBER, &len);
	hw_send_records(a, fx->alliance, pk(fx, DFX_MEMBER), 1, &env, &len, 1);
	struct job *job = dfx_job_await(fx, "ingest");
	assert_non_null(job);
	struct head_is h = { DFX_MEMBER, 0 };
	assert_true(dfx_await(fx, view_head_is, &h));   /* not before the job ran */
	dfx_job_run(fx, job);
	h.seq = 1;
	assert_true(dfx_await(fx, view_head_is, &h));

	m = dfx_expect(b, MSG(RECORDS));
	assert_memory_equal(m->records->author.data, pk(fx, DFX_MEMBER), 32);
	assert_int_equal(m->records->first_seq, 1);
	assert_int_equal(m->records->n_envelopes, 1);
	assert_int_equal(m->records->envelopes[0].len, len);
	assert_memory_equal(m->records->envelopes[0].data, env, len);
	agora__wire__message__free_unpacked(m, NULL);
	dfx_send_ping(a, 9);
	expect_pong(a, 9);   /* nothing came back to the sender first */
	/* b's session read what it streamed off the loop (node/readahead.c):
	 * the coordinator's feed, then the member's record */
	uint64_t ra = 0;
	dfx_call(fx, ra_records_fn, &ra);
	assert_true(ra >= 2);
	free(env);
	dfx_stop(fx);
}

/* ------------------------------------------- governance -> the view */

struct view_at {
	uint64_t wseq;
	uint8_t held[1][32];
	size_t n_held;
};

static void view_at_read(struct dfx *fx, void *arg)
{
	struct view_at *v = arg;
	v->wseq = fx->node->view_wseq;
	v->n_held = fx->node->local.n;
	if (v->n_held == 1)
		memcpy(v->held[0], fx->node->local.v[0].alliance, 32);
}

static void refresh_now(struct dfx *fx, void *arg)
{
	(void)arg;
	view_refresh(fx->node);
}

struct active_is {
	int who;
	int want;      /* view_member_active's answer */
};

static bool view_active_is(struct dfx *fx, void *arg)
{
	struct active_is *a = arg;
	return view_member_active(fx->node, fx->alliance, fx->keys[a->who]->pk,
	                          dfx_now(fx)) == a->want;
}

static const struct view_member_change *change_of(struct dfx *fx, const struct view_delta *d,
                                                  int who)
{
	for (size_t i = 0; i < d->n_changes; i++)
		if (!memcmp(d->changes[i].m.key, fx->keys[who]->pk, 32))
			return &d->changes[i];
	fail_msg("no change for key %d", who);
	return NULL;
}

/*
 * An Admission and a Revocation reach the view as the two members they
 * name, each with its feed's head, not as the whole alliance read again
 * (heads of every feed, every member): the delta reader names no
 * alliance, and exactly those two keys.  Applied, the revoked member's
 * head is cut at the revocation's seq (it had 2 records, revoked at 1),
 * its session is closed with Bye{REVOKED}, and the admitted key, a
 * stranger before, opens a session.
 */
static void test_view__admission_and_revocation_change_their_members_not_the_alliance(
	void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { 0 };
	size_t len[2];
	uint8_t *env[2], id1[32];
	dfx_start(fx, &o);

	struct hw_conn *a = open_session(fx, DFX_MEMBER, 1);
	env[0] = member_record(fx, DFX_MEMBER, &len[0]);
	proto_record_id(id1, env[0], len[0]);
	env[1] = hw_measure(fx->keys[DFX_MEMBER], fx->alliance, 2, id1, hw_wall_ms() - 900,
	                    "Dikes along the harbour", &len[1]);
	hw_send_records(a, fx->alliance, pk(fx, DFX_MEMBER), 1, env, len, 2);
	struct job *job = dfx_job_await(fx, "ingest");
	assert_non_null(job);
	dfx_job_run(fx, job);
	struct head_is h = { DFX_MEMBER, 2 };
	assert_true(dfx_await(fx, view_head_is, &h));

	dfx_admit(fx, DFX_STRANGER, "Kolding");
	dfx_revoke(fx, DFX_MEMBER, 1);

	/* what the delta reader makes of it, read as a job would */
	struct view_at at;
	struct view_delta d;
	dfx_call(fx, view_at_read, &at);
	assert_int_equal(at.n_held, 1);
	assert_int_equal(view_delta_read(fx->node, at.wseq, (const uint8_t (*)[32])at.held,
	                                 at.n_held, &d), 0);
	assert_true(d.valid);
	assert_false(d.whole);
	assert_int_equal(d.n_alliances, 0);
	assert_int_equal(d.n_changes, 2);
	const struct view_member_change *in = change_of(fx, &d, DFX_STRANGER);
	assert_true(in->listed);
	assert_int_equal(in->m.role, AGORA__ROLE__ROLE_MEMBER);
	assert_false(in->m.revoked);
	assert_false(in->has_head);
	const struct view_member_change *out = change_of(fx, &d, DFX_MEMBER);
	assert_true(out->listed && out->m.revoked);
	assert_int_equal(out->m.last_seq, 1);
	assert_true(out->has_head);
	assert_int_equal(out->h.seq, 1);
	assert_memory_equal(out->h.id, id1, 32);
	view_delta_free(&d);

	/* the node's own refresh applies it */
	dfx_call(fx, refresh_now, NULL);
	assert_non_null(job = dfx_job_await(fx, "refresh"));
	dfx_job_run(fx, job);
	h.seq = 1;
	assert_true(dfx_await(fx, view_head_is, &h));
	struct active_is revoked = { DFX_MEMBER, STORE_E_REVOKED }, admitted = { DFX_STRANGER, 0 };
	assert_true(dfx_await(fx, view_active_is, &revoked));
	assert_true(dfx_await(fx, view_active_is, &admitted));
	dfx_tick(fx, DFX_MONO0 + 1000);
	dfx_expect_bye_eof(a, SYNC_BYE_REVOKED);
	open_session(fx, DFX_STRANGER, 1);
	free(env[0]);
	free(env[1]);
	dfx_stop(fx);
}

/*
 * An ingest job frees the records it stored in its work step, off the
 * loop: `done`, on the loop, has only the outcomes left, and still
 * applies them (the head moves, the sender gets no Ack back).
 */
static void test_ingest__job_frees_its_records_off_the_loop(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { 0 };
	size_t len;
	dfx_start(fx, &o);
	struct hw_conn *a = open_session(fx, DFX_MEMBER, 1);
	uint8_t *env = member_record(fx, DFX_MEMBER, &len);
	hw_send_records(a, fx->alliance, pk(fx, DFX_MEMBER), 1, &env, &len, 1);
	struct job *job = dfx_job_await(fx, "ingest");
	assert_non_null(job);
	assert_int_equal(ingest_job_records(job), 1);   /* held by the test: not running */
	job_run(job);   /* the threadpool's half, on this thread */
	assert_int_equal(ingest_job_records(job), 0);
	dfx_job_done(fx, job);
	struct head_is h = { DFX_MEMBER, 1 };
	assert_true(dfx_await(fx, view_head_is, &h));
	dfx_send_ping(a, 5);
	expect_pong(a, 5);   /* stored as one batch: nothing else came back first */
	free(env);
	dfx_stop(fx);
}

/* A job on attachment files (blob lane), held by the test as a slow
 * write of a 20 MB file would hold it. */
static void blob_job_work(struct job *job)
{
	(void)job;
}

static void blob_job_done(struct job *job)
{
	(void)job;
}

static const struct job_ops blob_job_ops = {
	.name = "test-blob", .lane = JOB_LANE_BLOB, .work = blob_job_work, .done = blob_job_done,
};

static void submit_blob_job(struct dfx *fx, void *arg)
{
	struct job *job = calloc(1, sizeof(*job));
	(void)arg;
	assert_non_null(job);
	job->ops = &blob_job_ops;
	job_submit(fx->node, job);
}

/*
 * Records are not stored behind attachment files (issue 15): while a job
 * of the blob lane runs (a fetched chunk's write, a whole file's hash
 * and rename), the ingest job of records that arrive starts beside it,
 * and the records are stored before that job ends.
 */
static void test_ingest__records_are_stored_while_a_blob_job_runs(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { 0 };
	size_t len;
	dfx_start(fx, &o);
	struct hw_conn *a = open_session(fx, DFX_MEMBER, 1);
	dfx_call(fx, submit_blob_job, NULL);
	struct job *blob = dfx_job_await(fx, "test-blob");
	assert_non_null(blob);   /* held: running, as far as the node knows */
	uint8_t *env = member_record(fx, DFX_MEMBER, &len);
	hw_send_records(a, fx->alliance, pk(fx, DFX_MEMBER), 1, &env, &len, 1);
	struct job *ingest = dfx_job_await(fx, "ingest");
	assert_non_null(ingest);   /* not queued behind the blob job */
	dfx_job_run(fx, ingest);
	struct head_is h = { DFX_MEMBER, 1 };
	assert_true(dfx_await(fx, view_head_is, &h));
	dfx_job_run(fx, blob);
	free(env);
	dfx_stop(fx);
}

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

/* ------------------------------------------- records signed at join */

struct own_head {
	uint64_t seq;
};

/* (loop thread) this node's head in the alliance, as the view has it */
static void read_own_head(struct dfx *fx, void *arg)
{
	struct own_head *h = arg;
	h->seq = 0;
	for (size_t i = 0; i < fx->node->local.n; i++) {
		const struct sync_lvec *v = &fx->node->local.v[i];
		if (memcmp(v->alliance, fx->alliance, 32))
			continue;
		for (size_t k = 0; k < v->n; k++)
			if (!memcmp(v->heads[k].author, fx->keys[DFX_NODE]->pk, 32))
				h->seq = v->heads[k].seq;
	}
}

/*
 * An Endpoint signed in advance (`agora join`) waits in the store; once
 * the view holds the alliance and the node's key is active there, a job
 * stores it, and the view's own head moves on, as after `agora publish`,
 * so every session of the alliance offers it.
 */
static void test_pending__signed_records_are_stored_once_the_key_is_active(void **state)
{
	struct dfx *fx = *state;
	struct dfx_opts o = { .pending = true };
	struct own_head before, after;
	struct store_endpoint ep;
	struct store_txn *t;
	dfx_start(fx, &o);

	struct job *job = dfx_job_await(fx, "pending");
	assert_non_null(job);
	dfx_call(fx, read_own_head, &before);
	assert_true(before.seq > 0);
	dfx_job_run(fx, job);
	dfx_call(fx, read_own_head, &after);
	assert_int_equal(after.seq, before.seq + 1);
	assert_true(dfx_logged(fx, "signed at join"));
	assert_int_equal(store_txn_begin(fx->node->store, &t), 0);
	assert_int_equal(store_endpoint_get(t, fx->alliance, fx->keys[DFX_NODE]->pk, &ep), 0);
	store_txn_end(t);
	assert_int_equal(ep.seq, after.seq);
	assert_string_equal(ep.addr[0], "odense.example:7420");
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
		T(test_session__member_without_peer_entry_is_accepted_and_opens),
		T(test_session__member_with_peer_entry_opens_on_its_configured_peer),
		T(test_session__stalled_handshake_closes_after_10_s_not_before),
		T(test_session__unknown_key_without_invites_gets_bye_not_admitted),
		T(test_session__revoked_key_gets_bye_revoked),
		T(test_session__redeem_job_admits_then_reads_the_hello_sent_meanwhile),
		T(test_session__used_invite_gets_bye_invite_used),
		T(test_session__used_invite_of_an_admitted_redeemer_opens_the_session),
		T(test_session__failed_redeem_job_gets_bye_and_no_hello),
		T(test_session__no_redeem_by_the_deadline_is_refused_after_it),
		T(test_ingest__disk_full_stops_reading_everywhere_then_resyncs),
		T(test_ingest__stored_records_update_the_view_and_are_offered),
		T(test_view__admission_and_revocation_change_their_members_not_the_alliance),
		T(test_ingest__job_frees_its_records_off_the_loop),
	T(test_ingest__records_are_stored_while_a_blob_job_runs),
		T(test_session__silent_peer_is_closed_after_45_s),
		T(test_session__peer_trickling_one_frame_is_closed_after_45_s),
		T(test_session__peer_that_never_reads_is_paused_then_closed),
		T(test_session__final_bye_from_a_configured_peer_stops_redialling),
		T(test_session__closing_gives_up_on_an_unread_bye_after_10_s),
		T(test_node__stop_does_not_wait_for_a_bye_a_peer_does_not_read),
		T(test_pending__signed_records_are_stored_once_the_key_is_active),
		T(test_session__read_budget_pauses_for_one_loop_iteration),
		T(test_session__produce_budget_waits_for_the_next_iteration),
#undef T
	};
	signal(SIGPIPE, SIG_IGN);
	if (proto_init())
		return 2;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
