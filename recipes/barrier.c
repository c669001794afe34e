/* recipes/barrier.c - simple and double barriers (ZooKeeper's recipes
 * document) on the public zkc API. Blocking calls on the caller's thread;
 * watches only wake them up. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "zkc/barrier.h"
#include "zkc/batch.h"
#include "zkc/cancel.h"
#include "lock_internal.h"
#include "support.h"

#define READY "ready"

/* ------------------------------------------------------------ waiting */

static int64_t session_of(zkc_t *zk)
{
	int64_t sid = 0;

	return zkc_session(&sid, NULL, NULL, zk) == ZKC_OK ? sid : 0;
}

/* Waits for the watch; returns ZKC_OK when it fired, ZKC_ETIMEDOUT at the
 * deadline (< 0: none), ZKC_ELOST when `sid` (if not 0) is no longer the
 * client's session, ZKC_ECLOSED when the client closes, ZKC_ECANCELED when
 * the thread's cancellation token fires. Checks the session
 * every 100 ms: a lost session ends no watch of a plain waiter early. */
static int wait_fired(zkcr_waker_t *w, zkc_t *zk, int64_t deadline, int64_t sid,
                      const char *path)
{
	int rc = ZKC_OK;

	pthread_mutex_lock(&w->mu);
	while (w->gen == 0) {
		int64_t now = zkcr_now_ms();

		if (deadline >= 0 && now >= deadline) {
			rc = zkc_error_set(ZKC_ETIMEDOUT, "barrier %s: deadline passed", path);
			break;
		}
		if (sid && session_of(zk) != sid) {
			rc = zkc_error_set(ZKC_ELOST, "barrier %s: the session changed while "
			                   "waiting", path);
			break;
		}
		if (zkc_state(zk) == ZKC_STATE_CLOSED) {
			rc = zkc_error_set(ZKC_ECLOSED, "barrier %s: the client closed while "
			                   "waiting", path);
			break;
		}
		rc = zkcr_cond_wait_until(&w->cv, &w->mu, deadline < 0 || deadline - now > 100
		                          ? now + 100 : deadline);
		if (rc == ZKC_ECANCELED)
			break;
		rc = ZKC_OK;
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static int check_path(const char *path)
{
	int rc = zkc_path_validate(path, (size_t)-1);

	if (rc != ZKC_OK)
		return rc;
	return strcmp(path, "/") == 0 ? zkc_error_set(ZKC_EBADARGUMENTS, "barrier /: the root "
	                                              "cannot be a barrier") : ZKC_OK;
}

/* ------------------------------------------------------------ simple barrier */

int zkc_barrier_set(zkc_t *zk, const char *path)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	int rc;

	if (!zk || !path)
		return zkc_error_set(ZKC_EBADARGUMENTS, "barrier set: %s is NULL",
		                                        zk ? "path" : "client");
	if ((rc = check_path(path)) != ZKC_OK)
		return rc;
	co.flags = ZKC_CREATE_PARENTS;
	rc = zkc_create(NULL, NULL, zk, path, NULL, 0, &co);
	return rc == ZKC_ENODEEXISTS ? ZKC_OK : rc;
}

int zkc_barrier_remove(zkc_t *zk, const char *path)
{
	int rc;

	if (!zk || !path)
		return zkc_error_set(ZKC_EBADARGUMENTS, "barrier remove: %s is NULL", zk ? "path"
		                     : "client");
	if ((rc = check_path(path)) != ZKC_OK)
		return rc;
	rc = zkc_delete(zk, path, -1, 0);
	return rc == ZKC_ENONODE ? ZKC_OK : rc;
}

static int barrier_wait_bound(zkc_t *zk, const char *path, int timeout_ms, int64_t deadline);

int zkc_barrier_wait(zkc_t *zk, const char *path, int timeout_ms)
{
	int64_t prev;
	int rc;

	if (!zk || !path)
		return zkc_error_set(ZKC_EBADARGUMENTS, "barrier wait: %s is NULL", zk ? "path"
		                     : "client");
	if ((rc = check_path(path)) != ZKC_OK)
		return rc;
	/* every request of the wait ends by its deadline (0: one look) */
	prev = zkcr_deadline_enter_timeout(timeout_ms);
	rc = barrier_wait_bound(zk, path, timeout_ms, zkc_deadline_bound());
	zkc_deadline_bind(prev);
	return rc;
}

static int barrier_wait_bound(zkc_t *zk, const char *path, int timeout_ms, int64_t deadline)
{
	int rc;

	for (;;) {
		zkcr_waker_t *w = zkcr_waker_new(2);

		if (!w)
			return zkc_error_set(ZKC_ENOMEM, "barrier %s: out of memory", path);
		rc = zkc_exists_w(NULL, zk, path, zkcr_waker_fire, w);
		if (rc != ZKC_OK && rc != ZKC_ENONODE)
			zkcr_waker_unref(w);   /* no watch was set */
		if (rc != ZKC_OK) {
			/* ENONODE: lowered (the watch left behind wakes no one) */
			zkcr_waker_unref(w);
			return rc == ZKC_ENONODE ? ZKC_OK : rc;
		}
		rc = timeout_ms == 0 ? zkc_error_set(ZKC_ETIMEDOUT, "barrier %s: still up",
		                                     path) : wait_fired(w, zk, deadline, 0, path);
		zkcr_waker_unref(w);
		if (rc != ZKC_OK)
			return rc;
	}
}

/* ------------------------------------------------------------ double barrier */

struct zkc_double_barrier {
	zkc_t *zk;
	char *path;
	char *ready;
	char *own;
	const char *name;   /* last component of own */
	int count;
	int entered;
	int64_t sid;        /* the session that owns our node; 0 = no node */
};

static char *join2(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}

static void random_uuid(char out[37])
{
	unsigned char r[16];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		for (i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)rand();
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5], r[6],
	    r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

int zkc_double_barrier_open(zkc_double_barrier_t **out, zkc_t *zk, const char *path,
                            int count, const char *id)
{
	zkc_double_barrier_t *b;
	char uuid[37];
	int rc;

	if (out)
		*out = NULL;
	if (!out || !zk || !path || count < 1)
		return zkc_error_set(ZKC_EBADARGUMENTS, "double barrier %s: %s", path ? path
		                     : "(null)", !out ? "out is NULL" : !zk ? "client is NULL"
		                     : !path ? "path is NULL" : "count < 1");
	if ((rc = check_path(path)) != ZKC_OK)
		return rc;
	if (id && (!*id || strchr(id, '/') || strcmp(id, READY) == 0 ||
	           strcmp(id, ".") == 0 || strcmp(id, "..") == 0))
		return zkc_error_set(ZKC_EBADARGUMENTS, "double barrier %s: id \"%.64s\": not a "
		                     "node name of its own (empty, with '/', ., .. or the ready "
		                     "node's name)", path, id);
	if (!id) {
		random_uuid(uuid);
		id = uuid;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return zkc_error_set(ZKC_ENOMEM, "double barrier %s: out of memory", path);
	b->zk = zk;
	b->count = count;
	b->path = strdup(path);
	b->ready = join2(path, READY);
	b->own = join2(path, id);
	if (!b->path || !b->ready || !b->own) {
		zkc_double_barrier_close(b);
		return zkc_error_set(ZKC_ENOMEM, "double barrier %s: out of memory", path);
	}
	if ((rc = zkc_path_validate(b->own, (size_t)-1)) != ZKC_OK) {
		zkc_double_barrier_close(b);
		return rc;
	}
	b->name = strrchr(b->own, '/') + 1;
	*out = b;
	return ZKC_OK;
}

/* Deletes our node. It is cleanup, so a cancel token that ended the call
 * must not cancel it too: the token is unbound meanwhile. */
static void delete_own_unbound(zkc_double_barrier_t *b)
{
	zkc_cancel_t *tok = zkc_cancel_bind(NULL);
	int rc = zkc_delete(b->zk, b->own, -1, 0);

	zkc_cancel_bind(tok);
	/* past the call's deadline, or no answer: in the background, while
	 * the session lives, so giving up never waits on the servers */
	if (rc != ZKC_OK && rc != ZKC_ENONODE && rc != ZKC_ECLOSED &&
	    b->sid == session_of(b->zk))
		zkcr_lock_delete_bg(b->zk, b->own, b->sid);
}

/* Deletes our node if this session still owns it (docs/design.md, rule 5). */
static void drop_own(zkc_double_barrier_t *b)
{
	if (b->sid && b->sid == session_of(b->zk))
		delete_own_unbound(b);
	b->sid = 0;
}

static size_t members(const zkc_strings_t *kids)
{
	size_t i, n = 0;

	for (i = 0; kids && i < kids->count; i++)
		if (strcmp(kids->items[i], READY) != 0)
			n++;
	return n;
}

/* Failures a new attempt in the same session may cure. */
static int retryable(int rc)
{
	return rc == ZKC_ECONNECTIONLOSS || rc == ZKC_ETIMEDOUT || rc == ZKC_EOPERATIONTIMEOUT ||
	    rc == ZKC_EINVALIDSTATE || rc == ZKC_ETHROTTLEDOP || rc == ZKC_ECLOSING;
}

/* Creates our node when the pipelined create could not tell: a plain
 * ephemeral create is retried safely by zkc, and a node that exists is ours
 * only if this session owns it. */
static int create_own(zkc_double_barrier_t *b)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	zkc_stat_t st;
	int rc;

	co.mode = ZKC_EPHEMERAL;
	rc = zkc_create(NULL, &st, b->zk, b->own, NULL, 0, &co);
	if (rc == ZKC_ENODEEXISTS) {
		rc = zkc_exists(&st, b->zk, b->own);
		if (rc == ZKC_OK && st.ephemeral_owner != session_of(b->zk))
			return zkc_error_set(ZKC_ENODEEXISTS, "double barrier %s: member node %s "
			                     "belongs to another session (id taken)", b->path,
			                     b->own);
		if (rc == ZKC_ENONODE)
			return create_own(b);
	}
	if (rc == ZKC_OK)
		b->sid = st.ephemeral_owner;
	return rc;
}

/* Internal, positive (codes are negative): go round again. */
#define AGAIN 1

/* One enter call across its rounds. */
typedef struct enter {
	zkc_double_barrier_t *b;
	zkc_batch_t *bt;
	zkcr_waker_t *w;        /* this round's watch on "ready"; our reference */
	int ie, ic, ik;         /* ops: exists("ready"), create(own), children */
	int64_t run_sid;        /* the session of the first round */
	int made_parents;
	int timeout_ms;
	int64_t deadline;
} enter_t;

/* Drops our reference to this round's watch. */
static void enter_unwatch(enter_t *e)
{
	zkcr_waker_unref(e->w);
	e->w = NULL;
}

/* The round's ops, in one trip: watch "ready" first, then add ourselves
 * (until our node exists), then count. */
static int enter_prepare(enter_t *e)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	zkc_double_barrier_t *b = e->b;

	co.mode = ZKC_EPHEMERAL;
	zkc_batch_clear(e->bt);
	if (!(e->w = zkcr_waker_new(2)))
		return zkc_error_set(ZKC_ENOMEM, "double barrier %s: out of memory", b->path);
	e->ie = zkc_batch_exists(e->bt, b->ready, 1, zkcr_waker_fire, e->w);
	e->ic = b->sid ? -1 : zkc_batch_create(e->bt, b->own, NULL, 0, &co);
	e->ik = zkc_batch_children(e->bt, b->path, 0, NULL, NULL);
	if (e->ie < 0 || e->ik < 0 || (!b->sid && e->ic < 0)) {
		zkcr_waker_unref(e->w);   /* never sent: no watch */
		enter_unwatch(e);
		return e->ie < 0 ? e->ie : e->ik < 0 ? e->ik : e->ic;
	}
	return ZKC_OK;
}

/* After the round's trip (rc its outcome): ZKC_OK to look at the replies,
 * AGAIN after connection trouble on the same session, or a failure. Never
 * goes on across a session change (docs/design.md, rule 4): a node we may
 * have made went with the old session. */
static int enter_sent(enter_t *e, int rc)
{
	zkc_double_barrier_t *b = e->b;
	int lost = 0, ec, kc, watch_set;

	if (rc == ZKC_OK && !e->run_sid)
		e->run_sid = zkc_batch_session(e->bt);
	else if (rc == ZKC_OK && zkc_batch_session(e->bt) != e->run_sid)
		lost = 1;
	ec = rc == ZKC_OK ? zkc_batch_code(e->bt, (size_t)e->ie) : rc;
	kc = rc == ZKC_OK ? zkc_batch_code(e->bt, (size_t)e->ik) : rc;
	watch_set = rc == ZKC_OK && (ec == ZKC_OK || ec == ZKC_ENONODE);
	if (!watch_set)
		zkcr_waker_unref(e->w);   /* the watch's ref: it was not set */
	if (lost && !b->sid && zkc_batch_code(e->bt, (size_t)e->ic) == ZKC_OK)
		delete_own_unbound(b);   /* made in the new session */
	if (!lost && watch_set && !retryable(kc))
		return ZKC_OK;
	enter_unwatch(e);
	if (lost)
		return zkc_error_set(ZKC_ELOST, "double barrier %s: the session changed while "
		                     "entering", b->path);
	if ((b->sid && session_of(b->zk) != b->sid) ||
	    (e->run_sid && session_of(b->zk) != e->run_sid))
		return zkc_error_set(ZKC_ELOST, "double barrier %s: our node %s went with the "
		                     "session", b->path, b->own);
	rc = !watch_set ? ec : kc;
	if (retryable(rc) && (e->deadline < 0 || zkcr_now_ms() < e->deadline))
		return AGAIN;   /* connection trouble: again, same session */
	return rc;
}

/* Our node's create in this round, until our node exists. ZKC_OK when it
 * is ours; AGAIN when the parents were just made, or when the count was
 * read before our node existed; or a failure. */
static int enter_own(enter_t *e, int ready)
{
	zkc_create_options_t po = ZKC_CREATE_OPTIONS_INIT;
	zkc_double_barrier_t *b = e->b;
	zkc_stat_t st;
	int rc;

	if (b->sid)
		return ZKC_OK;
	rc = zkc_batch_code(e->bt, (size_t)e->ic);
	if (rc == ZKC_ENONODE && !e->made_parents) {
		po.flags = ZKC_CREATE_PARENTS;
		e->made_parents = 1;
		enter_unwatch(e);
		rc = zkc_create(NULL, NULL, b->zk, b->path, NULL, 0, &po);
		return rc == ZKC_OK || rc == ZKC_ENODEEXISTS ? AGAIN : rc;
	}
	if (rc == ZKC_OK && zkc_batch_stat(&st, e->bt, (size_t)e->ic) == ZKC_OK)
		b->sid = st.ephemeral_owner;
	else if (rc != ZKC_ENONODE)
		rc = create_own(b);   /* outcome unknown or exists: find out */
	if (rc != ZKC_OK)
		return rc;
	if (!ready && zkc_batch_code(e->bt, (size_t)e->ic) != ZKC_OK) {
		enter_unwatch(e);   /* the count was read before our node existed */
		return AGAIN;
	}
	return ZKC_OK;
}

/* Not ready yet: the last member to arrive creates "ready" (ZKC_OK), the
 * others wait for it (AGAIN: woken, look again). */
static int enter_count_or_wait(enter_t *e)
{
	zkc_double_barrier_t *b = e->b;
	const zkc_strings_t *kids = zkc_batch_children_of(e->bt, (size_t)e->ik);
	int rc;

	if (!kids)
		return zkc_batch_code(e->bt, (size_t)e->ik);
	if (members(kids) >= (size_t)b->count) {
		zkc_create_options_t ro = ZKC_CREATE_OPTIONS_INIT;

		rc = zkc_create(NULL, NULL, b->zk, b->ready, NULL, 0, &ro);
		return rc == ZKC_ENODEEXISTS ? ZKC_OK : rc;
	}
	if (e->timeout_ms == 0)
		return zkc_error_set(ZKC_ETIMEDOUT, "double barrier %s: not ready yet", b->path);
	rc = wait_fired(e->w, b->zk, e->deadline, b->sid, b->path);
	if (rc == ZKC_OK && session_of(b->zk) != b->sid)
		rc = zkc_error_set(ZKC_ELOST, "double barrier %s: the session ended while "
		                   "waiting (our node went with it)",
		                   b->path);   /* the watch ended with the session */
	if (rc != ZKC_OK)
		return rc;
	enter_unwatch(e);
	return AGAIN;
}

/* One round: send, then our node, then ready or count. */
static int enter_round(enter_t *e)
{
	int rc = enter_prepare(e), ready;

	if (rc != ZKC_OK)
		return rc;
	rc = enter_sent(e, zkc_batch_run(e->b->zk, e->bt));
	if (rc != ZKC_OK)
		return rc;
	ready = zkc_batch_code(e->bt, (size_t)e->ie) == ZKC_OK;
	if ((rc = enter_own(e, ready)) != ZKC_OK)
		return rc;
	return ready ? ZKC_OK : enter_count_or_wait(e);
}

int zkc_double_barrier_enter(zkc_double_barrier_t *b, int timeout_ms)
{
	enter_t e = { b, NULL, NULL, -1, -1, -1, 0, 0, timeout_ms, zkcr_deadline(timeout_ms) };
	int64_t prev;
	int rc;

	if (!b)
		return zkc_error_set(ZKC_EBADARGUMENTS, "double barrier enter: barrier is NULL");
	if (b->entered)
		return zkc_error_set(ZKC_EINVALIDSTATE, "double barrier %s: already entered",
		                     b->path);
	if ((rc = zkc_batch_new(&e.bt)) != ZKC_OK)
		return rc;
	/* every request of the enter ends by its deadline (0: one look) */
	prev = zkcr_deadline_enter_timeout(timeout_ms);
	e.deadline = zkcr_deadline_earlier(e.deadline, zkc_deadline_bound());
	do
		rc = enter_round(&e);
	while (rc == AGAIN);
	zkcr_waker_unref(e.w);
	zkc_batch_free(e.bt);
	if (rc == ZKC_OK) {
		b->entered = 1;
	} else {
		if (rc == ZKC_ELOST)
			b->sid = 0;     /* our node went with its session: nothing to delete */
		drop_own(b);
	}
	zkc_deadline_bind(prev);
	return rc;
}

static int by_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The members' names in kids ("ready" left out), sorted, borrowed from
 * kids (NULL: none), and the index of our own node among them, or -1. */
static int sorted_members(char ***out, size_t *n, int *own, const zkc_strings_t *kids,
                          zkc_double_barrier_t *b)
{
	char **v;
	size_t i;

	*out = NULL;
	*n = 0;
	*own = -1;
	if (!kids)
		return ZKC_OK;
	if (!(v = malloc((kids->count + 1) * sizeof(*v))))
		return zkc_error_set(ZKC_ENOMEM, "double barrier %s: out of memory", b->path);
	for (i = 0; i < kids->count; i++)
		if (strcmp(kids->items[i], READY) != 0)
			v[(*n)++] = kids->items[i];
	if (*n > 1)
		qsort(v, *n, sizeof(*v), by_name);
	for (i = 0; i < *n; i++)
		if (strcmp(v[i], b->name) == 0 && b->sid)
			*own = (int)i;
	*out = v;
	return ZKC_OK;
}

/* One look at the members on the way out. The last one out removes its
 * node and "ready" (ZKC_OK, *watch_path NULL). Otherwise the lowest waits
 * for the highest and the others, their node removed, for the lowest:
 * ZKC_OK with *watch_path the node to wait for. AGAIN after connection
 * trouble within the deadline. */
static int leave_look(char **watch_path, zkc_double_barrier_t *b, int64_t deadline)
{
	zkc_strings_t *kids = NULL;
	char **v = NULL;
	size_t n = 0;
	int own = -1, rc;

	*watch_path = NULL;
	if (b->sid && b->sid != session_of(b->zk))
		b->sid = 0;   /* our node went with the session: we left */
	rc = zkc_children(&kids, NULL, b->zk, b->path);
	if (rc != ZKC_OK && rc != ZKC_ENONODE)
		return retryable(rc) && (deadline < 0 || zkcr_now_ms() < deadline) ? AGAIN : rc;
	if ((rc = sorted_members(&v, &n, &own, kids, b)) == ZKC_OK) {
		int last = n == 0 || (n == 1 && own == 0);

		if (last) {
			if (own == 0)
				drop_own(b);
			zkc_delete(b->zk, b->ready, -1, 0);
		} else if (own == 0) {
			*watch_path = join2(b->path, v[n - 1]);
		} else {
			if (own > 0)
				drop_own(b);
			*watch_path = join2(b->path, v[0]);
		}
		if (!last && !*watch_path)
			rc = zkc_error_set(ZKC_ENOMEM, "double barrier %s: out of memory", b->path);
	}
	free(v);
	zkc_strings_free(kids);
	return rc;
}

/* Waits until the node at watch_path is gone or changes (ZKC_OK: look
 * again). */
static int leave_wait(zkc_double_barrier_t *b, const char *watch_path, int timeout_ms,
                      int64_t deadline)
{
	zkcr_waker_t *w = zkcr_waker_new(2);
	int rc;

	if (!w)
		return zkc_error_set(ZKC_ENOMEM, "double barrier %s: out of memory", b->path);
	rc = zkc_exists_w(NULL, b->zk, watch_path, zkcr_waker_fire, w);
	if (rc != ZKC_OK && rc != ZKC_ENONODE)
		zkcr_waker_unref(w);
	if (rc == ZKC_OK)
		rc = timeout_ms == 0 ? zkc_error_set(ZKC_ETIMEDOUT, "double barrier %s: others "
		                                     "have not left yet", b->path)
		                     : wait_fired(w, b->zk, deadline, 0, b->path);
	else if (rc == ZKC_ENONODE)
		rc = ZKC_OK;   /* gone already: look again */
	zkcr_waker_unref(w);
	return rc;
}

int zkc_double_barrier_leave(zkc_double_barrier_t *b, int timeout_ms)
{
	int64_t deadline = zkcr_deadline(timeout_ms), prev;
	char *watch_path = NULL;
	int rc;

	if (!b)
		return zkc_error_set(ZKC_EBADARGUMENTS, "double barrier leave: barrier is NULL");
	if (!b->entered)
		return zkc_error_set(ZKC_EINVALIDSTATE, "double barrier %s: leave before enter",
		                     b->path);
	/* every request of the leave ends by its deadline (0: one look) */
	prev = zkcr_deadline_enter_timeout(timeout_ms);
	deadline = zkcr_deadline_earlier(deadline, zkc_deadline_bound());
	for (;;) {
		rc = leave_look(&watch_path, b, deadline);
		if (rc == AGAIN)
			continue;
		if (rc != ZKC_OK || !watch_path)
			break;
		rc = leave_wait(b, watch_path, timeout_ms, deadline);
		free(watch_path);
		watch_path = NULL;
		if (rc != ZKC_OK)
			break;
	}
	drop_own(b);   /* a participant that gave up is never waited for */
	if (rc == ZKC_OK)
		b->entered = 0;
	zkc_deadline_bind(prev);
	return rc;
}

void zkc_double_barrier_close(zkc_double_barrier_t *b)
{
	if (!b)
		return;
	/* A destructor cannot fail: the node goes in the background (and
	 * with the session at the latest). */
	if (b->own && b->sid && b->sid == session_of(b->zk))
		zkcr_lock_delete_bg(b->zk, b->own, b->sid);
	free(b->path);
	free(b->ready);
	free(b->own);
	free(b);
}
