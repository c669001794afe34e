/* src/acl_ops.c - reading and writing a node's ACL: zkc_acl_get and
 * zkc_acl_set, blocking calls on the same retry discipline as the other
 * node operations (src/ops.c). */
#include <stdlib.h>
#include <string.h>

#include "call.h"

static int submit_get_acl(zhandle_t *zh, zkc__req_t *r, zkc__call_t *c)
{
	return zoo_aget_acl(zh, c->path, zkc__complete_acl, r);
}

int zkc_acl_get(zkc_acl_list_t **out, zkc_stat_t *out_stat, zkc_t *zk, const char *path)
{
	zkc__call_t c;
	int rc;

	if (out)
		*out = NULL;
	if (!out)
		return zkc__error(ZKC_EBADARGUMENTS, "get acl: out is NULL");
	rc = zkc_path_validate(path, (size_t)-1);
	if (rc != ZKC_OK)
		return rc;
	rc = zkc__call_enter(zk);
	if (rc != ZKC_OK)
		return rc;
	zkc__call_init(&c, zk, "get acl", path);
	c.submit = submit_get_acl;
	rc = zkc__call_run(&c);
	if (rc == ZKC_OK) {
		*out = c.req->acl;
		c.req->acl = NULL;
		if (out_stat)
			zkc__stat_from_zk(out_stat, &c.req->stat);
	}
	zkc__call_done(&c);
	zkc__call_leave(zk);
	return rc;
}

typedef struct set_acl_arg {
	struct ACL_vector v;
	int32_t version;
} set_acl_arg_t;

static int submit_set_acl(zhandle_t *zh, zkc__req_t *r, zkc__call_t *c)
{
	set_acl_arg_t *a = c->arg;

	return zoo_aset_acl(zh, c->path, a->version, &a->v, zkc__complete_void, r);
}

int zkc_acl_set(zkc_t *zk, const char *path, int32_t version, const zkc_acl_list_t *acl)
{
	struct ACL storage[64];
	set_acl_arg_t a;
	zkc__call_t c;
	int rc;

	rc = zkc_path_validate(path, (size_t)-1);
	if (rc != ZKC_OK)
		return rc;
	if (!acl || acl->count < 1)
		return zkc__error(ZKC_EBADARGUMENTS, "set acl %s: the list is empty (a node "
		                  "needs at least one entry)", path);
	if (version < -1)
		return zkc__error(ZKC_EBADARGUMENTS, "set acl %s: version %d: use -1 or the "
		                  "node's aversion", path, (int)version);
	rc = zkc__acl_view(&a.v, storage, (int)(sizeof(storage) / sizeof(storage[0])), zk, acl);
	if (rc != ZKC_OK)
		return rc;
	a.version = version;
	rc = zkc__call_enter(zk);
	if (rc != ZKC_OK)
		return rc;
	zkc__call_init(&c, zk, "set acl", path);
	c.submit = submit_set_acl;
	c.arg = &a;
	c.write = 1;
	rc = zkc__call_run(&c);
	/* as zkc_set: a versioned write whose reply was lost and that then
	 * meets another version may or may not have been applied */
	if (rc == ZKC_EBADVERSION && c.lost && version != -1)
		rc = zkc__error(ZKC_EUNKNOWN, "set acl %s: reply lost, then aversion %d no longer "
		                "matched: the change may or may not have been applied", path,
		                (int)version);
	zkc__call_done(&c);
	zkc__call_leave(zk);
	return rc;
}
