/* tests/integration/test_cli_flags.c - what every `zkc` command does the
 * same way, against a real ensemble: --help on each subcommand, the global
 * flags anywhere, `--`, --json on the commands that print, write errors,
 * ISO 8601 times; and what zkCli users expect of create (sequential names
 * as asked, a warning for ephemeral nodes, a chroot that can be created). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

static char zkc_bin[4096];

static int setup(void **state)
{
	const char *dir = getenv("ZKC_TEST_BUILDDIR");

	snprintf(zkc_bin, sizeof(zkc_bin), "%s/zkc", dir && *dir ? dir : ".");
	return h_setup_shared(state);
}

static int run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* `zkc ARGS` (printf-style shell words) with $ZKC_URL set. */
static int run(char **out, const char *fmt, ...)
{
	char args[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return h_run_zkc(out, h_url(), args);
}

/* Output that must be one JSON document; returns it (json_decref). */
static json_t *json_of(const char *out)
{
	json_error_t err;
	json_t *j = json_loads(out, 0, &err);

	if (!j)
		fail_msg("not JSON (%s): %s", err.text, out);
	return j;
}

/* The command names of `zkc --help`. */
static int command_names(char names[][32], int max)
{
	char *out = NULL, *p;
	int n = 0;

	assert_int_equal(h_run_zkc(&out, NULL, "--help"), 0);
	p = strstr(out, "\ncommands");
	assert_non_null(p);
	for (p = strchr(p + 1, '\n'); p && p[1] == ' ' && n < max; p = strchr(p + 1, '\n'))
		if (sscanf(p + 1, " %31s", names[n]) == 1)
			n++;
	free(out);
	return n;
}

/* `zkc ARGS` with no URL at all (and stderr to stdout when asked). */
static int run_nourl(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int run_nourl(char **out, const char *fmt, ...)
{
	char args[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return h_run_zkc(out, NULL, args);
}

static void test_help_on_every_subcommand(void **state)
{
	char names[64][32], *out = NULL;
	int n = command_names(names, 64), i;
	(void)state;

	assert_true(n >= 25);
	for (i = 0; i < n; i++) {
		char want[4096];

		snprintf(want, sizeof(want), "zkc %s", names[i]);
		/* exit 0, the command's own text on stdout, nothing on stderr,
		 * no connection needed: --help first, last, or `zkc help CMD` */
		assert_int_equal(run_nourl(&out, "%s --help 2>&1", names[i]), 0);
		if (!strstr(out, want))
			fail_msg("zkc %s --help: %s", names[i], out);
		free(out);
		assert_int_equal(run_nourl(&out, "%s /some/path -h 2>/dev/null", names[i]), 0);
		assert_non_null(strstr(out, want));
		free(out);
		assert_int_equal(run_nourl(&out, "help %s", names[i]), 0);
		assert_non_null(strstr(out, want));
		free(out);
	}
	/* after `--' it is an argument: the data of the node */
	{
		char *p = h_path("clihelpdata");

		assert_int_equal(run(NULL, "create %s -- --help >/dev/null", p), 0);
		assert_int_equal(run(&out, "get %s", p), 0);
		assert_string_equal(out, "--help");
		free(out);
		assert_int_equal(run(NULL, "rm %s", p), 0);
		free(p);
	}
}

static void test_global_flags_anywhere(void **state)
{
	char *p = h_path("cliglobal"), *out = NULL, url[512];
	(void)state;

	snprintf(url, sizeof(url), "%s", h_url());
	/* no $ZKC_URL: --url before, between and after the arguments */
	assert_int_equal(run_nourl(NULL, "--url '%s' create %s one >/dev/null", url, p), 0);
	assert_int_equal(run_nourl(&out, "get %s --url '%s'", p, url), 0);
	assert_string_equal(out, "one");
	free(out);
	assert_int_equal(run_nourl(&out, "set --url='%s' %s two", url, p), 0);
	free(out);
	assert_int_equal(run_nourl(&out, "get %s --url='%s'", p, url), 0);
	assert_string_equal(out, "two");
	free(out);
	/* --json before the command or after its arguments */
	assert_int_equal(run(&out, "--json ls %s", p), 0);
	assert_string_equal(out, "[]\n");
	free(out);
	assert_int_equal(run(&out, "ls %s --json", p), 0);
	assert_string_equal(out, "[]\n");
	free(out);
	assert_int_equal(run(&out, "counter get %s/c --json", p), 0);
	assert_string_equal(out, "{\"value\":0}\n");
	free(out);
	/* a missing URL value is a usage error */
	assert_int_equal(run_nourl(NULL, "ls / --url 2>/dev/null"), 2);
	assert_int_equal(run(NULL, "rm -r %s", p), 0);
	free(p);
}

static void test_double_dash_the_same_everywhere(void **state)
{
	char *p = h_path("clidash"), *out = NULL;
	(void)state;

	assert_int_equal(run(NULL, "create %s -- -x >/dev/null", p), 0);
	assert_int_equal(run(&out, "get -- %s", p), 0);
	assert_string_equal(out, "-x");
	free(out);
	assert_int_equal(run(NULL, "set %s -- --json", p), 0);
	assert_int_equal(run(&out, "get %s", p), 0);
	assert_string_equal(out, "--json");
	free(out);
	/* recipes' commands: DATA and values that look like options */
	assert_int_equal(run(NULL, "queue put %s/q -- --not-an-option >/dev/null", p), 0);
	assert_int_equal(run(&out, "queue take --delete %s/q", p), 0);
	assert_string_equal(out, "--not-an-option");
	free(out);
	assert_int_equal(run(&out, "counter add %s/c -- -5", p), 0);
	assert_string_equal(out, "-5\n");
	free(out);
	assert_int_equal(run(NULL, "counter cas -- %s/c -5 -7 >/dev/null", p), 0);
	assert_int_equal(run(&out, "counter get %s/c", p), 0);
	assert_string_equal(out, "-7\n");
	free(out);
	assert_int_equal(run(NULL, "rm -r %s", p), 0);
	free(p);
}

/* One line of watch --json, read as it comes. */
static json_t *next_json_line(FILE *f)
{
	char line[4096];

	assert_non_null(fgets(line, sizeof(line), f));
	return json_of(line);
}

static void test_json_on_the_commands_that_print(void **state)
{
	char *p = h_path("clijson"), *ep = h_join(p, "e"), *wp = h_join(p, "w"), *out = NULL;
	char cmd[8192];
	zkc_election_options_t eo = ZKC_ELECTION_OPTIONS_INIT;
	zkc_election_t *e = NULL;
	zkc_t *zk = h_open(NULL, NULL);
	json_t *j;
	FILE *w;
	(void)state;

	assert_int_equal(run(&out, "create --json %s hello", p), 0);
	j = json_of(out);
	assert_string_equal(json_string_value(json_object_get(j, "path")), p);
	json_decref(j);
	free(out);
	assert_int_equal(run(&out, "get --json %s", p), 0);
	j = json_of(out);
	assert_string_equal(json_string_value(json_object_get(j, "data")), "hello");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "stat"),
	                                                    "data_length")), 5);
	json_decref(j);
	free(out);
	/* bytes that are not text are base64 */
	{
		char bin[] = "/tmp/zkc-cli-bin-XXXXXX";
		int fd = mkstemp(bin);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, "\0\0\0", 3), 3);
		close(fd);
		assert_int_equal(run(NULL, "set %s - < %s", p, bin), 0);
		unlink(bin);
	}
	assert_int_equal(run(&out, "get %s --json", p), 0);
	j = json_of(out);
	assert_string_equal(json_string_value(json_object_get(j, "data_b64")), "AAAA");
	json_decref(j);
	free(out);
	assert_int_equal(run(NULL, "create %s/a/b --parents >/dev/null", p), 0);
	assert_int_equal(run(&out, "tree %s --json", p), 0);
	j = json_of(out);
	assert_string_equal(json_string_value(json_object_get(j, "path")), p);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(json_object_get(j, "children"), 0), "name")), "a");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
		json_array_get(json_object_get(j, "children"), 0), "children"), 0), "name")), "b");
	json_decref(j);
	free(out);
	assert_int_equal(run(&out, "health --json"), 0);
	j = json_of(out);
	assert_true(json_is_true(json_object_get(j, "ok")));
	json_decref(j);
	free(out);
	/* elect --leader: the id of the candidate that leads */
	eo.id = "tester-1";
	assert_int_equal(zkc_election_open(&e, zk, ep, &eo), ZKC_OK);
	assert_int_equal(zkc_election_join(e), ZKC_OK);
	assert_int_equal(zkc_election_await(NULL, e, 30000), ZKC_OK);
	assert_int_equal(run(&out, "elect %s/e --leader --json", p), 0);
	j = json_of(out);
	assert_string_equal(json_string_value(json_object_get(j, "leader")), "tester-1");
	json_decref(j);
	free(out);
	zkc_election_close(e);
	/* diff: the differences as an array */
	assert_int_equal(run(&out, "diff --json %s/a %s/e", p, p), 1);
	j = json_of(out);
	assert_true(json_is_false(json_object_get(j, "same")));
	assert_true(json_array_size(json_object_get(j, "differences")) >= 1);
	json_decref(j);
	free(out);
	/* watch: one object per line */
	snprintf(cmd, sizeof(cmd), "ZKC_URL='%s' '%s' watch --json %s/w --count 1 --timeout 60",
	         h_url(), zkc_bin, p);
	w = popen(cmd, "r");
	assert_non_null(w);
	j = next_json_line(w);
	assert_string_equal(json_string_value(json_object_get(j, "event")), "WATCHING");
	json_decref(j);
	assert_int_equal(run(NULL, "create %s/w >/dev/null", p), 0);
	while (strcmp(json_string_value(json_object_get(j = next_json_line(w), "event")), "STATE") == 0)
		json_decref(j);
	assert_string_equal(json_string_value(json_object_get(j, "event")), "CREATED");
	assert_string_equal(json_string_value(json_object_get(j, "path")), wp);
	json_decref(j);
	assert_int_equal(pclose(w), 0);
	/* --version: the program's and the library's, wherever --json stands */
	{
		char *text = NULL;

		assert_int_equal(run_nourl(&text, "--version"), 0);
		assert_int_equal(strncmp(text, "zkc ", 4), 0);
		text[strcspn(text, "\n")] = '\0';
		assert_int_equal(run_nourl(&out, "--version --json"), 0);
		j = json_of(out);
		assert_string_equal(json_string_value(json_object_get(j, "version")), text + 4);
		assert_string_equal(json_string_value(json_object_get(j, "library")), zkc_version());
		json_decref(j);
		free(out);
		assert_int_equal(run_nourl(&out, "--json --version"), 0);
		j = json_of(out);
		assert_string_equal(json_string_value(json_object_get(j, "version")), text + 4);
		json_decref(j);
		free(out);
		free(text);
	}
	/* watch --tree: the cache's events */
	assert_int_equal(run(&out, "watch --tree %s/a --json --count 2 --timeout 60", p), 0);
	j = json_of(strchr(out, '\n') + 1);   /* the second line: /a/b ADDED */
	assert_string_equal(json_string_value(json_object_get(j, "event")), "ADDED");
	json_decref(j);
	free(out);
	assert_int_equal(run(NULL, "rm -r %s", p), 0);
	zkc_close(zk);
	free(ep);
	free(wp);
	free(p);
}

/* A contender: `zkc elect PATH --id ID -- sh -c ...` started in the
 * background on `url`; its CMD writes its own pid to pidfile and sleeps.
 * Returns zkc's pid (the shell is gone: exec). */
static pid_t start_contender(const char *url, const char *path, const char *id,
                             const char *pidfile)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		char cmd[512];

		int null = open("/dev/null", O_WRONLY);

		h_die_with_parent();
		/* not the test's output: a CMD left behind by a failed test must
		 * not keep the test driver waiting for it */
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
			close(null);
		}
		snprintf(cmd, sizeof(cmd), "echo $$ > '%s'; exec sleep 300", pidfile);
		setenv("ZKC_URL", url, 1);
		execl(zkc_bin, "zkc", "elect", path, "--id", id, "--", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* The pid a contender's CMD wrote, or 0 while there is none. */
static pid_t pid_in(const char *file)
{
	FILE *f = fopen(file, "r");
	long pid = 0;

	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

static size_t participants_of(zkc_t *zk, const char *path)
{
	zkc_election_participants_t *l = NULL;
	size_t n = 0;

	if (zkc_election_participants(&l, zk, path) == ZKC_OK)
		n = l->count;
	zkc_election_participants_free(l);
	return n;
}

/* `zkc elect NAME --watch`: the leader at start (nobody: the election does
 * not exist yet), then a line per change, as two real contender processes
 * take over from each other when the leader's process is killed (-9: its
 * session has to expire), until --count changes; --json lines carry the
 * id, node, epoch and an ISO 8601 time. */
static void test_elect_watch_reports_each_new_leader(void **state)
{
	char *p = h_path("cliwatchlead"), *ep = h_join(p, "e"), *out = NULL, cmd[8192], url[1024];
	char pa[] = "/tmp/zkc-cli-lead-a-XXXXXX", pb[] = "/tmp/zkc-cli-lead-b-XXXXXX", time_a[64];
	int fa = mkstemp(pa), fb = mkstemp(pb);
	long long epoch_a, now_ms;
	zkc_t *zk = h_open(NULL, NULL);
	pid_t a, b, cmd_a, cmd_b;
	json_t *j;
	FILE *w;
	int st;
	(void)state;

	/* a short session, so that the killed leader's node goes soon */
	snprintf(url, sizeof(url), "%s%ssession_timeout=4s", h_url(), strchr(h_url(), '?') ? "&" : "?");
	assert_true(fa >= 0 && fb >= 0);
	close(fa);
	close(fb);
	/* usage: --watch with CMD, with --leader, --count without --watch */
	assert_int_equal(run(NULL, "elect %s --watch -- true 2>/dev/null", ep), 2);
	assert_int_equal(run(NULL, "elect %s --watch --leader 2>/dev/null", ep), 2);
	assert_int_equal(run(NULL, "elect %s --count 1 --leader 2>/dev/null", ep), 2);
	assert_int_equal(run(NULL, "elect %s --watch --count 0 2>/dev/null", ep), 2);
	/* text, and --timeout: nobody leads an election that does not exist */
	assert_int_equal(run(&out, "elect %s/none --watch --timeout 1", p), 0);
	assert_int_equal(strlen(out), strlen("2026-12-05T07:15:00.123Z -\n"));
	assert_true(out[4] == '-' && out[10] == 'T' && strcmp(out + 23, "Z -\n") == 0);
	free(out);

	snprintf(cmd, sizeof(cmd), "ZKC_URL='%s' '%s' elect %s --watch --json --count 3 --timeout 120",
	         h_url(), zkc_bin, ep);
	w = popen(cmd, "r");
	assert_non_null(w);
	j = next_json_line(w);
	assert_true(json_is_null(json_object_get(j, "leader")));
	json_decref(j);

	a = start_contender(url, ep, "contender-a", pa);
	j = next_json_line(w);
	assert_string_equal(json_string_value(json_object_get(j, "leader")), "contender-a");
	assert_non_null(strstr(json_string_value(json_object_get(j, "node")), "-latch-"));
	epoch_a = json_integer_value(json_object_get(j, "epoch"));
	assert_true(epoch_a > 0);
	snprintf(time_a, sizeof(time_a), "%s", json_string_value(json_object_get(j, "time")));
	assert_true(strlen(time_a) == 24 && time_a[10] == 'T' && time_a[23] == 'Z');
	now_ms = (long long)time(NULL) * 1000;
	assert_true(llabs(json_integer_value(json_object_get(j, "time_ms")) - now_ms) < 60000);
	json_decref(j);
	H_WAIT_UNTIL((cmd_a = pid_in(pa)) > 0, 30000);

	/* a second contender queues behind: no change */
	b = start_contender(url, ep, "contender-b", pb);
	H_WAIT_UNTIL(participants_of(zk, ep) == 2, 30000);

	/* the leader's process dies without a word: B leads once its session
	 * expires, and the observer says so */
	assert_int_equal(kill(a, SIGKILL), 0);
	assert_int_equal(waitpid(a, &st, 0), a);
	kill(cmd_a, SIGKILL);   /* its CMD outlives it */
	j = next_json_line(w);
	assert_string_equal(json_string_value(json_object_get(j, "leader")), "contender-b");
	assert_true(json_integer_value(json_object_get(j, "epoch")) > epoch_a);
	assert_true(strcmp(json_string_value(json_object_get(j, "time")), time_a) > 0);
	json_decref(j);
	H_WAIT_UNTIL((cmd_b = pid_in(pb)) > 0, 30000);

	/* B leaves (SIGTERM: it stops its CMD first): nobody leads, the third
	 * change; the observer exits 0 at --count 3 */
	assert_int_equal(kill(b, SIGTERM), 0);
	assert_int_equal(waitpid(b, &st, 0), b);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGTERM);
	j = next_json_line(w);
	assert_true(json_is_null(json_object_get(j, "leader")));
	json_decref(j);
	st = pclose(w);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(kill(cmd_b, 0), -1);   /* B waited for its CMD */

	unlink(pa);
	unlink(pb);
	assert_int_equal(run(NULL, "rm -r %s", p), 0);
	zkc_close(zk);
	free(ep);
	free(p);
}

static void test_write_errors_are_failures(void **state)
{
	char *p = h_path("clifull"), *out = NULL;
	static const char *const cmds[] = { "get %s", "stat %s", "ls %s", "tree %s", "get --json %s",
		                            "du %s", "find %s", "acl get %s", "dump %s" };
	size_t i;
	(void)state;

	assert_int_equal(run(NULL, "create %s/kid --parents data >/dev/null", p), 0);
	assert_int_equal(run(NULL, "set %s data", p), 0);
	for (i = 0; i < sizeof(cmds) / sizeof(*cmds); i++) {
		char fmt[128];

		snprintf(fmt, sizeof(fmt), "%s 2>&1 >/dev/full", cmds[i]);
		if (run(&out, fmt, p) != 1 || !strstr(out, "No space left"))
			fail_msg("zkc %s > /dev/full: %s", cmds[i], out);
		free(out);
	}
	/* a closed standard output is an error too, when there is output */
	assert_int_equal(run(&out, "get %s 2>&1 >&-", p), 1);
	assert_non_null(strstr(out, "cannot write"));
	free(out);
	assert_int_equal(run(&out, "set %s again 2>&1 >&-", p), 0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(run(NULL, "rm -r %s", p), 0);
	free(p);
}

static void test_times_are_iso8601_utc(void **state)
{
	char *p = h_path("clitime"), *out = NULL, *c, want[64];
	long long ms;
	time_t secs;
	struct tm tm;
	json_t *j;
	(void)state;

	assert_int_equal(run(NULL, "create %s x >/dev/null", p), 0);
	assert_int_equal(run(&out, "stat --json %s", p), 0);
	j = json_of(out);
	ms = json_integer_value(json_object_get(j, "ctime"));
	json_decref(j);
	free(out);
	secs = (time_t)(ms / 1000);
	gmtime_r(&secs, &tm);
	strftime(want, sizeof(want), "ctime           %Y-%m-%dT%H:%M:%S", &tm);
	snprintf(want + strlen(want), sizeof(want) - strlen(want), ".%03lldZ\n", ms % 1000);
	assert_int_equal(run(&out, "stat %s", p), 0);
	c = strstr(out, "ctime ");
	assert_non_null(c);
	assert_int_equal(strncmp(c, want, strlen(want)), 0);
	assert_non_null(strstr(out, "mtime           20"));
	assert_int_equal(out[strlen(out) - 1], '\n');
	free(out);
	assert_int_equal(run(&out, "get --stat %s", p), 0);
	assert_non_null(strstr(out, want));
	free(out);
	assert_int_equal(run(NULL, "rm %s", p), 0);
	free(p);
}

/* Data is written as it is, but on a terminal a line is ended, so that
 * the prompt does not follow the data (script(1) gives zkc a terminal). */
static void test_get_ends_its_line_on_a_terminal(void **state)
{
	char *p = h_path("clitty"), *out = NULL, cmd[8192], buf[256];
	size_t n;
	FILE *f;
	(void)state;

	assert_int_equal(run(NULL, "create %s no-newline >/dev/null", p), 0);
	snprintf(cmd, sizeof(cmd), "script -qec \"ZKC_URL='%s' '%s' get %s\" /dev/null", h_url(),
	         zkc_bin, p);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	assert_int_equal(pclose(f), 0);
	assert_string_equal(buf, "no-newline\r\n");
	/* not on a pipe: the bytes as they are */
	assert_int_equal(run(&out, "get %s", p), 0);
	assert_string_equal(out, "no-newline");
	free(out);
	/* an index record's data, the same */
	assert_int_equal(run(NULL, "index create %s/ix f >/dev/null", p), 0);
	assert_int_equal(run(NULL, "index put --data x %s/ix u1 f=1 >/dev/null", p), 0);
	snprintf(cmd, sizeof(cmd), "script -qec \"ZKC_URL='%s' '%s' index get %s/ix u1\" /dev/null",
	         h_url(), zkc_bin, p);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	assert_int_equal(pclose(f), 0);
	assert_string_equal(buf, "f=1\r\n\r\nx\r\n");
	assert_int_equal(run(&out, "index get %s/ix u1", p), 0);
	assert_string_equal(out, "f=1\n\nx");
	free(out);
	assert_int_equal(run(NULL, "index drop %s/ix", p), 0);
	assert_int_equal(run(NULL, "rm -r %s", p), 0);
	free(p);
}

static void test_create_as_zkcli_users_expect(void **state)
{
	char *p = h_path("clizkcli"), *out = NULL, want[512];
	(void)state;

	assert_int_equal(run(NULL, "create %s >/dev/null", p), 0);
	/* the sequential name asked for, zkCli's letters accepted */
	assert_int_equal(run(&out, "create -s %s/job- x", p), 0);
	snprintf(want, sizeof(want), "%s/job-0000000000\n", p);
	assert_string_equal(out, want);
	free(out);
	assert_int_equal(run(&out, "create --sequential %s/job- x", p), 0);
	snprintf(want, sizeof(want), "%s/job-0000000001\n", p);
	assert_string_equal(out, want);
	free(out);
	/* --protected: the prefix that makes a retry safe */
	assert_int_equal(run(&out, "create -s --protected %s/job- x", p), 0);
	snprintf(want, sizeof(want), "%s/_c_", p);
	assert_int_equal(strncmp(out, want, strlen(want)), 0);
	assert_non_null(strstr(out, "-job-0000000002\n"));
	free(out);
	/* an ephemeral node dies with the command: it says so */
	assert_int_equal(run(&out, "create -e %s/eph 2>&1 >/dev/null", p), 0);
	assert_non_null(strstr(out, "ephemeral"));
	assert_non_null(strstr(out, "deleted"));
	free(out);
	assert_int_equal(run(NULL, "stat %s/eph 2>/dev/null", p), 3);
	assert_int_equal(run(&out, "create %s/pers 2>&1 >/dev/null", p), 0);
	assert_string_equal(out, "");   /* no warning for the others */
	free(out);
	assert_int_equal(run(NULL, "rm -r %s", p), 0);
	free(p);
}

static void test_a_missing_chroot_can_be_created(void **state)
{
	char *p = h_path("clichroot"), *root = h_join(p, "app"), *url = h_url_with(h_url(), root,
	                                                                           NULL);
	char *out = NULL;
	(void)state;

	/* without --parents: refused, saying what is missing and what to do */
	assert_int_equal(h_run_zkc(&out, url, "create /x 2>&1"), 3);
	assert_non_null(strstr(out, root));
	assert_non_null(strstr(out, "--parents"));
	free(out);
	assert_int_equal(run(NULL, "stat %s 2>/dev/null", root), 3);
	/* with it: the chroot, then the node inside it */
	assert_int_equal(h_run_zkc(&out, url, "create --parents /x/y data 2>/dev/null"), 0);
	assert_string_equal(out, "/x/y\n");
	free(out);
	assert_int_equal(run(&out, "get %s/x/y", root), 0);
	assert_string_equal(out, "data");
	free(out);
	assert_int_equal(run(NULL, "rm -r %s", p), 0);
	free(url);
	free(root);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_on_every_subcommand),
		cmocka_unit_test(test_global_flags_anywhere),
		cmocka_unit_test(test_double_dash_the_same_everywhere),
		cmocka_unit_test(test_json_on_the_commands_that_print),
		cmocka_unit_test(test_elect_watch_reports_each_new_leader),
		cmocka_unit_test(test_write_errors_are_failures),
		cmocka_unit_test(test_times_are_iso8601_utc),
		cmocka_unit_test(test_get_ends_its_line_on_a_terminal),
		cmocka_unit_test(test_create_as_zkcli_users_expect),
		cmocka_unit_test(test_a_missing_chroot_can_be_created),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, h_teardown);
}
