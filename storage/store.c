/*
 * store.c - the LMDB environment: open/close, the growing-map write helper,
 * snapshots, counters and statistics.
 *
 * On-disk layout (layout version 6; meta "~version"; the DBIs and meta
 * keys added since are created as they are first needed, and a store
 * without them reads as one where they are empty).  All integers are
 * big-endian so that keys sort numerically.
 *
 *   rowkey   8 bytes: created_ms << 16 | n, n the next free value for that
 *            millisecond, so everything keyed or sorted by rowkey is in
 *            creation order.
 *
 *   recs     rowkey -> flags(1) | content kind(1) | doc length(4) |
 *            chain root rowkey(8) | envelope bytes.
 *            flags: 1 superseded, 2 retracted, 4 fork evidence, 8 revoked
 *            (members_int.h), 16 withdrawn from this node's own feed
 *            (own.c; set with 2).  The envelope is stored once, here;
 *            everything else points at it.
 *   idp      (DUPSORT|DUPFIXED) first 8 bytes of the id -> rowkey.  Every
 *            stored record, forks included.  A lookup confirms the whole
 *            id by hashing the stored envelope; two ids sharing 8 bytes
 *            are just two values of one key.  (Layouts 2 and 3 had "ids":
 *            the whole id(32) -> rowkey, nearly twice the pages, all of
 *            them dirtied by the random inserts of a large batch.  It is
 *            moved into idp on the first read-write open.)
 *   id0, id1 the newer levels of the id index, same format: a new id goes
 *            into id0, and moves on to id1 and then idp in slices of
 *            neighbouring keys, so a batch's random ids dirty few pages of
 *            the large idp.  Each id is in one of the three.  See ids.c.
 *            (Layout 4 had none: they are created on the first read-write
 *            open.)
 *   heads    alliance(32) | author(32) -> feedno(4) | seq(8) | id(32) |
 *            rowkey(8).  The version vector; feedno is a small number
 *            given to the feed when it is first seen (meta "~nfeeds").
 *   feeds    feedno(4) | seq(8) -> rowkey.  The feed entries.
 *   forks    alliance | author | seq(8) -> rowkey of the conflicting
 *            record (DUPSORT|DUPFIXED); the feed holds the other one.
 *   ix       (DUPSORT|DUPFIXED) tag(1) | value -> rowkey(8).  Tags:
 *            'k' content kind, 'a' author, 'l' alliance, 's' sector,
 *            'r' area, 'h' hazard, 't' status (1 byte each for the code
 *            lists), 'y' year(2), 'g' folded tag (store_text_fold; layouts
 *            up to 5: case-folded only, marks kept), 'm' referred-to id
 *            (result.measure, lesson.measures, endorsement.target),
 *            'v' chain root rowkey -> every version of a superseded chain.
 *            Forks are never indexed.  Superseded and retracted records stay
 *            in the indexes; queries filter them by the recs flags.
 *   ftsb     term | 0x00 | first rowkey(8) -> a block of that term's
 *            postings (rowkey deltas, tf, document length), about 1.5 KB
 *            at most; the term's last block also holds its df.  A term is
 *            a word of the record folded (store_text_fold) and stemmed in
 *            the language of the text it stands in (stem_int.h); tf's top
 *            bit says the word carried marks, and each posting holds a
 *            signature of the terms that follow it (for phrases).  The
 *            term 0x01 "pl" lists every record with Polish text.  See
 *            fts_int.h.  (Layout 1 had "fts": DUPSORT word -> rowkey | tf,
 *            one B-tree insert per posting; layouts 2 to 5 held words
 *            case-folded only, marks kept, tf a plain count, no
 *            signatures.  Both are rebuilt, with the tag keys, on the
 *            first read-write open; read-only, a store of layout 2 to 5 is
 *            queried as it was indexed.)
 *   ftst     term -> first rowkey(8) | a block of the term's newest
 *            postings, all after its last ftsb block, at most ~0.5 KB; it
 *            then holds the df instead.  A write adds to this small tail
 *            and moves it into ftsb only once it is full, so a batch
 *            rewrites a few pages of tails instead of one ftsb page per
 *            word.  (Layout 2 had no ftst: a word without a tail is all in
 *            ftsb, so layout 2 opens as is.)
 *   hide     rowkey -> flags(1) | content kind(1), for every indexed
 *            (non-fork) record that is superseded, retracted, or of a kind
 *            queries hide by default (governance, retractions, endpoints).
 *            Queries check candidates against it instead of reading each
 *            record, so a ranked query reads only the records it delivers
 *            (and, for phrases, the candidates whose signatures allow them).
 *   chain    root rowkey -> newest rowkey(8) | newest id(32) |
 *            retraction rowkey(8, 0 if none).  Only for chains that were
 *            superseded or retracted; a record without one is its own
 *            newest version.
 *   log      write number(8) -> alliance(32) | author(32) | head seq
 *            before the write(8) | flags(1), once per feed the write moved
 *            (flag 1: a governance record went into it).  Only writes that
 *            move a feed head get a number (the last key + 1), and only the
 *            last STORE_LOG_KEEP are kept.  See log.c.  (Created on the
 *            first read-write open; until then a read-only open sees write
 *            number 0 and an empty log.)
 *   forkno   fork number(8) -> alliance(32) | author(32) | seq(8) |
 *            rowkey(8) of the fork record, for every fork proof in the
 *            order it was stored (store_forks_since).  Created on the first
 *            read-write open, which numbers the forks already stored.
 *   endp     alliance(32) | author(32) -> seq(8) | rowkey(8) of the
 *            author's newest readable Endpoint record there (endpoint.c).
 *            (Created on the first read-write open that lacks it, which
 *            builds it, and hides kind 29, from the kind index: a store
 *            made before this build carried Endpoints unread.)
 *   unread   stamp(8) | rowkey(8) -> why(1): the records a build indexed
 *            without reading them whole (a kind or fields of a newer
 *            version), by the stamp of what that build reads; a read-write
 *            open of a build with another stamp reads them again and
 *            indexes what it now reads.  See unread_int.h.  (Created on
 *            the first read-write open that lacks it, which notes the
 *            records already stored.)
 *   meta     text key -> value.  Keys starting with '~' are internal:
 *            "~version", "~nfeeds", "~ndocs" and "~doclen" (BM25 counts).
 *            Membership: "policy/", "member/", "vote/" (members_int.h).
 *            Settings and the own feed's and members' marks, each with its
 *            owner and encoding in meta.c: "default-alliance", "seen/",
 *            "invite/", "join/", "floor/", "conflict/", "expiry/",
 *            "pending/".  (Layout 5 stores from before may hold
 *            "invites-open", no longer read.)
 *
 * The environment is opened with MDB_NOTLS, room for 32 DBIs, and an
 * initial map of 64 MiB (or $AGORA_STORE_MAPSIZE bytes: a test hook to
 * exercise growth).
 *
 * Durability.  A read-write open adds MDB_NOMETASYNC: a commit flushes its
 * data pages (fdatasync) and then writes the meta page that makes them the
 * current state without flushing it.  store_write() then flushes it
 * (mdb_env_sync), so every write is on disk when it returns, as with
 * LMDB's default (two flushes per commit either way).  Only
 * store_write_received() (store_ingest_batches with
 * STORE_INGEST_RECEIVED: records from peers) leaves the meta page
 * unflushed, saving one flush per received batch.  What a system crash
 * (power loss, kernel panic; not a crash of the process, whose writes
 * are in the page cache) can then lose: the meta pages not flushed yet,
 * that is the last commit at most, since the next commit's fdatasync
 * flushes the earlier meta page with its data, and only if that commit
 * was a received batch.  LMDB then opens at the commit before it (it
 * keeps two meta pages, and a commit never overwrites pages the previous
 * one still uses): the store is consistent, the batch is lost whole, and
 * peers send those records again when the vectors are next compared.
 * A record this node published (store_publish) or any other write is
 * flushed before the call returns, and so is every received batch
 * committed before it.  store_close flushes too.
 * Every write goes through store_write(), which re-runs the write on a
 * doubled map after MDB_MAP_FULL and adopts another process's larger map
 * after MDB_MAP_RESIZED.  Because mdb_env_set_mapsize needs no transaction
 * of this process to be active, a growth holds the map lock (lock.c)
 * exclusive, and a thread must not keep a store_txn open across a write on
 * the same struct store (store_write refuses it).
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "storage/endpoint_int.h"
#include "storage/log_int.h"
#include "storage/stem_int.h"
#include "storage/unread_int.h"

const char *store_strerror(int code)
{
	switch (code) {
	case 0: return "success";
	case STORE_E_NOTFOUND: return "not found";
	case STORE_E_AMBIGUOUS: return "id prefix matches several records";
	case STORE_E_CORRUPT: return "the store is corrupt";
	case STORE_E_LMDB: return "database failure";
	case STORE_E_FORK: return "conflicting record at the same feed position (fork)";
	case STORE_E_ALLIANCE: return "record names an alliance this store does not hold";
	case STORE_E_TARGET: return "target record unknown or not the author's";
	case STORE_E_VERSION: return "store was written by a newer agora";
	case STORE_E_ROLLBACK: return "batch rolled back because another item failed";
	case STORE_E_READONLY: return "store is open read-only";
	case STORE_E_NOT_MEMBER: return "author is not admitted to this alliance";
	case STORE_E_ROLE: return "author's role may not publish this kind of record";
	case STORE_E_REVOKED: return "author's key was revoked before this record";
	case STORE_E_EXPIRED: return "author's admission had expired when this record was made";
	case STORE_E_RUN: return "record is not the one its batch names (feed, seq)";
	case STORE_E_CONF: return "agora.conf is invalid";
	case STORE_E_UNSAFE: return "a file of the data directory is unsafe (owner or mode)";
	case STORE_E_GONE: return "the change log no longer reaches back that far";
	case STORE_E_USED: return "the invite was used already";
	case STORE_E_CONFLICT:
		return "this node's own feed conflicts with the alliance's copy (records published on "
		       "a store restored from a backup): run `agora recover`";
	case STORE_E_PREFIX: return "a word* begins too many words: type more of it";
	case STORE_E_BLOB: return "the file's bytes do not match the hash its record gives";
	case STORE_E_TOO_LARGE: return "the file is larger than the attachment size limit";
	default: break;
	}
	if (code <= -1000 && code > -1100)
		return proto_strerror(code);
	if (code < 0 && code > -4096)
		return strerror(-code);
	return "unknown error";
}

int store_map_err(int rc)
{
	if (rc >= 0)
		return rc;
	switch (rc) {
	case MDB_NOTFOUND: return STORE_E_NOTFOUND;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_BAD_VALSIZE:
		return STORE_E_CORRUPT;
	case MDB_VERSION_MISMATCH: return STORE_E_VERSION;
	default: break;
	}
	if (rc >= MDB_KEYEXIST && rc <= MDB_LAST_ERRCODE)
		return STORE_E_LMDB;
	return rc;
}

/*
 * Change the map size with no transaction of this process open (LMDB's
 * rule for mdb_env_set_mapsize): double it after MDB_MAP_FULL (grow), or
 * adopt the size another process gave it after MDB_MAP_RESIZED (size 0).
 * Waits until this process's snapshots and write end; -EDEADLK if this
 * thread holds one of them.
 */
static int map_change(struct store *s, bool grow)
{
	MDB_envinfo info;
	int rc = store_lock_exclusive(&s->lock);
	if (rc)
		return rc;
	if (grow && (rc = store_lmdb_rc(mdb_env_info(s->env, &info))) == 0)
		rc = store_lmdb_rc(mdb_env_set_mapsize(s->env, info.me_mapsize * 2));
	else if (!grow)
		rc = store_lmdb_rc(mdb_env_set_mapsize(s->env, 0));
	store_lock_exclusive_end(&s->lock);
	return rc;
}

/*
 * A full file system, named as such.  LMDB writes the pages of a commit
 * with pwrite, and when the file system fills up during one, pwrite
 * returns short and LMDB reports EIO ("Input/output error"; only a write
 * that finds no space at all gives ENOSPC).  The commit is abandoned
 * either way, the meta page untouched, so nothing of it is stored.  An
 * EIO while the file system has less than this left is taken for ENOSPC.
 */
#define STORE_FULL_BYTES ((uint64_t)1 << 20)

static int name_disk_full(struct store *s, int rc)
{
	struct statvfs st;
	mdb_filehandle_t fd;
	if (rc != -EIO || mdb_env_get_fd(s->env, &fd) != 0 || fstatvfs(fd, &st) != 0)
		return rc;
	return (uint64_t)st.f_bavail * st.f_frsize < STORE_FULL_BYTES ? -ENOSPC : rc;
}

/* With write_mu held.  durable: the meta page is flushed before return
 * (see "Durability" above). */
static int write_locked(struct store *s, store_write_cb cb, void *ctx, bool durable)
{
	for (int tries = 0; tries < 64; tries++) {
		struct store_hold h;
		MDB_txn *txn = NULL;
		store_lock_shared(&s->lock, &h);
		int rc = store_lmdb_rc(mdb_txn_begin(s->env, NULL, 0, &txn));
		if (rc == 0) {
			rc = cb(txn, ctx);
			if (rc == 0)
				rc = store_id_settle(txn, s);
			if (rc == 0)
				rc = store_lmdb_rc(mdb_txn_commit(txn));
			else
				mdb_txn_abort(txn);
			if (rc == 0 && durable)
				rc = store_lmdb_rc(mdb_env_sync(s->env, 1));
		}
		store_lock_shared_end(&s->lock, &h);
		if (rc == MDB_MAP_FULL || rc == MDB_MAP_RESIZED) {
			if ((rc = map_change(s, rc == MDB_MAP_FULL)))
				return store_map_err(rc);
			continue;
		}
		return store_map_err(name_disk_full(s, rc));
	}
	return STORE_E_LMDB;
}

static int write_run(struct store *s, store_write_cb cb, void *ctx, bool durable)
{
	if (s->flags & STORE_OPEN_READONLY)
		return STORE_E_READONLY;
	/* storage.h: never hold a store_txn across a write on the same thread.
	 * A growth would wait for that snapshot for ever, and so would every
	 * other write, queued behind this one. */
	if (store_lock_held_here(&s->lock)) {
		assert(!"a store_txn of this thread is open across a write (see storage.h)");
		return -EDEADLK;
	}
	pthread_mutex_lock(&s->write_mu);
	int rc = write_locked(s, cb, ctx, durable);
	pthread_mutex_unlock(&s->write_mu);
	return rc;
}

int store_write(struct store *s, store_write_cb cb, void *ctx)
{
	return write_run(s, cb, ctx, true);
}

int store_write_received(struct store *s, store_write_cb cb, void *ctx)
{
	return write_run(s, cb, ctx, false);
}

int store_counter_get(MDB_txn *txn, struct store *s, const char *key, uint64_t *v)
{
	MDB_val k = { strlen(key), (void *)key }, d;
	int rc = store_lmdb_rc(mdb_get(txn, s->meta, &k, &d));
	if (rc == MDB_NOTFOUND) {
		*v = 0;
		return 0;
	}
	if (rc)
		return rc;
	if (d.mv_size != 8)
		return STORE_E_CORRUPT;
	*v = store_get64(d.mv_data);
	return 0;
}

int store_counter_add(MDB_txn *txn, struct store *s, const char *key, int64_t delta)
{
	uint64_t v;
	int rc = store_counter_get(txn, s, key, &v);
	if (rc)
		return rc;
	uint8_t buf[8];
	store_be64(buf, v + (uint64_t)delta);
	MDB_val k = { strlen(key), (void *)key }, d = { 8, buf };
	return store_lmdb_rc(mdb_put(txn, s->meta, &k, &d, 0));
}

struct open_ctx {
	struct store *s;
	unsigned dbflags;
};

static int open_dbis(MDB_txn *txn, struct store *s, unsigned create)
{
	enum { OPTIONAL = 1, OLD = 2 };   /* may be absent (read-only); never created */
	static const struct {
		const char *name;
		size_t off;
		unsigned flags, how;
	} dbs[] = {
		{ "ftst", offsetof(struct store, ftst), 0, OPTIONAL },
		{ "idp", offsetof(struct store, idp), MDB_DUPSORT | MDB_DUPFIXED, OPTIONAL },
		{ "id0", offsetof(struct store, idl[0]), MDB_DUPSORT | MDB_DUPFIXED, OPTIONAL },
		{ "id1", offsetof(struct store, idl[1]), MDB_DUPSORT | MDB_DUPFIXED, OPTIONAL },
		{ "ids", offsetof(struct store, ids), 0, OLD },
		{ "recs", offsetof(struct store, recs), 0, 0 },
		{ "heads", offsetof(struct store, heads), 0, 0 },
		{ "feeds", offsetof(struct store, feeds), 0, 0 },
		{ "forks", offsetof(struct store, forks), MDB_DUPSORT | MDB_DUPFIXED, 0 },
		{ "ix", offsetof(struct store, ix), MDB_DUPSORT | MDB_DUPFIXED, 0 },
		{ "ftsb", offsetof(struct store, fts), 0, 0 },
		{ "hide", offsetof(struct store, hide), 0, 0 },
		{ "chain", offsetof(struct store, chain), 0, 0 },
		{ "meta", offsetof(struct store, meta), 0, 0 },
		{ "log", offsetof(struct store, log), 0, OPTIONAL },
		{ "forkno", offsetof(struct store, forkno), 0, OPTIONAL },
		{ "endp", offsetof(struct store, endp), 0, OPTIONAL },
		{ "unread", offsetof(struct store, unread), 0, OPTIONAL },
	};
	size_t nidl = 0;
	s->has_ftst = s->has_idp = s->has_ids = s->has_idl = s->has_log = s->has_forkno = false;
	s->has_endp = s->has_unread = false;
	for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
		MDB_dbi *dbi = (MDB_dbi *)((char *)s + dbs[i].off);
		unsigned fl = dbs[i].flags | (dbs[i].how == OLD ? 0 : create);
		int rc = store_lmdb_rc(mdb_dbi_open(txn, dbs[i].name, fl, dbi));
		if (rc == MDB_NOTFOUND && (dbs[i].how == OLD || (dbs[i].how == OPTIONAL && !create)))
			continue;   /* an older layout, or one read before its first write */
		if (rc)
			return rc;
		if (dbi == &s->ftst)
			s->has_ftst = true;
		else if (dbi == &s->idp)
			s->has_idp = true;
		else if (dbi == &s->ids)
			s->has_ids = true;
		else if (dbi == &s->log)
			s->has_log = true;
		else if (dbi == &s->forkno)
			s->has_forkno = true;
		else if (dbi == &s->endp)
			s->has_endp = true;
		else if (dbi == &s->unread)
			s->has_unread = true;
		else if (dbi == &s->idl[0] || dbi == &s->idl[1])
			nidl++;
	}
	s->has_idl = nidl == ID_LEVELS - 1;
	if (!s->has_idp && !s->has_ids)
		return STORE_E_CORRUPT;   /* no id index at all */
	return 0;
}

/* Layout 3 -> 4: move every id of "ids" into idp, then delete "ids". */
static int ids_to_idp(MDB_txn *txn, struct store *s)
{
	MDB_cursor *c;
	int rc = store_lmdb_rc(mdb_cursor_open(txn, s->ids, &c));
	if (rc)
		return rc;
	MDB_val k, v;
	for (rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_FIRST)); rc == 0;
	     rc = store_lmdb_rc(mdb_cursor_get(c, &k, &v, MDB_NEXT))) {
		if (k.mv_size != PROTO_ID_BYTES || v.mv_size != 8) {
			rc = STORE_E_CORRUPT;
			break;
		}
		MDB_val pk = { ID_PREFIX, k.mv_data };
		rc = store_lmdb_rc(mdb_put(txn, s->idp, &pk, &v, MDB_NODUPDATA));
		if (rc && rc != MDB_KEYEXIST)
			break;
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return rc;
	if ((rc = store_lmdb_rc(mdb_drop(txn, s->ids, 1))))
		return rc;
	s->has_ids = false;
	return 0;
}

static int open_write_cb(MDB_txn *txn, void *ctx)
{
	struct store *s = ctx;
	MDB_dbi probe;
	int rc = store_lmdb_rc(mdb_dbi_open(txn, "endp", 0, &probe));
	bool endp_new = rc == MDB_NOTFOUND;
	if (rc && !endp_new)
		return rc;
	rc = store_lmdb_rc(mdb_dbi_open(txn, "unread", 0, &probe));
	bool unread_new = rc == MDB_NOTFOUND;
	if ((rc && !unread_new) || (rc = open_dbis(txn, s, MDB_CREATE)))
		return rc;
	uint64_t v;
	rc = store_counter_get(txn, s, META_VERSION, &v);
	if (rc)
		return rc;
	if (v > STORE_LAYOUT_VERSION)
		return STORE_E_VERSION;
	if (s->has_ids && (rc = ids_to_idp(txn, s)))   /* first: what follows finds by id */
		return rc;
	if ((rc = store_fork_number_all(txn, s)))
		return rc;
	if (v == 1) {
		/* layout 1: drop the per-record postings */
		MDB_dbi old;
		rc = store_lmdb_rc(mdb_dbi_open(txn, "fts", MDB_DUPSORT | MDB_DUPFIXED, &old));
		if (rc == 0)
			rc = store_lmdb_rc(mdb_drop(txn, old, 1));
		else if (rc == MDB_NOTFOUND)
			rc = 0;
		if (rc)
			return rc;
	}
	/* layouts 1-5: rebuild the full text (stems, folded) and the tag keys */
	if (v >= 1 && v <= 5 && (rc = store_reindex(txn, s)))
		return rc;
	/* no endp yet: records of kind 29 were carried unread; index them now */
	if (endp_new && (rc = store_endpoint_rebuild(txn, s)))
		return rc;
	/* no unread yet: note what this build does not read whole */
	if (unread_new && (rc = store_unread_scan(txn, s)))
		return rc;
	if (v < STORE_LAYOUT_VERSION)
		rc = store_counter_add(txn, s, META_VERSION, (int64_t)(STORE_LAYOUT_VERSION - v));
	return rc;
}

int store_open(struct store **out, const char *dir, unsigned flags)
{
	return store_open_hooked(out, dir, flags, NULL);
}

int store_open_hooked(struct store **out, const char *dir, unsigned flags,
                      const struct store_hooks *h)
{
	struct store *s = calloc(1, sizeof *s);
	int rc;
	if (!s)
		return -ENOMEM;
	s->flags = flags;
	if (h)
		s->hooks = *h;
	store_unread_stamp(s);
	s->id_batch = ID_BATCH;
	s->log_keep = STORE_LOG_KEEP;
	if ((rc = store_lock_init(&s->lock)))
		goto out;
	if (pthread_mutex_init(&s->write_mu, NULL)) {
		rc = -EAGAIN;
		goto out;
	}
	if (pthread_mutex_init(&s->trim_mu, NULL)) {
		pthread_mutex_destroy(&s->write_mu);
		rc = -EAGAIN;
		goto out;
	}
	s->mu_ready = true;
	if (!(flags & STORE_OPEN_READONLY)) {
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			rc = -errno;
			goto out;
		}
	}
	if ((rc = text_stemmers_new(&s->stem)))
		goto out;
	rc = store_lmdb_rc(mdb_env_create(&s->env));
	if (rc)
		goto out;
	size_t mapsize = STORE_MAPSIZE_DEFAULT;
	const char *ms = getenv("AGORA_STORE_MAPSIZE");
	if (ms && *ms) {
		char *end;
		unsigned long long v = strtoull(ms, &end, 10);
		if (*end == '\0' && v >= 65536)
			mapsize = (size_t)v;
	}
	if ((rc = store_lmdb_rc(mdb_env_set_maxdbs(s->env, 32))) ||
	    (rc = store_lmdb_rc(mdb_env_set_mapsize(s->env, mapsize))))
		goto out;
	unsigned envflags = MDB_NOTLS;
	if (flags & STORE_OPEN_READONLY)
		envflags |= MDB_RDONLY;
	else
		envflags |= MDB_NOMETASYNC;   /* flushed by store_write: "Durability" above */
	rc = store_lmdb_rc(mdb_env_open(s->env, dir, envflags, 0600));
	if (rc)
		goto out;
	if (flags & STORE_OPEN_READONLY) {
		MDB_txn *txn;
		rc = store_lmdb_rc(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn));
		if (rc == MDB_MAP_RESIZED) {
			mdb_env_set_mapsize(s->env, 0);
			rc = store_lmdb_rc(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn));
		}
		if (rc)
			goto out;
		rc = open_dbis(txn, s, 0);
		uint64_t v = 0;
		if (!rc)
			rc = store_counter_get(txn, s, META_VERSION, &v);
		if (!rc && v > STORE_LAYOUT_VERSION)
			rc = STORE_E_VERSION;
		if (rc)
			mdb_txn_abort(txn);
		else
			rc = store_lmdb_rc(mdb_txn_commit(txn));
	} else {
		s->flags &= ~(unsigned)STORE_OPEN_READONLY;
		rc = store_write(s, open_write_cb, s);
		/* After the open's own write: its batches are writes of their
		 * own.  What it cannot do now stays noted for the next open. */
		if (!rc)
			s->reread.error = store_map_err(store_unread_settle(s));
	}
out:
	if (rc) {
		rc = store_map_err(rc);
		store_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void store_open_reread(const struct store *s, struct store_reread *out)
{
	*out = s->reread;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->env) {
		if (!(s->flags & STORE_OPEN_READONLY))
			(void)mdb_env_sync(s->env, 1);   /* a received batch's meta page */
		mdb_env_close(s->env);
	}
	text_stemmers_free(s->stem);
	if (s->mu_ready) {
		pthread_mutex_destroy(&s->trim_mu);
		pthread_mutex_destroy(&s->write_mu);
	}
	store_lock_dispose(&s->lock);
	free(s);
}

/*
 * Was the snapshot txn possibly copied from a meta page that a writer was
 * rewriting meanwhile?  LMDB (0.9) begins a read txn by taking the last
 * txnid T and copying meta page T & 1, without checking afterwards that
 * the page still describes T (libmdbx added that check).  Commit T + 2 is
 * the first to rewrite that page; a reader descheduled between the two
 * steps got a newer snapshot labelled T, or a torn one.  (A test reader
 * beside two writers on two cores saw records go back by one between
 * snapshots, about once in forty runs.)  So if a commit past T + 1 has
 * happened by the time the txn is begun, it is begun again.
 */
static bool snapshot_raced(MDB_env *env, MDB_txn *txn)
{
	MDB_envinfo info;
	return mdb_env_info(env, &info) == 0 && info.me_last_txnid > mdb_txn_id(txn) + 1;
}

#define SNAPSHOT_TRIES 64   /* then the snapshot is taken as it is */

int store_txn_begin(struct store *s, struct store_txn **out)
{
	struct store_txn *t = calloc(1, sizeof *t);
	int rc = 0;
	if (!t)
		return -ENOMEM;
	for (int tries = 0; tries < SNAPSHOT_TRIES; tries++) {
		store_lock_shared(&s->lock, &t->hold);
		rc = store_lmdb_rc(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &t->txn));
		if (rc == 0 && (tries + 1 == SNAPSHOT_TRIES || !snapshot_raced(s->env, t->txn)))
			break;
		if (rc == 0) {
			mdb_txn_abort(t->txn);
			t->txn = NULL;
		}
		store_lock_shared_end(&s->lock, &t->hold);
		if (rc == 0)
			continue;
		/* another process grew the map past ours: adopt its size */
		if (rc != MDB_MAP_RESIZED || (rc = map_change(s, false)))
			break;
		rc = STORE_E_LMDB;   /* if it keeps happening */
	}
	if (rc) {
		free(t);
		return store_map_err(rc);
	}
	t->s = s;
	*out = t;
	return 0;
}

void store_txn_end(struct store_txn *t)
{
	if (!t)
		return;
	if (t->txn) {
		mdb_txn_abort(t->txn);
		store_lock_shared_end(&t->s->lock, &t->hold);
	}
	free(t);
}

uint64_t store_txn_number(const struct store_txn *t)
{
	return (uint64_t)mdb_txn_id(t->txn);
}

/* ----------------------------------------------------------------- stats */

int store_stats(struct store_txn *t, struct store_stats *out)
{
	struct store *s = t->s;
	MDB_stat st;
	struct store_stats r = { 0 };
	int rc;
	if ((rc = store_lmdb_rc(mdb_stat(t->txn, s->recs, &st))))
		return store_map_err(rc);
	r.records = st.ms_entries;
	if ((rc = store_lmdb_rc(mdb_stat(t->txn, s->heads, &st))))
		return store_map_err(rc);
	r.feeds = st.ms_entries;
	if ((rc = store_lmdb_rc(mdb_stat(t->txn, s->forks, &st))))
		return store_map_err(rc);
	r.forks = st.ms_entries;

	MDB_cursor *c;
	if ((rc = store_lmdb_rc(mdb_cursor_open(t->txn, s->ix, &c))))
		return store_map_err(rc);
	uint8_t kb[2] = { IX_KIND, PROTO_KIND_CHARTER };
	MDB_val k = { 2, kb }, d;
	rc = store_lmdb_rc(mdb_cursor_get(c, &k, &d, MDB_SET_KEY));
	if (rc == 0) {
		size_t cnt;
		rc = store_lmdb_rc(mdb_cursor_count(c, &cnt));
		r.alliances = cnt;
	} else if (rc == MDB_NOTFOUND) {
		rc = 0;
	}
	mdb_cursor_close(c);
	if (rc)
		return store_map_err(rc);

	MDB_envinfo info;
	if ((rc = store_lmdb_rc(mdb_env_info(s->env, &info))))
		return store_map_err(rc);
	if ((rc = store_lmdb_rc(mdb_env_stat(s->env, &st))))
		return store_map_err(rc);
	r.map_size = info.me_mapsize;
	r.map_used = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	*out = r;
	return 0;
}
