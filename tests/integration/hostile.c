/*
 * hostile.c - test helper: a misbehaving peer that speaks the real agora
 * protocol (Noise XX, framing, wire.proto messages; hostile_wire.c), and
 * the probes the hostile tests measure a node with.  This file: the mode
 * dispatch and the first group of modes; the attacks of issue 10 are in
 * hostile_attack.c, the probes in hostile_probe.c.
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
 *   idle N      open N connections from 127.0.0.2, say nothing, wait until all are dropped
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
 *   forkcount HOME           fork evidence entries in HOME's store (read-only)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "hostile.h"

bool hostile_stop_requested(void)
{
	const char *p = getenv("HOSTILE_STOP");
	return p && access(p, F_OK) == 0;
}

/* src: the source address (NULL: any), e.g. 127.0.0.2 for a stranger on
 * another host than the members, who all come from 127.0.0.1. */
static int dial_or_die(const char *src, int port)
{
	int fd = hw_dial(src, port);
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

void hostile_member_session(int port, struct hw_conn *c, const struct proto_key *key)
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

static int old_modes(const char *mode, int port, int argc, char **argv)
{
	struct hw_conn c;
	if (!strcmp(mode, "random")) {
		uint8_t junk[4096];
		int fd = dial_or_die(NULL, port);
		randombytes_buf(junk, sizeof(junk));
		junk[0] = 0x00;   /* a short first frame, so the node reads it at once */
		junk[1] = 0x40;
		send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
		return hw_await_close_fd(fd, 20000);
	}
	if (!strcmp(mode, "bigframe")) {
		uint8_t b[12] = { 0xff, 0xff };
		int fd = dial_or_die(NULL, port);
		send(fd, b, sizeof(b), MSG_NOSIGNAL);
		return hw_await_close_fd(fd, 20000);
	}
	if (!strcmp(mode, "idle")) {
		int n = argc > 3 ? atoi(argv[3]) : 200, dropped = 0;
		int *fds = calloc((size_t)n, sizeof(*fds));
		for (int i = 0; i < n; i++)
			fds[i] = dial_or_die("127.0.0.2", port);
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
int main(int argc, char **argv)
{
	if (argc < 3 || proto_init())
		return 2;
	const char *mode = argv[1], *a3 = argc > 3 ? argv[3] : NULL;
	const char *a4 = argc > 4 ? argv[4] : NULL, *a5 = argc > 5 ? argv[5] : NULL;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "probe"))
		return probe_control(argv[2]);
	if (!strcmp(mode, "ctlidle"))
		return a4 ? probe_ctlidle(argv[2], atoi(a3), atoi(a4)) : 2;
	if (!strcmp(mode, "forkcount"))
		return probe_forkcount(argv[2]);
	if (!strcmp(mode, "silentdns"))
		return probe_silentdns(argv[2]);
	int port = atoi(argv[2]);
	if (!strcmp(mode, "preauth"))
		return a3 ? attack_preauth(port, atoi(a3)) : 2;
	if (!strcmp(mode, "flood"))
		return a4 ? attack_flood(port, a3, atoi(a4)) : 2;
	if (!strcmp(mode, "redeem"))
		return a3 ? attack_redeem(port, a3) : 2;
	if (!strcmp(mode, "outsider"))
		return a3 ? attack_outsider(port, atoi(a3)) : 2;
	static const char *const keyed[] = { "floorvector", "floorheader", "ranges", "pings",
	                                     "bigparse", "forkproofs", "forkrecords",
	                                     "foreignfork", "backdate", "ackloop", "digest",
	                                     "member", "trickle", NULL };
	size_t k = 0;
	while (keyed[k] && strcmp(keyed[k], mode))
		k++;
	if (!keyed[k])
		return old_modes(mode, port, argc, argv);
	if (!a3)
		return 2;
	struct proto_key *key = key_arg(a3);
	int rc = 2;
	if (!strcmp(mode, "floorvector") || !strcmp(mode, "floorheader"))
		rc = attack_floor(port, mode, key);
	else if (!strcmp(mode, "ranges") && a5)
		rc = attack_ranges(port, key, (size_t)atol(a4), atof(a5));
	else if (!strcmp(mode, "pings") && a4)
		rc = attack_pings(port, key, (size_t)atol(a4));
	else if (!strcmp(mode, "bigparse"))
		rc = attack_bigparse(port, key, !strcmp(a3, "-"));
	else if ((!strcmp(mode, "forkproofs") || !strcmp(mode, "forkrecords")) && a4)
		rc = attack_forks(port, mode, key, (size_t)atol(a4), a5 ? atof(a5) : 0);
	else if (!strcmp(mode, "foreignfork"))
		rc = attack_foreignfork(port, key);
	else if (!strcmp(mode, "backdate") && a5)
		rc = attack_backdate(port, key, a4, strtoull(a5, NULL, 10));
	else if (!strcmp(mode, "ackloop") && a4)
		rc = attack_ackloop(port, key, atoi(a4));
	else if (!strcmp(mode, "digest") && a4)
		rc = attack_digest(port, key, a4);
	else if (!strcmp(mode, "member"))
		rc = attack_member(port, key);
	else if (!strcmp(mode, "trickle") && a4)
		rc = attack_trickle(port, key, atoi(a4));
	proto_key_free(key);
	return rc;
}
