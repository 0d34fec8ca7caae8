/*
 * hostile_wire.h - test helper: the client half of the agora wire protocol
 * (PROTOCOL.md sections 3-4) for the hostile peer in hostile.c.  Blocking
 * sockets, no loop: dial, Noise XX as initiator, framed app messages out,
 * whole wire Messages in, and the signed records an attacker needs.
 *
 * Every function exits the process with status 2 on a local error (a
 * broken test set-up, not a finding); what the node does is reported
 * through return values.  Single-threaded; no global state apart from the
 * byte counters of each connection.
 */
#ifndef AGORA_TESTS_HOSTILE_WIRE_H
#define AGORA_TESTS_HOSTILE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/engine/frame.h"
#include "node/engine/noise.h"
#include "proto/proto.h"
#include "wire.pb-c.h"

#define HW_RBUF 65536

/* One connection to a node, after the Noise handshake. */
struct hw_conn {
	int fd;
	struct noise_cipher send, recv;
	struct frame_decoder dec;
	uint8_t rbuf[HW_RBUF];        /* ciphertext read, not yet decoded */
	size_t roff, rlen;
	uint64_t bytes_in, bytes_out; /* at the transport, handshake included */
	uint8_t remote[32];           /* the node's key (from the handshake) */
	uint8_t alliance[32];         /* first alliance of the node's Hello */
	size_t n_alliances;
	bool closed;                  /* the node closed the connection */
};

/* Monotonic milliseconds. */
uint64_t hw_now_ms(void);
/* Wall-clock unix milliseconds (record timestamps). */
uint64_t hw_wall_ms(void);

/* TCP to 127.0.0.1:port, from source address src (NULL: any).  The fd,
 * or -1 with errno set when the connection cannot be made. */
int hw_dial(const char *src, int port);

/* Load <home>/identity.key (plain).  Freed with proto_key_free. */
struct proto_key *hw_load_key(const char *home);

/* Dial and run the handshake as initiator with key.  0, or -1 when the
 * connection failed, or the node hung up or answered nonsense during the
 * handshake (c->fd is then closed; hw_close is still safe). */
int hw_connect(struct hw_conn *c, int port, const struct proto_key *key);
/* Free the ciphers and decoder, close the socket. */
void hw_close(struct hw_conn *c);

/* Send raw bytes / one app message / one wire Message.  A node that hung
 * up is not an error here (c->closed is set). */
void hw_send_raw(struct hw_conn *c, const void *buf, size_t len);
void hw_send_app(struct hw_conn *c, const uint8_t *msg, size_t len);
void hw_send_msg(struct hw_conn *c, const Agora__Wire__Message *m);
/* Send several small app messages packed into as few transport messages
 * as possible (a peer may cut the stream anywhere, PROTOCOL.md 3.4). */
void hw_send_packed(struct hw_conn *c, const uint8_t *stream, size_t len);

/*
 * The next wire Message from the node, waiting at most timeout_ms
 * (negative: for ever).  NULL on timeout (*closed false) or when the node
 * closed the connection or sent something undecodable (*closed true).
 * Free with agora__wire__message__free_unpacked(m, NULL).
 */
Agora__Wire__Message *hw_recv(struct hw_conn *c, int timeout_ms, bool *closed);

/* Our Hello (version 1, key, name "hostile", no alliances). */
void hw_send_hello(struct hw_conn *c, const struct proto_key *key);
/* Read until the node's Hello; its first alliance goes to c->alliance.
 * 0, or -1 if the node closed first or sent no Hello within timeout_ms. */
int hw_read_hello(struct hw_conn *c, int timeout_ms);
/* Hello both ways: hw_connect, hw_send_hello, hw_read_hello. */
int hw_session(struct hw_conn *c, int port, const struct proto_key *key);

/* Send Ping(nonce) and read until its Pong: the node has processed every
 * message sent before, and every byte it queued before the Pong has been
 * read.  *other (may be NULL) counts the other messages read meanwhile.
 * 0, or -1 if the node closed the connection first / timeout passed. */
int hw_barrier(struct hw_conn *c, uint64_t nonce, int timeout_ms, size_t *other);

/* Wait until the node closes the connection: 0 closed within timeout_ms,
 * 1 still open.  Anything it sends meanwhile is read and dropped. */
int hw_await_close(struct hw_conn *c, int timeout_ms);
/* The same for a bare socket (no handshake done). */
int hw_await_close_fd(int fd, int timeout_ms);

/* A signed Profile record of key in alliance (NULL: a Charter founding a
 * new alliance) at seq with prev (NULL: none), dated created_ms; name
 * varies the content so that records at one seq differ.  malloc()ed. */
uint8_t *hw_record(const struct proto_key *key, const uint8_t *alliance, uint64_t seq,
                   const uint8_t *prev, uint64_t created_ms, const char *name, size_t *len);
/* A signed Measure record, the kind a member publishes. */
uint8_t *hw_measure(const struct proto_key *key, const uint8_t *alliance, uint64_t seq,
                    const uint8_t *prev, uint64_t created_ms, const char *title, size_t *len);

/* Records{alliance, author, first_seq, envs[0..n)}. */
void hw_send_records(struct hw_conn *c, const uint8_t *alliance, const uint8_t *author,
                     uint64_t first_seq, uint8_t *const *envs, const size_t *lens, size_t n);

#endif
