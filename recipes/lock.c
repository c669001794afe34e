/* recipes/lock.c - the fair exclusive lock (and the engine of the read and
 * write halves of zkc_rwlock): ephemeral-sequential nodes in Curator's
 * layout, one pipelined round trip uncontended, a watch on the nearest
 * blocker only, fencing by the lock node's existence. Public API only. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "zkc/batch.h"
#include "zkc/cancel.h"
#include "zkc/lock.h"
#include "lock_internal.h"
#include "testing_break.h"
#include "support.h"

/* The handle is reference counted: watches and the state listener hold the
 * lock through callbacks that may run after zkc_lock_close. */
struct zkc_lock {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;
	int freed;

	zkc_t *zk;
	char *dir;
	const char *name;         /* "lock-", "__READ__", "__WRIT__" */
	int kind;
	int flags;
	zkc_acl_list_t *acl;      /* NULL: client's default */
	char *data;
	size_t data_len;
	zkc_lock_event_fn event_fn;
	void *event_payload;
	int listener_id;
	zkc_lock_t *sibling;

	/* own node */
	char *own;                /* full path; NULL: none */
	long long own_seq;
	int64_t own_session;
	int64_t token;
	int32_t own_version;

	int held, count, lost, suspended;
	int acquiring, canceled;
	unsigned gen;             /* bumped by every wake-up */
	long long deleted_seq;    /* last blocker reported deleted */
	int have_ev_thread;
	pthread_t ev_thread;

	/* sticky mode */
	int kept;                 /* node kept while not held */
	int contended;            /* another contender seen since the last listing */
	int dir_watch;            /* a children watch is pending */

	/* event queue */
	int efd;
	int q[64];
	unsigned qhead, qlen;
};

/* ------------------------------------------------------------ helpers */

int64_t zkcr_lock_session(zkc_t *zk)
{
	int64_t sid = 0;

	if (zkc_session(&sid, NULL, NULL, zk) != ZKC_OK)
		return 0;
	return sid;
}

long long zkcr_lock_seq(const char *name)
{
	size_t n = strlen(name), i;
	long long v = 0;

	if (n < 10)
		return -1;
	for (i = n - 10; i < n; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	return v;
}

void zkcr_lock_guid_prefix(char out[48])
{
	unsigned char g[16];
	size_t got = 0;

	while (got < sizeof(g)) {
		ssize_t r = getrandom(g + got, sizeof(g) - got, 0);

		if (r <= 0) {
			/* never expected; fall back to a weaker source */
			unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid() ^ (unsigned)(uintptr_t)out;

			for (; got < sizeof(g); got++)
				g[got] = (unsigned char)rand_r(&seed);
			break;
		}
		got += (size_t)r;
	}
	g[6] = (unsigned char)((g[6] & 0x0f) | 0x40);
	g[8] = (unsigned char)((g[8] & 0x3f) | 0x80);
	/* "_c_" 8-4-4-4-12 lowercase hex "-", written by hand: snprintf with
	 * 16 conversions was a sixth of a lock cycle's instructions */
	{
		static const char hex[] = "0123456789abcdef";
		char *o = out;
		int i;

		*o++ = '_';
		*o++ = 'c';
		*o++ = '_';
		for (i = 0; i < 16; i++) {
			if (i == 4 || i == 6 || i == 8 || i == 10)
				*o++ = '-';
			*o++ = hex[g[i] >> 4];
			*o++ = hex[g[i] & 15];
		}
		*o++ = '-';
		*o = '\0';
	}
}

static int transient(int rc)
{
	return rc == ZKC_ECONNECTIONLOSS || rc == ZKC_ETIMEDOUT || rc == ZKC_EOPERATIONTIMEOUT ||
	       rc == ZKC_EUNKNOWN;
}

typedef struct bg_delete {
	char *path;
	int64_t session;
} bg_delete_t;

static int bg_send(zkc_t *zk, bg_delete_t *d);

static void bg_done(zkc_t *zk, const zkc_batch_t *b, void *payload)
{
	bg_delete_t *d = payload;
	int rc = zkc_batch_code(b, 0);

	/* A lost reply leaves the outcome unknown: send it again while the
	 * node's session lives (after it the server removes the node). */
	if (transient(rc) && zkcr_lock_session(zk) == d->session && bg_send(zk, d) == ZKC_OK)
		return;
	free(d->path);
	free(d);
}

static int bg_send(zkc_t *zk, bg_delete_t *d)
{
	zkc_batch_t *b = NULL;
	int rc = zkc_batch_new(&b);

	if (rc != ZKC_OK)
		return rc;
	rc = zkc_batch_delete(b, d->path, -1);
	if (rc >= 0)
		rc = zkc_batch_run_async(zk, b, bg_done, d);
	if (rc != ZKC_OK)
		zkc_batch_free(b);
	return rc;
}

int zkcr_lock_delete_bg(zkc_t *zk, const char *path, int64_t session)
{
	bg_delete_t *d = calloc(1, sizeof(*d));
	int rc;

	if (!d || !(d->path = strdup(path))) {
		free(d);
		return zkc_error_set(ZKC_ENOMEM, "lock: out of memory queuing the delete of %s",
		                     path);
	}
	d->session = session;
	rc = bg_send(zk, d);
	if (rc != ZKC_OK) {
		free(d->path);
		free(d);
	}
	return rc;
}

/* A create whose outcome is unknown when its caller gives up: once the
 * requests before it are answered, the directory is listed and any node
 * with the create's GUID is deleted, so no contender stays behind on a
 * live session. A create can be applied later than that listing (a
 * request on a connection that dropped during a re-election was seen
 * applied after two later acquires), so each listing watches the
 * directory and the next change lists it again, until the node is found,
 * the session ends, or two session timeouts have passed. */
typedef struct bg_forget {
	char *dir;
	char *base;                    /* "_c_<guid>-<name>": the name's start */
	int64_t session;
	int64_t until;                 /* zkcr_now_ms: stop looking after it */
	int found;
} bg_forget_t;

static int forget_send(zkc_t *zk, bg_forget_t *f);

static void forget_free(bg_forget_t *f)
{
	free(f->dir);
	free(f->base);
	free(f);
}

/* Whether to look again (event thread): not found yet, same session, in
 * time. */
static int forget_again(zkc_t *zk, const bg_forget_t *f)
{
	return !f->found && zkcr_lock_session(zk) == f->session && zkcr_now_ms() < f->until;
}

/* The directory changed (or the watch ended): list it again, or stop. */
static void forget_watch(zkc_t *zk, const zkc_event_t *ev, void *payload)
{
	bg_forget_t *f = payload;

	if (ev->type != ZKC_EVENT_WATCH_CANCELLED && forget_again(zk, f) &&
	    forget_send(zk, f) == ZKC_OK)
		return;
	forget_free(f);
}

static void forget_done(zkc_t *zk, const zkc_batch_t *b, void *payload)
{
	bg_forget_t *f = payload;
	int rc = zkc_batch_code(b, 0);

	if (rc == ZKC_OK) {
		const zkc_strings_t *c = zkc_batch_children_of(b, 0);
		size_t i, n = strlen(f->base);

		for (i = 0; c && i < c->count; i++) {
			char *p = NULL;

			if (strncmp(c->items[i], f->base, n) != 0 ||
			    asprintf(&p, "%s/%s", f->dir, c->items[i]) < 0)
				continue;
			f->found = 1;   /* a create is applied once: done */
			zkcr_lock_delete_bg(zk, p, f->session);
			free(p);
		}
		return;         /* the listing's watch owns f now */
	}
	if (transient(rc) && zkcr_lock_session(zk) == f->session &&
	    forget_send(zk, f) == ZKC_OK)
		return;         /* not answered yet: list again while the session lives */
	forget_free(f);
}

static int forget_send(zkc_t *zk, bg_forget_t *f)
{
	zkc_batch_t *b = NULL;
	int rc = zkc_batch_new(&b);

	if (rc != ZKC_OK)
		return rc;
	rc = zkc_batch_children(b, f->dir, 1, forget_watch, f);
	if (rc >= 0)
		rc = zkc_batch_run_async(zk, b, forget_done, f);
	if (rc != ZKC_OK)
		zkc_batch_free(b);
	return rc;
}

int zkcr_lock_forget_bg(zkc_t *zk, const char *path, int64_t session)
{
	const char *slash = strrchr(path, '/');
	bg_forget_t *f = calloc(1, sizeof(*f));
	int timeout_ms = 0, rc;

	if (!f || !slash || !(f->dir = strndup(path, (size_t)(slash - path))) ||
	    !(f->base = strdup(slash + 1))) {
		if (f)
			forget_free(f);
		return zkc_error_set(ZKC_ENOMEM, "lock: out of memory queuing the cleanup of %s",
		                     path);
	}
	if (zkc_session(NULL, NULL, &timeout_ms, zk) != ZKC_OK || timeout_ms <= 0)
		timeout_ms = 30000;
	f->session = session;
	f->until = zkcr_now_ms() + 2 * (int64_t)timeout_ms;
	rc = forget_send(zk, f);
	if (rc != ZKC_OK)
		forget_free(f);
	return rc;
}

/* Blocking delete of the own node, retried while its session lives. */
static int delete_sync(zkc_t *zk, const char *path, int64_t session)
{
	int rc;

	for (;;) {
		rc = zkc_delete(zk, path, -1, 0);
		if (rc == ZKC_OK || rc == ZKC_ENONODE)
			return ZKC_OK;
		if (rc == ZKC_ECLOSED || zkcr_lock_session(zk) != session)
			return rc == ZKC_ECLOSED ? rc : ZKC_OK;
		if (!transient(rc))
			return rc;
	}
}

static void lk_ref(zkc_lock_t *lk)
{
	lk->refs++;
}

/* Called with lk->mu held; unlocks it, and frees lk on the last reference. */
static void lk_unref_unlock(zkc_lock_t *lk)
{
	int last = --lk->refs == 0;

	pthread_mutex_unlock(&lk->mu);
	if (!last)
		return;
	pthread_mutex_destroy(&lk->mu);
	pthread_cond_destroy(&lk->cv);
	if (lk->efd >= 0)
		close(lk->efd);
	zkcr_acl_free(lk->acl);
	free(lk->own);
	free(lk->data);
	free(lk->dir);
	free(lk);
}

static void note_ev_thread(zkc_lock_t *lk)
{
	lk->ev_thread = pthread_self();
	lk->have_ev_thread = 1;
}

/* Forgets the own node (mu held); the caller deletes it if it may live. */
static char *take_own(zkc_lock_t *lk)
{
	char *p = lk->own;

	lk->own = NULL;
	lk->own_seq = -1;
	lk->kept = 0;
	return p;
}

/* Queues or delivers an event; called with mu held, returns with it held. */
static void emit(zkc_lock_t *lk, int ev)
{
	if (lk->freed)
		return;
	if (lk->event_fn) {
		zkc_lock_event_fn fn = lk->event_fn;
		void *pl = lk->event_payload;

		pthread_mutex_unlock(&lk->mu);
		fn(lk, ev, pl);
		pthread_mutex_lock(&lk->mu);
		return;
	}
	if (lk->qlen < sizeof(lk->q) / sizeof(lk->q[0])) {
		uint64_t one = 1;

		lk->q[(lk->qhead + lk->qlen) % (sizeof(lk->q) / sizeof(lk->q[0]))] = ev;
		lk->qlen++;
		if (write(lk->efd, &one, sizeof(one)) < 0) {
			/* eventfd counter cannot overflow at 64 entries */
		}
		pthread_cond_broadcast(&lk->cv);
	}
}

/* ------------------------------------------------------------ callbacks */

static void on_state(zkc_t *zk, int state, int64_t session_id, void *payload)
{
	zkc_lock_t *lk = payload;
	char *gone = NULL;
	int64_t gone_session = 0;

	(void)zk;
	pthread_mutex_lock(&lk->mu);
	note_ev_thread(lk);
	switch (state) {
	case ZKC_STATE_SUSPENDED:
		lk->suspended = 1;
		if (lk->held && !lk->lost)
			emit(lk, ZKC_LOCK_EVENT_SUSPENDED);
		break;
	case ZKC_STATE_RECONNECTED:
		lk->suspended = 0;
		if (lk->held && !lk->lost && lk->own_session == session_id)
			emit(lk, ZKC_LOCK_EVENT_RECONNECTED);
		break;
	case ZKC_STATE_LOST:
	case ZKC_STATE_CLOSED:
		if (lk->own && (lk->own_session == session_id || state == ZKC_STATE_CLOSED)) {
			if (lk->held) {
				lk->lost = 1;
				emit(lk, ZKC_LOCK_EVENT_LOST);
			} else if (lk->kept) {
				/* nothing held: just forget the kept node */
				gone_session = lk->own_session;
				gone = take_own(lk);
			}
		}
		break;
	case ZKC_STATE_CONNECTED:
		lk->suspended = 0;
		break;
	default:
		break;
	}
	lk->gen++;
	pthread_cond_broadcast(&lk->cv);
	pthread_mutex_unlock(&lk->mu);
	/* The old session's node goes with it; nothing to send. */
	(void)gone_session;
	free(gone);
}

/* Watch on the nearest blocker. */
typedef struct blocker_watch {
	zkc_lock_t *lk;
	long long seq;
} blocker_watch_t;

static void on_blocker(zkc_t *zk, const zkc_event_t *ev, void *payload)
{
	blocker_watch_t *w = payload;
	zkc_lock_t *lk = w->lk;

	(void)zk;
	pthread_mutex_lock(&lk->mu);
	note_ev_thread(lk);
	if (ev->type == ZKC_EVENT_DELETED)
		lk->deleted_seq = w->seq;
	lk->gen++;
	pthread_cond_broadcast(&lk->cv);
	free(w);
	lk_unref_unlock(lk);
}

/* Sticky mode: a children watch on the lock directory says a contender
 * arrived. Safety never depends on it: contenders wait for our node. */
static void on_dir(zkc_t *zk, const zkc_event_t *ev, void *payload)
{
	zkc_lock_t *lk = payload;
	char *gone = NULL;
	int64_t sess = 0;

	pthread_mutex_lock(&lk->mu);
	note_ev_thread(lk);
	lk->dir_watch = 0;
	if (ev->type == ZKC_EVENT_CHILD && !lk->freed) {
		lk->contended = 1;
		if (lk->kept && !lk->held) {
			sess = lk->own_session;
			gone = take_own(lk);
		}
	}
	lk_unref_unlock(lk);
	if (gone) {
		zkcr_lock_delete_bg(zk, gone, sess);
		free(gone);
	}
}

/* ------------------------------------------------------------ lifecycle */

static const char *kind_name(int kind)
{
	switch (kind) {
	case ZKCR_LOCK_READ:
		return "__READ__";
	case ZKCR_LOCK_WRITE:
		return "__WRIT__";
	default:
		return "lock-";
	}
}

int zkcr_lock_new_kind(zkc_lock_t **out, zkc_t *zk, const char *path,
                       const zkc_lock_options_t *opts, int kind)
{
	zkc_lock_options_t def = ZKC_LOCK_OPTIONS_INIT;
	zkc_lock_t *lk;
	int rc;

	if (!out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "lock open: out is NULL");
	*out = NULL;
	if (!opts)
		opts = &def;
	if ((rc = zkc_options_version_check("zkc_lock_open", opts->version,
	                                    ZKC_LOCK_OPTIONS_VERSION)) != ZKC_OK)
		return zkc_error_set(rc, "lock %s: %s", path ? path : "(null)",
		                     zkc_error_last()->message);
	if (!zk || !path ||
	    (opts->flags & ~(ZKC_LOCK_REENTRANT | ZKC_LOCK_STICKY)) ||
	    (opts->data_len && !opts->data) || opts->data_len > ZKC_MAX_DATA_LEN)
		return zkc_error_set(ZKC_EBADARGUMENTS, "lock %s: %s", path ? path : "(null)",
		                     !zk || !path ? "client or path is NULL"
		                     : opts->version < 1 || opts->version > ZKC_LOCK_OPTIONS_VERSION
		                     ? "options version (use ZKC_LOCK_OPTIONS_INIT)"
		                     : (opts->flags & ~(ZKC_LOCK_REENTRANT | ZKC_LOCK_STICKY))
		                     ? "unknown flags" : opts->data_len > ZKC_MAX_DATA_LEN
		                     ? "data over the size limit" : "data is NULL");
	rc = zkc_path_validate(path, (size_t)-1);
	if (rc != ZKC_OK)
		return rc;
	if (strcmp(path, "/") == 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "lock /: the root cannot be a lock "
		                     "directory");
	lk = calloc(1, sizeof(*lk));
	if (!lk)
		return zkc_error_set(ZKC_ENOMEM, "lock %s: out of memory", path);
	lk->refs = 1;
	lk->zk = zk;
	lk->kind = kind;
	lk->name = kind_name(kind);
	lk->flags = opts->flags;
	lk->event_fn = opts->event_fn;
	lk->event_payload = opts->event_payload;
	lk->own_seq = -1;
	lk->deleted_seq = -1;
	lk->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	lk->dir = strdup(path);
	if (opts->data_len) {
		lk->data = malloc(opts->data_len);
		if (lk->data)
			memcpy(lk->data, opts->data, opts->data_len);
		lk->data_len = opts->data_len;
	}
	pthread_mutex_init(&lk->mu, NULL);
	rc = zkcr_cond_init(&lk->cv);
	if (rc == ZKC_OK)
		rc = zkcr_acl_copy(&lk->acl, opts->acl, path);    /* messages name the lock */
	if (rc == ZKC_OK && (!lk->dir || lk->efd < 0 || (opts->data_len && !lk->data)))
		rc = zkc_error_set(ZKC_ENOMEM, "lock %s: out of memory or descriptors", path);
	if (rc == ZKC_OK)
		rc = zkc_listener_add(&lk->listener_id, zk, on_state, lk);
	if (rc != ZKC_OK) {
		pthread_mutex_lock(&lk->mu);
		lk_unref_unlock(lk);
		return rc;
	}
	*out = lk;
	return ZKC_OK;
}

int zkc_lock_open(zkc_lock_t **out, zkc_t *zk, const char *path, const zkc_lock_options_t *opts)
{
	return zkcr_lock_new_kind(out, zk, path, opts, ZKCR_LOCK_MUTEX);
}

void zkcr_lock_set_sibling(zkc_lock_t *lock, zkc_lock_t *sibling)
{
	pthread_mutex_lock(&lock->mu);
	lock->sibling = sibling;
	pthread_mutex_unlock(&lock->mu);
}

const char *zkc_lock_path(const zkc_lock_t *lock)
{
	return lock ? lock->dir : NULL;
}

void zkc_lock_close(zkc_lock_t *lk)
{
	char *own;
	int64_t sess;

	if (!lk)
		return;
	zkc_lock_cancel(lk);
	/* wait for a running acquire to leave */
	pthread_mutex_lock(&lk->mu);
	while (lk->acquiring)
		pthread_cond_wait(&lk->cv, &lk->mu);
	lk->freed = 1;
	sess = lk->own_session;
	own = take_own(lk);
	lk->held = 0;
	pthread_mutex_unlock(&lk->mu);
	zkc_listener_remove(lk->zk, lk->listener_id);
	/* A destructor cannot fail: the delete goes out in the background
	 * (the session's order still puts it before later requests). */
	if (own && zkcr_lock_session(lk->zk) == sess)
		zkcr_lock_delete_bg(lk->zk, own, sess);
	free(own);
	pthread_mutex_lock(&lk->mu);
	lk_unref_unlock(lk);
}

/* ------------------------------------------------------------ acquire */

typedef struct child {
	const char *name;
	long long seq;
} child_t;

static int child_cmp(const void *a, const void *b)
{
	const child_t *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The nodes that block us, ascending, from a listing. Returns their count
 * (>= 0) into *blockers (names borrowed from `list`), or -1 when our own
 * node is not in the listing. */
static int blockers_of(child_t **out, zkc_lock_t *lk, const zkc_strings_t *list,
                       const char *own_name, const char *sibling_name, int *others)
{
	child_t *all;
	size_t i, n = 0;
	int k = 0, found = 0;

	*out = NULL;
	*others = 0;
	all = calloc(list->count + 1, sizeof(*all));
	if (!all)
		return -2;
	for (i = 0; i < list->count; i++) {
		long long s = zkcr_lock_seq(list->items[i]);

		if (s < 0)
			continue;  /* not a contender's node */
		all[n].name = list->items[i];
		all[n].seq = s;
		n++;
	}
	qsort(all, n, sizeof(*all), child_cmp);
	for (i = 0; i < n; i++) {
		if (strcmp(all[i].name, own_name) == 0) {
			found = 1;
			break;
		}
		if (sibling_name && strcmp(all[i].name, sibling_name) == 0)
			continue;
		if (lk->kind == ZKCR_LOCK_READ && !strstr(all[i].name, "__WRIT__"))
			continue;
		all[k++] = all[i];
	}
	*others = (int)n - 1;
	if (!found) {
		free(all);
		return -1;
	}
	*out = all;
	return k;
}

/* The path of a new contender node, dir/_c_<guid>-<name> (caller frees). */
static char *own_path_new(zkc_lock_t *lk)
{
	char prefix[48], *path = NULL;

	zkcr_lock_guid_prefix(prefix);
	if (asprintf(&path, "%s/%s%s", lk->dir, prefix, lk->name) < 0)
		return NULL;
	return path;
}

/* Records `path` (taken over; NULL when out of memory) as our node, made
 * on session `sess`. */
static void set_own(zkc_lock_t *lk, char *path, int64_t sess, const zkc_stat_t *st)
{
	pthread_mutex_lock(&lk->mu);
	free(lk->own);
	lk->own = path;
	lk->own_seq = path ? zkcr_lock_seq(path) : -1;
	lk->own_session = sess;
	lk->token = st->czxid;
	lk->own_version = st->version;
	pthread_mutex_unlock(&lk->mu);
}

/* Sends the create of our node and the directory listing in one batch; in
 * sticky mode the listing also watches the directory. On ZKC_OK *out is
 * the batch that ran (each op with its own code). */
static int send_create_and_list(zkc_batch_t **out, zkc_lock_t *lk, const char *path)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	zkc_batch_t *b = NULL;
	int rc, lrc, watch = 0;

	*out = NULL;
	if ((rc = zkc_batch_new(&b)) != ZKC_OK)
		return rc;
	co.mode = ZKC_EPHEMERAL_SEQUENTIAL;
	co.acl = lk->acl;
	rc = zkc_batch_create(b, path, lk->data, lk->data_len, &co);
	pthread_mutex_lock(&lk->mu);
	if ((lk->flags & ZKC_LOCK_STICKY) && !lk->dir_watch) {
		lk->dir_watch = watch = 1;
		lk_ref(lk);
	}
	pthread_mutex_unlock(&lk->mu);
	if (rc >= 0)
		rc = zkc_batch_children(b, lk->dir, watch, watch ? on_dir : NULL, watch ? lk : NULL);
	if (rc >= 0)
		rc = zkc_batch_run(lk->zk, b);
	lrc = rc == ZKC_OK ? zkc_batch_code(b, 1) : rc;
	if (watch && lrc != ZKC_OK) {
		/* the watch was not set: give its reference back */
		pthread_mutex_lock(&lk->mu);
		lk->dir_watch = 0;
		lk_unref_unlock(lk);
	}
	if (rc != ZKC_OK) {
		zkc_batch_free(b);
		return rc;
	}
	*out = b;
	return ZKC_OK;
}

/* A deep copy of a listing, or NULL when out of memory. */
static zkc_strings_t *strings_copy(const zkc_strings_t *c)
{
	zkc_strings_t *copy = calloc(1, sizeof(*copy));
	size_t i;

	if (!copy || !(copy->items = calloc(c->count + 1, sizeof(char *)))) {
		free(copy);
		return NULL;
	}
	copy->count = c->count;
	for (i = 0; i < c->count; i++)
		if (!(copy->items[i] = strdup(c->items[i]))) {
			zkc_strings_free(copy);
			return NULL;
		}
	return copy;
}

/* Our create succeeded: checks that the node is the session's and records
 * it, and the listing when that read succeeded too (else *list stays NULL
 * and the caller reads again). */
static int take_created(zkc_lock_t *lk, const zkc_batch_t *b, zkc_strings_t **list,
                        zkc_stat_t *dirst)
{
	int64_t sess = zkc_batch_session(b);
	zkc_stat_t st;
	char *own;

	zkc_batch_stat(&st, b, 0);
	if (st.ephemeral_owner != sess) {
		/* never expected: not ours to hold; let it go */
		zkcr_lock_delete_bg(lk->zk, zkc_batch_path(b, 0), st.ephemeral_owner);
		return zkc_error_set(ZKC_ERUNTIMEINCONSISTENCY, "lock %s: the node created for "
		                     "us belongs to session 0x%llx, not ours", lk->dir,
		                     (unsigned long long)st.ephemeral_owner);
	}
	own = strdup(zkc_batch_path(b, 0));
	set_own(lk, own, sess, &st);
	if (!own)
		return zkc_error_set(ZKC_ENOMEM, "lock %s: out of memory", lk->dir);
	if (zkc_batch_code(b, 1) == ZKC_OK &&
	    (*list = strings_copy(zkc_batch_children_of(b, 1))) != NULL)
		zkc_batch_stat(dirst, b, 1);
	return ZKC_OK;
}

/* The reply to our create was lost, so it may have happened: looks for our
 * GUID on the same session; a node of an older session is not ours
 * (docs/design.md, rule 3). ZKC_OK when found and recorded. */
static int find_lost_create(zkc_lock_t *lk, const char *path, int64_t sess)
{
	const char *base = strrchr(path, '/') + 1;
	zkc_strings_t *c = NULL;
	zkc_stat_t st;
	size_t i;

	if (zkc_children(&c, NULL, lk->zk, lk->dir) != ZKC_OK) {
		/* the create may still be on its way (the call's deadline came
		 * first): whatever it makes goes in the background */
		if (zkcr_lock_session(lk->zk) == sess)
			zkcr_lock_forget_bg(lk->zk, path, sess);
	} else if (zkcr_lock_session(lk->zk) == sess) {
		for (i = 0; i < c->count; i++) {
			char *found = NULL;

			if (strncmp(c->items[i], base, strlen(base)) != 0)
				continue;
			if (asprintf(&found, "%s/%s", lk->dir, c->items[i]) < 0)
				break;
			if (zkc_exists(&st, lk->zk, found) == ZKC_OK && st.ephemeral_owner == sess) {
				set_own(lk, found, sess, &st);
				zkc_strings_free(c);
				return ZKC_OK;
			}
			free(found);
		}
	}
	zkc_strings_free(c);
	/* not created (or created on a session that is gone): retry */
	return zkc_error_set(ZKC_ECONNECTIONLOSS, "lock %s: create of our node: reply "
	                     "lost, and the node was not found", lk->dir);
}

/* Internal, positive (codes are negative): the lock directory is missing. */
#define NEED_DIR 2

/* One try at creating our node and listing the directory. */
static int create_once(zkc_lock_t *lk, zkc_strings_t **list, zkc_stat_t *dirst)
{
	zkc_batch_t *b = NULL;
	char *path = own_path_new(lk);
	int rc, crc;

	if (!path)
		return zkc_error_set(ZKC_ENOMEM, "lock %s: out of memory", lk->dir);
	if ((rc = send_create_and_list(&b, lk, path)) != ZKC_OK) {
		free(path);
		return rc;
	}
	crc = zkc_batch_code(b, 0);
	if (crc == ZKC_OK)
		rc = take_created(lk, b, list, dirst);
	else if (crc == ZKC_ENONODE)
		rc = NEED_DIR;
	else if (crc == ZKC_ENOCHILDRENFOREPHEMERALS)
		rc = zkc_error_set(ZKC_EBADARGUMENTS, "lock %s: an ephemeral node, which cannot "
		                   "have children: not a lock directory", lk->dir);
	else if (transient(crc))
		rc = find_lost_create(lk, path, zkc_batch_session(b));
	else
		rc = crc;
	zkc_batch_free(b);
	free(path);
	return rc;
}

/* Creates the lock directory (a container) and its parents. */
static int make_dir(zkc_lock_t *lk)
{
	zkc_create_options_t dco = ZKC_CREATE_OPTIONS_INIT;
	int rc;

	dco.mode = ZKC_CONTAINER;
	dco.flags = ZKC_CREATE_PARENTS;
	rc = zkc_create(NULL, NULL, lk->zk, lk->dir, NULL, 0, &dco);
	if (rc == ZKC_ENOCHILDRENFOREPHEMERALS)
		return zkc_error_set(ZKC_EBADARGUMENTS, "lock %s: a parent is an ephemeral node, "
		                     "which cannot have children", lk->dir);
	return rc == ZKC_ENODEEXISTS ? ZKC_OK : rc;
}

/* Creates our node and lists the directory in one round trip (two more
 * the first time, to make the directory). On ZKC_OK our node is recorded
 * in lk and *list has the children (NULL if the read must be repeated). */
static int create_and_list(zkc_lock_t *lk, zkc_strings_t **list, zkc_stat_t *dirst)
{
	int rc;

	*list = NULL;
	rc = create_once(lk, list, dirst);
	if (rc != NEED_DIR)
		return rc;
	if ((rc = make_dir(lk)) != ZKC_OK)
		return rc;
	rc = create_once(lk, list, dirst);
	if (rc == NEED_DIR)
		rc = zkc_error_set(ZKC_ENONODE, "lock %s: the directory was deleted again as "
		                   "our node was created", lk->dir);
	return rc;
}

/* Drops our node after a failed acquire (background, retried while its
 * session lives). */
static void abandon_own(zkc_lock_t *lk)
{
	char *own;
	int64_t sess;

	pthread_mutex_lock(&lk->mu);
	sess = lk->own_session;
	own = take_own(lk);
	pthread_mutex_unlock(&lk->mu);
	if (own && zkcr_lock_session(lk->zk) == sess)
		zkcr_lock_delete_bg(lk->zk, own, sess);
	free(own);
}

static void fill_lease(zkc_lock_lease_t *out, zkc_lock_t *lk)
{
	if (!out)
		return;
	out->path = lk->own;
	out->session_id = lk->own_session;
	out->token = lk->token;
}

/* Waits for gen to move past `gen0`, cancel or the deadline (mu held).
 * Returns 0 on a wake-up, ZKC_ETIMEDOUT, ZKC_ECANCELED. */
static int wait_wake(zkc_lock_t *lk, unsigned gen0, int64_t deadline)
{
	int rc;

	while (lk->gen == gen0) {
		if (zkc_cancel_fired(zkc_cancel_bound()))
			lk->canceled = 1;  /* as zkc_lock_cancel: the node goes */
		if (lk->canceled)
			return zkc_error_set(ZKC_ECANCELED, "lock %s: acquire canceled", lk->dir);
		rc = zkcr_cond_wait_until(&lk->cv, &lk->mu, deadline);
		if (rc == ZKC_ETIMEDOUT)
			return zkc_error_set(rc, "lock %s: not acquired within the timeout", lk->dir);
		if (rc == ZKC_ECANCELED)
			lk->canceled = 1;
	}
	return lk->canceled ? zkc_error_set(ZKC_ECANCELED, "lock %s: acquire canceled", lk->dir)
	                    : 0;
}

/* Sleeps a little before retrying after an error, within the deadline. */
static int backoff(zkc_lock_t *lk, int attempt, int64_t deadline)
{
	int64_t until = zkcr_now_ms() + (attempt < 6 ? 10 << attempt : 500);
	int rc = 0;

	if (deadline >= 0 && until > deadline)
		until = deadline;
	pthread_mutex_lock(&lk->mu);
	for (;;) {
		unsigned g = lk->gen;

		rc = wait_wake(lk, g, until);
		if (rc == ZKC_ECANCELED)
			break;
		if (rc == ZKC_ETIMEDOUT) {
			rc = deadline >= 0 && zkcr_now_ms() >= deadline ? ZKC_ETIMEDOUT : 0;
			break;
		}
	}
	pthread_mutex_unlock(&lk->mu);
	return rc;
}

/* Internal, positive (codes are negative): arm the blocker watch again;
 * start the acquire round over. */
#define RE_ARM 1
#define RESTART 3

/* Failures an acquire returns at once instead of retrying. */
static int gives_up(int rc)
{
	return rc == ZKC_ECLOSED || rc == ZKC_EDEADLK || rc == ZKC_EBADARGUMENTS ||
	       rc == ZKC_ENOMEM || rc == ZKC_ENOAUTH || rc == ZKC_EINVALIDACL ||
	       rc == ZKC_ERUNTIMEINCONSISTENCY;
}

/* The start of a round: stops on a cancel or at the deadline, and forgets
 * a node that went with its session. *need_create: we have no node. */
static int round_start(zkc_lock_t *lk, int64_t deadline, int *need_create)
{
	int64_t cur = zkcr_lock_session(lk->zk);

	pthread_mutex_lock(&lk->mu);
	if (zkc_cancel_fired(zkc_cancel_bound()))
		lk->canceled = 1;
	if (lk->canceled) {
		pthread_mutex_unlock(&lk->mu);
		return zkc_error_set(ZKC_ECANCELED, "lock %s: acquire canceled", lk->dir);
	}
	if (lk->own && lk->own_session != cur)
		free(take_own(lk));  /* went with its session */
	*need_create = lk->own == NULL;
	pthread_mutex_unlock(&lk->mu);
	if (deadline >= 0 && zkcr_now_ms() >= deadline)
		return zkc_error_set(ZKC_ETIMEDOUT, "lock %s: not acquired within the timeout",
		                     lk->dir);
	return ZKC_OK;
}

/* Our node (created when need_create) and the directory's listing. */
static int list_contenders(zkc_strings_t **list, zkc_stat_t *dirst, zkc_lock_t *lk,
                           int need_create)
{
	int rc = need_create ? create_and_list(lk, list, dirst) : ZKC_OK;

	if (rc == ZKC_OK && !*list) {
		rc = zkc_children(list, dirst, lk->zk, lk->dir);
		if (rc == ZKC_ENONODE)      /* dir gone with our node: start over */
			rc = zkc_error_set(ZKC_ECONNECTIONLOSS, "lock %s: the directory went "
			                   "away with our node", lk->dir);
	}
	if (rc == ZKC_OK && dirst->data_length > 0) {
		zkc_strings_free(*list);
		*list = NULL;
		return zkc_error_set(ZKC_EBADARGUMENTS, "lock %s: the node holds data (%d bytes): "
		                     "not a lock directory", lk->dir, (int)dirst->data_length);
	}
	return rc;
}

/* The name of the sibling's node while the sibling holds it, or NULL. */
static char *held_sibling_node(zkc_lock_t *s)
{
	char *name = NULL;

	pthread_mutex_lock(&s->mu);
	if (s->held && !s->lost && s->own)
		name = strdup(strrchr(s->own, '/') + 1);
	pthread_mutex_unlock(&s->mu);
	return name;
}

/* The nodes ahead of ours in `list` (see blockers_of): *nb of them into
 * *bl. RESTART when our node is gone (its session ended). */
static int find_blockers(child_t **bl, int *nb, zkc_lock_t *lk, const zkc_strings_t *list)
{
	char *sib = NULL;
	int others = 0;

	pthread_mutex_lock(&lk->mu);
	if (lk->own && lk->sibling && lk->sibling != lk) {
		zkc_lock_t *s = lk->sibling;

		pthread_mutex_unlock(&lk->mu);
		sib = held_sibling_node(s);
		pthread_mutex_lock(&lk->mu);
	}
	if (!lk->own) {
		pthread_mutex_unlock(&lk->mu);
		free(sib);
		return RESTART;
	}
	*nb = blockers_of(bl, lk, list, strrchr(lk->own, '/') + 1, sib, &others);
	free(sib);
	if (*nb == -2) {
		pthread_mutex_unlock(&lk->mu);
		return zkc_error_set(ZKC_ENOMEM, "lock %s: out of memory", lk->dir);
	}
	if (*nb == -1) {
		free(take_own(lk));
		pthread_mutex_unlock(&lk->mu);
		return RESTART;
	}
	lk->contended = others > 0;
	pthread_mutex_unlock(&lk->mu);
	return ZKC_OK;
}

/* Sets a watch on the blocker `t`; *g0 is the wake-up generation before
 * it. ZKC_OK: watched; ZKC_ENONODE: already gone (getData's watch is set
 * only on a node that exists, so none is left behind); ZKC_ECONNECTIONLOSS:
 * list again; or ZKC_ECLOSED, ZKC_ENOMEM. */
static int watch_blocker(zkc_lock_t *lk, const child_t *t, unsigned *g0)
{
	blocker_watch_t *w = calloc(1, sizeof(*w));
	char *tpath = NULL;
	int erc;

	if (!w || asprintf(&tpath, "%s/%s", lk->dir, t->name) < 0) {
		free(w);
		return zkc_error_set(ZKC_ENOMEM, "lock %s: out of memory", lk->dir);
	}
	w->lk = lk;
	w->seq = t->seq;
	pthread_mutex_lock(&lk->mu);
	lk_ref(lk);
	*g0 = lk->gen;
	pthread_mutex_unlock(&lk->mu);
	erc = zkc_get_w(NULL, NULL, NULL, lk->zk, tpath, on_blocker, w);
	free(tpath);
	if (erc != ZKC_OK) {
		pthread_mutex_lock(&lk->mu);
		free(w);
		lk_unref_unlock(lk);
	}
	if (erc == ZKC_OK || erc == ZKC_ENONODE || erc == ZKC_ECLOSED)
		return erc;
	return ZKC_ECONNECTIONLOSS;  /* list again */
}

/* Waits for the first wake-up after g0. ZKC_OK: the watched blocker `seq`
 * was deleted; RE_ARM: a data or state change (the watch may be spent);
 * ZKC_ECONNECTIONLOSS: our node went with its session; or the deadline or
 * a cancel. */
static int wait_blocker(zkc_lock_t *lk, long long seq, unsigned g0, int64_t deadline)
{
	int64_t sess_now;
	int rc;

	pthread_mutex_lock(&lk->mu);
	rc = wait_wake(lk, g0, deadline);
	if (rc == 0 && lk->deleted_seq != seq) {
		pthread_mutex_unlock(&lk->mu);
		sess_now = zkcr_lock_session(lk->zk);
		pthread_mutex_lock(&lk->mu);
		rc = !lk->own || lk->own_session != sess_now ? ZKC_ECONNECTIONLOSS : RE_ARM;
	}
	pthread_mutex_unlock(&lk->mu);
	return rc;
}

/* Waits for the nearest of the nb blockers to go. When it was the only
 * one left we hold the lock (ZKC_OK): sequence numbers only grow, so
 * nothing can appear ahead of us. With more left: ZKC_ECONNECTIONLOSS,
 * list again (one round trip). */
static int wait_blockers(zkc_lock_t *lk, const child_t *bl, int nb, int timeout_ms,
                         int64_t deadline)
{
	const child_t *t = &bl[nb - 1];
	int rc;

	if (timeout_ms == 0)
		return zkc_error_set(ZKC_EAGAIN, "lock %s: held by another (%s)", lk->dir, t->name);
	do {
		unsigned g0 = 0;

		rc = watch_blocker(lk, t, &g0);
		if (rc == ZKC_OK)
			rc = wait_blocker(lk, t->seq, g0, deadline);
		else if (rc == ZKC_ENONODE)
			rc = ZKC_OK;
	} while (rc == RE_ARM);
	if (rc != ZKC_OK)
		return rc;
	return nb == 1 ? ZKC_OK : ZKC_ECONNECTIONLOSS;
}

/* No blocker is left: the lock is ours if our node lives on the client's
 * session; RESTART when the session changed under us. */
static int take_hold(zkc_lock_t *lk)
{
	pthread_mutex_lock(&lk->mu);
	if (!lk->own || lk->own_session != zkcr_lock_session(lk->zk)) {
		pthread_mutex_unlock(&lk->mu);
		return RESTART;
	}
	lk->held = 1;
	lk->count = 1;
	lk->lost = 0;
	lk->suspended = 0;
	lk->kept = 0;
	pthread_mutex_unlock(&lk->mu);
	return ZKC_OK;
}

/* Rounds of: our node and the listing, then a wait for the nearest
 * blocker, until we hold the lock, a failure or the deadline. */
static int acquire_loop(zkc_lock_t *lk, int timeout_ms)
{
	int64_t deadline = zkc_deadline_bound();   /* the call's (zkc_lock_acquire) */
	int attempt = 0, rc;

	for (;;) {
		zkc_strings_t *list = NULL;
		zkc_stat_t dirst;
		child_t *bl = NULL;
		int nb = 0, need_create = 0;

		memset(&dirst, 0, sizeof(dirst));
		if ((rc = round_start(lk, deadline, &need_create)) != ZKC_OK)
			return rc;
		rc = list_contenders(&list, &dirst, lk, need_create);
		if (rc != ZKC_OK) {
			if (timeout_ms == 0 && transient(rc) && deadline >= 0 &&
			    zkcr_now_ms() >= deadline)   /* what ended the try */
				return zkc_error_set(ZKC_ETIMEDOUT, "lock %s: try: no answer from "
				                     "the servers by its deadline", lk->dir);
			if (gives_up(rc) || timeout_ms == 0)
				return rc;  /* try-lock: one attempt */
			if ((rc = backoff(lk, attempt++, deadline)) != 0)
				return rc;
			continue;
		}
		rc = find_blockers(&bl, &nb, lk, list);
#ifdef ZKC_TESTING_BREAKS
		if (rc == ZKC_OK && zkcr_testing_break("lock-skip-watch"))
			nb = 0;   /* the defect: hold without waiting for the blockers */
#endif
		if (rc == ZKC_OK && nb > 0)
			rc = wait_blockers(lk, bl, nb, timeout_ms, deadline);
		free(bl);
		zkc_strings_free(list);
		if (rc == ZKC_OK)
			rc = take_hold(lk);
		if (rc != RESTART && rc != ZKC_ECONNECTIONLOSS)
			return rc;
	}
}

int zkc_lock_acquire(zkc_lock_lease_t *out, zkc_lock_t *lk, int timeout_ms)
{
	int64_t prev;
	int rc;

	if (!lk || timeout_ms < ZKC_LOCK_FOREVER)
		return zkc_error_set(ZKC_EBADARGUMENTS, "lock %s: acquire: %s", lk ? lk->dir : "(null)",
		                     lk ? "timeout_ms below ZKC_LOCK_FOREVER" : "lock is NULL");
	pthread_mutex_lock(&lk->mu);
	if (lk->freed) {
		pthread_mutex_unlock(&lk->mu);
		return zkc_error_set(ZKC_ECLOSED, "lock %s: closed", lk->dir);
	}
	if (lk->have_ev_thread && pthread_equal(lk->ev_thread, pthread_self())) {
		pthread_mutex_unlock(&lk->mu);
		return zkc_error_set(ZKC_EDEADLK, "lock %s: acquire from the client's event "
		                     "thread would wait on itself", lk->dir);
	}
	if (lk->acquiring) {
		pthread_mutex_unlock(&lk->mu);
		return zkc_error_set(ZKC_EINVALIDSTATE, "lock %s: another acquire of this handle "
		                     "is in progress", lk->dir);
	}
	if (lk->held) {
		if (!(lk->flags & ZKC_LOCK_REENTRANT) || lk->lost) {
			pthread_mutex_unlock(&lk->mu);
			return zkc_error_set(ZKC_EINVALIDSTATE, "lock %s: already held%s", lk->dir,
			                     lk->lost ? " and lost" : " (not reentrant)");
		}
		lk->count++;
		fill_lease(out, lk);
		pthread_mutex_unlock(&lk->mu);
		return ZKC_OK;
	}
	/* sticky: the kept node is still first in line (nothing can get
	 * ahead of it), so holding it again needs no round trip */
	if (lk->kept && lk->own && !lk->contended && !lk->lost) {
		int64_t sess = lk->own_session;

		pthread_mutex_unlock(&lk->mu);
		if (zkcr_lock_session(lk->zk) == sess && zkc_state(lk->zk) != ZKC_STATE_SUSPENDED) {
			pthread_mutex_lock(&lk->mu);
			if (lk->kept && lk->own && !lk->contended && lk->own_session == sess) {
				lk->kept = 0;
				lk->held = 1;
				lk->count = 1;
				lk->suspended = 0;
				fill_lease(out, lk);
				pthread_mutex_unlock(&lk->mu);
				return ZKC_OK;
			}
		} else {
			pthread_mutex_lock(&lk->mu);
		}
	}
	lk->kept = 0;
	lk->acquiring = 1;
	lk->canceled = 0;
	lk->lost = 0;
	pthread_mutex_unlock(&lk->mu);

	/* every request of the acquire ends by its deadline (try: one attempt,
	 * within ZKC_TRY_DEADLINE_MS unless a deadline is bound) */
	prev = zkcr_deadline_enter_timeout(timeout_ms);
	rc = acquire_loop(lk, timeout_ms);
	zkc_deadline_bind(prev);

	if (rc != ZKC_OK)
		abandon_own(lk);
	pthread_mutex_lock(&lk->mu);
	lk->acquiring = 0;
	lk->canceled = 0;
	if (rc == ZKC_OK)
		fill_lease(out, lk);
	pthread_cond_broadcast(&lk->cv);
	pthread_mutex_unlock(&lk->mu);
	return rc;
}

int zkc_lock_release(zkc_lock_t *lk, int flags)
{
	char *own;
	int64_t sess;
	int was_lost, rc = ZKC_OK;

	if (!lk || (flags & ~ZKC_LOCK_RELEASE_SYNC))
		return zkc_error_set(ZKC_EBADARGUMENTS, "lock release: %s", lk ? "unknown flags"
		                     : "lock is NULL");
	pthread_mutex_lock(&lk->mu);
	if (!lk->held) {
		pthread_mutex_unlock(&lk->mu);
		return zkc_error_set(ZKC_EINVALIDSTATE, "lock %s: release: not held", lk->dir);
	}
	if (--lk->count > 0) {
		pthread_mutex_unlock(&lk->mu);
		return ZKC_OK;
	}
	lk->held = 0;
	was_lost = lk->lost;
	lk->lost = 0;
	sess = lk->own_session;
	if ((lk->flags & ZKC_LOCK_STICKY) && !lk->contended && !was_lost && lk->own &&
	    !(flags & ZKC_LOCK_RELEASE_SYNC)) {
		lk->kept = 1;
		pthread_mutex_unlock(&lk->mu);
		if (zkcr_lock_session(lk->zk) == sess)
			return ZKC_OK;
		pthread_mutex_lock(&lk->mu);
		lk->kept = 0;
	}
	own = take_own(lk);
	pthread_mutex_unlock(&lk->mu);
	if (own && zkcr_lock_session(lk->zk) == sess) {
		if (flags & ZKC_LOCK_RELEASE_SYNC)
			rc = delete_sync(lk->zk, own, sess);
		else
			rc = zkcr_lock_delete_bg(lk->zk, own, sess);
	}
	free(own);
	if (was_lost)
		return zkc_error_set(ZKC_ELOST, "lock %s: released, but it had been lost (session "
		                     "ended) before", lk->dir);
	return rc == ZKC_ECLOSED ? ZKC_OK : rc;
}

int zkc_lock_cancel(zkc_lock_t *lk)
{
	if (!lk)
		return zkc_error_set(ZKC_EBADARGUMENTS, "lock cancel: lock is NULL");
	pthread_mutex_lock(&lk->mu);
	if (lk->acquiring) {
		lk->canceled = 1;
		pthread_cond_broadcast(&lk->cv);
	}
	pthread_mutex_unlock(&lk->mu);
	return ZKC_OK;
}

int zkc_lock_valid(zkc_lock_t *lk)
{
	int v;
	int64_t sess;

	if (!lk)
		return 0;
	pthread_mutex_lock(&lk->mu);
	v = lk->held && !lk->lost && !lk->suspended && lk->own;
	sess = lk->own_session;
	pthread_mutex_unlock(&lk->mu);
	if (v && (zkcr_lock_session(lk->zk) != sess || zkc_state(lk->zk) == ZKC_STATE_SUSPENDED))
		v = 0;
	return v;
}

int zkc_lock_lease(zkc_lock_lease_t *out, zkc_lock_t *lk)
{
	if (!lk || !out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "lock lease: %s is NULL", lk ? "out"
		                     : "lock");
	pthread_mutex_lock(&lk->mu);
	if (!lk->held) {
		pthread_mutex_unlock(&lk->mu);
		return zkc_error_set(ZKC_EINVALIDSTATE, "lock %s: lease: not held", lk->dir);
	}
	fill_lease(out, lk);
	pthread_mutex_unlock(&lk->mu);
	return ZKC_OK;
}

int zkc_lock_fence(zkc_multi_t **out, zkc_lock_t *lk)
{
	zkc_multi_t *m = NULL;
	int rc;

	if (!out || !lk)
		return zkc_error_set(ZKC_EBADARGUMENTS, "lock fence: %s is NULL", lk ? "out"
		                     : "lock");
	*out = NULL;
	pthread_mutex_lock(&lk->mu);
	if (!lk->held || !lk->own) {
		pthread_mutex_unlock(&lk->mu);
		return zkc_error_set(ZKC_EINVALIDSTATE, "lock %s: fence: not held", lk->dir);
	}
	if (lk->lost) {
		pthread_mutex_unlock(&lk->mu);
		return zkc_error_set(ZKC_ELOST, "lock %s: fence: the lock was lost (session ended)",
		                     lk->dir);
	}
	rc = zkc_multi_new(&m);
	if (rc == ZKC_OK)
		rc = zkc_multi_guard(m, lk->own, lk->own_version);
	pthread_mutex_unlock(&lk->mu);
	if (rc != ZKC_OK) {
		zkc_multi_free(m);
		return rc;
	}
	*out = m;
	return ZKC_OK;
}

int zkc_lock_events_fd(zkc_lock_t *lk)
{
	return lk ? lk->efd : -1;
}

int zkc_lock_events_next(int *out_event, zkc_lock_t *lk, int timeout_ms)
{
	int64_t deadline = zkcr_deadline(timeout_ms);
	int rc = ZKC_OK;

	if (!lk || !out_event)
		return zkc_error_set(ZKC_EBADARGUMENTS, "lock events_next: %s is NULL", lk
		                     ? "out_event" : "lock");
	pthread_mutex_lock(&lk->mu);
	while (lk->qlen == 0) {
		if (timeout_ms == 0 || lk->freed) {
			rc = zkc_error_set(ZKC_EAGAIN, "lock %s: no event queued", lk->dir);
			break;
		}
		/* emit() broadcasts without moving gen: wait on cv directly */
		if (zkcr_cond_wait_until(&lk->cv, &lk->mu, deadline) == ZKC_ETIMEDOUT) {
			rc = zkc_error_set(ZKC_EAGAIN, "lock %s: no event within %d ms", lk->dir,
			                   timeout_ms);
			break;
		}
	}
	if (rc == ZKC_OK) {
		uint64_t v;

		*out_event = lk->q[lk->qhead];
		lk->qhead = (lk->qhead + 1) % (sizeof(lk->q) / sizeof(lk->q[0]));
		lk->qlen--;
		if (lk->qlen == 0 && read(lk->efd, &v, sizeof(v)) < 0) {
			/* already drained */
		}
	}
	pthread_mutex_unlock(&lk->mu);
	return rc;
}

int zkc_lock_options_init(zkc_lock_options_t *opts, unsigned int version)
{
	static const zkc_lock_options_t init = ZKC_LOCK_OPTIONS_INIT;
	int rc;

	if (!opts)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_lock_options_init: opts is NULL");
	rc = zkc_options_version_check("zkc_lock_options_init", (int)version, ZKC_LOCK_OPTIONS_VERSION);
	if (rc != ZKC_OK)
		return rc;
	*opts = init;
	opts->version = (int)version;
	return ZKC_OK;
}
