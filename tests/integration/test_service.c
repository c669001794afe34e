/* tests/integration/test_service.c - the service registry and router against
 * a real ensemble: the live set through the cache, keys that move only with
 * the instance that changed, weights, draining, instances in other processes
 * that are SIGKILLed or stopped past their session timeout, re-registration
 * after session loss, the CLI and bad input (the leader kill while routing
 * is in test_service_faults.c).
 *
 * Tolerances (each count below is a sum of 100,000 independent-looking key
 * placements; the hash is deterministic, so a pass or fail is repeatable):
 * - Adding an 11th instance of equal weight moves a key iff the new one wins
 *   it: p = 1/11, moved ~ Binomial(100000, 1/11), mean 9091, sd
 *   sqrt(100000 * 1/11 * 10/11) = 91. We accept 9091 +- 500 (5.5 sd; a fair
 *   hash fails this with probability < 1e-7). That every moved key went to
 *   the new instance is exact (a property of rendezvous hashing), not
 *   statistical.
 * - Weight 2 among nine of weight 1: expected 2/11 of the keys (18182)
 *   against 1/11 (9091) for each other one; count sd about 122 and 29 for
 *   the mean of the nine, so the ratio's sd is about 0.016. We accept
 *   2.0 +- 0.1 (over 6 sd). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"

#define KEYS 100000
#define NOBODY 9999

static zkc_t *zk;          /* registers */
static zkc_t *rzk;         /* routes (another session, as a real client) */
static char zkc_bin[4096];

static int setup(void **state)
{
	const char *dir = getenv("ZKC_TEST_BUILDDIR");

	snprintf(zkc_bin, sizeof(zkc_bin), "%s/zkc", dir && *dir ? dir : ".");
	if (h_setup_shared(state) != 0)
		return -1;
	zk = h_open(NULL, NULL);
	rzk = h_open(NULL, NULL);
	return zk && rzk ? 0 : -1;
}

static int teardown(void **state)
{
	zkc_close(zk);
	zkc_close(rzk);
	zk = rzk = NULL;
	return h_teardown(state);
}

/* ------------------------------------------------------------ helpers */

static zkc_service_reg_t *reg_on(zkc_t *c, const char *svc, const char *id, int weight)
{
	zkc_service_instance_t in = ZKC_SERVICE_INSTANCE_INIT;
	zkc_service_reg_t *reg = NULL;
	char meta[64];

	snprintf(meta, sizeof(meta), "{\"zone\":\"z-%s\"}", id);
	in.id = id;
	in.address = "127.0.0.1";
	in.port = 9000 + (int)strlen(id);
	in.weight = weight;
	in.metadata = meta;
	assert_int_equal(zkc_service_reg_open(&reg, c, svc, &in), ZKC_OK);
	return reg;
}

/* Registers n instances "i000".."i<n-1>" of weight 1 (weights[i] if given). */
static void reg_many(zkc_service_reg_t **regs, int n, const char *svc, const int *weights)
{
	char id[16];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "i%03d", i);
		regs[i] = reg_on(zk, svc, id, weights ? weights[i] : 1);
	}
}

static void unreg_many(zkc_service_reg_t **regs, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		assert_int_equal(zkc_service_unregister(regs[i]), ZKC_OK);
		zkc_service_reg_close(regs[i]);
	}
}

static zkc_service_router_t *router(const char *svc)
{
	zkc_service_router_t *r = NULL;

	assert_int_equal(zkc_service_router_open(&r, rzk, svc, NULL), ZKC_OK);
	return r;
}

/* "i007" -> 7; anything else -> NOBODY - 1 */
static int id_index(const char *id)
{
	return id[0] == 'i' && id[1] >= '0' && id[1] <= '9' ? atoi(id + 1) : NOBODY - 1;
}

/* Routes keys 0..KEYS-1; map[k] = instance index, NOBODY when none. */
static void route_all(zkc_service_router_t *r, short *map)
{
	zkc_service_endpoint_t ep;
	char key[32];
	int k;

	for (k = 0; k < KEYS; k++) {
		int n = snprintf(key, sizeof(key), "user-%d", k);
		int rc = zkc_service_route(&ep, r, key, (size_t)n);

		map[k] = rc == ZKC_OK ? (short)id_index(ep.id) : NOBODY;
	}
}

static int count_of(const short *map, int who)
{
	int k, n = 0;

	for (k = 0; k < KEYS; k++)
		n += map[k] == who;
	return n;
}

/* Whether the router lists `id` with this weight and draining flag. */
static int router_shows(zkc_service_router_t *r, const char *id, int weight, int draining)
{
	zkc_service_list_t *l = NULL;
	size_t i;
	int found = 0;

	if (zkc_service_router_list(&l, r) != ZKC_OK)
		return 0;
	for (i = 0; i < l->count; i++)
		if (strcmp(l->items[i].id, id) == 0 && l->items[i].weight == weight &&
		    l->items[i].draining == draining)
			found = 1;
	zkc_service_list_free(l);
	return found;
}

static int router_has(zkc_service_router_t *r, const char *id)
{
	zkc_service_list_t *l = NULL;
	size_t i;
	int found = 0;

	if (zkc_service_router_list(&l, r) != ZKC_OK)
		return 0;
	for (i = 0; i < l->count; i++)
		found |= strcmp(l->items[i].id, id) == 0;
	zkc_service_list_free(l);
	return found;
}

/* ------------------------------------------------------------ basics */

static void test_registered_instances_are_listed_and_routed_alike_by_every_router(void **s)
{
	char *svc = h_path("svc");
	zkc_service_reg_t *a = reg_on(zk, svc, "alpha", 1), *b = reg_on(zk, svc, "beta", 1);
	zkc_service_router_t *r1 = router(svc), *r2 = NULL;
	zkc_service_endpoint_t e1, e2, top[4];
	zkc_service_list_t *l = NULL;
	zkc_service_entry_t dec;
	char *path, *data = NULL;
	size_t len = 0, got = 0;
	zkc_stat_t st;
	int64_t sid = 0;
	int k;
	(void)s;

	/* the node: svc/id, ephemeral, owned by the registering session,
	 * data in the documented format */
	path = h_join(svc, "alpha");
	assert_string_equal(zkc_service_reg_path(a), path);
	assert_int_equal(zkc_get(&data, &len, &st, zk, path), ZKC_OK);
	assert_int_equal(zkc_session(&sid, NULL, NULL, zk), ZKC_OK);
	assert_true(st.ephemeral_owner == sid);
	assert_non_null(strstr(data, "\"id\":\"alpha\""));
	assert_int_equal(zkc_service_decode(&dec, "alpha", data, len), ZKC_OK);
	assert_string_equal(dec.metadata, "{\"zone\":\"z-alpha\"}");
	zkc_service_entry_clear(&dec);
	zkc_free(data);
	free(path);

	/* the router opened after the registrations sees both at once */
	assert_int_equal(zkc_service_router_count(r1), 2);
	assert_int_equal(zkc_service_router_list(&l, r1), ZKC_OK);
	assert_int_equal(l->count, 2);
	assert_string_equal(l->items[0].id, "alpha");
	assert_string_equal(l->items[1].id, "beta");
	assert_string_equal(l->items[1].address, "127.0.0.1");
	assert_int_equal(l->items[1].port, 9004);
	assert_true(l->items[1].session_id == sid);
	assert_string_equal(l->items[1].metadata, "{\"zone\":\"z-beta\"}");
	zkc_service_list_free(l);

	/* a new instance shows up through the watch */
	{
		zkc_service_reg_t *c = reg_on(zk, svc, "gamma", 1);

		H_WAIT_UNTIL(zkc_service_router_count(r1) == 3, H_TIMEOUT_MS);
		/* another router, another session: the same answer for every key */
		assert_int_equal(zkc_service_router_open(&r2, zk, svc, NULL), ZKC_OK);
		for (k = 0; k < 2000; k++) {
			char key[16];
			int n = snprintf(key, sizeof(key), "k%d", k);

			assert_int_equal(zkc_service_route(&e1, r1, key, (size_t)n), ZKC_OK);
			assert_int_equal(zkc_service_route(&e2, r2, key, (size_t)n), ZKC_OK);
			assert_string_equal(e1.id, e2.id);
			assert_int_equal(zkc_service_route_n(top, &got, 4, r1, key, (size_t)n), ZKC_OK);
			assert_int_equal(got, 3);
			assert_string_equal(top[0].id, e1.id);
			assert_string_not_equal(top[1].id, top[0].id);
			assert_string_not_equal(top[2].id, top[1].id);
			assert_string_not_equal(top[2].id, top[0].id);
		}
		/* unregistering deletes the node at once */
		assert_int_equal(zkc_service_unregister(c), ZKC_OK);
		zkc_service_reg_close(c);
		H_WAIT_UNTIL(zkc_service_router_count(r1) == 2, H_TIMEOUT_MS);
	}
	assert_int_equal(zkc_service_unregister(a), ZKC_OK);
	zkc_service_reg_close(a);
	assert_int_equal(zkc_service_unregister(b), ZKC_OK);
	zkc_service_reg_close(b);
	H_WAIT_UNTIL(zkc_service_router_count(r1) == 0, H_TIMEOUT_MS);
	assert_int_equal(zkc_service_route(&e1, r1, "k", 1), ZKC_ENONODE);
	zkc_service_router_close(r1);
	zkc_service_router_close(r2);
	zkc_delete(zk, svc, -1, ZKC_DELETE_RECURSIVE);
	free(svc);
}

/* ------------------------------------------------------------ distribution */

static void test_adding_an_eleventh_instance_moves_one_eleventh_of_the_keys_to_it(void **s)
{
	char *svc = h_path("add");
	zkc_service_reg_t *regs[11];
	zkc_service_router_t *r;
	short *before = calloc(KEYS, sizeof(short)), *after = calloc(KEYS, sizeof(short));
	int k, moved = 0, moved_elsewhere = 0, i;
	(void)s;

	reg_many(regs, 10, svc, NULL);
	r = router(svc);
	assert_int_equal(zkc_service_router_count(r), 10);
	route_all(r, before);
	for (i = 0; i < 10; i++)
		assert_in_range(count_of(before, i), 10000 - 500, 10000 + 500);

	regs[10] = reg_on(zk, svc, "i010", 1);
	H_WAIT_UNTIL(zkc_service_router_count(r) == 11, H_TIMEOUT_MS);
	route_all(r, after);
	for (k = 0; k < KEYS; k++) {
		if (before[k] != after[k]) {
			moved++;
			moved_elsewhere += after[k] != 10;
		}
	}
	print_message("# adding 1 to 10 moved %d of %d keys (1/11 = 9091)\n", moved, KEYS);
	assert_int_equal(moved_elsewhere, 0);
	assert_in_range(moved, 9091 - 500, 9091 + 500);

	/* losing it moves exactly its keys back */
	assert_int_equal(zkc_service_unregister(regs[10]), ZKC_OK);
	zkc_service_reg_close(regs[10]);
	H_WAIT_UNTIL(zkc_service_router_count(r) == 10, H_TIMEOUT_MS);
	route_all(r, after);
	assert_memory_equal(before, after, KEYS * sizeof(short));

	zkc_service_router_close(r);
	unreg_many(regs, 10);
	zkc_delete(zk, svc, -1, ZKC_DELETE_RECURSIVE);
	free(before);
	free(after);
	free(svc);
}

static void test_weights_are_honoured_and_can_change_live(void **s)
{
	static const int w[10] = { 2, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	char *svc = h_path("weight");
	zkc_service_reg_t *regs[10];
	zkc_service_router_t *r;
	short *map = calloc(KEYS, sizeof(short));
	double others = 0, ratio;
	int i;
	(void)s;

	reg_many(regs, 10, svc, w);
	r = router(svc);
	route_all(r, map);
	for (i = 1; i < 10; i++)
		others += count_of(map, i);
	others /= 9;
	ratio = count_of(map, 0) / others;
	print_message("# weight 2: %d keys, weight 1: %.0f on average, ratio %.3f\n",
	              count_of(map, 0), others, ratio);
	assert_true(ratio > 1.9 && ratio < 2.1);

	/* weight 1 now: as many keys as the others (1/10 each: count sd 95,
	 * ratio sd about 0.01; accept 1.0 +- 0.1) */
	assert_int_equal(zkc_service_set_weight(regs[0], 1), ZKC_OK);
	H_WAIT_UNTIL(router_shows(r, "i000", 1, 0), H_TIMEOUT_MS);
	route_all(r, map);
	others = 0;
	for (i = 1; i < 10; i++)
		others += count_of(map, i);
	others /= 9;
	ratio = count_of(map, 0) / others;
	assert_true(ratio > 0.9 && ratio < 1.1);
	assert_int_equal(zkc_service_set_weight(regs[0], 0), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_service_set_weight(regs[0], -2), ZKC_EBADARGUMENTS);

	zkc_service_router_close(r);
	unreg_many(regs, 10);
	zkc_delete(zk, svc, -1, ZKC_DELETE_RECURSIVE);
	free(map);
	free(svc);
}

static void test_draining_instance_gets_no_keys_and_no_other_key_moves(void **s)
{
	char *svc = h_path("drain");
	zkc_service_reg_t *regs[10];
	zkc_service_router_t *r;
	short *before = calloc(KEYS, sizeof(short)), *during = calloc(KEYS, sizeof(short));
	zkc_service_list_t *l = NULL;
	int k, moved_other = 0;
	(void)s;

	reg_many(regs, 10, svc, NULL);
	r = router(svc);
	route_all(r, before);
	assert_true(count_of(before, 3) > 0);

	assert_int_equal(zkc_service_set_draining(regs[3], 1), ZKC_OK);
	H_WAIT_UNTIL(zkc_service_router_count(r) == 9, H_TIMEOUT_MS);
	route_all(r, during);
	assert_int_equal(count_of(during, 3), 0);
	for (k = 0; k < KEYS; k++)
		moved_other += before[k] != 3 && before[k] != during[k];
	assert_int_equal(moved_other, 0);
	/* still registered and listed, marked draining */
	assert_int_equal(zkc_service_router_list(&l, r), ZKC_OK);
	assert_int_equal(l->count, 10);
	assert_int_equal(l->items[3].draining, 1);
	zkc_service_list_free(l);

	/* draining survives a session loss (the re-created node keeps it) */
	assert_int_equal(zkc_testing_expire_session(zk, H_TIMEOUT_MS), ZKC_OK);
	for (k = 0; k < 10; k++)
		assert_int_equal(zkc_service_reg_wait(regs[k], h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	H_WAIT_UNTIL(zkc_service_router_count(r) == 9 && router_shows(r, "i003", 1, 1),
	             H_TIMEOUT_MS);

	/* back: the same mapping as before */
	assert_int_equal(zkc_service_set_draining(regs[3], 0), ZKC_OK);
	H_WAIT_UNTIL(zkc_service_router_count(r) == 10, H_TIMEOUT_MS);
	route_all(r, during);
	assert_memory_equal(before, during, KEYS * sizeof(short));

	zkc_service_router_close(r);
	unreg_many(regs, 10);
	zkc_delete(zk, svc, -1, ZKC_DELETE_RECURSIVE);
	free(before);
	free(during);
	free(svc);
}

/* ------------------------------------------------------------ threads */

typedef struct racer {
	zkc_service_router_t *r;
	int stop;        /* atomic access */
	long routes, fails, strangers;
	pthread_t th;
} racer_t;

static void *race_routes(void *arg)
{
	racer_t *t = arg;
	zkc_service_endpoint_t ep[3];
	char key[32];
	long i = 0;

	while (!__atomic_load_n(&t->stop, __ATOMIC_SEQ_CST)) {
		int n = snprintf(key, sizeof(key), "k%ld", i++);
		size_t got = 0;
		int rc = i % 2 ? zkc_service_route(&ep[0], t->r, key, (size_t)n)
		               : zkc_service_route_n(ep, &got, 3, t->r, key, (size_t)n);

		if (rc != ZKC_OK)
			t->fails++;
		else if (id_index(ep[0].id) >= 8 || strcmp(ep[0].address, "127.0.0.1") != 0)
			t->strangers++;
		t->routes++;
	}
	return NULL;
}

static void test_routing_threads_race_snapshot_swaps(void **s)
{
	char *svc = h_path("race");
	zkc_service_reg_t *regs[8];
	zkc_service_router_t *r;
	racer_t t[3];
	uint64_t gen0;
	int i, round;
	(void)s;

	reg_many(regs, 8, svc, NULL);
	r = router(svc);
	gen0 = zkc_service_router_generation(r);
	memset(t, 0, sizeof(t));
	for (i = 0; i < 3; i++) {
		t[i].r = r;
		assert_int_equal(pthread_create(&t[i].th, NULL, race_routes, &t[i]), 0);
	}
	/* instance 0 stays routable; the others drain, change weight, leave
	 * and come back while three threads route */
	for (round = 0; round < 6; round++) {
		for (i = 1; i < 8; i++) {
			if ((i + round) % 3 == 0)
				assert_int_equal(zkc_service_set_draining(regs[i], round % 2), ZKC_OK);
			else if ((i + round) % 3 == 1)
				assert_int_equal(zkc_service_set_weight(regs[i], 1 + round), ZKC_OK);
		}
		assert_int_equal(zkc_service_unregister(regs[7]), ZKC_OK);
		zkc_service_reg_close(regs[7]);
		regs[7] = reg_on(zk, svc, "i007", 1);
	}
	H_WAIT_UNTIL(zkc_service_router_generation(r) >= gen0 + 10, H_TIMEOUT_MS);
	for (i = 0; i < 3; i++) {
		__atomic_store_n(&t[i].stop, 1, __ATOMIC_SEQ_CST);
		pthread_join(t[i].th, NULL);
		assert_true(t[i].routes > 0);
		assert_int_equal(t[i].fails, 0);
		assert_int_equal(t[i].strangers, 0);
	}
	print_message("# %ld + %ld + %ld routes across %llu snapshots\n", t[0].routes,
	              t[1].routes, t[2].routes,
	              (unsigned long long)(zkc_service_router_generation(r) - gen0));
	zkc_service_router_close(r);
	unreg_many(regs, 8);
	zkc_delete(zk, svc, -1, ZKC_DELETE_RECURSIVE);
	free(svc);
}

/* ------------------------------------------------------------ session loss */

static int64_t owner_of(const char *path)
{
	zkc_stat_t st;

	return zkc_exists(&st, rzk, path) == ZKC_OK ? st.ephemeral_owner : -1;
}

static void test_instance_comes_back_after_its_session_is_expired(void **s)
{
	char *svc = h_path("expire");
	char url[1024];
	zkc_t *own;
	zkc_service_reg_t *reg;
	zkc_service_router_t *r;
	zkc_service_endpoint_t ep;
	int64_t sid0 = 0, sid1 = 0;
	zkc_service_reg_t *other = reg_on(zk, svc, "steady", 1);
	(void)s;

	snprintf(url, sizeof(url), "%s?session_timeout=4s", h_url());
	own = h_open(url, NULL);
	reg = reg_on(own, svc, "phoenix", 1000000);
	r = router(svc);
	/* weight 10^6 against 1: nearly every key goes to it */
	assert_int_equal(zkc_service_route(&ep, r, "x", 1), ZKC_OK);
	assert_string_equal(ep.id, "phoenix");
	assert_int_equal(zkc_session(&sid0, NULL, NULL, own), ZKC_OK);
	assert_true(owner_of(zkc_service_reg_path(reg)) == sid0);

	assert_int_equal(zkc_testing_expire_session(own, H_TIMEOUT_MS), ZKC_OK);
	/* a new session re-creates it, and routers route to it again */
	H_WAIT_UNTIL(zkc_session(&sid1, NULL, NULL, own) == ZKC_OK && sid1 != sid0 &&
	             owner_of(zkc_service_reg_path(reg)) == sid1, H_TIMEOUT_MS);
	H_WAIT_UNTIL(router_has(r, "phoenix") && zkc_service_route(&ep, r, "x", 1) == ZKC_OK &&
	             strcmp(ep.id, "phoenix") == 0, H_TIMEOUT_MS);
	{
		zkc_service_list_t *l = NULL;

		assert_int_equal(zkc_service_router_list(&l, r), ZKC_OK);
		assert_int_equal(l->count, 2);
		assert_string_equal(l->items[0].id, "phoenix");
		H_WAIT_UNTIL((zkc_service_list_free(l), l = NULL,
		              zkc_service_router_list(&l, r) == ZKC_OK && l->count == 2 &&
		              l->items[0].session_id == sid1), H_TIMEOUT_MS);
		zkc_service_list_free(l);
	}
	zkc_service_router_close(r);
	assert_int_equal(zkc_service_unregister(reg), ZKC_OK);
	zkc_service_reg_close(reg);
	assert_int_equal(zkc_service_unregister(other), ZKC_OK);
	zkc_service_reg_close(other);
	zkc_close(own);
	zkc_delete(zk, svc, -1, ZKC_DELETE_RECURSIVE);
	free(svc);
}

/* `zkc service register` in its own process, session timeout 4 s; its
 * stdout (the registered path, once it is registered) on *out_fd. */
static pid_t spawn_register(int *out_fd, const char *svc, const char *id, const char *extra)
{
	char url[1024];
	int fds[2];
	pid_t pid;

	snprintf(url, sizeof(url), "%s?session_timeout=4s", h_url());
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		h_die_with_parent();
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		setenv("ZKC_URL", url, 1);
		if (extra)
			execl(zkc_bin, zkc_bin, "service", "register", svc, "--id", id, "--port",
			      "7000", extra, (char *)NULL);
		else
			execl(zkc_bin, zkc_bin, "service", "register", svc, "--id", id, "--port",
			      "7000", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	*out_fd = fds[0];
	return pid;
}

/* Reads one line of the child's stdout within the deadline. */
static void read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	int64_t deadline = h_now_ms() + h_timeout(H_TIMEOUT_MS);

	while (n + 1 < cap && h_now_ms() < deadline) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t got;

		if (poll(&p, 1, 100) <= 0)
			continue;
		got = read(fd, buf + n, 1);
		if (got <= 0)
			break;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
}

static int wait_exit(pid_t pid)
{
	int st = 0;

	H_WAIT_UNTIL(waitpid(pid, &st, WNOHANG) == pid, H_TIMEOUT_MS);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_killed_process_stops_receiving_keys_once_its_session_expires(void **s)
{
	char *svc = h_path("kill"), line[4096], *want;
	zkc_service_reg_t *regs[5];
	zkc_service_router_t *r;
	short *before = calloc(KEYS, sizeof(short)), *after = calloc(KEYS, sizeof(short));
	int fd, k, moved_other = 0, victim = NOBODY - 1;
	pid_t pid;
	(void)s;

	if (access(zkc_bin, X_OK) != 0)
		fail_msg("zkc program not found at %s", zkc_bin);
	reg_many(regs, 5, svc, NULL);
	r = router(svc);
	pid = spawn_register(&fd, svc, "worker", NULL);
	read_line(fd, line, sizeof(line));
	want = h_join(svc, "worker");
	assert_string_equal(line, want);
	H_WAIT_UNTIL(zkc_service_router_count(r) == 6, H_TIMEOUT_MS);
	route_all(r, before);
	assert_true(count_of(before, victim) > 0);

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(wait_exit(pid), 128 + SIGKILL);
	/* gone once the server expires its session (4 s) */
	H_WAIT_UNTIL(zkc_service_router_count(r) == 5, H_TIMEOUT_MS);
	assert_int_equal(zkc_exists(NULL, zk, want), ZKC_ENONODE);
	route_all(r, after);
	assert_int_equal(count_of(after, victim), 0);
	for (k = 0; k < KEYS; k++)
		moved_other += before[k] != victim && before[k] != after[k];
	assert_int_equal(moved_other, 0);
	close(fd);
	free(want);

	zkc_service_router_close(r);
	unreg_many(regs, 5);
	zkc_delete(zk, svc, -1, ZKC_DELETE_RECURSIVE);
	free(before);
	free(after);
	free(svc);
}

static void test_stopped_process_drops_out_then_re_registers_when_it_resumes(void **s)
{
	char *svc = h_path("stop"), line[4096], *path;
	zkc_service_reg_t *keep = reg_on(zk, svc, "keep", 1);
	zkc_service_router_t *r = router(svc);
	int64_t owner0;
	int fd;
	pid_t pid;
	(void)s;

	pid = spawn_register(&fd, svc, "sleeper", NULL);
	read_line(fd, line, sizeof(line));
	path = h_join(svc, "sleeper");
	assert_string_equal(line, path);
	H_WAIT_UNTIL(router_has(r, "sleeper"), H_TIMEOUT_MS);
	owner0 = owner_of(path);

	/* frozen past its session timeout: the server expires the session and
	 * routers drop the instance */
	assert_int_equal(kill(pid, SIGSTOP), 0);
	H_WAIT_UNTIL(!router_has(r, "sleeper"), H_TIMEOUT_MS);
	assert_int_equal(zkc_service_router_count(r), 1);
	/* resumed: it learns its session expired, makes a new one and
	 * registers again */
	assert_int_equal(kill(pid, SIGCONT), 0);
	H_WAIT_UNTIL(router_has(r, "sleeper"), H_TIMEOUT_MS);
	assert_true(owner_of(path) != owner0);
	assert_true(owner_of(path) > 0);

	/* SIGTERM: deregisters at once and exits 0 */
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(wait_exit(pid), 0);
	assert_int_equal(zkc_exists(NULL, zk, path), ZKC_ENONODE);
	H_WAIT_UNTIL(!router_has(r, "sleeper"), H_TIMEOUT_MS);
	close(fd);
	free(path);
	zkc_service_router_close(r);
	zkc_service_reg_close(keep);
	zkc_delete(zk, svc, -1, ZKC_DELETE_RECURSIVE);
	free(svc);
}

/* ------------------------------------------------------------ snapshot updates */

/* Writes child `id` of svc: an instance with this weight and draining flag,
 * or junk (not an instance) when weight is 0. */
static void put_child(const char *svc, const char *id, int weight, int draining, int create)
{
	zkc_service_instance_t in = ZKC_SERVICE_INSTANCE_INIT;
	char *path = h_join(svc, id), *data = NULL;
	size_t len = 0;

	if (weight) {
		in.id = id;
		in.address = "127.0.0.1";
		in.port = 7000 + weight;
		in.weight = weight;
		in.draining = draining;
		assert_int_equal(zkc_service_encode(&data, &len, "svc", &in), ZKC_OK);
	}
	if (create)
		assert_int_equal(zkc_create(NULL, NULL, zk, path, weight ? data : "junk",
		                            weight ? len : 4, NULL), ZKC_OK);
	else
		assert_int_equal(zkc_set(NULL, zk, path, weight ? data : "junk", weight ? len : 4, -1),
		                 ZKC_OK);
	free(data);
	free(path);
}

/* Whether two routers list the same instances (every field) and skip the
 * same number of children. */
static int same_lists(zkc_service_router_t *a, zkc_service_router_t *b)
{
	zkc_service_list_t *la = NULL, *lb = NULL;
	size_t i;
	int same;

	if (zkc_service_router_list(&la, a) != ZKC_OK || zkc_service_router_list(&lb, b) != ZKC_OK) {
		zkc_service_list_free(la);
		return 0;
	}
	same = la->count == lb->count && la->invalid == lb->invalid &&
	       zkc_service_router_count(a) == zkc_service_router_count(b);
	for (i = 0; same && i < la->count; i++) {
		const zkc_service_entry_t *x = &la->items[i], *y = &lb->items[i];

		same = !strcmp(x->id, y->id) && !strcmp(x->address, y->address) &&
		       x->port == y->port && x->weight == y->weight && x->draining == y->draining &&
		       x->metadata_len == y->metadata_len && !strcmp(x->metadata, y->metadata);
	}
	zkc_service_list_free(la);
	zkc_service_list_free(lb);
	return same;
}

/* A router kept up to date child by child (added, reweighted, drained,
 * turned into junk and back, deleted) ends where a router that reads the
 * whole service at once starts: same list, same skipped count, same
 * answer for every key. */
static void test_router_updated_child_by_child_matches_a_fresh_router(void **s)
{
	char *svc = h_path("svc"), id[16], *p;
	zkc_service_router_t *r1, *r2 = NULL;
	zkc_service_list_t *l = NULL;
	short *m1 = malloc(KEYS * sizeof(short)), *m2 = malloc(KEYS * sizeof(short));
	uint64_t gen;
	int i;
	(void)s;

	assert_non_null(m1);
	assert_non_null(m2);
	assert_int_equal(zkc_create(NULL, NULL, zk, svc, NULL, 0, NULL), ZKC_OK);
	r1 = router(svc);
	for (i = 0; i < 30; i++) {
		snprintf(id, sizeof(id), "i%03d", i);
		put_child(svc, id, i % 7 == 3 ? 0 : 1 + i % 4, 0, 1);
	}
	H_WAIT_UNTIL(zkc_service_router_count(r1) == 26, H_TIMEOUT_MS);
	gen = zkc_service_router_generation(r1);
	for (i = 0; i < 30; i += 2) {
		snprintf(id, sizeof(id), "i%03d", i);
		if (i % 6 == 0)
			put_child(svc, id, 5, 1, 0);          /* drained, reweighted */
		else if (i % 6 == 2)
			put_child(svc, id, 0, 0, 0);          /* turned into junk */
		else
			put_child(svc, id, 9, 0, 0);          /* reweighted (junk ones made valid) */
	}
	for (i = 1; i < 30; i += 5) {
		snprintf(id, sizeof(id), "i%03d", i);
		p = h_join(svc, id);
		assert_int_equal(zkc_delete(zk, p, -1, 0), ZKC_OK);
		free(p);
	}
	put_child(svc, "i100", 3, 0, 1);
	put_child(svc, "i101", 0, 0, 1);
	p = h_join(svc, "i101");
	assert_int_equal(zkc_delete(zk, p, -1, 0), ZKC_OK);
	free(p);
	/* the last change is the one below: once r1 shows it, it has all */
	put_child(svc, "i100", 4, 0, 0);
	H_WAIT_UNTIL(router_shows(r1, "i100", 4, 0), H_TIMEOUT_MS);
	assert_true(zkc_service_router_generation(r1) > gen);
	assert_int_equal(zkc_service_router_open(&r2, rzk, svc, NULL), ZKC_OK);
	assert_true(same_lists(r1, r2));
	assert_true(router_shows(r1, "i000", 5, 1));
	assert_true(router_shows(r1, "i004", 9, 0));
	assert_false(router_has(r1, "i002"));    /* junk now */
	assert_false(router_has(r1, "i001"));    /* deleted */
	assert_false(router_has(r1, "i101"));
	route_all(r1, m1);
	route_all(r2, m2);
	assert_memory_equal(m1, m2, KEYS * sizeof(short));
	/* and both give what scoring every instance gives (the decision only
	 * scores the instances near each weight's best) */
	assert_int_equal(zkc_service_router_list(&l, r1), ZKC_OK);
	for (i = 0; i < KEYS; i++) {
		char key[32];
		int n = snprintf(key, sizeof(key), "user-%d", i), who = NOBODY;
		uint64_t kh = zkc_service_hash64(key, (size_t)n);
		double best = -1.0;
		size_t j;

		for (j = 0; j < l->count; j++) {
			double sc;

			if (l->items[j].draining)
				continue;
			sc = zkc_service_score(kh, zkc_service_hash64(l->items[j].id,
			                                              strlen(l->items[j].id)),
			                       l->items[j].weight);
			if (sc > best) {
				best = sc;
				who = id_index(l->items[j].id);
			}
		}
		assert_int_equal(m1[i], who);
	}
	zkc_service_list_free(l);
	assert_int_equal(count_of(m1, 0), 0);   /* draining gets nothing */
	assert_true(count_of(m1, 100) > 0);
	zkc_service_router_close(r1);
	zkc_service_router_close(r2);
	zkc_delete(zk, svc, -1, ZKC_DELETE_RECURSIVE);
	free(m1);
	free(m2);
	free(svc);
}

/* ------------------------------------------------------------ bad input */

static void test_bad_input_gets_clear_codes(void **s)
{
	zkc_service_instance_t in = ZKC_SERVICE_INSTANCE_INIT;
	zkc_service_router_options_t ro = ZKC_SERVICE_ROUTER_OPTIONS_INIT;
	char *svc = h_path("bad"), *unknown = h_path("nosuchservice"), *junk, longid[300];
	zkc_service_reg_t *reg = NULL, *twin = NULL;
	zkc_service_router_t *r = NULL;
	zkc_service_endpoint_t ep;
	zkc_service_list_t *l = NULL;
	size_t got = 7;
	char *big, line[4096];
	int fd;
	pid_t pid;
	(void)s;

	/* unknown service: the router opens (the service may come later), has
	 * nobody to route to and says so */
	assert_int_equal(zkc_service_router_open(&r, rzk, unknown, NULL), ZKC_OK);
	assert_int_equal(zkc_service_route(&ep, r, "k", 1), ZKC_ENONODE);
	assert_non_null(strstr(zkc_error_last()->message, "no routable instance"));
	assert_int_equal(zkc_service_route_n(&ep, &got, 1, r, "k", 1), ZKC_ENONODE);
	assert_int_equal(got, 0);
	assert_int_equal(zkc_service_router_list(&l, r), ZKC_ENONODE);
	assert_null(l);
	/* empty and NULL keys */
	assert_int_equal(zkc_service_route(&ep, r, "", 0), ZKC_EBADARGUMENTS);
	assert_non_null(strstr(zkc_error_last()->message, "empty key"));
	assert_int_equal(zkc_service_route(&ep, r, NULL, 3), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_service_route(NULL, r, "k", 1), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_service_route(&ep, NULL, "k", 1), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_service_route_n(&ep, &got, 0, r, "k", 1), ZKC_EBADARGUMENTS);
	zkc_service_router_close(r);
	r = NULL;
	/* router arguments */
	assert_int_equal(zkc_service_router_open(&r, rzk, "no-slash", NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_service_router_open(&r, rzk, "/", NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_service_router_open(&r, NULL, svc, NULL), ZKC_EBADARGUMENTS);
	ro.version = 99;
	assert_int_equal(zkc_service_router_open(&r, rzk, svc, &ro), ZKC_EBADARGUMENTS);
	assert_null(r);

	/* registration arguments: nothing is created */
	in.address = "h";
	in.id = "a/b";
	assert_int_equal(zkc_service_reg_open(&reg, zk, svc, &in), ZKC_EBADARGUMENTS);
	assert_non_null(strstr(zkc_error_last()->message, "'/'"));
	in.id = "";
	assert_int_equal(zkc_service_reg_open(&reg, zk, svc, &in), ZKC_EBADARGUMENTS);
	in.id = NULL;
	assert_int_equal(zkc_service_reg_open(&reg, zk, svc, &in), ZKC_EBADARGUMENTS);
	in.id = "nul\001ctl";
	assert_int_equal(zkc_service_reg_open(&reg, zk, svc, &in), ZKC_EBADARGUMENTS);
	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	in.id = longid;
	assert_int_equal(zkc_service_reg_open(&reg, zk, svc, &in), ZKC_EBADARGUMENTS);
	in.id = "ok";
	in.weight = 0;
	assert_int_equal(zkc_service_reg_open(&reg, zk, svc, &in), ZKC_EBADARGUMENTS);
	assert_non_null(strstr(zkc_error_last()->message, "weight 0"));
	in.weight = -5;
	assert_int_equal(zkc_service_reg_open(&reg, zk, svc, &in), ZKC_EBADARGUMENTS);
	in.weight = 1;
	in.port = -1;
	assert_int_equal(zkc_service_reg_open(&reg, zk, svc, &in), ZKC_EBADARGUMENTS);
	in.port = 80;
	big = malloc(1024 * 1024 + 1);
	memset(big, 'm', 1024 * 1024);
	big[1024 * 1024] = '\0';
	in.metadata = big;
	assert_int_equal(zkc_service_reg_open(&reg, zk, svc, &in), ZKC_ETOOLARGE);
	assert_non_null(strstr(zkc_error_last()->message, "metadata"));
	free(big);
	in.metadata = NULL;
	assert_int_equal(zkc_service_reg_open(&reg, zk, "bad path", &in), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_service_reg_open(&reg, NULL, svc, &in), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_service_reg_open(&reg, zk, svc, NULL), ZKC_EBADARGUMENTS);
	assert_null(reg);
	assert_int_equal(zkc_exists(NULL, zk, svc), ZKC_ENONODE);

	/* the same id from another live session: refused */
	in.id = "dup";
	assert_int_equal(zkc_service_reg_open(&reg, zk, svc, &in), ZKC_OK);
	assert_int_equal(zkc_service_reg_open(&twin, rzk, svc, &in), ZKC_ENODEEXISTS);
	assert_non_null(strstr(zkc_error_last()->message, "already registered"));
	assert_int_equal(zkc_service_reg_open(&twin, zk, svc, &in), ZKC_ENODEEXISTS);
	assert_null(twin);
	assert_int_equal(zkc_service_unregister(reg), ZKC_OK);
	zkc_service_reg_close(reg);

	/* replace: a restarted process takes the id over from its previous
	 * incarnation (frozen here: its session lives on for 4 s) */
	pid = spawn_register(&fd, svc, "dup", NULL);
	read_line(fd, line, sizeof(line));
	assert_int_equal(kill(pid, SIGSTOP), 0);
	assert_int_equal(zkc_service_reg_open(&twin, rzk, svc, &in), ZKC_ENODEEXISTS);
	in.replace = 1;
	assert_int_equal(zkc_service_reg_open(&twin, rzk, svc, &in), ZKC_OK);
	{
		int64_t sid = 0;
		char *p = h_join(svc, "dup");

		zkc_session(&sid, NULL, NULL, rzk);
		assert_true(owner_of(p) == sid);
		free(p);
	}
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(wait_exit(pid), 128 + SIGKILL);
	close(fd);

	/* a child that is not an instance is skipped, never routed to */
	junk = h_join(svc, "junk");
	assert_int_equal(zkc_create(NULL, NULL, zk, junk, "not json", 8, NULL), ZKC_OK);
	assert_int_equal(zkc_service_router_open(&r, rzk, svc, NULL), ZKC_OK);
	assert_int_equal(zkc_service_router_list(&l, r), ZKC_OK);
	assert_int_equal(l->count, 1);
	assert_int_equal(l->invalid, 1);
	zkc_service_list_free(l);
	assert_int_equal(zkc_service_route(&ep, r, "\0binary\0key", 11), ZKC_OK);
	assert_string_equal(ep.id, "dup");
	zkc_service_router_close(r);
	assert_int_equal(zkc_service_unregister(twin), ZKC_OK);
	zkc_service_reg_close(twin);

	/* NULL handles are harmless */
	assert_int_equal(zkc_service_unregister(NULL), ZKC_EBADARGUMENTS);
	zkc_service_reg_close(NULL);
	zkc_service_router_close(NULL);
	assert_int_equal(zkc_service_set_draining(NULL, 1), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_service_router_count(NULL), 0);
	zkc_delete(zk, svc, -1, ZKC_DELETE_RECURSIVE);
	free(junk);
	free(unknown);
	free(svc);
}

/* ------------------------------------------------------------ CLI */

/* Runs `zkc ARGS` with the test URL; exit status, stdout in *out. */
static int run(char **out, const char *args)
{
	char *a = NULL;
	int rc;

	assert_true(asprintf(&a, "%s 2>/dev/null", args) > 0);
	rc = h_run_zkc(out, h_url(), a);
	free(a);
	return rc;
}

static void test_cli_register_list_route_and_exit_codes(void **s)
{
	char *svc = h_path("cli"), args[2048], line[4096], *out = NULL;
	zkc_service_router_t *r = router(svc);
	zkc_service_endpoint_t ep;
	int fd, fd2;
	pid_t pid, pid2;
	(void)s;

	if (access(zkc_bin, X_OK) != 0)
		fail_msg("zkc program not found at %s", zkc_bin);
	pid = spawn_register(&fd, svc, "c1", "--json");
	read_line(fd, line, sizeof(line));
	assert_non_null(strstr(line, "\"registered\":true"));
	H_WAIT_UNTIL(router_has(r, "c1"), H_TIMEOUT_MS);

	snprintf(args, sizeof(args), "service list --json %s", svc);
	assert_int_equal(run(&out, args), CLI_OK);
	assert_non_null(strstr(out, "\"id\":\"c1\""));
	assert_non_null(strstr(out, "\"port\":7000"));
	assert_non_null(strstr(out, "\"draining\":false"));
	free(out);

	/* route agrees with the library's router */
	assert_int_equal(zkc_service_route(&ep, r, "order-42", 8), ZKC_OK);
	snprintf(args, sizeof(args), "service route %s order-42", svc);
	assert_int_equal(run(&out, args), CLI_OK);
	assert_true(strncmp(out, "order-42 c1 ", 12) == 0);
	free(out);

	/* SIGUSR1 drains: route has nobody left (exit 3) */
	assert_int_equal(kill(pid, SIGUSR1), 0);
	H_WAIT_UNTIL(zkc_service_router_count(r) == 0, H_TIMEOUT_MS);
	assert_int_equal(run(NULL, args), CLI_NONODE);
	assert_int_equal(kill(pid, SIGUSR2), 0);
	H_WAIT_UNTIL(zkc_service_router_count(r) == 1, H_TIMEOUT_MS);

	/* the same id again from another process: exit 4 */
	pid2 = spawn_register(&fd2, svc, "c1", NULL);
	assert_int_equal(wait_exit(pid2), CLI_EXISTS);
	close(fd2);

	/* usage and bad input: 2; unknown service: 3 */
	snprintf(args, sizeof(args), "service route %s ''", svc);
	assert_int_equal(run(NULL, args), CLI_USAGE);
	snprintf(args, sizeof(args), "service register %s --id a/b", svc);
	assert_int_equal(run(NULL, args), CLI_USAGE);
	snprintf(args, sizeof(args), "service register %s --id x --weight 0", svc);
	assert_int_equal(run(NULL, args), CLI_USAGE);
	assert_int_equal(run(NULL, "service frobnicate x"), CLI_USAGE);
	assert_int_equal(run(NULL, "service route"), CLI_USAGE);
	snprintf(args, sizeof(args), "service list %s-none", svc);
	assert_int_equal(run(NULL, args), CLI_NONODE);

	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(wait_exit(pid), 0);
	H_WAIT_UNTIL(zkc_service_router_count(r) == 0, H_TIMEOUT_MS);
	close(fd);
	zkc_service_router_close(r);
	zkc_delete(zk, svc, -1, ZKC_DELETE_RECURSIVE);
	free(svc);
}

int main(void)
{
	const struct CMUnitTest basics[] = {
		cmocka_unit_test(test_registered_instances_are_listed_and_routed_alike_by_every_router),
		cmocka_unit_test(test_adding_an_eleventh_instance_moves_one_eleventh_of_the_keys_to_it),
		cmocka_unit_test(test_weights_are_honoured_and_can_change_live),
		cmocka_unit_test(test_draining_instance_gets_no_keys_and_no_other_key_moves),
		cmocka_unit_test(test_routing_threads_race_snapshot_swaps),
		cmocka_unit_test(test_instance_comes_back_after_its_session_is_expired),
		cmocka_unit_test(test_killed_process_stops_receiving_keys_once_its_session_expires),
		cmocka_unit_test(test_stopped_process_drops_out_then_re_registers_when_it_resumes),
		cmocka_unit_test(test_router_updated_child_by_child_matches_a_fresh_router),
		cmocka_unit_test(test_bad_input_gets_clear_codes),
		cmocka_unit_test(test_cli_register_list_route_and_exit_codes),
	};

	return cmocka_run_group_tests_name("service", basics, setup, teardown);
}
