/* tests/chaos/runner.c - the chaos run: a 3-node ensemble behind fault
 * proxies, worker processes (worker.c) recording histories, a seeded
 * nemesis injecting real faults for a bounded time, then the heal, the
 * orderly stop and the final-state records the checkers need
 * (tests/chaos/checker). tests/chaos/run drives it; docs/chaos.md.
 *
 *   chaos_runner --dir DIR --worker PATH [--seconds N] [--seed S]
 *                [--faults k1,k2,...] [--session-timeout MS]
 *                [--server-flags "JVM FLAGS"] [--keep] */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zkc.h"
#include "ensemble.h"
#include "proxy.h"
#include "history.h"

#define NODES 3
#define MAX_WORKERS 32

typedef struct worker {
	char name[32];
	const char *role;
	pid_t pid;
	int stopped;     /* SIGSTOPped by the nemesis */
	int status;      /* exit status once reaped */
	int reaped;
} worker_t;

static struct {
	const char *dir;
	const char *worker_bin;
	int seconds;
	unsigned seed;
	int session_timeout_ms;
	int keep;
	const char *faults;      /* NULL: all kinds */
	const char *server_flags; /* extra JVM flags for the servers, or NULL */
	zkc_ens_t *ens;
	h_proxy_t *proxy[NODES];
	/* peer[i][j][0|1]: node i's connections to node j's quorum and
	 * election ports (partition-server) */
	h_proxy_t *peer[NODES][NODES][2];
	char url[512];           /* through the proxies */
	worker_t w[MAX_WORKERS];
	int nw;
	chaos_hist_t nem;        /* nemesis.jsonl */
	chaos_hist_t fin;        /* final.jsonl */
	unsigned rs;             /* rand_r state of the nemesis */
} R;

/* The default mix: role and how many processes play it. */
static const struct { const char *role; int n; } mix[] = {
	{ "reg", 2 }, { "counter", 2 }, { "lock", 3 }, { "elect", 2 },
	{ "queue", 2 }, { "index", 1 }, { "cache", 1 }
};

static const char *fault_kinds[] = {
	"kill-leader", "kill-follower", "pause-server", "pause-client", "proxy-cut",
	"proxy-drop", "proxy-delay", "proxy-partition", "expire-session",
	"rolling-restart", "restart-all", "wipe", "partition-server", "partition-server-silent"
};
/* relative weights: the heavy whole-ensemble faults are rarer */
static const int fault_weight[] = { 3, 3, 3, 3, 3, 3, 2, 2, 3, 1, 1, 1, 3, 3 };
#define NKINDS (sizeof(fault_kinds) / sizeof(fault_kinds[0]))

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "chaos_runner: %s: %s\n", what, detail);
	if (R.ens) {
		zkc_ens_down(R.ens, R.keep ? ZKC_ENS_DOWN_KEEP : ZKC_ENS_DOWN_DEFAULT);
		zkc_ens_free(R.ens);
	}
	exit(2);
}

static unsigned rnd(unsigned n)
{
	return n ? (unsigned)rand_r(&R.rs) % n : 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int64_t now_ms(void)
{
	return chaos_now_ns() / 1000000;
}

static int fault_enabled(const char *kind)
{
	const char *p;
	size_t n = strlen(kind);

	/* the server partitions are asked for by name only: with the peer
	 * connections through proxies, a node restarted or healed sometimes
	 * cannot sync with the leader again (docs/chaos.md) */
	if (!R.faults)
		return strncmp(kind, "partition-server", 16) != 0;
	for (p = R.faults; (p = strstr(p, kind)) != NULL; p += n)
		if ((p == R.faults || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/* ------------------------------------------------------------ the tree */

/* The directories the workers expect; made at the start and again after
 * a wipe (the workers make everything below them). */
static void make_base(void)
{
	static const char *dirs[] = { "", "/reg", "/fenced", "/counter", "/lock", "/elect" };
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_t *zk = NULL;
	size_t i;
	int rc;

	o.connect_timeout_ms = 60000;
	rc = zkc_open(&zk, zkc_ens_url(R.ens), &o);
	if (rc != ZKC_OK)
		die("open", zkc_error_last()->message);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char path[64];

		snprintf(path, sizeof(path), "/chaos%s", dirs[i]);
		rc = zkc_create(NULL, NULL, zk, path, NULL, 0, NULL);
		if (rc != ZKC_OK && rc != ZKC_ENODEEXISTS)
			die(path, zkc_error_last()->message);
	}
	zkc_close(zk);
}

/* ------------------------------------------------------------ workers */

static void spawn(worker_t *w, unsigned seed)
{
	char hist[1024], log[1024], seedbuf[32], tmo[32];
	pid_t pid;

	snprintf(hist, sizeof(hist), "%s/hist/%s.jsonl", R.dir, w->name);
	snprintf(log, sizeof(log), "%s/logs/%s.log", R.dir, w->name);
	snprintf(seedbuf, sizeof(seedbuf), "%u", seed);
	snprintf(tmo, sizeof(tmo), "%d", R.session_timeout_ms);
	pid = fork();
	if (pid < 0)
		die("fork", strerror(errno));
	if (pid == 0) {
		FILE *f = freopen(log, "w", stderr);

		(void)f;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl(R.worker_bin, R.worker_bin, w->role, w->name, R.url, "/chaos", hist, seedbuf,
		      tmo, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", R.worker_bin, strerror(errno));
		_exit(127);
	}
	w->pid = pid;
}

static void spawn_all(void)
{
	size_t i;
	int j;

	for (i = 0; i < sizeof(mix) / sizeof(mix[0]); i++)
		for (j = 0; j < mix[i].n; j++) {
			worker_t *w = &R.w[R.nw];

			snprintf(w->name, sizeof(w->name), "%s-%d", mix[i].role, j + 1);
			w->role = mix[i].role;
			spawn(w, R.seed * 1000u + (unsigned)R.nw);
			R.nw++;
		}
}

/* Waits up to ms for the cache workers (cache_only) or all others to
 * exit. Returns how many are left running. */
static int reap(int cache_only, int64_t ms)
{
	int64_t deadline = now_ms() + ms;
	int left;

	do {
		int i;

		left = 0;
		for (i = 0; i < R.nw; i++) {
			worker_t *w = &R.w[i];
			int is_cache = !strcmp(w->role, "cache");

			if (w->reaped || (cache_only ? !is_cache : is_cache))
				continue;
			if (waitpid(w->pid, &w->status, WNOHANG) == w->pid)
				w->reaped = 1;
			else
				left++;
		}
		if (left)
			sleep_ms(100);
	} while (left && now_ms() < deadline);
	return left;
}

/* ------------------------------------------------------------ faults */

static long fault_begin(const char *kind, const char *target)
{
	char fields[128];

	fprintf(stderr, "chaos_runner: +%llds %s %s\n",
	        (long long)(now_ms() / 1000), kind, target ? target : "");
	return chaos_hist_invoke(&R.nem, kind, target ? chaos_fmt(fields, sizeof(fields),
	                         "\"target\":\"%s\"", target) : NULL);
}

static void fault_end(long op, const char *kind, int rc)
{
	char fields[512];

	chaos_hist_line(&R.nem, op, rc == ZKC_OK ? "ok" : "fail", kind,
	                rc == ZKC_OK ? NULL : chaos_fmt(fields, sizeof(fields), "\"why\":\"%s\"",
	                                                 zkc_ens_error()));
	if (rc != ZKC_OK)
		fprintf(stderr, "chaos_runner: %s: %s\n", kind, zkc_ens_error());
}

static int leader(void)
{
	int l = 0;

	if (zkc_ens_leader(&l, R.ens, 60000) != ZKC_OK)
		return -1;
	return l;
}

static int quorum(void)
{
	return zkc_ens_wait_quorum(R.ens, 90000);
}

static void node_name(char *buf, size_t len, int i)
{
	snprintf(buf, len, "node%d", i + 1);
}

static int do_kill(int leader_wanted)
{
	int l = leader(), i, rc;
	char name[16];
	long op;

	if (l < 0)
		return ZKC_ETIMEDOUT;
	i = leader_wanted ? l : (l + 1 + (int)rnd(NODES - 1)) % NODES;
	node_name(name, sizeof(name), i);
	op = fault_begin(leader_wanted ? "kill-leader" : "kill-follower", name);
	rc = zkc_ens_kill(R.ens, i);
	if (rc == ZKC_OK) {
		sleep_ms(500 + rnd(4000));
		rc = zkc_ens_restart(R.ens, i, 90000);
	}
	if (rc == ZKC_OK)
		rc = quorum();
	fault_end(op, leader_wanted ? "kill-leader" : "kill-follower", rc);
	return rc;
}

static int do_pause_server(void)
{
	int i = (int)rnd(NODES), rc;
	char name[16];
	long op;

	node_name(name, sizeof(name), i);
	op = fault_begin("pause-server", name);
	rc = zkc_ens_stop(R.ens, i);
	if (rc == ZKC_OK) {
		/* sometimes past the session timeout, like a long GC pause */
		sleep_ms(500 + rnd((unsigned)R.session_timeout_ms * 2));
		rc = zkc_ens_cont(R.ens, i);
	}
	if (rc == ZKC_OK)
		rc = quorum();
	fault_end(op, "pause-server", rc);
	return rc;
}

static int do_pause_client(void)
{
	worker_t *w = &R.w[rnd((unsigned)R.nw)];
	long op = fault_begin("pause-client", w->name);

	kill(w->pid, SIGSTOP);
	w->stopped = 1;
	/* past the session timeout: the session expires while it sleeps */
	sleep_ms(R.session_timeout_ms + 1000 + rnd(2000));
	kill(w->pid, SIGCONT);
	w->stopped = 0;
	fault_end(op, "pause-client", ZKC_OK);
	return ZKC_OK;
}

static int do_proxy(const char *kind)
{
	int i = (int)rnd(NODES), all = rnd(3) == 0, j;
	char name[16];
	long op;

	if (all)
		snprintf(name, sizeof(name), "all");
	else
		node_name(name, sizeof(name), i);
	op = fault_begin(kind, name);
	for (j = 0; j < NODES; j++) {
		h_proxy_t *p = R.proxy[j];

		if (!all && j != i)
			continue;
		if (!strcmp(kind, "proxy-cut"))
			h_proxy_cut(p);
		else if (!strcmp(kind, "proxy-drop"))
			h_proxy_lose_next_reply(p);
		else if (!strcmp(kind, "proxy-delay"))
			h_proxy_hold_replies(p, 2);
		else
			h_proxy_blackhole(p, 1);
	}
	if (!strcmp(kind, "proxy-delay") || !strcmp(kind, "proxy-partition")) {
		sleep_ms(1000 + rnd((unsigned)R.session_timeout_ms * 2));
		for (j = 0; j < NODES; j++) {
			h_proxy_hold_replies(R.proxy[j], 0);
			h_proxy_blackhole(R.proxy[j], 0);
		}
	} else if (!strcmp(kind, "proxy-drop")) {
		sleep_ms(2000);   /* give the armed fault requests to meet */
	}
	fault_end(op, kind, ZKC_OK);
	return ZKC_OK;
}

static int do_expire(void)
{
	worker_t *w = &R.w[rnd((unsigned)R.nw)];
	long op = fault_begin("expire-session", w->name);

	kill(w->pid, SIGUSR2);   /* the worker calls zkc_testing_expire_session */
	fault_end(op, "expire-session", ZKC_OK);
	return ZKC_OK;
}

static int do_rolling(void)
{
	long op = fault_begin("rolling-restart", "all");
	int i, rc = ZKC_OK;

	for (i = 0; i < NODES && rc == ZKC_OK; i++) {
		rc = zkc_ens_restart(R.ens, i, 90000);
		if (rc == ZKC_OK)
			rc = quorum();
	}
	fault_end(op, "rolling-restart", rc);
	return rc;
}

static int do_restart_all(void)
{
	long op = fault_begin("restart-all", "all");
	int i, rc = ZKC_OK;

	for (i = 0; i < NODES && rc == ZKC_OK; i++)
		rc = zkc_ens_kill(R.ens, i);
	if (rc == ZKC_OK)
		sleep_ms(500 + rnd(3000));
	for (i = 0; i < NODES && rc == ZKC_OK; i++)
		rc = zkc_ens_restart(R.ens, i, 0);
	if (rc == ZKC_OK)
		rc = quorum();
	fault_end(op, "restart-all", rc);
	return rc;
}

static int do_wipe(void)
{
	long op = fault_begin("wipe", "all");
	int rc = zkc_ens_wipe(R.ens, 90000);

	if (rc == ZKC_OK)
		rc = quorum();
	if (rc == ZKC_OK)
		make_base();
	fault_end(op, "wipe", rc);
	return rc;
}

/* Routes every server-to-server connection through a proxy of its own,
 * so one node can be cut off from the others while its clients still
 * reach it. ZooKeeper reads its peers' addresses from each node's
 * zoo.cfg, and a node connects to a peer with the address it has for
 * it, so node i's lines for the other nodes are rewritten to point at
 * proxies i->j (one for the quorum port, one for the election port);
 * its own line keeps its real ports, which it listens on. The nodes are
 * restarted to read the new files. */
static void route_peers(void)
{
	int qport[NODES], eport[NODES], i, j, k;

	for (i = 0; i < NODES; i++) {
		char path[1200], line[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/ensemble/node%d/zoo.cfg", R.dir, i + 1);
		if (!(f = fopen(path, "r")))
			die(path, strerror(errno));
		while (fgets(line, sizeof(line), f)) {
			int id, q, e;

			if (sscanf(line, "server.%d=%*[^:]:%d:%d", &id, &q, &e) == 3 && id >= 1 &&
			    id <= NODES) {
				qport[id - 1] = q;
				eport[id - 1] = e;
			}
		}
		fclose(f);
	}
	for (i = 0; i < NODES; i++) {
		char path[1200], tmp[1300], line[512];
		FILE *in, *out;

		for (j = 0; j < NODES; j++)
			for (k = 0; k < 2 && j != i; k++)
				if (h_proxy_new(&R.peer[i][j][k], zkc_ens_host(R.ens, j),
				                k ? eport[j] : qport[j]) != 0)
					die("peer proxy", "cannot start");
		snprintf(path, sizeof(path), "%s/ensemble/node%d/zoo.cfg", R.dir, i + 1);
		snprintf(tmp, sizeof(tmp), "%s.chaos", path);
		if (!(in = fopen(path, "r")) || !(out = fopen(tmp, "w")))
			die(path, strerror(errno));
		while (fgets(line, sizeof(line), in)) {
			int id;

			if (sscanf(line, "server.%d=", &id) == 1 && id >= 1 && id <= NODES &&
			    id - 1 != i)
				fprintf(out, "server.%d=127.0.0.1:%d:%d\n", id,
				        h_proxy_port(R.peer[i][id - 1][0]),
				        h_proxy_port(R.peer[i][id - 1][1]));
			else
				fputs(line, out);
		}
		fclose(in);
		if (fclose(out) != 0 || rename(tmp, path) != 0)
			die(tmp, strerror(errno));
	}
	for (i = 0; i < NODES; i++)
		if (zkc_ens_kill(R.ens, i) != ZKC_OK)
			die("kill", zkc_ens_error());
	for (i = 0; i < NODES; i++)
		if (zkc_ens_restart(R.ens, i, 0) != ZKC_OK)
			die("restart", zkc_ens_error());
	if (quorum() != ZKC_OK)
		die("quorum through the peer proxies", zkc_ens_error());
}

/* Node k loses every other node, both ways, while its clients still
 * reach it: either silently (nothing forwarded, connections open, as a
 * dropped link) or loudly (connections reset and refused). */
static void peers_of(int k, int silent, int on)
{
	int i, j, p;

	for (i = 0; i < NODES; i++)
		for (j = 0; j < NODES; j++)
			for (p = 0; p < 2; p++) {
				h_proxy_t *x = R.peer[i][j][p];

				if (!x || (i != k && j != k))
					continue;
				if (!on) {
					h_proxy_blackhole(x, 0);
					h_proxy_refuse(x, 0);
				} else if (silent) {
					h_proxy_blackhole(x, 1);
				} else {
					h_proxy_refuse(x, 1);
					h_proxy_cut(x);
				}
			}
}

static int do_partition_server(int silent)
{
	int l = leader(), k, rc;
	char name[64];
	long op;

	if (l < 0)
		return ZKC_ETIMEDOUT;
	/* the leader half of the time: its followers must elect another */
	k = rnd(2) ? l : (int)rnd(NODES);
	snprintf(name, sizeof(name), "node%d%s", k + 1, k == l ? " (leader)" : "");
	op = fault_begin(silent ? "partition-server-silent" : "partition-server", name);
	peers_of(k, silent, 1);
	sleep_ms(2000 + rnd(10000));
	peers_of(k, silent, 0);
	rc = quorum();
	fault_end(op, silent ? "partition-server-silent" : "partition-server", rc);
	return rc;
}

static int inject(const char *kind)
{
	if (!strncmp(kind, "partition-server", 16))
		return do_partition_server(kind[16] != '\0');
	if (!strcmp(kind, "kill-leader"))
		return do_kill(1);
	if (!strcmp(kind, "kill-follower"))
		return do_kill(0);
	if (!strcmp(kind, "pause-server"))
		return do_pause_server();
	if (!strcmp(kind, "pause-client"))
		return do_pause_client();
	if (!strncmp(kind, "proxy-", 6))
		return do_proxy(kind);
	if (!strcmp(kind, "expire-session"))
		return do_expire();
	if (!strcmp(kind, "rolling-restart"))
		return do_rolling();
	if (!strcmp(kind, "restart-all"))
		return do_restart_all();
	return do_wipe();
}

static const char *pick_fault(void)
{
	int total = 0, r;
	size_t i;

	for (i = 0; i < NKINDS; i++)
		if (fault_enabled(fault_kinds[i]))
			total += fault_weight[i];
	if (total == 0)
		return NULL;
	r = (int)rnd((unsigned)total);
	for (i = 0; i < NKINDS; i++) {
		if (!fault_enabled(fault_kinds[i]))
			continue;
		if (r < fault_weight[i])
			return fault_kinds[i];
		r -= fault_weight[i];
	}
	return NULL;
}

/* Heals everything: nodes running, proxies clear, clients resumed. */
static int heal(void)
{
	int i, rc = ZKC_OK;

	for (i = 0; i < NODES; i++) {
		zkc_ens_node_status_t st;

		h_proxy_blackhole(R.proxy[i], 0);
		h_proxy_hold_replies(R.proxy[i], 0);
		if (zkc_ens_status(&st, R.ens, i) != ZKC_OK)
			continue;
		if (st.state == ZKC_ENS_STOPPED)
			zkc_ens_cont(R.ens, i);
		else if (st.state == ZKC_ENS_DEAD)
			rc = zkc_ens_restart(R.ens, i, 90000);
	}
	for (i = 0; i < NODES; i++)
		peers_of(i, 0, 0);
	for (i = 0; i < R.nw; i++)
		if (R.w[i].stopped)
			kill(R.w[i].pid, SIGCONT);
	return rc == ZKC_OK ? quorum() : rc;
}

/* ------------------------------------------------------------ final state */

static void final_drain(zkc_t *zk)
{
	zkc_queue_t *q = NULL;
	char fields[256];
	int rc = zkc_queue_open(&q, zk, "/chaos/queue", NULL);
	long n = 0;

	if (rc != ZKC_OK) {
		chaos_hist_line(&R.fin, 0, "info", "drain", chaos_fmt(fields, sizeof(fields),
		                "\"code\":\"%s\"", zkc_strcode(rc)));
		return;
	}
	for (;;) {
		zkc_queue_item_t *it = NULL;
		char esc[128];

		rc = zkc_queue_take(&it, q, ZKC_QUEUE_TAKE_DELETE, 0);
		if (rc != ZKC_OK) {
			zkc_queue_item_free(it);
			break;
		}
		chaos_json_escape(esc, sizeof(esc), it->data, it->len);
		chaos_hist_line(&R.fin, ++n, "ok", "drain", chaos_fmt(fields, sizeof(fields),
		                "\"item\":\"%s\",\"name\":\"%s\"", esc, it->name));
		zkc_queue_item_free(it);
	}
	chaos_hist_line(&R.fin, 0, rc == ZKC_EAGAIN ? "ok" : "fail", "drain-end",
	                chaos_fmt(fields, sizeof(fields), "\"n\":%ld,\"code\":\"%s\"", n,
	                          zkc_strcode(rc)));
	zkc_queue_close(q);
}

static void final_index(zkc_t *zk)
{
	zkc_index_t *ix = NULL;
	zkc_index_report_t *rep = NULL;
	char fields[1024];
	int rc = zkc_index_open(&ix, zk, "/chaos/index", NULL);

	if (rc == ZKC_OK)
		rc = zkc_index_verify(&rep, ix);
	if (rc != ZKC_OK) {
		/* after a wipe nobody may have made the collection again */
		chaos_hist_line(&R.fin, 0, rc == ZKC_ENONODE ? "info" : "fail", "index-verify",
		                chaos_fmt(fields, sizeof(fields), "\"code\":\"%s\"",
		                          zkc_strcode(rc)));
	} else {
		char first[600] = "";

		if (rep->count > 0) {
			const zkc_index_issue_t *is = &rep->issues[0];
			char tmp[500];

			snprintf(tmp, sizeof(tmp), "%s %s", zkc_index_issue_name(is->kind),
			         is->path ? is->path : "");
			chaos_json_escape(first, sizeof(first), tmp, strlen(tmp));
		}
		chaos_hist_line(&R.fin, 0, "ok", "index-verify", chaos_fmt(fields, sizeof(fields),
		                "\"records\":%zu,\"entries\":%zu,\"issues\":%zu,\"first\":\"%s\"",
		                rep->records, rep->entries, rep->count, first));
	}
	zkc_index_report_free(rep);
	zkc_index_close(ix);
}

/* Every ephemeral node under path, appended to out (comma-separated JSON
 * strings). Returns how many. */
static int ephemerals(zkc_t *zk, const char *path, char *out, size_t outlen)
{
	zkc_strings_t *kids = NULL;
	zkc_stat_t st;
	size_t i;
	int n = 0;

	if (zkc_exists(&st, zk, path) != ZKC_OK)
		return 0;
	if (st.ephemeral_owner != 0) {
		size_t l = strlen(out);

		snprintf(out + l, outlen - l, "%s\"%s\"", l ? "," : "", path);
		return 1;
	}
	if (zkc_children(&kids, NULL, zk, path) != ZKC_OK)
		return 0;
	for (i = 0; i < kids->count; i++) {
		char child[1024];

		snprintf(child, sizeof(child), "%s/%s", path, kids->items[i]);
		n += ephemerals(zk, child, out, outlen);
	}
	zkc_strings_free(kids);
	return n;
}

static void final_orphans(zkc_t *zk)
{
	/* every worker closed its client, so its ephemerals went at once; a
	 * session that ended otherwise goes at its timeout at the latest */
	int64_t deadline = now_ms() + 3 * R.session_timeout_ms + 20000;
	char list[4096], fields[4300];
	int n;

	for (;;) {
		list[0] = '\0';
		n = ephemerals(zk, "/chaos", list, sizeof(list));
		if (n == 0 || now_ms() >= deadline)
			break;
		sleep_ms(500);
	}
	chaos_hist_line(&R.fin, 0, "ok", "orphans", chaos_fmt(fields, sizeof(fields),
	                "\"n\":%d,\"paths\":[%s]", n, list));
}

static void final_state(void)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_t *zk = NULL;
	char fields[256];
	int i, rc;

	for (i = 0; i < R.nw; i++) {
		worker_t *w = &R.w[i];

		chaos_hist_line(&R.fin, 0, w->reaped && WIFEXITED(w->status) &&
		                WEXITSTATUS(w->status) == 0 ? "ok" : "fail", "worker-exit",
		                chaos_fmt(fields, sizeof(fields), "\"worker\":\"%s\",\"status\":%d,"
		                          "\"reaped\":%d", w->name, w->status, w->reaped));
	}
	o.connect_timeout_ms = 60000;
	rc = zkc_open(&zk, zkc_ens_url(R.ens), &o);
	if (rc != ZKC_OK)
		die("open", zkc_error_last()->message);
	final_orphans(zk);
	final_drain(zk);
	final_index(zk);
	zkc_close(zk);
}

/* ------------------------------------------------------------ main */

static void usage(void)
{
	fprintf(stderr, "usage: chaos_runner --dir DIR --worker PATH [--seconds N] [--seed S] "
	        "[--faults k1,k2] [--session-timeout MS] [--server-flags \"FLAGS\"] [--keep]\n"
	        "fault kinds:");
	for (size_t i = 0; i < NKINDS; i++)
		fprintf(stderr, " %s", fault_kinds[i]);
	fputc('\n', stderr);
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--keep")) {
			R.keep = 1;
			continue;
		}
		if (!v)
			usage();
		if (!strcmp(a, "--dir"))
			R.dir = v;
		else if (!strcmp(a, "--worker"))
			R.worker_bin = v;
		else if (!strcmp(a, "--seconds"))
			R.seconds = atoi(v);
		else if (!strcmp(a, "--seed"))
			R.seed = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--faults"))
			R.faults = v;
		else if (!strcmp(a, "--session-timeout"))
			R.session_timeout_ms = atoi(v);
		else if (!strcmp(a, "--server-flags"))
			R.server_flags = v;
		else
			usage();
		i++;
	}
	if (!R.dir || !R.worker_bin || R.seconds < 1 || R.session_timeout_ms < 2000)
		usage();
}

/* Both clocks at one moment, so the checker can place the servers' log
 * times (wall clock) on the histories' monotonic time line. */
static void record_clocks(void)
{
	struct timespec ts;
	char fields[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	chaos_hist_line(&R.fin, 0, "info", "clock", chaos_fmt(fields, sizeof(fields),
	    "\"wall_ns\":%lld", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec));
}

static void open_histories(void)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/hist", R.dir);
	mkdir(R.dir, 0755);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/logs", R.dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/hist/nemesis.jsonl", R.dir);
	if (chaos_hist_open(&R.nem, path, "nemesis") != 0)
		die(path, strerror(errno));
	snprintf(path, sizeof(path), "%s/hist/final.jsonl", R.dir);
	if (chaos_hist_open(&R.fin, path, "final") != 0)
		die(path, strerror(errno));
	record_clocks();
}

/* The ensemble, its proxies and the workers' URL through them. */
static void start_ensemble(void)
{
	zkc_ens_options_t eo = ZKC_ENS_OPTIONS_INIT;
	char ensdir[1024];
	int i;

	snprintf(ensdir, sizeof(ensdir), "%s/ensemble", R.dir);
	eo.nodes = NODES;
	eo.dir = ensdir;
	eo.die_with_parent = 1;
	eo.start_timeout_ms = 120000;
	/* after the launcher's defaults, so a run can compare server settings */
	eo.jvm_flags = R.server_flags;
	if (zkc_ens_up(&R.ens, &eo) != ZKC_OK)
		die("ensemble up", zkc_ens_error());
	if (fault_enabled("partition-server") || fault_enabled("partition-server-silent"))
		route_peers();
	strcpy(R.url, "zk://");
	for (i = 0; i < NODES; i++) {
		size_t l = strlen(R.url);

		if (h_proxy_new(&R.proxy[i], zkc_ens_host(R.ens, i), zkc_ens_port(R.ens, i)) != 0)
			die("proxy", "cannot start");
		snprintf(R.url + l, sizeof(R.url) - l, "%s127.0.0.1:%d", i ? "," : "",
		         h_proxy_port(R.proxy[i]));
	}
}

static void run_nemesis(void)
{
	int64_t end = now_ms() + (int64_t)R.seconds * 1000;

	sleep_ms(2000 + rnd(2000));   /* let the workers get going */
	while (now_ms() < end) {
		const char *kind = pick_fault();

		if (!kind)
			sleep_ms((long)(end - now_ms()));
		else if (inject(kind) != ZKC_OK && heal() != ZKC_OK)
			die("heal", zkc_ens_error());
		if (now_ms() < end)
			sleep_ms(1000 + rnd(3000));
	}
}

/* The end: heal, stop the writers, then let the caches converge. */
static void stop_workers(void)
{
	long op = chaos_hist_invoke(&R.nem, "heal", NULL);
	int i, left, rc = heal();

	fault_end(op, "heal", rc);
	if (rc != ZKC_OK)
		die("heal", zkc_ens_error());
	for (i = 0; i < R.nw; i++)
		if (strcmp(R.w[i].role, "cache"))
			kill(R.w[i].pid, SIGTERM);
	left = reap(0, 120000);
	for (i = 0; i < R.nw; i++)
		if (!strcmp(R.w[i].role, "cache"))
			kill(R.w[i].pid, SIGUSR1);
	left += reap(1, 120000);
	for (i = 0; left > 0 && i < R.nw; i++)
		if (!R.w[i].reaped) {
			fprintf(stderr, "chaos_runner: %s did not stop: killed\n", R.w[i].name);
			kill(R.w[i].pid, SIGKILL);
			waitpid(R.w[i].pid, NULL, 0);
		}
}

int main(int argc, char **argv)
{
	int i;

	R.seconds = 120;
	R.seed = 1;
	R.session_timeout_ms = 4000;
	parse_args(argc, argv);
	R.rs = R.seed;
	signal(SIGPIPE, SIG_IGN);
	open_histories();
	start_ensemble();
	make_base();
	spawn_all();
	fprintf(stderr, "chaos_runner: %d workers on %s, %d s, seed %u\n", R.nw, R.url, R.seconds,
	        R.seed);
	run_nemesis();
	stop_workers();
	final_state();
	chaos_hist_close(&R.nem);
	chaos_hist_close(&R.fin);
	for (i = 0; i < NODES; i++) {
		int j;

		h_proxy_free(R.proxy[i]);
		for (j = 0; j < NODES; j++) {
			h_proxy_free(R.peer[i][j][0]);
			h_proxy_free(R.peer[i][j][1]);
		}
	}
	zkc_ens_down(R.ens, R.keep ? ZKC_ENS_DOWN_KEEP : ZKC_ENS_DOWN_REMOVE);
	zkc_ens_free(R.ens);
	return 0;
}
