/* recipes/index.c - records with secondary indexes: the collection's
 * schema, the handle and its cached index entries, and the writes: a put
 * or delete changes the record (version-checked) and all its index entries
 * in one transaction. Reads are in index_read.c, verify and rebuild in
 * index_verify.c. Public API only. Layout: docs/recipes/index.md. */
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
#include "index_internal.h"
#include "index_key.h"
#include "support.h"

#define DEFAULT_TIMEOUT_MS 30000
#define SCHEMA_MAGIC "zkc-index 1\nbuckets 64\n"  /* 64: BUCKETS */
#define BUCKETS 64           /* of records, entries and guards per field */

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
unsigned zkcr_index_bucket_of(const void *key, size_t len, unsigned nb)
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
char *zkcr_index_bpath(const char *dir, unsigned nb, const void *a, size_t alen, int sep,
                   const char *eb)
{
	char sub[ZKCR_INDEX_DIR_BUF];

	snprintf(sub, sizeof(sub), "%s/%02x", dir, zkcr_index_bucket_of(a, alen, nb));
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

int zkcr_index_field_of(const zkc_index_t *ix, const char *name, size_t len)
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

int zkcr_index_check_field_name(const char *name)
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

static void fields_free(zkcr_index_field_t *f, size_t n)
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
		zkcr_index_field_t *f = &ix->f[i];
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
	char p[ZKCR_INDEX_DIR_BUF];
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
		if (zkcr_index_check_field_name(fields[i].name) != ZKC_OK ||
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
size_t zkcr_index_lower_bound(char *const *a, size_t n, const char *key, size_t klen)
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

static void ents_add(zkcr_index_field_t *f, const char *name)
{
	size_t len = strlen(name), at = zkcr_index_lower_bound(f->ents, f->n, name, len);
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

static void ents_remove(zkcr_index_field_t *f, const char *name)
{
	size_t len = strlen(name), at = zkcr_index_lower_bound(f->ents, f->n, name, len);

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
int zkcr_index_record_values(zkcr_index_bytes_t *vals, const zkc_index_t *ix, const char *data, size_t len,
                         const unsigned char **payload, size_t *payload_len)
{
	zkcr_irec_field_t rf[ZKC_INDEX_MAX_FIELDS];
	const unsigned char *pl;
	size_t n = 0, i, pll;

	memset(vals, 0, ix->nf * sizeof(*vals));
	if (zkcr_irec_parse(rf, ZKC_INDEX_MAX_FIELDS, &n, &pl, &pll, data, len) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		int fi = zkcr_index_field_of(ix, rf[i].name, rf[i].name_len);

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

static int same(const zkcr_index_bytes_t *a, const zkcr_index_bytes_t *b)
{
	if (a->present != b->present)
		return 0;
	return !a->present || (a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0));
}

/* A user's key for a message: printable bytes as they are, others as
 * \xHH, the first 64 bytes at most. Valid until the next call on this
 * thread. */
const char *zkcr_index_key_text(const void *id, size_t len)
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

int zkcr_index_check_id(const zkc_index_t *ix, const void *id, size_t id_len)
{
	if (!id || id_len == 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: key is %s", ix->path, !id
		                     ? "NULL" : "empty");
	if (id_len > ZKC_INDEX_MAX_ID)
		return zkc_error_set(ZKC_ETOOLARGE, "index %s: key \"%s\" is %zu bytes, over %d",
		                     ix->path, zkcr_index_key_text(id, id_len), id_len, ZKC_INDEX_MAX_ID);
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
                         const zkcr_index_bytes_t *old, const zkcr_index_bytes_t *nw, const void *id, size_t id_len,
                         const char *eid, int *touched)
{
	zkcr_index_field_t *f = &ix->f[fi];
	char *p;
	int rc = ZKC_OK;

	if (same(old, nw))
		return ZKC_OK;
	(*touched)++;
	if (old->present) {
		p = zkcr_index_bpath(f->idir, ix->nb, old->p, old->len, 1, eid);
		kinds[zkc_multi_count(m)] = K_DEL_ENTRY;
		rc = p ? zkc_multi_delete(m, p, -1) : ZKC_ENOMEM;
		free(p);
		if (rc == ZKC_OK && f->udir) {
			p = zkcr_index_bpath(f->udir, ix->nb, old->p, old->len, 1, NULL);
			kinds[zkc_multi_count(m)] = K_DEL_GUARD;
			rc = p ? zkc_multi_delete(m, p, -1) : ZKC_ENOMEM;
			free(p);
		}
	}
	if (rc == ZKC_OK && nw->present) {
		p = zkcr_index_bpath(f->idir, ix->nb, nw->p, nw->len, 1, eid);
		kinds[zkc_multi_count(m)] = K_NEW_ENTRY;
		rc = p ? zkc_multi_create(m, p, NULL, 0, ZKC_PERSISTENT, NULL) : ZKC_ENOMEM;
		free(p);
		if (rc == ZKC_OK && f->udir) {
			p = zkcr_index_bpath(f->udir, ix->nb, nw->p, nw->len, 1, NULL);
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

/* Internal, positive (codes are negative): the record changed under us. */
#define AGAIN 1

/* One put or delete of a record, across its attempts. */
typedef struct wr {
	zkc_index_t *ix;
	const void *id;
	size_t id_len;
	const unsigned char *new_rec;   /* NULL: delete */
	size_t new_len;
	const zkcr_index_bytes_t *nvals;
	int flags;
	char *eid, *rpath;              /* the encoded key, the record's node */
	zkcr_index_bytes_t *ovals;      /* the stored record's values */
	unsigned char kinds[1 + 4 * ZKC_INDEX_MAX_FIELDS];
	const char *why;                /* the cause, for the message */
	/* this attempt */
	int exists, touched;
	zkc_stat_t st;
} wr_t;

/* Reads the stored record (*old, the caller frees it) and checks the
 * write's conditions against it. */
static int wr_read(wr_t *w, char **old, size_t *olen)
{
	int rc = zkc_get(old, olen, &w->st, w->ix->zk, w->rpath);

	if (rc != ZKC_OK && rc != ZKC_ENONODE)
		return rc;
	w->exists = rc == ZKC_OK;
	if (w->exists && (w->flags & ZKC_INDEX_CREATE)) {
		w->why = "a record with this key exists (ZKC_INDEX_CREATE)";
		return ZKC_ENODEEXISTS;
	}
	if (!w->exists && (!w->new_rec || (w->flags & ZKC_INDEX_UPDATE))) {
		w->why = w->new_rec ? "no record with this key (ZKC_INDEX_UPDATE)"
		                    : "no record with this key";
		return ZKC_ENONODE;
	}
	memset(w->ovals, 0, w->ix->nf * sizeof(*w->ovals));
	if (w->exists && zkcr_index_record_values(w->ovals, w->ix, *old, *olen, NULL, NULL) != 0) {
		w->why = "the stored record is damaged (not a record)";
		return ZKC_EDATAINCONSISTENCY;
	}
	return ZKC_OK;
}

/* The transaction: the record's write, checked against the version read,
 * and every index entry that changes with it. */
static int wr_commit(zkc_multi_results_t **res, wr_t *w)
{
	zkc_multi_t *m = NULL;
	size_t fi;
	int rc = zkc_multi_new(&m);

	w->touched = 0;
	if (rc == ZKC_OK) {
		if (!w->new_rec)
			rc = zkc_multi_delete(m, w->rpath, w->st.version);
		else if (w->exists)
			rc = zkc_multi_set(m, w->rpath, w->new_rec, w->new_len, w->st.version);
		else
			rc = zkc_multi_create(m, w->rpath, w->new_rec, w->new_len, ZKC_PERSISTENT, NULL);
	}
	for (fi = 0; rc == ZKC_OK && fi < w->ix->nf; fi++)
		rc = add_entry_ops(m, w->kinds, w->ix, fi, &w->ovals[fi], &w->nvals[fi], w->id,
		                   w->id_len, w->eid, &w->touched);
	if (rc == ZKC_OK)
		rc = zkc_multi_commit(res, w->ix->zk, m);
	zkc_multi_free(m);
	return rc;
}

/* ZKC_INDEX_WAIT: waits until this handle's caches show the write. */
static int wr_wait(wr_t *w, const zkc_multi_results_t *res)
{
	char *bdir = strdup(w->rpath);
	int64_t zxid = 0;
	zkc_stat_t s2;
	int rc;

	if (w->new_rec && w->exists && res && res->count > 0)
		zxid = res->results[0].stat.mzxid;
	/* a delete: the record's bucket saw it */
	if (bdir)
		*strrchr(bdir, '/') = 0;
	if (!zxid && bdir && zkc_exists(&s2, w->ix->zk, bdir) == ZKC_OK)
		zxid = s2.pzxid;
	free(bdir);
	if (w->new_rec && !w->exists && zkc_exists(&s2, w->ix->zk, w->rpath) == ZKC_OK &&
	    s2.czxid > zxid)
		zxid = s2.czxid;
	rc = zxid ? wait_seen(w->ix, zxid, w->touched) : ZKC_OK;
	if (rc != ZKC_OK)
		w->why = "written, but not yet seen by this handle's cache";
	return rc;
}

/* A transaction that failed: AGAIN when the record changed under us
 * (another writer), else the write's answer. */
static int wr_failed(wr_t *w, int rc, const zkc_multi_results_t *res)
{
	int k = failed_op(res);

	if (rc == ZKC_EUNKNOWN || k < 0)
		return rc;
	if (k > 0)
		return entry_failure(w->kinds[k], rc, &w->why);
	if (!w->exists && rc == ZKC_ENONODE) {
		w->why = "the collection is gone";  /* the records directory is gone */
		return rc;
	}
	return rc == ZKC_EBADVERSION || rc == ZKC_ENONODE || rc == ZKC_ENODEEXISTS ? AGAIN : rc;
}

/* One attempt: read, then the transaction. */
static int wr_attempt(wr_t *w)
{
	zkc_multi_results_t *res = NULL;
	char *old = NULL;
	size_t olen = 0;
	int rc = wr_read(w, &old, &olen);

	if (rc != ZKC_OK) {
		zkc_free(old);
		return rc;
	}
	rc = wr_commit(&res, w);
	zkc_free(old);
	if (rc == ZKC_OK)
		rc = (w->flags & ZKC_INDEX_WAIT) ? wr_wait(w, res) : ZKC_OK;
	else
		rc = wr_failed(w, rc, res);
	zkc_multi_results_free(res);
	return rc;
}

/* One read-modify-write of record id: new_rec NULL deletes it. */
static int write_record(zkc_index_t *ix, const void *id, size_t id_len, const unsigned char *new_rec,
                        size_t new_len, const zkcr_index_bytes_t *nvals, int flags)
{
	/* every request of the write ends by the handle's deadline */
	int64_t prev = zkcr_deadline_enter(zkcr_now_ms() + ix->timeout_ms);
	int64_t deadline = zkc_deadline_bound();
	zkcr_index_bytes_t none[ZKC_INDEX_MAX_FIELDS];
	wr_t w;
	int rc = ZKC_ENOMEM, attempt;

	memset(none, 0, sizeof(none));
	memset(&w, 0, sizeof(w));
	w.ix = ix;
	w.id = id;
	w.id_len = id_len;
	w.new_rec = new_rec;
	w.new_len = new_len;
	w.nvals = nvals ? nvals : none;
	w.flags = flags;
	w.eid = enc_str(id, id_len, 0);
	w.rpath = zkcr_index_bpath(ix->rdir, ix->nb, id, id_len, 0, NULL);
	w.ovals = calloc(ix->nf ? ix->nf : 1, sizeof(*w.ovals));
	for (attempt = 0; w.eid && w.rpath && w.ovals; attempt++) {
		if ((rc = wr_attempt(&w)) != AGAIN)
			break;
		if (zkcr_now_ms() >= deadline) {
			w.why = "other writers changed the record on every try until the deadline";
			rc = ZKC_ETIMEDOUT;
			break;
		}
		zkcr_backoff(attempt);
	}
	zkc_deadline_bind(prev);
	free(w.eid);
	free(w.rpath);
	free(w.ovals);
	/* about the user's key and collection, never the record's node */
	if (rc != ZKC_OK)
		rc = zkc_error_set(rc, "index %s: %s of key \"%s\": %s", ix->path, new_rec ? "put"
		                   : "delete", zkcr_index_key_text(id, id_len),
		                   w.why ? w.why : zkc_strerror(rc));
	return rc;
}

int zkc_index_put(zkc_index_t *ix, const void *id, size_t id_len, const void *data, size_t len,
                  const zkc_index_kv_t *fields, size_t nfields, int flags)
{
	zkcr_index_bytes_t nvals[ZKC_INDEX_MAX_FIELDS];
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
	if ((rc = zkcr_index_check_id(ix, id, id_len)) != ZKC_OK)
		return rc;
	if (len > ZKC_MAX_DATA_LEN)
		return zkc_error_set(ZKC_ETOOLARGE, "index %s: put of key \"%s\": data of %zu "
		                     "bytes is over the %d-byte limit", ix->path,
		                     zkcr_index_key_text(id, id_len), len, ZKC_MAX_DATA_LEN);
	if (zkc_on_event_thread(ix->zk))
		return zkc_error_set(ZKC_EDEADLK, "index %s: put from the client's event thread "
		                     "would wait on itself", ix->path);
	memset(nvals, 0, sizeof(nvals));
	for (i = 0; i < nfields; i++) {
		int fi;

		if (zkcr_index_check_field_name(fields[i].name) != ZKC_OK || (!fields[i].value && fields[i].len))
			return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: put of key \"%s\": "
			                     "field %zu: %s", ix->path, zkcr_index_key_text(id, id_len), i,
			                     !fields[i].name ? "name is NULL"
			                     : zkcr_index_check_field_name(fields[i].name) != ZKC_OK
			                     ? "name empty or too long" : "value is NULL");
		fi = zkcr_index_field_of(ix, fields[i].name, strlen(fields[i].name));
		if (fi < 0 || nvals[fi].present)
			return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: put of key \"%s\": "
			                     "field \"%s\" is %s", ix->path, zkcr_index_key_text(id, id_len),
			                     fields[i].name, fi < 0
			                     ? "not in the collection's schema"
			                     : "given twice");  /* unknown or repeated field */
		if (fields[i].len > ZKC_INDEX_MAX_VALUE)
			return zkc_error_set(ZKC_ETOOLARGE, "index %s: put of key \"%s\": value "
			                     "of field \"%s\" is over %d bytes", ix->path,
			                     zkcr_index_key_text(id, id_len), fields[i].name,
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
		                     zkcr_index_key_text(id, id_len), rlen, ZKC_MAX_DATA_LEN);
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
	if ((rc = zkcr_index_check_id(ix, id, id_len)) != ZKC_OK)
		return rc;
	if (zkc_on_event_thread(ix->zk))
		return zkc_error_set(ZKC_EDEADLK, "index %s: delete from the client's event "
		                     "thread would wait on itself", ix->path);
	return write_record(ix, id, id_len, NULL, 0, NULL, flags);
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
