/* recipes/index.c - records with secondary indexes: a put, update or
 * delete changes the record (version-checked) and all its index entries in
 * one transaction; lookups binary-search sorted entry names kept current
 * from a cache's events. Public API only. Layout: docs/recipes/index.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zkc/batch.h"
#include "zkc/cache.h"
#include "zkc/index.h"
#include "zkc/multi.h"
#include "index_key.h"
#include "support.h"

#define DEFAULT_TIMEOUT_MS 30000
#define SCHEMA_MAGIC "zkc-index 1\nbuckets 64\n"  /* 64: BUCKETS */
#define READ_CHUNK 256
#define BUCKETS 64           /* of records, entries and guards per field */
/* room for "<path>/uidx/<encoded field>/<bucket>" */
#define DIR_BUF (ZKC_INDEX_MAX_PATH + 3 * ZKC_INDEX_MAX_FIELD_NAME + 32)

typedef struct field {
	char *name;          /* raw, NUL-terminated */
	size_t name_len;
	int flags;
	char *ename;         /* encoded */
	char *idir;          /* <path>/idx/<ename> */
	char *udir;          /* <path>/uidx/<ename> (unique fields) */
	/* cached entry names "<enc value>+<enc id>", sorted bytewise */
	char **ents;
	size_t n, cap;
} field_t;

struct zkc_index {
	zkc_t *zk;
	char *path, *rdir, *idir, *udir;
	size_t idir_len;
	unsigned nb;              /* buckets of every directory */
	field_t *f;
	size_t nf;
	int timeout_ms;
	pthread_rwlock_t rw;      /* guards every field's ents */
	zkc_cache_t *icache;      /* <path>/idx, depth 2, no data */
	zkc_cache_t *rcache;      /* <path>/records, depth 1 (optional) */
};

/* A key's bytes, borrowed. */
typedef struct bytes {
	const unsigned char *p;
	size_t len;
	int present;
} bytes_t;

/* ------------------------------------------------------------ small helpers */

/* malloc'd "<dir>/<enc a>[+<enc b>]" (sep: put '+' and b after a). */
static char *entry_path(const char *dir, const void *a, size_t alen, int sep, const char *eb)
{
	size_t dl = strlen(dir), al = zkcr_ikey_enc_len(a, alen), bl = eb ? strlen(eb) : 0;
	char *s = malloc(dl + 1 + al + 1 + bl + 1), *e;

	if (!s)
		return NULL;
	memcpy(s, dir, dl);
	s[dl] = '/';
	e = zkcr_ikey_enc(s + dl + 1, a, alen);
	if (sep)
		*e++ = ZKCR_IKEY_SEP;
	if (bl)
		memcpy(e, eb, bl);
	e[bl] = 0;
	return s;
}

/* The bucket of a key: FNV-1a (32 bits) of its bytes modulo nb. Part of
 * the layout: it never changes. */
static unsigned bucket_of(const void *key, size_t len, unsigned nb)
{
	const unsigned char *p = key;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return nb ? h % nb : 0;
}

/* malloc'd "<dir>/<bucket of a>/<enc a>[+<eb>]": where a record (a = id),
 * an entry (a = value, eb = encoded id) or a guard (a = value) lives. */
static char *bpath(const char *dir, unsigned nb, const void *a, size_t alen, int sep,
                   const char *eb)
{
	char sub[DIR_BUF];

	snprintf(sub, sizeof(sub), "%s/%02x", dir, bucket_of(a, alen, nb));
	return entry_path(sub, a, alen, sep, eb);
}

static char *enc_str(const void *p, size_t len, int sep)
{
	size_t n = zkcr_ikey_enc_len(p, len);
	char *s = malloc(n + 2), *e;

	if (!s)
		return NULL;
	e = zkcr_ikey_enc(s, p, len);
	if (sep)
		*e++ = ZKCR_IKEY_SEP;
	*e = 0;
	return s;
}

static int field_of(const zkc_index_t *ix, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ix->nf; i++)
		if (ix->f[i].name_len == len && memcmp(ix->f[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

static int field_of_enc(const zkc_index_t *ix, const char *ename, size_t len)
{
	size_t i;

	for (i = 0; i < ix->nf; i++)
		if (strlen(ix->f[i].ename) == len && memcmp(ix->f[i].ename, ename, len) == 0)
			return (int)i;
	return -1;
}

static int check_path(const char *path)
{
	if (!path || zkc_path_validate(path, (size_t)-1) != ZKC_OK || strcmp(path, "/") == 0 ||
	    strlen(path) > ZKC_INDEX_MAX_PATH)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: %s", path ? path : "(null)",
		                     !path ? "path is NULL"
		                     : zkc_path_validate(path, (size_t)-1) != ZKC_OK
		                     ? zkc_error_last()->message : strcmp(path, "/") == 0
		                     ? "the root cannot be a collection"
		                     : "path too long for a collection");
	return ZKC_OK;
}

static int check_field_name(const char *name)
{
	size_t n;

	if (!name)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index: field name is NULL");
	n = strlen(name);
	return n >= 1 && n <= ZKC_INDEX_MAX_FIELD_NAME ? ZKC_OK : ZKC_EBADARGUMENTS;
}

/* ------------------------------------------------------------ schema */

/* SCHEMA_MAGIC, then one line per field: 'u' (unique) or 'f', a space and
 * the encoded name. */
static char *schema_text(const zkc_index_field_t *fields, size_t n, size_t *out_len)
{
	size_t cap = sizeof(SCHEMA_MAGIC), i, len;
	char *s, *e;

	for (i = 0; i < n; i++)
		cap += 3 + zkcr_ikey_enc_len(fields[i].name, strlen(fields[i].name));
	s = malloc(cap);
	if (!s)
		return NULL;
	len = strlen(SCHEMA_MAGIC);
	memcpy(s, SCHEMA_MAGIC, len);
	e = s + len;
	for (i = 0; i < n; i++) {
		*e++ = fields[i].flags & ZKC_INDEX_UNIQUE ? 'u' : 'f';
		*e++ = ' ';
		e = zkcr_ikey_enc(e, fields[i].name, strlen(fields[i].name));
		*e++ = '\n';
	}
	*out_len = (size_t)(e - s);
	return s;
}

static void fields_free(field_t *f, size_t n)
{
	size_t i, j;

	if (!f)
		return;
	for (i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].ename);
		free(f[i].idir);
		free(f[i].udir);
		for (j = 0; j < f[i].n; j++)
			free(f[i].ents[j]);
		free(f[i].ents);
	}
	free(f);
}

/* Parses schema data into ix->f. ZKC_EBADARGUMENTS if it is no schema. */
static int schema_parse(zkc_index_t *ix, const char *data, size_t len)
{
	size_t ml = strlen(SCHEMA_MAGIC), n = 0, i;
	const char *p, *end = data + len;

	if (len < ml || memcmp(data, SCHEMA_MAGIC, ml) != 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: not a collection (no schema at "
		                     "its node)", ix->path);
	for (p = data + ml; p < end; p++)
		n += *p == '\n';
	if (n == 0 || n > ZKC_INDEX_MAX_FIELDS)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: schema has %zu fields (1..%d): "
		                     "not a collection", ix->path, n, ZKC_INDEX_MAX_FIELDS);
	ix->f = calloc(n, sizeof(*ix->f));
	if (!ix->f)
		return zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", ix->path);
	ix->nf = n;
	p = data + ml;
	for (i = 0; i < n; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		field_t *f = &ix->f[i];
		size_t el, rl = 0;

		if (!nl || nl - p < 3 || (p[0] != 'u' && p[0] != 'f') || p[1] != ' ')
			return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: schema line %zu is "
			                     "malformed: not a collection", ix->path, i + 1);
		el = (size_t)(nl - p - 2);
		f->flags = p[0] == 'u' ? ZKC_INDEX_UNIQUE : 0;
		f->ename = strndup(p + 2, el);
		f->name = malloc(el + 1);
		if (!f->ename || !f->name)
			return zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", ix->path);
		if (zkcr_ikey_dec((unsigned char *)f->name, &rl, p + 2, el) != 0 || rl == 0 ||
		    rl > ZKC_INDEX_MAX_FIELD_NAME || memchr(f->name, 0, rl))
			return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: schema field %zu has a "
			                     "bad name: not a collection", ix->path, i + 1);
		f->name[rl] = 0;
		f->name_len = rl;
		if (asprintf(&f->idir, "%s/%s", ix->idir, f->ename) < 0) {
			f->idir = NULL;
			return zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", ix->path);
		}
		if (f->flags & ZKC_INDEX_UNIQUE) {
			if (asprintf(&f->udir, "%s/%s", ix->udir, f->ename) < 0) {
				f->udir = NULL;
				return zkc_error_set(ZKC_ENOMEM, "index %s: out of memory",
				                     ix->path);
			}
		}
		p = nl + 1;
	}
	return ZKC_OK;
}

/* Creates the BUCKETS directories "00".."3f" under dir. */
static int add_buckets(zkc_multi_t *m, const char *dir)
{
	char p[DIR_BUF];
	unsigned k;
	int rc = ZKC_OK;

	for (k = 0; rc == ZKC_OK && k < BUCKETS; k++) {
		snprintf(p, sizeof(p), "%s/%02x", dir, k);
		rc = zkc_multi_create(m, p, NULL, 0, ZKC_PERSISTENT, NULL);
	}
	return rc;
}

int zkc_index_create(zkc_t *zk, const char *path, const zkc_index_field_t *fields, size_t nfields)
{
	zkc_multi_t *m = NULL;
	char *schema = NULL, *parent = NULL, *slash;
	size_t slen = 0, i, j;
	int rc;

	zkc_error_clear();
	if (!zk || check_path(path) != ZKC_OK || !fields || nfields == 0 ||
	    nfields > ZKC_INDEX_MAX_FIELDS)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index create: %s", !zk ? "client is NULL"
		                     : check_path(path) != ZKC_OK ? zkc_error_last()->message
		                     : !fields ? "fields is NULL" : "1 to 16 fields are needed");
	for (i = 0; i < nfields; i++) {
		if (check_field_name(fields[i].name) != ZKC_OK ||
		    (fields[i].flags & ~ZKC_INDEX_UNIQUE) != 0)
			return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: field %zu: %s", path, i,
			                     fields[i].name
			                     ? "name empty or too long, or unknown flags"
			                     : "name is NULL");
		for (j = 0; j < i; j++)
			if (strcmp(fields[i].name, fields[j].name) == 0)
				return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: field \"%s\" "
				                     "named twice", path, fields[i].name);
	}
	parent = strdup(path);
	if (!parent)
		return zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", path);
	slash = strrchr(parent, '/');
	*slash = 0;
	if (parent[0]) {
		zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;

		co.flags = ZKC_CREATE_PARENTS;
		rc = zkc_create(NULL, NULL, zk, parent, NULL, 0, &co);
		if (rc != ZKC_OK && rc != ZKC_ENODEEXISTS && rc != ZKC_EUNKNOWN)
			goto out;
	}
	rc = zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", path);
	schema = schema_text(fields, nfields, &slen);
	if (!schema || zkc_multi_new(&m) != ZKC_OK)
		goto out;
	rc = zkc_multi_create(m, path, schema, slen, ZKC_PERSISTENT, NULL);
	for (i = 0; rc == ZKC_OK && i < 3; i++) {
		static const char *const dirs[] = { "records", "idx", "uidx" };
		char *d = NULL;

		if (asprintf(&d, "%s/%s", path, dirs[i]) < 0)
			rc = zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", path);
		else
			rc = zkc_multi_create(m, d, NULL, 0, ZKC_PERSISTENT, NULL);
		if (rc == ZKC_OK && i == 0)
			rc = add_buckets(m, d);
		free(d);
	}
	for (i = 0; rc == ZKC_OK && i < nfields; i++) {
		int u;

		for (u = 0; rc == ZKC_OK && u < 2; u++) {
			char *pre = NULL, *d = NULL;

			if (u && !(fields[i].flags & ZKC_INDEX_UNIQUE))
				break;
			if (asprintf(&pre, "%s/%s", path, u ? "uidx" : "idx") < 0)
				pre = NULL;
			d = pre ? entry_path(pre, fields[i].name, strlen(fields[i].name), 0, NULL) : NULL;
			rc = d ? zkc_multi_create(m, d, NULL, 0, ZKC_PERSISTENT, NULL) : ZKC_ENOMEM;
			if (rc == ZKC_OK)
				rc = add_buckets(m, d);
			free(d);
			free(pre);
		}
	}
	if (rc == ZKC_OK)
		rc = zkc_multi_commit(NULL, zk, m);
out:
	zkc_multi_free(m);
	free(schema);
	free(parent);
	return rc;
}

/* Reads and parses the schema at path into a fresh handle. */
static int load(zkc_index_t **out, zkc_t *zk, const char *path)
{
	zkc_index_t *ix;
	char *data = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = zkc_get(&data, &len, NULL, zk, path);
	if (rc == ZKC_ENONODE)
		return zkc_error_set(rc, "index %s: no collection there", path);
	if (rc != ZKC_OK)
		return rc;
	ix = calloc(1, sizeof(*ix));
	if (!ix) {
		zkc_free(data);
		return zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", path);
	}
	pthread_rwlock_init(&ix->rw, NULL);
	ix->zk = zk;
	ix->timeout_ms = DEFAULT_TIMEOUT_MS;
	ix->path = strdup(path);
	if (!ix->path || asprintf(&ix->rdir, "%s/records", path) < 0 ||
	    asprintf(&ix->idir, "%s/idx", path) < 0 || asprintf(&ix->udir, "%s/uidx", path) < 0)
		rc = zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", path);
	else
		rc = schema_parse(ix, data, len);
	zkc_free(data);
	if (rc != ZKC_OK) {
		zkc_index_close(ix);
		return rc;
	}
	ix->idir_len = strlen(ix->idir);
	ix->nb = BUCKETS;
	*out = ix;
	return ZKC_OK;
}

int zkc_index_drop(zkc_t *zk, const char *path)
{
	zkc_index_t *ix = NULL;
	int rc;

	zkc_error_clear();
	if (!zk || check_path(path) != ZKC_OK)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index drop: %s", !zk ? "client is NULL"
		                     : zkc_error_last()->message);
	rc = load(&ix, zk, path);
	if (rc != ZKC_OK)
		return rc;
	zkc_index_close(ix);
	return zkc_delete(zk, path, -1, ZKC_DELETE_RECURSIVE);
}

/* ------------------------------------------------------------ cached entries */

/* First position whose name is >= key (klen bytes, compared as the
 * prefix it is). Encoded keys hold no NUL, so strncmp() == 0 means the
 * name starts with the whole key. */
static size_t lower_bound(char *const *a, size_t n, const char *key, size_t klen)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strncmp(a[mid], key, klen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void ents_add(field_t *f, const char *name)
{
	size_t len = strlen(name), at = lower_bound(f->ents, f->n, name, len);
	char *s;

	if (at < f->n && strcmp(f->ents[at], name) == 0)
		return;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		char **ne = realloc(f->ents, cap * sizeof(*ne));

		if (!ne)
			return;
		f->ents = ne;
		f->cap = cap;
	}
	s = strdup(name);
	if (!s)
		return;
	memmove(f->ents + at + 1, f->ents + at, (f->n - at) * sizeof(*f->ents));
	f->ents[at] = s;
	f->n++;
}

static void ents_remove(field_t *f, const char *name)
{
	size_t len = strlen(name), at = lower_bound(f->ents, f->n, name, len);

	if (at >= f->n || strcmp(f->ents[at], name) != 0)
		return;
	free(f->ents[at]);
	memmove(f->ents + at, f->ents + at + 1, (f->n - at - 1) * sizeof(*f->ents));
	f->n--;
}

/* The idx cache's events: ADDED/REMOVED of <idx>/<field>/<bucket>/<entry>
 * keep the field's sorted names (a removed directory comes with a REMOVED
 * of every node under it first). Events are delivered before the cache
 * publishes their zxid, so a zkc_cache_wait_zxid that returns covers them. */
static void on_icache(zkc_cache_t *cache, const zkc_cache_event_t *ev, void *payload)
{
	zkc_index_t *ix = payload;
	const char *rest, *s1, *s2;
	int fi;

	(void)cache;
	if ((ev->type != ZKC_CACHE_ADDED && ev->type != ZKC_CACHE_REMOVED) || !ev->path ||
	    strncmp(ev->path, ix->idir, ix->idir_len) != 0 || ev->path[ix->idir_len] != '/')
		return;
	rest = ev->path + ix->idir_len + 1;
	if (!(s1 = strchr(rest, '/')) || !(s2 = strchr(s1 + 1, '/')))
		return;  /* a field or bucket directory */
	fi = field_of_enc(ix, rest, (size_t)(s1 - rest));
	if (fi < 0)
		return;
	pthread_rwlock_wrlock(&ix->rw);
	if (ev->type == ZKC_CACHE_ADDED)
		ents_add(&ix->f[fi], s2 + 1);
	else
		ents_remove(&ix->f[fi], s2 + 1);
	pthread_rwlock_unlock(&ix->rw);
}

/* ------------------------------------------------------------ handle */

int zkc_index_open(zkc_index_t **out, zkc_t *zk, const char *path, const zkc_index_options_t *opts)
{
	zkc_index_options_t o = ZKC_INDEX_OPTIONS_INIT;
	zkc_index_t *ix = NULL;
	int rc;

	zkc_error_clear();
	if (!out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index open: out is NULL");
	*out = NULL;
	if (opts)
		o = *opts;
	if ((rc = zkc_options_version_check("zkc_index_open", o.version,
	                                    ZKC_INDEX_OPTIONS_VERSION)) != ZKC_OK)
		return zkc_error_set(rc, "index %s: %s", path ? path : "(null)",
		                     zkc_error_last()->message);
	if (!zk || check_path(path) != ZKC_OK ||
	    (o.cache != 0 && o.cache != 1) || (o.cache_records != 0 && o.cache_records != 1) ||
	    o.timeout_ms < 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index open: %s", !zk ? "client is NULL"
		                     : check_path(path) != ZKC_OK ? zkc_error_last()->message
		                     : o.version < 1 || o.version > ZKC_INDEX_OPTIONS_VERSION
		                     ? "options version (use ZKC_INDEX_OPTIONS_INIT)"
		                     : o.timeout_ms < 0 ? "timeout_ms < 0"
		                     : "cache and cache_records take 0 or 1");
	if (zkc_on_event_thread(zk))
		return zkc_error_set(ZKC_EDEADLK, "index %s: open from the client's event thread "
		                     "would wait on itself", path);
	rc = load(&ix, zk, path);
	if (rc != ZKC_OK)
		return rc;
	if (o.timeout_ms)
		ix->timeout_ms = o.timeout_ms;
	if (o.cache) {
		zkc_cache_options_t co = ZKC_CACHE_OPTIONS_INIT;

		co.depth = 3;
		co.data = 0;
		co.event_fn = on_icache;
		co.event_payload = ix;
		rc = zkc_cache_open(&ix->icache, zk, ix->idir, &co);
		if (rc == ZKC_OK)
			rc = zkc_cache_wait_initialized(ix->icache, ix->timeout_ms);
	}
	if (rc == ZKC_OK && o.cache_records) {
		zkc_cache_options_t co = ZKC_CACHE_OPTIONS_INIT;

		co.depth = 2;
		co.events = 0;
		rc = zkc_cache_open(&ix->rcache, zk, ix->rdir, &co);
		if (rc == ZKC_OK)
			rc = zkc_cache_wait_initialized(ix->rcache, ix->timeout_ms);
	}
	if (rc != ZKC_OK) {
		zkc_index_close(ix);
		return rc;
	}
	*out = ix;
	return ZKC_OK;
}

void zkc_index_close(zkc_index_t *ix)
{
	if (!ix)
		return;
	zkc_cache_close(ix->icache);
	zkc_cache_close(ix->rcache);
	fields_free(ix->f, ix->nf);
	pthread_rwlock_destroy(&ix->rw);
	free(ix->path);
	free(ix->rdir);
	free(ix->idir);
	free(ix->udir);
	free(ix);
}

size_t zkc_index_field_count(const zkc_index_t *ix)
{
	return ix ? ix->nf : 0;
}

int zkc_index_field_at(const char **out_name, int *out_flags, const zkc_index_t *ix, size_t i)
{
	if (!ix || i >= ix->nf)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index field_at: %s", !ix ? "index is NULL"
		                     : "position past the last field");
	if (out_name)
		*out_name = ix->f[i].name;
	if (out_flags)
		*out_flags = ix->f[i].flags;
	return ZKC_OK;
}

/* ------------------------------------------------------------ records */

/* The record's field values by schema position (fields not in the schema
 * are ignored). -1 if data is no record. */
static int record_values(bytes_t *vals, const zkc_index_t *ix, const char *data, size_t len,
                         const unsigned char **payload, size_t *payload_len)
{
	zkcr_irec_field_t rf[ZKC_INDEX_MAX_FIELDS];
	const unsigned char *pl;
	size_t n = 0, i, pll;

	memset(vals, 0, ix->nf * sizeof(*vals));
	if (zkcr_irec_parse(rf, ZKC_INDEX_MAX_FIELDS, &n, &pl, &pll, data, len) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		int fi = field_of(ix, rf[i].name, rf[i].name_len);

		if (fi < 0 || vals[fi].present)
			continue;
		vals[fi].p = rf[i].value;
		vals[fi].len = rf[i].value_len;
		vals[fi].present = 1;
	}
	if (payload) {
		*payload = pl;
		*payload_len = pll;
	}
	return 0;
}

static int same(const bytes_t *a, const bytes_t *b)
{
	if (a->present != b->present)
		return 0;
	return !a->present || (a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0));
}

/* A user's key for a message: printable bytes as they are, others as
 * \xHH, the first 64 bytes at most. Valid until the next call on this
 * thread. */
static const char *key_text(const void *id, size_t len)
{
	static _Thread_local char buf[64 * 4 + 4];
	const unsigned char *p = id;
	size_t i, n = 0;

	for (i = 0; p && i < len && i < 64; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			buf[n++] = (char)p[i];
		else
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\\x%02x", p[i]);
	}
	if (i < len)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "...");
	buf[n] = 0;
	return buf;
}

static int check_id(const zkc_index_t *ix, const void *id, size_t id_len)
{
	if (!id || id_len == 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: key is %s", ix->path, !id
		                     ? "NULL" : "empty");
	if (id_len > ZKC_INDEX_MAX_ID)
		return zkc_error_set(ZKC_ETOOLARGE, "index %s: key \"%s\" is %zu bytes, over %d",
		                     ix->path, key_text(id, id_len), id_len, ZKC_INDEX_MAX_ID);
	return ZKC_OK;
}

/* Waits until this handle's caches show a write at zxid (records: the
 * record cache; entries: when the write changed some). */
static int wait_seen(zkc_index_t *ix, int64_t zxid, int entries)
{
	int rc = ZKC_OK;

	if (entries && ix->icache)
		rc = zkc_cache_wait_zxid(ix->icache, zxid, ix->timeout_ms);
	if (rc == ZKC_OK && ix->rcache)
		rc = zkc_cache_wait_zxid(ix->rcache, zxid, ix->timeout_ms);
	return rc;
}

/* The kinds of a transaction's ops, to tell why it failed. */
enum { K_RECORD, K_DEL_ENTRY, K_DEL_GUARD, K_NEW_ENTRY, K_NEW_GUARD };

/* Adds the entry changes of field fi from old to new. *touched counts. */
static int add_entry_ops(zkc_multi_t *m, unsigned char *kinds, zkc_index_t *ix, size_t fi,
                         const bytes_t *old, const bytes_t *nw, const void *id, size_t id_len,
                         const char *eid, int *touched)
{
	field_t *f = &ix->f[fi];
	char *p;
	int rc = ZKC_OK;

	if (same(old, nw))
		return ZKC_OK;
	(*touched)++;
	if (old->present) {
		p = bpath(f->idir, ix->nb, old->p, old->len, 1, eid);
		kinds[zkc_multi_count(m)] = K_DEL_ENTRY;
		rc = p ? zkc_multi_delete(m, p, -1) : ZKC_ENOMEM;
		free(p);
		if (rc == ZKC_OK && f->udir) {
			p = bpath(f->udir, ix->nb, old->p, old->len, 1, NULL);
			kinds[zkc_multi_count(m)] = K_DEL_GUARD;
			rc = p ? zkc_multi_delete(m, p, -1) : ZKC_ENOMEM;
			free(p);
		}
	}
	if (rc == ZKC_OK && nw->present) {
		p = bpath(f->idir, ix->nb, nw->p, nw->len, 1, eid);
		kinds[zkc_multi_count(m)] = K_NEW_ENTRY;
		rc = p ? zkc_multi_create(m, p, NULL, 0, ZKC_PERSISTENT, NULL) : ZKC_ENOMEM;
		free(p);
		if (rc == ZKC_OK && f->udir) {
			p = bpath(f->udir, ix->nb, nw->p, nw->len, 1, NULL);
			kinds[zkc_multi_count(m)] = K_NEW_GUARD;
			rc = p ? zkc_multi_create(m, p, id, id_len, ZKC_PERSISTENT, NULL) : ZKC_ENOMEM;
			free(p);
		}
	}
	return rc;
}

/* Which op of a failed transaction failed it (-1: none named). */
static int failed_op(const zkc_multi_results_t *res)
{
	size_t i;

	for (i = 0; res && i < res->count; i++)
		if (res->results[i].code != ZKC_OK && res->results[i].code != ZKC_ERUNTIMEINCONSISTENCY)
			return (int)i;
	return -1;
}

/* Maps the failure of an op other than the record's (whose version check
 * passed, so the view of the record was current) to the put's answer. */
static int entry_failure(int kind, int rc, const char **why)
{
	if (kind == K_NEW_GUARD && rc == ZKC_ENODEEXISTS)
		*why = "a unique field's value already belongs to another record";
	else if ((kind == K_NEW_ENTRY || kind == K_NEW_GUARD) && rc == ZKC_ENONODE)
		*why = "the collection is gone";
	else if (rc == ZKC_ENODEEXISTS || rc == ZKC_ENONODE) {
		*why = "its index entries disagree with the record (rebuild repairs them)";
		rc = ZKC_EDATAINCONSISTENCY;
	}
	return rc;
}

/* One read-modify-write of record id: new_rec NULL deletes it. */
static int write_record(zkc_index_t *ix, const void *id, size_t id_len, const unsigned char *new_rec,
                        size_t new_len, const bytes_t *nvals, int flags)
{
	int64_t deadline = zkcr_now_ms() + ix->timeout_ms;
	char *eid = enc_str(id, id_len, 0), *rpath = bpath(ix->rdir, ix->nb, id, id_len, 0, NULL);
	bytes_t *ovals = calloc(ix->nf ? ix->nf : 1, sizeof(*ovals));
	bytes_t none[ZKC_INDEX_MAX_FIELDS];
	unsigned char kinds[1 + 4 * ZKC_INDEX_MAX_FIELDS];
	const char *why = NULL;     /* the cause, for the message */
	int rc = ZKC_ENOMEM, attempt;

	memset(none, 0, sizeof(none));
	if (!nvals)
		nvals = none;
	if (!eid || !rpath || !ovals)
		goto out;
	for (attempt = 0;; attempt++) {
		zkc_multi_results_t *res = NULL;
		zkc_multi_t *m = NULL;
		char *old = NULL;
		size_t olen = 0, fi;
		zkc_stat_t st;
		int exists, touched = 0, k;
		int64_t zxid = 0;

		rc = zkc_get(&old, &olen, &st, ix->zk, rpath);
		if (rc != ZKC_OK && rc != ZKC_ENONODE)
			break;
		exists = rc == ZKC_OK;
		if (exists && (flags & ZKC_INDEX_CREATE)) {
			zkc_free(old);
			why = "a record with this key exists (ZKC_INDEX_CREATE)";
			rc = ZKC_ENODEEXISTS;
			break;
		}
		if (!exists && (!new_rec || (flags & ZKC_INDEX_UPDATE))) {
			why = new_rec ? "no record with this key (ZKC_INDEX_UPDATE)"
			              : "no record with this key";
			rc = ZKC_ENONODE;
			break;
		}
		memset(ovals, 0, ix->nf * sizeof(*ovals));
		if (exists && record_values(ovals, ix, old, olen, NULL, NULL) != 0) {
			zkc_free(old);
			why = "the stored record is damaged (not a record)";
			rc = ZKC_EDATAINCONSISTENCY;
			break;
		}
		rc = zkc_multi_new(&m);
		if (rc == ZKC_OK) {
			if (!new_rec)
				rc = zkc_multi_delete(m, rpath, st.version);
			else if (exists)
				rc = zkc_multi_set(m, rpath, new_rec, new_len, st.version);
			else
				rc = zkc_multi_create(m, rpath, new_rec, new_len, ZKC_PERSISTENT, NULL);
		}
		for (fi = 0; rc == ZKC_OK && fi < ix->nf; fi++)
			rc = add_entry_ops(m, kinds, ix, fi, &ovals[fi], &nvals[fi], id, id_len, eid, &touched);
		if (rc == ZKC_OK)
			rc = zkc_multi_commit(&res, ix->zk, m);
		zkc_free(old);
		if (rc == ZKC_OK) {
			if (new_rec && exists && res && res->count > 0)
				zxid = res->results[0].stat.mzxid;
			zkc_multi_results_free(res);
			zkc_multi_free(m);
			if (flags & ZKC_INDEX_WAIT) {
				zkc_stat_t s2;

				char *bdir = strdup(rpath);

				/* a delete: the record's bucket saw it */
				if (bdir)
					*strrchr(bdir, '/') = 0;
				if (!zxid && bdir && zkc_exists(&s2, ix->zk, bdir) == ZKC_OK)
					zxid = s2.pzxid;
				free(bdir);
				if (new_rec && !exists && zkc_exists(&s2, ix->zk, rpath) == ZKC_OK &&
				    s2.czxid > zxid)
					zxid = s2.czxid;
				rc = zxid ? wait_seen(ix, zxid, touched) : ZKC_OK;
				if (rc != ZKC_OK)
					why = "written, but not yet seen by this handle's cache";
			}
			break;
		}
		k = failed_op(res);
		zkc_multi_results_free(res);
		zkc_multi_free(m);
		if (rc == ZKC_EUNKNOWN || k < 0)
			break;
		if (k == 0) {
			/* the record changed under us (another writer): re-read */
			if (!exists && rc == ZKC_ENONODE) {
				why = "the collection is gone";
				break;  /* the records directory is gone */
			}
			if (rc != ZKC_EBADVERSION && rc != ZKC_ENONODE && rc != ZKC_ENODEEXISTS)
				break;
		} else {
			rc = entry_failure(kinds[k], rc, &why);
			break;
		}
		if (zkcr_now_ms() >= deadline) {
			why = "other writers changed the record on every try until the deadline";
			rc = ZKC_ETIMEDOUT;
			break;
		}
		zkcr_backoff(attempt);
	}
out:
	free(eid);
	free(rpath);
	free(ovals);
	/* about the user's key and collection, never the record's node */
	if (rc != ZKC_OK)
		rc = zkc_error_set(rc, "index %s: %s of key \"%s\": %s", ix->path, new_rec ? "put"
		                   : "delete", key_text(id, id_len), why ? why : zkc_strerror(rc));
	return rc;
}

int zkc_index_put(zkc_index_t *ix, const void *id, size_t id_len, const void *data, size_t len,
                  const zkc_index_kv_t *fields, size_t nfields, int flags)
{
	bytes_t nvals[ZKC_INDEX_MAX_FIELDS];
	zkcr_irec_field_t rf[ZKC_INDEX_MAX_FIELDS];
	unsigned char *rec;
	size_t i, nrf = 0, rlen;
	int rc;

	zkc_error_clear();
	if (!ix || (!data && len) || (!fields && nfields) ||
	    (flags & ~(ZKC_INDEX_CREATE | ZKC_INDEX_UPDATE | ZKC_INDEX_WAIT)) ||
	    (flags & (ZKC_INDEX_CREATE | ZKC_INDEX_UPDATE)) == (ZKC_INDEX_CREATE | ZKC_INDEX_UPDATE))
		return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: put: %s", ix ? ix->path
		                     : "(null)", !ix ? "index is NULL" : (!data && len)
		                     ? "data is NULL" : (!fields && nfields) ? "fields is NULL"
		                     : "flags: unknown, or ZKC_INDEX_CREATE with ZKC_INDEX_UPDATE");
	if ((rc = check_id(ix, id, id_len)) != ZKC_OK)
		return rc;
	if (len > ZKC_MAX_DATA_LEN)
		return zkc_error_set(ZKC_ETOOLARGE, "index %s: put of key \"%s\": data of %zu "
		                     "bytes is over the %d-byte limit", ix->path,
		                     key_text(id, id_len), len, ZKC_MAX_DATA_LEN);
	if (zkc_on_event_thread(ix->zk))
		return zkc_error_set(ZKC_EDEADLK, "index %s: put from the client's event thread "
		                     "would wait on itself", ix->path);
	memset(nvals, 0, sizeof(nvals));
	for (i = 0; i < nfields; i++) {
		int fi;

		if (check_field_name(fields[i].name) != ZKC_OK || (!fields[i].value && fields[i].len))
			return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: put of key \"%s\": "
			                     "field %zu: %s", ix->path, key_text(id, id_len), i,
			                     !fields[i].name ? "name is NULL"
			                     : check_field_name(fields[i].name) != ZKC_OK
			                     ? "name empty or too long" : "value is NULL");
		fi = field_of(ix, fields[i].name, strlen(fields[i].name));
		if (fi < 0 || nvals[fi].present)
			return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: put of key \"%s\": "
			                     "field \"%s\" is %s", ix->path, key_text(id, id_len),
			                     fields[i].name, fi < 0
			                     ? "not in the collection's schema"
			                     : "given twice");  /* unknown or repeated field */
		if (fields[i].len > ZKC_INDEX_MAX_VALUE)
			return zkc_error_set(ZKC_ETOOLARGE, "index %s: put of key \"%s\": value "
			                     "of field \"%s\" is over %d bytes", ix->path,
			                     key_text(id, id_len), fields[i].name,
			                     ZKC_INDEX_MAX_VALUE);
		nvals[fi].p = fields[i].value;
		nvals[fi].len = fields[i].len;
		nvals[fi].present = 1;
	}
	/* stored in schema order, so equal records have equal bytes */
	for (i = 0; i < ix->nf; i++) {
		if (!nvals[i].present)
			continue;
		rf[nrf].name = ix->f[i].name;
		rf[nrf].name_len = ix->f[i].name_len;
		rf[nrf].value = nvals[i].p;
		rf[nrf].value_len = nvals[i].len;
		nrf++;
	}
	rlen = zkcr_irec_size(rf, nrf, len);
	if (rlen > ZKC_MAX_DATA_LEN)
		return zkc_error_set(ZKC_ETOOLARGE, "index %s: put of key \"%s\": the record "
		                     "would be %zu bytes, over the %d-byte limit", ix->path,
		                     key_text(id, id_len), rlen, ZKC_MAX_DATA_LEN);
	rec = malloc(rlen);
	if (!rec)
		return zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", ix->path);
	zkcr_irec_write(rec, rf, nrf, data, len);
	rc = write_record(ix, id, id_len, rec, rlen, nvals, flags);
	free(rec);
	return rc;
}

int zkc_index_delete(zkc_index_t *ix, const void *id, size_t id_len, int flags)
{
	int rc;

	zkc_error_clear();
	if (!ix || (flags & ~ZKC_INDEX_WAIT))
		return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: delete: %s", ix ? ix->path
		                     : "(null)", !ix ? "index is NULL" : "unknown flags");
	if ((rc = check_id(ix, id, id_len)) != ZKC_OK)
		return rc;
	if (zkc_on_event_thread(ix->zk))
		return zkc_error_set(ZKC_EDEADLK, "index %s: delete from the client's event "
		                     "thread would wait on itself", ix->path);
	return write_record(ix, id, id_len, NULL, 0, NULL, flags);
}

/* ------------------------------------------------------------ reads */

void zkc_index_record_free(zkc_index_record_t *rec)
{
	free(rec);   /* one allocation */
}

/* Builds a caller-owned record (one allocation) from node data. */
static int make_record(zkc_index_record_t **out, const zkc_index_t *ix, const void *id,
                       size_t id_len, const char *data, size_t len, int32_t version)
{
	bytes_t vals[ZKC_INDEX_MAX_FIELDS];
	const unsigned char *pl;
	size_t pll, i, nf = 0, size;
	zkc_index_record_t *r;
	char *p;

	if (record_values(vals, ix, data, len, &pl, &pll) != 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: the record of key \"%s\" is "
		                     "not a record (damaged data)", ix->path, key_text(id, id_len));
	size = sizeof(*r) + id_len + 1 + pll + 1;
	for (i = 0; i < ix->nf; i++)
		if (vals[i].present) {
			nf++;
			size += sizeof(zkc_index_kv_t) + vals[i].len + 1 + ix->f[i].name_len + 1;
		}
	r = calloc(1, size);
	if (!r)
		return zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", ix->path);
	r->fields = (zkc_index_kv_t *)(r + 1);
	p = (char *)(r->fields + nf);
	r->id = p;
	memcpy(p, id, id_len);
	r->id_len = id_len;
	p += id_len + 1;
	r->data = p;
	if (pll)
		memcpy(p, pl, pll);
	r->len = pll;
	p += pll + 1;
	for (i = 0; i < ix->nf; i++) {
		zkc_index_kv_t *kv;

		if (!vals[i].present)
			continue;
		kv = &r->fields[r->nfields++];
		memcpy(p, ix->f[i].name, ix->f[i].name_len + 1);  /* outlives the handle */
		kv->name = p;
		p += ix->f[i].name_len + 1;
		if (vals[i].len)
			memcpy(p, vals[i].p, vals[i].len);
		kv->value = p;
		kv->len = vals[i].len;
		p += vals[i].len + 1;
	}
	r->version = version;
	*out = r;
	return ZKC_OK;
}

int zkc_index_get(zkc_index_record_t **out, zkc_index_t *ix, const void *id, size_t id_len,
                  int flags)
{
	char *rpath, *data = NULL;
	size_t len = 0;
	zkc_stat_t st;
	int rc;

	zkc_error_clear();
	if (!out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index get: out is NULL");
	*out = NULL;
	if (!ix || (flags & ~ZKC_INDEX_SERVER))
		return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: get: %s", ix ? ix->path
		                     : "(null)", !ix ? "index is NULL" : "unknown flags");
	if ((rc = check_id(ix, id, id_len)) != ZKC_OK)
		return rc;
	rpath = bpath(ix->rdir, ix->nb, id, id_len, 0, NULL);
	if (!rpath)
		return zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", ix->path);
	if (ix->rcache && !(flags & ZKC_INDEX_SERVER))
		rc = zkc_cache_get(&data, &len, &st, ix->rcache, rpath);
	else
		rc = zkc_get(&data, &len, &st, ix->zk, rpath);
	free(rpath);
	if (rc != ZKC_OK)   /* about the key, not the record's node */
		rc = zkc_error_set(rc, "index %s: get of key \"%s\": %s", ix->path,
		                   key_text(id, id_len), rc == ZKC_ENONODE
		                   ? "no record with this key" : zkc_strerror(rc));
	if (rc == ZKC_OK)
		rc = make_record(out, ix, id, id_len, data, len, st.version);
	zkc_free(data);
	return rc;
}

void zkc_index_hits_free(zkc_index_hits_t *hits)
{
	free(hits);  /* one allocation */
}

/* Entries [from, to) of names whose prefix matches: selection mode. */
typedef struct sel {
	const char *lo;    /* start at the first name >= lo */
	size_t lo_len;
	const char *pre;   /* stop at the first name not starting with pre */
	size_t pre_len;
	const char *hi;    /* or at the first name >= hi (NULL: none) */
	size_t hi_len;
	size_t limit;
} sel_t;

static int name_below(const char *s, const char *key, size_t klen)
{
	return strncmp(s, key, klen) < 0;
}

/* Decodes the selected names of a sorted array into one caller-owned block. */
static int select_hits(zkc_index_hits_t **out, char *const *names, size_t n, const sel_t *q)
{
	size_t from = lower_bound(names, n, q->lo, q->lo_len), to, i, size, k = 0;
	zkc_index_hits_t *h;
	char *p;

	for (to = from; to < n; to++) {
		if (q->pre && strncmp(names[to], q->pre, q->pre_len) != 0)
			break;
		if (q->hi && !name_below(names[to], q->hi, q->hi_len))
			break;
		if (q->limit && to - from >= q->limit)
			break;
	}
	size = sizeof(*h) + (to - from) * sizeof(zkc_index_hit_t);
	for (i = from; i < to; i++)
		size += strlen(names[i]) + 2;
	h = malloc(size);
	if (!h)
		return zkc_error_set(ZKC_ENOMEM, "index: out of memory");
	h->items = (zkc_index_hit_t *)(h + 1);
	p = (char *)(h->items + (to - from));
	for (i = from; i < to; i++) {
		const char *nm = names[i], *sep = strchr(nm, ZKCR_IKEY_SEP);
		zkc_index_hit_t *hit = &h->items[k];
		size_t vl, il;

		if (!sep || zkcr_ikey_dec((unsigned char *)p, &vl, nm, (size_t)(sep - nm)) != 0)
			continue;  /* not an entry: verify reports it */
		if (zkcr_ikey_dec((unsigned char *)p + vl + 1, &il, sep + 1, strlen(sep + 1)) != 0 ||
		    il == 0)
			continue;
		hit->value = p;
		hit->value_len = vl;
		p[vl] = 0;
		p += vl + 1;
		hit->id = p;
		hit->id_len = il;
		p[il] = 0;
		p += il + 1;
		k++;
	}
	h->count = k;
	*out = h;
	return ZKC_OK;
}

static char *dup_bytes(const void *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		if (len)
			memcpy(s, p, len);
		s[len] = 0;
	}
	return s;
}

/* Nodes of a bucketed directory (every bucket, or only one), sorted by
 * name, with data and version when asked. */
typedef struct ditem {
	char *name;
	char *path;
	char *data;
	size_t len;
	int32_t ver;            /* -2: deleted while read */
} ditem_t;

typedef struct dlist {
	size_t n, cap;
	ditem_t *it;
} dlist_t;

static void dlist_free(dlist_t *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->it[i].name);
		free(d->it[i].path);
		free(d->it[i].data);
	}
	free(d->it);
	memset(d, 0, sizeof(*d));
}

static int cmp_ditem(const void *a, const void *b)
{
	const ditem_t *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->path, y->path);
}

static int read_dir(dlist_t *d, zkc_t *zk, const char *dir, unsigned nb, int only, int with_data)
{
	zkc_batch_t *b = NULL;
	unsigned k, first = only >= 0 ? (unsigned)only : 0, last = only >= 0 ? (unsigned)only + 1 : nb;
	size_t i, j;
	int rc;

	memset(d, 0, sizeof(*d));
	if (zkc_batch_new(&b) != ZKC_OK)
		return zkc_error_set(ZKC_ENOMEM, "index: out of memory");
	for (k = first, rc = ZKC_OK; rc == ZKC_OK && k < last; k++) {
		char p[DIR_BUF];

		snprintf(p, sizeof(p), "%s/%02x", dir, k);
		if (zkc_batch_children(b, p, 0, NULL, NULL) < 0)
			rc = zkc_error_set(ZKC_ENOMEM, "index: out of memory");
	}
	if (rc == ZKC_OK)
		rc = zkc_batch_run(zk, b);
	for (k = first; rc == ZKC_OK && k < last; k++) {
		const zkc_strings_t *kids;

		if ((rc = zkc_batch_code(b, k - first)) != ZKC_OK)
			break;
		kids = zkc_batch_children_of(b, k - first);
		for (i = 0; rc == ZKC_OK && kids && i < kids->count; i++) {
			ditem_t *it;

			if (d->n == d->cap) {
				size_t cap = d->cap ? d->cap * 2 : 256;
				ditem_t *ni = realloc(d->it, cap * sizeof(*ni));

				if (!ni) {
					rc = zkc_error_set(ZKC_ENOMEM, "index: out of memory");
					break;
				}
				d->it = ni;
				d->cap = cap;
			}
			it = &d->it[d->n];
			memset(it, 0, sizeof(*it));
			it->name = strdup(kids->items[i]);
			if (asprintf(&it->path, "%s/%02x/%s", dir, k, kids->items[i]) < 0)
				it->path = NULL;
			d->n++;
			if (!it->name || !it->path)
				rc = zkc_error_set(ZKC_ENOMEM, "index: out of memory");
		}
	}
	for (i = 0; rc == ZKC_OK && with_data && i < d->n; i += READ_CHUNK) {
		size_t n = d->n - i < READ_CHUNK ? d->n - i : READ_CHUNK;

		zkc_batch_clear(b);
		for (j = 0; rc == ZKC_OK && j < n; j++)
			if (zkc_batch_get(b, d->it[i + j].path, 0, NULL, NULL) < 0)
				rc = zkc_error_set(ZKC_ENOMEM, "index: out of memory");
		if (rc == ZKC_OK)
			rc = zkc_batch_run(zk, b);
		for (j = 0; rc == ZKC_OK && j < n; j++) {
			ditem_t *it = &d->it[i + j];
			int c = zkc_batch_code(b, j);
			zkc_stat_t st;
			const char *data;

			if (c == ZKC_ENONODE) {
				it->ver = -2;
				continue;
			}
			if (c != ZKC_OK) {
				rc = c;
				break;
			}
			data = zkc_batch_data(b, j, &it->len);
			zkc_batch_stat(&st, b, j);
			it->ver = st.version;
			if (!(it->data = dup_bytes(data ? data : "", it->len)))
				rc = zkc_error_set(ZKC_ENOMEM, "index: out of memory");
		}
	}
	zkc_batch_free(b);
	if (rc != ZKC_OK) {
		dlist_free(d);
		return rc;
	}
	if (d->n)
		qsort(d->it, d->n, sizeof(*d->it), cmp_ditem);
	return ZKC_OK;
}

static int lookup(zkc_index_hits_t **out, zkc_index_t *ix, const char *field, sel_t *q,
                  int bucket, int flags)
{
	dlist_t d;
	char **names;
	size_t i;
	int fi, rc;

	fi = field_of(ix, field, strlen(field));
	if (fi < 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: field \"%s\" is not in the "
		                     "collection's schema", ix->path, field);
	if (ix->icache && !(flags & ZKC_INDEX_SERVER)) {
		pthread_rwlock_rdlock(&ix->rw);
		rc = select_hits(out, ix->f[fi].ents, ix->f[fi].n, q);
		pthread_rwlock_unlock(&ix->rw);
		return rc;
	}
	/* an exact value lives in one bucket; scans read them all */
	rc = read_dir(&d, ix->zk, ix->f[fi].idir, ix->nb, bucket, 0);
	if (rc != ZKC_OK)   /* about the field, not its entry nodes */
		return zkc_error_set(rc, "index %s: lookup on field \"%s\": %s", ix->path, field,
		                     rc == ZKC_ENONODE ? "the collection is gone"
		                     : zkc_strerror(rc));
	names = malloc((d.n + 1) * sizeof(*names));
	if (!names) {
		dlist_free(&d);
		return zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", ix->path);
	}
	for (i = 0; i < d.n; i++)
		names[i] = d.it[i].name;
	rc = select_hits(out, names, d.n, q);
	free(names);
	dlist_free(&d);
	return rc;
}

/* Common checks of the lookups. */
static int lookup_args(zkc_index_hits_t **out, zkc_index_t *ix, const char *field, int flags)
{
	zkc_error_clear();
	if (!out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index lookup: out is NULL");
	*out = NULL;
	if (!ix || check_field_name(field) != ZKC_OK || (flags & ~ZKC_INDEX_SERVER))
		return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: lookup: %s", ix ? ix->path
		                     : "(null)", !ix ? "index is NULL" : !field ? "field is NULL"
		                     : check_field_name(field) != ZKC_OK
		                     ? "field name empty or too long" : "unknown flags");
	return ZKC_OK;
}

/* Exact match (whole value, then the separator) or prefix: both select
 * the entries whose encoded key starts with the encoded bytes. */
static int lookup_prefix(zkc_index_hits_t **out, zkc_index_t *ix, const char *field,
                         const void *value, size_t len, size_t limit, int flags, int exact)
{
	char buf[3 * ZKC_INDEX_MAX_VALUE + 2], *e;
	sel_t q;
	int rc;

	if ((rc = lookup_args(out, ix, field, flags)) != ZKC_OK)
		return rc;
	if (!value && len)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: lookup on field \"%s\": value "
		                     "is NULL", ix->path, field);
	if (len > ZKC_INDEX_MAX_VALUE)
		return zkc_error_set(ZKC_ETOOLARGE, "index %s: lookup on field \"%s\": value over "
		                     "%d bytes", ix->path, field, ZKC_INDEX_MAX_VALUE);
	e = zkcr_ikey_enc(buf, value, len);
	if (exact)
		*e++ = ZKCR_IKEY_SEP;
	*e = 0;
	memset(&q, 0, sizeof(q));
	q.lo = q.pre = buf;
	q.lo_len = q.pre_len = (size_t)(e - buf);
	q.limit = limit;
	/* an exact value lives in one bucket; a prefix may be in any */
	return lookup(out, ix, field, &q, exact ? (int)bucket_of(value, len, ix->nb) : -1, flags);
}

int zkc_index_find(zkc_index_hits_t **out, zkc_index_t *ix, const char *field, const void *value,
                   size_t len, size_t limit, int flags)
{
	return lookup_prefix(out, ix, field, value, len, limit, flags, 1);
}

int zkc_index_prefix(zkc_index_hits_t **out, zkc_index_t *ix, const char *field, const void *prefix,
                     size_t len, size_t limit, int flags)
{
	return lookup_prefix(out, ix, field, prefix, len, limit, flags, 0);
}

int zkc_index_range(zkc_index_hits_t **out, zkc_index_t *ix, const char *field, const void *lo,
                    size_t lo_len, const void *hi, size_t hi_len, size_t limit, int flags)
{
	char lb[3 * ZKC_INDEX_MAX_VALUE + 2], hb[3 * ZKC_INDEX_MAX_VALUE + 2];
	sel_t q;
	int rc;

	if ((rc = lookup_args(out, ix, field, flags)) != ZKC_OK)
		return rc;
	if ((!lo && lo_len) || (!hi && hi_len))
		return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: range on field \"%s\": a bound "
		                     "is NULL", ix->path, field);
	if (lo_len > ZKC_INDEX_MAX_VALUE || hi_len > ZKC_INDEX_MAX_VALUE)
		return zkc_error_set(ZKC_ETOOLARGE, "index %s: range on field \"%s\": a bound is "
		                     "over %d bytes", ix->path, field, ZKC_INDEX_MAX_VALUE);
	memset(&q, 0, sizeof(q));
	q.lo = lb;
	q.lo_len = lo ? (size_t)(zkcr_ikey_enc(lb, lo, lo_len) - lb) : 0;
	lb[q.lo_len] = 0;
	if (hi) {
		q.hi = hb;
		q.hi_len = (size_t)(zkcr_ikey_enc(hb, hi, hi_len) - hb);
		hb[q.hi_len] = 0;
	}
	q.limit = limit;
	return lookup(out, ix, field, &q, -1, flags);
}

/* The newest child change (pzxid) among the bucket directories of dir. */
static int newest_child_change(int64_t *out, zkc_t *zk, const char *dir, unsigned nb)
{
	zkc_batch_t *b = NULL;
	unsigned k;
	int rc = zkc_batch_new(&b);

	for (k = 0; rc == ZKC_OK && k < nb; k++) {
		char p[DIR_BUF];

		snprintf(p, sizeof(p), "%s/%02x", dir, k);
		if (zkc_batch_exists(b, p, 0, NULL, NULL) < 0)
			rc = zkc_error_set(ZKC_ENOMEM, "index: out of memory");
	}
	if (rc == ZKC_OK)
		rc = zkc_batch_run(zk, b);
	for (k = 0; rc == ZKC_OK && k < nb; k++) {
		zkc_stat_t st;

		rc = zkc_batch_stat(&st, b, k);
		if (rc == ZKC_OK && st.pzxid > *out)
			*out = st.pzxid;
	}
	zkc_batch_free(b);
	return rc;
}

int zkc_index_sync(zkc_index_t *ix, int timeout_ms)
{
	int64_t z = 0;
	size_t i;
	int rc;

	zkc_error_clear();
	if (!ix)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index sync: index is NULL");
	if (zkc_on_event_thread(ix->zk))
		return zkc_error_set(ZKC_EDEADLK, "index %s: sync from the client's event thread "
		                     "would wait on itself", ix->path);
	/* the connected server first catches up with the leader; then the
	 * newest child change of the cached directories is what to wait for */
	rc = zkc_sync(ix->zk, ix->path);
	for (i = 0; rc == ZKC_OK && ix->icache && i < ix->nf; i++)
		rc = newest_child_change(&z, ix->zk, ix->f[i].idir, ix->nb);
	if (rc == ZKC_OK && ix->icache && z)
		rc = zkc_cache_wait_zxid(ix->icache, z, timeout_ms);
	z = 0;
	if (rc == ZKC_OK && ix->rcache)
		rc = newest_child_change(&z, ix->zk, ix->rdir, ix->nb);
	if (rc == ZKC_OK && ix->rcache && z)
		rc = zkc_cache_wait_zxid(ix->rcache, z, timeout_ms);
	return rc;
}

/* ------------------------------------------------------------ verify, rebuild */

const char *zkc_index_issue_name(int kind)
{
	static const char *const names[] = { "unknown", "missing_entry", "stale_entry",
		"missing_unique", "stale_unique", "unique_conflict", "bad_record", "bad_entry" };

	return kind >= 1 && kind <= ZKC_INDEX_BAD_ENTRY ? names[kind] : names[0];
}

void zkc_index_report_free(zkc_index_report_t *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->count; i++) {
		free(r->issues[i].field);
		free(r->issues[i].value);
		free(r->issues[i].id);
		free(r->issues[i].path);
	}
	free(r->issues);
	free(r);
}

static int add_issue(zkc_index_report_t *r, int kind, const char *field, const void *value,
                     size_t vlen, const void *id, size_t id_len, const char *path, int32_t version)
{
	zkc_index_issue_t *is;

	if ((r->count & (r->count + 1)) == 0 || r->count == 0) {
		size_t cap = r->count ? (r->count + 1) * 2 : 8;
		zkc_index_issue_t *ni = realloc(r->issues, cap * sizeof(*ni));

		if (!ni)
			return zkc_error_set(ZKC_ENOMEM, "index: out of memory");
		r->issues = ni;
	}
	is = &r->issues[r->count];
	memset(is, 0, sizeof(*is));
	is->kind = kind;
	is->field = field ? strdup(field) : NULL;
	is->value = value ? dup_bytes(value, vlen) : NULL;
	is->value_len = value ? vlen : 0;
	is->id = id ? dup_bytes(id, id_len) : NULL;
	is->id_len = id ? id_len : 0;
	is->path = path ? strdup(path) : NULL;
	is->version = version;
	r->count++;
	return ZKC_OK;
}

/* One record as verify read it. */
typedef struct srec {
	const char *ename;      /* the node's name (borrowed from the listing) */
	const char *path;
	unsigned char *id;      /* decoded, NULL if the name is no encoding */
	size_t id_len;
	int32_t version;
	int ok;                 /* parsed */
	bytes_t vals[ZKC_INDEX_MAX_FIELDS];
} srec_t;

/* An expected node: its name, its path and the record that explains it. */
typedef struct expn {
	char *path;
	const char *name;   /* points into path */
	size_t rec;
} expn_t;

static int cmp_exp(const void *a, const void *b)
{
	const expn_t *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->rec > y->rec) - (x->rec < y->rec);
}

static void exp_free(expn_t *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(e[i].path);
	free(e);
}

static int split_entry(unsigned char *vbuf, size_t *vl, unsigned char *ibuf, size_t *il,
                       const char *name)
{
	const char *sep = strchr(name, ZKCR_IKEY_SEP);

	if (!sep || zkcr_ikey_dec(vbuf, vl, name, (size_t)(sep - name)) != 0)
		return -1;
	if (!ibuf)
		return sep[1] ? -1 : 0;
	return zkcr_ikey_dec(ibuf, il, sep + 1, strlen(sep + 1)) == 0 && *il > 0 ? 0 : -1;
}

/* The expected entries (guard 0) or guards (1) of field fi, sorted. */
static int expected(expn_t **out, size_t *out_n, zkc_index_t *ix, size_t fi, srec_t *recs,
                    size_t nrec, int guard)
{
	field_t *f = &ix->f[fi];
	expn_t *e = calloc(nrec + 1, sizeof(*e));
	size_t i, n = 0;

	if (!e)
		return zkc_error_set(ZKC_ENOMEM, "index: out of memory");
	for (i = 0; i < nrec; i++) {
		const bytes_t *v = &recs[i].vals[fi];

		if (!recs[i].ok || !v->present)
			continue;
		e[n].rec = i;
		e[n].path = bpath(guard ? f->udir : f->idir, ix->nb, v->p, v->len, 1,
		                  guard ? NULL : recs[i].ename);
		if (!e[n].path) {
			exp_free(e, n);
			return zkc_error_set(ZKC_ENOMEM, "index: out of memory");
		}
		e[n].name = strrchr(e[n].path, '/') + 1;
		n++;
	}
	qsort(e, n, sizeof(*e), cmp_exp);
	*out = e;
	*out_n = n;
	return ZKC_OK;
}

/* An actual node no record explains (or in the wrong bucket). */
static int stale(zkc_index_report_t *r, const field_t *f, const ditem_t *it, int guard)
{
	size_t l = strlen(it->name), vl = 0, il = 0;
	unsigned char *vb = malloc(l + 1), *ib = malloc(l + 1);
	int rc;

	if (!vb || !ib)
		rc = zkc_error_set(ZKC_ENOMEM, "index: out of memory");
	else if (split_entry(vb, &vl, guard ? NULL : ib, &il, it->name) != 0)
		rc = add_issue(r, ZKC_INDEX_BAD_ENTRY, f->name, NULL, 0, guard ? it->data : NULL,
		               guard ? it->len : 0, it->path, it->ver);
	else if (guard)
		rc = add_issue(r, ZKC_INDEX_STALE_UNIQUE, f->name, vb, vl, it->data, it->len, it->path,
		               it->ver);
	else
		rc = add_issue(r, ZKC_INDEX_STALE_ENTRY, f->name, vb, vl, ib, il, it->path, -1);
	free(vb);
	free(ib);
	return rc;
}

/* Checks field fi's entries against the records. */
static int verify_entries(zkc_index_report_t *r, zkc_index_t *ix, size_t fi, srec_t *recs,
                          size_t nrec)
{
	field_t *f = &ix->f[fi];
	dlist_t act;
	expn_t *exp = NULL;
	size_t ne = 0, i, j;
	int rc;

	if ((rc = expected(&exp, &ne, ix, fi, recs, nrec, 0)) != ZKC_OK)
		return rc;
	if ((rc = read_dir(&act, ix->zk, f->idir, ix->nb, -1, 0)) != ZKC_OK) {
		exp_free(exp, ne);
		return rc;
	}
	r->entries += act.n;
	for (i = 0, j = 0; rc == ZKC_OK && (i < ne || j < act.n);) {
		int c = i >= ne ? 1 : j >= act.n ? -1 : strcmp(exp[i].name, act.it[j].name);

		if (c == 0 && strcmp(exp[i].path, act.it[j].path) == 0) {
			i++;
			j++;
		} else if (c <= 0) {
			srec_t *s = &recs[exp[i].rec];

			rc = add_issue(r, ZKC_INDEX_MISSING_ENTRY, f->name, s->vals[fi].p, s->vals[fi].len,
			               s->id, s->id_len, exp[i].path, s->version);
			i++;
		} else {
			rc = stale(r, f, &act.it[j], 0);
			j++;
		}
	}
	exp_free(exp, ne);
	dlist_free(&act);
	return rc;
}

static int holds(const ditem_t *g, const srec_t *s)
{
	return g->ver != -2 && g->len == s->id_len && memcmp(g->data, s->id, g->len) == 0;
}

/* Checks unique field fi's guard nodes against the records. */
static int verify_guards(zkc_index_report_t *r, zkc_index_t *ix, size_t fi, srec_t *recs,
                         size_t nrec)
{
	field_t *f = &ix->f[fi];
	dlist_t act;
	expn_t *exp = NULL;
	size_t ne = 0, i, j, k;
	int rc;

	if ((rc = expected(&exp, &ne, ix, fi, recs, nrec, 1)) != ZKC_OK)
		return rc;
	if ((rc = read_dir(&act, ix->zk, f->udir, ix->nb, -1, 1)) != ZKC_OK) {
		exp_free(exp, ne);
		return rc;
	}
	r->entries += act.n;
	for (i = 0, j = 0; rc == ZKC_OK && (i < ne || j < act.n);) {
		int c = i >= ne ? 1 : j >= act.n ? -1 : strcmp(exp[i].name, act.it[j].name);
		size_t g = i;

		if (c > 0 || (c == 0 && strcmp(exp[i].path, act.it[j].path) != 0 &&
		              strcmp(exp[i].path, act.it[j].path) > 0)) {
			if (act.it[j].ver != -2)
				rc = stale(r, f, &act.it[j], 1);
			j++;
			continue;
		}
		/* the group of records sharing exp[i]'s value, and the guard of
		 * that value if it is where it belongs */
		while (g < ne && strcmp(exp[g].name, exp[i].name) == 0)
			g++;
		if (c == 0 && strcmp(exp[i].path, act.it[j].path) != 0)
			c = -1;  /* a guard of this name in the wrong bucket: stale later */
		if (g - i > 1) {
			for (k = i; rc == ZKC_OK && k < g; k++) {
				srec_t *s = &recs[exp[k].rec];

				rc = add_issue(r, ZKC_INDEX_UNIQUE_CONFLICT, f->name, s->vals[fi].p,
				               s->vals[fi].len, s->id, s->id_len, exp[k].path, s->version);
			}
		} else {
			srec_t *s = &recs[exp[i].rec];
			int ok = c == 0 && holds(&act.it[j], s);

			if (c == 0 && !ok && act.it[j].ver != -2)
				rc = add_issue(r, ZKC_INDEX_STALE_UNIQUE, f->name, s->vals[fi].p,
				               s->vals[fi].len, act.it[j].data, act.it[j].len, act.it[j].path,
				               act.it[j].ver);
			if (rc == ZKC_OK && !ok)
				rc = add_issue(r, ZKC_INDEX_MISSING_UNIQUE, f->name, s->vals[fi].p,
				               s->vals[fi].len, s->id, s->id_len, exp[i].path, s->version);
		}
		if (c == 0)
			j++;
		i = g;
	}
	exp_free(exp, ne);
	dlist_free(&act);
	return rc;
}

int zkc_index_verify(zkc_index_report_t **out, zkc_index_t *ix)
{
	zkc_index_report_t *r;
	dlist_t d;
	size_t i, n = 0;
	srec_t *recs = NULL;
	int rc;

	zkc_error_clear();
	if (!out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index verify: out is NULL");
	*out = NULL;
	if (!ix)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index verify: index is NULL");
	if (zkc_on_event_thread(ix->zk))
		return zkc_error_set(ZKC_EDEADLK, "index %s: verify from the client's event "
		                     "thread would wait on itself", ix->path);
	r = calloc(1, sizeof(*r));
	if (!r)
		return zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", ix->path);
	rc = read_dir(&d, ix->zk, ix->rdir, ix->nb, -1, 1);
	if (rc == ZKC_OK) {
		n = d.n;
		recs = calloc(n + 1, sizeof(*recs));
		if (!recs) {
			dlist_free(&d);
			rc = zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", ix->path);
		}
	}
	for (i = 0; rc == ZKC_OK && i < n; i++) {
		srec_t *s = &recs[i];
		size_t l = strlen(d.it[i].name);
		char *want = NULL;

		s->ename = d.it[i].name;
		s->path = d.it[i].path;
		s->version = d.it[i].ver;
		if (s->version == -2)
			continue;  /* deleted while we read */
		r->records++;
		s->id = malloc(l + 1);
		if (!s->id) {
			rc = zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", ix->path);
			break;
		}
		if (zkcr_ikey_dec(s->id, &s->id_len, s->ename, l) != 0 || s->id_len == 0) {
			free(s->id);
			s->id = NULL;
		}
		/* a record counts only in its bucket */
		if (s->id && (want = bpath(ix->rdir, ix->nb, s->id, s->id_len, 0, NULL)) &&
		    strcmp(want, s->path) == 0 &&
		    record_values(s->vals, ix, d.it[i].data, d.it[i].len, NULL, NULL) == 0)
			s->ok = 1;
		free(want);
		if (!s->ok)
			rc = add_issue(r, ZKC_INDEX_BAD_RECORD, NULL, NULL, 0, s->id, s->id_len, s->path,
			               s->version);
	}
	for (i = 0; rc == ZKC_OK && i < ix->nf; i++) {
		rc = verify_entries(r, ix, i, recs, n);
		if (rc == ZKC_OK && ix->f[i].udir)
			rc = verify_guards(r, ix, i, recs, n);
	}
	for (i = 0; recs && i < n; i++)
		free(recs[i].id);
	free(recs);
	if (n || rc == ZKC_OK)
		dlist_free(&d);
	if (rc != ZKC_OK) {
		zkc_index_report_free(r);
		return rc;
	}
	*out = r;
	return ZKC_OK;
}

/* Repairs one issue in one transaction; ZKC_OK if repaired. */
static int repair(zkc_index_t *ix, const zkc_index_issue_t *is)
{
	zkc_multi_t *m = NULL;
	char *rpath = NULL;
	int rc = zkc_multi_new(&m);

	if (rc != ZKC_OK)
		return rc;
	switch (is->kind) {
	case ZKC_INDEX_STALE_ENTRY:
		rc = zkc_multi_delete(m, is->path, -1);
		break;
	case ZKC_INDEX_STALE_UNIQUE:
		rc = zkc_multi_delete(m, is->path, is->version);
		break;
	case ZKC_INDEX_MISSING_ENTRY:
	case ZKC_INDEX_MISSING_UNIQUE:
		/* only while the record is as verify saw it */
		rpath = bpath(ix->rdir, ix->nb, is->id, is->id_len, 0, NULL);
		rc = rpath ? zkc_multi_check(m, rpath, is->version) : ZKC_ENOMEM;
		if (rc == ZKC_OK)
			rc = zkc_multi_create(m, is->path, is->kind == ZKC_INDEX_MISSING_UNIQUE ? is->id : NULL,
			                      is->kind == ZKC_INDEX_MISSING_UNIQUE ? is->id_len : 0,
			                      ZKC_PERSISTENT, NULL);
		break;
	default:
		rc = zkc_error_set(ZKC_ENOTSUP, "index %s: repair of an issue of unknown kind %d",
		                   ix->path, is->kind);
	}
	if (rc == ZKC_OK)
		rc = zkc_multi_commit(NULL, ix->zk, m);
	zkc_multi_free(m);
	free(rpath);
	return rc;
}

int zkc_index_rebuild(zkc_index_report_t **out, zkc_index_t *ix)
{
	zkc_index_report_t *r = NULL;
	int rc, pass, worst = ZKC_OK;
	size_t i;

	zkc_error_clear();
	if (out)
		*out = NULL;
	if (!ix)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index rebuild: index is NULL");
	rc = zkc_index_verify(&r, ix);
	if (rc != ZKC_OK)
		return rc;
	/* deletions first, so a guard that names the wrong id is gone before
	 * the right one is created */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < r->count; i++) {
			int k = r->issues[i].kind, del = k == ZKC_INDEX_STALE_ENTRY ||
			                                 k == ZKC_INDEX_STALE_UNIQUE;

			if (k != ZKC_INDEX_STALE_ENTRY && k != ZKC_INDEX_STALE_UNIQUE &&
			    k != ZKC_INDEX_MISSING_ENTRY && k != ZKC_INDEX_MISSING_UNIQUE)
				continue;
			if (del != (pass == 0))
				continue;
			rc = repair(ix, &r->issues[i]);
			if (rc == ZKC_OK)
				r->repaired++;
			else if (worst == ZKC_OK)
				worst = rc;
		}
	if (out)
		*out = r;
	else
		zkc_index_report_free(r);
	return worst;
}

int zkc_index_options_init(zkc_index_options_t *opts, unsigned int version)
{
	static const zkc_index_options_t init = ZKC_INDEX_OPTIONS_INIT;
	int rc;

	if (!opts)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_index_options_init: opts is NULL");
	rc = zkc_options_version_check("zkc_index_options_init", (int)version, ZKC_INDEX_OPTIONS_VERSION);
	if (rc != ZKC_OK)
		return rc;
	*opts = init;
	opts->version = (int)version;
	return ZKC_OK;
}
