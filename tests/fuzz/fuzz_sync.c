/*
 * fuzz_sync.c - every message handler of the sync engine (node/engine/
 * sync*.c: Hello, Digest, Ranges, Records, Ack, Ping, Pong, Bye, ForkProof,
 * Redeem, Have, Prune, Graft, BlobWant, BlobChunk, BlobNone) against
 * arbitrary peer messages, with the node's calls in
 * between, under a memory limit, checking that what the engine sends stays
 * within the bound of sync.h.
 *
 * Input: byte 0 sets the session up - bit 0: we dialed; bit 1: the peer
 * speaks versions 1-4 (else 1 only); bits 2-3: 0 = the peer's Hello is given, 1 =
 * an unknown key (SYNC_AWAIT_REDEEM), 2 = no Hello given (the input's
 * first message should be one), 3 = as 0 but the alliance is not carried.
 * Then steps of [op][len: 2 bytes BE][len bytes]: op & 15 = 1..14 wraps
 * the bytes as that field of Message (a Hello, a Digest, ...; 4, which
 * Message does not use, as field 18, a BlobChunk), 15 as field 17 (a
 * BlobWant), 0 sends them as a whole Message (a BlobNone, field 19, is
 * one); op >> 4 picks a node call made after it (produce, feeds_changed,
 * resync, admit, ack, push_record, feed_diverged, alliances_changed, ping,
 * local_changed, duplicate, timeout, blob_want).  The node answers a
 * peer's BlobWant at once (a chunk, or BlobNone when the hash's first byte
 * is odd): its answer is the node's call, not counted in the bound.
 *
 * Bound (abort if broken): bytes the engine sends on its own (answers,
 * its Bye) <= SYNC_ANSWER_FACTOR x bytes received + SYNC_ANSWER_SLACK x
 * messages received + one Bye; records streamed <= twice the store.
 * What the node's calls send is theirs and not counted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/engine/sync.h"
#include "wire.pb-c.h"

#define FEEDS 40
#define ENV_BYTES 64

static uint8_t env[ENV_BYTES];
static int in_action;                  /* a node call is under way */
static uint64_t sent_answers, sent_action;

static int io_send(void *ctx, const uint8_t *msg, size_t len)
{
	(void)ctx;
	(void)msg;
	if (in_action)
		sent_action += len;
	else if (!(len && msg[0] == 0x2a))   /* Records are bounded apart */
		sent_answers += len;
	return 0;
}

static int io_read(void *ctx, const uint8_t alliance[32], const uint8_t author[32],
                   uint64_t seq, const uint8_t **e, size_t *len)
{
	const struct sync_lvec *v = ctx;
	(void)alliance;
	for (size_t i = 0; i < v->n; i++)
		if (!memcmp(v->heads[i].author, author, 32))
			return seq >= 1 && seq <= v->heads[i].seq ? (*e = env, *len = ENV_BYTES, 0) : -1;
	return -1;
}

static int io_records(void *ctx, const uint8_t alliance[32], const uint8_t author[32],
                      uint64_t first_seq, const uint8_t *const *envs, const size_t *lens,
                      size_t n)
{
	(void)ctx; (void)alliance; (void)author; (void)first_seq; (void)envs; (void)lens; (void)n;
	return 0;
}

static bool io_allowed_yes(void *ctx, const uint8_t alliance[32])
{
	(void)ctx;
	(void)alliance;
	return true;
}

static bool io_allowed_no(void *ctx, const uint8_t alliance[32])
{
	(void)ctx;
	(void)alliance;
	return false;
}

static int io_fork(void *ctx, const uint8_t alliance[32], const uint8_t author[32], uint64_t seq,
                   const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
	(void)ctx; (void)alliance; (void)author; (void)seq; (void)a; (void)la; (void)b; (void)lb;
	return 0;
}

static int io_redeem(void *ctx, const uint8_t alliance[32], const uint8_t token[32])
{
	(void)ctx;
	(void)alliance;
	(void)token;
	return 0;
}

static uint8_t blob[SYNC_BLOB_CHUNK_MAX];
static struct sync *engine;            /* the run's, for the blob server */

static int io_blob_want(void *ctx, const uint8_t hash[32], uint64_t offset, uint32_t length)
{
	struct sync *s = engine;
	int was = in_action, rc;
	(void)ctx;
	in_action = 1;
	rc = sync_blob_answer(s, hash, offset, offset + length, hash[0] & 1 ? NULL : blob, length);
	in_action = was;
	return rc;
}

static int io_blob_chunk(void *ctx, const uint8_t hash[32], uint64_t offset, const uint8_t *data,
                         size_t len)
{
	(void)ctx; (void)hash; (void)offset; (void)data; (void)len;
	return 0;
}

/* libFuzzer: at most 64 MB (later flags win, so this one is last). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char *args[256];
	static char limit[] = "-rss_limit_mb=64";
	int n = *argc < 254 ? *argc : 254;
	for (int i = 0; i < n; i++)
		args[i] = (*argv)[i];
	args[n++] = limit;
	args[n] = NULL;
	*argc = n;
	*argv = args;
	return 0;
}

/* Under AddressSanitizer, a small quarantine keeps the RSS of a run within
 * that limit (ASan's default holds up to 256 MB of freed blocks). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=4:malloc_context_size=8";
}

static void act(struct sync *s, unsigned what, size_t k, const struct sync_lvec *lv,
                uint64_t *records_action)
{
	const uint8_t *au = lv->heads[k % lv->n].author;
	struct sync_feed_ref ref;
	struct sync_counters before, after;
	sync_counters(s, &before);
	in_action = 1;
	switch (what) {
	case 2:
		memcpy(ref.alliance, lv->alliance, 32);
		memcpy(ref.author, au, 32);
		ref.was = lv->heads[k % lv->n].seq;   /* told, though nothing moved */
		sync_feeds_changed(s, &ref, 1, 2000);
		break;
	case 3: sync_resync(s); break;
	case 4: sync_admit(s); break;
	case 5: sync_send_ack(s, lv->alliance, au, k % 5); break;
	case 6: sync_push_record(s, lv->alliance, au, 1); break;
	case 7: sync_feed_diverged(s, lv->alliance, au, 1); break;
	case 8: sync_alliances_changed(s, 2000); break;
	case 9: sync_send_ping(s, k); break;
	case 10: sync_local_changed(s, 2000); break;
	case 11: sync_duplicate(s, lv->alliance, 2000); break;
	case 12: sync_timeout(s, 2000 + (uint64_t)k * 100); break;
	case 13: {
		uint8_t hash[32] = { (uint8_t)k };
		sync_blob_want(s, hash, 0, 1000, 5000);
		break;
	}
	default: break;
	}
	in_action = 0;
	sync_counters(s, &after);
	*records_action += after.records_out - before.records_out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t self[32] = { 1 }, peer[32] = { 2 };
	struct sync_head heads[FEEDS];
	struct sync_lvec lv;
	struct sync_local local = { &lv, 1 };
	struct sync s;
	uint64_t in_bytes = 0, in_msgs = 0, store = 0, records_action = 0;

	if (size < 1)
		return 0;
	unsigned setup = data[0], mode = (setup >> 2) & 3;
	data++;
	size--;
	memset(&lv, 0, sizeof(lv));
	memset(lv.alliance, 0xa1, 32);
	for (int i = 0; i < FEEDS; i++) {   /* sorted authors spread over the key space */
		memset(&heads[i], 0, sizeof(heads[i]));
		heads[i].author[0] = (uint8_t)(i * 6);
		heads[i].author[1] = (uint8_t)i;
		heads[i].seq = 1 + (uint64_t)i % 4;
		heads[i].coordinator = i == 7;
		store += heads[i].seq;
	}
	lv.heads = heads;
	lv.n = lv.cap = FEEDS;
	struct sync_io io = { .ctx = &lv, .send = io_send, .read = io_read, .records = io_records,
	                      .allowed = mode == 3 ? io_allowed_no : io_allowed_yes,
	                      .fork = io_fork, .redeem = io_redeem, .blob_want = io_blob_want,
	                      .blob_chunk = io_blob_chunk };
	unsigned flags = (setup & 1 ? SYNC_INITIATOR : 0) | (mode == 1 ? SYNC_AWAIT_REDEEM : 0);
	sent_answers = sent_action = 0;
	if (sync_init(&s, flags, self, "fuzz", peer, &local, &io))
		abort();
	engine = &s;
	in_action = 1;
	if (mode != 1)
		sync_start(&s);
	in_action = 0;

	if (mode == 0 || mode == 3) {
		Agora__Wire__Message m = AGORA__WIRE__MESSAGE__INIT;
		Agora__Wire__Hello h = AGORA__WIRE__HELLO__INIT;
		ProtobufCBinaryData id = { 32, lv.alliance };
		uint8_t buf[256];
		h.has_version = h.has_node_key = true;
		h.version = 1;
		h.has_max_version = setup & 2;
		h.max_version = 4;
		h.node_key.data = (uint8_t *)peer;
		h.node_key.len = 32;
		h.n_alliances = 1;
		h.alliances = &id;
		m.msg_case = AGORA__WIRE__MESSAGE__MSG_HELLO;
		m.hello = &h;
		size_t hl = agora__wire__message__pack(&m, buf);
		in_bytes += hl;
		in_msgs++;
		if (sync_receive(&s, buf, hl, 1) < 0)
			abort();   /* a valid Hello is taken */
	}

	uint8_t *wrapped = malloc(size + 16);
	if (!wrapped)
		abort();
	while (size >= 3) {
		unsigned op = data[0];
		size_t len = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		const uint8_t *msg = data;
		size_t mlen = len;
		if ((op & 15) >= 1) {   /* wrap as Message field op & 15 (4: 18, 15: 17) */
			size_t k = 0;
			unsigned field = (op & 15) == 4 ? 18 : (op & 15) == 15 ? 17 : op & 15;
			for (unsigned tag = field << 3 | 2;; tag >>= 7) {
				wrapped[k++] = (uint8_t)((tag & 0x7f) | (tag >> 7 ? 0x80 : 0));
				if (!(tag >> 7))
					break;
			}
			for (size_t v = len;; v >>= 7) {
				wrapped[k++] = (uint8_t)((v & 0x7f) | (v >> 7 ? 0x80 : 0));
				if (!(v >> 7))
					break;
			}
			memcpy(wrapped + k, data, len);
			msg = wrapped;
			mlen = k + len;
		}
		in_bytes += mlen;
		in_msgs++;
		int rc = sync_receive(&s, msg, mlen, 1000 + in_msgs);
		if (rc < 0 && sync_state(&s) != SYNC_STATE_FAILED &&
		    sync_state(&s) != SYNC_STATE_CLOSED)
			abort();   /* every error ends the session */
		data += len;
		size -= len;
		if (rc < 0)
			break;
		act(&s, op >> 4, len, &lv, &records_action);
		sync_produce(&s, 1 << 20, NULL);
	}
	free(wrapped);

	struct sync_counters c;
	uint64_t behind, ahead;
	sync_counters(&s, &c);
	sync_lag(&s, 100000, &behind, &ahead, NULL, 0, NULL);
	if (sent_answers > SYNC_ANSWER_FACTOR * in_bytes + SYNC_ANSWER_SLACK * in_msgs +
	                   SYNC_REASON_MAX + 128)
		abort();   /* more answer than the bound */
	if (c.records_out - records_action > 2 * store)
		abort();   /* a feed streamed more than twice */
	sync_dispose(&s);
	return 0;
}
