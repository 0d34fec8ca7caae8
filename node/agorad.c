/*
 * agorad.c - main(): options, identity, configuration, the loop.
 *
 *   agorad [--home DIR] [--listen ADDR:PORT] [--log-level L]
 *          [--passphrase-file FILE]
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "node/node.h"
#include "storage/storage.h"
#include "proto/proto.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: agorad [--home DIR] [--listen ADDR:PORT] [--log-level LEVEL]\n"
	           "              [--passphrase-file FILE]\n\n"
	           "Runs this agora node: syncs the alliance's records with the peers in\n"
	           "<home>/agora.conf over Noise-encrypted TCP (default 0.0.0.0:7420) and\n"
	           "answers `agora status` on <home>/agorad.sock.  LEVEL: error, warn,\n"
	           "info (default), debug.  Stops cleanly on SIGINT or SIGTERM; re-reads\n"
	           "agora.conf on SIGHUP.\n");
}

/* Read a whole small file into sodium-guarded memory. */
static int read_secret_file(const char *path, char **out, size_t *len, bool check_mode)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	char *buf;
	ssize_t got;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size > 65536) {
		close(fd);
		return -EINVAL;
	}
	if (check_mode && (st.st_mode & 077)) {
		close(fd);
		return PROTO_E_KEY_PERM;
	}
	if (!(buf = sodium_malloc((size_t)st.st_size + 1))) {
		close(fd);
		return -ENOMEM;
	}
	got = read(fd, buf, (size_t)st.st_size);
	if (got < 0)
		rc = -errno;
	close(fd);
	if (rc) {
		sodium_free(buf);
		return rc;
	}
	buf[got] = '\0';
	*out = buf;
	*len = (size_t)got;
	return 0;
}

static int load_key(struct proto_key **out, const char *home, const char *pass_file,
                    const struct node_log *log)
{
	char path[4200], *text = NULL, *pass = NULL;
	size_t len = 0, plen = 0;
	const char *passphrase = getenv("AGORA_PASSPHRASE");
	int rc;

	snprintf(path, sizeof(path), "%s/identity.key", home);
	if ((rc = read_secret_file(path, &text, &len, true))) {
		if (rc == PROTO_E_KEY_PERM)
			node_log(log, NODE_LOG_ERROR, "node",
			         "%s is readable by others: run chmod 600 on it", path);
		else
			node_log(log, NODE_LOG_ERROR, "node", "cannot read %s: %s (run `agora init`)",
			         path, rc < 0 && rc > -1000 ? strerror(-rc) : proto_strerror(rc));
		return rc;
	}
	if (pass_file) {
		if ((rc = read_secret_file(pass_file, &pass, &plen, false))) {
			node_log(log, NODE_LOG_ERROR, "node", "cannot read %s: %s", pass_file,
			         rc > -1000 ? strerror(-rc) : proto_strerror(rc));
			sodium_free(text);
			return rc;
		}
		char *nl = strchr(pass, '\n');
		if (nl)
			*nl = '\0';
		passphrase = pass;
	}
	rc = proto_key_decode(out, text, len, passphrase);
	if (rc)
		node_log(log, NODE_LOG_ERROR, "node", "cannot load %s: %s%s", path, proto_strerror(rc),
		         rc == PROTO_E_PASSPHRASE ? " (set $AGORA_PASSPHRASE or --passphrase-file)"
		                                  : "");
	sodium_free(text);
	if (pass)
		sodium_free(pass);
	return rc;
}

int main(int argc, char **argv)
{
	const char *home_flag = NULL, *listen = NULL, *level = NULL, *pass_file = NULL;
	char home[4096], conf_path[4200];
	struct node_log log = { .level = NODE_LOG_INFO, .out = stderr };
	struct node_config *cfg = NULL;
	struct proto_key *key = NULL;
	struct node *node = NULL;
	uv_loop_t loop;
	int rc, ret = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
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
	if (store_home(home, sizeof(home), home_flag)) {
		node_log(&log, NODE_LOG_ERROR, "node", "no data directory: use --home DIR or $AGORA_HOME");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (proto_init()) {
		node_log(&log, NODE_LOG_ERROR, "node", "cannot initialise libsodium");
		return 1;
	}
	if (!(cfg = calloc(1, sizeof(*cfg))))
		return 1;
	snprintf(conf_path, sizeof(conf_path), "%s/%s", home, NODE_CONF_NAME);
	if ((rc = node_config_load(cfg, conf_path))) {
		node_log(&log, NODE_LOG_ERROR, "config", "%s", cfg->error[0] ? cfg->error : "invalid");
		goto out;
	}
	if (!level && cfg->has_log_level)
		log.level = cfg->log_level;
	if (load_key(&key, home, pass_file, &log))
		goto out;
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
	free(cfg);
	return ret;
}
