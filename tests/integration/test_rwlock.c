/* tests/integration/test_rwlock.c - the read/write lock: readers share,
 * writers exclude, a waiting writer holds back later readers, Curator's
 * node names; and the limits under the faults of test_lock_faults. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

int lock_worker_main(int argc, char **argv);
void lock_fault_run(const char *mode, int workers, int count, int max_leases, unsigned seed,
                    int stop_holder, int broken);
int lock_fault_teardown(void **state);

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

typedef struct taker {
	pthread_t th;
	zkc_lock_t *lk;
	int rc;
	volatile int done;
} taker_t;

static void *take(void *arg)
{
	taker_t *t = arg;

	t->rc = zkc_lock_acquire(NULL, t->lk, 30000);
	t->done = 1;
	return NULL;
}

static void test_readers_share_writers_exclude_and_do_not_starve(void **state)
{
	char *dir = h_path("rw");
	zkc_t *zk = h_open(NULL, NULL), *zk2 = h_open(NULL, NULL), *zk3 = h_open(NULL, NULL);
	zkc_rwlock_t *r1 = NULL, *r2 = NULL, *w = NULL;
	zkc_lock_lease_t l1, lw;
	taker_t tw, tr;
	(void)state;

	assert_int_equal(zkc_rwlock_open(&r1, zk, dir, NULL), ZKC_OK);
	assert_int_equal(zkc_rwlock_open(&r2, zk2, dir, NULL), ZKC_OK);
	assert_int_equal(zkc_rwlock_open(&w, zk3, dir, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(&l1, zkc_rwlock_read(r1), 5000), ZKC_OK);
	assert_non_null(strstr(l1.path, "-__READ__"));
	/* readers share */
	assert_int_equal(zkc_lock_acquire(NULL, zkc_rwlock_read(r2), ZKC_LOCK_TRY), ZKC_OK);
	/* a writer waits for them */
	assert_int_equal(zkc_lock_acquire(NULL, zkc_rwlock_write(w), ZKC_LOCK_TRY), ZKC_EAGAIN);
	/* the failed try's node goes first: counting 3 below must mean the
	 * waiting writer's node, not that one on its way out */
	H_WAIT_UNTIL(count_children(zk, dir) == 2, 10000);
	memset(&tw, 0, sizeof(tw));
	tw.lk = zkc_rwlock_write(w);
	assert_int_equal(pthread_create(&tw.th, NULL, take, &tw), 0);
	H_WAIT_UNTIL(count_children(zk, dir) == 3, 10000);
	/* a reader arriving after the waiting writer waits too (no starvation) */
	assert_int_equal(zkc_lock_release(zkc_rwlock_read(r2), ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(NULL, zkc_rwlock_read(r2), ZKC_LOCK_TRY), ZKC_EAGAIN);
	memset(&tr, 0, sizeof(tr));
	tr.lk = zkc_rwlock_read(r2);
	assert_int_equal(pthread_create(&tr.th, NULL, take, &tr), 0);
	assert_int_equal(tw.done, 0);
	assert_int_equal(zkc_lock_release(zkc_rwlock_read(r1), 0), ZKC_OK);
	pthread_join(tw.th, NULL);
	assert_int_equal(tw.rc, ZKC_OK);
	assert_int_equal(zkc_lock_lease(&lw, zkc_rwlock_write(w)), ZKC_OK);
	assert_non_null(strstr(lw.path, "-__WRIT__"));
	assert_true(lw.token > l1.token);
	assert_int_equal(tr.done, 0);
	/* the writer may also read (downgrade) */
	assert_int_equal(zkc_lock_acquire(NULL, zkc_rwlock_read(w), ZKC_LOCK_TRY), ZKC_OK);
	assert_int_equal(zkc_lock_release(zkc_rwlock_read(w), 0), ZKC_OK);
	assert_int_equal(tr.done, 0);
	assert_int_equal(zkc_lock_release(zkc_rwlock_write(w), 0), ZKC_OK);
	pthread_join(tr.th, NULL);
	assert_int_equal(tr.rc, ZKC_OK);
	assert_int_equal(zkc_lock_release(zkc_rwlock_read(r2), 0), ZKC_OK);
	zkc_rwlock_close(r1);
	zkc_rwlock_close(r2);
	zkc_rwlock_close(w);
	zkc_delete(zk, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	zkc_close(zk2);
	zkc_close(zk3);
	free(dir);
}

static void test_rwlock_limits_hold_under_faults(void **state)
{
	(void)state;
	H_NEED_OWN_ENSEMBLE();
	lock_fault_run("rw", 5, 200, 0, 7, 1, 0);
}

int main(int argc, char **argv)
{
	/* one 3-node ensemble for both: TAP allows one plan per binary */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readers_share_writers_exclude_and_do_not_starve),
		cmocka_unit_test(test_rwlock_limits_hold_under_faults),
	};

	if (getenv("ZKC_LOCK_WORKER"))
		return lock_worker_main(argc, argv);
	return cmocka_run_group_tests(tests, h_setup_3, lock_fault_teardown);
}
