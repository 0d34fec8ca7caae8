/* sim_mesh.h - what the two files of the sim_mesh program share: the
 * simulation's state (members, their links, the counters), its random
 * numbers and clock, and the graph measures sim_graph.c makes of it for
 * sim_mesh.c (see the header of sim_mesh.c for what the program does). */
#ifndef AGORA_SIM_MESH_H
#define AGORA_SIM_MESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/engine/mesh.h"

struct member {
	struct mesh *mesh;
	bool alive;
	bool knows;               /* has every candidate (after its first session) */
	uint32_t *adj;            /* neighbours: member indexes */
	unsigned deg;
};

struct totals {               /* counted by the simulation, per phase */
	uint64_t dials, refused, failed, evicted, dropped[5];
};

struct sim {
	struct mesh_conf conf;
	size_t n;
	unsigned adj_cap;         /* C + slack: a member above C is a failure, not a crash */
	struct member *m;
	struct mesh_candidate *cand;   /* every member, sorted by key */
	struct mesh_candidate boot[1]; /* what a new member knows: the coordinator */
	size_t coord;
	uint64_t rng;
	uint64_t round;
	uint64_t seeds;           /* a new seed for each mesh made */
	struct totals t;
	uint64_t t_since;         /* round at which t was last cleared */
	bool failed;              /* an invariant broke */
	/* scratch */
	uint32_t *queue, *order;
	int *dist, *comp;
};

/* What one measure found, for the summary and the checks. */
struct fig {
	bool connected;
	double largest;          /* share of live members in the largest component */
	int diam, p50, p99, max; /* max eccentricity of the sources; their percentiles */
	unsigned deg_max;
	double deg_mean;
	unsigned ref_d;          /* the reference graph's degree */
	int ref_diam, ref_p50, ref_p99, ref_max;
};

/* The simulation's own random numbers (splitmix64), from s->rng: every
 * choice, the reference graph's too, comes from this one stream, so a seed
 * gives the same run. */
static inline uint64_t rnd(struct sim *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static inline size_t rnd_below(struct sim *s, size_t n)
{
	return (size_t)(rnd(s) % n);   /* n is small: the bias is negligible here */
}

static inline uint64_t now_ms(const struct sim *s)
{
	return 1000000 + s->round * 1000;
}

/* Print "sim_mesh: what" and exit 2. */
void die(const char *what);

/* In sim_graph.c.  Components of live members: how many, the largest's size and one of
 * its members. */
size_t components(struct sim *s, size_t *largest, size_t *root);
size_t alive_count(const struct sim *s);
/* Print the graph of live members and a reference beside it; f gets the
 * figures.  Returns whether the graph is connected. */
bool measure(struct sim *s, const char *label, unsigned samples, bool rates, struct fig *f);
/* Keep in w the worst of w and f, figure by figure. */
void worst(struct fig *w, const struct fig *f);
void summary(const char *what, const struct fig *f);

#endif
