/* src/request.c - what every request to ZooKeeper shares, below the
 * operations (ops.c, multi.c, acl_ops.c, batch.c) and the supervisor: the
 * blocking-call discipline (enter/leave, refusal on the completion thread
 * and on a closing client), the use of the current handle, and the
 * requests in flight with the completions that settle them.
 *
 * It calls only down (events.c for watches, the base modules); nothing
 * here knows of a particular operation. */
#include <stdlib.h>
#include <string.h>

#include "request.h"

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
	if (--zk->active_calls == 0 && zk->drain_waiters)
		pthread_cond_broadcast(&zk->cv);
	pthread_mutex_unlock(&zk->mu);
}

/* The handle is there, connected, not being given up and past the
 * history probe: requests may use it. */
static int usable_locked(const zkc_t *zk)
{
	return zk->zh && zk->raw_connected && !zk->hist_check && !zk->raw_expired &&
	       !zk->abandoning;
}

int zkc__wait_usable_locked(zkc_t *zk, int64_t deadline_ms)
{
	int rc;

	for (;;) {
		struct timespec ts;
		int64_t left;

		if (zk->closing)
			return zkc__error(ZKC_ECLOSED, "client is closing");
		if (usable_locked(zk))
			return ZKC_OK;
		left = deadline_ms < 0 ? 1000 : deadline_ms - zkc__now_ms();
		if (left <= 0)
			return ZKC_ETIMEDOUT;
		if ((rc = zkc_cancel_check()) != ZKC_OK)
			return rc;
		/* at least once a second, so nothing depends on one broadcast */
		zkc__deadline_ts(&ts, zkc_cancel_slice_ms(left > 1000 ? 1000 : left));
		pthread_cond_timedwait(&zk->cv, &zk->mu, &ts);
	}
}

int zkc__zh_acquire(zkc_t *zk, int64_t deadline_ms, zhandle_t **out_zh, uint64_t *out_gen,
                    int64_t *out_sid)
{
	int rc;

	pthread_mutex_lock(&zk->mu);
	rc = zkc__wait_usable_locked(zk, deadline_ms);
	if (rc == ZKC_OK) {
		zk->zh_users++;
		*out_zh = zk->zh;
		*out_gen = zk->gen;
		if (out_sid)
			*out_sid = zk->session_id;
	} else if (rc == ZKC_ETIMEDOUT) {
		rc = zkc__error(ZKC_ETIMEDOUT, "no connection to any server of [%s] within the "
		                "deadline (state %s)", zk->servers ? zk->servers : "",
		                zkc_state_name(zk->sm.state));
	}
	pthread_mutex_unlock(&zk->mu);
	return rc;
}

void zkc__zh_release(zkc_t *zk)
{
	pthread_mutex_lock(&zk->mu);
	if (--zk->zh_users == 0 && zk->drain_waiters)
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

zkc__req_t *zkc__req_new(zkc_t *zk)
{
	zkc__req_t *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	pthread_mutex_init(&r->mu, NULL);
	zkc__cond_init(&r->cv);
	r->refs = 2;
	r->zk = zk;
	return r;
}

static void req_free(zkc__req_t *r)
{
	int i;

	free(r->data);
	zkc_strings_free(r->strings);
	free(r->path);
	zkc_acl_list_free(r->acl);
	for (i = 0; r->pathbufs && i < r->nops; i++)
		free(r->pathbufs[i]);
	free(r->pathbufs);
	free(r->results);
	free(r->stats);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

void zkc__req_unref(zkc__req_t *r)
{
	int left;

	pthread_mutex_lock(&r->mu);
	left = --r->refs;
	pthread_mutex_unlock(&r->mu);
	if (left == 0)
		req_free(r);
}

void zkc__req_track(zkc_t *zk, zkc__req_t *r, uint64_t gen)
{
	int64_t now = zkc__now_ms();

	pthread_mutex_lock(&zk->mu);
	r->gen = gen;
	r->tracked = 1;
	r->sent_ms = now;
	r->iprev = NULL;
	r->inext = zk->inflight;
	if (zk->inflight)
		zk->inflight->iprev = r;
	else
		zk->inflight_tail = r;
	zk->inflight = r;
	/* The supervisor watches the oldest request for a server that sits on
	 * it (supervisor.c, stall nudge): wake it if it sleeps past that check. */
	if (!r->inext && zk->supervisor_wake_ms > now + ZKC__STALL_NUDGE_MS)
		pthread_cond_broadcast(&zk->cv);
	pthread_mutex_unlock(&zk->mu);
}

/* Caller holds zk->mu. */
static void untrack_locked(zkc__req_t *r)
{
	zkc_t *zk = r->zk;

	if (!r->tracked)
		return;
	if (r->iprev)
		r->iprev->inext = r->inext;
	else
		zk->inflight = r->inext;
	if (r->inext)
		r->inext->iprev = r->iprev;
	else
		zk->inflight_tail = r->iprev;
	r->iprev = r->inext = NULL;
	r->tracked = 0;
	if (zk->closing)
		pthread_cond_broadcast(&zk->cv);   /* close waits for the last one */
}

void zkc__req_untrack(zkc__req_t *r)
{
	pthread_mutex_lock(&r->zk->mu);
	untrack_locked(r);
	pthread_mutex_unlock(&r->zk->mu);
}

/* Common end of every completion: settle the watch, wake the caller. */
static void req_finish(zkc__req_t *r, int rc)
{
	int abandoned;

	/* libzookeeper completes the requests still in flight with
	 * ZRUNTIMEINCONSISTENCY when a reply does not match the oldest request
	 * sent: it happens after zoo_set_servers moved the session to another
	 * server with requests in flight (it closes the old socket without
	 * failing them). They were sent and may have been applied: a lost
	 * reply, to be settled as any other (decision 0002). */
	if (rc == ZRUNTIMEINCONSISTENCY) {
		zkc__log(&r->zk->log, ZKC_LOG_DEBUG, "a request in flight across a server move "
		         "(ZRUNTIMEINCONSISTENCY): treated as a lost reply");
		rc = ZCONNECTIONLOSS;
	}

	zkc__req_untrack(r);
	zkc__note_reply(r->zk);
	if (rc == ZOK && r->have_stat)
		zkc__note_zxid(r->zk, r->stat.czxid, r->stat.mzxid, r->stat.pzxid);
	if (rc == ZOK && r->stats) {
		int i;

		for (i = 0; i < r->nops; i++)
			zkc__note_zxid(r->zk, r->stats[i].czxid, r->stats[i].mzxid,
			               r->stats[i].pzxid);
	}
	pthread_mutex_lock(&r->mu);
	r->rc = rc;
	r->done = 1;
	abandoned = r->abandoned;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (r->on_done)
		r->on_done(r);
	if (r->watch) {
		int registered = rc == ZOK || (rc == ZNONODE && r->watch_on_nonode);

		if (registered) {
			/* A caller that gave up never learns of this watch. */
			if (abandoned)
				r->watch->silent = 1;
			zkc__watch_arm(r->watch);
		} else {
			zkc__watch_drop(r->watch);
		}
		r->watch = NULL;
	}
	zkc__req_unref(r);
}

void zkc__reqs_abandon(zkc_t *zk, uint64_t gen)
{
	zkc__req_t *lost = NULL, *r, *next;

	pthread_mutex_lock(&zk->mu);
	for (r = zk->inflight; r; r = next) {
		next = r->inext;
		if (r->gen == gen) {
			untrack_locked(r);
			r->inext = lost;
			lost = r;
		}
	}
	pthread_mutex_unlock(&zk->mu);
	for (r = lost; r; r = next) {
		next = r->inext;
		r->inext = NULL;
		zkc__log(&zk->log, ZKC_LOG_DEBUG, "a request got no completion from libzookeeper's "
		         "close: completing it as ZCLOSING");
		req_finish(r, ZCLOSING);
	}
}

void zkc__complete_data(int rc, const char *value, int value_len, const struct Stat *stat,
                        const void *data)
{
	zkc__req_t *r = (zkc__req_t *)data;

	if (rc == ZOK) {
		int n = value && value_len > 0 ? value_len : 0;

		r->data = malloc((size_t)n + 1);
		if (!r->data) {
			rc = ZSYSTEMERROR;
		} else {
			if (n)
				memcpy(r->data, value, (size_t)n);
			r->data[n] = '\0';
			r->datalen = n;
		}
		if (stat) {
			r->stat = *stat;
			r->have_stat = 1;
		}
	}
	req_finish(r, rc);
}

void zkc__complete_stat(int rc, const struct Stat *stat, const void *data)
{
	zkc__req_t *r = (zkc__req_t *)data;

	if (rc == ZOK && stat) {
		r->stat = *stat;
		r->have_stat = 1;
	}
	req_finish(r, rc);
}

void zkc__complete_void(int rc, const void *data)
{
	req_finish((zkc__req_t *)data, rc);
}

void zkc__complete_string(int rc, const char *value, const void *data)
{
	zkc__req_t *r = (zkc__req_t *)data;

	if (rc == ZOK && value && !(r->path = strdup(value)))
		rc = ZSYSTEMERROR;
	req_finish(r, rc);
}

void zkc__complete_string_stat(int rc, const char *value, const struct Stat *stat,
                               const void *data)
{
	zkc__req_t *r = (zkc__req_t *)data;

	if (rc == ZOK) {
		if (value && !(r->path = strdup(value)))
			rc = ZSYSTEMERROR;
		if (stat) {
			r->stat = *stat;
			r->have_stat = 1;
		}
	}
	req_finish(r, rc);
}

void zkc__complete_strings_stat(int rc, const struct String_vector *strings,
                                const struct Stat *stat, const void *data)
{
	zkc__req_t *r = (zkc__req_t *)data;

	if (rc == ZOK) {
		int n = strings ? strings->count : 0, i;

		/* items is never NULL, even for no children: callers may qsort it. */
		r->strings = calloc(1, sizeof(*r->strings));
		if (r->strings)
			r->strings->items = calloc(n > 0 ? (size_t)n : 1, sizeof(char *));
		if (!r->strings || !r->strings->items) {
			rc = ZSYSTEMERROR;
		} else {
			for (i = 0; i < n; i++) {
				r->strings->items[i] = strdup(strings->data[i]);
				if (!r->strings->items[i]) {
					rc = ZSYSTEMERROR;
					break;
				}
				r->strings->count++;
			}
		}
		if (stat) {
			r->stat = *stat;
			r->have_stat = 1;
		}
	}
	req_finish(r, rc);
}

/* One allocation holding the list, its entries and their strings, so the
 * caller frees it with a single call. */
static zkc_acl_list_t *acl_copy(const struct ACL_vector *v)
{
	size_t size = sizeof(zkc_acl_list_t), off;
	zkc_acl_list_t *list;
	zkc_acl_t *acls;
	char *strings;
	int i;

	for (i = 0; i < v->count; i++)
		size += sizeof(zkc_acl_t) + strlen(v->data[i].id.scheme) + 1 +
		        strlen(v->data[i].id.id) + 1;
	list = malloc(size);
	if (!list)
		return NULL;
	acls = (zkc_acl_t *)(list + 1);
	strings = (char *)(acls + v->count);
	off = 0;
	for (i = 0; i < v->count; i++) {
		size_t sl = strlen(v->data[i].id.scheme) + 1, il = strlen(v->data[i].id.id) + 1;

		acls[i].perms = v->data[i].perms;
		acls[i].scheme = memcpy(strings + off, v->data[i].id.scheme, sl);
		off += sl;
		acls[i].id = memcpy(strings + off, v->data[i].id.id, il);
		off += il;
	}
	list->count = v->count;
	list->acls = acls;
	return list;
}

void zkc__complete_acl(int rc, struct ACL_vector *acl, struct Stat *stat, const void *data)
{
	zkc__req_t *r = (zkc__req_t *)data;

	if (rc == ZOK && acl && !(r->acl = acl_copy(acl)))
		rc = ZSYSTEMERROR;
	if (rc == ZOK && stat) {
		r->stat = *stat;
		r->have_stat = 1;
	}
	zkc__complete_void(rc, data);
}
