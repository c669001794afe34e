/* bench/bench_tls.c - what TLS costs: get latency and pipelined get
 * throughput over zkc's TLS bridge against plain TCP, to the same server
 * in the same run. Starts its own 1-node ensemble with a secureClientPort
 * (certificates made with openssl), as the plain bench ensemble has none. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zkc.h"
#include "ensemble.h"

#define GETS 3000
#define BATCHES 60
#define PER_BATCH 100

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* p50 and p99 of GETS sequential gets, and gets/s of pipelined batches. */
static int measure(zkc_t *zk, const char *path, double *p50, double *p99, double *tput)
{
	static double lat[GETS];
	zkc_batch_t *b = NULL;
	double t0;
	int i, j;

	for (i = 0; i < 200; i++) {            /* warm up */
		char *d = NULL;

		if (zkc_get(&d, NULL, NULL, zk, path) != ZKC_OK)
			return -1;
		zkc_free(d);
	}
	for (i = 0; i < GETS; i++) {
		char *d = NULL;

		t0 = now_us();
		if (zkc_get(&d, NULL, NULL, zk, path) != ZKC_OK)
			return -1;
		lat[i] = now_us() - t0;
		zkc_free(d);
	}
	qsort(lat, GETS, sizeof(double), cmp_d);
	*p50 = lat[GETS / 2];
	*p99 = lat[GETS * 99 / 100];
	if (zkc_batch_new(&b) != ZKC_OK)
		return -1;
	for (j = 0; j < PER_BATCH; j++)
		zkc_batch_get(b, path, 0, NULL, NULL);
	t0 = now_us();
	for (i = 0; i < BATCHES; i++)
		if (zkc_batch_run(zk, b) != ZKC_OK || zkc_batch_code(b, PER_BATCH - 1) != ZKC_OK) {
			zkc_batch_free(b);
			return -1;
		}
	*tput = BATCHES * PER_BATCH / ((now_us() - t0) / 1e6);
	zkc_batch_free(b);
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/zkc-bench-tls-XXXXXX", cmd[4096], cfg[2048], url[512], path[64];
	zkc_ens_options_t eo = ZKC_ENS_OPTIONS_INIT;
	double pp50, pp99, ptp, tp50, tp99, ttp;
	zkc_ens_t *ens = NULL;
	zkc_t *plain = NULL, *tls = NULL;
	char data[100];
	int rc = 1;

	if (!mkdtemp(dir))
		return 1;
	snprintf(cmd, sizeof(cmd), "cd %s && printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf && "
	         "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
	         "-subj /CN=bench-ca 2>/dev/null && openssl req -newkey rsa:2048 -nodes -keyout s.key "
	         "-out s.csr -subj /CN=localhost 2>/dev/null && openssl x509 -req -in s.csr -CA ca.pem "
	         "-CAkey ca.key -CAcreateserial -out s.crt -days 2 -extfile ext.cnf 2>/dev/null && "
	         "cat s.key s.crt > s.pem", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench_tls: cannot make certificates with openssl\n");
		goto out;
	}
	snprintf(cfg, sizeof(cfg), "ssl.keyStore.location=%s/s.pem\nssl.keyStore.type=PEM\n"
	         "ssl.trustStore.location=%s/ca.pem\nssl.trustStore.type=PEM\nssl.clientAuth=none\n",
	         dir, dir);
	eo.nodes = 1;
	eo.secure_client_port = 1;
	eo.extra_config = cfg;
	eo.die_with_parent = 1;
	if (zkc_ens_up(&ens, &eo) != ZKC_OK) {
		fprintf(stderr, "bench_tls: %s\n", zkc_ens_error());
		goto out;
	}
	if (zkc_open(&plain, zkc_ens_url(ens), NULL) != ZKC_OK)
		goto out;
	snprintf(url, sizeof(url), "zks://127.0.0.1:%d?ca=%s/ca.pem", zkc_ens_secure_port(ens, 0),
	         dir);
	if (zkc_open(&tls, url, NULL) != ZKC_OK) {
		fprintf(stderr, "bench_tls: %s\n", zkc_error_last()->message);
		goto out;
	}
	snprintf(path, sizeof(path), "/bench-tls-%d", (int)getpid());
	memset(data, 'x', sizeof(data));
	if (zkc_create(NULL, NULL, plain, path, data, sizeof(data), NULL) != ZKC_OK)
		goto out;
	/* Alternate to spread any drift of the machine over both. */
	if (measure(plain, path, &pp50, &pp99, &ptp) || measure(tls, path, &tp50, &tp99, &ttp) ||
	    measure(plain, path, &pp50, &pp99, &ptp))
		goto out;
	fprintf(stderr, "1-node ensemble, forceSync=no; 100-byte node; %d sequential gets, "
	        "%d batches of %d pipelined gets\n", GETS, BATCHES, PER_BATCH);
	fprintf(stderr, "get p50/p99: plain %.0f/%.0f us, tls %.0f/%.0f us (+%.1f%% at p50)\n",
	        pp50, pp99, tp50, tp99, (tp50 / pp50 - 1) * 100);
	fprintf(stderr, "pipelined gets/s: plain %.0f, tls %.0f (%.1f%% lower)\n", ptp, ttp,
	        (1 - ttp / ptp) * 100);
	printf("{\"get_plain_p50_us\": %.1f, \"get_plain_p99_us\": %.1f, \"get_tls_p50_us\": %.1f, "
	       "\"get_tls_p99_us\": %.1f, \"latency_added_pct\": %.1f, \"gets_plain_per_s\": %.0f, "
	       "\"gets_tls_per_s\": %.0f, \"throughput_loss_pct\": %.1f}\n", pp50, pp99, tp50, tp99,
	       (tp50 / pp50 - 1) * 100, ptp, ttp, (1 - ttp / ptp) * 100);
	zkc_delete(plain, path, -1, 0);
	rc = 0;
out:
	zkc_close(tls);
	zkc_close(plain);
	if (ens) {
		zkc_ens_down(ens, ZKC_ENS_DOWN_REMOVE);
		zkc_ens_free(ens);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_tls: could not remove %s\n", dir);
	return rc;
}
