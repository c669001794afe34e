/* src/events.h - the event thread, watches and the client's state
 * (src/events.c): the lowest layer of the client, which every other layer
 * may call and which calls none of them. */
#ifndef ZKC_EVENTS_H
#define ZKC_EVENTS_H

#include "client_impl.h"

/* ---- the event thread (client.c starts and stops it) */

/* Makes the event fd and starts the event thread. Returns ZKC_OK or ZKC_EOS. */
int zkc__events_start(zkc_t *zk);
/* Stops the event thread after it has run everything queued. */
void zkc__events_stop(zkc_t *zk);
/* Frees what is still queued, the watches, the listeners and the fd. */
void zkc__events_free(zkc_t *zk);

/* ---- queueing (callers hold zk->mu where it says so) */

/* Queues an internal event for the event thread. Caller holds mu. */
void zkc__ev_push(zkc_t *zk, zkc__ev_t *ev);
/* Queues a state event. Caller holds mu. Allocation failure drops the
 * event (logged); the state stays readable through zkc_state. */
void zkc__ev_push_state(zkc_t *zk, int state, int64_t sid);
/* Feeds the state machine and queues what it announces. Caller holds mu. */
void zkc__sm_feed(zkc_t *zk, int input, int64_t sid);
/* Runs fn(arg) on the event thread, after the events queued before it. */
void zkc__post(zkc_t *zk, void (*fn)(void *arg), void *arg);
/* Waits (up to max_ms) until the event thread has run everything queued
 * so far, listeners included. Caller holds mu. */
void zkc__event_barrier(zkc_t *zk, int64_t max_ms);
/* Hands an event made by a module (the cache) to the client's event
 * callback, or its queue when there is none. Call on the event thread. */
void zkc__event_emit(zkc_t *zk, const zkc_event_t *ev);

/* ---- watches */

/* Watches: make a context before the request, arm it if the request
 * registered the watch, drop it (no callback) if not. */
zkc__watch_t *zkc__watch_new(zkc_t *zk, uint64_t gen, const char *path, zkc_watch_fn fn,
                             void *payload);
void zkc__watch_arm(zkc__watch_t *w);
void zkc__watch_drop(zkc__watch_t *w);
void zkc__watch_trampoline(zhandle_t *zh, int type, int state, const char *path, void *ctx);
/* After the handle of generation gen is closed no callback of it can run:
 * every watch still armed for it gets its final WATCH_CANCELLED event.
 * Caller holds mu. */
void zkc__watches_cancel_gen(zkc_t *zk, uint64_t gen, int64_t sid);

#endif
