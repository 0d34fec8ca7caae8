/*
 * daemon_handshake_test.c - agorad's sessions from the TCP accept to OPEN
 * or to a refusal (node/session.c, invite.c, jobs.c, peers.c): a member's
 * handshake, one that stalls, keys refused (unknown, revoked), and a
 * stranger's Redeem on its session while an invite is open: the redeem
 * job admits, says the code was used, fails, or never comes.
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
#undef T
	};
	signal(SIGPIPE, SIG_IGN);
	if (proto_init())
		return 2;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
