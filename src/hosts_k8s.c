/* src/hosts_k8s.c - the zk+k8s:// host provider: lists a Service's
 * EndpointSlices from the Kubernetes API and watches them, so the session
 * follows pods as they come, go and move. HTTP is libcurl (one multi
 * handle, woken to stop); the JSON and config halves are k8s_json.c and
 * k8s_config.c. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "internal.h"

/* current() waits this long for the first list, then answers "" and lets
 * the thread notify when the list arrives. */
#define K8S_FIRST_WAIT_MS 5000
#define K8S_CONNECT_TIMEOUT_MS 5000
#define K8S_LIST_TIMEOUT_MS 30000
/* The server ends a watch after this; a new one starts from the last
 * resourceVersion (client-go uses 5-10 minutes). */
#define K8S_WATCH_SECONDS 300
#define K8S_BACKOFF_MIN_MS 250
#define K8S_BACKOFF_MAX_MS 10000
#define K8S_LIST_MAX (64 * 1024 * 1024)
#define K8S_ERRBODY_MAX 4096
#define K8S_POLL_MS 1000

typedef struct k8s_hosts {
	zkc__hosts_t base;        /* first: the provider is cast to it */
	char *label;              /* "zk+k8s svc.ns:port", for log lines */
	int include_not_ready;
	zkc__k8s_conn_t *conn;
	char *list_url;
	CURLM *multi;

	/* lock, latest list, what the client has, notify (f.latest: the last non-empty list) */
	zkc__follow_t f;
	pthread_t thread;
	int thread_running;

	/* the watch thread's own */
	zkc__k8s_set_t set;
	zkc__k8s_lines_t lines;
	int64_t backoff_ms;
	int unauthorized;         /* consecutive 401 answers */
	int empty_logged;         /* the empty set was logged */
	char *last_problem;       /* for WARN once, DEBUG on repeats */
	char *sent_token;         /* the last bearer token sent, masked in
	                           * problem() lines (the watch thread's own) */
} k8s_hosts_t;

/* One HTTP request. */
typedef struct xfer {
	k8s_hosts_t *h;
	CURL *easy;
	int watch;
	long status;
	char *body;               /* list body, or the start of an error body */
	size_t len, cap, max;
	int too_large;
	int gone;                 /* watch: ERROR 410 event */
	int bad_event;            /* watch: an event we could not apply */
	int error_event;          /* watch: another ERROR event */
	int events;
	char errbuf[CURL_ERROR_SIZE];
} xfer_t;

enum { XF_OK, XF_STOPPED, XF_GONE, XF_UNAUTHORIZED, XF_FAILED };

/* Private code from the line callback: stop reading this stream. */
#define LINE_ABORT 1

/* ------------------------------------------------------------ small helpers */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
	/* libcurl's global init is not thread-safe in every version: once per
	 * process, never cleaned up (the application may use curl too). */
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int stopping(k8s_hosts_t *h)
{
	int s;

	pthread_mutex_lock(&h->f.mu);
	s = h->f.stop;
	pthread_mutex_unlock(&h->f.mu);
	return s;
}

/* Logs at WARN when the problem differs from the last one, at DEBUG when
 * it repeats, so an API server that stays down is not a WARN per retry. */
/* Overwrites each occurrence of `secret` in line with '*'. */
static void mask(char *line, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	char *at;

	if (n < 4)   /* nothing to hide in so short a string, only noise */
		return;
	while ((at = strstr(line, secret)) != NULL)
		memset(at, '*', n);
}

/* Masks what follows "Bearer " up to the next space or quote: a token the
 * server quotes back may be an older one (rotated) that sent_token no
 * longer holds. */
static void mask_bearer(char *line)
{
	char *at = line;

	while ((at = strstr(at, "Bearer ")) != NULL) {
		at += 7;
		while (*at && *at != ' ' && *at != '"' && *at != '\'' && *at != ',')
			*at++ = '*';
	}
}

/* Logs a problem of the provider. Lines may hold text the API server sent
 * (a Status message, a piece of a body): a server or proxy that quotes the
 * request back would put the token there, so it is masked. */
static void problem(k8s_hosts_t *h, const char *fmt, ...) ZKC__PRINTF(2, 3);
static void problem(k8s_hosts_t *h, const char *fmt, ...)
{
	char line[768];
	va_list ap;
	int same;

	va_start(ap, fmt);
	if (vsnprintf(line, sizeof(line), fmt, ap) < 0)
		line[0] = '\0';
	va_end(ap);
	mask(line, h->sent_token);
	mask_bearer(line);
	same = h->last_problem && strcmp(h->last_problem, line) == 0;
	zkc__log(h->base.log, same ? ZKC_LOG_DEBUG : ZKC_LOG_WARN, "%s: %s", h->label, line);
	if (!same) {
		free(h->last_problem);
		h->last_problem = zkc__strdup(line);
	}
}

static void problem_clear(k8s_hosts_t *h)
{
	if (h->last_problem)
		zkc__log(h->base.log, ZKC_LOG_INFO, "%s: the API server answers again", h->label);
	free(h->last_problem);
	h->last_problem = NULL;
}

/* ------------------------------------------------------------ notify */

/* Hands the latest list to the client if it differs from what the client
 * has. Called and returns with mu held; drops it around the callback. */
static void notify_locked(k8s_hosts_t *h)
{
	zkc__follow_notify_locked(&h->f);
}

static void service_kick(k8s_hosts_t *h)
{
	pthread_mutex_lock(&h->f.mu);
	if (h->f.kick) {
		h->f.kick = 0;
		notify_locked(h);
	}
	pthread_mutex_unlock(&h->f.mu);
}

/* Recomputes the list from the slices and tells the client of a change.
 * An empty set never replaces a non-empty list: a Service whose pods are
 * all unready (a rolling restart, an API hiccup) keeps the session on the
 * servers it knew rather than on none. */
static void publish(k8s_hosts_t *h)
{
	zkc__k8s_stats_t st;
	char *list = NULL;

	if (zkc__k8s_servers(&list, &st, &h->set, h->include_not_ready) != ZKC_OK) {
		zkc__log(h->base.log, ZKC_LOG_ERROR, "%s: %s; keeping the previous server list",
		         h->label, zkc_error_last()->message);
		return;
	}
	if (st.capped)
		zkc__log(h->base.log, ZKC_LOG_WARN, "%s: more than %d endpoints; using the first %d "
		         "(sorted)", h->label, ZKC__K8S_MAX_SERVERS, ZKC__K8S_MAX_SERVERS);
	pthread_mutex_lock(&h->f.mu);
	if (!*list) {
		if (!h->empty_logged)
			zkc__log(h->base.log, ZKC_LOG_WARN, "%s: no %sendpoints (%zu slices, %zu ready, "
			         "%zu not ready, %zu without a usable port); keeping %s%s%s", h->label,
			         h->include_not_ready ? "" : "ready ", st.slices, st.ready,
			         st.not_ready, st.unusable_slices,
			         h->f.latest ? "the last list \"" : "no servers",
			         h->f.latest ? h->f.latest : "", h->f.latest ? "\"" : "");
		h->empty_logged = 1;
		free(list);
		pthread_mutex_unlock(&h->f.mu);
		return;
	}
	h->empty_logged = 0;
	if (h->f.latest && strcmp(h->f.latest, list) == 0) {
		free(list);
		pthread_mutex_unlock(&h->f.mu);
		return;
	}
	zkc__log(h->base.log, ZKC_LOG_INFO, "%s: servers now \"%s\" (%zu ready, %zu not ready "
	         "endpoints in %zu slices)", h->label, list, st.ready, st.not_ready, st.slices);
	free(h->f.latest);
	h->f.latest = list;
	pthread_cond_broadcast(&h->f.cond);
	notify_locked(h);
	pthread_mutex_unlock(&h->f.mu);
}

static void slice_problems(k8s_hosts_t *h)
{
	for (size_t i = 0; i < h->set.nslices; i++)
		if (h->set.slices[i].problem)
			zkc__log(h->base.log, ZKC_LOG_WARN, "%s: EndpointSlice %s is not used: %s",
			         h->label, h->set.slices[i].name, h->set.slices[i].problem);
}

/* ------------------------------------------------------------ HTTP */

static int on_line(void *ctx, const char *line, size_t len)
{
	xfer_t *x = ctx;
	k8s_hosts_t *h = x->h;
	zkc__k8s_event_t ev;
	int rc;

	rc = zkc__k8s_apply_event(&h->set, line, len, &ev);
	if (rc != ZKC_OK) {
		/* The set may now miss a change: start again from a list. */
		problem(h, "watch: %s; listing again", zkc_error_last()->message);
		x->bad_event = 1;
		return LINE_ABORT;
	}
	x->events++;
	switch (ev.type) {
	case ZKC__K8S_ERROR:
		if (ev.code == 410) {
			zkc__log(h->base.log, ZKC_LOG_INFO, "%s: watch: resourceVersion expired (410 "
			         "Gone: %s); listing again", h->label, ev.message);
			x->gone = 1;
		} else {
			problem(h, "watch: ERROR event, code %d: %s", ev.code, ev.message);
			x->error_event = 1;
		}
		return LINE_ABORT;
	case ZKC__K8S_BOOKMARK:
		return ZKC_OK;
	default:
		break;
	}
	publish(h);
	return ZKC_OK;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	xfer_t *x = ud;
	size_t n = size * nmemb;

	if (!x->status)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->watch && x->status == 200) {
		int rc = zkc__k8s_lines_feed(&x->h->lines, ptr, n, on_line, x);

		if (rc == LINE_ABORT)
			return 0;
		if (rc != ZKC_OK) {
			problem(x->h, "watch: %s; listing again", zkc_error_last()->message);
			x->bad_event = 1;
			return 0;
		}
		return n;
	}
	if (x->len + n > x->max) {
		if (x->status == 200) {
			x->too_large = 1;
			return 0;
		}
		n = x->max - x->len;   /* an error body: its start says enough */
		if (n == 0)
			return size * nmemb;
	}
	if (x->len + n + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 16384;
		char *grown;

		while (cap < x->len + n + 1)
			cap *= 2;
		grown = realloc(x->body, cap);
		if (!grown)
			return 0;
		x->body = grown;
		x->cap = cap;
	}
	memcpy(x->body + x->len, ptr, n);
	x->len += n;
	x->body[x->len] = '\0';
	return size * nmemb;
}

/* "HTTP 403: endpointslices.discovery.k8s.io is forbidden: ..." from the
 * Status object the API answers errors with (cut bodies and other
 * answers give the code alone). */
static void status_text(char *buf, size_t cap, const xfer_t *x)
{
	json_t *root = x->body ? json_loadb(x->body, x->len, 0, NULL) : NULL;
	json_t *msg = json_is_object(root) ? json_object_get(root, "message") : NULL;

	if (json_is_string(msg))
		snprintf(buf, cap, "HTTP %ld: %.300s", x->status, json_string_value(msg));
	else
		snprintf(buf, cap, "HTTP %ld", x->status);
	json_decref(root);
}

static struct curl_slist *headers_new(const char *token)
{
	struct curl_slist *hd = curl_slist_append(NULL, "Accept: application/json");

	if (hd && token) {
		char *auth = zkc__sprintf("Authorization: Bearer %s", token);
		struct curl_slist *more = auth ? curl_slist_append(hd, auth) : NULL;

		if (auth) {
			OPENSSL_cleanse(auth, strlen(auth));
			free(auth);
		}
		if (!more) {
			curl_slist_free_all(hd);
			return NULL;
		}
		hd = more;
	}
	return hd;
}

static int easy_setup(k8s_hosts_t *h, xfer_t *x, const char *url, struct curl_slist *hd)
{
	const zkc__k8s_conn_t *c = h->conn;
	CURL *e = curl_easy_init();
	CURLcode r = CURLE_OK;

	if (!e)
		return -1;
	x->easy = e;
#define SET(opt, val) do { if (r == CURLE_OK) r = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_HTTPHEADER, hd);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "https,http");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)K8S_CONNECT_TIMEOUT_MS);
	SET(CURLOPT_TIMEOUT_MS, x->watch ? (long)(K8S_WATCH_SECONDS + 30) * 1000L
	                                  : (long)K8S_LIST_TIMEOUT_MS);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_TCP_KEEPIDLE, 30L);
	SET(CURLOPT_TCP_KEEPINTVL, 10L);
	SET(CURLOPT_WRITEFUNCTION, on_data);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	if (c->ca_data) {
		struct curl_blob b = { c->ca_data, c->ca_len, CURL_BLOB_COPY };

		SET(CURLOPT_CAINFO_BLOB, &b);
	} else if (c->ca_file) {
		SET(CURLOPT_CAINFO, c->ca_file);
	}
	if (c->ca_data || c->ca_file)
		SET(CURLOPT_CAPATH, NULL);   /* the cluster's CA only, not the system's */
	if (c->cert_data) {
		struct curl_blob b = { c->cert_data, c->cert_len, CURL_BLOB_COPY };

		SET(CURLOPT_SSLCERT_BLOB, &b);
	} else if (c->cert_file) {
		SET(CURLOPT_SSLCERT, c->cert_file);
	}
	if (c->key_data) {
		struct curl_blob b = { c->key_data, c->key_len, CURL_BLOB_COPY };

		SET(CURLOPT_SSLKEY_BLOB, &b);
	} else if (c->key_file) {
		SET(CURLOPT_SSLKEY, c->key_file);
	}
	if (c->insecure) {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	}
#undef SET
	if (r != CURLE_OK) {
		problem(h, "libcurl option failed: %s", curl_easy_strerror(r));
		return -1;
	}
	return 0;
}

/* Runs one transfer on the multi handle so free() can interrupt it at
 * once with curl_multi_wakeup. */
static CURLcode run(k8s_hosts_t *h, xfer_t *x, int *stopped)
{
	CURLcode res = CURLE_OK;
	int running = 1, done = 0;

	*stopped = 0;
	if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK)
		return CURLE_FAILED_INIT;
	while (!done) {
		CURLMsg *m;
		int q;

		if (stopping(h)) {
			*stopped = 1;
			break;
		}
		service_kick(h);
		if (curl_multi_perform(h->multi, &running) != CURLM_OK) {
			res = CURLE_FAILED_INIT;
			break;
		}
		while ((m = curl_multi_info_read(h->multi, &q)) != NULL)
			if (m->msg == CURLMSG_DONE && m->easy_handle == x->easy) {
				res = m->data.result;
				done = 1;
			}
		if (done || !running)
			break;
		curl_multi_poll(h->multi, NULL, 0, K8S_POLL_MS, NULL);
	}
	curl_multi_remove_handle(h->multi, x->easy);
	return res;
}

/* Does one request; the body (list) or the stream (watch) is handled by
 * on_data. Returns XF_*. */
static int request(k8s_hosts_t *h, xfer_t *x, const char *url, const char *what)
{
	struct curl_slist *hd = NULL;
	char *token = NULL;
	CURLcode res;
	int rc, stopped;

	/* Bound tokens rotate: the file is read again for every request. */
	rc = zkc__k8s_conn_token(&token, h->conn);
	if (rc != ZKC_OK) {
		problem(h, "%s: %s", what, zkc_error_last()->message);
		return XF_FAILED;
	}
	hd = headers_new(token);
	if (token && (!h->sent_token || strcmp(token, h->sent_token) != 0)) {
		if (h->sent_token)
			OPENSSL_cleanse(h->sent_token, strlen(h->sent_token));
		free(h->sent_token);
		h->sent_token = token;      /* kept to mask it in problem() */
		token = NULL;
	}
	if (token) {
		OPENSSL_cleanse(token, strlen(token));
		free(token);
	}
	if (!hd || easy_setup(h, x, url, hd) != 0) {
		if (x->easy)
			curl_easy_cleanup(x->easy);
		x->easy = NULL;
		curl_slist_free_all(hd);
		if (!hd)
			problem(h, "%s: out of memory", what);
		return XF_FAILED;
	}
	res = run(h, x, &stopped);
	if (!x->status)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	curl_easy_cleanup(x->easy);
	x->easy = NULL;
	curl_slist_free_all(hd);
	if (stopped)
		return XF_STOPPED;
	if (x->gone || x->status == 410)
		return XF_GONE;
	if (x->bad_event)
		return XF_GONE;      /* the set may be wrong: list again */
	if (x->error_event)
		return XF_FAILED;
	if (x->status == 401) {
		problem(h, "%s: HTTP 401 Unauthorized: the API server refused the token (%s); "
		        "reading it again", what, h->conn->source);
		return XF_UNAUTHORIZED;
	}
	if (x->status && x->status != 200) {
		char text[400];

		status_text(text, sizeof(text), x);
		problem(h, "%s: %s", what, text);
		return XF_FAILED;
	}
	if (x->too_large) {
		problem(h, "%s: answer larger than %d bytes", what, K8S_LIST_MAX);
		return XF_FAILED;
	}
	if (res != CURLE_OK && !(x->watch && x->status == 200 &&
	                         (res == CURLE_OPERATION_TIMEDOUT || res == CURLE_PARTIAL_FILE ||
	                          res == CURLE_RECV_ERROR || res == CURLE_GOT_NOTHING))) {
		problem(h, "%s: %s: %s", what, curl_easy_strerror(res),
		        x->errbuf[0] ? x->errbuf : "no detail");
		return XF_FAILED;
	}
	if (x->watch && x->status == 200 && res != CURLE_OK)
		zkc__log(h->base.log, ZKC_LOG_INFO, "%s: watch connection ended (%s); resuming",
		         h->label, curl_easy_strerror(res));
	return XF_OK;
}

static int do_list(k8s_hosts_t *h)
{
	xfer_t x;
	int rc;

	memset(&x, 0, sizeof(x));
	x.h = h;
	x.max = K8S_LIST_MAX;
	rc = request(h, &x, h->list_url, "list EndpointSlices");
	if (rc == XF_OK) {
		if (zkc__k8s_parse_list(&h->set, x.body, x.len) != ZKC_OK) {
			problem(h, "list EndpointSlices: %s", zkc_error_last()->message);
			rc = XF_FAILED;
		} else {
			problem_clear(h);
			slice_problems(h);
			publish(h);
		}
	}
	free(x.body);
	return rc;
}

static int do_watch(k8s_hosts_t *h)
{
	char *rv = curl_easy_escape(NULL, h->set.resource_version, 0);
	char *url = rv ? zkc__sprintf("%s&watch=1&allowWatchBookmarks=true&resourceVersion=%s"
	                              "&timeoutSeconds=%d", h->list_url, rv, K8S_WATCH_SECONDS)
	               : NULL;
	xfer_t x;
	int rc;

	curl_free(rv);
	if (!url) {
		problem(h, "watch: out of memory");
		return XF_FAILED;
	}
	memset(&x, 0, sizeof(x));
	x.h = h;
	x.watch = 1;
	x.max = K8S_ERRBODY_MAX;
	zkc__k8s_lines_reset(&h->lines);
	rc = request(h, &x, url, "watch EndpointSlices");
	if (rc == XF_OK && zkc__k8s_lines_end(&h->lines) != ZKC_OK) {
		problem(h, "watch: %s; resuming from the last complete event",
		        zkc_error_last()->message);
	}
	zkc__k8s_lines_reset(&h->lines);
	if (rc == XF_OK && x.status == 200)
		problem_clear(h);
	free(x.body);
	free(url);
	return rc;
}

/* ------------------------------------------------------------ the thread */

/* Waits ms or until free(); 1 when stopping. */
static int pause_ms(k8s_hosts_t *h, int64_t ms)
{
	struct timespec ts;
	int stop;

	zkc__deadline_ts(&ts, ms);
	pthread_mutex_lock(&h->f.mu);
	while (!h->f.stop) {
		if (h->f.kick) {
			h->f.kick = 0;
			notify_locked(h);
			continue;
		}
		if (pthread_cond_timedwait(&h->f.cond, &h->f.mu, &ts) == ETIMEDOUT)
			break;
	}
	stop = h->f.stop;
	pthread_mutex_unlock(&h->f.mu);
	return stop;
}

static int backoff(k8s_hosts_t *h)
{
	int64_t ms = h->backoff_ms;

	/* jitter: 75%..125%, so many clients do not retry in step */
	ms = (int64_t)((double)ms * (0.75 + 0.5 * zkc__random01()));
	h->backoff_ms = h->backoff_ms * 2 > K8S_BACKOFF_MAX_MS ? K8S_BACKOFF_MAX_MS
	                                                        : h->backoff_ms * 2;
	return pause_ms(h, ms);
}

static void first_done(k8s_hosts_t *h)
{
	pthread_mutex_lock(&h->f.mu);
	if (!h->f.have_first) {
		h->f.have_first = 1;
		pthread_cond_broadcast(&h->f.cond);
	}
	pthread_mutex_unlock(&h->f.mu);
}

/* After a refused token, one prompt retry (the file may have rotated just
 * now); then the usual backoff. */
static int after_failure(k8s_hosts_t *h, int rc)
{
	if (rc == XF_UNAUTHORIZED && ++h->unauthorized == 1)
		return stopping(h);
	if (rc != XF_UNAUTHORIZED)
		h->unauthorized = 0;
	return backoff(h);
}

static void *k8s_thread(void *arg)
{
	k8s_hosts_t *h = arg;

	h->backoff_ms = K8S_BACKOFF_MIN_MS;
	while (!stopping(h)) {
		int rc;

		if (!h->set.resource_version) {
			rc = do_list(h);
			first_done(h);
			if (rc == XF_STOPPED)
				break;
			if (rc != XF_OK) {
				if (after_failure(h, rc))
					break;
				continue;
			}
			h->unauthorized = 0;
			h->backoff_ms = K8S_BACKOFF_MIN_MS;
		}
		int64_t t0 = zkc__now_ms();

		rc = do_watch(h);
		if (rc == XF_STOPPED)
			break;
		if (rc == XF_GONE) {
			free(h->set.resource_version);
			h->set.resource_version = NULL;   /* list again, at once */
			continue;
		}
		if (rc == XF_OK) {
			h->unauthorized = 0;
			/* A watch that ends normally is resumed at once; one that
			 * ends right away (a proxy closing it) backs off. */
			if (zkc__now_ms() - t0 > 1000) {
				h->backoff_ms = K8S_BACKOFF_MIN_MS;
				continue;
			}
		}
		if (after_failure(h, rc))
			break;
	}
	return NULL;
}

/* ------------------------------------------------------------ ops */

static int k8s_current(zkc__hosts_t *base, char **out)
{
	k8s_hosts_t *h = (k8s_hosts_t *)base;
	int late = 0, rc = zkc__follow_current(&h->f, K8S_FIRST_WAIT_MS, h->label, out, &late);

	if (rc == ZKC_OK && late)
		zkc__log(h->base.log, ZKC_LOG_WARN, "%s: no answer from the API server within %d ms; "
		         "starting with no servers, the list follows when it comes", h->label,
		         K8S_FIRST_WAIT_MS);
	return rc;
}

static int k8s_start(zkc__hosts_t *base, zkc__hosts_notify_fn fn, void *ctx)
{
	k8s_hosts_t *h = (k8s_hosts_t *)base;
	int rc = zkc__follow_start(&h->f, fn, ctx, h->label);

	if (rc == ZKC_OK)
		curl_multi_wakeup(h->multi);
	return rc;
}

/* Must not be called from the notify function: it joins the thread that
 * runs it. Returns promptly: the wakeup ends the poll of a watch. */
static void k8s_free(zkc__hosts_t *base)
{
	k8s_hosts_t *h = (k8s_hosts_t *)base;

	if (h->thread_running) {
		pthread_mutex_lock(&h->f.mu);
		h->f.stop = 1;
		pthread_cond_broadcast(&h->f.cond);
		pthread_mutex_unlock(&h->f.mu);
		curl_multi_wakeup(h->multi);
		pthread_join(h->thread, NULL);
	}
	if (h->multi)
		curl_multi_cleanup(h->multi);
	pthread_cond_destroy(&h->f.cond);
	pthread_mutex_destroy(&h->f.mu);
	zkc__k8s_set_clear(&h->set);
	zkc__k8s_lines_reset(&h->lines);
	zkc__k8s_conn_free(h->conn);
	free(h->list_url);
	free(h->label);
	free(h->f.latest);
	free(h->f.reported);
	free(h->last_problem);
	if (h->sent_token)
		OPENSSL_cleanse(h->sent_token, strlen(h->sent_token));
	free(h->sent_token);
	free(h);
}

static const struct zkc__hosts_ops k8s_ops = {
	.name = "k8s",
	.current = k8s_current,
	.start = k8s_start,
	.free = k8s_free,
};

/* ------------------------------------------------------------ construction */

static int k8s_configure(k8s_hosts_t *h, const zkc__url_t *url)
{
	zkc__k8s_env_t env;
	const char *host, *dot;
	char *svc, *token = NULL;
	int rc;

	if (url->nhosts != 1 || !url->hosts || !url->hosts[0].host ||
	    !(dot = strchr(url->hosts[0].host, '.')))
		return zkc__error(ZKC_EBADARGUMENTS, "zk+k8s: the URL must name SERVICE.NAMESPACE");
	host = url->hosts[0].host;
	if (url->hosts[0].port < 1 || url->hosts[0].port > 65535)
		return zkc__error(ZKC_EBADARGUMENTS, "zk+k8s: port %d is not in 1..65535",
		                  url->hosts[0].port);
	h->include_not_ready = url->k8s_include_not_ready;
	zkc__k8s_set_init(&h->set, url->hosts[0].port);
	h->label = zkc__sprintf("zk+k8s %s:%d", host, url->hosts[0].port);
	svc = zkc__strndup(host, (size_t)(dot - host));
	if (!h->label || !svc) {
		free(svc);
		return zkc__error(ZKC_ENOMEM, "zk+k8s: out of memory");
	}
	memset(&env, 0, sizeof(env));
	env.kubeconfig = url->k8s_kubeconfig;
	env.kubeconfig_env = getenv("KUBECONFIG");
	env.home = getenv("HOME");
	env.service_host = getenv("KUBERNETES_SERVICE_HOST");
	env.service_port = getenv("KUBERNETES_SERVICE_PORT");
	rc = zkc__k8s_conn_load(&h->conn, &env);
	if (rc != ZKC_OK) {
		free(svc);
		return rc;
	}
	/* A token file that cannot be read is a configuration mistake: say so
	 * at open rather than retry forever. */
	rc = zkc__k8s_conn_token(&token, h->conn);
	if (token) {
		OPENSSL_cleanse(token, strlen(token));
		free(token);
	}
	if (rc != ZKC_OK) {
		free(svc);
		return rc;
	}
	/* Service and namespace are DNS labels (url.c checks): safe in a URL. */
	h->list_url = zkc__sprintf("%s/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices?"
	                           "labelSelector=kubernetes.io%%2Fservice-name%%3D%s",
	                           h->conn->server, dot + 1, svc);
	free(svc);
	if (!h->list_url)
		return zkc__error(ZKC_ENOMEM, "zk+k8s: out of memory");
	if (h->conn->insecure)
		zkc__log(h->base.log, ZKC_LOG_WARN, "%s: insecure-skip-tls-verify is set in %s: the "
		         "API server's certificate is not checked", h->label, h->conn->source);
	zkc__log(h->base.log, ZKC_LOG_INFO, "%s: API server %s (%s)", h->label, h->conn->server,
	         h->conn->source);
	return ZKC_OK;
}

int zkc__hosts_k8s_new(zkc__hosts_t **out, const zkc__url_t *url, const zkc__log_t *log)
{
	k8s_hosts_t *h;
	int rc;

	if (!out || !url)
		return zkc__error(ZKC_EBADARGUMENTS, "k8s hosts: NULL argument");
	*out = NULL;
	if (url->scheme != ZKC__SCHEME_K8S)
		return zkc__error(ZKC_EBADARGUMENTS, "k8s hosts: URL scheme %d is not zk+k8s",
		                  url->scheme);
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK)
		return zkc__error(ZKC_ESYSTEM, "zk+k8s: libcurl initialisation failed: %s",
		                  curl_easy_strerror(curl_init_rc));
	h = calloc(1, sizeof(*h));
	if (!h)
		return zkc__error(ZKC_ENOMEM, "k8s hosts: out of memory");
	h->base.ops = &k8s_ops;
	h->base.log = log;
	if (pthread_mutex_init(&h->f.mu, NULL) != 0) {
		free(h);
		return zkc__error(ZKC_EOS, "k8s hosts: pthread_mutex_init failed");
	}
	if ((rc = zkc__cond_init(&h->f.cond)) != ZKC_OK) {
		pthread_mutex_destroy(&h->f.mu);
		free(h);
		return rc;
	}
	/* From here k8s_free cleans up whatever was filled in. */
	if ((rc = k8s_configure(h, url)) != ZKC_OK)
		goto fail;
	h->multi = curl_multi_init();
	if (!h->multi) {
		rc = zkc__error(ZKC_ENOMEM, "%s: curl_multi_init failed", h->label);
		goto fail;
	}
	/* The first list starts now, so current() usually finds it done. */
	rc = pthread_create(&h->thread, NULL, k8s_thread, h);
	if (rc != 0) {
		rc = zkc__error(ZKC_EOS, "%s: cannot start the watch thread: %s", h->label,
		                strerror(rc));
		goto fail;
	}
	h->thread_running = 1;
	*out = &h->base;
	return ZKC_OK;
fail:
	k8s_free(&h->base);
	return rc;
}
