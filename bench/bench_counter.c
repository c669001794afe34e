/* bench/bench_counter.c - the `counter` scenario of bench/run: adds/s of
 * zkc_counter_add with 1 and with 8 clients (plain and 8 shards), each
 * beside a straightforward counter (get, then set with the version, again
 * after a lost race) in the same run, and how fairly 8 clients share the
 * counter: each client's adds in every 1 s window. Reads ZKC_URL; one JSON
 * object on stdout, commentary on stderr. */
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
#define RT_SAMPLES 400
#define CLIENTS 8
#define WINDOW_MS 1000
#define WINDOWS (PHASE_MS / WINDOW_MS)

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
	int64_t start;
	int64_t deadline;
	long done;
	long failed;
	long win[WINDOWS];  /* adds completed in each window of the phase */
	pthread_t th;
} worker_t;

/* Fairness over the 8-client phases: per window, the fewest adds any
 * client made against the most. */
typedef struct fairness {
	double worst_ratio;  /* lowest min/max of any window (1 = equal shares) */
	int windows;
	int zero_windows;    /* windows in which some client made no add */
} fairness_t;

static fairness_t fair_zkc = { 1.0, 0, 0 }, fair_seq = { 1.0, 0, 0 };
static int fair_on;  /* after the warm-up */

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

		if (rc == ZKC_OK) {
			int64_t k = (now_ms() - w->start) / WINDOW_MS;

			w->done++;
			if (k >= 0 && k < WINDOWS)
				w->win[k]++;
		} else {
			w->failed++;
		}
	}
	zkc_counter_close(c);
	return NULL;
}

/* Prints each client's adds per window and folds the windows into f. */
static void note_fairness(fairness_t *f, const worker_t *w, int clients)
{
	int k, i;

	for (k = 0; k < WINDOWS; k++) {
		long lo = -1, hi = 0;

		fprintf(stderr, "    window %d (%d ms), adds per client:", k + 1, WINDOW_MS);
		for (i = 0; i < clients; i++) {
			fprintf(stderr, " %ld", w[i].win[k]);
			lo = lo < 0 || w[i].win[k] < lo ? w[i].win[k] : lo;
			hi = w[i].win[k] > hi ? w[i].win[k] : hi;
		}
		fprintf(stderr, "  (min/max %.2f)\n", hi > 0 ? (double)lo / (double)hi : 0.0);
		f->windows++;
		if (lo == 0)
			f->zero_windows++;
		if (hi > 0 && (double)lo / (double)hi < f->worst_ratio)
			f->worst_ratio = (double)lo / (double)hi;
		if (hi == 0)
			f->worst_ratio = 0;
	}
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
		w[i].start = t0;
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
	zkc_counter_close(c);
	fprintf(stderr, "  %-10s %d client(s)%s: %ld adds in %lld ms = %.0f adds/s\n",
	        mode == 0 ? "zkc" : "sequential", clients, shards > 1 ? ", 8 shards" : "", total,
	        (long long)(t1 - t0), total * 1000.0 / (double)(t1 - t0));
	if (fair_on && clients > 1 && shards <= 1)
		note_fairness(mode == 0 ? &fair_zkc : &fair_seq, w, clients);
	return total * 1000.0 / (double)(t1 - t0);
}

static double med3(const double *v)
{
	double a = v[0], b = v[1], c = v[2], t;

	if (a > b) { t = a; a = b; b = t; }
	if (b > c) { t = b; b = c; c = t; }
	if (a > b) { t = a; a = b; b = t; }
	return b;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Median round trip of a plain read and of a plain write, one at a time
 * on one session, alternating: the parts an add is made of. An add that
 * is one write against get-then-set can be at most (R + W) / W times as
 * fast (docs/decisions/0004). */
static void read_write_rt(zkc_t *zk, const char *path, double *r_us, double *w_us)
{
	static double r[RT_SAMPLES], w[RT_SAMPLES];
	int i, rc;

	rc = zkc_create(NULL, NULL, zk, path, "12345678", 8, NULL);
	if (rc != ZKC_OK && rc != ZKC_ENODEEXISTS)
		die("create", rc);
	for (i = 0; i < RT_SAMPLES; i++) {
		double t0 = now_us(), t1, t2;
		char *d = NULL;

		if ((rc = zkc_get(&d, NULL, NULL, zk, path)) != ZKC_OK)
			die("get", rc);
		zkc_free(d);
		t1 = now_us();
		if ((rc = zkc_set(NULL, zk, path, "87654321", 8, -1)) != ZKC_OK)
			die("set", rc);
		t2 = now_us();
		r[i] = t1 - t0;
		w[i] = t2 - t1;
	}
	qsort(r, RT_SAMPLES, sizeof(double), cmp_dbl);
	qsort(w, RT_SAMPLES, sizeof(double), cmp_dbl);
	*r_us = r[RT_SAMPLES / 2];
	*w_us = w[RT_SAMPLES / 2];
}

int main(void)
{
	zkc_t *zks[CLIENTS];
	char root[128], path[160], sharded[160], rw[160];
	double z1[ROUNDS], s1[ROUNDS], z8[ROUNDS], s8[ROUNDS], z8s[ROUNDS];
	double mz1, ms1, mz8, ms8, mz8s, r_us, w_us;
	int i, r, rc;

	for (i = 0; i < CLIENTS; i++)
		if ((rc = zkc_open(&zks[i], NULL, NULL)) != ZKC_OK)
			die("open (ZKC_URL)", rc);
	snprintf(root, sizeof(root), "/bench_counter_%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/c", root);
	snprintf(sharded, sizeof(sharded), "%s/sharded", root);
	snprintf(rw, sizeof(rw), "%s/rw", root);
	fprintf(stderr, "counter: adds of +1 for %d ms per phase; one warm-up round, then %d "
	        "rounds with the implementations interleaved (medians reported)\n", PHASE_MS,
	        ROUNDS);
	phase(zks, CLIENTS, path, 1, 0);    /* warm-up: servers' JIT, sessions */
	phase(zks, CLIENTS, path, 0, 0);
	fair_on = 1;
	for (r = 0; r < ROUNDS; r++) {
		z1[r] = phase(zks, 1, path, 0, 0);
		s1[r] = phase(zks, 1, path, 1, 0);
		z8[r] = phase(zks, CLIENTS, path, 0, 0);
		s8[r] = phase(zks, CLIENTS, path, 1, 0);
		z8s[r] = phase(zks, CLIENTS, sharded, 0, 8);
	}
	mz1 = med3(z1); ms1 = med3(s1); mz8 = med3(z8); ms8 = med3(s8); mz8s = med3(z8s);
	read_write_rt(zks[0], rw, &r_us, &w_us);
	fprintf(stderr, "  plain read %.0f us, plain write %.0f us: one write instead of a read "
	        "and a write is at most %.2fx\n", r_us, w_us, (r_us + w_us) / w_us);
	fprintf(stderr, "  fairness, 8 clients, %d windows of %d ms: zkc worst min/max %.2f, %d "
	        "window(s) with a client at 0; sequential worst %.2f, %d with a client at 0 "
	        "(goal: zkc >= 0.20, none at 0)\n", fair_zkc.windows, WINDOW_MS,
	        fair_zkc.worst_ratio, fair_zkc.zero_windows, fair_seq.worst_ratio,
	        fair_seq.zero_windows);
	zkc_delete(zks[0], root, -1, ZKC_DELETE_RECURSIVE);
	for (i = 0; i < CLIENTS; i++)
		zkc_close(zks[i]);
	printf("{\"add_1_client_per_s\": %.0f, \"add_1_client_sequential_per_s\": %.0f, "
	       "\"add_1_client_speedup_x\": %.2f, \"add_8_clients_per_s\": %.0f, "
	       "\"add_8_clients_sequential_per_s\": %.0f, \"add_8_clients_speedup_x\": %.2f, "
	       "\"add_8_clients_8_shards_per_s\": %.0f, \"add_8_clients_sharded_speedup_x\": %.2f, "
	       "\"read_rt_p50_us\": %.0f, \"write_rt_p50_us\": %.0f, "
	       "\"one_write_ceiling_x\": %.2f, \"fair_8_clients_min_max_x\": %.2f, "
	       "\"fair_8_clients_zero_windows\": %d, \"fair_8_clients_sequential_min_max_x\": %.2f, "
	       "\"fair_8_clients_sequential_zero_windows\": %d}\n",
	       mz1, ms1, ms1 > 0 ? mz1 / ms1 : 0, mz8, ms8, ms8 > 0 ? mz8 / ms8 : 0, mz8s,
	       ms8 > 0 ? mz8s / ms8 : 0, r_us, w_us, (r_us + w_us) / w_us, fair_zkc.worst_ratio,
	       fair_zkc.zero_windows, fair_seq.worst_ratio, fair_seq.zero_windows);
	return 0;
}
