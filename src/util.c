/* src/util.c - monotonic time, sleeping, condition variables on the
 * monotonic clock, string helpers, a thread-safe random source and the
 * duration parser used by the URL options. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* gettid */
#endif
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

int64_t zkc__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void zkc__sleep_ms(int64_t ms)
{
	struct timespec req, rem;

	if (ms <= 0)
		return;
	req.tv_sec = (time_t)(ms / 1000);
	req.tv_nsec = (long)(ms % 1000) * 1000000L;
	/* A signal must not cut a backoff short. */
	while (nanosleep(&req, &rem) != 0 && errno == EINTR)
		req = rem;
}

void zkc__deadline_ts(struct timespec *ts, int64_t ms)
{
	/* Far enough that no caller waits that long, small enough that
	 * tv_sec cannot overflow. */
	const int64_t max_ms = (int64_t)INT32_MAX * 1000;

	if (ms < 0)
		ms = 0;
	if (ms > max_ms)
		ms = max_ms;
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int zkc__cond_init(void *cond)
{
	pthread_condattr_t attr;
	int rc;

	/* Timed waits must not jump when the wall clock is set. */
	rc = pthread_condattr_init(&attr);
	if (rc != 0)
		return zkc__error(ZKC_EOS, "pthread_condattr_init: %s", strerror(rc));
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init((pthread_cond_t *)cond, &attr);
	pthread_condattr_destroy(&attr);
	if (rc != 0)
		return zkc__error(ZKC_EOS, "pthread_cond_init: %s", strerror(rc));
	return ZKC_OK;
}

char *zkc__strdup(const char *s)
{
	return s ? zkc__strndup(s, strlen(s)) : NULL;
}

char *zkc__strndup(const char *s, size_t n)
{
	char *p;

	if (!s)
		return NULL;
	n = strnlen(s, n);
	p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *zkc__sprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = malloc((size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/* xorshift64* per thread: no lock on the backoff path, and jitter needs
 * spread, not cryptographic strength. */
static _Thread_local uint64_t rng_state;

static uint64_t rng_seed(void)
{
	uint64_t seed = 0;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed) && seed)
		return seed;
	/* No entropy yet (early boot): time, thread and address differ per
	 * thread, which is all jitter needs. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)gettid() << 16 ^
	       (uint64_t)(uintptr_t)&rng_state;
	return seed ? seed : 0x9E3779B97F4A7C15ULL;
}

double zkc__random01(void)
{
	uint64_t x = rng_state;

	if (x == 0)
		x = rng_seed();
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	/* The top 53 bits give a double uniform in [0, 1). */
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

int zkc__parse_duration_ms(int64_t *out, const char *s)
{
	int64_t value = 0, unit;
	const char *p = s;

	if (!s || !*s)
		return zkc__error(ZKC_EBADARGUMENTS, "empty duration");
	if (*p < '0' || *p > '9')
		return zkc__error(ZKC_EBADARGUMENTS,
		                  "invalid duration \"%.64s\": expected a number with ms, s or m", s);
	for (; *p >= '0' && *p <= '9'; p++) {
		int digit = *p - '0';
		if (value > (INT64_MAX - digit) / 10)
			return zkc__error(ZKC_EBADARGUMENTS, "duration \"%.64s\" is too large", s);
		value = value * 10 + digit;
	}
	if (*p == '\0' || strcmp(p, "ms") == 0)
		unit = 1;
	else if (strcmp(p, "s") == 0)
		unit = 1000;
	else if (strcmp(p, "m") == 0)
		unit = 60000;
	else
		return zkc__error(ZKC_EBADARGUMENTS,
		                  "invalid duration \"%.64s\": unknown unit (use ms, s or m)", s);
	if (value > INT64_MAX / unit)
		return zkc__error(ZKC_EBADARGUMENTS, "duration \"%.64s\" is too large", s);
	*out = value * unit;
	return ZKC_OK;
}

void zkc__quote(char *dst, size_t cap, const char *s, size_t len)
{
	size_t o = 0, i;

	for (i = 0; i < len && i < ZKC__QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 5 >= cap)
			break;
		if (c == '"' || c == '\\') {
			dst[o++] = '\\';
			dst[o++] = (char)c;
		} else if (c >= 0x20 && c < 0x7f) {
			dst[o++] = (char)c;
		} else {
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
		}
	}
	if (i < len && o + 4 <= cap) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}
