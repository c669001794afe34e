/* tools/cmd_barrier.c - `zkc barrier`: the barrier recipes (zkc/barrier.h)
 * for shell scripts: raise, lower and wait on a simple barrier; run a
 * command between entering and leaving a double barrier. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cli.h"

int cli_barrier(int argc, char **argv);

static const char barrier_usage[] =
    "usage: zkc barrier set PATH\n"
    "       zkc barrier remove PATH\n"
    "       zkc barrier wait [--timeout SEC] PATH\n"
    "       zkc barrier run --count N [--id ID] [--timeout SEC] PATH -- CMD [ARGS...]\n"
    "set raises the barrier at PATH (creates its node), remove lowers it,\n"
    "wait returns once it is lowered (or was never raised). run enters the\n"
    "double barrier PATH for N members, waits until N are in, runs CMD, then\n"
    "leaves and waits until every member has left; it exits with CMD's\n"
    "status. --timeout: for each wait (default: none).\n"
    "Exit status: 0 ok; 124 not lowered / not all in or out within\n"
    "--timeout; 2 usage; 7 no connection; 4 (run) ID is another's; CMD's\n"
    "status (126/127 it cannot be run); 1 other.\n";

static int bad(const char *why)
{
	fprintf(stderr, "zkc: barrier: %s\n%s", why, barrier_usage);
	return CLI_USAGE;
}

struct barrier_args {
	const char *sub, *path, *id;
	int count, timeout_ms;
	char **cmd;
};

static int barrier_parse(int argc, char **argv, struct barrier_args *a)
{
	int i, run = strcmp(a->sub, "run") == 0, v;

	for (i = 2; i < argc; i++) {
		const char *s = argv[i];

		if (strcmp(s, "--") == 0) {
			a->cmd = argv + i + 1;
			break;
		} else if (strcmp(s, "--timeout") == 0 && i + 1 < argc && strcmp(a->sub, "set") &&
		           strcmp(a->sub, "remove")) {
			if (cli_parse_int(argv[++i], 0, 86400 * 365, &v))
				return bad("--timeout takes seconds");
			a->timeout_ms = v * 1000;
		} else if (run && strcmp(s, "--count") == 0 && i + 1 < argc) {
			if (cli_parse_int(argv[++i], 1, 100000, &a->count))
				return bad("--count takes 1..100000");
		} else if (run && strcmp(s, "--id") == 0 && i + 1 < argc) {
			a->id = argv[++i];
		} else if (s[0] == '-' || a->path) {
			return bad("unexpected argument");
		} else {
			a->path = s;
		}
	}
	if (!a->path)
		return bad("missing PATH");
	if (run != (a->cmd != NULL) || (run && (!a->cmd[0] || !a->count)))
		return bad(run ? "run needs --count N and -- CMD" : "unexpected --");
	if (zkc_path_validate(a->path, (size_t)-1) != ZKC_OK)
		return cli_fail("barrier", ZKC_EBADARGUMENTS);
	return CLI_OK;
}

static int timed_out(const char *what, const char *path)
{
	fprintf(stderr, "zkc: barrier %s: %s: not in time\n", what, path);
	return CLI_TIMEOUT;
}

/* Enter, CMD, leave. */
static int barrier_run(zkc_t *zk, const struct barrier_args *a)
{
	zkc_double_barrier_t *b = NULL;
	int code, rc, status = 0;
	pid_t child;

	if ((rc = zkc_double_barrier_open(&b, zk, a->path, a->count, a->id)) != ZKC_OK)
		return cli_fail("barrier run", rc);
	rc = zkc_double_barrier_enter(b, a->timeout_ms);
	if (rc != ZKC_OK) {
		code = rc == ZKC_ETIMEDOUT ? timed_out("enter", a->path) : cli_fail("barrier enter", rc);
		zkc_double_barrier_close(b);
		return code;
	}
	child = cli_spawn("barrier", a->cmd, NULL);
	if (child < 0 || waitpid(child, &status, 0) != child)
		code = cli_fail("barrier: fork", ZKC_EOS);
	else
		code = cli_exit_of(status);
	rc = zkc_double_barrier_leave(b, a->timeout_ms);
	if (rc != ZKC_OK && code == CLI_OK)
		code = rc == ZKC_ETIMEDOUT ? timed_out("leave", a->path) : cli_fail("barrier leave", rc);
	zkc_double_barrier_close(b);
	return code;
}

int cli_barrier(int argc, char **argv)
{
	struct barrier_args a = { .timeout_ms = -1 };
	int code = CLI_OK, rc;
	zkc_t *zk;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(barrier_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	a.sub = argv[1];
	if (strcmp(a.sub, "set") && strcmp(a.sub, "remove") && strcmp(a.sub, "wait") &&
	    strcmp(a.sub, "run"))
		return bad("unknown subcommand");
	if ((code = barrier_parse(argc, argv, &a)) != CLI_OK)
		return code;
	if (!(zk = cli_open(&code)))
		return code;
	if (strcmp(a.sub, "set") == 0) {
		code = cli_fail("barrier set", zkc_barrier_set(zk, a.path));
	} else if (strcmp(a.sub, "remove") == 0) {
		code = cli_fail("barrier remove", zkc_barrier_remove(zk, a.path));
	} else if (strcmp(a.sub, "wait") == 0) {
		rc = zkc_barrier_wait(zk, a.path, a.timeout_ms);
		code = rc == ZKC_ETIMEDOUT ? timed_out("wait", a.path) : cli_fail("barrier wait", rc);
	} else {
		code = barrier_run(zk, &a);
	}
	zkc_close(zk);
	return code;
}
