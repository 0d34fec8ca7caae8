/*
 * node.c - the node: lifecycle, listener, the clock and job runner, the
 * 1-second tick and a clean shutdown.  Configured peers are in peers.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "node/node_int.h"

/* ------------------------------------------------------------ the clock */

static uint64_t real_mono_ms(void *ctx)
{
	struct timespec ts;
	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t real_wall_ms(void *ctx)
{
	struct timespec ts;
	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t node_mono_ms(struct node *n)
{
	return n->env.mono_ms(n->env.ctx);
}

uint64_t node_wall_ms(struct node *n)
{
	return n->env.wall_ms(n->env.ctx);
}

/* ---------------------------------------------------------------- tick */

/* Resident pages of this process (statm's second field), 0 if unknown. */
static size_t resident_pages(void)
{
	char buf[128];
	unsigned long size, res;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	ssize_t k = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (k <= 0)
		return 0;
	buf[k] = '\0';
	return sscanf(buf, "%lu %lu", &size, &res) == 2 ? (size_t)res : 0;
}

static void trim_work(uv_work_t *req)
{
	struct node *n = req->data;
	(void)store_trim(n->store);   /* thread-safe; skipped when it would wait */
}

static void trim_done(uv_work_t *req, int status)
{
	struct node *n = req->data;
	(void)status;
	n->trim_busy = false;
	n->trim_resident = resident_pages();
}

/*
 * Trimming costs more than the madvise: every store page touched after it
 * faults in again.  Called on every tick and after every batch a session
 * sends, an unconditional trim made an idle node with 12,000 feeds fault
 * its store pages back in every second (a third of its idle CPU, perf), so
 * it waits until something was mapped in: the resident set grew by
 * NODE_TRIM_SLACK since the last trim (a sync, a long read).  And a
 * resident set under NODE_TRIM_FLOOR is left alone: a store of that size
 * (12,000 feeds are 17 MB) may stay mapped whole, and trimming it only made
 * each record delivered fault in the pages it reads again (a sixth of a
 * live node's CPU in a 64-node mesh, perf).  What the floor bounds is a
 * sync of a store far larger than memory should hold.
 */
#define NODE_TRIM_SLACK (1u << 20)
#define NODE_TRIM_FLOOR (48u << 20)

void node_trim(struct node *n)
{
	if (n->trim_busy || n->stopping)
		return;
	size_t res = resident_pages(), page = (size_t)sysconf(_SC_PAGESIZE);
	if (res && res < NODE_TRIM_FLOOR / page)
		return;
	if (res && n->trim_resident && res < n->trim_resident + NODE_TRIM_SLACK / page)
		return;
	if (uv_queue_work(n->loop, &n->trim_req, trim_work, trim_done) == 0)
		n->trim_busy = true;
}

static void iter_cb(uv_prepare_t *h)
{
	((struct node *)h->data)->iter++;
}

static void budget_cb(uv_check_t *h)
{
	struct node *n = h->data;
	uv_check_stop(h);
	for (struct session *s = n->sessions, *next; s; s = next) {
		next = s->next;   /* a resume may close s (its stash ends it) */
		session_resume(s, PAUSE_BUDGET);
	}
}

/* Idle phase of the next iteration (an active idle handle also keeps that
 * iteration's poll from blocking): the sessions that ran out of their
 * production budget get a fresh one. */
static void produce_cb(uv_idle_t *h)
{
	struct node *n = h->data;
	uv_idle_stop(h);
	for (struct session *s = n->sessions, *next; s; s = next) {
		next = s->next;   /* a kick may close s (freed in a later callback) */
		if (!s->produce_wait)
			continue;
		s->produce_wait = false;
		s->prod_iter = n->iter;
		s->prod_bytes = 0;
		session_kick(s);
	}
}

size_t node_produce_room(struct session *s)
{
	struct node *n = s->node;
	if (s->prod_iter != n->iter) {
		s->prod_iter = n->iter;
		s->prod_bytes = 0;
	}
	if (s->prod_bytes < NODE_PRODUCE_BUDGET)
		return NODE_PRODUCE_BUDGET - s->prod_bytes;
	if (!s->produce_wait && !n->stopping) {
		s->produce_wait = true;
		uv_idle_start(&n->produce_idle, produce_cb);
	}
	return 0;
}

void node_produce_spent(struct session *s, size_t bytes)
{
	if (s->prod_iter != s->node->iter) {
		s->prod_iter = s->node->iter;
		s->prod_bytes = 0;
	}
	s->prod_bytes += bytes;
}

void node_read_budget(struct session *s, size_t nread)
{
	struct node *n = s->node;
	if (s->read_iter != n->iter) {
		s->read_iter = n->iter;
		s->read_bytes = 0;
	}
	s->read_bytes += nread;
	if (s->read_bytes < NODE_READ_BUDGET || s->pause || n->stopping)
		return;
	session_pause(s, PAUSE_BUDGET);
	if (s->pause & PAUSE_BUDGET)
		uv_check_start(&n->budget_check, budget_cb);
}

static void tick_cb(uv_timer_t *t)
{
	struct node *n = t->data;
	uint64_t now = node_mono_ms(n);
	struct store_txn *txn;
	uint64_t wseq = 0;

	/* Records written by another process (the CLI) show up here even
	 * when nobody pokes us: a read snapshot never waits for a commit. */
	if (store_txn_begin(n->store, &txn) == 0) {
		struct store_stats st;
		/* records move feed heads (the write number); fork evidence that
		 * came alone (a bundle) only shows in the fork count */
		if ((store_write_number(txn, &wseq) == 0 && wseq != n->view_wseq) ||
		    (store_stats(txn, &st) == 0 && st.forks != n->view_forks))
			view_refresh(n);
		store_txn_end(txn);
	}
	/* Streaming a large feed maps much of the store into this process;
	 * the pages stay in the OS cache but need not stay in our resident
	 * set (see store_trim; a trim already running elsewhere is skipped).
	 * madvise over a map of a gigabyte takes milliseconds: off the loop. */
	node_trim(n);
	/* Revocations that arrived and admissions that expired take effect
	 * here, without anyone acting. */
	node_members_check(n);
	node_invites_check(n);
	peering_tick(n);
	node_hooks_tick(n);
	node_blobs_tick(n);
	if (n->disk_until_ms && now >= n->disk_until_ms)
		ingest_disk_retry(n);
	for (struct session *s = n->sessions, *next; s; s = next) {
		next = s->next;
		session_tick(s, now);
	}
	n->ticks++;
}

/* ------------------------------------------------------------ listener */

static void on_connection(uv_stream_t *server, int status)
{
	struct node *n = server->data;
	if (status < 0) {
		NLOG(n, NODE_LOG_WARN, "listen", "accept failed: %s", uv_strerror(status));
		return;
	}
	session_accept(n);
}

static int listen_start(struct node *n, const char *flag)
{
	char host[NODE_HOST_MAX] = "0.0.0.0";
	uint16_t port = NODE_DEFAULT_PORT;
	struct sockaddr_storage ss;
	int rc, len;

	if (flag) {
		if (node_parse_hostport(host, &port, flag, true)) {
			NLOG(n, NODE_LOG_ERROR, "listen", "--listen '%s' is not ADDRESS:PORT", flag);
			return NODE_E_ADDRESS;
		}
	} else if (n->cfg.has_listen) {
		snprintf(host, sizeof(host), "%s", n->cfg.listen_host);
		port = n->cfg.listen_port;
	}
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) &&
	    uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss)) {
		NLOG(n, NODE_LOG_ERROR, "listen", "'%s' is not an IP address to listen on", host);
		return NODE_E_ADDRESS;
	}
	uv_tcp_init(n->loop, &n->listener);
	n->listener.data = n;
	n->listening = true;
	if ((rc = uv_tcp_bind(&n->listener, (struct sockaddr *)&ss, 0)) ||
	    (rc = uv_listen((uv_stream_t *)&n->listener, 256, on_connection))) {
		NLOG(n, NODE_LOG_ERROR, "listen", "cannot listen on %s:%u: %s", host, port,
		     uv_strerror(rc));
		return rc;
	}
	len = sizeof(ss);
	if (uv_tcp_getsockname(&n->listener, (struct sockaddr *)&ss, &len) == 0)
		port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
		                                     : ((struct sockaddr_in6 *)&ss)->sin6_port);
	snprintf(n->listen_str, sizeof(n->listen_str), strchr(host, ':') ? "[%s]:%u" : "%s:%u",
	         host, port);
	{
		char path[4200], text[16];
		int tl = snprintf(text, sizeof(text), "%u\n", port);
		/* Written at start-up, before the loop runs, by storage's writer,
		 * which never follows a link planted under the name (D15). */
		if ((rc = store_home_path(path, sizeof(path), n->home, STORE_HOME_PORT, NULL)) ||
		    (rc = store_file_write(path, text, (size_t)tl, 0644, 0)))
			NLOG(n, NODE_LOG_WARN, "listen", "cannot write %s: %s",
			     store_home_name(STORE_HOME_PORT), store_strerror(rc));
		else
			n->port_written = true;
	}
	NLOG(n, NODE_LOG_INFO, "listen", "listening on %s", n->listen_str);
	return 0;
}

/* ---------------------------------------------------------- lifecycle */

static void on_signal(uv_signal_t *h, int signum)
{
	struct node *n = h->data;
	NLOG(n, NODE_LOG_INFO, "node", "%s: shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
	node_stop(n);
}

static void on_sighup(uv_signal_t *h, int signum)
{
	(void)signum;
	node_reload(h->data);
}

int node_new(struct node **out, uv_loop_t *loop, const struct node_options *opt,
             const struct node_config *cfg, struct proto_key *key)
{
	struct node *n = calloc(1, sizeof(*n));
	struct view_delta d;
	char db[4200];
	int rc;

	if (!n)
		return -ENOMEM;
	n->loop = loop;
	n->log = opt->log;
	n->cfg = *cfg;
	n->key = key;
	if (opt->env) {
		n->env = *opt->env;
	} else {
		n->env.mono_ms = real_mono_ms;
		n->env.wall_ms = real_wall_ms;
		n->env.queue = job_queue_uv;
		n->env.ctx = n;
	}
	n->start_ms = node_mono_ms(n);
	n->start_wall_ms = node_wall_ms(n);
	snprintf(n->home, sizeof(n->home), "%s", opt->home);
	snprintf(db, sizeof(db), "%s/db", n->home);
	if ((rc = store_open(&n->store, db, STORE_OPEN_LEAN))) {
		NLOG(n, NODE_LOG_ERROR, "store", "cannot open %s: %s (run `agora init` first)", db,
		     store_strerror(rc));
		goto fail;
	}
	store_set_own_key(n->store, key->pk);
	/* As many verifying threads as cores: a sync is bound by signature
	 * checks, and they keep verifying while the store job waits on a commit. */
	if (store_verifier_start(&n->verifier, uv_available_parallelism()))
		NLOG(n, NODE_LOG_WARN, "node", "no verifier thread: records are verified when stored");
	/* The first view, read here before the loop runs. */
	if ((rc = view_delta_read(n, 0, NULL, 0, &d))) {
		NLOG(n, NODE_LOG_ERROR, "store", "cannot read version vectors: %s", store_strerror(rc));
		goto fail;
	}
	view_apply(n, &d);
	node_invites_check(n);
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (!node_peer_add(n, &cfg->peers[i]))
			NLOG(n, NODE_LOG_ERROR, "node", "out of memory adding peers");
	if (peering_start(n))
		NLOG(n, NODE_LOG_ERROR, "node", "out of memory: no mesh, only the peers in agora.conf");
	/* the peers live in n->peers now; cfg's array stays the caller's */
	n->cfg.peers = NULL;
	n->cfg.n_peers = 0;
	/* and the hooks in n->hooks (node_hooks_start copies them) */
	n->cfg.hooks = NULL;
	n->cfg.n_hooks = 0;
	uv_timer_init(loop, &n->tick);
	n->tick.data = n;
	uv_prepare_init(loop, &n->iter_prep);
	uv_check_init(loop, &n->budget_check);
	uv_idle_init(loop, &n->produce_idle);
	n->iter_prep.data = n->budget_check.data = n->produce_idle.data = n;
	uv_prepare_start(&n->iter_prep, iter_cb);
	node_graft_init(n);
	n->trim_req.data = n;
	uv_signal_init(loop, &n->sigint);
	uv_signal_init(loop, &n->sigterm);
	uv_signal_init(loop, &n->sighup);
	n->sigint.data = n->sigterm.data = n->sighup.data = n;
	/* The control socket first: agorad.port, which listen_start writes,
	 * tells scripts the node is up, so its control socket must be there
	 * by then; and a second agorad on the same data directory stops at
	 * control_open, before it overwrites the running one's agorad.port. */
	if ((rc = control_open(n)) || (rc = listen_start(n, opt->listen))) {
		node_stop(n);
		*out = n;
		return rc;
	}
	uv_signal_start(&n->sigint, on_signal, SIGINT);
	uv_signal_start(&n->sigterm, on_signal, SIGTERM);
	uv_signal_start(&n->sighup, on_sighup, SIGHUP);
	uv_timer_start(&n->tick, tick_cb, 1000, 1000);
	if (node_hooks_start(n, cfg->hooks, cfg->n_hooks))
		NLOG(n, NODE_LOG_ERROR, "hook", "out of memory: no [hook] runs");
	if (node_blobs_start(n))
		NLOG(n, NODE_LOG_ERROR, "blob", "out of memory: attachments are not fetched or served");
	for (size_t i = 0; i < n->n_peers; i++)
		if (n->peers[i]->conf.host[0] && !n->peers[i]->conf.bootstrap)
			node_peer_dial_now(n->peers[i]);   /* a bootstrap: when the mesh says */
	{
		char hex[65];
		proto_hex(hex, key->pk, 32);
		NLOG(n, NODE_LOG_INFO, "node", "agorad %s started: %zu alliance(s), %zu peer(s)",
		     hex, n->local.n, n->n_peers);
	}
	*out = n;
	return 0;
fail:
	store_verifier_stop(n->verifier);
	store_close(n->store);
	view_free(n);
	free(n);
	return rc;
}

void node_stop(struct node *n)
{
	if (n->stopping)
		return;
	n->stopping = true;
	/* Stop accepting first, then close sessions; a job already in the
	 * threadpool finishes its write transaction, and uv_run() returns
	 * once it and every handle are done. */
	if (n->listening && !uv_is_closing((uv_handle_t *)&n->listener))
		uv_close((uv_handle_t *)&n->listener, NULL);
	control_close(n);
	uv_close((uv_handle_t *)&n->tick, NULL);
	uv_close((uv_handle_t *)&n->iter_prep, NULL);
	uv_close((uv_handle_t *)&n->budget_check, NULL);
	uv_close((uv_handle_t *)&n->produce_idle, NULL);
	uv_close((uv_handle_t *)&n->graft_timer, NULL);
	uv_close((uv_handle_t *)&n->sigint, NULL);
	uv_close((uv_handle_t *)&n->sigterm, NULL);
	uv_close((uv_handle_t *)&n->sighup, NULL);
	node_peers_close(n);
	node_hooks_stop(n);
	/* A Bye each (written at once when nothing else is queued), then
	 * closed without waiting for it: shutting down never waits on a peer. */
	for (struct session *s = n->sessions; s; s = s->next)
		session_goodbye(s, SYNC_BYE_SHUTTING_DOWN, "node shutting down");
	jobs_drop_all(n);
}

void node_free(struct node *n)
{
	char path[4200];
	if (!n)
		return;
	/* Ours only: a node refused at start (another agorad runs here) must
	 * not take the running one's agorad.port away. */
	if (n->port_written &&
	    store_home_path(path, sizeof(path), n->home, STORE_HOME_PORT, NULL) == 0)
		unlink(path);
	store_verifier_stop(n->verifier);
	store_close(n->store);
	view_free(n);
	peering_free(n);
	node_hooks_free(n);
	node_blobs_free(n);
	free(n->peers);
	free(n->seen);
	free(n->upgrades);
	free(n->pending_check);
	free(n);
}
