/* recipes/testing_break.h - deliberate defects that prove the chaos
 * suite's checkers can fail (docs/chaos.md). Only a build that defines
 * ZKC_TESTING_BREAKS has them (the chaos_worker_broken test program);
 * libzkc never does. Even there each one is off until named in
 * ZKC_TESTING_BREAK (e.g. "lock-skip-watch,counter-no-version"). */
#ifndef ZKC_RECIPES_TESTING_BREAK_H
#define ZKC_RECIPES_TESTING_BREAK_H

#ifdef ZKC_TESTING_BREAKS
#include <stdlib.h>
#include <string.h>

static int zkcr_testing_break(const char *name)
{
	const char *v = getenv("ZKC_TESTING_BREAK");

	return v && strstr(v, name) != NULL;
}
#endif

#endif
