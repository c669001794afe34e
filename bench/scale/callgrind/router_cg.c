/* bench/scale/callgrind/router_cg.c - the service router under callgrind:
 * decisions and changes at a given size, with a chosen recipes/service.c
 * compiled in (README.md here). */
#include "rename.h"
#include SERVICE_C
#include "zkc/batch.h"
#include <unistd.h>
static void die(const char *w, int rc) { fprintf(stderr, "%s: %d %s\n", w, rc, zkc_error_last()->message); exit(2); }
#define CHECK(w, x) do { int rc_ = (x); if (rc_ < 0 || rc_ > 0) die(w, rc_); } while (0)
static char svc[64];
static void node(zkc_batch_t *b, long i, int weight, int set)
{
	zkc_service_instance_t in = ZKC_SERVICE_INSTANCE_INIT;
	char id[32], p[128], *data = NULL; size_t len = 0;
	snprintf(id, sizeof(id), "i%06ld", i);
	in.id = id; in.address = "10.0.0.1"; in.port = 8080; in.weight = weight;
	CHECK("encode", zkc_service_encode(&data, &len, "cg", &in));
	snprintf(p, sizeof(p), "%s/%s", svc, id);
	if ((set ? zkc_batch_set(b, p, data, len, -1) : zkc_batch_create(b, p, data, len, NULL)) < 0) die("op", -1);
	free(data);
}
static void __attribute__((noinline)) decide(zkc_service_router_t *r, long k)
{
	long i; for (i = 0; i < k; i++) { zkc_service_endpoint_t ep; char key[32];
		snprintf(key, sizeof(key), "key-%ld", i);
		CHECK("route", zkc_service_route(&ep, r, key, strlen(key))); }
}
int main(int argc, char **argv)
{
	long n = atol(argv[1]), k = atol(argv[2]), changes = atol(argv[3]), i;
	zkc_t *zk = NULL; zkc_service_router_t *r = NULL; zkc_batch_t *b = NULL;
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	zkc_service_router_options_t ro = ZKC_SERVICE_ROUTER_OPTIONS_INIT;
	ro.timeout_ms = 1800000; /* the first load is slow under valgrind */
	CHECK("open", zkc_open(&zk, NULL, NULL));
	snprintf(svc, sizeof(svc), "/cgr-%ld", n);
	zkc_delete(zk, svc, -1, ZKC_DELETE_RECURSIVE);
	co.flags = ZKC_CREATE_PARENTS;
	CHECK("svc", zkc_create(NULL, NULL, zk, svc, NULL, 0, &co));
	CHECK("batch", zkc_batch_new(&b));
	for (i = 0; i < n; i++) { node(b, i, 1, 0); if (zkc_batch_count(b) >= 1000) { CHECK("run", zkc_batch_run(zk, b)); zkc_batch_free(b); zkc_batch_new(&b);} }
	if (zkc_batch_count(b)) { CHECK("run", zkc_batch_run(zk, b)); zkc_batch_free(b); zkc_batch_new(&b); }
	CHECK("router", zkc_service_router_open(&r, zk, svc, &ro));
	while (zkc_service_router_count(r) != (size_t)n) usleep(1000);
	decide(r, k);
	for (i = 0; i < changes; i++) {
		uint64_t g = zkc_service_router_generation(r);
		node(b, i % n, (int)(i % 2) + 2, 1);
		CHECK("run", zkc_batch_run(zk, b)); zkc_batch_free(b); zkc_batch_new(&b);
		while (zkc_service_router_generation(r) == g) usleep(200);
	}
	zkc_service_router_close(r);
	zkc_delete(zk, svc, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	return 0;
}
