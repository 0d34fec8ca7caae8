/*
 * daemon_ingest_test.c - agorad's ingest (node/ingest.c, jobs.c, view.c,
 * pending.c): records a peer sends become store jobs (a full disk stops
 * reading everywhere, then resyncs; records stored update the view and are
 * offered; jobs free their records off the loop; a blob job does not hold
 * records back), governance records change the view's members, and
 * records signed at join are stored once the key is active.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_ingest__disk_full_stops_reading_everywhere_then_resyncs),
		T(test_ingest__stored_records_update_the_view_and_are_offered),
		T(test_view__admission_and_revocation_change_their_members_not_the_alliance),
		T(test_ingest__job_frees_its_records_off_the_loop),
		T(test_ingest__records_are_stored_while_a_blob_job_runs),
		T(test_pending__signed_records_are_stored_once_the_key_is_active),
#undef T
	};
	signal(SIGPIPE, SIG_IGN);
	if (proto_init())
		return 2;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
