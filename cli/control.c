/*
 * control.c - client side of agorad's control socket.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/control.h"

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Move len bytes in or out before the deadline. */
static int io_all(int fd, uint8_t *buf, size_t len, bool writing, int64_t deadline)
{
	size_t done = 0;
	while (done < len) {
		struct pollfd p = { .fd = fd, .events = writing ? POLLOUT : POLLIN };
		int64_t left = deadline - mono_ms();
		ssize_t n;
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		n = writing ? send(fd, buf + done, len - done, MSG_NOSIGNAL)
		            : recv(fd, buf + done, len - done, 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPROTO;
		done += (size_t)n;
	}
	return 0;
}

int cli_control_call(struct cli_ctx *ctx, const Agora__Control__Request *req,
                     Agora__Control__Response **out)
{
	struct sockaddr_un addr;
	int64_t deadline = mono_ms() + CLI_CONTROL_TIMEOUT_MS;
	uint8_t *buf = NULL, hdr[4];
	size_t len;
	uint32_t rlen;
	int fd, rc, n;

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/agorad.sock", ctx->home);
	if (n < 0 || (size_t)n >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		goto out;
	}
	len = agora__control__request__get_packed_size(req);
	if (!(buf = malloc(len + 4))) {
		rc = -ENOMEM;
		goto out;
	}
	buf[0] = (uint8_t)(len >> 24);
	buf[1] = (uint8_t)(len >> 16);
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	agora__control__request__pack(req, buf + 4);
	if ((rc = io_all(fd, buf, len + 4, true, deadline)))
		goto out;
	free(buf);
	buf = NULL;
	if ((rc = io_all(fd, hdr, 4, false, deadline)))
		goto out;
	rlen = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (rlen > CLI_CONTROL_RESPONSE_MAX) {
		rc = -EPROTO;
		goto out;
	}
	if (!(buf = malloc(rlen ? rlen : 1))) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = io_all(fd, buf, rlen, false, deadline)))
		goto out;
	*out = agora__control__response__unpack(NULL, rlen, buf);
	rc = *out ? 0 : -EPROTO;
out:
	free(buf);
	close(fd);
	return rc;
}

void cli_control_poke(struct cli_ctx *ctx)
{
	Agora__Control__Request req = AGORA__CONTROL__REQUEST__INIT;
	Agora__Control__PokeReq poke = AGORA__CONTROL__POKE_REQ__INIT;
	Agora__Control__Response *resp = NULL;

	req.req_case = AGORA__CONTROL__REQUEST__REQ_POKE;
	req.poke = &poke;
	/* Failure is not an error: the record is stored either way and the
	 * node's one-second poll finds it. */
	if (cli_control_call(ctx, &req, &resp) == 0)
		agora__control__response__free_unpacked(resp, NULL);
}
