/* tools/ensemble.c - the ensemble operations: up (ports, configs, start,
 * wait for a quorum), attach, down, queries and faults. The parts they use
 * are beside it: ens_proc.c (server processes), ens_4lw.c (four-letter
 * words), ens_state.c (the state file), ens_util.c (errors, helpers). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "ens_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


/* The jars named here are not all on zookeeper.jar's manifest class path:
 * netty-codec for the Netty (TLS) connection factory, and the log4j binding
 * without which the server logs nothing at all. */
static const char *const default_jars[] = {
	JAVA_DIR "/zookeeper.jar",
	JAVA_DIR "/zookeeper-jute.jar",
	JAVA_DIR "/netty-codec.jar",
	JAVA_DIR "/slf4j-log4j12.jar",
	JAVA_DIR "/log4j-1.2.jar",
};






/* ------------------------------------------------------------ handle */

static zkc_ens_t *ens_alloc(const char *dir)
{
	zkc_ens_t *e = calloc(1, sizeof *e);

	if (!e)
		return NULL;
	e->dir = strdup(dir);
	e->state_path = ens__asprintf("%s/%s", dir, STATE_FILE);
	e->log4j_path = ens__asprintf("%s/log4j.properties", dir);
	if (!e->dir || !e->state_path || !e->log4j_path) {
		zkc_ens_free(e);
		return NULL;
	}
	return e;
}

void zkc_ens_free(zkc_ens_t *e)
{
	int i;

	if (!e)
		return;
	for (i = 0; i < ZKC_ENS_MAX_NODES; i++) {
		free(e->node[i].dir);
		free(e->node[i].cfg);
		free(e->node[i].log);
	}
	free(e->dir);
	free(e->state_path);
	free(e->log4j_path);
	free(e->java);
	free(e->classpath);
	free(e->jvm_flags);
	free(e->url);
	free(e);
}

static int build_url(zkc_ens_t *e)
{
	char *url = strdup("zk://"), *next;
	int i;

	for (i = 0; url && i < e->n; i++) {
		next = ens__asprintf("%s%s%s:%d", url, i ? "," : "", e->node[i].host,
		    e->node[i].port);
		free(url);
		url = next;
	}
	if (!url)
		return ens__fail(ZKC_ENOMEM, "out of memory");
	free(e->url);
	e->url = url;
	return ZKC_OK;
}

/* ------------------------------------------------------------ ports */

static int bind_loopback(const char *host, int port, int *out_port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* a fixed port whose last server left connections in TIME_WAIT is
	 * free for the JVM (Java listens with SO_REUSEADDR): probe alike */
	if (port && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 },
	    sizeof(int)) < 0) {
		close(fd);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		close(fd);
		return -1;
	}
	*out_port = ntohs(sa.sin_port);
	return fd;
}

/* Chooses every port of the ensemble. The probe sockets stay bound until
 * all are chosen, so one ensemble never gets the same port twice; the JVMs
 * bind them a moment later (up() retries if another process won the race). */
static int choose_ports(zkc_ens_t *e, int distinct, int secure, int fixed)
{
	int held[ZKC_ENS_MAX_NODES * 4 + 1];
	int nheld = 0, i, rc = ZKC_OK, attempt;

	for (i = 0; i < e->n; i++)
		snprintf(e->node[i].host, sizeof e->node[i].host, "127.0.0.%u",
		    distinct ? (unsigned)(i + 2) % 256u : 1u);
	if (distinct) {
		/* one client port free on every node's address */
		for (attempt = 0; attempt < 100; attempt++) {
			int port, fd, ok = 1;

			fd = bind_loopback(e->node[0].host, fixed, &port);
			if (fd < 0)
				return ens__fail(ZKC_EOS, "cannot bind %s:%d: %s",
				    e->node[0].host, fixed, strerror(errno));
			held[nheld++] = fd;
			for (i = 1; i < e->n && ok; i++) {
				int p2;

				fd = bind_loopback(e->node[i].host, port, &p2);
				if (fd < 0)
					ok = 0;
				else
					held[nheld++] = fd;
			}
			if (ok) {
				for (i = 0; i < e->n; i++)
					e->node[i].port = port;
				break;
			}
			while (nheld > 0)
				close(held[--nheld]);
			if (fixed)
				return ens__fail(ZKC_EOS, "client port %d is taken on "
				    "%s", fixed, e->node[i - 1].host);
		}
		if (attempt == 100)
			return ens__fail(ZKC_EOS, "no client port is free on all of "
			    "127.0.0.2-127.0.0.%d", e->n + 1);
	}
	for (i = 0; i < e->n && rc == ZKC_OK; i++) {
		struct ens_node *nd = &e->node[i];
		int *want[4], k;

		want[0] = distinct ? NULL : &nd->port;
		want[1] = secure ? &nd->secure_port : NULL;
		want[2] = e->n > 1 ? &nd->quorum_port : NULL;
		want[3] = e->n > 1 ? &nd->election_port : NULL;
		if (!secure)
			nd->secure_port = 0;
		if (e->n == 1)
			nd->quorum_port = nd->election_port = 0;
		for (k = 0; k < 4; k++) {
			int fd;

			if (!want[k])
				continue;
			int port = k == 0 && fixed ? fixed + i : 0;

			fd = bind_loopback(nd->host, port, want[k]);
			if (fd < 0) {
				rc = ens__fail(ZKC_EOS, "cannot bind %s:%d: %s", nd->host,
				    port, strerror(errno));
				break;
			}
			held[nheld++] = fd;
		}
	}
	while (nheld > 0)
		close(held[--nheld]);
	return rc;
}

/* ------------------------------------------------------------ configs */

static int write_log4j(zkc_ens_t *e)
{
	/* The console appender writes to the JVM's stdout, which is the node's
	 * server.log: one file holds log4j output and JVM crash messages. */
	static const char props[] =
	    "# written by the zkc ensemble launcher\n"
	    "log4j.rootLogger=INFO, CONSOLE\n"
	    "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"
	    "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"
	    "log4j.appender.CONSOLE.layout.ConversionPattern="
	    "%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n\n";

	return ens__write_file_atomic(e->log4j_path, props);
}

static int write_node_config(zkc_ens_t *e, int i, const zkc_ens_options_t *o)
{
	struct ens_node *nd = &e->node[i];
	char *data = ens__asprintf("%s/data", nd->dir);
	char *myid_path = ens__asprintf("%s/data/myid", nd->dir);
	char *cfg = NULL, *next, myid[16];
	/* initLimit/syncLimit count ticks: keep them at about 10 s and 5 s
	 * whatever the tick, so slow (sanitizer, valgrind) runs still sync */
	int init_limit = 10000 / e->tick_ms, sync_limit = 5000 / e->tick_ms;
	int rc = ZKC_OK, k;

	if (init_limit < 10)
		init_limit = 10;
	if (sync_limit < 5)
		sync_limit = 5;
	if (!data || !myid_path) {
		rc = ens__fail(ZKC_ENOMEM, "out of memory");
		goto out;
	}
	if (ens__rm_rf(nd->dir) < 0 || ens__mkdir_p(data, 0755) < 0) {
		rc = ens__fail(ZKC_EOS, "cannot create %s: %s", data, strerror(errno));
		goto out;
	}
	cfg = ens__asprintf("# written by the zkc ensemble launcher\n"
	    "tickTime=%d\ninitLimit=%d\nsyncLimit=%d\n"
	    "dataDir=%s\nclientPort=%d\nclientPortAddress=%s\n"
	    "forceSync=%s\nadmin.enableServer=false\n"
	    "4lw.commands.whitelist=*\n"
	    "minSessionTimeout=1000\nmaxSessionTimeout=60000\n"
	    /* every test client comes from 127.0.0.1: no per-IP cap */
	    "maxClientCnxns=0\n",
	    e->tick_ms, init_limit, sync_limit, data, nd->port, nd->host,
	    o->force_sync ? "yes" : "no");
	if (cfg && nd->secure_port) {
		next = ens__asprintf("%ssecureClientPort=%d\n"
		    "secureClientPortAddress=%s\n"
		    "serverCnxnFactory=org.apache.zookeeper.server."
		    "NettyServerCnxnFactory\n", cfg, nd->secure_port, nd->host);
		free(cfg);
		cfg = next;
	}
	for (k = 0; cfg && e->n > 1 && k < e->n; k++) {
		next = ens__asprintf("%sserver.%d=%s:%d:%d\n", cfg, k + 1,
		    e->node[k].host, e->node[k].quorum_port,
		    e->node[k].election_port);
		free(cfg);
		cfg = next;
	}
	if (cfg && o->extra_config) {
		next = ens__asprintf("%s%s\n", cfg, o->extra_config);
		free(cfg);
		cfg = next;
	}
	if (!cfg) {
		rc = ens__fail(ZKC_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(myid, sizeof myid, "%d\n", i + 1);
	rc = ens__write_file_atomic(myid_path, myid);
	if (rc == ZKC_OK)
		rc = ens__write_file_atomic(nd->cfg, cfg);
out:
	free(cfg);
	free(data);
	free(myid_path);
	return rc;
}

/* ------------------------------------------------------------ waiting */

static int quorum_now(zkc_ens_t *e, int modes[])
{
	int i, serving = 0, leaders = 0;

	for (i = 0; i < e->n; i++) {
		struct ens_node *nd = &e->node[i];

		modes[i] = ZKC_ENS_MODE_UNKNOWN;
		if (ens__node_state(nd) != ZKC_ENS_RUNNING)
			continue;
		modes[i] = ens__probe_mode(nd, PROBE_MS);
		if (ens__mode_serves(modes[i]))
			serving++;
		if (modes[i] == ZKC_ENS_MODE_LEADER ||
		    modes[i] == ZKC_ENS_MODE_STANDALONE)
			leaders++;
	}
	/* followers keep saying "follower" for a while after their leader
	 * died: a quorum needs a leader that still answers */
	return serving > e->n / 2 && leaders == 1;
}

/* up()'s wait: fails fast when a JVM exits, so a bad config or a taken
 * port is reported at once instead of after the timeout. *port_clash tells
 * up() that retrying with other ports may help. */
static int wait_up(zkc_ens_t *e, int timeout_ms, int *port_clash)
{
	long long deadline = ens__now_ms() + timeout_ms;
	int modes[ZKC_ENS_MAX_NODES], i, delay = 50;

	*port_clash = 0;
	for (;;) {
		int died = 0, status = 0, reaped;

		for (i = 0; i < e->n; i++) {
			struct ens_node *nd = &e->node[i];
			int was = nd->pid != 0;

			if (was && !ens__check_alive(nd, &status, &reaped)) {
				if (!died)
					ens__fail(ZKC_EOS, "ensemble in %s did not start:",
					    e->dir);
				ens__explain_dead(nd, i + 1, status, reaped);
				if (ens__log_mentions(nd->log, "Address already in use"))
					*port_clash = 1;
				died = 1;
			}
		}
		if (died)
			return ZKC_EOS;
		if (quorum_now(e, modes))
			return ZKC_OK;
		if (ens__now_ms() >= deadline)
			break;
		ens__sleep_ms(delay);
		if (delay < 200)
			delay += 50;
	}
	ens__fail(ZKC_ETIMEDOUT, "no quorum in %s within %d ms:", e->dir, timeout_ms);
	for (i = 0; i < e->n; i++) {
		char last[320];

		if (ens__mode_serves(modes[i]))
			continue;
		ens__log_find_error(e->node[i].log, 0, last, sizeof last);
		ens__fail_append(" node %d (%s:%d) %s%s, log %s%s%s;", i + 1,
		    e->node[i].host, e->node[i].port,
		    modes[i] == ZKC_ENS_MODE_UNKNOWN ? "does not answer" :
		    "answers ", modes[i] == ZKC_ENS_MODE_UNKNOWN ? "" :
		    zkc_ens_mode_name(modes[i]), e->node[i].log,
		    last[0] ? ": " : "", last);
	}
	return ZKC_ETIMEDOUT;
}

/* ------------------------------------------------------------ up / attach */

static int check_options(const zkc_ens_options_t *o)
{
	if (!o)
		return ens__fail(ZKC_EBADARGUMENTS, "options are NULL");
	if (o->version != ZKC_ENS_OPTIONS_VERSION)
		return ens__fail(ZKC_EBADARGUMENTS, "options version %d, expected %d "
		    "(use ZKC_ENS_OPTIONS_INIT)", o->version,
		    ZKC_ENS_OPTIONS_VERSION);
	if (o->nodes < 1 || o->nodes > ZKC_ENS_MAX_NODES)
		return ens__fail(ZKC_EBADARGUMENTS, "nodes must be 1..%d, not %d",
		    ZKC_ENS_MAX_NODES, o->nodes);
	if (o->tick_ms < 0 || o->tick_ms > 60000 ||
	    (o->tick_ms > 0 && o->tick_ms < 10))
		return ens__fail(ZKC_EBADARGUMENTS, "tick_ms must be 10..60000, not %d",
		    o->tick_ms);
	if (o->start_timeout_ms < 0)
		return ens__fail(ZKC_EBADARGUMENTS, "start_timeout_ms is negative");
	if (o->client_port < 0 || o->client_port +
	    (o->distinct_addrs ? 0 : o->nodes - 1) > 65535)
		return ens__fail(ZKC_EBADARGUMENTS, "client_port %d: %d node(s) need "
		    "ports up to 65535", o->client_port, o->nodes);
	if (o->dir && (!*o->dir || strchr(o->dir, '\n')))
		return ens__fail(ZKC_EBADARGUMENTS, "bad directory name");
	if ((o->jvm_flags && strchr(o->jvm_flags, '\n')) ||
	    (o->classpath && strchr(o->classpath, '\n')))
		return ens__fail(ZKC_EBADARGUMENTS, "jvm_flags and classpath must be "
		    "one line");
	return ZKC_OK;
}

static int check_jars(void)
{
	size_t k;

	for (k = 0; k < sizeof default_jars / sizeof *default_jars; k++)
		if (access(default_jars[k], R_OK) != 0)
			return ens__fail(ZKC_ENOTSUP, "%s is missing: install Debian's "
			    "zookeeper, liblog4j1.2-java, libslf4j-java and "
			    "libnetty-java packages (scripts/setup-deps.sh)",
			    default_jars[k]);
	return ZKC_OK;
}

static char *default_classpath(void)
{
	char *cp = strdup(""), *next;
	size_t k;

	for (k = 0; cp && k < sizeof default_jars / sizeof *default_jars; k++) {
		next = ens__asprintf("%s%s%s", cp, k ? ":" : "", default_jars[k]);
		free(cp);
		cp = next;
	}
	return cp;
}

/* Makes or adopts the directory; refuses one where an ensemble still runs. */
static int prepare_dir(const char *want, char **out, int *created)
{
	char *dir;
	struct stat st;

	*created = 0;
	if (!want) {
		const char *tmp = getenv("TMPDIR");
		char *tmpl = ens__asprintf("%s/zkc-ens-XXXXXX",
		    tmp && *tmp ? tmp : "/tmp");

		if (!tmpl)
			return ens__fail(ZKC_ENOMEM, "out of memory");
		if (!mkdtemp(tmpl)) {
			int err = errno;

			free(tmpl);
			return ens__fail(ZKC_EOS, "mkdtemp: %s", strerror(err));
		}
		*created = 1;
		*out = tmpl;
		return ZKC_OK;
	}
	if (stat(want, &st) < 0) {
		if (ens__mkdir_p(want, 0755) < 0)
			return ens__fail(ZKC_EOS, "cannot create %s: %s", want,
			    strerror(errno));
		*created = 1;
	} else if (!S_ISDIR(st.st_mode)) {
		return ens__fail(ZKC_EBADARGUMENTS, "%s is not a directory", want);
	}
	dir = realpath(want, NULL);
	if (!dir)
		return ens__fail(ZKC_EOS, "%s: %s", want, strerror(errno));
	if (!*created) {
		zkc_ens_t *old = NULL;

		if (zkc_ens_attach(&old, dir) == ZKC_OK) {
			int i, live = 0;

			for (i = 0; i < old->n; i++)
				if (ens__node_state(&old->node[i]) != ZKC_ENS_DEAD)
					live++;
			zkc_ens_free(old);
			if (live) {
				free(dir);
				return ens__fail(ZKC_EBADARGUMENTS, "an ensemble already "
				    "runs in %s (%d node(s) alive): stop it first "
				    "(zkc ensemble down --dir %s)", want, live, want);
			}
		}
	}
	*out = dir;
	return ZKC_OK;
}

static void kill_all(zkc_ens_t *e)
{
	int i;

	for (i = 0; i < e->n; i++)
		if (e->node[i].pid > 0)
			kill(e->node[i].pid, SIGKILL);
	for (i = 0; i < e->n; i++)
		ens__kill_node(&e->node[i]);
}

/* Everything up() needs before it picks ports: java, the class path, the
 * directory (made or adopted: *created), the node paths, log4j's file. */
static int up_prepare(zkc_ens_t *e, const zkc_ens_options_t *o, char **dirp, int *created)
{
	int rc, i;

	e->java = ens__find_java(o->java);
	if (!e->java)
		return o->java ?
		    ens__fail(ZKC_ENOTSUP, "%s is not an executable java", o->java) :
		    ens__fail(ZKC_ENOTSUP, "java not found in $JAVA_HOME or $PATH: "
		        "install openjdk-17-jre-headless (scripts/setup-deps.sh)");
	if (!o->classpath && (rc = check_jars()) != ZKC_OK)
		return rc;
	e->classpath = o->classpath ? strdup(o->classpath) : default_classpath();
	e->jvm_flags = o->jvm_flags ? strdup(o->jvm_flags) : NULL;
	if (!e->classpath || (o->jvm_flags && !e->jvm_flags))
		return ens__fail(ZKC_ENOMEM, "out of memory");
	if ((rc = prepare_dir(o->dir, dirp, created)) != ZKC_OK)
		return rc;
	free(e->dir);
	free(e->state_path);
	free(e->log4j_path);
	e->dir = *dirp;
	*dirp = NULL;
	e->state_path = ens__asprintf("%s/%s", e->dir, STATE_FILE);
	e->log4j_path = ens__asprintf("%s/log4j.properties", e->dir);
	e->created_dir = *created;
	e->n = o->nodes;
	e->tick_ms = o->tick_ms ? o->tick_ms : 500;
	e->die_with_parent = o->die_with_parent;
	if (!e->state_path || !e->log4j_path)
		return ens__fail(ZKC_ENOMEM, "out of memory");
	for (i = 0; i < e->n; i++)
		if ((rc = ens__set_node_paths(e, i)) != ZKC_OK)
			return rc;
	return write_log4j(e);
}

/* Picks ports, writes the configs, starts the JVMs and waits for a quorum;
 * tries other ports (PORT_ATTEMPTS) when a chosen one was taken meanwhile. */
static int up_start(zkc_ens_t *e, const zkc_ens_options_t *o, int timeout)
{
	int rc = ZKC_OK, i, attempt, clash = 0;

	for (attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
		rc = choose_ports(e, o->distinct_addrs, o->secure_client_port,
		    o->client_port);
		for (i = 0; rc == ZKC_OK && i < e->n; i++)
			rc = write_node_config(e, i, o);
		for (i = 0; rc == ZKC_OK && i < e->n; i++)
			rc = ens__spawn_node(e, i, o->die_with_parent);
		if (rc == ZKC_OK)
			rc = build_url(e);
		if (rc == ZKC_OK)
			rc = ens__write_state(e);
		if (rc == ZKC_OK && !o->no_wait)
			rc = wait_up(e, timeout, &clash);
		if (rc == ZKC_OK)
			return ZKC_OK;
		kill_all(e);
		if (!clash)
			break;
	}
	return rc;
}

/* After a failed up(): kills what runs; keeps a directory with server logs
 * (the message points into it), removes one made for nothing; frees e and
 * keeps the first failure's message. */
static void up_undo(zkc_ens_t *e, int created)
{
	char msg[ENS__ERR_LEN];

	if (e) {
		int started = e->n > 0 && e->node[0].cfg &&
		    access(e->node[0].cfg, F_OK) == 0;

		kill_all(e);
		if (started) {
			char *err = ens__errbuf();
			size_t len = strlen(err);

			ens__write_state(e);   /* record that nothing runs */
			if (len > 0 && err[len - 1] == ';')
				err[len - 1] = '.';
			ens__fail_append(" (%s kept for its logs)", e->dir);
		} else if (created && e->dir && strcmp(e->dir, "/") != 0) {
			ens__rm_rf(e->dir);
		}
	}
	/* cleanup may have overwritten the message */
	memcpy(msg, ens__errbuf(), sizeof msg);
	zkc_ens_free(e);
	memcpy(ens__errbuf(), msg, sizeof msg);
}

int zkc_ens_up(zkc_ens_t **out, const zkc_ens_options_t *o)
{
	zkc_ens_t *e = NULL;
	char *dir = NULL;
	int rc, created = 0;
	int timeout = o && o->start_timeout_ms ? o->start_timeout_ms :
	    DEFAULT_WAIT_MS;

	if (!out)
		return ens__fail(ZKC_EBADARGUMENTS, "out is NULL");
	*out = NULL;
	if ((rc = check_options(o)) != ZKC_OK)
		return rc;
	e = ens_alloc("/");
	if (!e)
		return ens__fail(ZKC_ENOMEM, "out of memory");
	rc = up_prepare(e, o, &dir, &created);
	if (rc == ZKC_OK)
		rc = up_start(e, o, timeout);
	if (rc == ZKC_OK) {
		*out = e;
		return ZKC_OK;
	}
	up_undo(e, created);
	free(dir);
	return rc;
}

int zkc_ens_attach(zkc_ens_t **out, const char *dir)
{
	zkc_ens_t *e;
	char *real;
	int rc, i;

	if (!out || !dir)
		return ens__fail(ZKC_EBADARGUMENTS, "out and dir must not be NULL");
	*out = NULL;
	real = realpath(dir, NULL);
	if (!real)
		return ens__fail(ZKC_ENONODE, "no ensemble in %s: %s", dir,
		    strerror(errno));
	e = ens_alloc(real);
	free(real);
	if (!e)
		return ens__fail(ZKC_ENOMEM, "out of memory");
	rc = ens__read_state(e, 0);
	for (i = 0; rc == ZKC_OK && i < e->n; i++)
		rc = ens__set_node_paths(e, i);
	if (rc == ZKC_OK)
		rc = build_url(e);
	if (rc != ZKC_OK) {
		zkc_ens_free(e);
		return rc;
	}
	*out = e;
	return ZKC_OK;
}

int zkc_ens_down(zkc_ens_t *e, int flags)
{
	int i, rc = ZKC_OK, remove_dir;

	if (!e)
		return ens__fail(ZKC_EBADARGUMENTS, "ensemble is NULL");
	ens__refresh(e);
	for (i = 0; i < e->n; i++)
		if (e->node[i].pid > 0 && ens__node_state(&e->node[i]) != ZKC_ENS_DEAD)
			kill(e->node[i].pid, SIGKILL);
	for (i = 0; i < e->n; i++) {
		int r = ens__kill_node(&e->node[i]);

		if (r != ZKC_OK && rc == ZKC_OK)
			rc = ens__fail(r, "node %d: %s", i + 1, zkc_ens_error());
	}
	remove_dir = flags == ZKC_ENS_DOWN_REMOVE ||
	    (flags == ZKC_ENS_DOWN_DEFAULT && e->created_dir);
	if (rc != ZKC_OK || !remove_dir) {
		if (access(e->state_path, F_OK) == 0)
			ens__write_state(e);
		return rc;
	}
	if (access(e->state_path, F_OK) != 0)
		return ens__fail(ZKC_EBADARGUMENTS, "%s holds no %s: not removing it",
		    e->dir, STATE_FILE);
	if (ens__rm_rf(e->dir) < 0)
		return ens__fail(ZKC_EOS, "cannot remove %s: %s", e->dir,
		    strerror(errno));
	return ZKC_OK;
}

/* ------------------------------------------------------------ queries */

const char *zkc_ens_url(const zkc_ens_t *e)
{
	return e ? e->url : NULL;
}

const char *zkc_ens_dir(const zkc_ens_t *e)
{
	return e ? e->dir : NULL;
}

int zkc_ens_size(const zkc_ens_t *e)
{
	return e ? e->n : 0;
}

static int in_range(const zkc_ens_t *e, int i)
{
	return e && i >= 0 && i < e->n;
}

const char *zkc_ens_host(const zkc_ens_t *e, int i)
{
	return in_range(e, i) ? e->node[i].host : NULL;
}

int zkc_ens_port(const zkc_ens_t *e, int i)
{
	return in_range(e, i) ? e->node[i].port : -1;
}

int zkc_ens_secure_port(const zkc_ens_t *e, int i)
{
	return in_range(e, i) ? e->node[i].secure_port : -1;
}

const char *zkc_ens_log_path(const zkc_ens_t *e, int i)
{
	return in_range(e, i) ? e->node[i].log : NULL;
}

const char *zkc_ens_state_name(int state)
{
	switch (state) {
	case ZKC_ENS_DEAD: return "dead";
	case ZKC_ENS_RUNNING: return "running";
	case ZKC_ENS_STOPPED: return "stopped";
	default: return "?";
	}
}

const char *zkc_ens_mode_name(int mode)
{
	switch (mode) {
	case ZKC_ENS_MODE_UNKNOWN: return "unknown";
	case ZKC_ENS_MODE_NOT_SERVING: return "not-serving";
	case ZKC_ENS_MODE_LEADER: return "leader";
	case ZKC_ENS_MODE_FOLLOWER: return "follower";
	case ZKC_ENS_MODE_STANDALONE: return "standalone";
	case ZKC_ENS_MODE_OBSERVER: return "observer";
	default: return "?";
	}
}

static int bad_index(const zkc_ens_t *e, int i)
{
	if (!e)
		return ens__fail(ZKC_EBADARGUMENTS, "ensemble is NULL");
	return ens__fail(ZKC_EBADARGUMENTS, "no node %d: the ensemble has nodes "
	    "0..%d (server ids 1..%d)", i, e->n - 1, e->n);
}

int zkc_ens_status(zkc_ens_node_status_t *out, zkc_ens_t *e, int i)
{
	struct ens_node *nd;

	if (!out)
		return ens__fail(ZKC_EBADARGUMENTS, "out is NULL");
	if (!in_range(e, i))
		return bad_index(e, i);
	ens__refresh(e);
	nd = &e->node[i];
	out->state = ens__node_state(nd);
	out->pid = nd->pid;
	out->mode = out->state == ZKC_ENS_RUNNING ? ens__probe_mode(nd, PROBE_MS) :
	    ZKC_ENS_MODE_UNKNOWN;
	return ZKC_OK;
}

int zkc_ens_4lw(char **out, zkc_ens_t *e, int i, const char *word,
    int timeout_ms)
{
	if (!out || !word)
		return ens__fail(ZKC_EBADARGUMENTS, "out and word must not be NULL");
	*out = NULL;
	if (!in_range(e, i))
		return bad_index(e, i);
	return ens__4lw(out, e->node[i].host, e->node[i].port, word,
	    timeout_ms > 0 ? timeout_ms : PROBE_MS);
}

int zkc_ens_leader(int *out, zkc_ens_t *e, int timeout_ms)
{
	long long deadline = ens__now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int delay = 20;

	if (!out || !e)
		return ens__fail(ZKC_EBADARGUMENTS, "out and ensemble must not be NULL");
	*out = -1;
	ens__refresh(e);
	for (;;) {
		int i;

		for (i = 0; i < e->n; i++) {
			int mode;

			if (ens__node_state(&e->node[i]) != ZKC_ENS_RUNNING)
				continue;
			mode = ens__probe_mode(&e->node[i], PROBE_MS);
			if (mode == ZKC_ENS_MODE_LEADER ||
			    mode == ZKC_ENS_MODE_STANDALONE) {
				*out = i;
				return ZKC_OK;
			}
		}
		if (ens__now_ms() >= deadline)
			return ens__fail(ZKC_ETIMEDOUT, "no node of %s leads (waited %d ms)",
			    e->dir, timeout_ms > 0 ? timeout_ms : 0);
		ens__sleep_ms(delay);
		if (delay < 200)
			delay += 20;
	}
}

/* ------------------------------------------------------------ faults */

int zkc_ens_kill(zkc_ens_t *e, int i)
{
	int rc;

	if (!in_range(e, i))
		return bad_index(e, i);
	ens__refresh(e);
	rc = ens__kill_node(&e->node[i]);
	if (rc != ZKC_OK)
		return ens__fail(rc, "node %d: %s", i + 1, zkc_ens_error());
	return ens__write_state(e);
}

int zkc_ens_stop(zkc_ens_t *e, int i)
{
	struct ens_node *nd;
	long long deadline;

	if (!in_range(e, i))
		return bad_index(e, i);
	ens__refresh(e);
	nd = &e->node[i];
	if (ens__node_state(nd) == ZKC_ENS_DEAD)
		return ens__fail(ZKC_EINVALIDSTATE, "node %d is not running", i + 1);
	if (kill(nd->pid, SIGSTOP) < 0)
		return ens__fail(ZKC_EOS, "node %d: kill: %s", i + 1, strerror(errno));
	/* the signal is asynchronous: return only once it took effect, so a
	 * test that stops a node and then acts relies on a stopped server */
	deadline = ens__now_ms() + DEATH_WAIT_MS;
	while (ens__node_state(nd) == ZKC_ENS_RUNNING) {
		if (ens__now_ms() >= deadline)
			return ens__fail(ZKC_ETIMEDOUT, "node %d did not stop", i + 1);
		ens__sleep_ms(1);
	}
	return ZKC_OK;
}

int zkc_ens_cont(zkc_ens_t *e, int i)
{
	struct ens_node *nd;
	long long deadline;

	if (!in_range(e, i))
		return bad_index(e, i);
	ens__refresh(e);
	nd = &e->node[i];
	if (ens__node_state(nd) == ZKC_ENS_DEAD)
		return ens__fail(ZKC_EINVALIDSTATE, "node %d is not running", i + 1);
	if (kill(nd->pid, SIGCONT) < 0)
		return ens__fail(ZKC_EOS, "node %d: kill: %s", i + 1, strerror(errno));
	deadline = ens__now_ms() + DEATH_WAIT_MS;
	while (ens__node_state(nd) == ZKC_ENS_STOPPED) {
		if (ens__now_ms() >= deadline)
			return ens__fail(ZKC_ETIMEDOUT, "node %d did not continue", i + 1);
		ens__sleep_ms(1);
	}
	return ZKC_OK;
}

int zkc_ens_wait_serving(zkc_ens_t *e, int i, int timeout_ms)
{
	long long deadline;
	int delay = 20, mode = ZKC_ENS_MODE_UNKNOWN, state;

	if (!in_range(e, i))
		return bad_index(e, i);
	if (timeout_ms <= 0)
		timeout_ms = DEFAULT_WAIT_MS;
	deadline = ens__now_ms() + timeout_ms;
	ens__refresh(e);
	for (;;) {
		state = ens__node_state(&e->node[i]);
		if (state == ZKC_ENS_RUNNING) {
			mode = ens__probe_mode(&e->node[i], PROBE_MS);
			if (ens__mode_serves(mode))
				return ZKC_OK;
		}
		if (ens__now_ms() >= deadline)
			break;
		ens__sleep_ms(delay);
		if (delay < 200)
			delay += 20;
	}
	{
		char last[320];

		ens__log_find_error(e->node[i].log, 0, last, sizeof last);
		return ens__fail(ZKC_ETIMEDOUT, "node %d (%s:%d) does not serve after "
		    "%d ms: %s, %s (log %s)%s%s", i + 1, e->node[i].host,
		    e->node[i].port, timeout_ms, zkc_ens_state_name(state),
		    zkc_ens_mode_name(mode), e->node[i].log, last[0] ? ": " : "",
		    last);
	}
}

int zkc_ens_wait_quorum(zkc_ens_t *e, int timeout_ms)
{
	long long deadline;
	int modes[ZKC_ENS_MAX_NODES], delay = 20, i;

	if (!e)
		return ens__fail(ZKC_EBADARGUMENTS, "ensemble is NULL");
	if (timeout_ms <= 0)
		timeout_ms = DEFAULT_WAIT_MS;
	deadline = ens__now_ms() + timeout_ms;
	ens__refresh(e);
	for (;;) {
		if (quorum_now(e, modes))
			return ZKC_OK;
		if (ens__now_ms() >= deadline)
			break;
		ens__sleep_ms(delay);
		if (delay < 200)
			delay += 20;
	}
	ens__fail(ZKC_ETIMEDOUT, "no quorum in %s after %d ms:", e->dir, timeout_ms);
	for (i = 0; i < e->n; i++)
		ens__fail_append(" node %d %s/%s (log %s);", i + 1,
		    zkc_ens_state_name(ens__node_state(&e->node[i])),
		    zkc_ens_mode_name(modes[i]), e->node[i].log);
	return ZKC_ETIMEDOUT;
}

int zkc_ens_wipe(zkc_ens_t *e, int wait_ms)
{
	int i, rc;

	ens__refresh(e);
	for (i = 0; i < e->n; i++)
		if ((rc = ens__kill_node(&e->node[i])) != ZKC_OK)
			return ens__fail(rc, "node %d: %s", i + 1, zkc_ens_error());
	for (i = 0; i < e->n; i++) {
		char *v2 = ens__asprintf("%s/data/version-2", e->node[i].dir);

		if (!v2)
			return ens__fail(ZKC_ENOMEM, "out of memory");
		rc = access(v2, F_OK) == 0 && ens__rm_rf(v2) < 0 ? ZKC_EOS : ZKC_OK;
		if (rc != ZKC_OK)
			rc = ens__fail(rc, "node %d: cannot delete %s: %s", i + 1, v2, strerror(errno));
		free(v2);
		if (rc != ZKC_OK)
			return rc;
	}
	for (i = 0; i < e->n; i++)
		if ((rc = ens__spawn_node(e, i, e->die_with_parent)) != ZKC_OK)
			return rc;
	if ((rc = ens__write_state(e)) != ZKC_OK)
		return rc;
	if (wait_ms == 0)
		return ZKC_OK;
	return zkc_ens_wait_quorum(e, wait_ms < 0 ? DEFAULT_WAIT_MS : wait_ms);
}

int zkc_ens_restart(zkc_ens_t *e, int i, int wait_ms)
{
	int rc;

	if (!in_range(e, i))
		return bad_index(e, i);
	ens__refresh(e);
	if ((rc = ens__kill_node(&e->node[i])) != ZKC_OK)
		return ens__fail(rc, "node %d: %s", i + 1, zkc_ens_error());
	if (access(e->node[i].cfg, R_OK) != 0)
		return ens__fail(ZKC_EOS, "node %d: %s: %s", i + 1, e->node[i].cfg,
		    strerror(errno));
	if ((rc = ens__spawn_node(e, i, e->die_with_parent)) != ZKC_OK)
		return rc;
	if ((rc = ens__write_state(e)) != ZKC_OK)
		return rc;
	if (wait_ms == 0)
		return ZKC_OK;
	return zkc_ens_wait_serving(e, i, wait_ms < 0 ? DEFAULT_WAIT_MS : wait_ms);
}
