/* src/events.c - the event thread and what it delivers: state changes
 * (from the state machine, src/state.c), watches, host-list changes and
 * calls posted by modules, to the listeners, the event callback or the
 * client's event queue with its pollable fd (zkc_events_fd/next).
 *
 * The lowest layer of the client: it calls only the base modules. Other
 * threads only queue here (under the client's mutex); user code runs on
 * the event thread alone. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "events.h"

/* ------------------------------------------------------------ states */

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

/* Caller holds mu. */
void zkc__ev_push(zkc_t *zk, zkc__ev_t *ev)
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
void zkc__ev_push_state(zkc_t *zk, int state, int64_t sid)
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
	zkc__ev_push(zk, ev);
}

/* Feeds the state machine and queues what it announces. Caller holds mu. */
void zkc__sm_feed(zkc_t *zk, int input, int64_t sid)
{
	int out[2], n, i;

	n = zkc__sm_step(&zk->sm, input, sid, out);
	for (i = 0; i < n; i++) {
		zkc__log(&zk->log, ZKC_LOG_INFO, "state %s (session 0x%llx)", zkc_state_name(out[i]),
		         (unsigned long long)zk->sm.session_id);
		zkc__ev_push_state(zk, out[i], zk->sm.session_id);
	}
	pthread_cond_broadcast(&zk->cv);
}

/* ------------------------------------------------------------ delivery */

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
	zkc__ev_push(zk, ev);
	pthread_mutex_unlock(&zk->mu);
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
void zkc__event_barrier(zkc_t *zk, int64_t max_ms)
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
	zkc__ev_push(zk, ev);
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
	zkc__ev_push(zk, ev);
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
void zkc__watches_cancel_gen(zkc_t *zk, uint64_t gen, int64_t sid)
{
	zkc__watch_t *w = zk->watches, *next;

	for (; w; w = next) {
		next = w->next;
		if (w->gen == gen && w->armed)
			watch_fire_locked(zk, w, ZKC_EVENT_WATCH_CANCELLED, sid);
	}
}

/* ------------------------------------------------------------ state, event queue and listeners (public) */

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

/* ------------------------------------------------------------ the event thread */

int zkc__events_start(zkc_t *zk)
{
	zk->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (zk->evfd < 0)
		return zkc__error(ZKC_EOS, "eventfd: %s", strerror(errno));
	if (pthread_create(&zk->dispatcher, NULL, dispatcher_main, zk) != 0)
		return zkc__error(ZKC_EOS, "cannot start the event thread");
	return ZKC_OK;
}

void zkc__events_stop(zkc_t *zk)
{
	pthread_mutex_lock(&zk->mu);
	zk->dispatcher_stop = 1;
	pthread_cond_signal(&zk->evcv);
	pthread_mutex_unlock(&zk->mu);
	pthread_join(zk->dispatcher, NULL);
}

void zkc__events_free(zkc_t *zk)
{
	zkc__uev_t *u, *un;
	zkc__ev_t *e, *en;

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
	free(zk->listeners);
	zk->uq_head = zk->uq_tail = NULL;
	zk->evq_head = zk->evq_tail = NULL;
	zk->evfd = -1;
	zk->listeners = NULL;
}
