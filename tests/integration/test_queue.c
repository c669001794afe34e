/* tests/integration/test_queue.c - the queue against a real ensemble: FIFO
 * and priority order, kazoo LockingQueue layout, ack / release / redelivery
 * after a session ends, exactly-once take, blocking take, batch put,
 * bucket rollover, peek, size and bad input. */
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

static zkc_queue_t *open_q(zkc_t *c, const char *p, int bucket_size)
{
	zkc_queue_options_t o = ZKC_QUEUE_OPTIONS_INIT;
	zkc_queue_t *q = NULL;

	o.flags = ZKC_QUEUE_CREATE;
	o.bucket_size = bucket_size;
	assert_int_equal(zkc_queue_open(&q, c, p, &o), ZKC_OK);
	return q;
}

static void put_str(zkc_queue_t *q, const char *s, int prio)
{
	assert_int_equal(zkc_queue_put(NULL, q, s, strlen(s), prio), ZKC_OK);
}

static void take_expect(zkc_queue_t *q, int mode, const char *want)
{
	zkc_queue_item_t *it = NULL;

	assert_int_equal(zkc_queue_take(&it, q, mode, 5000), ZKC_OK);
	assert_string_equal(it->data, want);
	if (mode == ZKC_QUEUE_TAKE_ACK)
		assert_int_equal(zkc_queue_ack(q, it), ZKC_OK);
	zkc_queue_item_free(it);
}

static void test_fifo_within_a_priority_and_priority_first(void **state)
{
	char *p = h_path("fifo");
	zkc_queue_t *q = open_q(zk, p, 10000);
	zkc_queue_item_t *it = NULL;
	(void)state;

	put_str(q, "a", 100);
	put_str(q, "b", 100);
	put_str(q, "urgent", 5);
	put_str(q, "c", 100);
	put_str(q, "late", 999);
	take_expect(q, ZKC_QUEUE_TAKE_ACK, "urgent");
	take_expect(q, ZKC_QUEUE_TAKE_DELETE, "a");
	take_expect(q, ZKC_QUEUE_TAKE_ACK, "b");
	take_expect(q, ZKC_QUEUE_TAKE_ACK, "c");
	take_expect(q, ZKC_QUEUE_TAKE_ACK, "late");
	assert_int_equal(zkc_queue_take(&it, q, ZKC_QUEUE_TAKE_ACK, 0), ZKC_EAGAIN);
	assert_null(it);
	zkc_queue_close(q);
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
}

static void test_layout_is_kazoo_locking_queue(void **state)
{
	char *p = h_path("layout"), *entries = h_join(p, "entries"), *taken = h_join(p, "taken");
	zkc_queue_t *q = open_q(zk, p, 0);
	zkc_queue_item_t *it = NULL;
	zkc_strings_t *kids = NULL;
	char *name = NULL, *marker;
	(void)state;

	assert_int_equal(zkc_queue_put(&name, q, "x", 1, 7), ZKC_OK);
	assert_string_equal(name, "entries/entry-007-0000000000");
	assert_int_equal(zkc_children(&kids, NULL, zk, entries), ZKC_OK);
	assert_int_equal(kids->count, 1);
	assert_string_equal(kids->items[0], "entry-007-0000000000");
	zkc_strings_free(kids);
	assert_int_equal(zkc_queue_take(&it, q, ZKC_QUEUE_TAKE_ACK, 5000), ZKC_OK);
	assert_string_equal(it->name, name);
	assert_int_equal(it->priority, 7);
	marker = h_join(taken, "entry-007-0000000000");
	{
		zkc_stat_t st;
		int64_t sid = 0;

		assert_int_equal(zkc_exists(&st, zk, marker), ZKC_OK);
		assert_int_equal(zkc_session(&sid, NULL, NULL, zk), ZKC_OK);
		assert_true(st.ephemeral_owner == sid);
	}
	assert_int_equal(zkc_queue_ack(q, it), ZKC_OK);
	assert_int_equal(zkc_exists(NULL, zk, marker), ZKC_ENONODE);
	assert_int_equal(zkc_children(&kids, NULL, zk, entries), ZKC_OK);
	assert_int_equal(kids->count, 0);
	zkc_strings_free(kids);
	zkc_queue_item_free(it);
	zkc_free(name);
	zkc_queue_close(q);
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	free(marker);
	free(entries);
	free(taken);
	free(p);
}

typedef struct heard {
	h_events_t *log;
	int state;
	int after;
} heard_t;

static int heard_state(void *arg)
{
	heard_t *h = arg;

	return h_events_find(h->log, h->after, ZKC_EVENT_STATE, h->state) >= h->after;
}

/* Expires c's session and waits until c has heard LOST and runs on a new
 * session (as tests/integration/test_session.c does). 0, or -1 when the
 * forced expiry did not work (tests/integration/test_session.c covers the
 * hook itself); the caller then ends the session by closing the client. */
static int expire(zkc_t *c)
{
	heard_t h = { h_events_new(), ZKC_STATE_LOST, 0 };
	int id = -1, rc, ok = 0;

	assert_int_equal(zkc_listener_add(&id, c, h_events_state, h.log), ZKC_OK);
	rc = zkc_testing_expire_session(c, h_timeout(H_TIMEOUT_MS));
	if (rc == ZKC_OK && h_wait_until(heard_state, &h, 15000) == 0) {
		h.after = h_events_find(h.log, 0, ZKC_EVENT_STATE, ZKC_STATE_LOST);
		h.state = ZKC_STATE_CONNECTED;
		ok = h_wait_until(heard_state, &h, H_TIMEOUT_MS) == 0;
	}
	if (!ok)
		print_message("# zkc_testing_expire_session: %s (%s) and no new session; "
		    "closing the client instead\n", zkc_strcode(rc), zkc_error_last()->message);
	zkc_listener_remove(c, id);
	h_events_free(h.log);
	return ok ? 0 : -1;
}

static void test_unacked_item_comes_back_when_the_session_ends(void **state)
{
	char *p = h_path("redeliver");
	zkc_t *c1 = h_open(NULL, NULL);
	zkc_queue_t *q1 = open_q(c1, p, 10000), *q2 = open_q(zk, p, 10000);
	zkc_queue_item_t *it = NULL, *again = NULL;
	size_t n = 0, taken = 0;
	int expired;
	(void)state;

	put_str(q2, "job", 100);
	assert_int_equal(zkc_queue_take(&it, q1, ZKC_QUEUE_TAKE_ACK, 5000), ZKC_OK);
	/* taken: invisible to another consumer */
	assert_int_equal(zkc_queue_take(&again, q2, ZKC_QUEUE_TAKE_ACK, 0), ZKC_EAGAIN);
	assert_int_equal(zkc_queue_size(&n, &taken, q2), ZKC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(taken, 1);
	/* the consumer's session dies: the item is delivered again */
	expired = expire(c1) == 0;
	if (!expired) {
		zkc_queue_close(q1);
		zkc_close(c1);
		q1 = NULL;
		c1 = NULL;
	}
	assert_int_equal(zkc_queue_take(&again, q2, ZKC_QUEUE_TAKE_ACK, H_TIMEOUT_MS), ZKC_OK);
	assert_string_equal(again->data, "job");
	/* the first taker's ack is refused: it lost the item */
	if (expired)
		assert_int_equal(zkc_queue_ack(q1, it), ZKC_ELOST);
	assert_int_equal(zkc_queue_ack(q2, again), ZKC_OK);
	assert_int_equal(zkc_queue_size(&n, &taken, q2), ZKC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(taken, 0);
	zkc_queue_item_free(it);
	zkc_queue_item_free(again);
	zkc_queue_close(q1);
	zkc_queue_close(q2);
	zkc_close(c1);
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
}

static void test_release_gives_an_item_back(void **state)
{
	char *p = h_path("release");
	zkc_queue_t *q = open_q(zk, p, 10000);
	zkc_queue_item_t *it = NULL;
	(void)state;

	put_str(q, "one", 100);
	assert_int_equal(zkc_queue_take(&it, q, ZKC_QUEUE_TAKE_ACK, 5000), ZKC_OK);
	assert_int_equal(zkc_queue_release(q, it), ZKC_OK);
	zkc_queue_item_free(it);
	it = NULL;
	assert_int_equal(zkc_queue_peek(&it, q), ZKC_OK);
	assert_string_equal(it->data, "one");
	zkc_queue_item_free(it);
	take_expect(q, ZKC_QUEUE_TAKE_ACK, "one");
	zkc_queue_close(q);
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
}

/* A returned item goes back to its place: the next take of the same handle
 * gets it when it comes first, not the item behind it. */
static void test_released_item_is_taken_again_before_lower_priority(void **state)
{
	char *p = h_path("release_prio");
	zkc_queue_t *q = open_q(zk, p, 10000);
	zkc_queue_item_t *it = NULL;
	size_t n = 0, taken = 0;
	(void)state;

	put_str(q, "normal", 100);
	put_str(q, "urgent", 5);
	assert_int_equal(zkc_queue_take(&it, q, ZKC_QUEUE_TAKE_ACK, 5000), ZKC_OK);
	assert_string_equal(it->data, "urgent");
	assert_int_equal(zkc_queue_release(q, it), ZKC_OK);
	zkc_queue_item_free(it);
	assert_int_equal(zkc_queue_size(&n, &taken, q), ZKC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(taken, 0);
	take_expect(q, ZKC_QUEUE_TAKE_ACK, "urgent");
	take_expect(q, ZKC_QUEUE_TAKE_ACK, "normal");

	/* the same with a delete-take after the return, and twice in a row */
	put_str(q, "b-normal", 100);
	put_str(q, "b-urgent", 5);
	it = NULL;
	assert_int_equal(zkc_queue_take(&it, q, ZKC_QUEUE_TAKE_ACK, 5000), ZKC_OK);
	assert_string_equal(it->data, "b-urgent");
	assert_int_equal(zkc_queue_release(q, it), ZKC_OK);
	zkc_queue_item_free(it);
	it = NULL;
	assert_int_equal(zkc_queue_take(&it, q, ZKC_QUEUE_TAKE_ACK, 5000), ZKC_OK);
	assert_string_equal(it->data, "b-urgent");
	assert_int_equal(zkc_queue_release(q, it), ZKC_OK);
	zkc_queue_item_free(it);
	take_expect(q, ZKC_QUEUE_TAKE_DELETE, "b-urgent");
	take_expect(q, ZKC_QUEUE_TAKE_DELETE, "b-normal");
	it = NULL;
	assert_int_equal(zkc_queue_take(&it, q, ZKC_QUEUE_TAKE_ACK, 0), ZKC_EAGAIN);
	assert_null(it);
	zkc_queue_close(q);
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
}

typedef struct taker {
	zkc_queue_t *q;
	int rc;
	char data[32];
} taker_t;

static void *take_thread(void *arg)
{
	taker_t *t = arg;
	zkc_queue_item_t *it = NULL;

	t->rc = zkc_queue_take(&it, t->q, ZKC_QUEUE_TAKE_DELETE, H_TIMEOUT_MS);
	if (it) {
		snprintf(t->data, sizeof(t->data), "%s", it->data);
		zkc_queue_item_free(it);
	}
	return NULL;
}

static void test_blocking_take_wakes_on_put_and_times_out_when_empty(void **state)
{
	char *p = h_path("block");
	zkc_t *other = h_open(NULL, NULL);
	zkc_queue_t *q = open_q(zk, p, 10000), *prod = open_q(other, p, 10000);
	zkc_queue_item_t *it = NULL;
	taker_t t = { q, -1, "" };
	pthread_t th;
	int64_t t0;
	(void)state;

	t0 = h_now_ms();
	assert_int_equal(zkc_queue_take(&it, q, ZKC_QUEUE_TAKE_ACK, 300), ZKC_ETIMEDOUT);
	assert_true(h_now_ms() - t0 >= 290);
	assert_int_equal(pthread_create(&th, NULL, take_thread, &t), 0);
	put_str(prod, "wake", 100);
	pthread_join(th, NULL);
	assert_int_equal(t.rc, ZKC_OK);
	assert_string_equal(t.data, "wake");
	zkc_queue_close(q);
	zkc_queue_close(prod);
	zkc_close(other);
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
}

static void test_batch_put_is_one_transaction_in_order(void **state)
{
	char *p = h_path("many");
	zkc_queue_t *q = open_q(zk, p, 10000);
	zkc_queue_put_item_t items[3] = { { "x1", 2, 100 }, { "x2", 2, 100 }, { "x3", 2, 100 } };
	zkc_queue_put_item_t mixed[3] = { { "late", 4, 500 }, { "soon", 4, 5 }, { "", 0, 100 } };
	size_t n = 0;
	zkc_strings_t *kids = NULL;
	(void)state;

	assert_int_equal(zkc_queue_put_many(q, items, 3), ZKC_OK);
	assert_int_equal(zkc_queue_put_many(q, items, 0), ZKC_OK);
	assert_int_equal(zkc_queue_size(&n, NULL, q), ZKC_OK);
	assert_int_equal(n, 3);
	/* no guard node left behind */
	assert_int_equal(zkc_children(&kids, NULL, zk, p), ZKC_OK);
	assert_int_equal(kids->count, 2);
	zkc_strings_free(kids);
	take_expect(q, ZKC_QUEUE_TAKE_ACK, "x1");
	take_expect(q, ZKC_QUEUE_TAKE_ACK, "x2");
	take_expect(q, ZKC_QUEUE_TAKE_ACK, "x3");
	/* each item keeps its own priority */
	assert_int_equal(zkc_queue_put_many(q, mixed, 3), ZKC_OK);
	take_expect(q, ZKC_QUEUE_TAKE_ACK, "soon");
	take_expect(q, ZKC_QUEUE_TAKE_ACK, "");
	take_expect(q, ZKC_QUEUE_TAKE_ACK, "late");
	zkc_queue_close(q);
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
}

static void test_buckets_roll_over_and_drain_in_order(void **state)
{
	char *p = h_path("buckets");
	zkc_queue_t *q = open_q(zk, p, 4), *c = open_q(zk, p, 4);
	zkc_strings_t *kids = NULL;
	char buf[16];
	size_t n = 0;
	int i;
	(void)state;

	for (i = 0; i < 10; i++) {
		snprintf(buf, sizeof(buf), "i%02d", i);
		put_str(q, buf, 100);
	}
	assert_int_equal(zkc_children(&kids, NULL, zk, p), ZKC_OK);
	assert_int_equal(kids->count, 4);   /* taken + 3 buckets of 4 */
	zkc_strings_free(kids);
	assert_int_equal(zkc_queue_size(&n, NULL, c), ZKC_OK);
	assert_int_equal(n, 10);
	for (i = 0; i < 10; i++) {
		snprintf(buf, sizeof(buf), "i%02d", i);
		take_expect(c, i % 2 ? ZKC_QUEUE_TAKE_ACK : ZKC_QUEUE_TAKE_DELETE, buf);
	}
	/* drained buckets are removed, the last one stays for puts */
	H_WAIT_UNTIL((zkc_children(&kids, NULL, zk, p) == ZKC_OK &&
	              (n = kids->count, zkc_strings_free(kids), n == 2)), 10000);
	put_str(q, "after", 100);
	take_expect(c, ZKC_QUEUE_TAKE_ACK, "after");
	zkc_queue_close(q);
	zkc_queue_close(c);
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
}

static void test_bad_input_gets_clear_codes(void **state)
{
	char *p = h_path("badq"), *missing = h_path("missingq");
	zkc_queue_options_t o = ZKC_QUEUE_OPTIONS_INIT;
	zkc_queue_t *q = NULL;
	zkc_queue_item_t *it = NULL, fake;
	char *big;
	(void)state;

	assert_int_equal(zkc_queue_open(&q, zk, missing, NULL), ZKC_ENONODE);
	assert_null(q);
	assert_int_equal(zkc_queue_open(&q, zk, "relative", NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_queue_open(&q, zk, "/a\001b", NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_queue_open(&q, zk, "/", NULL), ZKC_EBADARGUMENTS);
	o.version = 7;
	assert_int_equal(zkc_queue_open(&q, zk, p, &o), ZKC_EBADARGUMENTS);
	/* a plain node is not a queue */
	assert_int_equal(zkc_create(NULL, NULL, zk, missing, NULL, 0, NULL), ZKC_OK);
	assert_int_equal(zkc_queue_open(&q, zk, missing, NULL), ZKC_EBADARGUMENTS);

	q = open_q(zk, p, 10000);
	big = calloc(1, ZKC_MAX_DATA_LEN + 1);
	assert_int_equal(zkc_queue_put(NULL, q, big, ZKC_MAX_DATA_LEN + 1, 100), ZKC_ETOOLARGE);
	assert_int_equal(zkc_queue_put(NULL, q, "x", 1, 1000), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_queue_put(NULL, q, "x", 1, -1), ZKC_EBADARGUMENTS);
	{
		zkc_queue_put_item_t two[2] = { { big, 600000, 100 }, { big, 600000, 100 } };
		zkc_queue_put_item_t nodata[1] = { { NULL, 3, 100 } };

		assert_int_equal(zkc_queue_put_many(q, two, 2), ZKC_ETOOLARGE);
		assert_int_equal(zkc_queue_put_many(q, nodata, 1), ZKC_EBADARGUMENTS);
	}
	free(big);
	assert_int_equal(zkc_queue_take(&it, q, 9, 0), ZKC_EBADARGUMENTS);
	memset(&fake, 0, sizeof(fake));
	fake.name = "../etc";
	fake.session_id = 1;
	assert_int_equal(zkc_queue_ack(q, &fake), ZKC_EBADARGUMENTS);
	fake.name = "entries/entry-100-0000000000";
	fake.session_id = 0;   /* a DELETE-mode item */
	assert_int_equal(zkc_queue_ack(q, &fake), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_queue_peek(&it, q), ZKC_EAGAIN);
	zkc_queue_close(q);
	zkc_queue_close(NULL);
	zkc_queue_item_free(NULL);

	/* the queue deleted under a consumer */
	q = open_q(zk, p, 10000);
	assert_int_equal(zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE), ZKC_OK);
	assert_int_equal(zkc_queue_take(&it, q, ZKC_QUEUE_TAKE_ACK, 0), ZKC_ENONODE);
	zkc_queue_close(q);
	zkc_delete(zk, missing, -1, 0);
	free(missing);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_within_a_priority_and_priority_first),
		cmocka_unit_test(test_layout_is_kazoo_locking_queue),
		cmocka_unit_test(test_unacked_item_comes_back_when_the_session_ends),
		cmocka_unit_test(test_release_gives_an_item_back),
		cmocka_unit_test(test_released_item_is_taken_again_before_lower_priority),
		cmocka_unit_test(test_blocking_take_wakes_on_put_and_times_out_when_empty),
		cmocka_unit_test(test_batch_put_is_one_transaction_in_order),
		cmocka_unit_test(test_buckets_roll_over_and_drain_in_order),
		cmocka_unit_test(test_bad_input_gets_clear_codes),
	};

	return cmocka_run_group_tests_name("queue", tests, setup, teardown);
}
