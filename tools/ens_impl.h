/* tools/ens_impl.h - the ensemble launcher's private parts, shared by
 * ensemble.c (the operations), ens_proc.c, ens_4lw.c, ens_state.c and
 * ens_util.c. Not installed; names are ens__. */
#ifndef ZKC_ENS_IMPL_H
#define ZKC_ENS_IMPL_H

#include <netinet/in.h>
#include <sys/types.h>
#include <time.h>

#include "ensemble.h"

#define STATE_FILE "ensemble.state"
#define JAVA_DIR "/usr/share/java"
#define DEFAULT_WAIT_MS 60000
#define PROBE_MS 2000       /* one `srvr` may take this long */
#define DEATH_WAIT_MS 10000 /* SIGKILL takes effect well within this */
#define PORT_ATTEMPTS 3     /* up() retries when a chosen port got taken */

struct ens_node {
	char host[INET_ADDRSTRLEN];
	int port;
	int secure_port;
	int quorum_port;
	int election_port;
	pid_t pid;          /* 0: not running (as far as we know) */
	int is_child;       /* we forked it: waitpid() reaps it */
	char *dir;          /* DIR/nodeN */
	char *cfg;          /* DIR/nodeN/zoo.cfg */
	char *log;          /* DIR/nodeN/server.log */
};

struct zkc_ens {
	char *dir;
	char *state_path;
	char *log4j_path;
	int created_dir;
	int n;
	int tick_ms;
	int die_with_parent;
	char *java;
	char *classpath;
	char *jvm_flags;
	char *url;
	struct ens_node node[ZKC_ENS_MAX_NODES];
	/* identity of the state file we last read or wrote, so a change made
	 * by another process (a restart from the CLI) is picked up */
	struct timespec state_mtime;
	off_t state_size;
	ino_t state_ino;
};

/* ---- errors and helpers (ens_util.c) */

#define ENS__ERR_LEN 2048
/* Sets the thread's message (zkc_ens_error) and returns code. */
int ens__fail(int code, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
/* Appends to the current message, for reports that list several nodes. */
void ens__fail_append(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;
/* The thread's message buffer (ENS__ERR_LEN bytes), to save and restore. */
char *ens__errbuf(void);
/* malloc'd; NULL if out of memory. */
char *ens__asprintf(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;
long long ens__now_ms(void);
void ens__sleep_ms(int ms);
int ens__write_all(int fd, const char *buf, size_t len);
/* Writes through a temporary name and rename(): readers never see half. */
int ens__write_file_atomic(const char *path, const char *text);
/* The file's text (up to max bytes), malloc'd; NULL if unreadable. */
char *ens__read_file(const char *path, size_t max);
int ens__mkdir_p(const char *path, mode_t mode);
int ens__rm_rf(const char *path);
/* The java to run (given, $JAVA_HOME or $PATH), malloc'd; NULL if none. */
char *ens__find_java(const char *given);

/* ---- server processes (ens_proc.c) */

/* ZKC_ENS_RUNNING, _STOPPED or _DEAD; reaps our dead children and forgets
 * pids that no longer belong to the node. */
int ens__node_state(struct ens_node *nd);
/* 0 once the node is dead, -1 if it still lives after timeout_ms. */
int ens__wait_dead(struct ens_node *nd, int timeout_ms);
/* Starts node i's JVM (its output into the node's log). */
int ens__spawn_node(zkc_ens_t *e, int i, int die_with_parent);
/* SIGKILL and wait until dead (reaped if ours). */
int ens__kill_node(struct ens_node *nd);
/* Like ens__node_state() != DEAD, but keeps a reaped child's status. */
int ens__check_alive(struct ens_node *nd, int *status, int *reaped);
/* Appends why node id died, quoting its log, to the message. */
void ens__explain_dead(struct ens_node *nd, int id, int status, int reaped);
/* The log line that explains a failure (first or latest), or "". */
void ens__log_find_error(const char *log, int first, char *out, size_t outlen);
int ens__log_mentions(const char *log, const char *needle);

/* ---- four-letter words (ens_4lw.c) */

/* Sends word to host:port and reads the answer (malloc'd into *out). */
int ens__4lw(char **out, const char *host, int port, const char *word, int timeout_ms);
/* The node's mode from `srvr`; ZKC_ENS_MODE_UNKNOWN if it does not answer
 * (the thread's message is left as it was). */
int ens__probe_mode(struct ens_node *nd, int timeout_ms);
/* Whether a node in this mode serves clients. */
int ens__mode_serves(int mode);

/* ---- the state file (ens_state.c) */

int ens__write_state(zkc_ens_t *e);
/* Reads the state file into e; with pids_only, only the pids. */
int ens__read_state(zkc_ens_t *e, int pids_only);
/* Re-reads the pids if another process changed the state file. */
void ens__refresh(zkc_ens_t *e);
/* Fills node i's dir, cfg and log paths. */
int ens__set_node_paths(zkc_ens_t *e, int i);

#endif
