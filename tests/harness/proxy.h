/* tests/harness/proxy.h - an in-process TCP proxy that injects network
 * faults (resets, partitions, refusals, a lost reply) between a client
 * under test and a ZooKeeper server. */
#ifndef ZKC_TEST_PROXY_H
#define ZKC_TEST_PROXY_H

#include <stdint.h>

/* One proxy: listens on 127.0.0.1 (an ephemeral port) and forwards each
 * accepted connection to the target, both ways, from its own thread.
 * Every function is thread-safe, and the control functions are
 * synchronous: when h_proxy_cut() returns, the connections are gone; when
 * h_proxy_blackhole(p, 1) returns, no further byte is forwarded. */
typedef struct h_proxy h_proxy_t;

typedef struct h_proxy_stats {
	uint64_t accepted;     /* connections accepted (refused ones too) */
	uint64_t active;       /* open now */
	uint64_t refused;      /* closed at once in refuse mode */
	uint64_t cut;          /* reset by h_proxy_cut() or a lost reply */
	uint64_t replies_lost; /* replies discarded by h_proxy_lose_next_reply */
	uint64_t held;         /* replies held by h_proxy_hold_replies */
	uint64_t released;     /* ... and released by a later client packet */
	uint64_t bytes_up;     /* client -> server, forwarded */
	uint64_t bytes_down;   /* server -> client, forwarded */
} h_proxy_stats_t;

/* Starts a proxy to host:port (a numeric address or a name, resolved now).
 * *out is owned by the caller: h_proxy_free(). Returns 0, or -1 with a
 * message on stderr. */
int h_proxy_new(h_proxy_t **out, const char *host, int port);

/* Stops the thread, closes the listener and every connection. NULL is a
 * no-op. */
void h_proxy_free(h_proxy_t *p);

/* The port the proxy listens on (on 127.0.0.1). */
int h_proxy_port(const h_proxy_t *p);

/* Forwards new connections to host:port from now on; open ones keep their
 * server. Returns 0, or -1 if host does not resolve. */
int h_proxy_set_target(h_proxy_t *p, const char *host, int port);

/* Resets every open connection, both sides (SO_LINGER 0: an RST, as when
 * a peer crashes or a middlebox drops state). New ones are accepted. */
void h_proxy_cut(h_proxy_t *p);

/* on: a partition. Connections stay open, but nothing is forwarded either
 * way (bytes wait in buffers); new connections are accepted and equally
 * silent. off: traffic flows again, including what waited. */
void h_proxy_blackhole(h_proxy_t *p, int on);

/* on: new connections are reset as soon as they are accepted (a server
 * that is down). Open connections are not touched. */
void h_proxy_refuse(h_proxy_t *p, int on);

/* Arms a one-shot fault: the next client->server chunk longer than 16
 * bytes (a real request: not a 12-byte ping, not the connect handshake
 * that opens each connection) is forwarded; then everything the server
 * sends back is discarded until the reply to that request (same ZooKeeper
 * xid) has arrived - so the server did execute it - and the connection is
 * reset. The client sees a lost connection with its request's outcome
 * unknown. If no reply comes within 10 s the connection is reset anyway. */
void h_proxy_lose_next_reply(h_proxy_t *p);

/* every > 0: every `every`-th request (a client frame with a positive xid)
 * is answered late: from the moment it passes, nothing the server sends is
 * forwarded until its reply has arrived and the client has sent one more
 * frame after that (any frame, a ping too). That is a server that sits on
 * committed requests until the next packet arrives (ZooKeeper 3.8.0's
 * CommitProcessor, ZOOKEEPER-4537), made to happen on demand. A frame that
 * releases is never held itself. 0: off (a hold in progress still ends as
 * described). */
void h_proxy_hold_replies(h_proxy_t *p, int every);

/* A snapshot of the counters. */
void h_proxy_stats(h_proxy_stats_t *out, h_proxy_t *p);

#endif
