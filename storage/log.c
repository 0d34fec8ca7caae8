/*
 * log.c - what changed: the write numbers and the feeds each write moved
 * (store_write_number, store_changes), and the numbers of fork proofs
 * (store_forks_since is in read.c).
 *
 * A write that moves feed heads collects them in a store_moves table as it
 * goes (store_moves_note), and at its end puts one "log" entry: key the
 * write number, value one LOG_ENTRY per feed moved.  The write number is
 * the last key + 1, so it needs no counter of its own; the entry
 * STORE_LOG_KEEP writes older is deleted by the same write.  A reader that
 * knows the state at write number W asks for the feeds moved since W and
 * reads their heads in its own snapshot, instead of reloading every
 * version vector.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/log_int.h"

#define LOG_ENTRY 73        /* alliance(32) | author(32) | from_seq(8) | flags(1) */
#define LOG_F_GOVERNANCE 0x01

/* ------------------------------------------------------------ the table */

static int moves_rehash(struct store_moves *m, size_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof *slots);
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		size_t j = store_hash32(m->v[i].key, 64) & (nslots - 1);
		while (slots[j])
			j = (j + 1) & (nslots - 1);
		slots[j] = (uint32_t)i + 1;
	}
	free(m->slots);
	m->slots = slots;
	m->nslots = nslots;
	return 0;
}

static struct store_move *moves_find(struct store_moves *m, const uint8_t key[64], size_t *slot)
{
	size_t j = store_hash32(key, 64) & (m->nslots - 1);
	while (m->slots[j]) {
		struct store_move *e = &m->v[m->slots[j] - 1];
		if (memcmp(e->key, key, 64) == 0)
			return e;
		j = (j + 1) & (m->nslots - 1);
	}
	*slot = j;
	return NULL;
}

int store_moves_note(struct store_moves *m, const uint8_t alliance[32], const uint8_t author[32],
                     uint64_t from_seq, bool governance)
{
	uint8_t key[64];
	size_t slot = 0;
	int rc;
	memcpy(key, alliance, 32);
	memcpy(key + 32, author, 32);
	/* A batch moves one feed record after record: check the last first. */
	if (m->n && memcmp(m->v[m->n - 1].key, key, 64) == 0) {
		m->v[m->n - 1].governance |= governance;
		return 0;
	}
	if (2 * (m->n + 1) > m->nslots &&
	    (rc = moves_rehash(m, m->nslots ? 2 * m->nslots : 16)))
		return rc;
	struct store_move *e = moves_find(m, key, &slot);
	if (e) {
		e->governance |= governance;
		return 0;
	}
	if ((rc = store_grow((void **)&m->v, &m->cap, m->n + 1, sizeof *m->v)))
		return rc;
	e = &m->v[m->n];
	memcpy(e->key, key, 64);
	e->from_seq = from_seq;
	e->governance = governance;
	m->slots[slot] = (uint32_t)++m->n;
	return 0;
}

void store_moves_reset(struct store_moves *m)
{
	m->n = 0;
	if (m->slots)
		memset(m->slots, 0, m->nslots * sizeof *m->slots);
}

void store_moves_dispose(struct store_moves *m)
{
	free(m->v);
	free(m->slots);
	memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------ the log */

/* Last key of a DBI keyed by 8-byte numbers: 0 and *n (0 if empty). */
static int last_number(MDB_txn *txn, MDB_dbi dbi, uint64_t *n)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = store_lmdb_rc(mdb_cursor_open(txn, dbi, &c));
	if (rc)
		return rc;
	rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_LAST));
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND) {
		*n = 0;
		return 0;
	}
	if (rc)
		return rc;
	if (k.mv_size != 8)
		return STORE_E_CORRUPT;
	*n = store_get64(k.mv_data);
	return 0;
}

int store_log_append(MDB_txn *txn, struct store *s, const struct store_moves *m)
{
	uint64_t last;
	int rc;
	if (!m->n)
		return 0;
	if ((rc = last_number(txn, s->log, &last)))
		return rc;
	uint8_t kb[8];
	store_be64(kb, last + 1);
	MDB_val k = { 8, kb }, v = { m->n * LOG_ENTRY, NULL };
	if ((rc = store_lmdb_rc(mdb_put(txn, s->log, &k, &v, MDB_RESERVE | MDB_APPEND))))
		return rc;
	uint8_t *p = v.mv_data;
	for (size_t i = 0; i < m->n; i++, p += LOG_ENTRY) {
		memcpy(p, m->v[i].key, 64);
		store_be64(p + 64, m->v[i].from_seq);
		p[72] = m->v[i].governance ? LOG_F_GOVERNANCE : 0;
	}
	if (last + 1 <= s->log_keep)
		return 0;
	/* Prune: normally the one entry that just fell out of the window. */
	MDB_cursor *c;
	if ((rc = store_lmdb_rc(mdb_cursor_open(txn, s->log, &c))))
		return rc;
	for (rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_FIRST)); rc == 0;
	     rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT))) {
		if (k.mv_size != 8) {
			rc = STORE_E_CORRUPT;
			break;
		}
		if (store_get64(k.mv_data) > last + 1 - s->log_keep)
			break;
		if ((rc = store_lmdb_rc(mdb_cursor_del(c, 0))))
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_write_number(struct store_txn *t, uint64_t *out)
{
	uint64_t n = 0;
	int rc;
	if (!t || !out)
		return PROTO_E_ARG;
	if (t->s->has_log && (rc = last_number(t->txn, t->s->log, &n)))
		return store_map_err(rc);
	*out = n;
	return 0;
}

static int cmp_move(const void *a, const void *b)
{
	return memcmp(((const struct store_move *)a)->key, ((const struct store_move *)b)->key, 64);
}

/* Gather the feeds of log entries (since, upto] into m. */
static int gather(MDB_txn *txn, struct store *s, uint64_t since, uint64_t upto,
                  struct store_moves *m)
{
	MDB_cursor *c;
	uint8_t kb[8];
	int rc = store_lmdb_rc(mdb_cursor_open(txn, s->log, &c));
	if (rc)
		return rc;
	store_be64(kb, since + 1);
	MDB_val k = { 8, kb }, v;
	rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_SET_RANGE));
	/* the log must still hold write since + 1 */
	if (rc == 0 && (k.mv_size != 8 || store_get64(k.mv_data) != since + 1))
		rc = k.mv_size != 8 ? STORE_E_CORRUPT : STORE_E_GONE;
	else if (rc == MDB_NOTFOUND)
		rc = STORE_E_GONE;
	for (; rc == 0; rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT))) {
		if (k.mv_size != 8 || v.mv_size % LOG_ENTRY) {
			rc = STORE_E_CORRUPT;
			break;
		}
		if (store_get64(k.mv_data) > upto)
			break;
		const uint8_t *p = v.mv_data;
		for (size_t i = 0; i < v.mv_size / LOG_ENTRY && !rc; i++, p += LOG_ENTRY)
			rc = store_moves_note(m, p, p + 32, store_get64(p + 64),
			                      p[72] & LOG_F_GOVERNANCE);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_changes(struct store_txn *t, uint64_t since, store_change_cb cb, void *ctx,
                  uint64_t *upto)
{
	struct store_moves m = { 0 };
	uint64_t w;
	int rc;
	if (!t || !cb)
		return PROTO_E_ARG;
	if ((rc = store_write_number(t, &w)))
		return rc;
	if (since > w)
		return STORE_E_GONE;    /* a store older than the caller's state */
	if (since < w && (rc = gather(t->txn, t->s, since, w, &m)))
		goto out;
	if (m.n)
		qsort(m.v, m.n, sizeof *m.v, cmp_move);
	for (size_t i = 0; i < m.n && !rc; i++) {
		struct store_change c;
		memcpy(c.alliance, m.v[i].key, 32);
		memcpy(c.author, m.v[i].key + 32, 32);
		c.from_seq = m.v[i].from_seq;
		c.governance = m.v[i].governance;
		MDB_val k = { 64, m.v[i].key }, v;
		rc = store_lmdb_rc(mdb_get(t->txn, t->s->heads, &k, &v));
		if (rc == MDB_NOTFOUND) {   /* moved back to nothing (store_own_withdraw) */
			c.seq = 0;
			memset(c.id, 0, sizeof c.id);
			rc = 0;
		} else if (rc == 0 && v.mv_size != HEAD_VAL) {
			rc = STORE_E_CORRUPT;
		} else if (rc == 0) {
			c.seq = store_get64((const uint8_t *)v.mv_data + 4);
			memcpy(c.id, (const uint8_t *)v.mv_data + 12, PROTO_ID_BYTES);
		}
		if (!rc)
			rc = cb(&c, ctx);
	}
	if (!rc && upto)
		*upto = w;
out:
	store_moves_dispose(&m);
	return store_map_err(rc);
}

/* ------------------------------------------------------------ forks */

int store_fork_number(MDB_txn *txn, struct store *s, const uint8_t key[72], uint64_t rowkey)
{
	uint64_t last;
	int rc = last_number(txn, s->forkno, &last);
	if (rc)
		return rc;
	uint8_t kb[8], vb[FORKNO_VAL];
	store_be64(kb, last + 1);
	memcpy(vb, key, 72);
	store_be64(vb + 72, rowkey);
	MDB_val k = { 8, kb }, v = { FORKNO_VAL, vb };
	return store_lmdb_rc(mdb_put(txn, s->forkno, &k, &v, MDB_APPEND));
}

int store_fork_number_all(MDB_txn *txn, struct store *s)
{
	MDB_stat st;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = store_lmdb_rc(mdb_stat(txn, s->forkno, &st));
	if (rc || st.ms_entries)
		return rc;
	if ((rc = store_lmdb_rc(mdb_cursor_open(txn, s->forks, &c))))
		return rc;
	for (rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_FIRST)); rc == 0;
	     rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT))) {
		if (k.mv_size != 72 || v.mv_size != 8) {
			rc = STORE_E_CORRUPT;
			break;
		}
		if ((rc = store_fork_number(txn, s, k.mv_data, store_get64(v.mv_data))))
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}
