/* src/supervisor.c - the session supervisor: one thread per client that
 * makes, replaces and closes libzookeeper handles, turns their session
 * events into states, keeps the connection busy enough to notice a dead
 * one (heartbeat, stall nudge), applies server-list changes, checks a new
 * session's history and sends the work that waited for a connection.
 *
 * Above request.c and events.c, below client.c (which starts and stops it). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"

#define DEFAULT_RESOLUTION_DELAY_MS 5000
/* How long a close waits for a connected server to answer what is in
 * flight (drain_inflight). */
#define CLOSE_DRAIN_MS 2000

char *zkc__current_server(zhandle_t *zh)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN], buf[INET6_ADDRSTRLEN + 8];
	const char *cur;
	int port;

	if (zookeeper_get_connected_host(zh, (struct sockaddr *)&ss, &len)) {
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
			port = ntohs(a->sin6_port);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
			port = ntohs(a->sin_port);
		}
		snprintf(buf, sizeof(buf), "%s:%d", host, port);
		return zkc__strdup(buf);
	}
	/* no connected socket: the library's own (racy) answer */
	cur = zoo_get_current_server(zh);
	return cur ? zkc__strdup(cur) : NULL;
}

/* libzookeeper 3.8's zookeeper_close queues the completions of requests
 * still in flight after its completion thread has stopped: they are never
 * called (zkc__reqs_abandon completes zkc's side) and their entries, watch
 * registrations and buffers leak. A connected server answers in order and
 * quickly, so on close give it up to CLOSE_DRAIN_MS to answer them first.
 * Caller holds mu. */
static void drain_inflight(zkc_t *zk)
{
	int64_t until = zkc__now_ms() + CLOSE_DRAIN_MS;
	struct timespec ts;

	for (;;) {
		zkc__req_t *r;
		int64_t left;

		for (r = zk->inflight; r && r->gen != zk->gen; r = r->inext)
			;
		left = until - zkc__now_ms();
		if (!r || !zk->zh || !zk->raw_connected || left <= 0)
			return;
		zkc__deadline_ts(&ts, left);
		pthread_cond_timedwait(&zk->cv, &zk->mu, &ts);
	}
}

/* ------------------------------------------------------------ clients in the process */

/* libzookeeper's log callback has no context: lines go to every client
 * that logs, with the library named. */
static pthread_mutex_t g_clients_mu = PTHREAD_MUTEX_INITIALIZER;
static zkc_t **g_clients;
static size_t g_nclients, g_clients_cap;

static void zk_log_line(const char *message)
{
	int level = ZKC_LOG_INFO;
	size_t i;

	if (strstr(message, "ZOO_ERROR"))
		level = ZKC_LOG_ERROR;
	else if (strstr(message, "ZOO_WARN"))
		level = ZKC_LOG_WARN;
	else if (strstr(message, "ZOO_DEBUG"))
		level = ZKC_LOG_DEBUG;
	pthread_mutex_lock(&g_clients_mu);
	for (i = 0; i < g_nclients; i++)
		zkc__log(&g_clients[i]->log, level, "libzookeeper: %s", message);
	pthread_mutex_unlock(&g_clients_mu);
}

int zkc__clients_register(zkc_t *zk)
{
	int rc = ZKC_OK;

	pthread_mutex_lock(&g_clients_mu);
	if (g_nclients == g_clients_cap) {
		size_t cap = g_clients_cap ? g_clients_cap * 2 : 8;
		zkc_t **n = realloc(g_clients, cap * sizeof(*n));

		if (!n)
			rc = ZKC_ENOMEM;
		else {
			g_clients = n;
			g_clients_cap = cap;
		}
	}
	if (rc == ZKC_OK) {
		g_clients[g_nclients++] = zk;
		/* Global in libzookeeper: keep its chatter at WARN. */
		zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
	}
	pthread_mutex_unlock(&g_clients_mu);
	return rc;
}

size_t zkc__clients_open(void)
{
	size_t n;

	pthread_mutex_lock(&g_clients_mu);
	n = g_nclients;
	pthread_mutex_unlock(&g_clients_mu);
	return n;
}

void zkc__clients_unregister(zkc_t *zk)
{
	size_t i;

	pthread_mutex_lock(&g_clients_mu);
	for (i = 0; i < g_nclients; i++) {
		if (g_clients[i] == zk) {
			g_clients[i] = g_clients[--g_nclients];
			break;
		}
	}
	if (g_nclients == 0) {
		free(g_clients);
		g_clients = NULL;
		g_clients_cap = 0;
	}
	pthread_mutex_unlock(&g_clients_mu);
}

/* ------------------------------------------------------------ libzookeeper's callbacks */

static void session_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	zkc__zhctx_t *c = ctx;
	zkc_t *zk = c->zk;

	(void)path;
	if (type != ZOO_SESSION_EVENT)
		return;
	pthread_mutex_lock(&zk->mu);
	zk->completion_tid = pthread_self();
	zk->have_completion_tid = 1;
	if (c->gen != zk->gen || zk->abandoning) {
		pthread_mutex_unlock(&zk->mu);
		return;
	}
	if (state == ZOO_CONNECTED_STATE || state == ZOO_READONLY_STATE) {
		const clientid_t *id = zoo_client_id(zh);

		zk->raw_connected = 1;
		zk->disconnect_ms = 0;
		zk->session_id = id->client_id;
		memcpy(zk->passwd, id->passwd, sizeof(zk->passwd));
		zk->neg_timeout_ms = zoo_recv_timeout(zh);
		atomic_store(&zk->last_reply_ms, zkc__now_ms());
		if (zk->session_id != zk->sm.session_id && atomic_load(&zk->max_zxid) > 0) {
			/* A new session after one that was lost: its ensemble may
			 * have lost its data meanwhile. Recipes hear LOST now; the
			 * supervisor asks the server (history_check) before anything
			 * uses the session and CONNECTED is announced. */
			if (zk->sm.state != ZKC_STATE_LOST)
				zkc__sm_feed(zk, ZKC__IN_EXPIRED, zk->sm.session_id);
			zk->hist_check = 1;
		} else {
			zkc__sm_feed(zk, ZKC__IN_CONNECTED, zk->session_id);
		}
	} else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) {
		zk->raw_connected = 0;
		zk->raw_expired = 1;
		if (state == ZOO_AUTH_FAILED_STATE)
			zkc__log(&zk->log, ZKC_LOG_ERROR, "authentication failed; making a new session");
		zkc__sm_feed(zk, ZKC__IN_EXPIRED, zk->session_id);
	} else {
		/* CONNECTING / ASSOCIATING / NOTCONNECTED: the connection is gone. */
		if (zk->raw_connected || zk->disconnect_ms == 0)
			zk->disconnect_ms = zkc__now_ms();
		zk->raw_connected = 0;
		zkc__sm_feed(zk, ZKC__IN_DISCONNECTED, zk->session_id);
	}
	pthread_cond_broadcast(&zk->cv);
	pthread_mutex_unlock(&zk->mu);
}

/* Completion of the request that wakes libzookeeper's I/O thread after a
 * server list change: nothing to do (and nothing it may touch: it can run
 * after the client is gone). */
static void nudge_done(int rc, const struct Stat *stat, const void *data)
{
	(void)rc;
	(void)stat;
	(void)data;
}

static void heartbeat_done(int rc, const struct Stat *stat, const void *data)
{
	zkc_t *zk = (zkc_t *)data;

	(void)stat;
	if (rc == ZOK || rc == ZNONODE)
		zkc__note_reply(zk);
	pthread_mutex_lock(&zk->mu);
	zk->heartbeat_inflight = 0;
	pthread_mutex_unlock(&zk->mu);
}

/* Completion of a stall nudge: its answer is news from the server. */
static void stall_nudge_done(int rc, const struct Stat *stat, const void *data)
{
	(void)stat;
	if (rc == ZOK || rc == ZNONODE)
		zkc__note_reply((zkc_t *)data);
}

/* ------------------------------------------------------------ server lists */

void zkc__supervisor_hosts_changed(void *ctx, const char *servers)
{
	zkc_t *zk = ctx;
	char *copy = strdup(servers);
	zkc__ev_t *ev = calloc(1, sizeof(*ev));
	char *evpath = strdup(servers);

	pthread_mutex_lock(&zk->mu);
	if (copy) {
		free(zk->servers);
		zk->servers = copy;
		zk->servers_changed = 1;
		copy = NULL;
	}
	if (ev && evpath) {
		ev->kind = ZKC__EV_HOSTS;
		ev->path = evpath;
		ev->session_id = zk->session_id;
		zkc__ev_push(zk, ev);
		ev = NULL;
		evpath = NULL;
	}
	pthread_cond_broadcast(&zk->cv);
	pthread_mutex_unlock(&zk->mu);
	free(copy);
	free(ev);
	free(evpath);
}

char *zkc__zk_hosts(zkc_t *zk, const char *servers)
{
	char *out = NULL;

	if (!zk->tls)
		return strdup(servers);
	return zkc__tls_map(zk->tls, servers, &out) == ZKC_OK ? out : NULL;
}

/* ------------------------------------------------------------ work waiting for a connection */

int zkc__pending_add(zkc_t *zk, zkc__pending_t *p)
{
	pthread_mutex_lock(&zk->mu);
	if (zk->closing) {
		pthread_mutex_unlock(&zk->mu);
		return zkc__error(ZKC_ECLOSED, "client is closing");
	}
	p->next = NULL;
	if (zk->pending_tail)
		zk->pending_tail->next = p;
	else
		zk->pending_head = p;
	zk->pending_tail = p;
	pthread_cond_broadcast(&zk->cv);
	pthread_mutex_unlock(&zk->mu);
	return ZKC_OK;
}

/* Sends the pending work if connected, expires what is overdue (or all of
 * it when closing). Caller holds mu; it is released while calling out. */
static void pending_run(zkc_t *zk, int64_t now, int64_t *wake)
{
	zkc__pending_t *send = NULL, *expire = NULL, **pp, *p;
	zhandle_t *zh = NULL;
	int64_t sid = 0;

	if (!zk->pending_head)
		return;
	if (zk->zh && zk->raw_connected && !zk->hist_check && !zk->closing) {
		send = zk->pending_head;
		zk->pending_head = zk->pending_tail = NULL;
		zh = zk->zh;
		sid = zk->session_id;
		zk->zh_users++;
	} else {
		zk->pending_tail = NULL;
		for (pp = &zk->pending_head; (p = *pp);) {
			if (zk->closing || now >= p->deadline_ms) {
				*pp = p->next;
				p->next = expire;
				expire = p;
			} else {
				if (p->deadline_ms < *wake)
					*wake = p->deadline_ms;
				zk->pending_tail = p;
				pp = &p->next;
			}
		}
	}
	if (!send && !expire)
		return;
	pthread_mutex_unlock(&zk->mu);
	while ((p = send)) {
		send = p->next;
		p->send(p, zh, sid);
	}
	while ((p = expire)) {
		expire = p->next;
		p->expire(p, zk->closing ? ZKC_ECLOSED : ZKC_ETIMEDOUT);
	}
	pthread_mutex_lock(&zk->mu);
	if (zh) {
		zk->zh_users--;
		pthread_cond_broadcast(&zk->cv);
	}
}

/* ------------------------------------------------------------ handles and sessions */

/* Makes a new handle from the current server list. Called without mu. */
static zhandle_t *handle_new(zkc_t *zk, zkc__zhctx_t **out_ctx)
{
	zkc__zhctx_t *ctx;
	zhandle_t *zh;
	char *hosts;
	int flags = 0;

	pthread_mutex_lock(&zk->mu);
	if (!zk->servers || !*zk->servers) {
		pthread_mutex_unlock(&zk->mu);
		return NULL;
	}
	{
		char *mapped = zkc__zk_hosts(zk, zk->servers);

		hosts = !mapped ? NULL : zk->chroot ? zkc__sprintf("%s%s", mapped, zk->chroot)
		                                    : strdup(mapped);
		free(mapped);
	}
	zk->servers_changed = 0;
	ctx = calloc(1, sizeof(*ctx));
	if (ctx) {
		/* The generation is taken before zookeeper_init: the new handle may
		 * report CONNECTED before it is installed. */
		ctx->zk = zk;
		ctx->gen = ++zk->gen;
		zk->raw_connected = 0;
		zk->raw_expired = 0;
		zk->session_id = 0;
	}
	pthread_mutex_unlock(&zk->mu);
	if (!hosts || !ctx) {
		free(hosts);
		free(ctx);
		return NULL;
	}
	if (zk->url->read_only)
		flags |= ZOO_READONLY;
	zh = zookeeper_init2(hosts, session_watcher, zk->session_timeout_ms, NULL, ctx, flags,
	                     zk_log_line);
	if (!zh) {
		zkc__log(&zk->log, ZKC_LOG_WARN, "no server of [%s] resolves or accepts a handle (%s); "
		         "retrying", hosts, strerror(errno));
		free(hosts);
		free(ctx);
		return NULL;
	}
	free(hosts);
	zoo_set_servers_resolution_delay(zh, DEFAULT_RESOLUTION_DELAY_MS);
	if (zk->digest)
		zoo_add_auth(zh, "digest", zk->digest, (int)strlen(zk->digest), NULL, NULL);
	*out_ctx = ctx;
	return zh;
}

/* Takes the current handle out of use and closes it (without mu, as
 * zookeeper_close runs pending completions on this thread and joins
 * libzookeeper's threads). Its unfired watches are then cancelled. */
static void handle_retire(zkc_t *zk, zkc__zhctx_t **ctxp)
{
	zhandle_t *zh;
	uint64_t gen;
	int64_t sid;

	pthread_mutex_lock(&zk->mu);
	zh = zk->zh;
	gen = zk->gen++;  /* callbacks of the old handle are ignored from now */
	sid = zk->session_id;
	zk->zh = NULL;
	zk->raw_connected = 0;
	zk->raw_expired = 0;
	zk->abandoning = 0;
	zk->hist_check = 0;
	zk->disconnect_ms = 0;
	if (sid) {
		if (zk->nold_sessions == (int)(sizeof(zk->old_sessions) / sizeof(zk->old_sessions[0]))) {
			memmove(zk->old_sessions, zk->old_sessions + 1,
			        sizeof(zk->old_sessions) - sizeof(zk->old_sessions[0]));
			zk->nold_sessions--;
		}
		zk->old_sessions[zk->nold_sessions++] = sid;
	}
	zk->session_id = 0;
	zk->drain_waiters++;
	while (zk->zh_users > 0)
		pthread_cond_wait(&zk->cv, &zk->mu);
	zk->drain_waiters--;
	zk->have_completion_tid = 0;
	pthread_mutex_unlock(&zk->mu);
	if (zh)
		zookeeper_close(zh);
	/* libzookeeper can drop completions it queued while closing */
	zkc__reqs_abandon(zk, gen);
	pthread_mutex_lock(&zk->mu);
	zk->heartbeat_inflight = 0;
	zkc__watches_cancel_gen(zk, gen, sid);
	pthread_cond_broadcast(&zk->cv);
	pthread_mutex_unlock(&zk->mu);
	free(*ctxp);
	*ctxp = NULL;
}

/* A new session replaced a lost one: does its server have every zxid this
 * client saw? If not, the ensemble's history went backwards (wiped, or
 * restored from an older backup): max_zxid starts again, the count of
 * resets grows and listeners hear ZKC_NOTICE_HISTORY_RESET, all before
 * CONNECTED and before any request uses the session (hist_check holds
 * them). Caller holds mu; it is released during the probe. */
static void history_check(zkc_t *zk)
{
	zhandle_t *zh = zk->zh;
	int64_t sid = zk->session_id, seen = atomic_load(&zk->max_zxid);
	int t = zk->neg_timeout_ms > 0 ? zk->neg_timeout_ms / 3 : 2000;
	char *server;
	int rc;

	zk->hist_check = 2;
	zk->zh_users++;
	pthread_mutex_unlock(&zk->mu);
	server = zkc__current_server(zh);
	rc = zkc__history_probe(server, seen, t < 200 ? 200 : t > 2000 ? 2000 : t);
	pthread_mutex_lock(&zk->mu);
	zk->zh_users--;
	if (rc == 1) {
		zkc__log(&zk->log, ZKC_LOG_WARN, "the ensemble's history went backwards: server %s "
		         "does not have zxid 0x%llx this client saw (its data was wiped or restored); "
		         "caches and recipes reload", server ? server : "?",
		         (unsigned long long)seen);
		atomic_store(&zk->max_zxid, 0);
		atomic_fetch_add(&zk->history, 1);
		zkc__ev_push_state(zk, ZKC_NOTICE_HISTORY_RESET, sid);
	} else if (rc < 0) {
		zkc__log(&zk->log, ZKC_LOG_WARN, "could not ask server %s whether it has zxid 0x%llx; "
		         "taking its history as continuous", server ? server : "?",
		         (unsigned long long)seen);
	}
	free(server);
	/* A disconnect meanwhile leaves it to the next connect to ask again. */
	if (zk->hist_check == 2 && zk->raw_connected && zk->session_id == sid)
		zkc__sm_feed(zk, ZKC__IN_CONNECTED, sid);
	zk->hist_check = 0;
	pthread_cond_broadcast(&zk->cv);
}

/* Presumed lost: 2/3 of the negotiated timeout after the last reply, which
 * the heartbeat keeps within timeout/6 of the disconnect. */
static int64_t presumed_lost_at(zkc_t *zk)
{
	int t = zk->neg_timeout_ms > 0 ? zk->neg_timeout_ms : zk->session_timeout_ms;

	return atomic_load(&zk->last_reply_ms) + (int64_t)t * 2 / 3;
}

/* The stall nudge (ZKC__STALL_NUDGE_MS): when the oldest request in flight
 * has had no answer, and the server has answered nothing at all, for the
 * nudge period, send a read. Any packet wakes a server that sits on
 * committed requests; for a server that is merely slow it is one small read,
 * repeated at doubling intervals up to the heartbeat's period. Caller holds
 * mu, connected; *wake is lowered to the next check. Runs right before the
 * supervisor sleeps, so a request tracked after it sees supervisor_wake_ms
 * and wakes the supervisor (zkc__req_track). */
static void stall_check(zkc_t *zk, int64_t *wake)
{
	zkc__req_t *oldest = zk->inflight_tail;
	int64_t now = zkc__now_ms(), last = atomic_load(&zk->last_reply_ms), quiet, due, step;
	int t = zk->neg_timeout_ms > 0 ? zk->neg_timeout_ms : zk->session_timeout_ms;
	int64_t cap = t / 6 > ZKC__STALL_NUDGE_MS ? t / 6 : ZKC__STALL_NUDGE_MS;

	if (!oldest || oldest->gen != zk->gen)
		return;
	quiet = oldest->sent_ms > last ? oldest->sent_ms : last;
	if (zk->nudge_ms < quiet)
		zk->nudges = 0;  /* answered, or a newer request, since the last nudge */
	step = (int64_t)ZKC__STALL_NUDGE_MS << (zk->nudges < 6 ? zk->nudges : 6);
	step = step < cap ? step : cap;
	due = zk->nudges == 0 ? quiet + ZKC__STALL_NUDGE_MS : zk->nudge_ms + step;
	if (now >= due) {
		zhandle_t *zh = zk->zh;

		zk->nudge_ms = now;
		zk->nudges++;
		zk->zh_users++;
		pthread_mutex_unlock(&zk->mu);
		zkc__log(&zk->log, ZKC_LOG_DEBUG, "no answer from the server for %lld ms with a "
		         "request waiting: nudging it", (long long)(now - quiet));
		zoo_aexists(zh, "/", 0, stall_nudge_done, zk);
		pthread_mutex_lock(&zk->mu);
		zk->zh_users--;
		pthread_cond_broadcast(&zk->cv);
		step = (int64_t)ZKC__STALL_NUDGE_MS << (zk->nudges < 6 ? zk->nudges : 6);
		due = now + (step < cap ? step : cap);
	}
	if (due < *wake)
		*wake = due;
}

/* ------------------------------------------------------------ the supervisor thread */

/* No handle: makes one, or backs off (50 ms doubling to 2 s) when no
 * server of the list resolves. Caller holds mu; released meanwhile. */
static void install_handle(zkc_t *zk, zkc__zhctx_t **ctxp, int64_t now, int64_t *wake,
                           int64_t *backoff_ms)
{
	zhandle_t *zh;

	pthread_mutex_unlock(&zk->mu);
	zh = handle_new(zk, ctxp);
	pthread_mutex_lock(&zk->mu);
	if (zh) {
		zk->zh = zh;
		*backoff_ms = 50;
		atomic_store(&zk->last_reply_ms, zkc__now_ms());
		pthread_cond_broadcast(&zk->cv);
	} else {
		*wake = now + *backoff_ms;
		*backoff_ms = *backoff_ms * 2 > 2000 ? 2000 : *backoff_ms * 2;
	}
}

/* Whether the session is over: expired, or presumed lost. Caller holds mu. */
static int session_gone(zkc_t *zk, int64_t now)
{
	return zk->raw_expired ||
	       (!zk->raw_connected && zk->session_id && now >= presumed_lost_at(zk));
}

/* Gives the session up and closes its handle; a presumed loss is announced
 * (LOST) and heard by every listener first. Caller holds mu; released
 * while the handle closes. */
static void give_up_session(zkc_t *zk, zkc__zhctx_t **ctxp)
{
	if (!zk->raw_expired) {
		zkc__log(&zk->log, ZKC_LOG_WARN, "session 0x%llx presumed lost: no server for "
		         "2/3 of its %d ms timeout", (unsigned long long)zk->session_id,
		         zk->neg_timeout_ms);
		zkc__sm_feed(zk, ZKC__IN_PRESUMED_LOST, zk->session_id);
		/* From here the old session may not come back, even if
		 * its connection does while we wait below. */
		zk->abandoning = 1;
		zk->raw_connected = 0;
		/* Closing may reach a server (if the connection just came
		 * back) and delete the session's nodes at once: let every
		 * listener hear LOST first, within the third of the
		 * timeout that is left. */
		zkc__event_barrier(zk, (zk->neg_timeout_ms > 0 ? zk->neg_timeout_ms
		                                         : zk->session_timeout_ms) / 3);
	}
	pthread_mutex_unlock(&zk->mu);
	handle_retire(zk, ctxp);
	pthread_mutex_lock(&zk->mu);
}

/* Hands a changed server list to the handle. Caller holds mu; released
 * during the call. */
static void apply_servers(zkc_t *zk)
{
	zhandle_t *zh = zk->zh;
	char *servers;
	int rc;

	if (!zk->servers_changed || !zk->servers || !*zk->servers)
		return;
	servers = zkc__zk_hosts(zk, zk->servers);
	zk->servers_changed = 0;
	zk->zh_users++;
	pthread_mutex_unlock(&zk->mu);
	rc = servers ? zoo_set_servers(zh, servers) : ZSYSTEMERROR;
	zkc__log(&zk->log, rc == ZOK ? ZKC_LOG_INFO : ZKC_LOG_WARN,
	         "server list -> %s: %s", servers ? servers : "?", zerror(rc));
	/* When it decides to move, zoo_set_servers closes the
	 * connection's socket from this thread, but libzookeeper's
	 * I/O thread only notices at its next wake-up (its poll
	 * does not return for a closed descriptor): a request
	 * wakes it now, so the session moves at once instead of
	 * at the next heartbeat. Its answer is not needed. */
	if (rc == ZOK)
		zoo_aexists(zh, "/", 0, nudge_done, NULL);
	free(servers);
	pthread_mutex_lock(&zk->mu);
	zk->zh_users--;
	pthread_cond_broadcast(&zk->cv);
}

/* Connected: a heartbeat read when the server has been quiet for a sixth
 * of the timeout. Disconnected: wakes in time to presume the session
 * lost. Lowers *wake. Caller holds mu; released while sending. */
static void keep_alive(zkc_t *zk, int64_t now, int64_t *wake)
{
	if (zk->raw_connected) {
		int t = zk->neg_timeout_ms > 0 ? zk->neg_timeout_ms : zk->session_timeout_ms;
		int64_t every = t / 6 > 50 ? t / 6 : 50;
		int64_t due = atomic_load(&zk->last_reply_ms) + every;

		if (now >= due && !zk->heartbeat_inflight) {
			zhandle_t *zh = zk->zh;
			int rc;

			zk->heartbeat_inflight = 1;
			zk->zh_users++;
			pthread_mutex_unlock(&zk->mu);
			rc = zoo_aexists(zh, "/", 0, heartbeat_done, zk);
			pthread_mutex_lock(&zk->mu);
			zk->zh_users--;
			pthread_cond_broadcast(&zk->cv);
			if (rc != ZOK)
				zk->heartbeat_inflight = 0;
			due = zkc__now_ms() + every;
		}
		*wake = due < *wake ? due : *wake;
	} else if (zk->session_id) {
		int64_t lost = presumed_lost_at(zk);

		*wake = lost < *wake ? lost : *wake;
	}
}

/* Sleeps until wake or a broadcast on cv. Caller holds mu. */
static void sleep_until(zkc_t *zk, int64_t now, int64_t wake)
{
	struct timespec ts;

	if (wake <= now)
		wake = now + 1;
	zk->supervisor_wake_ms = wake;
	zkc__deadline_ts(&ts, wake - zkc__now_ms() > 0 ? wake - zkc__now_ms() : 1);
	pthread_cond_timedwait(&zk->cv, &zk->mu, &ts);
	zk->supervisor_wake_ms = 0;  /* awake: it checks again before sleeping */
}

static void *supervisor_main(void *arg)
{
	zkc_t *zk = arg;
	zkc__zhctx_t *ctx = NULL;
	int64_t backoff_ms = 50;

	pthread_mutex_lock(&zk->mu);
	while (!zk->closing) {
		int64_t now = zkc__now_ms(), wake = now + 1000;

		if (!zk->zh) {
			install_handle(zk, &ctx, now, &wake, &backoff_ms);
		} else if (session_gone(zk, now)) {
			give_up_session(zk, &ctx);
			continue;
		} else {
			if (zk->hist_check == 1 && zk->raw_connected) {
				history_check(zk);
				continue;
			}
			apply_servers(zk);
			keep_alive(zk, now, &wake);
		}
		pending_run(zk, now, &wake);
		if (zk->closing)
			break;
		if (zk->zh && zk->raw_connected && !zk->raw_expired && !zk->abandoning)
			stall_check(zk, &wake);
		sleep_until(zk, now, wake);
	}
	pending_run(zk, zkc__now_ms(), &(int64_t){ 0 });
	drain_inflight(zk);
	pthread_mutex_unlock(&zk->mu);
	handle_retire(zk, &ctx);
	pthread_mutex_lock(&zk->mu);
	zkc__sm_feed(zk, ZKC__IN_CLOSE, 0);
	pthread_mutex_unlock(&zk->mu);
	return NULL;
}

int zkc__supervisor_start(zkc_t *zk)
{
	if (pthread_create(&zk->supervisor, NULL, supervisor_main, zk) != 0)
		return zkc__error(ZKC_EOS, "cannot start the session thread");
	return ZKC_OK;
}

void zkc__supervisor_stop(zkc_t *zk)
{
	pthread_mutex_lock(&zk->mu);
	zk->closing = 1;
	pthread_cond_broadcast(&zk->cv);
	pthread_mutex_unlock(&zk->mu);
	pthread_join(zk->supervisor, NULL);
}
