/*
 * proto.h - agora records: keys, signed envelopes, validation, code lists.
 *
 * This header is the whole contract of the agora_proto library.  It uses
 * only protobuf-c and libsodium: no I/O, no printing, no global mutable
 * state.  Every function is safe to call from any thread at the same time,
 * once proto_init() has returned 0 (call it once, from main).
 *
 * Errors: 0 is success; a negative PROTO_E_* code (below) or -errno is
 * failure.  proto_strerror() names any of them.  Out-parameters are written
 * only on success.
 */
#ifndef AGORA_PROTO_H
#define AGORA_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "agora.pb-c.h"          /* generated from proto/agora.proto */
#include "control.pb-c.h"        /* generated from proto/control.proto */

#define PROTO_KEY_BYTES 32        /* Ed25519 public key */
#define PROTO_SEED_BYTES 32       /* Ed25519 seed */
#define PROTO_SECRET_BYTES 64     /* libsodium Ed25519 secret key */
#define PROTO_SIG_BYTES 64
#define PROTO_ID_BYTES 32         /* BLAKE2b-256 of the envelope */
#define PROTO_ID_HEX 64
#define PROTO_ENVELOPE_MAX 65536  /* whole envelope, bytes */
#define PROTO_FUTURE_MS (15 * 60 * 1000)  /* max clock skew into the future */
#define PROTO_YEAR_MIN 1900
#define PROTO_YEAR_MAX 2200

/* Domain error codes, range -1000..-1099. */
enum proto_error_code {
	PROTO_E_TOO_BIG = -1000,    /* envelope larger than PROTO_ENVELOPE_MAX */
	PROTO_E_ENVELOPE = -1001,   /* envelope bytes not in canonical form */
	PROTO_E_DECODE = -1002,     /* record bytes are not a valid Record */
	PROTO_E_SIGNATURE = -1003,  /* signature does not verify */
	PROTO_E_FIELD = -1004,      /* a field is missing or invalid (see err) */
	PROTO_E_FUTURE = -1005,     /* created more than 15 min in the future */
	PROTO_E_KIND = -1006,       /* no body, or a kind this node can't take */
	PROTO_E_SEQ = -1007,        /* seq is not head + 1 (chain gap) */
	PROTO_E_PREV = -1008,       /* prev is not the id of head */
	PROTO_E_KEY = -1009,        /* key file malformed or wrong passphrase */
	PROTO_E_KEY_PERM = -1010,   /* key file readable by group or others */
	PROTO_E_NOMEM = -1011,
	PROTO_E_ARG = -1012,        /* caller passed an invalid argument */
	PROTO_E_PASSPHRASE = -1013, /* key is encrypted and no passphrase given */
	PROTO_E_UPGRADE = -1014,    /* a part this version must understand and does not
	                             * (a newer header field or governance kind): not an
	                             * error of the record or of the peer; the author's
	                             * feed waits here until agora is upgraded */
};

/* Describe any code this library returns, including -errno.  Static string. */
const char *proto_strerror(int code);

/*
 * Validation detail: which field failed and why, in words a climate officer
 * can act on ("measure.start_year: 1850 is not a plausible year").  Filled by
 * the functions that take a `struct proto_error *` (which may be NULL).
 */
struct proto_error {
	int code;                   /* the PROTO_E_* returned */
	char field[64];             /* dotted path, e.g. "measure.title"; or "" */
	char msg[192];              /* human sentence, no secrets */
};

/* Initialise libsodium.  Returns 0, or PROTO_E_NOMEM if it cannot start. */
int proto_init(void);

/* ------------------------------------------------------------------ keys */

/*
 * A node identity.  `sk` points into sodium_malloc()ed memory that is
 * wiped and freed by proto_key_free().  Create with proto_key_generate(),
 * proto_key_from_seed() or proto_key_decode() (storage's store_key_load()
 * reads identity.key and decodes it); free with proto_key_free().
 */
struct proto_key {
	uint8_t pk[PROTO_KEY_BYTES];
	uint8_t *sk;                /* PROTO_SECRET_BYTES, guarded memory */
};

int proto_key_generate(struct proto_key **out);
int proto_key_from_seed(struct proto_key **out, const uint8_t seed[PROTO_SEED_BYTES]);
void proto_key_free(struct proto_key *key);   /* accepts NULL */

/*
 * Serialize a key to the text of an identity.key file.  With a non-NULL,
 * non-empty passphrase the seed is sealed with Argon2id (interactive limits,
 * stored in the file; see PROTOCOL.md 1.7)
 * and XSalsa20-Poly1305 (crypto_secretbox).  *out is malloc()ed; the caller
 * frees it after wiping with sodium_memzero (it holds the plain seed when
 * no passphrase is given).
 */
int proto_key_encode(char **out, size_t *out_len, const struct proto_key *key,
                     const char *passphrase);

/*
 * Parse identity.key text.  Returns PROTO_E_PASSPHRASE if the key is
 * encrypted and passphrase is NULL, PROTO_E_KEY if it is malformed or the
 * passphrase is wrong.
 */
int proto_key_decode(struct proto_key **out, const char *text, size_t len,
                     const char *passphrase);

/* Is this identity.key text encrypted?  (No secret is touched.) */
bool proto_key_is_encrypted(const char *text, size_t len);

/* X25519 key pair for Noise, converted from the Ed25519 key. */
int proto_key_x25519(uint8_t x_pk[32], uint8_t x_sk[32], const struct proto_key *key);
/* X25519 public key converted from an Ed25519 public key. */
int proto_pk_x25519(uint8_t x_pk[32], const uint8_t ed_pk[PROTO_KEY_BYTES]);

/* -------------------------------------------------------------- envelope */

/*
 * A borrowed view into canonical envelope bytes.  Canonical means exactly:
 *   0x0a varint(len) <len record bytes> 0x12 0x40 <64 signature bytes>
 * with a minimal varint and nothing else.  Pointers borrow from the buffer
 * given to proto_envelope_split() and live as long as it does.
 */
struct proto_envelope_view {
	const uint8_t *record;
	size_t record_len;
	const uint8_t *sig;         /* PROTO_SIG_BYTES */
};

int proto_envelope_split(struct proto_envelope_view *out, const uint8_t *env, size_t len);

/*
 * The record inside an envelope that was verified before (one read from a
 * store, or one proto_envelope_open() answered PROTO_E_UPGRADE): split and
 * decode, nothing checked.  Parts this build does not define are kept in
 * the messages' unknown_fields (see proto_record_newer()).  alloc NULL:
 * protobuf-c's default allocator.  0, an error of proto_envelope_split, or
 * PROTO_E_DECODE; free *out with agora__record__free_unpacked(*out, alloc).
 */
int proto_envelope_decode(Agora__Record **out, const uint8_t *env, size_t len,
                          ProtobufCAllocator *alloc);

/* id = BLAKE2b-256(env). */
void proto_record_id(uint8_t id[PROTO_ID_BYTES], const uint8_t *env, size_t len);

/*
 * Sign a record: pack it, sign the packed bytes with key, and build the
 * canonical envelope.  rec->author must equal key->pk (else PROTO_E_ARG).
 * The record is validated first (proto_record_validate with now_ms), so a
 * node never signs what its peers would reject, and the packed bytes are
 * held to the canonical rule (PROTOCOL.md 1.2) before they are signed
 * (PROTO_E_ARG if they break it).  A record that carries parts this build
 * does not define (proto_record_newer() != 0: a kind or fields of a newer
 * version, e.g. decoded from a newer node's record and edited) is refused
 * with PROTO_E_ARG: this build cannot check them, and signing them would
 * vouch for them.  *env_out is malloc()ed; the caller frees it.  id_out (may
 * be NULL) receives the record id.
 */
int proto_record_sign(uint8_t **env_out, size_t *env_len, uint8_t id_out[PROTO_ID_BYTES],
                      const Agora__Record *rec, const struct proto_key *key,
                      uint64_t now_ms, struct proto_error *err);

/* Flags of proto_record_sign_ext(). */
#define PROTO_SIGN_NEWER 0x1u     /* sign carried parts this build does not define */

/*
 * proto_record_sign() with flags.  PROTO_SIGN_NEWER signs a record with
 * carried newer parts (PROTO_NEWER_KIND, PROTO_NEWER_FIELDS,
 * PROTO_NEWER_CODES) too.  protobuf-c packs unknown fields after the known
 * fields of their message, so a record with newer fields can be signed only
 * when that is their ascending place (else PROTO_E_ARG).  Parts a node must
 * understand (PROTO_NEWER_MUST) are never signed: validation returns
 * PROTO_E_UPGRADE.  Any other flag: PROTO_E_ARG.
 */
int proto_record_sign_ext(uint8_t **env_out, size_t *env_len, uint8_t id_out[PROTO_ID_BYTES],
                          const Agora__Record *rec, const struct proto_key *key,
                          uint64_t now_ms, unsigned flags, struct proto_error *err);

/*
 * Open an envelope received from anywhere.  Checks, in order (PROTOCOL.md
 * 1.4): size limit, canonical envelope, protobuf decode and the canonical
 * record rule for every field, known or not (PROTO_E_DECODE), author
 * present, Ed25519 signature against rec->author, then
 * proto_record_validate(now_ms).  Does NOT check the feed chain (seq/prev
 * against the stored head): storage does that.
 *
 * A record of a newer content kind, or with carried fields of a newer
 * version, opens (returns 0); proto_record_newer() says so.  So does a
 * record of a content kind added after version 1 that this build knows (an
 * Endpoint) whose body breaks the kind's rules, or a Supersede carrying one
 * (PROTO_NEWER_UNREADABLE): a version-1 node carries it, so this one does
 * too (PROTOCOL.md 7.4 item 8).  A record with a
 * part this build must understand returns PROTO_E_UPGRADE once its signature
 * and header have been checked, so the code is trustworthy (its author did
 * sign it); *rec_out is then not written: read the header with
 * proto_envelope_decode().
 *
 * On success *rec_out is owned by the caller and freed with
 * agora__record__free_unpacked(r, NULL).
 */
int proto_envelope_open(Agora__Record **rec_out, const uint8_t *env, size_t len,
                        uint64_t now_ms, struct proto_error *err);

/*
 * Check every field of a decoded record (PROTOCOL.md 1.5): lengths of keys
 * and ids, seq >= 1, prev present iff seq > 1, created_ms not more than
 * PROTO_FUTURE_MS after now_ms, a body present (else PROTO_E_KIND), no part
 * this build must understand and does not (else PROTO_E_UPGRADE), alliance
 * absent iff kind is Charter (a Charter is always seq 1); then, for a kind
 * this build knows, valid UTF-8 in every string, required fields per kind,
 * enum values not negative, plausible years, BCP-47 language tags, ISO
 * codes, finite and non-negative numbers where the meaning requires it.  A
 * record of a content kind this build does not know is checked by the header
 * rules only (a Supersede of one: its target too); carried unknown fields,
 * and enum values this build does not define (codes of a newer version), are
 * not checked.  These are the signer's rules: an Endpoint that breaks its
 * rules, or a Supersede carrying an Endpoint, is PROTO_E_FIELD here, while
 * proto_envelope_open carries it unread.
 */
int proto_record_validate(const Agora__Record *rec, uint64_t now_ms, struct proto_error *err);

/* --------------------------------------------------------------- kinds */

/*
 * Record kinds, numbered as the Record.body oneof fields.  For a Supersede
 * record, proto_record_content() reports the kind and message of the new
 * version it carries.
 *
 * Kind numbers are 16..127 (PROTOCOL.md 1.1, "Extending agora").  Numbers
 * this build does not define are valid values of enum proto_kind too: a
 * content kind of a newer version (29..63) is carried without being read;
 * a governance kind of a newer version (64..127) must be understood.
 */
enum proto_kind {
	PROTO_KIND_NONE = 0,
	PROTO_KIND_CHARTER = 16,
	PROTO_KIND_ADMISSION = 17,
	PROTO_KIND_REVOCATION = 18,
	PROTO_KIND_KEY_ROTATION = 19,
	PROTO_KIND_PROFILE = 20,
	PROTO_KIND_TARGET = 21,
	PROTO_KIND_INVENTORY = 22,
	PROTO_KIND_MEASURE = 23,
	PROTO_KIND_RESULT = 24,
	PROTO_KIND_LESSON = 25,
	PROTO_KIND_ENDORSEMENT = 26,
	PROTO_KIND_SUPERSEDE = 27,
	PROTO_KIND_RETRACT = 28,
	PROTO_KIND_ENDPOINT = 29,   /* where a node is reached (version 2; DESIGN decision 10) */
#ifdef AGORA_SCHEMA_NEXT
	PROTO_KIND_TEST_NOTE = 63,  /* the test build's extra content kind */
#endif
	PROTO_KIND_LAST = 127,      /* the highest kind number any version may use */
};

#define PROTO_KIND_FIRST 16             /* Record.body field numbers: 16..127 */
#define PROTO_KIND_CONTENT_NEXT 29      /* content kinds after version 1: 29..63, carried
                                         * by nodes that do not know them */
#define PROTO_KIND_CONTENT_LAST 63
#define PROTO_KIND_GOVERNANCE_NEXT 64   /* newer governance kinds: 64..127, must understand */

/*
 * Kind of the record's own body (SUPERSEDE for a supersede), known or not:
 * for a body this build does not define, its field number.  PROTO_KIND_NONE
 * when there is no body.
 */
enum proto_kind proto_record_kind(const Agora__Record *rec);

/*
 * The effective content: for a Supersede, the kind and message of the body
 * it carries; otherwise the record's own.  *msg (if msg is not NULL) borrows
 * from rec.  For a content kind this build does not define, returns its
 * number and sets *msg to NULL: there is nothing this build can read.
 * PROTO_KIND_NONE (msg untouched) when there is no content.
 */
enum proto_kind proto_record_content(const Agora__Record *rec, const ProtobufCMessage **msg);

/* Does this build define the kind (a schema message it can read and check)? */
bool proto_kind_known(enum proto_kind kind);
/*
 * Is the kind number a governance kind (16..19 and 64..127), whose records
 * change who may publish?  By number, so true for unknown ones too.
 */
bool proto_kind_governance(enum proto_kind kind);

/* Parts of a record this build does not define; see proto_record_newer(). */
#define PROTO_NEWER_KIND 0x1u     /* the content kind is newer (29..63): carried, not read */
#define PROTO_NEWER_FIELDS 0x2u   /* a readable message carries newer fields: carried */
#define PROTO_NEWER_MUST 0x4u     /* a part that must be understood: a header field, a
                                   * governance kind, a field or code in a governance body */
#define PROTO_NEWER_CODES 0x8u    /* a readable message holds code-list (enum) values
                                   * this build does not define: carried */
#define PROTO_NEWER_UNREADABLE 0x10u /* a content kind added after version 1 (29..63) that
                                   * this build knows breaks its rules, or is the body of a
                                   * Supersede that may not carry it (an Endpoint): carried
                                   * unread, as a node that does not know the kind does
                                   * (PROTOCOL.md 7.4 item 8) */

/*
 * Which parts of a decoded record this build does not define, or cannot
 * read: 0 or a set of PROTO_NEWER_* flags.  Records with PROTO_NEWER_MUST
 * never open (PROTO_E_UPGRADE).  A store marks the others, so that a newer
 * build reads (reindexes) exactly those after an upgrade.  A record with
 * PROTO_NEWER_UNREADABLE has a body of a kind this build knows that it must
 * not read (proto_record_content still returns it): treat it as a record of
 * a kind this build does not know.
 */
unsigned proto_record_newer(const Agora__Record *rec);

/*
 * The sentence a person sees for a record with newer parts, e.g.
 * "a record of a newer kind (29): upgrade agora to read it".  Writes at most
 * cap bytes (NUL included) to out and returns true; returns false and writes
 * nothing when proto_record_newer(rec) is 0.
 */
bool proto_record_newer_text(char *out, size_t cap, const Agora__Record *rec);

/* ------------------------------------------------------------ attachments */

/*
 * Attachments (PROTOCOL.md 1.5 "Attachments"): field 30 of Measure, Result
 * and Lesson, added in record schema version 3.  A record lists at most
 * PROTO_ATTACH_MAX files, each by its BLAKE2b-256, size, media type and
 * name; the files themselves are blobs, stored and synced apart from the
 * records (storage/storage.h "blobs"; on the wire: PROTOCOL.md 4.9, node/
 * blobs.c).
 */
#define PROTO_ATTACH_MAX 16                  /* attachments in one record */
#define PROTO_ATTACH_SIZE_MAX (1ull << 30)   /* bytes of one file: 1 GiB */
#define PROTO_ATTACH_NAME_MAX 255            /* bytes of a file name */
#define PROTO_ATTACH_TYPE_MAX 127            /* bytes of a media type */
#define PROTO_HASH_BYTES 32                  /* BLAKE2b-256 of a blob */

/*
 * Check a list of attachments (what validation does with the field): at most
 * PROTO_ATTACH_MAX; each `hash` 32 bytes, no hash twice; `size` 1 ..
 * PROTO_ATTACH_SIZE_MAX; `media_type` "type/subtype" of RFC 6838 token
 * characters, at most PROTO_ATTACH_TYPE_MAX bytes; `name` required, one line
 * of UTF-8 text without control characters, '/' or '\\', not "." or "..",
 * at most PROTO_ATTACH_NAME_MAX bytes.  `kind` names the field path
 * ("measure" -> "measure.attachments[1].name").  0 or PROTO_E_FIELD.
 */
int proto_attachments_check(const char *kind, Agora__Attachment *const *list, size_t n,
                            struct proto_error *err);

/*
 * The readable attachments of a record: those of its content (a Supersede's
 * body too) when it is a measure, result or lesson whose list keeps the rules
 * above.  *list borrows from rec.  Returns the count (0: none), or
 * PROTO_E_FIELD when the record carries a list that breaks the rules: such a
 * record was made by another implementation, is stored and relayed as a node
 * that does not know the field does (PROTOCOL.md 7.4 item 8), and its
 * attachments are not read (nothing is fetched for it).
 */
int proto_record_attachments(Agora__Attachment *const **list, const Agora__Record *rec);

/* --------------------------------------------------------------- endpoints */

#define PROTO_ENDPOINT_MAX 8      /* addresses in one Endpoint record */
#define PROTO_ADDRESS_MAX 259     /* bytes of one address: a 253-byte name and ":65535" */

/*
 * Check one address of an Endpoint record (PROTOCOL.md 1.5, "Addresses"):
 * "HOST:PORT", or "[V6]:PORT" for an IPv6 address; HOST a DNS name (ASCII
 * labels of letters, digits and '-', at most 253 bytes) or an IPv4 address
 * in dotted-decimal form; port 1..65535 in decimal without leading zeros;
 * not the unspecified address (0.0.0.0, [::]); no blank, control or
 * non-ASCII byte; at most PROTO_ADDRESS_MAX bytes.  Returns 0, or
 * PROTO_E_FIELD with *why (may be NULL) set to a static phrase saying what
 * is wrong ("has no port (write HOST:PORT, or [IPv6]:PORT)").  On 0, host
 * (may be NULL; cap >= PROTO_ADDRESS_MAX + 1 bytes) gets the host without
 * brackets and *port (may be NULL) the port; nothing is written otherwise.
 * Used by validation, and by agora.conf and the CLI so that a typed address
 * follows the record's rule.
 */
int proto_address_parse(char *host, size_t cap, uint16_t *port, const char *addr,
                        const char **why);

/* "measure", "result", ... ; NULL for a kind this build does not define. */
const char *proto_kind_name(enum proto_kind kind);
/* Parse a kind name; returns PROTO_KIND_NONE if unknown. */
enum proto_kind proto_kind_parse(const char *name);
/* Descriptor of the message type of a kind (e.g. agora__measure__descriptor); NULL if unknown. */
const ProtobufCMessageDescriptor *proto_kind_descriptor(enum proto_kind kind);

/* ----------------------------------------------------------- code lists */

/*
 * Stable text name of an enum value: the proto value name without the
 * enum's prefix, in lower case ("SECTOR_WASTE" -> "waste").  Returns NULL
 * for a value not in the enum.  The string is static.
 */
const char *proto_enum_name(const ProtobufCEnumDescriptor *d, int value);
/* Parse a text name (case-insensitive; '-' equals '_').  0 or PROTO_E_FIELD. */
int proto_enum_parse(int *out, const ProtobufCEnumDescriptor *d, const char *name);

/*
 * Every code list of the record schema (the enums of package agora, not of
 * the wire or control protocols), for what must cover them all, such as the
 * translations' test: the i-th list's enum name ("Sector",
 * "VulnerableSector") with its number of values in *n_values (may be NULL),
 * or NULL past the last list; and the k-th value's text name ("waste"), or
 * NULL past the last value.  Static strings.
 */
const char *proto_code_list(size_t i, size_t *n_values);
const char *proto_code_list_value(size_t i, size_t k);

/* ---------------------------------------------------------------- text */

bool proto_utf8_valid(const char *s, size_t len);
/* Well-formed BCP-47 language tag (syntax check: "da", "pl", "en-GB", "nl"). */
bool proto_lang_valid(const char *tag);
/* Lower-case hex of n bytes into out (2n + 1 bytes with the NUL). */
void proto_hex(char *out, const uint8_t *bytes, size_t n);
/* Parse exactly 2n hex digits into out.  0 or PROTO_E_ARG. */
int proto_unhex(uint8_t *out, size_t n, const char *hex);

/* -------------------------------------------------------- control socket */

/*
 * The control socket between agorad and the agora CLI (PROTOCOL.md 4.6,
 * proto/control.proto): <home>/PROTO_CONTROL_SOCKET, one Request per
 * connection and one Response, each as a 4-byte big-endian length and the
 * serialized message.  These functions only frame bytes; the socket is the
 * caller's.
 */
#define PROTO_CONTROL_SOCKET "agorad.sock"   /* file name in the data directory */
#define PROTO_CONTROL_HDR 4                  /* length prefix, bytes */
#define PROTO_CONTROL_REQUEST_MAX 4096       /* longest Request agorad reads */
#define PROTO_CONTROL_RESPONSE_MAX (16u << 20) /* longest Response the CLI reads */

/* Write len as the 4-byte big-endian prefix, and read it back. */
void proto_control_put_len(uint8_t hdr[PROTO_CONTROL_HDR], uint32_t len);
uint32_t proto_control_get_len(const uint8_t hdr[PROTO_CONTROL_HDR]);

/*
 * Look at the len bytes read so far: 0 wants more bytes, 1 means a whole
 * message is there (*msg_len bytes after the prefix), PROTO_E_TOO_BIG means
 * the prefix announces more than max bytes (close the connection: nothing
 * is allocated for it).
 */
int proto_control_frame(const uint8_t *buf, size_t len, size_t max, size_t *msg_len);

/*
 * Prefix and serialized message in one buffer, ready to send.  *out is
 * malloc()ed; the caller frees it.  PROTO_E_TOO_BIG when the message is
 * over the limit for its direction, PROTO_E_NOMEM.
 */
int proto_control_request_pack(uint8_t **out, size_t *out_len,
                               const Agora__Control__Request *req);
int proto_control_response_pack(uint8_t **out, size_t *out_len,
                                const Agora__Control__Response *resp);

/*
 * Unpack a Request (the bytes after the prefix) and check that it is one
 * agorad serves: a known request, a SyncReq peer of exactly 32 bytes, no
 * field numbered 0 (protobuf-c reads one, but would not read it back).
 * PROTO_E_DECODE (or PROTO_E_TOO_BIG) with *why (static text for the
 * Response's error) if not.  Free *out with
 * agora__control__request__free_unpacked(*out, NULL).
 */
int proto_control_request_decode(Agora__Control__Request **out, const uint8_t *msg, size_t len,
                                 const char **why);
/* Unpack a Response (no field numbered 0 either); PROTO_E_DECODE or
 * PROTO_E_TOO_BIG.  Free *out with
 * agora__control__response__free_unpacked(*out, NULL). */
int proto_control_response_decode(Agora__Control__Response **out, const uint8_t *msg,
                                  size_t len);

#endif
