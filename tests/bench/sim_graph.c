/*
 * sim_graph.c - sim_mesh's measures of the graph its members' sessions
 * make: components, eccentricities by BFS (the diameter estimate and the
 * rounds for a record to reach all), the same-run reference (a random
 * regular graph on as many vertices), and the figures printed for each
 * measure and in the summary.  The simulation itself is in sim_mesh.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_mesh.h"

/* BFS from src over live members: eccentricity, and how many it reached. */
static int bfs(struct sim *s, size_t src, size_t *reached)
{
	size_t head = 0, tail = 0;
	int ecc = 0;
	for (size_t i = 0; i < s->n; i++)
		s->dist[i] = -1;
	s->dist[src] = 0;
	s->queue[tail++] = (uint32_t)src;
	while (head < tail) {
		size_t u = s->queue[head++];
		for (unsigned k = 0; k < s->m[u].deg; k++) {
			size_t v = s->m[u].adj[k];
			if (s->dist[v] < 0) {
				s->dist[v] = s->dist[u] + 1;
				ecc = s->dist[v];
				s->queue[tail++] = (uint32_t)v;
			}
		}
	}
	*reached = tail;
	return ecc;
}

/* Components of live members: how many, the largest's size and one of
 * its members. */
size_t components(struct sim *s, size_t *largest, size_t *root)
{
	size_t n_comp = 0, reached;
	*largest = 0;
	*root = 0;
	for (size_t i = 0; i < s->n; i++)
		s->comp[i] = -1;
	for (size_t i = 0; i < s->n; i++) {
		if (!s->m[i].alive || s->comp[i] >= 0)
			continue;
		bfs(s, i, &reached);
		for (size_t q = 0; q < reached; q++)
			s->comp[s->queue[q]] = (int)n_comp;
		if (reached > *largest) {
			*largest = reached;
			*root = i;
		}
		n_comp++;
	}
	return n_comp;
}

size_t alive_count(const struct sim *s)
{
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++)
		k += s->m[i].alive;
	return k;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* p-th percentile (nearest rank) of n sorted values. */
static int pct(const int *v, size_t n, double p)
{
	size_t r = (size_t)(p / 100.0 * (double)n + 0.999999);
	return v[r ? r - 1 : 0];
}


/*
 * The same-run reference: a random ref_d-regular graph on n vertices
 * (configuration model: ref_d stubs per vertex paired at random, the rare
 * self-loop or duplicate pair dropped), in adj[v * d ..] with deg[v].
 */
static void ref_graph(struct sim *s, size_t n, unsigned d, uint32_t *adj, unsigned *deg,
                      uint32_t *stubs)
{
	size_t ns = n * d;
	for (size_t v = 0; v < n; v++)
		deg[v] = 0;
	for (size_t i = 0; i < ns; i++)
		stubs[i] = (uint32_t)(i / d);
	for (size_t i = ns; i > 1; i--) {
		size_t j = (size_t)(rnd(s) % i);
		uint32_t t = stubs[i - 1];
		stubs[i - 1] = stubs[j];
		stubs[j] = t;
	}
	for (size_t i = 0; i + 1 < ns; i += 2) {
		uint32_t u = stubs[i], v = stubs[i + 1];
		bool dup = u == v;
		for (unsigned k = 0; k < deg[u] && !dup; k++)
			dup = adj[(size_t)u * d + k] == v;
		if (dup)
			continue;
		adj[(size_t)u * d + deg[u]++] = v;
		adj[(size_t)v * d + deg[v]++] = u;
	}
}

/* BFS from src over the reference graph: its eccentricity (-1: it did not
 * reach all n). */
static int ref_bfs(struct sim *s, size_t n, unsigned d, const uint32_t *adj,
                   const unsigned *deg, size_t src)
{
	size_t head = 0, tail = 0;
	int ecc = 0;
	for (size_t i = 0; i < n; i++)
		s->dist[i] = -1;
	s->dist[src] = 0;
	s->queue[tail++] = (uint32_t)src;
	while (head < tail) {
		size_t u = s->queue[head++];
		for (unsigned k = 0; k < deg[u]; k++) {
			size_t v = adj[u * d + k];
			if (s->dist[v] < 0) {
				s->dist[v] = s->dist[u] + 1;
				ecc = s->dist[v];
				s->queue[tail++] = (uint32_t)v;
			}
		}
	}
	return tail == n ? ecc : -1;
}

/* The reference's figures, on as many vertices as there are live members,
 * with the mesh's mean degree rounded, from as many random sources. */
static void reference(struct sim *s, size_t n, double mean, unsigned samples, struct fig *f)
{
	unsigned d = (unsigned)(mean + 0.5);
	if (d < 2)
		d = 2;
	uint32_t *adj = malloc(n * d * sizeof(*adj)), *stubs = malloc(n * d * sizeof(*stubs));
	unsigned *deg = malloc(n * sizeof(*deg));
	int *ecc = malloc(samples * sizeof(int));
	if (!adj || !stubs || !deg || !ecc)
		die("out of memory");
	ref_graph(s, n, d, adj, deg, stubs);
	for (unsigned q = 0; q < samples; q++) {
		ecc[q] = ref_bfs(s, n, d, adj, deg, (size_t)(rnd(s) % n));
		if (ecc[q] < 0)
			ecc[q] = 9999;   /* not connected (almost never for d >= 3) */
	}
	qsort(ecc, samples, sizeof(int), cmp_int);
	f->ref_d = d;
	f->ref_diam = f->ref_max = ecc[samples - 1];
	f->ref_p50 = pct(ecc, samples, 50);
	f->ref_p99 = pct(ecc, samples, 99);
	free(adj);
	free(stubs);
	free(deg);
	free(ecc);
}

/* Print the graph of live members and a reference beside it; f gets the
 * figures.  Returns whether the graph is connected. */
bool measure(struct sim *s, const char *label, unsigned samples, bool rates,
             struct fig *f)
{
	size_t alive = alive_count(s), largest, root, reached;
	size_t n_comp = components(s, &largest, &root);
	int *deg = malloc(alive * sizeof(int)), *ecc = malloc(samples * sizeof(int));
	int *out = malloc(alive * sizeof(int));
	size_t k = 0, below_d = 0, mismatched = 0;
	uint64_t deg_sum = 0;
	struct mesh_stats st;

	if (!deg || !ecc || !out)
		die("out of memory");
	for (size_t i = 0; i < s->n; i++) {
		if (!s->m[i].alive)
			continue;
		mesh_stats(s->m[i].mesh, now_ms(s), &st);
		mismatched += st.sessions != s->m[i].deg;
		mismatched += mesh_sessions(s->m[i].mesh) != st.announced;
		below_d += st.outbound < s->conf.dial_target;
		out[k] = (int)st.outbound;
		deg_sum += s->m[i].deg;
		deg[k++] = (int)s->m[i].deg;
	}
	qsort(deg, k, sizeof(int), cmp_int);
	qsort(out, k, sizeof(int), cmp_int);
	/* Sources: random members of the largest component. */
	for (unsigned q = 0; q < samples; q++) {
		size_t src;
		do
			src = rnd_below(s, s->n);
		while (!s->m[src].alive || s->comp[src] != s->comp[root]);
		ecc[q] = bfs(s, src, &reached);
	}
	qsort(ecc, samples, sizeof(int), cmp_int);
	memset(f, 0, sizeof(*f));
	f->connected = n_comp == 1;
	f->largest = (double)largest / (double)alive;
	f->diam = f->max = ecc[samples - 1];
	f->p50 = pct(ecc, samples, 50);
	f->p99 = pct(ecc, samples, 99);
	f->deg_max = (unsigned)deg[k - 1];
	f->deg_mean = (double)deg_sum / (double)k;
	reference(s, alive, f->deg_mean, samples, f);
	printf("%s (round %llu)\n", label, (unsigned long long)s->round);
	printf("  live members %zu; components %zu; largest %zu = %.4f of live\n", alive, n_comp,
	       largest, f->largest);
	printf("  sessions per member: min %d  p50 %d  mean %.2f  max %d (C = %u); outbound p50 "
	       "%d, below D = %u: %zu\n",
	       deg[0], pct(deg, k, 50), f->deg_mean, deg[k - 1], s->conf.max_sessions,
	       pct(out, k, 50), s->conf.dial_target, below_d);
	printf("  diameter estimate (max eccentricity of %u random sources, a lower bound) %d; "
	       "rounds for a record to reach all%s (flood, one hop per round, same sources): "
	       "p50 %d  p99 %d  max %d\n",
	       samples, f->diam, n_comp > 1 ? " of its component" : "", f->p50, f->p99, f->max);
	printf("  reference, same run: random %u-regular graph on %zu vertices: diameter "
	       "estimate %d; rounds p50 %d  p99 %d  max %d; mesh/reference (max rounds) %.2f\n",
	       f->ref_d, alive, f->ref_diam, f->ref_p50, f->ref_p99, f->ref_max,
	       (double)f->max / (double)f->ref_max);
	if (s->m[s->coord].alive) {
		mesh_stats(s->m[s->coord].mesh, now_ms(s), &st);
		printf("  coordinator: %u sessions; since it started accepted %llu, refused %llu, "
		       "evicted %llu\n",
		       st.sessions, (unsigned long long)st.accepted,
		       (unsigned long long)st.refusals, (unsigned long long)st.evictions);
	} else {
		printf("  coordinator: down\n");
	}
	if (rates && s->round > s->t_since) {
		/* member-minutes, counting the members live now */
		double per = (double)alive * (double)(s->round - s->t_since) / 60.0;
		printf("  per member per minute since the last report: dials %.2f (refused %.2f, "
		       "failed %.2f), evictions %.3f, drops: shuffle %.3f bootstrap %.3f "
		       "limit %.3f\n",
		       (double)s->t.dials / per, (double)s->t.refused / per,
		       (double)s->t.failed / per, (double)s->t.evicted / per,
		       (double)s->t.dropped[MESH_DROP_SHUFFLE] / per,
		       (double)s->t.dropped[MESH_DROP_BOOTSTRAP] / per,
		       (double)s->t.dropped[MESH_DROP_LIMIT] / per);
	}
	if (rates) {
		memset(&s->t, 0, sizeof(s->t));
		s->t_since = s->round;
	}
	if (mismatched) {
		fprintf(stderr, "sim_mesh: %zu meshes count other sessions than their links\n",
		        mismatched);
		s->failed = true;
	}
	free(deg);
	free(ecc);
	free(out);
	return n_comp == 1;
}

/* Keep in w the worst of w and f, figure by figure. */
void worst(struct fig *w, const struct fig *f)
{
	w->connected &= f->connected;
	if (f->largest < w->largest)
		w->largest = f->largest;
	if (f->max > w->max) {   /* the rounds, with the reference of that measure */
		w->diam = f->diam;
		w->p50 = f->p50;
		w->p99 = f->p99;
		w->max = f->max;
		w->ref_d = f->ref_d;
		w->ref_diam = f->ref_diam;
		w->ref_p50 = f->ref_p50;
		w->ref_p99 = f->ref_p99;
		w->ref_max = f->ref_max;
		w->deg_mean = f->deg_mean;
	}
	if (f->deg_max > w->deg_max)
		w->deg_max = f->deg_max;
}

void summary(const char *what, const struct fig *f)
{
	printf("  %s:\n    largest component %.4f%s; diameter >= %d; rounds to reach all p50 %d  "
	       "p99 %d  max %d; sessions max %u  mean %.2f\n"
	       "    reference random %u-regular: diameter >= %d; rounds p50 %d  p99 %d  max %d; "
	       "ratio mesh/reference: p50 %.2f  max %.2f\n",
	       what, f->largest, f->connected ? "" : " (not connected)", f->diam, f->p50, f->p99, f->max, f->deg_max, f->deg_mean, f->ref_d,
	       f->ref_diam, f->ref_p50, f->ref_p99, f->ref_max, (double)f->p50 / f->ref_p50,
	       (double)f->max / f->ref_max);
}
