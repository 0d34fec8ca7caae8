#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper.h"

static void die(const char *what, int rc)
{
	fprintf(stderr, "test helper: %s: %s\n", what, store_strerror(rc));
	abort();
}

struct proto_key *th_key(unsigned n)
{
	uint8_t seed[PROTO_SEED_BYTES];
	memset(seed, (int)(n & 0xff), sizeof seed);
	seed[0] = (uint8_t)(n >> 8);
	seed[1] = 0x5a;
	struct proto_key *k = NULL;
	int rc = proto_key_from_seed(&k, seed);
	if (rc)
		die("proto_key_from_seed", rc);
	return k;
}

char *th_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p = NULL;
	if (asprintf(&p, "%s/agora-store-XXXXXX", base && *base ? base : "/tmp") < 0 || !mkdtemp(p))
		die("mkdtemp", -1);
	return p;
}

static int rm_cb(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb; (void)type; (void)ftw;
	return remove(path);
}

void th_rmdir(char *dir)
{
	if (!dir)
		return;
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

void th_put_file(const char *path, const void *buf, size_t len, unsigned mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || close(fd) != 0 ||
	    chmod(path, (mode_t)mode) != 0)
		die(path, -errno);
}

char *th_read_file(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	int rc = store_file_read(path, 1 << 20, &text, &len);
	if (rc)
		die(path, rc);
	return text;
}

void th_env_free(struct th_env *e)
{
	free(e->env);
	e->env = NULL;
}

struct th_env th_sign(struct th_feed *f, Agora__Record *rec, uint64_t created_ms)
{
	struct th_env e = { 0 };
	bool charter = rec->body_case == AGORA__RECORD__BODY_CHARTER;
	rec->has_alliance = !charter;
	rec->alliance.len = charter ? 0 : PROTO_ID_BYTES;
	rec->alliance.data = charter ? NULL : f->alliance;
	rec->has_author = 1;
	rec->author.len = PROTO_KEY_BYTES;
	rec->author.data = f->key->pk;
	rec->has_seq = 1;
	rec->seq = f->seq + 1;
	rec->has_prev = f->seq > 0;
	rec->prev.len = f->seq > 0 ? PROTO_ID_BYTES : 0;
	rec->prev.data = f->seq > 0 ? f->prev : NULL;
	rec->has_created_ms = 1;
	rec->created_ms = created_ms;
	struct proto_error err;
	int rc = proto_record_sign(&e.env, &e.len, e.id, rec, f->key, TH_NOW, &err);
	if (rc) {
		fprintf(stderr, "sign: %s %s\n", err.field, err.msg);
		die("proto_record_sign", rc);
	}
	if (charter)
		memcpy(f->alliance, e.id, PROTO_ID_BYTES);
	f->seq++;
	memcpy(f->prev, e.id, PROTO_ID_BYTES);
	return e;
}

struct th_env th_charter(struct th_feed *f, struct proto_key *key, const char *name,
                         uint64_t created_ms)
{
	memset(f, 0, sizeof *f);
	f->key = key;
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Charter c = AGORA__CHARTER__INIT;
	/* Ingest enforces membership: every test key (th_key 1..16 and
	 * 100..107) is a founding coordinator, so tests of feeds, indexes and
	 * queries can write as any of them.  Membership itself is tested in
	 * members_test.c with charters of its own. */
	ProtobufCBinaryData coord[1 + 16 + 8];
	struct proto_key *extra[24];
	size_t n = 0;
	coord[n++] = (ProtobufCBinaryData){ PROTO_KEY_BYTES, key->pk };
	for (unsigned i = 0; i < 24; i++) {
		extra[i] = th_key(i < 16 ? i + 1 : 100 + i - 16);
		if (memcmp(extra[i]->pk, key->pk, PROTO_KEY_BYTES) != 0)
			coord[n++] = (ProtobufCBinaryData){ PROTO_KEY_BYTES, extra[i]->pk };
	}
	c.name = (char *)name;
	c.n_coordinators = n;
	c.coordinators = coord;
	c.has_policy = 1;
	c.policy = AGORA__ADMISSION_POLICY__ADMISSION_POLICY_ANY_COORDINATOR;
	r.body_case = AGORA__RECORD__BODY_CHARTER;
	r.charter = &c;
	struct th_env e = th_sign(f, &r, created_ms);
	for (unsigned i = 0; i < 24; i++)
		proto_key_free(extra[i]);
	return e;
}

void th_feed_init(struct th_feed *f, struct proto_key *key, const uint8_t alliance[PROTO_ID_BYTES])
{
	memset(f, 0, sizeof *f);
	f->key = key;
	memcpy(f->alliance, alliance, PROTO_ID_BYTES);
}

struct th_env th_measure(struct th_feed *f, const char *title, const char *summary,
                         uint64_t created_ms)
{
	Agora__Record r = AGORA__RECORD__INIT;
	Agora__Measure m = AGORA__MEASURE__INIT;
	m.title = (char *)title;
	m.summary = (char *)summary;
	m.language = "da";
	m.has_mitigation = 1;
	m.mitigation = 1;
	r.body_case = AGORA__RECORD__BODY_MEASURE;
	r.measure = &m;
	return th_sign(f, &r, created_ms);
}

int th_ingest1(struct store *s, const struct th_env *e)
{
	struct store_item it = { e->env, e->len };
	int st = 0;
	int rc = store_ingest(s, &it, 1, 0, TH_NOW, &st, NULL, NULL);
	return rc ? rc : st;
}

int th_fx_setup(void **state)
{
	struct th_fx *x = calloc(1, sizeof *x);
	int rc;
	if (!x)
		die("fixture", -ENOMEM);
	x->dir = th_tmpdir();
	if ((rc = store_open(&x->s, x->dir, 0)) != 0)
		die("open a store", rc);
	x->k1 = th_key(1);
	x->k2 = th_key(2);
	x->charter = th_charter(&x->f1, x->k1, "DK2020", TH_NOW - 10000000);
	th_feed_init(&x->f2, x->k2, x->f1.alliance);
	if ((rc = th_ingest1(x->s, &x->charter)) != STORE_NEW)
		die("ingest the charter", rc);
	*state = x;
	return 0;
}

int th_fx_teardown(void **state)
{
	struct th_fx *x = *state;
	store_close(x->s);
	th_rmdir(x->dir);
	th_env_free(&x->charter);
	proto_key_free(x->k1);
	proto_key_free(x->k2);
	free(x);
	return 0;
}
