/*
 * sync_int.h - what the sync engine's files share; not for node/.
 *
 *   sync.c           states, lifecycle, dispatch, Hello and versions, Bye,
 *                    Redeem, Ping, the reading functions
 *   sync_walk.c      the walk of a message's bytes before it is unpacked
 *   sync_exchange.c  the version-vector exchange (Digest, Ranges)
 *   sync_peer.c      what the peer holds of each feed, and the entries kept
 *   sync_feeds.c     streaming, local changes, lag
 *   sync_records.c   Records, Ack, forks, HeadCheck, Pong
 *   sync_gossip.c    eager and lazy push: Have, Prune, Graft, grafts due
 *   sync_lvec.c      key ranges, local vectors and their digest cache
 *   sync_blobs.c     attachments: BlobWant, BlobChunk, BlobNone (version 4)
 */
#ifndef AGORA_NODE_SYNC_INT_H
#define AGORA_NODE_SYNC_INT_H

#include "node/engine/sync.h"
#include "wire.pb-c.h"

/* ------------------------------------------------ sync_lvec.c: keys */

int sync_nibble(const uint8_t *key, unsigned i);
/* lo = prefix then 0 nibbles, hi = prefix then F nibbles. */
void sync_range_bounds(uint8_t lo[32], uint8_t hi[32], const uint8_t *prefix, unsigned depth);
/* [*lo, *hi) of a sorted array of structs that start with a 32-byte key. */
void sync_slice(const void *base, size_t n, size_t stride, const uint8_t *prefix,
                unsigned depth, size_t *lo, size_t *hi);
/* Index of key in a sorted array (or where it would go). */
size_t sync_find(const void *base, size_t n, size_t stride, const uint8_t *key, bool *found);
/* The wire shape of a range: prefix of ceil(depth/2) bytes, depth <= 64,
 * zero padding nibble. */
bool sync_range_valid(const ProtobufCBinaryData *prefix, bool has_depth, uint32_t depth);
/* Our head of a feed (0 if none or v is NULL). */
uint64_t sync_lvec_seq(const struct sync_lvec *v, const uint8_t *author);
/* Digest and count of our entries in a range (cached for depth <= 2). */
void sync_lvec_range(struct sync_lvec *v, const uint8_t *prefix, unsigned depth,
                     uint8_t digest[32], size_t *count);

/* -------------------------------------------------- sync.c: plumbing */

struct sync_lvec *sync_lvec_of(const struct sync *s, const uint8_t *alliance);
struct sync_alliance *sync_alliance_find(const struct sync *s, const uint8_t *alliance);
/* Find or add (SYNC_E_LIMIT past SYNC_ALLIANCES_MAX, -ENOMEM). */
int sync_alliance_add(struct sync *s, const uint8_t *alliance, struct sync_alliance **out);
bool sync_allowed(const struct sync *s, const uint8_t *alliance);
/* Pack and send; counts it.  SYNC_E_CLOSED once a Bye went out. */
int sync_send_msg(struct sync *s, Agora__Wire__Message *m);
/* A fatal error of ours: send Bye { code for rc, why } once, go FAILED,
 * return rc. */
int sync_fail(struct sync *s, int rc, const char *why);

/* sync_feeds.c: a HeadCheck from the peer (version 2). */
struct Agora__Wire__HeadCheck;
int sync_on_head_check(struct sync *s, const struct Agora__Wire__HeadCheck *c);

/* ------------------------------------------------- sync_walk.c */

/* What the walk learnt of a message, before it is unpacked. */
struct sync_shape {
	uint32_t type;           /* the Message field set (wire.proto numbers); 0: none known */
	size_t unknown;          /* fields of unknown numbers, all levels */
	size_t alliances;        /* Hello */
	size_t envelopes;        /* Records */
	size_t ranges, vectors, entries, reply_vectors;   /* Ranges */
	size_t gossip_entries;   /* Have, Graft */
	const uint8_t *alliance; /* Digest / Ranges / Records: the bytes (or NULL) */
	size_t alliance_len;
	bool has_exchange;       /* Digest / Ranges */
	uint32_t exchange;
};

/*
 * Walk msg as a wire Message without allocating: every field of a known
 * message is checked for its wire type, known sub-messages are walked, and
 * counted against the limits of sync.h.  0, SYNC_E_PROTOCOL (not a
 * Message: bad varint, length past the end, wrong wire type, a singular
 * field twice, two messages in one), SYNC_E_LIMIT; *why (static) says
 * which on error.
 */
int sync_walk(const uint8_t *msg, size_t len, struct sync_shape *out, const char **why);

/* ------------------------------------------------- sync_exchange.c */

int sync_send_digest(struct sync *s, struct sync_alliance *a);
/* A Ranges may be unpacked: it answers a turn we are awaiting and is no
 * larger than that turn allows (or it is about an alliance outside the
 * session).  0, SYNC_E_PROTOCOL, SYNC_E_LIMIT. */
int sync_ranges_precheck(struct sync *s, const struct sync_shape *sh);
int sync_on_digest(struct sync *s, const Agora__Wire__Digest *d);
int sync_on_ranges(struct sync *s, const Agora__Wire__Ranges *r);
void sync_exchange_clear(struct sync_exchange *x);

/* ------------------------------------------------- sync_peer.c */

enum sync_learn {
	SYNC_LEARN_RAISE,   /* "at least": never lowers */
	SYNC_LEARN_EXACT,   /* the peer's statement: may lower once, unless we sent
	                       records of the feed after the peer made it */
	SYNC_LEARN_ACK,     /* an Ack: lowers once per feed and session */
	SYNC_LEARN_GRAFT,   /* a Graft: lowers only into what we announced and never
	                       sent (sync_pfeed.unconfirmed), never a rewind */
};

/* What the peer holds of one feed, learnt at our message count seen_tick. */
int sync_peer_learn(struct sync *s, struct sync_alliance *a, const uint8_t *author,
                    uint64_t seq, enum sync_learn how, uint64_t seen_tick);
/* The peer holds exactly list[0..n) in range (prefix, depth), sorted. */
int sync_peer_range(struct sync *s, struct sync_alliance *a, const uint8_t *prefix,
                    unsigned depth, const struct sync_entry *list, size_t n,
                    uint64_t seen_tick);
uint64_t sync_peer_get(const struct sync *s, const struct sync_alliance *a,
                       const uint8_t *author);
/* An exchange of a ended: from now on a keeps entries only for the feeds
 * where the peer differs from us (sync_alliance.base).  O(feeds). */
int sync_peer_rebase(struct sync *s, struct sync_alliance *a);
/* After knowledge of f changed: date it (stuck feeds) and, with queue,
 * add it to the out list if we are ahead. */
int sync_peer_after(struct sync *s, struct sync_alliance *a, const struct sync_lvec *v,
                    struct sync_pfeed *f, bool queue);
/* We sent the peer author's records up to seq (at our message count). */
int sync_peer_sent(struct sync *s, struct sync_alliance *a, const uint8_t *author, uint64_t seq);
/* Lazy push: we announced our head seq of author (Have) instead of
 * streaming it; it counts as the peer's, but a Graft may take it back. */
int sync_peer_announce(struct sync *s, struct sync_alliance *a, const uint8_t *author,
                       uint64_t seq);
/* Our heads moved (sync_feeds_changed): where a feed without an entry
 * stood for the head before, the peer holds that; write it down. */
int sync_peer_changes(struct sync *s, const struct sync_feed_ref *changed, size_t n);
/* Drop entry k of a if it says no more than no entry would (our head is
 * ours). */
void sync_peer_settle(struct sync *s, struct sync_alliance *a, size_t k, uint64_t ours);
/* A Graft's entry: the peer's head of the feed is seq; stream what it
 * lacks (once a's exchange has ended). */
int sync_peer_graft(struct sync *s, struct sync_alliance *a, const uint8_t *author,
                    uint64_t seq);

/* ------------------------------------------------- sync_feeds.c */

/* Put author's feed of a in the out list (streamed when the peer lacks
 * records of it). */
int sync_out_add(struct sync *s, const struct sync_alliance *a, const struct sync_lvec *v,
                 const uint8_t *author);
/* Every feed of a (synced) where we are ahead goes into the out list. */
int sync_out_alliance(struct sync *s, struct sync_alliance *a);
/* Drop a's feeds from the out list (it left the session). */
void sync_out_drop_alliance(struct sync *s, const struct sync_alliance *a);
bool sync_is_diverged(const struct sync *s, const uint8_t *alliance, const uint8_t *author);
/* The diverged entry of (alliance, author), or NULL; borrowed from s. */
const struct sync_diverged *sync_diverged_find(const struct sync *s, const uint8_t *alliance,
                                               const uint8_t *author);

/* ------------------------------------------------- sync_records.c */

int sync_on_records(struct sync *s, const Agora__Wire__Records *r);
int sync_on_ack(struct sync *s, const Agora__Wire__Ack *k);
int sync_on_fork(struct sync *s, const Agora__Wire__ForkProof *f);
/* A Pong: arms the diverged feeds whose barrier it answers. */
void sync_on_pong(struct sync *s, uint64_t nonce);

/* ------------------------------------------------- sync_gossip.c */

/* Announce list[0..n) (our heads, sorted by author, distinct) to the peer
 * in Have messages of at most SYNC_GOSSIP_ENTRIES_MAX entries. */
int sync_send_have(struct sync *s, const struct sync_alliance *a, const struct sync_entry *list,
                   size_t n);
/* Our head of author in a is now head: an announcement it covers needs no
 * graft. */
void sync_gossip_arrived(struct sync *s, struct sync_alliance *a, const uint8_t *author,
                         uint64_t head);
/* a leaves the session (or the engine is disposed): forget what was
 * announced to us there. */
void sync_gossip_drop(struct sync *s, struct sync_alliance *a);
int sync_on_have(struct sync *s, const Agora__Wire__Have *h);
int sync_on_prune(struct sync *s, const Agora__Wire__Prune *p);
int sync_on_graft(struct sync *s, const Agora__Wire__Graft *g);

/* ------------------------------------------------- sync_blobs.c */

int sync_on_blob_want(struct sync *s, const Agora__Wire__BlobWant *b);
int sync_on_blob_chunk(struct sync *s, const Agora__Wire__BlobChunk *c);
int sync_on_blob_none(struct sync *s, const Agora__Wire__BlobNone *b);

#endif
