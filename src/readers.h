/* src/readers.h - reader/writer exclusion whose read side takes no lock
 * and writes no shared cache line: each reading thread announces what it
 * reads in its own record; the one writer raises a flag, makes every
 * thread's announcement visible (membarrier) and waits for the readers of
 * its object to leave. Readers pay two plain stores and a load; writers pay
 * a system call. The cache's table is guarded by it (src/cache.c).
 *
 * Rules: sections nest (up to ZKC__RD_DEPTH, deeper ones count as reading
 * everything) and end in reverse order on the thread that began them; a
 * reader never waits for the writer of an object it already reads; one
 * writer per object at a time (the caller serializes writers). */
#ifndef ZKC_READERS_H
#define ZKC_READERS_H

#include <stdatomic.h>
#include <stdint.h>

#if defined(__SANITIZE_THREAD__)
#define ZKC__RD_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ZKC__RD_TSAN 1
#endif
#endif

#define ZKC__RD_DEPTH 6

/* One object readers and a writer share (the cache's table). */
typedef struct zkc__rw {
	atomic_int writer;            /* 1 while a writer is in or entering */
	atomic_int waiters;           /* readers asleep on `writer` */
} zkc__rw_t;

/* A thread's record, on a line of its own. Records are never freed: a
 * thread that ends leaves its record for the next one. */
typedef struct zkc__reader {
	_Atomic(zkc__rw_t *) slot[ZKC__RD_DEPTH];  /* what it reads, innermost last */
	atomic_int overflow;          /* sections deeper than the slots */
	int depth;                    /* owner thread only */
	atomic_int used;              /* owned by a live thread */
	struct zkc__reader *_Atomic next;
} __attribute__((aligned(64))) zkc__reader_t;

extern __thread zkc__reader_t *zkc__rd_self __attribute__((tls_model("initial-exec")));
/* 1 when membarrier works: readers need only a compiler barrier. */
extern int zkc__rd_light;

zkc__reader_t *zkc__rd_register(void);
void zkc__rd_wait(zkc__reader_t *me, zkc__rw_t *rw);
void zkc__rd_overflow(zkc__reader_t *me, zkc__rw_t *rw);

void zkc__rw_init(zkc__rw_t *rw);
void zkc__wr_lock(zkc__rw_t *rw);
void zkc__wr_unlock(zkc__rw_t *rw);

/* The store of the announcement must be ordered before the load of the
 * writer flag: by the writer's membarrier (then a compiler barrier is
 * enough here), or else by a full fence. Under ThreadSanitizer, which
 * knows neither, a sequentially consistent exchange does both. */
static inline void zkc__rd_announce(zkc__reader_t *me, int d, zkc__rw_t *rw)
{
#ifdef ZKC__RD_TSAN
	(void)atomic_exchange(&me->slot[d], rw);
#else
	atomic_store_explicit(&me->slot[d], rw, memory_order_relaxed);
	if (__builtin_expect(zkc__rd_light, 1))
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
#endif
}

static inline void zkc__rd_lock(zkc__rw_t *rw)
{
	zkc__reader_t *me = zkc__rd_self;
	int d;

	if (__builtin_expect(!me, 0))
		me = zkc__rd_register();
	d = me->depth;
	if (__builtin_expect(d >= ZKC__RD_DEPTH, 0)) {
		zkc__rd_overflow(me, rw);
		me->depth++;
		return;
	}
	zkc__rd_announce(me, d, rw);
#ifdef ZKC__RD_TSAN
	if (atomic_load(&rw->writer))
#else
	if (__builtin_expect(atomic_load_explicit(&rw->writer, memory_order_acquire), 0))
#endif
	{
		int i, mine = 0;

		/* Already reading it further out: the writer waits for us. */
		for (i = 0; i < d; i++)
			mine |= atomic_load_explicit(&me->slot[i], memory_order_relaxed) == rw;
		if (!mine)
			zkc__rd_wait(me, rw);
	}
	me->depth = d + 1;
}

static inline void zkc__rd_unlock(zkc__rw_t *rw)
{
	zkc__reader_t *me = zkc__rd_self;
	int d = --me->depth;

	(void)rw;
	if (__builtin_expect(d >= ZKC__RD_DEPTH, 0))
		atomic_fetch_sub(&me->overflow, 1);
	else
		atomic_store_explicit(&me->slot[d], NULL, memory_order_release);
}

#endif
