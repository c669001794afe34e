/* tools/ens_util.c - what every part of the ensemble launcher shares: the
 * thread's error message (zkc_ens_error) and small file, time and path
 * helpers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "ens_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ errors */

static _Thread_local char ens_err[ENS__ERR_LEN];

const char *zkc_ens_error(void)
{
	return ens_err;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
int ens__fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ens_err, sizeof ens_err, fmt, ap);
	va_end(ap);
	return code;
}

/* Appends to the current message, for reports that list several nodes. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
void ens__fail_append(const char *fmt, ...)
{
	size_t len = strlen(ens_err);
	va_list ap;

	if (len + 1 >= sizeof ens_err)
		return;
	va_start(ap, fmt);
	vsnprintf(ens_err + len, sizeof ens_err - len, fmt, ap);
	va_end(ap);
}


char *ens__errbuf(void)
{
	return ens_err;
}

/* ------------------------------------------------------------ small helpers */

char *ens__asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	return rc < 0 ? NULL : s;
}

long long ens__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ens__sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int ens__write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Writes a whole file through a temporary name and rename(), so a reader in
 * another process never sees half a state file. */
int ens__write_file_atomic(const char *path, const char *text)
{
	char *tmp = ens__asprintf("%s.tmp.%ld", path, (long)getpid());
	int fd, err;

	if (!tmp)
		return ens__fail(ZKC_ENOMEM, "out of memory");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = errno;
		free(tmp);
		return ens__fail(ZKC_EOS, "cannot write %s: %s", path, strerror(err));
	}
	if (ens__write_all(fd, text, strlen(text)) < 0 || close(fd) < 0) {
		err = errno;
		unlink(tmp);
		free(tmp);
		return ens__fail(ZKC_EOS, "cannot write %s: %s", path, strerror(err));
	}
	if (rename(tmp, path) < 0) {
		err = errno;
		unlink(tmp);
		free(tmp);
		return ens__fail(ZKC_EOS, "cannot rename %s: %s", path, strerror(err));
	}
	free(tmp);
	return ZKC_OK;
}

char *ens__read_file(const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 4096;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	while (buf) {
		ssize_t r;

		if (len + 1 >= cap) {
			char *nb;

			if (cap >= max)
				break;
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (buf)
		buf[len] = '\0';
	return buf;
}

int ens__mkdir_p(const char *path, mode_t mode)
{
	char *copy = strdup(path);
	char *p;

	if (!copy)
		return -1;
	for (p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST) {
			free(copy);
			return -1;
		}
		*p = '/';
	}
	free(copy);
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

int ens__rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

/* Resolved once in the parent: execve() in the child cannot search PATH
 * without calling functions that are unsafe after fork(). */
char *ens__find_java(const char *given)
{
	const char *home = getenv("JAVA_HOME");
	const char *path = getenv("PATH");
	char *cand;

	if (given)
		return is_executable(given) ? strdup(given) : NULL;
	if (home && *home) {
		cand = ens__asprintf("%s/bin/java", home);
		if (cand && is_executable(cand))
			return cand;
		free(cand);
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");

		cand = ens__asprintf("%.*s/java", (int)len, len ? path : ".");
		if (cand && is_executable(cand))
			return cand;
		free(cand);
		path += len;
		if (*path == ':')
			path++;
	}
	return NULL;
}
