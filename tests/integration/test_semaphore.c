/* tests/integration/test_semaphore.c - the counting semaphore: at most N
 * leases, try and timeout, Curator's layout; and the limit under faults. */
#include <pthread.h>
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

/* A timed acquire run on its own thread, so that one that never returns
 * fails the test instead of hanging it. */
typedef struct timed {
	zkc_semaphore_t *s;
	zkc_cancel_t *tok;  /* bound on the acquiring thread when not NULL */
	int timeout_ms;
	pthread_t th;
	pthread_mutex_t mu;
	int done, rc;
	int64_t took;
	zkc_semaphore_lease_t *l;
} timed_t;

static void *timed_thread(void *arg)
{
	timed_t *t = arg;
	zkc_cancel_t *prev = zkc_cancel_bind(t->tok);
	zkc_semaphore_lease_t *l = NULL;
	int64_t t0 = h_now_ms();
	int rc = zkc_semaphore_acquire(&l, t->s, t->timeout_ms);
	int64_t took = h_now_ms() - t0;

	zkc_cancel_bind(prev);
	pthread_mutex_lock(&t->mu);
	t->rc = rc;
	t->took = took;
	t->l = l;
	t->done = 1;
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

static int timed_done(timed_t *t)
{
	int d;

	pthread_mutex_lock(&t->mu);
	d = t->done;
	pthread_mutex_unlock(&t->mu);
	return d;
}

/* The children of dir are exactly `name` (NULL: none): 1, else 0. */
static int children_are(zkc_t *zk, const char *dir, const char *name)
{
	zkc_strings_t *c = NULL;
	int r;

	if (zkc_children(&c, NULL, zk, dir) != ZKC_OK)
		return 0;
	r = name ? c->count == 1 && strcmp(c->items[0], name) == 0 : c->count == 0;
	zkc_strings_free(c);
	return r;
}

/* The children of leases are exactly the nodes of leases a and b. */
static int leases_are(zkc_t *zk, const char *leases, zkc_semaphore_lease_t *a,
                      zkc_semaphore_lease_t *b)
{
	const char *na = strrchr(zkc_semaphore_lease_path(a), '/') + 1;
	const char *nb = strrchr(zkc_semaphore_lease_path(b), '/') + 1;
	zkc_strings_t *c = NULL;
	int r;

	if (zkc_children(&c, NULL, zk, leases) != ZKC_OK)
		return 0;
	r = c->count == 2 && ((strcmp(c->items[0], na) == 0 && strcmp(c->items[1], nb) == 0) ||
	                      (strcmp(c->items[0], nb) == 0 && strcmp(c->items[1], na) == 0));
	zkc_strings_free(c);
	return r;
}

static void timed_acquire_times_out(int with_token)
{
	char *dir = h_path(with_token ? "sem_timeout_tok" : "sem_timeout_plain");
	char *leases = h_join(dir, "leases"), *locks = h_join(dir, "locks");
	zkc_t *zk = h_open(NULL, NULL), *zk2 = h_open(NULL, NULL);
	zkc_semaphore_t *s = NULL;
	zkc_semaphore_lease_t *a = NULL, *b = NULL;
	zkc_cancel_t *tok = NULL;
	int64_t until;
	timed_t t;

	memset(&t, 0, sizeof(t));
	pthread_mutex_init(&t.mu, NULL);
	if (with_token)
		assert_int_equal(zkc_cancel_new(&tok), ZKC_OK);
	/* the other handle holds both leases */
	assert_int_equal(zkc_semaphore_open(&s, zk, dir, 2, NULL), ZKC_OK);
	assert_int_equal(zkc_semaphore_acquire(&a, s, 5000), ZKC_OK);
	assert_int_equal(zkc_semaphore_acquire(&b, s, 5000), ZKC_OK);
	assert_int_equal(zkc_semaphore_open(&t.s, zk2, dir, 2, NULL), ZKC_OK);
	t.tok = tok;
	t.timeout_ms = 300;
	assert_int_equal(pthread_create(&t.th, NULL, timed_thread, &t), 0);
	/* far beyond 300 ms: only a wait that never ends gets here */
	until = h_now_ms() + h_timeout(20000);
	while (!timed_done(&t) && h_now_ms() < until)
		h_backoff(5);
	if (!timed_done(&t)) {
		/* unblock it so the run can go on, then fail */
		zkc_cancel_fire(tok);
		zkc_semaphore_release(a, ZKC_LOCK_RELEASE_SYNC);
		pthread_join(t.th, NULL);
		fail_msg("a 300 ms acquire (%s) had not returned after %d ms", with_token
		         ? "cancel token bound, not fired" : "no token bound", h_timeout(20000));
	}
	pthread_join(t.th, NULL);
	assert_int_equal(t.rc, ZKC_ETIMEDOUT);
	assert_null(t.l);
	assert_true(t.took >= 300);
	if (tok)
		assert_int_equal(zkc_cancel_fired(tok), 0);
	/* what the acquire made goes (in the background): its lease node and
	 * its admission node; the holder's two leases stay */
	H_WAIT_UNTIL(children_are(zk, locks, NULL), 10000);
	H_WAIT_UNTIL(leases_are(zk, leases, a, b), 10000);
	assert_int_equal(zkc_semaphore_lease_valid(a), 1);
	assert_int_equal(zkc_semaphore_lease_valid(b), 1);
	zkc_semaphore_lease_free(a);
	zkc_semaphore_lease_free(b);
	H_WAIT_UNTIL(children_are(zk, leases, NULL), 10000);
	zkc_semaphore_close(t.s);
	zkc_semaphore_close(s);
	zkc_delete(zk, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_cancel_free(tok);
	pthread_mutex_destroy(&t.mu);
	zkc_close(zk);
	zkc_close(zk2);
	free(leases);
	free(locks);
	free(dir);
}

static void test_timed_acquire_times_out_with_a_cancel_token_bound(void **state)
{
	(void)state;
	timed_acquire_times_out(1);
}

static void test_timed_acquire_times_out_without_a_token(void **state)
{
	(void)state;
	timed_acquire_times_out(0);
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
		cmocka_unit_test(test_timed_acquire_times_out_with_a_cancel_token_bound),
		cmocka_unit_test(test_timed_acquire_times_out_without_a_token),
		cmocka_unit_test(test_semaphore_limit_holds_under_faults),
	};

	if (getenv("ZKC_LOCK_WORKER"))
		return lock_worker_main(argc, argv);
	return cmocka_run_group_tests(tests, h_setup_3, lock_fault_teardown);
}
