/*
 * node_int.h - private to node/: the node, its sessions, peers, control
 * clients and the ingest queue.  Everything here is touched only on the
 * loop thread, except struct ingest_job while it runs in the threadpool.
 */
#ifndef AGORA_NODE_INT_H
#define AGORA_NODE_INT_H

#include <uv.h>

#include "node/node.h"
#include "node/engine/noise.h"
#include "node/engine/frame.h"
#include "node/engine/sync.h"
#include "proto/proto.h"
#include "storage/storage.h"

#define NODE_HANDSHAKE_MS 10000
#define NODE_PING_MS 15000
#define NODE_SILENCE_MS 45000
#define NODE_BACKOFF_MIN_MS 1000
#define NODE_BACKOFF_MAX_MS 60000
#define NODE_SENDQ_HIGH (1u << 20)        /* stop producing above 1 MiB queued */
#define NODE_APP_MAX (8u << 20)           /* largest app message accepted */
#define NODE_INGEST_BATCH_BYTES (2u << 20) /* most received bytes stored in one job */
/*
 * A session stops reading above RECVQ_HIGH bytes received and not yet
 * stored, and reads again below RECVQ_RESUME.  The window holds the job
 * being stored plus a job's worth for the verifier threads to work on
 * meanwhile; and since RECVQ_RESUME > RECVQ_HIGH - INGEST_BATCH_BYTES,
 * every finished job lets reading start again.  (With a gap as wide as one
 * job, a finished job often left reading stopped, and the verifiers ran dry.)
 */
#define NODE_RECVQ_HIGH (6u << 20)
#define NODE_RECVQ_RESUME (5u << 20)
/* The same for all sessions together, so that many peers syncing at once
 * hold no more than two windows' worth (the store takes one job at a time). */
#define NODE_RECVQ_ALL_HIGH (12u << 20)
#define NODE_RECVQ_ALL_RESUME (11u << 20)
#define NODE_READ_BUF 65536
#define NODE_MAX_SESSIONS 1024

struct session;

enum peer_state {
	PEER_IDLE = 0,       /* accept-only, not connected */
	PEER_CONNECTING,     /* dialing / handshaking */
	PEER_CONNECTED,      /* a session is open */
	PEER_BACKOFF,        /* waiting to redial */
};

/* A configured peer and its dialing state. */
struct peer {
	struct node *node;
	struct node_peer_conf conf;
	enum peer_state state;
	uv_timer_t timer;             /* redial */
	unsigned backoff_ms;
	struct session *session;      /* current session, or NULL */
	char last_error[320];
};

enum session_state {
	SESSION_CONNECTING = 0,
	SESSION_HANDSHAKE,
	SESSION_OPEN,
	SESSION_CLOSING,
};

struct session {
	uv_tcp_t tcp;                 /* first: the handle's data is the session */
	uv_connect_t connect;
	struct node *node;
	struct session *next;
	uint64_t id;
	enum session_state state;
	bool inbound;
	struct peer *peer;            /* configured peer (dialed or identified) */
	struct noise_agora hs;
	bool hs_init;
	struct frame_reader hreader;
	struct noise_cipher send, recv;
	struct frame_decoder dec;
	bool dec_init;
	struct sync sync;
	bool sync_init;
	uint8_t peer_key[32];
	bool have_peer_key;
	char addr[NODE_HOST_MAX + 16];              /* remote "ip:port" */
	uint64_t bytes_in, bytes_out;
	uint64_t opened_ms, last_rx_ms, last_ping_ms;
	size_t recv_pending;          /* envelope bytes awaiting ingest */
	bool read_stopped;            /* back-pressure on receive */
	bool kicking;                 /* inside session_kick (no re-entry) */
	bool redeem_wait;             /* unknown key: only a Redeem may come */
	bool forks_sent;              /* every fork proof we hold went out on it */
	bool member_retry;            /* records refused for membership: re-run the
	                                 exchange once our governance changes */
	struct store_txn *txn;        /* read snapshot while producing */
	char last_error[320];
	uint8_t rbuf[NODE_READ_BUF];
};

/* A batch of records from one session, waiting for verify + store. */
struct ingest_batch {
	struct ingest_batch *next;
	uint64_t session_id;
	uint8_t alliance[32], author[32];
	uint64_t first_seq;
	size_t n, bytes;
	struct store_item *items;     /* point into buf */
	uint8_t *buf;
	struct store_batch *sb;       /* items, being verified (store.h) */
	int *status;                  /* results */
	int first_error;              /* first non-gap rejection, or 0 */
	bool gap;                     /* records did not chain on our head */
	uint64_t head;                /* our head of the feed after the batch */
	size_t added;
};

struct ingest_job {
	uv_work_t req;
	struct node *node;
	struct ingest_batch *batches;
	int rc;
	/* after records were added: the new version vectors, read by the job
	 * itself so the loop thread does not */
	bool has_local;
	struct sync_local local;
	uint64_t local_records;
};

struct control_client {
	uv_pipe_t pipe;
	struct node *node;
	uint8_t buf[4096 + 4];
	size_t len;
	bool answered;
};

struct node {
	uv_loop_t *loop;
	const struct node_log *log;
	struct node_config cfg;
	struct proto_key *key;        /* borrowed */
	char home[4096];
	struct store *store;
	uv_mutex_t store_lock;        /* the store is used by one thread at a time */
	uv_tcp_t listener;
	bool listening;
	char listen_str[NODE_HOST_MAX + 8];
	uv_pipe_t control;
	bool control_open;
	char sock_path[4200];
	uv_signal_t sigint, sigterm, sighup;
	uv_timer_t tick;              /* 1 s: poll the store, keepalive, stuck feeds */
	struct sync_local local;      /* cached version vectors */
	uint64_t local_records;       /* store records when local was loaded */
	struct session *sessions;
	size_t n_sessions;
	uint64_t next_session_id;
	struct peer *peers[NODE_PEERS_MAX]; /* each freed by its timer's close callback */
	size_t n_peers;
	struct ingest_batch *iq_head, *iq_tail;
	size_t recv_pending;          /* every session's bytes awaiting ingest */
	struct ingest_job *job;       /* in flight */
	struct store_verifier *verifier;  /* verifies queued batches ahead */
	bool stopping;
	uint64_t start_ms;
	struct { uint8_t alliance[32]; uint64_t seq; } floors[SYNC_ALLIANCES_MAX];
	size_t n_floors;              /* own-feed seqs peers claimed, already logged */
	uint64_t forks_relayed;       /* store fork count when proofs last went out */
};

/* node.c */
uint64_t node_now_ms(void);
/* Read the version vectors (and the record count) from the store: under
 * store_lock, from any thread.  *out is the caller's (node_local_free). */
int node_local_load(struct node *n, struct sync_local *out, uint64_t *records);
/* Loop thread: make l (taken, left empty) the node's vectors. */
void node_local_set(struct node *n, struct sync_local *l, uint64_t records);
void node_local_free(struct sync_local *l);
/* Both, on the loop thread; logs a failure. */
int node_local_reload(struct node *n);
void node_local_changed(struct node *n);
void node_peer_session_closed(struct peer *p, const char *why);
struct peer *node_peer_find(struct node *n, const uint8_t key[32]);
void node_sync_all(struct node *n, const uint8_t *peer_key, uint32_t *reached);
void node_floor_check(struct node *n, const struct sync *sy);
void node_peer_dial_now(struct peer *p);
int node_reload(struct node *n);

/* session.c */
int session_accept(struct node *n);
int session_dial(struct node *n, struct peer *p);
void session_close(struct session *s, const char *why, bool error);
void session_kick(struct session *s);        /* produce records if room */
void session_tick(struct session *s, uint64_t now);
struct session *session_find(struct node *n, uint64_t id);
void session_read_pause(struct session *s);
void session_read_resume(struct session *s);
const char *session_state_name(const struct session *s);

/* ingest.c */
int ingest_enqueue(struct node *n, struct session *s, const uint8_t *alliance,
                   const uint8_t *author, uint64_t first_seq, const uint8_t *const *envs,
                   const size_t *lens, size_t count);
void ingest_kick(struct node *n);
void ingest_drop_all(struct node *n);

/* members.c (loop thread; each call takes the store lock) */
/* 0 if key is active in at least one alliance this node holds, else the
 * most telling STORE_E_NOT_MEMBER / _REVOKED / _EXPIRED (or a store error). */
int node_member_active_any(struct node *n, const uint8_t key[32]);
/* May alliance be carried on a session with key (sync_io.allowed)? */
bool node_alliance_allowed(struct node *n, const uint8_t key[32], const uint8_t alliance[32]);
/* Close every session whose peer is no longer active in an alliance it
 * carries (revoked, or its admission expired): called on every tick. */
void node_members_check(struct node *n);
/* Cap a loaded version vector at each revoked author's last valid seq, so
 * records past a revocation are never offered.  0 or a store error. */
int node_members_cap(struct store_txn *t, struct sync_lvec *v);

/* Record that key was in a session now (store_seen_put, wall-clock ms,
 * shown by `agora alliance members`): at open and close. */
void node_member_seen(struct node *n, const uint8_t key[32]);
/* Fork proofs: send every proof we hold on each session that has not had
 * them (all sessions again when the store's fork count changed).  Tick. */
void node_forks_relay(struct node *n);
/* A fork proof from a peer: verify and store both envelopes (sync_io.fork). */
int node_fork_received(struct node *n, struct session *s, const uint8_t alliance[32],
                       const uint8_t author[32], uint64_t seq, const uint8_t *env_a,
                       size_t len_a, const uint8_t *env_b, size_t len_b);

/* invite.c (loop thread) */
bool node_invites_open(struct node *n);
bool node_join_pending(struct node *n, const uint8_t key[32]);
/* The Redeem message for the invite of coordinator key (malloc()ed). */
int node_join_message(struct node *n, const uint8_t key[32], uint8_t **out, size_t *out_len);
/* Check and apply a Redeem (the first message of an unknown key): 0 when
 * the key is now admitted and a peer; else non-zero and *why says why. */
int node_invite_redeem(struct node *n, struct session *s, const uint8_t *msg, size_t len,
                       const char **why);

/* control.c */
int control_open(struct node *n);
void control_close(struct node *n);
/* The control socket's wire rules, apart from the socket (and fuzzed):
 * control_frame() looks at the len bytes read so far: 0 wants more, 1 a
 * whole request is there (*msg_len bytes after the 4-byte length), -1 the
 * length is over the limit.  control_request_decode() unpacks a request
 * and checks it is one agorad serves; NULL with *err (static text) if not. */
int control_frame(const uint8_t *buf, size_t len, size_t *msg_len);
struct Agora__Control__Request;
struct Agora__Control__Request *control_request_decode(const uint8_t *msg, size_t len,
                                                       const char **err);

#define NLOG(n, lvl, comp, ...) node_log((n)->log, (lvl), (comp), __VA_ARGS__)

#endif
