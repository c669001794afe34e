/* tests/integration/test_batch.c - pipelined batches against a real
 * ensemble: order within a batch, per-op results, watches, asynchronous
 * runs and bad input. */
#include <poll.h>
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

/* ------------------------------------------------------------ queued runs */

static int fd_readable(int fd, int wait_ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };

	return poll(&pfd, 1, wait_ms) == 1 && (pfd.revents & POLLIN);
}

static void test_queued_batches_come_back_through_the_fd_with_their_tags(void **state)
{
	char *p = h_path("queued");
	zkc_batch_t *b[3] = { NULL, NULL, NULL }, *got = NULL, *back[3] = { NULL, NULL, NULL };
	uint64_t tag = 0;
	size_t i, len = 0;
	int fd, seen = 0;
	zkc_stat_t st;
	(void)state;

	assert_int_equal(zkc_create(NULL, NULL, zk, p, "v", 1, NULL), ZKC_OK);
	fd = zkc_completions_fd(zk);
	assert_true(fd >= 0);
	assert_int_equal(zkc_completions_fd(zk), fd);
	assert_false(fd_readable(fd, 0));
	for (i = 0; i < 3; i++) {
		assert_int_equal(zkc_batch_new(&b[i]), ZKC_OK);
		assert_int_equal(zkc_batch_get(b[i], p, 0, NULL, NULL), 0);
		assert_int_equal(zkc_batch_exists(b[i], "/no-such-node-here", 0, NULL, NULL), 1);
		assert_int_equal(zkc_batch_run_queued(zk, b[i], 100 + i), ZKC_OK);
	}
	/* taken: running it again before it is back is refused */
	assert_int_equal(zkc_batch_run_queued(zk, b[0], 7), ZKC_EBADARGUMENTS);
	while (seen < 3) {
		assert_true(fd_readable(fd, h_timeout(H_TIMEOUT_MS)));
		while (zkc_completions_next(&got, &tag, zk, 0) == ZKC_OK) {
			assert_true(tag >= 100 && tag < 103);
			assert_null(back[tag - 100]);
			assert_ptr_equal(got, b[tag - 100]);
			back[tag - 100] = got;
			assert_int_equal(zkc_batch_code(got, 0), ZKC_OK);
			assert_string_equal(zkc_batch_data(got, 0, &len), "v");
			assert_int_equal(zkc_batch_code(got, 1), ZKC_ENONODE);
			assert_true(zkc_batch_session(got) != 0);
			seen++;
		}
		assert_int_equal(zkc_error_last()->code, ZKC_EAGAIN);
		assert_null(got);
	}
	/* empty again: the fd says so, and a wait ends with EAGAIN */
	assert_false(fd_readable(fd, 0));
	assert_int_equal(zkc_completions_next(&got, NULL, zk, 30), ZKC_EAGAIN);

	/* a batch that came back is the caller's: run it again, with an op
	 * added; an empty batch comes back too */
	assert_int_equal(zkc_batch_set(b[0], p, "w", 1, -1), 2);
	assert_int_equal(zkc_batch_run_queued(zk, b[0], 1), ZKC_OK);
	assert_int_equal(zkc_completions_next(&got, &tag, zk, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_ptr_equal(got, b[0]);
	assert_int_equal(tag, 1);
	assert_int_equal(zkc_batch_code(got, 2), ZKC_OK);
	assert_int_equal(zkc_batch_stat(&st, got, 2), ZKC_OK);
	assert_int_equal(st.version, 1);
	zkc_batch_clear(b[1]);
	assert_int_equal(zkc_batch_run_queued(zk, b[1], 2), ZKC_OK);
	assert_int_equal(zkc_completions_next(&got, &tag, zk, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_ptr_equal(got, b[1]);
	assert_int_equal(tag, 2);
	assert_false(fd_readable(fd, 0));

	assert_int_equal(zkc_batch_run_queued(NULL, b[2], 0), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_batch_run_queued(zk, NULL, 0), ZKC_EBADARGUMENTS);
	assert_non_null(strstr(zkc_error_last()->message, "batch is NULL"));
	assert_int_equal(zkc_completions_next(NULL, NULL, zk, 0), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_completions_next(&got, NULL, NULL, 0), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_completions_fd(NULL), ZKC_EBADARGUMENTS);
	for (i = 0; i < 3; i++)
		zkc_batch_free(b[i]);
	zkc_delete(zk, p, -1, 0);
	free(p);
}

typedef struct canceller {
	zkc_cancel_t *tok;
	zkc_t *zk;
	int rc;
} canceller_t;

static void *wait_forever(void *arg)
{
	canceller_t *c = arg;
	zkc_batch_t *got = NULL;

	zkc_cancel_bind(c->tok);
	c->rc = zkc_completions_next(&got, NULL, c->zk, -1);
	zkc_cancel_bind(NULL);
	return NULL;
}

static void test_a_wait_for_completions_ends_with_its_cancel_token(void **state)
{
	canceller_t c = { NULL, zk, 1 };
	pthread_t t;
	(void)state;

	assert_int_equal(zkc_cancel_new(&c.tok), ZKC_OK);
	assert_int_equal(pthread_create(&t, NULL, wait_forever, &c), 0);
	zkc_cancel_fire(c.tok);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(c.rc, ZKC_ECANCELED);
	zkc_cancel_free(c.tok);
}

static void test_close_frees_queued_batches_taken_or_not(void **state)
{
	int before = zkc_testing_open_clients();
	zkc_t *c = h_open(NULL, NULL);
	zkc_batch_t *b = NULL;
	size_t i, j;
	(void)state;

	/* 20 batches of 50 reads, none taken: some are answered and queued,
	 * some still in flight when close starts; close frees them all (the
	 * sanitizer build checks nothing leaks) */
	for (i = 0; i < 20; i++) {
		assert_int_equal(zkc_batch_new(&b), ZKC_OK);
		for (j = 0; j < 50; j++)
			assert_true(zkc_batch_exists(b, "/", 0, NULL, NULL) >= 0);
		assert_int_equal(zkc_batch_run_queued(c, b, i), ZKC_OK);
	}
	H_WAIT_UNTIL(fd_readable(zkc_completions_fd(c), 0), H_TIMEOUT_MS);
	zkc_close(c);
	assert_int_equal(zkc_testing_open_clients(), before);
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

/* A create with a check: applied only while the checked node exists at
 * the given version; the failing part's code otherwise, and nothing made. */
static void test_a_checked_create_needs_its_node(void **state)
{
	char *p = h_path("cif"), *a = h_join(p, "a"), *bb = h_join(p, "b"),
	     *c = h_join(p, "c"), *gone = h_join(p, "gone"), *orphan = h_join(gone, "x");
	zkc_create_options_t eph = ZKC_CREATE_OPTIONS_INIT;
	zkc_batch_t *b = NULL;
	int i0, i1, i2, i3, i4;
	(void)state;

	eph.mode = ZKC_EPHEMERAL;
	assert_int_equal(zkc_create(NULL, NULL, zk, p, NULL, 0, NULL), ZKC_OK);
	assert_int_equal(zkc_batch_new(&b), ZKC_OK);
	i0 = zkc_batch_create_if(b, a, "1", 1, &eph, p, -1);       /* p exists: made */
	i1 = zkc_batch_create_if(b, bb, "2", 1, NULL, gone, -1);   /* no such node */
	i2 = zkc_batch_create_if(b, c, "3", 1, NULL, p, 7);        /* wrong version */
	i3 = zkc_batch_create_if(b, a, "4", 1, NULL, p, 0);        /* a exists already */
	i4 = zkc_batch_create_if(b, orphan, "5", 1, NULL, p, -1);  /* no parent */
	assert_true(i0 == 0 && i1 == 1 && i2 == 2 && i3 == 3 && i4 == 4);
	assert_int_equal(zkc_batch_run(zk, b), ZKC_OK);
	assert_int_equal(zkc_batch_code(b, (size_t)i0), ZKC_OK);
	assert_string_equal(zkc_batch_path(b, (size_t)i0), a);
	assert_int_equal(zkc_batch_code(b, (size_t)i1), ZKC_ENONODE);
	assert_null(zkc_batch_path(b, (size_t)i1));
	assert_int_equal(zkc_batch_code(b, (size_t)i2), ZKC_EBADVERSION);
	assert_int_equal(zkc_batch_code(b, (size_t)i3), ZKC_ENODEEXISTS);
	assert_int_equal(zkc_batch_code(b, (size_t)i4), ZKC_ENONODE);
	assert_int_equal(zkc_exists(NULL, zk, bb), ZKC_ENONODE);
	assert_int_equal(zkc_exists(NULL, zk, c), ZKC_ENONODE);
	/* bad input leaves the batch unchanged */
	zkc_batch_clear(b);
	assert_int_equal(zkc_batch_create_if(b, a, NULL, 0, NULL, NULL, -1), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_batch_create_if(b, a, NULL, 0, NULL, "rel", -1), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_batch_create_if(b, a, NULL, 0, NULL, p, -2), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_batch_create_if(b, "rel", NULL, 0, NULL, p, -1), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_batch_count(b), 0);
	zkc_batch_free(b);
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
	free(a);
	free(bb);
	free(c);
	free(gone);
	free(orphan);
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
		cmocka_unit_test(test_queued_batches_come_back_through_the_fd_with_their_tags),
		cmocka_unit_test(test_a_wait_for_completions_ends_with_its_cancel_token),
		cmocka_unit_test(test_close_frees_queued_batches_taken_or_not),
		cmocka_unit_test(test_bad_ops_are_refused_and_leave_the_batch_unchanged),
		cmocka_unit_test(test_a_checked_create_needs_its_node),
		cmocka_unit_test(test_a_silent_connection_reports_the_write_as_lost),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
