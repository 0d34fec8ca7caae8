/*
 * peers.c - the peers in agora.conf: dialing (host names resolved with
 * uv_getaddrinfo, off the loop), redial backoff, a peer that refused us
 * for good, and agora.conf reloads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/node_int.h"

/* A session that stayed open this long was a success: the backoff starts
 * over.  (Reset at every handshake, a peer that closes at once was
 * redialled every ~0.7 s for ever.) */
#define PEER_STABLE_MS 60000

struct peer *node_peer_find(struct node *n, const uint8_t key[32])
{
	for (size_t i = 0; i < n->n_peers; i++)
		if (sodium_memcmp(n->peers[i]->conf.key, key, 32) == 0)
			return n->peers[i];
	return NULL;
}

static void dial(struct peer *p, const struct sockaddr *addr)
{
	p->state = PEER_CONNECTING;
	if (session_dial(p->node, p, addr) < 0)
		node_peer_session_closed(p, "cannot dial", MESH_CLOSE_FAILED, 0);
}

static void peer_free_if_done(struct peer *p)
{
	if (p->timer_closed && !p->gai_busy)
		free(p);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct peer *p = req->data;
	p->gai_busy = false;
	if (p->timer_closed) {   /* removed, or the node stopped, meanwhile */
		uv_freeaddrinfo(res);
		peer_free_if_done(p);
		return;
	}
	if (status < 0 || !res) {
		char why[320];
		snprintf(why, sizeof(why), "cannot resolve %s: %s", p->conf.host, uv_strerror(status));
		uv_freeaddrinfo(res);
		node_peer_session_closed(p, why, MESH_CLOSE_FAILED, 0);
		return;
	}
	if (!p->session && !p->node->stopping)
		dial(p, res->ai_addr);
	uv_freeaddrinfo(res);
}

static void redial_cb(uv_timer_t *t)
{
	struct peer *p = t->data;
	struct node *n = p->node;
	struct sockaddr_storage ss;
	struct addrinfo hints;
	char port[8];

	if (n->stopping || p->session || p->gai_busy)
		return;
	if (uv_ip4_addr(p->conf.host, p->conf.port, (struct sockaddr_in *)&ss) == 0 ||
	    uv_ip6_addr(p->conf.host, p->conf.port, (struct sockaddr_in6 *)&ss) == 0) {
		dial(p, (struct sockaddr *)&ss);
		return;
	}
	/* A host name: resolved on the threadpool (a silent DNS server must
	 * not hold the loop). */
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", p->conf.port);
	p->gai.data = p;
	p->state = PEER_RESOLVING;
	if (uv_getaddrinfo(n->loop, &p->gai, on_resolved, p->conf.host, port, &hints) == 0)
		p->gai_busy = true;
	else
		node_peer_session_closed(p, "cannot resolve its address", MESH_CLOSE_FAILED, 0);
}

static void peer_remove(struct node *n, size_t i);

void node_peer_session_closed(struct peer *p, const char *why, enum mesh_close how,
                              uint64_t retry_after_ms)
{
	struct node *n = p->node;
	uint64_t now = node_mono_ms(n);
	p->session = NULL;
	if (!n->stopping)
		peering_closed(n, p->conf.key, how, retry_after_ms);
	if (p->transient && !n->stopping) {
		for (size_t i = 0; i < n->n_peers; i++)
			if (n->peers[i] == p) {
				peer_remove(n, i);
				break;
			}
		return;
	}
	if (why)
		snprintf(p->last_error, sizeof(p->last_error), "%s", why);
	if (n->stopping || !p->conf.host[0]) {
		p->state = PEER_IDLE;
		return;
	}
	if (p->conf.bootstrap) {
		/* the mesh dials it when it is needed (peering.c) */
		uv_timer_stop(&p->timer);
		p->state = how == MESH_CLOSE_REFUSED ? PEER_REFUSED : PEER_IDLE;
		p->refused = how == MESH_CLOSE_REFUSED;
		return;
	}
	if (how == MESH_CLOSE_REFUSED) {
		p->state = PEER_REFUSED;
		p->refused = true;
		NLOG(n, NODE_LOG_WARN, "peer", "%s refused this node (%s): not redialling it until "
		     "agora.conf or the alliance changes, or `agora sync`", p->conf.name[0] ?
		     p->conf.name : p->conf.host, why ? why : "no reason");
		return;
	}
	if (p->open_since_ms && now - p->open_since_ms > PEER_STABLE_MS)
		p->backoff_ms = 0;
	p->open_since_ms = 0;
	/* Exponential backoff with jitter: half to all of the current step. */
	unsigned step = p->backoff_ms ? p->backoff_ms : NODE_BACKOFF_MIN_MS;
	uint64_t delay = step / 2 + randombytes_uniform(step / 2 + 1);
	p->backoff_ms = step * 2 > NODE_BACKOFF_MAX_MS ? NODE_BACKOFF_MAX_MS : step * 2;
	if (how == MESH_CLOSE_BUSY && retry_after_ms > delay)   /* it asked us to wait */
		delay = retry_after_ms < MESH_RETRY_AFTER_MAX_MS ? retry_after_ms :
		        MESH_RETRY_AFTER_MAX_MS;
	p->state = PEER_BACKOFF;
	uv_timer_start(&p->timer, redial_cb, delay, 0);
}

void node_peer_dial_now(struct peer *p)
{
	if (p->node->stopping || p->session || !p->conf.host[0])
		return;
	p->backoff_ms = 0;
	p->refused = false;
	uv_timer_stop(&p->timer);
	uv_timer_start(&p->timer, redial_cb, 0, 0);
}

void node_sync_all(struct node *n, const uint8_t *peer_key, uint32_t *reached)
{
	uint32_t count = 0;
	for (struct session *s = n->sessions; s; s = s->next) {
		if (s->state != SESSION_OPEN)
			continue;
		if (peer_key && memcmp(s->peer_key, peer_key, 32))
			continue;
		if (sync_resync(&s->sync) == 0)
			count++;
		session_kick(s);
	}
	for (size_t i = 0; i < n->n_peers; i++)
		if ((!peer_key || !memcmp(n->peers[i]->conf.key, peer_key, 32)) &&
		    !n->peers[i]->conf.bootstrap)
			node_peer_dial_now(n->peers[i]);
	peering_retry_now(n);   /* the mesh's members and bootstraps */
	*reached = count;
}

static void peer_timer_closed(uv_handle_t *h)
{
	struct peer *p = h->data;
	p->timer_closed = true;
	peer_free_if_done(p);
}

static void peer_close(struct peer *p)
{
	uv_timer_stop(&p->timer);
	if (p->gai_busy)
		uv_cancel((uv_req_t *)&p->gai);   /* its callback still runs */
	uv_close((uv_handle_t *)&p->timer, peer_timer_closed);
}

/* A configured peer: allocated here, freed once its timer closed and no
 * name lookup holds it. */
struct peer *node_peer_add(struct node *n, const struct node_peer_conf *conf)
{
	struct peer *p;
	if (n->n_peers == n->cap_peers) {
		size_t cap = n->cap_peers ? n->cap_peers * 2 : 16;
		struct peer **v = realloc(n->peers, cap * sizeof(*v));
		if (!v)
			return NULL;
		n->peers = v;
		n->cap_peers = cap;
	}
	if (!(p = calloc(1, sizeof(*p))))
		return NULL;
	p->node = n;
	p->conf = *conf;
	uv_timer_init(n->loop, &p->timer);
	p->timer.data = p;
	n->peers[n->n_peers++] = p;
	return p;
}

struct peer *node_peer_accepted(struct node *n, const uint8_t key[32], const char *name)
{
	struct node_peer_conf conf;
	memset(&conf, 0, sizeof(conf));
	memcpy(conf.key, key, 32);
	snprintf(conf.name, sizeof(conf.name), "%s", name ? name : "");
	struct peer *p = node_peer_add(n, &conf);
	if (p)
		p->transient = true;
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
	peer_close(p);
	memmove(&n->peers[i], &n->peers[i + 1], (n->n_peers - i - 1) * sizeof(n->peers[0]));
	n->n_peers--;
}

void node_peers_close(struct node *n)
{
	for (size_t i = 0; i < n->n_peers; i++)
		peer_close(n->peers[i]);
	n->n_peers = 0;
}

/*
 * Re-read agora.conf (SIGHUP, or ReloadReq on the control socket): peers
 * and [hook]s appear, change and disappear without a restart; a bad file
 * changes nothing.  The listen address needs a restart.
 */
int node_reload(struct node *n)
{
	struct node_config *cfg = calloc(1, sizeof(*cfg));
	char path[4200];
	int rc;

	if (!cfg)
		return -ENOMEM;
	store_home_path(path, sizeof(path), n->home, STORE_HOME_CONF, NULL);
	if ((rc = node_config_load(cfg, path))) {
		NLOG(n, NODE_LOG_ERROR, "config", "%s; keeping the running configuration",
		     cfg->error[0] ? cfg->error : "cannot read agora.conf");
		node_config_dispose(cfg);
		free(cfg);
		return rc;
	}
	for (size_t i = n->n_peers; i-- > 0;) {
		bool keep = false;
		for (size_t k = 0; k < cfg->n_peers && !keep; k++)
			keep = !memcmp(cfg->peers[k].key, n->peers[i]->conf.key, 32);
		if (!keep && !n->peers[i]->transient)
			peer_remove(n, i);
	}
	n->cand_dirty = true;   /* pinned and bootstrap keys may have changed */
	for (size_t k = 0; k < cfg->n_peers; k++) {
		struct peer *p = node_peer_find(n, cfg->peers[k].key);
		if (!p) {
			if ((p = node_peer_add(n, &cfg->peers[k])) && p->conf.host[0] &&
			    !p->conf.bootstrap)
				node_peer_dial_now(p);
			continue;
		}
		bool moved = strcmp(p->conf.host, cfg->peers[k].host) || p->conf.port != cfg->peers[k].port;
		p->conf = cfg->peers[k];
		p->transient = p->meshed = false;   /* in agora.conf now: it stays */
		if ((moved || p->refused) && !p->session) {
			uv_timer_stop(&p->timer);
			p->state = PEER_IDLE;
			if (!p->conf.bootstrap)
				node_peer_dial_now(p);
		}
	}
	if ((cfg->has_listen && (strcmp(cfg->listen_host, n->cfg.listen_host) ||
	                         cfg->listen_port != n->cfg.listen_port)))
		NLOG(n, NODE_LOG_WARN, "config", "a new listen address takes a restart of agorad");
	snprintf(n->cfg.name, sizeof(n->cfg.name), "%s", cfg->name);
	n->cfg.attach_max_file = cfg->attach_max_file;   /* blobs.c reads them on its tick */
	n->cfg.attach_quota = cfg->attach_quota;
	if (node_hooks_reload(n, cfg->hooks, cfg->n_hooks))
		NLOG(n, NODE_LOG_ERROR, "hook", "out of memory: the [hook]s stay as they were");
	NLOG(n, NODE_LOG_INFO, "config", "reloaded %s: %zu peer(s), %zu hook(s)", path, n->n_peers,
	     cfg->n_hooks);
	node_config_dispose(cfg);
	free(cfg);
	return 0;
}
