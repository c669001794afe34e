/* tools/ensemble.h - runs a local ZooKeeper ensemble (Debian's `zookeeper`
 * package) on loopback, for the tests and the `zkc ensemble` command. */
#ifndef ZKC_ENSEMBLE_H
#define ZKC_ENSEMBLE_H

#include <sys/types.h>

#include "zkc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Conventions: functions return ZKC_OK or a negative zkc code; the detail
 * (which node, which log to read) is in zkc_ens_error(). Nodes are indexed
 * from 0; node i is ZooKeeper server id i + 1 (its myid, `server.<i+1>`),
 * and its files live in DIR/node<i+1>/ (zoo.cfg, data/, server.log).
 * A zkc_ens_t is not thread-safe: use it from one thread at a time. */
typedef struct zkc_ens zkc_ens_t;

#define ZKC_ENS_MAX_NODES 7
#define ZKC_ENS_OPTIONS_VERSION 1

typedef struct zkc_ens_options {
	int version;             /* ZKC_ENS_OPTIONS_VERSION */
	int nodes;               /* 1..7; 1 runs a standalone server */
	const char *dir;         /* created if missing; NULL: mkdtemp under
	                          * $TMPDIR (or /tmp) */
	int tick_ms;             /* ZooKeeper tickTime; 0: 500 */
	int force_sync;          /* 0: forceSync=no (fast, not durable) */
	int distinct_addrs;      /* server id N binds 127.0.0.(N+1), and all
	                          * nodes share ONE client port; 0: all on
	                          * 127.0.0.1 with a port each */
	int die_with_parent;     /* the servers get SIGKILL when the thread
	                          * that started them exits (PR_SET_PDEATHSIG;
	                          * note: the thread, not the process) */
	int start_timeout_ms;    /* up() waits this long for a quorum; 0: 60 s */
	int no_wait;             /* 1: up() returns once the JVMs are started */
	const char *java;        /* NULL: $JAVA_HOME/bin/java, then PATH */
	const char *classpath;   /* NULL: Debian's jars under /usr/share/java */
	const char *jvm_flags;   /* extra JVM flags, space separated, appended
	                          * after the defaults (small heap, serial GC,
	                          * C1 only); NULL: none */
	const char *extra_config;/* lines appended verbatim to every zoo.cfg
	                          * (e.g. ssl.keyStore.location=...); NULL: none */
	int secure_client_port;  /* 1: allocate a secureClientPort per node and
	                          * use the Netty connection factory; the
	                          * ssl.* settings come through extra_config */
	int client_port;         /* fixed client ports: server id N listens on
	                          * client_port + N - 1 (with distinct_addrs,
	                          * all on client_port); 0: free ports */
} zkc_ens_options_t;

#define ZKC_ENS_OPTIONS_INIT \
	{ ZKC_ENS_OPTIONS_VERSION, 1, NULL, 500, 0, 0, 0, 60000, 0, \
	  NULL, NULL, NULL, NULL, 0, 0 }

/* Starts the ensemble: writes the configs, picks free loopback ports, starts
 * one detached JVM per node (own session, stdio into DIR/nodeN/server.log),
 * records everything in DIR/ensemble.state so other processes can attach,
 * and waits until a quorum serves (one leader, a majority answering `srvr`
 * as leader/follower/standalone). On failure nothing is left running; the
 * directory is kept if a server wrote its log there (the message names
 * it), else a directory made by up() is removed. *out is owned by the caller:
 * release with zkc_ens_down() and/or zkc_ens_free().
 * Expected codes: ZKC_EBADARGUMENTS (options; a live ensemble already in
 * dir), ZKC_ENOTSUP (java or a jar missing), ZKC_ETIMEDOUT (no quorum in
 * time; the message names the nodes and their logs), ZKC_EOS. */
int zkc_ens_up(zkc_ens_t **out, const zkc_ens_options_t *opts);

/* Attaches to an ensemble started by another process (or an earlier up())
 * from DIR/ensemble.state. zkc_ens_free() on it never stops the servers.
 * Expected codes: ZKC_ENONODE (no state file), ZKC_EBADARGUMENTS (bad
 * state file). */
int zkc_ens_attach(zkc_ens_t **out, const char *dir);

/* Releases the handle and leaves the servers as they are (detach). Servers
 * started with die_with_parent still die with their parent thread.
 * NULL is a no-op. */
void zkc_ens_free(zkc_ens_t *ens);

/* How zkc_ens_down() treats the directory. */
typedef enum zkc_ens_down_flags {
	ZKC_ENS_DOWN_DEFAULT = 0, /* remove it if up() created it */
	ZKC_ENS_DOWN_REMOVE = 1,  /* remove it anyway (it must hold
	                           * ensemble.state: a guard against typos) */
	ZKC_ENS_DOWN_KEEP = 2     /* keep it (logs, data) */
} zkc_ens_down_flags_t;

/* SIGKILLs every node, waits until each has exited, then handles the
 * directory per flags. The handle stays valid (all nodes dead) and must
 * still be freed. Expected codes: ZKC_ETIMEDOUT (a process would not die),
 * ZKC_EOS (directory removal). */
int zkc_ens_down(zkc_ens_t *ens, int flags);

/* "zk://127.0.0.1:p1,127.0.0.1:p2,...". Owned by ens. */
const char *zkc_ens_url(const zkc_ens_t *ens);
/* The ensemble's directory. Owned by ens. */
const char *zkc_ens_dir(const zkc_ens_t *ens);
/* Number of nodes. */
int zkc_ens_size(const zkc_ens_t *ens);
/* Node i's client address ("127.0.0.1"), owned by ens; NULL if i is out of
 * range. */
const char *zkc_ens_host(const zkc_ens_t *ens, int i);
/* Node i's client port, secure client port (0 if none); -1 if out of range. */
int zkc_ens_port(const zkc_ens_t *ens, int i);
int zkc_ens_secure_port(const zkc_ens_t *ens, int i);
/* Node i's log file, owned by ens; NULL if out of range. */
const char *zkc_ens_log_path(const zkc_ens_t *ens, int i);

typedef enum zkc_ens_state {
	ZKC_ENS_DEAD = 0,        /* no process */
	ZKC_ENS_RUNNING = 1,
	ZKC_ENS_STOPPED = 2      /* SIGSTOPped */
} zkc_ens_state_t;

typedef enum zkc_ens_mode {
	ZKC_ENS_MODE_UNKNOWN = 0,     /* not asked (dead or stopped) or no
	                               * answer in time */
	ZKC_ENS_MODE_NOT_SERVING = 1, /* answers, but no quorum (electing) */
	ZKC_ENS_MODE_LEADER = 2,
	ZKC_ENS_MODE_FOLLOWER = 3,
	ZKC_ENS_MODE_STANDALONE = 4,
	ZKC_ENS_MODE_OBSERVER = 5
} zkc_ens_mode_t;

typedef struct zkc_ens_node_status {
	int state;   /* zkc_ens_state_t */
	int mode;    /* zkc_ens_mode_t; asked with the 4lw `srvr` only when
	              * the node runs */
	pid_t pid;   /* 0 when dead */
} zkc_ens_node_status_t;

/* Node i's process state and, if it runs, its mode (asks `srvr` with a 2 s
 * limit). Reaps the node if it is our child and has died.
 * Expected codes: ZKC_EBADARGUMENTS (i out of range). */
int zkc_ens_status(zkc_ens_node_status_t *out, zkc_ens_t *ens, int i);

/* Names for printing ("running", "leader"). Never NULL. */
const char *zkc_ens_state_name(int state);
const char *zkc_ens_mode_name(int mode);

/* The index of the node that leads (a standalone node counts as leader),
 * polling until timeout_ms (0: ask once). Expected codes: ZKC_ETIMEDOUT. */
int zkc_ens_leader(int *out, zkc_ens_t *ens, int timeout_ms);

/* Signals to node i. kill: SIGKILL, then waits until the process is gone
 * (a dead node is not an error). stop: SIGSTOP, waits until stopped.
 * cont: SIGCONT. Expected codes: ZKC_EBADARGUMENTS (i), ZKC_EINVALIDSTATE
 * (stop/cont of a dead node), ZKC_ETIMEDOUT. */
int zkc_ens_kill(zkc_ens_t *ens, int i);
int zkc_ens_stop(zkc_ens_t *ens, int i);
int zkc_ens_cont(zkc_ens_t *ens, int i);

/* Starts node i again with its config and ports (killing it first if it
 * still runs), records the new pid in the state file, and waits up to
 * wait_ms until it serves (0: do not wait; < 0: 60 s).
 * Expected codes: ZKC_EBADARGUMENTS, ZKC_ETIMEDOUT, ZKC_EOS. */
int zkc_ens_restart(zkc_ens_t *ens, int i, int wait_ms);

/* Loses every node's data, as a wiped volume does: kills all nodes,
 * deletes their snapshots and transaction logs (DIR/nodeN/data/version-2;
 * myid and zoo.cfg stay), starts them all again on the same ports and
 * waits up to wait_ms for a quorum (0: do not wait; < 0: 60 s). The new
 * ensemble starts its history from zxid 0 again.
 * Expected codes: ZKC_ETIMEDOUT, ZKC_EOS. */
int zkc_ens_wipe(zkc_ens_t *ens, int wait_ms);

/* Waits until node i serves (leader, follower, standalone or observer).
 * timeout_ms <= 0: 60 s. Expected codes: ZKC_ETIMEDOUT (the message says
 * what the node last answered and names its log). */
int zkc_ens_wait_serving(zkc_ens_t *ens, int i, int timeout_ms);

/* Waits until a majority serves and one of them leads.
 * timeout_ms <= 0: 60 s. Expected codes: ZKC_ETIMEDOUT. */
int zkc_ens_wait_quorum(zkc_ens_t *ens, int timeout_ms);

/* Sends a four-letter word to node i and returns the answer, NUL-terminated
 * and owned by the caller (free()). Expected codes: ZKC_ETIMEDOUT, ZKC_EOS
 * (connection refused). */
int zkc_ens_4lw(char **out, zkc_ens_t *ens, int i, const char *word,
    int timeout_ms);

/* The message of the last failure of a zkc_ens_* call on this thread.
 * Never NULL; owned by the library, valid until the next call. */
const char *zkc_ens_error(void);

#ifdef __cplusplus
}
#endif
#endif
