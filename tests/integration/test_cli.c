/* tests/integration/test_cli.c - the `zkc` program against a real
 * ensemble: output and the documented exit code of every node command. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"

static char zkc_bin[4096];

static int setup(void **state)
{
	const char *dir = getenv("ZKC_TEST_BUILDDIR");

	snprintf(zkc_bin, sizeof(zkc_bin), "%s/zkc", dir && *dir ? dir : ".");
	if (access(zkc_bin, X_OK) != 0) {
		fprintf(stderr, "# zkc program not found at %s\n", zkc_bin);
		return -1;
	}
	return h_setup_shared(state);
}

/* Runs `zkc ARGS` (a shell word list) with the test URL; returns the exit
 * status and, if out is given, stdout (malloc'd). */
static int run(char **out, const char *args)
{
	return h_run_zkc(out, h_url(), args);
}

static void test_node_commands_round_trip(void **state)
{
	char *p = h_path("cli"), args[1024], *out = NULL;
	(void)state;

	snprintf(args, sizeof(args), "create %s hello", p);
	assert_int_equal(run(&out, args), 0);
	assert_int_equal(strncmp(out, p, strlen(p)), 0);
	free(out);
	snprintf(args, sizeof(args), "get %s", p);
	assert_int_equal(run(&out, args), 0);
	assert_string_equal(out, "hello");
	free(out);
	snprintf(args, sizeof(args), "set %s world --version 0", p);
	assert_int_equal(run(NULL, args), 0);
	snprintf(args, sizeof(args), "set %s again --version 0", p);
	assert_int_equal(run(NULL, args), 5);  /* bad version */
	snprintf(args, sizeof(args), "stat --json %s", p);
	assert_int_equal(run(&out, args), 0);
	assert_non_null(strstr(out, "\"version\":1"));
	assert_non_null(strstr(out, "\"data_length\":5"));
	free(out);
	snprintf(args, sizeof(args), "create %s/a/b x --parents", p);
	assert_int_equal(run(NULL, args), 0);
	snprintf(args, sizeof(args), "create %s/c", p);
	assert_int_equal(run(NULL, args), 0);
	snprintf(args, sizeof(args), "ls %s", p);
	assert_int_equal(run(&out, args), 0);
	assert_string_equal(out, "a\nc\n");
	free(out);
	snprintf(args, sizeof(args), "ls --json %s", p);
	assert_int_equal(run(&out, args), 0);
	assert_string_equal(out, "[\"a\",\"c\"]\n");
	free(out);
	snprintf(args, sizeof(args), "tree %s", p);
	assert_int_equal(run(&out, args), 0);
	assert_non_null(strstr(out, "\n  a\n    b\n  c\n"));
	free(out);
	/* data from standard input */
	snprintf(args, sizeof(args), "set %s - < /dev/null", p);
	assert_int_equal(run(NULL, args), 0);
	snprintf(args, sizeof(args), "get %s", p);
	assert_int_equal(run(&out, args), 0);
	assert_string_equal(out, "");
	free(out);
	snprintf(args, sizeof(args), "rm %s", p);
	assert_int_equal(run(NULL, args), 8);  /* has children */
	snprintf(args, sizeof(args), "rm -r %s", p);
	assert_int_equal(run(NULL, args), 0);
	free(p);
}

static void test_exit_codes_name_the_failure(void **state)
{
	char *p = h_path("clicodes"), args[1024], *out = NULL;
	(void)state;

	snprintf(args, sizeof(args), "get %s 2>/dev/null", p);
	assert_int_equal(run(NULL, args), 3);  /* no node */
	snprintf(args, sizeof(args), "create %s", p);
	assert_int_equal(run(NULL, args), 0);
	snprintf(args, sizeof(args), "create %s 2>/dev/null", p);
	assert_int_equal(run(NULL, args), 4);  /* exists */
	assert_int_equal(run(NULL, "get relative/path 2>/dev/null"), 2);
	assert_int_equal(run(NULL, "frobnicate 2>/dev/null"), 2);
	assert_int_equal(run(NULL, "ls 2>/dev/null"), 2);
	assert_int_equal(run(&out, "--url zk://127.0.0.1:1?connect_timeout=1s ls / 2>&1"), 7);
	assert_non_null(strstr(out, "connect"));
	free(out);
	assert_int_equal(run(&out, "--url 'zk://h:2181?digest=u:s3cret&bogus=1' ls / 2>&1"), 2);
	assert_null(strstr(out, "s3cret"));
	free(out);
	snprintf(args, sizeof(args), "rm %s", p);
	assert_int_equal(run(NULL, args), 0);
	free(p);
}

/* A server's refusal is a failed operation (exit 1), not a usage error,
 * and a recursive delete that can know it will be refused removes nothing. */
static void test_server_refusals_are_not_usage_errors(void **state)
{
	char *child = h_path("zookeeper-child"), args[1024], *out = NULL;
	(void)state;

	/* a child of /zookeeper that the server would let go first */
	snprintf(args, sizeof(args), "create /zookeeper%s", strrchr(child, '/'));
	assert_int_equal(run(NULL, args), 0);
	assert_int_equal(run(&out, "rm /zookeeper 2>&1"), 1);
	assert_non_null(strstr(out, "/zookeeper"));
	assert_non_null(strstr(out, "nothing was deleted"));
	free(out);
	assert_int_equal(run(&out, "rm -r /zookeeper 2>&1"), 1);
	assert_non_null(strstr(out, "nothing was deleted"));
	free(out);
	assert_int_equal(run(&out, "rm -r /zookeeper/config 2>&1"), 1);
	free(out);
	snprintf(args, sizeof(args), "stat /zookeeper%s >/dev/null", strrchr(child, '/'));
	assert_int_equal(run(NULL, args), 0);   /* still there */
	snprintf(args, sizeof(args), "rm /zookeeper%s", strrchr(child, '/'));
	assert_int_equal(run(NULL, args), 0);
	/* bad input stays a usage error */
	assert_int_equal(run(&out, "rm relative 2>&1"), 2);
	assert_non_null(strstr(out, "relative"));
	free(out);
	free(child);
}

/* The CLI prints a detail only when it belongs to the failure it reports:
 * an older failure of the same run must not explain this one. */
static void test_messages_belong_to_the_failure_reported(void **state)
{
	char *q = h_path("cliq"), *c = h_path("clictr"), *ix = h_path("cliix"), args[1024];
	char *out = NULL;
	(void)state;

	snprintf(args, sizeof(args), "queue put %s first", q);
	assert_int_equal(run(NULL, args), 0);
	{
		/* an item over the size limit, after a put that met an existing
		 * node on its way (the queue's "taken" directory) */
		char big[] = "/tmp/zkc-cli-big-XXXXXX";
		int fd = mkstemp(big);
		FILE *f;

		assert_true(fd >= 0);
		f = fdopen(fd, "w");
		assert_non_null(f);
		for (int i = 0; i < 1100000; i++)
			fputc('a', f);
		fclose(f);
		snprintf(args, sizeof(args), "queue put %s - 2>&1 >/dev/null < %s", q, big);
		assert_int_equal(run(&out, args), 2);
		unlink(big);
	}
	assert_non_null(strstr(out, "ZKC_ETOOLARGE"));
	assert_non_null(strstr(out, q));
	assert_non_null(strstr(out, "limit"));
	assert_null(strstr(out, "exists"));
	free(out);
	/* an index names the key and the collection, not the record's node */
	snprintf(args, sizeof(args), "index create %s --unique email", ix);
	assert_int_equal(run(NULL, args), 0);
	snprintf(args, sizeof(args), "index get %s u9 2>&1", ix);
	assert_int_equal(run(&out, args), 3);
	assert_non_null(strstr(out, "\"u9\""));
	assert_non_null(strstr(out, ix));
	assert_null(strstr(out, "/records/"));
	free(out);
	snprintf(args, sizeof(args), "index put %s u1 shoe=42 2>&1", ix);
	assert_int_equal(run(&out, args), 2);
	assert_non_null(strstr(out, "shoe"));
	free(out);
	snprintf(args, sizeof(args), "index drop %s", ix);
	assert_int_equal(run(NULL, args), 0);
	snprintf(args, sizeof(args), "counter add %s 9223372036854775807", c);
	assert_int_equal(run(NULL, args), 0);
	snprintf(args, sizeof(args), "counter add %s 1 2>&1", c);
	assert_int_equal(run(&out, args), 2);
	assert_non_null(strstr(out, c));
	assert_non_null(strstr(out, "overflow"));
	free(out);
	snprintf(args, sizeof(args), "rm -r %s", q);
	assert_int_equal(run(NULL, args), 0);
	snprintf(args, sizeof(args), "rm %s", c);
	assert_int_equal(run(NULL, args), 0);
	free(q);
	free(c);
	free(ix);
}

/* Every reader of a sharded counter sees its value, whatever --shards it
 * passes: the count is stored with the counter. */
static void test_counter_shards_are_stored_with_the_counter(void **state)
{
	char *c = h_path("clishards"), args[1024], *out = NULL;
	(void)state;

	snprintf(args, sizeof(args), "counter add --shards 4 %s 3 >/dev/null", c);
	assert_int_equal(run(NULL, args), 0);
	assert_int_equal(run(NULL, args), 0);
	snprintf(args, sizeof(args), "counter get %s", c);
	assert_int_equal(run(&out, args), 0);
	assert_string_equal(out, "6\n");
	free(out);
	snprintf(args, sizeof(args), "counter get --shards 2 %s 2>&1", c);
	assert_int_equal(run(&out, args), 2);
	assert_non_null(strstr(out, "4 shards"));
	assert_non_null(strstr(out, "2"));
	free(out);
	snprintf(args, sizeof(args), "counter add --shards 1 %s 1 2>&1", c);
	assert_int_equal(run(&out, args), 2);
	free(out);
	snprintf(args, sizeof(args), "counter add %s 1 >/dev/null", c);
	assert_int_equal(run(NULL, args), 0);
	snprintf(args, sizeof(args), "counter get --shards 4 %s", c);
	assert_int_equal(run(&out, args), 0);
	assert_string_equal(out, "7\n");
	free(out);
	snprintf(args, sizeof(args), "counter get %s", c);
	assert_int_equal(run(&out, args), 0);
	assert_string_equal(out, "7\n");
	free(out);
	snprintf(args, sizeof(args), "rm -r %s", c);
	assert_int_equal(run(NULL, args), 0);
	free(c);
}

static void test_watch_prints_events_as_they_happen(void **state)
{
	char *p = h_path("cliwatch"), cmd[8192], line[512];
	zkc_t *zk = h_open(NULL, NULL);
	FILE *w;
	int st, got_created = 0, got_changed = 0;
	(void)state;

	snprintf(cmd, sizeof(cmd), "ZKC_URL='%s' '%s' watch %s --count 2 --timeout 60", h_url(),
	         zkc_bin, p);
	w = popen(cmd, "r");
	assert_non_null(w);
	/* The command says when its watches are set. */
	assert_non_null(fgets(line, sizeof(line), w));
	assert_int_equal(strncmp(line, "WATCHING ", 9), 0);
	assert_int_equal(zkc_create(NULL, NULL, zk, p, "1", 1, NULL), ZKC_OK);
	while (fgets(line, sizeof(line), w)) {
		if (strncmp(line, "CREATED ", 8) == 0)
			got_created = 1;
		if (strncmp(line, "CHANGED ", 8) == 0)
			got_changed = 1;
		if (got_created && !got_changed)
			assert_int_equal(zkc_set(NULL, zk, p, "2", 1, -1), ZKC_OK);
	}
	st = pclose(w);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(got_created && got_changed);
	zkc_delete(zk, p, -1, 0);
	zkc_close(zk);
	free(p);
}

static void test_lock_runs_a_command_holding_the_lock(void **state)
{
	char *p = h_path("clilock"), args[1024], *out = NULL;
	(void)state;

	/* the command sees its fencing token and its status comes back */
	snprintf(args, sizeof(args), "lock %s -- sh -c 'echo token=$ZKC_LOCK_TOKEN; exit 3'", p);
	assert_int_equal(run(&out, args), 3);
	assert_int_equal(strncmp(out, "token=", 6), 0);
	assert_true(strtoll(out + 6, NULL, 0) > 0);
	free(out);
	/* the rest of its environment, and a command that cannot be run */
	snprintf(args, sizeof(args), "lock %s -- sh -c 'echo $ZKC_LOCK_PATH $ZKC_LOCK_SESSION'", p);
	assert_int_equal(run(&out, args), 0);
	assert_int_equal(strncmp(out, p, strlen(p)), 0);
	assert_true(out[strlen(p)] == '/' && strchr(out, ' ') && strtoull(strchr(out, ' ') + 1,
	            NULL, 16) > 0);
	free(out);
	snprintf(args, sizeof(args), "lock %s -- /nonexistent/zkc-test-cmd 2>/dev/null", p);
	assert_int_equal(run(NULL, args), 127);
	/* no command is a usage error */
	snprintf(args, sizeof(args), "lock %s 2>/dev/null", p);
	assert_int_equal(run(NULL, args), 2);
	free(p);
}

/* The recipes without a command of their own before: the read/write lock
 * (lock --read/--write), the semaphore, an election's members (elect
 * --list), barriers. */
static void test_rwlock_election_members_and_barriers(void **state)
{
	char *p = h_path("climods"), *e = h_join(p, "e"), args[16384], *out = NULL;
	zkc_election_options_t eo = ZKC_ELECTION_OPTIONS_INIT;
	zkc_election_t *ea = NULL, *eb = NULL;
	zkc_t *zk = h_open(NULL, NULL);
	(void)state;

	/* readers share; a writer waits for them */
	snprintf(args, sizeof(args), "lock %s/rw --read -- '%s' lock %s/rw --read --timeout 0 -- true",
	         p, zkc_bin, p);
	assert_int_equal(run(NULL, args), 0);
	snprintf(args, sizeof(args), "lock %s/rw --read -- '%s' lock %s/rw --write --timeout 0 -- "
	         "true 2>/dev/null", p, zkc_bin, p);
	assert_int_equal(run(NULL, args), 124);
	snprintf(args, sizeof(args), "lock %s/rw --write -- '%s' lock %s/rw --read --timeout 0 -- "
	         "true 2>/dev/null", p, zkc_bin, p);
	assert_int_equal(run(NULL, args), 124);
	snprintf(args, sizeof(args), "lock %s/rw --read --write -- true 2>/dev/null", p);
	assert_int_equal(run(NULL, args), 2);
	/* a semaphore of 2: a second lease is there, a third is not */
	snprintf(args, sizeof(args), "semaphore %s/sem --permits 2 -- '%s' semaphore %s/sem "
	         "--permits 2 --timeout 0 -- sh -c 'test -n \"$ZKC_SEMAPHORE_TOKEN\" && exit 7'",
	         p, zkc_bin, p);
	assert_int_equal(run(NULL, args), 7);
	snprintf(args, sizeof(args), "semaphore %s/sem --permits 2 -- '%s' semaphore %s/sem "
	         "--permits 2 -- '%s' semaphore %s/sem --permits 2 --timeout 0 -- true 2>/dev/null",
	         p, zkc_bin, p, zkc_bin, p);
	assert_int_equal(run(NULL, args), 124);
	snprintf(args, sizeof(args), "semaphore %s/sem -- true 2>/dev/null", p);
	assert_int_equal(run(NULL, args), 2);   /* --permits is needed */
	/* an election's members, the leader first */
	eo.id = "first";
	assert_int_equal(zkc_election_open(&ea, zk, e, &eo), ZKC_OK);
	assert_int_equal(zkc_election_join(ea), ZKC_OK);
	assert_int_equal(zkc_election_await(NULL, ea, 30000), ZKC_OK);
	eo.id = "second";
	assert_int_equal(zkc_election_open(&eb, zk, e, &eo), ZKC_OK);
	assert_int_equal(zkc_election_join(eb), ZKC_OK);
	snprintf(args, sizeof(args), "elect %s --list", e);
	assert_int_equal(run(&out, args), 0);
	assert_int_equal(strncmp(out, "first ", 6), 0);
	assert_non_null(strstr(out, "latch-"));
	assert_non_null(strstr(out, " leader\nsecond "));
	assert_null(strstr(strstr(out, "second"), "leader"));
	free(out);
	snprintf(args, sizeof(args), "elect %s --list --json", e);
	assert_int_equal(run(&out, args), 0);
	assert_non_null(strstr(out, "{\"participants\":[{\"id\":\"first\""));
	assert_ptr_equal(strstr(out, "{\"participants\""), out);
	assert_non_null(strstr(out, "\"leader\":false}]}\n"));
	free(out);
	snprintf(args, sizeof(args), "elect %s/none --list 2>/dev/null", p);
	assert_int_equal(run(NULL, args), 3);
	zkc_election_close(eb);
	zkc_election_close(ea);
	/* a simple barrier: waiters pass once it is lowered */
	snprintf(args, sizeof(args), "barrier set %s/b", p);
	assert_int_equal(run(NULL, args), 0);
	snprintf(args, sizeof(args), "barrier wait --timeout 0 %s/b 2>/dev/null", p);
	assert_int_equal(run(NULL, args), 124);
	snprintf(args, sizeof(args), "barrier remove %s/b", p);
	assert_int_equal(run(NULL, args), 0);
	snprintf(args, sizeof(args), "barrier wait --timeout 0 %s/b", p);
	assert_int_equal(run(NULL, args), 0);
	/* a double barrier: CMD runs once the members are in */
	snprintf(args, sizeof(args), "barrier run --count 1 %s/db -- sh -c 'exit 5'", p);
	assert_int_equal(run(NULL, args), 5);
	snprintf(args, sizeof(args), "barrier run --count 2 --timeout 1 %s/db -- true 2>/dev/null", p);
	assert_int_equal(run(NULL, args), 124);
	snprintf(args, sizeof(args), "barrier run --count 2 %s/db 2>/dev/null", p);
	assert_int_equal(run(NULL, args), 2);
	snprintf(args, sizeof(args), "rm -r %s", p);
	assert_int_equal(run(NULL, args), 0);
	zkc_close(zk);
	free(e);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_commands_round_trip),
		cmocka_unit_test(test_exit_codes_name_the_failure),
		cmocka_unit_test(test_server_refusals_are_not_usage_errors),
		cmocka_unit_test(test_messages_belong_to_the_failure_reported),
		cmocka_unit_test(test_counter_shards_are_stored_with_the_counter),
		cmocka_unit_test(test_watch_prints_events_as_they_happen),
		cmocka_unit_test(test_lock_runs_a_command_holding_the_lock),
		cmocka_unit_test(test_rwlock_election_members_and_barriers),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, h_teardown);
}
