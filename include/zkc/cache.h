/* zkc/cache.h - a watch-driven local copy of one node, its children or a
 * subtree, kept current by one-shot watches re-armed on every fire, with
 * change events and reads that cost no round trip. See docs/cache.md. */
#ifndef ZKC_CACHE_H
#define ZKC_CACHE_H

#include "zkc/client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zkc_cache zkc_cache_t;

/* Cache events. A node is identified by (czxid, mzxid): a node deleted and
 * created again is REMOVED then ADDED, and per path mzxid never goes
 * backwards (a stale read is ignored).
 *   ADDED       - a node entered the cache (data and stat are the new ones)
 *   UPDATED     - its data changed (mzxid grew)
 *   REMOVED     - it left the cache (deleted, or its parent was); data and
 *                 stat are the last known ones. Children go before parents.
 *   INITIALIZED - the first load is complete (once per cache)
 *   SUSPENDED   - the connection or the session is gone: the cache may be
 *                 stale until RESYNCED
 *   RESYNCED    - after a reconnect or a new session the cache was compared
 *                 with the server again; the differences came as
 *                 ADDED/UPDATED/REMOVED before this event
 *   OVERFLOW    - a node was not cached because of max_nodes / max_bytes;
 *                 zkc_cache_status() gives ZKC_ETOOLARGE from now on
 *   RESET       - the ensemble's history went backwards (its data was
 *                 wiped or restored: ZKC_EVENT_HISTORY_RESET): every node
 *                 is REMOVED right after this event, the tree is read
 *                 again (ADDED...) and RESYNCED follows; zxids waited for
 *                 are those of the new history from here on */
typedef enum zkc_cache_event_type {
	ZKC_CACHE_ADDED = 1,
	ZKC_CACHE_UPDATED = 2,
	ZKC_CACHE_REMOVED = 3,
	ZKC_CACHE_INITIALIZED = 4,
	ZKC_CACHE_SUSPENDED = 5,
	ZKC_CACHE_RESYNCED = 6,
	ZKC_CACHE_OVERFLOW = 7,
	ZKC_CACHE_RESET = 8
} zkc_cache_event_type_t;

/* One event as the cache callback sees it. Every pointer is owned by the
 * cache and valid only during the call. */
typedef struct zkc_cache_event {
	int type;                /* zkc_cache_event_type_t */
	const char *path;        /* node events and OVERFLOW; NULL otherwise */
	const zkc_stat_t *stat;  /* node events; NULL otherwise */
	const char *data;        /* node events when data is cached; NUL-terminated */
	size_t len;
} zkc_cache_event_t;

/* Cache callback. Runs on the client's event thread, one event at a time,
 * in order. It may read this cache (the update it reports is already
 * visible) and call blocking zkc functions, but the cache does not advance
 * while it runs. It may close this cache: no event of it is delivered
 * after that, and it is freed on the event thread once the callback
 * returns. */
typedef void (*zkc_cache_fn)(zkc_cache_t *cache, const zkc_cache_event_t *event, void *payload);

/* Filter: return non-zero to cache the node at `path` (depth 1 = a child of
 * the cache's root); zero leaves it and its subtree out. Runs on the event
 * thread while the cache is being written: it must not call zkc_cache_*
 * functions of this cache. The root is never filtered. */
typedef int (*zkc_cache_filter_fn)(const char *path, int depth, void *payload);

#define ZKC_CACHE_OPTIONS_VERSION 1
#define ZKC_CACHE_DEPTH_ALL (-1)

typedef struct zkc_cache_options {
	int version;                /* ZKC_CACHE_OPTIONS_VERSION */
	int depth;                  /* 0: the node only, 1: the node and its
	                             * children, n: n levels, ZKC_CACHE_DEPTH_ALL
	                             * (default): the whole subtree */
	int data;                   /* 1 (default): cache data; 0: stats only */
	size_t max_nodes;           /* 0: no limit */
	size_t max_bytes;           /* limit on cached data bytes; 0: none */
	zkc_cache_filter_fn filter; /* NULL: every node */
	void *filter_payload;       /* borrowed (never freed by zkc), as
	                             * event_payload: until the cache's close */
	zkc_cache_fn event_fn;      /* NULL: events go to the client's event
	                             * callback or queue as ZKC_EVENT_CACHE_*
	                             * with event.path set and event.payload =
	                             * event_payload */
	void *event_payload;        /* borrowed: valid until zkc_cache_close
	                             * returns */
	int events;                 /* 1 (default); 0: emit no events at all */
} zkc_cache_options_t;

#define ZKC_CACHE_OPTIONS_INIT { ZKC_CACHE_OPTIONS_VERSION, ZKC_CACHE_DEPTH_ALL, 1, 0, 0, \
	NULL, NULL, NULL, NULL, 1 }

/* Fills *opts with the defaults of ZKC_CACHE_OPTIONS_INIT, for a struct of
 * `version` (1..ZKC_CACHE_OPTIONS_VERSION; pass ZKC_CACHE_OPTIONS_VERSION),
 * for callers that cannot use the brace initializer. Expected codes:
 * ZKC_EBADARGUMENTS (NULL, or a version this zkc does not know: the message
 * says which). */
ZKC_EXTERN int zkc_cache_options_init(zkc_cache_options_t *opts, unsigned int version);

/* Starts caching `path` (which need not exist yet: the cache fills when it
 * appears) and returns at once; the first load runs in the background,
 * pipelined (one round trip per tree level, not per node). opts NULL =
 * defaults. *out is owned by the caller (zkc_cache_close); the client must
 * outlive the cache. Any thread. Expected codes: ZKC_EBADARGUMENTS (path,
 * options version, depth < -1), ZKC_ECLOSED, ZKC_ENOMEM. */
ZKC_EXTERN int zkc_cache_open(zkc_cache_t **out, zkc_t *zk, const char *path,
                              const zkc_cache_options_t *opts);

/* The destructor: stops the cache and frees it; no callback of it runs
 * after this returns. Watches already set fire later into nothing. Cannot
 * fail. NULL is a no-op. Any thread; from this cache's own callback the
 * close takes effect at once (no further event) and the memory is freed
 * as soon as the callback returns. */
ZKC_EXTERN void zkc_cache_close(zkc_cache_t *cache);

/* Waits for the first complete load (timeout_ms < 0: forever). Expected
 * codes: ZKC_ETIMEDOUT, ZKC_ETOOLARGE (a limit was hit: the cache is
 * partial), ZKC_EDEADLK (called on the client's event thread, which does
 * the loading). */
ZKC_EXTERN int zkc_cache_wait_initialized(zkc_cache_t *cache, int timeout_ms);

/* Read-your-writes: waits until the cache has seen every change up to zxid
 * (e.g. the mzxid or czxid of the caller's own write into the cached
 * subtree, or the parent's pzxid after a delete) and reflects it. The mark
 * advances when the cache has no reads in flight, so under constant churn
 * it may lag. zxids compare within one history of the ensemble: after a
 * history reset (RESET) the mark starts again from zero and a zxid taken
 * before it waits for the new history to reach it. Expected codes:
 * ZKC_ETIMEDOUT, ZKC_EDEADLK (event thread). */
ZKC_EXTERN int zkc_cache_wait_zxid(zkc_cache_t *cache, int64_t zxid, int timeout_ms);

/* ------------------------------------------------------------ reads
 * No round trip, any thread, concurrently with updates. */

/* A node's data and stat, copied. *out (may be NULL: no copy, no
 * allocation) is owned by the caller (zkc_free), NUL-terminated; with data
 * off it is a zero-length buffer. Expected: ZKC_ENONODE (not in the cache),
 * ZKC_EBADARGUMENTS (NULL path). */
ZKC_EXTERN int zkc_cache_get(char **out, size_t *out_len, zkc_stat_t *out_stat,
                             zkc_cache_t *cache, const char *path);

/* A node's children names (not paths), sorted bytewise; *out owned by the
 * caller (zkc_strings_free). Children beyond the cache's depth or filtered
 * out are not listed. Expected: ZKC_ENONODE. */
ZKC_EXTERN int zkc_cache_children(zkc_strings_t **out, zkc_cache_t *cache, const char *path);

/* Number of cached nodes and of cached data bytes. */
ZKC_EXTERN size_t zkc_cache_count(zkc_cache_t *cache);
ZKC_EXTERN size_t zkc_cache_bytes(zkc_cache_t *cache);

/* Memory the cache holds for its nodes and their index, as malloc counts
 * it (data included; the watches the client keeps per node are not). */
ZKC_EXTERN size_t zkc_cache_memory(zkc_cache_t *cache);

/* ZKC_OK, or ZKC_ETOOLARGE once a limit kept a node out (sticky). */
ZKC_EXTERN int zkc_cache_status(zkc_cache_t *cache);

/* Visitor for zkc_cache_foreach: every pointer is borrowed for the call.
 * Return 0 to go on, non-zero to stop (foreach returns that value). */
typedef int (*zkc_cache_visit_fn)(const char *path, const char *data, size_t len,
                                  const zkc_stat_t *stat, void *payload);

/* Walks the cached subtree at `path` (NULL: the root), parents before
 * children; updates wait until it returns (as for a pin), and
 * fn must not call other zkc_cache_* functions of this cache nor block.
 * fn runs on the calling thread, before foreach returns; payload is only
 * used until then. Expected: ZKC_ENONODE, or fn's non-zero value. */
ZKC_EXTERN int zkc_cache_foreach(zkc_cache_t *cache, const char *path, zkc_cache_visit_fn fn,
                                 void *payload);

/* Pins: zero-copy reads. zkc_cache_pin takes no lock (nothing shared is
 * written: see docs/cache.md) but holds updates back: between it and
 * zkc_cache_unpin the pointers zkc_cache_peek gives stay
 * valid and the cache does not change (updates wait, so keep pins short).
 * Pins do not nest, and while pinned the thread calls no other zkc_cache_*
 * function of this cache but zkc_cache_peek. Never pin on the client's
 * event thread across a blocking call. */
ZKC_EXTERN void zkc_cache_pin(zkc_cache_t *cache);
ZKC_EXTERN void zkc_cache_unpin(zkc_cache_t *cache);
/* Under a pin: *out_data (may be NULL) borrows the node's data
 * (NUL-terminated; "" with data off), *out_stat (may be NULL) gets a copy.
 * Borrowed: *out_data is the cache's, valid until zkc_cache_unpin; copy
 * it to keep it. Expected: ZKC_ENONODE. */
ZKC_EXTERN int zkc_cache_peek(const char **out_data, size_t *out_len, zkc_stat_t *out_stat,
                              zkc_cache_t *cache, const char *path);

/* The cache's root path. Borrowed: owned by the cache, valid until its
 * close. */
ZKC_EXTERN const char *zkc_cache_path(const zkc_cache_t *cache);

/* The name of an event type ("ADDED"). Never NULL.
 * Borrowed: static; never free. */
ZKC_EXTERN const char *zkc_cache_event_name(int type);

#ifdef __cplusplus
}
#endif
#endif
