/* bench_util.h - timing, machine limits and percentiles for the benchmarks. */
#ifndef AGORA_BENCH_UTIL_H
#define AGORA_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic time in seconds. */
double bench_now(void);

/* Raw Ed25519 rates of this machine, measured for about `seconds` each. */
double bench_sign_rate(double seconds);                 /* one core */
double bench_verify_rate(double seconds, int threads);  /* `threads` cores */

/* p-th percentile (0..100) of n samples; sorts the array in place. */
double bench_percentile(double *samples, size_t n, double p);

/* Peak resident set size of this process (VmHWM), in MiB. */
double bench_peak_rss_mib(void);
/* Start a new peak: VmHWM := current RSS.  0, or -1 where unsupported. */
int bench_reset_peak_rss(void);

/* Bytes process pid (0: this one) has passed to write(2) and its kind so
 * far (/proc/PID/io wchar); 0 where unsupported. */
uint64_t bench_bytes_written(int pid);

/* Bytes used by the files in a directory (not recursive). */
uint64_t bench_dir_bytes(const char *dir);

/* The coordinator key admits member ("Bench Kommune", DK, role member) to
 * alliance in store s, dated now_ms; exits on failure.  Only admitted keys
 * may publish (DESIGN decision 7). */
struct store;
struct proto_key;
void bench_admit(struct store *s, const struct proto_key *coord, const uint8_t alliance[32],
                 const uint8_t member[32], uint64_t now_ms);

#endif
