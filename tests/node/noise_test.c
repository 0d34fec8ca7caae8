/*
 * noise_test.c - the Noise engine against the public cacophony vectors, and
 * the agora XX handshake (identity payloads, tampering, bad keys, nonces).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>

#include "node/engine/frame.h"
#include "node/engine/noise.h"
#include "agora_example.h"

#ifndef AGORA_VECTORS_DIR
#error "AGORA_VECTORS_DIR must be defined by the build"
#endif

/* ---------------------------------------------------------- helpers */

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = strlen(hex) / 2;

	assert_true(n <= cap);
	assert_int_equal(sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &n, NULL), 0);
	return n;
}

/* Optional 32-byte hex field of a vector; NULL if absent. */
static const uint8_t *key_field(uint8_t buf[32], json_t *v, const char *name)
{
	json_t *f = json_object_get(v, name);

	if (!f)
		return NULL;
	assert_int_equal(unhex(buf, 32, json_string_value(f)), 32);
	return buf;
}

static const uint8_t *psk_field(uint8_t buf[32], json_t *v, const char *name)
{
	json_t *f = json_object_get(v, name);

	if (!f)
		return NULL;
	/* Every pattern here has one psk token, hence one psk. */
	assert_int_equal(json_array_size(f), 1);
	assert_int_equal(unhex(buf, 32, json_string_value(json_array_get(f, 0))), 32);
	return buf;
}

static void init_side(struct noise_handshake *hs, json_t *v, const char *side,
                      enum noise_role role)
{
	char name[64];
	uint8_t prologue[256], s[32], e[32], rs[32], psk[32];
	struct noise_keys keys;
	size_t plen;

	snprintf(name, sizeof name, "%s_prologue", side);
	plen = unhex(prologue, sizeof prologue, json_string_value(json_object_get(v, name)));
	snprintf(name, sizeof name, "%s_static", side);
	keys.s_sk = key_field(s, v, name);
	snprintf(name, sizeof name, "%s_ephemeral", side);
	keys.e_sk = key_field(e, v, name);
	snprintf(name, sizeof name, "%s_remote_static", side);
	keys.rs = key_field(rs, v, name);
	snprintf(name, sizeof name, "%s_psks", side);
	keys.psk = psk_field(psk, v, name);
	assert_int_equal(noise_handshake_init(hs,
	                 json_string_value(json_object_get(v, "protocol_name")),
	                 role, prologue, plen, &keys), 0);
}

static json_t *load_vectors(void)
{
	json_error_t err;
	json_t *root = json_load_file(AGORA_VECTORS_DIR "/noise/noise_25519_ChaChaPoly_BLAKE2b.json",
	                              0, &err);

	if (!root)
		fail_msg("vectors: %s line %d: %s", err.source, err.line, err.text);
	return json_object_get(root, "vectors") ? root : NULL;
}

/* ------------------------------------------------------ vector tests */

/* Runs one vector; returns the number of messages checked. */
static int run_vector(json_t *v)
{
	struct noise_handshake ini, resp;
	struct noise_cipher send[2], recv[2];
	uint8_t h[2][NOISE_HASH_BYTES], want_h[NOISE_HASH_BYTES];
	static uint8_t want_ct[NOISE_MSG_MAX], want_pt[NOISE_MSG_MAX];
	static uint8_t out[NOISE_MSG_MAX], pt[NOISE_MSG_MAX];
	json_t *msgs = json_object_get(v, "messages");
	const char *proto = json_string_value(json_object_get(v, "protocol_name"));
	bool split = false;
	size_t i;

	init_side(&ini, v, "init", NOISE_INITIATOR);
	init_side(&resp, v, "resp", NOISE_RESPONDER);
	assert_int_equal(unhex(want_h, sizeof want_h,
	                 json_string_value(json_object_get(v, "handshake_hash"))),
	                 NOISE_HASH_BYTES);

	for (i = 0; i < json_array_size(msgs); i++) {
		json_t *m = json_array_get(msgs, i);
		struct noise_handshake *w = i % 2 == 0 ? &ini : &resp;
		struct noise_handshake *r = i % 2 == 0 ? &resp : &ini;
		size_t ct_len = unhex(want_ct, sizeof want_ct,
		                      json_string_value(json_object_get(m, "ciphertext")));
		size_t pt_want = unhex(want_pt, sizeof want_pt,
		                       json_string_value(json_object_get(m, "payload")));
		size_t n, got;

		if (!split && noise_handshake_action(w) == NOISE_ACTION_SPLIT) {
			assert_int_equal(noise_handshake_action(r), NOISE_ACTION_SPLIT);
			assert_int_equal(noise_handshake_split(&send[0], &recv[0], h[0], &ini), 0);
			assert_int_equal(noise_handshake_split(&send[1], &recv[1], h[1], &resp), 0);
			if (memcmp(h[0], want_h, sizeof want_h) != 0 ||
			    memcmp(h[1], want_h, sizeof want_h) != 0)
				fail_msg("%s: handshake hash differs", proto);
			split = true;
		}
		if (!split) {
			assert_int_equal(noise_handshake_action(w), NOISE_ACTION_WRITE);
			assert_int_equal(noise_handshake_action(r), NOISE_ACTION_READ);
			assert_int_equal(noise_handshake_write(out, &n, sizeof out, w,
			                                       want_pt, pt_want), 0);
			assert_int_equal(noise_handshake_read(pt, &got, sizeof pt, r, out, n), 0);
		} else {
			int s = i % 2 == 0 ? 0 : 1;
			assert_int_equal(noise_cipher_encrypt(out, &n, sizeof out, &send[s], NULL, 0,
			                                      want_pt, pt_want), 0);
			assert_int_equal(noise_cipher_decrypt(pt, &got, sizeof pt, &recv[1 - s],
			                                      NULL, 0, out, n), 0);
		}
		if (n != ct_len || memcmp(out, want_ct, n) != 0)
			fail_msg("%s: message %zu ciphertext differs", proto, i);
		assert_int_equal(got, pt_want);
		assert_memory_equal(pt, want_pt, got);
	}
	assert_true(split);
	for (int s = 0; s < 2; s++) {
		noise_cipher_dispose(&send[s]);
		noise_cipher_dispose(&recv[s]);
	}
	noise_handshake_dispose(&ini);
	noise_handshake_dispose(&resp);
	return (int)i;
}

static void test_noise__every_vector_reproduces_on_both_sides(void **state)
{
	json_t *root = load_vectors();
	json_t *vs = json_object_get(root, "vectors");
	bool seen_xx = false;

	assert_int_equal(json_array_size(vs), 10);
	for (size_t i = 0; i < json_array_size(vs); i++) {
		json_t *v = json_array_get(vs, i);
		const char *name = json_string_value(json_object_get(v, "protocol_name"));

		assert_int_equal(run_vector(v), 6);
		if (strcmp(name, NOISE_AGORA_PROTOCOL) == 0)
			seen_xx = true;
	}
	assert_true(seen_xx);
	json_decref(root);
}

static void test_noise__unknown_protocol_names_are_refused(void **state)
{
	static const char *bad[] = {
		"Noise_XX_25519_AESGCM_SHA256", "Noise_ZZ_25519_ChaChaPoly_BLAKE2b",
		"Noise_XXpsk4_25519_ChaChaPoly_BLAKE2b", "Noise_XXpsk_25519_ChaChaPoly_BLAKE2b",
		"Noise_XXpsk0psk3_25519_ChaChaPoly_BLAKE2b", "Noise__25519_ChaChaPoly_BLAKE2b",
		"XX", "",
	};
	struct noise_handshake hs;
	uint8_t sk[32] = { 1 }, psk[32] = { 2 };
	struct noise_keys keys = { .s_sk = sk, .psk = psk };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(noise_handshake_init(&hs, bad[i], NOISE_INITIATOR, NULL, 0, &keys),
		                 NOISE_E_PROTOCOL);
		assert_int_equal(noise_handshake_action(&hs), NOISE_ACTION_FAILED);
		noise_handshake_dispose(&hs);
	}
}

static void test_noise__missing_keys_are_refused_at_init(void **state)
{
	struct noise_handshake hs;
	uint8_t k[32] = { 7 };
	struct noise_keys only_s = { .s_sk = k }, with_rs = { .s_sk = k, .rs = k };

	assert_int_equal(noise_handshake_init(&hs, NOISE_AGORA_PROTOCOL, NOISE_INITIATOR,
	                                      NULL, 0, NULL), NOISE_E_KEY);
	assert_int_equal(noise_handshake_init(&hs, "Noise_IK_25519_ChaChaPoly_BLAKE2b",
	                                      NOISE_INITIATOR, NULL, 0, &only_s), NOISE_E_KEY);
	assert_int_equal(noise_handshake_init(&hs, "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b",
	                                      NOISE_INITIATOR, NULL, 0, &only_s), NOISE_E_KEY);
	assert_int_equal(noise_handshake_init(&hs, NOISE_AGORA_PROTOCOL, NOISE_INITIATOR,
	                                      NULL, 0, &with_rs), NOISE_E_ARG);
	/* NN needs no key at all. */
	assert_int_equal(noise_handshake_init(&hs, "Noise_NN_25519_ChaChaPoly_BLAKE2b",
	                                      NOISE_RESPONDER, NULL, 0, NULL), 0);
	assert_int_equal(noise_handshake_action(&hs), NOISE_ACTION_READ);
	noise_handshake_dispose(&hs);
}

/* ------------------------------------------------------ agora helpers */

struct ident {
	uint8_t pk[32];
	uint8_t sk[64];
};

static void ident_from_byte(struct ident *id, uint8_t first)
{
	uint8_t seed[32];

	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(first + i);
	crypto_sign_seed_keypair(id->pk, id->sk, seed);
}

static void fixed_bytes(uint8_t out[32], uint8_t first)
{
	for (int i = 0; i < 32; i++)
		out[i] = (uint8_t)(first + i);
}

struct pair {
	struct noise_agora ini, resp;
	uint8_t m1[NOISE_MSG_MAX], m2[NOISE_MSG_MAX], m3[NOISE_MSG_MAX];
	size_t m1_len, m2_len, m3_len;
};

/* The deterministic example of PROTOCOL.md section 3. */
static void pair_init_example(struct pair *p)
{
	struct ident a, b;
	uint8_t ea[32], eb[32];

	ident_from_byte(&a, 0x00);
	ident_from_byte(&b, 0x20);
	fixed_bytes(ea, 0x40);
	fixed_bytes(eb, 0x60);
	assert_int_equal(noise_agora_init(&p->ini, NOISE_INITIATOR, a.pk, a.sk, ea), 0);
	assert_int_equal(noise_agora_init(&p->resp, NOISE_RESPONDER, b.pk, b.sk, eb), 0);
}

static void pair_dispose(struct pair *p)
{
	noise_agora_dispose(&p->ini);
	noise_agora_dispose(&p->resp);
}

static void assert_hex(const uint8_t *bytes, size_t len, const char *want)
{
	char *hex = malloc(2 * len + 1);

	sodium_bin2hex(hex, 2 * len + 1, bytes, len);
	if (strcmp(hex, want) != 0)
		fail_msg("got  %s\nwant %s", hex, want);
	free(hex);
}

/* ------------------------------------------------------- agora tests */

static void test_noise_agora__handshake_matches_the_documented_example(void **state)
{
	struct pair *p = calloc(1, sizeof *p);
	struct noise_cipher is, ir, rs, rr;
	uint8_t ih[64], rh[64], ipk[32], rpk[32];
	struct ident a, b;
	uint8_t frame[256], hello[] = "hello, Assens";
	size_t n;

	pair_init_example(p);
	ident_from_byte(&a, 0x00);
	ident_from_byte(&b, 0x20);
	assert_hex(a.pk, 32, EXAMPLE_ED_PK_I);
	assert_hex(b.pk, 32, EXAMPLE_ED_PK_R);

	assert_int_equal(noise_agora_action(&p->ini), NOISE_ACTION_WRITE);
	assert_int_equal(noise_agora_action(&p->resp), NOISE_ACTION_READ);
	assert_int_equal(noise_agora_write(p->m1, &p->m1_len, sizeof p->m1, &p->ini), 0);
	assert_int_equal(p->m1_len, NOISE_AGORA_MSG1_BYTES);
	assert_hex(p->m1, p->m1_len, EXAMPLE_MSG1);
	assert_int_equal(noise_agora_read(&p->resp, p->m1, p->m1_len), 0);

	assert_int_equal(noise_agora_write(p->m2, &p->m2_len, sizeof p->m2, &p->resp), 0);
	assert_int_equal(p->m2_len, NOISE_AGORA_MSG2_BYTES);
	assert_hex(p->m2, p->m2_len, EXAMPLE_MSG2);
	assert_int_equal(noise_agora_read(&p->ini, p->m2, p->m2_len), 0);

	assert_int_equal(noise_agora_write(p->m3, &p->m3_len, sizeof p->m3, &p->ini), 0);
	assert_int_equal(p->m3_len, NOISE_AGORA_MSG3_BYTES);
	assert_hex(p->m3, p->m3_len, EXAMPLE_MSG3);
	assert_int_equal(noise_agora_read(&p->resp, p->m3, p->m3_len), 0);

	assert_int_equal(noise_agora_action(&p->ini), NOISE_ACTION_SPLIT);
	assert_int_equal(noise_agora_action(&p->resp), NOISE_ACTION_SPLIT);
	assert_int_equal(noise_agora_split(&is, &ir, rpk, ih, &p->ini), 0);
	assert_int_equal(noise_agora_split(&rs, &rr, ipk, rh, &p->resp), 0);
	assert_memory_equal(ih, rh, 64);
	assert_hex(ih, 64, EXAMPLE_HASH);
	assert_memory_equal(rpk, b.pk, 32);
	assert_memory_equal(ipk, a.pk, 32);
	assert_int_equal(noise_agora_action(&p->ini), NOISE_ACTION_NONE);

	/* First app message from the initiator, framed. */
	assert_int_equal(frame_encode(frame, &n, sizeof frame, &is, hello, sizeof hello - 1), 0);
	assert_int_equal(n, frame_encoded_size(sizeof hello - 1));
	assert_hex(frame, n, EXAMPLE_APP1);

	noise_cipher_dispose(&is);
	noise_cipher_dispose(&ir);
	noise_cipher_dispose(&rs);
	noise_cipher_dispose(&rr);
	pair_dispose(p);
	free(p);
}

/* Full handshake with random ephemerals, then app messages both ways. */
static void test_noise_agora__completes_and_exchanges_messages_both_ways(void **state)
{
	struct ident a, b;
	struct noise_agora ini, resp;
	struct noise_cipher cs[4];
	struct frame_decoder dec[2];
	uint8_t buf[NOISE_MSG_MAX], rpk[2][32];
	size_t n;
	uint8_t *big = malloc(200000);
	uint8_t *wire = malloc(frame_encoded_size(200000));

	ident_from_byte(&a, 0x11);
	ident_from_byte(&b, 0x99);
	assert_int_equal(noise_agora_init(&ini, NOISE_INITIATOR, a.pk, a.sk, NULL), 0);
	assert_int_equal(noise_agora_init(&resp, NOISE_RESPONDER, b.pk, b.sk, NULL), 0);
	assert_int_equal(noise_agora_write(buf, &n, sizeof buf, &ini), 0);
	assert_int_equal(noise_agora_read(&resp, buf, n), 0);
	assert_int_equal(noise_agora_write(buf, &n, sizeof buf, &resp), 0);
	assert_int_equal(noise_agora_read(&ini, buf, n), 0);
	assert_int_equal(noise_agora_write(buf, &n, sizeof buf, &ini), 0);
	assert_int_equal(noise_agora_read(&resp, buf, n), 0);
	assert_int_equal(noise_agora_split(&cs[0], &cs[1], rpk[0], NULL, &ini), 0);
	assert_int_equal(noise_agora_split(&cs[2], &cs[3], rpk[1], NULL, &resp), 0);
	assert_memory_equal(rpk[0], b.pk, 32);
	assert_memory_equal(rpk[1], a.pk, 32);

	/* initiator -> responder uses cs[0] -> cs[3]; back is cs[2] -> cs[1]. */
	assert_int_equal(frame_decoder_init(&dec[0], &cs[3], 0), 0);
	assert_int_equal(frame_decoder_init(&dec[1], &cs[1], 0), 0);
	for (size_t i = 0; i < 200000; i++)
		big[i] = (uint8_t)(i * 7);
	for (int dir = 0; dir < 2; dir++) {
		struct noise_cipher *send = dir == 0 ? &cs[0] : &cs[2];
		size_t sizes[] = { 0, 1, 1000, FRAME_CHUNK_MAX - 4, FRAME_CHUNK_MAX - 3, 200000 };

		for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
			uint8_t *msg;
			size_t len, used;

			assert_int_equal(frame_encode(wire, &n, frame_encoded_size(200000), send,
			                              big, sizes[k]), 0);
			assert_int_equal(n, frame_encoded_size(sizes[k]));
			assert_int_equal(frame_decoder_next(&msg, &len, &used, &dec[dir], wire, n), 0);
			assert_int_equal(used, n);
			assert_int_equal(len, sizes[k]);
			assert_memory_equal(msg, big, len);
			free(msg);
			assert_int_equal(frame_decoder_next(&msg, &len, &used, &dec[dir], NULL, 0),
			                 FRAME_E_AGAIN);
		}
	}
	frame_decoder_dispose(&dec[0]);
	frame_decoder_dispose(&dec[1]);
	for (int i = 0; i < 4; i++)
		noise_cipher_dispose(&cs[i]);
	noise_agora_dispose(&ini);
	noise_agora_dispose(&resp);
	free(big);
	free(wire);
}

/*
 * A responder whose Ed25519 payload names someone else: built with the
 * generic engine, static key from `real`, payload `claimed`.
 */
static void init_liar(struct noise_handshake *hs, enum noise_role role,
                      const struct ident *real)
{
	uint8_t x_sk[32];
	struct noise_keys keys = { 0 };

	assert_int_equal(crypto_sign_ed25519_sk_to_curve25519(x_sk, real->sk), 0);
	keys.s_sk = x_sk;
	assert_int_equal(noise_handshake_init(hs, NOISE_AGORA_PROTOCOL, role,
	                 (const uint8_t *)NOISE_AGORA_PROLOGUE,
	                 strlen(NOISE_AGORA_PROLOGUE), &keys), 0);
}

static void test_noise_agora__responder_payload_key_mismatch_is_identity_error(void **state)
{
	struct ident a, b, c;
	struct noise_agora ini;
	struct noise_handshake liar;
	uint8_t buf[512], pt[64];
	size_t n, got;

	ident_from_byte(&a, 1);
	ident_from_byte(&b, 2);
	ident_from_byte(&c, 3);
	assert_int_equal(noise_agora_init(&ini, NOISE_INITIATOR, a.pk, a.sk, NULL), 0);
	init_liar(&liar, NOISE_RESPONDER, &b);
	assert_int_equal(noise_agora_write(buf, &n, sizeof buf, &ini), 0);
	assert_int_equal(noise_handshake_read(pt, &got, sizeof pt, &liar, buf, n), 0);
	assert_int_equal(noise_handshake_write(buf, &n, sizeof buf, &liar, c.pk, 32), 0);
	assert_int_equal(noise_agora_read(&ini, buf, n), NOISE_E_IDENTITY);
	assert_int_equal(noise_agora_action(&ini), NOISE_ACTION_FAILED);
	/* A failed handshake stays failed. */
	assert_int_equal(noise_agora_write(buf, &n, sizeof buf, &ini), NOISE_E_STATE);
	noise_agora_dispose(&ini);
	noise_handshake_dispose(&liar);
}

static void test_noise_agora__initiator_payload_key_mismatch_is_identity_error(void **state)
{
	struct ident a, b, c;
	struct noise_agora resp;
	struct noise_handshake liar;
	uint8_t buf[512], pt[64];
	size_t n, got;

	ident_from_byte(&a, 1);
	ident_from_byte(&b, 2);
	ident_from_byte(&c, 3);
	init_liar(&liar, NOISE_INITIATOR, &a);
	assert_int_equal(noise_agora_init(&resp, NOISE_RESPONDER, b.pk, b.sk, NULL), 0);
	assert_int_equal(noise_handshake_write(buf, &n, sizeof buf, &liar, NULL, 0), 0);
	assert_int_equal(noise_agora_read(&resp, buf, n), 0);
	assert_int_equal(noise_agora_write(buf, &n, sizeof buf, &resp), 0);
	assert_int_equal(noise_handshake_read(pt, &got, sizeof pt, &liar, buf, n), 0);
	assert_int_equal(got, 32);
	assert_memory_equal(pt, b.pk, 32);
	assert_int_equal(noise_handshake_write(buf, &n, sizeof buf, &liar, c.pk, 32), 0);
	assert_int_equal(noise_agora_read(&resp, buf, n), NOISE_E_IDENTITY);
	assert_int_equal(noise_agora_action(&resp), NOISE_ACTION_FAILED);
	noise_agora_dispose(&resp);
	noise_handshake_dispose(&liar);
}

static void test_noise_agora__wrong_payload_sizes_are_refused(void **state)
{
	struct ident a, b;
	struct noise_agora resp, ini;
	struct noise_handshake liar;
	uint8_t buf[512], pt[64], junk[33] = { 0 };
	size_t n, got;

	ident_from_byte(&a, 1);
	ident_from_byte(&b, 2);
	/* Message 1 with a payload. */
	init_liar(&liar, NOISE_INITIATOR, &a);
	assert_int_equal(noise_agora_init(&resp, NOISE_RESPONDER, b.pk, b.sk, NULL), 0);
	assert_int_equal(noise_handshake_write(buf, &n, sizeof buf, &liar, junk, 1), 0);
	assert_int_equal(noise_agora_read(&resp, buf, n), NOISE_E_PAYLOAD);
	noise_agora_dispose(&resp);
	noise_handshake_dispose(&liar);
	/* Message 2 with 33 bytes and with 31 bytes. */
	for (size_t len = 31; len <= 33; len += 2) {
		assert_int_equal(noise_agora_init(&ini, NOISE_INITIATOR, a.pk, a.sk, NULL), 0);
		init_liar(&liar, NOISE_RESPONDER, &b);
		assert_int_equal(noise_agora_write(buf, &n, sizeof buf, &ini), 0);
		assert_int_equal(noise_handshake_read(pt, &got, sizeof pt, &liar, buf, n), 0);
		assert_int_equal(noise_handshake_write(buf, &n, sizeof buf, &liar, b.pk, len), 0);
		assert_int_equal(noise_agora_read(&ini, buf, n), NOISE_E_PAYLOAD);
		noise_agora_dispose(&ini);
		noise_handshake_dispose(&liar);
	}
}

/* Flip every byte of message 2 and of message 3 in turn: each is refused. */
static void test_noise_agora__tampered_handshake_bytes_are_rejected(void **state)
{
	struct pair *base = calloc(1, sizeof *base), *p = calloc(1, sizeof *p);
	uint8_t bad[NOISE_MSG_MAX];
	size_t n;

	pair_init_example(base);
	assert_int_equal(noise_agora_write(base->m1, &base->m1_len, sizeof base->m1, &base->ini), 0);
	assert_int_equal(noise_agora_read(&base->resp, base->m1, base->m1_len), 0);
	assert_int_equal(noise_agora_write(base->m2, &base->m2_len, sizeof base->m2, &base->resp), 0);

	for (size_t i = 0; i < base->m2_len; i++) {
		*p = *base;
		memcpy(bad, base->m2, base->m2_len);
		bad[i] ^= 0x01;
		int rc = noise_agora_read(&p->ini, bad, base->m2_len);
		/* The ephemeral bytes are not authenticated by themselves, but
		 * every later tag covers h, which covers them. */
		assert_true(rc == NOISE_E_DECRYPT || rc == NOISE_E_DH);
		assert_int_equal(noise_agora_action(&p->ini), NOISE_ACTION_FAILED);
	}
	/* Truncated and extended message 2. */
	*p = *base;
	assert_int_equal(noise_agora_read(&p->ini, base->m2, base->m2_len - 1), NOISE_E_DECRYPT);
	*p = *base;
	assert_int_equal(noise_agora_read(&p->ini, base->m2, 40), NOISE_E_SHORT);
	*p = *base;
	memcpy(bad, base->m2, base->m2_len);
	bad[base->m2_len] = 0;
	assert_int_equal(noise_agora_read(&p->ini, bad, base->m2_len + 1), NOISE_E_PAYLOAD);

	assert_int_equal(noise_agora_read(&base->ini, base->m2, base->m2_len), 0);
	assert_int_equal(noise_agora_write(base->m3, &base->m3_len, sizeof base->m3, &base->ini), 0);
	for (size_t i = 0; i < base->m3_len; i++) {
		*p = *base;
		memcpy(bad, base->m3, base->m3_len);
		bad[i] ^= 0x80;
		assert_int_equal(noise_agora_read(&p->resp, bad, base->m3_len), NOISE_E_DECRYPT);
	}
	/* Tampering with message 1 surfaces when message 2 is read. */
	pair_dispose(p);
	pair_init_example(p);
	assert_int_equal(noise_agora_write(p->m1, &p->m1_len, sizeof p->m1, &p->ini), 0);
	p->m1[5] ^= 0x04;
	assert_int_equal(noise_agora_read(&p->resp, p->m1, p->m1_len), 0);
	assert_int_equal(noise_agora_write(p->m2, &p->m2_len, sizeof p->m2, &p->resp), 0);
	assert_int_equal(noise_agora_read(&p->ini, p->m2, p->m2_len), NOISE_E_DECRYPT);
	(void)n;
	pair_dispose(p);
	pair_dispose(base);
	free(p);
	free(base);
}

/* The points libsodium's X25519 maps to an all-zero result. */
static const char *small_order[] = {
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

static void test_noise_agora__small_order_ephemeral_from_peer_aborts(void **state)
{
	struct pair *p = calloc(1, sizeof *p);
	uint8_t bad[NOISE_MSG_MAX];
	size_t n;

	for (size_t k = 0; k < sizeof small_order / sizeof small_order[0]; k++) {
		/* As responder: the initiator's e is bad; ee fails when we write. */
		pair_init_example(p);
		unhex(bad, sizeof bad, small_order[k]);
		assert_int_equal(noise_agora_read(&p->resp, bad, 32), 0);
		assert_int_equal(noise_agora_write(p->m2, &n, sizeof p->m2, &p->resp), NOISE_E_DH);
		assert_int_equal(noise_agora_action(&p->resp), NOISE_ACTION_FAILED);
		pair_dispose(p);

		/* As initiator: the responder's e in message 2 is bad. */
		pair_init_example(p);
		assert_int_equal(noise_agora_write(p->m1, &p->m1_len, sizeof p->m1, &p->ini), 0);
		assert_int_equal(noise_agora_read(&p->resp, p->m1, p->m1_len), 0);
		assert_int_equal(noise_agora_write(p->m2, &p->m2_len, sizeof p->m2, &p->resp), 0);
		memcpy(bad, p->m2, p->m2_len);
		unhex(bad, 32, small_order[k]);
		assert_int_equal(noise_agora_read(&p->ini, bad, p->m2_len), NOISE_E_DH);
		assert_int_equal(noise_agora_action(&p->ini), NOISE_ACTION_FAILED);
		pair_dispose(p);
	}
	free(p);
}

static void test_noise_agora__wrong_turn_is_a_state_error(void **state)
{
	struct pair *p = calloc(1, sizeof *p);
	struct noise_cipher s, r;
	uint8_t pk[32];

	pair_init_example(p);
	assert_int_equal(noise_agora_read(&p->ini, p->m1, 32), NOISE_E_STATE);
	assert_int_equal(noise_agora_write(p->m1, &p->m1_len, sizeof p->m1, &p->resp),
	                 NOISE_E_STATE);
	assert_int_equal(noise_agora_split(&s, &r, pk, NULL, &p->ini), NOISE_E_STATE);
	/* A wrong turn does not spoil the handshake. */
	assert_int_equal(noise_agora_action(&p->ini), NOISE_ACTION_WRITE);
	pair_dispose(p);
	free(p);
}

static void test_noise_agora__small_output_buffer_changes_nothing(void **state)
{
	struct pair *p = calloc(1, sizeof *p);
	uint8_t pt[8];
	size_t n;

	pair_init_example(p);
	assert_int_equal(noise_agora_write(p->m1, &n, 31, &p->ini), NOISE_E_BUFFER);
	assert_int_equal(noise_agora_action(&p->ini), NOISE_ACTION_WRITE);
	assert_int_equal(noise_agora_write(p->m1, &p->m1_len, sizeof p->m1, &p->ini), 0);
	assert_hex(p->m1, p->m1_len, EXAMPLE_MSG1);
	assert_int_equal(noise_agora_read(&p->resp, p->m1, p->m1_len), 0);
	for (size_t cap = 0; cap < NOISE_AGORA_MSG2_BYTES; cap += 40) {
		assert_int_equal(noise_agora_write(p->m2, &n, cap, &p->resp), NOISE_E_BUFFER);
		assert_int_equal(noise_agora_action(&p->resp), NOISE_ACTION_WRITE);
	}
	assert_int_equal(noise_agora_write(p->m2, &p->m2_len, sizeof p->m2, &p->resp), 0);
	assert_hex(p->m2, p->m2_len, EXAMPLE_MSG2);
	/* Reading with too small a payload buffer (generic engine). */
	assert_int_equal(noise_handshake_read(pt, &n, sizeof pt, &p->ini.hs, p->m2, p->m2_len),
	                 NOISE_E_BUFFER);
	assert_int_equal(noise_agora_action(&p->ini), NOISE_ACTION_READ);
	assert_int_equal(noise_agora_read(&p->ini, p->m2, p->m2_len), 0);
	pair_dispose(p);
	free(p);
}

static void test_noise_agora__payload_that_is_not_an_ed25519_key_is_identity_error(void **state)
{
	struct ident a, b;
	struct noise_agora ini;
	struct noise_handshake liar;
	uint8_t buf[512], pt[64], zero[32] = { 0 };
	size_t n, got;

	ident_from_byte(&a, 1);
	ident_from_byte(&b, 2);
	assert_int_equal(noise_agora_init(&ini, NOISE_INITIATOR, a.pk, a.sk, NULL), 0);
	init_liar(&liar, NOISE_RESPONDER, &b);
	assert_int_equal(noise_agora_write(buf, &n, sizeof buf, &ini), 0);
	assert_int_equal(noise_handshake_read(pt, &got, sizeof pt, &liar, buf, n), 0);
	assert_int_equal(noise_handshake_write(buf, &n, sizeof buf, &liar, zero, 32), 0);
	assert_int_equal(noise_agora_read(&ini, buf, n), NOISE_E_IDENTITY);
	noise_agora_dispose(&ini);
	noise_handshake_dispose(&liar);
}

static void test_noise_agora__secret_key_must_match_public_key(void **state)
{
	struct ident a, b;
	struct noise_agora ag;

	ident_from_byte(&a, 1);
	ident_from_byte(&b, 2);
	assert_int_equal(noise_agora_init(&ag, NOISE_INITIATOR, a.pk, b.sk, NULL), NOISE_E_ARG);
	noise_agora_dispose(&ag);
}

/* ----------------------------------------------------- cipher tests */

static void test_noise_cipher__refuses_the_reserved_last_nonce(void **state)
{
	struct noise_cipher a, b;
	uint8_t k[32], ct[64], pt[64];
	size_t n, m;

	fixed_bytes(k, 9);
	noise_cipher_init(&a, k);
	noise_cipher_init(&b, k);
	noise_cipher_set_nonce_for_test(&a, UINT64_MAX - 1);
	noise_cipher_set_nonce_for_test(&b, UINT64_MAX - 1);
	assert_int_equal(noise_cipher_encrypt(ct, &n, sizeof ct, &a, NULL, 0,
	                                      (const uint8_t *)"x", 1), 0);
	assert_int_equal(noise_cipher_decrypt(pt, &m, sizeof pt, &b, NULL, 0, ct, n), 0);
	assert_int_equal(noise_cipher_nonce(&a), UINT64_MAX);
	/* 2^64-1 itself is never used, in either direction. */
	assert_int_equal(noise_cipher_encrypt(ct, &n, sizeof ct, &a, NULL, 0,
	                                      (const uint8_t *)"x", 1), NOISE_E_NONCE);
	assert_int_equal(noise_cipher_decrypt(pt, &m, sizeof pt, &b, NULL, 0, ct, n),
	                 NOISE_E_NONCE);
	assert_int_equal(noise_cipher_nonce(&a), UINT64_MAX);
	assert_true(noise_is_fatal(NOISE_E_NONCE));
	noise_cipher_dispose(&a);
	noise_cipher_dispose(&b);
}

static void test_noise_cipher__tampered_or_replayed_transport_is_rejected(void **state)
{
	struct noise_cipher a, b;
	uint8_t k[32], ct[64], bad[64], pt[64];
	size_t n, m;

	fixed_bytes(k, 3);
	noise_cipher_init(&a, k);
	noise_cipher_init(&b, k);
	assert_int_equal(noise_cipher_encrypt(ct, &n, sizeof ct, &a, NULL, 0,
	                                      (const uint8_t *)"record", 6), 0);
	for (size_t i = 0; i < n; i++) {
		memcpy(bad, ct, n);
		bad[i] ^= 0x20;
		assert_int_equal(noise_cipher_decrypt(pt, &m, sizeof pt, &b, NULL, 0, bad, n),
		                 NOISE_E_DECRYPT);
		assert_int_equal(noise_cipher_nonce(&b), 0);
	}
	assert_int_equal(noise_cipher_decrypt(pt, &m, sizeof pt, &b, NULL, 0, ct, n), 0);
	/* The same bytes again are under the next nonce: refused. */
	assert_int_equal(noise_cipher_decrypt(pt, &m, sizeof pt, &b, NULL, 0, ct, n),
	                 NOISE_E_DECRYPT);
	assert_int_equal(noise_cipher_decrypt(pt, &m, sizeof pt, &b, NULL, 0, ct, 15),
	                 NOISE_E_DECRYPT);
	noise_cipher_dispose(&a);
	noise_cipher_dispose(&b);
}

static void test_noise_cipher__rekey_changes_key_in_step_on_both_sides(void **state)
{
	struct noise_cipher a, b;
	uint8_t k[32], ct[64], pt[64];
	size_t n, m;

	fixed_bytes(k, 5);
	noise_cipher_init(&a, k);
	noise_cipher_init(&b, k);
	assert_int_equal(noise_cipher_rekey(&a), 0);
	assert_int_equal(noise_cipher_encrypt(ct, &n, sizeof ct, &a, NULL, 0,
	                                      (const uint8_t *)"abc", 3), 0);
	/* Not yet rekeyed: old key fails. */
	struct noise_cipher old = b;
	assert_int_equal(noise_cipher_decrypt(pt, &m, sizeof pt, &old, NULL, 0, ct, n),
	                 NOISE_E_DECRYPT);
	assert_int_equal(noise_cipher_rekey(&b), 0);
	assert_int_equal(noise_cipher_decrypt(pt, &m, sizeof pt, &b, NULL, 0, ct, n), 0);
	assert_memory_equal(pt, "abc", 3);
	noise_cipher_init(&old, NULL);
	assert_int_equal(noise_cipher_rekey(&old), NOISE_E_STATE);
	noise_cipher_dispose(&a);
	noise_cipher_dispose(&b);
}

static void test_noise_cipher__oversized_plaintext_is_refused(void **state)
{
	struct noise_cipher a;
	uint8_t k[32];
	static uint8_t big[NOISE_MSG_MAX + 1], out[NOISE_MSG_MAX + 17];
	size_t n;

	fixed_bytes(k, 1);
	noise_cipher_init(&a, k);
	assert_int_equal(noise_cipher_encrypt(out, &n, sizeof out, &a, NULL, 0, big,
	                                      NOISE_PLAINTEXT_MAX + 1), NOISE_E_TOO_BIG);
	assert_int_equal(noise_cipher_encrypt(out, &n, NOISE_PLAINTEXT_MAX, &a, NULL, 0, big,
	                                      NOISE_PLAINTEXT_MAX), NOISE_E_BUFFER);
	assert_int_equal(noise_cipher_encrypt(out, &n, sizeof out, &a, NULL, 0, big,
	                                      NOISE_PLAINTEXT_MAX), 0);
	assert_int_equal(n, NOISE_MSG_MAX);
	assert_int_equal(noise_cipher_nonce(&a), 1);
	noise_cipher_dispose(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_noise__every_vector_reproduces_on_both_sides),
		cmocka_unit_test(test_noise__unknown_protocol_names_are_refused),
		cmocka_unit_test(test_noise__missing_keys_are_refused_at_init),
		cmocka_unit_test(test_noise_agora__handshake_matches_the_documented_example),
		cmocka_unit_test(test_noise_agora__completes_and_exchanges_messages_both_ways),
		cmocka_unit_test(test_noise_agora__responder_payload_key_mismatch_is_identity_error),
		cmocka_unit_test(test_noise_agora__initiator_payload_key_mismatch_is_identity_error),
		cmocka_unit_test(test_noise_agora__wrong_payload_sizes_are_refused),
		cmocka_unit_test(test_noise_agora__tampered_handshake_bytes_are_rejected),
		cmocka_unit_test(test_noise_agora__small_order_ephemeral_from_peer_aborts),
		cmocka_unit_test(test_noise_agora__wrong_turn_is_a_state_error),
		cmocka_unit_test(test_noise_agora__small_output_buffer_changes_nothing),
		cmocka_unit_test(test_noise_agora__payload_that_is_not_an_ed25519_key_is_identity_error),
		cmocka_unit_test(test_noise_agora__secret_key_must_match_public_key),
		cmocka_unit_test(test_noise_cipher__refuses_the_reserved_last_nonce),
		cmocka_unit_test(test_noise_cipher__tampered_or_replayed_transport_is_rejected),
		cmocka_unit_test(test_noise_cipher__rekey_changes_key_in_step_on_both_sides),
		cmocka_unit_test(test_noise_cipher__oversized_plaintext_is_refused),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
