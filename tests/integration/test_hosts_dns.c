/* tests/integration/test_hosts_dns.c - the static and DNS host providers
 * against a dnsmasq the test controls, and a fake server's broken answers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dnsmasq.h"
#include "internal.h"

#define WAIT_MS 15000            /* generous: a loaded CI machine is slow */
#define INTERVAL "100ms"         /* fast re-resolution for the tests */
#define FIRST_WAIT_MS 5000       /* DNS_FIRST_WAIT_MS in hosts_dns.c */
#define QUERY_MAX_MS 3000        /* one unanswered query, see hosts_dns.c */

/* ------------------------------------------------------------ log capture */

#define LOG_LINES 2000

typedef struct logcap {
	pthread_mutex_t mu;
	char *lines[LOG_LINES];
	int levels[LOG_LINES];
	int n;
} logcap_t;

static void log_fn(int level, const char *message, void *payload)
{
	logcap_t *c = payload;

	if (getenv("ZKC_TEST_VERBOSE"))
		fprintf(stderr, "[log %d] %s\n", level, message);
	pthread_mutex_lock(&c->mu);
	if (c->n < LOG_LINES) {
		c->levels[c->n] = level;
		c->lines[c->n++] = strdup(message);
	}
	pthread_mutex_unlock(&c->mu);
}

/* 1 if a line at `level` contains every needle (NULL-terminated). */
static int logcap_has(logcap_t *c, int level, ...)
{
	int found = 0;

	pthread_mutex_lock(&c->mu);
	for (int i = 0; i < c->n && !found; i++) {
		const char *needle;
		va_list ap;
		int all = c->levels[i] == level && c->lines[i];

		va_start(ap, level);
		while (all && (needle = va_arg(ap, const char *)) != NULL)
			all = strstr(c->lines[i], needle) != NULL;
		va_end(ap);
		found = all;
	}
	pthread_mutex_unlock(&c->mu);
	return found;
}

/* ------------------------------------------------------------ notifications */

typedef struct notes {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int count;
	char *last;
} notes_t;

static void notify_fn(void *ctx, const char *servers)
{
	notes_t *n = ctx;

	pthread_mutex_lock(&n->mu);
	free(n->last);
	n->last = strdup(servers);
	n->count++;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
}

/* Waits until the last notification is `want`; 1 if it came in time. */
static int notes_wait(notes_t *n, const char *want, int timeout_ms)
{
	struct timespec ts;
	int ok;

	zkc__deadline_ts(&ts, timeout_ms);
	pthread_mutex_lock(&n->mu);
	while (!(ok = n->last && strcmp(n->last, want) == 0))
		if (pthread_cond_timedwait(&n->cv, &n->mu, &ts) == ETIMEDOUT)
			break;
	if (!ok)
		fprintf(stderr, "waited %d ms for notify \"%s\", last \"%s\" (%d notifications)\n",
		        timeout_ms, want, n->last ? n->last : "(none)", n->count);
	pthread_mutex_unlock(&n->mu);
	return ok;
}

static int notes_count(notes_t *n)
{
	int c;

	pthread_mutex_lock(&n->mu);
	c = n->count;
	pthread_mutex_unlock(&n->mu);
	return c;
}

/* ------------------------------------------------------------ fixture */

typedef struct fx {
	harness_dnsmasq_t *dns;
	logcap_t cap;
	zkc__log_t log;
	notes_t notes;
	zkc__url_t *url;
	zkc__hosts_t *h;
} fx_t;

static int fx_setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	pthread_mutex_init(&f->cap.mu, NULL);
	pthread_mutex_init(&f->notes.mu, NULL);
	assert_int_equal(zkc__cond_init(&f->notes.cv), ZKC_OK);
	f->log.fn = log_fn;
	f->log.payload = &f->cap;
	f->log.level = ZKC_LOG_INFO;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	fx_t *f = *state;

	zkc__hosts_free(f->h);
	zkc__url_free(f->url);
	harness_dnsmasq_stop(f->dns);
	for (int i = 0; i < f->cap.n; i++)
		free(f->cap.lines[i]);
	free(f->notes.last);
	pthread_cond_destroy(&f->notes.cv);
	pthread_mutex_destroy(&f->notes.mu);
	pthread_mutex_destroy(&f->cap.mu);
	free(f);
	return 0;
}

/* Starts dnsmasq for the test, or skips it where dnsmasq is missing. */
static void fx_dns(fx_t *f, const char *hosts, const char *const *srv)
{
	int rc = harness_dnsmasq_start(&f->dns, hosts, srv);

	if (rc == 1)
		skip();
	assert_int_equal(rc, 0);
}

/* Parses the URL (printf-style) and builds its provider. */
static void fx_open(fx_t *f, const char *fmt, ...) ZKC__PRINTF(2, 3);
static void fx_open(fx_t *f, const char *fmt, ...)
{
	char url[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(url, sizeof(url), fmt, ap);
	va_end(ap);
	rc = zkc__url_parse(&f->url, url);
	if (rc != ZKC_OK)
		fprintf(stderr, "%s: %s\n", url, zkc_error_last()->message);
	assert_int_equal(rc, ZKC_OK);
	rc = zkc__hosts_new(&f->h, f->url, &f->log);
	if (rc != ZKC_OK)
		fprintf(stderr, "%s: %s\n", url, zkc_error_last()->message);
	assert_int_equal(rc, ZKC_OK);
}

static void assert_current(fx_t *f, const char *want)
{
	char *list = NULL;

	assert_int_equal(zkc__hosts_current(f->h, &list), ZKC_OK);
	assert_non_null(list);
	assert_string_equal(list, want);
	free(list);
}

/* Waits until dnsmasq has seen `n` more queries matching needle, proving the
 * provider ran that many lookups: no fixed sleeps. */
static void wait_queries(fx_t *f, const char *needle, int n)
{
	int64_t deadline = zkc__now_ms() + WAIT_MS;
	int target = harness_dnsmasq_queries(f->dns, needle) + n;

	while (harness_dnsmasq_queries(f->dns, needle) < target) {
		assert_true(zkc__now_ms() < deadline);
		zkc__sleep_ms(20);
	}
}

/* A loopback port with nothing listening (UDP), for "server is down". */
static int dead_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), port;

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* ------------------------------------------------------------ static provider */

static void test_static_keeps_names_unresolved(void **state)
{
	fx_t *f = *state;

	fx_open(f, "zk://nosuch.invalid:2181,127.0.0.1:2182,[::1]:2183/app");
	assert_string_equal(f->h->ops->name, "static");
	/* Names stay names for libzookeeper; an unresolvable one is not an error. */
	assert_current(f, "nosuch.invalid:2181,127.0.0.1:2182,::1:2183");
	assert_int_equal(zkc__hosts_start(f->h, notify_fn, &f->notes), ZKC_OK);
	assert_current(f, "nosuch.invalid:2181,127.0.0.1:2182,::1:2183");
	assert_int_equal(notes_count(&f->notes), 0);
}

static void test_factory_picks_provider_and_k8s_needs_config(void **state)
{
	fx_t *f = *state;
	zkc__url_t *url = NULL;
	zkc__hosts_t *h = NULL;

	/* zk+k8s (hosts_k8s.c, tests/unit/test_k8s_*): a config that cannot
	 * be read fails the open with its reason. */
	assert_int_equal(zkc__url_parse(&url, "zk+k8s://zk-hs.ns:2181?kubeconfig=%2Fnonexistent"),
	                 ZKC_OK);
	assert_int_equal(zkc__hosts_new(&h, url, &f->log), ZKC_EBADARGUMENTS);
	assert_null(h);
	assert_non_null(strstr(zkc_error_last()->message, "cannot read kubeconfig /nonexistent"));
	zkc__url_free(url);

	fx_open(f, "zk+dns://127.0.0.1:2181");
	assert_string_equal(f->h->ops->name, "dns");
	assert_current(f, "127.0.0.1:2181");
}

/* ------------------------------------------------------------ A / AAAA */

static void test_dns_resolves_a_and_aaaa(void **state)
{
	fx_t *f = *state;

	fx_dns(f,
	       "127.0.0.5 a.test.local\n"
	       "127.0.0.6 a.test.local\n"
	       "::1 a.test.local\n"
	       "127.0.0.7 b.test.local\n"
	       "127.0.0.5 alias.test.local\n",
	       NULL);
	/* alias resolves to a's address with a's port: one server, listed once;
	 * literals are kept (IPv6 without brackets). */
	fx_open(f, "zk+dns://a.test.local:2181,b.test.local:2182,alias.test.local:2181,"
	        "10.1.2.3:2183,[2001:db8::1]:2184?dns_server=%s:%d&dns_interval=" INTERVAL,
	        harness_dnsmasq_ip(f->dns), harness_dnsmasq_port(f->dns));
	assert_current(f, "10.1.2.3:2183,127.0.0.5:2181,127.0.0.6:2181,127.0.0.7:2182,"
	               "2001:db8::1:2184,::1:2181");
	assert_false(logcap_has(&f->cap, ZKC_LOG_WARN, "", NULL));
}

static void test_dns_follows_a_change_and_notifies_only_on_change(void **state)
{
	fx_t *f = *state;

	fx_dns(f, "127.0.0.5 a.test.local\n", NULL);
	fx_open(f, "zk+dns://a.test.local:2181?dns_server=%s:%d&dns_interval=" INTERVAL,
	        harness_dnsmasq_ip(f->dns), harness_dnsmasq_port(f->dns));
	assert_current(f, "127.0.0.5:2181");
	assert_int_equal(zkc__hosts_start(f->h, notify_fn, &f->notes), ZKC_OK);

	/* Several passes with the same answer: no notification. */
	wait_queries(f, "query[A] a.test.local ", 3);
	assert_int_equal(notes_count(&f->notes), 0);

	assert_int_equal(harness_dnsmasq_set_hosts(f->dns, "127.0.0.8 a.test.local\n"
	                                                    "::1 a.test.local\n"), 0);
	assert_true(notes_wait(&f->notes, "127.0.0.8:2181,::1:2181", WAIT_MS));
	assert_int_equal(notes_count(&f->notes), 1);
	assert_current(f, "127.0.0.8:2181,::1:2181");
	assert_true(logcap_has(&f->cap, ZKC_LOG_INFO, "servers now", "127.0.0.8:2181", NULL));
}

static void test_dns_name_appears_and_disappears(void **state)
{
	fx_t *f = *state;

	fx_dns(f, "127.0.0.5 a.test.local\n", NULL);
	fx_open(f, "zk+dns://c.test.local:2181?dns_server=%s:%d&dns_interval=" INTERVAL,
	        harness_dnsmasq_ip(f->dns), harness_dnsmasq_port(f->dns));
	/* Not an error: a server that is down, and a WARN saying why. */
	assert_current(f, "");
	assert_true(logcap_has(&f->cap, ZKC_LOG_WARN, "c.test.local", "NXDOMAIN", NULL));
	assert_true(logcap_has(&f->cap, ZKC_LOG_WARN, "server list is empty", NULL));
	assert_int_equal(zkc__hosts_start(f->h, notify_fn, &f->notes), ZKC_OK);

	assert_int_equal(harness_dnsmasq_set_hosts(f->dns, "127.0.0.5 a.test.local\n"
	                                                    "127.0.0.9 c.test.local\n"), 0);
	assert_true(notes_wait(&f->notes, "127.0.0.9:2181", WAIT_MS));
	assert_true(logcap_has(&f->cap, ZKC_LOG_INFO, "every name resolves again", NULL));

	assert_int_equal(harness_dnsmasq_set_hosts(f->dns, "127.0.0.5 a.test.local\n"), 0);
	assert_true(notes_wait(&f->notes, "", WAIT_MS));
	assert_int_equal(notes_count(&f->notes), 2);
}

static void test_dns_partial_resolution_keeps_the_rest(void **state)
{
	fx_t *f = *state;

	fx_dns(f, "127.0.0.5 a.test.local\n", NULL);
	fx_open(f, "zk+dns://a.test.local:2181,down.test.local:2181?dns_server=%s:%d"
	        "&dns_interval=" INTERVAL,
	        harness_dnsmasq_ip(f->dns), harness_dnsmasq_port(f->dns));
	assert_current(f, "127.0.0.5:2181");
	assert_true(logcap_has(&f->cap, ZKC_LOG_WARN, "down.test.local", NULL));
}

/* ------------------------------------------------------------ SRV */

static void test_srv_resolves_targets_with_ports(void **state)
{
	fx_t *f = *state;
	const char *srv[] = {
		"_zk._tcp.test.local,a.test.local,2181,0,0",
		"_zk._tcp.test.local,b.test.local,2182,1,5",
		"_zk._tcp.test.local,gone.test.local,2183",
		NULL,
	};

	fx_dns(f, "127.0.0.5 a.test.local\n::1 a.test.local\n127.0.0.7 b.test.local\n", srv);
	fx_open(f, "zk+srv://_zk._tcp.test.local?dns_server=%s:%d&dns_interval=" INTERVAL,
	        harness_dnsmasq_ip(f->dns), harness_dnsmasq_port(f->dns));
	assert_current(f, "127.0.0.5:2181,127.0.0.7:2182,::1:2181");
	/* The target that does not resolve costs only itself. */
	assert_true(logcap_has(&f->cap, ZKC_LOG_WARN, "SRV target gone.test.local", NULL));
}

static void test_srv_name_without_records_then_records_appear(void **state)
{
	fx_t *f = *state;
	const char *srv[] = { "_zk._tcp.test.local,a.test.local,2181", NULL };

	fx_dns(f, "127.0.0.5 a.test.local\n", NULL);
	fx_open(f, "zk+srv://_zk._tcp.test.local?dns_server=%s:%d&dns_interval=" INTERVAL,
	        harness_dnsmasq_ip(f->dns), harness_dnsmasq_port(f->dns));
	/* No records yet (a Service without ready pods): empty, with the reason. */
	assert_current(f, "");
	assert_true(logcap_has(&f->cap, ZKC_LOG_WARN, "SRV _zk._tcp.test.local",
	                       "no such name (NXDOMAIN)", NULL));
	assert_int_equal(zkc__hosts_start(f->h, notify_fn, &f->notes), ZKC_OK);

	assert_int_equal(harness_dnsmasq_set_srv(f->dns, srv), 0);
	assert_true(notes_wait(&f->notes, "127.0.0.5:2181", WAIT_MS));

	/* A new member behind the same SRV name is followed too. */
	const char *srv2[] = { srv[0], "_zk._tcp.test.local,a.test.local,2182", NULL };
	assert_int_equal(harness_dnsmasq_set_srv(f->dns, srv2), 0);
	assert_true(notes_wait(&f->notes, "127.0.0.5:2181,127.0.0.5:2182", WAIT_MS));
}

/* ------------------------------------------------------------ failures, bounds */

static void test_dns_server_not_listening_gives_empty_list_fast(void **state)
{
	fx_t *f = *state;
	int port = dead_port();
	char where[64];
	int64_t t0, took;

	fx_open(f, "zk+dns://a.test.local:2181?dns_server=127.0.0.1:%d&dns_interval=" INTERVAL,
	        port);
	t0 = zkc__now_ms();
	assert_current(f, "");
	took = zkc__now_ms() - t0;
	assert_true(took < FIRST_WAIT_MS + 1000);
	snprintf(where, sizeof(where), "127.0.0.1:%d", port);
	assert_true(logcap_has(&f->cap, ZKC_LOG_WARN, "a.test.local", where, NULL));
}

/* A UDP socket that never answers: current() gives up at its bound and
 * free() waits out at most the query in flight. */
static void test_dns_server_silent_is_bounded(void **state)
{
	fx_t *f = *state;
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int64_t t0, took;

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);

	fx_open(f, "zk+dns://a.test.local:2181,b.test.local:2181?dns_server=127.0.0.1:%d",
	        ntohs(a.sin_port));
	t0 = zkc__now_ms();
	assert_current(f, "");
	took = zkc__now_ms() - t0;
	assert_true(took >= FIRST_WAIT_MS - 100 && took < FIRST_WAIT_MS + 1000);
	assert_true(logcap_has(&f->cap, ZKC_LOG_WARN, "did not finish within", NULL));

	t0 = zkc__now_ms();
	zkc__hosts_free(f->h);
	f->h = NULL;
	took = zkc__now_ms() - t0;
	assert_true(took < QUERY_MAX_MS + 1000);
	close(fd);
}

static void test_free_stops_the_thread_promptly(void **state)
{
	fx_t *f = *state;
	int64_t t0, took;

	fx_dns(f, "127.0.0.5 a.test.local\n", NULL);
	fx_open(f, "zk+dns://a.test.local:2181?dns_server=%s:%d&dns_interval=60s",
	        harness_dnsmasq_ip(f->dns), harness_dnsmasq_port(f->dns));
	assert_current(f, "127.0.0.5:2181");
	assert_int_equal(zkc__hosts_start(f->h, notify_fn, &f->notes), ZKC_OK);
	t0 = zkc__now_ms();
	zkc__hosts_free(f->h);
	f->h = NULL;
	took = zkc__now_ms() - t0;
	assert_true(took < 500);   /* the 60 s wait is cut short, not slept */
}

static void test_huge_answer_is_capped(void **state)
{
	fx_t *f = *state;
	size_t cap = 300 * 40, off = 0;
	char *hosts = malloc(cap), *list = NULL;
	size_t commas = 0;

	assert_non_null(hosts);
	for (int i = 0; i < 300; i++)
		off += (size_t)snprintf(hosts + off, cap - off, "127.0.%d.%d big.test.local\n",
		                        1 + i / 200, 1 + i % 200);
	fx_dns(f, hosts, NULL);
	free(hosts);
	/* 300 A records do not fit UDP: this also proves the TCP retry. */
	fx_open(f, "zk+dns://big.test.local:2181?dns_server=%s:%d",
	        harness_dnsmasq_ip(f->dns), harness_dnsmasq_port(f->dns));
	assert_int_equal(zkc__hosts_current(f->h, &list), ZKC_OK);
	for (const char *c = list; *c; c++)
		commas += *c == ',';
	assert_int_equal(commas + 1, 256);
	free(list);
	assert_true(logcap_has(&f->cap, ZKC_LOG_WARN, "more than 256 servers", NULL));
}

/* ------------------------------------------------------------ bad input */

static int new_with(fx_t *f, int scheme, const char *host, int port, const char *dns_server,
                    int dns_port, int interval_ms, const char *needle)
{
	zkc__hostport_t hp = { (char *)host, port };
	zkc__url_t url;
	zkc__hosts_t *h = (zkc__hosts_t *)&url;   /* must come back NULL */
	int rc;

	memset(&url, 0, sizeof(url));
	url.scheme = scheme;
	url.nhosts = host ? 1 : 0;
	url.hosts = host ? &hp : NULL;
	url.dns_server = (char *)dns_server;
	url.dns_port = dns_port;
	url.dns_interval_ms = interval_ms;
	rc = zkc__hosts_new(&h, &url, &f->log);
	assert_null(h);
	if (needle && !strstr(zkc_error_last()->message, needle)) {
		fprintf(stderr, "message \"%s\" lacks \"%s\"\n", zkc_error_last()->message, needle);
		fail();
	}
	return rc;
}

static void test_bad_input_gets_a_clear_error(void **state)
{
	fx_t *f = *state;
	char long_name[300], long_label[80];
	zkc__hosts_t *h = NULL;

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	for (size_t i = 50; i < sizeof(long_name) - 1; i += 50)
		long_name[i] = '.';
	snprintf(long_label, sizeof(long_label), "%064d.test.local", 0);

	assert_int_equal(new_with(f, ZKC__SCHEME_DNS, "", 2181, NULL, 0, 0, "empty host name"),
	                 ZKC_EBADARGUMENTS);
	assert_int_equal(new_with(f, ZKC__SCHEME_DNS, ".", 2181, NULL, 0, 0, "empty host name"),
	                 ZKC_EBADARGUMENTS);
	assert_int_equal(new_with(f, ZKC__SCHEME_DNS, long_name, 2181, NULL, 0, 0,
	                          "DNS allows 253"), ZKC_EBADARGUMENTS);
	assert_int_equal(new_with(f, ZKC__SCHEME_DNS, long_label, 2181, NULL, 0, 0,
	                          "label longer than 63"), ZKC_EBADARGUMENTS);
	assert_int_equal(new_with(f, ZKC__SCHEME_DNS, "a..test.local", 2181, NULL, 0, 0,
	                          "empty label"), ZKC_EBADARGUMENTS);
	assert_int_equal(new_with(f, ZKC__SCHEME_DNS, "a b.test.local", 2181, NULL, 0, 0,
	                          "invalid character at position 2"), ZKC_EBADARGUMENTS);
	assert_int_equal(new_with(f, ZKC__SCHEME_DNS, "a.test.local", 0, NULL, 0, 0,
	                          "not in 1..65535"), ZKC_EBADARGUMENTS);
	assert_int_equal(new_with(f, ZKC__SCHEME_DNS, NULL, 0, NULL, 0, 0, "names no host"),
	                 ZKC_EBADARGUMENTS);
	assert_int_equal(new_with(f, ZKC__SCHEME_SRV, "zk-hs.ns.svc.cluster.local", 0, NULL, 0, 0,
	                          "not an SRV name"), ZKC_EBADARGUMENTS);
	assert_int_equal(new_with(f, ZKC__SCHEME_SRV, "_zk._tcp", 0, NULL, 0, 0,
	                          "not an SRV name"), ZKC_EBADARGUMENTS);
	assert_int_equal(new_with(f, ZKC__SCHEME_DNS, "a.test.local", 2181, "dns.example", 53, 0,
	                          "not an IP address"), ZKC_EBADARGUMENTS);
	assert_int_equal(new_with(f, ZKC__SCHEME_DNS, "a.test.local", 2181, "127.0.0.1", 70000, 0,
	                          "not in 1..65535"), ZKC_EBADARGUMENTS);
	assert_int_equal(new_with(f, ZKC__SCHEME_DNS, "a.test.local", 2181, NULL, 0, -5,
	                          "negative"), ZKC_EBADARGUMENTS);
	assert_int_equal(new_with(f, 99, "a.test.local", 2181, NULL, 0, 0, "unknown URL scheme"),
	                 ZKC_EBADARGUMENTS);
	assert_int_equal(zkc__hosts_new(&h, NULL, &f->log), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc__hosts_dns_new(NULL, NULL, NULL), ZKC_EBADARGUMENTS);
}

/* ------------------------------------------------------------ malformed answers */

/* A UDP "DNS server" that answers with crafted, mostly broken messages:
 * the provider must not crash, and must ignore what it cannot parse. */
typedef struct fake_dns {
	int fd;
	int port;
	atomic_int stop;
	pthread_t thread;
} fake_dns_t;

static size_t put16(unsigned char *b, size_t at, unsigned v)
{
	b[at] = (unsigned char)(v >> 8);
	b[at + 1] = (unsigned char)v;
	return at + 2;
}

/* An answer record owned by the question's name (pointer to offset 12). */
static size_t put_rr_head(unsigned char *b, size_t at, unsigned type, unsigned rdlen)
{
	at = put16(b, at, 0xC00C);
	at = put16(b, at, type);
	at = put16(b, at, 1);            /* IN */
	at = put16(b, at, 0);
	at = put16(b, at, 60);           /* TTL */
	return put16(b, at, rdlen);
}

static size_t fake_answer(const unsigned char *q, size_t qlen, unsigned char *r, size_t cap)
{
	char name[256];
	size_t at = 12, n = 0;
	unsigned qtype, ancount = 0, rcode = 0;

	if (qlen < 17 || qlen > cap - 600)
		return 0;
	while (at < qlen && q[at] != 0 && n < sizeof(name) - 70) {
		unsigned l = q[at];
		if (l > 63 || at + 1 + l > qlen)
			return 0;
		if (n)
			name[n++] = '.';
		memcpy(name + n, q + at + 1, l);
		n += l;
		at += 1 + l;
	}
	name[n] = '\0';
	if (at + 5 > qlen)
		return 0;
	qtype = (unsigned)(q[at + 1] << 8 | q[at + 2]);
	at += 5;                         /* root label, type, class */
	memcpy(r, q, at);                /* header and question */

	if (qtype == ns_t_a && strcmp(name, "good.test.local") == 0) {
		static const unsigned char ip[4] = { 127, 0, 0, 44 };
		at = put_rr_head(r, at, ns_t_a, 4);
		memcpy(r + at, ip, 4);
		at += 4;
		ancount = 1;
	} else if (qtype == ns_t_a && strcmp(name, "trunc.test.local") == 0) {
		/* Two records announced, the second cut inside its header. */
		at = put_rr_head(r, at, ns_t_a, 4);
		memset(r + at, 127, 4);
		at += 4;
		at = put16(r, at, 0xC00C);
		at = put16(r, at, ns_t_a);
		ancount = 2;
	} else if (qtype == ns_t_a && strcmp(name, "badlen.test.local") == 0) {
		at = put_rr_head(r, at, ns_t_a, 3);
		memset(r + at, 1, 3);
		at += 3;
		ancount = 1;
	} else if (qtype == ns_t_a && strcmp(name, "count.test.local") == 0) {
		at = put_rr_head(r, at, ns_t_a, 4);
		memset(r + at, 127, 4);
		at += 4;
		ancount = 65535;
	} else if (qtype == ns_t_srv && strcmp(name, "_loop._tcp.test.local") == 0) {
		/* The target is a compression pointer to itself. */
		size_t target;
		at = put_rr_head(r, at, ns_t_srv, 8);
		at = put16(r, at, 0);
		at = put16(r, at, 0);
		at = put16(r, at, 2181);
		target = at;
		at = put16(r, at, 0xC000 | (unsigned)target);
		ancount = 1;
	} else if (qtype == ns_t_srv && strcmp(name, "_short._tcp.test.local") == 0) {
		at = put_rr_head(r, at, ns_t_srv, 5);
		memset(r + at, 0, 5);
		at += 5;
		ancount = 1;
	} else if (qtype == ns_t_srv && strcmp(name, "_ok._tcp.test.local") == 0) {
		/* One bad-port record ignored, one good one. */
		static const unsigned char tgt[] = "\004good\004test\005local";
		at = put_rr_head(r, at, ns_t_srv, 6 + sizeof(tgt));
		at = put16(r, at, 0);
		at = put16(r, at, 0);
		at = put16(r, at, 7);
		memcpy(r + at, tgt, sizeof(tgt));   /* includes the root label */
		at += sizeof(tgt);
		at = put_rr_head(r, at, ns_t_srv, 6 + sizeof(tgt));
		at = put16(r, at, 0);
		at = put16(r, at, 0);
		at = put16(r, at, 0);              /* port 0: no service */
		memcpy(r + at, tgt, sizeof(tgt));
		at += sizeof(tgt);
		ancount = 2;
	} else if (strstr(name, "good") || strstr(name, "trunc") || strstr(name, "badlen") ||
	           strstr(name, "count")) {
		ancount = 0;                     /* NODATA for the other type */
	} else {
		rcode = 3;                       /* NXDOMAIN */
	}
	r[2] = (unsigned char)(0x80 | (q[2] & 0x01));   /* QR, keep RD */
	r[3] = (unsigned char)(0x80 | rcode);           /* RA */
	put16(r, 6, ancount);
	put16(r, 8, 0);
	put16(r, 10, 0);
	return at;
}

static void *fake_dns_run(void *arg)
{
	fake_dns_t *fd = arg;
	unsigned char q[512], r[2048];

	while (!atomic_load(&fd->stop)) {
		struct pollfd p = { fd->fd, POLLIN, 0 };
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t n;
		size_t rn;

		if (poll(&p, 1, 50) <= 0)
			continue;
		n = recvfrom(fd->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fromlen);
		if (n <= 0)
			continue;
		rn = fake_answer(q, (size_t)n, r, sizeof(r));
		if (rn)
			sendto(fd->fd, r, rn, 0, (struct sockaddr *)&from, fromlen);
	}
	return NULL;
}

/* Binds the fake server to 127.0.0.1, or to ::1 when ipv6; 0, or -1 when
 * this machine has no such loopback address. */
static int fake_dns_start(fake_dns_t *fd, int ipv6)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = sizeof(ss);

	memset(fd, 0, sizeof(*fd));
	memset(&ss, 0, sizeof(ss));
	if (ipv6) {
		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_loopback;
	} else {
		a4->sin_family = AF_INET;
		a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	fd->fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd->fd < 0 || bind(fd->fd, (struct sockaddr *)&ss, len) != 0) {
		if (fd->fd >= 0)
			close(fd->fd);
		return -1;
	}
	assert_int_equal(getsockname(fd->fd, (struct sockaddr *)&ss, &len), 0);
	fd->port = ntohs(ipv6 ? a6->sin6_port : a4->sin_port);
	assert_int_equal(pthread_create(&fd->thread, NULL, fake_dns_run, fd), 0);
	return 0;
}

static void fake_dns_stop(fake_dns_t *fd)
{
	atomic_store(&fd->stop, 1);
	pthread_join(fd->thread, NULL);
	close(fd->fd);
}

static void test_malformed_answers_are_ignored(void **state)
{
	fx_t *f = *state;
	fake_dns_t fake;

	assert_int_equal(fake_dns_start(&fake, 0), 0);
	fx_open(f, "zk+dns://trunc.test.local:1,badlen.test.local:2,count.test.local:3,"
	        "good.test.local:4?dns_server=127.0.0.1:%d", fake.port);
	assert_current(f, "127.0.0.44:4");
	assert_true(logcap_has(&f->cap, ZKC_LOG_WARN, "trunc.test.local", "malformed", NULL));
	assert_true(logcap_has(&f->cap, ZKC_LOG_WARN, "badlen.test.local", "wrong size", NULL));
	assert_true(logcap_has(&f->cap, ZKC_LOG_WARN, "count.test.local", "malformed", NULL));
	zkc__hosts_free(f->h);
	f->h = NULL;
	zkc__url_free(f->url);
	f->url = NULL;

	fx_open(f, "zk+srv://_loop._tcp.test.local?dns_server=127.0.0.1:%d", fake.port);
	assert_current(f, "");
	assert_true(logcap_has(&f->cap, ZKC_LOG_WARN, "_loop._tcp", "malformed target", NULL));
	zkc__hosts_free(f->h);
	f->h = NULL;
	zkc__url_free(f->url);
	f->url = NULL;

	fx_open(f, "zk+srv://_short._tcp.test.local?dns_server=127.0.0.1:%d", fake.port);
	assert_current(f, "");
	assert_true(logcap_has(&f->cap, ZKC_LOG_WARN, "_short._tcp", "too short", NULL));
	zkc__hosts_free(f->h);
	f->h = NULL;
	zkc__url_free(f->url);
	f->url = NULL;

	fx_open(f, "zk+srv://_ok._tcp.test.local?dns_server=127.0.0.1:%d", fake.port);
	assert_current(f, "127.0.0.44:7");
	zkc__hosts_free(f->h);
	f->h = NULL;
	fake_dns_stop(&fake);
}

/* IPv6 DNS servers go through glibc's extension slots, not nsaddr_list. */
static void test_ipv6_dns_server(void **state)
{
	fx_t *f = *state;
	fake_dns_t fake;

	if (fake_dns_start(&fake, 1) != 0) {
		fprintf(stderr, "no IPv6 loopback here: skipping\n");
		skip();
	}
	fx_open(f, "zk+dns://good.test.local:4?dns_server=[::1]:%d", fake.port);
	assert_current(f, "127.0.0.44:4");
	zkc__hosts_free(f->h);
	f->h = NULL;
	fake_dns_stop(&fake);
}

/* ------------------------------------------------------------ threads */

typedef struct reader {
	zkc__hosts_t *h;
	int calls;
	int bad;
	int saw_new;
} reader_t;

/* Calls current() in a loop while the thread replaces the list, until the
 * new list shows up: every answer must be one whole list or the other. */
static void *reader_run(void *arg)
{
	reader_t *r = arg;
	int64_t deadline = zkc__now_ms() + WAIT_MS;

	while (!r->saw_new && zkc__now_ms() < deadline) {
		char *list = NULL;

		r->calls++;
		if (zkc__hosts_current(r->h, &list) != ZKC_OK || !list) {
			r->bad++;
			continue;
		}
		if (strcmp(list, "127.0.0.6:2181") == 0)
			r->saw_new = 1;
		else if (strcmp(list, "127.0.0.5:2181") != 0)
			r->bad++;
		free(list);
	}
	return NULL;
}

static void test_concurrent_current_while_following(void **state)
{
	fx_t *f = *state;
	pthread_t th[4];
	reader_t rd[4];

	fx_dns(f, "127.0.0.5 a.test.local\n", NULL);
	fx_open(f, "zk+dns://a.test.local:2181?dns_server=%s:%d&dns_interval=10ms",
	        harness_dnsmasq_ip(f->dns), harness_dnsmasq_port(f->dns));
	assert_current(f, "127.0.0.5:2181");
	assert_int_equal(zkc__hosts_start(f->h, notify_fn, &f->notes), ZKC_OK);
	for (int i = 0; i < 4; i++) {
		memset(&rd[i], 0, sizeof(rd[i]));
		rd[i].h = f->h;
		assert_int_equal(pthread_create(&th[i], NULL, reader_run, &rd[i]), 0);
	}
	assert_int_equal(harness_dnsmasq_set_hosts(f->dns, "127.0.0.6 a.test.local\n"), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(rd[i].bad, 0);
		assert_true(rd[i].saw_new);
		assert_true(rd[i].calls > 0);
	}
	assert_true(notes_wait(&f->notes, "127.0.0.6:2181", WAIT_MS));
}

/* ------------------------------------------------------------ system resolver */

#define CHILD_SKIP 77

static int child_check(const char *url_text, const char *want, logcap_t *cap,
                       const char *warn_needle)
{
	zkc__log_t log = { log_fn, cap, ZKC_LOG_INFO };
	zkc__url_t *url = NULL;
	zkc__hosts_t *h = NULL;
	char *list = NULL;
	int ok = 0;

	if (zkc__url_parse(&url, url_text) != ZKC_OK ||
	    zkc__hosts_new(&h, url, &log) != ZKC_OK ||
	    zkc__hosts_current(h, &list) != ZKC_OK) {
		fprintf(stderr, "%s: %s\n", url_text, zkc_error_last()->message);
	} else if (strcmp(list, want) != 0) {
		fprintf(stderr, "%s: got \"%s\", want \"%s\"\n", url_text, list, want);
	} else if (warn_needle && !logcap_has(cap, ZKC_LOG_WARN, warn_needle, NULL)) {
		fprintf(stderr, "%s: no WARN with \"%s\"\n", url_text, warn_needle);
	} else {
		ok = 1;
	}
	free(list);
	zkc__hosts_free(h);
	zkc__url_free(url);
	return ok;
}

static int lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc = -1;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return rc;
}

/* Runs in a forked child: private network and mount namespaces in which
 * /etc/resolv.conf names our dnsmasq on 127.0.0.1:53, so the default path
 * (no dns_server: getaddrinfo, res_nsearch with the search list) is tested
 * without the machine's resolver or /etc/hosts entries. Exit code: 0 pass,
 * CHILD_SKIP, 1 fail. */
static int system_resolver_child(void)
{
	const char *srv[] = {
		"_zk._tcp.sub.test.local,a.test.local,2181",
		"_zk._tcp.sub.test.local,short.test.local,2182",
		NULL,
	};
	char dir[] = "/tmp/zkc-resolv-XXXXXX", conf[64];
	harness_dnsmasq_t *d = NULL;
	logcap_t cap;
	FILE *fp;
	int ok = 1, rc;

	memset(&cap, 0, sizeof(cap));
	pthread_mutex_init(&cap.mu, NULL);
	/* The kernel ignores the type of these mounts; valgrind wants a string. */
	if (unshare(CLONE_NEWNS | CLONE_NEWNET) != 0 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 || lo_up() != 0) {
		fprintf(stderr, "no private namespaces here (%s): skipping\n", strerror(errno));
		return CHILD_SKIP;
	}
	if (!mkdtemp(dir))
		return 1;
	snprintf(conf, sizeof(conf), "%s/resolv.conf", dir);
	fp = fopen(conf, "w");
	if (!fp)
		return 1;
	fputs("nameserver 127.0.0.1\nsearch test.local\noptions ndots:1 timeout:1 attempts:1\n",
	      fp);
	fclose(fp);
	if (mount(conf, "/etc/resolv.conf", "none", MS_BIND, NULL) != 0) {
		fprintf(stderr, "bind-mount resolv.conf: %s: skipping\n", strerror(errno));
		unlink(conf);
		rmdir(dir);
		return CHILD_SKIP;
	}
	rc = harness_dnsmasq_start_on(&d, 53,
	                              "127.0.0.5 a.test.local\n::1 a.test.local\n"
	                              "127.0.0.7 short.test.local\n", srv);
	if (rc != 0) {
		umount("/etc/resolv.conf");
		unlink(conf);
		rmdir(dir);
		return rc == 1 ? CHILD_SKIP : 1;
	}
	/* "short" and "_zk._tcp.sub" resolve through the search list. */
	ok &= child_check("zk+dns://a.test.local:2181,short:2182,missing.test.local:2183",
	                  "127.0.0.5:2181,127.0.0.7:2182,::1:2181", &cap, "missing.test.local");
	ok &= child_check("zk+srv://_zk._tcp.sub.test.local", "127.0.0.5:2181,127.0.0.7:2182,"
	                  "::1:2181", &cap, NULL);
	ok &= child_check("zk+srv://_zk._tcp.sub", "127.0.0.5:2181,127.0.0.7:2182,::1:2181",
	                  &cap, NULL);
	ok &= child_check("zk+srv://_none._tcp.test.local", "", &cap, "SRV _none._tcp.test.local");
	harness_dnsmasq_stop(d);
	umount("/etc/resolv.conf");
	unlink(conf);
	rmdir(dir);
	for (int i = 0; i < cap.n; i++)
		free(cap.lines[i]);
	pthread_mutex_destroy(&cap.mu);
	return ok ? 0 : 1;
}

static void test_system_resolver_in_private_namespace(void **state)
{
	int status = 0;
	pid_t pid;

	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "needs root for private namespaces: skipping\n");
		skip();
	}
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(system_resolver_child());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == CHILD_SKIP)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_static_keeps_names_unresolved),
		T(test_factory_picks_provider_and_k8s_needs_config),
		T(test_dns_resolves_a_and_aaaa),
		T(test_dns_follows_a_change_and_notifies_only_on_change),
		T(test_dns_name_appears_and_disappears),
		T(test_dns_partial_resolution_keeps_the_rest),
		T(test_srv_resolves_targets_with_ports),
		T(test_srv_name_without_records_then_records_appear),
		T(test_dns_server_not_listening_gives_empty_list_fast),
		T(test_dns_server_silent_is_bounded),
		T(test_free_stops_the_thread_promptly),
		T(test_huge_answer_is_capped),
		T(test_bad_input_gets_a_clear_error),
		T(test_malformed_answers_are_ignored),
		T(test_ipv6_dns_server),
		T(test_concurrent_current_while_following),
		T(test_system_resolver_in_private_namespace),
#undef T
	};

	return cmocka_run_group_tests_name("hosts_dns", tests, NULL, NULL);
}
