/*
 * sync_gossip.c - eager and lazy push of live records (PROTOCOL.md 4.8,
 * "Eager and lazy push"), after Plumtree (Leitão, Pereira and Rodrigues,
 * "Epidemic Broadcast Trees", SRDS 2007): Have, Prune, Graft, and the
 * records the peer announced that have not arrived.
 *
 * Pushing every new record to every peer that lacks it delivered each
 * record to each node about 2.2 times in a random graph of degree 4
 * (issue 13): a node's neighbours all push what they receive, each before
 * it can know the others did.  Here a node that receives a push of records
 * it already held prunes that session: the sender announces new records
 * there (Have, a few dozen bytes) instead of pushing them.  The sessions
 * left eager form a tree along which each record arrives about once; the
 * announcements repair it: a record announced that does not arrive by any
 * session within the graft delay is asked for (Graft), which makes that
 * session eager again both ways.  So a record still reaches every node of
 * a connected graph when eager links die, one graft delay later.
 *
 * The engine has no clock: the times come from the calls (now_ms), and the
 * node calls sync_timeout when the earliest sync_next_deadline of its
 * sessions has passed.  Sessions of versions 1 and 2 never see any of this.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/engine/sync_int.h"
#ifndef HOLD_MS
#define HOLD_MS 20000
#endif

static int perr(struct sync *s, int code, const char *why)
{
	snprintf(s->why, sizeof(s->why), "%s", why);
	return code;
}

/* ------------------------------------------------------------ sending */

/* Have (have) or Graft of list[0..n), in messages of at most
 * SYNC_GOSSIP_ENTRIES_MAX entries (a Graft of none when n is 0). */
static int send_entries(struct sync *s, bool have, const uint8_t *alliance,
                        const struct sync_entry *list, size_t n)
{
	size_t chunk = n < SYNC_GOSSIP_ENTRIES_MAX ? n : SYNC_GOSSIP_ENTRIES_MAX;
	Agora__Wire__Entry *ents = calloc(chunk ? chunk : 1, sizeof(*ents));
	Agora__Wire__Entry **ptrs = calloc(chunk ? chunk : 1, sizeof(*ptrs));
	int rc = 0;

	if (!ents || !ptrs) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t off = 0; !rc && (off < n || (off == 0 && !have)); off += chunk) {
		Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
		Agora__Wire__Have h = AGORA__WIRE__HAVE__INIT;
		Agora__Wire__Graft g = AGORA__WIRE__GRAFT__INIT;
		size_t k = n - off < chunk ? n - off : chunk;
		for (size_t i = 0; i < k; i++) {
			agora__wire__entry__init(&ents[i]);
			ents[i].has_author = ents[i].has_seq = true;
			ents[i].author.data = (uint8_t *)list[off + i].author;
			ents[i].author.len = 32;
			ents[i].seq = list[off + i].seq;
			ptrs[i] = &ents[i];
		}
		if (have) {
			h.has_alliance = true;
			h.alliance.data = (uint8_t *)alliance;
			h.alliance.len = 32;
			h.n_entries = k;
			h.entries = ptrs;
			m.msg_case = AGORA__WIRE__MESSAGE__MSG_HAVE;
			m.have = &h;
		} else {
			g.has_alliance = true;
			g.alliance.data = (uint8_t *)alliance;
			g.alliance.len = 32;
			g.n_entries = k;
			g.entries = ptrs;
			m.msg_case = AGORA__WIRE__MESSAGE__MSG_GRAFT;
			m.graft = &g;
		}
		rc = sync_send_msg(s, &m);
		if (!chunk)
			break;
	}
out:
	free(ents);
	free(ptrs);
	return rc;
}

int sync_send_have(struct sync *s, const struct sync_alliance *a, const struct sync_entry *list,
                   size_t n)
{
	return n ? send_entries(s, true, a->id, list, n) : 0;
}

/* ------------------------------------------------- announced, missing */

static void missing_remove(struct sync *s, struct sync_alliance *a, size_t i)
{
	if (i + 1 < a->n_miss)
		memmove(&a->miss[i], &a->miss[i + 1], (a->n_miss - i - 1) * sizeof(*a->miss));
	a->n_miss--;
	s->n_missing--;
}

void sync_gossip_arrived(struct sync *s, struct sync_alliance *a, const uint8_t *author,
                         uint64_t head)
{
	bool found;
	size_t i = sync_find(a->miss, a->n_miss, sizeof(*a->miss), author, &found);
	if (found && a->miss[i].seq <= head)
		missing_remove(s, a, i);
}

void sync_gossip_drop(struct sync *s, struct sync_alliance *a)
{
	s->n_missing -= a->n_miss;
	free(a->miss);
	a->miss = NULL;
	a->n_miss = a->cap_miss = 0;
	a->overflow_due = 0;
}

/*
 * Merge add[0..n) (sorted by author, distinct, seq >= 1, all due at `due`)
 * into a's missing list.  An author already there keeps its time (the
 * first announcement starts it) and takes the higher seq.  New ones past
 * SYNC_MISSING_MAX over the session are not kept one by one: the alliance
 * then opens an exchange at `due`.  O(listed + n).
 */
static int missing_merge(struct sync *s, struct sync_alliance *a, struct sync_missing *add,
                         size_t n, uint64_t due)
{
	size_t i = 0, taken = 0;
	bool overflow = false;

	for (size_t j = 0; j < n; j++) {   /* seq 0 below: not inserted */
		while (i < a->n_miss && memcmp(a->miss[i].author, add[j].author, 32) < 0)
			i++;
		if (i < a->n_miss && !memcmp(a->miss[i].author, add[j].author, 32)) {
			if (add[j].seq > a->miss[i].seq)
				a->miss[i].seq = add[j].seq;
			add[j].seq = 0;
		} else if (s->n_missing + taken >= SYNC_MISSING_MAX) {
			add[j].seq = 0;
			overflow = true;
		} else {
			taken++;
		}
	}
	if (overflow && !a->overflow_due)
		a->overflow_due = due ? due : 1;
	if (overflow && a->overflow_due < s->next_due)
		s->next_due = a->overflow_due;
	if (!taken)
		return 0;
	if (a->n_miss + taken > a->cap_miss) {
		size_t cap = a->cap_miss ? a->cap_miss : 16;
		while (cap < a->n_miss + taken)
			cap *= 2;
		struct sync_missing *p = realloc(a->miss, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		a->miss = p;
		a->cap_miss = cap;
	}
	/* From the back: both lists sorted, the new ones distinct from the old. */
	size_t k = a->n_miss + taken, j = n;
	i = a->n_miss;
	while (j > 0) {
		if (!add[j - 1].seq) {
			j--;
			continue;
		}
		while (i > 0 && memcmp(a->miss[i - 1].author, add[j - 1].author, 32) > 0)
			a->miss[--k] = a->miss[--i];
		a->miss[--k] = add[--j];
	}
	a->n_miss += taken;
	s->n_missing += taken;
	if (due < s->next_due)
		s->next_due = due;
	return 0;
}

/* ---------------------------------------------------------- receiving */

/*
 * The alliance a Have, Prune or Graft names: *out NULL if it has left the
 * session (the message crossed its leaving: ignored).  One the session
 * never carried is a protocol violation: each of the three answers a
 * message of ours about that alliance (Records, Have) or is sent after
 * one, so an honest peer never names another.
 */
static int gossip_alliance(struct sync *s, const char *what, const ProtobufCBinaryData *id,
                           struct sync_alliance **out)
{
	struct sync_alliance *a = sync_alliance_find(s, id->data);
	if (!a) {
		snprintf(s->why, sizeof(s->why), "%s names an alliance this session does not carry",
		         what);
		return SYNC_E_PROTOCOL;
	}
	*out = a->unshared ? NULL : a;
	return 0;
}

/* Entries of a Have (head: seq >= 1) or a Graft: 32-byte authors, a seq,
 * authors strictly increasing. */
static int entries_ok(struct sync *s, Agora__Wire__Entry *const *e, size_t n, bool head)
{
	for (size_t i = 0; i < n; i++) {
		if (!e[i]->has_author || e[i]->author.len != 32 || !e[i]->has_seq ||
		    (head && e[i]->seq == 0))
			return perr(s, SYNC_E_PROTOCOL, head ? "Have entry without a 32-byte author "
			            "and a seq >= 1" : "Graft entry without a 32-byte author and a seq");
		if (i && memcmp(e[i - 1]->author.data, e[i]->author.data, 32) >= 0)
			return perr(s, SYNC_E_PROTOCOL, head ? "Have entries not strictly increasing" :
			            "Graft entries not strictly increasing");
	}
	return 0;
}

int sync_on_have(struct sync *s, const Agora__Wire__Have *h)
{
	struct sync_alliance *a;
	struct sync_missing *add = NULL;
	size_t n_add = 0;
	int rc;

	if (!h->has_alliance || h->alliance.len != 32 || h->n_entries == 0)
		return perr(s, SYNC_E_PROTOCOL, "Have without a 32-byte alliance or entries");
	if ((rc = entries_ok(s, h->entries, h->n_entries, true)))
		return rc;
	if ((rc = gossip_alliance(s, "Have", &h->alliance, &a)) || !a)
		return rc;
	const struct sync_lvec *v = sync_lvec_of(s, a->id);
	uint64_t due = s->now_ms + s->graft_ms;
	for (size_t i = 0; i < h->n_entries; i++) {
		const uint8_t *author = h->entries[i]->author.data;
		uint64_t seq = h->entries[i]->seq;
		/* The peer holds them: never push them to it. */
		if ((rc = sync_peer_learn(s, a, author, seq, SYNC_LEARN_RAISE, 0)))
			goto out;
		if (seq <= sync_lvec_seq(v, author) || sync_is_diverged(s, a->id, author))
			continue;
		if (!add && !(add = malloc(h->n_entries * sizeof(*add)))) {
			rc = -ENOMEM;
			goto out;
		}
		memcpy(add[n_add].author, author, 32);
		add[n_add].seq = seq;
		add[n_add++].due_ms = due;
	}
	rc = missing_merge(s, a, add, n_add, due);
out:
	free(add);
	return rc;
}

int sync_on_prune(struct sync *s, const Agora__Wire__Prune *p)
{
	struct sync_alliance *a;
	int rc;
	if (!p->has_alliance || p->alliance.len != 32)
		return perr(s, SYNC_E_PROTOCOL, "Prune without a 32-byte alliance");
	if ((rc = gossip_alliance(s, "Prune", &p->alliance, &a)))
		return rc;
	if (a && !s->eager_only) {
		a->lazy = true;
		a->prune_ms = s->now_ms;
	}
	return 0;
}

int sync_on_graft(struct sync *s, const Agora__Wire__Graft *g)
{
	struct sync_alliance *a;
	int rc;
	if (!g->has_alliance || g->alliance.len != 32)
		return perr(s, SYNC_E_PROTOCOL, "Graft without a 32-byte alliance");
	if ((rc = entries_ok(s, g->entries, g->n_entries, false)))
		return rc;
	if ((rc = gossip_alliance(s, "Graft", &g->alliance, &a)) || !a)
		return rc;
	a->lazy = false;
	for (size_t i = 0; i < g->n_entries; i++)
		if ((rc = sync_peer_graft(s, a, g->entries[i]->author.data, g->entries[i]->seq)))
			return rc;
	return 0;
}

/* ------------------------------------------------------- node's calls */

int sync_duplicate(struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES], uint64_t now_ms)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Prune p = AGORA__WIRE__PRUNE__INIT;
	struct sync_alliance *a;
	int rc;

	if (s->state != SYNC_STATE_OPEN || s->version < 3 || s->eager_only)
		return 0;
	/* Before our exchange ended, records are the peer's catch-up; once
	 * lazy, what still comes is catch-up or was on its way (PROTOCOL.md
	 * 4.8), unless our Prune crossed the peer's Graft: then say it again,
	 * now and then. */
	if (!(a = sync_alliance_find(s, alliance)) || a->unshared || !a->synced)
		return 0;
	if (a->lazy && now_ms - a->prune_ms < SYNC_PRUNE_AGAIN_MS)
		return 0;
	s->now_ms = now_ms;
	p.has_alliance = true;
	p.alliance.data = a->id;
	p.alliance.len = 32;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_PRUNE;
	m.prune = &p;
	if ((rc = sync_send_msg(s, &m)))
		return rc;
	a->lazy = true;
	a->prune_ms = now_ms;
	return 0;
}

uint64_t sync_next_deadline(const struct sync *s)
{
	return s->state == SYNC_STATE_OPEN ? s->next_due : UINT64_MAX;
}

/* Graft what is due in a (our heads of those feeds), forget what arrived;
 * *next gets the earliest time left. */
static int graft_due(struct sync *s, struct sync_alliance *a, uint64_t now, uint64_t *next)
{
	const struct sync_lvec *v = sync_lvec_of(s, a->id);
	struct sync_entry *list = NULL;
	size_t k = 0, n = 0;
	int rc = 0;

	for (size_t i = 0; i < a->n_miss; i++) {
		const struct sync_missing *m = &a->miss[i];
		uint64_t ours = sync_lvec_seq(v, m->author);
		if (ours >= m->seq || sync_is_diverged(s, a->id, m->author))
			continue;   /* arrived (or never to be taken from it) */
		if (m->due_ms > now) {
			if (m->due_ms < *next)
				*next = m->due_ms;
			a->miss[k++] = *m;
			continue;
		}
		if (!list && !(list = malloc(a->n_miss * sizeof(*list)))) {
			rc = -ENOMEM;
			goto out;
		}
		memcpy(list[n].author, m->author, 32);
		list[n++].seq = ours;
	}
	s->n_missing -= a->n_miss - k;
	a->n_miss = k;
	if (n) {
		/* The tree lost its way to us: take this link back, both ways. */
		a->lazy = false;
		rc = send_entries(s, false, a->id, list, n);
	}
out:
	free(list);
	return rc;
}

int sync_timeout(struct sync *s, uint64_t now_ms)
{
	uint64_t next = UINT64_MAX, before = s->c.msgs_out;
	int rc;

	if (s->state != SYNC_STATE_OPEN || now_ms < s->next_due)
		return 0;
	s->now_ms = now_ms;
	for (size_t i = 0; i < s->n_al; i++) {
		struct sync_alliance *a = &s->al[i];
		if (a->unshared)
			continue;
		if (a->n_miss && (rc = graft_due(s, a, now_ms, &next)))
			return rc;
		if (!a->overflow_due)
			continue;
		if (a->overflow_due > now_ms) {
			if (a->overflow_due < next)
				next = a->overflow_due;
			continue;
		}
		/* More was announced than we keep track of: let an exchange
		 * find it (the peer streams what we lack, whatever its mode).
		 * One of ours under way may have compared before: after it. */
		if (a->ex[0].active) {
			a->overflow_due = now_ms + (s->graft_ms ? s->graft_ms : 1);
			if (a->overflow_due < next)
				next = a->overflow_due;
			continue;
		}
		a->overflow_due = 0;
		if ((rc = sync_send_digest(s, a)))
			return rc;
	}
	s->next_due = next;
	return s->c.msgs_out != before;
}

void sync_set_graft_ms(struct sync *s, uint32_t ms)
{
	s->graft_ms = ms;
}

bool sync_lazy(const struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES])
{
	const struct sync_alliance *a = sync_alliance_find(s, alliance);
	return a && !a->unshared && a->lazy;
}
