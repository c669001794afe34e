/* tests/integration/test_cancel.c - cancellation tokens (zkc/cancel.h):
 * a fired token bound to a thread ends that thread's blocking calls soon,
 * and each call cleans up what it made (no contender node, no taken item). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static void test_token_fires_resets_and_binds_per_thread(void **state)
{
	zkc_cancel_t *a = NULL, *b = NULL;
	(void)state;

	assert_int_equal(zkc_cancel_new(NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_cancel_new(&a), ZKC_OK);
	assert_int_equal(zkc_cancel_new(&b), ZKC_OK);
	assert_null(zkc_cancel_bound());
	assert_int_equal(zkc_cancel_check(), ZKC_OK);
	assert_true(zkc_cancel_slice_ms(-1) == -1);
	assert_true(zkc_cancel_slice_ms(5000) == 5000);

	assert_null(zkc_cancel_bind(a));
	assert_true(zkc_cancel_bound() == a);
	assert_true(zkc_cancel_slice_ms(-1) == ZKC_CANCEL_POLL_MS);
	assert_true(zkc_cancel_slice_ms(5000) == ZKC_CANCEL_POLL_MS);
	assert_true(zkc_cancel_slice_ms(3) == 3);
	assert_int_equal(zkc_cancel_check(), ZKC_OK);
	zkc_cancel_fire(a);
	zkc_cancel_fire(a);
	assert_int_equal(zkc_cancel_fired(a), 1);
	assert_int_equal(zkc_cancel_fired(b), 0);
	assert_int_equal(zkc_cancel_check(), ZKC_ECANCELED);
	assert_int_equal(zkc_error_last()->code, ZKC_ECANCELED);

	/* nesting: the inner binding hides the outer one until restored */
	assert_true(zkc_cancel_bind(b) == a);
	assert_int_equal(zkc_cancel_check(), ZKC_OK);
	assert_true(zkc_cancel_bind(a) == b);
	assert_int_equal(zkc_cancel_check(), ZKC_ECANCELED);
	zkc_cancel_reset(a);
	assert_int_equal(zkc_cancel_check(), ZKC_OK);
	assert_true(zkc_cancel_bind(NULL) == a);
	zkc_cancel_fire(NULL);
	assert_int_equal(zkc_cancel_fired(NULL), 0);
	zkc_cancel_free(a);
	zkc_cancel_free(b);
	zkc_cancel_free(NULL);
}

/* A worker runs one blocking call with a token bound; the test fires it. */
typedef struct worker {
	pthread_t tid;
	zkc_cancel_t *tok;
	int (*call)(struct worker *w);
	void *arg, *arg2;
	int rc;
	int64_t ended_ms;
	int started, done;
	pthread_mutex_t mu;
} worker_t;

static void *worker_main(void *p)
{
	worker_t *w = p;
	int rc;

	zkc_cancel_bind(w->tok);
	pthread_mutex_lock(&w->mu);
	w->started = 1;
	pthread_mutex_unlock(&w->mu);
	rc = w->call(w);
	zkc_cancel_bind(NULL);
	pthread_mutex_lock(&w->mu);
	w->rc = rc;
	w->ended_ms = h_now_ms();
	w->done = 1;
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int worker_flag(worker_t *w, int *flag)
{
	int v;

	pthread_mutex_lock(&w->mu);
	v = *flag;
	pthread_mutex_unlock(&w->mu);
	return v;
}

static void worker_start(worker_t *w, int (*call)(worker_t *), void *arg, void *arg2)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->mu, NULL);
	w->call = call;
	w->arg = arg;
	w->arg2 = arg2;
	assert_int_equal(zkc_cancel_new(&w->tok), ZKC_OK);
	assert_int_equal(pthread_create(&w->tid, NULL, worker_main, w), 0);
	H_WAIT_UNTIL(worker_flag(w, &w->started), 10000);
}

/* Fires the token and returns the worker's code; fails unless the call
 * ended within a generous bound (it would otherwise block for minutes). */
static int worker_cancel(worker_t *w)
{
	int64_t t0 = h_now_ms();

	zkc_cancel_fire(w->tok);
	H_WAIT_UNTIL(worker_flag(w, &w->done), 10000);
	pthread_join(w->tid, NULL);
	print_message("# call ended %lld ms after the token fired\n",
	              (long long)(w->ended_ms - t0));
	zkc_cancel_free(w->tok);
	pthread_mutex_destroy(&w->mu);
	return w->rc;
}

static int count_children(zkc_t *zk, const char *dir)
{
	zkc_strings_t *c = NULL;
	int n;

	if (zkc_children(&c, NULL, zk, dir) != ZKC_OK)
		return -1;
	n = (int)c->count;
	zkc_strings_free(c);
	return n;
}

static int call_lock_forever(worker_t *w)
{
	return zkc_lock_acquire(NULL, w->arg, ZKC_LOCK_FOREVER);
}

static void test_canceled_lock_acquire_leaves_no_contender_node(void **state)
{
	char *dir = h_path("lock");
	zkc_t *zk = h_open(NULL, NULL), *zk2 = h_open(NULL, NULL);
	zkc_lock_t *holder = NULL, *waiter = NULL;
	worker_t w;
	(void)state;

	assert_int_equal(zkc_lock_open(&holder, zk, dir, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_open(&waiter, zk2, dir, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(NULL, holder, 5000), ZKC_OK);
	worker_start(&w, call_lock_forever, waiter, NULL);
	H_WAIT_UNTIL(count_children(zk, dir) == 2, 10000);
	assert_int_equal(worker_cancel(&w), ZKC_ECANCELED);
	H_WAIT_UNTIL(count_children(zk, dir) == 1, 10000);
	/* the handle is usable again: it gets the lock once it is free */
	assert_int_equal(zkc_lock_release(holder, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(NULL, waiter, 5000), ZKC_OK);
	zkc_lock_close(waiter);
	zkc_lock_close(holder);
	zkc_delete(zk, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk2);
	zkc_close(zk);
	free(dir);
}

static int call_take_forever(worker_t *w)
{
	zkc_queue_item_t *it = NULL;
	int rc = zkc_queue_take(&it, w->arg, ZKC_QUEUE_TAKE_ACK, -1);

	zkc_queue_item_free(it);
	return rc;
}

static void test_canceled_queue_take_takes_nothing(void **state)
{
	char *path = h_path("queue");
	zkc_t *zk = h_open(NULL, NULL);
	zkc_queue_options_t qo = ZKC_QUEUE_OPTIONS_INIT;
	zkc_queue_t *q = NULL;
	zkc_queue_item_t *it = NULL;
	size_t n = 9, taken = 9;
	worker_t w;
	(void)state;

	qo.flags = ZKC_QUEUE_CREATE;
	assert_int_equal(zkc_queue_open(&q, zk, path, &qo), ZKC_OK);
	worker_start(&w, call_take_forever, q, NULL);
	assert_int_equal(worker_cancel(&w), ZKC_ECANCELED);
	assert_int_equal(zkc_queue_size(&n, &taken, q), ZKC_OK);
	assert_true(n == 0 && taken == 0);
	/* an item put afterwards is there for the next take, untaken */
	assert_int_equal(zkc_queue_put(NULL, q, "x", 1, ZKC_QUEUE_PRIORITY_DEFAULT), ZKC_OK);
	assert_int_equal(zkc_queue_size(&n, &taken, q), ZKC_OK);
	assert_true(n == 1 && taken == 0);
	assert_int_equal(zkc_queue_take(&it, q, ZKC_QUEUE_TAKE_DELETE, 5000), ZKC_OK);
	assert_int_equal(memcmp(it->data, "x", 1), 0);
	zkc_queue_item_free(it);
	zkc_queue_close(q);
	zkc_delete(zk, path, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	free(path);
}

static int call_get(worker_t *w)
{
	char *data = NULL;
	int rc = zkc_get(&data, NULL, NULL, w->arg, "/zkc-cancel-get");

	zkc_free(data);
	return rc;
}

static int call_set(worker_t *w)
{
	return zkc_set(NULL, w->arg, "/zkc-cancel-set", "v", 1, -1);
}

/* No server: a read waits for a connection (up to its 30 s retry deadline)
 * unless canceled; an unsent write is canceled, not unknown. */
static void test_canceled_reads_and_unsent_writes_give_ecanceled(void **state)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_t *zk = NULL;
	worker_t w;
	(void)state;

	o.connect_timeout_ms = -1;  /* return at once, connect in background */
	assert_int_equal(zkc_open(&zk, "zk://127.0.0.1:1", &o), ZKC_OK);
	worker_start(&w, call_get, zk, NULL);
	assert_int_equal(worker_cancel(&w), ZKC_ECANCELED);
	worker_start(&w, call_set, zk, NULL);
	assert_int_equal(worker_cancel(&w), ZKC_ECANCELED);
	zkc_close(zk);
}

static int call_open(worker_t *w)
{
	zkc_t *zk = NULL;
	zkc_options_t o = ZKC_OPTIONS_INIT;
	int rc;

	o.connect_timeout_ms = 120000;
	rc = zkc_open(&zk, "zk://127.0.0.1:1", &o);
	if (zk)
		zkc_close(zk);
	return rc == ZKC_OK ? -99999 : rc;
}

static void test_canceled_open_stops_waiting_for_the_first_session(void **state)
{
	worker_t w;
	(void)state;

	worker_start(&w, call_open, NULL, NULL);
	assert_int_equal(worker_cancel(&w), ZKC_ECANCELED);
}

static int call_await(worker_t *w)
{
	return zkc_election_await(NULL, w->arg, -1);
}

static void test_canceled_election_await_returns(void **state)
{
	char *path = h_path("elect");
	zkc_t *zk = h_open(NULL, NULL), *zk2 = h_open(NULL, NULL);
	zkc_election_t *leader = NULL, *other = NULL;
	worker_t w;
	(void)state;

	assert_int_equal(zkc_election_open(&leader, zk, path, NULL), ZKC_OK);
	assert_int_equal(zkc_election_join(leader), ZKC_OK);
	assert_int_equal(zkc_election_await(NULL, leader, 10000), ZKC_OK);
	assert_int_equal(zkc_election_open(&other, zk2, path, NULL), ZKC_OK);
	assert_int_equal(zkc_election_join(other), ZKC_OK);
	worker_start(&w, call_await, other, NULL);
	assert_int_equal(worker_cancel(&w), ZKC_ECANCELED);
	assert_int_equal(zkc_election_is_leader(NULL, leader), 1);
	zkc_election_close(other);
	zkc_election_close(leader);
	zkc_delete(zk, path, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk2);
	zkc_close(zk);
	free(path);
}

static int call_enter(worker_t *w)
{
	return zkc_double_barrier_enter(w->arg, -1);
}

static void test_canceled_double_barrier_enter_removes_its_node(void **state)
{
	char *path = h_path("dbarrier");
	zkc_t *zk = h_open(NULL, NULL);
	zkc_double_barrier_t *b = NULL;
	worker_t w;
	(void)state;

	assert_int_equal(zkc_double_barrier_open(&b, zk, path, 2, "solo"), ZKC_OK);
	worker_start(&w, call_enter, b, NULL);
	H_WAIT_UNTIL(count_children(zk, path) == 1, 10000);
	assert_int_equal(worker_cancel(&w), ZKC_ECANCELED);
	assert_int_equal(count_children(zk, path), 0);
	zkc_double_barrier_close(b);
	zkc_delete(zk, path, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_fires_resets_and_binds_per_thread),
		cmocka_unit_test(test_canceled_lock_acquire_leaves_no_contender_node),
		cmocka_unit_test(test_canceled_queue_take_takes_nothing),
		cmocka_unit_test(test_canceled_reads_and_unsent_writes_give_ecanceled),
		cmocka_unit_test(test_canceled_open_stops_waiting_for_the_first_session),
		cmocka_unit_test(test_canceled_election_await_returns),
		cmocka_unit_test(test_canceled_double_barrier_enter_removes_its_node),
	};

	return cmocka_run_group_tests(tests, h_setup_shared, h_teardown);
}
