/*
 * hostile.h - the modes of the hostile test helper (hostile.c): attacks on
 * a node over the real protocol (hostile_attack.c) and the probes the
 * tests measure it with (hostile_probe.c).  Each returns the process exit
 * status its mode documents in hostile.c: 0 the node behaved as expected,
 * 1 it did not, 2 a set-up error (some exit(2) at once).  port is the
 * node's TCP port on 127.0.0.1; keys are borrowed.
 */
#ifndef AGORA_TESTS_HOSTILE_H
#define AGORA_TESTS_HOSTILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostile_wire.h"

/* hostile.c */
/* Has the file named by $HOSTILE_STOP appeared (modes that run until told)? */
bool hostile_stop_requested(void);
/* A session (Hello both ways) as an admitted member, or exit 2. */
void hostile_member_session(int port, struct hw_conn *c, const struct proto_key *key);

/* hostile_attack.c */
int attack_floor(int port, const char *mode, const struct proto_key *key);            /* D1 */
int attack_ranges(int port, const struct proto_key *key, size_t n, double ratio);     /* D2 */
int attack_pings(int port, const struct proto_key *key, size_t mib);                  /* D3 */
int attack_bigparse(int port, const struct proto_key *key, bool outsider);            /* D4 */
int attack_redeem(int port, const char *code);                                        /* D4 */
int attack_outsider(int port, int secs);                                              /* D4 */
int attack_preauth(int port, int n);                                                  /* D5 */
int attack_forks(int port, const char *mode, const struct proto_key *key, size_t n,
                 double rate);                                                        /* D6/D7 */
int attack_backdate(int port, const struct proto_key *key, const char *victim_home,
                    uint64_t created_ms);                                             /* D8 */
int attack_flood(int port, const char *src, int n);                                   /* D9 */
int attack_member(int port, const struct proto_key *key);                             /* D9 */
int attack_foreignfork(int port, const struct proto_key *key);                        /* D10 */
int attack_ackloop(int port, const struct proto_key *key, int max_acks);              /* D11 */
int attack_digest(int port, const struct proto_key *key, const char *hex);            /* D12 */
int attack_trickle(int port, const struct proto_key *key, int secs);                  /* D19 */

/* hostile_probe.c */
int probe_control(const char *sockpath);                   /* slowest PeersReq, ms */
int probe_ctlidle(const char *sockpath, int n, int secs);  /* D17 */
int probe_silentdns(const char *ip);                       /* D14 */
int probe_forkcount(const char *home);                     /* fork evidence entries */

#endif
