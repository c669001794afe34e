/* tests/harness/dnsmasq.h - a private dnsmasq on 127.0.0.1 that a test
 * controls, so DNS tests never touch /etc/hosts or the machine's resolver. */
#ifndef ZKC_HARNESS_DNSMASQ_H
#define ZKC_HARNESS_DNSMASQ_H

/* The zone the server answers for: names under it that are not in the
 * hosts text get NXDOMAIN (as a real cluster DNS would), other names are
 * REFUSED. */
#define HARNESS_DNSMASQ_DOMAIN "test.local"

typedef struct harness_dnsmasq harness_dnsmasq_t;

/* Starts dnsmasq on 127.0.0.1 and a free port. hosts is /etc/hosts text
 * ("127.0.0.5 a.test.local\n::1 a.test.local\n"), NULL for none; srv is a
 * NULL-terminated list of dnsmasq --srv-host values
 * ("_zk._tcp.test.local,a.test.local,2181"), NULL for none. Returns 0 with
 * *out set; -1 with the reason on stderr; 1 when dnsmasq is not installed
 * (callers skip). Set ZKC_DNSMASQ to use another binary; ZKC_TEST_KEEP=1
 * keeps its directory (hosts, query log) in /tmp after stop. */
int harness_dnsmasq_start(harness_dnsmasq_t **out, const char *hosts, const char *const *srv);

/* As harness_dnsmasq_start, on a given port (53 in a private network
 * namespace, to stand in for the system resolver). */
int harness_dnsmasq_start_on(harness_dnsmasq_t **out, int port, const char *hosts,
                             const char *const *srv);

/* The DNS server's address: "127.0.0.1" and its port (UDP and TCP). */
const char *harness_dnsmasq_ip(const harness_dnsmasq_t *d);
int harness_dnsmasq_port(const harness_dnsmasq_t *d);

/* Replaces the hosts text and returns once dnsmasq has re-read it
 * (SIGHUP, then waits for its "read" log line). 0 or -1. */
int harness_dnsmasq_set_hosts(harness_dnsmasq_t *d, const char *hosts);

/* Replaces the SRV records: dnsmasq reads them only at start, so this
 * restarts it on the same port. 0 or -1. */
int harness_dnsmasq_set_srv(harness_dnsmasq_t *d, const char *const *srv);

/* Queries dnsmasq logged so far whose line contains needle, e.g.
 * "query[A] a.test.local " - lets a test wait for N lookups instead of
 * sleeping. */
int harness_dnsmasq_queries(const harness_dnsmasq_t *d, const char *needle);

/* Stops dnsmasq and removes its files. NULL is a no-op. */
void harness_dnsmasq_stop(harness_dnsmasq_t *d);

#endif
