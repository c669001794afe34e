/* tools/ensemble.c - starts, watches and stops local ZooKeeper servers (one
 * JVM per node) and keeps their ports and pids in DIR/ensemble.state. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "ensemble.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define STATE_FILE "ensemble.state"
#define STATE_MAGIC "zkc-ensemble-state 1"
#define JAVA_DIR "/usr/share/java"
#define MAIN_CLASS "org.apache.zookeeper.server.quorum.QuorumPeerMain"
#define DEFAULT_WAIT_MS 60000
#define PROBE_MS 2000       /* one `srvr` may take this long */
#define DEATH_WAIT_MS 10000 /* SIGKILL takes effect well within this */
#define PORT_ATTEMPTS 3     /* up() retries when a chosen port got taken */

/* The jars named here are not all on zookeeper.jar's manifest class path:
 * netty-codec for the Netty (TLS) connection factory, and the log4j binding
 * without which the server logs nothing at all. */
static const char *const default_jars[] = {
	JAVA_DIR "/zookeeper.jar",
	JAVA_DIR "/zookeeper-jute.jar",
	JAVA_DIR "/netty-codec.jar",
	JAVA_DIR "/slf4j-log4j12.jar",
	JAVA_DIR "/log4j-1.2.jar",
};

/* Fast start and a small footprint matter more than throughput for test
 * servers: C1 only, serial GC, no perf-data files in /tmp. Every server
 * feature a zkc test may use is on. */
static const char *const default_jvm_flags[] = {
	"-Xmx256m",
	"-XX:+UseSerialGC",
	"-XX:TieredStopAtLevel=1",
	"-XX:-UsePerfData",
	"-Djava.awt.headless=true",
	"-Djava.net.preferIPv4Stack=true",
	"-Dzookeeper.4lw.commands.whitelist=*",
	"-Dzookeeper.admin.enableServer=false",
	"-Dzookeeper.jmx.log4j.disable=true",
	/* TTL nodes (CreateMode PERSISTENT_WITH_TTL) are refused without it */
	"-Dzookeeper.extendedTypesEnabled=true",
};

struct ens_node {
	char host[INET_ADDRSTRLEN];
	int port;
	int secure_port;
	int quorum_port;
	int election_port;
	pid_t pid;          /* 0: not running (as far as we know) */
	int is_child;       /* we forked it: waitpid() reaps it */
	char *dir;          /* DIR/nodeN */
	char *cfg;          /* DIR/nodeN/zoo.cfg */
	char *log;          /* DIR/nodeN/server.log */
};

struct zkc_ens {
	char *dir;
	char *state_path;
	char *log4j_path;
	int created_dir;
	int n;
	int tick_ms;
	int die_with_parent;
	char *java;
	char *classpath;
	char *jvm_flags;
	char *url;
	struct ens_node node[ZKC_ENS_MAX_NODES];
	/* identity of the state file we last read or wrote, so a change made
	 * by another process (a restart from the CLI) is picked up */
	struct timespec state_mtime;
	off_t state_size;
	ino_t state_ino;
};

/* ------------------------------------------------------------ errors */

static _Thread_local char ens_err[2048];

const char *zkc_ens_error(void)
{
	return ens_err;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(int code, const char *fmt, ...)
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
static void fail_append(const char *fmt, ...)
{
	size_t len = strlen(ens_err);
	va_list ap;

	if (len + 1 >= sizeof ens_err)
		return;
	va_start(ap, fmt);
	vsnprintf(ens_err + len, sizeof ens_err - len, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ small helpers */

static char *xasprintf(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	return rc < 0 ? NULL : s;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int write_all(int fd, const char *buf, size_t len)
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
static int write_file_atomic(const char *path, const char *text)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd, err;

	if (!tmp)
		return fail(ZKC_ENOMEM, "out of memory");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = errno;
		free(tmp);
		return fail(ZKC_EOS, "cannot write %s: %s", path, strerror(err));
	}
	if (write_all(fd, text, strlen(text)) < 0 || close(fd) < 0) {
		err = errno;
		unlink(tmp);
		free(tmp);
		return fail(ZKC_EOS, "cannot write %s: %s", path, strerror(err));
	}
	if (rename(tmp, path) < 0) {
		err = errno;
		unlink(tmp);
		free(tmp);
		return fail(ZKC_EOS, "cannot rename %s: %s", path, strerror(err));
	}
	free(tmp);
	return ZKC_OK;
}

static char *read_file(const char *path, size_t max)
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

static int mkdir_p(const char *path, mode_t mode)
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

static int rm_rf(const char *path)
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
static char *find_java(const char *given)
{
	const char *home = getenv("JAVA_HOME");
	const char *path = getenv("PATH");
	char *cand;

	if (given)
		return is_executable(given) ? strdup(given) : NULL;
	if (home && *home) {
		cand = xasprintf("%s/bin/java", home);
		if (cand && is_executable(cand))
			return cand;
		free(cand);
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");

		cand = xasprintf("%.*s/java", (int)len, len ? path : ".");
		if (cand && is_executable(cand))
			return cand;
		free(cand);
		path += len;
		if (*path == ':')
			path++;
	}
	return NULL;
}

/* ------------------------------------------------------------ processes */

/* 'R', 'S', 'T', 'Z', ... from /proc/PID/stat, or 0 when there is none. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	int fd;
	ssize_t r;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	do
		r = read(fd, buf, sizeof buf - 1);
	while (r < 0 && errno == EINTR);
	close(fd);
	if (r <= 0)
		return 0;
	buf[r] = '\0';
	/* the command name may hold spaces and parentheses: the state follows
	 * the last ')' */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return 0;
	return p[2];
}

/* A pid from a state file may have been reused by an unrelated process:
 * it is our node only if its last argument is the node's config file. */
static int proc_is_node(pid_t pid, const char *cfg)
{
	char path[64], *cmd, *last = NULL, *p;
	size_t len;
	int fd, ok;
	ssize_t r;
	size_t cap = 65536;

	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	cmd = malloc(cap);
	if (!cmd) {
		close(fd);
		return 0;
	}
	len = 0;
	while (len < cap - 1) {
		r = read(fd, cmd + len, cap - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	cmd[len] = '\0';
	/* arguments are NUL-terminated; find the start of the last one */
	for (p = cmd; p < cmd + len; p += strlen(p) + 1)
		last = p;
	ok = last && strcmp(last, cfg) == 0;
	free(cmd);
	return ok;
}

/* The node's process state right now; reaps our own dead children so none
 * is left a zombie, and forgets pids that no longer belong to the node. */
static int node_state(struct ens_node *nd)
{
	char st;

	if (nd->pid <= 0)
		return ZKC_ENS_DEAD;
	if (nd->is_child) {
		int status;
		pid_t r;

		do
			r = waitpid(nd->pid, &status, WNOHANG);
		while (r < 0 && errno == EINTR);
		if (r == nd->pid || (r < 0 && errno == ECHILD)) {
			nd->pid = 0;
			nd->is_child = 0;
			return ZKC_ENS_DEAD;
		}
	}
	st = proc_state(nd->pid);
	if (st == 0 || st == 'Z' || st == 'X' || !proc_is_node(nd->pid, nd->cfg)) {
		nd->pid = 0;
		nd->is_child = 0;
		return ZKC_ENS_DEAD;
	}
	if (st == 'T' || st == 't')
		return ZKC_ENS_STOPPED;
	return ZKC_ENS_RUNNING;
}

/* Exit status of a child we reaped while waiting, for error reports. */
static void describe_exit(char *buf, size_t len, int status)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "ended");
}

static int wait_dead(struct ens_node *nd, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int delay = 1;

	while (node_state(nd) != ZKC_ENS_DEAD) {
		if (now_ms() >= deadline)
			return -1;
		sleep_ms(delay);
		if (delay < 20)
			delay *= 2;
	}
	return 0;
}

/* ------------------------------------------------------------ logs */

/* The line of the log that explains a failure (an ERROR, an exception, a
 * JVM complaint), so reports can quote it instead of only pointing at a
 * file. Only this start's part of the log counts (after our banner); for a
 * JVM that died the first such line is the cause (later ones are the
 * consequences), for one that runs the latest is the news. */
#define BANNER "=== zkc ensemble: starting node"

static void log_find_error(const char *log, int first, char *out,
    size_t outlen)
{
	char *text = read_file(log, 1 << 22);
	char *start, *line, *best = NULL, *save = NULL, *p;

	out[0] = '\0';
	if (!text)
		return;
	start = text;
	for (p = strstr(text, BANNER); p; p = strstr(p + 1, BANNER))
		start = p;
	for (line = strtok_r(start, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, " ERROR ") || strstr(line, "Exception") ||
		    strstr(line, "Error:") || strstr(line, "FATAL") ||
		    strstr(line, "Unrecognized")) {
			best = line;
			if (first)
				break;
		}
	}
	if (best)
		snprintf(out, outlen, "%.300s", best);
	free(text);
}

static int log_mentions(const char *log, const char *needle)
{
	char *text = read_file(log, 1 << 22);
	int found = text && strstr(text, needle) != NULL;

	free(text);
	return found;
}

/* ------------------------------------------------------------ four-letter words */

static int fourlw(char **out, const char *host, int port, const char *word,
    int timeout_ms)
{
	struct sockaddr_in sa;
	long long deadline = now_ms() + timeout_ms;
	size_t len = 0, cap = 4096;
	char *buf;
	int fd, err = 0, rc;

	*out = NULL;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return fail(ZKC_EBADARGUMENTS, "bad address %s", host);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(ZKC_EOS, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 &&
	    errno != EINPROGRESS && errno != EINTR) {
		err = errno;
		close(fd);
		return fail(ZKC_EOS, "%s:%d: %s", host, port, strerror(err));
	}
	/* wait for the connection, then send the word */
	for (;;) {
		struct pollfd p = { fd, POLLOUT, 0 };
		long long left = deadline - now_ms();
		socklen_t sl = sizeof err;

		if (left <= 0) {
			close(fd);
			return fail(ZKC_ETIMEDOUT, "%s:%d: no connection within %d ms",
			    host, port, timeout_ms);
		}
		rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			err = errno;
			close(fd);
			return fail(ZKC_EOS, "poll: %s", strerror(err));
		}
		if (rc == 0)
			continue;
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl);
		if (err) {
			close(fd);
			return fail(ZKC_EOS, "%s:%d: %s", host, port, strerror(err));
		}
		break;
	}
	while ((rc = (int)send(fd, word, strlen(word), MSG_NOSIGNAL)) < 0 &&
	    errno == EINTR)
		;
	if (rc < 0) {
		err = errno;
		close(fd);
		return fail(ZKC_EOS, "%s:%d: send: %s", host, port, strerror(err));
	}
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return fail(ZKC_ENOMEM, "out of memory");
	}
	/* the server answers and closes: read to EOF */
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		long long left = deadline - now_ms();
		ssize_t r;

		if (left <= 0) {
			free(buf);
			close(fd);
			return fail(ZKC_ETIMEDOUT, "%s:%d: no answer to %s within %d ms",
			    host, port, word, timeout_ms);
		}
		rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			continue;
		if (len + 1 >= cap) {
			char *nb = cap < (1u << 20) ? realloc(buf, cap * 2) : NULL;

			if (!nb)
				break;      /* enough of an answer */
			buf = nb;
			cap *= 2;
		}
		r = recv(fd, buf + len, cap - len - 1, 0);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0) {
			err = errno;
			free(buf);
			close(fd);
			return fail(ZKC_EOS, "%s:%d: recv: %s", host, port, strerror(err));
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	return ZKC_OK;
}

static int parse_mode(const char *answer)
{
	const char *m;

	if (strstr(answer, "not currently serving"))
		return ZKC_ENS_MODE_NOT_SERVING;
	m = strstr(answer, "Mode: ");
	if (!m)
		return ZKC_ENS_MODE_UNKNOWN;
	m += 6;
	if (strncmp(m, "leader", 6) == 0)
		return ZKC_ENS_MODE_LEADER;
	if (strncmp(m, "follower", 8) == 0)
		return ZKC_ENS_MODE_FOLLOWER;
	if (strncmp(m, "standalone", 10) == 0)
		return ZKC_ENS_MODE_STANDALONE;
	if (strncmp(m, "observer", 8) == 0)
		return ZKC_ENS_MODE_OBSERVER;
	return ZKC_ENS_MODE_UNKNOWN;
}

static int probe_mode(struct ens_node *nd, int timeout_ms)
{
	char *answer;
	char saved[sizeof ens_err];
	int mode;

	/* a failed probe is an answer ("unknown"), not an error to report */
	memcpy(saved, ens_err, sizeof saved);
	if (fourlw(&answer, nd->host, nd->port, "srvr", timeout_ms) != ZKC_OK) {
		memcpy(ens_err, saved, sizeof saved);
		return ZKC_ENS_MODE_UNKNOWN;
	}
	mode = parse_mode(answer);
	free(answer);
	return mode;
}

static int mode_serves(int mode)
{
	return mode == ZKC_ENS_MODE_LEADER || mode == ZKC_ENS_MODE_FOLLOWER ||
	    mode == ZKC_ENS_MODE_STANDALONE || mode == ZKC_ENS_MODE_OBSERVER;
}

/* ------------------------------------------------------------ state file */

static int write_state(zkc_ens_t *e)
{
	char *text = NULL, *next;
	struct stat st;
	int i, rc;

	text = xasprintf("%s\ndir=%s\ncreated_dir=%d\nnodes=%d\ntick_ms=%d\n"
	    "java=%s\nclasspath=%s\njvm_flags=%s\n", STATE_MAGIC, e->dir,
	    e->created_dir, e->n, e->tick_ms, e->java, e->classpath,
	    e->jvm_flags ? e->jvm_flags : "");
	for (i = 0; text && i < e->n; i++) {
		struct ens_node *nd = &e->node[i];

		next = xasprintf("%snode=%d %s %d %d %d %d %ld\n", text, i + 1,
		    nd->host, nd->port, nd->secure_port, nd->quorum_port,
		    nd->election_port, (long)nd->pid);
		free(text);
		text = next;
	}
	if (!text)
		return fail(ZKC_ENOMEM, "out of memory");
	rc = write_file_atomic(e->state_path, text);
	free(text);
	if (rc == ZKC_OK && stat(e->state_path, &st) == 0) {
		e->state_mtime = st.st_mtim;
		e->state_size = st.st_size;
		e->state_ino = st.st_ino;
	}
	return rc;
}

static char *dup_value(const char *line, const char *key)
{
	size_t kl = strlen(key);

	if (strncmp(line, key, kl) != 0 || line[kl] != '=')
		return NULL;
	return strdup(line + kl + 1);
}

static int set_node_paths(zkc_ens_t *e, int i)
{
	struct ens_node *nd = &e->node[i];

	nd->dir = xasprintf("%s/node%d", e->dir, i + 1);
	nd->cfg = xasprintf("%s/node%d/zoo.cfg", e->dir, i + 1);
	nd->log = xasprintf("%s/node%d/server.log", e->dir, i + 1);
	if (!nd->dir || !nd->cfg || !nd->log)
		return fail(ZKC_ENOMEM, "out of memory");
	return ZKC_OK;
}

/* Reads the state file into e. With pids_only, only the pids are taken
 * (refreshing a handle whose layout is already known). */
static int read_state(zkc_ens_t *e, int pids_only)
{
	char *text, *line, *save = NULL;
	int seen_magic = 0, nodes_seen = 0, rc = ZKC_OK;
	struct stat st;

	if (stat(e->state_path, &st) < 0)
		return fail(ZKC_ENONODE, "no ensemble in %s (%s: %s)", e->dir,
		    e->state_path, strerror(errno));
	text = read_file(e->state_path, 1 << 20);
	if (!text)
		return fail(ZKC_EOS, "cannot read %s: %s", e->state_path,
		    strerror(errno));
	for (line = strtok_r(text, "\n", &save); line && rc == ZKC_OK;
	     line = strtok_r(NULL, "\n", &save)) {
		char *v;

		if (!seen_magic) {
			if (strcmp(line, STATE_MAGIC) != 0)
				rc = fail(ZKC_EBADARGUMENTS, "%s is not a zkc "
				    "ensemble state file", e->state_path);
			seen_magic = 1;
			continue;
		}
		if (strncmp(line, "node=", 5) == 0) {
			int id, port, sport, qport, eport;
			long pid;
			char host[INET_ADDRSTRLEN];
			struct ens_node *nd;

			if (sscanf(line + 5, "%d %15s %d %d %d %d %ld", &id, host,
			    &port, &sport, &qport, &eport, &pid) != 7 ||
			    id < 1 || id > ZKC_ENS_MAX_NODES) {
				rc = fail(ZKC_EBADARGUMENTS, "%s: bad line: %s",
				    e->state_path, line);
				break;
			}
			nd = &e->node[id - 1];
			if (pid != (long)nd->pid)
				nd->is_child = 0;
			nd->pid = (pid_t)pid;
			nodes_seen++;
			if (pids_only)
				continue;
			snprintf(nd->host, sizeof nd->host, "%s", host);
			nd->port = port;
			nd->secure_port = sport;
			nd->quorum_port = qport;
			nd->election_port = eport;
			continue;
		}
		if (pids_only)
			continue;
		if ((v = dup_value(line, "created_dir"))) {
			e->created_dir = atoi(v);
			free(v);
		} else if ((v = dup_value(line, "nodes"))) {
			e->n = atoi(v);
			free(v);
		} else if ((v = dup_value(line, "tick_ms"))) {
			e->tick_ms = atoi(v);
			free(v);
		} else if ((v = dup_value(line, "java"))) {
			free(e->java);
			e->java = v;
		} else if ((v = dup_value(line, "classpath"))) {
			free(e->classpath);
			e->classpath = v;
		} else if ((v = dup_value(line, "jvm_flags"))) {
			free(e->jvm_flags);
			e->jvm_flags = v;
		}
	}
	free(text);
	if (rc != ZKC_OK)
		return rc;
	if (!seen_magic)
		return fail(ZKC_EBADARGUMENTS, "%s is empty", e->state_path);
	if (!pids_only && (e->n < 1 || e->n > ZKC_ENS_MAX_NODES ||
	    nodes_seen != e->n || !e->java || !e->classpath))
		return fail(ZKC_EBADARGUMENTS, "%s is incomplete", e->state_path);
	e->state_mtime = st.st_mtim;
	e->state_size = st.st_size;
	e->state_ino = st.st_ino;
	return ZKC_OK;
}

/* Picks up pids that another process changed (a restart from the CLI). */
static void refresh(zkc_ens_t *e)
{
	struct stat st;

	if (stat(e->state_path, &st) < 0)
		return;
	if (st.st_ino == e->state_ino && st.st_size == e->state_size &&
	    st.st_mtim.tv_sec == e->state_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == e->state_mtime.tv_nsec)
		return;
	read_state(e, 1);
}

/* ------------------------------------------------------------ handle */

static zkc_ens_t *ens_alloc(const char *dir)
{
	zkc_ens_t *e = calloc(1, sizeof *e);

	if (!e)
		return NULL;
	e->dir = strdup(dir);
	e->state_path = xasprintf("%s/%s", dir, STATE_FILE);
	e->log4j_path = xasprintf("%s/log4j.properties", dir);
	if (!e->dir || !e->state_path || !e->log4j_path) {
		zkc_ens_free(e);
		return NULL;
	}
	return e;
}

void zkc_ens_free(zkc_ens_t *e)
{
	int i;

	if (!e)
		return;
	for (i = 0; i < ZKC_ENS_MAX_NODES; i++) {
		free(e->node[i].dir);
		free(e->node[i].cfg);
		free(e->node[i].log);
	}
	free(e->dir);
	free(e->state_path);
	free(e->log4j_path);
	free(e->java);
	free(e->classpath);
	free(e->jvm_flags);
	free(e->url);
	free(e);
}

static int build_url(zkc_ens_t *e)
{
	char *url = strdup("zk://"), *next;
	int i;

	for (i = 0; url && i < e->n; i++) {
		next = xasprintf("%s%s%s:%d", url, i ? "," : "", e->node[i].host,
		    e->node[i].port);
		free(url);
		url = next;
	}
	if (!url)
		return fail(ZKC_ENOMEM, "out of memory");
	free(e->url);
	e->url = url;
	return ZKC_OK;
}

/* ------------------------------------------------------------ ports */

static int bind_loopback(const char *host, int port, int *out_port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* a fixed port whose last server left connections in TIME_WAIT is
	 * free for the JVM (Java listens with SO_REUSEADDR): probe alike */
	if (port && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 },
	    sizeof(int)) < 0) {
		close(fd);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		close(fd);
		return -1;
	}
	*out_port = ntohs(sa.sin_port);
	return fd;
}

/* Chooses every port of the ensemble. The probe sockets stay bound until
 * all are chosen, so one ensemble never gets the same port twice; the JVMs
 * bind them a moment later (up() retries if another process won the race). */
static int choose_ports(zkc_ens_t *e, int distinct, int secure, int fixed)
{
	int held[ZKC_ENS_MAX_NODES * 4 + 1];
	int nheld = 0, i, rc = ZKC_OK, attempt;

	for (i = 0; i < e->n; i++)
		snprintf(e->node[i].host, sizeof e->node[i].host, "127.0.0.%u",
		    distinct ? (unsigned)(i + 2) % 256u : 1u);
	if (distinct) {
		/* one client port free on every node's address */
		for (attempt = 0; attempt < 100; attempt++) {
			int port, fd, ok = 1;

			fd = bind_loopback(e->node[0].host, fixed, &port);
			if (fd < 0)
				return fail(ZKC_EOS, "cannot bind %s:%d: %s",
				    e->node[0].host, fixed, strerror(errno));
			held[nheld++] = fd;
			for (i = 1; i < e->n && ok; i++) {
				int p2;

				fd = bind_loopback(e->node[i].host, port, &p2);
				if (fd < 0)
					ok = 0;
				else
					held[nheld++] = fd;
			}
			if (ok) {
				for (i = 0; i < e->n; i++)
					e->node[i].port = port;
				break;
			}
			while (nheld > 0)
				close(held[--nheld]);
			if (fixed)
				return fail(ZKC_EOS, "client port %d is taken on "
				    "%s", fixed, e->node[i - 1].host);
		}
		if (attempt == 100)
			return fail(ZKC_EOS, "no client port is free on all of "
			    "127.0.0.2-127.0.0.%d", e->n + 1);
	}
	for (i = 0; i < e->n && rc == ZKC_OK; i++) {
		struct ens_node *nd = &e->node[i];
		int *want[4], k;

		want[0] = distinct ? NULL : &nd->port;
		want[1] = secure ? &nd->secure_port : NULL;
		want[2] = e->n > 1 ? &nd->quorum_port : NULL;
		want[3] = e->n > 1 ? &nd->election_port : NULL;
		if (!secure)
			nd->secure_port = 0;
		if (e->n == 1)
			nd->quorum_port = nd->election_port = 0;
		for (k = 0; k < 4; k++) {
			int fd;

			if (!want[k])
				continue;
			int port = k == 0 && fixed ? fixed + i : 0;

			fd = bind_loopback(nd->host, port, want[k]);
			if (fd < 0) {
				rc = fail(ZKC_EOS, "cannot bind %s:%d: %s", nd->host,
				    port, strerror(errno));
				break;
			}
			held[nheld++] = fd;
		}
	}
	while (nheld > 0)
		close(held[--nheld]);
	return rc;
}

/* ------------------------------------------------------------ configs */

static int write_log4j(zkc_ens_t *e)
{
	/* The console appender writes to the JVM's stdout, which is the node's
	 * server.log: one file holds log4j output and JVM crash messages. */
	static const char props[] =
	    "# written by the zkc ensemble launcher\n"
	    "log4j.rootLogger=INFO, CONSOLE\n"
	    "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"
	    "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"
	    "log4j.appender.CONSOLE.layout.ConversionPattern="
	    "%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n\n";

	return write_file_atomic(e->log4j_path, props);
}

static int write_node_config(zkc_ens_t *e, int i, const zkc_ens_options_t *o)
{
	struct ens_node *nd = &e->node[i];
	char *data = xasprintf("%s/data", nd->dir);
	char *myid_path = xasprintf("%s/data/myid", nd->dir);
	char *cfg = NULL, *next, myid[16];
	/* initLimit/syncLimit count ticks: keep them at about 10 s and 5 s
	 * whatever the tick, so slow (sanitizer, valgrind) runs still sync */
	int init_limit = 10000 / e->tick_ms, sync_limit = 5000 / e->tick_ms;
	int rc = ZKC_OK, k;

	if (init_limit < 10)
		init_limit = 10;
	if (sync_limit < 5)
		sync_limit = 5;
	if (!data || !myid_path) {
		rc = fail(ZKC_ENOMEM, "out of memory");
		goto out;
	}
	if (rm_rf(nd->dir) < 0 || mkdir_p(data, 0755) < 0) {
		rc = fail(ZKC_EOS, "cannot create %s: %s", data, strerror(errno));
		goto out;
	}
	cfg = xasprintf("# written by the zkc ensemble launcher\n"
	    "tickTime=%d\ninitLimit=%d\nsyncLimit=%d\n"
	    "dataDir=%s\nclientPort=%d\nclientPortAddress=%s\n"
	    "forceSync=%s\nadmin.enableServer=false\n"
	    "4lw.commands.whitelist=*\n"
	    "minSessionTimeout=1000\nmaxSessionTimeout=60000\n"
	    /* every test client comes from 127.0.0.1: no per-IP cap */
	    "maxClientCnxns=0\n",
	    e->tick_ms, init_limit, sync_limit, data, nd->port, nd->host,
	    o->force_sync ? "yes" : "no");
	if (cfg && nd->secure_port) {
		next = xasprintf("%ssecureClientPort=%d\n"
		    "secureClientPortAddress=%s\n"
		    "serverCnxnFactory=org.apache.zookeeper.server."
		    "NettyServerCnxnFactory\n", cfg, nd->secure_port, nd->host);
		free(cfg);
		cfg = next;
	}
	for (k = 0; cfg && e->n > 1 && k < e->n; k++) {
		next = xasprintf("%sserver.%d=%s:%d:%d\n", cfg, k + 1,
		    e->node[k].host, e->node[k].quorum_port,
		    e->node[k].election_port);
		free(cfg);
		cfg = next;
	}
	if (cfg && o->extra_config) {
		next = xasprintf("%s%s\n", cfg, o->extra_config);
		free(cfg);
		cfg = next;
	}
	if (!cfg) {
		rc = fail(ZKC_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(myid, sizeof myid, "%d\n", i + 1);
	rc = write_file_atomic(myid_path, myid);
	if (rc == ZKC_OK)
		rc = write_file_atomic(nd->cfg, cfg);
out:
	free(cfg);
	free(data);
	free(myid_path);
	return rc;
}

/* ------------------------------------------------------------ spawning */

static void free_argv(char **argv)
{
	char **p;

	if (!argv)
		return;
	for (p = argv; *p; p++)
		free(*p);
	free(argv);
}

static char **build_argv(zkc_ens_t *e, int i)
{
	size_t ndef = sizeof default_jvm_flags / sizeof *default_jvm_flags;
	size_t cap = ndef + 8, n = 0, k;
	char **argv;
	char *flags = NULL, *tok, *save = NULL;

	if (e->jvm_flags) {
		for (tok = e->jvm_flags; *tok; tok++)
			if (*tok == ' ')
				cap++;
		flags = strdup(e->jvm_flags);
		if (!flags)
			return NULL;
	}
	argv = calloc(cap + 1, sizeof *argv);
	if (!argv) {
		free(flags);
		return NULL;
	}
#define ADD(s) do { if (!(argv[n++] = (s))) goto nomem; } while (0)
	ADD(strdup(e->java));
	for (k = 0; k < ndef; k++)
		ADD(strdup(default_jvm_flags[k]));
	ADD(xasprintf("-Dlog4j.configuration=file:%s", e->log4j_path));
	/* extra flags come after the defaults so they can override them */
	for (tok = flags ? strtok_r(flags, " \t", &save) : NULL; tok;
	     tok = strtok_r(NULL, " \t", &save))
		ADD(strdup(tok));
	ADD(strdup("-cp"));
	ADD(strdup(e->classpath));
	ADD(strdup(MAIN_CLASS));
	ADD(strdup(e->node[i].cfg));
#undef ADD
	free(flags);
	return argv;
nomem:
	free(flags);
	free_argv(argv);
	return NULL;
}

static void child_exec(char **argv, int logfd, int nullfd, int errfd,
    int die_with_parent, pid_t parent, int maxfd)
{
	struct sigaction sa;
	sigset_t none;
	int fd, sig;

	/* only async-signal-safe calls from here on: the parent may have
	 * threads (tests do), and one of them may hold the malloc lock */
	setsid();
	if (die_with_parent) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);      /* the parent died before prctl */
	}
	/* ignored signals and the blocked mask survive exec: give the JVM a
	 * clean start whatever the test process did (SIGPIPE ignored, ...) */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
		goto fail;
	/* the test's own sockets (a proxy's listener, client connections)
	 * must not live on in the JVM after the test closes them */
	for (fd = 3; fd < maxfd; fd++)
		if (fd != errfd)
			close(fd);
	execve(argv[0], argv, environ);
fail:
	sig = errno;
	while (write(errfd, &sig, sizeof sig) < 0 && errno == EINTR)
		;
	_exit(127);
}

static int spawn_node(zkc_ens_t *e, int i, int die_with_parent)
{
	struct ens_node *nd = &e->node[i];
	char **argv = build_argv(e, i);
	int logfd = -1, nullfd = -1, pipefd[2] = { -1, -1 };
	int child_errno = 0, rc = ZKC_OK, maxfd;
	struct rlimit rl;
	char banner[256];
	time_t t = time(NULL);
	struct tm tm;
	pid_t pid, parent = getpid();
	ssize_t r;

	if (!argv)
		return fail(ZKC_ENOMEM, "out of memory");
	maxfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 65536 ?
	    (int)rl.rlim_cur : 65536;
	logfd = open(nd->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (logfd < 0 || nullfd < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		rc = fail(ZKC_EOS, "cannot prepare node %d (%s): %s", i + 1,
		    nd->log, strerror(errno));
		goto out;
	}
	localtime_r(&t, &tm);
	strftime(banner, sizeof banner, BANNER " at %Y-%m-%d %H:%M:%S ===\n",
	    &tm);
	write_all(logfd, banner, strlen(banner));
	pid = fork();
	if (pid < 0) {
		rc = fail(ZKC_EOS, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child_exec(argv, logfd, nullfd, pipefd[1], die_with_parent,
		    parent, maxfd);
	close(pipefd[1]);
	pipefd[1] = -1;
	/* EOF on the pipe means execve() succeeded (close-on-exec) */
	do
		r = read(pipefd[0], &child_errno, sizeof child_errno);
	while (r < 0 && errno == EINTR);
	if (r == (ssize_t)sizeof child_errno) {
		int status;

		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		rc = fail(ZKC_ENOTSUP, "cannot run %s: %s", e->java,
		    strerror(child_errno));
		goto out;
	}
	nd->pid = pid;
	nd->is_child = 1;
out:
	if (logfd >= 0)
		close(logfd);
	if (nullfd >= 0)
		close(nullfd);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	free_argv(argv);
	return rc;
}

/* ------------------------------------------------------------ waiting */

/* Kills what runs, reaping our children. */
static int kill_node(struct ens_node *nd)
{
	if (node_state(nd) == ZKC_ENS_DEAD)
		return ZKC_OK;
	if (kill(nd->pid, SIGKILL) < 0 && errno != ESRCH)
		return fail(ZKC_EOS, "kill %ld: %s", (long)nd->pid, strerror(errno));
	if (wait_dead(nd, DEATH_WAIT_MS) < 0)
		return fail(ZKC_ETIMEDOUT, "process %ld did not die within %d ms "
		    "of SIGKILL", (long)nd->pid, DEATH_WAIT_MS);
	return ZKC_OK;
}

/* Reports a node that died while we waited for it, quoting its log. */
static void explain_dead(struct ens_node *nd, int id, int status, int reaped)
{
	char why[64], last[320];

	if (reaped)
		describe_exit(why, sizeof why, status);
	else
		snprintf(why, sizeof why, "is not running");
	log_find_error(nd->log, 1, last, sizeof last);
	fail_append(" node %d %s (log %s)%s%s;", id, why, nd->log,
	    last[0] ? ": " : "", last);
}

/* Like node_state(), but keeps the exit status of a child that died. */
static int check_alive(struct ens_node *nd, int *status, int *reaped)
{
	*reaped = 0;
	if (nd->pid > 0 && nd->is_child) {
		pid_t r;

		do
			r = waitpid(nd->pid, status, WNOHANG);
		while (r < 0 && errno == EINTR);
		if (r == nd->pid) {
			*reaped = 1;
			nd->pid = 0;
			nd->is_child = 0;
			return 0;
		}
	}
	return node_state(nd) != ZKC_ENS_DEAD;
}

static int quorum_now(zkc_ens_t *e, int modes[])
{
	int i, serving = 0, leaders = 0;

	for (i = 0; i < e->n; i++) {
		struct ens_node *nd = &e->node[i];

		modes[i] = ZKC_ENS_MODE_UNKNOWN;
		if (node_state(nd) != ZKC_ENS_RUNNING)
			continue;
		modes[i] = probe_mode(nd, PROBE_MS);
		if (mode_serves(modes[i]))
			serving++;
		if (modes[i] == ZKC_ENS_MODE_LEADER ||
		    modes[i] == ZKC_ENS_MODE_STANDALONE)
			leaders++;
	}
	/* followers keep saying "follower" for a while after their leader
	 * died: a quorum needs a leader that still answers */
	return serving > e->n / 2 && leaders == 1;
}

/* up()'s wait: fails fast when a JVM exits, so a bad config or a taken
 * port is reported at once instead of after the timeout. *port_clash tells
 * up() that retrying with other ports may help. */
static int wait_up(zkc_ens_t *e, int timeout_ms, int *port_clash)
{
	long long deadline = now_ms() + timeout_ms;
	int modes[ZKC_ENS_MAX_NODES], i, delay = 50;

	*port_clash = 0;
	for (;;) {
		int died = 0, status = 0, reaped;

		for (i = 0; i < e->n; i++) {
			struct ens_node *nd = &e->node[i];
			int was = nd->pid != 0;

			if (was && !check_alive(nd, &status, &reaped)) {
				if (!died)
					fail(ZKC_EOS, "ensemble in %s did not start:",
					    e->dir);
				explain_dead(nd, i + 1, status, reaped);
				if (log_mentions(nd->log, "Address already in use"))
					*port_clash = 1;
				died = 1;
			}
		}
		if (died)
			return ZKC_EOS;
		if (quorum_now(e, modes))
			return ZKC_OK;
		if (now_ms() >= deadline)
			break;
		sleep_ms(delay);
		if (delay < 200)
			delay += 50;
	}
	fail(ZKC_ETIMEDOUT, "no quorum in %s within %d ms:", e->dir, timeout_ms);
	for (i = 0; i < e->n; i++) {
		char last[320];

		if (mode_serves(modes[i]))
			continue;
		log_find_error(e->node[i].log, 0, last, sizeof last);
		fail_append(" node %d (%s:%d) %s%s, log %s%s%s;", i + 1,
		    e->node[i].host, e->node[i].port,
		    modes[i] == ZKC_ENS_MODE_UNKNOWN ? "does not answer" :
		    "answers ", modes[i] == ZKC_ENS_MODE_UNKNOWN ? "" :
		    zkc_ens_mode_name(modes[i]), e->node[i].log,
		    last[0] ? ": " : "", last);
	}
	return ZKC_ETIMEDOUT;
}

/* ------------------------------------------------------------ up / attach */

static int check_options(const zkc_ens_options_t *o)
{
	if (!o)
		return fail(ZKC_EBADARGUMENTS, "options are NULL");
	if (o->version != ZKC_ENS_OPTIONS_VERSION)
		return fail(ZKC_EBADARGUMENTS, "options version %d, expected %d "
		    "(use ZKC_ENS_OPTIONS_INIT)", o->version,
		    ZKC_ENS_OPTIONS_VERSION);
	if (o->nodes < 1 || o->nodes > ZKC_ENS_MAX_NODES)
		return fail(ZKC_EBADARGUMENTS, "nodes must be 1..%d, not %d",
		    ZKC_ENS_MAX_NODES, o->nodes);
	if (o->tick_ms < 0 || o->tick_ms > 60000 ||
	    (o->tick_ms > 0 && o->tick_ms < 10))
		return fail(ZKC_EBADARGUMENTS, "tick_ms must be 10..60000, not %d",
		    o->tick_ms);
	if (o->start_timeout_ms < 0)
		return fail(ZKC_EBADARGUMENTS, "start_timeout_ms is negative");
	if (o->client_port < 0 || o->client_port +
	    (o->distinct_addrs ? 0 : o->nodes - 1) > 65535)
		return fail(ZKC_EBADARGUMENTS, "client_port %d: %d node(s) need "
		    "ports up to 65535", o->client_port, o->nodes);
	if (o->dir && (!*o->dir || strchr(o->dir, '\n')))
		return fail(ZKC_EBADARGUMENTS, "bad directory name");
	if ((o->jvm_flags && strchr(o->jvm_flags, '\n')) ||
	    (o->classpath && strchr(o->classpath, '\n')))
		return fail(ZKC_EBADARGUMENTS, "jvm_flags and classpath must be "
		    "one line");
	return ZKC_OK;
}

static int check_jars(void)
{
	size_t k;

	for (k = 0; k < sizeof default_jars / sizeof *default_jars; k++)
		if (access(default_jars[k], R_OK) != 0)
			return fail(ZKC_ENOTSUP, "%s is missing: install Debian's "
			    "zookeeper, liblog4j1.2-java, libslf4j-java and "
			    "libnetty-java packages (scripts/setup-deps.sh)",
			    default_jars[k]);
	return ZKC_OK;
}

static char *default_classpath(void)
{
	char *cp = strdup(""), *next;
	size_t k;

	for (k = 0; cp && k < sizeof default_jars / sizeof *default_jars; k++) {
		next = xasprintf("%s%s%s", cp, k ? ":" : "", default_jars[k]);
		free(cp);
		cp = next;
	}
	return cp;
}

/* Makes or adopts the directory; refuses one where an ensemble still runs. */
static int prepare_dir(const char *want, char **out, int *created)
{
	char *dir;
	struct stat st;

	*created = 0;
	if (!want) {
		const char *tmp = getenv("TMPDIR");
		char *tmpl = xasprintf("%s/zkc-ens-XXXXXX",
		    tmp && *tmp ? tmp : "/tmp");

		if (!tmpl)
			return fail(ZKC_ENOMEM, "out of memory");
		if (!mkdtemp(tmpl)) {
			int err = errno;

			free(tmpl);
			return fail(ZKC_EOS, "mkdtemp: %s", strerror(err));
		}
		*created = 1;
		*out = tmpl;
		return ZKC_OK;
	}
	if (stat(want, &st) < 0) {
		if (mkdir_p(want, 0755) < 0)
			return fail(ZKC_EOS, "cannot create %s: %s", want,
			    strerror(errno));
		*created = 1;
	} else if (!S_ISDIR(st.st_mode)) {
		return fail(ZKC_EBADARGUMENTS, "%s is not a directory", want);
	}
	dir = realpath(want, NULL);
	if (!dir)
		return fail(ZKC_EOS, "%s: %s", want, strerror(errno));
	if (!*created) {
		zkc_ens_t *old = NULL;

		if (zkc_ens_attach(&old, dir) == ZKC_OK) {
			int i, live = 0;

			for (i = 0; i < old->n; i++)
				if (node_state(&old->node[i]) != ZKC_ENS_DEAD)
					live++;
			zkc_ens_free(old);
			if (live) {
				free(dir);
				return fail(ZKC_EBADARGUMENTS, "an ensemble already "
				    "runs in %s (%d node(s) alive): stop it first "
				    "(zkc ensemble down --dir %s)", want, live, want);
			}
		}
	}
	*out = dir;
	return ZKC_OK;
}

static void kill_all(zkc_ens_t *e)
{
	int i;

	for (i = 0; i < e->n; i++)
		if (e->node[i].pid > 0)
			kill(e->node[i].pid, SIGKILL);
	for (i = 0; i < e->n; i++)
		kill_node(&e->node[i]);
}

int zkc_ens_up(zkc_ens_t **out, const zkc_ens_options_t *o)
{
	zkc_ens_t *e = NULL;
	char *dir = NULL;
	int rc, created = 0, i, attempt, clash = 0;
	int timeout = o && o->start_timeout_ms ? o->start_timeout_ms :
	    DEFAULT_WAIT_MS;

	if (!out)
		return fail(ZKC_EBADARGUMENTS, "out is NULL");
	*out = NULL;
	if ((rc = check_options(o)) != ZKC_OK)
		return rc;
	e = ens_alloc("/");
	if (!e)
		return fail(ZKC_ENOMEM, "out of memory");
	e->java = find_java(o->java);
	if (!e->java) {
		rc = o->java ?
		    fail(ZKC_ENOTSUP, "%s is not an executable java", o->java) :
		    fail(ZKC_ENOTSUP, "java not found in $JAVA_HOME or $PATH: "
		        "install openjdk-17-jre-headless (scripts/setup-deps.sh)");
		goto fail;
	}
	if (!o->classpath && (rc = check_jars()) != ZKC_OK)
		goto fail;
	e->classpath = o->classpath ? strdup(o->classpath) : default_classpath();
	e->jvm_flags = o->jvm_flags ? strdup(o->jvm_flags) : NULL;
	if (!e->classpath || (o->jvm_flags && !e->jvm_flags)) {
		rc = fail(ZKC_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = prepare_dir(o->dir, &dir, &created)) != ZKC_OK)
		goto fail;
	free(e->dir);
	free(e->state_path);
	free(e->log4j_path);
	e->dir = dir;
	dir = NULL;
	e->state_path = xasprintf("%s/%s", e->dir, STATE_FILE);
	e->log4j_path = xasprintf("%s/log4j.properties", e->dir);
	e->created_dir = created;
	e->n = o->nodes;
	e->tick_ms = o->tick_ms ? o->tick_ms : 500;
	e->die_with_parent = o->die_with_parent;
	if (!e->state_path || !e->log4j_path) {
		rc = fail(ZKC_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < e->n; i++)
		if ((rc = set_node_paths(e, i)) != ZKC_OK)
			goto fail;
	if ((rc = write_log4j(e)) != ZKC_OK)
		goto fail;

	for (attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
		rc = choose_ports(e, o->distinct_addrs, o->secure_client_port,
		    o->client_port);
		for (i = 0; rc == ZKC_OK && i < e->n; i++)
			rc = write_node_config(e, i, o);
		for (i = 0; rc == ZKC_OK && i < e->n; i++)
			rc = spawn_node(e, i, o->die_with_parent);
		if (rc == ZKC_OK)
			rc = build_url(e);
		if (rc == ZKC_OK)
			rc = write_state(e);
		if (rc == ZKC_OK && !o->no_wait)
			rc = wait_up(e, timeout, &clash);
		if (rc == ZKC_OK) {
			*out = e;
			return ZKC_OK;
		}
		kill_all(e);
		if (!clash)
			break;
	}
fail:
	if (e) {
		int started = e->n > 0 && e->node[0].cfg &&
		    access(e->node[0].cfg, F_OK) == 0;

		kill_all(e);
		/* a directory with server logs is kept: the message points
		 * into it; one that holds nothing of use goes again */
		if (started) {
			size_t len = strlen(ens_err);

			write_state(e);   /* record that nothing runs */
			if (len > 0 && ens_err[len - 1] == ';')
				ens_err[len - 1] = '.';
			fail_append(" (%s kept for its logs)", e->dir);
		} else if (created && e->dir && strcmp(e->dir, "/") != 0) {
			rm_rf(e->dir);
		}
	}
	free(dir);
	/* keep the first failure's message: cleanup may have overwritten it */
	{
		char msg[sizeof ens_err];

		memcpy(msg, ens_err, sizeof msg);
		zkc_ens_free(e);
		memcpy(ens_err, msg, sizeof msg);
	}
	return rc;
}

int zkc_ens_attach(zkc_ens_t **out, const char *dir)
{
	zkc_ens_t *e;
	char *real;
	int rc, i;

	if (!out || !dir)
		return fail(ZKC_EBADARGUMENTS, "out and dir must not be NULL");
	*out = NULL;
	real = realpath(dir, NULL);
	if (!real)
		return fail(ZKC_ENONODE, "no ensemble in %s: %s", dir,
		    strerror(errno));
	e = ens_alloc(real);
	free(real);
	if (!e)
		return fail(ZKC_ENOMEM, "out of memory");
	rc = read_state(e, 0);
	for (i = 0; rc == ZKC_OK && i < e->n; i++)
		rc = set_node_paths(e, i);
	if (rc == ZKC_OK)
		rc = build_url(e);
	if (rc != ZKC_OK) {
		zkc_ens_free(e);
		return rc;
	}
	*out = e;
	return ZKC_OK;
}

int zkc_ens_down(zkc_ens_t *e, int flags)
{
	int i, rc = ZKC_OK, remove_dir;

	if (!e)
		return fail(ZKC_EBADARGUMENTS, "ensemble is NULL");
	refresh(e);
	for (i = 0; i < e->n; i++)
		if (e->node[i].pid > 0 && node_state(&e->node[i]) != ZKC_ENS_DEAD)
			kill(e->node[i].pid, SIGKILL);
	for (i = 0; i < e->n; i++) {
		int r = kill_node(&e->node[i]);

		if (r != ZKC_OK && rc == ZKC_OK)
			rc = fail(r, "node %d: %s", i + 1, zkc_ens_error());
	}
	remove_dir = flags == ZKC_ENS_DOWN_REMOVE ||
	    (flags == ZKC_ENS_DOWN_DEFAULT && e->created_dir);
	if (rc != ZKC_OK || !remove_dir) {
		if (access(e->state_path, F_OK) == 0)
			write_state(e);
		return rc;
	}
	if (access(e->state_path, F_OK) != 0)
		return fail(ZKC_EBADARGUMENTS, "%s holds no %s: not removing it",
		    e->dir, STATE_FILE);
	if (rm_rf(e->dir) < 0)
		return fail(ZKC_EOS, "cannot remove %s: %s", e->dir,
		    strerror(errno));
	return ZKC_OK;
}

/* ------------------------------------------------------------ queries */

const char *zkc_ens_url(const zkc_ens_t *e)
{
	return e ? e->url : NULL;
}

const char *zkc_ens_dir(const zkc_ens_t *e)
{
	return e ? e->dir : NULL;
}

int zkc_ens_size(const zkc_ens_t *e)
{
	return e ? e->n : 0;
}

static int in_range(const zkc_ens_t *e, int i)
{
	return e && i >= 0 && i < e->n;
}

const char *zkc_ens_host(const zkc_ens_t *e, int i)
{
	return in_range(e, i) ? e->node[i].host : NULL;
}

int zkc_ens_port(const zkc_ens_t *e, int i)
{
	return in_range(e, i) ? e->node[i].port : -1;
}

int zkc_ens_secure_port(const zkc_ens_t *e, int i)
{
	return in_range(e, i) ? e->node[i].secure_port : -1;
}

const char *zkc_ens_log_path(const zkc_ens_t *e, int i)
{
	return in_range(e, i) ? e->node[i].log : NULL;
}

const char *zkc_ens_state_name(int state)
{
	switch (state) {
	case ZKC_ENS_DEAD: return "dead";
	case ZKC_ENS_RUNNING: return "running";
	case ZKC_ENS_STOPPED: return "stopped";
	default: return "?";
	}
}

const char *zkc_ens_mode_name(int mode)
{
	switch (mode) {
	case ZKC_ENS_MODE_UNKNOWN: return "unknown";
	case ZKC_ENS_MODE_NOT_SERVING: return "not-serving";
	case ZKC_ENS_MODE_LEADER: return "leader";
	case ZKC_ENS_MODE_FOLLOWER: return "follower";
	case ZKC_ENS_MODE_STANDALONE: return "standalone";
	case ZKC_ENS_MODE_OBSERVER: return "observer";
	default: return "?";
	}
}

static int bad_index(const zkc_ens_t *e, int i)
{
	if (!e)
		return fail(ZKC_EBADARGUMENTS, "ensemble is NULL");
	return fail(ZKC_EBADARGUMENTS, "no node %d: the ensemble has nodes "
	    "0..%d (server ids 1..%d)", i, e->n - 1, e->n);
}

int zkc_ens_status(zkc_ens_node_status_t *out, zkc_ens_t *e, int i)
{
	struct ens_node *nd;

	if (!out)
		return fail(ZKC_EBADARGUMENTS, "out is NULL");
	if (!in_range(e, i))
		return bad_index(e, i);
	refresh(e);
	nd = &e->node[i];
	out->state = node_state(nd);
	out->pid = nd->pid;
	out->mode = out->state == ZKC_ENS_RUNNING ? probe_mode(nd, PROBE_MS) :
	    ZKC_ENS_MODE_UNKNOWN;
	return ZKC_OK;
}

int zkc_ens_4lw(char **out, zkc_ens_t *e, int i, const char *word,
    int timeout_ms)
{
	if (!out || !word)
		return fail(ZKC_EBADARGUMENTS, "out and word must not be NULL");
	*out = NULL;
	if (!in_range(e, i))
		return bad_index(e, i);
	return fourlw(out, e->node[i].host, e->node[i].port, word,
	    timeout_ms > 0 ? timeout_ms : PROBE_MS);
}

int zkc_ens_leader(int *out, zkc_ens_t *e, int timeout_ms)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int delay = 20;

	if (!out || !e)
		return fail(ZKC_EBADARGUMENTS, "out and ensemble must not be NULL");
	*out = -1;
	refresh(e);
	for (;;) {
		int i;

		for (i = 0; i < e->n; i++) {
			int mode;

			if (node_state(&e->node[i]) != ZKC_ENS_RUNNING)
				continue;
			mode = probe_mode(&e->node[i], PROBE_MS);
			if (mode == ZKC_ENS_MODE_LEADER ||
			    mode == ZKC_ENS_MODE_STANDALONE) {
				*out = i;
				return ZKC_OK;
			}
		}
		if (now_ms() >= deadline)
			return fail(ZKC_ETIMEDOUT, "no node of %s leads (waited %d ms)",
			    e->dir, timeout_ms > 0 ? timeout_ms : 0);
		sleep_ms(delay);
		if (delay < 200)
			delay += 20;
	}
}

/* ------------------------------------------------------------ faults */

int zkc_ens_kill(zkc_ens_t *e, int i)
{
	int rc;

	if (!in_range(e, i))
		return bad_index(e, i);
	refresh(e);
	rc = kill_node(&e->node[i]);
	if (rc != ZKC_OK)
		return fail(rc, "node %d: %s", i + 1, zkc_ens_error());
	return write_state(e);
}

int zkc_ens_stop(zkc_ens_t *e, int i)
{
	struct ens_node *nd;
	long long deadline;

	if (!in_range(e, i))
		return bad_index(e, i);
	refresh(e);
	nd = &e->node[i];
	if (node_state(nd) == ZKC_ENS_DEAD)
		return fail(ZKC_EINVALIDSTATE, "node %d is not running", i + 1);
	if (kill(nd->pid, SIGSTOP) < 0)
		return fail(ZKC_EOS, "node %d: kill: %s", i + 1, strerror(errno));
	/* the signal is asynchronous: return only once it took effect, so a
	 * test that stops a node and then acts relies on a stopped server */
	deadline = now_ms() + DEATH_WAIT_MS;
	while (node_state(nd) == ZKC_ENS_RUNNING) {
		if (now_ms() >= deadline)
			return fail(ZKC_ETIMEDOUT, "node %d did not stop", i + 1);
		sleep_ms(1);
	}
	return ZKC_OK;
}

int zkc_ens_cont(zkc_ens_t *e, int i)
{
	struct ens_node *nd;
	long long deadline;

	if (!in_range(e, i))
		return bad_index(e, i);
	refresh(e);
	nd = &e->node[i];
	if (node_state(nd) == ZKC_ENS_DEAD)
		return fail(ZKC_EINVALIDSTATE, "node %d is not running", i + 1);
	if (kill(nd->pid, SIGCONT) < 0)
		return fail(ZKC_EOS, "node %d: kill: %s", i + 1, strerror(errno));
	deadline = now_ms() + DEATH_WAIT_MS;
	while (node_state(nd) == ZKC_ENS_STOPPED) {
		if (now_ms() >= deadline)
			return fail(ZKC_ETIMEDOUT, "node %d did not continue", i + 1);
		sleep_ms(1);
	}
	return ZKC_OK;
}

int zkc_ens_wait_serving(zkc_ens_t *e, int i, int timeout_ms)
{
	long long deadline;
	int delay = 20, mode = ZKC_ENS_MODE_UNKNOWN, state;

	if (!in_range(e, i))
		return bad_index(e, i);
	if (timeout_ms <= 0)
		timeout_ms = DEFAULT_WAIT_MS;
	deadline = now_ms() + timeout_ms;
	refresh(e);
	for (;;) {
		state = node_state(&e->node[i]);
		if (state == ZKC_ENS_RUNNING) {
			mode = probe_mode(&e->node[i], PROBE_MS);
			if (mode_serves(mode))
				return ZKC_OK;
		}
		if (now_ms() >= deadline)
			break;
		sleep_ms(delay);
		if (delay < 200)
			delay += 20;
	}
	{
		char last[320];

		log_find_error(e->node[i].log, 0, last, sizeof last);
		return fail(ZKC_ETIMEDOUT, "node %d (%s:%d) does not serve after "
		    "%d ms: %s, %s (log %s)%s%s", i + 1, e->node[i].host,
		    e->node[i].port, timeout_ms, zkc_ens_state_name(state),
		    zkc_ens_mode_name(mode), e->node[i].log, last[0] ? ": " : "",
		    last);
	}
}

int zkc_ens_wait_quorum(zkc_ens_t *e, int timeout_ms)
{
	long long deadline;
	int modes[ZKC_ENS_MAX_NODES], delay = 20, i;

	if (!e)
		return fail(ZKC_EBADARGUMENTS, "ensemble is NULL");
	if (timeout_ms <= 0)
		timeout_ms = DEFAULT_WAIT_MS;
	deadline = now_ms() + timeout_ms;
	refresh(e);
	for (;;) {
		if (quorum_now(e, modes))
			return ZKC_OK;
		if (now_ms() >= deadline)
			break;
		sleep_ms(delay);
		if (delay < 200)
			delay += 20;
	}
	fail(ZKC_ETIMEDOUT, "no quorum in %s after %d ms:", e->dir, timeout_ms);
	for (i = 0; i < e->n; i++)
		fail_append(" node %d %s/%s (log %s);", i + 1,
		    zkc_ens_state_name(node_state(&e->node[i])),
		    zkc_ens_mode_name(modes[i]), e->node[i].log);
	return ZKC_ETIMEDOUT;
}

int zkc_ens_wipe(zkc_ens_t *e, int wait_ms)
{
	int i, rc;

	refresh(e);
	for (i = 0; i < e->n; i++)
		if ((rc = kill_node(&e->node[i])) != ZKC_OK)
			return fail(rc, "node %d: %s", i + 1, zkc_ens_error());
	for (i = 0; i < e->n; i++) {
		char *v2 = xasprintf("%s/data/version-2", e->node[i].dir);

		if (!v2)
			return fail(ZKC_ENOMEM, "out of memory");
		rc = access(v2, F_OK) == 0 && rm_rf(v2) < 0 ? ZKC_EOS : ZKC_OK;
		if (rc != ZKC_OK)
			rc = fail(rc, "node %d: cannot delete %s: %s", i + 1, v2, strerror(errno));
		free(v2);
		if (rc != ZKC_OK)
			return rc;
	}
	for (i = 0; i < e->n; i++)
		if ((rc = spawn_node(e, i, e->die_with_parent)) != ZKC_OK)
			return rc;
	if ((rc = write_state(e)) != ZKC_OK)
		return rc;
	if (wait_ms == 0)
		return ZKC_OK;
	return zkc_ens_wait_quorum(e, wait_ms < 0 ? DEFAULT_WAIT_MS : wait_ms);
}

int zkc_ens_restart(zkc_ens_t *e, int i, int wait_ms)
{
	int rc;

	if (!in_range(e, i))
		return bad_index(e, i);
	refresh(e);
	if ((rc = kill_node(&e->node[i])) != ZKC_OK)
		return fail(rc, "node %d: %s", i + 1, zkc_ens_error());
	if (access(e->node[i].cfg, R_OK) != 0)
		return fail(ZKC_EOS, "node %d: %s: %s", i + 1, e->node[i].cfg,
		    strerror(errno));
	if ((rc = spawn_node(e, i, e->die_with_parent)) != ZKC_OK)
		return rc;
	if ((rc = write_state(e)) != ZKC_OK)
		return rc;
	if (wait_ms == 0)
		return ZKC_OK;
	return zkc_ens_wait_serving(e, i, wait_ms < 0 ? DEFAULT_WAIT_MS : wait_ms);
}
