/*
 * agorad.c - main(): options, identity, configuration, the loop.
 *
 *   agorad [--home DIR] [--listen ADDR:PORT] [--log-level L]
 *          [--passphrase-file FILE]
 *   agorad --version
 */
#include <signal.h>
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "node/node.h"
#include "storage/storage.h"
#include "proto/proto.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: agorad [--home DIR] [--listen ADDR:PORT] [--log-level LEVEL]\n"
	           "              [--passphrase-file FILE]\n"
	           "       agorad --version\n\n"
	           "Runs this agora node: syncs the alliance's records with the peers in\n"
	           "<home>/agora.conf over Noise-encrypted TCP (default 0.0.0.0:7420) and\n"
	           "answers `agora status` on <home>/agorad.sock.  LEVEL: error, warn,\n"
	           "info (default), debug.  Stops cleanly on SIGINT or SIGTERM; re-reads\n"
	           "agora.conf on SIGHUP.\n");
}

int main(int argc, char **argv)
{
	const char *home_flag = NULL, *listen = NULL, *level = NULL, *pass_file = NULL;
	char home[4096], conf_path[4200], msg[512];
	struct node_log log = { .level = NODE_LOG_INFO, .out = stderr };
	struct node_config *cfg = NULL;
	struct proto_key *key = NULL;
	struct store_passphrase_src src = { 0 };
	struct node *node = NULL;
	uv_loop_t loop;
	int rc, ret = 1;

#ifdef __GLIBC__
	/* A block of 320 KiB or more (an exchange's lists of 12,000 feeds,
	 * what a session knows of them while it runs, the version vector) is
	 * mapped on its own and given back when freed.  glibc would otherwise
	 * raise that bound to the largest block freed, and such blocks, once
	 * freed inside the heap, stay resident: 7.9 MB of anonymous memory per
	 * node in a 256-node mesh at 12,000 feeds, 7.2 MB so.  A Records
	 * message (256 KiB of envelopes) stays below: mapping each costs page
	 * faults (bench_sync: 2 % fewer records/s at a 128 KiB bound). */
	mallopt(M_MMAP_THRESHOLD, 320 * 1024);
#endif
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		/* The same words as `agora --version`: one version for the pair. */
		if (!strcmp(a, "--version")) {
			printf("agorad %s\n", AGORA_VERSION);
			return 0;
		}
		if (!strcmp(a, "--home"))
			dst = &home_flag;
		else if (!strcmp(a, "--listen"))
			dst = &listen;
		else if (!strcmp(a, "--log-level"))
			dst = &level;
		else if (!strcmp(a, "--passphrase-file"))
			dst = &pass_file;
		if (!dst || i + 1 >= argc) {
			fprintf(stderr, "agorad: %s '%s'\n", dst ? "missing value for" : "unknown option", a);
			usage(stderr);
			return 2;
		}
		*dst = argv[++i];
	}
	log.journal = getenv("JOURNAL_STREAM") != NULL;
	if (level && node_log_level_parse(&log.level, level)) {
		fprintf(stderr, "agorad: --log-level must be error, warn, info or debug\n");
		return 2;
	}
	if (store_home(home, sizeof(home), home_flag) ||
	    store_home_path(conf_path, sizeof(conf_path), home, STORE_HOME_CONF, NULL)) {
		node_log(&log, NODE_LOG_ERROR, "node", "no data directory: use --home DIR or $AGORA_HOME");
		return 2;
	}
	/* Another user's directory, or one others may write to, could hold a
	 * name planted for agorad to write through (issue 10, D15). */
	if (store_home_check(home, msg, sizeof(msg))) {
		node_log(&log, NODE_LOG_ERROR, "node", "%s", msg);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (proto_init()) {
		node_log(&log, NODE_LOG_ERROR, "node", "cannot initialise libsodium");
		return 1;
	}
	if (!(cfg = calloc(1, sizeof(*cfg))))
		return 1;
	if ((rc = node_config_load(cfg, conf_path))) {
		node_log(&log, NODE_LOG_ERROR, "config", "%s", cfg->error[0] ? cfg->error : "invalid");
		goto out;
	}
	if (!level && cfg->has_log_level)
		log.level = cfg->log_level;
	/* The CLI's loader, without its prompt: agorad never asks. */
	src.file = pass_file;
	if (store_key_load(&key, home, &src, msg, sizeof(msg))) {
		node_log(&log, NODE_LOG_ERROR, "node", "%s", msg);
		goto out;
	}
	if (uv_loop_init(&loop)) {
		node_log(&log, NODE_LOG_ERROR, "node", "cannot start the event loop");
		goto out;
	}
	struct node_options opt = { .home = home, .listen = listen, .log = &log };
	rc = node_new(&node, &loop, &opt, cfg, key);
	if (node || rc == 0) {
		uv_run(&loop, UV_RUN_DEFAULT);
		ret = rc ? 1 : 0;
	}
	node_free(node);
	rc = uv_loop_close(&loop);
	if (rc) {
		node_log(&log, NODE_LOG_ERROR, "node", "handles left open at exit: %s", uv_strerror(rc));
		ret = 1;
	} else if (ret == 0) {
		node_log(&log, NODE_LOG_INFO, "node", "stopped");
	}
out:
	proto_key_free(key);
	node_config_dispose(cfg);
	free(cfg);
	return ret;
}
