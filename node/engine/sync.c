/*
 * sync.c - the sync engine's states (see sync.h and proto/PROTOCOL.md
 * section 4): lifecycle, one receive function per state, Hello and the
 * protocol version, Bye, the Redeem exchange, Ping, and what the node
 * reads.  The exchange is in sync_exchange.c, streaming in sync_feeds.c.
 *
 * Every message is walked (sync_walk.c) before protobuf-c unpacks it, so
 * what it costs to refuse a message is the walk, whatever its size.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/engine/sync_int.h"
#include "proto/proto.h"

_Static_assert((int)SYNC_BYE_NOT_A_PEER == (int)AGORA__WIRE__BYE_CODE__BYE_NOT_A_PEER &&
               (int)SYNC_BYE_FEED_DIVERGED == (int)AGORA__WIRE__BYE_CODE__BYE_FEED_DIVERGED &&
               (int)SYNC_BYE_NOT_ADMITTED == (int)AGORA__WIRE__BYE_CODE__BYE_NOT_ADMITTED,
               "enum sync_bye_code follows wire.proto's ByeCode");

const char *sync_strerror(int code)
{
	switch (code) {
	case SYNC_E_PROTOCOL: return "protocol violation (malformed or unexpected message)";
	case SYNC_E_VERSION: return "no protocol version in common with the peer";
	case SYNC_E_IDENTITY: return "Hello names another key than the handshake proved";
	case SYNC_E_LIMIT: return "peer exceeded a protocol limit";
	case SYNC_E_BYE: return "peer said goodbye";
	case SYNC_E_STATE: return "sync call not allowed in this state";
	case SYNC_E_DIVERGED: return "peer kept sending a feed that diverged from ours";
	case SYNC_E_NOT_ADMITTED: return "unknown key sent something other than an invite redemption";
	case SYNC_E_CLOSED: return "session is closing (a Bye was sent or received)";
	case -ENOMEM: return "out of memory";
	default: return code < 0 ? "sync error" : "success";
	}
}

bool sync_is_fatal(int code)
{
	return code < 0;
}

const char *sync_bye_code_name(uint32_t code)
{
	const char *n = code > 0x7fffffff ? NULL :
	                proto_enum_name(&agora__wire__bye_code__descriptor, (int)code);
	return n ? n : "unknown";
}

/* ---------------------------------------------------------- plumbing */

struct sync_lvec *sync_lvec_of(const struct sync *s, const uint8_t *alliance)
{
	for (size_t i = 0; i < s->local->n; i++)
		if (!memcmp(s->local->v[i].alliance, alliance, 32))
			return &s->local->v[i];
	return NULL;
}

struct sync_alliance *sync_alliance_find(const struct sync *s, const uint8_t *alliance)
{
	for (size_t i = 0; i < s->n_al; i++)
		if (!memcmp(s->al[i].id, alliance, 32))
			return &s->al[i];
	return NULL;
}

int sync_alliance_add(struct sync *s, const uint8_t *alliance, struct sync_alliance **out)
{
	struct sync_alliance *al;
	if ((*out = sync_alliance_find(s, alliance)))
		return 0;
	if (s->n_al >= SYNC_ALLIANCES_MAX)
		return SYNC_E_LIMIT;
	if (!(al = realloc(s->al, (s->n_al + 1) * sizeof(*al))))
		return -ENOMEM;
	s->al = al;
	memset(&al[s->n_al], 0, sizeof(*al));
	memcpy(al[s->n_al].id, alliance, 32);
	*out = &al[s->n_al++];
	return 0;
}

bool sync_allowed(const struct sync *s, const uint8_t *alliance)
{
	return !s->io.allowed || s->io.allowed(s->io.ctx, alliance);
}

int sync_send_msg(struct sync *s, Agora__Wire__Message *m)
{
	size_t len;
	uint8_t *buf;
	int rc;

	if (s->bye_out)
		return SYNC_E_CLOSED;
	len = agora__wire__message__get_packed_size(m);
	if (!(buf = malloc(len ? len : 1)))
		return -ENOMEM;
	agora__wire__message__pack(m, buf);
	rc = s->io.send(s->io.ctx, buf, len);
	free(buf);
	if (rc == 0) {
		s->c.msgs_out++;
		s->c.bytes_out += len;
	}
	return rc;
}

static int perr(struct sync *s, int code, const char *why)
{
	snprintf(s->why, sizeof(s->why), "%s", why);
	return code;
}

static enum sync_bye_code bye_code_of(int rc)
{
	switch (rc) {
	case SYNC_E_VERSION: return SYNC_BYE_NO_COMMON_VERSION;
	case SYNC_E_IDENTITY: return SYNC_BYE_IDENTITY;
	case SYNC_E_LIMIT: return SYNC_BYE_LIMIT_EXCEEDED;
	case SYNC_E_DIVERGED: return SYNC_BYE_FEED_DIVERGED;
	case SYNC_E_NOT_ADMITTED: return SYNC_BYE_NOT_ADMITTED;
	default: return SYNC_BYE_PROTOCOL_ERROR;
	}
}

int sync_fail(struct sync *s, int rc, const char *why)
{
	if (why && !s->why[0])
		snprintf(s->why, sizeof(s->why), "%s", why);
	if (!s->why[0])
		snprintf(s->why, sizeof(s->why), "%s", sync_strerror(rc));
	if (!s->bye_out && !s->bye_in)
		(void)sync_send_bye(s, bye_code_of(rc), s->why, 0);
	s->state = SYNC_STATE_FAILED;
	return rc;
}

/* ------------------------------------------------------------ lifecycle */

int sync_init(struct sync *s, unsigned flags, const uint8_t self[SYNC_KEY_BYTES],
              const char *name, const uint8_t peer_key[SYNC_KEY_BYTES],
              struct sync_local *local, const struct sync_io *io)
{
	if (!s || !self || !peer_key || !local || !io || !io->send || !io->read || !io->records ||
	    ((flags & SYNC_AWAIT_REDEEM) && !io->redeem))
		return SYNC_E_PROTOCOL;
	memset(s, 0, sizeof(*s));
	s->initiator = flags & SYNC_INITIATOR;
	memcpy(s->self, self, 32);
	memcpy(s->peer_key, peer_key, 32);
	snprintf(s->name, sizeof(s->name), "%s", name ? name : "");
	s->local = local;
	s->io = *io;
	s->next_exchange = s->initiator ? 1 : 2;
	s->eager_only = flags & SYNC_EAGER_ONLY;
	s->graft_ms = SYNC_GRAFT_MS;
	s->next_due = UINT64_MAX;
	s->state = (flags & SYNC_AWAIT_REDEEM) ? SYNC_STATE_AWAIT_REDEEM : SYNC_STATE_HELLO;
	return 0;
}

void sync_dispose(struct sync *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_al; i++) {
		free(s->al[i].peer);
		free(s->al[i].miss);
		sync_exchange_clear(&s->al[i].ex[0]);
		sync_exchange_clear(&s->al[i].ex[1]);
	}
	free(s->al);
	free(s->out);
	free(s->div);
	memset(s, 0, sizeof(*s));
}

static int send_hello(struct sync *s)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Hello h = AGORA__WIRE__HELLO__INIT;
	ProtobufCBinaryData *ids = calloc(s->local->n ? s->local->n : 1, sizeof(*ids));
	size_t k = 0;
	int rc;

	if (!ids)
		return -ENOMEM;
	h.has_version = true;
	h.version = SYNC_VERSION_MIN;
	h.has_max_version = true;
	h.max_version = SYNC_VERSION_MAX;
	h.has_node_key = true;
	h.node_key.data = s->self;
	h.node_key.len = 32;
	h.name = s->name;
	h.has_sessions = s->has_sessions;
	h.sessions = s->sessions;
	for (size_t i = 0; i < s->local->n && k < SYNC_HELLO_ALLIANCES_MAX; i++) {
		if (!sync_allowed(s, s->local->v[i].alliance))
			continue;   /* never name an alliance the peer is not in */
		ids[k].data = s->local->v[i].alliance;
		ids[k++].len = 32;
	}
	h.n_alliances = k;
	h.alliances = ids;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_HELLO;
	m.hello = &h;
	rc = sync_send_msg(s, &m);
	free(ids);
	if (!rc)
		s->hello_out = true;
	return rc;
}

void sync_set_sessions(struct sync *s, uint32_t n)
{
	s->sessions = n;
	s->has_sessions = true;
}

uint32_t sync_peer_sessions(const struct sync *s)
{
	return s->peer_sessions;
}

int sync_start(struct sync *s)
{
	if (s->state != SYNC_STATE_HELLO || s->hello_out)
		return SYNC_E_STATE;
	return send_hello(s);
}

int sync_start_redeem(struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                      const uint8_t token[SYNC_KEY_BYTES])
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Redeem r = AGORA__WIRE__REDEEM__INIT;
	int rc;

	if (s->state != SYNC_STATE_HELLO || s->hello_out)
		return SYNC_E_STATE;
	r.has_alliance = r.has_token = true;
	r.alliance.data = (uint8_t *)alliance;
	r.alliance.len = 32;
	r.token.data = (uint8_t *)token;
	r.token.len = 32;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_REDEEM;
	m.redeem = &r;
	if ((rc = sync_send_msg(s, &m)))
		return rc;
	return send_hello(s);
}

int sync_admit(struct sync *s)
{
	if (s->state != SYNC_STATE_REDEEM_PENDING)
		return SYNC_E_STATE;
	s->state = SYNC_STATE_HELLO;
	return send_hello(s);
}

/* --------------------------------------------------------------- Hello */

static void clean_text(char *out, size_t cap, const char *in)
{
	snprintf(out, cap, "%s", in ? in : "");
	for (size_t i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
}

static int on_hello(struct sync *s, const Agora__Wire__Hello *h)
{
	struct sync_alliance *a;
	int rc;

	if (!h->has_version || !h->has_node_key || h->node_key.len != 32)
		return perr(s, SYNC_E_PROTOCOL, "Hello without version or a 32-byte node_key");
	uint32_t lo = h->version, hi = h->has_max_version ? h->max_version : h->version;
	if (lo == 0 || hi < lo)
		return perr(s, SYNC_E_PROTOCOL, "Hello with an empty version range");
	uint32_t common = hi < SYNC_VERSION_MAX ? hi : SYNC_VERSION_MAX;
	if (common < lo || common < SYNC_VERSION_MIN) {
		/* What the peer reads, then what we log. */
		char why[SYNC_REASON_MAX];
		snprintf(why, sizeof(why), "no common protocol version: this node speaks %u–%u and "
		         "yours %u–%u; upgrade agora on the older one", SYNC_VERSION_MIN,
		         SYNC_VERSION_MAX, (unsigned)lo, (unsigned)hi);
		(void)sync_send_bye(s, SYNC_BYE_NO_COMMON_VERSION, why, 0);
		snprintf(s->why, sizeof(s->why), "no common protocol version: this node speaks "
		         "%u–%u, the peer %u–%u; upgrade agora on the older one", SYNC_VERSION_MIN,
		         SYNC_VERSION_MAX, (unsigned)lo, (unsigned)hi);
		return SYNC_E_VERSION;
	}
	if (sodium_memcmp(h->node_key.data, s->peer_key, 32) != 0)
		return perr(s, SYNC_E_IDENTITY, "Hello names another key than the handshake proved");
	for (size_t i = 0; i < h->n_alliances; i++)
		if (h->alliances[i].len != 32)
			return perr(s, SYNC_E_PROTOCOL, "Hello names an alliance id not of 32 bytes");
	clean_text(s->peer_name, sizeof(s->peer_name), h->name);
	s->peer_sessions = h->has_sessions ? h->sessions : UINT32_MAX;
	s->version = common;
	/* The session covers every alliance either side names and we allow. */
	for (size_t i = 0; i < s->local->n; i++)
		if (sync_allowed(s, s->local->v[i].alliance) &&
		    (rc = sync_alliance_add(s, s->local->v[i].alliance, &a)))
			return rc;
	for (size_t i = 0; i < h->n_alliances; i++)
		if (!sync_alliance_find(s, h->alliances[i].data) &&
		    sync_allowed(s, h->alliances[i].data) &&
		    (rc = sync_alliance_add(s, h->alliances[i].data, &a)))
			return rc;
	s->state = SYNC_STATE_OPEN;
	for (size_t i = 0; i < s->n_al; i++) {
		bool named = false;
		for (size_t k = 0; k < h->n_alliances && !named; k++)
			named = !memcmp(h->alliances[k].data, s->al[i].id, 32);
		/* The dialer opens every exchange; in version 2 the acceptor
		 * also opens those the dialer's Hello did not name (the dialer
		 * may not carry them: its answer says so, and ends it). */
		if ((s->initiator || (s->version >= 2 && !named)) &&
		    (rc = sync_send_digest(s, &s->al[i])))
			return rc;
	}
	return 0;
}

/* ----------------------------------------------------------------- Bye */

static int on_bye(struct sync *s, const Agora__Wire__Bye *b)
{
	struct sync_bye *o = &s->bye;
	memset(o, 0, sizeof(*o));
	o->code = b->has_code ? (uint32_t)b->code : 0;
	clean_text(o->reason, sizeof(o->reason), b->reason);
	o->seq = b->has_seq ? b->seq : 0;
	o->retry_after_ms = b->has_retry_after_ms ? b->retry_after_ms : 0;
	if (b->has_alliance && b->alliance.len == 32) {
		o->has_alliance = true;
		memcpy(o->alliance, b->alliance.data, 32);
	}
	if (b->has_author && b->author.len == 32) {
		o->has_author = true;
		memcpy(o->author, b->author.data, 32);
	}
	s->bye_in = true;
	return SYNC_E_BYE;
}

int sync_send_bye(struct sync *s, enum sync_bye_code code, const char *reason, uint64_t seq)
{
	struct sync_bye b;
	memset(&b, 0, sizeof(b));
	b.code = code;
	snprintf(b.reason, sizeof(b.reason), "%s", reason ? reason : "");
	b.seq = seq;
	return sync_send_bye_full(s, &b);
}

int sync_send_bye_full(struct sync *s, const struct sync_bye *bye)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Bye b = AGORA__WIRE__BYE__INIT;
	int rc;

	if (s->bye_out || s->bye_in)
		return SYNC_E_CLOSED;
	b.reason = (char *)bye->reason;
	b.has_code = bye->code != 0;
	b.code = (Agora__Wire__ByeCode)bye->code;
	b.has_seq = bye->seq != 0;
	b.seq = bye->seq;
	b.has_retry_after_ms = bye->retry_after_ms != 0;
	b.retry_after_ms = bye->retry_after_ms;
	b.has_alliance = bye->has_alliance;
	b.alliance.data = (uint8_t *)bye->alliance;
	b.alliance.len = 32;
	b.has_author = bye->has_author;
	b.author.data = (uint8_t *)bye->author;
	b.author.len = 32;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_BYE;
	m.bye = &b;
	rc = sync_send_msg(s, &m);
	s->bye_out = true;   /* sent or not, nothing follows it */
	s->bye_out_code = bye->code;
	if (s->state != SYNC_STATE_FAILED)
		s->state = SYNC_STATE_CLOSED;
	return rc;
}

/* -------------------------------------------------------- other sends */

static int send_pong(struct sync *s, uint64_t nonce)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Pong q = AGORA__WIRE__PONG__INIT;
	q.has_nonce = true;
	q.nonce = nonce;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_PONG;
	m.pong = &q;
	return sync_send_msg(s, &m);
}

int sync_send_ping(struct sync *s, uint64_t nonce)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Ping p = AGORA__WIRE__PING__INIT;
	int rc;
	p.has_nonce = true;
	p.nonce = nonce;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_PING;
	m.ping = &p;
	if ((rc = sync_send_msg(s, &m)))
		return rc;
	s->last_ping = nonce;
	s->last_ping_tick = s->c.msgs_out;
	return 0;
}

int sync_send_fork(struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                   const uint8_t author[SYNC_KEY_BYTES], uint64_t seq, const uint8_t *env_a,
                   size_t len_a, const uint8_t *env_b, size_t len_b)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__ForkProof f = AGORA__WIRE__FORK_PROOF__INIT;
	const struct sync_alliance *a = sync_alliance_find(s, alliance);
	if (s->state != SYNC_STATE_OPEN || !a || a->unshared || !sync_allowed(s, alliance))
		return 0;
	f.has_alliance = f.has_author = f.has_seq = f.has_env_a = f.has_env_b = true;
	f.alliance.data = (uint8_t *)alliance;
	f.alliance.len = 32;
	f.author.data = (uint8_t *)author;
	f.author.len = 32;
	f.seq = seq;
	f.env_a.data = (uint8_t *)env_a;
	f.env_a.len = len_a;
	f.env_b.data = (uint8_t *)env_b;
	f.env_b.len = len_b;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_FORK;
	m.fork = &f;
	return sync_send_msg(s, &m);
}

int sync_resync(struct sync *s)
{
	int rc;
	if (s->state != SYNC_STATE_OPEN)
		return 0;
	for (size_t i = 0; i < s->n_al; i++)
		if (!s->al[i].unshared && !s->al[i].ex[0].active &&
		    (rc = sync_send_digest(s, &s->al[i])))
			return rc;
	return 0;
}

/* ------------------------------------------------------------- receive */

static int unpack(struct sync *s, const uint8_t *msg, size_t len, Agora__Wire__Message **out)
{
	if (!(*out = agora__wire__message__unpack(NULL, len, msg)))
		return perr(s, SYNC_E_PROTOCOL, "message does not parse");
	return 0;
}

/* AWAIT_REDEEM: an unknown key; its only message is one Redeem. */
static int recv_await_redeem(struct sync *s, const uint8_t *msg, size_t len,
                             const struct sync_shape *sh)
{
	Agora__Wire__Message *m;
	int rc;

	if (sh->type != AGORA__WIRE__MESSAGE__MSG_REDEEM && sh->type != AGORA__WIRE__MESSAGE__MSG_BYE)
		return perr(s, SYNC_E_NOT_ADMITTED, "this node does not know your key: the only "
		            "message it takes from it is an invite redemption");
	if ((rc = unpack(s, msg, len, &m)))
		return rc;
	if (m->msg_case == AGORA__WIRE__MESSAGE__MSG_BYE) {
		rc = on_bye(s, m->bye);
	} else if (!m->redeem->has_alliance || m->redeem->alliance.len != 32 ||
	           !m->redeem->has_token || m->redeem->token.len != 32) {
		rc = perr(s, SYNC_E_PROTOCOL, "Redeem without a 32-byte alliance and token");
	} else {
		s->state = SYNC_STATE_REDEEM_PENDING;
		rc = s->io.redeem(s->io.ctx, m->redeem->alliance.data, m->redeem->token.data);
	}
	agora__wire__message__free_unpacked(m, NULL);
	return rc;
}

/* REDEEM_PENDING: the node decides; nothing may come meanwhile. */
static int recv_redeem_pending(struct sync *s, const uint8_t *msg, size_t len,
                               const struct sync_shape *sh)
{
	Agora__Wire__Message *m;
	int rc;
	if (sh->type != AGORA__WIRE__MESSAGE__MSG_BYE)
		return perr(s, SYNC_E_PROTOCOL, "message read before the invite redemption was decided");
	if ((rc = unpack(s, msg, len, &m)))
		return rc;
	rc = on_bye(s, m->bye);
	agora__wire__message__free_unpacked(m, NULL);
	return rc;
}

/* HELLO: the peer's Hello (a Bye, or a Redeem of a joiner that redeemed
 * before, may come first). */
static int recv_hello(struct sync *s, const uint8_t *msg, size_t len,
                      const struct sync_shape *sh)
{
	Agora__Wire__Message *m;
	int rc;
	switch (sh->type) {
	case AGORA__WIRE__MESSAGE__MSG_HELLO:
	case AGORA__WIRE__MESSAGE__MSG_BYE:
		break;
	case AGORA__WIRE__MESSAGE__MSG_REDEEM:
		return 0;
	default:
		return perr(s, SYNC_E_PROTOCOL, "message before Hello");
	}
	if ((rc = unpack(s, msg, len, &m)))
		return rc;
	rc = m->msg_case == AGORA__WIRE__MESSAGE__MSG_HELLO ? on_hello(s, m->hello) :
	     on_bye(s, m->bye);
	agora__wire__message__free_unpacked(m, NULL);
	return rc;
}

/* OPEN: everything else. */
static int recv_open(struct sync *s, const uint8_t *msg, size_t len,
                     const struct sync_shape *sh)
{
	Agora__Wire__Message *m;
	int rc;

	if (sh->type == 0) {
		/* Version 2 ignores a message of a type it does not know (a later
		 * version's); version 1 closes, as its nodes do. */
		if (sh->unknown && s->version >= 2)
			return 0;
		return perr(s, SYNC_E_PROTOCOL, sh->unknown ? "message of a type this protocol "
		            "version does not have" : "empty message");
	}
	if (sh->type == AGORA__WIRE__MESSAGE__MSG_HELLO)
		return perr(s, SYNC_E_PROTOCOL, "second Hello");
	if (s->version < 3 && (sh->type == AGORA__WIRE__MESSAGE__MSG_HAVE ||
	                       sh->type == AGORA__WIRE__MESSAGE__MSG_PRUNE ||
	                       sh->type == AGORA__WIRE__MESSAGE__MSG_GRAFT)) {
		/* Version 3's messages: a version-2 session ignores them as the
		 * unknown types they are to a version-2 node, version 1 closes. */
		if (s->version == 2)
			return 0;
		return perr(s, SYNC_E_PROTOCOL, "message of a type this protocol version does not have");
	}
	if (s->version < 4 && (sh->type == AGORA__WIRE__MESSAGE__MSG_BLOB_WANT ||
	                       sh->type == AGORA__WIRE__MESSAGE__MSG_BLOB_CHUNK ||
	                       sh->type == AGORA__WIRE__MESSAGE__MSG_BLOB_NONE)) {
		/* Version 4's messages: ignored by versions 2 and 3 as unknown
		 * types, refused by version 1 (as above). */
		if (s->version >= 2)
			return 0;
		return perr(s, SYNC_E_PROTOCOL, "message of a type this protocol version does not have");
	}
	if (sh->type == AGORA__WIRE__MESSAGE__MSG_RANGES && (rc = sync_ranges_precheck(s, sh)))
		return rc;
	if ((rc = unpack(s, msg, len, &m)))
		return rc;
	switch (m->msg_case) {
	case AGORA__WIRE__MESSAGE__MSG_DIGEST: rc = sync_on_digest(s, m->digest); break;
	case AGORA__WIRE__MESSAGE__MSG_RANGES: rc = sync_on_ranges(s, m->ranges); break;
	case AGORA__WIRE__MESSAGE__MSG_RECORDS: rc = sync_on_records(s, m->records); break;
	case AGORA__WIRE__MESSAGE__MSG_ACK: rc = sync_on_ack(s, m->ack); break;
	case AGORA__WIRE__MESSAGE__MSG_PING:
		rc = m->ping->has_nonce ? send_pong(s, m->ping->nonce) :
		     perr(s, SYNC_E_PROTOCOL, "Ping without nonce");
		break;
	case AGORA__WIRE__MESSAGE__MSG_PONG:
		if (!m->pong->has_nonce) {
			rc = perr(s, SYNC_E_PROTOCOL, "Pong without nonce");
			break;
		}
		if (m->pong->nonce == s->last_ping && s->last_ping_tick > s->acked_tick)
			s->acked_tick = s->last_ping_tick;
		sync_on_pong(s, m->pong->nonce);
		break;
	case AGORA__WIRE__MESSAGE__MSG_FORK: rc = sync_on_fork(s, m->fork); break;
	case AGORA__WIRE__MESSAGE__MSG_HAVE: rc = sync_on_have(s, m->have); break;
	case AGORA__WIRE__MESSAGE__MSG_PRUNE: rc = sync_on_prune(s, m->prune); break;
	case AGORA__WIRE__MESSAGE__MSG_GRAFT: rc = sync_on_graft(s, m->graft); break;
	case AGORA__WIRE__MESSAGE__MSG_BLOB_WANT: rc = sync_on_blob_want(s, m->blob_want); break;
	case AGORA__WIRE__MESSAGE__MSG_BLOB_CHUNK: rc = sync_on_blob_chunk(s, m->blob_chunk); break;
	case AGORA__WIRE__MESSAGE__MSG_BLOB_NONE: rc = sync_on_blob_none(s, m->blob_none); break;
	case AGORA__WIRE__MESSAGE__MSG_HEAD_CHECK:
		rc = s->version >= 2 ? sync_on_head_check(s, m->head_check) :
		     perr(s, SYNC_E_PROTOCOL, "HeadCheck in a version-1 session");
		break;
	/* A joiner that redeemed before and reconnects before it holds its
	 * admission sends its Redeem again: nothing to do. */
	case AGORA__WIRE__MESSAGE__MSG_REDEEM: break;
	case AGORA__WIRE__MESSAGE__MSG_BYE: rc = on_bye(s, m->bye); break;
	default: rc = perr(s, SYNC_E_PROTOCOL, "unexpected message"); break;
	}
	agora__wire__message__free_unpacked(m, NULL);
	return rc;
}

int sync_receive(struct sync *s, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct sync_shape sh;
	const char *why = NULL;
	int rc;

	if (s->state == SYNC_STATE_FAILED)
		return SYNC_E_PROTOCOL;
	if (s->state == SYNC_STATE_CLOSED)
		return SYNC_E_CLOSED;
	s->now_ms = now_ms;
	s->why[0] = '\0';
	s->c.msgs_in++;
	s->c.bytes_in += len;
	if (!msg && len)
		rc = perr(s, SYNC_E_PROTOCOL, "no message");
	else if (s->state == SYNC_STATE_AWAIT_REDEEM && len > SYNC_REDEEM_MAX)
		rc = perr(s, SYNC_E_LIMIT, "an unknown key's first message is over 256 bytes");
	else if ((rc = sync_walk(msg, len, &sh, &why)))
		rc = perr(s, rc, why);
	else if (s->state == SYNC_STATE_AWAIT_REDEEM)
		rc = recv_await_redeem(s, msg, len, &sh);
	else if (s->state == SYNC_STATE_REDEEM_PENDING)
		rc = recv_redeem_pending(s, msg, len, &sh);
	else if (s->state == SYNC_STATE_HELLO)
		rc = recv_hello(s, msg, len, &sh);
	else
		rc = recv_open(s, msg, len, &sh);
	if (rc >= 0)
		return 0;
	if (rc == SYNC_E_BYE) {
		s->state = SYNC_STATE_CLOSED;
		return rc;
	}
	if (rc <= SYNC_E_PROTOCOL && rc > SYNC_E_PROTOCOL - 100)
		return sync_fail(s, rc, NULL);
	s->state = SYNC_STATE_FAILED;   /* an io callback's error, or -ENOMEM */
	return rc;
}

/* ------------------------------------------------------------ reading */

enum sync_state sync_state(const struct sync *s)
{
	return s->state;
}

uint32_t sync_version(const struct sync *s)
{
	return s->version;
}

const char *sync_peer_name(const struct sync *s)
{
	return s->peer_name;
}

const char *sync_why(const struct sync *s)
{
	return s->why;
}

void sync_counters(const struct sync *s, struct sync_counters *out)
{
	*out = s->c;
}

const struct sync_bye *sync_bye_received(const struct sync *s)
{
	return s->bye_in ? &s->bye : NULL;
}

int sync_bye_sent(const struct sync *s)
{
	return s->bye_out ? (int)s->bye_out_code : -1;
}

bool sync_carries(const struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES])
{
	const struct sync_alliance *a = sync_alliance_find(s, alliance);
	return a && !a->unshared;
}

size_t sync_alliance_count(const struct sync *s)
{
	return s->n_al;
}

const uint8_t *sync_alliance_id(const struct sync *s, size_t i)
{
	return i < s->n_al ? s->al[i].id : NULL;
}
