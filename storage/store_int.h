/*
 * store_int.h - private to storage/: the store and snapshot structs, the
 * on-disk layout constants and helpers shared by the storage sources.
 * The layout itself is described at the top of store.c.
 */
#ifndef AGORA_STORE_INT_H
#define AGORA_STORE_INT_H

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <lmdb.h>

#include "storage/storage.h"

#define STORE_LAYOUT_VERSION 6  /* 1: per-record fts postings (migrated on open); 2: no ftst;
                                   3: ids keyed by the whole id (migrated to idp on open);
                                   4: no id0/id1 (created on open); 5: full-text words and
                                   tags case-folded only, tf bytes plain counts (reindexed
                                   on open) */
#define ID_PREFIX 8             /* bytes of an id that key the id index */
#define ID_LEVELS 3             /* id0, id1, idp (ids.c) */
#define ID_BATCH 2048           /* ids a large write typically adds: sizes the levels */
#define STORE_MAPSIZE_DEFAULT ((size_t)64 << 20)

/* recs value header, followed by the envelope bytes */
#define REC_HDR 14
#define REC_F_SUPERSEDED 0x01
#define REC_F_RETRACTED 0x02
#define REC_F_FORK 0x04     /* fork evidence: in recs/ids only */
/* 0x08 REC_F_REVOKED (members_int.h) */
#define REC_F_WITHDRAWN 0x10    /* an own record moved out of its feed (own.c); also
                                   REC_F_RETRACTED, so every query skips it */

/* ix key tags (first byte of an ix key) */
#define IX_KIND 'k'         /* + content kind (1) */
#define IX_AUTHOR 'a'       /* + author (32) */
#define IX_ALLIANCE 'l'     /* + alliance (32) */
#define IX_SECTOR 's'       /* + sector (1) */
#define IX_AREA 'r'         /* + area (1) */
#define IX_HAZARD 'h'       /* + hazard (1) */
#define IX_STATUS 't'       /* + status (1) */
#define IX_YEAR 'y'         /* + year (2 BE) */
#define IX_TAG 'g'          /* + case-folded tag */
#define IX_REFERS 'm'       /* + referred-to id (32) */
#define IX_VERSION 'v'      /* + chain root rowkey (8): every version */

#define IX_TAG_MAX 255      /* longer tags are not indexed */
#define FTS_WORD_MAX 64     /* longer words are not indexed */
#define HIDE_VAL 2          /* flags(1) | content kind(1) */

#define HEAD_VAL 52         /* feedno(4) | seq(8) | id(32) | rowkey(8) */
#define CHAIN_VAL 48        /* newest rowkey(8) | newest id(32) | retract rowkey(8) */

/* One holder of the map "shared": an open snapshot or write (lock.c). */
struct store_hold {
	pthread_t owner;    /* the thread that took it */
	struct store_hold *prev, *next;
};

/* The map lock of one struct store (lock.c): snapshots and writes hold it
 * shared, a map growth exclusive. */
struct store_lock {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct store_hold *holders; /* every shared holder, with its thread */
	unsigned active;    /* holders in the list */
	unsigned grow_wait; /* growths waiting for active to reach 0 */
	bool growing;       /* a growth holds it exclusive */
	bool ready;         /* initialised (store_lock_dispose is then needed) */
};

int store_lock_init(struct store_lock *l);
void store_lock_dispose(struct store_lock *l);   /* after store_lock_init; else no-op */
/* Hold the map shared: waits while a growth runs or waits, unless this
 * thread holds it already.  Ended with store_lock_shared_end (any thread). */
void store_lock_shared(struct store_lock *l, struct store_hold *h);
/* The same without waiting: false (and nothing held) if a growth runs or
 * waits. */
bool store_lock_shared_try(struct store_lock *l, struct store_hold *h);
void store_lock_shared_end(struct store_lock *l, struct store_hold *h);
/* Hold the map exclusive: waits until no one holds it shared.  -EDEADLK
 * (nothing held) if this thread holds it shared: it would wait for
 * itself. */
int store_lock_exclusive(struct store_lock *l);
void store_lock_exclusive_end(struct store_lock *l);
/* Does this thread hold the map shared (an open snapshot or write)? */
bool store_lock_held_here(struct store_lock *l);

struct text_stemmers;

/*
 * Test hooks (tests/storage only; agora and agorad never set them): given
 * to store_open_hooked(), in force from the open on.
 */
struct store_hooks {
	uint64_t forget_kinds;  /* content kinds (bit k: kind k < 64) this store
	                           reads as kinds of a newer version: indexed by
	                           kind, author and alliance only, and noted */
	size_t unread_batch;    /* records re-read per transaction at open;
	                           0: UNREAD_BATCH (unread_int.h) */
};
/* store_open() with test hooks (h may be NULL: none).  Tests only. */
int store_open_hooked(struct store **out, const char *dir, unsigned flags,
                      const struct store_hooks *h);

struct store {
	MDB_env *env;
	/* Threads (storage.h): the map lock; writes one at a time (write_mu);
	 * store_trim one at a time (trim_mu, tried, never waited for).  Fields
	 * below that change after store_open are written only with write_mu
	 * held (id_pos, trim_work, own_key) or trim_mu held (map_lo, map_hi,
	 * map_size). */
	struct store_lock lock;
	pthread_mutex_t write_mu;
	pthread_mutex_t trim_mu;
	bool mu_ready;      /* write_mu and trim_mu initialised */
	MDB_dbi recs;       /* rowkey(8) -> header | envelope */
	MDB_dbi idp;        /* id prefix(ID_PREFIX) -> rowkeys(8) (dupfixed), last level */
	MDB_dbi idl[ID_LEVELS - 1];   /* id0, id1: the newer levels, same format (ids.c) */
	bool has_idl;       /* false: a layout-4 store opened read-only */
	uint8_t id_pos[ID_LEVELS - 1][ID_PREFIX];   /* where a level's next move starts */
	size_t id_batch;    /* ID_BATCH; tests make it small */
	MDB_dbi ids;        /* layouts 1-3: id(32) -> rowkey(8); used only when !has_idp */
	bool has_idp;       /* false: a layout-2/3 store opened read-only */
	bool has_ids;       /* the old ids DBI exists (until migrated) */
	MDB_dbi heads;      /* alliance(32) | author(32) -> HEAD_VAL */
	MDB_dbi feeds;      /* feedno(4) | seq(8) -> rowkey(8) */
	MDB_dbi forks;      /* alliance | author | seq(8) -> fork rowkeys (dupfixed) */
	MDB_dbi ix;         /* tag | value -> rowkeys (dupfixed) */
	MDB_dbi fts;        /* folded word | 0 | first rowkey -> posting block (fts_int.h) */
	MDB_dbi ftst;       /* folded word -> its newest postings (fts_int.h) */
	bool has_ftst;      /* false: a layout-2 store opened read-only */
	MDB_dbi hide;       /* rowkey -> HIDE_VAL: records a query may have to skip */
	MDB_dbi chain;      /* root rowkey(8) -> CHAIN_VAL */
	MDB_dbi meta;       /* string key -> value; '~' keys are internal */
	MDB_dbi log;        /* write number -> feeds moved (log_int.h) */
	MDB_dbi forkno;     /* fork number -> fork (log_int.h) */
	MDB_dbi endp;       /* alliance | author -> newest Endpoint (endpoint_int.h) */
	bool has_endp;      /* false: opened read-only before the first read-write open */
	MDB_dbi unread;     /* stamp | rowkey -> why: records read in part (unread_int.h) */
	bool has_unread;    /* false: opened read-only before the first read-write open */
	uint8_t read_stamp[8];  /* what this build reads (store_unread_stamp) */
	struct store_reread reread; /* what the open's re-read did (store_open_reread) */
	struct store_hooks hooks;   /* tests only; zero otherwise */
	uint64_t log_keep;  /* STORE_LOG_KEEP; tests make it small */
	bool has_log;       /* false: opened read-only before the first read-write open */
	bool has_forkno;    /* likewise */
	struct text_stemmers *stem;   /* the full-text stemmers (stem_int.h) */
	unsigned flags;
	bool has_own_key;   /* store_set_own_key was called */
	uint8_t own_key[PROTO_KEY_BYTES];   /* this node's key: its feeds are trusted differently */
	/* store_trim's cache of where data.mdb is mapped (trim.c) */
	uintptr_t map_lo, map_hi;
	size_t map_size;    /* me_mapsize when map_lo/hi were found */
	unsigned trim_work; /* page touches since the last trim (STORE_OPEN_LEAN) */
};

/* Page touches between two trims of a STORE_OPEN_LEAN store: each fault
 * may map ~120 KiB of page-cache folios, so this bounds what one write
 * keeps mapped to some tens of MiB. */
#define STORE_TRIM_WORK 512

/* A write touched about `pages` pages: trim a lean store now and then. */
static inline void store_trim_step(struct store *s, unsigned pages)
{
	if (!(s->flags & STORE_OPEN_LEAN))
		return;
	s->trim_work += pages;
	if (s->trim_work >= STORE_TRIM_WORK) {
		s->trim_work = 0;
		(void)store_trim(s);
	}
}

struct store_txn {
	struct store *s;
	MDB_txn *txn;
	struct store_hold hold;     /* the map, held shared until store_txn_end */
};

/* LMDB rc -> internal rc: 0, negative MDB_* code, or -errno. */
static inline int store_lmdb_rc(int rc)
{
	return rc > 0 ? -rc : rc;
}

/* Position c on the last key below *k (LMDB has no such op): *k and *v
 * then hold it.  0, MDB_NOTFOUND (no key below) or an error. */
static inline int store_cursor_below(MDB_cursor *c, MDB_val *k, MDB_val *v)
{
	int rc = store_lmdb_rc(mdb_cursor_get(c, k, v, MDB_SET_RANGE));
	if (rc == 0)
		return store_lmdb_rc(mdb_cursor_get(c, k, v, MDB_PREV));
	if (rc == MDB_NOTFOUND)
		return store_lmdb_rc(mdb_cursor_get(c, k, v, MDB_LAST));
	return rc;
}

/* Internal rc -> public code (MDB_* mapped to STORE_E_*). */
int store_map_err(int rc);

typedef int (*store_write_cb)(MDB_txn *txn, void *ctx);
/* Run cb inside a write txn, growing the map and retrying as needed.  One
 * write of this process at a time (write_mu); cb may be run more than once
 * (after a growth) and must start from scratch each time. */
int store_write(struct store *s, store_write_cb cb, void *ctx);
/* The same, for records received from peers: the commit is not flushed to
 * disk before it returns (store.c, "Durability"), so a system crash may
 * undo it whole (never part of it); the next write of any kind makes it
 * durable. */
int store_write_received(struct store *s, store_write_cb cb, void *ctx);

static inline void store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}
static inline uint64_t store_get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}
static inline void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline uint32_t store_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Fill a store_record from a recs value (computes the id, reads chain). */
int store_rec_fill(MDB_txn *txn, struct store *s, uint64_t rowkey, const MDB_val *v,
                   struct store_record *out);
/* Read the recs value of rowkey. */
int store_rec_read(MDB_txn *txn, struct store *s, uint64_t rowkey, MDB_val *v);
/* The id index (ids.c).  Look up an id's rowkey: 0, STORE_E_NOTFOUND or
 * an error. */
int store_id_rowkey(MDB_txn *txn, struct store *s, const uint8_t id[PROTO_ID_BYTES],
                    uint64_t *rowkey);
/* Index a new record's id (into the newest level). */
int store_id_put(MDB_txn *txn, struct store *s, const uint8_t id[PROTO_ID_BYTES],
                 uint64_t rowkey);
/* Move what the newer levels hold beyond their sizes one level on; run by
 * store_write at the end of every write. */
int store_id_settle(MDB_txn *txn, struct store *s);
/* The DBIs of the id index, newest first (idp alone for a layout-4 store
 * opened read-only); returns how many.  Not for layouts 2/3 (!has_idp). */
size_t store_id_levels(const struct store *s, MDB_dbi out[ID_LEVELS]);
/* The id of the record stored under rowkey (the hash of its envelope). */
int store_rowkey_id(MDB_txn *txn, struct store *s, uint64_t rowkey,
                    uint8_t id[PROTO_ID_BYTES]);

/* Is author this node's own key (store_set_own_key)?  With write_mu held. */
static inline bool store_is_own(const struct store *s, const uint8_t *author)
{
	return s->has_own_key && memcmp(author, s->own_key, PROTO_KEY_BYTES) == 0;
}

/* Is this content kind hidden from queries unless asked for? */
static inline bool store_kind_hidden(int kind)
{
	return kind == PROTO_KIND_CHARTER || kind == PROTO_KIND_ADMISSION ||
	       kind == PROTO_KIND_REVOCATION || kind == PROTO_KIND_KEY_ROTATION ||
	       kind == PROTO_KIND_RETRACT || kind == PROTO_KIND_ENDPOINT;
}
/* Keep the hide entry of an indexed record in step with its recs header
 * flags and content kind (see store.c). */
int store_hide_update(MDB_txn *txn, struct store *s, uint64_t rowkey, uint8_t flags,
                      uint8_t kind);
/* Rebuild the fts and hide DBIs and the tag keys from recs (layouts 1
 * and 5 -> the current one). */
int store_reindex(MDB_txn *txn, struct store *s);

/* Internal counters in meta. */
int store_counter_get(MDB_txn *txn, struct store *s, const char *key, uint64_t *v);
int store_counter_add(MDB_txn *txn, struct store *s, const char *key, int64_t delta);

#define META_NDOCS "~ndocs"
#define META_DOCLEN "~doclen"
#define META_NFEEDS "~nfeeds"
#define META_VERSION "~version"

/* FNV-1a of len bytes: the hash of the per-transaction batch tables. */
static inline uint32_t store_hash32(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/*
 * Grow the array *p of *cap elements of `size` bytes to hold at least
 * `need` (doubling, from 256).  0 or -ENOMEM; *p and *cap change only on
 * success.
 */
static inline int store_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t nc;
	void *np;

	if (need <= *cap)
		return 0;
	nc = *cap ? *cap * 2 : 256;
	while (nc < need)
		nc *= 2;
	if (!(np = realloc(*p, nc * size)))
		return -ENOMEM;
	*p = np;
	*cap = nc;
	return 0;
}

#endif
