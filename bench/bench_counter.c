/* bench/bench_counter.c - the `counter` scenario of bench/run: adds/s of
 * zkc_counter_add with 1 and with 8 clients (plain and 8 shards), each
 * beside a straightforward counter (get, then set with the version, again
 * after a lost race) in the same run. Reads ZKC_URL; one JSON object on
 * stdout, commentary on stderr. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zkc.h"

#define PHASE_MS 2500
#define CLIENTS 8

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_counter: %s: %s (%s)\n", what, zkc_strcode(rc),
	        zkc_error_last()->message);
	exit(1);
}

typedef struct worker {
	zkc_t *zk;
	const char *path;
	int mode;          /* 0 zkc, 1 sequential */
	int shards;
	int64_t deadline;
	long done;
	long failed;
	pthread_t th;
} worker_t;

/* The straightforward way: read, then write with the version read. */
static int seq_add(zkc_t *zk, const char *path, int64_t delta)
{
	for (;;) {
		unsigned char buf[8];
		char *data = NULL;
		size_t len = 0;
		zkc_stat_t st;
		int64_t v;
		int rc = zkc_get(&data, &len, &st, zk, path);

		if (rc != ZKC_OK)
			return rc;
		rc = zkc_counter_decode(&v, data, len);
		zkc_free(data);
		if (rc != ZKC_OK)
			return rc;
		zkc_counter_encode(buf, v + delta);
		rc = zkc_set(NULL, zk, path, buf, 8, st.version);
		if (rc != ZKC_EBADVERSION)
			return rc;
	}
}

static void *run_worker(void *arg)
{
	worker_t *w = arg;
	zkc_counter_options_t o = ZKC_COUNTER_OPTIONS_INIT;
	zkc_counter_t *c = NULL;

	o.shards = w->shards;
	if (w->mode == 0 && zkc_counter_open(&c, w->zk, w->path, &o) != ZKC_OK)
		return NULL;
	while (now_ms() < w->deadline) {
		int rc = w->mode == 0 ? zkc_counter_add(NULL, c, 1) : seq_add(w->zk, w->path, 1);

		if (rc == ZKC_OK)
			w->done++;
		else
			w->failed++;
	}
	zkc_counter_free(c);
	return NULL;
}

/* Adds/s of `clients` clients for one phase; checks the final value. */
static double phase(zkc_t **zks, int clients, const char *path, int mode, int shards)
{
	worker_t w[CLIENTS];
	zkc_counter_options_t o = ZKC_COUNTER_OPTIONS_INIT;
	zkc_counter_t *c = NULL;
	int64_t t0, t1, v = -1;
	long total = 0, failed = 0;
	int i;

	o.shards = shards;
	if (zkc_counter_open(&c, zks[0], path, &o) != ZKC_OK)
		die("open", ZKC_EBADARGUMENTS);
	if (zkc_counter_set(c, 0) != ZKC_OK)
		die("set", ZKC_ESYSTEM);
	t0 = now_ms();
	for (i = 0; i < clients; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].zk = zks[i];
		w[i].path = path;
		w[i].mode = mode;
		w[i].shards = shards;
		w[i].deadline = t0 + PHASE_MS;
		pthread_create(&w[i].th, NULL, run_worker, &w[i]);
	}
	for (i = 0; i < clients; i++) {
		pthread_join(w[i].th, NULL);
		total += w[i].done;
		failed += w[i].failed;
	}
	t1 = now_ms();
	if (zkc_counter_get(&v, c) != ZKC_OK || v != total || failed)
		fprintf(stderr, "bench_counter: WARNING value %lld after %ld adds (%ld failed)\n",
		        (long long)v, total, failed);
	zkc_counter_free(c);
	fprintf(stderr, "  %-10s %d client(s)%s: %ld adds in %lld ms = %.0f adds/s\n",
	        mode == 0 ? "zkc" : "sequential", clients, shards > 1 ? ", 8 shards" : "", total,
	        (long long)(t1 - t0), total * 1000.0 / (double)(t1 - t0));
	return total * 1000.0 / (double)(t1 - t0);
}

int main(void)
{
	zkc_t *zks[CLIENTS];
	char root[128], path[160];
	double z1, s1, z8, s8, z8s;
	int i, rc;

	for (i = 0; i < CLIENTS; i++)
		if ((rc = zkc_open(&zks[i], NULL, NULL)) != ZKC_OK)
			die("open (ZKC_URL)", rc);
	snprintf(root, sizeof(root), "/bench_counter_%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/c", root);
	fprintf(stderr, "counter: adds of +1 for %d ms per phase\n", PHASE_MS);
	z1 = phase(zks, 1, path, 0, 0);
	s1 = phase(zks, 1, path, 1, 0);
	z8 = phase(zks, CLIENTS, path, 0, 0);
	s8 = phase(zks, CLIENTS, path, 1, 0);
	snprintf(path, sizeof(path), "%s/sharded", root);
	z8s = phase(zks, CLIENTS, path, 0, 8);
	zkc_delete(zks[0], root, -1, ZKC_DELETE_RECURSIVE);
	for (i = 0; i < CLIENTS; i++)
		zkc_close(zks[i]);
	printf("{\"add_1_client_per_s\": %.0f, \"add_1_client_sequential_per_s\": %.0f, "
	       "\"add_1_client_speedup_x\": %.2f, \"add_8_clients_per_s\": %.0f, "
	       "\"add_8_clients_sequential_per_s\": %.0f, \"add_8_clients_speedup_x\": %.2f, "
	       "\"add_8_clients_8_shards_per_s\": %.0f, \"add_8_clients_sharded_speedup_x\": %.2f}\n",
	       z1, s1, s1 > 0 ? z1 / s1 : 0, z8, s8, s8 > 0 ? z8 / s8 : 0, z8s,
	       s8 > 0 ? z8s / s8 : 0);
	return 0;
}
