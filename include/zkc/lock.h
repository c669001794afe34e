/* zkc/lock.h - a fair, fenced, exclusive lock on ephemeral-sequential
 * nodes (Curator InterProcessMutex layout), with lock-lost events and a
 * fenced-write helper. Semantics and layout: docs/recipes/lock.md. */
#ifndef ZKC_LOCK_H
#define ZKC_LOCK_H

#include "zkc/client.h"
#include "zkc/multi.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zkc_lock zkc_lock_t;

/* What the holder of a lock is told, through the lock's callback or its
 * event queue (zkc_lock_events_next). */
typedef enum zkc_lock_event {
	ZKC_LOCK_EVENT_SUSPENDED = 1,   /* connection lost while held: the lock
	                                 * MAY be lost; stop acting on it until
	                                 * RECONNECTED, or fence every write */
	ZKC_LOCK_EVENT_RECONNECTED = 2, /* the same session is back: still held */
	ZKC_LOCK_EVENT_LOST = 3         /* the session is gone (expired or
	                                 * presumed lost at ~2/3 of its timeout):
	                                 * the lock is lost; release it */
} zkc_lock_event_t;

/* Lock-event callback: runs on the client's event thread, with the lease
 * the event is about. It must not block on this lock (no acquire); it may
 * call zkc_lock_valid and zkc_lock_cancel. */
typedef void (*zkc_lock_event_fn)(zkc_lock_t *lock, int event, void *payload);

/* Lock flags. */
#define ZKC_LOCK_REENTRANT 0x1  /* acquire on a held handle counts up and
                                 * returns at once; as many releases */
#define ZKC_LOCK_STICKY    0x2  /* keep the lock node across release while
                                 * no other contender exists, so the next
                                 * acquire costs no round trip */

#define ZKC_LOCK_OPTIONS_VERSION 1
typedef struct zkc_lock_options {
	int version;                /* ZKC_LOCK_OPTIONS_VERSION */
	int flags;                  /* ZKC_LOCK_* */
	const zkc_acl_list_t *acl;  /* of the lock nodes; NULL = client's */
	const void *data;           /* lock node data (NULL: none); Curator
	                             * puts the host address there */
	size_t data_len;
	zkc_lock_event_fn event_fn; /* NULL: events go to the lock's queue */
	void *event_payload;        /* borrowed (never freed by zkc): valid
	                             * until zkc_lock_close returns */
} zkc_lock_options_t;
#define ZKC_LOCK_OPTIONS_INIT { ZKC_LOCK_OPTIONS_VERSION, 0, NULL, NULL, 0, NULL, NULL }

/* Fills *opts with the defaults of ZKC_LOCK_OPTIONS_INIT, for a struct of
 * `version` (1..ZKC_LOCK_OPTIONS_VERSION; pass ZKC_LOCK_OPTIONS_VERSION), for
 * callers that cannot use the brace initializer. Expected codes:
 * ZKC_EBADARGUMENTS (NULL, or a version this zkc does not know: the message
 * says which). */
ZKC_EXTERN int zkc_lock_options_init(zkc_lock_options_t *opts, unsigned int version);

/* What acquire returns. Strings are owned by the lock and valid until the
 * next acquire or release on it, or zkc_lock_close. */
typedef struct zkc_lock_lease {
	const char *path;     /* the lock node (without chroot) */
	int64_t session_id;   /* the session that owns the node */
	int64_t token;        /* fencing token: the node's czxid. Each new
	                       * holder of one lock path gets a larger token,
	                       * within one history of the ensemble: after a
	                       * ZKC_EVENT_HISTORY_RESET (data wiped or
	                       * restored) tokens start again lower and are
	                       * not comparable with older ones; keep
	                       * zkc_history_resets() next to a stored token */
} zkc_lock_lease_t;

/* Acquire timeouts. */
#define ZKC_LOCK_TRY 0            /* one attempt, no waiting for other
                                   * holders; its requests end by
                                   * ZKC_TRY_DEADLINE_MS (zkc/cancel.h) */
#define ZKC_LOCK_FOREVER (-1)     /* wait without a deadline */

/* A lock handle on directory `path` (created as a container on first use,
 * with missing parents). Nothing is sent. *out is owned by the caller
 * (zkc_lock_close); it belongs to `zk`, which must outlive it. opts NULL =
 * defaults; what it points at (ACL, data) is copied. Two handles are two
 * contenders, even on one client. Expected codes: ZKC_EBADARGUMENTS (path,
 * options version or flags), ZKC_ENOMEM. */
ZKC_EXTERN int zkc_lock_open(zkc_lock_t **out, zkc_t *zk, const char *path,
                             const zkc_lock_options_t *opts);

/* The destructor: ends a pending acquire with ZKC_ECANCELED, gives the lock
 * up if held (the delete of its node is sent in the background, as by
 * zkc_lock_release without ZKC_LOCK_RELEASE_SYNC; the session's end
 * removes it at the latest) and frees the handle. It cannot fail; to learn
 * whether the lock was still held to the end, call zkc_lock_release first.
 * Not from this lock's event callback. NULL is a no-op. */
ZKC_EXTERN void zkc_lock_close(zkc_lock_t *lock);

/* Acquires the lock, waiting up to timeout_ms: ZKC_LOCK_TRY (0) makes one
 * attempt (one round trip; when the servers do not answer it returns
 * ZKC_ETIMEDOUT after ZKC_TRY_DEADLINE_MS, or by the deadline bound to the
 * thread if one is), ZKC_LOCK_FOREVER (-1) waits without a deadline;
 * any other negative value is ZKC_EBADARGUMENTS. Uncontended it costs one
 * round trip (create and getChildren pipelined), a sticky re-acquire none.
 * Waiting watches only the node just ahead (no herd). A session change while
 * waiting starts over on the new session (the old node went with the old
 * session). On any failure this handle's node is deleted (retried in the
 * background while its session lives). *out (may be NULL) gets the lease.
 * One acquire at a time per handle; any thread but the event thread.
 * Expected codes: ZKC_EAGAIN (try: held by another), ZKC_ETIMEDOUT,
 * ZKC_ECANCELED (zkc_lock_cancel), ZKC_EBADARGUMENTS (timeout; the lock path
 * holds data or is ephemeral: not a lock directory), ZKC_EINVALIDSTATE
 * (already held without ZKC_LOCK_REENTRANT, or another acquire runs),
 * ZKC_EDEADLK (called on the event thread), ZKC_ECLOSED. */
ZKC_EXTERN int zkc_lock_acquire(zkc_lock_lease_t *out, zkc_lock_t *lock, int timeout_ms);

/* Release flags. */
#define ZKC_LOCK_RELEASE_SYNC 0x1  /* wait until the node is deleted */

/* Releases the lock. By default it does not wait: the delete is sent in
 * the background, and the session's order puts it before every later
 * request of this client. With ZKC_LOCK_RELEASE_SYNC it waits for the
 * delete (within the client's retry deadline). A sticky lock with no other
 * contender keeps its node and sends nothing. Reentrant: only the last
 * release lets go. Any thread. Expected codes: ZKC_EINVALIDSTATE (not held),
 * ZKC_ELOST (the lock had been lost: it is released, but the critical
 * section was not exclusive to its end), ZKC_ETIMEDOUT (SYNC only). */
ZKC_EXTERN int zkc_lock_release(zkc_lock_t *lock, int flags);

/* Makes a running acquire return ZKC_ECANCELED soon (its node is deleted).
 * Any thread, including the lock's event callback. No effect when no
 * acquire runs. */
ZKC_EXTERN int zkc_lock_cancel(zkc_lock_t *lock);

/* 1 while held on a live, connected session; 0 when not held, lost
 * (LOST heard) or the connection is suspended (the lock may be lost).
 * Local, no round trip. Use fenced writes for anything that matters. */
ZKC_EXTERN int zkc_lock_valid(zkc_lock_t *lock);

/* The current lease (strings owned by the lock, see zkc_lock_lease_t).
 * Expected: ZKC_EINVALIDSTATE (not held). */
ZKC_EXTERN int zkc_lock_lease(zkc_lock_lease_t *out, zkc_lock_t *lock);

/* A fenced transaction: *out is a new multi (caller-owned, zkc_multi_free)
 * whose op 0 is a guard (zkc_multi_guard) that this handle's lock node
 * still exists at its version. Add the guarded writes and commit with
 * zkc_multi_commit: if the lock node is gone (lost lock), the whole
 * transaction fails inside ZooKeeper and nothing is written, however late
 * the holder learns of the loss, and commit returns ZKC_ELOCKLOST - never
 * the code of one of the caller's own ops, which keep theirs (ZKC_ENONODE,
 * ZKC_EBADVERSION, ...). Results of the caller's ops start at index 1.
 * Expected: ZKC_EINVALIDSTATE (not held), ZKC_ELOST (known lost). */
ZKC_EXTERN int zkc_lock_fence(zkc_multi_t **out, zkc_lock_t *lock);

/* The lock's event queue (used when no event_fn was given): a file
 * descriptor readable while events are queued, owned by the lock; and the
 * next event (ZKC_LOCK_EVENT_*) waiting up to timeout_ms (0 = no wait,
 * < 0 = forever). Expected: ZKC_EAGAIN (none). */
ZKC_EXTERN int zkc_lock_events_fd(zkc_lock_t *lock);
ZKC_EXTERN int zkc_lock_events_next(int *out_event, zkc_lock_t *lock, int timeout_ms);

/* The lock directory this handle contends in. Borrowed: owned by the
 * lock, valid until its close. */
ZKC_EXTERN const char *zkc_lock_path(const zkc_lock_t *lock);

#ifdef __cplusplus
}
#endif
#endif
