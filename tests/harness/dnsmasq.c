/* tests/harness/dnsmasq.c - starts, reloads, restarts and stops a private
 * dnsmasq on 127.0.0.1 for DNS tests; its files live in a fresh /tmp dir. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dnsmasq.h"

#define PATH_LEN 256
#define MAX_SRV 64
#define READY_TIMEOUT_MS 10000
#define START_ATTEMPTS 8

struct harness_dnsmasq {
	char dir[64];
	char hosts_path[PATH_LEN];
	char log_path[PATH_LEN];
	char pid_path[PATH_LEN];
	char out_path[PATH_LEN];
	char exe[PATH_LEN];
	int port;
	pid_t pid;
	char *srv[MAX_SRV + 1];   /* NULL-terminated copies */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Written to a temporary name and renamed, so dnsmasq never reads half. */
static int write_file(const char *path, const char *text)
{
	char tmp[PATH_LEN + 8];
	FILE *f;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "dnsmasq harness: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	ok = fputs(text ? text : "", f) >= 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		fprintf(stderr, "dnsmasq harness: writing %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int count_lines(const char *path, const char *needle)
{
	char line[4096];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

static int find_exe(char *out, size_t cap)
{
	const char *env = getenv("ZKC_DNSMASQ");
	const char *path = getenv("PATH");
	const char *fixed[] = { "/usr/sbin/dnsmasq", "/sbin/dnsmasq", "/usr/local/sbin/dnsmasq" };

	if (env && *env) {
		snprintf(out, cap, "%s", env);
		return access(out, X_OK) == 0 ? 0 : -1;
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (access(fixed[i], X_OK) == 0) {
			snprintf(out, cap, "%s", fixed[i]);
			return 0;
		}
	while (path && *path) {
		const char *end = strchr(path, ':');
		int len = end ? (int)(end - path) : (int)strlen(path);

		snprintf(out, cap, "%.*s/dnsmasq", len, path);
		if (len > 0 && access(out, X_OK) == 0)
			return 0;
		path = end ? end + 1 : NULL;
	}
	return -1;
}

/* A port free for both UDP and TCP on 127.0.0.1 right now. */
static int pick_port(void)
{
	for (int tries = 0; tries < 50; tries++) {
		struct sockaddr_in a;
		socklen_t len = sizeof(a);
		int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0);
		int port = -1;

		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (u >= 0 && t >= 0 && bind(u, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		    getsockname(u, (struct sockaddr *)&a, &len) == 0 &&
		    bind(t, (struct sockaddr *)&a, sizeof(a)) == 0)
			port = ntohs(a.sin_port);
		if (u >= 0)
			close(u);
		if (t >= 0)
			close(t);
		if (port > 0)
			return port;
	}
	return -1;
}

static int tcp_connects(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	if (fd < 0)
		return 0;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static void stop_process(harness_dnsmasq_t *d)
{
	long long deadline;
	int status;

	if (d->pid <= 0)
		return;
	kill(d->pid, SIGTERM);
	deadline = now_ms() + 5000;
	while (waitpid(d->pid, &status, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			break;
		}
		nap_ms(10);
	}
	d->pid = 0;
}

/* Runs dnsmasq on d->port and waits until it has read its hosts file and
 * accepts connections. 0, or -1 when it exited (port taken) or hung. */
static int spawn(harness_dnsmasq_t *d)
{
	char a_port[32], a_hosts[PATH_LEN + 16], a_pid[PATH_LEN + 16], a_log[PATH_LEN + 32];
	char a_srv[MAX_SRV][512];
	const char *argv[32 + MAX_SRV];
	int argc = 0, reads_before, status;
	long long deadline;
	pid_t pid;

	snprintf(a_port, sizeof(a_port), "--port=%d", d->port);
	snprintf(a_hosts, sizeof(a_hosts), "--addn-hosts=%s", d->hosts_path);
	snprintf(a_pid, sizeof(a_pid), "--pid-file=%s", d->pid_path);
	snprintf(a_log, sizeof(a_log), "--log-facility=%s", d->log_path);
	argv[argc++] = "dnsmasq";
	argv[argc++] = "--keep-in-foreground";
	argv[argc++] = "--conf-file=/dev/null";   /* not /etc/dnsmasq.conf{,.d} */
	argv[argc++] = "--no-resolv";             /* no upstream: never the machine's DNS */
	argv[argc++] = "--no-hosts";              /* never /etc/hosts */
	argv[argc++] = "--bind-interfaces";
	argv[argc++] = "--listen-address=127.0.0.1";
	argv[argc++] = a_port;
	argv[argc++] = a_hosts;
	argv[argc++] = a_pid;
	argv[argc++] = a_log;
	argv[argc++] = "--log-queries";
	/* Authoritative for the test zone: unknown names get NXDOMAIN, as
	 * from a real server, rather than REFUSED. */
	argv[argc++] = "--local=/" HARNESS_DNSMASQ_DOMAIN "/";
	/* As root dnsmasq drops to "nobody" (group "dip"), which cannot read
	 * our 0700 directory at start or on SIGHUP; and any change of its
	 * user or group would clear the parent-death signal set below. */
	if (geteuid() == 0) {
		argv[argc++] = "--user=root";
		argv[argc++] = "--group=root";
	}
	for (int i = 0; d->srv[i]; i++) {
		snprintf(a_srv[i], sizeof(a_srv[i]), "--srv-host=%s", d->srv[i]);
		argv[argc++] = a_srv[i];
	}
	argv[argc] = NULL;

	reads_before = count_lines(d->log_path, d->hosts_path);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "dnsmasq harness: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls between fork and exec. */
		int fd = open(d->out_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int nul = open("/dev/null", O_RDONLY);

		prctl(PR_SET_PDEATHSIG, SIGTERM);   /* a crashed test leaves no server */
		if (nul >= 0)
			dup2(nul, 0);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(d->exe, (char *const *)argv);
		_exit(127);
	}
	d->pid = pid;
	deadline = now_ms() + READY_TIMEOUT_MS;
	while (now_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			d->pid = 0;
			return -1;   /* usually: the port was taken meanwhile */
		}
		if (count_lines(d->log_path, d->hosts_path) > reads_before && tcp_connects(d->port))
			return 0;
		nap_ms(10);
	}
	fprintf(stderr, "dnsmasq harness: not ready after %d ms (see %s)\n", READY_TIMEOUT_MS,
	        d->out_path);
	stop_process(d);
	return -1;
}

static int copy_srv(harness_dnsmasq_t *d, const char *const *srv)
{
	for (int i = 0; d->srv[i]; i++) {
		free(d->srv[i]);
		d->srv[i] = NULL;
	}
	for (int i = 0; srv && srv[i]; i++) {
		if (i >= MAX_SRV || strlen(srv[i]) > 400) {
			fprintf(stderr, "dnsmasq harness: too many or too long SRV records\n");
			return -1;
		}
		d->srv[i] = strdup(srv[i]);
		if (!d->srv[i])
			return -1;
	}
	return 0;
}

int harness_dnsmasq_start(harness_dnsmasq_t **out, const char *hosts, const char *const *srv)
{
	return harness_dnsmasq_start_on(out, 0, hosts, srv);
}

int harness_dnsmasq_start_on(harness_dnsmasq_t **out, int port, const char *hosts,
                             const char *const *srv)
{
	harness_dnsmasq_t *d;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -1;
	if (find_exe(d->exe, sizeof(d->exe)) != 0) {
		fprintf(stderr, "dnsmasq harness: dnsmasq not found (apt-get install "
		        "dnsmasq-base, or set ZKC_DNSMASQ)\n");
		free(d);
		return 1;
	}
	snprintf(d->dir, sizeof(d->dir), "/tmp/zkc-dnsmasq-XXXXXX");
	if (!mkdtemp(d->dir)) {
		fprintf(stderr, "dnsmasq harness: mkdtemp: %s\n", strerror(errno));
		free(d);
		return -1;
	}
	snprintf(d->hosts_path, sizeof(d->hosts_path), "%s/hosts", d->dir);
	snprintf(d->log_path, sizeof(d->log_path), "%s/log", d->dir);
	snprintf(d->pid_path, sizeof(d->pid_path), "%s/pid", d->dir);
	snprintf(d->out_path, sizeof(d->out_path), "%s/out", d->dir);
	if (write_file(d->hosts_path, hosts) != 0 || copy_srv(d, srv) != 0)
		goto fail;
	for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
		d->port = port > 0 ? port : pick_port();
		if (d->port > 0 && spawn(d) == 0) {
			*out = d;
			return 0;
		}
	}
	fprintf(stderr, "dnsmasq harness: could not start dnsmasq (see %s)\n", d->out_path);
fail:
	harness_dnsmasq_stop(d);
	return -1;
}

const char *harness_dnsmasq_ip(const harness_dnsmasq_t *d)
{
	(void)d;
	return "127.0.0.1";
}

int harness_dnsmasq_port(const harness_dnsmasq_t *d)
{
	return d->port;
}

int harness_dnsmasq_set_hosts(harness_dnsmasq_t *d, const char *hosts)
{
	int before = count_lines(d->log_path, d->hosts_path);
	long long deadline = now_ms() + READY_TIMEOUT_MS;

	if (write_file(d->hosts_path, hosts) != 0)
		return -1;
	if (d->pid <= 0 || kill(d->pid, SIGHUP) != 0)
		return -1;
	while (count_lines(d->log_path, d->hosts_path) <= before) {
		if (now_ms() > deadline) {
			fprintf(stderr, "dnsmasq harness: hosts not re-read after SIGHUP\n");
			return -1;
		}
		nap_ms(10);
	}
	return 0;
}

int harness_dnsmasq_set_srv(harness_dnsmasq_t *d, const char *const *srv)
{
	if (copy_srv(d, srv) != 0)
		return -1;
	stop_process(d);
	/* The same port, so clients configured with it keep working. */
	for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
		if (spawn(d) == 0)
			return 0;
		nap_ms(50);
	}
	fprintf(stderr, "dnsmasq harness: restart on port %d failed (see %s)\n", d->port,
	        d->out_path);
	return -1;
}

int harness_dnsmasq_queries(const harness_dnsmasq_t *d, const char *needle)
{
	return count_lines(d->log_path, needle);
}

void harness_dnsmasq_stop(harness_dnsmasq_t *d)
{
	const char *names[] = { "hosts", "hosts.tmp", "log", "pid", "out" };
	char path[PATH_LEN + 16];

	if (!d)
		return;
	stop_process(d);
	if (!getenv("ZKC_TEST_KEEP")) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", d->dir, names[i]);
			unlink(path);
		}
		rmdir(d->dir);
	}
	for (int i = 0; d->srv[i]; i++)
		free(d->srv[i]);
	free(d);
}
