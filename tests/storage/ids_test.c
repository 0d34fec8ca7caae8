/* ids_test.c - the id index (idp): keyed by 8 bytes of the id, every hit
 * confirmed against the whole id; and the move of a layout-3 store's
 * whole-id index into it. */
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

/* Turn the store into a layout-3 one: the whole-id "ids" DBI, no idp. */
static int to_layout3_cb(MDB_txn *txn, void *ctx)
{
	struct store *s = ctx;
	MDB_dbi ids;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_dbi_open(txn, "ids", MDB_CREATE, &ids);
	if (rc || (rc = mdb_cursor_open(txn, s->idp, &c)))
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint8_t id[PROTO_ID_BYTES];
		if ((rc = store_rowkey_id(txn, s, store_get64(v.mv_data), id)))
			break;
		MDB_val ik = { PROTO_ID_BYTES, id };
		if ((rc = mdb_put(txn, ids, &ik, &v, MDB_NOOVERWRITE)))
			break;
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return rc;
	uint8_t three[8] = { 0, 0, 0, 0, 0, 0, 0, 3 };
	k = (MDB_val){ 8, (void *)"~version" };
	v = (MDB_val){ 8, three };
	if ((rc = mdb_put(txn, s->meta, &k, &v, 0)))
		return rc;
	return mdb_drop(txn, s->idp, 1);
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
	for (size_t i = 0; i < N; i++) {
		char title[32];
		snprintf(title, sizeof title, "Tiltag %zu", i);
		e[i] = th_measure(&x->f1, title, NULL, TH_NOW - 100000 + (uint64_t)i);
		assert_int_equal(th_ingest1(x->s, &e[i]), STORE_NEW);
	}
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

	/* read-write: moved, the old index gone, the version 4 */
	assert_int_equal(store_open(&x->s, x->dir, 0), 0);
	assert_true(x->s->has_idp);
	assert_false(x->s->has_ids);
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

#define T(f) cmocka_unit_test_setup_teardown(f, th_fx_setup, th_fx_teardown)

int main(void)
{
	if (proto_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		T(test_store_ids__a_shared_prefix_is_told_apart_by_the_whole_id),
		T(test_store_open__layout_3_ids_move_into_idp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
