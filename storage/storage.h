/*
 * storage.h - the agora store: one LMDB environment holding every signed
 * record this node knows, its feeds, version vectors and query indexes.
 *
 * This header is the whole contract of the agora_storage library: the store,
 * and the data directory around it (its file names, identity.key,
 * agora.conf; at the end).  It uses LMDB, libinih and agora_proto; it prints
 * nothing and starts no event loop.  Several processes may open the same
 * directory at once (LMDB serialises writers).
 *
 * Threads.  One `struct store` may be used by any number of threads at
 * once; the library does its own locking.  Read snapshots (store_txn_begin
 * .. store_txn_end) run beside each other and beside the one write.  The
 * writes of one process run one at a time.  Which calls may block, and on
 * what:
 *   - store_txn_begin waits only for a map growth of this process that
 *     runs or waits to run (a growth waits until the process's open
 *     snapshots and write end; it is rare, as each one doubles the map).
 *     A thread that already holds a snapshot never waits behind a growth.
 *   - Every write (store_open read-write, store_ingest,
 *     store_ingest_batches, store_ingest_fork, store_publish,
 *     store_publish_batch, store_own_withdraw, store_member_note_expiry,
 *     store_invite_use and the setters and deleters of settings) waits for
 *     the write of this process before it, for a write of another process
 *     (LMDB's writer lock) and for its own commit (fsync).  A write that fills the map waits, once per doubling, until
 *     this process's snapshots end.
 *   - store_trim never waits: while another thread trims, or a growth runs
 *     or waits, it returns 0 at once.
 *   - Every other call works inside a snapshot and waits for no thread.
 * Never hold a store_txn across a write on the same thread: a growth would
 * wait for that snapshot for ever.  A write begun while the calling thread
 * holds a snapshot of the same store fails with -EDEADLK (and asserts in
 * builds without NDEBUG).  A snapshot may be ended on another thread than
 * the one that began it; it counts as the beginning thread's until then.
 * store_open and store_close are not called concurrently with anything
 * else on that store.  The data-directory functions at the end keep no
 * state and may be called from any thread.
 *
 * Errors: 0 is success; negative STORE_E_* (below), PROTO_E_* passed up
 * from proto/, or -errno.  store_strerror() names all of them.  LMDB's own
 * codes never leave this library.  Out-parameters are written only on
 * success.
 *
 * The map grows by itself: a write that hits the map limit is rolled back,
 * the map is doubled and the write is run again, so callers never see
 * "map full".  A write that finds the file system full returns -ENOSPC
 * (never -EIO for that), and stores nothing of itself; the store reads on,
 * and writes again once there is space.
 */
#ifndef AGORA_STORAGE_H
#define AGORA_STORAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "proto/proto.h"

/* Domain error codes, range -2000..-2099. */
enum store_error_code {
	STORE_E_NOTFOUND = -2000,   /* no such record / key */
	STORE_E_AMBIGUOUS = -2001,  /* id prefix matches several records */
	STORE_E_CORRUPT = -2002,    /* stored bytes are not what we wrote */
	STORE_E_LMDB = -2003,       /* an LMDB failure not otherwise mapped */
	STORE_E_FORK = -2004,       /* same (alliance, author, seq), other bytes */
	STORE_E_ALLIANCE = -2005,   /* record names an alliance we do not hold */
	STORE_E_TARGET = -2006,     /* supersede/retract/endorse target unknown or not the author's */
	STORE_E_VERSION = -2007,    /* store was written by a newer agora */
	STORE_E_ROLLBACK = -2008,   /* batch rolled back: another item failed (atomic ingest) */
	STORE_E_READONLY = -2009,
	STORE_E_NOT_MEMBER = -2010, /* author not admitted to the record's alliance */
	STORE_E_ROLE = -2011,       /* author's role may not publish this kind */
	STORE_E_REVOKED = -2012,    /* author revoked before this record's seq */
	STORE_E_EXPIRED = -2013,    /* record made after the author's admission expired */
	STORE_E_RUN = -2014,        /* not the record its batch's feed run names (see store_batch_run) */
	STORE_E_GONE = -2015,       /* the change log no longer reaches back that far (store_changes) */
	STORE_E_USED = -2016,       /* the invite was used already */
	STORE_E_CONFLICT = -2017,   /* this node's own feed differs from the alliance's copy */
	STORE_E_PREFIX = -2018,     /* a query's word* begins more than STORE_PREFIX_MAX words */
	STORE_E_BLOB = -2019,       /* a blob's bytes do not match its hash (or its size) */
	STORE_E_TOO_LARGE = -2020,  /* a file over the attachment size limit */
	STORE_E_CONF = -2040,       /* agora.conf is invalid (the message names file:line) */
	STORE_E_UNSAFE = -2041,     /* a data-directory file is another user's or writable by others */
};

const char *store_strerror(int code);

struct store;
struct store_txn;

/*
 * Open (creating if needed) the store in directory `dir` (the data
 * directory's db/).  Flags: STORE_OPEN_READONLY; STORE_OPEN_LEAN: writes
 * call store_trim() every few hundred page touches, so that even one large
 * transaction never keeps much of the store mapped (agorad uses it; see
 * store_trim).  *out is freed with store_close().
 */
#define STORE_OPEN_READONLY 0x1
#define STORE_OPEN_LEAN 0x2
int store_open(struct store **out, const char *dir, unsigned flags);
void store_close(struct store *s);   /* accepts NULL */

/*
 * Records this node carried without reading them whole (a kind or fields
 * of a newer version, PROTOCOL.md 7.2) are noted when stored.  A read-write
 * store_open by a build that reads more than the one that noted them reads
 * those records again, and only those: what it now reads is indexed (they
 * appear in queries, full-text search and reports), what it still does not
 * is noted again.  This is done in transactions of about a thousand
 * records, so an open that stops half way (a crash, an error) leaves a
 * consistent store, and the next open goes on.  An error there does not
 * fail store_open (a full disk must not keep the node from starting): the
 * records not yet read stay noted, and store_open_reread() says why.  A
 * store with nothing to read again opens without reading any record.
 * store_open_reread() tells what the open did, e.g. for a notice.
 */
struct store_reread {
	uint64_t reread;    /* records read again at this open (0: none) */
	uint64_t indexed;   /* of them, now read whole (the others stay noted) */
	int error;          /* 0, or why the re-read stopped short (store_strerror) */
};
void store_open_reread(const struct store *s, struct store_reread *out);

/* ---------------------------------------------------------------- ingest */

/* One signed envelope handed to store_ingest().  Borrowed for the call. */
struct store_item {
	const uint8_t *env;
	size_t len;
};

/* What happened to each item (store_ingest's `status` array). */
enum store_item_status {
	STORE_NEW = 0,              /* verified and stored */
	STORE_KNOWN = 1,            /* already held: no-op */
	STORE_FORKED = 2,           /* conflicting record kept as fork evidence */
	/* negative: rejected, the code says why (PROTO_E_*, STORE_E_*) */
};

struct store_ingest_stats {
	size_t added, known, forks, rejected;
};

/*
 * Verify and store a batch in one write transaction.  Each envelope is
 * opened with proto_envelope_open(now_ms) (signature and fields; uses a
 * second thread for large batches), then its chain is checked against the
 * stored feed head: seq must be head + 1 and prev the head's id.  Items may
 * chain on earlier items of the same batch.  A record already stored is
 * STORE_KNOWN.  A different record at a stored (alliance, author, seq) is a
 * fork: it is kept as evidence (store_forks) and reported STORE_FORKED,
 * unless that seq is proven already or the caps of store_ingest_fork are
 * reached (then STORE_KNOWN: nothing new).
 * Records of an alliance whose charter is not stored are STORE_E_ALLIANCE.
 *
 * Flags:
 *   STORE_INGEST_ATOMIC  all or nothing: if any item is rejected, nothing is
 *                        stored; the failing items carry their code and the
 *                        others STORE_E_ROLLBACK.  Returns the first error.
 *   STORE_INGEST_RECEIVED  records received from peers, which they can send
 *                        again: the commit is not flushed before return (one
 *                        disk flush less).  A system crash (not a process
 *                        crash) may then undo this write whole, never part of
 *                        it; any later write, and store_close, make it durable.
 *                        Without it, the records are on disk on return.
 *
 * status (may be NULL) has n entries; errs (may be NULL) has n entries and
 * receives the field detail of items rejected by proto.  Without ATOMIC the
 * return is 0 even if some items were rejected (see status/stats); it is
 * negative only if the transaction itself failed.
 */
#define STORE_INGEST_ATOMIC 0x1
#define STORE_INGEST_RECEIVED 0x2
int store_ingest(struct store *s, const struct store_item *items, size_t n,
                 unsigned flags, uint64_t now_ms, int *status,
                 struct proto_error *errs, struct store_ingest_stats *stats);

/*
 * Pipelined ingest, for callers that store batch after batch (agorad,
 * bundle import): batch k+1 is opened and verified on another thread while
 * batch k is stored, so verifying never waits for a commit.
 *
 * store_batch_new() borrows items[0..n) (and errs, which may be NULL) until
 * the batch is freed, and verifies nothing yet.  store_batch_verify() opens
 * and verifies the batch's chunks that nobody has claimed yet; any number
 * of threads may call it at once.  store_ingest_batches() stores nb batches
 * in one write transaction exactly as store_ingest() would store their
 * items one after another (it verifies any chunk still unclaimed itself,
 * and waits for claimed ones); status (may be NULL) has one entry per item
 * of all batches, in order.  A batch is reference-counted: new() gives the
 * caller one reference, store_verifier_add() takes another until its
 * thread is done with it, store_batch_free() drops one; when free returns,
 * no thread reads the items any more (chunks not yet verified never will
 * be), so the caller may release them.
 */
struct store_batch;
int store_batch_new(struct store_batch **out, const struct store_item *items, size_t n,
                    uint64_t now_ms, struct proto_error *errs);
/* Before any verification: item i must be record first_seq + i of feed
 * (alliance, author) (for a Charter: its id is the alliance), as a sync
 * peer's Records message promises.  The first item that is not, and every
 * item after it, is STORE_E_RUN and is not stored. */
void store_batch_run(struct store_batch *b, const uint8_t alliance[32],
                     const uint8_t author[32], uint64_t first_seq);
void store_batch_verify(struct store_batch *b);
int store_ingest_batches(struct store *s, struct store_batch *const *bs, size_t nb,
                         unsigned flags, int *status, struct store_ingest_stats *stats);
void store_batch_free(struct store_batch *b);   /* accepts NULL */

/* Threads (1 to 16; fewer if the system gives fewer, at least one) that
 * run store_batch_verify() on the batches added, each taking the oldest
 * batch not yet taken. */
struct store_verifier;
int store_verifier_start(struct store_verifier **out, unsigned threads);
/* Queue b (takes a reference).  -ENOMEM: not queued (it will be verified
 * by store_ingest_batches instead). */
int store_verifier_add(struct store_verifier *v, struct store_batch *b);
void store_verifier_stop(struct store_verifier *v);   /* joins; accepts NULL */

/*
 * Sign and store a new record of `key` in `alliance` (NULL for a Charter,
 * which founds a new alliance): fills in author, seq (head + 1), prev and
 * created_ms = now_ms on a copy of the fields of `rec` the caller set,
 * signs, and stores it, in one write transaction so two processes never
 * take the same seq.  Refuses (STORE_E_FORK) if the local head is behind a
 * seq already known to exist: the feed's floor (store_floor_get); and
 * (STORE_E_CONFLICT) while the feed has a conflict recorded
 * (store_set_own_key).  id_out (may be NULL) gets the new id;
 * env_out/env_len (may be NULL) a malloc()ed copy of the envelope the
 * caller frees.
 */
int store_publish(struct store *s, const struct proto_key *key, const uint8_t *alliance,
                  Agora__Record *rec, uint64_t now_ms, uint8_t id_out[PROTO_ID_BYTES],
                  uint8_t **env_out, size_t *env_len, struct proto_error *err);

/*
 * Publish many records in one transaction (bulk file import): each recs[i]
 * as in store_publish, signed in order.  All or nothing.  ids (may be NULL)
 * has n slots and receives each new id.  prepare (may be NULL) is called for
 * record i right before it is signed, with the ids of records 0..i-1
 * already assigned in `ids_so_far`, so a caller can patch references to
 * records earlier in the same batch (JSON "@ref"); a non-zero return aborts
 * the batch with that code.  If a record fails, nothing is stored,
 * *failed = i (may be NULL) and err describes it.
 */
typedef int (*store_prepare_cb)(Agora__Record *rec, size_t i,
                                const uint8_t (*ids_so_far)[PROTO_ID_BYTES], void *ctx);
int store_publish_batch(struct store *s, const struct proto_key *key, const uint8_t *alliance,
                        Agora__Record **recs, size_t n, uint64_t now_ms,
                        store_prepare_cb prepare, void *ctx,
                        uint8_t (*ids)[PROTO_ID_BYTES], size_t *failed, struct proto_error *err);

/* ----------------------------------------------------------------- reads */

/*
 * A read snapshot.  Everything borrowed from a store_txn (envelope bytes,
 * strings) stays valid until store_txn_end().  Open one with
 * store_txn_begin() (waits only for a map growth, see the top of this
 * file); end it with store_txn_end() (accepts NULL; any thread).  A
 * store_txn is used by one thread at a time.
 */
struct store_txn;
int store_txn_begin(struct store *s, struct store_txn **out);
void store_txn_end(struct store_txn *t);

/* Record as stored, with what the store knows about it. */
struct store_record {
	uint8_t id[PROTO_ID_BYTES];
	const uint8_t *env;         /* borrowed: valid until store_txn_end */
	size_t env_len;
	uint64_t rowkey;            /* internal order key (created time order) */
	bool superseded;            /* a newer version exists */
	bool retracted;             /* withdrawn by its author (or hidden: revoked, withdrawn) */
	bool withdrawn;             /* taken out of this node's own feed (store_own_withdraw) */
	uint8_t newest[PROTO_ID_BYTES]; /* id of the newest version (== id if none newer) */
};

/* Fetch by full id. */
int store_get(struct store_txn *t, const uint8_t id[PROTO_ID_BYTES], struct store_record *out);

/*
 * Resolve a hex prefix (at least 4 hex digits) to a full id, as git does.
 * STORE_E_NOTFOUND, STORE_E_AMBIGUOUS or PROTO_E_ARG for non-hex input.
 */
int store_resolve(struct store_txn *t, const char *hex_prefix, uint8_t id_out[PROTO_ID_BYTES]);

/*
 * All versions of the record chain `id` belongs to, oldest first, plus its
 * retraction if any.  cb returns 0 to go on, non-zero to stop (returned).
 */
typedef int (*store_record_cb)(const struct store_record *rec, void *ctx);
int store_history(struct store_txn *t, const uint8_t id[PROTO_ID_BYTES], store_record_cb cb,
                  void *ctx);

/* Records that refer to `id`: results of a measure, lessons tied to it,
 * endorsements of it.  Newest versions only, retracted excluded. */
int store_related(struct store_txn *t, const uint8_t id[PROTO_ID_BYTES], store_record_cb cb,
                  void *ctx);

/* ----------------------------------------------------------------- query */

enum store_sort {
	STORE_SORT_NEWEST = 0,      /* creation time, newest first (default) */
	STORE_SORT_OLDEST,
	STORE_SORT_RELEVANCE,       /* BM25 score, best first (ties: newest first);
	                               needs text, else = NEWEST */
};

/* A word* in a query may begin at most this many indexed words. */
#define STORE_PREFIX_MAX 512

#define STORE_QUERY_MAX_AUTHORS 64

/* A query; zero-initialise and set what you filter on.  Filters AND. */
struct store_query {
	const uint8_t *alliance;    /* NULL: every alliance */
	enum proto_kind kind;       /* PROTO_KIND_NONE: any content kind */
	const uint8_t (*authors)[PROTO_KEY_BYTES]; /* OR over n_authors; none: any */
	size_t n_authors;
	int sector;                 /* Agora__Sector value, 0: any */
	int area;                   /* Agora__Area, 0: any */
	int hazard;                 /* Agora__Hazard, 0: any */
	int status;                 /* Agora__Status, 0: any */
	const char *tag;            /* exact tag after case folding; NULL: any */
	unsigned year_from;         /* 0: open; records whose years overlap */
	unsigned year_to;           /* 0: open */
	const uint8_t *measure;     /* records referring to this measure id */
	const char *text;           /* full-text query (below); NULL: none */
	size_t limit;               /* 0: no limit */
	size_t offset;
	enum store_sort sort;
	bool history;               /* include superseded versions */
	bool governance;            /* include charter/admission/... kinds */
};

struct store_hit {
	struct store_record rec;    /* borrowed, valid until store_txn_end */
	double score;               /* BM25 when text was given, else 0 */
};
typedef int (*store_hit_cb)(const struct store_hit *hit, void *ctx);

/*
 * Run a query in snapshot t.  Every filter is an index lookup: candidates
 * come from the most selective index and are checked against the others by
 * key lookups.  Retracted records never match.  Returns the number of hits
 * delivered, or a negative error; *total (may be NULL) gets the number of
 * matches before limit/offset when it was cheap to count, else SIZE_MAX.
 *
 * Full text (q->text), as a person types it:
 *   - Words are what store_text_words() makes of the text; every word must
 *     match.  A word matches the same word in any text field of a record
 *     (titles, summaries, descriptions, notes, lesson fields, tags, and
 *     translations), folded (store_text_fold: case and marks do not count,
 *     so "vadomrader" finds "Vådområder" and "laka" finds "łąka") and
 *     inflected: a record's text is stemmed in its language (the record's
 *     `language`; a translation's own) -- Danish, Dutch and English with
 *     the Snowball stemmers, Polish with hunspell's Polish dictionary when
 *     it is installed -- and a query word, whose language is not known,
 *     matches wherever one of those languages stems it to the same word
 *     ("vandpark" finds "vandparker", "wetland" "wetlands", "łąka" "łące").
 *   - word* matches every indexed word it begins (after folding, and after
 *     stemming: "vådområde*" finds "vådområder"); STORE_E_PREFIX if that is
 *     more than STORE_PREFIX_MAX words.
 *   - "two words" in double quotes (also “ ”, „ ”, « ») must also stand
 *     next to each other, in order, in one field; the last may end in *.
 *     An unclosed quote runs to the end of the text.
 *   - Text with no words at all sets no condition; a word longer than 64
 *     bytes matches nothing.  Words past the 32nd are ignored.
 *   - Relevance is BM25 over those matches; a word typed with marks
 *     ("vådområde") counts 1.5 times where the record's word had marks too,
 *     so exact accents rank above folded matches.
 * A store of layout 5 or older opened read-only (not yet migrated)
 * answers as it always did: words case-folded with marks kept, no
 * stemming, no prefixes or phrases.
 * Text queries use the store's stemmers; they load the Polish dictionary
 * (about 0.3 s) the first time a query or a Polish text needs it.
 * Returns PROTO_E_ARG for text or a tag that is not UTF-8.
 */
int store_query(struct store_txn *t, const struct store_query *q, store_hit_cb cb, void *ctx,
                size_t *total);

/*
 * The one folding rule of agora's text: search (words and tags), and
 * anyone who groups or compares text the way search does (the report's
 * tags, the web interface).  Two strings that fold to the same bytes are
 * the same for agora.  The rule, applied to UTF-8 s[0..len):
 *   1. Unicode compatibility decomposition and full case folding (NFKC
 *      casefold: "ﬁ" -> "fi", "½" -> "1⁄2", "Straße" -> "strasse",
 *      "CO₂" -> "co2");
 *   2. every combining mark dropped (Unicode categories Mn, Mc, Me:
 *      "å" -> "a", "ą" -> "a", "ń" -> "n", "é" -> "e"), then the rest
 *      recomposed (NFC);
 *   3. letters with a mark drawn into them, which Unicode does not
 *      decompose, replaced: æ -> ae, ø -> o, œ -> oe, ł -> l, đ -> d,
 *      ð -> d, þ -> th, ħ -> h, ŧ -> t, ı -> i.
 * So "Vådområder" -> "vadomrader", "ŁĄKA" -> "laka", "Poznań" -> "poznan",
 * "Sønderborg" -> "sonderborg", "Æblegård" -> "aeblegard".  Folding twice
 * is folding once.  Everything else (punctuation, spaces, other scripts'
 * letters) is kept as step 1 leaves it.  *out is malloc()ed (the caller
 * frees it), NUL-terminated, *out_len bytes.  0, PROTO_E_ARG (not UTF-8)
 * or PROTO_E_NOMEM.
 */
int store_text_fold(char **out, size_t *out_len, const char *s, size_t len);

/*
 * Split text into the words search sees, folded: runs of letters, marks
 * and digits of the NFKC case-folded text, each folded by the rule of
 * store_text_fold ("Vådområder ved Haarby Å!" -> "vadomrader", "ved",
 * "haarby", "a").  Words longer than 64 bytes (before their marks are
 * dropped) are skipped.  cb gets each word (NUL-terminated, valid for the
 * call) and returns 0 to go on, non-zero to stop (returned).  0, the cb's
 * code, PROTO_E_ARG (not UTF-8) or PROTO_E_NOMEM.
 */
int store_text_words(const char *text, size_t len,
                     int (*cb)(const char *word, size_t len, void *ctx), void *ctx);

/* ------------------------------------------------------- feeds and meta */

/* Head of one feed; seq 0 if the feed is empty. */
int store_feed_head(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                    const uint8_t author[PROTO_KEY_BYTES], uint64_t *seq_out,
                    uint8_t id_out[PROTO_ID_BYTES]);

/* Version vector of an alliance: cb once per author, in key order. */
typedef int (*store_head_cb)(const uint8_t author[PROTO_KEY_BYTES], uint64_t seq,
                             const uint8_t id[PROTO_ID_BYTES], void *ctx);
int store_heads(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES], store_head_cb cb,
                void *ctx);

/* One feed entry (alliance, author, seq), with its id and newest version. */
int store_feed_get(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                   const uint8_t author[PROTO_KEY_BYTES], uint64_t seq, struct store_record *out);
/* Only the envelope bytes of a feed entry, valid until store_txn_end: no
 * id hashed, no chain looked up (for streaming records to a peer). */
int store_feed_env(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                   const uint8_t author[PROTO_KEY_BYTES], uint64_t seq, const uint8_t **env,
                   size_t *len);

/*
 * A fork proof received from a peer (its ForkProof message): both
 * envelopes must open (signature and fields, at now_ms) and be two
 * different records of exactly (alliance, author, seq), of an alliance
 * this store holds, by an author admitted there; else *result is the
 * rejection (a PROTO_E_* code; STORE_E_RUN: not two different records of
 * that position; STORE_E_ALLIANCE, STORE_E_NOT_MEMBER, ...).  Otherwise
 * both are stored as store_ingest would store them, in one write (a record
 * that extends the feed is stored as a record, one that conflicts with the
 * feed as evidence), and *result is STORE_FORKED only if new evidence was
 * stored, so that relaying ends: STORE_KNOWN when the seq was proven
 * already, or the author has STORE_FORKS_PER_AUTHOR proofs, or the
 * alliance STORE_FORKS_PER_ALLIANCE (these caps hold for forks met by
 * store_ingest too).  A "fork" of this node's own feed is a conflict
 * (STORE_E_CONFLICT, store_set_own_key), never evidence.  Returns 0, or a
 * negative code if the write itself failed (*result untouched).
 */
#define STORE_FORKS_PER_AUTHOR 4
#define STORE_FORKS_PER_ALLIANCE 1024
int store_ingest_fork(struct store *s, const uint8_t alliance[PROTO_ID_BYTES],
                      const uint8_t author[PROTO_KEY_BYTES], uint64_t seq, const uint8_t *env_a,
                      size_t len_a, const uint8_t *env_b, size_t len_b, uint64_t now_ms,
                      int *result);

/* Fork evidence: both envelopes of each conflicting seq (env_a the
 * feed's record, env_b the other; borrowed until store_txn_end), in
 * (alliance, author, seq) order; a proof whose feed record is no longer in
 * the feed (store_own_withdraw) is skipped. */
typedef int (*store_fork_cb)(const uint8_t alliance[PROTO_ID_BYTES],
                             const uint8_t author[PROTO_KEY_BYTES], uint64_t seq,
                             const uint8_t *env_a, size_t len_a, const uint8_t *env_b,
                             size_t len_b, void *ctx);
int store_forks(struct store_txn *t, store_fork_cb cb, void *ctx);

/*
 * The fork proofs stored after fork number `after`, in the order they
 * were stored (each new proof gets the next fork number; proofs stored
 * before the numbers existed are numbered on the first read-write open).
 * For relaying: a caller that sent every proof up to number N sends
 * store_forks_since(N) next.  *upto (may be NULL) gets the snapshot's last
 * fork number (0: none), on success only.  A proof whose feed record is
 * no longer in the feed (store_own_withdraw) is skipped.  cb returns 0 to
 * go on, non-zero to stop (returned).
 */
int store_forks_since(struct store_txn *t, uint64_t after, store_fork_cb cb, void *ctx,
                      uint64_t *upto);

/* ------------------------------------------------------------ changes */

/*
 * What changed, without reloading every version vector.  Every write
 * transaction that moves a feed head (store_ingest*, store_publish*,
 * store_own_withdraw) gets the next write number and logs the feeds it
 * moved; the last STORE_LOG_KEEP such writes are kept.
 */
#define STORE_LOG_KEEP 4096

struct store_change {
	uint8_t alliance[PROTO_ID_BYTES];
	uint8_t author[PROTO_KEY_BYTES];
	uint64_t from_seq;          /* head before the first logged write after `since` */
	uint64_t seq;               /* head in this snapshot (0: the feed is empty again) */
	uint8_t id[PROTO_ID_BYTES]; /* id of that head (zeros if seq is 0) */
	bool governance;            /* a Charter/Admission/Revocation/KeyRotation of this
	                               alliance was stored by one of these writes
	                               (membership may differ) */
};
typedef int (*store_change_cb)(const struct store_change *c, void *ctx);

/* The newest write number in snapshot t (0 for a store never written, or
 * opened read-only before its first read-write open). */
int store_write_number(struct store_txn *t, uint64_t *out);

/* Which commit snapshot t shows: a number that grows with every write of
 * any process, records or settings alike (invites, seen times), so two
 * snapshots with the same number hold the same data.  Never fails. */
uint64_t store_txn_number(const struct store_txn *t);

/*
 * Every feed moved by writes numbered (since, *upto], one callback per
 * feed, in (alliance, author) order; c is valid for the call.  *upto (may
 * be NULL) gets the snapshot's write number, on success only.
 * STORE_E_GONE when the log no longer reaches back to since + 1, or since
 * is past the snapshot's write number (a store restored from an older
 * copy): the caller then reloads whole.  cb returns 0 to go on, non-zero
 * to stop (returned).
 */
int store_changes(struct store_txn *t, uint64_t since, store_change_cb cb, void *ctx,
                  uint64_t *upto);

/* Alliances held (each one's charter record). */
int store_alliances(struct store_txn *t, store_record_cb cb, void *ctx);

/* Counts for status output. */
struct store_stats {
	uint64_t records, feeds, forks, alliances;
	uint64_t map_size, map_used;
};
int store_stats(struct store_txn *t, struct store_stats *out);

/* -------------------------------------------------------- the own feed */

/*
 * Tell the store which key is this node's own (agorad and the CLI call it
 * once, after store_open, with the identity's public key; NULL forgets
 * it).  It changes how store_ingest treats a validly signed record of
 * that key, i.e. of this node's own feeds, which only a copy of this
 * node's store or key can have made:
 *   - past the head (seq > head + 1, or seq == head + 1 whose prev is not
 *     the head's id): not stored, as for anyone, but the feed's floor
 *     (store_floor_get) rises to that seq in the same write.  A floor rises
 *     in no other way: nothing a peer merely says moves it.
 *   - at or below the head, and not the record held there: not kept as
 *     fork evidence (a node never publishes a fork proof against itself).
 *     The alliance's conflict seq (store_own_conflict, the lowest such seq)
 *     is recorded instead, and the item's status is STORE_E_CONFLICT.
 *     store_publish and store_publish_batch in that alliance then fail with
 *     STORE_E_CONFLICT until store_own_withdraw.
 *   - a record of it that store_own_withdraw took out is STORE_KNOWN, and
 *     stays out.
 * Any thread; it waits for a write in progress.
 */
void store_set_own_key(struct store *s, const uint8_t pk[PROTO_KEY_BYTES]);

/* The conflict seq of author's feed in alliance (see store_set_own_key);
 * *seq_out is 0 if there is none. */
int store_own_conflict(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                       const uint8_t author[PROTO_KEY_BYTES], uint64_t *seq_out);

/*
 * Recover from a conflict of the own feed in alliance: the own records
 * from the conflict seq to the head (those published on the restored
 * store) move out of the feed, in one write.  The head goes back to
 * conflict seq - 1 and their feed entries are removed, so they are never
 * offered to peers; they stay stored, flagged withdrawn (and retracted, so
 * no query returns them; store_get still finds them by id).  An edit or a
 * withdrawal among them is undone in its chain (the version it replaced is
 * current again); an Admission, Revocation or KeyRotation among them stays
 * applied to membership.  The conflict is cleared; the floor stays, so
 * publishing waits until the alliance's records are ingested.  Then cb
 * (may be NULL) gets each withdrawn record in seq order, as it was before
 * (valid for the call), so the caller can publish its content again; a
 * non-zero return stops the calls and is returned (the records are
 * withdrawn all the same).  *n_out (may be NULL) gets how many were
 * withdrawn (0 if there was no conflict).  PROTO_E_ARG if no own key is
 * set (store_set_own_key).
 */
int store_own_withdraw(struct store *s, const uint8_t alliance[PROTO_ID_BYTES],
                       store_record_cb cb, void *ctx, size_t *n_out);

/* ------------------------------------------------------------ endpoints */

/*
 * Where a member is reached (PROTOCOL.md 6.10): its newest Endpoint record
 * in an alliance (the highest seq of its feed there; a feed is stored in
 * order, so the last one stored).  An Endpoint this build cannot read
 * (PROTO_NEWER_UNREADABLE) changes nothing.
 */
struct store_endpoint {
	char addr[PROTO_ENDPOINT_MAX][264]; /* "HOST:PORT" or "[V6]:PORT", NUL-terminated,
	                                       as the record has them (proto_address_parse) */
	size_t n;                   /* addresses; 0 when dial_out_only */
	bool dial_out_only;         /* it dials out and cannot be dialled */
	uint64_t seq;               /* the record's seq in the author's feed */
	uint8_t id[PROTO_ID_BYTES]; /* the record's id */
};

/*
 * The newest Endpoint of author in alliance, from the endpoint index: two
 * key lookups and the decode of one small record, whatever the size of the
 * alliance or of the author's feed (agorad calls it on its loop thread when
 * it picks a peer to dial).  STORE_E_NOTFOUND when the author has published
 * none there, or when that newest one is withdrawn: retracted by its author,
 * past a revocation of the author, or taken out of the own feed
 * (store_own_withdraw) -- an older Endpoint does not come back, so the
 * author is then not dialable.  It says nothing of membership: the caller
 * checks that the author is active (store_member_is_active).  PROTO_E_ARG
 * for a NULL argument.
 */
int store_endpoint_get(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                       const uint8_t author[PROTO_KEY_BYTES], struct store_endpoint *out);

/*
 * Calls fn(ctx, author) for every author that has an entry in the endpoint
 * index of alliance, in key order (an entry may still be withdrawn:
 * store_endpoint_get says).  One cursor walk over the authors that
 * published an Endpoint there, not a lookup per member: agorad finds its
 * dialable members this way in an alliance of 12,000 where a few hundred
 * run nodes.  A non-zero return of fn stops the walk and is returned.
 * PROTO_E_ARG for a NULL argument.
 */
int store_endpoint_each(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                        int (*fn)(void *ctx, const uint8_t author[PROTO_KEY_BYTES]), void *ctx);

/*
 * Records signed in advance, for an alliance this store does not hold yet
 * (PROTOCOL.md 6.10): `agora join` signs this node's first records in the
 * alliance it joins -- its Profile at seq 1, its Endpoint at seq 2 -- before
 * it holds the charter, so the store cannot take them yet.  They wait as
 * they are, in seq order, until store_pending_ingest stores them.
 */

/*
 * Keep items[0..n) (envelopes of this store's future own records, decoded
 * here: each must name `alliance`, and their seqs must be consecutive from
 * the first) as the pending records of alliance, replacing any it had, in
 * one write.  n == 0 drops them.  0; PROTO_E_ARG (not records of that
 * alliance, or not consecutive); a write error.
 */
int store_pending_put(struct store *s, const uint8_t alliance[PROTO_ID_BYTES],
                      const struct store_item *items, size_t n);

/* The pending records of alliance (NULL: of every alliance), by alliance
 * and seq; env borrowed until store_txn_end.  cb returns 0 to go on,
 * non-zero to stop (returned). */
typedef int (*store_pending_cb)(const uint8_t alliance[PROTO_ID_BYTES], uint64_t seq,
                                const uint8_t *env, size_t len, void *ctx);
int store_pending_list(struct store_txn *t, const uint8_t *alliance, store_pending_cb cb,
                       void *ctx);

/*
 * Store the pending records of alliance, as store_ingest would at now_ms, in
 * seq order, and forget each one that is stored or refused for good.  Those
 * refused because the store lacks the alliance's charter
 * (STORE_E_ALLIANCE) or the author's admission (STORE_E_NOT_MEMBER) stay,
 * with every one after them, for a later call.  Any other refusal is for
 * good (a revocation, an expiry, a role that may not publish the kind): it
 * and the records after it, which chain on it, are dropped.  A pending
 * record at a seq the author's feed already holds is dropped without being
 * ingested (stored already, or the feed went on without it), so it never
 * counts as an own-feed conflict or raises a floor; so are the rest when
 * the first one left does not extend the feed.  *stored (may be NULL) gets
 * how many were stored (STORE_NEW).  0, or a fatal error (then nothing is
 * forgotten).  agorad calls it once the alliance's charter is stored and
 * its own key is active there (see PROTOCOL.md 6.10).
 */
int store_pending_ingest(struct store *s, const uint8_t alliance[PROTO_ID_BYTES],
                         uint64_t now_ms, size_t *stored);

/* ------------------------------------------------------------- settings */

/*
 * Small records both binaries keep in the store, each with one owner
 * (storage/meta.c) and typed functions; nothing outside storage/ spells
 * their keys or encodings.  Getters: 0, STORE_E_NOTFOUND if unset, or an
 * error; out-params written on success only.  Setters and deleters are
 * writes of their own (see "Threads" at the top); deleting what is not
 * there is 0.
 */

/* The default alliance (DESIGN 7): the one last created or joined, or set
 * by `agora alliance use`. */
int store_default_alliance_get(struct store_txn *t, uint8_t out[PROTO_ID_BYTES]);
int store_default_alliance_set(struct store *s, const uint8_t alliance[PROTO_ID_BYTES]);

/* When this node's agorad last had a session with key (wall clock, ms). */
int store_seen_get(struct store_txn *t, const uint8_t key[PROTO_KEY_BYTES], uint64_t *ms_out);
int store_seen_put(struct store *s, const uint8_t key[PROTO_KEY_BYTES], uint64_t ms);
/* Several at once, in one write (agorad gathers them). */
struct store_seen {
	uint8_t key[PROTO_KEY_BYTES];
	uint64_t ms;
};
int store_seen_put_many(struct store *s, const struct store_seen *v, size_t n);

/*
 * Invites (PROTOCOL.md 6.7).  A coordinator's `agora alliance invite`
 * keeps one per random token; the store keeps it under the token's
 * BLAKE2b-256 hash, never the token itself.
 */
#define STORE_TOKEN_BYTES 32
struct store_invite {
	uint8_t alliance[PROTO_ID_BYTES];
	int role;                   /* Agora__Role the redeemer is admitted with (0..255) */
	uint64_t expires_ms;        /* 0: never */
	bool used;
	char name[128];             /* the municipality invited (NUL-terminated) */
	char country[8];
};
int store_invite_put(struct store *s, const uint8_t token[STORE_TOKEN_BYTES],
                     const struct store_invite *iv);
int store_invite_get(struct store_txn *t, const uint8_t token[STORE_TOKEN_BYTES],
                     struct store_invite *out);
int store_invite_del(struct store *s, const uint8_t token[STORE_TOKEN_BYTES]);
/*
 * Redeem token for `alliance` in one write: STORE_E_NOTFOUND if there is
 * no such invite for that alliance, STORE_E_USED if it was used,
 * STORE_E_EXPIRED if now_ms is at or past its expiry; else it is marked
 * used and *out (may be NULL) gets it.  A code is used up by this call,
 * whatever the caller does next (even if admitting the redeemer fails).
 */
int store_invite_use(struct store *s, const uint8_t token[STORE_TOKEN_BYTES],
                     const uint8_t alliance[PROTO_ID_BYTES], uint64_t now_ms,
                     struct store_invite *out);
/* Is any invite unused and unexpired at now_ms?  (agorad lets keys it does
 * not know open a session only then.) */
int store_invites_open(struct store_txn *t, uint64_t now_ms, bool *open);
/* The same, and *made (may be NULL): was any invite ever made here (used,
 * expired or open)?  A node that made some tells a late redeemer why its
 * code no longer works. */
int store_invites_state(struct store_txn *t, uint64_t now_ms, bool *open, bool *made);

/* Joining (`agora join CODE`): the alliance and token to redeem with the
 * coordinator `coordinator`.  Either out-param of store_join_get may be
 * NULL. */
int store_join_put(struct store *s, const uint8_t coordinator[PROTO_KEY_BYTES],
                   const uint8_t alliance[PROTO_ID_BYTES],
                   const uint8_t token[STORE_TOKEN_BYTES]);
int store_join_get(struct store_txn *t, const uint8_t coordinator[PROTO_KEY_BYTES],
                   uint8_t alliance_out[PROTO_ID_BYTES], uint8_t token_out[STORE_TOKEN_BYTES]);
int store_join_del(struct store *s, const uint8_t coordinator[PROTO_KEY_BYTES]);

/*
 * The own-feed floor of (alliance, author): store_publish refuses to
 * publish at or below it (STORE_E_FORK).  *seq_out is 0 if there is none.
 * There is no setter: a floor rises only when store_ingest meets a
 * validly signed record of this node's own feed past its head (see
 * store_set_own_key).  The operator clears it with store_floor_clear.
 */
int store_floor_get(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                    const uint8_t author[PROTO_KEY_BYTES], uint64_t *seq_out);
int store_floor_clear(struct store *s, const uint8_t alliance[PROTO_ID_BYTES],
                      const uint8_t author[PROTO_KEY_BYTES]);

/* ---------------------------------------------------------------- memory */

/*
 * Let go of the store's pages this process has mapped in.  LMDB reads
 * through a shared, read-only file mapping, so every page a long scan or
 * sync touches stays in this process's resident set until the kernel
 * needs it.  This drops those mappings (madvise MADV_DONTNEED).  The data
 * stays in the OS page cache, and the next access maps it again, so the
 * call is always safe, even while a store_txn or a write is open.  (The
 * kernel maps whole page-cache folios around each fault, so one touched
 * page can map 100 KiB and more.)  Long scans and agorad call it now and
 * then so the resident set stays small.  Calls on one store must not run
 * concurrently.  0 or -errno.
 */
int store_trim(struct store *s);

/* ----------------------------------------------------------- membership */

/*
 * Alliance membership, derived from the governance records as they are
 * stored (rules: proto/PROTOCOL.md section 6).  The charter's coordinators
 * are coordinators; an Admission by a coordinator (or, under a k-of-n
 * policy, by k distinct coordinators for the same key and role) admits a
 * key; a Revocation by a coordinator invalidates a key's records after
 * last_seq (a revocation is permanent); a KeyRotation retires its author's
 * key.  store_ingest and store_publish refuse a record whose author is not
 * admitted (STORE_E_NOT_MEMBER), whose role may not publish its kind
 * (STORE_E_ROLE), whose seq is past the author's revocation
 * (STORE_E_REVOKED), or whose admission has expired (STORE_E_EXPIRED, see
 * below).  Records already stored past a revocation stay (they are
 * history and are still relayed) but are flagged retracted, so queries no
 * longer return them.
 *
 * Expiry.  A record whose created_ms is at or past the admission's
 * expires_ms is refused.  created_ms is the author's to choose, so the
 * node's clock decides too, where it can: store_member_note_expiry, which
 * agorad runs on its tick while it runs, notes the head of every member
 * whose admission it watched expire as that member's expiry seq; from
 * then on every record of that member past that seq is refused, whatever
 * its created_ms.  Ingest notes nothing: a node that did not watch the
 * expiry pass (it started later, or was down) judges by created_ms alone,
 * as it must to take the member's honest history.  A renewal (an
 * Admission with a later expiry, or none) lifts it.  Nodes that watch at
 * different times may hold different prefixes of an expired member's
 * feed; a coordinator's Revocation at a seq settles it everywhere.
 */
struct store_member {
	uint8_t key[PROTO_KEY_BYTES];
	int role;                   /* Agora__Role; 0: revoked without admission */
	char name[128];             /* municipality name ("" for founders) */
	char country[8];
	uint64_t admitted_ms;       /* created_ms of the admitting record */
	uint64_t expires_ms;        /* 0: never */
	bool revoked;
	bool rotated;               /* retired by its own KeyRotation */
	uint64_t last_seq;          /* last valid seq if revoked, else UINT64_MAX */
	uint64_t records;           /* head seq of its feed in the alliance */
	bool equivocating;          /* a fork of its feed is stored */
	uint64_t expiry_seq;        /* its head when this node saw its admission expire:
	                               later seqs are refused; UINT64_MAX: not noted */
};

/* One member of an alliance (admitted or revoked).  STORE_E_NOTFOUND if
 * the key was never admitted nor revoked there. */
int store_member_get(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                     const uint8_t key[PROTO_KEY_BYTES], struct store_member *out);

/* store_member_get in one lookup: key, role, name, country, admitted_ms,
 * expires_ms, revoked, rotated and last_seq only; records and
 * equivocating are 0 and expiry_seq UINT64_MAX (not read).  For a caller
 * that asks per stored batch whether an author is cut (the node's view). */
int store_member_brief(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                       const uint8_t key[PROTO_KEY_BYTES], struct store_member *out);

/* Every member of an alliance, in key order; *m is valid for the call.
 * cb returns 0 to go on, non-zero to stop (returned). */
typedef int (*store_member_cb)(const struct store_member *m, void *ctx);
int store_members(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                  store_member_cb cb, void *ctx);

/* May key take part in the alliance at now_ms (the handshake's and the
 * session tick's test)?  0 if admitted, not revoked and not expired; else
 * STORE_E_NOT_MEMBER, STORE_E_REVOKED or STORE_E_EXPIRED.  The rule is
 * store_member_is_active's. */
int store_member_active(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                        const uint8_t key[PROTO_KEY_BYTES], uint64_t now_ms);

/* The same rule on a copy of a member (from store_members or
 * store_member_get), with no transaction: true if m's role is not 0 (it
 * was admitted), it is not revoked (a KeyRotation revokes too) and it has
 * not expired at now_ms.  So a daemon can answer "may this key take part"
 * from an in-memory copy of store_members().  false for NULL. */
bool store_member_is_active(const struct store_member *m, uint64_t now_ms);
/* The same, saying why not: 0, or STORE_E_NOT_MEMBER (NULL too),
 * STORE_E_REVOKED or STORE_E_EXPIRED, as store_member_active. */
int store_member_status(const struct store_member *m, uint64_t now_ms);

/* Note an expiry seq (see "Expiry" above) for every admitted, unrevoked
 * member of every alliance whose admission has expired at now_ms, no
 * earlier than watched_from_ms (when the caller began watching: an expiry
 * before it passed unwatched), and has none yet, in one write.  *noted
 * (may be NULL) gets how many were noted. */
int store_member_note_expiry(struct store *s, uint64_t now_ms, uint64_t watched_from_ms,
                             size_t *noted);

/* new_key_signature of a KeyRotation: the new key signs
 * "agora/rotate" (12 bytes) || alliance (32) || old key (32). */
int store_rotation_sign(uint8_t sig[64], const struct proto_key *new_key,
                        const uint8_t alliance[PROTO_ID_BYTES],
                        const uint8_t old_key[PROTO_KEY_BYTES]);

/* ------------------------------------------------------------------ blobs */

/*
 * Blobs: the files attached to records (PROTOCOL.md 1.5 "Attachments"),
 * stored by their BLAKE2b-256 as <home>/blobs/<first 2 hex digits>/<64 hex
 * digits>, mode 0600, apart from the LMDB store (blob.c).  Files, not an
 * LMDB table: a 20-200 MB value would be copied into the one write
 * transaction every record commit waits for, would grow the map by its size
 * (LMDB never shrinks it), and could not be read in chunks without a read
 * transaction held open for the whole transfer; a file is written in pieces
 * as they arrive and served with pread().  A blob comes into the store only
 * through store_blob_in_*: written to a temporary file beside its final
 * place (O_EXCL|O_NOFOLLOW), hashed as it is written, fsynced, and linked
 * under its hash only when the bytes hash to what was expected, so a blob in
 * the store is always whole and its name always its hash.  These functions
 * block on disk I/O (a program with an event loop calls them off it).  Any
 * thread; no shared state beyond the file system.
 */

/* "<home>/blobs/ab/abcd..." into out.  0, -ENAMETOOLONG. */
int store_blob_path(char *out, size_t cap, const char *home, const uint8_t hash[PROTO_HASH_BYTES]);

/* Is the blob stored?  0 with *size (may be NULL) its length, STORE_E_NOTFOUND,
 * or -errno. */
int store_blob_stat(uint64_t *size, const char *home, const uint8_t hash[PROTO_HASH_BYTES]);

/* Open the stored blob for reading: 0 with *fd (the caller closes it) and
 * *size, STORE_E_NOTFOUND, or -errno. */
int store_blob_open(int *fd, uint64_t *size, const char *home,
                    const uint8_t hash[PROTO_HASH_BYTES]);

/* A blob being written; owned by its creator until store_blob_in_finish or
 * store_blob_in_free. */
struct store_blob_in;

/*
 * Start writing a blob of `size` bytes (1..PROTO_ATTACH_SIZE_MAX).  hash:
 * what the bytes must hash to, or NULL to store whatever they hash to.
 * 0 with *out, -EINVAL (size), -ENOMEM, -errno (the temporary file).
 */
int store_blob_in_new(struct store_blob_in **out, const char *home,
                      const uint8_t *hash, uint64_t size);
/* Append len bytes: 0, STORE_E_TOO_LARGE past `size` (nothing written), -errno. */
int store_blob_in_write(struct store_blob_in *b, const void *data, size_t len);
/* Bytes written so far (the offset of the next write). */
uint64_t store_blob_in_have(const struct store_blob_in *b);
/*
 * Check and store: all `size` bytes written and hashing to the expected hash
 * (when given), else STORE_E_BLOB and nothing is stored.  On 0 the blob is
 * in the store (it may have been already) and hash_out (may be NULL) has its
 * hash.  Frees b in every case.
 */
int store_blob_in_finish(uint8_t hash_out[PROTO_HASH_BYTES], struct store_blob_in *b);
/* Abandon: removes the temporary file, frees b.  Accepts NULL. */
void store_blob_in_free(struct store_blob_in *b);

/*
 * Copy the file at src into the store (what `agora publish --attach` does):
 * 0 with *hash and *size; STORE_E_TOO_LARGE when it holds more than max
 * bytes (max <= PROTO_ATTACH_SIZE_MAX), -EINVAL when it is empty or not a
 * regular file, -errno.
 */
int store_blob_add(uint8_t hash[PROTO_HASH_BYTES], uint64_t *size, const char *home,
                   const char *src, uint64_t max);

/* ------------------------------------------------------ the data directory */

/*
 * The data directory (DESIGN 9) and its files, for agora and agorad alike
 * (home.c).  Both binaries name a file only through store_home_path() and
 * write one only through store_file_write().
 */

/*
 * Where it is: `flag` (--home) if set, else $AGORA_HOME, else
 * $XDG_DATA_HOME/agora, else ~/.local/share/agora; trailing slashes
 * dropped.  0, -ENOENT (no HOME either) or -ENAMETOOLONG.
 */
int store_home(char *out, size_t cap, const char *flag);

enum store_home_file {
	STORE_HOME_CONF,            /* agora.conf (store_conf_*) */
	STORE_HOME_KEY,             /* identity.key (store_key_*) */
	STORE_HOME_DB,              /* db/, the LMDB environment (store_open) */
	STORE_HOME_SOCK,            /* agorad.sock, the control socket (PROTO_CONTROL_SOCKET) */
	STORE_HOME_PORT,            /* agorad.port: the TCP port agorad bound, one line */
	STORE_HOME_BLOBS,           /* blobs/, the attachments' files (store_blob_*) */
};

/* The file's name ("agora.conf"); NULL for a value not in the enum. */
const char *store_home_name(enum store_home_file f);
/* "<home>/<name><suffix>" (suffix may be NULL) into out.  0, -EINVAL or
 * -ENAMETOOLONG. */
int store_home_path(char *out, size_t cap, const char *home, enum store_home_file f,
                    const char *suffix);

/*
 * Is the data directory safe to run agorad in?  The directory, db/ and
 * every file agorad reads or writes there that exists (agora.conf,
 * identity.key, agorad.port, agorad.sock, db/data.mdb, db/lock.mdb) must
 * be owned by the effective user and not writable by group or others, and
 * none but the directory itself may be a symbolic link: otherwise another
 * user could plant a name agorad then writes through.  0; STORE_E_UNSAFE
 * with msg saying what to run (chown, chmod, rm); -ENOENT when there is no
 * directory (msg: run `agora init`); other -errno.
 */
int store_home_check(const char *home, char *msg, size_t cap);

#define STORE_WRITE_NEW 0x1     /* store_file_write: fail with -EEXIST if path exists */

/*
 * Replace path with len bytes of buf, file mode `mode` (umask ignored):
 * write a temporary file created beside it with O_CREAT|O_EXCL|O_NOFOLLOW
 * under a fresh name, fsync it, then rename it over path (with
 * STORE_WRITE_NEW: link it, so an existing path, a link included, is never
 * replaced), and fsync the directory.  Never writes through a symbolic
 * link, and leaves no temporary file behind.  0 or -errno.
 */
int store_file_write(const char *path, const void *buf, size_t len, unsigned mode,
                     unsigned flags);

/*
 * Read a whole regular file of at most max bytes.  *out is malloc()ed and
 * NUL-terminated (the caller frees it).  0, -EFBIG over max, -EINVAL for
 * something other than a regular file, other -errno.
 */
int store_file_read(const char *path, size_t max, char **out, size_t *out_len);

/* ------------------------------------------------------------ identity.key */

/*
 * The one loader of identity.key (keyfile.c), for agora and agorad.  Every
 * function writes one line for the user into msg (cap bytes) when it fails:
 * what is wrong and what to run, with no "agora:" prefix.
 */
#define STORE_KEY_FILE_MAX 4096     /* far above any valid identity.key */
#define STORE_PASSPHRASE_MAX 1024   /* a passphrase file's size */

/*
 * Ask for a passphrase without echo (the CLI on a terminal): the answer,
 * NUL-terminated without its newline, into buf (cap bytes, guarded memory).
 * question says what it is for.  0 or -errno.
 */
typedef int (*store_prompt_cb)(char *buf, size_t cap, const char *question, void *ctx);

/* Where a passphrase comes from, first match wins. */
struct store_passphrase_src {
	const char *file;           /* --passphrase-file FILE, or NULL */
	/* then $AGORA_PASSPHRASE, when set and not empty */
	store_prompt_cb prompt;     /* then this (NULL: never ask; agorad) */
	void *prompt_ctx;
};

/*
 * The passphrase from src (may be NULL: only $AGORA_PASSPHRASE).  The file
 * must be a regular file owned by the user, mode 0600 or stricter, of at
 * most STORE_PASSPHRASE_MAX bytes with no NUL byte; its first line (CR LF
 * dropped) is the passphrase.  *out is sodium_malloc()ed (free with
 * sodium_free), or NULL when no source gave one.  0; PROTO_E_KEY_PERM
 * (mode, owner), PROTO_E_PASSPHRASE (empty, NUL byte, not a regular file),
 * PROTO_E_NOMEM, -errno.
 */
int store_passphrase_get(char **out, const struct store_passphrase_src *src, const char *why,
                         char *msg, size_t cap);

/*
 * The text of <home>/identity.key, after checking the file: a regular file
 * of 1..STORE_KEY_FILE_MAX bytes, owned by the user, mode 0600 or stricter.
 * *text is sodium_malloc()ed (free with sodium_free).  0; -ENOENT (no
 * identity: msg says to run `agora init`); PROTO_E_KEY_PERM; PROTO_E_KEY
 * (not a regular file, empty, too large); -errno.
 */
int store_key_read(char **text, size_t *len, const char *home, char *msg, size_t cap);

/*
 * Load the identity: store_key_read(), then, for an encrypted key, a
 * passphrase from src (store_passphrase_get) and proto_key_decode().  A
 * passphrase file src names is read and checked even for a plain key.
 * *out is freed with proto_key_free().  Besides store_key_read's codes:
 * PROTO_E_PASSPHRASE (encrypted and no passphrase, or an unusable one),
 * PROTO_E_KEY (not a key file, or the wrong passphrase: msg says which).
 */
int store_key_load(struct proto_key **out, const char *home,
                   const struct store_passphrase_src *src, char *msg, size_t cap);

/* ------------------------------------------------------------- agora.conf */

/*
 * agora.conf, the node's settings (conf.c): one parser and one editor for
 * agora and agorad.  Sections: [node] name country key listen log-level
 * public-address;
 * [profile] (any keys, checked by the CLI); [peer] (repeated) key address
 * name.  Errors are STORE_E_CONF with "<file>:<line>: <what>" in err.
 */
#define STORE_CONF_HOST_MAX 256
#define STORE_CONF_LINE_MAX 198     /* longest line libinih reads whole */

/* One [peer] section. */
struct store_conf_peer {
	uint8_t key[PROTO_KEY_BYTES];
	bool has_key;               /* always true after a successful parse */
	char *address;              /* as written; NULL: accept only, never dial */
	char host[STORE_CONF_HOST_MAX];  /* address split; "" without one */
	uint16_t port;
	char *name;                 /* NULL if none (or empty) */
	bool bootstrap;             /* bootstrap = yes: a way in, not a pinned partner */
	int line;                   /* line of its [peer] header */
};

/* One "name = value" line of a section whose keys are free ([profile]). */
struct store_conf_value {
	char *name, *value;
	int line;
};

/* A [hook]: a command agorad runs for each new record that matches. */
struct store_conf_hook {
	char *command;              /* as written (agorad splits it into words) */
	char *filter;               /* `agora watch` options as written; NULL: every record */
	unsigned timeout_s;         /* 0: absent (agorad's default) */
	int line;                   /* line of its [hook] header */
};

/* The whole file.  Every pointer is owned; store_conf_dispose frees them. */
struct store_conf {
	/* [node] */
	char *name, *country;       /* NULL if absent */
	bool has_key;
	uint8_t key[PROTO_KEY_BYTES];   /* this node's public key, for display */
	bool has_listen;
	char listen_host[STORE_CONF_HOST_MAX];
	uint16_t listen_port;
	int listen_line;
	char *log_level;            /* as written (agorad checks it); NULL if absent */
	unsigned connections;       /* sessions with members the mesh keeps, 2..64; 0: absent */
	int log_level_line;
	char *public_address;       /* as written (store_conf_addresses reads it); NULL
	                               if absent */
	int public_address_line;
	/* [profile] */
	bool has_profile;           /* the section is there (even empty) */
	struct store_conf_value *profile;
	size_t n_profile, cap_profile;
	/* [peer], in file order; keys are unique */
	struct store_conf_peer *peers;
	size_t n_peers, cap_peers;
	/* [hook], in file order */
	struct store_conf_hook *hooks;
	size_t n_hooks, cap_hooks;
	/* [attachments] */
	uint64_t attach_max_file;   /* bytes of the largest file attached; 0: absent
	                               (STORE_ATTACH_MAX_FILE_DEFAULT) */
	uint64_t attach_quota;      /* bytes of blobs agorad fetches for one alliance's
	                               records; 0: absent (STORE_ATTACH_QUOTA_DEFAULT) */
};

#define STORE_ATTACH_MAX_FILE_DEFAULT (256ull << 20)   /* [attachments] max-file: 256M */
#define STORE_ATTACH_QUOTA_DEFAULT (16ull << 30)       /* [attachments] quota: 16G */

/*
 * Parse text (len bytes; NUL bytes are an error) into *out; label names it
 * in messages ("/home/x/agora.conf").  0 or STORE_E_CONF (err set, *out
 * untouched), -ENOMEM.
 */
int store_conf_parse(struct store_conf *out, const char *text, size_t len, const char *label,
                     char *err, size_t cap);
/* The same from a file of at most 1 MiB; a missing file is an empty
 * configuration (0).  -errno when it cannot be read (err set). */
int store_conf_load(struct store_conf *out, const char *path, char *err, size_t cap);
void store_conf_dispose(struct store_conf *c);   /* accepts NULL; leaves *c zeroed */
/* The peer with this key, or NULL; borrowed from c. */
const struct store_conf_peer *store_conf_peer_find(const struct store_conf *c,
                                                   const uint8_t key[PROTO_KEY_BYTES]);

/*
 * "HOST:PORT" or "[V6]:PORT" -> host, port (1..65535; allow_zero: 0 too).
 * The host holds no blank, control, '#', ';', '[' or ']'.  0 or -EINVAL.
 */
int store_conf_hostport(char host[STORE_CONF_HOST_MAX], uint16_t *port, const char *s,
                        bool allow_zero);
/*
 * Where partners reach this node, as [node] public-address and `agora
 * init|join --public-address` write it: "none" (dial-out only: *none true,
 * *n 0), or 1..PROTO_ENDPOINT_MAX addresses separated by commas (blanks
 * around them ignored), each as an Endpoint record holds it
 * (proto_address_parse).  0 with out[0..*n) set, or -EINVAL with *why (may
 * be NULL) a static phrase ("has no port (...)"); nothing written then.
 */
int store_conf_addresses(char out[][PROTO_ADDRESS_MAX + 1], size_t *n, bool *none,
                         const char *value, const char **why);

/* Can `key = value` be written so that it reads back the same (no line
 * break or control character, no blank at either end, no ';' first or
 * after a blank (an inline comment), a line of at most STORE_CONF_LINE_MAX
 * bytes)?  0 or -EINVAL. */
int store_conf_check_value(const char *key, const char *value);

/*
 * The editor: open the file (which must parse; a missing file starts as
 * an empty one with a comment), change whole sections, save.  Comments and
 * sections it does not touch stay as written.  The change functions return
 * 0, -EINVAL (a value store_conf_check_value refuses) or -ENOMEM.
 */
struct store_conf_edit;

/* STORE_E_CONF (err names file:line), -errno. */
int store_conf_edit_open(struct store_conf_edit **out, const char *path, char *err, size_t cap);
/* The same from text in memory (NULL: a missing file) to be saved to path
 * (tests and fuzzing). */
int store_conf_edit_new(struct store_conf_edit **out, const char *path, const char *text,
                        size_t len, char *err, size_t cap);
void store_conf_edit_free(struct store_conf_edit *e);   /* accepts NULL */
/* [node] key = value (value NULL: remove it); adds [node] if absent. */
int store_conf_edit_node_set(struct store_conf_edit *e, const char *key, const char *value);
/* Make the [profile] section's keys exactly v[0..n) (names and values
 * borrowed); its comments stay; adds the section if absent. */
int store_conf_edit_profile_set(struct store_conf_edit *e, const struct store_conf_value *v,
                                size_t n);
/* Add the [peer] of key, or rewrite the one that has it (*replaced says
 * which; may be NULL).  address / name NULL or "": none.  A key the
 * section had besides these (bootstrap) stays. */
int store_conf_edit_peer_put(struct store_conf_edit *e, const uint8_t key[PROTO_KEY_BYTES],
                             const char *address, const char *name, bool *replaced);
/* Remove the [peer] of key; STORE_E_NOTFOUND if there is none. */
/* Set (value NULL: remove) one more key of key's [peer] ("bootstrap").
 * STORE_E_NOTFOUND without that section; -EINVAL for a bad value. */
int store_conf_edit_peer_set(struct store_conf_edit *e, const uint8_t key[PROTO_KEY_BYTES],
                             const char *name, const char *value);
int store_conf_edit_peer_remove(struct store_conf_edit *e, const uint8_t key[PROTO_KEY_BYTES]);
/* The file as it would be saved; *out malloc()ed.  0 or -ENOMEM. */
int store_conf_edit_text(const struct store_conf_edit *e, char **out, size_t *out_len);
/*
 * Parse the new text (it must parse: STORE_E_CONF otherwise, nothing
 * written) and write it with store_file_write(path, mode 0600, flags;
 * STORE_WRITE_NEW: only if no file is there, -EEXIST otherwise).
 */
int store_conf_edit_save(struct store_conf_edit *e, unsigned flags, char *err, size_t cap);

#endif
