/* recipes/counter.c - the replicated 64-bit counter: a versioned set from a
 * cached (value, version) that a data watch keeps current; under contention
 * writers take turns (an advisory FIFO of tickets, a few adds per turn);
 * shards for hot counters. Public API only. Layout and format:
 * docs/recipes/counter.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zkc/batch.h"
#include "zkc/counter.h"
#include "zkc/multi.h"
#include "support.h"
#include "testing_break.h"

#define MAX_SHARDS 256
#define DEFAULT_TIMEOUT_MS 30000

/* Turns (see docs/recipes/counter.md, "Fairness"): a writer that met
 * contention takes a ticket, an ephemeral sequential child of the counter's
 * node; the first ticket's holder makes up to TURN_ADDS adds, or adds for
 * TURN_MS, then gives the turn on by deleting its ticket. Tickets only order
 * attempts: every write is still a versioned set, so a turn that is not
 * honoured (a holder that went quiet, a lost ticket) costs fairness, never
 * an increment. A predecessor that keeps its ticket longer than TURN_WAIT_MS
 * is passed by. */
#define TICKET_PREFIX "_zkc-turn-"
#define TURN_ADDS 64
#define TURN_MS 60
#define TURN_WAIT_MS 200

typedef struct shard {
	char *path;
	int known;          /* value/version/mzxid hold a read or write */
	int64_t value;
	int32_t version;
	int64_t mzxid;      /* orders cache updates (zxids only grow) */
	uint64_t history;   /* zkc_history_resets() mzxid belongs to */
	int watching;       /* a data watch is pending */
	int contended;      /* > 0: other writers seen lately (keep the watch) */
	int others_queued;  /* the last stat showed tickets of other writers */
	/* turns */
	int tstate;         /* T_NONE, T_TAKING (a thread queues), T_TURN */
	char *ticket;       /* own ticket's path, or NULL */
	int64_t ticket_sid; /* its session */
	int turn_adds;
	int64_t turn_start;
	long long head_seq;  /* the first ticket, and since when it is first */
	int64_t head_since;
	long long passed[8]; /* tickets held too long: passed by, ignored */
	unsigned npassed;
	int no_turns;        /* a ticket was refused (ACL, ...): go without */
} shard_t;

enum { T_NONE = 0, T_TAKING, T_TURN };

/* Reference counted: pending watches and asynchronous re-reads hold the
 * handle through callbacks that may run after zkc_counter_close. */
struct zkc_counter {
	pthread_mutex_t mu;
	pthread_cond_t cv;  /* turn changes, predecessor tickets gone */
	unsigned wakes;     /* bumped by every predecessor watch */
	int refs;
	int freed;
	zkc_t *zk;
	char *path;
	int nshards;        /* >= 1 */
	int sharded;
	int timeout_ms;
	shard_t *sh;
};

typedef struct watch_arg {
	zkc_counter_t *c;
	int shard;
} watch_arg_t;

static void c_unref(zkc_counter_t *c)
{
	int last, i;

	pthread_mutex_lock(&c->mu);
	last = --c->refs == 0;
	pthread_mutex_unlock(&c->mu);
	if (!last)
		return;
	for (i = 0; i < c->nshards; i++) {
		free(c->sh[i].path);
		free(c->sh[i].ticket);
	}
	free(c->sh);
	free(c->path);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void zkc_counter_encode(unsigned char out[8], int64_t value)
{
	uint64_t u = (uint64_t)value;
	int i;

	for (i = 7; i >= 0; i--) {
		out[i] = (unsigned char)(u & 0xff);
		u >>= 8;
	}
}

int zkc_counter_decode(int64_t *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t u = 0;
	size_t i;

	if (len == 0) {
		if (out)
			*out = 0;
		return ZKC_OK;
	}
	if (len != 8 || !p)
		return zkc_error_set(ZKC_EBADARGUMENTS, "counter data: %zu bytes, not a counter "
		                     "(8 bytes big-endian, or none)", len);
	for (i = 0; i < 8; i++)
		u = (u << 8) | p[i];
	if (out)
		*out = (int64_t)u;
	return ZKC_OK;
}

/* A sharded counter's node holds its shard count as "sh=N" (4 to 6 bytes:
 * never 0 or 8, so it is never read as a value; Curator's reader refuses
 * data shorter than 8 bytes instead of misreading it). */
static int marker_parse(const char *data, size_t len)
{
	int n = 0;
	size_t i;

	if (!data || len < 4 || len > 6 || memcmp(data, "sh=", 3) != 0 || data[3] == '0')
		return 0;
	for (i = 3; i < len; i++) {
		if (data[i] < '0' || data[i] > '9')
			return 0;
		n = n * 10 + (data[i] - '0');
	}
	return n >= 2 && n <= MAX_SHARDS ? n : 0;
}

/* Records a read or written state if it is not older than the cached one
 * (mzxid is a zxid: it only grows, so it may be ordered; versions may not). */
static void note(zkc_counter_t *c, int i, int64_t value, const zkc_stat_t *st)
{
	shard_t *s = &c->sh[i];

	uint64_t h = zkc_history_resets(c->zk);

	pthread_mutex_lock(&c->mu);
	/* zxids only grow within one history: after the ensemble lost its
	 * data they start again, and the old ones order nothing */
	if (s->history != h) {
		s->history = h;
		s->known = 0;
		s->mzxid = 0;
	}
	/* after forget() the state at s->mzxid is known to be stale: only a
	 * strictly newer one may replace it (a late watch read must not bring
	 * the old version back) */
	if (s->known ? st->mzxid >= s->mzxid : (st->mzxid > s->mzxid || s->mzxid == 0)) {
		s->known = 1;
		s->value = value;
		s->version = st->version;
		s->mzxid = st->mzxid;
		/* a counter node has no children but tickets: any beyond our own
		 * are writers waiting for a turn */
		s->others_queued = st->num_children > (s->ticket ? 1 : 0);
	}
	pthread_mutex_unlock(&c->mu);
}

static void forget(zkc_counter_t *c, int i)
{
	pthread_mutex_lock(&c->mu);
	c->sh[i].known = 0;
	pthread_mutex_unlock(&c->mu);
}

/* The data watch says the cached state may be stale (another writer, or
 * our own write): the next add re-arms it inside its own request. */
static void on_watch(zkc_t *zk, const zkc_event_t *ev, void *payload)
{
	watch_arg_t *w = payload;
	zkc_counter_t *c = w->c;
	int i = w->shard;

	(void)zk;
	free(w);
	pthread_mutex_lock(&c->mu);
	c->sh[i].watching = 0;
	if (ev->type == ZKC_EVENT_DELETED || ev->type == ZKC_EVENT_WATCH_CANCELLED)
		c->sh[i].known = 0;
	pthread_mutex_unlock(&c->mu);
	c_unref(c);
}

/* Claims an empty node (no counter value yet) for `want` shards with a
 * versioned write of the shard count, so two first openers that disagree
 * cannot both win. */
static int claim_layout(zkc_t *zk, const char *path, int want, int32_t version)
{
	char mark[8];
	int n = snprintf(mark, sizeof(mark), "sh=%d", want);

	return zkc_set(NULL, zk, path, mark, (size_t)n, version);
}

/* The counter's layout as stored at `path`, checked against what the
 * caller asked for (`want`: 0 no preference, 1 plain, N sharded). *out is
 * the shard count to use (1 = plain). A missing counter takes `want` (the
 * first sharded write stores it). */
static int read_layout(int *out, zkc_t *zk, const char *path, int want)
{
	int attempt;

	for (attempt = 0; attempt < 10; attempt++) {
		char *data = NULL;
		size_t len = 0;
		zkc_stat_t st;
		int rc, stored;

		rc = zkc_get(&data, &len, &st, zk, path);
		if (rc == ZKC_ENONODE) {
			*out = want > 1 ? want : 1;
			return ZKC_OK;
		}
		if (rc != ZKC_OK)
			return rc;
		stored = marker_parse(data, len);
		zkc_free(data);
		if (stored) {
			if (want != 0 && want != stored)
				return zkc_error_set(ZKC_EBADARGUMENTS, "counter %s has %d shards (stored "
				                     "at its node), not the %d asked for (0 takes the "
				                     "stored count)", path, stored, want);
			*out = stored;
			return ZKC_OK;
		}
		if (len == 8) {
			if (want > 1)
				return zkc_error_set(ZKC_EBADARGUMENTS, "counter %s is a plain counter (one "
				                     "node), not the %d shards asked for", path, want);
			*out = 1;
			return ZKC_OK;
		}
		if (len != 0) {
			if (want > 1)
				return zkc_error_set(ZKC_EBADARGUMENTS, "counter %s: its node holds %zu "
				                     "bytes: not a counter", path, len);
			*out = 1;   /* every read and write of it says "not a counter" */
			return ZKC_OK;
		}
		if (want <= 1) {
			if (st.num_children > 0)
				return zkc_error_set(ZKC_EBADARGUMENTS, "counter %s: the node has children "
				                     "but no value and no shard count: not a counter (a "
				                     "sharded counter of an older zkc: open it with its "
				                     "shard count)", path);
			*out = 1;
			return ZKC_OK;
		}
		rc = claim_layout(zk, path, want, st.version);
		if (rc == ZKC_OK) {
			*out = want;
			return ZKC_OK;
		}
		if (rc != ZKC_EBADVERSION && rc != ZKC_ENONODE)
			return rc;
		/* changed meanwhile: read it again */
	}
	return zkc_error_set(ZKC_ETIMEDOUT, "counter %s: its node kept changing while its layout "
	                     "was read", path);
}

/* ------------------------------------------------------------ turns */

static int64_t session_of(zkc_t *zk)
{
	int64_t sid = 0;

	return zkc_session(&sid, NULL, NULL, zk) == ZKC_OK ? sid : 0;
}

/* Deletes a ticket of session sid in the background (one of an older
 * session went with it) and frees the string. */
static void ticket_drop(zkc_counter_t *c, char *ticket, int64_t sid)
{
	zkc_batch_t *b = NULL;

	if (session_of(c->zk) == sid && zkc_batch_new(&b) == ZKC_OK) {
		if (zkc_batch_delete(b, ticket, -1) < 0 ||
		    zkc_batch_run_async(c->zk, b, NULL, NULL) != ZKC_OK)
			zkc_batch_free(b);
	}
	free(ticket);
}

/* Ends shard i's turn and deletes its ticket (in the background unless
 * `wait`). */
static void turn_give_back(zkc_counter_t *c, int i, int wait)
{
	shard_t *s = &c->sh[i];
	char *ticket;
	int64_t sid;

	pthread_mutex_lock(&c->mu);
	ticket = s->ticket;
	sid = s->ticket_sid;
	s->ticket = NULL;
	if (s->tstate == T_TURN)
		s->tstate = T_NONE;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (!ticket)
		return;
	if (wait) {
		if (session_of(c->zk) == sid)
			zkc_delete(c->zk, ticket, -1, 0);
		free(ticket);
	} else {
		ticket_drop(c, ticket, sid);
	}
}

/* Whether the write about to be sent on shard i is the last of its turn
 * (the turn has had its adds or its time, and another writer waits): then
 * the turn ends now and its ticket (returned, the caller's) is deleted in
 * the same request, right behind the write, so the next writer in line
 * hears of it one round trip sooner than from a delete sent after the
 * write's reply. NULL: not the last, or no ticket of this session. */
static char *turn_ending(zkc_counter_t *c, int i, int64_t sid)
{
	shard_t *s = &c->sh[i];
	char *ticket = NULL;

	pthread_mutex_lock(&c->mu);
	if (s->tstate == T_TURN && s->ticket && s->ticket_sid == sid && s->others_queued &&
	    (s->turn_adds + 1 >= TURN_ADDS || zkcr_now_ms() - s->turn_start >= TURN_MS)) {
		ticket = s->ticket;
		s->ticket = NULL;
		s->tstate = T_NONE;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return ticket;
}

static void on_predecessor(zkc_t *zk, const zkc_event_t *ev, void *payload)
{
	zkc_counter_t *c = payload;

	(void)zk;
	(void)ev;
	pthread_mutex_lock(&c->mu);
	c->wakes++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	c_unref(c);
}

static long long ticket_seq(const char *name)
{
	size_t n = strlen(name), k = strlen(TICKET_PREFIX);

	if (n != k + 10 || strncmp(name, TICKET_PREFIX, k) != 0)
		return -1;
	return atoll(name + k);
}

/* Waits on c->cv (mu held) until `wakes` moves from w0 or until `until`.
 * 0, or ZKC_ECANCELED when the calling thread's cancellation token fired. */
static int wait_wake(zkc_counter_t *c, unsigned w0, int64_t until)
{
	while (c->wakes == w0) {
		int rc = zkcr_cond_wait_until(&c->cv, &c->mu, until);

		if (rc == ZKC_ECANCELED)
			return rc;
		if (rc == ZKC_ETIMEDOUT)
			return 0;
	}
	return 0;
}

static int passed_by(const shard_t *s, long long seq)
{
	unsigned k;

	for (k = 0; k < s->npassed && k < 8; k++)
		if (s->passed[k] == seq)
			return 1;
	return 0;
}

/* Internal, positive (codes are negative): look again. */
#define AGAIN 1

/* Our ticket for shard s if we hold one on session sid (a copy), else
 * NULL; one of an older session went with it. */
static char *own_ticket(zkc_counter_t *c, shard_t *s, int64_t sid)
{
	char *ticket;

	pthread_mutex_lock(&c->mu);
	if (s->ticket && s->ticket_sid != sid) {
		free(s->ticket);  /* went with its session */
		s->ticket = NULL;
	}
	ticket = s->ticket ? strdup(s->ticket) : NULL;
	pthread_mutex_unlock(&c->mu);
	return ticket;
}

/* The value read by op gi of a batch goes to the cache of shard i. */
static void note_read(zkc_counter_t *c, int i, const zkc_batch_t *b, size_t gi)
{
	zkc_stat_t st;
	size_t len = 0;
	const char *data;
	int64_t v;

	if (zkc_batch_code(b, gi) != ZKC_OK)
		return;
	data = zkc_batch_data(b, gi, &len);
	if (zkc_batch_stat(&st, b, gi) == ZKC_OK && zkc_counter_decode(&v, data, len) == ZKC_OK)
		note(c, i, v, &st);
}

/* Records the ticket that op ci created (a copy into *ticket, its
 * session into *sid), or returns the create's code. */
static int record_ticket(char **ticket, int64_t *sid, zkc_counter_t *c, shard_t *s,
                         const zkc_batch_t *b, size_t ci)
{
	int rc = zkc_batch_code(b, ci);

	if (rc != ZKC_OK)
		return rc;
	if (!(*ticket = strdup(zkc_batch_path(b, ci))))
		return zkc_error_set(ZKC_ENOMEM, "counter %s: out of memory", s->path);
	*sid = zkc_batch_session(b);
	pthread_mutex_lock(&c->mu);
	free(s->ticket);
	s->ticket = strdup(*ticket);
	s->ticket_sid = *sid;
	pthread_mutex_unlock(&c->mu);
	return ZKC_OK;
}

/* One round trip: our ticket (created when *ticket is NULL), the listing
 * of the shard's tickets (op *li of *out on ZKC_OK) and a read of the
 * counter into the cache, so a turn starts from fresh state. */
static int ticket_round(zkc_batch_t **out, size_t *li, char **ticket, int64_t *sid,
                        zkc_counter_t *c, int i)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	shard_t *s = &c->sh[i];
	zkc_batch_t *b = NULL;
	char *prefix = NULL;
	int rc, ci = -1, l, gi;

	*out = NULL;
	if ((rc = zkc_batch_new(&b)) != ZKC_OK)
		return rc;
	if (!*ticket) {
		if (asprintf(&prefix, "%s/" TICKET_PREFIX, s->path) < 0) {
			zkc_batch_free(b);
			return zkc_error_set(ZKC_ENOMEM, "counter %s: out of memory", s->path);
		}
		co.mode = ZKC_EPHEMERAL_SEQUENTIAL;
		ci = zkc_batch_create(b, prefix, NULL, 0, &co);
		free(prefix);
	}
	l = zkc_batch_children(b, s->path, 0, NULL, NULL);
	gi = zkc_batch_get(b, s->path, 0, NULL, NULL);
	rc = (!*ticket && ci < 0) || l < 0 || gi < 0 ? ZKC_ENOMEM : zkc_batch_run(c->zk, b);
	if (rc == ZKC_OK && !*ticket)
		rc = record_ticket(ticket, sid, c, s, b, (size_t)ci);
	if (rc == ZKC_OK && (rc = zkc_batch_code(b, (size_t)l)) == ZKC_OK)
		note_read(c, i, b, (size_t)gi);
	if (rc != ZKC_OK) {
		zkc_batch_free(b);
		return rc;
	}
	*out = b;
	*li = (size_t)l;
	return ZKC_OK;
}

/* The tickets ahead of ours, `mine` (mu held): *pred the nearest, NULL
 * when we are first in line. A first ticket that has stayed first for
 * TURN_WAIT_MS is passed by, and AGAIN says to look again without it.
 * *until: when the first ticket's time is up. */
static int scan_line(char **pred, int64_t *until, shard_t *s, const zkc_strings_t *kids,
                     long long mine)
{
	long long best = -1, head = -1;
	size_t k;

	*pred = NULL;
	for (k = 0; k < kids->count; k++) {
		long long q = ticket_seq(kids->items[k]);

		if (q < 0 || q >= mine || passed_by(s, q))
			continue;
		if (head < 0 || q < head)
			head = q;
		if (q > best) {
			best = q;
			free(*pred);
			if (asprintf(pred, "%s/%s", s->path, kids->items[k]) < 0)
				*pred = NULL;
		}
	}
	if (head >= 0 && head != s->head_seq) {
		s->head_seq = head;
		s->head_since = zkcr_now_ms();
	}
	*until = s->head_since + TURN_WAIT_MS;
	if (head >= 0 && zkcr_now_ms() - s->head_since >= TURN_WAIT_MS) {
		s->passed[s->npassed++ % 8] = head;  /* first too long: pass it by */
		free(*pred);
		*pred = NULL;
		return AGAIN;
	}
	return ZKC_OK;
}

/* Waits for the predecessor ticket to go, or until `until`; the caller
 * then looks again. */
static int wait_predecessor(zkc_counter_t *c, const char *pred, int64_t until)
{
	unsigned w0;
	int rc;

	pthread_mutex_lock(&c->mu);
	c->refs++;
	w0 = c->wakes;
	pthread_mutex_unlock(&c->mu);
	rc = zkc_get_w(NULL, NULL, NULL, c->zk, pred, on_predecessor, c);
	if (rc != ZKC_OK) {
		c_unref(c);  /* no watch set */
		return rc == ZKC_ENONODE ? ZKC_OK : rc;  /* gone already: look again */
	}
	pthread_mutex_lock(&c->mu);
	rc = wait_wake(c, w0, until);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* Takes a ticket for shard i (unless it holds one on this session) and
 * waits for its turn: no older ticket left, except ones that stayed first
 * for TURN_WAIT_MS (a holder gone quiet or dead: passed by, then ignored).
 * The listing and a read of the counter ride in the same round trip as the
 * ticket, so the turn starts from fresh state. Called by the one thread
 * that set T_TAKING. ZKC_OK: the turn is ours. */
static int take_turn(zkc_counter_t *c, int i, int64_t deadline)
{
	shard_t *s = &c->sh[i];
	int64_t sid = session_of(c->zk);

	for (;;) {
		char *ticket = own_ticket(c, s, sid), *pred = NULL;
		zkc_batch_t *b = NULL;
		int64_t until = 0;
		size_t li = 0;
		int rc = ticket_round(&b, &li, &ticket, &sid, c, i);

		if (rc != ZKC_OK) {
			free(ticket);
			return rc;
		}
		pthread_mutex_lock(&c->mu);
		rc = scan_line(&pred, &until, s, zkc_batch_children_of(b, li),
		               ticket_seq(strrchr(ticket, '/') + 1));
		pthread_mutex_unlock(&c->mu);
		zkc_batch_free(b);
		free(ticket);
		if (rc == AGAIN)
			continue;        /* look again without the passed-by ticket */
		if (!pred)
			return ZKC_OK;  /* first in line */
		if (zkcr_now_ms() >= deadline) {
			free(pred);
			return zkc_error_set(ZKC_ETIMEDOUT, "counter %s: no turn to write before the "
			                     "deadline", s->path);
		}
		/* wait for the predecessor to go, looking again when the first
		 * ticket has been first for TURN_WAIT_MS */
		rc = wait_predecessor(c, pred, until < deadline ? until : deadline);
		free(pred);
		if (rc != ZKC_OK)
			return rc;
	}
}

/* Before an attempt on shard i: a writer that met contention (a lost race,
 * or other writers' tickets in the last stat) waits for its turn. Threads
 * of one handle share a turn. Any failure to queue just means going on
 * without a turn. */
static int await_turn(zkc_counter_t *c, int i, int64_t deadline)
{
	shard_t *s = &c->sh[i];
	int rc = ZKC_OK;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		/* sharded adds go to a random shard each time: a turn on one
		 * shard would sit idle while its holder adds elsewhere, so
		 * sharding spreads contention instead */
		if (s->tstate == T_TURN || !(s->contended > 0 || s->others_queued) || !s->known ||
		    s->no_turns || c->sharded)
			break;
		if (s->tstate == T_TAKING) {
			unsigned w0 = c->wakes;

			if (zkcr_now_ms() >= deadline)
				break;
			if ((rc = wait_wake(c, w0, deadline)) != ZKC_OK)
				break;
			continue;
		}
		s->tstate = T_TAKING;
		pthread_mutex_unlock(&c->mu);
		rc = take_turn(c, i, deadline);
		pthread_mutex_lock(&c->mu);
		s->tstate = rc == ZKC_OK ? T_TURN : T_NONE;
		if (rc != ZKC_OK && rc != ZKC_ECONNECTIONLOSS && rc != ZKC_ETIMEDOUT &&
		    rc != ZKC_EOPERATIONTIMEOUT && rc != ZKC_ECLOSED && rc != ZKC_ENONODE &&
		    rc != ZKC_ECANCELED)
			s->no_turns = 1;
		s->turn_adds = 0;
		s->turn_start = zkcr_now_ms();
		c->wakes++;
		pthread_cond_broadcast(&c->cv);
		if (rc != ZKC_ECANCELED)
			rc = ZKC_OK;  /* no turn: go on without one */
		break;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* After an add on shard i: a turn that has had its adds (or its time)
 * passes to the next ticket, if another writer waits. */
static void after_add(zkc_counter_t *c, int i)
{
	shard_t *s = &c->sh[i];
	int give = 0;

	pthread_mutex_lock(&c->mu);
	if (s->tstate == T_TURN) {
		s->turn_adds++;
		if (s->turn_adds >= TURN_ADDS || zkcr_now_ms() - s->turn_start >= TURN_MS) {
			if (s->others_queued) {
				give = 1;
			} else {
				s->turn_adds = 0;  /* nobody waits: keep it */
				s->turn_start = zkcr_now_ms();
			}
		}
	}
	pthread_mutex_unlock(&c->mu);
	if (give)
		turn_give_back(c, i, 0);
}

int zkc_counter_open(zkc_counter_t **out, zkc_t *zk, const char *path,
                     const zkc_counter_options_t *opts)
{
	zkc_counter_options_t o = ZKC_COUNTER_OPTIONS_INIT;
	zkc_counter_t *c;
	int i;
	int nshards = 1, rc;

	if (!out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "counter open: out is NULL");
	*out = NULL;
	if (opts)
		o = *opts;
	if (!zk || !path)
		return zkc_error_set(ZKC_EBADARGUMENTS, "counter open: %s is NULL", zk ? "path" : "client");
	if ((rc = zkc_path_validate(path, (size_t)-1)) != ZKC_OK)
		return rc;      /* its message names the path and the fault */
	if (strcmp(path, "/") == 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "counter /: the root cannot be a counter");
	if ((rc = zkc_options_version_check("zkc_counter_open", o.version,
	                                    ZKC_COUNTER_OPTIONS_VERSION)) != ZKC_OK)
		return zkc_error_set(rc, "counter %s: %s", path, zkc_error_last()->message);
	if (o.shards < 0 || o.shards > MAX_SHARDS || o.timeout_ms < 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "counter %s: shards %d (0..%d) or timeout_ms "
		                     "%d (>= 0) out of range", path, o.shards, MAX_SHARDS, o.timeout_ms);
	if ((rc = read_layout(&nshards, zk, path, o.shards)) != ZKC_OK)
		return rc;
	c = calloc(1, sizeof(*c));
	if (!c)
		return zkc_error_set(ZKC_ENOMEM, "counter %s: out of memory", path);
	pthread_mutex_init(&c->mu, NULL);
	if (zkcr_cond_init(&c->cv) != ZKC_OK) {
		pthread_mutex_destroy(&c->mu);
		free(c);
		return zkc_error_set(ZKC_ENOMEM, "counter %s: out of memory", path);
	}
	c->refs = 1;
	c->zk = zk;
	c->sharded = nshards > 1;
	c->nshards = nshards;
	c->timeout_ms = o.timeout_ms ? o.timeout_ms : DEFAULT_TIMEOUT_MS;
	c->path = strdup(path);
	c->sh = calloc((size_t)c->nshards, sizeof(*c->sh));
	if (!c->path || !c->sh)
		goto nomem;
	for (i = 0; i < c->nshards; i++) {
		c->sh[i].head_seq = -1;
		if (!c->sharded)
			c->sh[i].path = strdup(path);
		else if (asprintf(&c->sh[i].path, "%s/shard-%04d", path, i) < 0)
			c->sh[i].path = NULL;
		if (!c->sh[i].path)
			goto nomem;
	}
	*out = c;
	return ZKC_OK;
nomem:
	c_unref(c);
	return zkc_error_set(ZKC_ENOMEM, "counter %s: out of memory", path);
}

void zkc_counter_close(zkc_counter_t *c)
{
	int i;

	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->freed = 1;
	pthread_mutex_unlock(&c->mu);
	for (i = 0; i < c->nshards; i++)
		turn_give_back(c, i, 1);
	c_unref(c);
}

const char *zkc_counter_path(const zkc_counter_t *c)
{
	return c ? c->path : NULL;
}

/* A blocking read of shard i into the cache. Missing: known as absent. */
static int read_shard(int64_t *out_value, int32_t *out_version, int *out_exists, zkc_counter_t *c,
                      int i)
{
	char *data = NULL;
	size_t len = 0;
	zkc_stat_t st;
	int64_t v;
	int rc;

	*out_exists = 0;        /* every output is set on every path */
	*out_value = 0;
	*out_version = -1;
	rc = zkc_get(&data, &len, &st, c->zk, c->sh[i].path);
	if (rc == ZKC_ENONODE) {
		forget(c, i);
		return ZKC_OK;
	}
	if (rc != ZKC_OK)
		return rc;
	rc = zkc_counter_decode(&v, data, len);
	if (rc != ZKC_OK) {
		int stored = !c->sharded ? marker_parse(data, len) : 0;

		zkc_free(data);
		if (stored)
			return zkc_error_set(ZKC_EBADARGUMENTS, "counter %s became a sharded counter "
			                     "(%d shards) after this handle was opened: open it again",
			                     c->path, stored);
		return zkc_error_set(ZKC_EBADARGUMENTS, "counter %s: node %s holds %zu bytes: not a "
		                     "counter (8 bytes big-endian, or none)", c->path, c->sh[i].path, len);
	}
	zkc_free(data);
	note(c, i, v, &st);
	*out_exists = 1;
	*out_value = v;
	*out_version = st.version;
	return ZKC_OK;
}

/* Whether the node of a sharded counter still holds its shard count
 * (missing is fine: the counter reads 0 until its first write). */
static int check_layout(zkc_counter_t *c, int code, const char *data, size_t len)
{
	int stored;

	if (code == ZKC_ENONODE)
		return ZKC_OK;
	if (code != ZKC_OK)
		return zkc_error_set(code, "counter %s: read: %s", c->path, zkc_strerror(code));
	stored = marker_parse(data, len);
	if (stored == c->nshards)
		return ZKC_OK;
	if (stored)
		return zkc_error_set(ZKC_EBADARGUMENTS, "counter %s now has %d shards, not the %d "
		                     "this handle was opened with: open it again", c->path, stored,
		                     c->nshards);
	return zkc_error_set(ZKC_EBADARGUMENTS, "counter %s: its node no longer holds the shard "
	                     "count (%zu bytes): not a sharded counter now", c->path, len);
}

static int check_root(zkc_counter_t *c, zkc_batch_t *b, size_t idx)
{
	size_t len = 0;
	const char *data = zkc_batch_data(b, idx, &len);

	return check_layout(c, zkc_batch_code(b, idx), data, len);
}

int zkc_counter_get(int64_t *out, zkc_counter_t *c)
{
	zkc_batch_t *b = NULL;
	int64_t sum = 0, v;
	int i, rc;

	if (!c)
		return zkc_error_set(ZKC_EBADARGUMENTS, "counter get: handle is NULL");
	if ((rc = zkc_batch_new(&b)) != ZKC_OK)
		return rc;
	for (i = 0; i < c->nshards; i++)
		zkc_batch_get(b, c->sh[i].path, 0, NULL, NULL);
	if (c->sharded)     /* the stored shard count rides along: no extra round trip */
		zkc_batch_get(b, c->path, 0, NULL, NULL);
	rc = zkc_batch_run(c->zk, b);
	if (rc == ZKC_OK && c->sharded)
		rc = check_root(c, b, (size_t)c->nshards);
	for (i = 0; rc == ZKC_OK && i < c->nshards; i++) {
		int code = zkc_batch_code(b, (size_t)i);
		const char *data;
		size_t len = 0;
		zkc_stat_t st;

		if (code == ZKC_ENONODE)
			continue;
		if (code != ZKC_OK) {
			rc = zkc_error_set(code == ZKC_ECONNECTIONLOSS ? ZKC_ETIMEDOUT : code,
			                   "counter %s: read %s: %s", c->path, c->sh[i].path,
			                   zkc_strerror(code));
			break;
		}
		data = zkc_batch_data(b, (size_t)i, &len);
		if (zkc_counter_decode(&v, data, len) != ZKC_OK) {
			int stored = !c->sharded ? marker_parse(data, len) : 0;

			rc = stored ? zkc_error_set(ZKC_EBADARGUMENTS, "counter %s became a sharded "
			                            "counter (%d shards) after this handle was opened: "
			                            "open it again", c->path, stored)
			            : zkc_error_set(ZKC_EBADARGUMENTS, "counter %s: node %s holds %zu "
			                            "bytes: not a counter", c->path, c->sh[i].path, len);
			break;
		}
		zkc_batch_stat(&st, b, (size_t)i);
		note(c, i, v, &st);
		if (__builtin_add_overflow(sum, v, &sum))
			rc = zkc_error_set(ZKC_EBADARGUMENTS, "counter %s: the sum of its %d shards "
			                   "overflows int64", c->path, c->nshards);
	}
	zkc_batch_free(b);
	if (rc == ZKC_OK && out)
		*out = sum;
	return rc;
}

/* Creates the node of a sharded counter holding its shard count (with
 * parents); one that exists must hold the same count. */
static int create_root(zkc_counter_t *c)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	char mark[8], *data = NULL;
	size_t len = 0;
	int n = snprintf(mark, sizeof(mark), "sh=%d", c->nshards), rc;

	co.flags = ZKC_CREATE_PARENTS;
	rc = zkc_create(NULL, NULL, c->zk, c->path, mark, (size_t)n, &co);
	if (rc != ZKC_ENODEEXISTS)
		return rc;
	rc = zkc_get(&data, &len, NULL, c->zk, c->path);
	if (rc == ZKC_ENONODE)
		return rc;      /* gone again: the caller retries */
	rc = check_layout(c, rc, data, len);
	zkc_free(data);
	return rc;
}

/* Creates shard i holding `value` (plain: with parents; sharded: under a
 * node that holds the shard count, created first when missing). */
static int create_shard(zkc_counter_t *c, int i, int64_t value, zkc_stat_t *st)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	unsigned char buf[8];
	int rc;

	zkc_counter_encode(buf, value);
	if (!c->sharded) {
		co.flags = ZKC_CREATE_PARENTS;
		return zkc_create(NULL, st, c->zk, c->sh[i].path, buf, 8, &co);
	}
	rc = zkc_create(NULL, st, c->zk, c->sh[i].path, buf, 8, &co);
	if (rc != ZKC_ENONODE)
		return rc;
	if ((rc = create_root(c)) != ZKC_OK)
		return rc;
	return zkc_create(NULL, st, c->zk, c->sh[i].path, buf, 8, &co);
}

/* Forgets shard i's cached state if it is still the one an attempt used
 * (a fresher state noted meanwhile is kept). */
static int forget_if(zkc_counter_t *c, int i, int32_t ver)
{
	int fresh;

	pthread_mutex_lock(&c->mu);
	c->sh[i].contended = 64;
	if (c->sh[i].known && c->sh[i].version == ver)
		c->sh[i].known = 0;
	fresh = c->sh[i].known;
	pthread_mutex_unlock(&c->mu);
	return fresh;
}

/* The versioned write of an add, with a read that re-arms the data watch
 * pipelined behind it when none is pending and other writers were seen in
 * the last 64 adds: one round trip, and after a lost race the fresh state
 * is already here. A lone writer sends the write alone (its own writes
 * would fire the watch every time, for nothing). A write whose reply was lost
 * is settled by the core's versioned set (it retries only while the version
 * still says the lost write did not happen), else ZKC_EUNKNOWN. */
static int set_pipelined(zkc_stat_t *st, zkc_counter_t *c, int i, int64_t next, int32_t ver)
{
	unsigned char buf[8];
	watch_arg_t *w = NULL;
	zkc_batch_t *b = NULL;
	char *ending = NULL;
	int64_t sid = session_of(c->zk);
	int rc, code, gi = -1, di = -1;

#ifdef ZKC_TESTING_BREAKS
	if (zkcr_testing_break("counter-no-version"))
		ver = -1;   /* the defect: write over whatever is there */
#endif
	zkc_counter_encode(buf, next);
	if ((rc = zkc_batch_new(&b)) != ZKC_OK)
		return rc;
	if (zkc_batch_set(b, c->sh[i].path, buf, 8, ver) < 0) {
		zkc_batch_free(b);
		return zkc_error_set(ZKC_ENOMEM, "counter %s: out of memory", c->path);
	}
	pthread_mutex_lock(&c->mu);
	if (c->sh[i].contended > 0)
		c->sh[i].contended--;
	/* the turn's holder is the one writer that honours the line: others
	 * wait, so the watch would only fire on its own writes */
	if (c->sh[i].contended > 0 && !c->sh[i].watching && !c->freed &&
	    c->sh[i].tstate != T_TURN && (w = malloc(sizeof(*w))) != NULL) {
		c->sh[i].watching = 1;
		c->refs++;
		w->c = c;
		w->shard = i;
	}
	pthread_mutex_unlock(&c->mu);
	if (w && (gi = zkc_batch_get(b, c->sh[i].path, 1, on_watch, w)) < 0)
		gi = -1;
	if ((ending = turn_ending(c, i, sid)) != NULL && (di = zkc_batch_delete(b, ending, -1)) < 0)
		di = -1;
	rc = zkc_batch_run(c->zk, b);
	code = rc == ZKC_OK ? zkc_batch_code(b, 0) : rc;
	if (ending) {
		int dc = rc == ZKC_OK && di >= 0 ? zkc_batch_code(b, (size_t)di) : rc;

		if (dc == ZKC_OK || dc == ZKC_ENONODE)
			free(ending);
		else
			ticket_drop(c, ending, sid);   /* not sent, or its reply lost */
	}
	if (rc == ZKC_OK && code == ZKC_OK)
		zkc_batch_stat(st, b, 0);
	if (w && (rc != ZKC_OK || gi < 0 || zkc_batch_code(b, (size_t)gi) != ZKC_OK)) {
		/* no watch was set: it will never fire */
		pthread_mutex_lock(&c->mu);
		c->sh[i].watching = 0;
		c->refs--;
		pthread_mutex_unlock(&c->mu);
		free(w);
	} else if (w) {
		note_read(c, i, b, (size_t)gi);
	}
	zkc_batch_free(b);
	if (rc != ZKC_OK)
		return rc;      /* not sent */
	if (code == ZKC_ECONNECTIONLOSS || code == ZKC_ETIMEDOUT) {
		rc = zkc_set(st, c->zk, c->sh[i].path, buf, 8, ver);
		if (rc == ZKC_OK || rc == ZKC_EUNKNOWN)
			return rc;
		return zkc_error_set(ZKC_EUNKNOWN, "counter %s: write of %s: reply lost, and the "
		                     "check after it failed: %s", c->path, c->sh[i].path,
		                     zkc_error_last()->message);
	}
	if (code != ZKC_OK)
		return zkc_error_set(code, "counter %s: write %s: %s", c->path, c->sh[i].path,
		                     zkc_strerror(code));
	return code;
}

/* What an update writes: cur + delta for an add (expected NULL), `value`
 * for a compare-and-set whose expected value holds. */
typedef struct change {
	int64_t delta;
	const int64_t *expected;
	int64_t value;
} change_t;

/* The state an attempt on shard i starts from. */
typedef struct attempt {
	int known;      /* from the cache, not a read */
	int missing;    /* the shard does not exist */
	int64_t cur;
	int32_t ver;
} attempt_t;

/* The cached state of shard i, or a read when the cache does not know it
 * (or knew it before a history reset). */
static int attempt_load(attempt_t *a, zkc_counter_t *c, int i)
{
	int exists, rc;

	pthread_mutex_lock(&c->mu);
	a->known = c->sh[i].known && c->sh[i].history == zkc_history_resets(c->zk);
	a->cur = c->sh[i].value;
	a->ver = c->sh[i].version;
	pthread_mutex_unlock(&c->mu);
	a->missing = 0;
	if (a->known)
		return ZKC_OK;
	rc = read_shard(&a->cur, &a->ver, &exists, c, i);
	a->missing = !exists;
	return rc;
}

/* The value to write from state a. AGAIN when a cached value fails a
 * compare: the cache may be stale, so ask the server. */
static int attempt_next(int64_t *next, int64_t *out_current, zkc_counter_t *c, int i,
                        const attempt_t *a, const change_t *ch)
{
	if (!ch->expected) {
		if (__builtin_add_overflow(a->cur, ch->delta, next))
			return zkc_error_set(ZKC_EBADARGUMENTS, "counter %s: adding %lld to %lld "
			                     "overflows int64: nothing written", c->sh[i].path,
			                     (long long)ch->delta, (long long)a->cur);
		return ZKC_OK;
	}
	if (a->cur == *ch->expected) {
		*next = ch->value;
		return ZKC_OK;
	}
	if (a->known) {
		forget(c, i);
		return AGAIN;
	}
	if (out_current)
		*out_current = a->cur;
	return zkc_error_set(ZKC_EBADVERSION, "counter %s holds %lld, not the expected %lld",
	                     c->path, (long long)a->cur, (long long)*ch->expected);
}

/* Writes `next` over state a: creates a missing shard, else a versioned
 * set. The cache learns what was written. */
static int attempt_write(zkc_counter_t *c, int i, const attempt_t *a, int64_t next)
{
	zkc_stat_t st;
	int rc = a->missing ? create_shard(c, i, next, &st) : set_pipelined(&st, c, i, next, a->ver);

	if (rc == ZKC_OK)
		note(c, i, next, &st);
	return rc;
}

/* Reports a write that happened (rc ZKC_OK) or may have (ZKC_EUNKNOWN). */
static int attempt_done(zkc_counter_outcome_t *out, int64_t *out_current, zkc_counter_t *c,
                        int i, const attempt_t *a, int64_t next, int rc)
{
	after_add(c, i);
	if (out) {
		out->value = next;
		out->version = a->missing ? -1 : (int32_t)((uint32_t)a->ver + 1u);
		out->shard = i;
	}
	if (out_current)
		*out_current = next;
	if (rc == ZKC_EUNKNOWN)
		forget(c, i);
	return rc;
}

/* After a lost race (or the node came or went): the read behind the write
 * brought the state that won, and with the turn (or when taking one next)
 * the next attempt starts from it at once. Else it backs off, and a read
 * that keeps giving the old version comes from a lagging server: sync it
 * first. ZKC_OK: try again; ZKC_ETIMEDOUT past the deadline. */
static int attempt_lost(zkc_counter_t *c, int i, const attempt_t *a, int rc, int *attempt,
                        int64_t deadline)
{
	int fresh = 0, in_turn;

	if (rc == ZKC_EBADVERSION && !a->missing)
		fresh = forget_if(c, i, a->ver);
	else
		forget(c, i);
	if (zkcr_now_ms() >= deadline)
		return zkc_error_set(ZKC_ETIMEDOUT, "counter %s: other writers won every try "
		                     "for %d ms: not applied", c->path, c->timeout_ms);
	pthread_mutex_lock(&c->mu);
	in_turn = c->sh[i].tstate == T_TURN;
	pthread_mutex_unlock(&c->mu);
	if (!fresh || (!in_turn && *attempt > 0)) {
		if (*attempt >= 2)
			zkc_sync(c->zk, c->sh[i].path);
		if (*attempt > 0)
			zkcr_backoff(*attempt);
	}
	(*attempt)++;
	return ZKC_OK;
}

/* The engine of add and cas: one versioned write from the cached state,
 * re-reading after a lost race. `expected` is NULL for add. */
static int update_bound(zkc_counter_outcome_t *out, int64_t *out_current, zkc_counter_t *c,
                        int i, const change_t ch, int64_t deadline)
{
	int64_t next = 0;
	int attempt = 0, rc;

	for (;;) {
		attempt_t a;

		if ((rc = await_turn(c, i, deadline)) != ZKC_OK)
			return rc;  /* cancelled: nothing sent */
		if ((rc = attempt_load(&a, c, i)) != ZKC_OK)
			return rc;
		rc = attempt_next(&next, out_current, c, i, &a, &ch);
		if (rc == AGAIN)
			continue;
		if (rc != ZKC_OK)
			return rc;
		rc = attempt_write(c, i, &a, next);
		if (rc == ZKC_OK || rc == ZKC_EUNKNOWN)
			return attempt_done(out, out_current, c, i, &a, next, rc);
		if (rc != ZKC_EBADVERSION && rc != ZKC_ENODEEXISTS && rc != ZKC_ENONODE)
			return rc;
		if ((rc = attempt_lost(c, i, &a, rc, &attempt, deadline)) != ZKC_OK)
			return rc;
	}
}

/* update_bound with the handle's deadline bound to the thread, so every
 * request of the add or cas ends by it. */
static int update(zkc_counter_outcome_t *out, int64_t *out_current, zkc_counter_t *c, int i,
                  int64_t delta, const int64_t *expected, int64_t value)
{
	const change_t ch = { delta, expected, value };
	int64_t prev = zkcr_deadline_enter(zkcr_now_ms() + c->timeout_ms);
	int rc = update_bound(out, out_current, c, i, ch, zkc_deadline_bound());

	zkc_deadline_bind(prev);
	return rc;
}

int zkc_counter_add_ex(zkc_counter_outcome_t *out, zkc_counter_t *c, int64_t delta)
{
	int i;

	if (!c)
		return zkc_error_set(ZKC_EBADARGUMENTS, "counter add: handle is NULL");
	i = c->sharded ? (int)(zkcr_random() % (unsigned)c->nshards) : 0;
	return update(out, NULL, c, i, delta, NULL, 0);
}

int zkc_counter_add(int64_t *out_value, zkc_counter_t *c, int64_t delta)
{
	zkc_counter_outcome_t o;
	int rc = zkc_counter_add_ex(&o, c, delta);

	if (rc == ZKC_OK && out_value)
		*out_value = o.value;
	return rc;
}

int zkc_counter_cas(int64_t *out_current, zkc_counter_t *c, int64_t expected, int64_t value)
{
	if (!c)
		return zkc_error_set(ZKC_EBADARGUMENTS, "counter cas: handle is NULL");
	if (c->sharded)
		return zkc_error_set(ZKC_ENOTSUP, "counter %s: compare-and-set needs a plain "
		                     "counter; this one has %d shards", c->path, c->nshards);
	return update(NULL, out_current, c, 0, 0, &expected, value);
}

int zkc_counter_set(zkc_counter_t *c, int64_t value)
{
	zkc_multi_t *m = NULL;
	unsigned char buf[8];
	int i, rc;

	if (!c)
		return zkc_error_set(ZKC_EBADARGUMENTS, "counter set: handle is NULL");
	for (i = 0; i < c->nshards; i++)
		forget(c, i);
	if (!c->sharded) {
		zkc_counter_encode(buf, value);
		rc = zkc_set(NULL, c->zk, c->path, buf, 8, -1);
		if (rc == ZKC_ENONODE) {
			rc = create_shard(c, 0, value, NULL);
			if (rc == ZKC_ENODEEXISTS)
				rc = zkc_set(NULL, c->zk, c->path, buf, 8, -1);
		}
		return rc;
	}
	/* make sure every shard exists (0), then write all in one multi */
	for (i = 0; i < c->nshards; i++) {
		rc = zkc_exists(NULL, c->zk, c->sh[i].path);
		if (rc == ZKC_ENONODE) {
			rc = create_shard(c, i, 0, NULL);
			if (rc == ZKC_ENODEEXISTS)
				rc = ZKC_OK;
		}
		if (rc != ZKC_OK)
			return rc;
	}
	if ((rc = zkc_multi_new(&m)) != ZKC_OK)
		return rc;
	for (i = 0; i < c->nshards; i++) {
		zkc_counter_encode(buf, i == 0 ? value : 0);
		zkc_multi_set(m, c->sh[i].path, buf, 8, -1);
	}
	rc = zkc_multi_commit(NULL, c->zk, m);
	zkc_multi_free(m);
	return rc;
}

int zkc_counter_options_init(zkc_counter_options_t *opts, unsigned int version)
{
	static const zkc_counter_options_t init = ZKC_COUNTER_OPTIONS_INIT;
	int rc;

	if (!opts)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_counter_options_init: opts is NULL");
	rc = zkc_options_version_check("zkc_counter_options_init", (int)version, ZKC_COUNTER_OPTIONS_VERSION);
	if (rc != ZKC_OK)
		return rc;
	*opts = init;
	opts->version = (int)version;
	return ZKC_OK;
}
