/* bench/zkwire.h - a minimal ZooKeeper client for benchmarks: speaks the
 * wire protocol (jute) itself, in the calling thread, over plain TCP or over
 * an OpenSSL connection. It knows a session handshake, getData and close,
 * nothing else. bench_tls uses it for the floor: what any client, with no
 * library thread and no bridge, gets from the same server. */
#ifndef ZKC_BENCH_ZKWIRE_H
#define ZKC_BENCH_ZKWIRE_H

typedef struct zkw zkw_t;

/* Connects to host:port and opens a session. With ca non-NULL, over TLS
 * (TLS 1.2 minimum, chain verified against ca, as zkc's bridge does).
 * Returns 0, or -1 with a message in err. */
int zkw_open(zkw_t **out, const char *host, int port, const char *ca, char *err, size_t errn);
/* The negotiated "protocol cipher" for TLS, "plain" otherwise. */
const char *zkw_cipher(zkw_t *w);
/* n getData requests for path, all written before any reply is read (n = 1
 * is one round trip). Returns 0 when all n came back with err 0. */
int zkw_get(zkw_t *w, const char *path, int n);
/* Closes the session and frees w. */
void zkw_close(zkw_t *w);

#endif
