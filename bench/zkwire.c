/* bench/zkwire.c - see zkwire.h. Jute: big-endian integers, a buffer or
 * string is an int32 length then the bytes, a bool is one byte; every
 * packet is preceded by its int32 length. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "zkwire.h"

#define OP_GETDATA 4
#define OP_CLOSE (-11)
#define RBUF 65536

struct zkw {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	int32_t xid;
	int session;                  /* a session was opened */
	char cipher[128];
	size_t rpos, rlen;
	unsigned char rbuf[RBUF];
	unsigned char wbuf[RBUF];
};

static unsigned char *put32(unsigned char *p, int32_t v)
{
	uint32_t n = htonl((uint32_t)v);

	memcpy(p, &n, 4);
	return p + 4;
}

static unsigned char *put64(unsigned char *p, int64_t v)
{
	p = put32(p, (int32_t)((uint64_t)v >> 32));
	return put32(p, (int32_t)(uint32_t)v);
}

static int32_t get32(const unsigned char *p)
{
	uint32_t n;

	memcpy(&n, p, 4);
	return (int32_t)ntohl(n);
}

static int wr(zkw_t *w, const unsigned char *b, size_t n)
{
	while (n > 0) {
		ssize_t k = w->ssl ? SSL_write(w->ssl, b, (int)n) : send(w->fd, b, n, MSG_NOSIGNAL);

		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The next packet (without its length prefix) into *pkt, valid until the
 * next call; returns its length or -1. */
static int next_packet(zkw_t *w, const unsigned char **pkt)
{
	for (;;) {
		size_t have = w->rlen - w->rpos;

		if (have >= 4) {
			int32_t len = get32(w->rbuf + w->rpos);

			if (len < 0 || len > RBUF - 4)
				return -1;
			if (have >= 4 + (size_t)len) {
				*pkt = w->rbuf + w->rpos + 4;
				w->rpos += 4 + (size_t)len;
				return len;
			}
		}
		if (w->rpos > 0) {
			memmove(w->rbuf, w->rbuf + w->rpos, have);
			w->rlen = have;
			w->rpos = 0;
		}
		{
			ssize_t k = w->ssl ? SSL_read(w->ssl, w->rbuf + w->rlen, (int)(RBUF - w->rlen))
			                   : recv(w->fd, w->rbuf + w->rlen, RBUF - w->rlen, 0);

			if (k <= 0)
				return -1;
			w->rlen += (size_t)k;
		}
	}
}

int zkw_open(zkw_t **out, const char *host, int port, const char *ca, char *err, size_t errn)
{
	struct sockaddr_in a;
	zkw_t *w = calloc(1, sizeof(*w));
	unsigned char *p;
	const unsigned char *pkt;
	int one = 1;

	*out = NULL;
	if (!w) {
		snprintf(err, errn, "out of memory");
		return -1;
	}
	w->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	if (w->fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
	    connect(w->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		snprintf(err, errn, "connect %s:%d failed", host, port);
		goto fail;
	}
	setsockopt(w->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	snprintf(w->cipher, sizeof(w->cipher), "plain");
	if (ca) {
		w->ctx = SSL_CTX_new(TLS_client_method());
		if (!w->ctx)
			goto sslfail;
		SSL_CTX_set_min_proto_version(w->ctx, TLS1_2_VERSION);
		SSL_CTX_set_verify(w->ctx, SSL_VERIFY_PEER, NULL);
		if (SSL_CTX_load_verify_locations(w->ctx, ca, NULL) != 1)
			goto sslfail;
		w->ssl = SSL_new(w->ctx);
		if (!w->ssl || SSL_set_fd(w->ssl, w->fd) != 1 || SSL_connect(w->ssl) != 1)
			goto sslfail;
		snprintf(w->cipher, sizeof(w->cipher), "%s %s", SSL_get_version(w->ssl),
		         SSL_get_cipher_name(w->ssl));
	}
	/* ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId,
	 * passwd (16 zero bytes), readOnly */
	p = put32(w->wbuf, 45);
	p = put32(p, 0);
	p = put64(p, 0);
	p = put32(p, 10000);
	p = put64(p, 0);
	p = put32(p, 16);
	memset(p, 0, 16);
	p += 16;
	*p++ = 0;
	if (wr(w, w->wbuf, (size_t)(p - w->wbuf)) != 0 || next_packet(w, &pkt) < 20) {
		snprintf(err, errn, "session handshake with %s:%d failed", host, port);
		goto fail;
	}
	w->session = 1;
	*out = w;
	return 0;
sslfail:
	ERR_error_string_n(ERR_get_error(), err, errn);
fail:
	zkw_close(w);
	return -1;
}

const char *zkw_cipher(zkw_t *w)
{
	return w->cipher;
}

int zkw_get(zkw_t *w, const char *path, int n)
{
	size_t plen = strlen(path), one = 4 + 4 + 4 + 4 + plen + 1;
	unsigned char *p = w->wbuf;
	int i, bad = 0;

	if ((size_t)n * one > sizeof(w->wbuf))
		return -1;
	for (i = 0; i < n; i++) {
		p = put32(p, (int32_t)(one - 4));
		p = put32(p, ++w->xid);
		p = put32(p, OP_GETDATA);
		p = put32(p, (int32_t)plen);
		memcpy(p, path, plen);
		p += plen;
		*p++ = 0;                      /* no watch */
	}
	if (wr(w, w->wbuf, (size_t)(p - w->wbuf)) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		const unsigned char *pkt;

		/* ReplyHeader: xid, zxid, err */
		if (next_packet(w, &pkt) < 16)
			return -1;
		if (get32(pkt + 12) != 0)
			bad = 1;
	}
	return bad ? -1 : 0;
}

void zkw_close(zkw_t *w)
{
	if (!w)
		return;
	if (w->fd >= 0) {
		unsigned char *p = put32(w->wbuf, 8);
		const unsigned char *pkt;

		p = put32(p, ++w->xid);
		p = put32(p, OP_CLOSE);
		if (w->session && wr(w, w->wbuf, (size_t)(p - w->wbuf)) == 0)
			(void)next_packet(w, &pkt);
		if (w->ssl)
			SSL_shutdown(w->ssl);
		close(w->fd);
	}
	SSL_free(w->ssl);
	SSL_CTX_free(w->ctx);
	free(w);
}
