/*
 * fuzz_handshake.c - random bytes as agora handshake messages.
 *
 * Byte 0 mod 3 picks the message the rest of the input replaces:
 *   0  message 1, read by a responder (which then writes message 2),
 *   1  message 3, read by a responder after a genuine message 1,
 *   2  message 2, read by an initiator after its genuine message 1.
 * Both sides use the fixed keys of the documented example, so the seed
 * corpus (the example's own messages) reaches the success paths.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/engine/noise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct side {
	uint8_t pk[32], sk[64], e[32];
};

static void side_make(struct side *s, uint8_t seed0, uint8_t e0)
{
	uint8_t seed[32];

	for (int i = 0; i < 32; i++) {
		seed[i] = (uint8_t)(seed0 + i);
		s->e[i] = (uint8_t)(e0 + i);
	}
	crypto_sign_seed_keypair(s->pk, s->sk, seed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct side a, b;
	struct noise_agora ini, resp;
	uint8_t buf[NOISE_MSG_MAX];
	size_t n;
	int mode, rc;

	if (!ready) {
		if (sodium_init() < 0)
			abort();
		ready = 1;
	}
	if (size < 1)
		return 0;
	mode = data[0] % 3;
	data++;
	size--;
	side_make(&a, 0x00, 0x40);
	side_make(&b, 0x20, 0x60);
	if (noise_agora_init(&ini, NOISE_INITIATOR, a.pk, a.sk, a.e) != 0 ||
	    noise_agora_init(&resp, NOISE_RESPONDER, b.pk, b.sk, b.e) != 0)
		abort();

	if (mode == 0) {
		rc = noise_agora_read(&resp, data, size);
		if (rc == 0) {
			rc = noise_agora_write(buf, &n, sizeof buf, &resp);
			if (rc == 0 && n != NOISE_AGORA_MSG2_BYTES)
				abort();
		}
		if (rc < 0 && noise_agora_action(&resp) != NOISE_ACTION_FAILED)
			abort();
		goto out;
	}
	if (noise_agora_write(buf, &n, sizeof buf, &ini) != 0 ||
	    noise_agora_read(&resp, buf, n) != 0 ||
	    noise_agora_write(buf, &n, sizeof buf, &resp) != 0)
		abort();
	if (mode == 1) {
		rc = noise_agora_read(&resp, data, size);
		if (rc == 0) {
			struct noise_cipher s, r;
			uint8_t pk[32];

			/* Only the genuine initiator's key can get here. */
			if (noise_agora_split(&s, &r, pk, NULL, &resp) != 0 ||
			    memcmp(pk, a.pk, 32) != 0)
				abort();
			noise_cipher_dispose(&s);
			noise_cipher_dispose(&r);
		} else if (noise_agora_action(&resp) != NOISE_ACTION_FAILED) {
			abort();
		}
	} else {
		rc = noise_agora_read(&ini, data, size);
		if (rc == 0) {
			if (noise_agora_write(buf, &n, sizeof buf, &ini) != 0 ||
			    n != NOISE_AGORA_MSG3_BYTES)
				abort();
		} else if (noise_agora_action(&ini) != NOISE_ACTION_FAILED) {
			abort();
		}
	}
out:
	noise_agora_dispose(&ini);
	noise_agora_dispose(&resp);
	return 0;
}
