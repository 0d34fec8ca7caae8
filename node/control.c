/*
 * control.c - the control socket <home>/agorad.sock (AF_UNIX, 0600): one
 * length-prefixed control.proto Request per connection, one Response.  The
 * framing, the limits and the request checks are proto's (proto_control_*),
 * shared with the CLI's client.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "node/node_int.h"
#include "control.pb-c.h"

#define CONTROL_STUCK_MAX 16

struct cwrite {
	uv_write_t req;
	struct control_client *c;
	uint8_t *buf;
};

/* A client has two handles (pipe, idle timer): freed when both closed. */
static void client_closed(uv_handle_t *h)
{
	struct control_client *c = h->data;
	if (--c->closing == 0)
		free(c);
}

static void client_close(struct control_client *c)
{
	if (uv_is_closing((uv_handle_t *)&c->pipe))
		return;
	c->closing = 2;
	uv_close((uv_handle_t *)&c->pipe, client_closed);
	uv_close((uv_handle_t *)&c->timer, client_closed);
}

/* A client that does not ask within NODE_CONTROL_IDLE_MS is dropped, so
 * idle connections cannot pile up (or be held open for ever). */
static void client_idle(uv_timer_t *t)
{
	client_close(t->data);
}

static void on_written(uv_write_t *req, int status)
{
	struct cwrite *w = (struct cwrite *)req;
	(void)status;
	client_close(w->c);
	free(w->buf);
	free(w);
}

/* ------------------------------------------------------------ replies */

static const char *peer_state_name(const struct peer *p)
{
	if (p->session)
		return session_state_name(p->session);
	switch (p->state) {
	case PEER_CONNECTING: return "connecting";
	case PEER_BACKOFF: return "backoff";
	case PEER_RESOLVING: return "resolving";
	case PEER_REFUSED: return "refused";
	default: return "idle";
	}
}

struct reply {
	Agora__Control__Response r;
	Agora__Control__Status st;
	Agora__Control__Peer *peers;
	Agora__Control__Peer **peer_ptrs;
	Agora__Control__StuckFeed *stuck;
	Agora__Control__StuckFeed **stuck_ptrs;
	Agora__Control__Alliance *al;
	Agora__Control__Alliance **al_ptrs;
	struct sync_stuck *raw_stuck;
	char (*addrs)[NODE_HOST_MAX + 8];
	Agora__Control__Problem *pr;
	Agora__Control__Problem **pr_ptrs;
	char (*pr_text)[256];
};

static void reply_free(struct reply *rp)
{
	free(rp->pr);
	free(rp->pr_ptrs);
	free(rp->pr_text);
	free(rp->peers);
	free(rp->peer_ptrs);
	free(rp->stuck);
	free(rp->stuck_ptrs);
	free(rp->al);
	free(rp->al_ptrs);
	free(rp->raw_stuck);
	free(rp->addrs);
}

static int fill_peers(struct node *n, struct reply *rp)
{
	size_t np = n->n_peers, ns = 0;
	uint64_t now = node_mono_ms(n);

	rp->addrs = calloc(np + 1, sizeof(*rp->addrs));
	if (!rp->addrs)
		return -ENOMEM;
	rp->peers = calloc(np + 1, sizeof(*rp->peers));
	rp->peer_ptrs = calloc(np + 1, sizeof(*rp->peer_ptrs));
	rp->stuck = calloc(np * CONTROL_STUCK_MAX + 1, sizeof(*rp->stuck));
	rp->stuck_ptrs = calloc(np * CONTROL_STUCK_MAX + 1, sizeof(*rp->stuck_ptrs));
	rp->raw_stuck = calloc(np * CONTROL_STUCK_MAX + 1, sizeof(*rp->raw_stuck));
	if (!rp->peers || !rp->peer_ptrs || !rp->stuck || !rp->stuck_ptrs || !rp->raw_stuck)
		return -ENOMEM;
	for (size_t i = 0; i < np; i++) {
		struct peer *p = n->peers[i];
		struct session *s = p->session;
		Agora__Control__Peer *o = &rp->peers[i];
		agora__control__peer__init(o);
		rp->peer_ptrs[i] = o;
		o->has_key = true;
		o->key.data = p->conf.key;
		o->key.len = 32;
		o->name = p->conf.name;
		if (p->conf.host[0])
			snprintf(rp->addrs[i], sizeof(rp->addrs[i]),
			         strchr(p->conf.host, ':') ? "[%s]:%u" : "%s:%u", p->conf.host, p->conf.port);
		o->address = s ? s->addr : rp->addrs[i];
		o->state = (char *)peer_state_name(p);
		o->has_configured = o->configured = true;
		o->last_error = s && s->last_error[0] ? s->last_error : p->last_error;
		if (!s)
			continue;
		o->has_inbound = true;
		o->inbound = s->inbound;
		o->has_bytes_in = o->has_bytes_out = true;
		o->bytes_in = s->bytes_in;
		o->bytes_out = s->bytes_out;
		o->has_connected_ms = true;
		o->connected_ms = now - s->opened_ms;
		o->has_unstored = o->has_paused = true;
		o->unstored = s->recv_pending;
		o->paused = (s->pause & PAUSE_RECVQ) != 0;
		o->not_reading = (char *)session_pause_text(s);
		if (s->state != SESSION_OPEN)
			continue;
		struct sync_counters c;
		sync_counters(&s->sync, &c);
		if (sync_peer_name(&s->sync)[0] && !p->conf.name[0])
			o->name = (char *)sync_peer_name(&s->sync);
		o->has_records_in = o->has_records_out = true;
		o->records_in = c.records_in;
		o->records_out = c.records_out;
		size_t k = 0;
		struct sync_stuck *raw = rp->raw_stuck + ns;
		sync_lag(&s->sync, now, &o->behind, &o->ahead, raw, CONTROL_STUCK_MAX, &k);
		o->has_behind = o->has_ahead = true;
		o->stuck = rp->stuck_ptrs + ns;
		o->n_stuck = k;
		for (size_t j = 0; j < k; j++) {
			Agora__Control__StuckFeed *f = &rp->stuck[ns + j];
			agora__control__stuck_feed__init(f);
			rp->stuck_ptrs[ns + j] = f;
			f->has_alliance = f->has_author = true;
			f->alliance.data = raw[j].alliance;
			f->alliance.len = 32;
			f->author.data = raw[j].author;
			f->author.len = 32;
			f->has_our_seq = f->has_peer_seq = f->has_stalled_ms = true;
			f->our_seq = raw[j].our_seq;
			f->peer_seq = raw[j].peer_seq;
			f->stalled_ms = raw[j].stalled_ms;
		}
		ns += k;
	}
	return 0;
}

/* What needs the operator: a full disk, feeds waiting for an upgrade. */
static int fill_problems(struct node *n, struct reply *rp)
{
	size_t cap = 1 + n->n_upgrades, k = 0;
	rp->pr = calloc(cap, sizeof(*rp->pr));
	rp->pr_ptrs = calloc(cap, sizeof(*rp->pr_ptrs));
	rp->pr_text = calloc(cap, sizeof(*rp->pr_text));
	if (!rp->pr || !rp->pr_ptrs || !rp->pr_text)
		return -ENOMEM;
	if (n->disk_until_ms) {
		Agora__Control__Problem *p = &rp->pr[k];
		agora__control__problem__init(p);
		p->kind = "disk_full";
		snprintf(rp->pr_text[k], sizeof(rp->pr_text[k]),
		         "the disk is full (No space left on device): not receiving records; free "
		         "space in %.120s/db, agorad tries again by itself", n->home);
		p->text = rp->pr_text[k];
		rp->pr_ptrs[k++] = p;
	}
	for (size_t i = 0; i < n->n_upgrades; i++) {
		Agora__Control__Problem *p = &rp->pr[k];
		char au[17];
		agora__control__problem__init(p);
		p->kind = "upgrade_required";
		proto_hex(au, n->upgrades[i].author, 8);
		snprintf(rp->pr_text[k], sizeof(rp->pr_text[k]),
		         "the records of %s… stop at seq %llu: it needs a newer agora; upgrade "
		         "agora to take it and the author's records after it", au,
		         (unsigned long long)n->upgrades[i].seq);
		p->text = rp->pr_text[k];
		p->has_alliance = p->has_author = p->has_seq = true;
		p->alliance.data = n->upgrades[i].alliance;
		p->alliance.len = 32;
		p->author.data = n->upgrades[i].author;
		p->author.len = 32;
		p->seq = n->upgrades[i].seq;
		rp->pr_ptrs[k++] = p;
	}
	rp->st.problems = rp->pr_ptrs;
	rp->st.n_problems = k;
	return 0;
}

static int fill_status(struct node *n, struct reply *rp)
{
	Agora__Control__Status *st = &rp->st;
	uint64_t feeds = 0;

	agora__control__status__init(st);
	st->has_identity = true;
	st->identity.data = n->key->pk;
	st->identity.len = 32;
	st->name = n->cfg.name;
	st->listen = n->listen_str;
	st->has_uptime_ms = true;
	st->uptime_ms = node_mono_ms(n) - n->start_ms;
	st->has_records_received = st->has_records_already_held = true;
	st->records_received = n->records_received;
	st->records_already_held = n->records_held;
	struct node_blob_counts bc;
	node_blobs_counts(n, &bc);
	st->has_attachments_missing = st->has_attachments_missing_bytes = true;
	st->has_attachments_over_limit = st->has_attachments_fetched = true;
	st->has_attachments_fetched_bytes = true;
	st->attachments_missing = bc.missing;
	st->attachments_missing_bytes = bc.missing_bytes;
	st->attachments_over_limit = bc.over_limit;
	st->attachments_fetched = bc.fetched;
	st->attachments_fetched_bytes = bc.fetched_bytes;
	rp->al = calloc(n->local.n + 1, sizeof(*rp->al));
	rp->al_ptrs = calloc(n->local.n + 1, sizeof(*rp->al_ptrs));
	if (!rp->al || !rp->al_ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < n->local.n; i++) {
		Agora__Control__Alliance *a = &rp->al[i];
		agora__control__alliance__init(a);
		rp->al_ptrs[i] = a;
		a->has_id = a->has_feeds = a->has_records = true;
		a->id.data = n->local.v[i].alliance;
		a->id.len = 32;
		a->feeds = n->local.v[i].n;
		for (size_t k = 0; k < n->local.v[i].n; k++)
			a->records += n->local.v[i].heads[k].seq;
		feeds += n->local.v[i].n;
	}
	st->alliances = rp->al_ptrs;
	st->n_alliances = n->local.n;
	st->has_feeds = true;
	st->feeds = feeds;
	st->has_records = true;
	st->records = n->view_records;   /* the view's count: no store read here */
	st->peers = rp->peer_ptrs;
	st->n_peers = n->n_peers;
	rp->r.status = st;
	return fill_problems(n, rp);
}

static void handle(struct control_client *c, const uint8_t *msg, size_t len)
{
	struct node *n = c->node;
	const char *err = NULL;
	Agora__Control__Request *req = NULL;
	struct reply rp;
	int rc = 0;

	memset(&rp, 0, sizeof(rp));
	agora__control__response__init(&rp.r);
	if (proto_control_request_decode(&req, msg, len, &err) < 0) {
		rc = -EINVAL;
		rp.r.error = (char *)err;
		goto send;
	}
	switch (req->req_case) {
	case AGORA__CONTROL__REQUEST__REQ_STATUS:
		if (!(rc = fill_peers(n, &rp)))
			rc = fill_status(n, &rp);
		break;
	case AGORA__CONTROL__REQUEST__REQ_PEERS:
		if (!(rc = fill_peers(n, &rp))) {
			rp.r.peers = rp.peer_ptrs;
			rp.r.n_peers = n->n_peers;
		}
		break;
	case AGORA__CONTROL__REQUEST__REQ_SYNC: {
		const uint8_t *key = NULL;
		if (req->sync->has_peer) {   /* 32 bytes: proto_control_request_decode */
			key = req->sync->peer.data;
			if (!node_peer_find(n, key)) {
				rc = -ENOENT;
				rp.r.error = "no such peer in agora.conf";
				break;
			}
		}
		rp.r.has_sessions = true;
		view_refresh(n);   /* pick up local writes too */
		node_sync_all(n, key, &rp.r.sessions);
		break;
	}
	case AGORA__CONTROL__REQUEST__REQ_RELOAD:
		if ((rc = node_reload(n)) == NODE_E_CONFIG)
			rp.r.error = "agora.conf is invalid: see agorad's log; nothing changed";
		break;
	case AGORA__CONTROL__REQUEST__REQ_POKE:
		/* Pick up the local write now rather than at the next poll: a
		 * job reads what changed; the answer goes at once. */
		view_refresh(n);
		break;
	default:
		rc = -EINVAL;
		rp.r.error = "unknown request";
		break;
	}
	if (rc && !rp.r.error)
		rp.r.error = (char *)(rc == -ENOMEM ? "out of memory" : "request failed");
send:
	rp.r.has_code = true;
	rp.r.code = rc;
	{
		struct cwrite *w = calloc(1, sizeof(*w));
		uint8_t *buf = NULL;
		size_t blen = 0;
		if (!w || proto_control_response_pack(&buf, &blen, &rp.r) < 0) {
			free(w);
			client_close(c);
		} else {
			w->c = c;
			w->buf = buf;
			uv_buf_t b = uv_buf_init((char *)buf, (unsigned)blen);
			if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_written)) {
				free(buf);
				free(w);
				client_close(c);
			}
		}
	}
	if (req)
		agora__control__request__free_unpacked(req, NULL);
	reply_free(&rp);
}

/* --------------------------------------------------------------- read */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct control_client *c = h->data;
	(void)suggested;
	*buf = uv_buf_init((char *)c->buf + c->len, (unsigned)(sizeof(c->buf) - c->len));
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct control_client *c = st->data;
	size_t want;
	(void)buf;
	if (nread < 0) {
		client_close(c);
		return;
	}
	c->len += (size_t)nread;
	int fr = proto_control_frame(c->buf, c->len, PROTO_CONTROL_REQUEST_MAX, &want);
	if (fr < 0) {
		client_close(c);
		return;
	}
	if (fr == 0 || c->answered)
		return;
	c->answered = true;
	uv_read_stop(st);
	handle(c, c->buf + PROTO_CONTROL_HDR, want);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct node *n = server->data;
	struct control_client *c;
	if (status < 0 || !(c = calloc(1, sizeof(*c))))
		return;
	c->node = n;
	uv_pipe_init(n->loop, &c->pipe, 0);
	uv_timer_init(n->loop, &c->timer);
	c->pipe.data = c->timer.data = c;
	uv_timer_start(&c->timer, client_idle, NODE_CONTROL_IDLE_MS, 0);
	if (uv_accept(server, (uv_stream_t *)&c->pipe) ||
	    uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, on_read))
		client_close(c);
}

/* Is an agorad already answering on this socket? */
static bool socket_live(const char *path)
{
	struct sockaddr_un a;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;
	if (fd < 0)
		return false;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	live = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return live;
}

int control_open(struct node *n)
{
	int rc;
	if (store_home_path(n->sock_path, sizeof(n->sock_path), n->home, STORE_HOME_SOCK, NULL) ||
	    strlen(n->sock_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		NLOG(n, NODE_LOG_ERROR, "control", "socket path too long: %s", n->sock_path);
		return -ENAMETOOLONG;
	}
	if (socket_live(n->sock_path)) {
		NLOG(n, NODE_LOG_ERROR, "control", "another agorad is running on %s", n->sock_path);
		return -EADDRINUSE;
	}
	unlink(n->sock_path);   /* stale from a node that died */
	uv_pipe_init(n->loop, &n->control, 0);
	n->control.data = n;
	n->control_open = true;
	/* 0600 from the start: no window in which others could connect. */
	mode_t old = umask(0177);
	rc = uv_pipe_bind(&n->control, n->sock_path);
	umask(old);
	if (rc == 0)
		rc = chmod(n->sock_path, 0600) ? -errno : 0;
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&n->control, 16, on_connection);
	if (rc) {
		NLOG(n, NODE_LOG_ERROR, "control", "cannot listen on %s: %s", n->sock_path,
		     uv_strerror(rc));
		return rc;
	}
	return 0;
}

void control_close(struct node *n)
{
	if (!n->control_open)
		return;
	n->control_open = false;
	uv_close((uv_handle_t *)&n->control, NULL);
	unlink(n->sock_path);
}
