/*
 * hostile.c - test helper: a misbehaving peer.  Exits 0 when the node
 * dropped the connection (EOF or reset) within 20 s, 1 if it did not, 2 on
 * a usage or local error.
 *
 *   hostile MODE PORT [KEYHOME]
 *
 * MODE: random      random bytes instead of a handshake
 *       bigframe    announce a 65535-byte frame, send 10 bytes, go silent
 *       badkey      complete the handshake with a key not in the peer list
 *       badproto    (KEYHOME) handshake, then a frame holding a malformed protobuf
 *       badsig      (KEYHOME) Hello, then a record with a broken signature
 *       outoforder  (KEYHOME) Hello, then records whose seqs do not follow
 *       otheralliance (KEYHOME) Hello, then a record of an alliance the node lacks
 *       idle N      open N connections from 127.0.0.2, say nothing, wait until
 *                   all are dropped
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "node/engine/frame.h"
#include "node/engine/noise.h"
#include "proto/proto.h"
#include "wire.pb-c.h"

static int port;

/* Connect from src (NULL: any), e.g. 127.0.0.2: a stranger on another
 * host than the members, who all come from 127.0.0.1. */
static int dial_from(const char *src)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (fd >= 0 && src) {
		struct sockaddr_in b = { .sin_family = AF_INET };
		inet_pton(AF_INET, src, &b.sin_addr);
		if (bind(fd, (struct sockaddr *)&b, sizeof(b)) < 0) {
			perror("hostile: bind");
			exit(2);
		}
	}
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("hostile: connect");
		exit(2);
	}
	return fd;
}

static int dial(void)
{
	return dial_from(NULL);
}

static void send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;   /* the node may already have hung up: that is fine */
		p += n;
		len -= (size_t)n;
	}
}

/* Wait until the node closes fd: 0 closed, 1 still open after 20 s. */
static int await_drop(int fd)
{
	uint8_t buf[4096];
	time_t end = time(NULL) + 20;
	while (time(NULL) < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 1000) <= 0)
			continue;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			return 0;
	}
	return 1;
}

static int read_frame(int fd, uint8_t *buf, size_t *len)
{
	uint8_t h[2];
	size_t got = 0, want;
	while (got < 2) {
		ssize_t n = recv(fd, h + got, 2 - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	want = (size_t)h[0] << 8 | h[1];
	for (got = 0; got < want;) {
		ssize_t n = recv(fd, buf + got, want - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	*len = want;
	return 0;
}

struct conn {
	int fd;
	struct noise_cipher send, recv;
	struct frame_decoder dec;
};

static void handshake(struct conn *c, struct proto_key *key)
{
	struct noise_agora ag;
	uint8_t msg[NOISE_MSG_MAX], fr[NOISE_MSG_MAX + 2], remote[32];
	size_t len, flen;
	c->fd = dial();
	if (noise_agora_init(&ag, NOISE_INITIATOR, key->pk, key->sk, NULL))
		exit(2);
	noise_agora_write(msg, &len, sizeof(msg), &ag);
	frame_wrap(fr, &flen, sizeof(fr), msg, len);
	send_all(c->fd, fr, flen);
	if (read_frame(c->fd, msg, &len) || noise_agora_read(&ag, msg, len)) {
		fprintf(stderr, "hostile: handshake message 2 failed\n");
		exit(2);
	}
	noise_agora_write(msg, &len, sizeof(msg), &ag);
	frame_wrap(fr, &flen, sizeof(fr), msg, len);
	send_all(c->fd, fr, flen);
	noise_agora_split(&c->send, &c->recv, remote, NULL, &ag);
	noise_agora_dispose(&ag);
	frame_decoder_init(&c->dec, &c->recv, 0);
}

static void send_app(struct conn *c, const uint8_t *msg, size_t len)
{
	size_t cap = frame_encoded_size(len), out;
	uint8_t *buf = malloc(cap);
	frame_encode(buf, &out, cap, &c->send, msg, len);
	send_all(c->fd, buf, out);
	free(buf);
}

static void send_msg(struct conn *c, Agora__Wire__Message *m)
{
	size_t len = agora__wire__message__get_packed_size(m);
	uint8_t *buf = malloc(len + 1);
	agora__wire__message__pack(m, buf);
	send_app(c, buf, len);
	free(buf);
}

/* Read app messages until the node's Hello; return its first alliance. */
static int read_hello(struct conn *c, uint8_t alliance[32])
{
	uint8_t buf[65536];
	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		size_t off = 0;
		if (n <= 0)
			return -1;
		for (;;) {
			uint8_t *msg;
			size_t mlen, used;
			int rc = frame_decoder_next(&msg, &mlen, &used, &c->dec, buf + off, (size_t)n - off);
			off += used;
			if (rc == FRAME_E_AGAIN)
				break;
			if (rc)
				return -1;
			Agora__Wire__Message *m = agora__wire__message__unpack(NULL, mlen, msg);
			free(msg);
			if (m && m->msg_case == AGORA__WIRE__MESSAGE__MSG_HELLO && m->hello->n_alliances) {
				memcpy(alliance, m->hello->alliances[0].data, 32);
				agora__wire__message__free_unpacked(m, NULL);
				return 0;
			}
			if (m)
				agora__wire__message__free_unpacked(m, NULL);
		}
	}
}

static void send_hello(struct conn *c, struct proto_key *key)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Hello h = AGORA__WIRE__HELLO__INIT;
	h.has_version = h.has_node_key = true;
	h.version = 1;
	h.node_key.data = key->pk;
	h.node_key.len = 32;
	h.name = "hostile";
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_HELLO;
	m.hello = &h;
	send_msg(c, &m);
}

/* A signed Profile record of key in alliance at seq (prev random). */
static uint8_t *make_record(struct proto_key *key, const uint8_t alliance[32], uint64_t seq,
                            size_t *len)
{
	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Profile p = AGORA__PROFILE__INIT;
	uint8_t prev[32], *env;
	struct proto_error err;
	struct timespec ts;
	randombytes_buf(prev, 32);
	clock_gettime(CLOCK_REALTIME, &ts);
	p.name = "Hostile";
	p.country = "DK";
	rec.has_alliance = rec.has_author = rec.has_seq = rec.has_created_ms = true;
	rec.alliance.data = (uint8_t *)alliance;
	rec.alliance.len = 32;
	rec.author.data = key->pk;
	rec.author.len = 32;
	rec.seq = seq;
	if (seq > 1) {
		rec.has_prev = true;
		rec.prev.data = prev;
		rec.prev.len = 32;
	}
	rec.created_ms = (uint64_t)ts.tv_sec * 1000;
	rec.body_case = AGORA__RECORD__BODY_PROFILE;
	rec.profile = &p;
	if (proto_record_sign(&env, len, NULL, &rec, key, rec.created_ms, &err)) {
		fprintf(stderr, "hostile: sign: %s %s\n", err.field, err.msg);
		exit(2);
	}
	return env;
}

static void send_records(struct conn *c, const uint8_t alliance[32], const uint8_t author[32],
                         uint64_t first, uint8_t **envs, size_t *lens, size_t n)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Records r = AGORA__WIRE__RECORDS__INIT;
	ProtobufCBinaryData b[8];
	for (size_t i = 0; i < n; i++) {
		b[i].data = envs[i];
		b[i].len = lens[i];
	}
	r.has_alliance = r.has_author = r.has_first_seq = true;
	r.alliance.data = (uint8_t *)alliance;
	r.alliance.len = 32;
	r.author.data = (uint8_t *)author;
	r.author.len = 32;
	r.first_seq = first;
	r.envelopes = b;
	r.n_envelopes = n;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_RECORDS;
	m.records = &r;
	send_msg(c, &m);
}

static struct proto_key *load_key(const char *home)
{
	char path[4200], text[4096];
	struct proto_key *key;
	snprintf(path, sizeof(path), "%s/identity.key", home);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(text, 1, sizeof(text), f) : 0;
	if (f)
		fclose(f);
	if (!n || proto_key_decode(&key, text, n, NULL)) {
		fprintf(stderr, "hostile: cannot load %s\n", path);
		exit(2);
	}
	return key;
}

/* Free what the connection holds (so leak checkers stay quiet). */
static int finish(struct conn *c, struct proto_key *key, int rc)
{
	frame_decoder_dispose(&c->dec);
	noise_cipher_dispose(&c->send);
	noise_cipher_dispose(&c->recv);
	close(c->fd);
	proto_key_free(key);
	return rc;
}

int main(int argc, char **argv)
{
	struct conn c;
	struct proto_key *key = NULL;
	uint8_t alliance[32];
	const char *mode;

	if (argc < 3 || proto_init())
		return 2;
	mode = argv[1];
	port = atoi(argv[2]);
	if (!strcmp(mode, "random")) {
		uint8_t junk[4096];
		int fd = dial();
		randombytes_buf(junk, sizeof(junk));
		junk[0] = 0x00;   /* a short first frame, so the node reads it at once */
		junk[1] = 0x40;
		send_all(fd, junk, sizeof(junk));
		return await_drop(fd);
	}
	if (!strcmp(mode, "bigframe")) {
		uint8_t b[12] = { 0xff, 0xff };
		int fd = dial();
		send_all(fd, b, sizeof(b));
		return await_drop(fd);
	}
	if (!strcmp(mode, "idle")) {
		int n = argc > 3 ? atoi(argv[3]) : 200, dropped = 0;
		int *fds = calloc((size_t)n, sizeof(*fds));
		for (int i = 0; i < n; i++)
			fds[i] = dial_from("127.0.0.2");
		for (int i = 0; i < n; i++) {
			dropped += await_drop(fds[i]) == 0;
			close(fds[i]);
		}
		free(fds);
		return dropped == n ? 0 : 1;
	}
	if (!strcmp(mode, "badkey")) {
		proto_key_generate(&key);
		handshake(&c, key);
		return finish(&c, key, await_drop(c.fd));
	}
	if (argc < 4)
		return 2;
	key = load_key(argv[3]);
	handshake(&c, key);
	if (!strcmp(mode, "badproto")) {
		static const uint8_t junk[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12 };
		send_app(&c, junk, sizeof(junk));
		return finish(&c, key, await_drop(c.fd));
	}
	send_hello(&c, key);
	if (read_hello(&c, alliance)) {
		fprintf(stderr, "hostile: no Hello with an alliance\n");
		return finish(&c, key, 2);
	}
	uint8_t *envs[2];
	size_t lens[2];
	if (!strcmp(mode, "badsig")) {
		envs[0] = make_record(key, alliance, 1, &lens[0]);
		envs[0][lens[0] - 1] ^= 0x01;   /* last signature byte */
		send_records(&c, alliance, key->pk, 1, envs, lens, 1);
	} else if (!strcmp(mode, "outoforder")) {
		envs[0] = make_record(key, alliance, 2, &lens[0]);
		envs[1] = make_record(key, alliance, 1, &lens[1]);
		send_records(&c, alliance, key->pk, 1, envs, lens, 2);
	} else if (!strcmp(mode, "otheralliance")) {
		uint8_t other[32];
		randombytes_buf(other, 32);
		envs[0] = make_record(key, other, 1, &lens[0]);
		send_records(&c, other, key->pk, 1, envs, lens, 1);
	} else {
		return finish(&c, key, 2);
	}
	int rc = await_drop(c.fd);
	free(envs[0]);
	if (!strcmp(mode, "outoforder"))
		free(envs[1]);
	return finish(&c, key, rc);
}
