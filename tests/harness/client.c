/* tests/harness/client.c - zkc-specific helpers for integration tests. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

zkc_t *h_open(const char *url, const zkc_options_t *opts)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_t *zk = NULL;
	int rc;

	if (opts)
		o = *opts;
	if (!o.connect_timeout_ms)
		o.connect_timeout_ms = h_timeout(H_TIMEOUT_MS);
	rc = zkc_open(&zk, url ? url : h_url(), &o);
	if (rc != ZKC_OK)
		fail_msg("zkc_open(%s): %s: %s", url ? url : h_url(), zkc_strcode(rc),
		         zkc_error_last()->message);
	return zk;
}

void h_die_with_parent(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(1);
}

char *h_path(const char *name)
{
	char buf[256];

	h_unique_path(buf, sizeof(buf), name);
	return strdup(buf);
}

char *h_join(const char *base, const char *rel)
{
	size_t n = strlen(base) + strlen(rel) + 2;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%s%s", base, strcmp(base, "/") ? "/" : "", rel);
	return s;
}

char *h_url_with(const char *url, const char *chroot, const char *extra_host)
{
	const char *hosts = strstr(url, "://");
	size_t n = strlen(url) + (chroot ? strlen(chroot) : 0) + (extra_host ? strlen(extra_host) : 0) + 8;
	char *s = malloc(n);

	if (!s || !hosts)
		return s;
	hosts += 3;
	snprintf(s, n, "%.*s%s%s%s%s", (int)(hosts - url), url, extra_host ? extra_host : "",
	         extra_host ? "," : "", hosts, chroot ? chroot : "");
	return s;
}

typedef struct h_ev {
	int type, state;
	int64_t session;
} h_ev_t;

struct h_events {
	pthread_mutex_t mu;
	h_ev_t *evs;
	int n, cap;
};

h_events_t *h_events_new(void)
{
	h_events_t *e = calloc(1, sizeof(*e));

	if (e)
		pthread_mutex_init(&e->mu, NULL);
	return e;
}

void h_events_free(h_events_t *e)
{
	if (!e)
		return;
	pthread_mutex_destroy(&e->mu);
	free(e->evs);
	free(e);
}

static void push(h_events_t *e, int type, int state, int64_t session)
{
	pthread_mutex_lock(&e->mu);
	if (e->n == e->cap) {
		int cap = e->cap ? e->cap * 2 : 16;
		h_ev_t *n = realloc(e->evs, (size_t)cap * sizeof(*n));

		if (!n) {
			pthread_mutex_unlock(&e->mu);
			return;
		}
		e->evs = n;
		e->cap = cap;
	}
	e->evs[e->n].type = type;
	e->evs[e->n].state = state;
	e->evs[e->n].session = session;
	e->n++;
	pthread_mutex_unlock(&e->mu);
}

void h_events_record(zkc_t *zk, const zkc_event_t *ev, void *payload)
{
	(void)zk;
	push(payload, ev->type, ev->state, ev->session_id);
}

void h_events_state(zkc_t *zk, int state, int64_t session_id, void *payload)
{
	(void)zk;
	push(payload, ZKC_EVENT_STATE, state, session_id);
}

int h_events_count(h_events_t *e)
{
	int n;

	pthread_mutex_lock(&e->mu);
	n = e->n;
	pthread_mutex_unlock(&e->mu);
	return n;
}

static h_ev_t get(h_events_t *e, int i)
{
	h_ev_t v = { -1, -1, 0 };

	pthread_mutex_lock(&e->mu);
	if (i >= 0 && i < e->n)
		v = e->evs[i];
	pthread_mutex_unlock(&e->mu);
	return v;
}

int h_events_type(h_events_t *e, int i) { return get(e, i).type; }
int h_events_state_at(h_events_t *e, int i) { return get(e, i).state; }
int64_t h_events_session(h_events_t *e, int i) { return get(e, i).session; }

int h_events_find(h_events_t *e, int from, int type, int state)
{
	int i, n = h_events_count(e);

	for (i = from < 0 ? 0 : from; i < n; i++) {
		h_ev_t v = get(e, i);

		if (v.type == type && (type != ZKC_EVENT_STATE || state < 0 || v.state == state))
			return i;
	}
	return -1;
}

int h_run_zkc(char **out, const char *url, const char *args)
{
	const char *dir = getenv("ZKC_TEST_BUILDDIR");
	size_t cap = 1 << 16, n = 0, got;
	char *cmd = NULL, *buf = malloc(cap);
	FILE *p;
	int st, len;

	assert_non_null(buf);
	if (url)
		len = asprintf(&cmd, "ZKC_URL='%s' '%s/zkc' %s", url, dir && *dir ? dir : ".", args);
	else
		len = asprintf(&cmd, "'%s/zkc' %s", dir && *dir ? dir : ".", args);
	assert_true(len > 0);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (n < cap - 1 && (got = fread(buf + n, 1, cap - 1 - n, p)) > 0)
		n += got;
	buf[n] = '\0';
	st = pclose(p);
	free(cmd);
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void h_each_seed(const char *env, void (*run)(unsigned seed))
{
	const char *s = getenv(env);

	if (!s) {
		run(1);
		return;
	}
	while (*s) {
		char *end;
		unsigned long seed = strtoul(s, &end, 10);

		if (end == s)
			break;
		run((unsigned)seed);
		s = end;
	}
}

static int64_t session_of(zkc_t *zk)
{
	int64_t sid = 0;

	return zkc_session(&sid, NULL, NULL, zk) == ZKC_OK ? sid : 0;
}

void h_expire_for_sure(zkc_t *zk)
{
	int64_t old = session_of(zk), deadline;
	int attempt;

	for (attempt = 0; attempt < 10; attempt++) {
		unsigned t;
		int rc = zkc_testing_expire_session(zk, h_timeout(10000));

		/* ESESSIONEXPIRED: an earlier attempt did end it after all;
		 * ETIMEDOUT: every try within the call lost the race above */
		if (rc != ZKC_ESESSIONEXPIRED && rc != ZKC_ETIMEDOUT)
			assert_int_equal(rc, ZKC_OK);
		deadline = h_now_ms() + h_timeout(3000);
		for (t = 0; h_now_ms() < deadline; t++) {
			int64_t now = session_of(zk);

			if (now != 0 && now != old)
				return;
			h_backoff(t);
		}
		print_message("# the session survived the expiry (%s): again\n", zkc_strcode(rc));
	}
	fail_msg("could not expire the session");
}
