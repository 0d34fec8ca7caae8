/* helper.h - test helpers for tests/storage: keys, feeds, signed records. */
#ifndef AGORA_TEST_STORAGE_HELPER_H
#define AGORA_TEST_STORAGE_HELPER_H

#include <stdint.h>
#include <stddef.h>

#include "proto/proto.h"
#include "storage/storage.h"

#define TH_NOW 1750000000000ULL   /* "now" for every test, ms */

/* One (alliance, author) feed as a test author sees it. */
struct th_feed {
	struct proto_key *key;      /* borrowed */
	uint8_t alliance[PROTO_ID_BYTES];
	uint64_t seq;               /* last signed */
	uint8_t prev[PROTO_ID_BYTES];
};

/* Deterministic key from a small number; freed with proto_key_free. */
struct proto_key *th_key(unsigned n);
/* Fresh temporary directory (malloc()ed path) and its removal. */
char *th_tmpdir(void);
void th_rmdir(char *dir);   /* removes and frees */

/* Write len bytes of buf to path (created or truncated), then chmod it to
 * mode; aborts the test program on failure. */
void th_put_file(const char *path, const void *buf, size_t len, unsigned mode);
/* path's whole text, malloc()ed (NUL-terminated); aborts on failure. */
char *th_read_file(const char *path);

/* Signed envelope, malloc()ed. */
struct th_env {
	uint8_t *env;
	size_t len;
	uint8_t id[PROTO_ID_BYTES];
};
void th_env_free(struct th_env *e);

/*
 * Sign rec as the next record of feed f (fills alliance, author, seq, prev,
 * created_ms; a Charter gets no alliance and sets f->alliance to its id).
 * Aborts the test program on failure.
 */
struct th_env th_sign(struct th_feed *f, Agora__Record *rec, uint64_t created_ms);

/* A charter founding an alliance with key as coordinator; f is set up. */
struct th_env th_charter(struct th_feed *f, struct proto_key *key, const char *name,
                         uint64_t created_ms);
/* Start a member's feed in an alliance. */
void th_feed_init(struct th_feed *f, struct proto_key *key, const uint8_t alliance[PROTO_ID_BYTES]);

/* A measure with a title and summary (mitigation, language "da"). */
struct th_env th_measure(struct th_feed *f, const char *title, const char *summary,
                         uint64_t created_ms);

/* Ingest one envelope, returning its status (or the call's error). */
int th_ingest1(struct store *s, const struct th_env *e);

/*
 * A common fixture: a fresh store in a temporary directory holding the
 * charter of "DK2020", founded by k1 (feed f1); k2 (feed f2) may publish in
 * it once admitted.  th_fx_setup / th_fx_teardown have cmocka's setup and
 * teardown signature (*state is the struct th_fx).
 */
struct th_fx {
	char *dir;
	struct store *s;
	struct proto_key *k1, *k2;
	struct th_feed f1, f2;
	struct th_env charter;
};
int th_fx_setup(void **state);
int th_fx_teardown(void **state);

#endif
