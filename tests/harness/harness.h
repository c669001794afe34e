/* tests/harness/harness.h - what cmocka integration tests share: a real
 * ZooKeeper ensemble per test binary, faults on its nodes, polling with a
 * deadline (never a fixed sleep) and unique znode paths. */
#ifndef ZKC_TEST_HARNESS_H
#define ZKC_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ensemble.h"
#include "proxy.h"

/* Environment:
 *   ZKC_TEST_URL            run non-fault tests against this ensemble
 *                           instead of starting one (h_setup_shared only)
 *   ZKC_TEST_KEEP=1         keep ensemble directories (logs) at exit
 *   ZKC_TEST_TIMEOUT_SCALE  multiply every deadline (slow runs: valgrind)
 *
 * Nodes are indexed from 0 (server id = index + 1); H_LEADER names the
 * node that leads right now. Call the ensemble functions from the test's
 * main thread: the harness keeps no lock, and a server started (or
 * restarted) from a thread is killed when that thread exits. Harness functions return 0 or -1; on -1 they
 * have printed why to stderr ("# harness: ..."), so a test only asserts:
 *     assert_int_equal(h_kill(H_LEADER), 0);
 */
#define H_LEADER (-1)

/* A deadline generous enough for a loaded 2-core machine; scaled. */
#define H_TIMEOUT_MS 30000

/* ------------------------------------------------------------ ensembles */

/* cmocka group setup: the binary's shared 1-node ensemble, started on
 * first use and reused by every group until exit; or $ZKC_TEST_URL. */
int h_setup_shared(void **state);

/* cmocka group setup: a private 3-node ensemble for fault tests (never
 * $ZKC_TEST_URL). Replaces the private ensemble of an earlier group. */
int h_setup_3(void **state);

/* cmocka group teardown: stops the private ensemble, if any; the shared
 * one lives until exit. */
int h_teardown(void **state);

/* Starts a private ensemble of `nodes` (1..7) in a fresh temporary
 * directory; its JVMs die with this process (PR_SET_PDEATHSIG) and are
 * taken down at exit. Fault helpers below act on it. */
int h_start(int nodes);

/* The same, with full control over the options (dir, tick, distinct
 * addresses...); die_with_parent is forced on. */
int h_start_opts(const zkc_ens_options_t *opts);

/* Stops the private ensemble now (all its nodes SIGKILLed). */
void h_stop_all(void);

/* The ensemble faults act on: the private one, else the shared one; NULL
 * when tests run against $ZKC_TEST_URL. */
zkc_ens_t *h_ens(void);

/* The URL tests connect to ("zk://127.0.0.1:p1,..."), or NULL when no
 * ensemble was set up. Owned by the harness. */
const char *h_url(void);

/* Number of nodes of h_ens(); 0 when there is none. */
int h_nodes(void);

/* Skips the current test when there is no own ensemble to inject faults
 * into (tests run against $ZKC_TEST_URL). */
#define H_NEED_OWN_ENSEMBLE() \
	do { \
		if (!h_ens()) { \
			print_message("# needs an own ensemble: unset ZKC_TEST_URL\n"); \
			skip(); \
		} \
	} while (0)

/* ------------------------------------------------------------ faults */

/* The index of the leading node, waiting for an election up to the
 * deadline; -1 on failure. */
int h_leader(void);

/* Node i (or H_LEADER): SIGKILL (waits until gone), SIGSTOP (waits until
 * stopped), SIGCONT, and a restart with the same config and ports that
 * waits until the node serves again. */
int h_kill(int node);
int h_stop(int node);
int h_cont(int node);
int h_restart(int node);

/* Every node loses its data (zkc_ens_wipe): all killed, snapshots and
 * logs deleted, all started again; waits for a quorum. */
int h_wipe(void);

/* Waits until a majority serves under one leader. */
int h_wait_quorum(void);

/* Client address of node i: host and port. */
const char *h_node_host(int node);
int h_node_port(int node);

/* A fault proxy in front of node i; the test owns *out (h_proxy_free). */
int h_proxy_to_node(h_proxy_t **out, int node);

/* ------------------------------------------------------------ waiting */

/* ms times ZKC_TEST_TIMEOUT_SCALE (default 1). */
int h_timeout(int ms);

/* Polls pred(arg) until it returns non-zero or timeout_ms (scaled) pass;
 * sleeps 1 ms at first, backing off to 50 ms. Returns 0 when the condition
 * held, -1 on timeout. */
int h_wait_until(int (*pred)(void *arg), void *arg, int timeout_ms);

/* Monotonic milliseconds and a short sleep, for the macro below. */
int64_t h_now_ms(void);
void h_backoff(unsigned attempt);

/* Statement form: polls the expression `cond` and fails the test with the
 * expression's text if it does not hold within timeout_ms (scaled). */
#define H_WAIT_UNTIL(cond, timeout_ms) \
	do { \
		int64_t h__deadline = h_now_ms() + h_timeout(timeout_ms); \
		unsigned h__try; \
		for (h__try = 0; !(cond); h__try++) { \
			if (h_now_ms() >= h__deadline) { \
				fail_msg("timed out after %d ms waiting for: %s", \
				    h_timeout(timeout_ms), #cond); \
				break; \
			} \
			h_backoff(h__try); \
		} \
	} while (0)

/* ------------------------------------------------------------ paths */

/* Writes a znode path unique to this test run into buf:
 * "/zkct_<name>_<pid>_<n>_<time>" (name reduced to [A-Za-z0-9_-]). */
void h_unique_path(char *buf, size_t len, const char *name);

/* Fills the char array `buf` with a unique path named after the test. */
#define H_UNIQUE_PATH(buf) h_unique_path((buf), sizeof(buf), __func__)

#endif
