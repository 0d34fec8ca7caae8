/*
 * log.c - one line per event on stderr: "<level> <component>: message",
 * with sd-daemon "<N>" priority prefixes when journald reads the stream.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
	if (log->journal)
		fprintf(log->out ? log->out : stderr, "<%d>%s %s: %s\n", level_prio[level],
		        level_names[level], component, msg);
	else
		fprintf(log->out ? log->out : stderr, "%s %s: %s\n", level_names[level], component,
		        msg);
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
