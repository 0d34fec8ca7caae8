/*
 * sync.h - the agora sync engine: one per session, I/O-free.
 *
 * App messages in (sync_receive), app messages and actions out (through
 * the callbacks of struct sync_io), in the style of nghttp2: no sockets,
 * no timers, no store.  The engine reads the node's version vectors from a
 * borrowed struct sync_local and envelopes through io->read; it hands the
 * records a peer sends to io->records (the node verifies and stores them).
 * Byte-exact protocol: proto/PROTOCOL.md section 4; messages: proto/wire.proto.
 *
 * States (one receive function each, see sync.c):
 *
 *   AWAIT_REDEEM --Redeem--> REDEEM_PENDING --sync_admit--> HELLO --Hello--> OPEN
 *        (SYNC_AWAIT_REDEEM only)                             ^ (default start)
 *   any state --Bye sent or received--> CLOSED;  any fatal error --> FAILED
 *
 * Memory: the caller allocates struct sync and calls sync_init() /
 * sync_dispose().  `local` is borrowed: the caller keeps it alive during
 * every call and changes it only between calls, then says what changed
 * (sync_feeds_changed, sync_alliances_changed, or sync_local_changed for
 * "anything").  The engine writes nothing of `local` but the digest cache
 * of its vectors (struct sync_lvec).  Buffers passed to io callbacks are
 * valid for the call only.  The fields of struct sync are private: read
 * them through the functions below.
 *
 * Threads: one engine, one thread at a time; no global state.  Engines
 * sharing one `local` must run on the same thread (its digest cache).
 *
 * Errors: 0 or a negative SYNC_E_* (range -3200..-3299), -ENOMEM, or a
 * code an io callback returned (passed up unchanged).  Every negative code
 * is fatal for the session: close it.  Before returning a fatal SYNC_E_*
 * of its own the engine sends the peer a Bye saying why (sync_bye_sent);
 * the node flushes what was sent, then closes.
 */
#ifndef AGORA_NODE_SYNC_H
#define AGORA_NODE_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ limits */

#define SYNC_VERSION_MIN 1              /* lowest protocol version spoken */
#define SYNC_VERSION_MAX 4              /* highest (what Hello offers) */
#define SYNC_KEY_BYTES 32
#define SYNC_LEAF_FEEDS 16              /* ranges this small are listed */
#define SYNC_DEPTH_MAX 64               /* nibbles in a 32-byte key */
#define SYNC_RECORDS_BYTES (256 * 1024) /* envelope bytes per Records sent */
#define SYNC_ALLIANCES_MAX 256          /* alliances per session */
#define SYNC_NAME_MAX 128               /* display name kept (bytes, with NUL) */
#define SYNC_REASON_MAX 256             /* Bye reason kept (bytes, with NUL) */
#define SYNC_STUCK_MS 30000             /* peer ahead, no progress: stuck */

/*
 * Parse cost (PROTOCOL.md 4.5).  Before protobuf-c unpacks a message, a
 * walk of its bytes that allocates nothing counts its fields; a message
 * over any limit below is refused (SYNC_E_LIMIT) without being unpacked,
 * so its cost is the walk (no allocation) whatever its size.
 */
/* Alliances in one Hello: a node holds at most SYNC_ALLIANCES_MAX. */
#define SYNC_HELLO_ALLIANCES_MAX SYNC_ALLIANCES_MAX
/* Envelopes in one Records: 4096 envelopes of the smallest record still
 * fill 256 KiB, the sender's close size. */
#define SYNC_RECORDS_MAX_N 4096
/* Entries in one Vector: a range is listed only where its sender holds at
 * most SYNC_LEAF_FEEDS feeds, and a reply lists a subset of those. */
#define SYNC_VECTOR_ENTRIES_MAX SYNC_LEAF_FEEDS
/* Feeds per alliance this version is built for (the Covenant of Mayors
 * has ~12,000 members; 5x that).  Bounds the two below. */
#define SYNC_FEEDS_MAX 65536
/* Ranges in one Ranges: the 16 sub-ranges of each range holding more than
 * 16 of the sender's feeds, fewer than SYNC_FEEDS_MAX in all.  A Ranges
 * answering a turn of ours may also hold at most 16 per range of that turn. */
#define SYNC_RANGES_MAX 65536
/* Vectors in one Ranges: at most one per range or vector of the turn it
 * answers (so at most that many), and never more than this. */
#define SYNC_VECTORS_MAX 65536
/* Entries in all the Vectors of one Ranges: the sender's own feeds in
 * disjoint ranges, plus its answers to at most as many of ours. */
#define SYNC_ENTRIES_MAX (2 * SYNC_FEEDS_MAX)
/* Fields of numbers this version does not know, in one message and all its
 * sub-messages: ignored (the protocol grows by adding fields), but each
 * costs an allocation, so a message with more is refused. */
#define SYNC_UNKNOWN_FIELDS_MAX 64
/* The one message an unknown key may send before it is admitted: a Redeem
 * is 70 bytes; the rest is room for fields of later versions. */
#define SYNC_REDEEM_MAX 256
/* Feeds of the peer this session keeps track of, over all alliances:
 * what a peer claims beyond this closes the session (SYNC_E_LIMIT). */
#define SYNC_PEER_FEEDS_MAX (2 * SYNC_FEEDS_MAX)
/* Feeds marked diverged (sync_feed_diverged) per session. */
#define SYNC_DIVERGED_MAX 64
/* Entries in one Have or Graft (version 3): what one call announces is
 * split into messages of at most this many (about 40 KB each). */
#define SYNC_GOSSIP_ENTRIES_MAX 1024
/* Records the peer announced (Have) that have not arrived, tracked per
 * session over all alliances (56 bytes each).  Past this, an alliance's
 * further announcements are not tracked one by one: at the graft time an
 * exchange of that alliance is opened instead (PROTOCOL.md 4.8). */
#define SYNC_MISSING_MAX 4096
/* How long a record the peer announced may take to arrive by another
 * session before this one grafts it (sync_set_graft_ms changes it).  It
 * must exceed the extra hops of the eager tree over the direct link, or
 * every announcement turns into a graft and a copy (tests/node/
 * sync_gossip_test.c counts the copies, PROTOCOL.md 4.8). */
#define SYNC_GRAFT_MS 400
/* When several sessions have grafts due, the node lets one graft and the
 * others wait this long: what the first asks for is often what the others
 * were announced too, and arrives within a round trip (one graft, not one
 * per announcer: PROTOCOL.md 4.8). */
#define SYNC_GRAFT_NEXT_MS 200
/* A lazy alliance whose peer still pushes new records (a Prune and a
 * Graft crossed) is pruned again, at most this often. */
#define SYNC_PRUNE_AGAIN_MS 5000
/* Blobs (version 4, PROTOCOL.md 4.9): bytes asked for in one BlobWant and
 * carried by one BlobChunk (a Noise transport message holds 65519, so a
 * chunk is two frames), and the wants of one side a session keeps
 * unanswered at a time: what a peer can make a node hold for it is
 * 16 x 64 KiB = 1 MiB, and more is SYNC_E_LIMIT. */
#define SYNC_BLOB_CHUNK_MAX 65536
#define SYNC_BLOB_WANTS_MAX 16

/*
 * Output bound (PROTOCOL.md 4.5).  The answer to one message that holds a
 * request is at most SYNC_ANSWER_FACTOR bytes per byte of it, plus
 * SYNC_ANSWER_SLACK: a range of L bytes is answered by 16 sub-ranges of at
 * most L + 5 bytes each or one Vector of at most 16 entries (<= 18.4 L, as
 * L >= 43), a vector by a vector no larger.  Beyond answers the engine
 * sends, once per session, its Hello, one Digest per alliance and one Bye;
 * and streams each feed at most twice (one rewind per feed and session).
 */
#define SYNC_ANSWER_FACTOR 19
#define SYNC_ANSWER_SLACK 64

enum sync_error_code {
	SYNC_E_PROTOCOL = -3200,  /* malformed or unexpected message */
	SYNC_E_VERSION = -3201,   /* no protocol version in common */
	SYNC_E_IDENTITY = -3202,  /* Hello names another key than the handshake */
	SYNC_E_LIMIT = -3203,     /* a limit above was exceeded */
	SYNC_E_BYE = -3204,       /* peer said Bye (not an error of ours): sync_bye_received */
	SYNC_E_STATE = -3205,     /* call not allowed in this state (programmer error) */
	SYNC_E_DIVERGED = -3206,  /* peer kept sending a feed that diverged from ours */
	SYNC_E_NOT_ADMITTED = -3207, /* unknown key sent something other than a Redeem */
	SYNC_E_CLOSED = -3208,    /* message after a Bye: the session is closing */
};

/* What io.read answers for an envelope it is still fetching (not an
 * error: positive, never returned by the engine). */
#define SYNC_READ_LATER 1

const char *sync_strerror(int code);
bool sync_is_fatal(int code);   /* code < 0 */

/* ------------------------------------------------------- local vectors */

/* One feed head of the local vector. */
struct sync_head {
	uint8_t author[SYNC_KEY_BYTES];
	uint64_t seq;
	uint8_t id[SYNC_KEY_BYTES];
	bool coordinator;     /* a coordinator's feed: streamed before all others */
};

/*
 * Digests of the ranges of depth 0, 1 and 2 (1 + 16 + 256), computed when
 * first asked for and kept until a head in the range changes, so a Digest
 * costs one BLAKE2b pass over the vector per change of the vector, shared
 * by every session, not one per Digest received.  Engine-private.
 */
#define SYNC_DCACHE_N (1 + 16 + 256)
struct sync_dcache {
	uint8_t dig[SYNC_DCACHE_N][32];
	uint8_t valid[(SYNC_DCACHE_N + 7) / 8];
};

/*
 * The local version vector of one alliance, heads sorted by author (no
 * duplicates).  heads is malloc()ed and owned by whoever owns the lvec;
 * sync_lvec_set may realloc it.  A zeroed lvec is empty and valid.  Change
 * heads with sync_lvec_set(), or call sync_lvec_touch() after changing them
 * in place: the digest cache would otherwise describe the old heads.
 */
struct sync_lvec {
	uint8_t alliance[SYNC_KEY_BYTES];
	uint8_t founder[SYNC_KEY_BYTES];   /* author of the charter (a coordinator) */
	bool has_founder;
	struct sync_head *heads;
	size_t n, cap;                     /* cap: allocated heads (0: exactly n) */
	struct sync_dcache dcache;
};

/* Everything this node holds: one lvec per alliance. */
struct sync_local {
	struct sync_lvec *v;
	size_t n;
};

/* Insert or update one head (coordinator flag kept on update), and
 * forget the cached digests that cover it.  0 or -ENOMEM (v unchanged). */
int sync_lvec_set(struct sync_lvec *v, const uint8_t author[SYNC_KEY_BYTES], uint64_t seq,
                  const uint8_t id[SYNC_KEY_BYTES]);
/* heads were changed in place or replaced: forget every cached digest. */
void sync_lvec_touch(struct sync_lvec *v);

/* Digest of sorted heads (BLAKE2b-256 over author || seq BE64 || id). */
void sync_digest(uint8_t out[32], const struct sync_head *h, size_t n);

/* --------------------------------------------------------------- io */

struct sync_io {
	void *ctx;
	/* Send one app message (the serialized wire Message).  Copy it. */
	int (*send)(void *ctx, const uint8_t *msg, size_t len);
	/* Borrow envelope (alliance, author, seq); valid until the engine call
	 * that asked returns.  SYNC_READ_LATER (inside sync_produce only): not
	 * at hand yet, so sync_produce sends what it has and returns (*more
	 * true); the node calls it again once it is.  Any other non-zero: the
	 * feed is skipped for now. */
	int (*read)(void *ctx, const uint8_t alliance[SYNC_KEY_BYTES],
	            const uint8_t author[SYNC_KEY_BYTES], uint64_t seq,
	            const uint8_t **env, size_t *len);
	/* Records the peer sent (unverified).  envs[i] / lens[i] are valid for
	 * the call only.  Non-zero is passed up as the engine's result. */
	int (*records)(void *ctx, const uint8_t alliance[SYNC_KEY_BYTES],
	               const uint8_t author[SYNC_KEY_BYTES], uint64_t first_seq,
	               const uint8_t *const *envs, const size_t *lens, size_t n);
	/* May this alliance be carried on this session (may be NULL: every
	 * alliance may)?  For an alliance the node holds: "the peer is
	 * admitted, not revoked and not expired there".  For one it does not
	 * hold (asked when the peer's Hello or Records name it): whether the
	 * node wants to learn it from this peer.  Answer true there only for
	 * an alliance the node expects (an invite it redeemed): a Digest for an
	 * alliance outside the session gets the same answer whether the node
	 * holds it or not, but one the peer named and the node accepted does
	 * not.  Not allowed: left out of our Hello and of the exchange; the
	 * peer's Records about it are dropped unseen. */
	bool (*allowed)(void *ctx, const uint8_t alliance[SYNC_KEY_BYTES]);
	/* A fork proof from the peer (may be NULL: ignored), unverified: the
	 * node verifies and stores both envelopes.  Buffers valid for the call.
	 * Non-zero is passed up as the engine's result. */
	int (*fork)(void *ctx, const uint8_t alliance[SYNC_KEY_BYTES],
	            const uint8_t author[SYNC_KEY_BYTES], uint64_t seq, const uint8_t *env_a,
	            size_t len_a, const uint8_t *env_b, size_t len_b);
	/* An unknown key's Redeem (needed with SYNC_AWAIT_REDEEM, else may be
	 * NULL).  The node starts its redemption and reads nothing more from
	 * the session until it decides: sync_admit() on success, or
	 * sync_send_bye() with BYE_INVITE_* / BYE_WRONG_ALLIANCE.  (The joiner
	 * sends its Hello right after the Redeem: keep those bytes unread.)
	 * Non-zero is passed up as the engine's result. */
	int (*redeem)(void *ctx, const uint8_t alliance[SYNC_KEY_BYTES],
	              const uint8_t token[SYNC_KEY_BYTES]);
	/* Version 4: the peer wants `length` bytes of blob `hash` from
	 * `offset` (may be NULL: every want is answered BlobNone at once).  The
	 * node answers each want exactly once, in the order they came, with
	 * sync_blob_answer(), now or in a later call.  Non-zero is passed up. */
	int (*blob_want)(void *ctx, const uint8_t hash[SYNC_KEY_BYTES], uint64_t offset,
	                 uint32_t length);
	/* Version 4: the peer answered our oldest want (sync_blob_want) with
	 * its bytes: data[0..len) is the blob at offset, exactly as long as
	 * asked for (shorter only at the blob's end), checked against the
	 * want and the size we declared; not yet against the hash (the node
	 * hashes the whole).  data NULL (len 0): BlobNone, the peer does not
	 * serve it.  Buffers valid for the call.  May be NULL (ignored).
	 * Non-zero is passed up. */
	int (*blob_chunk)(void *ctx, const uint8_t hash[SYNC_KEY_BYTES], uint64_t offset,
	                  const uint8_t *data, size_t len);
};

/* ------------------------------------------------------------ Bye */

/* Why a session ends: the values of wire.proto's ByeCode (PROTOCOL.md 4.5,
 * "Bye", says what a node that receives each one does). */
enum sync_bye_code {
	SYNC_BYE_UNSPECIFIED = 0,       /* a version-1 Bye: read the reason */
	SYNC_BYE_NOT_ADMITTED = 1,
	SYNC_BYE_REVOKED = 2,           /* alliance, seq */
	SYNC_BYE_ADMISSION_EXPIRED = 3, /* alliance */
	SYNC_BYE_INVITE_USED = 4,
	SYNC_BYE_INVITE_UNKNOWN = 5,
	SYNC_BYE_INVITE_EXPIRED = 6,
	SYNC_BYE_WRONG_ALLIANCE = 7,
	SYNC_BYE_TOO_MANY_CONNECTIONS = 8, /* retry_after_ms */
	SYNC_BYE_LIMIT_EXCEEDED = 9,
	SYNC_BYE_PROTOCOL_ERROR = 10,
	SYNC_BYE_NO_COMMON_VERSION = 11,
	SYNC_BYE_SHUTTING_DOWN = 12,    /* retry_after_ms */
	SYNC_BYE_FEED_DIVERGED = 13,    /* alliance, author, seq */
	SYNC_BYE_DUPLICATE_SESSION = 14,
	SYNC_BYE_IDENTITY = 15,
	SYNC_BYE_NOT_A_PEER = 16,
};

struct sync_bye {
	uint32_t code;                  /* enum sync_bye_code, or a later version's */
	char reason[SYNC_REASON_MAX];   /* control characters replaced by '?' */
	uint64_t seq;                   /* 0 if absent */
	uint64_t retry_after_ms;        /* 0 if absent */
	bool has_alliance, has_author;
	uint8_t alliance[SYNC_KEY_BYTES];
	uint8_t author[SYNC_KEY_BYTES];
};

/* Stable text name of a code ("not_admitted"), "unknown" if not one. */
const char *sync_bye_code_name(uint32_t code);

/* ------------------------------------------------------ engine state */

/* What the engine knows of one peer feed.  Private. */
struct sync_pfeed {
	uint8_t author[SYNC_KEY_BYTES];
	uint64_t seq;          /* peer's head as far as we know */
	uint64_t since_ms;     /* peer ahead of us since (0: not ahead) */
	uint64_t seen_local;   /* our head when since_ms was set */
	uint64_t sent_tick;    /* our message count when we last sent records of it */
	bool rewound;          /* lowered once this session: never again */
	uint32_t unconfirmed;  /* of seq, records we only announced (Have), never sent:
	                          a Graft may take seq back down by this much */
};

/* Our entry in a range as it was when a turn went out.  Private. */
struct sync_entry {
	uint8_t author[SYNC_KEY_BYTES];
	uint64_t seq;
};

/* A range or reply vector of our last turn in one exchange.  Private. */
struct sync_range {
	uint8_t lo[SYNC_KEY_BYTES];   /* prefix padded with zero nibbles */
	uint32_t depth;
	bool vector;                  /* sent as a Vector with reply = true */
	size_t first, n;              /* our entries then: snap[first, first + n) */
};

/* One exchange of one alliance.  Private. */
struct sync_exchange {
	uint32_t id;                  /* version 2: its id (0: none yet) */
	bool active;                  /* under way */
	bool awaiting;                /* a turn of ours in it awaits its answer */
	uint64_t turn_tick;           /* our message count when that turn went out */
	struct sync_range *pend;      /* that turn's ranges and reply vectors, by lo */
	size_t n_pend, n_pend_ranges;
	struct sync_entry *snap;      /* our entries in them when it went out */
};

/* A record the peer announced (Have) that we lack.  Private. */
struct sync_missing {
	uint8_t author[SYNC_KEY_BYTES];
	uint64_t seq;                 /* the peer's head it announced */
	uint64_t due_ms;              /* graft then, unless it has arrived */
};

/* One alliance of the session.  Private. */
struct sync_alliance {
	uint8_t id[SYNC_KEY_BYTES];
	struct sync_exchange ex[2];   /* [0] opened by us, [1] by the peer */
	uint8_t fifo[2];              /* exchanges awaiting an answer, oldest first */
	uint8_t n_fifo;
	struct sync_pfeed *peer;      /* sorted by author */
	size_t n, cap;
	bool base;                    /* a feed with no entry in peer is one the peer
	                                 holds exactly as we do (our head, nothing
	                                 else known of it); else one it holds none of.
	                                 Set when an exchange ends, so a session keeps
	                                 entries only where the peer differs from us */
	bool synced;                  /* an exchange ended: push what the peer lacks */
	bool unshared;                /* left the session (peer or node said so) */
	bool lazy;                    /* v3: pruned (either side): new records are
	                                 announced both ways, not pushed */
	uint64_t prune_ms;            /* when it was last pruned (sent or received) */
	struct sync_missing *miss;    /* announced to us, not arrived: sorted by author */
	size_t n_miss, cap_miss;
	uint64_t overflow_due;        /* announcements past SYNC_MISSING_MAX: open an
	                                 exchange then (0: none) */
};

/* A feed the peer lacks records of: streamed in prio, then key order.
 * Private. */
struct sync_outfeed {
	uint8_t prio;             /* 0 coordinators, 1 the peer's own, 2 the rest */
	uint32_t a;               /* index into al */
	uint8_t author[SYNC_KEY_BYTES];
};

/* A feed whose copies diverged (sync_feed_diverged).  Private. */
struct sync_diverged {
	uint8_t alliance[SYNC_KEY_BYTES];
	uint8_t author[SYNC_KEY_BYTES];
	uint64_t seq;
	uint64_t barrier;         /* nonce of the Ping sent then */
	bool armed;               /* its Pong came: the peer has seen our answer */
};

enum sync_state {
	SYNC_STATE_HELLO = 0,       /* waiting for the peer's Hello */
	SYNC_STATE_OPEN,            /* Hello exchanged */
	SYNC_STATE_AWAIT_REDEEM,    /* unknown key: only one Redeem may come */
	SYNC_STATE_REDEEM_PENDING,  /* io.redeem called: nothing may come */
	SYNC_STATE_CLOSED,          /* Bye sent or received */
	SYNC_STATE_FAILED,          /* a fatal error: send nothing more */
};

struct sync_counters {
	uint64_t records_in, records_out;  /* envelopes received / sent */
	uint64_t msgs_in, msgs_out;
	uint64_t bytes_in, bytes_out;      /* app message bytes (no framing) */
	uint64_t blob_bytes_in, blob_bytes_out;  /* BlobChunk data (v4) */
};

/* A BlobWant not answered yet (ours or the peer's).  Private. */
struct sync_blob_want {
	uint8_t hash[SYNC_KEY_BYTES];
	uint64_t offset;
	uint32_t length;
	uint64_t size;            /* ours: the size the record declares; theirs: 0 */
};

/* The unanswered wants of one side, oldest first (a ring).  Private. */
struct sync_blob_fifo {
	struct sync_blob_want w[SYNC_BLOB_WANTS_MAX];
	size_t head, n;
};

/* Private: use the functions. */
struct sync {
	enum sync_state state;
	bool initiator;
	uint32_t version;                 /* negotiated; 0 before the peer's Hello */
	struct sync_local *local;         /* borrowed */
	struct sync_io io;
	uint8_t self[SYNC_KEY_BYTES];
	uint8_t peer_key[SYNC_KEY_BYTES]; /* authenticated by the handshake */
	char name[SYNC_NAME_MAX];
	char peer_name[SYNC_NAME_MAX];
	uint32_t sessions;                /* what our Hello says (sync_set_sessions) */
	bool has_sessions;
	uint32_t peer_sessions;           /* what the peer's said; UINT32_MAX: nothing */
	struct sync_alliance *al;
	size_t n_al;
	size_t n_peer_feeds;              /* over all alliances */
	struct sync_outfeed *out;         /* feeds to stream to the peer */
	size_t n_out, n_out_sorted, cap_out; /* sorted up to n_out_sorted */
	struct sync_diverged *div;
	size_t n_div;
	uint32_t next_exchange;           /* version 2 ids: dialer odd, acceptor even */
	uint64_t now_ms;                  /* of the call under way */
	uint64_t acked_tick;              /* our messages the peer has surely read */
	uint64_t last_ping;               /* nonce of the last Ping sent */
	uint64_t last_ping_tick;          /* our message count then */
	uint64_t barrier_seq;
	size_t n_missing;                 /* over all alliances */
	uint64_t next_due;                /* no later than the earliest graft due */
	uint32_t graft_ms;                /* SYNC_GRAFT_MS unless set */
	bool eager_only;                  /* SYNC_EAGER_ONLY */
	struct sync_counters c;
	struct sync_blob_fifo blob_out;   /* our wants (v4) */
	struct sync_blob_fifo blob_in;    /* the peer's wants (v4) */
	bool hello_out;
	bool bye_in, bye_out;
	char why[SYNC_REASON_MAX];        /* our last fatal error, for the log */
	struct sync_bye bye;              /* the one received (bye_in) */
	uint32_t bye_out_code;            /* the one sent (bye_out) */
};

/* ------------------------------------------------------- lifecycle */

/* Before sync_start: our Hello says we hold n other sessions with members
 * (PROTOCOL.md 6.11).  Without it the Hello says nothing. */
void sync_set_sessions(struct sync *s, uint32_t n);
/* The peer's Hello came (state past SYNC_STATE_HELLO): the sessions it
 * said it holds besides this one, or UINT32_MAX if it said none. */
uint32_t sync_peer_sessions(const struct sync *s);

#define SYNC_INITIATOR 1u     /* this side dialed: it opens the exchanges */
#define SYNC_AWAIT_REDEEM 2u  /* unknown key: its first message must be one Redeem */
#define SYNC_EAGER_ONLY 4u    /* push every new record, as version 1 does: never
                                 send Prune, ignore one received (the baseline
                                 tests/node/sync_gossip_test.c compares with) */

/*
 * Set up an engine for a session whose handshake authenticated peer_key.
 * flags: SYNC_INITIATOR and/or SYNC_AWAIT_REDEEM (needs io->redeem),
 * SYNC_EAGER_ONLY.
 * name: ours, for display (may be NULL).  Errors: SYNC_E_PROTOCOL (a NULL
 * argument or callback).
 */
int sync_init(struct sync *s, unsigned flags, const uint8_t self[SYNC_KEY_BYTES],
              const char *name, const uint8_t peer_key[SYNC_KEY_BYTES],
              struct sync_local *local, const struct sync_io *io);
void sync_dispose(struct sync *s);  /* accepts NULL */

/* Send our Hello (state HELLO, right after sync_init).  SYNC_E_STATE in
 * another state. */
int sync_start(struct sync *s);

/* The joiner's start: send Redeem { alliance, token }, then our Hello. */
int sync_start_redeem(struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                      const uint8_t token[SYNC_KEY_BYTES]);

/* The redeemer is admitted (state REDEEM_PENDING): send our Hello and
 * wait for the peer's, which the node may now read.  SYNC_E_STATE in
 * another state. */
int sync_admit(struct sync *s);

/*
 * One app message from the peer.  now_ms (monotonic) dates stuck feeds.
 * Errors: fatal SYNC_E_* (close the session and log it: a Bye saying why
 * was sent), SYNC_E_BYE when the peer said goodbye (sync_bye_received),
 * or what an io callback returned.
 */
int sync_receive(struct sync *s, const uint8_t *msg, size_t len, uint64_t now_ms);

/*
 * Stream records the peer lacks, feed by feed, until about `budget`
 * envelope bytes were sent, nothing is left, or io.read answered
 * SYNC_READ_LATER (the next call goes on from that record).  *more (may be
 * NULL) says whether anything is left to send.
 */
int sync_produce(struct sync *s, size_t budget, bool *more);

/* Anything left to stream? */
bool sync_pending(const struct sync *s);

/* ---------------------------------------------------- local changes */

struct sync_feed_ref {
	uint8_t alliance[SYNC_KEY_BYTES];
	uint8_t author[SYNC_KEY_BYTES];
	uint64_t was;   /* our head of the feed before this change (0: none) */
};

/*
 * These feeds' heads in `local` moved (records stored or published; the
 * node has already updated the vectors, e.g. with sync_lvec_set), each
 * from its `was`.  Tell every open session before anything else of it
 * runs: a session keeps no entry for a feed the peer holds exactly as we
 * did, and learns from `was` what that was.  The
 * live push: where the peer lacks the new records, an eager alliance
 * streams them (sync_produce), a lazy one (the peer pruned it, version 3)
 * announces them at once in one Have per alliance (more only past
 * SYNC_GOSSIP_ENTRIES_MAX feeds), unless the feed is still being streamed.
 * Records the peer announced that are now held need no graft.  Cost:
 * O(n log F) plus inserting them into the out-feed list; nothing else is
 * revisited.  An alliance not in `local` or not in the session is skipped.
 */
int sync_feeds_changed(struct sync *s, const struct sync_feed_ref *changed, size_t n,
                       uint64_t now_ms);

/*
 * Alliances were added to `local`, or io->allowed may now answer
 * differently (an admission, a revocation, an expiry): alliances newly
 * allowed join the session and their feeds are pushed from the start
 * (what the peer already holds comes back as known); alliances no longer
 * allowed leave it (nothing more of them is sent or taken).  O(alliances)
 * plus the feeds of the alliances that joined.
 */
int sync_alliances_changed(struct sync *s, uint64_t now_ms);

/* `local` is about to be replaced whole, with no `was` for what moves:
 * call before, so that the session writes down, for every feed it keeps no
 * entry of, the head it stands for (O(feeds)); then sync_local_changed. */
int sync_local_replacing(struct sync *s);

/* Anything in `local` may have changed: sync_alliances_changed, then every
 * feed is revisited (O(feeds)) and whatever the peer lacks is streamed, in
 * either push mode (a catch-up).  Prefer the two above. */
int sync_local_changed(struct sync *s, uint64_t now_ms);

/* Open a new exchange for every alliance of the session whose exchange
 * opened by us is over. */
int sync_resync(struct sync *s);

/* ------------------------------------------- eager and lazy push (v3) */

/*
 * Live records travel an eager tree (PROTOCOL.md 4.8, "Eager and lazy
 * push"): every alliance of a session starts eager; a node that receives
 * only records it already held prunes the session (Prune), after which the
 * peer announces new records (Have) instead of pushing them; a node that
 * was announced records which then do not arrive by another session
 * within the graft delay asks for them (Graft), which makes the session
 * eager again both ways.  Exchanges stream what the peer lacks in either
 * mode.  Version-1 and version-2 sessions are always eager.
 */

/*
 * The node stored none of a batch of records the peer sent about alliance
 * and refused none of it: every record was held already (its ingest
 * result, e.g. only STORE_KNOWN).  Sends Prune { alliance } and makes the
 * alliance lazy on the session (both ways) when the session speaks
 * version 3, carries the alliance, an exchange of it has ended, and it is
 * eager (so at most one Prune per Graft), or lazy but pruned more than
 * SYNC_PRUNE_AGAIN_MS ago (a Prune that crossed a Graft); else nothing.
 * 0, or what sending returned.
 */
int sync_duplicate(struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES], uint64_t now_ms);

/* The earliest time (same clock as now_ms) at which sync_timeout has work:
 * a graft of records the peer announced.  UINT64_MAX: none.  O(1); it may
 * be early (the records arrived since): sync_timeout then sends nothing
 * and moves it on. */
uint64_t sync_next_deadline(const struct sync *s);

/*
 * Due work at now_ms: for each alliance, one Graft (more past
 * SYNC_GOSSIP_ENTRIES_MAX) naming the feeds the peer announced whose
 * records have still not arrived, with our heads; the alliance becomes
 * eager again both ways.  An alliance whose announcements overflowed
 * SYNC_MISSING_MAX opens an exchange instead.  The node calls it when the
 * earliest sync_next_deadline of its sessions has passed (one timer per
 * node); a call before is a no-op.  1 if it sent a Graft or a Digest, 0 if
 * nothing was due after all (what was announced has arrived), or a fatal
 * error.  When several sessions are due, the node lets one graft (returns
 * 1) and calls the others SYNC_GRAFT_NEXT_MS later.
 */
int sync_timeout(struct sync *s, uint64_t now_ms);

/* The graft delay of this session (default SYNC_GRAFT_MS); for later
 * announcements. */
void sync_set_graft_ms(struct sync *s, uint32_t ms);

/* Is this alliance lazy on the session (pruned by either side, not
 * grafted since): new records announced both ways rather than pushed?
 * False if not carried. */
bool sync_lazy(const struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES]);

/* ------------------------------------------------------ blobs (v4) */

/*
 * Attachments travel apart from records, on demand (PROTOCOL.md 4.9,
 * "Blobs"): a node asks a peer for `length` (1..SYNC_BLOB_CHUNK_MAX) bytes
 * of a blob from `offset` with a BlobWant; the peer answers every want,
 * in order, with one BlobChunk or one BlobNone.  The engine checks every
 * answer against the oldest want (hash, offset, length, the size the
 * record declares): an answer to nothing, at another offset, of another
 * length or size, is a protocol violation.  Hashing the bytes is the
 * node's (only the whole blob has a hash).
 */

/*
 * Ask for bytes [offset, offset + length) of the blob `hash` whose record
 * says it holds `size` bytes.  SYNC_E_STATE: the session is not open or
 * speaks a version below 4, SYNC_BLOB_WANTS_MAX wants of ours are
 * unanswered, length is 0 or over SYNC_BLOB_CHUNK_MAX, offset >= size.
 * The answer comes through io->blob_chunk.
 */
int sync_blob_want(struct sync *s, const uint8_t hash[SYNC_KEY_BYTES], uint64_t offset,
                   uint32_t length, uint64_t size);

/* Our wants unanswered, and the peer's we have not answered yet. */
size_t sync_blob_wants_out(const struct sync *s);
size_t sync_blob_wants_in(const struct sync *s);

/*
 * Answer the peer's oldest want (of `hash` at `offset`): data NULL sends
 * BlobNone; else data[0..len) are the blob's bytes from offset, and len
 * must be min(length wanted, size - offset).  SYNC_E_STATE when no want
 * is unanswered, the oldest is of another hash or offset, or len is wrong
 * (a bug of the caller: nothing is sent).
 */
int sync_blob_answer(struct sync *s, const uint8_t hash[SYNC_KEY_BYTES], uint64_t offset,
                     uint64_t size, const uint8_t *data, size_t len);

/* ---------------------------------------------------- records that fail */

/* (a) Tell the peer our head of a feed after a gap (its records did not
 * start at our head + 1): it resends from seq + 1, once per feed. */
int sync_send_ack(struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                  const uint8_t author[SYNC_KEY_BYTES], uint64_t seq);

/* (b) Send the peer our own record (alliance, author, seq), read through
 * io->read, as a Records of one envelope: where the peer's record at that
 * seq differs, it stores ours as fork evidence.  0 without sending if the
 * session does not carry the alliance; io->read's error otherwise. */
int sync_push_record(struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                     const uint8_t author[SYNC_KEY_BYTES], uint64_t seq);

/*
 * (c) The peer's copy of this feed differs from ours at seq (its records
 * do not chain on ours: a fork).  For the rest of the session the engine
 * streams none of the feed, drops the peer's Records of it that were sent
 * before the peer could know (a Ping marks the point), and answers any
 * later one with Bye { FEED_DIVERGED, alliance, author, seq } and
 * SYNC_E_DIVERGED from sync_receive.  A second call for the same feed is a
 * no-op.  Errors: SYNC_E_LIMIT (SYNC_DIVERGED_MAX feeds), -ENOMEM.
 */
int sync_feed_diverged(struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                       const uint8_t author[SYNC_KEY_BYTES], uint64_t seq);

/*
 * (d) Version 2: tell the peer our record (alliance, author, seq) has id;
 * it answers only if it holds another record there, with its own (a
 * Records of one envelope).  SYNC_E_STATE in a version-1 session (use an
 * Ack below the seq instead: the peer then re-sends from there).  0
 * without sending if the session does not carry the alliance.
 */
int sync_send_head_check(struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                         const uint8_t author[SYNC_KEY_BYTES], uint64_t seq,
                         const uint8_t id[SYNC_KEY_BYTES]);

/* ------------------------------------------------------ other sends */

/* Send a fork proof (both envelopes of one feed position) if the session
 * carries that alliance; 0 without sending otherwise. */
int sync_send_fork(struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                   const uint8_t author[SYNC_KEY_BYTES], uint64_t seq, const uint8_t *env_a,
                   size_t len_a, const uint8_t *env_b, size_t len_b);
int sync_send_ping(struct sync *s, uint64_t nonce);

/*
 * Say goodbye: Bye { code, reason, seq } (seq 0: absent), after which the
 * engine sends nothing more (state CLOSED, or FAILED if it was); the node
 * flushes and closes.  Works in every state until a Bye went out or came
 * in (then SYNC_E_CLOSED): a node refusing a peer right after the
 * handshake calls sync_init() then sync_send_bye() (no Hello goes out),
 * and a node whose io callback failed may still say why.  reason may be
 * NULL.
 */
int sync_send_bye(struct sync *s, enum sync_bye_code code, const char *reason, uint64_t seq);
/* The same with every field (alliance, author, retry_after_ms). */
int sync_send_bye_full(struct sync *s, const struct sync_bye *bye);

/* ------------------------------------------------------------ reading */

enum sync_state sync_state(const struct sync *s);
/* The negotiated protocol version, 0 before the peer's Hello. */
uint32_t sync_version(const struct sync *s);
/* The peer's display name from its Hello ("" before), sanitized. */
const char *sync_peer_name(const struct sync *s);
/* Why the engine failed (what its Bye said): "" unless the last
 * sync_receive returned a SYNC_E_* of the engine's own. */
const char *sync_why(const struct sync *s);
void sync_counters(const struct sync *s, struct sync_counters *out);
/* The Bye the peer sent, or NULL. */
const struct sync_bye *sync_bye_received(const struct sync *s);
/* The code of the Bye we sent (the engine's own or the node's), or -1. */
int sync_bye_sent(const struct sync *s);
/* Does the session carry this alliance (and the peer did not refuse it)? */
bool sync_carries(const struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES]);
/* The i-th alliance of the session (i < sync_alliance_count), for walking. */
size_t sync_alliance_count(const struct sync *s);
const uint8_t *sync_alliance_id(const struct sync *s, size_t i);

/* Peer's known head of a feed (0 if unknown).  Unsigned: a claim of the
 * peer's, never proof. */
uint64_t sync_peer_seq(const struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                       const uint8_t author[SYNC_KEY_BYTES]);

/* True once every alliance's exchange finished and nothing is left to send. */
bool sync_live(const struct sync *s);
/* Feeds of the peer the session keeps an entry for (sync_alliance.base):
 * after an exchange, only those where the peer differs from us. */
size_t sync_peer_entries(const struct sync *s);

struct sync_stuck {
	uint8_t alliance[SYNC_KEY_BYTES];
	uint8_t author[SYNC_KEY_BYTES];
	uint64_t our_seq, peer_seq, stalled_ms;
};

/*
 * Lag: behind = records the peer is known to hold that we lack; ahead =
 * records we hold that the peer lacks (after its exchange).  Up to
 * max_stuck stuck feeds (peer ahead, our head unchanged for SYNC_STUCK_MS,
 * dated from the engine calls that learnt either head: no periodic call is
 * needed) go to stuck[]; *n_stuck (may be NULL) gets how many were written.
 */
void sync_lag(const struct sync *s, uint64_t now_ms, uint64_t *behind, uint64_t *ahead,
              struct sync_stuck *stuck, size_t max_stuck, size_t *n_stuck);

/*
 * Does the peer still owe us records?  True while the session is open and
 * an alliance's exchange has not ended (what the peer holds is not known
 * yet), or the peer is known to hold records of a feed that we lack and
 * that is not stuck (sync_lag: our head unchanged for SYNC_STUCK_MS since
 * the engine learnt the peer was ahead).  Records received and not yet
 * stored count as lacked until sync_feeds_changed / sync_local_changed
 * says they are held.  The node asks for attachments only once no
 * session owes it records (issue 15).  O(feeds): one walk of the peer's
 * feeds beside ours, returning at the first feed owed.
 */
bool sync_owed(const struct sync *s, uint64_t now_ms);

#endif
