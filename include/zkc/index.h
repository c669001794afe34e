/* zkc/index.h - records in a collection with secondary indexes on named
 * fields: every put/update/delete changes the record and all its index
 * entries in one transaction with a version check, so the index never
 * disagrees with the data; lookups (exact, prefix, range, in order) come
 * from a watch-driven cache without a round trip.
 * Layout, encoding, limits and promises: docs/recipes/index.md. */
#ifndef ZKC_INDEX_H
#define ZKC_INDEX_H

#include "zkc/client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zkc_index zkc_index_t;

/* Limits (bytes), checked before anything is sent. Over them: ZKC_ETOOLARGE
 * for ids, values and record data; ZKC_EBADARGUMENTS for the rest. Chosen
 * so the longest entry path (every byte escaped) stays under the 4096
 * bytes zkc_path_validate allows. */
#define ZKC_INDEX_MAX_ID 512          /* an id: 1..512 bytes, any bytes */
#define ZKC_INDEX_MAX_VALUE 512       /* a field value: 0..512 bytes, any bytes */
#define ZKC_INDEX_MAX_FIELD_NAME 64   /* a field name: 1..64 bytes, no NUL */
#define ZKC_INDEX_MAX_FIELDS 32       /* indexed fields per collection */
#define ZKC_INDEX_MAX_PATH 512        /* the collection's path */

/* ------------------------------------------------------------ schema */

#define ZKC_INDEX_UNIQUE 0x1  /* field flag: no two records share a value */

typedef struct zkc_index_field {
	const char *name;  /* 1..ZKC_INDEX_MAX_FIELD_NAME bytes; '/' allowed */
	int flags;         /* ZKC_INDEX_UNIQUE or 0 */
} zkc_index_field_t;

/* Creates the collection at `path` (missing parents are created) with its
 * schema: the indexed fields, fixed for the collection's life. Expected
 * codes: ZKC_ENODEEXISTS (something is at path), ZKC_EBADARGUMENTS (path,
 * no field, too many, duplicate or bad name, unknown flag), ZKC_EUNKNOWN. */
ZKC_EXTERN int zkc_index_create(zkc_t *zk, const char *path, const zkc_index_field_t *fields,
                                size_t nfields);

/* Deletes the collection with every record and entry (not atomic: a
 * collection half deleted is still one to delete again). Expected:
 * ZKC_ENONODE, ZKC_EBADARGUMENTS (not a collection). */
ZKC_EXTERN int zkc_index_drop(zkc_t *zk, const char *path);

/* ------------------------------------------------------------ handle */

#define ZKC_INDEX_OPTIONS_VERSION 1
typedef struct zkc_index_options {
	int version;        /* ZKC_INDEX_OPTIONS_VERSION */
	int cache;          /* 1 (default): lookups from a cache of the index
	                     * entries; 0: every lookup reads the servers */
	int cache_records;  /* 1: zkc_index_get reads records from a cache
	                     * too (memory: every record's data); 0 (default) */
	int timeout_ms;     /* deadline of one put/delete including retries
	                     * after lost races and every inner request;
	                     * 0 = 30000 */
} zkc_index_options_t;
#define ZKC_INDEX_OPTIONS_INIT { ZKC_INDEX_OPTIONS_VERSION, 1, 0, 0 }

/* Fills *opts with the defaults of ZKC_INDEX_OPTIONS_INIT, for a struct of
 * `version` (1..ZKC_INDEX_OPTIONS_VERSION; pass ZKC_INDEX_OPTIONS_VERSION),
 * for callers that cannot use the brace initializer. Expected codes:
 * ZKC_EBADARGUMENTS (NULL, or a version this zkc does not know: the message
 * says which). */
ZKC_EXTERN int zkc_index_options_init(zkc_index_options_t *opts, unsigned int version);

/* Opens the collection at `path`: reads its schema (one round trip) and
 * starts the caches, waiting up to the timeout for their first load.
 * *out is owned by the caller (zkc_index_close); `zk` must outlive it. Any
 * thread may use a handle concurrently, except the client's event thread.
 * Expected codes: ZKC_ENONODE (no collection at path), ZKC_EBADARGUMENTS
 * (path, options, or the node there is not a collection), ZKC_ETIMEDOUT. */
ZKC_EXTERN int zkc_index_open(zkc_index_t **out, zkc_t *zk, const char *path,
                              const zkc_index_options_t *opts);

/* The destructor: stops the caches and frees the handle. Cannot fail. NULL
 * is a no-op. Any thread, the client's event thread included. */
ZKC_EXTERN void zkc_index_close(zkc_index_t *ix);

/* The schema: number of fields, and field i's name and flags.
 * Borrowed: *out_name is owned by the handle, valid until its close.
 * ZKC_EBADARGUMENTS when i is out of range. */
ZKC_EXTERN size_t zkc_index_field_count(const zkc_index_t *ix);
ZKC_EXTERN int zkc_index_field_at(const char **out_name, int *out_flags, const zkc_index_t *ix,
                                  size_t i);

/* ------------------------------------------------------------ writes */

/* One field value of a record. */
typedef struct zkc_index_kv {
	const char *name;   /* a field of the schema */
	const void *value;  /* any bytes, 0..ZKC_INDEX_MAX_VALUE */
	size_t len;
} zkc_index_kv_t;

/* put flags */
#define ZKC_INDEX_CREATE 0x1  /* fail with ZKC_ENODEEXISTS if the id exists */
#define ZKC_INDEX_UPDATE 0x2  /* fail with ZKC_ENONODE if it does not */
#define ZKC_INDEX_WAIT 0x4    /* return once this handle's cache shows the
                               * write (one more round trip) */

/* Stores record `id` with payload data/len and field values `fields` (each
 * field of the schema at most once; absent fields have no index entry),
 * replacing the record and its entries if it exists. One transaction: the
 * record (version-checked) and the entries change together; a lost race
 * with another writer re-reads and retries until the handle's deadline.
 * Expected codes: ZKC_ENODEEXISTS (a unique field's value belongs to
 * another record, or ZKC_INDEX_CREATE and the id exists: nothing written),
 * ZKC_ENONODE (ZKC_INDEX_UPDATE and no such id; or the collection is gone),
 * ZKC_EBADARGUMENTS (empty id, unknown or repeated field, bad flags),
 * ZKC_ETOOLARGE (id, value or record over the limits), ZKC_EUNKNOWN (the
 * reply was lost: the put happened entirely or not at all),
 * ZKC_EDATAINCONSISTENCY (an entry the record names is missing: run
 * zkc_index_rebuild), ZKC_ETIMEDOUT. */
ZKC_EXTERN int zkc_index_put(zkc_index_t *ix, const void *id, size_t id_len, const void *data,
                             size_t len, const zkc_index_kv_t *fields, size_t nfields, int flags);

/* Deletes record `id` and its entries in one transaction. Expected codes:
 * ZKC_ENONODE (no such record), ZKC_EUNKNOWN, ZKC_EDATAINCONSISTENCY,
 * ZKC_ETIMEDOUT, ZKC_EBADARGUMENTS. flags: ZKC_INDEX_WAIT or 0. */
ZKC_EXTERN int zkc_index_delete(zkc_index_t *ix, const void *id, size_t id_len, int flags);

/* ------------------------------------------------------------ reads */

#define ZKC_INDEX_SERVER 0x8  /* read flag: ask the servers, not the cache */

/* A record as stored; everything owned by the record. */
typedef struct zkc_index_record {
	char *id;                 /* NUL after the last byte, for convenience */
	size_t id_len;
	char *data;               /* the payload, NUL-terminated */
	size_t len;
	size_t nfields;
	zkc_index_kv_t *fields;   /* in schema order; values NUL-terminated */
	int32_t version;          /* the record node's version */
} zkc_index_record_t;
ZKC_EXTERN void zkc_index_record_free(zkc_index_record_t *rec);

/* Reads record `id`: from the record cache when the handle has one, else
 * (or with ZKC_INDEX_SERVER) from the servers. *out is the caller's
 * (zkc_index_record_free). Expected: ZKC_ENONODE, ZKC_EBADARGUMENTS (bad
 * id, or the node holds no record: see verify). */
ZKC_EXTERN int zkc_index_get(zkc_index_record_t **out, zkc_index_t *ix, const void *id,
                             size_t id_len, int flags);

/* Lookup results: (value, id) pairs in order of value then id, bytewise.
 * One allocation owned by the caller (zkc_index_hits_free); every buffer
 * is NUL-terminated after its last byte. */
typedef struct zkc_index_hit {
	const char *id;
	size_t id_len;
	const char *value;
	size_t value_len;
} zkc_index_hit_t;
typedef struct zkc_index_hits {
	size_t count;
	zkc_index_hit_t *items;
} zkc_index_hits_t;
ZKC_EXTERN void zkc_index_hits_free(zkc_index_hits_t *hits);

/* The records whose `field` equals value (exact match). From the cache
 * unless the handle has none or flags has ZKC_INDEX_SERVER. `limit` 0 = no
 * limit. Expected codes: ZKC_EBADARGUMENTS (unknown field),
 * ZKC_ETOOLARGE (value over the limit), ZKC_ENONODE (server read: the
 * collection is gone). An empty result is ZKC_OK with count 0. */
ZKC_EXTERN int zkc_index_find(zkc_index_hits_t **out, zkc_index_t *ix, const char *field,
                              const void *value, size_t len, size_t limit, int flags);
/* Values starting with `prefix` (len 0: every entry of the field). */
ZKC_EXTERN int zkc_index_prefix(zkc_index_hits_t **out, zkc_index_t *ix, const char *field,
                                const void *prefix, size_t len, size_t limit, int flags);
/* Values v with lo <= v < hi, bytewise; lo NULL = from the first, hi NULL
 * = to the last. */
ZKC_EXTERN int zkc_index_range(zkc_index_hits_t **out, zkc_index_t *ix, const char *field,
                               const void *lo, size_t lo_len, const void *hi, size_t hi_len,
                               size_t limit, int flags);

/* Waits until this handle's caches show every write that completed (on any
 * client) before the call. Expected: ZKC_ETIMEDOUT. */
ZKC_EXTERN int zkc_index_sync(zkc_index_t *ix, int timeout_ms);

/* ------------------------------------------------------------ verify, rebuild */

typedef enum zkc_index_issue_kind {
	ZKC_INDEX_MISSING_ENTRY = 1,   /* a record's value has no entry */
	ZKC_INDEX_STALE_ENTRY = 2,     /* an entry no record's value explains */
	ZKC_INDEX_MISSING_UNIQUE = 3,  /* a unique value has no guard node */
	ZKC_INDEX_STALE_UNIQUE = 4,    /* a guard node names another id or none */
	ZKC_INDEX_UNIQUE_CONFLICT = 5, /* two records share a unique value */
	ZKC_INDEX_BAD_RECORD = 6,      /* a record node that cannot be parsed */
	ZKC_INDEX_BAD_ENTRY = 7        /* an entry node that cannot be parsed */
} zkc_index_issue_kind_t;

typedef struct zkc_index_issue {
	int kind;          /* zkc_index_issue_kind_t */
	char *field;       /* NULL for BAD_RECORD */
	char *value;       /* NUL-terminated; NULL if not known */
	size_t value_len;
	char *id;          /* NUL-terminated; NULL if not known */
	size_t id_len;
	char *path;        /* the node concerned (missing: the one expected) */
	int32_t version;   /* missing entries and guards, conflicts, bad
	                    * records: the record's version when scanned;
	                    * stale guards: the guard's; stale entries: -1 */
} zkc_index_issue_t;

typedef struct zkc_index_report {
	size_t records;    /* records scanned */
	size_t entries;    /* entries and guard nodes scanned */
	size_t count;      /* issues */
	zkc_index_issue_t *issues;
	size_t repaired;   /* rebuild: issues fixed */
} zkc_index_report_t;
ZKC_EXTERN void zkc_index_report_free(zkc_index_report_t *report);
/* The name of an issue kind. Never NULL. Borrowed: static; never free. */
ZKC_EXTERN const char *zkc_index_issue_name(int kind);

/* Reads the collection from the servers and lists every disagreement
 * between records and index. Reads are not one snapshot: run it while
 * nobody writes (concurrent writes may show as transient issues). *out is
 * the caller's (zkc_index_report_free), count 0 when all agree. Expected:
 * ZKC_ENONODE, ZKC_ETIMEDOUT. */
ZKC_EXTERN int zkc_index_verify(zkc_index_report_t **out, zkc_index_t *ix);

/* Verifies, then repairs: creates missing entries and guards and deletes
 * stale ones, each record's repair in one transaction checked against the
 * record's version. Unique conflicts and unparsable records are reported,
 * not changed (a person decides which record keeps the value). *out (may
 * be NULL) gets the issues found and how many were repaired. Run it while
 * nobody writes. Expected: ZKC_ENONODE, ZKC_ETIMEDOUT, ZKC_EBADVERSION (a
 * record changed meanwhile: run it again). */
ZKC_EXTERN int zkc_index_rebuild(zkc_index_report_t **out, zkc_index_t *ix);

/* ------------------------------------------------------------ encoding */

/* The order-preserving node-name encoding of ids, values and field names:
 * bytes '0'..'}' stay, bytes 0x00..0x2f become '-' and two lowercase hex
 * digits, bytes 0x7e..0xff '~' and two hex digits. The result never holds
 * '/', NUL or control characters, is never "." or "..", and compares
 * bytewise as the input does. *out is NUL-terminated, the caller's
 * (zkc_free). Expected: ZKC_ENOMEM. */
ZKC_EXTERN int zkc_index_encode(char **out, const void *key, size_t len);
/* The inverse. ZKC_EBADARGUMENTS for a name that no key encodes to. *out
 * (NUL after the last byte) is the caller's (zkc_free). */
ZKC_EXTERN int zkc_index_decode(char **out, size_t *out_len, const char *name, size_t name_len);

#ifdef __cplusplus
}
#endif
#endif
