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

#include "cli/cli_int.h"
#include "cli/control_int.h"

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
	uint8_t *buf = NULL, hdr[PROTO_CONTROL_HDR];
	size_t len = 0, rlen = 0;
	int fd, rc;

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (store_home_path(addr.sun_path, sizeof(addr.sun_path), ctx->home, STORE_HOME_SOCK, NULL))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		goto out;
	}
	if ((rc = proto_control_request_pack(&buf, &len, req)) < 0) {
		rc = rc == PROTO_E_NOMEM ? -ENOMEM : -EMSGSIZE;
		goto out;
	}
	if ((rc = io_all(fd, buf, len, true, deadline)))
		goto out;
	free(buf);
	buf = NULL;
	if ((rc = io_all(fd, hdr, sizeof(hdr), false, deadline)))
		goto out;
	rlen = proto_control_get_len(hdr);
	if (rlen > PROTO_CONTROL_RESPONSE_MAX) {
		rc = -EPROTO;
		goto out;
	}
	if (!(buf = malloc(rlen ? rlen : 1))) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = io_all(fd, buf, rlen, false, deadline)))
		goto out;
	rc = proto_control_response_decode(out, buf, rlen) == 0 ? 0 : -EPROTO;
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
