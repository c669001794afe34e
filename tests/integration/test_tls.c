/* tests/integration/test_tls.c - TLS to real ZooKeeper servers on their
 * secureClientPort (Netty, PEM stores), with certificates the test makes
 * with openssl: connect, failover, verification failures with their
 * reasons, mutual TLS, certificate rotation, the bridge refusing other
 * processes, and digest ACLs. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"

static char dir[256];
static zkc_ens_t *mtls;            /* a 1-node ensemble that requires client certs */

static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* CA1 signs the servers (localhost, 127.0.0.1) and a client; CA2 is a
 * stranger; an expired server certificate for the failure tests. */
static int make_certs(void)
{
	return sh("cd %s && "
	          "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n' > ext.cnf && "
	          "for ca in ca1 ca2; do openssl req -x509 -newkey rsa:2048 -nodes -keyout $ca.key "
	          "-out $ca.pem -days 30 -subj \"/CN=zkc test $ca\" 2>/dev/null || exit 1; done && "
	          "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null && "
	          "openssl x509 -req -in server.csr -CA ca1.pem -CAkey ca1.key -CAcreateserial -out server.crt -days 30 -extfile ext.cnf 2>/dev/null && "
	          "cat server.key server.crt > server.pem && "
	          "openssl x509 -req -in server.csr -CA ca1.pem -CAkey ca1.key -CAcreateserial -out expired.crt -days -1 -extfile ext.cnf 2>/dev/null && "
	          "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=zkc-client 2>/dev/null && "
	          "openssl x509 -req -in client.csr -CA ca1.pem -CAkey ca1.key -CAcreateserial -out client.crt -days 30 -extfile ext.cnf 2>/dev/null && "
	          "openssl pkey -in client.key -aes256 -passout pass:k3ypass -out client-enc.key && "
	          "cp ca1.pem trust.pem", dir);
}

static char *stores(const char *auth)
{
	static char cfg[2048];

	snprintf(cfg, sizeof(cfg),
	         "ssl.keyStore.location=%s/server.pem\nssl.keyStore.type=PEM\n"
	         "ssl.trustStore.location=%s/trust.pem\nssl.trustStore.type=PEM\n"
	         "ssl.clientAuth=%s\n", dir, dir, auth);
	return cfg;
}

static int setup(void **state)
{
	zkc_ens_options_t o = ZKC_ENS_OPTIONS_INIT;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/zkc-tls-XXXXXX");
	if (!mkdtemp(dir) || make_certs() != 0)
		return -1;
	o.nodes = 3;
	o.secure_client_port = 1;
	o.extra_config = stores("none");
	if (h_start_opts(&o) != 0)
		return -1;
	o.nodes = 1;
	o.die_with_parent = 1;
	{
		static char cfg[2300];

		/* the server maps client certificates to x509:<subject> ids */
		snprintf(cfg, sizeof(cfg), "%sauthProvider.x509=org.apache.zookeeper.server.auth."
		         "X509AuthenticationProvider\n", stores("need"));
		o.extra_config = cfg;
	}
	if (zkc_ens_up(&mtls, &o) != ZKC_OK) {
		fprintf(stderr, "# mtls ensemble: %s\n", zkc_ens_error());
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	if (mtls) {
		zkc_ens_down(mtls, ZKC_ENS_DOWN_REMOVE);
		zkc_ens_free(mtls);
	}
	sh("rm -rf %s", dir);
	return h_teardown(state);
}

/* zks:// URL of the TLS ports of ens, with extra query options. */
static char *tls_url(zkc_ens_t *ens, const char *query)
{
	char *u = malloc(4096);
	size_t n = 0;
	int i;

	n += (size_t)snprintf(u + n, 4096 - n, "zks://");
	for (i = 0; i < zkc_ens_size(ens); i++)
		n += (size_t)snprintf(u + n, 4096 - n, "%s127.0.0.1:%d", i ? "," : "",
		                      zkc_ens_secure_port(ens, i));
	snprintf(u + n, 4096 - n, "?%s", query);
	return u;
}

static int open_tls(zkc_t **zk, const char *url, int timeout_ms)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;

	o.connect_timeout_ms = h_timeout(timeout_ms);
	return zkc_open(zk, url, &o);
}

static void test_connect_and_crud_over_verified_tls(void **state)
{
	char q[512], *url, *data = NULL, *p = h_path("tls");
	zkc_t *zk = NULL;
	(void)state;

	snprintf(q, sizeof(q), "ca=%s/ca1.pem", dir);
	url = tls_url(h_ens(), q);
	assert_int_equal(open_tls(&zk, url, H_TIMEOUT_MS), ZKC_OK);
	assert_int_equal(zkc_create(NULL, NULL, zk, p, "secret", 6, NULL), ZKC_OK);
	assert_int_equal(zkc_get(&data, NULL, NULL, zk, p), ZKC_OK);
	assert_string_equal(data, "secret");
	zkc_free(data);
	{
		/* a recipe over TLS: a fenced lock */
		char *lp = h_path("tlslock");
		zkc_lock_lease_t lease;
		zkc_lock_t *lk = NULL;

		assert_int_equal(zkc_lock_open(&lk, zk, lp, NULL), ZKC_OK);
		assert_int_equal(zkc_lock_acquire(&lease, lk, h_timeout(H_TIMEOUT_MS)), ZKC_OK);
		assert_true(lease.token > 0);
		assert_int_equal(zkc_lock_valid(lk), 1);
		assert_int_equal(zkc_lock_release(lk, 0), ZKC_OK);
		zkc_lock_close(lk);
		free(lp);
	}
	/* structured options give the same */
	zkc_close(zk);
	{
		zkc_options_t o = ZKC_OPTIONS_INIT;
		zkc_tls_options_t t = ZKC_TLS_OPTIONS_INIT;
		char ca[300];
		char *plain = tls_url(h_ens(), "connect_timeout=30s");

		snprintf(ca, sizeof(ca), "%s/ca1.pem", dir);
		t.ca_file = ca;
		o.tls = &t;
		/* zks:// with no ca= would use the system CAs: the options win */
		assert_int_equal(zkc_open(&zk, plain, &o), ZKC_OK);
		assert_int_equal(zkc_exists(NULL, zk, p), ZKC_OK);
		zkc_close(zk);
		free(plain);
	}
	free(url);
	free(p);
}

/* Replies larger than a TLS record and many replies at once: the bridge
 * reads ahead and hands libzookeeper every record it has in one send, so a
 * record that is only partly there and a full buffer must both come out
 * intact and in order. */
static void test_large_and_pipelined_replies_cross_the_bridge_intact(void **state)
{
	enum { BIG = 600000, NBIG = 5, NSMALL = 300 };
	char q[512], *url, *data = NULL, *big = malloc(BIG), *pb = h_path("tlsbig");
	char *ps = h_path("tlssmall");
	zkc_batch_t *b = NULL;
	zkc_t *zk = NULL;
	size_t len = 0;
	int i;
	(void)state;

	assert_non_null(big);
	for (i = 0; i < BIG; i++)
		big[i] = (char)('a' + (i * 7 + i / 251) % 26);
	snprintf(q, sizeof(q), "ca=%s/ca1.pem", dir);
	url = tls_url(h_ens(), q);
	assert_int_equal(open_tls(&zk, url, H_TIMEOUT_MS), ZKC_OK);
	assert_int_equal(zkc_create(NULL, NULL, zk, pb, big, BIG, NULL), ZKC_OK);
	assert_int_equal(zkc_create(NULL, NULL, zk, ps, "small", 5, NULL), ZKC_OK);
	assert_int_equal(zkc_get(&data, &len, NULL, zk, pb), ZKC_OK);
	assert_int_equal(len, BIG);
	assert_memory_equal(data, big, BIG);
	zkc_free(data);
	assert_int_equal(zkc_batch_new(&b), ZKC_OK);
	for (i = 0; i < NSMALL; i++)
		assert_true(zkc_batch_get(b, i % (NSMALL / NBIG) == 0 ? pb : ps, 0, NULL, NULL) >= 0);
	assert_int_equal(zkc_batch_run(zk, b), ZKC_OK);
	for (i = 0; i < NSMALL; i++) {
		const char *d;

		assert_int_equal(zkc_batch_code(b, (size_t)i), ZKC_OK);
		d = zkc_batch_data(b, (size_t)i, &len);
		if (i % (NSMALL / NBIG) == 0) {
			assert_int_equal(len, BIG);
			assert_memory_equal(d, big, BIG);
		} else {
			assert_int_equal(len, 5);
			assert_memory_equal(d, "small", 5);
		}
	}
	zkc_batch_free(b);
	zkc_close(zk);
	free(big);
	free(url);
	free(pb);
	free(ps);
}

static void test_failover_across_tls_servers(void **state)
{
	char q[512], *url, *p = h_path("tlsfail");
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	int64_t sid0 = 0, sid1 = 0;
	zkc_t *zk = NULL;
	int i;
	(void)state;

	snprintf(q, sizeof(q), "ca=%s/ca1.pem&session_timeout=20s", dir);
	url = tls_url(h_ens(), q);
	assert_int_equal(open_tls(&zk, url, H_TIMEOUT_MS), ZKC_OK);
	zkc_session(&sid0, NULL, NULL, zk);
	assert_int_equal(zkc_create(NULL, NULL, zk, p, NULL, 0, NULL), ZKC_OK);
	co.mode = ZKC_PERSISTENT_SEQUENTIAL;
	co.flags = ZKC_CREATE_PROTECTED;
	for (i = 0; i < 60; i++) {
		char *item = h_join(p, "i-");

		if (i == 20)
			assert_int_equal(h_kill(H_LEADER), 0);
		assert_int_equal(zkc_create(NULL, NULL, zk, item, NULL, 0, &co), ZKC_OK);
		free(item);
	}
	zkc_session(&sid1, NULL, NULL, zk);
	assert_true(sid0 == sid1);
	zkc_close(zk);
	for (i = 0; i < h_nodes(); i++) {
		zkc_ens_node_status_t st;

		if (zkc_ens_status(&st, h_ens(), i) == ZKC_OK && st.state == ZKC_ENS_DEAD)
			assert_int_equal(h_restart(i), 0);
	}
	free(url);
	free(p);
}

/* A real TLS server that is not ZooKeeper: enough to test verification. */
static pid_t s_server(const char *cert, const char *key, int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	char portstr[16];
	pid_t pid;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &al);
	*port = ntohs(a.sin_port);
	close(fd);
	snprintf(portstr, sizeof(portstr), "%d", *port);
	pid = fork();
	if (pid == 0) {
		h_die_with_parent();
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execlp("openssl", "openssl", "s_server", "-quiet", "-tls1_2", "-accept", portstr,
		       "-cert", cert, "-key", key, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int tls_open_fails_with(const char *url, const char *reason)
{
	zkc_t *zk = NULL;
	int rc = open_tls(&zk, url, 4000);

	if (rc != ZKC_ETLS || zk) {
		print_message("# expected ZKC_ETLS, got %s: %s\n", zkc_strcode(rc),
		              zkc_error_last()->message);
		zkc_close(zk);
		return -1;
	}
	if (!strstr(zkc_error_last()->message, reason)) {
		print_message("# reason \"%s\" not in: %s\n", reason, zkc_error_last()->message);
		return -1;
	}
	return 0;
}

static void test_verification_failures_name_the_reason(void **state)
{
	char q[512], cert[300], key[300], url[1024], *u;
	pid_t pid;
	int port;
	(void)state;

	/* unknown CA */
	snprintf(q, sizeof(q), "ca=%s/ca2.pem", dir);
	u = tls_url(h_ens(), q);
	assert_int_equal(tls_open_fails_with(u, "unable to get local issuer certificate"), 0);
	free(u);
	/* a name the certificate does not carry */
	snprintf(q, sizeof(q), "ca=%s/ca1.pem&server_name=zk.example.org", dir);
	u = tls_url(h_ens(), q);
	assert_int_equal(tls_open_fails_with(u, "hostname mismatch"), 0);
	free(u);
	/* ... unless host verification is off (the CA chain still counts) */
	{
		zkc_t *zk = NULL;

		snprintf(q, sizeof(q), "ca=%s/ca1.pem&server_name=zk.example.org&verify_host=0", dir);
		u = tls_url(h_ens(), q);
		assert_int_equal(open_tls(&zk, u, H_TIMEOUT_MS), ZKC_OK);
		zkc_close(zk);
		free(u);
	}
	/* an expired certificate */
	snprintf(cert, sizeof(cert), "%s/expired.crt", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	pid = s_server(cert, key, &port);
	snprintf(url, sizeof(url), "zks://127.0.0.1:%d?ca=%s/ca1.pem", port, dir);
	assert_int_equal(tls_open_fails_with(url, "certificate has expired"), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_mutual_tls_with_and_without_a_client_certificate(void **state)
{
	char q[1024], *u;
	zkc_t *zk = NULL;
	(void)state;

	/* the server requires a client certificate: none gives ZKC_ETLS */
	snprintf(q, sizeof(q), "ca=%s/ca1.pem", dir);
	u = tls_url(mtls, q);
	assert_int_equal(tls_open_fails_with(u, "TLS handshake failed"), 0);
	free(u);
	/* with one (its key encrypted) it works */
	snprintf(q, sizeof(q), "ca=%s/ca1.pem&cert=%s/client.crt&key=%s/client-enc.key&key_password=k3ypass",
	         dir, dir, dir);
	u = tls_url(mtls, q);
	assert_int_equal(open_tls(&zk, u, H_TIMEOUT_MS), ZKC_OK);
	assert_int_equal(zkc_exists(NULL, zk, "/"), ZKC_OK);
	{
		/* x509 auth: a node only this certificate may read */
		zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
		zkc_acl_t entry = { ZKC_PERM_ALL, "x509", "CN=zkc-client" };
		zkc_acl_list_t list = { 1, &entry };
		char *p = h_path("x509"), *data = NULL;
		zkc_t *plain = h_open(zkc_ens_url(mtls), NULL);

		co.acl = &list;
		assert_int_equal(zkc_create(NULL, NULL, zk, p, "cert", 4, &co), ZKC_OK);
		assert_int_equal(zkc_get(&data, NULL, NULL, zk, p), ZKC_OK);
		zkc_free(data);
		data = NULL;
		assert_int_equal(zkc_get(&data, NULL, NULL, plain, p), ZKC_ENOAUTH);
		assert_int_equal(zkc_delete(zk, p, -1, 0), ZKC_OK);
		zkc_close(plain);
		free(p);
	}
	zkc_close(zk);
	free(u);
	/* a wrong key password is a local configuration error, found before
	 * any connection (test_local_tls_configuration_errors_fail_the_open_at_once) */
	snprintf(q, sizeof(q), "ca=%s/ca1.pem&cert=%s/client.crt&key=%s/client-enc.key&key_password=nope",
	         dir, dir, dir);
	u = tls_url(mtls, q);
	assert_int_equal(open_tls(&zk, u, 2000), ZKC_EBADARGUMENTS);
	assert_null(zk);
	assert_non_null(strstr(zkc_error_last()->message, "wrong password"));
	assert_null(strstr(zkc_error_last()->message, "nope"));
	free(u);
}

/* A file named in the URL that cannot be read or parsed is the caller's
 * mistake: zkc_open says so (a usage-class code naming the file) before
 * it tries any server. The URL names a port nobody listens on, so an open
 * that tried to connect would end in a connection error, never in
 * ZKC_EBADARGUMENTS. */
static void test_local_tls_configuration_errors_fail_the_open_at_once(void **state)
{
	static const struct {
		const char *query;   /* %1$s = the certificate directory */
		const char *named;   /* the file the message must name */
		const char *cause;
	} cases[] = {
		{ "ca=/nonexistent/ca.pem", "/nonexistent/ca.pem", "No such file" },
		{ "ca=%1$s", "", "is a directory" },
		{ "ca=%1$s/ca1.pem&cert=%1$s/missing.crt&key=%1$s/client.key", "/missing.crt",
		  "No such file" },
		{ "ca=%1$s/ca1.pem&cert=%1$s/client.crt&key=%1$s/missing.key", "/missing.key",
		  "No such file" },
		{ "ca=%1$s/ext.cnf", "/ext.cnf", "cannot load CA" },
		{ "ca=%1$s/ca1.pem&cert=%1$s/client.crt&key=%1$s/ca1.key", "/ca1.key",
		  "key values mismatch" },
	};
	char q[1024], url[2048], named[600];
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		zkc_t *zk = NULL;
		int rc;

		snprintf(q, sizeof(q), cases[i].query, dir);
		snprintf(url, sizeof(url), "zks://127.0.0.1:1?%s", q);
		snprintf(named, sizeof(named), "%s%s", cases[i].named[0] == '/' &&
		         strncmp(cases[i].named, "/nonexistent", 12) != 0 ? dir : "", cases[i].named);
		zkc_error_set(ZKC_ESYSTEM, "sentinel");
		rc = open_tls(&zk, url, 2000);
		if (rc != ZKC_EBADARGUMENTS || zk || zkc_error_last()->code != rc ||
		    !strstr(zkc_error_last()->message, named[0] ? named : dir) ||
		    !strstr(zkc_error_last()->message, cases[i].cause))
			fail_msg("case %zu (%s): %s: %s", i, q, zkc_strcode(rc), zkc_error_last()->message);
	}
}

static void test_rotated_certificates_are_picked_up_without_a_restart(void **state)
{
	char q[512], *u, *p = h_path("rotate");
	zkc_t *zk = NULL;
	int i;
	(void)state;

	/* The client trusts whatever trust.pem holds, read per connection. */
	snprintf(q, sizeof(q), "ca=%s/trust.pem&session_timeout=30s", dir);
	u = tls_url(h_ens(), q);
	assert_int_equal(open_tls(&zk, u, H_TIMEOUT_MS), ZKC_OK);
	assert_int_equal(zkc_create(NULL, NULL, zk, p, "v1", 2, NULL), ZKC_OK);
	/* New CA, new server certificate at the same paths, servers restarted. */
	assert_int_equal(sh("cd %s && openssl x509 -req -in server.csr -CA ca2.pem -CAkey ca2.key "
	                    "-CAcreateserial -out server.crt -days 30 -extfile ext.cnf 2>/dev/null && "
	                    "cat server.key server.crt > server.pem && cat ca2.pem > trust.pem", dir),
	                 0);
	for (i = 0; i < h_nodes(); i++)
		assert_int_equal(h_restart(i), 0);
	assert_int_equal(h_wait_quorum(), 0);
	/* The client reconnects through new handshakes with the new CA. */
	assert_int_equal(zkc_set(NULL, zk, p, "v2", 2, -1), ZKC_OK);
	assert_int_equal(zkc_state(zk) == ZKC_STATE_CONNECTED ||
	                 zkc_state(zk) == ZKC_STATE_RECONNECTED, 1);
	zkc_close(zk);
	/* back to CA1 for the other tests */
	assert_int_equal(sh("cd %s && openssl x509 -req -in server.csr -CA ca1.pem -CAkey ca1.key "
	                    "-CAcreateserial -out server.crt -days 30 -extfile ext.cnf 2>/dev/null && "
	                    "cat server.key server.crt > server.pem && cat ca1.pem > trust.pem", dir),
	                 0);
	for (i = 0; i < h_nodes(); i++)
		assert_int_equal(h_restart(i), 0);
	assert_int_equal(h_wait_quorum(), 0);
	free(u);
	free(p);
}

/* Sends "ruok" through the endpoint; returns what came back. */
static int ruok(const char *endpoint, char *buf, size_t n)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { 10, 0 };
	ssize_t got, total = 0;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)atoi(strrchr(endpoint, ':') + 1));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	if (write(fd, "ruok", 4) != 4) {
		close(fd);
		return -1;
	}
	while ((got = read(fd, buf + total, n - 1 - (size_t)total)) > 0)
		total += got;
	buf[total] = '\0';
	close(fd);
	return (int)total;
}

static void test_the_bridge_serves_only_its_own_process(void **state)
{
	char q[512], *u, *eps = NULL, first[64], buf[64];
	zkc_t *zk = NULL;
	int st;
	(void)state;

	snprintf(q, sizeof(q), "ca=%s/ca1.pem", dir);
	u = tls_url(h_ens(), q);
	assert_int_equal(open_tls(&zk, u, H_TIMEOUT_MS), ZKC_OK);
	assert_int_equal(zkc_testing_tls_endpoints(&eps, zk), ZKC_OK);
	snprintf(first, sizeof(first), "%.*s", (int)strcspn(eps, ","), eps);
	/* this process: carried to the server over TLS ("imok") */
	assert_int_equal(ruok(first, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "imok");
	/* another process (bash, which valgrind does not follow): closed at
	 * once, nothing carried */
	{
		char cmd[512], out[64] = "";
		FILE *p;
		size_t n;

		snprintf(cmd, sizeof(cmd), "bash -c 'exec 3<>/dev/tcp/127.0.0.1/%s && printf ruok >&3 "
		         "&& timeout 10 cat <&3; echo \"[$?]\"'", strrchr(first, ':') + 1);
		p = popen(cmd, "r");
		assert_non_null(p);
		n = fread(out, 1, sizeof(out) - 1, p);
		out[n] = '\0';
		st = pclose(p);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		/* nothing came back before cat ended (end of file or reset) */
		assert_int_equal(out[0], '[');
		assert_null(strstr(out, "imok"));
	}
	H_WAIT_UNTIL(zkc_testing_tls_refused(zk) >= 1, H_TIMEOUT_MS);
	zkc_free(eps);
	zkc_close(zk);
	free(u);
}

static void test_digest_acl_ids_match_the_server(void **state)
{
	char *p = h_path("digestacl"), *id = NULL, *data = NULL;
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	zkc_acl_t entry;
	zkc_acl_list_t list;
	zkc_t *anon, *alice;
	(void)state;

	assert_int_equal(zkc_acl_digest_id(&id, "alice", "s3cret"), ZKC_OK);
	/* what ZooKeeper's own DigestAuthenticationProvider main prints for alice:s3cret */
	assert_string_equal(id, "alice:uLxpHc/uhT86OXPoSjJTp1M8CJY=");
	assert_int_equal(zkc_acl_digest_id(&data, "a:b", "x"), ZKC_EBADARGUMENTS);
	anon = h_open(NULL, NULL);
	entry.perms = ZKC_PERM_ALL;
	entry.scheme = "digest";
	entry.id = id;
	list.count = 1;
	list.acls = &entry;
	co.acl = &list;
	assert_int_equal(zkc_create(NULL, NULL, anon, p, "for alice", 9, &co), ZKC_OK);
	assert_int_equal(zkc_get(&data, NULL, NULL, anon, p), ZKC_ENOAUTH);
	o.digest = "alice:s3cret";
	alice = h_open(NULL, &o);
	assert_int_equal(zkc_get(&data, NULL, NULL, alice, p), ZKC_OK);
	assert_string_equal(data, "for alice");
	zkc_free(data);
	assert_int_equal(zkc_delete(alice, p, -1, 0), ZKC_OK);
	zkc_close(alice);
	zkc_close(anon);
	zkc_free(id);
	free(p);
}

static void test_the_cli_takes_tls_in_its_url(void **state)
{
	const char *bdir = getenv("ZKC_TEST_BUILDDIR");
	char q[512], cmd[4096], *u;
	int st;
	(void)state;

	if (!bdir || !*bdir)
		skip();
	snprintf(q, sizeof(q), "ca=%s/ca1.pem", dir);
	u = tls_url(h_ens(), q);
	snprintf(cmd, sizeof(cmd), "ZKC_URL='%s' '%s/zkc' stat / >/dev/null", u, bdir);
	st = system(cmd);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	free(u);
	snprintf(q, sizeof(q), "ca=%s/ca2.pem&connect_timeout=3s", dir);
	u = tls_url(h_ens(), q);
	snprintf(cmd, sizeof(cmd), "'%s/zkc' --url '%s' stat / 2>&1 | grep -q 'ZKC_ETLS'", bdir, u);
	st = system(cmd);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_and_crud_over_verified_tls),
		cmocka_unit_test(test_large_and_pipelined_replies_cross_the_bridge_intact),
		cmocka_unit_test(test_verification_failures_name_the_reason),
		cmocka_unit_test(test_mutual_tls_with_and_without_a_client_certificate),
		cmocka_unit_test(test_local_tls_configuration_errors_fail_the_open_at_once),
		cmocka_unit_test(test_the_bridge_serves_only_its_own_process),
		cmocka_unit_test(test_digest_acl_ids_match_the_server),
		cmocka_unit_test(test_the_cli_takes_tls_in_its_url),
		cmocka_unit_test(test_failover_across_tls_servers),
		cmocka_unit_test(test_rotated_certificates_are_picked_up_without_a_restart),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
