/*
 * bench_sync.c - sync between real agorad processes on loopback.
 *
 *   bench_sync [N] [FEEDS...]    (defaults: N = 1000000, feeds 1000 10000)
 *
 * Prints, each beside the machine's own limit measured in the same run:
 *   1. full sync of N records of about 1 KB from one node to an empty one:
 *      records/s, MB/s, wire bytes per record against record bytes, peak
 *      RSS (VmHWM) of each agorad; raw Ed25519 verifications/s on two
 *      cores and the ratio;
 *   2. reconnect-when-in-sync cost (bytes, ms) for 1,000 and 10,000 feeds;
 *   3. time for a record to cross a line of 10 nodes.
 * AGORAD=path runs that agorad instead of the one built beside it (to
 * compare two builds in the same conditions).
 * Not run by ctest: speed is shown here, never asserted in tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "control.pb-c.h"
#include "proto/proto.h"
#include "storage/storage.h"

static char work[256];
static pid_t children[64];   /* every agorad started, to stop them on failure */
static int n_children;

static void die(const char *what)
{
	fprintf(stderr, "bench_sync: %s\n", what);
	for (int i = 0; i < n_children; i++)
		kill(children[i], SIGKILL);
	exit(1);
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct home {
	char dir[512];
	struct proto_key *key;
	pid_t pid;
	int port;
};

static void home_init(struct home *h, const char *name)
{
	char path[600];
	char *text;
	size_t len;
	snprintf(h->dir, sizeof(h->dir), "%s/%s", work, name);
	mkdir(h->dir, 0700);
	snprintf(path, sizeof(path), "%s/db", h->dir);
	mkdir(path, 0700);
	if (proto_key_generate(&h->key) || proto_key_encode(&text, &len, h->key, NULL))
		die("key");
	snprintf(path, sizeof(path), "%s/identity.key", h->dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		die("identity.key");
	close(fd);
	free(text);
	snprintf(path, sizeof(path), "%s/agora.conf", h->dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "[node]\nname = %s\n", name);
	fclose(f);
}

static void conf_peer(struct home *h, const struct home *peer, bool dial)
{
	char path[600], hex[65];
	snprintf(path, sizeof(path), "%s/agora.conf", h->dir);
	FILE *f = fopen(path, "a");
	proto_hex(hex, peer->key->pk, 32);
	fprintf(f, "[peer]\nkey = %s\n", hex);
	if (dial)
		fprintf(f, "address = 127.0.0.1:%d\n", peer->port);
	fclose(f);
}

static void start(struct home *h)
{
	char port_path[600], listen[] = "127.0.0.1:0";
	snprintf(port_path, sizeof(port_path), "%s/agorad.port", h->dir);
	unlink(port_path);
	h->pid = fork();
	if (h->pid > 0 && n_children < 64)
		children[n_children++] = h->pid;
	if (h->pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		const char *agorad = getenv("AGORAD") ? getenv("AGORAD") : AGORAD_PATH;
		execl(agorad, "agorad", "--home", h->dir, "--listen", listen, "--log-level",
		      "warn", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 2000; i++) {
		FILE *f = fopen(port_path, "r");
		if (f && fscanf(f, "%d", &h->port) == 1) {
			fclose(f);
			return;
		}
		if (f)
			fclose(f);
		usleep(5000);
	}
	die("agorad did not start");
}

/* A /proc/PID/status field ("VmHWM:", "RssAnon:") in MiB. */
static double status_mib(pid_t pid, const char *field)
{
	char path[64], line[256];
	double kb = 0;
	size_t fl = strlen(field);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, fl) && sscanf(line + fl, "%lf", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb / 1024;
}

static double hwm_mib(pid_t pid)
{
	return status_mib(pid, "VmHWM:");
}

static void stop(struct home *h)
{
	int st;
	kill(h->pid, SIGTERM);
	waitpid(h->pid, &st, 0);
}

/* `agora peers --json` of h: sum of bytes in+out, and whether live. */
static bool peers_info(const struct home *h, unsigned long long *bytes, bool *live)
{
	char cmd[8192], line[512];
	unsigned long long v;
	snprintf(cmd, sizeof(cmd), "%s --home %s peers --json 2>/dev/null", AGORA_PATH, h->dir);
	FILE *p = popen(cmd, "r");
	bool any = false;
	*bytes = 0;
	*live = false;
	while (p && fgets(line, sizeof(line), p)) {
		if (sscanf(line, " \"bytes_in\": %llu", &v) == 1 ||
		    sscanf(line, " \"bytes_out\": %llu", &v) == 1) {
			*bytes += v;
			any = true;
		}
		if (strstr(line, "\"state\": \"live\""))
			*live = true;
	}
	if (p)
		pclose(p);
	return any;
}

/* How many of h's peers are live. */
static int live_peers(const struct home *h)
{
	char cmd[8192], line[512];
	int n = 0;
	snprintf(cmd, sizeof(cmd), "%s --home %s peers --json 2>/dev/null", AGORA_PATH, h->dir);
	FILE *p = popen(cmd, "r");
	while (p && fgets(line, sizeof(line), p))
		if (strstr(line, "\"state\": \"live\""))
			n++;
	if (p)
		pclose(p);
	return n;
}

static uint64_t store_records(const struct home *h)
{
	char db[600];
	struct store *s;
	struct store_txn *t;
	struct store_stats st = { 0 };
	snprintf(db, sizeof(db), "%s/db", h->dir);
	if (store_open(&s, db, STORE_OPEN_READONLY))
		return 0;
	if (store_txn_begin(s, &t) == 0) {
		store_stats(t, &st);
		store_txn_end(t);
	}
	store_close(s);
	return st.records;
}

/* ------------------------------------------------------- loop latency */

/*
 * How long agorad's loop takes to answer a control request that touches
 * no store (PeersReq), measured from this process over the control
 * socket: connect, send, read the whole answer.  A thread asks every
 * 10 ms until told to stop, and keeps every sample.
 */
struct probe {
	char sock[700];
	pthread_t thread;
	volatile int stop;
	double *ms;
	size_t n, cap;
	size_t failed;
};

static int probe_once(const char *sock, double *ms)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	Agora__Control__Request req = AGORA__CONTROL__REQUEST__INIT;
	Agora__Control__PeersReq pr = AGORA__CONTROL__PEERS_REQ__INIT;
	uint8_t buf[65536];
	size_t len, got = 0;
	int fd;
	req.req_case = AGORA__CONTROL__REQUEST__REQ_PEERS;
	req.peers = &pr;
	len = agora__control__request__get_packed_size(&req);
	buf[0] = buf[1] = buf[2] = 0;
	buf[3] = (uint8_t)len;
	agora__control__request__pack(&req, buf + 4);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
	double t0 = bench_now();
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    write(fd, buf, len + 4) != (ssize_t)(len + 4)) {
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t r = read(fd, buf + got, sizeof(buf) - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got >= 4 && got >= 4 + ((size_t)buf[0] << 24 | (size_t)buf[1] << 16 |
		                            (size_t)buf[2] << 8 | buf[3]))
			break;
	}
	close(fd);
	*ms = (bench_now() - t0) * 1000;
	return got >= 4 ? 0 : -1;
}

static void *probe_main(void *arg)
{
	struct probe *p = arg;
	while (!p->stop) {
		double ms;
		if (probe_once(p->sock, &ms) == 0) {
			if (p->n == p->cap) {
				p->cap = p->cap ? p->cap * 2 : 4096;
				p->ms = realloc(p->ms, p->cap * sizeof(*p->ms));
			}
			p->ms[p->n++] = ms;
		} else {
			p->failed++;
		}
		usleep(10000);
	}
	return NULL;
}

static void probe_start(struct probe *p, const struct home *h)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->sock, sizeof(p->sock), "%s/agorad.sock", h->dir);
	if (pthread_create(&p->thread, NULL, probe_main, p))
		die("probe thread");
}

/* Stop; print p50 / p99 / max into out. */
static void probe_end(struct probe *p, char *out, size_t cap, double *p99, double *max)
{
	p->stop = 1;
	pthread_join(p->thread, NULL);
	if (!p->n) {
		snprintf(out, cap, "no samples");
		*p99 = *max = 0;
	} else {
		double p50 = bench_percentile(p->ms, p->n, 50);
		*p99 = bench_percentile(p->ms, p->n, 99);
		*max = bench_percentile(p->ms, p->n, 100);
		snprintf(out, cap, "p50 %.2f ms, p99 %.2f ms, max %.2f ms (%zu requests, %zu failed)",
		         p50, *p99, *max, p->n, p->failed);
	}
	free(p->ms);
}

static void found(const struct home *h, uint8_t alliance[32])
{
	char db[600];
	struct store *s;
	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Charter ch = AGORA__CHARTER__INIT;
	struct proto_error err;
	snprintf(db, sizeof(db), "%s/db", h->dir);
	if (store_open(&s, db, 0))
		die("store");
	ProtobufCBinaryData coord = { 32, h->key->pk };
	ch.name = "Bench alliance";
	ch.n_coordinators = 1;
	ch.coordinators = &coord;
	ch.has_policy = true;
	ch.policy = AGORA__ADMISSION_POLICY__ADMISSION_POLICY_ANY_COORDINATOR;
	rec.body_case = AGORA__RECORD__BODY_CHARTER;
	rec.charter = &ch;
	int rc = store_publish(s, h->key, NULL, &rec, wall_ms(), alliance, NULL, NULL, &err);
	if (rc) {
		fprintf(stderr, "charter: %s: %s %s\n", store_strerror(rc), err.field, err.msg);
		exit(1);
	}
	store_close(s);
}

static void admit(const struct home *h, const uint8_t alliance[32], const uint8_t *member)
{
	char db[600];
	struct store *s;
	snprintf(db, sizeof(db), "%s/db", h->dir);
	if (store_open(&s, db, 0))
		die("store");
	bench_admit(s, h->key, alliance, member, wall_ms());
	store_close(s);
}

/* n profile records of ~1 KB by `authors` different keys. */
static size_t fill(const struct home *h, const uint8_t alliance[32], size_t n, size_t authors,
                   size_t desc_len)
{
	char db[600], *desc = calloc(1, desc_len + 1);
	static const char *words[] = { "vådområde ", "klimatilpasning ", "regnvand ", "skov ",
	                               "energi ", "varme ", "cykel ", "sol " };
	struct store *s;
	size_t per = (n + authors - 1) / authors, done = 0;
	size_t k = 0;
	for (size_t i = 0; i < desc_len;) {
		const char *w = words[k++ % 8];
		size_t l = strlen(w);
		if (i + l > desc_len)
			break;
		memcpy(desc + i, w, l);
		i += l;
		desc[i] = '\0';
	}
	snprintf(db, sizeof(db), "%s/db", h->dir);
	if (store_open(&s, db, 0))
		die("store");
	Agora__Record **recs = calloc(1000, sizeof(*recs));
	Agora__Record *rb = calloc(1000, sizeof(*rb));
	Agora__Profile *pb = calloc(1000, sizeof(*pb));
	for (size_t a = 0; a < authors && done < n; a++) {
		struct proto_key *key = h->key;
		uint8_t seed[32] = { 0xbe, 0x7c };
		if (authors > 1) {
			memcpy(seed + 2, &a, sizeof(a));
			proto_key_from_seed(&key, seed);
			bench_admit(s, h->key, alliance, key->pk, wall_ms());
		}
		for (size_t left = per < n - done ? per : n - done; left;) {
			size_t m = left < 1000 ? left : 1000;
			for (size_t i = 0; i < m; i++) {
				agora__record__init(&rb[i]);
				agora__profile__init(&pb[i]);
				pb[i].name = "Bench Kommune";
				pb[i].country = "DK";
				pb[i].description = desc;
				pb[i].language = "da";
				rb[i].body_case = AGORA__RECORD__BODY_PROFILE;
				rb[i].profile = &pb[i];
				recs[i] = &rb[i];
			}
			struct proto_error err;
			int rc = store_publish_batch(s, key, alliance, recs, m, wall_ms(), NULL, NULL,
			                             NULL, NULL, &err);
			if (rc) {
				fprintf(stderr, "publish: %s: %s %s\n", store_strerror(rc), err.field, err.msg);
				exit(1);
			}
			left -= m;
			done += m;
		}
		if (key != h->key)
			proto_key_free(key);
	}
	store_close(s);
	free(recs);
	free(rb);
	free(pb);
	free(desc);
	return done;
}

static void copy_db(const struct home *from, const struct home *to)
{
	char cmd[2000];
	snprintf(cmd, sizeof(cmd), "rm -rf %s/db && cp -r %s/db %s/db", to->dir, from->dir, to->dir);
	if (system(cmd))
		die("copy");
}

static void full_sync(size_t n)
{
	struct home a, b;
	uint8_t alliance[32];
	home_init(&a, "full-a");
	home_init(&b, "full-b");
	found(&a, alliance);
	admit(&a, alliance, b.key->pk);
	copy_db(&a, &b);   /* b holds the alliance's charter and its admission */
	printf("generating %zu records of ~1 KB ...\n", n);
	fill(&a, alliance, n, 1, 900);
	uint64_t total = store_records(&a);
	char db[600];
	/* The machine's speed drifts (a shared host): the limit is measured
	 * before and after the sync, and the sync is held against the faster. */
	double raw_before = bench_verify_rate(2.0, 2);
	conf_peer(&a, &b, false);   /* a accepts b, b dials a */
	start(&a);
	/* The loop's answer while idle, on the sender before it has a peer. */
	struct probe pr;
	char idle_txt[200], sync_txt[200];
	double idle_p99, idle_max, sync_p99, sync_max;
	probe_start(&pr, &a);
	sleep(3);
	probe_end(&pr, idle_txt, sizeof(idle_txt), &idle_p99, &idle_max);
	conf_peer(&b, &a, true);
	/* record bytes: the envelopes, measured from the store's own sizes */
	double t0 = bench_now();
	start(&b);
	probe_start(&pr, &b);   /* the receiver's loop while it ingests */
	double hwm_a = 0, hwm_b = 0, anon_a = 0, anon_b = 0;
	unsigned long long bytes = 0;
	bool live;
	while (store_records(&b) < total) {
		usleep(100000);
		double x = hwm_mib(a.pid), y = hwm_mib(b.pid);
		hwm_a = x > hwm_a ? x : hwm_a;
		hwm_b = y > hwm_b ? y : hwm_b;
		x = status_mib(a.pid, "RssAnon:");
		y = status_mib(b.pid, "RssAnon:");
		anon_a = x > anon_a ? x : anon_a;
		anon_b = y > anon_b ? y : anon_b;
		if (bench_now() - t0 > 3600)
			die("full sync did not finish in an hour");
	}
	double secs = bench_now() - t0;
	probe_end(&pr, sync_txt, sizeof(sync_txt), &sync_p99, &sync_max);
	peers_info(&b, &bytes, &live);
	hwm_a = hwm_mib(a.pid) > hwm_a ? hwm_mib(a.pid) : hwm_a;
	hwm_b = hwm_mib(b.pid) > hwm_b ? hwm_mib(b.pid) : hwm_b;
	uint64_t written_b = bench_bytes_written((int)b.pid);
	stop(&a);
	stop(&b);
	/* Envelope bytes: one envelope is the record plus 67 bytes of framing
	 * and signature; re-read one record's size from a's store. */
	struct store *s;
	struct store_txn *t;
	struct store_record rec;
	size_t env_len = 0;
	snprintf(db, sizeof(db), "%s/db", a.dir);
	if (store_open(&s, db, STORE_OPEN_READONLY) == 0) {
		if (store_txn_begin(s, &t) == 0) {
			/* seq 1 is the charter, 2 b's admission, 3 the first profile */
			if (store_feed_get(t, alliance, a.key->pk, 3, &rec) == 0)
				env_len = rec.env_len;
			store_txn_end(t);
		}
		store_close(s);
	}
	double rate = (double)total / secs;
	double raw_after = bench_verify_rate(2.0, 2);
	double raw = raw_after > raw_before ? raw_after : raw_before;
	printf("\nfull sync of %llu records (envelope %zu bytes) between two agorad on loopback\n",
	       (unsigned long long)total, env_len);
	printf("  time            %.2f s\n", secs);
	printf("  records/s       %.0f\n", rate);
	printf("  MB/s            %.2f (envelope bytes)\n", rate * (double)env_len / 1e6);
	printf("  wire bytes      %llu = %.1f per record, %.2f%% over the envelope bytes\n", bytes,
	       (double)bytes / (double)total,
	       env_len ? 100.0 * ((double)bytes / (double)total - (double)env_len) / (double)env_len
	               : 0.0);
	printf("  peak RSS        sender %.1f MiB, receiver %.1f MiB (VmHWM, includes LMDB's\n"
	       "                  file-backed map pages); anonymous memory (RssAnon, sampled\n"
	       "                  every 100 ms) sender %.1f MiB, receiver %.1f MiB\n",
	       hwm_a, hwm_b, anon_a, anon_b);
	if (env_len)
		printf("  receiver writes %.1f bytes per envelope byte (/proc wchar: its store "
		       "file, and its few\n                  socket writes)\n",
		       (double)written_b / ((double)total * (double)env_len));
	printf("  raw Ed25519 verify on 2 cores: %.0f /s before, %.0f /s after; "
	       "ratio sync/raw (the higher) = %.2f\n", raw_before, raw_after, rate / raw);
	printf("  (targets: >= 0.60 of raw, wire overhead <= 5 %%, RSS <= 64 MB)\n");
	printf("  loop: answer to a control request that reads no store (PeersReq, every 10 ms)\n"
	       "    idle node      %s\n"
	       "    during sync    %s\n"
	       "    p99 during sync - idle p99 = %.2f ms (target <= 5 ms), max %.2f ms (target <= 20 ms)\n",
	       idle_txt, sync_txt, sync_p99 - idle_p99, sync_max);
}

static void reconnect(size_t feeds)
{
	struct home a, b;
	uint8_t alliance[32];
	char na[32], nb[32];
	snprintf(na, sizeof(na), "re%zu-a", feeds);
	snprintf(nb, sizeof(nb), "re%zu-b", feeds);
	home_init(&a, na);
	home_init(&b, nb);
	found(&a, alliance);
	admit(&a, alliance, b.key->pk);
	fill(&a, alliance, feeds, feeds, 20);
	copy_db(&a, &b);
	conf_peer(&a, &b, false);
	start(&a);
	conf_peer(&b, &a, true);
	double t0 = bench_now();
	start(&b);
	unsigned long long bytes = 0;
	bool live = false;
	while (!(peers_info(&b, &bytes, &live) && live)) {
		usleep(2000);
		if (bench_now() - t0 > 60)
			die("reconnect did not go live");
	}
	double ms = (bench_now() - t0) * 1000;
	stop(&a);
	stop(&b);
	printf("\nreconnect in sync, %zu feeds: %llu bytes on the wire (handshake included), "
	       "%.0f ms from agorad start to live (includes process start; polling every 2 ms)\n",
	       feeds + 1, bytes, ms);
}

static void line10(void)
{
	struct home h[10];
	uint8_t alliance[32];
	char name[16], cmd[900];
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "line%d", i);
		home_init(&h[i], name);
	}
	found(&h[0], alliance);
	for (int i = 1; i < 10; i++)
		admit(&h[0], alliance, h[i].key->pk);
	for (int i = 1; i < 10; i++)
		copy_db(&h[0], &h[i]);
	for (int i = 9; i >= 0; i--) {
		if (i > 0)
			conf_peer(&h[i], &h[i - 1], false);
		if (i < 9)
			conf_peer(&h[i], &h[i + 1], true);
		start(&h[i]);
	}
	double t0 = bench_now();
	for (int i = 0; i < 10; i++) {   /* every link of the line is live */
		while (live_peers(&h[i]) < (i == 0 || i == 9 ? 1 : 2)) {
			usleep(2000);
			if (bench_now() - t0 > 60)
				die("line did not go live");
		}
	}
	uint64_t before = store_records(&h[9]), before1 = store_records(&h[1]);
	double ms1 = -1;
	/* Publish at node 0 into its store, then tell the node at once through
	 * the control socket (what `agora publish` does with its poke). */
	snprintf(cmd, sizeof(cmd), "%s --home %s sync >/dev/null", AGORA_PATH, h[0].dir);
	t0 = bench_now();
	fill(&h[0], alliance, 1, 1, 40);
	if (system(cmd) != 0)
		die("agora sync");
	while (store_records(&h[9]) < before + 1) {
		if (ms1 < 0 && store_records(&h[1]) > before1)
			ms1 = (bench_now() - t0) * 1000;   /* off the wire at its first peer */
		usleep(1000);
		if (bench_now() - t0 > 60)
			die("record did not cross the line");
	}
	double ms = (bench_now() - t0) * 1000;
	if (ms1 < 0)
		ms1 = ms;
	for (int i = 0; i < 10; i++)
		stop(&h[i]);
	printf("\na record published at node 1 (agora publish's poke: the node told at once)"
	       " was stored by node 2 in %.0f ms\n  (1 hop: the publish, the poke, the record"
	       " leaving on the wire, its verification and storage at node 2),\n"
	       "  and reached node 10 of a line in %.0f ms (9 hops)\n", ms1, ms);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	snprintf(work, sizeof(work), "%s/agora-bench-sync.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (proto_init() || !mkdtemp(work))
		die("setup");
	signal(SIGPIPE, SIG_IGN);
	printf("bench_sync: work directory %s\n", work);
	full_sync(n);
	if (argc > 2) {
		for (int i = 2; i < argc; i++)
			reconnect(strtoull(argv[i], NULL, 10));
	} else {
		reconnect(1000);
		reconnect(10000);
	}
	line10();
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", work);
	if (system(cmd))
		return 1;
	return 0;
}
