/* src/cache.c - the watch-driven cache (zkc/cache.h): one-shot watches
 * re-armed on every fire, pipelined re-reads through asynchronous batches,
 * a uthash table of nodes read without a lock.
 *
 * Threads: every write to the cache happens on the client's event thread
 * (batch completions, watch callbacks, state listeners all run there), under
 * ref->mu and, for the table itself, the write side of src/readers.h, which
 * waits for the table's readers to leave and holds new ones back. Readers
 * only announce themselves in their thread's own record: no lock, no
 * shared cache line written. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

/* uthash's default (Jenkins) costs more than the rest of a cache read
 * together: paths are hashed 8 bytes at a time with a multiply, then
 * mixed so that paths differing only in their last bytes spread. */
static inline unsigned path_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, v;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&v, p, 8);
		h = (h ^ v) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	if (len) {
		v = 0;
		while (len--)
			v = v << 8 | p[len];
		h = (h ^ v) * 0xc4ceb9fe1a85ec53ULL;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (unsigned)h;
}
#define HASH_FUNCTION(keyptr, keylen, hashv) ((hashv) = path_hash((keyptr), (keylen)))
#include <uthash.h>

#include "zkc/cache.h"
#include "zkc/batch.h"
#include "events.h"
#include "readers.h"

/* Node flags. The armed bits remember that a watch of ours is registered
 * for the node in the current session, so a re-read does not register a
 * second one (libzookeeper keeps each registration, and each would fire). */
#define NF_DATA_ARMED  0x1
#define NF_CHILD_ARMED 0x2
#define NF_MARK        0x4

/* One cached node: one allocation holding the header (148 bytes), the
 * path and the data. Memory per node is the budget that matters most (the
 * goal is <= 200 bytes beyond the data), hence no data pointer, no length
 * field (stat.data_length is it) and a singly linked sibling list. */
typedef struct cnode {
	UT_hash_handle hh;            /* by full path */
	zkc_stat_t stat;
	struct cnode *kids;           /* first child */
	struct cnode *next;           /* next sibling */
	uint16_t plen;                /* path bytes */
	uint8_t depth;                /* 0 = the root; capped at 255 */
	uint8_t flags;
	char buf[];                   /* path NUL data NUL */
} cnode_t;

/* Allocation size: from buf's offset, not sizeof, so the struct's tail
 * padding is not paid twice. */
#define NODE_SIZE(plen, len) (offsetof(cnode_t, buf) + (plen) + (len) + 2)

static inline const char *node_data(const cnode_t *n)
{
	return n->buf + n->plen + 1;
}

/* Data bytes held: the stat's length when data is cached (flag on the
 * node would cost a byte we have; the cache-wide option is enough). */
#define NODE_LEN(c, n) ((c)->opts.data ? (size_t)(n)->stat.data_length : 0)

/* Callbacks outlive a closed cache (watches fire later); they hold this
 * shared, counted handle and find cache == NULL. mu also serializes every
 * writer of the cache. Two tokens tell data watches from child watches. */
typedef struct cache_ref {
	pthread_mutex_t mu;
	int refs;                     /* guarded by mu */
	zkc_cache_t *cache;
	char tok[2];                  /* &tok[0]: data watch, &tok[1]: child watch */
} cache_ref_t;

/* Requests: what one node needs read. */
#define RQ_DATA    0x1
#define RQ_CHILD   0x2
#define RQ_RECURSE 0x4            /* also re-read every listed child */

typedef struct req {
	char *path;
	int flags;
	int depth;
	int i_exists, i_get, i_kids;  /* op indexes, -1 when absent */
	int w_data, w_kids;           /* whether those ops carry a watch */
} req_t;

/* One asynchronous batch in flight and what its ops mean. */
typedef struct job {
	cache_ref_t *ref;
	zkc_batch_t *b;
	req_t *reqs;
	size_t n, cap;
	int resync;                   /* a full resync (leads with a sync op) */
} job_t;

/* An event made under the write lock, delivered after it is released. */
typedef struct pev {
	int type;
	char *path;
	zkc_stat_t stat;
	char *data;
	size_t len;
} pev_t;

struct zkc_cache {
	zkc_t *zk;
	char *root;
	size_t root_len;
	zkc_cache_options_t opts;
	cache_ref_t *ref;
	int listener_id;

	zkc__rw_t rw;                 /* guards the table (src/readers.h) */
	cnode_t *nodes;               /* uthash head */
	size_t count, bytes;

	/* writer state (event thread, under ref->mu) */
	int root_armed;               /* exists watch on the root */
	int64_t session;              /* session the armed bits belong to */
	int inflight;                 /* batches not yet completed */
	int dirty;                    /* a read failed: resync when possible */
	int suspended;                /* SUSPENDED told, RESYNCED not yet */
	int init_told;                /* INITIALIZED emitted */
	int64_t max_seen;             /* highest zxid in any result */
	job_t *next_job;              /* follow-up reads being collected */
	pev_t *evs;
	size_t nev, evcap;
	int dispatching;              /* running the user's callback */
	int close_deferred;           /* closed from its own callback: no more
	                               * events; freed right after it returns */

	/* published state, under smu */
	pthread_mutex_t smu;
	pthread_cond_t scv;
	int initialized;
	int status;
	int64_t seen_zxid;
	uint64_t history;             /* the client's history seen_zxid is of */
};

/* ------------------------------------------------------------ ref */

static cache_ref_t *ref_new(void)
{
	cache_ref_t *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	pthread_mutex_init(&r->mu, NULL);
	r->refs = 1;
	r->tok[0] = 0;
	r->tok[1] = 1;
	return r;
}

/* refs is only touched with ref->mu held; the last drop frees. */
static void ref_drop_locked(cache_ref_t *r, int n)
{
	int left;

	r->refs -= n;
	left = r->refs;
	pthread_mutex_unlock(&r->mu);
	if (left == 0) {
		pthread_mutex_destroy(&r->mu);
		free(r);
	}
}

/* A watch payload is &ref->tok[0] (data) or &ref->tok[1] (children); the
 * byte it points at (0 or 1) says which, and leads back to the ref. */
static cache_ref_t *ref_of_tok(void *p, int *is_child)
{
	char *t = p;

	*is_child = *t == 1;
	return (cache_ref_t *)(void *)(t - *is_child - offsetof(cache_ref_t, tok));
}

/* ------------------------------------------------------------ paths */

static size_t parent_len(const char *path, size_t plen)
{
	size_t i = plen;

	while (i > 0 && path[i - 1] != '/')
		i--;
	/* i is one past the last '/'; the parent of "/a" is "/". */
	return i > 1 ? i - 1 : 1;
}

static char *path_join(const char *parent, size_t plen, const char *name)
{
	size_t nlen = strlen(name);
	int root = plen == 1 && parent[0] == '/';
	char *p = malloc(plen + nlen + 2);

	if (!p)
		return NULL;
	memcpy(p, parent, plen);
	if (root) {
		memcpy(p + 1, name, nlen + 1);
	} else {
		p[plen] = '/';
		memcpy(p + plen + 1, name, nlen + 1);
	}
	return p;
}

static cnode_t *find(zkc_cache_t *c, const char *path, size_t len)
{
	cnode_t *n = NULL;

	HASH_FIND(hh, c->nodes, path, len, n);
	return n;
}

/* ------------------------------------------------------------ events */

static int ev_push(zkc_cache_t *c, int type, const cnode_t *n, const char *path)
{
	pev_t *e;

	if (!c->opts.events)
		return 0;
	if (c->nev == c->evcap) {
		size_t cap = c->evcap ? c->evcap * 2 : 64;
		pev_t *ne = realloc(c->evs, cap * sizeof(*ne));

		if (!ne)
			return -1;
		c->evs = ne;
		c->evcap = cap;
	}
	e = &c->evs[c->nev];
	memset(e, 0, sizeof(*e));
	e->type = type;
	if (n) {
		e->path = strdup(n->buf);
		e->stat = n->stat;
		/* Only a callback sees data; queued events carry the path. */
		if (c->opts.event_fn && c->opts.data) {
			e->len = NODE_LEN(c, n);
			e->data = malloc(e->len + 1);
			if (e->data)
				memcpy(e->data, node_data(n), e->len + 1);
		}
	} else if (path) {
		e->path = strdup(path);
	}
	c->nev++;
	return 0;
}

/* Delivers the collected events; called with ref->mu held but the table
 * unlocked, so the callback can read the cache. */
static void ev_flush(zkc_cache_t *c)
{
	size_t i;

	c->dispatching = 1;
	for (i = 0; i < c->nev; i++) {
		pev_t *e = &c->evs[i];
		int node_ev = e->type <= ZKC_CACHE_REMOVED;

		if (c->close_deferred) {
			/* closed by an earlier callback: deliver nothing more */
		} else if (c->opts.event_fn) {
			zkc_cache_event_t ev = { e->type, e->path, node_ev ? &e->stat : NULL,
			                         e->data, e->len };

			if (node_ev && !e->data && c->opts.data)
				ev.data = "";
			c->opts.event_fn(c, &ev, c->opts.event_payload);
		} else {
			zkc_event_t ev = { 7 + e->type, zkc_state(c->zk), e->path, c->session,
			                   c->opts.event_payload };

			zkc__event_emit(c->zk, &ev);
		}
		free(e->path);
		free(e->data);
	}
	c->nev = 0;
	c->dispatching = 0;
}

/* ------------------------------------------------------------ table writes
 * (event thread, ref->mu and the write lock held) */

static void seen(zkc_cache_t *c, const zkc_stat_t *st)
{
	if (st->mzxid > c->max_seen)
		c->max_seen = st->mzxid;
	if (st->czxid > c->max_seen)
		c->max_seen = st->czxid;
	if (st->pzxid > c->max_seen)
		c->max_seen = st->pzxid;
}

/* The link that points at n: its parent's kids or its predecessor's next.
 * A walk of the siblings: rare (a single delete, an update that changes
 * the data size); bulk removals unlink in one pass instead. */
static cnode_t **link_to(zkc_cache_t *c, cnode_t *n)
{
	cnode_t *p, **pp;

	if (n->depth == 0)
		return NULL;
	p = find(c, n->buf, parent_len(n->buf, n->plen));
	if (!p)
		return NULL;
	for (pp = &p->kids; *pp; pp = &(*pp)->next)
		if (*pp == n)
			return pp;
	return NULL;
}

static void node_unlink(zkc_cache_t *c, cnode_t *n)
{
	cnode_t **pp = link_to(c, n);

	if (pp)
		*pp = n->next;
	n->next = NULL;
}

static void node_free_one(zkc_cache_t *c, cnode_t *n)
{
	HASH_DELETE(hh, c->nodes, n);
	c->count--;
	c->bytes -= NODE_LEN(c, n);
	ev_push(c, ZKC_CACHE_REMOVED, n, NULL);
	free(n);
}

/* Children first, so a replay never sees an orphan. */
static void remove_kids(zkc_cache_t *c, cnode_t *n)
{
	cnode_t *k = n->kids, *next;

	for (; k; k = next) {
		next = k->next;
		remove_kids(c, k);
		node_free_one(c, k);
	}
	n->kids = NULL;
}

static void remove_subtree(zkc_cache_t *c, cnode_t *n)
{
	remove_kids(c, n);
	node_unlink(c, n);
	node_free_one(c, n);
}

static void overflow(zkc_cache_t *c, const char *path)
{
	int first;

	pthread_mutex_lock(&c->smu);
	first = c->status == ZKC_OK;
	c->status = ZKC_ETOOLARGE;
	pthread_cond_broadcast(&c->scv);
	pthread_mutex_unlock(&c->smu);
	if (first)
		ev_push(c, ZKC_CACHE_OVERFLOW, NULL, path);
}

static cnode_t *node_alloc(const char *path, size_t plen, const char *data, size_t len,
                           const zkc_stat_t *st, int depth)
{
	cnode_t *n = malloc(NODE_SIZE(plen, len));

	if (!n)
		return NULL;
	memset(n, 0, offsetof(cnode_t, buf));
	n->stat = *st;
	n->plen = (uint16_t)plen;
	n->depth = (uint8_t)(depth > 255 ? 255 : depth);
	memcpy(n->buf, path, plen);
	n->buf[plen] = '\0';
	if (len)
		memcpy(n->buf + plen + 1, data, len);
	n->buf[plen + 1 + len] = '\0';
	return n;
}

/* Puts n where old was (same path): table, sibling links, parent's list. */
static void node_swap(zkc_cache_t *c, cnode_t *old, cnode_t *n)
{
	cnode_t **pp = link_to(c, old);

	n->kids = old->kids;
	n->next = old->next;
	n->flags = old->flags;
	if (pp)
		*pp = n;
	HASH_DELETE(hh, c->nodes, old);
	HASH_ADD_KEYPTR(hh, c->nodes, n->buf, n->plen, n);
	free(old);
}

/* Applies a read of a node that exists. Returns the cached node or NULL
 * when it is not (or no longer) to be cached. *added tells a new
 * incarnation. */
static cnode_t *upsert(zkc_cache_t *c, const char *path, int depth, const zkc_stat_t *st,
                       const char *data, size_t len, int *added)
{
	size_t plen = strlen(path);
	cnode_t *n = find(c, path, plen), *p = NULL, *nn;
	zkc_stat_t s2 = *st;

	*added = 0;
	if (!c->opts.data) {
		data = NULL;
		len = 0;
	} else {
		s2.data_length = (int32_t)len;  /* NODE_LEN reads it */
		st = &s2;
	}
	if (n && n->stat.czxid == st->czxid) {
		/* Same incarnation: mzxid never goes backwards. */
		if (st->mzxid < n->stat.mzxid)
			return n;
		if (st->mzxid == n->stat.mzxid) {
			n->stat = *st;  /* children counters may have moved */
			return n;
		}
		if (c->opts.max_bytes && c->bytes - NODE_LEN(c, n) + len > c->opts.max_bytes) {
			overflow(c, path);
			return n;
		}
		if (len == NODE_LEN(c, n)) {
			memcpy(n->buf + n->plen + 1, data ? data : "", len);
			n->stat = *st;
		} else {
			nn = node_alloc(path, plen, data, len, st, n->depth);
			if (!nn)
				return n;
			c->bytes = c->bytes - NODE_LEN(c, n) + len;
			node_swap(c, n, nn);
			n = nn;
		}
		ev_push(c, ZKC_CACHE_UPDATED, n, NULL);
		return n;
	}
	if (n) {
		/* Deleted and created again under us. */
		remove_subtree(c, n);
		n = NULL;
	}
	if (depth > 0) {
		p = find(c, path, parent_len(path, plen));
		if (!p)
			return NULL;  /* its parent left the cache: a stale answer */
	}
	if ((c->opts.max_nodes && c->count + 1 > c->opts.max_nodes) ||
	    (c->opts.max_bytes && c->bytes + len > c->opts.max_bytes)) {
		overflow(c, path);
		return NULL;
	}
	n = node_alloc(path, plen, data, len, st, depth);
	if (!n)
		return NULL;
	HASH_ADD_KEYPTR(hh, c->nodes, n->buf, n->plen, n);
	if (p) {
		n->next = p->kids;
		p->kids = n;
	}
	c->count++;
	c->bytes += len;
	*added = 1;
	ev_push(c, ZKC_CACHE_ADDED, n, NULL);
	return n;
}

/* ------------------------------------------------------------ reading */

static int depth_ok_for_kids(const zkc_cache_t *c, int depth)
{
	return c->opts.depth < 0 || depth < c->opts.depth;
}

/* Codes after which the node's state is unknown (the request was not
 * answered): the cache must re-read once connected. A server's answer
 * (ENOAUTH, ...) is final for that read, and ECLOSED ends everything. */
static int connection_code(int code)
{
	if (code == ZKC_OK || code == ZKC_ENONODE || code == ZKC_ECLOSED)
		return 0;
	if (code == ZKC_ESESSIONEXPIRED || code == ZKC_ESESSIONMOVED)
		return 1;
	return !(code <= ZKC_EAPI && code > ZKC_EUNKNOWN);
}

static void batch_done(zkc_t *zk, const zkc_batch_t *b, void *payload);

/* The op that carries a request's data watch: the root's exists, else the
 * get (or the exists when data is off); -1 when there is none. */
static int data_watch_idx(const req_t *r)
{
	return r->depth == 0 || r->i_get < 0 ? r->i_exists : r->i_get;
}
static void on_watch(zkc_t *zk, const zkc_event_t *ev, void *payload);

static job_t *job_new(cache_ref_t *ref)
{
	job_t *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	if (zkc_batch_new(&j->b) != ZKC_OK) {
		free(j);
		return NULL;
	}
	j->ref = ref;
	return j;
}

static void job_free(job_t *j)
{
	size_t i;

	if (!j)
		return;
	for (i = 0; i < j->n; i++)
		free(j->reqs[i].path);
	free(j->reqs);
	zkc_batch_free(j->b);
	free(j);
}

/* What a read of node n (NULL: not cached yet) at depth must ask for,
 * beyond the RQ_ flags given: the data or children whose watch is not
 * armed, nothing below the depth limit. */
static int job_flags(const zkc_cache_t *c, const cnode_t *n, int depth, int flags)
{
	int is_root = depth == 0;

	if (n) {
		if (!(n->flags & NF_DATA_ARMED) && !is_root)
			flags |= RQ_DATA;
		if (!(n->flags & NF_CHILD_ARMED))
			flags |= RQ_CHILD;
	}
	if (is_root && !c->root_armed)
		flags |= RQ_DATA;
	if (!n && !is_root)
		flags |= RQ_DATA | RQ_CHILD;
	if (!depth_ok_for_kids(c, depth))
		flags &= ~(RQ_CHILD | RQ_RECURSE);
	return flags;
}

/* Adds r's reads to the job's batch, with a watch where none is armed. */
static void job_add_reads(zkc_cache_t *c, job_t *j, req_t *r, const cnode_t *n,
                          const char *path, int is_root)
{
	cache_ref_t *ref = c->ref;

	if (r->flags & RQ_DATA) {
		if (is_root) {
			/* An exists watch also tells when a missing root appears. */
			r->w_data = !c->root_armed;
			r->i_exists = zkc_batch_exists(j->b, path, r->w_data, on_watch,
			                               &ref->tok[0]);
			if (c->opts.data)
				r->i_get = zkc_batch_get(j->b, path, 0, NULL, NULL);
		} else {
			r->w_data = !(n && (n->flags & NF_DATA_ARMED));
			if (c->opts.data)
				r->i_get = zkc_batch_get(j->b, path, r->w_data, on_watch,
				                         &ref->tok[0]);
			else
				r->i_exists = zkc_batch_exists(j->b, path, r->w_data,
				                               on_watch, &ref->tok[0]);
		}
	}
	if (r->flags & RQ_CHILD) {
		r->w_kids = !(n && (n->flags & NF_CHILD_ARMED));
		r->i_kids = zkc_batch_children(j->b, path, r->w_kids, on_watch,
		                               &ref->tok[1]);
	}
}

/* Adds the reads one node needs: what was asked, plus whatever watch of
 * the node is not armed (so a lost watch heals on the next read). */
static int job_add(zkc_cache_t *c, job_t *j, const char *path, int depth, int flags)
{
	cnode_t *n = find(c, path, strlen(path));
	req_t *r;
	int is_root = depth == 0;

	/* Names come from the server, but a path over the length limit would
	 * leave the batch half-built: refuse it before adding any op. */
	if (zkc_path_validate(path, (size_t)-1) != ZKC_OK)
		return zkc__error(ZKC_EBADARGUMENTS, "cache %s: child path over the length limit",
		                  c->root);
	if (j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 16;
		req_t *nr = realloc(j->reqs, cap * sizeof(*nr));

		if (!nr)
			return zkc__error(ZKC_ENOMEM, "cache %s: out of memory", c->root);
		j->reqs = nr;
		j->cap = cap;
	}
	flags = job_flags(c, n, depth, flags);
	if (!(flags & (RQ_DATA | RQ_CHILD)))
		return ZKC_OK;  /* nothing to read */
	r = &j->reqs[j->n];
	memset(r, 0, sizeof(*r));
	r->i_exists = r->i_get = r->i_kids = -1;
	r->path = strdup(path);
	if (!r->path)
		return zkc__error(ZKC_ENOMEM, "cache %s: out of memory", c->root);
	r->flags = flags;
	r->depth = depth;
	job_add_reads(c, j, r, n, path, is_root);
	if (r->i_exists < -1 || r->i_get < -1 || r->i_kids < -1) {
		/* An op could not be added (memory): keep the others, whose
		 * watch references job_send counts, and re-read later. */
		r->i_exists = r->i_exists < 0 ? -1 : r->i_exists;
		r->i_get = r->i_get < 0 ? -1 : r->i_get;
		r->i_kids = r->i_kids < 0 ? -1 : r->i_kids;
		c->dirty = 1;
	}
	/* Marked armed from the moment the watch is asked for, so no other
	 * read asks for a second one meanwhile (each would fire, and every
	 * fire would ask again: duplicates would only grow). The answer
	 * confirms or clears the mark. */
	if (r->w_data && data_watch_idx(r) >= 0) {
		if (is_root)
			c->root_armed = 1;
		else if (n)
			n->flags |= NF_DATA_ARMED;
	}
	if (r->w_kids && r->i_kids >= 0 && n)
		n->flags |= NF_CHILD_ARMED;
	j->n++;
	return ZKC_OK;
}

/* Hands a job to zkc. Each watched op holds a reference (its watch
 * callback runs exactly once if it registers) and so does the completion. */
static void job_send(zkc_cache_t *c, job_t *j)
{
	int w = 0, rc;
	size_t i;

	if (!j)
		return;
	if (j->n == 0) {
		job_free(j);
		return;
	}
	for (i = 0; i < j->n; i++)
		w += (j->reqs[i].w_data && data_watch_idx(&j->reqs[i]) >= 0) +
		     (j->reqs[i].w_kids && j->reqs[i].i_kids >= 0);
	c->ref->refs += w + 1;
	rc = zkc_batch_run_async(c->zk, j->b, batch_done, j);
	if (rc != ZKC_OK) {
		for (i = 0; i < j->n; i++) {
			req_t *r = &j->reqs[i];
			cnode_t *n = find(c, r->path, strlen(r->path));

			if (r->w_data && r->depth == 0)
				c->root_armed = 0;
			else if (r->w_data && n)
				n->flags &= (uint8_t)~NF_DATA_ARMED;
			if (r->w_kids && n)
				n->flags &= (uint8_t)~NF_CHILD_ARMED;
		}
		c->ref->refs -= w + 1;
		if (rc != ZKC_ECLOSED)
			c->dirty = 1;
		job_free(j);
		return;
	}
	j->b = NULL;  /* zkc's now */
	c->inflight++;
}

/* Follow-up reads collect into one job, sent when big or at the end of a
 * completion: a tree level costs one round trip, not one per node. */
static void follow_up(zkc_cache_t *c, const char *path, int depth, int flags)
{
	if (!c->next_job && !(c->next_job = job_new(c->ref))) {
		c->dirty = 1;
		return;
	}
	if (job_add(c, c->next_job, path, depth, flags) == ZKC_ENOMEM)
		c->dirty = 1;
	if (zkc_batch_count(c->next_job->b) >= 2048) {
		job_send(c, c->next_job);
		c->next_job = NULL;
	}
}

static void start_resync(zkc_cache_t *c, int with_sync)
{
	job_t *j = job_new(c->ref);

	if (!j) {
		c->dirty = 1;
		return;
	}
	/* A new session may land on a server behind the one we read from:
	 * sync first, so no answer is older than what the cache holds. */
	if (with_sync)
		zkc_batch_sync(j->b, c->root);
	if (job_add(c, j, c->root, 0, RQ_DATA | RQ_CHILD | RQ_RECURSE) != ZKC_OK)
		c->dirty = 1;
	job_send(c, j);
}

static int registered(const zkc_batch_t *b, int i, int is_exists)
{
	int code = zkc_batch_code(b, (size_t)i);

	return code == ZKC_OK || (is_exists && code == ZKC_ENONODE);
}

static int path_depth(const zkc_cache_t *c, const char *path)
{
	const char *p = path + c->root_len;
	int d = c->root_len == 1 ? 1 : 0;

	if (strcmp(path, c->root) == 0)
		return 0;
	for (; *p; p++)
		d += *p == '/';
	return d;
}

static void apply_children(zkc_cache_t *c, req_t *r, cnode_t *n, const zkc_strings_t *names)
{
	cnode_t *k, **pp;
	size_t i;

	for (k = n->kids; k; k = k->next)
		k->flags &= (uint8_t)~NF_MARK;
	for (i = 0; names && i < names->count; i++) {
		char *cp = path_join(n->buf, n->plen, names->items[i]);

		if (!cp) {
			c->dirty = 1;
			continue;
		}
		if (c->opts.filter &&
		    !c->opts.filter(cp, r->depth + 1, c->opts.filter_payload)) {
			free(cp);
			continue;
		}
		k = find(c, cp, strlen(cp));
		if (k)
			k->flags |= NF_MARK;
		if (!k || (r->flags & RQ_RECURSE))
			follow_up(c, cp, r->depth + 1, RQ_DATA | RQ_CHILD | RQ_RECURSE);
		free(cp);
	}
	/* Unlink the missing ones in one pass: a directory of 10,000 children
	 * emptied at once stays linear. */
	for (pp = &n->kids; (k = *pp) != NULL;) {
		if (k->flags & NF_MARK) {
			pp = &k->next;
			continue;
		}
		*pp = k->next;
		k->next = NULL;
		remove_kids(c, k);
		node_free_one(c, k);
	}
}

/* After a read: whatever watch the node (still) lacks is asked for again.
 * A read sent without a watch because another one was pending can come
 * back after that one failed (the node was deleted and created again in
 * between): without this the new incarnation would have no watch. A new
 * incarnation also gets its subtree loaded. Not after a lost answer (the
 * resync does it) nor for another session (its listener does). */
static void rearm(zkc_cache_t *c, const req_t *r, int ok, int added)
{
	cnode_t *n = find(c, r->path, strlen(r->path));
	int kids = n && depth_ok_for_kids(c, r->depth), more = 0;

	if (ok) {
		if (r->depth == 0 ? !c->root_armed : (n && !(n->flags & NF_DATA_ARMED)))
			more |= RQ_DATA;
		if (kids && !(n->flags & NF_CHILD_ARMED))
			more |= RQ_CHILD;
	}
	if (added && kids)
		more |= RQ_CHILD | RQ_RECURSE;
	if (more)
		follow_up(c, r->path, r->depth, more);
}

static void apply_req(zkc_cache_t *c, req_t *r, const zkc_batch_t *b, int same)
{
	size_t plen = strlen(r->path);
	cnode_t *n = NULL;
	zkc_stat_t st;
	int added = 0, lost = 0;

	if (r->flags & RQ_DATA) {
		int code, is_root = r->depth == 0;
		int widx = data_watch_idx(r);
		int armed = r->w_data && widx >= 0 && registered(b, widx, widx == r->i_exists) &&
		            same;
		const char *data = NULL;
		size_t len = 0;

		code = zkc_batch_code(b, (size_t)widx);
		if (is_root && code == ZKC_OK && r->i_get >= 0)
			code = zkc_batch_code(b, (size_t)r->i_get);
		/* Confirm or clear the mark job_add set. A watch registered on
		 * another session than the cache's is not counted: that session
		 * is gone, or the new one's listener will re-arm everything. */
		if (is_root && r->w_data)
			c->root_armed = armed;
		if (code == ZKC_OK) {
			int di = r->i_get >= 0 ? r->i_get : r->i_exists;

			zkc_batch_stat(&st, b, (size_t)di);
			if (r->i_get >= 0)
				data = zkc_batch_data(b, (size_t)r->i_get, &len);
			seen(c, &st);
			n = upsert(c, r->path, r->depth, &st, data, len, &added);
			if (n && r->w_data && !is_root) {
				if (armed)
					n->flags |= NF_DATA_ARMED;
				else
					n->flags &= (uint8_t)~NF_DATA_ARMED;
			}
		} else if (code == ZKC_ENONODE) {
			n = find(c, r->path, plen);
			if (n)
				remove_subtree(c, n);
			n = NULL;
		} else {
			if (connection_code(code)) {
				c->dirty = 1;
				lost = 1;
			}
			n = find(c, r->path, plen);
			if (n && r->w_data && !is_root)
				n->flags &= (uint8_t)~NF_DATA_ARMED;
		}
	} else {
		n = find(c, r->path, plen);
	}
	if (r->i_kids >= 0) {
		int code = zkc_batch_code(b, (size_t)r->i_kids);

		if (n && r->w_kids) {
			if (code == ZKC_OK && same)
				n->flags |= NF_CHILD_ARMED;
			else
				n->flags &= (uint8_t)~NF_CHILD_ARMED;
		}
		if (code == ZKC_OK && n) {
			if (zkc_batch_stat(&st, b, (size_t)r->i_kids) == ZKC_OK) {
				seen(c, &st);
				if (st.czxid == n->stat.czxid && st.mzxid == n->stat.mzxid)
					n->stat = st;
			}
			apply_children(c, r, n, zkc_batch_children_of(b, (size_t)r->i_kids));
		} else if (code == ZKC_ENONODE && n) {
			remove_subtree(c, n);
			n = NULL;
		} else if (connection_code(code)) {
			c->dirty = 1;
			lost = 1;
		}
	}
	rearm(c, r, same && !lost, added);
}

/* Called after every completion: when nothing is in flight the cache is
 * as current as its last answers. Returns 1 when that is the case; the
 * caller publishes (see publish) after delivering the events, so a waiter
 * that wakes has had every event up to that point. */
static int quiesce(zkc_cache_t *c)
{
	int st;

	if (c->inflight > 0)
		return 0;
	if (c->dirty) {
		st = zkc_state(c->zk);
		if (st == ZKC_STATE_CONNECTED || st == ZKC_STATE_RECONNECTED) {
			c->dirty = 0;
			start_resync(c, 1);
		}
		/* else the state listener resyncs on reconnect */
		return 0;
	}
	if (!c->init_told) {
		c->init_told = 1;
		ev_push(c, ZKC_CACHE_INITIALIZED, NULL, NULL);
	}
	if (c->suspended) {
		c->suspended = 0;
		ev_push(c, ZKC_CACHE_RESYNCED, NULL, NULL);
	}
	return 1;
}

static void publish(zkc_cache_t *c)
{
	pthread_mutex_lock(&c->smu);
	c->initialized = 1;
	if (c->max_seen > c->seen_zxid)
		c->seen_zxid = c->max_seen;
	pthread_cond_broadcast(&c->scv);
	pthread_mutex_unlock(&c->smu);
}

static void batch_done(zkc_t *zk, const zkc_batch_t *b, void *payload)
{
	job_t *j = payload;
	cache_ref_t *ref = j->ref;
	zkc_cache_t *c;
	int drop = 1, quiet;
	size_t i;

	(void)zk;
	pthread_mutex_lock(&ref->mu);
	/* Watches that did not register will never call back: their
	 * references go now. */
	for (i = 0; i < j->n; i++) {
		req_t *r = &j->reqs[i];

		if (r->w_data) {
			int widx = data_watch_idx(r);

			if (widx >= 0 && !registered(b, widx, widx == r->i_exists))
				drop++;
		}
		if (r->w_kids && r->i_kids >= 0 && !registered(b, r->i_kids, 0))
			drop++;
	}
	c = ref->cache;
	if (c) {
		int same = zkc_batch_session(b) == c->session;

		zkc__wr_lock(&c->rw);
		for (i = 0; i < j->n; i++)
			apply_req(c, &j->reqs[i], b, same);
		zkc__wr_unlock(&c->rw);
		job_send(c, c->next_job);
		c->next_job = NULL;
		c->inflight--;
		quiet = quiesce(c);
		ev_flush(c);
		if (quiet)
			publish(c);
	}
	job_free(j);
	ref_drop_locked(ref, drop);
}

static void on_watch(zkc_t *zk, const zkc_event_t *ev, void *payload)
{
	int is_child;
	cache_ref_t *ref = ref_of_tok(payload, &is_child);
	zkc_cache_t *c;

	(void)zk;
	pthread_mutex_lock(&ref->mu);
	c = ref->cache;
	if (c && ev->path) {
		int depth = path_depth(c, ev->path);
		cnode_t *n = find(c, ev->path, strlen(ev->path));
		int flags;

		/* The watch is spent either way; a cancelled one (its session
		 * ended) is re-armed by the resync of the next session. */
		if (is_child && n)
			n->flags &= (uint8_t)~NF_CHILD_ARMED;
		else if (!is_child && depth == 0)
			c->root_armed = 0;
		else if (n)
			n->flags &= (uint8_t)~NF_DATA_ARMED;
		if (ev->type != ZKC_EVENT_WATCH_CANCELLED) {
			if (is_child && ev->type == ZKC_EVENT_CHILD)
				flags = RQ_CHILD;
			else if (ev->type == ZKC_EVENT_CREATED)
				flags = RQ_DATA | RQ_CHILD | RQ_RECURSE;
			else
				flags = RQ_DATA;
			follow_up(c, ev->path, depth, flags);
			job_send(c, c->next_job);
			c->next_job = NULL;
		}
		ev_flush(c);
	}
	ref_drop_locked(ref, 1);
}

/* The ensemble's history went backwards: what the cache holds and the
 * zxids it saw belong to the old one (a restored node can even come back
 * with the same czxid and an older mzxid, which the per-path rule would
 * ignore forever). Everything goes; the new session's CONNECTED reloads. */
static void history_reset(zkc_cache_t *c, uint64_t history)
{
	cnode_t *n, *tmp, *root = find(c, c->root, c->root_len);

	ev_push(c, ZKC_CACHE_RESET, NULL, NULL);
	zkc__wr_lock(&c->rw);
	if (root)
		remove_subtree(c, root);
	HASH_ITER(hh, c->nodes, n, tmp)
		node_free_one(c, n);  /* none: every node hangs under the root */
	zkc__wr_unlock(&c->rw);
	c->root_armed = 0;
	c->max_seen = 0;
	pthread_mutex_lock(&c->smu);
	c->seen_zxid = 0;
	c->history = history;
	pthread_cond_broadcast(&c->scv);
	pthread_mutex_unlock(&c->smu);
}

static void on_state(zkc_t *zk, int state, int64_t session_id, void *payload)
{
	cache_ref_t *ref = payload;
	zkc_cache_t *c;

	(void)zk;
	pthread_mutex_lock(&ref->mu);
	c = ref->cache;
	if (c) {
		if (state == ZKC_NOTICE_HISTORY_RESET) {
			history_reset(c, zkc_history_resets(zk));
		} else if (state == ZKC_STATE_SUSPENDED || state == ZKC_STATE_LOST) {
			if (!c->suspended) {
				c->suspended = 1;
				ev_push(c, ZKC_CACHE_SUSPENDED, NULL, NULL);
			}
		} else if (state == ZKC_STATE_RECONNECTED) {
			/* Watches survive a reconnect, but docs/design.md rule 8: re-read anyway. */
			start_resync(c, 1);
		} else if (state == ZKC_STATE_CONNECTED && session_id != c->session) {
			/* A new session: every watch of the old one is gone. */
			cnode_t *n, *tmp;

			HASH_ITER(hh, c->nodes, n, tmp)
				n->flags &= (uint8_t)~(NF_DATA_ARMED | NF_CHILD_ARMED);
			c->root_armed = 0;
			c->session = session_id;
			start_resync(c, 1);
		}
		ev_flush(c);
	}
	pthread_mutex_unlock(&ref->mu);
}

/* ------------------------------------------------------------ open/close */

int zkc_cache_open(zkc_cache_t **out, zkc_t *zk, const char *path,
                   const zkc_cache_options_t *opts)
{
	zkc_cache_options_t def = ZKC_CACHE_OPTIONS_INIT;
	zkc_cache_t *c;
	int rc;

	if (!out)
		return zkc__error(ZKC_EBADARGUMENTS, "cache open: out is NULL");
	*out = NULL;
	if (!zk || !path)
		return zkc__error(ZKC_EBADARGUMENTS, "cache open: client or path is NULL");
	if ((rc = zkc_path_validate(path, (size_t)-1)) != ZKC_OK)
		return rc;
	if (!opts)
		opts = &def;
	if ((rc = zkc_options_version_check("zkc_cache_open", opts->version,
	                                    ZKC_CACHE_OPTIONS_VERSION)) != ZKC_OK)
		return zkc__error(rc, "cache %s: %s", path, zkc_error_last()->message);
	if (opts->depth < -1)
		return zkc__error(ZKC_EBADARGUMENTS, "cache %s: depth %d < -1", path, opts->depth);
	c = calloc(1, sizeof(*c));
	if (!c || !(c->root = strdup(path)) || !(c->ref = ref_new())) {
		if (c)
			free(c->root);
		free(c);
		return zkc__error(ZKC_ENOMEM, "cache %s: out of memory", path);
	}
	c->zk = zk;
	c->root_len = strlen(path);
	c->opts = *opts;
	c->opts.data = opts->data ? 1 : 0;
	c->status = ZKC_OK;
	/* Writers never starve: readers that see one coming wait for it. */
	zkc__rw_init(&c->rw);
	pthread_mutex_init(&c->smu, NULL);
	zkc__cond_init(&c->scv);
	c->ref->cache = c;
	c->history = zkc_history_resets(zk);
	if (zkc_session(&c->session, NULL, NULL, zk) != ZKC_OK)
		c->session = 0;

	pthread_mutex_lock(&c->ref->mu);
	rc = zkc_listener_add(&c->listener_id, zk, on_state, c->ref);
	if (rc == ZKC_OK) {
		start_resync(c, 0);
		if (c->inflight == 0)
			rc = zkc__error(ZKC_ECLOSED, "cache open %s: the client is closing", path);
	}
	if (rc != ZKC_OK) {
		c->ref->cache = NULL;
		pthread_mutex_unlock(&c->ref->mu);
		if (c->listener_id)
			zkc_listener_remove(zk, c->listener_id);
		pthread_mutex_lock(&c->ref->mu);
		ref_drop_locked(c->ref, 1);
		pthread_mutex_destroy(&c->smu);
		pthread_cond_destroy(&c->scv);
		free(c->root);
		free(c);
		return rc;
	}
	pthread_mutex_unlock(&c->ref->mu);
	*out = c;
	return ZKC_OK;
}

static void cache_free(zkc_cache_t *c);

static void deferred_close(void *arg)
{
	cache_free(arg);
}

void zkc_cache_close(zkc_cache_t *c)
{
	if (!c)
		return;
	/* dispatching is only written on the event thread: reading it there
	 * is safe, and elsewhere it does not matter. From its own callback the
	 * cache's lock is held by the caller's caller: the close runs on the
	 * event thread as soon as the callback returns. */
	if (pthread_equal(pthread_self(), c->zk->dispatcher) && c->dispatching) {
		if (!c->close_deferred) {
			c->close_deferred = 1;
			zkc__post(c->zk, deferred_close, c);
		}
		return;
	}
	cache_free(c);
}

static void cache_free(zkc_cache_t *c)
{
	cnode_t *n, *tmp;
	size_t i;

	zkc_listener_remove(c->zk, c->listener_id);
	pthread_mutex_lock(&c->ref->mu);
	c->ref->cache = NULL;
	ref_drop_locked(c->ref, 1);
	HASH_ITER(hh, c->nodes, n, tmp) {
		HASH_DELETE(hh, c->nodes, n);
		free(n);
	}
	for (i = 0; i < c->nev; i++) {
		free(c->evs[i].path);
		free(c->evs[i].data);
	}
	free(c->evs);
	job_free(c->next_job);
	pthread_mutex_destroy(&c->smu);
	pthread_cond_destroy(&c->scv);
	free(c->root);
	free(c);
}

/* ------------------------------------------------------------ waiting */

static int on_event_thread(const zkc_cache_t *c)
{
	return pthread_equal(pthread_self(), c->zk->dispatcher);
}

/* Whether the cache reflects zxid; with smu held. The client learns of a
 * history reset before the new session serves any request, the cache a
 * moment later on the event thread: until then its mark is of the old
 * history, compares with nothing, and the wait goes on. */
static int reached(zkc_cache_t *c, int64_t zxid)
{
	return c->seen_zxid >= zxid && c->history == zkc_history_resets(c->zk);
}

static int wait_for(zkc_cache_t *c, int64_t zxid, int timeout_ms, const char *what)
{
	struct timespec ts;
	/* a deadline bound to the thread (zkc/cancel.h) ends the wait too */
	int64_t deadline = zkc__deadline_cap(timeout_ms < 0 ? -1 : zkc__now_ms() + timeout_ms);
	int rc = ZKC_OK;

	if (on_event_thread(c))
		return zkc__error(ZKC_EDEADLK, "cache %s: called on the event thread", what);
	pthread_mutex_lock(&c->smu);
	for (;;) {
		int64_t left;

		if (zxid < 0 && c->status != ZKC_OK) {
			rc = zkc__error(c->status, "cache %s: a node or byte limit was hit",
			                c->root);
			break;
		}
		if (zxid < 0 ? c->initialized : reached(c, zxid))
			break;
		if ((rc = zkc_cancel_check()) != ZKC_OK)
			break;
		/* A deadline that passed is a timeout, not "no deadline". */
		left = deadline < 0 ? -1 : deadline - zkc__now_ms();
		if (deadline >= 0 && left <= 0) {
			rc = zkc__error(ZKC_ETIMEDOUT, "cache %s: %s not reached in %d ms",
			                c->root, what, timeout_ms);
			break;
		}
		left = zkc_cancel_slice_ms(left);
		if (left < 0) {
			pthread_cond_wait(&c->scv, &c->smu);
			continue;
		}
		zkc__deadline_ts(&ts, left);
		pthread_cond_timedwait(&c->scv, &c->smu, &ts);
	}
	pthread_mutex_unlock(&c->smu);
	return rc;
}

int zkc_cache_wait_initialized(zkc_cache_t *c, int timeout_ms)
{
	if (!c)
		return zkc__error(ZKC_EBADARGUMENTS, "cache: NULL");
	return wait_for(c, -1, timeout_ms, "initial load");
}

int zkc_cache_wait_zxid(zkc_cache_t *c, int64_t zxid, int timeout_ms)
{
	if (!c || zxid < 0)
		return zkc__error(ZKC_EBADARGUMENTS, "cache wait zxid: NULL cache or zxid < 0");
	return wait_for(c, zxid, timeout_ms, "zxid");
}

int zkc_cache_status(zkc_cache_t *c)
{
	int st;

	if (!c)
		return zkc__error(ZKC_EBADARGUMENTS, "cache status: cache is NULL");
	pthread_mutex_lock(&c->smu);
	st = c->status;
	pthread_mutex_unlock(&c->smu);
	if (st != ZKC_OK)
		return zkc__error(st, "cache %s: a node was left out: over max_nodes or max_bytes",
		                  c->root);
	return st;
}

/* ------------------------------------------------------------ reads */

int zkc_cache_get(char **out, size_t *out_len, zkc_stat_t *out_stat, zkc_cache_t *c,
                  const char *path)
{
	cnode_t *n;
	char *buf = NULL;

	if (out)
		*out = NULL;
	if (!c || !path)
		return zkc__error(ZKC_EBADARGUMENTS, "cache get: NULL cache or path");
	zkc__rd_lock(&c->rw);
	n = find(c, path, strlen(path));
	if (!n) {
		zkc__rd_unlock(&c->rw);
		return zkc__error(ZKC_ENONODE, "cache get %s: not in the cache", path);
	}
	if (out) {
		buf = malloc(NODE_LEN(c, n) + 1);
		if (!buf) {
			zkc__rd_unlock(&c->rw);
			return zkc__error(ZKC_ENOMEM, "cache get %s: out of memory", path);
		}
		memcpy(buf, node_data(n), NODE_LEN(c, n) + 1);
		*out = buf;
	}
	if (out_len)
		*out_len = NODE_LEN(c, n);
	if (out_stat)
		*out_stat = n->stat;
	zkc__rd_unlock(&c->rw);
	return ZKC_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int zkc_cache_children(zkc_strings_t **out, zkc_cache_t *c, const char *path)
{
	zkc_strings_t *l;
	cnode_t *n, *k;
	size_t cnt = 0, i = 0;

	if (!out || !c || !path)
		return zkc__error(ZKC_EBADARGUMENTS, "cache children: NULL argument");
	*out = NULL;
	zkc__rd_lock(&c->rw);
	n = find(c, path, strlen(path));
	if (!n) {
		zkc__rd_unlock(&c->rw);
		return zkc__error(ZKC_ENONODE, "cache children %s: not in the cache", path);
	}
	for (k = n->kids; k; k = k->next)
		cnt++;
	l = calloc(1, sizeof(*l));
	if (l)
		l->items = calloc(cnt ? cnt : 1, sizeof(char *));
	for (k = n->kids; l && l->items && k; k = k->next) {
		const char *name = k->buf + (n->plen == 1 ? 1 : n->plen + 1);

		if (!(l->items[i] = strdup(name)))
			break;
		l->count = ++i;
	}
	zkc__rd_unlock(&c->rw);
	if (!l || !l->items || i != cnt) {
		zkc_strings_free(l);
		return zkc__error(ZKC_ENOMEM, "cache children %s: out of memory", path);
	}
	qsort(l->items, l->count, sizeof(char *), cmp_str);
	*out = l;
	return ZKC_OK;
}

size_t zkc_cache_count(zkc_cache_t *c)
{
	size_t n;

	if (!c)
		return 0;
	zkc__rd_lock(&c->rw);
	n = c->count;
	zkc__rd_unlock(&c->rw);
	return n;
}

size_t zkc_cache_memory(zkc_cache_t *c)
{
	cnode_t *n, *tmp;
	size_t m = 0;

	if (!c)
		return 0;
	zkc__rd_lock(&c->rw);
	/* malloc's view: usable size plus its 8-byte chunk header. */
	HASH_ITER(hh, c->nodes, n, tmp)
		m += malloc_usable_size(n) + sizeof(size_t);
	if (c->nodes)
		m += c->nodes->hh.tbl->num_buckets * sizeof(UT_hash_bucket) +
		     sizeof(UT_hash_table);
	zkc__rd_unlock(&c->rw);
	return m;
}

size_t zkc_cache_bytes(zkc_cache_t *c)
{
	size_t n;

	if (!c)
		return 0;
	zkc__rd_lock(&c->rw);
	n = c->bytes;
	zkc__rd_unlock(&c->rw);
	return n;
}

static int visit(const zkc_cache_t *c, const cnode_t *n, zkc_cache_visit_fn fn, void *payload)
{
	const cnode_t *k;
	int rc = fn(n->buf, node_data(n), NODE_LEN(c, n), &n->stat, payload);

	for (k = n->kids; rc == 0 && k; k = k->next)
		rc = visit(c, k, fn, payload);
	return rc;
}

int zkc_cache_foreach(zkc_cache_t *c, const char *path, zkc_cache_visit_fn fn, void *payload)
{
	cnode_t *n;
	int rc;

	if (!c || !fn)
		return zkc__error(ZKC_EBADARGUMENTS, "cache foreach: NULL cache or function");
	if (!path)
		path = c->root;
	zkc__rd_lock(&c->rw);
	n = find(c, path, strlen(path));
	rc = n ? visit(c, n, fn, payload) : ZKC_ENONODE;
	zkc__rd_unlock(&c->rw);
	if (rc == ZKC_ENONODE && !n)
		return zkc__error(ZKC_ENONODE, "cache foreach %s: not in the cache", path);
	return rc;
}

void zkc_cache_pin(zkc_cache_t *c)
{
	if (c)
		zkc__rd_lock(&c->rw);
}

void zkc_cache_unpin(zkc_cache_t *c)
{
	if (c)
		zkc__rd_unlock(&c->rw);
}

int zkc_cache_peek(const char **out_data, size_t *out_len, zkc_stat_t *out_stat,
                   zkc_cache_t *c, const char *path)
{
	cnode_t *n;

	if (!c || !path)
		return zkc__error(ZKC_EBADARGUMENTS, "cache peek: NULL cache or path");
	n = find(c, path, strlen(path));
	if (!n)
		return zkc__error(ZKC_ENONODE, "cache peek %s: not in the cache", path);
	if (out_data)
		*out_data = node_data(n);
	if (out_len)
		*out_len = NODE_LEN(c, n);
	if (out_stat)
		*out_stat = n->stat;
	return ZKC_OK;
}

const char *zkc_cache_path(const zkc_cache_t *c)
{
	return c ? c->root : NULL;
}

const char *zkc_cache_event_name(int type)
{
	switch (type) {
	case ZKC_CACHE_ADDED: return "ADDED";
	case ZKC_CACHE_UPDATED: return "UPDATED";
	case ZKC_CACHE_REMOVED: return "REMOVED";
	case ZKC_CACHE_INITIALIZED: return "INITIALIZED";
	case ZKC_CACHE_SUSPENDED: return "SUSPENDED";
	case ZKC_CACHE_RESYNCED: return "RESYNCED";
	case ZKC_CACHE_OVERFLOW: return "OVERFLOW";
	case ZKC_CACHE_RESET: return "RESET";
	default: return "UNKNOWN";
	}
}

int zkc_cache_options_init(zkc_cache_options_t *opts, unsigned int version)
{
	static const zkc_cache_options_t init = ZKC_CACHE_OPTIONS_INIT;
	int rc;

	if (!opts)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_cache_options_init: opts is NULL");
	rc = zkc_options_version_check("zkc_cache_options_init", (int)version, ZKC_CACHE_OPTIONS_VERSION);
	if (rc != ZKC_OK)
		return rc;
	*opts = init;
	opts->version = (int)version;
	return ZKC_OK;
}
