/* tools/ens_proc.c - the ensemble's server processes: starting a JVM per
 * node (fork and exec with a clean signal state, its output into the
 * node's log), telling whether a pid is still our node, killing and
 * reaping, and quoting a node's log when it fails. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "ens_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAIN_CLASS "org.apache.zookeeper.server.quorum.QuorumPeerMain"

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
	/* A learner syncs from a snapshot of the leader, written before it
	 * takes the new epoch, never from a DIFF or TRUNC: with DIFF, 3.8.0
	 * lets a learner take the new epoch before the synced transactions
	 * are in its database, and it can then win an election and truncate
	 * committed transactions on the others (docs/decisions/0012). */
	"-Dzookeeper.forceSnapshotSync=true",
};

/* ------------------------------------------------------------ process state */

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
int ens__node_state(struct ens_node *nd)
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

int ens__wait_dead(struct ens_node *nd, int timeout_ms)
{
	long long deadline = ens__now_ms() + timeout_ms;
	int delay = 1;

	while (ens__node_state(nd) != ZKC_ENS_DEAD) {
		if (ens__now_ms() >= deadline)
			return -1;
		ens__sleep_ms(delay);
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


void ens__log_find_error(const char *log, int first, char *out,
    size_t outlen)
{
	char *text = ens__read_file(log, 1 << 22);
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

int ens__log_mentions(const char *log, const char *needle)
{
	char *text = ens__read_file(log, 1 << 22);
	int found = text && strstr(text, needle) != NULL;

	free(text);
	return found;
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
	ADD(ens__asprintf("-Dlog4j.configuration=file:%s", e->log4j_path));
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

int ens__spawn_node(zkc_ens_t *e, int i, int die_with_parent)
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
		return ens__fail(ZKC_ENOMEM, "out of memory");
	maxfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 65536 ?
	    (int)rl.rlim_cur : 65536;
	logfd = open(nd->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (logfd < 0 || nullfd < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		rc = ens__fail(ZKC_EOS, "cannot prepare node %d (%s): %s", i + 1,
		    nd->log, strerror(errno));
		goto out;
	}
	localtime_r(&t, &tm);
	strftime(banner, sizeof banner, BANNER " at %Y-%m-%d %H:%M:%S ===\n",
	    &tm);
	ens__write_all(logfd, banner, strlen(banner));
	pid = fork();
	if (pid < 0) {
		rc = ens__fail(ZKC_EOS, "fork: %s", strerror(errno));
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
		rc = ens__fail(ZKC_ENOTSUP, "cannot run %s: %s", e->java,
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

/* ------------------------------------------------------------ ending */

/* Kills what runs, reaping our children. */
int ens__kill_node(struct ens_node *nd)
{
	if (ens__node_state(nd) == ZKC_ENS_DEAD)
		return ZKC_OK;
	if (kill(nd->pid, SIGKILL) < 0 && errno != ESRCH)
		return ens__fail(ZKC_EOS, "kill %ld: %s", (long)nd->pid, strerror(errno));
	if (ens__wait_dead(nd, DEATH_WAIT_MS) < 0)
		return ens__fail(ZKC_ETIMEDOUT, "process %ld did not die within %d ms "
		    "of SIGKILL", (long)nd->pid, DEATH_WAIT_MS);
	return ZKC_OK;
}

/* Reports a node that died while we waited for it, quoting its log. */
void ens__explain_dead(struct ens_node *nd, int id, int status, int reaped)
{
	char why[64], last[320];

	if (reaped)
		describe_exit(why, sizeof why, status);
	else
		snprintf(why, sizeof why, "is not running");
	ens__log_find_error(nd->log, 1, last, sizeof last);
	ens__fail_append(" node %d %s (log %s)%s%s;", id, why, nd->log,
	    last[0] ? ": " : "", last);
}

/* Like ens__node_state(), but keeps the exit status of a child that died. */
int ens__check_alive(struct ens_node *nd, int *status, int *reaped)
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
	return ens__node_state(nd) != ZKC_ENS_DEAD;
}
