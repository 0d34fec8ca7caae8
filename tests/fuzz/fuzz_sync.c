/*
 * fuzz_sync.c - the sync engine's message decoder and exchange logic
 * (node/engine/sync.c) against arbitrary peer messages.  The engine first gets a
 * valid Hello (so the fuzzer reaches every message), then each input is
 * cut into messages as [2-byte big-endian length][bytes]...
 * Properties: whatever a peer sends, every message the engine sends back
 * is a well-formed wire Message, and every batch of records it hands to
 * the store is whole (at least one, each of 1..PROTO_ENVELOPE_MAX bytes,
 * seq from 1 up).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/engine/sync.h"
#include "proto/proto.h"
#include "wire.pb-c.h"

static uint8_t env[64];

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "fuzz_sync: %s\n", #x); abort(); } } while (0)

static int io_send(void *ctx, const uint8_t *msg, size_t len)
{
	Agora__Wire__Message *m = agora__wire__message__unpack(NULL, len, msg);
	(void)ctx;
	CHECK(m && m->msg_case != AGORA__WIRE__MESSAGE__MSG__NOT_SET);
	agora__wire__message__free_unpacked(m, NULL);
	return 0;
}

static int io_read(void *ctx, const uint8_t alliance[32], const uint8_t author[32],
                   uint64_t seq, const uint8_t **e, size_t *len)
{
	(void)ctx;
	(void)alliance;
	(void)author;
	(void)seq;
	*e = env;
	*len = sizeof(env);
	return 0;
}

static int io_records(void *ctx, const uint8_t alliance[32], const uint8_t author[32],
                      uint64_t first_seq, const uint8_t *const *envs, const size_t *lens,
                      size_t n)
{
	(void)ctx;
	(void)alliance;
	(void)author;
	CHECK(n >= 1 && first_seq >= 1 && first_seq + n > first_seq);
	for (size_t i = 0; i < n; i++)
		CHECK(envs[i] && lens[i] >= 1 && lens[i] <= PROTO_ENVELOPE_MAX);
	return 0;
}

static int io_fork(void *ctx, const uint8_t alliance[32], const uint8_t author[32], uint64_t seq,
                   const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
	(void)ctx; (void)alliance; (void)author; (void)seq; (void)a; (void)la; (void)b; (void)lb;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t self[32] = { 1 }, peer[32] = { 2 };
	struct sync_head heads[40];
	struct sync_lvec lv;
	struct sync_local local = { &lv, 1 };
	struct sync_io io = { NULL, io_send, io_read, io_records, NULL, io_fork };
	struct sync s;

	memset(&lv, 0, sizeof(lv));
	memset(lv.alliance, 0xa1, 32);
	for (int i = 0; i < 40; i++) {   /* sorted authors spread over the key space */
		memset(&heads[i], 0, sizeof(heads[i]));
		heads[i].author[0] = (uint8_t)(i * 6);
		heads[i].author[1] = (uint8_t)i;
		heads[i].seq = 1 + (uint64_t)i % 4;
	}
	lv.heads = heads;
	lv.n = 40;
	if (sync_init(&s, size % 2, self, "fuzz", peer, &local, &io))
		return 0;
	sync_start(&s);

	Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
	Agora__Wire__Hello h = AGORA__WIRE__HELLO__INIT;
	uint8_t buf[256];
	h.has_version = h.has_node_key = true;
	h.version = 1;
	h.node_key.data = (uint8_t *)peer;
	h.node_key.len = 32;
	m.msg_case = AGORA__WIRE__MESSAGE__MSG_HELLO;
	m.hello = &h;
	size_t hl = agora__wire__message__pack(&m, buf);
	sync_receive(&s, buf, hl, 1);

	while (size >= 2) {
		size_t len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		if (sync_receive(&s, data, len, 1) < 0)
			break;
		sync_produce(&s, 1 << 20, NULL);
		data += len;
		size -= len;
	}
	uint64_t b, a;
	sync_lag(&s, 100000, &b, &a, NULL, 0, NULL);
	sync_dispose(&s);
	return 0;
}
