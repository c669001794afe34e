/* zkc.h - the umbrella header: everything a zkc application includes. */
#ifndef ZKC_H
#define ZKC_H

#include "zkc/common.h"
#include "zkc/retry.h"
#include "zkc/cancel.h"
#include "zkc/acl.h"
#include "zkc/tls.h"
#include "zkc/client.h"
#include "zkc/multi.h"
#include "zkc/batch.h"
#include "zkc/pnode.h"
#include "zkc/cache.h"
#include "zkc/election.h"
#include "zkc/barrier.h"
#include "zkc/lock.h"
#include "zkc/rwlock.h"
#include "zkc/semaphore.h"
#include "zkc/counter.h"
#include "zkc/queue.h"
#include "zkc/index.h"
#include "zkc/service.h"
#include "zkc/testing.h"

#endif
