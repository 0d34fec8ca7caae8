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

struct feed {
	uint8_t author[32];
	uint64_t n;
	uint8_t (*env)[48];               /* fake envelopes: author | seq | pad */
};

struct msgq {
	uint8_t *m[4096];
	size_t len[4096];
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
	int type_count[16];
	bool deny;                        /* the peer is not in our alliance */
	size_t received;                  /* messages delivered to us */
	size_t publish_at;                /* 1 + messages before we publish */
	unsigned publish_feed;            /* ... one record to this feed */
};

struct feed *feed_get(struct fake *f, const uint8_t *author, bool create);
void feed_append(struct feed *fd);
/* Rebuild f's local vector (one alliance) from its feeds. */
void rebuild(struct fake *f);
/* The struct sync_io callbacks over a struct fake. */
int io_send(void *ctx, const uint8_t *msg, size_t len);
int io_read(void *ctx, const uint8_t alliance[32], const uint8_t author[32], uint64_t seq,
            const uint8_t **env, size_t *len);
int io_records(void *ctx, const uint8_t alliance[32], const uint8_t author[32],
               uint64_t first_seq, const uint8_t *const *envs, const size_t *lens, size_t n);
bool io_allowed(void *ctx, const uint8_t alliance[32]);
void fake_init(struct fake *f, uint8_t who, const uint8_t alliance[32]);
void fake_free(struct fake *f);   /* disposes f->sync too */
void author_of(uint8_t out[32], unsigned i);
/* Give f's feed of author number `author` records up to seq n. */
void give(struct fake *f, unsigned author, uint64_t n);
/* Wire a (dialer) and b back to back with new engines (a->sync, b->sync) and
 * pump until quiet: 0, the first failing engine call's code, or -1 if it
 * never goes quiet.  The queues are emptied either way; the engines are the
 * caller's (sync_dispose, or fake_free). */
int fake_session(struct fake *a, struct fake *b);
/* cmocka-assert that a and b hold the same feeds at the same heads. */
void assert_same(struct fake *a, struct fake *b);

#endif
