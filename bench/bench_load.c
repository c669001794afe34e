/* bench/bench_load.c - the `load` scenario of bench/run: 200 clients in one
 * process, each with a cache of a shared subtree and a lock of its own held,
 * as a service with many tenants would run them. Reports memory (resident
 * set), threads and file descriptors per client, first against 200 bare
 * clients (the straightforward baseline: a session and nothing else), then
 * with the cache and the lock; the time to open them all; and how long one
 * write takes to reach all 200 caches. Reads ZKC_URL; one JSON object on
 * stdout, commentary on stderr. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zkc.h"

#define CLIENTS 200
#define OPENERS 4        /* threads opening clients at once */
#define TREE_NODES 20    /* children of the cached subtree */

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_load: %s: %s (%s)\n", what, zkc_strcode(rc), zkc_error_last()->message);
	exit(1);
}

#define CHECK(what, expr) do { int rc_ = (expr); if (rc_ != ZKC_OK) die(what, rc_); } while (0)

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		die(path, ZKC_ESYSTEM);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static long rss_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2)
		die("/proc/self/statm", ZKC_ESYSTEM);
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

typedef struct sample { long rss; int threads, fds; } sample_t;

static sample_t sample(void)
{
	sample_t s = { rss_bytes(), count_dir("/proc/self/task"), count_dir("/proc/self/fd") };

	return s;
}

typedef struct tenant {
	zkc_t *zk;
	zkc_cache_t *cache;
	zkc_lock_t *lock;
} tenant_t;

static tenant_t tenants[CLIENTS];
static char root[128], tree[160], locks[160];
static int with_recipes;
static atomic_int next_tenant;

static void open_tenant(int i)
{
	tenant_t *t = &tenants[i];
	char path[200];

	CHECK("open", zkc_open(&t->zk, NULL, NULL));
	if (!with_recipes)
		return;
	CHECK("cache open", zkc_cache_open(&t->cache, t->zk, tree, NULL));
	snprintf(path, sizeof path, "%s/t%d", locks, i);
	CHECK("lock open", zkc_lock_open(&t->lock, t->zk, path, NULL));
	CHECK("lock acquire", zkc_lock_acquire(NULL, t->lock, 30000));
	CHECK("cache load", zkc_cache_wait_initialized(t->cache, 60000));
}

static void *opener(void *arg)
{
	int i;

	(void)arg;
	while ((i = atomic_fetch_add(&next_tenant, 1)) < CLIENTS)
		open_tenant(i);
	return NULL;
}

/* Opens all tenants with OPENERS threads; returns the time it took (ms). */
static double open_all(void)
{
	pthread_t t[OPENERS];
	int64_t t0 = now_us();
	int i;

	atomic_store(&next_tenant, 0);
	for (i = 0; i < OPENERS; i++)
		pthread_create(&t[i], NULL, opener, NULL);
	for (i = 0; i < OPENERS; i++)
		pthread_join(t[i], NULL);
	return (now_us() - t0) / 1000.0;
}

static void close_all(void)
{
	int i;

	for (i = 0; i < CLIENTS; i++) {
		if (tenants[i].lock)
			CHECK("lock release", zkc_lock_release(tenants[i].lock, ZKC_LOCK_RELEASE_SYNC));
		zkc_lock_close(tenants[i].lock);
		zkc_cache_close(tenants[i].cache);
		zkc_close(tenants[i].zk);
	}
	memset(tenants, 0, sizeof tenants);
}

static void per_client(const char *what, sample_t before, sample_t after)
{
	fprintf(stderr, "  %s: RSS %+.1f MB, %+d threads, %+d fds for %d clients\n", what,
	    (after.rss - before.rss) / 1048576.0, after.threads - before.threads,
	    after.fds - before.fds, CLIENTS);
}

int main(void)
{
	zkc_create_options_t parents = ZKC_CREATE_OPTIONS_INIT;
	sample_t base0, bare, base, full;
	double bare_open_ms, open_ms, fanout_ms;
	zkc_stat_t st;
	zkc_t *admin;
	char path[200];
	int64_t t0;
	int i;

	parents.flags = ZKC_CREATE_PARENTS;
	snprintf(root, sizeof root, "/bench-load-%d", (int)getpid());
	snprintf(tree, sizeof tree, "%s/tree", root);
	snprintf(locks, sizeof locks, "%s/locks", root);
	CHECK("open admin", zkc_open(&admin, NULL, NULL));
	for (i = 0; i < TREE_NODES; i++) {
		snprintf(path, sizeof path, "%s/n%02d", tree, i);
		CHECK("create tree", zkc_create(NULL, NULL, admin, path, "0123456789abcdef", 16, &parents));
	}
	CHECK("create locks", zkc_create(NULL, NULL, admin, locks, NULL, 0, NULL));

	/* one tenant opened and closed first: libraries, allocator arenas and
	 * the resolver are then loaded in both measurements alike */
	with_recipes = 1;
	open_tenant(0);
	close_all();

	base0 = sample();
	with_recipes = 0;
	bare_open_ms = open_all();
	bare = sample();
	per_client("bare clients", base0, bare);
	close_all();

	base = sample();
	with_recipes = 1;
	open_ms = open_all();
	full = sample();
	per_client("with cache and lock", base, full);

	/* one write, seen by every cache */
	snprintf(path, sizeof path, "%s/n00", tree);
	t0 = now_us();
	CHECK("write", zkc_set(&st, admin, path, "changed", 7, -1));
	for (i = 0; i < CLIENTS; i++)
		CHECK("cache wait", zkc_cache_wait_zxid(tenants[i].cache, st.mzxid, 60000));
	fanout_ms = (now_us() - t0) / 1000.0;
	fprintf(stderr, "  one write reached all %d caches in %.1f ms\n", CLIENTS, fanout_ms);
	close_all();

	CHECK("cleanup", zkc_delete(admin, root, -1, ZKC_DELETE_RECURSIVE));
	zkc_close(admin);

	printf("{\"clients\": %d, \"tree_nodes\": %d,"
	       " \"bare_rss_per_client_bytes\": %ld, \"bare_threads_per_client\": %.2f,"
	       " \"bare_fds_per_client\": %.2f, \"bare_open_all_ms\": %.1f,"
	       " \"rss_per_client_bytes\": %ld, \"threads_per_client\": %.2f,"
	       " \"fds_per_client\": %.2f, \"open_all_ms\": %.1f,"
	       " \"write_to_all_caches_ms\": %.1f}\n",
	    CLIENTS, TREE_NODES, (bare.rss - base0.rss) / CLIENTS,
	    (double)(bare.threads - base0.threads) / CLIENTS,
	    (double)(bare.fds - base0.fds) / CLIENTS, bare_open_ms,
	    (full.rss - base.rss) / CLIENTS, (double)(full.threads - base.threads) / CLIENTS,
	    (double)(full.fds - base.fds) / CLIENTS, open_ms, fanout_ms);
	return 0;
}
