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

/* The loopback endpoints of the client's TLS bridge ("127.0.0.1:p,...",
 * caller frees with zkc_free), so a test can check that no other process
 * may use them. ZKC_ENOTSUP when the client does not use TLS. */
ZKC_EXTERN int zkc_testing_tls_endpoints(char **out, zkc_t *zk);
/* How many connections the TLS bridge refused because they came from
 * another process (0 without TLS). */
ZKC_EXTERN int64_t zkc_testing_tls_refused(zkc_t *zk);

/* How many clients are open in this process: every zkc_open that succeeded
 * and whose zkc_close has not finished yet (a close deferred from a
 * callback finishes on its own thread). For leak checks in tests. */
ZKC_EXTERN int zkc_testing_open_clients(void);

#ifdef __cplusplus
}
#endif
#endif
