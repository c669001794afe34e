/* tests/integration/test_failover.c - writes through leader failures on a
 * real 3-node ensemble: every acknowledged write is there afterwards, none
 * fails within the retry budget, none is duplicated, and the session lives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

#define WRITES 1000
#define KILLS 3

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_writes_survive_leader_kills(void **state)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	char *base = h_path("loop"), *item, **acked;
	int64_t sid0 = 0, sid1 = 0, gaps[KILLS], t_kill = 0;
	int kill_at[KILLS] = { WRITES / 4, WRITES / 2, 3 * WRITES / 4 };
	int i, k = 0, killed = -1, pending_gap = 0;
	zkc_strings_t *kids = NULL;
	zkc_t *zk;
	size_t j;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	/* The session must outlive an election on a loaded 2-core machine. */
	o.session_timeout_ms = 20000;
	zk = h_open(NULL, &o);
	assert_int_equal(zkc_session(&sid0, NULL, NULL, zk), ZKC_OK);
	assert_int_equal(zkc_create(NULL, NULL, zk, base, NULL, 0, NULL), ZKC_OK);
	item = h_join(base, "w-");
	acked = calloc(WRITES, sizeof(*acked));
	assert_non_null(acked);
	co.mode = ZKC_PERSISTENT_SEQUENTIAL;
	co.flags = ZKC_CREATE_PROTECTED;

	for (i = 0; i < WRITES; i++) {
		char data[32];
		int rc;

		if (k < KILLS && i == kill_at[k]) {
			killed = h_leader();
			assert_true(killed >= 0);
			t_kill = h_now_ms();
			assert_int_equal(h_kill(killed), 0);
			pending_gap = 1;
		}
		snprintf(data, sizeof(data), "%d", i);
		rc = zkc_create(&acked[i], NULL, zk, item, data, strlen(data), &co);
		if (rc != ZKC_OK)
			fail_msg("write %d failed: %s: %s", i, zkc_strcode(rc), zkc_error_last()->message);
		if (pending_gap) {
			gaps[k++] = h_now_ms() - t_kill;
			pending_gap = 0;
			/* Back to three nodes before the next kill. */
			assert_int_equal(h_restart(killed), 0);
		}
		if (i % 50 == 0) {
			char *got = NULL;

			assert_int_equal(zkc_get(&got, NULL, NULL, zk, acked[i]), ZKC_OK);
			assert_string_equal(got, data);
			zkc_free(got);
		}
	}

	/* Every acknowledged write is present, exactly once. */
	assert_int_equal(zkc_children(&kids, NULL, zk, base), ZKC_OK);
	assert_int_equal(kids->count, WRITES);
	qsort(kids->items, kids->count, sizeof(char *), cmp_str);
	for (i = 0; i < WRITES; i++) {
		const char *name = strrchr(acked[i], '/') + 1;

		assert_non_null(bsearch(&name, kids->items, kids->count, sizeof(char *), cmp_str));
	}
	for (j = 1; j < kids->count; j++)
		assert_true(strcmp(kids->items[j - 1], kids->items[j]) != 0);
	assert_int_equal(zkc_session(&sid1, NULL, NULL, zk), ZKC_OK);
	assert_true(sid0 == sid1);

	qsort(gaps, KILLS, sizeof(gaps[0]), cmp_i64);
	print_message("# failover: %d writes, %d leader kills; kill -> next acknowledged write: "
	              "median %lld ms, max %lld ms; session 0x%llx kept\n", WRITES, KILLS,
	              (long long)gaps[KILLS / 2], (long long)gaps[KILLS - 1],
	              (unsigned long long)sid1);

	zkc_strings_free(kids);
	for (i = 0; i < WRITES; i++)
		zkc_free(acked[i]);
	free(acked);
	free(item);
	assert_int_equal(zkc_delete(zk, base, -1, ZKC_DELETE_RECURSIVE), ZKC_OK);
	zkc_close(zk);
	free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writes_survive_leader_kills),
	};

	return cmocka_run_group_tests(tests, h_setup_3, h_teardown);
}
