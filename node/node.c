/*
 * node.c - the node: listener, configured peers with redial backoff, the
 * cached version vectors, the 1-second tick and a clean shutdown.
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

uint64_t node_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------ local vectors */

void node_local_free(struct sync_local *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].heads);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

struct load {
	struct sync_local l;
	struct store_txn *t;
	int rc;
};

static int head_cb(const uint8_t author[PROTO_KEY_BYTES], uint64_t seq,
                   const uint8_t id[PROTO_ID_BYTES], void *ctx)
{
	struct sync_lvec *v = ctx;
	if ((v->n & (v->n - 1)) == 0 || v->n == 0) {   /* grow at powers of two */
		size_t cap = v->n ? v->n * 2 : 16;
		struct sync_head *h = realloc(v->heads, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		v->heads = h;
	}
	memcpy(v->heads[v->n].author, author, 32);
	v->heads[v->n].seq = seq;
	memcpy(v->heads[v->n].id, id, 32);
	v->n++;
	return 0;
}

static int alliance_cb(const struct store_record *rec, void *ctx)
{
	struct load *ld = ctx;
	struct sync_lvec *v;

	if (ld->l.n >= SYNC_ALLIANCES_MAX)
		return 0;
	v = realloc(ld->l.v, (ld->l.n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	ld->l.v = v;
	v = &v[ld->l.n++];
	memset(v, 0, sizeof(*v));
	memcpy(v->alliance, rec->id, 32);
	Agora__Record *r;
	if (proto_envelope_decode(&r, rec->env, rec->env_len, NULL) == 0) {
		if (r->has_author && r->author.len == 32) {
			memcpy(v->founder, r->author.data, 32);
			v->has_founder = true;
		}
		agora__record__free_unpacked(r, NULL);
	}
	return 0;
}

int node_local_load(struct node *n, struct sync_local *out, uint64_t *records)
{
	struct load ld;
	struct store_stats st;
	int rc;

	memset(&ld, 0, sizeof(ld));
	uv_mutex_lock(&n->store_lock);
	rc = store_txn_begin(n->store, &ld.t);
	if (rc == 0) {
		rc = store_alliances(ld.t, alliance_cb, &ld);
		for (size_t i = 0; rc == 0 && i < ld.l.n; i++)
			if ((rc = store_heads(ld.t, ld.l.v[i].alliance, head_cb, &ld.l.v[i])) == 0)
				rc = node_members_cap(ld.t, &ld.l.v[i]);
		if (rc == 0)
			rc = store_stats(ld.t, &st);
		store_txn_end(ld.t);
	}
	uv_mutex_unlock(&n->store_lock);
	if (rc) {
		node_local_free(&ld.l);
		return rc;
	}
	*out = ld.l;
	*records = st.records;
	return 0;
}

void node_local_set(struct node *n, struct sync_local *l, uint64_t records)
{
	node_local_free(&n->local);
	n->local = *l;
	n->local_records = records;
	memset(l, 0, sizeof(*l));
}

int node_local_reload(struct node *n)
{
	struct sync_local l;
	uint64_t records;
	int rc = node_local_load(n, &l, &records);
	if (rc) {
		NLOG(n, NODE_LOG_ERROR, "store", "cannot read version vectors: %s", store_strerror(rc));
		return rc;
	}
	node_local_set(n, &l, records);
	return 0;
}

/* Tell every session; raise own-feed floors. */
void node_local_changed(struct node *n)
{
	uint64_t now = node_now_ms();
	for (struct session *s = n->sessions; s; s = s->next) {
		if (s->state != SESSION_OPEN || !s->sync_init)
			continue;
		int rc = sync_local_changed(&s->sync, now);
		if (!rc && s->member_retry) {
			/* records this peer sent were refused for membership: maybe
			 * what just arrived admits their author; ask again */
			s->member_retry = false;
			rc = sync_resync(&s->sync);
		}
		if (rc) {
			session_close(s, sync_strerror(rc), true);
			continue;
		}
		node_floor_check(n, &s->sync);
		session_kick(s);
	}
}

/*
 * A peer says it holds more of our own feed than we do (we were restored
 * from an old copy): log it, once per seq.  What a peer says raises
 * nothing: the store raises the own-feed floor itself when it ingests a
 * signed record of our feed past our head (storage.h, store_set_own_key).
 */
void node_floor_check(struct node *n, const struct sync *sy)
{
	for (size_t i = 0; i < n->local.n; i++) {
		const struct sync_lvec *v = &n->local.v[i];
		uint64_t theirs = sync_peer_seq(sy, v->alliance, n->key->pk), ours = 0;
		size_t k;
		if (!theirs)
			continue;
		for (k = 0; k < v->n; k++)
			if (!memcmp(v->heads[k].author, n->key->pk, 32)) {
				ours = v->heads[k].seq;
				break;
			}
		if (theirs <= ours)
			continue;
		for (k = 0; k < n->n_floors; k++)
			if (!memcmp(n->floors[k].alliance, v->alliance, 32))
				break;
		if (k < n->n_floors && n->floors[k].seq >= theirs)
			continue;
		if (k == n->n_floors && n->n_floors < SYNC_ALLIANCES_MAX)
			memcpy(n->floors[n->n_floors++].alliance, v->alliance, 32);
		if (k < SYNC_ALLIANCES_MAX)
			n->floors[k].seq = theirs;
		NLOG(n, NODE_LOG_WARN, "sync",
		     "a peer holds our own feed up to seq %llu, we hold %llu: learning it back "
		     "before publishing", (unsigned long long)theirs, (unsigned long long)ours);
	}
}

/* --------------------------------------------------------------- peers */

struct peer *node_peer_find(struct node *n, const uint8_t key[32])
{
	for (size_t i = 0; i < n->n_peers; i++)
		if (sodium_memcmp(n->peers[i]->conf.key, key, 32) == 0)
			return n->peers[i];
	return NULL;
}

static void redial_cb(uv_timer_t *t)
{
	struct peer *p = t->data;
	if (p->node->stopping || p->session)
		return;
	p->state = PEER_CONNECTING;
	if (session_dial(p->node, p) < 0)
		node_peer_session_closed(p, "cannot dial");
}

void node_peer_session_closed(struct peer *p, const char *why)
{
	struct node *n = p->node;
	p->session = NULL;
	if (why)
		snprintf(p->last_error, sizeof(p->last_error), "%s", why);
	if (n->stopping || !p->conf.host[0]) {
		p->state = PEER_IDLE;
		return;
	}
	/* Exponential backoff with jitter: half to all of the current step. */
	unsigned step = p->backoff_ms ? p->backoff_ms : NODE_BACKOFF_MIN_MS;
	unsigned delay = step / 2 + randombytes_uniform(step / 2 + 1);
	p->backoff_ms = step * 2 > NODE_BACKOFF_MAX_MS ? NODE_BACKOFF_MAX_MS : step * 2;
	p->state = PEER_BACKOFF;
	uv_timer_start(&p->timer, redial_cb, delay, 0);
}

void node_peer_dial_now(struct peer *p)
{
	if (p->node->stopping || p->session || !p->conf.host[0])
		return;
	p->backoff_ms = 0;
	uv_timer_stop(&p->timer);
	uv_timer_start(&p->timer, redial_cb, 0, 0);
}

void node_sync_all(struct node *n, const uint8_t *peer_key, uint32_t *reached)
{
	uint32_t count = 0;
	for (struct session *s = n->sessions; s; s = s->next) {
		if (s->state != SESSION_OPEN || !s->sync_init)
			continue;
		if (peer_key && memcmp(s->peer_key, peer_key, 32))
			continue;
		if (sync_resync(&s->sync) == 0)
			count++;
	}
	for (size_t i = 0; i < n->n_peers; i++)
		if (!peer_key || !memcmp(n->peers[i]->conf.key, peer_key, 32))
			node_peer_dial_now(n->peers[i]);
	*reached = count;
}

static void peer_closed(uv_handle_t *h)
{
	free(h->data);
}

/* A configured peer: allocated here, freed by its timer's close callback. */
static struct peer *peer_add(struct node *n, const struct node_peer_conf *conf)
{
	struct peer *p;
	if (n->n_peers >= NODE_PEERS_MAX || !(p = calloc(1, sizeof(*p))))
		return NULL;
	p->node = n;
	p->conf = *conf;
	uv_timer_init(n->loop, &p->timer);
	p->timer.data = p;
	n->peers[n->n_peers++] = p;
	return p;
}

static void peer_remove(struct node *n, size_t i)
{
	struct peer *p = n->peers[i];
	/* Every session that points at the peer, not only its current one. */
	for (struct session *s = n->sessions; s; s = s->next)
		if (s->peer == p) {
			s->peer = NULL;
			session_close(s, "peer removed from agora.conf", false);
		}
	p->session = NULL;
	uv_timer_stop(&p->timer);
	uv_close((uv_handle_t *)&p->timer, peer_closed);
	memmove(&n->peers[i], &n->peers[i + 1], (n->n_peers - i - 1) * sizeof(n->peers[0]));
	n->n_peers--;
}

/*
 * Re-read agora.conf (SIGHUP, or ReloadReq on the control socket): peers
 * appear, change and disappear without a restart; a bad file changes
 * nothing.  The listen address needs a restart.
 */
int node_reload(struct node *n)
{
	struct node_config *cfg = calloc(1, sizeof(*cfg));
	char path[4200];
	int rc;

	if (!cfg)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s", n->home, NODE_CONF_NAME);
	if ((rc = node_config_load(cfg, path))) {
		NLOG(n, NODE_LOG_ERROR, "config", "%s; keeping the running configuration",
		     cfg->error[0] ? cfg->error : "cannot read agora.conf");
		free(cfg);
		return rc;
	}
	for (size_t i = n->n_peers; i-- > 0;) {
		bool keep = false;
		for (size_t k = 0; k < cfg->n_peers && !keep; k++)
			keep = !memcmp(cfg->peers[k].key, n->peers[i]->conf.key, 32);
		if (!keep)
			peer_remove(n, i);
	}
	for (size_t k = 0; k < cfg->n_peers; k++) {
		struct peer *p = node_peer_find(n, cfg->peers[k].key);
		if (!p) {
			if ((p = peer_add(n, &cfg->peers[k])) && p->conf.host[0])
				node_peer_dial_now(p);
			continue;
		}
		bool moved = strcmp(p->conf.host, cfg->peers[k].host) || p->conf.port != cfg->peers[k].port;
		p->conf = cfg->peers[k];
		if (moved && !p->session) {
			uv_timer_stop(&p->timer);
			p->state = PEER_IDLE;
			node_peer_dial_now(p);
		}
	}
	if ((cfg->has_listen && (strcmp(cfg->listen_host, n->cfg.listen_host) ||
	                         cfg->listen_port != n->cfg.listen_port)))
		NLOG(n, NODE_LOG_WARN, "config", "a new listen address takes a restart of agorad");
	snprintf(n->cfg.name, sizeof(n->cfg.name), "%s", cfg->name);
	NLOG(n, NODE_LOG_INFO, "config", "reloaded %s: %zu peer(s)", path, n->n_peers);
	free(cfg);
	return 0;
}

static void on_sighup(uv_signal_t *h, int signum)
{
	(void)signum;
	node_reload(h->data);
}

/* ---------------------------------------------------------------- tick */

static void tick_cb(uv_timer_t *t)
{
	struct node *n = t->data;
	uint64_t now = node_now_ms();
	struct store_txn *txn;
	struct store_stats st;
	bool changed = false;

	/* Records written by another process (the CLI) show up here even
	 * when nobody pokes us. */
	uv_mutex_lock(&n->store_lock);
	if (store_txn_begin(n->store, &txn) == 0) {
		if (store_stats(txn, &st) == 0 && st.records != n->local_records)
			changed = true;
		store_txn_end(txn);
	}
	/* Streaming a large feed maps much of the store into this process;
	 * the pages stay in the OS cache but need not stay in our resident
	 * set (see store_trim). */
	store_trim(n->store);
	uv_mutex_unlock(&n->store_lock);
	if (changed && !n->job && node_local_reload(n) == 0)
		node_local_changed(n);
	/* Revocations that arrived and admissions that expired take effect
	 * here, without anyone acting. */
	node_members_check(n);
	node_forks_relay(n);
	for (struct session *s = n->sessions, *next; s; s = next) {
		next = s->next;
		session_tick(s, now);
	}
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

static int write_port_file(struct node *n, int port)
{
	char path[4200], tmp[4220], text[16];
	int fd, len;

	snprintf(path, sizeof(path), "%s/%s", n->home, NODE_PORT_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	len = snprintf(text, sizeof(text), "%d\n", port);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)len) != len) {
		int e = -errno;
		close(fd);
		unlink(tmp);
		return e ? e : -EIO;
	}
	close(fd);
	return rename(tmp, path) < 0 ? -errno : 0;
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
	if ((rc = write_port_file(n, port)))
		NLOG(n, NODE_LOG_WARN, "listen", "cannot write %s: %s", NODE_PORT_FILE,
		     strerror(-rc));
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

int node_new(struct node **out, uv_loop_t *loop, const struct node_options *opt,
             const struct node_config *cfg, struct proto_key *key)
{
	struct node *n = calloc(1, sizeof(*n));
	char db[4200];
	int rc;

	if (!n)
		return -ENOMEM;
	n->loop = loop;
	n->log = opt->log;
	n->cfg = *cfg;
	n->key = key;
	n->start_ms = node_now_ms();
	snprintf(n->home, sizeof(n->home), "%s", opt->home);
	uv_mutex_init(&n->store_lock);
	snprintf(db, sizeof(db), "%s/db", n->home);
	if ((rc = store_open(&n->store, db, STORE_OPEN_LEAN))) {
		NLOG(n, NODE_LOG_ERROR, "store", "cannot open %s: %s (run `agora init` first)", db,
		     store_strerror(rc));
		goto fail;
	}
	store_set_own_key(n->store, key->pk);   /* our own feeds: floor and conflicts */
	/* As many verifying threads as cores: a sync is bound by signature
	 * checks, and they keep verifying while the store job waits on a commit. */
	if (store_verifier_start(&n->verifier, uv_available_parallelism()))
		NLOG(n, NODE_LOG_WARN, "node", "no verifier thread: records are verified when stored");
	if ((rc = node_local_reload(n)))
		goto fail;
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (!peer_add(n, &cfg->peers[i]))
			NLOG(n, NODE_LOG_ERROR, "node", "out of memory adding peers");
	uv_timer_init(loop, &n->tick);
	n->tick.data = n;
	uv_signal_init(loop, &n->sigint);
	uv_signal_init(loop, &n->sigterm);
	uv_signal_init(loop, &n->sighup);
	n->sigint.data = n->sigterm.data = n->sighup.data = n;
	if ((rc = listen_start(n, opt->listen)) || (rc = control_open(n))) {
		node_stop(n);
		*out = n;
		return rc;
	}
	uv_signal_start(&n->sigint, on_signal, SIGINT);
	uv_signal_start(&n->sigterm, on_signal, SIGTERM);
	uv_signal_start(&n->sighup, on_sighup, SIGHUP);
	uv_timer_start(&n->tick, tick_cb, 1000, 1000);
	for (size_t i = 0; i < n->n_peers; i++)
		if (n->peers[i]->conf.host[0])
			node_peer_dial_now(n->peers[i]);
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
	uv_mutex_destroy(&n->store_lock);
	node_local_free(&n->local);
	free(n);
	return rc;
}

void node_stop(struct node *n)
{
	if (n->stopping)
		return;
	n->stopping = true;
	/* Stop accepting first, then close sessions; an ingest job already in
	 * the threadpool finishes its write transaction, and uv_run() returns
	 * once it and every handle are done. */
	if (n->listening && !uv_is_closing((uv_handle_t *)&n->listener))
		uv_close((uv_handle_t *)&n->listener, NULL);
	control_close(n);
	uv_close((uv_handle_t *)&n->tick, NULL);
	uv_close((uv_handle_t *)&n->sigint, NULL);
	uv_close((uv_handle_t *)&n->sigterm, NULL);
	uv_close((uv_handle_t *)&n->sighup, NULL);
	for (size_t i = 0; i < n->n_peers; i++)
		uv_close((uv_handle_t *)&n->peers[i]->timer, peer_closed);
	n->n_peers = 0;
	for (struct session *s = n->sessions; s; s = s->next)
		session_close(s, "node shutting down", false);
	ingest_drop_all(n);
}

void node_free(struct node *n)
{
	char path[4200];
	if (!n)
		return;
	snprintf(path, sizeof(path), "%s/%s", n->home, NODE_PORT_FILE);
	unlink(path);
	store_verifier_stop(n->verifier);
	store_close(n->store);
	uv_mutex_destroy(&n->store_lock);
	node_local_free(&n->local);
	free(n);
}
