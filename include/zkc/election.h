/* zkc/election.h - leader election (a leader latch): candidates queue on
 * ephemeral-sequential nodes, the lowest one leads, each watches only its
 * predecessor. Node layout compatible with Apache Curator's LeaderLatch. */
#ifndef ZKC_ELECTION_H
#define ZKC_ELECTION_H

#include "zkc/client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zkc_election zkc_election_t;

/* When a leader stops counting itself leader after a connection problem.
 *   SUSPENDED - at SUSPENDED (connection lost, session may live); leadership
 *               is taken again at RECONNECTED if the node is still first.
 *               The safe default (Curator's "standard" policy).
 *   LOST      - only at LOST (session expired, or presumed lost by zkc at
 *               2/3 of the negotiated timeout, docs/design.md rule 2). Fewer
 *               hand-overs on flaky links, a shorter margin of safety. */
#define ZKC_ELECTION_STEP_DOWN_SUSPENDED 0
#define ZKC_ELECTION_STEP_DOWN_LOST 1

/* Leadership events. */
#define ZKC_ELECTION_LEADER 1       /* this candidate leads from now */
#define ZKC_ELECTION_NOT_LEADER 2   /* this candidate no longer leads */

/* Why leadership ended (the `reason` of a NOT_LEADER event; 0 with LEADER). */
#define ZKC_ELECTION_REASON_SUSPENDED 1  /* connection lost (policy SUSPENDED) */
#define ZKC_ELECTION_REASON_LOST 2       /* session lost */
#define ZKC_ELECTION_REASON_NODE_GONE 3  /* own node deleted by someone, or no
                                          * longer owned by this session */

/* Leadership callback. Runs on the client's event thread (zkc_event_fn's
 * rules: it may call blocking zkc functions, events wait meanwhile; it may
 * call zkc_election_resign/close on this election). `epoch` is the leader
 * node's creation zxid (czxid): it grows with every new leadership and is
 * the fencing token for writes to outside systems, within one history of
 * the ensemble (after ZKC_EVENT_HISTORY_RESET epochs start again lower:
 * compare them only under the same zkc_history_resets()). No event is delivered for
 * zkc_election_resign or zkc_election_close: their caller knows. */
typedef void (*zkc_election_fn)(zkc_election_t *e, int type, int64_t epoch, int reason,
                                void *payload);

#define ZKC_ELECTION_OPTIONS_VERSION 1
typedef struct zkc_election_options {
	int version;                /* ZKC_ELECTION_OPTIONS_VERSION */
	const char *id;             /* participant id, stored as the node's data
	                             * (as Curator's LeaderLatch id); NULL = "" */
	int step_down;              /* ZKC_ELECTION_STEP_DOWN_*, default SUSPENDED */
	zkc_election_fn fn;         /* NULL = events go to the election's
	                             * queue (zkc_election_events_next) */
	void *payload;              /* borrowed (never freed by zkc): valid
	                             * until zkc_election_close returns */
	const zkc_acl_list_t *acl;  /* for the nodes; NULL = the client's default.
	                             * Copied by zkc_election_open. */
} zkc_election_options_t;
#define ZKC_ELECTION_OPTIONS_INIT { ZKC_ELECTION_OPTIONS_VERSION, NULL, \
	ZKC_ELECTION_STEP_DOWN_SUSPENDED, NULL, NULL, NULL }

/* Fills *opts with the defaults of ZKC_ELECTION_OPTIONS_INIT, for a struct of
 * `version` (1..ZKC_ELECTION_OPTIONS_VERSION; pass
 * ZKC_ELECTION_OPTIONS_VERSION), for callers that cannot use the brace
 * initializer. Expected codes: ZKC_EBADARGUMENTS (NULL, or a version this zkc
 * does not know: the message says which). */
ZKC_EXTERN int zkc_election_options_init(zkc_election_options_t *opts, unsigned int version);

/* A candidate for the election at `path` (a directory node, created as a
 * container with its parents when missing). Does not join yet. *out is owned
 * by the caller (zkc_election_close) and must be closed before its client.
 * No round trip. Expected codes: ZKC_EBADARGUMENTS (path, options version,
 * policy), ZKC_ETOOLARGE (id). */
ZKC_EXTERN int zkc_election_open(zkc_election_t **out, zkc_t *zk, const char *path,
                                 const zkc_election_options_t *opts);

/* Joins: creates the candidate node `_c_<uuid>-latch-<seq>` (ephemeral,
 * sequential) and its first check in one round trip, then follows the
 * election in the background (events on the event thread). After LOST the
 * candidate joins again in the new session by itself. Returns without
 * waiting for the reply. Any thread. Joining twice is a no-op. Expected
 * codes: ZKC_ECLOSED. */
ZKC_EXTERN int zkc_election_join(zkc_election_t *e);

/* Waits until this candidate leads (ZKC_OK, *out_epoch set; may be NULL),
 * up to timeout_ms (< 0 forever, 0 = just check). Any thread but the event
 * thread's callbacks should not wait long. Expected codes: ZKC_ETIMEDOUT,
 * ZKC_ECANCELED (not joined, resigned or closed meanwhile), or the error
 * that stopped the candidate (e.g. ZKC_ENOAUTH). */
ZKC_EXTERN int zkc_election_await(int64_t *out_epoch, zkc_election_t *e, int timeout_ms);

/* 1 if this candidate leads now (*out_epoch set; may be NULL), else 0. A
 * local read, no round trip. Any thread. */
ZKC_EXTERN int zkc_election_is_leader(int64_t *out_epoch, zkc_election_t *e);

/* The path of this candidate's node in the current session, owned by the
 * caller (zkc_free); it may not lead. Expected codes: ZKC_ENONODE (not
 * joined, or between sessions). */
ZKC_EXTERN int zkc_election_node(char **out, zkc_election_t *e);

/* For fenced writes: if this candidate leads now, the path of its leader
 * node (caller frees with zkc_free) and the epoch, read together. A
 * zkc_multi that starts with zkc_multi_guard(path, -1) then commits only
 * while that node exists, i.e. while no later epoch can lead; pass the epoch
 * to outside systems as the fencing token. Never pair an epoch with a path
 * read separately (zkc_election_node): after a lost session the node path
 * is a new, non-leading one. Expected codes: ZKC_EINVALIDSTATE (not leading
 * now). */
ZKC_EXTERN int zkc_election_fence(char **out_path, int64_t *out_epoch, zkc_election_t *e);

/* Leaves the election: leadership (if any) ends at once, the node is
 * deleted (blocking, retried per the client's policy while the session
 * lives). The candidate may join again later (at the back of the queue).
 * Any thread, also the election's own callback. Expected codes: ZKC_OK
 * (also when not joined), ZKC_EUNKNOWN/ZKC_ETIMEDOUT (the delete could not be
 * confirmed; the node goes with the session at the latest). */
ZKC_EXTERN int zkc_election_resign(zkc_election_t *e);

/* The destructor: leadership (if any) ends at once, the candidate's node is
 * deleted in the background (the session's end removes it at the latest)
 * and the candidate is freed. After it returns, its callback is not running
 * and never runs again (except when called from that callback). Cannot
 * fail; call zkc_election_resign first to wait for the delete and learn its
 * outcome. NULL is a no-op. Any thread, also the election's own callback. */
ZKC_EXTERN void zkc_election_close(zkc_election_t *e);

/* One leadership event as the queue gives it (by value: nothing to free). */
typedef struct zkc_election_event {
	int type;        /* ZKC_ELECTION_LEADER or ZKC_ELECTION_NOT_LEADER */
	int64_t epoch;   /* as zkc_election_fn's epoch */
	int reason;      /* ZKC_ELECTION_REASON_* with NOT_LEADER, else 0 */
} zkc_election_event_t;

/* The pull form of leadership events, for an election opened without fn
 * (bindings, event loops): the same events the callback would get, in
 * order, kept in a queue of the election (the 64 newest; an older one is
 * dropped when nobody reads). zkc_election_events_fd is a file descriptor
 * owned by the election, readable while events are queued (poll/epoll);
 * zkc_election_events_next takes the next one into *out, waiting up to
 * timeout_ms (0 = no wait, < 0 = forever). Any thread. Expected codes:
 * ZKC_EAGAIN (none in time), ZKC_ECANCELED (the thread's cancellation
 * token fired), ZKC_EBADARGUMENTS (NULL). */
ZKC_EXTERN int zkc_election_events_fd(zkc_election_t *e);
ZKC_EXTERN int zkc_election_events_next(zkc_election_event_t *out, zkc_election_t *e,
                                        int timeout_ms);

/* ------------------------------------------------------------ queries */

/* One participant of an election, in queue order. */
typedef struct zkc_election_participant {
	char *id;            /* the node's data, NUL-terminated */
	char *node;          /* node name (not path) */
	int64_t czxid;       /* its creation zxid: the epoch it leads with */
	int64_t session_id;  /* its ephemeral owner */
	int is_leader;       /* 1 for the first in the queue */
} zkc_election_participant_t;

typedef struct zkc_election_participants {
	size_t count;
	zkc_election_participant_t *items;
} zkc_election_participants_t;

/* The participants of the election at `path`, first (the leader) first,
 * read in two round trips (children, then every node's data pipelined).
 * Nodes of other recipes in the directory (names without "latch-") are
 * ignored; a node that vanishes between the reads is left out. *out is owned
 * by the caller (zkc_election_participants_free). Any thread. Expected:
 * ZKC_ENONODE (no such election path), ZKC_EBADARGUMENTS. An empty election
 * gives count 0. */
ZKC_EXTERN int zkc_election_participants(zkc_election_participants_t **out, zkc_t *zk,
                                         const char *path);
ZKC_EXTERN void zkc_election_participants_free(zkc_election_participants_t *p);

/* The current leader's id (caller frees with zkc_free) and epoch (may be
 * NULL). Expected: ZKC_ENONODE (no path or no candidate), ZKC_EBADARGUMENTS. */
ZKC_EXTERN int zkc_election_leader(char **out_id, int64_t *out_epoch, zkc_t *zk,
                                   const char *path);

#ifdef __cplusplus
}
#endif
#endif
