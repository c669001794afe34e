/* tests/integration/test_cache_model.c - model-based test of the cache
 * under real faults: a seeded random sequence of 10,000 creates, deletes,
 * re-creates and sets from another client while the cache's server is
 * killed, its session is expired and its connections are cut; afterwards
 * the cache equals the server's tree, and replaying its events onto an
 * empty map gives the same tree.
 *
 * ZKC_TEST_SEED picks the sequence (default 20261125). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "test_cache_rec.h"

#define NOPS 10000
#define BATCH 25
#define NA 5
#define NB 5
#define NC 4
#define NPATHS (NA + NA * NB + NA * NB * NC)

static uint64_t rng;

static uint64_t rnd(void)
{
	/* xorshift64*: a fixed, portable sequence for a seed */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

typedef struct model {
	char *root;
	char *paths[NPATHS];
	int parent[NPATHS];   /* index, -1 = the root */
	int exists[NPATHS];
} model_t;

static void model_init(model_t *m, const char *root)
{
	int a, b, cc, n = 0;
	char rel[64];

	m->root = strdup(root);
	for (a = 0; a < NA; a++) {
		int ia = n;

		snprintf(rel, sizeof(rel), "a%d", a);
		m->paths[n] = h_join(root, rel);
		m->parent[n++] = -1;
		for (b = 0; b < NB; b++) {
			int ib = n;

			snprintf(rel, sizeof(rel), "a%d/b%d", a, b);
			m->paths[n] = h_join(root, rel);
			m->parent[n++] = ia;
			for (cc = 0; cc < NC; cc++) {
				snprintf(rel, sizeof(rel), "a%d/b%d/c%d", a, b, cc);
				m->paths[n] = h_join(root, rel);
				m->parent[n++] = ib;
			}
		}
	}
	memset(m->exists, 0, sizeof(m->exists));
}

static void model_free(model_t *m)
{
	int i;

	for (i = 0; i < NPATHS; i++)
		free(m->paths[i]);
	free(m->root);
}

static int has_kids(model_t *m, int i)
{
	int j;

	for (j = 0; j < NPATHS; j++)
		if (m->parent[j] == i && m->exists[j])
			return 1;
	return 0;
}

/* Adds one random op for path i (or its missing parent) to the batch;
 * records which path each op touched in touched[]. */
static void add_op(model_t *m, zkc_batch_t *b, int *touched, int *nt)
{
	int i = (int)(rnd() % NPATHS), r = (int)(rnd() % 100);
	char data[32];
	size_t len = (size_t)snprintf(data, sizeof(data), "v%llu", (unsigned long long)(rnd() % 100000));

	if (rnd() % 4 == 0)
		len = 0;  /* empty data too */
	while (!m->exists[i] && m->parent[i] >= 0 && !m->exists[m->parent[i]])
		i = m->parent[i];
	if (!m->exists[i]) {
		zkc_batch_create(b, m->paths[i], data, len, NULL);
		m->exists[i] = 1;
	} else if (r < 50 || has_kids(m, i)) {
		zkc_batch_set(b, m->paths[i], data, len, -1);
	} else if (r < 80) {
		zkc_batch_delete(b, m->paths[i], -1);
		m->exists[i] = 0;
	} else {
		/* Delete and create again: only (czxid, mzxid) tells. */
		zkc_batch_delete(b, m->paths[i], -1);
		zkc_batch_create(b, m->paths[i], data, len, NULL);
		touched[(*nt)++] = i;
	}
	touched[(*nt)++] = i;
}

/* After a batch with lost replies the model is re-read from the server. */
static void model_refresh(model_t *m, zkc_t *zk)
{
	int i;

	for (i = 0; i < NPATHS; i++) {
		int rc = zkc_exists(NULL, zk, m->paths[i]);

		assert_true(rc == ZKC_OK || rc == ZKC_ENONODE);
		m->exists[i] = rc == ZKC_OK;
	}
}

static int proxy_of_current(zkc_t *zk, h_proxy_t **px)
{
	char *cur = NULL;
	int i, port, found = -1;

	if (zkc_current_server(&cur, zk) != ZKC_OK)
		return -1;
	port = atoi(strrchr(cur, ':') + 1);
	for (i = 0; i < 3; i++)
		if (h_proxy_port(px[i]) == port)
			found = i;
	zkc_free(cur);
	return found;
}

/* Event-log checks: ADDED only for absent paths, UPDATED and REMOVED only
 * for present ones, and per incarnation mzxid only grows. */
static void check_event_order(rec_t *r)
{
	tnode_t *m = NULL, *t;
	size_t i;

	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->n; i++) {
		rec_ev_t *e = &r->evs[i];

		if (e->type > ZKC_CACHE_REMOVED)
			continue;
		t = NULL;
		HASH_FIND_STR(m, e->path, t);
		if (e->type == ZKC_CACHE_ADDED) {
			assert_null(t);
			tmap_put(&m, e->path, e->data, e->len, e->stat.czxid, e->stat.mzxid);
		} else if (e->type == ZKC_CACHE_UPDATED) {
			assert_non_null(t);
			assert_true(t->czxid == e->stat.czxid);
			assert_true(e->stat.mzxid > t->mzxid);
			tmap_put(&m, e->path, e->data, e->len, e->stat.czxid, e->stat.mzxid);
		} else {
			assert_non_null(t);
			tmap_del(&m, e->path);
		}
	}
	pthread_mutex_unlock(&r->mu);
	tmap_free(&m);
}

static void test_cache_equals_server_after_random_ops_under_faults(void **state)
{
	const char *env = getenv("ZKC_TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : 20261125ULL;
	h_proxy_t *px[3] = { NULL, NULL, NULL };
	tnode_t *srv = NULL, *cache = NULL, *replay = NULL;
	int touched[2 * BATCH], nt, done = 0, i, killed = -1, faults = 0;
	char url[256], *root = h_path("model");
	rec_t *r = rec_new();
	zkc_cache_options_t o = ZKC_CACHE_OPTIONS_INIT;
	zkc_t *zk, *wr;
	zkc_cache_t *c = NULL;
	zkc_batch_t *b = NULL;
	zkc_stat_t st;
	model_t m;
	int64_t t0 = h_now_ms();
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	rng = seed ? seed : 1;
	print_message("# seed %llu (ZKC_TEST_SEED)\n", (unsigned long long)seed);
	for (i = 0; i < 3; i++)
		assert_int_equal(h_proxy_to_node(&px[i], i), 0);
	snprintf(url, sizeof(url), "zk://127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d?session_timeout=6s",
	         h_proxy_port(px[0]), h_proxy_port(px[1]), h_proxy_port(px[2]));
	zk = h_open(url, NULL);
	wr = h_open(NULL, NULL);
	model_init(&m, root);
	assert_int_equal(zkc_create(NULL, NULL, wr, root, "", 0, NULL), ZKC_OK);

	o.event_fn = rec_event;
	o.event_payload = r;
	assert_int_equal(zkc_cache_open(&c, zk, root, &o), ZKC_OK);
	assert_int_equal(zkc_cache_wait_initialized(c, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_int_equal(zkc_batch_new(&b), ZKC_OK);

	while (done < NOPS) {
		int lost = 0;

		/* Faults at fixed points of the sequence. */
		if (done >= 2000 && faults == 0) {
			killed = proxy_of_current(zk, px);
			assert_true(killed >= 0);
			print_message("# kill node %d (the cache's server)\n", killed);
			assert_int_equal(h_kill(killed), 0);
			faults++;
		} else if (done >= 3500 && faults == 1) {
			assert_int_equal(h_restart(killed), 0);
			assert_int_equal(h_wait_quorum(), 0);
			faults++;
		} else if (done >= 4500 && faults == 2) {
			print_message("# expire the cache's session\n");
			assert_int_equal(zkc_testing_expire_session(zk, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
			faults++;
		} else if (done >= 6500 && faults == 3) {
			print_message("# cut the cache's connections\n");
			for (i = 0; i < 3; i++)
				h_proxy_cut(px[i]);
			faults++;
		} else if (done >= 8500 && faults == 4) {
			for (i = 0; i < 3; i++)
				h_proxy_cut(px[i]);
			faults++;
		}
		zkc_batch_clear(b);
		nt = 0;
		for (i = 0; i < BATCH && done < NOPS; i++, done++)
			add_op(&m, b, touched, &nt);
		if (zkc_batch_run(wr, b) != ZKC_OK) {
			lost = 1;
		} else {
			for (i = 0; i < (int)zkc_batch_count(b); i++) {
				int code = zkc_batch_code(b, (size_t)i);

				/* The model predicts every answer but lost ones. */
				if (code != ZKC_OK)
					lost = 1;
			}
		}
		if (lost)
			model_refresh(&m, wr);
	}
	assert_int_equal(faults, 5);

	/* Quiescence: a last write, then read-your-writes on its zxid. */
	assert_int_equal(zkc_set(&st, wr, root, "end", 3, -1), ZKC_OK);
	assert_int_equal(zkc_cache_wait_zxid(c, st.mzxid, h_timeout(60000)), ZKC_OK);
	assert_int_equal(tmap_from_server(&srv, wr, root, -1), ZKC_OK);
	tmap_from_cache(&cache, c);
	rec_replay(r, &replay);
	print_message("# %d ops, %u nodes at the end, %d events, %lld ms\n", NOPS,
	              HASH_COUNT(srv), rec_count(r), (long long)(h_now_ms() - t0));
	assert_int_equal(tmap_diff(&srv, &cache, "server", "cache"), 0);
	assert_int_equal(tmap_diff(&cache, &replay, "cache", "replay"), 0);
	check_event_order(r);
	/* The faults were seen and recovered from. */
	assert_true(rec_find(r, 0, ZKC_CACHE_SUSPENDED, NULL) >= 0);
	assert_true(rec_find(r, rec_find(r, 0, ZKC_CACHE_SUSPENDED, NULL), ZKC_CACHE_RESYNCED,
	                     NULL) >= 0);
	assert_int_equal(zkc_cache_status(c), ZKC_OK);

	tmap_free(&srv);
	tmap_free(&cache);
	tmap_free(&replay);
	zkc_cache_close(c);
	zkc_batch_free(b);
	rec_free(r);
	zkc_delete(wr, root, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	zkc_close(wr);
	for (i = 0; i < 3; i++)
		h_proxy_free(px[i]);
	model_free(&m);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_equals_server_after_random_ops_under_faults),
	};

	return cmocka_run_group_tests(tests, h_setup_3, h_teardown);
}
