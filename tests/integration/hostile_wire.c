/*
 * hostile_wire.c - test helper: the client half of the agora wire protocol
 * for hostile.c (see hostile_wire.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "hostile_wire.h"

static void die(const char *what)
{
	fprintf(stderr, "hostile: %s\n", what);
	exit(2);
}

uint64_t hw_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t hw_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int hw_dial(const char *src, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (src) {
		struct sockaddr_in s = { .sin_family = AF_INET };
		inet_pton(AF_INET, src, &s.sin_addr);
		if (bind(fd, (struct sockaddr *)&s, sizeof(s)) < 0) {
			close(fd);
			return -1;
		}
	}
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

struct proto_key *hw_load_key(const char *home)
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
	sodium_memzero(text, sizeof(text));
	return key;
}

static void count_out(struct hw_conn *c, size_t n)
{
	c->bytes_out += n;
}

void hw_send_raw(struct hw_conn *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len && !c->closed) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			c->closed = true;   /* the node hung up: that is its answer */
			return;
		}
		count_out(c, (size_t)n);
		p += n;
		len -= (size_t)n;
	}
}

/* Read one handshake frame (blocking, at most 10 s). */
static int read_frame(struct hw_conn *c, uint8_t *buf, size_t *len)
{
	uint8_t h[2];
	size_t want;
	for (size_t got = 0; got < 2;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		if (poll(&p, 1, 10000) <= 0)
			return -1;
		ssize_t n = recv(c->fd, h + got, 2 - got, 0);
		if (n <= 0)
			return -1;
		c->bytes_in += (size_t)n;
		got += (size_t)n;
	}
	want = (size_t)h[0] << 8 | h[1];
	for (size_t got = 0; got < want;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		if (poll(&p, 1, 10000) <= 0)
			return -1;
		ssize_t n = recv(c->fd, buf + got, want - got, 0);
		if (n <= 0)
			return -1;
		c->bytes_in += (size_t)n;
		got += (size_t)n;
	}
	*len = want;
	return 0;
}

int hw_connect(struct hw_conn *c, int port, const struct proto_key *key)
{
	struct noise_agora ag;
	uint8_t msg[NOISE_MSG_MAX], fr[NOISE_MSG_MAX + 2];
	size_t len, flen;

	memset(c, 0, sizeof(*c));
	if ((c->fd = hw_dial(NULL, port)) < 0) {
		perror("hostile: connect");
		c->closed = true;
		return -1;
	}
	if (noise_agora_init(&ag, NOISE_INITIATOR, key->pk, key->sk, NULL))
		die("noise init");
	noise_agora_write(msg, &len, sizeof(msg), &ag);
	frame_wrap(fr, &flen, sizeof(fr), msg, len);
	hw_send_raw(c, fr, flen);
	if (read_frame(c, msg, &len) || noise_agora_read(&ag, msg, len)) {
		noise_agora_dispose(&ag);
		close(c->fd);
		c->fd = -1;
		c->closed = true;
		return -1;
	}
	noise_agora_write(msg, &len, sizeof(msg), &ag);
	frame_wrap(fr, &flen, sizeof(fr), msg, len);
	hw_send_raw(c, fr, flen);
	noise_agora_split(&c->send, &c->recv, c->remote, NULL, &ag);
	noise_agora_dispose(&ag);
	if (frame_decoder_init(&c->dec, &c->recv, 64u << 20))
		die("decoder");
	return 0;
}

void hw_close(struct hw_conn *c)
{
	frame_decoder_dispose(&c->dec);
	noise_cipher_dispose(&c->send);
	noise_cipher_dispose(&c->recv);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

void hw_send_app(struct hw_conn *c, const uint8_t *msg, size_t len)
{
	size_t cap = frame_encoded_size(len), out;
	uint8_t *buf = malloc(cap);
	if (!buf || frame_encode(buf, &out, cap, &c->send, msg, len))
		die("frame_encode");
	hw_send_raw(c, buf, out);
	free(buf);
}

void hw_send_msg(struct hw_conn *c, const Agora__Wire__Message *m)
{
	size_t len = agora__wire__message__get_packed_size(m);
	uint8_t *buf = malloc(len + 1);
	if (!buf)
		die("out of memory");
	agora__wire__message__pack(m, buf);
	hw_send_app(c, buf, len);
	free(buf);
}

/* The stream is already app messages (4-byte length + body each): cut it
 * into full transport messages, as a peer may. */
void hw_send_packed(struct hw_conn *c, const uint8_t *stream, size_t len)
{
	uint8_t ct[NOISE_MSG_MAX + 2];
	while (len && !c->closed) {
		size_t chunk = len < FRAME_CHUNK_MAX ? len : FRAME_CHUNK_MAX, clen;
		if (noise_cipher_encrypt(ct + 2, &clen, sizeof(ct) - 2, &c->send, NULL, 0, stream,
		                         chunk))
			die("encrypt");
		ct[0] = (uint8_t)(clen >> 8);
		ct[1] = (uint8_t)clen;
		hw_send_raw(c, ct, clen + 2);
		stream += chunk;
		len -= chunk;
	}
}

Agora__Wire__Message *hw_recv(struct hw_conn *c, int timeout_ms, bool *closed)
{
	uint64_t end = timeout_ms < 0 ? UINT64_MAX : hw_now_ms() + (uint64_t)timeout_ms;
	*closed = c->closed;
	while (!c->closed) {
		uint8_t *msg;
		size_t mlen, used;
		int rc = frame_decoder_next(&msg, &mlen, &used, &c->dec, c->rbuf + c->roff,
		                            c->rlen - c->roff);
		c->roff += used;
		if (rc == 0) {
			Agora__Wire__Message *m = agora__wire__message__unpack(NULL, mlen, msg);
			free(msg);
			if (!m)
				break;
			return m;
		}
		if (rc != FRAME_E_AGAIN)
			break;
		uint64_t now = hw_now_ms();
		if (now >= end)
			return NULL;
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int wait = end == UINT64_MAX ? 1000 : (int)(end - now > 1000 ? 1000 : end - now);
		if (poll(&p, 1, wait) <= 0)
			continue;
		ssize_t n = recv(c->fd, c->rbuf, sizeof(c->rbuf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		c->bytes_in += (size_t)n;
		c->roff = 0;
		c->rlen = (size_t)n;
	}
	c->closed = true;
	*closed = true;
	return NULL;
}

void hw_send_hello(struct hw_conn *c, const struct proto_key *key)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Hello h = AGORA__WIRE__HELLO__INIT;
	h.has_version = h.has_node_key = true;
	h.version = 1;
	h.node_key.data = (uint8_t *)key->pk;
	h.node_key.len = 32;
	h.name = "hostile";
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_HELLO;
	m.hello = &h;
	hw_send_msg(c, &m);
}

int hw_read_hello(struct hw_conn *c, int timeout_ms)
{
	uint64_t end = hw_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		uint64_t now = hw_now_ms();
		bool closed;
		if (now >= end)
			return -1;
		Agora__Wire__Message *m = hw_recv(c, (int)(end - now), &closed);
		if (!m)
			return -1;
		if (m->msg_case == AGORA__WIRE__MESSAGE__MSG_HELLO) {
			c->n_alliances = m->hello->n_alliances;
			if (m->hello->n_alliances && m->hello->alliances[0].len == 32)
				memcpy(c->alliance, m->hello->alliances[0].data, 32);
			agora__wire__message__free_unpacked(m, NULL);
			return 0;
		}
		agora__wire__message__free_unpacked(m, NULL);
	}
}

int hw_session(struct hw_conn *c, int port, const struct proto_key *key)
{
	if (hw_connect(c, port, key))
		return -1;
	hw_send_hello(c, key);
	return hw_read_hello(c, 10000);
}

int hw_barrier(struct hw_conn *c, uint64_t nonce, int timeout_ms, size_t *other)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Ping p = AGORA__WIRE__PING__INIT;
	uint64_t end = hw_now_ms() + (uint64_t)timeout_ms;
	p.has_nonce = true;
	p.nonce = nonce;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_PING;
	m.ping = &p;
	hw_send_msg(c, &m);
	for (;;) {
		uint64_t now = hw_now_ms();
		bool closed;
		if (now >= end)
			return -1;
		Agora__Wire__Message *r = hw_recv(c, (int)(end - now), &closed);
		if (!r)
			return -1;
		bool pong = r->msg_case == AGORA__WIRE__MESSAGE__MSG_PONG && r->pong->has_nonce &&
		            r->pong->nonce == nonce;
		if (!pong && other)
			(*other)++;
		agora__wire__message__free_unpacked(r, NULL);
		if (pong)
			return 0;
	}
}

int hw_await_close_fd(int fd, int timeout_ms)
{
	uint8_t buf[4096];
	uint64_t end = hw_now_ms() + (uint64_t)timeout_ms;
	while (hw_now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 500) <= 0)
			continue;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0 && !(n < 0 && errno == EINTR))
			return 0;
	}
	return 1;
}

int hw_await_close(struct hw_conn *c, int timeout_ms)
{
	if (c->closed)
		return 0;
	int rc = hw_await_close_fd(c->fd, timeout_ms);
	if (rc == 0)
		c->closed = true;
	return rc;
}

static uint8_t *sign(const struct proto_key *key, Agora__Record *rec, const uint8_t *alliance,
                     uint64_t seq, const uint8_t *prev, uint64_t created_ms, size_t *len)
{
	struct proto_error err;
	uint8_t *env;
	rec->has_author = rec->has_seq = rec->has_created_ms = true;
	rec->author.data = (uint8_t *)key->pk;
	rec->author.len = 32;
	rec->seq = seq;
	rec->created_ms = created_ms;
	if (alliance) {
		rec->has_alliance = true;
		rec->alliance.data = (uint8_t *)alliance;
		rec->alliance.len = 32;
	}
	if (prev) {
		rec->has_prev = true;
		rec->prev.data = (uint8_t *)prev;
		rec->prev.len = 32;
	}
	if (proto_record_sign(&env, len, NULL, rec, key, hw_wall_ms(), &err)) {
		fprintf(stderr, "hostile: sign: %s %s\n", err.field, err.msg);
		exit(2);
	}
	return env;
}

uint8_t *hw_record(const struct proto_key *key, const uint8_t *alliance, uint64_t seq,
                   const uint8_t *prev, uint64_t created_ms, const char *name, size_t *len)
{
	Agora__Record rec = AGORA__RECORD__INIT;
	if (!alliance) {
		Agora__Charter ch = AGORA__CHARTER__INIT;
		ProtobufCBinaryData co = { 32, (uint8_t *)key->pk };
		ch.name = (char *)name;
		ch.n_coordinators = 1;
		ch.coordinators = &co;
		ch.has_policy = true;
		ch.policy = AGORA__ADMISSION_POLICY__ADMISSION_POLICY_ANY_COORDINATOR;
		rec.body_case = AGORA__RECORD__BODY_CHARTER;
		rec.charter = &ch;
		return sign(key, &rec, NULL, seq, prev, created_ms, len);
	}
	Agora__Profile p = AGORA__PROFILE__INIT;
	p.name = (char *)name;
	p.country = "DK";
	rec.body_case = AGORA__RECORD__BODY_PROFILE;
	rec.profile = &p;
	return sign(key, &rec, alliance, seq, prev, created_ms, len);
}

uint8_t *hw_measure(const struct proto_key *key, const uint8_t *alliance, uint64_t seq,
                    const uint8_t *prev, uint64_t created_ms, const char *title, size_t *len)
{
	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Measure m = AGORA__MEASURE__INIT;
	m.title = (char *)title;
	m.language = "da";
	m.has_mitigation = true;
	m.mitigation = true;
	rec.body_case = AGORA__RECORD__BODY_MEASURE;
	rec.measure = &m;
	return sign(key, &rec, alliance, seq, prev, created_ms, len);
}

void hw_send_records(struct hw_conn *c, const uint8_t *alliance, const uint8_t *author,
                     uint64_t first_seq, uint8_t *const *envs, const size_t *lens, size_t n)
{
	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Records r = AGORA__WIRE__RECORDS__INIT;
	ProtobufCBinaryData *b = calloc(n ? n : 1, sizeof(*b));
	if (!b)
		die("out of memory");
	for (size_t i = 0; i < n; i++) {
		b[i].data = envs[i];
		b[i].len = lens[i];
	}
	r.has_alliance = r.has_author = r.has_first_seq = true;
	r.alliance.data = (uint8_t *)alliance;
	r.alliance.len = 32;
	r.author.data = (uint8_t *)author;
	r.author.len = 32;
	r.first_seq = first_seq;
	r.envelopes = b;
	r.n_envelopes = n;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_RECORDS;
	m.records = &r;
	hw_send_msg(c, &m);
	free(b);
}
