/* tools/cli_main.c - the `zkc` command line: global options (accepted
 * anywhere before `--`), help, the dispatch to the subcommands
 * (tools/cmd_*.c; what they share is in tools/cli_*.c) and the check that
 * the output was written. tools/zkc.c is only main(); the fuzz target
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

typedef int (*command_fn)(int argc, char **argv);

struct command {
	const char *name;
	command_fn run;
	const char *summary;
	const char *help;   /* --help text; NULL: the command prints its own */
};

int cli_elect(int argc, char **argv);   /* tools/cmd_elect.c */
int cli_lock(int argc, char **argv);    /* tools/cmd_lock.c */
int cli_barrier(int argc, char **argv); /* tools/cmd_barrier.c */
int cli_semaphore(int argc, char **argv); /* tools/cmd_semaphore.c */
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
	{ "ls", cli_ls, "list a node's children (sorted)",
	  "usage: zkc ls [--json] PATH\n"
	  "Prints PATH's children, sorted, one per line (--json: one array).\n" },
	{ "get", cli_get, "print a node's data",
	  "usage: zkc get [--stat] [--json] PATH\n"
	  "Prints PATH's data as it is (on a terminal, a newline is added when\n"
	  "the data has none); --stat: then its stat. --json: {\"path\", \"data\"\n"
	  "(UTF-8 text) or \"data_b64\" (other bytes), \"stat\"}.\n" },
	{ "set", cli_set, "write a node's data",
	  "usage: zkc set [--version V] PATH DATA|-\n"
	  "Writes DATA (`-': standard input) to PATH, if its version is V when\n"
	  "given (exit 5 when not). Prints nothing.\n" },
	{ "create", cli_create, "create a node; prints its path",
	  "usage: zkc create [--ephemeral | --container | --ttl MS] [--sequential]\n"
	  "                  [--protected] [--parents] [--json] PATH [DATA|-]\n"
	  "Creates PATH and prints the path created (--json: {\"path\"}).\n"
	  "--sequential appends ZooKeeper's counter to the name as asked, as zkCli\n"
	  "does; --protected also puts a _c_UUID- prefix on the last name, so that\n"
	  "a create whose reply was lost is found instead of being made twice\n"
	  "(without it, such a create exits 9). An --ephemeral node is deleted\n"
	  "when zkc exits (a warning on stderr says so). --parents creates the\n"
	  "missing parents, and the URL's chroot when it does not exist.\n" },
	{ "rm", cli_rm, "delete a node (-r: with its subtree)",
	  "usage: zkc rm [--version V] [-r|--recursive] PATH\n"
	  "Deletes PATH (-r: with its subtree; a subtree the server would refuse\n"
	  "in part is not touched). Prints nothing.\n" },
	{ "stat", cli_stat, "print a node's stat",
	  "usage: zkc stat [--json] PATH\n"
	  "Prints PATH's stat; ctime and mtime as ISO 8601 UTC (--json: ms since\n"
	  "the epoch, as ZooKeeper keeps them).\n" },
	{ "tree", cli_tree, "print a subtree",
	  "usage: zkc tree [--depth N] [--json] PATH\n"
	  "Prints PATH and its descendants, indented, sorted (--depth N: N levels\n"
	  "below PATH). --json: {\"path\", \"children\": [{\"name\", \"children\"}...]}.\n" },
	{ "watch", cli_watch, "print a node's events as they happen",
	  "usage: zkc watch [--count N] [--timeout SEC] [--json] PATH\n"
	  "       zkc watch --tree [--depth N] [--data] [--count N] [--timeout SEC]\n"
	  "                 [--json] PATH\n"
	  "Prints WATCHING PATH once the watches are set, then one line per event\n"
	  "(CREATED, DELETED, CHANGED, CHILD, STATE) until N events, SEC seconds\n"
	  "without one, or SIGINT. --tree: every node of the subtree through a\n"
	  "cache (ADDED, UPDATED, REMOVED, INITIALIZED, SUSPENDED, RESYNCED).\n"
	  "--json: one JSON object per line ({\"event\", \"path\"...}).\n" },
	{ "du", cli_du, "nodes and data bytes of a subtree, per child", NULL },
	{ "find", cli_find, "print the paths of a subtree (--name GLOB)", NULL },
	{ "grep", cli_grep, "print the nodes of a subtree whose data contains TEXT", NULL },
	{ "dump", cli_dump, "write a subtree (data, modes, ACLs) as JSON", NULL },
	{ "load", cli_load, "create the nodes of a dump (--to PATH)", NULL },
	{ "cp", cli_cp, "copy a subtree, here or to another ensemble (--to-url)", NULL },
	{ "diff", cli_diff, "compare two subtrees (exit 1 when they differ)", NULL },
	{ "acl", cli_acl, "get or set a node's ACL", NULL },
	{ "elect", cli_elect, "run a command while leading an election; its leader, its members",
	  NULL },
	{ "lock", cli_lock, "run a command while holding a lock (--read/--write: rwlock)", NULL },
	{ "semaphore", cli_semaphore, "run a command while holding one of N leases", NULL },
	{ "barrier", cli_barrier, "raise, lower or wait on a barrier; run a command in a double one",
	  NULL },
	{ "queue", cli_queue, "put, take, peek or count items of a queue", NULL },
	{ "counter", cli_counter, "get, add to or compare-and-set a counter", NULL },
	{ "index", cli_index, "put, get, find, delete, verify or rebuild indexed records", NULL },
	{ "service", cli_service, "register, list or route to instances of a service", NULL },
	{ "discover", cli_discover, "print the servers a URL finds (--watch: as they change)", NULL },
	{ "health", cli_health, "exit 0 if a session is connected and writable (probes)", NULL },
	{ "ensemble", cli_ensemble,
	  "run a local ZooKeeper ensemble (up, status, kill, stop, cont, "
	  "restart, wait, down, url, env)", NULL },
};

/* The exit codes, as docs/cli.md's table lists them. */
static const struct { int code; const char *meaning; } exit_codes[] = {
	{ CLI_OK, "success" },
	{ CLI_FAIL, "failure (the message says why); diff: the subtrees differ" },
	{ CLI_USAGE, "usage error: unknown command, bad arguments or input" },
	{ CLI_NONODE, "no such node (or queue, record, leader, instance)" },
	{ CLI_EXISTS, "the node exists" },
	{ CLI_BADVERSION, "version mismatch (counter cas: not the value expected)" },
	{ CLI_NOAUTH, "not allowed: ACL or authentication" },
	{ CLI_CONNECT, "no connection to the ensemble" },
	{ CLI_NOTEMPTY, "the node has children" },
	{ CLI_UNKNOWN, "the outcome of a write is unknown" },
	{ CLI_DISAGREE, "index verify/rebuild: the index disagrees with the records" },
	{ CLI_TIMEOUT, "no lock or lease, queue empty, barrier not passed, within --timeout" },
	{ CLI_CANNOT_RUN, "lock/semaphore/elect/barrier run: CMD cannot be run" },
	{ CLI_NOT_FOUND, "lock/semaphore/elect/barrier run: CMD not found" },
	{ 128, "+N: CMD (or zkc before CMD ran) ended by signal N" },
};

static void usage(FILE *to)
{
	size_t k;

	fprintf(to,
	    "usage: zkc [--url URL] [--json] [--help] COMMAND [ARGS] [-- ARGS]\n"
	    "       zkc --version [--json] | zkc help COMMAND\n"
	    "\n"
	    "URL defaults to $ZKC_URL (zk://host:port[,...][/chroot][?options],\n"
	    "zk+dns://, zk+srv://, zk+k8s://SERVICE.NAMESPACE:PORT; see\n"
	    "docs/getting-started.md and docs/kubernetes.md). --url, --json and\n"
	    "--help are accepted anywhere before `--'; after `--' every word is an\n"
	    "argument (DATA, KEY, or the CMD of lock and elect). --json: commands\n"
	    "that print print JSON (streams: one object per line).\n"
	    "\n"
	    "commands (`zkc COMMAND --help' for each):\n");
	for (k = 0; k < sizeof commands / sizeof *commands; k++)
		fprintf(to, "  %-10s %s\n", commands[k].name, commands[k].summary);
	fprintf(to, "\nexit status (every command; docs/cli.md):\n");
	for (k = 0; k < sizeof exit_codes / sizeof *exit_codes; k++)
		fprintf(to, "  %3d  %s\n", exit_codes[k].code, exit_codes[k].meaning);
}

static const struct command *find_command(const char *name)
{
	size_t k;

	for (k = 0; k < sizeof commands / sizeof *commands; k++)
		if (strcmp(name, commands[k].name) == 0)
			return &commands[k];
	return NULL;
}

/* --url URL or --url=URL at argv[*i]: sets $ZKC_URL (the client commands
 * and the library read it). 1 when taken, -1 when the URL is missing. */
static int take_url(int argc, char **argv, int *i)
{
	const char *a = argv[*i], *url;

	if (strcmp(a, "--url") == 0)
		url = *i + 1 < argc ? argv[++*i] : NULL;
	else if (strncmp(a, "--url=", 6) == 0)
		url = a + 6;
	else
		return 0;
	if (!url || !*url)
		return -1;
	setenv("ZKC_URL", url, 1);
	return 1;
}

static int run_help(const struct command *cmd)
{
	char name[32], flag[] = "--help";
	char *args[] = { name, flag, NULL };

	if (!cmd) {
		usage(stdout);
		return CLI_OK;
	}
	if (cmd->help) {
		fputs(cmd->help, stdout);
		return CLI_OK;
	}
	snprintf(name, sizeof(name), "%s", cmd->name);
	return cmd->run(2, args);
}

/* --version: the program's version and the library's it runs with
 * (the same in one build; an installed libzkc may be newer). */
static int print_version(void)
{
	if (cli_json)
		printf("{\"version\":\"%s\",\"library\":\"%s\"}\n", PACKAGE_VERSION,
		       zkc_version());
	else
		printf("zkc %s\n", PACKAGE_VERSION);
	return CLI_OK;
}

/* Takes the global flags out of argv wherever they are before `--', finds
 * the command and runs it with the rest. */
static int dispatch(int argc, char **argv, char **args)
{
	const struct command *cmd = NULL;
	int i, n = 0, help = 0, ended = 0, version = 0, r;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (ended) {
			args[n++] = argv[i];
		} else if (strcmp(a, "--") == 0) {
			ended = cmd != NULL;
			if (cmd)
				args[n++] = argv[i];   /* the command sees it too */
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			help = 1;
		} else if (strcmp(a, "--json") == 0) {
			cli_json = 1;
		} else if ((r = take_url(argc, argv, &i)) != 0) {
			if (r < 0)
				return cli_usage_error("%s needs a URL", "--url");
		} else if (cmd) {
			args[n++] = argv[i];
		} else if (strcmp(a, "--version") == 0) {
			version = 1;   /* printed once --json (anywhere) is known */
		} else if (strcmp(a, "help") == 0 && !help) {
			help = 1;
		} else if (a[0] == '-') {
			return cli_usage_error("unknown option `%s'", a);
		} else if (!(cmd = find_command(a))) {
			return cli_usage_error("unknown command `%s'", a);
		} else {
			args[n++] = argv[i];
		}
	}
	if (version && !help)
		return print_version();
	if (help)
		return run_help(cmd);
	if (!cmd) {
		usage(stderr);
		return CLI_USAGE;
	}
	args[n] = NULL;
	return cmd->run(n, args);
}

int cli_parse_only;

int cli_main(int argc, char **argv)
{
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	int code;

	if (!args) {
		fprintf(stderr, "zkc: out of memory\n");
		return CLI_FAIL;
	}
	cli_json = 0;       /* each call starts as a fresh process does */
	code = dispatch(argc, argv, args);
	free(args);
	/* a command that printed its --help succeeded */
	return code == CLI_HELP ? CLI_OK : code;
}
