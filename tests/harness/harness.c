/* tests/harness/harness.c - ensembles for test binaries (one shared, one
 * private for faults), node faults, deadline polling and unique paths. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "harness.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The shared 1-node ensemble lives until exit; the private one (fault
 * tests) until the next h_start() or h_teardown(). Tests run on one
 * thread, as cmocka runs them, so no lock. */
static zkc_ens_t *shared_ens;
static zkc_ens_t *private_ens;
static char *ext_url;            /* $ZKC_TEST_URL, when used */
static int atexit_done;

static void say(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;

static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("# harness: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

static int keep_dirs(void)
{
	const char *k = getenv("ZKC_TEST_KEEP");

	return k && *k && strcmp(k, "0") != 0;
}

static void take_down(zkc_ens_t **ens)
{
	if (!*ens)
		return;
	if (keep_dirs())
		say("keeping %s", zkc_ens_dir(*ens));
	if (zkc_ens_down(*ens, keep_dirs() ? ZKC_ENS_DOWN_KEEP :
	    ZKC_ENS_DOWN_REMOVE) != ZKC_OK)
		say("down: %s", zkc_ens_error());
	zkc_ens_free(*ens);
	*ens = NULL;
}

static void at_exit(void)
{
	take_down(&private_ens);
	take_down(&shared_ens);
	free(ext_url);
	ext_url = NULL;
}

static void register_atexit(void)
{
	if (!atexit_done && atexit(at_exit) == 0)
		atexit_done = 1;
}

int h_timeout(int ms)
{
	const char *s = getenv("ZKC_TEST_TIMEOUT_SCALE");
	double f = s && *s ? atof(s) : 1.0;

	if (f < 1.0)
		f = 1.0;
	return (int)(ms * f);
}

static int start(zkc_ens_t **out, const zkc_ens_options_t *given)
{
	zkc_ens_options_t o = given ? *given :
	    (zkc_ens_options_t)ZKC_ENS_OPTIONS_INIT;
	int64_t t0 = h_now_ms();

	o.die_with_parent = 1;
	if (o.start_timeout_ms == 0)
		o.start_timeout_ms = h_timeout(60000);
	register_atexit();
	if (zkc_ens_up(out, &o) != ZKC_OK) {
		say("cannot start a %d-node ensemble: %s", o.nodes,
		    zkc_ens_error());
		return -1;
	}
	say("%d-node ensemble up in %lld ms: %s (dir %s)", o.nodes,
	    (long long)(h_now_ms() - t0), zkc_ens_url(*out), zkc_ens_dir(*out));
	return 0;
}

int h_start_opts(const zkc_ens_options_t *opts)
{
	take_down(&private_ens);
	return start(&private_ens, opts);
}

int h_start(int nodes)
{
	zkc_ens_options_t o = ZKC_ENS_OPTIONS_INIT;

	o.nodes = nodes;
	return h_start_opts(&o);
}

void h_stop_all(void)
{
	take_down(&private_ens);
}

int h_setup_shared(void **state)
{
	const char *url = getenv("ZKC_TEST_URL");

	(void)state;
	if (shared_ens || ext_url)
		return 0;
	if (url && *url) {
		ext_url = strdup(url);
		register_atexit();
		return ext_url ? 0 : -1;
	}
	return start(&shared_ens, NULL);
}

int h_setup_3(void **state)
{
	(void)state;
	return h_start(3);
}

int h_teardown(void **state)
{
	(void)state;
	take_down(&private_ens);
	return 0;
}

zkc_ens_t *h_ens(void)
{
	return private_ens ? private_ens : shared_ens;
}

const char *h_url(void)
{
	if (private_ens)
		return zkc_ens_url(private_ens);
	if (shared_ens)
		return zkc_ens_url(shared_ens);
	return ext_url;
}

int h_nodes(void)
{
	return zkc_ens_size(h_ens());
}

/* ------------------------------------------------------------ faults */

int h_leader(void)
{
	zkc_ens_t *e = h_ens();
	int i;

	if (!e) {
		say("no own ensemble (ZKC_TEST_URL is set?)");
		return -1;
	}
	if (zkc_ens_leader(&i, e, h_timeout(H_TIMEOUT_MS)) != ZKC_OK) {
		say("leader: %s", zkc_ens_error());
		return -1;
	}
	return i;
}

/* Turns H_LEADER into an index and checks the range. */
static int resolve(int node, zkc_ens_t **e)
{
	*e = h_ens();
	if (!*e) {
		say("no own ensemble (ZKC_TEST_URL is set?)");
		return -1;
	}
	if (node == H_LEADER)
		return h_leader();
	if (node < 0 || node >= zkc_ens_size(*e)) {
		say("no node %d (the ensemble has %d)", node, zkc_ens_size(*e));
		return -1;
	}
	return node;
}

static int report(int rc, const char *what, int node)
{
	if (rc == ZKC_OK)
		return 0;
	say("%s node %d: %s", what, node, zkc_ens_error());
	return -1;
}

int h_kill(int node)
{
	zkc_ens_t *e;
	int i = resolve(node, &e);

	return i < 0 ? -1 : report(zkc_ens_kill(e, i), "kill", i);
}

int h_stop(int node)
{
	zkc_ens_t *e;
	int i = resolve(node, &e);

	return i < 0 ? -1 : report(zkc_ens_stop(e, i), "stop", i);
}

int h_cont(int node)
{
	zkc_ens_t *e;
	int i = resolve(node, &e);

	return i < 0 ? -1 : report(zkc_ens_cont(e, i), "cont", i);
}

int h_restart(int node)
{
	zkc_ens_t *e;
	int i = resolve(node, &e);

	return i < 0 ? -1 : report(zkc_ens_restart(e, i,
	    h_timeout(H_TIMEOUT_MS)), "restart", i);
}

int h_wipe(void)
{
	zkc_ens_t *e = h_ens();

	if (!e) {
		say("no own ensemble (ZKC_TEST_URL is set?)");
		return -1;
	}
	if (zkc_ens_wipe(e, h_timeout(H_TIMEOUT_MS)) != ZKC_OK) {
		say("wipe: %s", zkc_ens_error());
		return -1;
	}
	return 0;
}

int h_wait_quorum(void)
{
	zkc_ens_t *e = h_ens();

	if (!e) {
		say("no own ensemble (ZKC_TEST_URL is set?)");
		return -1;
	}
	if (zkc_ens_wait_quorum(e, h_timeout(H_TIMEOUT_MS)) != ZKC_OK) {
		say("%s", zkc_ens_error());
		return -1;
	}
	return 0;
}

const char *h_node_host(int node)
{
	return zkc_ens_host(h_ens(), node);
}

int h_node_port(int node)
{
	return zkc_ens_port(h_ens(), node);
}

int h_proxy_to_node(h_proxy_t **out, int node)
{
	zkc_ens_t *e;
	int i = resolve(node, &e);

	*out = NULL;
	if (i < 0)
		return -1;
	return h_proxy_new(out, zkc_ens_host(e, i), zkc_ens_port(e, i));
}

/* ------------------------------------------------------------ waiting */

int64_t h_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void h_backoff(unsigned attempt)
{
	/* 1, 2, 4 ... 50 ms: quick to notice, cheap while waiting long */
	long ms = attempt < 6 ? 1L << attempt : 50;
	struct timespec ts;

	if (ms > 50)
		ms = 50;
	ts.tv_sec = 0;
	ts.tv_nsec = ms * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int h_wait_until(int (*pred)(void *arg), void *arg, int timeout_ms)
{
	int64_t deadline = h_now_ms() + h_timeout(timeout_ms);
	unsigned attempt;

	for (attempt = 0; !pred(arg); attempt++) {
		if (h_now_ms() >= deadline)
			return -1;
		h_backoff(attempt);
	}
	return 0;
}

/* ------------------------------------------------------------ paths */

void h_unique_path(char *buf, size_t len, const char *name)
{
	static unsigned counter;
	char clean[64];
	size_t i, j = 0;
	struct timespec ts;

	for (i = 0; name && name[i] && j + 1 < sizeof clean; i++) {
		unsigned char ch = (unsigned char)name[i];

		clean[j++] = isalnum(ch) || ch == '_' || ch == '-' ? (char)ch : '_';
	}
	clean[j] = '\0';
	clock_gettime(CLOCK_REALTIME, &ts);
	/* pid and a counter keep one run unique; the time keeps runs against
	 * a long-lived $ZKC_TEST_URL ensemble apart */
	snprintf(buf, len, "/zkct_%s_%ld_%u_%lx", j ? clean : "test",
	    (long)getpid(), ++counter,
	    (unsigned long)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000) & 0xffffffUL);
}
