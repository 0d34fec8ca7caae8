/*
 * key_test.c - identities and identity.key text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "fixtures.h"

static void encode(char **text, size_t *len, const struct proto_key *key, const char *pass)
{
	assert_int_equal(proto_key_encode(text, len, key, pass), 0);
	assert_int_equal(strlen(*text), *len);
}

static void test_key__plain_round_trip(void **state)
{
	struct proto_key *key = NULL, *back = NULL;
	char *text;
	size_t len;

	assert_int_equal(proto_key_generate(&key), 0);
	encode(&text, &len, key, NULL);
	assert_false(proto_key_is_encrypted(text, len));
	assert_int_equal(strncmp(text, "agora-identity-v1 plain ", 24), 0);
	assert_int_equal(len, 24 + 64 + 1);
	assert_int_equal(text[len - 1], '\n');
	assert_int_equal(proto_key_decode(&back, text, len, NULL), 0);
	assert_memory_equal(back->pk, key->pk, 32);
	assert_memory_equal(back->sk, key->sk, 64);
	proto_key_free(back);
	/* A passphrase given for a plain key is ignored; "" means plain too. */
	assert_int_equal(proto_key_decode(&back, text, len, "whatever"), 0);
	proto_key_free(back);
	sodium_memzero(text, len);
	free(text);
	encode(&text, &len, key, "");
	assert_false(proto_key_is_encrypted(text, len));
	free(text);
	proto_key_free(key);
}

static void test_key__plain_file_matches_known_seed(void **state)
{
	static const char text[] =
		"agora-identity-v1 plain "
		"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\n";
	uint8_t pk[32];
	struct proto_key *key = NULL;

	assert_int_equal(proto_key_decode(&key, text, strlen(text), NULL), 0);
	assert_int_equal(proto_unhex(pk, 32,
	        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"), 0);
	assert_memory_equal(key->pk, pk, 32);
	proto_key_free(key);
	/* Without the final newline it still parses. */
	assert_int_equal(proto_key_decode(&key, text, strlen(text) - 1, NULL), 0);
	proto_key_free(key);
}

static void test_key__passphrase_round_trip(void **state)
{
	struct proto_key *key = fixture_key(30), *back = NULL;
	char *text;
	size_t len;

	encode(&text, &len, key, "kæmpe hemmelighed");
	assert_true(proto_key_is_encrypted(text, len));
	assert_null(strstr(text, "plain"));
	/* The seed does not appear in the file. */
	char seedhex[65];
	proto_hex(seedhex, key->sk, 32);
	assert_null(strstr(text, seedhex));

	assert_int_equal(proto_key_decode(&back, text, len, "kæmpe hemmelighed"), 0);
	assert_memory_equal(back->pk, key->pk, 32);
	proto_key_free(back);
	back = NULL;

	assert_int_equal(proto_key_decode(&back, text, len, "wrong"), PROTO_E_KEY);
	assert_null(back);
	assert_int_equal(proto_key_decode(&back, text, len, NULL), PROTO_E_PASSPHRASE);
	assert_null(back);
	assert_int_equal(proto_key_decode(&back, text, len, ""), PROTO_E_KEY);

	/* A flipped ciphertext digit is caught by the MAC. */
	text[len - 3] = text[len - 3] == '0' ? '1' : '0';
	assert_int_equal(proto_key_decode(&back, text, len, "kæmpe hemmelighed"), PROTO_E_KEY);
	free(text);
	proto_key_free(key);
}

static void test_key__garbage_rejected(void **state)
{
	static const char *bad[] = {
		"",
		"hello",
		"agora-identity-v1",
		"agora-identity-v1 plain",
		"agora-identity-v1 plain 00",
		"agora-identity-v1 plain 9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f6",
		"agora-identity-v1 plain 9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f600",
		"agora-identity-v1 plain 9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7fzz\n",
		"agora-identity-v1  plain 9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\n",
		"agora-identity-v1 plain 9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\n\n",
		"agora-identity-v1 plain 9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60 x\n",
		"agora-identity-v2 plain 9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\n",
		"agora-identity-v1 scrypt 9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\n",
		"agora-identity-v1 argon2id 2 67108864 00 00 00\n",
		/* a hostile file asking for 2^50 bytes of memory */
		"agora-identity-v1 argon2id 2 1125899906842624 00000000000000000000000000000000 "
		"000000000000000000000000000000000000000000000000 "
		"0000000000000000000000000000000000000000000000000000000000000000"
		"00000000000000000000000000000000\n",
		"agora-identity-v1 argon2id 02 67108864 00000000000000000000000000000000 "
		"000000000000000000000000000000000000000000000000 "
		"0000000000000000000000000000000000000000000000000000000000000000"
		"00000000000000000000000000000000\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct proto_key *key = NULL;
		int rc = proto_key_decode(&key, bad[i], strlen(bad[i]), "pw");
		if (rc != PROTO_E_KEY)
			fail_msg("case %zu: got %d (%s)", i, rc, proto_strerror(rc));
		assert_null(key);
	}
	/* Embedded NUL. */
	struct proto_key *key = NULL;
	static const char nul[] = "agora-identity-v1 plain\0 9d61";
	assert_int_equal(proto_key_decode(&key, nul, sizeof(nul) - 1, NULL), PROTO_E_KEY);
}

static void test_key__encrypted_garbage_without_passphrase_is_key_error(void **state)
{
	/* Malformed encrypted files are reported as malformed, not as "needs a
	 * passphrase", so the user is not asked for one in vain. */
	static const char text[] = "agora-identity-v1 argon2id 2 67108864 zz 00 00\n";
	struct proto_key *key = NULL;

	assert_int_equal(proto_key_decode(&key, text, strlen(text), NULL), PROTO_E_KEY);
}

static void test_key__x25519_matches_scalarmult_base(void **state)
{
	struct proto_key *key = fixture_key(31);
	uint8_t xpk[32], xsk[32], derived[32], xpk2[32];

	assert_int_equal(proto_key_x25519(xpk, xsk, key), 0);
	assert_int_equal(crypto_scalarmult_base(derived, xsk), 0);
	assert_memory_equal(derived, xpk, 32);
	assert_int_equal(proto_pk_x25519(xpk2, key->pk), 0);
	assert_memory_equal(xpk2, xpk, 32);

	/* Two identities agree on a shared secret through the converted keys. */
	struct proto_key *other = fixture_key(32);
	uint8_t opk[32], osk[32], s1[32], s2[32];
	assert_int_equal(proto_key_x25519(opk, osk, other), 0);
	assert_int_equal(crypto_scalarmult(s1, xsk, opk), 0);
	assert_int_equal(crypto_scalarmult(s2, osk, xpk), 0);
	assert_memory_equal(s1, s2, 32);
	sodium_memzero(xsk, 32);
	sodium_memzero(osk, 32);
	proto_key_free(other);
	proto_key_free(key);
}

static void test_key__x25519_rejects_invalid_point(void **state)
{
	uint8_t bad[32], out[32];

	/* y = 2 is not on the curve. */
	memset(bad, 0, 32);
	bad[0] = 2;
	memset(out, 0x77, 32);
	assert_int_equal(proto_pk_x25519(out, bad), PROTO_E_KEY);
	assert_int_equal(out[0], 0x77);  /* untouched on failure */
}

static void test_key__generate_gives_distinct_working_keys(void **state)
{
	struct proto_key *a = NULL, *b = NULL;
	uint8_t sig[64];
	static const uint8_t msg[] = "klimaplan";

	assert_int_equal(proto_key_generate(&a), 0);
	assert_int_equal(proto_key_generate(&b), 0);
	assert_memory_not_equal(a->pk, b->pk, 32);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), a->sk);
	assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof(msg), a->pk), 0);
	assert_int_not_equal(crypto_sign_verify_detached(sig, msg, sizeof(msg), b->pk), 0);
	proto_key_free(a);
	proto_key_free(b);
	proto_key_free(NULL);
}

int key_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key__plain_round_trip),
		cmocka_unit_test(test_key__plain_file_matches_known_seed),
		cmocka_unit_test(test_key__passphrase_round_trip),
		cmocka_unit_test(test_key__garbage_rejected),
		cmocka_unit_test(test_key__encrypted_garbage_without_passphrase_is_key_error),
		cmocka_unit_test(test_key__x25519_matches_scalarmult_base),
		cmocka_unit_test(test_key__x25519_rejects_invalid_point),
		cmocka_unit_test(test_key__generate_gives_distinct_working_keys),
	};
	return cmocka_run_group_tests_name("key", tests, NULL, NULL);
}
