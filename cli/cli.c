/*
 * cli.c - small pieces every command uses: errors and the exit status a
 * failed publish maps to, the clock, progress on a terminal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli_int.h"
#include "cli/fields_int.h"

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

void cli_say_empty(struct cli_ctx *ctx, const char *what)
{
	(void)ctx;
	fprintf(stderr, "%s\n", what ? what : "no records match");
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

int cli_publish_message(char *buf, size_t cap, struct cli_ctx *ctx, int rc,
                        const struct proto_error *err)
{
	if ((rc == PROTO_E_FIELD || rc == PROTO_E_KIND) && err && err->field[0]) {
		char flag[80];
		const char *msg = err->msg;
		size_t fl = strlen(err->field);
		/* proto puts the path in front of the message; we name the flag instead. */
		if (!strncmp(msg, err->field, fl) && msg[fl] == ':')
			msg += fl + 1 + (msg[fl + 1] == ' ');
		fields_flag_name(flag, sizeof(flag), err->field);
		snprintf(buf, cap, "%s: %s", flag, msg);
		return CLI_EXIT_INPUT;
	}
	switch (rc) {
	case PROTO_E_FIELD:
	case PROTO_E_KIND:
		snprintf(buf, cap, "%s", err && err->msg[0] ? err->msg : proto_strerror(rc));
		return CLI_EXIT_INPUT;
	case PROTO_E_TOO_BIG:
		snprintf(buf, cap, "the record is too large (at most %d bytes signed): shorten its texts",
		         PROTO_ENVELOPE_MAX);
		return CLI_EXIT_INPUT;
	case PROTO_E_FUTURE:
		snprintf(buf, cap, "this computer's clock is ahead: fix the system time and publish again");
		return CLI_EXIT_ERROR;
	case STORE_E_TARGET:
		snprintf(buf, cap, "the record it refers to is unknown here or not one of yours: check the id");
		return CLI_EXIT_INPUT;
	case STORE_E_ALLIANCE:
		snprintf(buf, cap, "this node does not hold that alliance: see `agora alliance list`");
		return CLI_EXIT_NOTFOUND;
	case STORE_E_FORK:
		snprintf(buf, cap, "refusing to publish: peers hold newer records of this key than this "
		         "store (restored from a backup?); let agorad sync first");
		return CLI_EXIT_ERROR;
	case STORE_E_READONLY:
		snprintf(buf, cap, "the store is read-only: check the permissions of %s/db", ctx->home);
		return CLI_EXIT_ERROR;
	default:
		snprintf(buf, cap, "cannot store the record: %s", store_strerror(rc));
		return CLI_EXIT_ERROR;
	}
}

int cli_publish_error(struct cli_ctx *ctx, int rc, const struct proto_error *err)
{
	char msg[512];
	int ret = cli_publish_message(msg, sizeof(msg), ctx, rc, err);

	cli_error(ctx, "%s", msg);
	return ret;
}
