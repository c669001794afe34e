/* tests/integration/test_queue_faults.c - 4 producer processes put 500
 * items each while 3 consumer processes take them, the ZooKeeper leader is
 * killed and one consumer is SIGKILLed holding an item:
 *   ACK mode:    every acknowledged put is consumed at least once, and once
 *                the sessions have expired nothing is left taken or queued;
 *   DELETE mode: no item is consumed twice, and every acknowledged put is
 *                consumed or was named by a take that returned ZKC_EUNKNOWN.
 * Workers are this binary re-executed with ZKC_QF_ROLE=p|c; each appends
 * lines to its own log: producers "P payload name" (acknowledged put), "U
 * payload" (outcome unknown); consumers "T payload" (taken), "U name"
 * (take outcome unknown), "M" (stopping mid-item, waiting to be killed).
 * ZKC_QF_BROKEN=1 plants a lost and a duplicated delivery to prove the
 * checker catches both. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"

#define PRODUCERS 4
#define ITEMS 500
#define CONSUMERS 3
#define VICTIM_AFTER 60     /* the victim consumer stops after this many */
#define BUCKET 400          /* small buckets: rollover under faults too */

static void wlog(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wlog(int fd, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && write(fd, buf, (size_t)n) != n)
		_exit(3);
}

/* ------------------------------------------------------------ workers */

static zkc_queue_t *worker_queue(zkc_t **zk)
{
	zkc_queue_options_t o = ZKC_QUEUE_OPTIONS_INIT;
	zkc_queue_t *q = NULL;

	o.bucket_size = BUCKET;
	if (zkc_open(zk, NULL, NULL) != ZKC_OK)
		_exit(2);
	if (zkc_queue_open(&q, *zk, getenv("ZKC_QF_PATH"), &o) != ZKC_OK)
		_exit(2);
	return q;
}

static int producer_main(int id, int fd)
{
	zkc_t *zk = NULL;
	zkc_queue_t *q = worker_queue(&zk);
	int i;

	for (i = 0; i < ITEMS; i++) {
		char payload[32], *name = NULL;
		int rc, tries = 0;

		snprintf(payload, sizeof(payload), "p%d-%d", id, i);
		/* retry only what certainly did not happen; an unknown put is
		 * not repeated (it could be consumed twice) */
		while ((rc = zkc_queue_put(&name, q, payload, strlen(payload), 100)) != ZKC_OK &&
		       rc != ZKC_EUNKNOWN && tries++ < 200)
			h_backoff(5);
		if (rc == ZKC_OK)
			wlog(fd, "P %s %s\n", payload, name);
		else
			wlog(fd, "U %s\n", payload);
		zkc_free(name);
	}
	zkc_queue_close(q);
	zkc_close(zk);
	return 0;
}

static int consumer_main(int id, int fd, int mode)
{
	const char *stop = getenv("ZKC_QF_STOP");
	int broken = getenv("ZKC_QF_BROKEN") != NULL, taken = 0;
	zkc_t *zk = NULL;
	zkc_queue_t *q = worker_queue(&zk);

	for (;;) {
		zkc_queue_item_t *it = NULL;
		int rc = zkc_queue_take(&it, q, mode, 500);

		if (rc == ZKC_OK) {
			taken++;
			if (!(broken && id == 1 && taken == 20))    /* planted loss */
				wlog(fd, "T %s\n", it->data);
			if (broken && id == 1 && taken == 10)       /* planted duplicate */
				wlog(fd, "T %s\n", it->data);
			if (id == 0 && taken == VICTIM_AFTER) {
				/* hold the item unacked until the parent kills us */
				wlog(fd, "M\n");
				for (;;)
					pause();
			}
			if (mode == ZKC_QUEUE_TAKE_ACK) {
				/* an ack lost to a session change is fine: the item
				 * comes back to someone */
				int arc = zkc_queue_ack(q, it);

				if (arc != ZKC_OK)
					wlog(fd, "A %s %s %s\n", zkc_strcode(arc), it->name,
					    zkc_error_last()->message);
			}
		} else if (rc == ZKC_EUNKNOWN) {
			wlog(fd, "U %s\n", it ? it->name : "?");
		} else if (rc == ZKC_ETIMEDOUT && access(stop, F_OK) == 0) {
			break;
		} else if (rc != ZKC_ETIMEDOUT) {
			h_backoff(5);
		}
		zkc_queue_item_free(it);
	}
	zkc_queue_close(q);
	zkc_close(zk);
	return 0;
}

static int worker_main(void)
{
	const char *role = getenv("ZKC_QF_ROLE");
	int id = atoi(getenv("ZKC_QF_ID"));
	int fd = open(getenv("ZKC_QF_LOG"), O_WRONLY | O_CREAT | O_APPEND, 0644);

	if (fd < 0)
		return 2;
	if (role[0] == 'p')
		return producer_main(id, fd);
	return consumer_main(id, fd, atoi(getenv("ZKC_QF_MODE")));
}

/* ------------------------------------------------------------ checker */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return calloc(1, 1);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = 0;
	fclose(f);
	return buf;
}

typedef struct tally {
	char name[PRODUCERS][ITEMS][64];   /* item name of an acknowledged put */
	int acked[PRODUCERS][ITEMS];
	int consumed[PRODUCERS][ITEMS];
	int unknown_take[PRODUCERS][ITEMS];
	int puts_acked, puts_unknown, takes, takes_unknown;
	int bogus;
} tally_t;

static int parse_payload(const char *s, int *p, int *i)
{
	return sscanf(s, "p%d-%d", p, i) == 2 && *p >= 0 && *p < PRODUCERS && *i >= 0 && *i < ITEMS;
}

static void tally_logs(tally_t *t, const char *dir)
{
	char path[600], *data, *line, *save;
	int w, p, i;

	memset(t, 0, sizeof(*t));
	for (w = 0; w < PRODUCERS; w++) {
		snprintf(path, sizeof(path), "%s/p%d.log", dir, w);
		data = slurp(path);
		save = NULL;
		for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char pl[48], nm[64];

			if (sscanf(line, "P %47s %63s", pl, nm) == 2 && parse_payload(pl, &p, &i)) {
				t->acked[p][i] = 1;
				snprintf(t->name[p][i], sizeof(t->name[p][i]), "%s", nm);
				t->puts_acked++;
			} else if (line[0] == 'U') {
				t->puts_unknown++;
			}
		}
		free(data);
	}
	for (w = 0; w < CONSUMERS; w++) {
		snprintf(path, sizeof(path), "%s/c%d.log", dir, w);
		data = slurp(path);
		save = NULL;
		for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (line[0] == 'T' && parse_payload(line + 2, &p, &i)) {
				t->consumed[p][i]++;
				t->takes++;
			} else if (line[0] == 'T') {
				t->bogus++;
			} else if (line[0] == 'U') {
				t->takes_unknown++;
				for (p = 0; p < PRODUCERS; p++)
					for (i = 0; i < ITEMS; i++)
						if (t->acked[p][i] && strcmp(t->name[p][i], line + 2) == 0)
							t->unknown_take[p][i] = 1;
			}
		}
		free(data);
	}
}

/* 0 if the history keeps the mode's promise; else -1 with why. */
static int check(const char *dir, int mode, char *why, size_t whylen)
{
	static tally_t t;
	int p, i, dups = 0;

	tally_logs(&t, dir);
	print_message("# queue (%s): %d puts acknowledged, %d unknown; %d takes, %d unknown\n",
	    mode == ZKC_QUEUE_TAKE_ACK ? "ack" : "delete", t.puts_acked, t.puts_unknown,
	    t.takes, t.takes_unknown);
	if (t.bogus) {
		snprintf(why, whylen, "%d taken items were never put", t.bogus);
		return -1;
	}
	for (p = 0; p < PRODUCERS; p++)
		for (i = 0; i < ITEMS; i++) {
			if (t.acked[p][i] && !t.consumed[p][i] &&
			    !(mode == ZKC_QUEUE_TAKE_DELETE && t.unknown_take[p][i])) {
				snprintf(why, whylen, "acknowledged put p%d-%d (%s) was never consumed",
				    p, i, t.name[p][i]);
				return -1;
			}
			if (t.consumed[p][i] > 1)
				dups++;
			if (mode == ZKC_QUEUE_TAKE_DELETE && t.consumed[p][i] > 1) {
				snprintf(why, whylen, "p%d-%d consumed %d times in exactly-once mode", p,
				    i, t.consumed[p][i]);
				return -1;
			}
		}
	print_message("# queue: %d items delivered more than once (allowed in ack mode)\n", dups);
	return 0;
}

/* ------------------------------------------------------------ parent */

static pid_t spawn(const char *role, int id, int mode, const char *url, const char *path,
                   const char *dir)
{
	char exe[4096], logp[600], ids[16], modes[16], stop[600];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	pid_t pid;

	if (n <= 0)
		return -1;
	exe[n] = 0;
	snprintf(logp, sizeof(logp), "%s/%s%d.log", dir, role, id);
	snprintf(stop, sizeof(stop), "%s/stop", dir);
	snprintf(ids, sizeof(ids), "%d", id);
	snprintf(modes, sizeof(modes), "%d", mode);
	pid = fork();
	if (pid == 0) {
		char *args[] = { exe, NULL };

		h_die_with_parent();
		setenv("ZKC_QF_ROLE", role, 1);
		setenv("ZKC_QF_ID", ids, 1);
		setenv("ZKC_QF_MODE", modes, 1);
		setenv("ZKC_QF_PATH", path, 1);
		setenv("ZKC_QF_LOG", logp, 1);
		setenv("ZKC_QF_STOP", stop, 1);
		setenv("ZKC_URL", url, 1);
		execv(exe, args);
		_exit(127);
	}
	return pid;
}

static int count_lines(const char *path, char kind)
{
	char *data = slurp(path), *s;
	int n = 0;

	for (s = data; s && *s; ) {
		if (*s == kind)
			n++;
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	free(data);
	return n;
}

typedef struct progress {
	const char *dir;
	int want;
} progress_t;

static int produced_at_least(void *arg)
{
	progress_t *pr = arg;
	char path[600];
	int w, n = 0;

	for (w = 0; w < PRODUCERS; w++) {
		snprintf(path, sizeof(path), "%s/p%d.log", pr->dir, w);
		n += count_lines(path, 'P') + count_lines(path, 'U');
	}
	return n >= pr->want;
}

static int victim_mid_item(void *arg)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/c0.log", (const char *)arg);
	return count_lines(path, 'M') > 0;
}

typedef struct drained {
	zkc_queue_t *q;
} drained_t;

static int queue_drained(void *arg)
{
	drained_t *d = arg;
	size_t n = 1, taken = 1;

	return zkc_queue_size(&n, &taken, d->q) == ZKC_OK && n == 0 && taken == 0;
}

/* What is left, for the failure report: items and taken markers with
 * their owners. */
static void dump_queue(zkc_t *zk, const char *path)
{
	zkc_strings_t *kids = NULL, *sub = NULL;
	size_t i, j;

	if (zkc_children(&kids, NULL, zk, path) != ZKC_OK)
		return;
	for (i = 0; i < kids->count; i++) {
		char *dirp = NULL;

		if (asprintf(&dirp, "%s/%s", path, kids->items[i]) < 0)
			continue;
		if (zkc_children(&sub, NULL, zk, dirp) == ZKC_OK) {
			for (j = 0; j < sub->count; j++) {
				char *np = NULL, *d = NULL;
				size_t len = 0;
				zkc_stat_t st;

				if (asprintf(&np, "%s/%s", dirp, sub->items[j]) < 0)
					continue;
				memset(&st, 0, sizeof(st));
				zkc_get(&d, &len, &st, zk, np);
				print_message("# left: %s owner=%016llx data=%.*s\n", np,
				    (unsigned long long)st.ephemeral_owner, (int)len, d ? d : "");
				zkc_free(d);
				free(np);
			}
			zkc_strings_free(sub);
			sub = NULL;
		}
		free(dirp);
	}
	zkc_strings_free(kids);
}

static int reap(pid_t pid, int timeout_ms)
{
	int64_t deadline = h_now_ms() + h_timeout(timeout_ms);
	int status = 0;
	unsigned t = 0;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (h_now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		h_backoff(t++);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void run(int mode)
{
	char dir[] = "/tmp/zkct_qfXXXXXX", url[1024], stop[600], why[512];
	char *p = h_path(mode == ZKC_QUEUE_TAKE_ACK ? "qack" : "qdel");
	zkc_queue_options_t o = ZKC_QUEUE_OPTIONS_INIT;
	pid_t prod[PRODUCERS], cons[CONSUMERS];
	progress_t pr;
	drained_t dr;
	zkc_queue_t *q = NULL;
	zkc_t *zk = h_open(NULL, NULL);
	int i, killed_node;

	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "%s?session_timeout=4s", h_url());
	snprintf(stop, sizeof(stop), "%s/stop", dir);
	o.flags = ZKC_QUEUE_CREATE;
	o.bucket_size = BUCKET;
	assert_int_equal(zkc_queue_open(&q, zk, p, &o), ZKC_OK);
	for (i = 0; i < CONSUMERS; i++)
		assert_true((cons[i] = spawn("c", i, mode, url, p, dir)) > 0);
	for (i = 0; i < PRODUCERS; i++)
		assert_true((prod[i] = spawn("p", i, mode, url, p, dir)) > 0);

	pr.dir = dir;
	pr.want = PRODUCERS * ITEMS / 4;
	assert_int_equal(h_wait_until(produced_at_least, &pr, 60000), 0);
	killed_node = h_leader();
	assert_true(killed_node >= 0);
	assert_int_equal(h_kill(killed_node), 0);
	assert_int_equal(h_wait_until(victim_mid_item, dir, 60000), 0);
	kill(cons[0], SIGKILL);
	waitpid(cons[0], NULL, 0);
	assert_int_equal(h_restart(killed_node), 0);
	for (i = 0; i < PRODUCERS; i++)
		assert_int_equal(reap(prod[i], 90000), 0);
	/* the victim's item comes back once its session expires (ACK mode) */
	dr.q = q;
	if (h_wait_until(queue_drained, &dr, 60000) != 0) {
		dump_queue(zk, p);
		fail_msg("the queue did not drain (logs in %s)", dir);
	}
	close(open(stop, O_WRONLY | O_CREAT, 0644));
	for (i = 1; i < CONSUMERS; i++)
		assert_int_equal(reap(cons[i], 30000), 0);
	/* nothing left taken-but-unacked, nothing left queued */
	assert_true(queue_drained(&dr));
	if (check(dir, mode, why, sizeof(why)) != 0)
		fail_msg("%s (logs in %s)", why, dir);
	for (i = 0; i < PRODUCERS + CONSUMERS; i++) {
		char lp[600];

		snprintf(lp, sizeof(lp), "%s/%s%d.log", dir, i < PRODUCERS ? "p" : "c",
		    i < PRODUCERS ? i : i - PRODUCERS);
		unlink(lp);
	}
	unlink(stop);
	rmdir(dir);
	zkc_queue_close(q);
	zkc_delete(zk, p, -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	free(p);
}

static void test_ack_mode_consumes_every_acknowledged_put_under_faults(void **state)
{
	(void)state;
	H_NEED_OWN_ENSEMBLE();
	run(ZKC_QUEUE_TAKE_ACK);
}

static void test_delete_mode_never_delivers_twice_under_faults(void **state)
{
	(void)state;
	H_NEED_OWN_ENSEMBLE();
	run(ZKC_QUEUE_TAKE_DELETE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ack_mode_consumes_every_acknowledged_put_under_faults),
		cmocka_unit_test(test_delete_mode_never_delivers_twice_under_faults),
	};

	if (getenv("ZKC_QF_ROLE"))
		return worker_main();
	return cmocka_run_group_tests_name("queue_faults", tests, h_setup_3, h_teardown);
}
