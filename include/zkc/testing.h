/* zkc/testing.h - fault injection hooks for tests of applications built on
 * zkc (forced session expiry, as ZooKeeper's own tests do it). */
#ifndef ZKC_TESTING_H
#define ZKC_TESTING_H

#include "zkc/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Expires the client's current session from the outside: opens a second
 * connection on the same session id and password and closes it, which ends
 * the session on the server. The client then hears LOST and makes a new
 * session. Waits up to timeout_ms for the second connection. Expected codes:
 * ZKC_EINVALIDSTATE (no session), ZKC_ETIMEDOUT. */
ZKC_EXTERN int zkc_testing_expire_session(zkc_t *zk, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
