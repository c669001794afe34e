/* tests/unit/test_recipe_wait.c - the recipes' shared deadline wait
 * (zkcr_cond_wait_until): a deadline that has passed is a timeout, with or
 * without a cancellation token bound, never "no deadline". Every lock,
 * semaphore, queue, barrier and election wait goes through it. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>

#include "zkc/cancel.h"
#include "zkc/common.h"
#include "support.h"

typedef struct call {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int64_t deadline;
	zkc_cancel_t *tok;  /* bound on the waiting thread when not NULL */
	int done, rc;
} call_t;

static void *wait_thread(void *arg)
{
	call_t *c = arg;
	zkc_cancel_t *prev = zkc_cancel_bind(c->tok);
	int rc;

	pthread_mutex_lock(&c->mu);
	rc = zkcr_cond_wait_until(&c->cv, &c->mu, c->deadline);
	c->rc = rc;
	c->done = 1;
	pthread_mutex_unlock(&c->mu);
	zkc_cancel_bind(prev);
	return NULL;
}

/* Runs one wait on its own thread; a wait that has not returned after 10 s
 * fails the test (and is woken so the run goes on). Returns its code. */
static int run_wait(int64_t deadline, zkc_cancel_t *tok)
{
	call_t c = { .deadline = deadline, .tok = tok };
	struct timespec ts = { 0, 1000000L };
	pthread_t th;
	int64_t until = zkcr_now_ms() + 10000;
	int done = 0;

	pthread_mutex_init(&c.mu, NULL);
	assert_int_equal(zkcr_cond_init(&c.cv), ZKC_OK);
	assert_int_equal(pthread_create(&th, NULL, wait_thread, &c), 0);
	while (!done && zkcr_now_ms() < until) {
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&c.mu);
		done = c.done;
		pthread_mutex_unlock(&c.mu);
	}
	if (!done) {
		pthread_mutex_lock(&c.mu);
		pthread_cond_broadcast(&c.cv);
		pthread_mutex_unlock(&c.mu);
		pthread_join(th, NULL);
		fail_msg("the wait (deadline %s, token %s) had not returned after 10 s",
		         deadline < 0 ? "none" : "set", tok ? "bound" : "not bound");
	}
	pthread_join(th, NULL);
	pthread_cond_destroy(&c.cv);
	pthread_mutex_destroy(&c.mu);
	return c.rc;
}

static void test_passed_deadline_times_out_without_a_token(void **state)
{
	(void)state;
	assert_int_equal(run_wait(zkcr_now_ms() - 1000, NULL), ZKC_ETIMEDOUT);
	assert_int_equal(run_wait(zkcr_now_ms(), NULL), ZKC_ETIMEDOUT);
}

static void test_passed_deadline_times_out_with_a_token_bound(void **state)
{
	zkc_cancel_t *tok = NULL;
	(void)state;

	assert_int_equal(zkc_cancel_new(&tok), ZKC_OK);
	assert_int_equal(run_wait(zkcr_now_ms() - 1000, tok), ZKC_ETIMEDOUT);
	assert_int_equal(run_wait(zkcr_now_ms() - 1, tok), ZKC_ETIMEDOUT);
	assert_int_equal(run_wait(zkcr_now_ms(), tok), ZKC_ETIMEDOUT);
	assert_int_equal(zkc_cancel_fired(tok), 0);
	zkc_cancel_free(tok);
}

static void test_a_token_bound_wakes_a_long_wait_to_look_at_it(void **state)
{
	zkc_cancel_t *tok = NULL;
	(void)state;

	assert_int_equal(zkc_cancel_new(&tok), ZKC_OK);
	/* one slice, then back to the caller's loop (no signal was sent) */
	assert_int_equal(run_wait(zkcr_now_ms() + 60000, tok), 0);
	assert_int_equal(run_wait(-1, tok), 0);
	zkc_cancel_fire(tok);
	assert_int_equal(run_wait(zkcr_now_ms() + 60000, tok), ZKC_ECANCELED);
	assert_int_equal(run_wait(zkcr_now_ms() - 1000, tok), ZKC_ECANCELED);
	zkc_cancel_free(tok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passed_deadline_times_out_without_a_token),
		cmocka_unit_test(test_passed_deadline_times_out_with_a_token_bound),
		cmocka_unit_test(test_a_token_bound_wakes_a_long_wait_to_look_at_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
