/* src/request.h - the layer below every operation (src/request.c): the
 * blocking-call discipline, the use of the current handle, and requests in
 * flight with their completions. ops.c, multi.c, acl_ops.c, batch.c,
 * call.c and the supervisor call down into it; it calls only events.c and
 * the base modules. */
#ifndef ZKC_REQUEST_H
#define ZKC_REQUEST_H

#include "events.h"

/* ---- the blocking-call discipline */

/* Blocking-call bookkeeping: refuses calls on the completion thread and on a
 * closing client. Pair every successful enter with leave. */
int zkc__call_enter(zkc_t *zk);
void zkc__call_leave(zkc_t *zk);
int zkc__on_completion_thread(zkc_t *zk);
/* Whether session_id is one this client had before the current one. */
int zkc__was_own_session(zkc_t *zk, int64_t session_id);
/* Sleeps up to ms unless the client closes first (then ZKC_ECLOSED). */
int zkc__sleep(zkc_t *zk, int64_t ms);

/* ---- the current handle */

/* Waits (mu held) until requests may use the handle (connected, not being
 * given up, past the history probe), until deadline_ms (monotonic; < 0:
 * no limit), a cancel or the close. Returns ZKC_OK, ZKC_ECLOSED or
 * ZKC_ECANCELED (recorded), or ZKC_ETIMEDOUT, which the caller records
 * with its own words. The one wait for a connection: zkc__zh_acquire and
 * zkc_wait_connected. */
int zkc__wait_usable_locked(zkc_t *zk, int64_t deadline_ms);

/* Waits (until deadline_ms, monotonic) for a connected handle and takes a
 * use of it; out_zh, out_gen and out_sid describe it. Returns ZKC_OK,
 * ZKC_ETIMEDOUT, ZKC_ECLOSED or ZKC_EDEADLK (completion thread). */
int zkc__zh_acquire(zkc_t *zk, int64_t deadline_ms, zhandle_t **out_zh, uint64_t *out_gen,
                    int64_t *out_sid);
void zkc__zh_release(zkc_t *zk);

/* ---- what replies tell */

/* Raises max_zxid to the zxids of a stat the server returned. */
void zkc__note_zxid(zkc_t *zk, int64_t czxid, int64_t mzxid, int64_t pzxid);
void zkc__stat_from_zk(zkc_stat_t *out, const struct Stat *st);

/* ---- requests in flight */

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

/* Completes (ZCLOSING) the requests of generation gen that libzookeeper
 * never answered; call after zookeeper_close of that handle. */
void zkc__reqs_abandon(zkc_t *zk, uint64_t gen);

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
/* Stores a copy of the ACL (r->acl, one allocation) and the stat. */
void zkc__complete_acl(int rc, struct ACL_vector *acl, struct Stat *stat, const void *data);

#endif
