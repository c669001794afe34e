/* tests/integration/test_counter_faults.c - 8 processes add 250 times each
 * to one counter while the ZooKeeper leader is killed and one adder is
 * SIGKILLed mid-run: the final value equals the acknowledged adds plus the
 * ZKC_EUNKNOWN (and killed in-flight) adds the checker resolves.
 *
 * How unknown outcomes are resolved: the counter node is created at version
 * 0 and every applied add bumps its version by exactly one, so each version
 * 1..V (V the final version) was written by exactly one add. An acknowledged
 * add reports the version it wrote; an unknown one the version it tried to
 * write. Versions nobody acknowledged must each be matched to an unknown
 * add that tried it (or to a killed worker's in-flight add), and the deltas
 * (distinct, some negative) must then sum to the final value exactly.
 *
 * Workers are this binary re-executed with ZKC_CTR_WORKER=<id>; each
 * appends "T k delta" before and "R k code version" after every add to its
 * own log (ZKC_CTR_BROKEN=1 plants a lost increment to prove the checker bites). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"

#define WORKERS 8
#define ADDS 250
#define MAXV (WORKERS * ADDS + 16)

static int64_t delta_of(int id, int k)
{
	int64_t d = (int64_t)((id * 37 + k * 11) % 1000) + 1;

	return k % 4 == 3 ? -d : d;
}

/* ------------------------------------------------------------ worker */

static void wlog(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wlog(int fd, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && write(fd, buf, (size_t)n) != n)
		_exit(3);
}

static int worker_main(void)
{
	int id = atoi(getenv("ZKC_CTR_WORKER"));
	const char *path = getenv("ZKC_CTR_PATH"), *logp = getenv("ZKC_CTR_LOG");
	int broken = getenv("ZKC_CTR_BROKEN") != NULL;
	zkc_counter_t *c = NULL;
	zkc_t *w = NULL;
	int fd, k, rc;

	fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0 || zkc_open(&w, NULL, NULL) != ZKC_OK)
		return 2;
	if (zkc_counter_open(&c, w, path, NULL) != ZKC_OK)
		return 2;
	for (k = 0; k < ADDS; k++) {
		zkc_counter_outcome_t o = { 0, 0, 0 };
		int64_t d = delta_of(id, k);

		/* planted fault: one add's effect differs from what it claims */
		wlog(fd, "T %d %lld\n", k, (long long)(broken && id == 2 && k == 10 ? d + 1 : d));
		rc = zkc_counter_add_ex(&o, c, d);
		wlog(fd, "R %d %d %d\n", k, rc, (int)o.version);
	}
	zkc_counter_close(c);
	zkc_close(w);
	close(fd);
	return 0;
}

/* ------------------------------------------------------------ checker */

typedef struct add_rec {
	int64_t delta;
	int state;       /* 0 none, 1 tried (no result: killed in flight), 2 done */
	int code;
	int version;
} add_rec_t;

static add_rec_t recs[WORKERS][ADDS];

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = 0;
	fclose(f);
	return buf;
}

/* Parses the logs into recs; returns the number of finished adds. */
static int load_logs(const char *dir)
{
	int w, done = 0;

	memset(recs, 0, sizeof(recs));
	for (w = 0; w < WORKERS; w++) {
		char path[512], *data, *line, *save = NULL;

		snprintf(path, sizeof(path), "%s/w%d.log", dir, w);
		data = slurp(path);
		if (!data)
			continue;
		for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			int k, code, ver;
			long long d;

			if (sscanf(line, "T %d %lld", &k, &d) == 2 && k >= 0 && k < ADDS) {
				recs[w][k].delta = d;
				recs[w][k].state = 1;
			} else if (sscanf(line, "R %d %d %d", &k, &code, &ver) == 3 && k >= 0 && k < ADDS) {
				recs[w][k].state = 2;
				recs[w][k].code = code;
				recs[w][k].version = ver;
				done++;
			}
		}
		free(data);
	}
	return done;
}

typedef struct slot {
	int n;
	int64_t cand[WORKERS * 2 + 4];
} slot_t;

/* Chooses one candidate delta per unclaimed version so the sum is `want`;
 * in-flight adds (any version, once each) come after the targeted ones. */
static int solve(slot_t *s, int ns, int i, int64_t want, int64_t *inflight, int ninf,
                 unsigned used, long *budget)
{
	int j;

	if (--*budget < 0)
		return 0;
	if (i == ns)
		return want == 0;
	for (j = 0; j < s[i].n; j++)
		if (solve(s, ns, i + 1, want - s[i].cand[j], inflight, ninf, used, budget))
			return 1;
	for (j = 0; j < ninf; j++)
		if (!(used & (1u << j)) &&
		    solve(s, ns, i + 1, want - inflight[j], inflight, ninf, used | (1u << j), budget))
			return 1;
	return 0;
}

/* 0 when the history explains the final value exactly; else -1 with why. */
static int check(const char *dir, int64_t final_value, int final_version, int killed,
                 char *why, size_t whylen)
{
	static unsigned char claimed[MAXV];
	static slot_t slots[MAXV];
	int64_t acked = 0, inflight[WORKERS];
	int w, k, v, ninf = 0, nslots = 0, nunknown = 0;
	long budget = 1000000;

	load_logs(dir);
	memset(claimed, 0, sizeof(claimed));
	if (final_version < 0 || final_version >= MAXV) {
		snprintf(why, whylen, "final version %d out of range", final_version);
		return -1;
	}
	for (w = 0; w < WORKERS; w++)
		for (k = 0; k < ADDS; k++) {
			add_rec_t *r = &recs[w][k];

			if (r->state == 2 && r->code == ZKC_OK) {
				if (r->version < 1 || r->version > final_version || claimed[r->version]) {
					snprintf(why, whylen, "worker %d add %d acknowledged version %d "
					    "(final %d)%s", w, k, r->version, final_version,
					    r->version > 0 && r->version < MAXV && claimed[r->version] ?
					    ", claimed twice" : "");
					return -1;
				}
				claimed[r->version] = 1;
				acked += r->delta;
			} else if (r->state == 1) {
				if (w != killed) {
					snprintf(why, whylen, "worker %d add %d has no result", w, k);
					return -1;
				}
				inflight[ninf++] = r->delta;
			}
		}
	for (v = 1; v <= final_version; v++) {
		slot_t *s;

		if (claimed[v])
			continue;
		s = &slots[nslots++];
		s->n = 0;
		for (w = 0; w < WORKERS; w++)
			for (k = 0; k < ADDS; k++) {
				add_rec_t *r = &recs[w][k];

				if (r->state == 2 && r->code == ZKC_EUNKNOWN && r->version == v &&
				    s->n < (int)(sizeof(s->cand) / sizeof(s->cand[0])))
					s->cand[s->n++] = r->delta;
			}
		if (s->n == 0 && ninf == 0) {
			snprintf(why, whylen, "version %d was written by no known add", v);
			return -1;
		}
	}
	for (w = 0; w < WORKERS; w++)
		for (k = 0; k < ADDS; k++)
			nunknown += recs[w][k].state == 2 && recs[w][k].code == ZKC_EUNKNOWN;
	print_message("# counter: final %lld at version %d; acked sum %lld; %d unknown, "
	    "%d in flight, %d versions resolved from them\n", (long long)final_value,
	    final_version, (long long)acked, nunknown, ninf, nslots);
	if (!solve(slots, nslots, 0, final_value - acked, inflight, ninf, 0, &budget)) {
		snprintf(why, whylen, "final value %lld is not the acknowledged sum %lld plus "
		    "one unknown add per unclaimed version (%d of them)", (long long)final_value,
		    (long long)acked, nslots);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ parent */

static pid_t spawn(int id, const char *url, const char *path, const char *dir)
{
	char exe[4096], logp[600], ids[16];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	pid_t pid;

	if (n <= 0)
		return -1;
	exe[n] = 0;
	snprintf(logp, sizeof(logp), "%s/w%d.log", dir, id);
	snprintf(ids, sizeof(ids), "%d", id);
	pid = fork();
	if (pid == 0) {
		char *args[] = { exe, NULL };

		h_die_with_parent();
		setenv("ZKC_CTR_WORKER", ids, 1);
		setenv("ZKC_CTR_PATH", path, 1);
		setenv("ZKC_CTR_LOG", logp, 1);
		setenv("ZKC_URL", url, 1);
		execv(exe, args);
		_exit(127);
	}
	return pid;
}

static const char *g_dir;
static int progress_at_least(void *arg)
{
	return load_logs(g_dir) >= *(int *)arg;
}

static void run_once(unsigned seed)
{
	char dir[] = "/tmp/zkct_ctrXXXXXX", url[1024], *p = h_path("ctrfault"), why[512];
	pid_t pids[WORKERS];
	zkc_counter_t *c = NULL;
	zkc_stat_t st;
	char *data = NULL;
	size_t len = 0;
	int64_t final_value;
	int i, killed_node, victim = (int)(seed % WORKERS), target;
	zkc_t *zk = h_open(NULL, NULL);

	assert_non_null(mkdtemp(dir));
	g_dir = dir;
	snprintf(url, sizeof(url), "%s?session_timeout=4s", h_url());
	assert_int_equal(zkc_counter_open(&c, zk, p, NULL), ZKC_OK);
	assert_int_equal(zkc_counter_set(c, 0), ZKC_OK);   /* created at version 0 */
	for (i = 0; i < WORKERS; i++) {
		pids[i] = spawn(i, url, p, dir);
		assert_true(pids[i] > 0);
	}
	target = WORKERS * ADDS / 5;
	assert_int_equal(h_wait_until(progress_at_least, &target, 60000), 0);
	killed_node = h_leader();
	assert_true(killed_node >= 0);
	assert_int_equal(h_kill(killed_node), 0);
	target = WORKERS * ADDS / 2;
	assert_int_equal(h_wait_until(progress_at_least, &target, 60000), 0);
	kill(pids[victim], SIGKILL);
	waitpid(pids[victim], NULL, 0);
	pids[victim] = 0;
	assert_int_equal(h_restart(killed_node), 0);
	for (i = 0; i < WORKERS; i++) {
		int64_t deadline = h_now_ms() + h_timeout(90000);
		int status = 0;
		unsigned t = 0;

		if (!pids[i])
			continue;
		while (waitpid(pids[i], &status, WNOHANG) == 0) {
			if (h_now_ms() > deadline) {
				kill(pids[i], SIGKILL);
				waitpid(pids[i], &status, 0);
				fail_msg("worker %d did not finish", i);
			}
			h_backoff(t++);
		}
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(zkc_get(&data, &len, &st, zk, p), ZKC_OK);
	assert_int_equal(zkc_counter_decode(&final_value, data, len), ZKC_OK);
	zkc_free(data);
	if (check(dir, final_value, st.version, victim, why, sizeof(why)) != 0)
		fail_msg("seed %u: %s (logs in %s)", seed, why, dir);
	for (i = 0; i < WORKERS; i++) {
		char lp[600];

		snprintf(lp, sizeof(lp), "%s/w%d.log", dir, i);
		unlink(lp);
	}
	rmdir(dir);
	zkc_counter_close(c);
	zkc_delete(zk, p, -1, 0);
	zkc_close(zk);
	free(p);
}

static void test_eight_processes_lose_and_duplicate_no_add_under_faults(void **state)
{
	(void)state;
	H_NEED_OWN_ENSEMBLE();
	h_each_seed("ZKC_COUNTER_SEEDS", run_once);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eight_processes_lose_and_duplicate_no_add_under_faults),
	};

	if (getenv("ZKC_CTR_WORKER"))
		return worker_main();
	return cmocka_run_group_tests_name("counter_faults", tests, h_setup_3, h_teardown);
}
