/* tests/integration/test_ensemble.c - the ensemble launcher and the
 * harness's fault helpers against real ZooKeeper servers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int mode_of(int node)
{
	zkc_ens_node_status_t st;

	if (zkc_ens_status(&st, h_ens(), node) != ZKC_OK)
		return -1;
	return st.mode;
}

static int state_of(int node)
{
	zkc_ens_node_status_t st;

	if (zkc_ens_status(&st, h_ens(), node) != ZKC_OK)
		return -1;
	return st.state;
}

static void three_nodes_elect_again_after_the_leader_dies(void **state)
{
	int old, now;

	(void)state;
	assert_int_equal(h_nodes(), 3);
	old = h_leader();
	assert_true(old >= 0);
	assert_int_equal(mode_of(old), ZKC_ENS_MODE_LEADER);

	assert_int_equal(h_kill(H_LEADER), 0);
	assert_int_equal(state_of(old), ZKC_ENS_DEAD);
	assert_int_equal(h_wait_quorum(), 0);
	now = h_leader();
	assert_true(now >= 0 && now != old);

	/* back with the same ports: it rejoins as a follower */
	assert_int_equal(h_restart(old), 0);
	assert_int_equal(mode_of(old), ZKC_ENS_MODE_FOLLOWER);
	assert_int_equal(h_wait_quorum(), 0);
}

static void a_stopped_follower_keeps_the_quorum(void **state)
{
	int leader = h_leader(), f;

	(void)state;
	assert_true(leader >= 0);
	f = (leader + 1) % 3;
	assert_int_equal(h_stop(f), 0);
	assert_int_equal(state_of(f), ZKC_ENS_STOPPED);
	assert_int_equal(h_wait_quorum(), 0);
	assert_int_equal(h_cont(f), 0);
	assert_int_equal(state_of(f), ZKC_ENS_RUNNING);
	H_WAIT_UNTIL(mode_of(f) == ZKC_ENS_MODE_FOLLOWER, H_TIMEOUT_MS);
}

static void another_process_can_attach_and_restart(void **state)
{
	zkc_ens_t *other;
	zkc_ens_node_status_t before, after;

	(void)state;
	assert_int_equal(zkc_ens_attach(&other, zkc_ens_dir(h_ens())), ZKC_OK);
	assert_string_equal(zkc_ens_url(other), h_url());
	assert_int_equal(zkc_ens_size(other), 3);
	assert_int_equal(zkc_ens_status(&before, h_ens(), 2), ZKC_OK);
	assert_int_equal(zkc_ens_restart(other, 2, h_timeout(H_TIMEOUT_MS)),
	    ZKC_OK);
	/* the first handle reads the new pid from the state file */
	assert_int_equal(zkc_ens_status(&after, h_ens(), 2), ZKC_OK);
	assert_int_equal(after.state, ZKC_ENS_RUNNING);
	assert_int_not_equal(after.pid, before.pid);
	zkc_ens_free(other);         /* detaches: nothing stops */
	assert_int_equal(h_wait_quorum(), 0);
}

static void distinct_addresses_share_one_port(void **state)
{
	zkc_ens_options_t o = ZKC_ENS_OPTIONS_INIT;
	char url[128];
	int port;

	(void)state;
	o.nodes = 2;
	o.distinct_addrs = 1;
	assert_int_equal(h_start_opts(&o), 0);
	port = h_node_port(0);
	assert_string_equal(h_node_host(0), "127.0.0.2");
	assert_string_equal(h_node_host(1), "127.0.0.3");
	assert_int_equal(h_node_port(1), port);
	snprintf(url, sizeof url, "zk://127.0.0.2:%d,127.0.0.3:%d", port, port);
	assert_string_equal(h_url(), url);
	h_stop_all();
}

/* A listening socket on 127.0.0.1:port (0: any); its port in *out. */
static int listen_on(int port, int *out)
{
	struct sockaddr_in sa = { 0 };
	socklen_t sl = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(fd, 1) < 0 || getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*out = ntohs(sa.sin_port);
	return fd;
}

/* `zkc ensemble up --port`: server id N on port + N - 1, and a taken port
 * is refused by name instead of replaced by another. */
static void fixed_client_ports_are_used_or_refused(void **state)
{
	zkc_ens_options_t o = ZKC_ENS_OPTIONS_INIT;
	char url[128], want[64];
	int base = 0, held = -1, fd, attempt;

	(void)state;
	/* a base port whose successor is free too; the successor is held */
	for (attempt = 0; attempt < 50; attempt++) {
		int p0, p1;

		fd = listen_on(0, &p0);
		assert_true(fd >= 0);
		close(fd);
		if (p0 >= 65535)
			continue;
		held = listen_on(p0 + 1, &p1);
		if (held >= 0) {
			base = p0;
			break;
		}
	}
	assert_int_not_equal(base, 0);
	o.nodes = 2;
	o.client_port = base;
	assert_int_equal(h_start_opts(&o), -1);
	snprintf(want, sizeof want, "127.0.0.1:%d", base + 1);
	assert_non_null(strstr(zkc_ens_error(), want));
	close(held);

	assert_int_equal(h_start_opts(&o), 0);
	assert_int_equal(h_node_port(0), base);
	assert_int_equal(h_node_port(1), base + 1);
	snprintf(url, sizeof url, "zk://127.0.0.1:%d,127.0.0.1:%d", base, base + 1);
	assert_string_equal(h_url(), url);
	h_stop_all();

	o.client_port = 65535;
	assert_int_equal(h_start_opts(&o), -1);
	assert_non_null(strstr(zkc_ens_error(), "client_port"));
}

/* `zkc ARGS` (a shell word list, stderr merged): exit status, and stdout
 * in *out (malloc'd) when out is given. */
static int run_zkc(char **out, const char *args)
{
	const char *dir = getenv("ZKC_TEST_BUILDDIR");
	char cmd[8192];
	size_t cap = 1 << 16, n = 0, got;
	char *buf = malloc(cap);
	FILE *p;
	int st;

	assert_non_null(buf);
	snprintf(cmd, sizeof cmd, "'%s/zkc' %s 2>&1", dir && *dir ? dir : ".", args);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (n < cap - 1 && (got = fread(buf + n, 1, cap - 1 - n, p)) > 0)
		n += got;
	buf[n] = '\0';
	st = pclose(p);
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char cli_dir[64];

/* Whatever the CLI test left running goes with the group. */
static int cli_teardown(void **state)
{
	char args[256];

	if (cli_dir[0]) {
		snprintf(args, sizeof args, "ensemble down --dir '%s' >/dev/null", cli_dir);
		run_zkc(NULL, args);
	}
	return h_teardown(state);
}

/* getting-started's commands: `up --port P --env` prints the exports eval
 * takes, `env` prints them again, `wait` returns while a quorum serves, a
 * taken --port fails, and --port belongs to `up` alone. */
static void the_ensemble_command_exports_and_waits(void **state)
{
	char args[512], want[512], *out;
	int port = 0, fd = -1, attempt;

	(void)state;
	snprintf(cli_dir, sizeof cli_dir, "/tmp/zkc-test-cli-XXXXXX");
	assert_non_null(mkdtemp(cli_dir));
	assert_int_equal(rmdir(cli_dir), 0);     /* up makes it, down removes it */
	for (attempt = 0; attempt < 50 && port == 0; attempt++) {
		fd = listen_on(0, &port);
		assert_true(fd >= 0);
		close(fd);
	}
	snprintf(args, sizeof args, "ensemble up --nodes 1 --dir '%s' --port %d --env",
	         cli_dir, port);
	if (run_zkc(&out, args) != 0)
		fail_msg("%s: %s", args, out);
	snprintf(want, sizeof want, "export ZKC_URL='zk://127.0.0.1:%d'\n"
	         "export ZKC_ENSEMBLE_DIR='%s'\n", port, cli_dir);
	assert_string_equal(out, want);
	free(out);

	snprintf(args, sizeof args, "ensemble env --dir '%s'", cli_dir);
	assert_int_equal(run_zkc(&out, args), 0);
	assert_string_equal(out, want);
	free(out);
	/* --json: the same variables as one object, --json before or after */
	snprintf(want, sizeof want, "{\"ZKC_URL\":\"zk://127.0.0.1:%d\","
	         "\"ZKC_ENSEMBLE_DIR\":\"%s\"}\n", port, cli_dir);
	snprintf(args, sizeof args, "ensemble env --dir '%s' --json", cli_dir);
	assert_int_equal(run_zkc(&out, args), 0);
	assert_string_equal(out, want);
	free(out);
	snprintf(args, sizeof args, "--json ensemble env --dir '%s'", cli_dir);
	assert_int_equal(run_zkc(&out, args), 0);
	assert_string_equal(out, want);
	free(out);
	snprintf(args, sizeof args, "ensemble wait --dir '%s' --timeout 60", cli_dir);
	assert_int_equal(run_zkc(NULL, args), 0);
	snprintf(args, sizeof args, "ensemble wait --dir '%s' 1", cli_dir);
	assert_int_equal(run_zkc(NULL, args), 0);

	/* the port is the running server's now */
	snprintf(args, sizeof args, "ensemble up --nodes 1 --dir '%s.2' --port %d",
	         cli_dir, port);
	assert_int_equal(run_zkc(&out, args), 1);
	snprintf(want, sizeof want, "127.0.0.1:%d", port);
	assert_non_null(strstr(out, want));
	free(out);
	snprintf(args, sizeof args, "ensemble status --dir '%s' --port %d", cli_dir, port);
	assert_int_equal(run_zkc(NULL, args), 2);

	snprintf(args, sizeof args, "ensemble down --dir '%s'", cli_dir);
	assert_int_equal(run_zkc(NULL, args), 0);
	cli_dir[0] = '\0';
}

static void bad_options_are_refused_with_a_reason(void **state)
{
	zkc_ens_options_t o = ZKC_ENS_OPTIONS_INIT;
	zkc_ens_t *e = (zkc_ens_t *)&o;

	(void)state;
	o.nodes = 0;
	assert_int_equal(zkc_ens_up(&e, &o), ZKC_EBADARGUMENTS);
	assert_null(e);
	assert_non_null(strstr(zkc_ens_error(), "nodes"));
	o.nodes = 8;
	assert_int_equal(zkc_ens_up(&e, &o), ZKC_EBADARGUMENTS);
	o.nodes = 1;
	o.version = 99;
	assert_int_equal(zkc_ens_up(&e, &o), ZKC_EBADARGUMENTS);
	o.version = ZKC_ENS_OPTIONS_VERSION;
	o.java = "/nonexistent/java";
	assert_int_equal(zkc_ens_up(&e, &o), ZKC_ENOTSUP);
	assert_non_null(strstr(zkc_ens_error(), "/nonexistent/java"));
	assert_int_equal(zkc_ens_attach(&e, "/nonexistent/dir"), ZKC_ENONODE);
	assert_int_equal(zkc_ens_kill(NULL, 0), ZKC_EBADARGUMENTS);
}

static void a_jvm_that_dies_is_reported_at_once(void **state)
{
	zkc_ens_options_t o = ZKC_ENS_OPTIONS_INIT;
	zkc_ens_t *e = NULL;
	char dir[] = "/tmp/zkc-test-XXXXXX";
	int64_t t0 = h_now_ms();

	(void)state;
	assert_non_null(mkdtemp(dir));
	o.dir = dir;
	o.jvm_flags = "-XX:+NoSuchFlagForZkcTests";
	o.die_with_parent = 1;
	assert_int_equal(zkc_ens_up(&e, &o), ZKC_EOS);
	assert_null(e);
	/* named node, its log, the JVM's own words, and not after the
	 * 60 s timeout */
	assert_non_null(strstr(zkc_ens_error(), "node 1"));
	assert_non_null(strstr(zkc_ens_error(), "server.log"));
	assert_non_null(strstr(zkc_ens_error(), "NoSuchFlagForZkcTests"));
	assert_true(h_now_ms() - t0 < h_timeout(30000));
	/* the directory stays for its log; the state file lets a later
	 * down() clean it */
	assert_int_equal(zkc_ens_attach(&e, dir), ZKC_OK);
	assert_int_equal(zkc_ens_down(e, ZKC_ENS_DOWN_REMOVE), ZKC_OK);
	zkc_ens_free(e);
	assert_int_not_equal(access(dir, F_OK), 0);
}

static void a_running_ensemble_is_not_started_twice(void **state)
{
	zkc_ens_options_t o = ZKC_ENS_OPTIONS_INIT;
	zkc_ens_t *e = NULL;

	(void)state;
	assert_int_equal(h_start(1), 0);
	o.dir = zkc_ens_dir(h_ens());
	assert_int_equal(zkc_ens_up(&e, &o), ZKC_EBADARGUMENTS);
	assert_non_null(strstr(zkc_ens_error(), "already runs"));
	h_stop_all();
}

int main(void)
{
	/* one group (one TAP plan): the fault tests share the 3-node
	 * ensemble; the launcher tests after them replace it */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(three_nodes_elect_again_after_the_leader_dies),
		cmocka_unit_test(a_stopped_follower_keeps_the_quorum),
		cmocka_unit_test(another_process_can_attach_and_restart),
		cmocka_unit_test(distinct_addresses_share_one_port),
		cmocka_unit_test(fixed_client_ports_are_used_or_refused),
		cmocka_unit_test(the_ensemble_command_exports_and_waits),
		cmocka_unit_test(bad_options_are_refused_with_a_reason),
		cmocka_unit_test(a_jvm_that_dies_is_reported_at_once),
		cmocka_unit_test(a_running_ensemble_is_not_started_twice),
	};

	return cmocka_run_group_tests(tests, h_setup_3, cli_teardown);
}
