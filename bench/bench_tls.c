/* bench/bench_tls.c - what TLS costs: get latency and pipelined get
 * throughput over zkc's TLS bridge against plain TCP, to the same server
 * in the same run, and for reference the same with a bare wire client
 * (bench/zkwire.c, no library threads, no bridge): the floor of what TLS
 * costs with this server. Starts its own 1-node ensemble with a secureClientPort
 * (certificates made with openssl), as the plain bench ensemble has none. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zkc.h"
#include "ensemble.h"
#include "zkwire.h"

/* Rounds of interleaved measurements: in each round every mode does SEQ
 * sequential gets and BATCHES batches of PER_BATCH pipelined gets, the
 * order of the modes rotating from round to round, so that a busy machine
 * weighs on all modes alike. */
#define ROUNDS 10
#define SEQ 300
#define BATCHES 6
#define PER_BATCH 100
#define WARMUP 300
#define WARMUP_BATCHES 20          /* enough for the server JIT to compile its TLS path */

enum { ZKC_PLAIN, ZKC_TLS, WIRE_PLAIN, WIRE_TLS, NMODES };
static const char *const mode_name[NMODES] = { "plain", "tls", "wire_plain", "wire_tls" };

typedef struct mode {
	zkc_t *zk;                    /* zkc client, or */
	zkw_t *w;                     /* a bare wire client in this thread */
	double *lat;                  /* all rounds' sequential gets */
	int nlat;
	double tput[64];              /* gets/s of each round */
	double p50[64];               /* p50 of each round */
	double cpu_self_ns;           /* CPU time of this process (all threads) */
	double cpu_server_ns;         /* and of the server's JVM, during rounds */
	long ops;
} mode_t_;

static pid_t server_pid;

/* CPU time (ns) all threads of pid have run so far, from the scheduler's
 * own accounting (/proc/PID/task/TID/schedstat, first field). */
static double cpu_ns(pid_t pid)
{
	char dpath[64], path[384], line[128];
	struct dirent *de;
	double sum = 0;
	DIR *d;

	snprintf(dpath, sizeof(dpath), "/proc/%d/task", (int)pid);
	d = opendir(dpath);
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/schedstat", dpath, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f))
			sum += strtod(line, NULL);
		fclose(f);
	}
	closedir(d);
	return sum;
}

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

static double quantile(double *v, int n, double q)
{
	qsort(v, (size_t)n, sizeof(double), cmp_d);
	return v[(int)(n * q)];
}

static int one_get(mode_t_ *m, const char *path)
{
	char *d = NULL;

	if (m->w)
		return zkw_get(m->w, path, 1);
	if (zkc_get(&d, NULL, NULL, m->zk, path) != ZKC_OK)
		return -1;
	zkc_free(d);
	return 0;
}

static int batch(mode_t_ *m, zkc_batch_t *b, const char *path)
{
	if (m->w)
		return zkw_get(m->w, path, PER_BATCH);
	return zkc_batch_run(m->zk, b) != ZKC_OK || zkc_batch_code(b, PER_BATCH - 1) != ZKC_OK;
}

/* One round of mode m: SEQ timed gets, then BATCHES timed batches. */
static int round_of(mode_t_ *m, int r, zkc_batch_t *b, const char *path)
{
	double t0, *lat = m->lat + m->nlat;
	double c0 = cpu_ns(getpid()), s0 = server_pid ? cpu_ns(server_pid) : 0;
	int i;

	for (i = 0; i < SEQ; i++) {
		t0 = now_us();
		if (one_get(m, path) != 0)
			return -1;
		lat[i] = now_us() - t0;
	}
	m->nlat += SEQ;
	m->p50[r] = quantile(lat, SEQ, 0.5);
	t0 = now_us();
	for (i = 0; i < BATCHES; i++)
		if (batch(m, b, path) != 0)
			return -1;
	m->tput[r] = BATCHES * PER_BATCH / ((now_us() - t0) / 1e6);
	m->cpu_self_ns += cpu_ns(getpid()) - c0;
	if (server_pid)
		m->cpu_server_ns += cpu_ns(server_pid) - s0;
	m->ops += SEQ + BATCHES * PER_BATCH;
	return 0;
}

static double median_of(const double *v, int n)
{
	double tmp[64];

	memcpy(tmp, v, (size_t)n * sizeof(double));
	return quantile(tmp, n, 0.5);
}

static double min_of(const double *v, int n)
{
	double x = v[0];
	int i;

	for (i = 1; i < n; i++)
		x = v[i] < x ? v[i] : x;
	return x;
}

static double max_of(const double *v, int n)
{
	double x = v[0];
	int i;

	for (i = 1; i < n; i++)
		x = v[i] > x ? v[i] : x;
	return x;
}

int main(void)
{
	char dir[] = "/tmp/zkc-bench-tls-XXXXXX", cmd[4096], cfg[2048], url[512], path[64];
	char ca[256], err[256];
	zkc_ens_options_t eo = ZKC_ENS_OPTIONS_INIT;
	mode_t_ m[NMODES];
	double p50[NMODES], p99[NMODES], tp[NMODES], rl[64], rt[64], wl[64], wt[64];
	zkc_ens_t *ens = NULL;
	zkc_t *plain = NULL, *tls = NULL;
	zkc_batch_t *b = NULL;
	/* The ensemble launcher runs test servers with C1 only (fast start);
	 * the JDK's AES-GCM fast paths come with C2, so C1 weighs on TLS alone
	 * and not on plain TCP. The bench runs the server as the JVM does by
	 * default (tiered up to C2); ZKC_BENCH_TLS_JVM_FLAGS="" for the
	 * launcher's C1-only server. */
	const char *jvm = getenv("ZKC_BENCH_TLS_JVM_FLAGS") ? getenv("ZKC_BENCH_TLS_JVM_FLAGS")
	                                                    : "-XX:TieredStopAtLevel=4";
	/* ZKC_BENCH_TLS_SERVER_CONFIG: zoo.cfg lines for the server's TLS
	 * (e.g. ssl.protocol=TLSv1.3), one per line */
	/* one mode only (for strace or callgrind): no figures are printed */
	const char *only = getenv("ZKC_BENCH_TLS_ONLY");
	int rounds = getenv("ZKC_BENCH_TLS_ROUNDS") ? atoi(getenv("ZKC_BENCH_TLS_ROUNDS")) : ROUNDS;
	char data[100];
	int rc = 1, i, r, created = 0;

	/* the wire client's SSL_shutdown may write after the server closed */
	signal(SIGPIPE, SIG_IGN);
	memset(m, 0, sizeof(m));
	if (rounds < 1 || rounds > 64)
		rounds = ROUNDS;
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
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(cfg, sizeof(cfg), "ssl.keyStore.location=%s/s.pem\nssl.keyStore.type=PEM\n"
	         "ssl.trustStore.location=%s/ca.pem\nssl.trustStore.type=PEM\nssl.clientAuth=none\n%s",
	         dir, dir, getenv("ZKC_BENCH_TLS_SERVER_CONFIG") ? getenv("ZKC_BENCH_TLS_SERVER_CONFIG") : "");
	eo.nodes = 1;
	eo.secure_client_port = 1;
	eo.extra_config = cfg;
	eo.jvm_flags = *jvm ? jvm : NULL;
	eo.die_with_parent = 1;
	if (zkc_ens_up(&ens, &eo) != ZKC_OK) {
		fprintf(stderr, "bench_tls: %s\n", zkc_ens_error());
		goto out;
	}
	{
		zkc_ens_node_status_t st;

		if (zkc_ens_status(&st, ens, 0) == ZKC_OK)
			server_pid = st.pid;
	}
	if (zkc_open(&plain, zkc_ens_url(ens), NULL) != ZKC_OK)
		goto out;
	snprintf(url, sizeof(url), "zks://127.0.0.1:%d?ca=%s", zkc_ens_secure_port(ens, 0), ca);
	if (zkc_open(&tls, url, NULL) != ZKC_OK) {
		fprintf(stderr, "bench_tls: %s\n", zkc_error_last()->message);
		goto out;
	}
	m[ZKC_PLAIN].zk = plain;
	m[ZKC_TLS].zk = tls;
	if (zkw_open(&m[WIRE_PLAIN].w, zkc_ens_host(ens, 0), zkc_ens_port(ens, 0), NULL, err,
	             sizeof(err)) != 0 ||
	    zkw_open(&m[WIRE_TLS].w, zkc_ens_host(ens, 0), zkc_ens_secure_port(ens, 0), ca, err,
	             sizeof(err)) != 0) {
		fprintf(stderr, "bench_tls: wire client: %s\n", err);
		goto out;
	}
	snprintf(path, sizeof(path), "/bench-tls-%d", (int)getpid());
	memset(data, 'x', sizeof(data));
	if (zkc_create(NULL, NULL, plain, path, data, sizeof(data), NULL) != ZKC_OK)
		goto out;
	created = 1;
	if (zkc_batch_new(&b) != ZKC_OK)
		goto out;
	for (i = 0; i < PER_BATCH; i++)
		zkc_batch_get(b, path, 0, NULL, NULL);
	/* Warm-up of every mode (the TLS handshakes are long done: the timed
	 * figures are steady-state requests only). */
	for (i = 0; i < NMODES; i++) {
		int k;

		if (only && strcmp(only, mode_name[i]) != 0)
			continue;
		m[i].lat = malloc((size_t)rounds * SEQ * sizeof(double));
		if (!m[i].lat)
			goto out;
		for (k = 0; k < WARMUP; k++)
			if (one_get(&m[i], path) != 0)
				goto out;
		for (k = 0; k < WARMUP_BATCHES; k++)
			if (batch(&m[i], b, path) != 0)
				goto out;
	}
	for (r = 0; r < rounds; r++)
		for (i = 0; i < NMODES; i++)
			if ((!only || strcmp(only, mode_name[(i + r) % NMODES]) == 0) &&
			    round_of(&m[(i + r) % NMODES], r, b, path) != 0) {
				fprintf(stderr, "bench_tls: %s: a get failed\n", mode_name[(i + r) % NMODES]);
				goto out;
			}
	if (only) {
		printf("{}\n");
		rc = 0;
		goto out;
	}
	for (i = 0; i < NMODES; i++) {
		p50[i] = quantile(m[i].lat, m[i].nlat, 0.5);
		p99[i] = quantile(m[i].lat, m[i].nlat, 0.99);
		tp[i] = median_of(m[i].tput, rounds);
	}
	fprintf(stderr, "1-node ensemble (Netty, forceSync=no%s%s); 100-byte node; %d interleaved "
	        "rounds of %d sequential gets and %d batches of %d pipelined gets per mode; "
	        "tls: %s\n", *jvm ? ", JVM flags " : ", launcher's C1-only JVM", jvm, rounds, SEQ, BATCHES,
	        PER_BATCH, zkw_cipher(m[WIRE_TLS].w));
	fprintf(stderr, "  %-10s %8s %8s %17s %10s %21s\n", "mode", "p50 us", "p99 us",
	        "round p50 min-max", "gets/s", "round gets/s min-max");
	for (i = 0; i < NMODES; i++)
		fprintf(stderr, "  %-10s %8.0f %8.0f %8.0f-%-8.0f %10.0f %10.0f-%-10.0f\n", mode_name[i],
		        p50[i], p99[i], min_of(m[i].p50, rounds), max_of(m[i].p50, rounds), tp[i],
		        min_of(m[i].tput, rounds), max_of(m[i].tput, rounds));
	/* Each round's TLS figure against the plain one of the same round:
	 * neighbours in time, so less spread by the machine's load. */
	for (r = 0; r < rounds; r++) {
		rl[r] = (m[ZKC_TLS].p50[r] / m[ZKC_PLAIN].p50[r] - 1) * 100;
		rt[r] = (1 - m[ZKC_TLS].tput[r] / m[ZKC_PLAIN].tput[r]) * 100;
		wl[r] = (m[WIRE_TLS].p50[r] / m[WIRE_PLAIN].p50[r] - 1) * 100;
		wt[r] = (1 - m[WIRE_TLS].tput[r] / m[WIRE_PLAIN].tput[r]) * 100;
	}
	fprintf(stderr, "  per-round pairs, median (min..max): zkc tls adds %.0f%% (%.0f..%.0f) "
	        "at p50, loses %.0f%% (%.0f..%.0f) gets/s; wire tls adds %.0f%% (%.0f..%.0f), "
	        "loses %.0f%% (%.0f..%.0f)\n", median_of(rl, rounds), min_of(rl, rounds),
	        max_of(rl, rounds), median_of(rt, rounds), min_of(rt, rounds), max_of(rt, rounds),
	        median_of(wl, rounds), min_of(wl, rounds), max_of(wl, rounds),
	        median_of(wt, rounds), min_of(wt, rounds), max_of(wt, rounds));
	fprintf(stderr, "  CPU per get (us): %-10s %-10s\n", "client", "server");
	for (i = 0; i < NMODES; i++)
		fprintf(stderr, "    %-10s %8.1f %8.1f\n", mode_name[i], m[i].cpu_self_ns / m[i].ops / 1e3,
		        m[i].cpu_server_ns / m[i].ops / 1e3);
	fprintf(stderr, "zkc: tls adds %.1f%% at p50 and loses %.1f%% of gets/s; "
	        "bare wire client: tls adds %.1f%% at p50 and loses %.1f%%\n",
	        (p50[ZKC_TLS] / p50[ZKC_PLAIN] - 1) * 100, (1 - tp[ZKC_TLS] / tp[ZKC_PLAIN]) * 100,
	        (p50[WIRE_TLS] / p50[WIRE_PLAIN] - 1) * 100, (1 - tp[WIRE_TLS] / tp[WIRE_PLAIN]) * 100);
	printf("{\"get_plain_p50_us\": %.1f, \"get_plain_p99_us\": %.1f, \"get_tls_p50_us\": %.1f, "
	       "\"get_tls_p99_us\": %.1f, \"latency_added_pct\": %.1f, \"gets_plain_per_s\": %.0f, "
	       "\"gets_tls_per_s\": %.0f, \"throughput_loss_pct\": %.1f, "
	       "\"wire_plain_p50_us\": %.1f, \"wire_tls_p50_us\": %.1f, "
	       "\"wire_latency_added_pct\": %.1f, \"wire_plain_per_s\": %.0f, "
	       "\"wire_tls_per_s\": %.0f, \"wire_throughput_loss_pct\": %.1f, "
	       "\"paired_latency_added_pct\": %.1f, \"paired_throughput_loss_pct\": %.1f, "
	       "\"cpu_plain_client_us\": %.1f, \"cpu_tls_client_us\": %.1f, "
	       "\"cpu_wire_tls_client_us\": %.1f, \"cpu_plain_server_us\": %.1f, "
	       "\"cpu_tls_server_us\": %.1f}\n",
	       p50[ZKC_PLAIN], p99[ZKC_PLAIN], p50[ZKC_TLS], p99[ZKC_TLS],
	       (p50[ZKC_TLS] / p50[ZKC_PLAIN] - 1) * 100, tp[ZKC_PLAIN], tp[ZKC_TLS],
	       (1 - tp[ZKC_TLS] / tp[ZKC_PLAIN]) * 100, p50[WIRE_PLAIN], p50[WIRE_TLS],
	       (p50[WIRE_TLS] / p50[WIRE_PLAIN] - 1) * 100, tp[WIRE_PLAIN], tp[WIRE_TLS],
	       (1 - tp[WIRE_TLS] / tp[WIRE_PLAIN]) * 100, median_of(rl, rounds),
	       median_of(rt, rounds), m[ZKC_PLAIN].cpu_self_ns / m[ZKC_PLAIN].ops / 1e3,
	       m[ZKC_TLS].cpu_self_ns / m[ZKC_TLS].ops / 1e3,
	       m[WIRE_TLS].cpu_self_ns / m[WIRE_TLS].ops / 1e3,
	       m[ZKC_PLAIN].cpu_server_ns / m[ZKC_PLAIN].ops / 1e3,
	       m[ZKC_TLS].cpu_server_ns / m[ZKC_TLS].ops / 1e3);
	fflush(stdout);
	rc = 0;
out:
	if (created)
		zkc_delete(plain, path, -1, 0);
	zkc_batch_free(b);
	for (i = 0; i < NMODES; i++) {
		zkw_close(m[i].w);
		free(m[i].lat);
	}
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
