/*
 * sync_feeds.c - the records the engine streams (PROTOCOL.md 4.4): the
 * out-feed list, what to stream next, local changes, lag.  What the peer
 * holds of each feed is in sync_peer.c; the messages that answer a stream
 * (Records, Ack, ForkProof, HeadCheck) are in sync_records.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/engine/sync_int.h"

/* --------------------------------------------------------- out list */

static int outfeed_cmp(const void *x, const void *y)
{
	const struct sync_outfeed *a = x, *b = y;
	if (a->prio != b->prio)
		return a->prio - b->prio;
	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	return memcmp(a->author, b->author, 32);
}

/*
 * The out list is kept sorted by (prio, alliance, author) up to n_sorted;
 * feeds found lacking are appended after it and merged in (sorted, without
 * duplicates) when the tail grows as long as the sorted part, and before
 * streaming: adding k feeds costs O(k log k), not O(k * list).
 */
static void out_normalize(struct sync *s)
{
	size_t k = 0;
	if (s->n_out_sorted == s->n_out)
		return;
	qsort(s->out, s->n_out, sizeof(*s->out), outfeed_cmp);
	for (size_t i = 0; i < s->n_out; i++)
		if (!k || outfeed_cmp(&s->out[k - 1], &s->out[i]) != 0)
			s->out[k++] = s->out[i];
	s->n_out = s->n_out_sorted = k;
}

const struct sync_diverged *sync_diverged_find(const struct sync *s, const uint8_t *alliance,
                                               const uint8_t *author)
{
	for (size_t i = 0; i < s->n_div; i++)
		if (!memcmp(s->div[i].alliance, alliance, 32) && !memcmp(s->div[i].author, author, 32))
			return &s->div[i];
	return NULL;
}

bool sync_is_diverged(const struct sync *s, const uint8_t *alliance, const uint8_t *author)
{
	return sync_diverged_find(s, alliance, author) != NULL;
}

/* Streaming order (governance first, PROTOCOL.md 4.4): coordinators'
 * feeds (the charter's author is one), then the peer's own, then the rest. */
static uint8_t prio_of(const struct sync *s, const struct sync_lvec *v, const uint8_t *author)
{
	bool found;
	size_t i = sync_find(v->heads, v->n, sizeof(*v->heads), author, &found);
	if ((found && v->heads[i].coordinator) ||
	    (v->has_founder && !memcmp(v->founder, author, 32)))
		return 0;
	return memcmp(author, s->peer_key, 32) ? 2 : 1;
}

int sync_out_add(struct sync *s, const struct sync_alliance *a, const struct sync_lvec *v,
                 const uint8_t *author)
{
	if (s->n_out == s->cap_out) {
		size_t cap = s->cap_out ? s->cap_out * 2 : 64;
		struct sync_outfeed *t = realloc(s->out, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		s->out = t;
		s->cap_out = cap;
	}
	struct sync_outfeed *t = &s->out[s->n_out++];
	t->prio = prio_of(s, v, author);
	t->a = (uint32_t)(a - s->al);
	memcpy(t->author, author, 32);
	if (s->n_out - s->n_out_sorted > (s->n_out_sorted > 64 ? s->n_out_sorted : 64))
		out_normalize(s);
	return 0;
}

/* Is this feed in the out list (being streamed)?  Sorts the list first. */
static bool out_queued(struct sync *s, const struct sync_alliance *a,
                       const struct sync_lvec *v, const uint8_t *author)
{
	struct sync_outfeed key;
	size_t lo = 0, hi;
	if (!s->n_out)
		return false;
	out_normalize(s);
	key.prio = prio_of(s, v, author);
	key.a = (uint32_t)(a - s->al);
	memcpy(key.author, author, 32);
	for (hi = s->n_out; lo < hi;) {
		size_t m = lo + (hi - lo) / 2;
		int c = outfeed_cmp(&s->out[m], &key);
		if (c == 0)
			return true;
		if (c < 0)
			lo = m + 1;
		else
			hi = m;
	}
	return false;
}

int sync_out_alliance(struct sync *s, struct sync_alliance *a)
{
	const struct sync_lvec *v = sync_lvec_of(s, a->id);
	size_t j = 0;
	int rc;

	if (!v || !a->synced || a->unshared)
		return 0;
	for (size_t i = 0; i < v->n; i++) {   /* both sorted by author */
		const struct sync_head *h = &v->heads[i];
		while (j < a->n && memcmp(a->peer[j].author, h->author, 32) < 0)
			j++;
		uint64_t theirs = j < a->n && !memcmp(a->peer[j].author, h->author, 32) ?
		                  a->peer[j].seq : a->base ? h->seq : 0;
		if (h->seq > theirs && !sync_diverged_find(s, a->id, h->author) &&
		    (rc = sync_out_add(s, a, v, h->author)))
			return rc;
	}
	return 0;
}

void sync_out_drop_alliance(struct sync *s, const struct sync_alliance *a)
{
	uint32_t ai = (uint32_t)(a - s->al);
	size_t k = 0, sorted = 0;
	for (size_t i = 0; i < s->n_out; i++) {
		if (s->out[i].a == ai)
			continue;
		if (i < s->n_out_sorted)
			sorted++;
		s->out[k++] = s->out[i];
	}
	s->n_out = k;
	s->n_out_sorted = sorted;
}

/* --------------------------------------------------------- streaming */

/* Is the out entry t still worth streaming?  *have and *head are set. */
static bool out_live(const struct sync *s, const struct sync_outfeed *t, uint64_t *have,
                     uint64_t *head)
{
	const struct sync_alliance *a = &s->al[t->a];
	if (a->unshared || !a->synced || sync_diverged_find(s, a->id, t->author))
		return false;
	*have = sync_peer_get(s, a, t->author);
	*head = sync_lvec_seq(sync_lvec_of(s, a->id), t->author);
	return *head > *have;
}

bool sync_pending(const struct sync *s)
{
	uint64_t have, head;
	if (s->state != SYNC_STATE_OPEN)
		return false;
	for (size_t i = 0; i < s->n_out; i++)
		if (out_live(s, &s->out[i], &have, &head))
			return true;
	return false;
}

int sync_produce(struct sync *s, size_t budget, bool *more)
{
	size_t spent = 0, pos = 0;
	ProtobufCBinaryData *bins = NULL;
	bool later = false;   /* io.read is still fetching: stop after this message */
	int rc = 0;

	if (s->state != SYNC_STATE_OPEN)
		goto out;
	out_normalize(s);
	while (pos < s->n_out && spent < budget && !later) {
		struct sync_outfeed *t = &s->out[pos];
		struct sync_alliance *a = &s->al[t->a];
		uint64_t have, head;
		size_t n = 0, bytes = 0;

		if (!out_live(s, t, &have, &head)) {
			pos++;
			continue;
		}
		if (!bins && !(bins = calloc(SYNC_RECORDS_MAX_N, sizeof(*bins)))) {
			rc = -ENOMEM;
			goto out;
		}
		for (uint64_t seq = have + 1; seq <= head && n < SYNC_RECORDS_MAX_N &&
		     bytes < SYNC_RECORDS_BYTES; seq++) {
			const uint8_t *env;
			size_t len;
			int r = s->io.read(s->io.ctx, a->id, t->author, seq, &env, &len);
			if (r) {
				later = r == SYNC_READ_LATER;
				break;
			}
			bins[n].data = (uint8_t *)env;
			bins[n++].len = len;
			bytes += len;
		}
		if (n == 0 && later)
			break;  /* the same record, at the next call */
		if (n == 0) {   /* unreadable now: skip the feed until the next change */
			pos++;
			continue;
		}
		Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
		Agora__Wire__Records r = AGORA__WIRE__RECORDS__INIT;
		r.has_alliance = r.has_author = r.has_first_seq = true;
		r.alliance.data = a->id;
		r.alliance.len = 32;
		r.author.data = t->author;
		r.author.len = 32;
		r.first_seq = have + 1;
		r.n_envelopes = n;
		r.envelopes = bins;
		m.msg_case = AGORA__WIRE__MESSAGE__MSG_RECORDS;
		m.records = &r;
		if ((rc = sync_send_msg(s, &m)))
			goto out;
		s->c.records_out += n;
		spent += bytes;
		/* The peer will hold them (the feed stays at pos while more is
		 * left); the out list is not touched while we walk it. */
		if ((rc = sync_peer_sent(s, a, t->author, have + n)))
			goto out;
	}
out:
	if (pos) {
		if (s->n_out > pos)
			memmove(s->out, s->out + pos, (s->n_out - pos) * sizeof(*s->out));
		s->n_out -= pos;
		s->n_out_sorted = s->n_out_sorted > pos ? s->n_out_sorted - pos : 0;
	}
	free(bins);
	if (more)
		*more = sync_pending(s);
	return rc;
}

/* A lazy alliance's feeds to announce, from one sync_feeds_changed call. */
struct announce {
	uint32_t a;
	struct sync_entry e;
};

static int announce_cmp(const void *x, const void *y)
{
	const struct announce *p = x, *q = y;
	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	return memcmp(p->e.author, q->e.author, 32);
}

/* Announce list[0..n) (sorted by alliance) in one Have per alliance. */
static int announce_send(struct sync *s, struct announce *list, size_t n)
{
	struct sync_entry *e = NULL;
	int rc = 0;
	if (!n)
		return 0;
	qsort(list, n, sizeof(*list), announce_cmp);
	if (!(e = malloc(n * sizeof(*e))))
		return -ENOMEM;
	for (size_t i = 0, j; !rc && i < n; i = j) {
		struct sync_alliance *a = &s->al[list[i].a];
		size_t k = 0;
		for (j = i; j < n && list[j].a == list[i].a; j++) {
			if (k && !memcmp(e[k - 1].author, list[j].e.author, 32))
				continue;   /* named twice in the call */
			e[k++] = list[j].e;
		}
		rc = sync_send_have(s, a, e, k);
		for (size_t m = 0; !rc && m < k; m++)
			rc = sync_peer_announce(s, a, e[m].author, e[m].seq);
	}
	free(e);
	return rc;
}

int sync_feeds_changed(struct sync *s, const struct sync_feed_ref *changed, size_t n,
                       uint64_t now_ms)
{
	struct announce *ann = NULL;
	size_t n_ann = 0;
	int rc = 0;
	if (s->state != SYNC_STATE_OPEN)
		return 0;
	s->now_ms = now_ms;
	if ((rc = sync_peer_changes(s, changed, n)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct sync_alliance *a = sync_alliance_find(s, changed[i].alliance);
		const uint8_t *author = changed[i].author;
		const struct sync_lvec *v;
		bool found;
		if (!a || a->unshared || !(v = sync_lvec_of(s, a->id)))
			continue;
		uint64_t ours = sync_lvec_seq(v, author);
		if (a->n_miss)
			sync_gossip_arrived(s, a, author, ours);
		size_t k = sync_find(a->peer, a->n, sizeof(*a->peer), author, &found);
		if (a->lazy && a->synced) {
			/* Lazy: announce what the peer lacks, unless the feed is
			 * being streamed anyway (an exchange or a graft asked). */
			if (found && (rc = sync_peer_after(s, a, v, &a->peer[k], false)))
				break;
			if (ours <= (found ? a->peer[k].seq : a->base ? ours : 0) ||
			    sync_diverged_find(s, a->id, author) ||
			    out_queued(s, a, v, author))
				continue;
			if (!ann && !(ann = malloc(n * sizeof(*ann)))) {
				rc = -ENOMEM;
				break;
			}
			ann[n_ann].a = (uint32_t)(a - s->al);
			memcpy(ann[n_ann].e.author, author, 32);
			ann[n_ann++].e.seq = ours;
			continue;
		}
		if (found) {
			if ((rc = sync_peer_after(s, a, v, &a->peer[k], true)))
				break;
			sync_peer_settle(s, a, k, ours);   /* the peer may have caught up */
		} else if (!a->base && a->synced && ours && !sync_diverged_find(s, a->id, author) &&
		           (rc = sync_out_add(s, a, v, author))) {
			break;
		}
	}
	if (!rc)
		rc = announce_send(s, ann, n_ann);
	free(ann);
	return rc;
}

int sync_alliances_changed(struct sync *s, uint64_t now_ms)
{
	struct sync_alliance *a;
	int rc;
	if (s->state != SYNC_STATE_OPEN)
		return 0;
	s->now_ms = now_ms;
	/* Alliances that may no longer be carried leave the session. */
	for (size_t i = 0; i < s->n_al; i++) {
		a = &s->al[i];
		if (a->unshared || sync_allowed(s, a->id))
			continue;
		sync_exchange_clear(&a->ex[0]);
		sync_exchange_clear(&a->ex[1]);
		a->ex[0].active = a->ex[1].active = false;
		a->n_fifo = 0;
		a->unshared = true;
		a->synced = true;
		sync_out_drop_alliance(s, a);
		sync_gossip_drop(s, a);
	}
	/* An alliance that appeared after Hello: the peer may not hold it;
	 * push it from the start (records it has come back as known). */
	for (size_t i = 0; i < s->local->n; i++) {
		const uint8_t *id = s->local->v[i].alliance;
		if (sync_alliance_find(s, id) || !sync_allowed(s, id))
			continue;
		if ((rc = sync_alliance_add(s, id, &a)))
			return rc;
		a->synced = true;
		if ((rc = sync_out_alliance(s, a)))
			return rc;
	}
	return 0;
}

int sync_local_changed(struct sync *s, uint64_t now_ms)
{
	int rc;
	if (s->state != SYNC_STATE_OPEN)
		return 0;
	if ((rc = sync_alliances_changed(s, now_ms)))
		return rc;
	for (size_t ai = 0; ai < s->n_al; ai++) {
		struct sync_alliance *a = &s->al[ai];
		const struct sync_lvec *v = sync_lvec_of(s, a->id);
		if (a->unshared)
			continue;
		for (size_t i = 0; i < a->n; i++)
			if ((rc = sync_peer_after(s, a, v, &a->peer[i], true)))
				return rc;
		if ((rc = sync_out_alliance(s, a)))
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------ reading */

uint64_t sync_peer_seq(const struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                       const uint8_t author[SYNC_KEY_BYTES])
{
	const struct sync_alliance *a = sync_alliance_find(s, alliance);
	return a ? sync_peer_get(s, a, author) : 0;
}

size_t sync_peer_entries(const struct sync *s)
{
	return s->n_peer_feeds;
}

bool sync_live(const struct sync *s)
{
	if (s->state != SYNC_STATE_OPEN || sync_pending(s))
		return false;
	for (size_t i = 0; i < s->n_al; i++)
		if (!s->al[i].synced && !s->al[i].unshared)
			return false;
	return true;
}

void sync_lag(const struct sync *s, uint64_t now_ms, uint64_t *behind, uint64_t *ahead,
              struct sync_stuck *stuck, size_t max_stuck, size_t *n_stuck)
{
	uint64_t b = 0, f = 0;
	size_t ns = 0;
	for (size_t ai = 0; ai < s->n_al; ai++) {
		const struct sync_alliance *a = &s->al[ai];
		const struct sync_lvec *v = sync_lvec_of(s, a->id);
		if (a->unshared)
			continue;
		/* One walk over both lists, each sorted by author: O(F) for a
		 * status request, not a search per feed. */
		size_t nv = v ? v->n : 0, i = 0, j = 0;
		bool ahead_counts = a->synced && v;
		while (i < a->n || j < nv) {
			int c = i == a->n ? 1 : j == nv ? -1 :
			        memcmp(a->peer[i].author, v->heads[j].author, 32);
			uint64_t ours = c >= 0 ? v->heads[j].seq : 0;
			uint64_t theirs = c <= 0 ? a->peer[i].seq : a->base ? ours : 0;
			if (ours > theirs && ahead_counts)
				f += ours - theirs;
			if (c <= 0 && theirs > ours) {
				const struct sync_pfeed *p = &a->peer[i];
				b += theirs - ours;
				/* Stuck: the peer ahead and our head unchanged since then. */
				if (p->since_ms && p->seen_local == ours && now_ms > p->since_ms &&
				    now_ms - p->since_ms > SYNC_STUCK_MS && ns < max_stuck) {
					struct sync_stuck *st = &stuck[ns++];
					memcpy(st->alliance, a->id, 32);
					memcpy(st->author, p->author, 32);
					st->our_seq = ours;
					st->peer_seq = p->seq;
					st->stalled_ms = now_ms - p->since_ms;
				}
			}
			i += c <= 0;
			j += c >= 0;
		}
	}
	*behind = b;
	*ahead = f;
	if (n_stuck)
		*n_stuck = ns;
}

bool sync_owed(const struct sync *s, uint64_t now_ms)
{
	if (s->state != SYNC_STATE_OPEN)
		return false;
	for (size_t ai = 0; ai < s->n_al; ai++) {
		const struct sync_alliance *a = &s->al[ai];
		const struct sync_lvec *v = sync_lvec_of(s, a->id);
		if (a->unshared)
			continue;
		if (!a->synced)
			return true;   /* what the peer holds is not known yet */
		/* Both lists are sorted by author: one walk, O(F), as sync_lag. */
		size_t j = 0;
		for (size_t i = 0; i < a->n; i++) {
			const struct sync_pfeed *p = &a->peer[i];
			int c = 1;
			while (v && j < v->n && (c = memcmp(v->heads[j].author, p->author, 32)) < 0)
				j++;
			uint64_t ours = v && j < v->n && c == 0 ? v->heads[j].seq : 0;
			/* Stuck as sync_lag says: records we will not take (a
			 * fork, an author we refuse) do not hold anything up for
			 * longer than SYNC_STUCK_MS. */
			bool stuck = p->since_ms && p->seen_local == ours && now_ms > p->since_ms &&
			             now_ms - p->since_ms > SYNC_STUCK_MS;
			if (p->seq > ours && !stuck)
				return true;
		}
	}
	return false;
}
