/* tests/integration/elect_worker.c - one election candidate in its own
 * process, for the fault tests (which SIGSTOP it): logs every leadership
 * change with a monotonic time stamp, and while leading appends fenced
 * records (a multi that checks its own node first) to a register.
 *
 * Linked into test_election_faults, which runs it by re-executing itself:
 *   test_election_faults --worker URL PATH ID LOG FENCE_DIR SESSION_TIMEOUT_MS
 * SIGUSR1 force-expires its session; SIGTERM resigns and exits 0.
 * Log lines: "G epoch t" gained, "L epoch t reason" lost, "E t" about to
 * expire its own session, "X t" exit. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zkc.h"

static volatile sig_atomic_t want_exit, want_expire;
static int log_fd = -1;

static void on_signal(int sig)
{
	if (sig == SIGTERM)
		want_exit = 1;
	else if (sig == SIGUSR1)
		want_expire = 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_line(const char *fmt, long long a, long long b, int c)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), fmt, a, b, c);

	if (n > 0 && write(log_fd, buf, (size_t)n) != n)
		_exit(3);
}

static void on_leadership(zkc_election_t *e, int type, int64_t epoch, int reason, void *payload)
{
	(void)e;
	(void)payload;
	if (type == ZKC_ELECTION_LEADER)
		log_line("G %lld %lld\n", (long long)epoch, now_ms(), 0);
	else
		log_line("L %lld %lld %d\n", (long long)epoch, now_ms(), reason);
}

/* A fenced write: fails inside ZooKeeper unless our leader node still
 * exists. Returns 1 if this candidate led when it looked. */
static int fenced_append(zkc_t *zk, zkc_election_t *e, const char *fence_dir)
{
	char *node = NULL, rec[64], path[512];
	zkc_multi_t *m = NULL;
	int64_t epoch;

	if (zkc_election_fence(&node, &epoch, e) != ZKC_OK)
		return 0;
	if (zkc_multi_new(&m) != ZKC_OK) {
		zkc_free(node);
		return 0;
	}
	snprintf(rec, sizeof(rec), "%lld %d", (long long)epoch, (int)getpid());
	snprintf(path, sizeof(path), "%s/a-", fence_dir);
	zkc_multi_check(m, node, -1);
	zkc_multi_create(m, path, rec, strlen(rec), ZKC_PERSISTENT_SEQUENTIAL, NULL);
	{
		long long t0 = now_ms();
		int rc = zkc_multi_commit(NULL, zk, m);
		char line[600];
		int n = snprintf(line, sizeof(line), "F %lld %lld %lld %d %s\n", (long long)epoch,
		    t0, now_ms(), rc, node);

		if (write(log_fd, line, (size_t)n) != n)
			_exit(3);
	}
	zkc_multi_free(m);
	zkc_free(node);
	return 1;
}

int elect_worker_main(int argc, char **argv);

/* argv[0] is "--worker", argv[1..6] the arguments. */
int elect_worker_main(int argc, char **argv)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_election_options_t eo = ZKC_ELECTION_OPTIONS_INIT;
	zkc_retry_t retry = ZKC_RETRY_INIT;
	zkc_election_t *e = NULL;
	struct sigaction sa;
	zkc_t *zk = NULL;
	int rc, expiring = 0;

	if (argc != 7) {
		fprintf(stderr, "usage: --worker URL PATH ID LOG FENCE_DIR TIMEOUT_MS\n");
		return 2;
	}
	log_fd = open(argv[4], O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (log_fd < 0)
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	o.session_timeout_ms = atoi(argv[6]);
	o.connect_timeout_ms = 30000;
	retry.deadline_ms = 5000;   /* fenced writes give up quickly */
	o.retry = retry;
	if ((rc = zkc_open(&zk, argv[1], &o)) != ZKC_OK) {
		fprintf(stderr, "elect_worker: open: %s\n", zkc_strcode(rc));
		return 1;
	}
	eo.id = argv[3];
	eo.fn = on_leadership;
	if ((rc = zkc_election_open(&e, zk, argv[2], &eo)) != ZKC_OK ||
	    (rc = zkc_election_join(e)) != ZKC_OK) {
		fprintf(stderr, "elect_worker: election: %s\n", zkc_strcode(rc));
		return 1;
	}
	while (!want_exit) {
		if (want_expire) {
			int64_t old = 0, now = 0;
			long long until;

			/* the expiry can lose a race with our own reconnect (the
			 * server then refuses its closeSession): retry until the
			 * session id changes */
			zkc_session(&old, NULL, NULL, zk);
			if (!expiring)
				log_line("E %lld %lld %d\n", now_ms(), 0, 0);
			expiring = 1;
			zkc_testing_expire_session(zk, 10000);
			for (until = now_ms() + 3000; now_ms() < until; usleep(10000))
				if (zkc_session(&now, NULL, NULL, zk) == ZKC_OK && now != old)
					break;
			if (now == old)
				continue;
			want_expire = 0;
			expiring = 0;
		}
		/* waits up to 20 ms for leadership: the loop's pace */
		rc = zkc_election_await(NULL, e, 20);
		if (rc == ZKC_OK)
			fenced_append(zk, e, argv[5]);
		if (rc != ZKC_ETIMEDOUT)
			usleep(20000);
	}
	/* leadership ends when close begins (it drops the flag before it
	 * deletes the node), and this process acts on nothing after it */
	log_line("X %lld %lld %d\n", now_ms(), 0, 0);
	zkc_election_close(e);
	zkc_close(zk);
	close(log_fd);
	return 0;
}
