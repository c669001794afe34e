/* tests/integration/test_lock.c - the exclusive lock against a real
 * server: layout, leases and tokens, try/timeout/cancel, fairness without
 * herd, re-entrancy, fencing after a lost session, sticky mode, bad input. */
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static int count_children(zkc_t *zk, const char *dir)
{
	zkc_strings_t *c = NULL;
	int n;

	if (zkc_children(&c, NULL, zk, dir) != ZKC_OK)
		return -1;
	n = (int)c->count;
	zkc_strings_free(c);
	return n;
}

static void test_uncontended_acquire_gives_a_curator_named_node_and_growing_tokens(void **state)
{
	char *dir = h_path("layout");
	zkc_t *zk = h_open(NULL, NULL);
	zkc_lock_t *lk = NULL;
	zkc_lock_lease_t a, b;
	int64_t sid = 0, tok1;
	zkc_stat_t st;
	regex_t re;
	(void)state;

	assert_int_equal(zkc_lock_open(&lk, zk, dir, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_valid(lk), 0);
	assert_int_equal(zkc_lock_acquire(&a, lk, 5000), ZKC_OK);
	assert_int_equal(zkc_lock_valid(lk), 1);
	assert_int_equal(zkc_session(&sid, NULL, NULL, zk), ZKC_OK);
	assert_true(a.session_id == sid);
	assert_int_equal(regcomp(&re, "/_c_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
	                             "[0-9a-f]{12}-lock-[0-9]{10}$", REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regexec(&re, a.path, 0, NULL, 0), 0);
	regfree(&re);
	assert_int_equal(strncmp(a.path, dir, strlen(dir)), 0);
	assert_int_equal(zkc_exists(&st, zk, a.path), ZKC_OK);
	assert_true(st.ephemeral_owner == sid);
	assert_true(st.czxid == a.token);
	/* the lock directory is a container (as Curator makes it) */
	tok1 = a.token;
	assert_int_equal(zkc_lock_release(lk, 0), ZKC_OK);
	assert_int_equal(zkc_lock_release(lk, 0), ZKC_EINVALIDSTATE);
	assert_int_equal(zkc_lock_acquire(&b, lk, 5000), ZKC_OK);
	assert_true(b.token > tok1);
	assert_int_equal(zkc_lock_release(lk, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
	assert_int_equal(count_children(zk, dir), 0);
	zkc_lock_close(lk);
	zkc_delete(zk, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	free(dir);
}

static void test_try_and_timeout_fail_cleanly_and_leave_no_node(void **state)
{
	char *dir = h_path("try");
	zkc_t *zk = h_open(NULL, NULL), *zk2 = h_open(NULL, NULL);
	zkc_lock_t *a = NULL, *b = NULL;
	int64_t t0;
	(void)state;

	assert_int_equal(zkc_lock_open(&a, zk, dir, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_open(&b, zk2, dir, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(NULL, a, ZKC_LOCK_TRY), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(NULL, b, ZKC_LOCK_TRY), ZKC_EAGAIN);
	H_WAIT_UNTIL(count_children(zk, dir) == 1, 10000);
	t0 = h_now_ms();
	assert_int_equal(zkc_lock_acquire(NULL, b, 300), ZKC_ETIMEDOUT);
	assert_true(h_now_ms() - t0 >= 300);
	H_WAIT_UNTIL(count_children(zk, dir) == 1, 10000);
	assert_int_equal(zkc_lock_acquire(NULL, b, -2), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_lock_release(b, 0), ZKC_EINVALIDSTATE);
	/* not re-entrant by default */
	assert_int_equal(zkc_lock_acquire(NULL, a, 0), ZKC_EINVALIDSTATE);
	/* another client's requests are not ordered after ours: wait */
	assert_int_equal(zkc_lock_release(a, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(NULL, b, ZKC_LOCK_TRY), ZKC_OK);
	assert_int_equal(zkc_lock_release(b, 0), ZKC_OK);
	zkc_lock_close(a);
	zkc_lock_close(b);
	H_WAIT_UNTIL(count_children(zk, dir) == 0, 10000);
	zkc_delete(zk, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	zkc_close(zk2);
	free(dir);
}

static void test_bad_input_gives_clear_codes(void **state)
{
	char *file = h_path("file"), *eph = h_path("eph");
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	zkc_lock_options_t lo = ZKC_LOCK_OPTIONS_INIT;
	zkc_t *zk = h_open(NULL, NULL);
	zkc_lock_t *lk = NULL;
	(void)state;

	assert_int_equal(zkc_lock_open(&lk, zk, "no-slash", NULL), ZKC_EBADARGUMENTS);
	assert_null(lk);
	assert_int_equal(zkc_lock_open(&lk, zk, "/", NULL), ZKC_EBADARGUMENTS);
	lo.flags = 0x100;
	assert_int_equal(zkc_lock_open(&lk, zk, "/x", &lo), ZKC_EBADARGUMENTS);
	lo = (zkc_lock_options_t)ZKC_LOCK_OPTIONS_INIT;
	lo.version = 99;
	assert_int_equal(zkc_lock_open(&lk, zk, "/x", &lo), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_lock_acquire(NULL, NULL, 0), ZKC_EBADARGUMENTS);

	/* a file-like node with data is not a lock directory */
	assert_int_equal(zkc_create(NULL, NULL, zk, file, "payload", 7, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_open(&lk, zk, file, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(NULL, lk, 1000), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_lock_acquire(NULL, lk, ZKC_LOCK_TRY), ZKC_EBADARGUMENTS);
	H_WAIT_UNTIL(count_children(zk, file) == 0, 10000);
	assert_int_equal(zkc_lock_release(lk, 0), ZKC_EINVALIDSTATE);
	zkc_lock_close(lk);

	/* an ephemeral node cannot hold contenders */
	co.mode = ZKC_EPHEMERAL;
	assert_int_equal(zkc_create(NULL, NULL, zk, eph, NULL, 0, &co), ZKC_OK);
	assert_int_equal(zkc_lock_open(&lk, zk, eph, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(NULL, lk, 1000), ZKC_EBADARGUMENTS);
	zkc_lock_close(lk);
	zkc_delete(zk, file, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	free(file);
	free(eph);
}

static void test_reentrant_lock_counts_acquires(void **state)
{
	char *dir = h_path("reent");
	zkc_lock_options_t lo = ZKC_LOCK_OPTIONS_INIT;
	zkc_t *zk = h_open(NULL, NULL);
	zkc_lock_t *lk = NULL;
	zkc_lock_lease_t a, b;
	(void)state;

	lo.flags = ZKC_LOCK_REENTRANT;
	assert_int_equal(zkc_lock_open(&lk, zk, dir, &lo), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(&a, lk, 5000), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(&b, lk, 0), ZKC_OK);
	assert_true(a.token == b.token);
	assert_int_equal(zkc_lock_release(lk, 0), ZKC_OK);
	assert_int_equal(zkc_lock_valid(lk), 1);
	assert_int_equal(count_children(zk, dir), 1);
	assert_int_equal(zkc_lock_release(lk, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
	assert_int_equal(count_children(zk, dir), 0);
	zkc_lock_close(lk);
	zkc_delete(zk, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	free(dir);
}

/* ------------------------------------------------------------ fairness */

typedef struct waiter {
	pthread_t th;
	zkc_t *zk;
	zkc_lock_t *lk;
	int rc;
	int *order;
	int *next;
	int id;
	pthread_mutex_t *mu;
} waiter_t;

static void *wait_thread(void *arg)
{
	waiter_t *w = arg;

	w->rc = zkc_lock_acquire(NULL, w->lk, 30000);
	if (w->rc == ZKC_OK) {
		pthread_mutex_lock(w->mu);
		w->order[(*w->next)++] = w->id;
		pthread_mutex_unlock(w->mu);
		zkc_lock_release(w->lk, 0);
	}
	return NULL;
}

static void test_waiters_get_the_lock_in_arrival_order(void **state)
{
	char *dir = h_path("fifo");
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	zkc_t *zk = h_open(NULL, NULL);
	zkc_lock_t *holder = NULL;
	waiter_t w[4];
	int order[4] = { -1, -1, -1, -1 }, next = 0, i;
	(void)state;

	assert_int_equal(zkc_lock_open(&holder, zk, dir, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(NULL, holder, 5000), ZKC_OK);
	for (i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].zk = h_open(NULL, NULL);
		w[i].id = i;
		w[i].order = order;
		w[i].next = &next;
		w[i].mu = &mu;
		assert_int_equal(zkc_lock_open(&w[i].lk, w[i].zk, dir, NULL), ZKC_OK);
		assert_int_equal(pthread_create(&w[i].th, NULL, wait_thread, &w[i]), 0);
		/* arrival order is node order: wait for this one's node */
		H_WAIT_UNTIL(count_children(zk, dir) == i + 2, 10000);
	}
	assert_int_equal(zkc_lock_release(holder, 0), ZKC_OK);
	for (i = 0; i < 4; i++) {
		pthread_join(w[i].th, NULL);
		assert_int_equal(w[i].rc, ZKC_OK);
		assert_int_equal(order[i], i);
		zkc_lock_close(w[i].lk);
		zkc_close(w[i].zk);
	}
	zkc_lock_close(holder);
	H_WAIT_UNTIL(count_children(zk, dir) == 0, 10000);
	zkc_delete(zk, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	free(dir);
}

static void test_cancel_ends_a_blocked_acquire_and_removes_its_node(void **state)
{
	char *dir = h_path("cancel");
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	zkc_t *zk = h_open(NULL, NULL);
	zkc_lock_t *holder = NULL;
	int order[1], next = 0;
	waiter_t w;
	(void)state;

	assert_int_equal(zkc_lock_open(&holder, zk, dir, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(NULL, holder, 5000), ZKC_OK);
	memset(&w, 0, sizeof(w));
	w.zk = zk;  /* a second handle on the same client is a second contender */
	w.order = order;
	w.next = &next;
	w.mu = &mu;
	assert_int_equal(zkc_lock_open(&w.lk, zk, dir, NULL), ZKC_OK);
	assert_int_equal(pthread_create(&w.th, NULL, wait_thread, &w), 0);
	H_WAIT_UNTIL(count_children(zk, dir) == 2, 10000);
	assert_int_equal(zkc_lock_cancel(w.lk), ZKC_OK);
	pthread_join(w.th, NULL);
	assert_int_equal(w.rc, ZKC_ECANCELED);
	H_WAIT_UNTIL(count_children(zk, dir) == 1, 10000);
	assert_int_equal(zkc_lock_valid(holder), 1);
	zkc_lock_close(w.lk);
	zkc_lock_close(holder);
	assert_int_equal(count_children(zk, dir), 0);
	zkc_delete(zk, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	free(dir);
}

/* A timed acquire run on its own thread, so that one that never returns
 * fails the test instead of hanging it. */
typedef struct timed {
	zkc_lock_t *lk;
	zkc_cancel_t *tok;  /* bound on the acquiring thread when not NULL */
	int timeout_ms;
	pthread_t th;
	pthread_mutex_t mu;
	int done, rc;
	int64_t took;
} timed_t;

static void *timed_thread(void *arg)
{
	timed_t *t = arg;
	zkc_cancel_t *prev = zkc_cancel_bind(t->tok);
	int64_t t0 = h_now_ms();
	int rc = zkc_lock_acquire(NULL, t->lk, t->timeout_ms);
	int64_t took = h_now_ms() - t0;

	zkc_cancel_bind(prev);
	pthread_mutex_lock(&t->mu);
	t->rc = rc;
	t->took = took;
	t->done = 1;
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

static int timed_done(timed_t *t)
{
	int d;

	pthread_mutex_lock(&t->mu);
	d = t->done;
	pthread_mutex_unlock(&t->mu);
	return d;
}

/* The only child of dir is `name` (the holder's node): 1, else 0. */
static int only_child_is(zkc_t *zk, const char *dir, const char *name)
{
	zkc_strings_t *c = NULL;
	int r;

	if (zkc_children(&c, NULL, zk, dir) != ZKC_OK)
		return 0;
	r = c->count == 1 && strcmp(c->items[0], name) == 0;
	zkc_strings_free(c);
	return r;
}

static void timed_acquire_times_out(int with_token)
{
	char *dir = h_path(with_token ? "timeout_tok" : "timeout_plain");
	zkc_t *zk = h_open(NULL, NULL), *zk2 = h_open(NULL, NULL);
	zkc_lock_t *holder = NULL;
	zkc_lock_lease_t hl;
	zkc_cancel_t *tok = NULL;
	int64_t until;
	timed_t t;

	memset(&t, 0, sizeof(t));
	pthread_mutex_init(&t.mu, NULL);
	if (with_token)
		assert_int_equal(zkc_cancel_new(&tok), ZKC_OK);
	assert_int_equal(zkc_lock_open(&holder, zk, dir, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(&hl, holder, 5000), ZKC_OK);
	assert_int_equal(zkc_lock_open(&t.lk, zk2, dir, NULL), ZKC_OK);
	t.tok = tok;
	t.timeout_ms = 300;
	assert_int_equal(pthread_create(&t.th, NULL, timed_thread, &t), 0);
	/* far beyond 300 ms: only a wait that never ends gets here */
	until = h_now_ms() + h_timeout(20000);
	while (!timed_done(&t) && h_now_ms() < until)
		h_backoff(5);
	if (!timed_done(&t)) {
		/* unblock it so the run can go on, then fail */
		zkc_cancel_fire(tok);
		zkc_lock_release(holder, 0);
		pthread_join(t.th, NULL);
		fail_msg("a 300 ms acquire (%s) had not returned after %d ms", with_token
		         ? "cancel token bound, not fired" : "no token bound", h_timeout(20000));
	}
	pthread_join(t.th, NULL);
	assert_int_equal(t.rc, ZKC_ETIMEDOUT);
	assert_true(t.took >= 300);
	if (tok)
		assert_int_equal(zkc_cancel_fired(tok), 0);
	/* the contender's node goes (in the background): only the holder's stays */
	H_WAIT_UNTIL(only_child_is(zk, dir, strrchr(hl.path, '/') + 1), 10000);
	assert_int_equal(zkc_lock_valid(holder), 1);
	assert_int_equal(zkc_lock_valid(t.lk), 0);
	zkc_lock_close(t.lk);
	zkc_lock_close(holder);
	H_WAIT_UNTIL(count_children(zk, dir) == 0, 10000);
	zkc_delete(zk, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_cancel_free(tok);
	pthread_mutex_destroy(&t.mu);
	zkc_close(zk);
	zkc_close(zk2);
	free(dir);
}

static void test_timed_acquire_times_out_with_a_cancel_token_bound(void **state)
{
	(void)state;
	timed_acquire_times_out(1);
}

static void test_timed_acquire_times_out_without_a_token(void **state)
{
	(void)state;
	timed_acquire_times_out(0);
}

/* ------------------------------------------------------------ fencing */

typedef struct evlog {
	pthread_mutex_t mu;
	int ev[16];
	int n;
} evlog_t;

static void on_lock_event(zkc_lock_t *lk, int event, void *payload)
{
	evlog_t *l = payload;

	(void)lk;
	pthread_mutex_lock(&l->mu);
	if (l->n < 16)
		l->ev[l->n++] = event;
	pthread_mutex_unlock(&l->mu);
}

static int saw_event(evlog_t *l, int event)
{
	int i, r = 0;

	pthread_mutex_lock(&l->mu);
	for (i = 0; i < l->n; i++)
		r |= l->ev[i] == event;
	pthread_mutex_unlock(&l->mu);
	return r;
}

/* Forces zk's session to expire until `other` sees its node gone: on a
 * slow run (valgrind) the client can reconnect to its session before the
 * hook's second connection closes it, and the session survives. */
static void expire_until(zkc_t *zk, zkc_t *other, const char *node)
{
	int tries;

	for (tries = 0; tries < 5; tries++) {
		int64_t until;

		assert_int_equal(zkc_testing_expire_session(zk, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
		until = h_now_ms() + h_timeout(5000);
		while (h_now_ms() < until) {
			if (zkc_exists(NULL, other, node) == ZKC_ENONODE)
				return;
			h_backoff(10);
		}
	}
	fail_msg("the session owning %s did not expire", node);
}

static void test_fenced_write_fails_inside_zookeeper_after_the_lock_is_lost(void **state)
{
	char *dir = h_path("fence"), *res = h_path("resource");
	zkc_lock_options_t lo = ZKC_LOCK_OPTIONS_INIT;
	evlog_t log = { PTHREAD_MUTEX_INITIALIZER, { 0 }, 0 };
	zkc_t *zk = h_open(NULL, NULL), *other = h_open(NULL, NULL);
	zkc_multi_results_t *r = NULL;
	zkc_lock_t *lk = NULL, *lk2 = NULL, *lk3 = NULL;
	zkc_multi_t *m = NULL;
	zkc_lock_lease_t lease;
	char *data = NULL;
	int ev = 0;
	(void)state;

	assert_int_equal(zkc_create(NULL, NULL, other, res, "0", 1, NULL), ZKC_OK);
	lo.event_fn = on_lock_event;
	lo.event_payload = &log;
	assert_int_equal(zkc_lock_open(&lk, zk, dir, &lo), ZKC_OK);
	assert_int_equal(zkc_lock_fence(&m, lk), ZKC_EINVALIDSTATE);
	assert_int_equal(zkc_lock_acquire(&lease, lk, 5000), ZKC_OK);
	assert_int_equal(zkc_lock_fence(&m, lk), ZKC_OK);
	assert_int_equal(zkc_multi_set(m, res, "1", 1, -1), ZKC_OK);
	assert_int_equal(zkc_multi_commit(&r, zk, m), ZKC_OK);
	assert_int_equal((int)r->count, 2);
	zkc_multi_results_free(r);
	r = NULL;

	/* The caller's own op meets a missing node while the lock is held:
	 * its own code, never the lost-lock one. */
	{
		char *missing = h_path("fence-missing");
		zkc_multi_t *own = NULL;

		assert_int_equal(zkc_lock_fence(&own, lk), ZKC_OK);
		assert_int_equal(zkc_multi_set(own, missing, "x", 1, -1), ZKC_OK);
		assert_int_equal(zkc_multi_commit(&r, zk, own), ZKC_ENONODE);
		assert_int_equal(r->results[0].code, ZKC_OK);
		assert_int_equal(r->results[1].code, ZKC_ENONODE);
		zkc_multi_results_free(r);
		r = NULL;
		zkc_multi_free(own);
		free(missing);
	}

	/* Build the next fenced write before the loss, commit it after: the
	 * holder has not even noticed yet, ZooKeeper refuses it. */
	assert_int_equal(zkc_multi_set(m, res, "2", 1, -1), ZKC_OK);
	expire_until(zk, other, lease.path);
	/* another client takes the lock meanwhile */
	assert_int_equal(zkc_lock_open(&lk2, other, dir, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(NULL, lk2, 10000), ZKC_OK);
	/* (on the new session, so the commit is not a retry of a lost reply,
	 * which would report ZKC_EUNKNOWN) */
	H_WAIT_UNTIL(saw_event(&log, ZKC_LOCK_EVENT_LOST), H_TIMEOUT_MS);
	assert_int_equal(zkc_wait_connected(zk, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	/* the lost lock has its own code; the guard op's result says why */
	assert_int_equal(zkc_multi_commit(&r, zk, m), ZKC_ELOCKLOST);
	assert_non_null(strstr(zkc_error_last()->message, dir));
	assert_int_equal(r->results[0].code, ZKC_ENONODE);
	zkc_multi_results_free(r);
	zkc_multi_free(m);
	assert_int_equal(zkc_get(&data, NULL, NULL, other, res), ZKC_OK);
	assert_string_equal(data, "1");
	zkc_free(data);

	/* the holder is told, and the lock reads as lost */
	H_WAIT_UNTIL(saw_event(&log, ZKC_LOCK_EVENT_LOST), H_TIMEOUT_MS);
	assert_int_equal(zkc_lock_valid(lk), 0);
	assert_int_equal(zkc_lock_fence(&m, lk), ZKC_ELOST);
	assert_int_equal(zkc_lock_release(lk, 0), ZKC_ELOST);
	assert_int_equal(zkc_lock_release(lk2, 0), ZKC_OK);

	/* the event queue variant */
	assert_int_equal(zkc_lock_open(&lk3, zk, dir, NULL), ZKC_OK);
	assert_true(zkc_lock_events_fd(lk3) >= 0);
	assert_int_equal(zkc_lock_acquire(NULL, lk3, 10000), ZKC_OK);
	assert_int_equal(zkc_lock_events_next(&ev, lk3, 0), ZKC_EAGAIN);
	assert_int_equal(zkc_lock_lease(&lease, lk3), ZKC_OK);
	expire_until(zk, other, lease.path);
	/* SUSPENDED (may be lost), even RECONNECTED, may come first; then LOST */
	do {
		assert_int_equal(zkc_lock_events_next(&ev, lk3, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
		assert_true(ev >= ZKC_LOCK_EVENT_SUSPENDED && ev <= ZKC_LOCK_EVENT_LOST);
	} while (ev != ZKC_LOCK_EVENT_LOST);
	assert_int_equal(zkc_lock_release(lk3, 0), ZKC_ELOST);

	zkc_lock_close(lk);
	zkc_lock_close(lk2);
	zkc_lock_close(lk3);
	zkc_delete(other, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_delete(other, res, -1, 0);
	zkc_close(zk);
	zkc_close(other);
	free(dir);
	free(res);
}

/* ------------------------------------------------------------ sticky */

/* Requests the (single) server has received so far; -1 without an own
 * ensemble. */
static long long server_packets(void)
{
	char *out = NULL, *p;
	long long v = -1;

	if (!h_ens() || zkc_ens_4lw(&out, h_ens(), 0, "mntr", h_timeout(5000)) != ZKC_OK)
		return -1;
	p = strstr(out, "zk_packets_received");
	if (p)
		v = atoll(p + strlen("zk_packets_received"));
	free(out);
	return v;
}

static void test_sticky_lock_keeps_its_node_until_a_contender_arrives(void **state)
{
	char *dir = h_path("sticky");
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	zkc_lock_options_t lo = ZKC_LOCK_OPTIONS_INIT;
	zkc_options_t quiet = ZKC_OPTIONS_INIT;
	zkc_t *zk, *zk2;
	zkc_lock_t *lk = NULL;
	zkc_lock_lease_t a, b;
	int order[2], next = 0, i;
	long long p0, p1;
	char *kept;
	waiter_t w;
	(void)state;

	/* The hand-off below is counted in server packets: a long session
	 * timeout keeps the clients' heartbeats (after timeout/6 of silence)
	 * out of that short window, so the count is the lock's alone. */
	quiet.session_timeout_ms = 60000;
	zk = h_open(NULL, &quiet);
	zk2 = h_open(NULL, &quiet);
	lo.flags = ZKC_LOCK_STICKY;
	assert_int_equal(zkc_lock_open(&lk, zk, dir, &lo), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(&a, lk, 5000), ZKC_OK);
	kept = strdup(a.path);
	for (i = 0; i < 50; i++) {
		assert_int_equal(zkc_lock_release(lk, 0), ZKC_OK);
		assert_int_equal(zkc_lock_acquire(&b, lk, 5000), ZKC_OK);
		assert_string_equal(b.path, kept);  /* same node: no round trip */
		assert_true(b.token == a.token);
	}
	assert_int_equal(zkc_lock_release(lk, 0), ZKC_OK);
	assert_int_equal(zkc_exists(NULL, zk2, kept), ZKC_OK);

	/* a contender arrives while the lock is not held: the notification
	 * makes the holder drop its node, and the contender gets the lock */
	memset(&w, 0, sizeof(w));
	w.zk = zk2;
	w.order = order;
	w.next = &next;
	w.mu = &mu;
	assert_int_equal(zkc_lock_open(&w.lk, zk2, dir, NULL), ZKC_OK);
	assert_int_equal(pthread_create(&w.th, NULL, wait_thread, &w), 0);
	pthread_join(w.th, NULL);
	assert_int_equal(w.rc, ZKC_OK);
	assert_int_equal(zkc_exists(NULL, zk2, kept), ZKC_ENONODE);

	/* held when the contender arrives: it gets the lock at the holder's
	 * next release, which deletes the node (one notification away) */
	assert_int_equal(zkc_lock_acquire(&a, lk, 5000), ZKC_OK);
	free(kept);
	kept = strdup(a.path);
	next = 0;
	assert_int_equal(pthread_create(&w.th, NULL, wait_thread, &w), 0);
	H_WAIT_UNTIL(count_children(zk2, dir) == 2, 10000);
	/* the holder keeps the lock while the contender waits on its node */
	assert_int_equal(zkc_lock_valid(lk), 1);
	assert_int_equal(next, 0);
	p0 = server_packets();
	assert_int_equal(zkc_lock_release(lk, 0), ZKC_OK);
	pthread_join(w.th, NULL);
	p1 = server_packets();
	assert_int_equal(w.rc, ZKC_OK);
	assert_int_equal(next, 1);
	/* within one notification: between the holder's release and the
	 * contender holding, the server saw the delete and nothing from the
	 * contender (its listing had only our node ahead; the contender's
	 * own release comes after; one more for the mntr probe). */
	if (p0 >= 0 && p1 >= 0) {
		print_message("# requests from release to hand-off (incl. contender's release): %lld\n",
		              p1 - p0);
		/* slow runs (valgrind, sanitizers) may add a heartbeat or two */
		assert_true(p1 - p0 <= (h_timeout(1000) > 1000 ? 5 : 3));
	}
	assert_int_equal(zkc_exists(NULL, zk2, kept), ZKC_ENONODE);
	free(kept);

	zkc_lock_close(w.lk);
	zkc_lock_close(lk);
	H_WAIT_UNTIL(count_children(zk2, dir) == 0, 10000);
	zkc_delete(zk2, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	zkc_close(zk2);
	free(dir);
}

/* A node made the way Curator makes it (another process's contender)
 * blocks us; we get the lock once it is gone. */
static void test_a_curator_style_contender_blocks_us(void **state)
{
	char *dir = h_path("curator"), *node, *made = NULL;
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	zkc_t *zk = h_open(NULL, NULL), *java = h_open(NULL, NULL);
	zkc_lock_t *lk = NULL;
	(void)state;

	co.mode = ZKC_EPHEMERAL_SEQUENTIAL;
	co.flags = ZKC_CREATE_PARENTS;
	node = h_join(dir, "_c_0f1e2d3c-4b5a-4697-8877-665544332211-lock-");
	assert_int_equal(zkc_create(&made, NULL, java, node, "10.0.0.1", 8, &co), ZKC_OK);
	assert_int_equal(zkc_lock_open(&lk, zk, dir, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(NULL, lk, ZKC_LOCK_TRY), ZKC_EAGAIN);
	assert_int_equal(zkc_delete(java, made, -1, 0), ZKC_OK);
	assert_int_equal(zkc_lock_acquire(NULL, lk, 5000), ZKC_OK);
	zkc_lock_close(lk);
	zkc_free(made);
	zkc_delete(zk, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	zkc_close(java);
	free(node);
	free(dir);
}

/* ------------------------------------------------------------ hand-off proof */

/* Whether some server holds a watch on `path` (4lw wchp), i.e. a waiter
 * chose it as the node it waits for. */
static int server_watches(const char *path)
{
	int i, found = 0;

	for (i = 0; i < h_nodes() && !found; i++) {
		char *out = NULL, *p;
		size_t n = strlen(path);

		if (zkc_ens_4lw(&out, h_ens(), i, "wchp", h_timeout(5000)) != ZKC_OK)
			continue;
		for (p = out; (p = strstr(p, path)) != NULL; p += n)
			if (p[n] == '\n' || p[n] == '\0')
				found = 1;
		free(out);
	}
	return found;
}

typedef struct taker {
	pthread_t th;
	zkc_lock_t *lk;
	int rc;
	int done;
	pthread_mutex_t mu;
} taker_t;

static void *take_thread(void *arg)
{
	taker_t *t = arg;
	int rc = zkc_lock_acquire(NULL, t->lk, h_timeout(60000));

	pthread_mutex_lock(&t->mu);
	t->rc = rc;
	t->done = 1;
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

static int taker_done(taker_t *t)
{
	int d;

	pthread_mutex_lock(&t->mu);
	d = t->done;
	pthread_mutex_unlock(&t->mu);
	return d;
}

/* A waiter takes the lock without listing again only when the node it
 * watched was the last one ahead of it. Here its listing had two ahead: a
 * contender whose process stands still (its session lives, its node
 * stays; as a paused or not yet expired holder) and, nearer, one that gives
 * up. When the nearer one goes the waiter must list again and wait for the
 * lower node; a waiter that took the deletion of the node it watched as
 * the lock's hand-off would hold it beside the still one. */
static void test_a_waiter_never_holds_while_a_lower_node_lives(void **state)
{
	char *dir = h_path("lower"), *node, *still = NULL, *mid = NULL;
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	zkc_t *zk = h_open(NULL, NULL), *paused = h_open(NULL, NULL);
	zkc_t *zb = h_open(NULL, NULL), *zc = h_open(NULL, NULL);
	zkc_strings_t *c = NULL;
	taker_t b, w;
	size_t i;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	memset(&b, 0, sizeof(b));
	memset(&w, 0, sizeof(w));
	pthread_mutex_init(&b.mu, NULL);
	pthread_mutex_init(&w.mu, NULL);
	/* the still contender: lowest node, on a session that stays */
	co.mode = ZKC_EPHEMERAL_SEQUENTIAL;
	co.flags = ZKC_CREATE_PARENTS;
	node = h_join(dir, "_c_11111111-2222-4333-8444-555555555555-lock-");
	assert_int_equal(zkc_create(&still, NULL, paused, node, NULL, 0, &co), ZKC_OK);
	/* the one that gives up, then the waiter under test */
	assert_int_equal(zkc_lock_open(&b.lk, zb, dir, NULL), ZKC_OK);
	assert_int_equal(pthread_create(&b.th, NULL, take_thread, &b), 0);
	H_WAIT_UNTIL(count_children(zk, dir) == 2, 10000);
	assert_int_equal(zkc_children(&c, NULL, zk, dir), ZKC_OK);
	for (i = 0; i < c->count; i++)
		if (strcmp(c->items[i], strrchr(still, '/') + 1) != 0)
			mid = h_join(dir, c->items[i]);
	zkc_strings_free(c);
	assert_non_null(mid);
	assert_int_equal(zkc_lock_open(&w.lk, zc, dir, NULL), ZKC_OK);
	assert_int_equal(pthread_create(&w.th, NULL, take_thread, &w), 0);
	H_WAIT_UNTIL(count_children(zk, dir) == 3, 10000);
	/* the waiter watches the middle node (its nearest blocker) */
	H_WAIT_UNTIL(server_watches(mid), 10000);

	/* the middle contender gives up: its node goes, the lower one stays */
	assert_int_equal(zkc_lock_cancel(b.lk), ZKC_OK);
	H_WAIT_UNTIL(taker_done(&b), 10000);
	assert_int_equal(b.rc, ZKC_ECANCELED);
	H_WAIT_UNTIL(zkc_exists(NULL, zk, mid) == ZKC_ENONODE, 10000);
	/* the waiter either took the lock (the defect) or listed again and
	 * now waits for the still node */
	H_WAIT_UNTIL(taker_done(&w) || server_watches(still), 10000);
	assert_false(taker_done(&w));
	assert_int_equal(zkc_lock_valid(w.lk), 0);
	assert_int_equal(zkc_exists(NULL, zk, still), ZKC_OK);

	/* the still contender's session ends: now the waiter holds */
	zkc_close(paused);
	H_WAIT_UNTIL(taker_done(&w), 10000);
	assert_int_equal(w.rc, ZKC_OK);
	assert_int_equal(zkc_lock_valid(w.lk), 1);
	assert_int_equal(zkc_lock_release(w.lk, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);

	pthread_join(b.th, NULL);
	pthread_join(w.th, NULL);
	zkc_lock_close(b.lk);
	zkc_lock_close(w.lk);
	H_WAIT_UNTIL(count_children(zk, dir) == 0, 10000);
	zkc_delete(zk, dir, -1, ZKC_DELETE_RECURSIVE);
	zkc_free(still);
	free(mid);
	free(node);
	free(dir);
	zkc_close(zb);
	zkc_close(zc);
	zkc_close(zk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uncontended_acquire_gives_a_curator_named_node_and_growing_tokens),
		cmocka_unit_test(test_try_and_timeout_fail_cleanly_and_leave_no_node),
		cmocka_unit_test(test_bad_input_gives_clear_codes),
		cmocka_unit_test(test_reentrant_lock_counts_acquires),
		cmocka_unit_test(test_waiters_get_the_lock_in_arrival_order),
		cmocka_unit_test(test_cancel_ends_a_blocked_acquire_and_removes_its_node),
		cmocka_unit_test(test_timed_acquire_times_out_with_a_cancel_token_bound),
		cmocka_unit_test(test_timed_acquire_times_out_without_a_token),
		cmocka_unit_test(test_fenced_write_fails_inside_zookeeper_after_the_lock_is_lost),
		cmocka_unit_test(test_sticky_lock_keeps_its_node_until_a_contender_arrives),
		cmocka_unit_test(test_a_curator_style_contender_blocks_us),
		cmocka_unit_test(test_a_waiter_never_holds_while_a_lower_node_lives),
	};

	return cmocka_run_group_tests(tests, h_setup_shared, h_teardown);
}
