/*
 * log.c - one line per event on stderr: "<level> <component>: message",
 * with sd-daemon "<N>" priority prefixes when journald reads the stream,
 * and an ISO 8601 UTC timestamp in front when it does not (journald stamps
 * its own lines; a log file or a terminal has nothing else to say when).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "node/node.h"

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const int level_prio[] = { 3, 4, 6, 7 };   /* syslog priorities */

int node_log_level_parse(enum node_level *out, const char *name)
{
	for (int i = 0; i < 4; i++)
		if (!strcmp(name, level_names[i])) {
			*out = (enum node_level)i;
			return 0;
		}
	if (!strcmp(name, "warning")) {
		*out = NODE_LOG_WARN;
		return 0;
	}
	return NODE_E_CONFIG;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void node_log_stamp(char *out, size_t cap, uint64_t ms)
{
	time_t secs = (time_t)(ms / 1000u);
	struct tm tm;
	char day[24];

	if (!gmtime_r(&secs, &tm) || !strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(out, cap, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out, cap, "%s.%03uZ", day, (unsigned)(ms % 1000u));
}

void node_log(const struct node_log *log, enum node_level level, const char *component,
              const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!log || level > log->level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One event, one line: a peer's name must never forge a log line. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	if (log->journal) {
		fprintf(log->out ? log->out : stderr, "<%d>%s %s: %s\n", level_prio[level],
		        level_names[level], component, msg);
	} else {
		char stamp[32];
		node_log_stamp(stamp, sizeof(stamp), log->now_ms ? log->now_ms() : wall_ms());
		fprintf(log->out ? log->out : stderr, "%s %s %s: %s\n", stamp, level_names[level],
		        component, msg);
	}
	fflush(log->out ? log->out : stderr);
}

const char *node_strerror(int code)
{
	switch (code) {
	case NODE_E_CONFIG: return "invalid configuration";
	case NODE_E_ADDRESS: return "address is not HOST:PORT";
	default: return "node error";
	}
}
