/* tests/integration/test_cache.c - the watch-driven cache against a real
 * ensemble: loading, change events, depth, filters, limits, paths that do
 * not exist yet or are deleted under the cache, pins and bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "test_cache_rec.h"

static zkc_t *zk;   /* the cache's client */
static zkc_t *wr;   /* another client that writes */

static int setup(void **state)
{
	if (h_setup_shared(state) != 0)
		return -1;
	zk = h_open(NULL, NULL);
	wr = h_open(NULL, NULL);
	return zk && wr ? 0 : -1;
}

static int teardown(void **state)
{
	zkc_close(zk);
	zkc_close(wr);
	return h_teardown(state);
}

static void mk(const char *base, const char *rel, const char *data)
{
	char *p = rel ? h_join(base, rel) : strdup(base);

	assert_int_equal(zkc_create(NULL, NULL, wr, p, data, strlen(data), NULL), ZKC_OK);
	free(p);
}

static zkc_cache_t *open_cache(const char *path, rec_t *r, zkc_cache_options_t *o)
{
	zkc_cache_options_t def = ZKC_CACHE_OPTIONS_INIT;
	zkc_cache_t *c = NULL;

	if (!o)
		o = &def;
	o->event_fn = rec_event;
	o->event_payload = r;
	assert_int_equal(zkc_cache_open(&c, zk, path, o), ZKC_OK);
	return c;
}

static void assert_cached(zkc_cache_t *c, const char *path, const char *data)
{
	char *got = NULL;
	size_t len = 0;
	zkc_stat_t st;

	assert_int_equal(zkc_cache_get(&got, &len, &st, c, path), ZKC_OK);
	assert_int_equal(len, strlen(data));
	assert_string_equal(got, data);
	assert_int_equal(st.data_length, (int32_t)len);
	zkc_free(got);
}

/* The cache equals the server's tree under root, and the replayed events
 * equal the cache. */
static void assert_mirrors(zkc_cache_t *c, rec_t *r, const char *root, int depth)
{
	tnode_t *srv = NULL, *cache = NULL, *replay = NULL;

	assert_int_equal(tmap_from_server(&srv, wr, root, depth), ZKC_OK);
	tmap_from_cache(&cache, c);
	rec_replay(r, &replay);
	assert_int_equal(tmap_diff(&srv, &cache, "server", "cache"), 0);
	assert_int_equal(tmap_diff(&cache, &replay, "cache", "replay"), 0);
	tmap_free(&srv);
	tmap_free(&cache);
	tmap_free(&replay);
}

static void test_tree_loads_with_events_then_initialized(void **state)
{
	char *p = h_path("load"), *a = h_join(p, "a"), *ax = h_join(p, "a/x");
	zkc_strings_t *kids = NULL;
	rec_t *r = rec_new();
	zkc_cache_t *c;
	int init;
	(void)state;

	mk(p, NULL, "root");
	mk(p, "a", "A");
	mk(p, "a/x", "X");
	mk(p, "b", "");
	c = open_cache(p, r, NULL);
	assert_int_equal(zkc_cache_wait_initialized(c, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_int_equal(zkc_cache_count(c), 4);
	assert_int_equal(zkc_cache_bytes(c), 6);
	assert_cached(c, p, "root");
	assert_cached(c, a, "A");
	assert_cached(c, ax, "X");
	assert_int_equal(zkc_cache_children(&kids, c, p), ZKC_OK);
	assert_int_equal(kids->count, 2);
	assert_string_equal(kids->items[0], "a");
	assert_string_equal(kids->items[1], "b");
	zkc_strings_free(kids);
	/* Four ADDED, parents first, then INITIALIZED once. */
	init = rec_find(r, 0, ZKC_CACHE_INITIALIZED, NULL);
	assert_int_equal(init, 4);
	assert_true(rec_find(r, 0, ZKC_CACHE_ADDED, a) < rec_find(r, 0, ZKC_CACHE_ADDED, ax));
	assert_int_equal(rec_find(r, init + 1, ZKC_CACHE_INITIALIZED, NULL), -1);
	assert_mirrors(c, r, p, -1);
	zkc_cache_close(c);
	rec_free(r);
	zkc_delete(wr, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
	free(a);
	free(ax);
}

static void test_changes_come_as_events_and_reads_see_own_writes(void **state)
{
	char *p = h_path("chg"), *a = h_join(p, "a"), *b = h_join(p, "b"), *cc = h_join(p, "c");
	rec_t *r = rec_new();
	zkc_stat_t st, cst;
	zkc_cache_t *c;
	int from, i;
	rec_ev_t e;
	(void)state;

	mk(p, NULL, "");
	mk(p, "a", "v1");
	mk(p, "b", "gone soon");
	c = open_cache(p, r, NULL);
	assert_int_equal(zkc_cache_wait_initialized(c, h_timeout(H_TIMEOUT_MS)), ZKC_OK);

	/* Update: read-your-writes through the write's mzxid. */
	from = rec_count(r);
	assert_int_equal(zkc_set(&st, wr, a, "v2-longer", 9, -1), ZKC_OK);
	assert_int_equal(zkc_cache_wait_zxid(c, st.mzxid, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_cached(c, a, "v2-longer");
	i = rec_find(r, from, ZKC_CACHE_UPDATED, a);
	assert_true(i >= 0);
	e = rec_get(r, i);
	assert_int_equal(e.stat.mzxid, st.mzxid);
	assert_string_equal(e.data, "v2-longer");
	free(e.path);
	free(e.data);

	/* Delete one, create another. */
	assert_int_equal(zkc_delete(wr, b, -1, 0), ZKC_OK);
	assert_int_equal(zkc_create(NULL, &cst, wr, cc, "new", 3, NULL), ZKC_OK);
	assert_int_equal(zkc_cache_wait_zxid(c, cst.czxid, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_true(rec_find(r, from, ZKC_CACHE_REMOVED, b) >= 0);
	assert_true(rec_find(r, from, ZKC_CACHE_ADDED, cc) >= 0);
	assert_int_equal(zkc_cache_get(NULL, NULL, NULL, c, b), ZKC_ENONODE);
	assert_cached(c, cc, "new");

	/* Delete and create again with the same data: seen by czxid. */
	from = rec_count(r);
	assert_int_equal(zkc_delete(wr, cc, -1, 0), ZKC_OK);
	assert_int_equal(zkc_create(NULL, &st, wr, cc, "new", 3, NULL), ZKC_OK);
	assert_int_equal(zkc_cache_wait_zxid(c, st.czxid, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_true(rec_find(r, from, ZKC_CACHE_REMOVED, cc) >= 0);
	assert_true(rec_find(r, from, ZKC_CACHE_ADDED, cc) > rec_find(r, from, ZKC_CACHE_REMOVED, cc));
	assert_int_equal(zkc_cache_get(NULL, NULL, &cst, c, cc), ZKC_OK);
	assert_int_equal(cst.czxid, st.czxid);
	assert_mirrors(c, r, p, -1);
	zkc_cache_close(c);
	rec_free(r);
	zkc_delete(wr, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
	free(a);
	free(b);
	free(cc);
}

static void test_path_that_does_not_exist_yet_fills_when_it_appears(void **state)
{
	char *p = h_path("later"), *k = h_join(p, "k");
	rec_t *r = rec_new();
	zkc_stat_t st;
	zkc_cache_t *c;
	(void)state;

	c = open_cache(p, r, NULL);
	assert_int_equal(zkc_cache_wait_initialized(c, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_int_equal(zkc_cache_count(c), 0);
	assert_int_equal(zkc_cache_get(NULL, NULL, NULL, c, p), ZKC_ENONODE);
	assert_int_equal(rec_find(r, 0, ZKC_CACHE_INITIALIZED, NULL), 0);

	mk(p, NULL, "here");
	assert_int_equal(zkc_create(NULL, &st, wr, k, "kid", 3, NULL), ZKC_OK);
	assert_int_equal(zkc_cache_wait_zxid(c, st.czxid, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	H_WAIT_UNTIL(zkc_cache_count(c) == 2, H_TIMEOUT_MS);
	assert_cached(c, p, "here");
	assert_cached(c, k, "kid");
	assert_true(rec_find(r, 0, ZKC_CACHE_ADDED, p) >= 0);
	assert_mirrors(c, r, p, -1);
	zkc_cache_close(c);
	rec_free(r);
	zkc_delete(wr, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
	free(k);
}

static void test_root_deleted_under_the_cache_empties_it_and_it_refills(void **state)
{
	char *p = h_path("rootdel"), *a = h_join(p, "a"), *ax = h_join(p, "a/x");
	rec_t *r = rec_new();
	zkc_cache_t *c;
	zkc_stat_t st;
	int from;
	(void)state;

	mk(p, NULL, "r");
	mk(p, "a", "A");
	mk(p, "a/x", "X");
	c = open_cache(p, r, NULL);
	assert_int_equal(zkc_cache_wait_initialized(c, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_int_equal(zkc_cache_count(c), 3);

	from = rec_count(r);
	assert_int_equal(zkc_delete(wr, p, -1, ZKC_DELETE_RECURSIVE), ZKC_OK);
	H_WAIT_UNTIL(zkc_cache_count(c) == 0, H_TIMEOUT_MS);
	H_WAIT_UNTIL(rec_find(r, from, ZKC_CACHE_REMOVED, p) >= 0, H_TIMEOUT_MS);
	/* Children leave before their parents. */
	assert_true(rec_find(r, from, ZKC_CACHE_REMOVED, ax) < rec_find(r, from, ZKC_CACHE_REMOVED, a));
	assert_true(rec_find(r, from, ZKC_CACHE_REMOVED, a) < rec_find(r, from, ZKC_CACHE_REMOVED, p));

	/* It comes back. */
	mk(p, NULL, "again");
	assert_int_equal(zkc_create(NULL, &st, wr, a, "A2", 2, NULL), ZKC_OK);
	assert_int_equal(zkc_cache_wait_zxid(c, st.czxid, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	H_WAIT_UNTIL(zkc_cache_count(c) == 2, H_TIMEOUT_MS);
	assert_cached(c, p, "again");
	assert_cached(c, a, "A2");
	assert_mirrors(c, r, p, -1);
	zkc_cache_close(c);
	rec_free(r);
	zkc_delete(wr, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
	free(a);
	free(ax);
}

static void test_depth_bounds_what_is_cached(void **state)
{
	char *p = h_path("depth"), *a = h_join(p, "a"), *ax = h_join(p, "a/x");
	zkc_cache_options_t o = ZKC_CACHE_OPTIONS_INIT;
	zkc_strings_t *kids = NULL;
	rec_t *r0 = rec_new(), *r1 = rec_new();
	zkc_cache_t *c0, *c1;
	zkc_stat_t st;
	(void)state;

	mk(p, NULL, "r");
	mk(p, "a", "A");
	mk(p, "a/x", "X");
	o.depth = 0;
	c0 = open_cache(p, r0, &o);
	o.depth = 1;
	c1 = open_cache(p, r1, &o);
	assert_int_equal(zkc_cache_wait_initialized(c0, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_int_equal(zkc_cache_wait_initialized(c1, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_int_equal(zkc_cache_count(c0), 1);
	assert_int_equal(zkc_cache_count(c1), 2);
	assert_int_equal(zkc_cache_get(NULL, NULL, NULL, c1, ax), ZKC_ENONODE);
	assert_int_equal(zkc_cache_children(&kids, c0, p), ZKC_OK);
	assert_int_equal(kids->count, 0);
	zkc_strings_free(kids);

	/* A new child reaches the depth-1 cache only; data reaches both. */
	assert_int_equal(zkc_create(NULL, &st, wr, ax, "no", 2, NULL) == ZKC_ENODEEXISTS, 1);
	mk(p, "b", "B");
	assert_int_equal(zkc_set(&st, wr, p, "r2", 2, -1), ZKC_OK);
	assert_int_equal(zkc_cache_wait_zxid(c0, st.mzxid, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_int_equal(zkc_cache_wait_zxid(c1, st.mzxid, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_cached(c0, p, "r2");
	assert_int_equal(zkc_cache_count(c0), 1);
	assert_int_equal(zkc_cache_count(c1), 3);
	assert_mirrors(c0, r0, p, 0);
	assert_mirrors(c1, r1, p, 1);
	zkc_cache_close(c0);
	zkc_cache_close(c1);
	rec_free(r0);
	rec_free(r1);
	zkc_delete(wr, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
	free(a);
	free(ax);
}

static int skip_filter(const char *path, int depth, void *payload)
{
	(void)depth;
	(void)payload;
	return strstr(path, "/skip") == NULL;
}

static void test_filter_and_data_off(void **state)
{
	char *p = h_path("filt"), *keep = h_join(p, "keep"), *skip = h_join(p, "skip");
	zkc_cache_options_t o = ZKC_CACHE_OPTIONS_INIT;
	rec_t *r = rec_new();
	zkc_cache_t *c;
	char *got = NULL;
	size_t len = 99;
	zkc_stat_t st;
	(void)state;

	mk(p, NULL, "");
	mk(p, "keep", "12345");
	mk(p, "skip", "x");
	mk(p, "skip/deeper", "y");
	o.filter = skip_filter;
	o.data = 0;
	c = open_cache(p, r, &o);
	assert_int_equal(zkc_cache_wait_initialized(c, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_int_equal(zkc_cache_count(c), 2);
	assert_int_equal(zkc_cache_get(NULL, NULL, NULL, c, skip), ZKC_ENONODE);
	assert_int_equal(zkc_cache_get(&got, &len, &st, c, keep), ZKC_OK);
	assert_int_equal(len, 0);
	assert_string_equal(got, "");
	assert_int_equal(st.data_length, 5);
	assert_int_equal(zkc_cache_bytes(c), 0);
	zkc_free(got);
	zkc_cache_close(c);
	rec_free(r);
	zkc_delete(wr, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
	free(keep);
	free(skip);
}

static void test_limits_give_a_clear_error(void **state)
{
	char *p = h_path("limits");
	zkc_cache_options_t o = ZKC_CACHE_OPTIONS_INIT;
	rec_t *r = rec_new(), *rb = rec_new();
	zkc_cache_t *c, *cb;
	char name[16];
	int i, ov;
	(void)state;

	mk(p, NULL, "");
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		mk(p, name, "0123456789");
	}
	o.max_nodes = 4;
	c = open_cache(p, r, &o);
	assert_int_equal(zkc_cache_wait_initialized(c, h_timeout(H_TIMEOUT_MS)), ZKC_ETOOLARGE);
	assert_int_equal(zkc_error_last()->code, ZKC_ETOOLARGE);
	assert_int_equal(zkc_cache_status(c), ZKC_ETOOLARGE);
	H_WAIT_UNTIL(rec_find(r, 0, ZKC_CACHE_OVERFLOW, NULL) >= 0, H_TIMEOUT_MS);
	assert_true(zkc_cache_count(c) <= 4);

	o.max_nodes = 0;
	o.max_bytes = 25;
	cb = open_cache(p, rb, &o);
	assert_int_equal(zkc_cache_wait_initialized(cb, h_timeout(H_TIMEOUT_MS)), ZKC_ETOOLARGE);
	H_WAIT_UNTIL((ov = rec_find(rb, 0, ZKC_CACHE_OVERFLOW, NULL)) >= 0, H_TIMEOUT_MS);
	assert_true(zkc_cache_bytes(cb) <= 25);
	zkc_cache_close(c);
	zkc_cache_close(cb);
	rec_free(r);
	rec_free(rb);
	zkc_delete(wr, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
}

static void test_bad_input_gets_clear_codes(void **state)
{
	zkc_cache_options_t o = ZKC_CACHE_OPTIONS_INIT;
	zkc_cache_t *c = (zkc_cache_t *)&o;
	zkc_strings_t *kids = NULL;
	(void)state;

	assert_int_equal(zkc_cache_open(&c, zk, "no-slash", NULL), ZKC_EBADARGUMENTS);
	assert_null(c);
	assert_int_equal(zkc_cache_open(&c, zk, "/a/", NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_cache_open(&c, zk, NULL, NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_cache_open(&c, NULL, "/a", NULL), ZKC_EBADARGUMENTS);
	o.version = 99;
	assert_int_equal(zkc_cache_open(&c, zk, "/a", &o), ZKC_EBADARGUMENTS);
	o.version = ZKC_CACHE_OPTIONS_VERSION;
	o.depth = -2;
	assert_int_equal(zkc_cache_open(&c, zk, "/a", &o), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_cache_get(NULL, NULL, NULL, NULL, "/a"), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_cache_children(&kids, NULL, "/a"), ZKC_EBADARGUMENTS);
	zkc_cache_close(NULL);
	assert_int_equal(zkc_cache_wait_zxid(NULL, 1, 0), ZKC_EBADARGUMENTS);

	/* A cache of a missing node answers ENONODE for any path. */
	o.depth = ZKC_CACHE_DEPTH_ALL;
	assert_int_equal(zkc_cache_open(&c, zk, "/zkct_never_there", &o), ZKC_OK);
	assert_int_equal(zkc_cache_wait_initialized(c, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_int_equal(zkc_cache_get(NULL, NULL, NULL, c, "/zkct_never_there"), ZKC_ENONODE);
	assert_int_equal(zkc_cache_children(&kids, c, "/other"), ZKC_ENONODE);
	assert_int_equal(zkc_cache_foreach(c, NULL, tmap_visit, NULL), ZKC_ENONODE);
	/* Nothing written there: zxid far ahead times out. */
	assert_int_equal(zkc_cache_wait_zxid(c, INT64_MAX, 50), ZKC_ETIMEDOUT);
	zkc_cache_close(c);
}

static int count_visit(const char *path, const char *data, size_t len, const zkc_stat_t *st,
                       void *payload)
{
	(void)path;
	(void)data;
	(void)len;
	(void)st;
	++*(int *)payload;
	return 0;
}

static void test_pins_and_foreach_borrow_without_copies(void **state)
{
	char *p = h_path("pin"), *a = h_join(p, "a");
	rec_t *r = rec_new();
	const char *data = NULL;
	zkc_cache_t *c;
	zkc_stat_t st;
	size_t len = 0;
	int n = 0;
	(void)state;

	mk(p, NULL, "P");
	mk(p, "a", "borrowed");
	mk(p, "a/b", "");
	c = open_cache(p, r, NULL);
	assert_int_equal(zkc_cache_wait_initialized(c, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	zkc_cache_pin(c);
	assert_int_equal(zkc_cache_peek(&data, &len, &st, c, a), ZKC_OK);
	assert_int_equal(zkc_cache_peek(NULL, NULL, NULL, c, "/nope"), ZKC_ENONODE);
	zkc_cache_unpin(c);
	assert_int_equal(len, 8);
	assert_int_equal(st.data_length, 8);
	assert_int_equal(zkc_cache_foreach(c, NULL, count_visit, &n), ZKC_OK);
	assert_int_equal(n, 3);
	n = 0;
	assert_int_equal(zkc_cache_foreach(c, a, count_visit, &n), ZKC_OK);
	assert_int_equal(n, 2);
	assert_string_equal(zkc_cache_path(c), p);
	zkc_cache_close(c);
	rec_free(r);
	zkc_delete(wr, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
	free(a);
}

static void test_events_go_to_the_client_queue_without_a_callback(void **state)
{
	char *p = h_path("queue");
	zkc_cache_t *c = NULL;
	zkc_t *q = h_open(NULL, NULL);
	zkc_event_t *ev = NULL;
	int added = 0, init = 0, guard;
	(void)state;

	mk(p, NULL, "x");
	assert_int_equal(zkc_cache_open(&c, q, p, NULL), ZKC_OK);
	for (guard = 0; guard < 100 && !init; guard++) {
		assert_int_equal(zkc_events_next(&ev, q, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
		if (ev->type == ZKC_EVENT_CACHE_ADDED) {
			assert_string_equal(ev->path, p);
			added++;
		}
		init += ev->type == ZKC_EVENT_CACHE_INITIALIZED;
		zkc_event_free(ev);
	}
	assert_int_equal(added, 1);
	assert_int_equal(init, 1);
	zkc_cache_close(c);
	zkc_close(q);
	zkc_delete(wr, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
}

typedef struct closer {
	int calls;       /* events delivered */
	int after;       /* events delivered after the close */
	int closed;
} closer_t;

static void close_from_callback(zkc_cache_t *c, const zkc_cache_event_t *ev, void *payload)
{
	closer_t *cl = payload;

	(void)ev;
	__atomic_add_fetch(&cl->calls, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&cl->closed, __ATOMIC_SEQ_CST)) {
		__atomic_add_fetch(&cl->after, 1, __ATOMIC_SEQ_CST);
		return;
	}
	/* the first event (the root's ADDED): later ones of the same load
	 * are queued behind it and must never arrive */
	zkc_cache_close(c);
	zkc_cache_close(c);  /* again from the callback: still one close */
	__atomic_store_n(&cl->closed, 1, __ATOMIC_SEQ_CST);
}

static void test_close_from_its_callback_takes_effect_when_it_returns(void **state)
{
	zkc_cache_options_t o = ZKC_CACHE_OPTIONS_INIT;
	closer_t cl = { 0, 0, 0 };
	zkc_cache_t *c = NULL, *witness = NULL;
	char *root = h_path("cache-close-cb"), *kid = h_join(root, "a"), *kid2 = h_join(root, "b");
	(void)state;

	assert_int_equal(zkc_create(NULL, NULL, wr, root, "r", 1, NULL), ZKC_OK);
	assert_int_equal(zkc_create(NULL, NULL, wr, kid, "a", 1, NULL), ZKC_OK);
	o.event_fn = close_from_callback;
	o.event_payload = &cl;
	assert_int_equal(zkc_cache_open(&c, zk, root, &o), ZKC_OK);
	H_WAIT_UNTIL(__atomic_load_n(&cl.closed, __ATOMIC_SEQ_CST), H_TIMEOUT_MS);
	/* a change after the close: a second cache of the same client sees
	 * it, the closed one says nothing (and its memory is freed on the
	 * event thread: the sanitizer build checks that) */
	assert_int_equal(zkc_cache_open(&witness, zk, root, NULL), ZKC_OK);
	assert_int_equal(zkc_cache_wait_initialized(witness, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_int_equal(zkc_create(NULL, NULL, wr, kid2, "b", 1, NULL), ZKC_OK);
	H_WAIT_UNTIL(zkc_cache_get(NULL, NULL, NULL, witness, kid2) == ZKC_OK, H_TIMEOUT_MS);
	assert_int_equal(__atomic_load_n(&cl.calls, __ATOMIC_SEQ_CST), 1);
	assert_int_equal(__atomic_load_n(&cl.after, __ATOMIC_SEQ_CST), 0);
	zkc_cache_close(witness);
	assert_int_equal(zkc_delete(wr, root, -1, ZKC_DELETE_RECURSIVE), ZKC_OK);
	free(kid);
	free(kid2);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_loads_with_events_then_initialized),
		cmocka_unit_test(test_changes_come_as_events_and_reads_see_own_writes),
		cmocka_unit_test(test_path_that_does_not_exist_yet_fills_when_it_appears),
		cmocka_unit_test(test_root_deleted_under_the_cache_empties_it_and_it_refills),
		cmocka_unit_test(test_depth_bounds_what_is_cached),
		cmocka_unit_test(test_filter_and_data_off),
		cmocka_unit_test(test_limits_give_a_clear_error),
		cmocka_unit_test(test_bad_input_gets_clear_codes),
		cmocka_unit_test(test_pins_and_foreach_borrow_without_copies),
		cmocka_unit_test(test_events_go_to_the_client_queue_without_a_callback),
		cmocka_unit_test(test_close_from_its_callback_takes_effect_when_it_returns),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
