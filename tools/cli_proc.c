/* tools/cli_proc.c - what the commands that hold something while they run
 * (`zkc lock`, `zkc elect`, `zkc service register`) share: a self-pipe
 * that signal handlers and zkc's event thread use to wake the main loop,
 * and running the user's command in a child. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

static int wake_fd[2] = { -1, -1 };

int cli_wake_open(void)
{
	return pipe2(wake_fd, O_CLOEXEC | O_NONBLOCK) == 0 ? 0 : -1;
}

void cli_wake_close(void)
{
	int i;

	for (i = 0; i < 2; i++)
		if (wake_fd[i] >= 0) {
			close(wake_fd[i]);
			wake_fd[i] = -1;
		}
}

void cli_wake(void)
{
	char c = 1;
	int saved = errno;

	if (write(wake_fd[1], &c, 1) < 0) {
		/* full pipe: the loop is awake anyway */
	}
	errno = saved;
}

int cli_wake_wait(int timeout_ms)
{
	struct pollfd p = { wake_fd[0], POLLIN, 0 };
	char buf[64];

	if (poll(&p, 1, timeout_ms) < 0 && errno != EINTR)
		return -1;
	while (read(wake_fd[0], buf, sizeof(buf)) > 0)
		;
	return 0;
}

pid_t cli_spawn(const char *what, char **cmd, const char *const *env)
{
	pid_t pid = fork();
	size_t i;

	if (pid != 0)
		return pid;
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	cli_wake_close();
	for (i = 0; env && env[i] && env[i + 1]; i += 2)
		setenv(env[i], env[i + 1], 1);
	execvp(cmd[0], cmd);
	fprintf(stderr, "zkc: %s: cannot run %s: %s\n", what, cmd[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

int cli_exit_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return CLI_FAIL;
}
