/* bench/bench_cache.c - the `cache` scenario of bench/run: cache reads
 * against zkc_get (one thread, and 1, 2 and 4 reader threads at once),
 * memory per cached node, initial load of 10,000 nodes against a
 * sequential walk, and change propagation against a get round trip. Reads
 * ZKC_URL; one JSON object of metrics on stdout, commentary on stderr (see
 * bench/README.md). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zkc.h"

#define READS_CACHE 200000
#define READS_GET 2000
#define LOAD_NODES 10000
#define DATA_BYTES 32
#define PROP_SAMPLES 300
/* Reads timed in blocks: a clock read costs about as much as a cache read,
 * so a per-read figure is a block's time / BLOCK. */
#define BLOCK 100
#define BLOCKS 4000
#define MAX_READERS 4

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentile of n samples (ns), in microseconds. */
static double pct_us(int64_t *v, size_t n, double p)
{
	size_t i;

	qsort(v, n, sizeof(*v), cmp_i64);
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return (double)v[i] / 1000.0;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_cache: %s: %s (%s)\n", what, zkc_strcode(rc),
	        zkc_error_last()->message);
	exit(1);
}

#define CHECK(what, expr) do { int rc_ = (expr); if (rc_ != ZKC_OK) die(what, rc_); } while (0)

/* Creates n children under parent with DATA_BYTES of data, pipelined. */
static void fill(zkc_t *zk, const char *parent, int n)
{
	char path[256], data[DATA_BYTES];
	zkc_batch_t *b = NULL;
	int i;

	memset(data, 'd', sizeof(data));
	CHECK("batch", zkc_batch_new(&b));
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/n%05d", parent, i);
		zkc_batch_create(b, path, data, sizeof(data), NULL);
		if (zkc_batch_count(b) == 1000 || i == n - 1) {
			size_t k;

			CHECK("fill", zkc_batch_run(zk, b));
			for (k = 0; k < zkc_batch_count(b); k++)
				if (zkc_batch_code(b, k) != ZKC_OK)
					die("fill create", zkc_batch_code(b, k));
			zkc_batch_clear(b);
		}
	}
	zkc_batch_free(b);
}

/* ------------------------------------------------------------ reads */

typedef struct readers {
	zkc_cache_t *c;
	const char *node;
	int peek;                     /* pin + peek + unpin, else get with copy */
	pthread_barrier_t go;
	int64_t *blk[MAX_READERS];    /* ns per block of BLOCK reads */
} readers_t;

typedef struct reader_arg {
	readers_t *r;
	int i;
} reader_arg_t;

static void read_blocks(readers_t *r, int64_t *out, int blocks)
{
	int b, k;

	for (b = 0; b < blocks; b++) {
		int64_t a = now_ns();

		for (k = 0; k < BLOCK; k++) {
			if (r->peek) {
				const char *d;
				size_t len;
				zkc_stat_t st;

				zkc_cache_pin(r->c);
				if (zkc_cache_peek(&d, &len, &st, r->c, r->node) != ZKC_OK)
					die("peek", -1);
				zkc_cache_unpin(r->c);
			} else {
				char *o = NULL;
				size_t len;
				zkc_stat_t st;

				if (zkc_cache_get(&o, &len, &st, r->c, r->node) != ZKC_OK)
					die("cache get", -1);
				zkc_free(o);
			}
		}
		out[b] = now_ns() - a;
	}
}

static void *reader_main(void *p)
{
	reader_arg_t *a = p;

	pthread_barrier_wait(&a->r->go);
	read_blocks(a->r, a->r->blk[a->i], BLOCKS);
	return NULL;
}

/* n threads read at once; p50/p99 per read over all their blocks. */
static void read_threads(readers_t *r, int n, double *p50, double *p99)
{
	pthread_t t[MAX_READERS];
	reader_arg_t a[MAX_READERS];
	int64_t *all = calloc((size_t)n * BLOCKS, sizeof(int64_t));
	int i;

	pthread_barrier_init(&r->go, NULL, (unsigned)n);
	for (i = 0; i < n; i++) {
		a[i].r = r;
		a[i].i = i;
		pthread_create(&t[i], NULL, reader_main, &a[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		memcpy(all + (size_t)i * BLOCKS, r->blk[i], BLOCKS * sizeof(int64_t));
	}
	pthread_barrier_destroy(&r->go);
	*p50 = pct_us(all, (size_t)n * BLOCKS, 0.50) / BLOCK;
	*p99 = pct_us(all, (size_t)n * BLOCKS, 0.99) / BLOCK;
	free(all);
}

/* ------------------------------------------------------------ propagation */

/* The last UPDATED the cache reported and when: the event may come before
 * the writer's own reply, so it is always recorded. */
typedef struct prop {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int64_t mzxid;
	int64_t seen_ns;
} prop_t;

static void on_prop(zkc_cache_t *c, const zkc_cache_event_t *ev, void *payload)
{
	prop_t *p = payload;
	int64_t t = now_ns();

	(void)c;
	if (ev->type != ZKC_CACHE_UPDATED)
		return;
	pthread_mutex_lock(&p->mu);
	p->mzxid = ev->stat->mzxid;
	p->seen_ns = t;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

int main(void)
{
	static int64_t lat[READS_CACHE];
	zkc_cache_options_t o = ZKC_CACHE_OPTIONS_INIT;
	char root[128], node[160], load[160], prop_node[160], data[100];
	double c50, c99, p50peek, g50, g99, walk_ms, cache_ms, tree_ms, mem_per_node, mem_all;
	double path_avg, timer_us, b50, b99, bp50, bp99;
	double t50[MAX_READERS + 1], t99[MAX_READERS + 1], tp50[MAX_READERS + 1];
	readers_t rd;
	int nt;
	double prop50, prop99, prop_ack50, rtt50, w50;
	int64_t *ack = calloc(PROP_SAMPLES, sizeof(int64_t));
	int64_t *full = calloc(PROP_SAMPLES, sizeof(int64_t));
	int64_t *gets = calloc(PROP_SAMPLES, sizeof(int64_t));
	int64_t *writes = calloc(PROP_SAMPLES, sizeof(int64_t));
	struct mallinfo2 m0, m1;
	zkc_strings_t *kids = NULL;
	zkc_cache_t *c = NULL;
	zkc_t *zk = NULL, *wr = NULL;
	prop_t pr;
	size_t i, pathbytes = 0, nodes;
	int64_t t0;

	/* One arena, so mallinfo2 sees the cache's event-thread allocations. */
	mallopt(M_ARENA_MAX, 1);
	CHECK("open", zkc_open(&zk, NULL, NULL));
	CHECK("open writer", zkc_open(&wr, NULL, NULL));
	snprintf(root, sizeof(root), "/zkc_bench_cache_%d", (int)getpid());
	snprintf(node, sizeof(node), "%s/hot", root);
	snprintf(load, sizeof(load), "%s/load", root);
	snprintf(prop_node, sizeof(prop_node), "%s/prop", root);
	memset(data, 'x', sizeof(data));
	zkc_delete(zk, root, -1, ZKC_DELETE_RECURSIVE);
	CHECK("create root", zkc_create(NULL, NULL, zk, root, "", 0, NULL));
	CHECK("create hot", zkc_create(NULL, NULL, zk, node, data, sizeof(data), NULL));
	CHECK("create load", zkc_create(NULL, NULL, zk, load, "", 0, NULL));
	CHECK("create prop", zkc_create(NULL, NULL, zk, prop_node, "0", 1, NULL));

	/* 1. Reads: the cache (copy out, and a pinned peek) against zkc_get. */
	o.depth = 0;
	o.events = 0;
	CHECK("cache hot", zkc_cache_open(&c, zk, node, &o));
	CHECK("cache hot init", zkc_cache_wait_initialized(c, 30000));
	for (i = 0; i < READS_CACHE; i++) {
		char *out = NULL;
		size_t len;
		zkc_stat_t st;
		int64_t a = now_ns();

		if (zkc_cache_get(&out, &len, &st, c, node) != ZKC_OK)
			die("cache get", -1);
		lat[i] = now_ns() - a;
		zkc_free(out);
	}
	c50 = pct_us(lat, READS_CACHE, 0.50);
	c99 = pct_us(lat, READS_CACHE, 0.99);
	for (i = 0; i < READS_CACHE; i++) {
		const char *d;
		size_t len;
		int64_t a = now_ns();

		zkc_cache_pin(c);
		zkc_cache_peek(&d, &len, NULL, c, node);
		zkc_cache_unpin(c);
		lat[i] = now_ns() - a;
	}
	p50peek = pct_us(lat, READS_CACHE, 0.50);
	for (i = 0; i < READS_CACHE; i++) {
		int64_t a = now_ns();

		lat[i] = now_ns() - a;
	}
	timer_us = pct_us(lat, READS_CACHE, 0.50);
	/* Block-timed, on this thread, then 1, 2 and 4 threads at once. */
	memset(&rd, 0, sizeof(rd));
	rd.c = c;
	rd.node = node;
	for (nt = 0; nt < MAX_READERS; nt++)
		rd.blk[nt] = calloc(BLOCKS, sizeof(int64_t));
	read_blocks(&rd, rd.blk[0], BLOCKS);
	b50 = pct_us(rd.blk[0], BLOCKS, 0.50) / BLOCK;
	b99 = pct_us(rd.blk[0], BLOCKS, 0.99) / BLOCK;
	rd.peek = 1;
	read_blocks(&rd, rd.blk[0], BLOCKS);
	bp50 = pct_us(rd.blk[0], BLOCKS, 0.50) / BLOCK;
	bp99 = pct_us(rd.blk[0], BLOCKS, 0.99) / BLOCK;
	for (nt = 1; nt <= MAX_READERS; nt *= 2) {
		double x;

		rd.peek = 0;
		read_threads(&rd, nt, &t50[nt], &t99[nt]);
		rd.peek = 1;
		read_threads(&rd, nt, &tp50[nt], &x);
	}
	for (nt = 0; nt < MAX_READERS; nt++)
		free(rd.blk[nt]);
	fprintf(stderr, "reads per call (one clock read of %.3f us included): get p50 %.3f us, "
	        "pinned peek p50 %.3f us\n", timer_us, c50, p50peek);
	fprintf(stderr, "reads in blocks of %d (per read): get p50 %.4f us p99 %.4f us, pinned "
	        "peek p50 %.4f us p99 %.4f us\n", BLOCK, b50, b99, bp50, bp99);
	fprintf(stderr, "reader threads (per read, blocks of %d): 1: get p50 %.4f p99 %.4f peek "
	        "p50 %.4f; 2: get p50 %.4f p99 %.4f peek p50 %.4f; 4: get p50 %.4f p99 %.4f "
	        "peek p50 %.4f us\n", BLOCK, t50[1], t99[1], tp50[1], t50[2], t99[2], tp50[2],
	        t50[4], t99[4], tp50[4]);
	zkc_cache_close(c);
	c = NULL;
	for (i = 0; i < READS_GET; i++) {
		char *out = NULL;
		size_t len;
		int64_t a = now_ns();

		CHECK("get", zkc_get(&out, &len, NULL, zk, node));
		lat[i] = now_ns() - a;
		zkc_free(out);
	}
	g50 = pct_us(lat, READS_GET, 0.50);
	g99 = pct_us(lat, READS_GET, 0.99);
	fprintf(stderr, "reads: cache get p50 %.3f us p99 %.3f us (pinned peek p50 %.3f us); "
	        "zkc_get p50 %.1f us p99 %.1f us; ratio %.0fx\n", c50, c99, p50peek, g50, g99,
	        g50 / c50);

	/* 2. Initial load of 10,000 nodes: a sequential walk, then the cache
	 * (measured with mallinfo2 for memory). */
	fill(zk, load, LOAD_NODES);
	t0 = now_ns();
	CHECK("children", zkc_children(&kids, NULL, zk, load));
	for (i = 0; i < kids->count; i++) {
		char p[200], *out = NULL;

		snprintf(p, sizeof(p), "%s/%s", load, kids->items[i]);
		CHECK("walk get", zkc_get(&out, NULL, NULL, zk, p));
		zkc_free(out);
		pathbytes += strlen(p) + 1;
	}
	walk_ms = (double)(now_ns() - t0) / 1e6;
	zkc_strings_free(kids);

	/* A children cache (depth 1) reads what the walk reads: one get per
	 * node, pipelined. A tree cache also lists (and watches) each node's
	 * children: two requests per node. */
	o = (zkc_cache_options_t)ZKC_CACHE_OPTIONS_INIT;
	o.events = 0;
	o.depth = 1;
	m0 = mallinfo2();
	t0 = now_ns();
	CHECK("cache load", zkc_cache_open(&c, zk, load, &o));
	CHECK("cache load init", zkc_cache_wait_initialized(c, 120000));
	cache_ms = (double)(now_ns() - t0) / 1e6;
	m1 = mallinfo2();
	nodes = zkc_cache_count(c);
	if (nodes != LOAD_NODES + 1)
		die("cache load count", -1);
	mem_per_node = ((double)zkc_cache_memory(c) - (double)zkc_cache_bytes(c)) / (double)nodes;
	mem_all = ((double)m1.uordblks - (double)m0.uordblks - (double)zkc_cache_bytes(c)) /
	          (double)nodes;
	path_avg = (double)pathbytes / LOAD_NODES;
	zkc_cache_close(c);
	c = NULL;
	o.depth = ZKC_CACHE_DEPTH_ALL;
	t0 = now_ns();
	CHECK("cache tree load", zkc_cache_open(&c, zk, load, &o));
	CHECK("cache tree load init", zkc_cache_wait_initialized(c, 120000));
	tree_ms = (double)(now_ns() - t0) / 1e6;
	zkc_cache_close(c);
	c = NULL;
	fprintf(stderr, "load %d nodes: children cache %.1f ms, tree cache %.1f ms, sequential "
	        "walk %.1f ms: %.1fx (tree %.1fx)\n", LOAD_NODES, cache_ms, tree_ms, walk_ms,
	        walk_ms / cache_ms, walk_ms / tree_ms);
	fprintf(stderr, "memory per node beyond its %d data bytes (path %.0f bytes incl. NUL): "
	        "%.0f bytes held by the cache (its own accounting: malloc_usable_size + chunk "
	        "header + hash buckets); %.0f bytes with the client's watch bookkeeping "
	        "(mallinfo2 uordblks delta, one arena)\n", DATA_BYTES, path_avg, mem_per_node,
	        mem_all);

	/* 3. Propagation: another client's write to the cache's UPDATED
	 * event, against a get round trip measured in the same loop. */
	pthread_mutex_init(&pr.mu, NULL);
	pthread_cond_init(&pr.cv, NULL);
	pr.mzxid = 0;
	pr.seen_ns = 0;
	o = (zkc_cache_options_t)ZKC_CACHE_OPTIONS_INIT;
	o.depth = 0;
	o.event_fn = on_prop;
	o.event_payload = &pr;
	CHECK("cache prop", zkc_cache_open(&c, zk, prop_node, &o));
	CHECK("cache prop init", zkc_cache_wait_initialized(c, 30000));
	for (i = 0; i < PROP_SAMPLES; i++) {
		zkc_stat_t st;
		char buf[32];
		int64_t a, b;
		int n = snprintf(buf, sizeof(buf), "%zu", i);

		a = now_ns();
		CHECK("set", zkc_set(&st, wr, prop_node, buf, (size_t)n, -1));
		b = now_ns();
		pthread_mutex_lock(&pr.mu);
		while (pr.mzxid < st.mzxid) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 10;
			if (pthread_cond_timedwait(&pr.cv, &pr.mu, &ts) != 0)
				die("propagation timed out", -1);
		}
		full[i] = pr.seen_ns - a;
		ack[i] = pr.seen_ns - b;
		writes[i] = b - a;
		pthread_mutex_unlock(&pr.mu);
		a = now_ns();
		CHECK("get", zkc_get(NULL, NULL, NULL, wr, prop_node));
		gets[i] = now_ns() - a;
	}
	zkc_cache_close(c);
	prop50 = pct_us(full, PROP_SAMPLES, 0.50);
	prop99 = pct_us(full, PROP_SAMPLES, 0.99);
	prop_ack50 = pct_us(ack, PROP_SAMPLES, 0.50);
	rtt50 = pct_us(gets, PROP_SAMPLES, 0.50);
	w50 = pct_us(writes, PROP_SAMPLES, 0.50);
	fprintf(stderr, "propagation: write ack -> cache event p50 %.1f us (%.2fx a get round "
	        "trip of %.1f us); write start -> event p50 %.1f us p99 %.1f us (write %.1f us)\n",
	        prop_ack50, prop_ack50 / rtt50, rtt50, prop50, prop99, w50);

	zkc_delete(zk, root, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(wr);
	zkc_close(zk);

	printf("{\"read_cache_p50_us\": %.3f, \"read_cache_p99_us\": %.3f, "
	       "\"read_peek_p50_us\": %.3f, \"read_get_p50_us\": %.1f, \"read_get_p99_us\": %.1f, "
	       "\"read_ratio_vs_get\": %.0f, \"mem_per_node_bytes\": %.0f, "
	       "\"mem_per_node_with_watches_bytes\": %.0f, "
	       "\"mem_path_bytes\": %.0f, \"load_nodes\": %d, \"load_cache_ms\": %.1f, "
	       "\"load_tree_cache_ms\": %.1f, "
	       "\"load_walk_ms\": %.1f, \"load_speedup_x\": %.1f, "
	       "\"prop_after_ack_p50_us\": %.1f, \"prop_get_rtt_p50_us\": %.1f, "
	       "\"prop_ratio_vs_get\": %.2f, \"prop_from_write_p50_us\": %.1f, "
	       "\"prop_from_write_p99_us\": %.1f, \"write_p50_us\": %.1f, "
	       "\"timer_p50_us\": %.3f, \"read_block_get_p50_us\": %.4f, "
	       "\"read_block_get_p99_us\": %.4f, \"read_block_peek_p50_us\": %.4f, "
	       "\"read_block_peek_p99_us\": %.4f, "
	       "\"read_t1_get_p50_us\": %.4f, \"read_t1_get_p99_us\": %.4f, "
	       "\"read_t1_peek_p50_us\": %.4f, "
	       "\"read_t2_get_p50_us\": %.4f, \"read_t2_get_p99_us\": %.4f, "
	       "\"read_t2_peek_p50_us\": %.4f, "
	       "\"read_t4_get_p50_us\": %.4f, \"read_t4_get_p99_us\": %.4f, "
	       "\"read_t4_peek_p50_us\": %.4f}\n",
	       c50, c99, p50peek, g50, g99, g50 / c50, mem_per_node, mem_all, path_avg, LOAD_NODES,
	       cache_ms, tree_ms, walk_ms, walk_ms / cache_ms, prop_ack50, rtt50, prop_ack50 / rtt50,
	       prop50, prop99, w50, timer_us, b50, b99, bp50, bp99, t50[1], t99[1], tp50[1],
	       t50[2], t99[2], tp50[2], t50[4], t99[4], tp50[4]);
	free(ack);
	free(full);
	free(gets);
	free(writes);
	return 0;
}
