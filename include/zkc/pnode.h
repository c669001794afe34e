/* zkc/pnode.h - a node that stays: an ephemeral node that zkc creates again
 * whenever its session is lost and a new one is made (Curator's
 * PersistentNode). */
#ifndef ZKC_PNODE_H
#define ZKC_PNODE_H

#include "zkc/client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zkc_pnode zkc_pnode_t;

/* Creates the node (mode ZKC_EPHEMERAL, at exactly `path`, or
 * ZKC_EPHEMERAL_SEQUENTIAL, protected; parents created) and keeps it: after
 * every new session, and after someone deletes it, it is created again with
 * the current data. A plain ephemeral path held by another client's session
 * is waited for, never taken; one left by an ended session of this client is
 * removed first. Waits up to 30 s (ZKC_RETRY_INIT's deadline) for the first
 * creation; ZKC_ETIMEDOUT if it could not be made by then (the node keeps
 * trying in the background: *out is still set). *out is owned by the caller
 * (zkc_pnode_close), and must be closed before its client. Expected codes:
 * ZKC_EBADARGUMENTS (path, mode), ZKC_ETOOLARGE, ZKC_ETIMEDOUT. */
ZKC_EXTERN int zkc_pnode_open(zkc_pnode_t **out, zkc_t *zk, const char *path, const void *data,
                              size_t len, int mode);

/* The node's current actual path (sequential names change across sessions),
 * owned by the caller (zkc_free). ZKC_ENONODE while it does not exist. */
ZKC_EXTERN int zkc_pnode_path(char **out, zkc_pnode_t *node);

/* Replaces the data, now and for every later re-creation. */
ZKC_EXTERN int zkc_pnode_set(zkc_pnode_t *node, const void *data, size_t len);

/* Waits until the node exists in the current session. ZKC_ETIMEDOUT. */
ZKC_EXTERN int zkc_pnode_wait(zkc_pnode_t *node, int timeout_ms);

/* Stops keeping the node and deletes it, waiting for the delete (within
 * the client's retry deadline). The handle stays the caller's
 * (zkc_pnode_close) and keeps nothing afterwards; a second call does
 * nothing and returns ZKC_OK. Expected codes: ZKC_ETIMEDOUT, ZKC_EUNKNOWN
 * (the delete could not be confirmed; the node goes with the session at
 * the latest), ZKC_ECLOSED, ZKC_EBADARGUMENTS (NULL). */
ZKC_EXTERN int zkc_pnode_delete(zkc_pnode_t *node);

/* The destructor: stops keeping the node, deletes it in the background if
 * it still exists (the session's end removes it at the latest) and frees
 * the handle. Cannot fail; zkc_pnode_delete is the call that waits and
 * reports. NULL is a no-op. */
ZKC_EXTERN void zkc_pnode_close(zkc_pnode_t *node);

#ifdef __cplusplus
}
#endif
#endif
