/* recipes/lock_internal.h - what the lock family (lock, rwlock, semaphore)
 * shares inside the library: lock kinds and node-name helpers. */
#ifndef ZKC_RECIPES_LOCK_INTERNAL_H
#define ZKC_RECIPES_LOCK_INTERNAL_H

#include "zkc/lock.h"

/* Which nodes block a contender (Curator's drivers). */
typedef enum zkcr_lock_kind {
	ZKCR_LOCK_MUTEX = 0,  /* "lock-": every earlier node */
	ZKCR_LOCK_READ = 1,   /* "__READ__": earlier "__WRIT__" nodes only */
	ZKCR_LOCK_WRITE = 2   /* "__WRIT__": every earlier node */
} zkcr_lock_kind_t;

/* A lock handle of a given kind; `sibling` (may be NULL) is the other half
 * of a read/write pair, whose held write node a reader of the same pair does
 * not wait for (downgrade, as Curator allows). */
int zkcr_lock_new_kind(zkc_lock_t **out, zkc_t *zk, const char *path,
                       const zkc_lock_options_t *opts, int kind);
void zkcr_lock_set_sibling(zkc_lock_t *lock, zkc_lock_t *sibling);

/* The 10-digit sequence suffix of a node name, or -1 if it has none. */
long long zkcr_lock_seq(const char *name);

/* A random protected-name prefix "_c_<uuid>-" (41 bytes with the NUL). */
void zkcr_lock_guid_prefix(char out[48]);

/* Deletes path in the background, retrying after a lost reply while
 * `session` is still the client's session: no orphan contender. */
int zkcr_lock_delete_bg(zkc_t *zk, const char *path, int64_t session);
/* After a create of `path` (a GUID in its name) whose outcome is unknown
 * when the caller gives up: lists its directory in the background (after
 * the requests already sent) and deletes any node with that name's start,
 * while `session` lives. ZKC_OK, ZKC_ENOMEM, ZKC_ECLOSED. */
int zkcr_lock_forget_bg(zkc_t *zk, const char *path, int64_t session);

/* The client's current session id, or 0. */
int64_t zkcr_lock_session(zkc_t *zk);

#endif
