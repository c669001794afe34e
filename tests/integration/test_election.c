/* tests/integration/test_election.c - the election recipe on a 1-node
 * ensemble: one leader, queue order and hand-over on resign, the epoch,
 * Curator's node layout, re-joining after a lost session, queries and bad
 * input. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"

#define NC 3

typedef struct rec {
	pthread_mutex_t mu;
	int gained, lost, last_reason;
	int64_t epoch;
} rec_t;

static void on_event(zkc_election_t *e, int type, int64_t epoch, int reason, void *payload)
{
	rec_t *r = payload;
	(void)e;

	pthread_mutex_lock(&r->mu);
	if (type == ZKC_ELECTION_LEADER) {
		r->gained++;
		r->epoch = epoch;
	} else {
		r->lost++;
		r->last_reason = reason;
	}
	pthread_mutex_unlock(&r->mu);
}

static int rec_get(rec_t *r, int what)
{
	int v;

	pthread_mutex_lock(&r->mu);
	v = what == 0 ? r->gained : what == 1 ? r->lost : r->last_reason;
	pthread_mutex_unlock(&r->mu);
	return v;
}

static int setup(void **state)
{
	return h_setup_shared(state);
}

static int teardown(void **state)
{
	return h_teardown(state);
}

static int leaders(zkc_election_t **e, int n)
{
	int i, c = 0;

	for (i = 0; i < n; i++)
		c += zkc_election_is_leader(NULL, e[i]);
	return c;
}

static int count_children(zkc_t *zk, const char *path)
{
	zkc_strings_t *k = NULL;
	int n;

	if (zkc_children(&k, NULL, zk, path) != ZKC_OK)
		return -1;
	n = (int)k->count;
	zkc_strings_free(k);
	return n;
}

static void test_one_leader_in_join_order_and_resign_hands_over(void **state)
{
	zkc_t *zk[NC];
	zkc_election_t *e[NC];
	rec_t r[NC];
	zkc_election_options_t o = ZKC_ELECTION_OPTIONS_INIT;
	zkc_election_participants_t *p = NULL;
	char *path = h_path("order"), *id = NULL, ids[NC][8];
	int64_t ep0 = 0, ep1 = 0, lep = 0;
	zkc_stat_t st;
	int i;
	(void)state;

	for (i = 0; i < NC; i++) {
		pthread_mutex_init(&r[i].mu, NULL);
		r[i].gained = r[i].lost = r[i].last_reason = 0;
		zk[i] = h_open(NULL, NULL);
		snprintf(ids[i], sizeof(ids[i]), "c%d", i);
		o.id = ids[i];
		o.fn = on_event;
		o.payload = &r[i];
		assert_int_equal(zkc_election_open(&e[i], zk[i], path, &o), ZKC_OK);
		assert_int_equal(zkc_election_join(e[i]), ZKC_OK);
		if (i == 0)
			assert_int_equal(zkc_election_await(&ep0, e[0], h_timeout(H_TIMEOUT_MS)), ZKC_OK);
		else   /* join order is queue order */
			H_WAIT_UNTIL(count_children(zk[0], path) == i + 1, H_TIMEOUT_MS);
	}
	assert_int_equal(leaders(e, NC), 1);
	assert_true(zkc_election_is_leader(NULL, e[0]));
	assert_int_equal(zkc_election_await(NULL, e[1], 0), ZKC_ETIMEDOUT);

	/* the epoch is the leader node's czxid; the layout is Curator's */
	{
		char *node = NULL;
		const char *name;

		assert_int_equal(zkc_election_node(&node, e[0]), ZKC_OK);
		assert_int_equal(zkc_exists(&st, zk[0], node), ZKC_OK);
		assert_true(st.czxid == ep0);
		assert_true(st.ephemeral_owner != 0);
		name = strrchr(node, '/') + 1;
		assert_int_equal(strncmp(name, "_c_", 3), 0);
		assert_int_equal(strlen(name), strlen("_c_") + 36 + strlen("-latch-") + 10);
		assert_int_equal(strncmp(name + 3 + 36, "-latch-", 7), 0);
		zkc_free(node);
	}

	/* queries */
	assert_int_equal(zkc_election_leader(&id, &lep, zk[2], path), ZKC_OK);
	assert_string_equal(id, "c0");
	assert_true(lep == ep0);
	zkc_free(id);
	assert_int_equal(zkc_election_participants(&p, zk[2], path), ZKC_OK);
	assert_int_equal(p->count, NC);
	for (i = 0; i < NC; i++) {
		assert_string_equal(p->items[i].id, ids[i]);
		assert_int_equal(p->items[i].is_leader, i == 0);
	}
	zkc_election_participants_free(p);

	/* resign hands over to the next in line, with a larger epoch */
	assert_int_equal(zkc_election_resign(e[0]), ZKC_OK);
	assert_false(zkc_election_is_leader(NULL, e[0]));
	assert_int_equal(zkc_election_await(&ep1, e[1], h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_true(ep1 > ep0);
	assert_int_equal(leaders(e, NC), 1);
	H_WAIT_UNTIL(rec_get(&r[1], 0) == 1, 5000);
	/* the third, not next in line, saw no change */
	assert_int_equal(rec_get(&r[2], 0), 0);
	assert_int_equal(rec_get(&r[2], 1), 0);
	assert_int_equal(zkc_election_await(NULL, e[0], 0), ZKC_ECANCELED);

	/* re-join goes to the back */
	assert_int_equal(zkc_election_join(e[0]), ZKC_OK);
	H_WAIT_UNTIL(count_children(zk[1], path) == NC, H_TIMEOUT_MS);
	zkc_election_close(e[1]);
	assert_int_equal(zkc_election_await(NULL, e[2], h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_false(zkc_election_is_leader(NULL, e[0]));

	for (i = 0; i < NC; i++)
		if (i != 1)
			zkc_election_close(e[i]);
	/* closing deletes every node (in the background) */
	H_WAIT_UNTIL(count_children(zk[0], path) == 0, H_TIMEOUT_MS);
	zkc_delete(zk[0], path, -1, 0);
	for (i = 0; i < NC; i++)
		zkc_close(zk[i]);
	free(path);
}


static void test_lost_session_steps_down_and_rejoins(void **state)
{
	zkc_t *a = h_open(NULL, NULL), *b = h_open(NULL, NULL);
	zkc_election_options_t o = ZKC_ELECTION_OPTIONS_INIT;
	zkc_election_t *ea, *eb;
	/* static: a failed assertion must not leave the callback a dead frame */
	static rec_t ra = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0 };
	char *path = h_path("lost");
	int64_t ep0 = 0, ep1 = 0;
	(void)state;

	o.id = "a";
	o.fn = on_event;
	o.payload = &ra;
	assert_int_equal(zkc_election_open(&ea, a, path, &o), ZKC_OK);
	assert_int_equal(zkc_election_join(ea), ZKC_OK);
	assert_int_equal(zkc_election_await(&ep0, ea, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	o.id = "b";
	o.fn = NULL;
	assert_int_equal(zkc_election_open(&eb, b, path, &o), ZKC_OK);
	assert_int_equal(zkc_election_join(eb), ZKC_OK);
	H_WAIT_UNTIL(count_children(b, path) == 2, H_TIMEOUT_MS);

	h_expire_for_sure(a);
	assert_int_equal(zkc_election_await(&ep1, eb, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_true(ep1 > ep0);
	H_WAIT_UNTIL(rec_get(&ra, 1) >= 1, 5000);
	assert_true(rec_get(&ra, 2) == ZKC_ELECTION_REASON_LOST ||
	    rec_get(&ra, 2) == ZKC_ELECTION_REASON_SUSPENDED);
	/* the lost candidate queues again in its new session, behind b */
	H_WAIT_UNTIL(count_children(b, path) == 2, H_TIMEOUT_MS);
	{
		char *node = NULL;
		zkc_stat_t st;
		int64_t sid = 0;

		H_WAIT_UNTIL(zkc_election_node(&node, ea) == ZKC_OK, H_TIMEOUT_MS);
		assert_int_equal(zkc_session(&sid, NULL, NULL, a), ZKC_OK);
		assert_int_equal(zkc_exists(&st, b, node), ZKC_OK);
		assert_true(st.ephemeral_owner == sid);
		zkc_free(node);
	}
	assert_false(zkc_election_is_leader(NULL, ea));
	zkc_election_close(eb);
	assert_int_equal(zkc_election_await(NULL, ea, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	/* the event follows await; a failed expiry attempt may add a round */
	H_WAIT_UNTIL(rec_get(&ra, 0) >= 2 && rec_get(&ra, 0) == rec_get(&ra, 1) + 1, 5000);
	/* resign waits for the delete; close after it has nothing left to do */
	assert_int_equal(zkc_election_resign(ea), ZKC_OK);
	assert_int_equal(count_children(b, path), 0);
	zkc_election_close(ea);
	zkc_delete(b, path, -1, 0);
	zkc_close(a);
	zkc_close(b);
	free(path);
}

/* A leader behind a fault proxy: with the default policy it steps down at
 * SUSPENDED and leads again, same epoch, at RECONNECTED; with the LOST
 * policy it leads on through SUSPENDED and steps down only at LOST. The
 * other candidate never leads while the first one's node exists. */
/* Without a callback, leadership events wait in the election's queue,
 * whose fd polls readable. */
static void test_events_reach_the_queue_and_its_fd_without_a_callback(void **state)
{
	zkc_t *a = h_open(NULL, NULL);
	zkc_election_t *e = NULL;
	zkc_election_event_t ev = { 0, 0, 0 };
	struct pollfd pfd;
	char *path = h_path("queue");
	int64_t epoch = 0;
	(void)state;

	assert_int_equal(zkc_election_open(&e, a, path, NULL), ZKC_OK);
	pfd.fd = zkc_election_events_fd(e);
	pfd.events = POLLIN;
	assert_true(pfd.fd >= 0);
	assert_int_equal(zkc_election_events_next(&ev, e, 0), ZKC_EAGAIN);
	assert_int_equal(zkc_election_events_next(NULL, e, 0), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_election_join(e), ZKC_OK);
	assert_int_equal(zkc_election_await(&epoch, e, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_int_equal(poll(&pfd, 1, h_timeout(H_TIMEOUT_MS)), 1);
	assert_int_equal(zkc_election_events_next(&ev, e, 0), ZKC_OK);
	assert_int_equal(ev.type, ZKC_ELECTION_LEADER);
	assert_true(ev.epoch == epoch);
	assert_int_equal(ev.reason, 0);
	/* drained: the fd is quiet again */
	assert_int_equal(zkc_election_events_next(&ev, e, 0), ZKC_EAGAIN);
	assert_int_equal(poll(&pfd, 1, 0), 0);

	/* a lost session: NOT_LEADER with its reason first, then LEADER in
	 * the new session with a larger epoch (the expiry may first cost a
	 * SUSPENDED/RECONNECTED round: NOT_LEADER, LEADER at the same epoch) */
	h_expire_for_sure(a);
	{
		int n, not_leader = 0, leader_again = 0;

		for (n = 0; n < 10 && !leader_again; n++) {
			assert_int_equal(zkc_election_events_next(&ev, e, h_timeout(H_TIMEOUT_MS)),
			                 ZKC_OK);
			if (n == 0)
				assert_int_equal(ev.type, ZKC_ELECTION_NOT_LEADER);
			if (ev.type == ZKC_ELECTION_NOT_LEADER) {
				not_leader++;
				assert_true(ev.reason == ZKC_ELECTION_REASON_SUSPENDED ||
				            ev.reason == ZKC_ELECTION_REASON_LOST);
			} else {
				assert_int_equal(ev.type, ZKC_ELECTION_LEADER);
				assert_true(ev.epoch >= epoch);
				leader_again = ev.epoch > epoch;
			}
		}
		assert_true(not_leader >= 1);
		assert_true(leader_again);
	}
	assert_int_equal(zkc_election_resign(e), ZKC_OK);
	zkc_election_close(e);
	zkc_delete(a, path, -1, 0);
	zkc_close(a);
	free(path);
}

static void test_step_down_policies(void **state)
{
	zkc_options_t zo = ZKC_OPTIONS_INIT;
	zkc_election_options_t o = ZKC_ELECTION_OPTIONS_INIT;
	static rec_t ra = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0 };
	h_proxy_t *px = NULL;
	zkc_election_t *ea, *eb;
	zkc_t *a, *b;
	char url[128], *path = h_path("policy");
	int64_t ep0 = 0, ep1 = 0;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	assert_int_equal(h_proxy_to_node(&px, 0), 0);
	snprintf(url, sizeof(url), "zk://127.0.0.1:%d", h_proxy_port(px));
	zo.session_timeout_ms = 6000;
	a = h_open(url, &zo);
	b = h_open(NULL, NULL);
	o.id = "b";
	assert_int_equal(zkc_election_open(&eb, b, path, &o), ZKC_OK);

	/* SUSPENDED policy (default) */
	o.id = "a";
	o.fn = on_event;
	o.payload = &ra;
	assert_int_equal(zkc_election_open(&ea, a, path, &o), ZKC_OK);
	assert_int_equal(zkc_election_join(ea), ZKC_OK);
	assert_int_equal(zkc_election_await(&ep0, ea, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_int_equal(zkc_election_join(eb), ZKC_OK);
	H_WAIT_UNTIL(count_children(b, path) == 2, H_TIMEOUT_MS);
	h_proxy_refuse(px, 1);
	h_proxy_cut(px);
	H_WAIT_UNTIL(rec_get(&ra, 1) == 1, H_TIMEOUT_MS);
	assert_int_equal(rec_get(&ra, 2), ZKC_ELECTION_REASON_SUSPENDED);
	assert_false(zkc_election_is_leader(NULL, ea));
	assert_false(zkc_election_is_leader(NULL, eb));
	h_proxy_refuse(px, 0);
	assert_int_equal(zkc_election_await(&ep1, ea, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_true(ep1 == ep0);   /* the same node leads again */
	assert_false(zkc_election_is_leader(NULL, eb));
	zkc_election_close(ea);
	assert_int_equal(zkc_election_await(NULL, eb, h_timeout(H_TIMEOUT_MS)), ZKC_OK);

	/* LOST policy: b resigns so that a leads first again */
	assert_int_equal(zkc_election_resign(eb), ZKC_OK);
	o.step_down = ZKC_ELECTION_STEP_DOWN_LOST;
	ra.gained = ra.lost = ra.last_reason = 0;
	assert_int_equal(zkc_election_open(&ea, a, path, &o), ZKC_OK);
	assert_int_equal(zkc_election_join(ea), ZKC_OK);
	assert_int_equal(zkc_election_await(&ep0, ea, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_int_equal(zkc_election_join(eb), ZKC_OK);
	H_WAIT_UNTIL(count_children(b, path) == 2, H_TIMEOUT_MS);
	h_proxy_refuse(px, 1);
	h_proxy_cut(px);
	H_WAIT_UNTIL(zkc_state(a) == ZKC_STATE_SUSPENDED, H_TIMEOUT_MS);
	assert_true(zkc_election_is_leader(NULL, ea));   /* leads on */
	/* at LOST (2/3 of 6 s without a server) it steps down, and b leads
	 * once the server has expired a's session */
	H_WAIT_UNTIL(rec_get(&ra, 1) == 1, H_TIMEOUT_MS);
	assert_int_equal(rec_get(&ra, 2), ZKC_ELECTION_REASON_LOST);
	assert_false(zkc_election_is_leader(NULL, ea));
	assert_int_equal(zkc_election_await(&ep1, eb, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_true(ep1 > ep0);
	h_proxy_refuse(px, 0);
	/* a queues again in its new session, behind b */
	H_WAIT_UNTIL(count_children(b, path) == 2, H_TIMEOUT_MS);
	assert_false(zkc_election_is_leader(NULL, ea));
	zkc_election_close(ea);
	zkc_election_close(eb);
	H_WAIT_UNTIL(count_children(b, path) == 0, H_TIMEOUT_MS);
	zkc_delete(b, path, -1, 0);
	zkc_close(a);
	zkc_close(b);
	h_proxy_free(px);
	free(path);
}

/* The reply to the join's create is lost (the server made the node): the
 * candidate finds its node again by the UUID in its name instead of making
 * a second one. */
static void test_lost_create_reply_finds_the_node_again(void **state)
{
	zkc_options_t zo = ZKC_OPTIONS_INIT;
	zkc_election_t *e;
	h_proxy_t *px = NULL;
	h_proxy_stats_t st;
	zkc_t *a, *obs;
	char url[128], *path = h_path("lostreply");
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	assert_int_equal(h_proxy_to_node(&px, 0), 0);
	snprintf(url, sizeof(url), "zk://127.0.0.1:%d", h_proxy_port(px));
	zo.session_timeout_ms = 30000;   /* heartbeats (timeout/6) stay away */
	a = h_open(url, &zo);
	obs = h_open(NULL, NULL);
	/* the directory exists: the join is exactly one batch */
	assert_int_equal(zkc_create(NULL, NULL, obs, path, NULL, 0, NULL), ZKC_OK);
	assert_int_equal(zkc_election_open(&e, a, path, NULL), ZKC_OK);
	h_proxy_lose_next_reply(px);
	assert_int_equal(zkc_election_join(e), ZKC_OK);
	assert_int_equal(zkc_election_await(NULL, e, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	h_proxy_stats(&st, px);
	assert_true(st.replies_lost >= 1);
	assert_int_equal(count_children(obs, path), 1);   /* no second node */
	zkc_election_close(e);
	H_WAIT_UNTIL(count_children(obs, path) == 0, H_TIMEOUT_MS);
	zkc_delete(obs, path, -1, 0);
	zkc_close(a);
	zkc_close(obs);
	h_proxy_free(px);
	free(path);
}

/* Closing the election from its own callback is allowed. */
static void close_on_gain(zkc_election_t *e, int type, int64_t epoch, int reason, void *payload)
{
	int *done = payload;
	(void)epoch;
	(void)reason;

	if (type == ZKC_ELECTION_LEADER) {
		zkc_election_close(e);
		__atomic_store_n(done, 1, __ATOMIC_SEQ_CST);
	}
}

static void test_close_from_callback_and_deep_path(void **state)
{
	zkc_t *zk = h_open(NULL, NULL);
	zkc_election_options_t o = ZKC_ELECTION_OPTIONS_INIT;
	zkc_election_t *e;
	char *base = h_path("deep"), *path = h_join(base, "x/y/z");
	int done = 0;
	(void)state;

	o.fn = close_on_gain;
	o.payload = &done;
	o.step_down = ZKC_ELECTION_STEP_DOWN_LOST;
	assert_int_equal(zkc_election_open(&e, zk, path, &o), ZKC_OK);
	assert_int_equal(zkc_election_join(e), ZKC_OK);
	H_WAIT_UNTIL(__atomic_load_n(&done, __ATOMIC_SEQ_CST) == 1, H_TIMEOUT_MS);
	H_WAIT_UNTIL(count_children(zk, path) == 0, 5000);
	zkc_delete(zk, base, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	free(path);
	free(base);
}

static void test_bad_input_gets_clear_codes(void **state)
{
	zkc_t *zk = h_open(NULL, NULL);
	zkc_election_options_t o = ZKC_ELECTION_OPTIONS_INIT;
	zkc_election_participants_t *p = NULL;
	zkc_election_t *e = NULL;
	char *id = NULL, *missing = h_path("missing");
	(void)state;

	assert_int_equal(zkc_election_open(&e, zk, "", NULL), ZKC_EBADARGUMENTS);
	assert_null(e);
	assert_int_equal(zkc_election_open(&e, zk, "noslash", NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_election_open(&e, zk, "/", NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_election_open(&e, zk, "/a/", NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_election_open(&e, NULL, "/a", NULL), ZKC_EBADARGUMENTS);
	o.version = 0;
	assert_int_equal(zkc_election_open(&e, zk, "/a", &o), ZKC_EBADARGUMENTS);
	o.version = ZKC_ELECTION_OPTIONS_VERSION;
	o.step_down = 7;
	assert_int_equal(zkc_election_open(&e, zk, "/a", &o), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_election_leader(&id, NULL, zk, missing), ZKC_ENONODE);
	assert_null(id);
	assert_int_equal(zkc_election_participants(&p, zk, missing), ZKC_ENONODE);
	assert_int_equal(zkc_election_leader(&id, NULL, zk, "bad"), ZKC_EBADARGUMENTS);

	/* not joined: await is cancelled, resign is a no-op, no node */
	assert_int_equal(zkc_election_open(&e, zk, missing, NULL), ZKC_OK);
	assert_int_equal(zkc_election_await(NULL, e, 10), ZKC_ECANCELED);
	assert_int_equal(zkc_election_resign(e), ZKC_OK);
	assert_int_equal(zkc_election_node(&id, e), ZKC_ENONODE);
	zkc_election_close(e);
	zkc_election_close(NULL);
	zkc_close(zk);
	free(missing);
}

/* ------------------------------------------------------------ zkc elect */

static void zkc_binary(char *out, size_t len)
{
	const char *bd = getenv("ZKC_TEST_BUILDDIR");
	char self[512];
	ssize_t n;

	if (bd) {
		snprintf(out, len, "%s/zkc", bd);
		if (access(out, X_OK) == 0)
			return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	snprintf(out, len, "%s/../../zkc", dirname(self));
}

/* Runs `zkc --url URL elect ARGS...` in the background. */
static pid_t run_elect(const char *bin, const char *const *args)
{
	const char *argv[16];
	pid_t pid;
	int i, n = 0;

	argv[n++] = bin;
	argv[n++] = "--url";
	argv[n++] = h_url();
	argv[n++] = "elect";
	for (i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		h_die_with_parent();
		execv(bin, (char *const *)argv);
		_exit(99);
	}
	return pid;
}

static int exit_code_of(pid_t pid)
{
	int status = 0;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static long long epoch_in(const char *file)
{
	FILE *f = fopen(file, "r");
	long long v = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%lld", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

static int child_exited(pid_t pid, int *code)
{
	int status = 0;

	if (waitpid(pid, &status, WNOHANG) != pid)
		return 0;
	*code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return 1;
}

static void test_cli_runs_cmd_while_leader_and_stops_it_on_loss(void **state)
{
	zkc_t *zk = h_open(NULL, NULL);
	zkc_election_participants_t *p = NULL;
	char bin[600], file[] = "/tmp/zkct_elect_cli_XXXXXX", script[700];
	char *path = h_path("cli");
	int fd, code = -2;
	pid_t pid;
	(void)state;

	zkc_binary(bin, sizeof(bin));
	assert_int_equal(access(bin, X_OK), 0);
	fd = mkstemp(file);
	assert_true(fd >= 0);
	close(fd);
	{
		const char *a[] = { path, "--leader", NULL };

		assert_int_equal(exit_code_of(run_elect(bin, a)), 3);   /* no leader */
	}
	{
		const char *a[] = { "x", "--leader", "--", "true", NULL };

		assert_int_equal(exit_code_of(run_elect(bin, a)), 2);   /* usage */
	}
	/* CMD's status comes back; the epoch is in its environment */
	snprintf(script, sizeof(script), "echo $ZKC_ELECTION_EPOCH > %s; exit 3", file);
	{
		const char *a[] = { path, "--id", "cli", "--", "sh", "-c", script, NULL };

		assert_int_equal(exit_code_of(run_elect(bin, a)), 3);
	}
	assert_true(epoch_in(file) > 0);
	unlink(file);

	/* leadership lost (its node deleted by someone): CMD gets SIGTERM */
	snprintf(script, sizeof(script), "echo $ZKC_ELECTION_EPOCH > %s; exec sleep 600", file);
	{
		const char *a[] = { path, "--id", "cli2", "--", "sh", "-c", script, NULL };

		pid = run_elect(bin, a);
	}
	H_WAIT_UNTIL(epoch_in(file) > 0, H_TIMEOUT_MS);
	assert_int_equal(zkc_election_participants(&p, zk, path), ZKC_OK);
	assert_int_equal(p->count, 1);
	assert_string_equal(p->items[0].id, "cli2");
	assert_true(p->items[0].czxid == epoch_in(file));
	{
		char *node = h_join(path, p->items[0].node);

		assert_int_equal(zkc_delete(zk, node, -1, 0), ZKC_OK);
		free(node);
	}
	zkc_election_participants_free(p);
	H_WAIT_UNTIL(child_exited(pid, &code), H_TIMEOUT_MS);
	assert_int_equal(code, 128 + SIGTERM);
	unlink(file);
	H_WAIT_UNTIL(count_children(zk, path) == 0, 5000);
	zkc_delete(zk, path, -1, 0);
	zkc_close(zk);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_leader_in_join_order_and_resign_hands_over),
		cmocka_unit_test(test_lost_session_steps_down_and_rejoins),
		cmocka_unit_test(test_close_from_callback_and_deep_path),
		cmocka_unit_test(test_step_down_policies),
		cmocka_unit_test(test_events_reach_the_queue_and_its_fd_without_a_callback),
		cmocka_unit_test(test_lost_create_reply_finds_the_node_again),
		cmocka_unit_test(test_bad_input_gets_clear_codes),
		cmocka_unit_test(test_cli_runs_cmd_while_leader_and_stops_it_on_loss),
	};

	return cmocka_run_group_tests_name("election", tests, setup, teardown);
}
