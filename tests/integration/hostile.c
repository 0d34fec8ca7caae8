/*
 * hostile.c - test helper: a misbehaving peer that speaks the real agora
 * protocol (Noise XX, framing, wire.proto messages; hostile_wire.c), and
 * the probes the hostile tests measure a node with.
 *
 *   hostile MODE PORT [KEYHOME] [ARGS...]
 *
 * Exit status: 0 the node behaved as the mode expects (for the first group:
 * it dropped the connection within 20 s), 1 it did not, 2 a usage or local
 * error.  KEYHOME is a data directory whose identity.key the attacker uses
 * (an admitted member's, so that it gets past the handshake); "-" is a
 * fresh key nobody knows.  Modes that run until told to stop watch the
 * file named by $HOSTILE_STOP.
 *
 * Dropped within 20 s (hostile_test.sh):
 *   random      random bytes instead of a handshake
 *   bigframe    announce a 65535-byte frame, send 10 bytes, go silent
 *   badkey      complete the handshake with a key not in the peer list
 *   badproto    (KEYHOME) handshake, then a frame holding a malformed protobuf
 *   badsig      (KEYHOME) Hello, then a record with a broken signature
 *   outoforder  (KEYHOME) Hello, then records whose seqs do not follow
 *   otheralliance (KEYHOME) Hello, then a record of an alliance the node lacks
 *   idle N      open N connections, say nothing, wait until all are dropped
 *
 * Attacks from issue 10 (see each *_test.sh for what is asserted):
 *   floorvector KEYHOME      D1: a Ranges vector claiming the node's own feed at seq 10^6
 *   floorheader KEYHOME      D1: a Records header naming the node's own feed at seq 10^6,
 *                            carrying a record whose signature fails
 *   ranges KEYHOME N RATIO   D2: one Ranges of N copies of the root range; exit 1 if the
 *                            node answers more than RATIO x the bytes sent (+64 KiB)
 *   pings KEYHOME MB         D3: MB MiB of Pings, never reading a Pong
 *   bigparse KEYHOME|-       D4: one 8 MiB Message of 4 million empty Ranges entries
 *   redeem CODE              D4: redeem invite CODE as a new key (as `agora join` does);
 *                            exit 0 if the node then opens the session (its Hello)
 *   outsider SECS            D4: an unknown key completes the handshake and waits;
 *                            exit 0 if the node closes within SECS
 *   preauth N                D5: N unknown keys, each sends 8 MiB - 1 of a message
 *   forkproofs KEYHOME N     D6/D7: N ForkProofs of our own feed at seq 1
 *   forkrecords KEYHOME N RATE  D6: N conflicting seq-1 records of our feed, as Records,
 *                            RATE a second
 *   forkcount HOME           fork evidence entries in HOME's store (read-only)
 *   foreignfork KEYHOME      D10: a ForkProof naming the shared alliance that carries
 *                            the charter and a record of a new alliance; prints its id
 *   backdate KEYHOME VICTIMHOME CREATED_MS  D8: relay a record of VICTIMHOME's key
 *                            (its next seq, dated CREATED_MS), then one of our own
 *   ackloop KEYHOME N        D11: sync from nothing, Ack{seq 0} the node's own feed after
 *                            each of its first N Records of it; on $HOSTILE_STOP count what
 *                            came after the first Ack; exit 1 if over one feed's worth
 *   digest KEYHOME ALLIANCE  D12: Digest for ALLIANCE (held, not shared) and for an
 *                            unknown one; exit 1 if the node answers them differently
 *   flood SRCIP N            D9: keep N idle connections open from SRCIP until stopped
 *   member KEYHOME           D9: one session attempt; exit 0 if the node's Hello comes
 *   trickle KEYHOME SECS     D19: Hello, then one byte of a never-finished frame per
 *                            second; exit 0 if the node closes within SECS
 *
 * Probes and stand-ins (PORT is replaced as shown):
 *   probe SOCKPATH           PeersReq on the control socket in a loop until
 *                            $HOSTILE_STOP; prints the slowest answer in ms
 *   ctlidle SOCKPATH N SECS  D17: N control connections that never finish a request;
 *                            exit 0 if the node closes all of them within SECS
 *   silentdns IP             D14: a DNS server on IP:53/udp that never answers
 */
#define _GNU_SOURCE   /* POLLRDHUP */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "hostile_wire.h"
#include "storage/storage.h"
#include "control.pb-c.h"

#define FAR_SEQ 1000000u

static int port;

static bool stop_requested(void)
{
	const char *p = getenv("HOSTILE_STOP");
	return p && access(p, F_OK) == 0;
}

static int dial_or_die(void)
{
	int fd = hw_dial(NULL, port);
	if (fd < 0) {
		perror("hostile: connect");
		exit(2);
	}
	return fd;
}

static struct proto_key *key_arg(const char *home)
{
	struct proto_key *key;
	if (strcmp(home, "-"))
		return hw_load_key(home);
	if (proto_key_generate(&key))
		exit(2);
	return key;
}

/* A session as an admitted member, or exit 2 (a set-up error). */
static void member_session(struct hw_conn *c, const struct proto_key *key)
{
	if (hw_session(c, port, key)) {
		fprintf(stderr, "hostile: no session (is the key admitted and in the peer list?)\n");
		exit(2);
	}
	if (!c->n_alliances) {
		fprintf(stderr, "hostile: the node's Hello names no alliance\n");
		exit(2);
	}
}

/* ------------------------------------------- dropped within 20 s */

static int old_modes(const char *mode, int argc, char **argv)
{
	struct hw_conn c;
	if (!strcmp(mode, "random")) {
		uint8_t junk[4096];
		int fd = dial_or_die();
		randombytes_buf(junk, sizeof(junk));
		junk[0] = 0x00;   /* a short first frame, so the node reads it at once */
		junk[1] = 0x40;
		send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
		return hw_await_close_fd(fd, 20000);
	}
	if (!strcmp(mode, "bigframe")) {
		uint8_t b[12] = { 0xff, 0xff };
		int fd = dial_or_die();
		send(fd, b, sizeof(b), MSG_NOSIGNAL);
		return hw_await_close_fd(fd, 20000);
	}
	if (!strcmp(mode, "idle")) {
		int n = argc > 3 ? atoi(argv[3]) : 200, dropped = 0;
		int *fds = calloc((size_t)n, sizeof(*fds));
		for (int i = 0; i < n; i++)
			fds[i] = dial_or_die();
		for (int i = 0; i < n; i++) {
			dropped += hw_await_close_fd(fds[i], 20000) == 0;
			close(fds[i]);
		}
		free(fds);
		return dropped == n ? 0 : 1;
	}
	if (!strcmp(mode, "badkey")) {
		struct proto_key *key;
		proto_key_generate(&key);
		int rc = hw_connect(&c, port, key) ? 0 : hw_await_close(&c, 20000);
		hw_close(&c);
		proto_key_free(key);
		return rc;
	}
	if (argc < 4)
		return 2;
	struct proto_key *key = hw_load_key(argv[3]);
	int rc = 2;
	if (hw_connect(&c, port, key)) {
		proto_key_free(key);
		return 0;
	}
	if (!strcmp(mode, "badproto")) {
		static const uint8_t junk[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12 };
		hw_send_app(&c, junk, sizeof(junk));
		rc = hw_await_close(&c, 20000);
		goto out;
	}
	hw_send_hello(&c, key);
	if (hw_read_hello(&c, 10000) || !c.n_alliances) {
		fprintf(stderr, "hostile: no Hello with an alliance\n");
		goto out;
	}
	uint8_t *envs[2] = { NULL, NULL }, prev[32];
	size_t lens[2];
	randombytes_buf(prev, sizeof(prev));
	if (!strcmp(mode, "badsig")) {
		envs[0] = hw_record(key, c.alliance, 1, NULL, hw_wall_ms(), "Hostile", &lens[0]);
		envs[0][lens[0] - 1] ^= 0x01;   /* last signature byte */
		hw_send_records(&c, c.alliance, key->pk, 1, envs, lens, 1);
	} else if (!strcmp(mode, "outoforder")) {
		envs[0] = hw_record(key, c.alliance, 2, prev, hw_wall_ms(), "Hostile", &lens[0]);
		envs[1] = hw_record(key, c.alliance, 1, NULL, hw_wall_ms(), "Hostile", &lens[1]);
		hw_send_records(&c, c.alliance, key->pk, 1, envs, lens, 2);
	} else if (!strcmp(mode, "otheralliance")) {
		uint8_t other[32];
		randombytes_buf(other, 32);
		envs[0] = hw_record(key, other, 1, NULL, hw_wall_ms(), "Hostile", &lens[0]);
		hw_send_records(&c, other, key->pk, 1, envs, lens, 1);
	} else {
		goto out;
	}
	rc = hw_await_close(&c, 20000);
	free(envs[0]);
	free(envs[1]);
out:
	hw_close(&c);
	proto_key_free(key);
	return rc;
}

/* ----------------------------------------------------- D1: floor */

static int floor_attack(const char *mode, struct proto_key *key)
{
	struct hw_conn c;
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	member_session(&c, key);
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

static int ranges_attack(struct proto_key *key, size_t n, double ratio)
{
	struct hw_conn c;
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Ranges r = AGORA__WIRE__RANGES__INIT;
	Agora__Wire__Range root = AGORA__WIRE__RANGE__INIT;
	Agora__Wire__Range **list = calloc(n, sizeof(*list));
	uint8_t dig[32];

	member_session(&c, key);
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

static int pings_attack(struct proto_key *key, size_t mib)
{
	struct hw_conn c;
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Ping p = AGORA__WIRE__PING__INIT;
	uint8_t one[32];
	size_t want = mib << 20, off = 0, cap = 1u << 20;
	uint8_t *stream = malloc(cap);

	member_session(&c, key);
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
	while (!stop_requested()) {
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

static int bigparse_attack(const char *home)
{
	struct hw_conn c;
	struct proto_key *key = key_arg(home);
	bool outsider = !strcmp(home, "-");
	size_t len;
	uint8_t *msg = empty_ranges_message(8u << 20, &len);

	if (outsider) {
		if (hw_connect(&c, port, key)) {
			printf("the node refused the handshake of an unknown key\n");
			return 0;
		}
	} else {
		member_session(&c, key);
	}
	hw_send_app(&c, msg, len);
	printf("sent one %zu-byte message (%zu empty Range entries) as %s\n", len, (len - 5) / 2,
	       outsider ? "an unknown key, first message" : "a member, after Hello");
	fflush(stdout);
	int closed = hw_await_close(&c, 20000);
	printf("the node %s\n", closed ? "kept the connection for 20 s" : "closed the connection");
	free(msg);
	hw_close(&c);
	proto_key_free(key);
	return 0;
}

/* An invite code (PROTOCOL.md 6.7) redeemed by a fresh key. */
static int redeem(const char *code)
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

static int outsider(int secs)
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

static int preauth_attack(int n)
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

static int forks_attack(const char *mode, struct proto_key *key, size_t n, double rate)
{
	struct hw_conn c;
	size_t l1;
	member_session(&c, key);
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
			f.author.data = key->pk;
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

static int count_fork(const uint8_t alliance[PROTO_ID_BYTES],
                      const uint8_t author[PROTO_KEY_BYTES], uint64_t seq, const uint8_t *env_a,
                      size_t len_a, const uint8_t *env_b, size_t len_b, void *ctx)
{
	(void)alliance, (void)author, (void)seq, (void)env_a, (void)len_a, (void)env_b, (void)len_b;
	(*(uint64_t *)ctx)++;
	return 0;
}

static int forkcount(const char *home)
{
	struct store *s;
	struct store_txn *t;
	char db[4200];
	uint64_t n = 0;
	snprintf(db, sizeof(db), "%s/db", home);
	if (store_open(&s, db, STORE_OPEN_READONLY) || store_txn_begin(s, &t))
		return 2;
	int rc = store_forks(t, count_fork, &n);
	store_txn_end(t);
	store_close(s);
	if (rc)
		return 2;
	printf("%llu\n", (unsigned long long)n);
	return 0;
}

/* ------------------------------------------------ D10: foreign fork */

static int foreignfork_attack(struct proto_key *key)
{
	struct hw_conn c;
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__ForkProof f = AGORA__WIRE__FORK_PROOF__INIT;
	uint8_t other[32];
	size_t lc, lr;
	char hex[65];

	member_session(&c, key);
	uint64_t now = hw_wall_ms();
	uint8_t *charter = hw_record(key, NULL, 1, NULL, now, "Hostile Alliance", &lc);
	proto_record_id(other, charter, lc);
	uint8_t *rec = hw_record(key, other, 2, other, now, "Hostile", &lr);
	f.has_alliance = f.has_author = f.has_seq = f.has_env_a = f.has_env_b = true;
	f.alliance.data = c.alliance;   /* names the alliance we share ... */
	f.alliance.len = 32;
	f.author.data = key->pk;
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

static int backdate_attack(struct proto_key *key, const char *victim_home, uint64_t created_ms)
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
	member_session(&c, key);
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
	while (!stop_requested() && hw_await_close(&c, 200))
		;
	free(late);
	free(mark);
	hw_close(&c);
	proto_key_free(victim);
	return 0;
}

/* --------------------------------------------------- D11: Ack loop */

static int ackloop_attack(struct proto_key *key, int max_acks)
{
	struct hw_conn c;
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Digest d = AGORA__WIRE__DIGEST__INIT;
	Agora__Wire__Range root = AGORA__WIRE__RANGE__INIT;
	uint8_t empty[32];
	uint64_t head = 0, before = 0, after = 0;
	int acks = 0;

	member_session(&c, key);
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
	while (!c.closed && !stop_requested()) {
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
	return after > head ? 1 : 0;
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

static int digest_attack(struct proto_key *key, const char *hex)
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
	member_session(&c1, key);
	int a = digest_answered(&c1, held, 7);
	hw_close(&c1);
	member_session(&c2, key);
	int b = digest_answered(&c2, unknown, 8);
	hw_close(&c2);
	printf("Digest for an alliance the node holds but does not share with us: %s; "
	       "for an unknown alliance: %s\n", what[a], what[b]);
	return a == b ? 0 : 1;
}

/* -------------------------------------------------- D9: slots */

static int flood_attack(const char *src, int n)
{
	int *fds = calloc((size_t)n, sizeof(*fds));
	struct pollfd *pf = calloc((size_t)n, sizeof(*pf));
	uint64_t reopened = 0;
	bool ready = false;

	for (int i = 0; i < n; i++)
		fds[i] = -1;
	while (!stop_requested()) {
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

static int member_probe(struct proto_key *key)
{
	struct hw_conn c;
	int rc = hw_session(&c, port, key) ? 1 : 0;
	hw_close(&c);
	printf("member session: %s\n", rc ? "refused or no Hello within 10 s" : "open");
	return rc;
}

/* ------------------------------------------------ D19: trickle */

static int trickle_attack(struct proto_key *key, int secs)
{
	struct hw_conn c;
	uint8_t hdr[2] = { 0xff, 0xff }, b = 0;
	member_session(&c, key);
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

/* --------------------------------------------- control socket */

static int ctl_dial(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* One PeersReq; its latency in ms, or -1 if the node did not answer. */
static long ctl_peers(const char *path)
{
	Agora__Control__Request req = AGORA__CONTROL__REQUEST__INIT;
	Agora__Control__PeersReq pr = AGORA__CONTROL__PEERS_REQ__INIT;
	uint8_t buf[64], hdr[4];
	uint64_t t0 = hw_now_ms();
	int fd = ctl_dial(path);
	if (fd < 0)
		return -1;
	req.req_case = AGORA__CONTROL__REQUEST__REQ_PEERS;
	req.peers = &pr;
	size_t len = agora__control__request__pack(&req, buf + 4);
	buf[0] = buf[1] = buf[2] = 0;
	buf[3] = (uint8_t)len;
	if (send(fd, buf, len + 4, MSG_NOSIGNAL) != (ssize_t)(len + 4)) {
		close(fd);
		return -1;
	}
	size_t got = 0, want = 0;
	for (;;) {
		uint8_t tmp[65536];
		ssize_t n = recv(fd, got < 4 ? hdr + got : tmp, got < 4 ? 4 - got : sizeof(tmp), 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == 4)
			want = 4 + ((size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 |
			            hdr[3]);
		if (want && got >= want)
			break;
	}
	close(fd);
	return want && got >= want ? (long)(hw_now_ms() - t0) : -1;
}

static int probe(const char *path)
{
	long worst = 0, n = 0, failed = 0;
	while (!stop_requested()) {
		long ms = ctl_peers(path);
		if (ms < 0)
			failed++;
		else if (ms > worst)
			worst = ms;
		n++;
		usleep(20000);
	}
	printf("%ld\n", worst);
	fprintf(stderr, "probe: %ld PeersReq, slowest answer %ld ms, %ld unanswered\n", n, worst,
	        failed);
	return failed ? 1 : 0;
}

static int ctlidle(const char *path, int n, int secs)
{
	int *fds = calloc((size_t)n, sizeof(*fds)), closed = 0;
	static const uint8_t part[2] = { 0, 0 };
	for (int i = 0; i < n; i++) {
		if ((fds[i] = ctl_dial(path)) < 0) {
			fprintf(stderr, "hostile: cannot connect to %s\n", path);
			return 2;
		}
		if (i % 2)   /* half of them start a request and never finish it */
			send(fds[i], part, sizeof(part), MSG_NOSIGNAL);
	}
	uint64_t end = hw_now_ms() + (uint64_t)secs * 1000;
	for (int i = 0; i < n; i++) {
		uint64_t now = hw_now_ms();
		closed += hw_await_close_fd(fds[i], now < end ? (int)(end - now) : 0) == 0;
		close(fds[i]);
	}
	printf("%d of %d idle control connections closed by the node within %d s\n", closed, n,
	       secs);
	free(fds);
	return closed == n ? 0 : 1;
}

/* --------------------------------------------------- D14: DNS */

static int silentdns(const char *ip)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(53) };
	uint8_t buf[1500];
	uint64_t queries = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, ip, &a.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("hostile: bind udp 53");
		return 2;
	}
	printf("swallowing DNS queries on %s:53\n", ip);
	fflush(stdout);
	while (!stop_requested()) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 200) > 0 && recv(fd, buf, sizeof(buf), 0) > 0)
			printf("query %llu swallowed\n", (unsigned long long)++queries);
	}
	fprintf(stderr, "silentdns: %llu queries swallowed\n", (unsigned long long)queries);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || proto_init())
		return 2;
	const char *mode = argv[1];
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "probe"))
		return probe(argv[2]);
	if (!strcmp(mode, "ctlidle"))
		return argc < 5 ? 2 : ctlidle(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (!strcmp(mode, "forkcount"))
		return forkcount(argv[2]);
	if (!strcmp(mode, "silentdns"))
		return silentdns(argv[2]);
	port = atoi(argv[2]);
	if (!strcmp(mode, "preauth"))
		return argc < 4 ? 2 : preauth_attack(atoi(argv[3]));
	if (!strcmp(mode, "flood"))
		return argc < 5 ? 2 : flood_attack(argv[3], atoi(argv[4]));
	if (!strcmp(mode, "redeem"))
		return argc < 4 ? 2 : redeem(argv[3]);
	if (!strcmp(mode, "outsider"))
		return argc < 4 ? 2 : outsider(atoi(argv[3]));
	if (!strcmp(mode, "bigparse"))
		return argc < 4 ? 2 : bigparse_attack(argv[3]);
	static const char *const keyed[] = { "floorvector", "floorheader", "ranges", "pings",
	                                     "forkproofs", "forkrecords", "foreignfork",
	                                     "backdate", "ackloop", "digest", "member",
	                                     "trickle", NULL };
	size_t k = 0;
	while (keyed[k] && strcmp(keyed[k], mode))
		k++;
	if (!keyed[k])
		return old_modes(mode, argc, argv);
	if (argc < 4)
		return 2;
	struct proto_key *key = key_arg(argv[3]);
	const char *a4 = argc > 4 ? argv[4] : NULL, *a5 = argc > 5 ? argv[5] : NULL;
	int rc = 2;
	if (!strcmp(mode, "floorvector") || !strcmp(mode, "floorheader"))
		rc = floor_attack(mode, key);
	else if (!strcmp(mode, "ranges") && a5)
		rc = ranges_attack(key, (size_t)atol(a4), atof(a5));
	else if (!strcmp(mode, "pings") && a4)
		rc = pings_attack(key, (size_t)atol(a4));
	else if ((!strcmp(mode, "forkproofs") || !strcmp(mode, "forkrecords")) && a4)
		rc = forks_attack(mode, key, (size_t)atol(a4), a5 ? atof(a5) : 0);
	else if (!strcmp(mode, "foreignfork"))
		rc = foreignfork_attack(key);
	else if (!strcmp(mode, "backdate") && a5)
		rc = backdate_attack(key, a4, strtoull(a5, NULL, 10));
	else if (!strcmp(mode, "ackloop") && a4)
		rc = ackloop_attack(key, atoi(a4));
	else if (!strcmp(mode, "digest") && a4)
		rc = digest_attack(key, a4);
	else if (!strcmp(mode, "member"))
		rc = member_probe(key);
	else if (!strcmp(mode, "trickle") && a4)
		rc = trickle_attack(key, atoi(a4));
	proto_key_free(key);
	return rc;
}
