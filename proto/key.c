/*
 * key.c - node identity: Ed25519 key pairs and identity.key text.
 *
 * identity.key is one line of text (see PROTOCOL.md, "Key file"):
 *   agora-identity-v1 plain <seed hex>\n
 *   agora-identity-v1 argon2id <opslimit> <memlimit> <salt hex> <nonce hex> <box hex>\n
 * Every buffer that holds the seed or a derived key is sodium_malloc()ed or
 * wiped with sodium_memzero() before it goes out of scope.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "proto/proto.h"

#define KEY_MAGIC "agora-identity-v1"
#define KEY_PLAIN "plain"
#define KEY_ARGON "argon2id"
#define KEY_BOX_BYTES (PROTO_SEED_BYTES + crypto_secretbox_MACBYTES)
#define KEY_TEXT_MAX 1024       /* far above any valid key file */

/* Upper bounds on the work a key file may ask of us (a hostile file could
 * otherwise demand gigabytes).  SENSITIVE is libsodium's largest preset. */
#define KEY_OPS_MAX crypto_pwhash_OPSLIMIT_SENSITIVE
#define KEY_MEM_MAX crypto_pwhash_MEMLIMIT_SENSITIVE

static int key_alloc(struct proto_key **out)
{
	struct proto_key *k = calloc(1, sizeof(*k));

	if (!k)
		return PROTO_E_NOMEM;
	k->sk = sodium_malloc(PROTO_SECRET_BYTES);
	if (!k->sk) {
		free(k);
		return PROTO_E_NOMEM;
	}
	*out = k;
	return 0;
}

void proto_key_free(struct proto_key *key)
{
	if (!key)
		return;
	sodium_free(key->sk);      /* wipes before freeing; accepts NULL */
	sodium_memzero(key, sizeof(*key));
	free(key);
}

int proto_key_generate(struct proto_key **out)
{
	struct proto_key *k = NULL;
	int rc;

	if (!out)
		return PROTO_E_ARG;
	rc = key_alloc(&k);
	if (rc < 0)
		return rc;
	crypto_sign_keypair(k->pk, k->sk);
	*out = k;
	return 0;
}

int proto_key_from_seed(struct proto_key **out, const uint8_t seed[PROTO_SEED_BYTES])
{
	struct proto_key *k = NULL;
	int rc;

	if (!out || !seed)
		return PROTO_E_ARG;
	rc = key_alloc(&k);
	if (rc < 0)
		return rc;
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	*out = k;
	return 0;
}

int proto_key_encode(char **out, size_t *out_len, const struct proto_key *key,
                     const char *passphrase)
{
	uint8_t *secret = NULL;     /* seed, then seed || derived key */
	char *text = NULL;
	size_t cap, n;
	int rc;

	if (!out || !out_len || !key || !key->sk)
		return PROTO_E_ARG;
	/* The libsodium secret key is seed || pk; the seed is all we store. */
	secret = sodium_malloc(PROTO_SEED_BYTES + crypto_secretbox_KEYBYTES);
	if (!secret) {
		rc = PROTO_E_NOMEM;
		goto out;
	}
	crypto_sign_ed25519_sk_to_seed(secret, key->sk);

	if (!passphrase || !*passphrase) {
		cap = sizeof(KEY_MAGIC " " KEY_PLAIN " \n") + 2 * PROTO_SEED_BYTES;
		text = malloc(cap);
		if (!text) {
			rc = PROTO_E_NOMEM;
			goto out;
		}
		n = (size_t)snprintf(text, cap, "%s %s ", KEY_MAGIC, KEY_PLAIN);
		proto_hex(text + n, secret, PROTO_SEED_BYTES);
		n += 2 * PROTO_SEED_BYTES;
		text[n++] = '\n';
		text[n] = '\0';
	} else {
		/*
		 * INTERACTIVE limits: the CLI unlocks the key on every command
		 * and MODERATE costs about a second and 256 MiB each time.  The
		 * limits are stored in the file, so they can be raised later
		 * without a format change.
		 */
		unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		uint8_t salt[crypto_pwhash_SALTBYTES];
		uint8_t nonce[crypto_secretbox_NONCEBYTES];
		uint8_t box[KEY_BOX_BYTES];
		uint8_t *dk = secret + PROTO_SEED_BYTES;

		randombytes_buf(salt, sizeof(salt));
		randombytes_buf(nonce, sizeof(nonce));
		if (crypto_pwhash(dk, crypto_secretbox_KEYBYTES, passphrase, strlen(passphrase),
		                  salt, ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
			rc = PROTO_E_NOMEM;
			goto out;
		}
		crypto_secretbox_easy(box, secret, PROTO_SEED_BYTES, nonce, dk);
		cap = 128 + 2 * (sizeof(salt) + sizeof(nonce) + sizeof(box));
		text = malloc(cap);
		if (!text) {
			rc = PROTO_E_NOMEM;
			goto out;
		}
		n = (size_t)snprintf(text, cap, "%s %s %llu %zu ", KEY_MAGIC, KEY_ARGON, ops, mem);
		proto_hex(text + n, salt, sizeof(salt));
		n += 2 * sizeof(salt);
		text[n++] = ' ';
		proto_hex(text + n, nonce, sizeof(nonce));
		n += 2 * sizeof(nonce);
		text[n++] = ' ';
		proto_hex(text + n, box, sizeof(box));
		n += 2 * sizeof(box);
		text[n++] = '\n';
		text[n] = '\0';
	}
	*out = text;
	*out_len = n;
	text = NULL;
	rc = 0;
out:
	sodium_free(secret);
	free(text);
	return rc;
}

/*
 * Split the key text into at most max space-separated words, in place in
 * buf.  The text must be one line, optionally ending in "\n".
 */
static int split_words(char **words, int max, char *buf)
{
	int n = 0;
	char *p = buf, *nl = strchr(buf, '\n');

	if (nl) {
		if (nl[1] != '\0')
			return -1;
		*nl = '\0';
	}
	while (*p) {
		if (n == max)
			return -1;
		words[n++] = p;
		p = strchr(p, ' ');
		if (!p)
			break;
		*p++ = '\0';
		if (*p == '\0' || *p == ' ')
			return -1;
	}
	return n;
}

static int parse_ull(unsigned long long *out, const char *s)
{
	unsigned long long v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (~0ULL - 9) / 10)
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	*out = v;
	return 0;
}

int proto_key_decode(struct proto_key **out, const char *text, size_t len,
                     const char *passphrase)
{
	char *buf = NULL;            /* copy of the text: holds the hex seed */
	uint8_t *secret = NULL;      /* seed || derived key */
	char *w[7];
	int nw, rc;

	if (!out || (!text && len))
		return PROTO_E_ARG;
	if (len == 0 || len > KEY_TEXT_MAX || memchr(text, '\0', len))
		return PROTO_E_KEY;
	buf = sodium_malloc(len + 1);
	secret = sodium_malloc(PROTO_SEED_BYTES + crypto_secretbox_KEYBYTES);
	if (!buf || !secret) {
		rc = PROTO_E_NOMEM;
		goto out;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	nw = split_words(w, 7, buf);
	if (nw < 2 || strcmp(w[0], KEY_MAGIC) != 0) {
		rc = PROTO_E_KEY;
		goto out;
	}
	if (strcmp(w[1], KEY_PLAIN) == 0) {
		if (nw != 3 || proto_unhex(secret, PROTO_SEED_BYTES, w[2]) < 0) {
			rc = PROTO_E_KEY;
			goto out;
		}
	} else if (strcmp(w[1], KEY_ARGON) == 0) {
		unsigned long long ops, mem;
		uint8_t salt[crypto_pwhash_SALTBYTES];
		uint8_t nonce[crypto_secretbox_NONCEBYTES];
		uint8_t box[KEY_BOX_BYTES];
		uint8_t *dk = secret + PROTO_SEED_BYTES;

		if (nw != 7 || parse_ull(&ops, w[2]) < 0 || parse_ull(&mem, w[3]) < 0 ||
		    ops < crypto_pwhash_OPSLIMIT_MIN || ops > KEY_OPS_MAX ||
		    mem < crypto_pwhash_MEMLIMIT_MIN || mem > KEY_MEM_MAX ||
		    proto_unhex(salt, sizeof(salt), w[4]) < 0 ||
		    proto_unhex(nonce, sizeof(nonce), w[5]) < 0 ||
		    proto_unhex(box, sizeof(box), w[6]) < 0) {
			rc = PROTO_E_KEY;
			goto out;
		}
		if (!passphrase) {
			rc = PROTO_E_PASSPHRASE;
			goto out;
		}
		if (crypto_pwhash(dk, crypto_secretbox_KEYBYTES, passphrase, strlen(passphrase),
		                  salt, ops, (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
			rc = PROTO_E_NOMEM;
			goto out;
		}
		if (crypto_secretbox_open_easy(secret, box, sizeof(box), nonce, dk) != 0) {
			rc = PROTO_E_KEY;
			goto out;
		}
	} else {
		rc = PROTO_E_KEY;
		goto out;
	}
	rc = proto_key_from_seed(out, secret);
out:
	sodium_free(secret);
	sodium_free(buf);
	return rc;
}

bool proto_key_is_encrypted(const char *text, size_t len)
{
	static const char prefix[] = KEY_MAGIC " " KEY_ARGON " ";

	return text && len >= sizeof(prefix) - 1 && memcmp(text, prefix, sizeof(prefix) - 1) == 0;
}

int proto_key_x25519(uint8_t x_pk[32], uint8_t x_sk[32], const struct proto_key *key)
{
	uint8_t pk[32];
	uint8_t *sk = NULL;
	int rc;

	if (!x_pk || !x_sk || !key || !key->sk)
		return PROTO_E_ARG;
	sk = sodium_malloc(32);
	if (!sk)
		return PROTO_E_NOMEM;
	if (crypto_sign_ed25519_pk_to_curve25519(pk, key->pk) != 0 ||
	    crypto_sign_ed25519_sk_to_curve25519(sk, key->sk) != 0) {
		rc = PROTO_E_KEY;
		goto out;
	}
	memcpy(x_pk, pk, 32);
	memcpy(x_sk, sk, 32);
	rc = 0;
out:
	sodium_free(sk);
	return rc;
}

int proto_pk_x25519(uint8_t x_pk[32], const uint8_t ed_pk[PROTO_KEY_BYTES])
{
	uint8_t pk[32];

	if (!x_pk || !ed_pk)
		return PROTO_E_ARG;
	if (crypto_sign_ed25519_pk_to_curve25519(pk, ed_pk) != 0)
		return PROTO_E_KEY;
	memcpy(x_pk, pk, 32);
	return 0;
}
