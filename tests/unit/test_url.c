/* tests/unit/test_url.c - the connection URL parser: schemes, hosts, IPv6,
 * chroot, every query option, every rejection and its message, and the
 * redaction that keeps secrets out of messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static zkc__url_t *parse_ok(const char *url)
{
	zkc__url_t *u = NULL;

	if (zkc__url_parse(&u, url) != ZKC_OK)
		fail_msg("\"%s\" rejected: %s", url, zkc_error_last()->message);
	assert_non_null(u);
	return u;
}

/* Asserts ZKC_EURL, *out NULL, and a message holding both fragments. */
static void expect_eurl(const char *url, const char *frag1, const char *frag2)
{
	zkc__url_t *u = (zkc__url_t *)(uintptr_t)1;

	zkc_error_clear();
	if (zkc__url_parse(&u, url) != ZKC_EURL)
		fail_msg("\"%s\" not rejected with ZKC_EURL", url);
	assert_null(u);
	assert_int_equal(zkc_error_last()->code, ZKC_EURL);
	if ((frag1 && !strstr(zkc_error_last()->message, frag1)) ||
	    (frag2 && !strstr(zkc_error_last()->message, frag2)))
		fail_msg("message for \"%s\" is \"%s\", lacks \"%s\" / \"%s\"", url,
		         zkc_error_last()->message, frag1 ? frag1 : "", frag2 ? frag2 : "");
}

static void expect_no(const char *secret)
{
	if (strstr(zkc_error_last()->message, secret))
		fail_msg("message leaks \"%s\": %s", secret, zkc_error_last()->message);
}

/* ------------------------------------------------------------ schemes and hosts */

static void static_url_gives_hosts_and_ports(void **state)
{
	(void)state;
	zkc__url_t *u = parse_ok("zk://h1:2181,h2.example.com:2182,10.0.0.3:1");
	char *hs;

	assert_int_equal(u->scheme, ZKC__SCHEME_STATIC);
	assert_int_equal(u->tls, 0);
	assert_int_equal(u->nhosts, 3);
	assert_string_equal(u->hosts[0].host, "h1");
	assert_int_equal(u->hosts[0].port, 2181);
	assert_string_equal(u->hosts[1].host, "h2.example.com");
	assert_int_equal(u->hosts[1].port, 2182);
	assert_string_equal(u->hosts[2].host, "10.0.0.3");
	assert_int_equal(u->hosts[2].port, 1);
	assert_null(u->chroot);
	hs = zkc__url_hosts_string(u);
	assert_string_equal(hs, "h1:2181,h2.example.com:2182,10.0.0.3:1");
	free(hs);
	zkc__url_free(u);
}

static void missing_port_defaults_to_2181(void **state)
{
	(void)state;
	zkc__url_t *u = parse_ok("zk://zk-0.zk-hs,zk-1.zk-hs:3000");

	assert_int_equal(u->hosts[0].port, 2181);
	assert_int_equal(u->hosts[1].port, 3000);
	zkc__url_free(u);
}

static void unset_options_have_their_defaults(void **state)
{
	(void)state;
	zkc__url_t *u = parse_ok("zk://h");

	assert_int_equal(u->session_timeout_ms, 0);
	assert_int_equal(u->connect_timeout_ms, 0);
	assert_int_equal(u->retry.version, 0);
	assert_null(u->digest);
	assert_null(u->dns_server);
	assert_int_equal(u->dns_port, 53);
	assert_int_equal(u->dns_interval_ms, 0);
	assert_int_equal(u->read_only, 0);
	assert_null(u->tls_ca);
	assert_int_equal(u->tls_verify_host, 1);
	assert_null(u->k8s_kubeconfig);
	assert_int_equal(u->k8s_include_not_ready, 0);
	zkc__url_free(u);
}

static void ipv6_literals_need_brackets_and_lose_them(void **state)
{
	(void)state;
	zkc__url_t *u;
	char *hs;

	expect_eurl("zk://[fe80::1%25]:1", "invalid IPv6", NULL);  /* no zone ids */

	u = parse_ok("zk://[::1]:2181,[2001:db8::7],127.0.0.1:3");
	assert_int_equal(u->nhosts, 3);
	assert_string_equal(u->hosts[0].host, "::1");
	assert_int_equal(u->hosts[0].port, 2181);
	assert_string_equal(u->hosts[1].host, "2001:db8::7");
	assert_int_equal(u->hosts[1].port, 2181);
	hs = zkc__url_hosts_string(u);
	assert_string_equal(hs, "::1:2181,2001:db8::7:2181,127.0.0.1:3");
	free(hs);
	zkc__url_free(u);
}

static void bad_ipv6_forms_are_rejected(void **state)
{
	(void)state;
	expect_eurl("zk://::1:2181", "must be in brackets", "[::1]:2181");
	expect_eurl("zk://[::1:2181", "missing ']'", "at offset 5");
	expect_eurl("zk://[::g]:1", "invalid IPv6 address", "[::g]:1");
	expect_eurl("zk://[]:1", "invalid IPv6", NULL);
	expect_eurl("zk://[::1]x", "expected ':' after ']'", "at offset 10");
	expect_eurl("zk://[::1]:", "missing port", NULL);
	expect_eurl("zk://[::1]:0", "out of range", NULL);
	expect_eurl("zk://[1.2.3.4]", "invalid IPv6", NULL);
}

static void every_scheme_is_recognised(void **state)
{
	(void)state;
	struct {
		const char *url;
		int scheme, tls;
	} cases[] = {
		{ "zk://h", ZKC__SCHEME_STATIC, 0 },
		{ "zks://h", ZKC__SCHEME_STATIC, 1 },
		{ "zk+dns://h", ZKC__SCHEME_DNS, 0 },
		{ "zks+dns://h", ZKC__SCHEME_DNS, 1 },
		{ "zk+srv://_client._tcp.zk", ZKC__SCHEME_SRV, 0 },
		{ "zks+srv://_client._tcp.zk", ZKC__SCHEME_SRV, 1 },
		{ "zk+k8s://zk-hs.ns", ZKC__SCHEME_K8S, 0 },
		{ "zks+k8s://zk-hs.ns", ZKC__SCHEME_K8S, 1 },
		{ "ZK://h", ZKC__SCHEME_STATIC, 0 },
		{ "Zks+DNS://h", ZKC__SCHEME_DNS, 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		zkc__url_t *u = parse_ok(cases[i].url);
		assert_int_equal(u->scheme, cases[i].scheme);
		assert_int_equal(u->tls, cases[i].tls);
		zkc__url_free(u);
	}
}

static void unknown_or_missing_scheme_is_rejected(void **state)
{
	(void)state;
	expect_eurl("http://h:2181", "unknown scheme \"http\"", "zk+k8s");
	expect_eurl("zk+foo://h", "unknown scheme \"zk+foo\"", NULL);
	expect_eurl("://h", "unknown scheme \"\"", NULL);
	expect_eurl("h1:2181,h2:2181", "missing scheme", NULL);
	expect_eurl("zk:/h", "missing scheme", NULL);
}

static void empty_hosts_are_rejected_where_they_are(void **state)
{
	(void)state;
	expect_eurl("zk://", "no hosts", "at offset 5");
	expect_eurl("zk:///app", "no hosts", NULL);
	expect_eurl("zk://?read_only=1", "no hosts", NULL);
	expect_eurl("zk://a,,b", "empty host", "at offset 7");
	expect_eurl("zk://a,", "empty host", "at offset 7");
	expect_eurl("zk://,a", "empty host", "at offset 5");
	expect_eurl("zk://:2181", "empty host", NULL);
}

static void bad_ports_are_rejected(void **state)
{
	(void)state;
	zkc__url_t *u;

	expect_eurl("zk://h:", "missing port", "at offset 7");
	expect_eurl("zk://h:0", "port \"0\" out of range 1..65535", NULL);
	expect_eurl("zk://h:65536", "port \"65536\" out of range", NULL);
	expect_eurl("zk://h:99999999999999999999", "out of range", NULL);
	expect_eurl("zk://h:12a", "invalid port \"12a\"", "at offset 7");
	expect_eurl("zk://h:-1", "invalid port", NULL);
	expect_eurl("zk://a:1,b:x", "invalid port \"x\"", "at offset 11");
	u = parse_ok("zk://h:65535,g:1,f:00080");
	assert_int_equal(u->hosts[0].port, 65535);
	assert_int_equal(u->hosts[1].port, 1);
	assert_int_equal(u->hosts[2].port, 80);
	zkc__url_free(u);
}

static void bad_host_characters_are_rejected(void **state)
{
	(void)state;
	char longname[300];

	expect_eurl("zk://h$st:1", "invalid character in host \"h$st:1\"", "at offset 6");
	expect_eurl("zk://h%41", "invalid character in host", NULL);
	expect_eurl("zk://h\xc3\xa9", "invalid character in host", "\\xc3\\xa9");
	memset(longname, 'a', 254);
	strcpy(longname, "zk://");
	memset(longname + 5, 'a', 254);
	longname[259] = '\0';
	expect_eurl(longname, "longer than 253", NULL);
}

static void spaces_and_control_characters_are_rejected(void **state)
{
	(void)state;
	expect_eurl("zk://h :1", "space or control character", "at offset 6");
	expect_eurl("zk://h\n", "space or control character", "at offset 6");
	expect_eurl(" zk://h", "space or control", "at offset 0");
	expect_eurl("zk://h?ca=a\tb", "space or control", NULL);
	/* the echoed URL shows them escaped */
	expect_eurl("zk://h\x01", "\\x01", NULL);
}

static void credentials_before_the_hosts_are_rejected_unseen(void **state)
{
	(void)state;
	expect_eurl("zk://alice:Pw9secret@h:2181", "not supported", "?digest=");
	expect_no("Pw9secret");
	assert_non_null(strstr(zkc_error_last()->message, "alice:***@h"));
}

static void srv_url_takes_one_name_without_port(void **state)
{
	(void)state;
	zkc__url_t *u = parse_ok("zk+srv://_client._tcp.zk-hs.ns.svc.cluster.local");
	char *hs = zkc__url_hosts_string(u);

	assert_int_equal(u->nhosts, 1);
	assert_string_equal(u->hosts[0].host, "_client._tcp.zk-hs.ns.svc.cluster.local");
	assert_int_equal(u->hosts[0].port, 0);
	assert_string_equal(hs, "_client._tcp.zk-hs.ns.svc.cluster.local");
	free(hs);
	zkc__url_free(u);

	expect_eurl("zk+srv://a,b", "exactly one name, got 2", NULL);
	expect_eurl("zk+srv://_c._tcp.x:2181", "takes no port", NULL);
	expect_eurl("zk+srv://[::1]", "take a name, not an address", NULL);
}

static void k8s_url_takes_one_service_dot_namespace(void **state)
{
	(void)state;
	zkc__url_t *u = parse_ok("zk+k8s://zk-hs.zookeeper");

	assert_int_equal(u->nhosts, 1);
	assert_string_equal(u->hosts[0].host, "zk-hs.zookeeper");
	assert_int_equal(u->hosts[0].port, 2181);
	zkc__url_free(u);
	u = parse_ok("zks+k8s://zk.ns:3181/app?kubeconfig=%2Froot%2F.kube%2Fconfig&include_not_ready=1");
	assert_int_equal(u->hosts[0].port, 3181);
	assert_string_equal(u->chroot, "/app");
	assert_string_equal(u->k8s_kubeconfig, "/root/.kube/config");
	assert_int_equal(u->k8s_include_not_ready, 1);
	assert_int_equal(u->tls, 1);
	zkc__url_free(u);

	expect_eurl("zk+k8s://zk-hs", "expected service.namespace", "\"zk-hs\"");
	expect_eurl("zk+k8s://zk-hs.ns.svc", "expected service.namespace", NULL);
	expect_eurl("zk+k8s://a.b,c.d", "exactly one service.namespace, got 2", NULL);
	expect_eurl("zk+k8s://Zk.ns", "lowercase", NULL);
	expect_eurl("zk+k8s://-zk.ns", "service.namespace", NULL);
	expect_eurl("zk+k8s://zk.", "service.namespace", NULL);
	expect_eurl("zk+k8s://zk_hs.ns", "service.namespace", NULL);
	expect_eurl("zk+k8s://[::1]:2181", "take a name", NULL);
	expect_eurl("zk+k8s://zk.ns:0", "out of range", NULL);
}

/* ------------------------------------------------------------ chroot */

static void chroot_follows_the_hosts(void **state)
{
	(void)state;
	zkc__url_t *u;

	u = parse_ok("zk://h:1/app/tenant-1");
	assert_string_equal(u->chroot, "/app/tenant-1");
	zkc__url_free(u);
	u = parse_ok("zk://h/");  /* "/" alone is no chroot */
	assert_null(u->chroot);
	zkc__url_free(u);
	u = parse_ok("zk://h/?session_timeout=1s");
	assert_null(u->chroot);
	assert_int_equal(u->session_timeout_ms, 1000);
	zkc__url_free(u);
	u = parse_ok("zk://h/a%20b/%C3%A9");
	assert_string_equal(u->chroot, "/a b/\xc3\xa9");
	zkc__url_free(u);
	u = parse_ok("zk://[::1]/x?read_only=1");
	assert_string_equal(u->chroot, "/x");
	assert_int_equal(u->read_only, 1);
	zkc__url_free(u);
}

static void invalid_chroot_is_rejected_with_the_path_reason(void **state)
{
	(void)state;
	expect_eurl("zk://h/app/", "chroot", "trailing '/'");
	expect_eurl("zk://h//app", "chroot", "empty component");
	expect_eurl("zk://h/a/../b", "chroot", "\"..\"");
	expect_eurl("zk://h/a/./b", "chroot", "\".\"");
	expect_eurl("zk://h/a%00b", "chroot", "percent-escape");
	expect_eurl("zk://h/a%zz", "percent-escape", "at offset 8");
	expect_eurl("zk://h/a%2", "percent-escape", NULL);
	expect_eurl("zk://h/a%01", "chroot", "U+0001");
	expect_eurl("zk://h/a\xff", "chroot", "invalid UTF-8");
}

/* ------------------------------------------------------------ options */

static void all_options_are_parsed(void **state)
{
	(void)state;
	zkc__url_t *u = parse_ok(
	        "zk://h?session_timeout=10s&connect_timeout=15000&retry_base=50ms"
	        "&retry_max=2s&retry_deadline=1m&retry_attempts=7&digest=alice:pw"
	        "&dns_server=10.0.0.53&dns_interval=30s&read_only=1&ca=/etc/ca.pem"
	        "&cert=/etc/c.pem&key=/etc/k.pem&key_password=kp&server_name=zk.example"
	        "&verify_host=0&kubeconfig=/kc&include_not_ready=1");

	assert_int_equal(u->session_timeout_ms, 10000);
	assert_int_equal(u->connect_timeout_ms, 15000);
	assert_int_equal(u->retry.version, ZKC_RETRY_VERSION);
	assert_int_equal(u->retry.base_ms, 50);
	assert_int_equal(u->retry.max_ms, 2000);
	assert_int_equal(u->retry.deadline_ms, 60000);
	assert_int_equal(u->retry.max_attempts, 7);
	assert_string_equal(u->digest, "alice:pw");
	assert_string_equal(u->dns_server, "10.0.0.53");
	assert_int_equal(u->dns_port, 53);
	assert_int_equal(u->dns_interval_ms, 30000);
	assert_int_equal(u->read_only, 1);
	assert_string_equal(u->tls_ca, "/etc/ca.pem");
	assert_string_equal(u->tls_cert, "/etc/c.pem");
	assert_string_equal(u->tls_key, "/etc/k.pem");
	assert_string_equal(u->tls_key_password, "kp");
	assert_string_equal(u->tls_server_name, "zk.example");
	assert_int_equal(u->tls_verify_host, 0);
	assert_string_equal(u->k8s_kubeconfig, "/kc");
	assert_int_equal(u->k8s_include_not_ready, 1);
	assert_int_equal(u->tls, 1);
	zkc__url_free(u);
}

static void connect_timeout_accepts_minus_one(void **state)
{
	(void)state;
	zkc__url_t *u = parse_ok("zk://h?connect_timeout=-1");

	assert_int_equal(u->connect_timeout_ms, -1);
	zkc__url_free(u);
	expect_eurl("zk://h?connect_timeout=0", "-1 to connect in the background", NULL);
	expect_eurl("zk://h?connect_timeout=-2", "invalid duration \"-2\"", NULL);
}

static void one_retry_option_fills_the_rest_from_the_default(void **state)
{
	(void)state;
	zkc__url_t *u = parse_ok("zk://h?retry_attempts=3");
	zkc_retry_t want = ZKC_RETRY_INIT;

	want.max_attempts = 3;
	assert_memory_equal(&u->retry, &want, sizeof(want));
	zkc__url_free(u);
	u = parse_ok("zk://h?retry_deadline=5s");
	want = (zkc_retry_t)ZKC_RETRY_INIT;
	want.deadline_ms = 5000;
	assert_memory_equal(&u->retry, &want, sizeof(want));
	zkc__url_free(u);
}

static void inconsistent_retry_options_are_rejected(void **state)
{
	(void)state;
	expect_eurl("zk://h?retry_base=2s&retry_max=1s", "retry options", "max_ms (1000)");
	expect_eurl("zk://h?retry_base=5s", "max_ms (1000) must be >= base_ms (5000)", NULL);
	expect_eurl("zk://h?retry_base=0", "base_ms is 0", NULL);
	expect_eurl("zk://h?retry_deadline=0", "deadline_ms is 0", NULL);
	expect_eurl("zk://h?retry_attempts=-1", "not a count", NULL);
	expect_eurl("zk://h?retry_attempts=1s", "not a count", NULL);
	expect_eurl("zk://h?retry_attempts=99999999999", "not a count", NULL);
}

static void tls_options_turn_tls_on(void **state)
{
	(void)state;
	static const char *opts[] = { "ca=/x", "cert=/x", "key=/x", "key_password=x",
		                      "server_name=x", "verify_host=1" };
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		char url[64];
		zkc__url_t *u;

		snprintf(url, sizeof(url), "zk://h?%s", opts[i]);
		u = parse_ok(url);
		assert_int_equal(u->tls, 1);
		zkc__url_free(u);
	}
}

static void option_values_are_percent_decoded(void **state)
{
	(void)state;
	zkc__url_t *u = parse_ok("zk://h?digest=us%65r%3Apa%26s%3Ds+1&ca=%2Fetc%2Fmy%20ca.pem"
	                         "&server_name=zk%2Eexample");

	assert_string_equal(u->digest, "user:pa&s=s+1");  /* '+' stays '+' */
	assert_string_equal(u->tls_ca, "/etc/my ca.pem");
	assert_string_equal(u->tls_server_name, "zk.example");
	zkc__url_free(u);
	u = parse_ok("zk://h?");  /* a bare '?' is no option */
	zkc__url_free(u);
}

static void bad_percent_escapes_are_rejected(void **state)
{
	(void)state;
	expect_eurl("zk://h?ca=%zz", "option \"ca\": bad percent-escape", "at offset 10");
	expect_eurl("zk://h?ca=ab%2", "bad percent-escape", "at offset 12");
	expect_eurl("zk://h?ca=%", "bad percent-escape", NULL);
	expect_eurl("zk://h?ca=a%00b", "bad percent-escape", NULL);
}

static void dns_server_takes_ip_and_optional_port(void **state)
{
	(void)state;
	struct {
		const char *url, *ip;
		int port;
	} ok[] = {
		{ "zk+dns://h?dns_server=10.0.0.1", "10.0.0.1", 53 },
		{ "zk+dns://h?dns_server=10.0.0.1:5353", "10.0.0.1", 5353 },
		{ "zk+dns://h?dns_server=[::1]:5353", "::1", 5353 },
		{ "zk+dns://h?dns_server=[fd00::53]", "fd00::53", 53 },
		{ "zk+dns://h?dns_server=::1", "::1", 53 },
		{ "zk+dns://h?dns_server=%5B::1%5D:54", "::1", 54 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		zkc__url_t *u = parse_ok(ok[i].url);
		assert_string_equal(u->dns_server, ok[i].ip);
		assert_int_equal(u->dns_port, ok[i].port);
		zkc__url_free(u);
	}
	expect_eurl("zk://h?dns_server=ns.example", "\"ns.example\" is not ip", NULL);
	expect_eurl("zk://h?dns_server=10.0.0.1:0", "bad port", NULL);
	expect_eurl("zk://h?dns_server=10.0.0.1:x", "bad port", NULL);
	expect_eurl("zk://h?dns_server=[::1", "is not ip", NULL);
	expect_eurl("zk://h?dns_server=[::1]x", "is not ip", NULL);
	expect_eurl("zk://h?dns_server=300.1.1.1", "is not ip", NULL);
}

static void durations_in_options_are_checked(void **state)
{
	(void)state;
	zkc__url_t *u = parse_ok("zk://h?session_timeout=500ms&dns_interval=2m");

	assert_int_equal(u->session_timeout_ms, 500);
	assert_int_equal(u->dns_interval_ms, 120000);
	zkc__url_free(u);
	u = parse_ok("zk://h?session_timeout=2147483647");
	assert_int_equal(u->session_timeout_ms, 2147483647);
	zkc__url_free(u);

	expect_eurl("zk://h?session_timeout=abc", "option \"session_timeout\": invalid duration \"abc\"",
	            "at offset 7");
	expect_eurl("zk://h?session_timeout=-5", "invalid duration \"-5\"", NULL);
	expect_eurl("zk://h?session_timeout=10h", "invalid duration \"10h\"", NULL);
	expect_eurl("zk://h?session_timeout=1.5s", "invalid duration", NULL);
	expect_eurl("zk://h?session_timeout=2147483648", "too large", "2147483647");
	expect_eurl("zk://h?session_timeout=36000m", "too large", NULL);
	expect_eurl("zk://h?session_timeout=99999999999999999999", "too large", NULL);
	expect_eurl("zk://h?session_timeout=0", "\"session_timeout\" must be > 0", NULL);
	expect_eurl("zk://h?dns_interval=0s", "\"dns_interval\" must be > 0", NULL);
	expect_eurl("zk://h?retry_max=%0A", "invalid duration \"\\x0a\"", NULL);
}

static void flags_take_only_zero_or_one(void **state)
{
	(void)state;
	zkc__url_t *u = parse_ok("zk://h?read_only=0&verify_host=1&include_not_ready=0");

	assert_int_equal(u->read_only, 0);
	assert_int_equal(u->tls_verify_host, 1);
	zkc__url_free(u);
	expect_eurl("zk://h?read_only=2", "\"read_only\" must be 0 or 1, not \"2\"", NULL);
	expect_eurl("zk://h?verify_host=yes", "\"verify_host\" must be 0 or 1", NULL);
	expect_eurl("zk://h?include_not_ready=true", "must be 0 or 1", NULL);
	expect_eurl("zk://h?read_only=01", "must be 0 or 1", NULL);
}

static void unknown_duplicate_and_malformed_options_are_rejected(void **state)
{
	(void)state;
	expect_eurl("zk://h?foo=1", "unknown option \"foo\"", "at offset 7");
	expect_eurl("zk://h?read_only=1&Session_timeout=1s", "unknown option \"Session_timeout\"",
	            "at offset 19");
	expect_eurl("zk://h?session_timeout=1s&session_timeout=2s",
	            "option \"session_timeout\" given twice", "at offset 26");
	expect_eurl("zk://h?read_only", "option \"read_only\" needs a value", NULL);
	expect_eurl("zk://h?read_only=", "option \"read_only\" has an empty value", NULL);
	expect_eurl("zk://h?ca=", "empty value", NULL);
	expect_eurl("zk://h?read_only=1&", "empty option", "at offset 19");
	expect_eurl("zk://h?&read_only=1", "empty option", "at offset 7");
	expect_eurl("zk://h?a&b", "expected name=value", NULL);
	expect_eurl("zk://h?=1", "unknown option \"\"", NULL);
}

static void digest_needs_user_and_colon(void **state)
{
	(void)state;
	zkc__url_t *u = parse_ok("zk://h?digest=alice:");

	assert_string_equal(u->digest, "alice:");
	zkc__url_free(u);
	expect_eurl("zk://h?digest=JustASecret", "must be user:password", "value not shown");
	expect_no("JustASecret");
	expect_eurl("zk://h?digest=:Pw9", "empty user name", NULL);
	expect_no("Pw9");
}

static void url_length_limit_is_64_kib(void **state)
{
	(void)state;
	size_t n = 64 * 1024;
	char *url = malloc(n + 2);
	zkc__url_t *u;

	/* zk://h,h,h,...: exactly 65536 bytes parses */
	memcpy(url, "zk://", 5);
	for (size_t i = 5; i < n; i++)
		url[i] = (i % 2) ? 'h' : ',';
	url[n] = '\0';
	assert_int_equal(url[n - 1], 'h');
	u = parse_ok(url);
	assert_int_equal(u->nhosts, (n - 4) / 2);
	zkc__url_free(u);
	url[n] = ',';
	url[n + 1] = '\0';
	expect_eurl(url, "longer than 65536 bytes", NULL);
	free(url);
}

static void null_and_empty_urls_are_rejected(void **state)
{
	(void)state;
	zkc__url_t *u = (zkc__url_t *)(uintptr_t)1;

	assert_int_equal(zkc__url_parse(&u, NULL), ZKC_EURL);
	assert_null(u);
	assert_non_null(strstr(zkc_error_last()->message, "no URL"));
	expect_eurl("", "empty URL", NULL);
	assert_int_equal(zkc__url_parse(NULL, "zk://h"), ZKC_EBADARGUMENTS);
	zkc__url_free(NULL);
}

/* ------------------------------------------------------------ secrets */

static void messages_never_show_the_digest_password(void **state)
{
	(void)state;
	expect_eurl("zk://h?digest=alice:S3cretPw&foo=1", NULL, NULL);
	expect_no("S3cretPw");
	expect_eurl("zk://h?digest=alice:S3cretPw&read_only=2", "must be 0 or 1", "digest=alice:***");
	expect_no("S3cretPw");
	expect_eurl("zk://h:0?digest=alice:S3cretPw", "out of range", NULL);
	expect_no("S3cretPw");
	expect_eurl("zk://h?digest=alice:S3cretPw%zz", "bad percent-escape", NULL);
	expect_no("S3cretPw");
	expect_eurl("zk://h?digest=alice:S3cretPw&digest=bob:Other9", "given twice", NULL);
	expect_no("S3cretPw");
	expect_no("Other9");
}

static void messages_never_show_the_key_password(void **state)
{
	(void)state;
	expect_eurl("zk://h?key_password=Hunter22&bogus=1", NULL, NULL);
	expect_no("Hunter22");
	expect_eurl("zk://h?key_password=Hunter22&read_only=x", "must be 0 or 1", "key_password=***");
	expect_no("Hunter22");
}

/* A password with an unescaped '&' splits into a second "option": that
 * piece is not quoted either. */
static void password_split_by_unescaped_ampersand_stays_hidden(void **state)
{
	(void)state;
	expect_eurl("zk://h?digest=alice:pw&Qz9tail=x", "after a secret option", "%26");
	expect_no("Qz9tail");
	expect_eurl("zk://h?key_password=pw&Qz9tail", "after a secret option", NULL);
	expect_no("Qz9tail");
}

/* Every prefix of a rich URL parses or fails cleanly, and no failure
 * shows any three characters of the password. */
static void every_prefix_fails_cleanly_without_leaking(void **state)
{
	(void)state;
	static const char url[] =
	        "zks://[::1]:2181,h2:2182/app%20x?session_timeout=10s&digest=al:Q7x!Z9w"
	        "&key_password=V4k!pQ&dns_server=[::1]:53&retry_attempts=3";
	static const char *pieces[] = { "Q7x", "7x!", "x!Z", "!Z9", "Z9w", "V4k", "4k!", "k!p", "!pQ" };
	char buf[sizeof(url)];

	for (size_t n = 0; n <= strlen(url); n++) {
		zkc__url_t *u = NULL;
		int rc;

		memcpy(buf, url, n);
		buf[n] = '\0';
		rc = zkc__url_parse(&u, buf);
		if (rc == ZKC_OK) {
			assert_non_null(u);
			zkc__url_free(u);
			continue;
		}
		assert_int_equal(rc, ZKC_EURL);
		assert_null(u);
		for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++)
			if (strstr(zkc_error_last()->message, pieces[i]))
				fail_msg("prefix %zu leaks: %s", n, zkc_error_last()->message);
	}
}

static void redact_masks_secrets_and_keeps_the_rest(void **state)
{
	(void)state;
	struct {
		const char *in, *out;
	} cases[] = {
		{ "zk://h?digest=alice:secret", "zk://h?digest=alice:***" },
		{ "zk://h?digest=a:b:c", "zk://h?digest=a:***" },
		{ "zk://h?digest=nocolon", "zk://h?digest=***" },
		{ "zk://h?digest=alice:", "zk://h?digest=alice:" },
		{ "zk://h?key_password=pw&ca=/x", "zk://h?key_password=***&ca=/x" },
		{ "zk://h?key_password=", "zk://h?key_password=" },
		{ "zk://h/app?session_timeout=1s&digest=bob:x&read_only=1",
		  "zk://h/app?session_timeout=1s&digest=bob:***&read_only=1" },
		{ "zk://u:pw@h/x", "zk://u:***@h/x" },
		{ "zk://u@h", "zk://u@h" },
		{ "zk://h?foo=bar", "zk://h?foo=***" },
		{ "zk://h?dig%65st=a:b", "zk://h?dig%65st=***" },
		{ "zk://h?digest=a:p&tail=1&read_only=1", "zk://h?digest=a:***&***&read_only=1" },
		{ "zk://h?digest=a:p?x", "zk://h?digest=a:***?***" },
		{ "zk:/h&digest=a:b", "zk:/h&digest=a:***" },  /* malformed, still masked */
		{ "digest=a:b", "digest=a:b" },                   /* no option context */
		{ "zk://h:2181,[::1]:1/a?ca=%2Fx", "zk://h:2181,[::1]:1/a?ca=%2Fx" },
		{ "", "" },
		{ "?&&?", "?&&?" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r = zkc__url_redact(cases[i].in);
		assert_non_null(r);
		if (strcmp(r, cases[i].out) != 0)
			fail_msg("redact(\"%s\") = \"%s\", want \"%s\"", cases[i].in, r, cases[i].out);
		free(r);
	}
	assert_null(zkc__url_redact(NULL));
}

static void error_message_quotes_the_redacted_url(void **state)
{
	(void)state;
	expect_eurl("zk://h:99999/app?digest=u:pw", "invalid URL \"zk://h:99999/app?digest=u:***\"",
	            "at offset 7");
}

static void hosts_string_of_null_is_null(void **state)
{
	(void)state;
	assert_null(zkc__url_hosts_string(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(static_url_gives_hosts_and_ports),
		cmocka_unit_test(missing_port_defaults_to_2181),
		cmocka_unit_test(unset_options_have_their_defaults),
		cmocka_unit_test(ipv6_literals_need_brackets_and_lose_them),
		cmocka_unit_test(bad_ipv6_forms_are_rejected),
		cmocka_unit_test(every_scheme_is_recognised),
		cmocka_unit_test(unknown_or_missing_scheme_is_rejected),
		cmocka_unit_test(empty_hosts_are_rejected_where_they_are),
		cmocka_unit_test(bad_ports_are_rejected),
		cmocka_unit_test(bad_host_characters_are_rejected),
		cmocka_unit_test(spaces_and_control_characters_are_rejected),
		cmocka_unit_test(credentials_before_the_hosts_are_rejected_unseen),
		cmocka_unit_test(srv_url_takes_one_name_without_port),
		cmocka_unit_test(k8s_url_takes_one_service_dot_namespace),
		cmocka_unit_test(chroot_follows_the_hosts),
		cmocka_unit_test(invalid_chroot_is_rejected_with_the_path_reason),
		cmocka_unit_test(all_options_are_parsed),
		cmocka_unit_test(connect_timeout_accepts_minus_one),
		cmocka_unit_test(one_retry_option_fills_the_rest_from_the_default),
		cmocka_unit_test(inconsistent_retry_options_are_rejected),
		cmocka_unit_test(tls_options_turn_tls_on),
		cmocka_unit_test(option_values_are_percent_decoded),
		cmocka_unit_test(bad_percent_escapes_are_rejected),
		cmocka_unit_test(dns_server_takes_ip_and_optional_port),
		cmocka_unit_test(durations_in_options_are_checked),
		cmocka_unit_test(flags_take_only_zero_or_one),
		cmocka_unit_test(unknown_duplicate_and_malformed_options_are_rejected),
		cmocka_unit_test(digest_needs_user_and_colon),
		cmocka_unit_test(url_length_limit_is_64_kib),
		cmocka_unit_test(null_and_empty_urls_are_rejected),
		cmocka_unit_test(messages_never_show_the_digest_password),
		cmocka_unit_test(messages_never_show_the_key_password),
		cmocka_unit_test(password_split_by_unescaped_ampersand_stays_hidden),
		cmocka_unit_test(every_prefix_fails_cleanly_without_leaking),
		cmocka_unit_test(redact_masks_secrets_and_keeps_the_rest),
		cmocka_unit_test(error_message_quotes_the_redacted_url),
		cmocka_unit_test(hosts_string_of_null_is_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
