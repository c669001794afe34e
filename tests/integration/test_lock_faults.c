/* tests/integration/test_lock_faults.c - five processes take one lock 200
 * times each while the leader is killed, a holder is SIGSTOPped past its
 * session timeout and a session is force-expired: no two valid holders
 * overlap (fenced register history), no node is left, all finish.
 * ZKC_LOCK_SEEDS="1 2 3" picks the seeds (default "1 2"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

int lock_worker_main(int argc, char **argv);
void lock_fault_run(const char *mode, int workers, int count, int max_leases, unsigned seed,
                    int stop_holder, int broken);
int lock_fault_teardown(void **state);

static unsigned seed_at(int i)
{
	const char *s = getenv("ZKC_LOCK_SEEDS");
	char *end;
	unsigned v = (unsigned)(i + 1);
	int k;

	if (!s)
		return v;
	for (k = 0; *s; k++) {
		unsigned long x = strtoul(s, &end, 10);

		if (end == s)
			break;
		if (k == i)
			return (unsigned)x;
		s = end;
	}
	return 0;
}

static void test_five_processes_never_overlap_under_faults(void **state)
{
	int i;
	(void)state;

	H_NEED_OWN_ENSEMBLE();
	for (i = 0; seed_at(i); i++) {
		if (i >= 2 && !getenv("ZKC_LOCK_SEEDS"))
			break;
		lock_fault_run("mutex", 5, 200, 0, seed_at(i), 1, 0);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_five_processes_never_overlap_under_faults),
	};

	if (getenv("ZKC_LOCK_WORKER"))
		return lock_worker_main(argc, argv);
	return cmocka_run_group_tests(tests, h_setup_3, lock_fault_teardown);
}
