/*
 * daemon_util.h - helpers shared by the tests of agorad's session and
 * ingest logic (daemon_handshake_test.c, daemon_session_test.c,
 * daemon_ingest_test.c; node/session.c, ingest.c, invite.c, jobs.c,
 * view.c, peers.c, pending.c) under a fake clock and fake store jobs.
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
 * Every function here asserts (cmocka); include cmocka.h before it.
 */
#ifndef AGORA_TESTS_NODE_DAEMON_UTIL_H
#define AGORA_TESTS_NODE_DAEMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon_fx.h"

#define MSG(x) AGORA__WIRE__MESSAGE__MSG_##x

/* cmocka set-up and tear-down of every test: a zeroed struct dfx in
 * *state; a node still running at the tear-down (a test failed half way)
 * has its log printed, then is stopped. */
int setup(void **state);
int teardown(void **state);

const uint8_t *pk(struct dfx *fx, int who);
/* The node's Hello: its key, and the alliance among those it names. */
void expect_node_hello(struct dfx *fx, struct hw_conn *c);
/* A Digest of the alliance (the node opening an exchange). */
void expect_digest(struct dfx *fx, struct hw_conn *c);
void expect_pong(struct hw_conn *c, uint64_t nonce);
/* A member's session up to both Hellos: version 1 (the node, accepting,
 * then opens no exchange of its own) or 2 (it opens one: a Digest). */
struct hw_conn *open_session(struct dfx *fx, int who, uint32_t version);
/* Bytes the node has sent that this side has not read. */
int pending_in(struct hw_conn *c);

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

/* (loop thread, through dfx_await) Does the session show *arg? */
bool sess_is(struct dfx *fx, void *arg);
/* The session reaches the state (the loop decides; no fixed wait). */
void await_session(struct dfx *fx, const struct sess_is *want);
/* (loop thread, through dfx_await) The node holds no session. */
bool no_sessions(struct dfx *fx, void *arg);

#endif
