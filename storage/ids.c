/*
 * ids.c - the id index: the first ID_PREFIX bytes of a record's id -> its
 * rowkey, in three levels (layout 5).
 *
 * Ids are hashes, so a batch of k new ids lands on k random leaf pages of
 * a large index; LMDB copies and writes back each page it touches, and a
 * 2,000-record sync commit into a 1M-record store rewrote ~1,700 pages
 * (7 MB) for 2 MB of records.  So new ids go into a small level, id0, and
 * move on in slices: when id0 holds more than its size it moves its excess,
 * a run of neighbouring keys starting where the last move stopped, into
 * id1, and id1 likewise into idp.  A slice is a narrow key range, so it
 * touches few pages of the level below; every level is a small multiple x
 * of the one above (x = cube root of idp's entries over the typical batch),
 * which keeps the pages written per record lowest.  An id is in exactly one
 * level at any commit: a move puts and deletes in the same transaction.
 *
 * A lookup asks each level; a store of layout 4 opened read-only has only
 * idp.
 */
#include <string.h>

#include "storage/store_int.h"

size_t store_id_levels(const struct store *s, MDB_dbi out[ID_LEVELS])
{
	size_t n = 0;
	if (s->has_idl)
		for (size_t i = 0; i < ID_LEVELS - 1; i++)
			out[n++] = s->idl[i];
	out[n++] = s->idp;
	return n;
}

/* Look id up in one level: 0 and *rowkey, MDB_NOTFOUND, or an error. */
static int find_in(MDB_txn *txn, struct store *s, MDB_dbi dbi, const uint8_t *id,
                   uint64_t *rowkey)
{
	MDB_cursor *c;
	MDB_val k = { ID_PREFIX, (void *)id }, v;
	int rc = store_lmdb_rc(mdb_cursor_open(txn, dbi, &c));
	if (rc)
		return rc;
	for (rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_KEY)); rc == 0;
	     rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP))) {
		if (v.mv_size != 8) {
			rc = STORE_E_CORRUPT;
			break;
		}
		uint64_t rk = store_get64(v.mv_data);
		uint8_t got[PROTO_ID_BYTES];
		if ((rc = store_rowkey_id(txn, s, rk, got)))
			break;
		if (memcmp(got, id, PROTO_ID_BYTES) == 0) {
			*rowkey = rk;
			break;
		}
	}
	mdb_cursor_close(c);
	return rc;
}

int store_id_rowkey(MDB_txn *txn, struct store *s, const uint8_t id[PROTO_ID_BYTES],
                    uint64_t *rowkey)
{
	MDB_val k, v;
	int rc;
	if (!s->has_idp) {   /* a layout-2/3 store, read only */
		k = (MDB_val){ PROTO_ID_BYTES, (void *)id };
		rc = store_lmdb_rc(mdb_get(txn, s->ids, &k, &v));
		if (rc)
			return rc == MDB_NOTFOUND ? STORE_E_NOTFOUND : rc;
		if (v.mv_size != 8)
			return STORE_E_CORRUPT;
		*rowkey = store_get64(v.mv_data);
		return 0;
	}
	MDB_dbi lv[ID_LEVELS];
	size_t n = store_id_levels(s, lv);
	for (size_t i = 0; i < n; i++) {
		rc = find_in(txn, s, lv[i], id, rowkey);
		if (rc != MDB_NOTFOUND)
			return rc;
	}
	return STORE_E_NOTFOUND;
}

int store_id_put(MDB_txn *txn, struct store *s, const uint8_t id[PROTO_ID_BYTES],
                 uint64_t rowkey)
{
	uint8_t kb[8];
	store_be64(kb, rowkey);
	MDB_val k = { ID_PREFIX, (void *)id }, v = { 8, kb };
	return store_lmdb_rc(mdb_put(txn, s->has_idl ? s->idl[0] : s->idp, &k, &v, MDB_NODUPDATA));
}

static int entries(MDB_txn *txn, MDB_dbi dbi, size_t *n)
{
	MDB_stat st;
	int rc = store_lmdb_rc(mdb_stat(txn, dbi, &st));
	*n = rc ? 0 : st.ms_entries;
	return rc;
}

/* Move m entries of level i into level i + 1: the keys from s->id_pos[i]
 * on, wrapping around at the end.  m is less than the level holds, so no
 * entry is read twice. */
static int move_slice(MDB_txn *txn, struct store *s, size_t i, size_t m)
{
	MDB_dbi from = s->idl[i], to = i + 1 < ID_LEVELS - 1 ? s->idl[i + 1] : s->idp;
	uint8_t (*sl)[ID_PREFIX + 8] = malloc(m * sizeof *sl);
	MDB_cursor *c = NULL;
	size_t got = 0;
	int rc;
	if (!sl)
		return -ENOMEM;
	if ((rc = store_lmdb_rc(mdb_cursor_open(txn, from, &c))))
		goto out;
	/* Read the slice first, then move it: no cursor walks what it deletes. */
	MDB_val k = { ID_PREFIX, s->id_pos[i] }, v;
	rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_RANGE));
	if (rc == MDB_NOTFOUND)
		rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_FIRST));
	bool wrapped = false;
	while (rc == 0 && got < m) {
		if (k.mv_size != ID_PREFIX || v.mv_size != 8) {
			rc = STORE_E_CORRUPT;
			goto out;
		}
		memcpy(sl[got], k.mv_data, ID_PREFIX);
		memcpy(sl[got] + ID_PREFIX, v.mv_data, 8);
		got++;
		rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT));
		if (rc == MDB_NOTFOUND && !wrapped) {
			wrapped = true;
			rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_FIRST));
		}
	}
	if (rc && rc != MDB_NOTFOUND)
		goto out;
	mdb_cursor_close(c);
	c = NULL;
	rc = 0;
	for (size_t j = 0; j < got && !rc; j++) {
		MDB_val mk = { ID_PREFIX, sl[j] }, mv = { 8, sl[j] + ID_PREFIX };
		rc = store_lmdb_rc(mdb_put(txn, to, &mk, &mv, MDB_NODUPDATA));
		if (rc == MDB_KEYEXIST)
			rc = 0;   /* in both levels only if the index was damaged: keep one */
		if (!rc)
			rc = store_lmdb_rc(mdb_del(txn, from, &mk, &mv));
	}
	if (!rc && got)
		memcpy(s->id_pos[i], sl[got - 1], ID_PREFIX);   /* next time: from here on */
out:
	if (c)
		mdb_cursor_close(c);
	free(sl);
	return rc;
}

int store_id_settle(MDB_txn *txn, struct store *s)
{
	if (!s->has_idl)
		return 0;
	size_t e, n, batch = s->id_batch;   /* > 0: set by store_open */
	int rc = entries(txn, s->idp, &e);
	if (rc)
		return rc;
	/* x = cube root of e / batch, at least 2: id0 holds batch * x, id1
	 * batch * x^2 and idp the rest, each level x times the one above. */
	size_t x = 2, ratio = e / batch;
	while ((x + 1) * (x + 1) * (x + 1) <= ratio)
		x++;
	size_t cap = batch * x;
	for (size_t i = 0; i < ID_LEVELS - 1; i++, cap *= x) {
		if ((rc = entries(txn, s->idl[i], &n)))
			return rc;
		if (n > cap && (rc = move_slice(txn, s, i, n - cap)))
			return rc;
	}
	return 0;
}
