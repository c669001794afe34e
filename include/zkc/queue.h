/* zkc/queue.h - a distributed FIFO queue with priorities on
 * persistent-sequential nodes (kazoo LockingQueue's layout), with a take
 * that costs one round trip (cached, watched child list; the take's writes
 * and reads pipelined), at-least-once consumption with an explicit ack,
 * exactly-once take by delete, batch put in one transaction, and bucketed
 * entry directories for large queues. Layout: docs/recipes/queue.md. */
#ifndef ZKC_QUEUE_H
#define ZKC_QUEUE_H

#include "zkc/client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zkc_queue zkc_queue_t;

/* Queue flags. */
#define ZKC_QUEUE_CREATE 0x1   /* create the queue (with parents) if missing */

/* Priorities: 0 (first) .. 999 (last); kazoo's default is 100. */
#define ZKC_QUEUE_PRIORITY_DEFAULT 100
#define ZKC_QUEUE_PRIORITY_MAX 999

#define ZKC_QUEUE_OPTIONS_VERSION 1
typedef struct zkc_queue_options {
	int version;                /* ZKC_QUEUE_OPTIONS_VERSION */
	int flags;                  /* ZKC_QUEUE_* */
	int bucket_size;            /* items per entry directory before the
	                             * next one is opened (by sequence number);
	                             * 0 = one directory, never rolled (kazoo
	                             * LockingQueue exactly); default 10000 */
	const zkc_acl_list_t *acl;  /* of the queue's nodes; NULL = client's */
} zkc_queue_options_t;
#define ZKC_QUEUE_OPTIONS_INIT { ZKC_QUEUE_OPTIONS_VERSION, 0, 10000, NULL }

/* Fills *opts with the defaults of ZKC_QUEUE_OPTIONS_INIT, for a struct of
 * `version` (1..ZKC_QUEUE_OPTIONS_VERSION; pass ZKC_QUEUE_OPTIONS_VERSION),
 * for callers that cannot use the brace initializer. Expected codes:
 * ZKC_EBADARGUMENTS (NULL, or a version this zkc does not know: the message
 * says which). */
ZKC_EXTERN int zkc_queue_options_init(zkc_queue_options_t *opts, unsigned int version);

/* A taken (or peeked) item, owned by the caller: zkc_queue_item_free. */
typedef struct zkc_queue_item {
	char *name;          /* "<bucket>/<entry>", e.g. "entries/entry-100-0000000007" */
	char *data;          /* NUL after the last byte; never NULL */
	size_t len;
	int priority;
	int64_t session_id;  /* session that holds its taken marker (ack mode) */
} zkc_queue_item_t;

ZKC_EXTERN void zkc_queue_item_free(zkc_queue_item_t *item);

/* Opens a queue at `path`. Checks that it exists (one round trip), or
 * creates it with ZKC_QUEUE_CREATE. *out is owned by the caller
 * (zkc_queue_close) and belongs to `zk`, which must outlive it. opts NULL =
 * defaults. Expected codes: ZKC_ENONODE (no queue there and no
 * ZKC_QUEUE_CREATE), ZKC_EBADARGUMENTS (path, options), ZKC_ETIMEDOUT. */
ZKC_EXTERN int zkc_queue_open(zkc_queue_t **out, zkc_t *zk, const char *path,
                              const zkc_queue_options_t *opts);

/* Closes the handle. Items taken and not acked stay taken until this
 * client's session ends (or zkc_queue_release). NULL is a no-op. */
ZKC_EXTERN void zkc_queue_close(zkc_queue_t *q);

/* Puts one item (priority 0..999; lower first, FIFO within a priority).
 * One round trip. *out_name (may be NULL) gets the item's name, owned by the
 * caller (zkc_free). A put whose reply was lost is not repeated (a sequential
 * create cannot be found again): ZKC_EUNKNOWN, the item may or may not be in
 * the queue. Any thread. Expected codes: ZKC_ETOOLARGE (data over
 * ZKC_MAX_DATA_LEN), ZKC_EBADARGUMENTS (priority), ZKC_ENONODE (the queue was
 * deleted), ZKC_EUNKNOWN. */
ZKC_EXTERN int zkc_queue_put(char **out_name, zkc_queue_t *q, const void *data, size_t len,
                             int priority);

/* One item for zkc_queue_put_many: its data (borrowed for the call) and
 * priority (0..999, as zkc_queue_put). */
typedef struct zkc_queue_put_item {
	const void *data;
	size_t len;
	int priority;
} zkc_queue_put_item_t;

/* Puts n items (an array of n structs) in one transaction: all or none, in
 * the given order, each with its own priority. The whole request must stay
 * under ZooKeeper's 1 MiB. n 0 is a no-op. Expected codes: as zkc_queue_put
 * (ZKC_EBADARGUMENTS names the item); ZKC_ETOOLARGE for a batch over the
 * limit. */
ZKC_EXTERN int zkc_queue_put_many(zkc_queue_t *q, const zkc_queue_put_item_t *items, size_t n);

/* Take modes. */
#define ZKC_QUEUE_TAKE_ACK 0     /* at-least-once: the item stays in the queue
                                  * under an ephemeral taken marker of this
                                  * session until zkc_queue_ack; if the
                                  * session dies first it is taken again */
#define ZKC_QUEUE_TAKE_DELETE 1  /* exactly-once (at most once): the item is
                                  * deleted as it is taken */

/* Takes the first item (priority order, then FIFO), waiting up to
 * timeout_ms (0: one attempt, within ZKC_TRY_DEADLINE_MS of zkc/cancel.h;
 * < 0: forever) for one to arrive. In the common
 * case one round trip: the head of a cached child list (kept current by a
 * children watch, re-read in the same pipelined batch when it changed) is
 * taken with its data read in the same batch; an item another consumer got
 * first is skipped. One take at a time per handle (others wait); any thread
 * but the client's event thread. *out is owned by the caller
 * (zkc_queue_item_free).
 * ZKC_EUNKNOWN (DELETE mode only): the delete's reply was lost; *out holds
 * the item (data when it was read), which may or may not have been taken by
 * this call - it will not be delivered to anyone twice, but may be lost.
 * Expected codes: ZKC_EAGAIN (timeout 0, empty), ZKC_ETIMEDOUT, ZKC_ENONODE
 * (the queue was deleted), ZKC_EUNKNOWN, ZKC_EDEADLK, ZKC_ECLOSED. */
ZKC_EXTERN int zkc_queue_take(zkc_queue_item_t **out, zkc_queue_t *q, int mode, int timeout_ms);

/* Acknowledges an item taken in ACK mode: deletes it and its taken marker
 * in one transaction. A transaction whose reply was lost is settled by
 * looking at the marker (gone: it committed; still this session's: it is
 * sent again), for up to 30 s. Expected codes: ZKC_ELOST (the session that
 * took it is gone, or the item or marker vanished: it is, or will be,
 * delivered again), ZKC_EUNKNOWN (could not be settled in time; the item
 * stays taken by this session until it is acked, released or the session
 * ends), ZKC_EBADARGUMENTS (not an ACK-mode item). */
ZKC_EXTERN int zkc_queue_ack(zkc_queue_t *q, const zkc_queue_item_t *item);

/* Gives an ACK-mode item back without consuming it (deletes its marker).
 * Expected codes: ZKC_ELOST (already given back by a session end). */
ZKC_EXTERN int zkc_queue_release(zkc_queue_t *q, const zkc_queue_item_t *item);

/* The first item that is not taken, without taking it (it may be gone by
 * the time the caller acts). *out as for take. Expected codes: ZKC_EAGAIN
 * (empty), ZKC_ENONODE (no queue). */
ZKC_EXTERN int zkc_queue_peek(zkc_queue_item_t **out, zkc_queue_t *q);

/* Number of items in the queue, taken-but-unacked ones included (*out);
 * *out_taken (may be NULL) gets how many of them are taken. Two round trips
 * (bucket list, then the buckets' and taken directory's stats pipelined).
 * Expected codes: ZKC_ENONODE (no queue). */
ZKC_EXTERN int zkc_queue_size(size_t *out, size_t *out_taken, zkc_queue_t *q);

/* The queue's path. Borrowed: owned by the handle, valid until its
 * close. */
ZKC_EXTERN const char *zkc_queue_path(const zkc_queue_t *q);

#ifdef __cplusplus
}
#endif
#endif
