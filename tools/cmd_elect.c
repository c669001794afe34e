/* tools/cmd_elect.c - `zkc elect`: run a command while this process leads
 * an election (as `etcdctl elect` does), or print the current leader. */
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

int cli_elect(int argc, char **argv);

#define ELECT_PREFIX "/zkc/elect/"

static const char elect_usage[] =
    "usage: zkc elect NAME [--id ID] -- CMD [ARGS...]\n"
    "       zkc elect NAME --leader [--json]\n"
    "       zkc elect NAME --list [--json]\n"
    "Runs CMD while this process leads election NAME (a path, or a name\n"
    "under " ELECT_PREFIX "). CMD gets ZKC_ELECTION_EPOCH (the fencing token)\n"
    "and ZKC_ELECTION_NODE in its environment and SIGTERM when leadership is\n"
    "lost; zkc then exits with CMD's status (128+N if a signal N ended it).\n"
    "--leader prints the current leader's id (exit 3 if there is none;\n"
    "--json: {\"leader\": ID}). --list prints every participant in queue\n"
    "order, the leader first: ID NODE EPOCH [leader] (--json: {\"participants\":\n"
    "[{\"id\", \"node\", \"epoch\", \"session\", \"leader\"}...]}; exit 3: no such\n"
    "election).\n"
    "Other exit codes: 2 usage, 7 no connection, 1 other failure, 126/127\n"
    "CMD could not be run, 128+N zkc itself stopped by signal N before CMD\n"
    "ran.\n";

/* Leadership events and signals wake the main loop (cli_wake). */
static int lost_leadership;   /* set by the event thread: atomic access */

static void on_leadership(zkc_election_t *e, int type, int64_t epoch, int reason,
                          void *payload)
{
	(void)e;
	(void)epoch;
	(void)reason;
	(void)payload;
	/* a loss is remembered even if leadership comes back at once (the
	 * node deleted and the candidate queued again): CMD must stop */
	if (type == ZKC_ELECTION_NOT_LEADER)
		__atomic_store_n(&lost_leadership, 1, __ATOMIC_SEQ_CST);
	cli_wake();
}

static int print_leader(const char *path)
{
	char *id = NULL;
	int code = CLI_OK, rc;
	zkc_t *zk = cli_open(&code);

	if (!zk)
		return code;
	rc = zkc_election_leader(&id, NULL, zk, path);
	if (rc == ZKC_OK && cli_json) {
		printf("{\"leader\":");
		cli_json_string(id, strlen(id));
		printf("}\n");
	} else if (rc == ZKC_OK) {
		printf("%s\n", id);
	} else if (rc == ZKC_ENONODE)
		fprintf(stderr, "zkc: elect: %s has no leader\n", path);
	code = rc == ZKC_ENONODE ? CLI_NONODE : cli_fail("elect", rc);
	zkc_free(id);
	zkc_close(zk);
	return code;
}

static void print_participant(const zkc_election_participant_t *p, int first)
{
	if (!cli_json) {
		printf("%s %s %lld%s\n", p->id, p->node, (long long)p->czxid,
		       p->is_leader ? " leader" : "");
		return;
	}
	printf("%s{\"id\":", first ? "" : ",");
	cli_json_string(p->id, strlen(p->id));
	printf(",\"node\":");
	cli_json_string(p->node, strlen(p->node));
	printf(",\"epoch\":%lld,\"session\":\"0x%llx\",\"leader\":%s}", (long long)p->czxid,
	       (unsigned long long)p->session_id, p->is_leader ? "true" : "false");
}

static int print_participants(const char *path)
{
	zkc_election_participants_t *l = NULL;
	int code = CLI_OK, rc;
	zkc_t *zk = cli_open(&code);
	size_t i;

	if (!zk)
		return code;
	rc = zkc_election_participants(&l, zk, path);
	if (rc == ZKC_OK) {
		if (cli_json)
			printf("{\"participants\":[");
		for (i = 0; i < l->count; i++)
			print_participant(&l->items[i], i == 0);
		if (cli_json)
			printf("]}\n");
	}
	code = cli_fail("elect", rc);
	zkc_election_participants_free(l);
	zkc_close(zk);
	return code;
}

static pid_t start_cmd(char **cmd, int64_t epoch, const char *node)
{
	char buf[32];
	const char *env[] = { "ZKC_ELECTION_EPOCH", buf, node ? "ZKC_ELECTION_NODE" : NULL,
		              node, NULL };

	snprintf(buf, sizeof(buf), "%lld", (long long)epoch);
	return cli_spawn("elect", cmd, env);
}

/* Waits for leadership, runs cmd while leading; returns the exit code. */
static int run_elected(zkc_t *zk, zkc_election_t *e, char **cmd)
{
	pid_t child = 0;
	int status = 0, code = CLI_FAIL, termed = 0;

	for (;;) {
		int64_t epoch = 0;

		if (child == 0 && cli_stop_signal())
			return 128 + cli_stop_signal();
		if (child == 0) {
			int rc = zkc_election_await(NULL, e, 0);

			if (rc != ZKC_OK && rc != ZKC_ETIMEDOUT)
				return cli_fail("elect", rc);
		}
		if (child == 0)
			__atomic_store_n(&lost_leadership, 0, __ATOMIC_SEQ_CST);
		if (child == 0 && zkc_election_is_leader(&epoch, e)) {
			char *node = NULL;

			zkc_election_fence(&node, &epoch, e);
			child = start_cmd(cmd, epoch, node);
			zkc_free(node);
			if (child < 0)
				return cli_fail("elect: fork", ZKC_EOS);
		}
		if (child > 0) {
			pid_t r = waitpid(child, &status, WNOHANG);

			if (r == child)
				return cli_exit_of(status);
			if (!termed && (cli_stop_signal() || !zkc_election_is_leader(NULL, e) ||
			    __atomic_load_n(&lost_leadership, __ATOMIC_SEQ_CST))) {
				/* leadership lost, or we were told to stop */
				kill(child, SIGTERM);
				termed = 1;
			}
		}
		if (cli_wake_wait(-1) < 0)
			break;
	}
	(void)zk;
	return code;
}

int cli_elect(int argc, char **argv)
{
	zkc_election_options_t eo = ZKC_ELECTION_OPTIONS_INIT;
	zkc_election_t *e = NULL;
	const char *name = NULL, *id = NULL;
	char **cmd = NULL, defid[300], host[256];
	char *path;
	int i, leader = 0, code = CLI_OK, rc;
	zkc_t *zk;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			cmd = argv + i + 1;
			break;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(elect_usage, stdout);
			return CLI_OK;
		} else if (strcmp(argv[i], "--leader") == 0 || strcmp(argv[i], "--list") == 0) {
			leader = leader ? -1 : argv[i][3] == 'e' ? 1 : 2;   /* -1: both */
		} else if (strcmp(argv[i], "--id") == 0 && i + 1 < argc) {
			id = argv[++i];
		} else if (strncmp(argv[i], "--id=", 5) == 0) {
			id = argv[i] + 5;
		} else if (argv[i][0] == '-' || name) {
			fprintf(stderr, "zkc: elect: unexpected argument `%s'\n", argv[i]);
			fputs(elect_usage, stderr);
			return CLI_USAGE;
		} else {
			name = argv[i];
		}
	}
	if (!name || !*name || leader < 0 || (leader && (cmd || id)) ||
	    (!leader && (!cmd || !cmd[0]))) {
		fputs(elect_usage, stderr);
		return CLI_USAGE;
	}
	path = cli_name_path(ELECT_PREFIX, name);
	if (!path)
		return CLI_FAIL;
	if (zkc_path_validate(path, (size_t)-1) != ZKC_OK) {
		fprintf(stderr, "zkc: elect: bad election name `%s'\n", name);
		free(path);
		return CLI_USAGE;
	}
	if (leader) {
		code = leader == 1 ? print_leader(path) : print_participants(path);
		free(path);
		return code;
	}
	if (!id) {
		if (gethostname(host, sizeof(host)) != 0)
			strcpy(host, "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(defid, sizeof(defid), "%s:%d", host, (int)getpid());
		id = defid;
	}
	if (cli_wake_open() != 0) {
		free(path);
		return cli_fail("elect: pipe", ZKC_EOS);
	}
	cli_signals_catch((const int[]){ SIGCHLD, 0 });
	if (!(zk = cli_open(&code))) {
		free(path);
		cli_wake_close();
		return code;
	}
	eo.id = id;
	eo.fn = on_leadership;
	if ((rc = zkc_election_open(&e, zk, path, &eo)) != ZKC_OK ||
	    (rc = zkc_election_join(e)) != ZKC_OK)
		code = cli_fail("elect", rc);
	else
		code = run_elected(zk, e, cmd);
	zkc_election_close(e);
	zkc_close(zk);
	free(path);
	cli_wake_close();
	return code;
}
