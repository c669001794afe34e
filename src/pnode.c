/* src/pnode.c - a node that stays: an ephemeral node re-created after every
 * session loss and after deletion. Uses the public API plus the client's
 * record of its own past sessions. */
#include <stdlib.h>
#include <string.h>

#include "zkc/batch.h"
#include "request.h"

struct zkc_pnode {
	zkc_t *zk;
	char *path;                   /* as asked for */
	int mode;
	char *data;
	size_t len;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *actual;                 /* current node, NULL while it is missing */
	int64_t actual_sid;           /* session that made it */
	char *stale;                  /* node of an ended session of ours */
	int need;                     /* (re)create now */
	int data_dirty;               /* data changed while the node existed */
	int closing;
	int stopped;                  /* zkc_pnode_delete ran: nothing is kept */
	int refs;                     /* owner + outstanding watches */
	int listener_id;
	pthread_t thread;
};

static void pnode_unref_locked(zkc_pnode_t *n, int *freeit)
{
	*freeit = --n->refs == 0;
}

static void pnode_free(zkc_pnode_t *n)
{
	free(n->path);
	free(n->data);
	free(n->actual);
	free(n->stale);
	pthread_cond_destroy(&n->cv);
	pthread_mutex_destroy(&n->mu);
	free(n);
}

static void on_state(zkc_t *zk, int state, int64_t sid, void *payload)
{
	zkc_pnode_t *n = payload;

	(void)zk;
	(void)sid;
	pthread_mutex_lock(&n->mu);
	if (state == ZKC_STATE_LOST && n->actual) {
		/* The node goes with the session (now or at expiry on the server);
		 * remember it to remove it early if it is still there. */
		free(n->stale);
		n->stale = n->actual;
		n->actual = NULL;
	}
	if (state == ZKC_STATE_LOST || state == ZKC_STATE_CONNECTED || state == ZKC_STATE_RECONNECTED)
		n->need = 1;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
}

static void on_watch(zkc_t *zk, const zkc_event_t *ev, void *payload)
{
	zkc_pnode_t *n = payload;
	int freeit;

	(void)zk;
	pthread_mutex_lock(&n->mu);
	if (ev->type == ZKC_EVENT_DELETED || ev->type == ZKC_EVENT_WATCH_CANCELLED) {
		n->need = 1;
		pthread_cond_broadcast(&n->cv);
	}
	pnode_unref_locked(n, &freeit);
	pthread_mutex_unlock(&n->mu);
	if (freeit)
		pnode_free(n);
}

/* Watches the node so a deletion by someone else brings it back. */
static void watch_node(zkc_pnode_t *n, const char *path)
{
	zkc_stat_t st;
	int rc;

	pthread_mutex_lock(&n->mu);
	n->refs++;
	pthread_mutex_unlock(&n->mu);
	rc = zkc_exists_w(&st, n->zk, path, on_watch, n);
	if (rc != ZKC_OK && rc != ZKC_ENONODE) {
		/* No watch was set: give its reference back, and try again soon. */
		pthread_mutex_lock(&n->mu);
		n->refs--;
		n->need = 1;
		pthread_mutex_unlock(&n->mu);
	} else if (rc == ZKC_ENONODE) {
		pthread_mutex_lock(&n->mu);
		n->need = 1;
		pthread_mutex_unlock(&n->mu);
	}
}

/* Removes the node of an ended session if it is still there (it would go at
 * expiry anyway; a plain ephemeral path must be free to be made again). */
static void remove_stale(zkc_pnode_t *n, const char *stale)
{
	zkc_stat_t st;

	if (zkc_exists(&st, n->zk, stale) == ZKC_OK) {
		int64_t sid = 0;

		zkc_session(&sid, NULL, NULL, n->zk);
		if (st.ephemeral_owner != sid)
			zkc_delete(n->zk, stale, st.version, 0);
	}
}

/* One attempt to make the node exist in the current session. */
static int ensure(zkc_pnode_t *n)
{
	zkc_create_options_t o = ZKC_CREATE_OPTIONS_INIT;
	char *stale, *actual, *data = NULL, *created = NULL;
	int64_t sid = 0, actual_sid;
	zkc_stat_t st;
	size_t len;
	int rc, dirty;

	pthread_mutex_lock(&n->mu);
	stale = n->stale;
	n->stale = NULL;
	actual = n->actual ? strdup(n->actual) : NULL;
	actual_sid = n->actual_sid;
	dirty = n->data_dirty;
	n->data_dirty = 0;
	len = n->len;
	data = malloc(len ? len : 1);
	if (data && len)
		memcpy(data, n->data, len);
	pthread_mutex_unlock(&n->mu);
	if (!data) {
		free(stale);
		free(actual);
		return zkc__error(ZKC_ENOMEM, "pnode %s: out of memory", n->path);
	}
	if (stale) {
		remove_stale(n, stale);
		free(stale);
	}
	rc = zkc_session(&sid, NULL, NULL, n->zk);
	if (rc == ZKC_OK && actual && actual_sid == sid) {
		/* Still ours? Then only the data may need writing. */
		rc = zkc_exists(&st, n->zk, actual);
		if (rc == ZKC_OK && st.ephemeral_owner == sid) {
			if (dirty)
				rc = zkc_set(NULL, n->zk, actual, data, len, -1);
			if (rc == ZKC_OK)
				watch_node(n, actual);
			free(actual);
			free(data);
			return rc;
		}
	}
	free(actual);
	o.mode = n->mode;
	o.flags = ZKC_CREATE_PARENTS;
	if (n->mode == ZKC_EPHEMERAL_SEQUENTIAL)
		o.flags |= ZKC_CREATE_PROTECTED;
	rc = zkc_create(&created, &st, n->zk, n->path, data, len, &o);
	if (rc == ZKC_ENODEEXISTS && n->mode == ZKC_EPHEMERAL) {
		/* Left by a session of ours that ended: remove it and go again.
		 * Another client's node is not ours to take: wait for it to go. */
		zkc_stat_t other;

		if (zkc_exists(&other, n->zk, n->path) == ZKC_OK &&
		    zkc__was_own_session(n->zk, other.ephemeral_owner))
			zkc_delete(n->zk, n->path, other.version, 0);
		else
			watch_node(n, n->path);
		rc = zkc__error(ZKC_EAGAIN, "pnode %s: held by another session: waiting for it to go",
		                n->path);
	}
	free(data);
	if (rc != ZKC_OK)
		return rc;
	pthread_mutex_lock(&n->mu);
	free(n->actual);
	n->actual = created;
	n->actual_sid = st.ephemeral_owner;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
	watch_node(n, created);
	return ZKC_OK;
}

static void *pnode_main(void *arg)
{
	zkc_pnode_t *n = arg;
	int64_t backoff = 50;

	pthread_mutex_lock(&n->mu);
	while (!n->closing) {
		struct timespec ts;
		int rc;

		if (!n->need) {
			pthread_cond_wait(&n->cv, &n->mu);
			continue;
		}
		n->need = 0;
		pthread_mutex_unlock(&n->mu);
		rc = ensure(n);
		pthread_mutex_lock(&n->mu);
		if (rc == ZKC_OK) {
			backoff = 50;
			continue;
		}
		if (rc == ZKC_ECLOSED)
			break;
		/* Failed: try again after a pause unless told to go earlier. */
		n->need = 1;
		zkc__deadline_ts(&ts, backoff);
		backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
		pthread_cond_timedwait(&n->cv, &n->mu, &ts);
	}
	pthread_mutex_unlock(&n->mu);
	return NULL;
}

int zkc_pnode_open(zkc_pnode_t **out, zkc_t *zk, const char *path, const void *data, size_t len,
                   int mode)
{
	zkc_pnode_t *n;
	int rc;

	if (!out)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_pnode_open: out is NULL");
	*out = NULL;
	if (!zk)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_pnode_open: client is NULL");
	if (mode != ZKC_EPHEMERAL && mode != ZKC_EPHEMERAL_SEQUENTIAL)
		return zkc__error(ZKC_EBADARGUMENTS, "pnode %s: mode must be ZKC_EPHEMERAL or "
		                  "ZKC_EPHEMERAL_SEQUENTIAL", path ? path : "(null)");
	rc = path ? zkc_path_validate(path, (size_t)-1)
	          : zkc__error(ZKC_EBADARGUMENTS, "zkc_pnode_open: path is NULL");
	if (rc != ZKC_OK)
		return rc;
	if (len > ZKC_MAX_DATA_LEN || (len && !data))
		return zkc__error(len ? ZKC_ETOOLARGE : ZKC_EBADARGUMENTS, "zkc_pnode_open %s: bad "
		                  "data (%zu bytes)", path, len);
	n = calloc(1, sizeof(*n));
	if (!n)
		return zkc__error(ZKC_ENOMEM, "pnode %s: out of memory", path);
	pthread_mutex_init(&n->mu, NULL);
	zkc__cond_init(&n->cv);
	n->zk = zk;
	n->mode = mode;
	n->refs = 1;
	n->need = 1;
	n->path = strdup(path);
	n->data = malloc(len ? len : 1);
	n->len = len;
	if (!n->path || !n->data) {
		pnode_free(n);
		return zkc__error(ZKC_ENOMEM, "out of memory");
	}
	if (len)
		memcpy(n->data, data, len);
	rc = zkc_listener_add(&n->listener_id, zk, on_state, n);
	if (rc != ZKC_OK) {
		pnode_free(n);
		return rc;
	}
	if (pthread_create(&n->thread, NULL, pnode_main, n) != 0) {
		zkc_listener_remove(zk, n->listener_id);
		pnode_free(n);
		return zkc__error(ZKC_EOS, "cannot start the node's thread");
	}
	*out = n;
	{
		zkc_retry_t def = ZKC_RETRY_INIT;

		rc = zkc_pnode_wait(n, def.deadline_ms);
	}
	return rc;
}

int zkc_pnode_wait(zkc_pnode_t *n, int timeout_ms)
{
	/* a deadline bound to the thread (zkc/cancel.h) ends the wait too */
	int64_t deadline = zkc__deadline_cap(zkc__now_ms() + (timeout_ms < 0 ? 0 : timeout_ms));
	int rc = ZKC_OK;

	if (!n)
		return zkc__error(ZKC_EBADARGUMENTS, "node is NULL");
	pthread_mutex_lock(&n->mu);
	for (;;) {
		struct timespec ts;
		int64_t left, sid = 0;

		if (n->actual) {
			pthread_mutex_unlock(&n->mu);
			zkc_session(&sid, NULL, NULL, n->zk);
			pthread_mutex_lock(&n->mu);
			if (n->actual && n->actual_sid == sid)
				break;
		}
		left = deadline - zkc__now_ms();
		if (left <= 0) {
			rc = zkc__error(ZKC_ETIMEDOUT, "node %s does not exist in the current session yet",
			                n->path);
			break;
		}
		zkc__deadline_ts(&ts, left > 100 ? 100 : left);
		pthread_cond_timedwait(&n->cv, &n->mu, &ts);
	}
	pthread_mutex_unlock(&n->mu);
	return rc;
}

int zkc_pnode_path(char **out, zkc_pnode_t *n)
{
	int rc = ZKC_OK;

	if (!out || !n)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_pnode_path: NULL argument");
	pthread_mutex_lock(&n->mu);
	if (!n->actual)
		rc = zkc__error(ZKC_ENONODE, "node %s does not exist now", n->path);
	else if (!(*out = strdup(n->actual)))
		rc = zkc__error(ZKC_ENOMEM, "out of memory");
	pthread_mutex_unlock(&n->mu);
	return rc;
}

int zkc_pnode_set(zkc_pnode_t *n, const void *data, size_t len)
{
	char *copy;

	if (!n)
		return zkc__error(ZKC_EBADARGUMENTS, "node is NULL");
	if (len > ZKC_MAX_DATA_LEN || (len && !data))
		return zkc__error(len ? ZKC_ETOOLARGE : ZKC_EBADARGUMENTS, "zkc_pnode_set: bad data");
	copy = malloc(len ? len : 1);
	if (!copy)
		return zkc__error(ZKC_ENOMEM, "out of memory");
	if (len)
		memcpy(copy, data, len);
	pthread_mutex_lock(&n->mu);
	free(n->data);
	n->data = copy;
	n->len = len;
	n->data_dirty = 1;
	n->need = 1;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
	return ZKC_OK;
}

/* Stops re-creating the node; returns its path if the current session
 * owns it (the caller deletes it and frees the path), else NULL. */
static char *stop_keeping(zkc_pnode_t *n)
{
	char *actual;
	int64_t actual_sid, sid = 0;

	if (n->stopped)
		return NULL;
	n->stopped = 1;
	zkc_listener_remove(n->zk, n->listener_id);
	pthread_mutex_lock(&n->mu);
	n->closing = 1;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
	pthread_join(n->thread, NULL);
	pthread_mutex_lock(&n->mu);
	actual = n->actual;
	n->actual = NULL;
	actual_sid = n->actual_sid;
	pthread_mutex_unlock(&n->mu);
	if (actual && (zkc_session(&sid, NULL, NULL, n->zk) != ZKC_OK || sid != actual_sid)) {
		free(actual);   /* went with its session */
		actual = NULL;
	}
	return actual;
}

int zkc_pnode_delete(zkc_pnode_t *n)
{
	char *actual;
	int rc = ZKC_OK;

	if (!n)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_pnode_delete: node is NULL");
	actual = stop_keeping(n);
	if (actual) {
		rc = zkc_delete(n->zk, actual, -1, 0);
		if (rc == ZKC_ENONODE)
			rc = ZKC_OK;
		else if (rc != ZKC_OK)
			zkc__error(rc, "pnode %s: delete: %s", actual, zkc_strerror(rc));
	}
	free(actual);
	return rc;
}

void zkc_pnode_close(zkc_pnode_t *n)
{
	char *actual;
	int freeit;

	if (!n)
		return;
	actual = stop_keeping(n);
	if (actual) {
		/* A destructor cannot fail: the delete goes in the background
		 * (and the node with its session at the latest). */
		zkc_batch_t *b = NULL;

		if (zkc_batch_new(&b) == ZKC_OK &&
		    (zkc_batch_delete(b, actual, -1) < 0 ||
		     zkc_batch_run_async(n->zk, b, NULL, NULL) != ZKC_OK))
			zkc_batch_free(b);
		free(actual);
	}
	pthread_mutex_lock(&n->mu);
	pnode_unref_locked(n, &freeit);
	pthread_mutex_unlock(&n->mu);
	if (freeit)
		pnode_free(n);
}
