/* src/supervisor.h - the session supervisor (src/supervisor.c), started
 * and stopped by client.c; batch.c queues work for the next connection
 * through it. */
#ifndef ZKC_SUPERVISOR_H
#define ZKC_SUPERVISOR_H

#include "request.h"

/* Context given to zookeeper_init: ties a handle's callbacks to the client
 * and to one generation, so callbacks of a replaced handle are ignored. */
typedef struct zkc__zhctx {
	zkc_t *zk;
	uint64_t gen;
} zkc__zhctx_t;

/* Starts the supervisor thread, which makes the first handle at once.
 * Returns ZKC_OK or ZKC_EOS. */
int zkc__supervisor_start(zkc_t *zk);
/* Marks the client closing, wakes every waiter and joins the supervisor,
 * which has closed the handle, completed every request in flight and
 * expired the pending work (ZKC_ECLOSED) when this returns. */
void zkc__supervisor_stop(zkc_t *zk);
/* The host provider's notification (zkc__hosts_start): a new server list,
 * applied with zoo_set_servers by the supervisor. */
void zkc__supervisor_hosts_changed(void *ctx, const char *servers);

/* Queues work for the next connection (see zkc__pending_t). Returns
 * ZKC_ECLOSED (and does not take p) when the client is closing. */
int zkc__pending_add(zkc_t *zk, zkc__pending_t *p);
/* The host string libzookeeper gets for a server list: the list itself,
 * or its TLS bridge endpoints. malloc'd, NULL on failure (recorded). */
char *zkc__zk_hosts(zkc_t *zk, const char *servers);

/* "address:port" of the server zh is connected to, malloc'd, or NULL.
 * Not zoo_get_current_server: that returns one static buffer that every
 * libzookeeper I/O thread also formats its log lines into (a data race
 * ThreadSanitizer reports); the address comes from the socket, in the
 * same format, so the TLS bridge can map it back. */
char *zkc__current_server(zhandle_t *zh);

/* The clients open in the process: libzookeeper's log lines go to each. */
int zkc__clients_register(zkc_t *zk);
void zkc__clients_unregister(zkc_t *zk);
/* Number of clients open in the process (zkc_testing_open_clients). */
size_t zkc__clients_open(void);

#endif
