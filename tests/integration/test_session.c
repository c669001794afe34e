/* tests/integration/test_session.c - the session state machine under real
 * faults on a 3-node ensemble: forced expiry, a stopped server, a network
 * partition, a cut connection and a lost reply. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

/* Index of the node the client is connected to, or -1. */
static int connected_node(zkc_t *zk)
{
	char *cur = NULL;
	int i, node = -1;

	if (zkc_current_server(&cur, zk) != ZKC_OK)
		return -1;
	for (i = 0; i < h_nodes(); i++) {
		char want[64];

		snprintf(want, sizeof(want), "%s:%d", h_node_host(i), h_node_port(i));
		if (strcmp(cur, want) == 0)
			node = i;
	}
	zkc_free(cur);
	return node;
}

static int64_t session_of(zkc_t *zk)
{
	int64_t sid = 0;

	return zkc_session(&sid, NULL, NULL, zk) == ZKC_OK ? sid : 0;
}

/* ------------------------------------------------------------ forced expiry */

typedef struct watch_end {
	pthread_mutex_t mu;
	int type;
} watch_end_t;

static void on_watch(zkc_t *zk, const zkc_event_t *ev, void *payload)
{
	watch_end_t *w = payload;

	(void)zk;
	pthread_mutex_lock(&w->mu);
	w->type = ev->type;
	pthread_mutex_unlock(&w->mu);
}

static int watch_ended(void *arg)
{
	watch_end_t *w = arg;
	int t;

	pthread_mutex_lock(&w->mu);
	t = w->type;
	pthread_mutex_unlock(&w->mu);
	return t != 0;
}

static void test_expiry_gives_lost_then_a_new_session_and_the_pnode_returns(void **state)
{
	h_events_t *log = h_events_new();
	char *base = h_path("expiry"), *pn = h_join(base, "member"), *eph = h_join(base, "plain");
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	watch_end_t w = { PTHREAD_MUTEX_INITIALIZER, 0 };
	zkc_pnode_t *node = NULL;
	zkc_stat_t st;
	int64_t sid0, sid1;
	int id, lost, conn;
	zkc_t *zk, *other;
	char *actual = NULL;
	(void)state;

	zk = h_open(NULL, NULL);
	other = h_open(NULL, NULL);
	assert_int_equal(zkc_listener_add(&id, zk, h_events_state, log), ZKC_OK);
	sid0 = session_of(zk);
	assert_int_equal(zkc_create(NULL, NULL, zk, base, NULL, 0, NULL), ZKC_OK);
	assert_int_equal(zkc_pnode_open(&node, zk, pn, "me", 2, ZKC_EPHEMERAL), ZKC_OK);
	co.mode = ZKC_EPHEMERAL;
	assert_int_equal(zkc_create(NULL, NULL, zk, eph, NULL, 0, &co), ZKC_OK);
	assert_int_equal(zkc_exists_w(NULL, zk, eph, on_watch, &w), ZKC_OK);

	assert_int_equal(zkc_testing_expire_session(zk, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	H_WAIT_UNTIL((lost = h_events_find(log, 0, ZKC_EVENT_STATE, ZKC_STATE_LOST)) >= 0,
	             H_TIMEOUT_MS);
	H_WAIT_UNTIL((conn = h_events_find(log, lost, ZKC_EVENT_STATE, ZKC_STATE_CONNECTED)) > lost,
	             H_TIMEOUT_MS);
	sid1 = h_events_session(log, conn);
	assert_true(sid1 != 0 && sid1 != sid0);
	assert_true(h_events_session(log, lost) == sid0);

	/* The watch of the old session was ended, once, and said why. */
	assert_int_equal(h_wait_until(watch_ended, &w, H_TIMEOUT_MS), 0);
	assert_true(w.type == ZKC_EVENT_WATCH_CANCELLED || w.type == ZKC_EVENT_DELETED);

	/* The plain ephemeral went with the session; the pnode came back. */
	H_WAIT_UNTIL(zkc_exists(NULL, other, eph) == ZKC_ENONODE, H_TIMEOUT_MS);
	assert_int_equal(zkc_pnode_wait(node, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	/* other may sit on another server: catch it up before reading. */
	assert_int_equal(zkc_sync(other, pn), ZKC_OK);
	assert_int_equal(zkc_exists(&st, other, pn), ZKC_OK);
	assert_true(st.ephemeral_owner == sid1);

	/* Operations work on the new session. */
	assert_int_equal(zkc_exists(NULL, zk, base), ZKC_OK);
	/* delete waits for the delete and reports; a second one has nothing
	 * left to do, and close after it sends nothing */
	assert_int_equal(zkc_pnode_delete(node), ZKC_OK);
	assert_int_equal(zkc_sync(other, pn), ZKC_OK);
	assert_int_equal(zkc_exists(NULL, other, pn), ZKC_ENONODE);
	assert_int_equal(zkc_pnode_delete(node), ZKC_OK);
	assert_int_equal(zkc_pnode_path(&actual, node), ZKC_ENONODE);
	zkc_pnode_close(node);
	/* close alone gives the node up in the background */
	assert_int_equal(zkc_pnode_open(&node, zk, pn, "again", 5, ZKC_EPHEMERAL), ZKC_OK);
	assert_int_equal(zkc_sync(other, pn), ZKC_OK);
	assert_int_equal(zkc_exists(NULL, other, pn), ZKC_OK);
	zkc_pnode_close(node);
	H_WAIT_UNTIL(zkc_exists(NULL, other, pn) == ZKC_ENONODE, H_TIMEOUT_MS);
	assert_int_equal(zkc_listener_remove(zk, id), ZKC_OK);
	zkc_delete(other, base, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	zkc_close(other);
	h_events_free(log);
	free(base);
	free(pn);
	free(eph);
}

static void test_digest_auth_is_applied_again_on_a_new_session(void **state)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	h_events_t *log = h_events_new();
	char *p = h_path("reauth"), *data = NULL;
	int lost;
	zkc_t *zk;
	(void)state;

	o.digest = "carol:pw";
	zk = h_open(NULL, &o);
	assert_int_equal(zkc_listener_add(NULL, zk, h_events_state, log), ZKC_OK);
	co.acl = zkc_acl_creator_all();
	assert_int_equal(zkc_create(NULL, NULL, zk, p, "mine", 4, &co), ZKC_OK);
	assert_int_equal(zkc_testing_expire_session(zk, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	H_WAIT_UNTIL((lost = h_events_find(log, 0, ZKC_EVENT_STATE, ZKC_STATE_LOST)) >= 0,
	             H_TIMEOUT_MS);
	H_WAIT_UNTIL(h_events_find(log, lost, ZKC_EVENT_STATE, ZKC_STATE_CONNECTED) > lost,
	             H_TIMEOUT_MS);
	/* Only the digest identity may read it: the new session has it too. */
	assert_int_equal(zkc_get(&data, NULL, NULL, zk, p), ZKC_OK);
	assert_string_equal(data, "mine");
	zkc_free(data);
	assert_int_equal(zkc_delete(zk, p, -1, 0), ZKC_OK);
	zkc_close(zk);
	h_events_free(log);
	free(p);
}

/* ------------------------------------------------------------ lost before deleted */

/* At LOST, the node of the old session must still exist on the server:
 * the client gave up before the ensemble could hand its locks to others. */
typedef struct lost_probe {
	pthread_mutex_t mu;
	zkc_t *other;
	const char *path;
	int lost_seen;
	int node_rc_at_lost;
	int probed;
} lost_probe_t;

static void probe_state(zkc_t *zk, int state, int64_t sid, void *payload)
{
	lost_probe_t *p = payload;

	(void)zk;
	(void)sid;
	if (state != ZKC_STATE_LOST)
		return;
	int first, rc;

	pthread_mutex_lock(&p->mu);
	first = !p->lost_seen;
	p->lost_seen = 1;
	pthread_mutex_unlock(&p->mu);
	if (!first)
		return;
	/* the read runs without the lock, so the test's polling never waits
	 * behind it */
	rc = zkc_exists(NULL, p->other, p->path);
	if (rc != ZKC_OK)
		print_message("# at LOST the other client read %s: %s\n", zkc_strcode(rc),
		              zkc_error_last()->message);
	pthread_mutex_lock(&p->mu);
	p->node_rc_at_lost = rc;
	p->probed = 1;
	pthread_mutex_unlock(&p->mu);
}

static int probe_done(void *arg)
{
	lost_probe_t *p = arg;
	int r;

	pthread_mutex_lock(&p->mu);
	r = p->probed;
	pthread_mutex_unlock(&p->mu);
	return r;
}

static void test_stopped_server_gives_lost_before_the_server_deletes_the_node(void **state)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	h_events_t *log = h_events_new();
	char *p = h_path("stopped");
	lost_probe_t probe = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, 1, 0 };
	int node, id, susp, lost, conn;
	int64_t sid0;
	zkc_t *zk;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	o.session_timeout_ms = 4000;
	zk = h_open(NULL, &o);
	probe.other = h_open(NULL, NULL);
	probe.path = p;
	sid0 = session_of(zk);
	co.mode = ZKC_EPHEMERAL;
	assert_int_equal(zkc_create(NULL, NULL, zk, p, NULL, 0, &co), ZKC_OK);
	/* other reads from another server: make it see the node before. */
	assert_int_equal(zkc_sync(probe.other, p), ZKC_OK);
	assert_int_equal(zkc_listener_add(&id, zk, h_events_state, log), ZKC_OK);
	assert_int_equal(zkc_listener_add(NULL, zk, probe_state, &probe), ZKC_OK);
	node = connected_node(zk);
	assert_true(node >= 0);
	/* The other client must not depend on the stopped server. */
	while (connected_node(probe.other) == node) {
		zkc_close(probe.other);
		probe.other = h_open(NULL, NULL);
	}
	assert_int_equal(h_stop(node), 0);

	assert_int_equal(h_wait_until(probe_done, &probe, H_TIMEOUT_MS), 0);
	assert_int_equal(probe.node_rc_at_lost, ZKC_OK);
	susp = h_events_find(log, 0, ZKC_EVENT_STATE, ZKC_STATE_SUSPENDED);
	lost = h_events_find(log, 0, ZKC_EVENT_STATE, ZKC_STATE_LOST);
	assert_true(susp >= 0 && lost > susp);
	H_WAIT_UNTIL((conn = h_events_find(log, lost, ZKC_EVENT_STATE, ZKC_STATE_CONNECTED)) > lost,
	             H_TIMEOUT_MS);
	assert_true(h_events_session(log, conn) != sid0);
	assert_true(connected_node(zk) != node);
	/* The server ends the old session in its own time. */
	H_WAIT_UNTIL(zkc_exists(NULL, probe.other, p) == ZKC_ENONODE, H_TIMEOUT_MS);
	assert_int_equal(h_cont(node), 0);
	assert_int_equal(h_wait_quorum(), 0);
	zkc_close(zk);
	zkc_close(probe.other);
	h_events_free(log);
	free(p);
}

static void test_partition_gives_lost_before_the_server_deletes_the_node(void **state)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	h_events_t *log = h_events_new();
	char *p = h_path("partition"), url[128];
	lost_probe_t probe = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, 1, 0 };
	h_proxy_t *px = NULL;
	int64_t sid0;
	int conn, lost;
	zkc_t *zk;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	assert_int_equal(h_proxy_to_node(&px, 0), 0);
	snprintf(url, sizeof(url), "zk://127.0.0.1:%d", h_proxy_port(px));
	o.session_timeout_ms = 4000;
	zk = h_open(url, &o);
	probe.other = h_open(NULL, NULL);
	probe.path = p;
	sid0 = session_of(zk);
	co.mode = ZKC_EPHEMERAL;
	assert_int_equal(zkc_create(NULL, NULL, zk, p, NULL, 0, &co), ZKC_OK);
	assert_int_equal(zkc_sync(probe.other, p), ZKC_OK);
	assert_int_equal(zkc_listener_add(NULL, zk, h_events_state, log), ZKC_OK);
	assert_int_equal(zkc_listener_add(NULL, zk, probe_state, &probe), ZKC_OK);

	h_proxy_blackhole(px, 1);
	assert_int_equal(h_wait_until(probe_done, &probe, H_TIMEOUT_MS), 0);
	assert_int_equal(probe.node_rc_at_lost, ZKC_OK);
	lost = h_events_find(log, 0, ZKC_EVENT_STATE, ZKC_STATE_LOST);
	assert_true(h_events_find(log, 0, ZKC_EVENT_STATE, ZKC_STATE_SUSPENDED) < lost);
	H_WAIT_UNTIL(zkc_exists(NULL, probe.other, p) == ZKC_ENONODE, H_TIMEOUT_MS);

	/* The partition heals: a new session through the same proxy. */
	h_proxy_blackhole(px, 0);
	h_proxy_cut(px);
	H_WAIT_UNTIL((conn = h_events_find(log, lost, ZKC_EVENT_STATE, ZKC_STATE_CONNECTED)) > lost,
	             H_TIMEOUT_MS);
	assert_true(h_events_session(log, conn) != sid0);
	assert_int_equal(zkc_exists(NULL, zk, "/"), ZKC_OK);
	zkc_close(zk);
	zkc_close(probe.other);
	h_proxy_free(px);
	h_events_free(log);
	free(p);
}

/* ------------------------------------------------------------ cut connection */

static void test_cut_connection_suspends_and_reconnects_the_same_session(void **state)
{
	h_events_t *log = h_events_new();
	h_proxy_t *px = NULL;
	char url[128];
	int64_t sid0;
	int susp, rec;
	zkc_t *zk;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	assert_int_equal(h_proxy_to_node(&px, 1), 0);
	snprintf(url, sizeof(url), "zk://127.0.0.1:%d", h_proxy_port(px));
	zk = h_open(url, NULL);
	sid0 = session_of(zk);
	assert_int_equal(zkc_listener_add(NULL, zk, h_events_state, log), ZKC_OK);
	h_proxy_cut(px);
	H_WAIT_UNTIL((susp = h_events_find(log, 0, ZKC_EVENT_STATE, ZKC_STATE_SUSPENDED)) >= 0,
	             H_TIMEOUT_MS);
	H_WAIT_UNTIL((rec = h_events_find(log, susp, ZKC_EVENT_STATE, ZKC_STATE_RECONNECTED)) > susp,
	             H_TIMEOUT_MS);
	assert_true(h_events_session(log, rec) == sid0);
	assert_int_equal(h_events_find(log, 0, ZKC_EVENT_STATE, ZKC_STATE_LOST), -1);
	assert_true(session_of(zk) == sid0);
	assert_int_equal(zkc_exists(NULL, zk, "/"), ZKC_OK);
	zkc_close(zk);
	h_proxy_free(px);
	h_events_free(log);
}

/* ------------------------------------------------------------ lost reply */

static int count_prefixed(zkc_t *zk, const char *parent, const char *needle)
{
	zkc_strings_t *kids = NULL;
	size_t i;
	int n = 0;

	/* zk may sit on another server than the writer: catch it up first */
	if (zkc_sync(zk, parent) != ZKC_OK)
		return -1;
	if (zkc_children(&kids, NULL, zk, parent) != ZKC_OK)
		return -1;
	for (i = 0; i < kids->count; i++)
		if (strstr(kids->items[i], needle))
			n++;
	zkc_strings_free(kids);
	return n;
}

static void test_protected_create_after_a_lost_reply_leaves_exactly_one_node(void **state)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	char *base = h_path("protect"), *item, *got = NULL, url[128];
	h_proxy_stats_t ps;
	h_proxy_t *px = NULL;
	zkc_t *zk, *other;
	int rc;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	assert_int_equal(h_proxy_to_node(&px, 2), 0);
	snprintf(url, sizeof(url), "zk://127.0.0.1:%d", h_proxy_port(px));
	/* A long timeout keeps the heartbeat (timeout/6) out of the way. */
	o.session_timeout_ms = 30000;
	zk = h_open(url, &o);
	other = h_open(NULL, NULL);
	assert_int_equal(zkc_create(NULL, NULL, other, base, NULL, 0, NULL), ZKC_OK);
	item = h_join(base, "job-");
	co.mode = ZKC_EPHEMERAL_SEQUENTIAL;
	co.flags = ZKC_CREATE_PROTECTED;

	h_proxy_lose_next_reply(px);
	rc = zkc_create(&got, NULL, zk, item, "p", 1, &co);
	assert_int_equal(rc, ZKC_OK);
	h_proxy_stats(&ps, px);
	assert_true(ps.replies_lost >= 1);
	assert_non_null(strstr(got, "_c_"));
	assert_int_equal(count_prefixed(other, base, "job-"), 1);
	assert_int_equal(zkc_exists(NULL, other, got), ZKC_OK);
	zkc_free(got);
	got = NULL;

	/* Without protection the same fault cannot be retried safely. */
	co.flags = 0;
	co.mode = ZKC_PERSISTENT_SEQUENTIAL;
	h_proxy_lose_next_reply(px);
	rc = zkc_create(&got, NULL, zk, item, "u", 1, &co);
	assert_int_equal(rc, ZKC_EUNKNOWN);
	assert_null(got);
	assert_int_equal(count_prefixed(other, base, "job-"), 2);

	zkc_close(zk);
	zkc_delete(other, base, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(other);
	h_proxy_free(px);
	free(item);
	free(base);
}

/* After each test: every node runs again and a quorum serves, so a test
 * that failed with a node stopped does not take the next ones down. */
static int heal(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < h_nodes(); i++) {
		zkc_ens_node_status_t st;

		if (zkc_ens_status(&st, h_ens(), i) != ZKC_OK)
			return -1;
		if (st.state == ZKC_ENS_STOPPED && h_cont(i) != 0)
			return -1;
		if (st.state == ZKC_ENS_DEAD && h_restart(i) != 0)
			return -1;
	}
	return h_nodes() ? h_wait_quorum() : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_expiry_gives_lost_then_a_new_session_and_the_pnode_returns, heal),
		cmocka_unit_test_teardown(test_digest_auth_is_applied_again_on_a_new_session, heal),
		cmocka_unit_test_teardown(test_stopped_server_gives_lost_before_the_server_deletes_the_node, heal),
		cmocka_unit_test_teardown(test_partition_gives_lost_before_the_server_deletes_the_node, heal),
		cmocka_unit_test_teardown(test_cut_connection_suspends_and_reconnects_the_same_session, heal),
		cmocka_unit_test_teardown(test_protected_create_after_a_lost_reply_leaves_exactly_one_node, heal),
	};

	return cmocka_run_group_tests(tests, h_setup_3, h_teardown);
}
