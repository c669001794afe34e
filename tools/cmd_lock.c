/* tools/cmd_lock.c - `zkc lock`: run a command while holding a fair
 * ZooKeeper lock (as `etcdctl lock` does), with its fencing token in the
 * command's environment and SIGTERM to it if the lock is lost. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

int cli_lock(int argc, char **argv);

#define LOCK_PREFIX "/zkc/lock/"

static const char lock_usage[] =
    "usage: zkc lock NAME [--read | --write] [--timeout SECONDS] -- CMD [ARGS...]\n"
    "Waits for lock NAME (a path, or a name under " LOCK_PREFIX "; Curator\n"
    "InterProcessMutex layout), runs CMD while holding it, then releases it.\n"
    "CMD gets ZKC_LOCK_TOKEN (fencing token: the lock node's czxid, larger\n"
    "for every new holder), ZKC_LOCK_PATH (the lock node) and\n"
    "ZKC_LOCK_SESSION (hex session id) in its environment, and SIGTERM if\n"
    "the lock is lost (session expired or presumed lost). SIGTERM/SIGINT to\n"
    "zkc are passed on to CMD. --timeout 0 tries once; default: wait forever.\n"
    "--read / --write: the shared or the exclusive half of read/write lock\n"
    "NAME instead (Curator InterProcessReadWriteLock layout): readers run\n"
    "together, a writer alone, and a waiting writer holds back new readers.\n"
    "Exit status: CMD's status (128+N if signal N ended it); 124 lock not\n"
    "acquired within --timeout; 2 usage; 7 no connection; 126/127 CMD could\n"
    "not be run; 128+N zkc stopped by signal N before CMD ran; 1 other.\n";

static int lock_lost;       /* set on the event thread; atomic access */
static int acquire_done;    /* main -> canceller thread; atomic access */

static void on_lock_event(zkc_lock_t *lk, int event, void *payload)
{
	(void)lk;
	(void)payload;
	if (event == ZKC_LOCK_EVENT_LOST)
		__atomic_store_n(&lock_lost, 1, __ATOMIC_SEQ_CST);
	cli_wake();
}

/* While acquire blocks the main thread, a signal cancels it from here
 * (zkc_lock_cancel is not async-signal-safe, so not from the handler). */
static void *canceller(void *arg)
{
	zkc_lock_t *lk = arg;

	while (!__atomic_load_n(&acquire_done, __ATOMIC_SEQ_CST)) {
		if (cli_stop_signal()) {
			zkc_lock_cancel(lk);
			break;
		}
		if (cli_wake_wait(-1) < 0)
			break;
	}
	return NULL;
}

/* Seconds with an optional fraction ("2", "0.5") to ms; -1 if malformed. */
static int parse_seconds(const char *s)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || v < 0 || v > 2000000.0)
		return -1;
	return (int)(v * 1000.0 + 0.5);
}

static pid_t start_cmd(char **cmd, const zkc_lock_lease_t *lease)
{
	char tok[32], sess[32];
	const char *env[] = { "ZKC_LOCK_TOKEN", tok, "ZKC_LOCK_PATH", lease->path,
		              "ZKC_LOCK_SESSION", sess, NULL };

	snprintf(tok, sizeof(tok), "%lld", (long long)lease->token);
	snprintf(sess, sizeof(sess), "%llx", (unsigned long long)lease->session_id);
	return cli_spawn("lock", cmd, env);
}

/* Runs cmd under the held lock until it exits; returns its exit code. */
static int run_locked(zkc_lock_t *lk, const zkc_lock_lease_t *lease, char **cmd)
{
	int status = 0, termed = 0, forwarded = 0;
	pid_t child = start_cmd(cmd, lease);

	if (child < 0)
		return cli_fail("lock: fork", ZKC_EOS);
	for (;;) {
		if (waitpid(child, &status, WNOHANG) == child)
			return cli_exit_of(status);
		if (!termed && __atomic_load_n(&lock_lost, __ATOMIC_SEQ_CST)) {
			fprintf(stderr, "zkc: lock: lock lost; sending SIGTERM to %s\n", cmd[0]);
			kill(child, SIGTERM);
			termed = 1;
		}
		if (cli_stop_signal() && forwarded != cli_stop_signal()) {
			forwarded = cli_stop_signal();
			kill(child, forwarded);   /* passed on to CMD */
		}
		if (cli_wake_wait(1000) < 0)
			return CLI_FAIL;
		(void)lk;
	}
}

/* NAME [--read|--write] [--timeout S] -- CMD...: CLI_OK with the fields
 * set (*rw: 0, 'r' or 'w'), or the code. */
static int lock_parse(int argc, char **argv, const char **name, char ***cmd, int *timeout_ms,
                      int *rw)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			*cmd = argv + i + 1;
			break;
		} else if (strcmp(argv[i], "--read") == 0 || strcmp(argv[i], "--write") == 0) {
			if (*rw) {
				fprintf(stderr, "zkc: lock: one of --read and --write\n");
				return CLI_USAGE;
			}
			*rw = argv[i][2] == 'r' ? 'r' : 'w';
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(lock_usage, stdout);
			return -1;
		} else if (strcmp(argv[i], "--timeout") == 0 || strncmp(argv[i], "--timeout=", 10) == 0) {
			const char *v = argv[i][9] == '=' ? argv[i] + 10 : (i + 1 < argc ? argv[++i] : NULL);

			*timeout_ms = parse_seconds(v);
			if (*timeout_ms < 0) {
				fprintf(stderr, "zkc: lock: bad --timeout `%s' (seconds >= 0)\n", v ? v : "");
				return CLI_USAGE;
			}
		} else if (argv[i][0] == '-' || *name) {
			fprintf(stderr, "zkc: lock: unexpected argument `%s'\n", argv[i]);
			fputs(lock_usage, stderr);
			return CLI_USAGE;
		} else {
			*name = argv[i];
		}
	}
	if (!*name || !**name || !*cmd || !(*cmd)[0]) {
		fputs(lock_usage, stderr);
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* Acquires lk, a signal cancelling the wait; then runs cmd. The code. */
static int acquire_and_run(zkc_lock_t *lk, const char *path, int timeout_ms, char **cmd)
{
	zkc_lock_lease_t lease;
	pthread_t th;
	int rc, code;

	if (pthread_create(&th, NULL, canceller, lk) != 0)
		return cli_fail("lock: thread", ZKC_EOS);
	rc = zkc_lock_acquire(&lease, lk, timeout_ms);
	__atomic_store_n(&acquire_done, 1, __ATOMIC_SEQ_CST);
	cli_wake();
	pthread_join(th, NULL);
	if (rc == ZKC_OK && cli_stop_signal()) {
		zkc_lock_release(lk, ZKC_LOCK_RELEASE_SYNC);
		rc = ZKC_ECANCELED;
	}
	if (rc == ZKC_ECANCELED) {
		int sig = cli_stop_signal();

		return 128 + (sig ? sig : SIGTERM);
	}
	if (rc == ZKC_ETIMEDOUT || rc == ZKC_EAGAIN) {
		if (timeout_ms == 0)
			fprintf(stderr, "zkc: lock: %s is held by another\n", path);
		else
			fprintf(stderr, "zkc: lock: %s not acquired within %d ms\n", path, timeout_ms);
		return CLI_TIMEOUT;
	}
	if (rc != ZKC_OK)
		return cli_fail("lock", rc);
	code = run_locked(lk, &lease, cmd);
	rc = zkc_lock_release(lk, ZKC_LOCK_RELEASE_SYNC);
	if (rc == ZKC_ELOST)
		fprintf(stderr, "zkc: lock: the lock was lost while %s ran\n", cmd[0]);
	return code;
}

/* rw 0: a lock; 'r' or 'w': that half of a read/write lock. */
static int lock_run(const char *path, int rw, int timeout_ms, char **cmd)
{
	zkc_lock_options_t lo = ZKC_LOCK_OPTIONS_INIT;
	char data[300], host[256];
	zkc_rwlock_t *rwl = NULL;
	zkc_lock_t *lk = NULL;
	int code = CLI_OK, rc;
	zkc_t *zk;

	if (!(zk = cli_open(&code)))
		return code;
	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(data, sizeof(data), "%s:%d", host, (int)getpid());
	lo.data = data;
	lo.data_len = strlen(data);
	lo.event_fn = on_lock_event;
	if (!rw)
		rc = zkc_lock_open(&lk, zk, path, &lo);
	else if ((rc = zkc_rwlock_open(&rwl, zk, path, &lo)) == ZKC_OK)
		lk = rw == 'r' ? zkc_rwlock_read(rwl) : zkc_rwlock_write(rwl);
	code = rc == ZKC_OK ? acquire_and_run(lk, path, timeout_ms, cmd) : cli_fail("lock", rc);
	if (rwl)
		zkc_rwlock_close(rwl);   /* closes its halves */
	else
		zkc_lock_close(lk);
	zkc_close(zk);
	return code;
}

int cli_lock(int argc, char **argv)
{
	const char *name = NULL;
	char **cmd = NULL, *path;
	int timeout_ms = ZKC_LOCK_FOREVER, rw = 0, code;

	code = lock_parse(argc, argv, &name, &cmd, &timeout_ms, &rw);
	if (code != CLI_OK)
		return code < 0 ? CLI_OK : code;   /* -1: --help printed */
	path = cli_name_path(LOCK_PREFIX, name);
	if (!path)
		return CLI_FAIL;
	if (zkc_path_validate(path, (size_t)-1) != ZKC_OK) {
		fprintf(stderr, "zkc: lock: bad lock name `%s'\n", name);
		free(path);
		return CLI_USAGE;
	}
	if (cli_wake_open() != 0) {
		free(path);
		return cli_fail("lock: pipe", ZKC_EOS);
	}
	cli_signals_catch((const int[]){ SIGCHLD, 0 });
	code = lock_run(path, rw, timeout_ms, cmd);
	free(path);
	cli_wake_close();
	return code;
}
