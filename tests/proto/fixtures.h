/*
 * fixtures.h - valid records of every kind, built in caller-owned memory,
 * for the agora_proto tests.
 */
#ifndef AGORA_TESTS_PROTO_FIXTURES_H
#define AGORA_TESTS_PROTO_FIXTURES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "proto/proto.h"

#define NOW_MS 1700000000000ULL

/* Every message a record of any kind may point at; no heap memory. */
struct fixture {
	Agora__Record rec;
	Agora__Charter charter;
	Agora__Admission admission;
	Agora__Revocation revocation;
	Agora__KeyRotation key_rotation;
	Agora__Profile profile;
	Agora__Target target;
	Agora__Inventory inventory;
	Agora__SectorEmission sector[3];
	Agora__SectorEmission *sectors[3];
	Agora__Measure measure;
	Agora__Translation translation;
	Agora__Translation *translations[1];
	Agora__Area areas[2];
	Agora__Hazard hazards[1];
	Agora__Result result;
	Agora__Lesson lesson;
	Agora__Barrier barriers[2];
	ProtobufCBinaryData lesson_measures[1];
	Agora__Endorsement endorsement;
	Agora__Supersede supersede;
	Agora__Retract retract;
	Agora__Endpoint endpoint;
	char *addresses[PROTO_ENDPOINT_MAX + 2];
	ProtobufCBinaryData coordinators[2];
	char *languages[2];
	char *tags[2];
	char *links[1];
	uint8_t alliance[32];
	uint8_t prev[32];
	uint8_t other[32];          /* some other key / record id */
	uint8_t sig[64];
	uint8_t author[32];
};

/* Fill f with a valid record of `kind` signed by `key` (a Supersede carries
 * a Measure).  Charters are seq 1; every other kind is seq 2 with a prev. */
void fixture_init(struct fixture *f, enum proto_kind kind, const struct proto_key *key);

/* A deterministic test key from a one-byte seed pattern.  Free with
 * proto_key_free. */
struct proto_key *fixture_key(uint8_t pattern);

/* Sign f->rec with key at NOW_MS; asserts success. */
void fixture_sign(uint8_t **env, size_t *len, const struct fixture *f, const struct proto_key *key);

/* Build an envelope around arbitrary record bytes, signed by key. */
void fixture_envelope_raw(uint8_t **env, size_t *len, const uint8_t *rec, size_t rec_len,
                          const struct proto_key *key);

/*
 * Record bytes written by hand, for the canonical-form and newer-parts tests:
 * a caller-owned buffer and protobuf's primitives.  Every writer asserts
 * that the buffer has room.
 */
struct wbuf {
	uint8_t b[8192];
	size_t n;
};

void w_raw(struct wbuf *w, const void *p, size_t n);
void w_varint(struct wbuf *w, uint64_t v);
void w_tag(struct wbuf *w, uint32_t num, unsigned wire_type);
/* Field num, wire type 2, holding p[0..n). */
void w_len(struct wbuf *w, uint32_t num, const void *p, size_t n);
/* Field num, wire type 0. */
void w_uint(struct wbuf *w, uint32_t num, uint64_t v);
/* Field num holding m packed by protobuf-c. */
void w_msg(struct wbuf *w, uint32_t num, const ProtobufCMessage *m);
/* The Record header fields (1..5) of f->rec, packed by protobuf-c. */
void w_header(struct wbuf *w, const struct fixture *f);

/* Sign bytes[0..n) as a record of key and open it; returns the code and, on 0,
 * *rec (free with agora__record__free_unpacked).  err may be NULL. */
int open_raw(Agora__Record **rec, const struct wbuf *w, const struct proto_key *key,
             struct proto_error *err);

/* Test groups, one per source file. */
int envelope_tests(void);
int canonical_tests(void);
int kind_tests(void);
int compat_tests(void);
int key_tests(void);
int validate_tests(void);
int endpoint_tests(void);
int attach_tests(void);
int names_tests(void);
int control_tests(void);

#endif
