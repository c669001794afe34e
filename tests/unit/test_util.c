/* tests/unit/test_util.c - durations, monotonic time and sleeping, string
 * helpers, the log filter and the constant ACL lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <cmocka.h>

#include "internal.h"

/* ------------------------------------------------------------ durations */

static void durations_take_ms_s_m_and_bare_ms(void **state)
{
	(void)state;
	struct {
		const char *s;
		int64_t ms;
	} ok[] = {
		{ "500ms", 500 }, { "10s", 10000 }, { "2m", 120000 }, { "1500", 1500 },
		{ "0", 0 },       { "0ms", 0 },     { "0s", 0 },      { "007", 7 },
		{ "9223372036854775807", INT64_MAX }, { "9223372036854775807ms", INT64_MAX },
		{ "153722867280912m", INT64_C(153722867280912) * 60000 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t v = -1;
		assert_int_equal(zkc__parse_duration_ms(&v, ok[i].s), ZKC_OK);
		assert_true(v == ok[i].ms);
	}
}

static void bad_durations_are_rejected_and_leave_out_alone(void **state)
{
	(void)state;
	static const char *bad[] = {
		"", "-1", "+1", " 1", "1 ", "1h", "1sec", "ms", "s", "1.5s", "1e3", "0x10",
		"10S", "10Ms", "1s1", "1mss", "abc",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t v = 4242;
		zkc_error_clear();
		assert_int_equal(zkc__parse_duration_ms(&v, bad[i]), ZKC_EBADARGUMENTS);
		assert_int_equal(v, 4242);
		assert_int_equal(zkc_error_last()->code, ZKC_EBADARGUMENTS);
		assert_true(strlen(zkc_error_last()->message) > 0);
	}
	assert_int_equal(zkc__parse_duration_ms(&(int64_t){ 0 }, NULL), ZKC_EBADARGUMENTS);
	zkc__parse_duration_ms(&(int64_t){ 0 }, "1h");
	assert_non_null(strstr(zkc_error_last()->message, "\"1h\""));
	assert_non_null(strstr(zkc_error_last()->message, "unit"));
}

static void overflowing_durations_are_rejected(void **state)
{
	(void)state;
	static const char *big[] = {
		"9223372036854775808", "99999999999999999999999", "153722867280913m",
		"9223372036854776s",
	};
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		int64_t v = 1;
		assert_int_equal(zkc__parse_duration_ms(&v, big[i]), ZKC_EBADARGUMENTS);
		assert_non_null(strstr(zkc_error_last()->message, "too large"));
		assert_int_equal(v, 1);
	}
}

/* ------------------------------------------------------------ time */

static void now_is_monotonic_and_sleep_waits_at_least_as_asked(void **state)
{
	(void)state;
	int64_t t0 = zkc__now_ms(), t1;

	assert_true(t0 > 0);
	zkc__sleep_ms(30);
	t1 = zkc__now_ms();
	assert_true(t1 - t0 >= 30);
	assert_true(t1 - t0 < 1000);
	zkc__sleep_ms(0);
	zkc__sleep_ms(-5);
	assert_true(zkc__now_ms() - t1 < 20);
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void sleep_survives_signals(void **state)
{
	(void)state;
	struct sigaction sa, old;
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } };  /* every 10 ms */
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	int64_t t0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;  /* no SA_RESTART: nanosleep gets EINTR */
	sigaction(SIGALRM, &sa, &old);
	alarms = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	t0 = zkc__now_ms();
	zkc__sleep_ms(120);
	assert_true(zkc__now_ms() - t0 >= 120);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	assert_true(alarms >= 2);
}

static void deadline_is_normalised_and_monotonic(void **state)
{
	(void)state;
	struct timespec now, ts;
	int64_t ms[] = { 0, 1, 999, 1000, 1001, 123456, -50, INT64_MAX };

	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		zkc__deadline_ts(&ts, ms[i]);
		assert_true(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L);
		assert_true(ts.tv_sec >= now.tv_sec);
		if (ms[i] > 0 && ms[i] < 1000000) {
			int64_t d = (int64_t)(ts.tv_sec - now.tv_sec) * 1000 +
			            (ts.tv_nsec - now.tv_nsec) / 1000000;
			assert_true(d >= ms[i] - 1 && d <= ms[i] + 50);
		}
	}
}

static void cond_waits_on_the_monotonic_clock(void **state)
{
	(void)state;
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv;
	struct timespec ts;
	int64_t t0 = zkc__now_ms();
	int rc;

	assert_int_equal(zkc__cond_init(&cv), ZKC_OK);
	pthread_mutex_lock(&mu);
	zkc__deadline_ts(&ts, 40);
	do
		rc = pthread_cond_timedwait(&cv, &mu, &ts);
	while (rc == 0);
	pthread_mutex_unlock(&mu);
	assert_int_equal(rc, ETIMEDOUT);
	assert_true(zkc__now_ms() - t0 >= 39);
	assert_true(zkc__now_ms() - t0 < 1000);
	pthread_cond_destroy(&cv);
}

/* ------------------------------------------------------------ strings */

static void string_helpers_copy_and_accept_null(void **state)
{
	(void)state;
	char *s;

	assert_null(zkc__strdup(NULL));
	assert_null(zkc__strndup(NULL, 3));
	s = zkc__strdup("abc");
	assert_string_equal(s, "abc");
	free(s);
	s = zkc__strndup("abcdef", 3);
	assert_string_equal(s, "abc");
	free(s);
	s = zkc__strndup("ab", 10);  /* never reads past the NUL */
	assert_string_equal(s, "ab");
	free(s);
	s = zkc__strndup("abc", 0);
	assert_string_equal(s, "");
	free(s);
	s = zkc__sprintf("%s:%d", "h", 2181);
	assert_string_equal(s, "h:2181");
	free(s);
	s = zkc__sprintf("%s", "");
	assert_string_equal(s, "");
	free(s);
}

static void sprintf_handles_long_output(void **state)
{
	(void)state;
	char big[3000];
	char *s;

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	s = zkc__sprintf("<%s>", big);
	assert_int_equal(strlen(s), sizeof(big) + 1);
	free(s);
}

/* ------------------------------------------------------------ logging */

struct captured {
	int calls;
	int level;
	char line[256];
};

static void capture(int level, const char *message, void *payload)
{
	struct captured *c = payload;

	c->calls++;
	c->level = level;
	strncpy(c->line, message, sizeof(c->line) - 1);
}

static void log_default_level_passes_warnings_and_errors_only(void **state)
{
	(void)state;
	struct captured c = { 0 };
	zkc__log_t log = { capture, &c, 0 };

	zkc__log(&log, ZKC_LOG_ERROR, "e %d", 1);
	assert_int_equal(c.calls, 1);
	assert_string_equal(c.line, "e 1");
	assert_int_equal(c.level, ZKC_LOG_ERROR);
	zkc__log(&log, ZKC_LOG_WARN, "w");
	assert_int_equal(c.calls, 2);
	zkc__log(&log, ZKC_LOG_INFO, "i");
	zkc__log(&log, ZKC_LOG_DEBUG, "d");
	assert_int_equal(c.calls, 2);
	assert_string_equal(c.line, "w");
}

static void log_level_debug_passes_everything(void **state)
{
	(void)state;
	struct captured c = { 0 };
	zkc__log_t log = { capture, &c, ZKC_LOG_DEBUG };

	for (int l = ZKC_LOG_ERROR; l <= ZKC_LOG_DEBUG; l++)
		zkc__log(&log, l, "x");
	assert_int_equal(c.calls, 4);
	log.level = ZKC_LOG_ERROR;
	zkc__log(&log, ZKC_LOG_WARN, "x");
	assert_int_equal(c.calls, 4);
}

static void log_without_callback_does_nothing(void **state)
{
	(void)state;
	zkc__log_t log = { NULL, NULL, ZKC_LOG_DEBUG };

	zkc__log(&log, ZKC_LOG_ERROR, "nobody listens");
	zkc__log(NULL, ZKC_LOG_ERROR, "nobody listens");
}

static void log_keeps_errno_and_cuts_long_lines(void **state)
{
	(void)state;
	struct captured c = { 0 };
	zkc__log_t log = { capture, &c, 0 };
	char big[5000];

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	errno = EPIPE;
	zkc__log(&log, ZKC_LOG_ERROR, "%s", big);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(c.calls, 1);
}

/* ------------------------------------------------------------ ACLs */

static void acl_lists_are_the_well_known_ones(void **state)
{
	(void)state;
	const zkc_acl_list_t *l;

	l = zkc_acl_open();
	assert_int_equal(l->count, 1);
	assert_int_equal(l->acls[0].perms, ZKC_PERM_ALL);
	assert_string_equal(l->acls[0].scheme, "world");
	assert_string_equal(l->acls[0].id, "anyone");

	l = zkc_acl_creator_all();
	assert_int_equal(l->count, 1);
	assert_int_equal(l->acls[0].perms, ZKC_PERM_ALL);
	assert_string_equal(l->acls[0].scheme, "auth");
	assert_string_equal(l->acls[0].id, "");

	l = zkc_acl_read_only();
	assert_int_equal(l->count, 1);
	assert_int_equal(l->acls[0].perms, ZKC_PERM_READ);
	assert_string_equal(l->acls[0].scheme, "world");
	assert_string_equal(l->acls[0].id, "anyone");

	assert_ptr_equal(zkc_acl_open(), zkc_acl_open());
	assert_int_equal(ZKC_PERM_ALL, ZKC_PERM_READ | ZKC_PERM_WRITE | ZKC_PERM_CREATE |
	                                   ZKC_PERM_DELETE | ZKC_PERM_ADMIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations_take_ms_s_m_and_bare_ms),
		cmocka_unit_test(bad_durations_are_rejected_and_leave_out_alone),
		cmocka_unit_test(overflowing_durations_are_rejected),
		cmocka_unit_test(now_is_monotonic_and_sleep_waits_at_least_as_asked),
		cmocka_unit_test(sleep_survives_signals),
		cmocka_unit_test(deadline_is_normalised_and_monotonic),
		cmocka_unit_test(cond_waits_on_the_monotonic_clock),
		cmocka_unit_test(string_helpers_copy_and_accept_null),
		cmocka_unit_test(sprintf_handles_long_output),
		cmocka_unit_test(log_default_level_passes_warnings_and_errors_only),
		cmocka_unit_test(log_level_debug_passes_everything),
		cmocka_unit_test(log_without_callback_does_nothing),
		cmocka_unit_test(log_keeps_errno_and_cuts_long_lines),
		cmocka_unit_test(acl_lists_are_the_well_known_ones),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
