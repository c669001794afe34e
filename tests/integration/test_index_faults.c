/* tests/integration/test_index_faults.c - 4 processes put, update and
 * delete random records of one collection (a unique field among them, so
 * puts conflict) while the ZooKeeper leader is killed, one worker's session
 * is expired and another worker is SIGKILLed mid-run. Afterwards verify
 * finds the index and the data in agreement, and every lookup - from a
 * fresh handle and from one whose cache lived through the faults - equals
 * a scan of the records.
 *
 * Workers are this binary re-executed with ZKC_IX_WORKER=<id>; each
 * appends "R k code" after every operation to its own log (the parent
 * waits on the count) and exits non-zero on a code no operation may give
 * (ZKC_EDATAINCONSISTENCY above all). Seeds: ZKC_INDEX_SEEDS="1 2 3".
 * ZKC_IX_BROKEN=1 plants a write outside a transaction (worker 0 creates a
 * stray entry) to prove the final check bites. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "test_index_check.h"

#define WORKERS 4
#define OPS 150
#define IDS 24

static const zkc_index_field_t schema[] = {
	{ "color", 0 },
	{ "email", ZKC_INDEX_UNIQUE },
	{ "size", 0 },
};

/* ------------------------------------------------------------ worker */

static int worker_main(void)
{
	static const char *const colors[] = { "red", "green", "blue", "a/b", "" };
	int id = atoi(getenv("ZKC_IX_WORKER"));
	unsigned seed = (unsigned)atoi(getenv("ZKC_IX_SEED")) * 7919u + (unsigned)id;
	const char *path = getenv("ZKC_IX_PATH"), *logp = getenv("ZKC_IX_LOG");
	zkc_index_options_t o = ZKC_INDEX_OPTIONS_INIT;
	zkc_index_t *ix = NULL;
	zkc_t *w = NULL;
	int fd, k, rc, bad = 0;

	fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0 || zkc_open(&w, NULL, NULL) != ZKC_OK)
		return 2;
	o.cache = id % 2;  /* half the workers keep a cache through the faults */
	if (zkc_index_open(&ix, w, path, &o) != ZKC_OK)
		return 2;
	for (k = 0; k < OPS; k++) {
		char rid[16], em[16], sz[8], line[64];
		zkc_index_kv_t kv[3];
		size_t n = 0;
		int r = (int)(rand_r(&seed) % 10), len;

		/* ids with '/' and NUL bytes: the encoding is under test too */
		len = snprintf(rid, sizeof(rid), "r/%d", (int)(rand_r(&seed) % IDS));
		rid[1] = (char)(rand_r(&seed) % 2 ? '/' : 0);
		if (id == 1 && k == OPS / 3 && zkc_testing_expire_session(w, 30000) != ZKC_OK)
			return 5;  /* the fault did not happen: the run proves less */
		if (id == 0 && k == OPS / 2 && getenv("ZKC_IX_BROKEN")) {
			char stray[1200];

			snprintf(stray, sizeof(stray), "%s/idx/color/red+stray", path);
			zkc_create(NULL, NULL, w, stray, NULL, 0, NULL);
		}
		if (r < 2) {
			rc = zkc_index_delete(ix, rid, (size_t)len, 0);
		} else {
			kv[n].name = "color";
			kv[n].value = colors[rand_r(&seed) % 5];
			kv[n].len = strlen(kv[n].value);
			n++;
			if (rand_r(&seed) % 2) {
				snprintf(em, sizeof(em), "e%d@x", (int)(rand_r(&seed) % 12));
				kv[n].name = "email";
				kv[n].value = em;
				kv[n].len = strlen(em);
				n++;
			}
			if (rand_r(&seed) % 3) {
				sz[0] = (char)(rand_r(&seed) % 4);  /* binary values */
				sz[1] = (char)0xff;
				kv[n].name = "size";
				kv[n].value = sz;
				kv[n].len = 2;
				n++;
			}
			rc = zkc_index_put(ix, rid, (size_t)len, "0123456789abcdef0123456789abcdef0123456789",
			                   (size_t)(rand_r(&seed) % 40), kv, n,
			                   r == 9 ? ZKC_INDEX_CREATE : 0);
		}
		if (rc != ZKC_OK && rc != ZKC_ENODEEXISTS && rc != ZKC_ENONODE && rc != ZKC_EUNKNOWN &&
		    rc != ZKC_ETIMEDOUT)
			bad = 1;
		len = snprintf(line, sizeof(line), "R %d %d\n", k, rc);
		if (write(fd, line, (size_t)len) != len)
			return 3;
	}
	zkc_index_close(ix);
	zkc_close(w);
	close(fd);
	return bad ? 4 : 0;
}

/* ------------------------------------------------------------ parent */

static const char *g_dir;

/* Operations finished by all workers, from their logs. */
static int progress(void)
{
	int w, n = 0;

	for (w = 0; w < WORKERS; w++) {
		char p[600], buf[8192];
		ssize_t got;
		int fd;

		snprintf(p, sizeof(p), "%s/w%d.log", g_dir, w);
		fd = open(p, O_RDONLY);
		if (fd < 0)
			continue;
		while ((got = read(fd, buf, sizeof(buf))) > 0)
			for (ssize_t i = 0; i < got; i++)
				n += buf[i] == '\n';
		close(fd);
	}
	return n;
}

static int progress_at_least(void *arg)
{
	return progress() >= *(int *)arg;
}

/* Counts each code in the workers' logs into the test output. */
static void summary(void)
{
	int w, counts[4] = { 0, 0, 0, 0 };

	for (w = 0; w < WORKERS; w++) {
		char p[600], line[64];
		FILE *f;

		snprintf(p, sizeof(p), "%s/w%d.log", g_dir, w);
		if (!(f = fopen(p, "r")))
			continue;
		while (fgets(line, sizeof(line), f)) {
			int k, rc;

			if (sscanf(line, "R %d %d", &k, &rc) != 2)
				continue;
			counts[rc == ZKC_OK ? 0 : rc == ZKC_ENODEEXISTS || rc == ZKC_ENONODE ? 1 :
			       rc == ZKC_EUNKNOWN ? 2 : 3]++;
		}
		fclose(f);
		unlink(p);
	}
	print_message("# index faults: %d ok, %d refused (exists/no node), %d unknown, %d "
	              "timed out\n", counts[0], counts[1], counts[2], counts[3]);
}

static pid_t spawn(int id, unsigned seed, const char *url, const char *path, const char *dir)
{
	char exe[4096], logp[600], ids[16], seeds[16];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	pid_t pid;

	if (n <= 0)
		return -1;
	exe[n] = 0;
	snprintf(logp, sizeof(logp), "%s/w%d.log", dir, id);
	snprintf(ids, sizeof(ids), "%d", id);
	snprintf(seeds, sizeof(seeds), "%u", seed);
	pid = fork();
	if (pid == 0) {
		char *args[] = { exe, NULL };

		h_die_with_parent();
		setenv("ZKC_IX_WORKER", ids, 1);
		setenv("ZKC_IX_SEED", seeds, 1);
		setenv("ZKC_IX_PATH", path, 1);
		setenv("ZKC_IX_LOG", logp, 1);
		setenv("ZKC_URL", url, 1);
		execv(exe, args);
		_exit(127);
	}
	return pid;
}

static void run_once(unsigned seed)
{
	char dir[] = "/tmp/zkct_ixXXXXXX", url[1024], *p = h_path("ixfault");
	pid_t pids[WORKERS];
	zkc_index_t *live = NULL, *fresh = NULL;
	int i, killed_node, victim = 2 + (int)(seed % 2), target;
	size_t nrec;
	zkc_t *zk = h_open(NULL, NULL);

	assert_non_null(mkdtemp(dir));
	g_dir = dir;
	snprintf(url, sizeof(url), "%s?session_timeout=4s", h_url());
	assert_int_equal(zkc_index_create(zk, p, schema, 3), ZKC_OK);
	assert_int_equal(zkc_index_open(&live, zk, p, NULL), ZKC_OK);
	for (i = 0; i < WORKERS; i++) {
		pids[i] = spawn(i, seed, url, p, dir);
		assert_true(pids[i] > 0);
	}
	target = WORKERS * OPS / 5;
	assert_int_equal(h_wait_until(progress_at_least, &target, 90000), 0);
	killed_node = h_leader();
	assert_true(killed_node >= 0);
	assert_int_equal(h_kill(killed_node), 0);
	target = WORKERS * OPS / 2;
	assert_int_equal(h_wait_until(progress_at_least, &target, 90000), 0);
	kill(pids[victim], SIGKILL);
	waitpid(pids[victim], NULL, 0);
	pids[victim] = 0;
	assert_int_equal(h_restart(killed_node), 0);
	for (i = 0; i < WORKERS; i++) {
		int64_t deadline = h_now_ms() + h_timeout(120000);
		int status = 0;
		unsigned t = 0;

		if (!pids[i])
			continue;
		while (waitpid(pids[i], &status, WNOHANG) == 0) {
			if (h_now_ms() > deadline) {
				kill(pids[i], SIGKILL);
				waitpid(pids[i], &status, 0);
				fail_msg("seed %u: worker %d did not finish", seed, i);
			}
			h_backoff(t++);
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("seed %u: worker %d exited with status %d (4: an operation gave a "
			         "code none may give; 5: the session expiry failed)", seed, i, status);
	}
	summary();
	rmdir(dir);

	/* the index and the data agree, as a scan of both shows */
	chk_verify_clean(live);
	assert_int_equal(zkc_index_open(&fresh, zk, p, NULL), ZKC_OK);
	assert_int_equal(zkc_index_sync(fresh, 30000), ZKC_OK);
	nrec = chk_lookups_match_scan(zk, fresh, p);
	assert_true(nrec > 0);
	/* and so does the cache that lived through the faults */
	assert_int_equal(zkc_index_sync(live, 30000), ZKC_OK);
	chk_lookups_match_scan(zk, live, p);
	print_message("# index faults: seed %u, %zu records at the end\n", seed, nrec);
	zkc_index_close(fresh);
	zkc_index_close(live);
	assert_int_equal(zkc_index_drop(zk, p), ZKC_OK);
	zkc_close(zk);
	free(p);
}

static void test_four_processes_under_faults_leave_index_and_data_in_agreement(void **state)
{
	(void)state;
	H_NEED_OWN_ENSEMBLE();
	h_each_seed("ZKC_INDEX_SEEDS", run_once);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_four_processes_under_faults_leave_index_and_data_in_agreement),
	};

	if (getenv("ZKC_IX_WORKER"))
		return worker_main();
	return cmocka_run_group_tests_name("index_faults", tests, h_setup_3, h_teardown);
}
