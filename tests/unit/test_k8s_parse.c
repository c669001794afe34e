/* tests/unit/test_k8s_parse.c - EndpointSlice answers to a server list and
 * the watch stream, without an API server: the documented JSON format
 * (discovery.k8s.io/v1) and each edge case the API can produce, plus
 * malformed input, which must give a clear error and never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

/* ------------------------------------------------------------ builders */

/* One endpoint: address(es) and the ready condition ("true", "false",
 * "null" or NULL for no conditions at all). */
static char *ep(const char *addrs, const char *ready)
{
	if (!ready)
		return zkc__sprintf("{\"addresses\":[%s],\"targetRef\":{\"kind\":\"Pod\","
		                    "\"name\":\"zk-x\"}}", addrs);
	return zkc__sprintf("{\"addresses\":[%s],\"conditions\":{\"ready\":%s,\"serving\":%s,"
	                    "\"terminating\":false},\"hostname\":\"zk-0\"}", addrs, ready, ready);
}

static char *slice(const char *name, const char *type, const char *ports, const char *eps)
{
	return zkc__sprintf("{\"kind\":\"EndpointSlice\",\"apiVersion\":\"discovery.k8s.io/v1\","
	                    "\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\","
	                    "\"resourceVersion\":\"77\",\"labels\":{\"kubernetes.io/"
	                    "service-name\":\"zk\"}},\"addressType\":\"%s\",\"endpoints\":%s,"
	                    "\"ports\":%s}", name, type, eps, ports);
}

static char *list_of(const char *rv, const char *items)
{
	return zkc__sprintf("{\"kind\":\"EndpointSliceList\",\"apiVersion\":\"discovery.k8s.io/v1\","
	                    "\"metadata\":{\"resourceVersion\":\"%s\"},\"items\":[%s]}", rv, items);
}

static char *event(const char *type, const char *obj)
{
	return zkc__sprintf("{\"type\":\"%s\",\"object\":%s}", type, obj);
}

#define PORTS_CLIENT "[{\"name\":\"client\",\"protocol\":\"TCP\",\"port\":2181}]"

static void list_ok(zkc__k8s_set_t *s, const char *json)
{
	if (zkc__k8s_parse_list(s, json, strlen(json)) != ZKC_OK)
		fail_msg("list rejected: %s", zkc_error_last()->message);
}

static void servers_are(const zkc__k8s_set_t *s, int not_ready, const char *want)
{
	char *got = NULL;

	assert_int_equal(zkc__k8s_servers(&got, NULL, s, not_ready), ZKC_OK);
	if (strcmp(got, want) != 0)
		fail_msg("servers \"%s\", want \"%s\"", got, want);
	free(got);
}

static void apply_ok(zkc__k8s_set_t *s, const char *line, int type)
{
	zkc__k8s_event_t ev;

	if (zkc__k8s_apply_event(s, line, strlen(line), &ev) != ZKC_OK)
		fail_msg("event rejected: %s", zkc_error_last()->message);
	assert_int_equal(ev.type, type);
}

static void expect_bad_list(const char *json, size_t len, const char *frag)
{
	zkc__k8s_set_t s;

	zkc__k8s_set_init(&s, 2181);
	zkc_error_clear();
	if (json && len == (size_t)-1)
		len = strlen(json);
	assert_int_equal(zkc__k8s_parse_list(&s, json, len), ZKC_EMARSHALLING);
	if (frag && !strstr(zkc_error_last()->message, frag))
		fail_msg("message \"%s\" lacks \"%s\"", zkc_error_last()->message, frag);
	assert_int_equal(s.nslices, 0);
	assert_null(s.resource_version);
	zkc__k8s_set_clear(&s);
}

/* The usual answer: three ready pods behind one slice. */
static zkc__k8s_set_t *three(void)
{
	zkc__k8s_set_t *s = malloc(sizeof(*s));
	char *e1 = ep("\"10.0.0.3\"", "true"), *e2 = ep("\"10.0.0.1\"", "true");
	char *e3 = ep("\"10.0.0.2\"", "true");
	char *eps = zkc__sprintf("[%s,%s,%s]", e1, e2, e3);
	char *sl = slice("zk-abc", "IPv4", PORTS_CLIENT, eps);
	char *l = list_of("100", sl);

	zkc__k8s_set_init(s, 2181);
	list_ok(s, l);
	free(e1), free(e2), free(e3), free(eps), free(sl), free(l);
	return s;
}

static void set_free(zkc__k8s_set_t *s)
{
	zkc__k8s_set_clear(s);
	free(s);
}

/* ------------------------------------------------------------ lists */

static void list_gives_sorted_ready_servers_and_its_version(void **state)
{
	zkc__k8s_set_t *s = three();
	zkc__k8s_stats_t st;
	char *got;
	(void)state;

	servers_are(s, 0, "10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181");
	assert_string_equal(s->resource_version, "100");
	assert_int_equal(zkc__k8s_servers(&got, &st, s, 0), ZKC_OK);
	assert_int_equal(st.slices, 1);
	assert_int_equal(st.ready, 3);
	assert_int_equal(st.servers, 3);
	free(got);
	set_free(s);
}

static void not_ready_endpoints_are_left_out_unless_asked(void **state)
{
	zkc__k8s_set_t s;
	char *e1 = ep("\"10.0.0.1\"", "true"), *e2 = ep("\"10.0.0.2\"", "false");
	char *e3 = ep("\"10.0.0.3\"", NULL), *e4 = ep("\"10.0.0.4\"", "null");
	char *eps = zkc__sprintf("[%s,%s,%s,%s]", e1, e2, e3, e4);
	char *sl = slice("zk-abc", "IPv4", PORTS_CLIENT, eps), *l = list_of("5", sl);
	(void)state;

	zkc__k8s_set_init(&s, 2181);
	list_ok(&s, l);
	/* absent conditions and ready: null both mean ready (API docs) */
	servers_are(&s, 0, "10.0.0.1:2181,10.0.0.3:2181,10.0.0.4:2181");
	servers_are(&s, 1, "10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181,10.0.0.4:2181");
	zkc__k8s_set_clear(&s);
	free(e1), free(e2), free(e3), free(e4), free(eps), free(sl), free(l);
}

static void several_slices_merge_without_duplicates(void **state)
{
	zkc__k8s_set_t s;
	char *a = ep("\"10.0.0.1\"", "true"), *b = ep("\"10.0.0.2\"", "true");
	char *eps1 = zkc__sprintf("[%s,%s]", a, b), *eps2 = zkc__sprintf("[%s]", b);
	char *s1 = slice("zk-1", "IPv4", PORTS_CLIENT, eps1);
	char *s2 = slice("zk-2", "IPv4", PORTS_CLIENT, eps2);
	char *both = zkc__sprintf("%s,%s", s2, s1), *l = list_of("9", both);
	(void)state;

	zkc__k8s_set_init(&s, 2181);
	list_ok(&s, l);
	assert_int_equal(s.nslices, 2);
	servers_are(&s, 0, "10.0.0.1:2181,10.0.0.2:2181");
	zkc__k8s_set_clear(&s);
	free(a), free(b), free(eps1), free(eps2), free(s1), free(s2), free(both), free(l);
}

static void dual_stack_slices_give_both_families_canonical(void **state)
{
	zkc__k8s_set_t s;
	char *a = ep("\"10.0.0.1\"", "true"), *b = ep("\"2001:DB8:0:0::1\"", "true");
	char *eps1 = zkc__sprintf("[%s]", a), *eps2 = zkc__sprintf("[%s]", b);
	char *s1 = slice("zk-v4", "IPv4", PORTS_CLIENT, eps1);
	char *s2 = slice("zk-v6", "IPv6", PORTS_CLIENT, eps2);
	char *both = zkc__sprintf("%s,%s", s1, s2), *l = list_of("9", both);
	(void)state;

	zkc__k8s_set_init(&s, 2181);
	list_ok(&s, l);
	/* IPv6 without brackets: libzookeeper splits at the last ':' */
	servers_are(&s, 0, "10.0.0.1:2181,2001:db8::1:2181");
	zkc__k8s_set_clear(&s);
	free(a), free(b), free(eps1), free(eps2), free(s1), free(s2), free(both), free(l);
}

static void address_of_the_wrong_family_or_garbage_is_skipped(void **state)
{
	zkc__k8s_set_t s;
	char *a = ep("\"2001:db8::1\"", "true"), *b = ep("\"10.0.0.300\"", "true");
	char *c = ep("\"10.0.0.7\",\"10.0.0.8\"", "true"), *d = ep("42", "true");
	char *e = ep("", "true");
	char *eps = zkc__sprintf("[%s,%s,%s,%s,%s,{\"conditions\":{}},7,null]", a, b, c, d, e);
	char *sl = slice("zk-1", "IPv4", PORTS_CLIENT, eps), *l = list_of("9", sl);
	(void)state;

	zkc__k8s_set_init(&s, 2181);
	list_ok(&s, l);
	/* only the first address counts ("no semantics beyond the first") */
	servers_are(&s, 0, "10.0.0.7:2181");
	zkc__k8s_set_clear(&s);
	free(a), free(b), free(c), free(d), free(e), free(eps), free(sl), free(l);
}

static void fqdn_slices_give_names(void **state)
{
	zkc__k8s_set_t s;
	char *a = ep("\"zk-0.zk-hs.ns.svc.cluster.local\"", "true");
	char *b = ep("\"bad,name:1\"", "true");
	char *eps = zkc__sprintf("[%s,%s]", a, b);
	char *sl = slice("zk-1", "FQDN", PORTS_CLIENT, eps), *l = list_of("9", sl);
	(void)state;

	zkc__k8s_set_init(&s, 2181);
	list_ok(&s, l);
	servers_are(&s, 0, "zk-0.zk-hs.ns.svc.cluster.local:2181");
	zkc__k8s_set_clear(&s);
	free(a), free(b), free(eps), free(sl), free(l);
}

/* ------------------------------------------------------------ ports */

static const char *port_for(const char *ports, int want)
{
	static char buf[128];
	zkc__k8s_set_t s;
	char *a = ep("\"10.0.0.1\"", "true"), *eps = zkc__sprintf("[%s]", a);
	char *sl = slice("zk-1", "IPv4", ports, eps), *l = list_of("1", sl), *got = NULL;

	zkc__k8s_set_init(&s, want);
	list_ok(&s, l);
	assert_int_equal(zkc__k8s_servers(&got, NULL, &s, 0), ZKC_OK);
	snprintf(buf, sizeof(buf), "%s", got);
	if (!*got)
		snprintf(buf, sizeof(buf), "none: %s", s.slices[0].problem ? s.slices[0].problem : "");
	free(got);
	zkc__k8s_set_clear(&s);
	free(a), free(eps), free(sl), free(l);
	return buf;
}

static void port_is_chosen_by_number_then_name_then_the_only_one(void **state)
{
	(void)state;
	/* the URL's port number wins */
	assert_string_equal(port_for("[{\"name\":\"client\",\"port\":12181},"
	                             "{\"name\":\"x\",\"port\":2181}]", 2181), "10.0.0.1:2181");
	/* a Service port 2181 -> targetPort 12181 named "client" */
	assert_string_equal(port_for("[{\"name\":\"peer\",\"port\":2888},"
	                             "{\"name\":\"client\",\"port\":12181}]", 2181),
	                    "10.0.0.1:12181");
	/* the only TCP port, whatever its name; UDP does not count */
	assert_string_equal(port_for("[{\"name\":\"zk\",\"port\":3000},"
	                             "{\"name\":\"dns\",\"protocol\":\"UDP\",\"port\":53}]", 2181),
	                    "10.0.0.1:3000");
	/* no ports, null ports, empty ports, a port without a number: the URL's */
	assert_string_equal(port_for("null", 2181), "10.0.0.1:2181");
	assert_string_equal(port_for("[]", 2181), "10.0.0.1:2181");
	assert_string_equal(port_for("[{\"name\":\"all\"}]", 2181), "10.0.0.1:2181");
	/* two candidates and nothing to choose by: the slice is not used */
	assert_non_null(strstr(port_for("[{\"name\":\"a\",\"port\":1},{\"name\":\"b\",\"port\":2}]",
	                                2181), "none: no port 2181"));
	assert_non_null(strstr(port_for("{\"port\":1}", 2181), "none: \"ports\" is not an array"));
	/* out-of-range numbers and strings are ignored */
	assert_string_equal(port_for("[{\"port\":70000},{\"port\":\"2181\"},{\"port\":2000}]", 2181),
	                    "10.0.0.1:2000");
}

/* ------------------------------------------------------------ missing fields, malformed */

static void missing_fields_are_a_clear_error_or_ignored(void **state)
{
	zkc__k8s_set_t s;
	zkc__k8s_stats_t st;
	char *got;
	const char *no_eps = "{\"metadata\":{\"name\":\"a\"},\"addressType\":\"IPv4\"}";
	const char *null_eps = "{\"metadata\":{\"name\":\"b\"},\"addressType\":\"IPv4\","
	                       "\"endpoints\":null}";
	const char *no_type = "{\"metadata\":{\"name\":\"c\"},\"endpoints\":[{\"addresses\":"
	                      "[\"10.0.0.1\"]}]}";
	char *items = zkc__sprintf("%s,%s,%s", no_eps, null_eps, no_type), *l = list_of("3", items);
	(void)state;

	zkc__k8s_set_init(&s, 2181);
	list_ok(&s, l);
	assert_int_equal(s.nslices, 3);
	assert_int_equal(zkc__k8s_servers(&got, &st, &s, 0), ZKC_OK);
	assert_string_equal(got, "");
	assert_int_equal(st.unusable_slices, 1);
	assert_non_null(strstr(s.slices[2].problem, "addressType"));
	free(got);
	zkc__k8s_set_clear(&s);
	free(items), free(l);

	/* a slice without a name cannot be tracked by watch events */
	expect_bad_list("{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[{\"addressType\":"
	                "\"IPv4\"}]}", (size_t)-1, "metadata.name");
	expect_bad_list("{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[7]}", (size_t)-1,
	                "not an object");
	expect_bad_list("{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[{\"metadata\":"
	                "{\"name\":\"a\"},\"addressType\":\"IPv4\",\"endpoints\":{}}]}",
	                (size_t)-1, "\"endpoints\" is not an array");
	expect_bad_list("{\"items\":[]}", (size_t)-1, "resourceVersion");
	expect_bad_list("{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":{}}", (size_t)-1,
	                "\"items\" is not an array");
}

static void malformed_answers_are_rejected_with_the_reason(void **state)
{
	static const char *cases[][2] = {
		{ "", "malformed JSON" },
		{ "{", "malformed JSON" },
		{ "{\"items\":[}", "malformed JSON" },
		{ "[1,2]", "not a JSON object" },
		{ "\"x\"", "malformed JSON" },   /* jansson wants an array or object */
		{ "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"endpointslices is "
		  "forbidden\",\"code\":403}", "endpointslices is forbidden" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		zkc__k8s_set_t s;

		zkc__k8s_set_init(&s, 2181);
		zkc_error_clear();
		assert_int_equal(zkc__k8s_parse_list(&s, cases[i][0], strlen(cases[i][0])),
		                 ZKC_EMARSHALLING);
		if (!strstr(zkc_error_last()->message, cases[i][1]))
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, zkc_error_last()->message,
			         cases[i][1]);
		zkc__k8s_set_clear(&s);
	}
	expect_bad_list(NULL, 0, "empty answer");
	/* an embedded NUL is not JSON */
	expect_bad_list("{\"a\":\"x\0y\"}", 11, "malformed JSON");
}

static void a_failed_list_keeps_the_previous_set(void **state)
{
	zkc__k8s_set_t *s = three();
	(void)state;

	assert_int_equal(zkc__k8s_parse_list(s, "{\"items\":[", 10), ZKC_EMARSHALLING);
	servers_are(s, 0, "10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181");
	assert_string_equal(s->resource_version, "100");
	set_free(s);
}

static void empty_service_gives_an_empty_list(void **state)
{
	zkc__k8s_set_t s;
	zkc__k8s_stats_t st;
	char *got, *l = list_of("1", "");
	(void)state;

	zkc__k8s_set_init(&s, 2181);
	list_ok(&s, l);
	assert_int_equal(zkc__k8s_servers(&got, &st, &s, 0), ZKC_OK);
	assert_string_equal(got, "");
	assert_int_equal(st.servers, 0);
	free(got);
	/* "items": null (Go's empty slice) too */
	list_ok(&s, "{\"metadata\":{\"resourceVersion\":\"2\"},\"items\":null}");
	assert_string_equal(s.resource_version, "2");
	zkc__k8s_set_clear(&s);
	free(l);
}

static void five_thousand_endpoints_are_capped_not_fatal(void **state)
{
	zkc__k8s_set_t s;
	zkc__k8s_stats_t st;
	size_t cap = 5000 * 160 + 4096, off = 0;
	char *items = malloc(cap), *l, *got;
	(void)state;

	assert_non_null(items);
	/* 5 slices of 1000 endpoints (the controller's maximum per slice) */
	for (int k = 0; k < 5; k++) {
		off += (size_t)snprintf(items + off, cap - off, "%s{\"metadata\":{\"name\":\"zk-%d\"},"
		                        "\"addressType\":\"IPv4\",\"ports\":" PORTS_CLIENT
		                        ",\"endpoints\":[", k ? "," : "", k);
		for (int i = 0; i < 1000; i++)
			off += (size_t)snprintf(items + off, cap - off, "%s{\"addresses\":[\"10.%d.%d.%d\"],"
			                        "\"conditions\":{\"ready\":%s}}", i ? "," : "", k,
			                        i / 250, i % 250, i % 7 ? "true" : "false");
		off += (size_t)snprintf(items + off, cap - off, "]}");
	}
	l = list_of("123456", items);
	zkc__k8s_set_init(&s, 2181);
	list_ok(&s, l);
	assert_int_equal(zkc__k8s_servers(&got, &st, &s, 0), ZKC_OK);
	assert_int_equal(st.ready + st.not_ready, 5000);
	assert_int_equal(st.servers, ZKC__K8S_MAX_SERVERS);
	assert_true(st.capped);
	{
		size_t commas = 0;

		for (const char *p = got; *p; p++)
			commas += *p == ',';
		assert_int_equal(commas, ZKC__K8S_MAX_SERVERS - 1);
		assert_int_equal(strncmp(got, "10.0.", 5), 0);   /* sorted: slice zk-0 first */
	}
	free(got);
	zkc__k8s_set_clear(&s);
	free(items), free(l);
}

/* ------------------------------------------------------------ watch events */

static void added_modified_deleted_follow_the_slices(void **state)
{
	zkc__k8s_set_t *s = three();
	char *a = ep("\"10.0.0.9\"", "true"), *eps = zkc__sprintf("[%s]", a);
	char *sl = slice("zk-new", "IPv4", PORTS_CLIENT, eps), *line = event("ADDED", sl);
	char *b = ep("\"10.0.0.1\"", "true"), *c = ep("\"10.0.0.5\"", "true");
	char *eps2 = zkc__sprintf("[%s,%s]", b, c);
	char *sl2 = slice("zk-abc", "IPv4", PORTS_CLIENT, eps2), *mod = event("MODIFIED", sl2);
	(void)state;

	apply_ok(s, line, ZKC__K8S_ADDED);
	servers_are(s, 0, "10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181,10.0.0.9:2181");
	assert_string_equal(s->resource_version, "77");
	/* a moved pod: the slice is replaced whole */
	apply_ok(s, mod, ZKC__K8S_MODIFIED);
	servers_are(s, 0, "10.0.0.1:2181,10.0.0.5:2181,10.0.0.9:2181");
	apply_ok(s, "{\"type\":\"DELETED\",\"object\":{\"kind\":\"EndpointSlice\",\"metadata\":"
	         "{\"name\":\"zk-new\",\"resourceVersion\":\"90\"}}}", ZKC__K8S_DELETED);
	servers_are(s, 0, "10.0.0.1:2181,10.0.0.5:2181");
	assert_string_equal(s->resource_version, "90");
	/* deleting what is not there changes nothing */
	apply_ok(s, "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"nope\"}}}",
	         ZKC__K8S_DELETED);
	assert_int_equal(s->nslices, 1);
	/* ADDED of a known name (a relist race) replaces it */
	apply_ok(s, line, ZKC__K8S_ADDED);
	apply_ok(s, line, ZKC__K8S_ADDED);
	assert_int_equal(s->nslices, 2);
	set_free(s);
	free(a), free(eps), free(sl), free(line), free(b), free(c), free(eps2), free(sl2),
	        free(mod);
}

static void bookmark_moves_only_the_resource_version(void **state)
{
	zkc__k8s_set_t *s = three();
	(void)state;

	apply_ok(s, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"EndpointSlice\",\"apiVersion\":"
	         "\"discovery.k8s.io/v1\",\"metadata\":{\"resourceVersion\":\"12746\","
	         "\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}}}}", ZKC__K8S_BOOKMARK);
	assert_string_equal(s->resource_version, "12746");
	servers_are(s, 0, "10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181");
	assert_int_equal(zkc__k8s_apply_event(s, "{\"type\":\"BOOKMARK\",\"object\":{}}", 30, NULL),
	                 ZKC_EMARSHALLING);
	assert_string_equal(s->resource_version, "12746");
	set_free(s);
}

static void error_410_is_reported_and_changes_nothing(void **state)
{
	zkc__k8s_set_t *s = three();
	zkc__k8s_event_t ev;
	/* what kube-apiserver sends when the watch's resourceVersion is compacted */
	const char *gone = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
	                   "\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource "
	                   "version: 5 (1049)\",\"reason\":\"Expired\",\"code\":410}}";
	(void)state;

	assert_int_equal(zkc__k8s_apply_event(s, gone, strlen(gone), &ev), ZKC_OK);
	assert_int_equal(ev.type, ZKC__K8S_ERROR);
	assert_int_equal(ev.code, 410);
	assert_string_equal(ev.message, "too old resource version: 5 (1049)");
	assert_string_equal(s->resource_version, "100");
	servers_are(s, 0, "10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181");
	/* an ERROR without a Status still is one */
	assert_int_equal(zkc__k8s_apply_event(s, "{\"type\":\"ERROR\"}", 16, &ev), ZKC_OK);
	assert_int_equal(ev.type, ZKC__K8S_ERROR);
	assert_int_equal(ev.code, 0);
	set_free(s);
}

static void malformed_events_are_errors_and_keep_the_set(void **state)
{
	static const char *cases[][2] = {
		{ "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"x\"},\"addressT",
		  "malformed JSON" },
		{ "{\"object\":{}}", "without a \"type\"" },
		{ "{\"type\":7}", "without a \"type\"" },
		{ "{\"type\":\"ADDED\"}", "without an \"object\"" },
		{ "{\"type\":\"ADDED\",\"object\":{\"addressType\":\"IPv4\"}}", "metadata.name" },
		{ "{\"type\":\"DELETED\",\"object\":{\"metadata\":{}}}", "DELETED event without" },
		{ "{\"type\":\"RENAMED\",\"object\":{}}", "unknown watch event type: \"RENAMED\"" },
		{ "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"zk-abc\"},"
		  "\"addressType\":\"IPv4\",\"endpoints\":\"no\"}}", "not an array" },
		{ "null", "malformed JSON" },
	};
	zkc__k8s_set_t *s = three();
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		zkc__k8s_event_t ev;

		zkc_error_clear();
		assert_int_equal(zkc__k8s_apply_event(s, cases[i][0], strlen(cases[i][0]), &ev),
		                 ZKC_EMARSHALLING);
		if (!strstr(zkc_error_last()->message, cases[i][1]))
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, zkc_error_last()->message,
			         cases[i][1]);
		servers_are(s, 0, "10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181");
		assert_string_equal(s->resource_version, "100");
	}
	set_free(s);
}

/* ------------------------------------------------------------ stream lines */

typedef struct seen {
	int n;
	char last[256];
	int fail_at;
} seen_t;

static int on_line(void *ctx, const char *line, size_t len)
{
	seen_t *s = ctx;

	s->n++;
	snprintf(s->last, sizeof(s->last), "%.*s", (int)len, line);
	return s->fail_at && s->n == s->fail_at ? ZKC_EMARSHALLING : ZKC_OK;
}

static void lines_are_whole_whatever_the_chunking(void **state)
{
	const char *stream = "{\"a\":1}\n\r\n{\"b\":2}\r\n\n{\"c\":333}\n";
	zkc__k8s_lines_t l = { 0 };
	seen_t s = { 0 };
	(void)state;

	/* one byte at a time */
	for (size_t i = 0; i < strlen(stream); i++)
		assert_int_equal(zkc__k8s_lines_feed(&l, stream + i, 1, on_line, &s), ZKC_OK);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.last, "{\"c\":333}");
	assert_int_equal(zkc__k8s_lines_end(&l), ZKC_OK);
	/* all at once */
	memset(&s, 0, sizeof(s));
	assert_int_equal(zkc__k8s_lines_feed(&l, stream, strlen(stream), on_line, &s), ZKC_OK);
	assert_int_equal(s.n, 3);
	assert_int_equal(zkc__k8s_lines_end(&l), ZKC_OK);
}

static void a_cut_last_line_or_a_huge_line_is_an_error(void **state)
{
	zkc__k8s_lines_t l = { 0 };
	seen_t s = { 0 };
	char big[100];
	(void)state;

	assert_int_equal(zkc__k8s_lines_feed(&l, "{\"a\":1}\n{\"type\":\"ADD", 20, on_line, &s),
	                 ZKC_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(zkc__k8s_lines_end(&l), ZKC_EMARSHALLING);
	assert_non_null(strstr(zkc_error_last()->message, "ended inside an event (12 bytes"));
	assert_null(l.buf);

	memset(big, 'x', sizeof(big));
	l.max = 64;
	assert_int_equal(zkc__k8s_lines_feed(&l, big, 60, on_line, &s), ZKC_OK);
	assert_int_equal(zkc__k8s_lines_feed(&l, big, 10, on_line, &s), ZKC_ETOOLARGE);
	assert_non_null(strstr(zkc_error_last()->message, "longer than 64 bytes"));
	assert_int_equal(zkc__k8s_lines_end(&l), ZKC_OK);   /* reset by the error */
}

static void a_line_callback_error_stops_the_feed(void **state)
{
	zkc__k8s_lines_t l = { 0 };
	seen_t s = { 0 };
	(void)state;

	s.fail_at = 2;
	assert_int_equal(zkc__k8s_lines_feed(&l, "1\n2\n3\n", 6, on_line, &s), ZKC_EMARSHALLING);
	assert_int_equal(s.n, 2);
	zkc__k8s_lines_reset(&l);
}

/* A whole watch session as the API server streams it, fed in odd chunks
 * through the line splitter into the set. */
typedef struct stream_ctx {
	zkc__k8s_set_t *set;
	int events, errors, gone;
} stream_ctx_t;

static int stream_line(void *ctx, const char *line, size_t len)
{
	stream_ctx_t *c = ctx;
	zkc__k8s_event_t ev;

	if (zkc__k8s_apply_event(c->set, line, len, &ev) != ZKC_OK) {
		c->errors++;
		return ZKC_OK;
	}
	c->events++;
	if (ev.type == ZKC__K8S_ERROR && ev.code == 410)
		c->gone++;
	return ZKC_OK;
}

static void a_streamed_watch_session_ends_in_the_right_list(void **state)
{
	zkc__k8s_set_t *s = three();
	char *a = ep("\"10.0.0.4\"", "true"), *b = ep("\"10.0.0.1\"", "false");
	char *eps = zkc__sprintf("[%s]", a), *eps2 = zkc__sprintf("[%s]", b);
	char *s1 = slice("zk-4", "IPv4", PORTS_CLIENT, eps);
	char *s2 = slice("zk-abc", "IPv4", PORTS_CLIENT, eps2);
	char *e1 = event("ADDED", s1), *e2 = event("MODIFIED", s2);
	char *stream = zkc__sprintf("%s\n{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":"
	                            "{\"resourceVersion\":\"200\"}}}\n%s\n{\"type\":\"ERROR\","
	                            "\"object\":{\"kind\":\"Status\",\"code\":410}}\n", e1, e2);
	zkc__k8s_lines_t l = { 0 };
	stream_ctx_t c = { s, 0, 0, 0 };
	size_t n = strlen(stream), off = 0, chunk = 1;
	(void)state;

	while (off < n) {
		size_t k = chunk < n - off ? chunk : n - off;

		assert_int_equal(zkc__k8s_lines_feed(&l, stream + off, k, stream_line, &c), ZKC_OK);
		off += k;
		chunk = chunk * 3 % 97 + 1;
	}
	assert_int_equal(zkc__k8s_lines_end(&l), ZKC_OK);
	assert_int_equal(c.events, 4);
	assert_int_equal(c.errors, 0);
	assert_int_equal(c.gone, 1);
	servers_are(s, 0, "10.0.0.4:2181");
	set_free(s);
	free(a), free(b), free(eps), free(eps2), free(s1), free(s2), free(e1), free(e2),
	        free(stream);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(list_gives_sorted_ready_servers_and_its_version),
		cmocka_unit_test(not_ready_endpoints_are_left_out_unless_asked),
		cmocka_unit_test(several_slices_merge_without_duplicates),
		cmocka_unit_test(dual_stack_slices_give_both_families_canonical),
		cmocka_unit_test(address_of_the_wrong_family_or_garbage_is_skipped),
		cmocka_unit_test(fqdn_slices_give_names),
		cmocka_unit_test(port_is_chosen_by_number_then_name_then_the_only_one),
		cmocka_unit_test(missing_fields_are_a_clear_error_or_ignored),
		cmocka_unit_test(malformed_answers_are_rejected_with_the_reason),
		cmocka_unit_test(a_failed_list_keeps_the_previous_set),
		cmocka_unit_test(empty_service_gives_an_empty_list),
		cmocka_unit_test(five_thousand_endpoints_are_capped_not_fatal),
		cmocka_unit_test(added_modified_deleted_follow_the_slices),
		cmocka_unit_test(bookmark_moves_only_the_resource_version),
		cmocka_unit_test(error_410_is_reported_and_changes_nothing),
		cmocka_unit_test(malformed_events_are_errors_and_keep_the_set),
		cmocka_unit_test(lines_are_whole_whatever_the_chunking),
		cmocka_unit_test(a_cut_last_line_or_a_huge_line_is_an_error),
		cmocka_unit_test(a_line_callback_error_stops_the_feed),
		cmocka_unit_test(a_streamed_watch_session_ends_in_the_right_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
