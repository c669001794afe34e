/* tests/unit/test_readers.c - the cache's lock-free read side
 * (src/readers.h): readers on several threads never see a writer's change
 * half made, a reader section holds the writer back, nested sections on
 * other objects do not deadlock with their writers, and sections deeper
 * than a thread's slots still exclude. Run it under ThreadSanitizer too. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "readers.h"

#define READERS 3
#define WRITES 20000

/* What the writer keeps consistent: a == b always, outside its section. */
typedef struct shared {
	zkc__rw_t rw;
	long a, b;
	atomic_int stop;
	atomic_long torn;
	atomic_long reads;
} shared_t;

static void *reader(void *p)
{
	shared_t *s = p;

	while (!atomic_load(&s->stop)) {
		volatile int k;
		long a, b;

		zkc__rd_lock(&s->rw);
		a = s->a;
		for (k = 0; k < 100; k++)  /* a reader that takes a while */
			;
		b = s->b;
		zkc__rd_unlock(&s->rw);
		if (a != b)
			atomic_fetch_add(&s->torn, 1);
		atomic_fetch_add(&s->reads, 1);
	}
	return NULL;
}

static void test_readers_never_see_a_change_half_made(void **state)
{
	static shared_t s;
	pthread_t t[READERS];
	long i, n;

	(void)state;
	memset(&s, 0, sizeof(s));
	zkc__rw_init(&s.rw);
	for (i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, &s), 0);
	/* until the readers have had their share, however slow the machine */
	for (i = 0; i < WRITES || atomic_load(&s.reads) < 100000; i++) {
		volatile int k;

		zkc__wr_lock(&s.rw);
		s.a = i;
		for (k = 0; k < 200; k++)  /* a change that takes a while */
			;
		s.b = i;
		zkc__wr_unlock(&s.rw);
	}
	n = i;
	atomic_store(&s.stop, 1);
	for (i = 0; i < READERS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&s.torn), 0);
	assert_true(atomic_load(&s.reads) > 0);
	assert_int_equal(s.a, n - 1);
}

/* Where membarrier is refused (old kernels, seccomp) readers use full
 * fences and the writer none: the same promise. */
static void test_without_membarrier_readers_still_never_see_half_changes(void **state)
{
	zkc__rw_t probe;
	int light;

	zkc__rw_init(&probe);  /* decides the mode once per process */
	light = zkc__rd_light;
	zkc__rd_light = 0;
	test_readers_never_see_a_change_half_made(state);
	zkc__rd_light = light;
}

typedef struct held {
	zkc__rw_t rw;
	atomic_int writer_in;
	atomic_int writer_done;
} held_t;

static void *writer(void *p)
{
	held_t *h = p;

	zkc__wr_lock(&h->rw);
	atomic_store(&h->writer_in, 1);
	zkc__wr_unlock(&h->rw);
	atomic_store(&h->writer_done, 1);
	return NULL;
}

/* Once the writer has raised its flag it waits for our section: polls
 * (10 s deadline) for the flag, then gives the writer many chances to run
 * and checks it stayed out. Returns whether it stayed out. */
static int writer_held(held_t *h)
{
	struct timespec t0, t;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!atomic_load(&h->rw.writer)) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10)
			return 0;
		sched_yield();
	}
	for (i = 0; i < 2000; i++)
		sched_yield();
	return !atomic_load(&h->writer_in);
}

/* A pin (an open read section) holds the writer back until it ends, and
 * the same thread reading two objects (sections nested) is fine. */
static void test_a_read_section_holds_the_writer_back(void **state)
{
	static held_t h, other;
	pthread_t w;

	(void)state;
	zkc__rw_init(&h.rw);
	zkc__rw_init(&other.rw);
	zkc__rd_lock(&h.rw);
	assert_int_equal(pthread_create(&w, NULL, writer, &h), 0);
	/* The writer cannot get in while the section is open. */
	assert_true(writer_held(&h));
	/* another object's writer is not held back by this section */
	zkc__rd_lock(&other.rw);
	zkc__rd_unlock(&other.rw);
	writer(&other);
	assert_int_equal(atomic_load(&other.writer_done), 1);
	zkc__rd_unlock(&h.rw);
	pthread_join(w, NULL);
	assert_int_equal(atomic_load(&h.writer_done), 1);
}

/* Sections nested deeper than the thread's slots still exclude their
 * object's writer, and unwind cleanly. */
static void test_sections_deeper_than_the_slots_still_exclude(void **state)
{
	static held_t h[ZKC__RD_DEPTH + 2];
	pthread_t w;
	int i;

	(void)state;
	for (i = 0; i < ZKC__RD_DEPTH + 2; i++)
		zkc__rw_init(&h[i].rw);
	for (i = 0; i < ZKC__RD_DEPTH + 2; i++)
		zkc__rd_lock(&h[i].rw);
	assert_int_equal(pthread_create(&w, NULL, writer, &h[ZKC__RD_DEPTH + 1]), 0);
	assert_true(writer_held(&h[ZKC__RD_DEPTH + 1]));
	for (i = ZKC__RD_DEPTH + 1; i >= 0; i--)
		zkc__rd_unlock(&h[i].rw);
	pthread_join(w, NULL);
	assert_int_equal(atomic_load(&h[ZKC__RD_DEPTH + 1].writer_done), 1);
	/* all slots free again: a writer of the first object gets in */
	writer(&h[0]);
	assert_int_equal(atomic_load(&h[0].writer_done), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readers_never_see_a_change_half_made),
		cmocka_unit_test(test_without_membarrier_readers_still_never_see_half_changes),
		cmocka_unit_test(test_a_read_section_holds_the_writer_back),
		cmocka_unit_test(test_sections_deeper_than_the_slots_still_exclude),
	};

	return cmocka_run_group_tests_name("readers", tests, NULL, NULL);
}
