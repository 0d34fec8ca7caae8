/*
 * sync_peer.c - what the engine knows the peer holds of each feed
 * (struct sync_pfeed): what its statements teach (an exchange's ranges, a
 * Records, an Ack, a Graft, an announcement), and the entries a session
 * keeps.
 *
 * Knowledge of a peer feed only rises, with one exception per feed and
 * session: a peer's statement that it holds less than we thought (an Ack,
 * or an exchange) lowers it once, and the feed is streamed again from
 * there; a second lowering is ignored.  So no message of the peer makes a
 * feed go out more than twice in a session (issue 10, D11).  An exchange's
 * statement does not lower a feed we sent records of after the peer made
 * it: those records may still be on their way.
 *
 * Entries are kept sorted by author.  Once an exchange of the alliance has
 * ended (sync_alliance.base), a feed without one is one the peer holds
 * exactly as we do: an entry then says the peer differs from us, or holds
 * state (ahead of us since, records only announced or sent, rewound).  At
 * 12,000 feeds a session so keeps a few dozen entries, not 12,000 of 72
 * bytes.  Every change of our heads comes with the head before it
 * (sync_feed_ref.was), which a feed without an entry stood for.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/engine/sync_int.h"

/* What a feed without an entry stands for: our head, or nothing. */
static uint64_t implicit_seq(const struct sync_alliance *a, const struct sync_lvec *v,
                             const uint8_t *author)
{
	return a->base ? sync_lvec_seq(v, author) : 0;
}

/* Does f say no more than having no entry would (ours: our head)? */
static bool entry_implicit(const struct sync_alliance *a, const struct sync_pfeed *f,
                           uint64_t ours)
{
	if (!a->base)
		return f->seq == 0 && !f->rewound;
	return f->seq == ours && !f->since_ms && !f->unconfirmed && !f->rewound && !f->sent_tick;
}

uint64_t sync_peer_get(const struct sync *s, const struct sync_alliance *a,
                       const uint8_t *author)
{
	bool found;
	size_t i = sync_find(a->peer, a->n, sizeof(*a->peer), author, &found);
	return found ? a->peer[i].seq : implicit_seq(a, sync_lvec_of(s, a->id), author);
}

int sync_peer_rebase(struct sync *s, struct sync_alliance *a)
{
	const struct sync_lvec *v = sync_lvec_of(s, a->id);
	size_t nv = v ? v->n : 0, i, j, k;
	struct sync_pfeed *out = NULL;

	/* Two walks of both lists (sorted by author): count, then copy the
	 * entries that still say something, into an array of that size. */
	for (int pass = 0; pass < 2; pass++) {
		for (i = j = k = 0; i < a->n || j < nv;) {
			int c = i == a->n ? 1 : j == nv ? -1 :
			        memcmp(a->peer[i].author, v->heads[j].author, 32);
			uint64_t ours = c >= 0 ? v->heads[j].seq : 0;
			struct sync_pfeed f;
			if (c <= 0) {
				f = a->peer[i];
			} else {   /* no entry: what that stands for now */
				memset(&f, 0, sizeof(f));
				memcpy(f.author, v->heads[j].author, 32);
				f.seq = implicit_seq(a, v, f.author);
			}
			i += c <= 0;
			j += c >= 0;
			/* kept unless it says what no entry says once based */
			if (f.seq == ours && !f.since_ms && !f.unconfirmed && !f.rewound && !f.sent_tick)
				continue;
			if (pass)
				out[k] = f;
			k++;
		}
		if (pass == 0 && k && !(out = malloc(k * sizeof(*out))))
			return -ENOMEM;
	}
	s->n_peer_feeds = s->n_peer_feeds - a->n + k;
	free(a->peer);
	a->peer = out;
	a->n = a->cap = k;
	a->base = true;
	return 0;
}

int sync_local_replacing(struct sync *s)
{
	for (size_t ai = 0; ai < s->n_al; ai++) {
		struct sync_alliance *a = &s->al[ai];
		const struct sync_lvec *v = sync_lvec_of(s, a->id);
		size_t nv = v ? v->n : 0, i = 0, j = 0, k = 0;
		struct sync_pfeed *out;
		if (!a->base)
			continue;
		/* every entry, and every feed of ours without one at our head,
		 * except those at seq 0 (what no entry says unbased) */
		if (!(out = malloc((a->n + nv + 1) * sizeof(*out))))
			return -ENOMEM;
		while (i < a->n || j < nv) {
			int c = i == a->n ? 1 : j == nv ? -1 :
			        memcmp(a->peer[i].author, v->heads[j].author, 32);
			struct sync_pfeed f;
			if (c <= 0) {
				f = a->peer[i];
			} else {
				memset(&f, 0, sizeof(f));
				memcpy(f.author, v->heads[j].author, 32);
				f.seq = v->heads[j].seq;
			}
			i += c <= 0;
			j += c >= 0;
			if (f.seq || f.rewound || f.since_ms || f.sent_tick)
				out[k++] = f;
		}
		s->n_peer_feeds = s->n_peer_feeds - a->n + k;
		free(a->peer);
		a->cap = a->n + nv + 1;
		a->peer = out;
		a->n = k;
		a->base = false;
	}
	return 0;
}

/* Apply what the peer says it holds (v) to what we know (f). */
static void decide(struct sync_pfeed *f, uint64_t v, enum sync_learn how, uint64_t seen_tick)
{
	if (v >= f->seq) {
		f->seq = v;
		f->unconfirmed = 0;
		return;
	}
	if (how == SYNC_LEARN_RAISE)
		return;
	if (f->unconfirmed) {
		/* The top of seq was only announced (Have), never sent: going
		 * back down to what the peer was known to hold before is no
		 * rewind, and sends nothing twice. */
		uint64_t floor = f->seq - f->unconfirmed;
		f->seq = v > floor ? v : floor;
		f->unconfirmed = 0;
		if (v >= floor)
			return;
	}
	if (how == SYNC_LEARN_GRAFT)
		return;   /* below that: records on their way, or an Ack's matter */
	if (how == SYNC_LEARN_EXACT && f->sent_tick > seen_tick)
		return;   /* records we sent since may still be on their way */
	if (f->rewound)
		return;   /* once per feed and session */
	f->seq = v;
	f->rewound = true;
}

/* After knowledge of f changed: date it (stuck feeds) and, with queue,
 * add it to the out list if we are ahead. */
int sync_peer_after(struct sync *s, struct sync_alliance *a, const struct sync_lvec *v,
                    struct sync_pfeed *f, bool queue)
{
	uint64_t ours = sync_lvec_seq(v, f->author);
	if (f->seq > ours) {
		if (!f->since_ms || f->seen_local != ours) {
			f->since_ms = s->now_ms ? s->now_ms : 1;
			f->seen_local = ours;
		}
	} else {
		f->since_ms = 0;
	}
	if (queue && a->synced && !a->unshared && ours > f->seq && !sync_diverged_find(s, a->id, f->author))
		return sync_out_add(s, a, v, f->author);
	return 0;
}

static int after(struct sync *s, struct sync_alliance *a, const struct sync_lvec *v,
                 struct sync_pfeed *f)
{
	return sync_peer_after(s, a, v, f, true);
}

static int peer_reserve(struct sync_alliance *a, size_t need)
{
	if (need <= a->cap)
		return 0;
	size_t cap = a->cap ? a->cap : 16;
	while (cap < need)
		cap *= 2;
	struct sync_pfeed *p = realloc(a->peer, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	a->peer = p;
	a->cap = cap;
	return 0;
}

/* Forget entry i of a. */
static void peer_remove(struct sync *s, struct sync_alliance *a, size_t i)
{
	memmove(&a->peer[i], &a->peer[i + 1], (a->n - i - 1) * sizeof(*a->peer));
	a->n--;
	s->n_peer_feeds--;
}

/* A peer feed of seq 0 for author at index i of a's sorted list. */
static int peer_insert(struct sync *s, struct sync_alliance *a, size_t i, const uint8_t *author)
{
	int rc;
	if (s->n_peer_feeds >= SYNC_PEER_FEEDS_MAX)
		return SYNC_E_LIMIT;
	if ((rc = peer_reserve(a, a->n + 1)))
		return rc;
	if (a->n > i)
		memmove(&a->peer[i + 1], &a->peer[i], (a->n - i) * sizeof(*a->peer));
	memset(&a->peer[i], 0, sizeof(a->peer[i]));
	memcpy(a->peer[i].author, author, 32);
	a->n++;
	s->n_peer_feeds++;
	return 0;
}

static int learn(struct sync *s, struct sync_alliance *a, const uint8_t *author, uint64_t seq,
                 enum sync_learn how, uint64_t seen_tick, struct sync_pfeed **out)
{
	const struct sync_lvec *v = sync_lvec_of(s, a->id);
	bool found;
	size_t i = sync_find(a->peer, a->n, sizeof(*a->peer), author, &found);
	int rc;

	if (!found) {
		uint64_t stood = implicit_seq(a, v, author);
		if (seq == 0 && stood == 0)
			return 0;
		if (!out && how == SYNC_LEARN_RAISE && seq <= stood)
			return 0;   /* nothing learnt: no entry needed */
		if ((rc = peer_insert(s, a, i, author)))
			return rc;
		a->peer[i].seq = stood;
	}
	struct sync_pfeed *f = &a->peer[i];
	uint64_t was = f->seq;
	decide(f, seq, how, seen_tick);
	if (out) {   /* our own records: the caller goes on with the feed */
		*out = f;
		return sync_peer_after(s, a, v, f, false);
	}
	return f->seq != was || !found ? after(s, a, v, f) : 0;
}

int sync_peer_learn(struct sync *s, struct sync_alliance *a, const uint8_t *author,
                    uint64_t seq, enum sync_learn how, uint64_t seen_tick)
{
	return learn(s, a, author, seq, how, seen_tick, NULL);
}

int sync_peer_graft(struct sync *s, struct sync_alliance *a, const uint8_t *author,
                    uint64_t seq)
{
	const struct sync_lvec *v = sync_lvec_of(s, a->id);
	struct sync_pfeed *f = NULL;
	int rc;
	if (!v)
		return 0;
	if ((rc = learn(s, a, author, seq, SYNC_LEARN_GRAFT, 0, &f)))
		return rc;
	uint64_t have = f ? f->seq : 0;
	/* Asked for: stream it even where knowledge did not move. */
	if (a->synced && !a->unshared && sync_lvec_seq(v, author) > have &&
	    !sync_diverged_find(s, a->id, author))
		return sync_out_add(s, a, v, author);
	return 0;
}

/*
 * Lazy push: we announce our head `seq` of this feed (Have) instead of
 * streaming it.  The peer will either get those records by another
 * session or graft them, so count them as the peer's from now on (nothing
 * else would announce or push them again), remembering how many were only
 * announced: a Graft may take them back, without a rewind.
 */
int sync_peer_announce(struct sync *s, struct sync_alliance *a, const uint8_t *author,
                       uint64_t seq)
{
	bool found;
	size_t i = sync_find(a->peer, a->n, sizeof(*a->peer), author, &found);
	int rc;
	if (!found) {
		uint64_t stood = implicit_seq(a, sync_lvec_of(s, a->id), author);
		if (seq <= stood)
			return 0;
		if ((rc = peer_insert(s, a, i, author)))
			return rc;
		a->peer[i].seq = stood;
	}
	struct sync_pfeed *f = &a->peer[i];
	if (seq <= f->seq)
		return 0;
	uint64_t u = (uint64_t)f->unconfirmed + (seq - f->seq);
	/* Past 2^32 - 1 only announced records a Graft takes back less: the
	 * next exchange finds the rest. */
	f->unconfirmed = u > UINT32_MAX ? UINT32_MAX : (uint32_t)u;
	f->seq = seq;
	return 0;
}

int sync_peer_range(struct sync *s, struct sync_alliance *a, const uint8_t *prefix,
                    unsigned depth, const struct sync_entry *list, size_t n,
                    uint64_t seen_tick)
{
	const struct sync_lvec *v = sync_lvec_of(s, a->id);
	size_t lo, hi, vlo = 0, vhi = 0, i, j = 0, h, k = 0;
	struct sync_pfeed *merged;
	int rc = 0;

	sync_slice(a->peer, a->n, sizeof(*a->peer), prefix, depth, &lo, &hi);
	if (v)
		sync_slice(v->heads, v->n, sizeof(*v->heads), prefix, depth, &vlo, &vhi);
	if (!(merged = calloc(hi - lo + n + (a->base ? vhi - vlo : 0) + 1, sizeof(*merged))))
		return -ENOMEM;
	/* Every feed in our entries, the statement or (based: a feed without
	 * an entry stands for our head) our heads, at what the statement says
	 * (0 where it lists none). */
	for (i = lo, h = vlo; i < hi || j < n || (a->base && h < vhi);) {
		const uint8_t *key = NULL;
		if (i < hi)
			key = a->peer[i].author;
		if (j < n && (!key || memcmp(list[j].author, key, 32) < 0))
			key = list[j].author;
		if (a->base && h < vhi && (!key || memcmp(v->heads[h].author, key, 32) < 0))
			key = v->heads[h].author;
		/* our head of it: advance h to the key */
		while (h < vhi && memcmp(v->heads[h].author, key, 32) < 0)
			h++;
		uint64_t ours = h < vhi && !memcmp(v->heads[h].author, key, 32) ? v->heads[h].seq : 0;
		struct sync_pfeed f;
		uint64_t said = 0;
		if (i < hi && !memcmp(a->peer[i].author, key, 32)) {
			f = a->peer[i++];
		} else {
			memset(&f, 0, sizeof(f));
			memcpy(f.author, key, 32);
			f.seq = a->base ? ours : 0;
		}
		if (j < n && !memcmp(list[j].author, key, 32))
			said = list[j++].seq;
		if (h < vhi && !memcmp(v->heads[h].author, key, 32))
			h++;
		decide(&f, said, SYNC_LEARN_EXACT, seen_tick);
		if (!entry_implicit(a, &f, ours))
			merged[k++] = f;
	}
	size_t need = a->n - (hi - lo) + k;
	if (s->n_peer_feeds - (hi - lo) + k > SYNC_PEER_FEEDS_MAX) {
		rc = SYNC_E_LIMIT;
		goto out;
	}
	if ((rc = peer_reserve(a, need)))
		goto out;
	if (a->n > hi && lo + k != hi)
		memmove(&a->peer[lo + k], &a->peer[hi], (a->n - hi) * sizeof(*a->peer));
	if (k)
		memcpy(&a->peer[lo], merged, k * sizeof(*merged));
	s->n_peer_feeds = s->n_peer_feeds - (hi - lo) + k;
	a->n = need;
	for (i = lo; !rc && i < lo + k; i++)
		rc = after(s, a, v, &a->peer[i]);
	/* Unbased, feeds dropped from the range (the peer holds none): we may
	 * be ahead.  (Based, each such feed of ours kept an entry at 0.) */
	if (!rc && a->synced && v && !a->base) {
		for (h = vlo; !rc && h < vhi; h++) {
			bool found;
			sync_find(a->peer + lo, k, sizeof(*a->peer), v->heads[h].author, &found);
			if (!found && !sync_diverged_find(s, a->id, v->heads[h].author))
				rc = sync_out_add(s, a, v, v->heads[h].author);
		}
	}
out:
	free(merged);
	return rc;
}

int sync_peer_sent(struct sync *s, struct sync_alliance *a, const uint8_t *author, uint64_t seq)
{
	struct sync_pfeed *f = NULL;
	int rc = learn(s, a, author, seq, SYNC_LEARN_RAISE, 0, &f);
	if (!rc && f)
		f->sent_tick = s->c.msgs_out;
	return rc;
}

int sync_peer_changes(struct sync *s, const struct sync_feed_ref *changed, size_t n)
{
	/* Before any entry is dropped (sync_peer_settle), so that a feed
	 * named twice is written down once, at its first `was`. */
	for (size_t i = 0; i < n; i++) {
		struct sync_alliance *a = sync_alliance_find(s, changed[i].alliance);
		const struct sync_lvec *v;
		bool found;
		int rc;
		if (!a || a->unshared || !a->base || !(v = sync_lvec_of(s, a->id)) ||
		    changed[i].was == sync_lvec_seq(v, changed[i].author))
			continue;
		size_t k = sync_find(a->peer, a->n, sizeof(*a->peer), changed[i].author, &found);
		if (found)
			continue;
		if ((rc = peer_insert(s, a, k, changed[i].author)))
			return rc;
		a->peer[k].seq = changed[i].was;
	}
	return 0;
}

void sync_peer_settle(struct sync *s, struct sync_alliance *a, size_t k, uint64_t ours)
{
	if (a->base && entry_implicit(a, &a->peer[k], ours))
		peer_remove(s, a, k);
}
