/* tests/fuzz/fuzz_cli.c - libFuzzer target for the `zkc` command line:
 * the global options and every command's argument parsing, run through
 * cli_main in parse-only mode (tools/cli.h), so nothing connects, starts
 * a server or spawns a child. The input is the argument list, NUL
 * separated (argv[0] is "zkc"). Beyond "no crash, leak or undefined
 * behaviour": the result is an exit status the CLI documents (0..9) or
 * CLI_PARSED, never CLI_HELP or anything else; no file descriptor is left
 * open (the commands that open a self-pipe before connecting close it
 * again); the process never exits (a --help used to call exit()); and the
 * same arguments parsed a second time in the same process give the same
 * result (getopt's state from the first scan used to leak into the next:
 * seed regress_getopt_stale_cluster). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		abort();
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FILE *quiet = fopen("/dev/null", "w");

	/* DATA "-" reads standard input: an empty one. The commands' usage
	 * messages go nowhere; libFuzzer and the sanitizers write to fd 2
	 * themselves. */
	if (!quiet || !freopen("/dev/null", "r", stdin) || !freopen("/dev/null", "w", stdout))
		abort();
	stderr = quiet;
	cli_parse_only = 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *buf2 = malloc(size + 1), *args[MAX_ARGS + 2],
	     *again[MAX_ARGS + 2];
	int argc = 1, rc, rc2, fds, k;
	size_t i, start = 0;

	if (!buf || !buf2) {
		free(buf);
		free(buf2);
		return 0;
	}
	memcpy(buf, data, size);
	buf[size] = '\0';
	args[0] = "zkc";
	for (i = 0; i <= size && argc <= MAX_ARGS; i++) {
		if (buf[i] == '\0') {
			args[argc++] = buf + start;
			start = i + 1;
		}
	}
	args[argc] = NULL;
	/* getopt reorders the array it is given, and commands may write into
	 * their arguments (acl set splits its entries): the second run gets
	 * its own copy of both */
	memcpy(buf2, buf, size + 1);
	again[0] = args[0];
	for (k = 1; k <= argc; k++)
		again[k] = args[k] ? buf2 + (args[k] - buf) : NULL;
	/* each run starts as a fresh process would: --url sets $ZKC_URL */
	unsetenv("ZKC_URL");
	unsetenv("ZKC_ENSEMBLE_DIR");
	fds = open_fds();
	rc = cli_main(argc, args);
	unsetenv("ZKC_URL");
	unsetenv("ZKC_ENSEMBLE_DIR");
	rc2 = cli_main(argc, again);
	if (rc2 != rc) {
		dprintf(2, "fuzz_cli: the same arguments gave %d, then %d\n", rc, rc2);
		abort();
	}
	if (!((rc >= CLI_OK && rc <= CLI_UNKNOWN) || rc == CLI_PARSED)) {
		dprintf(2, "fuzz_cli: cli_main returned %d\n", rc);
		abort();
	}
	if (open_fds() != fds) {
		dprintf(2, "fuzz_cli: %d file descriptors open before, %d after\n",
		    fds, open_fds());
		abort();
	}
	free(buf);
	free(buf2);
	return 0;
}
