/*
 * bench_report.c - the summit report (`agora report`) over a large store.
 *
 *   bench_report [N] [DIR]     (default N = 1,000,000 records, DIR a new temp dir)
 *
 * Builds (in a child process, so its memory does not count) a store of N
 * records in one alliance: 40 member keys, each with a profile, 11
 * inventories, 3 targets and a few lessons; the rest are measures (40 %)
 * and results (60 %) referring to earlier measures of the same member,
 * published with store_publish_batch.  If DIR already holds a store built
 * for the same N, it is reused.
 *
 * Then, in this process: the report computation (report_collect: one
 * indexed query per kind, every record decoded once, all figures derived)
 * and rendering it as a table to /dev/null.  Printed: time, records per
 * second, and peak RSS of this process, beside this machine's own limit
 * measured in the same run on the same store: a bare scan delivering every
 * record of the same queries with no decoding, as a ratio.
 *
 * Targets (issue 5): report over 1,000,000 records in < 2 s and < 256 MB.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/proto.h"
#include "storage/storage.h"
#include "cli/report/report.h"
#include "cli/report/report_int.h"
#include "bench_util.h"

#define MEMBERS 40
#define BATCH 10000
#define NOW_MS 1750000000000ULL

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_report: %s: %d (%s)\n", what, rc, store_strerror(rc));
	exit(1);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

static const char *const indicators[] = { "Reduceret udledning", "Energibesparelse", "Areal",
	                                      "Ladepunkter", "Boliger", "Elproduktion" };
static const char *const units[] = { "t CO2e", "MWh", "ha", "stk", "boliger", "MWh" };
static const char *const currencies[] = { "DKK", "EUR" };

/* Storage for one batch of records with their bodies. */
struct slot {
	Agora__Record rec;
	union {
		Agora__Measure m;
		Agora__Result r;
		Agora__Inventory inv;
		Agora__Target t;
		Agora__Lesson l;
		Agora__Profile p;
	} u;
	Agora__SectorEmission se[8];
	Agora__SectorEmission *sep[8];
	char title[64], summary[128];
	char *tags[2];
	uint8_t mid[PROTO_ID_BYTES];
};

static void fill_measure(struct slot *s, size_t k)
{
	agora__measure__init(&s->u.m);
	snprintf(s->title, sizeof(s->title), "Tiltag %zu: energirenovering af bygninger", k);
	snprintf(s->summary, sizeof(s->summary),
	         "Kommunen gennemfører tiltag %zu med borgere og virksomheder for klimaet.", k);
	s->u.m.title = s->title;
	s->u.m.summary = s->summary;
	s->u.m.language = "da";
	s->u.m.has_mitigation = 1;
	s->u.m.mitigation = 1;
	s->u.m.has_sector = 1;
	s->u.m.sector = 1 + (int)(rnd() % 14);
	s->u.m.has_status = 1;
	s->u.m.status = 1 + (int)(rnd() % 5);
	s->u.m.has_start_year = 1;
	s->u.m.start_year = 2010 + rnd() % 15;
	s->u.m.has_reduction_tco2e = 1;
	s->u.m.reduction_tco2e = (double)(rnd() % 5000) / 4;
	if (rnd() % 2) {
		s->u.m.has_investment = 1;
		s->u.m.investment = (double)(rnd() % 100000) * 100;
		s->u.m.currency = (char *)currencies[rnd() % 2];
	}
	s->tags[0] = "klima";
	s->tags[1] = "energi";
	s->u.m.n_tags = 2;
	s->u.m.tags = s->tags;
	s->rec.body_case = AGORA__RECORD__BODY_MEASURE;
	s->rec.measure = &s->u.m;
}

static void fill_result(struct slot *s, const uint8_t *measure)
{
	size_t k = rnd() % 6;
	agora__result__init(&s->u.r);
	memcpy(s->mid, measure, PROTO_ID_BYTES);
	s->u.r.has_measure = 1;
	s->u.r.measure.len = PROTO_ID_BYTES;
	s->u.r.measure.data = s->mid;
	s->u.r.has_year = 1;
	s->u.r.year = 2015 + rnd() % 10;
	s->u.r.indicator = (char *)indicators[k];
	s->u.r.unit = (char *)units[k];
	s->u.r.has_value = 1;
	s->u.r.value = (double)(rnd() % 10000) / 2;
	s->u.r.has_estimation = 1;
	s->u.r.estimation = 1 + (int)(rnd() % 2);
	s->rec.body_case = AGORA__RECORD__BODY_RESULT;
	s->rec.result = &s->u.r;
}

static void fill_inventory(struct slot *s, unsigned year, double scale)
{
	agora__inventory__init(&s->u.inv);
	s->u.inv.has_type = 1;
	s->u.inv.type = year == 2010 ? 1 : 2;
	s->u.inv.has_year = 1;
	s->u.inv.year = year;
	for (int i = 0; i < 8; i++) {
		agora__sector_emission__init(&s->se[i]);
		s->se[i].has_sector = 1;
		s->se[i].sector = i + 1;
		s->se[i].has_tco2e = 1;
		s->se[i].tco2e = scale * (1000 + rnd() % 9000);
		s->sep[i] = &s->se[i];
	}
	s->u.inv.n_sectors = 8;
	s->u.inv.sectors = s->sep;
	s->rec.body_case = AGORA__RECORD__BODY_INVENTORY;
	s->rec.inventory = &s->u.inv;
}

static void fill_target(struct slot *s, int kind)
{
	agora__target__init(&s->u.t);
	s->u.t.has_type = 1;
	s->u.t.type = kind == 1 ? AGORA__TARGET_KIND__TARGET_KIND_NET_ZERO :
	              AGORA__TARGET_KIND__TARGET_KIND_ABSOLUTE_REDUCTION;
	s->u.t.title = kind == 1 ? "Netto-nul i 2050" : "70 % reduktion i 2030";
	s->u.t.has_target_year = 1;
	s->u.t.target_year = kind == 1 ? 2050 : 2030;
	s->u.t.has_reduction_pct = 1;
	s->u.t.reduction_pct = kind == 1 ? 100 : 70;
	if (kind == 2) {
		s->u.t.has_baseline_year = 1;
		s->u.t.baseline_year = 1990;
		s->u.t.has_baseline_tco2e = 1;
		s->u.t.baseline_tco2e = 90000;
	}
	s->rec.body_case = AGORA__RECORD__BODY_TARGET;
	s->rec.target = &s->u.t;
}

static void fill_lesson(struct slot *s, size_t k)
{
	agora__lesson__init(&s->u.l);
	snprintf(s->title, sizeof(s->title), "Erfaring %zu: tidlig dialog med lodsejere", k);
	s->u.l.title = s->title;
	s->u.l.language = "da";
	s->u.l.has_sector = 1;
	s->u.l.sector = 1 + (int)(rnd() % 14);
	s->u.l.has_year = 1;
	s->u.l.year = 2015 + rnd() % 10;
	s->tags[0] = "dialog";
	s->tags[1] = k % 2 ? "vådområder" : "klima";
	s->u.l.n_tags = 2;
	s->u.l.tags = s->tags;
	s->rec.body_case = AGORA__RECORD__BODY_LESSON;
	s->rec.lesson = &s->u.l;
}

static void fill_profile(struct slot *s, size_t member)
{
	agora__profile__init(&s->u.p);
	snprintf(s->title, sizeof(s->title), "Kommune %02zu", member);
	s->u.p.name = s->title;
	s->u.p.country = "DK";
	s->rec.body_case = AGORA__RECORD__BODY_PROFILE;
	s->rec.profile = &s->u.p;
}

/* Write the store; runs in a child process.  Returns an exit status. */
static int generate(const char *dir, size_t n, uint8_t alliance[PROTO_ID_BYTES])
{
	struct store *s = NULL;
	struct proto_key *keys[MEMBERS + 1];
	struct proto_error err;
	struct slot *slots = calloc(BATCH, sizeof(*slots));
	Agora__Record **recs = calloc(BATCH, sizeof(*recs));
	uint8_t (*ids)[PROTO_ID_BYTES] = calloc(BATCH, sizeof(*ids));
	uint8_t (*mids[MEMBERS])[PROTO_ID_BYTES];
	size_t n_mids[MEMBERS] = { 0 }, cap = n / MEMBERS + BATCH;
	size_t done = 0;
	int rc;

	if (!slots || !recs || !ids)
		die("calloc", -ENOMEM);
	if ((rc = store_open(&s, dir, 0)) < 0)
		die("store_open", rc);
	for (size_t i = 0; i <= MEMBERS; i++) {
		uint8_t seed[PROTO_SEED_BYTES];
		memset(seed, (int)i + 1, sizeof(seed));
		if ((rc = proto_key_from_seed(&keys[i], seed)) < 0)
			die("key", rc);
	}
	for (size_t i = 0; i < MEMBERS; i++)
		if (!(mids[i] = malloc(cap * sizeof(*mids[i]))))
			die("malloc", -ENOMEM);

	/* The coordinator founds the alliance. */
	Agora__Record ch = AGORA__RECORD__INIT;
	Agora__Charter c = AGORA__CHARTER__INIT;
	c.name = "Benchalliancen";
	uint8_t *cs[1] = { keys[MEMBERS]->pk };
	ProtobufCBinaryData co = { PROTO_KEY_BYTES, cs[0] };
	c.n_coordinators = 1;
	c.coordinators = &co;
	c.has_policy = 1;
	c.policy = AGORA__ADMISSION_POLICY__ADMISSION_POLICY_ANY_COORDINATOR;
	ch.body_case = AGORA__RECORD__BODY_CHARTER;
	ch.charter = &c;
	if ((rc = store_publish(s, keys[MEMBERS], NULL, &ch, NOW_MS, alliance, NULL, NULL, &err)) < 0) {
		fprintf(stderr, "charter: %s %s\n", err.field, err.msg);
		die("charter", rc);
	}

	/* The coordinator admits the members (only admitted keys may publish). */
	for (size_t m = 0; m < MEMBERS; m++)
		bench_admit(s, keys[MEMBERS], alliance, keys[m]->pk, NOW_MS);
	done += MEMBERS;   /* n counts them too */

	/* Per member: profile, inventories, targets, lessons. */
	for (size_t m = 0; m < MEMBERS; m++) {
		size_t k = 0;
		memset(slots, 0, 20 * sizeof(*slots));
		fill_profile(&slots[k++], m);
		for (unsigned y = 2010; y <= 2020; y++)
			fill_inventory(&slots[k++], y, 1.0 - (y - 2010) * 0.03);
		fill_target(&slots[k++], 1);
		fill_target(&slots[k++], 2);
		fill_target(&slots[k++], 2);
		for (size_t l = 0; l < 4; l++)
			fill_lesson(&slots[k++], m * 10 + l);
		for (size_t i = 0; i < k; i++) {
			Agora__Record init = AGORA__RECORD__INIT;
			int body = slots[i].rec.body_case;
			void *msg = slots[i].rec.measure;
			slots[i].rec = init;
			slots[i].rec.body_case = body;
			slots[i].rec.measure = msg;   /* union of pointers: any member works */
			recs[i] = &slots[i].rec;
		}
		rc = store_publish_batch(s, keys[m], alliance, recs, k, NOW_MS, NULL, NULL, NULL, NULL,
		                         &err);
		if (rc < 0) {
			fprintf(stderr, "meta: %s %s\n", err.field, err.msg);
			die("publish meta", rc);
		}
		done += k;
	}

	/* Measures and results, one batch per member in turn. */
	size_t m = 0;
	while (done + 1 < n) {
		size_t k = n - 1 - done < BATCH ? n - 1 - done : BATCH;
		memset(slots, 0, k * sizeof(*slots));
		size_t first_measure = n_mids[m];
		for (size_t i = 0; i < k; i++) {
			if (n_mids[m] == 0 || rnd() % 10 < 4) {
				fill_measure(&slots[i], done + i);
				n_mids[m]++;    /* its id is known after the batch */
			} else {
				/* A result of a measure published before this batch. */
				size_t known = first_measure ? first_measure : 0;
				if (!known) {
					fill_measure(&slots[i], done + i);
					n_mids[m]++;
					continue;
				}
				fill_result(&slots[i], mids[m][rnd() % known]);
			}
		}
		for (size_t i = 0; i < k; i++) {
			Agora__Record init = AGORA__RECORD__INIT;
			int body = slots[i].rec.body_case;
			void *msg = slots[i].rec.measure;
			slots[i].rec = init;
			slots[i].rec.body_case = body;
			slots[i].rec.measure = msg;
			recs[i] = &slots[i].rec;
		}
		rc = store_publish_batch(s, keys[m], alliance, recs, k, NOW_MS, NULL, NULL, ids, NULL,
		                         &err);
		if (rc < 0) {
			fprintf(stderr, "batch: %s %s\n", err.field, err.msg);
			die("publish", rc);
		}
		size_t j = first_measure;
		for (size_t i = 0; i < k; i++)
			if (slots[i].rec.body_case == AGORA__RECORD__BODY_MEASURE)
				memcpy(mids[m][j++], ids[i], PROTO_ID_BYTES);
		done += k;
		m = (m + 1) % MEMBERS;
		if (done % 100000 < BATCH)
			fprintf(stderr, "  %zu records\n", done + 1);
	}
	store_close(s);
	for (size_t i = 0; i <= MEMBERS; i++)
		proto_key_free(keys[i]);
	for (size_t i = 0; i < MEMBERS; i++)
		free(mids[i]);
	free(slots);
	free(recs);
	free(ids);
	return 0;
}

/* Current anonymous and file-backed resident memory (MiB), from /proc. */
static void rss_split(double *anon, double *file)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	*anon = *file = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long kb;
		if (sscanf(line, "RssAnon: %lu", &kb) == 1)
			*anon = kb / 1024.0;
		else if (sscanf(line, "RssFile: %lu", &kb) == 1)
			*file = kb / 1024.0;
	}
	if (f)
		fclose(f);
}

struct scan {
	size_t n, bytes;
};

static int scan_cb(const struct store_hit *hit, void *ctx)
{
	struct scan *sc = ctx;
	sc->n++;
	sc->bytes += hit->rec.env[hit->rec.env_len / 2];  /* touch the record */
	return 0;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	char dir[4096], marker[4200], dbdir[4200];
	uint8_t alliance[PROTO_ID_BYTES];
	struct store *s = NULL;
	struct store_txn *t = NULL;
	struct report *r = NULL;
	int rc;

	if (n < 1000)
		n = 1000;
	if (proto_init() < 0)
		return 1;
	if (argc > 2) {
		snprintf(dir, sizeof(dir), "%s", argv[2]);
		mkdir(dir, 0700);
	} else {
		snprintf(dir, sizeof(dir), "/tmp/agora-bench-report.XXXXXX");
		if (!mkdtemp(dir))
			return 1;
	}
	snprintf(marker, sizeof(marker), "%s/built-%zu", dir, n);
	snprintf(dbdir, sizeof(dbdir), "%s/db", dir);
	FILE *mf = fopen(marker, "rb");
	if (mf && fread(alliance, 1, PROTO_ID_BYTES, mf) == PROTO_ID_BYTES) {
		fclose(mf);
		printf("reusing the store of %zu records in %s\n", n, dir);
	} else {
		if (mf)
			fclose(mf);
		printf("building a store of %zu records in %s ...\n", n, dir);
		fflush(stdout);
		mkdir(dbdir, 0700);
		int pfd[2];
		if (pipe(pfd) < 0)
			return 1;
		double t0 = bench_now();
		pid_t pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			int st = generate(dbdir, n, alliance);
			if (write(pfd[1], alliance, PROTO_ID_BYTES) != PROTO_ID_BYTES)
				st = 1;
			_exit(st);
		}
		close(pfd[1]);
		int status = 0;
		ssize_t got = read(pfd[0], alliance, PROTO_ID_BYTES);
		waitpid(pid, &status, 0);
		close(pfd[0]);
		if (got != PROTO_ID_BYTES || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "bench_report: building the store failed\n");
			return 1;
		}
		printf("built in %.1f s\n", bench_now() - t0);
		if ((mf = fopen(marker, "wb"))) {
			fwrite(alliance, 1, PROTO_ID_BYTES, mf);
			fclose(mf);
		}
	}

	if ((rc = store_open(&s, dbdir, STORE_OPEN_READONLY)) < 0)
		die("store_open", rc);
	double rss0 = bench_peak_rss_mib();

	/* The machine's limit on this store: the same queries, no decoding. */
	static const enum proto_kind kinds[] = {
		PROTO_KIND_ADMISSION, PROTO_KIND_PROFILE, PROTO_KIND_TARGET, PROTO_KIND_INVENTORY,
		PROTO_KIND_MEASURE, PROTO_KIND_RESULT, PROTO_KIND_LESSON, PROTO_KIND_ENDORSEMENT,
	};
	struct scan sc = { 0, 0 };
	double best_scan = 1e9, best_report = 1e9, best_render = 1e9;
	struct report_options o;
	memset(&o, 0, sizeof(o));
	o.alliance = alliance;
	o.trim = s;
	size_t members = 0, measures = 0;
	double anon = 0, filemap = 0;
	/* Three rounds each, best time: the first warms the page cache. */
	for (int round = 0; round < 3; round++) {
		if ((rc = store_txn_begin(s, &t)) < 0)
			die("txn", rc);
		double t0 = bench_now();
		sc.n = 0;
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			struct store_query q;
			memset(&q, 0, sizeof(q));
			q.alliance = alliance;
			q.kind = kinds[k];
			q.sort = STORE_SORT_OLDEST;
			q.governance = kinds[k] == PROTO_KIND_ADMISSION;
			if ((rc = store_query(t, &q, scan_cb, &sc, NULL)) < 0)
				die("scan", rc);
		}
		double t1 = bench_now();
		if (t1 - t0 < best_scan)
			best_scan = t1 - t0;
		/* The bare scan mapped the whole store; let go of it and start a
		 * new peak, so the peak below is the report's own
		 * (report_collect trims as it goes). */
		store_trim(s);
		bench_reset_peak_rss();
		t1 = bench_now();
		if ((rc = report_collect(&r, t, &o)) < 0)
			die("report_collect", rc);
		double t2 = bench_now();
		if (round == 0)
			rss_split(&anon, &filemap);
		if (t2 - t1 < best_report)
			best_report = t2 - t1;
		FILE *devnull = fopen("/dev/null", "w");
		if (!devnull || (rc = report_write(devnull, r, REPORT_TABLE, "en", 0)) < 0)
			die("report_write", rc);
		fclose(devnull);
		double t3 = bench_now();
		if (t3 - t2 < best_render)
			best_render = t3 - t2;
		members = r->n_members;
		for (int st = 0; st < REPORT_STATUSES; st++)
			measures += round == 0 ? r->by_status[st] : 0;
		report_free(r);
		r = NULL;
		store_txn_end(t);
		t = NULL;
	}
	double rss = bench_peak_rss_mib();
	double total = best_report + best_render;

	printf("\nreport over %zu records (%zu members, %zu measures)\n", sc.n, members, measures);
	printf("  machine limit: bare indexed scan, no decoding  %.3f s  (%.0f records/s)\n",
	       best_scan, sc.n / best_scan);
	printf("  report_collect (decode + compute)              %.3f s  (%.0f records/s, "
	       "%.0f %% of the scan rate)\n", best_report, sc.n / best_report,
	       100.0 * best_scan / best_report);
	printf("  render (table)                                 %.3f s\n", best_render);
	printf("  total                                          %.3f s   target < 2 s: %s\n",
	       total, total < 2.0 ? "met" : "NOT met");
	printf("  peak RSS while the report runs (VmHWM)        %.0f MiB (%.0f MiB before the "
	       "first query)   target < 256 MB: %s\n", rss, rss0, rss * 1.048576 < 256 ? "met" : "NOT met");
	printf("  of which, after the report was built: %.0f MiB the process's own memory, "
	       "%.0f MiB pages of the store's file mapped by LMDB (shared page cache)\n",
	       anon, filemap);
	store_close(s);
	return 0;
}
