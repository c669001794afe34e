/* tests/unit/test_without_k8s.c - a library configured with --disable-k8s
 * is whole without libcurl and libyaml: a zk+k8s:// URL is refused at once
 * with ZKC_EURL and a message that says why, never a crash or a wait.
 * Built only in such a build (Makefile.am: !HAVE_K8S). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "zkc.h"

static void refused(const char *url)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_t *zk = (zkc_t *)&o;   /* must come back NULL */
	int rc;

	o.connect_timeout_ms = 60000;   /* a wait would show as a hang, not a pass */
	rc = zkc_open(&zk, url, &o);
	assert_int_equal(rc, ZKC_EURL);
	assert_null(zk);
	assert_non_null(zkc_error_last());
	assert_non_null(strstr(zkc_error_last()->message, "built without Kubernetes support"));
}

static void test_k8s_url_is_refused_with_a_clear_error(void **state)
{
	(void)state;
	refused("zk+k8s://zk-hs.default:2181");
	refused("zks+k8s://zk-hs.default:2281?kubeconfig=/nonexistent");
}

/* The other providers' URLs still parse: a malformed one is refused for
 * its own reason, not for the missing provider. */
static void test_other_schemes_keep_their_own_errors(void **state)
{
	zkc_t *zk = NULL;
	(void)state;

	assert_int_equal(zkc_open(&zk, "zk://127.0.0.1:2181?no_such_option=1", NULL), ZKC_EURL);
	assert_null(zk);
	assert_null(strstr(zkc_error_last()->message, "Kubernetes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_k8s_url_is_refused_with_a_clear_error),
		cmocka_unit_test(test_other_schemes_keep_their_own_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
