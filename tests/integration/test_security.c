/* tests/integration/test_security.c - the promises of docs/security.md that
 * a test can check: no secret (digest password, TLS key password, the
 * key's own bytes, a Kubernetes bearer token) appears in any log line zkc
 * or libzookeeper writes or in any zkc_error_last() message of runs that
 * use them, successful and failing; and hostile record ids, field values,
 * field names and service instance ids stay inside their collection. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"

/* ------------------------------------------------------------ capture */

/* Everything a run wrote where a secret could leak: zkc's log callback at
 * DEBUG, standard error (libzookeeper logs there), and every error
 * message the test saw. */
typedef struct capture {
	pthread_mutex_t mu;
	char *text;
	size_t len, cap;
	int lines;            /* log callback lines */
	int saved_stderr;
	char errfile[64];
} capture_t;

static capture_t cap = { PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, 0, -1, "" };

/* Return codes checked while standard error is captured: a failed
 * assertion's message would go into the capture, so mismatches are kept
 * and reported after cap_stop (cap_failures). */
static char mismatches[2048];

static void cap_add(const char *s, size_t n)
{
	pthread_mutex_lock(&cap.mu);
	if (cap.len + n + 2 > cap.cap) {
		cap.cap = (cap.len + n + 2) * 2;
		cap.text = realloc(cap.text, cap.cap);
		assert_non_null(cap.text);
	}
	memcpy(cap.text + cap.len, s, n);
	cap.len += n;
	cap.text[cap.len++] = '\n';
	cap.text[cap.len] = '\0';
	pthread_mutex_unlock(&cap.mu);
}

static void cap_log(int level, const char *message, void *payload)
{
	(void)level;
	(void)payload;
	pthread_mutex_lock(&cap.mu);
	cap.lines++;
	pthread_mutex_unlock(&cap.mu);
	cap_add(message, strlen(message));
}

/* The message of the last failure, kept (any code). */
static int cap_rc(int rc)
{
	const char *m = zkc_error_last()->message;

	cap_add(m, strlen(m));
	return rc;
}

static void cap_start(void)
{
	int fd;

	free(cap.text);
	cap.text = NULL;
	cap.len = cap.cap = 0;
	cap.lines = 0;
	mismatches[0] = '\0';
	fflush(stderr);
	snprintf(cap.errfile, sizeof cap.errfile, "/tmp/zkc-sec-stderr-XXXXXX");
	fd = mkstemp(cap.errfile);
	assert_true(fd >= 0);
	cap.saved_stderr = dup(2);
	assert_true(cap.saved_stderr >= 0);
	dup2(fd, 2);
	close(fd);
}

/* Restores standard error and adds what was written to it. */
static void cap_stop(void)
{
	char buf[4096];
	FILE *f;
	size_t n;

	fflush(stderr);
	dup2(cap.saved_stderr, 2);
	close(cap.saved_stderr);
	f = fopen(cap.errfile, "r");
	assert_non_null(f);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		cap_add(buf, n);
	fclose(f);
	unlink(cap.errfile);
}


#define EXPECT_RC(expr, want) expect_rc(cap_rc(expr), (want), #expr, __LINE__)
#define EXPECT_TRUE(cond) expect_rc((cond) ? 0 : -1, 0, #cond, __LINE__)

static void expect_rc(int got, int want, const char *what, int line)
{
	size_t n = strlen(mismatches);

	if (got != want)
		snprintf(mismatches + n, sizeof mismatches - n, "\n  line %d: %s gave %d, not %d",
		    line, what, got, want);
}

static void cap_failures(void)
{
	if (mismatches[0]) {
		fail_msg("while capturing:%s", mismatches);
	}
}

static void assert_absent(const char *secret)
{
	const char *hit = cap.text ? strstr(cap.text, secret) : NULL;

	if (hit) {
		const char *from = hit - cap.text > 200 ? hit - 200 : cap.text;

		fail_msg("secret `%s' found in the output: ...%.*s...", secret,
		    (int)(hit - from) + (int)strlen(secret) + 40, from);
	}
}

static void log_opts(zkc_options_t *o)
{
	o->log_fn = cap_log;
	o->log_level = ZKC_LOG_DEBUG;
}

/* ------------------------------------------------------------ digest */

#define DIGEST_PW "pw-Sx7q9digest"
#define DIGEST_BAD "pw-Sx7q9wrongone"

static void test_digest_password_is_never_written(void **state)
{
	char *p = h_path("digest"), url[512], bad[512];
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_t *owner = NULL, *other = NULL, *unreachable = NULL;
	char *data = NULL;
	size_t len;
	(void)state;

	cap_start();
	log_opts(&o);
	o.acl = zkc_acl_creator_all();
	snprintf(url, sizeof url, "%s?digest=alice:" DIGEST_PW, h_url());
	EXPECT_RC(zkc_open(&owner, url, &o), ZKC_OK);
	EXPECT_RC(zkc_create(NULL, NULL, owner, p, "s", 1, NULL), ZKC_OK);
	/* the password works: its owner reads the node, a wrong one cannot */
	EXPECT_RC(zkc_get(&data, &len, NULL, owner, p), ZKC_OK);
	zkc_free(data);
	o.acl = NULL;
	o.digest = "alice:" DIGEST_BAD;
	EXPECT_RC(zkc_open(&other, h_url(), &o), ZKC_OK);
	EXPECT_RC(zkc_get(&data, &len, NULL, other, p), ZKC_ENOAUTH);
	EXPECT_RC(zkc_set(NULL, other, p, "x", 1, -1), ZKC_ENOAUTH);
	/* malformed URLs around a password */
	snprintf(bad, sizeof bad, "%s?digest=alice:" DIGEST_PW "&no_such_option=1", h_url());
	EXPECT_RC(zkc_open(&unreachable, bad, &o), ZKC_EURL);
	snprintf(bad, sizeof bad, "%s?digest=" DIGEST_PW, h_url());
	EXPECT_RC(zkc_open(&unreachable, bad, &o), ZKC_EURL);
	snprintf(bad, sizeof bad, "zk://127.0.0.1:notaport?digest=alice:" DIGEST_PW);
	EXPECT_RC(zkc_open(&unreachable, bad, &o), ZKC_EURL);
	/* a server that is not there, password in the options */
	o.digest = "alice:" DIGEST_PW;
	o.connect_timeout_ms = 1500;
	EXPECT_RC(zkc_open(&unreachable, "zk://127.0.0.1:1", &o), ZKC_ETIMEDOUT);
	EXPECT_RC(zkc_delete(owner, p, -1, 0), ZKC_OK);
	zkc_close(unreachable);
	zkc_close(other);
	zkc_close(owner);
	cap_stop();
	cap_failures();

	assert_true(cap.lines > 0);   /* zkc did log: the search means something */
	assert_absent(DIGEST_PW);
	assert_absent(DIGEST_BAD);
	assert_absent("Sx7q9");
	free(p);
}

/* ------------------------------------------------------------ TLS */

#define KEY_PW "kp-Sx7q9tls"
#define KEY_PW_BAD "kp-Sx7q9badpass"
#define FAKE_KEY_TEXT "Sx7q9notakeyatall"

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

/* The second line of a PEM file: 64 characters of the key itself. */
static void pem_line(char *out, size_t size, const char *file)
{
	FILE *f = fopen(file, "r");
	char line[256];

	assert_non_null(f);
	assert_non_null(fgets(line, sizeof line, f));
	assert_non_null(fgets(line, sizeof line, f));
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	assert_true(strlen(line) >= 40);
	snprintf(out, size, "%.40s", line);
}

static void test_tls_key_password_and_key_are_never_written(void **state)
{
	char dir[] = "/tmp/zkc-sec-tls-XXXXXX", url[1024], keyline[64], enckeyline[64], path[512];
	zkc_tls_options_t tls = ZKC_TLS_OPTIONS_INIT;
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_t *zk = NULL;
	int rc;
	(void)state;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(sh("cd %s && "
	    "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3 "
	    "-subj '/CN=zkc sec ca' 2>/dev/null && "
	    "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr "
	    "-subj /CN=zkc-client 2>/dev/null && "
	    "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
	    "-out client.crt -days 3 2>/dev/null && "
	    "openssl pkey -in client.key -aes256 -passout pass:" KEY_PW " -out client-enc.key && "
	    "printf -- '-----BEGIN PRIVATE KEY-----\\n" FAKE_KEY_TEXT "\\n-----END PRIVATE KEY-----\\n' "
	    "> fake.key", dir), 0);
	snprintf(path, sizeof path, "%s/client.key", dir);
	pem_line(keyline, sizeof keyline, path);
	snprintf(path, sizeof path, "%s/client-enc.key", dir);
	pem_line(enckeyline, sizeof enckeyline, path);

	cap_start();
	log_opts(&o);
	o.connect_timeout_ms = 2000;
	/* the right password: the key loads, then the handshake with a
	 * server that speaks no TLS fails (the plain port of the ensemble) */
	snprintf(url, sizeof url, "zks://%s:%d?ca=%s/ca.pem&cert=%s/client.crt&key=%s/client-enc.key"
	    "&key_password=" KEY_PW, h_node_host(0), h_node_port(0), dir, dir, dir);
	rc = cap_rc(zkc_open(&zk, url, &o));
	EXPECT_TRUE(rc == ZKC_ETLS || rc == ZKC_ETIMEDOUT);
	/* a wrong password: refused before any server is tried */
	snprintf(url, sizeof url, "zks://127.0.0.1:1?ca=%s/ca.pem&cert=%s/client.crt&key=%s/client-enc.key"
	    "&key_password=" KEY_PW_BAD, dir, dir, dir);
	EXPECT_RC(zkc_open(&zk, url, &o), ZKC_EBADARGUMENTS);
	/* the same through the structured options */
	snprintf(path, sizeof path, "%s/client-enc.key", dir);
	tls.key_file = path;
	tls.key_password = KEY_PW_BAD;
	{
		char ca[512], crt[512];

		snprintf(ca, sizeof ca, "%s/ca.pem", dir);
		snprintf(crt, sizeof crt, "%s/client.crt", dir);
		tls.ca_file = ca;
		tls.cert_file = crt;
		o.tls = &tls;
		EXPECT_RC(zkc_open(&zk, "zks://127.0.0.1:1", &o), ZKC_EBADARGUMENTS);
		/* a key file that is not a key: its text is not echoed */
		snprintf(path, sizeof path, "%s/fake.key", dir);
		tls.key_password = NULL;
		EXPECT_RC(zkc_open(&zk, "zks://127.0.0.1:1", &o), ZKC_EBADARGUMENTS);
		/* an unencrypted key, a server that fails the handshake */
		snprintf(path, sizeof path, "%s/client.key", dir);
		snprintf(url, sizeof url, "zks://%s:%d", h_node_host(0), h_node_port(0));
		rc = cap_rc(zkc_open(&zk, url, &o));
		EXPECT_TRUE(rc == ZKC_ETLS || rc == ZKC_ETIMEDOUT);
	}
	zkc_close(zk);
	cap_stop();
	cap_failures();

	assert_true(cap.lines > 0);
	assert_absent(KEY_PW);
	assert_absent(KEY_PW_BAD);
	assert_absent(FAKE_KEY_TEXT);
	assert_absent(keyline);
	assert_absent(enckeyline);
	assert_absent("PRIVATE KEY");
	assert_int_equal(sh("rm -rf %s", dir), 0);
}

/* ------------------------------------------------------------ Kubernetes */

#define KUBE_TOKEN "tok-Sx7q9kubeBearer"

/* A stand-in API server on loopback that refuses the token (401), then
 * answers 403 with a message that quotes the request's Authorization
 * header back (as a careless proxy might), then sends what is not JSON. */
typedef struct apistub {
	int fd, port;
	atomic_int requests, saw_token, stop;
	pthread_t thread;
} apistub_t;

static void *apistub_main(void *arg)
{
	apistub_t *s = arg;

	while (!atomic_load(&s->stop)) {
		char req[8192], body[1024], resp[2048];
		const char *auth;
		ssize_t n;
		int c = accept(s->fd, NULL, NULL), k;

		if (c < 0)
			continue;
		n = recv(c, req, sizeof req - 1, 0);
		req[n > 0 ? n : 0] = '\0';
		k = atomic_fetch_add(&s->requests, 1);
		auth = strstr(req, "Authorization: ");
		if (auth && strstr(auth, KUBE_TOKEN))
			atomic_store(&s->saw_token, 1);
		if (k % 3 == 1) {
			snprintf(resp, sizeof resp, "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
			    "Content-Length: 2\r\nConnection: close\r\n\r\n{}");
		} else if (k % 3 == 0) {
			snprintf(body, sizeof body, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
			    "\"message\":\"forbidden: request had %.*s\",\"reason\":\"Forbidden\",\"code\":403}",
			    auth ? (int)strcspn(auth, "\r\n") : 4, auth ? auth : "none");
			snprintf(resp, sizeof resp, "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", strlen(body), body);
		} else {
			snprintf(body, sizeof body, "not json " KUBE_TOKEN);
			snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", strlen(body), body);
		}
		send(c, resp, strlen(resp), MSG_NOSIGNAL);
		close(c);
	}
	return NULL;
}

static void apistub_start(apistub_t *s)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof a;
	struct timeval tv = { 0, 200000 };

	memset(s, 0, sizeof *s);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(s->fd, 16), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	assert_int_equal(pthread_create(&s->thread, NULL, apistub_main, s), 0);
}

static void apistub_stop(apistub_t *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->thread, NULL);
	close(s->fd);
}

static void test_kube_token_is_never_written(void **state)
{
	char dir[] = "/tmp/zkc-sec-kube-XXXXXX", url[1024], cfg[600];
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_t *zk = NULL;
	apistub_t stub;
	FILE *f;
	(void)state;

	assert_non_null(mkdtemp(dir));
	apistub_start(&stub);
	snprintf(cfg, sizeof cfg, "%s/kubeconfig", dir);
	f = fopen(cfg, "w");
	assert_non_null(f);
	fprintf(f, "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
	    "clusters:\n- name: k\n  cluster:\n    server: http://127.0.0.1:%d\n"
	    "users:\n- name: u\n  user:\n    token: " KUBE_TOKEN "\n"
	    "contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n    namespace: ns\n",
	    stub.port);
	fclose(f);

	cap_start();
	log_opts(&o);
	o.connect_timeout_ms = -1;    /* return at once; the provider keeps asking */
	snprintf(url, sizeof url, "zk+k8s://zk-client.ns:2181?kubeconfig=%s", cfg);
	EXPECT_RC(zkc_open(&zk, url, &o), ZKC_OK);
	{
		int64_t until = h_now_ms() + h_timeout(H_TIMEOUT_MS);
		unsigned t;

		/* each kind of answer (403 quoting the token, 401, not JSON) */
		for (t = 0; atomic_load(&stub.requests) < 4 && h_now_ms() < until; t++)
			h_backoff(t);
	}
	{
		char *servers = NULL;

		zkc_servers(&servers, zk);     /* what the provider found: nothing */
		if (servers)
			cap_add(servers, strlen(servers));
		zkc_free(servers);
	}
	zkc_close(zk);
	cap_stop();
	apistub_stop(&stub);
	cap_failures();

	/* the token was used, every kind of answer was met, and logged */
	assert_int_equal(atomic_load(&stub.saw_token), 1);
	assert_true(atomic_load(&stub.requests) >= 4);
	assert_true(cap.lines > 0);
	assert_absent(KUBE_TOKEN);
	assert_absent("Sx7q9");
	assert_int_equal(sh("rm -rf %s", dir), 0);
}

/* ------------------------------------------------------------ hostile keys */

typedef struct paths {
	char **items;
	size_t n, cap;
} paths_t;

static void walk(zkc_t *zk, const char *path, paths_t *out)
{
	zkc_strings_t *kids = NULL;
	size_t i;

	if (out->n == out->cap) {
		out->cap = out->cap ? out->cap * 2 : 256;
		out->items = realloc(out->items, out->cap * sizeof(char *));
		assert_non_null(out->items);
	}
	out->items[out->n++] = strdup(path);
	if (zkc_children(&kids, NULL, zk, path) != ZKC_OK)
		return;
	for (i = 0; i < kids->count; i++) {
		char *kid = h_join(strcmp(path, "/") == 0 ? "" : path, kids->items[i]);

		walk(zk, kid, out);
		free(kid);
	}
	zkc_strings_free(kids);
}

static int listed(const paths_t *p, const char *path)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->items[i], path) == 0)
			return 1;
	return 0;
}

static void paths_free(paths_t *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->items[i]);
	free(p->items);
}

static int under(const char *path, const char *root)
{
	size_t n = strlen(root);

	return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Every node now in the tree that was not there before is under `root`. */
static void assert_only_new_under(zkc_t *zk, const paths_t *before, const char *root)
{
	paths_t after = { NULL, 0, 0 };
	size_t i;

	walk(zk, "/", &after);
	for (i = 0; i < after.n; i++)
		if (!listed(before, after.items[i]) && !under(after.items[i], root))
			fail_msg("a node outside %s appeared: %s", root, after.items[i]);
	paths_free(&after);
}

static void test_hostile_index_keys_stay_in_their_collection(void **state)
{
	char *parent = h_path("ix-hostile"), *coll = h_join(parent, "c"), *victim = h_join(parent, "v");
	static const char long_dots[] = "../../../../../../../../../../../../../../../../../../../../"
	    "../../../../../../../../../../../../../../../../../../../../";
	const zkc_index_field_t fields[] = { { "../../escape", 0 }, { "/", ZKC_INDEX_UNIQUE },
	                                     { "..", 0 }, { "\xc3\xa9/../x", 0 } };
	struct { const char *id; size_t len; } ids[] = {
		{ "..", 2 }, { ".", 1 }, { "/", 1 }, { "../v", 4 }, { "../../..", 8 },
		{ "a/../../v", 9 }, { "\0\0", 2 }, { "x\0/../v", 7 }, { "\xc3\xa9\xe2\x80\xae/..", 8 },
		{ "\xff\xfe\x2f\x2e\x2e", 5 }, { long_dots, sizeof long_dots - 1 },
	};
	char big[ZKC_INDEX_MAX_ID + 1];
	zkc_index_record_t *rec = NULL;
	zkc_index_report_t *report = NULL;
	zkc_index_hits_t *hits = NULL;
	zkc_index_t *ix = NULL;
	paths_t before = { NULL, 0, 0 };
	zkc_stat_t vst, vst2;
	zkc_t *zk = h_open(NULL, NULL);
	size_t i;
	(void)state;

	assert_int_equal(zkc_create(NULL, NULL, zk, parent, NULL, 0, NULL), ZKC_OK);
	assert_int_equal(zkc_create(NULL, &vst, zk, victim, "victim", 6, NULL), ZKC_OK);
	walk(zk, "/", &before);
	assert_int_equal(zkc_index_create(zk, coll, fields, 4), ZKC_OK);
	assert_int_equal(zkc_index_open(&ix, zk, coll, NULL), ZKC_OK);
	for (i = 0; i < sizeof ids / sizeof *ids; i++) {
		/* the id is also each field's value (the unique one made distinct) */
		char uniq[600];
		zkc_index_kv_t kv[4] = { { fields[0].name, ids[i].id, ids[i].len },
		                         { fields[1].name, uniq, 0 },
		                         { fields[2].name, "../../..", 8 },
		                         { fields[3].name, ids[i].id, ids[i].len } };

		memcpy(uniq, ids[i].id, ids[i].len);
		kv[1].len = ids[i].len + (size_t)snprintf(uniq + ids[i].len, 8, "/%zu", i);
		assert_int_equal(zkc_index_put(ix, ids[i].id, ids[i].len, "d", 1, kv, 4, ZKC_INDEX_CREATE),
		    ZKC_OK);
		assert_int_equal(zkc_index_get(&rec, ix, ids[i].id, ids[i].len, ZKC_INDEX_SERVER), ZKC_OK);
		assert_int_equal(rec->id_len, ids[i].len);
		assert_memory_equal(rec->id, ids[i].id, ids[i].len);
		zkc_index_record_free(rec);
		rec = NULL;
	}
	/* over the limit: refused, nothing written */
	memset(big, '/', sizeof big);
	assert_int_equal(zkc_index_put(ix, big, sizeof big, "d", 1, NULL, 0, 0), ZKC_ETOOLARGE);
	assert_int_equal(zkc_index_put(ix, big, sizeof big - 1, "d", 1, NULL, 0, 0), ZKC_OK);
	/* lookups by the hostile values find exactly their records */
	assert_int_equal(zkc_index_sync(ix, H_TIMEOUT_MS), ZKC_OK);
	assert_int_equal(zkc_index_find(&hits, ix, fields[2].name, "../../..", 8, 0, 0), ZKC_OK);
	assert_int_equal(hits->count, sizeof ids / sizeof *ids);
	zkc_index_hits_free(hits);
	assert_int_equal(zkc_index_verify(&report, ix), ZKC_OK);
	assert_int_equal(report->count, 0);
	assert_int_equal(report->records, sizeof ids / sizeof *ids + 1);
	zkc_index_report_free(report);

	assert_only_new_under(zk, &before, coll);
	assert_int_equal(zkc_exists(&vst2, zk, victim), ZKC_OK);
	assert_int_equal(vst2.mzxid, vst.mzxid);
	assert_int_equal(vst2.num_children, 0);

	zkc_index_close(ix);
	assert_int_equal(zkc_index_drop(zk, coll), ZKC_OK);
	assert_int_equal(zkc_delete(zk, parent, -1, ZKC_DELETE_RECURSIVE), ZKC_OK);
	paths_free(&before);
	zkc_close(zk);
	free(victim);
	free(coll);
	free(parent);
}

static size_t routable(zkc_service_router_t *r)
{
	zkc_service_list_t *list = NULL;
	size_t n = 0;

	if (zkc_service_router_list(&list, r) == ZKC_OK)
		n = list->count;
	zkc_service_list_free(list);
	return n;
}

static void test_hostile_service_ids_stay_in_their_service(void **state)
{
	char *parent = h_path("svc-hostile"), *svc = h_join(parent, "api"), *victim = h_join(parent, "v");
	static const char *refused[] = { "..", ".", "/", "../v", "a/b", "../../..", "", "x\n", "\x7f" };
	char long_id[300];
	const char *accepted[] = { "\xc3\xa9\xe2\x80\xae..", "...", "-2e-2e", NULL };
	zkc_service_instance_t in = ZKC_SERVICE_INSTANCE_INIT;
	zkc_service_reg_t *reg[4] = { NULL, NULL, NULL, NULL };
	zkc_service_router_t *router = NULL;
	zkc_service_endpoint_t ep;
	paths_t before = { NULL, 0, 0 };
	zkc_stat_t vst, vst2;
	zkc_t *zk = h_open(NULL, NULL);
	size_t i;
	(void)state;

	memset(long_id, 'a', 255);
	long_id[255] = '\0';
	accepted[3] = long_id;
	assert_int_equal(zkc_create(NULL, NULL, zk, parent, NULL, 0, NULL), ZKC_OK);
	assert_int_equal(zkc_create(NULL, &vst, zk, victim, "victim", 6, NULL), ZKC_OK);
	walk(zk, "/", &before);
	in.address = "127.0.0.1";
	in.port = 8080;
	for (i = 0; i < sizeof refused / sizeof *refused; i++) {
		zkc_service_reg_t *r = NULL;

		in.id = refused[i];
		assert_int_equal(zkc_service_reg_open(&r, zk, svc, &in), ZKC_EBADARGUMENTS);
		assert_null(r);
	}
	long_id[255] = 'a';
	long_id[256] = '\0';
	in.id = long_id;
	assert_int_equal(zkc_service_reg_open(&reg[0], zk, svc, &in), ZKC_EBADARGUMENTS);
	long_id[255] = '\0';
	for (i = 0; i < 4; i++) {
		in.id = accepted[i];
		assert_int_equal(zkc_service_reg_open(&reg[i], zk, svc, &in), ZKC_OK);
		assert_true(under(zkc_service_reg_path(reg[i]), svc));
	}
	/* route keys are hashed, never a path: any bytes route */
	assert_int_equal(zkc_service_router_open(&router, zk, svc, NULL), ZKC_OK);
	H_WAIT_UNTIL(routable(router) == 4, H_TIMEOUT_MS);
	assert_int_equal(zkc_service_route(&ep, router, "../../v", 7), ZKC_OK);
	assert_int_equal(zkc_service_route(&ep, router, "\0/..\0", 5), ZKC_OK);

	assert_only_new_under(zk, &before, svc);
	assert_int_equal(zkc_exists(&vst2, zk, victim), ZKC_OK);
	assert_int_equal(vst2.mzxid, vst.mzxid);
	assert_int_equal(vst2.num_children, 0);

	zkc_service_router_close(router);
	for (i = 0; i < 4; i++)
		zkc_service_reg_close(reg[i]);
	assert_int_equal(zkc_delete(zk, parent, -1, ZKC_DELETE_RECURSIVE), ZKC_OK);
	paths_free(&before);
	zkc_close(zk);
	free(victim);
	free(svc);
	free(parent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_password_is_never_written),
		cmocka_unit_test(test_tls_key_password_and_key_are_never_written),
		cmocka_unit_test(test_kube_token_is_never_written),
		cmocka_unit_test(test_hostile_index_keys_stay_in_their_collection),
		cmocka_unit_test(test_hostile_service_ids_stay_in_their_service),
	};

	return cmocka_run_group_tests(tests, h_setup_shared, h_teardown);
}
