/*
 * node.h - agorad: the networked agora node (one libuv loop).
 *
 * This is the contract between node/ and agorad.c (and the tests): load a
 * configuration, build a node on a loop, run it until SIGINT/SIGTERM.
 * Session, sync and control internals live in node/node_int.h.
 *
 * Errors: 0, -errno, or a NODE_E_* code (range -3300..-3399); the STORE_E_*
 * / PROTO_E_* codes of the libraries below are passed up.
 * Threads: everything runs on the loop thread, except the store jobs (every
 * write, node/jobs.c), which run on libuv's threadpool one at a time.  The
 * loop never takes a lock and never writes to the store.
 */
#ifndef AGORA_NODE_NODE_H
#define AGORA_NODE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#define NODE_DEFAULT_PORT 7420
#define NODE_HOST_MAX 256          /* = STORE_CONF_HOST_MAX */
#define NODE_HOOK_TIMEOUT_S 30     /* [hook] timeout default */

enum node_error_code {
	NODE_E_CONFIG = -3300,    /* agora.conf is invalid (see the message) */
	NODE_E_ADDRESS = -3301,   /* an address is not HOST:PORT */
};

const char *node_strerror(int code);

/* ------------------------------------------------------------- logging */

enum node_level {
	NODE_LOG_ERROR = 0,
	NODE_LOG_WARN = 1,
	NODE_LOG_INFO = 2,
	NODE_LOG_DEBUG = 3,
};

/* Where log lines go; one per process, owned by main(). */
struct node_log {
	enum node_level level;    /* lines above this level are dropped */
	bool journal;             /* prefix "<N>" priorities ($JOURNAL_STREAM set);
	                             otherwise an ISO 8601 UTC timestamp */
	FILE *out;                /* stderr */
	uint64_t (*now_ms)(void); /* wall clock for the timestamp; NULL: the real one
	                             (tests pin it) */
};

/* "error" "warn" "info" "debug" -> level.  0 or NODE_E_CONFIG. */
int node_log_level_parse(enum node_level *out, const char *name);
/*
 * One line, newlines (any control character) replaced by spaces:
 *   under journald:  "<N><level> <component>: message"
 *   otherwise:       "2026-12-06T21:16:24.123Z <level> <component>: message"
 */
void node_log(const struct node_log *log, enum node_level level, const char *component,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ms (unix time) as "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) into out (cap >= 25). */
void node_log_stamp(char *out, size_t cap, uint64_t ms);

/* ------------------------------------------------------------- config */

struct node_peer_conf {
	uint8_t key[32];
	char name[64];
	char host[NODE_HOST_MAX];  /* empty: accept only, never dial */
	uint16_t port;
	bool bootstrap;            /* bootstrap = yes: dialled by the mesh only while the node
	                              reaches no other member (the invite's coordinator) */
	int line;                  /* line of its [peer] header */
};

/* A [hook] (node/hooks.c): run command for each new record that `agora
 * watch --jsonl FILTER` prints, the record's JSON line on its stdin. */
struct node_hook_conf {
	char command[1024];        /* words split by node_hook_split, no shell */
	char filter[1024];         /* `agora watch` options; "" for every record */
	unsigned timeout_s;        /* killed after this long (default NODE_HOOK_TIMEOUT_S) */
	int line;                  /* its [hook] line in agora.conf */
};

struct node_config {
	char name[128];            /* [node] name */
	char listen_host[NODE_HOST_MAX];
	uint16_t listen_port;
	bool has_listen;
	enum node_level log_level;
	bool has_log_level;
	unsigned connections;      /* [node] connections: the mesh's bound (0: default 8) */
	struct node_peer_conf *peers;   /* malloc()ed, n_peers of them: node_config_dispose */
	size_t n_peers;
	struct node_hook_conf *hooks;   /* malloc()ed, n_hooks of them: node_config_dispose */
	size_t n_hooks;
	uint64_t attach_max_file;  /* [attachments] max-file (0: the default) */
	uint64_t attach_quota;     /* [attachments] quota, per alliance (0: the default) */
	char error[256];           /* "agora.conf:12: ..." when loading failed */
};

/*
 * Load <home>/agora.conf (path given) into *cfg (caller-allocated), through
 * storage's parser (store_conf_load): a missing file is an empty
 * configuration; an invalid one is NODE_E_CONFIG with cfg->error naming
 * file and line ("agora.conf:12: ...").  On top of the parser's checks,
 * agorad refuses an unknown log-level name.  -errno when the file cannot be
 * read.  Any number of [peer] sections (no fixed cap).  Free the peers
 * with node_config_dispose (also after a failure).
 */
int node_config_load(struct node_config *cfg, const char *path);
void node_config_dispose(struct node_config *cfg);   /* frees peers, hooks; accepts NULL */

/*
 * Split a [hook] command or filter into words, without a shell: blanks
 * separate words; '...' keeps everything inside as it is; "..." too, except
 * that a backslash there escapes " and \; outside quotes a backslash
 * escapes the next character.  *out (argv-style, NULL-ended, one malloc()
 * block: free(*out)) and *n on success.  NODE_E_CONFIG for an unclosed
 * quote or a trailing backslash, -ENOMEM.
 */
int node_hook_split(char ***out, size_t *n, const char *s);
/* Same, from text in memory (for tests and fuzzing); `label` names it. */
int node_config_parse(struct node_config *cfg, const char *text, size_t len,
                      const char *label);

/* "HOST:PORT" or "[V6]:PORT" -> host, port (store_conf_hostport, which
 * agora.conf's parser uses).  allow_zero: port 0 is ok.  0 or
 * NODE_E_ADDRESS. */
int node_parse_hostport(char host[NODE_HOST_MAX], uint16_t *port, const char *s,
                        bool allow_zero);

/* ------------------------------------------------------------- node */

struct node;
struct store;
struct proto_key;

struct node_env;

struct node_options {
	const char *home;          /* data directory */
	const char *listen;        /* overrides [node] listen; NULL: config/default */
	const struct node_log *log;
	const struct node_env *env;/* clock and job runner (node_int.h); NULL: the real ones */
};

/*
 * Open the store and identity, bind the listener and control socket, set
 * up signal handlers and timers on loop, dial the configured peers.  The
 * node borrows key (until node_free) and takes nothing else.
 */
int node_new(struct node **out, uv_loop_t *loop, const struct node_options *opt,
             const struct node_config *cfg, struct proto_key *key);
/* Begin a clean stop (what SIGINT/SIGTERM do): the loop ends by itself. */
void node_stop(struct node *n);
/* Free after uv_run() returned (every handle closed).  Accepts NULL. */
void node_free(struct node *n);

#endif
