/* src/call.c - one blocking call: attempts of an asynchronous request,
 * each waited on with the call's deadline and retried per the client's
 * policy, keeping track of whether an earlier attempt's outcome was lost
 * (docs/design.md, "Retry and outcomes"); and the argument checks the
 * operations share. Used by ops.c, multi.c and acl_ops.c; calls down into
 * request.c only. */
#include <stdlib.h>
#include <string.h>

#include "call.h"

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

/* The caller's deadline (zkc_deadline_bind) ended the call. A write sent
 * without a reply is unknown; the caller checked that first. */
static int past_deadline(zkc__call_t *c)
{
	if (c->lost && c->write)
		return zkc__error(ZKC_EUNKNOWN, "%s %s: no reply by the caller's deadline; the "
		                  "outcome is unknown", c->name, c->path);
	return zkc__error(ZKC_ETIMEDOUT, "%s %s: the caller's deadline passed%s", c->name,
	                  c->path, c->req || c->lost ? "" : " before it was sent");
}

int zkc__call_run(zkc__call_t *c)
{
	zkc__retry_run_t run;
	int64_t deadline;
	int rc, capped, give_up;

	zkc__retry_begin(&run, &c->retry);
	/* The caller's deadline, when one is bound, ends the retries too. */
	deadline = zkc__deadline_cap(run.start_ms + c->retry.deadline_ms);
	capped = deadline < run.start_ms + c->retry.deadline_ms;
	for (;;) {
		int64_t sleep_ms;

		run.attempt++;
		rc = zkc_cancel_check();
		if (rc == ZKC_OK && capped && zkc__now_ms() >= deadline)
			return past_deadline(c);
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
		give_up = rc == ZKC_ETIMEDOUT || zkc__retry_next(&run, &sleep_ms) != ZKC_OK;
		if (capped && zkc__now_ms() + sleep_ms >= deadline)
			return past_deadline(c);
		if (give_up) {
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
