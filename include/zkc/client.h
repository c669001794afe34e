/* zkc/client.h - one client: a ZooKeeper session that survives faults, its
 * states, events and the synchronous operations, retried where safe. */
#ifndef ZKC_CLIENT_H
#define ZKC_CLIENT_H

#include "zkc/common.h"
#include "zkc/retry.h"
#include "zkc/acl.h"
#include "zkc/tls.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zkc zkc_t;

/* Connection states, as recipes see them.
 *   CONNECTING  - opened, no session yet
 *   CONNECTED   - a session is established (also a new session after LOST)
 *   SUSPENDED   - the connection is gone; the session may still live
 *   RECONNECTED - the same session is back after SUSPENDED
 *   LOST        - the session is gone (expired, or presumed lost after about
 *                 2/3 of the negotiated timeout without a server); zkc closes
 *                 it and makes a new one, announced by CONNECTED
 *   CLOSED      - zkc_close was called
 * Every recipe hears LOST before a new session's CONNECTED. */
typedef enum zkc_state {
	ZKC_STATE_CONNECTING = 0,
	ZKC_STATE_CONNECTED = 1,
	ZKC_STATE_SUSPENDED = 2,
	ZKC_STATE_RECONNECTED = 3,
	ZKC_STATE_LOST = 4,
	ZKC_STATE_CLOSED = 5
} zkc_state_t;

/* The name of a state ("CONNECTED"). Never NULL.
 * Borrowed: static; never free. */
ZKC_EXTERN const char *zkc_state_name(int state);

/* Event types delivered to callbacks or the event queue. */
typedef enum zkc_event_type {
	ZKC_EVENT_STATE = 1,            /* state changed: see event.state */
	ZKC_EVENT_CREATED = 2,          /* watched node was created */
	ZKC_EVENT_DELETED = 3,          /* watched node was deleted */
	ZKC_EVENT_CHANGED = 4,          /* watched node's data changed */
	ZKC_EVENT_CHILD = 5,            /* watched node's children changed */
	ZKC_EVENT_WATCH_CANCELLED = 6,  /* the watch will never fire: its session
	                                 * ended or the client closed; re-read */
	ZKC_EVENT_HOSTS = 7,            /* the host provider changed the server
	                                 * list: event.path holds it */
	/* zkc/cache.h events sent to the client's callback or queue (a cache
	 * without its own callback): 7 + zkc_cache_event_type_t; event.path is
	 * the node, event.payload the cache's event_payload */
	ZKC_EVENT_CACHE_ADDED = 8,
	ZKC_EVENT_CACHE_UPDATED = 9,
	ZKC_EVENT_CACHE_REMOVED = 10,
	ZKC_EVENT_CACHE_INITIALIZED = 11,
	ZKC_EVENT_CACHE_SUSPENDED = 12,
	ZKC_EVENT_CACHE_RESYNCED = 13,
	ZKC_EVENT_CACHE_OVERFLOW = 14,
	ZKC_EVENT_CACHE_RESET = 15,
	/* (16..31 are kept for further cache events) */
	/* The ensemble's history went backwards: every server lost its data
	 * (a wiped volume) or was restored from an older backup, so zxids
	 * start again below those seen before. Comes after LOST and before
	 * the new session's CONNECTED; event.state is LOST. Everything held
	 * from before (cached data, zxids, fencing tokens, election epochs)
	 * belongs to the old history: reload it. See zkc_history_resets. */
	ZKC_EVENT_HISTORY_RESET = 32
} zkc_event_type_t;

typedef struct zkc_event {
	int type;            /* zkc_event_type_t */
	int state;           /* the client state when the event was made */
	const char *path;    /* node path (watch events), server list (HOSTS) */
	int64_t session_id;  /* session the event belongs to */
	void *payload;       /* the payload given with the watch, if any */
} zkc_event_t;

/* Event callback. Runs on the client's event thread (never libzookeeper's
 * completion thread), one event at a time, in order. It may call blocking zkc
 * functions, but events wait while it runs. It may call zkc_close on its
 * own client: the close is deferred until it returns. The event and its
 * strings are valid only during the call. */
typedef void (*zkc_event_fn)(zkc_t *zk, const zkc_event_t *event, void *payload);

/* Watch callback: called exactly once per registered watch, with the node
 * event that fired it or with ZKC_EVENT_WATCH_CANCELLED. Same thread rules
 * as zkc_event_fn. A NULL watch function sends the event to the client's
 * event callback, or to the event queue if there is none. */
typedef zkc_event_fn zkc_watch_fn;

/* Version 2 added `tls`; version 1 structs are still accepted. */
#define ZKC_OPTIONS_VERSION 2

typedef struct zkc_options {
	int version;                /* ZKC_OPTIONS_VERSION */
	int session_timeout_ms;     /* requested; 0 = URL's or 10000 */
	int connect_timeout_ms;     /* zkc_open waits this long for the first
	                             * session: 0 = URL's or 15000; -1 = return at
	                             * once and connect in the background */
	zkc_retry_t retry;          /* default for every blocking call; version 0
	                             * = URL's or ZKC_RETRY_INIT */
	const char *chroot;         /* overrides the URL's chroot; NULL = URL's */
	const char *digest;         /* "user:password" for digest auth, re-applied
	                             * on every new session; NULL = URL's */
	const zkc_acl_list_t *acl;  /* default ACL of creates; NULL = open */
	zkc_log_fn log_fn;          /* NULL = no logging */
	void *log_payload;          /* borrowed, as event_payload */
	int log_level;              /* 0 = ZKC_LOG_WARN */
	zkc_event_fn event_fn;      /* NULL = events go to the event queue */
	void *event_payload;        /* borrowed (never freed by zkc): valid until
	                             * zkc_close has finished */
	const zkc_tls_options_t *tls; /* TLS to the servers (copied at open);
	                             * NULL = the URL's (zks://, ca=, cert=, ...)
	                             * or none */
} zkc_options_t;

#define ZKC_OPTIONS_INIT { ZKC_OPTIONS_VERSION, 0, 0, { 0, 0, 0, 0, 0 }, NULL, \
	NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL }

/* Fills *opts with the defaults of ZKC_OPTIONS_INIT, for a struct of
 * `version` (1..ZKC_OPTIONS_VERSION; pass ZKC_OPTIONS_VERSION), for callers
 * that cannot use the brace initializer. Expected codes: ZKC_EBADARGUMENTS
 * (NULL, or a version this zkc does not know: the message says which). */
ZKC_EXTERN int zkc_options_init(zkc_options_t *opts, unsigned int version);

/* Opens a client from a URL (NULL = $ZKC_URL), SCHEME://HOSTS[/CHROOT][?OPTIONS]:
 *   zk://h1:2181,h2:2181/chroot  the list as written ([v6]:port; port 2181
 *                                by default); /chroot prefixes every path
 *   zk+dns://name:2181           names re-resolved (A/AAAA) as they change
 *   zk+srv://_client._tcp.name   SRV records of one name
 *   zk+k8s://service.namespace:2181  the Service's EndpointSlices, watched
 *                                through the Kubernetes API
 * TLS: zks://, zks+dns://, zks+srv://, zks+k8s://, or any TLS option.
 * Options (&-separated; durations take ms, s or m, a bare number is ms):
 *   session_timeout=DUR   requested session timeout (10s)
 *   connect_timeout=DUR   how long open waits for a session (15s; -1:
 *                         return at once, connect in the background)
 *   retry_base=DUR retry_max=DUR retry_deadline=DUR retry_attempts=N
 *                         the default retry policy (zkc/retry.h)
 *   digest=USER:PASSWORD  digest auth on every session (never echoed)
 *   dns_server=IP[:PORT]  resolver for zk+dns/zk+srv; dns_interval=DUR (5s)
 *   read_only=0|1         accept read-only servers
 *   ca=FILE cert=FILE key=FILE key_password=PW server_name=NAME
 *   verify_host=0|1       TLS (zkc/tls.h; failures give ZKC_ETLS)
 *   kubeconfig=FILE       zk+k8s: reach the API with this kubeconfig
 *                         instead of the pod's service account
 *   include_not_ready=0|1 zk+k8s: also use endpoints not ready
 * Fields of opts override the URL's. docs/getting-started.md has the table.
 * Waits up to connect_timeout for the first session. A server name that does
 * not resolve counts as a server that is down: open keeps trying until its
 * deadline. On success *out is owned by the caller (zkc_close). Expected
 * codes: ZKC_EURL (malformed URL or option), ZKC_ETIMEDOUT (no session by the
 * deadline), ZKC_ETLS (every TLS handshake failed: unknown CA, name
 * mismatch, expired or missing certificate; the reason is in the message),
 * ZKC_EBADARGUMENTS. On failure *out is NULL. */
ZKC_EXTERN int zkc_open(zkc_t **out, const char *url, const zkc_options_t *opts);

/* The destructor: closes the session (ephemeral nodes go at once), stops
 * every zkc thread and frees the client. Pending watches are called with
 * ZKC_EVENT_WATCH_CANCELLED first. Cannot fail. NULL is a no-op. Close
 * every handle opened on the client (locks, caches, recipes) first.
 * Called from a callback of the same client (event thread), it returns at
 * once and the close is deferred: it starts when that callback has
 * returned and completes on a thread of its own; the client stays usable
 * until the callback returns, and calling zkc_close again is a no-op.
 * zkc_testing_open_clients tells when it is done. */
ZKC_EXTERN void zkc_close(zkc_t *zk);

ZKC_EXTERN int zkc_state(zkc_t *zk);

/* Whether the calling thread is the client's event thread (where every
 * callback runs): libraries built on zkc use it to refuse a blocking wait
 * that only that thread could end. */
ZKC_EXTERN int zkc_on_event_thread(zkc_t *zk);

/* Waits until the client is CONNECTED or RECONNECTED. ZKC_ETIMEDOUT,
 * ZKC_ECLOSED. timeout_ms < 0 waits forever. */
ZKC_EXTERN int zkc_wait_connected(zkc_t *zk, int timeout_ms);

/* The current session: id, password (16 bytes, may be NULL) and negotiated
 * timeout in ms (may be NULL): the short form for C, where most callers want
 * only the id. ZKC_EINVALIDSTATE when there is no session. */
ZKC_EXTERN int zkc_session(int64_t *out_id, char out_passwd[16], int *out_timeout_ms, zkc_t *zk);

#define ZKC_SESSION_PASSWD_LEN 16

/* A session as zkc_session_info gives it: plain fixed fields, so a binding
 * can read it without array parameters. */
typedef struct zkc_session_info {
	int64_t id;
	int timeout_ms;                                /* negotiated with the server */
	size_t passwd_len;                             /* ZKC_SESSION_PASSWD_LEN */
	unsigned char passwd[ZKC_SESSION_PASSWD_LEN];  /* binary, not NUL-terminated */
} zkc_session_info_t;

/* The current session copied into *out (zkc_session's form for bindings and
 * for code that keeps the whole session). Any thread, no round trip.
 * Expected: ZKC_EINVALIDSTATE (no session; *out zeroed), ZKC_EBADARGUMENTS
 * (NULL). */
ZKC_EXTERN int zkc_session_info(zkc_session_info_t *out, zkc_t *zk);

/* The server list the host provider currently gives, comma-separated.
 * Caller frees with zkc_free. */
ZKC_EXTERN int zkc_servers(char **out, zkc_t *zk);

/* The server the session is connected to ("ip:port"), or ZKC_EINVALIDSTATE.
 * Caller frees with zkc_free. */
ZKC_EXTERN int zkc_current_server(char **out, zkc_t *zk);

/* How many times this client saw the ensemble's history go backwards
 * (ZKC_EVENT_HISTORY_RESET). zxids (czxid, mzxid, pzxid, lock fencing
 * tokens, election epochs) are comparable only when taken under the same
 * count: keep it next to any zxid you store across sessions. How it is
 * found: when a new session replaces a lost one, zkc asks the server it
 * connected to for a session claiming the highest zxid this client has
 * seen; a server refuses that only if its history lacks that zxid. */
ZKC_EXTERN uint64_t zkc_history_resets(zkc_t *zk);

/* Replaces the default retry policy of later calls. */
ZKC_EXTERN int zkc_set_retry(zkc_t *zk, const zkc_retry_t *retry);

/* ------------------------------------------------------------ events */

/* A file descriptor that is readable while the event queue is not empty, for
 * poll/epoll/select. Owned by the client. */
ZKC_EXTERN int zkc_events_fd(zkc_t *zk);

/* Takes the next queued event, waiting up to timeout_ms (0 = do not wait,
 * < 0 = forever). *out is owned by the caller: zkc_event_free. Expected codes:
 * ZKC_EAGAIN (none within timeout), ZKC_ECLOSED. */
ZKC_EXTERN int zkc_events_next(zkc_event_t **out, zkc_t *zk, int timeout_ms);
ZKC_EXTERN void zkc_event_free(zkc_event_t *event);

/* State listeners (for recipes and applications): called on the event thread
 * for every state change, before the event callback or queue sees it, in the
 * order added. Returns an id for zkc_listener_remove in *out_id. */
typedef void (*zkc_state_fn)(zkc_t *zk, int state, int64_t session_id, void *payload);
/* Not a state (zkc_state never returns it): listeners also get it as
 * `state` when the ensemble's history went backwards (see
 * ZKC_EVENT_HISTORY_RESET), after LOST and before the new session's
 * CONNECTED; session_id is the new session's. Ignore it if you keep no
 * zxids, data or tokens across sessions. */
#define ZKC_NOTICE_HISTORY_RESET 16
/* payload is borrowed, never freed by zkc: valid until zkc_listener_remove
 * returns (or zkc_close has finished). */
ZKC_EXTERN int zkc_listener_add(int *out_id, zkc_t *zk, zkc_state_fn fn, void *payload);
/* After it returns, the listener is not running and will not run again
 * (unless called from that listener itself). */
ZKC_EXTERN int zkc_listener_remove(zkc_t *zk, int id);

/* ------------------------------------------------------------ nodes */

typedef struct zkc_stat {
	int64_t czxid;
	int64_t mzxid;
	int64_t ctime;
	int64_t mtime;
	int32_t version;
	int32_t cversion;
	int32_t aversion;
	int64_t ephemeral_owner;
	int32_t data_length;
	int32_t num_children;
	int64_t pzxid;
} zkc_stat_t;

/* Creation modes, with ZooKeeper's numbering. */
typedef enum zkc_mode {
	ZKC_PERSISTENT = 0,
	ZKC_EPHEMERAL = 1,
	ZKC_PERSISTENT_SEQUENTIAL = 2,
	ZKC_EPHEMERAL_SEQUENTIAL = 3,
	ZKC_CONTAINER = 4,
	ZKC_PERSISTENT_WITH_TTL = 5,
	ZKC_PERSISTENT_SEQUENTIAL_WITH_TTL = 6
} zkc_mode_t;

/* Creation flags. */
#define ZKC_CREATE_PARENTS   0x1  /* create missing parents (persistent,
                                   * or containers when the node is one) */
#define ZKC_CREATE_PROTECTED 0x2  /* put a GUID in the name so a create whose
                                   * reply was lost is found again instead of
                                   * repeated (sequential and ephemeral
                                   * modes); required for a retried
                                   * sequential create */

#define ZKC_CREATE_OPTIONS_VERSION 1
typedef struct zkc_create_options {
	int version;
	int mode;                   /* zkc_mode_t */
	int flags;                  /* ZKC_CREATE_* */
	int64_t ttl_ms;             /* for the TTL modes */
	const zkc_acl_list_t *acl;  /* NULL = the client's default */
} zkc_create_options_t;
#define ZKC_CREATE_OPTIONS_INIT { ZKC_CREATE_OPTIONS_VERSION, ZKC_PERSISTENT, 0, 0, NULL }

/* Fills *opts with the defaults of ZKC_CREATE_OPTIONS_INIT, for a struct of
 * `version` (1..ZKC_CREATE_OPTIONS_VERSION; pass ZKC_CREATE_OPTIONS_VERSION),
 * for callers that cannot use the brace initializer. Expected codes:
 * ZKC_EBADARGUMENTS (NULL, or a version this zkc does not know: the message
 * says which). */
ZKC_EXTERN int zkc_create_options_init(zkc_create_options_t *opts, unsigned int version);

/* Creates a node. *out_path (may be NULL) gets the actual path, without the
 * chroot (sequential suffix, protected prefix), owned by the caller
 * (zkc_free); *out_stat (may be NULL) its stat. opts NULL = persistent, no
 * flags. Retried per the retry policy where safe: a plain create whose reply
 * was lost and that then finds the node existing returns ZKC_EUNKNOWN, unless
 * it is ephemeral and owned by this session (then it is ours) or protected.
 * A sequential create without ZKC_CREATE_PROTECTED is not retried after a
 * lost reply (ZKC_EUNKNOWN). Expected codes: ZKC_ENODEEXISTS, ZKC_ENONODE
 * (parent), ZKC_EUNKNOWN, ZKC_EBADARGUMENTS, ZKC_ETOOLARGE. */
ZKC_EXTERN int zkc_create(char **out_path, zkc_stat_t *out_stat, zkc_t *zk, const char *path,
                          const void *data, size_t len, const zkc_create_options_t *opts);

/* Reads a node's data. *out (may be NULL) is owned by the caller (zkc_free),
 * with a NUL after the last byte for convenience; a node without data gives
 * a zero-length buffer, not NULL. Expected: ZKC_ENONODE. */
ZKC_EXTERN int zkc_get(char **out, size_t *out_len, zkc_stat_t *out_stat, zkc_t *zk,
                       const char *path);
/* As zkc_get and leaves a watch (data change or deletion). The watch is
 * registered only if the call returns ZKC_OK. payload (here and in every
 * *_w call) is borrowed, never freed by zkc: valid until the watch has been
 * called, exactly once (with its event or ZKC_EVENT_WATCH_CANCELLED), or
 * until the call returns when it failed. */
ZKC_EXTERN int zkc_get_w(char **out, size_t *out_len, zkc_stat_t *out_stat, zkc_t *zk,
                         const char *path, zkc_watch_fn fn, void *payload);

/* Writes a node's data if its version equals `version` (-1: any version).
 * Expected: ZKC_ENONODE, ZKC_EBADVERSION, ZKC_EUNKNOWN (a versioned write
 * whose reply was lost and whose retry met another version). */
ZKC_EXTERN int zkc_set(zkc_stat_t *out_stat, zkc_t *zk, const char *path, const void *data,
                       size_t len, int32_t version);

#define ZKC_DELETE_RECURSIVE 0x1
/* Deletes a node at `version` (-1: any). With ZKC_DELETE_RECURSIVE, deletes
 * its subtree first (children at any version). A delete whose reply was lost
 * and that then finds no node counts as done. Expected: ZKC_ENONODE,
 * ZKC_EBADVERSION, ZKC_ENOTEMPTY. */
ZKC_EXTERN int zkc_delete(zkc_t *zk, const char *path, int32_t version, int flags);

/* ZKC_OK with *out_stat (may be NULL) if the node exists, ZKC_ENONODE if not. */
ZKC_EXTERN int zkc_exists(zkc_stat_t *out_stat, zkc_t *zk, const char *path);
/* As zkc_exists; the watch is set in both cases (creation, deletion or data
 * change) when the call returns ZKC_OK or ZKC_ENONODE. */
ZKC_EXTERN int zkc_exists_w(zkc_stat_t *out_stat, zkc_t *zk, const char *path,
                            zkc_watch_fn fn, void *payload);

/* Lists a node's children (names, not paths, in the server's order). *out is
 * owned by the caller (zkc_strings_free). Expected: ZKC_ENONODE. */
ZKC_EXTERN int zkc_children(zkc_strings_t **out, zkc_stat_t *out_stat, zkc_t *zk,
                            const char *path);
ZKC_EXTERN int zkc_children_w(zkc_strings_t **out, zkc_stat_t *out_stat, zkc_t *zk,
                              const char *path, zkc_watch_fn fn, void *payload);

/* Waits until the connected server has caught up with the leader for path. */
ZKC_EXTERN int zkc_sync(zkc_t *zk, const char *path);

/* Reads a node's ACL. *out is owned by the caller: one allocation, freed
 * with zkc_acl_list_free (entries and strings included). out_stat (may be
 * NULL) gets the node's stat; its aversion is the version zkc_acl_set
 * takes. The server shows a digest entry's hash only to a client with
 * ADMIN on the node; others read "user:x". A read: retried per the
 * client's policy. Expected codes:
 * ZKC_ENONODE, ZKC_ENOAUTH, ZKC_EBADARGUMENTS (path, out NULL). */
ZKC_EXTERN int zkc_acl_get(zkc_acl_list_t **out, zkc_stat_t *out_stat, zkc_t *zk,
                           const char *path);
/* Frees a list from zkc_acl_get or zkc_acl_list_copy. NULL is a no-op. */
ZKC_EXTERN void zkc_acl_list_free(zkc_acl_list_t *list);
/* Replaces a node's ACL if its aversion is `version` (-1: any). The list is
 * not kept. Retried per the client's policy; a versioned change whose reply
 * was lost and that then meets another version gives ZKC_EUNKNOWN. Expected
 * codes: ZKC_ENONODE, ZKC_EBADVERSION, ZKC_ENOAUTH, ZKC_EINVALIDACL,
 * ZKC_EBADARGUMENTS (path, empty list, bad entry, version < -1),
 * ZKC_EUNKNOWN. */
ZKC_EXTERN int zkc_acl_set(zkc_t *zk, const char *path, int32_t version,
                           const zkc_acl_list_t *acl);

/* Checks a path as ZooKeeper would (leading '/', no trailing '/', no empty,
 * "." or ".." component, no NUL or control characters, at most 4096 bytes).
 * ZKC_OK or ZKC_EBADARGUMENTS with the reason in zkc_error_last(). `len` is
 * the buffer length to check for embedded NULs, or (size_t)-1 for strlen. */
ZKC_EXTERN int zkc_path_validate(const char *path, size_t len);

/* Largest data size a node may hold (ZooKeeper's jute.maxbuffer default). */
#define ZKC_MAX_DATA_LEN (1024 * 1024 - 1024)

#ifdef __cplusplus
}
#endif
#endif
