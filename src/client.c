/* src/client.c - the client: opens and replaces ZooKeeper sessions, turns
 * libzookeeper's session events into zkc states, and runs the event thread
 * that delivers states and watches to callbacks or the event queue.
 *
 * Threads: libzookeeper's I/O and completion threads (per handle) only
 * record and enqueue; the supervisor thread makes, replaces and closes
 * handles, sends heartbeats and applies server-list changes; the event
 * thread runs every user callback. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <poll.h>

#include "call.h"

#define DEFAULT_SESSION_TIMEOUT_MS 10000
#define DEFAULT_CONNECT_TIMEOUT_MS 15000
#define DEFAULT_RESOLUTION_DELAY_MS 5000
/* how long a closing client waits for the replies still owed (inflight_drain) */
#define CLOSE_DRAIN_MS 2000

/* ------------------------------------------------------------ small helpers */

const char *zkc_state_name(int state)
{
	switch (state) {
	case ZKC_STATE_CONNECTING: return "CONNECTING";
	case ZKC_STATE_CONNECTED: return "CONNECTED";
	case ZKC_STATE_SUSPENDED: return "SUSPENDED";
	case ZKC_STATE_RECONNECTED: return "RECONNECTED";
	case ZKC_STATE_LOST: return "LOST";
	case ZKC_STATE_CLOSED: return "CLOSED";
	case ZKC_NOTICE_HISTORY_RESET: return "HISTORY_RESET";
	default: return "UNKNOWN";
	}
}

void zkc__stat_from_zk(zkc_stat_t *out, const struct Stat *st)
{
	out->czxid = st->czxid;
	out->mzxid = st->mzxid;
	out->ctime = st->ctime;
	out->mtime = st->mtime;
	out->version = st->version;
	out->cversion = st->cversion;
	out->aversion = st->aversion;
	out->ephemeral_owner = st->ephemeralOwner;
	out->data_length = st->dataLength;
	out->num_children = st->numChildren;
	out->pzxid = st->pzxid;
}

void zkc__note_zxid(zkc_t *zk, int64_t czxid, int64_t mzxid, int64_t pzxid)
{
	long long z = czxid > mzxid ? czxid : mzxid, cur;

	if (pzxid > z)
		z = pzxid;
	cur = atomic_load_explicit(&zk->max_zxid, memory_order_relaxed);
	while (z > cur && !atomic_compare_exchange_weak(&zk->max_zxid, &cur, z))
		;
}

uint64_t zkc_history_resets(zkc_t *zk)
{
	return zk ? atomic_load(&zk->history) : 0;
}

void zkc__note_reply(zkc_t *zk)
{
	atomic_store(&zk->last_reply_ms, zkc__now_ms());
}

int zkc__on_completion_thread(zkc_t *zk)
{
	int r;

	pthread_mutex_lock(&zk->mu);
	r = zk->have_completion_tid && pthread_equal(zk->completion_tid, pthread_self());
	pthread_mutex_unlock(&zk->mu);
	return r;
}

int zkc__was_own_session(zkc_t *zk, int64_t session_id)
{
	int i, r = 0;

	if (session_id == 0)
		return 0;
	pthread_mutex_lock(&zk->mu);
	for (i = 0; i < zk->nold_sessions; i++)
		if (zk->old_sessions[i] == session_id)
			r = 1;
	pthread_mutex_unlock(&zk->mu);
	return r;
}

/* ------------------------------------------------------------ event queue */

/* Caller holds mu. */
static void ev_push(zkc_t *zk, zkc__ev_t *ev)
{
	ev->next = NULL;
	if (zk->evq_tail)
		zk->evq_tail->next = ev;
	else
		zk->evq_head = ev;
	zk->evq_tail = ev;
	pthread_cond_signal(&zk->evcv);
}

/* Caller holds mu. Allocation failure drops the state event, which is
 * logged: the state itself stays readable through zkc_state. */
static void ev_push_state(zkc_t *zk, int state, int64_t sid)
{
	zkc__ev_t *ev = calloc(1, sizeof(*ev));

	if (!ev) {
		zkc__log(&zk->log, ZKC_LOG_ERROR, "out of memory: state event %s dropped",
		         zkc_state_name(state));
		return;
	}
	ev->kind = ZKC__EV_STATE;
	ev->state = state;
	ev->session_id = sid;
	ev_push(zk, ev);
}

/* Feeds the state machine and queues what it announces. Caller holds mu. */
static void sm_feed(zkc_t *zk, int input, int64_t sid)
{
	int out[2], n, i;

	n = zkc__sm_step(&zk->sm, input, sid, out);
	for (i = 0; i < n; i++) {
		zkc__log(&zk->log, ZKC_LOG_INFO, "state %s (session 0x%llx)", zkc_state_name(out[i]),
		         (unsigned long long)zk->sm.session_id);
		ev_push_state(zk, out[i], zk->sm.session_id);
	}
	pthread_cond_broadcast(&zk->cv);
}

static void uq_push(zkc_t *zk, const zkc_event_t *ev, const char *path)
{
	zkc__uev_t *u = calloc(1, sizeof(*u));
	uint64_t one = 1;

	if (!u) {
		zkc__log(&zk->log, ZKC_LOG_ERROR, "out of memory: queued event dropped");
		return;
	}
	u->ev = *ev;
	if (path) {
		u->path = strdup(path);
		if (!u->path) {
			free(u);
			zkc__log(&zk->log, ZKC_LOG_ERROR, "out of memory: queued event dropped");
			return;
		}
	}
	u->ev.path = u->path;
	pthread_mutex_lock(&zk->mu);
	if (zk->uq_tail)
		zk->uq_tail->next = u;
	else
		zk->uq_head = u;
	zk->uq_tail = u;
	/* The counter only says "not empty"; zkc_events_next resets it. */
	if (write(zk->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		zkc__log(&zk->log, ZKC_LOG_WARN, "event fd write failed: %s", strerror(errno));
	pthread_cond_broadcast(&zk->cv);
	pthread_mutex_unlock(&zk->mu);
}

static void deliver(zkc_t *zk, zkc_event_fn fn, void *payload, const zkc_event_t *ev,
                    const char *path)
{
	if (fn)
		fn(zk, ev, payload);
	else if (zk->event_fn)
		zk->event_fn(zk, ev, zk->event_payload);
	else
		uq_push(zk, ev, path);
}

void zkc__event_emit(zkc_t *zk, const zkc_event_t *ev)
{
	deliver(zk, NULL, NULL, ev, ev->path);
}

static void dispatch_state(zkc_t *zk, zkc__ev_t *ev)
{
	zkc_event_t pub = { ZKC_EVENT_STATE, ev->state, NULL, ev->session_id, NULL };
	int i = 0;

	if (ev->state == ZKC_NOTICE_HISTORY_RESET) {
		pub.type = ZKC_EVENT_HISTORY_RESET;
		pub.state = ZKC_STATE_LOST;
	}

	/* Listeners may be added or removed while we call them: walk by index
	 * under the lock and call without it; running_listener lets
	 * zkc_listener_remove wait for a call in progress. */
	pthread_mutex_lock(&zk->mu);
	while (i < zk->nlisteners) {
		zkc__listener_t l = zk->listeners[i];

		zk->running_listener = l.id;
		pthread_mutex_unlock(&zk->mu);
		l.fn(zk, ev->state, ev->session_id, l.payload);
		pthread_mutex_lock(&zk->mu);
		zk->running_listener = 0;
		pthread_cond_broadcast(&zk->cv);
		/* Continue after the listener just called, wherever it now is. */
		for (i = 0; i < zk->nlisteners && zk->listeners[i].id <= l.id; i++)
			;
	}
	pthread_mutex_unlock(&zk->mu);
	deliver(zk, NULL, NULL, &pub, NULL);
}

static void dispatch(zkc_t *zk, zkc__ev_t *ev)
{
	if (ev->kind == ZKC__EV_STATE) {
		dispatch_state(zk, ev);
	} else if (ev->kind == ZKC__EV_WATCH) {
		zkc__watch_t *w = ev->watch;
		zkc_event_t pub = { ev->type, zkc_state(zk), ev->path, ev->session_id, w->payload };

		deliver(zk, w->fn, w->payload, &pub, ev->path);
		free(w->path);
		free(w);
	} else if (ev->kind == ZKC__EV_CALL) {
		ev->call(ev->arg);
	} else if (ev->kind == ZKC__EV_HOSTS) {
		zkc_event_t pub = { ZKC_EVENT_HOSTS, zkc_state(zk), ev->path, ev->session_id, NULL };

		deliver(zk, NULL, NULL, &pub, ev->path);
	}
	free(ev->path);
	free(ev);
}

static void *dispatcher_main(void *arg)
{
	zkc_t *zk = arg;

	pthread_mutex_lock(&zk->mu);
	for (;;) {
		zkc__ev_t *ev = zk->evq_head;

		if (!ev) {
			if (zk->dispatcher_stop)
				break;
			pthread_cond_wait(&zk->evcv, &zk->mu);
			continue;
		}
		zk->evq_head = ev->next;
		if (!zk->evq_head)
			zk->evq_tail = NULL;
		pthread_mutex_unlock(&zk->mu);
		dispatch(zk, ev);
		pthread_mutex_lock(&zk->mu);
	}
	pthread_mutex_unlock(&zk->mu);
	return NULL;
}

void zkc__post(zkc_t *zk, void (*fn)(void *arg), void *arg)
{
	zkc__ev_t *ev = calloc(1, sizeof(*ev));

	if (!ev) {
		/* Running it here is late-but-correct; dropping it would hang
		 * whoever waits for it. Callers never hold zkc locks. */
		zkc__log(&zk->log, ZKC_LOG_ERROR, "out of memory: posted call runs inline");
		fn(arg);
		return;
	}
	ev->kind = ZKC__EV_CALL;
	ev->call = fn;
	ev->arg = arg;
	pthread_mutex_lock(&zk->mu);
	ev_push(zk, ev);
	pthread_mutex_unlock(&zk->mu);
}

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

/* ------------------------------------------------------------ watches */

zkc__watch_t *zkc__watch_new(zkc_t *zk, uint64_t gen, const char *path, zkc_watch_fn fn,
                             void *payload)
{
	zkc__watch_t *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->path = strdup(path);
	if (!w->path) {
		free(w);
		return NULL;
	}
	w->zk = zk;
	w->gen = gen;
	w->fn = fn;
	w->payload = payload;
	pthread_mutex_lock(&zk->mu);
	w->next = zk->watches;
	if (zk->watches)
		zk->watches->prev = w;
	zk->watches = w;
	pthread_mutex_unlock(&zk->mu);
	return w;
}

/* Caller holds mu. */
static void watch_unlink(zkc_t *zk, zkc__watch_t *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		zk->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
}

void zkc__watch_arm(zkc__watch_t *w)
{
	pthread_mutex_lock(&w->zk->mu);
	w->armed = 1;
	pthread_mutex_unlock(&w->zk->mu);
}

void zkc__watch_drop(zkc__watch_t *w)
{
	zkc_t *zk;

	if (!w)
		return;
	zk = w->zk;
	pthread_mutex_lock(&zk->mu);
	watch_unlink(zk, w);
	pthread_mutex_unlock(&zk->mu);
	free(w->path);
	free(w);
}

/* Caller holds mu. Queues the watch's final event and takes it off the list. */
static void watch_fire_locked(zkc_t *zk, zkc__watch_t *w, int type, int64_t sid)
{
	zkc__ev_t *ev;

	watch_unlink(zk, w);
	if (w->silent) {
		/* Its call returned an error: the caller never owned this watch. */
		free(w->path);
		free(w);
		return;
	}
	ev = calloc(1, sizeof(*ev));
	if (!ev || !(ev->path = strdup(w->path))) {
		/* Cannot tell the owner; at least do not leak. */
		zkc__log(&zk->log, ZKC_LOG_ERROR, "out of memory: watch on %s dropped", w->path);
		free(ev);
		free(w->path);
		free(w);
		return;
	}
	ev->kind = ZKC__EV_WATCH;
	ev->type = type;
	ev->watch = w;
	ev->session_id = sid;
	ev_push(zk, ev);
}

void zkc__watch_trampoline(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	zkc__watch_t *w = ctx;
	zkc_t *zk = w->zk;
	int t;

	(void)zh;
	(void)state;
	(void)path;
	/* libzookeeper hands session events to every watcher and keeps them
	 * registered; only a node event ends a watch here. Watches of a closed
	 * handle are cancelled by the supervisor after zookeeper_close. */
	if (type == ZOO_SESSION_EVENT)
		return;
	if (type == ZOO_CREATED_EVENT)
		t = ZKC_EVENT_CREATED;
	else if (type == ZOO_DELETED_EVENT)
		t = ZKC_EVENT_DELETED;
	else if (type == ZOO_CHANGED_EVENT)
		t = ZKC_EVENT_CHANGED;
	else if (type == ZOO_CHILD_EVENT)
		t = ZKC_EVENT_CHILD;
	else
		t = ZKC_EVENT_WATCH_CANCELLED;  /* ZOO_NOTWATCHING_EVENT */
	zkc__note_reply(zk);
	pthread_mutex_lock(&zk->mu);
	watch_fire_locked(zk, w, t, zk->session_id);
	pthread_mutex_unlock(&zk->mu);
}

/* After the handle of generation gen is closed no callback of it can run:
 * every watch still listed for it will never fire. Caller holds mu. */
static void watches_cancel_gen(zkc_t *zk, uint64_t gen, int64_t sid)
{
	zkc__watch_t *w = zk->watches, *next;

	for (; w; w = next) {
		next = w->next;
		if (w->gen == gen && w->armed)
			watch_fire_locked(zk, w, ZKC_EVENT_WATCH_CANCELLED, sid);
	}
}

/* ------------------------------------------------------------ libzookeeper glue */

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

static int clients_register(zkc_t *zk)
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

static void clients_unregister(zkc_t *zk)
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
				sm_feed(zk, ZKC__IN_EXPIRED, zk->sm.session_id);
			zk->hist_check = 1;
		} else {
			sm_feed(zk, ZKC__IN_CONNECTED, zk->session_id);
		}
	} else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) {
		zk->raw_connected = 0;
		zk->raw_expired = 1;
		if (state == ZOO_AUTH_FAILED_STATE)
			zkc__log(&zk->log, ZKC_LOG_ERROR, "authentication failed; making a new session");
		sm_feed(zk, ZKC__IN_EXPIRED, zk->session_id);
	} else {
		/* CONNECTING / ASSOCIATING / NOTCONNECTED: the connection is gone. */
		if (zk->raw_connected || zk->disconnect_ms == 0)
			zk->disconnect_ms = zkc__now_ms();
		zk->raw_connected = 0;
		sm_feed(zk, ZKC__IN_DISCONNECTED, zk->session_id);
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

static void hosts_notify(void *ctx, const char *servers)
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
		ev_push(zk, ev);
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

/* ------------------------------------------------------------ supervisor */

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

/* Waits (caller holds mu, up to max_ms) until no request sent on handle
 * generation gen awaits its reply. zookeeper_close of libzookeeper 3.8
 * turns the requests still unanswered into ZCLOSING completions for its
 * completion thread, which is already stopping, and never frees them:
 * each one's record and reply buffer leak. On a connected handle the
 * replies come in a round trip, so a closing client waits for them. */
static void inflight_drain(zkc_t *zk, uint64_t gen, int64_t max_ms)
{
	int64_t deadline = zkc__now_ms() + max_ms;

	for (;;) {
		struct timespec ts;
		zkc__req_t *r;

		for (r = zk->inflight; r && r->gen != gen; r = r->inext)
			;
		if (!r || zkc__now_ms() >= deadline)
			return;
		zkc__deadline_ts(&ts, 10);
		pthread_cond_timedwait(&zk->cv, &zk->mu, &ts);
	}
}

/* Takes the current handle out of use and closes it (without mu, as
 * zookeeper_close runs pending completions on this thread and joins
 * libzookeeper's threads). Its unfired watches are then cancelled. */
static void handle_retire(zkc_t *zk, zkc__zhctx_t **ctxp)
{
	zhandle_t *zh;
	uint64_t gen;
	int64_t sid;
	int drain;

	pthread_mutex_lock(&zk->mu);
	zh = zk->zh;
	drain = zk->closing && zk->raw_connected && !zk->raw_expired;
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
	while (zk->zh_users > 0)
		pthread_cond_wait(&zk->cv, &zk->mu);
	if (zh && drain)
		inflight_drain(zk, gen, CLOSE_DRAIN_MS);
	zk->have_completion_tid = 0;
	pthread_mutex_unlock(&zk->mu);
	if (zh)
		zookeeper_close(zh);
	/* libzookeeper can drop completions it queued while closing */
	zkc__reqs_abandon(zk, gen);
	pthread_mutex_lock(&zk->mu);
	zk->heartbeat_inflight = 0;
	watches_cancel_gen(zk, gen, sid);
	pthread_cond_broadcast(&zk->cv);
	pthread_mutex_unlock(&zk->mu);
	free(*ctxp);
	*ctxp = NULL;
}

static void barrier_pass(void *arg)
{
	zkc_t *zk = arg;

	pthread_mutex_lock(&zk->mu);
	zk->barrier_done++;
	pthread_cond_broadcast(&zk->cv);
	pthread_mutex_unlock(&zk->mu);
}

/* Waits (up to max_ms) until the event thread has run everything queued
 * so far, listeners included. Caller holds mu. */
static void event_barrier(zkc_t *zk, int64_t max_ms)
{
	zkc__ev_t *ev = calloc(1, sizeof(*ev));
	int64_t until = zkc__now_ms() + max_ms;
	uint64_t want;

	if (!ev)
		return;
	ev->kind = ZKC__EV_CALL;
	ev->call = barrier_pass;
	ev->arg = zk;
	want = ++zk->barrier_posted;
	ev_push(zk, ev);
	while (zk->barrier_done < want && !zk->closing) {
		struct timespec ts;
		int64_t left = until - zkc__now_ms();

		if (left <= 0) {
			zkc__log(&zk->log, ZKC_LOG_WARN, "an event callback held up LOST for %lld ms; "
			         "closing the session anyway", (long long)max_ms);
			break;
		}
		zkc__deadline_ts(&ts, left);
		pthread_cond_timedwait(&zk->cv, &zk->mu, &ts);
	}
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
	const char *cur;
	char *server;
	int rc;

	zk->hist_check = 2;
	zk->zh_users++;
	pthread_mutex_unlock(&zk->mu);
	cur = zoo_get_current_server(zh);
	server = cur ? strdup(cur) : NULL;
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
		ev_push_state(zk, ZKC_NOTICE_HISTORY_RESET, sid);
	} else if (rc < 0) {
		zkc__log(&zk->log, ZKC_LOG_WARN, "could not ask server %s whether it has zxid 0x%llx; "
		         "taking its history as continuous", server ? server : "?",
		         (unsigned long long)seen);
	}
	free(server);
	/* A disconnect meanwhile leaves it to the next connect to ask again. */
	if (zk->hist_check == 2 && zk->raw_connected && zk->session_id == sid)
		sm_feed(zk, ZKC__IN_CONNECTED, sid);
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

static void *supervisor_main(void *arg)
{
	zkc_t *zk = arg;
	zkc__zhctx_t *ctx = NULL;
	int64_t backoff_ms = 50;

	pthread_mutex_lock(&zk->mu);
	while (!zk->closing) {
		int64_t now = zkc__now_ms(), wake = now + 1000;
		struct timespec ts;

		if (!zk->zh) {
			zhandle_t *zh;

			pthread_mutex_unlock(&zk->mu);
			zh = handle_new(zk, &ctx);
			pthread_mutex_lock(&zk->mu);
			if (zh) {
				zk->zh = zh;
				backoff_ms = 50;
				atomic_store(&zk->last_reply_ms, zkc__now_ms());
				pthread_cond_broadcast(&zk->cv);
			} else {
				wake = now + backoff_ms;
				backoff_ms = backoff_ms * 2 > 2000 ? 2000 : backoff_ms * 2;
			}
		} else if (zk->raw_expired ||
		           (!zk->raw_connected && zk->session_id && now >= presumed_lost_at(zk))) {
			if (!zk->raw_expired) {
				zkc__log(&zk->log, ZKC_LOG_WARN, "session 0x%llx presumed lost: no server for "
				         "2/3 of its %d ms timeout", (unsigned long long)zk->session_id,
				         zk->neg_timeout_ms);
				sm_feed(zk, ZKC__IN_PRESUMED_LOST, zk->session_id);
				/* From here the old session may not come back, even if
				 * its connection does while we wait below. */
				zk->abandoning = 1;
				zk->raw_connected = 0;
				/* Closing may reach a server (if the connection just came
				 * back) and delete the session's nodes at once: let every
				 * listener hear LOST first, within the third of the
				 * timeout that is left. */
				event_barrier(zk, (zk->neg_timeout_ms > 0 ? zk->neg_timeout_ms
				                                         : zk->session_timeout_ms) / 3);
			}
			pthread_mutex_unlock(&zk->mu);
			handle_retire(zk, &ctx);
			pthread_mutex_lock(&zk->mu);
			continue;
		} else {
			if (zk->hist_check == 1 && zk->raw_connected) {
				history_check(zk);
				continue;
			}
			if (zk->servers_changed && zk->servers && *zk->servers) {
				zhandle_t *zh = zk->zh;
				char *servers = zkc__zk_hosts(zk, zk->servers);
				int rc;

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
				wake = due < wake ? due : wake;
			} else if (zk->session_id) {
				int64_t lost = presumed_lost_at(zk);

				wake = lost < wake ? lost : wake;
			}
		}
		pending_run(zk, now, &wake);
		if (zk->closing)
			break;
		if (zk->zh && zk->raw_connected && !zk->raw_expired && !zk->abandoning)
			stall_check(zk, &wake);
		if (wake <= now)
			wake = now + 1;
		zk->supervisor_wake_ms = wake;
		zkc__deadline_ts(&ts, wake - zkc__now_ms() > 0 ? wake - zkc__now_ms() : 1);
		pthread_cond_timedwait(&zk->cv, &zk->mu, &ts);
		zk->supervisor_wake_ms = 0;  /* awake: it checks again before sleeping */
	}
	pending_run(zk, zkc__now_ms(), &(int64_t){ 0 });
	pthread_mutex_unlock(&zk->mu);
	handle_retire(zk, &ctx);
	pthread_mutex_lock(&zk->mu);
	sm_feed(zk, ZKC__IN_CLOSE, 0);
	pthread_mutex_unlock(&zk->mu);
	return NULL;
}

/* ------------------------------------------------------------ handle use */

int zkc__zh_acquire(zkc_t *zk, int64_t deadline_ms, zhandle_t **out_zh, uint64_t *out_gen,
                    int64_t *out_sid)
{
	int rc = ZKC_OK;

	pthread_mutex_lock(&zk->mu);
	for (;;) {
		struct timespec ts;
		int64_t left;

		if (zk->closing) {
			rc = zkc__error(ZKC_ECLOSED, "client is closing");
			break;
		}
		if (zk->zh && zk->raw_connected && !zk->hist_check && !zk->raw_expired &&
		    !zk->abandoning) {
			zk->zh_users++;
			*out_zh = zk->zh;
			*out_gen = zk->gen;
			if (out_sid)
				*out_sid = zk->session_id;
			break;
		}
		left = deadline_ms - zkc__now_ms();
		if (left <= 0) {
			rc = zkc__error(ZKC_ETIMEDOUT, "no connection to any server of [%s] within the "
			                "deadline (state %s)", zk->servers ? zk->servers : "",
			                zkc_state_name(zk->sm.state));
			break;
		}
		if ((rc = zkc_cancel_check()) != ZKC_OK)
			break;
		zkc__deadline_ts(&ts, zkc_cancel_slice_ms(left));
		pthread_cond_timedwait(&zk->cv, &zk->mu, &ts);
	}
	pthread_mutex_unlock(&zk->mu);
	return rc;
}

void zkc__zh_release(zkc_t *zk)
{
	pthread_mutex_lock(&zk->mu);
	if (--zk->zh_users == 0)
		pthread_cond_broadcast(&zk->cv);
	pthread_mutex_unlock(&zk->mu);
}

int zkc__sleep(zkc_t *zk, int64_t ms)
{
	int64_t until = zkc__now_ms() + ms;
	int rc = ZKC_OK;

	pthread_mutex_lock(&zk->mu);
	while (!zk->closing) {
		struct timespec ts;
		int64_t left = until - zkc__now_ms();

		if (left <= 0 || (rc = zkc_cancel_check()) != ZKC_OK)
			break;
		zkc__deadline_ts(&ts, zkc_cancel_slice_ms(left));
		pthread_cond_timedwait(&zk->cv, &zk->mu, &ts);
	}
	if (zk->closing)
		rc = zkc__error(ZKC_ECLOSED, "client is closing");
	pthread_mutex_unlock(&zk->mu);
	return rc;
}

int zkc__call_enter(zkc_t *zk)
{
	int rc = ZKC_OK;

	if (!zk)
		return zkc__error(ZKC_EBADARGUMENTS, "client is NULL");
	pthread_mutex_lock(&zk->mu);
	if (zk->closing)
		rc = zkc__error(ZKC_ECLOSED, "client is closing");
	else if (zk->have_completion_tid && pthread_equal(zk->completion_tid, pthread_self()))
		rc = zkc__error(ZKC_EDEADLK, "blocking zkc call from libzookeeper's completion thread "
		                "would wait on itself");
	else
		zk->active_calls++;
	pthread_mutex_unlock(&zk->mu);
	return rc;
}

void zkc__call_leave(zkc_t *zk)
{
	pthread_mutex_lock(&zk->mu);
	if (--zk->active_calls == 0)
		pthread_cond_broadcast(&zk->cv);
	pthread_mutex_unlock(&zk->mu);
}

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
	zkc__uev_t *u, *un;
	zkc__ev_t *e, *en;

	if (!zk)
		return;
	for (u = zk->uq_head; u; u = un) {
		un = u->next;
		free(u->path);
		free(u);
	}
	for (e = zk->evq_head; e; e = en) {
		en = e->next;
		if (e->watch) {
			free(e->watch->path);
			free(e->watch);
		}
		free(e->path);
		free(e);
	}
	while (zk->watches) {
		zkc__watch_t *w = zk->watches;

		zk->watches = w->next;
		free(w->path);
		free(w);
	}
	if (zk->evfd >= 0)
		close(zk->evfd);
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
	free(zk->listeners);
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
	zk->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (zk->evfd < 0) {
		rc = zkc__error(ZKC_EOS, "eventfd: %s", strerror(errno));
		client_free(zk);
		return rc;
	}
	rc = zkc__hosts_new(&zk->hosts, zk->url, &zk->log);
	if (rc == ZKC_OK)
		rc = zkc__hosts_current(zk->hosts, &zk->servers);
	if (rc == ZKC_OK)
		rc = clients_register(zk);
	if (rc != ZKC_OK) {
		zkc__hosts_free(zk->hosts);
		client_free(zk);
		return rc;
	}
	if (pthread_create(&zk->dispatcher, NULL, dispatcher_main, zk) != 0) {
		clients_unregister(zk);
		zkc__hosts_free(zk->hosts);
		client_free(zk);
		return zkc__error(ZKC_EOS, "cannot start the event thread");
	}
	if (pthread_create(&zk->supervisor, NULL, supervisor_main, zk) != 0) {
		pthread_mutex_lock(&zk->mu);
		zk->dispatcher_stop = 1;
		pthread_cond_signal(&zk->evcv);
		pthread_mutex_unlock(&zk->mu);
		pthread_join(zk->dispatcher, NULL);
		clients_unregister(zk);
		zkc__hosts_free(zk->hosts);
		client_free(zk);
		return zkc__error(ZKC_EOS, "cannot start the session thread");
	}
	rc = zkc__hosts_start(zk->hosts, hosts_notify, zk);
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
	if (pthread_equal(pthread_self(), zk->dispatcher) || zkc__on_completion_thread(zk)) {
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
	pthread_mutex_lock(&zk->mu);
	zk->closing = 1;
	pthread_cond_broadcast(&zk->cv);
	pthread_mutex_unlock(&zk->mu);
	pthread_join(zk->supervisor, NULL);
	/* Blocking calls have been woken (ZKC_ECLOSED, or ZCLOSING from their
	 * requests); wait until none is still inside the client. */
	pthread_mutex_lock(&zk->mu);
	while (zk->active_calls > 0)
		pthread_cond_wait(&zk->cv, &zk->mu);
	zk->dispatcher_stop = 1;
	pthread_cond_signal(&zk->evcv);
	pthread_mutex_unlock(&zk->mu);
	pthread_join(zk->dispatcher, NULL);
	clients_unregister(zk);
	client_free(zk);
}

/* ------------------------------------------------------------ accessors */

int zkc_on_event_thread(zkc_t *zk)
{
	return zk && pthread_equal(pthread_self(), zk->dispatcher);
}

int zkc_state(zkc_t *zk)
{
	int s;

	if (!zk)
		return ZKC_STATE_CLOSED;
	pthread_mutex_lock(&zk->mu);
	s = zk->sm.state;
	pthread_mutex_unlock(&zk->mu);
	return s;
}

int zkc_wait_connected(zkc_t *zk, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? INT64_MAX : zkc__now_ms() + timeout_ms;
	int rc = ZKC_OK;

	if (!zk)
		return zkc__error(ZKC_EBADARGUMENTS, "client is NULL");
	pthread_mutex_lock(&zk->mu);
	for (;;) {
		struct timespec ts;
		int64_t left;

		if (zk->closing) {
			rc = zkc__error(ZKC_ECLOSED, "client is closing");
			break;
		}
		if (zk->raw_connected && !zk->hist_check)
			break;
		left = deadline - zkc__now_ms();
		if (left <= 0) {
			char why[512];

			if (zk->tls && zkc__tls_last_error(zk->tls, why, sizeof(why)))
				rc = zkc__error(ZKC_ETLS, "no session with any server of [%s] within %d ms: "
				                "TLS: %s", zk->servers ? zk->servers : "", timeout_ms, why);
			else
				rc = zkc__error(ZKC_ETIMEDOUT, "no session with any server of [%s] within "
				                "%d ms", zk->servers ? zk->servers : "", timeout_ms);
			break;
		}
		if ((rc = zkc_cancel_check()) != ZKC_OK)
			break;
		zkc__deadline_ts(&ts, zkc_cancel_slice_ms(left > 1000 ? 1000 : left));
		pthread_cond_timedwait(&zk->cv, &zk->mu, &ts);
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
	const char *s;
	int rc;

	if (!out || !zk)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_current_server: NULL argument");
	*out = NULL;
	rc = zkc__zh_acquire(zk, zkc__now_ms(), &zh, &gen, NULL);
	if (rc != ZKC_OK)
		return zkc__error(ZKC_EINVALIDSTATE, "not connected");
	s = zoo_get_current_server(zh);
	if (zk->tls && s)
		zkc__tls_unmap(zk->tls, s, out);
	else
		*out = strdup(s ? s : "");
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

/* ------------------------------------------------------------ events API */

int zkc_events_fd(zkc_t *zk)
{
	return zk ? zk->evfd : -1;
}

int zkc_events_next(zkc_event_t **out, zkc_t *zk, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? INT64_MAX : zkc__now_ms() + timeout_ms;
	int rc = ZKC_OK;
	uint64_t cnt;

	if (!out || !zk)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_events_next: NULL argument");
	*out = NULL;
	pthread_mutex_lock(&zk->mu);
	for (;;) {
		struct timespec ts;
		int64_t left;

		if (zk->uq_head) {
			zkc__uev_t *u = zk->uq_head;

			zk->uq_head = u->next;
			if (!zk->uq_head) {
				zk->uq_tail = NULL;
				/* Empty now: drain the fd so poll stops reporting it. */
				if (read(zk->evfd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
					zkc__log(&zk->log, ZKC_LOG_WARN, "event fd read: %s", strerror(errno));
			}
			u->next = NULL;
			*out = &u->ev;
			break;
		}
		if (zk->closing) {
			rc = zkc__error(ZKC_ECLOSED, "client is closing");
			break;
		}
		left = deadline - zkc__now_ms();
		if (left <= 0) {
			rc = zkc__error(ZKC_EAGAIN, "no event within %d ms", timeout_ms);
			break;
		}
		zkc__deadline_ts(&ts, left > 1000 ? 1000 : left);
		pthread_cond_timedwait(&zk->cv, &zk->mu, &ts);
	}
	pthread_mutex_unlock(&zk->mu);
	return rc;
}

void zkc_event_free(zkc_event_t *event)
{
	zkc__uev_t *u = (zkc__uev_t *)event;

	if (!u)
		return;
	free(u->path);
	free(u);
}

int zkc_listener_add(int *out_id, zkc_t *zk, zkc_state_fn fn, void *payload)
{
	int rc = ZKC_OK;

	if (!zk || !fn)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_listener_add: NULL client or function");
	pthread_mutex_lock(&zk->mu);
	if (zk->nlisteners == zk->listeners_cap) {
		int cap = zk->listeners_cap ? zk->listeners_cap * 2 : 4;
		zkc__listener_t *n = realloc(zk->listeners, (size_t)cap * sizeof(*n));

		if (!n)
			rc = zkc__error(ZKC_ENOMEM, "out of memory");
		else {
			zk->listeners = n;
			zk->listeners_cap = cap;
		}
	}
	if (rc == ZKC_OK) {
		zkc__listener_t *l = &zk->listeners[zk->nlisteners++];

		l->id = zk->next_listener_id++;
		l->fn = fn;
		l->payload = payload;
		if (out_id)
			*out_id = l->id;
	}
	pthread_mutex_unlock(&zk->mu);
	return rc;
}

int zkc_listener_remove(zkc_t *zk, int id)
{
	int i, rc = ZKC_ENONODE;

	if (!zk)
		return zkc__error(ZKC_EBADARGUMENTS, "client is NULL");
	pthread_mutex_lock(&zk->mu);
	for (i = 0; i < zk->nlisteners; i++) {
		if (zk->listeners[i].id == id) {
			memmove(&zk->listeners[i], &zk->listeners[i + 1],
			        (size_t)(zk->nlisteners - i - 1) * sizeof(zk->listeners[0]));
			zk->nlisteners--;
			rc = ZKC_OK;
			break;
		}
	}
	/* Wait out a call in progress, unless we are that call. */
	while (zk->running_listener == id && !pthread_equal(pthread_self(), zk->dispatcher))
		pthread_cond_wait(&zk->cv, &zk->mu);
	pthread_mutex_unlock(&zk->mu);
	if (rc != ZKC_OK)
		return zkc__error(rc, "no listener with id %d", id);
	return rc;
}

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
