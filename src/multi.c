/* src/multi.c - the transaction builder and its commit through zoo_amulti,
 * retried like any write: a retry that fails after a lost attempt is
 * reported as ZKC_EUNKNOWN, since the lost attempt may have committed. */
#include <stdlib.h>
#include <string.h>

#include "call.h"

enum { OP_CREATE = 1, OP_SET, OP_DELETE, OP_CHECK };

typedef struct mop {
	int kind;
	char *path;
	char *data;
	size_t len;
	int mode;
	int32_t version;
	int has_acl;
	int nacl;
	zkc_acl_t *acl;               /* deep copy */
	struct ACL *zacl;             /* libzookeeper view of acl */
	int first_error;              /* validation result */
	int guard;                    /* a check whose failure is ZKC_ELOCKLOST */
} mop_t;

struct zkc_multi {
	mop_t *ops;
	size_t count, cap;
	int first_error;              /* first bad op, reported by commit */
	char *first_error_msg;
};

int zkc_multi_new(zkc_multi_t **out)
{
	if (!out)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_multi_new: out is NULL");
	*out = calloc(1, sizeof(**out));
	return *out ? ZKC_OK : zkc__error(ZKC_ENOMEM, "out of memory");
}

static void mop_clear(mop_t *op)
{
	int i;

	free(op->path);
	free(op->data);
	for (i = 0; i < op->nacl; i++) {
		free((char *)op->acl[i].scheme);
		free((char *)op->acl[i].id);
	}
	free(op->acl);
	free(op->zacl);
}

void zkc_multi_free(zkc_multi_t *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->count; i++)
		mop_clear(&m->ops[i]);
	free(m->ops);
	free(m->first_error_msg);
	free(m);
}

size_t zkc_multi_count(const zkc_multi_t *m)
{
	return m ? m->count : 0;
}

/* Remembers the first validation failure so commit can repeat it. */
static int note_error(zkc_multi_t *m, int rc)
{
	if (rc != ZKC_OK && !m->first_error) {
		m->first_error = rc;
		m->first_error_msg = zkc__strdup(zkc_error_last()->message);
	}
	return rc;
}

static int add(zkc_multi_t *m, int kind, const char *path, const void *data, size_t len,
               int mode, int32_t version, const zkc_acl_list_t *acl)
{
	mop_t *op;
	int rc, i;

	if (!m)
		return zkc__error(ZKC_EBADARGUMENTS, "transaction is NULL");
	rc = path ? zkc_path_validate(path, (size_t)-1)
	          : zkc__error(ZKC_EBADARGUMENTS, "transaction op: path is NULL");
	if (rc == ZKC_OK && kind == OP_CREATE && !zkc__mode_valid(mode))
		rc = zkc__error(ZKC_EBADARGUMENTS, "transaction create %s: unknown mode %d", path, mode);
	if (rc == ZKC_OK && kind == OP_CREATE &&
	    (mode == ZKC_PERSISTENT_WITH_TTL || mode == ZKC_PERSISTENT_SEQUENTIAL_WITH_TTL))
		rc = zkc__error(ZKC_ENOTSUP, "transaction create %s: TTL modes are not supported in a "
		                "transaction by libzookeeper", path);
	if (rc == ZKC_OK && (kind == OP_CREATE || kind == OP_SET))
		rc = zkc__check_data(data, len, path);
	if (rc == ZKC_OK && version < -1)
		rc = zkc__error(ZKC_EBADARGUMENTS, "transaction op %s: version %d", path, (int)version);
	if (rc == ZKC_OK && acl && (acl->count <= 0 || acl->count > 64 || !acl->acls))
		rc = zkc__error(ZKC_EBADARGUMENTS, "transaction create %s: ACL list needs 1..64 entries",
		                path);
	if (rc != ZKC_OK)
		return note_error(m, rc);
	if (m->count == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		mop_t *n = realloc(m->ops, cap * sizeof(*n));

		if (!n)
			return note_error(m, zkc__error(ZKC_ENOMEM, "out of memory"));
		m->ops = n;
		m->cap = cap;
	}
	op = &m->ops[m->count];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->mode = mode;
	op->version = version;
	op->len = len;
	op->path = strdup(path);
	op->data = malloc(len ? len : 1);
	if (!op->path || !op->data)
		goto nomem;
	if (len)
		memcpy(op->data, data, len);
	if (acl) {
		op->has_acl = 1;
		op->acl = calloc((size_t)acl->count, sizeof(*op->acl));
		op->zacl = calloc((size_t)acl->count, sizeof(*op->zacl));
		if (!op->acl || !op->zacl)
			goto nomem;
		for (i = 0; i < acl->count; i++) {
			const zkc_acl_t *a = &acl->acls[i];

			if (!a->scheme || !a->id || a->perms == 0 || (a->perms & ~ZKC_PERM_ALL)) {
				op->nacl = i;
				mop_clear(op);
				return note_error(m, zkc__error(ZKC_EBADARGUMENTS, "transaction create %s: "
				                                "ACL entry %d is invalid", path, i));
			}
			op->acl[i].perms = a->perms;
			op->acl[i].scheme = strdup(a->scheme);
			op->acl[i].id = strdup(a->id);
			op->nacl = i + 1;
			if (!op->acl[i].scheme || !op->acl[i].id)
				goto nomem;
			op->zacl[i].perms = a->perms;
			op->zacl[i].id.scheme = (char *)op->acl[i].scheme;
			op->zacl[i].id.id = (char *)op->acl[i].id;
		}
	}
	m->count++;
	return ZKC_OK;
nomem:
	mop_clear(op);
	return note_error(m, zkc__error(ZKC_ENOMEM, "out of memory"));
}

int zkc_multi_create(zkc_multi_t *m, const char *path, const void *data, size_t len, int mode,
                     const zkc_acl_list_t *acl)
{
	return add(m, OP_CREATE, path, data, len, mode, -1, acl);
}

int zkc_multi_set(zkc_multi_t *m, const char *path, const void *data, size_t len,
                  int32_t version)
{
	return add(m, OP_SET, path, data, len, 0, version, NULL);
}

int zkc_multi_delete(zkc_multi_t *m, const char *path, int32_t version)
{
	return add(m, OP_DELETE, path, NULL, 0, 0, version, NULL);
}

int zkc_multi_check(zkc_multi_t *m, const char *path, int32_t version)
{
	return add(m, OP_CHECK, path, NULL, 0, 0, version, NULL);
}

int zkc_multi_guard(zkc_multi_t *m, const char *path, int32_t version)
{
	int rc = add(m, OP_CHECK, path, NULL, 0, 0, version, NULL);

	if (rc == ZKC_OK)
		m->ops[m->count - 1].guard = 1;
	return rc;
}

/* Builds the zoo_op_t array for one attempt, with result buffers owned by
 * the request (libzookeeper writes into them when the reply comes). */
static int submit_multi(zhandle_t *zh, zkc__req_t *r, zkc__call_t *c)
{
	const zkc_multi_t *m = c->arg;
	struct ACL_vector *acls;
	zoo_op_t *ops;
	size_t i;
	int rc;

	ops = calloc(m->count, sizeof(*ops));
	acls = calloc(m->count, sizeof(*acls));
	r->nops = (int)m->count;
	r->results = calloc(m->count, sizeof(*r->results));
	r->pathbufs = calloc(m->count, sizeof(*r->pathbufs));
	r->stats = calloc(m->count, sizeof(*r->stats));
	if (!ops || !acls || !r->results || !r->pathbufs || !r->stats) {
		free(ops);
		free(acls);
		return ZSYSTEMERROR;
	}
	for (i = 0; i < m->count; i++) {
		const mop_t *op = &m->ops[i];

		switch (op->kind) {
		case OP_CREATE: {
			size_t n = strlen(op->path) + 64;

			/* libzookeeper copies the created path without a NUL when it
			 * fills the buffer: keep one zero byte past what it may use. */
			r->pathbufs[i] = calloc(1, n + 1);
			if (!r->pathbufs[i]) {
				free(ops);
				free(acls);
				return ZSYSTEMERROR;
			}
			if (op->has_acl) {
				acls[i].count = op->nacl;
				acls[i].data = op->zacl;
			} else {
				acls[i] = c->zk->acl;
			}
			zoo_create_op_init(&ops[i], op->path, op->data, (int)op->len, &acls[i], op->mode,
			                   r->pathbufs[i], (int)n);
			break;
		}
		case OP_SET:
			zoo_set_op_init(&ops[i], op->path, op->data, (int)op->len, op->version,
			                &r->stats[i]);
			break;
		case OP_DELETE:
			zoo_delete_op_init(&ops[i], op->path, op->version);
			break;
		default:
			zoo_check_op_init(&ops[i], op->path, op->version);
			break;
		}
	}
	/* The request is serialised here; ops and acls are not kept. */
	rc = zoo_amulti(zh, (int)m->count, ops, r->results, zkc__complete_void, r);
	free(ops);
	free(acls);
	return rc;
}

void zkc_multi_results_free(zkc_multi_results_t *results)
{
	size_t i;

	if (!results)
		return;
	for (i = 0; i < results->count; i++)
		free(results->results[i].path);
	free(results->results);
	free(results);
}

static int collect(zkc_multi_results_t **out, const zkc_multi_t *m, zkc__req_t *r)
{
	zkc_multi_results_t *res = calloc(1, sizeof(*res));
	size_t i;

	if (!res || !(res->results = calloc(m->count, sizeof(*res->results)))) {
		free(res);
		return zkc__error(ZKC_ENOMEM, "out of memory");
	}
	res->count = m->count;
	for (i = 0; i < m->count; i++) {
		zkc_multi_result_t *o = &res->results[i];

		o->code = r->results[i].err;
		if (o->code == ZOK && m->ops[i].kind == OP_CREATE && r->pathbufs[i]) {
			o->path = strdup(r->pathbufs[i]);
			if (!o->path) {
				zkc_multi_results_free(res);
				return zkc__error(ZKC_ENOMEM, "out of memory");
			}
		}
		if (o->code == ZOK && m->ops[i].kind == OP_SET)
			zkc__stat_from_zk(&o->stat, &r->stats[i]);
	}
	*out = res;
	return ZKC_OK;
}

/* A transaction with a sequential create would, if the lost attempt
 * committed, create its nodes a second time when sent again. */
static int refuse_retry(zkc__call_t *c, int64_t deadline_ms)
{
	(void)c;
	(void)deadline_ms;
	return zkc__error(ZKC_EUNKNOWN, "multi: reply lost; a transaction with a sequential "
	                  "create cannot be sent again safely (it may have committed)");
}

int zkc_multi_commit(zkc_multi_results_t **out, zkc_t *zk, const zkc_multi_t *m)
{
	zkc__call_t c;
	int rc, crc;
	size_t i;

	if (out)
		*out = NULL;
	if (!m)
		return zkc__error(ZKC_EBADARGUMENTS, "transaction is NULL");
	if (m->first_error)
		return zkc__error(m->first_error, "%s", m->first_error_msg ? m->first_error_msg :
		                  "an operation of the transaction was invalid");
	if (m->count == 0) {
		if (out) {
			*out = calloc(1, sizeof(**out));
			if (!*out)
				return zkc__error(ZKC_ENOMEM, "out of memory");
		}
		return ZKC_OK;
	}
	rc = zkc__call_enter(zk);
	if (rc != ZKC_OK)
		return rc;
	zkc__call_init(&c, zk, "multi", m->ops[0].path);
	c.submit = submit_multi;
	c.arg = (void *)m;
	c.write = 1;
	for (i = 0; i < m->count; i++) {
		if (m->ops[i].kind == OP_CREATE && zkc__mode_ephemeral(m->ops[i].mode))
			c.session_bound = 1;
		if (m->ops[i].kind == OP_CREATE && zkc__mode_sequential(m->ops[i].mode))
			c.after_loss = refuse_retry;
	}
	rc = zkc__call_run(&c);
	if (c.req && c.req->results && (rc == ZKC_OK || rc > -1000)) {
		/* The transaction was answered: report each op, and name the op
		 * that failed it. */
		for (i = 0; rc != ZKC_OK && i < m->count; i++) {
			int e = c.req->results[i].err;

			if (e != ZOK && e != ZRUNTIMEINCONSISTENCY && m->ops[i].guard &&
			    (e == ZNONODE || e == ZBADVERSION)) {
				rc = zkc__error(ZKC_ELOCKLOST, "multi: guard %s %s: the lock it stands "
				                "for was lost; nothing was written", m->ops[i].path,
				                e == ZNONODE ? "is gone" : "was replaced");
				break;
			}
			if (e != ZOK && e != ZRUNTIMEINCONSISTENCY) {
				rc = zkc__error_zk(e, "multi op", m->ops[i].path);
				break;
			}
		}
		if (out) {
			crc = collect(out, m, c.req);
			if (crc != ZKC_OK && rc == ZKC_OK)
				rc = crc;
		}
		if (rc != ZKC_OK && c.lost)
			rc = zkc__error(ZKC_EUNKNOWN, "multi: reply lost, then the retry failed on an op "
			                "the lost attempt may have done: outcome unknown");
	}
	zkc__call_done(&c);
	zkc__call_leave(zk);
	return rc;
}
