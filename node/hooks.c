/*
 * hooks.c - [hook] in agora.conf: run a command for each new record that
 * matches a filter, the record as one line of JSON on the command's stdin.
 *
 * Which records match, and their JSON, are exactly what `agora watch
 * --jsonl FILTER` prints: each hook keeps one such child (the agora next to
 * agorad's own executable, else the one on $PATH) and reads its lines from
 * a pipe.  So a hook's filter is the filter of `agora query`, municipality
 * names and all, and its JSON is that of `agora query --jsonl`, with one
 * parser and one encoder for both, in cli/.
 *
 * Everything happens on the loop and never waits on a child: each line
 * waits in its hook's queue (at most HOOK_QUEUE_MAX; beyond that the
 * oldest is dropped and logged), at most HOOK_RUNNING_MAX commands run at
 * a time across all hooks, and a command still running after its timeout
 * is killed (SIGKILL) and logged.  A command that exits non-zero is
 * logged.  A watcher that exits is started again on the tick, at most
 * every HOOK_RESTART_MS, unless it refused its filter (a usage error).
 * Commands are split into words (node_hook_split) and started directly:
 * no shell ever reads them.
 *
 * A reload of agora.conf (SIGHUP) compares the [hook]s by command and
 * filter: the same hook keeps its watcher, so no record is lost or given
 * twice across a reload; a removed hook is retired (watcher stopped, queue
 * dropped) and freed once its watcher's handles and its last command have
 * closed, since those callbacks still point at it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/node_int.h"

#define HOOK_RUNNING_MAX 4          /* commands running at once, all hooks together */
#define HOOK_QUEUE_MAX 1024         /* lines waiting per hook */
#define HOOK_LINE_MAX (8u << 20)    /* a longer line (a record's JSON) is dropped */
#define HOOK_RESTART_MS 5000
#define HOOK_WATCH_USAGE 2          /* agora's exit status for a bad command line */

struct hook_line {
	struct hook_line *next;
	size_t len;
	char text[];                /* len bytes, ending in '\n' */
};

/* One [hook]: its conf and its `agora watch` child. */
struct hook {
	struct hooks *hs;
	struct hook *next_retired;  /* in hs->retired, once its [hook] entry is gone */
	bool retired;               /* freed when its watcher and runs have closed */
	unsigned n_runs;            /* hook_runs of it not yet freed */
	struct node_hook_conf conf;
	size_t index;               /* 1-based, as the log names it */
	uv_process_t proc;
	uv_pipe_t out;              /* the child's stdout */
	bool running;               /* proc and out are open */
	bool refused;               /* agora watch refused the filter: not restarted */
	unsigned open_handles;      /* of proc and out, not yet closed */
	uint64_t started_ms;
	char *buf;                  /* a line being read */
	size_t len, cap;
	bool skipping;              /* the line being read is too long: drop it */
	struct hook_line *qhead, *qtail;
	size_t qlen;
};

/* One command run: the process, its stdin and its timeout. */
struct hook_run {
	struct hook *h;
	uv_process_t proc;
	uv_pipe_t in;
	uv_timer_t timer;
	uv_write_t wreq;
	struct hook_line *line;
	unsigned open_handles;      /* freed when the last one closes */
	bool exited;
	struct hook_run *next;
};

struct hooks {
	struct node *n;
	struct hook **v;            /* the [hook]s of agora.conf, in its order */
	size_t nv;
	struct hook *retired;       /* removed by a reload, some handle still open */
	struct hook_run *runs;
	size_t running;
	char agora[4200];           /* the agora that watches */
};

/* ------------------------------------------------------------ splitting */

int node_hook_split(char ***out, size_t *n, const char *s)
{
	size_t len = strlen(s), words = 0;
	/* room for every pointer and every byte, whatever the words are */
	char **argv = malloc((len / 2 + 2) * sizeof(char *) + len + 1);
	char *dst;
	bool in_word = false;

	if (!argv)
		return -ENOMEM;
	dst = (char *)(argv + len / 2 + 2);
	for (const char *p = s; *p; p++) {
		if (*p == ' ' || *p == '\t') {
			if (in_word)
				*dst++ = '\0';
			in_word = false;
			continue;
		}
		if (!in_word) {
			argv[words++] = dst;
			in_word = true;
		}
		if (*p == '\'') {
			const char *e = strchr(p + 1, '\'');
			if (!e)
				goto bad;
			memcpy(dst, p + 1, (size_t)(e - p - 1));
			dst += e - p - 1;
			p = e;
		} else if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (!*p)
					goto bad;
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				*dst++ = *p;
			}
		} else if (*p == '\\') {
			if (!p[1])
				goto bad;
			*dst++ = *++p;
		} else {
			*dst++ = *p;
		}
	}
	if (in_word)
		*dst = '\0';
	argv[words] = NULL;
	*out = argv;
	*n = words;
	return 0;
bad:
	free(argv);
	return NODE_E_CONFIG;
}

/* --------------------------------------------------------------- runs */

static void pump(struct hooks *hs);
static void hook_reap(struct hook *h);

static void run_handle_closed(uv_handle_t *handle)
{
	struct hook_run *r = handle->data;
	struct hook *h = r->h;
	if (--r->open_handles)
		return;
	free(r->line);
	free(r);
	h->n_runs--;
	hook_reap(h);
}

static void run_end(struct hook_run *r)
{
	struct hooks *hs = r->h->hs;
	for (struct hook_run **pp = &hs->runs; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	hs->running--;
	uv_close((uv_handle_t *)&r->timer, run_handle_closed);
	uv_close((uv_handle_t *)&r->proc, run_handle_closed);
	if (!uv_is_closing((uv_handle_t *)&r->in))
		uv_close((uv_handle_t *)&r->in, run_handle_closed);
}

static void run_exit(uv_process_t *p, int64_t status, int sig)
{
	struct hook_run *r = p->data;
	struct hooks *hs = r->h->hs;

	if (sig)
		NLOG(hs->n, NODE_LOG_WARN, "hook", "hook %zu (%s): ended by signal %d%s", r->h->index,
		     r->h->conf.command, sig, sig == SIGKILL ? " (timed out)" : "");
	else if (status)
		NLOG(hs->n, NODE_LOG_WARN, "hook", "hook %zu (%s): exit status %lld", r->h->index,
		     r->h->conf.command, (long long)status);
	r->exited = true;
	run_end(r);
	pump(hs);
}

static void run_timeout(uv_timer_t *t)
{
	struct hook_run *r = t->data;
	NLOG(r->h->hs->n, NODE_LOG_WARN, "hook", "hook %zu (%s): still running after %u s: killed",
	     r->h->index, r->h->conf.command, r->h->conf.timeout_s);
	uv_process_kill(&r->proc, SIGKILL);
}

static void run_written(uv_write_t *w, int status)
{
	struct hook_run *r = w->data;
	/* EOF tells the command the record is whole; a command that does not
	 * read its stdin (status EPIPE) is no error of ours */
	(void)status;
	if (!uv_is_closing((uv_handle_t *)&r->in))
		uv_close((uv_handle_t *)&r->in, run_handle_closed);
}

/* Start h's command for line (taken over).  0, or a libuv error with the
 * line freed. */
static int run_start(struct hook *h, struct hook_line *line)
{
	struct hooks *hs = h->hs;
	struct hook_run *r = calloc(1, sizeof(*r));
	uv_process_options_t po;
	uv_stdio_container_t io[3];
	char **argv = NULL;
	size_t argc;
	int rc;

	if (!r || node_hook_split(&argv, &argc, h->conf.command) || !argc) {
		free(r);
		free(argv);
		free(line);
		return UV_ENOMEM;
	}
	r->h = h;
	h->n_runs++;                /* until run_handle_closed frees r */
	r->line = line;
	r->proc.data = r->in.data = r->timer.data = r->wreq.data = r;
	uv_pipe_init(hs->n->loop, &r->in, 0);
	uv_timer_init(hs->n->loop, &r->timer);
	memset(&po, 0, sizeof(po));
	io[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
	io[0].data.stream = (uv_stream_t *)&r->in;
	io[1].flags = UV_IGNORE;
	io[2].flags = UV_INHERIT_FD;    /* its complaints reach agorad's log */
	io[2].data.fd = 2;
	po.file = argv[0];
	po.args = argv;
	po.exit_cb = run_exit;
	po.stdio = io;
	po.stdio_count = 3;
	rc = uv_spawn(hs->n->loop, &r->proc, &po);
	free(argv);
	if (rc) {
		NLOG(hs->n, NODE_LOG_WARN, "hook", "hook %zu: cannot run %s: %s", h->index,
		     h->conf.command, uv_strerror(rc));
		/* uv_spawn initialised proc even when it failed */
		r->open_handles = 3;
		uv_close((uv_handle_t *)&r->in, run_handle_closed);
		uv_close((uv_handle_t *)&r->timer, run_handle_closed);
		uv_close((uv_handle_t *)&r->proc, run_handle_closed);
		return rc;
	}
	r->open_handles = 3;
	r->next = hs->runs;
	hs->runs = r;
	hs->running++;
	uv_timer_start(&r->timer, run_timeout, (uint64_t)h->conf.timeout_s * 1000u, 0);
	uv_buf_t b = uv_buf_init(line->text, (unsigned)line->len);
	if (uv_write(&r->wreq, (uv_stream_t *)&r->in, &b, 1, run_written))
		uv_close((uv_handle_t *)&r->in, run_handle_closed);
	return 0;
}

/* Start queued lines while fewer than HOOK_RUNNING_MAX run, taking the
 * hooks in turn so that a busy one does not starve the others. */
static void pump(struct hooks *hs)
{
	bool any = true;

	while (any && hs->running < HOOK_RUNNING_MAX && !hs->n->stopping) {
		any = false;
		for (size_t i = 0; i < hs->nv && hs->running < HOOK_RUNNING_MAX; i++) {
			struct hook *h = hs->v[i];
			struct hook_line *l = h->qhead;
			if (!l)
				continue;
			h->qhead = l->next;
			if (!h->qhead)
				h->qtail = NULL;
			h->qlen--;
			(void)run_start(h, l);
			any = true;
		}
	}
}

/* ------------------------------------------------------------ watchers */

static void enqueue(struct hook *h, const char *text, size_t len)
{
	struct hook_line *l = malloc(sizeof(*l) + len + 1);

	if (!l) {
		NLOG(h->hs->n, NODE_LOG_WARN, "hook", "hook %zu: out of memory: a record skipped",
		     h->index);
		return;
	}
	l->next = NULL;
	l->len = len + 1;
	memcpy(l->text, text, len);
	l->text[len] = '\n';
	if (h->qlen == HOOK_QUEUE_MAX) {
		struct hook_line *old = h->qhead;
		h->qhead = old->next;
		h->qlen--;
		free(old);
		NLOG(h->hs->n, NODE_LOG_WARN, "hook", "hook %zu: %d records wait for it: the oldest "
		     "is skipped", h->index, HOOK_QUEUE_MAX);
	}
	if (h->qtail)
		h->qtail->next = l;
	else
		h->qhead = l;
	h->qtail = l;
	h->qlen++;
}

static void watch_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *b)
{
	struct hook *h = handle->data;
	(void)suggested;
	if (h->cap - h->len < 65536) {
		size_t cap = h->cap ? h->cap * 2 : 131072;
		char *nb = realloc(h->buf, cap);
		if (!nb) {
			*b = uv_buf_init(NULL, 0);
			return;
		}
		h->buf = nb;
		h->cap = cap;
	}
	*b = uv_buf_init(h->buf + h->len, (unsigned)(h->cap - h->len));
}

static void watch_closed(uv_handle_t *handle)
{
	struct hook *h = handle->data;
	if (--h->open_handles)
		return;
	h->running = false;
	hook_reap(h);
}

/* Close what of h's watcher is open (each handle once). */
static void watch_close(struct hook *h)
{
	if (!h->running)
		return;
	if (!uv_is_closing((uv_handle_t *)&h->out))
		uv_close((uv_handle_t *)&h->out, watch_closed);
	if (!uv_is_closing((uv_handle_t *)&h->proc))
		uv_close((uv_handle_t *)&h->proc, watch_closed);
}

static void watch_stop(struct hook *h)
{
	if (h->running && !uv_is_closing((uv_handle_t *)&h->proc))
		uv_process_kill(&h->proc, SIGTERM);
	watch_close(h);
}

static void watch_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
	struct hook *h = st->data;
	size_t start = 0;

	if (nread < 0) {
		if (nread != UV_EOF)
			NLOG(h->hs->n, NODE_LOG_WARN, "hook", "hook %zu: reading agora watch: %s",
			     h->index, uv_strerror((int)nread));
		/* The watcher is ending (or must): its exit callback closes the
		 * process handle, after reading why it ended (watch_exit). */
		if (!uv_is_closing((uv_handle_t *)&h->proc))
			uv_process_kill(&h->proc, SIGTERM);
		if (!uv_is_closing((uv_handle_t *)&h->out))
			uv_close((uv_handle_t *)&h->out, watch_closed);
		return;
	}
	(void)b;
	h->len += (size_t)nread;
	for (size_t i = 0; i < h->len; i++) {
		if (h->buf[i] != '\n')
			continue;
		if (!h->skipping && i > start)
			enqueue(h, h->buf + start, i - start);
		h->skipping = false;
		start = i + 1;
	}
	memmove(h->buf, h->buf + start, h->len - start);
	h->len -= start;
	if (h->len > HOOK_LINE_MAX) {
		NLOG(h->hs->n, NODE_LOG_WARN, "hook", "hook %zu: a record longer than %u bytes of "
		     "JSON is skipped", h->index, HOOK_LINE_MAX);
		h->len = 0;
		h->skipping = true;
	}
	pump(h->hs);
}

static void watch_exit(uv_process_t *p, int64_t status, int sig)
{
	struct hook *h = p->data;
	/* A filter agora watch refuses stays refused: starting it again every
	 * few seconds would only fill the log.  Only a new agora.conf helps. */
	if (status == HOOK_WATCH_USAGE && !sig) {
		h->refused = true;
		NLOG(h->hs->n, NODE_LOG_ERROR, "hook", "hook %zu: `agora watch %s` refuses this "
		     "filter (its message is above): the hook stays off until agora.conf is "
		     "fixed and agorad re-reads it (SIGHUP)", h->index, h->conf.filter);
	} else if (!h->hs->n->stopping) {
		NLOG(h->hs->n, NODE_LOG_WARN, "hook", "hook %zu: agora watch ended (status %lld, "
		     "signal %d); started again in %d s", h->index, (long long)status, sig,
		     HOOK_RESTART_MS / 1000);
	}
	watch_close(h);
}

/* Start h's `agora --home HOME watch --jsonl FILTER...`. */
static int watch_start(struct hook *h)
{
	struct hooks *hs = h->hs;
	struct node *n = hs->n;
	uv_process_options_t po;
	uv_stdio_container_t io[3];
	char **fw = NULL, *argv[64 + 6];
	size_t nf = 0, k = 0;
	int rc;

	if ((rc = node_hook_split(&fw, &nf, h->conf.filter)))
		return rc == -ENOMEM ? UV_ENOMEM : UV_EINVAL;
	if (nf > 64) {
		free(fw);
		NLOG(n, NODE_LOG_ERROR, "hook", "hook %zu: a filter of more than 64 words", h->index);
		return UV_E2BIG;
	}
	argv[k++] = hs->agora;
	argv[k++] = "--home";
	argv[k++] = n->home;
	argv[k++] = "watch";
	argv[k++] = "--jsonl";
	for (size_t i = 0; i < nf; i++)
		argv[k++] = fw[i];
	argv[k] = NULL;
	h->len = 0;
	h->skipping = false;
	h->started_ms = node_mono_ms(n);
	h->proc.data = h->out.data = h;
	uv_pipe_init(n->loop, &h->out, 0);
	memset(&po, 0, sizeof(po));
	io[0].flags = UV_IGNORE;
	io[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[1].data.stream = (uv_stream_t *)&h->out;
	io[2].flags = UV_INHERIT_FD;
	io[2].data.fd = 2;
	po.file = argv[0];
	po.args = argv;
	po.exit_cb = watch_exit;
	po.stdio = io;
	po.stdio_count = 3;
	rc = uv_spawn(n->loop, &h->proc, &po);
	free(fw);
	h->running = true;
	h->open_handles = 2;    /* uv_spawn initialised proc even when it failed */
	if (rc) {
		NLOG(n, NODE_LOG_ERROR, "hook", "hook %zu: cannot run %s watch: %s", h->index,
		     hs->agora, uv_strerror(rc));
		watch_close(h);
		return rc;
	}
	if ((rc = uv_read_start((uv_stream_t *)&h->out, watch_alloc, watch_read)))
		watch_stop(h);
	return rc;
}

/* ----------------------------------------------------------------- api */

/* The agora beside agorad's own executable, else "agora" from $PATH. */
static void find_agora(char *out, size_t cap)
{
	char exe[4096];
	size_t len = sizeof(exe);

	if (uv_exepath(exe, &len) == 0) {
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if ((size_t)snprintf(out, cap, "%s/agora", exe) < cap && access(out, X_OK) == 0)
				return;
		}
	}
	snprintf(out, cap, "agora");
}

static void queue_drop(struct hook *h)
{
	for (struct hook_line *l = h->qhead, *next; l; l = next) {
		next = l->next;
		free(l);
	}
	h->qhead = h->qtail = NULL;
	h->qlen = 0;
}

static void hook_free(struct hook *h)
{
	queue_drop(h);
	free(h->buf);
	free(h);
}

/* Free a retired hook once nothing of the loop points at it any more. */
static void hook_reap(struct hook *h)
{
	struct hooks *hs = h->hs;

	if (!h->retired || h->open_handles || h->n_runs)
		return;
	for (struct hook **pp = &hs->retired; *pp; pp = &(*pp)->next_retired)
		if (*pp == h) {
			*pp = h->next_retired;
			break;
		}
	hook_free(h);
}

/* h's [hook] entry is gone: its watcher ends and its waiting records are
 * dropped; commands of it that run now finish (or time out). */
static void hook_retire(struct hook *h)
{
	struct hooks *hs = h->hs;

	NLOG(hs->n, NODE_LOG_INFO, "hook", "hook %zu: %s (`agora watch %s`) removed from "
	     "agora.conf: stopped", h->index, h->conf.command, h->conf.filter);
	h->retired = true;
	h->next_retired = hs->retired;
	hs->retired = h;
	queue_drop(h);
	watch_stop(h);
	hook_reap(h);
}

static bool same_hook(const struct node_hook_conf *a, const struct node_hook_conf *b)
{
	return !strcmp(a->command, b->command) && !strcmp(a->filter, b->filter);
}

int node_hooks_reload(struct node *n, const struct node_hook_conf *conf, size_t nconf)
{
	struct hooks *hs = n->hooks;
	struct hook **nv = NULL;
	bool *kept = NULL, *fresh = NULL;
	int ret = -ENOMEM;

	/* a SIGHUP while agorad stops must not start children it would leave */
	if ((!hs && !nconf) || n->stopping)
		return 0;
	if (!hs) {
		if (!(hs = calloc(1, sizeof(*hs))))
			return -ENOMEM;
		hs->n = n;
		find_agora(hs->agora, sizeof(hs->agora));
		n->hooks = hs;
	}
	if ((nconf && (!(nv = calloc(nconf, sizeof(*nv))) || !(fresh = calloc(nconf, 1)))) ||
	    (hs->nv && !(kept = calloc(hs->nv, 1))))
		goto out;
	/* Match first, allocate all, and only then change anything, so that
	 * running out of memory leaves the running set as it was. */
	for (size_t i = 0; i < nconf; i++) {
		for (size_t j = 0; j < hs->nv && !nv[i]; j++)
			if (!kept[j] && same_hook(&hs->v[j]->conf, &conf[i])) {
				kept[j] = true;
				nv[i] = hs->v[j];
			}
		if (!nv[i]) {
			if (!(nv[i] = calloc(1, sizeof(**nv))))
				goto out;
			fresh[i] = true;
		}
	}
	for (size_t j = 0; j < hs->nv; j++)
		if (!kept[j])
			hook_retire(hs->v[j]);
	free(hs->v);
	hs->v = nv;
	hs->nv = nconf;
	for (size_t i = 0; i < nconf; i++) {
		struct hook *h = nv[i];
		h->index = i + 1;
		h->conf.timeout_s = conf[i].timeout_s;     /* for its next runs */
		h->conf.line = conf[i].line;
		if (!fresh[i])
			continue;
		h->hs = hs;
		h->conf = conf[i];
		if (watch_start(h) == 0)
			NLOG(n, NODE_LOG_INFO, "hook", "hook %zu: %s for records of `agora watch %s`",
			     h->index, h->conf.command, h->conf.filter);
	}
	nv = NULL;
	ret = 0;
out:
	for (size_t i = 0; nv && i < nconf; i++)
		if (fresh[i])
			free(nv[i]);
	free(nv);
	free(fresh);
	free(kept);
	return ret;
}

int node_hooks_start(struct node *n, const struct node_hook_conf *conf, size_t nconf)
{
	return node_hooks_reload(n, conf, nconf);
}

void node_hooks_tick(struct node *n)
{
	struct hooks *hs = n->hooks;
	uint64_t now = node_mono_ms(n);

	for (size_t i = 0; hs && i < hs->nv && !n->stopping; i++) {
		struct hook *h = hs->v[i];
		if (!h->running && !h->refused && now - h->started_ms >= HOOK_RESTART_MS)
			(void)watch_start(h);
	}
}

void node_hooks_stop(struct node *n)
{
	struct hooks *hs = n->hooks;

	if (!hs)
		return;
	for (size_t i = 0; i < hs->nv; i++)
		watch_stop(hs->v[i]);
	/* commands still running are ended; their records are not retried */
	while (hs->runs) {
		struct hook_run *r = hs->runs;
		uv_process_kill(&r->proc, SIGTERM);
		run_end(r);
	}
}

void node_hooks_free(struct node *n)
{
	struct hooks *hs = n->hooks;

	if (!hs)
		return;
	for (size_t i = 0; i < hs->nv; i++)
		hook_free(hs->v[i]);
	while (hs->retired) {
		struct hook *h = hs->retired;
		hs->retired = h->next_retired;
		hook_free(h);
	}
	free(hs->v);
	free(hs);
	n->hooks = NULL;
}
