/* recipes/semaphore.c - the counting semaphore (Curator InterProcessSemaphoreV2
 * layout): a lock at PATH/locks admits one acquirer at a time, which adds
 * its lease node under PATH/leases and waits until at most N exist. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zkc/batch.h"
#include "zkc/cancel.h"
#include "zkc/semaphore.h"
#include "lock_internal.h"
#include "support.h"

struct zkc_semaphore {
	zkc_t *zk;
	char *leases;
	int max;
	char *data;
	size_t data_len;
	zkc_acl_list_t *acl;        /* of the lease nodes: deep copy; NULL = client's */
	zkc_lock_t *admit;
	zkcr_waker_t *w;          /* shared with the watches, which may outlive it */
};

struct zkc_semaphore_lease {
	zkc_semaphore_t *sem;
	char *path;
	int64_t session;
	int64_t token;
	int32_t version;
	int released;     /* zkc_semaphore_release ran: only the free is left */
};

int zkc_semaphore_open(zkc_semaphore_t **out, zkc_t *zk, const char *path, int max_leases,
                       const zkc_lock_options_t *opts)
{
	zkc_lock_options_t lo = ZKC_LOCK_OPTIONS_INIT;
	zkc_semaphore_t *s;
	char *locks;
	int rc;

	if (!out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "semaphore open: out is NULL");
	*out = NULL;
	if (!zk || !path || max_leases < 1)
		return zkc_error_set(ZKC_EBADARGUMENTS, "semaphore %s: %s", path ? path : "(null)",
		                     !zk || !path ? "client or path is NULL" : "max_leases < 1");
	if (opts && opts->flags)
		return zkc_error_set(ZKC_EBADARGUMENTS, "semaphore %s: options flags 0x%x: none "
		                     "apply to a semaphore", path, (unsigned)opts->flags);
	if (opts && zkc_options_version_check("zkc_semaphore_open", opts->version,
	                                           ZKC_LOCK_OPTIONS_VERSION) != ZKC_OK)
		return zkc_error_set(ZKC_EBADARGUMENTS, "semaphore %s: %s", path,
		                     zkc_error_last()->message);
	rc = zkc_path_validate(path, (size_t)-1);
	if (rc != ZKC_OK)
		return rc;
	if (strcmp(path, "/") == 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "semaphore /: the root cannot be a "
		                     "semaphore");
	if (opts) {
		lo.acl = opts->acl;
		lo.data = opts->data;
		lo.data_len = opts->data_len;
	}
	s = calloc(1, sizeof(*s));
	locks = malloc(strlen(path) + 8);
	if (s)
		s->leases = malloc(strlen(path) + 8);
	if (s)
		s->w = zkcr_waker_new(1);
	if (!s || !locks || !s->leases || !s->w) {
		free(locks);
		if (s) {
			free(s->leases);
			zkcr_waker_unref(s->w);
		}
		free(s);
		return zkc_error_set(ZKC_ENOMEM, "semaphore %s: out of memory", path);
	}
	sprintf(locks, "%s/locks", path);
	sprintf(s->leases, "%s/leases", path);
	s->zk = zk;
	s->max = max_leases;
	rc = zkc_lock_open(&s->admit, zk, locks, &lo);
	free(locks);
	if (rc == ZKC_OK)
		rc = zkcr_acl_copy(&s->acl, lo.acl, path);        /* messages name it */
	if (rc == ZKC_OK && lo.data_len) {
		s->data = malloc(lo.data_len);
		if (!s->data)
			rc = zkc_error_set(ZKC_ENOMEM, "semaphore %s: out of memory", path);
		else
			memcpy(s->data, lo.data, lo.data_len);
		s->data_len = lo.data_len;
	}
	if (rc != ZKC_OK) {
		zkc_lock_close(s->admit);
		zkcr_waker_unref(s->w);
		zkcr_acl_free(s->acl);
		free(s->leases);
		free(s->data);
		free(s);
		return rc;
	}
	*out = s;
	return ZKC_OK;
}

void zkc_semaphore_close(zkc_semaphore_t *s)
{
	if (!s)
		return;
	zkc_lock_close(s->admit);
	zkcr_waker_unref(s->w);
	zkcr_acl_free(s->acl);
	free(s->leases);
	free(s->data);
	free(s);
}

/* Records the lease node `path` (taken over; NULL when out of memory). */
static void set_lease(zkc_semaphore_lease_t *l, char *path, int64_t sess, const zkc_stat_t *st)
{
	l->path = path;
	l->session = sess;
	l->token = st->czxid;
	l->version = st->version;
}

/* Sends the create of lease node `path`. ZKC_OK when it was answered:
 * *crc is the create's code, and on ZKC_OK the lease is recorded in l. */
static int send_lease(int *crc, zkc_semaphore_lease_t *l, zkc_semaphore_t *s, const char *path)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	zkc_batch_t *b = NULL;
	zkc_stat_t st;
	int rc;

	co.mode = ZKC_EPHEMERAL_SEQUENTIAL;
	co.acl = s->acl;
	if ((rc = zkc_batch_new(&b)) != ZKC_OK)
		return rc;
	rc = zkc_batch_create(b, path, s->data, s->data_len, &co);
	if (rc >= 0)
		rc = zkc_batch_run(s->zk, b);
	if (rc == ZKC_OK && (*crc = zkc_batch_code(b, 0)) == ZKC_OK) {
		zkc_batch_stat(&st, b, 0);
		set_lease(l, strdup(zkc_batch_path(b, 0)), zkc_batch_session(b), &st);
		if (!l->path)
			rc = zkc_error_set(ZKC_ENOMEM, "semaphore %s: out of memory", s->leases);
	}
	zkc_batch_free(b);
	return rc;
}

/* After a lost reply to the create of `path`: finds the node by its GUID
 * on this session and records it. 1 when found. */
static int find_lost_lease(zkc_semaphore_lease_t *l, zkc_semaphore_t *s, const char *path)
{
	const char *base = strrchr(path, '/') + 1;
	int64_t sess = zkcr_lock_session(s->zk);
	zkc_strings_t *c = NULL;
	zkc_stat_t st;
	size_t i;

	if (zkc_children(&c, NULL, s->zk, s->leases) != ZKC_OK) {
		/* the create may still be on its way (the call's deadline came
		 * first): whatever it makes goes in the background */
		if (sess)
			zkcr_lock_forget_bg(s->zk, path, sess);
		return 0;
	}
	for (i = 0; i < c->count; i++) {
		char *p = NULL;

		if (strncmp(c->items[i], base, strlen(base)) != 0)
			continue;
		if (asprintf(&p, "%s/%s", s->leases, c->items[i]) < 0)
			break;
		if (zkc_exists(&st, s->zk, p) == ZKC_OK && st.ephemeral_owner == sess) {
			set_lease(l, p, sess, &st);
			zkc_strings_free(c);
			return 1;
		}
		free(p);
	}
	zkc_strings_free(c);
	return 0;
}

/* Creates the leases directory (a container) and its parents. */
static int make_leases_dir(zkc_semaphore_t *s)
{
	zkc_create_options_t dco = ZKC_CREATE_OPTIONS_INIT;
	int rc;

	dco.mode = ZKC_CONTAINER;
	dco.flags = ZKC_CREATE_PARENTS;
	rc = zkc_create(NULL, NULL, s->zk, s->leases, NULL, 0, &dco);
	return rc == ZKC_ENODEEXISTS ? ZKC_OK : rc;
}

/* Adds our lease node (a GUID in its name, so a create whose reply was
 * lost can be found again). */
static int create_lease(zkc_semaphore_lease_t *l, zkc_semaphore_t *s)
{
	char prefix[48], *path = malloc(strlen(s->leases) + 64);
	int rc, crc = ZKC_OK, made = 0;

	if (!path)
		return zkc_error_set(ZKC_ENOMEM, "semaphore %s: out of memory", s->leases);
	for (;;) {
		zkcr_lock_guid_prefix(prefix);
		sprintf(path, "%s/%slease-", s->leases, prefix);
		rc = send_lease(&crc, l, s, path);
		if (rc != ZKC_OK || crc == ZKC_OK)
			break;
		if (crc == ZKC_ENONODE && !made) {
			made = 1;
			if ((rc = make_leases_dir(s)) != ZKC_OK)
				break;
			continue;
		}
		if (crc != ZKC_ECONNECTIONLOSS && crc != ZKC_ETIMEDOUT) {
			rc = crc;
			break;
		}
		/* outcome unknown: find our GUID, else try again */
		if (find_lost_lease(l, s, path))
			break;
	}
	free(path);
	return rc;
}

/* Lists the leases, watching them. *ours: our lease is among the first
 * `max` (sequence order); *g0: the watch generation before the listing. */
static int lease_round(int *ours, unsigned *g0, zkc_semaphore_t *s, const zkc_semaphore_lease_t *l)
{
	const char *own = strrchr(l->path, '/') + 1;
	zkc_strings_t *c = NULL;
	size_t i, n = 0;
	int found = 0, rc;

	pthread_mutex_lock(&s->w->mu);
	s->w->refs++;
	*g0 = s->w->gen;
	pthread_mutex_unlock(&s->w->mu);
	rc = zkc_children_w(&c, NULL, s->zk, s->leases, zkcr_waker_fire, s->w);
	if (rc != ZKC_OK) {
		zkcr_waker_unref(s->w);
		return rc;
	}
	for (i = 0; i < c->count; i++) {
		if (zkcr_lock_seq(c->items[i]) < 0)
			continue;
		n++;
		if (strcmp(c->items[i], own) == 0)
			found = 1;
	}
	zkc_strings_free(c);
	if (!found || zkcr_lock_session(s->zk) != l->session)
		return zkc_error_set(ZKC_ELOST, "semaphore %s: our lease went with its session",
		                     s->leases);
	*ours = n <= (size_t)s->max;
	return ZKC_OK;
}

/* Waits for the leases watch to fire after generation g0. */
static int lease_wait(zkc_semaphore_t *s, unsigned g0, int64_t deadline, int timeout_ms)
{
	int rc = ZKC_OK;

	pthread_mutex_lock(&s->w->mu);
	while (s->w->gen == g0 && rc == ZKC_OK) {
		int w = zkcr_cond_wait_until(&s->w->cv, &s->w->mu, deadline);

		if (w == ZKC_ETIMEDOUT)
			rc = zkc_error_set(w, "semaphore %s: no lease within %d ms", s->leases,
			                   timeout_ms);
		else if (w == ZKC_ECANCELED)
			rc = zkc_error_set(w, "semaphore %s: acquire canceled by another thread",
			                   s->leases);
	}
	pthread_mutex_unlock(&s->w->mu);
	return rc;
}

/* Adds our lease and waits until it is among the first `max`. */
static int hold_lease(zkc_semaphore_lease_t *l, zkc_semaphore_t *s, int timeout_ms,
                      int64_t deadline)
{
	int rc = create_lease(l, s);

	while (rc == ZKC_OK) {
		unsigned g0 = 0;
		int ours = 0;

		if ((rc = lease_round(&ours, &g0, s, l)) != ZKC_OK || ours)
			break;
		if (timeout_ms == 0)
			return zkc_error_set(ZKC_EAGAIN, "semaphore %s: all %d leases are held",
			                     s->leases, s->max);
		rc = lease_wait(s, g0, deadline, timeout_ms);
	}
	return rc;
}

/* zkc_semaphore_acquire with its deadline bound: admission, then our
 * lease. On failure the lease node (if any) goes in the background. */
static int acquire_bound(zkc_semaphore_lease_t *l, zkc_semaphore_t *s, int timeout_ms)
{
	int rc, rrc;

	rc = zkc_lock_acquire(NULL, s->admit, timeout_ms);
	if (rc == ZKC_ETIMEDOUT)   /* named the admission lock, not the semaphore */
		return zkc_error_set(rc, "semaphore %s: not admitted within the timeout", s->leases);
	if (rc != ZKC_OK)
		return rc;
	rc = hold_lease(l, s, timeout_ms, zkc_deadline_bound());
	/* admission ends either way; later requests queue behind its delete */
	rrc = zkc_lock_release(s->admit, 0);
	if (rc == ZKC_OK && rrc == ZKC_ELOST)
		rc = zkc_error_set(ZKC_ELOST, "semaphore %s: admission was lost with the session, "
		                   "and the lease with it",
		                   s->leases);  /* admission was lost: so was the lease's session */
	if (rc != ZKC_OK) {
		if (l->path && zkcr_lock_session(s->zk) == l->session)
			zkcr_lock_delete_bg(s->zk, l->path, l->session);
		free(l->path);
		l->path = NULL;
	}
	if (rc == ZKC_ETIMEDOUT)   /* an inner request's words name no semaphore */
		rc = zkc_error_set(rc, "semaphore %s: no lease within the timeout", s->leases);
	return rc;
}

int zkc_semaphore_acquire(zkc_semaphore_lease_t **out, zkc_semaphore_t *s, int timeout_ms)
{
	zkc_semaphore_lease_t *l;
	int64_t prev;
	int rc;

	if (!out || !s || timeout_ms < ZKC_LOCK_FOREVER)
		return zkc_error_set(ZKC_EBADARGUMENTS, "semaphore acquire: %s", !out
		                     ? "out is NULL" : !s ? "semaphore is NULL"
		                     : "timeout_ms below ZKC_LOCK_FOREVER");
	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return zkc_error_set(ZKC_ENOMEM, "semaphore %s: out of memory", s->leases);
	l->sem = s;
	/* every request of the acquire ends by its deadline (try: one attempt,
	 * within ZKC_TRY_DEADLINE_MS unless a deadline is bound) */
	prev = zkcr_deadline_enter_timeout(timeout_ms);
	rc = acquire_bound(l, s, timeout_ms);
	zkc_deadline_bind(prev);
	if (rc != ZKC_OK) {
		free(l);
		return rc;
	}
	*out = l;
	return ZKC_OK;
}

int zkc_semaphore_release(zkc_semaphore_lease_t *l, int flags)
{
	int rc = ZKC_OK, lost;

	if (!l || (flags & ~ZKC_LOCK_RELEASE_SYNC))
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_semaphore_release: %s",
		                     l ? "unknown flags" : "lease is NULL");
	if (l->released)
		return zkc_error_set(ZKC_EINVALIDSTATE, "semaphore lease %s: released already",
		                     l->path);
	l->released = 1;
	lost = zkcr_lock_session(l->sem->zk) != l->session;
	if (!lost) {
		if (flags & ZKC_LOCK_RELEASE_SYNC) {
			rc = zkc_delete(l->sem->zk, l->path, -1, 0);
			if (rc == ZKC_ENONODE)
				rc = ZKC_OK;
		} else {
			rc = zkcr_lock_delete_bg(l->sem->zk, l->path, l->session);
		}
	}
	if (lost)
		return zkc_error_set(ZKC_ELOST, "semaphore lease %s: its session ended before "
		                     "the release", l->path);
	return rc;
}

void zkc_semaphore_lease_free(zkc_semaphore_lease_t *l)
{
	if (!l)
		return;
	/* Still held: give it up in the background, as a destructor must not
	 * fail (the session's end removes the node at the latest). */
	if (!l->released && zkcr_lock_session(l->sem->zk) == l->session)
		zkcr_lock_delete_bg(l->sem->zk, l->path, l->session);
	free(l->path);
	free(l);
}

int zkc_semaphore_lease_valid(const zkc_semaphore_lease_t *l)
{
	if (!l)
		return 0;
	return zkcr_lock_session(l->sem->zk) == l->session &&
	       zkc_state(l->sem->zk) != ZKC_STATE_SUSPENDED;
}

const char *zkc_semaphore_lease_path(const zkc_semaphore_lease_t *l)
{
	return l ? l->path : NULL;
}

int64_t zkc_semaphore_lease_token(const zkc_semaphore_lease_t *l)
{
	return l ? l->token : 0;
}

int zkc_semaphore_fence(zkc_multi_t **out, const zkc_semaphore_lease_t *l)
{
	zkc_multi_t *m = NULL;
	int rc;

	if (!out || !l)
		return zkc_error_set(ZKC_EBADARGUMENTS, "semaphore fence: %s is NULL", !out ? "out"
		                     : "lease");
	*out = NULL;
	if (zkcr_lock_session(l->sem->zk) != l->session)
		return zkc_error_set(ZKC_ELOST, "semaphore lease %s: its session ended: no fence",
		                     l->path);
	rc = zkc_multi_new(&m);
	if (rc == ZKC_OK)
		rc = zkc_multi_guard(m, l->path, l->version);
	if (rc != ZKC_OK) {
		zkc_multi_free(m);
		return rc;
	}
	*out = m;
	return ZKC_OK;
}
