/* tools/cmd_elect.c - `zkc elect`: run a command while this process leads
 * an election (as `etcdctl elect` does), print the current leader or the
 * members, or follow the leader as it changes (--watch). */
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
#include <limits.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int cli_elect(int argc, char **argv);

#define ELECT_PREFIX "/zkc/elect/"

static const char elect_usage[] =
    "usage: zkc elect NAME [--id ID] -- CMD [ARGS...]\n"
    "       zkc elect NAME --leader [--json]\n"
    "       zkc elect NAME --list [--json]\n"
    "       zkc elect NAME --watch [--count N] [--timeout SEC] [--json]\n"
    "Runs CMD while this process leads election NAME (a path, or a name\n"
    "under " ELECT_PREFIX "). CMD gets ZKC_ELECTION_EPOCH (the fencing token)\n"
    "and ZKC_ELECTION_NODE in its environment and SIGTERM when leadership is\n"
    "lost; zkc then exits with CMD's status (128+N if a signal N ended it).\n"
    "--leader prints the current leader's id (exit 3 if there is none;\n"
    "--json: {\"leader\": ID}). --list prints every participant in queue\n"
    "order, the leader first: ID NODE EPOCH [leader] (--json: {\"participants\":\n"
    "[{\"id\", \"node\", \"epoch\", \"session\", \"leader\"}...]}; exit 3: no such\n"
    "election).\n"
    "--watch prints the leader now, then one line per change of leader,\n"
    "until N changes, SEC seconds without one, or SIGINT/SIGTERM (exit 0):\n"
    "TIME ID NODE EPOCH, or TIME - when nobody leads (TIME: ISO 8601 UTC;\n"
    "--json: one object per line, {\"time\", \"time_ms\", \"leader\": ID or\n"
    "null, \"node\", \"epoch\", \"session\"}). It waits for an election that\n"
    "does not exist yet; a leader that lasts less than one read may be missed.\n"
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

/* ------------------------------------------------------------ --watch */

/* --watch reads the leader again when the election node is created or
 * deleted (CLI_WATCH_NODE) or a candidate joins or leaves (CLI_WATCH_KIDS):
 * cli_watch_arm sets those watches. */

/* A failure --watch outlives: the connection is back soon, and the
 * session's next state event makes it read again. */
static int watch_transient(int rc)
{
	return rc == ZKC_ECONNECTIONLOSS || rc == ZKC_ETIMEDOUT || rc == ZKC_ESESSIONEXPIRED;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line: the leader (NULL: nobody leads) and when it was seen. */
static void watch_line(const zkc_election_participant_t *p)
{
	int64_t ms = wall_ms();
	char t[40];

	cli_iso_time(t, sizeof(t), ms);
	if (!cli_json) {
		if (p)
			printf("%s %s %s %lld\n", t, p->id, p->node, (long long)p->czxid);
		else
			printf("%s -\n", t);
		return;
	}
	printf("{\"time\":\"%s\",\"time_ms\":%lld,\"leader\":", t, (long long)ms);
	if (!p) {
		printf("null}\n");
		return;
	}
	cli_json_string(p->id, strlen(p->id));
	printf(",\"node\":");
	cli_json_string(p->node, strlen(p->node));
	printf(",\"epoch\":%lld,\"session\":\"0x%llx\"}\n", (long long)p->czxid,
	       (unsigned long long)p->session_id);
}

/* Reads the leader; prints a line when it is not the one printed last
 * (`last`: its node name, "" for nobody, NULL before the first line).
 * *changed is set when a line was printed. */
static int watch_read(zkc_t *zk, const char *path, char **last, int *changed)
{
	zkc_election_participants_t *l = NULL;
	const zkc_election_participant_t *lead = NULL;
	int rc = zkc_election_participants(&l, zk, path);

	*changed = 0;
	if (rc == ZKC_ENONODE)
		rc = ZKC_OK;   /* no election (yet, or any more): nobody leads */
	else if (rc != ZKC_OK)
		return rc;
	if (l && l->count > 0 && l->items[0].is_leader)
		lead = &l->items[0];
	if (!*last || strcmp(*last, lead ? lead->node : "") != 0) {
		char *now = strdup(lead ? lead->node : "");

		if (!now) {
			zkc_election_participants_free(l);
			return ZKC_ENOMEM;
		}
		free(*last);
		*last = now;
		watch_line(lead);
		*changed = 1;
	}
	zkc_election_participants_free(l);
	return ZKC_OK;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* `zkc elect NAME --watch`: the leader now, then each change, until
 * `count` changes (-1: no limit), `timeout_s` seconds without one (-1: no
 * limit) or SIGINT/SIGTERM. A watch to set again or a read that failed
 * for want of a connection is tried again every 200 ms until it is done. */
static int watch_leader(const char *path, int count, int timeout_s)
{
	int code = CLI_OK, rc = ZKC_OK, changed, changes = 0, seen_first = 0;
	int arm_node = 1, arm_kids = 1, dirty = 1;   /* what is still to do */
	int64_t sid = 0, idle_since = mono_ms();
	char *last = NULL;
	zkc_t *zk;

	cli_signals_catch(NULL);
	if (!(zk = cli_open(&code)))
		return code;
	zkc_session(&sid, NULL, NULL, zk);
	while (!cli_stop_signal() && (count < 0 || changes < count)) {
		zkc_event_t *ev = NULL;
		int r;

		if (arm_node || arm_kids) {
			rc = cli_watch_arm(zk, path, arm_node, arm_kids);
			if (rc == ZKC_OK)
				arm_node = arm_kids = 0;
			else if (!watch_transient(rc))
				break;
		}
		if (dirty && !arm_node && !arm_kids) {
			rc = watch_read(zk, path, &last, &changed);
			if (rc == ZKC_OK)
				dirty = 0;
			else if (!watch_transient(rc))
				break;
			if (rc == ZKC_OK && changed) {
				if (fflush(stdout) != 0)
					break;   /* nobody reads: cli_output_done says so */
				if (seen_first)
					changes++;   /* the first line is no change */
				seen_first = 1;
				idle_since = mono_ms();
			}
		}
		rc = ZKC_OK;
		if (timeout_s > 0 && mono_ms() - idle_since >= timeout_s * 1000LL)
			break;
		r = zkc_events_next(&ev, zk, 200);
		if (r == ZKC_EAGAIN)
			continue;
		if (r != ZKC_OK) {
			rc = r;
			break;
		}
		if (ev->type == ZKC_EVENT_STATE) {
			/* a new session lost every watch; after any reconnection
			 * the leader may have changed meanwhile: read it again */
			if (ev->state == ZKC_STATE_CONNECTED && ev->session_id != sid) {
				sid = ev->session_id;
				arm_node = arm_kids = 1;
			}
			if (ev->state == ZKC_STATE_CONNECTED || ev->state == ZKC_STATE_RECONNECTED)
				dirty = 1;
		} else if (ev->type != ZKC_EVENT_WATCH_CANCELLED) {
			arm_node |= ev->payload == CLI_WATCH_NODE;
			arm_kids |= ev->payload == CLI_WATCH_KIDS || ev->type == ZKC_EVENT_CREATED;
			dirty = 1;
		}
		zkc_event_free(ev);
	}
	code = cli_fail("elect", rc);
	free(last);
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
	int i, leader = 0, code = CLI_OK, rc, count = -1, timeout_s = -1, watch_opts = 0;
	zkc_t *zk;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			cmd = argv + i + 1;
			break;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(elect_usage, stdout);
			return CLI_OK;
		} else if (strcmp(argv[i], "--leader") == 0 || strcmp(argv[i], "--list") == 0 ||
		           strcmp(argv[i], "--watch") == 0) {
			/* 1 leader, 2 list, 3 watch; -1: more than one */
			leader = leader ? -1 : argv[i][2] == 'w' ? 3 : argv[i][3] == 'e' ? 1 : 2;
		} else if (strcmp(argv[i], "--count") == 0 || strncmp(argv[i], "--count=", 8) == 0 ||
		           strcmp(argv[i], "--timeout") == 0 ||
		           strncmp(argv[i], "--timeout=", 10) == 0) {
			int is_count = argv[i][2] == 'c';
			const char *eq = strchr(argv[i], '=');
			const char *v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;

			if (!v || cli_parse_int(v, 1, INT_MAX, is_count ? &count : &timeout_s) != 0) {
				fprintf(stderr, "zkc: elect: %s wants a positive number\n",
				        is_count ? "--count" : "--timeout");
				return CLI_USAGE;
			}
			watch_opts = 1;
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
	    (!leader && (!cmd || !cmd[0])) || (watch_opts && leader != 3)) {
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
		code = leader == 1 ? print_leader(path) : leader == 2 ? print_participants(path) :
		       watch_leader(path, count, timeout_s);
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
