/*
 * util.c - small pieces every command uses: errors, clock, progress, and
 * the poke that tells a running node about a local write.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/control.h"
#include "cli/home.h"

void cli_error(struct cli_ctx *ctx, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One line, whatever the message holds: an error must never spill. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "%s: %s\n", ctx && ctx->prog ? ctx->prog : "agora", msg);
}

uint64_t cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void cli_progress_start(struct cli_progress *p, struct cli_ctx *ctx, const char *label,
                        uint64_t total)
{
	p->ctx = ctx;
	p->label = label;
	p->total = total;
	p->done = 0;
	p->last_ms = 0;
}

void cli_progress_step(struct cli_progress *p, uint64_t n)
{
	uint64_t now;

	p->done += n;
	if (!p->ctx || !p->ctx->tty_err)
		return;
	/* Ten updates a second are plenty and keep the terminal cheap. */
	now = mono_ms();
	if (p->last_ms && now - p->last_ms < 100 && p->done < p->total)
		return;
	p->last_ms = now;
	fprintf(stderr, "\r%s  %llu/%llu", p->label, (unsigned long long)p->done,
	        (unsigned long long)p->total);
	fflush(stderr);
}

void cli_progress_end(struct cli_progress *p)
{
	if (p->ctx && p->ctx->tty_err && p->last_ms)
		fprintf(stderr, "\r%s  %llu/%llu\n", p->label, (unsigned long long)p->done,
		        (unsigned long long)p->total);
	p->last_ms = 0;
}

void cli_poke_node(struct cli_ctx *ctx)
{
	/* The record is stored either way; a running node is told so it goes
	 * out at once, and without a node nothing needs to happen. */
	cli_control_poke(ctx);
}
