/*
 * v1_adapter.h - a version-1 node for tests: the landed engine
 * (sync_v1.c) behind plain types, so a test can run it against the
 * current engine without both headers meeting in one file.
 */
#ifndef AGORA_TESTS_V1_ADAPTER_H
#define AGORA_TESTS_V1_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct v1;

struct v1_head {
	uint8_t author[32];
	uint64_t seq;
	uint8_t id[32];
};

/* The callbacks of the landed struct sync_io (same signatures as now). */
struct v1_io {
	void *ctx;
	int (*send)(void *ctx, const uint8_t *msg, size_t len);
	int (*read)(void *ctx, const uint8_t alliance[32], const uint8_t author[32], uint64_t seq,
	            const uint8_t **env, size_t *len);
	int (*records)(void *ctx, const uint8_t alliance[32], const uint8_t author[32],
	               uint64_t first_seq, const uint8_t *const *envs, const size_t *lens,
	               size_t n);
	bool (*allowed)(void *ctx, const uint8_t alliance[32]);
};

/* A landed engine; NULL when out of memory.  Free with v1_free. */
struct v1 *v1_new(bool initiator, const uint8_t self[32], const uint8_t peer[32],
                  const struct v1_io *io);
/* Replace its one alliance's vector (copied). */
int v1_set_local(struct v1 *e, const uint8_t alliance[32], const struct v1_head *h, size_t n);
int v1_start(struct v1 *e);
int v1_receive(struct v1 *e, const uint8_t *msg, size_t len);
bool v1_pending(const struct v1 *e);
int v1_produce(struct v1 *e);
int v1_local_changed(struct v1 *e);
int v1_resync(struct v1 *e);
bool v1_live(const struct v1 *e);
void v1_free(struct v1 *e);

#endif
