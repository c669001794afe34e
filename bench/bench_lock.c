/* bench/bench_lock.c - the `lock` scenario of bench/run: uncontended
 * acquire+release cycles/s (zkc plain and sticky) and contended hand-offs/s
 * with 8 clients, each against a straightforward sequential lock (create,
 * then getChildren, then delete, one round trip after another) in the same
 * run; requests per hand-off from the servers' packet counters (mntr).
 * Reads ZKC_URL; one JSON object on stdout, commentary on stderr. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
	fprintf(stderr, "bench_lock: %s: %s (%s)\n", what, zkc_strcode(rc), zkc_error_last()->message);
	exit(1);
}

#define CHECK(what, expr) do { int rc_ = (expr); if (rc_ != ZKC_OK) die(what, rc_); } while (0)

/* ------------------------------------------------------------ server counters */

/* Sum of zk_packets_received over the servers of a zk:// URL; -1 when
 * not available (other schemes, 4lw disabled). */
static long long packets_received(const char *url)
{
	const char *h;
	char hosts[1024], *tok, *save = NULL;
	long long sum = 0;
	int any = 0;

	if (!url || strncmp(url, "zk://", 5) != 0)
		return -1;
	h = url + 5;
	snprintf(hosts, sizeof(hosts), "%.*s", (int)strcspn(h, "/?"), h);
	for (tok = strtok_r(hosts, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct addrinfo hints, *ai = NULL;
		char host[256], buf[8192], *colon, *p;
		size_t got = 0;
		ssize_t n;
		int fd;

		snprintf(host, sizeof(host), "%s", tok);
		colon = strrchr(host, ':');
		if (!colon)
			continue;
		*colon = 0;
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
			continue;
		fd = socket(ai->ai_family, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			if (fd >= 0)
				close(fd);
			freeaddrinfo(ai);
			continue;
		}
		freeaddrinfo(ai);
		if (write(fd, "mntr", 4) == 4) {
			while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
				got += (size_t)n;
		}
		close(fd);
		buf[got] = 0;
		p = strstr(buf, "zk_packets_received");
		if (p) {
			sum += atoll(p + strlen("zk_packets_received"));
			any = 1;
		}
	}
	return any ? sum : -1;
}

/* ------------------------------------------------------------ sequential lock */

typedef struct seqwait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fired;
} seqwait_t;

static void seq_watch(zkc_t *zk, const zkc_event_t *ev, void *payload)
{
	seqwait_t *w = payload;

	(void)zk;
	(void)ev;
	pthread_mutex_lock(&w->mu);
	w->fired = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static long long seq_of(const char *name)
{
	size_t n = strlen(name);

	return n >= 10 ? atoll(name + n - 10) : -1;
}

/* The textbook recipe, one blocking round trip after another: create,
 * getChildren, (watch the predecessor, wait, getChildren again). */
static char *seq_acquire(zkc_t *zk, const char *dir)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	char *prefix, *mine = NULL;
	const char *base;

	co.mode = ZKC_EPHEMERAL_SEQUENTIAL;
	prefix = malloc(strlen(dir) + 8);
	sprintf(prefix, "%s/lock-", dir);
	CHECK("seq create", zkc_create(&mine, NULL, zk, prefix, NULL, 0, &co));
	free(prefix);
	base = strrchr(mine, '/') + 1;
	for (;;) {
		zkc_strings_t *c = NULL;
		long long me = seq_of(base), best = -1;
		const char *pred = NULL;
		size_t i;

		CHECK("seq children", zkc_children(&c, NULL, zk, dir));
		for (i = 0; i < c->count; i++) {
			long long s = seq_of(c->items[i]);

			if (s < me && s > best) {
				best = s;
				pred = c->items[i];
			}
		}
		if (!pred) {
			zkc_strings_free(c);
			return mine;
		}
		{
			static __thread seqwait_t *w;
			char *pp = malloc(strlen(dir) + strlen(pred) + 2);
			int rc;

			if (!w) {
				/* one per thread, kept: watches may fire late */
				w = calloc(1, sizeof(*w));
				pthread_mutex_init(&w->mu, NULL);
				pthread_cond_init(&w->cv, NULL);
			}
			sprintf(pp, "%s/%s", dir, pred);
			pthread_mutex_lock(&w->mu);
			w->fired = 0;
			pthread_mutex_unlock(&w->mu);
			rc = zkc_exists_w(NULL, zk, pp, seq_watch, w);
			free(pp);
			if (rc == ZKC_OK) {
				pthread_mutex_lock(&w->mu);
				while (!w->fired)
					pthread_cond_wait(&w->cv, &w->mu);
				pthread_mutex_unlock(&w->mu);
			}
		}
		zkc_strings_free(c);
	}
}

static void seq_release(zkc_t *zk, char *mine)
{
	CHECK("seq delete", zkc_delete(zk, mine, -1, 0));
	zkc_free(mine);
}

/* ------------------------------------------------------------ phases */

static double uncontended_zkc(zkc_t *zk, const char *dir, int flags, long *cycles)
{
	zkc_lock_options_t lo = ZKC_LOCK_OPTIONS_INIT;
	zkc_lock_t *lk = NULL;
	int64_t t0, t1;
	long n = 0;

	lo.flags = flags;
	CHECK("lock new", zkc_lock_open(&lk, zk, dir, &lo));
	CHECK("warm-up", zkc_lock_acquire(NULL, lk, 10000));
	CHECK("warm-up", zkc_lock_release(lk, ZKC_LOCK_RELEASE_SYNC));
	t0 = now_ms();
	do {
		int k;

		for (k = 0; k < 50; k++, n++) {
			CHECK("acquire", zkc_lock_acquire(NULL, lk, 10000));
			CHECK("release", zkc_lock_release(lk, 0));
		}
	} while ((t1 = now_ms()) - t0 < PHASE_MS);
	zkc_lock_close(lk);  /* waits for the last delete */
	*cycles = n;
	return (double)n * 1000.0 / (double)(now_ms() - t0);
}

static double uncontended_seq(zkc_t *zk, const char *dir, long *cycles)
{
	int64_t t0 = now_ms();
	long n = 0;

	do {
		seq_release(zk, seq_acquire(zk, dir));
		n++;
	} while (now_ms() - t0 < PHASE_MS);
	*cycles = n;
	return (double)n * 1000.0 / (double)(now_ms() - t0);
}

typedef struct worker {
	pthread_t th;
	zkc_t *zk;
	const char *dir;
	int use_zkc;
	int64_t until;
	long n;
} worker_t;

static int g_inside;

static void *contend(void *arg)
{
	worker_t *w = arg;
	zkc_lock_t *lk = NULL;

	if (w->use_zkc)
		CHECK("lock new", zkc_lock_open(&lk, w->zk, w->dir, NULL));
	while (now_ms() < w->until) {
		char *mine = NULL;

		if (w->use_zkc)
			CHECK("acquire", zkc_lock_acquire(NULL, lk, ZKC_LOCK_FOREVER));
		else
			mine = seq_acquire(w->zk, w->dir);
		if (__atomic_add_fetch(&g_inside, 1, __ATOMIC_SEQ_CST) != 1) {
			fprintf(stderr, "bench_lock: two holders at once\n");
			exit(1);
		}
		__atomic_sub_fetch(&g_inside, 1, __ATOMIC_SEQ_CST);
		w->n++;
		if (w->use_zkc)
			CHECK("release", zkc_lock_release(lk, 0));
		else
			seq_release(w->zk, mine);
	}
	zkc_lock_close(lk);
	return NULL;
}

static double contended(zkc_t **zks, const char *dir, int use_zkc, long *handoffs,
                        double *req_per_handoff)
{
	const char *url = getenv("ZKC_URL");
	worker_t w[CLIENTS];
	long long p0, p1;
	int64_t t0;
	long total = 0;
	int i;

	p0 = packets_received(url);
	t0 = now_ms();
	for (i = 0; i < CLIENTS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].zk = zks[i];
		w[i].dir = dir;
		w[i].use_zkc = use_zkc;
		w[i].until = t0 + PHASE_MS;
		pthread_create(&w[i].th, NULL, contend, &w[i]);
	}
	for (i = 0; i < CLIENTS; i++) {
		pthread_join(w[i].th, NULL);
		total += w[i].n;
	}
	t0 = now_ms() - t0;
	p1 = packets_received(url);
	*handoffs = total;
	*req_per_handoff = p0 >= 0 && p1 >= 0 && total ? (double)(p1 - p0) / (double)total : -1;
	return (double)total * 1000.0 / (double)t0;
}

int main(void)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	zkc_t *zk = NULL, *zks[CLIENTS];
	char root[128], dir[160];
	double plain, sticky, seq, c_zkc, c_seq, rq_zkc, rq_seq;
	long n_plain, n_sticky, n_seq, h_zkc, h_seq;
	int i;

	CHECK("open", zkc_open(&zk, NULL, NULL));
	snprintf(root, sizeof(root), "/bench_lock_%d", (int)getpid());
	co.flags = ZKC_CREATE_PARENTS;
	CHECK("root", zkc_create(NULL, NULL, zk, root, NULL, 0, &co));

	snprintf(dir, sizeof(dir), "%s/seq", root);
	CHECK("dir", zkc_create(NULL, NULL, zk, dir, NULL, 0, NULL));
	/* warm up the servers' JIT (a fresh ensemble is slow at first) */
	uncontended_seq(zk, dir, &n_seq);
	seq = uncontended_seq(zk, dir, &n_seq);
	fprintf(stderr, "uncontended sequential (create, getChildren, delete): %.0f cycles/s (%ld)\n",
	        seq, n_seq);
	snprintf(dir, sizeof(dir), "%s/plain", root);
	plain = uncontended_zkc(zk, dir, 0, &n_plain);
	fprintf(stderr, "uncontended zkc plain (create+getChildren pipelined, async delete): "
	        "%.0f cycles/s (%ld), %.2fx sequential (goal >= 1.3x)\n", plain, n_plain, plain / seq);
	snprintf(dir, sizeof(dir), "%s/sticky", root);
	sticky = uncontended_zkc(zk, dir, ZKC_LOCK_STICKY, &n_sticky);
	fprintf(stderr, "uncontended zkc sticky (node kept, no round trip): %.0f cycles/s (%ld), "
	        "%.0fx plain (goal >= 10x)\n", sticky, n_sticky, sticky / plain);

	for (i = 0; i < CLIENTS; i++)
		CHECK("open", zkc_open(&zks[i], NULL, NULL));
	snprintf(dir, sizeof(dir), "%s/cseq", root);
	CHECK("dir", zkc_create(NULL, NULL, zk, dir, NULL, 0, NULL));
	c_seq = contended(zks, dir, 0, &h_seq, &rq_seq);
	fprintf(stderr, "contended sequential, %d clients: %.0f hand-offs/s (%ld), %.1f requests "
	        "per hand-off\n", CLIENTS, c_seq, h_seq, rq_seq);
	snprintf(dir, sizeof(dir), "%s/czkc", root);
	c_zkc = contended(zks, dir, 1, &h_zkc, &rq_zkc);
	fprintf(stderr, "contended zkc, %d clients: %.0f hand-offs/s (%ld), %.1f requests per "
	        "hand-off, %.2fx sequential (goal >= 1x)\n", CLIENTS, c_zkc, h_zkc, rq_zkc,
	        c_zkc / c_seq);
	for (i = 0; i < CLIENTS; i++)
		zkc_close(zks[i]);

	zkc_delete(zk, root, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	printf("{\"uncontended_seq_cycles_per_s\": %.1f, \"uncontended_plain_cycles_per_s\": %.1f, "
	       "\"uncontended_sticky_cycles_per_s\": %.1f, \"plain_vs_seq_x\": %.2f, "
	       "\"sticky_vs_plain_x\": %.1f, \"contended_seq_handoffs_per_s\": %.1f, "
	       "\"contended_zkc_handoffs_per_s\": %.1f, \"contended_zkc_vs_seq_x\": %.2f, "
	       "\"contended_seq_requests_per_handoff\": %.2f, "
	       "\"contended_zkc_requests_per_handoff\": %.2f}\n",
	       seq, plain, sticky, plain / seq, sticky / plain, c_seq, c_zkc, c_zkc / c_seq, rq_seq,
	       rq_zkc);
	return 0;
}
