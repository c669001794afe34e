/* src/client_impl.h - the client's private structure and the types its
 * layers share (docs/design.md, "Layers"): events.c, request.c, call.c,
 * supervisor.c, client.c and the operations above them. Declarations of
 * functions live in each layer's own header. */
#ifndef ZKC_CLIENT_IMPL_H
#define ZKC_CLIENT_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <zookeeper/zookeeper.h>

#include "internal.h"

/* One registered watch. Lives from its registration until it fires or its
 * session's handle is closed; the watch function is called exactly once. */
typedef struct zkc__watch {
	zkc_t *zk;
	uint64_t gen;                 /* handle generation it was set on */
	zkc_watch_fn fn;
	void *payload;
	char *path;
	int armed;                    /* registered with libzookeeper */
	int silent;                   /* its call gave up: fire without telling */
	struct zkc__watch *prev, *next;
} zkc__watch_t;

/* A server that has answered nothing for this long while a request waits
 * gets a cheap read (a stall nudge), then again after 2x, 4x ... this, up
 * to the heartbeat's period. ZooKeeper 3.6.0-3.8.0 servers (Debian 12 has
 * 3.8.0) can leave committed requests unprocessed until the next packet of
 * any client arrives (ZOOKEEPER-4537, a lost wakeup in CommitProcessor);
 * with one client on a server, that packet would be the next heartbeat, a
 * sixth of the session timeout later. docs/decisions/0010-stall-nudge.md. */
#define ZKC__STALL_NUDGE_MS 100

/* Internal event, handed from libzookeeper's threads and the supervisor to
 * the event thread. */
enum { ZKC__EV_STATE = 1, ZKC__EV_WATCH = 2, ZKC__EV_HOSTS = 3, ZKC__EV_CALL = 4 };
typedef struct zkc__ev {
	struct zkc__ev *next;
	int kind;
	int state;
	int64_t session_id;
	int type;                     /* zkc_event_type_t for WATCH */
	zkc__watch_t *watch;          /* WATCH: owned by the event */
	char *path;                   /* WATCH path / HOSTS list, owned */
	void (*call)(void *arg);      /* CALL: run on the event thread */
	void *arg;
} zkc__ev_t;

/* Work waiting for a connection (asynchronous batches): the supervisor
 * sends it once connected, or expires it at its deadline or at close. */
typedef struct zkc__pending {
	struct zkc__pending *next;
	int64_t deadline_ms;
	/* Called without locks, with a use of the handle held. */
	void (*send)(struct zkc__pending *p, zhandle_t *zh, int64_t session_id);
	/* Called without locks; code is ZKC_ETIMEDOUT or ZKC_ECLOSED. */
	void (*expire)(struct zkc__pending *p, int code);
} zkc__pending_t;

/* A queued user event: the public part first so zkc_event_free can take it. */
typedef struct zkc__uev {
	zkc_event_t ev;
	struct zkc__uev *next;
	char *path;
} zkc__uev_t;

typedef struct zkc__listener {
	int id;
	zkc_state_fn fn;
	void *payload;
} zkc__listener_t;

struct zkc {
	pthread_mutex_t mu;
	pthread_cond_t cv;            /* monotonic; state, handle, closing */

	/* configuration, fixed after open */
	zkc__url_t *url;
	zkc__log_t log;
	int session_timeout_ms;
	int connect_timeout_ms;
	zkc_retry_t retry;            /* guarded by mu (zkc_set_retry) */
	char *chroot;                 /* NULL or "/x" */
	char *digest;
	struct ACL_vector acl;        /* default ACL for creates */
	zkc_event_fn event_fn;
	void *event_payload;

	zkc__tls_t *tls;              /* TLS bridge, NULL for plain TCP */

	/* host provider */
	zkc__hosts_t *hosts;
	char *servers;                /* current list, guarded by mu */
	int servers_changed;

	/* session, guarded by mu */
	zhandle_t *zh;
	uint64_t gen;                 /* bumped for every new handle */
	int zh_users;                 /* threads inside a zoo_a* call on zh */
	zkc__sm_t sm;
	int raw_connected;            /* zh reports CONNECTED for gen */
	int raw_expired;              /* zh reported EXPIRED / AUTH_FAILED */
	int abandoning;               /* presumed lost: zh is being given up,
	                               * its news no longer counts */
	int64_t session_id;
	char passwd[16];
	int neg_timeout_ms;
	int64_t disconnect_ms;        /* when the connection went, 0 if up */
	int heartbeat_inflight;
	int64_t old_sessions[8];      /* sessions this client had, newest last */
	int nold_sessions;
	atomic_llong last_reply_ms;   /* last reply from any server, monotonic */
	atomic_llong max_zxid;        /* highest zxid in any stat of this history */
	atomic_ullong history;        /* history resets seen (zkc_history_resets) */
	int hist_check;               /* a new session waits for the history
	                               * probe: 1 due, 2 running; no request
	                               * uses it and CONNECTED waits meanwhile */
	pthread_t completion_tid;
	int have_completion_tid;
	int closing;
	int active_calls;             /* blocking calls in progress */
	int drain_waiters;            /* threads waiting on cv for zh_users or
	                               * active_calls to reach 0: only then do
	                               * the last user and the last call
	                               * broadcast (a broadcast per request woke
	                               * the supervisor for nothing) */
	pthread_t supervisor;

	/* event thread */
	pthread_t dispatcher;
	pthread_cond_t evcv;
	zkc__ev_t *evq_head, *evq_tail;
	int dispatcher_stop;
	int close_deferred;           /* zkc_close was called on the event thread */
	int running_listener;         /* id of the listener being called, 0 */

	/* user event queue (when event_fn is NULL) */
	zkc__uev_t *uq_head, *uq_tail;
	int evfd;

	/* queued batch completions (batch.c), made on first use under mu */
	struct zkc__completions *cq;

	zkc__listener_t *listeners;
	int nlisteners, listeners_cap, next_listener_id;

	zkc__watch_t *watches;        /* armed or being registered */
	zkc__pending_t *pending_head, *pending_tail;
	struct zkc__req *inflight;    /* requests awaiting a completion, newest first */
	struct zkc__req *inflight_tail; /* ... and the oldest */
	int64_t supervisor_wake_ms;   /* when the supervisor wakes next */
	int64_t nudge_ms;             /* last stall nudge sent (supervisor.c) */
	int nudges;                   /* nudges since the server last answered */
	uint64_t barrier_posted;      /* event-thread barriers posted ... */
	uint64_t barrier_done;        /* ... and passed */
};

/* Marks a reply from the server (any completion, watch or heartbeat). */
static inline void zkc__note_reply(zkc_t *zk)
{
	atomic_store(&zk->last_reply_ms, zkc__now_ms());
}

/* The client's queue of finished batches (completions.c): ready makes it
 * (ZKC_OK, or ZKC_EOS recorded) before a run is accepted, so push, called
 * from any thread once a queued batch has every answer, cannot fail
 * later (taken_fn is called as zkc_completions_next hands the batch
 * back); free is the client's last step and frees the batches still in it
 * with their free_fn (NULL is a no-op). */
int zkc__completions_ready(zkc_t *zk);
void zkc__completions_push(zkc_t *zk, zkc_batch_t *b, uint64_t tag,
                           void (*taken_fn)(zkc_batch_t *b), void (*free_fn)(zkc_batch_t *b));
void zkc__completions_free(struct zkc__completions *cq);

#endif
