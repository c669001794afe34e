/* src/testing.c - fault injection for tests: forced session expiry the way
 * ZooKeeper's own tests do it (a second handle on the same session id and
 * password, then closed, which ends the session on the server). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"

typedef struct expirer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int connected;
} expirer_t;

static void expirer_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	expirer_t *e = ctx;

	(void)zh;
	(void)path;
	if (type != ZOO_SESSION_EVENT)
		return;
	pthread_mutex_lock(&e->mu);
	if (state == ZOO_CONNECTED_STATE)
		e->connected = 1;
	else if (state == ZOO_EXPIRED_SESSION_STATE)
		e->connected = -1;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

static void quiet_log(const char *message)
{
	(void)message;
}

static int expire_once(zkc_t *zk, int timeout_ms);

/* Whether the client has given up session sid (expired or replaced). */
static int session_gone(zkc_t *zk, int64_t sid)
{
	int gone;

	pthread_mutex_lock(&zk->mu);
	gone = zk->raw_expired || zk->session_id != sid;
	pthread_mutex_unlock(&zk->mu);
	return gone;
}

/* The close of the second handle ends the session only if that handle
 * still owns it: when the client reconnects first, the session moves back
 * and survives. So check that the client learns of the expiry, and try
 * again if it does not. */
int zkc_testing_expire_session(zkc_t *zk, int timeout_ms)
{
	int64_t deadline = zkc__now_ms() + timeout_ms, sid = 0;
	int rc;

	if (!zk)
		return zkc__error(ZKC_EBADARGUMENTS, "client is NULL");
	rc = zkc_session(&sid, NULL, NULL, zk);
	if (rc != ZKC_OK)
		return rc;
	for (;;) {
		int64_t left = deadline - zkc__now_ms(), until;

		if (left <= 0)
			return zkc__error(ZKC_ETIMEDOUT, "expire: session 0x%llx still alive after %d ms",
			                  (unsigned long long)sid, timeout_ms);
		rc = expire_once(zk, (int)left);
		if (rc != ZKC_OK && rc != ZKC_ESESSIONEXPIRED)
			return rc;
		/* the client hears of it within its reconnect time */
		until = zkc__now_ms() + 5000;
		while (!session_gone(zk, sid) && zkc__now_ms() < until && zkc__now_ms() < deadline)
			zkc__sleep_ms(10);
		if (session_gone(zk, sid))
			return ZKC_OK;
	}
}

static int expire_once(zkc_t *zk, int timeout_ms)
{
	clientid_t id;
	expirer_t e;
	zhandle_t *zh;
	char *hosts;
	int timeout, rc = ZKC_OK;
	int64_t deadline;

	memset(&id, 0, sizeof(id));
	rc = zkc_session(&id.client_id, id.passwd, &timeout, zk);
	if (rc != ZKC_OK)
		return rc;
	pthread_mutex_lock(&zk->mu);
	hosts = zk->servers ? zkc__zk_hosts(zk, zk->servers) : NULL;
	pthread_mutex_unlock(&zk->mu);
	if (!hosts)
		return zkc__error(ZKC_ENOMEM, "out of memory");
	memset(&e, 0, sizeof(e));
	pthread_mutex_init(&e.mu, NULL);
	zkc__cond_init(&e.cv);
	zh = zookeeper_init2(hosts, expirer_watcher, timeout, &id, &e, 0, quiet_log);
	free(hosts);
	if (!zh) {
		rc = zkc__error(ZKC_EOS, "expire: cannot make a second handle: %s", strerror(errno));
		goto out;
	}
	deadline = zkc__now_ms() + timeout_ms;
	pthread_mutex_lock(&e.mu);
	while (e.connected == 0) {
		struct timespec ts;
		int64_t left = deadline - zkc__now_ms();

		if (left <= 0)
			break;
		zkc__deadline_ts(&ts, left);
		pthread_cond_timedwait(&e.cv, &e.mu, &ts);
	}
	if (e.connected == 0)
		rc = zkc__error(ZKC_ETIMEDOUT, "expire: the second handle did not connect within %d ms",
		                timeout_ms);
	else if (e.connected < 0)
		rc = zkc__error(ZKC_ESESSIONEXPIRED, "expire: the session had already expired");
	pthread_mutex_unlock(&e.mu);
	/* Closing a connected handle sends closeSession: the session ends now. */
	zookeeper_close(zh);
out:
	pthread_cond_destroy(&e.cv);
	pthread_mutex_destroy(&e.mu);
	return rc;
}

int zkc_testing_tls_endpoints(char **out, zkc_t *zk)
{
	char *servers;
	int rc;

	if (!out || !zk)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_testing_tls_endpoints: NULL argument");
	*out = NULL;
	if (!zk->tls)
		return zkc__error(ZKC_ENOTSUP, "the client does not use TLS");
	rc = zkc_servers(&servers, zk);
	if (rc != ZKC_OK)
		return rc;
	rc = zkc__tls_map(zk->tls, servers, out);
	free(servers);
	return rc;
}

int64_t zkc_testing_tls_refused(zkc_t *zk)
{
	return zk && zk->tls ? zkc__tls_refused(zk->tls) : 0;
}

int zkc_testing_open_clients(void)
{
	return (int)zkc__clients_open();
}
