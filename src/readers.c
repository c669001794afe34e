/* src/readers.c - the slow paths of src/readers.h: registering a reading
 * thread, a reader waiting out a writer, and the writer's side. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "readers.h"

__thread zkc__reader_t *zkc__rd_self __attribute__((tls_model("initial-exec")));
int zkc__rd_light;

static zkc__reader_t *_Atomic g_head;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_key;
/* The first records come from here, so a thread rarely needs malloc. */
static zkc__reader_t g_pool[64];
static atomic_int g_pool_used;

static void thread_gone(void *p)
{
	zkc__reader_t *r = p;
	int i;

	for (i = 0; i < ZKC__RD_DEPTH; i++)
		atomic_store(&r->slot[i], NULL);
	atomic_store(&r->overflow, 0);
	r->depth = 0;
	atomic_store(&r->used, 0);
}

static void init_once(void)
{
	pthread_key_create(&g_key, thread_gone);
#ifndef ZKC__RD_TSAN
	/* Without it (old kernel, seccomp) readers use full fences. */
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
		zkc__rd_light = 1;
#endif
}

static void pause_a_little(unsigned *spin)
{
	unsigned s = (*spin)++;

	if (s < 64) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	} else if (s < 128) {
		sched_yield();
	} else {
		struct timespec ts = { 0, 50000 };

		nanosleep(&ts, NULL);
	}
}

zkc__reader_t *zkc__rd_register(void)
{
	zkc__reader_t *r, *head;
	int i, zero;

	pthread_once(&g_once, init_once);
	for (r = atomic_load(&g_head); r; r = atomic_load(&r->next)) {
		zero = 0;
		if (atomic_compare_exchange_strong(&r->used, &zero, 1))
			goto mine;
	}
	i = atomic_fetch_add(&g_pool_used, 1);
	if (i < (int)(sizeof(g_pool) / sizeof(g_pool[0]))) {
		r = &g_pool[i];
	} else {
		unsigned spin = 200;

		/* Out of memory for 128 bytes: wait for some rather than fail
		 * a read that has no way to report it. */
		while (!(r = aligned_alloc(64, sizeof(*r))))
			pause_a_little(&spin);
		memset(r, 0, sizeof(*r));
	}
	atomic_store(&r->used, 1);
	head = atomic_load(&g_head);
	do
		atomic_store(&r->next, head);
	while (!atomic_compare_exchange_weak(&g_head, &head, r));
mine:
	r->depth = 0;
	zkc__rd_self = r;
	pthread_setspecific(g_key, r);
	return r;
}

static void futex(atomic_int *addr, int op, int val)
{
	syscall(SYS_futex, (int *)addr, op, val, NULL, NULL, 0);
}

/* Sleeps until rw's writer is out; the caller has announced nothing. */
static void wait_writer(zkc__rw_t *rw)
{
	unsigned spin = 0;

	atomic_fetch_add(&rw->waiters, 1);
	while (atomic_load(&rw->writer)) {
		if (spin < 100)
			pause_a_little(&spin);
		else
			futex(&rw->writer, FUTEX_WAIT_PRIVATE, 1);
	}
	atomic_fetch_sub(&rw->waiters, 1);
}

void zkc__rd_wait(zkc__reader_t *me, zkc__rw_t *rw)
{
	int d = me->depth;

	do {
		atomic_store_explicit(&me->slot[d], NULL, memory_order_release);
		wait_writer(rw);
		zkc__rd_announce(me, d, rw);
	} while (atomic_load(&rw->writer));
}

void zkc__rd_overflow(zkc__reader_t *me, zkc__rw_t *rw)
{
	for (;;) {
		atomic_fetch_add(&me->overflow, 1);
		if (!atomic_load(&rw->writer))
			return;
		atomic_fetch_sub(&me->overflow, 1);
		wait_writer(rw);
	}
}

void zkc__rw_init(zkc__rw_t *rw)
{
	pthread_once(&g_once, init_once);
	atomic_init(&rw->writer, 0);
	atomic_init(&rw->waiters, 0);
}

void zkc__wr_lock(zkc__rw_t *rw)
{
	zkc__reader_t *r;
	unsigned spin = 0;
	int i;

	atomic_store(&rw->writer, 1);
	/* Every running thread passes a full barrier: an announcement made
	 * before it is visible below, and one made after it sees the flag. */
	if (zkc__rd_light)
		syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
	for (r = atomic_load(&g_head); r; r = atomic_load(&r->next)) {
		for (i = 0; i < ZKC__RD_DEPTH; i++)
			while (atomic_load_explicit(&r->slot[i], memory_order_acquire) == rw)
				pause_a_little(&spin);
		while (atomic_load_explicit(&r->overflow, memory_order_acquire) > 0)
			pause_a_little(&spin);
	}
}

void zkc__wr_unlock(zkc__rw_t *rw)
{
	atomic_store(&rw->writer, 0);
	if (atomic_load(&rw->waiters))
		futex(&rw->writer, FUTEX_WAKE_PRIVATE, INT_MAX);
}
