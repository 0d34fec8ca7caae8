/*
 * hostile_probe.c - test helper: what the hostile tests measure a node
 * with, and stand-ins for what it talks to (see hostile.c): control-socket
 * latency, control connections that never finish a request, a DNS server
 * that never answers, and the fork evidence in a store.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hostile.h"
#include "storage/storage.h"
#include "control.pb-c.h"

/* --------------------------------------------- control socket */

static int ctl_dial(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* One PeersReq; its latency in ms, or -1 if the node did not answer. */
static long ctl_peers(const char *path)
{
	Agora__Control__Request req = AGORA__CONTROL__REQUEST__INIT;
	Agora__Control__PeersReq pr = AGORA__CONTROL__PEERS_REQ__INIT;
	uint8_t buf[64], hdr[4];
	uint64_t t0 = hw_now_ms();
	int fd = ctl_dial(path);
	if (fd < 0)
		return -1;
	req.req_case = AGORA__CONTROL__REQUEST__REQ_PEERS;
	req.peers = &pr;
	size_t len = agora__control__request__pack(&req, buf + 4);
	buf[0] = buf[1] = buf[2] = 0;
	buf[3] = (uint8_t)len;
	if (send(fd, buf, len + 4, MSG_NOSIGNAL) != (ssize_t)(len + 4)) {
		close(fd);
		return -1;
	}
	size_t got = 0, want = 0;
	for (;;) {
		uint8_t tmp[65536];
		ssize_t n = recv(fd, got < 4 ? hdr + got : tmp, got < 4 ? 4 - got : sizeof(tmp), 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == 4)
			want = 4 + ((size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 |
			            hdr[3]);
		if (want && got >= want)
			break;
	}
	close(fd);
	return want && got >= want ? (long)(hw_now_ms() - t0) : -1;
}

int probe_control(const char *path)
{
	long worst = 0, n = 0, failed = 0;
	while (!hostile_stop_requested()) {
		long ms = ctl_peers(path);
		if (ms < 0)
			failed++;
		else if (ms > worst)
			worst = ms;
		n++;
		usleep(20000);
	}
	printf("%ld\n", worst);
	fprintf(stderr, "probe: %ld PeersReq, slowest answer %ld ms, %ld unanswered\n", n, worst,
	        failed);
	return failed ? 1 : 0;
}

int probe_ctlidle(const char *path, int n, int secs)
{
	int *fds = calloc((size_t)n, sizeof(*fds)), closed = 0;
	static const uint8_t part[2] = { 0, 0 };
	for (int i = 0; i < n; i++) {
		if ((fds[i] = ctl_dial(path)) < 0) {
			fprintf(stderr, "hostile: cannot connect to %s\n", path);
			return 2;
		}
		if (i % 2)   /* half of them start a request and never finish it */
			send(fds[i], part, sizeof(part), MSG_NOSIGNAL);
	}
	uint64_t end = hw_now_ms() + (uint64_t)secs * 1000;
	for (int i = 0; i < n; i++) {
		uint64_t now = hw_now_ms();
		closed += hw_await_close_fd(fds[i], now < end ? (int)(end - now) : 0) == 0;
		close(fds[i]);
	}
	printf("%d of %d idle control connections closed by the node within %d s\n", closed, n,
	       secs);
	free(fds);
	return closed == n ? 0 : 1;
}

/* --------------------------------------------------- D14: DNS */

int probe_silentdns(const char *ip)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(53) };
	uint8_t buf[1500];
	uint64_t queries = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, ip, &a.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("hostile: bind udp 53");
		return 2;
	}
	printf("swallowing DNS queries on %s:53\n", ip);
	fflush(stdout);
	while (!hostile_stop_requested()) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 200) > 0 && recv(fd, buf, sizeof(buf), 0) > 0)
			printf("query %llu swallowed\n", (unsigned long long)++queries);
	}
	fprintf(stderr, "silentdns: %llu queries swallowed\n", (unsigned long long)queries);
	close(fd);
	return 0;
}

static int count_fork(const uint8_t alliance[PROTO_ID_BYTES],
                      const uint8_t author[PROTO_KEY_BYTES], uint64_t seq, const uint8_t *env_a,
                      size_t len_a, const uint8_t *env_b, size_t len_b, void *ctx)
{
	(void)alliance, (void)author, (void)seq, (void)env_a, (void)len_a, (void)env_b, (void)len_b;
	(*(uint64_t *)ctx)++;
	return 0;
}

int probe_forkcount(const char *home)
{
	struct store *s;
	struct store_txn *t;
	char db[4200];
	uint64_t n = 0;
	snprintf(db, sizeof(db), "%s/db", home);
	if (store_open(&s, db, STORE_OPEN_READONLY) || store_txn_begin(s, &t))
		return 2;
	int rc = store_forks(t, count_fork, &n);
	store_txn_end(t);
	store_close(s);
	if (rc)
		return 2;
	printf("%llu\n", (unsigned long long)n);
	return 0;
}
