/* tools/ens_state.c - the state file DIR/ensemble.state: the ensemble's
 * layout, ports and pids, written atomically by the process that changes
 * them and read by every other (the CLI, tests attached to a running
 * ensemble). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "ens_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STATE_MAGIC "zkc-ensemble-state 1"

int ens__write_state(zkc_ens_t *e)
{
	char *text = NULL, *next;
	struct stat st;
	int i, rc;

	text = ens__asprintf("%s\ndir=%s\ncreated_dir=%d\nnodes=%d\ntick_ms=%d\n"
	    "java=%s\nclasspath=%s\njvm_flags=%s\n", STATE_MAGIC, e->dir,
	    e->created_dir, e->n, e->tick_ms, e->java, e->classpath,
	    e->jvm_flags ? e->jvm_flags : "");
	for (i = 0; text && i < e->n; i++) {
		struct ens_node *nd = &e->node[i];

		next = ens__asprintf("%snode=%d %s %d %d %d %d %ld\n", text, i + 1,
		    nd->host, nd->port, nd->secure_port, nd->quorum_port,
		    nd->election_port, (long)nd->pid);
		free(text);
		text = next;
	}
	if (!text)
		return ens__fail(ZKC_ENOMEM, "out of memory");
	rc = ens__write_file_atomic(e->state_path, text);
	free(text);
	if (rc == ZKC_OK && stat(e->state_path, &st) == 0) {
		e->state_mtime = st.st_mtim;
		e->state_size = st.st_size;
		e->state_ino = st.st_ino;
	}
	return rc;
}

static char *dup_value(const char *line, const char *key)
{
	size_t kl = strlen(key);

	if (strncmp(line, key, kl) != 0 || line[kl] != '=')
		return NULL;
	return strdup(line + kl + 1);
}

int ens__set_node_paths(zkc_ens_t *e, int i)
{
	struct ens_node *nd = &e->node[i];

	nd->dir = ens__asprintf("%s/node%d", e->dir, i + 1);
	nd->cfg = ens__asprintf("%s/node%d/zoo.cfg", e->dir, i + 1);
	nd->log = ens__asprintf("%s/node%d/server.log", e->dir, i + 1);
	if (!nd->dir || !nd->cfg || !nd->log)
		return ens__fail(ZKC_ENOMEM, "out of memory");
	return ZKC_OK;
}

/* One "node=ID HOST PORT SPORT QPORT EPORT PID" line into e (only the pid
 * with pids_only). */
static int node_line(zkc_ens_t *e, const char *line, int pids_only)
{
	int id, port, sport, qport, eport;
	long pid;
	char host[INET_ADDRSTRLEN];
	struct ens_node *nd;

	if (sscanf(line + 5, "%d %15s %d %d %d %d %ld", &id, host,
	    &port, &sport, &qport, &eport, &pid) != 7 ||
	    id < 1 || id > ZKC_ENS_MAX_NODES)
		return ens__fail(ZKC_EBADARGUMENTS, "%s: bad line: %s",
		    e->state_path, line);
	nd = &e->node[id - 1];
	if (pid != (long)nd->pid)
		nd->is_child = 0;
	nd->pid = (pid_t)pid;
	if (pids_only)
		return ZKC_OK;
	snprintf(nd->host, sizeof nd->host, "%s", host);
	nd->port = port;
	nd->secure_port = sport;
	nd->quorum_port = qport;
	nd->election_port = eport;
	return ZKC_OK;
}

/* One "key=value" line into e; unknown keys are ignored. */
static void value_line(zkc_ens_t *e, const char *line)
{
	char *v;

	if ((v = dup_value(line, "created_dir"))) {
		e->created_dir = atoi(v);
		free(v);
	} else if ((v = dup_value(line, "nodes"))) {
		e->n = atoi(v);
		free(v);
	} else if ((v = dup_value(line, "tick_ms"))) {
		e->tick_ms = atoi(v);
		free(v);
	} else if ((v = dup_value(line, "java"))) {
		free(e->java);
		e->java = v;
	} else if ((v = dup_value(line, "classpath"))) {
		free(e->classpath);
		e->classpath = v;
	} else if ((v = dup_value(line, "jvm_flags"))) {
		free(e->jvm_flags);
		e->jvm_flags = v;
	}
}

/* Reads the state file into e. With pids_only, only the pids are taken
 * (refreshing a handle whose layout is already known). */
int ens__read_state(zkc_ens_t *e, int pids_only)
{
	char *text, *line, *save = NULL;
	int seen_magic = 0, nodes_seen = 0, rc = ZKC_OK;
	struct stat st;

	if (stat(e->state_path, &st) < 0)
		return ens__fail(ZKC_ENONODE, "no ensemble in %s (%s: %s)", e->dir,
		    e->state_path, strerror(errno));
	text = ens__read_file(e->state_path, 1 << 20);
	if (!text)
		return ens__fail(ZKC_EOS, "cannot read %s: %s", e->state_path,
		    strerror(errno));
	for (line = strtok_r(text, "\n", &save); line && rc == ZKC_OK;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!seen_magic) {
			if (strcmp(line, STATE_MAGIC) != 0)
				rc = ens__fail(ZKC_EBADARGUMENTS, "%s is not a zkc "
				    "ensemble state file", e->state_path);
			seen_magic = 1;
			continue;
		}
		if (strncmp(line, "node=", 5) == 0) {
			rc = node_line(e, line, pids_only);
			nodes_seen++;
		} else if (!pids_only) {
			value_line(e, line);
		}
	}
	free(text);
	if (rc != ZKC_OK)
		return rc;
	if (!seen_magic)
		return ens__fail(ZKC_EBADARGUMENTS, "%s is empty", e->state_path);
	if (!pids_only && (e->n < 1 || e->n > ZKC_ENS_MAX_NODES ||
	    nodes_seen != e->n || !e->java || !e->classpath))
		return ens__fail(ZKC_EBADARGUMENTS, "%s is incomplete", e->state_path);
	e->state_mtime = st.st_mtim;
	e->state_size = st.st_size;
	e->state_ino = st.st_ino;
	return ZKC_OK;
}

/* Picks up pids that another process changed (a restart from the CLI). */
void ens__refresh(zkc_ens_t *e)
{
	struct stat st;

	if (stat(e->state_path, &st) < 0)
		return;
	if (st.st_ino == e->state_ino && st.st_size == e->state_size &&
	    st.st_mtim.tv_sec == e->state_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == e->state_mtime.tv_nsec)
		return;
	ens__read_state(e, 1);
}
