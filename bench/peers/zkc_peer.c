/* bench/peers/zkc_peer.c - zkc's side of `bench/run peers`: the same
 * scenarios, with the same arguments and the same JSON line, as the Curator,
 * kazoo and go-zookeeper programs beside it (bench/peers/README.md).
 *
 * usage: zkc_peer --connect HOST:PORT --scenario NAME [--clients N]
 *                 [--seconds S] [--warmup S] [--root PATH]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "zkc.h"

#define MAX_CLIENTS 64
#define MAX_WINDOWS 120
#define MAX_SAMPLES 2000000

static const char *connect_to;
static const char *scenario;
static int nclients = 1;
static double seconds = 3.0;
static double warmup = 1.0;
static char root[256];

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

static void die(const char *what, int rc)
{
	fprintf(stderr, "zkc_peer %s: %s: %s (%s)\n", scenario, what, zkc_strcode(rc),
	        zkc_error_last()->message);
	exit(1);
}

#define CHECK(what, expr) do { int rc_ = (expr); if (rc_ != ZKC_OK) die(what, rc_); } while (0)

static zkc_t *open_client(void)
{
	char url[512];
	zkc_t *zk = NULL;

	snprintf(url, sizeof(url), "zk://%s?session_timeout=10s", connect_to);
	CHECK("open", zkc_open(&zk, url, NULL));
	CHECK("connect", zkc_wait_connected(zk, 30000));
	return zk;
}

/* ------------------------------------------------------------ measurement */

/* Shared by the client threads: the measured interval is [t_start, t_end);
 * operations that finish in it count, per client and per 1 s window. */
static double t_start, t_end;
static long counts[MAX_CLIENTS][MAX_WINDOWS];
static double *samples;         /* latencies (s) of client 0, measured part */
static size_t nsamples;

static int record(int client, double t0, double t1)
{
	int w;

	if (t1 >= t_end)
		return 0;
	if (t1 < t_start)
		return 1;
	w = (int)(t1 - t_start);
	if (w >= 0 && w < MAX_WINDOWS)
		counts[client][w]++;
	if (client == 0 && samples && nsamples < MAX_SAMPLES)
		samples[nsamples++] = t1 - t0;
	return 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double p)
{
	size_t i;

	if (nsamples == 0)
		return -1e-6;   /* prints as -1: no sample */
	i = (size_t)(p * (double)(nsamples - 1));
	return samples[i];
}

/* One JSON line: rate over the measured interval, per-client totals, the
 * smallest per-client count in any full window, latency percentiles of
 * client 0, client CPU per operation. */
static void report(double cpu_used, const char *extra)
{
	long total = 0, per[MAX_CLIENTS] = {0}, min_window = -1;
	int windows = (int)seconds, c, w;

	for (c = 0; c < nclients; c++) {
		for (w = 0; w < MAX_WINDOWS; w++)
			per[c] += counts[c][w];
		for (w = 0; w < windows && w < MAX_WINDOWS; w++)
			if (min_window < 0 || counts[c][w] < min_window)
				min_window = counts[c][w];
		total += per[c];
	}
	qsort(samples, nsamples, sizeof(double), cmp_double);
	printf("{\"peer\": \"zkc\", \"scenario\": \"%s\", \"clients\": %d, \"seconds\": %.3f, "
	       "\"ops\": %ld, \"rate_per_s\": %.1f, \"p50_us\": %.2f, \"p99_us\": %.2f, \"max_us\": %.2f, "
	       "\"cpu_us_per_op\": %.2f, \"min_window_ops\": %ld, \"per_client\": [",
	       scenario, nclients, seconds, total, total / seconds, pct(0.5) * 1e6,
	       pct(0.99) * 1e6, pct(1.0) * 1e6, total ? cpu_used / total * 1e6 : -1.0, min_window);
	for (c = 0; c < nclients; c++)
		printf("%s%ld", c ? ", " : "", per[c]);
	printf("]%s%s}\n", extra ? ", " : "", extra ? extra : "");
}

/* Runs fn on nclients threads, each with its own client, and reports. */
typedef void (*client_fn)(int client, zkc_t *zk);
static client_fn run_fn;
static zkc_t *clients[MAX_CLIENTS];
static pthread_barrier_t ready;

static void *client_main(void *arg)
{
	int c = (int)(intptr_t)arg;

	pthread_barrier_wait(&ready);
	run_fn(c, clients[c]);
	return NULL;
}

static void run_clients(client_fn fn, const char *extra)
{
	pthread_t th[MAX_CLIENTS];
	double cpu0;
	int c;

	run_fn = fn;
	for (c = 0; c < nclients; c++)
		clients[c] = open_client();
	pthread_barrier_init(&ready, NULL, (unsigned)nclients + 1);
	for (c = 0; c < nclients; c++)
		pthread_create(&th[c], NULL, client_main, (void *)(intptr_t)c);
	t_start = now_s() + warmup;
	t_end = t_start + seconds;
	pthread_barrier_wait(&ready);
	while (now_s() < t_start)
		usleep(1000);
	cpu0 = cpu_s();
	for (c = 0; c < nclients; c++)
		pthread_join(th[c], NULL);
	report(cpu_s() - cpu0, extra);
	for (c = 0; c < nclients; c++)
		zkc_close(clients[c]);
}

/* ------------------------------------------------------------ scenarios */

static int lock_flags;

static void lock_loop(int c, zkc_t *zk)
{
	zkc_lock_options_t o = ZKC_LOCK_OPTIONS_INIT;
	zkc_lock_t *l = NULL;
	char path[320];
	double t0;

	o.flags = lock_flags;
	snprintf(path, sizeof(path), "%s/lock", root);
	CHECK("lock handle", zkc_lock_open(&l, zk, path, &o));
	for (;;) {
		zkc_lock_lease_t lease;

		t0 = now_s();
		CHECK("acquire", zkc_lock_acquire(&lease, l, ZKC_LOCK_FOREVER));
		CHECK("release", zkc_lock_release(l, 0));
		if (!record(c, t0, now_s()))
			break;
	}
	zkc_lock_release(l, ZKC_LOCK_RELEASE_SYNC);
	zkc_lock_close(l);
}

static void counter_loop(int c, zkc_t *zk)
{
	zkc_counter_t *ctr = NULL;
	char path[320];
	double t0;

	snprintf(path, sizeof(path), "%s/counter", root);
	CHECK("counter handle", zkc_counter_open(&ctr, zk, path, NULL));
	for (;;) {
		t0 = now_s();
		CHECK("add", zkc_counter_add(NULL, ctr, 1));
		if (!record(c, t0, now_s()))
			break;
	}
	zkc_counter_close(ctr);
}

static void queue_loop(int c, zkc_t *zk)
{
	zkc_queue_options_t o = ZKC_QUEUE_OPTIONS_INIT;
	zkc_queue_t *q = NULL;
	char path[320];
	double t0;

	o.flags = ZKC_QUEUE_CREATE;
	snprintf(path, sizeof(path), "%s/queue-%d", root, c);
	CHECK("queue open", zkc_queue_open(&q, zk, path, &o));
	for (;;) {
		zkc_queue_item_t *item = NULL;

		t0 = now_s();
		CHECK("put", zkc_queue_put(NULL, q, "item", 4, ZKC_QUEUE_PRIORITY_DEFAULT));
		CHECK("take", zkc_queue_take(&item, q, ZKC_QUEUE_TAKE_DELETE, 10000));
		zkc_queue_item_free(item);
		if (!record(c, t0, now_s()))
			break;
	}
	zkc_queue_close(q);
}

static char get_path[320];

static void get_loop(int c, zkc_t *zk)
{
	for (;;) {
		char *data = NULL;
		double t0 = now_s();

		CHECK("get", zkc_get(&data, NULL, NULL, zk, get_path));
		zkc_free(data);
		if (!record(c, t0, now_s()))
			break;
	}
}

/* Failover: sequential sets while bench/peers/run kills the leader; each
 * set is retried until it succeeds (zkc retries by itself within the
 * client's retry deadline), so max_us is the longest a write waited. */
static void set_loop(int c, zkc_t *zk)
{
	static const char data[100];

	for (;;) {
		double t0 = now_s();
		int rc;

		while ((rc = zkc_set(NULL, zk, get_path, data, sizeof(data), -1)) != ZKC_OK)
			if (rc != ZKC_ECONNECTIONLOSS && rc != ZKC_ETIMEDOUT && rc != ZKC_EUNKNOWN &&
			    rc != ZKC_ESESSIONEXPIRED)
				die("set", rc);
		if (!record(c, t0, now_s()))
			break;
	}
}

#define PIPELINE 100

/* Gets in batches of PIPELINE sent back to back: each get counts once. */
static void pipelined_get_loop(int c, zkc_t *zk)
{
	zkc_batch_t *b = NULL;
	int i;

	CHECK("batch", zkc_batch_new(&b));
	for (;;) {
		double t0 = now_s(), t1;
		int go = 1;

		zkc_batch_clear(b);
		for (i = 0; i < PIPELINE; i++) {
			int rc = zkc_batch_get(b, get_path, 0, NULL, NULL);

			if (rc < 0)
				die("batch get", rc);
		}
		CHECK("batch run", zkc_batch_run(zk, b));
		t1 = now_s();
		for (i = 0; i < PIPELINE && go; i++)
			go = record(c, t0, t1);
		if (!go)
			break;
	}
	zkc_batch_free(b);
}

static void setup_get_node(zkc_t *zk)
{
	static const char data[100];
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	int rc;

	co.flags = ZKC_CREATE_PARENTS;
	snprintf(get_path, sizeof(get_path), "%s/node", root);
	rc = zkc_create(NULL, NULL, zk, get_path, data, sizeof(data), &co);
	if (rc != ZKC_OK && rc != ZKC_ENODEEXISTS)
		die("create node", rc);
}

/* Cache: read p50 of a 100-byte node from the cache (data copied out), and
 * change-to-cache: from a set's reply on another client to the cache
 * event. */
static pthread_mutex_t prop_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t prop_cv = PTHREAD_COND_INITIALIZER;
static int64_t prop_seen_version = -1;
static double prop_seen_at;

static void on_change(zkc_cache_t *cache, const zkc_cache_event_t *ev, void *payload)
{
	(void)cache;
	(void)payload;
	if (ev->type != ZKC_CACHE_UPDATED || strcmp(ev->path, get_path) != 0)
		return;
	pthread_mutex_lock(&prop_mu);
	prop_seen_version = ev->stat->version;
	prop_seen_at = now_s();
	pthread_cond_broadcast(&prop_cv);
	pthread_mutex_unlock(&prop_mu);
}

static void cache_scenario(void)
{
	zkc_cache_options_t o = ZKC_CACHE_OPTIONS_INIT;
	zkc_cache_t *cache = NULL;
	zkc_t *zk = open_client(), *writer = open_client();
	double t0, cpu0, prop[200], end;
	static const char data[100];
	char extra[256];
	long reads = 0;
	int i, n = 0;

	setup_get_node(zk);
	o.event_fn = on_change;
	CHECK("cache open", zkc_cache_open(&cache, zk, get_path, &o));
	CHECK("cache init", zkc_cache_wait_initialized(cache, 30000));
	samples = calloc(MAX_SAMPLES, sizeof(double));
	/* reads: each timed alone (the timer costs are the same for every peer) */
	end = now_s() + warmup;
	while (now_s() < end) {
		char *d = NULL;

		zkc_cache_get(&d, NULL, NULL, cache, get_path);
		zkc_free(d);
	}
	cpu0 = cpu_s();
	t0 = now_s();
	end = t0 + seconds;
	while (nsamples < MAX_SAMPLES) {
		char *d = NULL;
		double a = now_s(), b2;

		CHECK("cache get", zkc_cache_get(&d, NULL, NULL, cache, get_path));
		b2 = now_s();
		zkc_free(d);
		samples[nsamples++] = b2 - a;
		reads++;
		if (b2 >= end)
			break;
	}
	counts[0][0] = reads;
	seconds = now_s() - t0;   /* the sample buffer may end the loop early */
	/* change-to-cache */
	for (i = 0; i < 200; i++) {
		zkc_stat_t st;
		double acked;
		struct timespec dl;

		CHECK("set", zkc_set(&st, writer, get_path, data, sizeof(data), -1));
		acked = now_s();
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 10;
		pthread_mutex_lock(&prop_mu);
		while (prop_seen_version != st.version &&
		       pthread_cond_timedwait(&prop_cv, &prop_mu, &dl) == 0)
			;
		if (prop_seen_version == st.version)
			prop[n++] = prop_seen_at > acked ? prop_seen_at - acked : 0;
		pthread_mutex_unlock(&prop_mu);
	}
	qsort(prop, (size_t)n, sizeof(double), cmp_double);
	snprintf(extra, sizeof(extra), "\"change_to_cache_p50_us\": %.1f, \"change_to_cache_n\": %d",
	         n ? prop[n / 2] * 1e6 : -1.0, n);
	nclients = 1;
	{
		double used = cpu_s() - cpu0;

		report(used, extra);
	}
	zkc_cache_close(cache);
	zkc_close(writer);
	zkc_close(zk);
}

static void usage(void)
{
	fprintf(stderr, "usage: zkc_peer --connect HOST:PORT --scenario "
	        "lock|lock_sticky|handoff|counter|queue|get|pipelined_get|cache|failover "
	        "[--clients N] [--seconds S] [--warmup S] [--root PATH]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *root_arg = NULL;
	zkc_t *admin;
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--connect")) connect_to = argv[i + 1];
		else if (!strcmp(argv[i], "--scenario")) scenario = argv[i + 1];
		else if (!strcmp(argv[i], "--clients")) nclients = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--warmup")) warmup = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--root")) root_arg = argv[i + 1];
		else usage();
	}
	if (i != argc || !connect_to || !scenario || nclients < 1 || nclients > MAX_CLIENTS ||
	    seconds <= 0 || seconds >= MAX_WINDOWS)
		usage();
	snprintf(root, sizeof(root), "%s", root_arg ? root_arg : "/bench-peers-zkc");

	admin = open_client();
	if (!strcmp(scenario, "cache")) {
		cache_scenario();
	} else if (!strcmp(scenario, "lock") || !strcmp(scenario, "handoff")) {
		samples = calloc(MAX_SAMPLES, sizeof(double));
		run_clients(lock_loop, NULL);
	} else if (!strcmp(scenario, "lock_sticky")) {
		lock_flags = ZKC_LOCK_STICKY;
		samples = calloc(MAX_SAMPLES, sizeof(double));
		run_clients(lock_loop, NULL);
	} else if (!strcmp(scenario, "counter")) {
		samples = calloc(MAX_SAMPLES, sizeof(double));
		run_clients(counter_loop, NULL);
	} else if (!strcmp(scenario, "queue")) {
		samples = calloc(MAX_SAMPLES, sizeof(double));
		run_clients(queue_loop, NULL);
	} else if (!strcmp(scenario, "failover")) {
		setup_get_node(admin);
		samples = calloc(MAX_SAMPLES, sizeof(double));
		run_clients(set_loop, NULL);
	} else if (!strcmp(scenario, "get") || !strcmp(scenario, "pipelined_get")) {
		setup_get_node(admin);
		samples = calloc(MAX_SAMPLES, sizeof(double));
		run_clients(!strcmp(scenario, "get") ? get_loop : pipelined_get_loop, NULL);
	} else {
		usage();
	}
	zkc_delete(admin, root, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(admin);
	free(samples);
	return 0;
}
