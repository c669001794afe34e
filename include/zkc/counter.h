/* zkc/counter.h - a replicated signed 64-bit counter stored as 8 bytes
 * big-endian (the format of Curator's DistributedAtomicLong), with a cached
 * value and version (a data watch flags it stale while other writers are
 * about), so an add usually costs one round trip, and a sharded mode for
 * hot counters.
 * Semantics and layout: docs/recipes/counter.md. */
#ifndef ZKC_COUNTER_H
#define ZKC_COUNTER_H

#include "zkc/client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zkc_counter zkc_counter_t;

#define ZKC_COUNTER_OPTIONS_VERSION 1
typedef struct zkc_counter_options {
	int version;       /* ZKC_COUNTER_OPTIONS_VERSION */
	int shards;        /* 0: whatever the counter stores (plain when it
	                    * is missing); 1: one node at the path (Curator-
	                    * readable); N > 1 (at most 256): N nodes
	                    * path/shard-NNNN, an add goes to a random shard,
	                    * a read sums them. The count is stored with the
	                    * counter; asking for another is an error. */
	int timeout_ms;    /* deadline of one add/cas (re-reads, backoff and
	                    * every inner request included); 0 = 30000 */
} zkc_counter_options_t;
#define ZKC_COUNTER_OPTIONS_INIT { ZKC_COUNTER_OPTIONS_VERSION, 0, 0 }

/* Fills *opts with the defaults of ZKC_COUNTER_OPTIONS_INIT, for a struct of
 * `version` (1..ZKC_COUNTER_OPTIONS_VERSION; pass
 * ZKC_COUNTER_OPTIONS_VERSION), for callers that cannot use the brace
 * initializer. Expected codes: ZKC_EBADARGUMENTS (NULL, or a version this zkc
 * does not know: the message says which). */
ZKC_EXTERN int zkc_counter_options_init(zkc_counter_options_t *opts, unsigned int version);

/* A counter handle on `path`. Reads the node once to learn the stored
 * layout (plain, or the shard count), and for an empty node asked to be
 * sharded stores the count; a missing node reads as 0 and is created
 * (with missing parents) by the first write. *out is owned by the caller
 * (zkc_counter_close) and belongs to `zk`, which must outlive it. opts NULL
 * = defaults. Any thread may use a handle concurrently. Expected codes:
 * ZKC_EBADARGUMENTS (path, options, or opts->shards differs from the
 * stored layout: the message names both), ZKC_ETIMEDOUT, ZKC_ENOMEM. */
ZKC_EXTERN int zkc_counter_open(zkc_counter_t **out, zkc_t *zk, const char *path,
                                const zkc_counter_options_t *opts);

/* Frees the handle (its watches end on their own). NULL is a no-op. Not
 * from a zkc callback of its client's event thread while an add runs. */
ZKC_EXTERN void zkc_counter_close(zkc_counter_t *c);

/* The current value, read from the servers (one round trip; sharded: all
 * shards in one pipelined batch, summed). A missing node is 0. Expected
 * codes: ZKC_EBADARGUMENTS (a node holds data that is not 0 or 8 bytes, or
 * the shard sum overflows int64), ZKC_ETIMEDOUT. */
ZKC_EXTERN int zkc_counter_get(int64_t *out, zkc_counter_t *c);

/* What an add did, for callers that audit (the fault tests do). */
typedef struct zkc_counter_outcome {
	int64_t value;      /* the written node's value after the add (the
	                     * counter's value unless sharded) */
	int32_t version;    /* the version the add wrote (ZKC_OK) or tried to
	                     * write (ZKC_EUNKNOWN); -1 when the node was
	                     * created (version 0 then) */
	int shard;          /* the shard written, 0 unless sharded */
} zkc_counter_outcome_t;

/* Adds delta (may be negative). One versioned write from the cached value
 * and version when they are current (one round trip); while other writers
 * are seen, a read re-arming the data watch rides in the same request, so
 * after a lost race the retry starts from fresh state at once, with
 * jittered backoff, until the handle's deadline. Never retried blindly after a lost reply: such an add
 * returns ZKC_EUNKNOWN (it may or may not have been applied; out->version
 * says which version it tried to write). *out_value (may be NULL) gets the
 * new value (sharded: the written shard's value). Any thread but the
 * client's event thread. Expected codes: ZKC_EBADARGUMENTS (the result
 * would overflow int64: nothing written; or the node is not a counter),
 * ZKC_EUNKNOWN, ZKC_ETIMEDOUT (not applied). */
ZKC_EXTERN int zkc_counter_add(int64_t *out_value, zkc_counter_t *c, int64_t delta);
/* As zkc_counter_add, with the outcome (may be NULL) filled in on ZKC_OK
 * and ZKC_EUNKNOWN. */
ZKC_EXTERN int zkc_counter_add_ex(zkc_counter_outcome_t *out, zkc_counter_t *c, int64_t delta);

/* Compare-and-set: writes `value` if the counter equals `expected` (a
 * missing node equals 0). On ZKC_EBADVERSION the counter held another
 * value, returned in *out_current (may be NULL); on ZKC_OK *out_current is
 * `value`. Plain counters only. Expected codes: ZKC_EBADVERSION,
 * ZKC_EUNKNOWN, ZKC_ENOTSUP (sharded), ZKC_ETIMEDOUT. */
ZKC_EXTERN int zkc_counter_cas(int64_t *out_current, zkc_counter_t *c, int64_t expected,
                               int64_t value);

/* Sets the value unconditionally (sharded: shard 0 gets `value` and the
 * others 0, in one transaction). Expected codes: ZKC_ETIMEDOUT,
 * ZKC_EUNKNOWN (only when the node had to be created and the reply was
 * lost). */
ZKC_EXTERN int zkc_counter_set(zkc_counter_t *c, int64_t value);

/* The counter's path. Borrowed: owned by the handle, valid until its
 * close. */
ZKC_EXTERN const char *zkc_counter_path(const zkc_counter_t *c);

/* The stored format: 8 bytes, big-endian two's complement. */
ZKC_EXTERN void zkc_counter_encode(unsigned char out[8], int64_t value);
/* ZKC_OK, or ZKC_EBADARGUMENTS unless len is 0 (value 0) or 8. */
ZKC_EXTERN int zkc_counter_decode(int64_t *out, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
