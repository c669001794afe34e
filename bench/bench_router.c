/* bench/bench_router.c - the `router` scenario of bench/run: routing
 * decisions/s of zkc_service_route (one thread) over 10 and 100 instances,
 * beside two straightforward routers in the same run: one that reads the
 * registry per decision (getChildren, then getData of each child, in
 * sequence) and one that copies the instance list per decision
 * (zkc_service_router_list) and hashes every id again. Reads ZKC_URL; one
 * JSON object on stdout, commentary on stderr. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zkc.h"

#define FAST_MS 1500     /* per phase of the in-memory routers */
#define SLOW_MS 3000     /* per phase of the per-decision registry read */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_router: %s: %s (%s)\n", what, zkc_strcode(rc),
	        zkc_error_last()->message);
	exit(1);
}

static int key_of(char *buf, size_t cap, long i)
{
	return snprintf(buf, cap, "request-%ld", i);
}

/* The straightforward router: read the registry, then pick. */
static int naive_route(char *out_id, size_t cap, zkc_t *zk, const char *svc, const char *key,
                       size_t len)
{
	zkc_strings_t *kids = NULL;
	uint64_t kh = zkc_service_hash64(key, len);
	double best = -1;
	size_t i;
	int rc = zkc_children(&kids, NULL, zk, svc), found = 0;

	if (rc != ZKC_OK)
		return rc;
	for (i = 0; i < kids->count; i++) {
		char path[512], *data = NULL;
		size_t dlen = 0;
		zkc_service_entry_t e;

		snprintf(path, sizeof(path), "%s/%s", svc, kids->items[i]);
		if (zkc_get(&data, &dlen, NULL, zk, path) != ZKC_OK)
			continue;
		if (zkc_service_decode(&e, kids->items[i], data, dlen) == ZKC_OK) {
			if (!e.draining) {
				double s = zkc_service_score(kh, zkc_service_hash64(e.id, strlen(e.id)),
				                             e.weight);

				if (s > best || (s == best && strcmp(e.id, out_id) < 0)) {
					best = s;
					snprintf(out_id, cap, "%s", e.id);
					found = 1;
				}
			}
			zkc_service_entry_clear(&e);
		}
		zkc_free(data);
	}
	zkc_strings_free(kids);
	return found ? ZKC_OK : ZKC_ENONODE;
}

/* The in-memory router without a prepared snapshot: copy the list, hash. */
static int list_route(char *out_id, size_t cap, zkc_service_router_t *r, const char *key,
                      size_t len)
{
	zkc_service_list_t *l = NULL;
	uint64_t kh = zkc_service_hash64(key, len);
	double best = -1;
	size_t i;
	int rc = zkc_service_router_list(&l, r), found = 0;

	if (rc != ZKC_OK)
		return rc;
	for (i = 0; i < l->count; i++) {
		const zkc_service_entry_t *e = &l->items[i];
		double s;

		if (e->draining)
			continue;
		s = zkc_service_score(kh, zkc_service_hash64(e->id, strlen(e->id)), e->weight);
		if (s > best) {
			best = s;
			snprintf(out_id, cap, "%s", e->id);
			found = 1;
		}
	}
	zkc_service_list_free(l);
	return found ? ZKC_OK : ZKC_ENONODE;
}

typedef struct result {
	double zkc_per_s, list_per_s, naive_per_s, zkc_ns;
} result_t;

static result_t phase(zkc_t *zk, const char *root, int n)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	zkc_service_router_t *r = NULL;
	zkc_service_endpoint_t ep;
	char svc[256], path[512], key[64], id[64], nid[300];
	result_t res;
	int64_t t0, t1;
	long i, done;
	int rc, k;

	snprintf(svc, sizeof(svc), "%s/svc%d", root, n);
	co.mode = ZKC_EPHEMERAL;
	co.flags = ZKC_CREATE_PARENTS;
	for (k = 0; k < n; k++) {
		zkc_service_instance_t in = ZKC_SERVICE_INSTANCE_INIT;
		char *data = NULL;
		size_t len = 0;

		snprintf(id, sizeof(id), "instance-%03d", k);
		in.id = id;
		in.address = "10.0.0.1";
		in.port = 8000 + k;
		in.metadata = "{\"zone\":\"a\",\"version\":\"1.2.3\"}";
		if ((rc = zkc_service_encode(&data, &len, "svc", &in)) != ZKC_OK)
			die("encode", rc);
		snprintf(path, sizeof(path), "%s/%s", svc, id);
		if ((rc = zkc_create(NULL, NULL, zk, path, data, len, &co)) != ZKC_OK)
			die("create", rc);
		zkc_free(data);
	}
	if ((rc = zkc_service_router_open(&r, zk, svc, NULL)) != ZKC_OK)
		die("router open", rc);
	if (zkc_service_router_count(r) != (size_t)n)
		die("router count", ZKC_ESYSTEM);

	/* the three agree */
	for (i = 0; i < 200; i++) {
		char a[300] = "", b[300] = "";
		int len = key_of(key, sizeof(key), i * 7919);

		if (zkc_service_route(&ep, r, key, (size_t)len) != ZKC_OK ||
		    list_route(a, sizeof(a), r, key, (size_t)len) != ZKC_OK ||
		    naive_route(b, sizeof(b), zk, svc, key, (size_t)len) != ZKC_OK ||
		    strcmp(ep.id, a) != 0 || strcmp(ep.id, b) != 0)
			die("routers disagree", ZKC_ESYSTEM);
	}

	t0 = now_ns();
	done = 0;
	do {
		for (i = 0; i < 1000; i++, done++) {
			int len = key_of(key, sizeof(key), done);

			if (zkc_service_route(&ep, r, key, (size_t)len) != ZKC_OK)
				die("route", ZKC_ESYSTEM);
		}
		t1 = now_ns();
	} while (t1 - t0 < FAST_MS * 1000000LL);
	res.zkc_per_s = done * 1e9 / (double)(t1 - t0);
	res.zkc_ns = (double)(t1 - t0) / (double)done;

	t0 = now_ns();
	done = 0;
	do {
		for (i = 0; i < 100; i++, done++) {
			int len = key_of(key, sizeof(key), done);

			if (list_route(nid, sizeof(nid), r, key, (size_t)len) != ZKC_OK)
				die("list route", ZKC_ESYSTEM);
		}
		t1 = now_ns();
	} while (t1 - t0 < FAST_MS * 1000000LL);
	res.list_per_s = done * 1e9 / (double)(t1 - t0);

	t0 = now_ns();
	done = 0;
	do {
		int len = key_of(key, sizeof(key), done++);

		if ((rc = naive_route(nid, sizeof(nid), zk, svc, key, (size_t)len)) != ZKC_OK)
			die("naive route", rc);
		t1 = now_ns();
	} while (t1 - t0 < SLOW_MS * 1000000LL);
	res.naive_per_s = done * 1e9 / (double)(t1 - t0);

	fprintf(stderr, "  %3d instances: zkc_service_route %.0f/s (%.0f ns), list copy per "
	        "decision %.0f/s, registry read per decision %.1f/s\n", n, res.zkc_per_s,
	        res.zkc_ns, res.list_per_s, res.naive_per_s);
	zkc_service_router_close(r);
	zkc_delete(zk, svc, -1, ZKC_DELETE_RECURSIVE);
	return res;
}

int main(void)
{
	result_t a, b;
	char root[128];
	zkc_t *zk;
	int rc;

	if ((rc = zkc_open(&zk, NULL, NULL)) != ZKC_OK)
		die("open (ZKC_URL)", rc);
	snprintf(root, sizeof(root), "/bench_router_%d", (int)getpid());
	fprintf(stderr, "router: one thread; keys \"request-N\"; instances registered as "
	        "ephemeral nodes; ratios are zkc / straightforward\n");
	a = phase(zk, root, 10);
	b = phase(zk, root, 100);
	zkc_delete(zk, root, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	printf("{\"route_10_per_s\": %.0f, \"route_10_ns\": %.1f, "
	       "\"route_10_list_copy_per_s\": %.0f, \"route_10_registry_read_per_s\": %.1f, "
	       "\"route_10_vs_list_copy_x\": %.1f, \"route_10_vs_registry_read_x\": %.0f, "
	       "\"route_100_per_s\": %.0f, \"route_100_ns\": %.1f, "
	       "\"route_100_list_copy_per_s\": %.0f, \"route_100_registry_read_per_s\": %.1f, "
	       "\"route_100_vs_list_copy_x\": %.1f, \"route_100_vs_registry_read_x\": %.0f}\n",
	       a.zkc_per_s, a.zkc_ns, a.list_per_s, a.naive_per_s,
	       a.list_per_s > 0 ? a.zkc_per_s / a.list_per_s : 0,
	       a.naive_per_s > 0 ? a.zkc_per_s / a.naive_per_s : 0,
	       b.zkc_per_s, b.zkc_ns, b.list_per_s, b.naive_per_s,
	       b.list_per_s > 0 ? b.zkc_per_s / b.list_per_s : 0,
	       b.naive_per_s > 0 ? b.zkc_per_s / b.naive_per_s : 0);
	return 0;
}
