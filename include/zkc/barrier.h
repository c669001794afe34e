/* zkc/barrier.h - barriers as in ZooKeeper's recipes document: a simple
 * barrier (a node that holds waiters back while it exists) and a double
 * barrier (start and finish a computation together). Node layout
 * compatible with Apache Curator's DistributedBarrier and
 * DistributedDoubleBarrier. */
#ifndef ZKC_BARRIER_H
#define ZKC_BARRIER_H

#include "zkc/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Timeouts below: < 0 waits without limit, 0 checks once and does not wait. */

/* ------------------------------------------------------------ simple barrier */

/* Raises the barrier: creates the node at `path` (persistent, parents
 * created). Raising a raised barrier is ZKC_OK. Any thread. Expected codes:
 * ZKC_EBADARGUMENTS, ZKC_ETIMEDOUT (no connection within the retry
 * deadline). */
ZKC_EXTERN int zkc_barrier_set(zkc_t *zk, const char *path);

/* Lowers the barrier: deletes the node; waiters go on. Lowering a lowered
 * barrier is ZKC_OK. Expected: ZKC_EBADARGUMENTS, ZKC_ENOTEMPTY (the node has
 * children: not a barrier), ZKC_ETIMEDOUT. */
ZKC_EXTERN int zkc_barrier_remove(zkc_t *zk, const char *path);

/* Waits until the barrier is lowered (its node does not exist). Any thread
 * but libzookeeper's; from the client's event thread it blocks events.
 * Expected: ZKC_OK (lowered, or never raised), ZKC_ETIMEDOUT,
 * ZKC_EBADARGUMENTS, ZKC_ECLOSED. */
ZKC_EXTERN int zkc_barrier_wait(zkc_t *zk, const char *path, int timeout_ms);

/* ------------------------------------------------------------ double barrier */

typedef struct zkc_double_barrier zkc_double_barrier_t;

/* A participant of the double barrier at `path` for `count` members (>= 1).
 * `id` names its node (one path component, not "ready"); NULL = a random
 * UUID, as Curator does. No round trip. *out is owned by the caller
 * (zkc_double_barrier_close), freed before its client. Expected codes:
 * ZKC_EBADARGUMENTS (path, count, id). */
ZKC_EXTERN int zkc_double_barrier_open(zkc_double_barrier_t **out, zkc_t *zk, const char *path,
                                       int count, const char *id);

/* Enters: creates the participant's ephemeral node and waits until `count`
 * participants are present (then the last one creates `path`/ready, which
 * releases everyone). The node, a watch on "ready" and the child count go
 * in one round trip. On every failure the participant's node is deleted
 * again (while the session lives), so a participant that gave up is never
 * counted. Any thread (not the event thread). Expected codes: ZKC_OK,
 * ZKC_ETIMEDOUT, ZKC_ELOST (the session ended while waiting: the node went
 * with it), ZKC_ENODEEXISTS (another session holds a node with this id),
 * ZKC_EINVALIDSTATE (entered already). */
ZKC_EXTERN int zkc_double_barrier_enter(zkc_double_barrier_t *b, int timeout_ms);

/* Leaves: deletes the participant's node and waits until every
 * participant's node is gone (ZooKeeper's recipe: the lowest waits for the
 * highest, the others delete theirs and wait for the lowest, so no herd).
 * A participant whose session ended counts as gone. The last one out
 * deletes "ready", so the path can be used for the next round once every
 * participant has left. On timeout the node is deleted anyway. Expected:
 * ZKC_OK, ZKC_ETIMEDOUT, ZKC_EINVALIDSTATE (not entered). */
ZKC_EXTERN int zkc_double_barrier_leave(zkc_double_barrier_t *b, int timeout_ms);

/* The destructor: a participant's node that still exists is deleted in the
 * background (the session's end removes it at the latest), then the handle
 * is freed. Cannot fail; zkc_double_barrier_leave is the call that waits
 * and reports. NULL is a no-op. */
ZKC_EXTERN void zkc_double_barrier_close(zkc_double_barrier_t *b);

#ifdef __cplusplus
}
#endif
#endif
