/* mesh_fx.h - what the peer-selection tests (mesh_select_test.c,
 * mesh_refusal_test.c) share: numbered keys, a mesh with a fixed seed,
 * ticks that check their own result, and sessions opened by hand.  Time
 * is a number the tests move; the helpers fail the test through cmocka. */
#ifndef AGORA_MESH_FX_H
#define AGORA_MESH_FX_H

#include <stddef.h>
#include <stdint.h>

#include "node/engine/mesh.h"

#define T0 1000000u   /* a start time that is not 0 */
#define NK 4096       /* keys the tests may use */

/* Our own key: above every key the tests number. */
extern const uint8_t SELF[MESH_KEY_BYTES];

/* Key i: i big-endian in the first 4 bytes, so keys sort as numbers. */
void key_of(uint8_t key[MESH_KEY_BYTES], uint32_t i);
uint32_t index_of(const uint8_t key[MESH_KEY_BYTES]);
/* n dialable candidates 0 .. n-1 in c (sorted). */
void candidates(struct mesh_candidate *c, size_t n);
struct mesh *new_mesh(const struct mesh_conf *conf, uint64_t seed);
struct mesh_conf conf_default(void);
/* One tick; the actions in a[] (room for 16), their number returned. */
size_t tick(struct mesh *m, uint64_t now, struct mesh_action *a);
size_t count_kind(const struct mesh_action *a, size_t n, enum mesh_action_kind kind);
/* Tick, and open every dial as an outbound session whose peer has others. */
size_t tick_and_open(struct mesh *m, uint64_t now);
struct mesh_stats stats(const struct mesh *m, uint64_t now);
/* Open inbound sessions from keys first .. first+n-1 (peers with others). */
void open_inbound(struct mesh *m, uint32_t first, unsigned n, uint64_t now);

#endif
