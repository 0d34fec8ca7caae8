/* sync_fake.h - an in-memory stand-in for a node's store and transport,
 * for driving sync engines (node/engine/sync.c) back to back in tests: feeds of
 * fake 48-byte envelopes (author | seq | pad) and a message queue per
 * direction.  Shared by sync_test.c and nomem_sync_test.c. */
#ifndef AGORA_SYNC_FAKE_H
#define AGORA_SYNC_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/engine/sync.h"

#define MAXF 2048
#define FRAME_OVERHEAD (2 + 16 + 4)   /* frame header, tag, app length */
#define HANDSHAKE_BYTES (3 * 2 + 32 + 128 + 96)
#define QMAX 8192

struct feed {
	uint8_t author[32];
	uint64_t n;
	uint8_t (*env)[48];               /* fake envelopes: author | seq | pad */
};

struct msgq {
	uint8_t *m[QMAX];
	size_t len[QMAX];
	size_t head, tail;
};

struct fake {
	uint8_t key[32];
	uint8_t alliance[32];
	struct feed feeds[MAXF];
	size_t n_feeds;
	struct sync_local local;
	struct sync_lvec lv;
	struct sync sync;
	struct msgq *out;                 /* to the other side */
	size_t bytes_out;                 /* app bytes + framing */
	size_t records_sent, records_got, msgs;
	int type_count[32];                /* by msg_case (HeadCheck is 16) */
	bool deny;                        /* the peer is not in our alliance */
	bool hold_nothing;                /* do not even name the alliance (no lvec) */
	bool drop_records;                /* records received are not stored */
	bool hello_v1;                    /* our Hello offers version 1 only */
	bool full_rebuild;                /* sync_local_changed, not sync_feeds_changed */
	uint8_t coord[4][32];             /* coordinators' keys */
	size_t n_coord;
	size_t received;                  /* messages delivered to us */
	size_t publish_at;                /* 1 + messages before we publish */
	unsigned publish_feed;            /* ... one record to this feed */
	uint8_t moved[MAXF][32];          /* feeds io_records stored into, since the last check */
	size_t n_moved;
	uint8_t order[MAXF][32];          /* authors of the Records we sent, in order */
	size_t n_order;
	uint8_t redeemed[64];             /* io_redeem: alliance | token */
	int redeems;
	bool redeem_first;                /* fake_connect: start with this invite */
	uint8_t invite[64];               /* alliance | token */
	unsigned later_every;             /* io_read: every n-th read answers SYNC_READ_LATER */
	unsigned reads, laters;           /* reads asked, SYNC_READ_LATER answered */
};

struct feed *feed_get(struct fake *f, const uint8_t *author, bool create);
void feed_append(struct feed *fd);
/* Rebuild f's local vector (one alliance) from its feeds. */
void rebuild(struct fake *f);
/* A change of f's feed au, as the node tells it: call before rebuild (was
 * is au's head in f's local vector now). */
void fake_ref(const struct fake *f, struct sync_feed_ref *r, const uint8_t au[32]);
/* The struct sync_io callbacks over a struct fake. */
int io_send(void *ctx, const uint8_t *msg, size_t len);
int io_read(void *ctx, const uint8_t alliance[32], const uint8_t author[32], uint64_t seq,
            const uint8_t **env, size_t *len);
int io_records(void *ctx, const uint8_t alliance[32], const uint8_t author[32],
               uint64_t first_seq, const uint8_t *const *envs, const size_t *lens, size_t n);
bool io_allowed(void *ctx, const uint8_t alliance[32]);
int io_redeem(void *ctx, const uint8_t alliance[32], const uint8_t token[32]);
/* The io callbacks above over f. */
void fake_io(struct fake *f, struct sync_io *io);
void fake_init(struct fake *f, uint8_t who, const uint8_t alliance[32]);
void fake_free(struct fake *f);   /* disposes f->sync too */
void author_of(uint8_t out[32], unsigned i);
/* Give f's feed of author number `author` records up to seq n. */
void give(struct fake *f, unsigned author, uint64_t n);

/* Two fakes wired back to back: a dialed b. */
struct pair {
	struct fake *a, *b;
	struct msgq *ab, *ba;
};
/* New engines (a->sync, b->sync) with the given extra sync_init flags,
 * started (each sends its Hello unless it awaits a Redeem).  0 or the
 * first failing call's code. */
int fake_connect(struct pair *p, struct fake *a, struct fake *b, unsigned flags_b);
/* Deliver the oldest message queued for `to` (and tell its engine what
 * its store took): 1 if none was queued, else the engine's code. */
int fake_step(struct pair *p, struct fake *to);
/* Deliver and produce until quiet: 0, the first failing engine call's
 * code, or -1 if it never goes quiet. */
int fake_pump(struct pair *p);
/* Free the queues (the engines stay the caller's). */
void fake_disconnect(struct pair *p);
/* connect + pump + disconnect. */
int fake_session(struct fake *a, struct fake *b);
/* One engine (f->sync) driven by hand: its messages go to q (which the
 * caller owns and empties with q_clear).  Not started. */
int fake_solo(struct fake *f, unsigned flags, const uint8_t peer[32], struct msgq *q);
/* The i-th message in q, unpacked (free with
 * agora__wire__message__free_unpacked), or NULL past the end. */
struct Agora__Wire__Message *q_msg(const struct msgq *q, size_t i);
void q_clear(struct msgq *q);
/* Pack m into a malloc()ed buffer; *len its size. */
uint8_t *pack_msg(const struct Agora__Wire__Message *m, size_t *len);
/* Give e the message m (packed) as if the peer sent it. */
int deliver(struct sync *e, const struct Agora__Wire__Message *m);
/* A Hello from key, versions lo..hi (hi 0: no max_version), naming
 * alliances[0..n). */
int deliver_hello(struct sync *e, const uint8_t key[32], uint32_t lo, uint32_t hi,
                  const uint8_t (*alliances)[32], size_t n);

/* One engine driven by hand (key aa..., peer SOLO_PEER), with `feeds`
 * feeds of `seqs` records, started (its Hello sent unless it awaits a
 * Redeem) and, if lo, given the peer's Hello of versions lo..hi (hi 0: no
 * max_version) naming `alliance`; then its queue is emptied. */
struct solo {
	struct fake f;
	struct msgq q;
};
extern const uint8_t SOLO_PEER[32];
struct solo *solo_new(const uint8_t alliance[32], unsigned flags, uint32_t lo, uint32_t hi,
                      unsigned feeds, uint64_t seqs);
void solo_free(struct solo *o);
size_t queued(const struct solo *o);        /* messages it sent, not yet cleared */
size_t queued_bytes(const struct solo *o);

/* cmocka-assert that a and b hold the same feeds at the same heads. */
void assert_same(struct fake *a, struct fake *b);

#endif
