/* src/cancel.c - cancellation tokens and deadlines bound to threads: waits
 * end at the calling thread's deadline and look at its token at least every
 * ZKC_CANCEL_POLL_MS. */
#include <stdatomic.h>
#include <stdlib.h>

#include "internal.h"
#include "zkc/cancel.h"

struct zkc_cancel {
	atomic_int fired;
};

static _Thread_local zkc_cancel_t *tl_bound;

int zkc_cancel_new(zkc_cancel_t **out)
{
	zkc_cancel_t *c;

	if (!out)
		return zkc__error(ZKC_EBADARGUMENTS, "cancel token: out is NULL");
	*out = NULL;
	c = malloc(sizeof(*c));
	if (!c)
		return zkc__error(ZKC_ENOMEM, "out of memory");
	atomic_init(&c->fired, 0);
	*out = c;
	return ZKC_OK;
}

void zkc_cancel_free(zkc_cancel_t *c)
{
	if (c && tl_bound == c)
		tl_bound = NULL;
	free(c);
}

void zkc_cancel_fire(zkc_cancel_t *c)
{
	if (c)
		atomic_store(&c->fired, 1);
}

int zkc_cancel_fired(const zkc_cancel_t *c)
{
	return c && atomic_load(&((zkc_cancel_t *)c)->fired);
}

void zkc_cancel_reset(zkc_cancel_t *c)
{
	if (c)
		atomic_store(&c->fired, 0);
}

zkc_cancel_t *zkc_cancel_bind(zkc_cancel_t *c)
{
	zkc_cancel_t *prev = tl_bound;

	tl_bound = c;
	return prev;
}

zkc_cancel_t *zkc_cancel_bound(void)
{
	return tl_bound;
}

int zkc_cancel_check(void)
{
	if (tl_bound && atomic_load(&tl_bound->fired))
		return zkc__error(ZKC_ECANCELED, "canceled by another thread");
	return ZKC_OK;
}

int64_t zkc_cancel_slice_ms(int64_t left_ms)
{
	if (!tl_bound)
		return left_ms;
	if (left_ms < 0 || left_ms > ZKC_CANCEL_POLL_MS)
		return ZKC_CANCEL_POLL_MS;
	return left_ms;
}

/* ------------------------------------------------------------ deadlines */

/* -1: none. A thread's own, as its cancel token is. */
static _Thread_local int64_t tl_deadline = ZKC_NO_DEADLINE;

int64_t zkc_clock_ms(void)
{
	return zkc__now_ms();
}

int64_t zkc_deadline_bind(int64_t deadline_ms)
{
	int64_t prev = tl_deadline;

	tl_deadline = deadline_ms < 0 ? ZKC_NO_DEADLINE : deadline_ms;
	return prev;
}

int64_t zkc_deadline_bound(void)
{
	return tl_deadline;
}

int64_t zkc__deadline_cap(int64_t deadline_ms)
{
	if (tl_deadline >= 0 && (deadline_ms < 0 || tl_deadline < deadline_ms))
		return tl_deadline;
	return deadline_ms;
}
