/* examples/demo/worker.c - the demo's worker in C (worker.py and worker_go/
 * are the same worker in Python and Go; docs/demo.md describes what they
 * share and why each step is safe under faults).
 *
 *   worker --url URL --root /zkc-demo --name c-1 --jobs 300 [--work-ms 80] [--break]
 *
 * Registers as an instance of the service ROOT/workers, joins the election
 * ROOT/election (the leader coordinates: it queues the jobs and says when
 * all are done), takes jobs from the queue ROOT/jobs (at-least-once), and
 * records each result under the lock ROOT/lock in the index ROOT/results,
 * counted by the counter ROOT/done. Each line printed is one event. */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zkc.h"

#define LANG "c"
#define PATH_LEN 512

struct worker {
	const char *url, *root, *name;
	int jobs, work_ms, brk, broken, coordinator, done;
	zkc_t *zk;
	zkc_service_reg_t *reg;
	zkc_election_t *election;
	zkc_queue_t *queue;
	zkc_counter_t *counter;
	zkc_lock_t *lock;
	zkc_index_t *index;
};

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static void say(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_mu);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	pthread_mutex_unlock(&out_mu);
}

static void path_of(char *out, const struct worker *w, const char *leaf)
{
	snprintf(out, PATH_LEN, "%s/%s", w->root, leaf);
}

static int fail(const char *what, int rc)
{
	say("%s: %s: %s", what, zkc_strcode(rc), zkc_error_last()->message);
	return rc;
}

/* The job's "work": the number of Collatz steps from x down to 1. */
static long collatz_steps(long long x)
{
	long n = 0;

	while (x != 1) {
		x = x % 2 == 0 ? x / 2 : 3 * x + 1;
		n++;
	}
	return n;
}

static void on_state(zkc_t *zk, int state, int64_t session_id, void *payload)
{
	(void)zk;
	(void)session_id;
	(void)payload;
	say("session %s", zkc_state_name(state));
}

/* Set by the lock's event callback (the client's event thread) when the
 * session that held the lock is gone; cleared at each acquire. */
static atomic_int lock_lost;

static void on_lock(zkc_lock_t *lock, int event, void *payload)
{
	static const char *const names[] = { "?", "SUSPENDED", "RECONNECTED", "LOST" };

	(void)lock;
	(void)payload;
	if (event == ZKC_LOCK_EVENT_LOST)
		lock_lost = 1;
	say("lock %s", event >= 1 && event <= 3 ? names[event] : "?");
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------ setup */

static int open_all(struct worker *w)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_service_instance_t in = ZKC_SERVICE_INSTANCE_INIT;
	zkc_election_options_t eo = ZKC_ELECTION_OPTIONS_INIT;
	zkc_queue_options_t qo = ZKC_QUEUE_OPTIONS_INIT;
	zkc_lock_options_t lo = ZKC_LOCK_OPTIONS_INIT;
	static const zkc_index_field_t fields[] = {
		{ "worker", 0 }, { "lang", 0 }, { "n", ZKC_INDEX_UNIQUE }
	};
	char p[PATH_LEN], meta[64];
	const char *dirs[] = { "steps", "violations" };
	size_t i;
	int rc;

	o.session_timeout_ms = 10000;
	if ((rc = zkc_open(&w->zk, w->url, &o)) != ZKC_OK)
		return fail("open", rc);
	zkc_listener_add(NULL, w->zk, on_state, NULL);

	snprintf(meta, sizeof meta, "{\"lang\": \"c\", \"pid\": %ld}", (long)getpid());
	in.id = w->name;
	in.address = "127.0.0.1";
	in.metadata = meta;
	path_of(p, w, "workers");
	if ((rc = zkc_service_reg_open(&w->reg, w->zk, p, &in)) != ZKC_OK)
		return fail("register", rc);

	eo.id = w->name;
	path_of(p, w, "election");
	if ((rc = zkc_election_open(&w->election, w->zk, p, &eo)) != ZKC_OK ||
	    (rc = zkc_election_join(w->election)) != ZKC_OK)
		return fail("election", rc);

	qo.flags = ZKC_QUEUE_CREATE;
	path_of(p, w, "jobs");
	if ((rc = zkc_queue_open(&w->queue, w->zk, p, &qo)) != ZKC_OK)
		return fail("queue", rc);
	path_of(p, w, "done");
	if ((rc = zkc_counter_open(&w->counter, w->zk, p, NULL)) != ZKC_OK)
		return fail("counter", rc);
	lo.event_fn = on_lock;
	path_of(p, w, "lock");
	if ((rc = zkc_lock_open(&w->lock, w->zk, p, &lo)) != ZKC_OK)
		return fail("lock", rc);

	path_of(p, w, "results");
	rc = zkc_index_create(w->zk, p, fields, sizeof fields / sizeof fields[0]);
	if (rc != ZKC_OK && rc != ZKC_ENODEEXISTS)
		return fail("index create", rc);
	if ((rc = zkc_index_open(&w->index, w->zk, p, NULL)) != ZKC_OK)
		return fail("index open", rc);

	for (i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		path_of(p, w, dirs[i]);
		rc = zkc_create(NULL, NULL, w->zk, p, NULL, 0, NULL);
		if (rc != ZKC_OK && rc != ZKC_ENODEEXISTS)
			return fail("create", rc);
	}
	path_of(p, w, "register");
	rc = zkc_create(NULL, NULL, w->zk, p, "", 0, NULL);
	if (rc != ZKC_OK && rc != ZKC_ENODEEXISTS)
		return fail("create register", rc);
	return ZKC_OK;
}

static void close_all(struct worker *w)
{
	zkc_index_close(w->index);
	zkc_lock_close(w->lock);
	zkc_counter_close(w->counter);
	zkc_queue_close(w->queue);
	zkc_election_close(w->election);
	if (w->reg)
		zkc_service_unregister(w->reg);
	zkc_service_reg_close(w->reg);
	zkc_close(w->zk);
}

/* ------------------------------------------------------------ coordinator */

/* How many jobs ROOT/plan says are queued ("QUEUED of JOBS"); 0 if none. */
static int queued(struct worker *w)
{
	char p[PATH_LEN], *data = NULL;
	int n = 0;

	path_of(p, w, "plan");
	if (zkc_get(&data, NULL, NULL, w->zk, p) == ZKC_OK)
		n = atoi(data);
	zkc_free(data);
	return n;
}

/* Queues jobs [queued, N), recording progress in ROOT/plan after each
 * batch. A coordinator that dies mid-batch leaves part of it queued; the
 * next queues it again: a duplicate is harmless, as a job whose result is
 * recorded is acked without being done again. */
static int fill(struct worker *w)
{
	char p[PATH_LEN], plan[64], job[24];
	int i, from = queued(w), rc;

	if (from >= w->jobs)
		return ZKC_OK;
	path_of(p, w, "plan");
	for (i = from; i < w->jobs; i++) {
		snprintf(job, sizeof job, "%d", i);
		if ((rc = zkc_queue_put(NULL, w->queue, job, strlen(job), ZKC_QUEUE_PRIORITY_DEFAULT)) !=
		    ZKC_OK)
			return fail("queue put", rc);
		if ((i + 1) % 50 == 0 || i + 1 == w->jobs) {
			snprintf(plan, sizeof plan, "%d of %d", i + 1, w->jobs);
			rc = zkc_set(NULL, w->zk, p, plan, strlen(plan), -1);
			if (rc == ZKC_ENONODE)
				rc = zkc_create(NULL, NULL, w->zk, p, plan, strlen(plan), NULL);
			if (rc != ZKC_OK)
				return fail("plan", rc);
		}
	}
	say("queued jobs %d..%d", from, w->jobs - 1);
	return ZKC_OK;
}

static void maybe_finish(struct worker *w)
{
	char p[PATH_LEN];
	size_t items = 1;

	if (queued(w) < w->jobs || zkc_queue_size(&items, NULL, w->queue) != ZKC_OK || items)
		return;
	path_of(p, w, "finished");
	if (zkc_create(NULL, NULL, w->zk, p, w->name, strlen(w->name), NULL) == ZKC_OK)
		say("all jobs acked: finished");
}

/* ------------------------------------------------------------ the step */

static void violation(struct worker *w, const char *what)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	char p[PATH_LEN];

	say("VIOLATION %s", what);
	co.mode = ZKC_PERSISTENT_SEQUENTIAL;
	path_of(p, w, "violations/v-");
	zkc_create(NULL, NULL, w->zk, p, what, strlen(what), &co);
}

/* Proves the lock: an ephemeral node that exists only while someone is in
 * the critical section. Finding another's means two holders. */
static void enter(struct worker *w)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	zkc_stat_t st;
	char p[PATH_LEN], msg[600], *other = NULL;
	int64_t sid = 0;

	co.mode = ZKC_EPHEMERAL;
	path_of(p, w, "holder");
	if (zkc_create(NULL, NULL, w->zk, p, w->name, strlen(w->name), &co) != ZKC_ENODEEXISTS)
		return;
	zkc_session(&sid, NULL, NULL, w->zk);
	if (zkc_get(&other, NULL, &st, w->zk, p) == ZKC_OK && st.ephemeral_owner != sid) {
		snprintf(msg, sizeof msg, "%s entered while %s held the lock", w->name, other);
		violation(w, msg);
	}
	zkc_free(other);
}

static void leave(struct worker *w)
{
	zkc_stat_t st;
	char p[PATH_LEN];
	int64_t sid = 0;

	path_of(p, w, "holder");
	zkc_session(&sid, NULL, NULL, w->zk);
	if (zkc_exists(&st, w->zk, p) == ZKC_OK && st.ephemeral_owner == sid)
		zkc_delete(w->zk, p, st.version, 0);
}

static int has_record(struct worker *w, const char *job)
{
	zkc_index_record_t *rec = NULL;
	int rc = zkc_index_get(&rec, w->index, job, strlen(job), ZKC_INDEX_SERVER);

	zkc_index_record_free(rec);
	return rc == ZKC_OK ? 1 : rc == ZKC_ENONODE ? 0 : rc;
}

/* The register holds "TOKEN JOB WORKER": the fencing token of the last
 * lock holder that wrote it, and the job it was recording; empty at first. */
struct reg {
	int64_t token;
	char job[64];
};

static void parse_register(struct reg *r, const char *data)
{
	char worker[256];

	memset(r, 0, sizeof *r);
	if (sscanf(data, "%" SCNd64 " %63s %255s", &r->token, r->job, worker) != 3)
		memset(r, 0, sizeof *r);
}

enum outcome { DONE, LOST, FAILED, AGAIN };

/* Says why a pass of the step must run again. */
static enum outcome retry(const char *what, int rc)
{
	fail(what, rc);
	return AGAIN;
}

/* Counts every result that is recorded but not yet counted, leaving the
 * counter in *c. Each result is recorded as the (counter+1)-th and the
 * count positions are a unique field, so at most one such record exists:
 * the one whose worker stopped between recording and counting. */
static int count_recorded(struct worker *w, int64_t *c)
{
	zkc_index_hits_t *hits = NULL;
	char n_text[24];
	int64_t cur;
	int rc;

	if ((rc = zkc_counter_get(c, w->counter)) != ZKC_OK)
		return rc;
	for (;;) {
		snprintf(n_text, sizeof n_text, "%08" PRId64, *c + 1);
		rc = zkc_index_find(&hits, w->index, "n", n_text, strlen(n_text), 1, ZKC_INDEX_SERVER);
		if (rc != ZKC_OK || hits->count == 0) {
			zkc_index_hits_free(hits);
			return rc;
		}
		rc = zkc_counter_cas(&cur, w->counter, *c, *c + 1);
		if (rc == ZKC_OK)
			say("counted %s, recorded by a worker that stopped before counting it",
			    hits->items[0].id);
		zkc_index_hits_free(hits);
		hits = NULL;
		if (rc == ZKC_OK || rc == ZKC_EBADVERSION)
			*c = rc == ZKC_OK ? *c + 1 : cur;
		else
			return rc;
	}
}

/* Writes the token-checked register and a step log entry in one
 * transaction fenced by the lock: if this lock node is gone, nothing is
 * written. */
static int write_register(struct worker *w, int64_t token, const char *job, int32_t version)
{
	zkc_multi_t *m = NULL;
	char p[PATH_LEN], data[400];
	int rc;

	if ((rc = zkc_lock_fence(&m, w->lock)) != ZKC_OK)
		return rc;
	snprintf(data, sizeof data, "%" PRId64 " %s %s", token, job, w->name);
	path_of(p, w, "register");
	zkc_multi_set(m, p, data, strlen(data), version);
	path_of(p, w, "steps/s-");
	zkc_multi_create(m, p, data, strlen(data), ZKC_PERSISTENT_SEQUENTIAL, NULL);
	rc = zkc_multi_commit(NULL, w->zk, m);
	zkc_multi_free(m);
	return rc;
}

/* One pass of the step; AGAIN asks for another. */
static enum outcome step_once(struct worker *w, const char *job, const char *result,
                              int64_t token)
{
	zkc_index_kv_t kv[3];
	zkc_stat_t st;
	struct reg r;
	char p[PATH_LEN], *data = NULL, n_text[24], msg[400];
	int64_t c, cur;
	int rc, has;

	path_of(p, w, "register");
	if ((rc = zkc_get(&data, NULL, &st, w->zk, p)) != ZKC_OK)
		return retry("read register", rc);
	parse_register(&r, data);
	zkc_free(data);
	if (r.token > token) {
		say("fenced off: my token %" PRId64 " is older than the register's %" PRId64, token,
		    r.token);
		return LOST;
	}
	if ((rc = count_recorded(w, &c)) != ZKC_OK)
		return retry("count", rc);
	if ((has = has_record(w, job)) != 0)
		return has > 0 ? DONE : AGAIN;
	if (!(r.token == token && strcmp(r.job, job) == 0)) {
		rc = write_register(w, token, job, st.version);
		if (rc == ZKC_ELOCKLOST || rc == ZKC_EINVALIDSTATE || rc == ZKC_ELOST)
			return LOST;
		if (rc == ZKC_EBADVERSION) {
			/* the guard passed (this lock node exists) yet someone
			 * wrote the register since it was read: two holders */
			snprintf(msg, sizeof msg, "%s: the register changed under the lock", w->name);
			violation(w, msg);
		}
		if (rc != ZKC_OK)
			return retry("write register", rc);
	}
	snprintf(n_text, sizeof n_text, "%08" PRId64, c + 1);
	kv[0] = (zkc_index_kv_t){ "worker", w->name, strlen(w->name) };
	kv[1] = (zkc_index_kv_t){ "lang", LANG, strlen(LANG) };
	kv[2] = (zkc_index_kv_t){ "n", n_text, strlen(n_text) };
	rc = zkc_index_put(w->index, job, strlen(job), result, strlen(result), kv, 3,
	                   ZKC_INDEX_CREATE);
	if (rc != ZKC_OK)
		return retry("index put", rc);
	rc = zkc_counter_cas(&cur, w->counter, c, c + 1);
	return rc == ZKC_OK ? DONE : AGAIN;
}

/* Records the job's result and counts it, exactly once however often it
 * runs (a retry, or another worker redoing the job of one that died). */
static enum outcome step(struct worker *w, const char *job, const char *result,
                         int64_t token)
{
	zkc_lock_lease_t lease;
	int i;

	for (i = 0; i < 30; i++) {
		enum outcome o = step_once(w, job, result, token);

		if (o != AGAIN)
			return o;
		if (lock_lost || zkc_lock_lease(&lease, w->lock) != ZKC_OK)
			return LOST;
		sleep_ms(200);
	}
	return FAILED;
}

/* ------------------------------------------------------------ main loop */

static void work(struct worker *w, zkc_queue_item_t *item)
{
	zkc_lock_lease_t lease;
	char job[32], result[32];
	long i = atol(item->data);
	enum outcome o;
	int rc;

	snprintf(job, sizeof job, "job-%05ld", i);
	snprintf(result, sizeof result, "%ld", collatz_steps(1000000 + i));
	sleep_ms((long)w->work_ms / 2 + (w->work_ms ? rand() % (w->work_ms + 1) : 0));
	if (w->brk && !w->broken) {
		w->broken = 1;
		say("dropping %s without recording it (--break)", job);
		zkc_queue_ack(w->queue, item);
		return;
	}
	if ((rc = zkc_lock_acquire(&lease, w->lock, 60000)) != ZKC_OK) {
		fail("lock acquire", rc);
		zkc_queue_release(w->queue, item);
		return;
	}
	lock_lost = 0;
	enter(w);
	o = step(w, job, result, lease.token);
	leave(w);
	zkc_lock_release(w->lock, 0);
	if (o == DONE) {
		if ((rc = zkc_queue_ack(w->queue, item)) == ZKC_OK)
			w->done++;
		else
			fail("ack", rc);
	} else {
		say("%s: %s; giving it back", job, o == LOST ? "lock lost" : "failed");
		zkc_queue_release(w->queue, item);
	}
}

static int finished(struct worker *w)
{
	char p[PATH_LEN];

	path_of(p, w, "finished");
	return zkc_exists(NULL, w->zk, p) == ZKC_OK;
}

static void check_leadership(struct worker *w)
{
	int64_t epoch = 0;
	int leads = zkc_election_is_leader(&epoch, w->election) == 1;

	if (leads && !w->coordinator)
		say("elected coordinator (epoch %" PRId64 ")", epoch);
	else if (!leads && w->coordinator)
		say("no longer the coordinator");
	w->coordinator = leads;
}

static int run(struct worker *w)
{
	int64_t sid = 0;
	int rc;

	zkc_session(&sid, NULL, NULL, w->zk);
	say("ready (pid %ld, session 0x%" PRIx64 ")", (long)getpid(), (uint64_t)sid);
	for (;;) {
		zkc_queue_item_t *item = NULL;

		check_leadership(w);
		if (w->coordinator)
			fill(w);
		rc = zkc_queue_take(&item, w->queue, ZKC_QUEUE_TAKE_ACK, 500);
		if (rc == ZKC_OK) {
			work(w, item);
		} else {
			if (rc != ZKC_ETIMEDOUT && rc != ZKC_EAGAIN)
				fail("take", rc);
			if (w->coordinator)
				maybe_finish(w);
			if (finished(w))
				break;
		}
		zkc_queue_item_free(item);
	}
	say("exiting: %d jobs done here", w->done);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: worker --url URL --root PATH --name NAME --jobs N "
	                "[--work-ms MS]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct worker w = { 0 };
	int i, rc;

	w.url = getenv("ZKC_URL");
	w.root = "/zkc-demo";
	w.work_ms = 80;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--break") == 0) {
			w.brk = 1;
			continue;
		}
		if (!v)
			return usage();
		if (strcmp(a, "--url") == 0)
			w.url = v;
		else if (strcmp(a, "--root") == 0)
			w.root = v;
		else if (strcmp(a, "--name") == 0)
			w.name = v;
		else if (strcmp(a, "--jobs") == 0)
			w.jobs = atoi(v);
		else if (strcmp(a, "--work-ms") == 0)
			w.work_ms = atoi(v);
		else
			return usage();
		i++;
	}
	if (!w.url || !w.name || w.jobs <= 0 || w.work_ms < 0)
		return usage();
	srand((unsigned)getpid());
	rc = open_all(&w);
	if (rc == ZKC_OK)
		rc = run(&w);
	close_all(&w);
	return rc == ZKC_OK ? 0 : 1;
}
