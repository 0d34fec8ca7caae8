/*
 * daemon_fx.c - test fixture for the daemon tests (see daemon_fx.h): the
 * node on a loop thread, calls onto that thread, its fake clock and job
 * runner, the data directory it starts on, start and stop.  The peer side
 * (connections, messages sent and expected, sessions as the node holds
 * them) is in daemon_fx_peer.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "daemon_fx.h"

struct dfx_call {
	void (*fn)(struct dfx *fx, void *arg);
	void *arg;
	bool done;
	struct dfx_call *next;
};

/* ------------------------------------------------------ the fake env */

static uint64_t fake_mono(void *ctx)
{
	return atomic_load(&((struct dfx *)ctx)->mono);
}

static uint64_t fake_wall(void *ctx)
{
	return atomic_load(&((struct dfx *)ctx)->wall);
}

/* The runner (loop thread): keep the job for the test.  jobs.c hands out
 * one at a time per lane; a second of a lane while one is out would be a
 * bug there, kept in two_out for dfx_stop to assert. */
static int fake_queue(void *ctx, struct job *job)
{
	struct dfx *fx = ctx;
	enum job_lane lane = job->ops->lane;
	uv_mutex_lock(&fx->mu);
	if (fx->out[lane] || fx->held[lane])
		fx->two_out = true;
	fx->out[lane] = job;
	uv_cond_broadcast(&fx->cv);
	uv_mutex_unlock(&fx->mu);
	return 0;
}

uint64_t dfx_now(struct dfx *fx)
{
	return atomic_load(&fx->mono);
}

static void set_clock(struct dfx *fx, uint64_t mono)
{
	atomic_store(&fx->wall, fx->wall0 + (mono - DFX_MONO0));
	atomic_store(&fx->mono, mono);
}

/* ------------------------------------------------ calls on the loop */

static void async_cb(uv_async_t *a)
{
	struct dfx *fx = a->data;
	for (;;) {
		uv_mutex_lock(&fx->mu);
		struct dfx_call *c = fx->calls;
		if (c && !(fx->calls = c->next))
			fx->calls_tail = NULL;
		uv_mutex_unlock(&fx->mu);
		if (!c)
			return;
		c->fn(fx, c->arg);
		/* c lives on the caller's stack: not touched after done */
		uv_mutex_lock(&fx->mu);
		c->done = true;
		uv_cond_broadcast(&fx->cv);
		uv_mutex_unlock(&fx->mu);
	}
}

void dfx_call(struct dfx *fx, void (*fn)(struct dfx *fx, void *arg), void *arg)
{
	struct dfx_call c = { fn, arg, false, NULL };
	uv_mutex_lock(&fx->mu);
	if (fx->calls_tail)
		fx->calls_tail->next = &c;
	else
		fx->calls = &c;
	fx->calls_tail = &c;
	uv_mutex_unlock(&fx->mu);
	uv_async_send(&fx->async);
	uv_mutex_lock(&fx->mu);
	while (!c.done)
		uv_cond_wait(&fx->cv, &fx->mu);
	uv_mutex_unlock(&fx->mu);
}

struct pred_call {
	bool (*pred)(struct dfx *fx, void *arg);
	void *arg;
	bool result;
};

static void pred_fn(struct dfx *fx, void *arg)
{
	struct pred_call *p = arg;
	p->result = p->pred(fx, p->arg);
}

bool dfx_await(struct dfx *fx, bool (*pred)(struct dfx *fx, void *arg), void *arg)
{
	uint64_t end = hw_now_ms() + DFX_WAIT_MS;
	struct pred_call p = { pred, arg, false };
	for (;;) {
		dfx_call(fx, pred_fn, &p);
		if (p.result)
			return true;
		if (hw_now_ms() >= end)
			return false;
		uv_sleep(2);   /* a poll interval: the condition decides */
	}
}

/* ------------------------------------------------------------- tick */

/* The tick is a repeating uv timer: a repeat of 1 ms and uv_timer_again
 * make it fire at once; once one ran, it is put back to 1 s.  Extra ticks
 * meanwhile see the same fake time, so they decide nothing new. */
static void tick_fire(struct dfx *fx, void *arg)
{
	*(uint64_t *)arg = fx->node->ticks;
	uv_timer_set_repeat(&fx->node->tick, 1);
	uv_timer_again(&fx->node->tick);
}

static bool ticked(struct dfx *fx, void *arg)
{
	return fx->node->ticks > *(uint64_t *)arg;
}

static void tick_calm(struct dfx *fx, void *arg)
{
	(void)arg;
	uv_timer_set_repeat(&fx->node->tick, 1000);
	uv_timer_again(&fx->node->tick);
}

void dfx_tick(struct dfx *fx, uint64_t mono)
{
	uint64_t t0;
	set_clock(fx, mono);
	/* t0 is read on the loop after the clock moved: a tick that ends
	 * after it began after it, and saw the new time */
	dfx_call(fx, tick_fire, &t0);
	bool ok = dfx_await(fx, ticked, &t0);
	dfx_call(fx, tick_calm, NULL);
	assert_true(ok);
}

/* ------------------------------------------------------------- jobs */

static void done_fn(struct dfx *fx, void *arg)
{
	(void)fx;
	job_done(arg);
}

/* A job handed out and not taken, named name (NULL: any, the store
 * lane's first), or NULL.  Under fx->mu. */
static struct job *out_find(struct dfx *fx, const char *name)
{
	for (int lane = 0; lane < JOB_LANES; lane++)
		if (fx->out[lane] && (!name || !strcmp(fx->out[lane]->ops->name, name)))
			return fx->out[lane];
	return NULL;
}

/* Take a job handed out (named name first, if one is), waiting for one
 * until the deadline when wait. */
static struct job *take(struct dfx *fx, bool wait, const char *name)
{
	uint64_t end = hw_now_ms() + DFX_WAIT_MS;
	struct job *job;
	uv_mutex_lock(&fx->mu);
	while (wait && !out_find(fx, NULL) && hw_now_ms() < end)
		(void)uv_cond_timedwait(&fx->cv, &fx->mu, 50 * 1000000ull);
	if ((name && (job = out_find(fx, name))) || (job = out_find(fx, NULL))) {
		fx->out[job->ops->lane] = NULL;
		fx->held[job->ops->lane] = job;
	}
	uv_mutex_unlock(&fx->mu);
	return job;
}

static void release(struct dfx *fx, struct job *job)
{
	uv_mutex_lock(&fx->mu);
	fx->held[job->ops->lane] = NULL;
	uv_mutex_unlock(&fx->mu);
}

void dfx_job_done(struct dfx *fx, struct job *job)
{
	/* released before job_done: the node may hand out the next job
	 * from inside it */
	release(fx, job);
	dfx_call(fx, done_fn, job);
}

void dfx_job_run(struct dfx *fx, struct job *job)
{
	job_run(job);   /* the off-loop half, here as on the threadpool */
	dfx_job_done(fx, job);
}

void dfx_job_fail(struct dfx *fx, struct job *job, int rc)
{
	job->rc = rc;
	release(fx, job);
	dfx_call(fx, done_fn, job);
}

struct job *dfx_job_await(struct dfx *fx, const char *name)
{
	struct job *job;
	while ((job = take(fx, true, name))) {
		if (!strcmp(job->ops->name, name))
			return job;
		dfx_job_run(fx, job);
	}
	return NULL;
}

void dfx_jobs_drain(struct dfx *fx)
{
	struct job *job;
	while ((job = take(fx, false, NULL)))
		dfx_job_run(fx, job);
}

/* ------------------------------------------------------ data directory */

static struct proto_key *test_key(unsigned n)
{
	uint8_t seed[PROTO_SEED_BYTES];
	struct proto_key *k;
	memset(seed, (int)n, sizeof(seed));
	seed[0] = 0xd7;
	if (proto_key_from_seed(&k, seed))
		abort();
	return k;
}

static void publish(struct store *s, struct dfx *fx, const uint8_t *alliance,
                    Agora__Record *rec, uint8_t id[32])
{
	struct proto_error err = { 0 };
	int rc = store_publish(s, fx->keys[DFX_NODE], alliance, rec, fx->wall0 - 60000, id, NULL,
	                       NULL, &err);
	if (rc)
		fail_msg("publish: %s (%s %s)", store_strerror(rc), err.field, err.msg);
}

static void admit(struct store *s, struct dfx *fx, int who, const char *name)
{
	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Admission a = AGORA__ADMISSION__INIT;
	a.has_member = a.has_role = 1;
	a.member.len = 32;
	a.member.data = fx->keys[who]->pk;
	a.name = (char *)name;
	a.country = "DK";
	a.role = AGORA__ROLE__ROLE_MEMBER;
	rec.body_case = AGORA__RECORD__BODY_ADMISSION;
	rec.admission = &a;
	publish(s, fx, fx->alliance, &rec, NULL);
}

static void revoke_at(struct store *s, struct dfx *fx, int who, uint64_t last_seq)
{
	Agora__Record rv = AGORA__RECORD__INIT;
	Agora__Revocation r = AGORA__REVOCATION__INIT;
	r.has_member = r.has_last_seq = 1;
	r.member.len = 32;
	r.member.data = fx->keys[who]->pk;
	r.last_seq = last_seq;
	rv.body_case = AGORA__RECORD__BODY_REVOCATION;
	rv.revocation = &r;
	publish(s, fx, fx->alliance, &rv, NULL);
}

void dfx_admit(struct dfx *fx, int who, const char *name)
{
	admit(fx->node->store, fx, who, name);
}

void dfx_revoke(struct dfx *fx, int who, uint64_t last_seq)
{
	revoke_at(fx->node->store, fx, who, last_seq);
}

/* The alliance: founded by the node's key, DFX_MEMBER and DFX_MEMBER2
 * admitted, DFX_REVOKED admitted and revoked; invites as asked. */
static void build_home(struct dfx *fx, const struct dfx_opts *o)
{
	char db[4200];
	struct store *s;
	int rc;

	fx->home = strdup("/tmp/agora-daemon-XXXXXX");
	if (!fx->home || !mkdtemp(fx->home))
		fail_msg("mkdtemp");
	snprintf(db, sizeof(db), "%s/db", fx->home);
	if (mkdir(db, 0700) || (rc = store_open(&s, db, 0)))
		fail_msg("cannot make the store in %s", db);

	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Charter ch = AGORA__CHARTER__INIT;
	ProtobufCBinaryData co = { 32, fx->keys[DFX_NODE]->pk };
	ch.name = "Daemon test alliance";
	ch.n_coordinators = 1;
	ch.coordinators = &co;
	ch.has_policy = 1;
	ch.policy = AGORA__ADMISSION_POLICY__ADMISSION_POLICY_ANY_COORDINATOR;
	rec.body_case = AGORA__RECORD__BODY_CHARTER;
	rec.charter = &ch;
	publish(s, fx, NULL, &rec, fx->alliance);
	admit(s, fx, DFX_MEMBER, "Odense");
	admit(s, fx, DFX_MEMBER2, "Aarhus");
	admit(s, fx, DFX_REVOKED, "Vejle");
	revoke_at(s, fx, DFX_REVOKED, 0);

	if (o->pending) {
		/* as `agora join` signs it: the next record of the own feed */
		Agora__Record er = AGORA__RECORD__INIT;
		Agora__Endpoint ep = AGORA__ENDPOINT__INIT;
		char *addr = "odense.example:7420";
		struct store_txn *t;
		struct proto_error err = { 0 };
		uint64_t head = 0;
		uint8_t head_id[32];
		struct store_item it = { NULL, 0 };
		uint8_t *env = NULL;
		if (store_txn_begin(s, &t) ||
		    store_feed_head(t, fx->alliance, fx->keys[DFX_NODE]->pk, &head, head_id))
			fail_msg("own head");
		store_txn_end(t);
		ep.n_addresses = 1;
		ep.addresses = &addr;
		er.body_case = AGORA__RECORD__BODY_ENDPOINT;
		er.endpoint = &ep;
		er.has_alliance = er.has_author = er.has_seq = er.has_prev = er.has_created_ms = 1;
		er.alliance.len = 32;
		er.alliance.data = fx->alliance;
		er.author.len = 32;
		er.author.data = fx->keys[DFX_NODE]->pk;
		er.seq = head + 1;
		er.prev.len = 32;
		er.prev.data = head_id;
		er.created_ms = fx->wall0 - 30000;
		if ((rc = proto_record_sign(&env, &it.len, NULL, &er, fx->keys[DFX_NODE], fx->wall0,
		                            &err)))
			fail_msg("sign the endpoint: %s", err.msg);
		it.env = env;
		if ((rc = store_pending_put(s, fx->alliance, &it, 1)))
			fail_msg("pending: %s", store_strerror(rc));
		free(env);
	}

	if (o->invite || o->invite_used) {
		struct store_invite iv;
		memset(&iv, 0, sizeof(iv));
		memcpy(iv.alliance, fx->alliance, 32);
		iv.role = AGORA__ROLE__ROLE_MEMBER;
		snprintf(iv.name, sizeof(iv.name), "Newtown");
		snprintf(iv.country, sizeof(iv.country), "DK");
		randombytes_buf(fx->token, sizeof(fx->token));
		if ((rc = store_invite_put(s, fx->token, &iv)))
			fail_msg("invite: %s", store_strerror(rc));
		if (o->invite_used && (rc = store_invite_use(s, fx->token, fx->alliance,
		                                             fx->wall0 - 1000, NULL)))
			fail_msg("use the invite: %s", store_strerror(rc));
	}
	store_close(s);
}

static int rm_cb(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* ---------------------------------------------------------- start, stop */

static void loop_main(void *arg)
{
	struct dfx *fx = arg;
	uv_run(&fx->loop, UV_RUN_DEFAULT);
}

void dfx_start(struct dfx *fx, const struct dfx_opts *o)
{
	struct node_config cfg;
	struct node_env env;
	int rc;

	memset(fx, 0, sizeof(*fx));
	for (int i = 0; i < DFX_KEYS; i++)
		fx->keys[i] = test_key((unsigned)i + 1);
	fx->wall0 = hw_wall_ms();
	set_clock(fx, DFX_MONO0);
	build_home(fx, o);

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "daemon-test");
	cfg.log_level = NODE_LOG_DEBUG;
	if (o->peer_entry || o->dial_port > 0) {
		cfg.peers = calloc(1, sizeof(*cfg.peers));
		assert_non_null(cfg.peers);
		cfg.n_peers = 1;
		memcpy(cfg.peers[0].key, fx->keys[DFX_MEMBER]->pk, 32);
		snprintf(cfg.peers[0].name, sizeof(cfg.peers[0].name), "Odense");
		if (o->dial_port > 0) {
			snprintf(cfg.peers[0].host, sizeof(cfg.peers[0].host), "127.0.0.1");
			cfg.peers[0].port = (uint16_t)o->dial_port;
		}
	}
	fx->logf = open_memstream(&fx->logbuf, &fx->loglen);
	assert_non_null(fx->logf);
	fx->log.level = NODE_LOG_DEBUG;
	fx->log.out = fx->logf;

	uv_mutex_init(&fx->mu);
	uv_cond_init(&fx->cv);
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	assert_int_equal(uv_async_init(&fx->loop, &fx->async, async_cb), 0);
	fx->async.data = fx;
	env.mono_ms = fake_mono;
	env.wall_ms = fake_wall;
	env.queue = fake_queue;
	env.ctx = fx;
	struct node_options opt = { .home = fx->home, .listen = "127.0.0.1:0", .log = &fx->log,
		                    .env = &env };
	rc = node_new(&fx->node, &fx->loop, &opt, &cfg, fx->keys[DFX_NODE]);
	node_config_dispose(&cfg);
	if (rc) {
		/* what node_new opened (it may have stopped the node itself)
		 * closes on this thread, so that the loop closes too */
		uv_close((uv_handle_t *)&fx->async, NULL);
		uv_run(&fx->loop, UV_RUN_DEFAULT);
		node_free(fx->node);
		fx->node = NULL;
		(void)uv_loop_close(&fx->loop);
		fail_msg("node_new: %d", rc);
	}
	const char *colon = strrchr(fx->node->listen_str, ':');
	assert_non_null(colon);
	fx->port = atoi(colon + 1);
	/* the loop is handed to its thread here; nothing touches it after
	 * but through dfx_call */
	assert_int_equal(uv_thread_create(&fx->thread, loop_main, fx), 0);
	fx->running = true;
}

static void stop_fn(struct dfx *fx, void *arg)
{
	(void)arg;
	node_stop(fx->node);
}

static void close_cb_walk(uv_handle_t *h, void *arg)
{
	struct dfx *fx = arg;
	if (h != (uv_handle_t *)&fx->async && !uv_is_closing(h))
		uv_close(h, NULL);
}

struct walk_count {
	struct dfx *fx;
	size_t n;
};

static void count_cb(uv_handle_t *h, void *arg)
{
	struct walk_count *w = arg;
	if (h != (uv_handle_t *)&w->fx->async)
		w->n++;
}

/* After node_stop: nothing but our async handle is left, so the loop
 * would end by itself (node_stop promises it never waits on a peer). */
static bool only_async_left(struct dfx *fx, void *arg)
{
	struct walk_count w = { fx, 0 };
	(void)arg;
	uv_walk(&fx->loop, count_cb, &w);
	return w.n == 0;
}

static void print_cb(uv_handle_t *h, void *arg)
{
	struct dfx *fx = arg;
	if (h != (uv_handle_t *)&fx->async)
		fprintf(stderr, "left open after node_stop: %s handle%s%s\n", uv_handle_type_name(h->type),
		        uv_is_active(h) ? ", active" : "", uv_is_closing(h) ? ", closing" : "");
}

/* The test failed: close what is left so the loop ends (leaking what
 * those handles' own close callbacks would have freed). */
static void force_close(struct dfx *fx, void *arg)
{
	(void)arg;
	uv_walk(&fx->loop, print_cb, fx);
	uv_walk(&fx->loop, close_cb_walk, fx);
}

static void close_async(struct dfx *fx, void *arg)
{
	(void)arg;
	uv_close((uv_handle_t *)&fx->async, NULL);
}

void dfx_stop(struct dfx *fx)
{
	int rc = 0;
	bool two_out = false, ended = true;
	if (fx->running) {
		dfx_call(fx, stop_fn, NULL);
		/* a job still out is cancelled, as libuv does at a stop */
		struct job *job;
		for (int lane = 0; lane < JOB_LANES; lane++) {
			uv_mutex_lock(&fx->mu);
			job = fx->held[lane];
			uv_mutex_unlock(&fx->mu);
			if (job)
				dfx_job_fail(fx, job, UV_ECANCELED);
		}
		while ((job = take(fx, false, NULL)))
			dfx_job_fail(fx, job, UV_ECANCELED);
		if (!(ended = dfx_await(fx, only_async_left, NULL)))
			dfx_call(fx, force_close, NULL);
		dfx_call(fx, close_async, NULL);
		uv_thread_join(&fx->thread);
		fx->running = false;
		rc = uv_loop_close(&fx->loop);
		node_free(fx->node);
		fx->node = NULL;
		two_out = fx->two_out;
		uv_mutex_destroy(&fx->mu);
		uv_cond_destroy(&fx->cv);
	}
	for (int i = 0; i < DFX_CONNS; i++)
		if (fx->conn_used[i]) {
			hw_close(&fx->conns[i]);
			fx->conn_used[i] = false;
		}
	if (fx->logf) {
		fclose(fx->logf);
		fx->logf = NULL;
		if (getenv("DAEMON_TEST_LOG"))
			fprintf(stderr, "%s", fx->logbuf);
		free(fx->logbuf);
		fx->logbuf = NULL;
	}
	if (fx->home) {
		nftw(fx->home, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
		free(fx->home);
		fx->home = NULL;
	}
	for (int i = 0; i < DFX_KEYS; i++) {
		proto_key_free(fx->keys[i]);
		fx->keys[i] = NULL;
	}
	assert_true(ended);        /* the node closed everything by itself */
	assert_int_equal(rc, 0);   /* every handle closed */
	assert_false(two_out);     /* jobs ran one at a time per lane */
}
