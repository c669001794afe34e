/* tests/integration/test_history_reset.c - the ensemble that lost its data:
 * every server of a real 3-node ensemble is killed, its data deleted and
 * started again, so zxids start over below those the client saw. The
 * client must get a new session, announce the history reset, and its
 * cache, index and counter must work against the new history. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

/* Cache events by type, counted from the event thread. */
typedef struct cev {
	pthread_mutex_t mu;
	int n[16];
	int removed_after_reset;
} cev_t;

static void on_cache(zkc_cache_t *c, const zkc_cache_event_t *ev, void *payload)
{
	cev_t *e = payload;

	(void)c;
	pthread_mutex_lock(&e->mu);
	if (ev->type >= 0 && ev->type < 16)
		e->n[ev->type]++;
	if (ev->type == ZKC_CACHE_REMOVED && e->n[ZKC_CACHE_RESET] > 0)
		e->removed_after_reset++;
	pthread_mutex_unlock(&e->mu);
}

static int cev_count(cev_t *e, int type)
{
	int n;

	pthread_mutex_lock(&e->mu);
	n = type < 0 ? e->removed_after_reset : e->n[type];
	pthread_mutex_unlock(&e->mu);
	return n;
}

static const zkc_index_field_t fields[] = { { "color", 0 } };

static void put_wait(zkc_index_t *ix, const char *id, const char *color)
{
	zkc_index_kv_t kv = { "color", color, strlen(color) };

	assert_int_equal(zkc_index_put(ix, id, strlen(id), id, strlen(id), &kv, 1,
	                               ZKC_INDEX_WAIT), ZKC_OK);
}

/* How many records the index's cache lists for color. */
static size_t found(zkc_index_t *ix, const char *color)
{
	zkc_index_hits_t *h = NULL;
	size_t n;

	assert_int_equal(zkc_index_find(&h, ix, "color", color, strlen(color), 0, 0), ZKC_OK);
	n = h->count;
	zkc_index_hits_free(h);
	return n;
}

static void test_wiped_ensemble_resets_history_cache_index_and_counter(void **state)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	h_events_t *evs = h_events_new();
	cev_t cev = { PTHREAD_MUTEX_INITIALIZER, { 0 }, 0 };
	zkc_cache_options_t co = ZKC_CACHE_OPTIONS_INIT;
	zkc_cache_t *c = NULL;
	zkc_index_options_t io = ZKC_INDEX_OPTIONS_INIT;
	zkc_index_t *ix = NULL;
	zkc_counter_t *ctr = NULL;
	zkc_t *zk;
	char *root = h_path("wipe"), *node = h_join(root, "n"), *ixp = h_join(root, "ix");
	char *ctrp = h_join(root, "ctr"), *fresh = h_join(root, "fresh"), *got = NULL;
	int64_t sid0 = 0, sid1 = 0, v = 0, old_max;
	zkc_stat_t st;
	size_t len = 0;
	int i, lost, reset, conn;

	(void)state;
	H_NEED_OWN_ENSEMBLE();
	o.session_timeout_ms = 4000;
	o.event_fn = h_events_record;
	o.event_payload = evs;
	zk = h_open(NULL, &o);
	assert_non_null(zk);
	assert_int_equal(zkc_session(&sid0, NULL, NULL, zk), ZKC_OK);
	assert_int_equal(zkc_history_resets(zk), 0);

	/* The old history: enough writes that the new one stays below it. */
	assert_int_equal(zkc_create(NULL, NULL, zk, root, "", 0, NULL), ZKC_OK);
	assert_int_equal(zkc_create(NULL, NULL, zk, node, "old", 3, NULL), ZKC_OK);
	for (i = 0; i < 150; i++)
		assert_int_equal(zkc_set(&st, zk, node, "old", 3, -1), ZKC_OK);
	old_max = st.mzxid;
	co.event_fn = on_cache;
	co.event_payload = &cev;
	assert_int_equal(zkc_cache_open(&c, zk, root, &co), ZKC_OK);
	assert_int_equal(zkc_cache_wait_initialized(c, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_int_equal(zkc_cache_get(NULL, NULL, NULL, c, node), ZKC_OK);
	assert_int_equal(zkc_index_create(zk, ixp, fields, 1), ZKC_OK);
	io.cache_records = 1;
	assert_int_equal(zkc_index_open(&ix, zk, ixp, &io), ZKC_OK);
	put_wait(ix, "r1", "red");
	assert_int_equal(found(ix, "red"), 1);
	assert_int_equal(zkc_counter_open(&ctr, zk, ctrp, NULL), ZKC_OK);
	assert_int_equal(zkc_counter_add(&v, ctr, 40), ZKC_OK);
	assert_int_equal(v, 40);

	/* Every server loses its data. The old session is refused by all of
	 * them (they lack its zxids): presumed lost, then a new one. */
	assert_int_equal(h_wipe(), 0);
	H_WAIT_UNTIL(h_events_find(evs, 0, ZKC_EVENT_HISTORY_RESET, -1) >= 0, H_TIMEOUT_MS);
	assert_int_equal(zkc_wait_connected(zk, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_int_equal(zkc_session(&sid1, NULL, NULL, zk), ZKC_OK);
	assert_true(sid1 != sid0);
	assert_int_equal(zkc_history_resets(zk), 1);
	/* LOST, then the reset, then the new session's CONNECTED */
	lost = h_events_find(evs, 0, ZKC_EVENT_STATE, ZKC_STATE_LOST);
	reset = h_events_find(evs, 0, ZKC_EVENT_HISTORY_RESET, -1);
	H_WAIT_UNTIL(h_events_find(evs, reset, ZKC_EVENT_STATE, ZKC_STATE_CONNECTED) >= 0,
	             H_TIMEOUT_MS);
	conn = h_events_find(evs, reset, ZKC_EVENT_STATE, ZKC_STATE_CONNECTED);
	assert_true(lost >= 0 && lost < reset && reset < conn);
	assert_int_equal(h_events_session(evs, conn), sid1);
	/* The cache told its own RESET, and dropped the old tree. */
	H_WAIT_UNTIL(cev_count(&cev, ZKC_CACHE_RESET) == 1, H_TIMEOUT_MS);
	H_WAIT_UNTIL(zkc_cache_get(NULL, NULL, NULL, c, node) == ZKC_ENONODE, H_TIMEOUT_MS);
	assert_true(cev_count(&cev, -1) >= 2);  /* the root and node at least */

	/* Read-your-writes through the cache in the new history, which is
	 * below the old one (else this test would prove nothing). */
	assert_int_equal(zkc_create(NULL, NULL, zk, root, "", 0, NULL), ZKC_OK);
	assert_int_equal(zkc_create(NULL, NULL, zk, node, "new", 3, NULL), ZKC_OK);
	assert_int_equal(zkc_create(NULL, &st, zk, fresh, "after", 5, NULL), ZKC_OK);
	assert_true(st.czxid < old_max);
	assert_int_equal(zkc_cache_wait_zxid(c, st.czxid, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_int_equal(zkc_cache_get(&got, &len, NULL, c, fresh), ZKC_OK);
	assert_string_equal(got, "after");
	zkc_free(got);
	got = NULL;
	assert_int_equal(zkc_cache_get(&got, &len, NULL, c, node), ZKC_OK);
	assert_string_equal(got, "new");
	zkc_free(got);
	assert_int_equal(zkc_set(&st, zk, node, "newer", 5, -1), ZKC_OK);
	assert_int_equal(zkc_cache_wait_zxid(c, st.mzxid, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	got = NULL;
	assert_int_equal(zkc_cache_get(&got, &len, NULL, c, node), ZKC_OK);
	assert_string_equal(got, "newer");
	zkc_free(got);

	/* The index: the collection is made again (its data went with the
	 * ensemble's), a put waits for its own write, and lookups from the
	 * cache see the new record and not the old one. */
	assert_int_equal(zkc_index_create(zk, ixp, fields, 1), ZKC_OK);
	put_wait(ix, "r2", "blue");
	assert_int_equal(found(ix, "blue"), 1);
	assert_int_equal(found(ix, "red"), 0);
	{
		zkc_index_record_t *r = NULL;

		assert_int_equal(zkc_index_get(&r, ix, "r2", 2, 0), ZKC_OK);
		assert_string_equal(r->data, "r2");
		zkc_index_record_free(r);
		assert_int_equal(zkc_index_get(&r, ix, "r1", 2, 0), ZKC_ENONODE);
	}

	/* The counter starts from the new history's node, not from the 40
	 * it remembered with an mzxid the new history has not reached. */
	assert_int_equal(zkc_counter_add(&v, ctr, 2), ZKC_OK);
	assert_int_equal(v, 2);

	zkc_counter_close(ctr);
	zkc_index_close(ix);
	zkc_cache_close(c);
	zkc_close(zk);
	h_events_free(evs);
	free(root);
	free(node);
	free(ixp);
	free(ctrp);
	free(fresh);
}

/* A new session after an expiry on an ensemble that kept its data is not
 * a reset: the probe finds the server has every zxid the client saw. */
static void test_expiry_without_wipe_is_no_reset(void **state)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	h_events_t *evs = h_events_new();
	char *p = h_path("keep");
	zkc_stat_t st;
	int64_t sid0 = 0, sid1 = 0;
	zkc_t *zk;
	int i;

	(void)state;
	H_NEED_OWN_ENSEMBLE();
	o.session_timeout_ms = 4000;
	o.event_fn = h_events_record;
	o.event_payload = evs;
	zk = h_open(NULL, &o);
	assert_non_null(zk);
	assert_int_equal(zkc_create(NULL, &st, zk, p, "x", 1, NULL), ZKC_OK);
	assert_int_equal(zkc_session(&sid0, NULL, NULL, zk), ZKC_OK);
	/* Every server stopped past the session's timeout: presumed lost,
	 * and the session expires on the servers meanwhile. */
	for (i = 0; i < h_nodes(); i++)
		assert_int_equal(h_kill(i), 0);
	H_WAIT_UNTIL(h_events_find(evs, 0, ZKC_EVENT_STATE, ZKC_STATE_LOST) >= 0, H_TIMEOUT_MS);
	for (i = 0; i < h_nodes(); i++)  /* none serves alone: wait below */
		assert_int_equal(zkc_ens_restart(h_ens(), i, 0), ZKC_OK);
	assert_int_equal(h_wait_quorum(), 0);
	H_WAIT_UNTIL(zkc_session(&sid1, NULL, NULL, zk) == ZKC_OK && sid1 != sid0 &&
	             zkc_state(zk) == ZKC_STATE_CONNECTED, H_TIMEOUT_MS);
	assert_int_equal(zkc_history_resets(zk), 0);
	assert_int_equal(h_events_find(evs, 0, ZKC_EVENT_HISTORY_RESET, -1), -1);
	assert_int_equal(zkc_exists(NULL, zk, p), ZKC_OK);
	zkc_close(zk);
	h_events_free(evs);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expiry_without_wipe_is_no_reset),
		cmocka_unit_test(test_wiped_ensemble_resets_history_cache_index_and_counter),
	};

	return cmocka_run_group_tests_name("history_reset", tests, h_setup_3, h_teardown);
}
