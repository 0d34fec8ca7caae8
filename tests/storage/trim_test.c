/*
 * trim_test.c - store_trim() lets go of the store pages this process has
 * mapped, and the store reads the same afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "proto/proto.h"
#include "storage/storage.h"

/* RssFile of this process in kB (-1 where /proc has no such line). */
static long rss_file_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "RssFile: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct sum {
	size_t n;
	uint64_t bytes;
	unsigned char hash[32];
	crypto_generichash_state st;
};

static int hit(const struct store_hit *h, void *ctx)
{
	struct sum *s = ctx;
	s->n++;
	s->bytes += h->rec.env_len;
	crypto_generichash_update(&s->st, h->rec.env, h->rec.env_len);
	return 0;
}

/* Read every envelope (touching every record page) and hash them. */
static void read_all(struct store *s, struct sum *out)
{
	struct store_txn *t;
	struct store_query q;

	memset(out, 0, sizeof(*out));
	memset(&q, 0, sizeof(q));
	crypto_generichash_init(&out->st, NULL, 0, sizeof(out->hash));
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_true(store_query(t, &q, hit, out, NULL) >= 0);
	store_txn_end(t);
	crypto_generichash_final(&out->st, out->hash, sizeof(out->hash));
}

static void test_store_trim__drops_mapped_pages_and_keeps_data(void **state)
{
	char dir[] = "/tmp/agora-trim-test.XXXXXX";
	struct store *s = NULL;
	struct proto_key *key = NULL;
	uint8_t alliance[PROTO_ID_BYTES];
	struct sum before, after;
	char text[2048];
	(void)state;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(&s, dir, 0), 0);
	assert_int_equal(proto_key_generate(&key), 0);
	{
		Agora__Record rec = AGORA__RECORD__INIT;
		Agora__Charter ch = AGORA__CHARTER__INIT;
		ProtobufCBinaryData coord = { PROTO_KEY_BYTES, key->pk };
		ch.name = "Trim test";
		ch.n_coordinators = 1;
		ch.coordinators = &coord;
		ch.has_policy = 1;
		ch.policy = AGORA__ADMISSION_POLICY__ADMISSION_POLICY_ANY_COORDINATOR;
		rec.body_case = AGORA__RECORD__BODY_CHARTER;
		rec.charter = &ch;
		assert_int_equal(store_publish(s, key, NULL, &rec, now_ms(), alliance, NULL, NULL,
		                               NULL), 0);
	}
	/* About 4 MiB of records: enough pages to see them leave. */
	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	for (int b = 0; b < 4; b++) {
		Agora__Record recs[500], *p[500];
		Agora__Measure m[500];
		for (int i = 0; i < 500; i++) {
			agora__record__init(&recs[i]);
			agora__measure__init(&m[i]);
			m[i].title = "Trimmed measure";
			m[i].description = text;
			m[i].language = "en";
			m[i].has_mitigation = 1;
			m[i].mitigation = 1;
			recs[i].body_case = AGORA__RECORD__BODY_MEASURE;
			recs[i].measure = &m[i];
			p[i] = &recs[i];
		}
		assert_int_equal(store_publish_batch(s, key, alliance, p, 500, now_ms(), NULL, NULL,
		                                     NULL, NULL, NULL), 0);
	}

	read_all(s, &before);
	assert_int_equal(before.n, 2000);
	long mapped = rss_file_kb();
	if (mapped < 0) {
		store_close(s);
		proto_key_free(key);
		skip();
	}
	assert_int_equal(store_trim(s), 0);
	long trimmed = rss_file_kb();
	/* At least the 4 MiB of record pages read above were let go. */
	assert_true(trimmed + 2048 < mapped);

	/* Nothing changed for readers, nor for writers. */
	read_all(s, &after);
	assert_int_equal(after.n, before.n);
	assert_memory_equal(after.hash, before.hash, sizeof(before.hash));
	assert_int_equal(store_trim(s), 0);
	store_close(s);
	proto_key_free(key);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_trim__drops_mapped_pages_and_keeps_data),
	};
	if (proto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
