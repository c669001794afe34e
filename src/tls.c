/* src/tls.c - the in-process TLS bridge: libzookeeper (built without SSL)
 * talks plain TCP to a loopback endpoint per server, and the bridge carries
 * each connection to the real server over verified TLS (OpenSSL). One
 * endpoint per server keeps libzookeeper's own server rotation and
 * zoo_set_servers working. The endpoints accept only connections made by
 * this process: other containers of a pod share its loopback, and must not
 * ride on the client's TLS identity. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "internal.h"

#define MAX_ENDPOINTS 64
#define HANDSHAKE_TIMEOUT_S 10

typedef struct endpoint {
	char *host;                   /* the real server */
	int port;
	int lfd;                      /* loopback listener */
	int lport;
} endpoint_t;

typedef struct conn {
	struct conn *next;
	zkc__tls_t *t;
	int local;                    /* accepted from libzookeeper */
	int remote;                   /* TCP to the real server */
	char *host;
	int port;
	pthread_t thread;
	int done;
} conn_t;

struct zkc__tls {
	zkc__tls_config_t cfg;
	const zkc__log_t *log;
	pthread_mutex_t mu;
	endpoint_t eps[MAX_ENDPOINTS];
	int neps;
	int wake[2];                  /* tells the acceptor about new endpoints */
	int stop;
	pthread_t acceptor;
	conn_t *conns;
	char last_error[512];
	int64_t refused;              /* connections from other processes */
};

/* ------------------------------------------------------------ errors */

static void set_error(zkc__tls_t *t, const char *fmt, ...) ZKC__PRINTF(2, 3);
static void set_error(zkc__tls_t *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&t->mu);
	snprintf(t->last_error, sizeof(t->last_error), "%s", buf);
	pthread_mutex_unlock(&t->mu);
	zkc__log(t->log, ZKC_LOG_WARN, "tls: %s", buf);
}

int zkc__tls_last_error(zkc__tls_t *t, char *buf, size_t n)
{
	int have;

	pthread_mutex_lock(&t->mu);
	have = t->last_error[0] != '\0';
	snprintf(buf, n, "%s", t->last_error);
	pthread_mutex_unlock(&t->mu);
	return have;
}

int64_t zkc__tls_refused(zkc__tls_t *t)
{
	int64_t n;

	pthread_mutex_lock(&t->mu);
	n = t->refused;
	pthread_mutex_unlock(&t->mu);
	return n;
}

/* The OpenSSL error queue as one line. */
static void ssl_reason(char *buf, size_t n)
{
	unsigned long e = ERR_get_error();

	if (!e) {
		snprintf(buf, n, "handshake failed (connection closed by the server)");
		return;
	}
	ERR_error_string_n(e, buf, n);
	ERR_clear_error();
}

/* ------------------------------------------------------------ own-process check */

/* Whether the socket at the other end of `fd` (accepted on 127.0.0.x)
 * belongs to this process: find its inode in /proc/net/tcp by its address,
 * then look for that inode among our own descriptors. */
static int peer_is_own(int fd)
{
	struct sockaddr_in peer, self;
	socklen_t pl = sizeof(peer), sl = sizeof(self);
	unsigned long inode = 0;
	char line[512], want[64], link[128], path[300];
	FILE *f;
	DIR *d;
	struct dirent *de;
	int own = 0;

	if (getpeername(fd, (struct sockaddr *)&peer, &pl) != 0 ||
	    getsockname(fd, (struct sockaddr *)&self, &sl) != 0 || peer.sin_family != AF_INET)
		return 0;
	f = fopen("/proc/net/tcp", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned int la, lp, ra, rp;
		unsigned long ino;

		if (sscanf(line, " %*d: %8X:%4X %8X:%4X %*X %*X:%*X %*X:%*X %*X %*u %*d %lu", &la, &lp,
		           &ra, &rp, &ino) != 5)
			continue;
		/* /proc prints the raw 32-bit address in host order */
		if (la == peer.sin_addr.s_addr && lp == ntohs(peer.sin_port) &&
		    ra == self.sin_addr.s_addr && rp == ntohs(self.sin_port)) {
			inode = ino;
			break;
		}
	}
	fclose(f);
	if (!inode)
		return 0;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	d = opendir("/proc/self/fd");
	if (!d)
		return 0;
	while (!own && (de = readdir(d)) != NULL) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			own = strcmp(link, want) == 0;
		}
	}
	closedir(d);
	return own;
}

/* ------------------------------------------------------------ one connection */

static int connect_tcp(const char *host, int port, char *err, size_t errn)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[16];
	int fd = -1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		snprintf(err, errn, "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		struct timeval tv = { HANDSHAKE_TIMEOUT_S, 0 };
		int one = 1;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		snprintf(err, errn, "connect %s:%d: %s", host, port, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int is_ip_literal(const char *s)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, s, &a4) == 1 || inet_pton(AF_INET6, s, &a6) == 1;
}

static int password_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pw = u;
	int n;

	(void)rwflag;
	if (!pw)
		return 0;
	n = (int)strlen(pw);
	if (n > size)
		n = size;
	memcpy(buf, pw, (size_t)n);
	return n;
}

/* A fresh context per connection: CA, certificate and key files are read
 * again, which is how rotated certificates are picked up. */
static SSL_CTX *make_ctx(zkc__tls_t *t, char *err, size_t errn)
{
	const zkc__tls_config_t *c = &t->cfg;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		ssl_reason(err, errn);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (c->ca ? SSL_CTX_load_verify_locations(ctx, c->ca, NULL) != 1
	          : SSL_CTX_set_default_verify_paths(ctx) != 1) {
		char r[256];

		ssl_reason(r, sizeof(r));
		snprintf(err, errn, "cannot load CA %s: %s", c->ca ? c->ca : "(system)", r);
		goto fail;
	}
	if (c->cert) {
		char r[256];

		SSL_CTX_set_default_passwd_cb(ctx, password_cb);
		SSL_CTX_set_default_passwd_cb_userdata(ctx, c->key_password);
		if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1) {
			ssl_reason(r, sizeof(r));
			snprintf(err, errn, "cannot load client certificate %s: %s", c->cert, r);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, c->key ? c->key : c->cert, SSL_FILETYPE_PEM) != 1) {
			ssl_reason(r, sizeof(r));
			snprintf(err, errn, "cannot load client key %s: %s (wrong password?)",
			         c->key ? c->key : c->cert, r);
			goto fail;
		}
		if (SSL_CTX_check_private_key(ctx) != 1) {
			snprintf(err, errn, "client key %s does not match certificate %s",
			         c->key ? c->key : c->cert, c->cert);
			goto fail;
		}
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* Handshake with verification; returns the session or NULL with err. */
static SSL *handshake(zkc__tls_t *t, SSL_CTX *ctx, int fd, const char *host, char *err,
                      size_t errn)
{
	const char *name = t->cfg.server_name ? t->cfg.server_name : host;
	SSL *ssl = SSL_new(ctx);

	if (!ssl) {
		ssl_reason(err, errn);
		return NULL;
	}
	SSL_set_fd(ssl, fd);
	/* one recv takes every record that has arrived (see pump) */
	SSL_set_read_ahead(ssl, 1);
	if (!is_ip_literal(name))
		SSL_set_tlsext_host_name(ssl, name);
	if (t->cfg.verify_host) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);

		if (is_ip_literal(name))
			X509_VERIFY_PARAM_set1_ip_asc(vp, name);
		else
			X509_VERIFY_PARAM_set1_host(vp, name, 0);
	}
	if (SSL_connect(ssl) != 1) {
		long v = SSL_get_verify_result(ssl);
		char r[256];

		ssl_reason(r, sizeof(r));
		if (v != X509_V_OK)
			snprintf(err, errn, "%s: certificate verification failed: %s", name,
			         X509_verify_cert_error_string(v));
		else
			snprintf(err, errn, "%s: TLS handshake failed: %s", name, r);
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

static int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* SSL_write of all n bytes on the non-blocking remote socket, waiting in
 * poll when OpenSSL wants the socket (SSL_write must then be called again
 * with the same arguments). */
static int ssl_write_all(SSL *ssl, int fd, const char *buf, int n)
{
	while (n > 0) {
		int w = SSL_write(ssl, buf, n), e;
		struct pollfd p = { fd, 0, 0 };

		if (w > 0) {
			buf += w;
			n -= w;
			continue;
		}
		e = SSL_get_error(ssl, w);
		if (e == SSL_ERROR_WANT_WRITE)
			p.events = POLLOUT;
		else if (e == SSL_ERROR_WANT_READ)
			p.events = POLLIN;
		else
			return -1;
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return -1;
	}
	return 0;
}

/* How many bytes at the start of buf (n bytes, of a buffer of cap) to send
 * on now: every whole ZooKeeper frame (a 4-byte big-endian length, then
 * that many bytes), and of a frame too large to hold, what is there (*left
 * counts the rest of it, sent on as it comes). */
static size_t frames_ready(const char *buf, size_t n, size_t cap, size_t *left)
{
	size_t off = 0;

	if (*left > 0) {
		off = *left < n ? *left : n;
		*left -= off;
	}
	while (n - off >= 4) {
		uint32_t be;
		size_t len;

		memcpy(&be, buf + off, 4);
		len = ntohl(be);
		if (len > cap - 4) {
			*left = off + 4 + len - n;
			return n;
		}
		if (off + 4 + len > n)
			break;
		off += 4 + len;
	}
	return off;
}

/* Copies bytes both ways until either side closes. Per message the cost is
 * kept to what it must be: OpenSSL reads ahead (one recv takes as many
 * records as have arrived, instead of a header and a body read per
 * record), and every record already received is decrypted before one send
 * hands them all to libzookeeper. Towards the server only whole frames go:
 * libzookeeper sends a request's length and its body with two send()s, and
 * forwarding each as it comes made two TLS records, two wake-ups and two
 * decryptions on the server per request. The remote socket is non-blocking,
 * so a record that is only partly there never stalls the other direction. */
static void pump(conn_t *c, SSL *ssl)
{
	struct timeval none = { 0, 0 };
	char up[65536], down[65536];
	size_t ulen = 0;              /* bytes in up */
	size_t left = 0;              /* of a frame too large for up, still to come */
	int more;                     /* OpenSSL may hold records we have not read */

	setsockopt(c->remote, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	if (fcntl(c->remote, F_SETFL, fcntl(c->remote, F_GETFL) | O_NONBLOCK) != 0)
		return;
	more = SSL_has_pending(ssl);
	for (;;) {
		struct pollfd p[2] = { { c->local, POLLIN, 0 }, { c->remote, POLLIN, 0 } };

		/* with records in hand, only look whether libzookeeper has sent */
		if (poll(p, 2, more ? 0 : -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (more || (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			size_t n = 0;
			int end = 0, e;

			more = 0;
			while (n < sizeof(down)) {
				int r = SSL_read(ssl, down + n, (int)(sizeof(down) - n));

				if (r > 0) {
					n += (size_t)r;
					/* nothing buffered: the socket is empty or
					 * poll will say so; no recv to learn it */
					if (!SSL_has_pending(ssl))
						break;
					continue;
				}
				e = SSL_get_error(ssl, r);
				if (e == SSL_ERROR_WANT_WRITE) {
					/* a handshake message to send first */
					struct pollfd w = { c->remote, POLLOUT, 0 };

					if (poll(&w, 1, -1) >= 0 || errno == EINTR)
						continue;
				}
				if (e != SSL_ERROR_WANT_READ)
					end = 1;      /* closed, or an error */
				break;
			}
			if (n == sizeof(down))
				more = 1;
			if (n > 0 && write_all(c->local, down, n) != 0)
				return;
			if (end)
				return;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(c->local, up + ulen, sizeof(up) - ulen, 0);
			size_t ready;

			if (n <= 0)
				return;
			ulen += (size_t)n;
			ready = frames_ready(up, ulen, sizeof(up), &left);
			if (ready > 0) {
				if (ssl_write_all(ssl, c->remote, up, (int)ready) != 0)
					return;
				memmove(up, up + ready, ulen - ready);
				ulen -= ready;
			}
		}
	}
}

static void *conn_main(void *arg)
{
	conn_t *c = arg;
	zkc__tls_t *t = c->t;
	char err[512] = "";
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	sigset_t pipe;

	/* OpenSSL writes with write(): a server that reset the connection would
	 * raise SIGPIPE, whose default action ends the whole application. With
	 * it blocked here the write fails with EPIPE instead, and the signal,
	 * directed at this thread, is dropped when the thread ends. */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
	c->remote = connect_tcp(c->host, c->port, err, sizeof(err));
	if (c->remote < 0) {
		/* A server that is down: libzookeeper moves on, as with plain TCP. */
		zkc__log(t->log, ZKC_LOG_INFO, "tls: %s", err);
		goto out;
	}
	ctx = make_ctx(t, err, sizeof(err));
	if (ctx)
		ssl = handshake(t, ctx, c->remote, c->host, err, sizeof(err));
	if (!ssl) {
		set_error(t, "%s", err);
		goto out;
	}
	pthread_mutex_lock(&t->mu);
	t->last_error[0] = '\0';
	pthread_mutex_unlock(&t->mu);
	pump(c, ssl);
	SSL_shutdown(ssl);
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	pthread_mutex_lock(&t->mu);
	shutdown(c->local, SHUT_RDWR);
	if (c->remote >= 0)
		shutdown(c->remote, SHUT_RDWR);
	c->done = 1;
	pthread_mutex_unlock(&t->mu);
	/* free this thread's OpenSSL state (error queue, random generators) */
	OPENSSL_thread_stop();
	return NULL;
}

/* Joins and frees finished connections. Caller holds mu; drops it while
 * joining. */
static void reap(zkc__tls_t *t, int all)
{
	conn_t **pp = &t->conns, *c;

	while ((c = *pp)) {
		if (!c->done && !all) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		if (!c->done) {
			/* wake its poll: the thread ends on EOF */
			shutdown(c->local, SHUT_RDWR);
			if (c->remote >= 0)
				shutdown(c->remote, SHUT_RDWR);
		}
		pthread_mutex_unlock(&t->mu);
		pthread_join(c->thread, NULL);
		pthread_mutex_lock(&t->mu);
		close(c->local);
		if (c->remote >= 0)
			close(c->remote);
		free(c->host);
		free(c);
	}
}

/* ------------------------------------------------------------ acceptor */

static void *acceptor_main(void *arg)
{
	zkc__tls_t *t = arg;

	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		struct pollfd p[MAX_ENDPOINTS + 1];
		int n = t->neps, i;

		p[0].fd = t->wake[0];
		p[0].events = POLLIN;
		for (i = 0; i < n; i++) {
			p[i + 1].fd = t->eps[i].lfd;
			p[i + 1].events = POLLIN;
		}
		reap(t, 0);
		pthread_mutex_unlock(&t->mu);
		if (poll(p, (nfds_t)n + 1, 1000) < 0 && errno != EINTR) {
			pthread_mutex_lock(&t->mu);
			break;
		}
		if (p[0].revents & POLLIN) {
			char drain[64];

			while (read(t->wake[0], drain, sizeof(drain)) > 0)
				;
		}
		pthread_mutex_lock(&t->mu);
		for (i = 0; i < n && !t->stop; i++) {
			conn_t *c;
			int fd;

			if (!(p[i + 1].revents & POLLIN))
				continue;
			fd = accept4(t->eps[i].lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			if (!peer_is_own(fd)) {
				t->refused++;
				zkc__log(t->log, ZKC_LOG_WARN, "tls: refused a connection from another "
				         "process to the endpoint of %s:%d", t->eps[i].host, t->eps[i].port);
				close(fd);
				continue;
			}
			/* libzookeeper's requests are small: Nagle would hold the
			 * bridge's replies behind delayed ACKs */
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
			c = calloc(1, sizeof(*c));
			if (!c || !(c->host = strdup(t->eps[i].host))) {
				free(c);
				close(fd);
				continue;
			}
			c->t = t;
			c->local = fd;
			c->remote = -1;
			c->port = t->eps[i].port;
			if (pthread_create(&c->thread, NULL, conn_main, c) != 0) {
				close(fd);
				free(c->host);
				free(c);
				continue;
			}
			c->next = t->conns;
			t->conns = c;
		}
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* ------------------------------------------------------------ API */

/* A file named in the configuration that cannot be read is the caller's
 * mistake, known before any connection: say so at once. */
static int check_file(const char *what, const char *path)
{
	struct stat st;
	int fd;

	if (!path)
		return ZKC_OK;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return zkc__error(ZKC_EBADARGUMENTS, "TLS: cannot read the %s file %s: %s", what, path,
		                  strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return zkc__error(ZKC_EBADARGUMENTS, "TLS: the %s file %s is a directory", what, path);
	}
	close(fd);
	return ZKC_OK;
}

/* Reads the CA, certificate and key once before any connection, so that a
 * file that does not parse (or a wrong key password) fails the open at
 * once rather than every handshake until the connect deadline. */
static int check_config(zkc__tls_t *t)
{
	const zkc__tls_config_t *c = &t->cfg;
	char err[512];
	SSL_CTX *ctx;
	int rc;

	if ((rc = check_file("CA", c->ca)) != ZKC_OK ||
	    (rc = check_file("certificate", c->cert)) != ZKC_OK ||
	    (rc = check_file("key", c->key)) != ZKC_OK)
		return rc;
	ctx = make_ctx(t, err, sizeof(err));
	if (!ctx)
		return zkc__error(ZKC_EBADARGUMENTS, "TLS: %s", err);
	SSL_CTX_free(ctx);
	return ZKC_OK;
}

int zkc__tls_new(zkc__tls_t **out, const zkc__tls_config_t *cfg, const zkc__log_t *log)
{
	zkc__tls_t *t = calloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (!t)
		return zkc__error(ZKC_ENOMEM, "out of memory");
	pthread_mutex_init(&t->mu, NULL);
	t->log = log;
	t->cfg.verify_host = cfg->verify_host;
	t->cfg.ca = zkc__strdup(cfg->ca);
	t->cfg.cert = zkc__strdup(cfg->cert);
	t->cfg.key = zkc__strdup(cfg->key);
	t->cfg.key_password = zkc__strdup(cfg->key_password);
	t->cfg.server_name = zkc__strdup(cfg->server_name);
	t->wake[0] = t->wake[1] = -1;
	if ((cfg->cert && !t->cfg.cert) || (cfg->key && !t->cfg.key) || (cfg->ca && !t->cfg.ca)) {
		zkc__tls_free(t);
		return zkc__error(ZKC_ENOMEM, "out of memory");
	}
	rc = check_config(t);
	if (rc != ZKC_OK) {
		zkc__tls_free(t);
		return rc;
	}
	if (pipe2(t->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		zkc__tls_free(t);
		return zkc__error(ZKC_EOS, "tls: pipe: %s", strerror(errno));
	}
	if (pthread_create(&t->acceptor, NULL, acceptor_main, t) != 0) {
		close(t->wake[0]);
		close(t->wake[1]);
		t->wake[0] = t->wake[1] = -1;
		zkc__tls_free(t);
		return zkc__error(ZKC_EOS, "tls: cannot start the bridge thread");
	}
	*out = t;
	return ZKC_OK;
}

/* The endpoint of host:port, made on first use. Caller holds mu. */
static int endpoint_for(zkc__tls_t *t, const char *host, int port)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	endpoint_t *e;
	int i, fd;

	for (i = 0; i < t->neps; i++)
		if (t->eps[i].port == port && strcmp(t->eps[i].host, host) == 0)
			return t->eps[i].lport;
	if (t->neps == MAX_ENDPOINTS)
		return zkc__error(ZKC_ENOMEM, "tls: more than %d servers", MAX_ENDPOINTS);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return zkc__error(ZKC_EOS, "tls: socket: %s", strerror(errno));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
		int e2 = errno;

		close(fd);
		return zkc__error(ZKC_EOS, "tls: loopback endpoint: %s", strerror(e2));
	}
	e = &t->eps[t->neps];
	e->host = strdup(host);
	if (!e->host) {
		close(fd);
		return zkc__error(ZKC_ENOMEM, "out of memory");
	}
	e->port = port;
	e->lfd = fd;
	e->lport = ntohs(a.sin_port);
	t->neps++;
	if (write(t->wake[1], "x", 1) < 0 && errno != EAGAIN)
		zkc__log(t->log, ZKC_LOG_WARN, "tls: wake: %s", strerror(errno));
	return e->lport;
}

int zkc__tls_map(zkc__tls_t *t, const char *servers, char **out)
{
	char *copy = strdup(servers), *tok, *save = NULL;
	size_t cap = strlen(servers) * 2 + 64, len = 0;
	char *res = malloc(cap);
	int rc = ZKC_OK;

	*out = NULL;
	if (!copy || !res) {
		free(copy);
		free(res);
		return zkc__error(ZKC_ENOMEM, "out of memory");
	}
	res[0] = '\0';
	pthread_mutex_lock(&t->mu);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strrchr(tok, ':');
		int port, lport;

		if (!colon || (port = atoi(colon + 1)) <= 0 || port > 65535) {
			rc = zkc__error(ZKC_EBADARGUMENTS, "tls: bad server \"%s\"", tok);
			break;
		}
		*colon = '\0';
		lport = endpoint_for(t, tok, port);
		if (lport < 0) {
			rc = lport;
			break;
		}
		if (len + 32 >= cap) {
			char *n = realloc(res, cap * 2);

			if (!n) {
				rc = zkc__error(ZKC_ENOMEM, "out of memory");
				break;
			}
			res = n;
			cap *= 2;
		}
		len += (size_t)snprintf(res + len, cap - len, "%s127.0.0.1:%d", len ? "," : "", lport);
	}
	pthread_mutex_unlock(&t->mu);
	free(copy);
	if (rc != ZKC_OK) {
		free(res);
		return rc;
	}
	*out = res;
	return ZKC_OK;
}

int zkc__tls_unmap(zkc__tls_t *t, const char *local, char **out)
{
	const char *colon = strrchr(local, ':');
	int lport = colon ? atoi(colon + 1) : 0, i;

	*out = NULL;
	pthread_mutex_lock(&t->mu);
	for (i = 0; i < t->neps; i++)
		if (t->eps[i].lport == lport)
			*out = zkc__sprintf("%s:%d", t->eps[i].host, t->eps[i].port);
	pthread_mutex_unlock(&t->mu);
	if (!*out)
		*out = strdup(local);
	return *out ? ZKC_OK : zkc__error(ZKC_ENOMEM, "out of memory");
}

void zkc__tls_free(zkc__tls_t *t)
{
	int i;

	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = 1;
	pthread_mutex_unlock(&t->mu);
	if (t->wake[1] >= 0) {
		if (write(t->wake[1], "x", 1) < 0 && errno != EAGAIN)
			zkc__log(t->log, ZKC_LOG_WARN, "tls: wake: %s", strerror(errno));
		pthread_join(t->acceptor, NULL);
	}
	pthread_mutex_lock(&t->mu);
	reap(t, 1);
	pthread_mutex_unlock(&t->mu);
	for (i = 0; i < t->neps; i++) {
		close(t->eps[i].lfd);
		free(t->eps[i].host);
	}
	if (t->wake[0] >= 0)
		close(t->wake[0]);
	if (t->wake[1] >= 0)
		close(t->wake[1]);
	free(t->cfg.ca);
	free(t->cfg.cert);
	free(t->cfg.key);
	if (t->cfg.key_password) {
		memset(t->cfg.key_password, 0, strlen(t->cfg.key_password));
		free(t->cfg.key_password);
	}
	free(t->cfg.server_name);
	pthread_mutex_destroy(&t->mu);
	free(t);
}
