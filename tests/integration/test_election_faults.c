/* tests/integration/test_election_faults.c - five candidates in separate
 * processes (elect_worker) on a 3-node ensemble, through a killed ZooKeeper
 * leader, a candidate SIGSTOPped past its session timeout and a force-expired
 * session: at most one leader per epoch, epochs grow, valid leaderships never
 * overlap, fenced writes stay in epoch order, and a leader is back within a
 * bound after each fault. */
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
#include <time.h>
#include <unistd.h>

#include "client.h"

#define NW 5
#define SESSION_MS 4000
/* A leader must be back this long after a fault ends: the old session's
 * expiry (SESSION_MS) plus reconnection and one round of the election. */
#define LEADER_BOUND_MS (2 * SESSION_MS + 4000)

/* ------------------------------------------------------------ the checker */

typedef struct ivl {
	int worker;
	long long epoch, start, end;
} ivl_t;

static int by_start(const void *a, const void *b)
{
	const ivl_t *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Checks leadership intervals; 0 if they are sound, else -1 with why. */
static int check_intervals(ivl_t *v, size_t n, char *why, size_t len)
{
	size_t i, j;

	qsort(v, n, sizeof(*v), by_start);
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			const ivl_t *a = &v[i], *b = &v[j];

			if (a->worker == b->worker) {
				if (b->epoch < a->epoch) {
					snprintf(why, len, "worker %d: epoch %lld after %lld",
					    a->worker, b->epoch, a->epoch);
					return -1;
				}
				continue;
			}
			if (a->epoch == b->epoch) {
				snprintf(why, len, "epoch %lld led by workers %d and %d",
				    a->epoch, a->worker, b->worker);
				return -1;
			}
			if (b->epoch < a->epoch) {
				snprintf(why, len, "epoch %lld (worker %d) began after epoch "
				    "%lld (worker %d)", b->epoch, b->worker, a->epoch, a->worker);
				return -1;
			}
			if (b->start < a->end) {
				snprintf(why, len, "worker %d [%lld,%lld] epoch %lld overlaps "
				    "worker %d [%lld,%lld] epoch %lld", a->worker, a->start, a->end,
				    a->epoch, b->worker, b->start, b->end, b->epoch);
				return -1;
			}
		}
	}
	return 0;
}

static void test_checker_finds_planted_faults(void **state)
{
	ivl_t ok[] = { { 0, 10, 0, 100 }, { 1, 20, 100, 200 }, { 0, 30, 250, 300 },
		{ 0, 30, 310, 400 } };
	ivl_t overlap[] = { { 0, 10, 0, 100 }, { 1, 20, 99, 200 } };
	ivl_t shared[] = { { 0, 10, 0, 100 }, { 1, 10, 150, 200 } };
	ivl_t backwards[] = { { 0, 20, 0, 100 }, { 1, 10, 150, 200 } };
	char why[256];
	(void)state;

	assert_int_equal(check_intervals(ok, 4, why, sizeof(why)), 0);
	assert_int_equal(check_intervals(overlap, 2, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "overlaps"));
	assert_int_equal(check_intervals(shared, 2, why, sizeof(why)), -1);
	assert_int_equal(check_intervals(backwards, 2, why, sizeof(why)), -1);
}

/* ------------------------------------------------------------ workers */

typedef struct worker {
	pid_t pid;
	char id[16];
	char log[512];
} worker_t;

static worker_t w[NW];
static char tmpdir[256];

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int elect_worker_main(int argc, char **argv);   /* elect_worker.c */

/* Each candidate is this program again, run with --worker. */
static void spawn(int i, const char *path, const char *fence)
{
	char tmo[16];

	snprintf(w[i].id, sizeof(w[i].id), "w%d", i);
	snprintf(w[i].log, sizeof(w[i].log), "%s/%s.log", tmpdir, w[i].id);
	snprintf(tmo, sizeof(tmo), "%d", SESSION_MS);
	w[i].pid = fork();
	assert_true(w[i].pid >= 0);
	if (w[i].pid == 0) {
		h_die_with_parent();
		execl("/proc/self/exe", "elect_worker", "--worker", h_url(), path, w[i].id,
		    w[i].log, fence, tmo, (char *)NULL);
		_exit(127);
	}
}

/* What a worker's log says: intervals (closed at exit or now), whether it
 * leads now, with which epoch, and the time of its last gain. */
typedef struct wlog {
	ivl_t iv[256];
	size_t n;
	int leading, exited;
	long long epoch, last_gain, last_loss;
	long long expired_at;   /* "E": it ended its own session then (0: never) */
} wlog_t;

static void read_log(wlog_t *out, int i)
{
	FILE *f = fopen(w[i].log, "r");
	char line[128];

	memset(out, 0, sizeof(*out));
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		long long a = 0, b = 0;

		if (line[0] == 'G' && sscanf(line + 1, "%lld %lld", &a, &b) == 2) {
			if (out->n < 256) {
				out->iv[out->n].worker = i;
				out->iv[out->n].epoch = a;
				out->iv[out->n].start = b;
				out->iv[out->n].end = -1;
				out->n++;
			}
			out->leading = 1;
			out->epoch = a;
			out->last_gain = b;
		} else if (line[0] == 'L' && sscanf(line + 1, "%lld %lld", &a, &b) == 2) {
			if (out->n > 0 && out->iv[out->n - 1].end < 0)
				out->iv[out->n - 1].end = b;
			out->leading = 0;
			out->last_loss = b;
		} else if (line[0] == 'E' && sscanf(line + 1, "%lld", &a) == 1) {
			out->expired_at = a;
		} else if (line[0] == 'X' && sscanf(line + 1, "%lld", &a) == 1) {
			if (out->n > 0 && out->iv[out->n - 1].end < 0)
				out->iv[out->n - 1].end = a;
			out->leading = 0;
			out->exited = 1;
		}
	}
	fclose(f);
	if (out->n > 0 && out->iv[out->n - 1].end < 0)
		out->iv[out->n - 1].end = mono_ms();
}

static zkc_t *observer;
static int frozen = -1;   /* a SIGSTOPped worker cannot log: skip it */
static char *elect_path;

/* The one worker that leads now, if exactly one does and ZooKeeper agrees
 * (the observer reads the same leader and epoch); else -1. */
static int agreed_leader(long long *out_epoch, long long *out_since)
{
	static wlog_t lg;
	char *id = NULL;
	int64_t zepoch = 0;
	int i, who = -1, count = 0;
	long long ep = 0, since = 0;

	for (i = 0; i < NW; i++) {
		if (i == frozen)
			continue;
		read_log(&lg, i);
		if (lg.leading) {
			count++;
			who = i;
			ep = lg.epoch;
			since = lg.last_gain;
		}
	}
	if (count != 1 || zkc_election_leader(&id, &zepoch, observer, elect_path) != ZKC_OK) {
		zkc_free(id);
		return -1;
	}
	if (strcmp(id, w[who].id) != 0 || zepoch != ep)
		who = -1;
	zkc_free(id);
	if (who >= 0) {
		if (out_epoch)
			*out_epoch = ep;
		if (out_since)
			*out_since = since;
	}
	return who;
}

/* Waits for an agreed leader that gained leadership at or after `after`
 * with an epoch above `above`; returns it and when it gained, or fails. */
static int wait_leader_since(long long after, long long above, long long *out_gain,
                             long long *out_epoch)
{
	long long deadline = mono_ms() + h_timeout(H_TIMEOUT_MS), since = 0, ep = 0;
	unsigned t;
	int who;

	for (t = 0;; t++) {
		who = agreed_leader(&ep, &since);
		if (who >= 0 && since >= after && ep > above)
			break;
		if (mono_ms() > deadline) {
			fail_msg("no agreed leader since %lld", after);
			return -1;
		}
		h_backoff(t);
	}
	if (out_gain)
		*out_gain = since;
	if (out_epoch)
		*out_epoch = ep;
	return who;
}

static int all_exited(void *arg)
{
	int i, status, *left = arg;

	for (i = 0; i < NW; i++) {
		if (w[i].pid > 0 && waitpid(w[i].pid, &status, WNOHANG) == w[i].pid) {
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				print_message("# worker %d ended with status %d\n", i, status);
			else
				(*left)--;
			w[i].pid = 0;
		}
	}
	for (i = 0; i < NW; i++)
		if (w[i].pid > 0)
			return 0;
	return 1;
}

static int five_queue(void *arg)
{
	zkc_strings_t *kids = NULL;
	int ok;
	(void)arg;

	if (zkc_children(&kids, NULL, observer, elect_path) != ZKC_OK)
		return 0;
	ok = kids->count == NW;
	zkc_strings_free(kids);
	return ok;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fence_dir_ordered(const char *fence, char *why, size_t len)
{
	zkc_strings_t *kids = NULL;
	zkc_batch_t *b = NULL;
	long long prev = 0;
	size_t i;
	int rc = -1;

	if (zkc_children(&kids, NULL, observer, fence) != ZKC_OK || zkc_batch_new(&b) != ZKC_OK)
		goto out;
	/* names a-<seq>: sequence order is commit order */
	qsort(kids->items, kids->count, sizeof(char *), by_name);
	for (i = 0; i < kids->count; i++) {
		char *p = h_join(fence, kids->items[i]);

		zkc_batch_get(b, p, 0, NULL, NULL);
		free(p);
	}
	if (kids->count == 0 || zkc_batch_run(observer, b) != ZKC_OK) {
		snprintf(why, len, "no fenced records");
		goto out;
	}
	for (i = 0; i < kids->count; i++) {
		long long ep = atoll(zkc_batch_data(b, i, NULL));

		if (ep < prev) {
			size_t k;

			for (k = 0; k < kids->count; k++)
				print_message("# %s: %s\n", kids->items[k], zkc_batch_data(b, k, NULL));
			snprintf(why, len, "fenced record %s has epoch %lld after %lld",
			    kids->items[i], ep, prev);
			goto out;
		}
		prev = ep;
	}
	print_message("# %zu fenced records in epoch order\n", kids->count);
	rc = 0;
out:
	zkc_batch_free(b);
	zkc_strings_free(kids);
	return rc;
}

static void test_five_candidates_through_faults(void **state)
{
	static wlog_t lg;
	static ivl_t all[NW * 256];
	char why[512];
	char *fence;
	long long t_kill, t_stop, t_cont, t_exp, gain, ep, ep0, ep1, ep2;
	size_t n = 0;
	int i, zk_leader, who, stopped, expired, left = NW, quiet;
	zkc_strings_t *kids = NULL;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/zkct_elect_XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	observer = h_open(NULL, NULL);
	elect_path = h_path("elect");
	fence = h_path("fence");
	assert_int_equal(zkc_create(NULL, NULL, observer, fence, NULL, 0, NULL), ZKC_OK);
	for (i = 0; i < NW; i++)
		spawn(i, elect_path, fence);

	who = wait_leader_since(0, 0, &gain, &ep0);
	print_message("# first leader w%d epoch %lld\n", who, ep0);

	/* 1. the ZooKeeper leader dies */
	zk_leader = h_leader();
	assert_true(zk_leader >= 0);
	t_kill = mono_ms();
	assert_int_equal(h_kill(zk_leader), 0);
	assert_int_equal(h_wait_quorum(), 0);
	who = wait_leader_since(0, 0, &gain, &ep);
	print_message("# after ZooKeeper leader kill: w%d epoch %lld (%lld ms)\n", who, ep,
	    mono_ms() - t_kill);
	assert_int_equal(h_restart(zk_leader), 0);

	/* 2. the leading candidate freezes past its session timeout */
	stopped = wait_leader_since(0, 0, NULL, &ep1);
	t_stop = mono_ms();
	assert_int_equal(kill(w[stopped].pid, SIGSTOP), 0);
	frozen = stopped;
	who = wait_leader_since(t_stop, ep1, &gain, &ep);
	assert_int_not_equal(who, stopped);
	assert_true(ep > ep1);
	print_message("# w%d stopped; w%d leads after %lld ms\n", stopped, who, gain - t_stop);
	assert_true(gain - t_stop <= h_timeout(LEADER_BOUND_MS));
	t_cont = mono_ms();
	assert_int_equal(kill(w[stopped].pid, SIGCONT), 0);
	/* the woken candidate must see at once that it does not lead */
	H_WAIT_UNTIL((read_log(&lg, stopped), !lg.leading), 3000);
	frozen = -1;

	/* 3. the leader's session is force-expired */
	expired = wait_leader_since(0, 0, NULL, &ep2);
	t_exp = mono_ms();
	assert_int_equal(kill(w[expired].pid, SIGUSR1), 0);
	who = wait_leader_since(t_exp, ep2, &gain, &ep);
	assert_true(ep > ep2);
	print_message("# w%d expired; w%d leads after %lld ms (bound %d)\n", expired, who,
	    gain - t_exp, LEADER_BOUND_MS);
	assert_true(gain - t_exp <= h_timeout(LEADER_BOUND_MS));
	/* the expired candidate rejoined in its new session: all five queue */
	if (h_wait_until(five_queue, NULL, 20000) != 0) {
		zkc_election_participants_t *p = NULL;
		size_t k;

		if (zkc_election_participants(&p, observer, elect_path) == ZKC_OK)
			for (k = 0; k < p->count; k++)
				print_message("# queued: %s %s\n", p->items[k].id, p->items[k].node);
		zkc_election_participants_free(p);
		fail_msg("not all %d candidates queue again", NW);
	}

	for (i = 0; i < NW; i++)
		kill(w[i].pid, SIGTERM);
	assert_int_equal(h_wait_until(all_exited, &left, 20000), 0);
	assert_int_equal(left, 0);

	for (i = 0; i < NW; i++) {
		size_t k;

		read_log(&lg, i);
		assert_true(lg.exited);
		for (k = 0; k < lg.n; k++) {
			ivl_t v = lg.iv[k];

			/* a frozen process acts on nothing: its leadership ends at
			 * SIGSTOP, provided it stepped down right after SIGCONT */
			if (i == stopped && v.start < t_stop && v.end > t_stop) {
				assert_true(v.end <= t_cont + h_timeout(3000));
				v.end = t_stop;
			}
			/* likewise a session ended from outside (forced expiry: the
			 * server drops it before the client can hear of it) ends
			 * leadership when the expiry starts, provided the candidate
			 * stepped down right after */
			if (lg.expired_at && v.start < lg.expired_at && v.end > lg.expired_at) {
				assert_true(v.end <= lg.expired_at + h_timeout(3000));
				v.end = lg.expired_at;
			}
			all[n++] = v;
		}
	}
	print_message("# %zu leadership intervals\n", n);
	if (check_intervals(all, n, why, sizeof(why)) != 0)
		fail_msg("%s", why);
	if (fence_dir_ordered(fence, why, sizeof(why)) != 0)
		fail_msg("%s", why);
	/* every candidate cleaned up after itself */
	H_WAIT_UNTIL(zkc_children(&kids, NULL, observer, elect_path) == ZKC_OK &&
	    (quiet = kids->count == 0, zkc_strings_free(kids), kids = NULL, quiet), 15000);
	zkc_delete(observer, elect_path, -1, ZKC_DELETE_RECURSIVE);
	zkc_delete(observer, fence, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(observer);
	free(elect_path);
	free(fence);
	for (i = 0; i < NW; i++)
		unlink(w[i].log);
	rmdir(tmpdir);
}

static int teardown(void **state)
{
	int i;

	for (i = 0; i < NW; i++)
		if (w[i].pid > 0) {
			kill(w[i].pid, SIGKILL);
			waitpid(w[i].pid, NULL, 0);
			w[i].pid = 0;
		}
	return h_teardown(state);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--worker") == 0)
		return elect_worker_main(argc - 1, argv + 1);
	/* one group, one TAP plan: the checker first, then the faults */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker_finds_planted_faults),
		cmocka_unit_test(test_five_candidates_through_faults),
	};

	return cmocka_run_group_tests_name("election_faults", tests, h_setup_3, teardown);
}
