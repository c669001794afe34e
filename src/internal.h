/* src/internal.h - declarations shared between the core's files: errors,
 * logging, time, URL/config, retry state, paths, the state machine and the
 * host-provider interface. Nothing here is public. */
#ifndef ZKC_INTERNAL_H
#define ZKC_INTERNAL_H

#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>

#include <pthread.h>

#include "zkc.h"

#if defined(__GNUC__)
#define ZKC__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ZKC__PRINTF(a, b)
#endif

/* ------------------------------------------------------------ errors (error.c) */

/* Records code and a formatted message as this thread's last error and
 * returns code, so failures read `return zkc__error(ZKC_ENONODE, "...")`. */
int zkc__error(int code, const char *fmt, ...) ZKC__PRINTF(2, 3);
/* Maps a libzookeeper return code to a zkc code (identity for known codes,
 * ZKC_ESYSTEM for unknown ones) and records "op path: zerror" as detail. */
int zkc__error_zk(int zrc, const char *op, const char *path);

/* ------------------------------------------------------------ logging (log.c) */

typedef struct zkc__log {
	zkc_log_fn fn;
	void *payload;
	int level;
} zkc__log_t;

void zkc__log(const zkc__log_t *log, int level, const char *fmt, ...) ZKC__PRINTF(3, 4);

/* ------------------------------------------------------------ time, strings (util.c) */

int64_t zkc__now_ms(void);                 /* CLOCK_MONOTONIC in ms */
void zkc__sleep_ms(int64_t ms);
/* Fills ts with CLOCK_MONOTONIC now + ms, for pthread_cond_timedwait on a
 * condition variable initialised by zkc__cond_init (monotonic clock). */
struct timespec;
void zkc__deadline_ts(struct timespec *ts, int64_t ms);
int zkc__cond_init(void *cond);            /* pthread_cond_t *, monotonic */
char *zkc__strdup(const char *s);          /* NULL-safe */
/* The earlier of deadline_ms (monotonic; < 0: none) and the deadline bound
 * to the calling thread (zkc_deadline_bind, cancel.c); < 0 when neither. */
int64_t zkc__deadline_cap(int64_t deadline_ms);
char *zkc__strndup(const char *s, size_t n);
char *zkc__sprintf(const char *fmt, ...) ZKC__PRINTF(1, 2);  /* malloc'd or NULL */
double zkc__random01(void);                /* thread-safe uniform [0, 1) */
/* Copies up to ZKC__QUOTE_MAX bytes of s (len bytes) into dst for an error
 * message: '"' and '\\' escaped, other non-printable bytes as \xNN, "..."
 * when cut; dst needs ZKC__QUOTE_BUF bytes. */
#define ZKC__QUOTE_MAX 200
#define ZKC__QUOTE_BUF (ZKC__QUOTE_MAX * 4 + 8)
void zkc__quote(char *dst, size_t cap, const char *s, size_t len);
/* Parses "10s", "500ms", "2m", "1500" (ms). ZKC_OK or ZKC_EBADARGUMENTS. */
int zkc__parse_duration_ms(int64_t *out, const char *s);

/* ------------------------------------------------------------ paths (path.c) */

/* zkc_path_validate is public. These return malloc'd strings or NULL (ENOMEM). */
char *zkc__path_join(const char *parent, const char *child);
/* Parent of a valid path; "/" for a top-level node; NULL for "/" itself. */
char *zkc__path_parent(const char *path);
/* Last component of a valid path ("" for "/"); points into path. */
const char *zkc__path_basename(const char *path);

/* ------------------------------------------------------------ URL (url.c) */

typedef enum zkc__scheme {
	ZKC__SCHEME_STATIC = 1,   /* zk://, zks:// */
	ZKC__SCHEME_DNS = 2,      /* zk+dns://, zks+dns:// */
	ZKC__SCHEME_SRV = 3,      /* zk+srv://, zks+srv:// */
	ZKC__SCHEME_K8S = 4       /* zk+k8s://, zks+k8s:// */
} zkc__scheme_t;

typedef struct zkc__hostport {
	char *host;               /* name, IPv4 literal or IPv6 literal (no brackets) */
	int port;                 /* 1..65535; 2181 when the URL had none */
} zkc__hostport_t;

typedef struct zkc__url {
	int scheme;               /* zkc__scheme_t */
	int tls;                  /* 1 for zks* schemes or any TLS option */
	size_t nhosts;
	zkc__hostport_t *hosts;   /* for SRV: one entry, port 0 */
	char *chroot;             /* NULL or a valid path other than "/" */

	/* query options; 0 / NULL = not given */
	int session_timeout_ms;
	int connect_timeout_ms;   /* -1 = do not wait */
	zkc_retry_t retry;        /* version 0 unless any retry_* option given;
	                           * then unset fields hold ZKC_RETRY_INIT's */
	char *digest;             /* "user:password" */
	char *dns_server;         /* resolver to ask: IPv4 or IPv6 literal, no brackets */
	int dns_port;             /* its port, 53 by default */
	int dns_interval_ms;      /* re-resolution period */
	int read_only;            /* 0/1 */

	/* TLS (docs/tls.md): any of them turns TLS on */
	char *tls_ca, *tls_cert, *tls_key, *tls_key_password, *tls_server_name;
	int tls_verify_host;      /* default 1 */

	/* Kubernetes (docs/kubernetes.md) */
	char *k8s_kubeconfig;
	int k8s_include_not_ready;
} zkc__url_t;

/* Parses a connection URL. ZKC_OK, or ZKC_EURL with the reason (position,
 * offending part) in zkc_error_last(); secrets never appear in messages. */
int zkc__url_parse(zkc__url_t **out, const char *url);
void zkc__url_free(zkc__url_t *url);
/* The URL with the password of digest= and key_password= replaced by "***";
 * malloc'd, NULL on ENOMEM. Works on malformed URLs too. */
char *zkc__url_redact(const char *url);
/* "h1:p1,h2:p2" from the URL's hosts (IPv6 without brackets, as libzookeeper
 * wants them). malloc'd. */
char *zkc__url_hosts_string(const zkc__url_t *url);
/* The i-th scheme and query option the parser accepts (0-based); NULL past
 * the last. For the test that keeps the documentation complete. */
const char *zkc__url_scheme_name(size_t i);
const char *zkc__url_option_name(size_t i);

/* ------------------------------------------------------------ retry (retry.c) */

typedef struct zkc__retry_run {
	zkc_retry_t policy;
	int64_t start_ms;
	int attempt;              /* attempts started so far */
} zkc__retry_run_t;

void zkc__retry_begin(zkc__retry_run_t *run, const zkc_retry_t *policy);
/* Before each retry: computes how long to sleep in *out_sleep_ms. Returns
 * ZKC_OK if another attempt may start (after the sleep), ZKC_ETIMEDOUT if
 * the deadline or attempt count forbids it. */
int zkc__retry_next(zkc__retry_run_t *run, int64_t *out_sleep_ms);
/* Milliseconds left before the deadline (>= 0). */
int64_t zkc__retry_left_ms(const zkc__retry_run_t *run);

/* ------------------------------------------------------------ state machine (state.c) */

typedef enum zkc__sm_input {
	ZKC__IN_CONNECTED = 1,     /* libzookeeper reports a connected session */
	ZKC__IN_DISCONNECTED = 2,  /* connection lost (CONNECTING/ASSOCIATING) */
	ZKC__IN_EXPIRED = 3,       /* the server said the session expired */
	ZKC__IN_PRESUMED_LOST = 4, /* disconnected for ~2/3 of the timeout */
	ZKC__IN_CLOSE = 5          /* zkc_close */
} zkc__sm_input_t;

typedef struct zkc__sm {
	int state;                 /* zkc_state_t */
	int64_t session_id;        /* session of the last CONNECTED, 0 if none */
} zkc__sm_t;

void zkc__sm_init(zkc__sm_t *sm);
/* Feeds one input; writes the public states to announce, in order, into
 * out[0..return-1] (at most 2). Pure: no I/O, no locks. */
int zkc__sm_step(zkc__sm_t *sm, int input, int64_t session_id, int out[2]);

/* ------------------------------------------------------------ history (history.c) */

/* Whether the server at hostport ("ip:port", "[v6]:port") has a history
 * behind zxid: it refuses a session handshake claiming to have seen zxid
 * but accepts one claiming nothing. Returns 1 (behind: the ensemble was
 * wiped or restored), 0 (not behind) or -1 (could not tell). Blocks up to
 * 2 * timeout_ms; the probe's own session is closed again. */
int zkc__history_probe(const char *hostport, int64_t zxid, int timeout_ms);

/* ------------------------------------------------------------ TLS bridge (tls.c) */

typedef struct zkc__tls_config {
	char *ca, *cert, *key, *key_password, *server_name;
	int verify_host;
} zkc__tls_config_t;

typedef struct zkc__tls zkc__tls_t;

/* Starts a bridge (its thread; no endpoint yet). cfg is copied. */
int zkc__tls_new(zkc__tls_t **out, const zkc__tls_config_t *cfg, const zkc__log_t *log);
/* Maps "h:p,h:p" (real servers) to "127.0.0.1:l1,127.0.0.1:l2" (the
 * bridge's endpoints, made on first use). *out malloc'd. */
int zkc__tls_map(zkc__tls_t *t, const char *servers, char **out);
/* The real server behind a local endpoint "127.0.0.1:l" (malloc'd). */
int zkc__tls_unmap(zkc__tls_t *t, const char *local, char **out);
/* The last TLS failure (verification, handshake), cleared by a success;
 * returns whether there is one. */
int zkc__tls_last_error(zkc__tls_t *t, char *buf, size_t n);
/* Connections refused because they came from another process. */
int64_t zkc__tls_refused(zkc__tls_t *t);
void zkc__tls_free(zkc__tls_t *t);

/* ------------------------------------------------------------ host providers (hosts.c) */

/* A host provider owns the server list of one client. It may change the
 * list at any time from its own thread through the notify function; the
 * client then calls zoo_set_servers. */
typedef struct zkc__hosts zkc__hosts_t;

/* servers: "h:p,h:p" (may be "" when nothing resolves now). Called from the
 * provider's thread, never with provider locks held; must not block long. */
typedef void (*zkc__hosts_notify_fn)(void *ctx, const char *servers);

struct zkc__hosts_ops {
	const char *name;
	/* The current list (may block for a first lookup, bounded by a few
	 * seconds). *out malloc'd, "" when nothing resolves. */
	int (*current)(zkc__hosts_t *h, char **out);
	/* Starts following changes; notify is called only when the list changes.
	 * Providers may begin work in new(); start() only registers fn/ctx. */
	int (*start)(zkc__hosts_t *h, zkc__hosts_notify_fn fn, void *ctx);
	/* Stops (joins any thread) and frees. Must not be called from the notify
	 * function. May wait for one lookup in flight (<= 3 s with dns_server,
	 * the system resolver's timeout otherwise). */
	void (*free)(zkc__hosts_t *h);
};

struct zkc__hosts {
	const struct zkc__hosts_ops *ops;
	const zkc__log_t *log;     /* owned by the client, outlives the provider */
};

/* Builds the provider the URL's scheme asks for. */
int zkc__hosts_new(zkc__hosts_t **out, const zkc__url_t *url, const zkc__log_t *log);
int zkc__hosts_static_new(zkc__hosts_t **out, const zkc__url_t *url, const zkc__log_t *log);
int zkc__hosts_dns_new(zkc__hosts_t **out, const zkc__url_t *url, const zkc__log_t *log);
int zkc__hosts_k8s_new(zkc__hosts_t **out, const zkc__url_t *url, const zkc__log_t *log);
static inline int zkc__hosts_current(zkc__hosts_t *h, char **out) { return h->ops->current(h, out); }
static inline int zkc__hosts_start(zkc__hosts_t *h, zkc__hosts_notify_fn fn, void *ctx)
{
	return h->ops->start(h, fn, ctx);
}
static inline void zkc__hosts_free(zkc__hosts_t *h) { if (h) h->ops->free(h); }

/* What the following providers (DNS, Kubernetes) share: their lock and
 * condition (monotonic clock; every change broadcasts), the latest list
 * and what the client was last given, and the notify function. Embedded in
 * each provider; its thread fills latest, hosts.c does the rest. */
typedef struct zkc__follow {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	/* guarded by mu */
	int stop;
	int kick;                 /* start() asks the thread to compare now */
	int have_first;           /* the first attempt has finished */
	char *latest;             /* the list to give; NULL = none yet */
	char *reported;           /* what the client last got; NULL = none */
	zkc__hosts_notify_fn fn;
	void *ctx;
} zkc__follow_t;
/* Gives the client latest if it differs from what it has. Called and
 * returns with mu held; drops it around the callback. */
void zkc__follow_notify_locked(zkc__follow_t *f);
/* The hosts_ops current() of a following provider: waits up to
 * first_wait_ms for the first attempt, then returns latest ("" if none)
 * and remembers it as given. *late: the first attempt was not done. */
int zkc__follow_current(zkc__follow_t *f, int first_wait_ms, const char *label, char **out,
                        int *late);
/* The hosts_ops start(): registers fn/ctx and kicks the thread. */
int zkc__follow_start(zkc__follow_t *f, zkc__hosts_notify_fn fn, void *ctx, const char *label);

/* ------------------------------------------------------------ Kubernetes (k8s_*.c) */

/* The pure halves of the zk+k8s provider (hosts_k8s.c): EndpointSlice
 * JSON to a server list (k8s_json.c) and kubeconfig / in-cluster config
 * (k8s_config.c). No I/O except reading named files; unit-tested alone.
 * Malformed API answers give ZKC_EMARSHALLING with the reason. */

typedef struct zkc__k8s_ep {
	char *addr;               /* first address: canonical IP, or a name (FQDN) */
	int ready;                /* conditions.ready true or absent */
} zkc__k8s_ep_t;

typedef struct zkc__k8s_slice {
	char *name;
	int port;                 /* the port chosen for the URL's port; 0 = none fits */
	char *problem;            /* why the slice is unused, or NULL */
	size_t neps;
	zkc__k8s_ep_t *eps;
} zkc__k8s_slice_t;

/* The EndpointSlices of one Service as the last list and the watch events
 * since left them. */
typedef struct zkc__k8s_set {
	int want_port;            /* the URL's port */
	size_t nslices;
	zkc__k8s_slice_t *slices;
	char *resource_version;   /* to watch from; NULL before the first list */
} zkc__k8s_set_t;

/* What a server list was made from, for logs and `zkc discover`. */
typedef struct zkc__k8s_stats {
	size_t slices, ready, not_ready, unusable_slices, servers;
	int capped;               /* more servers than ZKC__K8S_MAX_SERVERS */
} zkc__k8s_stats_t;

#define ZKC__K8S_MAX_SERVERS 256
#define ZKC__K8S_MAX_LINE (16 * 1024 * 1024)   /* one watch event */

typedef enum zkc__k8s_ev_type {
	ZKC__K8S_ADDED = 1, ZKC__K8S_MODIFIED, ZKC__K8S_DELETED, ZKC__K8S_BOOKMARK,
	ZKC__K8S_ERROR
} zkc__k8s_ev_type_t;

typedef struct zkc__k8s_event {
	int type;                 /* zkc__k8s_ev_type_t */
	int code;                 /* ERROR: the Status code (410 = Gone: relist) */
	char message[256];        /* ERROR: the Status message (cut) */
} zkc__k8s_event_t;

void zkc__k8s_set_init(zkc__k8s_set_t *s, int want_port);
void zkc__k8s_set_clear(zkc__k8s_set_t *s);
/* Replaces the set with an EndpointSliceList answer (and its
 * resourceVersion). On failure the set is unchanged. */
int zkc__k8s_parse_list(zkc__k8s_set_t *s, const char *json, size_t len);
/* Applies one watch event (one line of the stream, without its newline):
 * ADDED/MODIFIED replace a slice by name, DELETED removes it, BOOKMARK
 * moves the resourceVersion. An ERROR event is reported in *out (the set
 * unchanged) and returns ZKC_OK; a malformed line ZKC_EMARSHALLING. */
int zkc__k8s_apply_event(zkc__k8s_set_t *s, const char *line, size_t len,
                         zkc__k8s_event_t *out);
/* The sorted, unique "ip:port,..." of the set's ready endpoints (all of
 * them with include_not_ready), at most ZKC__K8S_MAX_SERVERS. *out
 * malloc'd ("" when none); stats may be NULL. */
int zkc__k8s_servers(char **out, zkc__k8s_stats_t *stats, const zkc__k8s_set_t *s,
                     int include_not_ready);

/* Splits a watch stream into lines, whatever the chunking; a line longer
 * than max is an error (ZKC_ETOOLARGE), so is a line cut at the end. */
typedef int (*zkc__k8s_line_fn)(void *ctx, const char *line, size_t len);
typedef struct zkc__k8s_lines {
	char *buf;
	size_t len, cap, max;
} zkc__k8s_lines_t;
/* Feeds n bytes; calls fn for each complete non-empty line and returns the
 * first non-OK code fn returns (the rest of data is dropped). */
int zkc__k8s_lines_feed(zkc__k8s_lines_t *l, const char *data, size_t n,
                        zkc__k8s_line_fn fn, void *ctx);
/* At the stream's end: ZKC_OK, or ZKC_EMARSHALLING for a cut last line. */
int zkc__k8s_lines_end(zkc__k8s_lines_t *l);
void zkc__k8s_lines_reset(zkc__k8s_lines_t *l);

/* How to reach the API server. Secrets (token, key) stay in memory only
 * here and are never logged. */
typedef struct zkc__k8s_conn {
	char *server;             /* "https://host:port", no trailing '/' */
	char *ca_file;            /* PEM file, or */
	unsigned char *ca_data;   /* PEM bytes (certificate-authority-data) */
	size_t ca_len;
	char *cert_file, *key_file;
	unsigned char *cert_data, *key_data;
	size_t cert_len, key_len;
	char *token;              /* inline bearer token, or */
	char *token_file;         /* re-read at each (re)connect and on 401 */
	int insecure;             /* insecure-skip-tls-verify: true */
	char *source;             /* "kubeconfig FILE, context C" / "in-cluster" */
} zkc__k8s_conn_t;

/* Where the configuration comes from; NULL members are unset. */
typedef struct zkc__k8s_env {
	const char *kubeconfig;   /* the URL's kubeconfig= option */
	const char *kubeconfig_env;   /* $KUBECONFIG (first existing file used) */
	const char *home;         /* $HOME, for ~/.kube/config */
	const char *service_host, *service_port;  /* $KUBERNETES_SERVICE_HOST/PORT */
	const char *sa_dir;       /* service-account dir; NULL = the standard one */
} zkc__k8s_env_t;

#define ZKC__K8S_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* Order: kubeconfig= option, $KUBECONFIG, in-cluster (both service
 * variables set), ~/.kube/config. ZKC_EBADARGUMENTS (missing or malformed
 * file, no usable context), ZKC_ENOTSUP (exec or auth-provider users). */
int zkc__k8s_conn_load(zkc__k8s_conn_t **out, const zkc__k8s_env_t *env);
/* Parses kubeconfig text; dir resolves relative file names; label names
 * the file in messages. */
int zkc__k8s_kubeconfig_parse(zkc__k8s_conn_t **out, const char *yaml, size_t len,
                              const char *dir, const char *label);
/* The bearer token now (re-reads token_file); *out NULL when the config
 * has none (client certificates). */
int zkc__k8s_conn_token(char **out, const zkc__k8s_conn_t *c);
void zkc__k8s_conn_free(zkc__k8s_conn_t *c);

#endif
