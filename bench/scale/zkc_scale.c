/* bench/scale/zkc_scale.c - how the cost of zkc's structures grows with
 * their size (`bench/run scale`, bench/scale/README.md): a tree cache, a
 * service router, an index and a queue, each at the size given. Prints one
 * JSON line of figures; commentary on stderr.
 *
 * usage: zkc_scale --url URL --what cache|router|index|queue --n N [--keep]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "zkc.h"

static const char *url, *what;
static long n;
static int keep;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void die(const char *where, int rc)
{
	fprintf(stderr, "zkc_scale %s: %s: %s (%s)\n", what, where, zkc_strcode(rc),
	        zkc_error_last()->message);
	exit(1);
}

#define CHECK(where, expr) do { int rc_ = (expr); if (rc_ != ZKC_OK) die(where, rc_); } while (0)

static zkc_t *open_client(void)
{
	zkc_t *zk = NULL;

	CHECK("open", zkc_open(&zk, url, NULL));
	CHECK("connect", zkc_wait_connected(zk, 60000));
	return zk;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Runs the batch and fails on any op's error. */
static void run_batch(zkc_t *zk, zkc_batch_t *b, const char *where)
{
	size_t i;

	CHECK(where, zkc_batch_run(zk, b));
	for (i = 0; i < zkc_batch_count(b); i++)
		if (zkc_batch_code(b, i) != ZKC_OK && zkc_batch_code(b, i) != ZKC_ENODEEXISTS)
			die(where, zkc_batch_code(b, i));
	zkc_batch_clear(b);
}

static void add(zkc_t *zk, zkc_batch_t *b, int rc, const char *where)
{
	if (rc < 0)
		die(where, rc);
	if (zkc_batch_count(b) >= 1000)
		run_batch(zk, b, where);
}

/* ------------------------------------------------------------ tree cache */

/* /scale-cache-N: 100 directories of N/100 nodes (32 bytes each). The tree
 * is left for the peers' load (bench/scale/run deletes it). */
/* Cache reads (zkc_cache_get, the copy freed) of nodes made by scale_cache:
 * ns per read, the best of 10 blocks of 200,000, first of one node again
 * and again, then of every node in turn in a scattered order (a stride
 * prime to the count). The same code runs both ways; what differs is how
 * much of the table and the nodes the reads touch. */
static double read_block(zkc_cache_t *c, char **paths, long count, long stride)
{
	double best = 0;
	int rep;

	for (rep = 0; rep < 10; rep++) {
		double t0 = now_s(), t;
		long k;

		for (k = 0; k < 200000; k++) {
			char *out = NULL;
			size_t len;

			CHECK("cache read", zkc_cache_get(&out, &len, NULL, c,
			                                  paths[(k * stride) % count]));
			zkc_free(out);
		}
		t = (now_s() - t0) * 1e9 / 200000;
		if (rep == 0 || t < best)
			best = t;
	}
	return best;
}

static void read_ns(zkc_cache_t *c, const char *root, long count, double *one, double *every)
{
	char **paths = calloc((size_t)count, sizeof(*paths));
	long i, stride = 7919;

	if (!paths) {
		fprintf(stderr, "zkc_scale: out of memory\n");
		exit(1);
	}
	for (i = 0; i < count; i++) {
		char p[128];

		snprintf(p, sizeof(p), "%s/d%03ld/n%06ld", root, i % 100, i / 100);
		paths[i] = strdup(p);
		if (!paths[i]) {
			fprintf(stderr, "zkc_scale: out of memory\n");
			exit(1);
		}
	}
	while (count % stride == 0)
		stride += 2;
	*one = read_block(c, paths, 1, 0);
	*every = read_block(c, paths, count, stride);
	for (i = 0; i < count; i++)
		free(paths[i]);
	free(paths);
}

static void scale_cache(void)
{
	zkc_t *zk = open_client();
	zkc_batch_t *b = NULL;
	zkc_cache_options_t o = ZKC_CACHE_OPTIONS_INIT;
	zkc_cache_t *c = NULL;
	struct mallinfo2 m0, m1;
	char root[64], p[128];
	static const char data[32];
	double t0, load_ms, hot_ns, spread_ns;
	size_t nodes;
	long i, dirs = 100, per = n / 100;

	snprintf(root, sizeof(root), "/scale-cache-%ld", n);
	CHECK("batch", zkc_batch_new(&b));
	t0 = now_s();
	add(zk, b, zkc_batch_create(b, root, NULL, 0, NULL), "create root");
	for (i = 0; i < dirs; i++) {
		snprintf(p, sizeof(p), "%s/d%03ld", root, i);
		add(zk, b, zkc_batch_create(b, p, NULL, 0, NULL), "create dir");
	}
	run_batch(zk, b, "create dirs");
	for (i = 0; i < dirs * per; i++) {
		snprintf(p, sizeof(p), "%s/d%03ld/n%06ld", root, i % dirs, i / dirs);
		add(zk, b, zkc_batch_create(b, p, data, sizeof(data), NULL), "create node");
	}
	run_batch(zk, b, "create nodes");
	fprintf(stderr, "cache %ld: tree made in %.1f s\n", n, now_s() - t0);

	o.events = 0;
	m0 = mallinfo2();
	t0 = now_s();
	CHECK("cache open", zkc_cache_open(&c, zk, root, &o));
	CHECK("cache load", zkc_cache_wait_initialized(c, 600000));
	load_ms = (now_s() - t0) * 1e3;
	m1 = mallinfo2();
	nodes = zkc_cache_count(c);
	read_ns(c, root, dirs * per, &hot_ns, &spread_ns);
	printf("{\"what\": \"cache\", \"n\": %ld, \"nodes\": %zu, \"load_ms\": %.1f, "
	       "\"cache_bytes_per_node\": %.1f, \"bytes_per_node_with_watches\": %.1f, "
	       "\"data_bytes_per_node\": %.1f, \"read_one_node_ns\": %.1f, "
	       "\"read_every_node_ns\": %.1f}\n",
	       n, nodes, load_ms,
	       ((double)zkc_cache_memory(c) - (double)zkc_cache_bytes(c)) / (double)nodes,
	       ((double)m1.uordblks - (double)m0.uordblks - (double)zkc_cache_bytes(c)) / (double)nodes,
	       (double)zkc_cache_bytes(c) / (double)nodes, hot_ns, spread_ns);
	zkc_cache_close(c);
	zkc_batch_free(b);
	if (!keep)
		zkc_delete(zk, root, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
}

/* ------------------------------------------------------------ copy */

/* The straightforward copy `zkc cp` is measured against: one request after
 * another (children, get, create), depth first. */
static long seq_copy(zkc_t *zk, const char *src, const char *dst)
{
	zkc_strings_t *kids = NULL;
	char *data = NULL;
	size_t len = 0, i;
	long copied = 1;

	CHECK("get", zkc_get(&data, &len, NULL, zk, src));
	CHECK("create", zkc_create(NULL, NULL, zk, dst, data, len, NULL));
	zkc_free(data);
	CHECK("children", zkc_children(&kids, NULL, zk, src));
	for (i = 0; i < kids->count; i++) {
		char s2[512], d2[512];

		snprintf(s2, sizeof(s2), "%s/%s", src, kids->items[i]);
		snprintf(d2, sizeof(d2), "%s/%s", dst, kids->items[i]);
		copied += seq_copy(zk, s2, d2);
	}
	zkc_strings_free(kids);
	return copied;
}

/* Copies /scale-cache-N (made by `--what cache --keep`) one request at a
 * time and reports the time. */
static void scale_seqcopy(void)
{
	zkc_t *zk = open_client();
	char src[64], dst[64];
	double t0;
	long nodes;

	snprintf(src, sizeof(src), "/scale-cache-%ld", n);
	snprintf(dst, sizeof(dst), "/scale-seqcopy-%ld", n);
	zkc_delete(zk, dst, -1, ZKC_DELETE_RECURSIVE);
	t0 = now_s();
	nodes = seq_copy(zk, src, dst);
	printf("{\"what\": \"seqcopy\", \"n\": %ld, \"nodes\": %ld, \"copy_s\": %.2f}\n",
	       n, nodes, now_s() - t0);
	zkc_delete(zk, dst, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
}

/* ------------------------------------------------------------ router */

static void instance_node(zkc_batch_t *b, const char *svc, long i, int weight, int set)
{
	zkc_service_instance_t in = ZKC_SERVICE_INSTANCE_INIT;
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	char id[32], addr[32], p[128], *data = NULL;
	size_t len = 0;
	int rc;

	snprintf(id, sizeof(id), "i%06ld", i);
	snprintf(addr, sizeof(addr), "10.%ld.%ld.%ld", (i >> 16) & 255, (i >> 8) & 255, i & 255);
	in.id = id;
	in.address = addr;
	in.port = 8080;
	in.weight = weight;
	CHECK("encode", zkc_service_encode(&data, &len, "scale", &in));
	snprintf(p, sizeof(p), "%s/%s", svc, id);
	co.mode = ZKC_EPHEMERAL;
	rc = set ? zkc_batch_set(b, p, data, len, -1) : zkc_batch_create(b, p, data, len, &co);
	zkc_free(data);
	if (rc < 0)
		die("instance op", rc);
}

/* N instances registered (ephemeral nodes in the registry's own format,
 * made by one session in batches), then: decisions/s, and what one change
 * costs: from a changed instance's set reply to the router's new
 * generation, and the process CPU per change (the rebuild runs on zkc's
 * event thread). */
static void scale_router(void)
{
	zkc_t *zk = open_client(), *rz = open_client();
	zkc_service_router_t *r = NULL;
	zkc_batch_t *b = NULL;
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	char svc[64];
	double t0, decisions, lat[40], cpu0, cpu_change;
	long i, k = 0;
	int changes = 40;

	snprintf(svc, sizeof(svc), "/scale-router-%ld", n);
	co.flags = ZKC_CREATE_PARENTS;
	zkc_delete(zk, svc, -1, ZKC_DELETE_RECURSIVE);
	CHECK("create service", zkc_create(NULL, NULL, zk, svc, NULL, 0, &co));
	CHECK("batch", zkc_batch_new(&b));
	for (i = 0; i < n; i++) {
		instance_node(b, svc, i, 1, 0);
		if (zkc_batch_count(b) >= 1000)
			run_batch(zk, b, "register");
	}
	if (zkc_batch_count(b))
		run_batch(zk, b, "register");
	CHECK("router open", zkc_service_router_open(&r, rz, svc, NULL));
	t0 = now_s();
	while (zkc_service_router_count(r) != (size_t)n) {
		if (now_s() - t0 > 300)
			die("router count", ZKC_ETIMEDOUT);
		usleep(1000);
	}
	/* decisions */
	t0 = now_s();
	do {
		for (i = 0; i < 1000; i++, k++) {
			zkc_service_endpoint_t ep;
			char key[32];

			snprintf(key, sizeof(key), "key-%ld", k);
			CHECK("route", zkc_service_route(&ep, r, key, strlen(key)));
		}
	} while (now_s() - t0 < 1.0);
	decisions = (double)k / (now_s() - t0);
	/* changes: flip one instance's weight */
	cpu0 = cpu_s();
	for (i = 0; i < changes; i++) {
		uint64_t gen = zkc_service_router_generation(r);
		double a;

		instance_node(b, svc, i % n, (int)(i % 2) + 2, 1);
		run_batch(zk, b, "change");
		a = now_s();
		while (zkc_service_router_generation(r) == gen) {
			if (now_s() - a > 60)
				die("router change", ZKC_ETIMEDOUT);
			usleep(20);   /* polls cost little next to a rebuild */
		}
		lat[i] = now_s() - a;
	}
	cpu_change = cpu_s() - cpu0;
	qsort(lat, (size_t)changes, sizeof(double), cmp_double);
	printf("{\"what\": \"router\", \"n\": %ld, \"decisions_per_s\": %.0f, "
	       "\"change_to_route_p50_us\": %.1f, \"change_cpu_us\": %.1f}\n",
	       n, decisions, lat[changes / 2] * 1e6,
	       cpu_change / changes * 1e6);
	zkc_service_router_close(r);
	zkc_batch_free(b);
	zkc_delete(zk, svc, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(rz);
	zkc_close(zk);
}

/* ------------------------------------------------------------ index */

#define INDEX_THREADS 8

struct index_worker {
	zkc_t *zk;
	const char *path;
	long from, to;
};

static void *index_put_worker(void *arg)
{
	struct index_worker *w = arg;
	zkc_index_t *ix = NULL;
	long i;

	CHECK("index open", zkc_index_open(&ix, w->zk, w->path, NULL));
	for (i = w->from; i < w->to; i++) {
		char id[32], email[64];
		zkc_index_kv_t kv = { "email", email, 0 };

		snprintf(id, sizeof(id), "u%07ld", i);
		kv.len = (size_t)snprintf(email, sizeof(email), "user%ld@example.org", i);
		CHECK("put", zkc_index_put(ix, id, strlen(id), "{}", 2, &kv, 1, 0));
	}
	zkc_index_close(ix);
	return NULL;
}

/* N records with one unique indexed field, put by INDEX_THREADS clients
 * (each put is one transaction: record + entry); then, from a handle's
 * cache, lookups by id and by field value on one thread. */
static void scale_index(void)
{
	zkc_t *zk = open_client();
	zkc_index_field_t field = { "email", ZKC_INDEX_UNIQUE };
	struct index_worker w[INDEX_THREADS];
	pthread_t th[INDEX_THREADS];
	zkc_index_t *ix = NULL;
	char path[64];
	double t0, put_s, get_rate, find_rate;
	long i, k;

	snprintf(path, sizeof(path), "/scale-index-%ld", n);
	zkc_index_drop(zk, path);
	CHECK("index create", zkc_index_create(zk, path, &field, 1));
	t0 = now_s();
	for (i = 0; i < INDEX_THREADS; i++) {
		w[i].zk = open_client();
		w[i].path = path;
		w[i].from = n * i / INDEX_THREADS;
		w[i].to = n * (i + 1) / INDEX_THREADS;
		pthread_create(&th[i], NULL, index_put_worker, &w[i]);
	}
	for (i = 0; i < INDEX_THREADS; i++) {
		pthread_join(th[i], NULL);
		zkc_close(w[i].zk);
	}
	put_s = now_s() - t0;
	fprintf(stderr, "index %ld: %ld puts in %.1f s\n", n, n, put_s);

	t0 = now_s();
	{
		zkc_index_options_t io = ZKC_INDEX_OPTIONS_INIT;

		io.cache_records = 1;   /* gets from the cache too */
		CHECK("index open", zkc_index_open(&ix, zk, path, &io));
	}
	CHECK("index sync", zkc_index_sync(ix, 600000));
	fprintf(stderr, "index %ld: handle loaded in %.1f s\n", n, now_s() - t0);
	k = 0;
	t0 = now_s();
	do {
		for (i = 0; i < 1000; i++, k++) {
			zkc_index_record_t *rec = NULL;
			char id[32];

			snprintf(id, sizeof(id), "u%07ld", (k * 7919) % n);
			CHECK("get", zkc_index_get(&rec, ix, id, strlen(id), 0));
			zkc_index_record_free(rec);
		}
	} while (now_s() - t0 < 1.0);
	get_rate = (double)k / (now_s() - t0);
	k = 0;
	t0 = now_s();
	do {
		for (i = 0; i < 1000; i++, k++) {
			zkc_index_hits_t *hits = NULL;
			char email[64];
			int len = snprintf(email, sizeof(email), "user%ld@example.org", (k * 7919) % n);

			CHECK("find", zkc_index_find(&hits, ix, "email", email, (size_t)len, 1, 0));
			zkc_index_hits_free(hits);
		}
	} while (now_s() - t0 < 1.0);
	find_rate = (double)k / (now_s() - t0);
	printf("{\"what\": \"index\", \"n\": %ld, \"put_per_s\": %.0f, \"get_per_s\": %.0f, "
	       "\"find_per_s\": %.0f}\n", n, (double)n / put_s, get_rate, find_rate);
	zkc_index_close(ix);
	if (!keep)
		zkc_index_drop(zk, path);
	zkc_close(zk);
}

/* ------------------------------------------------------------ queue */

/* N items of 16 bytes put in transactions of 1,000; the size read; 10,000
 * items taken (exactly-once); the size again. */
static void scale_queue(void)
{
	zkc_t *zk = open_client();
	zkc_queue_options_t o = ZKC_QUEUE_OPTIONS_INIT;
	zkc_queue_t *q = NULL;
	enum { BATCH = 1000, TAKES = 10000 };
	zkc_queue_put_item_t put[BATCH];
	size_t size = 0, taken = 0;
	char items[BATCH][16];
	char path[64];
	double t0, put_s, size_ms, take_s, size2_ms;
	long i;

	snprintf(path, sizeof(path), "/scale-queue-%ld", n);
	zkc_delete(zk, path, -1, ZKC_DELETE_RECURSIVE);
	o.flags = ZKC_QUEUE_CREATE;
	CHECK("queue open", zkc_queue_open(&q, zk, path, &o));
	for (i = 0; i < BATCH; i++) {
		memset(items[i], 'q', sizeof(items[i]));
		put[i].data = items[i];
		put[i].len = sizeof(items[i]);
		put[i].priority = ZKC_QUEUE_PRIORITY_DEFAULT;
	}
	t0 = now_s();
	for (i = 0; i < n; i += BATCH) {
		size_t m = (size_t)(n - i < BATCH ? n - i : BATCH);

		CHECK("put many", zkc_queue_put_many(q, put, m));
	}
	put_s = now_s() - t0;
	fprintf(stderr, "queue %ld: put in %.1f s\n", n, put_s);
	t0 = now_s();
	CHECK("size", zkc_queue_size(&size, &taken, q));
	size_ms = (now_s() - t0) * 1e3;
	if (size != (size_t)n)
		fprintf(stderr, "queue %ld: size says %zu\n", n, size);
	t0 = now_s();
	for (i = 0; i < TAKES && i < n; i++) {
		zkc_queue_item_t *item = NULL;

		CHECK("take", zkc_queue_take(&item, q, ZKC_QUEUE_TAKE_DELETE, 60000));
		zkc_queue_item_free(item);
	}
	take_s = now_s() - t0;
	t0 = now_s();
	CHECK("size", zkc_queue_size(&size, &taken, q));
	size2_ms = (now_s() - t0) * 1e3;
	printf("{\"what\": \"queue\", \"n\": %ld, \"put_per_s\": %.0f, \"size_ms\": %.1f, "
	       "\"take_per_s\": %.0f, \"size_after_takes_ms\": %.1f, \"size_after_takes\": %zu}\n",
	       n, (double)n / put_s, size_ms, (double)i / take_s, size2_ms, size);
	zkc_queue_close(q);
	if (!keep)
		zkc_delete(zk, path, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
}

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--url") && i + 1 < argc) url = argv[++i];
		else if (!strcmp(argv[i], "--what") && i + 1 < argc) what = argv[++i];
		else if (!strcmp(argv[i], "--n") && i + 1 < argc) n = atol(argv[++i]);
		else if (!strcmp(argv[i], "--keep")) keep = 1;
		else break;
	}
	if (i != argc || !url || !what || n < 1 || (!strcmp(what, "cache") && n < 100)) {
		fprintf(stderr, "usage: zkc_scale --url URL --what cache|router|index|queue|seqcopy "
		        "--n N (>= 1; cache: >= 100) [--keep]\n");
		return 2;
	}
	/* one arena, so mallinfo2 sees the event thread's allocations too */
	mallopt(M_ARENA_MAX, 1);
	if (!strcmp(what, "cache"))
		scale_cache();
	else if (!strcmp(what, "router"))
		scale_router();
	else if (!strcmp(what, "index"))
		scale_index();
	else if (!strcmp(what, "queue"))
		scale_queue();
	else if (!strcmp(what, "seqcopy"))
		scale_seqcopy();
	else
		return 2;
	return 0;
}
