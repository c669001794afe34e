/* bindings/zkc.i - the language-neutral SWIG description of zkc's public
 * API, shared by every binding. A language's own interface file sets the
 * module name, its typemaps (out-parameters, byte buffers, errors) and its
 * renames first, then includes this file last:
 *
 *     %module(package="zkc") _zkc
 *     ... typemaps ...
 *     %include "../zkc.i"
 *
 * Nothing here is specific to one language. What is left out, and why:
 *   - callbacks (function-pointer parameters and option members): no C
 *     thread ever calls into a binding; bindings read the event queues'
 *     file descriptors instead (zkc_events_fd, zkc_lock_events_fd, ...)
 *     and pass NULL where a watch function is asked for, so watches land
 *     in the client's queue with their payload.
 *   - varargs (zkc_error_set) and borrowed pointers that a garbage
 *     collector could outlive (cache pins and peeks).
 *   - zkc_session, whose password is a fixed-size array parameter: bindings
 *     call zkc_session_info, which gives the same in a struct. */

%{
#include <zkc.h>
%}

%include <stdint.i>

/* ------------------------------------------------------------ left out */

/* varargs */
%ignore zkc_error_set;

/* callbacks: bindings take events from the queues instead */
%ignore zkc_listener_add;
%ignore zkc_listener_remove;
%ignore zkc_cache_foreach;
%ignore zkc_batch_run_async;

/* function-pointer members and their payloads: set only from C */
%ignore zkc_options::log_fn;
%ignore zkc_options::log_payload;
%ignore zkc_options::event_fn;
%ignore zkc_options::event_payload;
%ignore zkc_cache_options::filter;
%ignore zkc_cache_options::filter_payload;
%ignore zkc_cache_options::event_fn;
%ignore zkc_lock_options::event_fn;
%ignore zkc_lock_options::event_payload;
%ignore zkc_election_options::fn;
%ignore zkc_election_options::payload;

/* borrowed pointers that stay valid only under a C-side lock */
%ignore zkc_cache_pin;
%ignore zkc_cache_unpin;
%ignore zkc_cache_peek;

/* a char[16] out-parameter (zkc_session_info is its binding form) */
%ignore zkc_session;

/* events as C callbacks see them (bindings get zkc_event_t from the queue) */
%ignore zkc_cache_event;

/* ------------------------------------------------------------ the API */

%include "zkc/common.h"
%include "zkc/retry.h"
%include "zkc/cancel.h"
%include "zkc/acl.h"
%include "zkc/tls.h"
%include "zkc/client.h"
%include "zkc/multi.h"
%include "zkc/batch.h"
%include "zkc/pnode.h"
%include "zkc/cache.h"
%include "zkc/election.h"
%include "zkc/barrier.h"
%include "zkc/lock.h"
%include "zkc/rwlock.h"
%include "zkc/semaphore.h"
%include "zkc/counter.h"
%include "zkc/queue.h"
%include "zkc/index.h"
%include "zkc/service.h"
%include "zkc/testing.h"
