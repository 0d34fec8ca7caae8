/*
 * home.c - the data directory (DESIGN 9): where it is, the names of its
 * files, whether it is safe to use, and the one way the tools write a small
 * file into it.
 *
 * Both binaries write here: agorad its port file and agora.conf (an invite
 * adds a peer), the CLI identity.key and agora.conf.  A writer that opened
 * "<file>.tmp" with O_CREAT|O_TRUNC followed whatever link another user had
 * planted under that name: run as root on someone else's directory, agorad
 * overwrote a root-owned file through agorad.port.tmp (issue 10, D15).  So
 * every write goes through store_file_write(), whose temporary file is
 * created with O_EXCL|O_NOFOLLOW under a fresh name, and agorad refuses a
 * directory another user could plant names in (store_home_check()).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "storage/storage.h"

static const char *const home_names[] = {
	[STORE_HOME_CONF] = "agora.conf",
	[STORE_HOME_KEY] = "identity.key",
	[STORE_HOME_DB] = "db",
	[STORE_HOME_SOCK] = PROTO_CONTROL_SOCKET,
	[STORE_HOME_PORT] = "agorad.port",
	[STORE_HOME_BLOBS] = "blobs",
};

int store_home(char *out, size_t cap, const char *flag)
{
	const char *env;
	int n;

	if (flag && *flag)
		n = snprintf(out, cap, "%s", flag);
	else if ((env = getenv("AGORA_HOME")) && *env)
		n = snprintf(out, cap, "%s", env);
	else if ((env = getenv("XDG_DATA_HOME")) && *env)
		n = snprintf(out, cap, "%s/agora", env);
	else if ((env = getenv("HOME")) && *env)
		n = snprintf(out, cap, "%s/.local/share/agora", env);
	else
		return -ENOENT;
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	return 0;
}

const char *store_home_name(enum store_home_file f)
{
	if ((unsigned)f >= sizeof(home_names) / sizeof(home_names[0]))
		return NULL;
	return home_names[f];
}

int store_home_path(char *out, size_t cap, const char *home, enum store_home_file f,
                    const char *suffix)
{
	const char *name = store_home_name(f);
	int n;

	if (!name)
		return -EINVAL;
	n = snprintf(out, cap, "%s/%s%s", home, name, suffix ? suffix : "");
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return 0;
}

/* ---------------------------------------------------------------- safety */

/*
 * One path: owned by the effective user, not writable by group or others,
 * and (inside the directory) not a symbolic link.  follow: stat, not lstat
 * (the data directory itself may be reached through a link the user made).
 * 0, -ENOENT (absent: nothing to check), or STORE_E_UNSAFE with msg set.
 */
static int check_one(const char *path, bool follow, bool dir, char *msg, size_t cap)
{
	struct stat st;
	uid_t me = geteuid();

	if ((follow ? stat(path, &st) : lstat(path, &st)) < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		snprintf(msg, cap, "cannot check %s: %s", path, strerror(errno));
		return -errno;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(msg, cap, "%s is a symbolic link, which agora never writes through: "
		         "remove it (rm %s)", path, path);
		return STORE_E_UNSAFE;
	}
	if (dir ? !S_ISDIR(st.st_mode) : !(S_ISREG(st.st_mode) || S_ISSOCK(st.st_mode))) {
		snprintf(msg, cap, "%s is not a %s", path, dir ? "directory" : "regular file");
		return STORE_E_UNSAFE;
	}
	if (st.st_uid != me) {
		snprintf(msg, cap, "%s belongs to uid %u, not to the user running agora (uid %u): "
		         "run agora as its owner, or chown -R %u %s", path, (unsigned)st.st_uid,
		         (unsigned)me, (unsigned)me, path);
		return STORE_E_UNSAFE;
	}
	if (st.st_mode & 022) {
		snprintf(msg, cap, "%s is writable by other users (mode %04o): run chmod go-w %s",
		         path, (unsigned)(st.st_mode & 07777), path);
		return STORE_E_UNSAFE;
	}
	return 0;
}

int store_home_check(const char *home, char *msg, size_t cap)
{
	static const struct { enum store_home_file f; const char *sub; bool dir; } files[] = {
		{ STORE_HOME_DB, NULL, true },
		{ STORE_HOME_DB, "/data.mdb", false },
		{ STORE_HOME_DB, "/lock.mdb", false },
		{ STORE_HOME_CONF, NULL, false },
		{ STORE_HOME_KEY, NULL, false },
		{ STORE_HOME_PORT, NULL, false },
		{ STORE_HOME_SOCK, NULL, false },
	};
	char path[4200];
	int rc;

	msg[0] = '\0';
	rc = check_one(home, true, true, msg, cap);
	if (rc == -ENOENT) {
		snprintf(msg, cap, "no data directory %s: run `agora init` first", home);
		return rc;
	}
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if ((rc = store_home_path(path, sizeof(path), home, files[i].f, files[i].sub))) {
			snprintf(msg, cap, "data directory path too long: %s", home);
			return rc;
		}
		rc = check_one(path, false, files[i].dir, msg, cap);
		if (rc && rc != -ENOENT)
			return rc;
	}
	msg[0] = '\0';
	return 0;
}

/* --------------------------------------------------------------- writing */

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* fsync the directory holding path, so that a rename survives a crash. */
static void sync_dir(const char *path)
{
	char dir[4200];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	int fd;

	if (n >= sizeof(dir))
		return;
	if (n == 0)
		snprintf(dir, sizeof(dir), "%s", slash ? "/" : ".");
	else
		memcpy(dir, path, n), dir[n] = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int store_file_write(const char *path, const void *buf, size_t len, unsigned mode,
                     unsigned flags)
{
	char tmp[4300];
	struct timespec ts;
	int fd = -1, rc = -EEXIST;

	/* A fresh name each try, created with O_EXCL|O_NOFOLLOW: whatever
	 * already stands under it (a planted link included) is never opened. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	for (unsigned i = 0; fd < 0 && i < 100; i++) {
		int n = snprintf(tmp, sizeof(tmp), "%s.tmp-%ld-%lx%u", path, (long)getpid(),
		                 (unsigned long)ts.tv_nsec, i);
		if (n < 0 || (size_t)n >= sizeof(tmp))
			return -ENAMETOOLONG;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	if (fd < 0)
		return rc;
	/* The mode is set on the open file: a umask never widens or narrows it. */
	rc = 0;
	if (fchmod(fd, (mode_t)(mode & 0777)) < 0)
		rc = -errno;
	else if ((rc = write_all(fd, buf, len)) == 0 && fsync(fd) < 0)
		rc = -errno;
	if (rc) {
		close(fd);
		unlink(tmp);
		return rc;
	}
	if (close(fd) < 0) {
		rc = -errno;
		unlink(tmp);
		return rc;
	}
	if (flags & STORE_WRITE_NEW) {
		/* link() fails with EEXIST when anything (a link too) has the
		 * name: a new file never replaces one. */
		rc = link(tmp, path) < 0 ? -errno : 0;
		unlink(tmp);
	} else {
		/* rename() replaces the name itself, never what a link there
		 * points to. */
		rc = rename(tmp, path) < 0 ? -errno : 0;
		if (rc)
			unlink(tmp);
	}
	if (rc == 0)
		sync_dir(path);
	return rc;
}

int store_file_read(const char *path, size_t max, char **out, size_t *out_len)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto out;
	}
	cap = (size_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1;
	if (!(buf = malloc(cap + 1))) {
		rc = -ENOMEM;
		goto out;
	}
	/* Read up to max + 1 bytes whatever fstat said: the file may grow. */
	for (;;) {
		if (len == cap) {
			if (cap > max) {
				rc = -EFBIG;
				goto out;
			}
			size_t nc = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *nb = realloc(buf, nc + 1);
			if (!nb) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = nc;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > max) {
		rc = -EFBIG;
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}
