/* src/call.h - one blocking call: asynchronous libzookeeper requests waited
 * on with a deadline and retried per policy, with the knowledge of whether an
 * earlier attempt's outcome was lost. Shared by ops.c and multi.c. */
#ifndef ZKC_CALL_H
#define ZKC_CALL_H

#include "client_impl.h"

/* One request in flight. Reference-counted: the waiting caller and the
 * completion each hold one, so a caller that gives up at its deadline never
 * frees what a late completion writes. */
typedef struct zkc__req {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;
	int done;
	int abandoned;
	int rc;                        /* libzookeeper code */
	zkc_t *zk;
	zkc__watch_t *watch;           /* set by the request, armed or dropped by
	                                * the completion */
	int watch_on_nonode;           /* exists: NONODE registers a watch too */

	char *data;                    /* get: NUL-terminated copy */
	int datalen;
	struct Stat stat;
	int have_stat;
	zkc_strings_t *strings;        /* children */
	char *path;                    /* create: actual path */
	zkc_acl_list_t *acl;           /* get acl: one allocation */

	/* in zk->inflight while libzookeeper owes a completion */
	uint64_t gen;
	int tracked;
	int64_t sent_ms;               /* when it was tracked (just before sending) */
	struct zkc__req *iprev, *inext;

	/* called by the completion after the result is stored (batches) */
	void (*on_done)(struct zkc__req *r);
	void *on_done_ctx;
	size_t on_done_index;

	/* multi: buffers libzookeeper writes results into */
	int nops;
	zoo_op_result_t *results;
	char **pathbufs;
	struct Stat *stats;
} zkc__req_t;

/* A request with two references (the caller's and the completion's). */
zkc__req_t *zkc__req_new(zkc_t *zk);
void zkc__req_unref(zkc__req_t *r);

/* Tracking of requests sent on handle generation gen: call track before
 * the zoo_a* call, untrack if it fails (no completion will come). After
 * zookeeper_close, zkc__reqs_abandon completes with ZCLOSING every request
 * of that generation libzookeeper never answered (it can drop completions
 * queued while it closes), so every waiter and async callback is told. */
void zkc__req_track(zkc_t *zk, zkc__req_t *r, uint64_t gen);
void zkc__req_untrack(zkc__req_t *r);

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

/* Completions for submit functions. */
void zkc__complete_data(int rc, const char *value, int value_len, const struct Stat *stat,
                        const void *data);
void zkc__complete_stat(int rc, const struct Stat *stat, const void *data);
void zkc__complete_void(int rc, const void *data);
void zkc__complete_string(int rc, const char *value, const void *data);
void zkc__complete_string_stat(int rc, const char *value, const struct Stat *stat,
                               const void *data);
void zkc__complete_strings_stat(int rc, const struct String_vector *strings,
                                const struct Stat *stat, const void *data);
/* Stores a copy of the ACL (r->acl, one allocation) and the stat
 * (src/acl_ops.c). */
void zkc__complete_acl(int rc, struct ACL_vector *acl, struct Stat *stat, const void *data);

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
