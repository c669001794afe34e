/* src/completions.c - the client's queue of finished batches: the pull form
 * of asynchronous batches (zkc_batch_run_queued), with an eventfd that is
 * readable while a batch waits to be taken, for poll/epoll and event loops. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "client_impl.h"

typedef struct cq_entry {
	struct cq_entry *next;
	zkc_batch_t *b;
	/* batch.c's, so calls stay downward: the batch is handed back, or
	 * freed at close */
	void (*taken_fn)(zkc_batch_t *b);
	void (*free_fn)(zkc_batch_t *b);
	uint64_t tag;
} cq_entry_t;

struct zkc__completions {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fd;                 /* readable while head != NULL */
	cq_entry_t *head, *tail;
};

/* The client's queue, made on first use; NULL (recorded) when it cannot be. */
static struct zkc__completions *cq_of(zkc_t *zk)
{
	struct zkc__completions *cq;

	pthread_mutex_lock(&zk->mu);
	cq = zk->cq;
	if (!cq && (cq = calloc(1, sizeof(*cq)))) {
		cq->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (cq->fd < 0) {
			free(cq);
			cq = NULL;
		} else {
			pthread_mutex_init(&cq->mu, NULL);
			zkc__cond_init(&cq->cv);
			zk->cq = cq;
		}
	}
	pthread_mutex_unlock(&zk->mu);
	if (!cq)
		zkc__error(ZKC_EOS, "batch completion queue: %s", strerror(errno ? errno : ENOMEM));
	return cq;
}

int zkc__completions_ready(zkc_t *zk)
{
	return cq_of(zk) ? ZKC_OK : ZKC_EOS;
}

void zkc__completions_push(zkc_t *zk, zkc_batch_t *b, uint64_t tag,
                           void (*taken_fn)(zkc_batch_t *b), void (*free_fn)(zkc_batch_t *b))
{
	struct zkc__completions *cq = zk->cq;   /* made before the run was accepted */
	cq_entry_t *e = calloc(1, sizeof(*e));
	uint64_t one = 1;

	if (!e) {
		/* The caller would wait for it forever: say so, and free it. */
		zkc__log(&zk->log, ZKC_LOG_ERROR, "out of memory: queued batch %llu dropped",
		         (unsigned long long)tag);
		free_fn(b);
		return;
	}
	e->b = b;
	e->taken_fn = taken_fn;
	e->free_fn = free_fn;
	e->tag = tag;
	pthread_mutex_lock(&cq->mu);
	if (cq->tail)
		cq->tail->next = e;
	else
		cq->head = e;
	cq->tail = e;
	if (write(cq->fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		zkc__log(&zk->log, ZKC_LOG_WARN, "completion fd write failed: %s", strerror(errno));
	pthread_cond_broadcast(&cq->cv);
	pthread_mutex_unlock(&cq->mu);
}

void zkc__completions_free(struct zkc__completions *cq)
{
	cq_entry_t *e, *next;

	if (!cq)
		return;
	for (e = cq->head; e; e = next) {
		next = e->next;
		e->free_fn(e->b);
		free(e);
	}
	close(cq->fd);
	pthread_cond_destroy(&cq->cv);
	pthread_mutex_destroy(&cq->mu);
	free(cq);
}

int zkc_completions_fd(zkc_t *zk)
{
	struct zkc__completions *cq;

	if (!zk)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_completions_fd: client is NULL");
	cq = cq_of(zk);
	return cq ? cq->fd : ZKC_EOS;
}

static int is_closing(zkc_t *zk)
{
	int closing;

	pthread_mutex_lock(&zk->mu);
	closing = zk->closing;
	pthread_mutex_unlock(&zk->mu);
	return closing;
}

int zkc_completions_next(zkc_batch_t **out, uint64_t *out_tag, zkc_t *zk, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? INT64_MAX : zkc__now_ms() + timeout_ms;
	struct zkc__completions *cq;
	cq_entry_t *e = NULL;
	uint64_t cnt;
	int rc = ZKC_OK;

	if (out)
		*out = NULL;
	if (!out || !zk)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_completions_next: %s is NULL",
		                  out ? "client" : "out");
	if (!(cq = cq_of(zk)))
		return ZKC_EOS;
	pthread_mutex_lock(&cq->mu);
	while (!(e = cq->head)) {
		struct timespec ts;
		int64_t left = deadline - zkc__now_ms();
		int closing;

		/* never zk->mu inside cq->mu: pushes may come with zk->mu held */
		pthread_mutex_unlock(&cq->mu);
		closing = is_closing(zk);
		pthread_mutex_lock(&cq->mu);
		if (cq->head)
			continue;
		if (closing) {
			rc = zkc__error(ZKC_ECLOSED, "client is closing");
			break;
		}
		if (left <= 0) {
			rc = timeout_ms == 0 ? zkc__error(ZKC_EAGAIN, "no batch completed")
			                     : zkc__error(ZKC_EAGAIN, "no batch completed within %d ms",
			                                  timeout_ms);
			break;
		}
		if ((rc = zkc_cancel_check()) != ZKC_OK)
			break;
		zkc__deadline_ts(&ts, zkc_cancel_slice_ms(left > 1000 ? 1000 : left));
		pthread_cond_timedwait(&cq->cv, &cq->mu, &ts);
	}
	if (e) {
		cq->head = e->next;
		if (!cq->head) {
			cq->tail = NULL;
			/* Empty now: drain the fd so poll stops reporting it. */
			if (read(cq->fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
				zkc__log(&zk->log, ZKC_LOG_WARN, "completion fd read: %s", strerror(errno));
		}
	}
	pthread_mutex_unlock(&cq->mu);
	if (!e)
		return rc;
	e->taken_fn(e->b);
	*out = e->b;
	if (out_tag)
		*out_tag = e->tag;
	free(e);
	return ZKC_OK;
}
