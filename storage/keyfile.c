/*
 * keyfile.c - reading identity.key and the passphrase that unlocks it: the
 * one loader both agora and agorad use (proto/key.c owns the file's text
 * format; this file owns the file).
 *
 * Two copies of this code had drifted apart: agorad took a key file that
 * was not a regular file and an empty passphrase, and neither side checked
 * the passphrase file's mode or noticed a NUL byte that cut the passphrase
 * short (issue 10, D16).  Every check lives here now:
 *   identity.key     a regular file of 1..STORE_KEY_FILE_MAX bytes, owned by
 *                    the user running agora, mode 0600 or stricter (like
 *                    ssh, a looser mode is refused, not fixed);
 *   passphrase file  the same ownership and mode rules, at most
 *                    STORE_PASSPHRASE_MAX bytes, no NUL byte, and its first
 *                    line (without CR LF) not empty;
 *   the passphrase   from that file, else $AGORA_PASSPHRASE (when not
 *                    empty), else the caller's prompt (the CLI asks on a
 *                    terminal; agorad never asks); never empty.
 * Secrets live in sodium_malloc()ed buffers and are wiped when freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "storage/storage.h"

/*
 * Open a secret file and check it: regular, owned by us, no bits for group
 * or others, at most max bytes.  what names it in messages ("identity.key",
 * "passphrase file").  Returns the fd, or -errno / PROTO_E_KEY_PERM /
 * PROTO_E_KEY with msg set.
 */
static int open_secret(const char *path, const char *what, size_t max, struct stat *st,
                       char *msg, size_t cap)
{
	/* O_NONBLOCK: a FIFO planted under the name must not hang us in
	 * open(); it is refused below, and a regular file ignores the flag. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), rc;

	if (fd < 0) {
		rc = -errno;
		snprintf(msg, cap, "cannot read %s %s: %s", what, path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, st) < 0) {
		rc = -errno;
		snprintf(msg, cap, "cannot read %s %s: %s", what, path, strerror(-rc));
		goto fail;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(msg, cap, "%s is not a regular file, so it is not an agora %s", path, what);
		rc = PROTO_E_KEY;
		goto fail;
	}
	if (st->st_uid != geteuid()) {
		snprintf(msg, cap, "%s %s belongs to uid %u, not to the user running agora "
		         "(uid %u): run chown %u %s", what, path, (unsigned)st->st_uid,
		         (unsigned)geteuid(), (unsigned)geteuid(), path);
		rc = PROTO_E_KEY_PERM;
		goto fail;
	}
	/* Like ssh: a secret others may read or change is not a secret. */
	if (st->st_mode & 077) {
		snprintf(msg, cap, "%s is readable by others (mode %04o): run chmod 600 %s", what,
		         (unsigned)(st->st_mode & 07777), path);
		rc = PROTO_E_KEY_PERM;
		goto fail;
	}
	if (st->st_size <= 0 || (uint64_t)st->st_size > max) {
		snprintf(msg, cap, "%s is %s, so it is not an agora %s", path,
		         st->st_size <= 0 ? "empty" : "too large", what);
		rc = PROTO_E_KEY;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return rc;
}

/*
 * Open and check a secret file (open_secret) and read it whole into
 * sodium_malloc()ed memory, NUL-terminated: *out (sodium_free) and *len.
 * The codes of open_secret, -errno, PROTO_E_NOMEM; msg set.
 */
static int read_secret(char **out, size_t *len, const char *path, const char *what, size_t max,
                       char *msg, size_t cap)
{
	struct stat st;
	size_t n = 0;
	char *buf;
	int fd = open_secret(path, what, max, &st, msg, cap), rc = 0;

	if (fd < 0)
		return fd;
	if (!(buf = sodium_malloc(max + 1))) {
		close(fd);
		snprintf(msg, cap, "out of memory");
		return PROTO_E_NOMEM;
	}
	/* At most max bytes, whatever fstat said: the file may have grown. */
	while (n < max) {
		ssize_t r = read(fd, buf + n, max - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			snprintf(msg, cap, "cannot read %s %s: %s", what, path, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (rc) {
		sodium_free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static int dup_secret(char **out, const char *s, size_t n)
{
	char *p = sodium_malloc(n + 1);

	if (!p)
		return PROTO_E_NOMEM;
	memcpy(p, s, n);
	p[n] = '\0';
	*out = p;
	return 0;
}

static int passphrase_file(char **out, const char *path, char *msg, size_t cap)
{
	char *buf = NULL;
	size_t got = 0, n;
	int rc = read_secret(&buf, &got, path, "passphrase file", STORE_PASSPHRASE_MAX, msg, cap);

	if (rc)
		return rc == PROTO_E_KEY ? PROTO_E_PASSPHRASE : rc;
	/* A NUL would end the passphrase early in every C string that
	 * carries it: the key would be sealed under a shorter one. */
	if (memchr(buf, '\0', got)) {
		snprintf(msg, cap, "passphrase file %s holds a NUL byte: write the passphrase "
		         "as text on its first line", path);
		rc = PROTO_E_PASSPHRASE;
		goto out;
	}
	n = strcspn(buf, "\n");
	if (n && buf[n - 1] == '\r')
		n--;
	if (n == 0) {
		snprintf(msg, cap, "passphrase file %s is empty: write the passphrase on its "
		         "first line", path);
		rc = PROTO_E_PASSPHRASE;
		goto out;
	}
	if ((rc = dup_secret(out, buf, n)))
		snprintf(msg, cap, "out of memory");
out:
	sodium_free(buf);
	return rc;
}

int store_passphrase_get(char **out, const struct store_passphrase_src *src, const char *why,
                         char *msg, size_t cap)
{
	const char *env = getenv("AGORA_PASSPHRASE");
	char *buf;
	int rc;

	msg[0] = '\0';
	if (src && src->file)
		return passphrase_file(out, src->file, msg, cap);
	if (env && *env) {
		if ((rc = dup_secret(out, env, strlen(env))))
			snprintf(msg, cap, "out of memory");
		return rc;
	}
	if (!src || !src->prompt) {
		*out = NULL;
		return 0;
	}
	if (!(buf = sodium_malloc(STORE_PASSPHRASE_MAX + 1))) {
		snprintf(msg, cap, "out of memory");
		return PROTO_E_NOMEM;
	}
	rc = src->prompt(buf, STORE_PASSPHRASE_MAX + 1, why, src->prompt_ctx);
	if (rc < 0) {
		snprintf(msg, cap, "cannot read the passphrase from the terminal: %s",
		         strerror(-rc));
	} else if (!buf[0]) {
		snprintf(msg, cap, "the passphrase is empty: type it, or give --passphrase-file "
		         "FILE or set AGORA_PASSPHRASE");
		rc = PROTO_E_PASSPHRASE;
	} else {
		*out = buf;
		return 0;
	}
	sodium_free(buf);
	return rc;
}

int store_key_read(char **text, size_t *len, const char *home, char *msg, size_t cap)
{
	char path[4200];
	int rc;

	msg[0] = '\0';
	if ((rc = store_home_path(path, sizeof(path), home, STORE_HOME_KEY, NULL))) {
		snprintf(msg, cap, "data directory path too long: %s", home);
		return rc;
	}
	rc = read_secret(text, len, path, "identity.key", STORE_KEY_FILE_MAX, msg, cap);
	if (rc == -ENOENT)
		snprintf(msg, cap, "no identity in %s: run `agora init --name NAME --country CC` "
		         "first", home);
	return rc;
}

int store_key_load(struct proto_key **out, const char *home,
                   const struct store_passphrase_src *src, char *msg, size_t cap)
{
	char *text = NULL, *pass = NULL;
	size_t len = 0;
	bool enc;
	int rc;

	if ((rc = store_key_read(&text, &len, home, msg, cap)))
		return rc;
	enc = proto_key_is_encrypted(text, len);
	/* A passphrase file that was named is checked even for a plain key: a
	 * loose one is a leak whether or not this key needs it. */
	if (enc || (src && src->file)) {
		if ((rc = store_passphrase_get(&pass, src, "passphrase for identity.key", msg,
		                               cap)))
			goto out;
		if (!pass && enc) {
			snprintf(msg, cap, "identity.key is encrypted: set AGORA_PASSPHRASE or give "
			         "--passphrase-file FILE");
			rc = PROTO_E_PASSPHRASE;
			goto out;
		}
	}
	rc = proto_key_decode(out, text, len, enc ? pass : NULL);
	if (rc == PROTO_E_KEY && enc)
		snprintf(msg, cap, "wrong passphrase for %s/identity.key", home);
	else if (rc == PROTO_E_NOMEM)
		snprintf(msg, cap, "out of memory");
	else if (rc < 0)
		snprintf(msg, cap, "%s/identity.key is not a valid agora key file (%s)", home,
		         proto_strerror(rc));
out:
	if (pass)
		sodium_free(pass);
	sodium_free(text);
	return rc;
}
