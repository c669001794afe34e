/* tests/unit/test_error.c - status codes, their names, and the thread-local
 * last-error record (formatting, truncation, ZooKeeper code mapping). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zookeeper/zookeeper.h>

#include "internal.h"

/* Every code declared in common.h. */
static const int all_codes[] = {
	ZKC_OK, ZKC_ESYSTEM, ZKC_ERUNTIMEINCONSISTENCY, ZKC_EDATAINCONSISTENCY,
	ZKC_ECONNECTIONLOSS, ZKC_EMARSHALLING, ZKC_EUNIMPLEMENTED, ZKC_EOPERATIONTIMEOUT,
	ZKC_EBADARGUMENTS, ZKC_EINVALIDSTATE, ZKC_ENEWCONFIGNOQUORUM, ZKC_ERECONFIGINPROGRESS,
	ZKC_ESSLCONNECTION, ZKC_EAPI, ZKC_ENONODE, ZKC_ENOAUTH, ZKC_EBADVERSION,
	ZKC_ENOCHILDRENFOREPHEMERALS, ZKC_ENODEEXISTS, ZKC_ENOTEMPTY, ZKC_ESESSIONEXPIRED,
	ZKC_EINVALIDCALLBACK, ZKC_EINVALIDACL, ZKC_EAUTHFAILED, ZKC_ECLOSING, ZKC_ENOTHING,
	ZKC_ESESSIONMOVED, ZKC_ENOTREADONLY, ZKC_EEPHEMERALONLOCALSESSION, ZKC_ENOWATCHER,
	ZKC_ERECONFIGDISABLED, ZKC_ESESSIONCLOSEDREQUIRESASLAUTH, ZKC_ETHROTTLEDOP,
	ZKC_EUNKNOWN, ZKC_ETIMEDOUT, ZKC_ENOMEM, ZKC_EURL, ZKC_ECLOSED, ZKC_EDEADLK, ZKC_ETLS,
	ZKC_ETOOLARGE, ZKC_EOS, ZKC_ECANCELED, ZKC_ELOST, ZKC_ENOTSUP, ZKC_ERESOLVE, ZKC_EAGAIN,
	ZKC_ELOCKLOST,
};
#define NCODES (sizeof(all_codes) / sizeof(all_codes[0]))

/* Every code libzookeeper 3.8 defines, which must map to itself. */
static const int zk_codes[] = {
	ZSYSTEMERROR, ZRUNTIMEINCONSISTENCY, ZDATAINCONSISTENCY, ZCONNECTIONLOSS,
	ZMARSHALLINGERROR, ZUNIMPLEMENTED, ZOPERATIONTIMEOUT, ZBADARGUMENTS, ZINVALIDSTATE,
	ZNEWCONFIGNOQUORUM, ZRECONFIGINPROGRESS, ZSSLCONNECTIONERROR, ZAPIERROR, ZNONODE,
	ZNOAUTH, ZBADVERSION, ZNOCHILDRENFOREPHEMERALS, ZNODEEXISTS, ZNOTEMPTY,
	ZSESSIONEXPIRED, ZINVALIDCALLBACK, ZINVALIDACL, ZAUTHFAILED, ZCLOSING, ZNOTHING,
	ZSESSIONMOVED, ZNOTREADONLY, ZEPHEMERALONLOCALSESSION, ZNOWATCHER,
	ZRECONFIGDISABLED, ZSESSIONCLOSEDREQUIRESASLAUTH, ZTHROTTLEDOP,
};

static void every_code_has_a_distinct_name_and_text(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCODES; i++) {
		const char *name = zkc_strcode(all_codes[i]);
		const char *text = zkc_strerror(all_codes[i]);

		assert_non_null(name);
		assert_non_null(text);
		assert_int_equal(strncmp(name, "ZKC_", 4), 0);
		assert_string_not_equal(name, "ZKC_E?");
		assert_string_not_equal(text, "unknown error code");
		assert_true(strlen(text) > 0);
		for (size_t j = 0; j < i; j++) {
			assert_string_not_equal(name, zkc_strcode(all_codes[j]));
			assert_string_not_equal(text, zkc_strerror(all_codes[j]));
		}
	}
	assert_string_equal(zkc_strcode(ZKC_ENONODE), "ZKC_ENONODE");
	assert_string_equal(zkc_strcode(ZKC_EURL), "ZKC_EURL");
	assert_string_equal(zkc_strcode(ZKC_OK), "ZKC_OK");
}

static void unknown_code_still_gets_a_string(void **state)
{
	(void)state;
	assert_string_equal(zkc_strerror(-4242), "unknown error code");
	assert_string_equal(zkc_strcode(-4242), "ZKC_E?");
	assert_non_null(zkc_strerror(12345));
	assert_non_null(zkc_strcode(12345));
}

static void error_last_starts_empty_and_clear_resets_it(void **state)
{
	(void)state;
	const zkc_error_t *e = zkc_error_last();

	assert_non_null(e);
	assert_non_null(e->message);
	zkc__error(ZKC_ENONODE, "no node %s", "/x");
	zkc_error_clear();
	e = zkc_error_last();
	assert_int_equal(e->code, ZKC_OK);
	assert_string_equal(e->message, "");
}

static void error_records_code_and_formatted_message(void **state)
{
	(void)state;
	int rc = zkc__error(ZKC_ENONODE, "get %s: %d", "/a/b", 7);

	assert_int_equal(rc, ZKC_ENONODE);
	assert_int_equal(zkc_error_last()->code, ZKC_ENONODE);
	assert_string_equal(zkc_error_last()->message, "get /a/b: 7");
}

static void public_setter_records_like_the_library(void **state)
{
	(void)state;
	int rc = zkc_error_set(ZKC_EBADARGUMENTS, "queue %s: priority %d", "/q", 1000);

	assert_int_equal(rc, ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_error_last()->code, ZKC_EBADARGUMENTS);
	assert_string_equal(zkc_error_last()->message, "queue /q: priority 1000");
	/* wrapping the previous message, as recipes do with a core failure */
	zkc_error_set(ZKC_ETIMEDOUT, "lock: %s", zkc_error_last()->message);
	assert_string_equal(zkc_error_last()->message, "lock: queue /q: priority 1000");
}

static void error_may_wrap_the_previous_message(void **state)
{
	(void)state;
	/* The argument points into the buffer being written. */
	zkc__error(ZKC_EBADARGUMENTS, "inner %s", "cause");
	zkc__error(ZKC_EURL, "outer: %s", zkc_error_last()->message);
	assert_string_equal(zkc_error_last()->message, "outer: inner cause");
	assert_int_equal(zkc_error_last()->code, ZKC_EURL);
}

static void error_with_null_format_records_empty_message(void **state)
{
	(void)state;
	zkc__error(ZKC_EOS, "x");
	assert_int_equal(zkc__error(ZKC_ENOMEM, NULL), ZKC_ENOMEM);
	assert_string_equal(zkc_error_last()->message, "");
}

static void long_message_is_truncated_with_marker(void **state)
{
	(void)state;
	char *big = malloc(5000);
	size_t n;

	memset(big, 'x', 4999);
	big[4999] = '\0';
	zkc__error(ZKC_EBADARGUMENTS, "%s", big);
	n = strlen(zkc_error_last()->message);
	assert_true(n < 1024);
	assert_true(n > 900);
	assert_string_equal(zkc_error_last()->message + n - 3, "...");
	free(big);
}

/* A cut never leaves half a UTF-8 sequence before the "..." marker. */
static void truncation_keeps_utf8_whole(void **state)
{
	(void)state;
	for (int shift = 0; shift < 3; shift++) {
		char big[4000];
		size_t o = 0, n;
		const unsigned char *m;

		for (int i = 0; i < shift; i++)
			big[o++] = 'a';
		while (o + 3 < sizeof(big)) {
			memcpy(big + o, "\xe2\x82\xac", 3);  /* U+20AC */
			o += 3;
		}
		big[o] = '\0';
		zkc__error(ZKC_EBADARGUMENTS, "%s", big);
		m = (const unsigned char *)zkc_error_last()->message;
		n = strlen((const char *)m);
		assert_string_equal((const char *)m + n - 3, "...");
		/* walk the sequences: every lead byte has its continuations */
		for (size_t i = shift; i < n - 3; i += 3) {
			assert_int_equal(m[i], 0xe2);
			assert_true(i + 2 < n - 3);
		}
	}
}

static void zk_ok_maps_to_ok_without_recording(void **state)
{
	(void)state;
	zkc__error(ZKC_ENONODE, "kept");
	assert_int_equal(zkc__error_zk(ZOK, "get", "/a"), ZKC_OK);
	assert_string_equal(zkc_error_last()->message, "kept");
}

static void zk_codes_map_one_to_one_with_detail(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(zk_codes) / sizeof(zk_codes[0]); i++) {
		int rc = zkc__error_zk(zk_codes[i], "get", "/a/b");

		assert_int_equal(rc, zk_codes[i]);
		assert_int_equal(zkc_error_last()->code, zk_codes[i]);
		assert_string_not_equal(zkc_strcode(rc), "ZKC_E?");
	}
	zkc__error_zk(ZNONODE, "get", "/a/b");
	assert_string_equal(zkc_error_last()->message, "get /a/b: no node");
}

static void zk_unknown_code_maps_to_system_error(void **state)
{
	(void)state;
	assert_int_equal(zkc__error_zk(-999, "set", "/p"), ZKC_ESYSTEM);
	assert_int_equal(zkc_error_last()->code, ZKC_ESYSTEM);
	assert_non_null(strstr(zkc_error_last()->message, "-999"));
	assert_non_null(strstr(zkc_error_last()->message, "set /p"));
	/* -10 is not a ZooKeeper code even though zkc's range is close */
	assert_int_equal(zkc__error_zk(-10, "x", NULL), ZKC_ESYSTEM);
}

static void zk_error_without_op_or_path_still_reads(void **state)
{
	(void)state;
	zkc__error_zk(ZCONNECTIONLOSS, "sync", NULL);
	assert_string_equal(zkc_error_last()->message, "sync: connection loss");
	zkc__error_zk(ZCONNECTIONLOSS, NULL, NULL);
	assert_non_null(strstr(zkc_error_last()->message, "connection loss"));
}

/* ------------------------------------------------------------ threads */

struct worker {
	pthread_barrier_t *barrier;
	int id;
	int failures;
	int saw_empty_at_start;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char want[64];

	/* A new thread starts with no error, whatever other threads did. */
	w->saw_empty_at_start = zkc_error_last()->code == ZKC_OK &&
	                        zkc_error_last()->message[0] == '\0';
	pthread_barrier_wait(w->barrier);
	for (int i = 0; i < 20000; i++) {
		int code = w->id ? ZKC_ENONODE : ZKC_EURL;

		snprintf(want, sizeof(want), "thread %d iteration %d", w->id, i);
		zkc__error(code, "%s", want);
		if (i % 7 == 0)
			sched_yield();
		if (zkc_error_last()->code != code || strcmp(zkc_error_last()->message, want) != 0)
			w->failures++;
	}
	return NULL;
}

static void error_last_is_private_to_each_thread(void **state)
{
	(void)state;
	pthread_barrier_t barrier;
	struct worker w[2] = { { &barrier, 0, 0, 0 }, { &barrier, 1, 0, 0 } };
	pthread_t th[2];

	zkc__error(ZKC_ETLS, "main thread's error");
	pthread_barrier_init(&barrier, NULL, 2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&barrier);
	for (int i = 0; i < 2; i++) {
		assert_true(w[i].saw_empty_at_start);
		assert_int_equal(w[i].failures, 0);
	}
	assert_int_equal(zkc_error_last()->code, ZKC_ETLS);
	assert_string_equal(zkc_error_last()->message, "main thread's error");
}

/* ------------------------------------------------------------ memory, version */

static void free_helpers_accept_null_and_release_lists(void **state)
{
	(void)state;
	zkc_strings_t *list = malloc(sizeof(*list));

	zkc_free(NULL);
	zkc_strings_free(NULL);
	list->count = 2;
	list->items = malloc(2 * sizeof(char *));
	list->items[0] = strdup("a");
	list->items[1] = strdup("b");
	zkc_strings_free(list);  /* valgrind proves nothing leaks */
	zkc_free(strdup("x"));
}

static void version_matches_the_header_macros(void **state)
{
	(void)state;
	char want[32];

	snprintf(want, sizeof(want), "%d.%d.%d", ZKC_VERSION_MAJOR, ZKC_VERSION_MINOR,
	         ZKC_VERSION_PATCH);
	assert_string_equal(zkc_version(), want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_code_has_a_distinct_name_and_text),
		cmocka_unit_test(unknown_code_still_gets_a_string),
		cmocka_unit_test(error_last_starts_empty_and_clear_resets_it),
		cmocka_unit_test(error_records_code_and_formatted_message),
		cmocka_unit_test(error_may_wrap_the_previous_message),
		cmocka_unit_test(error_with_null_format_records_empty_message),
		cmocka_unit_test(long_message_is_truncated_with_marker),
		cmocka_unit_test(truncation_keeps_utf8_whole),
		cmocka_unit_test(zk_ok_maps_to_ok_without_recording),
		cmocka_unit_test(zk_codes_map_one_to_one_with_detail),
		cmocka_unit_test(zk_unknown_code_maps_to_system_error),
		cmocka_unit_test(zk_error_without_op_or_path_still_reads),
		cmocka_unit_test(error_last_is_private_to_each_thread),
		cmocka_unit_test(free_helpers_accept_null_and_release_lists),
		cmocka_unit_test(version_matches_the_header_macros),
		cmocka_unit_test(public_setter_records_like_the_library),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
