/* tests/integration/test_open_close.c - 10,000 clients opened and closed
 * with requests and watches still pending: every batch completion and
 * every registered watch is called exactly once (by the time zkc_close
 * returns), and the process keeps no file descriptor, thread or memory
 * from the clients it closed. */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

#ifndef CYCLES                /* -DCYCLES=N for a longer run by hand */
#define CYCLES 10000
#endif
#define WORKERS 4
#define PHASES 10
#ifdef ONE_KIND                /* -DONE_KIND=K: only cycles of kind K */
#define KIND_OF(n) (ONE_KIND)
#else
#define KIND_OF(n) ((n) % 3)
#endif
/* watches per cycle: two set by blocking calls, three by batch ops */
#define SYNC_WATCHES 2
#define BATCH_WATCHES 3
/* Resident memory may grow this much from the end of the first phase to
 * the end of the last (9,000 cycles). Seen here: 0.2 MB over those 9,000,
 * levelling off, with LeakSanitizer finding nothing (before zkc_close let
 * the server answer what was in flight, libzookeeper leaked those
 * requests' entries: 0.7 MB, and LeakSanitizer named them). Leaking 1 kB
 * per client, far less than one client's handle, would cross the bound. */
#define RSS_GROWTH_MAX_KB (8 * 1024)
/* Under ASan freed memory sits in its quarantine (256 MB) and TSan keeps
 * shadow memory: resident size says nothing there, and LeakSanitizer
 * checks for leaks directly at exit. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RSS_CHECKED 0
#else
#define RSS_CHECKED 1
#endif

static char *root;
/* The clients' watches are on nodes that nobody changes: dirs[w] (one per
 * worker) and `missing`; their ephemeral nodes go to `eph_dir`, which nobody
 * watches. So every watch ends cancelled by the close. libzookeeper 3.8
 * leaks a watch event that arrives while its handle closes (queued after
 * its completion thread stopped): when the ephemeral nodes went into the
 * watched directory, the removal of the last client's node at its
 * session's end fired the next client's child watch, and LeakSanitizer
 * found 2 such events in 10,000 cycles. zkc_close waits for replies in
 * flight, but cannot keep a server from sending an event. */
static char *dirs[WORKERS], *eph_dir;
static char *missing;    /* never exists */
static atomic_int next_cycle;
static atomic_int failures;

#if defined(__SANITIZE_ADDRESS__)
/* libzookeeper 3.8.0 loses one more thing at close, which zkc cannot
 * prevent: zookeeper_close stops the completion thread, and an event that
 * the I/O thread queues after that (the session event of the connection
 * the server closes after closeSession) is never delivered or freed. Seen
 * about once in 3,000 closes with a batch in flight. These entries are
 * allocated inside zookeeper_process, on libzookeeper's I/O thread, so
 * only they are suppressed here; what zkc's threads make the library
 * allocate (requests, watch registrations: the leak zkc_close's drain
 * removed) is still reported. Full unwinding is needed to see that frame:
 * Debian's library has no frame pointers. */
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);

const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

const char *__lsan_default_suppressions(void)
{
	return "leak:zookeeper_process\n";
}
#endif

typedef struct cycle {
	atomic_int done_calls;
	atomic_int sync_calls[SYNC_WATCHES];
	atomic_int batch_calls[BATCH_WATCHES];
	int batch_watch_set[BATCH_WATCHES];  /* written by the done callback */
	atomic_int done_seen;
} cycle_t;

static void count_watch(zkc_t *zk, const zkc_event_t *ev, void *payload)
{
	(void)zk;
	(void)ev;
	atomic_fetch_add((atomic_int *)payload, 1);
}

static void batch_done(zkc_t *zk, const zkc_batch_t *b, void *payload)
{
	cycle_t *c = payload;
	int get = zkc_batch_code(b, 0), exists = zkc_batch_code(b, 1), kids = zkc_batch_code(b, 2);

	(void)zk;
	/* a batch op's watch is set only if the op succeeded (exists: also
	 * when the node is missing) */
	c->batch_watch_set[0] = get == ZKC_OK;
	c->batch_watch_set[1] = exists == ZKC_OK || exists == ZKC_ENONODE;
	c->batch_watch_set[2] = kids == ZKC_OK;
	atomic_store(&c->done_seen, 1);
	atomic_fetch_add(&c->done_calls, 1);
}

static void bad(int cycle, const char *what, int got)
{
	if (atomic_fetch_add(&failures, 1) < 10)
		fprintf(stderr, "# cycle %d: %s (%d)\n", cycle, what, got);
}

/* One client's life. Three kinds, by cycle number: closed while the first
 * connection is still being made (requests queued, not yet sent);
 * closed with a batch in flight; closed after its batch answered, with
 * its watches left. */
static void one_cycle(int n, const char *dir)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_create_options_t eph = ZKC_CREATE_OPTIONS_INIT;
	int kind = KIND_OF(n), sync_set[SYNC_WATCHES] = { 0, 0 }, i, rc;
	zkc_batch_t *b = NULL;
	zkc_t *zk = NULL;
	cycle_t c;
	char *kid;

	memset(&c, 0, sizeof c);
	eph.mode = ZKC_EPHEMERAL_SEQUENTIAL;
	o.connect_timeout_ms = kind == 0 ? -1 : 0;
	if ((rc = zkc_open(&zk, h_url(), &o)) != ZKC_OK) {
		bad(n, "open failed", rc);
		return;
	}
	if (kind != 0) {
		sync_set[0] = zkc_get_w(NULL, NULL, NULL, zk, dir, count_watch,
		    &c.sync_calls[0]) == ZKC_OK;
		rc = zkc_exists_w(NULL, zk, missing, count_watch, &c.sync_calls[1]);
		sync_set[1] = rc == ZKC_OK || rc == ZKC_ENONODE;
		if (!sync_set[0] || !sync_set[1])
			bad(n, "a blocking watch was not set", rc);
	}
	kid = h_join(eph_dir, "e-");
	if (zkc_batch_new(&b) != ZKC_OK || zkc_batch_get(b, dir, 1, count_watch, &c.batch_calls[0]) != 0 ||
	    zkc_batch_exists(b, missing, 1, count_watch, &c.batch_calls[1]) != 1 ||
	    zkc_batch_children(b, dir, 1, count_watch, &c.batch_calls[2]) != 2 ||
	    zkc_batch_create(b, kid, "x", 1, &eph) != 3) {
		bad(n, "batch not built", 0);
		zkc_batch_free(b);
		b = NULL;
	}
	free(kid);
	if (b && (rc = zkc_batch_run_async(zk, b, batch_done, &c)) != ZKC_OK) {
		bad(n, "zkc_batch_run_async refused", rc);
		zkc_batch_free(b);
		b = NULL;
	}
	if (b && kind == 2) {
		int64_t deadline = h_now_ms() + h_timeout(H_TIMEOUT_MS);
		unsigned t;

		for (t = 0; !atomic_load(&c.done_seen) && h_now_ms() < deadline; t++)
			h_backoff(t);
	}
	zkc_close(zk);

	/* every callback has run, once, by the time zkc_close returns */
	if (b && atomic_load(&c.done_calls) != 1)
		bad(n, "batch completion calls", atomic_load(&c.done_calls));
	for (i = 0; i < SYNC_WATCHES; i++)
		if (atomic_load(&c.sync_calls[i]) != sync_set[i])
			bad(n, "blocking call's watch calls", atomic_load(&c.sync_calls[i]));
	for (i = 0; i < BATCH_WATCHES; i++)
		if (atomic_load(&c.batch_calls[i]) != (b ? c.batch_watch_set[i] : 0))
			bad(n, "batch watch calls", atomic_load(&c.batch_calls[i]));
}

typedef struct work { int end; int w; } work_t;

static void *worker(void *arg)
{
	work_t *wk = arg;
	int n;

	while ((n = atomic_fetch_add(&next_cycle, 1)) < wk->end)
		one_cycle(n, dirs[wk->w]);
	return NULL;
}

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static long rss_kb(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld %ld", &pages, &resident), 2);
	fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_open_close_with_pending_work_leaves_nothing(void **state)
{
	zkc_t *zk = h_open(NULL, NULL);
	int fds0 = 0, threads0 = 0, phase, i;
	long rss0 = 0, rss = 0;
	(void)state;

	root = h_path("oc");
	missing = h_join(root, "never");
	assert_int_equal(zkc_create(NULL, NULL, zk, root, "r", 1, NULL), ZKC_OK);
	eph_dir = h_join(root, "eph");
	assert_int_equal(zkc_create(NULL, NULL, zk, eph_dir, NULL, 0, NULL), ZKC_OK);
	for (i = 0; i < WORKERS; i++) {
		char name[16];

		snprintf(name, sizeof name, "w%d", i);
		dirs[i] = h_join(root, name);
		assert_int_equal(zkc_create(NULL, NULL, zk, dirs[i], "d", 1, NULL), ZKC_OK);
	}
	zkc_close(zk);

	for (phase = 1; phase <= PHASES; phase++) {
		pthread_t t[WORKERS];
		work_t wk[WORKERS];
		int end = CYCLES / PHASES * phase;

		for (i = 0; i < WORKERS; i++) {
			wk[i].end = end;
			wk[i].w = i;
			assert_int_equal(pthread_create(&t[i], NULL, worker, &wk[i]), 0);
		}
		for (i = 0; i < WORKERS; i++)
			pthread_join(t[i], NULL);
		assert_int_equal(atomic_load(&failures), 0);
		if (phase == 1) {
			fds0 = count_dir("/proc/self/fd");
			threads0 = count_dir("/proc/self/task");
			rss0 = rss_kb();
		}
		rss = rss_kb();
		print_message("# after %d cycles: %d fds, %d threads, RSS %ld kB\n", end,
		    count_dir("/proc/self/fd"), count_dir("/proc/self/task"), rss);
		/* between phases no client is open: what the first phase left
		 * is all there may be */
		assert_int_equal(count_dir("/proc/self/fd"), fds0);
		assert_int_equal(count_dir("/proc/self/task"), threads0);
	}
	assert_int_equal(atomic_load(&next_cycle) >= CYCLES, 1);
	print_message("# RSS grew %ld kB over the last %d cycles (bound %d kB)\n", rss - rss0,
	    CYCLES - CYCLES / PHASES, RSS_GROWTH_MAX_KB);
	if (RSS_CHECKED)
		assert_true(rss - rss0 <= RSS_GROWTH_MAX_KB);
	for (i = 0; i < WORKERS; i++)
		free(dirs[i]);
	free(eph_dir);
	free(missing);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_close_with_pending_work_leaves_nothing),
	};

	return cmocka_run_group_tests(tests, h_setup_shared, h_teardown);
}
