/*
 * sim_mesh.c - the real peer-selection code (node/engine/mesh.c) over N
 * virtual members, in one process, with simulated links.
 *
 *   sim_mesh [-n N] [-o OUT%] [-D dial] [-C max] [-t dials/tick] [-S shuffle_s]
 *            [-p periods] [-k kill%] [-P period] [-d down] [-f formation]
 *            [-F settle] [-x samples] [-s seed] [-c] [-r rounds]
 *
 * Defaults: 12,000 members, 10 % of them dial-out only (no address), the
 * mesh's default conf; formation until the graph is connected (at most
 * 3,600 rounds), 300 rounds of steady state, then 5 churn periods of
 * 120 rounds: 20 % of the live members are killed at the start of each,
 * and come back 60 rounds later.  One round is one second of virtual
 * time: every live member's mesh_tick runs once, in a random order.
 *
 * Each member has its own struct mesh with its own seed.  A dial is
 * answered at once by the target's mesh_accept (a dead target, or one
 * without an address, fails); then the target calls mesh_opened (its
 * mesh_accept saw the dialler's sessions) and the dialler mesh_opened_peer
 * with the sessions the target announces (mesh_sessions), and every close
 * calls mesh_closed on both sides, with the reason a real node would
 * give (a drop or an eviction is Bye TOO_MANY_CONNECTIONS with a retry
 * time; a killed member's sessions fail).  At the start every member knows
 * only the coordinator, as bootstrap (the invite it joined with); a member
 * learns every candidate at the end of its first round with a session (as
 * agorad does after its first sync).  A member that comes back after
 * being killed starts a fresh mesh that knows every candidate (its store
 * does) and still names the coordinator as bootstrap.
 *
 * Prints, beside the parameters: the rounds until the graph is connected;
 * then after formation, after `settle` rounds of steady state, and in
 * each churn period right after the kill (no repair yet), 2 rounds later,
 * after the repair (20 % still down) and at the end (all back): sessions
 * per member (min, p50, mean, max; max must be <= C), the share of live
 * members in the largest component, a diameter estimate (the largest
 * eccentricity of -x random sources, by exact BFS: a lower bound of the
 * diameter), the rounds for a record to reach all (eccentricity of those
 * sources: the eager-push flood along the mesh's sessions, one hop per
 * round; p50, p99, max), the coordinator's sessions, and the dials,
 * refusals and drops per member per minute.  Beside each, the same-run
 * reference: a random d-regular graph (d = the mesh's mean sessions,
 * rounded) on as many vertices, with the same figures, and the ratio of
 * the mesh's max rounds to the reference's.  At the end a summary: before
 * churn, under churn (the worst period after repair) and all back (the
 * worst period), then the wall time.
 *
 * Exit status: 1 if any member ever held more than C sessions, or a
 * mesh's own count disagreed with the simulated links; with -c also if
 * the graph of live members was not connected after formation or after a
 * repair; with -r R also if a record took more than R rounds to reach all
 * after formation, in the steady state, after a repair or all back.  Not
 * run by ctest at full size (the 500-member test is).
 *
 * This file holds the simulation (members, links, dials, rounds) and main;
 * the measures of the graph (components, BFS, the reference graph, the
 * figures printed) are in sim_graph.c, what both share in sim_mesh.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim_mesh.h"

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void die(const char *what)
{
	fprintf(stderr, "sim_mesh: %s\n", what);
	exit(2);
}

static size_t member_of(const struct sim *s, const uint8_t key[MESH_KEY_BYTES])
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(s->cand[mid].key, key, MESH_KEY_BYTES);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	die("unknown key");
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	return memcmp(((const struct mesh_candidate *)a)->key,
	              ((const struct mesh_candidate *)b)->key, MESH_KEY_BYTES);
}

/* ------------------------------------------------------------ links */

static bool linked(const struct sim *s, size_t a, size_t b)
{
	for (unsigned i = 0; i < s->m[a].deg; i++)
		if (s->m[a].adj[i] == b)
			return true;
	return false;
}

static void link_add(struct sim *s, size_t a, size_t b)
{
	if (s->m[a].deg == s->adj_cap || s->m[b].deg == s->adj_cap)
		die("a member holds far more sessions than C");
	s->m[a].adj[s->m[a].deg++] = (uint32_t)b;
	s->m[b].adj[s->m[b].deg++] = (uint32_t)a;
}

static void unlink_one(struct member *x, size_t b)
{
	for (unsigned i = 0; i < x->deg; i++)
		if (x->adj[i] == b) {
			x->adj[i] = x->adj[--x->deg];
			return;
		}
	die("unlinking members that are not linked");
}

static void link_del(struct sim *s, size_t a, size_t b)
{
	unlink_one(&s->m[a], b);
	unlink_one(&s->m[b], a);
}

/* ---------------------------------------------------------- members */

static void member_start(struct sim *s, size_t i, bool knows)
{
	struct member *x = &s->m[i];
	uint64_t seed = s->seeds++ * 0x2545f4914f6cdd1du ^ s->rng;
	if (mesh_new(&x->mesh, &s->conf, s->cand[i].key, seed))
		die("mesh_new");
	x->knows = knows || i == s->coord;
	if (x->knows ? mesh_set_candidates(x->mesh, s->cand, s->n)
	             : mesh_set_candidates(x->mesh, s->boot, 1))
		die("mesh_set_candidates");
	x->alive = true;
	x->deg = 0;
}

/* The process dies: every session of it fails on the other side. */
static void member_kill(struct sim *s, size_t i)
{
	struct member *x = &s->m[i];
	while (x->deg) {
		size_t j = x->adj[0];
		link_del(s, i, j);
		mesh_closed(s->m[j].mesh, s->cand[i].key, MESH_CLOSE_FAILED, 0, now_ms(s));
	}
	mesh_free(x->mesh);
	x->mesh = NULL;
	x->alive = false;
}

/* a closes its session with b, telling b to wait retry_after_ms. */
static void close_busy(struct sim *s, size_t a, size_t b, uint64_t retry_after_ms)
{
	link_del(s, a, b);
	mesh_closed(s->m[a].mesh, s->cand[b].key, MESH_CLOSE_CLEAN, 0, now_ms(s));
	mesh_closed(s->m[b].mesh, s->cand[a].key, MESH_CLOSE_BUSY, retry_after_ms, now_ms(s));
}

/* What member i's Hello says of its sessions. */
static unsigned announced(const struct sim *s, size_t i)
{
	return mesh_sessions(s->m[i].mesh);
}

static void do_dial(struct sim *s, size_t a, size_t b)
{
	struct mesh_verdict v;
	uint64_t now = now_ms(s);

	s->t.dials++;
	if (!s->m[b].alive || (!s->cand[b].dialable && !s->cand[b].bootstrap)) {
		s->t.failed++;
		mesh_closed(s->m[a].mesh, s->cand[b].key, MESH_CLOSE_FAILED, 0, now);
		return;
	}
	if (linked(s, a, b))
		die("a mesh dialled a key it has a session with");
	mesh_accept(s->m[b].mesh, &v, s->cand[a].key, false, announced(s, a), now);
	if (!v.accept) {
		s->t.refused++;
		mesh_closed(s->m[a].mesh, s->cand[b].key, MESH_CLOSE_BUSY, v.retry_after_ms, now);
		return;
	}
	if (v.evict) {
		size_t e = member_of(s, v.evict_key);
		s->t.evicted++;
		close_busy(s, b, e, v.retry_after_ms);
	}
	/* Each Hello says how many sessions its sender had before this one. */
	unsigned deg_b = announced(s, b);
	link_add(s, a, b);
	/* b learnt a's sessions in mesh_accept (as agorad does); a from b's Hello. */
	if (mesh_opened(s->m[b].mesh, s->cand[a].key, true, false, now) ||
	    mesh_opened_peer(s->m[a].mesh, s->cand[b].key, false, false, deg_b, now))
		die("mesh_opened");
}

static void member_tick(struct sim *s, size_t i)
{
	struct mesh_action act[16];
	size_t n;

	if (mesh_tick(s->m[i].mesh, now_ms(s), act, 16, &n))
		die("mesh_tick");
	for (size_t k = 0; k < n; k++) {
		size_t j = member_of(s, act[k].key);
		if (act[k].kind == MESH_DROP) {
			s->t.dropped[act[k].why < 5 ? act[k].why : 0]++;
			if (!linked(s, i, j))
				die("a mesh dropped a session it does not have");
			/* The mesh forgot it already: only the peer is told. */
			link_del(s, i, j);
			mesh_closed(s->m[j].mesh, s->cand[i].key, MESH_CLOSE_BUSY,
			            act[k].retry_after_ms, now_ms(s));
		} else {
			do_dial(s, i, j);
		}
	}
}

/* Every live member ticks once, in a random order; then those that had a
 * session learn the candidates. */
static void round_run(struct sim *s)
{
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->m[i].alive)
			s->order[k++] = (uint32_t)i;
	for (size_t i = k; i > 1; i--) {
		size_t j = rnd_below(s, i);
		uint32_t t = s->order[i - 1];
		s->order[i - 1] = s->order[j];
		s->order[j] = t;
	}
	for (size_t i = 0; i < k; i++)
		if (s->m[s->order[i]].alive)
			member_tick(s, s->order[i]);
	for (size_t i = 0; i < s->n; i++) {
		struct member *x = &s->m[i];
		if (!x->alive)
			continue;
		if (x->deg > s->conf.max_sessions) {
			fprintf(stderr, "sim_mesh: member %zu holds %u sessions (C = %u)\n", i, x->deg,
			        s->conf.max_sessions);
			s->failed = true;
		}
		if (!x->knows && x->deg) {
			x->knows = true;
			if (mesh_set_candidates(x->mesh, s->cand, s->n))
				die("mesh_set_candidates");
		}
	}
	s->round++;
}

/* -------------------------------------------------------------- main */

static unsigned long arg_num(const char *v, unsigned long max)
{
	char *end;
	errno = 0;
	unsigned long x = strtoul(v, &end, 10);
	if (errno || *end || end == v || x > max)
		die("bad numeric argument (see the header of sim_mesh.c)");
	return x;
}

int main(int argc, char **argv)
{
	struct sim s;
	unsigned long out_pct = 10, periods = 5, kill_pct = 20, period = 120, down = 60;
	unsigned long formation = 3600, settle = 300, samples = 200, seed = 1, max_rounds = 0;
	bool check = false, connected = true, slow = false;
	struct fig f, steady, kill_worst, two_worst, churn_worst, back_worst;
	int opt;

	memset(&s, 0, sizeof(s));
	s.n = 12000;
	mesh_conf_default(&s.conf);
	while ((opt = getopt(argc, argv, "n:o:D:C:t:S:p:k:P:d:f:F:x:s:cr:")) != -1) {
		switch (opt) {
		case 'n': s.n = arg_num(optarg, 10000000); break;
		case 'o': out_pct = arg_num(optarg, 100); break;
		case 'D': s.conf.dial_target = (unsigned)arg_num(optarg, 1000); break;
		case 'C': s.conf.max_sessions = (unsigned)arg_num(optarg, 1000); break;
		case 't': s.conf.max_dials_per_tick = (unsigned)arg_num(optarg, 1000); break;
		case 'S': s.conf.shuffle_ms = arg_num(optarg, 1000000) * 1000; break;
		case 'p': periods = arg_num(optarg, 1000); break;
		case 'k': kill_pct = arg_num(optarg, 100); break;
		case 'P': period = arg_num(optarg, 100000); break;
		case 'd': down = arg_num(optarg, 100000); break;
		case 'f': formation = arg_num(optarg, 100000); break;
		case 'F': settle = arg_num(optarg, 100000); break;
		case 'x': samples = arg_num(optarg, 100000); break;
		case 's': seed = arg_num(optarg, ~0ul); break;
		case 'c': check = true; break;
		case 'r': max_rounds = arg_num(optarg, 100000); break;
		default: die("usage: sim_mesh [-n N] [-o OUT%] [-D dial] [-C max] [-t dials/tick] "
		             "[-S shuffle_s] [-p periods] [-k kill%] [-P period] [-d down] "
		             "[-f formation] [-F settle] [-x samples] [-s seed] [-c] [-r rounds]");
		}
	}
	if (s.n < 2 || down >= period || samples == 0)
		die("need n >= 2, down < period, samples >= 1");
	s.rng = seed;
	s.adj_cap = s.conf.max_sessions + 16;
	s.m = calloc(s.n, sizeof(*s.m));
	s.cand = calloc(s.n, sizeof(*s.cand));
	s.queue = malloc(s.n * sizeof(*s.queue));
	s.order = malloc(s.n * sizeof(*s.order));
	s.dist = malloc(s.n * sizeof(*s.dist));
	s.comp = malloc(s.n * sizeof(*s.comp));
	if (!s.m || !s.cand || !s.queue || !s.order || !s.dist || !s.comp)
		die("out of memory");
	for (size_t i = 0; i < s.n; i++) {
		for (int b = 0; b < MESH_KEY_BYTES; b += 8) {
			uint64_t r = rnd(&s);
			memcpy(s.cand[i].key + b, &r, 8);
		}
		s.cand[i].dialable = rnd_below(&s, 100) >= out_pct;
	}
	qsort(s.cand, s.n, sizeof(*s.cand), cmp_key);
	do
		s.coord = rnd_below(&s, s.n);
	while (!s.cand[s.coord].dialable && out_pct < 100);
	s.cand[s.coord].dialable = true;
	s.cand[s.coord].bootstrap = true;
	s.boot[0] = s.cand[s.coord];
	for (size_t i = 0; i < s.n; i++)
		if (!(s.m[i].adj = malloc(s.adj_cap * sizeof(uint32_t))))
			die("out of memory");

	size_t n_out = 0;
	for (size_t i = 0; i < s.n; i++)
		n_out += !s.cand[i].dialable;
	printf("sim_mesh: %zu members (%zu dial-out only), seed %lu; D = %u, C = %u, dials per "
	       "tick %u, shuffle %llu s, retry after %llu s, backoff %llu..%llu s; 1 round = 1 s\n",
	       s.n, n_out, seed, s.conf.dial_target, s.conf.max_sessions,
	       s.conf.max_dials_per_tick, (unsigned long long)s.conf.shuffle_ms / 1000,
	       (unsigned long long)s.conf.retry_after_ms / 1000,
	       (unsigned long long)s.conf.backoff_min_ms / 1000,
	       (unsigned long long)s.conf.backoff_max_ms / 1000);
	printf("churn: %lu periods of %lu rounds; %lu %% of live members killed at the start of "
	       "each, back %lu rounds later\n\n",
	       periods, period, kill_pct, down);

	double t0 = wall_now();
	for (size_t i = 0; i < s.n; i++)
		member_start(&s, i, false);

	/* Formation: everyone starts at once knowing only the coordinator;
	 * it ends `settle` rounds after the graph is connected, or after
	 * `formation` rounds. */
	long connected_at = -1, most_at = -1;
	uint64_t last_print = 0;
	printf("formation: round, members with a session, members that know all, components, "
	       "largest component\n");
	while (s.round < formation && connected_at < 0) {
		round_run(&s);
		size_t largest, root, with = 0, knows = 0;
		size_t n_comp = components(&s, &largest, &root);
		for (size_t i = 0; i < s.n; i++) {
			with += s.m[i].deg > 0;
			knows += s.m[i].knows;
		}
		if (connected_at < 0 && (s.round <= 10 || s.round - last_print >= 10 || n_comp == 1)) {
			printf("  %4llu %6zu %6zu %6zu %6zu\n", (unsigned long long)s.round, with,
			       knows, n_comp, largest);
			last_print = s.round;
		}
		if (most_at < 0 && largest * 100 >= s.n * 99)
			most_at = (long)s.round;
		if (connected_at < 0 && n_comp == 1)
			connected_at = (long)s.round;
	}
	printf("rounds until 99 %% of members are in one component: %ld; until all are: %ld\n\n",
	       most_at, connected_at);
	connected &= measure(&s, "formed", (unsigned)samples, true, &f) && connected_at >= 0;
	slow |= max_rounds && f.max > (int)max_rounds;
	for (unsigned long r = 0; r < settle; r++)
		round_run(&s);
	printf("\n");
	connected &= measure(&s, "steady, no churn", (unsigned)samples, true, &steady);
	slow |= max_rounds && steady.max > (int)max_rounds;
	/* The worst of each phase over the periods, from nothing. */
	memset(&churn_worst, 0, sizeof(churn_worst));
	churn_worst.connected = true;
	churn_worst.largest = 1;
	kill_worst = two_worst = back_worst = churn_worst;

	size_t *dead = malloc(s.n * sizeof(*dead));
	if (!dead)
		die("out of memory");
	for (unsigned long p = 1; p <= periods; p++) {
		char label[96];
		size_t n_dead = 0, alive = alive_count(&s);
		size_t kill = alive * kill_pct / 100;
		while (n_dead < kill) {
			size_t i = rnd_below(&s, s.n);
			if (!s.m[i].alive)
				continue;
			member_kill(&s, i);
			dead[n_dead++] = i;
		}
		printf("\n");
		snprintf(label, sizeof(label), "period %lu: %zu killed, before any repair", p, n_dead);
		measure(&s, label, (unsigned)samples, false, &f);
		worst(&kill_worst, &f);
		for (unsigned long r = 0; r < 2 && r < down; r++)
			round_run(&s);
		snprintf(label, sizeof(label), "period %lu: %zu down, after 2 rounds", p, n_dead);
		measure(&s, label, (unsigned)samples, false, &f);
		worst(&two_worst, &f);
		for (unsigned long r = 2; r < down; r++)
			round_run(&s);
		snprintf(label, sizeof(label), "period %lu: %zu still down, after %lu rounds of repair",
		         p, n_dead, down);
		connected &= measure(&s, label, (unsigned)samples, true, &f);
		worst(&churn_worst, &f);
		for (size_t q = 0; q < n_dead; q++)
			member_start(&s, dead[q], true);
		for (unsigned long r = down; r < period; r++)
			round_run(&s);
		snprintf(label, sizeof(label), "period %lu: all back for %lu rounds", p, period - down);
		connected &= measure(&s, label, (unsigned)samples, true, &f);
		worst(&back_worst, &f);
	}
	slow |= max_rounds && periods && (churn_worst.max > (int)max_rounds ||
	                                  back_worst.max > (int)max_rounds);
	printf("\nsummary, %zu members (%lu random sources per measure; diameter = max "
	       "eccentricity seen, a lower bound; rounds = flood along the mesh's sessions, one hop "
	       "per round)\n", s.n, samples);
	summary("before churn (steady)", &steady);
	if (periods) {
		summary("20 % just killed, no repair yet (worst period; rounds within the largest "
		        "component)", &kill_worst);
		summary("20 % down, 2 rounds later (worst period)", &two_worst);
		summary("20 % down, after repair (worst period)", &churn_worst);
		summary("all back (worst period)", &back_worst);
	}
	printf("\nwall time %.1f s for %llu rounds of %zu members\n", wall_now() - t0,
	       (unsigned long long)s.round, s.n);

	for (size_t i = 0; i < s.n; i++) {
		mesh_free(s.m[i].mesh);
		free(s.m[i].adj);
	}
	free(dead);
	free(s.m);
	free(s.cand);
	free(s.queue);
	free(s.order);
	free(s.dist);
	free(s.comp);
	if (s.failed)
		return 1;
	if (check && !connected) {
		fprintf(stderr, "sim_mesh: the graph of live members was not connected\n");
		return 1;
	}
	if (slow) {
		fprintf(stderr, "sim_mesh: a record took more than %lu rounds to reach all\n",
		        max_rounds);
		return 1;
	}
	return 0;
}
