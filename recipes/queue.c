/* recipes/queue.c - the distributed queue: kazoo LockingQueue's layout
 * (entries/entry-PPP-SEQ items, taken/<entry> ephemeral markers), entry
 * directories rolled over every bucket_size items, and a take that sends
 * its writes, its read and any child-list refresh in one pipelined batch.
 * Public API only. Layout: docs/recipes/queue.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "zkc/batch.h"
#include "zkc/cancel.h"
#include "zkc/multi.h"
#include "zkc/queue.h"
#include "support.h"

#define ENTRY_PREFIX "entry-"
#define BUCKET0 "entries"
#define TAKEN "taken"
#define REFRESH_MS 100
#define ACK_DEADLINE_MS 30000   /* an ack whose outcome is unclear is resent until then */

typedef struct names {
	char **v;
	size_t n;
} names_t;


/* Reference counted: watches hold the handle through callbacks that may
 * run after zkc_queue_close. */
struct zkc_queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_mutex_t take_mu;    /* one take at a time */
	int refs;
	int closed;
	zkc_t *zk;
	char *root;
	char *taken_dir;
	int bucket_size;
	zkc_acl_list_t *acl;        /* deep copy; NULL = client's */

	int tail;                   /* bucket of puts; -1 unknown */

	/* consumer cache, under mu */
	int head;                   /* bucket taken from; -1 unknown */
	names_t cand;               /* sorted entries of the head bucket */
	size_t pos;                 /* entries before pos are gone or ours */
	names_t taken;              /* sorted marker names */
	names_t buckets;            /* root's bucket names (sorted by index) */
	int stale_entries, stale_taken, stale_root;
	int64_t stale_since;        /* when stale_entries was last set */
	int armed_bucket;           /* bucket with a children watch; -1 none */
	int armed_taken, armed_root;
	unsigned gen;               /* bumped by every watch */
};

enum { W_ENTRIES, W_TAKEN, W_ROOT };

typedef struct watch_arg {
	zkc_queue_t *q;
	int kind;
	int bucket;
} watch_arg_t;

/* ------------------------------------------------------------ helpers */

static void names_clear(names_t *n)
{
	size_t i;

	for (i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	n->v = NULL;
	n->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replaces n with a sorted copy of list (only names starting with prefix
 * when prefix is not NULL). */
static int names_set(names_t *n, const zkc_strings_t *list, const char *prefix)
{
	names_t t = { NULL, 0 };
	size_t i;

	t.v = calloc(list->count + 1, sizeof(char *));
	if (!t.v)
		return zkc_error_set(ZKC_ENOMEM, "queue: out of memory");
	for (i = 0; i < list->count; i++) {
		if (prefix && strncmp(list->items[i], prefix, strlen(prefix)) != 0)
			continue;
		t.v[t.n] = strdup(list->items[i]);
		if (!t.v[t.n]) {
			names_clear(&t);
			return zkc_error_set(ZKC_ENOMEM, "queue: out of memory");
		}
		t.n++;
	}
	qsort(t.v, t.n, sizeof(char *), cmp_str);
	names_clear(n);
	*n = t;
	return ZKC_OK;
}

static int names_has(const names_t *n, const char *s)
{
	return n->n && bsearch(&s, n->v, n->n, sizeof(char *), cmp_str) != NULL;
}

static void names_add(names_t *n, const char *s)
{
	char **v;

	if (names_has(n, s))
		return;
	v = realloc(n->v, (n->n + 1) * sizeof(char *));
	if (!v)
		return;
	n->v = v;
	if (!(n->v[n->n] = strdup(s)))
		return;
	n->n++;
	qsort(n->v, n->n, sizeof(char *), cmp_str);
}

static void names_del(names_t *n, const char *s)
{
	size_t i;

	for (i = 0; i < n->n; i++)
		if (strcmp(n->v[i], s) == 0) {
			free(n->v[i]);
			memmove(&n->v[i], &n->v[i + 1], (n->n - i - 1) * sizeof(char *));
			n->n--;
			return;
		}
}

/* Bucket index of a root child: "entries" 0, "entries-NNNNNNNNNN" N; -1 if
 * it is not a bucket. */
static int bucket_index(const char *name)
{
	char *end;
	long v;

	if (strcmp(name, BUCKET0) == 0)
		return 0;
	if (strncmp(name, BUCKET0 "-", sizeof(BUCKET0)) != 0)
		return -1;
	errno = 0;
	v = strtol(name + sizeof(BUCKET0), &end, 10);
	if (*end || errno || v <= 0 || v > INT32_MAX)
		return -1;
	return (int)v;
}

static void bucket_name(char *out, size_t len, int b)
{
	if (b == 0)
		snprintf(out, len, "%s", BUCKET0);
	else
		snprintf(out, len, "%s-%010d", BUCKET0, b);
}

static char *join3(const char *a, const char *b, const char *c)
{
	char *s = NULL;

	if ((c ? asprintf(&s, "%s/%s/%s", a, b, c) : asprintf(&s, "%s/%s", a, b)) < 0)
		return NULL;
	return s;
}

static char *bucket_path(zkc_queue_t *q, int b)
{
	char bn[32];

	bucket_name(bn, sizeof(bn), b);
	return join3(q->root, bn, NULL);
}

/* Marker name of an entry in bucket b: the entry name itself in bucket 0
 * (kazoo's LockingQueue), "<bucket>.<entry>" in later buckets. */
static char *marker_name(int b, const char *entry)
{
	char bn[32], *s = NULL;

	if (b == 0)
		return strdup(entry);
	bucket_name(bn, sizeof(bn), b);
	if (asprintf(&s, "%s.%s", bn, entry) < 0)
		return NULL;
	return s;
}

static int64_t entry_seq(const char *path)
{
	const char *dash = strrchr(path, '-');

	return dash ? strtoll(dash + 1, NULL, 10) : -1;
}

static int entry_priority(const char *entry)
{
	if (strncmp(entry, ENTRY_PREFIX, sizeof(ENTRY_PREFIX) - 1) != 0)
		return -1;
	return atoi(entry + sizeof(ENTRY_PREFIX) - 1);
}

static void q_unref(zkc_queue_t *q)
{
	int last;

	pthread_mutex_lock(&q->mu);
	last = --q->refs == 0;
	pthread_mutex_unlock(&q->mu);
	if (!last)
		return;
	names_clear(&q->cand);
	names_clear(&q->taken);
	names_clear(&q->buckets);
	zkcr_acl_free(q->acl);
	free(q->root);
	free(q->taken_dir);
	pthread_mutex_destroy(&q->mu);
	pthread_mutex_destroy(&q->take_mu);
	pthread_cond_destroy(&q->cv);
	free(q);
}

/* ------------------------------------------------------------ watches */

static void on_watch(zkc_t *zk, const zkc_event_t *ev, void *payload)
{
	watch_arg_t *w = payload;
	zkc_queue_t *q = w->q;

	(void)zk;
	(void)ev;
	pthread_mutex_lock(&q->mu);
	switch (w->kind) {
	case W_ENTRIES:
		if (q->armed_bucket == w->bucket)
			q->armed_bucket = -1;
		if (q->head == w->bucket && !q->stale_entries) {
			q->stale_entries = 1;
			q->stale_since = zkcr_now_ms();
		}
		break;
	case W_TAKEN:
		q->armed_taken = 0;
		q->stale_taken = 1;
		break;
	default:
		q->armed_root = 0;
		q->stale_root = 1;
		break;
	}
	q->gen++;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	free(w);
	q_unref(q);
}

/* A watch argument holding a reference (called with mu held). */
static watch_arg_t *watch_arg(zkc_queue_t *q, int kind, int bucket)
{
	watch_arg_t *w = malloc(sizeof(*w));

	if (!w)
		return NULL;
	w->q = q;
	w->kind = kind;
	w->bucket = bucket;
	q->refs++;
	return w;
}

/* A watch whose op failed never fires: drop its reference. */
static void watch_unused(zkc_queue_t *q, watch_arg_t *w, int *armed_flag, int *armed_bucket)
{
	if (!w)
		return;
	pthread_mutex_lock(&q->mu);
	if (armed_flag)
		*armed_flag = 0;
	if (armed_bucket && *armed_bucket == w->bucket)
		*armed_bucket = -1;
	q->refs--;
	pthread_mutex_unlock(&q->mu);
	free(w);
}

/* ------------------------------------------------------------ open/close */

static int ensure(zkc_queue_t *q, const char *path, int parents)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	int rc;

	co.flags = parents ? ZKC_CREATE_PARENTS : 0;
	co.acl = q->acl;
	rc = zkc_create(NULL, NULL, q->zk, path, NULL, 0, &co);
	return rc == ZKC_ENODEEXISTS || rc == ZKC_EUNKNOWN ? ZKC_OK : rc;
}

int zkc_queue_open(zkc_queue_t **out, zkc_t *zk, const char *path, const zkc_queue_options_t *opts)
{
	zkc_queue_options_t o = ZKC_QUEUE_OPTIONS_INIT;
	zkc_queue_t *q;
	char *b0;
	int rc;

	if (!out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue open: out is NULL");
	*out = NULL;
	if (opts)
		o = *opts;
	if (!zk || !path || zkc_path_validate(path, (size_t)-1) != ZKC_OK || strcmp(path, "/") == 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue %s: %s", path ? path : "(null)",
		                     !zk || !path ? "client or path is NULL"
		                     : strcmp(path, "/") == 0 ? "the root cannot be a queue"
		                     : zkc_error_last()->message);
	if (zkc_options_version_check("zkc_queue_open", o.version, ZKC_QUEUE_OPTIONS_VERSION) != ZKC_OK)
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue %s: %s", path,
		                     zkc_error_last()->message);
	if ((o.flags & ~ZKC_QUEUE_CREATE) || o.bucket_size < 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue %s: %s", path,
		                     o.bucket_size < 0 ? "bucket_size < 0" : "unknown flags");
	q = calloc(1, sizeof(*q));
	if (!q)
		return zkc_error_set(ZKC_ENOMEM, "queue %s: out of memory", path);
	pthread_mutex_init(&q->mu, NULL);
	pthread_mutex_init(&q->take_mu, NULL);
	q->refs = 1;
	q->zk = zk;
	q->bucket_size = o.bucket_size;
	q->tail = q->head = q->armed_bucket = -1;
	q->stale_entries = q->stale_taken = q->stale_root = 1;
	q->root = strdup(path);
	q->taken_dir = join3(path, TAKEN, NULL);
	rc = zkcr_cond_init(&q->cv);
	if (rc == ZKC_OK)
		rc = zkcr_acl_copy(&q->acl, o.acl, path);         /* messages name the queue */
	if (rc == ZKC_OK && (!q->root || !q->taken_dir))
		rc = zkc_error_set(ZKC_ENOMEM, "queue %s: out of memory", path);
	if (rc == ZKC_OK && (o.flags & ZKC_QUEUE_CREATE)) {
		b0 = bucket_path(q, 0);
		rc = b0 ? ensure(q, q->taken_dir, 1) : ZKC_ENOMEM;
		if (rc == ZKC_OK) {
			zkc_strings_t *kids = NULL;

			/* the first bucket, unless the queue already has one */
			rc = zkc_children(&kids, NULL, zk, q->root);
			if (rc == ZKC_OK) {
				size_t i;
				int any = 0;

				for (i = 0; i < kids->count; i++)
					any |= bucket_index(kids->items[i]) >= 0;
				zkc_strings_free(kids);
				if (!any)
					rc = ensure(q, b0, 0);
			}
		}
		free(b0);
	} else if (rc == ZKC_OK) {
		rc = zkc_exists(NULL, zk, q->taken_dir);
		if (rc == ZKC_ENONODE)
			rc = zkc_exists(NULL, zk, q->root) == ZKC_OK ? ZKC_EBADARGUMENTS : ZKC_ENONODE;
	}
	if (rc != ZKC_OK) {
		q_unref(q);
		return rc;
	}
	*out = q;
	return ZKC_OK;
}

void zkc_queue_close(zkc_queue_t *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->closed = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	/* markers a take left behind are cleaned in the background (see
	 * struct sweep): that goes on after the close, while the client
	 * lives, without holding the handle */
	q_unref(q);
}

const char *zkc_queue_path(const zkc_queue_t *q)
{
	return q ? q->root : NULL;
}

void zkc_queue_item_free(zkc_queue_item_t *item)
{
	if (!item)
		return;
	free(item->name);
	free(item->data);
	free(item);
}

/* ------------------------------------------------------------ put */

/* The root's buckets, sorted by index, in *out (idx array, count). */
static int list_buckets(int **out, size_t *out_n, zkc_queue_t *q)
{
	zkc_strings_t *kids = NULL;
	size_t i, n = 0;
	int *v, rc, k;

	rc = zkc_children(&kids, NULL, q->zk, q->root);
	if (rc != ZKC_OK)
		return rc;
	v = calloc(kids->count + 1, sizeof(int));
	if (!v) {
		zkc_strings_free(kids);
		return zkc_error_set(ZKC_ENOMEM, "queue %s: out of memory", q->root);
	}
	for (i = 0; i < kids->count; i++)
		if ((k = bucket_index(kids->items[i])) >= 0)
			v[n++] = k;
	zkc_strings_free(kids);
	for (i = 1; i < n; i++) {       /* insertion sort: a handful */
		size_t j = i;

		while (j > 0 && v[j - 1] > v[j]) {
			k = v[j];
			v[j] = v[j - 1];
			v[j - 1] = k;
			j--;
		}
	}
	*out = v;
	*out_n = n;
	return ZKC_OK;
}

static int find_tail(zkc_queue_t *q)
{
	int *v = NULL, rc, t;
	size_t n = 0;

	rc = list_buckets(&v, &n, q);
	if (rc != ZKC_OK)
		return rc;
	t = n ? v[n - 1] : 0;
	free(v);
	if (!n) {
		char *b0 = bucket_path(q, 0);

		rc = b0 ? ensure(q, b0, 0) : ZKC_ENOMEM;
		free(b0);
		if (rc != ZKC_OK)
			return rc;
	}
	pthread_mutex_lock(&q->mu);
	q->tail = t;
	pthread_mutex_unlock(&q->mu);
	return ZKC_OK;
}

/* After a put got sequence `seq` in bucket t: open the next bucket once t
 * is full. Later puts go there; consumers drain t first. */
static void maybe_roll(zkc_queue_t *q, int t, int64_t seq)
{
	char *next;

	if (q->bucket_size <= 0 || seq < (int64_t)q->bucket_size - 1 || t >= INT32_MAX - 1)
		return;
	next = bucket_path(q, t + 1);
	if (next && ensure(q, next, 0) == ZKC_OK) {
		pthread_mutex_lock(&q->mu);
		if (q->tail == t)
			q->tail = t + 1;
		pthread_mutex_unlock(&q->mu);
	}
	free(next);
}

static char *entry_prefix_path(zkc_queue_t *q, int t, int priority)
{
	char bn[32], *s = NULL;

	bucket_name(bn, sizeof(bn), t);
	if (asprintf(&s, "%s/%s/" ENTRY_PREFIX "%03d-", q->root, bn, priority) < 0)
		return NULL;
	return s;
}

int zkc_queue_put(char **out_name, zkc_queue_t *q, const void *data, size_t len, int priority)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	int attempt, rc = ZKC_ENONODE;

	if (out_name)
		*out_name = NULL;
	if (!q)
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue put: queue is NULL");
	if ((len && !data) || priority < 0 || priority > ZKC_QUEUE_PRIORITY_MAX)
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue %s: put: %s", q->root,
		                     len && !data ? "data is NULL" : "priority out of 0..9");
	if (len > ZKC_MAX_DATA_LEN)
		return zkc_error_set(ZKC_ETOOLARGE, "queue %s: put: item of %zu bytes is over the "
		                     "%d-byte limit", q->root, len, ZKC_MAX_DATA_LEN);
	co.mode = ZKC_PERSISTENT_SEQUENTIAL;
	co.acl = q->acl;
	for (attempt = 0; attempt < 5; attempt++) {
		char *prefix, *made = NULL;
		int t;

		pthread_mutex_lock(&q->mu);
		t = q->tail;
		pthread_mutex_unlock(&q->mu);
		if (t < 0) {
			if ((rc = find_tail(q)) != ZKC_OK)
				return rc;
			continue;
		}
		prefix = entry_prefix_path(q, t, priority);
		if (!prefix)
			return zkc_error_set(ZKC_ENOMEM, "queue %s: out of memory", q->root);
		rc = zkc_create(&made, NULL, q->zk, prefix, data, len, &co);
		free(prefix);
		if (rc == ZKC_OK) {
			/* our own item: into the consumer cache at once (also
			 * while the list's watch is down: the next take re-reads
			 * the list in the same round trip as it takes this) */
			pthread_mutex_lock(&q->mu);
			if (q->head == t)
				names_add(&q->cand, strrchr(made, '/') + 1);
			pthread_mutex_unlock(&q->mu);
			maybe_roll(q, t, entry_seq(made));
			if (out_name)
				*out_name = strdup(made + strlen(q->root) + 1);
			zkc_free(made);
			return ZKC_OK;
		}
		if (rc != ZKC_ENONODE)
			return rc;
		/* the bucket was drained and removed: find the current one */
		pthread_mutex_lock(&q->mu);
		if (q->tail == t)
			q->tail = -1;
		pthread_mutex_unlock(&q->mu);
	}
	return rc;
}

/* put_many's input check: every item, then the transaction's size. */
static int put_many_check(zkc_queue_t *q, const zkc_queue_put_item_t *items, size_t n)
{
	size_t i, total = 0;

	if (n && !items)
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue %s: put_many: items is NULL", q->root);
	for (i = 0; i < n; i++) {
		const zkc_queue_put_item_t *it = &items[i];

		if (it->priority < 0 || it->priority > ZKC_QUEUE_PRIORITY_MAX)
			return zkc_error_set(ZKC_EBADARGUMENTS, "queue %s: put_many: item %zu: "
			                     "priority %d out of 0..%d", q->root, i, it->priority,
			                     ZKC_QUEUE_PRIORITY_MAX);
		if (it->len && !it->data)
			return zkc_error_set(ZKC_EBADARGUMENTS, "queue %s: put_many: item %zu: data "
			                     "is NULL", q->root, i);
		if (it->len > ZKC_MAX_DATA_LEN)
			return zkc_error_set(ZKC_ETOOLARGE, "queue %s: put_many: item %zu of %zu bytes "
			                     "is over the %d-byte limit", q->root, i, it->len,
			                     ZKC_MAX_DATA_LEN);
		total += it->len + 64 + strlen(q->root);
	}
	if (total > ZKC_MAX_DATA_LEN)
		return zkc_error_set(ZKC_ETOOLARGE, "queue %s: put_many: %zu items make a %zu-byte "
		                     "transaction, over the %d-byte limit", q->root, n, total,
		                     ZKC_MAX_DATA_LEN);
	return ZKC_OK;
}

/* A guard node's path for put_many: "<queue>/put-<random>-<pid>". A guard
 * created in the same transaction makes a retried transaction fail instead
 * of putting the items twice (sequential creates cannot be recognised),
 * and tells afterwards whether a transaction whose reply was lost
 * committed. */
static char *guard_path_new(zkc_queue_t *q)
{
	unsigned char rb[8] = { 0 };
	char guard[80];

	if (getrandom(rb, sizeof(rb), GRND_NONBLOCK) < 0)
		memcpy(rb, &(int64_t){ zkcr_now_ms() }, sizeof(rb));
	snprintf(guard, sizeof(guard), "put-%02x%02x%02x%02x%02x%02x%02x%02x-%d", rb[0], rb[1],
	         rb[2], rb[3], rb[4], rb[5], rb[6], rb[7], (int)getpid());
	return join3(q->root, guard, NULL);
}

/* The transaction: the guard, then the n items in bucket t. */
static int put_many_multi(zkc_multi_t **out, zkc_queue_t *q, const zkc_queue_put_item_t *items,
                          size_t n, int t, const char *guard_path)
{
	zkc_multi_t *m = NULL;
	size_t i;

	*out = NULL;
	if (zkc_multi_new(&m) != ZKC_OK)
		return zkc_error_set(ZKC_ENOMEM, "queue %s: out of memory", q->root);
	zkc_multi_create(m, guard_path, NULL, 0, ZKC_PERSISTENT, q->acl);
	for (i = 0; i < n; i++) {
		/* one sequence per bucket: items of any priority keep their order */
		char *prefix = entry_prefix_path(q, t, items[i].priority);

		if (!prefix) {
			zkc_multi_free(m);
			return zkc_error_set(ZKC_ENOMEM, "queue %s: out of memory", q->root);
		}
		zkc_multi_create(m, prefix, items[i].data, items[i].len, ZKC_PERSISTENT_SEQUENTIAL,
		                 q->acl);
		free(prefix);
	}
	*out = m;
	return ZKC_OK;
}

/* After a lost reply: the guard exists only if the lost attempt committed. */
static int put_many_settle(zkc_queue_t *q, const char *guard_path)
{
	int e = zkc_exists(NULL, q->zk, guard_path);

	if (e == ZKC_OK) {
		zkc_delete(q->zk, guard_path, -1, 0);
		return ZKC_OK;
	}
	return zkc_error_set(ZKC_EUNKNOWN, "queue %s: put_many: reply lost and its guard %s %s",
	                     q->root, guard_path, e == ZKC_ENONODE ? "was not found"
	                     : "could not be read");
}

/* One attempt into bucket t. ZKC_ENONODE: the bucket is gone (the tail
 * moved on), try again. */
static int put_many_once(zkc_queue_t *q, const zkc_queue_put_item_t *items, size_t n, int t,
                         const char *guard_path)
{
	zkc_multi_results_t *res = NULL;
	zkc_multi_t *m = NULL;
	int rc = put_many_multi(&m, q, items, n, t, guard_path);

	if (rc != ZKC_OK)
		return rc;
	rc = zkc_multi_commit(&res, q->zk, m);
	zkc_multi_free(m);
	if (rc == ZKC_EUNKNOWN) {
		rc = put_many_settle(q, guard_path);
	} else if (rc == ZKC_OK) {
		if (res && res->count == n + 1 && res->results[n].path)
			maybe_roll(q, t, entry_seq(res->results[n].path));
		zkc_delete(q->zk, guard_path, -1, 0);
	} else if (rc == ZKC_ENONODE) {
		pthread_mutex_lock(&q->mu);
		if (q->tail == t)
			q->tail = -1;
		pthread_mutex_unlock(&q->mu);
	}
	zkc_multi_results_free(res);
	return rc;
}

int zkc_queue_put_many(zkc_queue_t *q, const zkc_queue_put_item_t *items, size_t n)
{
	int attempt, rc = ZKC_ENONODE;
	char *guard_path;

	if (!q)
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue put_many: queue is NULL");
	if ((rc = put_many_check(q, items, n)) != ZKC_OK)
		return rc;
	if (n == 0)
		return ZKC_OK;
	if (!(guard_path = guard_path_new(q)))
		return zkc_error_set(ZKC_ENOMEM, "queue %s: out of memory", q->root);
	for (attempt = 0; attempt < 5; attempt++) {
		int t;

		pthread_mutex_lock(&q->mu);
		t = q->tail;
		pthread_mutex_unlock(&q->mu);
		if (t < 0) {
			if ((rc = find_tail(q)) != ZKC_OK)
				break;
			continue;
		}
		if ((rc = put_many_once(q, items, n, t, guard_path)) != ZKC_ENONODE)
			break;
	}
	if (attempt == 5 && rc == ZKC_OK)   /* the last attempt only found the tail */
		rc = zkc_error_set(ZKC_ENONODE, "queue %s: put_many: nothing put: its bucket went "
		                   "away on every try", q->root);
	free(guard_path);
	return rc;
}

/* ------------------------------------------------------------ take */

static zkc_queue_item_t *make_item(int b, const char *entry, const char *data, size_t len,
                                   int64_t session)
{
	zkc_queue_item_t *it = calloc(1, sizeof(*it));
	char bn[32];

	if (!it)
		return NULL;
	bucket_name(bn, sizeof(bn), b);
	if (asprintf(&it->name, "%s/%s", bn, entry) < 0)
		it->name = NULL;
	it->data = malloc(len + 1);
	if (!it->name || !it->data) {
		zkc_queue_item_free(it);
		return NULL;
	}
	if (len)
		memcpy(it->data, data, len);
	it->data[len] = 0;
	it->len = len;
	it->priority = entry_priority(entry);
	it->session_id = session;
	return it;
}

/* Parses an item name back into bucket index and entry. */
static int parse_item(int *out_b, const char **out_entry, const zkc_queue_item_t *item)
{
	const char *slash;
	char bn[32];
	size_t bl;

	if (!item || !item->name || !(slash = strchr(item->name, '/')))
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue item %s: %s",
		                     item && item->name ? item->name : "(null)",
		                     !item || !item->name ? "item or its name is NULL"
		                     : "not an item of a queue (no bucket in its name)");
	bl = (size_t)(slash - item->name);
	if (bl >= sizeof(bn))
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue item %s: bucket name too long",
		                     item->name);
	memcpy(bn, item->name, bl);
	bn[bl] = 0;
	if ((*out_b = bucket_index(bn)) < 0 || strchr(slash + 1, '/'))
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue item %s: not an item of a queue "
		                     "(bad bucket or entry)", item->name);
	*out_entry = slash + 1;
	return ZKC_OK;
}

static void delete_async(zkc_queue_t *q, const char *path)
{
	zkc_batch_t *b = NULL;

	if (zkc_batch_new(&b) != ZKC_OK)
		return;
	if (zkc_batch_delete(b, path, -1) < 0 || zkc_batch_run_async(q->zk, b, NULL, NULL) != ZKC_OK)
		zkc_batch_free(b);
}

/* The first cached entry that is neither taken nor known gone (mu held). */
static const char *pick(zkc_queue_t *q)
{
	size_t i;

	for (i = q->pos; i < q->cand.n; i++) {
		char *m = marker_name(q->head, q->cand.v[i]);
		int taken = !m || names_has(&q->taken, m);

		free(m);
		if (!taken)
			return q->cand.v[i];
	}
	return NULL;
}

/* Marks entry gone from the head's cached list (mu held). */
static void drop(zkc_queue_t *q, const char *entry)
{
	size_t i;

	for (i = 0; i < q->cand.n; i++)
		if (strcmp(q->cand.v[i], entry) == 0) {
			free(q->cand.v[i]);
			memmove(&q->cand.v[i], &q->cand.v[i + 1], (q->cand.n - i - 1) * sizeof(char *));
			q->cand.n--;
			if (i < q->pos)
				q->pos--;
			return;
		}
}

/* After a lost reply on an ack: is the marker still this session's? 1
 * yes, 0 no (absent or another session's), -1 could not tell. */
static int marker_is_ours(zkc_queue_t *q, const char *mpath, int64_t session)
{
	zkc_stat_t st;
	int rc = zkc_exists(&st, q->zk, mpath);

	if (rc == ZKC_ENONODE)
		return 0;
	if (rc != ZKC_OK || !session)
		return -1;
	return st.ephemeral_owner == session;
}

/* Is the marker the one this take's create made? Each take writes its own
 * random token into the marker (after the session id), so a marker of
 * another handle on the same session, or of an earlier take, is not taken
 * for it. 1 yes, 0 no (absent, or another take's), -1 could not tell. */
static int marker_is_this(zkc_t *zk, const char *mpath, const char *mdata)
{
	char *d = NULL;
	size_t len = 0;
	int rc = zkc_get(&d, &len, NULL, zk, mpath), same;

	if (rc == ZKC_ENONODE)
		return 0;
	if (rc != ZKC_OK)
		return -1;
	same = len == strlen(mdata) && memcmp(d, mdata, len) == 0;
	zkc_free(d);
	return same;
}

/* ------------------------------------------------------------ sweep */

/* The background removal of a marker a take made, or may still make, and
 * did not hand out: its create's reply was lost or came after the take's
 * deadline (a request in a frozen server's socket, or on a connection a
 * re-election dropped, can be applied long after, even after later
 * requests of the same session), or its delete failed. Left alone, such a
 * marker would hold its item for as long as the session lives.
 *
 * A sweep reads the marker (an exists that watches for its creation, and a
 * get to compare the take's token) and the item (an exists that watches for
 * its deletion), pipelined, on the client's event thread:
 *   - the marker carries the take's token: delete it; done (a create is
 *     applied once);
 *   - else, the item is gone: done. The marker create is conditional on
 *     the item (zkc_batch_create_if), so it can no longer be applied;
 *   - else wait for either watch and look again;
 *   - the session changed (the marker, if any, went with it) or the client
 *     closes: done.
 * It holds no reference to the queue handle, so it goes on after
 * zkc_queue_close; it ends at the latest when the client closes. */
typedef struct sweep sweep_t;

typedef struct sweep_watch {
	sweep_t *s;
	int item;                   /* 0: the marker's watch, 1: the item's */
} sweep_watch_t;

struct sweep {
	pthread_mutex_t mu;
	int refs;                   /* the run in flight + each armed watch */
	int done;
	int running, again;         /* one run at a time; again: a watch fired */
	int armed[2];               /* marker, item */
	int run_armed[2];           /* armed by the run in flight */
	zkc_t *zk;
	char *mpath, *epath, *mdata;
	int64_t session;
	sweep_watch_t w[2];
};

static void sweep_unref(sweep_t *s)
{
	int last;

	pthread_mutex_lock(&s->mu);
	last = --s->refs == 0;
	pthread_mutex_unlock(&s->mu);
	if (!last)
		return;
	pthread_mutex_destroy(&s->mu);
	free(s->mpath);
	free(s->epath);
	free(s->mdata);
	free(s);
}

static void sweep_done(zkc_t *zk, const zkc_batch_t *b, void *payload);
static void sweep_watch(zkc_t *zk, const zkc_event_t *ev, void *payload);
static void sweep_deleted(zkc_t *zk, const zkc_batch_t *b, void *payload);

/* Sends one look (or the delete when `del`), unless one is in flight or
 * the sweep is over. */
static void sweep_send(sweep_t *s, int del)
{
	zkc_batch_t *b = NULL;
	int arm[2], i, rc;

	pthread_mutex_lock(&s->mu);
	if (s->done || s->running) {
		s->again |= !s->done;
		pthread_mutex_unlock(&s->mu);
		return;
	}
	s->running = 1;
	s->again = 0;
	for (i = 0; i < 2; i++) {
		arm[i] = !del && !s->armed[i];
		s->armed[i] |= arm[i];
		s->run_armed[i] = arm[i];
		s->refs += arm[i];
	}
	s->refs++;                  /* the run */
	pthread_mutex_unlock(&s->mu);
	rc = zkc_batch_new(&b);
	if (rc == ZKC_OK && del)
		rc = zkc_batch_delete(b, s->mpath, -1) < 0 ? ZKC_ENOMEM : ZKC_OK;
	else if (rc == ZKC_OK &&
	         (zkc_batch_exists(b, s->mpath, arm[0], sweep_watch, &s->w[0]) < 0 ||
	          zkc_batch_get(b, s->mpath, 0, NULL, NULL) < 0 ||
	          zkc_batch_exists(b, s->epath, arm[1], sweep_watch, &s->w[1]) < 0))
		rc = ZKC_ENOMEM;
	if (rc == ZKC_OK)
		rc = zkc_batch_run_async(s->zk, b, del ? sweep_deleted : sweep_done, s);
	if (rc == ZKC_OK)
		return;
	/* not sent: no answer, no watch (the client is closing, or no memory) */
	zkc_batch_free(b);
	pthread_mutex_lock(&s->mu);
	for (i = 0; i < 2; i++) {
		if (arm[i])
			s->armed[i] = 0;
		s->refs -= arm[i];
	}
	s->running = 0;
	s->done = 1;
	pthread_mutex_unlock(&s->mu);
	sweep_unref(s);
}

/* The run is over; look again when a watch fired meanwhile or `resend`,
 * or stop when `stop`. Drops the run's reference. */
static void sweep_after(sweep_t *s, int resend, int stop)
{
	int again;

	pthread_mutex_lock(&s->mu);
	s->running = 0;
	if (stop)
		s->done = 1;
	again = !s->done && (s->again || resend);
	pthread_mutex_unlock(&s->mu);
	if (again)
		sweep_send(s, 0);
	sweep_unref(s);
}

static int transient(int c)
{
	return c == ZKC_ECONNECTIONLOSS || c == ZKC_ETIMEDOUT;
}

static int sweep_same_session(const sweep_t *s)
{
	int64_t now = 0;

	return zkc_session(&now, NULL, NULL, s->zk) == ZKC_OK && now == s->session;
}

static void sweep_done(zkc_t *zk, const zkc_batch_t *b, void *payload)
{
	sweep_t *s = payload;
	int c[3], i, stop = 0, resend = 0, del = 0;
	const char *d;
	size_t len = 0;

	(void)zk;
	for (i = 0; i < 3; i++)
		c[i] = zkc_batch_code(b, (size_t)i);
	/* a watch whose exists failed was never set: it will not be called */
	pthread_mutex_lock(&s->mu);
	for (i = 0; i < 2; i++) {
		int ci = c[i * 2];

		if (s->run_armed[i] && ci != ZKC_OK && ci != ZKC_ENONODE) {
			s->armed[i] = 0;
			s->refs--;
		}
	}
	pthread_mutex_unlock(&s->mu);
	if (!sweep_same_session(s) || c[1] == ZKC_ECLOSED) {
		stop = 1;               /* the marker went with the session */
	} else if (c[1] == ZKC_OK) {
		d = zkc_batch_data(b, 1, &len);
		if (d && len == strlen(s->mdata) && memcmp(d, s->mdata, len) == 0)
			del = 1;        /* the take's marker: remove it */
		else if (c[2] == ZKC_ENONODE)
			stop = 1;
	} else if (c[1] == ZKC_ENONODE && c[2] == ZKC_ENONODE) {
		stop = 1;               /* item gone: the create can no longer apply */
	} else if (transient(c[1]) || transient(c[2])) {
		resend = 1;
	}
	if (del) {
		pthread_mutex_lock(&s->mu);
		s->running = 0;
		pthread_mutex_unlock(&s->mu);
		sweep_send(s, 1);
		sweep_unref(s);
		return;
	}
	sweep_after(s, resend, stop);
}

static void sweep_deleted(zkc_t *zk, const zkc_batch_t *b, void *payload)
{
	sweep_t *s = payload;
	int c = zkc_batch_code(b, 0);

	(void)zk;
	/* removed (or already gone): done; a lost reply: look again */
	sweep_after(s, transient(c), !transient(c) || !sweep_same_session(s));
}

static void sweep_watch(zkc_t *zk, const zkc_event_t *ev, void *payload)
{
	sweep_watch_t *w = payload;
	sweep_t *s = w->s;
	int look;

	(void)zk;
	pthread_mutex_lock(&s->mu);
	s->armed[w->item] = 0;
	look = !s->done && ev->type != ZKC_EVENT_WATCH_CANCELLED;
	pthread_mutex_unlock(&s->mu);
	if (look && sweep_same_session(s))
		sweep_send(s, 0);
	sweep_unref(s);
}

/* Starts the sweep of the take's marker (see struct sweep). Out of memory
 * or a closing client: nothing to do (the session's end removes it). */
static void sweep_start(zkc_queue_t *q, const char *mpath, const char *epath, const char *mdata,
                        int64_t session)
{
	sweep_t *s = calloc(1, sizeof(*s));

	if (!s)
		return;
	pthread_mutex_init(&s->mu, NULL);
	s->refs = 1;
	s->zk = q->zk;
	s->session = session;
	s->w[0].s = s->w[1].s = s;
	s->w[1].item = 1;
	s->mpath = strdup(mpath);
	s->epath = strdup(epath);
	s->mdata = strdup(mdata);
	if (s->mpath && s->epath && s->mdata && session)
		sweep_send(s, 0);
	sweep_unref(s);
}

/* One take round: the take ops for the head candidate, if any, and the
 * reads of the stale child lists, sent as one batch. */
typedef struct plan {
	int mode;
	int head;
	int64_t session;
	char *entry;            /* NULL: no take op */
	char *epath, *mpath;
	char mdata[40];         /* ACK: the marker's data, "<session>-<token>" */
	int i_take0, i_take1;   /* ACK: create, get; DELETE: get, delete */
	int i_entries, i_taken, i_root;
	watch_arg_t *w_entries, *w_taken, *w_root;
} plan_t;

static void plan_free(plan_t *p)
{
	free(p->entry);
	free(p->epath);
	free(p->mpath);
}

/* Head bucket and cached entries start over at bucket `head` (mu held). */
static void set_head(zkc_queue_t *q, int head)
{
	q->head = head;
	names_clear(&q->cand);
	q->pos = 0;
}

/* Adds the take ops for the first untaken cached entry (mu held): ACK
 * creates its marker and reads it, DELETE reads and deletes it. Returns
 * 1 when there is a candidate, 0 when there is none, or ZKC_ENOMEM. */
static int plan_take(plan_t *p, zkc_batch_t *b, zkc_queue_t *q)
{
	zkc_create_options_t eo = ZKC_CREATE_OPTIONS_INIT;
	const char *x = p->head >= 0 && !q->stale_root ? pick(q) : NULL;
	char bn[32], *m;

	if (!x)
		return 0;
	m = marker_name(p->head, x);
	bucket_name(bn, sizeof(bn), p->head);
	p->entry = strdup(x);
	p->epath = join3(q->root, bn, x);
	p->mpath = m ? join3(q->taken_dir, m, NULL) : NULL;
	free(m);
	if (!p->entry || !p->epath || !p->mpath)
		return zkc_error_set(ZKC_ENOMEM, "queue %s: out of memory", q->root);
	if (p->mode == ZKC_QUEUE_TAKE_ACK) {
		uint64_t token = ((uint64_t)zkcr_random() << 32) | zkcr_random();

		snprintf(p->mdata, sizeof(p->mdata), "%016" PRIx64 "-%016" PRIx64,
		         (uint64_t)p->session, token);
		eo.mode = ZKC_EPHEMERAL;
		eo.acl = q->acl;
		/* only while the item exists: a create applied late, after the
		 * item was consumed, fails on the server */
		p->i_take0 = zkc_batch_create_if(b, p->mpath, p->mdata, strlen(p->mdata), &eo,
		                                 p->epath, -1);
		p->i_take1 = zkc_batch_get(b, p->epath, 0, NULL, NULL);
	} else {
		p->i_take0 = zkc_batch_get(b, p->epath, 0, NULL, NULL);
		p->i_take1 = zkc_batch_delete(b, p->epath, -1);
	}
	return 1;
}

/* Adds the read of a child list, with a watch when `arm` (mu held). */
static int plan_list(zkc_batch_t *b, zkc_queue_t *q, const char *path, int kind, int bucket,
                     int arm, watch_arg_t **w)
{
	if (arm)
		*w = watch_arg(q, kind, bucket);
	return zkc_batch_children(b, path, arm, arm ? on_watch : NULL, *w);
}

/* Adds the reads of the child lists that changed or have no watch (mu
 * held). While cached candidates remain, a changed head bucket is re-read
 * at most every REFRESH_MS (new items of other producers wait that long at
 * most; our own puts are cached at once): re-reading after every change
 * would add a read behind the take's delete to each take. */
static void plan_refresh(plan_t *p, zkc_batch_t *b, zkc_queue_t *q)
{
	if (p->head >= 0 && !q->stale_root &&
	    (q->armed_bucket != p->head || q->stale_entries) &&
	    (!p->entry || zkcr_now_ms() - q->stale_since >= REFRESH_MS)) {
		char *bp = bucket_path(q, p->head);
		int arm = q->armed_bucket != p->head;

		if (arm)
			q->armed_bucket = p->head;
		q->stale_entries = 0;
		p->i_entries = bp ? plan_list(b, q, bp, W_ENTRIES, p->head, arm, &p->w_entries) : -1;
		free(bp);
	}
	if (q->stale_taken || !q->armed_taken) {
		int arm = !q->armed_taken;

		q->armed_taken = 1;
		q->stale_taken = 0;
		p->i_taken = plan_list(b, q, q->taken_dir, W_TAKEN, -1, arm, &p->w_taken);
	}
	if (q->stale_root || !q->armed_root || p->head < 0) {
		int arm = !q->armed_root;

		q->armed_root = 1;
		q->stale_root = 0;
		p->i_root = plan_list(b, q, q->root, W_ROOT, -1, arm, &p->w_root);
	}
}

/* A watch whose read failed never fires; drops it when op i failed. */
static void unarm_if_failed(zkc_queue_t *q, const zkc_batch_t *b, int i, watch_arg_t *w,
                            int *armed_flag, int *armed_bucket)
{
	if (i >= 0 && w && zkc_batch_code(b, (size_t)i) != ZKC_OK)
		watch_unused(q, w, armed_flag, armed_bucket);
}

/* Sends the round's batch. ZKC_EAGAIN when there is nothing to send. */
static int run_round(zkc_queue_t *q, plan_t *p, zkc_batch_t *b)
{
	int rc;

	if (zkc_batch_count(b) == 0)
		return zkc_error_set(ZKC_EAGAIN, "queue %s: nothing to take now", q->root);
	rc = zkc_batch_run(q->zk, b);
	if (rc != ZKC_OK) {
		/* nothing was sent: the watches will never fire */
		watch_unused(q, p->w_entries, NULL, &q->armed_bucket);
		watch_unused(q, p->w_taken, &q->armed_taken, NULL);
		watch_unused(q, p->w_root, &q->armed_root, NULL);
		pthread_mutex_lock(&q->mu);
		q->stale_entries = q->stale_taken = q->stale_root = 1;
		pthread_mutex_unlock(&q->mu);
		return rc;
	}
	unarm_if_failed(q, b, p->i_entries, p->w_entries, NULL, &q->armed_bucket);
	unarm_if_failed(q, b, p->i_taken, p->w_taken, &q->armed_taken, NULL);
	unarm_if_failed(q, b, p->i_root, p->w_root, &q->armed_root, NULL);
	p->session = zkc_batch_session(b);
	return ZKC_OK;
}

/* The taken markers as read this round (mu held). Returns 1 when the
 * cache changed, 0 when not, or a code. */
static int apply_taken(zkc_queue_t *q, const plan_t *p, const zkc_batch_t *b)
{
	int c;

	if (p->i_taken < 0)
		return 0;
	c = zkc_batch_code(b, (size_t)p->i_taken);
	if (c == ZKC_OK) {
		names_set(&q->taken, zkc_batch_children_of(b, (size_t)p->i_taken), NULL);
		return 1;
	}
	if (c == ZKC_ENONODE)
		return zkc_error_set(ZKC_ENONODE, "queue %s: its taken directory is gone: "
		                     "the queue was deleted", q->root);
	q->stale_taken = 1;
	return 0;
}

/* The lowest bucket index among the cached root children, or -1. */
static int lowest_bucket(const zkc_queue_t *q)
{
	int lo = -1;
	size_t i;

	for (i = 0; i < q->buckets.n; i++) {
		int k = bucket_index(q->buckets.v[i]);

		if (k >= 0 && (lo < 0 || k < lo))
			lo = k;
	}
	return lo;
}

/* The buckets as read this round (mu held): on the first look, or when
 * the head bucket is gone, the head moves to the lowest. Returns as
 * apply_taken. */
static int apply_root(zkc_queue_t *q, const plan_t *p, const zkc_batch_t *b)
{
	int c, lo, keep = 0;

	if (p->i_root < 0)
		return 0;
	c = zkc_batch_code(b, (size_t)p->i_root);
	if (c == ZKC_ENONODE)
		return zkc_error_set(ZKC_ENONODE, "queue %s: its bucket is gone: the queue "
		                     "was deleted", q->root);
	if (c != ZKC_OK) {
		q->stale_root = 1;
		return 0;
	}
	names_set(&q->buckets, zkc_batch_children_of(b, (size_t)p->i_root), BUCKET0);
	lo = lowest_bucket(q);
	if (q->head >= 0) {
		char bn[32];

		bucket_name(bn, sizeof(bn), q->head);
		keep = names_has(&q->buckets, bn);
	}
	if (!keep && q->head != lo) {
		set_head(q, lo);
		q->stale_entries = 1;
	}
	return 1;
}

/* The head bucket's entries as read this round (mu held). Returns 1 when
 * the cache changed, else 0. */
static int apply_entries(zkc_queue_t *q, const plan_t *p, const zkc_batch_t *b)
{
	int c;

	if (p->i_entries < 0 || p->head != q->head)
		return 0;
	c = zkc_batch_code(b, (size_t)p->i_entries);
	if (c == ZKC_OK) {
		names_set(&q->cand, zkc_batch_children_of(b, (size_t)p->i_entries), ENTRY_PREFIX);
		q->pos = 0;
		return 1;
	}
	if (c == ZKC_ENONODE) {
		q->stale_root = 1;      /* the bucket is gone: find the next */
		set_head(q, -1);
		return 1;
	}
	q->stale_entries = 1;
	return 0;
}

/* Refreshed lists first: they were read after the take ops. Sets *again
 * when the cache changed. */
static int apply_lists(zkc_queue_t *q, const plan_t *p, const zkc_batch_t *b, int *again)
{
	int rc = ZKC_OK, r;

	pthread_mutex_lock(&q->mu);
	if ((r = apply_taken(q, p, b)) < 0)
		rc = r;
	else
		*again |= r;
	if ((r = apply_root(q, p, b)) < 0)
		rc = r;
	else
		*again |= r;
	*again |= apply_entries(q, p, b);
	pthread_mutex_unlock(&q->mu);
	return rc;
}

/* An ACK take's item is ours until acked or released: its marker is
 * cached and the entry leaves the cached list. Returns rc. */
static int took(zkc_queue_t *q, const plan_t *p, int rc)
{
	pthread_mutex_lock(&q->mu);
	names_add(&q->taken, strrchr(p->mpath, '/') + 1);
	if (p->head == q->head)
		drop(q, p->entry);
	pthread_mutex_unlock(&q->mu);
	return rc;
}

/* After a lost reply to the marker create: 1 when the marker is this
 * take's; else 0, and a sweep removes it if it is (or is still to be)
 * made. */
static int settle_marker(zkc_queue_t *q, const plan_t *p)
{
	int ours = marker_is_this(q->zk, p->mpath, p->mdata);

	if (ours > 0)
		return 1;
	sweep_start(q, p->mpath, p->epath, p->mdata, p->session);
	return 0;
}

/* The ACK take's marker is ours but the item was consumed meanwhile, or
 * its data could not be read: the marker must not outlive this take. */
static void drop_marker(zkc_queue_t *q, const plan_t *p)
{
	int d = zkc_delete(q->zk, p->mpath, -1, 0);

	if (d != ZKC_OK && d != ZKC_ENONODE)
		sweep_start(q, p->mpath, p->epath, p->mdata, p->session);
}

/* The outcome of an ACK take (marker create, then read). Returns ZKC_OK
 * with *out set, 1 to go round again, or a code. */
static int finish_ack(zkc_queue_item_t **out, zkc_queue_t *q, const plan_t *p,
                      const zkc_batch_t *b)
{
	int c0 = zkc_batch_code(b, (size_t)p->i_take0), c1 = zkc_batch_code(b, (size_t)p->i_take1);
	int ours = c0 == ZKC_OK;

	if (c0 == ZKC_ECONNECTIONLOSS || c0 == ZKC_ETIMEDOUT)
		ours = settle_marker(q, p);
	if (ours) {
		const char *data = NULL;
		char *d = NULL;
		size_t len = 0;

		if (c1 == ZKC_OK)
			data = zkc_batch_data(b, (size_t)p->i_take1, &len);
		else if (c1 != ZKC_ENONODE && (c1 = zkc_get(&d, &len, NULL, q->zk, p->epath)) == ZKC_OK)
			data = d;       /* the read's reply was lost: read it now */
		if (c1 == ZKC_OK) {
			*out = make_item(p->head, p->entry, data, len, p->session);
			zkc_free(d);
			return took(q, p, *out ? ZKC_OK : ZKC_ENOMEM);
		}
		drop_marker(q, p);
	}
	pthread_mutex_lock(&q->mu);
	if (c0 == ZKC_ENODEEXISTS)
		names_add(&q->taken, strrchr(p->mpath, '/') + 1);
	else if (c1 == ZKC_ENONODE && p->head == q->head)
		drop(q, p->entry);
	pthread_mutex_unlock(&q->mu);
	/* ZKC_ENONODE: the item's check failed (it was consumed: its read
	 * failed too), or the taken directory is gone */
	if (c0 == ZKC_ENONODE && c1 == ZKC_OK)
		return zkc_error_set(ZKC_ENONODE, "queue %s: no taken directory: the queue was "
		                     "deleted", q->root);
	return 1;
}

/* The outcome of a DELETE take (read, then delete). Returns ZKC_OK with
 * *out set, ZKC_EUNKNOWN with *out set when the delete's outcome is not
 * known, 1 to go round again, or a code. */
static int finish_delete(zkc_queue_item_t **out, zkc_queue_t *q, const plan_t *p,
                         const zkc_batch_t *b)
{
	int c0 = zkc_batch_code(b, (size_t)p->i_take0), c1 = zkc_batch_code(b, (size_t)p->i_take1);
	const char *data;
	size_t len = 0;

	if (c1 != ZKC_OK && c1 != ZKC_ECONNECTIONLOSS && c1 != ZKC_ETIMEDOUT && c1 != ZKC_ENONODE)
		return c1;
	pthread_mutex_lock(&q->mu);
	if (p->head == q->head)
		drop(q, p->entry);
	pthread_mutex_unlock(&q->mu);
	if (c1 == ZKC_ENONODE)
		return 1;
	data = c0 == ZKC_OK ? zkc_batch_data(b, (size_t)p->i_take0, &len) : NULL;
	*out = make_item(p->head, p->entry, data ? data : "", data ? len : 0, 0);
	return !*out ? ZKC_ENOMEM : c1 == ZKC_OK && c0 == ZKC_OK ? ZKC_OK : ZKC_EUNKNOWN;
}

/* One pipelined round: the take ops for the head candidate (if any) and
 * the child lists that are stale. Returns ZKC_OK with *out set on success,
 * ZKC_EAGAIN when the caller should wait (nothing to take, nothing stale),
 * a positive 1 to go round again, or a failure code. */
static int take_round(zkc_queue_item_t **out, zkc_queue_t *q, int mode)
{
	plan_t p = { mode, -1, 0, NULL, NULL, NULL, "", -1, -1, -1, -1, -1, NULL, NULL, NULL };
	zkc_batch_t *b = NULL;
	int rc, again = 0;

	zkc_session(&p.session, NULL, NULL, q->zk);
	if ((rc = zkc_batch_new(&b)) != ZKC_OK)
		return rc;
	pthread_mutex_lock(&q->mu);
	p.head = q->head;
	rc = plan_take(&p, b, q);
	if (rc >= 0)
		plan_refresh(&p, b, q);
	pthread_mutex_unlock(&q->mu);
	if (rc >= 0)
		rc = run_round(q, &p, b);
	if (rc == ZKC_OK)
		rc = apply_lists(q, &p, b, &again);
	if (rc == ZKC_OK && p.entry)
		rc = mode == ZKC_QUEUE_TAKE_ACK ? finish_ack(out, q, &p, b) : finish_delete(out, q, &p, b);
	else if (rc == ZKC_OK)
		rc = again ? 1 : ZKC_EAGAIN;
	plan_free(&p);
	zkc_batch_free(b);
	return rc;
}

/* When the head bucket is empty and a later bucket exists, the head is
 * sealed: remove it (fails harmlessly if a late put landed there) and move
 * on. Returns 1 when the head moved. */
static int advance_head(zkc_queue_t *q)
{
	char *bp = NULL;
	int next = -1, moved = 0;
	size_t i;

	pthread_mutex_lock(&q->mu);
	if (q->head >= 0 && !q->stale_entries && q->armed_bucket == q->head && pick(q) == NULL &&
	    q->pos >= q->cand.n) {
		for (i = 0; i < q->buckets.n; i++) {
			int k = bucket_index(q->buckets.v[i]);

			if (k > q->head && (next < 0 || k < next))
				next = k;
		}
		if (next > 0) {
			bp = bucket_path(q, q->head);
			set_head(q, next);
			q->stale_entries = 1;
			moved = 1;
		}
	}
	pthread_mutex_unlock(&q->mu);
	if (bp) {
		delete_async(q, bp);
		free(bp);
	}
	return moved;
}

int zkc_queue_take(zkc_queue_item_t **out, zkc_queue_t *q, int mode, int timeout_ms)
{
	int64_t deadline, prev;
	int rc;

	if (!out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue take: out is NULL");
	*out = NULL;
	if (!q || (mode != ZKC_QUEUE_TAKE_ACK && mode != ZKC_QUEUE_TAKE_DELETE))
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue %s: take: %s", q ? q->root : "(null)",
		                     !q ? "queue is NULL"
		                     : "mode is not ZKC_QUEUE_TAKE_ACK or ZKC_QUEUE_TAKE_DELETE");
	/* every request of the take ends by its deadline (0: one attempt) */
	prev = zkcr_deadline_enter_timeout(timeout_ms);
	deadline = zkc_deadline_bound();
	pthread_mutex_lock(&q->take_mu);
	for (;;) {
		unsigned gen;

		pthread_mutex_lock(&q->mu);
		gen = q->gen;
		pthread_mutex_unlock(&q->mu);
		if ((rc = zkc_cancel_check()) != ZKC_OK)
			break;
		rc = take_round(out, q, mode);
		if (rc == 1)
			continue;
		if (rc == ZKC_ETIMEDOUT || rc == ZKC_ECONNECTIONLOSS) {
			if (deadline >= 0 && zkcr_now_ms() >= deadline) {
				rc = zkc_error_set(ZKC_ETIMEDOUT, "queue %s: nothing taken within the "
				                   "timeout (%s)", q->root, zkc_strcode(rc));
				break;
			}
			continue;       /* no connection yet: try again */
		}
		if (rc != ZKC_EAGAIN)
			break;
		if (advance_head(q))
			continue;
		/* nothing to take: wait for a watch */
		if (timeout_ms == 0)
			break;
		pthread_mutex_lock(&q->mu);
		while (q->gen == gen && !q->closed &&
		       zkcr_cond_wait_until(&q->cv, &q->mu, deadline) == 0)
			;
		pthread_mutex_unlock(&q->mu);
		if ((rc = zkc_cancel_check()) != ZKC_OK)
			break;
		if (deadline >= 0 && zkcr_now_ms() >= deadline) {
			rc = zkc_error_set(ZKC_ETIMEDOUT, "queue %s: nothing taken within %d ms",
			                   q->root, timeout_ms);
			break;
		}
	}
	pthread_mutex_unlock(&q->take_mu);
	zkc_deadline_bind(prev);
	return rc;
}

/* ------------------------------------------------------------ ack */

static int item_paths(char **epath, char **mpath, int *b, zkc_queue_t *q,
                      const zkc_queue_item_t *item)
{
	const char *entry = NULL;
	char *m;

	*epath = *mpath = NULL;
	if (!q || parse_item(b, &entry, item) != ZKC_OK)
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue %s: ack/release: %s",
		                     q ? q->root : "(null)", !q ? "queue is NULL"
		                     : zkc_error_last()->message);
	m = marker_name(*b, entry);
	*epath = join3(q->root, item->name, NULL);
	*mpath = m ? join3(q->taken_dir, m, NULL) : NULL;
	free(m);
	if (!*epath || !*mpath) {
		free(*epath);
		free(*mpath);
		return zkc_error_set(ZKC_ENOMEM, "queue %s: out of memory", q->root);
	}
	return ZKC_OK;
}

static int same_session(zkc_queue_t *q, const zkc_queue_item_t *item)
{
	int64_t s = 0;

	return zkc_session(&s, NULL, NULL, q->zk) == ZKC_OK && s == item->session_id;
}

static void forget_marker(zkc_queue_t *q, const char *mpath)
{
	pthread_mutex_lock(&q->mu);
	names_del(&q->taken, strrchr(mpath, '/') + 1);
	pthread_mutex_unlock(&q->mu);
}

int zkc_queue_ack(zkc_queue_t *q, const zkc_queue_item_t *item)
{
	char *epath, *mpath;
	zkc_multi_t *m = NULL;
	int64_t deadline;
	int b, rc, tries = 0;

	if (!item || item->session_id == 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue ack: %s", !item ? "item is NULL"
		                     : "taken with ZKC_QUEUE_TAKE_DELETE: nothing to ack");
	if ((rc = item_paths(&epath, &mpath, &b, q, item)) != ZKC_OK)
		return rc;
	deadline = zkcr_now_ms() + ACK_DEADLINE_MS;
again:
	if (!same_session(q, item)) {
		rc = zkc_error_set(ZKC_ELOST, "queue %s: ack %s: taken on an older session; its "
		                   "marker went with it and the item is back in the queue", q->root,
		                   item->name);         /* the marker went with the old session */
	} else if ((rc = zkc_multi_new(&m)) == ZKC_OK) {
		char *probe = NULL;

		/* The ephemeral probe binds the transaction to the session that
		 * took the item: zkc never sends it on a later session
		 * (ZKC_ELOST), so an ack cannot delete the marker another
		 * consumer made after this session ended. */
		if (asprintf(&probe, "%s.ack", mpath) < 0)
			probe = NULL;
		zkc_multi_delete(m, epath, -1);
		zkc_multi_delete(m, mpath, -1);
		if (probe) {
			zkc_multi_create(m, probe, NULL, 0, ZKC_EPHEMERAL, q->acl);
			zkc_multi_delete(m, probe, -1);
		}
		free(probe);
		rc = zkc_multi_commit(NULL, q->zk, m);
		zkc_multi_free(m);
		m = NULL;
		if (rc == ZKC_ENONODE)
			rc = zkc_error_set(ZKC_ELOST, "queue %s: ack %s: its taken marker is gone "
			                   "(its session ended): the item is back in the queue",
			                   q->root, item->name);
		if (rc == ZKC_EUNKNOWN || rc == ZKC_ECONNECTIONLOSS || rc == ZKC_ETIMEDOUT) {
			/* Did a lost attempt commit? Only this session's ack
			 * deletes its marker, so while the session lasts an
			 * absent marker means it did. A marker still ours means
			 * it did not: send it again rather than leave the item
			 * taken for as long as the session lives. */
			int mine = marker_is_ours(q, mpath, item->session_id);

			if (mine == 0 && same_session(q, item))
				rc = ZKC_OK;
			else if (mine != 0 && zkcr_now_ms() < deadline) {
				tries++;
				usleep(tries < 10 ? 1000u * tries : 10000u);
				goto again;
			}
		}
	}
	forget_marker(q, mpath);
	free(epath);
	free(mpath);
	return rc;
}

/* A returned item is back in its place (mu held). A take dropped it from
 * the cached entries, and a re-read of the bucket may come only in the
 * same round as the next take, too late for that take: so put it back in
 * the cache now, and the next take finds it before anything behind it.
 * When the head moved past its bucket meanwhile, the head goes back there. */
static void restore_entry(zkc_queue_t *q, int b, const char *entry)
{
	if (q->head < 0 || b > q->head)
		return;         /* found when the head gets there */
	if (b < q->head) {
		set_head(q, b);
		q->stale_entries = 1;
		return;
	}
	names_add(&q->cand, entry);
	q->pos = 0;
}

int zkc_queue_release(zkc_queue_t *q, const zkc_queue_item_t *item)
{
	char *epath, *mpath;
	int b, rc;

	if (!item || item->session_id == 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue release: %s", !item ? "item is NULL"
		                     : "taken with ZKC_QUEUE_TAKE_DELETE: nothing to release");
	if ((rc = item_paths(&epath, &mpath, &b, q, item)) != ZKC_OK)
		return rc;
	if (!same_session(q, item))
		rc = zkc_error_set(ZKC_ELOST, "queue %s: release %s: taken on an older session; "
		                   "its marker went with it", q->root, item->name);
	else
		rc = zkc_delete(q->zk, mpath, -1, 0);
	if (rc == ZKC_ENONODE)
		rc = zkc_error_set(ZKC_ELOST, "queue %s: release %s: its taken marker is gone "
		                   "(its session ended)", q->root, item->name);
	forget_marker(q, mpath);
	pthread_mutex_lock(&q->mu);
	restore_entry(q, b, strchr(item->name, '/') + 1);
	q->stale_entries = 1;   /* it is back: see it again */
	pthread_mutex_unlock(&q->mu);
	free(epath);
	free(mpath);
	return rc;
}

/* ------------------------------------------------------------ peek, size */

int zkc_queue_peek(zkc_queue_item_t **out, zkc_queue_t *q)
{
	zkc_strings_t *kids = NULL, *taken = NULL;
	names_t sorted = { NULL, 0 }, tk = { NULL, 0 };
	int *v = NULL, rc;
	size_t nb = 0, bi, i;

	if (!out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue peek: out is NULL");
	*out = NULL;
	if (!q)
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue peek: queue is NULL");
	if ((rc = zkc_children(&taken, NULL, q->zk, q->taken_dir)) != ZKC_OK)
		return rc;
	rc = names_set(&tk, taken, NULL);
	zkc_strings_free(taken);
	if (rc == ZKC_OK)
		rc = list_buckets(&v, &nb, q);
	for (bi = 0; rc == ZKC_OK && bi < nb && !*out; bi++) {
		char *bp = bucket_path(q, v[bi]);

		rc = bp ? zkc_children(&kids, NULL, q->zk, bp) : ZKC_ENOMEM;
		if (rc == ZKC_ENONODE) {
			rc = ZKC_OK;
			free(bp);
			continue;
		}
		if (rc == ZKC_OK)
			rc = names_set(&sorted, kids, ENTRY_PREFIX);
		zkc_strings_free(kids);
		kids = NULL;
		for (i = 0; rc == ZKC_OK && i < sorted.n; i++) {
			char *m = marker_name(v[bi], sorted.v[i]), *ep, *d = NULL;
			size_t len = 0;
			int c, tkn = !m || names_has(&tk, m);

			free(m);
			if (tkn)
				continue;
			ep = join3(bp, sorted.v[i], NULL);
			c = ep ? zkc_get(&d, &len, NULL, q->zk, ep) : ZKC_ENOMEM;
			free(ep);
			if (c == ZKC_ENONODE)
				continue;
			if (c != ZKC_OK) {
				rc = c;
				break;
			}
			*out = make_item(v[bi], sorted.v[i], d, len, 0);
			zkc_free(d);
			if (!*out)
				rc = zkc_error_set(ZKC_ENOMEM, "queue %s: out of memory", q->root);
			break;
		}
		free(bp);
	}
	names_clear(&sorted);
	names_clear(&tk);
	free(v);
	if (rc == ZKC_OK && !*out)
		rc = zkc_error_set(ZKC_EAGAIN, "queue %s: empty", q->root);
	return rc;
}

int zkc_queue_size(size_t *out, size_t *out_taken, zkc_queue_t *q)
{
	zkc_batch_t *b = NULL;
	int *v = NULL, rc;
	size_t nb = 0, i, total = 0;

	if (!q)
		return zkc_error_set(ZKC_EBADARGUMENTS, "queue size: queue is NULL");
	if ((rc = list_buckets(&v, &nb, q)) != ZKC_OK)
		return rc;
	if ((rc = zkc_batch_new(&b)) != ZKC_OK) {
		free(v);
		return rc;
	}
	zkc_batch_exists(b, q->taken_dir, 0, NULL, NULL);
	for (i = 0; i < nb; i++) {
		char *bp = bucket_path(q, v[i]);

		if (bp)
			zkc_batch_exists(b, bp, 0, NULL, NULL);
		free(bp);
	}
	rc = zkc_batch_run(q->zk, b);
	for (i = 0; rc == ZKC_OK && i < zkc_batch_count(b); i++) {
		zkc_stat_t st;
		int c = zkc_batch_stat(&st, b, i);

		if (c == ZKC_ENONODE && i > 0)
			continue;
		if (c != ZKC_OK) {
			rc = c == ZKC_ECONNECTIONLOSS ? ZKC_ETIMEDOUT : c;
			break;
		}
		if (i == 0) {
			if (out_taken)
				*out_taken = (size_t)st.num_children;
		} else {
			total += (size_t)st.num_children;
		}
	}
	zkc_batch_free(b);
	free(v);
	if (rc == ZKC_OK && out)
		*out = total;
	return rc;
}

int zkc_queue_options_init(zkc_queue_options_t *opts, unsigned int version)
{
	static const zkc_queue_options_t init = ZKC_QUEUE_OPTIONS_INIT;
	int rc;

	if (!opts)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_queue_options_init: opts is NULL");
	rc = zkc_options_version_check("zkc_queue_options_init", (int)version, ZKC_QUEUE_OPTIONS_VERSION);
	if (rc != ZKC_OK)
		return rc;
	*opts = init;
	opts->version = (int)version;
	return ZKC_OK;
}
