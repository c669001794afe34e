/* tests/integration/test_queue_markers.c - no taken marker outlives the
 * take that made it. A consumer's connection goes through a fault proxy
 * that holds every byte (a partition that keeps the connection open): its
 * ACK take sends the marker create, gets no answer and times out. When the
 * partition ends the held create reaches the server:
 *   - the item was consumed meanwhile by another consumer: the create must
 *     fail there (it is conditional on the item), and no marker appears;
 *   - the item is still queued: the create is applied, and the marker must
 *     be removed in the background, with no further take on the handle
 *     (also when the handle was closed before the partition ended), so
 *     another consumer can take the item. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

#define TAKE_TIMEOUT_MS 1500
/* The client notices a silent connection at 2/3 of this: far beyond the
 * partitions here, so the held requests arrive on the same connection. */
#define SESSION_TIMEOUT_MS 30000

typedef struct fixture {
	char *dir, *taken;
	h_proxy_t *px;
	zkc_t *slow, *other;        /* through the proxy; direct */
	zkc_queue_t *qs, *qo;
} fixture_t;

static zkc_queue_t *open_q(zkc_t *c, const char *p)
{
	zkc_queue_options_t o = ZKC_QUEUE_OPTIONS_INIT;
	zkc_queue_t *q = NULL;

	o.flags = ZKC_QUEUE_CREATE;
	assert_int_equal(zkc_queue_open(&q, c, p, &o), ZKC_OK);
	return q;
}

/* Markers in the taken directory, or -1 when unreadable; `show` prints
 * them (not while polling). */
static int nmarkers_of(const fixture_t *f, int show)
{
	zkc_strings_t *c = NULL;
	int n;

	if (zkc_children(&c, NULL, f->other, f->taken) != ZKC_OK)
		return -1;
	n = (int)c->count;
	for (size_t i = 0; show && i < c->count; i++)
		print_message("# %s has %s\n", f->taken, c->items[i]);
	zkc_strings_free(c);
	return n;
}

#define nmarkers(f) nmarkers_of(f, 1)
#define nmarkers_quiet(f) nmarkers_of(f, 0)

/* Both consumers on one queue holding item "a", put by the slow one (so
 * its handle has it cached: its next take sends the marker create at
 * once). */
static void fixture_open(fixture_t *f, const char *name)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_queue_item_t *it = NULL;
	char url[64];

	memset(f, 0, sizeof(*f));
	f->dir = h_path(name);
	f->taken = h_join(f->dir, "taken");
	assert_int_equal(h_proxy_to_node(&f->px, 0), 0);
	snprintf(url, sizeof(url), "zk://127.0.0.1:%d", h_proxy_port(f->px));
	o.session_timeout_ms = SESSION_TIMEOUT_MS;
	f->slow = h_open(url, &o);
	f->other = h_open(NULL, NULL);
	f->qs = open_q(f->slow, f->dir);
	f->qo = open_q(f->other, f->dir);
	/* the slow handle reads the empty queue once (lists and watches) */
	assert_int_equal(zkc_queue_take(&it, f->qs, ZKC_QUEUE_TAKE_ACK, 0), ZKC_EAGAIN);
	assert_int_equal(zkc_queue_put(NULL, f->qs, "a", 1, 0), ZKC_OK);
}

/* The slow consumer's take, sent into the partition, times out. */
static void take_into_partition(fixture_t *f)
{
	zkc_queue_item_t *it = NULL;
	int rc;

	h_proxy_blackhole(f->px, 1);
	rc = zkc_queue_take(&it, f->qs, ZKC_QUEUE_TAKE_ACK, TAKE_TIMEOUT_MS);
	print_message("# take: %s (%s)\n", zkc_strcode(rc), zkc_error_last()->message);
	assert_int_equal(rc, ZKC_ETIMEDOUT);
	assert_null(it);
}

/* Ends the partition and waits until every request the slow client sent
 * into it has been answered: a read sent after them is answered after
 * them (one session's requests are answered in order). */
static void heal(fixture_t *f)
{
	int64_t sid = 0, sid2 = 0;

	zkc_session(&sid, NULL, NULL, f->slow);
	h_proxy_blackhole(f->px, 0);
	assert_int_equal(zkc_exists(NULL, f->slow, f->dir), ZKC_OK);
	/* the same session: the held requests were not dropped with it */
	assert_int_equal(zkc_session(&sid2, NULL, NULL, f->slow), ZKC_OK);
	assert_true(sid != 0 && sid == sid2);
}

static void fixture_close(fixture_t *f)
{
	zkc_queue_close(f->qs);
	zkc_queue_close(f->qo);
	zkc_delete(f->other, f->dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(f->slow);
	zkc_close(f->other);
	h_proxy_free(f->px);
	free(f->taken);
	free(f->dir);
}

static void test_a_late_marker_create_for_a_consumed_item_fails(void **state)
{
	zkc_queue_item_t *it = NULL;
	fixture_t f;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	fixture_open(&f, "late");
	take_into_partition(&f);
	/* the other consumer takes and acks the item meanwhile: it is gone */
	assert_int_equal(zkc_queue_take(&it, f.qo, ZKC_QUEUE_TAKE_ACK, H_TIMEOUT_MS), ZKC_OK);
	assert_string_equal(it->data, "a");
	assert_int_equal(zkc_queue_ack(f.qo, it), ZKC_OK);
	zkc_queue_item_free(it);
	assert_int_equal(nmarkers(&f), 0);
	/* the held marker create reaches the server now, after the item's
	 * delete: it must not leave a marker on the live session */
	heal(&f);
	H_WAIT_UNTIL(nmarkers_quiet(&f) == 0, H_TIMEOUT_MS);
	assert_int_equal(nmarkers(&f), 0);
	fixture_close(&f);
}

/* `close_first`: the handle is closed while the partition holds the
 * create, before the marker exists. */
static void marker_of_a_timed_out_take_goes(int close_first)
{
	zkc_queue_item_t *it = NULL;
	fixture_t f;

	H_NEED_OWN_ENSEMBLE();
	fixture_open(&f, close_first ? "closed" : "notake");
	take_into_partition(&f);
	if (close_first) {
		zkc_queue_close(f.qs);
		f.qs = NULL;
	}
	heal(&f);
	/* no further take on the slow handle: the marker goes on its own */
	H_WAIT_UNTIL(nmarkers_quiet(&f) == 0, H_TIMEOUT_MS);
	assert_int_equal(nmarkers(&f), 0);
	/* and the item is free for another consumer */
	assert_int_equal(zkc_queue_take(&it, f.qo, ZKC_QUEUE_TAKE_ACK, H_TIMEOUT_MS), ZKC_OK);
	assert_string_equal(it->data, "a");
	assert_int_equal(zkc_queue_ack(f.qo, it), ZKC_OK);
	zkc_queue_item_free(it);
	assert_int_equal(nmarkers(&f), 0);
	fixture_close(&f);
}

static void test_the_marker_of_a_timed_out_take_goes_without_another_take(void **state)
{
	(void)state;
	marker_of_a_timed_out_take_goes(0);
}

static void test_the_marker_of_a_timed_out_take_goes_after_close(void **state)
{
	(void)state;
	marker_of_a_timed_out_take_goes(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_late_marker_create_for_a_consumed_item_fails),
		cmocka_unit_test(test_the_marker_of_a_timed_out_take_goes_without_another_take),
		cmocka_unit_test(test_the_marker_of_a_timed_out_take_goes_after_close),
	};

	return cmocka_run_group_tests_name("queue_markers", tests, h_setup_shared, h_teardown);
}
