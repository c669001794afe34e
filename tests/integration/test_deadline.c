/* tests/integration/test_deadline.c - a call's timeout bounds every request
 * it makes. The client's retry deadline is set to 60 s and every server of
 * a 3-node ensemble is frozen (SIGSTOP): a lock acquire, a semaphore
 * acquire and a queue take with a 2 s timeout return ZKC_ETIMEDOUT soon
 * after 2 s, far below the retry deadline; once the servers run again, no
 * node of theirs is left and the recipe works. A deadline bound to the
 * thread (zkc_deadline_bind) ends plain reads and writes the same way. A
 * try (timeout 0) ends after ZKC_TRY_DEADLINE_MS, or by the deadline bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

#define TIMEOUT_MS 2000
/* The timeout plus a generous margin for this loaded machine: still far
 * below the 60 s retry deadline the inner requests would otherwise use. */
#define BOUND_MS 12000
#define RETRY_DEADLINE_MS 60000
/* Long enough that the client notices the frozen connection (at 2/3 of
 * it) only after BOUND_MS: that notice ended a queue take's round on
 * its own, at 6.7 s with 10 s sessions, before calls had deadlines. */
#define SESSION_TIMEOUT_MS 30000

static zkc_t *open_long_retry(void)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_retry_t r = ZKC_RETRY_INIT;

	r.deadline_ms = RETRY_DEADLINE_MS;
	o.retry = r;
	o.session_timeout_ms = SESSION_TIMEOUT_MS;
	return h_open(NULL, &o);
}

static void freeze_all(void)
{
	int i;

	for (i = 0; i < h_nodes(); i++)
		assert_int_equal(h_stop(i), 0);
}

static void thaw_all(void)
{
	int i;

	for (i = 0; i < h_nodes(); i++)
		assert_int_equal(h_cont(i), 0);
	assert_int_equal(h_wait_quorum(), 0);
}

/* Children of path (each printed, to tell what was left), or -1 when
 * they cannot be read. */
static int nchildren(zkc_t *zk, const char *path)
{
	zkc_strings_t *c = NULL;
	int n;

	if (zkc_children(&c, NULL, zk, path) != ZKC_OK)
		return -1;
	n = (int)c->count;
	for (size_t i = 0; i < c->count; i++)
		print_message("# %s has %s\n", path, c->items[i]);
	zkc_strings_free(c);
	return n;
}

/* What a timed call gave: its code, how long it took, and its message. */
static void report(const char *what, int rc, int64_t took)
{
	print_message("%s: %s after %lld ms (%s)\n", what, zkc_strcode(rc), (long long)took,
	              zkc_error_last()->message);
}

static void test_lock_acquire_ends_by_its_timeout_under_a_freeze(void **state)
{
	char *dir = h_path("lock");
	zkc_t *zk, *other;
	zkc_lock_t *lk = NULL, *lk2 = NULL;
	int64_t t0, took;
	int rc;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	zk = open_long_retry();
	other = h_open(NULL, NULL);
	assert_int_equal(zkc_lock_open(&lk, zk, dir, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_open(&lk2, other, dir, NULL), ZKC_OK);
	/* the directory exists: the frozen acquire goes straight to its create */
	assert_int_equal(zkc_lock_acquire(NULL, lk, 10000), ZKC_OK);
	assert_int_equal(zkc_lock_release(lk, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);

	freeze_all();
	t0 = h_now_ms();
	rc = zkc_lock_acquire(NULL, lk, TIMEOUT_MS);
	took = h_now_ms() - t0;
	thaw_all();
	report("lock acquire", rc, took);
	assert_int_equal(rc, ZKC_ETIMEDOUT);
	assert_true(took >= TIMEOUT_MS - 10);
	assert_true(took < BOUND_MS);

	/* the contender created before the deadline (its create waited in a
	 * frozen server's socket) is gone once the session is back, so it
	 * blocks no one */
	assert_int_equal(zkc_wait_connected(zk, H_TIMEOUT_MS), ZKC_OK);
	H_WAIT_UNTIL(nchildren(other, dir) == 0, H_TIMEOUT_MS);
	assert_int_equal(zkc_lock_acquire(NULL, lk2, 10000), ZKC_OK);
	assert_int_equal(zkc_lock_release(lk2, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(NULL, lk, 10000), ZKC_OK);
	assert_int_equal(zkc_lock_release(lk, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
	/* a create can also be applied after the first look (it was seen
	 * after both acquires above); its node goes too */
	H_WAIT_UNTIL(nchildren(other, dir) == 0, H_TIMEOUT_MS);

	zkc_lock_close(lk);
	zkc_lock_close(lk2);
	zkc_delete(other, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	zkc_close(other);
	free(dir);
}

static void test_semaphore_acquire_ends_by_its_timeout_under_a_freeze(void **state)
{
	char *dir = h_path("sem"), *leases, *locks;
	zkc_t *zk, *other;
	zkc_semaphore_t *s = NULL, *s2 = NULL;
	zkc_semaphore_lease_t *l = NULL;
	int64_t t0, took;
	int rc, named;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	leases = h_join(dir, "leases");
	locks = h_join(dir, "locks");
	zk = open_long_retry();
	other = h_open(NULL, NULL);
	assert_int_equal(zkc_semaphore_open(&s, zk, dir, 1, NULL), ZKC_OK);
	assert_int_equal(zkc_semaphore_open(&s2, other, dir, 1, NULL), ZKC_OK);
	assert_int_equal(zkc_semaphore_acquire(&l, s, 10000), ZKC_OK);
	assert_int_equal(zkc_semaphore_release(l, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
	zkc_semaphore_lease_free(l);
	l = NULL;

	freeze_all();
	t0 = h_now_ms();
	rc = zkc_semaphore_acquire(&l, s, TIMEOUT_MS);
	took = h_now_ms() - t0;
	report("semaphore acquire", rc, took);
	/* the message names the semaphore the caller named */
	named = strstr(zkc_error_last()->message, dir) != NULL;
	thaw_all();
	assert_int_equal(rc, ZKC_ETIMEDOUT);
	assert_true(named);
	assert_null(l);
	assert_true(took >= TIMEOUT_MS - 10);
	assert_true(took < BOUND_MS);

	/* neither an admission node nor a lease is left: the one permit is
	 * free for another client */
	assert_int_equal(zkc_wait_connected(zk, H_TIMEOUT_MS), ZKC_OK);
	H_WAIT_UNTIL(nchildren(other, locks) == 0 && nchildren(other, leases) == 0,
	             H_TIMEOUT_MS);
	assert_int_equal(zkc_semaphore_acquire(&l, s2, 10000), ZKC_OK);
	assert_int_equal(zkc_semaphore_release(l, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
	zkc_semaphore_lease_free(l);
	H_WAIT_UNTIL(nchildren(other, locks) == 0 && nchildren(other, leases) == 0,
	             H_TIMEOUT_MS);

	zkc_semaphore_close(s);
	zkc_semaphore_close(s2);
	zkc_delete(other, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	zkc_close(other);
	free(leases);
	free(locks);
	free(dir);
}

static void test_queue_take_ends_by_its_timeout_under_a_freeze(void **state)
{
	char *dir = h_path("queue"), *taken;
	zkc_queue_options_t o = ZKC_QUEUE_OPTIONS_INIT;
	zkc_queue_item_t *item = NULL;
	zkc_queue_t *q = NULL, *q2 = NULL;
	zkc_t *zk, *other;
	int64_t t0, took;
	int rc;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	taken = h_join(dir, "taken");
	zk = open_long_retry();
	other = h_open(NULL, NULL);
	o.flags = ZKC_QUEUE_CREATE;
	assert_int_equal(zkc_queue_open(&q2, other, dir, &o), ZKC_OK);
	assert_int_equal(zkc_queue_put(NULL, q2, "a", 1, 0), ZKC_OK);
	/* a new handle knows nothing yet: its take must read the queue */
	assert_int_equal(zkc_queue_open(&q, zk, dir, &o), ZKC_OK);

	freeze_all();
	t0 = h_now_ms();
	rc = zkc_queue_take(&item, q, ZKC_QUEUE_TAKE_ACK, TIMEOUT_MS);
	took = h_now_ms() - t0;
	thaw_all();
	report("queue take", rc, took);
	assert_int_equal(rc, ZKC_ETIMEDOUT);
	assert_null(item);
	assert_true(took >= TIMEOUT_MS - 10);
	assert_true(took < BOUND_MS);

	/* nothing is left taken, and the handle takes the item once the
	 * session is back */
	assert_int_equal(zkc_wait_connected(zk, H_TIMEOUT_MS), ZKC_OK);
	assert_int_equal(nchildren(other, taken), 0);
	assert_int_equal(zkc_queue_take(&item, q, ZKC_QUEUE_TAKE_ACK, H_TIMEOUT_MS), ZKC_OK);
	assert_memory_equal(item->data, "a", 1);
	assert_int_equal(zkc_queue_ack(q, item), ZKC_OK);
	zkc_queue_item_free(item);
	/* a marker create of the frozen take that is applied late fails on
	 * the server once the item is gone (it is conditional on the item),
	 * and one applied before that is removed in the background */
	assert_int_equal(nchildren(other, taken), 0);

	zkc_queue_close(q);
	zkc_queue_close(q2);
	zkc_delete(other, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	zkc_close(other);
	free(taken);
	free(dir);
}

/* A handle that has the item cached sends the marker create at once: it
 * waits in a frozen server's socket past the take's deadline and is
 * applied after the thaw. Nothing takes on that handle again; the marker
 * must still go, so that another consumer gets the item. */
static void test_queue_take_with_the_item_cached_leaves_no_marker_under_a_freeze(void **state)
{
	char *dir = h_path("queuewarm"), *taken;
	zkc_queue_options_t o = ZKC_QUEUE_OPTIONS_INIT;
	zkc_queue_item_t *item = NULL;
	zkc_queue_t *q = NULL, *q2 = NULL;
	zkc_t *zk, *other;
	int64_t t0, took;
	int rc;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	taken = h_join(dir, "taken");
	zk = open_long_retry();
	other = h_open(NULL, NULL);
	o.flags = ZKC_QUEUE_CREATE;
	assert_int_equal(zkc_queue_open(&q, zk, dir, &o), ZKC_OK);
	assert_int_equal(zkc_queue_open(&q2, other, dir, &o), ZKC_OK);
	/* the handle reads the empty queue, then its own put is cached */
	assert_int_equal(zkc_queue_take(&item, q, ZKC_QUEUE_TAKE_ACK, 0), ZKC_EAGAIN);
	assert_int_equal(zkc_queue_put(NULL, q, "a", 1, 0), ZKC_OK);

	freeze_all();
	t0 = h_now_ms();
	rc = zkc_queue_take(&item, q, ZKC_QUEUE_TAKE_ACK, TIMEOUT_MS);
	took = h_now_ms() - t0;
	thaw_all();
	report("queue take (item cached)", rc, took);
	assert_int_equal(rc, ZKC_ETIMEDOUT);
	assert_null(item);
	assert_true(took >= TIMEOUT_MS - 10);
	assert_true(took < BOUND_MS);

	/* no further take on q: the other consumer gets the item once the
	 * marker (if the create was applied) is gone */
	assert_int_equal(zkc_wait_connected(zk, H_TIMEOUT_MS), ZKC_OK);
	assert_int_equal(zkc_exists(NULL, zk, dir), ZKC_OK);     /* answered after the create */
	H_WAIT_UNTIL(nchildren(other, taken) == 0, H_TIMEOUT_MS);
	assert_int_equal(zkc_queue_take(&item, q2, ZKC_QUEUE_TAKE_ACK, H_TIMEOUT_MS), ZKC_OK);
	assert_memory_equal(item->data, "a", 1);
	assert_int_equal(zkc_queue_ack(q2, item), ZKC_OK);
	zkc_queue_item_free(item);
	assert_int_equal(nchildren(other, taken), 0);

	zkc_queue_close(q);
	zkc_queue_close(q2);
	zkc_delete(other, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	zkc_close(other);
	free(taken);
	free(dir);
}

/* ---- tries (timeout 0): no waiting for other clients, and no waiting
 * for the client's retry deadline either */

/* A try-acquire against frozen servers: ZKC_ETIMEDOUT after about
 * ZKC_TRY_DEADLINE_MS, far below the 60 s retry deadline; with a deadline
 * bound to the thread the try keeps that one instead. Nothing is left
 * behind either way. */
static void test_lock_try_ends_by_the_try_deadline_under_a_freeze(void **state)
{
	char *dir = h_path("trylock");
	zkc_t *zk, *other;
	zkc_lock_t *lk = NULL, *lk2 = NULL;
	int64_t t0, took, took2, prev, unbound;
	int rc, rc2;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	zk = open_long_retry();
	other = h_open(NULL, NULL);
	assert_int_equal(zkc_lock_open(&lk, zk, dir, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_open(&lk2, other, dir, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(NULL, lk, ZKC_LOCK_TRY), ZKC_OK);
	assert_int_equal(zkc_lock_release(lk, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);

	freeze_all();
	t0 = h_now_ms();
	rc = zkc_lock_acquire(NULL, lk, ZKC_LOCK_TRY);
	took = h_now_ms() - t0;
	report("lock try", rc, took);
	unbound = zkc_deadline_bound();

	/* a deadline the caller bound is the try's, also when it is later */
	prev = zkc_deadline_bind(zkc_clock_ms() + 2 * ZKC_TRY_DEADLINE_MS);
	t0 = h_now_ms();
	rc2 = zkc_lock_acquire(NULL, lk, ZKC_LOCK_TRY);
	took2 = h_now_ms() - t0;
	zkc_deadline_bind(prev);
	report("lock try, deadline bound", rc2, took2);
	thaw_all();
	assert_int_equal(rc, ZKC_ETIMEDOUT);
	assert_true(took >= ZKC_TRY_DEADLINE_MS - 10);
	assert_true(took < BOUND_MS);
	assert_int_equal(unbound, ZKC_NO_DEADLINE);
	assert_int_equal(rc2, ZKC_ETIMEDOUT);
	assert_true(took2 >= 2 * ZKC_TRY_DEADLINE_MS - 10);
	assert_true(took2 < 2 * ZKC_TRY_DEADLINE_MS + BOUND_MS);

	/* no contender node is left: the lock works for both clients */
	assert_int_equal(zkc_wait_connected(zk, H_TIMEOUT_MS), ZKC_OK);
	H_WAIT_UNTIL(nchildren(other, dir) == 0, H_TIMEOUT_MS);
	assert_int_equal(zkc_lock_acquire(NULL, lk2, ZKC_LOCK_TRY), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(NULL, lk, ZKC_LOCK_TRY), ZKC_EAGAIN);
	assert_int_equal(zkc_lock_release(lk2, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(NULL, lk, 10000), ZKC_OK);
	assert_int_equal(zkc_lock_release(lk, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
	H_WAIT_UNTIL(nchildren(other, dir) == 0, H_TIMEOUT_MS);

	zkc_lock_close(lk);
	zkc_lock_close(lk2);
	zkc_delete(other, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	zkc_close(other);
	free(dir);
}

/* The semaphore's try (its admission lock's try inside) ends the same
 * way, and leaves neither an admission node nor a lease. */
static void test_semaphore_try_ends_by_the_try_deadline_under_a_freeze(void **state)
{
	char *dir = h_path("trysem"), *leases, *locks;
	zkc_t *zk, *other;
	zkc_semaphore_t *s = NULL, *s2 = NULL;
	zkc_semaphore_lease_t *l = NULL;
	int64_t t0, took;
	int rc;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	leases = h_join(dir, "leases");
	locks = h_join(dir, "locks");
	zk = open_long_retry();
	other = h_open(NULL, NULL);
	assert_int_equal(zkc_semaphore_open(&s, zk, dir, 1, NULL), ZKC_OK);
	assert_int_equal(zkc_semaphore_open(&s2, other, dir, 1, NULL), ZKC_OK);
	assert_int_equal(zkc_semaphore_acquire(&l, s, ZKC_LOCK_TRY), ZKC_OK);
	assert_int_equal(zkc_semaphore_release(l, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
	zkc_semaphore_lease_free(l);
	l = NULL;

	freeze_all();
	t0 = h_now_ms();
	rc = zkc_semaphore_acquire(&l, s, ZKC_LOCK_TRY);
	took = h_now_ms() - t0;
	report("semaphore try", rc, took);
	thaw_all();
	assert_int_equal(rc, ZKC_ETIMEDOUT);
	assert_null(l);
	assert_true(took >= ZKC_TRY_DEADLINE_MS - 10);
	assert_true(took < BOUND_MS);

	assert_int_equal(zkc_wait_connected(zk, H_TIMEOUT_MS), ZKC_OK);
	H_WAIT_UNTIL(nchildren(other, locks) == 0 && nchildren(other, leases) == 0,
	             H_TIMEOUT_MS);
	assert_int_equal(zkc_semaphore_acquire(&l, s2, ZKC_LOCK_TRY), ZKC_OK);
	assert_int_equal(zkc_semaphore_release(l, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
	zkc_semaphore_lease_free(l);
	H_WAIT_UNTIL(nchildren(other, locks) == 0 && nchildren(other, leases) == 0,
	             H_TIMEOUT_MS);

	zkc_semaphore_close(s);
	zkc_semaphore_close(s2);
	zkc_delete(other, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	zkc_close(other);
	free(leases);
	free(locks);
	free(dir);
}

/* ---- the service router's first load */

/* zkc_service_router_open with timeout_ms = 2000 against frozen servers:
 * ZKC_ETIMEDOUT soon after 2 s, nothing opened, and the same with the
 * default timeout and a 2 s deadline bound to the thread; once the servers
 * run again a router opens and routes to the one registered instance. */
static void test_router_open_ends_by_its_timeout_under_a_freeze(void **state)
{
	char *svc = h_path("svc");
	zkc_service_instance_t in = ZKC_SERVICE_INSTANCE_INIT;
	zkc_service_router_options_t ro = ZKC_SERVICE_ROUTER_OPTIONS_INIT;
	zkc_service_router_t *r = NULL, *r2 = NULL;
	zkc_service_reg_t *reg = NULL;
	zkc_service_endpoint_t ep;
	zkc_t *zk, *other;
	int64_t t0, took, took2, prev, unbound;
	int rc, rc2, named;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	zk = open_long_retry();
	other = h_open(NULL, NULL);
	in.id = "only";
	in.address = "127.0.0.1";
	in.port = 9001;
	assert_int_equal(zkc_service_reg_open(&reg, other, svc, &in), ZKC_OK);

	freeze_all();
	ro.timeout_ms = TIMEOUT_MS;
	t0 = h_now_ms();
	rc = zkc_service_router_open(&r, zk, svc, &ro);
	took = h_now_ms() - t0;
	report("router open", rc, took);
	named = strstr(zkc_error_last()->message, svc) != NULL;
	unbound = zkc_deadline_bound();
	/* the default timeout (30 s) with a deadline bound by the caller:
	 * the earlier one ends the open */
	prev = zkc_deadline_bind(zkc_clock_ms() + TIMEOUT_MS);
	t0 = h_now_ms();
	rc2 = zkc_service_router_open(&r2, zk, svc, NULL);
	took2 = h_now_ms() - t0;
	zkc_deadline_bind(prev);
	report("router open, deadline bound", rc2, took2);
	thaw_all();
	assert_int_equal(rc, ZKC_ETIMEDOUT);
	assert_null(r);
	assert_true(named);
	assert_true(took >= TIMEOUT_MS - 10);
	assert_true(took < BOUND_MS);
	assert_int_equal(unbound, ZKC_NO_DEADLINE);
	assert_int_equal(rc2, ZKC_ETIMEDOUT);
	assert_null(r2);
	assert_true(took2 >= TIMEOUT_MS - 10);
	assert_true(took2 < BOUND_MS);

	assert_int_equal(zkc_wait_connected(zk, H_TIMEOUT_MS), ZKC_OK);
	ro.timeout_ms = H_TIMEOUT_MS;
	assert_int_equal(zkc_service_router_open(&r, zk, svc, &ro), ZKC_OK);
	assert_int_equal(zkc_service_route(&ep, r, "k", 1), ZKC_OK);
	assert_string_equal(ep.id, "only");
	assert_int_equal(ep.port, 9001);

	zkc_service_router_close(r);
	assert_int_equal(zkc_service_unregister(reg), ZKC_OK);
	zkc_service_reg_close(reg);
	zkc_delete(other, svc, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	zkc_close(other);
	free(svc);
}

/* ---- the deadline bound to a thread, below the recipes */

static void test_bound_deadline_ends_reads_and_writes_under_a_freeze(void **state)
{
	char *p = h_path("plain");
	zkc_t *zk;
	char *data = NULL;
	size_t len = 0;
	int64_t t0, took, d;
	int rc;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	zk = open_long_retry();
	assert_int_equal(zkc_create(NULL, NULL, zk, p, "x", 1, NULL), ZKC_OK);
	assert_int_equal(zkc_deadline_bound(), ZKC_NO_DEADLINE);

	freeze_all();
	/* a write sent and not answered by the deadline may have been
	 * applied: ZKC_EUNKNOWN */
	d = zkc_clock_ms() + TIMEOUT_MS;
	assert_int_equal(zkc_deadline_bind(d), ZKC_NO_DEADLINE);
	assert_int_equal(zkc_deadline_bound(), d);
	t0 = h_now_ms();
	rc = zkc_set(NULL, zk, p, "z", 1, -1);
	took = h_now_ms() - t0;
	report("set", rc, took);
	assert_int_equal(rc, ZKC_EUNKNOWN);
	assert_true(took < BOUND_MS);
	/* past the deadline nothing is sent: ETIMEDOUT, not unknown */
	assert_int_equal(zkc_set(NULL, zk, p, "y", 1, -1), ZKC_ETIMEDOUT);
	/* a read, answered or not, ends by its deadline: ETIMEDOUT */
	zkc_deadline_bind(zkc_clock_ms() + TIMEOUT_MS);
	t0 = h_now_ms();
	rc = zkc_get(&data, &len, NULL, zk, p);
	took = h_now_ms() - t0;
	report("get", rc, took);
	assert_int_equal(rc, ZKC_ETIMEDOUT);
	assert_true(took < BOUND_MS);
	/* bindings nest: unbinding hands back the second deadline */
	assert_true(zkc_deadline_bind(ZKC_NO_DEADLINE) > d);
	assert_int_equal(zkc_deadline_bound(), ZKC_NO_DEADLINE);
	thaw_all();

	/* unbound, the client's own retry deadline applies again */
	assert_int_equal(zkc_get(&data, &len, NULL, zk, p), ZKC_OK);
	assert_true(len == 1 && (data[0] == 'x' || data[0] == 'z'));
	zkc_free(data);
	zkc_delete(zk, p, -1, 0);
	zkc_close(zk);
	free(p);
}

static void test_a_passed_deadline_sends_nothing(void **state)
{
	char *p = h_path("nothing");
	zkc_batch_t *b = NULL;
	zkc_t *zk;
	int64_t prev;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	zk = open_long_retry();
	prev = zkc_deadline_bind(zkc_clock_ms() - 1);
	assert_int_equal(zkc_create(NULL, NULL, zk, p, NULL, 0, NULL), ZKC_ETIMEDOUT);
	assert_int_equal(zkc_error_last()->code, ZKC_ETIMEDOUT);
	assert_non_null(strstr(zkc_error_last()->message, "deadline"));
	assert_int_equal(zkc_batch_new(&b), ZKC_OK);
	assert_true(zkc_batch_create(b, p, NULL, 0, NULL) >= 0);
	assert_int_equal(zkc_batch_run(zk, b), ZKC_ETIMEDOUT);
	zkc_batch_free(b);
	zkc_deadline_bind(prev);
	assert_int_equal(zkc_exists(NULL, zk, p), ZKC_ENONODE);
	zkc_close(zk);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_acquire_ends_by_its_timeout_under_a_freeze),
		cmocka_unit_test(test_semaphore_acquire_ends_by_its_timeout_under_a_freeze),
		cmocka_unit_test(test_queue_take_ends_by_its_timeout_under_a_freeze),
		cmocka_unit_test(test_queue_take_with_the_item_cached_leaves_no_marker_under_a_freeze),
		cmocka_unit_test(test_lock_try_ends_by_the_try_deadline_under_a_freeze),
		cmocka_unit_test(test_semaphore_try_ends_by_the_try_deadline_under_a_freeze),
		cmocka_unit_test(test_router_open_ends_by_its_timeout_under_a_freeze),
		cmocka_unit_test(test_bound_deadline_ends_reads_and_writes_under_a_freeze),
		cmocka_unit_test(test_a_passed_deadline_sends_nothing),
	};

	return cmocka_run_group_tests(tests, h_setup_3, h_teardown);
}
