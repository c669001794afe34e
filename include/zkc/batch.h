/* zkc/batch.h - pipelined requests: independent operations sent back to back
 * on one session and answered together, in one round trip instead of one
 * each. Unlike a transaction (zkc/multi.h) each op succeeds or fails on its
 * own; the session's order still holds, so an op sees the effects of the ops
 * added before it. This is what recipes and the cache build on. */
#ifndef ZKC_BATCH_H
#define ZKC_BATCH_H

#include "zkc/client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zkc_batch zkc_batch_t;

/* A new, empty batch, owned by the caller (zkc_batch_free). */
ZKC_EXTERN int zkc_batch_new(zkc_batch_t **out);
ZKC_EXTERN void zkc_batch_free(zkc_batch_t *b);
/* Forgets ops and results, keeping the batch for reuse. */
ZKC_EXTERN void zkc_batch_clear(zkc_batch_t *b);
ZKC_EXTERN size_t zkc_batch_count(const zkc_batch_t *b);

/* Adding an op copies every argument and returns its index (>= 0), or a
 * negative code for bad input (ZKC_EBADARGUMENTS, ZKC_ETOOLARGE), which
 * leaves the batch unchanged. A watch is set as by zkc_get_w / zkc_exists_w
 * / zkc_children_w when `watch` is non-zero (fn NULL: the event queue) and
 * only if the op succeeds (exists: also on ZKC_ENONODE). payload is
 * borrowed, never freed by zkc: it must stay valid until the watch has been
 * called (exactly once), or until the run's answer when no watch was set. */
ZKC_EXTERN int zkc_batch_get(zkc_batch_t *b, const char *path, int watch, zkc_watch_fn fn,
                             void *payload);
ZKC_EXTERN int zkc_batch_exists(zkc_batch_t *b, const char *path, int watch, zkc_watch_fn fn,
                                void *payload);
ZKC_EXTERN int zkc_batch_children(zkc_batch_t *b, const char *path, int watch, zkc_watch_fn fn,
                                  void *payload);
/* opts as for zkc_create; ZKC_CREATE_PARENTS is not allowed in a batch, and
 * ZKC_CREATE_PROTECTED only names the node (_c_<guid>-...), nothing is
 * retried. */
ZKC_EXTERN int zkc_batch_create(zkc_batch_t *b, const char *path, const void *data, size_t len,
                                const zkc_create_options_t *opts);
/* A create applied only if `check_path` exists at `check_version` (-1:
 * any version), in one transaction (a check and the create) that is one op
 * of the batch: a create that reaches the server late, after that node was
 * deleted, fails there instead of leaving a node behind. opts as for
 * zkc_batch_create, without TTL modes or ZKC_CREATE_PROTECTED. The op's code
 * is ZKC_OK or the first failing part's: the check's (ZKC_ENONODE,
 * ZKC_EBADVERSION) or the create's (ZKC_ENODEEXISTS, ZKC_ENONODE for a
 * missing parent, ...); read check_path in the same batch to tell the two
 * ZKC_ENONODE apart. zkc_batch_path gives the created path; there is no
 * stat. Like every op it copies its arguments and returns its index;
 * ZKC_EBADARGUMENTS also for a NULL or invalid check_path, a check_version
 * below -1, a TTL mode or ZKC_CREATE_PROTECTED. */
ZKC_EXTERN int zkc_batch_create_if(zkc_batch_t *b, const char *path, const void *data,
                                   size_t len, const zkc_create_options_t *opts,
                                   const char *check_path, int32_t check_version);
ZKC_EXTERN int zkc_batch_set(zkc_batch_t *b, const char *path, const void *data, size_t len,
                             int32_t version);
ZKC_EXTERN int zkc_batch_delete(zkc_batch_t *b, const char *path, int32_t version);
ZKC_EXTERN int zkc_batch_sync(zkc_batch_t *b, const char *path);
/* Reads the node's ACL (zkc_acl_get's request); the answer through
 * zkc_batch_acl and zkc_batch_stat. */
ZKC_EXTERN int zkc_batch_get_acl(zkc_batch_t *b, const char *path);

/* Sends every op in order on the current session without waiting between
 * them (waiting first for a connection, up to the client's retry deadline
 * or the deadline bound to the thread, zkc/cancel.h, whichever comes
 * first), then waits for every reply within the same deadline; past it,
 * nothing is sent (ZKC_ETIMEDOUT). Nothing is retried:
 * an op whose reply was lost reports ZKC_ECONNECTIONLOSS (a write's outcome
 * is then unknown; this covers a connection that timed out and a session
 * that expired or moved with the op in flight), one not answered in time
 * ZKC_ETIMEDOUT (its watch, if it asked for one, is never called, even
 * when a late answer sets it). Returns ZKC_OK
 * when the batch was sent (each op has its own code; see zkc_batch_code),
 * else ZKC_ETIMEDOUT (no connection), ZKC_ECLOSED, ZKC_EDEADLK. Earlier
 * results are discarded. An empty batch returns ZKC_OK at once. */
ZKC_EXTERN int zkc_batch_run(zkc_t *zk, zkc_batch_t *b);

/* Called once when every op of an asynchronous batch has its answer, on the
 * client's event thread. The batch (with its results) belongs to zkc and is
 * freed when the function returns. */
typedef void (*zkc_batch_fn)(zkc_t *zk, const zkc_batch_t *b, void *payload);

/* As zkc_batch_run without waiting: takes ownership of b on success (do not
 * free or reuse it), sends it at once if connected, else as soon as a
 * connection comes (within the client's retry deadline; after it every op
 * reports ZKC_ETIMEDOUT), and calls done (may be NULL) with the results.
 * On failure (ZKC_ECLOSED, ZKC_EBADARGUMENTS) b stays the caller's and done
 * is never called. Requests of one client are sent in the order of these
 * calls and of blocking calls made after them on the same thread.
 * payload is borrowed (zkc never frees it): it must stay valid until done
 * has been called; a run still in flight at zkc_close is answered (its ops
 * with the close's codes) and done called before zkc_close returns. */
ZKC_EXTERN int zkc_batch_run_async(zkc_t *zk, zkc_batch_t *b, zkc_batch_fn done, void *payload);

/* The pull form of zkc_batch_run_async, for bindings and event loops: no
 * callback, no thread of the caller's called. Sends b as zkc_batch_run_async
 * does and takes it on success; once every op has its answer, b (with its
 * results) goes to the client's completion queue with `tag`, a number the
 * caller chooses to find its waiter again. zkc_completions_next gives it
 * back: b is then the caller's again, to read, run again or zkc_batch_free;
 * until then it is zkc's, in flight or queued (running it again or adding
 * to it is refused with ZKC_EBADARGUMENTS; never clear or free it).
 * On failure b stays the caller's and nothing is queued. Expected codes:
 * ZKC_ECLOSED, ZKC_EBADARGUMENTS (NULL, a batch already running). */
ZKC_EXTERN int zkc_batch_run_queued(zkc_t *zk, zkc_batch_t *b, uint64_t tag);

/* A file descriptor owned by the client, readable while the completion
 * queue holds a batch (poll/epoll, asyncio's add_reader); it stays open
 * until zkc_close. Negative code on failure (ZKC_EOS, ZKC_EBADARGUMENTS). */
ZKC_EXTERN int zkc_completions_fd(zkc_t *zk);

/* Takes the next finished batch of zkc_batch_run_queued, in the order they
 * finished, waiting up to timeout_ms (0 = no wait, < 0 = forever): *out is
 * owned by the caller (zkc_batch_free), *out_tag (may be NULL) gets its tag.
 * Any thread. Batches nobody takes are freed by zkc_close. Expected codes:
 * ZKC_EAGAIN (none in time; *out NULL), ZKC_ECANCELED (the thread's
 * cancellation token fired), ZKC_ECLOSED (the client is closing and the
 * queue is empty), ZKC_EBADARGUMENTS. */
ZKC_EXTERN int zkc_completions_next(zkc_batch_t **out, uint64_t *out_tag, zkc_t *zk,
                                    int timeout_ms);

/* Results of op i after a run; pointers are owned by the batch and valid
 * until it is cleared, run again or freed. */
ZKC_EXTERN int zkc_batch_code(const zkc_batch_t *b, size_t i);
/* get: data (NUL-terminated) and length; others: NULL and 0.
 * Borrowed: owned by the batch, valid until it is cleared, run again or
 * freed. */
ZKC_EXTERN const char *zkc_batch_data(const zkc_batch_t *b, size_t i, size_t *out_len);
/* get, exists, set, create, children, get acl: the node's stat. ZKC_OK or the op's
 * code (ZKC_EBADARGUMENTS for an op kind without a stat). */
ZKC_EXTERN int zkc_batch_stat(zkc_stat_t *out, const zkc_batch_t *b, size_t i);
/* create: the created path (without chroot); others NULL.
 * Borrowed: owned by the batch, as zkc_batch_data. */
ZKC_EXTERN const char *zkc_batch_path(const zkc_batch_t *b, size_t i);
/* children: the names; others NULL.
 * Borrowed: owned by the batch, as zkc_batch_data. */
ZKC_EXTERN const zkc_strings_t *zkc_batch_children_of(const zkc_batch_t *b, size_t i);
/* get acl: the ACL. Borrowed: owned by the batch, valid until it is
 * cleared, run again or freed. Others NULL. */
ZKC_EXTERN const zkc_acl_list_t *zkc_batch_acl(const zkc_batch_t *b, size_t i);
/* The session the batch was sent on (0 if it was not sent). */
ZKC_EXTERN int64_t zkc_batch_session(const zkc_batch_t *b);

#ifdef __cplusplus
}
#endif
#endif
