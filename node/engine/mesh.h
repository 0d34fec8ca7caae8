/*
 * mesh.h - peer selection: which members a node dials, accepts and drops,
 * so that an alliance's graph stays connected with a small diameter while
 * no node holds more than a fixed number of sessions.  I/O-free.
 *
 * Rules (byte-for-byte agreement is not needed, but every implementation
 * should behave alike): proto/PROTOCOL.md section 6.11, "Peer selection".
 * In short, with D = dial_target and C = max_sessions (pinned sessions are
 * never counted, never dropped and never dialled here):
 *
 *   dial     while outbound + dialling < D and sessions + dialling < C, a
 *            uniformly random dialable candidate that has no session, no
 *            dial under way, no backoff and no refusal for good;
 *   accept   while sessions + dialling < C; at C only a peer whose Hello
 *            says it has no other session (isolated), and then one of our
 *            own sessions whose peer had others, chosen at random, is
 *            dropped; else refuse with "too many connections, retry after
 *            T" (an isolated peer: after join_retry_ms);
 *   shuffle  every S (jittered) with outbound >= D, drop one random
 *            outbound session: the next dial goes to a new random member;
 *   repair   a closed session frees its slot for the next tick; failed
 *            keys back off exponentially (jittered, capped); a key that
 *            refused us for good waits until the candidates change; a dial
 *            refused as busy pauses the random dials (jittered, doubling
 *            up to T) while the node has a session;
 *   bootstrap the invite's coordinator is dialled while the node has no
 *            session (after the random dials found nobody, or at once
 *            once alone for bootstrap_after_ms), and that session is
 *            dropped once another one is open.
 *
 * The node calls: mesh_set_candidates when the members it may dial change;
 * mesh_tick at least once a second (and may call it after any event), and
 * does what it returns; mesh_accept after an inbound peer's Hello; and
 * mesh_opened (or mesh_opened_peer) / mesh_closed as sessions open and
 * end.  Its own Hello says mesh_sessions.  The mesh holds at
 * most one session per key, as agorad does (a duplicate is settled by the
 * node, which calls mesh_opened again with the direction that survived and
 * mesh_closed only when no session with the key is left).
 *
 * Time and randomness come in as arguments: now_ms is any monotonic clock
 * in milliseconds (never going back), and every random choice comes from a
 * generator seeded by mesh_new's seed, so a mesh fed the same calls makes
 * the same choices.  No clock, no I/O, no global state.
 *
 * Cost: a tick is O(k + a log k), k being the keys the mesh holds state
 * for (sessions, dials under way, keys backing off or refused) and a the
 * actions it returns; choosing a dial probes up to MESH_PROBES random
 * candidates (O(log k) each) and only when all of them are taken scans the
 * candidates once (O(n log k)), after which it does not scan again until
 * something changes or a backoff ends.  mesh_set_candidates is O(n) plus
 * O(k log n).  mesh_accept, mesh_opened(_peer), mesh_closed and
 * mesh_sessions are O(k).  Memory:
 * O(k) plus the bootstrap candidates; the candidate array itself is
 * borrowed, not copied (so thousands of meshes in one simulation can share
 * one array of 12,000 members).  k <= candidates + sessions.
 *
 * Errors: 0 or -errno (-EINVAL for a bad argument, -ENOMEM); out-params
 * are written only on success.  Threads: one mesh, one thread at a time.
 */
#ifndef AGORA_NODE_MESH_H
#define AGORA_NODE_MESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MESH_KEY_BYTES 32
/* Random candidates tried before the full scan, per dial. */
#define MESH_PROBES 16
/* A peer's Hello that did not say how many sessions it has. */
#define MESH_PEER_SESSIONS_UNKNOWN UINT32_MAX
/* The longest "retry after" a peer's Bye can impose on a key (1 h). */
#define MESH_RETRY_AFTER_MAX_MS 3600000u

/* Defaults of struct mesh_conf (agora.conf may change them). */
#define MESH_DIAL_TARGET 3
#define MESH_MAX_SESSIONS 8
#define MESH_MAX_DIALS_PER_TICK 2
#define MESH_SHUFFLE_MS 300000u
#define MESH_RETRY_AFTER_MS 60000u
#define MESH_BACKOFF_MIN_MS 1000u
#define MESH_BACKOFF_MAX_MS 60000u
#define MESH_STABLE_MS 60000u
#define MESH_DIAL_TIMEOUT_MS 30000u
#define MESH_EVICT_INTERVAL_MS 1000u
#define MESH_JOIN_RETRY_MS 5000u
#define MESH_BOOTSTRAP_AFTER_MS 30000u

struct mesh_conf {
	unsigned dial_target;        /* D: outbound sessions wanted */
	unsigned max_sessions;       /* C: sessions in all (inbound + outbound), pinned not
	                                counted; dial_target <= max_sessions */
	unsigned max_dials_per_tick; /* dials a tick starts (the bootstrap's included); >= 1 */
	uint64_t shuffle_ms;         /* S: mean time between shuffles, jittered to [S/2, 3S/2];
	                                0: never shuffle */
	uint64_t retry_after_ms;     /* T: what a refused or dropped peer is told to wait,
	                                jittered to [T/2, 3T/2] */
	uint64_t backoff_min_ms;     /* first wait after a failure (jittered: half to all) */
	uint64_t backoff_max_ms;     /* the wait doubles up to this; >= backoff_min_ms */
	uint64_t stable_ms;          /* a session open this long resets its key's backoff */
	uint64_t dial_timeout_ms;    /* a dial neither opened nor closed by then failed */
	uint64_t evict_interval_ms;  /* at most one eviction for an isolated peer per this */
	uint64_t join_retry_ms;      /* what an isolated peer refused at the limit is told to
	                                wait (a slot frees soon), jittered as T */
	uint64_t bootstrap_after_ms; /* alone this long, the node dials its bootstrap even if
	                                it knows other members to dial */
};

/* Fill c with the defaults above. */
void mesh_conf_default(struct mesh_conf *c);

/* A member this node may connect to. */
struct mesh_candidate {
	uint8_t key[MESH_KEY_BYTES]; /* its Ed25519 key */
	bool dialable;               /* it published an address and is not dial-out only */
	bool pinned;                 /* in agora.conf (`agora peer add`): the node dials it
	                                itself; its session is never counted nor dropped */
	bool bootstrap;              /* the coordinator of the invite this node joined with:
	                                the node has an address for it (dialable or not) */
};

struct mesh;

/*
 * A mesh for the node whose key is self (never dialled or counted, may be
 * in the candidates).  c: NULL for mesh_conf_default's values; copied.
 * seed: the random generator's seed (agorad draws it with randombytes;
 * a simulation gives each member its own).  *out is freed with mesh_free.
 * Errors: -EINVAL (dial_target > max_sessions, max_dials_per_tick 0,
 * backoff_min_ms 0 or over backoff_max_ms), -ENOMEM.
 */
int mesh_new(struct mesh **out, const struct mesh_conf *c, const uint8_t self[MESH_KEY_BYTES],
             uint64_t seed);
/* Free m.  Accepts NULL. */
void mesh_free(struct mesh *m);

/*
 * Put c[0, bound[runs]), made of `runs` runs c[bound[r], bound[r + 1]) each
 * sorted by key, in key order, each key once (the first of equal keys is
 * kept); the count.  The members of each alliance come in key order: their
 * union costs O(members x log runs), not a sort.
 */
size_t mesh_candidates_merge(struct mesh_candidate *c, const size_t *bound, size_t runs);
/* Order of candidates by key (for qsort and bsearch). */
int mesh_candidate_cmp(const void *a, const void *b);

/*
 * Replace the candidates: the active members of the alliances this node
 * shares with them, sorted by key, each key once.  c is BORROWED: it must
 * stay valid and unchanged until the next mesh_set_candidates or
 * mesh_free (the mesh keeps no copy).  The same set again (same keys and
 * flags, wherever it lives) changes nothing; a different one forgets every
 * refusal for good (its reason may be gone) and the state of keys no
 * longer in it that have no session.  Sessions are never closed here:
 * the node closes those of keys that are no longer active members.
 * Errors: -EINVAL (c NULL with n > 0, or not strictly sorted); m unchanged.
 */
int mesh_set_candidates(struct mesh *m, const struct mesh_candidate *c, size_t n);

enum mesh_action_kind {
	MESH_DIAL = 1,   /* dial key; report mesh_opened or mesh_closed */
	MESH_DROP = 2,   /* close the session with key (already forgotten by the mesh) */
};

enum mesh_drop_why {
	MESH_DROP_NONE = 0,
	MESH_DROP_SHUFFLE,    /* the periodic shuffle */
	MESH_DROP_BOOTSTRAP,  /* the bootstrap's job is done: other sessions are open */
	MESH_DROP_LIMIT,      /* over max_sessions or dial_target (the conf shrank) */
	MESH_DROP_EVICT,      /* room for an isolated peer (mesh_accept) */
};

struct mesh_action {
	enum mesh_action_kind kind;
	enum mesh_drop_why why;       /* MESH_DROP: why */
	bool bootstrap;               /* MESH_DIAL: the bootstrap dial */
	uint64_t retry_after_ms;      /* MESH_DROP: tell the peer (Bye TOO_MANY_CONNECTIONS) */
	uint8_t key[MESH_KEY_BYTES];
};

/*
 * What the node should do now, in out[0 .. *n): drops first, then dials.
 * A dropped session is forgotten at once (its slot is free); the node
 * closes it with Bye { TOO_MANY_CONNECTIONS, retry_after_ms } (its later
 * mesh_closed does nothing).  A dial is under way until mesh_opened or
 * mesh_closed for its key, or dial_timeout_ms (then it failed).  At most
 * cap actions are returned: what did not fit waits for a later tick
 * (cap >= max_dials_per_tick + 3 always suffices).  A dropped or evicted
 * key is not dialled again before the retry_after_ms it was told.
 * Errors: -EINVAL (out NULL with cap > 0), -ENOMEM (before anything was
 * decided: the mesh is unchanged).
 */
int mesh_tick(struct mesh *m, uint64_t now_ms, struct mesh_action *out, size_t cap, size_t *n);

/* mesh_accept's answer. */
struct mesh_verdict {
	bool accept;                  /* keep the session (then call mesh_opened) */
	bool evict;                   /* accepted at the limit: close our session with evict_key
	                                 (already forgotten by the mesh) with Bye
	                                 TOO_MANY_CONNECTIONS and retry_after_ms */
	uint8_t evict_key[MESH_KEY_BYTES];
	uint64_t retry_after_ms;      /* refused, or evicted: the wait to tell that peer */
};

/*
 * An inbound session from key, decided after the peer's Hello.
 * peer_sessions: the sessions the peer says it has, not counting this one
 * (MESH_PEER_SESSIONS_UNKNOWN if it did not say; 0 = isolated).  pinned:
 * the key is in agora.conf (as is a candidate marked pinned): always
 * accepted, never counted.  A key with a session or a dial under way is
 * accepted without taking a slot (the node settles the duplicate).  If
 * out->accept the node calls mesh_opened(inbound) for it before any other
 * mesh call; if out->evict it closes the evicted session.
 */
void mesh_accept(struct mesh *m, struct mesh_verdict *out, const uint8_t key[MESH_KEY_BYTES],
                 bool pinned, unsigned peer_sessions, uint64_t now_ms);

/*
 * A session with key is open (after both Hellos): inbound (the peer
 * dialled) or ours.  pinned as for mesh_accept.  For an inbound session,
 * the peer's sessions are those its Hello told the mesh_accept that came
 * just before for key; otherwise they are unknown (as
 * MESH_PEER_SESSIONS_UNKNOWN): mesh_opened_peer says them.  A key that
 * already has a session changes direction (the duplicate the node kept).
 * A key that had refused us is forgiven.  Errors: -ENOMEM (the session is
 * not counted: the node should close it).
 */
int mesh_opened(struct mesh *m, const uint8_t key[MESH_KEY_BYTES], bool inbound, bool pinned,
                uint64_t now_ms);

/*
 * mesh_opened, with the sessions the peer's Hello said it has, not counting
 * this one (MESH_PEER_SESSIONS_UNKNOWN if it did not say): a session whose
 * peer had no other (0) is never evicted for an isolated newcomer, since
 * its peer would be left alone.  Errors: as mesh_opened.
 */
int mesh_opened_peer(struct mesh *m, const uint8_t key[MESH_KEY_BYTES], bool inbound,
                     bool pinned, unsigned peer_sessions, uint64_t now_ms);

enum mesh_close {
	MESH_CLOSE_CLEAN = 0,   /* ended normally (a Bye that asks nothing, or we closed it) */
	MESH_CLOSE_FAILED,      /* dial, handshake or connection failed: the key backs off */
	MESH_CLOSE_REFUSED,     /* refused for good (not admitted, revoked, ...): not dialled
	                           again until the candidates change */
	MESH_CLOSE_BUSY,        /* Bye TOO_MANY_CONNECTIONS or SHUTTING_DOWN: the key waits
	                           retry_after_ms (capped at MESH_RETRY_AFTER_MAX_MS; 0: as
	                           FAILED) */
};

/*
 * The node has no session with key any more, or its dial ended without
 * one.  retry_after_ms: MESH_CLOSE_BUSY only.  A failure after a session
 * stayed open stable_ms starts the backoff over.  A key with neither a
 * session nor a dial in the mesh is ignored (so a stranger's failed
 * handshake costs nothing).
 */
void mesh_closed(struct mesh *m, const uint8_t key[MESH_KEY_BYTES], enum mesh_close why,
                 uint64_t retry_after_ms, uint64_t now_ms);

/* `agora sync`: forget every backoff, wait and refusal; dial at once. */
void mesh_retry_now(struct mesh *m);

struct mesh_stats {
	unsigned sessions;       /* open, pinned included */
	unsigned announced;      /* what our Hello says: sessions but the one with the
	                            bootstrap while it is our way in (0: isolated) */
	unsigned outbound;       /* open, ours, not pinned */
	unsigned inbound;        /* open, the peer's, not pinned */
	unsigned pinned;         /* open, pinned */
	unsigned dialling;       /* dials under way */
	unsigned waiting;        /* keys backing off or told to retry later */
	unsigned refused;        /* keys that refused us for good */
	size_t candidates;       /* in the last set */
	uint64_t dials;          /* dials started since mesh_new */
	uint64_t accepted;       /* mesh_accept said yes (evictions included) */
	uint64_t refusals;       /* mesh_accept said no */
	uint64_t evictions;      /* sessions dropped for an isolated peer */
	uint64_t shuffles;       /* sessions dropped by the shuffle */
};

/* Counts of m at now_ms (for `waiting`).  O(k). */
void mesh_stats(const struct mesh *m, uint64_t now_ms, struct mesh_stats *out);

/*
 * What the node's Hello says in its sessions field (mesh_stats' announced):
 * its open sessions, pinned ones included, but the one with the bootstrap
 * while that is its way in.  0: the node is isolated, and a peer at its
 * limit takes it in (mesh_accept).  O(k).
 */
unsigned mesh_sessions(const struct mesh *m);

#endif
