/* ids_test.c - the id index (id0, id1, idp): keyed by 8 bytes of the id,
 * every hit confirmed against the whole id; new ids moving on through the
 * levels; and stores of layouts 3 and 4 opened by this one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "helper.h"
#include "storage/store_int.h"


static int found(struct store *s, const uint8_t id[PROTO_ID_BYTES])
{
	struct store_txn *t;
	struct store_record r;
	assert_int_equal(store_txn_begin(s, &t), 0);
	int rc = store_get(t, id, &r);
	if (rc == 0)
		assert_memory_equal(r.id, id, PROTO_ID_BYTES);
	store_txn_end(t);
	return rc;
}

static int resolve(struct store *s, const uint8_t id[PROTO_ID_BYTES], size_t nhex,
                   uint8_t got[PROTO_ID_BYTES])
{
	char hex[PROTO_ID_HEX + 1];
	struct store_txn *t;
	proto_hex(hex, id, PROTO_ID_BYTES);
	hex[nhex] = 0;
	assert_int_equal(store_txn_begin(s, &t), 0);
	int rc = store_resolve(t, hex, got);
	store_txn_end(t);
	return rc;
}

/* A second idp value under a's 8-byte prefix that points at b's record:
 * what two ids sharing their first 8 bytes look like. */
struct alias {
	const uint8_t *a, *b;
};

static int alias_cb(MDB_txn *txn, void *ctx)
{
	struct store *s = (struct store *)((void **)ctx)[0];
	const struct alias *al = ((void **)ctx)[1];
	uint64_t rk;
	int rc = store_id_rowkey(txn, s, al->b, &rk);
	if (rc)
		return rc;
	uint8_t kb[8];
	store_be64(kb, rk);
	MDB_val k = { ID_PREFIX, (void *)al->a }, v = { 8, kb };
	return mdb_put(txn, s->idp, &k, &v, MDB_NODUPDATA);
}

static void test_store_ids__a_shared_prefix_is_told_apart_by_the_whole_id(void **state)
{
	struct th_fx *x = *state;
	struct th_env a = th_measure(&x->f1, "Vådområde", NULL, TH_NOW - 3000);
	struct th_env b = th_measure(&x->f1, "Fjernvarme", NULL, TH_NOW - 2000);
	assert_int_equal(th_ingest1(x->s, &a), STORE_NEW);
	assert_int_equal(th_ingest1(x->s, &b), STORE_NEW);
	struct alias al = { a.id, b.id };
	void *ctx[2] = { x->s, &al };
	assert_int_equal(store_write(x->s, alias_cb, ctx), 0);

	/* a is still a, b still b: the alias under a's prefix is b's record,
	 * whose whole id is not a's */
	assert_int_equal(found(x->s, a.id), 0);
	assert_int_equal(found(x->s, b.id), 0);
	uint8_t other[PROTO_ID_BYTES];
	memcpy(other, a.id, PROTO_ID_BYTES);
	other[20] ^= 1;   /* same 8-byte prefix, another id */
	assert_int_equal(found(x->s, other), STORE_E_NOTFOUND);

	uint8_t got[PROTO_ID_BYTES];
	assert_int_equal(resolve(x->s, a.id, PROTO_ID_HEX, got), 0);
	assert_memory_equal(got, a.id, PROTO_ID_BYTES);
	assert_int_equal(resolve(x->s, a.id, 2 * ID_PREFIX, got), 0);   /* the key alone */
	assert_memory_equal(got, a.id, PROTO_ID_BYTES);
	assert_int_equal(resolve(x->s, a.id, 2 * ID_PREFIX + 3, got), 0);   /* past the key */
	assert_memory_equal(got, a.id, PROTO_ID_BYTES);
	assert_int_equal(resolve(x->s, other, PROTO_ID_HEX, got), STORE_E_NOTFOUND);
	assert_int_equal(resolve(x->s, b.id, 2 * ID_PREFIX + 1, got), 0);
	assert_memory_equal(got, b.id, PROTO_ID_BYTES);

	/* ingest still tells known from new */
	assert_int_equal(th_ingest1(x->s, &a), STORE_KNOWN);
	assert_int_equal(th_ingest1(x->s, &b), STORE_KNOWN);
	struct th_env c = th_measure(&x->f1, "Klimapulje", NULL, TH_NOW - 1000);
	assert_int_equal(th_ingest1(x->s, &c), STORE_NEW);
	assert_int_equal(found(x->s, c.id), 0);
	th_env_free(&a);
	th_env_free(&b);
	th_env_free(&c);
}

/* n measures "Tiltag 0".. of f1, one ms apart; each ingested alone if asked. */
static void measures(struct th_fx *x, struct th_env *e, size_t n, bool ingest)
{
	for (size_t i = 0; i < n; i++) {
		char title[32];
		snprintf(title, sizeof title, "Tiltag %zu", i);
		e[i] = th_measure(&x->f1, title, NULL, TH_NOW - 100000 + (uint64_t)i);
		if (ingest)
			assert_int_equal(th_ingest1(x->s, &e[i]), STORE_NEW);
	}
}

/* Every (prefix, rowkey) of the id index, whichever level holds it. */
static size_t all_ids(MDB_txn *txn, struct store *s, uint8_t (*out)[16], size_t cap)
{
	MDB_dbi lv[ID_LEVELS];
	size_t nlv = store_id_levels(s, lv), n = 0;
	for (size_t l = 0; l < nlv; l++) {
		MDB_cursor *c;
		MDB_val k, v;
		assert_int_equal(mdb_cursor_open(txn, lv[l], &c), 0);
		for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			assert_true(n < cap);
			memcpy(out[n], k.mv_data, 8);
			memcpy(out[n] + 8, v.mv_data, 8);
			n++;
		}
		mdb_cursor_close(c);
	}
	return n;
}

static int drop_levels(MDB_txn *txn, struct store *s)
{
	int rc = 0;
	for (size_t i = 0; i < ID_LEVELS - 1 && !rc; i++)
		rc = mdb_drop(txn, s->idl[i], 1);
	return rc;
}

static int set_version(MDB_txn *txn, struct store *s, uint8_t version)
{
	uint8_t v8[8] = { 0, 0, 0, 0, 0, 0, 0, version };
	MDB_val k = { 8, (void *)"~version" }, v = { 8, v8 };
	return mdb_put(txn, s->meta, &k, &v, 0);
}

/* Turn the store into a layout-3 one: the whole-id "ids" DBI, no idp. */
static int to_layout3_cb(MDB_txn *txn, void *ctx)
{
	struct store *s = ctx;
	static uint8_t e[1000][16];
	size_t n = all_ids(txn, s, e, 1000);
	MDB_dbi ids;
	int rc = mdb_dbi_open(txn, "ids", MDB_CREATE, &ids);
	for (size_t i = 0; i < n && !rc; i++) {
		uint8_t id[PROTO_ID_BYTES];
		if ((rc = store_rowkey_id(txn, s, store_get64(e[i] + 8), id)))
			break;
		MDB_val ik = { PROTO_ID_BYTES, id }, v = { 8, e[i] + 8 };
		rc = mdb_put(txn, ids, &ik, &v, MDB_NOOVERWRITE);
	}
	if (rc || (rc = set_version(txn, s, 3)) || (rc = drop_levels(txn, s)))
		return rc;
	s->has_idl = false;   /* as if opened so: store_write has nothing to settle */
	return mdb_drop(txn, s->idp, 1);
}

/* Turn the store into a layout-4 one: every id in idp, no id0 or id1. */
static int to_layout4_cb(MDB_txn *txn, void *ctx)
{
	struct store *s = ctx;
	static uint8_t e[1000][16];
	size_t n = all_ids(txn, s, e, 1000);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		MDB_val k = { 8, e[i] }, v = { 8, e[i] + 8 };
		rc = mdb_put(txn, s->idp, &k, &v, MDB_NODUPDATA);
		if (rc == MDB_KEYEXIST)
			rc = 0;
	}
	if (rc || (rc = set_version(txn, s, 4)) || (rc = drop_levels(txn, s)))
		return rc;
	s->has_idl = false;
	return 0;
}

static int has_dbi(struct store *s, const char *name)
{
	struct store_txn *t;
	MDB_dbi d;
	assert_int_equal(store_txn_begin(s, &t), 0);
	int rc = mdb_dbi_open(t->txn, name, 0, &d);
	store_txn_end(t);
	return rc;
}

static void test_store_open__layout_3_ids_move_into_idp(void **state)
{
	struct th_fx *x = *state;
	enum { N = 200 };
	struct th_env e[N];
	measures(x, e, N, true);
	assert_int_equal(store_write(x->s, to_layout3_cb, x->s), 0);
	store_close(x->s);

	/* read-only, before the first write: found through the old index */
	assert_int_equal(store_open(&x->s, x->dir, STORE_OPEN_READONLY), 0);
	assert_false(x->s->has_idp);
	uint8_t got[PROTO_ID_BYTES];
	for (size_t i = 0; i < N; i++)
		assert_int_equal(found(x->s, e[i].id), 0);
	assert_int_equal(found(x->s, x->charter.id), 0);
	assert_int_equal(resolve(x->s, e[5].id, 12, got), 0);
	assert_memory_equal(got, e[5].id, PROTO_ID_BYTES);
	store_close(x->s);

	/* read-write: moved, the old index gone, the newer levels there */
	assert_int_equal(store_open(&x->s, x->dir, 0), 0);
	assert_true(x->s->has_idp);
	assert_false(x->s->has_ids);
	assert_true(x->s->has_idl);
	assert_int_equal(has_dbi(x->s, "ids"), MDB_NOTFOUND);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(found(x->s, e[i].id), 0);
	assert_int_equal(resolve(x->s, e[5].id, 12, got), 0);
	assert_memory_equal(got, e[5].id, PROTO_ID_BYTES);
	assert_int_equal(th_ingest1(x->s, &e[7]), STORE_KNOWN);
	struct th_env more = th_measure(&x->f1, "Endnu et", NULL, TH_NOW - 10);
	assert_int_equal(th_ingest1(x->s, &more), STORE_NEW);
	assert_int_equal(found(x->s, more.id), 0);
	store_close(x->s);
	assert_int_equal(store_open(&x->s, x->dir, 0), 0);   /* and opens again as is */
	assert_int_equal(found(x->s, more.id), 0);
	th_env_free(&more);
	for (size_t i = 0; i < N; i++)
		th_env_free(&e[i]);
}

static size_t dbi_entries(struct store *s, MDB_dbi dbi)
{
	struct store_txn *t;
	MDB_stat st;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(mdb_stat(t->txn, dbi, &st), 0);
	store_txn_end(t);
	return st.ms_entries;
}

/* Ingest n envelopes in one call; every status STORE_NEW. */
static void ingest_all(struct store *s, const struct th_env *e, size_t n)
{
	struct store_item it[64];
	int st[64];
	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++)
		it[i] = (struct store_item){ e[i].env, e[i].len };
	assert_int_equal(store_ingest(s, it, n, 0, TH_NOW, st, NULL, NULL), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(st[i], STORE_NEW);
}

/* New ids enter id0 and move on to id1 and idp in slices; every id stays
 * findable, in exactly one level, whatever level it is in. */
static void test_store_ids__levels_move_on_and_every_id_stays_findable(void **state)
{
	struct th_fx *x = *state;
	enum { N = 640, B = 32 };
	static struct th_env e[N];
	x->s->id_batch = 4;   /* levels of 8 and 16 ids while idp is small */
	measures(x, e, N, false);
	for (size_t i = 0; i < N; i += B) {
		ingest_all(x->s, e + i, B);
		/* the newer levels never hold more than their sizes after a write */
		size_t p = dbi_entries(x->s, x->s->idp), xr = 2;
		while ((xr + 1) * (xr + 1) * (xr + 1) <= p / 4)
			xr++;
		assert_true(dbi_entries(x->s, x->s->idl[0]) <= 4 * xr);
		assert_true(dbi_entries(x->s, x->s->idl[1]) <= 4 * xr * xr);
	}
	/* one of each: single writes move slices of one */
	struct th_env one = th_measure(&x->f1, "En til", NULL, TH_NOW - 10);
	assert_int_equal(th_ingest1(x->s, &one), STORE_NEW);

	size_t n0 = dbi_entries(x->s, x->s->idl[0]), n1 = dbi_entries(x->s, x->s->idl[1]);
	size_t np = dbi_entries(x->s, x->s->idp);
	assert_true(n0 > 0 && n1 > 0 && np > N / 2);
	assert_int_equal(n0 + n1 + np, N + 2);   /* and the charter */

	static uint8_t all[N + 2][16];
	struct store_txn *t;
	assert_int_equal(store_txn_begin(x->s, &t), 0);
	size_t n = all_ids(t->txn, x->s, all, N + 2);
	store_txn_end(t);
	assert_int_equal(n, N + 2);
	for (size_t i = 0; i < n; i++)   /* no entry in two levels */
		for (size_t j = i + 1; j < n; j++)
			assert_false(memcmp(all[i], all[j], 16) == 0);

	uint8_t got[PROTO_ID_BYTES];
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(found(x->s, e[i].id), 0);
		assert_int_equal(resolve(x->s, e[i].id, 10, got), 0);
		assert_memory_equal(got, e[i].id, PROTO_ID_BYTES);
	}
	assert_int_equal(found(x->s, one.id), 0);
	assert_int_equal(found(x->s, x->charter.id), 0);
	for (size_t i = 0; i < N; i += 97)   /* known, wherever it is */
		assert_int_equal(th_ingest1(x->s, &e[i]), STORE_KNOWN);

	/* the levels are on disk, not in this struct store */
	store_close(x->s);
	assert_int_equal(store_open(&x->s, x->dir, STORE_OPEN_READONLY), 0);
	for (size_t i = 0; i < N; i += 7)
		assert_int_equal(found(x->s, e[i].id), 0);
	th_env_free(&one);
	for (size_t i = 0; i < N; i++)
		th_env_free(&e[i]);
}

static void test_store_open__layout_4_gains_the_newer_levels(void **state)
{
	struct th_fx *x = *state;
	enum { N = 50 };
	struct th_env e[N];
	measures(x, e, N, true);
	assert_int_equal(store_write(x->s, to_layout4_cb, x->s), 0);
	store_close(x->s);

	/* read-only: idp alone */
	assert_int_equal(store_open(&x->s, x->dir, STORE_OPEN_READONLY), 0);
	assert_true(x->s->has_idp);
	assert_false(x->s->has_idl);
	uint8_t got[PROTO_ID_BYTES];
	for (size_t i = 0; i < N; i++)
		assert_int_equal(found(x->s, e[i].id), 0);
	assert_int_equal(resolve(x->s, e[3].id, 9, got), 0);
	assert_memory_equal(got, e[3].id, PROTO_ID_BYTES);
	store_close(x->s);

	/* read-write: id0 and id1 exist; new ids go there, old ones stay found */
	assert_int_equal(store_open(&x->s, x->dir, 0), 0);
	assert_true(x->s->has_idl);
	assert_int_equal(has_dbi(x->s, "id0"), 0);
	assert_int_equal(has_dbi(x->s, "id1"), 0);
	struct th_env more = th_measure(&x->f1, "Endnu et", NULL, TH_NOW - 10);
	assert_int_equal(th_ingest1(x->s, &more), STORE_NEW);
	assert_int_equal(dbi_entries(x->s, x->s->idl[0]), 1);
	assert_int_equal(found(x->s, more.id), 0);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(found(x->s, e[i].id), 0);
	assert_int_equal(th_ingest1(x->s, &e[9]), STORE_KNOWN);
	th_env_free(&more);
	for (size_t i = 0; i < N; i++)
		th_env_free(&e[i]);
}

#define T(f) cmocka_unit_test_setup_teardown(f, th_fx_setup, th_fx_teardown)

int main(void)
{
	if (proto_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		T(test_store_ids__a_shared_prefix_is_told_apart_by_the_whole_id),
		T(test_store_open__layout_3_ids_move_into_idp),
		T(test_store_ids__levels_move_on_and_every_id_stays_findable),
		T(test_store_open__layout_4_gains_the_newer_levels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
