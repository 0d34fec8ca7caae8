/*
 * daemon_util.c - helpers the daemon tests share (see daemon_util.h):
 * cmocka set-up and tear-down, the node's first messages, sessions
 * opened and awaited.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include <cmocka.h>

#include "daemon_util.h"

int setup(void **state)
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
int teardown(void **state)
{
	struct dfx *fx = *state;
	if (fx->running && !getenv("DAEMON_TEST_LOG"))
		dfx_call(fx, dump_log, NULL);
	dfx_stop(fx);
	free(fx);
	return 0;
}

const uint8_t *pk(struct dfx *fx, int who)
{
	return fx->keys[who]->pk;
}

/* The node's Hello: its key, and the alliance among those it names. */
void expect_node_hello(struct dfx *fx, struct hw_conn *c)
{
	Agora__Wire__Message *m = dfx_expect(c, MSG(HELLO));
	assert_int_equal(m->hello->node_key.len, 32);
	assert_memory_equal(m->hello->node_key.data, pk(fx, DFX_NODE), 32);
	assert_int_equal(m->hello->n_alliances, 1);
	assert_memory_equal(m->hello->alliances[0].data, fx->alliance, 32);
	agora__wire__message__free_unpacked(m, NULL);
}

void expect_digest(struct dfx *fx, struct hw_conn *c)
{
	Agora__Wire__Message *m = dfx_expect(c, MSG(DIGEST));
	assert_memory_equal(m->digest->alliance.data, fx->alliance, 32);
	agora__wire__message__free_unpacked(m, NULL);
}

void expect_pong(struct hw_conn *c, uint64_t nonce)
{
	Agora__Wire__Message *m = dfx_expect(c, MSG(PONG));
	assert_int_equal(m->pong->nonce, nonce);
	agora__wire__message__free_unpacked(m, NULL);
}

/* A member's session up to both Hellos: version 1 (the node, accepting,
 * then opens no exchange of its own) or 2 (it opens one: a Digest). */
struct hw_conn *open_session(struct dfx *fx, int who, uint32_t version)
{
	struct hw_conn *c = dfx_connect(fx, who);
	dfx_send_hello(c, fx->keys[who], version);
	expect_node_hello(fx, c);
	if (version >= 2)
		expect_digest(fx, c);
	return c;
}

/* Bytes the node has sent that this side has not read. */
int pending_in(struct hw_conn *c)
{
	int n = -1;
	assert_int_equal(ioctl(c->fd, FIONREAD, &n), 0);
	return n + (int)(c->rlen - c->roff);
}

/* (loop thread, through dfx_await) */
bool sess_is(struct dfx *fx, void *arg)
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
void await_session(struct dfx *fx, const struct sess_is *want)
{
	if (!dfx_await(fx, sess_is, (void *)want)) {
		struct dfx_sess s;
		dfx_session(fx, want->who, &s);
		fail_msg("session of %d: found %d state %d pause %#x sync %d unread %d stash %zu",
		         want->who, s.found, s.state, s.pause, s.sync, s.unread, s.stash_len);
	}
}

bool no_sessions(struct dfx *fx, void *arg)
{
	(void)arg;
	return fx->node->n_sessions == 0;
}
