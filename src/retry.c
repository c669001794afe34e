/* src/retry.c - the retry policy: validation, the jittered exponential
 * backoff, and the per-call run that enforces attempts and the deadline. */
#include "internal.h"

int zkc_retry_validate(const zkc_retry_t *retry)
{
	int rc;

	if (!retry)
		return zkc__error(ZKC_EBADARGUMENTS, "retry policy is NULL");
	rc = zkc_options_version_check("retry policy", retry->version, ZKC_RETRY_VERSION);
	if (rc != ZKC_OK)
		return rc;
	if (retry->base_ms <= 0)
		return zkc__error(ZKC_EBADARGUMENTS, "retry base_ms is %d, must be > 0", retry->base_ms);
	if (retry->max_ms < retry->base_ms)
		return zkc__error(ZKC_EBADARGUMENTS, "retry max_ms (%d) must be >= base_ms (%d)",
		                  retry->max_ms, retry->base_ms);
	if (retry->max_attempts < 0)
		return zkc__error(ZKC_EBADARGUMENTS,
		                  "retry max_attempts is %d, must be >= 0 (0 = no limit)",
		                  retry->max_attempts);
	if (retry->deadline_ms <= 0)
		return zkc__error(ZKC_EBADARGUMENTS, "retry deadline_ms is %d, must be > 0",
		                  retry->deadline_ms);
	return ZKC_OK;
}

int zkc_retry_backoff_ms(const zkc_retry_t *retry, int attempt, double random01)
{
	int64_t d, half, pick;

	if (!retry || attempt < 1 || retry->base_ms <= 0)
		return 0;
	/* base * 2^(attempt-1), capped at max before it can overflow. */
	d = retry->base_ms;
	for (int i = 1; i < attempt && d < retry->max_ms; i++)
		d *= 2;
	if (retry->max_ms > 0 && d > retry->max_ms)
		d = retry->max_ms;
	if (!(random01 >= 0.0))  /* also NaN */
		random01 = 0.0;
	if (random01 >= 1.0)
		random01 = 0.0;
	/* Uniform over the integers of [d/2, d]. */
	half = d / 2;
	pick = half + (int64_t)(random01 * (double)(d - half + 1));
	/* r just below 1 can round the product up to the next integer. */
	return (int)(pick > d ? d : pick);
}

void zkc__retry_begin(zkc__retry_run_t *run, const zkc_retry_t *policy)
{
	static const zkc_retry_t dflt = ZKC_RETRY_INIT;

	run->policy = policy && policy->version != 0 ? *policy : dflt;
	run->start_ms = zkc__now_ms();
	run->attempt = 1;  /* the first attempt runs right away */
}

int64_t zkc__retry_left_ms(const zkc__retry_run_t *run)
{
	int64_t left = run->start_ms + run->policy.deadline_ms - zkc__now_ms();
	return left > 0 ? left : 0;
}

int zkc__retry_next(zkc__retry_run_t *run, int64_t *out_sleep_ms)
{
	const zkc_retry_t *p = &run->policy;
	int64_t left, sleep;

	*out_sleep_ms = 0;
	if (p->max_attempts > 0 && run->attempt >= p->max_attempts)
		return zkc__error(ZKC_ETIMEDOUT, "gave up after %d attempts", run->attempt);
	left = zkc__retry_left_ms(run);
	sleep = zkc_retry_backoff_ms(p, run->attempt, zkc__random01());
	/* No attempt may start after the deadline. */
	if (left <= 0 || sleep > left)
		return zkc__error(ZKC_ETIMEDOUT, "deadline of %d ms passed after %d attempts",
		                  p->deadline_ms, run->attempt);
	*out_sleep_ms = sleep;
	run->attempt++;
	return ZKC_OK;
}

int zkc_retry_init(zkc_retry_t *retry, unsigned int version)
{
	static const zkc_retry_t init = ZKC_RETRY_INIT;
	int rc;

	if (!retry)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_retry_init: retry is NULL");
	rc = zkc_options_version_check("zkc_retry_init", (int)version, ZKC_RETRY_VERSION);
	if (rc != ZKC_OK)
		return rc;
	*retry = init;
	retry->version = (int)version;
	return ZKC_OK;
}
