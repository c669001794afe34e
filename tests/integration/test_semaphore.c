/* tests/integration/test_semaphore.c - the counting semaphore: at most N
 * leases, try and timeout, Curator's layout; and the limit under faults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

int lock_worker_main(int argc, char **argv);
void lock_fault_run(const char *mode, int workers, int count, int max_leases, unsigned seed,
                    int stop_holder, int broken);
int lock_fault_teardown(void **state);

static void test_at_most_n_leases(void **state)
{
	char *dir = h_path("sem");
	zkc_t *zk = h_open(NULL, NULL), *zk2 = h_open(NULL, NULL);
	zkc_semaphore_t *s = NULL, *s2 = NULL;
	zkc_semaphore_lease_t *a = NULL, *b = NULL, *c = NULL;
	zkc_multi_t *m = NULL;
	(void)state;

	assert_int_equal(zkc_semaphore_open(&s, zk, dir, 0, NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_semaphore_open(&s, zk, dir, 2, NULL), ZKC_OK);
	assert_int_equal(zkc_semaphore_open(&s2, zk2, dir, 2, NULL), ZKC_OK);
	assert_int_equal(zkc_semaphore_acquire(&a, s, -5), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_semaphore_acquire(&a, s, 5000), ZKC_OK);
	assert_non_null(strstr(zkc_semaphore_lease_path(a), "/leases/_c_"));
	assert_non_null(strstr(zkc_semaphore_lease_path(a), "-lease-"));
	assert_int_equal(zkc_semaphore_acquire(&b, s2, 5000), ZKC_OK);
	assert_int_equal(zkc_semaphore_lease_valid(b), 1);
	assert_int_equal(zkc_semaphore_acquire(&c, s2, ZKC_LOCK_TRY), ZKC_EAGAIN);
	assert_null(c);
	assert_int_equal(zkc_semaphore_acquire(&c, s2, 300), ZKC_ETIMEDOUT);
	assert_int_equal(zkc_semaphore_fence(&m, a), ZKC_OK);
	assert_int_equal(zkc_multi_commit(NULL, zk, m), ZKC_OK);
	/* a fenced write built while the lease was held, committed after it
	 * went: the lost-lease code, nothing written */
	assert_int_equal(zkc_multi_create(m, dir, NULL, 0, ZKC_PERSISTENT, NULL), ZKC_OK);
	assert_int_equal(zkc_semaphore_release(a, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
	assert_int_equal(zkc_multi_commit(NULL, zk, m), ZKC_ELOCKLOST);
	zkc_multi_free(m);
	assert_int_equal(zkc_semaphore_release(a, 0), ZKC_EINVALIDSTATE);
	zkc_semaphore_lease_free(a);
	assert_int_equal(zkc_semaphore_acquire(&c, s2, 5000), ZKC_OK);
	assert_int_equal(zkc_semaphore_release(b, 0), ZKC_OK);
	zkc_semaphore_lease_free(b);
	/* a lease freed without a release is given up all the same */
	zkc_semaphore_lease_free(c);
	assert_int_equal(zkc_semaphore_acquire(&a, s, 5000), ZKC_OK);
	assert_int_equal(zkc_semaphore_acquire(&b, s, 5000), ZKC_OK);
	zkc_semaphore_lease_free(a);
	zkc_semaphore_lease_free(b);
	zkc_semaphore_lease_free(NULL);
	zkc_semaphore_close(s);
	zkc_semaphore_close(s2);
	zkc_delete(zk, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	zkc_close(zk2);
	free(dir);
}

static void test_semaphore_limit_holds_under_faults(void **state)
{
	(void)state;
	H_NEED_OWN_ENSEMBLE();
	lock_fault_run("sem", 5, 200, 2, 11, 1, 0);
}

int main(int argc, char **argv)
{
	/* one 3-node ensemble for both: TAP allows one plan per binary */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_at_most_n_leases),
		cmocka_unit_test(test_semaphore_limit_holds_under_faults),
	};

	if (getenv("ZKC_LOCK_WORKER"))
		return lock_worker_main(argc, argv);
	return cmocka_run_group_tests(tests, h_setup_3, lock_fault_teardown);
}
