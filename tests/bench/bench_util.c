/* bench_util.c - see bench_util.h. */
#include "bench_util.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "storage/storage.h"

double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_sign_rate(double seconds)
{
	unsigned char pk[32], sk[64], sig[64], msg[1024];
	double t0 = bench_now(), t;
	size_t n = 0;

	crypto_sign_keypair(pk, sk);
	randombytes_buf(msg, sizeof(msg));
	do {
		for (int i = 0; i < 64; i++, n++) {
			msg[0] = (unsigned char)n;
			crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
		}
		t = bench_now() - t0;
	} while (t < seconds);
	sodium_memzero(sk, sizeof(sk));
	return (double)n / t;
}

struct verify_job {
	double seconds;
	size_t done;
};

static void *verify_thread(void *arg)
{
	struct verify_job *job = arg;
	unsigned char pk[32], sk[64], sig[64], msg[1024];
	double t0 = bench_now();

	crypto_sign_keypair(pk, sk);
	randombytes_buf(msg, sizeof(msg));
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
	do {
		for (int i = 0; i < 64; i++, job->done++)
			if (crypto_sign_verify_detached(sig, msg, sizeof(msg), pk) != 0)
				abort();
	} while (bench_now() - t0 < job->seconds);
	return NULL;
}

double bench_verify_rate(double seconds, int threads)
{
	pthread_t tid[16];
	struct verify_job jobs[16];
	double t0 = bench_now(), t;
	size_t total = 0;

	if (threads < 1 || threads > 16)
		threads = 1;
	for (int i = 0; i < threads; i++) {
		jobs[i].seconds = seconds;
		jobs[i].done = 0;
		pthread_create(&tid[i], NULL, verify_thread, &jobs[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		total += jobs[i].done;
	}
	t = bench_now() - t0;
	return (double)total / t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double bench_percentile(double *samples, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(samples, n, sizeof(*samples), cmp_double);
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return samples[i < n ? i : n - 1];
}

double bench_peak_rss_mib(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	double kb = -1;

	/* VmHWM, which bench_reset_peak_rss() can reset; getrusage's maximum
	 * cannot be reset. */
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %lf kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	if (kb < 0) {
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		kb = (double)ru.ru_maxrss;
	}
	return kb / 1024.0;
}

uint64_t bench_bytes_written(int pid)
{
	char path[64], line[128];
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/io", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/io");
	FILE *f = fopen(path, "re");
	unsigned long long w = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "wchar: %llu", &w) == 1)
			break;
	if (f)
		fclose(f);
	return w;
}

int bench_reset_peak_rss(void)
{
	/* Linux: writing 5 to clear_refs resets VmHWM to the current RSS. */
	FILE *f = fopen("/proc/self/clear_refs", "we");
	int ok;

	if (!f)
		return -1;
	ok = fputs("5", f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

uint64_t bench_dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t total = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		/* Blocks actually allocated: LMDB's map file is sparse. */
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			total += (uint64_t)st.st_blocks * 512;
	}
	closedir(d);
	return total;
}

void bench_admit(struct store *s, const struct proto_key *coord, const uint8_t alliance[32],
                 const uint8_t member[32], uint64_t now_ms)
{
	Agora__Record rec = AGORA__RECORD__INIT;
	Agora__Admission ad = AGORA__ADMISSION__INIT;
	struct proto_error err;
	ad.has_member = true;
	ad.member.len = 32;
	ad.member.data = (uint8_t *)member;
	ad.name = "Bench Kommune";
	ad.country = "DK";
	ad.has_role = true;
	ad.role = AGORA__ROLE__ROLE_MEMBER;
	rec.body_case = AGORA__RECORD__BODY_ADMISSION;
	rec.admission = &ad;
	int rc = store_publish(s, coord, alliance, &rec, now_ms, NULL, NULL, NULL, &err);
	if (rc) {
		fprintf(stderr, "admission: %s: %s %s\n", store_strerror(rc), err.field, err.msg);
		exit(1);
	}
}
