/* zkc/rwlock.h - a fair read/write lock: readers share, writers are
 * exclusive, and a waiting writer holds back later readers (no writer
 * starvation). Curator InterProcessReadWriteLock layout ("__READ__" and
 * "__WRIT__" nodes in one directory). */
#ifndef ZKC_RWLOCK_H
#define ZKC_RWLOCK_H

#include "zkc/lock.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zkc_rwlock zkc_rwlock_t;

/* A read/write lock on directory `path`. Nothing is sent. Its two halves
 * are ordinary zkc_lock_t handles (acquire, release, lease, fence, events)
 * owned by the rwlock: do not zkc_lock_close them. opts (may be NULL)
 * applies to both halves (ZKC_LOCK_STICKY is not allowed). A reader of the
 * same rwlock does not wait for its own held write lock (downgrade).
 * *out is owned by the caller (zkc_rwlock_close). Expected codes:
 * ZKC_EBADARGUMENTS, ZKC_ENOMEM. */
ZKC_EXTERN int zkc_rwlock_open(zkc_rwlock_t **out, zkc_t *zk, const char *path,
                               const zkc_lock_options_t *opts);

/* The destructor: closes both halves (what is held is given up in the
 * background, as zkc_lock_close does) and frees. NULL is a no-op. */
ZKC_EXTERN void zkc_rwlock_close(zkc_rwlock_t *rw);

/* The read half (shared) and the write half (exclusive). Borrowed: owned
 * by rw and closed with it; never zkc_lock_close them. */
ZKC_EXTERN zkc_lock_t *zkc_rwlock_read(zkc_rwlock_t *rw);
ZKC_EXTERN zkc_lock_t *zkc_rwlock_write(zkc_rwlock_t *rw);

#ifdef __cplusplus
}
#endif
#endif
