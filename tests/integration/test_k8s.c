/* tests/integration/test_k8s.c - zk+k8s:// against a REAL kube-apiserver
 * (tests/k8s/apiserver.sh) and a 3-node ensemble on three loopback
 * addresses: the test writes a Service's EndpointSlices, and one live
 * session (the same session id throughout) follows servers being added,
 * removed and moved, a rotated token, API server restarts, and the API's
 * own 410 answer. Fails - never skips - when the binaries are missing. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "internal.h"
#include "kube.h"

#define NS "zkt"
#define SVC "zk"
#define LOG_LINES 4000

static harness_kube_t *kube;
static char kubeconfig[600];
static zkc_t *zk;
static h_events_t *events;
static int64_t sid0;
static int port;
/* which loopback address each slice holds: slices "zk-a" and "zk-b" */
static char slice_a[3][32], slice_b[3][32];
static int na, nb;

/* ------------------------------------------------------------ log capture */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char *log_lines[LOG_LINES];
static int log_n;

static void log_fn(int level, const char *message, void *payload)
{
	(void)payload;
	if (getenv("ZKC_TEST_VERBOSE"))
		fprintf(stderr, "[log %d] %s\n", level, message);
	pthread_mutex_lock(&log_mu);
	if (log_n < LOG_LINES)
		log_lines[log_n++] = strdup(message);
	pthread_mutex_unlock(&log_mu);
}

static int log_count(void)
{
	int n;

	pthread_mutex_lock(&log_mu);
	n = log_n;
	pthread_mutex_unlock(&log_mu);
	return n;
}

/* Whether a line logged at or after `from` contains needle. */
static int log_has(int from, const char *needle)
{
	int found = 0;

	pthread_mutex_lock(&log_mu);
	for (int i = from; i < log_n && !found; i++)
		found = log_lines[i] && strstr(log_lines[i], needle) != NULL;
	pthread_mutex_unlock(&log_mu);
	return found;
}

/* ------------------------------------------------------------ API objects */

static void api(const char *method, const char *path, const char *body, const char *ctype,
                long want, long also)
{
	char *out = NULL;
	long st = harness_kube_request(kube, method, path, body, ctype, &out);

	if (st != want && st != also)
		fail_msg("%s %s: HTTP %ld (want %ld): %.400s", method, path, st, want,
		         out ? out : "");
	free(out);
}

static char *endpoints_json(char addrs[][32], int n, int ready)
{
	size_t cap = 64 + (size_t)n * 128, off = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	off += (size_t)snprintf(s + off, cap - off, "[");
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(s + off, cap - off, "%s{\"addresses\":[\"%s\"],"
		                        "\"conditions\":{\"ready\":%s}}", i ? "," : "", addrs[i],
		                        ready ? "true" : "false");
	snprintf(s + off, cap - off, "]");
	return s;
}

/* Creates or replaces the slice's endpoints (a merge patch replaces the
 * whole array, as the EndpointSlice controller's update would).
 * The API refuses loopback IPs in IPv4 slices ("may not be in the loopback
 * range"), and the ensemble lives on 127.0.0.x: the slices are FQDN ones
 * whose addresses are those IPs written as names (valid DNS names, which
 * libzookeeper resolves to themselves). IPv4 and IPv6 slices are covered
 * by test_k8s_parse and test_k8s_watch. */
static void put_slice(const char *name, char addrs[][32], int n, int ready)
{
	char path[256], *eps = endpoints_json(addrs, n, ready), *body;
	char *out = NULL;
	long st;

	snprintf(path, sizeof(path), "/apis/discovery.k8s.io/v1/namespaces/" NS "/endpointslices/%s",
	         name);
	body = zkc__sprintf("{\"endpoints\":%s}", eps);
	st = harness_kube_request(kube, "PATCH", path, body, "application/merge-patch+json", &out);
	free(out);
	free(body);
	if (st == 404) {
		body = zkc__sprintf("{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\","
		                    "\"metadata\":{\"name\":\"%s\",\"labels\":{\"kubernetes.io/"
		                    "service-name\":\"" SVC "\"}},\"addressType\":\"FQDN\",\"ports\":"
		                    "[{\"name\":\"client\",\"protocol\":\"TCP\",\"port\":%d}],"
		                    "\"endpoints\":%s}", name, port, eps);
		api("POST", "/apis/discovery.k8s.io/v1/namespaces/" NS "/endpointslices", body, NULL,
		    201, 201);
		free(body);
	} else if (st != 200) {
		fail_msg("PATCH %s: HTTP %ld", path, st);
	}
	free(eps);
}

static void put_slices(void)
{
	put_slice("zk-a", slice_a, na, 1);
	put_slice("zk-b", slice_b, nb, 1);
}

/* ------------------------------------------------------------ the session */

static char *servers_now(void)
{
	char *s = NULL;

	if (zkc_servers(&s, zk) != ZKC_OK)
		return NULL;
	return s;
}

static int servers_are(const char *want)
{
	char *s = servers_now();
	int same = s && strcmp(s, want) == 0;

	zkc_free(s);
	return same;
}

static int current_is(const char *hp)
{
	char *cur = NULL;
	int same;

	if (zkc_current_server(&cur, zk) != ZKC_OK)
		return 0;
	same = strcmp(cur, hp) == 0;
	zkc_free(cur);
	return same;
}

static int connected_elsewhere(const char *old)
{
	char *cur = NULL;
	int st = zkc_state(zk), moved;

	if (st != ZKC_STATE_CONNECTED && st != ZKC_STATE_RECONNECTED)
		return 0;
	if (zkc_current_server(&cur, zk) != ZKC_OK)
		return 0;
	moved = strcmp(cur, old) != 0;
	zkc_free(cur);
	return moved;
}

/* "127.0.0.2:P,127.0.0.3:P,..." of both slices, sorted as the provider
 * sorts. */
static void expected(char *buf, size_t cap)
{
	char *items[6];
	int n = 0;
	size_t off = 0;

	for (int i = 0; i < na; i++)
		items[n++] = zkc__sprintf("%s:%d", slice_a[i], port);
	for (int i = 0; i < nb; i++)
		items[n++] = zkc__sprintf("%s:%d", slice_b[i], port);
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && strcmp(items[j - 1], items[j]) > 0; j--) {
			char *t = items[j];

			items[j] = items[j - 1];
			items[j - 1] = t;
		}
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i == 0 || strcmp(items[i], items[i - 1]) != 0)
			off += (size_t)snprintf(buf + off, cap - off, "%s%s", off ? "," : "", items[i]);
	}
	for (int i = 0; i < n; i++)
		free(items[i]);
}

static void wait_servers_expected(const char *why)
{
	char want[256];

	expected(want, sizeof(want));
	H_WAIT_UNTIL(servers_are(want), H_TIMEOUT_MS);
	print_message("# %s: servers %s\n", why, want);
}

/* The session must be the first one, still connected, and able to write.
 * A changed server list can move the connection (libzookeeper rebalances
 * on zoo_set_servers) with the create in flight: its retry then finds the
 * node and, as documented, cannot say whose it is (ZKC_EUNKNOWN). The
 * path is this test's alone, so a node there is this write. */
static void session_still_works(const char *name)
{
	int64_t sid = 0;
	char *p = h_path(name);
	int rc;

	H_WAIT_UNTIL(zkc_state(zk) == ZKC_STATE_CONNECTED || zkc_state(zk) == ZKC_STATE_RECONNECTED,
	             H_TIMEOUT_MS);
	rc = zkc_create(NULL, NULL, zk, p, "k", 1, NULL);
	if (rc == ZKC_EUNKNOWN)
		rc = zkc_exists(NULL, zk, p);
	assert_int_equal(rc, ZKC_OK);
	free(p);
	assert_int_equal(zkc_session(&sid, NULL, NULL, zk), ZKC_OK);
	assert_true(sid == sid0);
	assert_int_equal(h_events_find(events, 0, ZKC_EVENT_STATE, ZKC_STATE_LOST), -1);
}

static int node_of(const char *hp)
{
	for (int i = 0; i < h_nodes(); i++) {
		char buf[64];

		snprintf(buf, sizeof(buf), "%s:%d", h_node_host(i), h_node_port(i));
		if (strcmp(buf, hp) == 0)
			return i;
	}
	return -1;
}

/* Removes addr from whichever slice has it; returns 1 if found. */
static int drop_addr(const char *addr)
{
	for (int i = 0; i < na; i++)
		if (strcmp(slice_a[i], addr) == 0) {
			memmove(slice_a[i], slice_a[i + 1], sizeof(slice_a[0]) * (size_t)(na - i - 1));
			na--;
			return 1;
		}
	for (int i = 0; i < nb; i++)
		if (strcmp(slice_b[i], addr) == 0) {
			memmove(slice_b[i], slice_b[i + 1], sizeof(slice_b[0]) * (size_t)(nb - i - 1));
			nb--;
			return 1;
		}
	return 0;
}

/* Replaces addr by to in whichever slice has it (a pod rescheduled with a
 * new IP keeps its slice). */
static int move_addr(const char *addr, const char *to)
{
	for (int i = 0; i < na; i++)
		if (strcmp(slice_a[i], addr) == 0) {
			snprintf(slice_a[i], sizeof(slice_a[i]), "%s", to);
			return 1;
		}
	for (int i = 0; i < nb; i++)
		if (strcmp(slice_b[i], addr) == 0) {
			snprintf(slice_b[i], sizeof(slice_b[i]), "%s", to);
			return 1;
		}
	return 0;
}

/* ------------------------------------------------------------ fixture */

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	zkc_ens_options_t o = ZKC_ENS_OPTIONS_INIT;
	char text[2048];

	(void)state;
	o.nodes = 3;
	o.distinct_addrs = 1;   /* server N on 127.0.0.(N+1), one shared port */
	if (h_start_opts(&o) != 0)
		return -1;
	port = h_node_port(0);
	if (harness_kube_start(&kube) != 0) {
		kube = NULL;
		return 0;   /* each test fails with the reason */
	}
	/* The client's own kubeconfig: tokenFile, so a rotated token is read
	 * again (the script's kubeconfig holds the never-rotated admin token). */
	snprintf(kubeconfig, sizeof(kubeconfig), "%s/zkc-kubeconfig", harness_kube_dir(kube));
	snprintf(text, sizeof(text),
	         "apiVersion: v1\nkind: Config\n"
	         "clusters:\n- name: t\n  cluster:\n    server: %s\n"
	         "    certificate-authority: %s\n"
	         "users:\n- name: u\n  user:\n    tokenFile: %s\n"
	         "contexts:\n- name: t\n  context: {cluster: t, user: u}\n"
	         "current-context: t\n",
	         harness_kube_server(kube), harness_kube_ca(kube), harness_kube_token_file(kube));
	write_text(kubeconfig, text);
	return 0;
}

static int teardown(void **state)
{
	if (zk)
		zkc_close(zk);
	zk = NULL;
	h_events_free(events);
	events = NULL;
	harness_kube_stop(kube);
	kube = NULL;
	for (int i = 0; i < log_n; i++)
		free(log_lines[i]);
	log_n = 0;
	return h_teardown(state);
}

#define NEED_KUBE() \
	do { \
		if (!kube) \
			fail_msg("no kube-apiserver (reason above): run tests/k8s/build.sh, or set " \
			         "ZKC_K8S_SCRIPTS to the directory of apiserver.sh"); \
		if (!zk && strcmp(__func__, "test_session_follows_endpointslices") != 0) \
			fail_msg("no session: the first test failed"); \
	} while (0)

/* Writes the slices and measures, from the write, when zkc_servers shows
 * the new list (*list_ms) and when the session is connected to another
 * server than old (the return value). */
static int64_t change_and_time_move(const char *old, int64_t *list_ms)
{
	char want[256];
	int64_t t0;

	expected(want, sizeof(want));
	t0 = h_now_ms();
	put_slices();
	*list_ms = -1;
	while (!connected_elsewhere(old) || *list_ms < 0) {
		if (*list_ms < 0 && servers_are(want))
			*list_ms = h_now_ms() - t0;
		if (h_now_ms() - t0 > h_timeout(H_TIMEOUT_MS))
			fail_msg("the session did not leave %s, or the list did not become %s, within "
			         "%d ms", old, want, h_timeout(H_TIMEOUT_MS));
		usleep(1000);
	}
	return h_now_ms() - t0;
}

/* ------------------------------------------------------------ tests */

static void test_session_follows_endpointslices(void **state)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	char url[800], body[512], *cur = NULL, old[64], gone_addr[32], moved_from[32];
	int from;
	int64_t ms, list_ms;
	(void)state;

	NEED_KUBE();
	api("POST", "/api/v1/namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
	    "\"metadata\":{\"name\":\"" NS "\"}}", NULL, 201, 409);
	snprintf(body, sizeof(body), "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":"
	         "{\"name\":\"" SVC "\"},\"spec\":{\"clusterIP\":\"None\",\"ports\":[{\"name\":"
	         "\"client\",\"port\":%d,\"targetPort\":%d}]}}", port, port);
	api("POST", "/api/v1/namespaces/" NS "/services", body, NULL, 201, 409);

	/* zk-a: nodes 0 and 1 */
	na = 2;
	nb = 0;
	snprintf(slice_a[0], sizeof(slice_a[0]), "%s", h_node_host(0));
	snprintf(slice_a[1], sizeof(slice_a[1]), "%s", h_node_host(1));
	put_slices();

	events = h_events_new();
	o.log_fn = log_fn;
	o.log_level = ZKC_LOG_DEBUG;
	snprintf(url, sizeof(url), "zk+k8s://" SVC "." NS ":%d?kubeconfig=%s", port, kubeconfig);
	zk = h_open(url, &o);
	assert_int_equal(zkc_listener_add(NULL, zk, h_events_state, events), ZKC_OK);
	assert_int_equal(zkc_session(&sid0, NULL, NULL, zk), ZKC_OK);
	wait_servers_expected("opened");

	/* scale up: a second slice with node 2 */
	nb = 1;
	snprintf(slice_b[0], sizeof(slice_b[0]), "%s", h_node_host(2));
	put_slice("zk-b", slice_b, nb, 1);
	wait_servers_expected("added a server");
	session_still_works("after_add");

	/* scale down: the server the session is on goes away */
	assert_int_equal(zkc_current_server(&cur, zk), ZKC_OK);
	snprintf(old, sizeof(old), "%s", cur);
	zkc_free(cur);
	snprintf(gone_addr, sizeof(gone_addr), "%.*s", (int)(strrchr(old, ':') - old), old);
	assert_true(drop_addr(gone_addr));
	ms = change_and_time_move(old, &list_ms);
	print_message("# moved in %lld ms (server %s removed from its EndpointSlice; the new "
	              "list was in zkc_servers after %lld ms)\n", (long long)ms, old,
	              (long long)list_ms);
	wait_servers_expected("removed a server");
	session_still_works("after_remove");

	/* a rescheduled pod: the server the session is on now comes back at
	 * the free address, and its old address dies */
	assert_int_equal(zkc_current_server(&cur, zk), ZKC_OK);
	snprintf(old, sizeof(old), "%s", cur);
	zkc_free(cur);
	snprintf(moved_from, sizeof(moved_from), "%.*s", (int)(strrchr(old, ':') - old), old);
	assert_true(move_addr(moved_from, gone_addr));
	ms = change_and_time_move(old, &list_ms);
	print_message("# moved in %lld ms (pod moved %s -> %s; the new list was in zkc_servers "
	              "after %lld ms)\n", (long long)ms, moved_from, gone_addr, (long long)list_ms);
	wait_servers_expected("moved a server");
	from = node_of(old);
	assert_true(from >= 0);
	assert_int_equal(h_kill(from), 0);
	session_still_works("after_move");
	assert_false(current_is(old));
	/* the old address's server comes back (for the quorum of later tests);
	 * it is not in the list, so the session stays away from it */
	assert_int_equal(h_restart(from), 0);
	/* back to all three: the old address too */
	nb++;
	snprintf(slice_b[nb - 1], sizeof(slice_b[0]), "%s", moved_from);
	put_slices();
	wait_servers_expected("all three again");
	session_still_works("after_restore");
}

static void test_unready_endpoints_never_empty_the_list(void **state)
{
	char want[256];
	int mark = log_count();
	(void)state;

	NEED_KUBE();
	/* every pod unready (a rolling restart gone wrong): zk-a's first, which
	 * leaves zk-b's servers, then zk-b's, which leaves none: the list
	 * stays zk-b's */
	put_slice("zk-a", slice_a, na, 0);
	{
		int keep = na;

		na = 0;
		wait_servers_expected("zk-a unready");
		expected(want, sizeof(want));
		na = keep;
	}
	put_slice("zk-b", slice_b, nb, 0);
	H_WAIT_UNTIL(log_has(mark, "keeping the last list"), H_TIMEOUT_MS);
	assert_true(servers_are(want));
	session_still_works("unready");
	/* ready again: a change after that is still followed */
	put_slice("zk-a", slice_a, na, 1);
	put_slice("zk-b", slice_b, nb, 1);
	na--;   /* zk-a's last server leaves */
	put_slice("zk-a", slice_a, na, 1);
	wait_servers_expected("ready again, one fewer");
	na++;
	put_slice("zk-a", slice_a, na, 1);
	wait_servers_expected("ready again, all");
}

static void test_follows_after_api_server_restart(void **state)
{
	int mark = log_count();
	(void)state;

	NEED_KUBE();
	assert_int_equal(harness_kube_restart(kube, NULL), 0);
	nb--;
	put_slice("zk-b", slice_b, nb, 1);
	wait_servers_expected("after an API server restart");
	print_message("# API server restart: watch %s; %s\n",
	              log_has(mark, "watch connection ended") ? "saw its stream end" :
	              "stream end not logged",
	              log_has(mark, "410 Gone") ? "the resumed watch got 410 Gone and listed again" :
	              "the watch resumed from its resourceVersion (no 410)");
	/* A restarted kube-apiserver's watch cache starts after the writes of
	 * its own start, so the resumed watch's resourceVersion is "too old":
	 * the real ERROR 410 event, and the relist it must cause. */
	assert_true(log_has(mark, "410 Gone: too old resource version"));
	nb++;
	put_slice("zk-b", slice_b, nb, 1);
	wait_servers_expected("after an API server restart, again");
	session_still_works("api_restart");
}

static void rotate_file(const char *token)
{
	char tmp[600];

	snprintf(tmp, sizeof(tmp), "%s.new", harness_kube_token_file(kube));
	write_text(tmp, token);
	assert_int_equal(rename(tmp, harness_kube_token_file(kube)), 0);
}

static void test_rotated_token_is_read_again(void **state)
{
	int mark = log_count();
	(void)state;

	NEED_KUBE();
	/* the server rotates first: the client's token is refused (401) until
	 * the new one lands in its file, which it then reads again */
	assert_int_equal(harness_kube_restart(kube, "rotated-1"), 0);
	H_WAIT_UNTIL(log_has(mark, "HTTP 401"), H_TIMEOUT_MS);
	assert_false(log_has(0, "rotated-1"));   /* no token in a log line */
	rotate_file("rotated-1");
	na--;
	put_slice("zk-a", slice_a, na, 1);
	wait_servers_expected("after a 401 and a new token in the file");
	/* the file first, then the server: no refusal needed */
	rotate_file("rotated-2");
	assert_int_equal(harness_kube_restart(kube, "rotated-2"), 0);
	na++;
	put_slice("zk-a", slice_a, na, 1);
	wait_servers_expected("after a planned rotation");
	assert_false(log_has(0, "rotated-2"));
	session_still_works("token");
}

typedef struct gone_ctx {
	zkc__k8s_set_t set;
	int errors_410, other;
} gone_ctx_t;

static int gone_line(void *ctx, const char *line, size_t len)
{
	gone_ctx_t *g = ctx;
	zkc__k8s_event_t ev;

	if (zkc__k8s_apply_event(&g->set, line, len, &ev) != ZKC_OK) {
		fprintf(stderr, "# unparsed line: %.*s (%s)\n", (int)len, line,
		        zkc_error_last()->message);
		g->other++;
		return ZKC_OK;
	}
	if (ev.type == ZKC__K8S_ERROR && ev.code == 410)
		g->errors_410++;
	else
		g->other++;
	return ZKC_OK;
}

/* The real server's answer to a watch from a resourceVersion it no longer
 * has, through the provider's own parser: forcing the provider's watch
 * that far back against a live server is not practical, so the relist it
 * triggers is tested at the unit level (test_k8s_parse) with this format. */
static void test_real_410_answer_parses_as_gone(void **state)
{
	gone_ctx_t g;
	zkc__k8s_lines_t l = { 0 };
	char *out = NULL;
	long st;
	(void)state;

	NEED_KUBE();
	memset(&g, 0, sizeof(g));
	zkc__k8s_set_init(&g.set, port);
	st = harness_kube_request(kube, "GET", "/apis/discovery.k8s.io/v1/namespaces/" NS
	                          "/endpointslices?watch=1&resourceVersion=1&timeoutSeconds=5",
	                          NULL, NULL, &out);
	print_message("# watch from resourceVersion 1: HTTP %ld, %.200s\n", st, out ? out : "");
	if (st == 200) {
		assert_int_equal(zkc__k8s_lines_feed(&l, out, strlen(out), gone_line, &g), ZKC_OK);
		assert_int_equal(zkc__k8s_lines_end(&l), ZKC_OK);
		assert_int_equal(g.errors_410, 1);
	} else {
		assert_int_equal(st, 410);
	}
	free(out);
	zkc__k8s_set_clear(&g.set);
}

/* Runs `zkc ARGS` from the build tree; returns its exit status and, if
 * out is given, its stdout (malloc'd). */
static int run_zkc(char **out, const char *args)
{
	return h_run_zkc(out, NULL, args);
}

static void test_cli_discover_and_health(void **state)
{
	char args[1200], want[256], *out = NULL, *json;
	int64_t t0;
	(void)state;

	NEED_KUBE();
	expected(want, sizeof(want));
	snprintf(args, sizeof(args), "discover --json 'zk+k8s://" SVC "." NS ":%d?kubeconfig=%s'",
	         port, kubeconfig);
	assert_int_equal(run_zkc(&out, args), 0);
	json = zkc__sprintf("{\"servers\":[\"%s\"]}\n", want);
	for (char *c = json; *c; c++)      /* a,b -> "a","b" */
		if (*c == ',') {
			char *j = zkc__sprintf("%.*s\",\"%s", (int)(c - json), json, c + 1);

			c = j + (c - json) + 2;
			free(json);
			json = j;
		}
	assert_string_equal(out, json);
	free(json);
	free(out);
	/* a Service with no slices: nothing found, exit 1 */
	snprintf(args, sizeof(args), "discover 'zk+k8s://nosuch." NS ":%d?kubeconfig=%s' "
	         "2>/dev/null", port, kubeconfig);
	assert_int_equal(run_zkc(NULL, args), 1);
	/* a broken configuration: exit 2 */
	assert_int_equal(run_zkc(NULL, "discover 'zk+k8s://zk.ns:1?kubeconfig=/nonexistent' "
	                         "2>/dev/null"), 2);

	snprintf(args, sizeof(args), "health --timeout 20s 'zk+k8s://" SVC "." NS ":%d?"
	         "kubeconfig=%s'", port, kubeconfig);
	assert_int_equal(run_zkc(&out, args), 0);
	assert_int_equal(strncmp(out, "ok: session 0x", 14), 0);
	free(out);
	/* nothing listens there: exit 7 within about the timeout */
	t0 = h_now_ms();
	assert_int_equal(run_zkc(NULL, "health --timeout 1s zk://127.0.0.1:1 2>/dev/null"), 7);
	assert_true(h_now_ms() - t0 < 10000);
}

static void test_close_is_prompt_during_a_watch(void **state)
{
	int64_t t0;
	(void)state;

	NEED_KUBE();
	session_still_works("before_close");
	t0 = h_now_ms();
	zkc_close(zk);
	zk = NULL;
	print_message("# zkc_close with a watch open took %lld ms\n", (long long)(h_now_ms() - t0));
	assert_true(h_now_ms() - t0 < 5000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_follows_endpointslices),
		cmocka_unit_test(test_unready_endpoints_never_empty_the_list),
		cmocka_unit_test(test_follows_after_api_server_restart),
		cmocka_unit_test(test_rotated_token_is_read_again),
		cmocka_unit_test(test_real_410_answer_parses_as_gone),
		cmocka_unit_test(test_cli_discover_and_health),
		cmocka_unit_test(test_close_is_prompt_during_a_watch),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
