/* src/ops.c - the synchronous node operations: each is one or more
 * asynchronous libzookeeper requests, waited on with the call's deadline and
 * retried only where the outcome stays knowable (docs/design.md, rule 4). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"

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
	struct ACL acl_storage[64];
	int flags;                /* ZKC_CREATE_* */
	char prefix[64];          /* protected: "_c_<guid>-" */
	char *sent_path;          /* protected: path with the prefix, owned */
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

/* A finished request holding what a completed create would have: found's
 * path (taken) and its stat. NULL (found freed, error recorded) if out of
 * memory. */
static zkc__req_t *req_from_found(zkc_t *zk, char *found, const zkc_stat_t *st)
{
	zkc__req_t *r = zkc__req_new(zk);

	if (!r) {
		free(found);
		zkc__error(ZKC_ENOMEM, "out of memory");
		return NULL;
	}
	r->refs = 1;
	r->done = 1;
	r->path = found;
	r->stat.czxid = st->czxid;
	r->stat.mzxid = st->mzxid;
	r->stat.ctime = st->ctime;
	r->stat.mtime = st->mtime;
	r->stat.version = st->version;
	r->stat.cversion = st->cversion;
	r->stat.aversion = st->aversion;
	r->stat.ephemeralOwner = st->ephemeral_owner;
	r->stat.dataLength = st->data_length;
	r->stat.numChildren = st->num_children;
	r->stat.pzxid = st->pzxid;
	return r;
}

/* Looks for the child of parent that carries the call's GUID (listed in
 * names). ZKC_OK: found, c->req holds it; ZKC_EAGAIN: not there, create
 * again; else the code that ends the call. */
static int protected_find(zkc__call_t *c, const char *parent, const zkc_strings_t *names)
{
	create_arg_t *a = c->arg;
	size_t i;
	int rc = ZKC_EAGAIN;

	for (i = 0; i < names->count; i++) {
		const char *name = names->items[i];
		char *found;
		zkc_stat_t st;
		zkc__req_t *r;

		if (strncmp(name, a->prefix, strlen(a->prefix)) != 0)
			continue;
		found = zkc__path_join(parent, name);
		if (!found)
			return zkc__error(ZKC_ENOMEM, "out of memory");
		rc = zkc_exists(&st, c->zk, found);
		if (rc == ZKC_OK && zkc__mode_ephemeral(a->mode) && st.ephemeral_owner != c->sid) {
			/* Made by a session that is gone: it is not ours to keep. */
			free(found);
			return zkc__error(ZKC_ELOST, "create %s: the node was made by an ended session",
			                  c->path);
		}
		if (rc != ZKC_OK) {
			free(found);
			if (rc != ZKC_ENONODE)
				return rc;
			rc = ZKC_EAGAIN;   /* deleted since: create again */
			continue;
		}
		/* Hand the result back the way a completed attempt would. */
		if (!(r = req_from_found(c->zk, found, &st)))
			return zkc__error(ZKC_ENOMEM, "create %s: out of memory", c->path);
		if (c->req)
			zkc__req_unref(c->req);
		c->req = r;
		return ZKC_OK;
	}
	return rc;
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
		rc = zkc__error(ZKC_EAGAIN, "create %s: its parent is gone, so the lost create "
		                "did not happen", c->path);
	} else if (rc != ZKC_OK) {
		rc = zkc__error(ZKC_EUNKNOWN, "create %s: reply lost and the search for it failed",
		                c->path);
	} else {
		rc = protected_find(c, parent, lc.req->strings);
	}
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

/* The checks of zkc_create's arguments, before anything is sent. */
static int create_check(const char *path, const void *data, size_t len,
                        const zkc_create_options_t *opts)
{
	int rc;

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
	return ZKC_OK;
}

/* Fills a from the arguments; a protected create gets its GUID prefix and
 * the path it sends (a->sent_path, freed by the caller). */
static int create_prepare(create_arg_t *a, zkc_t *zk, const char *path, const void *data,
                          size_t len, const zkc_create_options_t *opts)
{
	char guid[40], *parent;
	const char *base;
	int rc;

	memset(a, 0, sizeof(*a));
	rc = zkc__acl_view(&a->acl, a->acl_storage, 64, zk, opts->acl);
	if (rc != ZKC_OK)
		return rc;
	a->path = path;
	a->data = data;
	a->len = len;
	a->mode = opts->mode;
	a->ttl_ms = opts->ttl_ms;
	a->flags = opts->flags;
	if (!(opts->flags & ZKC_CREATE_PROTECTED))
		return ZKC_OK;
	parent = zkc__path_parent(path);
	base = zkc__path_basename(path);
	make_guid(guid, sizeof(guid));
	snprintf(a->prefix, sizeof(a->prefix), "_c_%s-", guid);
	a->sent_path = parent ? zkc__sprintf("%s%s%s%s", parent, strcmp(parent, "/") ? "/" : "",
	                                     a->prefix, base) : NULL;
	free(parent);
	if (!a->sent_path)
		return zkc__error(ZKC_ENOMEM, "out of memory");
	a->path = a->sent_path;
	return ZKC_OK;
}

/* Runs the create call, making the missing parents once if asked to. On
 * return c is to be finished with zkc__call_done, whatever the code. */
static int create_run(zkc__call_t *c, zkc_t *zk, create_arg_t *a)
{
	int rc, parents_done = 0;

	for (;;) {
		zkc__call_init(c, zk, "create", a->path);
		c->submit = submit_create;
		c->arg = a;
		c->write = 1;
		c->session_bound = zkc__mode_ephemeral(a->mode);
		if (a->flags & ZKC_CREATE_PROTECTED)
			c->after_loss = protected_search;
		else if (zkc__mode_sequential(a->mode))
			c->after_loss = refuse_retry;
		rc = zkc__call_run(c);
		if (rc == ZKC_ENONODE && (a->flags & ZKC_CREATE_PARENTS) && !parents_done) {
			zkc__call_done(c);
			parents_done = 1;
			rc = create_parents(zk, a->path, a->mode == ZKC_CONTAINER);
			if (rc != ZKC_OK) {
				memset(c, 0, sizeof(*c));  /* nothing of the call remains */
				return rc;
			}
			continue;
		}
		return rc;
	}
}

/* ZKC_ENODEEXISTS after a lost reply: did our lost attempt make it? Only
 * an ephemeral node can say. ZKC_OK (results stored) or ZKC_EUNKNOWN. */
static int create_settle_exists(char **out_path, zkc_stat_t *out_stat, zkc__call_t *c,
                                const create_arg_t *a, const char *path)
{
	zkc_stat_t st;
	int erc = zkc_exists(&st, c->zk, a->path);

	if (erc == ZKC_OK && zkc__mode_ephemeral(a->mode) && st.ephemeral_owner == c->sid &&
	    c->sid == c->first_sid) {
		if (out_stat)
			*out_stat = st;
		if (out_path && !(*out_path = strdup(a->path)))
			return zkc__error(ZKC_ENOMEM, "out of memory");
		return ZKC_OK;
	}
	return zkc__error(ZKC_EUNKNOWN, "create %s: reply lost, then the node existed: made "
	                  "by this call or by another client, which cannot be told apart", path);
}

/* Hands a successful create's path and stat to the caller. */
static int create_results(char **out_path, zkc_stat_t *out_stat, zkc__call_t *c,
                          const create_arg_t *a)
{
	if (out_stat)
		zkc__stat_from_zk(out_stat, &c->req->stat);
	if (out_path) {
		*out_path = c->req->path;
		c->req->path = NULL;
		if (!*out_path && !(*out_path = strdup(a->path)))
			return zkc__error(ZKC_ENOMEM, "out of memory");
	}
	return ZKC_OK;
}

int zkc_create(char **out_path, zkc_stat_t *out_stat, zkc_t *zk, const char *path,
               const void *data, size_t len, const zkc_create_options_t *opts)
{
	zkc_create_options_t def = ZKC_CREATE_OPTIONS_INIT;
	create_arg_t a;
	zkc__call_t c;
	int rc;

	if (out_path)
		*out_path = NULL;
	if (!opts)
		opts = &def;
	rc = create_check(path, data, len, opts);
	if (rc != ZKC_OK)
		return rc;
	rc = zkc__call_enter(zk);
	if (rc != ZKC_OK)
		return rc;
	rc = create_prepare(&a, zk, path, data, len, opts);
	if (rc == ZKC_OK) {
		memset(&c, 0, sizeof(c));
		rc = create_run(&c, zk, &a);
		if (rc == ZKC_ENODEEXISTS && c.lost)
			rc = create_settle_exists(out_path, out_stat, &c, &a, path);
		else if (rc == ZKC_OK)
			rc = create_results(out_path, out_stat, &c, &a);
		zkc__call_done(&c);
	}
	free(a.sent_path);
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
