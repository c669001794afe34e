/* zkc/multi.h - a transaction builder: operations that commit together in
 * one zoo_multi or not at all. */
#ifndef ZKC_MULTI_H
#define ZKC_MULTI_H

#include "zkc/client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zkc_multi zkc_multi_t;

/* A new, empty transaction, owned by the caller (zkc_multi_free). */
ZKC_EXTERN int zkc_multi_new(zkc_multi_t **out);
ZKC_EXTERN void zkc_multi_free(zkc_multi_t *m);

/* Adding operations copies every argument. Bad input (path, size, mode) is
 * reported here, with ZKC_EBADARGUMENTS or ZKC_ETOOLARGE, and then also by
 * zkc_multi_commit, so a caller may check once at the end. acl NULL = the
 * committing client's default. */
ZKC_EXTERN int zkc_multi_create(zkc_multi_t *m, const char *path, const void *data, size_t len,
                                int mode, const zkc_acl_list_t *acl);
ZKC_EXTERN int zkc_multi_set(zkc_multi_t *m, const char *path, const void *data, size_t len,
                             int32_t version);
ZKC_EXTERN int zkc_multi_delete(zkc_multi_t *m, const char *path, int32_t version);
ZKC_EXTERN int zkc_multi_check(zkc_multi_t *m, const char *path, int32_t version);
/* A guard: a check that `path` exists at `version` (-1: any) whose failure
 * means the lock, lease or leadership the node stands for is lost. When it
 * fails (no node, or another version), zkc_multi_commit returns
 * ZKC_ELOCKLOST instead of the op's ZooKeeper code, so a caller tells a
 * lost lock from a failure of its own ops without reading the results
 * (the result of the guard op still holds ZKC_ENONODE or ZKC_EBADVERSION).
 * zkc_lock_fence and zkc_semaphore_fence start their transactions with
 * one; use it after zkc_election_fence too. Expected codes: as
 * zkc_multi_check. */
ZKC_EXTERN int zkc_multi_guard(zkc_multi_t *m, const char *path, int32_t version);
ZKC_EXTERN size_t zkc_multi_count(const zkc_multi_t *m);

/* Result of one operation in a committed transaction. */
typedef struct zkc_multi_result {
	int code;          /* ZKC_OK, or why this op failed the transaction */
	char *path;        /* created path for creates, else NULL */
	zkc_stat_t stat;   /* for set: the new stat */
} zkc_multi_result_t;

typedef struct zkc_multi_results {
	size_t count;
	zkc_multi_result_t *results;
} zkc_multi_results_t;

/* Commits the transaction. Returns ZKC_OK when every op succeeded, else the
 * first failing op's code (and nothing was applied), or ZKC_ELOCKLOST when
 * that op is a guard (zkc_multi_guard). *out (may be NULL) gets
 * the per-op results, owned by the caller (zkc_multi_results_free), also on
 * an op failure. A transaction whose reply was lost is retried; if the retry
 * fails on an op the lost attempt may have consumed, the result is
 * ZKC_EUNKNOWN. One with a sequential create is not retried after a lost
 * reply (it could commit twice): ZKC_EUNKNOWN. An empty transaction
 * succeeds without a round trip. */
ZKC_EXTERN int zkc_multi_commit(zkc_multi_results_t **out, zkc_t *zk, const zkc_multi_t *m);
ZKC_EXTERN void zkc_multi_results_free(zkc_multi_results_t *results);

#ifdef __cplusplus
}
#endif
#endif
