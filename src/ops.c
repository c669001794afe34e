/* src/ops.c - the synchronous node operations: each is one or more
 * asynchronous libzookeeper requests, waited on with the call's deadline and
 * retried only where the outcome stays knowable (docs/design.md, rule 4). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"

/* ------------------------------------------------------------ requests */

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
	 * it (client.c, stall nudge): wake it if it sleeps past that check. */
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

static void req_finish(zkc__req_t *r, int rc);

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

/* ------------------------------------------------------------ one call */

void zkc__call_init(zkc__call_t *c, zkc_t *zk, const char *name, const char *path)
{
	memset(c, 0, sizeof(*c));
	c->zk = zk;
	c->name = name;
	c->path = path;
	pthread_mutex_lock(&zk->mu);
	c->retry = zk->retry;
	pthread_mutex_unlock(&zk->mu);
}

void zkc__call_done(zkc__call_t *c)
{
	if (c->req)
		zkc__req_unref(c->req);
	c->req = NULL;
}

/* Codes after which the request may or may not have been applied. */
static int outcome_lost(int rc)
{
	return rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT || rc == ZSESSIONEXPIRED ||
	       rc == ZCLOSING || rc == ZSESSIONMOVED;
}

/* Codes after which the request was certainly not applied and a retry is
 * sensible. */
static int not_applied_retryable(int rc)
{
	return rc == ZINVALIDSTATE || rc == ZTHROTTLEDOP;
}

#define ATTEMPT_TIMED_OUT 1   /* sent, no answer by the deadline */
#define ATTEMPT_CANCELED 2    /* sent, the bound cancel token fired first */

/* One attempt. Returns a libzookeeper code, ATTEMPT_TIMED_OUT, or a
 * negative zkc code from acquiring the handle (already recorded). */
static int attempt(zkc__call_t *c, int64_t deadline_ms)
{
	zkc_t *zk = c->zk;
	zhandle_t *zh;
	zkc__req_t *r;
	int rc, zrc;

	rc = zkc__zh_acquire(zk, deadline_ms, &zh, &c->gen, &c->sid);
	if (rc != ZKC_OK)
		return rc;
	if (!c->first_sid)
		c->first_sid = c->sid;
	r = zkc__req_new(zk);
	if (!r) {
		zkc__zh_release(zk);
		return zkc__error(ZKC_ENOMEM, "out of memory");
	}
	if (c->watch) {
		r->watch = zkc__watch_new(zk, c->gen, c->path, c->wfn, c->wpayload);
		r->watch_on_nonode = c->watch_on_nonode;
		if (!r->watch) {
			zkc__zh_release(zk);
			r->refs = 1;
			zkc__req_unref(r);
			return zkc__error(ZKC_ENOMEM, "out of memory");
		}
	}
	zkc__req_track(zk, r, c->gen);
	zrc = c->submit(zh, r, c);
	zkc__zh_release(zk);
	if (zrc != ZOK) {
		/* Not sent: the completion will never run. */
		zkc__req_untrack(r);
		zkc__watch_drop(r->watch);
		r->watch = NULL;
		r->refs = 1;
		zkc__req_unref(r);
		return zrc;
	}
	pthread_mutex_lock(&r->mu);
	while (!r->done) {
		struct timespec ts;
		int64_t left = deadline_ms - zkc__now_ms();

		if (left <= 0 || zkc_cancel_fired(zkc_cancel_bound()))
			break;
		zkc__deadline_ts(&ts, zkc_cancel_slice_ms(left));
		pthread_cond_timedwait(&r->cv, &r->mu, &ts);
	}
	if (!r->done) {
		int canceled = deadline_ms - zkc__now_ms() > 0;

		r->abandoned = 1;
		pthread_mutex_unlock(&r->mu);
		zkc__req_unref(r);
		return canceled ? ATTEMPT_CANCELED : ATTEMPT_TIMED_OUT;
	}
	pthread_mutex_unlock(&r->mu);
	zrc = r->rc;
	if (c->req)
		zkc__req_unref(c->req);
	/* The completion already dropped its reference. */
	c->req = r;
	return zrc;
}

int zkc__call_run(zkc__call_t *c)
{
	zkc__retry_run_t run;
	int64_t deadline;
	int rc;

	zkc__retry_begin(&run, &c->retry);
	deadline = run.start_ms + c->retry.deadline_ms;
	for (;;) {
		int64_t sleep_ms;

		run.attempt++;
		rc = zkc_cancel_check();
		if (rc == ZKC_OK)
			rc = attempt(c, deadline);
		if (rc == ZOK)
			return ZKC_OK;
		if (rc == ATTEMPT_CANCELED || rc == ZKC_ECANCELED) {
			if (rc == ATTEMPT_CANCELED)
				c->lost = 1;
			if (c->lost && c->write)
				return zkc__error(ZKC_EUNKNOWN, "%s %s: canceled while a reply was "
				                  "outstanding; the outcome is unknown", c->name, c->path);
			return zkc__error(ZKC_ECANCELED, "%s %s: canceled", c->name, c->path);
		}
		if (rc == ZKC_ECLOSED || rc == ZKC_ENOMEM || rc == ZKC_EDEADLK)
			return rc;
		if (rc == ZCLOSING && zkc_state(c->zk) == ZKC_STATE_CLOSED)
			return zkc__error(ZKC_ECLOSED, "%s %s: client closed", c->name, c->path);
		if (rc == ATTEMPT_TIMED_OUT || outcome_lost(rc)) {
			c->lost = 1;
		} else if (rc == ZKC_ETIMEDOUT) {
			/* no connection until the deadline: nothing more was sent */
		} else if (!not_applied_retryable(rc)) {
			return zkc__error_zk(rc, c->name, c->path);
		}
		if (c->lost && c->session_bound && c->first_sid && c->sid != c->first_sid)
			return zkc__error(ZKC_ELOST, "%s %s: the session ended before the outcome was "
			                  "known; nothing of it survives in the new session", c->name,
			                  c->path);
		if (rc == ZKC_ETIMEDOUT || zkc__retry_next(&run, &sleep_ms) != ZKC_OK) {
			if (c->lost && c->write)
				return zkc__error(ZKC_EUNKNOWN, "%s %s: connection lost and not regained "
				                  "within the retry budget; the outcome is unknown", c->name,
				                  c->path);
			if (rc == ZKC_ETIMEDOUT)
				return rc;
			return zkc__error(ZKC_ETIMEDOUT, "%s %s: gave up after %d attempts (last: %s)",
			                  c->name, c->path, run.attempt,
			                  rc == ATTEMPT_TIMED_OUT ? "no reply" : zerror(rc));
		}
		rc = zkc__sleep(c->zk, sleep_ms);
		if (rc == ZKC_ECANCELED && c->lost && c->write)
			return zkc__error(ZKC_EUNKNOWN, "%s %s: canceled after a lost reply; the "
			                  "outcome is unknown", c->name, c->path);
		if (rc != ZKC_OK)
			return rc;
		if (c->lost && c->after_loss) {
			rc = c->after_loss(c, deadline);
			if (rc != ZKC_EAGAIN)
				return rc;
		}
	}
}

/* ------------------------------------------------------------ checks */

int zkc__check_data(const void *data, size_t len, const char *path)
{
	if (len > 0 && !data)
		return zkc__error(ZKC_EBADARGUMENTS, "%s: data is NULL but length is %zu", path, len);
	if (len > ZKC_MAX_DATA_LEN)
		return zkc__error(ZKC_ETOOLARGE, "%s: %zu bytes of data is over the limit of %d "
		                  "(jute.maxbuffer)", path, len, ZKC_MAX_DATA_LEN);
	return ZKC_OK;
}

int zkc__mode_valid(int mode)
{
	return mode >= ZKC_PERSISTENT && mode <= ZKC_PERSISTENT_SEQUENTIAL_WITH_TTL;
}

int zkc__mode_sequential(int mode)
{
	return mode == ZKC_PERSISTENT_SEQUENTIAL || mode == ZKC_EPHEMERAL_SEQUENTIAL ||
	       mode == ZKC_PERSISTENT_SEQUENTIAL_WITH_TTL;
}

int zkc__mode_ephemeral(int mode)
{
	return mode == ZKC_EPHEMERAL || mode == ZKC_EPHEMERAL_SEQUENTIAL;
}

int zkc__acl_view(struct ACL_vector *out, struct ACL *storage, int storage_len, zkc_t *zk,
                  const zkc_acl_list_t *acl)
{
	int i;

	if (!acl) {
		*out = zk->acl;
		return ZKC_OK;
	}
	if (acl->count <= 0 || !acl->acls)
		return zkc__error(ZKC_EBADARGUMENTS, "ACL list is empty");
	if (acl->count > storage_len)
		return zkc__error(ZKC_EBADARGUMENTS, "ACL list has %d entries; at most %d", acl->count,
		                  storage_len);
	for (i = 0; i < acl->count; i++) {
		const zkc_acl_t *a = &acl->acls[i];

		if (!a->scheme || !a->id || (a->perms & ~ZKC_PERM_ALL) || a->perms == 0)
			return zkc__error(ZKC_EBADARGUMENTS, "ACL entry %d: scheme and id are required and "
			                  "perms must be non-zero within ZKC_PERM_ALL", i);
		storage[i].perms = a->perms;
		storage[i].id.scheme = (char *)a->scheme;
		storage[i].id.id = (char *)a->id;
	}
	out->count = acl->count;
	out->data = storage;
	return ZKC_OK;
}

/* Validates a path; for sequential creates ZooKeeper also accepts a
 * trailing '/' (the name is then only the sequence number). */
static int check_path(const char *path, int sequential)
{
	size_t n;

	if (!path)
		return zkc__error(ZKC_EBADARGUMENTS, "path is NULL");
	n = strlen(path);
	if (sequential && n > 1 && path[n - 1] == '/') {
		char *p = zkc__sprintf("%s0", path);
		int rc;

		if (!p)
			return zkc__error(ZKC_ENOMEM, "out of memory");
		rc = zkc_path_validate(p, (size_t)-1);
		free(p);
		return rc;
	}
	return zkc_path_validate(path, (size_t)-1);
}

/* ------------------------------------------------------------ get */

static int submit_get(zhandle_t *zh, zkc__req_t *r, zkc__call_t *c)
{
	return zoo_awget(zh, c->path, r->watch ? zkc__watch_trampoline : NULL, r->watch,
	                 zkc__complete_data, r);
}

static int do_get(char **out, size_t *out_len, zkc_stat_t *out_stat, zkc_t *zk, const char *path,
                  int watch, zkc_watch_fn fn, void *payload)
{
	zkc__call_t c;
	int rc;

	if (out)
		*out = NULL;
	if (out_len)
		*out_len = 0;
	rc = check_path(path, 0);
	if (rc != ZKC_OK)
		return rc;
	rc = zkc__call_enter(zk);
	if (rc != ZKC_OK)
		return rc;
	zkc__call_init(&c, zk, "get", path);
	c.submit = submit_get;
	c.watch = watch;
	c.wfn = fn;
	c.wpayload = payload;
	rc = zkc__call_run(&c);
	if (rc == ZKC_OK) {
		if (out_len)
			*out_len = (size_t)c.req->datalen;
		if (out) {
			*out = c.req->data;
			c.req->data = NULL;
		}
		if (out_stat)
			zkc__stat_from_zk(out_stat, &c.req->stat);
	}
	zkc__call_done(&c);
	zkc__call_leave(zk);
	return rc;
}

int zkc_get(char **out, size_t *out_len, zkc_stat_t *out_stat, zkc_t *zk, const char *path)
{
	return do_get(out, out_len, out_stat, zk, path, 0, NULL, NULL);
}

int zkc_get_w(char **out, size_t *out_len, zkc_stat_t *out_stat, zkc_t *zk, const char *path,
              zkc_watch_fn fn, void *payload)
{
	return do_get(out, out_len, out_stat, zk, path, 1, fn, payload);
}

/* ------------------------------------------------------------ exists */

static int submit_exists(zhandle_t *zh, zkc__req_t *r, zkc__call_t *c)
{
	return zoo_awexists(zh, c->path, r->watch ? zkc__watch_trampoline : NULL, r->watch,
	                    zkc__complete_stat, r);
}

static int do_exists(zkc_stat_t *out_stat, zkc_t *zk, const char *path, int watch,
                     zkc_watch_fn fn, void *payload)
{
	zkc__call_t c;
	int rc;

	rc = check_path(path, 0);
	if (rc != ZKC_OK)
		return rc;
	rc = zkc__call_enter(zk);
	if (rc != ZKC_OK)
		return rc;
	zkc__call_init(&c, zk, "exists", path);
	c.submit = submit_exists;
	c.watch = watch;
	c.watch_on_nonode = 1;
	c.wfn = fn;
	c.wpayload = payload;
	rc = zkc__call_run(&c);
	if (rc == ZKC_OK && out_stat)
		zkc__stat_from_zk(out_stat, &c.req->stat);
	zkc__call_done(&c);
	zkc__call_leave(zk);
	return rc;
}

int zkc_exists(zkc_stat_t *out_stat, zkc_t *zk, const char *path)
{
	return do_exists(out_stat, zk, path, 0, NULL, NULL);
}

int zkc_exists_w(zkc_stat_t *out_stat, zkc_t *zk, const char *path, zkc_watch_fn fn,
                 void *payload)
{
	return do_exists(out_stat, zk, path, 1, fn, payload);
}

/* ------------------------------------------------------------ children */

static int submit_children(zhandle_t *zh, zkc__req_t *r, zkc__call_t *c)
{
	return zoo_awget_children2(zh, c->path, r->watch ? zkc__watch_trampoline : NULL, r->watch,
	                           zkc__complete_strings_stat, r);
}

static int do_children(zkc_strings_t **out, zkc_stat_t *out_stat, zkc_t *zk, const char *path,
                       int watch, zkc_watch_fn fn, void *payload)
{
	zkc__call_t c;
	int rc;

	if (!out)
		return zkc__error(ZKC_EBADARGUMENTS, "children: out is NULL");
	*out = NULL;
	rc = check_path(path, 0);
	if (rc != ZKC_OK)
		return rc;
	rc = zkc__call_enter(zk);
	if (rc != ZKC_OK)
		return rc;
	zkc__call_init(&c, zk, "children", path);
	c.submit = submit_children;
	c.watch = watch;
	c.wfn = fn;
	c.wpayload = payload;
	rc = zkc__call_run(&c);
	if (rc == ZKC_OK) {
		*out = c.req->strings;
		c.req->strings = NULL;
		if (out_stat)
			zkc__stat_from_zk(out_stat, &c.req->stat);
	}
	zkc__call_done(&c);
	zkc__call_leave(zk);
	return rc;
}

int zkc_children(zkc_strings_t **out, zkc_stat_t *out_stat, zkc_t *zk, const char *path)
{
	return do_children(out, out_stat, zk, path, 0, NULL, NULL);
}

int zkc_children_w(zkc_strings_t **out, zkc_stat_t *out_stat, zkc_t *zk, const char *path,
                   zkc_watch_fn fn, void *payload)
{
	return do_children(out, out_stat, zk, path, 1, fn, payload);
}

/* ------------------------------------------------------------ set */

typedef struct set_arg {
	const void *data;
	size_t len;
	int32_t version;
} set_arg_t;

static int submit_set(zhandle_t *zh, zkc__req_t *r, zkc__call_t *c)
{
	set_arg_t *a = c->arg;

	return zoo_aset(zh, c->path, a->data, (int)a->len, a->version, zkc__complete_stat, r);
}

int zkc_set(zkc_stat_t *out_stat, zkc_t *zk, const char *path, const void *data, size_t len,
            int32_t version)
{
	zkc__call_t c;
	set_arg_t a = { data, len, version };
	int rc;

	rc = check_path(path, 0);
	if (rc == ZKC_OK)
		rc = zkc__check_data(data, len, path);
	if (rc == ZKC_OK && version < -1)
		rc = zkc__error(ZKC_EBADARGUMENTS, "set %s: version %d: use -1 or a node's version",
		                path, (int)version);
	if (rc != ZKC_OK)
		return rc;
	rc = zkc__call_enter(zk);
	if (rc != ZKC_OK)
		return rc;
	zkc__call_init(&c, zk, "set", path);
	c.submit = submit_set;
	c.arg = &a;
	c.write = 1;
	rc = zkc__call_run(&c);
	/* A versioned write that may have been applied by a lost attempt and
	 * now meets another version: ours, or someone else's? Unknown. */
	if (rc == ZKC_EBADVERSION && c.lost && version != -1)
		rc = zkc__error(ZKC_EUNKNOWN, "set %s: reply lost, then version %d no longer "
		                "matched: the write may or may not have been applied", path, (int)version);
	if (rc == ZKC_OK && out_stat)
		zkc__stat_from_zk(out_stat, &c.req->stat);
	zkc__call_done(&c);
	zkc__call_leave(zk);
	return rc;
}

/* ------------------------------------------------------------ delete */

static int submit_delete(zhandle_t *zh, zkc__req_t *r, zkc__call_t *c)
{
	return zoo_adelete(zh, c->path, *(int32_t *)c->arg, zkc__complete_void, r);
}

static int delete_one(zkc_t *zk, const char *path, int32_t version)
{
	zkc__call_t c;
	int rc;

	zkc__call_init(&c, zk, "delete", path);
	c.submit = submit_delete;
	c.arg = &version;
	c.write = 1;
	rc = zkc__call_run(&c);
	/* Gone is what was asked for, whoever removed it after our lost try. */
	if (rc == ZKC_ENONODE && c.lost)
		rc = ZKC_OK;
	zkc__call_done(&c);
	return rc;
}

/* Deletes path's subtree bottom-up. New children may appear meanwhile:
 * NOTEMPTY sends us round again, a bounded number of times. */
static int delete_tree(zkc_t *zk, const char *path, int32_t version, int depth)
{
	int rounds, rc = ZKC_OK;

	if (depth > 1000)
		return zkc__error(ZKC_EBADARGUMENTS, "delete %s: tree deeper than 1000 levels", path);
	for (rounds = 0; rounds < 10; rounds++) {
		zkc__call_t c;
		size_t i;

		zkc__call_init(&c, zk, "children", path);
		c.submit = submit_children;
		rc = zkc__call_run(&c);
		if (rc != ZKC_OK) {
			zkc__call_done(&c);
			return rc == ZKC_ENONODE && depth > 0 ? ZKC_OK : rc;
		}
		for (i = 0; rc == ZKC_OK && i < c.req->strings->count; i++) {
			char *child = zkc__path_join(path, c.req->strings->items[i]);

			if (!child) {
				rc = zkc__error(ZKC_ENOMEM, "out of memory");
				break;
			}
			rc = delete_tree(zk, child, -1, depth + 1);
			free(child);
		}
		zkc__call_done(&c);
		if (rc != ZKC_OK)
			return rc;
		rc = delete_one(zk, path, version);
		if (rc == ZKC_ENONODE && depth > 0)
			return ZKC_OK;
		if (rc != ZKC_ENOTEMPTY)
			return rc;
	}
	return rc;
}

/* ZooKeeper's own nodes, which its servers refuse to delete. Knowing them
 * lets a recursive delete refuse before it has removed anything under
 * them. A chroot puts the client's paths elsewhere. */
static int server_owned(const zkc_t *zk, const char *path)
{
	return !zk->chroot && (strcmp(path, "/zookeeper") == 0 ||
	                       strcmp(path, "/zookeeper/config") == 0 ||
	                       strcmp(path, "/zookeeper/quota") == 0);
}

int zkc_delete(zkc_t *zk, const char *path, int32_t version, int flags)
{
	int rc;

	rc = check_path(path, 0);
	if (rc != ZKC_OK)
		return rc;
	if (strcmp(path, "/") == 0)
		return zkc__error(ZKC_EBADARGUMENTS, "delete: the root node cannot be deleted");
	if (version < -1)
		return zkc__error(ZKC_EBADARGUMENTS, "delete %s: version %d: use -1 or a node's version",
		                  path, (int)version);
	if (flags & ~ZKC_DELETE_RECURSIVE)
		return zkc__error(ZKC_EBADARGUMENTS, "delete %s: unknown flags 0x%x", path, flags);
	if (zk && server_owned(zk, path))
		return zkc__error(ZKC_EBADARGUMENTS, "delete %s: ZooKeeper's own node, which the "
		                  "servers refuse to delete; nothing was deleted", path);
	rc = zkc__call_enter(zk);
	if (rc != ZKC_OK)
		return rc;
	if (flags & ZKC_DELETE_RECURSIVE)
		rc = delete_tree(zk, path, version, 0);
	else
		rc = delete_one(zk, path, version);
	zkc__call_leave(zk);
	return rc;
}

/* ------------------------------------------------------------ sync */

static int submit_sync(zhandle_t *zh, zkc__req_t *r, zkc__call_t *c)
{
	return zoo_async(zh, c->path, zkc__complete_string, r);
}

static int sync_path(zkc_t *zk, const char *path)
{
	zkc__call_t c;
	int rc;

	zkc__call_init(&c, zk, "sync", path);
	c.submit = submit_sync;
	rc = zkc__call_run(&c);
	zkc__call_done(&c);
	return rc;
}

int zkc_sync(zkc_t *zk, const char *path)
{
	int rc = check_path(path, 0);

	if (rc != ZKC_OK)
		return rc;
	rc = zkc__call_enter(zk);
	if (rc != ZKC_OK)
		return rc;
	rc = sync_path(zk, path);
	zkc__call_leave(zk);
	return rc;
}

/* ------------------------------------------------------------ create */

typedef struct create_arg {
	const char *path;         /* what is sent: with the protected prefix */
	const void *data;
	size_t len;
	int mode;
	int64_t ttl_ms;
	struct ACL_vector acl;
	char prefix[64];          /* protected: "_c_<guid>-" */
} create_arg_t;

static int submit_create(zhandle_t *zh, zkc__req_t *r, zkc__call_t *c)
{
	create_arg_t *a = c->arg;

	if (a->mode == ZKC_PERSISTENT_WITH_TTL || a->mode == ZKC_PERSISTENT_SEQUENTIAL_WITH_TTL)
		return zoo_acreate2_ttl(zh, a->path, a->data, (int)a->len, &a->acl, a->mode, a->ttl_ms,
		                        zkc__complete_string_stat, r);
	return zoo_acreate2(zh, a->path, a->data, (int)a->len, &a->acl, a->mode,
	                    zkc__complete_string_stat, r);
}

/* After a lost protected create: catch the server up, then look for a child
 * carrying our GUID. Found (and, if ephemeral, owned by this session): done.
 * Not found: send it again. */
static int protected_search(zkc__call_t *c, int64_t deadline_ms)
{
	create_arg_t *a = c->arg;
	char *parent = zkc__path_parent(a->path);
	zkc__call_t lc;
	int rc;
	size_t i;

	(void)deadline_ms;
	if (!parent)
		return zkc__error(ZKC_ENOMEM, "out of memory");
	rc = sync_path(c->zk, parent);
	if (rc != ZKC_OK) {
		free(parent);
		return c->write ? zkc__error(ZKC_EUNKNOWN, "create %s: reply lost and the search for "
		                             "it failed: %s", c->path, zkc_error_last()->message) : rc;
	}
	zkc__call_init(&lc, c->zk, "children", parent);
	lc.submit = submit_children;
	rc = zkc__call_run(&lc);
	if (rc == ZKC_ENONODE) {
		/* No parent: the create cannot have happened. */
		zkc__call_done(&lc);
		free(parent);
		return zkc__error(ZKC_EAGAIN, "create %s: its parent is gone, so the lost create "
		                  "did not happen", c->path);
	}
	if (rc != ZKC_OK) {
		zkc__call_done(&lc);
		free(parent);
		return zkc__error(ZKC_EUNKNOWN, "create %s: reply lost and the search for it failed",
		                  c->path);
	}
	for (i = 0; i < lc.req->strings->count; i++) {
		const char *name = lc.req->strings->items[i];
		char *found;
		zkc_stat_t st;

		if (strncmp(name, a->prefix, strlen(a->prefix)) != 0)
			continue;
		found = zkc__path_join(parent, name);
		if (!found) {
			rc = zkc__error(ZKC_ENOMEM, "out of memory");
			break;
		}
		rc = zkc_exists(&st, c->zk, found);
		if (rc == ZKC_OK && zkc__mode_ephemeral(a->mode) && st.ephemeral_owner != c->sid) {
			/* Made by a session that is gone: it is not ours to keep. */
			free(found);
			rc = zkc__error(ZKC_ELOST, "create %s: the node was made by an ended session",
			                c->path);
			break;
		}
		if (rc == ZKC_OK) {
			/* Hand the result back the way a completed attempt would. */
			zkc__req_t *r = zkc__req_new(c->zk);

			if (!r) {
				free(found);
				rc = zkc__error(ZKC_ENOMEM, "out of memory");
				break;
			}
			r->refs = 1;
			r->done = 1;
			r->path = found;
			r->stat.czxid = st.czxid;
			r->stat.mzxid = st.mzxid;
			r->stat.ctime = st.ctime;
			r->stat.mtime = st.mtime;
			r->stat.version = st.version;
			r->stat.cversion = st.cversion;
			r->stat.aversion = st.aversion;
			r->stat.ephemeralOwner = st.ephemeral_owner;
			r->stat.dataLength = st.data_length;
			r->stat.numChildren = st.num_children;
			r->stat.pzxid = st.pzxid;
			if (c->req)
				zkc__req_unref(c->req);
			c->req = r;
			break;
		}
		free(found);
		if (rc != ZKC_ENONODE)
			break;
		rc = ZKC_EAGAIN;   /* deleted since: look no further, create again */
	}
	if (i == lc.req->strings->count)
		rc = ZKC_EAGAIN;
	zkc__call_done(&lc);
	free(parent);
	return rc;
}

static int refuse_retry(zkc__call_t *c, int64_t deadline_ms)
{
	(void)deadline_ms;
	return zkc__error(ZKC_EUNKNOWN, "%s %s: reply lost; a sequential create without "
	                  "ZKC_CREATE_PROTECTED cannot be retried safely", c->name, c->path);
}

static void make_guid(char *out, size_t n)
{
	unsigned char b[16];
	size_t i;

	for (i = 0; i < sizeof(b); i++)
		b[i] = (unsigned char)(zkc__random01() * 256.0);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);  /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, n, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
	         b[13], b[14], b[15]);
}

/* Creates the missing ancestors of path (persistent, or containers). */
static int create_parents(zkc_t *zk, const char *path, int container)
{
	char *parent = zkc__path_parent(path);
	zkc_create_options_t o = ZKC_CREATE_OPTIONS_INIT;
	int rc;

	if (!parent)
		return zkc__error(ZKC_ENOMEM, "out of memory");
	if (strcmp(parent, "/") == 0) {
		free(parent);
		return ZKC_OK;
	}
	o.mode = container ? ZKC_CONTAINER : ZKC_PERSISTENT;
	o.flags = ZKC_CREATE_PARENTS;
	o.acl = NULL;
	rc = zkc_create(NULL, NULL, zk, parent, NULL, 0, &o);
	/* A node that exists, or one that our lost create made: both will do. */
	if (rc == ZKC_ENODEEXISTS || rc == ZKC_EUNKNOWN) {
		zkc_stat_t st;

		rc = zkc_exists(&st, zk, parent);
		if (rc == ZKC_ENONODE)
			rc = zkc__error(ZKC_ENONODE, "create %s: parent %s vanished while creating it", path,
			                parent);
	}
	free(parent);
	return rc;
}

int zkc_create(char **out_path, zkc_stat_t *out_stat, zkc_t *zk, const char *path,
               const void *data, size_t len, const zkc_create_options_t *opts)
{
	zkc_create_options_t def = ZKC_CREATE_OPTIONS_INIT;
	struct ACL acl_storage[64];
	create_arg_t a;
	zkc__call_t c;
	char guid[40];
	char *sent_path = NULL;
	int rc, parents_done = 0;

	if (out_path)
		*out_path = NULL;
	if (!opts)
		opts = &def;
	if ((rc = zkc_options_version_check("zkc_create", opts->version,
	                                    ZKC_CREATE_OPTIONS_VERSION)) != ZKC_OK)
		return rc;
	if (!zkc__mode_valid(opts->mode))
		return zkc__error(ZKC_EBADARGUMENTS, "create %s: unknown mode %d", path ? path : "",
		                  opts->mode);
	if (opts->flags & ~(ZKC_CREATE_PARENTS | ZKC_CREATE_PROTECTED))
		return zkc__error(ZKC_EBADARGUMENTS, "create: unknown flags 0x%x", opts->flags);
	rc = check_path(path, zkc__mode_sequential(opts->mode));
	if (rc != ZKC_OK)
		return rc;
	if (strcmp(path, "/") == 0)
		return zkc__error(ZKC_ENODEEXISTS, "create /: the root always exists");
	rc = zkc__check_data(data, len, path);
	if (rc != ZKC_OK)
		return rc;
	if ((opts->mode == ZKC_PERSISTENT_WITH_TTL || opts->mode == ZKC_PERSISTENT_SEQUENTIAL_WITH_TTL)
	    && (opts->ttl_ms <= 0 || opts->ttl_ms > 0xffffffffffLL))
		return zkc__error(ZKC_EBADARGUMENTS, "create %s: a TTL mode needs 0 < ttl_ms <= "
		                  "2^40-1 (got %lld)", path, (long long)opts->ttl_ms);
	if ((opts->flags & ZKC_CREATE_PROTECTED) && !zkc__mode_sequential(opts->mode) &&
	    !zkc__mode_ephemeral(opts->mode))
		return zkc__error(ZKC_EBADARGUMENTS, "create %s: ZKC_CREATE_PROTECTED needs a "
		                  "sequential or ephemeral mode", path);
	rc = zkc__call_enter(zk);
	if (rc != ZKC_OK)
		return rc;
	memset(&a, 0, sizeof(a));
	rc = zkc__acl_view(&a.acl, acl_storage, 64, zk, opts->acl);
	if (rc != ZKC_OK)
		goto out;
	a.path = path;
	a.data = data;
	a.len = len;
	a.mode = opts->mode;
	a.ttl_ms = opts->ttl_ms;
	if (opts->flags & ZKC_CREATE_PROTECTED) {
		char *parent = zkc__path_parent(path);
		const char *base = zkc__path_basename(path);

		make_guid(guid, sizeof(guid));
		snprintf(a.prefix, sizeof(a.prefix), "_c_%s-", guid);
		sent_path = parent ? zkc__sprintf("%s%s%s%s", parent, strcmp(parent, "/") ? "/" : "",
		                                  a.prefix, base) : NULL;
		free(parent);
		if (!sent_path) {
			rc = zkc__error(ZKC_ENOMEM, "out of memory");
			goto out;
		}
		a.path = sent_path;
	}
	for (;;) {
		zkc__call_init(&c, zk, "create", a.path);
		c.submit = submit_create;
		c.arg = &a;
		c.write = 1;
		c.session_bound = zkc__mode_ephemeral(a.mode);
		if (opts->flags & ZKC_CREATE_PROTECTED)
			c.after_loss = protected_search;
		else if (zkc__mode_sequential(a.mode))
			c.after_loss = refuse_retry;
		rc = zkc__call_run(&c);
		if (rc == ZKC_ENONODE && (opts->flags & ZKC_CREATE_PARENTS) && !parents_done) {
			zkc__call_done(&c);
			parents_done = 1;
			rc = create_parents(zk, a.path, a.mode == ZKC_CONTAINER);
			if (rc != ZKC_OK)
				goto out;
			continue;
		}
		break;
	}
	if (rc == ZKC_ENODEEXISTS && c.lost) {
		/* Did our lost attempt make it? Only an ephemeral node can say. */
		zkc_stat_t st;
		int erc = zkc_exists(&st, zk, a.path);

		if (erc == ZKC_OK && zkc__mode_ephemeral(a.mode) && st.ephemeral_owner == c.sid &&
		    c.sid == c.first_sid) {
			rc = ZKC_OK;
			if (out_stat)
				*out_stat = st;
			if (out_path && !(*out_path = strdup(a.path)))
				rc = zkc__error(ZKC_ENOMEM, "out of memory");
			zkc__call_done(&c);
			goto out;
		}
		rc = zkc__error(ZKC_EUNKNOWN, "create %s: reply lost, then the node existed: made "
		                "by this call or by another client, which cannot be told apart", path);
	}
	if (rc == ZKC_OK) {
		if (out_stat)
			zkc__stat_from_zk(out_stat, &c.req->stat);
		if (out_path) {
			*out_path = c.req->path;
			c.req->path = NULL;
			if (!*out_path && !(*out_path = strdup(a.path)))
				rc = zkc__error(ZKC_ENOMEM, "out of memory");
		}
	}
	zkc__call_done(&c);
out:
	free(sent_path);
	zkc__call_leave(zk);
	return rc;
}

int zkc_create_options_init(zkc_create_options_t *opts, unsigned int version)
{
	static const zkc_create_options_t init = ZKC_CREATE_OPTIONS_INIT;
	int rc;

	if (!opts)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_create_options_init: opts is NULL");
	rc = zkc_options_version_check("zkc_create_options_init", (int)version, ZKC_CREATE_OPTIONS_VERSION);
	if (rc != ZKC_OK)
		return rc;
	*opts = init;
	opts->version = (int)version;
	return ZKC_OK;
}
