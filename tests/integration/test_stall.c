/* tests/integration/test_stall.c - a server that sits on answered requests
 * until the client's next packet (ZooKeeper 3.8.0's CommitProcessor,
 * ZOOKEEPER-4537) must cost a call a stall nudge, never a heartbeat period:
 * made to happen on demand by the fault proxy, and watched for on a real
 * follower over many lock cycles. Sessions are 60 s long, so a call that
 * waits for the heartbeat (a sixth of that) fails the per-call deadline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "proxy.h"

#define SESSION_MS 60000
#define CALL_DEADLINE_MS 3000    /* far above a round trip, far below 10 s */
#define REAL_CYCLES 20000
#define REAL_BUDGET_MS 25000     /* as many cycles as fit, up to REAL_CYCLES */

/* The per-call deadline: scaled for slow phases, but always well under the
 * heartbeat period of the session, or the test could not tell a nudge from
 * a heartbeat. */
static int64_t call_deadline(zkc_t *zk)
{
	int timeout = 0;
	int64_t d = h_timeout(CALL_DEADLINE_MS), heartbeat;

	assert_int_equal(zkc_session(NULL, NULL, &timeout, zk), ZKC_OK);
	heartbeat = timeout / 6;
	print_message("# negotiated session timeout %d ms: heartbeat every %lld ms\n", timeout,
	              (long long)heartbeat);
	assert_true(heartbeat >= 2 * CALL_DEADLINE_MS);
	return d < heartbeat / 2 ? d : heartbeat / 2;
}

static zkc_t *open_long(const char *hostport)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	char url[256];

	o.session_timeout_ms = SESSION_MS;
	snprintf(url, sizeof(url), "zk://%s", hostport);
	return h_open(url, &o);
}

#define TIMED(deadline, expr) \
	do { \
		int64_t t0_ = h_now_ms(); \
		int rc_ = (expr); \
		int64_t took_ = h_now_ms() - t0_; \
		if (rc_ != ZKC_OK || took_ > (deadline)) \
			fail_msg("%s: %s after %lld ms (deadline %lld ms)", #expr, zkc_strcode(rc_), \
			         (long long)took_, (long long)(deadline)); \
	} while (0)

static void test_lock_cycles_finish_when_the_server_sits_on_replies(void **state)
{
	h_proxy_t *px = NULL;
	h_proxy_stats_t st;
	zkc_lock_t *lk = NULL;
	char hp[64], *dir = h_path("lock");
	int64_t deadline;
	zkc_t *zk;
	int i;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	assert_int_equal(h_proxy_to_node(&px, 0), 0);
	snprintf(hp, sizeof(hp), "127.0.0.1:%d", h_proxy_port(px));
	zk = open_long(hp);
	deadline = call_deadline(zk);
	assert_int_equal(zkc_lock_open(&lk, zk, dir, NULL), ZKC_OK);
	/* every 5th request: the lock's create, its pipelined getChildren and
	 * the background delete of a release each get their turn */
	h_proxy_hold_replies(px, 5);
	for (i = 0; i < 100; i++) {
		zkc_lock_lease_t lease;

		TIMED(deadline, zkc_lock_acquire(&lease, lk, (int)deadline));
		TIMED(deadline, zkc_lock_release(lk, 0));
	}
	/* the last background delete's reply may be the one held: a read
	 * after it shows it done */
	TIMED(deadline, zkc_exists(NULL, zk, dir));
	h_proxy_hold_replies(px, 0);
	h_proxy_stats(&st, px);
	print_message("# %llu replies held, %llu released by the client's next packet\n",
	              (unsigned long long)st.held, (unsigned long long)st.released);
	assert_true(st.held >= 40);
	assert_true(st.released + 1 >= st.held);
	zkc_lock_close(lk);
	zkc_delete(zk, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	h_proxy_free(px);
	free(dir);
}

static void batch_done(zkc_t *zk, const zkc_batch_t *b, void *payload)
{
	int *done = payload;

	(void)zk;
	*done = zkc_batch_code(b, 0) == ZKC_OK ? 1 : -1;
}

/* Every other way a request leaves one thread and completes on another:
 * plain calls, a pipelined batch, a background batch, a multi, the counter
 * and the queue. */
static void test_every_request_path_finishes_when_the_server_sits_on_replies(void **state)
{
	h_proxy_t *px = NULL;
	h_proxy_stats_t st;
	char hp[64], *dir = h_path("paths"), *node, *cpath, *qpath;
	zkc_counter_t *ctr = NULL;
	zkc_queue_t *q = NULL;
	zkc_queue_options_t qo = ZKC_QUEUE_OPTIONS_INIT;
	int64_t deadline;
	zkc_t *zk;
	int i;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	assert_int_equal(h_proxy_to_node(&px, 0), 0);
	snprintf(hp, sizeof(hp), "127.0.0.1:%d", h_proxy_port(px));
	zk = open_long(hp);
	deadline = call_deadline(zk);
	node = h_join(dir, "n");
	cpath = h_join(dir, "ctr");
	qpath = h_join(dir, "q");
	{
		zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;

		co.flags = ZKC_CREATE_PARENTS;
		assert_int_equal(zkc_create(NULL, NULL, zk, node, "x", 1, &co), ZKC_OK);
	}
	assert_int_equal(zkc_counter_open(&ctr, zk, cpath, NULL), ZKC_OK);
	qo.flags = ZKC_QUEUE_CREATE;
	assert_int_equal(zkc_queue_open(&q, zk, qpath, &qo), ZKC_OK);
	h_proxy_hold_replies(px, 3);
	for (i = 0; i < 12; i++) {
		zkc_batch_t *b = NULL;
		zkc_multi_t *m = NULL;
		zkc_queue_item_t *item = NULL;
		char *data = NULL;
		size_t len = 0;
		int64_t v = 0, t0;
		int done = 0;

		TIMED(deadline, zkc_set(NULL, zk, node, "y", 1, -1));
		TIMED(deadline, zkc_get(&data, &len, NULL, zk, node));
		zkc_free(data);
		TIMED(deadline, zkc_exists(NULL, zk, node));

		assert_int_equal(zkc_batch_new(&b), ZKC_OK);
		assert_true(zkc_batch_get(b, node, 0, NULL, NULL) >= 0);
		assert_true(zkc_batch_children(b, dir, 0, NULL, NULL) >= 0);
		TIMED(deadline, zkc_batch_run(zk, b));
		assert_int_equal(zkc_batch_code(b, 0), ZKC_OK);
		assert_int_equal(zkc_batch_code(b, 1), ZKC_OK);
		zkc_batch_free(b);

		/* a background batch: nobody waits in a call for it */
		assert_int_equal(zkc_batch_new(&b), ZKC_OK);
		assert_true(zkc_batch_set(b, node, "z", 1, -1) >= 0);
		t0 = h_now_ms();
		assert_int_equal(zkc_batch_run_async(zk, b, batch_done, &done), ZKC_OK);
		while (__atomic_load_n(&done, __ATOMIC_SEQ_CST) == 0 && h_now_ms() - t0 <= deadline)
			h_backoff(0);
		if (__atomic_load_n(&done, __ATOMIC_SEQ_CST) != 1)
			fail_msg("background batch: %s after %lld ms", done ? "failed" : "no answer",
			         (long long)(h_now_ms() - t0));

		assert_int_equal(zkc_multi_new(&m), ZKC_OK);
		assert_int_equal(zkc_multi_set(m, node, "m", 1, -1), ZKC_OK);
		TIMED(deadline, zkc_multi_commit(NULL, zk, m));
		zkc_multi_free(m);

		TIMED(deadline, zkc_counter_add(&v, ctr, 1));
		assert_true(v == i + 1);

		TIMED(deadline, zkc_queue_put(NULL, q, "item", 4, 0));
		TIMED(deadline, zkc_queue_take(&item, q, ZKC_QUEUE_TAKE_DELETE, (int)deadline));
		zkc_queue_item_free(item);
	}
	h_proxy_hold_replies(px, 0);
	h_proxy_stats(&st, px);
	print_message("# %llu replies held, %llu released by the client's next packet\n",
	              (unsigned long long)st.held, (unsigned long long)st.released);
	assert_true(st.held >= 30);
	zkc_queue_close(q);
	zkc_counter_close(ctr);
	zkc_delete(zk, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	h_proxy_free(px);
	free(node);
	free(cpath);
	free(qpath);
	free(dir);
}

/* The real thing: lock cycles on a follower of a 3-node ensemble, whose
 * CommitProcessor (3.8.0) now and then sleeps on a waiting commit. Before
 * the nudge about one cycle in 6,000-15,000 waited for the heartbeat. */
static void test_lock_cycles_on_a_follower_never_wait_for_the_heartbeat(void **state)
{
	zkc_lock_t *lk = NULL;
	char hp[64], *dir = h_path("follower");
	int64_t deadline, start, worst = 0;
	int i, leader, node;
	zkc_t *zk;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	leader = h_leader();
	assert_true(leader >= 0);
	node = (leader + 1) % h_nodes();
	snprintf(hp, sizeof(hp), "%s:%d", h_node_host(node), h_node_port(node));
	zk = open_long(hp);
	deadline = call_deadline(zk);
	assert_int_equal(zkc_lock_open(&lk, zk, dir, NULL), ZKC_OK);
	start = h_now_ms();
	for (i = 0; i < REAL_CYCLES && h_now_ms() - start < REAL_BUDGET_MS; i++) {
		zkc_lock_lease_t lease;
		int64_t t0 = h_now_ms(), took;

		TIMED(deadline, zkc_lock_acquire(&lease, lk, (int)deadline));
		TIMED(deadline, zkc_lock_release(lk, 0));
		took = h_now_ms() - t0;
		worst = took > worst ? took : worst;
	}
	print_message("# %d cycles on follower %d in %lld ms, slowest %lld ms\n", i, node,
	              (long long)(h_now_ms() - start), (long long)worst);
	assert_true(i >= 1000);
	zkc_lock_close(lk);
	zkc_delete(zk, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_cycles_finish_when_the_server_sits_on_replies),
		cmocka_unit_test(test_every_request_path_finishes_when_the_server_sits_on_replies),
		cmocka_unit_test(test_lock_cycles_on_a_follower_never_wait_for_the_heartbeat),
	};

	return cmocka_run_group_tests_name("stall", tests, h_setup_3, h_teardown);
}
