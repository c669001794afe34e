/* tests/integration/test_options.c - the one version policy of every options
 * struct, module by module: its _options_init fills versions 1..current and
 * refuses 0 and current+1 with a message, and the function that takes it
 * accepts 1..current against a real ensemble and refuses the others before
 * anything is sent. Also: what open copies (ACLs) may go right after it. */
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

/* The last failure was a refused version, and its message names `who`. */
static void assert_refused(int rc, const char *who)
{
	const zkc_error_t *e = zkc_error_last();

	assert_int_equal(rc, ZKC_EBADARGUMENTS);
	assert_int_equal(e->code, ZKC_EBADARGUMENTS);
	if (!strstr(e->message, who) || !strstr(e->message, "version"))
		fail_msg("message \"%s\" does not name %s and the version", e->message, who);
}

/* ------------------------------------------------------------ shared check */

static void test_shared_check_takes_one_to_current(void **state)
{
	(void)state;
	assert_int_equal(zkc_options_version_check("f", 1, 3), ZKC_OK);
	assert_int_equal(zkc_options_version_check("f", 3, 3), ZKC_OK);
	assert_refused(zkc_options_version_check("my_open", 0, 3), "my_open");
	assert_refused(zkc_options_version_check("my_open", 4, 3), "my_open");
	assert_refused(zkc_options_version_check("my_open", -7, 3), "my_open");
	assert_non_null(strstr(zkc_error_last()->message, "1..3"));
}

/* ------------------------------------------------------------ client */

static void test_client_options(void **state)
{
	zkc_options_t o;
	zkc_t *c = NULL;
	unsigned v;
	(void)state;

	assert_refused(zkc_options_init(&o, 0), "zkc_options_init");
	assert_refused(zkc_options_init(&o, ZKC_OPTIONS_VERSION + 1), "zkc_options_init");
	assert_refused(zkc_options_init(&o, (unsigned)-1), "zkc_options_init");
	assert_int_equal(zkc_options_init(NULL, ZKC_OPTIONS_VERSION), ZKC_EBADARGUMENTS);
	for (v = 1; v <= ZKC_OPTIONS_VERSION; v++) {
		/* a version 1 struct ends before `tls`: init must not write it */
		memset(&o, 0xab, sizeof(o));
		assert_int_equal(zkc_options_init(&o, v), ZKC_OK);
		assert_int_equal(o.version, (int)v);
		assert_int_equal(o.session_timeout_ms, 0);
		assert_null(o.chroot);
		if (v == 1)
			assert_true(*(const unsigned char *)&o.tls == 0xab);
		else
			assert_null(o.tls);
		assert_int_equal(zkc_open(&c, h_url(), &o), ZKC_OK);
		assert_int_equal(zkc_exists(NULL, c, "/"), ZKC_OK);
		zkc_close(c);
	}
	{
		zkc_options_t bad = ZKC_OPTIONS_INIT;

		bad.version = 0;
		assert_refused(zkc_open(&c, h_url(), &bad), "zkc_open");
		assert_null(c);
		bad.version = ZKC_OPTIONS_VERSION + 1;
		assert_refused(zkc_open(&c, h_url(), &bad), "zkc_open");
	}
}

static void test_create_options(void **state)
{
	zkc_create_options_t co;
	zkc_batch_t *b = NULL;
	char *p = h_path("create-opts");
	unsigned v;
	(void)state;

	assert_refused(zkc_create_options_init(&co, 0), "zkc_create_options_init");
	assert_refused(zkc_create_options_init(&co, ZKC_CREATE_OPTIONS_VERSION + 1),
	               "zkc_create_options_init");
	for (v = 1; v <= ZKC_CREATE_OPTIONS_VERSION; v++) {
		assert_int_equal(zkc_create_options_init(&co, v), ZKC_OK);
		assert_int_equal(co.mode, ZKC_PERSISTENT);
		co.mode = ZKC_EPHEMERAL;
		assert_int_equal(zkc_create(NULL, NULL, zk, p, NULL, 0, &co), ZKC_OK);
		assert_int_equal(zkc_delete(zk, p, -1, 0), ZKC_OK);
	}
	co.version = 0;
	assert_refused(zkc_create(NULL, NULL, zk, p, NULL, 0, &co), "zkc_create");
	co.version = ZKC_CREATE_OPTIONS_VERSION + 1;
	assert_refused(zkc_create(NULL, NULL, zk, p, NULL, 0, &co), "zkc_create");
	assert_int_equal(zkc_batch_new(&b), ZKC_OK);
	assert_refused(zkc_batch_create(b, p, NULL, 0, &co), "zkc_batch_create");
	co.version = ZKC_CREATE_OPTIONS_VERSION;
	assert_true(zkc_batch_create(b, p, NULL, 0, &co) >= 0);
	zkc_batch_free(b);
	assert_int_equal(zkc_exists(NULL, zk, p), ZKC_ENONODE);
	free(p);
}

static void test_retry_and_tls_options(void **state)
{
	zkc_retry_t r;
	zkc_tls_options_t t;
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_t *c = NULL;
	unsigned v;
	(void)state;

	assert_refused(zkc_retry_init(&r, 0), "zkc_retry_init");
	assert_refused(zkc_retry_init(&r, ZKC_RETRY_VERSION + 1), "zkc_retry_init");
	for (v = 1; v <= ZKC_RETRY_VERSION; v++) {
		assert_int_equal(zkc_retry_init(&r, v), ZKC_OK);
		assert_int_equal(r.deadline_ms, 30000);
		assert_int_equal(zkc_retry_validate(&r), ZKC_OK);
		assert_int_equal(zkc_set_retry(zk, &r), ZKC_OK);
	}
	r.version = ZKC_RETRY_VERSION + 1;
	assert_refused(zkc_retry_validate(&r), "retry");
	assert_refused(zkc_set_retry(zk, &r), "retry");

	assert_refused(zkc_tls_options_init(&t, 0), "zkc_tls_options_init");
	assert_refused(zkc_tls_options_init(&t, ZKC_TLS_OPTIONS_VERSION + 1),
	               "zkc_tls_options_init");
	for (v = 1; v <= ZKC_TLS_OPTIONS_VERSION; v++) {
		assert_int_equal(zkc_tls_options_init(&t, v), ZKC_OK);
		assert_int_equal(t.verify_host, 1);
		assert_null(t.ca_file);
	}
	/* refused at open, before any connection is tried */
	t.version = ZKC_TLS_OPTIONS_VERSION + 1;
	o.tls = &t;
	assert_refused(zkc_open(&c, h_url(), &o), "tls");
	t.version = 0;
	assert_refused(zkc_open(&c, h_url(), &o), "tls");
	assert_null(c);
}

/* ------------------------------------------------------------ recipes */

static void test_cache_options(void **state)
{
	zkc_cache_options_t o;
	zkc_cache_t *c = NULL;
	unsigned v;
	(void)state;

	assert_refused(zkc_cache_options_init(&o, 0), "zkc_cache_options_init");
	assert_refused(zkc_cache_options_init(&o, ZKC_CACHE_OPTIONS_VERSION + 1),
	               "zkc_cache_options_init");
	for (v = 1; v <= ZKC_CACHE_OPTIONS_VERSION; v++) {
		assert_int_equal(zkc_cache_options_init(&o, v), ZKC_OK);
		assert_int_equal(o.depth, ZKC_CACHE_DEPTH_ALL);
		assert_int_equal(o.data, 1);
		assert_int_equal(o.events, 1);
		o.depth = 0;
		assert_int_equal(zkc_cache_open(&c, zk, "/", &o), ZKC_OK);
		assert_int_equal(zkc_cache_wait_initialized(c, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
		zkc_cache_close(c);
	}
	o.version = 0;
	assert_refused(zkc_cache_open(&c, zk, "/", &o), "zkc_cache_open");
	o.version = ZKC_CACHE_OPTIONS_VERSION + 1;
	assert_refused(zkc_cache_open(&c, zk, "/", &o), "zkc_cache_open");
	assert_null(c);
}

static void test_lock_options(void **state)
{
	zkc_lock_options_t o;
	zkc_lock_t *lk = NULL;
	zkc_rwlock_t *rw = NULL;
	zkc_semaphore_t *s = NULL;
	zkc_semaphore_lease_t *l = NULL;
	char *p = h_path("lock-opts");
	unsigned v;
	(void)state;

	assert_refused(zkc_lock_options_init(&o, 0), "zkc_lock_options_init");
	assert_refused(zkc_lock_options_init(&o, ZKC_LOCK_OPTIONS_VERSION + 1),
	               "zkc_lock_options_init");
	for (v = 1; v <= ZKC_LOCK_OPTIONS_VERSION; v++) {
		assert_int_equal(zkc_lock_options_init(&o, v), ZKC_OK);
		assert_int_equal(o.flags, 0);
		assert_null(o.event_fn);
		assert_int_equal(zkc_lock_open(&lk, zk, p, &o), ZKC_OK);
		assert_int_equal(zkc_lock_acquire(NULL, lk, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
		assert_int_equal(zkc_lock_release(lk, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
		zkc_lock_close(lk);
		assert_int_equal(zkc_rwlock_open(&rw, zk, p, &o), ZKC_OK);
		zkc_rwlock_close(rw);
		assert_int_equal(zkc_semaphore_open(&s, zk, p, 1, &o), ZKC_OK);
		assert_int_equal(zkc_semaphore_acquire(&l, s, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
		assert_int_equal(zkc_semaphore_release(l, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
		zkc_semaphore_lease_free(l);
		zkc_semaphore_close(s);
	}
	o.version = 0;
	assert_refused(zkc_lock_open(&lk, zk, p, &o), "zkc_lock_open");
	assert_refused(zkc_rwlock_open(&rw, zk, p, &o), "zkc_rwlock_open");
	assert_refused(zkc_semaphore_open(&s, zk, p, 1, &o), "zkc_semaphore_open");
	o.version = ZKC_LOCK_OPTIONS_VERSION + 1;
	assert_refused(zkc_lock_open(&lk, zk, p, &o), "zkc_lock_open");
	assert_refused(zkc_rwlock_open(&rw, zk, p, &o), "zkc_rwlock_open");
	assert_refused(zkc_semaphore_open(&s, zk, p, 1, &o), "zkc_semaphore_open");
	assert_null(lk);
	assert_null(rw);
	assert_null(s);
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
}

static void test_queue_options(void **state)
{
	zkc_queue_options_t o;
	zkc_queue_t *q = NULL;
	char *p = h_path("queue-opts");
	unsigned v;
	(void)state;

	assert_refused(zkc_queue_options_init(&o, 0), "zkc_queue_options_init");
	assert_refused(zkc_queue_options_init(&o, ZKC_QUEUE_OPTIONS_VERSION + 1),
	               "zkc_queue_options_init");
	for (v = 1; v <= ZKC_QUEUE_OPTIONS_VERSION; v++) {
		assert_int_equal(zkc_queue_options_init(&o, v), ZKC_OK);
		assert_int_equal(o.bucket_size, 10000);
		o.flags = ZKC_QUEUE_CREATE;
		assert_int_equal(zkc_queue_open(&q, zk, p, &o), ZKC_OK);
		assert_int_equal(zkc_queue_put(NULL, q, "x", 1, ZKC_QUEUE_PRIORITY_DEFAULT), ZKC_OK);
		zkc_queue_close(q);
	}
	o.version = 0;
	assert_refused(zkc_queue_open(&q, zk, p, &o), "zkc_queue_open");
	o.version = ZKC_QUEUE_OPTIONS_VERSION + 1;
	assert_refused(zkc_queue_open(&q, zk, p, &o), "zkc_queue_open");
	assert_null(q);
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
}

static void test_counter_options(void **state)
{
	zkc_counter_options_t o;
	zkc_counter_t *c = NULL;
	char *p = h_path("counter-opts");
	int64_t val = 0;
	unsigned v;
	(void)state;

	assert_refused(zkc_counter_options_init(&o, 0), "zkc_counter_options_init");
	assert_refused(zkc_counter_options_init(&o, ZKC_COUNTER_OPTIONS_VERSION + 1),
	               "zkc_counter_options_init");
	for (v = 1; v <= ZKC_COUNTER_OPTIONS_VERSION; v++) {
		assert_int_equal(zkc_counter_options_init(&o, v), ZKC_OK);
		assert_int_equal(o.shards, 0);
		assert_int_equal(zkc_counter_open(&c, zk, p, &o), ZKC_OK);
		assert_int_equal(zkc_counter_add(&val, c, 2), ZKC_OK);
		zkc_counter_close(c);
	}
	assert_int_equal(val, 2 * ZKC_COUNTER_OPTIONS_VERSION);
	o.version = 0;
	assert_refused(zkc_counter_open(&c, zk, p, &o), "zkc_counter_open");
	o.version = ZKC_COUNTER_OPTIONS_VERSION + 1;
	assert_refused(zkc_counter_open(&c, zk, p, &o), "zkc_counter_open");
	assert_null(c);
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
}

static void test_election_options(void **state)
{
	zkc_election_options_t o;
	zkc_election_t *e = NULL;
	char *p = h_path("election-opts");
	unsigned v;
	(void)state;

	assert_refused(zkc_election_options_init(&o, 0), "zkc_election_options_init");
	assert_refused(zkc_election_options_init(&o, ZKC_ELECTION_OPTIONS_VERSION + 1),
	               "zkc_election_options_init");
	for (v = 1; v <= ZKC_ELECTION_OPTIONS_VERSION; v++) {
		assert_int_equal(zkc_election_options_init(&o, v), ZKC_OK);
		assert_int_equal(o.step_down, ZKC_ELECTION_STEP_DOWN_SUSPENDED);
		assert_int_equal(zkc_election_open(&e, zk, p, &o), ZKC_OK);
		assert_int_equal(zkc_election_join(e), ZKC_OK);
		assert_int_equal(zkc_election_await(NULL, e, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
		assert_int_equal(zkc_election_resign(e), ZKC_OK);
		zkc_election_close(e);
	}
	o.version = 0;
	assert_refused(zkc_election_open(&e, zk, p, &o), "zkc_election_open");
	o.version = ZKC_ELECTION_OPTIONS_VERSION + 1;
	assert_refused(zkc_election_open(&e, zk, p, &o), "zkc_election_open");
	assert_null(e);
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
}

static void test_index_options(void **state)
{
	static const zkc_index_field_t f[] = { { "name", 0 } };
	zkc_index_options_t o;
	zkc_index_t *ix = NULL;
	char *p = h_path("index-opts");
	unsigned v;
	(void)state;

	assert_int_equal(zkc_index_create(zk, p, f, 1), ZKC_OK);
	assert_refused(zkc_index_options_init(&o, 0), "zkc_index_options_init");
	assert_refused(zkc_index_options_init(&o, ZKC_INDEX_OPTIONS_VERSION + 1),
	               "zkc_index_options_init");
	for (v = 1; v <= ZKC_INDEX_OPTIONS_VERSION; v++) {
		assert_int_equal(zkc_index_options_init(&o, v), ZKC_OK);
		assert_int_equal(o.cache, 1);
		assert_int_equal(o.cache_records, 0);
		assert_int_equal(zkc_index_open(&ix, zk, p, &o), ZKC_OK);
		assert_int_equal(zkc_index_field_count(ix), 1);
		zkc_index_close(ix);
	}
	o.version = 0;
	assert_refused(zkc_index_open(&ix, zk, p, &o), "zkc_index_open");
	o.version = ZKC_INDEX_OPTIONS_VERSION + 1;
	assert_refused(zkc_index_open(&ix, zk, p, &o), "zkc_index_open");
	assert_null(ix);
	assert_int_equal(zkc_index_drop(zk, p), ZKC_OK);
	free(p);
}

static void test_service_options(void **state)
{
	zkc_service_router_options_t o;
	zkc_service_instance_t in;
	zkc_service_router_t *r = NULL;
	zkc_service_reg_t *reg = NULL;
	zkc_service_endpoint_t ep;
	char *p = h_path("service-opts");
	unsigned v;
	(void)state;

	assert_refused(zkc_service_instance_init(&in, 0), "zkc_service_instance_init");
	assert_refused(zkc_service_instance_init(&in, ZKC_SERVICE_INSTANCE_VERSION + 1),
	               "zkc_service_instance_init");
	assert_refused(zkc_service_router_options_init(&o, 0), "zkc_service_router_options_init");
	assert_refused(zkc_service_router_options_init(&o, ZKC_SERVICE_ROUTER_OPTIONS_VERSION + 1),
	               "zkc_service_router_options_init");
	for (v = 1; v <= ZKC_SERVICE_INSTANCE_VERSION; v++) {
		assert_int_equal(zkc_service_instance_init(&in, v), ZKC_OK);
		assert_int_equal(in.weight, 1);
		assert_true(in.metadata_len == (size_t)-1);
		in.id = "a";
		in.address = "127.0.0.1";
		in.port = 1;
		assert_int_equal(zkc_service_reg_open(&reg, zk, p, &in), ZKC_OK);
	}
	for (v = 1; v <= ZKC_SERVICE_ROUTER_OPTIONS_VERSION; v++) {
		assert_int_equal(zkc_service_router_options_init(&o, v), ZKC_OK);
		assert_int_equal(o.timeout_ms, 0);
		assert_int_equal(zkc_service_router_open(&r, zk, p, &o), ZKC_OK);
		assert_int_equal(zkc_service_route(&ep, r, "k", 1), ZKC_OK);
		assert_string_equal(ep.id, "a");
		zkc_service_router_close(r);
	}
	assert_int_equal(zkc_service_unregister(reg), ZKC_OK);
	zkc_service_reg_close(reg);
	reg = NULL;
	o.version = 0;
	assert_refused(zkc_service_router_open(&r, zk, p, &o), "zkc_service_router_open");
	o.version = ZKC_SERVICE_ROUTER_OPTIONS_VERSION + 1;
	assert_refused(zkc_service_router_open(&r, zk, p, &o), "zkc_service_router_open");
	assert_null(r);
	in.version = 0;
	assert_refused(zkc_service_reg_open(&reg, zk, p, &in), "service instance");
	in.version = ZKC_SERVICE_INSTANCE_VERSION + 1;
	assert_refused(zkc_service_reg_open(&reg, zk, p, &in), "service instance");
	assert_null(reg);
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	free(p);
}

/* ------------------------------------------------------------ copies */

/* A digest ACL whose strings and array are the caller's heap memory. */
static zkc_acl_list_t *heap_acl(void)
{
	zkc_acl_list_t *l = calloc(1, sizeof(*l));
	zkc_acl_t *e = calloc(1, sizeof(*e));
	char *id = NULL;

	assert_int_equal(zkc_acl_digest_id(&id, "alice", "secret"), ZKC_OK);
	e->perms = ZKC_PERM_ALL;
	e->scheme = strdup("digest");
	e->id = strdup(id);
	zkc_free(id);
	l->count = 1;
	l->acls = e;
	return l;
}

/* Scribbles over the caller's ACL and frees it, as a caller may once open
 * returned. */
static void trash_acl(zkc_acl_list_t *l)
{
	zkc_acl_t *e = (zkc_acl_t *)(uintptr_t)l->acls;

	memset((char *)(uintptr_t)e->scheme, 'X', strlen(e->scheme));
	memset((char *)(uintptr_t)e->id, 'X', strlen(e->id));
	free((char *)(uintptr_t)e->scheme);
	free((char *)(uintptr_t)e->id);
	memset(e, 0x5a, sizeof(*e));
	free(e);
	memset(l, 0x5a, sizeof(*l));
	free(l);
}

static void test_acl_given_at_open_may_go_right_after(void **state)
{
	zkc_options_t co = ZKC_OPTIONS_INIT;
	zkc_election_options_t eo = ZKC_ELECTION_OPTIONS_INIT;
	zkc_lock_options_t lo = ZKC_LOCK_OPTIONS_INIT;
	zkc_acl_list_t *a1 = heap_acl(), *a2 = heap_acl(), *copy = NULL;
	zkc_election_t *e = NULL;
	zkc_semaphore_t *s = NULL;
	zkc_semaphore_lease_t *l = NULL;
	char *ep = h_path("acl-election"), *sp = h_path("acl-semaphore"), *node = NULL;
	char *data = NULL;
	zkc_t *alice;
	(void)state;

	co.digest = "alice:secret";
	alice = h_open(NULL, &co);
	assert_non_null(alice);

	/* the copy itself */
	assert_int_equal(zkc_acl_list_copy(&copy, a1), ZKC_OK);
	assert_int_equal(copy->count, 1);
	assert_ptr_not_equal(copy->acls, a1->acls);
	assert_string_equal(copy->acls[0].scheme, "digest");
	zkc_acl_list_free(copy);
	assert_int_equal(zkc_acl_list_copy(&copy, NULL), ZKC_OK);
	assert_null(copy);
	zkc_acl_list_free(NULL);

	eo.acl = a1;
	eo.id = "alice";
	assert_int_equal(zkc_election_open(&e, alice, ep, &eo), ZKC_OK);
	trash_acl(a1);
	lo.acl = a2;
	assert_int_equal(zkc_semaphore_open(&s, alice, sp, 1, &lo), ZKC_OK);
	trash_acl(a2);

	/* both still create their nodes with alice's ACL: alice reads them,
	 * a client without her credentials may not */
	assert_int_equal(zkc_election_join(e), ZKC_OK);
	assert_int_equal(zkc_election_await(NULL, e, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_int_equal(zkc_election_node(&node, e), ZKC_OK);
	assert_int_equal(zkc_get(&data, NULL, NULL, alice, node), ZKC_OK);
	assert_string_equal(data, "alice");
	zkc_free(data);
	data = NULL;
	assert_int_equal(zkc_get(&data, NULL, NULL, zk, node), ZKC_ENOAUTH);
	zkc_free(node);

	assert_int_equal(zkc_semaphore_acquire(&l, s, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
	assert_int_equal(zkc_get(&data, NULL, NULL, alice, zkc_semaphore_lease_path(l)), ZKC_OK);
	zkc_free(data);
	data = NULL;
	assert_int_equal(zkc_get(&data, NULL, NULL, zk, zkc_semaphore_lease_path(l)), ZKC_ENOAUTH);

	assert_int_equal(zkc_semaphore_release(l, ZKC_LOCK_RELEASE_SYNC), ZKC_OK);
	zkc_semaphore_lease_free(l);
	zkc_semaphore_close(s);
	assert_int_equal(zkc_election_resign(e), ZKC_OK);
	zkc_election_close(e);
	zkc_delete(alice, ep, -1, ZKC_DELETE_RECURSIVE);
	zkc_delete(alice, sp, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(alice);
	free(ep);
	free(sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_check_takes_one_to_current),
		cmocka_unit_test(test_client_options),
		cmocka_unit_test(test_create_options),
		cmocka_unit_test(test_retry_and_tls_options),
		cmocka_unit_test(test_cache_options),
		cmocka_unit_test(test_lock_options),
		cmocka_unit_test(test_queue_options),
		cmocka_unit_test(test_counter_options),
		cmocka_unit_test(test_election_options),
		cmocka_unit_test(test_index_options),
		cmocka_unit_test(test_service_options),
		cmocka_unit_test(test_acl_given_at_open_may_go_right_after),
	};

	return cmocka_run_group_tests_name("options", tests, setup, teardown);
}
