/* recipes/election.c - leader latch on the public zkc API. Every step runs
 * as an asynchronous batch whose completion, like every watch and state
 * listener, runs on the client's event thread: one step in flight at a
 * time, so the state below changes in one order. User threads only join,
 * resign, close and read. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "zkc/election.h"
#include "zkc/batch.h"
#include "zkc/cancel.h"
#include "lock_internal.h"
#include "support.h"

#define LATCH "latch-"

enum step { STEP_JOIN = 1, STEP_CHECK, STEP_WATCH, STEP_SEARCH, STEP_CLEANUP };

struct pending_event {
	int type;
	int64_t epoch;
	int reason;
	unsigned rgen;
};

struct zkc_election {
	zkc_t *zk;
	char *dir;
	char *id;
	size_t id_len;
	int policy;
	zkc_election_fn fn;
	void *payload;
	zkc_acl_list_t *acl;        /* deep copy; NULL = client's */
	int listener_id;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;
	int closed;
	int joined;
	int error;            /* a non-transient failure stopped the candidate */
	unsigned gen;         /* bumped when the node's validity changes */
	unsigned rgen;        /* bumped at resign/close: stale events dropped */
	int busy;             /* a step is in flight */
	int again;            /* something happened meanwhile: check again */
	int need_parents;
	int searching;        /* create outcome unknown: look for uuid */
	char uuid[40];
	char *node;           /* own node name, NULL when none */
	int64_t node_czxid;
	int64_t node_session;
	int leader;
	int64_t epoch;

	struct pending_event ev[8];
	int nev;
	int cb_running;
	pthread_t cb_thread;

	/* event queue (no fn given): readable efd while q holds events */
	int efd;
	zkc_election_event_t q[64];
	unsigned qhead, qlen;
};

struct token {
	zkc_election_t *e;
	unsigned gen;
	int step;
};

static void el_unref(zkc_election_t *e)
{
	int last;

	pthread_mutex_lock(&e->mu);
	last = --e->refs == 0;
	pthread_mutex_unlock(&e->mu);
	if (!last)
		return;
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cv);
	free(e->dir);
	free(e->id);
	free(e->node);
	zkcr_acl_free(e->acl);
	if (e->efd >= 0)
		close(e->efd);
	free(e);
}

static char *join_path(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);

	if (!p)
		return NULL;
	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

static void new_uuid(char out[40])
{
	unsigned char r[16];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		for (i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)((uint64_t)ts.tv_nsec >> (i % 8) ^ (unsigned)rand());
	}
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5], r[6],
	    r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

/* The part of a name that orders it: what follows the last "latch-", as
 * Curator's sorter does; NULL for names that are not candidates. */
static const char *seq_of(const char *name)
{
	const char *p = NULL, *q = name;

	while ((q = strstr(q, LATCH)) != NULL) {
		p = q + strlen(LATCH);
		q = p;
	}
	return p;
}

static int by_seq(const void *a, const void *b)
{
	return strcmp(seq_of(*(char *const *)a), seq_of(*(char *const *)b));
}

/* Candidate names of a child list, sorted (pointers into the list). */
static char **sorted_candidates(const zkc_strings_t *kids, size_t *out_n)
{
	char **v = malloc((kids->count + 1) * sizeof(*v));
	size_t i, n = 0;

	if (!v)
		return NULL;
	for (i = 0; i < kids->count; i++)
		if (seq_of(kids->items[i]))
			v[n++] = kids->items[i];
	qsort(v, n, sizeof(*v), by_seq);
	*out_n = n;
	return v;
}

static int64_t current_session(zkc_t *zk)
{
	int64_t sid = 0;

	return zkc_session(&sid, NULL, NULL, zk) == ZKC_OK ? sid : 0;
}

/* Errors that retrying cannot cure: the caller's input or rights. Anything
 * else (connection loss, timeouts, a session ending) is retried. */
static int permanent(int rc)
{
	return rc == ZKC_ENOAUTH || rc == ZKC_EAUTHFAILED || rc == ZKC_EINVALIDACL ||
	    rc == ZKC_EBADARGUMENTS || rc == ZKC_ETOOLARGE || rc == ZKC_EUNIMPLEMENTED ||
	    rc == ZKC_ENOCHILDRENFOREPHEMERALS || rc == ZKC_ENOMEM;
}

static int transient(int rc)
{
	return rc != ZKC_OK && rc != ZKC_ENONODE && !permanent(rc);
}

/* ------------------------------------------------------------ state (locked) */

static void push_event(zkc_election_t *e, int type, int reason)
{
	if (e->nev == (int)(sizeof(e->ev) / sizeof(e->ev[0])))
		return;
	e->ev[e->nev].type = type;
	e->ev[e->nev].epoch = e->epoch;
	e->ev[e->nev].reason = reason;
	e->ev[e->nev].rgen = e->rgen;
	e->nev++;
}

static void step_down(zkc_election_t *e, int reason)
{
	if (!e->leader)
		return;
	e->leader = 0;
	push_event(e, ZKC_ELECTION_NOT_LEADER, reason);
	pthread_cond_broadcast(&e->cv);
}

static void forget_node(zkc_election_t *e, int reason)
{
	step_down(e, reason);
	free(e->node);
	e->node = NULL;
	e->gen++;
}

static int can_lead_now(zkc_election_t *e)
{
	int st = zkc_state(e->zk);

	if (st == ZKC_STATE_CONNECTED || st == ZKC_STATE_RECONNECTED)
		return 1;
	return st == ZKC_STATE_SUSPENDED && e->policy == ZKC_ELECTION_STEP_DOWN_LOST;
}

/* Adds the missing ancestors of dir (containers) to b. */
static int add_parents(zkc_batch_t *b, const char *dir)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	char *p = strdup(dir), *s;
	int rc = ZKC_OK;

	if (!p)
		return zkc_error_set(ZKC_ENOMEM, "election %s: out of memory", dir);
	co.mode = ZKC_CONTAINER;
	for (s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
		if (s)
			*s = '\0';
		if ((rc = zkc_batch_create(b, p, NULL, 0, &co)) < 0)
			break;
		if (!s)
			break;
		*s = '/';
	}
	free(p);
	return rc < 0 ? rc : ZKC_OK;
}

/* Decides the next step and builds its batch; NULL when nothing to send. */
static zkc_batch_t *next_step(zkc_election_t *e, int *out_step)
{
	zkc_batch_t *b = NULL;
	char *path = NULL;
	int rc = ZKC_OK;

	if (e->closed || !e->joined || e->error || e->busy || !e->again)
		return NULL;
	if (zkc_batch_new(&b) != ZKC_OK)
		return NULL;
	if (!e->node && e->searching) {
		*out_step = STEP_SEARCH;
		if ((rc = zkc_batch_sync(b, e->dir)) >= 0)
			rc = zkc_batch_children(b, e->dir, 0, NULL, NULL);
	} else if (!e->node) {
		zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
		char name[96];

		*out_step = STEP_JOIN;
		new_uuid(e->uuid);
		co.mode = ZKC_EPHEMERAL_SEQUENTIAL;
		co.acl = e->acl;
		snprintf(name, sizeof(name), "_c_%s-" LATCH, e->uuid);
		if (e->need_parents)
			rc = add_parents(b, e->dir);
		if (rc >= 0 && (path = join_path(e->dir, name)) == NULL)
			rc = zkc_error_set(ZKC_ENOMEM, "election %s: out of memory", e->dir);
		if (rc >= 0)
			rc = zkc_batch_create(b, path, e->id, e->id_len, &co);
		if (rc >= 0)
			rc = zkc_batch_children(b, e->dir, 0, NULL, NULL);
	} else {
		*out_step = STEP_CHECK;
		if ((path = join_path(e->dir, e->node)) == NULL)
			rc = zkc_error_set(ZKC_ENOMEM, "election %s: out of memory", e->dir);
		if (rc >= 0)
			rc = zkc_batch_children(b, e->dir, 0, NULL, NULL);
		if (rc >= 0)
			rc = zkc_batch_exists(b, path, 0, NULL, NULL);
	}
	free(path);
	if (rc < 0) {
		zkc_batch_free(b);
		e->error = rc;
		pthread_cond_broadcast(&e->cv);
		return NULL;
	}
	e->busy = 1;
	e->again = 0;
	return b;
}

/* ------------------------------------------------------------ event thread */

static void on_done(zkc_t *zk, const zkc_batch_t *b, void *payload);
static void on_watch(zkc_t *zk, const zkc_event_t *ev, void *payload);

/* Sends b (built under the lock by next_step) with a token for step. */
static void launch(zkc_election_t *e, zkc_batch_t *b, int step, unsigned gen)
{
	struct token *t;

	if (!b)
		return;
	t = malloc(sizeof(*t));
	if (t) {
		pthread_mutex_lock(&e->mu);
		e->refs++;
		pthread_mutex_unlock(&e->mu);
		t->e = e;
		t->gen = gen;
		t->step = step;
		if (zkc_batch_run_async(e->zk, b, on_done, t) == ZKC_OK)
			return;
		free(t);
		el_unref(e);
	}
	zkc_batch_free(b);
	pthread_mutex_lock(&e->mu);
	e->busy = 0;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

/* Without a callback, events go to the election's queue (mu held). When
 * nobody reads it, the oldest event makes room: the newest state is what
 * a late reader needs. */
static void queue_event(zkc_election_t *e, const struct pending_event *pe)
{
	const unsigned cap = sizeof(e->q) / sizeof(e->q[0]);
	uint64_t one = 1;

	if (e->qlen == cap) {
		e->qhead = (e->qhead + 1) % cap;
		e->qlen--;
	}
	e->q[(e->qhead + e->qlen) % cap].type = pe->type;
	e->q[(e->qhead + e->qlen) % cap].epoch = pe->epoch;
	e->q[(e->qhead + e->qlen) % cap].reason = pe->reason;
	e->qlen++;
	if (e->efd >= 0 && write(e->efd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow at 64 entries */
	}
	pthread_cond_broadcast(&e->cv);
}

/* Delivers queued events (event thread only), then sends the next step. */
static void settle(zkc_election_t *e)
{
	zkc_batch_t *b;
	unsigned gen;
	int step = 0;

	pthread_mutex_lock(&e->mu);
	while (e->nev > 0) {
		struct pending_event pe = e->ev[0];

		memmove(e->ev, e->ev + 1, (size_t)(e->nev - 1) * sizeof(e->ev[0]));
		e->nev--;
		if (e->closed || pe.rgen != e->rgen)
			continue;
		if (!e->fn) {
			queue_event(e, &pe);
			continue;
		}
		e->cb_running = 1;
		e->cb_thread = pthread_self();
		pthread_mutex_unlock(&e->mu);
		e->fn(e, pe.type, pe.epoch, pe.reason, e->payload);
		pthread_mutex_lock(&e->mu);
		e->cb_running = 0;
		pthread_cond_broadcast(&e->cv);
	}
	b = next_step(e, &step);
	gen = e->gen;
	pthread_mutex_unlock(&e->mu);
	launch(e, b, step, gen);
}

/* Sets up the predecessor watch (under the lock); returns the batch. */
static zkc_batch_t *watch_step(zkc_election_t *e, const char *pred, struct token **out_t)
{
	zkc_batch_t *b = NULL;
	struct token *t;
	char *path = join_path(e->dir, pred);

	t = malloc(sizeof(*t));
	if (!path || !t || zkc_batch_new(&b) != ZKC_OK) {
		free(path);
		free(t);
		return NULL;
	}
	t->e = e;
	t->gen = e->gen;
	t->step = STEP_WATCH;
	/* getData, not exists: no watch is left behind on a missing node */
	if (zkc_batch_get(b, path, 1, on_watch, t) < 0) {
		free(path);
		free(t);
		zkc_batch_free(b);
		return NULL;
	}
	e->refs++;   /* held by the watch */
	free(path);
	*out_t = t;
	return b;
}

/* Looks at the sorted candidates (under the lock). Returns the batch of a
 * predecessor watch when one is needed. */
static zkc_batch_t *decide(zkc_election_t *e, const zkc_strings_t *kids, struct token **out_t)
{
	size_t n = 0, i;
	char **v;
	zkc_batch_t *b = NULL;

	if (!e->node)
		return NULL;
	v = sorted_candidates(kids, &n);
	if (!v)
		return NULL;
	for (i = 0; i < n && strcmp(v[i], e->node) != 0; i++)
		;
	if (i == n) {
		forget_node(e, ZKC_ELECTION_REASON_NODE_GONE);
		e->again = 1;
	} else if (i == 0) {
		if (!e->leader && can_lead_now(e)) {
			e->leader = 1;
			e->epoch = e->node_czxid;
			push_event(e, ZKC_ELECTION_LEADER, 0);
			pthread_cond_broadcast(&e->cv);
			/* the leader watches its own node: deleted by someone, it
			 * steps down at once instead of at the next reconnect */
			b = watch_step(e, e->node, out_t);
		}
	} else {
		step_down(e, ZKC_ELECTION_REASON_NODE_GONE);
		b = watch_step(e, v[i - 1], out_t);
		if (!b)
			e->again = 1;
	}
	free(v);
	return b;
}

/* Deletes a node of ours that a stale step created (same session only). */
static void cleanup_node(zkc_election_t *e, const char *path)
{
	zkc_batch_t *b = NULL;

	if (zkc_batch_new(&b) != ZKC_OK)
		return;
	if (zkc_batch_delete(b, path, -1) < 0 ||
	    zkc_batch_run_async(e->zk, b, NULL, NULL) != ZKC_OK)
		zkc_batch_free(b);
}

static void handle_join(zkc_election_t *e, const zkc_batch_t *b, int stale, zkc_batch_t **wb,
                        struct token **wt)
{
	size_t n = zkc_batch_count(b), ci = n - 2, ki = n - 1;
	int rc = zkc_batch_code(b, ci);
	const char *made = zkc_batch_path(b, ci);
	zkc_stat_t st;

	if (rc == ZKC_OK && made) {
		const char *name = strrchr(made, '/') + 1;

		if (stale || zkc_batch_stat(&st, b, ci) != ZKC_OK) {
			if (zkc_batch_session(b) == current_session(e->zk))
				cleanup_node(e, made);
			return;
		}
		e->need_parents = 0;
		e->searching = 0;
		e->node = strdup(name);
		e->node_czxid = st.czxid;
		e->node_session = st.ephemeral_owner;
		if (!e->node) {
			cleanup_node(e, made);
			e->error = zkc_error_set(ZKC_ENOMEM, "election %s: out of memory", e->dir);
			return;
		}
		if (zkc_batch_code(b, ki) == ZKC_OK)
			*wb = decide(e, zkc_batch_children_of(b, ki), wt);
		else
			e->again = 1;
		return;
	}
	if (stale)
		return;   /* a lost create of an old generation dies with its session
		           * or is found by no one: the search is for this uuid only */
	if (rc == ZKC_ENONODE) {
		e->need_parents = 1;
		e->again = 1;
	} else if (rc == ZKC_ECONNECTIONLOSS || rc == ZKC_ETIMEDOUT || rc == ZKC_EUNKNOWN) {
		e->searching = 1;   /* the create may have happened */
	} else if (permanent(rc)) {
		e->error = rc;
		pthread_cond_broadcast(&e->cv);
	}
}

static void handle_search(zkc_election_t *e, const zkc_batch_t *b)
{
	const zkc_strings_t *kids = zkc_batch_children_of(b, 1);
	char prefix[64];
	size_t i;
	int rc = zkc_batch_code(b, 1);

	if (rc == ZKC_ENONODE) {
		e->searching = 0;
		e->need_parents = 1;
		return;
	}
	if (rc != ZKC_OK || !kids)
		return;
	e->searching = 0;
	snprintf(prefix, sizeof(prefix), "_c_%s-", e->uuid);
	for (i = 0; i < kids->count; i++)
		if (strncmp(kids->items[i], prefix, strlen(prefix)) == 0)
			break;
	if (i < kids->count) {
		/* ownership is verified by the check that follows */
		e->node = strdup(kids->items[i]);
		e->node_czxid = 0;
		e->node_session = zkc_batch_session(b);
	}
	e->again = 1;
}

static void handle_check(zkc_election_t *e, const zkc_batch_t *b, zkc_batch_t **wb,
                         struct token **wt)
{
	int rk = zkc_batch_code(b, 0), rs = zkc_batch_code(b, 1);
	zkc_stat_t st;

	if (rk == ZKC_ENONODE || rs == ZKC_ENONODE) {
		forget_node(e, ZKC_ELECTION_REASON_NODE_GONE);
		if (rk == ZKC_ENONODE)
			e->need_parents = 1;
		e->again = 1;
		return;
	}
	if (rk != ZKC_OK || rs != ZKC_OK || zkc_batch_stat(&st, b, 1) != ZKC_OK)
		return;   /* transport trouble: the state events bring us back */
	/* the node is ours only if this very session owns it (docs/design.md, rule 3) */
	if (st.ephemeral_owner != e->node_session ||
	    st.ephemeral_owner != zkc_batch_session(b) ||
	    st.ephemeral_owner != current_session(e->zk)) {
		forget_node(e, ZKC_ELECTION_REASON_NODE_GONE);
		e->again = 1;
		return;
	}
	e->node_czxid = st.czxid;
	*wb = decide(e, zkc_batch_children_of(b, 0), wt);
}

/* Completion of a predecessor watch's read: when the read failed no watch
 * was set and its token is ours to drop; then look again. */
struct watch_sent {
	zkc_election_t *e;
	struct token *t;
};

static void on_watch_sent(zkc_t *zk, const zkc_batch_t *b, void *payload)
{
	struct watch_sent *ws = payload;
	zkc_election_t *e = ws->e;
	int rc = zkc_batch_code(b, 0);
	(void)zk;

	if (rc != ZKC_OK) {
		/* ENONODE: the predecessor is already gone */
		pthread_mutex_lock(&e->mu);
		if (!e->closed && ws->t->gen == e->gen)
			e->again = 1;
		e->refs--;   /* the watch's ref; ours (ws) keeps e alive */
		pthread_mutex_unlock(&e->mu);
		free(ws->t);
		settle(e);
	}
	free(ws);
	el_unref(e);
}


static int any_transient(const zkc_batch_t *b, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (transient(zkc_batch_code(b, (size_t)i)))
			return 1;
	return 0;
}

static void on_done(zkc_t *zk, const zkc_batch_t *b, void *payload)
{
	struct token *t = payload;
	zkc_election_t *e = t->e;
	zkc_batch_t *wb = NULL;
	struct token *wt = NULL;
	int stale, n = (int)zkc_batch_count(b);
	(void)zk;

	pthread_mutex_lock(&e->mu);
	stale = e->closed || t->gen != e->gen || !e->joined;
	if (t->step == STEP_JOIN)
		handle_join(e, b, stale, &wb, &wt);
	else if (!stale && t->step == STEP_SEARCH)
		handle_search(e, b);
	else if (!stale && t->step == STEP_CHECK)
		handle_check(e, b, &wb, &wt);
	e->busy = 0;
	pthread_cond_broadcast(&e->cv);   /* close and resign wait for this */
	/* a transport failure while connected would otherwise wait for a state
	 * event that may never come */
	if (stale || (!wb && any_transient(b, n) && can_lead_now(e)))
		e->again = 1;
	pthread_mutex_unlock(&e->mu);
	free(t);
	if (wb) {
		struct watch_sent *ws = malloc(sizeof(*ws));

		if (ws) {
			pthread_mutex_lock(&e->mu);
			e->refs++;
			pthread_mutex_unlock(&e->mu);
			ws->e = e;
			ws->t = wt;
		}
		if (!ws || zkc_batch_run_async(e->zk, wb, on_watch_sent, ws) != ZKC_OK) {
			zkc_batch_free(wb);   /* its watch never fires: drop its ref */
			free(wt);
			pthread_mutex_lock(&e->mu);
			e->again = 1;
			e->refs -= ws ? 2 : 1;
			pthread_mutex_unlock(&e->mu);
			free(ws);
		}
	}
	settle(e);
	el_unref(e);
}


static void on_watch(zkc_t *zk, const zkc_event_t *ev, void *payload)
{
	struct token *t = payload;
	zkc_election_t *e = t->e;
	int go;
	(void)zk;
	(void)ev;

	pthread_mutex_lock(&e->mu);
	/* any end of the predecessor's watch means: look again (a cancelled
	 * watch comes with a session change, which the listener handles) */
	go = !e->closed && t->gen == e->gen && ev->type != ZKC_EVENT_WATCH_CANCELLED;
	if (go)
		e->again = 1;
	pthread_mutex_unlock(&e->mu);
	free(t);
	if (go)
		settle(e);
	el_unref(e);
}

static void on_state(zkc_t *zk, int state, int64_t session_id, void *payload)
{
	zkc_election_t *e = payload;
	(void)zk;
	(void)session_id;

	pthread_mutex_lock(&e->mu);
	if (e->closed) {
		pthread_mutex_unlock(&e->mu);
		return;
	}
	e->refs++;
	switch (state) {
	case ZKC_STATE_SUSPENDED:
		if (e->policy == ZKC_ELECTION_STEP_DOWN_SUSPENDED)
			step_down(e, ZKC_ELECTION_REASON_SUSPENDED);
		break;
	case ZKC_STATE_LOST:
	case ZKC_STATE_CLOSED:
		/* the node went with the session; join again at the next
		 * CONNECTED, never before LOST is heard (docs/design.md, rule 3) */
		forget_node(e, ZKC_ELECTION_REASON_LOST);
		e->searching = 0;
		break;
	case ZKC_STATE_CONNECTED:
	case ZKC_STATE_RECONNECTED:
		e->again = 1;
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&e->mu);
	settle(e);
	el_unref(e);
}

/* ------------------------------------------------------------ public */

int zkc_election_open(zkc_election_t **out, zkc_t *zk, const char *path,
                      const zkc_election_options_t *opts)
{
	zkc_election_options_t def = ZKC_ELECTION_OPTIONS_INIT;
	zkc_election_t *e;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !zk || !path)
		return zkc_error_set(ZKC_EBADARGUMENTS, "election open: %s is NULL", !out ? "out"
		                     : !zk ? "client" : "path");
	if ((rc = zkc_path_validate(path, (size_t)-1)) != ZKC_OK)
		return rc;
	if (strcmp(path, "/") == 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "election /: the root cannot be an "
		                     "election directory");
	if (!opts)
		opts = &def;
	if (zkc_options_version_check("zkc_election_open", opts->version,
	                              ZKC_ELECTION_OPTIONS_VERSION) != ZKC_OK)
		return zkc_error_set(ZKC_EBADARGUMENTS, "election %s: %s", path,
		                     zkc_error_last()->message);
	if (opts->step_down != ZKC_ELECTION_STEP_DOWN_SUSPENDED &&
	    opts->step_down != ZKC_ELECTION_STEP_DOWN_LOST)
		return zkc_error_set(ZKC_EBADARGUMENTS, "election %s: step_down %d: use "
		                     "ZKC_ELECTION_STEP_DOWN_SUSPENDED or "
		                     "ZKC_ELECTION_STEP_DOWN_LOST", path, (int)opts->step_down);
	if (opts->id && strlen(opts->id) > ZKC_MAX_DATA_LEN)
		return zkc_error_set(ZKC_ETOOLARGE, "election %s: id of %zu bytes is over the "
		                     "%d-byte limit", path, strlen(opts->id), ZKC_MAX_DATA_LEN);
	e = calloc(1, sizeof(*e));
	if (!e)
		return zkc_error_set(ZKC_ENOMEM, "election %s: out of memory", path);
	e->zk = zk;
	e->dir = strdup(path);
	e->id = strdup(opts->id ? opts->id : "");
	rc = zkcr_acl_copy(&e->acl, opts->acl, "election");
	if (rc == ZKC_OK && (!e->dir || !e->id))
		rc = ZKC_ENOMEM;
	if (rc == ZKC_OK && zkcr_cond_init(&e->cv) != ZKC_OK)
		rc = ZKC_ENOMEM;
	if (rc != ZKC_OK) {
		zkcr_acl_free(e->acl);
		free(e->dir);
		free(e->id);
		free(e);
		if (rc == ZKC_ENOMEM)
			return zkc_error_set(rc, "election %s: out of memory", path);
		return zkc_error_set(rc, "election %s: %s", path, zkc_error_last()->message);
	}
	e->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->efd < 0) {
		rc = zkc_error_set(ZKC_EOS, "election %s: eventfd: %s", path, strerror(errno));
		zkcr_acl_free(e->acl);
		free(e->dir);
		free(e->id);
		free(e);
		return rc;
	}
	e->id_len = strlen(e->id);
	e->policy = opts->step_down;
	e->fn = opts->fn;
	e->payload = opts->payload;
	e->refs = 1;
	pthread_mutex_init(&e->mu, NULL);
	if ((rc = zkc_listener_add(&e->listener_id, zk, on_state, e)) != ZKC_OK) {
		e->refs = 1;
		el_unref(e);
		return rc;
	}
	*out = e;
	return ZKC_OK;
}

int zkc_election_join(zkc_election_t *e)
{
	zkc_batch_t *b;
	unsigned gen;
	int step = 0;

	if (!e)
		return zkc_error_set(ZKC_EBADARGUMENTS, "election join: election is NULL");
	pthread_mutex_lock(&e->mu);
	if (e->closed) {
		pthread_mutex_unlock(&e->mu);
		return zkc_error_set(ZKC_ECLOSED, "election %s: closed", e->dir);
	}
	if (e->joined) {
		pthread_mutex_unlock(&e->mu);
		return ZKC_OK;
	}
	e->joined = 1;
	e->error = 0;
	e->again = 1;
	b = next_step(e, &step);
	gen = e->gen;
	pthread_mutex_unlock(&e->mu);
	launch(e, b, step, gen);
	return ZKC_OK;
}

int zkc_election_await(int64_t *out_epoch, zkc_election_t *e, int timeout_ms)
{
	/* a deadline bound to the thread (zkc/cancel.h) ends the wait too */
	int64_t deadline = zkcr_deadline_earlier(zkcr_deadline(timeout_ms), zkc_deadline_bound());
	int rc;

	if (!e)
		return zkc_error_set(ZKC_EBADARGUMENTS, "election await: election is NULL");
	pthread_mutex_lock(&e->mu);
	for (;;) {
		if (e->leader) {
			if (out_epoch)
				*out_epoch = e->epoch;
			rc = ZKC_OK;
			break;
		}
		if (e->closed || !e->joined) {
			rc = zkc_error_set(ZKC_ECANCELED, "election %s: %s", e->dir, e->closed
			                   ? "closed while waiting"
			                   : "not joined (resigned or never joined)");
			break;
		}
		if (e->error) {
			rc = zkc_error_set(e->error, "election %s: joining failed: %s", e->dir,
			                   zkc_strerror(e->error));
			break;
		}
		rc = zkcr_cond_wait_until(&e->cv, &e->mu, deadline);
		if (rc == ZKC_ETIMEDOUT)
			rc = zkc_error_set(rc, "election %s: not leader within %d ms", e->dir,
			                   timeout_ms);
		else if (rc == ZKC_ECANCELED)
			rc = zkc_error_set(rc, "election %s: await canceled by another thread", e->dir);
		if (rc == ZKC_ETIMEDOUT || rc == ZKC_ECANCELED)
			break;
	}
	pthread_mutex_unlock(&e->mu);
	return rc;
}

int zkc_election_is_leader(int64_t *out_epoch, zkc_election_t *e)
{
	int l;

	if (!e)
		return 0;
	pthread_mutex_lock(&e->mu);
	l = e->leader && !e->closed;
	if (l && out_epoch)
		*out_epoch = e->epoch;
	pthread_mutex_unlock(&e->mu);
	return l;
}

int zkc_election_node(char **out, zkc_election_t *e)
{
	int rc = ZKC_ENONODE;

	if (!out || !e)
		return zkc_error_set(ZKC_EBADARGUMENTS, "election node: %s is NULL", !out ? "out"
		                     : "election");
	*out = NULL;
	pthread_mutex_lock(&e->mu);
	if (e->node && !e->closed) {
		*out = join_path(e->dir, e->node);
		rc = *out ? ZKC_OK : ZKC_ENOMEM;
	}
	pthread_mutex_unlock(&e->mu);
	if (rc != ZKC_OK)
		return zkc_error_set(rc, "election %s: %s", e->dir, rc == ZKC_ENOMEM
		                     ? "out of memory"
		                     : "no node of ours (not joined, or between sessions)");
	return rc;
}

int zkc_election_fence(char **out_path, int64_t *out_epoch, zkc_election_t *e)
{
	int rc = ZKC_EINVALIDSTATE;

	if (!out_path || !e)
		return zkc_error_set(ZKC_EBADARGUMENTS, "election fence: %s is NULL", !out_path
		                     ? "out_path" : "election");
	*out_path = NULL;
	pthread_mutex_lock(&e->mu);
	if (e->leader && e->node && !e->closed) {
		*out_path = join_path(e->dir, e->node);
		rc = *out_path ? ZKC_OK : ZKC_ENOMEM;
		if (out_epoch)
			*out_epoch = e->epoch;
	}
	pthread_mutex_unlock(&e->mu);
	if (rc != ZKC_OK)
		return zkc_error_set(rc, "election %s: %s", e->dir, rc == ZKC_ENOMEM
		                     ? "out of memory" : "not the leader: no fence");
	return rc;
}

/* Drops the node (locked part of resign and close); returns its path if it
 * belongs to the current session and must be deleted. */
static char *leave_locked(zkc_election_t *e)
{
	char *path = NULL;

	e->joined = 0;
	e->gen++;
	e->rgen++;
	e->leader = 0;
	e->searching = 0;
	if (e->node && e->node_session == current_session(e->zk))
		path = join_path(e->dir, e->node);
	free(e->node);
	e->node = NULL;
	pthread_cond_broadcast(&e->cv);
	return path;
}

/* Waits (mu held) until no step is in flight: a join whose reply has not
 * been handled yet made a node that only its completion knows, and cleans
 * it up there (stale generation). Not on the event thread, which runs it. */
static void wait_idle_locked(zkc_election_t *e)
{
	while (e->busy && !zkc_on_event_thread(e->zk))
		pthread_cond_wait(&e->cv, &e->mu);
}

static int delete_own(zkc_election_t *e, char *path)
{
	int rc = ZKC_OK;

	if (path) {
		rc = zkc_delete(e->zk, path, -1, 0);
		free(path);
		rc = rc == ZKC_ENONODE ? ZKC_OK : rc;
	} else if (!zkc_on_event_thread(e->zk)) {
		/* A stale join's cleanup went out as an async delete on this
		 * session: a read behind it returns once it is applied, so when
		 * we return no node of ours is left for others to see. */
		int erc = zkc_exists(NULL, e->zk, e->dir);

		(void)erc;
	}
	return rc;
}

int zkc_election_resign(zkc_election_t *e)
{
	char *path;

	if (!e)
		return zkc_error_set(ZKC_EBADARGUMENTS, "election resign: election is NULL");
	pthread_mutex_lock(&e->mu);
	if (e->closed) {
		pthread_mutex_unlock(&e->mu);
		return zkc_error_set(ZKC_ECLOSED, "election %s: closed", e->dir);
	}
	path = leave_locked(e);
	/* a join still in flight is cleaned up by its completion (stale gen) */
	wait_idle_locked(e);
	pthread_mutex_unlock(&e->mu);
	return delete_own(e, path);
}

void zkc_election_close(zkc_election_t *e)
{
	char *path;
	int64_t sid;

	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	if (e->closed) {
		pthread_mutex_unlock(&e->mu);
		return;
	}
	sid = e->node_session;
	path = leave_locked(e);
	e->closed = 1;
	wait_idle_locked(e);
	while (e->cb_running && !pthread_equal(e->cb_thread, pthread_self()))
		pthread_cond_wait(&e->cv, &e->mu);
	pthread_mutex_unlock(&e->mu);
	zkc_listener_remove(e->zk, e->listener_id);
	/* A destructor cannot fail: the node goes in the background (the
	 * session's order puts the delete before later requests). */
	if (path)
		zkcr_lock_delete_bg(e->zk, path, sid);
	free(path);
	el_unref(e);
}

/* ------------------------------------------------------------ queries */

void zkc_election_participants_free(zkc_election_participants_t *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->count; i++) {
		free(p->items[i].id);
		free(p->items[i].node);
	}
	free(p->items);
	free(p);
}

/* Reads the candidates' nodes v[0..want) in one batch (*out on ZKC_OK). */
static int get_candidates(zkc_batch_t **out, zkc_t *zk, const char *path, char **v,
                          size_t want)
{
	zkc_batch_t *b = NULL;
	size_t i;
	int rc;

	*out = NULL;
	if (zkc_batch_new(&b) != ZKC_OK)
		return ZKC_ENOMEM;
	for (i = 0; i < want; i++) {
		char *np = join_path(path, v[i]);
		int added = np && zkc_batch_get(b, np, 0, NULL, NULL) >= 0;

		free(np);
		if (!added) {
			zkc_batch_free(b);
			return ZKC_ENOMEM;
		}
	}
	if ((rc = zkc_batch_run(zk, b)) != ZKC_OK) {
		zkc_batch_free(b);
		return rc;
	}
	*out = b;
	return ZKC_OK;
}

/* A participant from candidate node `node`, read by op i of b. */
static int fill_participant(zkc_election_participant_t *it, const zkc_batch_t *b, size_t i,
                            const char *node)
{
	const char *data;
	size_t len = 0;
	zkc_stat_t st;

	data = zkc_batch_data(b, i, &len);
	zkc_batch_stat(&st, b, i);
	it->id = malloc(len + 1);
	it->node = strdup(node);
	if (!it->id || !it->node)
		return ZKC_ENOMEM;
	memcpy(it->id, data ? data : "", len);
	it->id[len] = '\0';
	it->czxid = st.czxid;
	it->session_id = st.ephemeral_owner;
	return ZKC_OK;
}

/* The candidates of v[0..want) that still exist, in order, the first one
 * the leader (only that one when first_only). */
static int collect_participants(zkc_election_participants_t **out, const zkc_batch_t *b,
                                const char *path, char **v, size_t want, int first_only)
{
	zkc_election_participants_t *p = calloc(1, sizeof(*p));
	size_t i;
	int rc = ZKC_OK;

	*out = NULL;
	if (!p || !(p->items = calloc(want + 1, sizeof(*p->items)))) {
		free(p);
		return ZKC_ENOMEM;
	}
	for (i = 0; i < want && rc == ZKC_OK; i++) {
		int c = zkc_batch_code(b, i);

		if (c == ZKC_ENONODE)
			continue;
		if (c != ZKC_OK) {
			rc = zkc_error_set(c, "election %s: read candidate %s: %s", path, v[i],
			                   zkc_strerror(c));
			break;
		}
		rc = fill_participant(&p->items[p->count], b, i, v[i]);
		p->items[p->count].is_leader = p->count == 0;
		p->count++;     /* even a half-filled item: freed with the list */
		if (first_only)
			break;
	}
	if (rc != ZKC_OK) {
		zkc_election_participants_free(p);
		return rc;
	}
	*out = p;
	return ZKC_OK;
}

/* One listing, then one read of the first candidates (three at most when
 * first_only). *done: nobody to look for again (someone found, or every
 * candidate read). */
static int read_once(zkc_election_participants_t **out, int *done, zkc_t *zk, const char *path,
                     int first_only)
{
	zkc_strings_t *kids = NULL;
	zkc_batch_t *b = NULL;
	char **v = NULL;
	size_t n = 0, want;
	int rc;

	*out = NULL;
	*done = 0;
	if ((rc = zkc_children(&kids, NULL, zk, path)) != ZKC_OK)
		return rc;
	if (!(v = sorted_candidates(kids, &n))) {
		zkc_strings_free(kids);
		return ZKC_ENOMEM;
	}
	want = first_only && n > 3 ? 3 : n;
	rc = get_candidates(&b, zk, path, v, want);
	if (rc == ZKC_OK)
		rc = collect_participants(out, b, path, v, want, first_only);
	*done = rc == ZKC_OK && ((*out)->count > 0 || want == n);
	zkc_batch_free(b);
	free(v);
	zkc_strings_free(kids);
	return rc;
}

/* Reads the participants; first_only stops after the first live one. */
static int read_participants(zkc_election_participants_t **out, zkc_t *zk, const char *path,
                             int first_only)
{
	zkc_election_participants_t *p = NULL;
	int rc = ZKC_OK, attempt, done = 0;

	*out = NULL;
	if (!zk || !path)
		return zkc_error_set(ZKC_EBADARGUMENTS, "election %s: %s is NULL", path ? path
		                     : "(null)", !zk ? "client" : "path");
	if ((rc = zkc_path_validate(path, (size_t)-1)) != ZKC_OK)
		return rc;
	/* a leader that vanishes between the two reads is skipped; the list
	 * is read again if nobody is left, a few times at most */
	for (attempt = 0; attempt < 5 && !done; attempt++) {
		zkc_election_participants_free(p);
		if ((rc = read_once(&p, &done, zk, path, first_only)) != ZKC_OK)
			break;
	}
	if (rc == ZKC_ENOMEM)
		return zkc_error_set(rc, "election %s: out of memory", path);
	if (rc == ZKC_OK)
		*out = p;
	return rc;
}

int zkc_election_participants(zkc_election_participants_t **out, zkc_t *zk, const char *path)
{
	if (!out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "election participants: out is NULL");
	return read_participants(out, zk, path, 0);
}

int zkc_election_leader(char **out_id, int64_t *out_epoch, zkc_t *zk, const char *path)
{
	zkc_election_participants_t *p = NULL;
	int rc;

	if (out_id)
		*out_id = NULL;
	if ((rc = read_participants(&p, zk, path, 1)) != ZKC_OK)
		return rc;
	if (p->count == 0) {
		zkc_election_participants_free(p);
		return zkc_error_set(ZKC_ENONODE, "election %s: no participants, so no leader",
		                     path);
	}
	if (out_id) {
		*out_id = p->items[0].id;
		p->items[0].id = NULL;
	}
	if (out_epoch)
		*out_epoch = p->items[0].czxid;
	zkc_election_participants_free(p);
	return ZKC_OK;
}

int zkc_election_options_init(zkc_election_options_t *opts, unsigned int version)
{
	static const zkc_election_options_t init = ZKC_ELECTION_OPTIONS_INIT;
	int rc;

	if (!opts)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_election_options_init: opts is NULL");
	rc = zkc_options_version_check("zkc_election_options_init", (int)version, ZKC_ELECTION_OPTIONS_VERSION);
	if (rc != ZKC_OK)
		return rc;
	*opts = init;
	opts->version = (int)version;
	return ZKC_OK;
}

int zkc_election_events_fd(zkc_election_t *e)
{
	return e ? e->efd : -1;
}

int zkc_election_events_next(zkc_election_event_t *out, zkc_election_t *e, int timeout_ms)
{
	const unsigned cap = sizeof(e->q) / sizeof(e->q[0]);
	int64_t deadline = zkcr_deadline(timeout_ms);
	int rc = ZKC_OK;

	if (!e || !out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "election events_next: %s is NULL",
		                     e ? "out" : "election");
	pthread_mutex_lock(&e->mu);
	while (e->qlen == 0) {
		if (timeout_ms == 0) {
			rc = zkc_error_set(ZKC_EAGAIN, "election %s: no event queued", e->dir);
			break;
		}
		rc = zkcr_cond_wait_until(&e->cv, &e->mu, deadline);
		if (rc == ZKC_ETIMEDOUT) {
			rc = zkc_error_set(ZKC_EAGAIN, "election %s: no event within %d ms", e->dir,
			                   timeout_ms);
			break;
		}
		if (rc != ZKC_OK)
			break;   /* ZKC_ECANCELED: the thread's token fired */
	}
	if (rc == ZKC_OK) {
		uint64_t v;

		*out = e->q[e->qhead];
		e->qhead = (e->qhead + 1) % cap;
		e->qlen--;
		if (e->qlen == 0 && read(e->efd, &v, sizeof(v)) < 0) {
			/* already drained */
		}
	}
	pthread_mutex_unlock(&e->mu);
	return rc;
}
