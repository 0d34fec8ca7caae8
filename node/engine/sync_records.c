/*
 * sync_records.c - the messages that carry and answer a stream of records
 * (PROTOCOL.md 4.4): Records, Ack, ForkProof, Pong, HeadCheck, and the
 * feeds found diverged.  What is streamed, and when, is sync_feeds.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/engine/sync_int.h"

/* ------------------------------------------------------------ receive */

static int bye_diverged(struct sync *s, const struct sync_diverged *d)
{
	struct sync_bye b;
	memset(&b, 0, sizeof(b));
	b.code = SYNC_BYE_FEED_DIVERGED;
	snprintf(b.reason, sizeof(b.reason), "your copy of a feed differs from ours at seq %llu "
	         "(its author forked it): we do not take it from you",
	         (unsigned long long)d->seq);
	b.seq = d->seq;
	b.has_alliance = b.has_author = true;
	memcpy(b.alliance, d->alliance, 32);
	memcpy(b.author, d->author, 32);
	snprintf(s->why, sizeof(s->why), "%s", "peer kept sending a feed that diverged from ours");
	(void)sync_send_bye_full(s, &b);
	return SYNC_E_DIVERGED;
}

int sync_on_records(struct sync *s, const Agora__Wire__Records *r)
{
	struct sync_alliance *a;
	const uint8_t **envs;
	size_t *lens;
	int rc;

	if (!r->has_alliance || r->alliance.len != 32 || !r->has_author || r->author.len != 32 ||
	    !r->has_first_seq || r->first_seq == 0 || r->n_envelopes == 0) {
		snprintf(s->why, sizeof(s->why), "%s", "Records without alliance, author, first_seq "
		         ">= 1 or envelopes");
		return SYNC_E_PROTOCOL;
	}
	if (r->first_seq > UINT64_MAX - r->n_envelopes) {
		snprintf(s->why, sizeof(s->why), "%s", "Records past seq 2^64 - 1");
		return SYNC_E_LIMIT;
	}
	if (!(a = sync_alliance_find(s, r->alliance.data))) {
		if (!sync_allowed(s, r->alliance.data))
			return 0;   /* not carried on this session: dropped unseen */
		/* An alliance the peer founded or learnt after Hello: it holds it,
		 * so push it our records there too (what it already has comes
		 * back as known, and is never sent twice on this session). */
		if ((rc = sync_alliance_add(s, r->alliance.data, &a)))
			return rc;
		a->synced = true;
		if ((rc = sync_out_alliance(s, a)))
			return rc;
	}
	if (a->unshared)
		return 0;
	const struct sync_diverged *d = sync_diverged_find(s, a->id, r->author.data);
	if (d)
		return d->armed ? bye_diverged(s, d) : 0;   /* else sent before it knew */
	s->c.records_in += r->n_envelopes;
	/* The peer holds them: never send them back. */
	if ((rc = sync_peer_learn(s, a, r->author.data, r->first_seq + r->n_envelopes - 1,
	                          SYNC_LEARN_RAISE, 0)))
		return rc;
	envs = calloc(r->n_envelopes, sizeof(*envs));
	lens = calloc(r->n_envelopes, sizeof(*lens));
	if (!envs || !lens) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < r->n_envelopes; i++) {
		envs[i] = r->envelopes[i].data;
		lens[i] = r->envelopes[i].len;
	}
	rc = s->io.records(s->io.ctx, r->alliance.data, r->author.data, r->first_seq, envs, lens,
	                   r->n_envelopes);
out:
	free(envs);
	free(lens);
	return rc;
}

int sync_on_ack(struct sync *s, const Agora__Wire__Ack *k)
{
	struct sync_alliance *a;
	if (!k->has_alliance || k->alliance.len != 32 || !k->has_author || k->author.len != 32 ||
	    !k->has_seq) {
		snprintf(s->why, sizeof(s->why), "%s", "Ack without alliance, author or seq");
		return SYNC_E_PROTOCOL;
	}
	if (!(a = sync_alliance_find(s, k->alliance.data)) || a->unshared)
		return 0;
	return sync_peer_learn(s, a, k->author.data, k->seq, SYNC_LEARN_ACK, 0);
}

int sync_on_fork(struct sync *s, const Agora__Wire__ForkProof *f)
{
	const struct sync_alliance *a;
	if (!f->has_alliance || f->alliance.len != 32 || !f->has_author || f->author.len != 32 ||
	    !f->has_seq || f->seq == 0 || !f->has_env_a || !f->has_env_b || !f->env_a.len ||
	    !f->env_b.len) {
		snprintf(s->why, sizeof(s->why), "%s", "ForkProof without its five fields");
		return SYNC_E_PROTOCOL;
	}
	a = sync_alliance_find(s, f->alliance.data);
	if (!s->io.fork || !a || a->unshared)
		return 0;
	return s->io.fork(s->io.ctx, f->alliance.data, f->author.data, f->seq, f->env_a.data,
	                  f->env_a.len, f->env_b.data, f->env_b.len);
}

void sync_on_pong(struct sync *s, uint64_t nonce)
{
	/* Barrier Pings have the top bit set and rising low bits; the peer
	 * answers Pings in order, so this one's Pong covers the earlier ones. */
	if (!(nonce >> 63))
		return;
	for (size_t i = 0; i < s->n_div; i++)
		if (s->div[i].barrier <= nonce)
			s->div[i].armed = true;
}

/* -------------------------------------------------- records that fail */

int sync_send_ack(struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                  const uint8_t author[SYNC_KEY_BYTES], uint64_t seq)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Ack k = AGORA__WIRE__ACK__INIT;
	k.has_alliance = k.has_author = k.has_seq = true;
	k.alliance.data = (uint8_t *)alliance;
	k.alliance.len = 32;
	k.author.data = (uint8_t *)author;
	k.author.len = 32;
	k.seq = seq;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_ACK;
	m.ack = &k;
	return sync_send_msg(s, &m);
}

int sync_push_record(struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                     const uint8_t author[SYNC_KEY_BYTES], uint64_t seq)
{
	const struct sync_alliance *a = sync_alliance_find(s, alliance);
	const uint8_t *env;
	size_t len;
	int rc;

	if (s->state != SYNC_STATE_OPEN || !a || a->unshared || seq == 0)
		return 0;
	if ((rc = s->io.read(s->io.ctx, alliance, author, seq, &env, &len)))
		return rc;
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Records r = AGORA__WIRE__RECORDS__INIT;
	ProtobufCBinaryData bin = { len, (uint8_t *)env };
	r.has_alliance = r.has_author = r.has_first_seq = true;
	r.alliance.data = (uint8_t *)alliance;
	r.alliance.len = 32;
	r.author.data = (uint8_t *)author;
	r.author.len = 32;
	r.first_seq = seq;
	r.n_envelopes = 1;
	r.envelopes = &bin;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_RECORDS;
	m.records = &r;
	if ((rc = sync_send_msg(s, &m)))
		return rc;
	s->c.records_out++;
	return 0;
}

int sync_send_head_check(struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                         const uint8_t author[SYNC_KEY_BYTES], uint64_t seq,
                         const uint8_t id[SYNC_KEY_BYTES])
{
	const struct sync_alliance *a = sync_alliance_find(s, alliance);
	if (s->state != SYNC_STATE_OPEN || s->version < 2)
		return SYNC_E_STATE;
	if (!a || a->unshared || seq == 0)
		return 0;
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__HeadCheck c = AGORA__WIRE__HEAD_CHECK__INIT;
	c.has_alliance = c.has_author = c.has_seq = c.has_id = true;
	c.alliance.data = (uint8_t *)alliance;
	c.alliance.len = 32;
	c.author.data = (uint8_t *)author;
	c.author.len = 32;
	c.seq = seq;
	c.id.data = (uint8_t *)id;
	c.id.len = 32;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_HEAD_CHECK;
	m.head_check = &c;
	return sync_send_msg(s, &m);
}

int sync_on_head_check(struct sync *s, const Agora__Wire__HeadCheck *c)
{
	const struct sync_alliance *a;
	const uint8_t *env;
	uint8_t id[32];
	size_t len;

	if (!c->has_alliance || c->alliance.len != 32 || !c->has_author || c->author.len != 32 ||
	    !c->has_seq || c->seq == 0 || !c->has_id || c->id.len != 32)
	{
		snprintf(s->why, sizeof(s->why), "HeadCheck without alliance, author, seq >= 1 and id");
		return SYNC_E_PROTOCOL;
	}
	a = sync_alliance_find(s, c->alliance.data);
	if (!a || a->unshared)
		return 0;   /* not carried: ignored, as Ack and ForkProof */
	if (s->io.read(s->io.ctx, c->alliance.data, c->author.data, c->seq, &env, &len))
		return 0;   /* we do not hold that seq: nothing to compare */
	crypto_generichash(id, sizeof(id), env, len, NULL, 0);
	if (sodium_memcmp(id, c->id.data, 32) == 0)
		return 0;
	/* Another record there: ours goes back, and the two are fork evidence
	 * (or, for the sender's own feed, its own-feed conflict). */
	return sync_push_record(s, c->alliance.data, c->author.data, c->seq);
}

int sync_feed_diverged(struct sync *s, const uint8_t alliance[SYNC_KEY_BYTES],
                       const uint8_t author[SYNC_KEY_BYTES], uint64_t seq)
{
	const struct sync_alliance *a = sync_alliance_find(s, alliance);
	if (s->state != SYNC_STATE_OPEN)
		return SYNC_E_STATE;
	if (!a || a->unshared || sync_diverged_find(s, alliance, author))
		return 0;
	if (s->n_div >= SYNC_DIVERGED_MAX)
		return SYNC_E_LIMIT;
	struct sync_diverged *d = realloc(s->div, (s->n_div + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	s->div = d;
	d = &s->div[s->n_div++];
	memset(d, 0, sizeof(*d));
	memcpy(d->alliance, alliance, 32);
	memcpy(d->author, author, 32);
	d->seq = seq;
	d->barrier = UINT64_C(1) << 63 | ++s->barrier_seq;
	/* Records of the feed the peer sent before it reads what the node
	 * answered (an Ack, our own record) arrive before this Ping's Pong. */
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Ping p = AGORA__WIRE__PING__INIT;
	p.has_nonce = true;
	p.nonce = d->barrier;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_PING;
	m.ping = &p;
	return sync_send_msg(s, &m);
}

/* ------------------------------------------------------ local changes */
