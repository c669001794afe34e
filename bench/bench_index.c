/* bench/bench_index.c - the `index` scenario of bench/run: puts/s and
 * updates/s of zkc_index_put (one read, then record and entries in one
 * multi) beside the straightforward way (record, then each index entry,
 * one write after another), and lookups/s from the cache on one thread
 * (exact on a unique field, exact on a field with many hits, range scans)
 * beside the same lookup as a server read. Reads ZKC_URL; one JSON object on stdout,
 * commentary on stderr. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zkc.h"

#define PHASE_MS 2500
#define LOOKUP_MS 1500
#define COLORS 16

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_index: %s: %s (%s)\n", what, zkc_strcode(rc),
	        zkc_error_last()->message);
	exit(1);
}

static const zkc_index_field_t schema[] = { { "color", 0 }, { "email", ZKC_INDEX_UNIQUE } };

static int put_one(zkc_index_t *ix, long i, int color_shift)
{
	char id[32], color[16], email[40];
	zkc_index_kv_t kv[2];

	snprintf(id, sizeof(id), "user%06ld", i);
	snprintf(color, sizeof(color), "c%02ld", (i + color_shift) % COLORS);
	snprintf(email, sizeof(email), "user%06ld@example.com", i % 1000000);
	kv[0].name = "color";
	kv[0].value = color;
	kv[0].len = strlen(color);
	kv[1].name = "email";
	kv[1].value = email;
	kv[1].len = strlen(email);
	return zkc_index_put(ix, id, strlen(id), "a record's payload of some 40 bytes....", 40, kv, 2,
	                     0);
}

/* The straightforward layout of the same data, written one node at a time:
 * <root>/records/<id>, <root>/color/<value>+<id>, <root>/email/<value>. */
static int seq_put(zkc_t *zk, const char *root, long i)
{
	char p[512];
	int rc;

	snprintf(p, sizeof(p), "%s/records/user%06ld", root, i);
	rc = zkc_create(NULL, NULL, zk, p, "a record's payload of some 40 bytes....", 40, NULL);
	if (rc != ZKC_OK)
		return rc;
	snprintf(p, sizeof(p), "%s/color/c%02ld+user%06ld", root, i % COLORS, i);
	rc = zkc_create(NULL, NULL, zk, p, NULL, 0, NULL);
	if (rc != ZKC_OK)
		return rc;
	snprintf(p, sizeof(p), "%s/email/user%06ld@example.com", root, i);
	return zkc_create(NULL, NULL, zk, p, "x", 1, NULL);
}

/* Update of the color, straightforward: read, write the record, delete the
 * old entry, create the new one. */
static int seq_update(zkc_t *zk, const char *root, long i, int shift)
{
	char p[512];
	zkc_stat_t st;
	int rc;

	snprintf(p, sizeof(p), "%s/records/user%06ld", root, i);
	rc = zkc_get(NULL, NULL, &st, zk, p);
	if (rc == ZKC_OK)
		rc = zkc_set(NULL, zk, p, "a record's payload of some 40 bytes....", 40, st.version);
	if (rc != ZKC_OK)
		return rc;
	snprintf(p, sizeof(p), "%s/color/c%02ld+user%06ld", root, (i + shift - 1) % COLORS, i);
	rc = zkc_delete(zk, p, -1, 0);
	if (rc != ZKC_OK)
		return rc;
	snprintf(p, sizeof(p), "%s/color/c%02ld+user%06ld", root, (i + shift) % COLORS, i);
	return zkc_create(NULL, NULL, zk, p, NULL, 0, NULL);
}

int main(void)
{
	char root[256], coll[300], seqroot[300], p[400];
	zkc_index_options_t wo = ZKC_INDEX_OPTIONS_INIT;
	zkc_index_t *ix = NULL, *wx = NULL;
	zkc_t *zk = NULL;
	long n_cput, n_put = 0, n_seq = 0, n_upd = 0, n_supd = 0, i, lookups, hits;
	double t0, cput_s, put_s, seq_s, upd_s, supd_s, lu_s, lc_s, lr_s, get_s, lc_hits;
	char (*keys)[40];
	size_t keylen[1000];
	int rc;

	rc = zkc_open(&zk, NULL, NULL);
	if (rc != ZKC_OK)
		die("open", rc);
	snprintf(root, sizeof(root), "/zkc_bench_index_%d", (int)getpid());
	snprintf(coll, sizeof(coll), "%s/coll", root);
	snprintf(seqroot, sizeof(seqroot), "%s/seq", root);
	if ((rc = zkc_index_create(zk, coll, schema, 2)) != ZKC_OK)
		die("create", rc);
	/* the writer keeps no cache: a caching handle re-reads a field's
	 * entry list after each change (measured apart below) */
	wo.cache = 0;
	if ((rc = zkc_index_open(&wx, zk, coll, &wo)) != ZKC_OK)
		die("index open", rc);
	snprintf(p, sizeof(p), "%s/records", seqroot);
	{
		zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;

		co.flags = ZKC_CREATE_PARENTS;
		zkc_create(NULL, NULL, zk, p, NULL, 0, &co);
		snprintf(p, sizeof(p), "%s/color", seqroot);
		zkc_create(NULL, NULL, zk, p, NULL, 0, NULL);
		snprintf(p, sizeof(p), "%s/email", seqroot);
		zkc_create(NULL, NULL, zk, p, NULL, 0, NULL);
	}

	/* puts of new records, one thread */
	t0 = now_s();
	while (now_s() - t0 < PHASE_MS / 1000.0) {
		if ((rc = put_one(wx, n_put, 0)) != ZKC_OK)
			die("put", rc);
		n_put++;
	}
	put_s = n_put / (now_s() - t0);
	t0 = now_s();
	while (now_s() - t0 < PHASE_MS / 1000.0) {
		if ((rc = seq_put(zk, seqroot, n_seq)) != ZKC_OK)
			die("sequential put", rc);
		n_seq++;
	}
	seq_s = n_seq / (now_s() - t0);
	fprintf(stderr, "puts: %ld in %.1f s with zkc_index_put, %ld sequentially\n", n_put,
	        PHASE_MS / 1000.0, n_seq);

	/* updates that move a record to another color value */
	t0 = now_s();
	while (now_s() - t0 < PHASE_MS / 1000.0 && n_upd < n_put) {
		if ((rc = put_one(wx, n_upd, 1)) != ZKC_OK)
			die("update", rc);
		n_upd++;
	}
	upd_s = n_upd / (now_s() - t0);
	t0 = now_s();
	while (now_s() - t0 < PHASE_MS / 1000.0 && n_supd < n_seq) {
		if ((rc = seq_update(zk, seqroot, n_supd, 1)) != ZKC_OK)
			die("sequential update", rc);
		n_supd++;
	}
	supd_s = n_supd / (now_s() - t0);

	/* puts through a handle whose cache follows the collection, on the
	 * same client: the cache's re-reads share the session (measured last,
	 * so the phases above run without a cache) */
	if ((rc = zkc_index_open(&ix, zk, coll, NULL)) != ZKC_OK)
		die("index open", rc);
	n_cput = 0;
	t0 = now_s();
	while (now_s() - t0 < PHASE_MS / 1000.0) {
		if ((rc = put_one(ix, n_put + n_cput, 0)) != ZKC_OK)
			die("put", rc);
		n_cput++;
	}
	cput_s = n_cput / (now_s() - t0);
	n_put += n_cput;

	/* lookups from the cache, one thread */
	if ((rc = zkc_index_sync(ix, 30000)) != ZKC_OK)
		die("sync", rc);
	/* the keys are made before the clock starts: the lookups are timed */
	keys = calloc(1000, sizeof(*keys));
	if (!keys)
		die("keys", ZKC_ENOMEM);
	for (i = 0; i < 1000; i++)
		keylen[i] = (size_t)snprintf(keys[i], sizeof(keys[i]), "user%06ld@example.com",
		                             (i * 7919) % n_put);
	lookups = hits = 0;
	t0 = now_s();
	while (now_s() - t0 < LOOKUP_MS / 1000.0) {
		for (i = 0; i < 1000; i++) {
			zkc_index_hits_t *h = NULL;

			if ((rc = zkc_index_find(&h, ix, "email", keys[i], keylen[i], 0, 0)) != ZKC_OK)
				die("find", rc);
			hits += (long)h->count;
			zkc_index_hits_free(h);
		}
		lookups += 1000;
	}
	lu_s = lookups / (now_s() - t0);
	if (hits != lookups) {
		fprintf(stderr, "bench_index: %ld unique lookups found %ld records\n", lookups, hits);
		return 1;
	}
	/* exact lookups of a color: n_put / COLORS hits each */
	lookups = hits = 0;
	t0 = now_s();
	while (now_s() - t0 < LOOKUP_MS / 1000.0) {
		char color[16];
		zkc_index_hits_t *h = NULL;
		int len = snprintf(color, sizeof(color), "c%02ld", lookups % COLORS);

		if ((rc = zkc_index_find(&h, ix, "color", color, (size_t)len, 0, 0)) != ZKC_OK)
			die("find color", rc);
		hits += (long)h->count;
		zkc_index_hits_free(h);
		lookups++;
	}
	lc_s = lookups / (now_s() - t0);
	lc_hits = lookups ? (double)hits / (double)lookups : 0;
	fprintf(stderr, "color lookups: %.1f hits each\n", lc_hits);
	/* range scans of 10 emails */
	lookups = 0;
	t0 = now_s();
	while (now_s() - t0 < LOOKUP_MS / 1000.0) {
		char lo[40];
		zkc_index_hits_t *h = NULL;
		int len = snprintf(lo, sizeof(lo), "user%06ld", (lookups * 31) % n_put);

		if ((rc = zkc_index_range(&h, ix, "email", lo, (size_t)len, NULL, 0, 10, 0)) != ZKC_OK)
			die("range", rc);
		zkc_index_hits_free(h);
		lookups++;
	}
	lr_s = lookups / (now_s() - t0);
	/* the same unique lookups as a server read (one getChildren of the
	 * value's bucket) */
	lookups = 0;
	t0 = now_s();
	while (now_s() - t0 < LOOKUP_MS / 1000.0) {
		zkc_index_hits_t *h = NULL;

		rc = zkc_index_find(&h, ix, "email", keys[lookups % 1000], keylen[lookups % 1000], 0,
		                    ZKC_INDEX_SERVER);
		if (rc != ZKC_OK || h->count != 1)
			die("server find", rc);
		zkc_index_hits_free(h);
		lookups++;
	}
	get_s = lookups / (now_s() - t0);
	fprintf(stderr, "records: %ld (zkc), %ld (sequential)\n", n_put, n_seq);

	free(keys);
	zkc_index_close(ix);
	zkc_index_close(wx);
	if ((rc = zkc_delete(zk, root, -1, ZKC_DELETE_RECURSIVE)) != ZKC_OK)
		die("cleanup", rc);
	zkc_close(zk);
	printf("{\"put_per_s\": %.0f, \"put_sequential_per_s\": %.0f, \"put_speedup_x\": %.2f, \"put_with_cache_per_s\": %.0f, "
	       "\"update_per_s\": %.0f, \"update_sequential_per_s\": %.0f, "
	       "\"update_speedup_x\": %.2f, \"lookup_unique_cache_per_s\": %.0f, "
	       "\"lookup_unique_server_per_s\": %.0f, \"lookup_vs_get_x\": %.1f, "
	       "\"lookup_color_cache_per_s\": %.0f, \"lookup_color_hits\": %.1f, "
	       "\"range_10_cache_per_s\": %.0f, \"records\": %ld}\n",
	       put_s, seq_s, seq_s > 0 ? put_s / seq_s : 0, cput_s, upd_s, supd_s,
	       supd_s > 0 ? upd_s / supd_s : 0, lu_s, get_s, get_s > 0 ? lu_s / get_s : 0, lc_s,
	       lc_hits, lr_s, n_put);
	return 0;
}
