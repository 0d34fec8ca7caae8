/*
 * node_int.h - private to node/: the node, its sessions, peers, control
 * clients and the store job queue.
 *
 * Threads.  Everything here lives on the loop thread, with one exception:
 * a struct job runs its `work` step on libuv's threadpool.  The loop never
 * takes a lock and never writes to the store: every write (records from
 * peers, "seen" times, fork proofs, invite redemption, agora.conf edits)
 * is a job, run one at a time in the order queued (jobs.c; attachment
 * files are written in a lane of their own, beside it).  The loop
 * reads only its view (view.c): the version vectors and each alliance's
 * members, built by jobs off the loop and applied here after each job.  It
 * reads the store itself only through read snapshots, which LMDB runs
 * beside a commit without waiting (storing records to a peer, fork proofs).
 */
#ifndef AGORA_NODE_INT_H
#define AGORA_NODE_INT_H

#include <uv.h>

#include "node/node.h"
#include "node/engine/noise.h"
#include "node/engine/frame.h"
#include "node/engine/mesh.h"
#include "node/engine/sync.h"
#include "proto/proto.h"
#include "storage/storage.h"

#define NODE_HANDSHAKE_MS 10000
#define NODE_PING_MS 15000
/* No whole message from the peer for this long: close.  Bytes alone do not
 * count, so a peer trickling one frame a byte at a time is dropped too. */
#define NODE_SILENCE_MS 45000
#define NODE_BACKOFF_MIN_MS 1000
#define NODE_BACKOFF_MAX_MS 60000
#define NODE_APP_MAX (8u << 20)           /* largest app message from a member */
#define NODE_INGEST_BATCH_BYTES (2u << 20) /* most received bytes stored in one job */
/*
 * Replies queued to a peer: records are produced only while fewer than
 * SENDQ_HIGH bytes wait to be written.  Other replies (Pongs, Ranges
 * answers, Acks) are small but a peer that sends and never reads could
 * pile them up: above SENDQ_MAX the node stops reading from that peer
 * until the queue is back under SENDQ_HIGH, and a queue that does not
 * drain for SENDQ_STALL_MS closes the session (records are produced only
 * below SENDQ_HIGH, so an honest peer never gets there).  All sessions together
 * may queue SENDQ_ALL_MAX; above it, reading stops on every session
 * whose queue is not empty.
 */
#define NODE_SENDQ_HIGH (1u << 20)
#define NODE_SENDQ_MAX (4u << 20)
#define NODE_SENDQ_ALL_MAX (64u << 20)
#define NODE_SENDQ_STALL_MS 30000
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
/* Connection slots.  Admitted members are never pushed out by strangers:
 * sessions that have not been accepted yet (handshake, or an unknown key
 * that may redeem an invite) are limited to PREAUTH_MAX in all and
 * PREAUTH_PER_ADDR per remote address, and a new connection past those
 * limits closes an unaccepted one of that address (or of all): one that
 * has sent nothing first, then the oldest.  A member's handshake takes
 * milliseconds, so idle strangers are what goes. */
#define NODE_MAX_SESSIONS 1024
#define NODE_PREAUTH_MAX 64
#define NODE_PREAUTH_PER_ADDR 8
#define NODE_PER_ADDR_MAX 16              /* open sessions from one address */
#define NODE_CONTROL_IDLE_MS 5000         /* a control client must ask within this */
/* A stranger may send its Redeem within HANDSHAKE_MS of the TCP accept
 * while an invite is open; when none is (all used or expired), within
 * REDEEM_LATE_MS, only so that it can be told why its code failed. */
#define NODE_REDEEM_LATE_MS 3000
#define NODE_UPGRADES_MAX 64
/* After a store write fails for want of disk space, the node stops reading
 * records for this long (doubling up to the max) and tries again. */
#define NODE_DISKFULL_MS 5000
#define NODE_DISKFULL_MAX_MS 60000

struct session;
struct job;
struct wreq;

/* The clock and the job runner: real ones in node.c; tests give fakes
 * (a clock they move, jobs they run when they choose). */
struct node_env {
	uint64_t (*mono_ms)(void *ctx);     /* session timeouts, pings */
	uint64_t (*wall_ms)(void *ctx);     /* admission expiry, record times */
	/* Run job->ops->work off the loop thread, then job_done() on it. */
	int (*queue)(void *ctx, struct job *job);
	void *ctx;
};

enum peer_state {
	PEER_IDLE = 0,       /* accept-only, not connected */
	PEER_RESOLVING,      /* looking up its host name (asynchronously) */
	PEER_CONNECTING,     /* dialing / handshaking */
	PEER_CONNECTED,      /* a session is open */
	PEER_BACKOFF,        /* waiting to redial */
	PEER_REFUSED,        /* it refused this node for good: not redialled */
};

/* A configured peer and its dialing state. */
struct peer {
	struct node *node;
	struct node_peer_conf conf;
	enum peer_state state;
	uv_timer_t timer;             /* redial */
	uv_getaddrinfo_t gai;         /* while PEER_RESOLVING */
	bool gai_busy;                /* gai belongs to libuv until its callback */
	bool timer_closed;            /* removed: freed once gai is back too */
	bool refused;                 /* the peer refused us for good: no redial */
	bool transient;               /* not in agora.conf: gone with its session */
	bool meshed;                  /* dialled by the mesh (peering.c), at its Endpoint */
	unsigned backoff_ms;
	uint64_t open_since_ms;       /* its session opened then (backoff reset) */
	struct session *session;      /* current session, or NULL */
	char last_error[320];
};

/*
 * A session's one state.  CONNECTING: dialing.  HANDSHAKE: Noise XX.
 * REDEEM: the key is not accepted; the only message it may send is one
 * Redeem (a job redeems it meanwhile).  OPEN: the sync engine runs.
 * CLOSING: uv_close was called; freed in its callback.
 */
enum session_state {
	SESSION_CONNECTING = 0,
	SESSION_HANDSHAKE,
	SESSION_REDEEM,
	SESSION_OPEN,
	SESSION_CLOSING,
};

/* Why a session does not read (reading happens when none is set). */
enum {
	PAUSE_RECVQ = 1 << 0,     /* its unstored records (or all peers') are over the window */
	PAUSE_SENDQ = 1 << 1,     /* its replies are not being read */
	PAUSE_JOB = 1 << 2,       /* a job about it runs (invite redemption) */
	PAUSE_DISK = 1 << 3,      /* the disk is full */
	PAUSE_BUDGET = 1 << 4,    /* read its share of this loop iteration (node.c) */
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
	struct frame_reader hreader;
	struct noise_cipher send, recv;
	struct frame_decoder dec;
	struct sync sync;
	uint8_t peer_key[32];         /* known once dialed or after the handshake */
	char addr[NODE_HOST_MAX + 16];              /* remote "ip:port" */
	char ip[64];                  /* remote address alone, for the per-address limits */
	uint64_t bytes_in, bytes_out;
	uint64_t opened_ms, last_msg_ms, last_ping_ms;
	uint64_t sendq_since_ms;      /* replies over SENDQ_HIGH since (0: not) */
	uint64_t redeem_until_ms;     /* REDEEM: a Redeem must come before this */
	size_t recv_pending;          /* envelope bytes awaiting ingest */
	unsigned pause;               /* PAUSE_* reasons not to read */
	uint64_t read_iter;           /* the loop iteration read_bytes counts */
	size_t read_bytes;            /* bytes read in that iteration */
	uint64_t prod_iter;           /* the loop iteration prod_bytes counts */
	size_t prod_bytes;            /* bytes of records produced in that iteration */
	bool produce_wait;            /* out of that budget: kicked from the idle phase */
	bool kicking;                 /* inside session_kick (no re-entry) */
	bool member_retry;            /* records refused for membership: re-run the
	                                 exchange once our governance changes */
	bool head_checked;            /* asked for our own head records (session.c) */
	bool meshed;                  /* the mesh heard of it, after the peer's Hello */
	bool txn_in_receive;          /* txn was opened by io_read during sync_receive */
	uint64_t forks_sent;          /* fork proofs up to this number went out */
	struct store_txn *txn;        /* read snapshot while producing */
	struct wreq *obuf;            /* output not yet written (session_flush) */
	size_t olen, ocap;
	uint8_t *stash;               /* bytes read while PAUSE_JOB, not yet decoded */
	size_t stash_len;
	char last_error[320];
	struct blob_serveq *blobq;    /* blob answers owed to the peer (blobs.c); NULL: none */
	bool producing;               /* inside sync_produce: io_read reads ahead */
	struct ra_buf *ra[2];         /* envelopes read ahead, oldest first (readahead.c) */
	struct ra_job *ra_job;        /* reading more; NULL: none (the job owns itself) */
};

/* A batch of records from one session, waiting for verify + store. */
struct ingest_batch {
	struct ingest_batch *next;
	uint64_t session_id;
	uint8_t alliance[32], author[32];
	uint64_t first_seq;
	size_t n, bytes;
	/* the records: freed by the ingest job's work step (ingest.c) */
	struct store_item *items;     /* point into buf */
	uint8_t *buf;
	struct store_batch *sb;       /* items, being verified (store.h) */
	int first_error;              /* first non-gap rejection, or 0 */
	uint64_t upgrade_seq;         /* the seq it concerns */
	int gap;                      /* PROTO_E_SEQ / _PREV: did not chain on our head */
	uint64_t head;                /* our head of the feed after the batch */
	size_t added;
};

/* ------------------------------------------------------------ the view */

/* One admitted (or revoked) key, as much as the loop needs to decide. */
struct view_member {
	uint8_t key[32];
	int role;
	uint64_t expires_ms;
	uint64_t last_seq;
	bool revoked, rotated;
};

/* An alliance's members: built off the loop when the alliance is read
 * whole, then changed on the loop member by member (view_apply); nothing
 * keeps a pointer into it across a return to the loop. */
struct view_members {
	struct view_member *m;        /* sorted by key */
	size_t n, cap;                /* cap: allocated entries */
};

/* One member whose governance changed (admitted, revoked, rotated), with
 * its feed's head as the view must now hold it. */
struct view_member_change {
	uint8_t alliance[32];
	struct view_member m;
	bool listed;                  /* false: no member row (nothing admitted it) */
	struct sync_head h;           /* its head, capped at its revocation */
	bool has_head;                /* false: nothing of its feed to offer */
};

/*
 * What a job (or another process) changed, read off the loop after the
 * job's writes: the heads that moved, the members whose governance changed
 * (each with its head), alliances to replace whole (new, or a change the
 * reader could not narrow down), and counters.  Applied on the loop by
 * view_apply(), which then tells the sessions.
 */
struct view_delta {
	bool valid;                   /* read: apply it */
	bool whole;                   /* replace everything (the change log did not reach back) */
	uint64_t upto;                /* store write number it brings the view to */
	struct sync_head_ref {
		uint8_t alliance[32];
		struct sync_head h;
	} *heads;
	size_t n_heads;
	struct sync_lvec *alliances;  /* whole alliances (heads, founder, coordinators) */
	struct view_members **members;/* their members, parallel to alliances */
	size_t n_alliances;
	struct view_member_change *changes; /* in alliances held and not read whole */
	size_t n_changes;
	uint64_t records, forks;      /* store counts */
};

/* ------------------------------------------------------------ jobs */

/*
 * The lanes jobs run in.  Each runs its jobs one at a time in the order
 * queued; the two run beside each other.  STORE holds every job that
 * writes or reads the store (records, "seen" times, redemptions, scans).
 * BLOB holds the jobs that touch only attachment files in blobs/ (a
 * fetched chunk's write, a whole file's hash check and rename, a chunk
 * read to serve): a 20 MB file's final hash and fsync takes a second or
 * more, and in the store lane it held up the ingest of every record
 * queued behind it (a 200 MB backlog slowed a 10,000-record sync by a
 * third, bench_blobs).
 */
enum job_lane {
	JOB_LANE_STORE = 0,
	JOB_LANE_BLOB,
	JOB_LANES
};

struct job_ops {
	const char *name;
	enum job_lane lane;             /* 0: the store lane */
	/* Threadpool: use n->store (thread-safe), nothing of the loop's. */
	void (*work)(struct job *job);
	/* Loop thread, after work (and after the view took the delta). */
	void (*done)(struct job *job);
	void (*free)(struct job *job);  /* may be NULL: free(job) */
	bool refresh;                   /* read what changed after work (store lane only) */
};

struct job {
	uv_work_t req;
	struct node *node;
	struct job *next;
	const struct job_ops *ops;
	int rc;                       /* work's result */
	uint64_t since;               /* the view's write number when it started */
	uint8_t (*held)[32];          /* the view's alliances when it started */
	size_t n_held;
	struct view_delta delta;      /* filled after work when ops->refresh */
};

struct control_client {
	uv_pipe_t pipe;
	uv_timer_t timer;             /* idle limit: answered or dropped */
	struct node *node;
	uint8_t buf[PROTO_CONTROL_REQUEST_MAX + PROTO_CONTROL_HDR];
	size_t len;
	bool answered;
	int closing;                  /* handles still to close (pipe, timer) */
};

struct node {
	uv_loop_t *loop;
	const struct node_log *log;
	struct node_env env;
	struct node_config cfg;
	struct proto_key *key;        /* borrowed */
	char home[4096];
	struct store *store;          /* thread-safe (storage.h); written only by jobs */
	uv_tcp_t listener;
	bool listening;
	char listen_str[NODE_HOST_MAX + 8];
	uv_pipe_t control;
	bool control_open;
	char sock_path[4200];
	uv_signal_t sigint, sigterm, sighup;
	uv_timer_t tick;              /* 1 s: keepalive, expiry, other writers */
	uv_prepare_t iter_prep;       /* counts loop iterations (iter) */
	uv_check_t budget_check;      /* resumes PAUSE_BUDGET sessions (node.c) */
	uv_idle_t produce_idle;       /* kicks produce_wait sessions (node.c) */
	uint64_t iter;                /* loop iterations so far */
	uint64_t ticks;               /* tick_cb runs so far (a test waits for one) */
	uv_work_t trim_req;           /* store_trim on the threadpool (node.c) */
	bool trim_busy;
	size_t trim_resident;         /* resident pages after the last trim (0: unknown) */
	uint64_t disk_until_ms;       /* disk full: read again from then (0: not full) */
	unsigned disk_backoff_ms;
	/* the view: version vectors (borrowed by every sync engine) and, per
	 * alliance (same index), its members */
	struct sync_local local;
	struct view_members **members;
	uint64_t view_wseq;           /* store write number the view reflects */
	uint64_t ra_records;          /* envelopes read off the loop to stream (readahead.c) */
	bool port_written;            /* agorad.port is ours to remove (node_free) */
	uint64_t view_records, view_forks;
	struct session *sessions;
	size_t n_sessions, n_preauth;
	uint64_t next_session_id;
	struct peer **peers;          /* each freed by its timer's close callback */
	size_t n_peers, cap_peers;
	/* the job queue: one lane each (enum job_lane) */
	struct job_fifo {
		struct job *head, *tail;
		struct job *running;
	} jobs[JOB_LANES];
	struct job *ingest_open;      /* the queued ingest job batches join, or NULL */
	size_t ingest_open_bytes;
	size_t recv_pending;          /* every session's bytes awaiting ingest */
	size_t sendq_total;           /* every session's queued reply bytes */
	struct store_verifier *verifier;  /* verifies queued batches ahead */
	/* "seen" times waiting to be written (one job writes them all) */
	struct store_seen *seen;
	size_t n_seen, cap_seen;
	bool seen_queued;
	bool stopping;
	uint64_t start_ms;
	uint64_t start_wall_ms;       /* expiries before this passed unwatched */
	uint64_t forks_relayed;       /* highest fork number relayed */
	uint64_t expiry_noted_ms;     /* admissions expired before this are noted */
	bool members_changed;         /* the view changed members: check sessions again */
	bool members_rescan;          /* an alliance's members were replaced whole: look
	                                 for the next expiry in all of them */
	uint64_t next_expiry_ms;      /* earliest admission expiry still ahead (wall ms;
	                                 UINT64_MAX: none); node_members_check waits for it */
	/* feeds stopped at a record this version cannot take (PROTO_E_UPGRADE),
	 * shown by `agora status`; at most NODE_UPGRADES_MAX, newest kept */
	struct node_upgrade {
		uint8_t alliance[32], author[32];
		uint64_t seq;
	} *upgrades;
	size_t n_upgrades;
	/* the peer manager (peering.c): the mesh and its candidates (borrowed
	 * by the mesh until replaced) */
	/* eager and lazy push (graft.c): one timer for every session's
	 * grafts, and what the sessions delivered */
	uv_timer_t graft_timer;
	uint64_t graft_at;            /* when it fires (UINT64_MAX: not armed) */
	uint64_t graft_hold;          /* no graft before (another session just grafted) */
	uint64_t records_received;    /* envelopes from peers, stored or held already */
	uint64_t records_held;        /* of those, held already (copies past the first) */
	struct mesh *mesh;
	struct mesh_candidate *cand;
	size_t n_cand;
	bool cand_dirty;              /* governance, peers or an expiry: read them again */
	/* What every session reads into: libuv calls alloc_cb and read_cb in
	 * pairs on the loop thread, and read_cb consumes (or copies) the
	 * bytes before it returns, so one buffer serves all.  (A buffer in
	 * each session made 1,000 connections opened and dropped at once cost
	 * 64 MB.)  Ciphertext only. */
	uint8_t rbuf[NODE_READ_BUF];
	bool invites_open;            /* an invite is unused and unexpired (tick) */
	bool invites_made;            /* some invite was made here (tick) */
	uint64_t invites_checked_ms;  /* when they were read */
	uint64_t invites_txn;         /* store_txn_number they were read at */
	bool invites_read;            /* invites_txn is set */
	uint8_t (*pending_check)[32]; /* alliances the view just read whole or where it
	                                 changed our own entry (pending.c) */
	size_t n_pending_check;
	struct hooks *hooks;          /* [hook] commands (hooks.c); NULL: none */
	struct blobs *blobs;          /* attachments between peers (blobs.c) */
};

#define NLOG(n, lvl, comp, ...) node_log((n)->log, (lvl), (comp), __VA_ARGS__)

/* hooks.c: [hook] commands, each fed by an `agora watch --jsonl` child.
 * start copies conf (0 or -ENOMEM; a hook that cannot start is logged and
 * tried again by the tick); reload (agora.conf re-read) makes conf the set:
 * a hook with the same command and filter as a running one keeps its
 * watcher (a new timeout applies to its next runs), a removed one's watcher
 * is stopped and its waiting records dropped (its commands running now
 * finish), an added one starts; -ENOMEM changes nothing.  Both copy conf.
 * tick restarts watchers that ended; stop kills and closes every child's
 * handles (before uv_run returns); free frees what is left after the loop
 * has run out. */
int node_hooks_start(struct node *n, const struct node_hook_conf *conf, size_t nconf);
int node_hooks_reload(struct node *n, const struct node_hook_conf *conf, size_t nconf);
void node_hooks_tick(struct node *n);
void node_hooks_stop(struct node *n);
void node_hooks_free(struct node *n);

/* node.c */
uint64_t node_mono_ms(struct node *n);
uint64_t node_wall_ms(struct node *n);
/* Let go of the store pages this process mapped (store_trim), on the
 * threadpool: one at a time, none while one runs, and none until the
 * resident set grew NODE_TRIM_SLACK past what the last trim left and is
 * over NODE_TRIM_FLOOR. */
void node_trim(struct node *n);

/*
 * A session reads at most NODE_READ_BUDGET bytes per loop iteration: libuv
 * reads a readable socket up to 32 times per wake (2 MiB of 64 KiB reads),
 * and decrypting and decoding that much kept the loop from a control
 * request or another peer for 15 ms and more during a large sync.  At the
 * budget the session pauses (PAUSE_BUDGET) and node_budget_resume, in the
 * same iteration's check phase, starts it again: what waits for the next
 * poll is its further bytes, never the other handles.
 */
#define NODE_READ_BUDGET (256u << 10)
void node_read_budget(struct session *s, size_t nread);
/*
 * And it produces at most NODE_PRODUCE_BUDGET bytes of records per loop
 * iteration (session_kick): every write callback kicks its session, and a
 * sender whose writes drained produced a send queue's worth (1 MiB) for
 * each, up to 7 MiB and 19 ms of CPU in one iteration, in bench_sync.
 * node_produce_room is what kick may still produce in this iteration; at 0
 * the session waits (produce_wait) and the next iteration's idle phase
 * kicks it again with a fresh budget (not the check phase: a check handle
 * does not keep the next poll from blocking, and a sender whose writes
 * had all completed would wait for the next tick).  node_produce_spent
 * counts bytes.
 */
#define NODE_PRODUCE_BUDGET (256u << 10)
/*
 * readahead.c (loop thread): the envelopes sync_produce streams, read by a
 * job on libuv's threadpool, at most NODE_READAHEAD_BYTES (or _MAX_N
 * envelopes) of one feed per job.  node_readahead_read is io_read while
 * producing: 0 and the envelope (valid until the loop runs the next
 * callback), SYNC_READ_LATER while the job reads it (its end kicks the
 * session), STORE_E_NOTFOUND when it is not in the store, or an error.
 * node_readahead_drop frees the buffers (nothing is left to stream: a
 * session holds none while idle); node_readahead_free also forgets the
 * job (the session closes; the job ends by itself).
 */
#define NODE_READAHEAD_BYTES (512u << 10)
#define NODE_READAHEAD_MAX_N 4096
int node_readahead_read(struct session *s, const uint8_t alliance[32],
                        const uint8_t author[32], uint64_t seq, const uint8_t **env,
                        size_t *len);
void node_readahead_drop(struct session *s);
void node_readahead_free(struct session *s);
size_t node_produce_room(struct session *s);
void node_produce_spent(struct session *s, size_t bytes);

/* graft.c (loop thread): the timer for grafts (PROTOCOL.md 4.8) */
void node_graft_init(struct node *n);
/* A session's engine has a graft due at `due` (sync_next_deadline): fire
 * no later than then.  O(1); UINT64_MAX is nothing. */
void node_graft_arm(struct node *n, uint64_t due);
/* s sent a batch of alliance's records all held already: sync_duplicate
 * (a Prune); closes s if the engine fails. */
void node_graft_duplicate(struct node *n, struct session *s, const uint8_t alliance[32]);

/* peers.c (loop thread) */
struct peer *node_peer_add(struct node *n, const struct node_peer_conf *conf);
/* An active member that is not in agora.conf connected: an accept-only
 * peer for as long as its session lasts (DESIGN 10). */
struct peer *node_peer_accepted(struct node *n, const uint8_t key[32], const char *name);
struct peer *node_peer_find(struct node *n, const uint8_t key[32]);
/* Its session ended (why: the error, or NULL for a clean close).  how:
 * MESH_CLOSE_REFUSED when the peer said it will not take this key (not
 * admitted, revoked, ...): no redial until agora.conf or the view
 * changes, or `agora sync` asks; MESH_CLOSE_BUSY when it asked us to wait
 * retry_after_ms (too many connections, shutting down); _FAILED, _CLEAN. */
void node_peer_session_closed(struct peer *p, const char *why, enum mesh_close how,
                              uint64_t retry_after_ms);
void node_peer_dial_now(struct peer *p);
void node_sync_all(struct node *n, const uint8_t *peer_key, uint32_t *reached);
/* Re-read agora.conf: peers appear, change and disappear. */
int node_reload(struct node *n);
void node_peers_close(struct node *n);   /* node_stop */

/* peering.c (loop thread): the mesh of members (PROTOCOL.md 6.11) */
int peering_start(struct node *n);        /* node_new; -ENOMEM */
void peering_free(struct node *n);
/* view_apply: governance changed (candidates read again on the next tick),
 * or the feeds in moved[0..n_moved) (borrowed for the call) moved: an
 * Endpoint may have come, so those of them that are candidates get their
 * address looked up again, and the mesh a new array only if one's
 * dialability changed (O(n_moved log F), not O(F), per stored batch). */
void peering_view_changed(struct node *n, bool governance, const struct sync_feed_ref *moved,
                          size_t n_moved);
/* node_members_check: an admission expired (candidates to read again). */
void peering_expired(struct node *n);
void peering_tick(struct node *n);        /* dial and drop what the mesh says */
/* Before our Hello: it says how many sessions the mesh counts. */
void peering_hello_says(struct node *n, struct session *s);
/* The peer's Hello came (with the sessions it holds).  An inbound member
 * that is not in agora.conf is taken only if the mesh has room (or makes
 * room for it, closing another session, when it is isolated); else it is
 * told TOO_MANY_CONNECTIONS and closed: then 1, else 0. */
int peering_opened(struct node *n, struct session *s);
void peering_closed(struct node *n, const uint8_t key[32], enum mesh_close why,
                    uint64_t retry_after_ms);
void peering_retry_now(struct node *n);   /* `agora sync` */

/* view_read.c (threadpool) */
/* Fill d with what changed since write number `since`, for a view that
 * holds the alliances held[0..n_held). */
int view_delta_read(struct node *n, uint64_t since, const uint8_t (*held)[32], size_t n_held,
                    struct view_delta *d);
void view_delta_free(struct view_delta *d);
/* Shared with view.c: free a member list (NULL accepted); free a vector's
 * heads and zero it; a member of a sorted list by key, or NULL. */
void view_members_free(struct view_members *m);
void view_lvec_dispose(struct sync_lvec *v);
const struct view_member *view_member_find(const struct view_members *ms, const uint8_t key[32]);

/* view.c (loop thread) */
/* Loop: take d (left empty) into the view and tell the sessions. */
void view_apply(struct node *n, struct view_delta *d);
void view_free(struct node *n);
/* Loop: queue a job that reads what other writers changed (a poke). */
void view_refresh(struct node *n);
/* Is key active in alliance at now (PROTOCOL.md 6.3)?  From the view. */
int view_member_active(const struct node *n, const uint8_t alliance[32],
                       const uint8_t key[32], uint64_t now_ms);
/* 0 if key is active in at least one alliance this node holds, else the
 * most telling STORE_E_NOT_MEMBER / _REVOKED / _EXPIRED. */
int view_member_active_any(const struct node *n, const uint8_t key[32], uint64_t now_ms);
bool view_holds(const struct node *n, const uint8_t alliance[32]);

/* jobs.c (loop thread) */
/* Queue job in its lane (job->ops->lane; allocated by the caller, owned
 * by the queue from here).  It starts once the jobs queued before it in
 * its lane are done, whatever the other lane runs. */
void job_submit(struct node *n, struct job *job);
/* A runner's two halves: job_run off the loop thread (the job's work,
 * then what changed), job_done on it.  The real runner is job_queue_uv;
 * a test's may run them when it likes, or call job_done alone with
 * job->rc set to make the job fail. */
void job_run(struct job *job);
void job_done(struct job *job);
/* Off the loop: give the calling thread a batch thread's priority (jobs.c). */
void job_thread_batch(void);
void jobs_drop_all(struct node *n);
/* The real runner (uv_queue_work). */
int job_queue_uv(void *ctx, struct job *job);

/* session.c */
int session_accept(struct node *n);
int session_dial(struct node *n, struct peer *p, const struct sockaddr *addr);
void session_close(struct session *s, const char *why, bool error);
/* Send Bye{code, reason, seq} if the session can, then close it. */
void session_refuse(struct session *s, enum sync_bye_code code, const char *why, uint64_t seq);
/* Send Bye{code} and close at once (shutting down: never waits, also not
 * for a session already closing whose Bye is still queued). */
void session_goodbye(struct session *s, enum sync_bye_code code, const char *why);
/* Send Bye{TOO_MANY_CONNECTIONS, retry_after_ms} and close (the mesh
 * dropped the session, or it has no room). */
void session_refuse_busy(struct session *s, uint64_t retry_after_ms, const char *why);
void session_kick(struct session *s);        /* produce records if room, then flush */
/* Write the output gathered so far (every path that sends ends with it). */
int session_flush(struct session *s);
/* What waits to go out: written and not taken by the kernel, plus gathered. */
size_t session_sendq(const struct session *s);
void session_tick(struct session *s, uint64_t now);
struct session *session_find(struct node *n, uint64_t id);
void session_pause(struct session *s, unsigned why);
void session_resume(struct session *s, unsigned why);
const char *session_state_name(const struct session *s);
bool session_peer_known(const struct session *s);
/* Records of (alliance, author) did not chain on our head: the author
 * forked.  Send the sender our record at head (once per feed), else Bye. */
void session_diverged(struct session *s, const uint8_t alliance[32], const uint8_t author[32],
                      uint64_t head);
/* Noise is done and the key accepted (or redeemed): start sync. */
int session_admitted(struct session *s, struct peer *p);

/* ingest.c */
int ingest_enqueue(struct node *n, struct session *s, const uint8_t *alliance,
                   const uint8_t *author, uint64_t first_seq, const uint8_t *const *envs,
                   const size_t *lens, size_t count);
void ingest_resume_reading(struct node *n);
/* Records an ingest job still holds (raw and decoded): all it was given
 * until its work step, which frees them (done, on the loop, has only the
 * outcomes left to read).  For tests. */
size_t ingest_job_records(const struct job *job);
/* The disk-full pause is over (tick): read again, re-run the exchanges. */
void ingest_disk_retry(struct node *n);
/* Why the node does not read from s now, for status ("" when it does). */
const char *session_pause_text(const struct session *s);
/* Bytes a peer sent that wait for a job (records, fork proofs) count in
 * its receive window and the node's; hold pauses reading when over. */
void node_recv_hold(struct node *n, struct session *s, size_t bytes);
void node_recv_release(struct node *n, struct session *s, size_t bytes);  /* s may be NULL */

/* members.c (loop thread, from the view) */
bool node_alliance_allowed(struct node *n, const uint8_t key[32], const uint8_t alliance[32]);
/* Close every session whose peer is no longer active in an alliance it
 * carries (revoked, or its admission expired), and note admissions that
 * expired: called on every tick, it does nothing unless the view changed
 * members since (members_changed: O(sessions x alliances)) or the wall
 * clock reached next_expiry_ms (then, or after an alliance was read whole,
 * every member is looked at), so an idle tick costs nothing per member or
 * session. */
void node_members_check(struct node *n);
/* Remember that key was in a session now: written by a job, coalesced. */
void node_member_seen(struct node *n, const uint8_t key[32]);
/* Fork proofs: send those not yet sent on each session. */
void node_forks_relay(struct node *n);
/* A fork proof from a peer: verified and stored by a job. */
int node_fork_received(struct node *n, struct session *s, const uint8_t alliance[32],
                       const uint8_t author[32], uint64_t seq, const uint8_t *env_a,
                       size_t len_a, const uint8_t *env_b, size_t len_b);

/* invite.c (loop thread) */
/* Tick: are invites open (or were any made)?  Into n->invites_*. */
void node_invites_check(struct node *n);
bool node_join_pending(struct node *n, const uint8_t key[32]);
/* The alliance and token of the invite we joined with from coordinator
 * key: 0 or STORE_E_NOTFOUND.  The caller wipes token after use. */
int node_join_message(struct node *n, const uint8_t key[32], uint8_t alliance[32],
                      uint8_t token[32]);
/* A Redeem arrived on s: run the redemption as a job (sync_io.redeem). */
int node_invite_redeem(struct node *n, struct session *s, const uint8_t alliance[32],
                       const uint8_t token[32]);

/* pending.c (loop thread): this node's records signed at join */
/* The view is about to take d: remember the alliances it brings whole
 * and those where it changes this node's own member entry. */
void node_pending_note(struct node *n, const struct view_delta *d);
/* After the view took them: for each where this node's key is active, a
 * job stores the records that wait (store_pending_ingest) and the view
 * then offers them to peers. */
void node_pending_run(struct node *n);

/*
 * blobs.c, blobs_serve.c (loop thread): attachments between peers (4.9).
 * start (node_new; -ENOMEM) lists the stored records' attachments in a
 * job; tick lists what was stored since and fetches what is missing, one
 * blob at a time, within [attachments] max-file and quota, once no
 * session owes us records (node_blobs_resume); free after the
 * loop ran out.  node_blob_want and node_blob_chunk are a session's
 * sync_io.blob_want / blob_chunk (0 or -ENOMEM); node_blobs_serve sends
 * the answers owed to s while it has no records to stream and little
 * queued (session_kick); node_blobs_session_closed drops them (its close).
 */
int node_blobs_start(struct node *n);
void node_blobs_tick(struct node *n);
/* Fetch on: no record awaits ingest any more (node_recv_release).  While
 * records do (n->recv_pending), no want goes out, and no fetch starts
 * while a session still owes us records (sync_owed), so a backlog of
 * files never delays records; chunks already asked for are still taken,
 * and their writes run in the blob lane, beside the store's. */
void node_blobs_resume(struct node *n);
void node_blobs_free(struct node *n);
int node_blob_want(struct session *s, const uint8_t hash[32], uint64_t offset, uint32_t length);
int node_blob_chunk(struct session *s, const uint8_t hash[32], uint64_t offset,
                    const uint8_t *data, size_t len);
void node_blobs_serve(struct session *s);
void node_blobs_session_closed(struct session *s);

/* Attachment files for `agora status`: listed by records held and not in
 * blobs/ (to fetch, and over the [attachments] limits), and fetched since
 * agorad started.  O(files listed). */
struct node_blob_counts {
	uint64_t missing, missing_bytes, over_limit, fetched, fetched_bytes;
};
void node_blobs_counts(struct node *n, struct node_blob_counts *out);

/* control.c */
int control_open(struct node *n);
void control_close(struct node *n);

#endif
