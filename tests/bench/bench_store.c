/*
 * bench_store.c - publish, ingest and query speed of the agora store.
 *
 *   bench_store [N]      (default N = 1,000,000 records of about 1 KB)
 *
 * Prints each figure beside this machine's own limit measured in the same
 * run (raw Ed25519 sign / verify rate) and their ratio, then the query
 * latencies (p50, p99) for an indexed filter and for full-text queries, and
 * the store's size on disk against the raw record bytes.
 *
 * Targets (issue 2): ingest >= 70 % of the raw single-core verify rate;
 * indexed query p50 < 1 ms; full-text p50 < 10 ms; store <= 2.5 x raw bytes.
 *
 * Records are written BATCH = 10,000 per transaction (publish and ingest),
 * as a bulk import or a sync catching up would.  Text is drawn from a
 * Zipfian vocabulary (s = 1.0) of 50,000 words: the 70 real Danish /
 * Polish / English climate words below take ranks 1-70, synthetic "ordN"
 * words the rest.  So, as in real text, a few words are in nearly every
 * record and most words are rare.  Query words are drawn from the same
 * Zipf distribution (by token frequency): users ask for common words more
 * often than for rare ones, so half the queries use one of the ~170 most
 * frequent words.  The records are Danish, so their words are indexed by
 * their Danish stems, and each query word stands for its stems in every
 * language.  Five full-text kinds are timed: one word, newest first; two
 * words ANDed, ranked by BM25 (what `agora query --text` does by
 * default); one of the real words less its last two letters with a '*'
 * (a prefix query), newest first; and two phrases in quotes, ranked,
 * whose candidates (records with both words) are read and searched for
 * the words in a row: two words that stand next to each other in some
 * stored title (a phrase someone copied), and two words drawn at random,
 * which seldom stand together in this random text, so that nearly every
 * candidate is read (the worst case: the index holds no positions).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>

#include "proto/proto.h"
#include "storage/storage.h"
#include "bench_util.h"

#define BATCH 10000

/* Words that recur in climate-plan texts, in Danish, Polish and English. */
static const char *const common_words[] = {
	"klima", "energi", "varme", "fjernvarme", "vådområde", "skovrejsning", "cykelsti",
	"solceller", "vindmølle", "borgere", "kommune", "klimatilpasning", "oversvømmelse",
	"regnvand", "elbil", "ladestander", "bygning", "renovering", "isolering", "affald",
	"genanvendelse", "landbrug", "kyst", "dige", "partnerskab", "virksomheder", "energia",
	"ubóstwo", "energetyczne", "łąka", "retencja", "miasto", "mieszkańcy", "ciepło",
	"climate", "energy", "heating", "district", "wetland", "forest", "cycling", "solar",
	"wind", "citizens", "municipality", "adaptation", "flooding", "rainwater", "electric",
	"charging", "building", "retrofit", "insulation", "waste", "recycling", "agriculture",
	"coastal", "dike", "partnership", "business", "reduction", "emissions", "target",
	"baseline", "inventory", "measure", "result", "lesson", "cost", "investment",
};
#define N_COMMON (sizeof(common_words) / sizeof(common_words[0]))
#define N_VOCAB 50000
#define ZIPF_S 1.0

static double zipf_cdf[N_VOCAB];    /* written once in main, then read only */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

static void zipf_init(void)
{
	double sum = 0;
	for (size_t i = 0; i < N_VOCAB; i++)
		sum += 1.0 / pow((double)(i + 1), ZIPF_S);
	double acc = 0;
	for (size_t i = 0; i < N_VOCAB; i++) {
		acc += 1.0 / pow((double)(i + 1), ZIPF_S) / sum;
		zipf_cdf[i] = acc;
	}
	zipf_cdf[N_VOCAB - 1] = 1.0;
}

/* A word rank (0-based) drawn from the Zipf distribution. */
static size_t zipf_rank(struct rng *r)
{
	double u = (double)(rnd(r) >> 11) / 9007199254740992.0;
	size_t lo = 0, hi = N_VOCAB - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (zipf_cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int word_of(char *buf, size_t cap, size_t rank)
{
	if (rank < N_COMMON)
		return snprintf(buf, cap, "%s", common_words[rank]);
	return snprintf(buf, cap, "ord%zu", rank);
}

/* Append n Zipf-distributed words to buf. */
static size_t words(char *buf, size_t cap, struct rng *r, int n)
{
	size_t len = 0;

	for (int i = 0; i < n && len + 24 < cap; i++) {
		if (i)
			buf[len++] = ' ';
		len += (size_t)word_of(buf + len, cap - len, zipf_rank(r));
	}
	buf[len] = '\0';
	return len;
}

/* Pages of the LMDB environment in dir that hold data (not on the free
 * list), in bytes.  Opens the environment itself: call with no store open
 * on dir in this process. */
static uint64_t live_bytes(const char *dir, uint64_t *free_bytes)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_envinfo info;
	MDB_stat st;
	MDB_val k, v;
	uint64_t nfree = 0;
	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 16) ||
	    mdb_env_open(env, dir, MDB_RDONLY, 0600))
		return 0;
	mdb_env_info(env, &info);
	mdb_env_stat(env, &st);
	if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
		if (mdb_cursor_open(txn, 0, &c) == 0) {   /* dbi 0: the free list */
			while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0)
				nfree += *(const size_t *)v.mv_data;   /* count, then page numbers */
			mdb_cursor_close(c);
		}
		mdb_txn_abort(txn);
	}
	uint64_t used = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	*free_bytes = nfree * st.ms_psize;
	mdb_env_close(env);
	return used - *free_bytes;
}

/* One generated measure of about 1 KB. */
struct gen {
	Agora__Record rec;
	Agora__Measure m;
	Agora__Area areas[2];
	Agora__Hazard hazards[1];
	char *tags[2];
	char title[96], summary[320], description[720], tag0[16], tag1[16];
};

static void gen_measure(struct gen *g, struct rng *r)
{
	static char *const tagpool[] = { "wetlands", "ev", "heat", "flood", "forest", "solar",
	                                 "cycling", "poverty", "data", "partners" };
	agora__record__init(&g->rec);
	agora__measure__init(&g->m);
	words(g->title, sizeof(g->title), r, 6);
	words(g->summary, sizeof(g->summary), r, 28);
	words(g->description, sizeof(g->description), r, 70);
	g->m.title = g->title;
	g->m.summary = g->summary;
	g->m.description = g->description;
	g->m.language = "da";
	g->m.has_mitigation = 1;
	g->m.mitigation = 1;
	g->m.has_sector = 1;
	g->m.sector = (Agora__Sector)(1 + rnd(r) % 14);
	g->areas[0] = (Agora__Area)(1 + rnd(r) % 34);
	g->areas[1] = (Agora__Area)(1 + (g->areas[0] + rnd(r) % 33) % 34);
	g->m.n_areas = 2;
	g->m.areas = g->areas;
	if (rnd(r) % 4 == 0) {
		g->m.has_adaptation = 1;
		g->m.adaptation = 1;
		g->hazards[0] = (Agora__Hazard)(1 + rnd(r) % 13);
		g->m.n_hazards = 1;
		g->m.hazards = g->hazards;
	}
	g->m.has_status = 1;
	g->m.status = (Agora__Status)(1 + rnd(r) % 5);
	g->m.has_start_year = 1;
	g->m.start_year = 2015 + (uint32_t)(rnd(r) % 12);
	g->m.has_end_year = 1;
	g->m.end_year = g->m.start_year + (uint32_t)(rnd(r) % 8);
	g->m.has_investment = 1;
	g->m.investment = (double)(rnd(r) % 50000000);
	g->m.currency = "DKK";
	g->m.has_reduction_tco2e = 1;
	g->m.reduction_tco2e = (double)(rnd(r) % 5000);
	snprintf(g->tag0, sizeof(g->tag0), "%s", tagpool[rnd(r) % 10]);
	snprintf(g->tag1, sizeof(g->tag1), "%s", tagpool[rnd(r) % 10]);
	g->tags[0] = g->tag0;
	g->tags[1] = g->tag1;
	g->m.n_tags = 2;
	g->m.tags = g->tags;
	g->rec.body_case = AGORA__RECORD__BODY_MEASURE;
	g->rec.measure = &g->m;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_store: %s: %s\n", what, store_strerror(rc));
	exit(1);
}

struct counter {
	size_t n;
};

static int count_hit(const struct store_hit *hit, void *ctx)
{
	(void)hit;
	((struct counter *)ctx)->n++;
	return 0;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	char base[] = "/tmp/agora-bench.XXXXXX", dir_a[64], dir_b[64];
	struct store *a = NULL, *b = NULL;
	struct proto_key *key = NULL;
	struct gen *gens;
	Agora__Record **recs;
	uint8_t alliance[PROTO_ID_BYTES];
	struct rng r = { 0x9e3779b97f4a7c15ULL };
	uint8_t **envs;
	size_t *lens;
	uint64_t raw_bytes = 0;
	double t0, t_pub, t_ing;
	int rc;

	if (n == 0 || proto_init() != 0 || !mkdtemp(base))
		return 1;
	zipf_init();
	snprintf(dir_a, sizeof(dir_a), "%s/a", base);
	snprintf(dir_b, sizeof(dir_b), "%s/b", base);
	mkdir(dir_a, 0700);
	mkdir(dir_b, 0700);

	printf("agora store benchmark: %zu records of about 1 KB, store in %s\n", n, base);
	printf("machine limits (measured now):\n");
	double sign1 = bench_sign_rate(2.0);
	double verify1 = bench_verify_rate(2.0, 1);
	double verify2 = bench_verify_rate(2.0, 2);
	printf("  raw Ed25519 sign, 1 core      %10.0f /s\n", sign1);
	printf("  raw Ed25519 verify, 1 core    %10.0f /s\n", verify1);
	printf("  raw Ed25519 verify, 2 cores   %10.0f /s\n", verify2);

	if ((rc = store_open(&a, dir_a, 0)) < 0)
		die("open", rc);
	if ((rc = proto_key_generate(&key)) < 0)
		die("key", rc);

	/* Found the alliance. */
	{
		Agora__Record rec = AGORA__RECORD__INIT;
		Agora__Charter ch = AGORA__CHARTER__INIT;
		ProtobufCBinaryData coord = { PROTO_KEY_BYTES, key->pk };
		ch.name = "Bench alliance";
		ch.n_coordinators = 1;
		ch.coordinators = &coord;
		ch.has_policy = 1;
		ch.policy = AGORA__ADMISSION_POLICY__ADMISSION_POLICY_ANY_COORDINATOR;
		rec.body_case = AGORA__RECORD__BODY_CHARTER;
		rec.charter = &ch;
		if ((rc = store_publish(a, key, NULL, &rec, now_ms(), alliance, NULL, NULL, NULL)) < 0)
			die("charter", rc);
	}

	/* Publish: sign + store, BATCH records per transaction. */
	gens = calloc(BATCH, sizeof(*gens));
	recs = calloc(BATCH, sizeof(*recs));
	if (!gens || !recs)
		return 1;
	t0 = bench_now();
	uint64_t w0 = bench_bytes_written(0);
	for (size_t done = 0; done < n;) {
		size_t k = n - done < BATCH ? n - done : BATCH;
		struct proto_error err;
		size_t failed;
		for (size_t i = 0; i < k; i++) {
			gen_measure(&gens[i], &r);
			recs[i] = &gens[i].rec;
		}
		rc = store_publish_batch(a, key, alliance, recs, k, now_ms(), NULL, NULL, NULL,
		                         &failed, &err);
		if (rc < 0) {
			fprintf(stderr, "publish: %s\n", err.msg);
			die("publish", rc);
		}
		done += k;
		if (done % 100000 == 0)
			fprintf(stderr, "  published %zu\r", done);
	}
	t_pub = bench_now() - t0;
	uint64_t w_pub = bench_bytes_written(0) - w0;

	/* Collect the envelopes (charter = seq 1) for the ingest run. */
	envs = calloc(n + 1, sizeof(*envs));
	lens = calloc(n + 1, sizeof(*lens));
	{
		struct store_txn *t;
		if ((rc = store_txn_begin(a, &t)) < 0)
			die("txn", rc);
		for (size_t i = 0; i <= n; i++) {
			struct store_record sr;
			if ((rc = store_feed_get(t, alliance, key->pk, i + 1, &sr)) < 0)
				die("feed_get", rc);
			envs[i] = malloc(sr.env_len);
			memcpy(envs[i], sr.env, sr.env_len);
			lens[i] = sr.env_len;
			raw_bytes += sr.env_len;
		}
		store_txn_end(t);
	}
	store_close(a);

	/* What opening one envelope costs beside the bare signature check:
	 * split, decode, canonical form, verify, validate, and the id hash
	 * ingest takes too.  One core, the first envelopes. */
	double open_rate;
	{
		size_t m = n + 1 < 50000 ? n + 1 : 50000;
		uint8_t id[PROTO_ID_BYTES];
		double t1 = bench_now();
		for (size_t i = 0; i < m; i++) {
			Agora__Record *rec;
			if ((rc = proto_envelope_open(&rec, envs[i], lens[i], now_ms(), NULL)) < 0)
				die("open", rc);
			proto_record_id(id, envs[i], lens[i]);
			agora__record__free_unpacked(rec, NULL);
		}
		open_rate = (double)m / (bench_now() - t1);
	}

	/* Ingest: verify + chain check + store, BATCH per transaction, the way
	 * agorad and bundle import do it: a verifier thread opens batch k+1
	 * while batch k is stored (store_ingest_batches verifies what the
	 * verifier has not reached yet itself). */
	if ((rc = store_open(&b, dir_b, 0)) < 0)
		die("open", rc);
	struct store_item *items = calloc(n + 1, sizeof(*items));
	int *status = calloc(BATCH, sizeof(*status));
	struct store_verifier *ver;
	struct store_batch *cur = NULL, *next = NULL;
	for (size_t i = 0; i <= n; i++) {
		items[i].env = envs[i];
		items[i].len = lens[i];
	}
	if ((rc = store_verifier_start(&ver, 1)))
		die("verifier", rc);
	t0 = bench_now();
	w0 = bench_bytes_written(0);
	size_t k = n + 1 < BATCH ? n + 1 : BATCH;
	if ((rc = store_batch_new(&cur, items, k, now_ms(), NULL)) || (rc = store_verifier_add(ver, cur)))
		die("batch", rc);
	for (size_t done = 0; cur;) {
		struct store_ingest_stats st;
		size_t nd = done + k, k2 = n + 1 - nd < BATCH ? n + 1 - nd : BATCH;
		next = NULL;
		if (nd <= n && ((rc = store_batch_new(&next, items + nd, k2, now_ms(), NULL)) ||
		                (rc = store_verifier_add(ver, next))))
			die("batch", rc);
		if ((rc = store_ingest_batches(b, &cur, 1, 0, status, &st)) < 0)
			die("ingest", rc);
		if (st.added != k) {
			fprintf(stderr, "ingest: only %zu of %zu added (first status %d: %s)\n",
			        st.added, k, status[0], store_strerror(status[0]));
			return 1;
		}
		store_batch_free(cur);
		cur = next;
		done = nd;
		k = k2;
	}
	t_ing = bench_now() - t0;
	uint64_t w_ing = bench_bytes_written(0) - w0;
	store_verifier_stop(ver);
	/* The machine's speed drifts (a shared host): measure the limits again
	 * right after the ingest and hold each figure against the faster one. */
	double verify1_after = bench_verify_rate(2.0, 1), verify2_after = bench_verify_rate(2.0, 2);
	printf("machine limits again after the ingest: verify 1 core %.0f /s, 2 cores %.0f /s "
	       "(the ratios below use the higher of the two measurements)\n",
	       verify1_after, verify2_after);
	if (verify1_after > verify1)
		verify1 = verify1_after;
	if (verify2_after > verify2)
		verify2 = verify2_after;

	double pub_rate = (double)n / t_pub, ing_rate = (double)(n + 1) / t_ing;
	printf("\nwrite path (%" PRIu64 " raw record bytes, %.0f bytes/record):\n", raw_bytes,
	       (double)raw_bytes / (double)(n + 1));
	printf("  publish (sign + store)  %10.0f /s   = %5.1f %% of raw sign, 1 core\n", pub_rate,
	       100.0 * pub_rate / sign1);
	printf("  ingest (verify + store) %10.0f /s   = %5.1f %% of raw verify, 1 core "
	       "(target >= 70 %%); %5.1f %% of 2 cores\n",
	       ing_rate, 100.0 * ing_rate / verify1, 100.0 * ing_rate / verify2);
	printf("  envelope open (split, decode, verify, validate, id), 1 core: %.0f /s = %.1f %% "
	       "of raw verify\n", open_rate, 100.0 * open_rate / verify1);
	printf("  written to the store file: publish %.1f, ingest %.1f bytes per raw record byte\n",
	       (double)w_pub / (double)raw_bytes, (double)w_ing / (double)raw_bytes);


	/* Queries. */
	enum { Q = 1000, KINDS = 6 };
	double *lat = calloc(Q, sizeof(*lat));
	struct counter c;
	const char *label[KINDS] = { "indexed filter (--sector S --limit 20)",
	                             "full text, 1 Zipf word, newest (--limit 20)",
	                             "full text, 2 Zipf words, ranked BM25 (--limit 20)",
	                             "full text, prefix* of a real word, newest (--limit 20)",
	                             "phrase: \"2 words\" from a title, ranked (--limit 20)",
	                             "phrase: \"2 Zipf words\" (seldom adjacent), ranked (--limit 20)" };
	printf("\nqueries (%d each, fresh read snapshot per query; words drawn by token "
	       "frequency):\n", Q);
	for (int kind = 0; kind < KINDS; kind++) {
		size_t hits = 0;
		for (int i = 0; i < Q; i++) {
			struct store_query q;
			struct store_txn *t;
			char text[64];
			memset(&q, 0, sizeof(q));
			q.limit = 20;
			if (kind == 0) {
				q.sector = 1 + (int)(rnd(&r) % 14);
			} else if (kind == 1) {
				word_of(text, sizeof(text), zipf_rank(&r));
				q.text = text;
			} else if (kind == 2) {
				int l = word_of(text, sizeof(text), zipf_rank(&r));
				text[l++] = ' ';
				word_of(text + l, sizeof(text) - (size_t)l, zipf_rank(&r));
				q.text = text;
				q.sort = STORE_SORT_RELEVANCE;
			} else if (kind == 3) {
				size_t rank;
				while ((rank = zipf_rank(&r)) >= N_COMMON)
					;
				int l = word_of(text, sizeof(text), rank);
				l = l - 2 < 3 ? 3 : l - 2;
				while (l > 0 && ((unsigned char)text[l] & 0xC0) == 0x80)
					l--;    /* do not cut a letter in two */
				text[l] = '*';
				text[l + 1] = '\0';
				q.text = text;
			} else if (kind == 4) {
				/* two neighbours of a random record's title */
				Agora__Record *rec;
				size_t pick = 1 + (size_t)(rnd(&r) % n);
				if ((rc = proto_envelope_decode(&rec, envs[pick], lens[pick], NULL)) < 0)
					die("decode", rc);
				char tt[128], *wv[16], *save = NULL;
				size_t nw = 0;
				snprintf(tt, sizeof(tt), "%s", rec->measure->title);
				for (char *w = strtok_r(tt, " ", &save); w && nw < 16;
				     w = strtok_r(NULL, " ", &save))
					wv[nw++] = w;
				size_t at = nw > 1 ? (size_t)(rnd(&r) % (nw - 1)) : 0;
				snprintf(text, sizeof(text), "\"%s %s\"", wv[at], nw > 1 ? wv[at + 1] : "");
				agora__record__free_unpacked(rec, NULL);
				q.text = text;
				q.sort = STORE_SORT_RELEVANCE;
			} else {
				int l = 0;
				text[l++] = '"';
				l += word_of(text + l, sizeof(text) - (size_t)l, zipf_rank(&r));
				text[l++] = ' ';
				l += word_of(text + l, sizeof(text) - (size_t)l, zipf_rank(&r));
				text[l++] = '"';
				text[l] = '\0';
				q.text = text;
				q.sort = STORE_SORT_RELEVANCE;
			}
			c.n = 0;
			t0 = bench_now();
			if ((rc = store_txn_begin(b, &t)) < 0)
				die("txn", rc);
			if ((rc = store_query(t, &q, count_hit, &c, NULL)) < 0) {
				fprintf(stderr, "query \"%s\": ", q.text ? q.text : "");
				die("query", rc);
			}
			store_txn_end(t);
			lat[i] = (bench_now() - t0) * 1000.0;
			hits += c.n;
		}
		double p50 = bench_percentile(lat, Q, 50), p99 = bench_percentile(lat, Q, 99);
		printf("  %-58s p50 %8.3f ms  p99 %8.3f ms  (%.1f hits/query)\n", label[kind], p50,
		       p99, (double)hits / Q);
	}
	printf("  targets: indexed p50 < 1 ms; full-text p50 < 10 ms\n");
	printf("\npeak RSS of this process: %.0f MiB (holds all %zu envelopes in memory)\n",
	       bench_peak_rss_mib(), n + 1);

	store_close(b);

	uint64_t disk = bench_dir_bytes(dir_b), freeb = 0, live = live_bytes(dir_b, &freeb);
	printf("\nstore on disk (after the ingest run; %" PRIu64 " raw record bytes):\n", raw_bytes);
	printf("  file size              %10.1f MiB  = %5.2f x raw record bytes (target <= 2.5)\n",
	       (double)disk / 1048576.0, (double)disk / (double)raw_bytes);
	printf("  live pages             %10.1f MiB  = %5.2f x raw record bytes "
	       "(file minus %.1f MiB of LMDB free pages)\n",
	       (double)live / 1048576.0, (double)live / (double)raw_bytes,
	       (double)freeb / 1048576.0);
	proto_key_free(key);
	for (size_t i = 0; i <= n; i++)
		free(envs[i]);
	free(envs);
	free(lens);
	free(items);
	free(status);
	free(gens);
	free(recs);
	free(lat);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (getenv("AGORA_BENCH_KEEP"))
		printf("kept %s (AGORA_BENCH_KEEP)\n", base);
	else if (system(cmd) != 0)
		fprintf(stderr, "bench_store: could not remove %s\n", base);
	return 0;
}
