/* src/batch.c - pipelined requests: a batch's ops are sent back to back on
 * one session and answered together. A run's state is reference-counted
 * apart from the batch, so a caller that stops waiting never leaves a late
 * completion writing into freed memory. */
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "supervisor.h"

enum { B_GET = 1, B_EXISTS, B_CHILDREN, B_CREATE, B_SET, B_DELETE, B_SYNC, B_GET_ACL,
       B_CREATE_IF };

typedef struct bop {
	int kind;
	char *path;
	char *data;
	size_t len;
	int mode;
	int64_t ttl_ms;
	int32_t version;
	int watch;
	zkc_watch_fn fn;
	void *payload;
	int nacl;                  /* 0: the client's default */
	zkc_acl_t *acl;
	struct ACL *zacl;
	char *check_path;          /* B_CREATE_IF: the node that must exist */
	/* result */
	int code;
	zkc__req_t *req;           /* answered request, owned */
} bop_t;

typedef struct brun brun_t;

struct zkc_batch {
	bop_t *ops;
	size_t count, cap;
	int64_t session;
	brun_t *run;               /* the run in progress, if any */
};

/* One run of a batch. refs: the waiter (or the async owner) + each request
 * still in flight. */
struct brun {
	zkc__pending_t pending;    /* first: async runs wait in the pending list */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;
	size_t answered;
	size_t total;
	zkc_batch_t *b;            /* NULL once a sync waiter gave up */
	zkc_t *zk;
	int async;                 /* 1: done is called; 2: queued with tag */
	zkc_batch_fn done;
	void *payload;
	uint64_t tag;
};

/* ------------------------------------------------------------ building */

int zkc_batch_new(zkc_batch_t **out)
{
	if (!out)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_batch_new: out is NULL");
	*out = calloc(1, sizeof(**out));
	return *out ? ZKC_OK : zkc__error(ZKC_ENOMEM, "out of memory");
}

static void results_clear(zkc_batch_t *b)
{
	size_t i;

	for (i = 0; i < b->count; i++) {
		if (b->ops[i].req)
			zkc__req_unref(b->ops[i].req);
		b->ops[i].req = NULL;
		b->ops[i].code = ZKC_OK;
	}
	b->session = 0;
}

static void bop_clear(bop_t *op)
{
	int i;

	if (op->req)
		zkc__req_unref(op->req);
	free(op->path);
	free(op->data);
	for (i = 0; i < op->nacl; i++) {
		free((char *)op->acl[i].scheme);
		free((char *)op->acl[i].id);
	}
	free(op->acl);
	free(op->zacl);
	free(op->check_path);
	memset(op, 0, sizeof(*op));
}

void zkc_batch_clear(zkc_batch_t *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->count; i++)
		bop_clear(&b->ops[i]);
	b->count = 0;
	b->session = 0;
}

void zkc_batch_free(zkc_batch_t *b)
{
	if (!b)
		return;
	zkc_batch_clear(b);
	free(b->ops);
	free(b);
}

size_t zkc_batch_count(const zkc_batch_t *b)
{
	return b ? b->count : 0;
}

static int add(zkc_batch_t *b, const bop_t *proto, const char *path, int sequential)
{
	bop_t *op;
	int rc;

	if (!b)
		return zkc__error(ZKC_EBADARGUMENTS, "batch is NULL");
	if (b->run)
		return zkc__error(ZKC_EBADARGUMENTS, "batch is running");
	if (!path)
		return zkc__error(ZKC_EBADARGUMENTS, "batch op: path is NULL");
	if (sequential && strlen(path) > 1 && path[strlen(path) - 1] == '/') {
		char *p = zkc__sprintf("%s0", path);

		rc = p ? zkc_path_validate(p, (size_t)-1) : zkc__error(ZKC_ENOMEM, "out of memory");
		free(p);
	} else {
		rc = zkc_path_validate(path, (size_t)-1);
	}
	if (rc != ZKC_OK)
		return rc;
	if (b->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 8;
		bop_t *n = realloc(b->ops, cap * sizeof(*n));

		if (!n)
			return zkc__error(ZKC_ENOMEM, "out of memory");
		b->ops = n;
		b->cap = cap;
	}
	op = &b->ops[b->count];
	*op = *proto;
	op->path = strdup(path);
	op->data = NULL;
	op->acl = NULL;
	op->zacl = NULL;
	op->nacl = 0;
	op->check_path = NULL;
	if (!op->path)
		return zkc__error(ZKC_ENOMEM, "out of memory");
	if (proto->len || proto->kind == B_CREATE || proto->kind == B_CREATE_IF ||
	    proto->kind == B_SET) {
		op->data = malloc(proto->len ? proto->len : 1);
		if (!op->data) {
			free(op->path);
			return zkc__error(ZKC_ENOMEM, "out of memory");
		}
		if (proto->len)
			memcpy(op->data, proto->data, proto->len);
	}
	return (int)b->count++;
}

static int add_read(zkc_batch_t *b, int kind, const char *path, int watch, zkc_watch_fn fn,
                    void *payload)
{
	bop_t proto;

	memset(&proto, 0, sizeof(proto));
	proto.kind = kind;
	proto.watch = watch != 0;
	proto.fn = fn;
	proto.payload = payload;
	return add(b, &proto, path, 0);
}

int zkc_batch_get(zkc_batch_t *b, const char *path, int watch, zkc_watch_fn fn, void *payload)
{
	return add_read(b, B_GET, path, watch, fn, payload);
}

int zkc_batch_exists(zkc_batch_t *b, const char *path, int watch, zkc_watch_fn fn, void *payload)
{
	return add_read(b, B_EXISTS, path, watch, fn, payload);
}

int zkc_batch_children(zkc_batch_t *b, const char *path, int watch, zkc_watch_fn fn,
                       void *payload)
{
	return add_read(b, B_CHILDREN, path, watch, fn, payload);
}

int zkc_batch_get_acl(zkc_batch_t *b, const char *path)
{
	return add_read(b, B_GET_ACL, path, 0, NULL, NULL);
}

int zkc_batch_sync(zkc_batch_t *b, const char *path)
{
	return add_read(b, B_SYNC, path, 0, NULL, NULL);
}

static void guid_prefix(char *out, size_t n)
{
	unsigned char g[16];
	size_t i;

	for (i = 0; i < sizeof(g); i++)
		g[i] = (unsigned char)(zkc__random01() * 256.0);
	g[6] = (unsigned char)((g[6] & 0x0f) | 0x40);
	g[8] = (unsigned char)((g[8] & 0x3f) | 0x80);
	snprintf(out, n, "_c_%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x-",
	         g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12],
	         g[13], g[14], g[15]);
}

/* Gives the create op at idx its own copy of acl; on failure the op is
 * taken out of the batch again. */
static int op_set_acl(zkc_batch_t *b, int idx, const zkc_acl_list_t *acl)
{
	bop_t *op = &b->ops[idx];
	int i, rc = ZKC_OK;

	op->acl = calloc((size_t)acl->count, sizeof(*op->acl));
	op->zacl = calloc((size_t)acl->count, sizeof(*op->zacl));
	for (i = 0; op->acl && op->zacl && i < acl->count; i++) {
		const zkc_acl_t *a = &acl->acls[i];

		if (!a->scheme || !a->id || a->perms == 0 || (a->perms & ~ZKC_PERM_ALL)) {
			rc = zkc__error(ZKC_EBADARGUMENTS, "batch create: ACL entry %d is invalid", i);
			break;
		}
		op->acl[i].perms = a->perms;
		op->acl[i].scheme = strdup(a->scheme);
		op->acl[i].id = strdup(a->id);
		op->nacl = i + 1;
		if (!op->acl[i].scheme || !op->acl[i].id) {
			rc = zkc__error(ZKC_ENOMEM, "out of memory");
			break;
		}
		op->zacl[i].perms = a->perms;
		op->zacl[i].id.scheme = (char *)op->acl[i].scheme;
		op->zacl[i].id.id = (char *)op->acl[i].id;
	}
	if (!op->acl || !op->zacl)
		rc = zkc__error(ZKC_ENOMEM, "out of memory");
	if (rc != ZKC_OK) {
		bop_clear(op);
		b->count--;
	}
	return rc;
}

int zkc_batch_create(zkc_batch_t *b, const char *path, const void *data, size_t len,
                     const zkc_create_options_t *opts)
{
	zkc_create_options_t def = ZKC_CREATE_OPTIONS_INIT;
	char *named = NULL;
	bop_t proto;
	int rc, idx;

	if (!opts)
		opts = &def;
	if ((rc = zkc_options_version_check("zkc_batch_create", opts->version,
	                                    ZKC_CREATE_OPTIONS_VERSION)) != ZKC_OK)
		return rc;
	if (!zkc__mode_valid(opts->mode))
		return zkc__error(ZKC_EBADARGUMENTS, "batch create: unknown mode %d", opts->mode);
	if (opts->flags & ~ZKC_CREATE_PROTECTED)
		return zkc__error(ZKC_EBADARGUMENTS, "batch create: only ZKC_CREATE_PROTECTED may be "
		                  "set (flags 0x%x)", opts->flags);
	if ((opts->mode == ZKC_PERSISTENT_WITH_TTL || opts->mode == ZKC_PERSISTENT_SEQUENTIAL_WITH_TTL)
	    && (opts->ttl_ms <= 0 || opts->ttl_ms > 0xffffffffffLL))
		return zkc__error(ZKC_EBADARGUMENTS, "batch create: a TTL mode needs a TTL");
	if (opts->acl && (opts->acl->count <= 0 || opts->acl->count > 64 || !opts->acl->acls))
		return zkc__error(ZKC_EBADARGUMENTS, "batch create: ACL list needs 1..64 entries");
	if (!path)
		return zkc__error(ZKC_EBADARGUMENTS, "batch op: path is NULL");
	rc = zkc__check_data(data, len, path);
	if (rc != ZKC_OK)
		return rc;
	if (opts->flags & ZKC_CREATE_PROTECTED) {
		char prefix[64], *parent;

		rc = zkc_path_validate(path, (size_t)-1);
		if (rc != ZKC_OK && !zkc__mode_sequential(opts->mode))
			return rc;
		parent = zkc__path_parent(path);
		guid_prefix(prefix, sizeof(prefix));
		named = parent ? zkc__sprintf("%s%s%s%s", parent, strcmp(parent, "/") ? "/" : "",
		                              prefix, zkc__path_basename(path)) : NULL;
		free(parent);
		if (!named)
			return zkc__error(ZKC_ENOMEM, "out of memory");
		path = named;
	}
	memset(&proto, 0, sizeof(proto));
	proto.kind = B_CREATE;
	proto.data = (char *)data;
	proto.len = len;
	proto.mode = opts->mode;
	proto.ttl_ms = opts->ttl_ms;
	idx = add(b, &proto, path, zkc__mode_sequential(opts->mode));
	free(named);
	if (idx < 0 || !opts->acl)
		return idx;
	rc = op_set_acl(b, idx, opts->acl);
	return rc != ZKC_OK ? rc : idx;
}

int zkc_batch_create_if(zkc_batch_t *b, const char *path, const void *data, size_t len,
                        const zkc_create_options_t *opts, const char *check_path,
                        int32_t check_version)
{
	zkc_create_options_t def = ZKC_CREATE_OPTIONS_INIT;
	bop_t *op;
	int rc, idx;

	if (!opts)
		opts = &def;
	if (!b)
		return zkc__error(ZKC_EBADARGUMENTS, "batch is NULL");
	if (!check_path || check_version < -1)
		return zkc__error(ZKC_EBADARGUMENTS, "batch create_if: %s", !check_path ?
		                  "check_path is NULL" : "check_version below -1");
	if ((rc = zkc_path_validate(check_path, (size_t)-1)) != ZKC_OK)
		return rc;
	if (opts->version == ZKC_CREATE_OPTIONS_VERSION &&
	    (opts->mode == ZKC_PERSISTENT_WITH_TTL || opts->mode == ZKC_PERSISTENT_SEQUENTIAL_WITH_TTL ||
	     (opts->flags & ZKC_CREATE_PROTECTED)))
		return zkc__error(ZKC_EBADARGUMENTS, "batch create_if: TTL modes and "
		                  "ZKC_CREATE_PROTECTED are not supported");
	/* the create's own checks, then the op becomes a transaction */
	idx = zkc_batch_create(b, path, data, len, opts);
	if (idx < 0)
		return idx;
	op = &b->ops[idx];
	if (!(op->check_path = strdup(check_path))) {
		bop_clear(op);
		b->count--;
		return zkc__error(ZKC_ENOMEM, "out of memory");
	}
	op->kind = B_CREATE_IF;
	op->version = check_version;
	return idx;
}

int zkc_batch_set(zkc_batch_t *b, const char *path, const void *data, size_t len,
                  int32_t version)
{
	bop_t proto;
	int rc;

	if (version < -1)
		return zkc__error(ZKC_EBADARGUMENTS, "batch set: version %d", (int)version);
	rc = zkc__check_data(data, len, path ? path : "");
	if (rc != ZKC_OK)
		return rc;
	memset(&proto, 0, sizeof(proto));
	proto.kind = B_SET;
	proto.data = (char *)data;
	proto.len = len;
	proto.version = version;
	return add(b, &proto, path, 0);
}

int zkc_batch_delete(zkc_batch_t *b, const char *path, int32_t version)
{
	bop_t proto;

	if (version < -1)
		return zkc__error(ZKC_EBADARGUMENTS, "batch delete: version %d", (int)version);
	if (path && strcmp(path, "/") == 0)
		return zkc__error(ZKC_EBADARGUMENTS, "batch delete: the root cannot be deleted");
	memset(&proto, 0, sizeof(proto));
	proto.kind = B_DELETE;
	proto.version = version;
	return add(b, &proto, path, 0);
}

/* ------------------------------------------------------------ running */

static void run_unref(brun_t *run)
{
	int left;

	pthread_mutex_lock(&run->mu);
	left = --run->refs;
	pthread_mutex_unlock(&run->mu);
	if (left == 0) {
		pthread_cond_destroy(&run->cv);
		pthread_mutex_destroy(&run->mu);
		free(run);
	}
}

static void async_finish(void *arg)
{
	brun_t *run = arg;
	zkc_batch_t *b = run->b;

	b->run = NULL;
	if (run->done)
		run->done(run->zk, b, run->payload);
	zkc_batch_free(b);
	run_unref(run);
}

/* A queued batch is taken from the completion queue (or freed in it at
 * close): only now is it the caller's again, so until then b->run keeps
 * it from being run, cleared or added to. */
static void queued_taken(zkc_batch_t *b)
{
	brun_t *run = b->run;

	b->run = NULL;
	run_unref(run);
}

static void queued_free(zkc_batch_t *b)
{
	queued_taken(b);
	zkc_batch_free(b);
}

/* A queued run goes to the completion queue from whichever thread gave the
 * last answer: no hop through the event thread. */
static void queued_finish(brun_t *run)
{
	zkc__completions_push(run->zk, run->b, run->tag, queued_taken, queued_free);
}

/* One more op has its answer (or will never get one). */
static void answered(brun_t *run)
{
	int all;

	pthread_mutex_lock(&run->mu);
	all = ++run->answered == run->total;
	/* zkc_batch_run waits for all of them: waking it for each answer
	 * cost a wake-up and a sleep per op before the last */
	if (all)
		pthread_cond_broadcast(&run->cv);
	pthread_mutex_unlock(&run->mu);
	if (all && run->async == 2)
		queued_finish(run);
	else if (all && run->async)
		zkc__post(run->zk, async_finish, run);
}

/* The code a batch op reports for libzookeeper's answer rc. The ways a
 * sent request can end without its reply (the connection timed out, the
 * session expired or moved while it was in flight, zkc replaced the handle
 * it was sent on) are one outcome for the caller: ZKC_ECONNECTIONLOSS,
 * "applied or not, nobody knows yet"; a request ended by zkc_close reports
 * ZKC_ECLOSED, as a blocking call does. Passing ZOPERATIONTIMEOUT or
 * ZCLOSING through made callers that test for ZKC_ECONNECTIONLOSS read a
 * write that had been applied as one that failed (the counter lost such an
 * add). Call without run->mu held (zkc_state takes the client's lock). */
static int op_code(zkc_t *zk, int rc)
{
	switch (rc) {
	case ZOK:
		return ZKC_OK;
	case ZCLOSING:
		if (zkc_state(zk) == ZKC_STATE_CLOSED)
			return ZKC_ECLOSED;
		return ZKC_ECONNECTIONLOSS;
	case ZOPERATIONTIMEOUT:
	case ZSESSIONEXPIRED:
	case ZSESSIONMOVED:
		return ZKC_ECONNECTIONLOSS;
	default:
		return rc;
	}
}

static void op_done(zkc__req_t *r)
{
	brun_t *run = r->on_done_ctx;
	int code = op_code(run->zk, r->rc);

	pthread_mutex_lock(&run->mu);
	if (run->b) {
		bop_t *op = &run->b->ops[r->on_done_index];

		op->code = code;
		/* The batch keeps the answered request (results live in it). */
		pthread_mutex_lock(&r->mu);
		r->refs++;
		pthread_mutex_unlock(&r->mu);
		op->req = r;
	} else if (r->watch) {
		/* The waiter gave up and reported this op ZKC_ETIMEDOUT, a
		 * failure: its watch was never the caller's (as for a plain
		 * call), so a late success must not call it. It is armed only
		 * after this returns. */
		r->watch->silent = 1;
	}
	pthread_mutex_unlock(&run->mu);
	answered(run);
	run_unref(run);
}

/* A create applied only while check_path exists at the op's version: a
 * transaction of a check and the create, with result buffers owned by the
 * request (libzookeeper writes into them when the reply comes). */
static int submit_create_if(zhandle_t *zh, bop_t *op, zkc__req_t *r, zkc_t *zk)
{
	struct ACL_vector acl;
	zoo_op_t ops[2];
	size_t n = strlen(op->path) + 64;

	r->nops = 2;
	r->results = calloc(2, sizeof(*r->results));
	r->pathbufs = calloc(2, sizeof(*r->pathbufs));
	/* libzookeeper copies the created path without a NUL when it fills
	 * the buffer: keep one zero byte past what it may use */
	if (r->pathbufs)
		r->pathbufs[1] = calloc(1, n + 1);
	if (!r->results || !r->pathbufs || !r->pathbufs[1])
		return ZSYSTEMERROR;
	if (op->nacl) {
		acl.count = op->nacl;
		acl.data = op->zacl;
	} else {
		acl = zk->acl;
	}
	zoo_check_op_init(&ops[0], op->check_path, op->version);
	zoo_create_op_init(&ops[1], op->path, op->data, (int)op->len, &acl, op->mode,
	                   r->pathbufs[1], (int)n);
	return zoo_amulti(zh, 2, ops, r->results, zkc__complete_void, r);
}

static int submit_op(zhandle_t *zh, bop_t *op, zkc__req_t *r, zkc_t *zk)
{
	struct ACL_vector acl;

	switch (op->kind) {
	case B_GET:
		return zoo_awget(zh, op->path, r->watch ? zkc__watch_trampoline : NULL, r->watch,
		                 zkc__complete_data, r);
	case B_EXISTS:
		return zoo_awexists(zh, op->path, r->watch ? zkc__watch_trampoline : NULL, r->watch,
		                    zkc__complete_stat, r);
	case B_CHILDREN:
		return zoo_awget_children2(zh, op->path, r->watch ? zkc__watch_trampoline : NULL,
		                           r->watch, zkc__complete_strings_stat, r);
	case B_CREATE:
		if (op->nacl) {
			acl.count = op->nacl;
			acl.data = op->zacl;
		} else {
			acl = zk->acl;
		}
		if (op->mode == ZKC_PERSISTENT_WITH_TTL || op->mode == ZKC_PERSISTENT_SEQUENTIAL_WITH_TTL)
			return zoo_acreate2_ttl(zh, op->path, op->data, (int)op->len, &acl, op->mode,
			                        op->ttl_ms, zkc__complete_string_stat, r);
		return zoo_acreate2(zh, op->path, op->data, (int)op->len, &acl, op->mode,
		                    zkc__complete_string_stat, r);
	case B_CREATE_IF:
		return submit_create_if(zh, op, r, zk);
	case B_SET:
		return zoo_aset(zh, op->path, op->data, (int)op->len, op->version, zkc__complete_stat, r);
	case B_DELETE:
		return zoo_adelete(zh, op->path, op->version, zkc__complete_void, r);
	case B_GET_ACL:
		return zoo_aget_acl(zh, op->path, zkc__complete_acl, r);
	default:
		return zoo_async(zh, op->path, zkc__complete_string, r);
	}
}

/* Sends every op of run->b on zh. Ops that cannot be sent are answered at
 * once with their code. */
static void send_all(brun_t *run, zhandle_t *zh, uint64_t gen, int64_t sid)
{
	zkc_batch_t *b = run->b;
	size_t i, n = b->count;

	/* Once the last op is sent (or answered), an async run may finish and
	 * free b on the event thread: never read b after that. */
	b->session = sid;
	for (i = 0; i < n; i++) {
		bop_t *op = &b->ops[i];
		zkc__req_t *r = zkc__req_new(run->zk);
		int zrc;

		if (r && op->watch) {
			r->watch = zkc__watch_new(run->zk, gen, op->path, op->fn, op->payload);
			r->watch_on_nonode = op->kind == B_EXISTS;
			if (!r->watch) {
				r->refs = 1;
				zkc__req_unref(r);
				r = NULL;
			}
		}
		if (!r) {
			op->code = ZKC_ENOMEM;
			answered(run);
			continue;
		}
		r->on_done = op_done;
		r->on_done_ctx = run;
		r->on_done_index = i;
		pthread_mutex_lock(&run->mu);
		run->refs++;
		pthread_mutex_unlock(&run->mu);
		zkc__req_track(run->zk, r, gen);
		zrc = submit_op(zh, op, r, run->zk);
		if (zrc != ZOK) {
			zkc__req_untrack(r);
			zkc__watch_drop(r->watch);
			r->watch = NULL;
			r->refs = 1;
			zkc__req_unref(r);
			op->code = zrc;
			run_unref(run);
			answered(run);
		} else {
			/* The completion holds its reference; we do not wait on r. */
			zkc__req_unref(r);
		}
	}
}

static brun_t *run_new(zkc_t *zk, zkc_batch_t *b)
{
	brun_t *run = calloc(1, sizeof(*run));

	if (!run)
		return NULL;
	pthread_mutex_init(&run->mu, NULL);
	zkc__cond_init(&run->cv);
	run->refs = 1;
	run->b = b;
	run->zk = zk;
	run->total = b->count;
	return run;
}

int zkc_batch_run(zkc_t *zk, zkc_batch_t *b)
{
	zhandle_t *zh;
	uint64_t gen;
	int64_t sid, deadline;
	brun_t *run;
	size_t i;
	int rc;

	if (!b)
		return zkc__error(ZKC_EBADARGUMENTS, "batch is NULL");
	if (b->run)
		return zkc__error(ZKC_EBADARGUMENTS, "batch is already running");
	results_clear(b);
	if (b->count == 0)
		return ZKC_OK;
	rc = zkc__call_enter(zk);
	if (rc != ZKC_OK)
		return rc;
	pthread_mutex_lock(&zk->mu);
	deadline = zkc__now_ms() + zk->retry.deadline_ms;
	pthread_mutex_unlock(&zk->mu);
	/* the caller's deadline, when one is bound, ends the wait too */
	deadline = zkc__deadline_cap(deadline);
	if (zkc__now_ms() >= deadline) {
		zkc__call_leave(zk);
		return zkc__error(ZKC_ETIMEDOUT, "batch: the caller's deadline passed before it "
		                  "was sent");
	}
	rc = zkc__zh_acquire(zk, deadline, &zh, &gen, &sid);
	if (rc != ZKC_OK) {
		zkc__call_leave(zk);
		return rc;
	}
	run = run_new(zk, b);
	if (!run) {
		zkc__zh_release(zk);
		zkc__call_leave(zk);
		return zkc__error(ZKC_ENOMEM, "out of memory");
	}
	b->run = run;
	send_all(run, zh, gen, sid);
	zkc__zh_release(zk);
	pthread_mutex_lock(&run->mu);
	while (run->answered < run->total) {
		struct timespec ts;
		int64_t left = deadline - zkc__now_ms();

		if (left <= 0)
			break;
		zkc__deadline_ts(&ts, left);
		pthread_cond_timedwait(&run->cv, &run->mu, &ts);
	}
	if (run->answered < run->total) {
		/* Late answers must not touch the batch any more. */
		for (i = 0; i < b->count; i++)
			if (!b->ops[i].req && b->ops[i].code == ZKC_OK)
				b->ops[i].code = ZKC_ETIMEDOUT;
		run->b = NULL;
	}
	pthread_mutex_unlock(&run->mu);
	b->run = NULL;
	run_unref(run);
	zkc__call_leave(zk);
	return ZKC_OK;
}

static void pending_send(zkc__pending_t *p, zhandle_t *zh, int64_t sid)
{
	brun_t *run = (brun_t *)p;
	uint64_t gen;

	pthread_mutex_lock(&run->zk->mu);
	gen = run->zk->gen;
	pthread_mutex_unlock(&run->zk->mu);
	send_all(run, zh, gen, sid);
}

static void pending_expire(zkc__pending_t *p, int code)
{
	brun_t *run = (brun_t *)p;
	size_t i, n = run->b->count;

	/* Every code first: the last answer hands the batch and the run to
	 * the event thread, which may free both before a loop that read
	 * run->b->count again would look. */
	for (i = 0; i < n; i++)
		run->b->ops[i].code = code;
	for (i = 0; i < n; i++)
		answered(run);
}

/* Starts an asynchronous run (async 1: done is called, 2: queued); on
 * failure b stays the caller's. */
static int run_start(zkc_t *zk, zkc_batch_t *b, int async, zkc_batch_fn done, void *payload,
                     uint64_t tag)
{
	zhandle_t *zh;
	uint64_t gen;
	int64_t sid;
	brun_t *run;
	int rc;

	if (b->run)
		return zkc__error(ZKC_EBADARGUMENTS, "batch is already running");
	results_clear(b);
	run = run_new(zk, b);
	if (!run)
		return zkc__error(ZKC_ENOMEM, "out of memory");
	run->async = async;
	run->done = done;
	run->payload = payload;
	run->tag = tag;
	if (b->count == 0) {
		b->run = run;
		if (async == 2)
			queued_finish(run);
		else
			zkc__post(zk, async_finish, run);
		return ZKC_OK;
	}
	/* Connected: send now, so later calls go after it. Otherwise the
	 * supervisor sends it when a connection comes. */
	if (zkc__zh_acquire(zk, zkc__now_ms(), &zh, &gen, &sid) == ZKC_OK) {
		b->run = run;
		send_all(run, zh, gen, sid);
		zkc__zh_release(zk);
		return ZKC_OK;
	}
	pthread_mutex_lock(&zk->mu);
	run->pending.deadline_ms = zkc__now_ms() + zk->retry.deadline_ms;
	pthread_mutex_unlock(&zk->mu);
	run->pending.send = pending_send;
	run->pending.expire = pending_expire;
	b->run = run;
	rc = zkc__pending_add(zk, &run->pending);
	if (rc != ZKC_OK) {
		b->run = NULL;
		run_unref(run);
		return rc;
	}
	return ZKC_OK;
}

int zkc_batch_run_async(zkc_t *zk, zkc_batch_t *b, zkc_batch_fn done, void *payload)
{
	if (!zk || !b)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_batch_run_async: NULL argument");
	return run_start(zk, b, 1, done, payload, 0);
}

int zkc_batch_run_queued(zkc_t *zk, zkc_batch_t *b, uint64_t tag)
{
	int rc;

	if (!zk || !b)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_batch_run_queued: %s is NULL",
		                  zk ? "batch" : "client");
	if ((rc = zkc__completions_ready(zk)) != ZKC_OK)
		return rc;
	return run_start(zk, b, 2, NULL, NULL, tag);
}

/* ------------------------------------------------------------ results */

static const bop_t *op_at(const zkc_batch_t *b, size_t i)
{
	return b && i < b->count ? &b->ops[i] : NULL;
}

int zkc_batch_code(const zkc_batch_t *b, size_t i)
{
	const bop_t *op = op_at(b, i);

	return op ? op->code : zkc__error(ZKC_EBADARGUMENTS, "batch op %zu does not exist", i);
}

const char *zkc_batch_data(const zkc_batch_t *b, size_t i, size_t *out_len)
{
	const bop_t *op = op_at(b, i);

	if (out_len)
		*out_len = 0;
	if (!op || !op->req || op->kind != B_GET || op->code != ZKC_OK)
		return NULL;
	if (out_len)
		*out_len = (size_t)op->req->datalen;
	return op->req->data;
}

int zkc_batch_stat(zkc_stat_t *out, const zkc_batch_t *b, size_t i)
{
	const bop_t *op = op_at(b, i);

	if (!op || !out)
		return zkc__error(ZKC_EBADARGUMENTS, "batch op %zu does not exist", i);
	if (op->code != ZKC_OK)
		return op->code;
	if (!op->req || !op->req->have_stat)
		return zkc__error(ZKC_EBADARGUMENTS, "batch op %zu has no stat", i);
	zkc__stat_from_zk(out, &op->req->stat);
	return ZKC_OK;
}

const char *zkc_batch_path(const zkc_batch_t *b, size_t i)
{
	const bop_t *op = op_at(b, i);

	if (op && op->req && op->kind == B_CREATE_IF && op->code == ZKC_OK && op->req->pathbufs)
		return op->req->pathbufs[1];
	return op && op->req && op->kind == B_CREATE && op->code == ZKC_OK ? op->req->path : NULL;
}

const zkc_strings_t *zkc_batch_children_of(const zkc_batch_t *b, size_t i)
{
	const bop_t *op = op_at(b, i);

	return op && op->req && op->kind == B_CHILDREN && op->code == ZKC_OK ? op->req->strings
	                                                                      : NULL;
}

const zkc_acl_list_t *zkc_batch_acl(const zkc_batch_t *b, size_t i)
{
	const bop_t *op = op_at(b, i);

	return op && op->req && op->kind == B_GET_ACL && op->code == ZKC_OK ? op->req->acl : NULL;
}

int64_t zkc_batch_session(const zkc_batch_t *b)
{
	return b ? b->session : 0;
}
