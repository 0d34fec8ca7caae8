/*
 * sync_v1.h - the landed engine's header (commit 84cc0ed), for
 * sync_v1.c.  Original header:
 * sync.h - the agora sync engine: one per session, I/O-free.
 *
 * App messages in (sync_receive), app messages and actions out (through
 * the callbacks of struct sync_io), in the style of nghttp2: no sockets,
 * no timers, no store.  The engine reads the node's version vectors from a
 * borrowed struct sync_local and envelopes through io->read; it hands the
 * records a peer sends to io->records (the node verifies and stores them).
 * Byte-exact protocol: proto/PROTOCOL.md section 4; messages: proto/wire.proto.
 *
 * Memory: the caller allocates struct sync and calls sync_init() /
 * sync_dispose().  `local` is borrowed: the caller keeps it alive and
 * unchanged during every call, and calls sync_local_changed() after
 * changing it.  Buffers passed to io callbacks are valid for the call only.
 *
 * Threads: one engine, one thread at a time; no global state.
 *
 * Errors: 0 or a negative SYNC_E_* (range -3200..-3299), -ENOMEM, or a
 * code an io callback returned (passed up unchanged).  Every SYNC_E_* code
 * and -ENOMEM is fatal for the session (sync_is_fatal).
 */
#ifndef AGORA_TESTS_LANDED_V1_SYNC_H
#define AGORA_TESTS_LANDED_V1_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYNC_VERSION 1
#define SYNC_KEY_BYTES 32
#define SYNC_LEAF_FEEDS 16              /* ranges this small are listed */
#define SYNC_DEPTH_MAX 64               /* nibbles in a 32-byte key */
#define SYNC_RECORDS_BYTES (256 * 1024) /* envelope bytes per Records message */
#define SYNC_RECORDS_MAX_N 4096         /* envelopes per Records message */
#define SYNC_ALLIANCES_MAX 256          /* alliances per session */
#define SYNC_NAME_MAX 128
#define SYNC_STUCK_MS 30000             /* peer ahead, no progress: stuck */

enum sync_error_code {
	SYNC_E_PROTOCOL = -3200,  /* malformed or unexpected message */
	SYNC_E_VERSION = -3201,   /* peer speaks another protocol version */
	SYNC_E_IDENTITY = -3202,  /* Hello names another key than the handshake */
	SYNC_E_LIMIT = -3203,     /* too many alliances / entries */
	SYNC_E_BYE = -3204,       /* peer said Bye (not an error of ours) */
};

const char *sync_strerror(int code);
bool sync_is_fatal(int code);

/* One feed head of the local vector. */
struct sync_head {
	uint8_t author[SYNC_KEY_BYTES];
	uint64_t seq;
	uint8_t id[SYNC_KEY_BYTES];
};

/* The local version vector of one alliance, heads sorted by author. */
struct sync_lvec {
	uint8_t alliance[SYNC_KEY_BYTES];
	uint8_t founder[SYNC_KEY_BYTES];   /* author of the charter (its feed goes first) */
	bool has_founder;
	struct sync_head *heads;
	size_t n;
};

/* Everything this node holds: one lvec per alliance. */
struct sync_local {
	struct sync_lvec *v;
	size_t n;
};

struct sync_io {
	void *ctx;
	/* Send one app message (the serialized wire Message).  Copy it. */
	int (*send)(void *ctx, const uint8_t *msg, size_t len);
	/* Borrow envelope (alliance, author, seq); valid until the engine call
	 * that asked returns.  Non-zero: the feed is skipped for now. */
	int (*read)(void *ctx, const uint8_t alliance[SYNC_KEY_BYTES],
	            const uint8_t author[SYNC_KEY_BYTES], uint64_t seq,
	            const uint8_t **env, size_t *len);
	/* Records the peer sent (unverified).  envs[i] / lens[i] are valid for
	 * the call only.  Non-zero is passed up as the engine's result. */
	int (*records)(void *ctx, const uint8_t alliance[SYNC_KEY_BYTES],
	               const uint8_t author[SYNC_KEY_BYTES], uint64_t first_seq,
	               const uint8_t *const *envs, const size_t *lens, size_t n);
	/* May this alliance be carried on this session (may be NULL: every
	 * alliance may)?  The node answers "the peer is admitted, not revoked
	 * and not expired there" for an alliance it holds.  An alliance that is
	 * not allowed is left out of our Hello and of the exchange, and every
	 * message of the peer about it is ignored. */
	bool (*allowed)(void *ctx, const uint8_t alliance[SYNC_KEY_BYTES]);
	/* A fork proof from the peer (may be NULL: ignored), unverified: the
	 * node verifies and stores both envelopes.  Buffers valid for the call.
	 * Non-zero is passed up as the engine's result. */
	int (*fork)(void *ctx, const uint8_t alliance[SYNC_KEY_BYTES],
	            const uint8_t author[SYNC_KEY_BYTES], uint64_t seq, const uint8_t *env_a,
	            size_t len_a, const uint8_t *env_b, size_t len_b);
};

/* What the engine knows of the peer's holdings in one alliance. */
struct sync_pfeed {
	uint8_t author[SYNC_KEY_BYTES];
	uint64_t seq;          /* peer's head as far as we know */
	uint64_t seen_local;   /* our head when `since` was set */
	uint64_t since_ms;     /* peer ahead of us and no progress since */
};

/* A range we asked the peer to compare, or listed with reply set, in our
 * last turn (see sync.c), with our entries in it when we sent it. */
struct sync_range {
	uint8_t lo[SYNC_KEY_BYTES];   /* prefix padded with zero nibbles */
	uint32_t depth;
	bool vector;                  /* sent as a Vector with reply = true */
	size_t first, n;              /* our entries then: snap[first, first + n) */
};

struct sync_alliance {
	uint8_t id[SYNC_KEY_BYTES];
	struct sync_range *pend;  /* ranges of our last turn, sorted */
	size_t n_pend;
	struct sync_pfeed *snap;  /* our entries in them when sent */
	struct sync_pfeed *peer;  /* sorted by author */
	size_t n, cap;
	bool exchanging;          /* vector exchange in progress */
	bool synced;              /* exchange done: push what the peer lacks */
};

/* A feed the peer lacks records of: streamed in prio, then key order. */
struct sync_outfeed {
	uint32_t a;               /* index into al */
	uint8_t author[SYNC_KEY_BYTES];
	uint8_t prio;             /* 0 first */
};

enum sync_state {
	SYNC_STATE_HELLO = 0,     /* waiting for the peer's Hello */
	SYNC_STATE_OPEN,          /* Hello exchanged */
	SYNC_STATE_FAILED,
};

struct sync {
	enum sync_state state;
	bool initiator;
	const struct sync_local *local;   /* borrowed */
	struct sync_io io;
	uint8_t self[SYNC_KEY_BYTES];
	uint8_t peer_key[SYNC_KEY_BYTES]; /* authenticated by the handshake */
	char name[SYNC_NAME_MAX];
	char peer_name[SYNC_NAME_MAX];
	struct sync_alliance *al;
	size_t n_al;
	struct sync_outfeed *out;         /* feeds to stream to the peer */
	size_t n_out, cap_out;
	uint64_t records_in, records_out; /* envelopes received / sent */
	uint64_t msgs_in, msgs_out;
	uint64_t last_ping;               /* nonce of the last Ping sent */
	bool pong_due;
};

/*
 * Set up an engine for a session whose handshake authenticated peer_key.
 * initiator: this side dialed (it opens the vector exchange).  name: ours,
 * for display (may be NULL).  Errors: SYNC_E_PROTOCOL (NULL argument).
 */
int sync_init(struct sync *s, bool initiator, const uint8_t self[SYNC_KEY_BYTES],
              const char *name, const uint8_t peer_key[SYNC_KEY_BYTES],
              const struct sync_local *local, const struct sync_io *io);
void sync_dispose(struct sync *s);  /* accepts NULL */

/* Send our Hello.  Call once, right after sync_init(). */
int sync_start(struct sync *s);

/*
 * One app message from the peer.  now_ms is for stuck-feed tracking.
 * Errors: fatal SYNC_E_* (drop the session and log it), SYNC_E_BYE when
 * the peer said goodbye, or what an io callback returned.
 */
int sync_receive(struct sync *s, const uint8_t *msg, size_t len, uint64_t now_ms);

/*
 * Stream records the peer lacks, feed by feed, until about `budget`
 * envelope bytes were sent or nothing is left.  *more (may be NULL) says
 * whether anything is left to send.
 */
int sync_produce(struct sync *s, size_t budget, bool *more);

/* Anything left to stream? */
bool sync_pending(const struct sync *s);

/* The local vector changed (records stored or published): recompute what
 * the peer lacks; new alliances join the session. */
int sync_local_changed(struct sync *s, uint64_t now_ms);

/* Re-run the vector exchange for every alliance not currently exchanging. */
int sync_resync(struct sync *s);

/* Tell the peer our head of a feed after its records did not chain. */
int sync_send_ack(struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                  const uint8_t author[SYNC_KEY_BYTES], uint64_t seq);
/* Send a fork proof (both envelopes of one feed position) if the session
 * carries that alliance; 0 without sending otherwise. */
int sync_send_fork(struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                   const uint8_t author[SYNC_KEY_BYTES], uint64_t seq, const uint8_t *env_a,
                   size_t len_a, const uint8_t *env_b, size_t len_b);
int sync_send_ping(struct sync *s, uint64_t nonce);
int sync_send_bye(struct sync *s, const char *reason);

/* Peer's known head of a feed (0 if unknown). */
uint64_t sync_peer_seq(const struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                       const uint8_t author[SYNC_KEY_BYTES]);

/* True once every alliance's exchange finished and nothing is left to send. */
bool sync_live(const struct sync *s);

struct sync_stuck {
	uint8_t alliance[SYNC_KEY_BYTES];
	uint8_t author[SYNC_KEY_BYTES];
	uint64_t our_seq, peer_seq, stalled_ms;
};

/*
 * Lag: behind = records the peer is known to hold that we lack; ahead =
 * records we hold that the peer lacks (after its exchange).  Up to
 * max_stuck stuck feeds (peer ahead, our head unchanged for SYNC_STUCK_MS)
 * go to stuck[]; *n_stuck gets how many were written.
 */
void sync_lag(const struct sync *s, uint64_t now_ms, uint64_t *behind, uint64_t *ahead,
              struct sync_stuck *stuck, size_t max_stuck, size_t *n_stuck);

/* Digest of sorted heads (BLAKE2b-256 over author || seq BE64 || id). */
void sync_digest(uint8_t out[32], const struct sync_head *h, size_t n);

#endif
