/* tests/chaos/worker.c - one chaos client process: opens a zkc client
 * through the public API and runs one role's operations in a loop until
 * SIGTERM, recording every operation in its history (history.h).
 *
 *   chaos_worker ROLE NAME URL ROOT HISTORY SEED SESSION_TIMEOUT_MS
 *
 * Roles: reg (get/set/create on versioned registers), counter (add/get),
 * lock (acquire, fenced write, release), elect (lead, fenced write,
 * resign), queue (put, take in ack or delete mode, ack/release), index
 * (put/delete records), cache (reads from a cache of the registers; on
 * SIGUSR1 it checks that the cache converged to the servers and exits).
 * SIGUSR2 expires the client's session (zkc_testing_expire_session). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zkc.h"
#include "zkc/testing.h"
#include "history.h"

#define NREG 4
#define NCOUNTER 2
#define NINDEX 16

static chaos_hist_t g_hist;
static zkc_t *g_zk;
static pthread_mutex_t g_zk_mu = PTHREAD_MUTEX_INITIALIZER; /* g_zk vs expiry */
static const char *g_root;
static const char *g_name;
static unsigned g_seed;
static volatile int g_stop;      /* SIGTERM */
static volatile int g_converge;  /* SIGUSR1 (cache role) */
static long g_seq;               /* unique values of this process */

static unsigned rnd(unsigned n)
{
	return n ? (unsigned)rand_r(&g_seed) % n : 0;
}

/* The outcome of a write: "ok", "fail" (definitely not applied: the
 * server said no, or zkc documents the code as not applied) or
 * "unknown" (it may have been applied). */
static const char *write_outcome(int rc, const int *definite, size_t n)
{
	size_t i;

	if (rc == ZKC_OK)
		return "ok";
	for (i = 0; i < n; i++)
		if (rc == definite[i])
			return "fail";
	return "unknown";
}

static void path_of(char *buf, size_t len, const char *dir, const char *leaf)
{
	snprintf(buf, len, "%s/%s/%s", g_root, dir, leaf);
}

/* A pause between operations, so a few processes do not saturate two
 * shared cores; drawn from the seed. */
static void pace(void)
{
	struct timespec ts = { 0, (long)(5 + rnd(20)) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------ signals */

static void *signal_thread(void *arg)
{
	sigset_t *set = arg;

	for (;;) {
		int sig = 0;

		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGTERM) {
			g_stop = 1;
		} else if (sig == SIGUSR1) {
			g_converge = 1;
			g_stop = 1;
		} else if (sig == SIGUSR2) {
			char fields[160];
			long op;
			int rc;

			pthread_mutex_lock(&g_zk_mu);
			if (!g_zk) {
				pthread_mutex_unlock(&g_zk_mu);
				continue;
			}
			op = chaos_hist_invoke(&g_hist, "expire", NULL);
			rc = zkc_testing_expire_session(g_zk, 15000);
			pthread_mutex_unlock(&g_zk_mu);
			chaos_hist_line(&g_hist, op, rc == ZKC_OK ? "ok" : "fail", "expire",
			                chaos_fmt(fields, sizeof(fields), "\"code\":\"%s\"",
			                          zkc_strcode(rc)));
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ registers */

/* Versioned registers: get, set at the version last seen, create when
 * missing. The value is unique per write ("NAME-SEQ"). What a process
 * last learned of each key: */
typedef struct reg_key {
	int32_t ver;
	int known;        /* 0 nothing, 1 version known, 2 missing */
} reg_key_t;

static void reg_get(reg_key_t *r, const char *key, const char *path)
{
	char fields[512], *data = NULL;
	size_t len = 0;
	zkc_stat_t st;
	long op;
	int rc;

	op = chaos_hist_invoke(&g_hist, "get", chaos_fmt(fields, sizeof(fields), "\"k\":\"%s\"",
	                       key));
	/* ZooKeeper reads are sequentially consistent: a follower may
	 * answer from behind the leader. A sync first makes the read
	 * linearizable, which is what the model checks. */
	rc = zkc_sync(g_zk, path);
	if (rc == ZKC_OK || rc == ZKC_ENONODE)
		rc = zkc_get(&data, &len, &st, g_zk, path);
	if (rc == ZKC_OK) {
		char esc[256];

		chaos_json_escape(esc, sizeof(esc), data, len);
		chaos_hist_line(&g_hist, op, "ok", "get", chaos_fmt(fields, sizeof(fields),
		                "\"k\":\"%s\",\"exists\":true,\"v\":\"%s\",\"ver\":%d", key, esc,
		                (int)st.version));
		r->ver = st.version;
		r->known = 1;
	} else if (rc == ZKC_ENONODE) {
		chaos_hist_line(&g_hist, op, "ok", "get", chaos_fmt(fields, sizeof(fields),
		                "\"k\":\"%s\",\"exists\":false", key));
		r->known = 2;
	} else {
		chaos_hist_line(&g_hist, op, "fail", "get", chaos_fmt(fields, sizeof(fields),
		                "\"k\":\"%s\",\"code\":\"%s\"", key, zkc_strcode(rc)));
	}
	zkc_free(data);
}

static void reg_create(reg_key_t *r, const char *key, const char *path)
{
	/* ENONODE: the parent is gone (a wipe), nothing was made */
	static const int definite[] = { ZKC_ENODEEXISTS, ZKC_ENONODE };
	char fields[512], val[64];
	long op;
	int rc;

	snprintf(val, sizeof(val), "%s-%ld", g_name, ++g_seq);
	op = chaos_hist_invoke(&g_hist, "create", chaos_fmt(fields, sizeof(fields),
	                       "\"k\":\"%s\",\"v\":\"%s\"", key, val));
	rc = zkc_create(NULL, NULL, g_zk, path, val, strlen(val), NULL);
	chaos_hist_line(&g_hist, op, write_outcome(rc, definite, 2), "create",
	                chaos_fmt(fields, sizeof(fields), "\"k\":\"%s\",\"code\":\"%s\"", key,
	                          zkc_strcode(rc)));
	r->known = 0;
}

static void reg_set(reg_key_t *r, const char *key, const char *path)
{
	static const int definite[] = { ZKC_EBADVERSION, ZKC_ENONODE };
	int32_t want = rnd(8) == 0 ? r->ver + 1 : r->ver; /* some must be refused */
	char fields[512], val[64];
	zkc_stat_t st;
	long op;
	int rc;

	snprintf(val, sizeof(val), "%s-%ld", g_name, ++g_seq);
	op = chaos_hist_invoke(&g_hist, "set", chaos_fmt(fields, sizeof(fields),
	                       "\"k\":\"%s\",\"v\":\"%s\",\"ver\":%d", key, val, (int)want));
	rc = zkc_set(&st, g_zk, path, val, strlen(val), want);
	if (rc == ZKC_OK) {
		chaos_hist_line(&g_hist, op, "ok", "set", chaos_fmt(fields, sizeof(fields),
		                "\"k\":\"%s\",\"code\":\"ZKC_OK\",\"newver\":%d", key,
		                (int)st.version));
		r->ver = st.version;
	} else {
		chaos_hist_line(&g_hist, op, write_outcome(rc, definite, 2), "set",
		                chaos_fmt(fields, sizeof(fields), "\"k\":\"%s\",\"code\":\"%s\"",
		                          key, zkc_strcode(rc)));
		r->known = 0;
	}
}

static void reg_loop(void)
{
	reg_key_t keys[NREG];

	memset(keys, 0, sizeof(keys));
	while (!g_stop) {
		unsigned k = rnd(NREG);
		char path[256], key[8];

		snprintf(key, sizeof(key), "r%u", k);
		path_of(path, sizeof(path), "reg", key);
		if (rnd(2) == 0 || keys[k].known == 0)
			reg_get(&keys[k], key, path);
		else if (keys[k].known == 2)
			reg_create(&keys[k], key, path);
		else
			reg_set(&keys[k], key, path);
		pace();
	}
}

/* ------------------------------------------------------------ counters */

static void counter_loop(void)
{
	zkc_counter_t *c[NCOUNTER] = { NULL };
	/* ETIMEDOUT of an add means "not applied" (zkc/counter.h) */
	static const int add_definite[] = { ZKC_ETIMEDOUT, ZKC_EBADARGUMENTS };
	unsigned i;

	for (i = 0; i < NCOUNTER; i++) {
		char path[256], key[8];

		snprintf(key, sizeof(key), "c%u", i);
		path_of(path, sizeof(path), "counter", key);
		while (!g_stop && zkc_counter_open(&c[i], g_zk, path, NULL) != ZKC_OK)
			pace();
	}
	while (!g_stop) {
		unsigned k = rnd(NCOUNTER);
		char fields[256];
		int64_t v = 0;
		long op;
		int rc;

		if (rnd(10) < 7) {
			int64_t d = 1 + (int64_t)rnd(5);

			op = chaos_hist_invoke(&g_hist, "add", chaos_fmt(fields, sizeof(fields),
			                       "\"k\":\"c%u\",\"d\":%lld", k, (long long)d));
			rc = zkc_counter_add(&v, c[k], d);
			chaos_hist_line(&g_hist, op, write_outcome(rc, add_definite, 2), "add",
			                chaos_fmt(fields, sizeof(fields), "\"k\":\"c%u\",\"d\":%lld,"
			                          "\"v\":%lld,\"code\":\"%s\"", k, (long long)d,
			                          (long long)v, zkc_strcode(rc)));
		} else {
			op = chaos_hist_invoke(&g_hist, "read", chaos_fmt(fields, sizeof(fields),
			                       "\"k\":\"c%u\"", k));
			/* synced first, as the register reads */
			rc = zkc_sync(g_zk, zkc_counter_path(c[k]));
			if (rc == ZKC_OK || rc == ZKC_ENONODE)
				rc = zkc_counter_get(&v, c[k]);
			chaos_hist_line(&g_hist, op, rc == ZKC_OK ? "ok" : "fail", "read",
			                chaos_fmt(fields, sizeof(fields), "\"k\":\"c%u\",\"v\":%lld,"
			                          "\"code\":\"%s\"", k, (long long)v, zkc_strcode(rc)));
		}
		pace();
	}
	for (i = 0; i < NCOUNTER; i++)
		zkc_counter_close(c[i]);
}

/* ------------------------------------------------------------ fenced register */

/* The resource a lock or a leader protects: one node holding
 * "INCARNATION SEQ TOKEN WRITER". Each holder reads it and writes SEQ+1
 * with its own token, in a transaction guarded by its lock or leader
 * node. The write carries no version check, as an outside system that
 * trusts its lock would not: if two holders ever overlap, two committed
 * writes claim the same SEQ, and a stale holder shows as a smaller token
 * after a larger one. A missing node (first use, or a wiped ensemble)
 * gets a new random incarnation. */
static void fenced_write(const char *what, const char *guard, int64_t token)
{
	char res[256], fields[512], data[160];
	char *old = NULL;
	size_t len = 0;
	zkc_stat_t st;
	unsigned long long inc = 0, seq = 0, otok = 0;
	zkc_multi_t *m = NULL;
	int rc, exists;
	long op;

	path_of(res, sizeof(res), "fenced", what);
	rc = zkc_get(&old, &len, &st, g_zk, res);
	if (rc != ZKC_OK && rc != ZKC_ENONODE) {
		zkc_free(old);
		return;
	}
	exists = rc == ZKC_OK;
	if (exists && sscanf(old, "%llx %llu %llx", &inc, &seq, &otok) != 3) {
		zkc_free(old);
		return;
	}
	zkc_free(old);
	if (!exists)
		inc = ((unsigned long long)rand_r(&g_seed) << 31) ^ (unsigned long long)rand_r(&g_seed) ^
		      (unsigned long long)chaos_now_ns();
	snprintf(data, sizeof(data), "%llx %llu %llx %s", inc, seq + 1,
	         (unsigned long long)token, g_name);
	op = chaos_hist_invoke(&g_hist, "fwrite", chaos_fmt(fields, sizeof(fields),
	                       "\"k\":\"%s\",\"inc\":\"%llx\",\"seq\":%llu,\"token\":%lld,"
	                       "\"read_token\":%lld", what, inc, seq + 1, (long long)token,
	                       (long long)otok));
	if (zkc_multi_new(&m) != ZKC_OK) {
		chaos_hist_line(&g_hist, op, "fail", "fwrite", "\"code\":\"ZKC_ENOMEM\"");
		return;
	}
	zkc_multi_guard(m, guard, -1);
	if (exists)
		zkc_multi_set(m, res, data, strlen(data), -1);
	else
		zkc_multi_create(m, res, data, strlen(data), ZKC_PERSISTENT, NULL);
	rc = zkc_multi_commit(NULL, g_zk, m);
	zkc_multi_free(m);
	{
		static const int definite[] = { ZKC_ELOCKLOST, ZKC_ENODEEXISTS, ZKC_ENONODE };

		chaos_hist_line(&g_hist, op, write_outcome(rc, definite, 3), "fwrite",
		                chaos_fmt(fields, sizeof(fields), "\"k\":\"%s\",\"inc\":\"%llx\","
		                          "\"seq\":%llu,\"token\":%lld,\"code\":\"%s\"", what, inc,
		                          seq + 1, (long long)token, zkc_strcode(rc)));
	}
}

static void lock_loop(void)
{
	char dir[256], fields[256];
	zkc_lock_t *lk = NULL;

	path_of(dir, sizeof(dir), "lock", "L");
	if (zkc_lock_open(&lk, g_zk, dir, NULL) != ZKC_OK) {
		fprintf(stderr, "chaos_worker %s: lock open: %s\n", g_name, zkc_error_last()->message);
		return;
	}
	while (!g_stop) {
		zkc_lock_lease_t lease;
		long op = chaos_hist_invoke(&g_hist, "acquire", NULL);
		int rc = zkc_lock_acquire(&lease, lk, 3000);

		if (rc != ZKC_OK) {
			chaos_hist_line(&g_hist, op, "fail", "acquire", chaos_fmt(fields,
			                sizeof(fields), "\"code\":\"%s\"", zkc_strcode(rc)));
			pace();
			continue;
		}
		{
			char guard[512];
			int64_t token = lease.token;

			snprintf(guard, sizeof(guard), "%s", lease.path);
			chaos_hist_line(&g_hist, op, "ok", "acquire", chaos_fmt(fields,
			                sizeof(fields), "\"token\":%lld", (long long)token));
			fenced_write("lock", guard, token);
		}
		op = chaos_hist_invoke(&g_hist, "release", NULL);
		rc = zkc_lock_release(lk, 0);
		chaos_hist_line(&g_hist, op, rc == ZKC_OK ? "ok" : "fail", "release",
		                chaos_fmt(fields, sizeof(fields), "\"code\":\"%s\"", zkc_strcode(rc)));
		pace();
	}
	zkc_lock_close(lk);
}

/* ------------------------------------------------------------ election */

static void elect_loop(void)
{
	char dir[256], fields[256];
	zkc_election_options_t o = ZKC_ELECTION_OPTIONS_INIT;
	zkc_election_t *e = NULL;
	int writes = 0;

	path_of(dir, sizeof(dir), "elect", "E");
	o.id = g_name;
	if (zkc_election_open(&e, g_zk, dir, &o) != ZKC_OK || zkc_election_join(e) != ZKC_OK) {
		fprintf(stderr, "chaos_worker %s: election: %s\n", g_name, zkc_error_last()->message);
		zkc_election_close(e);
		return;
	}
	while (!g_stop) {
		int64_t epoch = 0;
		char *lpath = NULL;
		int rc = zkc_election_await(&epoch, e, 500);

		if (rc == ZKC_ETIMEDOUT)
			continue;
		if (rc != ZKC_OK) {
			zkc_election_join(e);
			pace();
			continue;
		}
		if (zkc_election_fence(&lpath, &epoch, e) == ZKC_OK) {
			long op = chaos_hist_invoke(&g_hist, "lead", chaos_fmt(fields, sizeof(fields),
			                            "\"token\":%lld", (long long)epoch));

			chaos_hist_line(&g_hist, op, "ok", "lead", fields);
			fenced_write("elect", lpath, epoch);
			zkc_free(lpath);
			if (++writes % 3 == 0) {
				/* hand leadership on, so epochs keep changing */
				op = chaos_hist_invoke(&g_hist, "resign", NULL);
				rc = zkc_election_resign(e);
				chaos_hist_line(&g_hist, op, rc == ZKC_OK ? "ok" : "unknown", "resign",
				                chaos_fmt(fields, sizeof(fields), "\"code\":\"%s\"",
				                          zkc_strcode(rc)));
				zkc_election_join(e);
			}
		}
		pace();
	}
	zkc_election_close(e);
}

/* ------------------------------------------------------------ queue */

static void queue_loop(void)
{
	char path[256], fields[512];
	zkc_queue_options_t o = ZKC_QUEUE_OPTIONS_INIT;
	zkc_queue_t *q = NULL;
	static const int put_definite[] = { ZKC_ENONODE, ZKC_EBADARGUMENTS, ZKC_ETOOLARGE };

	snprintf(path, sizeof(path), "%s/queue", g_root);
	o.flags = ZKC_QUEUE_CREATE;
	while (!g_stop && zkc_queue_open(&q, g_zk, path, &o) != ZKC_OK)
		pace();
	while (!g_stop) {
		if (rnd(2) == 0) {
			char item[64];
			long op;
			int rc;

			snprintf(item, sizeof(item), "%s-%ld", g_name, ++g_seq);
			op = chaos_hist_invoke(&g_hist, "put", chaos_fmt(fields, sizeof(fields),
			                       "\"item\":\"%s\"", item));
			char *name = NULL;

			rc = zkc_queue_put(&name, q, item, strlen(item), (int)rnd(3));
			chaos_hist_line(&g_hist, op, write_outcome(rc, put_definite, 3), "put",
			                chaos_fmt(fields, sizeof(fields), "\"item\":\"%s\",\"name\":\"%s\","
			                          "\"code\":\"%s\"", item, name ? name : "",
			                          zkc_strcode(rc)));
			zkc_free(name);
			if (rc == ZKC_ENONODE) {    /* wiped: make the queue again */
				zkc_queue_close(q);
				q = NULL;
				while (!g_stop && zkc_queue_open(&q, g_zk, path, &o) != ZKC_OK)
					pace();
				if (!q)
					return;
			}
		} else {
			int mode = rnd(2) ? ZKC_QUEUE_TAKE_ACK : ZKC_QUEUE_TAKE_DELETE;
			const char *mname = mode == ZKC_QUEUE_TAKE_ACK ? "ack" : "delete";
			zkc_queue_item_t *it = NULL;
			char esc[128] = "";
			long op = chaos_hist_invoke(&g_hist, "take", chaos_fmt(fields, sizeof(fields),
			                            "\"mode\":\"%s\"", mname));
			int rc = zkc_queue_take(&it, q, mode, 300);

			if (it)
				chaos_json_escape(esc, sizeof(esc), it->data, it->len);
			/* DELETE-mode EUNKNOWN: the item may be consumed; it must
			 * never be delivered again */
			chaos_hist_line(&g_hist, op, rc == ZKC_OK ? "ok" :
			                rc == ZKC_EUNKNOWN ? "unknown" : "fail", "take",
			                chaos_fmt(fields, sizeof(fields), "\"mode\":\"%s\",\"item\":\"%s\","
			                          "\"name\":\"%s\",\"code\":\"%s\"", mname, esc,
			                          it && it->name ? it->name : "", zkc_strcode(rc)));
			if (rc == ZKC_OK && mode == ZKC_QUEUE_TAKE_ACK) {
				int nack = rnd(5) == 0;

				op = chaos_hist_invoke(&g_hist, nack ? "nack" : "ack", chaos_fmt(fields,
				                       sizeof(fields), "\"item\":\"%s\"", esc));
				rc = nack ? zkc_queue_release(q, it) : zkc_queue_ack(q, it);
				chaos_hist_line(&g_hist, op, rc == ZKC_OK ? "ok" :
				                rc == ZKC_ELOST ? "fail" : "unknown", nack ? "nack" : "ack",
				                chaos_fmt(fields, sizeof(fields), "\"item\":\"%s\","
				                          "\"code\":\"%s\"", esc, zkc_strcode(rc)));
			}
			zkc_queue_item_free(it);
		}
		pace();
	}
	zkc_queue_close(q);
}

/* ------------------------------------------------------------ index */

static const zkc_index_field_t index_fields[] = {
	{ "color", 0 }, { "size", 0 }
};

static int index_reopen(zkc_index_t **ix, const char *path)
{
	zkc_index_close(*ix);
	*ix = NULL;
	while (!g_stop) {
		int rc = zkc_index_create(g_zk, path, index_fields, 2);

		if ((rc == ZKC_OK || rc == ZKC_ENODEEXISTS) &&
		    zkc_index_open(ix, g_zk, path, NULL) == ZKC_OK)
			return 0;
		pace();
	}
	return -1;
}

static void index_loop(void)
{
	static const char *colors[] = { "red", "green", "blue" };
	char path[256], fields[256];
	zkc_index_t *ix = NULL;

	snprintf(path, sizeof(path), "%s/index", g_root);
	if (index_reopen(&ix, path) != 0)
		return;
	while (!g_stop) {
		char id[32], size[16];
		const char *f;
		long op;
		int rc;

		snprintf(id, sizeof(id), "i%u", rnd(NINDEX));
		if (rnd(4) == 0) {
			f = "idel";
			op = chaos_hist_invoke(&g_hist, f, chaos_fmt(fields, sizeof(fields),
			                       "\"id\":\"%s\"", id));
			rc = zkc_index_delete(ix, id, strlen(id), 0);
		} else {
			const char *color = colors[rnd(3)];
			zkc_index_kv_t kv[2];

			snprintf(size, sizeof(size), "%u", rnd(100));
			kv[0].name = "color";
			kv[0].value = color;
			kv[0].len = strlen(color);
			kv[1].name = "size";
			kv[1].value = size;
			kv[1].len = strlen(size);
			f = "iput";
			op = chaos_hist_invoke(&g_hist, f, chaos_fmt(fields, sizeof(fields),
			                       "\"id\":\"%s\",\"color\":\"%s\",\"size\":\"%s\"", id,
			                       color, size));
			rc = zkc_index_put(ix, id, strlen(id), g_name, strlen(g_name), kv, 2, 0);
		}
		chaos_hist_line(&g_hist, op, rc == ZKC_OK ? "ok" :
		                rc == ZKC_EUNKNOWN || rc == ZKC_ETIMEDOUT ? "unknown" : "fail",
		                f,
		                chaos_fmt(fields, sizeof(fields), "\"id\":\"%s\",\"code\":\"%s\"", id,
		                          zkc_strcode(rc)));
		if (rc == ZKC_EDATAINCONSISTENCY)
			fprintf(stderr, "chaos_worker %s: %s\n", g_name, zkc_error_last()->message);
		if (rc == ZKC_ENONODE && zkc_exists(NULL, g_zk, path) == ZKC_ENONODE &&
		    index_reopen(&ix, path) != 0)
			return;
		pace();
	}
	zkc_index_close(ix);
}

/* ------------------------------------------------------------ cache */

/* Compares the cache with the servers once: 0 equal, else 1 with the
 * first difference in why. */
static int cache_differs(zkc_cache_t *cache, const char *dir, char *why, size_t whylen,
                         int64_t *out_zxid)
{
	zkc_strings_t *kids = NULL, *ckids = NULL;
	zkc_stat_t dst;
	size_t i;
	int rc;

	*out_zxid = 0;
	zkc_sync(g_zk, dir);
	rc = zkc_children(&kids, &dst, g_zk, dir);
	if (rc != ZKC_OK) {
		snprintf(why, whylen, "server children of %s: %s", dir, zkc_strcode(rc));
		return 1;
	}
	*out_zxid = dst.pzxid;
	rc = zkc_cache_children(&ckids, cache, dir);
	if (rc != ZKC_OK || ckids->count != kids->count) {
		snprintf(why, whylen, "%s: %zu children on the servers, %zu in the cache (%s)",
		         dir, kids->count, rc == ZKC_OK ? ckids->count : 0, zkc_strcode(rc));
		zkc_strings_free(kids);
		zkc_strings_free(ckids);
		return 1;
	}
	zkc_strings_free(ckids);
	for (i = 0; i < kids->count; i++) {
		char path[512], *sd = NULL, *cd = NULL;
		size_t sl = 0, cl = 0;
		zkc_stat_t ss, cs;
		int src, crc, diff;

		snprintf(path, sizeof(path), "%s/%s", dir, kids->items[i]);
		src = zkc_get(&sd, &sl, &ss, g_zk, path);
		crc = zkc_cache_get(&cd, &cl, &cs, cache, path);
		diff = src != crc || (src == ZKC_OK && (sl != cl || memcmp(sd, cd, sl) != 0 ||
		                                        ss.mzxid != cs.mzxid));
		if (src == ZKC_OK && ss.mzxid > *out_zxid)
			*out_zxid = ss.mzxid;
		if (diff)
			snprintf(why, whylen, "%s: servers %s '%s' mzxid %llx, cache %s '%s' "
			         "mzxid %llx", path, zkc_strcode(src), src == ZKC_OK ? sd : "",
			         (unsigned long long)ss.mzxid, zkc_strcode(crc),
			         crc == ZKC_OK ? cd : "", (unsigned long long)cs.mzxid);
		zkc_free(sd);
		zkc_free(cd);
		if (diff) {
			zkc_strings_free(kids);
			return 1;
		}
	}
	zkc_strings_free(kids);
	return 0;
}

static void cache_loop(void)
{
	char dir[256], fields[1400], why[1200] = "";
	zkc_cache_t *cache = NULL;
	int64_t deadline;
	long op;
	int converged = 0;

	snprintf(dir, sizeof(dir), "%s/reg", g_root);
	if (zkc_cache_open(&cache, g_zk, dir, NULL) != ZKC_OK) {
		fprintf(stderr, "chaos_worker %s: cache: %s\n", g_name, zkc_error_last()->message);
		return;
	}
	while (!g_stop) {
		char path[256], key[8], *d = NULL, esc[128];
		size_t len = 0;
		zkc_stat_t st;
		int rc;

		snprintf(key, sizeof(key), "r%u", rnd(NREG));
		path_of(path, sizeof(path), "reg", key);
		op = chaos_hist_invoke(&g_hist, "cread", chaos_fmt(fields, sizeof(fields),
		                       "\"k\":\"%s\"", key));
		rc = zkc_cache_get(&d, &len, &st, cache, path);
		chaos_json_escape(esc, sizeof(esc), d ? d : "", len);
		chaos_hist_line(&g_hist, op, "ok", "cread", chaos_fmt(fields, sizeof(fields),
		                "\"k\":\"%s\",\"exists\":%s,\"v\":\"%s\"", key,
		                rc == ZKC_OK ? "true" : "false", esc));
		zkc_free(d);
		pace();
	}
	if (!g_converge) {
		zkc_cache_close(cache);
		return;
	}
	/* the writers have stopped and the faults are healed: the cache must
	 * come to equal the servers' tree */
	op = chaos_hist_invoke(&g_hist, "converge", NULL);
	deadline = chaos_now_ns() + 60LL * 1000000000LL;
	while (chaos_now_ns() < deadline) {
		int64_t zxid = 0;

		if (!cache_differs(cache, dir, why, sizeof(why), &zxid)) {
			converged = 1;
			break;
		}
		zkc_cache_wait_zxid(cache, zxid, 1000);
	}
	{
		char esc[1300];

		chaos_json_escape(esc, sizeof(esc), why, strlen(why));
		chaos_hist_line(&g_hist, op, converged ? "ok" : "fail", "converge",
		                converged ? NULL : chaos_fmt(fields, sizeof(fields), "\"why\":\"%s\"",
		                                             esc));
	}
	zkc_cache_close(cache);
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	static sigset_t set;
	pthread_t th;
	const char *role;
	int rc;

	if (argc != 8) {
		fprintf(stderr, "usage: chaos_worker ROLE NAME URL ROOT HISTORY SEED "
		        "SESSION_TIMEOUT_MS\n");
		return 2;
	}
	role = argv[1];
	g_name = argv[2];
	g_root = argv[4];
	g_seed = (unsigned)strtoul(argv[6], NULL, 10);
	if (chaos_hist_open(&g_hist, argv[5], g_name) != 0) {
		fprintf(stderr, "chaos_worker: %s: %s\n", argv[5], strerror(errno));
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	o.session_timeout_ms = atoi(argv[7]);
	o.connect_timeout_ms = 60000;
	rc = zkc_open(&g_zk, argv[3], &o);
	if (rc != ZKC_OK) {
		fprintf(stderr, "chaos_worker %s: open: %s\n", g_name, zkc_error_last()->message);
		return 1;
	}
	pthread_create(&th, NULL, signal_thread, &set);
	pthread_detach(th);
	if (!strcmp(role, "reg"))
		reg_loop();
	else if (!strcmp(role, "counter"))
		counter_loop();
	else if (!strcmp(role, "lock"))
		lock_loop();
	else if (!strcmp(role, "elect"))
		elect_loop();
	else if (!strcmp(role, "queue"))
		queue_loop();
	else if (!strcmp(role, "index"))
		index_loop();
	else if (!strcmp(role, "cache"))
		cache_loop();
	else
		fprintf(stderr, "chaos_worker: unknown role %s\n", role);
	chaos_hist_line(&g_hist, 0, "exit", "exit", NULL);
	/* the signal thread may be inside expire_session: let it finish */
	{
		zkc_t *zk;

		pthread_mutex_lock(&g_zk_mu);
		zk = g_zk;
		g_zk = NULL;
		pthread_mutex_unlock(&g_zk_mu);
		zkc_close(zk);
	}
	chaos_hist_close(&g_hist);
	return 0;
}
