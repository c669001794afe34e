/* tests/integration/test_acl.c - reading and writing node ACLs against a
 * real server: the default ACL as it comes back, a digest ACL set and read
 * back, the aversion check, what a client without the credentials meets,
 * and bad input. */
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

/* The code returned and zkc_error_last() agree, and the message says which
 * node. */
static void assert_error(int rc, int code, const char *path)
{
	assert_int_equal(rc, code);
	assert_int_equal(zkc_error_last()->code, code);
	assert_non_null(strstr(zkc_error_last()->message, path));
}

static void test_new_node_has_the_open_acl(void **state)
{
	char *p = h_path("open");
	zkc_acl_list_t *acl = NULL;
	zkc_stat_t st;
	(void)state;

	assert_int_equal(zkc_create(NULL, NULL, zk, p, "x", 1, NULL), ZKC_OK);
	assert_int_equal(zkc_acl_get(&acl, &st, zk, p), ZKC_OK);
	assert_non_null(acl);
	assert_int_equal(acl->count, 1);
	assert_string_equal(acl->acls[0].scheme, "world");
	assert_string_equal(acl->acls[0].id, "anyone");
	assert_int_equal(acl->acls[0].perms, ZKC_PERM_ALL);
	assert_int_equal(st.aversion, 0);
	assert_int_equal(st.data_length, 1);
	zkc_acl_list_free(acl);
	free(p);
}

static void test_digest_acl_is_set_read_back_and_enforced(void **state)
{
	char *p = h_path("digest"), *id = NULL, *data = NULL;
	zkc_acl_list_t *got = NULL;
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_stat_t st;
	zkc_t *alice, *stranger;
	zkc_acl_t entries[2];
	zkc_acl_list_t list = { 2, entries };
	(void)state;

	assert_int_equal(zkc_acl_digest_id(&id, "alice", "s3cret"), ZKC_OK);
	entries[0] = (zkc_acl_t){ ZKC_PERM_ALL, "digest", id };
	entries[1] = (zkc_acl_t){ ZKC_PERM_READ, "world", "anyone" };
	assert_int_equal(zkc_create(NULL, NULL, zk, p, "v", 1, NULL), ZKC_OK);
	assert_int_equal(zkc_acl_set(zk, p, 0, &list), ZKC_OK);

	/* without ADMIN on the node the server hides the digest's hash */
	assert_int_equal(zkc_acl_get(&got, &st, zk, p), ZKC_OK);
	assert_int_equal(got->count, 2);
	assert_string_equal(got->acls[0].scheme, "digest");
	assert_string_equal(got->acls[0].id, "alice:x");
	assert_int_equal(got->acls[0].perms, ZKC_PERM_ALL);
	assert_string_equal(got->acls[1].scheme, "world");
	assert_int_equal(got->acls[1].perms, ZKC_PERM_READ);
	assert_int_equal(st.aversion, 1);
	zkc_acl_list_free(got);

	/* a client without alice's password may read, not write */
	stranger = h_open(NULL, NULL);
	assert_int_equal(zkc_get(&data, NULL, NULL, stranger, p), ZKC_OK);
	zkc_free(data);
	assert_error(zkc_set(NULL, stranger, p, "w", 1, -1), ZKC_ENOAUTH, p);
	assert_error(zkc_acl_set(stranger, p, -1, zkc_acl_open()), ZKC_ENOAUTH, p);
	zkc_close(stranger);

	/* alice may change it back */
	o.digest = "alice:s3cret";
	alice = h_open(NULL, &o);
	assert_int_equal(zkc_acl_get(&got, NULL, alice, p), ZKC_OK);
	assert_string_equal(got->acls[0].id, id);   /* she has ADMIN: the whole id */
	zkc_acl_list_free(got);
	/* the aversion is an equality token (ADMIN is checked first) */
	assert_error(zkc_acl_set(alice, p, 0, &list), ZKC_EBADVERSION, p);
	assert_int_equal(zkc_set(NULL, alice, p, "w", 1, -1), ZKC_OK);
	assert_int_equal(zkc_acl_set(alice, p, -1, zkc_acl_open()), ZKC_OK);
	zkc_close(alice);
	assert_int_equal(zkc_set(NULL, zk, p, "z", 1, -1), ZKC_OK);
	zkc_free(id);
	free(p);
}

static void test_missing_node_and_bad_input(void **state)
{
	char *p = h_path("missing");
	zkc_acl_list_t *acl = (zkc_acl_list_t *)1;
	zkc_acl_list_t empty = { 0, NULL };
	zkc_acl_t bad = { 0, "world", "anyone" };
	zkc_acl_list_t badlist = { 1, &bad };
	(void)state;

	assert_error(zkc_acl_get(&acl, NULL, zk, p), ZKC_ENONODE, p);
	assert_null(acl);
	assert_error(zkc_acl_set(zk, p, -1, zkc_acl_open()), ZKC_ENONODE, p);
	assert_int_equal(zkc_create(NULL, NULL, zk, p, NULL, 0, NULL), ZKC_OK);
	assert_error(zkc_acl_set(zk, p, -1, &empty), ZKC_EBADARGUMENTS, p);
	assert_int_equal(zkc_acl_set(zk, p, -1, NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_acl_set(zk, p, -1, &badlist), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_acl_set(zk, p, -2, zkc_acl_open()), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_acl_get(NULL, NULL, zk, p), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_acl_get(&acl, NULL, zk, "no-slash"), ZKC_EBADARGUMENTS);
	zkc_acl_list_free(NULL);
	free(p);
}

static void test_batch_reads_acls_pipelined(void **state)
{
	char *p = h_path("batch"), *missing = h_path("batch-missing");
	zkc_batch_t *b = NULL;
	const zkc_acl_list_t *acl;
	zkc_stat_t st;
	int a, m, g;
	(void)state;

	assert_int_equal(zkc_create(NULL, NULL, zk, p, "d", 1, NULL), ZKC_OK);
	assert_int_equal(zkc_acl_set(zk, p, -1, zkc_acl_read_only()), ZKC_OK);
	assert_int_equal(zkc_batch_new(&b), ZKC_OK);
	a = zkc_batch_get_acl(b, p);
	m = zkc_batch_get_acl(b, missing);
	g = zkc_batch_get(b, p, 0, NULL, NULL);
	assert_true(a == 0 && m == 1 && g == 2);
	assert_int_equal(zkc_batch_run(zk, b), ZKC_OK);
	assert_int_equal(zkc_batch_code(b, (size_t)a), ZKC_OK);
	acl = zkc_batch_acl(b, (size_t)a);
	assert_non_null(acl);
	assert_int_equal(acl->count, 1);
	assert_string_equal(acl->acls[0].scheme, "world");
	assert_int_equal(acl->acls[0].perms, ZKC_PERM_READ);
	assert_int_equal(zkc_batch_stat(&st, b, (size_t)a), ZKC_OK);
	assert_int_equal(st.aversion, 1);
	assert_int_equal(zkc_batch_code(b, (size_t)m), ZKC_ENONODE);
	assert_null(zkc_batch_acl(b, (size_t)m));
	assert_null(zkc_batch_acl(b, (size_t)g));   /* not an ACL op */
	assert_int_equal(zkc_batch_get_acl(b, "bad"), ZKC_EBADARGUMENTS);
	zkc_batch_free(b);
	free(missing);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_node_has_the_open_acl),
		cmocka_unit_test(test_digest_acl_is_set_read_back_and_enforced),
		cmocka_unit_test(test_missing_node_and_bad_input),
		cmocka_unit_test(test_batch_reads_acls_pipelined),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
