/* zkc/retry.h - bounded exponential backoff with jitter and a total
 * deadline, the policy every blocking call follows. */
#ifndef ZKC_RETRY_H
#define ZKC_RETRY_H

#include "zkc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZKC_RETRY_VERSION 1

/* The n-th retry (1-based; the first attempt does not wait) waits a random
 * time in [d/2, d] with d = min(base_ms * 2^(n-1), max_ms) before it runs; no attempt starts after
 * deadline_ms from the call's start, and no more than max_attempts run
 * (0 = no count limit). While the client is disconnected a retry waits for
 * the connection, within the same deadline. */
typedef struct zkc_retry {
	int version;       /* ZKC_RETRY_VERSION; 0 = "use the default" */
	int base_ms;       /* first backoff, > 0 */
	int max_ms;        /* cap of one backoff, >= base_ms */
	int max_attempts;  /* 0 = unlimited within the deadline */
	int deadline_ms;   /* total time for the call, > 0 */
} zkc_retry_t;

#define ZKC_RETRY_INIT { ZKC_RETRY_VERSION, 20, 1000, 0, 30000 }

/* Fills *retry with the defaults of ZKC_RETRY_INIT, for a struct of `version`
 * (1..ZKC_RETRY_VERSION; pass ZKC_RETRY_VERSION), for callers that cannot use
 * the brace initializer. Expected codes: ZKC_EBADARGUMENTS (NULL, or a
 * version this zkc does not know: the message says which). */
ZKC_EXTERN int zkc_retry_init(zkc_retry_t *retry, unsigned int version);

/* ZKC_OK or ZKC_EBADARGUMENTS with the reason. */
ZKC_EXTERN int zkc_retry_validate(const zkc_retry_t *retry);

/* The backoff before attempt `attempt` (1 = first retry), given a random
 * number in [0, 1). Pure: for tests and for callers that run their own loop. */
ZKC_EXTERN int zkc_retry_backoff_ms(const zkc_retry_t *retry, int attempt, double random01);

#ifdef __cplusplus
}
#endif
#endif
