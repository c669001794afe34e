/* tests/integration/test_cache_rec.h - an event recorder for the cache
 * tests: keeps every cache event (with data and stat) in order, and can
 * replay the node events onto an empty map. Header-only, static. */
#ifndef ZKC_TEST_CACHE_REC_H
#define ZKC_TEST_CACHE_REC_H

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "client.h"

typedef struct rec_ev {
	int type;
	char *path;
	zkc_stat_t stat;
	char *data;
	size_t len;
} rec_ev_t;

typedef struct rec {
	pthread_mutex_t mu;
	rec_ev_t *evs;
	size_t n, cap;
} rec_t;

static rec_t *rec_new(void)
{
	rec_t *r = calloc(1, sizeof(*r));

	pthread_mutex_init(&r->mu, NULL);
	return r;
}

static void rec_free(rec_t *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->evs[i].path);
		free(r->evs[i].data);
	}
	free(r->evs);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

/* zkc_cache_fn */
static void rec_event(zkc_cache_t *c, const zkc_cache_event_t *ev, void *payload)
{
	rec_t *r = payload;
	rec_ev_t *e;

	(void)c;
	pthread_mutex_lock(&r->mu);
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->evs = realloc(r->evs, r->cap * sizeof(*r->evs));
	}
	e = &r->evs[r->n++];
	memset(e, 0, sizeof(*e));
	e->type = ev->type;
	e->path = ev->path ? strdup(ev->path) : NULL;
	if (ev->stat)
		e->stat = *ev->stat;
	if (ev->data) {
		e->data = malloc(ev->len + 1);
		memcpy(e->data, ev->data, ev->len + 1);
		e->len = ev->len;
	}
	pthread_mutex_unlock(&r->mu);
}

static int rec_count(rec_t *r)
{
	int n;

	pthread_mutex_lock(&r->mu);
	n = (int)r->n;
	pthread_mutex_unlock(&r->mu);
	return n;
}

/* Index of the first event at or after `from` of this type and (when path
 * is not NULL) this path, or -1. */
static int rec_find(rec_t *r, int from, int type, const char *path)
{
	int i, found = -1;

	pthread_mutex_lock(&r->mu);
	for (i = from < 0 ? 0 : from; i < (int)r->n; i++) {
		if (r->evs[i].type == type &&
		    (!path || (r->evs[i].path && strcmp(r->evs[i].path, path) == 0))) {
			found = i;
			break;
		}
	}
	pthread_mutex_unlock(&r->mu);
	return found;
}

/* Copy of event i (caller frees path and data). */
static inline rec_ev_t rec_get(rec_t *r, int i)
{
	rec_ev_t e;

	pthread_mutex_lock(&r->mu);
	e = r->evs[i];
	e.path = e.path ? strdup(e.path) : NULL;
	if (e.data) {
		char *d = malloc(e.len + 1);

		memcpy(d, r->evs[i].data, e.len + 1);
		e.data = d;
	}
	pthread_mutex_unlock(&r->mu);
	return e;
}

/* A map path -> (data, czxid, mzxid): what a tree looks like. */
typedef struct tnode {
	UT_hash_handle hh;
	char *path;
	char *data;
	size_t len;
	int64_t czxid, mzxid;
} tnode_t;

static void tmap_put(tnode_t **m, const char *path, const char *data, size_t len, int64_t cz,
                     int64_t mz)
{
	tnode_t *t = NULL;

	HASH_FIND_STR(*m, path, t);
	if (!t) {
		t = calloc(1, sizeof(*t));
		t->path = strdup(path);
		HASH_ADD_KEYPTR(hh, *m, t->path, strlen(t->path), t);
	}
	free(t->data);
	t->data = malloc(len + 1);
	memcpy(t->data, data ? data : "", len);
	t->data[len] = '\0';
	t->len = len;
	t->czxid = cz;
	t->mzxid = mz;
}

static void tmap_del(tnode_t **m, const char *path)
{
	tnode_t *t = NULL;

	HASH_FIND_STR(*m, path, t);
	if (t) {
		HASH_DEL(*m, t);
		free(t->path);
		free(t->data);
		free(t);
	}
}

static void tmap_free(tnode_t **m)
{
	tnode_t *t, *tmp;

	HASH_ITER(hh, *m, t, tmp) {
		HASH_DEL(*m, t);
		free(t->path);
		free(t->data);
		free(t);
	}
}

/* Replays the recorded node events onto *m (which should start empty). */
static void rec_replay(rec_t *r, tnode_t **m)
{
	size_t i;

	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->n; i++) {
		rec_ev_t *e = &r->evs[i];

		if (e->type == ZKC_CACHE_ADDED || e->type == ZKC_CACHE_UPDATED)
			tmap_put(m, e->path, e->data, e->len, e->stat.czxid, e->stat.mzxid);
		else if (e->type == ZKC_CACHE_REMOVED)
			tmap_del(m, e->path);
	}
	pthread_mutex_unlock(&r->mu);
}

static int tmap_visit(const char *path, const char *data, size_t len, const zkc_stat_t *st,
                      void *payload)
{
	tmap_put(payload, path, data, len, st->czxid, st->mzxid);
	return 0;
}

/* The cache's content as a map. */
static void tmap_from_cache(tnode_t **m, zkc_cache_t *c)
{
	zkc_cache_foreach(c, NULL, tmap_visit, m);
}

/* The server's tree under path (to depth, -1 all) read by another client. */
static int tmap_from_server(tnode_t **m, zkc_t *zk, const char *path, int depth)
{
	zkc_strings_t *kids = NULL;
	zkc_stat_t st;
	char *data = NULL;
	size_t len = 0, i;
	int rc;

	rc = zkc_get(&data, &len, &st, zk, path);
	if (rc == ZKC_ENONODE)
		return ZKC_OK;
	if (rc != ZKC_OK)
		return rc;
	tmap_put(m, path, data, len, st.czxid, st.mzxid);
	zkc_free(data);
	if (depth == 0)
		return ZKC_OK;
	rc = zkc_children(&kids, NULL, zk, path);
	if (rc == ZKC_ENONODE)
		return ZKC_OK;
	if (rc != ZKC_OK)
		return rc;
	for (i = 0; i < kids->count && rc == ZKC_OK; i++) {
		char *cp = h_join(path, kids->items[i]);

		rc = tmap_from_server(m, zk, cp, depth < 0 ? -1 : depth - 1);
		free(cp);
	}
	zkc_strings_free(kids);
	return rc;
}

/* 0 when equal; else prints the first difference and returns -1. */
static int tmap_diff(tnode_t **a, tnode_t **b, const char *an, const char *bn)
{
	tnode_t *t, *u, *tmp;

	HASH_ITER(hh, *a, t, tmp) {
		u = NULL;
		HASH_FIND_STR(*b, t->path, u);
		if (!u) {
			print_message("# %s has %s, %s does not\n", an, t->path, bn);
			return -1;
		}
		if (t->czxid != u->czxid || t->mzxid != u->mzxid || t->len != u->len ||
		    memcmp(t->data, u->data, t->len) != 0) {
			print_message("# %s differs: %s czxid %lld/%lld mzxid %lld/%lld data '%s'/'%s'\n",
			              t->path, an, (long long)t->czxid, (long long)u->czxid,
			              (long long)t->mzxid, (long long)u->mzxid, t->data, u->data);
			return -1;
		}
	}
	if (HASH_COUNT(*a) != HASH_COUNT(*b)) {
		HASH_ITER(hh, *b, t, tmp) {
			u = NULL;
			HASH_FIND_STR(*a, t->path, u);
			if (!u) {
				print_message("# %s has %s, %s does not\n", bn, t->path, an);
				break;
			}
		}
		return -1;
	}
	return 0;
}

#endif
