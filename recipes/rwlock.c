/* recipes/rwlock.c - the read/write lock: two lock handles of the lock
 * engine in one directory, differing only in which nodes block them. */
#include <stdlib.h>

#include "zkc/rwlock.h"
#include "lock_internal.h"

struct zkc_rwlock {
	zkc_lock_t *read;
	zkc_lock_t *write;
};

int zkc_rwlock_open(zkc_rwlock_t **out, zkc_t *zk, const char *path, const zkc_lock_options_t *opts)
{
	zkc_rwlock_t *rw;
	int rc;

	if (!out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "rwlock open: out is NULL");
	*out = NULL;
	if (opts && (rc = zkc_options_version_check("zkc_rwlock_open", opts->version,
	                                            ZKC_LOCK_OPTIONS_VERSION)) != ZKC_OK)
		return rc;
	if (opts && (opts->flags & ZKC_LOCK_STICKY))
		return zkc_error_set(ZKC_EBADARGUMENTS, "rwlock %s: ZKC_LOCK_STICKY does not "
		                     "apply to read-write locks", path ? path : "(null)");
	rw = calloc(1, sizeof(*rw));
	if (!rw)
		return zkc_error_set(ZKC_ENOMEM, "rwlock %s: out of memory", path ? path
		                     : "(null)");
	rc = zkcr_lock_new_kind(&rw->write, zk, path, opts, ZKCR_LOCK_WRITE);
	if (rc == ZKC_OK)
		rc = zkcr_lock_new_kind(&rw->read, zk, path, opts, ZKCR_LOCK_READ);
	if (rc != ZKC_OK) {
		zkc_lock_close(rw->write);
		free(rw);
		return rc;
	}
	zkcr_lock_set_sibling(rw->read, rw->write);
	*out = rw;
	return ZKC_OK;
}

void zkc_rwlock_close(zkc_rwlock_t *rw)
{
	if (!rw)
		return;
	zkc_lock_close(rw->read);
	zkc_lock_close(rw->write);
	free(rw);
}

zkc_lock_t *zkc_rwlock_read(zkc_rwlock_t *rw)
{
	return rw ? rw->read : NULL;
}

zkc_lock_t *zkc_rwlock_write(zkc_rwlock_t *rw)
{
	return rw ? rw->write : NULL;
}
