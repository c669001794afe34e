/* tests/integration/test_barrier.c - simple and double barriers on a
 * 1-node ensemble, each participant a thread with its own client: waiters
 * held and released, enter waits for N, leave waits for all, a participant
 * whose session expires is not counted, timeouts and bad input. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static int setup(void **state)
{
	return h_setup_shared(state);
}

static int teardown(void **state)
{
	return h_teardown(state);
}


/* ------------------------------------------------------------ simple barrier */

typedef struct waiter_arg {
	zkc_t *zk;
	const char *path;
	int rc;
	int done;
	pthread_mutex_t mu;
} waiter_arg_t;

static void *barrier_waiter(void *p)
{
	waiter_arg_t *a = p;
	int rc = zkc_barrier_wait(a->zk, a->path, h_timeout(H_TIMEOUT_MS));

	pthread_mutex_lock(&a->mu);
	a->rc = rc;
	a->done = 1;
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

static int is_done(waiter_arg_t *a)
{
	int d;

	pthread_mutex_lock(&a->mu);
	d = a->done;
	pthread_mutex_unlock(&a->mu);
	return d;
}

static void test_simple_barrier_holds_waiters_until_removed(void **state)
{
	zkc_t *zk = h_open(NULL, NULL), *z2 = h_open(NULL, NULL);
	char *base = h_path("simple"), *path = h_join(base, "a/b");
	waiter_arg_t a = { z2, NULL, 0, 0, PTHREAD_MUTEX_INITIALIZER };
	pthread_t t;
	(void)state;

	a.path = path;
	/* never raised: no wait */
	assert_int_equal(zkc_barrier_wait(zk, path, 0), ZKC_OK);
	assert_int_equal(zkc_barrier_set(zk, path), ZKC_OK);
	assert_int_equal(zkc_barrier_set(zk, path), ZKC_OK);   /* idempotent */
	assert_int_equal(zkc_barrier_wait(zk, path, 0), ZKC_ETIMEDOUT);
	assert_int_equal(zkc_barrier_wait(zk, path, 50), ZKC_ETIMEDOUT);
	assert_int_equal(pthread_create(&t, NULL, barrier_waiter, &a), 0);
	/* the waiter is held while the barrier stands */
	assert_int_equal(zkc_barrier_wait(zk, path, 200), ZKC_ETIMEDOUT);
	assert_false(is_done(&a));
	assert_int_equal(zkc_barrier_remove(zk, path), ZKC_OK);
	H_WAIT_UNTIL(is_done(&a), 5000);
	pthread_join(t, NULL);
	assert_int_equal(a.rc, ZKC_OK);
	assert_int_equal(zkc_barrier_remove(zk, path), ZKC_OK);   /* idempotent */
	zkc_delete(zk, base, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(z2);
	zkc_close(zk);
	free(path);
	free(base);
}

/* ------------------------------------------------------------ double barrier */

typedef struct part {
	zkc_t *zk;
	zkc_double_barrier_t *b;
	pthread_t t;
	pthread_mutex_t mu;
	int phase;        /* 1 entering, 2 entered, 3 leaving, 4 left, -1 failed */
	int rc;
	int want_leave;
	int timeout_ms;
} part_t;

static void set_phase(part_t *p, int phase, int rc)
{
	pthread_mutex_lock(&p->mu);
	p->phase = phase;
	p->rc = rc;
	pthread_mutex_unlock(&p->mu);
}

static int phase_of(part_t *p)
{
	int v;

	pthread_mutex_lock(&p->mu);
	v = p->phase;
	pthread_mutex_unlock(&p->mu);
	return v;
}

static int rc_of(part_t *p)
{
	int v;

	pthread_mutex_lock(&p->mu);
	v = p->rc;
	pthread_mutex_unlock(&p->mu);
	return v;
}

static int leave_wanted(part_t *p)
{
	int v;

	pthread_mutex_lock(&p->mu);
	v = p->want_leave;
	pthread_mutex_unlock(&p->mu);
	return v;
}

static void *participant(void *arg)
{
	part_t *p = arg;
	int rc;
	unsigned t;

	set_phase(p, 1, 0);
	rc = zkc_double_barrier_enter(p->b, p->timeout_ms);
	if (rc != ZKC_OK) {
		print_message("# enter: %s: %s\n", zkc_strcode(rc), zkc_error_last()->message);
		set_phase(p, -1, rc);
		return NULL;
	}
	set_phase(p, 2, 0);
	for (t = 0; !leave_wanted(p); t++)
		h_backoff(t);   /* the test says when to leave */
	set_phase(p, 3, 0);
	rc = zkc_double_barrier_leave(p->b, p->timeout_ms);
	if (rc != ZKC_OK)
		print_message("# leave: %s: %s\n", zkc_strcode(rc), zkc_error_last()->message);
	set_phase(p, rc == ZKC_OK ? 4 : -1, rc);
	return NULL;
}

static void start(part_t *p, const char *path, int count, const char *id)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	p->zk = h_open(NULL, NULL);
	p->timeout_ms = h_timeout(H_TIMEOUT_MS);
	assert_int_equal(zkc_double_barrier_open(&p->b, p->zk, path, count, id), ZKC_OK);
	assert_int_equal(pthread_create(&p->t, NULL, participant, p), 0);
}

static void want_leave(part_t *p)
{
	pthread_mutex_lock(&p->mu);
	p->want_leave = 1;
	pthread_mutex_unlock(&p->mu);
}

static void finish(part_t *p)
{
	pthread_join(p->t, NULL);
	zkc_double_barrier_close(p->b);
	zkc_close(p->zk);
}

static int nodes_in(zkc_t *zk, const char *path)
{
	zkc_strings_t *k = NULL;
	int n;

	if (zkc_children(&k, NULL, zk, path) != ZKC_OK)
		return -1;
	n = (int)k->count;
	zkc_strings_free(k);
	return n;
}

static void test_double_barrier_enter_waits_for_n_and_an_expired_one_does_not_count(void **state)
{
	enum { N = 3 };
	part_t a, d, c, e;
	zkc_t *obs = h_open(NULL, NULL);
	char *path = h_path("double");
	(void)state;

	/* a and d enter and wait: two of three */
	start(&a, path, N, "a");
	start(&d, path, N, "d");
	H_WAIT_UNTIL(nodes_in(obs, path) == 2, H_TIMEOUT_MS);
	assert_int_equal(phase_of(&a), 1);
	assert_int_equal(phase_of(&d), 1);

	/* d's session expires: its node goes and its enter says so */
	h_expire_for_sure(d.zk);
	H_WAIT_UNTIL(phase_of(&d) == -1, H_TIMEOUT_MS);
	assert_int_equal(rc_of(&d), ZKC_ELOST);
	H_WAIT_UNTIL(nodes_in(obs, path) == 1, H_TIMEOUT_MS);

	/* c makes two again: still held */
	start(&c, path, N, "c");
	H_WAIT_UNTIL(nodes_in(obs, path) == 2, H_TIMEOUT_MS);
	assert_int_equal(phase_of(&a), 1);
	assert_int_equal(phase_of(&c), 1);
	/* e is the third: all enter */
	start(&e, path, N, "e");   /* named: the order a < c < e is known */
	H_WAIT_UNTIL(phase_of(&a) == 2 && phase_of(&c) == 2 && phase_of(&e) == 2, H_TIMEOUT_MS);

	/* leave waits for all: a and c leave, e has not */
	want_leave(&a);
	want_leave(&c);
	H_WAIT_UNTIL(phase_of(&a) == 3 && phase_of(&c) == 3, 5000);
	/* c deleted its node and waits for a; a (lowest) waits for e */
	H_WAIT_UNTIL(nodes_in(obs, path) == 3, H_TIMEOUT_MS);   /* a, e, ready */
	assert_int_equal(phase_of(&a), 3);
	assert_int_equal(phase_of(&c), 3);
	want_leave(&e);
	H_WAIT_UNTIL(phase_of(&a) == 4 && phase_of(&c) == 4 && phase_of(&e) == 4, H_TIMEOUT_MS);
	/* nothing left behind, "ready" included */
	assert_int_equal(nodes_in(obs, path), 0);
	finish(&a);
	finish(&c);
	finish(&d);
	finish(&e);
	zkc_delete(obs, path, -1, 0);
	zkc_close(obs);
	free(path);
}

static void test_double_barrier_leave_survives_an_expired_participant(void **state)
{
	part_t p[3];
	zkc_t *obs = h_open(NULL, NULL);
	char *path = h_path("leave");
	const char *ids[3] = { "p0", "p1", "p2" };
	int i;
	(void)state;

	for (i = 0; i < 3; i++)
		start(&p[i], path, 3, ids[i]);
	H_WAIT_UNTIL(phase_of(&p[0]) == 2 && phase_of(&p[1]) == 2 && phase_of(&p[2]) == 2,
	    H_TIMEOUT_MS);
	/* p0 (the lowest) and p1 leave; p2 never does: its session expires */
	want_leave(&p[0]);
	want_leave(&p[1]);
	H_WAIT_UNTIL(phase_of(&p[0]) == 3 && phase_of(&p[1]) == 3, 5000);
	H_WAIT_UNTIL(nodes_in(obs, path) == 3, H_TIMEOUT_MS);   /* p0, p2, ready */
	assert_int_equal(phase_of(&p[0]), 3);
	assert_int_equal(phase_of(&p[1]), 3);
	h_expire_for_sure(p[2].zk);
	H_WAIT_UNTIL(phase_of(&p[0]) == 4 && phase_of(&p[1]) == 4, H_TIMEOUT_MS);
	want_leave(&p[2]);
	H_WAIT_UNTIL(phase_of(&p[2]) == 4, H_TIMEOUT_MS);   /* its node is gone: it left */
	assert_int_equal(nodes_in(obs, path), 0);
	for (i = 0; i < 3; i++)
		finish(&p[i]);
	zkc_delete(obs, path, -1, 0);
	zkc_close(obs);
	free(path);
}

static void test_double_barrier_timeouts_clean_up(void **state)
{
	zkc_t *zk = h_open(NULL, NULL);
	zkc_double_barrier_t *b = NULL;
	char *path = h_path("tmo");
	(void)state;

	assert_int_equal(zkc_double_barrier_open(&b, zk, path, 2, "x"), ZKC_OK);
	assert_int_equal(zkc_double_barrier_leave(b, 0), ZKC_EINVALIDSTATE);
	assert_int_equal(zkc_double_barrier_enter(b, 0), ZKC_ETIMEDOUT);
	assert_int_equal(nodes_in(zk, path), 0);   /* gave up: not counted */
	assert_int_equal(zkc_double_barrier_enter(b, 100), ZKC_ETIMEDOUT);
	assert_int_equal(nodes_in(zk, path), 0);
	zkc_double_barrier_close(b);

	/* one member: enter and leave at once */
	assert_int_equal(zkc_double_barrier_open(&b, zk, path, 1, NULL), ZKC_OK);
	assert_int_equal(zkc_double_barrier_enter(b, 0), ZKC_OK);
	assert_int_equal(zkc_double_barrier_enter(b, 0), ZKC_EINVALIDSTATE);
	assert_int_equal(zkc_double_barrier_leave(b, 0), ZKC_OK);
	assert_int_equal(nodes_in(zk, path), 0);
	zkc_double_barrier_close(b);
	zkc_delete(zk, path, -1, 0);
	zkc_close(zk);
	free(path);
}

static void test_barrier_bad_input_gets_clear_codes(void **state)
{
	zkc_t *zk = h_open(NULL, NULL);
	zkc_double_barrier_t *b = NULL;
	(void)state;

	assert_int_equal(zkc_barrier_set(zk, "nope"), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_barrier_set(zk, "/"), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_barrier_set(NULL, "/x"), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_barrier_remove(zk, "/a//b"), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_barrier_wait(zk, "", 0), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_double_barrier_open(&b, zk, "/x", 0, NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_double_barrier_open(&b, zk, "/x", -2, NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_double_barrier_open(&b, zk, "/x", 2, "ready"), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_double_barrier_open(&b, zk, "/x", 2, "a/b"), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_double_barrier_open(&b, zk, "/x", 2, ""), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_double_barrier_open(&b, zk, "x", 2, NULL), ZKC_EBADARGUMENTS);
	assert_null(b);
	assert_int_equal(zkc_double_barrier_enter(NULL, 0), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_double_barrier_leave(NULL, 0), ZKC_EBADARGUMENTS);
	zkc_double_barrier_close(NULL);
	zkc_close(zk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_barrier_holds_waiters_until_removed),
		cmocka_unit_test(test_double_barrier_enter_waits_for_n_and_an_expired_one_does_not_count),
		cmocka_unit_test(test_double_barrier_leave_survives_an_expired_participant),
		cmocka_unit_test(test_double_barrier_timeouts_clean_up),
		cmocka_unit_test(test_barrier_bad_input_gets_clear_codes),
	};

	return cmocka_run_group_tests_name("barrier", tests, setup, teardown);
}
