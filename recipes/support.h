/* recipes/support.h - what the recipes share and the public API does not
 * offer: a monotonic clock, deadline waits on condition variables, jittered
 * backoff and deep ACL copies with the recipe's name in their messages (the
 * options version check is the public zkc_options_version_check). Built
 * only on the public headers, like the recipes; names start with zkcr_ so a
 * grep tells them from the core's internal functions (which recipes never
 * call). */
#ifndef ZKC_RECIPES_SUPPORT_H
#define ZKC_RECIPES_SUPPORT_H

#include <pthread.h>
#include <stdint.h>

#include "zkc/acl.h"
#include "zkc/cancel.h"
#include "zkc/client.h"
#include "zkc/common.h"

/* Milliseconds on CLOCK_MONOTONIC (never jumps with the wall clock): the
 * clock of zkc_clock_ms and of deadlines bound to threads. */
int64_t zkcr_now_ms(void);

/* The deadline `timeout_ms` from now on zkcr_now_ms's clock; -1 (none)
 * when timeout_ms < 0. */
int64_t zkcr_deadline(int timeout_ms);

/* Binds the deadline of a recipe call to the calling thread (zkc/cancel.h)
 * so every request the call makes ends by it: the earlier of `deadline`
 * (zkcr_now_ms's clock; < 0: none) and the one bound already. Returns the
 * binding before, which the call restores (zkc_deadline_bind(prev)) before
 * it returns. The call's own waits use the deadline bound then
 * (zkc_deadline_bound()), so they end with its requests. */
int64_t zkcr_deadline_enter(int64_t deadline);

/* zkcr_deadline_enter for a call's `timeout_ms`: its deadline when
 * timeout_ms > 0; a wait without end (< 0) binds nothing of its own and
 * keeps the deadline bound already; a try (0) keeps the deadline bound
 * already, or binds ZKC_TRY_DEADLINE_MS from now when none is. Returns the
 * binding before, as zkcr_deadline_enter. */
int64_t zkcr_deadline_enter_timeout(int timeout_ms);

/* The earlier of two deadlines (< 0: none); < 0 when neither is set. */
int64_t zkcr_deadline_earlier(int64_t a, int64_t b);

/* Initializes *cv to time its waits on CLOCK_MONOTONIC, the clock of
 * zkcr_cond_wait_until. ZKC_OK or ZKC_ENOMEM. */
int zkcr_cond_init(pthread_cond_t *cv);

/* Waits on cv (mu held, as pthread_cond_wait) for a signal or until the
 * monotonic `deadline` (ms; < 0: no deadline). Returns ZKC_ECANCELED
 * (recorded for zkc_error_last) when the cancellation token bound to the
 * calling thread has fired (zkc/cancel.h: looked at before the wait and
 * every ZKC_CANCEL_POLL_MS while one is bound), ZKC_ETIMEDOUT when the
 * deadline has passed before the wait, else 0 after a wake-up, which may
 * be spurious or a time slice ending: callers re-check their condition and
 * call again. cv must come from zkcr_cond_init. */
int zkcr_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline);

/* A wake-up shared by a thread that waits for watches and the watches
 * that wake it: a watch fires exactly once, possibly after the waiter gave
 * up or its handle was freed, so each holds a reference. */
typedef struct zkcr_waker {
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* for zkcr_cond_wait_until */
	unsigned gen;           /* moves on at each fire */
	int refs;
} zkcr_waker_t;

/* A waker holding `refs` references (the caller's, and one for each
 * watch about to be set with it); NULL when out of memory. */
zkcr_waker_t *zkcr_waker_new(int refs);
void zkcr_waker_ref(zkcr_waker_t *w);
/* Drops a reference; the last one frees. NULL is a no-op. */
void zkcr_waker_unref(zkcr_waker_t *w);
/* The watch function for a waker (payload): moves gen on, wakes the
 * waiters and drops the watch's reference. */
void zkcr_waker_fire(zkc_t *zk, const zkc_event_t *ev, void *payload);

/* A random 32-bit value (getrandom; the clock if that fails). */
unsigned zkcr_random(void);

/* Sleeps a jittered [0, min(2^attempt, 64)] ms: the pause after a lost
 * race, so contenders do not retry in lock step. */
void zkcr_backoff(int attempt);

/* A deep copy of `in` for a handle that keeps an ACL beyond the call that
 * gave it: *out is NULL when in is NULL (the client's default ACL), else
 * owned by the caller and freed with zkcr_acl_free. ZKC_EBADARGUMENTS
 * (with a message naming `what`) for an empty list, over 64 entries or
 * entries without a scheme or id; ZKC_ENOMEM. */
int zkcr_acl_copy(zkc_acl_list_t **out, const zkc_acl_list_t *in, const char *what);
void zkcr_acl_free(zkc_acl_list_t *acl);

#endif
