/* zkc/semaphore.h - a counting semaphore: at most N leases held at once
 * across all clients, in Curator's InterProcessSemaphoreV2 layout
 * (PATH/locks guards admission, PATH/leases holds one node per lease). */
#ifndef ZKC_SEMAPHORE_H
#define ZKC_SEMAPHORE_H

#include "zkc/lock.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zkc_semaphore zkc_semaphore_t;
typedef struct zkc_semaphore_lease zkc_semaphore_lease_t;

/* A semaphore handle on `path` allowing max_leases (>= 1) holders. Nothing
 * is sent. *out is owned by the caller (zkc_semaphore_close); `zk` must
 * outlive it. opts (may be NULL) gives the ACL and node data (both
 * copied); its flags must be 0 and its
 * event_fn is not used. Expected codes:
 * ZKC_EBADARGUMENTS (path, max_leases, options), ZKC_ENOMEM. */
ZKC_EXTERN int zkc_semaphore_open(zkc_semaphore_t **out, zkc_t *zk, const char *path,
                                  int max_leases, const zkc_lock_options_t *opts);

/* The destructor: frees the handle. Leases taken from it must be freed
 * first (they refer to it). NULL is a no-op. */
ZKC_EXTERN void zkc_semaphore_close(zkc_semaphore_t *sem);

/* Takes one lease, waiting up to timeout_ms (ZKC_LOCK_TRY, ZKC_LOCK_FOREVER
 * or a positive number; other negatives are ZKC_EBADARGUMENTS; a try's
 * requests end by ZKC_TRY_DEADLINE_MS, zkc/cancel.h). Admission
 * is serialised by the lock at PATH/locks (fair, FIFO); the lease is an
 * ephemeral-sequential node under PATH/leases, held while at most
 * max_leases such nodes exist. Every failure deletes what it created.
 * *out is owned by the caller (zkc_semaphore_lease_free; release it first
 * with zkc_semaphore_release to learn the outcome). Several leases may
 * be taken through one handle, from any threads but the event thread.
 * Expected codes: ZKC_EAGAIN (try: all leases taken), ZKC_ETIMEDOUT,
 * ZKC_ELOST (the session ended while admitted: nothing is held, try
 * again), ZKC_EBADARGUMENTS, ZKC_ECLOSED. */
ZKC_EXTERN int zkc_semaphore_acquire(zkc_semaphore_lease_t **out, zkc_semaphore_t *sem,
                                     int timeout_ms);

/* Returns a lease: its node is deleted in the background, or at once with
 * ZKC_LOCK_RELEASE_SYNC. The lease stays the caller's (zkc_semaphore_lease_free);
 * after a release, whatever it returned, it holds nothing. Expected codes:
 * ZKC_ELOST (the lease had been lost before: the critical section was not
 * exclusive to its end), ZKC_ETIMEDOUT (SYNC only), ZKC_EINVALIDSTATE
 * (released already), ZKC_EBADARGUMENTS (NULL, unknown flags). */
ZKC_EXTERN int zkc_semaphore_release(zkc_semaphore_lease_t *lease, int flags);

/* The lease's destructor: a lease not yet released is given up in the
 * background (as a release without flags; the session's end removes its
 * node at the latest), then it is freed. Cannot fail. NULL is a no-op. */
ZKC_EXTERN void zkc_semaphore_lease_free(zkc_semaphore_lease_t *lease);

/* 1 while the lease's session is the client's, connected, and no LOST was
 * heard for it; else 0. Local. */
ZKC_EXTERN int zkc_semaphore_lease_valid(const zkc_semaphore_lease_t *lease);

/* The lease node's path and czxid. Borrowed: the path is owned by the
 * lease, valid until zkc_semaphore_lease_free. The czxid orders
 * leases within one history of the ensemble only: see
 * ZKC_EVENT_HISTORY_RESET and zkc_history_resets. */
ZKC_EXTERN const char *zkc_semaphore_lease_path(const zkc_semaphore_lease_t *lease);
ZKC_EXTERN int64_t zkc_semaphore_lease_token(const zkc_semaphore_lease_t *lease);

/* A transaction whose op 0 guards that the lease node still exists: its
 * commit returns ZKC_ELOCKLOST once the lease is lost (see
 * zkc_lock_fence). *out is caller-owned (zkc_multi_free). Expected:
 * ZKC_ELOST (known lost). */
ZKC_EXTERN int zkc_semaphore_fence(zkc_multi_t **out, const zkc_semaphore_lease_t *lease);

#ifdef __cplusplus
}
#endif
#endif
