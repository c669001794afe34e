/* tests/unit/test_k8s_watch.c - the zk+k8s provider's HTTP side against a
 * scripted stand-in for the API server on loopback (plain HTTP): list then
 * watch, events followed, 410 and bad events relisted, an empty set kept
 * out, a refused token read again, a cut stream resumed, and a prompt
 * stop with a watch open. The real kube-apiserver is test_k8s's job; this
 * one makes each answer happen on cue. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"

#define WAIT_MS 15000

/* ------------------------------------------------------------ the stand-in server */

typedef struct fake {
	int lfd, port;
	pthread_t th;
	pthread_mutex_t mu;
	/* guarded by mu */
	char *list_json;          /* the answer to a list */
	char token[64];           /* the only token accepted */
	int fail_next;            /* one answer with this status (0: none) */
	char *pending;            /* lines for the open watch */
	int end_watch;            /* close the open watch */
	int watch_open;
	int lists, watches, refused;
	char last_path[1024];
	int stop;
} fake_t;

static void fake_set(fake_t *f, char **field, const char *v)
{
	pthread_mutex_lock(&f->mu);
	free(*field);
	*field = v ? strdup(v) : NULL;
	pthread_mutex_unlock(&f->mu);
}

static void fake_push(fake_t *f, const char *lines)
{
	pthread_mutex_lock(&f->mu);
	if (f->pending) {
		char *j = zkc__sprintf("%s%s", f->pending, lines);

		free(f->pending);
		f->pending = j;
	} else {
		f->pending = strdup(lines);
	}
	pthread_mutex_unlock(&f->mu);
}

static int fake_get(fake_t *f, int *field)
{
	int v;

	pthread_mutex_lock(&f->mu);
	v = *field;
	pthread_mutex_unlock(&f->mu);
	return v;
}

static void send_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void answer(int fd, int status, const char *body)
{
	char head[256];

	snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
	         "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, strlen(body));
	send_all(fd, head, strlen(head));
	send_all(fd, body, strlen(body));
}

/* Streams pending lines until told to end or the client goes. */
static void serve_watch(fake_t *f, int fd)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	                           "Connection: close\r\n\r\n";

	send_all(fd, head, sizeof(head) - 1);
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		char *out = NULL, buf[256];
		int end;

		pthread_mutex_lock(&f->mu);
		out = f->pending;
		f->pending = NULL;
		end = f->end_watch || f->stop;
		f->end_watch = 0;
		pthread_mutex_unlock(&f->mu);
		if (out) {
			send_all(fd, out, strlen(out));
			free(out);
		}
		if (end)
			return;
		if (poll(&p, 1, 10) > 0 && recv(fd, buf, sizeof(buf), 0) <= 0)
			return;   /* the client went */
	}
}

static void serve(fake_t *f, int fd)
{
	char req[8192], auth[128] = "", *hdr_end, *a;
	size_t n = 0;
	int fail, watch;

	while (n < sizeof(req) - 1) {
		ssize_t r = recv(fd, req + n, sizeof(req) - 1 - n, 0);

		if (r <= 0)
			return;
		n += (size_t)r;
		req[n] = '\0';
		if ((hdr_end = strstr(req, "\r\n\r\n")) != NULL)
			break;
	}
	if ((a = strcasestr(req, "\r\nAuthorization: Bearer ")) != NULL)
		sscanf(a + 24, "%127[^\r\n]", auth);
	watch = strstr(req, "watch=1") != NULL;
	pthread_mutex_lock(&f->mu);
	sscanf(req, "GET %1023s", f->last_path);
	fail = f->fail_next;
	f->fail_next = 0;
	if (!fail && strcmp(auth, f->token) != 0) {
		fail = 401;
		f->refused++;
	}
	if (!fail && !watch)
		f->lists++;
	if (!fail && watch) {
		f->watches++;
		f->watch_open = 1;
	}
	pthread_mutex_unlock(&f->mu);
	if (fail) {
		answer(fd, fail, "{\"kind\":\"Status\",\"message\":\"refused by the test\"}");
	} else if (!watch) {
		char *body;

		pthread_mutex_lock(&f->mu);
		body = strdup(f->list_json ? f->list_json : "{}");
		pthread_mutex_unlock(&f->mu);
		answer(fd, 200, body);
		free(body);
	} else {
		serve_watch(f, fd);
		pthread_mutex_lock(&f->mu);
		f->watch_open = 0;
		pthread_mutex_unlock(&f->mu);
	}
}

static void *fake_main(void *arg)
{
	fake_t *f = arg;

	while (!fake_get(f, &f->stop)) {
		struct pollfd p = { f->lfd, POLLIN, 0 };
		int fd;

		if (poll(&p, 1, 20) <= 0)
			continue;
		fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		serve(f, fd);
		close(fd);
	}
	return NULL;
}

static fake_t *fake_start(void)
{
	fake_t *f = calloc(1, sizeof(*f));
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	assert_non_null(f);
	pthread_mutex_init(&f->mu, NULL);
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f->lfd, 16), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &len), 0);
	f->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
	return f;
}

static void fake_stop(fake_t *f)
{
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->th, NULL);
	close(f->lfd);
	free(f->list_json);
	free(f->pending);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

/* ------------------------------------------------------------ log, notifications */

#define LOG_LINES 1000

typedef struct fx {
	fake_t *fake;
	char dir[64], token_file[128], kubeconfig[128];
	zkc__log_t log;
	zkc__hosts_t *h;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *lines[LOG_LINES];
	int nlines;
	char *last;               /* last notified list */
	int notes;
} fx_t;

static void log_fn(int level, const char *message, void *payload)
{
	fx_t *f = payload;

	(void)level;
	if (getenv("ZKC_TEST_VERBOSE"))
		fprintf(stderr, "[log %d] %s\n", level, message);
	pthread_mutex_lock(&f->mu);
	if (f->nlines < LOG_LINES)
		f->lines[f->nlines++] = strdup(message);
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static void notify_fn(void *ctx, const char *servers)
{
	fx_t *f = ctx;

	pthread_mutex_lock(&f->mu);
	free(f->last);
	f->last = strdup(servers);
	f->notes++;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static int logged(fx_t *f, const char *needle)
{
	int found = 0;

	pthread_mutex_lock(&f->mu);
	for (int i = 0; i < f->nlines && !found; i++)
		found = strstr(f->lines[i], needle) != NULL;
	pthread_mutex_unlock(&f->mu);
	return found;
}

/* Polls cond (an expression) every few ms until it holds or WAIT_MS pass. */
#define WAIT_FOR(cond) \
	do { \
		int64_t w__end = zkc__now_ms() + WAIT_MS; \
		while (!(cond)) { \
			if (zkc__now_ms() > w__end) \
				fail_msg("timed out waiting for: %s", #cond); \
			zkc__sleep_ms(5); \
		} \
	} while (0)

static int last_is(fx_t *f, const char *want)
{
	int same;

	pthread_mutex_lock(&f->mu);
	same = f->last && strcmp(f->last, want) == 0;
	pthread_mutex_unlock(&f->mu);
	return same;
}

static int notes(fx_t *f)
{
	int n;

	pthread_mutex_lock(&f->mu);
	n = f->notes;
	pthread_mutex_unlock(&f->mu);
	return n;
}

/* ------------------------------------------------------------ JSON */

static char *slice(const char *name, const char *rv, const char *ip, const char *ready)
{
	return zkc__sprintf("{\"metadata\":{\"name\":\"%s\",\"resourceVersion\":\"%s\"},"
	                    "\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"client\",\"port\":2181}],"
	                    "\"endpoints\":[{\"addresses\":[\"%s\"],\"conditions\":{\"ready\":%s}}]}",
	                    name, rv, ip, ready);
}

static void set_list(fx_t *f, const char *rv, const char *ip)
{
	char *s = slice("zk-a", rv, ip, "true");
	char *l = zkc__sprintf("{\"metadata\":{\"resourceVersion\":\"%s\"},\"items\":[%s]}", rv, s);

	fake_set(f->fake, &f->fake->list_json, l);
	free(s);
	free(l);
}

static void push_event(fx_t *f, const char *type, const char *rv, const char *ip,
                       const char *ready)
{
	char *s = slice("zk-a", rv, ip, ready);
	char *e = zkc__sprintf("{\"type\":\"%s\",\"object\":%s}\n", type, s);

	fake_push(f->fake, e);
	free(s);
	free(e);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* ------------------------------------------------------------ fixture */

static int setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	char text[1024];

	assert_non_null(f);
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	f->fake = fake_start();
	snprintf(f->fake->token, sizeof(f->fake->token), "token-1");
	snprintf(f->dir, sizeof(f->dir), "/tmp/zkc_k8s_watch_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->token_file, sizeof(f->token_file), "%s/token", f->dir);
	snprintf(f->kubeconfig, sizeof(f->kubeconfig), "%s/kubeconfig", f->dir);
	write_file(f->token_file, "token-1\n");
	snprintf(text, sizeof(text), "apiVersion: v1\nclusters:\n- name: c\n  cluster:\n"
	         "    server: http://127.0.0.1:%d\ncontexts:\n- name: x\n  context: {cluster: c, "
	         "user: u}\ncurrent-context: x\nusers:\n- name: u\n  user: {tokenFile: token}\n",
	         f->fake->port);
	write_file(f->kubeconfig, text);
	f->log.fn = log_fn;
	f->log.payload = f;
	f->log.level = ZKC_LOG_DEBUG;
	set_list(f, "10", "10.0.0.1");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx_t *f = *state;
	char cmd[128];

	zkc__hosts_free(f->h);
	fake_stop(f->fake);
	for (int i = 0; i < f->nlines; i++) {
		/* no token in any log line */
		if (strstr(f->lines[i], "token-"))
			fprintf(stderr, "log line shows a token: %s\n", f->lines[i]), abort();
		free(f->lines[i]);
	}
	free(f->last);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
	return 0;
}

/* Opens the provider, checks the first list and starts following. */
static void open_provider(fx_t *f, const char *want_first)
{
	char url[300], *cur = NULL;
	zkc__url_t *u = NULL;

	snprintf(url, sizeof(url), "zk+k8s://zk.ns:2181?kubeconfig=%s", f->kubeconfig);
	assert_int_equal(zkc__url_parse(&u, url), ZKC_OK);
	if (zkc__hosts_new(&f->h, u, &f->log) != ZKC_OK)
		fail_msg("provider: %s", zkc_error_last()->message);
	zkc__url_free(u);
	assert_string_equal(f->h->ops->name, "k8s");
	assert_int_equal(zkc__hosts_current(f->h, &cur), ZKC_OK);
	assert_string_equal(cur, want_first);
	free(cur);
	assert_int_equal(zkc__hosts_start(f->h, notify_fn, f), ZKC_OK);
	WAIT_FOR(fake_get(f->fake, &f->fake->watch_open));
}

/* ------------------------------------------------------------ tests */

static void lists_then_follows_watch_events(void **state)
{
	fx_t *f = *state;

	open_provider(f, "10.0.0.1:2181");
	assert_non_null(strstr(f->fake->last_path, "/apis/discovery.k8s.io/v1/namespaces/ns/"
	                       "endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dzk&"
	                       "watch=1&allowWatchBookmarks=true&resourceVersion=10"));
	push_event(f, "MODIFIED", "11", "10.0.0.2", "true");
	WAIT_FOR(last_is(f, "10.0.0.2:2181"));
	fake_push(f->fake, "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":"
	          "\"15\"}}}\n");
	/* the watch ends (server timeout): it resumes from the bookmark's version */
	pthread_mutex_lock(&f->fake->mu);
	f->fake->end_watch = 1;
	pthread_mutex_unlock(&f->fake->mu);
	WAIT_FOR(fake_get(f->fake, &f->fake->watches) == 2);
	assert_non_null(strstr(f->fake->last_path, "resourceVersion=15"));
	assert_int_equal(fake_get(f->fake, &f->fake->lists), 1);
	push_event(f, "ADDED", "16", "10.0.0.3", "true");   /* same name: replaces */
	WAIT_FOR(last_is(f, "10.0.0.3:2181"));
}

static void an_empty_set_keeps_the_last_list(void **state)
{
	fx_t *f = *state;
	int n;

	open_provider(f, "10.0.0.1:2181");
	n = notes(f);
	push_event(f, "MODIFIED", "11", "10.0.0.1", "false");
	WAIT_FOR(logged(f, "keeping the last list \"10.0.0.1:2181\""));
	fake_push(f->fake, "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"zk-a\"}}}\n");
	push_event(f, "ADDED", "13", "10.0.0.4", "true");
	WAIT_FOR(last_is(f, "10.0.0.4:2181"));
	assert_int_equal(notes(f), n + 1);   /* nothing in between */
}

static void error_410_and_bad_events_list_again(void **state)
{
	fx_t *f = *state;

	open_provider(f, "10.0.0.1:2181");
	set_list(f, "20", "10.0.0.5");
	fake_push(f->fake, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"status\":"
	          "\"Failure\",\"message\":\"too old resource version: 10 (20)\",\"reason\":"
	          "\"Expired\",\"code\":410}}\n");
	WAIT_FOR(last_is(f, "10.0.0.5:2181"));
	assert_int_equal(fake_get(f->fake, &f->fake->lists), 2);
	assert_true(logged(f, "410 Gone: too old resource version"));
	WAIT_FOR(fake_get(f->fake, &f->fake->watch_open));
	assert_non_null(strstr(f->fake->last_path, "resourceVersion=20"));

	/* an event that cannot be parsed: the set may be wrong, list again */
	set_list(f, "30", "10.0.0.6");
	fake_push(f->fake, "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{}}}\n");
	WAIT_FOR(last_is(f, "10.0.0.6:2181"));
	assert_int_equal(fake_get(f->fake, &f->fake->lists), 3);
	assert_true(logged(f, "metadata.name; listing again"));

	/* HTTP 410 on the watch request itself */
	set_list(f, "40", "10.0.0.7");
	pthread_mutex_lock(&f->fake->mu);
	f->fake->fail_next = 410;
	f->fake->end_watch = 1;
	pthread_mutex_unlock(&f->fake->mu);
	WAIT_FOR(last_is(f, "10.0.0.7:2181"));
}

static void a_refused_token_is_read_again(void **state)
{
	fx_t *f = *state;

	open_provider(f, "10.0.0.1:2181");
	/* the server rotates: the old token is refused from now on */
	pthread_mutex_lock(&f->fake->mu);
	snprintf(f->fake->token, sizeof(f->fake->token), "token-2");
	f->fake->end_watch = 1;
	pthread_mutex_unlock(&f->fake->mu);
	WAIT_FOR(fake_get(f->fake, &f->fake->refused) >= 2);
	assert_true(logged(f, "HTTP 401 Unauthorized"));
	write_file(f->token_file, "token-2\n");
	WAIT_FOR(fake_get(f->fake, &f->fake->watches) == 2 &&
	         fake_get(f->fake, &f->fake->watch_open));
	push_event(f, "MODIFIED", "12", "10.0.0.8", "true");
	WAIT_FOR(last_is(f, "10.0.0.8:2181"));
}

static void a_cut_stream_and_server_errors_are_survived(void **state)
{
	fx_t *f = *state;

	open_provider(f, "10.0.0.1:2181");
	/* the connection drops in the middle of an event, and the server
	 * fails the next request: backoff, then the watch comes back */
	fake_push(f->fake, "{\"type\":\"MODIFIED\",\"obj");
	pthread_mutex_lock(&f->fake->mu);
	f->fake->end_watch = 1;
	f->fake->fail_next = 500;
	pthread_mutex_unlock(&f->fake->mu);
	WAIT_FOR(logged(f, "ended inside an event"));
	WAIT_FOR(logged(f, "HTTP 500: refused by the test"));
	WAIT_FOR(fake_get(f->fake, &f->fake->watch_open));
	push_event(f, "MODIFIED", "12", "10.0.0.9", "true");
	WAIT_FOR(last_is(f, "10.0.0.9:2181"));
}

static void free_is_prompt_with_a_watch_open(void **state)
{
	fx_t *f = *state;
	int64_t t0;

	open_provider(f, "10.0.0.1:2181");
	t0 = zkc__now_ms();
	zkc__hosts_free(f->h);
	f->h = NULL;
	/* a watch waits up to 300 s for events; the wakeup ends it now */
	if (zkc__now_ms() - t0 > 500)
		fail_msg("free took %lld ms", (long long)(zkc__now_ms() - t0));
}

static void api_server_down_at_open_then_up(void **state)
{
	fx_t *f = *state;
	char *cur = NULL, url[300];
	zkc__url_t *u = NULL;

	/* every answer refused until the token matches: current() gives "" */
	pthread_mutex_lock(&f->fake->mu);
	snprintf(f->fake->token, sizeof(f->fake->token), "later");
	pthread_mutex_unlock(&f->fake->mu);
	snprintf(url, sizeof(url), "zk+k8s://zk.ns:2181?kubeconfig=%s", f->kubeconfig);
	assert_int_equal(zkc__url_parse(&u, url), ZKC_OK);
	assert_int_equal(zkc__hosts_new(&f->h, u, &f->log), ZKC_OK);
	zkc__url_free(u);
	assert_int_equal(zkc__hosts_current(f->h, &cur), ZKC_OK);
	assert_string_equal(cur, "");
	free(cur);
	assert_int_equal(zkc__hosts_start(f->h, notify_fn, f), ZKC_OK);
	write_file(f->token_file, "later\n");
	WAIT_FOR(last_is(f, "10.0.0.1:2181"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(lists_then_follows_watch_events, setup, teardown),
		cmocka_unit_test_setup_teardown(an_empty_set_keeps_the_last_list, setup, teardown),
		cmocka_unit_test_setup_teardown(error_410_and_bad_events_list_again, setup, teardown),
		cmocka_unit_test_setup_teardown(a_refused_token_is_read_again, setup, teardown),
		cmocka_unit_test_setup_teardown(a_cut_stream_and_server_errors_are_survived, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(free_is_prompt_with_a_watch_open, setup, teardown),
		cmocka_unit_test_setup_teardown(api_server_down_at_open_then_up, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
