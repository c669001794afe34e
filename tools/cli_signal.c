/* tools/cli_signal.c - the commands' signal handling: SIGINT and SIGTERM
 * ask the command to stop; other caught signals (SIGCHLD, SIGUSR1, ...) are
 * noted for the main loop. Each wakes cli_wake_wait. */
#include <signal.h>
#include <string.h>

#include "cli.h"

#define MAX_SIG 65

static volatile sig_atomic_t stop_sig;
static volatile sig_atomic_t noted[MAX_SIG];

static void on_signal(int sig)
{
	if (sig == SIGINT || sig == SIGTERM)
		stop_sig = sig;
	else if (sig > 0 && sig < MAX_SIG)
		noted[sig] = 1;
	cli_wake();
}

void cli_signals_catch(const int *also)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (; also && *also; also++)
		sigaction(*also, &sa, NULL);
}

int cli_stop_signal(void)
{
	return stop_sig;
}

int cli_signal_take(int sig)
{
	if (sig <= 0 || sig >= MAX_SIG || !noted[sig])
		return 0;
	noted[sig] = 0;
	return 1;
}
