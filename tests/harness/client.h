/* tests/harness/client.h - zkc-specific helpers for integration tests:
 * opening a client that must connect, building paths and URLs. */
#ifndef ZKC_TEST_CLIENT_H
#define ZKC_TEST_CLIENT_H

#include "zkc.h"
#include "harness.h"

/* Opens a client on url (NULL: h_url()) and fails the test unless it
 * connects within H_TIMEOUT_MS. */
zkc_t *h_open(const char *url, const zkc_options_t *opts);

/* A unique path for this test (malloc'd; free()). */
char *h_path(const char *name);

/* base + "/" + rel (malloc'd; free()). */
char *h_join(const char *base, const char *rel);

/* url with a chroot appended (NULL: none) and an extra "host:port" put
 * first in its host list (NULL: none). malloc'd; free(). */
char *h_url_with(const char *url, const char *chroot, const char *extra_host);

/* Call first in a forked child of a test: it is killed when the test
 * process ends, so a failed test never leaves workers holding its output
 * pipe (which would hang `make check`). */
void h_die_with_parent(void);

/* An event log a test can hand to zkc as callback payload: records every
 * event (type, state, path) in order, thread-safe. */
typedef struct h_events h_events_t;
h_events_t *h_events_new(void);
void h_events_free(h_events_t *e);
void h_events_record(zkc_t *zk, const zkc_event_t *ev, void *payload); /* zkc_event_fn */
void h_events_state(zkc_t *zk, int state, int64_t session_id, void *payload); /* zkc_state_fn */
/* Number recorded so far, and the i-th one's fields (i from 0). */
int h_events_count(h_events_t *e);
int h_events_type(h_events_t *e, int i);
int h_events_state_at(h_events_t *e, int i);
int64_t h_events_session(h_events_t *e, int i);
/* Index of the first event at or after `from` with this type (and, for
 * ZKC_EVENT_STATE, this state; -1 = any), or -1. */
int h_events_find(h_events_t *e, int from, int type, int state);

/* Runs the build tree's zkc program (in $ZKC_TEST_BUILDDIR, else ".")
 * through the shell as `ZKC_URL='url' zkc ARGS` (url NULL: no ZKC_URL;
 * ARGS is shell words, redirections allowed). Returns its exit status
 * (128+N if signal N ended it) and, if out is given, its stdout (up to 64
 * KiB, NUL-terminated, malloc'd). */
int h_run_zkc(char **out, const char *url, const char *args);

/* Runs run(seed) for each number in the environment variable `env` (a
 * space-separated list, as ZKC_COUNTER_SEEDS="1 2 3"), or run(1) when it
 * is unset. */
void h_each_seed(const char *env, void (*run)(unsigned seed));

/* Ends zk's session for sure. zkc_testing_expire_session can lose a race:
 * the victim reconnects with the same session before the second handle's
 * closeSession arrives, the server then refuses that close (session moved)
 * and the session lives on; after its own deadline the call says so with
 * ZKC_ETIMEDOUT. Tries again (up to 10 times) until the session id
 * changes, and fails the test if it never does. */
void h_expire_for_sure(zkc_t *zk);

#endif
