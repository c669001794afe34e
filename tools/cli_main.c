/* tools/cli_main.c - the `zkc` command line: global options, help and the
 * dispatch to the subcommands (tools/cmd_*.c; what they share is in
 * tools/cli_*.c). tools/zkc.c is only main(); the fuzz target
 * tests/fuzz/fuzz_cli.c calls cli_main in parse-only mode. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* Exit codes, the same for every subcommand (listed in the usage text). */
#define EXIT_OK CLI_OK
#define EXIT_USAGE CLI_USAGE

typedef int (*command_fn)(int argc, char **argv);

struct command {
	const char *name;
	command_fn run;
	const char *summary;
};

int cli_elect(int argc, char **argv);   /* tools/cmd_elect.c */
int cli_lock(int argc, char **argv);    /* tools/cmd_lock.c */
int cli_queue(int argc, char **argv);   /* tools/cmd_queue.c */
int cli_counter(int argc, char **argv); /* tools/cmd_counter.c */
int cli_index(int argc, char **argv);   /* tools/cmd_index.c */
int cli_service(int argc, char **argv); /* tools/cmd_service.c */
int cli_discover(int argc, char **argv); /* tools/cmd_discover.c */
int cli_health(int argc, char **argv);  /* tools/cmd_discover.c */

/* ==================================================================
 * Subcommand dispatch table.
 * Each command is one function; recipes' commands live in their own
 * tools/cmd_*.c files and get one line here.
 * ================================================================== */
static const struct command commands[] = {
	{ "ls", cli_ls, "list a node's children (sorted)" },
	{ "get", cli_get, "print a node's data" },
	{ "set", cli_set, "write a node's data" },
	{ "create", cli_create, "create a node; prints its path" },
	{ "rm", cli_rm, "delete a node (-r: with its subtree)" },
	{ "stat", cli_stat, "print a node's stat" },
	{ "tree", cli_tree, "print a subtree" },
	{ "watch", cli_watch, "print a node's events as they happen" },
	{ "du", cli_du, "nodes and data bytes of a subtree, per child" },
	{ "find", cli_find, "print the paths of a subtree (--name GLOB)" },
	{ "grep", cli_grep, "print the nodes of a subtree whose data contains TEXT" },
	{ "dump", cli_dump, "write a subtree (data, modes, ACLs) as JSON" },
	{ "load", cli_load, "create the nodes of a dump (--to PATH)" },
	{ "cp", cli_cp, "copy a subtree, here or to another ensemble (--to-url)" },
	{ "diff", cli_diff, "compare two subtrees (exit 1 when they differ)" },
	{ "acl", cli_acl, "get or set a node's ACL" },
	{ "elect", cli_elect, "run a command while leading an election" },
	{ "lock", cli_lock, "run a command while holding a lock" },
	{ "queue", cli_queue, "put, take, peek or count items of a queue" },
	{ "counter", cli_counter, "get, add to or compare-and-set a counter" },
	{ "index", cli_index, "put, get, find, delete, verify or rebuild indexed records" },
	{ "service", cli_service, "register, list or route to instances of a service" },
	{ "discover", cli_discover, "print the servers a URL finds (--watch: as they change)" },
	{ "health", cli_health, "exit 0 if a session is connected and writable (probes)" },
	{ "ensemble", cli_ensemble,
	  "run a local ZooKeeper ensemble (up, status, kill, stop, cont, "
	  "restart, wait, down, url, env)" },
};

static void usage(FILE *to)
{
	size_t k;

	fprintf(to,
	    "usage: zkc [--help] [--version] [--url URL] COMMAND [ARGS]\n"
	    "\n"
	    "URL defaults to $ZKC_URL (zk://host:port[,...][/chroot][?options],\n"
	    "zk+dns://, zk+srv://, zk+k8s://SERVICE.NAMESPACE:PORT; see\n"
	    "docs/getting-started.md and docs/kubernetes.md).\n"
	    "\n"
	    "commands:\n");
	for (k = 0; k < sizeof commands / sizeof *commands; k++)
		fprintf(to, "  %-10s %s\n", commands[k].name, commands[k].summary);
	fprintf(to, "\n%s\n", cli_ensemble_usage);
	fprintf(to,
	    "zkc ls [--json] PATH            zkc get [--stat] PATH\n"
	    "zkc set PATH DATA|- [--version V]\n"
	    "zkc create PATH [DATA|-] [--ephemeral] [--sequential] [--container]\n"
	    "                [--ttl MS] [--parents]\n"
	    "zkc rm PATH [--version V] [-r]  zkc stat [--json] PATH\n"
	    "zkc tree PATH [--depth N]       zkc watch PATH [--count N] [--timeout SEC]\n"
	    "    DATA `-' reads standard input. Sequential creates are protected\n"
	    "    (safe to retry).\n"
	    "\n"
	    "exit status: 0 success, 1 failure (the message says why),\n"
	    "             2 usage error (unknown command or bad arguments),\n"
	    "             3 no such node, 4 node exists, 5 bad version,\n"
	    "             6 not allowed (ACL/auth), 7 no connection,\n"
	    "             8 node has children, 9 outcome of a write unknown\n");
}

/* ------------------------------------------------------------ main */

static int dispatch(int argc, char **argv)
{
	size_t k;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("zkc %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	}
	/* --url URL (or --url=URL) before the command: the client commands
	 * and the library read it as $ZKC_URL. */
	if (strcmp(argv[1], "--url") == 0 || strncmp(argv[1], "--url=", 6) == 0) {
		const char *url = argv[1][5] == '=' ? argv[1] + 6 : argv[2];
		int used = argv[1][5] == '=' ? 1 : 2;

		if (!url || !*url)
			return cli_usage_error("%s needs a URL", "--url");
		setenv("ZKC_URL", url, 1);
		argc -= used;
		argv += used;
		if (argc < 2) {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	for (k = 0; k < sizeof commands / sizeof *commands; k++)
		if (strcmp(argv[1], commands[k].name) == 0)
			return commands[k].run(argc - 1, argv + 1);
	return cli_usage_error("unknown command `%s'", argv[1]);
}

int cli_parse_only;

int cli_main(int argc, char **argv)
{
	int code = dispatch(argc, argv);

	/* a command that printed its --help succeeded */
	return code == CLI_HELP ? CLI_OK : code;
}
