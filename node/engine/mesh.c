/*
 * mesh.c - peer selection (mesh.h; PROTOCOL.md 6.10).
 *
 * State: the borrowed candidate array, and a table sorted by key of the
 * keys the mesh knows something about (struct mesh_peer): an open
 * session, a dial under way, a wait (backoff or "retry after"), a refusal
 * for good.  A key with none of these has no entry, so the table stays as
 * small as the node's activity, whatever the alliance's size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/engine/mesh.h"

enum peer_state {
	P_NONE = 0,     /* no session, no dial: only a wait or a refusal */
	P_DIALLING,
	P_OPEN,
};

struct mesh_peer {
	uint8_t key[MESH_KEY_BYTES];
	uint8_t state;           /* enum peer_state */
	bool inbound;            /* P_OPEN: the peer dialled */
	bool pinned;             /* P_OPEN: never counted, never dropped */
	bool boot;               /* P_DIALLING / P_OPEN: dialled as the bootstrap */
	bool refused;            /* refused us for good: not dialled */
	bool settled;            /* P_OPEN: the peer had other sessions when it opened (or did
	                            not say): dropping this one does not isolate it */
	uint64_t since;          /* P_DIALLING: dial started; P_OPEN: session opened */
	uint64_t until;          /* not dialled before this (backoff or retry after) */
	uint64_t step;           /* the next backoff's step; 0: none yet */
};

struct mesh {
	struct mesh_conf conf;
	uint8_t self[MESH_KEY_BYTES];
	uint64_t rng[4];                   /* xoshiro256** */
	const struct mesh_candidate *cand; /* borrowed, sorted by key */
	size_t n_cand;
	uint64_t cand_hash;                /* of keys and flags, to see a same set */
	size_t *boot;                      /* indexes of bootstrap candidates */
	size_t n_boot;
	struct mesh_peer *p;               /* sorted by key */
	size_t n, cap;
	uint64_t next_shuffle;             /* 0: not scheduled yet */
	uint64_t last_evict;               /* time of the last eviction */
	bool evicted;                      /* last_evict is set */
	uint64_t dry_until;                /* a full scan found nothing to dial before this */
	uint64_t isolated_since;           /* no session since then; 0: has one */
	uint64_t pause_until;              /* a dial was refused as busy: no random dial before */
	uint64_t pause_step;               /* the next pause; 0: none yet */
	uint8_t hello_key[MESH_KEY_BYTES]; /* the key mesh_accept last let in, */
	unsigned hello_sessions;           /* the sessions its Hello said, */
	bool hello_set;                    /* until mesh_opened or mesh_closed takes it */
	struct mesh_stats st;              /* the totals (dials .. shuffles) */
};

/* ----------------------------------------------------------- random */

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct mesh *m)
{
	uint64_t *s = m->rng;
	uint64_t r = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* Uniform in [0, n), n > 0, without modulo bias. */
static uint64_t rng_below(struct mesh *m, uint64_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t r;
	do
		r = rng_next(m);
	while (r >= limit);
	return r % n;
}

/* Uniform in [base/2, base/2 + base]: a jittered wait of mean base. */
static uint64_t jitter(struct mesh *m, uint64_t base)
{
	return base / 2 + rng_below(m, base + 1);
}

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* ------------------------------------------------------------ table */

/* Index of key in the table, or where it would go (*found false). */
static size_t find(const struct mesh *m, const uint8_t key[MESH_KEY_BYTES], bool *found)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(m->p[mid].key, key, MESH_KEY_BYTES);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static struct mesh_peer *lookup(const struct mesh *m, const uint8_t key[MESH_KEY_BYTES])
{
	bool found;
	size_t i = find(m, key, &found);
	return found ? &m->p[i] : NULL;
}

/* Room for `more` new entries.  0 or -ENOMEM (the table unchanged). */
static int reserve(struct mesh *m, size_t more)
{
	if (m->n + more <= m->cap)
		return 0;
	size_t cap = m->cap ? m->cap : 16;
	while (cap < m->n + more)
		cap *= 2;
	struct mesh_peer *p = realloc(m->p, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	m->p = p;
	m->cap = cap;
	return 0;
}

/* The entry of key, created empty if missing.  NULL: -ENOMEM. */
static struct mesh_peer *entry(struct mesh *m, const uint8_t key[MESH_KEY_BYTES])
{
	bool found;
	size_t i = find(m, key, &found);
	if (found)
		return &m->p[i];
	if (reserve(m, 1))
		return NULL;
	memmove(&m->p[i + 1], &m->p[i], (m->n - i) * sizeof(*m->p));
	m->n++;
	memset(&m->p[i], 0, sizeof(*m->p));
	memcpy(m->p[i].key, key, MESH_KEY_BYTES);
	return &m->p[i];
}

static bool is_self(const struct mesh *m, const uint8_t key[MESH_KEY_BYTES])
{
	return memcmp(m->self, key, MESH_KEY_BYTES) == 0;
}

/* The candidate with key, or NULL. */
static const struct mesh_candidate *candidate(const struct mesh *m,
                                              const uint8_t key[MESH_KEY_BYTES])
{
	size_t lo = 0, hi = m->n_cand;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(m->cand[mid].key, key, MESH_KEY_BYTES);
		if (c == 0)
			return &m->cand[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ----------------------------------------------------------- counts */

struct counts {
	unsigned out, in, pinned, dialling;  /* out, in: open, not pinned */
	unsigned boot_open, other_open;      /* open sessions dialled as bootstrap / all others */
};

static void count(const struct mesh *m, struct counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < m->n; i++) {
		const struct mesh_peer *p = &m->p[i];
		if (p->state == P_DIALLING) {
			c->dialling++;
		} else if (p->state == P_OPEN) {
			if (p->pinned)
				c->pinned++;
			else if (p->inbound)
				c->in++;
			else
				c->out++;
			if (p->boot)
				c->boot_open++;
			else
				c->other_open++;
		}
	}
}

/* ------------------------------------------------------------ waits */

/* Key failed: wait half to all of its step, and double the step. */
static void back_off(struct mesh *m, struct mesh_peer *p, uint64_t now)
{
	uint64_t step = p->step ? p->step : m->conf.backoff_min_ms;
	p->until = now + step / 2 + rng_below(m, step / 2 + 1);
	p->step = step * 2 > m->conf.backoff_max_ms ? m->conf.backoff_max_ms : step * 2;
}

/* Done with an open session or a dial: the key has neither any more. */
static void end(struct mesh_peer *p, uint64_t now, uint64_t stable_ms)
{
	if (p->state == P_OPEN && now - p->since >= stable_ms)
		p->step = 0;   /* it worked for a while: a new failure starts over */
	p->state = P_NONE;
	p->inbound = p->pinned = p->boot = p->settled = false;
}

/* An entry with nothing left to remember. */
static bool idle(const struct mesh *m, const struct mesh_peer *p, uint64_t now)
{
	if (p->state != P_NONE || p->refused || p->until > now)
		return false;
	/* Keep a failed key's step for a while after its wait, so that a key
	 * failing again soon waits longer; forget it after backoff_max_ms. */
	return !p->step || now - p->until >= m->conf.backoff_max_ms;
}

static void prune(struct mesh *m, uint64_t now)
{
	size_t w = 0;
	for (size_t i = 0; i < m->n; i++)
		if (!idle(m, &m->p[i], now))
			m->p[w++] = m->p[i];
	m->n = w;
}

/* ------------------------------------------------------- lifecycle */

void mesh_conf_default(struct mesh_conf *c)
{
	c->dial_target = MESH_DIAL_TARGET;
	c->max_sessions = MESH_MAX_SESSIONS;
	c->max_dials_per_tick = MESH_MAX_DIALS_PER_TICK;
	c->shuffle_ms = MESH_SHUFFLE_MS;
	c->retry_after_ms = MESH_RETRY_AFTER_MS;
	c->backoff_min_ms = MESH_BACKOFF_MIN_MS;
	c->backoff_max_ms = MESH_BACKOFF_MAX_MS;
	c->stable_ms = MESH_STABLE_MS;
	c->dial_timeout_ms = MESH_DIAL_TIMEOUT_MS;
	c->evict_interval_ms = MESH_EVICT_INTERVAL_MS;
	c->join_retry_ms = MESH_JOIN_RETRY_MS;
	c->bootstrap_after_ms = MESH_BOOTSTRAP_AFTER_MS;
}

int mesh_new(struct mesh **out, const struct mesh_conf *c, const uint8_t self[MESH_KEY_BYTES],
             uint64_t seed)
{
	struct mesh_conf def;
	struct mesh *m;

	if (!out || !self)
		return -EINVAL;
	if (!c) {
		mesh_conf_default(&def);
		c = &def;
	}
	if (c->dial_target > c->max_sessions || c->max_dials_per_tick == 0 ||
	    c->backoff_min_ms == 0 || c->backoff_min_ms > c->backoff_max_ms)
		return -EINVAL;
	if (!(m = calloc(1, sizeof(*m))))
		return -ENOMEM;
	m->conf = *c;
	memcpy(m->self, self, MESH_KEY_BYTES);
	for (int i = 0; i < 4; i++)
		m->rng[i] = splitmix(&seed);
	*out = m;
	return 0;
}

void mesh_free(struct mesh *m)
{
	if (!m)
		return;
	free(m->p);
	free(m->boot);
	free(m);
}

/* ------------------------------------------------------- candidates */

static uint64_t set_hash(const struct mesh_candidate *c, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u ^ n;   /* FNV-1a over 8-byte words */
	for (size_t i = 0; i < n; i++) {
		uint64_t w;
		for (int j = 0; j < MESH_KEY_BYTES; j += 8) {
			memcpy(&w, c[i].key + j, 8);
			h = (h ^ w) * 0x100000001b3u;
		}
		w = (uint64_t)c[i].dialable | (uint64_t)c[i].pinned << 1 |
		    (uint64_t)c[i].bootstrap << 2;
		h = (h ^ w) * 0x100000001b3u;
		h ^= h >> 29;
	}
	return h;
}

int mesh_set_candidates(struct mesh *m, const struct mesh_candidate *c, size_t n)
{
	size_t n_boot = 0, *boot = NULL;

	if (!m || (!c && n))
		return -EINVAL;
	for (size_t i = 1; i < n; i++)
		if (memcmp(c[i - 1].key, c[i].key, MESH_KEY_BYTES) >= 0)
			return -EINVAL;
	uint64_t h = set_hash(c, n);
	if (h == m->cand_hash && n == m->n_cand) {
		m->cand = c;   /* the same set, maybe elsewhere: nothing to forget */
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		n_boot += c[i].bootstrap && !is_self(m, c[i].key);
	if (n_boot && !(boot = malloc(n_boot * sizeof(*boot))))
		return -ENOMEM;
	n_boot = 0;
	for (size_t i = 0; i < n; i++)
		if (c[i].bootstrap && !is_self(m, c[i].key))
			boot[n_boot++] = i;
	free(m->boot);
	m->boot = boot;
	m->n_boot = n_boot;
	m->cand = c;
	m->n_cand = n;
	m->cand_hash = h;
	m->dry_until = 0;
	/* A refusal's reason may be gone with the change (we were admitted,
	 * it was re-admitted), and a key no longer here needs no wait. */
	size_t w = 0;
	for (size_t i = 0; i < m->n; i++) {
		struct mesh_peer *p = &m->p[i];
		p->refused = false;
		if (p->state == P_NONE && !candidate(m, p->key))
			continue;
		m->p[w++] = *p;
	}
	m->n = w;
	return 0;
}

/* ------------------------------------------------------------- tick */

/* May candidate i be dialled now (as a random choice unless boot)?
 * Else, if only a wait stops it, *wait is lowered to its end. */
static bool dialable_now(const struct mesh *m, size_t i, bool boot, uint64_t now,
                         uint64_t *wait)
{
	const struct mesh_candidate *c = &m->cand[i];
	if ((!c->dialable && !c->bootstrap) || c->pinned || is_self(m, c->key))
		return false;
	/* An isolated node reaches its bootstrap only as the bootstrap, so
	 * that the session is dropped once others are open: a coordinator
	 * otherwise keeps every joiner it let in. */
	if (c->bootstrap && !boot && m->isolated_since)
		return false;
	const struct mesh_peer *p = lookup(m, c->key);
	if (!p)
		return true;
	if (p->state != P_NONE || p->refused)
		return false;
	if (p->until > now) {
		if (p->until < *wait)
			*wait = p->until;
		return false;
	}
	return true;
}

/* A uniformly random candidate that may be dialled now: a few random
 * probes (enough when most may be), else one scan that picks uniformly
 * among all that may (reservoir sampling).  false: none; no scan is done
 * again before a wait ends or something changes (dry_until). */
static bool pick(struct mesh *m, uint64_t now, size_t *out)
{
	uint64_t wait = UINT64_MAX;
	size_t seen = 0, chosen = 0;

	if (!m->n_cand || now < m->dry_until)
		return false;
	for (int t = 0; t < MESH_PROBES; t++) {
		size_t i = (size_t)rng_below(m, m->n_cand);
		if (dialable_now(m, i, false, now, &wait)) {
			*out = i;
			return true;
		}
	}
	wait = UINT64_MAX;
	for (size_t i = 0; i < m->n_cand; i++)
		if (dialable_now(m, i, false, now, &wait) && rng_below(m, ++seen) == 0)
			chosen = i;
	if (!seen) {
		m->dry_until = wait;
		return false;
	}
	*out = chosen;
	return true;
}

/* Which sessions random_session may choose. */
#define ANY_DIR -1
#define BOOT_OK 1u       /* also one dialled as the bootstrap */
#define SETTLED_ONLY 2u  /* only one whose peer had other sessions */

/* A random open, non-pinned session with the given direction (1 inbound,
 * 0 ours, ANY_DIR), as flags allow.  NULL: none. */
static struct mesh_peer *random_session(struct mesh *m, int dir, unsigned flags)
{
	struct mesh_peer *chosen = NULL;
	uint64_t seen = 0;
	for (size_t i = 0; i < m->n; i++) {
		struct mesh_peer *p = &m->p[i];
		if (p->state != P_OPEN || p->pinned || (dir >= 0 && p->inbound != (dir == 1)) ||
		    (p->boot && !(flags & BOOT_OK)) || (!p->settled && (flags & SETTLED_ONLY)))
			continue;
		if (rng_below(m, ++seen) == 0)
			chosen = p;
	}
	return chosen;
}

/* Forget session p and tell the node to close it. */
static void drop(struct mesh *m, struct mesh_peer *p, enum mesh_drop_why why, uint64_t now,
                 struct mesh_action *a)
{
	memset(a, 0, sizeof(*a));
	a->kind = MESH_DROP;
	a->why = why;
	a->retry_after_ms = jitter(m, m->conf.retry_after_ms);
	memcpy(a->key, p->key, MESH_KEY_BYTES);
	end(p, now, m->conf.stable_ms);
	/* We told the peer to wait before it dials us again: so do we. */
	p->until = now + a->retry_after_ms;
	m->dry_until = 0;
}

/* Start a dial of candidate i (room for its entry was reserved). */
static void dial(struct mesh *m, size_t i, bool boot, uint64_t now, struct mesh_action *a)
{
	struct mesh_peer *p = entry(m, m->cand[i].key);
	p->state = P_DIALLING;
	p->since = now;
	p->boot = boot;
	memset(a, 0, sizeof(*a));
	a->kind = MESH_DIAL;
	a->bootstrap = boot;
	memcpy(a->key, p->key, MESH_KEY_BYTES);
	m->st.dials++;
}

/* Drops: over the limits, the bootstrap once it is not needed, the
 * shuffle.  Returns the actions written. */
static size_t tick_drops(struct mesh *m, uint64_t now, struct mesh_action *out, size_t cap)
{
	const struct mesh_conf *cf = &m->conf;
	struct counts c;
	struct mesh_peer *p;
	size_t k = 0;

	count(m, &c);
	/* Only a shrunk conf gets here: dials and accepts keep within. */
	while (k < cap && c.out + c.in > cf->max_sessions && (p = random_session(m, ANY_DIR, BOOT_OK))) {
		c.in -= p->inbound;
		c.out -= !p->inbound;
		drop(m, p, MESH_DROP_LIMIT, now, &out[k++]);
	}
	while (k < cap && c.out > cf->dial_target && (p = random_session(m, 0, BOOT_OK))) {
		c.out--;
		drop(m, p, MESH_DROP_LIMIT, now, &out[k++]);
	}
	if (c.boot_open && c.other_open) {
		for (size_t i = 0; i < m->n && k < cap; i++) {
			p = &m->p[i];
			if (p->state == P_OPEN && p->boot && !p->pinned)
				drop(m, p, MESH_DROP_BOOTSTRAP, now, &out[k++]);
		}
	}
	if (cf->shuffle_ms && !m->next_shuffle)
		m->next_shuffle = now + jitter(m, cf->shuffle_ms);
	if (cf->shuffle_ms && now >= m->next_shuffle && k < cap) {
		m->next_shuffle = now + jitter(m, cf->shuffle_ms);
		count(m, &c);
		if (c.out >= cf->dial_target && (p = random_session(m, 0, 0))) {
			drop(m, p, MESH_DROP_SHUFFLE, now, &out[k++]);
			m->st.shuffles++;
		}
	}
	return k;
}

/* Dial the bootstrap candidates that may be dialled, within the limits
 * and the budget.  Returns the actions now in out. */
static size_t dial_bootstrap(struct mesh *m, uint64_t now, struct counts *c, unsigned *budget,
                             struct mesh_action *out, size_t k, size_t cap)
{
	const struct mesh_conf *cf = &m->conf;
	for (size_t i = 0; i < m->n_boot && *budget && k < cap; i++) {
		uint64_t wait = UINT64_MAX;
		if (c->out + c->dialling >= cf->dial_target ||
		    c->out + c->in + c->dialling >= cf->max_sessions)
			break;
		if (!dialable_now(m, m->boot[i], true, now, &wait))
			continue;
		dial(m, m->boot[i], true, now, &out[k++]);
		(*budget)--;
		c->dialling++;
	}
	return k;
}

int mesh_tick(struct mesh *m, uint64_t now, struct mesh_action *out, size_t cap, size_t *n)
{
	const struct mesh_conf *cf;
	struct counts c;
	size_t k, i;
	unsigned budget;

	if (!m || !n || (!out && cap))
		return -EINVAL;
	cf = &m->conf;
	budget = cf->max_dials_per_tick;
	/* Every dial needs an entry: make room first, so that a tick either
	 * fails before doing anything or does all it decides. */
	if (reserve(m, budget))
		return -ENOMEM;
	/* A dial the node never reported back failed. */
	for (i = 0; i < m->n; i++) {
		struct mesh_peer *p = &m->p[i];
		if (p->state == P_DIALLING && now - p->since >= cf->dial_timeout_ms) {
			end(p, now, cf->stable_ms);
			back_off(m, p, now);
			m->dry_until = 0;
		}
	}
	prune(m, now);
	k = tick_drops(m, now, out, cap);
	count(m, &c);
	if (c.boot_open + c.other_open)
		m->isolated_since = 0;
	else if (!m->isolated_since)
		m->isolated_since = now ? now : 1;
	/* The bootstrap is the way in while the node is alone: before the
	 * random dials once it has been alone for bootstrap_after_ms (its
	 * members' addresses may all be stale), after them if they found no
	 * member to dial (a joiner before its first sync).  Members that come
	 * back after an outage thus spread over the alliance instead of all
	 * knocking at the coordinator at once. */
	bool boot_first = m->isolated_since && now - m->isolated_since >= cf->bootstrap_after_ms;
	if (boot_first)
		k = dial_bootstrap(m, now, &c, &budget, out, k, cap);
	/* After a refusal for "too many connections" the node waits before
	 * its next random dial, unless it has no session but its way in:
	 * where the alliance has fewer free slots than its members want (as
	 * when dial-out-only members leave too few inbound slots for D each),
	 * the members that stay below D would otherwise dial and be refused
	 * every second. */
	bool paused = now < m->pause_until && c.other_open;
	while (!paused && budget && k < cap && c.out + c.dialling < cf->dial_target &&
	       c.out + c.in + c.dialling < cf->max_sessions && pick(m, now, &i)) {
		dial(m, i, false, now, &out[k++]);
		budget--;
		c.dialling++;
	}
	if (m->isolated_since && !boot_first && c.dialling == 0)
		k = dial_bootstrap(m, now, &c, &budget, out, k, cap);
	*n = k;
	return 0;
}

/* ----------------------------------------------------------- events */

void mesh_accept(struct mesh *m, struct mesh_verdict *out, const uint8_t key[MESH_KEY_BYTES],
                 bool pinned, unsigned peer_sessions, uint64_t now)
{
	const struct mesh_candidate *cd = candidate(m, key);
	const struct mesh_peer *p = lookup(m, key);
	struct mesh_peer *victim;
	struct counts c;

	memset(out, 0, sizeof(*out));
	out->accept = true;
	/* For mesh_opened, which comes next if the peer is let in. */
	memcpy(m->hello_key, key, MESH_KEY_BYTES);
	m->hello_sessions = peer_sessions;
	m->hello_set = true;
	if (pinned || (cd && cd->pinned) || (p && p->state != P_NONE)) {
		m->st.accepted++;
		return;
	}
	count(m, &c);
	if (c.out + c.in + c.dialling < m->conf.max_sessions) {
		m->st.accepted++;
		return;
	}
	/* At the limit.  An isolated peer (a new member, or one that lost
	 * every session) must get in somewhere, or a joiner that knows only
	 * its coordinator would wait for a slot there: take it, and drop one
	 * of ours at random whose peer had other sessions (it stays connected
	 * and redials).  Never one whose peer was isolated too: at a
	 * coordinator those are joiners that leave by themselves within
	 * seconds, and evicting them would undo their join.  With none such,
	 * the isolated peer retries soon (join_retry_ms), the others after T. */
	if (peer_sessions == 0) {
		out->retry_after_ms = jitter(m, m->conf.join_retry_ms);
		if ((!m->evicted || now - m->last_evict >= m->conf.evict_interval_ms) &&
		    (victim = random_session(m, ANY_DIR, BOOT_OK | SETTLED_ONLY))) {
			out->evict = true;
			memcpy(out->evict_key, victim->key, MESH_KEY_BYTES);
			out->retry_after_ms = jitter(m, m->conf.retry_after_ms);
			end(victim, now, m->conf.stable_ms);
			victim->until = now + out->retry_after_ms;
			m->evicted = true;
			m->last_evict = now;
			m->dry_until = 0;
			m->st.accepted++;
			m->st.evictions++;
			return;
		}
	} else {
		out->retry_after_ms = jitter(m, m->conf.retry_after_ms);
	}
	out->accept = false;
	m->hello_set = false;
	m->st.refusals++;
}

/* Whether the Hello mesh_accept saw last was key's; forgets it either way. */
static bool take_hello(struct mesh *m, const uint8_t key[MESH_KEY_BYTES], unsigned *sessions)
{
	bool mine = m->hello_set && memcmp(m->hello_key, key, MESH_KEY_BYTES) == 0;
	if (mine)
		*sessions = m->hello_sessions;
	m->hello_set = false;
	return mine;
}

int mesh_opened(struct mesh *m, const uint8_t key[MESH_KEY_BYTES], bool inbound, bool pinned,
                uint64_t now)
{
	unsigned sessions = MESH_PEER_SESSIONS_UNKNOWN;
	if (inbound)
		(void)take_hello(m, key, &sessions);
	return mesh_opened_peer(m, key, inbound, pinned, sessions, now);
}

int mesh_opened_peer(struct mesh *m, const uint8_t key[MESH_KEY_BYTES], bool inbound,
                     bool pinned, unsigned peer_sessions, uint64_t now)
{
	const struct mesh_candidate *cd = candidate(m, key);
	struct mesh_peer *p;

	m->hello_set = false;
	if (!(p = entry(m, key)))
		return -ENOMEM;
	if (p->state != P_OPEN) {
		p->since = now;
		/* A bootstrap dial answered by the bootstrap's own dial is still
		 * the way in; an inbound session otherwise is the peer's choice. */
		p->boot = p->state == P_DIALLING && p->boot;
	}
	if (!inbound)
		m->pause_until = m->pause_step = 0;   /* a dial got in: slots are free again */
	p->state = P_OPEN;
	p->settled = peer_sessions != 0;
	p->inbound = inbound;
	p->pinned = pinned || (cd && cd->pinned);
	p->refused = false;
	p->until = 0;
	return 0;
}

void mesh_closed(struct mesh *m, const uint8_t key[MESH_KEY_BYTES], enum mesh_close why,
                 uint64_t retry_after_ms, uint64_t now)
{
	struct mesh_peer *p = lookup(m, key);

	if (m->hello_set && memcmp(m->hello_key, key, MESH_KEY_BYTES) == 0)
		m->hello_set = false;
	if (!p || p->state == P_NONE)
		return;
	if (p->state == P_DIALLING && why == MESH_CLOSE_BUSY) {
		uint64_t step = m->pause_step ? m->pause_step : m->conf.backoff_min_ms;
		m->pause_until = now + step / 2 + rng_below(m, step / 2 + 1);
		m->pause_step = step * 2 > m->conf.retry_after_ms ? m->conf.retry_after_ms : step * 2;
	}
	end(p, now, m->conf.stable_ms);
	m->dry_until = 0;
	if (why == MESH_CLOSE_REFUSED) {
		p->refused = true;
	} else if (why == MESH_CLOSE_BUSY && retry_after_ms) {
		if (retry_after_ms > MESH_RETRY_AFTER_MAX_MS)
			retry_after_ms = MESH_RETRY_AFTER_MAX_MS;
		p->until = now + retry_after_ms;
	} else if (why != MESH_CLOSE_CLEAN) {
		back_off(m, p, now);   /* failed, or busy without a time */
	}
}

void mesh_retry_now(struct mesh *m)
{
	for (size_t i = 0; i < m->n; i++) {
		m->p[i].refused = false;
		m->p[i].until = 0;
		m->p[i].step = 0;
	}
	m->dry_until = 0;
	m->pause_until = m->pause_step = 0;
}

unsigned mesh_sessions(const struct mesh *m)
{
	struct counts c;
	count(m, &c);
	return c.other_open;
}

void mesh_stats(const struct mesh *m, uint64_t now, struct mesh_stats *out)
{
	struct counts c;
	*out = m->st;
	count(m, &c);
	out->sessions = c.out + c.in + c.pinned;
	/* A joiner still on its coordinator asks others to take it in as
	 * an isolated node: it is not part of the mesh yet. */
	out->announced = mesh_sessions(m);
	out->outbound = c.out;
	out->inbound = c.in;
	out->pinned = c.pinned;
	out->dialling = c.dialling;
	out->waiting = out->refused = 0;
	for (size_t i = 0; i < m->n; i++) {
		out->refused += m->p[i].refused;
		out->waiting += m->p[i].state == P_NONE && !m->p[i].refused && m->p[i].until > now;
	}
	out->candidates = m->n_cand;
}
