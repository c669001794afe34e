/* recipes/index_internal.h - what the index recipe's files (index.c,
 * index_read.c, index_verify.c) share: the handle and its fields, bucketed
 * node paths, record parsing and bucketed directory reads. Private to the
 * index recipe: its names start with zkcr_index_. */
#ifndef ZKC_RECIPES_INDEX_INTERNAL_H
#define ZKC_RECIPES_INDEX_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "zkc/cache.h"
#include "zkc/index.h"

#define ZKCR_INDEX_READ_CHUNK 256   /* gets per batch when reading nodes' data */
/* room for "<path>/uidx/<encoded field>/<bucket>" */
#define ZKCR_INDEX_DIR_BUF (ZKC_INDEX_MAX_PATH + 3 * ZKC_INDEX_MAX_FIELD_NAME + 32)

typedef struct zkcr_index_field {
	char *name;          /* raw, NUL-terminated */
	size_t name_len;
	int flags;
	char *ename;         /* encoded */
	char *idir;          /* <path>/idx/<ename> */
	char *udir;          /* <path>/uidx/<ename> (unique fields) */
	/* cached entry names "<enc value>+<enc id>", sorted bytewise */
	char **ents;
	size_t n, cap;
} zkcr_index_field_t;

struct zkc_index {
	zkc_t *zk;
	char *path, *rdir, *idir, *udir;
	size_t idir_len;
	unsigned nb;              /* buckets of every directory */
	zkcr_index_field_t *f;
	size_t nf;
	int timeout_ms;
	pthread_rwlock_t rw;      /* guards every field's ents */
	zkc_cache_t *icache;      /* <path>/idx, depth 2, no data */
	zkc_cache_t *rcache;      /* <path>/records, depth 1 (optional) */
};

/* A key's bytes, borrowed. */
typedef struct zkcr_index_bytes {
	const unsigned char *p;
	size_t len;
	int present;
} zkcr_index_bytes_t;

/* Nodes of a bucketed directory (every bucket, or only one), sorted by
 * name, with data and version when asked. */
typedef struct zkcr_index_ditem {
	char *name;
	char *path;
	char *data;
	size_t len;
	int32_t ver;            /* -2: deleted while read */
} zkcr_index_ditem_t;

typedef struct zkcr_index_dlist {
	size_t n, cap;
	zkcr_index_ditem_t *it;
} zkcr_index_dlist_t;

/* The bucket of a key: FNV-1a (32 bits) of its bytes modulo nb. Part of
 * the layout: it never changes. */
unsigned zkcr_index_bucket_of(const void *key, size_t len, unsigned nb);

/* malloc'd "<dir>/<bucket of a>/<enc a>[+<eb>]": where a record (a = id),
 * an entry (a = value, eb = encoded id) or a guard (a = value) lives. */
char *zkcr_index_bpath(const char *dir, unsigned nb, const void *a, size_t alen, int sep,
                       const char *eb);

/* The schema position of a field by raw name, or -1. */
int zkcr_index_field_of(const zkc_index_t *ix, const char *name, size_t len);

/* ZKC_OK when name is a field name the schema can hold. */
int zkcr_index_check_field_name(const char *name);

/* First position in sorted a[n] whose name is >= key (klen bytes,
 * compared as the prefix it is). */
size_t zkcr_index_lower_bound(char *const *a, size_t n, const char *key, size_t klen);

/* The record's field values by schema position (fields not in the schema
 * are ignored), borrowed from data; -1 if data is no record. */
int zkcr_index_record_values(zkcr_index_bytes_t *vals, const zkc_index_t *ix, const char *data,
                             size_t len, const unsigned char **payload, size_t *payload_len);

/* A user's key for a message (thread-local, valid until the next call). */
const char *zkcr_index_key_text(const void *id, size_t len);

/* ZKC_OK for a usable record key, else the code with its message. */
int zkcr_index_check_id(const zkc_index_t *ix, const void *id, size_t id_len);

/* A NUL-terminated malloc'd copy of len bytes. */
char *zkcr_index_dup_bytes(const void *p, size_t len);

/* Reads the nodes of a bucketed directory (every bucket, or only bucket
 * `only` when >= 0) into d, sorted by name, with data and version when
 * with_data. Free with zkcr_index_dlist_free. */
int zkcr_index_read_dir(zkcr_index_dlist_t *d, zkc_t *zk, const char *dir, unsigned nb, int only,
                        int with_data);
void zkcr_index_dlist_free(zkcr_index_dlist_t *d);

#endif
