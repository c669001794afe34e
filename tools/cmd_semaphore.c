/* tools/cmd_semaphore.c - `zkc semaphore`: run a command while holding one
 * of N leases of a counting semaphore (zkc/semaphore.h), with SIGTERM to
 * it if the lease is lost. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cli.h"

int cli_semaphore(int argc, char **argv);

#define SEMAPHORE_PREFIX "/zkc/semaphore/"

static const char semaphore_usage[] =
    "usage: zkc semaphore NAME --permits N [--timeout SEC] -- CMD [ARGS...]\n"
    "Takes one of the N leases of semaphore NAME (a path, or a name under\n"
    SEMAPHORE_PREFIX "; Curator InterProcessSemaphoreV2 layout), runs CMD\n"
    "while holding it, then returns it. CMD gets ZKC_SEMAPHORE_TOKEN (the\n"
    "lease node's czxid) and ZKC_SEMAPHORE_PATH in its environment, and\n"
    "SIGTERM if the lease is lost. SIGTERM/SIGINT to zkc are passed on to\n"
    "CMD. --timeout 0 tries once; default: wait forever.\n"
    "Exit status: CMD's status (128+N if signal N ended it); 124 no lease\n"
    "within --timeout; 2 usage; 7 no connection; 126/127 CMD could not be\n"
    "run; 1 other.\n";

struct sem_args {
	const char *name;
	int permits, timeout_ms;
	char **cmd;
};

static int sem_parse(int argc, char **argv, struct sem_args *a)
{
	int i, v;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			a->cmd = argv + i + 1;
			break;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(semaphore_usage, stdout);
			return -1;
		} else if (strcmp(argv[i], "--permits") == 0 && i + 1 < argc) {
			if (cli_parse_int(argv[++i], 1, 1000000, &a->permits))
				return cli_usage_error("semaphore: --permits takes 1..1000000, not `%s'",
				                       argv[i]);
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			if (cli_parse_int(argv[++i], 0, 86400 * 365, &v))
				return cli_usage_error("semaphore: --timeout takes seconds, not `%s'",
				                       argv[i]);
			a->timeout_ms = v * 1000;
		} else if (argv[i][0] == '-' || a->name) {
			return cli_usage_error("semaphore: unexpected argument `%s'", argv[i]);
		} else {
			a->name = argv[i];
		}
	}
	if (!a->name || !*a->name || !a->permits || !a->cmd || !a->cmd[0]) {
		fputs(semaphore_usage, stderr);
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* Runs cmd while the lease holds; its exit code. */
static int run_leased(zkc_semaphore_lease_t *lease, char **cmd)
{
	char tok[32];
	const char *env[] = { "ZKC_SEMAPHORE_TOKEN", tok, "ZKC_SEMAPHORE_PATH",
		              zkc_semaphore_lease_path(lease), NULL };
	int status = 0, termed = 0, forwarded = 0;
	pid_t child;

	snprintf(tok, sizeof(tok), "%lld", (long long)zkc_semaphore_lease_token(lease));
	if ((child = cli_spawn("semaphore", cmd, env)) < 0)
		return cli_fail("semaphore: fork", ZKC_EOS);
	for (;;) {
		if (waitpid(child, &status, WNOHANG) == child)
			return cli_exit_of(status);
		if (!termed && !zkc_semaphore_lease_valid(lease)) {
			fprintf(stderr, "zkc: semaphore: lease lost; sending SIGTERM to %s\n", cmd[0]);
			kill(child, SIGTERM);
			termed = 1;
		}
		if (cli_stop_signal() && forwarded != cli_stop_signal()) {
			forwarded = cli_stop_signal();
			kill(child, forwarded);
		}
		if (cli_wake_wait(200) < 0)
			return CLI_FAIL;
	}
}

static int sem_run(const char *path, const struct sem_args *a)
{
	zkc_semaphore_lease_t *lease = NULL;
	zkc_semaphore_t *sem = NULL;
	int code = CLI_OK, rc;
	zkc_t *zk;

	if (!(zk = cli_open(&code)))
		return code;
	rc = zkc_semaphore_open(&sem, zk, path, a->permits, NULL);
	if (rc == ZKC_OK)
		rc = zkc_semaphore_acquire(&lease, sem, a->timeout_ms);
	if (rc == ZKC_EAGAIN || rc == ZKC_ETIMEDOUT) {
		fprintf(stderr, "zkc: semaphore: %s: no lease of %d within %d ms\n", path,
		        a->permits, a->timeout_ms);
		code = CLI_TIMEOUT;
	} else if (rc != ZKC_OK) {
		code = cli_fail("semaphore", rc);
	} else {
		code = run_leased(lease, a->cmd);
		if (zkc_semaphore_release(lease, ZKC_LOCK_RELEASE_SYNC) == ZKC_ELOST)
			fprintf(stderr, "zkc: semaphore: the lease was lost while %s ran\n", a->cmd[0]);
	}
	zkc_semaphore_lease_free(lease);
	zkc_semaphore_close(sem);
	zkc_close(zk);
	return code;
}

int cli_semaphore(int argc, char **argv)
{
	struct sem_args a = { .timeout_ms = ZKC_LOCK_FOREVER };
	char *path;
	int code = sem_parse(argc, argv, &a);

	if (code != CLI_OK)
		return code < 0 ? CLI_OK : code;
	path = cli_name_path(SEMAPHORE_PREFIX, a.name);
	if (!path)
		return CLI_FAIL;
	if (zkc_path_validate(path, (size_t)-1) != ZKC_OK) {
		fprintf(stderr, "zkc: semaphore: bad name `%s'\n", a.name);
		free(path);
		return CLI_USAGE;
	}
	if (cli_wake_open() != 0) {
		free(path);
		return cli_fail("semaphore: pipe", ZKC_EOS);
	}
	cli_signals_catch((const int[]){ SIGCHLD, 0 });
	code = sem_run(path, &a);
	free(path);
	cli_wake_close();
	return code;
}
