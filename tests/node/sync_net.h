/*
 * sync_net.h - a simulated network of sync engines (node/engine/sync.h):
 * N nodes of one alliance, each with its own version vector and one engine
 * per link, linked in a graph, on a simulated clock.  Messages take a
 * stated latency per message (plus jitter, in order per direction),
 * records are stored at once when they chain, and each node runs one
 * graft timer, as agorad does (node/session.c).  Deterministic for a seed.
 *
 * Beside sync_fake.h (two engines back to back, with a feed store each):
 * a network needs many sessions per node, a clock and shared feeds, so a
 * node here holds only its heads, and every node reads envelopes from one
 * table.  Used by tests/node/sync_gossip_test.c.  Plain C (no cmocka): every call returns 0 or the
 * engine's error.
 */
#ifndef AGORA_SYNC_NET_H
#define AGORA_SYNC_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/engine/sync.h"

struct net_opts {
	unsigned nodes;
	unsigned feeds;           /* in the alliance (>= nodes): node i authors feed i */
	uint64_t seqs;            /* records of every feed every node holds at the start */
	uint32_t latency_ms;      /* per message, each way */
	uint32_t jitter_ms;       /* plus [0, jitter_ms], drawn per message */
	uint32_t graft_ms;        /* 0: the engine's SYNC_GRAFT_MS */
	size_t env_bytes;         /* bytes of every envelope */
	bool eager_only;          /* SYNC_EAGER_ONLY on every engine (the baseline) */
	uint64_t seed;
};

/* Counts since net_new or the last net_stats_reset. */
struct net_stats {
	uint64_t published;           /* records published */
	uint64_t stored;              /* records stored that a node did not hold */
	uint64_t received;            /* envelopes received, held or not */
	uint64_t dup_batches;         /* Records messages that brought nothing new */
	uint64_t msgs[32];            /* messages sent, by wire.proto Message field */
	uint64_t bytes;               /* app bytes sent, with 22 bytes of framing each */
	uint64_t cut_in_flight;       /* messages lost on links that were cut */
};

struct net;

/* 0, -ENOMEM, or -EINVAL (nodes < 2, feeds < nodes). */
int net_new(struct net **out, const struct net_opts *o);
void net_free(struct net *n);   /* accepts NULL */

/* Node i's Hellos offer protocol versions 1 to `version` only, as a node
 * of that version does (before it is linked; 1: no max_version). */
void net_set_max_version(struct net *n, unsigned node, uint32_t version);

/* a dials b: a session (two engines) starts at the current time.  0, the
 * engine's error, -EEXIST (linked already), -EINVAL. */
int net_link(struct net *n, unsigned a, unsigned b);
/* A random connected graph: a ring plus random chords, until every node
 * has about `degree` links. */
int net_random_graph(struct net *n, unsigned degree);
/* The session between a and b dies now: both engines are disposed and its
 * messages in flight are lost. */
void net_cut(struct net *n, unsigned a, unsigned b);
/* Is the graph of live links connected? */
bool net_connected(const struct net *n);

/* node publishes one record of its own feed now. */
int net_publish(struct net *n, unsigned node);
/* Deliver messages and fire timers up to time t (ms). */
int net_run(struct net *n, uint64_t t);
/* Run until nothing is in flight and no timer is armed, or until the
 * clock passes limit (then -ETIMEDOUT). */
int net_settle(struct net *n, uint64_t limit);
uint64_t net_now(const struct net *n);

const struct net_stats *net_stats(const struct net *n);
void net_stats_reset(struct net *n);
/* Does every node hold every record published? */
bool net_converged(const struct net *n);
/* Times (ms after it was published) at which the record published
 * `index`-th (0-based) reached each node: *all the last one, or UINT64_MAX
 * if one lacks it; *sum (may be NULL) their sum over the other nodes. */
void net_reach(const struct net *n, size_t index, uint64_t *all, uint64_t *sum);

/* Node a's engine of its link to b (NULL if none), for reading. */
struct sync *net_engine(struct net *n, unsigned a, unsigned b);
/* Live links, as pairs (a, b) with a < b: the i-th, i < net_links(n). */
size_t net_links(const struct net *n);
void net_link_ends(const struct net *n, size_t i, unsigned *a, unsigned *b);
/* Messages of a wire type (its Message field, < 32) sent on sessions of
 * this protocol version (1 to 3). */
uint64_t net_msgs_version(const struct net *n, uint32_t version, unsigned type);
const uint8_t *net_alliance(const struct net *n);

#endif
