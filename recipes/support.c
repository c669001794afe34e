/* recipes/support.c - the recipes' shared helpers (support.h): clock,
 * deadline waits, backoff, ACL copies, options versions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "zkc/cancel.h"
#include "support.h"

/* An ACL longer than this is a mistake, not a policy. */

int64_t zkcr_now_ms(void)
{
	return zkc_clock_ms();
}

int64_t zkcr_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : zkcr_now_ms() + timeout_ms;
}

int64_t zkcr_deadline_earlier(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	return b >= 0 && b < a ? b : a;
}

int64_t zkcr_deadline_enter(int64_t deadline)
{
	return zkc_deadline_bind(zkcr_deadline_earlier(deadline, zkc_deadline_bound()));
}

int64_t zkcr_deadline_enter_timeout(int timeout_ms)
{
	int64_t bound;

	if (timeout_ms != 0)
		return zkcr_deadline_enter(timeout_ms > 0 ? zkcr_deadline(timeout_ms) : -1);
	/* a try: the deadline bound already (the caller's, or the enclosing
	 * call's), else a short one of its own */
	bound = zkc_deadline_bound();
	return zkc_deadline_bind(bound >= 0 ? bound : zkcr_deadline(ZKC_TRY_DEADLINE_MS));
}

int zkcr_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	int rc;

	if (pthread_condattr_init(&ca) != 0)
		return zkc_error_set(ZKC_ENOMEM, "out of memory for a condition variable");
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	rc = pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
	return rc == 0 ? ZKC_OK : zkc_error_set(ZKC_ENOMEM, "out of memory for a condition variable");
}

int zkcr_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline)
{
	struct timespec ts;
	int64_t left, until;
	int rc;

	if ((rc = zkc_cancel_check()) != ZKC_OK)
		return rc;
	left = deadline < 0 ? -1 : deadline - zkcr_now_ms();
	if (deadline >= 0 && left <= 0)     /* callers say what did not happen in time */
		return zkc_error_set(ZKC_ETIMEDOUT, "deadline passed");
	/* with a token bound, wake up often enough to notice it firing */
	left = zkc_cancel_slice_ms(left);
	if (left < 0) {
		pthread_cond_wait(cv, mu);
		return 0;
	}
	until = zkcr_now_ms() + left;
	ts.tv_sec = (time_t)(until / 1000);
	ts.tv_nsec = (long)(until % 1000) * 1000000L;
	pthread_cond_timedwait(cv, mu, &ts);
	return 0;
}

zkcr_waker_t *zkcr_waker_new(int refs)
{
	zkcr_waker_t *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	if (zkcr_cond_init(&w->cv) != ZKC_OK) {
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	w->refs = refs;
	return w;
}

void zkcr_waker_ref(zkcr_waker_t *w)
{
	pthread_mutex_lock(&w->mu);
	w->refs++;
	pthread_mutex_unlock(&w->mu);
}

void zkcr_waker_unref(zkcr_waker_t *w)
{
	int last;

	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	last = --w->refs == 0;
	pthread_mutex_unlock(&w->mu);
	if (last) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w);
	}
}

void zkcr_waker_fire(zkc_t *zk, const zkc_event_t *ev, void *payload)
{
	zkcr_waker_t *w = payload;

	(void)zk;
	(void)ev;
	pthread_mutex_lock(&w->mu);
	w->gen++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	zkcr_waker_unref(w);
}

unsigned zkcr_random(void)
{
	unsigned v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = (unsigned)zkcr_now_ms() * 2654435761u;
	return v;
}

void zkcr_backoff(int attempt)
{
	unsigned cap = attempt >= 6 ? 64u : 1u << (attempt < 0 ? 0 : attempt);
	unsigned us = zkcr_random() % (cap * 1000u + 1u);
	struct timespec ts = { 0, (long)us * 1000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void zkcr_acl_free(zkc_acl_list_t *acl)
{
	zkc_acl_list_free(acl);
}

/* The public deep copy, with `what` in front of its message. */
int zkcr_acl_copy(zkc_acl_list_t **out, const zkc_acl_list_t *in, const char *what)
{
	char msg[256];
	int rc = zkc_acl_list_copy(out, in);

	if (rc == ZKC_OK)
		return rc;
	snprintf(msg, sizeof(msg), "%s", zkc_error_last()->message);
	return zkc_error_set(rc, "%s: %s", what, msg);
}
