/* recipes/index_read.c - the index recipe's reads: a record by key, and
 * lookups by field value, prefix or range, from the handle's cached index
 * entries or, when asked, from the server's bucketed directories. Public
 * API only. Layout: docs/recipes/index.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zkc/batch.h"
#include "zkc/cache.h"
#include "zkc/index.h"
#include "zkc/multi.h"
#include "index_internal.h"
#include "index_key.h"
#include "support.h"

/* ------------------------------------------------------------ reads */

void zkc_index_record_free(zkc_index_record_t *rec)
{
	free(rec);   /* one allocation */
}

/* Builds a caller-owned record (one allocation) from node data. */
static int make_record(zkc_index_record_t **out, const zkc_index_t *ix, const void *id,
                       size_t id_len, const char *data, size_t len, int32_t version)
{
	zkcr_index_bytes_t vals[ZKC_INDEX_MAX_FIELDS];
	const unsigned char *pl;
	size_t pll, i, nf = 0, size;
	zkc_index_record_t *r;
	char *p;

	if (zkcr_index_record_values(vals, ix, data, len, &pl, &pll) != 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: the record of key \"%s\" is "
		                     "not a record (damaged data)", ix->path, zkcr_index_key_text(id, id_len));
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
	if ((rc = zkcr_index_check_id(ix, id, id_len)) != ZKC_OK)
		return rc;
	rpath = zkcr_index_bpath(ix->rdir, ix->nb, id, id_len, 0, NULL);
	if (!rpath)
		return zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", ix->path);
	if (ix->rcache && !(flags & ZKC_INDEX_SERVER))
		rc = zkc_cache_get(&data, &len, &st, ix->rcache, rpath);
	else
		rc = zkc_get(&data, &len, &st, ix->zk, rpath);
	free(rpath);
	if (rc != ZKC_OK)   /* about the key, not the record's node */
		rc = zkc_error_set(rc, "index %s: get of key \"%s\": %s", ix->path,
		                   zkcr_index_key_text(id, id_len), rc == ZKC_ENONODE
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
	size_t from = zkcr_index_lower_bound(names, n, q->lo, q->lo_len), to, i, size, k = 0;
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

char *zkcr_index_dup_bytes(const void *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		if (len)
			memcpy(s, p, len);
		s[len] = 0;
	}
	return s;
}

void zkcr_index_dlist_free(zkcr_index_dlist_t *d)
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
	const zkcr_index_ditem_t *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->path, y->path);
}

/* Appends node `name` of bucket k of dir to d. */
static int dlist_add(zkcr_index_dlist_t *d, const char *dir, unsigned k, const char *name)
{
	zkcr_index_ditem_t *it;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		zkcr_index_ditem_t *ni = realloc(d->it, cap * sizeof(*ni));

		if (!ni)
			return zkc_error_set(ZKC_ENOMEM, "index: out of memory");
		d->it = ni;
		d->cap = cap;
	}
	it = &d->it[d->n];
	memset(it, 0, sizeof(*it));
	it->name = strdup(name);
	if (asprintf(&it->path, "%s/%02x/%s", dir, k, name) < 0)
		it->path = NULL;
	d->n++;
	if (!it->name || !it->path)
		return zkc_error_set(ZKC_ENOMEM, "index: out of memory");
	return ZKC_OK;
}

/* Lists buckets first..last-1 of dir into d, in one batch. */
static int list_buckets(zkcr_index_dlist_t *d, zkc_batch_t *b, zkc_t *zk, const char *dir,
                        unsigned first, unsigned last)
{
	unsigned k;
	size_t i;
	int rc = ZKC_OK;

	for (k = first; rc == ZKC_OK && k < last; k++) {
		char p[ZKCR_INDEX_DIR_BUF];

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
		for (i = 0; rc == ZKC_OK && kids && i < kids->count; i++)
			rc = dlist_add(d, dir, k, kids->items[i]);
	}
	return rc;
}

/* Reads the data and version of d's items from `from` on, at most
 * ZKCR_INDEX_READ_CHUNK of them, in one batch. An item deleted meanwhile
 * gets version -2. */
static int read_chunk(zkcr_index_dlist_t *d, zkc_batch_t *b, zkc_t *zk, size_t from)
{
	size_t n = d->n - from < ZKCR_INDEX_READ_CHUNK ? d->n - from : ZKCR_INDEX_READ_CHUNK, j;
	int rc = ZKC_OK;

	zkc_batch_clear(b);
	for (j = 0; rc == ZKC_OK && j < n; j++)
		if (zkc_batch_get(b, d->it[from + j].path, 0, NULL, NULL) < 0)
			rc = zkc_error_set(ZKC_ENOMEM, "index: out of memory");
	if (rc == ZKC_OK)
		rc = zkc_batch_run(zk, b);
	for (j = 0; rc == ZKC_OK && j < n; j++) {
		zkcr_index_ditem_t *it = &d->it[from + j];
		int c = zkc_batch_code(b, j);
		zkc_stat_t st;
		const char *data;

		if (c == ZKC_ENONODE) {
			it->ver = -2;
			continue;
		}
		if (c != ZKC_OK)
			return c;
		data = zkc_batch_data(b, j, &it->len);
		zkc_batch_stat(&st, b, j);
		it->ver = st.version;
		if (!(it->data = zkcr_index_dup_bytes(data ? data : "", it->len)))
			rc = zkc_error_set(ZKC_ENOMEM, "index: out of memory");
	}
	return rc;
}

int zkcr_index_read_dir(zkcr_index_dlist_t *d, zkc_t *zk, const char *dir, unsigned nb, int only,
                        int with_data)
{
	unsigned first = only >= 0 ? (unsigned)only : 0, last = only >= 0 ? (unsigned)only + 1 : nb;
	zkc_batch_t *b = NULL;
	size_t i;
	int rc;

	memset(d, 0, sizeof(*d));
	if (zkc_batch_new(&b) != ZKC_OK)
		return zkc_error_set(ZKC_ENOMEM, "index: out of memory");
	rc = list_buckets(d, b, zk, dir, first, last);
	for (i = 0; rc == ZKC_OK && with_data && i < d->n; i += ZKCR_INDEX_READ_CHUNK)
		rc = read_chunk(d, b, zk, i);
	zkc_batch_free(b);
	if (rc != ZKC_OK) {
		zkcr_index_dlist_free(d);
		return rc;
	}
	if (d->n)
		qsort(d->it, d->n, sizeof(*d->it), cmp_ditem);
	return ZKC_OK;
}

static int lookup(zkc_index_hits_t **out, zkc_index_t *ix, const char *field, sel_t *q,
                  int bucket, int flags)
{
	zkcr_index_dlist_t d;
	char **names;
	size_t i;
	int fi, rc;

	fi = zkcr_index_field_of(ix, field, strlen(field));
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
	rc = zkcr_index_read_dir(&d, ix->zk, ix->f[fi].idir, ix->nb, bucket, 0);
	if (rc != ZKC_OK)   /* about the field, not its entry nodes */
		return zkc_error_set(rc, "index %s: lookup on field \"%s\": %s", ix->path, field,
		                     rc == ZKC_ENONODE ? "the collection is gone"
		                     : zkc_strerror(rc));
	names = malloc((d.n + 1) * sizeof(*names));
	if (!names) {
		zkcr_index_dlist_free(&d);
		return zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", ix->path);
	}
	for (i = 0; i < d.n; i++)
		names[i] = d.it[i].name;
	rc = select_hits(out, names, d.n, q);
	free(names);
	zkcr_index_dlist_free(&d);
	return rc;
}

/* Common checks of the lookups. */
static int lookup_args(zkc_index_hits_t **out, zkc_index_t *ix, const char *field, int flags)
{
	zkc_error_clear();
	if (!out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index lookup: out is NULL");
	*out = NULL;
	if (!ix || zkcr_index_check_field_name(field) != ZKC_OK || (flags & ~ZKC_INDEX_SERVER))
		return zkc_error_set(ZKC_EBADARGUMENTS, "index %s: lookup: %s", ix ? ix->path
		                     : "(null)", !ix ? "index is NULL" : !field ? "field is NULL"
		                     : zkcr_index_check_field_name(field) != ZKC_OK
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
	return lookup(out, ix, field, &q, exact ? (int)zkcr_index_bucket_of(value, len, ix->nb) : -1, flags);
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
		char p[ZKCR_INDEX_DIR_BUF];

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

static int index_sync_bound(zkc_index_t *ix, int timeout_ms);

int zkc_index_sync(zkc_index_t *ix, int timeout_ms)
{
	int64_t prev;
	int rc;

	zkc_error_clear();
	if (!ix)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index sync: index is NULL");
	if (zkc_on_event_thread(ix->zk))
		return zkc_error_set(ZKC_EDEADLK, "index %s: sync from the client's event thread "
		                     "would wait on itself", ix->path);
	/* every request of the sync ends by its deadline (0: no wait) */
	prev = zkcr_deadline_enter_timeout(timeout_ms);
	rc = index_sync_bound(ix, timeout_ms);
	zkc_deadline_bind(prev);
	return rc;
}

static int index_sync_bound(zkc_index_t *ix, int timeout_ms)
{
	int64_t z = 0;
	size_t i;
	int rc;

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
