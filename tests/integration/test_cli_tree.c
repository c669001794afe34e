/* tests/integration/test_cli_tree.c - the `zkc` subtree and ACL commands
 * against a real ensemble: dump, load, cp and diff agree with each other
 * and with the server (data bytes, ACLs, what is skipped), du, find and grep
 * report what is there, and each failure has its documented exit code. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run(char **out, const char *fmt, ...)
{
	char args[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return h_run_zkc(out, h_url(), args);
}

static void mk(const char *path, const void *data, size_t len)
{
	zkc_create_options_t o = ZKC_CREATE_OPTIONS_INIT;

	o.flags = ZKC_CREATE_PARENTS;
	assert_int_equal(zkc_create(NULL, NULL, zk, path, data, len, &o), ZKC_OK);
}

/* A small tree: text, binary and empty data, a read-only node, an
 * ephemeral one. */
static char *small_tree(const char *name)
{
	char *root = h_path(name), p[512];
	zkc_create_options_t eph = ZKC_CREATE_OPTIONS_INIT;

	snprintf(p, sizeof(p), "%s/conf/db", root);
	mk(p, "host=a", 6);
	snprintf(p, sizeof(p), "%s/conf/blob", root);
	mk(p, "b\0i\377n", 5);
	snprintf(p, sizeof(p), "%s/conf/ro", root);
	mk(p, "Needle in here", 14);
	assert_int_equal(zkc_acl_set(zk, p, -1, zkc_acl_read_only()), ZKC_OK);
	snprintf(p, sizeof(p), "%s/live", root);
	eph.mode = ZKC_EPHEMERAL;
	assert_int_equal(zkc_create(NULL, NULL, zk, p, "me", 2, &eph), ZKC_OK);
	return root;
}

static void test_dump_load_diff_round_trip(void **state)
{
	char *src = small_tree("dump"), *dst = h_path("dump-copy"), file[] = "/tmp/zkc-dumpXXXXXX";
	char *out = NULL, p[512], *data = NULL;
	zkc_acl_list_t *acl = NULL;
	size_t len;
	int fd = mkstemp(file);
	(void)state;

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(run(NULL, "dump %s > %s", src, file), 0);
	assert_int_equal(run(&out, "load --to %s %s 2>&1", dst, file), 0);
	assert_non_null(strstr(out, "skipped 1 ephemeral node"));
	free(out);

	/* bytes and ACLs as they were; the ephemeral node was not recreated */
	snprintf(p, sizeof(p), "%s/conf/blob", dst);
	assert_int_equal(zkc_get(&data, &len, NULL, zk, p), ZKC_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(data, "b\0i\377n", 5);
	zkc_free(data);
	snprintf(p, sizeof(p), "%s/conf/ro", dst);
	assert_int_equal(zkc_acl_get(&acl, NULL, zk, p), ZKC_OK);
	assert_int_equal(acl->count, 1);
	assert_int_equal(acl->acls[0].perms, ZKC_PERM_READ);
	zkc_acl_list_free(acl);
	snprintf(p, sizeof(p), "%s/live", dst);
	assert_int_equal(zkc_exists(NULL, zk, p), ZKC_ENONODE);

	/* diff sees only the ephemeral node, then a data change */
	assert_int_equal(run(&out, "diff %s %s", src, dst), 1);
	assert_non_null(strstr(out, "only in"));
	assert_non_null(strstr(out, "/live"));
	free(out);
	snprintf(p, sizeof(p), "%s/live", src);
	assert_int_equal(zkc_delete(zk, p, -1, 0), ZKC_OK);
	assert_int_equal(run(&out, "diff %s %s", src, dst), 0);
	assert_string_equal(out, "");
	free(out);
	snprintf(p, sizeof(p), "%s/conf/db", dst);
	assert_int_equal(zkc_set(NULL, zk, p, "host=b", 6, -1), ZKC_OK);
	assert_int_equal(run(&out, "diff %s %s", src, dst), 1);
	assert_non_null(strstr(out, "data differs"));
	assert_non_null(strstr(out, "/conf/db"));
	free(out);

	/* loading again: the nodes exist (exit 4) */
	assert_int_equal(run(NULL, "load --to %s %s 2>/dev/null", dst, file), 4);
	unlink(file);
	free(src);
	free(dst);
}

static void test_cp_copies_a_large_tree_pipelined(void **state)
{
	char *src = h_path("big"), *dst = h_path("big-copy"), *out = NULL, p[512];
	zkc_batch_t *b = NULL;
	zkc_stat_t st;
	int i;
	(void)state;

	/* 20 directories of 100 nodes */
	mk(src, "", 0);
	assert_int_equal(zkc_batch_new(&b), ZKC_OK);
	for (i = 0; i < 20; i++) {
		snprintf(p, sizeof(p), "%s/d%02d", src, i);
		assert_true(zkc_batch_create(b, p, "dir", 3, NULL) >= 0);
	}
	for (i = 0; i < 2000; i++) {
		char v[32];

		snprintf(p, sizeof(p), "%s/d%02d/n%04d", src, i % 20, i);
		snprintf(v, sizeof(v), "value-%d", i);
		assert_true(zkc_batch_create(b, p, v, strlen(v), NULL) >= 0);
	}
	assert_int_equal(zkc_batch_run(zk, b), ZKC_OK);
	for (i = 0; i < (int)zkc_batch_count(b); i++)
		assert_int_equal(zkc_batch_code(b, (size_t)i), ZKC_OK);
	zkc_batch_free(b);

	assert_int_equal(run(NULL, "cp %s %s", src, dst), 0);
	assert_int_equal(run(&out, "diff %s %s", src, dst), 0);
	free(out);
	snprintf(p, sizeof(p), "%s/d07", dst);
	assert_int_equal(zkc_exists(&st, zk, p), ZKC_OK);
	assert_int_equal(st.num_children, 100);
	assert_int_equal(run(&out, "du %s", dst), 0);
	assert_non_null(strstr(out, " 2021 "));   /* 1 + 20 + 2000 nodes in the total */
	free(out);

	/* through a second connection (--to-url), into an existing tree: exit 4 */
	assert_int_equal(run(NULL, "cp --to-url '%s' %s %s 2>/dev/null", h_url(), src, dst), 4);
	/* into its own subtree: refused before anything is written */
	assert_int_equal(run(NULL, "cp %s %s/d00/x 2>/dev/null", src, src), 2);
	free(src);
	free(dst);
}

static void test_du_find_grep_report_what_is_there(void **state)
{
	char *root = small_tree("look"), *out = NULL;
	(void)state;

	assert_int_equal(run(&out, "du %s", root), 0);
	/* conf: 4 nodes (conf, db, blob, ro), 6 + 5 + 14 bytes */
	assert_non_null(strstr(out, "          25         4 "));
	free(out);
	assert_int_equal(run(&out, "du --json %s", root), 0);
	assert_non_null(strstr(out, "\"nodes\": 6"));
	free(out);
	assert_int_equal(run(&out, "find --name 'b*' %s", root), 0);
	assert_non_null(strstr(out, "/conf/blob\n"));
	assert_null(strstr(out, "/conf/db"));
	free(out);
	assert_int_equal(run(&out, "grep -i needle %s", root), 0);
	assert_non_null(strstr(out, "/conf/ro: Needle in here"));
	free(out);
	assert_int_equal(run(NULL, "grep nothing-like-this %s", root), 3);
	/* ZooKeeper's own nodes are never walked */
	assert_int_equal(run(&out, "find / | grep -c '^/zookeeper'"), 1);
	assert_string_equal(out, "0\n");
	free(out);
	assert_int_equal(run(NULL, "du %s/missing 2>/dev/null", root), 3);
	assert_int_equal(run(NULL, "du no-slash 2>/dev/null"), 2);
	assert_int_equal(run(NULL, "find --bogus %s 2>/dev/null", root), 2);
	free(root);
}

static void test_acl_get_and_set(void **state)
{
	char *p = h_path("acl"), *out = NULL;
	(void)state;

	mk(p, "x", 1);
	assert_int_equal(run(&out, "acl get %s", p), 0);
	assert_string_equal(out, "world:anyone:cdrwa\n");
	free(out);
	assert_int_equal(run(NULL, "acl set %s world:anyone:rwa", p), 0);
	assert_int_equal(run(&out, "acl get --json %s", p), 0);
	assert_non_null(strstr(out, "\"aversion\": 1"));
	assert_non_null(strstr(out, "\"perms\": \"rwa\""));
	free(out);
	/* the aversion is 1 now (ADMIN kept, so the version is what fails) */
	assert_int_equal(run(NULL, "acl set --version 0 %s world:anyone:r 2>/dev/null", p), 5);
	assert_int_equal(run(NULL, "acl set --version 1 %s world:anyone:r", p), 0);
	/* without ADMIN nothing more can be changed: a server refusal, exit 6 */
	assert_int_equal(run(NULL, "acl set %s world:anyone:cdrwa 2>/dev/null", p), 6);
	assert_int_equal(run(NULL, "acl set %s world:anyone:xyz 2>/dev/null", p), 2);
	assert_int_equal(run(NULL, "acl set %s nocolons 2>/dev/null", p), 2);
	assert_int_equal(run(NULL, "acl get %s-missing 2>/dev/null", p), 3);
	free(p);
}

static void test_hidden_digest_hashes_are_never_written_back(void **state)
{
	char *p = h_path("hidden"), *copy = h_path("hidden-copy"), *id = NULL, *out = NULL;
	char file[] = "/tmp/zkc-hiddenXXXXXX";
	zkc_acl_t e[2];
	zkc_acl_list_t list = { 2, e };
	int fd = mkstemp(file);
	(void)state;

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(zkc_acl_digest_id(&id, "alice", "pw"), ZKC_OK);
	e[0] = (zkc_acl_t){ ZKC_PERM_ALL, "digest", id };
	e[1] = (zkc_acl_t){ ZKC_PERM_READ, "world", "anyone" };
	mk(p, "secret", 6);
	assert_int_equal(zkc_acl_set(zk, p, -1, &list), ZKC_OK);
	/* this client reads "alice:x": dump warns, load and cp refuse */
	assert_int_equal(run(&out, "dump %s 2>&1 > %s", p, file), 0);
	assert_non_null(strstr(out, "hid the digest hash of 1 node"));
	free(out);
	assert_int_equal(run(&out, "load --to %s %s 2>&1", copy, file), 2);
	assert_non_null(strstr(out, "ADMIN"));
	free(out);
	assert_int_equal(run(NULL, "cp %s %s 2>/dev/null", p, copy), 6);
	assert_int_equal(zkc_exists(NULL, zk, copy), ZKC_ENONODE);
	unlink(file);
	zkc_free(id);
	free(copy);
	free(p);
}

static void test_load_refuses_what_is_not_a_dump(void **state)
{
	char *out = NULL;
	(void)state;

	assert_int_equal(run(&out, "load --to /x < /dev/null 2>&1"), 2);
	assert_non_null(strstr(out, "not JSON"));
	free(out);
	assert_int_equal(run(&out, "load --to /x 2>&1 <<'EOF'\n{\"nodes\": []}\nEOF"), 2);
	assert_non_null(strstr(out, "not a zkc dump"));
	free(out);
	assert_int_equal(run(&out, "load --to /x 2>&1 <<'EOF'\n{\"zkc_dump\": 1, \"root\": \"/a\", "
	                 "\"nodes\": [{\"path\": \"\", \"data_b64\": \"@@@\"}]}\nEOF"), 2);
	assert_non_null(strstr(out, "base64"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_load_diff_round_trip),
		cmocka_unit_test(test_cp_copies_a_large_tree_pipelined),
		cmocka_unit_test(test_du_find_grep_report_what_is_there),
		cmocka_unit_test(test_acl_get_and_set),
		cmocka_unit_test(test_hidden_digest_hashes_are_never_written_back),
		cmocka_unit_test(test_load_refuses_what_is_not_a_dump),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
