/*
 * meta_test.c - the settings the store keeps for both binaries, through
 * their typed functions: default alliance, last seen, invites (and using
 * one up), the joiner's token, and the own-feed floor's getter and clear.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "helper.h"
#include "storage/meta_int.h"   /* a floor raised as ingest raises it */

static struct store_txn *begin(struct store *s)
{
	struct store_txn *t;
	assert_int_equal(store_txn_begin(s, &t), 0);
	return t;
}

static void test_meta__default_alliance_unset_then_set(void **state)
{
	struct th_fx *x = *state;
	uint8_t got[PROTO_ID_BYTES], other[PROTO_ID_BYTES];
	struct store_txn *t = begin(x->s);
	assert_int_equal(store_default_alliance_get(t, got), STORE_E_NOTFOUND);
	store_txn_end(t);
	assert_int_equal(store_default_alliance_set(x->s, x->f1.alliance), 0);
	memset(other, 7, sizeof other);
	assert_int_equal(store_default_alliance_set(x->s, other), 0);   /* the last one wins */
	t = begin(x->s);
	assert_int_equal(store_default_alliance_get(t, got), 0);
	assert_memory_equal(got, other, PROTO_ID_BYTES);
	store_txn_end(t);
}

static void test_meta__seen_per_key(void **state)
{
	struct th_fx *x = *state;
	uint64_t ms = 5;
	assert_int_equal(store_seen_put(x->s, x->k1->pk, TH_NOW - 60000), 0);
	assert_int_equal(store_seen_put(x->s, x->k1->pk, TH_NOW), 0);
	struct store_txn *t = begin(x->s);
	assert_int_equal(store_seen_get(t, x->k1->pk, &ms), 0);
	assert_int_equal(ms, TH_NOW);
	ms = 5;
	assert_int_equal(store_seen_get(t, x->k2->pk, &ms), STORE_E_NOTFOUND);
	assert_int_equal(ms, 5);
	store_txn_end(t);
}

static struct store_invite invite_for(const uint8_t *alliance, uint64_t expires)
{
	struct store_invite iv = { .role = AGORA__ROLE__ROLE_MEMBER, .expires_ms = expires };
	memcpy(iv.alliance, alliance, PROTO_ID_BYTES);
	snprintf(iv.name, sizeof iv.name, "%s", "Sønderborg Kommune");
	snprintf(iv.country, sizeof iv.country, "%s", "DK");
	return iv;
}

static bool invites_open(struct store *s, uint64_t now)
{
	bool open = true;
	struct store_txn *t = begin(s);
	assert_int_equal(store_invites_open(t, now, &open), 0);
	store_txn_end(t);
	return open;
}

static void test_meta__invite_is_used_once_for_its_alliance_until_it_expires(void **state)
{
	struct th_fx *x = *state;
	uint8_t token[STORE_TOKEN_BYTES], other[PROTO_ID_BYTES];
	memset(token, 0x42, sizeof token);
	memset(other, 9, sizeof other);
	struct store_invite iv = invite_for(x->f1.alliance, TH_NOW + 1000), got;
	assert_int_equal(store_invite_put(x->s, token, &iv), 0);

	struct store_txn *t = begin(x->s);
	assert_int_equal(store_invite_get(t, token, &got), 0);
	assert_string_equal(got.name, "Sønderborg Kommune");
	assert_string_equal(got.country, "DK");
	assert_int_equal(got.role, AGORA__ROLE__ROLE_MEMBER);
	assert_int_equal(got.expires_ms, TH_NOW + 1000);
	assert_false(got.used);
	store_txn_end(t);

	/* another alliance's code, or a wrong token, is no invite */
	assert_int_equal(store_invite_use(x->s, token, other, TH_NOW, &got), STORE_E_NOTFOUND);
	uint8_t wrong[STORE_TOKEN_BYTES];
	memset(wrong, 0x43, sizeof wrong);
	assert_int_equal(store_invite_use(x->s, wrong, x->f1.alliance, TH_NOW, &got),
	                 STORE_E_NOTFOUND);
	/* expired at its expiry, and not used up by trying */
	assert_int_equal(store_invite_use(x->s, token, x->f1.alliance, TH_NOW + 1000, &got),
	                 STORE_E_EXPIRED);
	memset(&got, 0, sizeof got);
	assert_int_equal(store_invite_use(x->s, token, x->f1.alliance, TH_NOW, &got), 0);
	assert_memory_equal(got.alliance, x->f1.alliance, PROTO_ID_BYTES);
	assert_string_equal(got.name, "Sønderborg Kommune");
	assert_true(got.used);
	/* once */
	assert_int_equal(store_invite_use(x->s, token, x->f1.alliance, TH_NOW, &got), STORE_E_USED);
	t = begin(x->s);
	assert_int_equal(store_invite_get(t, token, &got), 0);
	assert_true(got.used);
	store_txn_end(t);
}

static void test_meta__invites_open_only_while_one_is_unused_and_unexpired(void **state)
{
	struct th_fx *x = *state;
	uint8_t a[STORE_TOKEN_BYTES], b[STORE_TOKEN_BYTES];
	memset(a, 1, sizeof a);
	memset(b, 2, sizeof b);
	assert_false(invites_open(x->s, TH_NOW));
	struct store_invite soon = invite_for(x->f1.alliance, TH_NOW + 10);
	struct store_invite never = invite_for(x->f1.alliance, 0);
	assert_int_equal(store_invite_put(x->s, a, &soon), 0);
	assert_true(invites_open(x->s, TH_NOW));
	assert_false(invites_open(x->s, TH_NOW + 10));   /* the only one expired */
	assert_int_equal(store_invite_put(x->s, b, &never), 0);
	assert_true(invites_open(x->s, TH_NOW + 10));
	assert_int_equal(store_invite_use(x->s, b, x->f1.alliance, TH_NOW, NULL), 0);
	assert_false(invites_open(x->s, TH_NOW + 10));   /* one used, one expired */
	assert_true(invites_open(x->s, TH_NOW));
	assert_int_equal(store_invite_del(x->s, a), 0);
	assert_false(invites_open(x->s, TH_NOW));
	assert_int_equal(store_invite_del(x->s, a), 0);  /* gone already: fine */
}

/* agorad reads the invites again only when the snapshot's number moved:
 * a setting written (an invite made, one used) must move it, and a
 * snapshot with nothing written since keeps it. */
static void test_meta__txn_number_moves_with_an_invite_written(void **state)
{
	struct th_fx *x = *state;
	uint8_t a[STORE_TOKEN_BYTES];
	memset(a, 5, sizeof a);
	struct store_txn *t = begin(x->s);
	uint64_t n0 = store_txn_number(t);
	store_txn_end(t);
	t = begin(x->s);
	assert_true(store_txn_number(t) == n0);
	store_txn_end(t);
	struct store_invite iv = invite_for(x->f1.alliance, 0);
	assert_int_equal(store_invite_put(x->s, a, &iv), 0);
	t = begin(x->s);
	uint64_t n1 = store_txn_number(t);
	store_txn_end(t);
	assert_true(n1 > n0);
	assert_int_equal(store_invite_use(x->s, a, x->f1.alliance, TH_NOW, NULL), 0);
	t = begin(x->s);
	assert_true(store_txn_number(t) > n1);
	store_txn_end(t);
}

static void test_meta__join_token_kept_per_coordinator_until_deleted(void **state)
{
	struct th_fx *x = *state;
	uint8_t token[STORE_TOKEN_BYTES], al[PROTO_ID_BYTES], tok[STORE_TOKEN_BYTES];
	memset(token, 0x77, sizeof token);
	assert_int_equal(store_join_put(x->s, x->k1->pk, x->f1.alliance, token), 0);
	struct store_txn *t = begin(x->s);
	assert_int_equal(store_join_get(t, x->k1->pk, al, tok), 0);
	assert_memory_equal(al, x->f1.alliance, PROTO_ID_BYTES);
	assert_memory_equal(tok, token, STORE_TOKEN_BYTES);
	assert_int_equal(store_join_get(t, x->k1->pk, NULL, NULL), 0);
	assert_int_equal(store_join_get(t, x->k2->pk, al, tok), STORE_E_NOTFOUND);
	store_txn_end(t);
	assert_int_equal(store_join_del(x->s, x->k1->pk), 0);
	t = begin(x->s);
	assert_int_equal(store_join_get(t, x->k1->pk, NULL, NULL), STORE_E_NOTFOUND);
	store_txn_end(t);
}

struct floor_ctx {
	struct store *s;
	const uint8_t *alliance, *author;
	uint64_t seq;
};

static int floor_raise_cb(MDB_txn *txn, void *arg)
{
	struct floor_ctx *c = arg;
	return store_meta_floor_raise(txn, c->s, c->alliance, c->author, c->seq);
}

static uint64_t floor_of(struct th_fx *x)
{
	uint64_t seq = 99;
	struct store_txn *t = begin(x->s);
	assert_int_equal(store_floor_get(t, x->f1.alliance, x->k1->pk, &seq), 0);
	store_txn_end(t);
	return seq;
}

static void test_meta__floor_only_rises_and_the_operator_clears_it(void **state)
{
	struct th_fx *x = *state;
	assert_int_equal(floor_of(x), 0);
	struct floor_ctx c = { x->s, x->f1.alliance, x->k1->pk, 7 };
	assert_int_equal(store_write(x->s, floor_raise_cb, &c), 0);
	c.seq = 3;
	assert_int_equal(store_write(x->s, floor_raise_cb, &c), 0);
	assert_int_equal(floor_of(x), 7);
	assert_int_equal(store_floor_clear(x->s, x->f1.alliance, x->k1->pk), 0);
	assert_int_equal(floor_of(x), 0);
}

int main(void)
{
	if (proto_init() != 0)
		return 1;
#define T(f) cmocka_unit_test_setup_teardown(f, th_fx_setup, th_fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_meta__default_alliance_unset_then_set),
		T(test_meta__seen_per_key),
		T(test_meta__invite_is_used_once_for_its_alliance_until_it_expires),
		T(test_meta__invites_open_only_while_one_is_unused_and_unexpired),
		T(test_meta__txn_number_moves_with_an_invite_written),
		T(test_meta__join_token_kept_per_coordinator_until_deleted),
		T(test_meta__floor_only_rises_and_the_operator_clears_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
