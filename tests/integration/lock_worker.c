/* tests/integration/lock_worker.c - the multi-process fault test of the
 * lock family: worker processes (this test binary re-executed with
 * ZKC_LOCK_WORKER=1) take a lock, rwlock or semaphore many times and append
 * to a fenced register; the parent injects faults and checks the history.
 *
 * Register lines are "K TOKEN P" (K: W writer/mutex, R reader, L lease;
 * TOKEN: the lock node's czxid in hex; P: S start, E end), each written by
 * a transaction fenced on the writer's lock node. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"

int lock_worker_main(int argc, char **argv);
int lock_history_check(const char *data, size_t len, int max_leases, char *why, size_t whylen);
void lock_fault_run(const char *mode, int workers, int count, int max_leases, unsigned seed,
                    int stop_holder, int broken);
int lock_fault_teardown(void **state);

#define WLOG(...) do { fprintf(stderr, "# worker %d: ", g_id); fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); } while (0)

static int g_id;

/* ------------------------------------------------------------ worker */

typedef int (*fence_fn)(zkc_multi_t **out, void *arg);

static int fence_lock(zkc_multi_t **out, void *arg)
{
	return zkc_lock_fence(out, arg);
}

static int fence_sem(zkc_multi_t **out, void *arg)
{
	return zkc_semaphore_fence(out, arg);
}

static int has_line(const char *data, const char *line)
{
	size_t n = strlen(line);
	const char *p = data;

	while ((p = strstr(p, line)) != NULL) {
		if (p == data || p[-1] == '\n')
			return 1;
		p += n;
	}
	(void)n;
	return 0;
}

/* Appends line under the fence. 0 done, 1 lock lost (nothing written),
 * -1 failure. */
static int append(zkc_t *zk, const char *reg, fence_fn mk, void *arg, const char *line)
{
	/* bounded by attempts, not time: this process may be SIGSTOPped */
	unsigned attempt = 0;

	while (attempt < 3000) {
		char *data = NULL, *nd;
		size_t len = 0;
		zkc_stat_t st;
		zkc_multi_t *m = NULL;
		int rc;

		rc = zkc_get(&data, &len, &st, zk, reg);
		if (rc != ZKC_OK) {
			h_backoff(attempt++);
			continue;
		}
		rc = mk(&m, arg);
		if (rc == ZKC_ELOST || rc == ZKC_EINVALIDSTATE) {
			zkc_free(data);
			return 1;
		}
		if (rc != ZKC_OK) {
			zkc_free(data);
			WLOG("fence: %s", zkc_strcode(rc));
			return -1;
		}
		nd = malloc(len + strlen(line) + 1);
		memcpy(nd, data, len);
		memcpy(nd + len, line, strlen(line) + 1);
		zkc_multi_set(m, reg, nd, len + strlen(line), st.version);
		rc = zkc_multi_commit(NULL, zk, m);
		zkc_multi_free(m);
		free(nd);
		zkc_free(data);
		if (rc == ZKC_OK)
			return 0;
		if (rc == ZKC_ELOCKLOST)
			return 1;  /* the guard on our lock node failed inside ZooKeeper */
		if (rc == ZKC_EUNKNOWN || rc == ZKC_ECONNECTIONLOSS) {
			/* did it land? lines are unique */
			while (attempt < 3000) {
				data = NULL;
				rc = zkc_get(&data, &len, NULL, zk, reg);
				if (rc == ZKC_OK)
					break;
				h_backoff(attempt++);
			}
			if (data && has_line(data, line)) {
				zkc_free(data);
				return 0;
			}
			zkc_free(data);
		}
		h_backoff(attempt++);
	}
	WLOG("append gave up: %s", line);
	return -1;
}

/* One ephemeral "alive/<session>" node per session, so the parent can
 * tell when a stopped worker's session has ended on the server. */
static void ensure_canary(zkc_t *zk, const char *alive, int64_t *last)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	int64_t sid = 0;
	char p[512];

	if (zkc_session(&sid, NULL, NULL, zk) != ZKC_OK || sid == *last)
		return;
	co.mode = ZKC_EPHEMERAL;
	snprintf(p, sizeof(p), "%.400s/%llx", alive, (unsigned long long)sid);
	if (zkc_create(NULL, NULL, zk, p, NULL, 0, &co) == ZKC_OK)
		*last = sid;
}

int lock_worker_main(int argc, char **argv)
{
	int64_t canary = 0;
	char alive[512];
	const char *mode, *url, *path, *reg;
	int count, max, expire_at, i, lost = 0, done = 0;
	unsigned seed;
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_lock_options_t lo = ZKC_LOCK_OPTIONS_INIT;
	zkc_lock_t *lk = NULL;
	zkc_rwlock_t *rw = NULL;
	zkc_semaphore_t *sem = NULL;
	char pid[32];
	zkc_t *zk = NULL;
	int rc;

	if (argc < 10) {
		fprintf(stderr, "usage: worker MODE URL PATH REG COUNT ID SEED EXPIRE_AT MAX\n");
		return 2;
	}
	mode = argv[1];
	url = argv[2];
	path = argv[3];
	reg = argv[4];
	count = atoi(argv[5]);
	g_id = atoi(argv[6]);
	seed = (unsigned)strtoul(argv[7], NULL, 10);
	expire_at = atoi(argv[8]);
	max = atoi(argv[9]);
	snprintf(alive, sizeof(alive), "%.*s/alive", (int)(strrchr(reg, '/') - reg), reg);
	o.session_timeout_ms = 4000;
	o.connect_timeout_ms = 60000;
	rc = zkc_open(&zk, url, &o);
	if (rc != ZKC_OK) {
		WLOG("open: %s", zkc_strcode(rc));
		return 3;
	}
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	lo.data = pid;
	lo.data_len = strlen(pid);
	if (strcmp(mode, "mutex") == 0)
		rc = zkc_lock_open(&lk, zk, path, &lo);
	else if (strcmp(mode, "rw") == 0)
		rc = zkc_rwlock_open(&rw, zk, path, &lo);
	else
		rc = zkc_semaphore_open(&sem, zk, path, max, &lo);
	if (rc != ZKC_OK) {
		WLOG("new: %s", zkc_strcode(rc));
		return 3;
	}
	for (i = 0; i < count;) {
		zkc_semaphore_lease_t *lease = NULL;
		zkc_lock_t *use = lk;
		zkc_lock_lease_t ll;
		fence_fn mk = fence_lock;
		void *arg;
		char kind = 'W', line[64];
		long long tok;
		int r;

		ensure_canary(zk, alive, &canary);
		if (rw) {
			int writer = rand_r(&seed) % 10 < 3;

			use = writer ? zkc_rwlock_write(rw) : zkc_rwlock_read(rw);
			kind = writer ? 'W' : 'R';
		}
		if (sem) {
			rc = zkc_semaphore_acquire(&lease, sem, 30000);
			kind = 'L';
			mk = fence_sem;
			arg = lease;
			tok = rc == ZKC_OK ? zkc_semaphore_lease_token(lease) : 0;
		} else {
			rc = zkc_lock_acquire(&ll, use, 30000);
			arg = use;
			tok = rc == ZKC_OK ? ll.token : 0;
		}
		if (rc == ZKC_ETIMEDOUT || rc == ZKC_ELOST || rc == ZKC_ECONNECTIONLOSS) {
			WLOG("acquire: %s, again", zkc_strcode(rc));
			continue;
		}
		if (rc != ZKC_OK) {
			WLOG("acquire: %s", zkc_strcode(rc));
			return 4;
		}
		i++;
		snprintf(line, sizeof(line), "%c %llx S\n", kind, tok);
		r = append(zk, reg, mk, arg, line);
		if (r == 0 && i == expire_at) {
			/* a forced expiry while holding: the end mark must fail */
			rc = zkc_testing_expire_session(zk, 20000);
			WLOG("expired own session at %d: %s", i, zkc_strcode(rc));
		}
		if (r == 0) {
			snprintf(line, sizeof(line), "%c %llx E\n", kind, tok);
			r = append(zk, reg, mk, arg, line);
		}
		if (r < 0)
			return 5;
		if (r == 1)
			lost++;
		else
			done++;
		if (sem) {
			rc = zkc_semaphore_release(lease, 0);
			zkc_semaphore_lease_free(lease);
			lease = NULL;
		} else
			rc = zkc_lock_release(use, 0);
		if (rc != ZKC_OK && rc != ZKC_ELOST) {
			WLOG("release: %s", zkc_strcode(rc));
			return 6;
		}
	}
	zkc_lock_close(lk);
	zkc_rwlock_close(rw);
	zkc_semaphore_close(sem);
	zkc_close(zk);
	WLOG("finished: %d complete, %d lost", done, lost);
	return 0;
}

/* ------------------------------------------------------------ checker */

typedef struct tokstate {
	long long tok;
	int s, e;
} tokstate_t;

/* Checks a register history. Mutex/rwlock (max_leases 0): a writer line
 * must not come after any line of a later-created holder (else two
 * overlapped), and a reader line not after a line of a later-created
 * writer. Semaphore (max_leases N): leases whose end was written (valid to
 * the end) never exceed N at once. Returns 0 or -1 with why. */
int lock_history_check(const char *data, size_t len, int max_leases, char *why, size_t whylen)
{
	long long max_any = -1, max_w = -1;
	const char *p = data, *end = data + len;
	tokstate_t *ts = NULL;
	size_t nts = 0, cap = 0, k;
	int active = 0, lineno = 0, pass;

	for (pass = 0; pass < 2; pass++) {
		p = data;
		lineno = 0;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			char kind, ph;
			long long tok;

			if (!nl)
				break;
			lineno++;
			if (sscanf(p, "%c %llx %c", &kind, &tok, &ph) != 3) {
				snprintf(why, whylen, "line %d malformed", lineno);
				free(ts);
				return -1;
			}
			p = nl + 1;
			if (max_leases == 0 && pass == 0) {
				if (kind == 'W' && tok < max_any) {
					snprintf(why, whylen, "line %d: writer %llx after holder %llx began: overlap",
					         lineno, tok, max_any);
					return -1;
				}
				if (kind == 'R' && tok < max_w) {
					snprintf(why, whylen, "line %d: reader %llx after writer %llx began: overlap",
					         lineno, tok, max_w);
					return -1;
				}
				if (tok > max_any)
					max_any = tok;
				if (kind == 'W' && tok > max_w)
					max_w = tok;
				continue;
			}
			if (max_leases == 0)
				continue;
			for (k = 0; k < nts && ts[k].tok != tok; k++)
				;
			if (pass == 0) {
				if (k == nts) {
					if (nts == cap) {
						cap = cap ? cap * 2 : 256;
						ts = realloc(ts, cap * sizeof(*ts));
					}
					ts[nts].tok = tok;
					ts[nts].s = ts[nts].e = 0;
					nts++;
				}
				if (ph == 'S')
					ts[k].s = 1;
				else
					ts[k].e = 1;
			} else if (k < nts && ts[k].s && ts[k].e) {
				active += ph == 'S' ? 1 : -1;
				if (active > max_leases) {
					snprintf(why, whylen, "line %d: %d leases held at once (max %d)", lineno,
					         active, max_leases);
					free(ts);
					return -1;
				}
			}
		}
	}
	free(ts);
	return 0;
}

/* ------------------------------------------------------------ parent */

static char *self_exe(void)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return NULL;
	buf[n] = 0;
	return strdup(buf);
}

/* Workers still running when a test fails (cmocka jumps out of it) are
 * killed by the group teardown. */
static pid_t g_workers[16];

int lock_fault_teardown(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(g_workers) / sizeof(g_workers[0]); i++) {
		if (g_workers[i] > 0) {
			kill(g_workers[i], SIGKILL);
			waitpid(g_workers[i], NULL, 0);
			g_workers[i] = 0;
		}
	}
	return h_teardown(state);
}

static pid_t spawn(const char *exe, char **args)
{
	pid_t p = fork();

	if (p == 0) {
		h_die_with_parent();
		setenv("ZKC_LOCK_WORKER", "1", 1);
		execv(exe, args);
		_exit(127);
	}
	return p;
}

static int lines_of(zkc_t *zk, const char *reg)
{
	char *d = NULL;
	size_t len = 0, i;
	int n = 0;

	if (zkc_get(&d, &len, NULL, zk, reg) != ZKC_OK)
		return -1;
	for (i = 0; i < len; i++)
		n += d[i] == '\n';
	zkc_free(d);
	return n;
}

static int live_nodes(zkc_t *zk, const char *dir)
{
	zkc_strings_t *c = NULL;
	size_t i;
	int n = 0;

	if (zkc_children(&c, NULL, zk, dir) != ZKC_OK)
		return 0;
	for (i = 0; i < c->count; i++)
		n += strncmp(c->items[i], "_c_", 3) == 0;
	zkc_strings_free(c);
	return n;
}

/* The pid and path of the first contender node in dir (lowest sequence). */
static pid_t first_holder(zkc_t *zk, const char *dir, char *path, size_t plen)
{
	zkc_strings_t *c = NULL;
	long long best = -1;
	size_t i;
	pid_t pid = 0;

	if (zkc_children(&c, NULL, zk, dir) != ZKC_OK)
		return 0;
	for (i = 0; i < c->count; i++) {
		size_t n = strlen(c->items[i]);
		long long s = n >= 10 ? atoll(c->items[i] + n - 10) : -1;

		if (s >= 0 && (best < 0 || s < best)) {
			best = s;
			snprintf(path, plen, "%s/%s", dir, c->items[i]);
		}
	}
	zkc_strings_free(c);
	if (best >= 0) {
		char *d = NULL;

		if (zkc_get(&d, NULL, NULL, zk, path) == ZKC_OK)
			pid = (pid_t)atoi(d);
		zkc_free(d);
	}
	return pid;
}

static int g_status[16];

/* Waits until the register has n lines, or every worker but `except` has
 * ended (their status is kept; their pid turns negative). */
static int progress_at_least(zkc_t *zk, const char *reg, int n, pid_t *pids, int np, pid_t except)
{
	int64_t until = h_now_ms() + h_timeout(120000);
	unsigned a = 0;
	int i, st, running;

	while (h_now_ms() < until) {
		if (lines_of(zk, reg) >= n)
			return 0;
		running = 0;
		for (i = 0; i < np; i++) {
			if (pids[i] > 0 && waitpid(pids[i], &st, WNOHANG) == pids[i]) {
				g_status[i] = st;
				pids[i] = -pids[i];
			}
			running += pids[i] > 0 && pids[i] != except;
		}
		if (!running)
			return 0;
		h_backoff(a++);
	}
	return -1;
}

void lock_fault_run(const char *mode, int workers, int count, int max_leases, unsigned seed,
                    int stop_holder, int broken)
{
	char *base = h_path(mode), *reg = h_join(base, "register"), *lockdir = h_join(base, "lock");
	char *leases = h_join(lockdir, "leases"), *locks = h_join(lockdir, "locks");
	char *alive = h_join(base, "alive");
	char *exe = self_exe();
	const char *watchdir = strcmp(mode, "sem") == 0 ? leases : lockdir;
	pid_t pids[16];
	int status[16];
	int i, total = workers * count * 2, killed = -1, left;
	char why[256], stopped_path[512];
	char *d = NULL;
	size_t len = 0;
	int64_t until;
	zkc_t *zk;

	(void)broken;
	assert_non_null(exe);
	zk = h_open(NULL, NULL);
	assert_int_equal(zkc_create(NULL, NULL, zk, base, NULL, 0, NULL), ZKC_OK);
	assert_int_equal(zkc_create(NULL, NULL, zk, reg, NULL, 0, NULL), ZKC_OK);
	assert_int_equal(zkc_create(NULL, NULL, zk, alive, NULL, 0, NULL), ZKC_OK);
	print_message("# %s: %d workers x %d, seed %u\n", mode, workers, count, seed);
	for (i = 0; i < workers; i++) {
		char cnt[16], id[16], sd[16], ex[16], mx[16];
		char *args[] = { exe, (char *)mode, (char *)h_url(), lockdir, reg, cnt, id, sd, ex, mx, NULL };

		snprintf(cnt, sizeof(cnt), "%d", count);
		snprintf(id, sizeof(id), "%d", i);
		snprintf(sd, sizeof(sd), "%u", seed * 100 + (unsigned)i);
		/* worker 0 force-expires its own session while holding, once */
		snprintf(ex, sizeof(ex), "%d", i == 0 ? count / 3 + (int)(seed % 7) : -1);
		snprintf(mx, sizeof(mx), "%d", max_leases);
		pids[i] = spawn(exe, args);
		assert_true(pids[i] > 0);
		g_workers[i] = pids[i];
	}

	/* fault 1: SIGSTOP the holder past its session timeout */
	if (stop_holder) {
		pid_t victim = 0;
		zkc_stat_t vst;

		assert_int_equal(progress_at_least(zk, reg, total / 8, pids, workers, 0), 0);
		/* the first node's owner, its node still there once stopped */
		until = h_now_ms() + h_timeout(30000);
		while (h_now_ms() < until) {
			victim = first_holder(zk, watchdir, stopped_path, sizeof(stopped_path));
			if (victim <= 0) {
				h_backoff(3);
				continue;
			}
			kill(victim, SIGSTOP);
			if (zkc_exists(&vst, zk, stopped_path) == ZKC_OK)
				break;
			kill(victim, SIGCONT);
			victim = 0;
		}
		if (victim <= 0)
			fail_msg("found no holder to stop");
		{
			char canary[512];

			print_message("# SIGSTOP holder pid %d (%s)\n", (int)victim, stopped_path);
			/* its session expires on the server: its canary goes */
			snprintf(canary, sizeof(canary), "%.400s/%llx", alive,
			         (unsigned long long)vst.ephemeral_owner);
			H_WAIT_UNTIL(zkc_exists(NULL, zk, canary) == ZKC_ENONODE, 30000);
			H_WAIT_UNTIL(zkc_exists(NULL, zk, stopped_path) == ZKC_ENONODE, 30000);
			/* others make progress meanwhile */
			left = lines_of(zk, reg);
			progress_at_least(zk, reg, left + 4, pids, workers, victim);
			kill(victim, SIGCONT);
			print_message("# SIGCONT pid %d\n", (int)victim);
		}
	}

	/* fault 2: kill the leader, then bring it back */
	assert_int_equal(progress_at_least(zk, reg, total / 3, pids, workers, 0), 0);
	{
		killed = h_leader();
		print_message("# killing leader node %d\n", killed);
		assert_int_equal(h_kill(killed), 0);
		if (progress_at_least(zk, reg, total / 2, pids, workers, 0) == 0)
			print_message("# progress without the old leader\n");
		assert_int_equal(h_restart(killed), 0);
	}
	/* every worker finishes */
	until = h_now_ms() + h_timeout(180000);
	for (left = workers; left > 0 && h_now_ms() < until;) {
		left = 0;
		for (i = 0; i < workers; i++) {
			int st;

			if (pids[i] > 0) {
				if (waitpid(pids[i], &st, WNOHANG) == pids[i]) {
					status[i] = st;
					pids[i] = 0;
					g_workers[i] = 0;
				} else {
					left++;
				}
			} else if (pids[i] < 0) {
				status[i] = g_status[i];  /* ended while faults ran */
				pids[i] = 0;
				g_workers[i] = 0;
			}
		}
		if (left)
			h_backoff(20);
	}
	for (i = 0; i < workers; i++) {
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
			g_workers[i] = 0;
			fail_msg("worker %d did not finish", i);
		}
	}
	for (i = 0; i < workers; i++) {
		if (!WIFEXITED(status[i]) || WEXITSTATUS(status[i]) != 0)
			fail_msg("worker %d failed (status 0x%x)", i, status[i]);
	}

	/* the history: no overlap */
	assert_int_equal(zkc_get(&d, &len, NULL, zk, reg), ZKC_OK);
	if (lock_history_check(d, len, max_leases, why, sizeof(why)) != 0)
		fail_msg("history check: %s", why);
	print_message("# %s seed %u: %d register lines, history clean\n", mode, seed,
	              lines_of(zk, reg));
	zkc_free(d);

	/* no contender left behind */
	H_WAIT_UNTIL(live_nodes(zk, watchdir) == 0, 30000);
	if (strcmp(mode, "sem") == 0)
		H_WAIT_UNTIL(live_nodes(zk, locks) == 0, 30000);
	zkc_delete(zk, base, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	free(exe);
	free(base);
	free(reg);
	free(lockdir);
	free(leases);
	free(locks);
	free(alive);
}
