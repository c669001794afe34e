/* tests/integration/test_dns_follow.c - a live session follows a DNS name
 * whose address changes: the ZooKeeper servers sit on three loopback
 * addresses, a private dnsmasq answers for the name, and the test moves
 * the name from one server to another, then kills the first. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "dnsmasq.h"

static harness_dnsmasq_t *dns;

static int setup(void **state)
{
	zkc_ens_options_t o = ZKC_ENS_OPTIONS_INIT;

	(void)state;
	o.nodes = 3;
	o.distinct_addrs = 1;   /* server N on 127.0.0.(N+1), one shared port */
	return h_start_opts(&o);
}

static int teardown(void **state)
{
	harness_dnsmasq_stop(dns);
	dns = NULL;
	return h_teardown(state);
}

static int current_is(zkc_t *zk, const char *want)
{
	char *cur = NULL;
	int same;

	if (zkc_current_server(&cur, zk) != ZKC_OK)
		return 0;
	same = strcmp(cur, want) == 0;
	zkc_free(cur);
	return same;
}

static int servers_are(zkc_t *zk, const char *want)
{
	char *s = NULL;
	int same;

	if (zkc_servers(&s, zk) != ZKC_OK)
		return 0;
	same = strcmp(s, want) == 0;
	zkc_free(s);
	return same;
}

static void test_session_follows_a_name_to_a_new_address(void **state)
{
	char hosts[256], url[256], first[64], second[64];
	h_events_t *log = h_events_new();
	int port = h_node_port(0), rc;
	int64_t sid0 = 0, sid1 = 0;
	zkc_t *zk;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	assert_string_not_equal(h_node_host(0), h_node_host(1));
	snprintf(first, sizeof(first), "%s:%d", h_node_host(0), port);
	snprintf(second, sizeof(second), "%s:%d", h_node_host(1), port);
	snprintf(hosts, sizeof(hosts), "%s zk.%s\n", h_node_host(0), HARNESS_DNSMASQ_DOMAIN);
	rc = harness_dnsmasq_start(&dns, hosts, NULL);
	if (rc == 1)
		skip();
	assert_int_equal(rc, 0);
	snprintf(url, sizeof(url), "zk+dns://zk.%s:%d?dns_server=%s:%d&dns_interval=200ms",
	         HARNESS_DNSMASQ_DOMAIN, port, harness_dnsmasq_ip(dns), harness_dnsmasq_port(dns));

	zk = h_open(url, NULL);
	assert_int_equal(zkc_listener_add(NULL, zk, h_events_state, log), ZKC_OK);
	assert_int_equal(zkc_session(&sid0, NULL, NULL, zk), ZKC_OK);
	assert_true(servers_are(zk, first));
	assert_true(current_is(zk, first));

	/* The name moves (a rescheduled pod with a new IP). */
	snprintf(hosts, sizeof(hosts), "%s zk.%s\n", h_node_host(1), HARNESS_DNSMASQ_DOMAIN);
	assert_int_equal(harness_dnsmasq_set_hosts(dns, hosts), 0);
	H_WAIT_UNTIL(servers_are(zk, second), H_TIMEOUT_MS);
	H_WAIT_UNTIL(current_is(zk, second), H_TIMEOUT_MS);

	/* The old address dies; the session does not notice. */
	assert_int_equal(h_kill(0), 0);
	{
		char *p = h_path("followed");

		assert_int_equal(zkc_create(NULL, NULL, zk, p, "y", 1, NULL), ZKC_OK);
		free(p);
	}
	assert_int_equal(zkc_session(&sid1, NULL, NULL, zk), ZKC_OK);
	assert_true(sid0 == sid1);
	assert_true(current_is(zk, second));
	assert_int_equal(h_events_find(log, 0, ZKC_EVENT_STATE, ZKC_STATE_LOST), -1);
	print_message("# dns follow: session 0x%llx moved %s -> %s\n", (unsigned long long)sid1,
	              first, second);
	zkc_close(zk);
	h_events_free(log);
}

typedef struct writer {
	zkc_t *zk;
	const char *dir;
	int stop;           /* atomic */
	int ok, unknown, other, last_other;
	int done;           /* creates answered ZKC_OK: w-0 .. w-(done-1) */
	char okmap[20000];
} writer_t;

/* Creates w-0, w-1, ... as fast as answers come, so that requests are in
 * flight whenever the session moves. */
static void *write_loop(void *arg)
{
	writer_t *w = arg;
	int i;

	for (i = 0; i < (int)sizeof(w->okmap) && !__atomic_load_n(&w->stop, __ATOMIC_SEQ_CST);
	     i++) {
		char p[256];
		int rc;

		snprintf(p, sizeof(p), "%s/w-%d", w->dir, i);
		rc = zkc_create(NULL, NULL, w->zk, p, "v", 1, NULL);
		if (rc == ZKC_OK) {
			w->ok++;
			w->okmap[i] = 1;
		} else if (rc == ZKC_EUNKNOWN) {
			w->unknown++;
		} else {
			w->other++;
			w->last_other = rc;
		}
	}
	w->done = i;
	return NULL;
}

/* libzookeeper's zoo_set_servers closes the connection under requests in
 * flight, which later fail with ZRUNTIMEINCONSISTENCY ("unexpected server
 * response"); zkc must settle them as lost replies: each create ends
 * ZKC_OK (and exists) or ZKC_EUNKNOWN, never another code. */
static void test_writes_in_flight_while_the_session_moves(void **state)
{
	char hosts[256], url[256];
	int port = h_node_port(0), rc, moves = 0, i, missing = 0;
	int64_t sid0 = 0, sid1 = 0;
	writer_t *w = calloc(1, sizeof(*w));
	pthread_t th;
	char *dir = h_path("inflight");
	zkc_t *zk;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	assert_non_null(w);
	assert_int_equal(h_restart(0), 0);      /* the first test killed it */
	snprintf(hosts, sizeof(hosts), "%s zk.%s\n", h_node_host(1), HARNESS_DNSMASQ_DOMAIN);
	if (!dns) {
		rc = harness_dnsmasq_start(&dns, hosts, NULL);
		if (rc == 1)
			skip();
		assert_int_equal(rc, 0);
	} else {
		assert_int_equal(harness_dnsmasq_set_hosts(dns, hosts), 0);
	}
	snprintf(url, sizeof(url), "zk+dns://zk.%s:%d?dns_server=%s:%d&dns_interval=100ms",
	         HARNESS_DNSMASQ_DOMAIN, port, harness_dnsmasq_ip(dns), harness_dnsmasq_port(dns));
	zk = h_open(url, NULL);
	assert_int_equal(zkc_create(NULL, NULL, zk, dir, NULL, 0, NULL), ZKC_OK);
	assert_int_equal(zkc_session(&sid0, NULL, NULL, zk), ZKC_OK);
	w->zk = zk;
	w->dir = dir;
	assert_int_equal(pthread_create(&th, NULL, write_loop, w), 0);
	/* back and forth between servers 1 and 2 (0 stays out of it) */
	for (moves = 0; moves < 6; moves++) {
		char want[64];
		int to = moves % 2 == 0 ? 2 : 1;

		snprintf(want, sizeof(want), "%s:%d", h_node_host(to), port);
		snprintf(hosts, sizeof(hosts), "%s zk.%s\n", h_node_host(to), HARNESS_DNSMASQ_DOMAIN);
		assert_int_equal(harness_dnsmasq_set_hosts(dns, hosts), 0);
		H_WAIT_UNTIL(current_is(zk, want), H_TIMEOUT_MS);
	}
	__atomic_store_n(&w->stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(th, NULL);
	print_message("# %d moves under load: %d creates ok, %d unknown, %d other (last %s)\n",
	              moves, w->ok, w->unknown, w->other,
	              w->other ? zkc_strcode(w->last_other) : "-");
	assert_int_equal(w->other, 0);
	assert_true(w->ok > 0);
	assert_int_equal(zkc_sync(zk, dir), ZKC_OK);
	for (i = 0; i < w->done; i++) {
		char p[256];

		snprintf(p, sizeof(p), "%s/w-%d", dir, i);
		if (w->okmap[i] && zkc_exists(NULL, zk, p) != ZKC_OK)
			missing++;
	}
	assert_int_equal(missing, 0);
	assert_int_equal(zkc_session(&sid1, NULL, NULL, zk), ZKC_OK);
	assert_true(sid0 == sid1);
	zkc_delete(zk, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	free(dir);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_follows_a_name_to_a_new_address),
		cmocka_unit_test(test_writes_in_flight_while_the_session_moves),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
