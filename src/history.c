/* src/history.c - asks a server whether its history is behind a zxid the
 * client saw: the session handshake a ZooKeeper server refuses when the
 * client has seen a zxid it does not have (a wiped or restored ensemble).
 * Used by the supervisor when a new session replaces a lost one. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

static void put32(unsigned char *p, int32_t v)
{
	uint32_t u = (uint32_t)v;

	p[0] = (unsigned char)(u >> 24);
	p[1] = (unsigned char)(u >> 16);
	p[2] = (unsigned char)(u >> 8);
	p[3] = (unsigned char)u;
}

static void put64(unsigned char *p, int64_t v)
{
	put32(p, (int32_t)((uint64_t)v >> 32));
	put32(p + 4, (int32_t)(uint64_t)v);
}

static int64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

/* Splits "host:port" or "[v6]:port" into a connected socket; -1 on error. */
static int dial(const char *hostport, int64_t deadline_ms)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	struct addrinfo hints, *ai = NULL;
	size_t hl;
	int fd = -1, flags;

	if (!colon || colon == hostport)
		return -1;
	hl = (size_t)(colon - hostport);
	if (hostport[0] == '[' && hl >= 2 && hostport[hl - 1] == ']') {
		hostport++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, hostport, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		flags = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
			close(fd);
			fd = -1;
		} else {
			struct pollfd p = { fd, POLLOUT, 0 };
			int64_t left = deadline_ms - zkc__now_ms();
			int err = 0;
			socklen_t el = sizeof(err);

			if (left <= 0 || poll(&p, 1, (int)left) != 1 ||
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
				close(fd);
				fd = -1;
			}
		}
	}
	freeaddrinfo(ai);
	return fd;
}

static int send_all(int fd, const unsigned char *b, size_t n, int64_t deadline_ms)
{
	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w > 0) {
			b += w;
			n -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd p = { fd, POLLOUT, 0 };
			int64_t left = deadline_ms - zkc__now_ms();

			if (left <= 0 || poll(&p, 1, (int)left) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

/* Reads exactly n bytes: 0, 1 when the peer closed first, -1 on error or
 * deadline. */
static int recv_all(int fd, unsigned char *b, size_t n, int64_t deadline_ms)
{
	while (n > 0) {
		ssize_t r = recv(fd, b, n, 0);

		if (r > 0) {
			b += r;
			n -= (size_t)r;
		} else if (r == 0 || (r < 0 && (errno == ECONNRESET || errno == EPIPE))) {
			return 1;
		} else if (errno == EAGAIN || errno == EINTR) {
			struct pollfd p = { fd, POLLIN, 0 };
			int64_t left = deadline_ms - zkc__now_ms();

			if (left <= 0 || poll(&p, 1, (int)left) <= 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

/* One handshake claiming last_zxid. Returns 0 accepted (the session it
 * made is closed again), 1 refused (closed without an answer), -1 unknown. */
static int handshake(const char *hostport, int64_t last_zxid, int timeout_ms)
{
	int64_t deadline = zkc__now_ms() + timeout_ms;
	/* length, protocolVersion, lastZxidSeen, timeOut, sessionId,
	 * passwd (length 16 + bytes), readOnly */
	unsigned char req[4 + 4 + 8 + 4 + 8 + 4 + 16 + 1];
	unsigned char hdr[4], resp[64];
	int fd, rc;
	uint32_t len;

	fd = dial(hostport, deadline);
	if (fd < 0)
		return -1;
	memset(req, 0, sizeof(req));
	put32(req, (int32_t)(sizeof(req) - 4));
	put64(req + 8, last_zxid);
	put32(req + 16, 2000);        /* the server clamps it to its minimum */
	put32(req + 28, 16);
	rc = send_all(fd, req, sizeof(req), deadline);
	if (rc == 0)
		rc = recv_all(fd, hdr, sizeof(hdr), deadline);
	if (rc == 0) {
		len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
		/* protocolVersion, timeOut, sessionId, passwd: 36 bytes at least */
		if (len < 20 || len > sizeof(resp))
			rc = -1;
		else
			rc = recv_all(fd, resp, len, deadline) == 0 ? 0 : -1;
		if (rc == 0 && get64(resp + 8) == 0)
			rc = -1;  /* no session id: not an answer we know */
		if (rc == 0) {
			/* closeSession (xid 1, type -11), so the probe's session
			 * does not linger until it expires; its answer ends it. */
			unsigned char cl[12];

			put32(cl, 8);
			put32(cl + 4, 1);
			put32(cl + 8, -11);
			if (send_all(fd, cl, sizeof(cl), deadline) == 0)
				(void)recv_all(fd, hdr, sizeof(hdr), deadline);
		}
	}
	close(fd);
	return rc;
}

int zkc__history_probe(const char *hostport, int64_t zxid, int timeout_ms)
{
	int rc;

	if (!hostport || zxid <= 0)
		return -1;
	rc = handshake(hostport, zxid, timeout_ms);
	if (rc != 1)
		return rc;
	/* Refused. A server also closes connections it cannot serve (no
	 * quorum): only when the same handshake without the zxid is accepted
	 * was the zxid the reason. */
	return handshake(hostport, 0, timeout_ms) == 0 ? 1 : -1;
}
