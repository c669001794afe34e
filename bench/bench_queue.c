/* bench/bench_queue.c - the `queue` scenario of bench/run: put+take
 * operations/s with 1 and with 8 clients, zkc_queue (exactly-once take,
 * and at-least-once take + ack) beside a straightforward queue (create;
 * getChildren, getData and delete of the head, one after another) in the
 * same run. Each client loops: put one item, take one item. Reads ZKC_URL;
 * one JSON object on stdout, commentary on stderr. */
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

#define PHASE_MS 2000
#define ROUNDS 3
#define CLIENTS 8

enum { M_ZKC_DELETE, M_ZKC_ACK, M_SEQ };
static const char *mode_name[] = { "zkc delete", "zkc ack", "sequential" };

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_queue: %s: %s (%s)\n", what, zkc_strcode(rc),
	        zkc_error_last()->message);
	exit(1);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The straightforward take: list, sort, read the head, delete it; on a lost
 * race the next one. Items live in dir directly. */
static int seq_take(zkc_t *zk, const char *dir)
{
	zkc_strings_t *kids = NULL;
	size_t i;
	int rc = zkc_children(&kids, NULL, zk, dir);

	if (rc != ZKC_OK)
		return rc;
	qsort(kids->items, kids->count, sizeof(char *), cmp_str);
	rc = ZKC_EAGAIN;
	for (i = 0; i < kids->count && rc != ZKC_OK; i++) {
		char p[512], *data = NULL;

		snprintf(p, sizeof(p), "%s/%s", dir, kids->items[i]);
		if (zkc_get(&data, NULL, NULL, zk, p) != ZKC_OK)
			continue;
		zkc_free(data);
		if (zkc_delete(zk, p, -1, 0) == ZKC_OK)
			rc = ZKC_OK;
	}
	zkc_strings_free(kids);
	return rc;
}

typedef struct worker {
	zkc_t *zk;
	const char *path;
	int mode;
	int64_t deadline;
	long ops;
	long failed;
	pthread_t th;
} worker_t;

static void *run_worker(void *arg)
{
	worker_t *w = arg;
	zkc_queue_t *q = NULL;
	char item[64], prefix[512];
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;

	co.mode = ZKC_PERSISTENT_SEQUENTIAL;
	/* sequential: w->path is the entries directory itself */
	snprintf(prefix, sizeof(prefix), "%s/entry-100-", w->path);
	memset(item, 'x', sizeof(item));
	if (w->mode != M_SEQ && zkc_queue_open(&q, w->zk, w->path, NULL) != ZKC_OK)
		return NULL;
	while (now_ms() < w->deadline) {
		int rc;

		if (w->mode == M_SEQ) {
			rc = zkc_create(NULL, NULL, w->zk, prefix, item, sizeof(item), &co);
			if (rc == ZKC_OK)
				rc = seq_take(w->zk, w->path);
		} else {
			zkc_queue_item_t *it = NULL;

			rc = zkc_queue_put(NULL, q, item, sizeof(item), 100);
			if (rc == ZKC_OK)
				rc = zkc_queue_take(&it, q, w->mode == M_ZKC_ACK ? ZKC_QUEUE_TAKE_ACK :
				                    ZKC_QUEUE_TAKE_DELETE, 5000);
			if (rc == ZKC_OK && w->mode == M_ZKC_ACK)
				rc = zkc_queue_ack(q, it);
			zkc_queue_item_free(it);
		}
		if (rc == ZKC_OK)
			w->ops += 2;        /* one put and one take */
		else
			w->failed++;
	}
	zkc_queue_close(q);
	return NULL;
}

static double phase(zkc_t **zks, int clients, const char *root, int mode)
{
	zkc_queue_options_t o = ZKC_QUEUE_OPTIONS_INIT;
	char path[256], entries[300];
	zkc_queue_t *q = NULL;
	worker_t w[CLIENTS];
	int64_t t0, t1;
	long total = 0, failed = 0;
	int i, rc;

	snprintf(path, sizeof(path), "%s/%s_%d", root, mode == M_SEQ ? "seq" : "zkc", clients);
	o.flags = ZKC_QUEUE_CREATE;
	if ((rc = zkc_queue_open(&q, zks[0], path, &o)) != ZKC_OK)
		die("queue open", rc);
	zkc_queue_close(q);
	snprintf(entries, sizeof(entries), "%s/entries", path);
	t0 = now_ms();
	for (i = 0; i < clients; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].zk = zks[i];
		w[i].path = mode == M_SEQ ? entries : path;
		w[i].mode = mode;
		w[i].deadline = t0 + PHASE_MS;
		pthread_create(&w[i].th, NULL, run_worker, &w[i]);
	}
	for (i = 0; i < clients; i++) {
		pthread_join(w[i].th, NULL);
		total += w[i].ops;
		failed += w[i].failed;
	}
	t1 = now_ms();
	fprintf(stderr, "  %-10s %d client(s): %ld ops in %lld ms = %.0f ops/s%s\n", mode_name[mode],
	        clients, total, (long long)(t1 - t0), total * 1000.0 / (double)(t1 - t0),
	        failed ? " (with failures)" : "");
	zkc_delete(zks[0], path, -1, ZKC_DELETE_RECURSIVE);
	return total * 1000.0 / (double)(t1 - t0);
}

/* Median of three. */
static double med3(const double *v)
{
	double a = v[0], b = v[1], c = v[2];

	if (a > b) { double t = a; a = b; b = t; }
	if (b > c) { double t = b; b = c; c = t; }
	if (a > b) { double t = a; a = b; b = t; }
	return b;
}

int main(void)
{
	zkc_t *zks[CLIENTS];
	char root[128];
	double d1[ROUNDS], a1[ROUNDS], s1[ROUNDS], d8[ROUNDS], a8[ROUNDS], s8[ROUNDS];
	double md1, ma1, ms1, md8, ma8, ms8;
	int i, r, rc;

	for (i = 0; i < CLIENTS; i++)
		if ((rc = zkc_open(&zks[i], NULL, NULL)) != ZKC_OK)
			die("open (ZKC_URL)", rc);
	snprintf(root, sizeof(root), "/bench_queue_%d", (int)getpid());
	fprintf(stderr, "queue: each client puts one 64-byte item then takes one, %d ms per "
	        "phase; one warm-up round, then %d rounds with the implementations "
	        "interleaved (medians reported)\n", PHASE_MS, ROUNDS);
	/* warm-up: the servers' JIT and the sessions, for every contender */
	phase(zks, CLIENTS, root, M_SEQ);
	phase(zks, CLIENTS, root, M_ZKC_DELETE);
	for (r = 0; r < ROUNDS; r++) {
		d1[r] = phase(zks, 1, root, M_ZKC_DELETE);
		a1[r] = phase(zks, 1, root, M_ZKC_ACK);
		s1[r] = phase(zks, 1, root, M_SEQ);
		d8[r] = phase(zks, CLIENTS, root, M_ZKC_DELETE);
		a8[r] = phase(zks, CLIENTS, root, M_ZKC_ACK);
		s8[r] = phase(zks, CLIENTS, root, M_SEQ);
	}
	md1 = med3(d1); ma1 = med3(a1); ms1 = med3(s1);
	md8 = med3(d8); ma8 = med3(a8); ms8 = med3(s8);
	zkc_delete(zks[0], root, -1, ZKC_DELETE_RECURSIVE);
	for (i = 0; i < CLIENTS; i++)
		zkc_close(zks[i]);
	printf("{\"put_take_1_client_per_s\": %.0f, \"put_take_ack_1_client_per_s\": %.0f, "
	       "\"put_take_1_client_sequential_per_s\": %.0f, \"put_take_1_client_speedup_x\": %.2f, "
	       "\"put_take_ack_1_client_speedup_x\": %.2f, "
	       "\"put_take_8_clients_per_s\": %.0f, \"put_take_ack_8_clients_per_s\": %.0f, "
	       "\"put_take_8_clients_sequential_per_s\": %.0f, \"put_take_8_clients_speedup_x\": "
	       "%.2f, \"put_take_ack_8_clients_speedup_x\": %.2f}\n", md1, ma1, ms1,
	       ms1 > 0 ? md1 / ms1 : 0, ms1 > 0 ? ma1 / ms1 : 0, md8, ma8, ms8,
	       ms8 > 0 ? md8 / ms8 : 0, ms8 > 0 ? ma8 / ms8 : 0);
	return 0;
}
