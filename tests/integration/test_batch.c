/* tests/integration/test_batch.c - pipelined batches against a real
 * ensemble: order within a batch, per-op results, watches, asynchronous
 * runs and bad input. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	return h_teardown(state);
}

static void test_ops_run_in_order_and_answer_separately(void **state)
{
	char *p = h_path("order"), *kid = h_join(p, "k-"), *missing = h_join(p, "missing");
	zkc_create_options_t eseq = ZKC_CREATE_OPTIONS_INIT;
	const zkc_strings_t *kids;
	zkc_batch_t *b = NULL;
	zkc_stat_t st;
	const char *made, *data;
	size_t len;
	int c0, c1, c2, g, e, m, s, d;
	(void)state;

	eseq.mode = ZKC_EPHEMERAL_SEQUENTIAL;
	assert_int_equal(zkc_batch_new(&b), ZKC_OK);
	c0 = zkc_batch_create(b, p, "root", 4, NULL);
	c1 = zkc_batch_create(b, kid, "one", 3, &eseq);
	c2 = zkc_batch_children(b, p, 0, NULL, NULL);   /* sees c1: same session, in order */
	g = zkc_batch_get(b, p, 0, NULL, NULL);
	e = zkc_batch_exists(b, missing, 0, NULL, NULL);
	m = zkc_batch_get(b, missing, 0, NULL, NULL);
	s = zkc_batch_set(b, p, "root2", 5, 0);
	d = zkc_batch_delete(b, missing, -1);
	assert_true(c0 == 0 && c1 == 1 && c2 == 2 && d == 7);
	assert_int_equal(zkc_batch_count(b), 8);
	assert_int_equal(zkc_batch_run(zk, b), ZKC_OK);

	assert_int_equal(zkc_batch_code(b, (size_t)c0), ZKC_OK);
	assert_string_equal(zkc_batch_path(b, (size_t)c0), p);
	assert_int_equal(zkc_batch_code(b, (size_t)c1), ZKC_OK);
	made = zkc_batch_path(b, (size_t)c1);
	assert_non_null(made);
	assert_true(strncmp(made, kid, strlen(kid)) == 0);
	kids = zkc_batch_children_of(b, (size_t)c2);
	assert_non_null(kids);
	assert_int_equal(kids->count, 1);
	assert_string_equal(kids->items[0], strrchr(made, '/') + 1);
	data = zkc_batch_data(b, (size_t)g, &len);
	assert_int_equal(len, 4);
	assert_string_equal(data, "root");
	assert_int_equal(zkc_batch_code(b, (size_t)e), ZKC_ENONODE);
	assert_int_equal(zkc_batch_code(b, (size_t)m), ZKC_ENONODE);
	assert_null(zkc_batch_data(b, (size_t)m, &len));
	assert_int_equal(zkc_batch_stat(&st, b, (size_t)s), ZKC_OK);
	assert_int_equal(st.version, 1);
	assert_int_equal(zkc_batch_code(b, (size_t)d), ZKC_ENONODE);
	assert_true(zkc_batch_session(b) != 0);
	assert_int_equal(zkc_batch_code(b, 99), ZKC_EBADARGUMENTS);

	/* Reuse: clear and run something else. */
	zkc_batch_clear(b);
	assert_int_equal(zkc_batch_count(b), 0);
	assert_int_equal(zkc_batch_run(zk, b), ZKC_OK);
	zkc_batch_free(b);
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
	free(kid);
	free(missing);
}

static void test_many_reads_in_one_batch(void **state)
{
	char *p = h_path("many");
	zkc_batch_t *b = NULL;
	int i;
	(void)state;

	assert_int_equal(zkc_create(NULL, NULL, zk, p, "x", 1, NULL), ZKC_OK);
	assert_int_equal(zkc_batch_new(&b), ZKC_OK);
	for (i = 0; i < 500; i++)
		assert_int_equal(zkc_batch_get(b, p, 0, NULL, NULL), i);
	assert_int_equal(zkc_batch_run(zk, b), ZKC_OK);
	for (i = 0; i < 500; i++) {
		size_t len;

		assert_int_equal(zkc_batch_code(b, (size_t)i), ZKC_OK);
		assert_string_equal(zkc_batch_data(b, (size_t)i, &len), "x");
	}
	zkc_batch_free(b);
	free(p);
}

typedef struct flag {
	pthread_mutex_t mu;
	int n;
	int type;
	int code;
	char path[256];
} flag_t;

static void on_watch(zkc_t *c, const zkc_event_t *ev, void *payload)
{
	flag_t *f = payload;

	(void)c;
	pthread_mutex_lock(&f->mu);
	f->n++;
	f->type = ev->type;
	pthread_mutex_unlock(&f->mu);
}

static int flag_set(void *arg)
{
	flag_t *f = arg;
	int n;

	pthread_mutex_lock(&f->mu);
	n = f->n;
	pthread_mutex_unlock(&f->mu);
	return n > 0;
}

static void test_watches_set_in_a_batch_fire(void **state)
{
	char *p = h_path("bwatch");
	flag_t f = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, "" };
	zkc_batch_t *b = NULL;
	(void)state;

	assert_int_equal(zkc_batch_new(&b), ZKC_OK);
	zkc_batch_exists(b, p, 1, on_watch, &f);
	assert_int_equal(zkc_batch_run(zk, b), ZKC_OK);
	assert_int_equal(zkc_batch_code(b, 0), ZKC_ENONODE);
	assert_int_equal(zkc_create(NULL, NULL, zk, p, NULL, 0, NULL), ZKC_OK);
	assert_int_equal(h_wait_until(flag_set, &f, H_TIMEOUT_MS), 0);
	assert_int_equal(f.type, ZKC_EVENT_CREATED);
	zkc_batch_free(b);
	free(p);
}

static void on_done(zkc_t *c, const zkc_batch_t *b, void *payload)
{
	flag_t *f = payload;
	const char *path = zkc_batch_path(b, 0);

	(void)c;
	pthread_mutex_lock(&f->mu);
	f->code = zkc_batch_code(b, 0);
	snprintf(f->path, sizeof(f->path), "%s", path ? path : "");
	f->n++;
	pthread_mutex_unlock(&f->mu);
}

static void test_async_batch_reports_on_the_event_thread_and_keeps_order(void **state)
{
	char *p = h_path("async");
	flag_t f = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 1, "" };
	zkc_batch_t *b = NULL;
	(void)state;

	assert_int_equal(zkc_batch_new(&b), ZKC_OK);
	zkc_batch_create(b, p, "a", 1, NULL);
	assert_int_equal(zkc_batch_run_async(zk, b, on_done, &f), ZKC_OK);
	/* A blocking call made after it is sent after it. */
	assert_int_equal(zkc_exists(NULL, zk, p), ZKC_OK);
	assert_int_equal(h_wait_until(flag_set, &f, H_TIMEOUT_MS), 0);
	assert_int_equal(f.code, ZKC_OK);
	assert_string_equal(f.path, p);

	/* Fire-and-forget delete, then a read behind it sees it done. */
	assert_int_equal(zkc_batch_new(&b), ZKC_OK);
	zkc_batch_delete(b, p, -1);
	assert_int_equal(zkc_batch_run_async(zk, b, NULL, NULL), ZKC_OK);
	assert_int_equal(zkc_exists(NULL, zk, p), ZKC_ENONODE);
	free(p);
}

static void test_bad_ops_are_refused_and_leave_the_batch_unchanged(void **state)
{
	zkc_create_options_t o = ZKC_CREATE_OPTIONS_INIT;
	char big[16];
	zkc_batch_t *b = NULL;
	(void)state;

	assert_int_equal(zkc_batch_new(&b), ZKC_OK);
	assert_int_equal(zkc_batch_get(b, "relative", 0, NULL, NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_batch_set(b, "/x", NULL, 3, -1), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_batch_set(b, "/x", big, (size_t)ZKC_MAX_DATA_LEN + 1, -1),
	                 ZKC_ETOOLARGE);
	assert_int_equal(zkc_batch_delete(b, "/", -1), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_batch_delete(b, "/x", -5), ZKC_EBADARGUMENTS);
	o.flags = ZKC_CREATE_PARENTS;
	assert_int_equal(zkc_batch_create(b, "/x", NULL, 0, &o), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_batch_count(b), 0);
	assert_int_equal(zkc_batch_run(zk, NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_batch_run_async(zk, NULL, NULL, NULL), ZKC_EBADARGUMENTS);
	zkc_batch_free(b);
	zkc_batch_free(NULL);
}

/* A reply that never comes (the connection goes silent past the session's
 * receive timeout) is a lost reply. libzookeeper completes the pending op
 * with ZOPERATIONTIMEOUT; the batch reports it as the documented
 * ZKC_ECONNECTIONLOSS (outcome unknown), never as a definite failure a
 * caller would take for "not applied". */
static void test_a_silent_connection_reports_the_write_as_lost(void **state)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	h_proxy_t *px = NULL;
	zkc_batch_t *b = NULL;
	char *p = h_path("silent"), url[64];
	zkc_t *c;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	assert_int_equal(h_proxy_to_node(&px, 0), 0);
	snprintf(url, sizeof(url), "zk://127.0.0.1:%d", h_proxy_port(px));
	o.session_timeout_ms = 4000;
	o.retry.deadline_ms = h_timeout(H_TIMEOUT_MS);
	c = h_open(url, &o);
	assert_int_equal(zkc_create(NULL, NULL, c, p, "a", 1, NULL), ZKC_OK);
	h_proxy_blackhole(px, 1);
	assert_int_equal(zkc_batch_new(&b), ZKC_OK);
	assert_int_equal(zkc_batch_set(b, p, "b", 1, 0), 0);
	assert_int_equal(zkc_batch_run(c, b), ZKC_OK);
	assert_int_equal(zkc_batch_code(b, 0), ZKC_ECONNECTIONLOSS);
	h_proxy_blackhole(px, 0);
	zkc_batch_free(b);
	zkc_close(c);
	h_proxy_free(px);
	assert_int_equal(zkc_delete(zk, p, -1, 0), ZKC_OK);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops_run_in_order_and_answer_separately),
		cmocka_unit_test(test_many_reads_in_one_batch),
		cmocka_unit_test(test_watches_set_in_a_batch_fire),
		cmocka_unit_test(test_async_batch_reports_on_the_event_thread_and_keeps_order),
		cmocka_unit_test(test_bad_ops_are_refused_and_leave_the_batch_unchanged),
		cmocka_unit_test(test_a_silent_connection_reports_the_write_as_lost),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
