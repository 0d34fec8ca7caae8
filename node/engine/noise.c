/*
 * noise.c - Noise_*_25519_ChaChaPoly_BLAKE2b (Noise spec revision 34) as a
 * token-table engine, plus the agora XX handshake on top of it.
 *
 * Section numbers below refer to the Noise specification, revision 34.
 * One unit, over 800 lines: CipherState, SymmetricState, HandshakeState
 * and the agora handshake are the spec's nested layers, each used only by
 * the next, and read best in the spec's order.
 */
#include "node/engine/noise.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "proto/proto.h"

#define BLOCK_BYTES 128 /* BLAKE2b block size, for HMAC */

/* Tokens of a message pattern (7.1).  0 ends a message. */
enum token {
	TOK_END = 0,
	TOK_E,
	TOK_S,
	TOK_EE,
	TOK_ES,
	TOK_SE,
	TOK_SS,
	TOK_PSK,
};

/* Pre-message bits: which static keys are known before the handshake. */
#define PRE_I_S 0x01 /* initiator's s: "-> s" */
#define PRE_R_S 0x02 /* responder's s: "<- s" */

struct pattern {
	const char *name;
	uint8_t pre;
	uint8_t n_msgs;
	uint8_t tokens[NOISE_PATTERN_MSGS][NOISE_PATTERN_TOKENS];
};

/* The interactive base patterns of section 7.5.  Message 0 is the
 * initiator's, then they alternate. */
static const struct pattern patterns[] = {
	{ "NN", 0, 2, { { TOK_E }, { TOK_E, TOK_EE } } },
	{ "NK", PRE_R_S, 2, { { TOK_E, TOK_ES }, { TOK_E, TOK_EE } } },
	{ "NX", 0, 2, { { TOK_E }, { TOK_E, TOK_EE, TOK_S, TOK_ES } } },
	{ "XN", 0, 3, { { TOK_E }, { TOK_E, TOK_EE }, { TOK_S, TOK_SE } } },
	{ "XK", PRE_R_S, 3, { { TOK_E, TOK_ES }, { TOK_E, TOK_EE }, { TOK_S, TOK_SE } } },
	{ "XX", 0, 3, { { TOK_E }, { TOK_E, TOK_EE, TOK_S, TOK_ES }, { TOK_S, TOK_SE } } },
	{ "KN", PRE_I_S, 2, { { TOK_E }, { TOK_E, TOK_EE, TOK_SE } } },
	{ "KK", PRE_I_S | PRE_R_S, 2,
	  { { TOK_E, TOK_ES, TOK_SS }, { TOK_E, TOK_EE, TOK_SE } } },
	{ "KX", PRE_I_S, 2, { { TOK_E }, { TOK_E, TOK_EE, TOK_SE, TOK_S, TOK_ES } } },
	{ "IN", 0, 2, { { TOK_E, TOK_S }, { TOK_E, TOK_EE, TOK_SE } } },
	{ "IK", PRE_R_S, 2,
	  { { TOK_E, TOK_ES, TOK_S, TOK_SS }, { TOK_E, TOK_EE, TOK_SE } } },
	{ "IX", 0, 2, { { TOK_E, TOK_S }, { TOK_E, TOK_EE, TOK_SE, TOK_S, TOK_ES } } },
};

/* ------------------------------------------------------------ errors */

const char *noise_strerror(int code)
{
	switch (code) {
	case 0: return "success";
	case NOISE_E_ARG: return "noise: invalid argument";
	case NOISE_E_STATE: return "noise: call not valid in this handshake state";
	case NOISE_E_PROTOCOL: return "noise: unsupported protocol name";
	case NOISE_E_KEY: return "noise: a key required by the pattern is missing";
	case NOISE_E_SHORT: return "noise: handshake message too short";
	case NOISE_E_DECRYPT: return "noise: authentication failed (tampered data or wrong key)";
	case NOISE_E_DH: return "noise: peer sent an invalid (small-order) public key";
	case NOISE_E_NONCE: return "noise: nonce exhausted, session must end";
	case NOISE_E_TOO_BIG: return "noise: message larger than 65535 bytes";
	case NOISE_E_BUFFER: return "noise: output buffer too small";
	case NOISE_E_IDENTITY: return "noise: peer's identity key does not match its static key";
	case NOISE_E_PAYLOAD: return "noise: handshake payload has the wrong size";
	}
	if (code < 0 && code > -4096)
		return strerror(-code);
	return "noise: unknown error";
}

bool noise_is_fatal(int code)
{
	return code < 0 && code != NOISE_E_BUFFER && code != NOISE_E_ARG;
}

/* ------------------------------------------------- hash, HMAC, HKDF (4.3) */

/* HASH(a || b), BLAKE2b with a 64-byte output. */
static void hash2(uint8_t out[NOISE_HASH_BYTES], const uint8_t *a, size_t a_len,
                  const uint8_t *b, size_t b_len)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, NOISE_HASH_BYTES);
	crypto_generichash_update(&st, a, a_len);
	crypto_generichash_update(&st, b, b_len);
	crypto_generichash_final(&st, out, NOISE_HASH_BYTES);
}

/*
 * HMAC-BLAKE2b(key, a || b) per RFC 2104 with the 128-byte block.  This is
 * what Noise means by HMAC-HASH; BLAKE2b's own keyed mode would give
 * different bytes and break interoperability.  Keys are at most HASHLEN.
 */
static void hmac2(uint8_t out[NOISE_HASH_BYTES], const uint8_t *key, size_t key_len,
                  const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	uint8_t pad[BLOCK_BYTES];
	uint8_t inner[NOISE_HASH_BYTES];
	crypto_generichash_state st;

	memset(pad, 0x36, sizeof pad);
	for (size_t i = 0; i < key_len; i++)
		pad[i] ^= key[i];
	crypto_generichash_init(&st, NULL, 0, NOISE_HASH_BYTES);
	crypto_generichash_update(&st, pad, sizeof pad);
	crypto_generichash_update(&st, a, a_len);
	crypto_generichash_update(&st, b, b_len);
	crypto_generichash_final(&st, inner, sizeof inner);

	memset(pad, 0x5c, sizeof pad);
	for (size_t i = 0; i < key_len; i++)
		pad[i] ^= key[i];
	crypto_generichash_init(&st, NULL, 0, NOISE_HASH_BYTES);
	crypto_generichash_update(&st, pad, sizeof pad);
	crypto_generichash_update(&st, inner, sizeof inner);
	crypto_generichash_final(&st, out, NOISE_HASH_BYTES);

	sodium_memzero(pad, sizeof pad);
	sodium_memzero(inner, sizeof inner);
	sodium_memzero(&st, sizeof st);
}

/* HKDF(ck, ikm, 2 or 3): o3 may be NULL for two outputs. */
static void hkdf(uint8_t o1[NOISE_HASH_BYTES], uint8_t o2[NOISE_HASH_BYTES],
                 uint8_t o3[NOISE_HASH_BYTES], const uint8_t ck[NOISE_HASH_BYTES],
                 const uint8_t *ikm, size_t ikm_len)
{
	uint8_t temp[NOISE_HASH_BYTES];
	uint8_t t1[NOISE_HASH_BYTES], t2[NOISE_HASH_BYTES];
	const uint8_t b1 = 0x01, b2 = 0x02, b3 = 0x03;

	hmac2(temp, ck, NOISE_HASH_BYTES, ikm, ikm_len, NULL, 0);
	hmac2(t1, temp, sizeof temp, &b1, 1, NULL, 0);
	hmac2(t2, temp, sizeof temp, t1, sizeof t1, &b2, 1);
	if (o3)
		hmac2(o3, temp, sizeof temp, t2, sizeof t2, &b3, 1);
	/* Outputs may alias ck, so they are written last. */
	memcpy(o1, t1, sizeof t1);
	memcpy(o2, t2, sizeof t2);
	sodium_memzero(temp, sizeof temp);
	sodium_memzero(t1, sizeof t1);
	sodium_memzero(t2, sizeof t2);
}

/* -------------------------------------------------- CipherState (5.1) */

void noise_cipher_init(struct noise_cipher *cs, const uint8_t *k)
{
	memset(cs, 0, sizeof *cs);
	if (k) {
		memcpy(cs->k, k, NOISE_KEY_BYTES);
		cs->has_key = true;
	}
}

void noise_cipher_dispose(struct noise_cipher *cs)
{
	if (cs)
		sodium_memzero(cs, sizeof *cs);
}

/* ChaChaPoly nonce: 32 zero bits, then n as 64-bit little-endian (12.3). */
static void make_nonce(uint8_t nonce[12], uint64_t n)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

int noise_cipher_encrypt(uint8_t *out, size_t *out_len, size_t out_cap,
                         struct noise_cipher *cs, const uint8_t *ad, size_t ad_len,
                         const uint8_t *in, size_t in_len)
{
	static const uint8_t none[1];
	uint8_t nonce[12], scratch[NOISE_TAG_BYTES];
	unsigned long long clen;
	size_t need;

	if (!cs || !out_len || (!out && out_cap) || (!in && in_len))
		return NOISE_E_ARG;
	if (!in)
		in = none; /* libsodium is given a valid pointer even for 0 bytes */
	if (!out)
		out = scratch;
	if (!cs->has_key) {
		if (in_len > NOISE_MSG_MAX)
			return NOISE_E_TOO_BIG;
		if (out_cap < in_len)
			return NOISE_E_BUFFER;
		if (in_len)
			memmove(out, in, in_len);
		*out_len = in_len;
		return 0;
	}
	if (cs->n == NOISE_NONCE_MAX)
		return NOISE_E_NONCE;
	if (in_len > NOISE_PLAINTEXT_MAX)
		return NOISE_E_TOO_BIG;
	need = in_len + NOISE_TAG_BYTES;
	if (out_cap < need)
		return NOISE_E_BUFFER;
	make_nonce(nonce, cs->n);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, in, in_len, ad, ad_len,
	                                          NULL, nonce, cs->k);
	cs->n++;
	*out_len = (size_t)clen;
	return 0;
}

int noise_cipher_decrypt(uint8_t *out, size_t *out_len, size_t out_cap,
                         struct noise_cipher *cs, const uint8_t *ad, size_t ad_len,
                         const uint8_t *in, size_t in_len)
{
	static const uint8_t none[1];
	uint8_t nonce[12], scratch[1];
	unsigned long long mlen;

	if (!cs || !out_len || (!out && out_cap) || (!in && in_len))
		return NOISE_E_ARG;
	if (!in)
		in = none;
	if (!out)
		out = scratch;
	if (in_len > NOISE_MSG_MAX)
		return NOISE_E_TOO_BIG;
	if (!cs->has_key) {
		if (out_cap < in_len)
			return NOISE_E_BUFFER;
		if (in_len)
			memmove(out, in, in_len);
		*out_len = in_len;
		return 0;
	}
	if (cs->n == NOISE_NONCE_MAX)
		return NOISE_E_NONCE;
	if (in_len < NOISE_TAG_BYTES)
		return NOISE_E_DECRYPT;
	if (out_cap < in_len - NOISE_TAG_BYTES)
		return NOISE_E_BUFFER;
	make_nonce(nonce, cs->n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &mlen, NULL, in, in_len,
	                                              ad, ad_len, nonce, cs->k) != 0)
		return NOISE_E_DECRYPT;
	cs->n++;
	*out_len = (size_t)mlen;
	return 0;
}

int noise_cipher_rekey(struct noise_cipher *cs)
{
	static const uint8_t zeros[NOISE_KEY_BYTES];
	uint8_t nonce[12];
	uint8_t out[NOISE_KEY_BYTES + NOISE_TAG_BYTES];

	if (!cs || !cs->has_key)
		return NOISE_E_STATE;
	make_nonce(nonce, NOISE_NONCE_MAX);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, zeros, sizeof zeros, NULL, 0,
	                                          NULL, nonce, cs->k);
	memcpy(cs->k, out, NOISE_KEY_BYTES);
	sodium_memzero(out, sizeof out);
	return 0;
}

uint64_t noise_cipher_nonce(const struct noise_cipher *cs)
{
	return cs->n;
}

void noise_cipher_set_nonce_for_test(struct noise_cipher *cs, uint64_t n)
{
	cs->n = n;
}

/* ----------------------------------------------- SymmetricState (5.2) */

static void mix_hash(struct noise_handshake *hs, const uint8_t *data, size_t len)
{
	hash2(hs->h, hs->h, sizeof hs->h, data, len);
}

/* MixKey: ck, temp_k = HKDF(ck, ikm, 2); k = temp_k truncated to 32. */
static void mix_key(struct noise_handshake *hs, const uint8_t *ikm, size_t len)
{
	uint8_t temp_k[NOISE_HASH_BYTES];

	hkdf(hs->ck, temp_k, NULL, hs->ck, ikm, len);
	noise_cipher_init(&hs->cs, temp_k);
	sodium_memzero(temp_k, sizeof temp_k);
}

/* MixKeyAndHash: ck, temp_h, temp_k = HKDF(ck, ikm, 3). */
static void mix_key_and_hash(struct noise_handshake *hs, const uint8_t *ikm, size_t len)
{
	uint8_t temp_h[NOISE_HASH_BYTES], temp_k[NOISE_HASH_BYTES];

	hkdf(hs->ck, temp_h, temp_k, hs->ck, ikm, len);
	mix_hash(hs, temp_h, sizeof temp_h);
	noise_cipher_init(&hs->cs, temp_k);
	sodium_memzero(temp_h, sizeof temp_h);
	sodium_memzero(temp_k, sizeof temp_k);
}

/* EncryptAndHash: out = EncryptWithAd(h, in); MixHash(out). */
static int encrypt_and_hash(uint8_t *out, size_t *out_len, size_t out_cap,
                            struct noise_handshake *hs, const uint8_t *in, size_t in_len)
{
	size_t n;
	int rc = noise_cipher_encrypt(out, &n, out_cap, &hs->cs, hs->h, sizeof hs->h,
	                              in, in_len);

	if (rc < 0)
		return rc;
	mix_hash(hs, out, n);
	*out_len = n;
	return 0;
}

/* DecryptAndHash: out = DecryptWithAd(h, in); MixHash(in).  The hash is
 * taken before decrypting in place would overwrite in. */
static int decrypt_and_hash(uint8_t *out, size_t *out_len, size_t out_cap,
                            struct noise_handshake *hs, const uint8_t *in, size_t in_len)
{
	uint8_t h_next[NOISE_HASH_BYTES];
	size_t n;
	int rc;

	hash2(h_next, hs->h, sizeof hs->h, in, in_len);
	rc = noise_cipher_decrypt(out, &n, out_cap, &hs->cs, hs->h, sizeof hs->h, in, in_len);
	if (rc < 0)
		return rc;
	memcpy(hs->h, h_next, sizeof h_next);
	*out_len = n;
	return 0;
}

/* ----------------------------------------------- HandshakeState (5.3) */

/* Parse "Noise_<pattern><modifiers>_25519_ChaChaPoly_BLAKE2b". */
static int parse_protocol(struct noise_handshake *hs, const char *name)
{
	static const char prefix[] = "Noise_";
	static const char suffix[] = "_25519_ChaChaPoly_BLAKE2b";
	size_t len, plen = sizeof prefix - 1, slen = sizeof suffix - 1;
	const char *pat, *mod;
	size_t pat_len;
	const struct pattern *base = NULL;
	int psk_at = -1;

	len = strlen(name);
	if (len <= plen + slen || memcmp(name, prefix, plen) != 0 ||
	    memcmp(name + len - slen, suffix, slen) != 0)
		return NOISE_E_PROTOCOL;
	pat = name + plen;
	pat_len = len - plen - slen;
	for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
		size_t bl = strlen(patterns[i].name);
		if (pat_len >= bl && memcmp(pat, patterns[i].name, bl) == 0 &&
		    (pat_len == bl || pat[bl] == 'p')) {
			base = &patterns[i];
			break;
		}
	}
	if (!base)
		return NOISE_E_PROTOCOL;
	mod = pat + strlen(base->name);
	if (mod < pat + pat_len) {
		/* One modifier "pskN" (a single psk token), N a single digit. */
		if (pat + pat_len - mod != 4 || memcmp(mod, "psk", 3) != 0 ||
		    mod[3] < '0' || mod[3] > '0' + base->n_msgs)
			return NOISE_E_PROTOCOL;
		psk_at = mod[3] - '0';
	}

	memcpy(hs->tokens, base->tokens, sizeof hs->tokens);
	hs->n_msgs = base->n_msgs;
	hs->pre = base->pre;
	if (psk_at >= 0) {
		/* psk0 goes first in message 1; pskN last in message N (9.2). */
		uint8_t *t = hs->tokens[psk_at == 0 ? 0 : psk_at - 1];
		size_t n = 0;

		while (n < NOISE_PATTERN_TOKENS && t[n] != TOK_END)
			n++;
		if (n + 1 >= NOISE_PATTERN_TOKENS)
			return NOISE_E_PROTOCOL;
		if (psk_at == 0) {
			memmove(t + 1, t, n);
			t[0] = TOK_PSK;
		} else {
			t[n] = TOK_PSK;
		}
		hs->psk_mode = true;
	}
	return 0;
}

/* Does the pattern make `role` send an "s" token or pre-message? */
static bool needs_static(const struct noise_handshake *hs, enum noise_role role)
{
	if (hs->pre & (role == NOISE_INITIATOR ? PRE_I_S : PRE_R_S))
		return true;
	for (unsigned m = role == NOISE_INITIATOR ? 0 : 1; m < hs->n_msgs; m += 2)
		for (unsigned t = 0; t < NOISE_PATTERN_TOKENS && hs->tokens[m][t]; t++)
			if (hs->tokens[m][t] == TOK_S)
				return true;
	return false;
}

/* Which side acts on message m: the initiator writes the even ones. */
static enum noise_action turn(const struct noise_handshake *hs)
{
	if (hs->msg >= hs->n_msgs)
		return NOISE_ACTION_SPLIT;
	return ((hs->msg % 2 == 0) == (hs->role == NOISE_INITIATOR)) ?
	       NOISE_ACTION_WRITE : NOISE_ACTION_READ;
}

/* Wipe all handshake secrets and enter `action` (FAILED or NONE). */
static void wipe_secrets(struct noise_handshake *hs)
{
	noise_cipher_dispose(&hs->cs);
	sodium_memzero(hs->ck, sizeof hs->ck);
	sodium_memzero(hs->s_sk, sizeof hs->s_sk);
	sodium_memzero(hs->e_sk, sizeof hs->e_sk);
	sodium_memzero(hs->psk, sizeof hs->psk);
	noise_cipher_dispose(&hs->c1);
	noise_cipher_dispose(&hs->c2);
}

static int fail(struct noise_handshake *hs, int rc)
{
	wipe_secrets(hs);
	hs->action = NOISE_ACTION_FAILED;
	return rc;
}

int noise_handshake_init(struct noise_handshake *hs, const char *protocol_name,
                         enum noise_role role, const uint8_t *prologue,
                         size_t prologue_len, const struct noise_keys *keys)
{
	static const struct noise_keys no_keys;
	size_t name_len;
	int rc;

	if (!hs)
		return NOISE_E_ARG;
	memset(hs, 0, sizeof *hs);
	hs->action = NOISE_ACTION_FAILED;
	if (!protocol_name || (!prologue && prologue_len) ||
	    (role != NOISE_INITIATOR && role != NOISE_RESPONDER))
		return NOISE_E_ARG;
	if (!keys)
		keys = &no_keys;
	rc = parse_protocol(hs, protocol_name);
	if (rc < 0)
		goto out;
	hs->role = (uint8_t)role;

	if (needs_static(hs, role)) {
		if (!keys->s_sk) {
			rc = NOISE_E_KEY;
			goto out;
		}
	}
	if (keys->s_sk) {
		memcpy(hs->s_sk, keys->s_sk, NOISE_DH_BYTES);
		crypto_scalarmult_base(hs->s_pk, hs->s_sk);
		hs->has_s = true;
	}
	if (hs->pre & (role == NOISE_INITIATOR ? PRE_R_S : PRE_I_S)) {
		if (!keys->rs) {
			rc = NOISE_E_KEY;
			goto out;
		}
		memcpy(hs->rs, keys->rs, NOISE_DH_BYTES);
		hs->has_rs = true;
	} else if (keys->rs) {
		rc = NOISE_E_ARG;
		goto out;
	}
	if (hs->psk_mode) {
		if (!keys->psk) {
			rc = NOISE_E_KEY;
			goto out;
		}
		memcpy(hs->psk, keys->psk, NOISE_PSK_BYTES);
		hs->has_psk = true;
	}
	if (keys->e_sk) {
		memcpy(hs->e_sk, keys->e_sk, NOISE_DH_BYTES);
		hs->fixed_e = true;
	}

	/* InitializeSymmetric: h = name padded with zeros, or HASH(name). */
	name_len = strlen(protocol_name);
	if (name_len <= NOISE_HASH_BYTES)
		memcpy(hs->h, protocol_name, name_len);
	else
		hash2(hs->h, (const uint8_t *)protocol_name, name_len, NULL, 0);
	memcpy(hs->ck, hs->h, sizeof hs->ck);
	noise_cipher_init(&hs->cs, NULL);
	mix_hash(hs, prologue, prologue_len);
	/* Pre-messages: the initiator's first, then the responder's. */
	if (hs->pre & PRE_I_S)
		mix_hash(hs, role == NOISE_INITIATOR ? hs->s_pk : hs->rs, NOISE_DH_BYTES);
	if (hs->pre & PRE_R_S)
		mix_hash(hs, role == NOISE_RESPONDER ? hs->s_pk : hs->rs, NOISE_DH_BYTES);
	hs->action = (uint8_t)turn(hs);
	rc = 0;
out:
	if (rc < 0) {
		wipe_secrets(hs);
		hs->action = NOISE_ACTION_FAILED;
	}
	return rc;
}

void noise_handshake_dispose(struct noise_handshake *hs)
{
	if (hs)
		sodium_memzero(hs, sizeof *hs);
}

enum noise_action noise_handshake_action(const struct noise_handshake *hs)
{
	return (enum noise_action)hs->action;
}

/* DH(our key, their key) for a token, as this role sees it (7.1). */
static int token_dh(struct noise_handshake *hs, enum token tok)
{
	bool ini = hs->role == NOISE_INITIATOR;
	const uint8_t *sk, *pk;
	uint8_t shared[NOISE_DH_BYTES];
	bool have;

	switch (tok) {
	case TOK_EE:
		sk = hs->e_sk; pk = hs->re; have = hs->has_e && hs->has_re;
		break;
	case TOK_ES: /* initiator's e with responder's s */
		sk = ini ? hs->e_sk : hs->s_sk;
		pk = ini ? hs->rs : hs->re;
		have = ini ? hs->has_e && hs->has_rs : hs->has_s && hs->has_re;
		break;
	case TOK_SE: /* initiator's s with responder's e */
		sk = ini ? hs->s_sk : hs->e_sk;
		pk = ini ? hs->re : hs->rs;
		have = ini ? hs->has_s && hs->has_re : hs->has_e && hs->has_rs;
		break;
	case TOK_SS:
		sk = hs->s_sk; pk = hs->rs; have = hs->has_s && hs->has_rs;
		break;
	default:
		return NOISE_E_ARG;
	}
	if (!have)
		return NOISE_E_KEY;
	/* libsodium refuses an all-zero result, i.e. a small-order point:
	 * such a key contributes nothing secret, so the handshake stops. */
	if (crypto_scalarmult(shared, sk, pk) != 0) {
		sodium_memzero(shared, sizeof shared);
		return NOISE_E_DH;
	}
	mix_key(hs, shared, sizeof shared);
	sodium_memzero(shared, sizeof shared);
	return 0;
}

/* After the last message: Split() into hs->c1 / hs->c2 (5.2). */
static void finish(struct noise_handshake *hs)
{
	uint8_t k1[NOISE_HASH_BYTES], k2[NOISE_HASH_BYTES];

	hkdf(k1, k2, NULL, hs->ck, NULL, 0);
	noise_cipher_init(&hs->c1, k1);
	noise_cipher_init(&hs->c2, k2);
	sodium_memzero(k1, sizeof k1);
	sodium_memzero(k2, sizeof k2);
}

static void advance(struct noise_handshake *hs)
{
	hs->msg++;
	if (hs->msg >= hs->n_msgs)
		finish(hs);
	hs->action = (uint8_t)turn(hs);
}

/*
 * End of a write or read: on NOISE_E_BUFFER roll back to the state saved
 * on entry, so the caller can retry with a larger buffer; on any other
 * error fail the handshake.  The saved copy holds secrets, so it is wiped.
 */
static int finish_call(struct noise_handshake *hs, struct noise_handshake *saved, int rc)
{
	if (rc == NOISE_E_BUFFER)
		*hs = *saved;
	sodium_memzero(saved, sizeof *saved);
	return rc < 0 && rc != NOISE_E_BUFFER ? fail(hs, rc) : rc;
}

int noise_handshake_write(uint8_t *out, size_t *out_len, size_t out_cap,
                          struct noise_handshake *hs,
                          const uint8_t *payload, size_t payload_len)
{
	struct noise_handshake saved;
	const uint8_t *tok;
	size_t off = 0, n;
	int rc = 0;

	if (!hs || !out_len || (!out && out_cap) || (!payload && payload_len))
		return NOISE_E_ARG;
	if (hs->action != NOISE_ACTION_WRITE)
		return NOISE_E_STATE;
	saved = *hs; /* a too-small buffer must not cost the handshake */
	if (out_cap > NOISE_MSG_MAX)
		out_cap = NOISE_MSG_MAX; /* so the limit shows up as TOO_BIG below */
	tok = hs->tokens[hs->msg];
	for (unsigned t = 0; t < NOISE_PATTERN_TOKENS && tok[t] != TOK_END; t++) {
		switch (tok[t]) {
		case TOK_E:
			if (!hs->fixed_e)
				randombytes_buf(hs->e_sk, sizeof hs->e_sk);
			hs->fixed_e = false;
			crypto_scalarmult_base(hs->e_pk, hs->e_sk);
			hs->has_e = true;
			if (out_cap - off < NOISE_DH_BYTES) {
				rc = NOISE_E_BUFFER;
				goto out;
			}
			memcpy(out + off, hs->e_pk, NOISE_DH_BYTES);
			off += NOISE_DH_BYTES;
			mix_hash(hs, hs->e_pk, NOISE_DH_BYTES);
			if (hs->psk_mode)
				mix_key(hs, hs->e_pk, NOISE_DH_BYTES);
			break;
		case TOK_S:
			if (!hs->has_s) {
				rc = NOISE_E_KEY;
				goto out;
			}
			rc = encrypt_and_hash(out + off, &n, out_cap - off, hs, hs->s_pk,
			                      NOISE_DH_BYTES);
			if (rc < 0)
				goto out;
			off += n;
			break;
		case TOK_PSK:
			mix_key_and_hash(hs, hs->psk, sizeof hs->psk);
			break;
		default:
			rc = token_dh(hs, (enum token)tok[t]);
			if (rc < 0)
				goto out;
			break;
		}
	}
	rc = encrypt_and_hash(out + off, &n, out_cap - off, hs, payload, payload_len);
	if (rc < 0) {
		/* A payload that fits no Noise message is TOO_BIG, not BUFFER. */
		if (rc == NOISE_E_BUFFER &&
		    off + payload_len + (hs->cs.has_key ? NOISE_TAG_BYTES : 0) > NOISE_MSG_MAX)
			rc = NOISE_E_TOO_BIG;
		goto out;
	}
	off += n;
	advance(hs);
	*out_len = off;
out:
	return finish_call(hs, &saved, rc);
}

int noise_handshake_read(uint8_t *payload, size_t *payload_len, size_t payload_cap,
                         struct noise_handshake *hs, const uint8_t *msg, size_t msg_len)
{
	struct noise_handshake saved;
	const uint8_t *tok;
	size_t off = 0, n, need;
	int rc = 0;

	if (!hs || !payload_len || (!payload && payload_cap) || (!msg && msg_len))
		return NOISE_E_ARG;
	if (hs->action != NOISE_ACTION_READ)
		return NOISE_E_STATE;
	saved = *hs;
	if (msg_len > NOISE_MSG_MAX) {
		rc = NOISE_E_TOO_BIG;
		goto out;
	}
	tok = hs->tokens[hs->msg];
	for (unsigned t = 0; t < NOISE_PATTERN_TOKENS && tok[t] != TOK_END; t++) {
		switch (tok[t]) {
		case TOK_E:
			if (msg_len - off < NOISE_DH_BYTES) {
				rc = NOISE_E_SHORT;
				goto out;
			}
			memcpy(hs->re, msg + off, NOISE_DH_BYTES);
			hs->has_re = true;
			off += NOISE_DH_BYTES;
			mix_hash(hs, hs->re, NOISE_DH_BYTES);
			if (hs->psk_mode)
				mix_key(hs, hs->re, NOISE_DH_BYTES);
			break;
		case TOK_S:
			need = NOISE_DH_BYTES + (hs->cs.has_key ? NOISE_TAG_BYTES : 0);
			if (msg_len - off < need) {
				rc = NOISE_E_SHORT;
				goto out;
			}
			rc = decrypt_and_hash(hs->rs, &n, sizeof hs->rs, hs, msg + off, need);
			if (rc < 0)
				goto out;
			hs->has_rs = true;
			off += need;
			break;
		case TOK_PSK:
			mix_key_and_hash(hs, hs->psk, sizeof hs->psk);
			break;
		default:
			rc = token_dh(hs, (enum token)tok[t]);
			if (rc < 0)
				goto out;
			break;
		}
	}
	if (hs->cs.has_key && msg_len - off < NOISE_TAG_BYTES) {
		rc = NOISE_E_SHORT;
		goto out;
	}
	rc = decrypt_and_hash(payload, &n, payload_cap, hs, msg + off, msg_len - off);
	if (rc < 0)
		goto out;
	advance(hs);
	*payload_len = n;
out:
	return finish_call(hs, &saved, rc);
}

int noise_handshake_split(struct noise_cipher *send, struct noise_cipher *recv,
                          uint8_t h[NOISE_HASH_BYTES], struct noise_handshake *hs)
{
	bool ini;

	if (!send || !recv || !hs)
		return NOISE_E_ARG;
	if (hs->action != NOISE_ACTION_SPLIT)
		return NOISE_E_STATE;
	ini = hs->role == NOISE_INITIATOR;
	*send = ini ? hs->c1 : hs->c2;
	*recv = ini ? hs->c2 : hs->c1;
	if (h)
		memcpy(h, hs->h, NOISE_HASH_BYTES);
	wipe_secrets(hs);
	hs->action = NOISE_ACTION_NONE;
	return 0;
}

void noise_handshake_hash(uint8_t h[NOISE_HASH_BYTES], const struct noise_handshake *hs)
{
	memcpy(h, hs->h, NOISE_HASH_BYTES);
}

int noise_handshake_remote_static(uint8_t rs[NOISE_DH_BYTES],
                                  const struct noise_handshake *hs)
{
	if (!hs->has_rs)
		return NOISE_E_STATE;
	memcpy(rs, hs->rs, NOISE_DH_BYTES);
	return 0;
}

/* -------------------------------------------------------------- agora */

int noise_agora_init(struct noise_agora *ag, enum noise_role role,
                     const uint8_t ed_pk[NOISE_ED25519_PK_BYTES],
                     const uint8_t ed_sk[NOISE_ED25519_SK_BYTES],
                     const uint8_t *e_sk)
{
	uint8_t x_sk[NOISE_DH_BYTES];
	struct noise_keys keys = { 0 };
	int rc;

	if (!ag)
		return NOISE_E_ARG;
	memset(ag, 0, sizeof *ag);
	ag->hs.action = NOISE_ACTION_FAILED;
	if (!ed_pk || !ed_sk)
		return NOISE_E_ARG;
	/* libsodium's Ed25519 secret key is seed || public key. */
	if (sodium_memcmp(ed_sk + 32, ed_pk, NOISE_ED25519_PK_BYTES) != 0)
		return NOISE_E_ARG;
	if (crypto_sign_ed25519_sk_to_curve25519(x_sk, ed_sk) != 0)
		return NOISE_E_KEY;
	keys.s_sk = x_sk;
	keys.e_sk = e_sk;
	rc = noise_handshake_init(&ag->hs, NOISE_AGORA_PROTOCOL, role,
	                          (const uint8_t *)NOISE_AGORA_PROLOGUE,
	                          sizeof NOISE_AGORA_PROLOGUE - 1, &keys);
	sodium_memzero(x_sk, sizeof x_sk);
	if (rc < 0)
		return rc;
	memcpy(ag->ed_pk, ed_pk, NOISE_ED25519_PK_BYTES);
	return 0;
}

void noise_agora_dispose(struct noise_agora *ag)
{
	if (ag)
		sodium_memzero(ag, sizeof *ag);
}

enum noise_action noise_agora_action(const struct noise_agora *ag)
{
	return noise_handshake_action(&ag->hs);
}

int noise_agora_write(uint8_t *out, size_t *out_len, size_t out_cap, struct noise_agora *ag)
{
	if (!ag)
		return NOISE_E_ARG;
	/* Message 1 carries nothing: its payload would travel in clear. */
	if (ag->hs.msg == 0)
		return noise_handshake_write(out, out_len, out_cap, &ag->hs, NULL, 0);
	return noise_handshake_write(out, out_len, out_cap, &ag->hs, ag->ed_pk,
	                             NOISE_ED25519_PK_BYTES);
}

int noise_agora_read(struct noise_agora *ag, const uint8_t *msg, size_t msg_len)
{
	uint8_t payload[NOISE_ED25519_PK_BYTES];
	uint8_t x_pk[NOISE_DH_BYTES];
	size_t n;
	unsigned index;
	int rc;

	if (!ag)
		return NOISE_E_ARG;
	index = ag->hs.msg;
	rc = noise_handshake_read(payload, &n, sizeof payload, &ag->hs, msg, msg_len);
	if (rc == NOISE_E_BUFFER) /* longer than any agora payload */
		return fail(&ag->hs, NOISE_E_PAYLOAD);
	if (rc < 0)
		return rc;
	if (index == 0) {
		if (n != 0)
			return fail(&ag->hs, NOISE_E_PAYLOAD);
		return 0;
	}
	if (n != NOISE_ED25519_PK_BYTES)
		return fail(&ag->hs, NOISE_E_PAYLOAD);
	/*
	 * The "s" token of this same message has just been authenticated (the
	 * payload decrypted under a key mixed from es/se), so rs is the key
	 * the peer proved it holds.  Its Ed25519 name must convert to it.
	 */
	if (proto_pk_x25519(x_pk, payload) != 0 ||
	    sodium_memcmp(x_pk, ag->hs.rs, NOISE_DH_BYTES) != 0)
		return fail(&ag->hs, NOISE_E_IDENTITY);
	memcpy(ag->remote_ed_pk, payload, NOISE_ED25519_PK_BYTES);
	ag->has_remote = true;
	return 0;
}

int noise_agora_split(struct noise_cipher *send, struct noise_cipher *recv,
                      uint8_t remote_ed_pk[NOISE_ED25519_PK_BYTES],
                      uint8_t h[NOISE_HASH_BYTES], struct noise_agora *ag)
{
	int rc;

	if (!send || !recv || !remote_ed_pk || !ag)
		return NOISE_E_ARG;
	if (!ag->has_remote)
		return NOISE_E_STATE;
	rc = noise_handshake_split(send, recv, h, &ag->hs);
	if (rc < 0)
		return rc;
	memcpy(remote_ed_pk, ag->remote_ed_pk, NOISE_ED25519_PK_BYTES);
	return 0;
}
