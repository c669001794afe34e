/* tests/unit/test_retry.c - policy validation, backoff bounds and growth,
 * and the run's attempt and deadline limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

/* The largest double below 1: the top of random01's range. */
#define ALMOST_ONE nextafter(1.0, 0.0)

static void expect_invalid(const zkc_retry_t *r, const char *frag)
{
	zkc_error_clear();
	assert_int_equal(zkc_retry_validate(r), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_error_last()->code, ZKC_EBADARGUMENTS);
	if (!strstr(zkc_error_last()->message, frag))
		fail_msg("message \"%s\" lacks \"%s\"", zkc_error_last()->message, frag);
}

static void default_policy_is_valid(void **state)
{
	(void)state;
	zkc_retry_t r = ZKC_RETRY_INIT;

	assert_int_equal(zkc_retry_validate(&r), ZKC_OK);
	r.base_ms = r.max_ms = 1;
	r.max_attempts = 1;
	r.deadline_ms = 1;
	assert_int_equal(zkc_retry_validate(&r), ZKC_OK);
}

static void each_invalid_field_is_named(void **state)
{
	(void)state;
	zkc_retry_t r;

	expect_invalid(NULL, "NULL");
	r = (zkc_retry_t)ZKC_RETRY_INIT, r.version = 0;
	expect_invalid(&r, "options version 0");
	r = (zkc_retry_t)ZKC_RETRY_INIT, r.version = 2;
	expect_invalid(&r, "options version 2");
	r = (zkc_retry_t)ZKC_RETRY_INIT, r.base_ms = 0;
	expect_invalid(&r, "base_ms is 0");
	r = (zkc_retry_t)ZKC_RETRY_INIT, r.base_ms = -5;
	expect_invalid(&r, "base_ms is -5");
	r = (zkc_retry_t)ZKC_RETRY_INIT, r.base_ms = 100, r.max_ms = 99;
	expect_invalid(&r, "max_ms (99) must be >= base_ms (100)");
	r = (zkc_retry_t)ZKC_RETRY_INIT, r.max_attempts = -1;
	expect_invalid(&r, "max_attempts is -1");
	r = (zkc_retry_t)ZKC_RETRY_INIT, r.deadline_ms = 0;
	expect_invalid(&r, "deadline_ms is 0");
	r = (zkc_retry_t)ZKC_RETRY_INIT, r.deadline_ms = -1;
	expect_invalid(&r, "deadline_ms is -1");
}

static void first_retry_waits_between_half_and_full_base(void **state)
{
	(void)state;
	zkc_retry_t r = { ZKC_RETRY_VERSION, 100, 10000, 0, 30000 };

	assert_int_equal(zkc_retry_backoff_ms(&r, 1, 0.0), 50);
	assert_int_equal(zkc_retry_backoff_ms(&r, 1, ALMOST_ONE), 100);
	assert_int_equal(zkc_retry_backoff_ms(&r, 1, 0.5), 75);
}

static void backoff_doubles_per_attempt_until_the_cap(void **state)
{
	(void)state;
	zkc_retry_t r = { ZKC_RETRY_VERSION, 100, 1000, 0, 30000 };

	assert_int_equal(zkc_retry_backoff_ms(&r, 2, ALMOST_ONE), 200);
	assert_int_equal(zkc_retry_backoff_ms(&r, 3, ALMOST_ONE), 400);
	assert_int_equal(zkc_retry_backoff_ms(&r, 4, ALMOST_ONE), 800);
	assert_int_equal(zkc_retry_backoff_ms(&r, 5, ALMOST_ONE), 1000);
	assert_int_equal(zkc_retry_backoff_ms(&r, 5, 0.0), 500);
	assert_int_equal(zkc_retry_backoff_ms(&r, 50, ALMOST_ONE), 1000);
}

static void huge_attempt_numbers_do_not_overflow(void **state)
{
	(void)state;
	zkc_retry_t r = { ZKC_RETRY_VERSION, INT_MAX / 2 + 1, INT_MAX, 0, INT_MAX };

	for (int a = 1; a < 100; a++) {
		int b = zkc_retry_backoff_ms(&r, a, ALMOST_ONE);
		assert_true(b >= INT_MAX / 4 && b <= INT_MAX);
	}
	assert_int_equal(zkc_retry_backoff_ms(&r, INT_MAX, ALMOST_ONE), INT_MAX);
	r.base_ms = 1;
	assert_int_equal(zkc_retry_backoff_ms(&r, INT_MAX, 0.0), INT_MAX / 2);
	assert_int_equal(zkc_retry_backoff_ms(&r, 32, ALMOST_ONE), INT_MAX);
}

static void tiny_base_stays_within_bounds(void **state)
{
	(void)state;
	zkc_retry_t r = { ZKC_RETRY_VERSION, 1, 1, 0, 1000 };

	assert_int_equal(zkc_retry_backoff_ms(&r, 1, 0.0), 0);
	assert_int_equal(zkc_retry_backoff_ms(&r, 1, 0.999), 1);
	r.max_ms = INT_MAX;
	for (int a = 1; a < 64; a++) {
		int64_t d = a <= 31 ? (int64_t)1 << (a - 1) : INT_MAX;
		int b = zkc_retry_backoff_ms(&r, a, ALMOST_ONE);
		assert_true(b >= d / 2 && b <= d);
	}
}

static void no_backoff_before_the_first_attempt_or_without_policy(void **state)
{
	(void)state;
	zkc_retry_t r = ZKC_RETRY_INIT;

	assert_int_equal(zkc_retry_backoff_ms(&r, 0, 0.5), 0);
	assert_int_equal(zkc_retry_backoff_ms(&r, -3, 0.5), 0);
	assert_int_equal(zkc_retry_backoff_ms(NULL, 1, 0.5), 0);
}

static void out_of_range_random_is_clamped(void **state)
{
	(void)state;
	zkc_retry_t r = { ZKC_RETRY_VERSION, 100, 1000, 0, 30000 };

	assert_int_equal(zkc_retry_backoff_ms(&r, 1, -0.5), 50);
	assert_int_equal(zkc_retry_backoff_ms(&r, 1, 1.0), 50);
	assert_int_equal(zkc_retry_backoff_ms(&r, 1, 7.0), 50);
	assert_int_equal(zkc_retry_backoff_ms(&r, 1, NAN), 50);
}

/* Over many random draws every backoff lies in [d/2, d] and the draws
 * cover the range (jitter really spreads retries). */
static void backoff_stays_in_bounds_over_many_random_values(void **state)
{
	(void)state;
	zkc_retry_t r = { ZKC_RETRY_VERSION, 20, 5000, 0, 30000 };

	for (int a = 1; a <= 40; a++) {
		int64_t d = 20;
		int lo = INT_MAX, hi = 0;

		for (int i = 1; i < a && d < 5000; i++)
			d *= 2;
		if (d > 5000)
			d = 5000;
		for (int i = 0; i < 5000; i++) {
			int b = zkc_retry_backoff_ms(&r, a, zkc__random01());
			assert_true(b >= d / 2 && b <= d);
			lo = b < lo ? b : lo;
			hi = b > hi ? b : hi;
		}
		assert_true(lo <= d / 2 + d / 10);
		assert_true(hi >= d - d / 10);
	}
}

static void random01_is_uniform_in_unit_interval(void **state)
{
	(void)state;
	double sum = 0;
	int buckets[10] = { 0 };
	const int n = 200000;

	for (int i = 0; i < n; i++) {
		double x = zkc__random01();
		assert_true(x >= 0.0 && x < 1.0);
		sum += x;
		buckets[(int)(x * 10)]++;
	}
	assert_true(fabs(sum / n - 0.5) < 0.01);
	for (int i = 0; i < 10; i++)
		assert_true(buckets[i] > n / 10 * 9 / 10 && buckets[i] < n / 10 * 11 / 10);
}

static void begin_without_policy_uses_the_default(void **state)
{
	(void)state;
	zkc__retry_run_t run;
	zkc_retry_t zero = { 0, 0, 0, 0, 0 };
	zkc_retry_t dflt = ZKC_RETRY_INIT;

	zkc__retry_begin(&run, NULL);
	assert_memory_equal(&run.policy, &dflt, sizeof(dflt));
	assert_int_equal(run.attempt, 1);
	zkc__retry_begin(&run, &zero);
	assert_memory_equal(&run.policy, &dflt, sizeof(dflt));
}

static void attempt_limit_counts_the_first_attempt(void **state)
{
	(void)state;
	zkc_retry_t r = { ZKC_RETRY_VERSION, 1, 1, 3, 60000 };
	zkc__retry_run_t run;
	int64_t sleep = -1;

	zkc__retry_begin(&run, &r);
	assert_int_equal(zkc__retry_next(&run, &sleep), ZKC_OK);
	assert_true(sleep >= 0 && sleep <= 1);
	assert_int_equal(zkc__retry_next(&run, &sleep), ZKC_OK);
	assert_int_equal(run.attempt, 3);
	assert_int_equal(zkc__retry_next(&run, &sleep), ZKC_ETIMEDOUT);
	assert_int_equal(zkc_error_last()->code, ZKC_ETIMEDOUT);
	assert_non_null(strstr(zkc_error_last()->message, "3 attempts"));
	assert_int_equal(sleep, 0);
	assert_int_equal(run.attempt, 3);

	r.max_attempts = 1;
	zkc__retry_begin(&run, &r);
	assert_int_equal(zkc__retry_next(&run, &sleep), ZKC_ETIMEDOUT);
}

static void zero_attempts_means_no_count_limit(void **state)
{
	(void)state;
	zkc_retry_t r = { ZKC_RETRY_VERSION, 1, 1, 0, 60000 };
	zkc__retry_run_t run;
	int64_t sleep;

	zkc__retry_begin(&run, &r);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(zkc__retry_next(&run, &sleep), ZKC_OK);
	assert_int_equal(run.attempt, 1001);
}

static void backoff_past_the_deadline_times_out_at_once(void **state)
{
	(void)state;
	zkc_retry_t r = { ZKC_RETRY_VERSION, 10000, 10000, 0, 1000 };
	zkc__retry_run_t run;
	int64_t sleep = -1, t0 = zkc__now_ms();

	zkc__retry_begin(&run, &r);
	assert_int_equal(zkc__retry_next(&run, &sleep), ZKC_ETIMEDOUT);
	assert_non_null(strstr(zkc_error_last()->message, "deadline of 1000 ms"));
	assert_int_equal(sleep, 0);
	assert_true(zkc__now_ms() - t0 < 500);  /* it did not sleep first */
}

static void passed_deadline_leaves_no_time(void **state)
{
	(void)state;
	zkc_retry_t r = { ZKC_RETRY_VERSION, 1, 1, 0, 1000 };
	zkc__retry_run_t run;
	int64_t sleep;

	zkc__retry_begin(&run, &r);
	assert_true(zkc__retry_left_ms(&run) <= 1000);
	assert_true(zkc__retry_left_ms(&run) > 900);
	run.start_ms -= 1000;  /* as if the call began a second ago */
	assert_int_equal(zkc__retry_left_ms(&run), 0);
	assert_int_equal(zkc__retry_next(&run, &sleep), ZKC_ETIMEDOUT);
	run.start_ms -= 100000;
	assert_int_equal(zkc__retry_left_ms(&run), 0);
}

/* A real loop: sleeps what next() says, never starts an attempt after the
 * deadline, and stops soon after it. */
/* The loop never plans a sleep past its deadline and ends with
 * ZKC_ETIMEDOUT once the deadline is near. Only what the policy decides is
 * asserted: how long a sleep really takes is the scheduler's business (on
 * a loaded machine a 10 ms sleep can take 100), so wall-clock upper bounds
 * here would make the test flaky, not stricter. */
static void retry_loop_ends_by_the_deadline(void **state)
{
	(void)state;
	zkc_retry_t r = { ZKC_RETRY_VERSION, 10, 40, 0, 200 };
	zkc__retry_run_t run;
	int64_t sleep, t0;
	int rc, attempts = 1;

	zkc__retry_begin(&run, &r);
	t0 = run.start_ms;
	while ((rc = zkc__retry_next(&run, &sleep)) == ZKC_OK) {
		assert_true(sleep <= zkc__retry_left_ms(&run) + 1);
		assert_true(sleep >= 5 && sleep <= 40);
		zkc__sleep_ms(sleep);
		attempts++;
	}
	assert_int_equal(rc, ZKC_ETIMEDOUT);
	/* it retried (the first backoff is at most 10 ms of 200), at most as
	 * often as 5 ms sleeps fit, and gave up no earlier than one maximal
	 * backoff before the deadline */
	assert_true(attempts >= 2 && attempts <= 40);
	assert_true(zkc__now_ms() - t0 >= 200 - 40);
	assert_int_equal(run.attempt, attempts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_policy_is_valid),
		cmocka_unit_test(each_invalid_field_is_named),
		cmocka_unit_test(first_retry_waits_between_half_and_full_base),
		cmocka_unit_test(backoff_doubles_per_attempt_until_the_cap),
		cmocka_unit_test(huge_attempt_numbers_do_not_overflow),
		cmocka_unit_test(tiny_base_stays_within_bounds),
		cmocka_unit_test(no_backoff_before_the_first_attempt_or_without_policy),
		cmocka_unit_test(out_of_range_random_is_clamped),
		cmocka_unit_test(backoff_stays_in_bounds_over_many_random_values),
		cmocka_unit_test(random01_is_uniform_in_unit_interval),
		cmocka_unit_test(begin_without_policy_uses_the_default),
		cmocka_unit_test(attempt_limit_counts_the_first_attempt),
		cmocka_unit_test(zero_attempts_means_no_count_limit),
		cmocka_unit_test(backoff_past_the_deadline_times_out_at_once),
		cmocka_unit_test(passed_deadline_leaves_no_time),
		cmocka_unit_test(retry_loop_ends_by_the_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
