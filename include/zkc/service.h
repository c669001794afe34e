/* zkc/service.h - a service registry and router: instances register as
 * ephemeral nodes (re-created after session loss) under a service node, and
 * clients route a request key to a live instance by weighted rendezvous
 * hashing over a watch-driven cache of them, so adding or losing one
 * instance moves only that instance's share of keys.
 * Layout, node format, hash function and promises: docs/recipes/service.md. */
#ifndef ZKC_SERVICE_H
#define ZKC_SERVICE_H

#include "zkc/client.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZKC_SERVICE_ID_MAX 255          /* bytes of an instance id */
#define ZKC_SERVICE_ADDRESS_MAX 255     /* bytes of an address (host name or IP) */
#define ZKC_SERVICE_METADATA_MAX (256 * 1024) /* bytes of metadata */
#define ZKC_SERVICE_WEIGHT_MAX 1000000

/* ------------------------------------------------------------ registry */

typedef struct zkc_service_reg zkc_service_reg_t;

#define ZKC_SERVICE_INSTANCE_VERSION 1
/* One instance as it registers. Strings are copied at registration.
 *   id        - 1..255 bytes, unique within the service; no '/', no
 *               control characters, not "." or ".." (it is the node name)
 *   address   - host name or IP the instance serves on (1..255 bytes, no
 *               control characters)
 *   port      - 0..65535
 *   weight    - 1..ZKC_SERVICE_WEIGHT_MAX: share of keys relative to the
 *               others (an instance of weight 2 gets twice the keys of one of
 *               weight 1)
 *   draining  - non-zero: registered, listed, but routed no keys
 *   metadata  - UTF-8 text for applications (may hold NULs when
 *               metadata_len is given), at most ZKC_SERVICE_METADATA_MAX;
 *               NULL = none; other bytes: ZKC_EBADARGUMENTS
 *   metadata_len - (size_t)-1: strlen(metadata)
 *   replace   - an id already registered by another session: 0 (default)
 *               fails with ZKC_ENODEEXISTS; 1 deletes that node and takes the
 *               id over (what Curator's ServiceDiscovery does; use it when a
 *               restarted process re-registers before its old session
 *               expired). Against a live twin that keeps its registration
 *               the two race to re-create the node and the loser waits
 *               (ZKC_ETIMEDOUT): replace is for registrations whose process
 *               is gone. */
typedef struct zkc_service_instance {
	int version;
	const char *id;
	const char *address;
	int port;
	int weight;
	int draining;
	const char *metadata;
	size_t metadata_len;
	int replace;
} zkc_service_instance_t;
#define ZKC_SERVICE_INSTANCE_INIT { ZKC_SERVICE_INSTANCE_VERSION, NULL, NULL, 0, 1, 0, \
	NULL, (size_t)-1, 0 }

/* Fills *instance with the defaults of ZKC_SERVICE_INSTANCE_INIT, for a
 * struct of `version` (1..ZKC_SERVICE_INSTANCE_VERSION; pass
 * ZKC_SERVICE_INSTANCE_VERSION), for callers that cannot use the brace
 * initializer. Expected codes: ZKC_EBADARGUMENTS (NULL, or a version this zkc
 * does not know: the message says which). */
ZKC_EXTERN int zkc_service_instance_init(zkc_service_instance_t *instance, unsigned int version);

/* Registers an instance of the service at `service_path` (created with
 * missing parents if need be): an ephemeral node service_path/id that zkc
 * creates again after every session loss (zkc/pnode.h) until
 * zkc_service_unregister or zkc_service_reg_close. Waits up to 30 s for the
 * node to exist. *out is owned by the caller (zkc_service_reg_close) and
 * must go before `zk`.
 * Any thread but the client's event thread (ZKC_EDEADLK). Expected codes:
 * ZKC_EBADARGUMENTS (path, id, address, port, weight, options version; the
 * message says which), ZKC_ETOOLARGE (metadata), ZKC_ENODEEXISTS (the id is
 * held by another live session and replace is 0), ZKC_ETIMEDOUT (not
 * created in time; nothing is left registered). */
ZKC_EXTERN int zkc_service_reg_open(zkc_service_reg_t **out, zkc_t *zk,
                                    const char *service_path,
                                    const zkc_service_instance_t *instance);

/* Marks the instance draining (1) or routable (0): routers stop (start)
 * sending it keys as soon as their caches see the change; the keys of other
 * instances do not move. Kept across re-registrations. Expected codes:
 * ZKC_EBADARGUMENTS, ZKC_ETIMEDOUT (the node could not be written now; the
 * new value is still used at the next re-creation), ZKC_EINVALIDSTATE
 * (unregistered). */
ZKC_EXTERN int zkc_service_set_draining(zkc_service_reg_t *reg, int draining);

/* Changes the weight (1..ZKC_SERVICE_WEIGHT_MAX); codes as set_draining. */
ZKC_EXTERN int zkc_service_set_weight(zkc_service_reg_t *reg, int weight);

/* Waits until the registration exists in the client's current session
 * (after a session loss it is re-created in the background). Expected
 * codes: ZKC_ETIMEDOUT. */
ZKC_EXTERN int zkc_service_reg_wait(zkc_service_reg_t *reg, int timeout_ms);

/* The registration's node path. Borrowed: owned by the handle, valid
 * until its close. */
ZKC_EXTERN const char *zkc_service_reg_path(const zkc_service_reg_t *reg);

/* Stops keeping the instance's node and deletes it, waiting for the delete
 * (within the client's retry deadline), so routers drop the instance as
 * soon as their caches see it. The handle stays the caller's
 * (zkc_service_reg_close); a second call returns ZKC_OK and does nothing.
 * Expected codes: ZKC_ETIMEDOUT, ZKC_EUNKNOWN (the delete could not be
 * confirmed; the node goes with the session at the latest), ZKC_ECLOSED,
 * ZKC_EBADARGUMENTS (NULL). */
ZKC_EXTERN int zkc_service_unregister(zkc_service_reg_t *reg);

/* The destructor: stops keeping the node, deletes it in the background if
 * still registered (the session's end removes it at the latest) and frees
 * the handle. Cannot fail. NULL is a no-op. */
ZKC_EXTERN void zkc_service_reg_close(zkc_service_reg_t *reg);

/* ------------------------------------------------------------ reading */

/* An instance as read back. Every pointer is owned by the list it is in. */
typedef struct zkc_service_entry {
	char *id;
	char *address;
	int port;
	int weight;
	int draining;
	char *metadata;          /* NUL-terminated copy; "" when none */
	size_t metadata_len;
	int64_t session_id;      /* the node's ephemeral owner (0: persistent) */
} zkc_service_entry_t;

typedef struct zkc_service_list {
	size_t count;
	zkc_service_entry_t *items; /* sorted by id (bytewise) */
	size_t invalid;          /* children whose data is not an instance
	                          * (skipped, never routed to) */
} zkc_service_list_t;

/* Frees a list. NULL is a no-op. */
ZKC_EXTERN void zkc_service_list_free(zkc_service_list_t *list);

/* Encodes an instance as node data (see docs/recipes/service.md), owned by
 * the caller (zkc_free), NUL-terminated. Expected codes: ZKC_EBADARGUMENTS,
 * ZKC_ETOOLARGE. */
ZKC_EXTERN int zkc_service_encode(char **out, size_t *out_len, const char *service_name,
                                  const zkc_service_instance_t *instance);

/* Decodes node data into one entry (`id` is the node name, used when the
 * data has none). The entry's strings are owned by the caller: release with
 * zkc_service_entry_clear. Expected codes: ZKC_EBADARGUMENTS (not an
 * instance: the message says why). */
ZKC_EXTERN int zkc_service_decode(zkc_service_entry_t *out, const char *id, const char *data,
                                  size_t len);
ZKC_EXTERN void zkc_service_entry_clear(zkc_service_entry_t *entry);

/* ------------------------------------------------------------ router */

typedef struct zkc_service_router zkc_service_router_t;

#define ZKC_SERVICE_ROUTER_OPTIONS_VERSION 1
typedef struct zkc_service_router_options {
	int version;             /* ZKC_SERVICE_ROUTER_OPTIONS_VERSION */
	int timeout_ms;          /* open waits this long for the first load;
	                          * 0 = 30000; < 0 = do not wait */
} zkc_service_router_options_t;
#define ZKC_SERVICE_ROUTER_OPTIONS_INIT { ZKC_SERVICE_ROUTER_OPTIONS_VERSION, 0 }

/* Fills *opts with the defaults of ZKC_SERVICE_ROUTER_OPTIONS_INIT, for a
 * struct of `version` (1..ZKC_SERVICE_ROUTER_OPTIONS_VERSION; pass
 * ZKC_SERVICE_ROUTER_OPTIONS_VERSION), for callers that cannot use the brace
 * initializer. Expected codes: ZKC_EBADARGUMENTS (NULL, or a version this zkc
 * does not know: the message says which). */
ZKC_EXTERN int zkc_service_router_options_init(zkc_service_router_options_t *opts, unsigned int version);

/* Opens a router on the service at `service_path` (which need not exist
 * yet): a cache of its children (zkc/cache.h) and an immutable snapshot of
 * the routable instances, replaced whenever the cache changes. Waits for
 * the first load (see options), which runs in the background: at most
 * timeout_ms, or until the deadline bound to the thread (zkc/cancel.h)
 * when that comes first. *out is owned by the caller
 * (zkc_service_router_close) and must go before `zk`. Expected codes:
 * ZKC_EBADARGUMENTS, ZKC_ETIMEDOUT (first load not done: nothing opened),
 * ZKC_EDEADLK (waiting on the client's event thread). */
ZKC_EXTERN int zkc_service_router_open(zkc_service_router_t **out, zkc_t *zk,
                                       const char *service_path,
                                       const zkc_service_router_options_t *opts);

/* The destructor: stops and frees the router. Cannot fail. NULL is a
 * no-op. Any thread, the client's event thread included. */
ZKC_EXTERN void zkc_service_router_close(zkc_service_router_t *r);

/* Where a key goes: filled by value, so routing allocates nothing. */
typedef struct zkc_service_endpoint {
	char id[ZKC_SERVICE_ID_MAX + 1];
	char address[ZKC_SERVICE_ADDRESS_MAX + 1];
	int port;
	int weight;
} zkc_service_endpoint_t;

/* Routes `key` (any bytes, len >= 1) to the live, non-draining instance
 * with the highest weighted rendezvous score (docs/recipes/service.md).
 * Every router of the same set answers the same. No round trip, no
 * allocation, any thread, concurrently; while the connection is down it
 * answers from the last known set. Expected codes: ZKC_EBADARGUMENTS (NULL
 * out or router, empty key), ZKC_ENONODE (no routable instance: unknown
 * service, none registered, or all draining). */
ZKC_EXTERN int zkc_service_route(zkc_service_endpoint_t *out, zkc_service_router_t *r,
                                 const void *key, size_t len);

/* The n best instances for `key` in order (the first is what
 * zkc_service_route gives), for replicas or fallbacks: out[0..n) is the
 * caller's, *out_count gets min(n, routable instances). Allocates only
 * when n > 16. Expected codes: as zkc_service_route, and ZKC_EBADARGUMENTS
 * for n = 0 or a NULL out_count. */
ZKC_EXTERN int zkc_service_route_n(zkc_service_endpoint_t *out, size_t *out_count, size_t n,
                                   zkc_service_router_t *r, const void *key, size_t len);

/* Every registered instance the router sees (draining ones included),
 * owned by the caller (zkc_service_list_free). Expected codes: ZKC_ENONODE
 * (the service node does not exist), ZKC_ENOMEM. */
ZKC_EXTERN int zkc_service_router_list(zkc_service_list_t **out, zkc_service_router_t *r);

/* Number of routable instances and a counter that grows with each new
 * snapshot (for tests and metrics: wait for the router to see a change). */
ZKC_EXTERN size_t zkc_service_router_count(zkc_service_router_t *r);
ZKC_EXTERN uint64_t zkc_service_router_generation(zkc_service_router_t *r);

/* The hash function of the router, for reimplementations and tests:
 * zkc_service_hash64 of a byte string, and the score of an instance
 * (id hash, weight) for a key hash. A key goes to the highest score. */
ZKC_EXTERN uint64_t zkc_service_hash64(const void *data, size_t len);
ZKC_EXTERN double zkc_service_score(uint64_t key_hash, uint64_t id_hash, int weight);

#ifdef __cplusplus
}
#endif
#endif
