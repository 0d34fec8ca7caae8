/*
 * diskfull_test.c - a full file system is named as such (issue 10 D13):
 * every write returns -ENOSPC, not -EIO ("Input/output error"), stores
 * nothing, and the store reads and writes again once space is freed.
 *
 * The store lives on an 8 MiB tmpfs of its own; mounting one needs root
 * (or CAP_SYS_ADMIN), so without it the tests are skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "helper.h"

struct fx {
	char *mnt;                  /* the tmpfs */
	char db[4200], filler[4200];
	struct store *s;
	struct proto_key *k1, *k2;
	struct th_feed f1, f2;
	bool mounted;
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof *x);
	x->mnt = th_tmpdir();
	*state = x;
	if (mount("tmpfs", x->mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=8m,mode=0700") != 0)
		return 0;   /* the tests skip */
	x->mounted = true;
	snprintf(x->db, sizeof x->db, "%s/db", x->mnt);
	snprintf(x->filler, sizeof x->filler, "%s/filler", x->mnt);
	assert_int_equal(store_open(&x->s, x->db, 0), 0);
	x->k1 = th_key(1);
	x->k2 = th_key(2);
	struct th_env ch = th_charter(&x->f1, x->k1, "DK2020", TH_NOW - 100000);
	assert_int_equal(th_ingest1(x->s, &ch), STORE_NEW);
	th_env_free(&ch);
	th_feed_init(&x->f2, x->k2, x->f1.alliance);
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	store_close(x->s);
	if (x->mounted)
		assert_int_equal(umount2(x->mnt, MNT_DETACH), 0);
	th_rmdir(x->mnt);
	proto_key_free(x->k1);
	proto_key_free(x->k2);
	free(x);
	return 0;
}

/* A file of `mb` MiB written out (not sparse), to be removed later. */
static void fill(const char *path, size_t mb)
{
	static char buf[1 << 20];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	memset(buf, 'x', sizeof buf);
	for (size_t i = 0; i < mb; i++)
		assert_int_equal(write(fd, buf, sizeof buf), (ssize_t)sizeof buf);
	close(fd);
}

static uint64_t records(struct store *s)
{
	struct store_txn *t;
	struct store_stats st;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_stats(t, &st), 0);
	store_txn_end(t);
	return st.records;
}

#define BATCH 100

/* One batch of BATCH measures of f, about 2 KB each, signed. */
static void make_batch(struct th_feed *f, struct th_env *e, struct store_item *it, unsigned round)
{
	char summary[2000];
	for (size_t k = 0; k + 1 < sizeof summary; k++)
		summary[k] = (char)('a' + (k * 7 + round) % 26);
	summary[sizeof summary - 1] = 0;
	for (unsigned i = 0; i < BATCH; i++) {
		e[i] = th_measure(f, "measure", summary, TH_NOW - 50000 + round * BATCH + i);
		it[i] = (struct store_item){ e[i].env, e[i].len };
	}
}

static void free_batch(struct th_env *e)
{
	for (unsigned i = 0; i < BATCH; i++)
		th_env_free(&e[i]);
}

static void test_diskfull__writes_say_enospc_store_nothing_and_work_once_space_is_freed(void **state)
{
	struct fx *x = *state;
	if (!x->mounted)
		skip();
	fill(x->filler, 2);   /* freed later */
	struct th_env e[BATCH];
	struct store_item it[BATCH];
	uint64_t held = 0;
	int rc = 0;
	for (unsigned round = 0; round < 100; round++) {
		make_batch(&x->f2, e, it, round);
		held = records(x->s);
		rc = store_ingest(x->s, it, BATCH, STORE_INGEST_ATOMIC, TH_NOW, NULL, NULL, NULL);
		if (rc)
			break;
		free_batch(e);
	}
	assert_int_equal(rc, -ENOSPC);
	assert_string_equal(store_strerror(rc), strerror(ENOSPC));
	assert_int_equal(records(x->s), held);   /* nothing of the batch */

	/* every other kind of write says so too; the failed commits left
	 * some file space behind that the next writes reuse, so fill it */
	uint8_t other[PROTO_ID_BYTES];
	memset(other, 3, sizeof other);
	char rest[4200];
	snprintf(rest, sizeof rest, "%s/rest", x->mnt);
	int fd = open(rest, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	static char buf[4096];
	while (write(fd, buf, sizeof buf) > 0)
		;
	close(fd);
	char text[2000];
	memset(text, 'p', sizeof text - 1);
	text[sizeof text - 1] = 0;
	Agora__Record r[BATCH], *rp[BATCH];
	Agora__Measure m[BATCH];
	for (unsigned i = 0; i < BATCH; i++) {
		agora__record__init(&r[i]);
		agora__measure__init(&m[i]);
		m[i].title = "offline";
		m[i].summary = text;
		m[i].language = "da";
		m[i].has_mitigation = m[i].mitigation = 1;
		r[i].body_case = AGORA__RECORD__BODY_MEASURE;
		r[i].measure = &m[i];
		rp[i] = &r[i];
	}
	int prc = 0;
	for (int i = 0; i < 100 && prc == 0; i++)
		prc = store_publish_batch(x->s, x->k1, x->f1.alliance, rp, BATCH, TH_NOW + i, NULL,
		                          NULL, NULL, NULL, NULL);
	assert_int_equal(prc, -ENOSPC);
	/* small writes fit in pages the store frees and takes again, until
	 * records add up; none of them says EIO */
	m[0].summary = NULL;
	prc = 0;
	for (int i = 0; i < 5000 && prc == 0; i++)
		prc = store_publish(x->s, x->k1, x->f1.alliance, rp[0], TH_NOW + 200 + i, NULL, NULL,
		                    NULL, NULL);
	assert_int_equal(prc, -ENOSPC);
	int mrc = store_default_alliance_set(x->s, other);
	assert_true(mrc == 0 || mrc == -ENOSPC);

	/* space freed: the same batch goes in, and the store reads it */
	assert_int_equal(unlink(rest), 0);
	assert_int_equal(unlink(x->filler), 0);
	uint64_t before = records(x->s);
	assert_int_equal(store_ingest(x->s, it, BATCH, STORE_INGEST_ATOMIC, TH_NOW, NULL, NULL, NULL),
	                 0);
	assert_int_equal(records(x->s), before + BATCH);
	assert_int_equal(store_default_alliance_set(x->s, other), 0);
	free_batch(e);
}

int main(void)
{
	if (proto_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_diskfull__writes_say_enospc_store_nothing_and_work_once_space_is_freed, setup,
			teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
