/* tests/integration/test_service_faults.c - the service router under a
 * ZooKeeper leader kill: while the ensemble elects a new leader and the
 * router's client is cut off, routing goes on from the cache, with the same
 * answers, and the cache follows changes again afterwards. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

#define KEYS 1000

static zkc_t *zk;          /* registers */
static zkc_t *rzk;         /* routes */

static int teardown(void **state)
{
	zkc_close(zk);
	zkc_close(rzk);
	zk = rzk = NULL;
	return h_teardown(state);
}

static int id_index(const char *id)
{
	return id[0] == 'i' ? atoi(id + 1) : -1;
}

static zkc_service_reg_t *reg_on(zkc_t *c, const char *svc, const char *id)
{
	zkc_service_instance_t in = ZKC_SERVICE_INSTANCE_INIT;
	zkc_service_reg_t *reg = NULL;

	in.id = id;
	in.address = "127.0.0.1";
	in.port = 9000;
	assert_int_equal(zkc_service_reg_open(&reg, c, svc, &in), ZKC_OK);
	return reg;
}

typedef struct router_loop {
	zkc_service_router_t *r;
	int expect[KEYS];
	int stop;             /* atomic access */
	long rounds;          /* atomic access */
	long fails, mismatches;
} router_loop_t;

static void *route_loop(void *arg)
{
	router_loop_t *t = arg;
	zkc_service_endpoint_t ep;
	char key[32];

	while (!__atomic_load_n(&t->stop, __ATOMIC_SEQ_CST)) {
		int k;

		for (k = 0; k < KEYS; k++) {
			int n = snprintf(key, sizeof(key), "user-%d", k);

			if (zkc_service_route(&ep, t->r, key, (size_t)n) != ZKC_OK)
				t->fails++;
			else if (id_index(ep.id) != t->expect[k])
				t->mismatches++;
		}
		__atomic_add_fetch(&t->rounds, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static long rounds(router_loop_t *t)
{
	return __atomic_load_n(&t->rounds, __ATOMIC_SEQ_CST);
}

static void test_router_keeps_answering_from_its_cache_while_the_leader_is_killed(void **s)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_service_reg_t *regs[10], *late;
	zkc_service_router_t *r = NULL;
	zkc_service_endpoint_t ep;
	router_loop_t *t = calloc(1, sizeof(*t));
	pthread_t th;
	char *svc, id[16], key[32];
	h_events_t *ev = h_events_new();
	int leader, k, i, lid = 0;
	long at_kill;
	(void)s;

	H_NEED_OWN_ENSEMBLE();
	/* sessions that outlive a leader election on a loaded machine: the
	 * point is the router's cache, not session loss (test_service.c) */
	o.session_timeout_ms = 30000;
	zk = h_open(NULL, &o);
	rzk = h_open(NULL, &o);
	svc = h_path("leader");
	for (i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "i%03d", i);
		regs[i] = reg_on(zk, svc, id);
	}
	assert_int_equal(zkc_listener_add(&lid, rzk, h_events_state, ev), ZKC_OK);
	assert_int_equal(zkc_service_router_open(&r, rzk, svc, NULL), ZKC_OK);
	assert_int_equal(zkc_service_router_count(r), 10);
	for (k = 0; k < KEYS; k++) {
		int n = snprintf(key, sizeof(key), "user-%d", k);

		assert_int_equal(zkc_service_route(&ep, r, key, (size_t)n), ZKC_OK);
		t->expect[k] = id_index(ep.id);
	}
	t->r = r;
	assert_int_equal(pthread_create(&th, NULL, route_loop, t), 0);
	H_WAIT_UNTIL(rounds(t) > 2, H_TIMEOUT_MS);

	leader = h_leader();
	assert_true(leader >= 0);
	at_kill = rounds(t);
	assert_int_equal(h_kill(leader), 0);
	/* the router's client is cut off (followers drop their clients until
	 * a new leader is elected, and the leader's own clients lose it);
	 * routing goes on meanwhile */
	H_WAIT_UNTIL(h_events_find(ev, 0, ZKC_EVENT_STATE, ZKC_STATE_SUSPENDED) >= 0,
	             H_TIMEOUT_MS);
	H_WAIT_UNTIL(rounds(t) > at_kill + 5, H_TIMEOUT_MS);
	assert_int_equal(h_wait_quorum(), 0);
	assert_int_equal(zkc_wait_connected(rzk, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	__atomic_store_n(&t->stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(th, NULL);
	print_message("# %ld routing rounds of %d keys, %ld after the kill, %ld failed, "
	              "%ld mismatched\n", t->rounds, KEYS, t->rounds - at_kill, t->fails,
	              t->mismatches);
	/* the session lived through it: nothing was re-registered */
	assert_int_equal(h_events_find(ev, 0, ZKC_EVENT_STATE, ZKC_STATE_LOST), -1);
	assert_int_equal(t->fails, 0);
	assert_int_equal(t->mismatches, 0);

	/* after the election the cache follows changes again */
	late = reg_on(zk, svc, "i010");
	H_WAIT_UNTIL(zkc_service_router_count(r) == 11, H_TIMEOUT_MS);
	assert_int_equal(h_restart(leader), 0);

	zkc_service_router_close(r);
	zkc_service_reg_close(late);
	for (i = 0; i < 10; i++)
		zkc_service_reg_close(regs[i]);
	zkc_delete(zk, svc, -1, ZKC_DELETE_RECURSIVE);
	zkc_listener_remove(rzk, lid);
	h_events_free(ev);
	free(t);
	free(svc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_router_keeps_answering_from_its_cache_while_the_leader_is_killed),
	};

	return cmocka_run_group_tests_name("service_faults", tests, h_setup_3, teardown);
}
