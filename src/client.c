/* src/client.c - the client's handle: zkc_open reads the URL and options,
 * starts the event thread (events.c), the host provider and the session
 * supervisor (supervisor.c); zkc_close stops them in the reverse order.
 * Also the accessors of a client's session and configuration.
 *
 * The top of the client core: it calls down into supervisor.c, request.c
 * and events.c; none of them calls it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"

#define DEFAULT_SESSION_TIMEOUT_MS 10000
#define DEFAULT_CONNECT_TIMEOUT_MS 15000

/* ------------------------------------------------------------ open / close */

static int acl_copy(struct ACL_vector *out, const zkc_acl_list_t *in)
{
	int i;

	if (!in || in->count == 0) {
		in = zkc_acl_open();
	}
	if (in->count < 0 || !in->acls)
		return zkc__error(ZKC_EBADARGUMENTS, "ACL list has count %d and no entries", in->count);
	out->data = calloc((size_t)in->count, sizeof(*out->data));
	if (!out->data)
		return zkc__error(ZKC_ENOMEM, "out of memory copying the default ACL");
	out->count = in->count;
	for (i = 0; i < in->count; i++) {
		const zkc_acl_t *a = &in->acls[i];

		if (!a->scheme || !a->id || (a->perms & ~ZKC_PERM_ALL))
			return zkc__error(ZKC_EBADARGUMENTS, "ACL entry %d: scheme and id are required and "
			                  "perms must be within ZKC_PERM_ALL", i);
		out->data[i].perms = a->perms;
		out->data[i].id.scheme = strdup(a->scheme);
		out->data[i].id.id = strdup(a->id);
		if (!out->data[i].id.scheme || !out->data[i].id.id)
			return zkc__error(ZKC_ENOMEM, "out of memory copying the default ACL");
	}
	return ZKC_OK;
}

static void acl_free(struct ACL_vector *v)
{
	int i;

	for (i = 0; v->data && i < v->count; i++) {
		free(v->data[i].id.scheme);
		free(v->data[i].id.id);
	}
	free(v->data);
	v->data = NULL;
	v->count = 0;
}

static void client_free(zkc_t *zk)
{
	if (!zk)
		return;
	zkc__events_free(zk);
	zkc__completions_free(zk->cq);
	zkc__tls_free(zk->tls);
	zkc__url_free(zk->url);
	free(zk->chroot);
	if (zk->digest) {
		memset(zk->digest, 0, strlen(zk->digest));
		free(zk->digest);
	}
	acl_free(&zk->acl);
	free(zk->servers);
	pthread_cond_destroy(&zk->evcv);
	pthread_cond_destroy(&zk->cv);
	pthread_mutex_destroy(&zk->mu);
	free(zk);
}

/* TLS from the options, else from the URL; starts the bridge. */
static int configure_tls(zkc_t *zk, const zkc_tls_options_t *o)
{
	const zkc__url_t *u = zk->url;
	zkc__tls_config_t cfg;

	memset(&cfg, 0, sizeof(cfg));
	if (o) {
		int rc = zkc_options_version_check("zkc_open: tls", o->version,
		                                   ZKC_TLS_OPTIONS_VERSION);

		if (rc != ZKC_OK)
			return rc;
		if ((o->cert_file == NULL) != (o->key_file == NULL))
			return zkc__error(ZKC_EBADARGUMENTS, "TLS: a client certificate needs its key "
			                  "and a key its certificate");
		cfg.ca = (char *)o->ca_file;
		cfg.cert = (char *)o->cert_file;
		cfg.key = (char *)o->key_file;
		cfg.key_password = (char *)o->key_password;
		cfg.server_name = (char *)o->server_name;
		cfg.verify_host = o->verify_host;
	} else if (u->tls) {
		if ((u->tls_cert == NULL) != (u->tls_key == NULL))
			return zkc__error(ZKC_EURL, "TLS: cert= needs key= and key= needs cert=");
		cfg.ca = u->tls_ca;
		cfg.cert = u->tls_cert;
		cfg.key = u->tls_key;
		cfg.key_password = u->tls_key_password;
		cfg.server_name = u->tls_server_name;
		cfg.verify_host = u->tls_verify_host;
	} else {
		return ZKC_OK;
	}
	return zkc__tls_new(&zk->tls, &cfg, &zk->log);
}

static int configure(zkc_t *zk, const char *url, const zkc_options_t *opts)
{
	const zkc__url_t *u;
	int rc;

	if (opts && (rc = zkc_options_version_check("zkc_open", opts->version,
	                                            ZKC_OPTIONS_VERSION)) != ZKC_OK)
		return rc;
	rc = zkc__url_parse(&zk->url, url);
	if (rc != ZKC_OK)
		return rc;
	u = zk->url;
	zk->log.fn = opts ? opts->log_fn : NULL;
	zk->log.payload = opts ? opts->log_payload : NULL;
	zk->log.level = opts && opts->log_level ? opts->log_level : ZKC_LOG_WARN;
	zk->session_timeout_ms = opts && opts->session_timeout_ms ? opts->session_timeout_ms
	                         : u->session_timeout_ms ? u->session_timeout_ms
	                         : DEFAULT_SESSION_TIMEOUT_MS;
	if (zk->session_timeout_ms < 0)
		return zkc__error(ZKC_EBADARGUMENTS, "session timeout %d ms is negative",
		                  zk->session_timeout_ms);
	zk->connect_timeout_ms = opts && opts->connect_timeout_ms ? opts->connect_timeout_ms
	                         : u->connect_timeout_ms ? u->connect_timeout_ms
	                         : DEFAULT_CONNECT_TIMEOUT_MS;
	if (zk->connect_timeout_ms < -1)
		return zkc__error(ZKC_EBADARGUMENTS, "connect timeout %d ms: use > 0, or -1 for "
		                  "no wait", zk->connect_timeout_ms);
	if (opts && opts->retry.version)
		zk->retry = opts->retry;
	else if (u->retry.version)
		zk->retry = u->retry;
	else {
		zkc_retry_t def = ZKC_RETRY_INIT;

		zk->retry = def;
	}
	rc = zkc_retry_validate(&zk->retry);
	if (rc != ZKC_OK)
		return rc;
	if (opts && opts->chroot) {
		rc = zkc_path_validate(opts->chroot, (size_t)-1);
		if (rc != ZKC_OK)
			return rc;
		zk->chroot = strcmp(opts->chroot, "/") ? strdup(opts->chroot) : NULL;
	} else if (u->chroot) {
		zk->chroot = strdup(u->chroot);
	}
	if (opts && opts->digest) {
		if (!strchr(opts->digest, ':'))
			return zkc__error(ZKC_EBADARGUMENTS, "digest credentials must be \"user:password\"");
		zk->digest = strdup(opts->digest);
	} else if (u->digest) {
		zk->digest = strdup(u->digest);
	}
	zk->event_fn = opts ? opts->event_fn : NULL;
	zk->event_payload = opts ? opts->event_payload : NULL;
	rc = acl_copy(&zk->acl, opts ? opts->acl : NULL);
	if (rc != ZKC_OK)
		return rc;
	return configure_tls(zk, opts && opts->version >= 2 ? opts->tls : NULL);
}

int zkc_open(zkc_t **out, const char *url, const zkc_options_t *opts)
{
	zkc_t *zk;
	int rc;

	if (!out)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_open: out is NULL");
	*out = NULL;
	if (!url || !*url) {
		url = getenv("ZKC_URL");
		if (!url || !*url)
			return zkc__error(ZKC_EURL, "no URL given and ZKC_URL is not set");
	}
	zk = calloc(1, sizeof(*zk));
	if (!zk)
		return zkc__error(ZKC_ENOMEM, "out of memory");
	zk->evfd = -1;
	pthread_mutex_init(&zk->mu, NULL);
	zkc__cond_init(&zk->cv);
	zkc__cond_init(&zk->evcv);
	zkc__sm_init(&zk->sm);
	zk->next_listener_id = 1;
	rc = configure(zk, url, opts);
	if (rc != ZKC_OK) {
		client_free(zk);
		return rc;
	}
	rc = zkc__hosts_new(&zk->hosts, zk->url, &zk->log);
	if (rc == ZKC_OK)
		rc = zkc__hosts_current(zk->hosts, &zk->servers);
	if (rc == ZKC_OK)
		rc = zkc__clients_register(zk);
	if (rc != ZKC_OK) {
		zkc__hosts_free(zk->hosts);
		client_free(zk);
		return rc;
	}
	rc = zkc__events_start(zk);
	if (rc == ZKC_OK && (rc = zkc__supervisor_start(zk)) != ZKC_OK)
		zkc__events_stop(zk);
	if (rc != ZKC_OK) {
		zkc__clients_unregister(zk);
		zkc__hosts_free(zk->hosts);
		client_free(zk);
		return rc;
	}
	rc = zkc__hosts_start(zk->hosts, zkc__supervisor_hosts_changed, zk);
	if (rc == ZKC_OK && zk->connect_timeout_ms >= 0)
		rc = zkc_wait_connected(zk, zk->connect_timeout_ms);
	if (rc != ZKC_OK) {
		zkc_error_t saved = *zkc_error_last();
		char *msg = zkc__strdup(saved.message);

		zkc_close(zk);
		zkc__error(rc, "%s", msg ? msg : "");
		free(msg);
		return rc;
	}
	*out = zk;
	return ZKC_OK;
}

static void close_now(zkc_t *zk);

static void *closer_main(void *arg)
{
	close_now(arg);
	return NULL;
}

/* Runs on the event thread after the callback that called zkc_close has
 * returned: the close itself joins the event thread, so another thread
 * does it. */
static void close_later(void *arg)
{
	zkc_t *zk = arg;
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, closer_main, zk);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		zkc__log(&zk->log, ZKC_LOG_ERROR, "zkc_close from a callback: cannot start the "
		         "closing thread (%s); the client stays open", strerror(rc));
}

void zkc_close(zkc_t *zk)
{
	int defer;

	if (!zk)
		return;
	if (zkc_on_event_thread(zk) || zkc__on_completion_thread(zk)) {
		pthread_mutex_lock(&zk->mu);
		defer = !zk->close_deferred;
		zk->close_deferred = 1;
		pthread_mutex_unlock(&zk->mu);
		if (defer)
			zkc__post(zk, close_later, zk);
		return;
	}
	close_now(zk);
}

static void close_now(zkc_t *zk)
{
	/* The provider calls back into the client: stop it first. */
	zkc__hosts_free(zk->hosts);
	zk->hosts = NULL;
	zkc__supervisor_stop(zk);
	/* Blocking calls have been woken (ZKC_ECLOSED, or ZCLOSING from their
	 * requests); wait until none is still inside the client. */
	pthread_mutex_lock(&zk->mu);
	zk->drain_waiters++;
	while (zk->active_calls > 0)
		pthread_cond_wait(&zk->cv, &zk->mu);
	zk->drain_waiters--;
	pthread_mutex_unlock(&zk->mu);
	zkc__events_stop(zk);
	zkc__clients_unregister(zk);
	client_free(zk);
}

/* ------------------------------------------------------------ accessors */

uint64_t zkc_history_resets(zkc_t *zk)
{
	return zk ? atomic_load(&zk->history) : 0;
}

int zkc_wait_connected(zkc_t *zk, int timeout_ms)
{
	int64_t own = timeout_ms < 0 ? -1 : zkc__now_ms() + timeout_ms;
	int64_t deadline = zkc__deadline_cap(own);
	int rc;

	if (!zk)
		return zkc__error(ZKC_EBADARGUMENTS, "client is NULL");
	pthread_mutex_lock(&zk->mu);
	rc = zkc__wait_usable_locked(zk, deadline);
	if (rc == ZKC_ETIMEDOUT) {
		char why[512], within[64];

		if (deadline == own)
			snprintf(within, sizeof(within), "%d ms", timeout_ms);
		else   /* the thread's deadline came first */
			snprintf(within, sizeof(within), "the caller's deadline");
		if (zk->tls && zkc__tls_last_error(zk->tls, why, sizeof(why)))
			rc = zkc__error(ZKC_ETLS, "no session with any server of [%s] within %s: "
			                "TLS: %s", zk->servers ? zk->servers : "", within, why);
		else
			rc = zkc__error(ZKC_ETIMEDOUT, "no session with any server of [%s] within "
			                "%s", zk->servers ? zk->servers : "", within);
	}
	pthread_mutex_unlock(&zk->mu);
	return rc;
}

int zkc_session(int64_t *out_id, char out_passwd[16], int *out_timeout_ms, zkc_t *zk)
{
	int rc = ZKC_OK;

	if (!zk)
		return zkc__error(ZKC_EBADARGUMENTS, "client is NULL");
	pthread_mutex_lock(&zk->mu);
	if (!zk->zh || !zk->session_id) {
		rc = zkc__error(ZKC_EINVALIDSTATE, "no session (state %s)", zkc_state_name(zk->sm.state));
	} else {
		if (out_id)
			*out_id = zk->session_id;
		if (out_passwd)
			memcpy(out_passwd, zk->passwd, 16);
		if (out_timeout_ms)
			*out_timeout_ms = zk->neg_timeout_ms;
	}
	pthread_mutex_unlock(&zk->mu);
	return rc;
}

int zkc_session_info(zkc_session_info_t *out, zkc_t *zk)
{
	int rc;

	if (!out || !zk)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_session_info: %s is NULL",
		                  out ? "client" : "out");
	memset(out, 0, sizeof(*out));
	rc = zkc_session(&out->id, (char *)out->passwd, &out->timeout_ms, zk);
	if (rc != ZKC_OK) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	out->passwd_len = sizeof(out->passwd);
	return ZKC_OK;
}

int zkc_servers(char **out, zkc_t *zk)
{
	if (!out || !zk)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_servers: NULL argument");
	pthread_mutex_lock(&zk->mu);
	*out = strdup(zk->servers ? zk->servers : "");
	pthread_mutex_unlock(&zk->mu);
	return *out ? ZKC_OK : zkc__error(ZKC_ENOMEM, "out of memory");
}

int zkc_current_server(char **out, zkc_t *zk)
{
	zhandle_t *zh;
	uint64_t gen;
	char *s;
	int rc;

	if (!out || !zk)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_current_server: NULL argument");
	*out = NULL;
	rc = zkc__zh_acquire(zk, zkc__now_ms(), &zh, &gen, NULL);
	if (rc != ZKC_OK)
		return zkc__error(ZKC_EINVALIDSTATE, "not connected");
	s = zkc__current_server(zh);
	if (zk->tls && s)
		zkc__tls_unmap(zk->tls, s, out);
	else
		*out = strdup(s ? s : "");
	free(s);
	zkc__zh_release(zk);
	return *out ? ZKC_OK : zkc__error(ZKC_ENOMEM, "out of memory");
}

int zkc_set_retry(zkc_t *zk, const zkc_retry_t *retry)
{
	int rc;

	if (!zk || !retry)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_set_retry: NULL argument");
	rc = zkc_retry_validate(retry);
	if (rc != ZKC_OK)
		return rc;
	pthread_mutex_lock(&zk->mu);
	zk->retry = *retry;
	pthread_mutex_unlock(&zk->mu);
	return ZKC_OK;
}

/* ------------------------------------------------------------ options */

/* Bytes of a zkc_options_t of each version (version 2 added `tls`). */
static size_t options_size(unsigned int version)
{
	return version == 1 ? offsetof(zkc_options_t, tls) : sizeof(zkc_options_t);
}

int zkc_options_init(zkc_options_t *opts, unsigned int version)
{
	static const zkc_options_t init = ZKC_OPTIONS_INIT;
	int rc;

	if (!opts)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_options_init: opts is NULL");
	rc = zkc_options_version_check("zkc_options_init", (int)version, ZKC_OPTIONS_VERSION);
	if (rc != ZKC_OK)
		return rc;
	memcpy(opts, &init, options_size(version));
	opts->version = (int)version;
	return ZKC_OK;
}

int zkc_tls_options_init(zkc_tls_options_t *opts, unsigned int version)
{
	static const zkc_tls_options_t init = ZKC_TLS_OPTIONS_INIT;
	int rc;

	if (!opts)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_tls_options_init: opts is NULL");
	rc = zkc_options_version_check("zkc_tls_options_init", (int)version, ZKC_TLS_OPTIONS_VERSION);
	if (rc != ZKC_OK)
		return rc;
	*opts = init;
	opts->version = (int)version;
	return ZKC_OK;
}
