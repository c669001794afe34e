/* tests/integration/test_errors.c - every failure explains itself: each
 * public function driven into the codes its header documents, against a
 * real ensemble. For each row the returned code is the expected one,
 * zkc_error_last() carries that same code (a sentinel set before the call
 * proves it is not left over from an earlier failure), and its message is
 * not empty and names the path, key or file involved. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

#define SENTINEL "sentinel: left over from before the call"

static zkc_t *zk;
static int failures;

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

/* One row: `rc` is what the call returned (the sentinel was set just
 * before it). Failures are counted and printed, so one run lists them all. */
static void check(int line, const char *call, int want, const char *needle, int rc)
{
	const zkc_error_t *e = zkc_error_last();
	const char *why = NULL;

	if (rc != want)
		why = "returned another code";
	else if (e->code != rc)
		why = "zkc_error_last() holds another code";
	else if (!e->message[0])
		why = "empty message";
	else if (strcmp(e->message, SENTINEL) == 0)
		why = "message left over from before the call";
	else if (needle && !strstr(e->message, needle))
		why = "message does not name the path";
	if (!why)
		return;
	failures++;
	print_message("# line %d: %s\n#   want %s naming \"%s\": %s; got %s, last %s \"%s\"\n", line,
	              call, zkc_strcode(want), needle ? needle : "", why, zkc_strcode(rc),
	              zkc_strcode(e->code), e->message);
}

/* EXPECT(code, needle, call): the sentinel is set, then the call runs. */
#define EXPECT(want, needle, call) \
	check(__LINE__, #call, (want), (needle), (zkc_error_set(ZKC_ESYSTEM, SENTINEL), (call)))

static void end_group(void)
{
	int n = failures;

	failures = 0;
	if (n)
		fail_msg("%d row(s) failed (listed above)", n);
}

/* ------------------------------------------------------------ core */

static void test_core_calls_explain_their_failures(void **state)
{
	char *p = h_path("core"), *kid = h_join(p, "kid"), *missing = h_path("core-missing");
	char *big = calloc(1, ZKC_MAX_DATA_LEN + 2), *data = NULL;
	zkc_strings_t *kids = NULL;
	zkc_t *bad = NULL;
	(void)state;

	assert_non_null(big);
	EXPECT(ZKC_EURL, "bogus", zkc_open(&bad, "zk://127.0.0.1:1?bogus=1", NULL));
	EXPECT(ZKC_EBADARGUMENTS, "/nonexistent/ca.pem",
	       zkc_open(&bad, "zks://127.0.0.1:1?ca=/nonexistent/ca.pem", NULL));
	EXPECT(ZKC_EBADARGUMENTS, "relative", zkc_create(NULL, NULL, zk, "relative", NULL, 0, NULL));
	EXPECT(ZKC_ETOOLARGE, p, zkc_create(NULL, NULL, zk, p, big, ZKC_MAX_DATA_LEN + 1, NULL));
	assert_int_equal(zkc_create(NULL, NULL, zk, p, "x", 1, NULL), ZKC_OK);
	assert_int_equal(zkc_create(NULL, NULL, zk, kid, NULL, 0, NULL), ZKC_OK);
	EXPECT(ZKC_ENODEEXISTS, p, zkc_create(NULL, NULL, zk, p, NULL, 0, NULL));
	EXPECT(ZKC_ENONODE, missing, zkc_get(&data, NULL, NULL, zk, missing));
	EXPECT(ZKC_ENONODE, missing, zkc_set(NULL, zk, missing, "y", 1, -1));
	EXPECT(ZKC_EBADVERSION, p, zkc_set(NULL, zk, p, "y", 1, 7));
	EXPECT(ZKC_ENOTEMPTY, p, zkc_delete(zk, p, -1, 0));
	EXPECT(ZKC_EBADVERSION, kid, zkc_delete(zk, kid, 5, 0));
	EXPECT(ZKC_ENONODE, missing, zkc_delete(zk, missing, -1, 0));
	EXPECT(ZKC_EBADARGUMENTS, "/zookeeper", zkc_delete(zk, "/zookeeper", -1,
	                                                   ZKC_DELETE_RECURSIVE));
	EXPECT(ZKC_ENONODE, missing, zkc_exists(NULL, zk, missing));
	EXPECT(ZKC_ENONODE, missing, zkc_children(&kids, NULL, zk, missing));
	EXPECT(ZKC_EBADARGUMENTS, "a//b", zkc_path_validate("/a//b", (size_t)-1));
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	free(big);
	free(kid);
	free(missing);
	free(p);
	end_group();
}

/* ------------------------------------------------------------ cache, pnode, multi, events */

static void test_cache_pnode_multi_and_events_explain_their_failures(void **state)
{
	char *p = h_path("cache"), *in = h_join(p, "in"), *missing = h_join(p, "missing");
	char *pp = h_path("pnode"), *big = calloc(1, ZKC_MAX_DATA_LEN + 2), *data = NULL;
	zkc_cache_options_t co = ZKC_CACHE_OPTIONS_INIT;
	zkc_multi_results_t *res = NULL;
	zkc_strings_t *kids = NULL;
	zkc_event_t *ev = NULL;
	zkc_cache_t *c = NULL;
	zkc_pnode_t *pn = NULL;
	zkc_multi_t *m = NULL;
	(void)state;

	assert_non_null(big);
	co.version = 99;
	EXPECT(ZKC_EBADARGUMENTS, p, zkc_cache_open(&c, zk, p, &co));
	EXPECT(ZKC_EBADARGUMENTS, "rel", zkc_cache_open(&c, zk, "rel", NULL));
	assert_int_equal(zkc_create(NULL, NULL, zk, p, NULL, 0, NULL), ZKC_OK);
	assert_int_equal(zkc_create(NULL, NULL, zk, in, "d", 1, NULL), ZKC_OK);
	assert_int_equal(zkc_cache_open(&c, zk, p, NULL), ZKC_OK);
	assert_int_equal(zkc_cache_wait_initialized(c, H_TIMEOUT_MS), ZKC_OK);
	EXPECT(ZKC_ENONODE, missing, zkc_cache_get(&data, NULL, NULL, c, missing));
	EXPECT(ZKC_ENONODE, missing, zkc_cache_children(&kids, c, missing));
	EXPECT(ZKC_ETIMEDOUT, p, zkc_cache_wait_zxid(c, INT64_MAX / 2, 50));
	zkc_cache_close(c);

	EXPECT(ZKC_EBADARGUMENTS, pp, zkc_pnode_open(&pn, zk, pp, NULL, 0, ZKC_PERSISTENT));
	EXPECT(ZKC_ETOOLARGE, pp, zkc_pnode_open(&pn, zk, pp, big, ZKC_MAX_DATA_LEN + 1,
	                                         ZKC_EPHEMERAL));

	/* a transaction names its failing op */
	assert_int_equal(zkc_multi_new(&m), ZKC_OK);
	assert_int_equal(zkc_multi_check(m, in, 0), ZKC_OK);
	assert_int_equal(zkc_multi_delete(m, missing, -1), ZKC_OK);
	EXPECT(ZKC_ENONODE, missing, zkc_multi_commit(&res, zk, m));
	zkc_multi_results_free(res);
	zkc_multi_free(m);

	while (zkc_events_next(&ev, zk, 0) == ZKC_OK)   /* whatever is queued */
		zkc_event_free(ev);
	EXPECT(ZKC_EAGAIN, NULL, zkc_events_next(&ev, zk, 0));
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	free(big);
	free(in);
	free(missing);
	free(pp);
	free(p);
	end_group();
}

/* ------------------------------------------------------------ lock family */

static void test_lock_semaphore_rwlock_explain_their_failures(void **state)
{
	char *p = h_path("lock"), *withdata = h_path("lockdata"), *sp = h_path("sem");
	zkc_lock_options_t bad = ZKC_LOCK_OPTIONS_INIT;
	zkc_lock_t *a = NULL, *b = NULL, *d = NULL, *l = NULL;
	zkc_semaphore_t *s = NULL;
	zkc_semaphore_lease_t *lease = NULL, *l2 = NULL;
	zkc_rwlock_t *rw = NULL;
	zkc_multi_t *m = NULL;
	(void)state;

	bad.version = 99;
	EXPECT(ZKC_EBADARGUMENTS, p, zkc_lock_open(&l, zk, p, &bad));
	{
		zkc_lock_options_t lo = ZKC_LOCK_OPTIONS_INIT;
		zkc_acl_list_t empty = { 0, NULL };

		lo.acl = &empty;
		EXPECT(ZKC_EBADARGUMENTS, p, zkc_lock_open(&l, zk, p, &lo));
		EXPECT(ZKC_EBADARGUMENTS, sp, zkc_semaphore_open(&s, zk, sp, 1, &lo));
	}
	EXPECT(ZKC_EBADARGUMENTS, "/", zkc_lock_open(&l, zk, "/", NULL));
	EXPECT(ZKC_EBADARGUMENTS, "x//y", zkc_lock_open(&l, zk, "/x//y", NULL));
	assert_int_equal(zkc_lock_open(&a, zk, p, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_open(&b, zk, p, NULL), ZKC_OK);
	EXPECT(ZKC_EINVALIDSTATE, p, zkc_lock_release(a, 0));
	EXPECT(ZKC_EINVALIDSTATE, p, zkc_lock_fence(&m, a));
	{
		zkc_lock_lease_t lz;

		EXPECT(ZKC_EINVALIDSTATE, p, zkc_lock_lease(&lz, a));
	}
	EXPECT(ZKC_EBADARGUMENTS, p, zkc_lock_acquire(NULL, a, -5));
	assert_int_equal(zkc_lock_acquire(NULL, a, ZKC_LOCK_FOREVER), ZKC_OK);
	EXPECT(ZKC_EINVALIDSTATE, p, zkc_lock_acquire(NULL, a, 0));
	EXPECT(ZKC_EAGAIN, p, zkc_lock_acquire(NULL, b, 0));
	EXPECT(ZKC_ETIMEDOUT, p, zkc_lock_acquire(NULL, b, 50));
	{
		int ev;

		EXPECT(ZKC_EAGAIN, p, zkc_lock_events_next(&ev, a, 0));
	}
	assert_int_equal(zkc_lock_release(a, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
	/* a node that holds data is not a lock directory */
	assert_int_equal(zkc_create(NULL, NULL, zk, withdata, "data", 4, NULL), ZKC_OK);
	assert_int_equal(zkc_lock_open(&d, zk, withdata, NULL), ZKC_OK);
	EXPECT(ZKC_EBADARGUMENTS, withdata, zkc_lock_acquire(NULL, d, 1000));
	zkc_lock_close(d);
	zkc_lock_close(b);
	zkc_lock_close(a);

	/* semaphore */
	EXPECT(ZKC_EBADARGUMENTS, sp, zkc_semaphore_open(&s, zk, sp, 0, NULL));
	EXPECT(ZKC_EBADARGUMENTS, "/", zkc_semaphore_open(&s, zk, "/", 1, NULL));
	assert_int_equal(zkc_semaphore_open(&s, zk, sp, 1, NULL), ZKC_OK);
	EXPECT(ZKC_EBADARGUMENTS, NULL, zkc_semaphore_acquire(&lease, s, -5));
	assert_int_equal(zkc_semaphore_acquire(&lease, s, ZKC_LOCK_FOREVER), ZKC_OK);
	EXPECT(ZKC_EAGAIN, sp, zkc_semaphore_acquire(&l2, s, 0));
	EXPECT(ZKC_ETIMEDOUT, sp, zkc_semaphore_acquire(&l2, s, 50));
	assert_int_equal(zkc_semaphore_release(lease, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
	EXPECT(ZKC_EINVALIDSTATE, sp, zkc_semaphore_release(lease, 0));
	zkc_semaphore_lease_free(lease);
	zkc_semaphore_close(s);

	/* rwlock */
	bad = (zkc_lock_options_t)ZKC_LOCK_OPTIONS_INIT;
	bad.flags = ZKC_LOCK_STICKY;
	EXPECT(ZKC_EBADARGUMENTS, p, zkc_rwlock_open(&rw, zk, p, &bad));
	EXPECT(ZKC_EBADARGUMENTS, "/", zkc_rwlock_open(&rw, zk, "/", NULL));

	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	zkc_delete(zk, sp, -1, ZKC_DELETE_RECURSIVE);
	zkc_delete(zk, withdata, -1, 0);
	free(p);
	free(sp);
	free(withdata);
	end_group();
}

/* ------------------------------------------------------------ election, barriers */

static void test_election_and_barriers_explain_their_failures(void **state)
{
	char *p = h_path("elect"), *missing = h_path("elect-missing"), *bp = h_path("barrier");
	char *dp = h_path("dbarrier"), *bkid = h_join(bp, "kid");
	zkc_election_options_t eo = ZKC_ELECTION_OPTIONS_INIT;
	zkc_election_participants_t *parts = NULL;
	zkc_double_barrier_t *db = NULL;
	zkc_election_t *e = NULL;
	char *out = NULL;
	(void)state;

	eo.step_down = 42;
	EXPECT(ZKC_EBADARGUMENTS, p, zkc_election_open(&e, zk, p, &eo));
	eo = (zkc_election_options_t)ZKC_ELECTION_OPTIONS_INIT;
	eo.version = 99;
	EXPECT(ZKC_EBADARGUMENTS, p, zkc_election_open(&e, zk, p, &eo));
	EXPECT(ZKC_EBADARGUMENTS, "/", zkc_election_open(&e, zk, "/", NULL));
	assert_int_equal(zkc_election_open(&e, zk, p, NULL), ZKC_OK);
	EXPECT(ZKC_ENONODE, p, zkc_election_node(&out, e));
	EXPECT(ZKC_EINVALIDSTATE, p, zkc_election_fence(&out, NULL, e));
	EXPECT(ZKC_ECANCELED, p, zkc_election_await(NULL, e, 0));
	zkc_election_close(e);
	EXPECT(ZKC_ENONODE, missing, zkc_election_participants(&parts, zk, missing));
	EXPECT(ZKC_ENONODE, missing, zkc_election_leader(&out, NULL, zk, missing));

	/* barrier */
	EXPECT(ZKC_EBADARGUMENTS, "/", zkc_barrier_set(zk, "/"));
	assert_int_equal(zkc_barrier_set(zk, bp), ZKC_OK);
	EXPECT(ZKC_ETIMEDOUT, bp, zkc_barrier_wait(zk, bp, 0));
	EXPECT(ZKC_ETIMEDOUT, bp, zkc_barrier_wait(zk, bp, 50));
	assert_int_equal(zkc_create(NULL, NULL, zk, bkid, NULL, 0, NULL), ZKC_OK);
	EXPECT(ZKC_ENOTEMPTY, bp, zkc_barrier_remove(zk, bp));
	zkc_delete(zk, bp, -1, ZKC_DELETE_RECURSIVE);

	/* double barrier */
	EXPECT(ZKC_EBADARGUMENTS, dp, zkc_double_barrier_open(&db, zk, dp, 0, NULL));
	EXPECT(ZKC_EBADARGUMENTS, dp, zkc_double_barrier_open(&db, zk, dp, 2, "a/b"));
	assert_int_equal(zkc_double_barrier_open(&db, zk, dp, 2, "me"), ZKC_OK);
	EXPECT(ZKC_EINVALIDSTATE, dp, zkc_double_barrier_leave(db, 0));
	EXPECT(ZKC_ETIMEDOUT, dp, zkc_double_barrier_enter(db, 100));
	zkc_double_barrier_close(db);
	zkc_delete(zk, dp, -1, ZKC_DELETE_RECURSIVE);
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
	free(missing);
	free(bp);
	free(bkid);
	free(dp);
	end_group();
}

/* ------------------------------------------------------------ queue, counter */

static void test_queue_and_counter_explain_their_failures(void **state)
{
	char *qp = h_path("queue"), *missing = h_path("queue-missing"), *cp = h_path("ctr");
	char *big = calloc(1, ZKC_MAX_DATA_LEN + 2), *name = NULL;
	zkc_queue_options_t qo = ZKC_QUEUE_OPTIONS_INIT;
	zkc_counter_options_t co = ZKC_COUNTER_OPTIONS_INIT;
	zkc_queue_item_t *item = NULL, fake;
	zkc_counter_t *c = NULL, *c2 = NULL;
	zkc_queue_t *q = NULL;
	size_t n;
	int64_t v;
	(void)state;

	assert_non_null(big);
	EXPECT(ZKC_ENONODE, missing, zkc_queue_open(&q, zk, missing, NULL));
	EXPECT(ZKC_EBADARGUMENTS, "/", zkc_queue_open(&q, zk, "/", NULL));
	qo.version = 99;
	EXPECT(ZKC_EBADARGUMENTS, qp, zkc_queue_open(&q, zk, qp, &qo));
	qo = (zkc_queue_options_t)ZKC_QUEUE_OPTIONS_INIT;
	{
		zkc_acl_list_t empty = { 0, NULL };

		qo.acl = &empty;
		EXPECT(ZKC_EBADARGUMENTS, qp, zkc_queue_open(&q, zk, qp, &qo));
		qo.acl = NULL;
	}
	qo.flags = ZKC_QUEUE_CREATE;
	assert_int_equal(zkc_queue_open(&q, zk, qp, &qo), ZKC_OK);
	/* a put that meets an existing node first, then data over the limit */
	assert_int_equal(zkc_queue_put(&name, q, "a", 1, 0), ZKC_OK);
	zkc_free(name);
	name = NULL;
	EXPECT(ZKC_ETOOLARGE, qp, zkc_queue_put(&name, q, big, ZKC_MAX_DATA_LEN + 1, 0));
	EXPECT(ZKC_EBADARGUMENTS, qp, zkc_queue_put(&name, q, "a", 1, -1));
	{
		zkc_queue_put_item_t two[2] = { { big, ZKC_MAX_DATA_LEN / 2 + 1, 0 },
		                                { big, ZKC_MAX_DATA_LEN / 2 + 1, 0 } };
		zkc_queue_put_item_t bad[2] = { { "a", 1, 0 }, { "b", 1, 1000 } };

		EXPECT(ZKC_ETOOLARGE, qp, zkc_queue_put_many(q, two, 2));
		EXPECT(ZKC_EBADARGUMENTS, qp, zkc_queue_put_many(q, bad, 2));
		EXPECT(ZKC_EBADARGUMENTS, qp, zkc_queue_put_many(q, NULL, 1));
	}
	EXPECT(ZKC_EBADARGUMENTS, qp, zkc_queue_take(&item, q, 7, 0));
	assert_int_equal(zkc_queue_take(&item, q, ZKC_QUEUE_TAKE_DELETE, 0), ZKC_OK);
	zkc_queue_item_free(item);
	item = NULL;
	EXPECT(ZKC_EAGAIN, qp, zkc_queue_take(&item, q, ZKC_QUEUE_TAKE_DELETE, 0));
	EXPECT(ZKC_ETIMEDOUT, qp, zkc_queue_take(&item, q, ZKC_QUEUE_TAKE_ACK, 50));
	EXPECT(ZKC_EAGAIN, qp, zkc_queue_peek(&item, q));
	memset(&fake, 0, sizeof(fake));
	fake.name = "no-bucket";
	fake.session_id = 1;
	EXPECT(ZKC_EBADARGUMENTS, "no-bucket", zkc_queue_ack(q, &fake));
	fake.session_id = 0;
	EXPECT(ZKC_EBADARGUMENTS, NULL, zkc_queue_release(q, &fake));
	assert_int_equal(zkc_delete(zk, qp, -1, ZKC_DELETE_RECURSIVE), ZKC_OK);
	EXPECT(ZKC_ENONODE, qp, zkc_queue_size(&n, NULL, q));
	zkc_queue_close(q);

	/* counter */
	EXPECT(ZKC_EBADARGUMENTS, "/", zkc_counter_open(&c, zk, "/", NULL));
	co.shards = 1000;
	EXPECT(ZKC_EBADARGUMENTS, cp, zkc_counter_open(&c, zk, cp, &co));
	assert_int_equal(zkc_counter_open(&c, zk, cp, NULL), ZKC_OK);
	assert_int_equal(zkc_counter_set(c, INT64_MAX), ZKC_OK);
	EXPECT(ZKC_EBADARGUMENTS, cp, zkc_counter_add(&v, c, 1));
	EXPECT(ZKC_EBADVERSION, cp, zkc_counter_cas(&v, c, 5, 6));
	co.shards = 4;
	EXPECT(ZKC_EBADARGUMENTS, cp, zkc_counter_open(&c2, zk, cp, &co));
	zkc_counter_close(c);
	assert_int_equal(zkc_set(NULL, zk, cp, "abc", 3, -1), ZKC_OK);
	assert_int_equal(zkc_counter_open(&c, zk, cp, NULL), ZKC_OK);
	EXPECT(ZKC_EBADARGUMENTS, cp, zkc_counter_get(&v, c));
	zkc_counter_close(c);
	assert_int_equal(zkc_delete(zk, cp, -1, 0), ZKC_OK);
	assert_int_equal(zkc_counter_open(&c, zk, cp, &co), ZKC_OK);
	EXPECT(ZKC_ENOTSUP, cp, zkc_counter_cas(&v, c, 0, 1));
	zkc_counter_close(c);
	zkc_delete(zk, cp, -1, ZKC_DELETE_RECURSIVE);
	free(big);
	free(qp);
	free(missing);
	free(cp);
	end_group();
}

/* ------------------------------------------------------------ index */

static void test_index_explains_failures_by_key_and_collection(void **state)
{
	static const zkc_index_field_t fields[] = { { "email", ZKC_INDEX_UNIQUE }, { "city", 0 } };
	static const zkc_index_field_t dup[] = { { "a", 0 }, { "a", 0 } };
	char *p = h_path("users"), *missing = h_path("users-missing"), *plain = h_path("notix");
	zkc_index_kv_t kv[2] = { { "email", "a@x", 3 }, { "city", "Oslo", 4 } };
	zkc_index_kv_t unknown = { "shoe", "42", 2 };
	zkc_index_record_t *rec = NULL;
	zkc_index_hits_t *hits = NULL;
	zkc_index_t *ix = NULL, *ix2 = NULL;
	char bigval[ZKC_INDEX_MAX_VALUE + 1];
	(void)state;

	memset(bigval, 'v', sizeof(bigval));
	EXPECT(ZKC_EBADARGUMENTS, "/", zkc_index_create(zk, "/", fields, 2));
	EXPECT(ZKC_EBADARGUMENTS, p, zkc_index_create(zk, p, dup, 2));
	EXPECT(ZKC_EBADARGUMENTS, NULL, zkc_index_create(zk, p, fields, 0));
	assert_int_equal(zkc_index_create(zk, p, fields, 2), ZKC_OK);
	EXPECT(ZKC_ENODEEXISTS, p, zkc_index_create(zk, p, fields, 2));
	EXPECT(ZKC_ENONODE, missing, zkc_index_open(&ix2, zk, missing, NULL));
	assert_int_equal(zkc_create(NULL, NULL, zk, plain, "x", 1, NULL), ZKC_OK);
	EXPECT(ZKC_EBADARGUMENTS, plain, zkc_index_open(&ix2, zk, plain, NULL));
	EXPECT(ZKC_EBADARGUMENTS, plain, zkc_index_drop(zk, plain));
	EXPECT(ZKC_ENONODE, missing, zkc_index_drop(zk, missing));
	assert_int_equal(zkc_index_open(&ix, zk, p, NULL), ZKC_OK);

	assert_int_equal(zkc_index_put(ix, "u1", 2, "d", 1, kv, 2, ZKC_INDEX_WAIT), ZKC_OK);
	/* the key and the collection, never the record's internal node */
	EXPECT(ZKC_ENODEEXISTS, "u1", zkc_index_put(ix, "u1", 2, "d", 1, kv, 2, ZKC_INDEX_CREATE));
	assert_null(strstr(zkc_error_last()->message, "/records/"));
	assert_non_null(strstr(zkc_error_last()->message, p));
	EXPECT(ZKC_ENODEEXISTS, "u2", zkc_index_put(ix, "u2", 2, "d", 1, kv, 1, 0));
	assert_null(strstr(zkc_error_last()->message, "/uidx/"));
	EXPECT(ZKC_ENONODE, "u9", zkc_index_put(ix, "u9", 2, "d", 1, NULL, 0, ZKC_INDEX_UPDATE));
	assert_null(strstr(zkc_error_last()->message, "/records/"));
	EXPECT(ZKC_ENONODE, "u9", zkc_index_delete(ix, "u9", 2, 0));
	assert_null(strstr(zkc_error_last()->message, "/records/"));
	EXPECT(ZKC_ENONODE, "u9", zkc_index_get(&rec, ix, "u9", 2, ZKC_INDEX_SERVER));
	assert_null(strstr(zkc_error_last()->message, "/records/"));
	EXPECT(ZKC_EBADARGUMENTS, "shoe", zkc_index_put(ix, "u3", 2, "d", 1, &unknown, 1, 0));
	EXPECT(ZKC_EBADARGUMENTS, p, zkc_index_put(ix, "", 0, "d", 1, NULL, 0, 0));
	EXPECT(ZKC_EBADARGUMENTS, p, zkc_index_put(ix, "u3", 2, "d", 1, NULL, 0,
	                                           ZKC_INDEX_CREATE | ZKC_INDEX_UPDATE));
	{
		zkc_index_kv_t large = { "city", bigval, sizeof(bigval) };

		EXPECT(ZKC_ETOOLARGE, "city", zkc_index_put(ix, "u3", 2, "d", 1, &large, 1, 0));
	}
	EXPECT(ZKC_EBADARGUMENTS, "shoe", zkc_index_find(&hits, ix, "shoe", "x", 1, 0, 0));
	EXPECT(ZKC_ETOOLARGE, "city", zkc_index_find(&hits, ix, "city", bigval, sizeof(bigval), 0,
	                                             0));
	EXPECT(ZKC_EBADARGUMENTS, p, zkc_index_find(&hits, ix, "city", "x", 1, 0, 0x100));
	zkc_index_close(ix);
	zkc_index_drop(zk, p);
	zkc_delete(zk, plain, -1, 0);
	free(p);
	free(missing);
	free(plain);
	end_group();
}

/* ------------------------------------------------------------ service */

static void test_service_explains_its_failures(void **state)
{
	char *p = h_path("svc"), *missing = h_path("svc-missing");
	zkc_service_instance_t in = ZKC_SERVICE_INSTANCE_INIT;
	zkc_service_router_t *r = NULL;
	zkc_service_reg_t *reg = NULL;
	zkc_service_endpoint_t ep;
	size_t n = 0;
	(void)state;

	in.id = "a/b";
	in.address = "127.0.0.1";
	in.port = 80;
	EXPECT(ZKC_EBADARGUMENTS, "a/b", zkc_service_reg_open(&reg, zk, p, &in));
	in.id = "i1";
	in.port = 70000;
	EXPECT(ZKC_EBADARGUMENTS, p, zkc_service_reg_open(&reg, zk, p, &in));
	in.port = 80;
	in.weight = 0;
	EXPECT(ZKC_EBADARGUMENTS, p, zkc_service_reg_open(&reg, zk, p, &in));
	assert_int_equal(zkc_service_router_open(&r, zk, missing, NULL), ZKC_OK);
	EXPECT(ZKC_ENONODE, missing, zkc_service_route(&ep, r, "k", 1));
	EXPECT(ZKC_EBADARGUMENTS, NULL, zkc_service_route(&ep, r, "", 0));
	EXPECT(ZKC_EBADARGUMENTS, NULL, zkc_service_route_n(&ep, &n, 0, r, "k", 1));
	zkc_service_router_close(r);
	free(p);
	free(missing);
	end_group();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_calls_explain_their_failures),
		cmocka_unit_test(test_cache_pnode_multi_and_events_explain_their_failures),
		cmocka_unit_test(test_lock_semaphore_rwlock_explain_their_failures),
		cmocka_unit_test(test_election_and_barriers_explain_their_failures),
		cmocka_unit_test(test_queue_and_counter_explain_their_failures),
		cmocka_unit_test(test_index_explains_failures_by_key_and_collection),
		cmocka_unit_test(test_service_explains_its_failures),
	};

	return cmocka_run_group_tests_name("errors", tests, setup, teardown);
}
