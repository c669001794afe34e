/* bench/scale/callgrind/cache_cg.c - N cache gets then N pinned peeks of one node, under callgrind (README.md here). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zkc/client.h"
#include "zkc/cache.h"
static void __attribute__((noinline)) get_loop(zkc_cache_t *c, const char *node, int n)
{ int i; for (i = 0; i < n; i++) { char *out = NULL; size_t len; zkc_stat_t st;
  if (zkc_cache_get(&out, &len, &st, c, node) != ZKC_OK) exit(3); zkc_free(out); } }
static void __attribute__((noinline)) peek_loop(zkc_cache_t *c, const char *node, int n)
{ int i; for (i = 0; i < n; i++) { const char *d; size_t len;
  zkc_cache_pin(c); if (zkc_cache_peek(&d, &len, NULL, c, node) != ZKC_OK) exit(3); zkc_cache_unpin(c); } }
int main(int argc, char **argv)
{
	zkc_t *zk = NULL; zkc_cache_t *c = NULL; zkc_cache_options_t o = ZKC_CACHE_OPTIONS_INIT;
	const char *node = "/cgread-bench-hot"; char data[100]; int n = atoi(argv[1]);
	memset(data, 'x', sizeof(data));
	if (zkc_open(&zk, NULL, NULL) != ZKC_OK) return 2;
	zkc_delete(zk, node, -1, 0);
	if (zkc_create(NULL, NULL, zk, node, data, sizeof(data), NULL) != ZKC_OK) return 2;
	o.depth = 0; o.events = 0;
	if (zkc_cache_open(&c, zk, node, &o) != ZKC_OK || zkc_cache_wait_initialized(c, 30000) != ZKC_OK) return 2;
	get_loop(c, node, n); peek_loop(c, node, n);
	zkc_cache_close(c); zkc_delete(zk, node, -1, 0); zkc_close(zk); return 0;
}
