/* tests/integration/test_client.c - the client against a real 1-node
 * ensemble: CRUD, modes, multi, watches, events, chroot, auth, and bad
 * input answered with clear codes. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <cmocka.h>

#include "zkc.h"
#include "client.h"

static zkc_t *zk;

static int setup(void **state)
{
	if (h_setup_shared(state) != 0)
		return -1;
	zk = h_open(NULL, NULL);
	return zk ? 0 : -1;
}

static int teardown(void **state)
{
	zkc_close(zk);
	zk = NULL;
	return h_teardown(state);
}

/* ------------------------------------------------------------ CRUD */

static void test_create_get_set_delete_roundtrip(void **state)
{
	char *base = h_path("crud");
	char *p = h_join(base, "a"), *data = NULL, *created = NULL;
	zkc_stat_t st;
	size_t len = 0;
	(void)state;

	assert_int_equal(zkc_create(NULL, NULL, zk, base, NULL, 0, NULL), ZKC_OK);
	assert_int_equal(zkc_create(&created, &st, zk, p, "hello", 5, NULL), ZKC_OK);
	assert_string_equal(created, p);
	assert_int_equal(st.version, 0);
	assert_int_equal(st.data_length, 5);
	assert_int_equal(zkc_get(&data, &len, &st, zk, p), ZKC_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(data, "hello", 5);
	assert_int_equal(data[5], '\0');
	zkc_free(data);

	assert_int_equal(zkc_set(&st, zk, p, "world!", 6, 0), ZKC_OK);
	assert_int_equal(st.version, 1);
	assert_int_equal(zkc_set(NULL, zk, p, "x", 1, 0), ZKC_EBADVERSION);
	assert_int_equal(zkc_error_last()->code, ZKC_EBADVERSION);
	assert_non_null(strstr(zkc_error_last()->message, p));
	assert_int_equal(zkc_set(&st, zk, p, "any", 3, -1), ZKC_OK);
	assert_int_equal(st.version, 2);

	assert_int_equal(zkc_delete(zk, p, 1, 0), ZKC_EBADVERSION);
	assert_int_equal(zkc_delete(zk, p, 2, 0), ZKC_OK);
	assert_int_equal(zkc_exists(NULL, zk, p), ZKC_ENONODE);
	assert_int_equal(zkc_get(&data, &len, NULL, zk, p), ZKC_ENONODE);
	assert_null(data);
	assert_int_equal(zkc_delete(zk, p, -1, 0), ZKC_ENONODE);
	zkc_free(created);
	free(p);
	free(base);
}

static void test_empty_data_is_a_zero_length_buffer(void **state)
{
	char *p = h_path("empty"), *data = NULL;
	size_t len = 99;
	(void)state;

	assert_int_equal(zkc_create(NULL, NULL, zk, p, NULL, 0, NULL), ZKC_OK);
	assert_int_equal(zkc_get(&data, &len, NULL, zk, p), ZKC_OK);
	assert_non_null(data);
	assert_int_equal(len, 0);
	zkc_free(data);
	free(p);
}

static void test_create_existing_and_missing_parent(void **state)
{
	char *p = h_path("exist");
	char *deep = h_join(p, "no/such/parent");
	(void)state;

	assert_int_equal(zkc_create(NULL, NULL, zk, p, NULL, 0, NULL), ZKC_OK);
	assert_int_equal(zkc_create(NULL, NULL, zk, p, NULL, 0, NULL), ZKC_ENODEEXISTS);
	assert_int_equal(zkc_create(NULL, NULL, zk, deep, NULL, 0, NULL), ZKC_ENONODE);
	assert_int_equal(zkc_create(NULL, NULL, zk, "/", NULL, 0, NULL), ZKC_ENODEEXISTS);
	free(deep);
	free(p);
}

static void test_create_parents_makes_every_ancestor(void **state)
{
	char *p = h_path("parents");
	char *deep = h_join(p, "a/b/c");
	zkc_create_options_t o = ZKC_CREATE_OPTIONS_INIT;
	char *mid = h_join(p, "a/b");
	(void)state;

	o.flags = ZKC_CREATE_PARENTS;
	assert_int_equal(zkc_create(NULL, NULL, zk, deep, "d", 1, &o), ZKC_OK);
	assert_int_equal(zkc_exists(NULL, zk, mid), ZKC_OK);
	assert_int_equal(zkc_exists(NULL, zk, deep), ZKC_OK);
	/* and again into an existing chain */
	free(deep);
	deep = h_join(p, "a/b/d");
	assert_int_equal(zkc_create(NULL, NULL, zk, deep, NULL, 0, &o), ZKC_OK);
	free(mid);
	free(deep);
	free(p);
}

static void test_modes_ephemeral_sequential_container_ttl(void **state)
{
	char *p = h_path("modes");
	char *e = h_join(p, "eph"), *s = h_join(p, "seq-"), *s1 = NULL, *s2 = NULL;
	char *c = h_join(p, "container"), *t = h_join(p, "ttl");
	zkc_create_options_t o = ZKC_CREATE_OPTIONS_INIT;
	zkc_stat_t st;
	int64_t sid = 0;
	(void)state;

	assert_int_equal(zkc_create(NULL, NULL, zk, p, NULL, 0, NULL), ZKC_OK);
	assert_int_equal(zkc_session(&sid, NULL, NULL, zk), ZKC_OK);
	o.mode = ZKC_EPHEMERAL;
	assert_int_equal(zkc_create(NULL, &st, zk, e, NULL, 0, &o), ZKC_OK);
	assert_true(st.ephemeral_owner == sid);

	o.mode = ZKC_PERSISTENT_SEQUENTIAL;
	assert_int_equal(zkc_create(&s1, NULL, zk, s, NULL, 0, &o), ZKC_OK);
	assert_int_equal(zkc_create(&s2, NULL, zk, s, NULL, 0, &o), ZKC_OK);
	assert_int_equal(strlen(s1), strlen(s) + 10);
	assert_true(strncmp(s1, s, strlen(s)) == 0);
	assert_true(strcmp(s1, s2) < 0);

	o.mode = ZKC_CONTAINER;
	assert_int_equal(zkc_create(NULL, &st, zk, c, NULL, 0, &o), ZKC_OK);

	o.mode = ZKC_PERSISTENT_WITH_TTL;
	o.ttl_ms = 0;
	assert_int_equal(zkc_create(NULL, NULL, zk, t, NULL, 0, &o), ZKC_EBADARGUMENTS);
	o.ttl_ms = 60000;
	assert_int_equal(zkc_create(NULL, NULL, zk, t, NULL, 0, &o), ZKC_OK);
	assert_int_equal(zkc_exists(NULL, zk, t), ZKC_OK);

	o.mode = 42;
	assert_int_equal(zkc_create(NULL, NULL, zk, t, NULL, 0, &o), ZKC_EBADARGUMENTS);
	assert_non_null(strstr(zkc_error_last()->message, "mode"));
	zkc_free(s1);
	zkc_free(s2);
	free(e);
	free(s);
	free(c);
	free(t);
	free(p);
}

static void test_children_lists_names_and_stat(void **state)
{
	char *p = h_path("kids");
	zkc_strings_t *kids = NULL;
	zkc_stat_t st;
	int i, seen = 0;
	size_t k;
	(void)state;

	assert_int_equal(zkc_create(NULL, NULL, zk, p, NULL, 0, NULL), ZKC_OK);
	for (i = 0; i < 5; i++) {
		char name[32], *c;

		snprintf(name, sizeof(name), "c%d", i);
		c = h_join(p, name);
		assert_int_equal(zkc_create(NULL, NULL, zk, c, NULL, 0, NULL), ZKC_OK);
		free(c);
	}
	assert_int_equal(zkc_children(&kids, &st, zk, p), ZKC_OK);
	assert_int_equal(kids->count, 5);
	assert_int_equal(st.num_children, 5);
	for (k = 0; k < kids->count; k++)
		seen |= 1 << (kids->items[k][1] - '0');
	assert_int_equal(seen, 0x1f);
	zkc_strings_free(kids);
	assert_int_equal(zkc_children(&kids, NULL, zk, "/no/such/node"), ZKC_ENONODE);
	assert_null(kids);
	free(p);
}

static void test_delete_recursive_removes_a_tree(void **state)
{
	char *p = h_path("tree");
	zkc_create_options_t o = ZKC_CREATE_OPTIONS_INIT;
	int i, j;
	(void)state;

	o.flags = ZKC_CREATE_PARENTS;
	for (i = 0; i < 4; i++)
		for (j = 0; j < 5; j++) {
			char sub[64], *c;

			snprintf(sub, sizeof(sub), "n%d/m%d/leaf", i, j);
			c = h_join(p, sub);
			assert_int_equal(zkc_create(NULL, NULL, zk, c, "x", 1, &o), ZKC_OK);
			free(c);
		}
	assert_int_equal(zkc_delete(zk, p, -1, 0), ZKC_ENOTEMPTY);
	assert_int_equal(zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE), ZKC_OK);
	assert_int_equal(zkc_exists(NULL, zk, p), ZKC_ENONODE);
	assert_int_equal(zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE), ZKC_ENONODE);
	free(p);
}

static void test_sync_succeeds(void **state)
{
	(void)state;
	assert_int_equal(zkc_sync(zk, "/"), ZKC_OK);
}

/* ------------------------------------------------------------ multi */

static void test_multi_commits_all_or_nothing(void **state)
{
	char *p = h_path("multi");
	char *a = h_join(p, "a"), *b = h_join(p, "b"), *data = NULL;
	zkc_multi_t *m = NULL;
	zkc_multi_results_t *res = NULL;
	size_t len;
	(void)state;

	assert_int_equal(zkc_create(NULL, NULL, zk, p, "v0", 2, NULL), ZKC_OK);
	assert_int_equal(zkc_multi_new(&m), ZKC_OK);
	assert_int_equal(zkc_multi_create(m, a, "A", 1, ZKC_PERSISTENT, NULL), ZKC_OK);
	assert_int_equal(zkc_multi_create(m, b, "B", 1, ZKC_PERSISTENT, NULL), ZKC_OK);
	assert_int_equal(zkc_multi_set(m, p, "v1", 2, 0), ZKC_OK);
	assert_int_equal(zkc_multi_count(m), 3);
	assert_int_equal(zkc_multi_commit(&res, zk, m), ZKC_OK);
	assert_int_equal(res->count, 3);
	assert_string_equal(res->results[0].path, a);
	assert_int_equal(res->results[2].stat.version, 1);
	zkc_multi_results_free(res);
	zkc_multi_free(m);

	/* A failing check undoes the whole transaction. */
	free(a);
	a = h_join(p, "c");
	assert_int_equal(zkc_multi_new(&m), ZKC_OK);
	zkc_multi_create(m, a, NULL, 0, ZKC_PERSISTENT, NULL);
	zkc_multi_delete(m, b, -1);
	zkc_multi_check(m, p, 0);  /* version is 1 now */
	assert_int_equal(zkc_multi_commit(&res, zk, m), ZKC_EBADVERSION);
	assert_non_null(strstr(zkc_error_last()->message, p));
	assert_int_equal(res->count, 3);
	assert_int_equal(res->results[2].code, ZKC_EBADVERSION);
	assert_int_equal(zkc_exists(NULL, zk, a), ZKC_ENONODE);
	assert_int_equal(zkc_exists(NULL, zk, b), ZKC_OK);
	assert_int_equal(zkc_get(&data, &len, NULL, zk, p), ZKC_OK);
	assert_string_equal(data, "v1");
	zkc_free(data);
	zkc_multi_results_free(res);
	zkc_multi_free(m);

	/* Bad input is reported when added and again at commit. */
	assert_int_equal(zkc_multi_new(&m), ZKC_OK);
	assert_int_equal(zkc_multi_create(m, "bad", NULL, 0, ZKC_PERSISTENT, NULL),
	                 ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_multi_commit(NULL, zk, m), ZKC_EBADARGUMENTS);
	zkc_multi_free(m);
	/* An empty transaction is fine and costs nothing. */
	assert_int_equal(zkc_multi_new(&m), ZKC_OK);
	assert_int_equal(zkc_multi_commit(&res, zk, m), ZKC_OK);
	assert_int_equal(res->count, 0);
	zkc_multi_results_free(res);
	zkc_multi_free(m);
	free(a);
	free(b);
	free(p);
}

/* ------------------------------------------------------------ watches, events */

typedef struct seen {
	pthread_mutex_t mu;
	int count;
	int type;
	char path[256];
	void *payload;
} seen_t;

static void record(zkc_t *c, const zkc_event_t *ev, void *payload)
{
	seen_t *s = payload;

	(void)c;
	pthread_mutex_lock(&s->mu);
	s->count++;
	s->type = ev->type;
	s->payload = ev->payload;
	snprintf(s->path, sizeof(s->path), "%s", ev->path ? ev->path : "");
	pthread_mutex_unlock(&s->mu);
}

static int seen_count(void *arg)
{
	seen_t *s = arg;
	int n;

	pthread_mutex_lock(&s->mu);
	n = s->count;
	pthread_mutex_unlock(&s->mu);
	return n > 0;
}

static void test_watches_fire_once_with_the_event(void **state)
{
	char *p = h_path("watch");
	char *kid = h_join(p, "kid");
	seen_t data = { PTHREAD_MUTEX_INITIALIZER, 0, 0, "", NULL };
	seen_t exist = { PTHREAD_MUTEX_INITIALIZER, 0, 0, "", NULL };
	seen_t kids = { PTHREAD_MUTEX_INITIALIZER, 0, 0, "", NULL };
	zkc_strings_t *list = NULL;
	char *buf = NULL;
	(void)state;

	/* exists on a missing node leaves a watch for its creation */
	assert_int_equal(zkc_exists_w(NULL, zk, p, record, &exist), ZKC_ENONODE);
	assert_int_equal(zkc_create(NULL, NULL, zk, p, "1", 1, NULL), ZKC_OK);
	assert_int_equal(h_wait_until(seen_count, &exist, 10000), 0);
	assert_int_equal(exist.type, ZKC_EVENT_CREATED);
	assert_string_equal(exist.path, p);

	assert_int_equal(zkc_get_w(&buf, NULL, NULL, zk, p, record, &data), ZKC_OK);
	zkc_free(buf);
	assert_int_equal(zkc_children_w(&list, NULL, zk, p, record, &kids), ZKC_OK);
	zkc_strings_free(list);
	assert_int_equal(zkc_set(NULL, zk, p, "2", 1, -1), ZKC_OK);
	assert_int_equal(h_wait_until(seen_count, &data, 10000), 0);
	assert_int_equal(data.type, ZKC_EVENT_CHANGED);
	assert_ptr_equal(data.payload, &data);
	assert_int_equal(zkc_create(NULL, NULL, zk, kid, NULL, 0, NULL), ZKC_OK);
	assert_int_equal(h_wait_until(seen_count, &kids, 10000), 0);
	assert_int_equal(kids.type, ZKC_EVENT_CHILD);

	/* one-shot: further changes do not call again */
	assert_int_equal(zkc_set(NULL, zk, p, "3", 1, -1), ZKC_OK);
	assert_int_equal(zkc_sync(zk, p), ZKC_OK);
	assert_int_equal(zkc_exists(NULL, zk, p), ZKC_OK);
	pthread_mutex_lock(&data.mu);
	assert_int_equal(data.count, 1);
	pthread_mutex_unlock(&data.mu);

	/* a failed call leaves no watch behind */
	assert_int_equal(zkc_get_w(&buf, NULL, NULL, zk, "/no/such", record, &data),
	                 ZKC_ENONODE);
	free(kid);
	free(p);
}

static void test_events_reach_the_queue_and_its_fd(void **state)
{
	zkc_t *q = h_open(h_url(), NULL);
	char *p = h_path("queue");
	zkc_event_t *ev = NULL;
	struct pollfd pfd;
	int found = 0, i;
	(void)state;

	assert_non_null(q);
	/* The first event is the CONNECTED of the open. */
	assert_int_equal(zkc_events_next(&ev, q, 10000), ZKC_OK);
	assert_int_equal(ev->type, ZKC_EVENT_STATE);
	assert_int_equal(ev->state, ZKC_STATE_CONNECTED);
	zkc_event_free(ev);

	assert_int_equal(zkc_exists_w(NULL, q, p, NULL, (void *)0x1234), ZKC_ENONODE);
	assert_int_equal(zkc_create(NULL, NULL, zk, p, NULL, 0, NULL), ZKC_OK);
	pfd.fd = zkc_events_fd(q);
	pfd.events = POLLIN;
	assert_true(pfd.fd >= 0);
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	for (i = 0; i < 10 && !found; i++) {
		assert_int_equal(zkc_events_next(&ev, q, 10000), ZKC_OK);
		if (ev->type == ZKC_EVENT_CREATED) {
			assert_string_equal(ev->path, p);
			assert_ptr_equal(ev->payload, (void *)0x1234);
			found = 1;
		}
		zkc_event_free(ev);
	}
	assert_true(found);
	assert_int_equal(zkc_events_next(&ev, q, 0), ZKC_EAGAIN);
	assert_null(ev);
	zkc_close(q);
	free(p);
}

/* What the closing callback saw: the client still answers inside the
 * callback after zkc_close (the close waits for it to return). */
static atomic_int closer_called;
static atomic_int closer_after_rc = 1;   /* read by the test while the callback runs */
static char *closer_node;

static void close_from_callback(zkc_t *c, const zkc_event_t *ev, void *payload)
{
	(void)payload;
	if (ev->type != ZKC_EVENT_CREATED || closer_called)
		return;
	closer_called = 1;
	zkc_close(c);
	zkc_close(c);  /* a second close from the callback is a no-op */
	closer_after_rc = zkc_create(NULL, NULL, c, closer_node, NULL, 0,
	                             &(zkc_create_options_t){ ZKC_CREATE_OPTIONS_VERSION,
	                                                      ZKC_EPHEMERAL, 0, 0, NULL });
}

static int closer_done(void *arg)
{
	(void)arg;
	return closer_after_rc != 1;
}

static int clients_back_to(void *arg)
{
	return zkc_testing_open_clients() == *(int *)arg;
}

static void test_close_from_own_callback_is_deferred_until_it_returns(void **state)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_t *c, *other;
	char *trigger = h_path("closer-trigger");
	int before;
	(void)state;

	closer_node = h_path("closer");
	other = h_open(h_url(), NULL);
	assert_non_null(other);
	before = zkc_testing_open_clients();
	o.event_fn = close_from_callback;
	c = h_open(h_url(), &o);
	assert_non_null(c);
	assert_int_equal(zkc_testing_open_clients(), before + 1);
	/* the watch's event goes to the client's callback, which closes it */
	assert_int_equal(zkc_exists_w(NULL, c, trigger, NULL, NULL), ZKC_ENONODE);
	assert_int_equal(zkc_create(NULL, NULL, other, trigger, NULL, 0, NULL), ZKC_OK);
	assert_int_equal(h_wait_until(closer_done, NULL, H_TIMEOUT_MS), 0);
	/* the callback's own call after zkc_close still ran on a live client */
	assert_int_equal(closer_after_rc, ZKC_OK);
	/* then the client closed by itself: every thread gone, memory freed,
	 * and its session ended, so its ephemeral node went at once */
	assert_int_equal(h_wait_until(clients_back_to, &before, H_TIMEOUT_MS), 0);
	assert_int_equal(zkc_sync(other, closer_node), ZKC_OK);
	assert_int_equal(zkc_exists(NULL, other, closer_node), ZKC_ENONODE);
	assert_int_equal(zkc_delete(other, trigger, -1, 0), ZKC_OK);
	zkc_close(other);
	free(trigger);
	free(closer_node);
}

/* ------------------------------------------------------------ chroot, auth */

static void test_chroot_confines_paths(void **state)
{
	char *root = h_path("chroot");
	char *url = NULL, *inside = h_join(root, "x"), *created = NULL;
	zkc_t *c;
	(void)state;

	assert_int_equal(zkc_create(NULL, NULL, zk, root, NULL, 0, NULL), ZKC_OK);
	url = h_url_with(h_url(), root, NULL);
	c = h_open(url, NULL);
	assert_non_null(c);
	assert_int_equal(zkc_create(&created, NULL, c, "/x", "in", 2, NULL), ZKC_OK);
	assert_string_equal(created, "/x");
	assert_int_equal(zkc_exists(NULL, zk, inside), ZKC_OK);
	zkc_free(created);
	zkc_close(c);
	free(url);
	free(inside);
	free(root);
}

static void test_digest_acl_keeps_others_out(void **state)
{
	char *p = h_path("acl");
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	zkc_t *owner;
	char *data = NULL;
	(void)state;

	o.digest = "alice:secret";
	owner = h_open(h_url(), &o);
	assert_non_null(owner);
	co.acl = zkc_acl_creator_all();
	assert_int_equal(zkc_create(NULL, NULL, owner, p, "private", 7, &co), ZKC_OK);
	assert_int_equal(zkc_get(&data, NULL, NULL, owner, p), ZKC_OK);
	zkc_free(data);
	data = NULL;
	assert_int_equal(zkc_get(&data, NULL, NULL, zk, p), ZKC_ENOAUTH);
	assert_null(data);
	assert_int_equal(zkc_set(NULL, zk, p, "x", 1, -1), ZKC_ENOAUTH);
	/* creator-all without any credentials is refused by the server */
	assert_int_equal(zkc_create(NULL, NULL, zk, "/acl-no-auth", NULL, 0, &co), ZKC_EINVALIDACL);
	zkc_close(owner);
	free(p);
}

/* ------------------------------------------------------------ bad input */

static void test_invalid_paths_are_refused_with_the_reason(void **state)
{
	static const char *bad[] = { "", "no-slash", "/trailing/", "/a//b", "/a/./b", "/a/../b",
	                             "/ctl\x01", NULL };
	int i;
	char *data = NULL;
	(void)state;

	for (i = 0; bad[i]; i++) {
		assert_int_equal(zkc_create(NULL, NULL, zk, bad[i], NULL, 0, NULL), ZKC_EBADARGUMENTS);
		assert_true(strlen(zkc_error_last()->message) > 0);
		assert_int_equal(zkc_get(&data, NULL, NULL, zk, bad[i]), ZKC_EBADARGUMENTS);
		assert_int_equal(zkc_delete(zk, bad[i], -1, 0), ZKC_EBADARGUMENTS);
	}
	assert_int_equal(zkc_path_validate("/a\0b", 4), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_get(&data, NULL, NULL, zk, NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_delete(zk, "/", -1, 0), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_delete(zk, "/x", -1, 0x80), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_set(NULL, zk, "/x", "a", 1, -7), ZKC_EBADARGUMENTS);
}

static void test_oversized_data_is_refused_before_sending(void **state)
{
	char *p = h_path("big");
	size_t n = 1024 * 1024 + 1;
	char *big = calloc(1, n);
	(void)state;

	assert_non_null(big);
	assert_int_equal(zkc_create(NULL, NULL, zk, p, big, n, NULL), ZKC_ETOOLARGE);
	assert_non_null(strstr(zkc_error_last()->message, "limit"));
	assert_int_equal(zkc_create(NULL, NULL, zk, p, NULL, 0, NULL), ZKC_OK);
	assert_int_equal(zkc_set(NULL, zk, p, big, n, -1), ZKC_ETOOLARGE);
	assert_int_equal(zkc_set(NULL, zk, p, NULL, 5, -1), ZKC_EBADARGUMENTS);
	/* the limit itself is accepted by the server */
	assert_int_equal(zkc_set(NULL, zk, p, big, ZKC_MAX_DATA_LEN, -1), ZKC_OK);
	/* and the client still works */
	assert_int_equal(zkc_exists(NULL, zk, p), ZKC_OK);
	free(big);
	free(p);
}

static void test_malformed_urls_and_options_fail_fast(void **state)
{
	static const char *bad[] = { "http://h:2181", "zk://", "zk://h:99999", "zk://h:2181?nope=1",
	                             "zk://h:2181?session_timeout=ten", "zk://h:2181/bad/", NULL };
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_t *c = (zkc_t *)0x1;
	int i;
	(void)state;

	for (i = 0; bad[i]; i++) {
		assert_int_equal(zkc_open(&c, bad[i], NULL), ZKC_EURL);
		assert_null(c);
		assert_true(strlen(zkc_error_last()->message) > 0);
		c = (zkc_t *)0x1;
	}
	assert_int_equal(zkc_open(&c, "zk://h:2181?digest=bob:hunter2&nope=1", NULL), ZKC_EURL);
	assert_null(strstr(zkc_error_last()->message, "hunter2"));
	o.version = 99;
	assert_int_equal(zkc_open(&c, h_url(), &o), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_open(NULL, h_url(), NULL), ZKC_EBADARGUMENTS);
}

/* ------------------------------------------------------------ session */

static void test_session_info_is_the_session_zkc_session_gives(void **state)
{
	zkc_session_info_t info, after;
	char passwd[16];
	int64_t sid = 0;
	int timeout = 0;
	size_t i, zeros = 0;
	zkc_t *c = h_open(NULL, NULL);
	(void)state;

	assert_int_equal(zkc_session_info(&info, c), ZKC_OK);
	assert_int_equal(zkc_session(&sid, passwd, &timeout, c), ZKC_OK);
	assert_true(info.id != 0 && info.id == sid);
	assert_int_equal(info.timeout_ms, timeout);
	assert_true(info.timeout_ms > 0);
	assert_int_equal(info.passwd_len, ZKC_SESSION_PASSWD_LEN);
	assert_memory_equal(info.passwd, passwd, sizeof(passwd));
	for (i = 0; i < info.passwd_len; i++)
		zeros += info.passwd[i] == 0;
	assert_true(zeros < info.passwd_len);

	/* a new session has a new id and password */
	assert_int_equal(zkc_testing_expire_session(c, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	H_WAIT_UNTIL(zkc_session_info(&after, c) == ZKC_OK && after.id != info.id, H_TIMEOUT_MS);
	assert_int_equal(after.passwd_len, ZKC_SESSION_PASSWD_LEN);
	assert_true(memcmp(after.passwd, info.passwd, sizeof(info.passwd)) != 0);

	assert_int_equal(zkc_session_info(NULL, c), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_error_last()->code, ZKC_EBADARGUMENTS);
	assert_non_null(strstr(zkc_error_last()->message, "out is NULL"));
	assert_int_equal(zkc_session_info(&info, NULL), ZKC_EBADARGUMENTS);
	zkc_close(c);
}

static void test_unreachable_and_unresolvable_servers_time_out(void **state)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_t *c = NULL;
	int64_t t0;
	(void)state;

	o.connect_timeout_ms = 1500;
	t0 = h_now_ms();
	/* port 1 on loopback: connection refused */
	assert_int_equal(zkc_open(&c, "zk://127.0.0.1:1", &o), ZKC_ETIMEDOUT);
	assert_null(c);
	assert_true(h_now_ms() - t0 < 15000);
	/* a name that does not resolve is a server that is down */
	t0 = h_now_ms();
	assert_int_equal(zkc_open(&c, "zk://no-such-host.invalid:2181", &o), ZKC_ETIMEDOUT);
	assert_null(c);
	assert_true(h_now_ms() - t0 < 15000);
}

static void test_a_name_that_resolves_later_still_connects(void **state)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	char *url = NULL;
	zkc_t *c = NULL;
	(void)state;

	/* One dead name and one live server: the open succeeds. */
	url = h_url_with(h_url(), NULL, "no-such-host.invalid:2181");
	o.connect_timeout_ms = 20000;
	assert_int_equal(zkc_open(&c, url, &o), ZKC_OK);
	assert_int_equal(zkc_exists(NULL, c, "/"), ZKC_OK);
	zkc_close(c);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_get_set_delete_roundtrip),
		cmocka_unit_test(test_empty_data_is_a_zero_length_buffer),
		cmocka_unit_test(test_create_existing_and_missing_parent),
		cmocka_unit_test(test_create_parents_makes_every_ancestor),
		cmocka_unit_test(test_modes_ephemeral_sequential_container_ttl),
		cmocka_unit_test(test_children_lists_names_and_stat),
		cmocka_unit_test(test_delete_recursive_removes_a_tree),
		cmocka_unit_test(test_sync_succeeds),
		cmocka_unit_test(test_multi_commits_all_or_nothing),
		cmocka_unit_test(test_watches_fire_once_with_the_event),
		cmocka_unit_test(test_events_reach_the_queue_and_its_fd),
		cmocka_unit_test(test_close_from_own_callback_is_deferred_until_it_returns),
		cmocka_unit_test(test_chroot_confines_paths),
		cmocka_unit_test(test_digest_acl_keeps_others_out),
		cmocka_unit_test(test_invalid_paths_are_refused_with_the_reason),
		cmocka_unit_test(test_oversized_data_is_refused_before_sending),
		cmocka_unit_test(test_malformed_urls_and_options_fail_fast),
		cmocka_unit_test(test_session_info_is_the_session_zkc_session_gives),
		cmocka_unit_test(test_unreachable_and_unresolvable_servers_time_out),
		cmocka_unit_test(test_a_name_that_resolves_later_still_connects),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
