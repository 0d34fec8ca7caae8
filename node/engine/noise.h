/*
 * noise.h - the Noise Protocol Framework (revision 34) for agorad, I/O-free.
 *
 * Suite: 25519 / ChaChaPoly / BLAKE2b only (DESIGN decision 5), on
 * libsodium primitives.  The engine interprets handshake patterns as token
 * tables, so besides Noise_XX (what agora speaks) it runs every interactive
 * base pattern (NN NK NX XN XK XX KN KK KX IN IK IX) with pskN modifiers;
 * the public test vectors check it.  On top of it sits the agora handshake
 * (noise_agora_*): Noise_XX with the prologue "agora/1", whose static keys
 * are converted from the nodes' Ed25519 identities and whose handshake
 * payloads prove that conversion.
 *
 * Nothing here does I/O, allocates memory or keeps global state: bytes go
 * in, bytes come out (nghttp2 style).  Framing (2-byte lengths) and
 * application messages live in node/engine/frame.h.
 *
 * Memory: every struct is allocated by the caller and set up with
 * *_init(); *_dispose() wipes every secret it holds with sodium_memzero()
 * and accepts NULL.  No function keeps a pointer to caller memory after it
 * returns.  Structs may be moved with memcpy (they hold no self pointers),
 * but the copy then holds secrets too: dispose both.
 *
 * Threads: a struct may be used by one thread at a time; distinct structs
 * are independent.  sodium_init() (proto_init()) must have returned 0.
 *
 * Errors: 0 is success; failure is a negative NOISE_E_* code below.
 * Out-parameters are written only on success.  Every handshake error but
 * NOISE_E_BUFFER, NOISE_E_ARG and NOISE_E_STATE (those change nothing) is
 * fatal for that handshake: it enters the failed state, its secrets are
 * wiped, and every later call returns NOISE_E_STATE.  Transport (noise_cipher) errors are fatal
 * for the session (noise_is_fatal() says which codes are).
 */
#ifndef AGORA_NODE_NOISE_H
#define AGORA_NODE_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOISE_DH_BYTES 32          /* X25519 public / private key */
#define NOISE_HASH_BYTES 64        /* BLAKE2b-512, HASHLEN */
#define NOISE_KEY_BYTES 32         /* ChaChaPoly key */
#define NOISE_PSK_BYTES 32
#define NOISE_TAG_BYTES 16         /* Poly1305 tag */
#define NOISE_MSG_MAX 65535        /* any Noise message, bytes */
#define NOISE_PLAINTEXT_MAX (NOISE_MSG_MAX - NOISE_TAG_BYTES)
#define NOISE_NONCE_MAX UINT64_MAX /* reserved: never used to encrypt */

/* The agora prologue and protocol. */
#define NOISE_AGORA_PROLOGUE "agora/1"
#define NOISE_AGORA_PROTOCOL "Noise_XX_25519_ChaChaPoly_BLAKE2b"
#define NOISE_ED25519_PK_BYTES 32
#define NOISE_ED25519_SK_BYTES 64  /* libsodium layout: seed || pk */
/* Sizes of the three agora handshake messages (without frame headers). */
#define NOISE_AGORA_MSG1_BYTES 32  /* e */
#define NOISE_AGORA_MSG2_BYTES 128 /* e, enc(s), enc(ed25519 pk) */
#define NOISE_AGORA_MSG3_BYTES 96  /* enc(s), enc(ed25519 pk) */

/* Domain error codes, range -3000..-3099. */
enum noise_error_code {
	NOISE_E_ARG = -3000,      /* invalid argument (programmer error) */
	NOISE_E_STATE = -3001,    /* not this side's turn, handshake failed or
	                           * finished, or no such value yet */
	NOISE_E_PROTOCOL = -3002, /* unsupported protocol name or pattern */
	NOISE_E_KEY = -3003,      /* a key the pattern needs was not given */
	NOISE_E_SHORT = -3004,    /* handshake message shorter than its tokens */
	NOISE_E_DECRYPT = -3005,  /* authentication failed: tampered or wrong key */
	NOISE_E_DH = -3006,       /* peer key gives an all-zero X25519 result
	                           * (small-order point): handshake aborted */
	NOISE_E_NONCE = -3007,    /* nonce exhausted (2^64-1 is reserved) */
	NOISE_E_TOO_BIG = -3008,  /* message would exceed NOISE_MSG_MAX */
	NOISE_E_BUFFER = -3009,   /* caller's output buffer too small */
	NOISE_E_IDENTITY = -3010, /* agora: payload key does not convert to the
	                           * static key the peer authenticated */
	NOISE_E_PAYLOAD = -3011,  /* agora: handshake payload has the wrong size */
};

/* Describe any code of this module (and -errno).  Static string. */
const char *noise_strerror(int code);
/* True if the code must end the session (all but NOISE_E_BUFFER/ARG). */
bool noise_is_fatal(int code);

enum noise_role {
	NOISE_INITIATOR = 0,
	NOISE_RESPONDER = 1,
};

/* ---------------------------------------------------------- CipherState */

/*
 * A CipherState: key k and nonce n.  After a handshake, one per direction.
 * Without a key (has_key false) encrypt and decrypt copy bytes unchanged,
 * as the spec says; noise_handshake_split() always yields keyed ciphers.
 * Fields are private; read them only through the functions below.
 */
struct noise_cipher {
	uint8_t k[NOISE_KEY_BYTES]; /* secret */
	uint64_t n;                 /* next nonce */
	bool has_key;
};

/* Set up with key k (32 bytes), or no key if k is NULL; nonce 0. */
void noise_cipher_init(struct noise_cipher *cs, const uint8_t *k);
/* Wipe the key.  Accepts NULL. */
void noise_cipher_dispose(struct noise_cipher *cs);

/*
 * EncryptWithAd: out = ChaChaPoly(k, n, ad, in), n += 1.  out receives
 * in_len + NOISE_TAG_BYTES bytes (in_len without a key); out may equal in
 * (in place) but must not otherwise overlap it.  ad may be NULL if ad_len
 * is 0.
 * Errors: NOISE_E_NONCE if n == 2^64-1 (nothing written, n unchanged),
 * NOISE_E_TOO_BIG if in_len > NOISE_PLAINTEXT_MAX, NOISE_E_BUFFER if
 * out_cap is too small.
 */
int noise_cipher_encrypt(uint8_t *out, size_t *out_len, size_t out_cap,
                         struct noise_cipher *cs, const uint8_t *ad, size_t ad_len,
                         const uint8_t *in, size_t in_len);

/*
 * DecryptWithAd: out = plaintext of in (in_len - 16 bytes), n += 1.  out
 * may equal in.  On NOISE_E_DECRYPT the nonce is not advanced and out may
 * hold garbage.  Errors: NOISE_E_NONCE, NOISE_E_TOO_BIG (in_len >
 * NOISE_MSG_MAX), NOISE_E_DECRYPT (also for in_len < 16), NOISE_E_BUFFER.
 */
int noise_cipher_decrypt(uint8_t *out, size_t *out_len, size_t out_cap,
                         struct noise_cipher *cs, const uint8_t *ad, size_t ad_len,
                         const uint8_t *in, size_t in_len);

/*
 * Rekey (spec 4.2): k = first 32 bytes of ENCRYPT(k, 2^64-1, "", 32 zero
 * bytes); n unchanged.  NOISE_E_STATE without a key.
 */
int noise_cipher_rekey(struct noise_cipher *cs);

/* The next nonce.  For tests and diagnostics. */
uint64_t noise_cipher_nonce(const struct noise_cipher *cs);
/* TEST ONLY: set the next nonce (to exercise exhaustion).  Never in agorad. */
void noise_cipher_set_nonce_for_test(struct noise_cipher *cs, uint64_t n);

/* ------------------------------------------------------- HandshakeState */

/* What the handshake needs next (noise_handshake_action()). */
enum noise_action {
	NOISE_ACTION_WRITE = 1, /* call noise_handshake_write() */
	NOISE_ACTION_READ = 2,  /* call noise_handshake_read() */
	NOISE_ACTION_SPLIT = 3, /* done: call noise_handshake_split() */
	NOISE_ACTION_NONE = 4,  /* split already, or failed */
	NOISE_ACTION_FAILED = 5,/* a call failed: discard the handshake */
};

/* Keys for noise_handshake_init().  Every pointer may be NULL. */
struct noise_keys {
	const uint8_t *s_sk;  /* our static X25519 private key (32); the public
	                       * key is derived from it */
	const uint8_t *rs;    /* the peer's static public key (32), for
	                       * patterns with a pre-message "s" from the peer */
	const uint8_t *psk;   /* pre-shared key (32), for pskN patterns */
	const uint8_t *e_sk;  /* TESTS ONLY: fixed ephemeral private key (32);
	                       * NULL draws it from randombytes_buf() */
};

#define NOISE_PATTERN_MSGS 3   /* messages in the longest pattern supported */
#define NOISE_PATTERN_TOKENS 8 /* tokens per message, 0-terminated */

/* Fields are private (the struct is public so callers can embed it). */
struct noise_handshake {
	uint8_t tokens[NOISE_PATTERN_MSGS][NOISE_PATTERN_TOKENS]; /* pattern */
	uint8_t n_msgs;           /* messages in the pattern */
	uint8_t pre;              /* pre-message keys (bits, see noise.c) */
	bool psk_mode;            /* pattern has a psk token */
	uint8_t role;             /* enum noise_role */
	uint8_t action;           /* enum noise_action */
	uint8_t msg;              /* index of the next message */
	bool has_s, has_e, has_rs, has_re, has_psk, fixed_e;
	struct noise_cipher cs;   /* SymmetricState */
	uint8_t ck[NOISE_HASH_BYTES];   /* secret */
	uint8_t h[NOISE_HASH_BYTES];
	uint8_t s_pk[NOISE_DH_BYTES], s_sk[NOISE_DH_BYTES]; /* s_sk secret */
	uint8_t e_pk[NOISE_DH_BYTES], e_sk[NOISE_DH_BYTES]; /* e_sk secret */
	uint8_t rs[NOISE_DH_BYTES], re[NOISE_DH_BYTES];
	uint8_t psk[NOISE_PSK_BYTES];   /* secret */
	struct noise_cipher c1, c2;     /* Split() results until handed out */
};

/*
 * Initialize(): protocol_name such as "Noise_XX_25519_ChaChaPoly_BLAKE2b"
 * or "Noise_XKpsk3_25519_ChaChaPoly_BLAKE2b"; prologue (may be NULL if
 * prologue_len is 0) is mixed into h; keys are copied, the caller may wipe
 * its own copies afterwards.
 * Errors: NOISE_E_PROTOCOL (other suite, unknown pattern or modifier),
 * NOISE_E_KEY (the pattern needs s, rs or psk and it is missing),
 * NOISE_E_ARG (rs given for a pattern without a peer pre-message, or a
 * NULL argument).  On error hs is left wiped and may be disposed.
 */
int noise_handshake_init(struct noise_handshake *hs, const char *protocol_name,
                         enum noise_role role, const uint8_t *prologue,
                         size_t prologue_len, const struct noise_keys *keys);

/* Wipe every key.  Accepts NULL. */
void noise_handshake_dispose(struct noise_handshake *hs);

/* Which side must act next (see enum noise_action). */
enum noise_action noise_handshake_action(const struct noise_handshake *hs);

/*
 * WriteMessage(): process the next message's tokens and append the
 * encrypted payload.  Writes the message to out (at most NOISE_MSG_MAX
 * bytes).  Errors: NOISE_E_STATE (not our turn), NOISE_E_BUFFER (out_cap
 * too small; nothing changed, retry with more room), NOISE_E_TOO_BIG
 * (payload too large for one Noise message), NOISE_E_DH.
 */
int noise_handshake_write(uint8_t *out, size_t *out_len, size_t out_cap,
                          struct noise_handshake *hs,
                          const uint8_t *payload, size_t payload_len);

/*
 * ReadMessage(): consume one whole handshake message msg (msg_len bytes,
 * the frame's contents) and write its decrypted payload to payload (may be
 * NULL if payload_cap is 0; NOISE_MSG_MAX bytes always suffice).
 * Errors: NOISE_E_STATE, NOISE_E_TOO_BIG, NOISE_E_SHORT, NOISE_E_DECRYPT,
 * NOISE_E_DH, NOISE_E_BUFFER (payload_cap too small; nothing changed).
 */
int noise_handshake_read(uint8_t *payload, size_t *payload_len, size_t payload_cap,
                         struct noise_handshake *hs, const uint8_t *msg, size_t msg_len);

/*
 * Split(): hand out the transport ciphers once action is SPLIT: send
 * encrypts what we write, recv decrypts what the peer writes (c1/c2
 * swapped on the responder).  h (may be NULL) gets the handshake hash.
 * The handshake keeps h and rs, wipes every other secret, and its action
 * becomes NONE.  Error: NOISE_E_STATE.
 */
int noise_handshake_split(struct noise_cipher *send, struct noise_cipher *recv,
                          uint8_t h[NOISE_HASH_BYTES], struct noise_handshake *hs);

/* The current handshake hash h (final after the last message). */
void noise_handshake_hash(uint8_t h[NOISE_HASH_BYTES], const struct noise_handshake *hs);

/*
 * The peer's static public key, once known (pre-message or decrypted "s"
 * token).  NOISE_E_STATE if not known (yet).
 */
int noise_handshake_remote_static(uint8_t rs[NOISE_DH_BYTES],
                                  const struct noise_handshake *hs);

/* -------------------------------------------------------------- agora */

/*
 * The agora handshake: Noise_XX_25519_ChaChaPoly_BLAKE2b, prologue
 * "agora/1", static key = X25519 conversion of the Ed25519 identity.
 * Message 1 (initiator) has an empty payload; message 2 (responder) and
 * message 3 (initiator) carry the sender's 32-byte Ed25519 public key,
 * which the reader converts to X25519 and compares, in constant time, with
 * the static key the same message just authenticated.
 */
struct noise_agora {
	struct noise_handshake hs;
	uint8_t ed_pk[NOISE_ED25519_PK_BYTES];        /* ours */
	uint8_t remote_ed_pk[NOISE_ED25519_PK_BYTES]; /* valid if has_remote */
	bool has_remote;
};

/*
 * Set up one side.  ed_pk / ed_sk are the node identity (libsodium
 * Ed25519 layout; the secret is copied only as its X25519 conversion).
 * e_sk: TESTS ONLY, a fixed ephemeral private key, else NULL.
 * Errors: NOISE_E_ARG (NULL argument, or ed_sk does not end in ed_pk),
 * NOISE_E_KEY (the key does not convert).
 */
int noise_agora_init(struct noise_agora *ag, enum noise_role role,
                     const uint8_t ed_pk[NOISE_ED25519_PK_BYTES],
                     const uint8_t ed_sk[NOISE_ED25519_SK_BYTES],
                     const uint8_t *e_sk);
/* Wipe.  Accepts NULL. */
void noise_agora_dispose(struct noise_agora *ag);
enum noise_action noise_agora_action(const struct noise_agora *ag);

/*
 * Write the next handshake message (payload chosen by the role), without
 * its frame header.  NOISE_AGORA_MSG2_BYTES of out_cap always suffice.
 * Errors: as noise_handshake_write().
 */
int noise_agora_write(uint8_t *out, size_t *out_len, size_t out_cap, struct noise_agora *ag);

/*
 * Read the peer's next handshake message (the frame's contents).
 * Errors: as noise_handshake_read(), plus NOISE_E_PAYLOAD (message 1 not
 * empty, or messages 2/3 not 32 bytes) and NOISE_E_IDENTITY.
 */
int noise_agora_read(struct noise_agora *ag, const uint8_t *msg, size_t msg_len);

/*
 * Finish: transport ciphers, the peer's Ed25519 public key (its name on
 * the network), and h (may be NULL).  Error: NOISE_E_STATE.
 */
int noise_agora_split(struct noise_cipher *send, struct noise_cipher *recv,
                      uint8_t remote_ed_pk[NOISE_ED25519_PK_BYTES],
                      uint8_t h[NOISE_HASH_BYTES], struct noise_agora *ag);

#endif
