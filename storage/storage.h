/*
 * storage.h - the agora store: one LMDB environment holding every signed
 * record this node knows, its feeds, version vectors and query indexes.
 *
 * This header is the whole contract of the agora_storage library.  It uses
 * LMDB and agora_proto; it prints nothing and starts no event loop.  Several
 * processes may open the same directory at once (LMDB serialises writers);
 * one `struct store` may be used by one thread at a time.
 *
 * Errors: 0 is success; negative STORE_E_* (below), PROTO_E_* passed up
 * from proto/, or -errno.  store_strerror() names all of them.  LMDB's own
 * codes never leave this library.  Out-parameters are written only on
 * success.
 *
 * The map grows by itself: a write that hits the map limit is rolled back,
 * the map is doubled and the write is run again, so callers never see
 * "map full".
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
	STORE_E_PREFIX = -2015,     /* a query's word* begins more than STORE_PREFIX_MAX words */
};

const char *store_strerror(int code);

struct store;

/*
 * The data directory (DESIGN 9): `flag` (--home) if set, else $AGORA_HOME,
 * else $XDG_DATA_HOME/agora, else ~/.local/share/agora; trailing slashes
 * dropped.  The store lives in its db/.  0, -ENOENT (no HOME either) or
 * -ENAMETOOLONG.
 */
int store_home(char *out, size_t cap, const char *flag);

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
 * fork: it is kept as evidence (store_forks) and reported STORE_FORKED.
 * Records of an alliance whose charter is not stored are STORE_E_ALLIANCE.
 *
 * Flags:
 *   STORE_INGEST_ATOMIC  all or nothing: if any item is rejected, nothing is
 *                        stored; the failing items carry their code and the
 *                        others STORE_E_ROLLBACK.  Returns the first error.
 *
 * status (may be NULL) has n entries; errs (may be NULL) has n entries and
 * receives the field detail of items rejected by proto.  Without ATOMIC the
 * return is 0 even if some items were rejected (see status/stats); it is
 * negative only if the transaction itself failed.
 */
#define STORE_INGEST_ATOMIC 0x1
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
 * seq already known to exist: the feed's floor, an 8-byte big-endian seq
 * kept with store_meta_put under "floor/<alliance hex>/<author hex>" by
 * whoever learns it (agorad, from its peers).  id_out (may be NULL)
 * gets the new id; env_out/env_len (may be NULL) a malloc()ed copy of the
 * envelope the caller frees.
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
 * store_txn_begin(); end it with store_txn_end() (accepts NULL).
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
	bool retracted;             /* withdrawn by its author */
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

/* Fork evidence: both envelopes of each conflicting seq. */
typedef int (*store_fork_cb)(const uint8_t alliance[PROTO_ID_BYTES],
                             const uint8_t author[PROTO_KEY_BYTES], uint64_t seq,
                             const uint8_t *env_a, size_t len_a, const uint8_t *env_b,
                             size_t len_b, void *ctx);
int store_forks(struct store_txn *t, store_fork_cb cb, void *ctx);

/* Alliances held (each one's charter record). */
int store_alliances(struct store_txn *t, store_record_cb cb, void *ctx);

/* Counts for status output. */
struct store_stats {
	uint64_t records, feeds, forks, alliances;
	uint64_t map_size, map_used;
};
int store_stats(struct store_txn *t, struct store_stats *out);

/*
 * Small settings kept in the store (e.g. "default-alliance").  The value
 * is copied into buf (NUL-terminated); STORE_E_NOTFOUND if unset.
 */
int store_meta_get(struct store_txn *t, const char *key, uint8_t *buf, size_t cap, size_t *len);
int store_meta_put(struct store *s, const char *key, const uint8_t *val, size_t len);

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
 * (STORE_E_REVOKED) or whose created_ms is at or past the admission's
 * expiry (STORE_E_EXPIRED).  Records already stored past a revocation stay
 * (they are history and are still relayed) but are flagged retracted, so
 * queries no longer return them.
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
};

/* One member of an alliance (admitted or revoked).  STORE_E_NOTFOUND if
 * the key was never admitted nor revoked there. */
int store_member_get(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                     const uint8_t key[PROTO_KEY_BYTES], struct store_member *out);

/* Every member of an alliance, in key order; *m is valid for the call.
 * cb returns 0 to go on, non-zero to stop (returned). */
typedef int (*store_member_cb)(const struct store_member *m, void *ctx);
int store_members(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                  store_member_cb cb, void *ctx);

/* May key take part in the alliance at now_ms (the handshake's and the
 * session tick's test)?  0 if admitted, not revoked and not expired; else
 * STORE_E_NOT_MEMBER, STORE_E_REVOKED or STORE_E_EXPIRED. */
int store_member_active(struct store_txn *t, const uint8_t alliance[PROTO_ID_BYTES],
                        const uint8_t key[PROTO_KEY_BYTES], uint64_t now_ms);

/* new_key_signature of a KeyRotation: the new key signs
 * "agora/rotate" (12 bytes) || alliance (32) || old key (32). */
int store_rotation_sign(uint8_t sig[64], const struct proto_key *new_key,
                        const uint8_t alliance[PROTO_ID_BYTES],
                        const uint8_t old_key[PROTO_KEY_BYTES]);

#endif
