/*
 * hostile_attack.c - test helper: the attacks of issue 10 (D1-D19) for
 * hostile.c, each a misbehaving peer on the real protocol
 * (hostile_wire.c).  What each sends and what its exit status means: the
 * mode list in hostile.c; what the tests assert: each *_test.sh.
 */
#define _GNU_SOURCE   /* POLLRDHUP */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "hostile.h"
#include "storage/storage.h"

#define FAR_SEQ 1000000u

/* ----------------------------------------------------- D1: floor */

int attack_floor(int port, const char *mode, const struct proto_key *key)
{
	struct hw_conn c;
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	hostile_member_session(port, &c, key);
	if (!strcmp(mode, "floorvector")) {
		/* "I hold your own feed up to seq 10^6", with nothing signed. */
		Agora__Wire__Ranges r = AGORA__WIRE__RANGES__INIT;
		Agora__Wire__Vector v = AGORA__WIRE__VECTOR__INIT, *vp = &v;
		Agora__Wire__Entry e = AGORA__WIRE__ENTRY__INIT, *ep = &e;
		e.has_author = e.has_seq = true;
		e.author.data = c.remote;
		e.author.len = 32;
		e.seq = FAR_SEQ;
		v.has_prefix = v.has_depth = v.has_reply = true;
		v.prefix.data = c.remote;   /* length 0: the whole key space */
		v.prefix.len = 0;
		v.depth = 0;
		v.reply = true;
		v.n_entries = 1;
		v.entries = &ep;
		r.has_alliance = true;
		r.alliance.data = c.alliance;
		r.alliance.len = 32;
		r.n_vectors = 1;
		r.vectors = &vp;
		m.msg_case = AGORA__WIRE__MESSAGE__MSG_RANGES;
		m.ranges = &r;
		hw_send_msg(&c, &m);
	} else {
		/* A Records header naming the node's own feed at seq 10^6; the
		 * record inside is ours, with a broken signature. */
		size_t len;
		uint8_t *env = hw_record(key, c.alliance, 1, NULL, hw_wall_ms(), "Hostile", &len);
		env[len - 1] ^= 0x01;
		hw_send_records(&c, c.alliance, c.remote, FAR_SEQ, &env, &len, 1);
		free(env);
	}
	int rc = hw_barrier(&c, 1, 20000, NULL);
	printf("%s sent; the node %s\n", mode, rc ? "closed the session" : "answered our Ping");
	hw_close(&c);
	return 0;
}

/* ------------------------------------------------- D2: Ranges */

int attack_ranges(int port, const struct proto_key *key, size_t n, double ratio)
{
	struct hw_conn c;
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Ranges r = AGORA__WIRE__RANGES__INIT;
	Agora__Wire__Range root = AGORA__WIRE__RANGE__INIT;
	Agora__Wire__Range **list = calloc(n, sizeof(*list));
	uint8_t dig[32];

	hostile_member_session(port, &c, key);
	randombytes_buf(dig, sizeof(dig));   /* differs from the node's: descend */
	root.has_prefix = root.has_depth = root.has_digest = root.has_count = true;
	root.prefix.data = dig;
	root.prefix.len = 0;
	root.depth = 0;
	root.digest.data = dig;
	root.digest.len = 32;
	root.count = 1;
	for (size_t i = 0; i < n; i++)
		list[i] = &root;
	r.has_alliance = true;
	r.alliance.data = c.alliance;
	r.alliance.len = 32;
	r.n_ranges = n;
	r.ranges = list;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_RANGES;
	m.ranges = &r;
	uint64_t out0 = c.bytes_out, in0 = c.bytes_in, t0 = hw_now_ms();
	hw_send_msg(&c, &m);
	int b = hw_barrier(&c, 2, 300000, NULL);
	uint64_t sent = c.bytes_out - out0, got = c.bytes_in - in0;
	printf("sent %llu bytes (%zu ranges); the node answered %llu bytes in %llu ms (%s)\n",
	       (unsigned long long)sent, n, (unsigned long long)got,
	       (unsigned long long)(hw_now_ms() - t0), b ? "then closed" : "Pong received");
	free(list);
	hw_close(&c);
	return got > ratio * (double)sent + 65536 ? 1 : 0;
}

/* --------------------------------------------------- D3: Pings */

int attack_pings(int port, const struct proto_key *key, size_t mib)
{
	struct hw_conn c;
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Ping p = AGORA__WIRE__PING__INIT;
	uint8_t one[32];
	size_t want = mib << 20, off = 0, cap = 1u << 20;
	uint8_t *stream = malloc(cap);

	hostile_member_session(port, &c, key);
	p.has_nonce = true;
	p.nonce = 1;   /* an 8-byte app message: as many Pongs per byte as can be */
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_PING;
	m.ping = &p;
	size_t len = agora__wire__message__pack(&m, one + 4);
	one[0] = one[1] = 0;
	one[2] = (uint8_t)(len >> 8);
	one[3] = (uint8_t)len;
	while (off + len + 4 <= cap) {
		memcpy(stream + off, one, len + 4);
		off += len + 4;
	}
	size_t sent = 0;
	while (sent < want && !c.closed) {
		hw_send_packed(&c, stream, off);
		sent += off;
	}
	printf("sent %zu bytes of Pings (%zu Pings) without reading; %s\n", sent,
	       sent / (len + 4), c.closed ? "the node hung up" : "the node took them all");
	fflush(stdout);
	/* Hold the connection, unread, until told to stop or the node hangs up. */
	while (!hostile_stop_requested()) {
		struct pollfd pf = { .fd = c.fd, .events = POLLRDHUP };
		if (poll(&pf, 1, 100) > 0 && (pf.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
			printf("the node closed the connection\n");
			break;
		}
	}
	free(stream);
	hw_close(&c);
	return 0;
}

/* ------------------------------------------- D4: parse cost */

/* A Message whose Ranges holds `n` empty Range entries: 2 bytes each on
 * the wire, a whole struct each once unpacked. */
static uint8_t *empty_ranges_message(size_t total, size_t *len)
{
	size_t body = (total - 6) & ~(size_t)1, off = 0;
	uint8_t *b = malloc(total);
	b[off++] = 0x1a;   /* Message.ranges, length-delimited */
	for (size_t v = body; ; v >>= 7) {   /* varint length */
		if (v < 0x80) {
			b[off++] = (uint8_t)v;
			break;
		}
		b[off++] = (uint8_t)(v | 0x80);
	}
	for (size_t i = 0; i < body; i += 2) {
		b[off++] = 0x12;   /* Ranges.ranges */
		b[off++] = 0x00;   /* empty Range */
	}
	*len = off;
	return b;
}

int attack_bigparse(int port, const struct proto_key *key, bool outsider)
{
	struct hw_conn c;
	size_t len;
	uint8_t *msg = empty_ranges_message(8u << 20, &len);

	if (outsider) {
		if (hw_connect(&c, port, key)) {
			printf("the node refused the handshake of an unknown key\n");
			free(msg);
			return 0;
		}
	} else {
		hostile_member_session(port, &c, key);
	}
	hw_send_app(&c, msg, len);
	printf("sent one %zu-byte message (%zu empty Range entries) as %s\n", len, (len - 5) / 2,
	       outsider ? "an unknown key, first message" : "a member, after Hello");
	fflush(stdout);
	int closed = hw_await_close(&c, 20000);
	printf("the node %s\n", closed ? "kept the connection for 20 s" : "closed the connection");
	free(msg);
	hw_close(&c);
	return 0;
}

/* An invite code (PROTOCOL.md 6.7) redeemed by a fresh key. */
int attack_redeem(int port, const char *code)
{
	uint8_t b[256];
	size_t len;
	struct hw_conn c;
	struct proto_key *key;
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Redeem r = AGORA__WIRE__REDEEM__INIT;
	if (strncmp(code, "agora1-", 7) ||
	    sodium_base642bin(b, sizeof(b), code + 7, strlen(code + 7), NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) || len < 97) {
		fprintf(stderr, "hostile: not an invite code\n");
		return 2;
	}
	proto_key_generate(&key);
	if (hw_connect(&c, port, key)) {
		proto_key_free(key);
		return 1;
	}
	r.has_alliance = r.has_token = true;
	r.alliance.data = b + 1;
	r.alliance.len = 32;
	r.token.data = b + 33;
	r.token.len = 32;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_REDEEM;
	m.redeem = &r;
	hw_send_msg(&c, &m);
	hw_send_hello(&c, key);
	int rc = hw_read_hello(&c, 10000) ? 1 : 0;
	printf("redeemed the invite: %s\n", rc ? "no session" : "session open");
	hw_close(&c);
	proto_key_free(key);
	return rc;
}

int attack_outsider(int port, int secs)
{
	struct hw_conn c;
	struct proto_key *key;
	proto_key_generate(&key);
	uint64_t t0 = hw_now_ms();
	int rc = hw_connect(&c, port, key) ? 0 : hw_await_close(&c, secs * 1000);
	printf("an unknown key that says nothing: %s after %llu ms\n",
	       rc ? "still connected" : "dropped", (unsigned long long)(hw_now_ms() - t0));
	hw_close(&c);
	proto_key_free(key);
	return rc;
}

/* ------------------------------------------ D5: pre-auth buffering */

int attack_preauth(int port, int n)
{
	struct hw_conn *c = calloc((size_t)n, sizeof(*c));
	bool *ok = calloc((size_t)n, sizeof(*ok));
	size_t want = (8u << 20) - 1, chunk = 1u << 20;
	uint8_t *buf = calloc(1, chunk);
	int opened = 0, dropped = 0;

	for (int i = 0; i < n; i++) {
		struct proto_key *key;
		proto_key_generate(&key);
		int rc = hw_connect(&c[i], port, key);
		proto_key_free(key);
		if (rc)
			continue;
		ok[i] = true;
		opened++;
		/* An app message of 8 MiB - 1 announced, all but its last byte sent. */
		uint8_t stream[4] = { (uint8_t)(want >> 24), (uint8_t)(want >> 16),
		                      (uint8_t)(want >> 8), (uint8_t)want };
		hw_send_packed(&c[i], stream, 4);
		for (size_t sent = 0; sent < want - 1 && !c[i].closed; sent += chunk)
			hw_send_packed(&c[i], buf, want - 1 - sent < chunk ? want - 1 - sent : chunk);
	}
	printf("%d of %d unknown keys completed the handshake and sent 8 MiB - 2 bytes each\n",
	       opened, n);
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		if (!ok[i])
			continue;
		dropped += hw_await_close(&c[i], 60000) == 0;
		hw_close(&c[i]);
	}
	printf("%d connections dropped by the node\n", dropped);
	free(ok);
	free(buf);
	free(c);
	return 0;
}

/* ---------------------------------------------------- D6/D7: forks */

int attack_forks(int port, const char *mode, const struct proto_key *key, size_t n,
                 double rate)
{
	struct hw_conn c;
	size_t l1;
	hostile_member_session(port, &c, key);
	uint64_t now = hw_wall_ms();
	uint8_t *r1 = hw_record(key, c.alliance, 1, NULL, now, "Hostile", &l1);
	bool proofs = !strcmp(mode, "forkproofs");
	uint64_t out0 = c.bytes_out, t0 = hw_now_ms();

	if (!proofs)
		hw_send_records(&c, c.alliance, key->pk, 1, &r1, &l1, 1);
	for (size_t i = 0; i < n && !c.closed; i++) {
		char name[64];
		size_t l2;
		snprintf(name, sizeof(name), "Fork %zu", i);
		uint8_t *r2 = hw_record(key, c.alliance, 1, NULL, now, name, &l2);
		if (proofs) {
			Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
			Agora__Wire__ForkProof f = AGORA__WIRE__FORK_PROOF__INIT;
			f.has_alliance = f.has_author = f.has_seq = f.has_env_a = f.has_env_b = true;
			f.alliance.data = c.alliance;
			f.alliance.len = 32;
			f.author.data = (uint8_t *)key->pk;
			f.author.len = 32;
			f.seq = 1;
			f.env_a.data = r1;
			f.env_a.len = l1;
			f.env_b.data = r2;
			f.env_b.len = l2;
			m.msg_case = AGORA__WIRE__MESSAGE__MSG_FORK;
			m.fork = &f;
			hw_send_msg(&c, &m);
		} else {
			hw_send_records(&c, c.alliance, key->pk, 1, &r2, &l2, 1);
		}
		free(r2);
		if (rate > 0)   /* spread over many of the node's 1-s ticks */
			usleep((useconds_t)(1e6 / rate));
	}
	uint64_t sent = c.bytes_out - out0;
	printf("sent %zu %s of our own feed at seq 1: %llu bytes\n", n,
	       proofs ? "fork proofs" : "conflicting records", (unsigned long long)sent);
	fflush(stdout);
	int b = hw_barrier(&c, 3, 600000, NULL);
	printf("the node %s after %llu ms\n", b ? "closed the session" : "answered our Ping",
	       (unsigned long long)(hw_now_ms() - t0));
	free(r1);
	hw_close(&c);
	return 0;
}

/* ------------------------------------------------ D10: foreign fork */

int attack_foreignfork(int port, const struct proto_key *key)
{
	struct hw_conn c;
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__ForkProof f = AGORA__WIRE__FORK_PROOF__INIT;
	uint8_t other[32];
	size_t lc, lr;
	char hex[65];

	hostile_member_session(port, &c, key);
	uint64_t now = hw_wall_ms();
	uint8_t *charter = hw_record(key, NULL, 1, NULL, now, "Hostile Alliance", &lc);
	proto_record_id(other, charter, lc);
	uint8_t *rec = hw_record(key, other, 2, other, now, "Hostile", &lr);
	f.has_alliance = f.has_author = f.has_seq = f.has_env_a = f.has_env_b = true;
	f.alliance.data = c.alliance;   /* names the alliance we share ... */
	f.alliance.len = 32;
	f.author.data = (uint8_t *)key->pk;
	f.author.len = 32;
	f.seq = 1;
	f.env_a.data = charter;         /* ... carries another one */
	f.env_a.len = lc;
	f.env_b.data = rec;
	f.env_b.len = lr;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_FORK;
	m.fork = &f;
	hw_send_msg(&c, &m);
	int b = hw_barrier(&c, 4, 60000, NULL);
	proto_hex(hex, other, 32);
	printf("%s\n", hex);
	fprintf(stderr, "fork proof carrying alliance %.16s… sent; the node %s\n", hex,
	        b ? "closed the session" : "answered our Ping");
	free(charter);
	free(rec);
	hw_close(&c);
	return 0;
}

/* -------------------------------------------------- D8: back-dating */

static int first_alliance(const struct store_record *rec, void *ctx)
{
	memcpy(ctx, rec->id, 32);
	return 1;
}

int attack_backdate(int port, const struct proto_key *key, const char *victim_home,
                    uint64_t created_ms)
{
	struct hw_conn c;
	struct proto_key *victim = hw_load_key(victim_home);
	struct store *s;
	struct store_txn *t;
	char db[4200];
	uint8_t alliance[32], head_id[32];
	uint64_t head = 0;

	/* The victim's head, from its own store. */
	snprintf(db, sizeof(db), "%s/db", victim_home);
	if (store_open(&s, db, STORE_OPEN_READONLY) || store_txn_begin(s, &t) ||
	    store_alliances(t, first_alliance, alliance) != 1 ||
	    store_feed_head(t, alliance, victim->pk, &head, head_id)) {
		fprintf(stderr, "hostile: cannot read the victim's head in %s\n", db);
		return 2;
	}
	store_txn_end(t);
	store_close(s);
	hostile_member_session(port, &c, key);
	if (memcmp(c.alliance, alliance, 32)) {
		fprintf(stderr, "hostile: the node's alliance is not the victim's\n");
		return 2;
	}
	size_t l1, l2;
	uint8_t *late = hw_measure(victim, alliance, head + 1, head ? head_id : NULL, created_ms,
	                           "Backdated", &l1);
	uint8_t *mark = hw_measure(key, alliance, 1, NULL, hw_wall_ms(), "Marker", &l2);
	hw_send_records(&c, alliance, victim->pk, head + 1, &late, &l1, 1);
	hw_send_records(&c, alliance, key->pk, 1, &mark, &l2, 1);
	int b = hw_barrier(&c, 5, 30000, NULL);
	printf("relayed the victim's seq %llu dated %llu, then our marker; the node %s\n",
	       (unsigned long long)(head + 1), (unsigned long long)created_ms,
	       b ? "closed the session" : "answered our Ping");
	/* Stay until told to stop, so the node does not drop what it queued. */
	while (!hostile_stop_requested() && hw_await_close(&c, 200))
		;
	free(late);
	free(mark);
	hw_close(&c);
	proto_key_free(victim);
	return 0;
}

/* --------------------------------------------------- D11: Ack loop */

int attack_ackloop(int port, const struct proto_key *key, int max_acks)
{
	struct hw_conn c;
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Digest d = AGORA__WIRE__DIGEST__INIT;
	Agora__Wire__Range root = AGORA__WIRE__RANGE__INIT;
	uint8_t empty[32];
	uint64_t head = 0, before = 0, after = 0;
	int acks = 0;

	hostile_member_session(port, &c, key);
	/* We hold nothing: the node streams us everything it has. */
	crypto_generichash(empty, 32, NULL, 0, NULL, 0);
	root.has_prefix = root.has_depth = root.has_digest = root.has_count = true;
	root.prefix.data = empty;
	root.prefix.len = 0;
	root.digest.data = empty;
	root.digest.len = 32;
	d.has_alliance = true;
	d.alliance.data = c.alliance;
	d.alliance.len = 32;
	d.root = &root;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_DIGEST;
	m.digest = &d;
	hw_send_msg(&c, &m);
	while (!c.closed && !hostile_stop_requested()) {
		bool closed;
		Agora__Wire__Message *r = hw_recv(&c, 200, &closed);
		if (!r)
			continue;
		if (r->msg_case == AGORA__WIRE__MESSAGE__MSG_RECORDS &&
		    r->records->author.len == 32 && !memcmp(r->records->author.data, c.remote, 32)) {
			uint64_t last = r->records->first_seq + r->records->n_envelopes - 1;
			if (last > head)
				head = last;
			if (acks)
				after += r->records->n_envelopes;
			else
				before += r->records->n_envelopes;
			if (acks < max_acks) {
				Agora__Wire__Message a = AGORA__WIRE__MESSAGE__INIT;
				Agora__Wire__Ack k = AGORA__WIRE__ACK__INIT;
				k.has_alliance = k.has_author = k.has_seq = true;
				k.alliance.data = c.alliance;
				k.alliance.len = 32;
				k.author.data = c.remote;
				k.author.len = 32;
				k.seq = 0;   /* "I hold nothing of it" - after being sent it */
				a.msg_case = AGORA__WIRE__MESSAGE__MSG_ACK;
				a.ack = &k;
				hw_send_msg(&c, &a);
				if (++acks == 1)
					printf("first Ack sent\n");
				if (acks == max_acks)
					printf("all %d Acks sent\n", acks);
			}
		}
		agora__wire__message__free_unpacked(r, NULL);
	}
	if (!c.closed) {
		size_t ignored = 0;
		/* The node is done streaming (the script saw it): everything it
		 * queued comes before the Pong. */
		(void)hw_barrier(&c, 6, 60000, &ignored);
	}
	printf("the node's feed (head %llu): %llu records before our first Ack, %llu after "
	       "%d Acks of seq 0 (%llu bytes received for %llu sent)\n",
	       (unsigned long long)head, (unsigned long long)before, (unsigned long long)after,
	       acks, (unsigned long long)c.bytes_in, (unsigned long long)c.bytes_out);
	hw_close(&c);
	/* One copy of the feed, and at most one more (PROTOCOL.md 4.4: an Ack
	 * rewinds a feed once per session; a gap is a legitimate reason). */
	return before + after > 2 * head ? 1 : 0;
}

/* ------------------------------------------------ D12: digests */

/* Send a Digest for alliance, then a Ping: did a Ranges for it come back? */
static int digest_answered(struct hw_conn *c, const uint8_t alliance[32], uint64_t nonce)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT, p = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Digest d = AGORA__WIRE__DIGEST__INIT;
	Agora__Wire__Range root = AGORA__WIRE__RANGE__INIT;
	Agora__Wire__Ping ping = AGORA__WIRE__PING__INIT;
	uint8_t dig[32];
	int answered = 0;

	randombytes_buf(dig, sizeof(dig));
	root.has_prefix = root.has_depth = root.has_digest = root.has_count = true;
	root.prefix.data = dig;
	root.prefix.len = 0;
	root.digest.data = dig;
	root.digest.len = 32;
	root.count = 3;
	d.has_alliance = true;
	d.alliance.data = (uint8_t *)alliance;
	d.alliance.len = 32;
	d.root = &root;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_DIGEST;
	m.digest = &d;
	hw_send_msg(c, &m);
	ping.has_nonce = true;
	ping.nonce = nonce;
	p.msg_case = AGORA__WIRE__MESSAGE__MSG_PING;
	p.ping = &ping;
	hw_send_msg(c, &p);
	for (;;) {
		bool closed;
		Agora__Wire__Message *r = hw_recv(c, 20000, &closed);
		if (!r)
			return closed ? 2 : 3;   /* session closed / no Pong */
		if (r->msg_case == AGORA__WIRE__MESSAGE__MSG_RANGES && r->ranges->alliance.len == 32 &&
		    !memcmp(r->ranges->alliance.data, alliance, 32))
			answered = 1;
		bool pong = r->msg_case == AGORA__WIRE__MESSAGE__MSG_PONG && r->pong->nonce == nonce;
		agora__wire__message__free_unpacked(r, NULL);
		if (pong)
			return answered;
	}
}

int attack_digest(int port, const struct proto_key *key, const char *hex)
{
	static const char *what[] = { "no answer", "a Ranges answer", "the session closed",
	                              "no Pong" };
	struct hw_conn c1, c2;
	uint8_t held[32], unknown[32];
	if (proto_unhex(held, 32, hex))
		return 2;
	randombytes_buf(unknown, sizeof(unknown));
	/* Each question on a session of its own, so one answer cannot hide
	 * the other. */
	hostile_member_session(port, &c1, key);
	int a = digest_answered(&c1, held, 7);
	hw_close(&c1);
	hostile_member_session(port, &c2, key);
	int b = digest_answered(&c2, unknown, 8);
	hw_close(&c2);
	printf("Digest for an alliance the node holds but does not share with us: %s; "
	       "for an unknown alliance: %s\n", what[a], what[b]);
	return a == b ? 0 : 1;
}

/* -------------------------------------------------- D9: slots */

int attack_flood(int port, const char *src, int n)
{
	int *fds = calloc((size_t)n, sizeof(*fds));
	struct pollfd *pf = calloc((size_t)n, sizeof(*pf));
	uint64_t reopened = 0;
	bool ready = false;

	for (int i = 0; i < n; i++)
		fds[i] = -1;
	while (!hostile_stop_requested()) {
		int open = 0, again = 0;
		for (int i = 0; i < n; i++) {
			if (fds[i] < 0 && (!ready || again < 10) && (fds[i] = hw_dial(src, port)) >= 0 &&
			    ready) {
				reopened++;
				again++;
			}
			open += fds[i] >= 0;
		}
		if (again)   /* slots taken again: about 1,000 connections a second */
			usleep(10000);
		if (!ready && open == n) {
			printf("holding %d idle connections from %s\n", n, src);
			fflush(stdout);
			ready = true;
		}
		for (int i = 0; i < n; i++)
			pf[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		if (poll(pf, (nfds_t)n, 100) <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			uint8_t b[256];
			if (fds[i] >= 0 && (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    recv(fds[i], b, sizeof(b), MSG_DONTWAIT) <= 0) {
				close(fds[i]);   /* dropped: take the slot again */
				fds[i] = -1;
			}
		}
	}
	printf("re-opened %llu dropped connections\n", (unsigned long long)reopened);
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	free(pf);
	return 0;
}

int attack_member(int port, const struct proto_key *key)
{
	struct hw_conn c;
	int rc = hw_session(&c, port, key) ? 1 : 0;
	hw_close(&c);
	printf("member session: %s\n", rc ? "refused or no Hello within 10 s" : "open");
	return rc;
}

/* ------------------------------------------------ D19: trickle */

int attack_trickle(int port, const struct proto_key *key, int secs)
{
	struct hw_conn c;
	uint8_t hdr[2] = { 0xff, 0xff }, b = 0;
	hostile_member_session(port, &c, key);
	uint64_t t0 = hw_now_ms();
	hw_send_raw(&c, hdr, 2);   /* a 65535-byte frame that never completes */
	while (!c.closed && hw_now_ms() - t0 < (uint64_t)secs * 1000) {
		hw_send_raw(&c, &b, 1);
		(void)hw_await_close(&c, 1000);
	}
	printf("trickled one byte a second; the node %s after %llu s\n",
	       c.closed ? "closed the session" : "still held it",
	       (unsigned long long)(hw_now_ms() - t0) / 1000);
	hw_close(&c);
	return c.closed ? 0 : 1;
}
