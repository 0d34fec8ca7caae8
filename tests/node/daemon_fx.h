/*
 * daemon_fx.h - test fixture for the daemon tests (daemon_handshake_test.c,
 * daemon_session_test.c, daemon_ingest_test.c): a real node (node_new) on
 * its own libuv loop in a second thread, with a fake clock and a job
 * runner the test drives (daemon_fx.c), and peers spoken to through
 * hostile_wire (daemon_fx_peer.c).
 *
 * Threads.  The node's loop runs in the fixture's loop thread; the test
 * (cmocka) thread never touches the node's memory directly.  It reaches
 * it only through dfx_call(), which runs a function on the loop thread
 * (a uv_async_t wakes the loop; the call is queued under a mutex and the
 * test thread waits on a condition variable until it returned).  Calls
 * run in the order made, each to its end, between two of the loop's own
 * callbacks, so what a call reads is the node as one callback left it.
 *
 * Jobs.  The node's job runner (node_env.queue) does not run anything: it
 * appends the job to a list under the mutex.  The test takes a job from
 * it, and either runs the job's off-loop half (job_run) on the test
 * thread, as libuv's threadpool would, or sets job->rc to make it fail;
 * then job_done() runs on the loop thread through dfx_call().  The node
 * has at most one job out at a time per lane (jobs.c, enum job_lane), so
 * while the test holds one no other job of its lane starts.
 *
 * Clock.  node_env.mono_ms / wall_ms read two atomics the test sets
 * (wall moves with mono, from the real wall clock at set-up, so records
 * signed now are not "from the future").  The node's 1-second tick is a
 * real uv timer: dfx_tick() moves the clock and makes a tick run at once
 * (and waits for it), so a timeout is seen in milliseconds of real time.
 *
 * Every function asserts (cmocka) or exits on a broken set-up; waits end
 * at a deadline of real time (DFX_WAIT_MS), never a fixed sleep.
 */
#ifndef AGORA_TESTS_NODE_DAEMON_FX_H
#define AGORA_TESTS_NODE_DAEMON_FX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "node/node_int.h"
#include "hostile_wire.h"

#define DFX_WAIT_MS 10000     /* deadline for anything awaited (real time) */
#define DFX_MONO0 1000000u    /* the fake monotonic clock at start */
#define DFX_CONNS 4

/* Keys (dfx.keys[i]): the node, members, one revoked, one stranger. */
enum {
	DFX_NODE = 0,     /* the node: founder and coordinator of the alliance */
	DFX_MEMBER,       /* admitted member "Odense" */
	DFX_MEMBER2,      /* admitted member "Aarhus" */
	DFX_REVOKED,      /* admitted, then revoked */
	DFX_STRANGER,     /* admitted nowhere */
	DFX_KEYS,
};

/* What the data directory and configuration hold. */
struct dfx_opts {
	bool peer_entry;        /* [peer] for DFX_MEMBER, accept-only */
	int dial_port;          /* > 0: [peer] for DFX_MEMBER at 127.0.0.1:dial_port */
	bool invite;            /* an invite (token dfx.token) of the alliance */
	bool invite_used;       /* ... already used */
	bool pending;           /* an Endpoint of the node's key, signed in advance
	                           (store_pending_put) at the head of its feed + 1 */
};

struct dfx_call;

struct dfx {
	/* loop thread */
	uv_loop_t loop;
	uv_async_t async;
	uv_thread_t thread;
	bool running;
	struct node *node;
	struct node_log log;
	FILE *logf;                   /* open_memstream: read on the loop thread */
	char *logbuf;
	size_t loglen;
	/* shared, under mu */
	uv_mutex_t mu;
	uv_cond_t cv;
	struct dfx_call *calls, *calls_tail;
	struct job *out[JOB_LANES];   /* handed to the runner, not taken yet */
	struct job *held[JOB_LANES];  /* taken by the test, not done yet */
	bool two_out;                 /* a second job of a lane was handed out meanwhile */
	_Atomic uint64_t mono, wall;
	uint64_t wall0;
	/* test thread */
	char *home;
	int port;                     /* the node's listening port */
	struct proto_key *keys[DFX_KEYS];
	uint8_t alliance[32];
	uint8_t token[32];
	struct hw_conn conns[DFX_CONNS];
	bool conn_used[DFX_CONNS];
};

/* The node's key publishes, in the node's store as another process
 * would (the node learns it at its next refresh): an Admission of who as
 * a member, or a Revocation of who at last_seq. */
void dfx_admit(struct dfx *fx, int who, const char *name);
void dfx_revoke(struct dfx *fx, int who, uint64_t last_seq);

/* Build the data directory, start the node and its loop thread. */
void dfx_start(struct dfx *fx, const struct dfx_opts *opts);
/* Stop the node (jobs still out are cancelled), join the loop thread,
 * assert that uv_loop_close() returns 0, free everything. */
void dfx_stop(struct dfx *fx);

/* Run fn(fx, arg) on the loop thread and wait until it returned. */
void dfx_call(struct dfx *fx, void (*fn)(struct dfx *fx, void *arg), void *arg);
/* Wait until pred(fx, arg), run on the loop thread, is true; false at the
 * deadline. */
bool dfx_await(struct dfx *fx, bool (*pred)(struct dfx *fx, void *arg), void *arg);

/* ------------------------------------------------------------ clock */

uint64_t dfx_now(struct dfx *fx);
/* Set the monotonic clock to mono (the wall clock moves with it), make
 * the node's tick run, and wait until it has. */
void dfx_tick(struct dfx *fx, uint64_t mono);

/* ------------------------------------------------------------- jobs */

/* The next job the node hands out named `name` ("ingest", "redeem", ...),
 * running every other one it hands out before (the "seen" writes); one so
 * named already out in a lane is taken before another lane's.  NULL at
 * the deadline.  The test then owns it until dfx_job_run/_fail. */
struct job *dfx_job_await(struct dfx *fx, const char *name);
/* Run it as the threadpool would: work here, job_done on the loop. */
void dfx_job_run(struct dfx *fx, struct job *job);
/* The loop half alone (job_done), after the test ran job_run itself. */
void dfx_job_done(struct dfx *fx, struct job *job);
/* Make it fail without running: job->rc = rc, then job_done on the loop. */
void dfx_job_fail(struct dfx *fx, struct job *job, int rc);
/* Run every job handed out until none is left. */
void dfx_jobs_drain(struct dfx *fx);

/* ------------------------------------------------------------ peers */

/* A connection with keys[who], handshake done (asserted). */
struct hw_conn *dfx_connect(struct dfx *fx, int who);
/* A bare TCP connection to the node (no handshake): the fd. */
int dfx_dial(struct dfx *fx);
/* Take over an accepted fd (the node dialed us): the Noise responder side. */
struct hw_conn *dfx_accept(struct dfx *fx, int fd, int who);
/* Hello from keys[who], speaking versions 1..max_version, naming no
 * alliance. */
void dfx_send_hello(struct hw_conn *c, const struct proto_key *key, uint32_t max_version);
void dfx_send_ping(struct hw_conn *c, uint64_t nonce);
void dfx_send_redeem(struct hw_conn *c, const uint8_t alliance[32], const uint8_t token[32]);
void dfx_send_bye(struct hw_conn *c, int code, const char *reason);
/* The next message, which must be of type msg_case (asserted); free it
 * with agora__wire__message__free_unpacked. */
Agora__Wire__Message *dfx_expect(struct hw_conn *c, int msg_case);
/* A Bye with this code, then the end of the connection. */
void dfx_expect_bye_eof(struct hw_conn *c, int code);
/* The node closed the connection (reading and dropping what it sent). */
void dfx_expect_eof(struct hw_conn *c);

/* --------------------------------------------------- the node's side */

/* Loop thread only (inside dfx_call or a dfx_await predicate): the open
 * (not closing) session with keys[who]'s key, or with who < 0 the newest
 * session in any state; NULL if none. */
struct session *dfx_find(struct dfx *fx, int who);
/* Loop thread only: bytes the peer sent that wait unread in the kernel. */
int dfx_unread(struct session *s);

/* One session as the loop sees it. */
struct dfx_sess {
	bool found;
	uint64_t id;
	enum session_state state;
	unsigned pause;
	enum sync_state sync;
	uint64_t bytes_in;
	size_t stash_len;
	int unread;                   /* bytes in the kernel the node has not read */
	uint64_t opened_ms, last_msg_ms, sendq_since_ms, redeem_until_ms;
	size_t sendq;
	bool has_peer, transient;
	enum peer_state peer_state;
};
/* dfx_find's session, read on the loop (found false if none). */
void dfx_session(struct dfx *fx, int who, struct dfx_sess *out);
size_t dfx_session_count(struct dfx *fx);
/* Does the node's log hold text? */
bool dfx_logged(struct dfx *fx, const char *text);

#endif
