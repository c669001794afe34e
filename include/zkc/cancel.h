/* zkc/cancel.h - cancellation tokens: another thread makes a blocking zkc
 * call return early, and the call cleans up after itself (a canceled lock
 * acquire deletes its node). For languages with their own cancellation
 * (Go's context.Context, Python's asyncio) and for C programs that stop a
 * worker blocked in zkc. */
#ifndef ZKC_CANCEL_H
#define ZKC_CANCEL_H

#include "zkc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zkc_cancel zkc_cancel_t;

/* A token, not fired. *out is owned by the caller (zkc_cancel_free).
 * Expected codes: ZKC_EBADARGUMENTS (out NULL), ZKC_ENOMEM. */
ZKC_EXTERN int zkc_cancel_new(zkc_cancel_t **out);

/* Frees the token. It must not be bound to any thread and no thread may
 * fire it any more. NULL is a no-op. */
ZKC_EXTERN void zkc_cancel_free(zkc_cancel_t *c);

/* Fires the token: blocking calls running on threads it is bound to return
 * within about ZKC_CANCEL_POLL_MS, later ones at once, until it is reset.
 * Any thread; it takes no lock and never blocks (safe in a signal
 * handler). Firing twice is firing once. NULL is a no-op. */
ZKC_EXTERN void zkc_cancel_fire(zkc_cancel_t *c);

/* 1 if the token has fired since it was made or reset, else 0. */
ZKC_EXTERN int zkc_cancel_fired(const zkc_cancel_t *c);

/* Makes a fired token usable again (not while a bound call runs). */
ZKC_EXTERN void zkc_cancel_reset(zkc_cancel_t *c);

/* Binds c to the calling thread (NULL unbinds) and returns the token bound
 * before, so bindings nest: `prev = zkc_cancel_bind(c); call...;
 * zkc_cancel_bind(prev);`. The token is borrowed: it must outlive the
 * binding. One token may be bound on several threads at once.
 *
 * While a fired token is bound, every zkc call that waits for the servers,
 * for a connection or for other clients stops waiting and returns:
 *   - ZKC_ECANCELED for reads, for writes not sent yet, and for recipe
 *     waits: zkc_lock_acquire (its node is deleted, as with
 *     zkc_lock_cancel), zkc_queue_take (between rounds: no item is left
 *     taken), zkc_semaphore_acquire, zkc_election_await,
 *     zkc_barrier_wait, zkc_double_barrier_enter/leave,
 *     zkc_cache_wait_initialized/wait_zxid, zkc_wait_connected, and the
 *     retry backoff and connection wait of every node operation;
 *   - ZKC_EUNKNOWN for a write whose request was sent and whose reply had
 *     not come: it may have been applied (as after a lost connection).
 * A pipelined batch (zkc_batch_run) stops waiting for a connection, but
 * once sent it waits for its replies (one round trip). zkc_open, the
 * close and free functions and releases are not canceled. */
/* Borrowed: the token returned is the one the caller bound before (still
 * the caller's to free). */
ZKC_EXTERN zkc_cancel_t *zkc_cancel_bind(zkc_cancel_t *c);

/* The token bound to the calling thread, or NULL. Borrowed: the binder's
 * token; never free it here. */
ZKC_EXTERN zkc_cancel_t *zkc_cancel_bound(void);

/* For waits in code built on zkc (recipes of one's own): ZKC_ECANCELED,
 * recorded for zkc_error_last(), if the token bound to the calling thread
 * has fired; else ZKC_OK. Cleanup after a cancel (deleting one's node)
 * must run with the token unbound (`t = zkc_cancel_bind(NULL); ...;
 * zkc_cancel_bind(t);`), or its own blocking calls are canceled too. */
ZKC_EXTERN int zkc_cancel_check(void);

/* How often a wait looks at its token. */
#define ZKC_CANCEL_POLL_MS 10

/* For the same waits: how long to sleep before looking again, given the
 * time left (ms; < 0 = no limit): the time left itself when no token is
 * bound, else at most ZKC_CANCEL_POLL_MS. */
ZKC_EXTERN int64_t zkc_cancel_slice_ms(int64_t left_ms);

/* ---- deadlines bound to threads
 *
 * A deadline bound to a thread ends every blocking zkc call the thread
 * makes by that time, whatever the client's retry policy allows: the wait
 * for a connection, each request's wait for its reply, the backoff between
 * retries, zkc_batch_run and zkc_wait_connected. A call that reaches it
 * returns ZKC_ETIMEDOUT, or ZKC_EUNKNOWN for a write whose request was
 * sent and not answered (it may have been applied); a call made after it
 * has passed sends nothing and returns ZKC_ETIMEDOUT. Every recipe call
 * that takes a timeout binds its own deadline this way (the earlier of its
 * timeout and the one already bound), so its inner requests end with it.
 * Asynchronous runs (zkc_batch_run_async, zkc_batch_run_queued) outlive
 * the call that starts them and keep the client's retry deadline. For
 * bindings whose languages carry deadlines (Go's context.WithDeadline). */

/* The deadline of a try: a recipe call told not to wait for other clients
 * (timeout 0: zkc_lock_acquire, zkc_semaphore_acquire, zkc_queue_take,
 * zkc_barrier_wait, zkc_double_barrier_enter/leave, zkc_index_sync) still
 * waits for the servers' replies. With no deadline bound to the thread it
 * binds this one (ms from its start), so against servers that do not
 * answer it returns ZKC_ETIMEDOUT after about this long rather than after
 * the client's retry deadline; with a deadline bound (the caller's own, or
 * the one of a call it runs inside) it keeps that one. */
#define ZKC_TRY_DEADLINE_MS 3000

/* No deadline (zkc_deadline_bind, zkc_deadline_bound). */
#define ZKC_NO_DEADLINE (-1)

/* Milliseconds of CLOCK_MONOTONIC, the clock of bound deadlines. */
ZKC_EXTERN int64_t zkc_clock_ms(void);

/* Binds `deadline_ms` (zkc_clock_ms's clock; ZKC_NO_DEADLINE or any
 * negative value: none) to the calling thread and returns the one bound
 * before, so bindings nest: `prev = zkc_deadline_bind(d); calls...;
 * zkc_deadline_bind(prev);`. The value given is bound as it is, also when
 * it is later than the one before: cleanup that must outlive a deadline
 * (deleting one's node) runs after `zkc_deadline_bind(ZKC_NO_DEADLINE)`. */
ZKC_EXTERN int64_t zkc_deadline_bind(int64_t deadline_ms);

/* The deadline bound to the calling thread, or ZKC_NO_DEADLINE. */
ZKC_EXTERN int64_t zkc_deadline_bound(void);

#ifdef __cplusplus
}
#endif
#endif
