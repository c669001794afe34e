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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_follows_a_name_to_a_new_address),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
