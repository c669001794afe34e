/* src/call.h - one blocking call (src/call.c): asynchronous libzookeeper
 * requests waited on with a deadline and retried per policy, with the
 * knowledge of whether an earlier attempt's outcome was lost; and the
 * argument checks the operations share. For ops.c, multi.c, acl_ops.c and
 * batch.c (checks only). */
#ifndef ZKC_CALL_H
#define ZKC_CALL_H

#include "request.h"

typedef struct zkc__call zkc__call_t;

/* Sends one attempt: calls a zoo_a* function with r as completion data and
 * the matching completion below. Returns its libzookeeper code. */
typedef int (*zkc__submit_fn)(zhandle_t *zh, zkc__req_t *r, zkc__call_t *c);
/* Runs after an attempt whose outcome was lost, before the next one: may
 * learn the outcome (ZKC_OK: done, c->req holds the result), ask for a plain
 * retry (ZKC_EAGAIN), or end the call with a code. */
typedef int (*zkc__after_loss_fn)(zkc__call_t *c, int64_t deadline_ms);

struct zkc__call {
	zkc_t *zk;
	const char *name;              /* for messages: "create" */
	const char *path;
	int write;                     /* a lost attempt makes the outcome unknown */
	int session_bound;             /* never retried across a session change */
	zkc__submit_fn submit;
	zkc__after_loss_fn after_loss;
	void *arg;                     /* per-op data for submit/after_loss */
	zkc_watch_fn wfn;              /* watch requested (wfn or queue) */
	void *wpayload;
	int watch;
	int watch_on_nonode;
	zkc_retry_t retry;

	/* results */
	zkc__req_t *req;               /* last completed attempt, owned by the call */
	int lost;                      /* some attempt's outcome was lost */
	uint64_t gen;                  /* handle generation of the last attempt */
	int64_t sid;                   /* its session */
	int64_t first_sid;             /* session of the first attempt */
};

/* Prepares a call with the client's retry policy. */
void zkc__call_init(zkc__call_t *c, zkc_t *zk, const char *name, const char *path);
/* Runs attempts until success, a definite answer, or the policy's end.
 * Returns ZKC_OK or a zkc code (detail recorded). On an API answer
 * (ZKC_ENONODE, ...) c->req holds that attempt. */
int zkc__call_run(zkc__call_t *c);
void zkc__call_done(zkc__call_t *c);


/* Checks data size against the 1 MiB request limit. */
int zkc__check_data(const void *data, size_t len, const char *path);
/* A temporary libzookeeper view of an ACL list (no copies; valid while acl
 * is). NULL acl gives the client's default. Returns ZKC_OK or
 * ZKC_EBADARGUMENTS. */
int zkc__acl_view(struct ACL_vector *out, struct ACL *storage, int storage_len, zkc_t *zk,
                  const zkc_acl_list_t *acl);
/* Whether mode is one of zkc_mode_t. */
int zkc__mode_valid(int mode);
int zkc__mode_sequential(int mode);
int zkc__mode_ephemeral(int mode);

#endif
